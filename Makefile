# SPDX-License-Identifier: MIT
# virtq — top-level build.  `make test` runs every test, `make demo` runs the
# examples in QEMU, `make bench` measures.  Each area lives in mk/<area>.mk and
# registers its targets by appending to the lists below, so areas never edit
# each other's rules.
#
#   DEPS_PKGS      Debian packages the area needs (installed by tools/deps.sh)
#   TEST_TARGETS   phony targets that `make test` runs, in order
#   DEMO_TARGETS   phony targets that `make demo` runs (board-independent)
#   ARCHS          architectures with a board (riscv64, aarch64, ...)
#   DEMO_TARGETS_<arch>  demo targets of that architecture's boards; they
#                  read $(TRANSPORT) and $(RING) to build their QEMU line
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
ARCHS :=
BENCH_TARGETS :=
FUZZ_TARGETS :=

include $(sort $(wildcard mk/*.mk))

# make demo ARCH=riscv64|aarch64 TRANSPORT=mmio|pci RING=split|packed
# (defaults: every architecture, mmio, split).  The guest reports what it
# negotiated in its RESULT tags and the harness fails a run whose tags
# differ from what was asked for, so an unsupported cell fails loudly.
ARCH ?= $(ARCHS)
TRANSPORT ?= mmio
RING ?= split
export TRANSPORT RING
$(foreach a,$(ARCH),$(if $(filter $(a),$(ARCHS)),,$(error ARCH=$(a): not one of $(ARCHS))))
$(if $(filter-out mmio pci,$(TRANSPORT)),$(error TRANSPORT=$(TRANSPORT): mmio or pci))
$(if $(filter-out split packed,$(RING)),$(error RING=$(RING): split or packed))

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

# Each list entry runs as its own make so one area's failure names itself;
# each prints the seconds it took, and the end prints every group's time.
test: deps check-amalgamation
	@set -e; times=""; start=$$SECONDS; \
	for t in $(TEST_TARGETS); do \
	  echo "=== $$t ==="; t0=$$SECONDS; \
	  $(MAKE) --no-print-directory $$t || { echo "=== $$t FAILED after $$((SECONDS - t0)) s ==="; exit 1; }; \
	  echo "=== $$t: $$((SECONDS - t0)) s ==="; times="$$times$$t $$((SECONDS - t0))\n"; \
	done; \
	echo "=== make test: seconds per group ==="; printf "$$times" | sort -k2 -n -r | \
	  awk '{printf "  %6d s  %s\n", $$2, $$1}'; \
	echo "=== make test: all $(words $(TEST_TARGETS)) test groups passed in $$((SECONDS - start)) s ==="

DEMO_RUN := $(DEMO_TARGETS) $(foreach a,$(ARCH),$(DEMO_TARGETS_$(a)))
demo: deps
	@echo "=== make demo ARCH='$(ARCH)' TRANSPORT=$(TRANSPORT) RING=$(RING): $(DEMO_RUN) ==="
	@set -e; for t in $(DEMO_RUN); do \
	  echo "=== $$t ==="; $(MAKE) --no-print-directory $$t; done

# bench-report last, whichever fragment added a step after it.
BENCH_RUN = $(filter-out bench-report,$(BENCH_TARGETS)) $(filter bench-report,$(BENCH_TARGETS))
bench: deps
	@set -e; for t in $(BENCH_RUN); do $(MAKE) --no-print-directory $$t; done

fuzz: deps
	@set -e; for t in $(FUZZ_TARGETS); do $(MAKE) --no-print-directory $$t; done

clean:
	rm -rf $(BUILD)
