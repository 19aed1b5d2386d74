# SPDX-License-Identifier: MIT
# The AArch64 bootloader (examples/bootloader): its portable parts tested on
# the host, the GPT fuzz target, the payload (Debian's arm64 kernel, an
# initramfs, GPT disks) and the board program booted in QEMU.
#
#   make test-bootloader-host  (TEST_TARGETS) cmocka tests of the GPT
#                              reader, Image check, placement, FDT editor
#                              and loader; end to end against the fake blk
#                              device with good and hostile disks
#   make test-bootloader-fuzz  (TEST_TARGETS) fuzz_gpt and fuzz_fdt for
#                              BL_FUZZ_TEST_SECONDS (15) s each
#   make fuzz-bootloader       (FUZZ_TARGETS) the same for FUZZ_SECONDS (600)

ifndef BL_MK_INCLUDED
BL_MK_INCLUDED := 1

DEPS_PKGS += libcmocka-dev libfdt-dev
-include mk/fake.mk

BL_DIR := examples/bootloader
BL_BUILD := $(BUILD)/bootloader
BL_PORTABLE_SRCS := $(BL_DIR)/bl_common.c $(BL_DIR)/crc32.c $(BL_DIR)/gpt.c \
                    $(BL_DIR)/arm64_image.c $(BL_DIR)/place.c $(BL_DIR)/fdt_chosen.c
