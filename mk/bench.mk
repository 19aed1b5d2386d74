# SPDX-License-Identifier: MIT
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
# default 5).  The whole `make bench` takes 3-4 minutes on the 2-core
# machine (a ringtest run that hangs and is retried adds its timeout).  Fragments sort after this one, so anything they append to
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
# Records which virtq.h (and commit) a results file measured (bench/stamp.py).
BENCH_STAMP = $(PYTHON) bench/stamp.py --results $(BENCH_RESULTS) stamp

$(BENCH_BUILD) $(BENCH_RESULTS):
	@mkdir -p $@

# The library in its own translation unit, called through its extern API.
$(BENCH_BUILD)/virtq_impl.o: bench/virtq_impl.c virtq.h | $(BENCH_BUILD)
	$(BENCH_CC) $(BENCH_CFLAGS) -c -o $@ $<

# ringbench's copy also builds the publish in two steps (VIRTQ_PUBLISH_DEFER:
# virtq_publish_defer + virtq_kick_prepare, its -k 1); the default build
# that icount and size measure leaves it out.
$(BENCH_BUILD)/virtq_impl_defer.o: bench/virtq_impl.c virtq.h | $(BENCH_BUILD)
	$(BENCH_CC) $(BENCH_CFLAGS) -DVIRTQ_PUBLISH_DEFER=1 -c -o $@ $<

$(BENCH_BUILD)/ringbench: bench/ringbench.c $(BENCH_BUILD)/virtq_impl_defer.o virtq.h
	$(BENCH_CC) $(BENCH_CFLAGS) -DVIRTQ_PUBLISH_DEFER=1 -pthread -o $@ $< \
	  $(BENCH_BUILD)/virtq_impl_defer.o

$(BENCH_BUILD)/icount: bench/icount.c $(BENCH_BUILD)/virtq_impl.o virtq.h
	$(BENCH_CC) $(BENCH_CFLAGS) -o $@ $< $(BENCH_BUILD)/virtq_impl.o

# The build README recommends for speed: VIRTQ_STATIC in the caller's file.
$(BENCH_BUILD)/icount_inline: bench/icount.c virtq.h | $(BENCH_BUILD)
	$(BENCH_CC) $(BENCH_CFLAGS) -DICOUNT_INLINE -o $@ $<

# ---- The peer, side by side: Linux's tools/virtio/ringtest ------------------
# Unpacked at bench time from Debian's linux-source-6.1 (never committed) and
# built with its own Makefile, unmodified: `ring` (ringtest's cache-friendly
# ring layout) and `virtio_ring_0_9` (the split ring, event index always
# on).  bench-ring runs them in the same sweep as ringbench, on the same two
# CPUs; bench/ringtest_shim.so (LD_PRELOAD) reads their time and their
# kicks and interrupts (eventfd writes) without changing them.  For the
# instruction count, the same ring sources are compiled -O2 in their own
# translation unit and linked with bench/ringtest_icount.c instead of
# ringtest's main.c (the lock-step harness of bench/icount.c).
DEPS_PKGS += linux-source-6.1 xz-utils
RINGTEST_TAR ?= /usr/src/linux-source-6.1.tar.xz
RINGTEST_TOP := $(BENCH_BUILD)/linux-ringtest
RINGTEST_DIR := $(RINGTEST_TOP)/linux-source-6.1/tools/virtio/ringtest
RINGTEST_RINGS := virtio_ring_0_9 ring
# Not named MAKE (see BENCH_SUBMAKE): its own Makefile, its own flags.
RINGTEST_MAKE := make --no-print-directory

$(RINGTEST_DIR)/.unpacked: | $(BENCH_BUILD)
	@test -r $(RINGTEST_TAR) || { echo "bench: $(RINGTEST_TAR) missing:" \
	  "apt-get install linux-source-6.1 (or make deps)"; exit 1; }
	rm -rf $(RINGTEST_TOP) && mkdir -p $(RINGTEST_TOP)
	tar -xf $(RINGTEST_TAR) -C $(RINGTEST_TOP) linux-source-6.1/tools/virtio/ringtest
	touch $@

$(addprefix $(RINGTEST_DIR)/,$(RINGTEST_RINGS)) &: $(RINGTEST_DIR)/.unpacked
	cd $(RINGTEST_DIR) && $(RINGTEST_MAKE) $(RINGTEST_RINGS)

