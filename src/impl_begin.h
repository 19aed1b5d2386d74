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
#define VIRTQ__NOINLINE __attribute__((noinline))
#define VIRTQ__UNLIKELY(x) __builtin_expect(!!(x), 0)
#define VIRTQ__LIKELY(x) __builtin_expect(!!(x), 1)
#else
#define VIRTQ__INLINE static inline
#define VIRTQ__COLD
#define VIRTQ__NOINLINE
#define VIRTQ__UNLIKELY(x) (x)
#define VIRTQ__LIKELY(x) (x)
#endif

/* Loops over a request's segments (both rings): with VIRTQ_STATIC the
   caller's segment counts are usually compile-time constants, and these
   loops are then unrolled into straight-line code.  In an out-of-line build the count is
   a variable and the plain loop is the only copy (no size cost). */
#if defined(__clang__)
#define VIRTQ__UNROLL _Pragma("clang loop unroll(full)")
#elif defined(__GNUC__) && __GNUC__ >= 8
#define VIRTQ__UNROLL _Pragma("GCC unroll 8")
#else
#define VIRTQ__UNROLL
#endif
#if defined(__GNUC__) || defined(__clang__)
#define VIRTQ__CONST_SMALL(n) (__builtin_constant_p(n) && (n) <= 8u)
#else
#define VIRTQ__CONST_SMALL(n) 0
#endif
