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

# ---- figures: the packed ring beside the split ring (bench/packed_bench.sh) --
# `make bench` runs bench-packed in the same run as ringtest (bench-ring);
# BENCHMARKS.md "Packed ring" quotes bench/results/packed.csv.
PKB := $(BUILD)/bench-packed
PKB_CC := gcc
PKB_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -I.
PKB_RV := riscv64-unknown-elf-gcc --specs=picolibc.specs -march=rv32imac -mabi=ilp32 -Os \
          -ffunction-sections -I.

$(PKB)/impl_split.o: bench/virtq_impl.c virtq.h
	@mkdir -p $(@D)
	$(PKB_CC) $(PKB_CFLAGS) -c -o $@ $<
$(PKB)/impl_packed.o: bench/virtq_impl.c virtq.h
	@mkdir -p $(@D)
	$(PKB_CC) $(PKB_CFLAGS) -DVIRTQ_RINGS=VIRTQ_RING_PACKED -c -o $@ $<
$(PKB)/icount: bench/icount.c $(PKB)/impl_split.o
	$(PKB_CC) $(PKB_CFLAGS) -o $@ $< $(PKB)/impl_split.o
$(PKB)/icount_packed: bench/icount_packed.c $(PKB)/impl_packed.o
	$(PKB_CC) $(PKB_CFLAGS) -o $@ $< $(PKB)/impl_packed.o
$(PKB)/ringbench: bench/ringbench.c $(PKB)/impl_split.o
	$(PKB_CC) $(PKB_CFLAGS) -pthread -o $@ $< $(PKB)/impl_split.o
$(PKB)/ringbench_packed: bench/ringbench.c $(PKB)/impl_packed.o
	$(PKB_CC) $(PKB_CFLAGS) -pthread -DRINGBENCH_PACKED -o $@ $< $(PKB)/impl_packed.o
# rv32 .text of the ring functions of a one-ring build (-Os, rv32imac).
$(PKB)/rv32_%.text: virtq.h mk/ring_packed.mk
	@mkdir -p $(@D)
	printf '#define VIRTQ_RINGS VIRTQ_RING_%s\n#define VIRTQ_IMPLEMENTATION\n#include "virtq.h"\n' \
	  $(shell echo $* | tr a-z A-Z) > $(PKB)/rv32_$*.c
	$(PKB_RV) -c -o $(PKB)/rv32_$*.o $(PKB)/rv32_$*.c
	riscv64-unknown-elf-nm -S $(PKB)/rv32_$*.o | $(PYTHON) -c 'import re,sys; \
	  print(sum(int(f[1],16) for f in (l.split() for l in sys.stdin) if len(f)==4 and f[2] in "tT" \
	  and re.match(r"virtq_(init|add|add_indirect|publish|submit|get|has_used|disable_intr|enable_intr|enable_intr_delayed|is_broken|break|num_free|ignore_used_len|detach|ring_bytes|broken_reason)$$|virtq__(packed|pw|reset|add|commit|fill|state|used|arm|desc|publish|submit|break|split|chain)", f[3])))' > $@

PKB_BINS := $(addprefix $(PKB)/,icount icount_packed ringbench ringbench_packed rv32_split.text \
            rv32_packed.text)
.PHONY: bench-packed
bench-packed: $(PKB_BINS)
	bench/packed_bench.sh $(PKB) bench/results $(BENCH_REPS) $(BENCH_MS)

BENCH_TARGETS += bench-packed
DEPS_PKGS += valgrind
