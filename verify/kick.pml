/* SPDX-License-Identifier: MIT */
/* kick.pml: the driver's kick decision against a device that suppresses
 * available-buffer notifications ("Driver Requirements: Notifying The
 * Device", "Available Buffer Notification Suppression").
 *
 * The driver publishes N requests in batches of 1 or 2 into a ring of RING
 * entries; the device consumes them, and when it runs dry it re-enables
 * notifications, issues a full barrier, re-checks avail.idx and only then
 * sleeps until a notification.  Promela runs sequentially consistent, so a
 * missing full barrier is modelled by its effect: the load that the barrier
 * should have kept after the store is done before it.
 *
 * Property: when nothing can move any more, the device has taken every
 * request (no request is left published but unnotified).
 *
 * Switches (spin -D...): EVENT_IDX=0|1 (flags or event index), and one
 * mutation at most:
 *   MUT_PUBLISH_NO_MB  the used.flags / avail_event read before the avail.idx
 *                      store is visible (virtq__mb() in virtq_publish gone)
 *   MUT_NOWRAP         the event check without modular arithmetic instead of
 *                      virtq_need_event()'s wrap-safe form
 *
 * Each "src:" comment quotes the statement of src/ it mirrors;
 * verify/anchors.py fails when a quoted statement is no longer there.
 */

#ifndef EVENT_IDX
#define EVENT_IDX 0
#endif
#define N 10    /* requests: more than W, so the indices wrap */
#define W 8     /* index arithmetic modulo W stands in for modulo 2^16 */
#define RING 2  /* ring entries: the driver never runs more than RING ahead */

byte avail_idx;       /* avail.idx as the device sees it */
bool no_notify;       /* used.flags & VIRTQ_USED_F_NO_NOTIFY */
byte avail_event;     /* avail_event (EVENT_IDX) */
bool kick;            /* a notification written, not yet taken */
byte dev_last;        /* device's private next avail index */
byte taken;           /* requests the device has taken */
bool drv_done;

/* src: wire.h | return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old); */
inline need_event(ev, nw, old, res)
{
#ifdef MUT_NOWRAP
    res = (nw > ev && ev >= old)
#else
    res = (((nw - ev - 1 + 2 * W) % W) < ((nw - old + W) % W))
#endif
}

active proctype driver()
{
    byte sent = 0, old, now, k;
    bool need;
    do
    :: sent == N -> break
    :: else ->
        /* virtq_add() once or twice: only while the ring has room */
        if
        :: sent < N && ((sent - taken) < RING) -> k = 1
        :: sent + 1 < N && ((sent + 1 - taken) < RING) -> k = 2
        :: else -> (sent - taken < RING); k = 1
        fi;
        old = (sent % W);
        now = ((sent + k) % W);
        sent = sent + k;
        /* virtq_publish() */
#ifdef MUT_PUBLISH_NO_MB
        /* the barrier gone: the suppression state is read first */
#if EVENT_IDX
        need_event(avail_event, now, old, need);
#else
        need = !no_notify;
#endif
        /* src: ring_split.h | VIRTQ__ST16_RELEASE(vq, &vq->avail->idx, now); */
        avail_idx = now;
#else
        /* src: ring_split.h | VIRTQ__ST16_RELEASE(vq, &vq->avail->idx, now); */
        avail_idx = now;
        /* src: ring_split.h | virtq__mb(vq); */
#if EVENT_IDX
        /* src: ring_split.h | return virtq_need_event(VIRTQ__LD16(vq->avail_event), now, old); */
        need_event(avail_event, now, old, need);
#else
        /* src: ring_split.h | return (VIRTQ__LD16(&vq->used->flags) & VIRTQ_USED_F_NO_NOTIFY) == 0u; */
        need = !no_notify;
#endif
#endif
        /* virtq_dev_notify() */
        if
        :: need -> kick = true
        :: else -> skip
        fi
    od;
    drv_done = true
}

/* The device as the spec asks of it: disable, drain, re-enable, full
   barrier, re-check, sleep. */
active proctype device()
{
    do
    :: dev_last != avail_idx ->
        dev_last = (dev_last + 1) % W;
        taken++
    :: else ->
#if EVENT_IDX
        avail_event = dev_last;
#else
        no_notify = false;
#endif
        /* full barrier, then the re-check */
        if
        :: dev_last != avail_idx -> skip
        :: else ->
end_sleep:  kick;            /* asleep until a notification */
            kick = false
        fi;
#if !EVENT_IDX
        no_notify = true     /* busy again: no notifications wanted */
#endif
    od
}

/* Nothing can move: every request must have been taken. */
active proctype quiet()
{
    timeout -> assert(drv_done && taken == N)
}
