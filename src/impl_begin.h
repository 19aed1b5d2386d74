/* SPDX-License-Identifier: MIT */
/* ---- impl_begin.h: the implementation, in exactly one translation unit -- */
#if defined(VIRTQ_IMPLEMENTATION) && !defined(VIRTQ_IMPLEMENTATION_INCLUDED)
#define VIRTQ_IMPLEMENTATION_INCLUDED
#if defined(__cplusplus)
extern "C" {
#endif

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
