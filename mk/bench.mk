# Benchmarks (bench/, BENCHMARKS.md).  `make bench` measures; nothing here
# is part of `make test` (no timing is ever asserted).
#
#   bench-machine  what it ran on          -> bench/results/machine.txt
#   bench-icount   driver instructions per request (callgrind, lock-step)
#                                          -> bench/results/icount.csv
#   bench-size     .text/.rodata/.data/.bss for RISC-V, per API set
#                                          -> bench/results/size.csv,
#                                             size_functions_<target>.txt
#   bench-ring     two-thread ring throughput sweep (ringbench)
#                                          -> bench/results/ring*.csv, .dat
#   bench-chart    ns/request against batch size -> ring_batch.png
#   bench-qemu-blk / -gpu / -net
#                  the examples' FIGURE lines over BENCH_QEMU_RUNS boots of
#                  `make demo-blk`, `make bench-gpu`, `make demo-net`
#                                          -> bench/results/qemu_runs_*.csv
#   bench-uboot    blk_demo and Debian's U-Boot on the same image, same QEMU
#                                          -> qemu_runs_uboot.csv,
#                                             uboot_commands.txt
#                  (each QEMU step rebuilds qemu_figures.csv: median and
#                  range per FIGURE key)
#   bench-report   rewrites the generated blocks of BENCHMARKS.md; it is the
#                  last entry of BENCH_TARGETS (see the end of this file)
#
# Knobs: BENCH_REPS (runs per ring configuration, default 3), BENCH_MS
# (measured milliseconds per run, default 300), BENCH_QEMU_RUNS (boots per
# QEMU step, default 5), BENCH_UBOOT_ROUNDS (timed reads per U-Boot boot,
# default 5).  The whole `make bench` takes about 2 minutes on the 2-core
# machine.  Fragments sort after this one, so anything they append to
# BENCH_TARGETS would run after bench-report: an area with new figures adds
# its step to the list at the end of this file instead.

DEPS_PKGS += valgrind gnuplot-nox gcc-riscv64-unknown-elf binutils-riscv64-unknown-elf \
             picolibc-riscv64-unknown-elf

BENCH_BUILD := $(BUILD)/bench
BENCH_RESULTS := bench/results
BENCH_CC := gcc
BENCH_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -I.
BENCH_REPS ?= 3
BENCH_MS ?= 300

$(BENCH_BUILD) $(BENCH_RESULTS):
	@mkdir -p $@

# The library in its own translation unit, called through its extern API.
$(BENCH_BUILD)/virtq_impl.o: bench/virtq_impl.c virtq.h | $(BENCH_BUILD)
	$(BENCH_CC) $(BENCH_CFLAGS) -c -o $@ $<

$(BENCH_BUILD)/ringbench: bench/ringbench.c $(BENCH_BUILD)/virtq_impl.o virtq.h
	$(BENCH_CC) $(BENCH_CFLAGS) -pthread -o $@ $< $(BENCH_BUILD)/virtq_impl.o

$(BENCH_BUILD)/icount: bench/icount.c $(BENCH_BUILD)/virtq_impl.o virtq.h
	$(BENCH_CC) $(BENCH_CFLAGS) -o $@ $< $(BENCH_BUILD)/virtq_impl.o

.PHONY: bench-machine bench-icount bench-size bench-ring bench-chart bench-report \
        bench-build
bench-build: $(BENCH_BUILD)/ringbench $(BENCH_BUILD)/icount

bench-machine: | $(BENCH_RESULTS)
	bench/machine.sh > $(BENCH_RESULTS)/machine.txt
	@cat $(BENCH_RESULTS)/machine.txt

bench-icount: $(BENCH_BUILD)/icount | $(BENCH_RESULTS)
	$(PYTHON) bench/icount.py --bin $< --build $(BENCH_BUILD) --results $(BENCH_RESULTS)

bench-size: | $(BENCH_RESULTS)
	$(PYTHON) bench/size.py --build $(BENCH_BUILD)/size --results $(BENCH_RESULTS)

bench-ring: $(BENCH_BUILD)/ringbench | $(BENCH_RESULTS)
	$(PYTHON) bench/ring_sweep.py --bin $< --results $(BENCH_RESULTS) \
	  --reps $(BENCH_REPS) --ms $(BENCH_MS)

bench-chart: | $(BENCH_RESULTS)
	gnuplot -e "dat='$(BENCH_RESULTS)/ring_batch.dat'; out='$(BENCH_RESULTS)/ring_batch.png'" \
	  bench/ring_chart.gp

