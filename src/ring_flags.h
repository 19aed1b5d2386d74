/* SPDX-License-Identifier: MIT */
/* ---- ring_flags.h: private state bits of struct virtq (.flags) ---------- */
/* Set by virtq_init() from the negotiated features (EVENT_IDX, INDIRECT,
   PLATFORM, PACKED) and by the ring as it runs.  Early in the manifest
   because the barrier helpers (shim_access.h) read PLATFORM. */
#ifndef VIRTQ_EVENT_IDX
#define VIRTQ_EVENT_IDX 1
#endif
#if VIRTQ_EVENT_IDX
#define VIRTQ__Q_EVENT_IDX 1u /* VIRTIO_F_EVENT_IDX negotiated */
#else
#define VIRTQ__Q_EVENT_IDX 0u /* VIRTQ_EVENT_IDX 0: every event branch folds away */
#endif
#define VIRTQ__Q_INDIRECT 2u  /* VIRTIO_F_INDIRECT_DESC negotiated */
#define VIRTQ__Q_PLATFORM 4u  /* VIRTIO_F_ORDER_PLATFORM: DMA barriers */
#define VIRTQ__Q_BROKEN 8u    /* protocol violation seen: latched */
#define VIRTQ__Q_INTR_OFF 16u /* driver asked for no used notifications */
#define VIRTQ__Q_READY 32u    /* virtq_init() succeeded */
#define VIRTQ__Q_ANY_LEN 64u  /* used.len not bounded: virtq_ignore_used_len() */
#define VIRTQ__Q_PACKED 128u  /* a packed ring (ring_packed.h) */
#if VIRTQ_PUBLISH_DEFER
#define VIRTQ__Q_OWED 256u    /* virtq_publish_defer() left a kick decision owed */
#else
#define VIRTQ__Q_OWED 0u      /* never set: every owed branch folds away */
#endif
/* Re-armed with a delay (virtq_enable_intr_after / _delayed): one
   interrupt at a set buffer, so virtq_get() leaves the event alone.  Set
   and cleared only by a re-arm (and the ring reset); meaningless while
   INTR_OFF is set. */
#define VIRTQ__Q_DELAYED (VIRTQ__Q_EVENT_IDX ? 512u : 0u)

/* VIRTQ_EVENT_IDX 0 builds the rings without VIRTIO_F_EVENT_IDX: never
   negotiated (device.h), and virtq_init() refuses it, since a ring that
   ignored a negotiated event index would miss the device's thresholds. */
#define VIRTQ__FEATURES_OUT (VIRTQ_EVENT_IDX ? (uint64_t)0 : VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX))
