/* SPDX-License-Identifier: MIT */
/* ---- wait.h: bounded waits for a used buffer ------------------------------ */
/* Every wait ends: by a used buffer, by a broken queue or device, or by the
   deadline.  The strategy is chosen per device at run time among those
   built in (VIRTQ_WAIT), because one firmware image moves through them:
   spin before interrupts are routed, wfi once they are, OS blocking once a
   scheduler runs. */

VIRTQ_API void virtq_dev_irq_routed(struct virtq_dev *dev, bool routed)
{
    if (!virtq__dev_ok(dev))
        return;
    if (routed)
        dev->state |= VIRTQ__D_IRQ_ROUTED;
    else
        dev->state &= (uint8_t)~VIRTQ__D_IRQ_ROUTED;
}

VIRTQ_API int virtq_dev_set_wait(struct virtq_dev *dev, int strategy, void *os_ctx)
{
    if (!virtq__dev_ok(dev) || (strategy != VIRTQ_WAIT_SPIN && strategy != VIRTQ_WAIT_WFI &&
                                strategy != VIRTQ_WAIT_OS && strategy != VIRTQ_WAIT_CUSTOM))
        return VIRTQ_EINVAL;
    if (strategy != VIRTQ_WAIT_SPIN && !((VIRTQ_WAIT) & strategy))
        return VIRTQ_ENOTSUP;
    dev->wait = (uint8_t)strategy;
    dev->os_ctx = os_ctx;
    return VIRTQ_OK;
}

/* VIRTQ_OK: something to get; VIRTQ_EAGAIN: nothing yet; else an error.
   A device that asked for a reset breaks the queue waited on. */
static int virtq__wait_check(struct virtq_dev *dev, struct virtq *vq)
{
    int r = virtq__used_state(vq);
    if (r != VIRTQ_OK && r != VIRTQ_EAGAIN)
        return r;
    if (dev->state & VIRTQ__D_BROKEN) {
        virtq__break(vq, VIRTQ_BROKEN_DEVICE);
        return VIRTQ_EBROKEN;
    }
    return r;
}

/* One round of spinning.  The device register read leaves the emulated
   CPU's translated code, giving an emulator's event loop a chance (a
   precaution: QEMU 7.2 runs guest code without its global lock under both
   TCG modes, and the gpu flush-storm test passes even with memory-only
   polling, tests/gpu).  It also shows a pending config change, which is
   how NEEDS_RESET arrives, so a dead device ends the wait now, not at the
   deadline, even with no interrupt handler. */
static void virtq__spin_round(struct virtq_dev *dev)
{
    if (virtq__t_poll(dev))
        (void)virtq_dev_check(dev);
    VIRTQ_CPU_RELAX();
}

#if ((VIRTQ_WAIT) & VIRTQ_WAIT_WFI)
#ifndef VIRTQ_WFI_SLICE_US
/* Longest single wfi: a lost or misrouted interrupt costs at most this
   much latency, not the whole timeout. */
#define VIRTQ_WFI_SLICE_US 10000u
#endif
static void virtq__wait_wfi(struct virtq *vq, uint64_t now, uint64_t deadline)
{
    /* Mask, arm and re-check, then wfi: an interrupt after the check stays
       pending and wakes the wfi instead of being taken before it. */
    unsigned long flags = VIRTQ_IRQ_SAVE();
    if (!virtq_enable_intr(vq)) {
#if defined(VIRTQ_WFI_ALARM_US)
        /* A wake-up that needs no device. */
        VIRTQ_WFI_ALARM_US(deadline - now > VIRTQ_WFI_SLICE_US ? now + VIRTQ_WFI_SLICE_US
                                                                : deadline);
#else
        (void)now; /* VIRTQ_WFI_TICK_US promises a periodic wake-up */
        (void)deadline;
#endif
        VIRTQ_WFI();
    }
    VIRTQ_IRQ_RESTORE(flags); /* the device's handler runs here */
}
#endif

/* The time left, measured by a clock when there is one, else by rounds
   (VIRTQ_SPINS_PER_US per microsecond). */
struct virtq__deadline {
#if defined(VIRTQ_NOW_US)
    uint64_t now, end;
#else
    uint64_t spins;
#endif
    uint32_t timeout_us;
};

