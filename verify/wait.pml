/* SPDX-License-Identifier: MIT */
/* wait.pml: virtq_wait() for one request against a device that completes
 * it at any moment, or never, or asks for a reset; the used-buffer
 * notification re-arm with its re-check ("Driver Requirements: Used Buffer
 * Notification Suppression"), the wake sequence of the OS strategy, the
 * masked check-then-wfi of the WFI strategy with its alarm, the deadline
 * and the last look.
 *
 * Time passes only when nothing else can move (Promela's timeout), so a
 * tick while the request is complete and the driver still waits is a lost
 * wake-up.  Properties, all checked by assertions:
 *   P1 no lost wake-up: never a tick while the completion is visible and
 *      the driver has not returned;
 *   P2 no wait past its bound: the driver returns, at or before the deadline;
 *   P3 no early timeout: VIRTQ_ETIMEDOUT only at or after the deadline;
 *   P4 a completion visible at the last look is not a timeout;
 *   P5 a device that set NEEDS_RESET is reported broken, not timed out;
 *   P6 the used element read after used.idx is the one the device wrote.
 *
 * Switches (spin -D...): WFI=0|1 (OS block or wfi), EVENT_IDX=0|1, and one
 * mutation at most:
 *   MUT_SEQ_AFTER_ARM   wake sequence sampled after the re-arm
 *   MUT_NO_RECHECK      re-arm without re-reading used.idx
 *   MUT_ARM_NO_MB       re-check read before the re-arm store is visible
 *   MUT_NO_LAST_LOOK    no last look at the ring after the deadline
 *   MUT_RESET_TIMEOUT   NEEDS_RESET at the deadline reported as a timeout
 *   MUT_RMB_BEFORE_IDX  used element read before used.idx (barrier misplaced)
 *   MUT_NO_MASK         WFI: interrupts left enabled between check and wfi
 *   MUT_ALARM_UNCLAMPED WFI: alarm slice not clamped to the deadline
 *
 * Each "src:" comment quotes the statement of src/ it mirrors;
 * verify/anchors.py fails when a quoted statement is no longer there.
 */

#ifndef WFI
#define WFI 0
#endif
#ifndef EVENT_IDX
#define EVENT_IDX 0
#endif
#define DEADLINE 3
#define SLICE 2      /* VIRTQ_WFI_SLICE_US, in ticks */
#define CAP 6        /* the clock stops here: later than any legal return */

#define OK 0
#define TIMEDOUT 1
#define BROKEN 2

byte clock;
/* shared ring state (one request, last_used = 0) */
byte used_idx;            /* used.idx */
byte used_elem;           /* used.ring[0].id: 0 stale, 1 written */
bool no_interrupt = true; /* avail.flags: the queue starts with interrupts off */
byte used_event = 255;    /* EVENT_IDX: last_used - 1, "off" */
/* device and interrupt lines */
bool needs_reset;
bool irq_line;            /* the device's interrupt, pending */
bool cfg_bit;             /* InterruptStatus config-change bit */
bool timer_line;          /* the alarm's interrupt, pending */
byte alarm = 255;         /* armed alarm time, 255 = none */
bool masked;              /* interrupts masked on the CPU */
/* driver-private */
byte wake_seq;
bool dev_broken;          /* dev->state BROKEN */
bool returned;
byte result = 255;
bool blocked;             /* driver asleep in wfi or OS wait */

/* virtq_dev_isr() and the board's timer handler */
active proctype isr()
{
end_idle:
    do
    :: atomic { irq_line && !masked ->
        irq_line = false;
        if
        :: cfg_bit -> cfg_bit = false;
           /* src: device.h | (void)virtq_dev_check(dev); */
           dev_broken = needs_reset
        :: else -> skip
        fi;
        /* src: device.h | VIRTQ__BUMP(&dev->wake_seq); */
        wake_seq++ }
    :: atomic { timer_line && !masked ->
        timer_line = false; alarm = 255 }   /* the handler silences its alarm */
    od
}

/* The device completes the request once, now or later, or asks for a
   reset, or does nothing. */
active proctype device()
{
    bool need;
    byte at;
    /* pick the moment first: a guard that is not yet true cannot be
       chosen, so "later" must be a decision, then a wait */
    if
    :: at = 0
    :: at = 1
    :: at = DEADLINE
    fi;
    (clock >= at);
    if
    :: used_elem = 1;          /* write the element, */
       used_idx = 1;           /* then used.idx (device's write barrier), */
       /* full barrier, then read the suppression state */
#if EVENT_IDX
       need = (used_event == 0);  /* vring_need_event(used_event, 1, 0) */
#else
       need = !no_interrupt;
#endif
       if
       :: need -> irq_line = true
       :: else -> skip
       fi
    :: needs_reset = true; cfg_bit = true; irq_line = true
    :: skip
    fi
}

