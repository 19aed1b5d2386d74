/* ---- impl_begin.h: the implementation, in exactly one translation unit -- */
#if defined(VIRTQ_IMPLEMENTATION) && !defined(VIRTQ_IMPLEMENTATION_INCLUDED)
#define VIRTQ_IMPLEMENTATION_INCLUDED
#if defined(__cplusplus)
extern "C" {
#endif
