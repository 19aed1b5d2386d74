# SPDX-License-Identifier: MIT
# RISC-V board for QEMU `virt` (examples/boards/qemu-virt-riscv64), the
# board-neutral programs built for it (examples/*.c) and the QEMU boot harness.
#
# Reusable by later fragments (blk, gpu, net):
#   RV_CC RV_CFLAGS RV_LDFLAGS   toolchain and flags (rv64gc, medany, picolibc)
#   RV_BOARD_SRCS                start-up, trap entry, board, common board
#                                code (examples/boards/common) and scheduler
#   RV_BUILD                     $(BUILD)/riscv
#   QEMU_RV                      base QEMU command line (append -kernel ELF)
#   BOOT_PY                      the boot harness (tests/qemu/boot.py)
#   $(call rv_program,NAME,SRCS[,EXTRA_CFLAGS][,EXTRA_DEPS])
#                                rule for $(RV_BUILD)/NAME.elf; use via $(eval)
#   $(call rv_boot,NAME,ELF[,EXTRA_QEMU_ARGS][,EXTRA_BOOT_ARGS])
#                                command that boots ELF under the harness
#   REPEAT=N TIMEOUT=S TEE=1     harness knobs on the make command line
#
# Tests: test-riscv-hello (rv64, the one we run) and test-riscv-hello-rv32.
#
# The top-level Makefile includes fragments in name order, so blk.mk or
# gpu.mk would come before this file: start such a fragment with
#   include mk/riscv.mk
# (the guard below makes the top-level include of it a no-op), or name it so
# it sorts after this one (mk/riscv-blk.mk).
#
# Example fragment:
#   $(eval $(call rv_program,blk,examples/blk.c examples/drivers/blk.c))
#   test-riscv-blk: $(RV_BUILD)/blk.elf
#   	$(call rv_boot,blk,$<,-drive ... -device virtio-blk-device,...)

ifndef RV_MK_INCLUDED
RV_MK_INCLUDED := 1

DEPS_PKGS += gcc-riscv64-unknown-elf binutils-riscv64-unknown-elf \
             picolibc-riscv64-unknown-elf qemu-system-misc

RV_DIR := examples/boards/qemu-virt-riscv64
BOARDS_COMMON := examples/boards/common
RV_BUILD := $(BUILD)/riscv
RV_CC := riscv64-unknown-elf-gcc
RV_ARCH := -march=rv64gc -mabi=lp64d -mcmodel=medany
RV_CFLAGS := $(RV_ARCH) --specs=picolibc.specs -std=c99 -O2 -g \
             -Wall -Wextra -Werror -fno-common -ffunction-sections \
             -fdata-sections -I$(RV_DIR) -Iexamples/boards -I$(BOARDS_COMMON) \
             -Iexamples -I.
# Link with $(RV_CC) $(RV_CFLAGS) ... $(RV_LDFLAGS): the arch and picolibc
# specs come from RV_CFLAGS (gcc rejects --specs=picolibc.specs twice).
RV_LDFLAGS := -nostartfiles -L$(RV_DIR) -T $(RV_DIR)/link.ld -Wl,--gc-sections
RV_BOARD_SRCS := $(RV_DIR)/start.S $(RV_DIR)/trap.S $(RV_DIR)/board.c \
                 $(BOARDS_COMMON)/board_common.c $(BOARDS_COMMON)/board_timer.c \
                 $(BOARDS_COMMON)/sched.c
RV_BOARD_DEPS := $(RV_BOARD_SRCS) $(RV_DIR)/board.h $(BOARDS_COMMON)/sched.h \
                 $(BOARDS_COMMON)/board_timer.h $(BOARDS_COMMON)/board_virtio.h \
                 examples/boards/board_api.h $(RV_DIR)/virtq_board.h $(RV_DIR)/link.ld \
                 $(RV_DIR)/link-sections.ld $(RV_DIR)/link-smode.ld \
                 shims/riscv/virtq_riscv.h

ARCHS += riscv64
# RESULT tags every riscv64 M-mode boot must report (boot.py --tag), and the
# transport/ring a `make demo` asks for (TRANSPORT=, RING=).
RV_TAGS := --tag arch=riscv64 --tag mode=m
RV_MATRIX = --transport $(TRANSPORT) --ring $(RING)

QEMU_RV := qemu-system-riscv64 -machine virt -bios none -nographic \
           -m 128M -no-reboot
BOOT_PY := tests/qemu/boot.py
REPEAT ?= 1
TIMEOUT ?= 30
TEE ?=

$(RV_BUILD):
	@mkdir -p $@

# $(call rv_program,NAME,SRCS,EXTRA_CFLAGS,EXTRA_DEPS): one compile-and-link
# of the program's sources with the board sources (they are small; building
# them per program lets a program's flags reach the board too).
define rv_program
$$(RV_BUILD)/$(1).elf: $(2) $$(RV_BOARD_DEPS) $(4) $$(wildcard virtq.h) | $$(RV_BUILD)
	$$(RV_CC) $$(RV_CFLAGS) $(3) -o $$@ $(2) $$(RV_BOARD_SRCS) $$(RV_LDFLAGS) \
	  -Wl,-Map,$$(RV_BUILD)/$(1).map
endef

