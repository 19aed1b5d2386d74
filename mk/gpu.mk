# SPDX-License-Identifier: MIT
# virtio-gpu: the portable driver (examples/drivers/virtio_gpu.*), the board
# demo (examples/gpu_demo.c) and their tests.
#
#   test-gpu-qemu   screendumps at two resolutions, pixels checked, and the
#                   starvation matrix (flush storm x SPIN/WFI/OS x
#                   single-threaded/multi-threaded TCG)
#   demo-gpu        runs gpu_demo and prints where its screenshot is
#
#   test-gpu-host   the driver against the fake device's gpu model
#                   (shims/fake/fake_gpu.c), cmocka, ASan+UBSan
#
# This file sorts before riscv.mk: include it first (both have guards).
include mk/fake.mk
include mk/riscv.mk

ifndef GPU_MK_INCLUDED
GPU_MK_INCLUDED := 1

GPU_BUILD := $(BUILD)/gpu
GPU_DRV := examples/drivers/virtio_gpu.c
GPU_DRV_H := examples/drivers/virtio_gpu.h
GPU_PY := tests/gpu/gpu_qemu.py

GPU_RV_CFLAGS := -DVIRTQ_CONFIG_FILE='"virtq_board.h"'
$(eval $(call rv_program,gpu_demo,examples/gpu_demo.c $(GPU_DRV),$(GPU_RV_CFLAGS),$(GPU_DRV_H)))
# Control experiment: SPIN replaced by a memory-only poll (no register read).
$(eval $(call rv_program,gpu_demo_memspin,examples/gpu_demo.c $(GPU_DRV),$(GPU_RV_CFLAGS) -DGPU_DEMO_MEMORY_SPIN=1,$(GPU_DRV_H)))

# S-mode under OpenSBI (mk/riscv.mk): one boot with both screendumps
# checked, WFI while drawing, then the storm under OS in the scheduler.
$(eval $(call rvs_program,gpu_demo,examples/gpu_demo.c $(GPU_DRV),$(GPU_RV_CFLAGS),$(GPU_DRV_H)))

GPU_QEMU_ARGS = --qemu "$(QEMU_RV)" --elf $(RV_BUILD)/gpu_demo.elf --out $(GPU_BUILD) \
                $(RV_TAGS)

$(GPU_BUILD)/test_gpu: tests/gpu/test_gpu.c $(GPU_DRV) $(GPU_DRV_H) $(FAKE_LIB)
	@mkdir -p $(@D)
	$(FAKE_CC) $(FAKE_CFLAGS) $(FAKE_INC) tests/gpu/test_gpu.c $(GPU_DRV) $(FAKE_LDLIBS) -o $@

.PHONY: test-gpu-host test-gpu-qemu demo-gpu bench-gpu gpu-spin-control test-gpu-qemu-smode
test-gpu-qemu-smode: $(RV_BUILD)/gpu_demo-smode.elf
	$(PYTHON) $(GPU_PY) --qemu "$(QEMU_RVS)" --elf $< --out $(GPU_BUILD)/smode $(RVS_TAGS) \
	  shot --res 800x600

# The packed pass (mk/fake.mk): the same test, packed rings on modern devices.
$(GPU_BUILD)/test_gpu_packed: tests/gpu/test_gpu.c $(GPU_DRV) $(GPU_DRV_H) $(FAKE_LIB)
	@mkdir -p $(@D)
	$(FAKE_CC) $(FAKE_CFLAGS) $(FAKE_PACKED_CFLAGS) $(FAKE_INC) tests/gpu/test_gpu.c $(GPU_DRV) \
	  $(FAKE_LDLIBS) -o $@

test-gpu-host: $(GPU_BUILD)/test_gpu $(GPU_BUILD)/test_gpu_packed
	$<
	$(FAKE_PACKED_RUN) $(GPU_BUILD)/test_gpu_packed

test-gpu-qemu: $(RV_BUILD)/gpu_demo.elf
	$(PYTHON) $(GPU_PY) $(GPU_QEMU_ARGS) test

demo-gpu: $(RV_BUILD)/gpu_demo.elf
	$(PYTHON) $(GPU_PY) $(GPU_QEMU_ARGS) $(RV_MATRIX) --tee demo

# FIGURE lines at 1280x800 with WFI waits: 600 full-frame flushes, a storm
# of 10,000 damage-rectangle flushes (build/gpu/bench.txt).
bench-gpu: $(RV_BUILD)/gpu_demo.elf
	$(PYTHON) $(GPU_PY) $(GPU_QEMU_ARGS) $(RV_MATRIX) bench

# Not a test: does a guest that spins on memory alone (no register read)
# starve QEMU's virtio-gpu bottom half?  Runs the storm under both TCG modes.
gpu-spin-control: $(RV_BUILD)/gpu_demo_memspin.elf
	$(PYTHON) $(GPU_PY) --qemu "$(QEMU_RV)" --elf $< --out $(GPU_BUILD) $(RV_TAGS) control

TEST_TARGETS += test-gpu-host test-gpu-qemu test-gpu-qemu-smode
# `make bench` runs bench-gpu through mk/bench.mk's bench-qemu-gpu (several
# boots, before bench-report rewrites BENCHMARKS.md), not from here: this
# fragment sorts after bench.mk, so its entry would follow the report.
DEMO_TARGETS_riscv64 += demo-gpu

endif # GPU_MK_INCLUDED
