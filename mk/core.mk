# SPDX-License-Identifier: MIT
# End-to-end host tests of virtq's transport, device status machine and
# waits against the fake virtio-mmio device (tests/core): cmocka, ASan +
# UBSan, one binary built with gcc and one with clang.
#
#   make test-core                       build both binaries and run them
#   CORE_FILTER='*wfi*' make test-core   run only the matching cmocka tests
#
# Fragments are included in name order and fake.mk sorts after this one;
# it has an include guard, so including it here first is safe.
-include mk/fake.mk

DEPS_PKGS += libcmocka-dev gcc clang

CORE_BUILD := $(BUILD)/core
CORE_SRCS := $(sort $(wildcard tests/core/*.c))
CORE_HDRS := $(wildcard tests/core/*.h)
CORE_CLANG ?= clang
CORE_FAKE_SRCS := $(wildcard shims/fake/*.c)
CORE_FAKE_HDRS := $(wildcard shims/fake/*.h)
CORE_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
            UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
CORE_TIMEOUT ?= 300
CORE_FILTER ?=

.PHONY: test-core
TEST_TARGETS += test-core

ifdef FAKE_LIB
$(CORE_BUILD)/test_core_gcc: $(CORE_SRCS) $(CORE_HDRS) $(FAKE_LIB) virtq.h mk/core.mk
	@mkdir -p $(@D)
	$(FAKE_CC) $(FAKE_CFLAGS) $(FAKE_INC) -Itests/core $(CORE_SRCS) $(FAKE_LDLIBS) -o $@

# clang brings its own sanitizer runtime, so it compiles the fake from
# source instead of linking the gcc-built library.
$(CORE_BUILD)/test_core_clang: $(CORE_SRCS) $(CORE_HDRS) $(CORE_FAKE_SRCS) $(CORE_FAKE_HDRS) virtq.h mk/core.mk
	@mkdir -p $(@D)
	$(CORE_CLANG) $(FAKE_CFLAGS) $(FAKE_INC) -Itests/core $(CORE_SRCS) $(CORE_FAKE_SRCS) -lcmocka -o $@

# The smallest build (VIRTQ_EVENT_IDX 0, VIRTQ_MMIO_LEGACY 0): its own
# implementation unit and tests (tests/core/min), the rig helpers shared.
CORE_MIN_SRCS := tests/core/core_impl.c tests/core/core_common.c tests/core/core_watchdog.c \
  $(wildcard tests/core/min/*.c)
$(CORE_BUILD)/test_core_min: $(CORE_MIN_SRCS) $(CORE_HDRS) $(FAKE_LIB) virtq.h mk/core.mk
	@mkdir -p $(@D)
	$(FAKE_CC) $(FAKE_CFLAGS) $(FAKE_INC) -Itests/core -DVIRTQ_EVENT_IDX=0 -DVIRTQ_MMIO_LEGACY=0 \
	  $(CORE_MIN_SRCS) $(FAKE_LDLIBS) -o $@

test-core: $(CORE_BUILD)/test_core_gcc $(CORE_BUILD)/test_core_clang $(CORE_BUILD)/test_core_min
	@set -e; for b in $^; do echo "--- $$b"; \
	  $(CORE_ENV) timeout $(CORE_TIMEOUT) ./$$b $(CORE_FILTER); done
else
test-core:
	@echo "test-core: mk/fake.mk (the fake device) is missing"; exit 1
endif