$(BENCH_BUILD)/ringtest_shim.so: bench/ringtest_shim.c | $(BENCH_BUILD)
	$(BENCH_CC) $(BENCH_CFLAGS) -shared -fPIC -o $@ $< -ldl

$(BENCH_BUILD)/ringtest_%.o: $(RINGTEST_DIR)/.unpacked
	$(BENCH_CC) -O2 -g -c -o $@ $(RINGTEST_DIR)/$*.c

$(BENCH_BUILD)/ringtest_icount_%: bench/ringtest_icount.c $(BENCH_BUILD)/ringtest_%.o
	$(BENCH_CC) $(BENCH_CFLAGS) -o $@ $< $(BENCH_BUILD)/ringtest_$*.o

# virtq's driver in ringtest's own harness (bench/ringtest_virtq.c): main.c
# and virtio_ring_0_9.c's host, unmodified, its guest functions renamed
# away; built with ringtest's own flags (LTO, whole program), so both
# drivers meet the same host and the same build.
RINGTEST_OWN_CFLAGS := -pthread -O2 -ggdb -flto -fwhole-program -Wall
RINGTEST_GUEST := alloc_ring add_inbuf get_buf disable_call used_empty enable_call kick_available
RTV_BUILD := $(BENCH_BUILD)/ringtest_virtq.d
$(BENCH_BUILD)/ringtest_virtq: bench/ringtest_virtq.c bench/ringtest_vring.c bench/virtq_impl.c \
                               virtq.h $(RINGTEST_DIR)/.unpacked
	@mkdir -p $(RTV_BUILD)
	$(BENCH_CC) $(RINGTEST_OWN_CFLAGS) -c -o $(RTV_BUILD)/main.o $(RINGTEST_DIR)/main.c
	$(BENCH_CC) $(RINGTEST_OWN_CFLAGS) $(foreach f,$(RINGTEST_GUEST),-D$(f)=rt09_$(f)) \
	  -c -o $(RTV_BUILD)/virtio_ring_0_9.o $(RINGTEST_DIR)/virtio_ring_0_9.c
	$(BENCH_CC) $(RINGTEST_OWN_CFLAGS) -Wextra -Werror -I$(RINGTEST_DIR) -I. \
	  -DVIRTQ_PUBLISH_DEFER=1 -c -o $(RTV_BUILD)/ringtest_virtq.o bench/ringtest_virtq.c
	$(BENCH_CC) $(RINGTEST_OWN_CFLAGS) -Wextra -Werror -c -o $(RTV_BUILD)/ringtest_vring.o \
	  bench/ringtest_vring.c
	$(BENCH_CC) $(RINGTEST_OWN_CFLAGS) -Wextra -Werror -I. -DVIRTQ_PUBLISH_DEFER=1 \
	  -c -o $(RTV_BUILD)/virtq_impl.o bench/virtq_impl.c
	$(BENCH_CC) $(RINGTEST_OWN_CFLAGS) -o $@ $(addprefix $(RTV_BUILD)/,main.o virtio_ring_0_9.o \
	  ringtest_virtq.o ringtest_vring.o virtq_impl.o)

RINGTEST_BINS := $(addprefix $(RINGTEST_DIR)/,$(RINGTEST_RINGS)) $(BENCH_BUILD)/ringtest_shim.so \
                 $(BENCH_BUILD)/ringtest_virtq
RINGTEST_ICOUNT_BINS := $(addprefix $(BENCH_BUILD)/ringtest_icount_,$(RINGTEST_RINGS))
.SECONDARY: $(addprefix $(BENCH_BUILD)/ringtest_,$(addsuffix .o,$(RINGTEST_RINGS)))

.PHONY: bench-machine bench-icount bench-size bench-ring bench-chart bench-report \
        bench-build
bench-build: $(BENCH_BUILD)/ringbench $(BENCH_BUILD)/icount

bench-machine: | $(BENCH_RESULTS)
	bench/machine.sh > $(BENCH_RESULTS)/machine.txt
	@$(BENCH_STAMP) machine.txt
	@cat $(BENCH_RESULTS)/machine.txt

