# SPDX-License-Identifier: MIT
# AArch64 board for QEMU `virt` (examples/boards/qemu-virt-aarch64), the
# AArch64 platform shim (shims/aarch64) and the board-neutral programs
# (examples/*.c) built for it, with gcc and with clang.
#
#   make test-aarch64-shim      compile gate for shims/aarch64: gcc and clang,
#                               default / -mgeneral-regs-only / cache hooks /
#                               C11 atomics; no undefined symbol, I/O
#                               ordering, DAIF masking and wfi in the code
#   make test-aarch64-selftest  board + shim checks (MMU/FP/GIC/DTB, clock,
#                               alarm, cache hooks, MMIO accessors) and the
#                               ways a run ends: pass, fail (semihosting and
#                               PSCI), data abort, instruction abort
#   make test-aarch64-hello     hello (clock, alarm, scheduler, SGI, UART
#                               interrupt) on GICv2 and GICv3, gcc and clang
#   make test-aarch64-blk       blk_demo (spin, wfi and os phases) on GICv2
#                               and GICv3, legacy and modern, gcc and clang
#   make test-aarch64-gpu       gpu_demo screens (spin init, WFI drawing, OS
#                               storm) on GICv2 and GICv3, and a SPIN run
#   make test-aarch64-net       net_demo (user network) and net_peer (frame-
#                               exact echo) on GICv2 and GICv3
#   make demo ARCH=aarch64      the demo-aarch64-* targets, output shown
#   A64_GIC=2|3                 GIC version for the demo targets (default 2)
#
# Reusable:
#   A64_CC A64_CFLAGS A64_LDFLAGS      gcc (aarch64-linux-gnu) + picolibc
#   A64_CLANG A64_CLANG_CFLAGS ...     clang --target=aarch64-none-elf + lld
#   $(call a64_program,NAME,SRCS[,EXTRA_CFLAGS][,EXTRA_DEPS])
#       rules for $(A64_BUILD)/NAME.elf (gcc) and NAME-clang.elf (clang)
#   QEMU_A64_GIC2 QEMU_A64_GIC3        base QEMU command lines (add -kernel)
#
# FP/SIMD: start-up enables it (CPACR_EL1.FPEN) and the context frame saves
# q0-q31/FPCR/FPSR, rather than -mgeneral-regs-only: picolibc's Debian build
# uses FP registers (printf, memcpy), and clang uses SIMD for integer work
# (the popcount in virtq_dev_queue_setup), so a general-regs-only program
# would still trap inside the C library.

ifndef A64_MK_INCLUDED
A64_MK_INCLUDED := 1

DEPS_PKGS += gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu \
             picolibc-aarch64-linux-gnu qemu-system-arm clang lld

A64_DIR := examples/boards/qemu-virt-aarch64
A64_SHIM := shims/aarch64
A64_COMMON := examples/boards/common
A64_BUILD := $(BUILD)/aarch64
A64_CC := aarch64-linux-gnu-gcc
A64_WARN := -std=c99 -O2 -g -Wall -Wextra -Werror -fno-common \
            -ffunction-sections -fdata-sections
A64_INC := -I$(A64_DIR) -I$(A64_SHIM) -Iexamples/boards -I$(A64_COMMON) \
           -Iexamples -I.
# -mno-outline-atomics: the Linux-targeted gcc would call libgcc helpers
# that probe HWCAP through getauxval(), which bare metal does not have.
A64_CFLAGS := --specs=picolibc.specs -mcpu=cortex-a72 -mno-outline-atomics \
              -fno-pie $(A64_WARN) $(A64_INC)
A64_LDFLAGS := -nostartfiles -no-pie -static -T $(A64_DIR)/link.ld -Wl,--gc-sections
A64_PICOLIBC := /usr/lib/picolibc/aarch64-linux-gnu
A64_CLANG := clang --target=aarch64-none-elf
A64_CLANG_CFLAGS := -mcpu=cortex-a72 -isystem $(A64_PICOLIBC)/include \
                    -ftls-model=local-exec $(A64_WARN) $(A64_INC)
