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
