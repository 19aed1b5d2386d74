/* SPDX-License-Identifier: MIT */
/* ---- shim_log.h: VIRTQ_ASSERT and VIRTQ_LOG ------------------------------ */

/* Off unless the user supplies them.  VIRTQ_ASSERT(x) checks virtq's own
   private invariants (free-list heads, descriptor counts): a failure is a
   virtq bug or memory corruption, never a caller's bad argument (those
   return VIRTQ_EINVAL) nor a hostile device (that latches the queue
   broken).  VIRTQ_LOG(fmt, ...) is printf-like, one line per event (why a
   queue broke, ring_broken.h). */
#ifndef VIRTQ_ASSERT
#define VIRTQ_ASSERT(x) ((void)0)
#endif
#ifndef VIRTQ_LOG
#define VIRTQ_LOG(...) ((void)0)
#endif
