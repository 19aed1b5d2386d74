# SPDX-License-Identifier: MIT
# The bootloader against Debian's U-Boot (bench/boot_bench.py): time from
# the guest's first instruction to the kernel's first instruction (gdbstub
# breakpoint at each loader's kernel entry) and kernel+initrd load MiB/s,
# on one QEMU line with the same disk; plus the host's own copy of the
# same bytes; once on fresh guest RAM, once with -mem-prealloc (host page
# faults taken out).  Results: bench/results/boot.csv and boot_prealloc.csv,
# logs in build/bench-boot/.
#
#   make bench-boot                 (BENCH_TARGETS) BENCH_BOOT_RUNS (5) runs each
#   make bench-boot BENCH_BOOT_RUNS=2
#   make test-bench-boot-smoke      (TEST_TARGETS) one run of each loader on
#                                   fresh RAM, results under build/: the
#                                   harness boots both, finds both loads in
#                                   QEMU's trace and parses both consoles
#                                   (no figure is judged)

# Sorts before bootloader.mk: take its variables first (it is guarded).
include mk/bootloader.mk

DEPS_PKGS += u-boot-qemu qemu-system-arm
BENCH_BOOT_RUNS ?= 5
BENCH_BOOT_UBOOT ?= /usr/lib/u-boot/qemu_arm64/u-boot.bin

.PHONY: bench-boot test-bench-boot-smoke
BENCH_TARGETS += bench-boot
TEST_TARGETS += test-bench-boot-smoke

bench-boot: $(A64_BUILD)/bootloader.elf $(BL_DISK)
	$(PYTHON) bench/boot_bench.py --disk $(BL_DISK) --image $(BL_IMAGE) \
	  --elf $(A64_BUILD)/bootloader.elf --uboot $(BENCH_BOOT_UBOOT) \
	  --runs $(BENCH_BOOT_RUNS) --out bench/results/boot.csv --logdir $(BUILD)/bench-boot
	$(PYTHON) bench/boot_bench.py --disk $(BL_DISK) --image $(BL_IMAGE) \
	  --elf $(A64_BUILD)/bootloader.elf --uboot $(BENCH_BOOT_UBOOT) --prealloc \
	  --runs $(BENCH_BOOT_RUNS) --out bench/results/boot_prealloc.csv --logdir $(BUILD)/bench-boot

test-bench-boot-smoke: $(A64_BUILD)/bootloader.elf $(BL_DISK)
	$(PYTHON) bench/boot_bench.py --disk $(BL_DISK) --image $(BL_IMAGE) \
	  --elf $(A64_BUILD)/bootloader.elf --uboot $(BENCH_BOOT_UBOOT) \
	  --runs 1 --out $(BUILD)/bench-boot-smoke/boot.csv --logdir $(BUILD)/bench-boot-smoke