# S-mode: the same board sources built with -DBOARD_SMODE (trap CSRs s*, SBI
# timer, PLIC context 1, ebreak for the switch trap), linked at 0x80200000,
# booted under QEMU's OpenSBI (-bios default).
# $(call rvs_program,NAME,SRCS,EXTRA_CFLAGS,EXTRA_DEPS) -> $(RV_BUILD)/NAME-smode.elf
RVS_LDFLAGS := -nostartfiles -L$(RV_DIR) -T $(RV_DIR)/link-smode.ld -Wl,--gc-sections
QEMU_RVS := qemu-system-riscv64 -machine virt -bios default -nographic \
            -m 128M -no-reboot
RVS_TAGS := --tag arch=riscv64 --tag mode=s
DEPS_PKGS += opensbi
define rvs_program
$$(RV_BUILD)/$(1)-smode.elf: $(2) $$(RV_BOARD_DEPS) $(4) $$(wildcard virtq.h) | $$(RV_BUILD)
	$$(RV_CC) $$(RV_CFLAGS) -DBOARD_SMODE=1 $(3) -o $$@ $(2) $$(RV_BOARD_SRCS) $$(RVS_LDFLAGS) \
	  -Wl,-Map,$$(RV_BUILD)/$(1)-smode.map
endef

# $(call rv_boot,NAME,ELF,EXTRA_QEMU_ARGS,EXTRA_BOOT_ARGS)
rv_boot = $(PYTHON) $(BOOT_PY) --name $(1) --timeout $(TIMEOUT) \
  --repeat $(REPEAT) --log $(RV_BUILD)/$(1).log $(if $(TEE),--tee) $(4) \
  -- $(QEMU_RV) $(3) -kernel $(2)

$(eval $(call rv_program,hello,examples/hello.c))
$(eval $(call rvs_program,hello,examples/hello.c))

# hello: two harts (the second must park), one virtio-rng so the slot scan
# has something to find.
RV_HELLO_QEMU := -smp 2 -device virtio-rng-device
RV_HELLO_EXPECT := $(RV_TAGS) --tag transport=mmio --tag ring=none \
  --expect '^virtio-mmio slot [0-7] @0x1000[1-8]000 irq [1-8]: version [12] device 4 \(rng\)' \
  --expect '^FIGURE hello virtio_devices=1 count$$' \
  --expect '^FIGURE hello pingpong_rounds=50 count$$' \
  --expect '^FIGURE hello uart_irqs=20 count$$'

.PHONY: test-riscv-hello demo-riscv-hello test-riscv-hello-smode
test-riscv-hello: $(RV_BUILD)/hello.elf
	$(call rv_boot,hello,$<,$(RV_HELLO_QEMU),$(RV_HELLO_EXPECT))

# The board in S-mode under OpenSBI: the same checks (one hart: OpenSBI
# starts only the boot hart; the M-mode run covers the parking of others).
test-riscv-hello-smode: $(RV_BUILD)/hello-smode.elf
	$(PYTHON) $(BOOT_PY) --name hello --timeout $(TIMEOUT) --repeat $(REPEAT) \
	  --log $(RV_BUILD)/hello-smode.log $(if $(TEE),--tee) \
	  $(subst mode=m,mode=s,$(RV_HELLO_EXPECT)) \
	  -- $(QEMU_RVS) -device virtio-rng-device -kernel $<

# make demo starts here: the board alone, before any virtio driver runs
# (clock, alarm-bounded wfi, scheduler, interrupt controller, software
# interrupt), so a broken board shows up as such and not as a driver bug.
demo-riscv-hello: $(RV_BUILD)/hello.elf
	@echo "demo-riscv-hello: the riscv64 board on its own (no virtio driver):" \
	  "clock, alarm, scheduler, interrupts; the device demos follow"
	$(call rv_boot,hello,$<,$(RV_HELLO_QEMU),$(RV_TAGS) --tee)

# rv32 keeps the board code honest about xlen (64-bit mtimecmp and rdtime
# halves, frame layout): the same program built rv32gc on qemu-system-riscv32.
RV32_ARCH := -march=rv32gc -mabi=ilp32d -mcmodel=medany
RV32_CFLAGS := $(RV32_ARCH) $(filter-out $(RV_ARCH),$(RV_CFLAGS))
QEMU_RV32 := $(subst qemu-system-riscv64,qemu-system-riscv32,$(QEMU_RV))

$(RV_BUILD)/hello-rv32.elf: examples/hello.c $(RV_BOARD_DEPS) | $(RV_BUILD)
	$(RV_CC) $(RV32_CFLAGS) -o $@ examples/hello.c $(RV_BOARD_SRCS) $(RV_LDFLAGS)

.PHONY: test-riscv-hello-rv32
test-riscv-hello-rv32: $(RV_BUILD)/hello-rv32.elf
	$(PYTHON) $(BOOT_PY) --name hello --timeout $(TIMEOUT) --repeat $(REPEAT) \
	  --log $(RV_BUILD)/hello-rv32.log $(if $(TEE),--tee) \
	  $(subst arch=riscv64,arch=riscv32,$(RV_HELLO_EXPECT)) \
	  -- $(QEMU_RV32) $(RV_HELLO_QEMU) -kernel $<

TEST_TARGETS += test-riscv-hello test-riscv-hello-rv32 test-riscv-hello-smode
DEMO_TARGETS_riscv64 += demo-riscv-hello

endif # RV_MK_INCLUDED