# clang links with lld against picolibc and the cross gcc's libgcc.a (no
# compiler-rt for aarch64 in Debian's clang).
A64_CLANG_LDFLAGS = -fuse-ld=lld -nostdlib -static -T $(A64_DIR)/link.ld \
                    -Wl,--gc-sections -L$(A64_PICOLIBC)/lib -lc \
                    $(shell $(A64_CC) -print-libgcc-file-name 2>/dev/null)
A64_BOARD_SRCS := $(A64_DIR)/start.S $(A64_DIR)/vectors.S $(A64_DIR)/board.c \
                  $(A64_DIR)/gic.c $(A64_DIR)/mmu.c \
                  $(A64_COMMON)/board_common.c $(A64_COMMON)/board_timer.c \
                  $(A64_COMMON)/sched.c
A64_BOARD_DEPS := $(A64_BOARD_SRCS) $(A64_DIR)/board.h $(A64_DIR)/gic.h \
                  $(A64_DIR)/virtq_board.h $(A64_DIR)/link.ld \
                  $(A64_SHIM)/virtq_aarch64.h $(A64_COMMON)/sched.h \
                  $(A64_COMMON)/board_timer.h $(A64_COMMON)/board_virtio.h \
                  examples/boards/board_api.h

ARCHS += aarch64
A64_GIC ?= 2
, := ,
# -nic none: otherwise virt adds a virtio-net-pci (and wants its option ROM).
# Semihosting carries the exit status (board_exit); without it the board
# falls back to PSCI SYSTEM_OFF and QEMU exits 0.
QEMU_A64 := qemu-system-aarch64 -cpu cortex-a72 -nographic -m 128M \
            -no-reboot -nic none -semihosting-config enable=on,target=native
QEMU_A64_GIC2 := $(QEMU_A64) -M virt,gic-version=2
QEMU_A64_GIC3 := $(QEMU_A64) -M virt,gic-version=3
QEMU_A64_GIC = $(QEMU_A64_GIC$(A64_GIC))
A64_TAGS2 := --tag arch=aarch64 --tag gic=2
A64_TAGS3 := --tag arch=aarch64 --tag gic=3
BOOT_PY ?= tests/qemu/boot.py
REPEAT ?= 1
TIMEOUT ?= 30

$(A64_BUILD):
	@mkdir -p $@

# $(call a64_program,NAME,SRCS,EXTRA_CFLAGS,EXTRA_DEPS)
define a64_program
$$(A64_BUILD)/$(1).elf: $(2) $$(A64_BOARD_DEPS) $(4) $$(wildcard virtq.h) | $$(A64_BUILD)
	$$(A64_CC) $$(A64_CFLAGS) $(3) -o $$@ $(2) $$(A64_BOARD_SRCS) $$(A64_LDFLAGS) \
	  -Wl,-Map,$$(A64_BUILD)/$(1).map
$$(A64_BUILD)/$(1)-clang.elf: $(2) $$(A64_BOARD_DEPS) $(4) $$(wildcard virtq.h) | $$(A64_BUILD)
	$$(A64_CLANG) $$(A64_CLANG_CFLAGS) $(3) -o $$@ $(2) $$(A64_BOARD_SRCS) \
	  $$(A64_CLANG_LDFLAGS)
endef

# $(call a64_boot,NAME,ELF,QEMU_BASE,EXTRA_QEMU_ARGS,EXTRA_BOOT_ARGS)
a64_boot = $(PYTHON) $(BOOT_PY) --name $(1) --timeout $(TIMEOUT) \
  --repeat $(REPEAT) --log $(A64_BUILD)/$(1).log $(if $(TEE),--tee) $(5) \
  -- $(3) $(4) -kernel $(2)

