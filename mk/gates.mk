# SPDX-License-Identifier: MIT
# Compile gates and static analysis for virtq.h (tests/gates).
#
#   test-amalgamate  virtq.h up to date; amalgamate.py refuses an unlisted or
#                    missing part, notices an edited one, builds the same bytes
#                    twice and from any location
#   test-compile     gcc and clang, C99/C11, -O0/-O2/-Os, strict warnings as
#                    errors; freestanding (-nostdinc) for rv32imac, rv64gc,
#                    aarch64, Cortex-M3, Cortex-A7, x86-64 with every built-in
#                    wait strategy and with spin alone, objects checked with nm
#                    (only the declared hooks undefined, the whole API defined,
#                    nothing outside virtq_ exported); C++11/17/20; two TUs
#                    linked and run (C and C++ both ways, once under ASan and
#                    UBSan); VIRTQ_STATIC; selectors that must hit their #error
#   test-tidy        clang-tidy (.clang-tidy at the root), zero findings, over
#                    virtq.h's implementation in 8 configurations and every
#                    shims/**/*.c and examples/drivers/**/*.c
#   test-cppcheck    cppcheck over the same set, zero findings
#
# Knobs: GATES_JOBS=N parallel compiles (default 2), GATES_VERBOSE=1 prints
# every command.  Each target takes well under a minute.

DEPS_PKGS += python3 gcc g++ clang clang-tidy cppcheck llvm \
             gcc-riscv64-unknown-elf binutils-riscv64-unknown-elf

GATES_PY := tests/gates/gates.py
GATES_BUILD := $(BUILD)/gates
GATES_JOBS ?= 2
GATES_ARGS = --build $(GATES_BUILD) --jobs $(GATES_JOBS) $(if $(GATES_VERBOSE),--verbose)

.PHONY: test-amalgamate test-compile test-tidy test-cppcheck
test-amalgamate:
	$(PYTHON) amalgamate.py --check
	$(PYTHON) $(GATES_PY) amalgamate $(GATES_ARGS)

test-compile:
	$(PYTHON) $(GATES_PY) compile $(GATES_ARGS)

test-tidy:
	$(PYTHON) $(GATES_PY) tidy $(GATES_ARGS)

test-cppcheck:
	$(PYTHON) $(GATES_PY) cppcheck $(GATES_ARGS)

TEST_TARGETS += test-amalgamate test-compile test-tidy test-cppcheck

# ---------------------------------------------------------------------------
# test-warnings: virtq.h warning-free under clang -Weverything and under gcc
# with the extra checks below (issue 15), every wait/barrier configuration,
# hosted and freestanding.  Each -Wno- is one reason:
WEVERYTHING_NO :=
# The public structs (struct virtq_buf, struct virtq_slot) keep their natural
# layout: the padding clang reports is the ABI, reordering would not remove it.
WEVERYTHING_NO += -Wno-padded
# VIRTQ_STATIC marks every API function unused, so a file that calls only some
# of them gets no -Wunused-function; clang then reports each one it does call.
WEVERYTHING_NO += -Wno-used-but-marked-unused
# virtq is C99: with both ring kinds built in, VIRTQ__RING_DISPATCH returns to
# the packed path before the split path's declarations (legal C99; the warning
# is about C89 compatibility).
WEVERYTHING_NO += -Wno-declaration-after-statement
WARN_CLANG_ALL := -Weverything $(WEVERYTHING_NO) -Werror
WARN_GCC_EXTRA := -Wall -Wextra -Wpedantic -Wcast-align=strict -Wcast-qual \
                  -Wmissing-prototypes -Wnull-dereference -Werror
WARN_BUILD := $(BUILD)/warnings
# Hook sets of tests/gates/impl.c (one external function per platform hook).
WARN_ALL_NOWFI := -DGATE_NOW -DGATE_OS -DGATE_CUSTOM \
  '-DVIRTQ_WAIT=(VIRTQ_WAIT_SPIN|VIRTQ_WAIT_OS|VIRTQ_WAIT_CUSTOM)'
WARN_ALL_WFI := -DGATE_NOW -DGATE_ALARM -DGATE_OS -DGATE_CUSTOM \
  '-DVIRTQ_WAIT=(VIRTQ_WAIT_SPIN|VIRTQ_WAIT_WFI|VIRTQ_WAIT_OS|VIRTQ_WAIT_CUSTOM)'
