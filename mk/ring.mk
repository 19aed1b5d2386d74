# SPDX-License-Identifier: MIT
# Split-ring unit tests (tests/ring): cmocka, ASan + UBSan, built with both
# gcc (-O1) and clang (-Os: the shape a size-optimised firmware build
# compiles, see VIRTQ__ADD1_FAST) against the committed virtq.h.  The test plays the device
# directly on the ring memory (no MMIO).
#
#   make test-ring                 build both binaries and run them
#   RING_FILTER='*wrap*' make test-ring   run only matching cmocka tests

ifndef RING_MK_INCLUDED
RING_MK_INCLUDED := 1

DEPS_PKGS += libcmocka-dev gcc clang

RING_DIR := tests/ring
RING_BUILD := $(BUILD)/ring
RING_SRCS := $(sort $(wildcard $(RING_DIR)/*.c))
RING_HDRS := $(wildcard $(RING_DIR)/*.h)
RING_GCC ?= gcc
RING_CLANG ?= clang
RING_CFLAGS := -std=c99 -Wall -Wextra -Werror -g \
               -fsanitize=address,undefined -fno-sanitize-recover=all \
               -fno-omit-frame-pointer -I. -I$(RING_DIR)
RING_LIBS := -lcmocka
RING_ENV := ASAN_OPTIONS=abort_on_error=0:detect_leaks=1:strict_string_checks=1 \
            UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
RING_FILTER ?=

$(RING_BUILD):
	@mkdir -p $@

$(RING_BUILD)/test_ring_gcc: $(RING_SRCS) $(RING_HDRS) virtq.h mk/ring.mk | $(RING_BUILD)
	$(RING_GCC) $(RING_CFLAGS) -O1 -o $@ $(RING_SRCS) $(RING_LIBS)

$(RING_BUILD)/test_ring_clang: $(RING_SRCS) $(RING_HDRS) virtq.h mk/ring.mk | $(RING_BUILD)
	$(RING_CLANG) $(RING_CFLAGS) -Os -o $@ $(RING_SRCS) $(RING_LIBS)

.PHONY: test-ring
test-ring: $(RING_BUILD)/test_ring_gcc $(RING_BUILD)/test_ring_clang
	@set -e; for b in $^; do echo "--- $$b"; \
	  $(RING_ENV) ./$$b $(RING_FILTER); done

TEST_TARGETS += test-ring

# ---- the access-tracing harness (tests/ring/trace, see tr.h) ---------------
# virtq's implementation compiled with clang's TSan instrumentation but no
# TSan runtime: tr_rt.c receives every access (plain / volatile / atomic),
# barrier, register access and wait hook, in program order.  Three builds:
# vol (barrier hooks), atomics (VIRTQ_USE_ATOMICS with the shim's fences),
# noclock (iteration-bounded waits).
#
#   make test-ring-trace                 all three
#   TRACE_FILTER='*deadline*' make test-ring-trace

TRACE_DIR := $(RING_DIR)/trace
TRACE_BUILD := $(RING_BUILD)/trace
TRACE_CONFIGS := vol atomics noclock
TRACE_CFG_vol := TR_CFG_VOL
TRACE_CFG_atomics := TR_CFG_ATOMICS
TRACE_CFG_noclock := TR_CFG_NOCLOCK
TRACE_CFLAGS := -std=c11 -g -O1 -Wall -Wextra -Werror -I. -I$(RING_DIR) -I$(TRACE_DIR)
TRACE_INSTR := -fsanitize=thread -mllvm -tsan-distinguish-volatile=1 \
               -mllvm -tsan-instrument-func-entry-exit=0
TRACE_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
TRACE_SRCS := $(TRACE_DIR)/tr_rt.c $(TRACE_DIR)/tr_tests.c $(RING_DIR)/rt_common.c
TRACE_BINS := $(foreach c,$(TRACE_CONFIGS),$(TRACE_BUILD)/tr_$(c))
TRACE_FILTER ?=
.SECONDARY: $(foreach c,$(TRACE_CONFIGS),$(TRACE_BUILD)/tr_impl_$(c).o)

$(TRACE_BUILD)/tr_impl_%.o: $(TRACE_DIR)/tr_impl.c $(TRACE_DIR)/tr.h virtq.h mk/ring.mk
	@mkdir -p $(@D)
	$(RING_CLANG) $(TRACE_CFLAGS) $(TRACE_INSTR) -DTR_CONFIG=$(TRACE_CFG_$*) -c $< -o $@

$(TRACE_BUILD)/tr_%: $(TRACE_BUILD)/tr_impl_%.o $(TRACE_SRCS) $(TRACE_DIR)/tr.h $(RING_HDRS) virtq.h
	$(RING_CLANG) $(TRACE_CFLAGS) $(TRACE_SAN) $< $(TRACE_SRCS) $(RING_LIBS) -o $@

.PHONY: test-ring-trace
test-ring-trace: $(TRACE_BINS)
	@set -e; for b in $^; do echo "--- $$b"; $(RING_ENV) ./$$b $(TRACE_FILTER); done

TEST_TARGETS += test-ring-trace

endif
