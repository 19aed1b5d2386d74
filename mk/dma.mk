# SPDX-License-Identifier: MIT
# Non-coherent DMA, proven (issue 15): every DMA sync call in src/ and
# examples/drivers/ matters.
#
#   make test-dma-sync   for each call site of VIRTQ_DMA_SYNC_FOR_DEVICE/_CPU
#                        and virtq_dma_sync_for_device/_cpu (a scan, so a new
#                        site is covered by itself), rebuild the blk, gpu and
#                        net host tests with that one call disabled and
#                        require their cache_* tests (the fake's modelled
#                        write-back, non-coherent data cache: shims/fake/
#                        virtq_fake.h "Non-coherent DMA") to fail; the
#                        unmodified tree must pass them first; a self-test
#                        then shows a redundant call's removal survives
#                        (so the proof can fail).  30 to 45 s
#                        on 2 busy cores; DMA_SYNC_ARGS='--list' lists the
#                        sites, '--only N' tries one.
-include mk/fake.mk

DMA_SYNC_ARGS ?=

.PHONY: test-dma-sync
ifdef FAKE_LIB
test-dma-sync: $(FAKE_LIB)
	$(PYTHON) tools/dma_sync_proof.py --lib $(FAKE_LIB) --build $(BUILD)/dma_sync_proof $(DMA_SYNC_ARGS)
else
test-dma-sync:
	@echo "test-dma-sync: mk/fake.mk (the fake device) is missing"; exit 1
endif

TEST_TARGETS += test-dma-sync
