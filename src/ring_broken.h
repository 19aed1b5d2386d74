/* SPDX-License-Identifier: MIT */
/* ---- ring_broken.h: why a queue broke (both ring kinds) ---------------- */
/* A queue latches broken on the first protocol violation and remembers
   why (enum virtq_broken_reason); one VIRTQ_LOG line per reason.  Only
   virtq_detach() emptying the queue clears it (the ring's reset). */

/* The log line of each reason, indexed by enum virtq_broken_reason
   (NONE and DETACH are not faults and log nothing). */
static const char *const virtq__broken_text[] = {
    NULL,
    "used.idx past what was published",
    "used id out of range",
    "used id is no in-flight head",
    "used id not yet published",
    "used len beyond the writable bytes",
    "device needs reset or failed",
    "broken by the caller",
    NULL,
};

/* Latch broken, keeping the first reason; one log line per reason. */
static VIRTQ__COLD void virtq__break(struct virtq *vq, enum virtq_broken_reason why)
{
    if (vq->flags & VIRTQ__Q_BROKEN)
        return;
    vq->flags |= VIRTQ__Q_BROKEN;
    vq->broken_reason = (uint16_t)why;
    if ((unsigned)why < sizeof virtq__broken_text / sizeof virtq__broken_text[0] &&
        virtq__broken_text[why] != NULL)
        VIRTQ_LOG("virtq: queue %u broken: %s (used %u)\n", vq->index, virtq__broken_text[why],
                  vq->last_used);
}

VIRTQ_API enum virtq_broken_reason virtq_broken_reason(const struct virtq *vq)
{
    if (vq == NULL || !(vq->flags & VIRTQ__Q_BROKEN))
        return VIRTQ_BROKEN_NONE;
    return (enum virtq_broken_reason)vq->broken_reason;
}

VIRTQ_API void virtq_break(struct virtq *vq)
{
    if (vq != NULL)
        virtq__break(vq, VIRTQ_BROKEN_CALLER);
}
