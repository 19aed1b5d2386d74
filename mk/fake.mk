# SPDX-License-Identifier: MIT
# The host fake virtio-mmio device (shims/fake) and its own tests.
#
# Reusable by later fragments (driver and ring tests that run against it):
#   FAKE_CC       host compiler (gcc)
#   FAKE_CFLAGS   C11, warnings as errors, ASan+UBSan, pthreads
#   FAKE_INC      include flags for virtq.h and shims/fake/*.h
#   FAKE_LIB      $(BUILD)/fake/libvirtq_fake.a (the device, fake CPU, blk model)
#   FAKE_LDLIBS   what a test binary links after its objects
#   FAKE_PACKED_CFLAGS, FAKE_PACKED_RUN  a host test's packed pass: build
#                 the same sources with the packed ring too and run the
#                 binary under $(FAKE_PACKED_RUN) (VIRTQ_FAKE_RING=packed:
#                 every modern fake device offers VIRTIO_F_RING_PACKED and
#                 refuses FEATURES_OK without it, so the pass cannot
#                 silently run split)
#
# Example fragment:
#   $(BUILD)/blk/test_blk: tests/blk/test_blk.c $(FAKE_LIB)
#   	@mkdir -p $(@D)
#   	$(FAKE_CC) $(FAKE_CFLAGS) $(FAKE_INC) $< $(FAKE_LDLIBS) -o $@
#
# Tests: test-fake (tests/fake/*.c, cmocka); test-fake-tsan (virtq's packed
# ring against the fake's device thread, tests/fake/test_packed_virtq.c,
# under ThreadSanitizer).

ifndef FAKE_MK_INCLUDED
FAKE_MK_INCLUDED := 1

DEPS_PKGS += libcmocka-dev

FAKE_DIR := shims/fake
FAKE_BUILD := $(BUILD)/fake
FAKE_CC ?= gcc
FAKE_CFLAGS := -std=c11 -Wall -Wextra -Werror -g -O1 -fno-omit-frame-pointer \
               -fsanitize=address,undefined -fno-sanitize-recover=all -pthread
FAKE_INC := -I. -I$(FAKE_DIR)
FAKE_LIB := $(FAKE_BUILD)/libvirtq_fake.a
FAKE_LDLIBS := $(FAKE_LIB) -lcmocka
FAKE_PACKED_CFLAGS := '-DVIRTQ_RINGS=(VIRTQ_RING_SPLIT|VIRTQ_RING_PACKED)'
FAKE_PACKED_RUN := VIRTQ_FAKE_RING=packed

FAKE_SRCS := $(wildcard $(FAKE_DIR)/*.c)
FAKE_HDRS := $(wildcard $(FAKE_DIR)/*.h) virtq.h
FAKE_OBJS := $(patsubst $(FAKE_DIR)/%.c,$(FAKE_BUILD)/%.o,$(FAKE_SRCS))

$(FAKE_BUILD)/%.o: $(FAKE_DIR)/%.c $(FAKE_HDRS)
	@mkdir -p $(@D)
	$(FAKE_CC) $(FAKE_CFLAGS) $(FAKE_INC) -c $< -o $@

$(FAKE_LIB): $(FAKE_OBJS)
	@rm -f $@
	ar rcs $@ $^

FAKE_TEST_SRCS := $(wildcard tests/fake/test_*.c)
FAKE_TESTS := $(patsubst tests/fake/%.c,$(FAKE_BUILD)/%,$(FAKE_TEST_SRCS))

$(FAKE_BUILD)/test_%: tests/fake/test_%.c tests/fake/minidrv.h $(FAKE_LIB)
	@mkdir -p $(@D)
	$(FAKE_CC) $(FAKE_CFLAGS) $(FAKE_INC) -Itests/fake $< $(FAKE_LDLIBS) -o $@

TEST_TARGETS += test-fake
.PHONY: test-fake fake-lib
fake-lib: $(FAKE_LIB)

test-fake: $(FAKE_TESTS)
	@set -e; for t in $(FAKE_TESTS); do echo "--- $$t"; $$t; done

# The fake built in (not the ASan library) with -fsanitize=thread.  gcc
# warns that TSan does not model atomic_thread_fence (-Wno-tsan): a fence
# it cannot see could only add reports, never hide one.
$(FAKE_BUILD)/tsan/test_packed_virtq: tests/fake/test_packed_virtq.c tests/fake/minidrv.h $(FAKE_SRCS) $(FAKE_HDRS)
	@mkdir -p $(@D)
	$(FAKE_CC) -std=c11 -Wall -Wextra -Werror -Wno-tsan -g -O1 -fsanitize=thread -pthread $(FAKE_INC) \
	  -Itests/fake $< $(FAKE_SRCS) -lcmocka -o $@

TEST_TARGETS += test-fake-tsan
.PHONY: test-fake-tsan
test-fake-tsan: $(FAKE_BUILD)/tsan/test_packed_virtq
	TSAN_OPTIONS=halt_on_error=1 $<

endif