static void virtq__deadline_start(struct virtq__deadline *dl, uint32_t timeout_us)
{
    dl->timeout_us = timeout_us;
#if defined(VIRTQ_NOW_US)
    dl->now = (uint64_t)VIRTQ_NOW_US();
    dl->end = dl->now + timeout_us;
#else
    dl->spins = (uint64_t)timeout_us * VIRTQ_SPINS_PER_US + 1u;
#endif
}

/* True once the time is up (reads the clock, or spends one round). */
static int virtq__deadline_passed(struct virtq__deadline *dl)
{
#if defined(VIRTQ_NOW_US)
    dl->now = (uint64_t)VIRTQ_NOW_US();
    return dl->now >= dl->end;
#else
    return dl->spins-- == 0u;
#endif
}

#if ((VIRTQ_WAIT) & VIRTQ_WAIT_OS)
static void virtq__wait_os(struct virtq_dev *dev, struct virtq *vq,
                           const struct virtq__deadline *dl)
{
    /* Futex order: take the sequence before arming and re-checking, so a
       wake after the check ends the block. */
#if VIRTQ_USE_ATOMICS
    /* virtq_dev_isr() bumps it atomically, maybe on another CPU. */
    uint32_t seen = __atomic_load_n(&dev->wake_seq, __ATOMIC_RELAXED);
#else
    uint32_t seen = VIRTQ__LD32(&dev->wake_seq);
#endif
    if (!virtq_enable_intr(vq))
        (void)VIRTQ_OS_WAIT(dev->os_ctx, &dev->wake_seq, seen, dl->end - dl->now);
}
#endif

/* One round of waiting with the device's strategy. */
static void virtq__wait_round(struct virtq_dev *dev, struct virtq *vq,
                              const struct virtq__deadline *dl)
{
    (void)vq;
    (void)dl;
    switch (dev->wait) {
#if ((VIRTQ_WAIT) & VIRTQ_WAIT_OS)
    case VIRTQ_WAIT_OS:
        virtq__wait_os(dev, vq, dl);
        return;
#endif
#if ((VIRTQ_WAIT) & VIRTQ_WAIT_CUSTOM)
    case VIRTQ_WAIT_CUSTOM:
#if defined(VIRTQ_NOW_US)
        VIRTQ_CUSTOM_WAIT(dev, vq, dl->end - dl->now);
#else
        VIRTQ_CUSTOM_WAIT(dev, vq, dl->timeout_us);
#endif
        return;
#endif
#if ((VIRTQ_WAIT) & VIRTQ_WAIT_WFI)
    case VIRTQ_WAIT_WFI:
        if (dev->state & VIRTQ__D_IRQ_ROUTED) {
            virtq__wait_wfi(vq, dl->now, dl->end);
            return;
        }
        break; /* no routed interrupt could end a wfi: spin instead */
#endif
    default:
        break;
    }
    virtq__spin_round(dev);
}

/* Out of time: one last look, then tell a dead device from a slow one. */
static int virtq__wait_expired(struct virtq_dev *dev, struct virtq *vq)
{
    if (virtq__wait_check(dev, vq) == VIRTQ_OK)
        return VIRTQ_OK;
    if (virtq_dev_check(dev) == VIRTQ_EBROKEN) {
        virtq__break(vq, VIRTQ_BROKEN_DEVICE);
        return VIRTQ_EBROKEN;
    }
    return VIRTQ_ETIMEDOUT;
}

VIRTQ_API int virtq_wait(struct virtq_dev *dev, struct virtq *vq, uint32_t timeout_us)
{
    struct virtq__deadline dl;
    if (!virtq__dev_ok(dev) || vq == NULL)
        return VIRTQ_EINVAL;
    virtq__deadline_start(&dl, timeout_us);
    /* 1. something to take (or broken)?  2. time left?  3. wait a round. */
    for (;;) {
        int r = virtq__wait_check(dev, vq);
        if (r != VIRTQ_EAGAIN)
            return r;
        if (virtq__deadline_passed(&dl))
            break;
        virtq__wait_round(dev, vq, &dl);
    }
    return virtq__wait_expired(dev, vq);
}
