/* SPDX-License-Identifier: MIT */
/* ---- impl_end.h ------------------------------------------------------------ */
#if defined(__cplusplus)
} /* extern "C" */
#endif
#endif /* VIRTQ_IMPLEMENTATION */
