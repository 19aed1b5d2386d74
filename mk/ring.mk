# Split-ring unit tests (tests/ring): cmocka, ASan + UBSan, built with both
# gcc and clang against the committed virtq.h.  The test plays the device
# directly on the ring memory (no MMIO).
#
#   make test-ring                 build both binaries and run them
#   RING_FILTER='*wrap*' make test-ring   run only matching cmocka tests

DEPS_PKGS += libcmocka-dev gcc clang

RING_DIR := tests/ring
RING_BUILD := $(BUILD)/ring
RING_SRCS := $(sort $(wildcard $(RING_DIR)/*.c))
RING_HDRS := $(wildcard $(RING_DIR)/*.h)
RING_GCC ?= gcc
RING_CLANG ?= clang
RING_CFLAGS := -std=c99 -Wall -Wextra -Werror -g -O1 \
               -fsanitize=address,undefined -fno-sanitize-recover=all \
               -fno-omit-frame-pointer -I. -I$(RING_DIR)
RING_LIBS := -lcmocka
RING_ENV := ASAN_OPTIONS=abort_on_error=0:detect_leaks=1:strict_string_checks=1 \
            UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
RING_FILTER ?=

$(RING_BUILD):
	@mkdir -p $@

$(RING_BUILD)/test_ring_gcc: $(RING_SRCS) $(RING_HDRS) virtq.h mk/ring.mk | $(RING_BUILD)
	$(RING_GCC) $(RING_CFLAGS) -o $@ $(RING_SRCS) $(RING_LIBS)

$(RING_BUILD)/test_ring_clang: $(RING_SRCS) $(RING_HDRS) virtq.h mk/ring.mk | $(RING_BUILD)
	$(RING_CLANG) $(RING_CFLAGS) -o $@ $(RING_SRCS) $(RING_LIBS)

.PHONY: test-ring
test-ring: $(RING_BUILD)/test_ring_gcc $(RING_BUILD)/test_ring_clang
	@set -e; for b in $^; do echo "--- $$b"; \
	  $(RING_ENV) ./$$b $(RING_FILTER); done

TEST_TARGETS += test-ring