/* The alarm raises its line when the clock reaches it; time passes only
   when every other process is stuck. */
active proctype clk()
{
end_tick:
    do
    :: timeout ->
        /* P1 */
        assert(returned || used_idx == 0 || !blocked);
        if
        :: clock < CAP -> clock++
        :: else -> assert(returned); break   /* P2: nobody hangs */
        fi;
        if
        :: alarm != 255 && clock >= alarm -> timer_line = true
        :: else -> skip
        fi
    od
}

/* virtq__arm(): re-arm, full barrier, re-check. */
inline arm(pending)
{
#ifdef MUT_ARM_NO_MB
    pending = (used_idx != 0);
#endif
#if EVENT_IDX
    /* src: ring_split.h | VIRTQ__ST16(vq->used_event, (uint16_t)(vq->last_used + delay)); */
    used_event = 0;
#else
    /* src: ring_split.h | VIRTQ__ST16(&vq->avail->flags, 0); */
    no_interrupt = false;
#endif
#if !defined(MUT_ARM_NO_MB)
    /* src: ring_split.h | virtq__mb(vq); */
#ifdef MUT_NO_RECHECK
    pending = false;
#else
    /* src: ring_split.h | return (uint16_t)(VIRTQ__LD16(&vq->used->idx) - vq->last_used) > delay; */
    pending = (used_idx != 0);
#endif
#endif
}

/* virtq__wait_check(): something to get, broken, or nothing yet.  The
   misplaced-barrier mutant lets the element load run ahead of the index
   load (a barrier before the index load does not stop that). */
inline check(r)
{
#ifdef MUT_RMB_BEFORE_IDX
    elem = used_elem;
#endif
    if
    :: used_idx != 0 -> r = OK
    :: else ->
        if
        :: dev_broken -> r = BROKEN
        :: else -> r = 255
        fi
    fi
}

active proctype driver()
{
    byte r, now, seen, elem, deadline = DEADLINE;
    bool pending, vis, nr;
    do
    :: check(r);
       if
       :: r != 255 -> goto done
       :: else -> skip
       fi;
       atomic { now = clock; vis = (used_idx != 0) }  /* ghost for P4 */
       if
       :: now >= deadline -> break
       :: else -> skip
       fi;
#if WFI
       /* src: wait.h | unsigned long flags = VIRTQ_IRQ_SAVE(); */
#ifndef MUT_NO_MASK
       masked = true;
#endif
       arm(pending);
       if
       :: !pending ->
#ifdef MUT_ALARM_UNCLAMPED
          alarm = now + SLICE;
#else
          alarm = (deadline - now > SLICE -> now + SLICE : deadline);
#endif
          /* wfi: wakes on any pending line, masked or not */
          blocked = true;
          (irq_line || timer_line);
          blocked = false
       :: else -> skip
       fi;
       /* src: wait.h | VIRTQ_IRQ_RESTORE(flags); */
       masked = false
#else
#ifdef MUT_SEQ_AFTER_ARM
       arm(pending);
       seen = wake_seq;
#else
       seen = wake_seq;
       arm(pending);
#endif
       if
       :: !pending ->
          /* VIRTQ_OS_WAIT: block while the sequence is unchanged, until
             the timeout (deadline - now) */
          blocked = true;
          (wake_seq != seen || clock >= deadline);
          blocked = false
       :: else -> skip
       fi
#endif
    od;
    /* Out of time: the last look, then a dead device from a slow one. */
#ifndef MUT_NO_LAST_LOOK
    check(r);
    if
    :: r == OK -> goto done
    :: else -> skip
    fi;
#endif
    atomic {
        nr = needs_reset;  /* ghost for P5: the status as read here */
#ifdef MUT_RESET_TIMEOUT
        r = TIMEDOUT;
#else
        /* src: wait.h | if (virtq_dev_check(dev) == VIRTQ_EBROKEN) { */
        r = (needs_reset -> BROKEN : TIMEDOUT);
#endif
    }
    assert(!vis);          /* P4: visible at the deadline, yet not taken */
    assert(r != TIMEDOUT || !nr);  /* P5 */
done:
    if
    :: r == OK ->
        /* virtq_get(): P6 */
#ifndef MUT_RMB_BEFORE_IDX
        /* src: ring_split.h | pending = (uint16_t)(VIRTQ__LD16_ACQUIRE(vq, &used->idx) - last); */
        /* src: ring_split.h | id = VIRTQ__LD32(&used->ring[last & vq->mask].id); */
        elem = used_elem;
#endif
        assert(elem == 1)
    :: else -> skip
    fi;
    atomic {
        assert(clock <= deadline);                 /* P2 */
        assert(r != TIMEDOUT || clock >= deadline); /* P3 */
        result = r;
        returned = true
    }
}
