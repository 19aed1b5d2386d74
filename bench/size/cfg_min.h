/* SPDX-License-Identifier: MIT */
/* bench/size: the smallest polled build issue 14 names: split ring only
   (the default), VIRTQ_EVENT_IDX 0, virtio-mmio version 2 only
   (VIRTQ_MMIO_LEGACY 0), spin waits (the default), no indirect call kept. */
#define VIRTQ_EVENT_IDX 0
#define VIRTQ_MMIO_LEGACY 0
