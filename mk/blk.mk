# SPDX-License-Identifier: MIT
# virtio-blk: the portable driver (examples/drivers/virtio_blk.*), blk_demo
# on QEMU virt (examples/blk_demo.c) and the host tests against the
# fake device (tests/blk/).
#
#   make demo-blk        full-size blk_demo in QEMU on a fresh image, output shown
#   make test-blk-qemu   the QEMU matrix: legacy/modern x event_idx x indirect_desc,
#                        a read-only disk; serial and image contents checked
#   make test-blk-host   cmocka tests of the driver against the fake blk model
#   make blk-bootloop    BOOTS=50 boots of blk_demo in a row (make test runs 5)
#   BLK_TIMEOUT=S        per-boot timeout (default 60), TEE=1 shows the serial output
#
# Fragments are included in name order; the board layer's comes later.
include mk/riscv.mk
-include mk/fake.mk

BLK_BUILD := $(BUILD)/blk
BLK_DRV_SRCS := examples/drivers/virtio_blk.c
BLK_DRV_DEPS := examples/drivers/virtio_blk.h
BLK_RV_CFLAGS := -DVIRTQ_CONFIG_FILE='"virtq_board.h"'
BLK_TIMEOUT ?= 60
BOOTS ?= 50
BLK_QEMU_PY := $(PYTHON) tests/blk/qemu_blk.py --qemu "$(QEMU_RV)" \
               --timeout $(BLK_TIMEOUT) --build $(BLK_BUILD) $(if $(TEE),--tee) \
               $(RV_TAGS)

$(eval $(call rv_program,blk_demo,examples/blk_demo.c $(BLK_DRV_SRCS),$(BLK_RV_CFLAGS),$(BLK_DRV_DEPS)))
$(eval $(call rv_program,blk_demo_quick,examples/blk_demo.c $(BLK_DRV_SRCS),$(BLK_RV_CFLAGS) -DBLK_DEMO_QUICK=1,$(BLK_DRV_DEPS)))
$(eval $(call rvs_program,blk_demo_quick,examples/blk_demo.c $(BLK_DRV_SRCS),$(BLK_RV_CFLAGS) -DBLK_DEMO_QUICK=1,$(BLK_DRV_DEPS)))
$(eval $(call rvs_program,blk_demo,examples/blk_demo.c $(BLK_DRV_SRCS),$(BLK_RV_CFLAGS),$(BLK_DRV_DEPS)))
# S-mode under OpenSBI (mk/riscv.mk: -DBOARD_SMODE, linked at 0x80200000).
BLK_QEMU_PY_S := $(PYTHON) tests/blk/qemu_blk.py --qemu "$(QEMU_RVS)" \
               --timeout $(BLK_TIMEOUT) --build $(BLK_BUILD)/smode $(if $(TEE),--tee) \
               $(RVS_TAGS)

.PHONY: demo-blk test-blk-qemu test-blk-bootloop blk-bootloop test-blk-host blk-elfs
.PHONY: test-blk-qemu-smode demo-blk-smode

blk-elfs: $(RV_BUILD)/blk_demo.elf $(RV_BUILD)/blk_demo_quick.elf \
          $(RV_BUILD)/blk_demo-smode.elf $(RV_BUILD)/blk_demo_quick-smode.elf

# The full measurement (64 MiB sequential read, QD1 and QD32) on QEMU's
# default virtio-blk (legacy virtio-mmio), serial=virtq-demo.
demo-blk: $(RV_BUILD)/blk_demo.elf
	$(BLK_QEMU_PY) $(RV_MATRIX) --elf $< --config demo --tee

test-blk-qemu: $(RV_BUILD)/blk_demo_quick.elf
	$(BLK_QEMU_PY) --elf $<

# S-mode: every phase (SPIN, WFI on the SBI timer alarm and the S-mode PLIC
# context, OS under the scheduler) on a legacy and a modern device.
test-blk-qemu-smode: $(RV_BUILD)/blk_demo_quick-smode.elf
	$(BLK_QEMU_PY_S) --elf $< --config legacy-ev0-in0 --config modern-ev1-in1

demo-blk-smode: $(RV_BUILD)/blk_demo-smode.elf
	$(BLK_QEMU_PY_S) $(RV_MATRIX) --elf $< --config demo --tee

blk-bootloop: $(RV_BUILD)/blk_demo_quick.elf
	$(BLK_QEMU_PY) --elf $< --config modern-ev1-in1 --repeat $(BOOTS)

test-blk-bootloop: $(RV_BUILD)/blk_demo_quick.elf
	$(BLK_QEMU_PY) --elf $< --config modern-ev1-in1 --repeat 5

# ---- host tests against the fake device (shims/fake) --------------------
ifdef FAKE_LIB
BLK_HOST_TESTS := $(BLK_BUILD)/test_blk

$(BLK_BUILD)/test_blk: tests/blk/test_blk.c $(BLK_DRV_SRCS) $(BLK_DRV_DEPS) $(FAKE_LIB)
	@mkdir -p $(@D)
	$(FAKE_CC) $(FAKE_CFLAGS) $(FAKE_INC) tests/blk/test_blk.c $(BLK_DRV_SRCS) \
	  $(FAKE_LDLIBS) -o $@

# The packed pass (mk/fake.mk): the same test, packed rings on modern devices.
$(BLK_BUILD)/test_blk_packed: tests/blk/test_blk.c $(BLK_DRV_SRCS) $(BLK_DRV_DEPS) $(FAKE_LIB)
	@mkdir -p $(@D)
	$(FAKE_CC) $(FAKE_CFLAGS) $(FAKE_PACKED_CFLAGS) $(FAKE_INC) tests/blk/test_blk.c $(BLK_DRV_SRCS) \
	  $(FAKE_LDLIBS) -o $@

test-blk-host: $(BLK_HOST_TESTS) $(BLK_BUILD)/test_blk_packed
	@set -e; for t in $(BLK_HOST_TESTS); do echo "--- $$t"; $$t; done
	@echo "--- $(BLK_BUILD)/test_blk_packed (packed)"; $(FAKE_PACKED_RUN) $(BLK_BUILD)/test_blk_packed
else
test-blk-host:
	@echo "test-blk-host: mk/fake.mk (the fake device) is missing"; exit 1
endif

TEST_TARGETS += test-blk-host test-blk-qemu test-blk-qemu-smode test-blk-bootloop
DEMO_TARGETS_riscv64 += demo-blk demo-blk-smode