bench-icount: $(BENCH_BUILD)/icount $(BENCH_BUILD)/icount_inline $(RINGTEST_ICOUNT_BINS) \
              | $(BENCH_RESULTS)
	$(PYTHON) bench/icount.py --bin $< --build $(BENCH_BUILD) --results $(BENCH_RESULTS) \
	  --inline $(BENCH_BUILD)/icount_inline \
	  $(foreach r,$(RINGTEST_RINGS),--ringtest $(r)=$(BENCH_BUILD)/ringtest_icount_$(r))
	$(PYTHON) bench/icount_lines.py --build $(BENCH_BUILD) --results $(BENCH_RESULTS)
	@$(BENCH_STAMP) icount.csv icount_lines.csv

bench-size: | $(BENCH_RESULTS)
	$(PYTHON) bench/size.py --build $(BENCH_BUILD)/size --results $(BENCH_RESULTS)
	$(PYTHON) bench/size_floor.py --build $(BENCH_BUILD)/size_floor --results $(BENCH_RESULTS)
	@$(BENCH_STAMP) size.csv size_floor.csv

bench-ring: $(BENCH_BUILD)/ringbench $(RINGTEST_BINS) | $(BENCH_RESULTS)
	$(PYTHON) bench/ring_sweep.py --bin $< --results $(BENCH_RESULTS) \
	  --reps $(BENCH_REPS) --ms $(BENCH_MS) --shim $(BENCH_BUILD)/ringtest_shim.so \
	  $(foreach r,$(RINGTEST_RINGS),--ringtest $(r)=$(RINGTEST_DIR)/$(r)) \
	  --ringtest virtq=$(BENCH_BUILD)/ringtest_virtq \
	  --ringtest 'virtq-delayed=$(BENCH_BUILD)/ringtest_virtq --param 1' \
	  --ringtest 'virtq-after=$(BENCH_BUILD)/ringtest_virtq --param 2'
	@$(BENCH_STAMP) ring.csv

bench-chart: | $(BENCH_RESULTS)
	gnuplot -e "dat='$(BENCH_RESULTS)/ring_batch.dat'; out='$(BENCH_RESULTS)/ring_batch.png'" \
	  bench/ring_chart.gp
	@$(BENCH_STAMP) ring_batch.png

# Every step that writes bench/results/ must run before this one (the
# top-level `make bench` runs it last: BENCH_RUN).
bench-report:
	$(PYTHON) bench/report.py --results $(BENCH_RESULTS) --doc BENCHMARKS.md
	@$(PYTHON) bench/stamp.py --results $(BENCH_RESULTS) check

# Which results files are older than the virtq.h they describe (no measuring).
.PHONY: bench-status
bench-status:
	@$(PYTHON) bench/stamp.py --results $(BENCH_RESULTS) check

# A smoke test for `make test`: the benchmark programs still build against
# the current virtq.h and run correctly (every cookie back exactly once,
# descriptors all free, device and driver agree), in about a second.  It
# asserts no timing: a run in which a busy machine starved a thread for the
# whole 30 ms window ("no request completed") is tried again, up to 3 times;
# any other failure fails at once.
.PHONY: test-bench-smoke
test-bench-smoke: $(BENCH_BUILD)/ringbench $(BENCH_BUILD)/icount $(BENCH_BUILD)/icount_inline \
                  $(BENCH_BUILD)/ringtest_virtq
	@set -e; for a in "" "--sleep" "--sleep --batch 32 --param 1" "--sleep --batch 32 --param 2"; do \
	  timeout 60 $(BENCH_BUILD)/ringtest_virtq --run-cycles 200000 $$a; done
	@set -e; for s in 1 3; do for e in 0 1; do \
	  $(BENCH_BUILD)/icount -s $$s -e $$e -n 1000 >/dev/null; \
	  $(BENCH_BUILD)/icount_inline -s $$s -e $$e -n 1000 >/dev/null; done; done
	@set -e; for m in "-m poll" "-m sleep -w eventfd" "-m sleep -w futex -c 3 -b 8"; do \
	  for try in 1 2 3; do \
	    if $(BENCH_BUILD)/ringbench $$m -r 64 -W 5 -T 30 >/dev/null 2>$(BENCH_BUILD)/smoke.err; \
	    then break; fi; \
	    if ! grep -q 'no request completed in the measured window' $(BENCH_BUILD)/smoke.err \
	       || [ $$try = 3 ]; then cat $(BENCH_BUILD)/smoke.err; exit 1; fi; \
	    echo "test-bench-smoke: ringbench $$m starved by a busy machine, again"; \
	  done; done
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

