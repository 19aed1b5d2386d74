# SPDX-License-Identifier: MIT
# Platform shims (shims/riscv, shims/posix; shims/PORTING.md is the contract)
# and the gate that keeps src/shim_arch.h's I/O ordering and wfi in place.
#
#   make test-shims-io   compile virtq's notify, interrupt and wfi paths for
#                        riscv64 (M and S) and aarch64, gcc and clang, -O2 and
#                        -Os, asm and C11-atomics barrier flavours; count the
#                        fence w,o / fence i,r / dmb oshst / dmb oshld / wfi
#                        and interrupt-mask instructions in the disassembly
#                        (tests/shims/io_order.py; a control build without
#                        them must be caught)
#
# Where each shim runs in make test: shims/riscv under the riscv64 board in
# M-mode (test-riscv-hello, test-blk-qemu, ...) and S-mode
# (test-riscv-hello-smode, test-blk-qemu-smode); shims/posix under the
# two-thread stress test (test-stress, mk/fuzz.mk).

DEPS_PKGS += python3 clang llvm gcc-riscv64-unknown-elf gcc-aarch64-linux-gnu

.PHONY: test-shims-io
test-shims-io: virtq.h tests/shims/io_paths.c tests/shims/io_order.py
	$(PYTHON) tests/shims/io_order.py --build $(BUILD)/shims/io_order

TEST_TARGETS += test-shims-io