# ---- shim compile gate ---------------------------------------------------
.PHONY: test-aarch64-shim
test-aarch64-shim:
	$(PYTHON) tests/aarch64/shim_gate.py --build $(A64_BUILD)/shim_gate

# ---- board selftest -------------------------------------------------------
$(foreach m,0 1 2 3,$(eval $(call a64_program,selftest-$(m),$(A64_DIR)/selftest.c,-DSELFTEST_MODE=$(m))))
A64_SELFTEST_ELFS := $(foreach m,0 1 2 3,$(A64_BUILD)/selftest-$(m).elf)

.PHONY: test-aarch64-selftest
test-aarch64-selftest: $(A64_SELFTEST_ELFS)
	$(PYTHON) tests/aarch64/a64_selftest.py --elf-dir $(A64_BUILD) \
	  --qemu "$(QEMU_A64_GIC2)" --tag arch=aarch64 --tag gic=2
	$(PYTHON) tests/aarch64/a64_selftest.py --elf-dir $(A64_BUILD) \
	  --qemu "$(QEMU_A64_GIC3)" --tag arch=aarch64 --tag gic=3

# ---- hello ------------------------------------------------------------------
$(eval $(call a64_program,hello,examples/hello.c))

# Two cores (the second must park), one virtio-rng for the slot scan (QEMU
# puts the first -device in the highest slot, 31).
A64_HELLO_QEMU := -smp 2 -device virtio-rng-device
A64_HELLO_EXPECT := --tag transport=mmio --tag ring=none \
  --expect '^virtio-mmio slot 31 @0x0a003e00 irq 79: version [12] device 4 \(rng\)' \
  --expect '^FIGURE hello virtio_devices=1 count$$' \
  --expect '^FIGURE hello pingpong_rounds=50 count$$' \
  --expect '^FIGURE hello uart_irqs=20 count$$'

.PHONY: test-aarch64-hello demo-aarch64-hello
test-aarch64-hello: $(A64_BUILD)/hello.elf $(A64_BUILD)/hello-clang.elf
	$(call a64_boot,hello,$(A64_BUILD)/hello.elf,$(QEMU_A64_GIC2),$(A64_HELLO_QEMU),$(A64_TAGS2) $(A64_HELLO_EXPECT))
	$(call a64_boot,hello,$(A64_BUILD)/hello.elf,$(QEMU_A64_GIC3),$(A64_HELLO_QEMU),$(A64_TAGS3) $(A64_HELLO_EXPECT))
	$(call a64_boot,hello,$(A64_BUILD)/hello-clang.elf,$(QEMU_A64_GIC3),$(A64_HELLO_QEMU),$(A64_TAGS3) $(A64_HELLO_EXPECT))

demo-aarch64-hello: $(A64_BUILD)/hello.elf
	@echo "demo-aarch64-hello: the aarch64 board on its own (GICv$(A64_GIC)):" \
	  "clock, alarm, scheduler, interrupts; the device demos follow"
	$(call a64_boot,hello,$<,$(QEMU_A64_GIC),$(A64_HELLO_QEMU),--tag arch=aarch64 --tag gic=$(A64_GIC) --tee)

TEST_TARGETS += test-aarch64-shim test-aarch64-selftest test-aarch64-hello
DEMO_TARGETS_aarch64 += demo-aarch64-hello

