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
