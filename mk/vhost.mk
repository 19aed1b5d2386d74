# SPDX-License-Identifier: MIT
# Interoperability: blk_demo against qemu-storage-daemon's vhost-user-blk
# export, a virtio-blk device whose rings libvhost-user processes (not QEMU's
# virtio core).  Modern virtio-mmio passes the whole demo; legacy must end
# with a clean timeout (vhost-user needs a modern transport).
include mk/riscv.mk
DEPS_PKGS += qemu-system-common qemu-system-misc

.PHONY: test-blk-vhost-user
test-blk-vhost-user: $(RV_BUILD)/blk_demo_quick.elf
	$(PYTHON) tests/blk/vhost_user_blk.py --elf $< --qemu "$(QEMU_RV)" \
	  --build $(BUILD)/vhost --tag arch=riscv64 --tag mode=m $(if $(TEE),--tee)

TEST_TARGETS += test-blk-vhost-user