# ---- blk_demo ---------------------------------------------------------------
A64_VIRTQ_CFLAGS := -DVIRTQ_CONFIG_FILE='"virtq_board.h"'
A64_BLK_SRCS := examples/blk_demo.c examples/drivers/virtio_blk.c
A64_BLK_DEPS := examples/drivers/virtio_blk.h
$(eval $(call a64_program,blk_demo,$(A64_BLK_SRCS),$(A64_VIRTQ_CFLAGS),$(A64_BLK_DEPS)))
$(eval $(call a64_program,blk_demo_quick,$(A64_BLK_SRCS),$(A64_VIRTQ_CFLAGS) -DBLK_DEMO_QUICK=1,$(A64_BLK_DEPS)))
# The shim's other flavours: cache maintenance on every buffer handed to the
# device (dc cvac / civac; QEMU is coherent, so this proves the hooks run in
# the hot path without faulting, not that they are needed), and the C11
# atomics barrier flavour (the shim's MMIO accessors, DAIF masking and wfi
# must stay in force with it).
$(eval $(call a64_program,blk_demo_noncoh,$(A64_BLK_SRCS),$(A64_VIRTQ_CFLAGS) -DBLK_DEMO_QUICK=1 -DVIRTQ_AARCH64_DMA_NONCOHERENT=1,$(A64_BLK_DEPS)))
$(eval $(call a64_program,blk_demo_atomics,$(A64_BLK_SRCS),$(A64_VIRTQ_CFLAGS) -DBLK_DEMO_QUICK=1 -DVIRTQ_USE_ATOMICS=1,$(A64_BLK_DEPS)))

A64_BLK_PY = $(PYTHON) tests/blk/qemu_blk.py --timeout $(or $(BLK_TIMEOUT),60) \
  --build $(A64_BUILD)/blk $(if $(TEE),--tee)

.PHONY: test-aarch64-blk demo-aarch64-blk
# Each boot runs all three wait strategies (spin init, wfi measurements,
# os under the scheduler).  GICv2: legacy and modern; GICv3: modern, and
# the clang build; the packed ring (RESULT ring=packed) on GICv2.
test-aarch64-blk: $(A64_BUILD)/blk_demo_quick.elf $(A64_BUILD)/blk_demo_quick-clang.elf \
  $(A64_BUILD)/blk_demo_noncoh.elf $(A64_BUILD)/blk_demo_atomics.elf
	$(A64_BLK_PY) --qemu "$(QEMU_A64_GIC2)" $(A64_TAGS2) --elf $(A64_BUILD)/blk_demo_quick.elf \
	  --config legacy-ev1-in1 --config modern-ev0-in0
	$(A64_BLK_PY) --qemu "$(QEMU_A64_GIC3)" $(A64_TAGS3) --elf $(A64_BUILD)/blk_demo_quick.elf \
	  --config modern-ev1-in1
	$(A64_BLK_PY) --qemu "$(QEMU_A64_GIC3)" $(A64_TAGS3) --elf $(A64_BUILD)/blk_demo_quick-clang.elf \
	  --config legacy-ev0-in1
	$(A64_BLK_PY) --qemu "$(QEMU_A64_GIC2)" $(A64_TAGS2) --elf $(A64_BUILD)/blk_demo_noncoh.elf \
	  --config modern-ev1-in1
	$(A64_BLK_PY) --qemu "$(QEMU_A64_GIC3)" $(A64_TAGS3) --elf $(A64_BUILD)/blk_demo_atomics.elf \
	  --config modern-ev0-in1
	$(A64_BLK_PY) --qemu "$(QEMU_A64_GIC2)" $(A64_TAGS2) --ring packed \
	  --elf $(A64_BUILD)/blk_demo_quick.elf --config modern-ev1-in1

demo-aarch64-blk: $(A64_BUILD)/blk_demo.elf
	$(A64_BLK_PY) --qemu "$(QEMU_A64_GIC)" --tag arch=aarch64 --tag gic=$(A64_GIC) \
	  --transport $(TRANSPORT) --ring $(RING) --elf $< --config demo --tee

TEST_TARGETS += test-aarch64-blk
DEMO_TARGETS_aarch64 += demo-aarch64-blk

# ---- gpu_demo -----------------------------------------------------------------
$(eval $(call a64_program,gpu_demo,examples/gpu_demo.c examples/drivers/virtio_gpu.c,$(A64_VIRTQ_CFLAGS),examples/drivers/virtio_gpu.h))

A64_GPU_PY = $(PYTHON) tests/gpu/gpu_qemu.py --ram-base 0x40000000 \
  --out $(A64_BUILD)/gpu $(if $(TEE),--tee)

