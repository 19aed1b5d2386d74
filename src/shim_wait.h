/* SPDX-License-Identifier: MIT */
/* ---- shim_wait.h: wait strategies built in, clock, WFI/OS/custom hooks --- */

/* Which wait strategies are built in: a bit mask of VIRTQ_WAIT_*.  SPIN is
   always there (it is the fallback before interrupts are routed). */
#ifndef VIRTQ_WAIT
#define VIRTQ_WAIT VIRTQ_WAIT_SPIN
#endif
#if (VIRTQ_WAIT) <= 0 || ((VIRTQ_WAIT) & ~15) != 0
#error "virtq: VIRTQ_WAIT must be VIRTQ_WAIT_SPIN | _WFI | _OS | _CUSTOM"
#endif

/* Clock: VIRTQ_NOW_US() returns a monotonic microsecond count.  Without it
   waits are bounded by iterations: VIRTQ_SPINS_PER_US polls per microsecond
   of timeout (a rough figure; err towards more). */
#ifndef VIRTQ_SPINS_PER_US
#define VIRTQ_SPINS_PER_US 4u
#endif

#if ((VIRTQ_WAIT) & VIRTQ_WAIT_WFI)
#if !defined(VIRTQ_WFI) || !defined(VIRTQ_IRQ_SAVE) || !defined(VIRTQ_IRQ_RESTORE)
#error "virtq: VIRTQ_WAIT_WFI needs VIRTQ_WFI/VIRTQ_IRQ_SAVE/VIRTQ_IRQ_RESTORE (built in for RISC-V and Arm)"
#endif
#if !defined(VIRTQ_NOW_US)
#error "virtq: VIRTQ_WAIT_WFI needs VIRTQ_NOW_US() to bound the wait"
#endif
#if !defined(VIRTQ_WFI_ALARM_US) && !defined(VIRTQ_WFI_TICK_US)
/* A wfi must have a wake-up source that does not depend on the device, or
   a device that never completes hangs the CPU: either an alarm (define
   VIRTQ_WFI_ALARM_US(deadline_us)) or a periodic interrupt you promise
   (define VIRTQ_WFI_TICK_US as its period). */
#error "virtq: VIRTQ_WAIT_WFI needs VIRTQ_WFI_ALARM_US(deadline) or VIRTQ_WFI_TICK_US"
#endif
#endif

#if ((VIRTQ_WAIT) & VIRTQ_WAIT_OS)
#if !defined(VIRTQ_OS_WAIT) || !defined(VIRTQ_OS_WAKE) || !defined(VIRTQ_NOW_US)
/* VIRTQ_OS_WAIT(ctx, seqptr, seen, timeout_us): block while *seqptr == seen
   (futex semantics), return on wake, change or timeout.
   VIRTQ_OS_WAKE(ctx): wake all waiters on ctx; callable from an ISR. */
#error "virtq: VIRTQ_WAIT_OS needs VIRTQ_OS_WAIT, VIRTQ_OS_WAKE and VIRTQ_NOW_US"
#endif
#endif

#if ((VIRTQ_WAIT) & VIRTQ_WAIT_CUSTOM)
#if !defined(VIRTQ_CUSTOM_WAIT)
/* VIRTQ_CUSTOM_WAIT(dev, vq, remaining_us): block or yield a little; virtq
   re-checks the ring and the deadline after each call. */
#error "virtq: VIRTQ_WAIT_CUSTOM needs VIRTQ_CUSTOM_WAIT(dev, vq, remaining_us)"
#endif
#endif
