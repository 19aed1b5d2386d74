# virtq — top-level build.  `make test` runs every test, `make demo` runs the
# examples in QEMU, `make bench` measures.  Each area lives in mk/<area>.mk and
# registers its targets by appending to the lists below, so areas never edit
# each other's rules.
#
#   DEPS_PKGS      Debian packages the area needs (installed by tools/deps.sh)
#   TEST_TARGETS   phony targets that `make test` runs, in order
#   DEMO_TARGETS   phony targets that `make demo` runs
#   BENCH_TARGETS  phony targets that `make bench` runs
#   FUZZ_TARGETS   phony targets that `make fuzz` runs (long fuzzing)

.DEFAULT_GOAL := help
SHELL := /bin/bash
BUILD ?= build
PYTHON ?= python3
CC ?= cc
export LC_ALL := C

DEPS_PKGS := python3 make gcc
TEST_TARGETS :=
DEMO_TARGETS :=
BENCH_TARGETS :=
FUZZ_TARGETS :=

include $(sort $(wildcard mk/*.mk))

.PHONY: help deps test demo bench fuzz clean amalgamate check-amalgamation
help:
	@echo "make test   - install what is missing, then run every test"
	@echo "make demo   - build the examples and run them in QEMU"
	@echo "make bench  - run the benchmarks, write bench/results/"
	@echo "make fuzz   - run the fuzz targets for longer"

# Install (or name) the Debian packages every area asked for.
deps:
	@tools/deps.sh $(sort $(DEPS_PKGS))

amalgamate:
	$(PYTHON) amalgamate.py

check-amalgamation:
	$(PYTHON) amalgamate.py --check

# Each list entry runs as its own make so one area's failure names itself.
test: deps check-amalgamation
	@set -e; for t in $(TEST_TARGETS); do \
	  echo "=== $$t ==="; $(MAKE) --no-print-directory $$t; done
	@echo "=== make test: all $(words $(TEST_TARGETS)) test groups passed ==="

demo: deps
	@set -e; for t in $(DEMO_TARGETS); do $(MAKE) --no-print-directory $$t; done

bench: deps
	@set -e; for t in $(BENCH_TARGETS); do $(MAKE) --no-print-directory $$t; done

fuzz: deps
	@set -e; for t in $(FUZZ_TARGETS); do $(MAKE) --no-print-directory $$t; done

clean:
	rm -rf $(BUILD)