.PHONY: test-aarch64-gpu demo-aarch64-gpu
# A default run inits with spin, draws with WFI and runs the storm under
# the scheduler (OS); the screens are checked pixel by pixel.  --mode SPIN
# keeps spinning after init, --mode OS blocks for everything after init
# (clang build).
test-aarch64-gpu: $(A64_BUILD)/gpu_demo.elf $(A64_BUILD)/gpu_demo-clang.elf
	$(A64_GPU_PY) --elf $(A64_BUILD)/gpu_demo.elf --qemu "$(QEMU_A64_GIC2)" $(A64_TAGS2) \
	  shot --res 800x600
	$(A64_GPU_PY) --elf $(A64_BUILD)/gpu_demo.elf --qemu "$(QEMU_A64_GIC3)" $(A64_TAGS3) \
	  shot --res 1024x768 --modern
	$(A64_GPU_PY) --elf $(A64_BUILD)/gpu_demo.elf --qemu "$(QEMU_A64_GIC3)" $(A64_TAGS3) \
	  shot --res 640x480 --mode SPIN
	$(A64_GPU_PY) --elf $(A64_BUILD)/gpu_demo-clang.elf --qemu "$(QEMU_A64_GIC2)" $(A64_TAGS2) \
	  shot --res 640x480 --modern --mode OS
	$(A64_GPU_PY) --elf $(A64_BUILD)/gpu_demo.elf --qemu "$(QEMU_A64_GIC3)" $(A64_TAGS3) \
	  --ring packed shot --res 640x480 --modern

demo-aarch64-gpu: $(A64_BUILD)/gpu_demo.elf
	$(A64_GPU_PY) --elf $< --qemu "$(QEMU_A64_GIC)" --tag arch=aarch64 --tag gic=$(A64_GIC) \
	  --transport $(TRANSPORT) --ring $(RING) demo

TEST_TARGETS += test-aarch64-gpu
DEMO_TARGETS_aarch64 += demo-aarch64-gpu

# ---- net_demo -----------------------------------------------------------------
A64_NET_SRCS := examples/net_demo.c examples/net_stack.c examples/drivers/virtio_net.c
A64_NET_DEPS := examples/net_stack.h examples/drivers/virtio_net.h
$(eval $(call a64_program,net_demo,$(A64_NET_SRCS),-Iexamples/drivers $(A64_VIRTQ_CFLAGS),$(A64_NET_DEPS)))
$(eval $(call a64_program,net_peer,$(A64_NET_SRCS),-Iexamples/drivers $(A64_VIRTQ_CFLAGS) -DNET_DEMO_PEER=1,$(A64_NET_DEPS)))
# The same runs in a task under the scheduler, waits blocking (OS strategy).
$(eval $(call a64_program,net_demo_os,$(A64_NET_SRCS),-Iexamples/drivers $(A64_VIRTQ_CFLAGS) -DNET_DEMO_OS=1,$(A64_NET_DEPS)))
$(eval $(call a64_program,net_peer_os,$(A64_NET_SRCS),-Iexamples/drivers $(A64_VIRTQ_CFLAGS) -DNET_DEMO_PEER=1 -DNET_DEMO_OS=1,$(A64_NET_DEPS)))

A64_NET_PY = $(PYTHON) tests/net/net_qemu.py --timeout $(or $(NET_TIMEOUT),60) \
  --log-dir $(A64_BUILD)/net $(if $(TEE),--tee)

