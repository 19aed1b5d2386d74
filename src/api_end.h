/* SPDX-License-Identifier: MIT */
/* ---- api_end.h ------------------------------------------------------------ */
#if defined(__cplusplus)
} /* extern "C" */
#endif
#endif /* VIRTQ_H_INCLUDED */
