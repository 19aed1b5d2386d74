/* SPDX-License-Identifier: MIT */
/* ---- device_flags.h: private state bits of struct virtq_dev (.state) ---- */
/* The device status machine as the driver saw it: probe, begin,
   FEATURES_OK, DRIVER_OK, NEEDS_RESET/FAILED, and whether the board routed
   the interrupt (WFI waits need it). */
#define VIRTQ__D_PROBED 1u
#define VIRTQ__D_FEATURES_OK 2u
#define VIRTQ__D_DRIVER_OK 4u
#define VIRTQ__D_IRQ_ROUTED 8u
#define VIRTQ__D_BROKEN 16u /* NEEDS_RESET or FAILED seen */
#define VIRTQ__D_BEGUN 32u  /* ACKNOWLEDGE, DRIVER set: features may be negotiated */