.PHONY: test-aarch64-net demo-aarch64-net
# Spin during init, then WFI (net_demo, net_peer) or OS blocking under the
# scheduler (*_os), each on both GIC versions; the last one built by clang.
test-aarch64-net: $(A64_BUILD)/net_demo.elf $(A64_BUILD)/net_peer.elf \
  $(A64_BUILD)/net_demo_os.elf $(A64_BUILD)/net_peer_os-clang.elf
	$(A64_NET_PY) user --qemu "$(QEMU_A64_GIC2)" $(A64_TAGS2) --elf $(A64_BUILD)/net_demo.elf \
	  --configs modern-mrg
	$(A64_NET_PY) peer --qemu "$(QEMU_A64_GIC3)" $(A64_TAGS3) --elf $(A64_BUILD)/net_peer.elf \
	  --configs legacy-mrg
	$(A64_NET_PY) user --qemu "$(QEMU_A64_GIC3)" $(A64_TAGS3) --elf $(A64_BUILD)/net_demo_os.elf \
	  --configs legacy-nomrg --expect '^FIGURE net_demo os_waits=[1-9][0-9]* count$$'
	$(A64_NET_PY) peer --qemu "$(QEMU_A64_GIC2)" $(A64_TAGS2) --elf $(A64_BUILD)/net_peer_os-clang.elf \
	  --configs modern-nomrg --expect '^FIGURE net_peer os_waits=[1-9][0-9]* count$$'
	$(A64_NET_PY) peer --qemu "$(QEMU_A64_GIC3)" $(A64_TAGS3) --ring packed \
	  --elf $(A64_BUILD)/net_peer.elf --configs modern-mrg

demo-aarch64-net: $(A64_BUILD)/net_demo.elf $(A64_BUILD)/net_peer.elf
	$(A64_NET_PY) user --qemu "$(QEMU_A64_GIC)" --tag arch=aarch64 --tag gic=$(A64_GIC) \
	  --transport $(TRANSPORT) --ring $(RING) --elf $(A64_BUILD)/net_demo.elf --configs modern-mrg --tee
	$(A64_NET_PY) peer --qemu "$(QEMU_A64_GIC)" --tag arch=aarch64 --tag gic=$(A64_GIC) \
	  --transport $(TRANSPORT) --ring $(RING) --elf $(A64_BUILD)/net_peer.elf --configs modern-mrg --tee

TEST_TARGETS += test-aarch64-net
DEMO_TARGETS_aarch64 += demo-aarch64-net

# ---- the demos over virtio-pci --------------------------------------------------
# The same ELFs as over virtio-mmio: board_virtio_find() scans ECAM bus 0
# (0x40_1000_0000), board_virtio_probe() assigns BARs from the 32-bit window
# (0x1000_0000..0x3eff_0000), INTx is GIC SPI 3..6 (level, swizzled).  Each
# wait strategy on each GIC: blk boots run spin, wfi and os; gpu's shot
# draws with WFI and storms under OS (--mode SPIN: spin throughout); net
# spins then WFI, net_demo_os blocks (OS).  "legacy" = QEMU's transitional
# function (1af4:1001...), "modern" = disable-legacy=on (1af4:1042...).
.PHONY: test-aarch64-pci
test-aarch64-pci: $(A64_BUILD)/blk_demo_quick.elf $(A64_BUILD)/gpu_demo.elf \
  $(A64_BUILD)/net_demo.elf $(A64_BUILD)/net_peer.elf $(A64_BUILD)/net_demo_os.elf \
  $(A64_BUILD)/net_peer_os-clang.elf
	$(A64_BLK_PY) --qemu "$(QEMU_A64_GIC2)" $(A64_TAGS2) --transport pci \
	  --elf $(A64_BUILD)/blk_demo_quick.elf --config legacy-ev1-in1
	$(A64_BLK_PY) --qemu "$(QEMU_A64_GIC3)" $(A64_TAGS3) --transport pci --ring packed \
	  --elf $(A64_BUILD)/blk_demo_quick.elf --config modern-ev0-in0
	$(A64_GPU_PY) --elf $(A64_BUILD)/gpu_demo.elf --qemu "$(QEMU_A64_GIC3)" $(A64_TAGS3) \
	  --transport pci shot --res 800x600
	$(A64_GPU_PY) --elf $(A64_BUILD)/gpu_demo.elf --qemu "$(QEMU_A64_GIC2)" $(A64_TAGS2) \
	  --transport pci shot --res 640x480
	$(A64_GPU_PY) --elf $(A64_BUILD)/gpu_demo.elf --qemu "$(QEMU_A64_GIC2)" $(A64_TAGS2) \
	  --transport pci shot --res 640x480 --mode SPIN
	$(A64_NET_PY) user --qemu "$(QEMU_A64_GIC2)" $(A64_TAGS2) --transport pci \
	  --elf $(A64_BUILD)/net_demo.elf --configs modern-mrg --second-nic
	$(A64_NET_PY) peer --qemu "$(QEMU_A64_GIC3)" $(A64_TAGS3) --transport pci \
	  --elf $(A64_BUILD)/net_peer.elf --configs legacy-nomrg
	$(A64_NET_PY) user --qemu "$(QEMU_A64_GIC3)" $(A64_TAGS3) --transport pci \
	  --elf $(A64_BUILD)/net_demo_os.elf --configs legacy-mrg \
	  --expect '^FIGURE net_demo os_waits=[1-9][0-9]* count$$'
	$(A64_NET_PY) peer --qemu "$(QEMU_A64_GIC2)" $(A64_TAGS2) --transport pci \
	  --elf $(A64_BUILD)/net_peer_os-clang.elf --configs modern-nomrg \
	  --expect '^FIGURE net_peer os_waits=[1-9][0-9]* count$$'