# Every step that writes bench/results/ must run before this one.
bench-report:
	@if [ "$(lastword $(BENCH_TARGETS))" != bench-report ]; then \
	  echo "bench-report: WARNING: BENCH_TARGETS does not end with bench-report," \
	       "so steps after it miss this report: $(BENCH_TARGETS)"; fi
	$(PYTHON) bench/report.py --results $(BENCH_RESULTS) --doc BENCHMARKS.md

# A smoke test for `make test`: the benchmark programs still build against
# the current virtq.h and run correctly (every cookie back exactly once,
# descriptors all free, device and driver agree), in about a second.  It
# asserts no timing.
.PHONY: test-bench-smoke
test-bench-smoke: $(BENCH_BUILD)/ringbench $(BENCH_BUILD)/icount
	@set -e; for s in 1 3; do for e in 0 1; do \
	  $(BENCH_BUILD)/icount -s $$s -e $$e -n 1000 >/dev/null; done; done
	@set -e; for m in "-m poll" "-m sleep -w eventfd" "-m sleep -w futex -c 3 -b 8"; do \
	  $(BENCH_BUILD)/ringbench $$m -r 64 -W 5 -T 30 >/dev/null; done
	@echo "test-bench-smoke: benchmark programs build and run correctly"

TEST_TARGETS += test-bench-smoke

# ---- In-QEMU figures (issue 7) --------------------------------------------
# Each step boots an example through its own make target BENCH_QEMU_RUNS
# times (bench/qemu_figures.py keeps every FIGURE line); every boot has the
# harness's timeout and each command a 300 s bound.  No timing here is
# asserted anywhere; `make test` runs none of it.
include mk/riscv.mk

DEPS_PKGS += qemu-system-misc u-boot-qemu

BENCH_QEMU_RUNS ?= 5
BENCH_UBOOT_ROUNDS ?= 5
# Debian's u-boot-qemu: M-mode U-Boot for QEMU virt (TEXT_BASE 0x80000000),
# booted like our examples with -bios none -kernel.
BENCH_UBOOT_ELF ?= /usr/lib/u-boot/qemu-riscv64/uboot.elf
BENCH_QEMU_PY = $(PYTHON) bench/qemu_figures.py --results $(BENCH_RESULTS)
# The example's own make, run by qemu_figures.py.  Not spelled as the MAKE
# variable in the recipes below: make runs any recipe line naming $(MAKE)
# even under `make -n`, and these lines write bench/results/ (a dry run
# emptied the committed qemu_runs_*.csv that way).
BENCH_SUBMAKE := make --no-print-directory

.PHONY: bench-qemu-blk bench-qemu-gpu bench-qemu-net bench-uboot
bench-qemu-blk: | $(BENCH_RESULTS)
	$(BENCH_QEMU_PY) run --part blk --runs $(BENCH_QEMU_RUNS) \
	  --show seq_read,qd1,qd32,qd32_kicks_per_req --cmd '$(BENCH_SUBMAKE) demo-blk'

bench-qemu-gpu: | $(BENCH_RESULTS)
	$(BENCH_QEMU_PY) run --part gpu --runs $(BENCH_QEMU_RUNS) \
	  --show full_frame_fps,storm_flushes_per_s --cmd '$(BENCH_SUBMAKE) bench-gpu'

bench-qemu-net: | $(BENCH_RESULTS)
	$(BENCH_QEMU_PY) run --part net --runs $(BENCH_QEMU_RUNS) \
	  --show echo_pps,ping_rtt_avg_us --cmd '$(BENCH_SUBMAKE) demo-net'

# Same image (build/bench/qemu/disk.img, 128 MiB of random bytes, read once
# before every boot), the same QEMU line as `make demo-blk`; only -kernel
# differs.
bench-uboot: $(RV_BUILD)/blk_demo.elf | $(BENCH_RESULTS)
	$(BENCH_QEMU_PY) uboot --runs $(BENCH_QEMU_RUNS) --rounds $(BENCH_UBOOT_ROUNDS) \
	  --qemu "$(QEMU_RV)" --elf $(RV_BUILD)/blk_demo.elf --uboot $(BENCH_UBOOT_ELF) \
	  --image $(BENCH_BUILD)/qemu/disk.img

# The order `make bench` runs them in; the report comes last.
BENCH_TARGETS += bench-machine bench-icount bench-size bench-ring bench-chart \
                 bench-qemu-blk bench-qemu-gpu bench-qemu-net bench-uboot bench-report

# ---- A dry run changes nothing (issue 16) ----------------------------------
# `make -n` of the aggregate targets and of every bench step must leave the
# tree as it was (tests/dryrun/check.sh compares every file before/after).
.PHONY: test-dry-run print-bench-targets
print-bench-targets:
	@echo $(BENCH_TARGETS)

test-dry-run:
	tests/dryrun/check.sh

TEST_TARGETS += test-dry-run
