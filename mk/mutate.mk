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
#                        (three builds), the ring, core and packed-ring
#                        tests built with gcc, and the fuzz targets (split,
#                        mmio, packed) over their seeds plus a fixed-seed
#                        run, stopping at the first failure

# The subset's rules name ring.mk's variables, and fragments are read in
# name order: read ring.mk (include-guarded) first.
-include mk/ring.mk

MUTATE_ARGS ?=
MUTATE_FUZZ_RUNS ?= 4000

.PHONY: mutate test-mutants mutate-subset
mutate:
	$(PYTHON) tools/mutate.py $(MUTATE_ARGS)

test-mutants:
	$(PYTHON) tools/mutate.py --check

# The subset's own build: a mutant changes only implementation code (the
# parts of virtq.h under VIRTQ_IMPLEMENTATION; tools/mutate.py refuses
# mutants elsewhere), so only the translation units that define
# VIRTQ_IMPLEMENTATION are rebuilt per mutant; every other object is built
# once, from its sources alone.  Same flags as the normal test builds.
MS_BUILD := $(BUILD)/mutate-subset
MS_RING_OBJS := $(patsubst $(RING_DIR)/%.c,$(MS_BUILD)/ring/%.o,$(filter-out $(RING_DIR)/t_main.c,$(RING_SRCS)))
MS_CORE_OBJS := $(patsubst tests/core/%.c,$(MS_BUILD)/core/%.o,$(filter-out tests/core/core_impl.c,$(CORE_SRCS)))
MS_FAKE_OBJS := $(patsubst shims/fake/%.c,$(MS_BUILD)/fake/%.o,$(FAKE_SRCS))
MS_TRACE_OBJS := $(MS_BUILD)/trace/tr_rt.o $(MS_BUILD)/trace/tr_tests.o $(MS_BUILD)/trace/rt_common.o

$(MS_BUILD)/ring/%.o: $(RING_DIR)/%.c
	@mkdir -p $(@D)
	$(RING_GCC) $(RING_CFLAGS) -O1 -c $< -o $@
$(MS_BUILD)/ring/t_main.o: $(RING_DIR)/t_main.c virtq.h
	@mkdir -p $(@D)
	$(RING_GCC) $(RING_CFLAGS) -O1 -c $< -o $@
$(MS_BUILD)/ring/test_ring: $(MS_BUILD)/ring/t_main.o $(MS_RING_OBJS)
	$(RING_GCC) $(RING_CFLAGS) -O1 $^ $(RING_LIBS) -o $@

$(MS_BUILD)/fake/%.o: shims/fake/%.c
	@mkdir -p $(@D)
	$(FAKE_CC) $(FAKE_CFLAGS) $(FAKE_INC) -c $< -o $@
$(MS_BUILD)/core/%.o: tests/core/%.c
	@mkdir -p $(@D)
	$(FAKE_CC) $(FAKE_CFLAGS) $(FAKE_INC) -Itests/core -c $< -o $@
$(MS_BUILD)/core/core_impl.o: tests/core/core_impl.c virtq.h
	@mkdir -p $(@D)
	$(FAKE_CC) $(FAKE_CFLAGS) $(FAKE_INC) -Itests/core -c $< -o $@
$(MS_BUILD)/core/test_core: $(MS_BUILD)/core/core_impl.o $(MS_CORE_OBJS) $(MS_FAKE_OBJS)
	$(FAKE_CC) $(FAKE_CFLAGS) $^ -lcmocka -o $@

$(MS_BUILD)/trace/%.o: $(TRACE_DIR)/%.c
	@mkdir -p $(@D)
	$(RING_CLANG) $(TRACE_CFLAGS) $(TRACE_SAN) -c $< -o $@
$(MS_BUILD)/trace/rt_common.o: $(RING_DIR)/rt_common.c
	@mkdir -p $(@D)
	$(RING_CLANG) $(TRACE_CFLAGS) $(TRACE_SAN) -c $< -o $@
$(MS_BUILD)/trace/impl_%.o: $(TRACE_DIR)/tr_impl.c virtq.h
	@mkdir -p $(@D)
	$(RING_CLANG) $(TRACE_CFLAGS) $(TRACE_INSTR) -DTR_CONFIG=$(TRACE_CFG_$*) -c $< -o $@
$(MS_BUILD)/trace/tr_%: $(MS_BUILD)/trace/impl_%.o $(MS_TRACE_OBJS)
	$(RING_CLANG) $(TRACE_CFLAGS) $(TRACE_SAN) $^ $(RING_LIBS) -o $@

.SECONDARY:
mutate-subset:
	@set -e; \
	$(MAKE) --no-print-directory -j2 $(foreach c,$(TRACE_CONFIGS),$(MS_BUILD)/trace/tr_$(c)); \
	for c in $(TRACE_CONFIGS); do $(RING_ENV) $(MS_BUILD)/trace/tr_$$c; done; \
	$(MAKE) --no-print-directory -j2 $(MS_BUILD)/ring/test_ring $(MS_BUILD)/core/test_core; \
	$(RING_ENV) $(MS_BUILD)/ring/test_ring; \
	$(CORE_ENV) timeout 120 $(MS_BUILD)/core/test_core; \
	$(MAKE) --no-print-directory $(PK_BUILD)/test_ring_packed_gcc; \
	$(PK_ENV) timeout 120 $(PK_BUILD)/test_ring_packed_gcc; \
	$(MAKE) --no-print-directory -j2 $(FUZZ_BUILD)/fuzz_ring $(FUZZ_BUILD)/fuzz_mmio \
	  $(FUZZ_BUILD)/fuzz_ring_packed; \
	for t in fuzz_ring fuzz_mmio fuzz_ring_packed; do \
	  $(FUZZ_BUILD)/$$t -runs=0 tests/fuzz/corpus/$$t; \
	  rm -rf $(FUZZ_BUILD)/mutate-corpus/$$t; mkdir -p $(FUZZ_BUILD)/mutate-corpus/$$t; \
	  $(FUZZ_BUILD)/$$t -seed=1 -runs=$(MUTATE_FUZZ_RUNS) \
	    $(FUZZ_BUILD)/mutate-corpus/$$t tests/fuzz/corpus/$$t; done

TEST_TARGETS += test-mutants
