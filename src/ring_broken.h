/* ---- ring_broken.h: why a queue broke (both ring kinds) ---------------- */
/* A queue latches broken on the first protocol violation and remembers
   why (enum virtq_broken_reason); one VIRTQ_LOG line per reason.  Only
   virtq_detach() emptying the queue clears it (the ring's reset). */

/* Latch broken, keeping the first reason; one log line per reason. */
static VIRTQ__COLD void virtq__break(struct virtq *vq, enum virtq_broken_reason why)
{
    if (vq->flags & VIRTQ__Q_BROKEN)
        return;
    vq->flags |= VIRTQ__Q_BROKEN;
    vq->broken_reason = (uint16_t)why;
    switch (why) {
    case VIRTQ_BROKEN_USED_IDX:
        VIRTQ_LOG("virtq: queue %u broken: used.idx past what was published (used %u)\n",
                  vq->index, vq->last_used);
        break;
    case VIRTQ_BROKEN_USED_ID:
        VIRTQ_LOG("virtq: queue %u broken: used id out of range (used %u)\n", vq->index,
                  vq->last_used);
        break;
    case VIRTQ_BROKEN_NOT_IN_FLIGHT:
        VIRTQ_LOG("virtq: queue %u broken: used id is no in-flight head (used %u)\n",
                  vq->index, vq->last_used);
        break;
    case VIRTQ_BROKEN_UNPUBLISHED:
        VIRTQ_LOG("virtq: queue %u broken: used id not yet published (used %u)\n", vq->index,
                  vq->last_used);
        break;
    case VIRTQ_BROKEN_USED_LEN:
        VIRTQ_LOG("virtq: queue %u broken: used len beyond the writable bytes (used %u)\n",
                  vq->index, vq->last_used);
        break;
    case VIRTQ_BROKEN_DEVICE:
        VIRTQ_LOG("virtq: queue %u broken: device needs reset or failed\n", vq->index);
        break;
    case VIRTQ_BROKEN_CALLER:
        VIRTQ_LOG("virtq: queue %u broken by the caller\n", vq->index);
        break;
    case VIRTQ_BROKEN_NONE:   /* never passed; named for -Wswitch-enum */
    case VIRTQ_BROKEN_DETACH: /* not a fault, no message */
        break;
    }
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
