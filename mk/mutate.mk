# SPDX-License-Identifier: MIT
# Mutation testing (tools/mutate.py, tests/mutants/*.txt).
#
#   make mutate          every mutant against the fast subset below; prints
#                        the kill ratio and each survivor (about 20-40 s per
#                        mutant on a loaded 2-core machine: run before a
#                        release, not in make test)
#   make mutate MUTATE_ARGS='--only M-WAIT'   a few, by id prefix
#   make test-mutants    (in make test) every mutant still matches src/: a
#                        mutant whose text drifted away is an error
#   make mutate-subset   the subset a mutant must fail: the ring trace
#                        (three builds), the ring and core tests built with
#                        gcc, and the fuzz targets over their seeds plus a
#                        fixed-seed run, stopping at the first failure

MUTATE_ARGS ?=
MUTATE_FUZZ_RUNS ?= 4000

.PHONY: mutate test-mutants mutate-subset
mutate:
	$(PYTHON) tools/mutate.py $(MUTATE_ARGS)

test-mutants:
	$(PYTHON) tools/mutate.py --check

mutate-subset:
	@set -e; \
	$(MAKE) --no-print-directory test-ring-trace; \
	$(MAKE) --no-print-directory $(RING_BUILD)/test_ring_gcc; \
	$(RING_ENV) ./$(RING_BUILD)/test_ring_gcc; \
	$(MAKE) --no-print-directory $(CORE_BUILD)/test_core_gcc; \
	$(CORE_ENV) timeout 120 ./$(CORE_BUILD)/test_core_gcc; \
	$(MAKE) --no-print-directory $(FUZZ_BUILD)/fuzz_ring $(FUZZ_BUILD)/fuzz_mmio; \
	for t in fuzz_ring fuzz_mmio; do \
	  ./$(FUZZ_BUILD)/$$t -runs=0 tests/fuzz/corpus/$$t; \
	  mkdir -p $(FUZZ_BUILD)/mutate-corpus/$$t; \
	  ./$(FUZZ_BUILD)/$$t -seed=1 -runs=$(MUTATE_FUZZ_RUNS) \
	    $(FUZZ_BUILD)/mutate-corpus/$$t tests/fuzz/corpus/$$t; \
	  rm -rf $(FUZZ_BUILD)/mutate-corpus/$$t; done

TEST_TARGETS += test-mutants
