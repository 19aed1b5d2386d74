# SPDX-License-Identifier: MIT
# Documentation checks: the C in README.md and the manual's quickstart must
# compile against the current virtq.h (the fake-device example also runs),
# and every public function and configuration macro must be in the manual.
-include mk/fake.mk
TEST_TARGETS += test-docs
.PHONY: test-docs test-docs-manual
test-docs: $(FAKE_LIB) test-docs-manual
	$(PYTHON) tests/docs/readme_code.py $(BUILD)/docs $(FAKE_LIB)

# The check itself, then proof it can fail: with one function, one
# configuration macro or the combined version macro deleted from the
# manual text it must report it.
test-docs-manual: virtq.h
	$(PYTHON) tests/docs/manual_complete.py
	@for n in virtq_dev_config_write32 VIRTQ_SPINS_PER_US VIRTQ_VERSION; do \
	  if $(PYTHON) tests/docs/manual_complete.py --drop $$n >/dev/null; then \
	    echo "test-docs-manual: dropping $$n from the manual went unnoticed"; exit 1; fi; \
	done; echo "test-docs-manual: self-test ok (3 deliberate omissions caught)"

# README's quickstart, compiled verbatim for the riscv64 board and booted on
# the exact QEMU line the README prints (tests/docs/quickstart_boot.py).
include mk/riscv.mk
QS_BUILD := $(BUILD)/quickstart
TEST_TARGETS += test-quickstart
.PHONY: test-quickstart
$(QS_BUILD)/readme_quickstart.c: README.md tests/docs/quickstart_boot.py
	$(PYTHON) tests/docs/quickstart_boot.py --extract $@
$(QS_BUILD)/quickstart.elf: $(QS_BUILD)/readme_quickstart.c tests/docs/quickstart_main.c \
                            $(RV_BOARD_DEPS) virtq.h
	$(RV_CC) $(RV_CFLAGS) -DVIRTQ_CONFIG_FILE='"virtq_board.h"' -o $@ \
	  $(QS_BUILD)/readme_quickstart.c tests/docs/quickstart_main.c $(RV_BOARD_SRCS) $(RV_LDFLAGS)
test-quickstart: $(QS_BUILD)/quickstart.elf
	$(PYTHON) tests/docs/quickstart_boot.py --boot

# Every source file carries `SPDX-License-Identifier: MIT` (tools/spdx.py;
# `tools/spdx.py --fix` adds it).  Self-test: a file without it must fail.
TEST_TARGETS += test-spdx
.PHONY: test-spdx
test-spdx:
	$(PYTHON) tools/spdx.py --check
	@mkdir -p $(BUILD)/spdx && printf 'int x;\n' > $(BUILD)/spdx/no_tag.c
	@if $(PYTHON) tools/spdx.py --check $(BUILD)/spdx/no_tag.c >/dev/null; then \
	  echo "test-spdx: a file without the line went unnoticed"; exit 1; fi
	@echo "test-spdx: self-test ok (an untagged file is caught)"
