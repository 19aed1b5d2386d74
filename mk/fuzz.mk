# SPDX-License-Identifier: MIT
# Hostile devices and hostile callers: libFuzzer targets (tests/fuzz) and
# the two-thread stress test (tests/stress).  docs/FUZZING.md has the
# details and the figures of a long run.
#
#   make test-fuzz      (TEST_TARGETS) seeds in sync with gen_corpus.py, then
#                       each fuzz target for FUZZ_TEST_SECONDS (60) s
#   make test-stress    (TEST_TARGETS) STRESS_N (200k) requests per
#                       configuration, built with TSan and with ASan+UBSan
#   make fuzz-long      (FUZZ_TARGETS) each fuzz target FUZZ_SECONDS (600) s
#   make stress-long    (FUZZ_TARGETS) STRESS_LONG_N (2.5M) per configuration:
#                       10 million requests per build
#   make fuzz-cov       (FUZZ_TARGETS) llvm-cov line/branch coverage of
#                       virtq.h by the working corpus: build/fuzz/cov/
#   make fuzz-corpus    rewrite the seed inputs from tests/fuzz/gen_corpus.py
#
# Crash inputs stay in build/fuzz/crashes/<target>/ and fail every run
# until they pass (then they move to .../fixed/); see tests/fuzz/run_fuzz.sh.

DEPS_PKGS += clang-14 libclang-rt-14-dev llvm-14

FUZZ_CC ?= clang-14
FUZZ_LLVM_COV ?= llvm-cov-14
FUZZ_LLVM_PROFDATA ?= llvm-profdata-14
FUZZ_BUILD := $(BUILD)/fuzz
FUZZ_NAMES := fuzz_ring fuzz_ring_packed fuzz_mmio
FUZZ_BINS := $(addprefix $(FUZZ_BUILD)/,$(FUZZ_NAMES))
FUZZ_TEST_SECONDS ?= 60
FUZZ_SECONDS ?= 600
FUZZ_IGNORE := tests/fuzz/coverage-ignore.txt
FUZZ_CFLAGS := -std=c99 -g -O1 -Wall -Wextra -Werror -I. \
               -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
               -fsanitize-coverage-ignorelist=$(FUZZ_IGNORE)
FUZZ_RUN := tests/fuzz/run_fuzz.sh

STRESS_BUILD := $(BUILD)/stress
STRESS_N ?= 200000
STRESS_LONG_N ?= 2500000
STRESS_SEED ?= 1
STRESS_CFLAGS := -std=c99 -g -O1 -Wall -Wextra -Werror -I.
STRESS_TSAN_ENV := TSAN_OPTIONS=halt_on_error=1:abort_on_error=1
STRESS_ASAN_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
                   UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

.PHONY: test-fuzz test-stress fuzz-long stress-long fuzz-cov fuzz-corpus
TEST_TARGETS += test-fuzz test-stress
FUZZ_TARGETS += fuzz-long stress-long fuzz-cov

$(FUZZ_BINS): $(FUZZ_BUILD)/%: tests/fuzz/%.c virtq.h $(FUZZ_IGNORE) mk/fuzz.mk
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $< -o $@

test-fuzz: $(FUZZ_BINS)
	$(PYTHON) tests/fuzz/gen_corpus.py --check
	@set -e; for t in $(FUZZ_NAMES); do \
	  $(FUZZ_RUN) $(FUZZ_BUILD)/$$t $$t $(FUZZ_TEST_SECONDS) $(FUZZ_BUILD); done

fuzz-long: $(FUZZ_BINS)
	@set -e; for t in $(FUZZ_NAMES); do \
	  $(FUZZ_RUN) $(FUZZ_BUILD)/$$t $$t $(FUZZ_SECONDS) $(FUZZ_BUILD); done

fuzz-corpus:
	$(PYTHON) tests/fuzz/gen_corpus.py

