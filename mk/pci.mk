# SPDX-License-Identifier: MIT
# ---- the demos over virtio-pci on riscv64 (issue: virtio-pci transport) ------
# The same blk_demo, gpu_demo and net_demo ELFs as over virtio-mmio: the
# board's board_virtio_find() finds each device on PCI bus 0 (ECAM at
# 0x3000_0000), board_virtio_probe() assigns its BARs from the 32-bit window
# (nobody else enumerated the bus) and the program wires INTx (PLIC 32..35,
# swizzled).  Every wait strategy over PCI: each blk boot runs spin, wfi and
# os; gpu's test runs its storm under SPIN, WFI and OS; net runs spin then
# WFI, net_demo_os the OS wait.  "legacy" configurations are QEMU's
# transitional functions (id 0x1001...), "modern" ones disable-legacy=on;
# the guest drives the modern interface of both and reports transport=pci.
include mk/riscv.mk

PCI_RV_MATRIX = --transport pci
.PHONY: test-pci-qemu
test-pci-qemu: blk-elfs net-elfs $(RV_BUILD)/gpu_demo.elf $(RV_BUILD)/net_demo_os.elf \
  $(RV_BUILD)/gpu_demo-smode.elf $(RV_BUILD)/net_peer-smode.elf
	$(BLK_QEMU_PY) $(PCI_RV_MATRIX) --elf $(RV_BUILD)/blk_demo_quick.elf \
	  --config legacy-ev1-in1 --config modern-ev0-in0
	$(BLK_QEMU_PY) $(PCI_RV_MATRIX) --ring packed --elf $(RV_BUILD)/blk_demo_quick.elf \
	  --config modern-ev1-in1
	$(BLK_QEMU_PY_S) $(PCI_RV_MATRIX) --elf $(RV_BUILD)/blk_demo_quick-smode.elf \
	  --config legacy-ev0-in1
	$(PYTHON) $(GPU_PY) $(GPU_QEMU_ARGS) $(PCI_RV_MATRIX) test
	$(PYTHON) $(GPU_PY) $(GPU_QEMU_ARGS) $(PCI_RV_MATRIX) --ring packed shot --res 800x600
	$(PYTHON) $(GPU_PY) --qemu "$(QEMU_RVS)" --elf $(RV_BUILD)/gpu_demo-smode.elf \
	  --out $(GPU_BUILD)/smode-pci $(RVS_TAGS) $(PCI_RV_MATRIX) shot --res 640x480
	$(NET_QEMU_PY) $(PCI_RV_MATRIX) user --elf $(RV_BUILD)/net_demo.elf \
	  --configs legacy-nomrg --second-nic
	$(NET_QEMU_PY) $(PCI_RV_MATRIX) peer --elf $(RV_BUILD)/net_peer.elf --configs modern-mrg
	$(NET_QEMU_PY) $(PCI_RV_MATRIX) --ring packed peer --elf $(RV_BUILD)/net_peer.elf \
	  --configs modern-nomrg
	$(NET_QEMU_PY) $(PCI_RV_MATRIX) user --elf $(RV_BUILD)/net_demo_os.elf --configs modern-mrg \
	  --expect '^FIGURE net_demo os_waits=[1-9][0-9]* count$$'
	$(NET_QEMU_PY_S) $(PCI_RV_MATRIX) peer --elf $(RV_BUILD)/net_peer-smode.elf \
	  --configs legacy-mrg

TEST_TARGETS += test-pci-qemu