TEST_TARGETS += test-aarch64-pci

# ---- figures for `make bench` ------------------------------------------------
# The aarch64 side of the in-QEMU figures: the same examples, the same
# bench/qemu_figures.py, parts aarch64-blk/-gpu/-net (qemu_runs_aarch64-*.csv,
# rows in qemu_figures.csv beside the riscv64 ones).  GICv2 unless A64_GIC=3.
# BENCH_* come from mk/bench.mk (included after this file; expanded when the
# recipes run).  This file sorts before bench.mk, so these steps come before
# its bench-report in BENCH_TARGETS.
.PHONY: bench-aarch64-gpu bench-qemu-aarch64-blk bench-qemu-aarch64-gpu bench-qemu-aarch64-net
bench-aarch64-gpu: $(A64_BUILD)/gpu_demo.elf
	$(A64_GPU_PY) --elf $< --qemu "$(QEMU_A64_GIC)" --tag arch=aarch64 --tag gic=$(A64_GIC) bench

bench-qemu-aarch64-blk:
	@mkdir -p $(BENCH_RESULTS)
	$(BENCH_QEMU_PY) run --part aarch64-blk --runs $(BENCH_QEMU_RUNS) \
	  --show seq_read,qd1,qd32,qd32_kicks_per_req --cmd '$(BENCH_SUBMAKE) demo-aarch64-blk'
	@$(BENCH_STAMP) qemu_runs_aarch64-blk.csv

bench-qemu-aarch64-gpu:
	@mkdir -p $(BENCH_RESULTS)
	$(BENCH_QEMU_PY) run --part aarch64-gpu --runs $(BENCH_QEMU_RUNS) \
	  --show full_frame_fps,storm_flushes_per_s --cmd '$(BENCH_SUBMAKE) bench-aarch64-gpu'
	@$(BENCH_STAMP) qemu_runs_aarch64-gpu.csv

bench-qemu-aarch64-net:
	@mkdir -p $(BENCH_RESULTS)
	$(BENCH_QEMU_PY) run --part aarch64-net --runs $(BENCH_QEMU_RUNS) \
	  --show echo_pps,ping_rtt_avg_us --cmd '$(BENCH_SUBMAKE) demo-aarch64-net'
	@$(BENCH_STAMP) qemu_runs_aarch64-net.csv

BENCH_TARGETS += bench-qemu-aarch64-blk bench-qemu-aarch64-gpu bench-qemu-aarch64-net

endif # A64_MK_INCLUDED
