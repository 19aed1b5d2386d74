# SPDX-License-Identifier: MIT
# Packed-ring unit tests (tests/ring_packed): cmocka, ASan + UBSan, gcc and
# clang, against the committed virtq.h built with both rings.  The test
# plays the packed device straight on the ring memory.
#
#   make test-ring-packed                  build both binaries and run them
#   PK_FILTER='*fault*' make test-ring-packed

PK_DIR := tests/ring_packed
PK_BUILD := $(BUILD)/ring_packed
PK_SRCS := $(sort $(wildcard $(PK_DIR)/*.c))
PK_HDRS := $(wildcard $(PK_DIR)/*.h)
PK_CFLAGS := -std=c99 -Wall -Wextra -Werror -g -O1 \
             -fsanitize=address,undefined -fno-sanitize-recover=all \
             -fno-omit-frame-pointer -I. -I$(PK_DIR)
PK_ENV := ASAN_OPTIONS=abort_on_error=0:detect_leaks=1 \
          UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
PK_FILTER ?=

$(PK_BUILD)/test_ring_packed_%: $(PK_SRCS) $(PK_HDRS) virtq.h mk/ring_packed.mk
	@mkdir -p $(@D)
	$* $(PK_CFLAGS) -o $@ $(PK_SRCS) -lcmocka

.PHONY: test-ring-packed
test-ring-packed: $(PK_BUILD)/test_ring_packed_gcc $(PK_BUILD)/test_ring_packed_clang
	@set -e; for b in $^; do echo "--- $$b"; $(PK_ENV) ./$$b $(PK_FILTER); done

TEST_TARGETS += test-ring-packed

# The packed ring on real devices: QEMU's virtio-blk, -net and -gpu with
# packed=on over modern virtio-mmio (tests/qemu/qemu_matrix.py forces
# -global virtio-mmio.force-legacy=false; legacy MMIO cannot offer it).
# Every RESULT line must say ring=packed, as negotiated (the harness fails
# a run that fell back to split).  The board programs are built with both
# rings (virtq_board.h), so the same ELFs run split where packed is not
# offered.
.PHONY: test-packed-qemu
test-packed-qemu: blk-elfs net-elfs $(BUILD)/riscv/gpu_demo.elf
	$(BLK_QEMU_PY) --ring packed --elf $(RV_BUILD)/blk_demo_quick.elf \
	  --config modern-ev0-in0 --config modern-ev0-in1 --config modern-ev1-in0 \
	  --config modern-ev1-in1 --config modern-ro
	$(NET_QEMU_PY) --ring packed user --elf $(RV_BUILD)/net_demo.elf \
	  --configs modern-mrg,modern-nomrg
	$(NET_QEMU_PY) --ring packed peer --elf $(RV_BUILD)/net_peer.elf \
	  --configs modern-mrg,modern-nomrg
	$(PYTHON) $(GPU_PY) $(GPU_QEMU_ARGS) --ring packed test

TEST_TARGETS += test-packed-qemu
