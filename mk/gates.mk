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