.PHONY: bench-qemu-blk bench-qemu-blk-smode bench-qemu-gpu bench-qemu-net bench-uboot \
        bench-qemu-pci
bench-qemu-blk: | $(BENCH_RESULTS)
	$(BENCH_QEMU_PY) run --part blk --runs $(BENCH_QEMU_RUNS) \
	  --show seq_read,qd1,qd32,qd32_kicks_per_req --cmd '$(BENCH_SUBMAKE) demo-blk'
	@$(BENCH_STAMP) qemu_runs_blk.csv

# riscv64 S-mode under OpenSBI (the same demo, -DBOARD_SMODE), for the
# side-by-side platform table.
bench-qemu-blk-smode: | $(BENCH_RESULTS)
	$(BENCH_QEMU_PY) run --part blk-smode --runs $(BENCH_QEMU_RUNS) \
	  --show seq_read,qd1,qd32,qd32_kicks_per_req --cmd '$(BENCH_SUBMAKE) demo-blk-smode'
	@$(BENCH_STAMP) qemu_runs_blk-smode.csv

bench-qemu-gpu: | $(BENCH_RESULTS)
	$(BENCH_QEMU_PY) run --part gpu --runs $(BENCH_QEMU_RUNS) \
	  --show full_frame_fps,storm_flushes_per_s --cmd '$(BENCH_SUBMAKE) bench-gpu'
	@$(BENCH_STAMP) qemu_runs_gpu.csv

bench-qemu-net: | $(BENCH_RESULTS)
	$(BENCH_QEMU_PY) run --part net --runs $(BENCH_QEMU_RUNS) \
	  --show echo_pps,ping_rtt_avg_us --cmd '$(BENCH_SUBMAKE) demo-net'
	@$(BENCH_STAMP) qemu_runs_net.csv

# virtio-pci against virtio-mmio: the same ELFs and make targets, the device
# on PCI bus 0 instead of an mmio slot, alternating within every run (blk
# QD1/QD32 IOPS with kicks and interrupts per request, gpu flushes, net
# round trip); figures filed as <example>@mmio and <example>@pci.
BENCH_PCI_CMDS = $(foreach t,demo-blk bench-gpu demo-net,$(foreach tr,mmio pci,\
  --label $(tr) --cmd '$(BENCH_SUBMAKE) $(t) TRANSPORT=$(tr) RING=split'))
bench-qemu-pci: | $(BENCH_RESULTS)
	$(BENCH_QEMU_PY) run --part transport --runs $(BENCH_QEMU_RUNS) \
	  --show qd1,qd32,full_frame_fps,ping_rtt_avg_us $(BENCH_PCI_CMDS)
	@$(BENCH_STAMP) qemu_runs_transport.csv

# Same image (build/bench/qemu/disk.img, 128 MiB of random bytes, read once
# before every boot), the same QEMU line as `make demo-blk`; only -kernel
# differs.
bench-uboot: $(RV_BUILD)/blk_demo.elf | $(BENCH_RESULTS)
	$(BENCH_QEMU_PY) uboot --runs $(BENCH_QEMU_RUNS) --rounds $(BENCH_UBOOT_ROUNDS) \
	  --qemu "$(QEMU_RV)" --elf $(RV_BUILD)/blk_demo.elf --uboot $(BENCH_UBOOT_ELF) \
	  --image $(BENCH_BUILD)/qemu/disk.img
	@$(BENCH_STAMP) qemu_runs_uboot.csv

# The order `make bench` runs them in; the report comes last.
BENCH_TARGETS += bench-machine bench-icount bench-size bench-ring bench-chart \
                 bench-qemu-blk bench-qemu-blk-smode bench-qemu-gpu bench-qemu-net bench-qemu-pci \
                 bench-uboot bench-report

# ---- A dry run changes nothing (issue 16) ----------------------------------
# `make -n` of the aggregate targets and of every bench step must leave the
# tree as it was (tests/dryrun/check.sh compares every file before/after).
.PHONY: test-dry-run print-bench-targets
print-bench-targets:
	@echo $(BENCH_TARGETS)

test-dry-run:
	tests/dryrun/check.sh

TEST_TARGETS += test-dry-run
