# SPDX-License-Identifier: MIT
# Model checking (verify/): Promela models of the kick decision and of
# virtq_wait()'s wake-up protocol, checked with Debian's spin.  Every
# configuration must hold and every mutation (an ordering mistake put into
# the model) must produce a counterexample; quoted src/ anchors must exist.
#
#   make verify        the full check (about a minute)
DEPS_PKGS += spin gcc

.PHONY: verify test-verify
verify:
	$(PYTHON) verify/run.py $(BUILD)/verify

test-verify: verify

TEST_TARGETS += test-verify
