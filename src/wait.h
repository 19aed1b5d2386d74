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
    if (VIRTQ__R32(dev, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG)
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

VIRTQ_API int virtq_wait(struct virtq_dev *dev, struct virtq *vq, uint32_t timeout_us)
{
#if defined(VIRTQ_NOW_US)
    uint64_t now, deadline = (uint64_t)VIRTQ_NOW_US() + timeout_us;
#else
    uint64_t spins = (uint64_t)timeout_us * VIRTQ_SPINS_PER_US + 1u;
#endif
    if (!virtq__dev_ok(dev) || vq == NULL)
        return VIRTQ_EINVAL;
    for (;;) {
        int r = virtq__wait_check(dev, vq);
        if (r != VIRTQ_EAGAIN)
            return r;
#if defined(VIRTQ_NOW_US)
        now = (uint64_t)VIRTQ_NOW_US();
        if (now >= deadline)
            break;
#else
        if (spins-- == 0u)
            break;
#endif
        switch (dev->wait) {
#if ((VIRTQ_WAIT) & VIRTQ_WAIT_OS)
        case VIRTQ_WAIT_OS: {
            /* Futex order: take the sequence before arming and
               re-checking, so a wake after the check ends the block. */
#if VIRTQ_USE_ATOMICS
            /* virtq_dev_isr() bumps it atomically, maybe on another CPU. */
            uint32_t seen = __atomic_load_n(&dev->wake_seq, __ATOMIC_RELAXED);
#else
            uint32_t seen = VIRTQ__LD32(&dev->wake_seq);
#endif
            if (!virtq_enable_intr(vq))
                (void)VIRTQ_OS_WAIT(dev->os_ctx, &dev->wake_seq, seen, deadline - now);
            break;
        }
#endif
#if ((VIRTQ_WAIT) & VIRTQ_WAIT_CUSTOM)
        case VIRTQ_WAIT_CUSTOM:
#if defined(VIRTQ_NOW_US)
            VIRTQ_CUSTOM_WAIT(dev, vq, deadline - now);
#else
            VIRTQ_CUSTOM_WAIT(dev, vq, timeout_us);
#endif
            break;
#endif
#if ((VIRTQ_WAIT) & VIRTQ_WAIT_WFI)
        case VIRTQ_WAIT_WFI:
            if (dev->state & VIRTQ__D_IRQ_ROUTED) {
                virtq__wait_wfi(vq, now, deadline);
                break;
            }
            /* No routed interrupt could end a wfi: spin instead. */
            virtq__spin_round(dev);
            break;
#endif
        default:
            virtq__spin_round(dev);
            break;
        }
    }
    /* Out of time: one last look, then tell a dead device from a slow one. */
    if (virtq__wait_check(dev, vq) == VIRTQ_OK)
        return VIRTQ_OK;
    if (virtq_dev_check(dev) == VIRTQ_EBROKEN) {
        virtq__break(vq, VIRTQ_BROKEN_DEVICE);
        return VIRTQ_EBROKEN;
    }
    return VIRTQ_ETIMEDOUT;
}
