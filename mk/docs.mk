# Documentation checks: the C in README.md and the manual's quickstart must
# compile against the current virtq.h (the fake-device example also runs).
-include mk/fake.mk
TEST_TARGETS += test-docs
.PHONY: test-docs
test-docs: $(FAKE_LIB)
	$(PYTHON) tests/docs/readme_code.py $(BUILD)/docs $(FAKE_LIB)
