/* ---- impl_begin.h: the implementation, in exactly one translation unit -- */
#if defined(VIRTQ_IMPLEMENTATION) && !defined(VIRTQ_IMPLEMENTATION_INCLUDED)
#define VIRTQ_IMPLEMENTATION_INCLUDED
#if defined(__cplusplus)
extern "C" {
#endif

/* Private queue flags (struct virtq.flags). */
#define VIRTQ__Q_EVENT_IDX 1u /* VIRTIO_F_EVENT_IDX negotiated */
#define VIRTQ__Q_INDIRECT 2u  /* VIRTIO_F_INDIRECT_DESC negotiated */
#define VIRTQ__Q_PLATFORM 4u  /* VIRTIO_F_ORDER_PLATFORM: DMA barriers */
#define VIRTQ__Q_BROKEN 8u    /* protocol violation seen: latched */
#define VIRTQ__Q_INTR_OFF 16u /* driver asked for no used notifications */
#define VIRTQ__Q_READY 32u    /* virtq_init() succeeded */
#define VIRTQ__Q_ANY_LEN 64u  /* used.len not bounded: virtq_ignore_used_len() */
#define VIRTQ__Q_PACKED 128u  /* a packed ring (ring_packed.h) */

/* Private device states (struct virtq_dev.state bits). */
#define VIRTQ__D_PROBED 1u
#define VIRTQ__D_FEATURES_OK 2u
#define VIRTQ__D_DRIVER_OK 4u
#define VIRTQ__D_IRQ_ROUTED 8u
#define VIRTQ__D_BROKEN 16u /* NEEDS_RESET or FAILED seen */
#define VIRTQ__D_BEGUN 32u  /* ACKNOWLEDGE, DRIVER set: features may be negotiated */

/* Hot-path helpers: keep the common case straight-line and the error
   classification out of line. */
#if defined(__GNUC__) || defined(__clang__)
#define VIRTQ__INLINE static inline __attribute__((always_inline))
#define VIRTQ__COLD __attribute__((cold, noinline))
#define VIRTQ__UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define VIRTQ__INLINE static inline
#define VIRTQ__COLD
#define VIRTQ__UNLIKELY(x) (x)
#endif