# Coverage of virtq.h by everything the fuzzers kept (working corpus and
# seeds), from a separate source-based-coverage build run with -runs=0.
FUZZ_COV := $(FUZZ_BUILD)/cov
$(FUZZ_COV)/%: tests/fuzz/%.c virtq.h mk/fuzz.mk
	@mkdir -p $(@D)
	$(FUZZ_CC) -std=c99 -g -O1 -I. -fsanitize=fuzzer -fprofile-instr-generate \
	  -fcoverage-mapping $< -o $@

fuzz-cov: $(addprefix $(FUZZ_COV)/,$(FUZZ_NAMES))
	@set -e; rm -f $(FUZZ_COV)/*.profraw; for t in $(FUZZ_NAMES); do \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$t; \
	  LLVM_PROFILE_FILE=$(FUZZ_COV)/$$t.profraw $(FUZZ_COV)/$$t -runs=0 \
	    $(FUZZ_BUILD)/corpus/$$t tests/fuzz/corpus/$$t > $(FUZZ_COV)/$$t.runlog 2>&1; \
	  $(FUZZ_LLVM_PROFDATA) merge -sparse $(FUZZ_COV)/$$t.profraw -o $(FUZZ_COV)/$$t.profdata; \
	  echo "=== $$t: coverage of virtq.h"; \
	  $(FUZZ_LLVM_COV) report $(FUZZ_COV)/$$t -instr-profile=$(FUZZ_COV)/$$t.profdata \
	    $(CURDIR)/virtq.h | tee $(FUZZ_COV)/$$t.txt; \
	  $(FUZZ_LLVM_COV) report --show-functions $(FUZZ_COV)/$$t \
	    -instr-profile=$(FUZZ_COV)/$$t.profdata $(CURDIR)/virtq.h > $(FUZZ_COV)/$$t.functions.txt; \
	done; echo "fuzz-cov: per-function figures in $(FUZZ_COV)/*.functions.txt"

# The stress test runs on the POSIX shim (shims/posix: clock, OS wait/wake).
STRESS_SRCS := tests/stress/stress.c shims/posix/virtq_posix.c
STRESS_DEPS := $(STRESS_SRCS) shims/posix/virtq_posix.h virtq.h mk/fuzz.mk

$(STRESS_BUILD)/stress-tsan: $(STRESS_DEPS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(STRESS_CFLAGS) -fsanitize=thread $(STRESS_SRCS) -o $@ -lpthread

$(STRESS_BUILD)/stress-asan: $(STRESS_DEPS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(STRESS_CFLAGS) -fsanitize=address,undefined -fno-sanitize-recover=all \
	  $(STRESS_SRCS) -o $@ -lpthread

# The run has no time limit of its own; the outer timeout only catches a
# hang (both sides also give up on a lost wake-up after 20 s).
stress_run = $(3) timeout --kill-after=30 $(2) ./$(STRESS_BUILD)/stress-$(1) -n $(4) \
  -s $(STRESS_SEED)

test-stress: $(STRESS_BUILD)/stress-tsan $(STRESS_BUILD)/stress-asan
	@echo "--- stress, ThreadSanitizer"
	$(call stress_run,tsan,600,$(STRESS_TSAN_ENV),$(STRESS_N))
	@echo "--- stress, AddressSanitizer + UndefinedBehaviorSanitizer"
	$(call stress_run,asan,600,$(STRESS_ASAN_ENV),$(STRESS_N))

stress-long: $(STRESS_BUILD)/stress-tsan $(STRESS_BUILD)/stress-asan
	@echo "--- stress-long, ThreadSanitizer"
	$(call stress_run,tsan,7200,$(STRESS_TSAN_ENV),$(STRESS_LONG_N))
	@echo "--- stress-long, AddressSanitizer + UndefinedBehaviorSanitizer"
	$(call stress_run,asan,7200,$(STRESS_ASAN_ENV),$(STRESS_LONG_N))
