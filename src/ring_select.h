/* SPDX-License-Identifier: MIT */
/* ---- ring_select.h: which ring kinds are built (VIRTQ_RINGS) ------------- */
/* A mask of VIRTQ_RING_SPLIT | VIRTQ_RING_PACKED (numbers from 1, so a
   misspelt name is 0 and stops here).  With one kind built in, every
   dispatch below is empty or unconditional: no test, no pointer. */
#ifndef VIRTQ_RINGS
#define VIRTQ_RINGS VIRTQ_RING_SPLIT
#endif
#if (VIRTQ_RINGS) != VIRTQ_RING_SPLIT && (VIRTQ_RINGS) != VIRTQ_RING_PACKED && \
    (VIRTQ_RINGS) != (VIRTQ_RING_SPLIT | VIRTQ_RING_PACKED)
#error "virtq: VIRTQ_RINGS must be VIRTQ_RING_SPLIT, VIRTQ_RING_PACKED or both, or'ed"
#endif

/* Each public ring function starts with VIRTQ__RING_DISPATCH(vq, packed
   call): the packed body runs instead of the split one for a packed
   queue.  virtq_init() chooses by the negotiated features. */
#if (VIRTQ_RINGS) == VIRTQ_RING_SPLIT
#define VIRTQ__RING_DISPATCH(vq, call)
#define VIRTQ__RING_DISPATCH_VOID(vq, call)
#define VIRTQ__RING_DISPATCH_INIT(features, call)
#elif (VIRTQ_RINGS) == VIRTQ_RING_PACKED
#define VIRTQ__RING_DISPATCH(vq, call) return call;
#define VIRTQ__RING_DISPATCH_VOID(vq, call) \
    {                                       \
        call;                               \
        return;                             \
    }
#define VIRTQ__RING_DISPATCH_INIT(features, call) \
    return ((features) & VIRTQ_FEATURE(VIRTIO_F_RING_PACKED)) ? call : VIRTQ_ENOTSUP;
#else
#define VIRTQ__RING_DISPATCH(vq, call)                              \
    if ((vq) != NULL && ((vq)->flags & VIRTQ__Q_PACKED) != 0u) \
        return call;
#define VIRTQ__RING_DISPATCH_VOID(vq, call)                         \
    if ((vq) != NULL && ((vq)->flags & VIRTQ__Q_PACKED) != 0u) { \
        call;                                                       \
        return;                                                     \
    }
#define VIRTQ__RING_DISPATCH_INIT(features, call)          \
    if ((features) & VIRTQ_FEATURE(VIRTIO_F_RING_PACKED)) \
        return call;
#endif

/* Negotiation ("Reserved Feature Bits"): a build with the packed ring
   accepts RING_PACKED whenever the device offers it; a packed-only build
   requires it. */
#if ((VIRTQ_RINGS) & VIRTQ_RING_PACKED)
#define VIRTQ__RING_FEATURES VIRTQ_FEATURE(VIRTIO_F_RING_PACKED)
#else
#define VIRTQ__RING_FEATURES ((uint64_t)0)
#endif
#if (VIRTQ_RINGS) == VIRTQ_RING_PACKED
#define VIRTQ__RING_REQUIRED VIRTQ_FEATURE(VIRTIO_F_RING_PACKED)
#else
#define VIRTQ__RING_REQUIRED ((uint64_t)0)
#endif