# Transport and ring masks beyond the default (MMIO, split).
WARN_TRANSPORT_RINGS := \
  "-DVIRTQ_TRANSPORTS=(VIRTQ_TRANSPORT_MMIO|VIRTQ_TRANSPORT_PCI) -DVIRTQ_RINGS=(VIRTQ_RING_SPLIT|VIRTQ_RING_PACKED)" \
  "-DVIRTQ_TRANSPORTS=VIRTQ_TRANSPORT_PCI -DVIRTQ_RINGS=VIRTQ_RING_PACKED" \
  "-DVIRTQ_EVENT_IDX=0 -DVIRTQ_MMIO_LEGACY=0" \
  "-DVIRTQ_EVENT_IDX=0 -DVIRTQ_TRANSPORTS=(VIRTQ_TRANSPORT_MMIO|VIRTQ_TRANSPORT_PCI) -DVIRTQ_RINGS=(VIRTQ_RING_SPLIT|VIRTQ_RING_PACKED)"
# Freestanding targets: target flags, then the configurations they add.
WARN_FS_CLANG := \
  "--target=riscv64-unknown-elf -march=rv64gc -mabi=lp64d -mcmodel=medany" \
  "--target=riscv64-unknown-elf -march=rv64gc -mabi=lp64d -mcmodel=medany -DVIRTQ_RISCV_SMODE" \
  "--target=riscv32-unknown-elf -march=rv32imac -mabi=ilp32" \
  "--target=aarch64-none-elf" \
  "--target=thumbv7m-none-eabi -mcpu=cortex-m3 -mthumb -mfloat-abi=soft" \
  "--target=armv7a-none-eabi -mcpu=cortex-a7 -mfloat-abi=soft"

.PHONY: test-warnings
test-warnings:
	@mkdir -p $(WARN_BUILD); set -e; n=0; \
	run() { n=$$((n + 1)); if ! "$$@" -c tests/gates/impl.c -o $(WARN_BUILD)/w.o \
	    > $(WARN_BUILD)/log 2>&1; then echo "FAIL: $$*"; cat $(WARN_BUILD)/log; exit 1; fi; }; \
	for std in c99 c11; do for opt in -O0 -O2 -Os; do \
	  run clang -std=$$std $$opt -I. $(WARN_CLANG_ALL); \
	  run clang -std=$$std $$opt -I. $(WARN_CLANG_ALL) $(WARN_ALL_NOWFI); \
	  run clang -std=$$std $$opt -I. $(WARN_CLANG_ALL) $(WARN_ALL_NOWFI) -DVIRTQ_USE_ATOMICS=1; \
	  run clang -std=$$std $$opt -I. $(WARN_CLANG_ALL) -DVIRTQ_STATIC; \
	  run gcc -std=$$std $$opt -I. $(WARN_GCC_EXTRA); \
	  run gcc -std=$$std $$opt -I. $(WARN_GCC_EXTRA) $(WARN_ALL_NOWFI); \
	  run gcc -std=$$std $$opt -I. $(WARN_GCC_EXTRA) $(WARN_ALL_NOWFI) -DVIRTQ_USE_ATOMICS=1; \
	done; done; \
	inc=$$(clang -print-resource-dir)/include; \
	for t in $(WARN_FS_CLANG); do for opt in -O0 -O2; do \
	  run clang $$t -ffreestanding -nostdinc -isystem $$inc -std=c99 $$opt -I. \
	    $(WARN_CLANG_ALL) $(WARN_ALL_WFI); \
	  run clang $$t -ffreestanding -nostdinc -isystem $$inc -std=c99 $$opt -I. $(WARN_CLANG_ALL); \
	done; done; \
	for opt in -O0 -O2 -Os; do \
	  run riscv64-unknown-elf-gcc -march=rv64gc -mabi=lp64d -mcmodel=medany -ffreestanding \
	    -std=c99 $$opt -I. $(WARN_GCC_EXTRA) $(WARN_ALL_WFI); \
	  run riscv64-unknown-elf-gcc -march=rv32imac -mabi=ilp32 -ffreestanding \
	    -std=c99 $$opt -I. $(WARN_GCC_EXTRA) $(WARN_ALL_WFI); \
	done; \
	run clang -std=c99 -O2 -I. $(WARN_CLANG_ALL) -DVIRTQ_STATIC -DGATE_NOW; \
	for opt in -O0 -O2; do for tr in $(WARN_TRANSPORT_RINGS); do \
	  run clang -std=c99 $$opt -I. $(WARN_CLANG_ALL) $(WARN_ALL_NOWFI) $$tr; \
	  run gcc -std=c99 $$opt -I. $(WARN_GCC_EXTRA) $(WARN_ALL_NOWFI) $$tr; \
	done; done; \
	echo "test-warnings: $$n compiles warning-free (clang -Weverything $(WEVERYTHING_NO); gcc $(filter -Wc% -Wm% -Wn%,$(WARN_GCC_EXTRA)))"

TEST_TARGETS += test-warnings