BL_LOAD_SRCS := $(BL_DIR)/load.c $(BL_DIR)/boot.c
BL_HDRS := $(wildcard $(BL_DIR)/*.h) examples/drivers/virtio_blk.h
BL_FUZZ_TEST_SECONDS ?= 15
DEPS_PKGS += clang-14 libclang-rt-14-dev

.PHONY: test-bootloader-host test-bootloader-fuzz fuzz-bootloader
TEST_TARGETS += test-bootloader-host test-bootloader-fuzz
FUZZ_TARGETS += fuzz-bootloader

# ---- host tests against the fake device ---------------------------------
ifdef FAKE_LIB
$(BL_BUILD)/test_bootloader: tests/bootloader/test_bootloader.c tests/bootloader/disk_build.h \
    $(BL_PORTABLE_SRCS) $(BL_LOAD_SRCS) $(BL_HDRS) examples/drivers/virtio_blk.c $(FAKE_LIB)
	@mkdir -p $(@D)
	$(FAKE_CC) $(FAKE_CFLAGS) $(FAKE_INC) tests/bootloader/test_bootloader.c \
	  $(BL_PORTABLE_SRCS) $(BL_LOAD_SRCS) examples/drivers/virtio_blk.c \
	  $(FAKE_LDLIBS) -lfdt -o $@

test-bootloader-host: $(BL_BUILD)/test_bootloader
	$<
else
test-bootloader-host:
	@echo "test-bootloader-host: mk/fake.mk (the fake device) is missing"; exit 1
endif

# ---- libFuzzer: the GPT reader on arbitrary disks, the /chosen editor on
# arbitrary device trees (libfdt checks its output) ------------------------
BL_FUZZ_CC ?= clang-14
BL_FUZZ_NAMES := fuzz_gpt fuzz_fdt
BL_FUZZ_CFLAGS := -std=c99 -g -O1 -Wall -Wextra -Werror -I. \
                  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
$(BL_BUILD)/fuzz_gpt: tests/bootloader/fuzz_gpt.c $(BL_PORTABLE_SRCS) $(BL_HDRS)
	@mkdir -p $(@D)
	$(BL_FUZZ_CC) $(BL_FUZZ_CFLAGS) $< $(BL_PORTABLE_SRCS) -o $@

$(BL_BUILD)/fuzz_fdt: tests/bootloader/fuzz_fdt.c $(BL_PORTABLE_SRCS) $(BL_HDRS)
	@mkdir -p $(@D)
	$(BL_FUZZ_CC) $(BL_FUZZ_CFLAGS) $< $(BL_PORTABLE_SRCS) -lfdt -o $@

test-bootloader-fuzz: $(addprefix $(BL_BUILD)/,$(BL_FUZZ_NAMES))
	$(PYTHON) tools/bootdisk.py seeds --check tests/fuzz/corpus
	@set -e; for t in $(BL_FUZZ_NAMES); do \
	  tests/fuzz/run_fuzz.sh $(BL_BUILD)/$$t $$t $(BL_FUZZ_TEST_SECONDS) $(BL_BUILD)/fuzz; done

fuzz-bootloader: $(addprefix $(BL_BUILD)/,$(BL_FUZZ_NAMES))
	@set -e; for t in $(BL_FUZZ_NAMES); do \
	  tests/fuzz/run_fuzz.sh $(BL_BUILD)/$$t $$t $(or $(FUZZ_SECONDS),600) $(BL_BUILD)/fuzz; done

# ---- the board program and its payload -----------------------------------
#   make payload          Debian's arm64 kernel (tools/fetch-kernel.sh), the
#                         initramfs (payload/init.c + cpio), the GPT disk
#   make demo-bootloader  (DEMO_TARGETS_aarch64) boots it: the bootloader's
#                         figures, Linux's messages, the init marker
#   make test-bootloader-qemu  (TEST_TARGETS) one real boot, then each
#                         hostile disk must end in RESULT FAIL with its error
#   BL_KERNEL_META=pkg    the metapackage to follow (linux-image-cloud-arm64)
#   BL_IMAGE=path BL_INITRD=path BL_CMDLINE_TEXT="..."   your own payload
DEPS_PKGS += gdisk cpio gcc-aarch64-linux-gnu qemu-system-arm apt dpkg

BL_PAYLOAD := $(BUILD)/payload
BL_KERNEL_META ?= linux-image-cloud-arm64
BL_IMAGE ?= $(BL_PAYLOAD)/Image
BL_INITRD ?= $(BL_PAYLOAD)/initrd.cpio
BL_CMDLINE_TEXT ?= console=ttyAMA0 panic=-1
BL_DISK := $(BL_PAYLOAD)/disk.img
BL_HOSTILE := $(BL_PAYLOAD)/hostile
BL_TIMEOUT ?= 120

.PHONY: payload demo-bootloader test-bootloader-qemu
payload: $(BL_DISK)

$(BL_PAYLOAD)/Image:
	tools/fetch-kernel.sh $(BL_PAYLOAD) $(BL_KERNEL_META)

$(BL_PAYLOAD)/init: $(BL_DIR)/payload/init.c
	@mkdir -p $(@D)
	aarch64-linux-gnu-gcc -static -nostdlib -ffreestanding -fno-stack-protector -O2 \
	  -Wall -Wextra -Werror -o $@ $<

$(BL_PAYLOAD)/initrd.cpio: $(BL_PAYLOAD)/init
	rm -rf $(BL_PAYLOAD)/initramfs && mkdir -p $(BL_PAYLOAD)/initramfs
	cp $< $(BL_PAYLOAD)/initramfs/init
	cd $(BL_PAYLOAD)/initramfs && echo init | cpio -o -H newc --owner=0:0 --quiet > ../initrd.cpio

$(BL_DISK): $(BL_IMAGE) $(BL_INITRD) tools/bootdisk.py
	$(PYTHON) tools/bootdisk.py build $@ --kernel $(BL_IMAGE) --initrd $(BL_INITRD) \
	  --cmdline "$(BL_CMDLINE_TEXT)"

$(BL_HOSTILE)/.stamp: $(BL_DISK) tools/bootdisk.py
	rm -rf $(BL_HOSTILE)
	$(PYTHON) tools/bootdisk.py hostile $(BL_DISK) $(BL_HOSTILE) --kernel $(BL_IMAGE) \
	  --initrd $(BL_INITRD) --cmdline "$(BL_CMDLINE_TEXT)"
	touch $@

ifdef A64_MK_INCLUDED
BL_BOARD_SRCS := $(BL_DIR)/main.c $(BL_DIR)/handover.S $(BL_PORTABLE_SRCS) $(BL_LOAD_SRCS) \
                 examples/drivers/virtio_blk.c
$(eval $(call a64_program,bootloader,$(BL_BOARD_SRCS),-DVIRTQ_CONFIG_FILE='"virtq_board.h"',$(BL_HDRS)))

# 1 GiB of RAM (the layout puts the initrd at 0x4800_0000 and the DTB at
# 0x5000_0000); the disk on the first virtio-mmio slot, modern interface.
# TRANSPORT=pci / RING=packed put the disk on virtio-blk-pci / ask for the
# packed ring (board_virtio_find/probe take either transport; virtq_board.h
# builds both rings in).
BL_QEMU_DEV = $(if $(filter pci,$(TRANSPORT)),virtio-blk-pci,virtio-blk-device)$(if \
  $(filter packed,$(RING)),$(comma)packed=on)
comma := ,
BL_QEMU = $(QEMU_A64_GIC2) -m 1G -global virtio-mmio.force-legacy=false \
  -drive file=$(1),format=raw,if=none,id=d0 -device $(or $(2),virtio-blk-device),drive=d0 \
  -kernel $(A64_BUILD)/bootloader.elf
BL_BOOT_PY := $(PYTHON) tests/bootloader/qemu_bootloader.py --timeout $(BL_TIMEOUT)

demo-bootloader: $(A64_BUILD)/bootloader.elf $(BL_DISK)
	$(BL_BOOT_PY) --tee --log $(BL_BUILD)/demo.log --tag transport=$(TRANSPORT) \
	  --tag ring=$(RING) -- $(call BL_QEMU,$(BL_DISK),$(BL_QEMU_DEV))

# A legacy-free modern MMIO disk, the same disk on virtio-blk-pci with the
# packed ring (RESULT tags transport=pci ring=packed), then the hostile disks.
test-bootloader-qemu: $(A64_BUILD)/bootloader.elf $(BL_DISK) $(BL_HOSTILE)/.stamp
	$(BL_BOOT_PY) --log $(BL_BUILD)/boot.log --tag transport=mmio --tag ring=split \
	  --tag mmio=2 -- $(call BL_QEMU,$(BL_DISK))
	$(BL_BOOT_PY) --log $(BL_BUILD)/boot-pci.log --tag transport=pci --tag ring=packed \
	  -- $(call BL_QEMU,$(BL_DISK),virtio-blk-pci$(comma)packed=on)
	$(BL_BOOT_PY) --hostile $(BL_HOSTILE) --log $(BL_BUILD)/hostile.log \
	  -- $(call BL_QEMU,@DISK@)

DEMO_TARGETS_aarch64 += demo-bootloader
TEST_TARGETS += test-bootloader-qemu
else
demo-bootloader test-bootloader-qemu:
	@echo "$@: mk/aarch64.mk (the AArch64 board) is missing"; exit 1
endif

endif # BL_MK_INCLUDED
