/* SPDX-License-Identifier: MIT */
/* fake_control.c — the test controls and accessors of virtq_fake.h. */
#define _GNU_SOURCE
#include "fake_internal.h"

#include <string.h>

/* ---- small public accessors ------------------------------------------------------------------------------------------ */

uintptr_t virtq_fake_base(const struct virtq_fake_dev *dev)
{
    return dev->base;
}

void *virtq_fake_model_ctx(const struct virtq_fake_dev *dev)
{
    return dev->model_ctx;
}

uint32_t virtq_fake_status(struct virtq_fake_dev *dev)
{
    uint32_t v;
    fk_dev_lock(dev);
    v = dev->status;
    fk_dev_unlock(dev);
    return v;
}

uint64_t virtq_fake_driver_features(struct virtq_fake_dev *dev)
{
    uint64_t v;
    fk_dev_lock(dev);
    v = dev->drv_features;
    fk_dev_unlock(dev);
    return v;
}

static int bad_queue(const struct virtq_fake_dev *dev, int q)
{
    return dev == NULL || q < 0 || q >= dev->nq;
}

int virtq_fake_queue_ready(struct virtq_fake_dev *dev, int q)
{
    int v;
    if (bad_queue(dev, q))
        return 0;
    fk_dev_lock(dev);
    v = dev->q[q].ready;
    fk_dev_unlock(dev);
    return v;
}

uint32_t virtq_fake_interrupt_status(struct virtq_fake_dev *dev)
{
    uint32_t v;
    fk_dev_lock(dev);
    v = dev->isr;
    fk_dev_unlock(dev);
    return v;
}

void virtq_fake_set_offered_features(struct virtq_fake_dev *dev, uint64_t features)
{
    fk_dev_lock(dev);
    dev->offered = features;
    fk_dev_unlock(dev);
}

void virtq_fake_refuse_features_ok(struct virtq_fake_dev *dev, int refuse)
{
    fk_dev_lock(dev);
    dev->refuse_fo = (uint8_t)(refuse != 0);
    fk_dev_unlock(dev);
}

void virtq_fake_stick_reset(struct virtq_fake_dev *dev, int stuck)
{
    fk_dev_lock(dev);
    dev->reset_stuck = (uint8_t)(stuck != 0);
    fk_dev_unlock(dev);
}

void virtq_fake_set_irq_callback(struct virtq_fake_dev *dev, virtq_fake_irq_fn fn, void *ctx)
{
    fk_dev_lock(dev);
    dev->irq_fn = fn;
    dev->irq_ctx = ctx;
    fk_dev_unlock(dev);
}

void virtq_fake_connect_irq(struct virtq_fake_dev *dev, int connected)
{
    fk_dev_lock(dev);
    __atomic_store_n(&dev->connected, connected != 0, __ATOMIC_RELAXED);
    fk_dev_unlock(dev);
}

void virtq_fake_raise_irq(struct virtq_fake_dev *dev, uint32_t int_bits)
{
    fk_dev_lock(dev);
    fk_raise_irq(dev, int_bits);
    fk_dev_unlock(dev);
}

void virtq_fake_set_mode(struct virtq_fake_dev *dev, enum virtq_fake_mode mode, uint64_t seed)
{
    fk_dev_lock(dev);
    dev->mode = mode;
    dev->rng = seed ? seed : 0x9e3779b97f4a7c15ull;
    fk_dev_unlock(dev);
}

int virtq_fake_poll(struct virtq_fake_dev *dev, int q)
{
    int n;
    if (bad_queue(dev, q))
        return -1;
    fk_dev_lock(dev);
    n = dev->thread_running ? 0 : fk_serve_queue(dev, q);
    fk_dev_unlock(dev);
    return n;
}

int virtq_fake_step(struct virtq_fake_dev *dev, int q, int n)
{
    int k = -1;
    if (bad_queue(dev, q))
        return -1;
    fk_dev_lock(dev);
    if (!dev->thread_running) {
        if (dev->q[q].suppress)
            fk_pop_avail(dev, q);
        k = fk_complete_some(dev, q, n, 0);
    }
    fk_dev_unlock(dev);
    return k;
}

int virtq_fake_pending(struct virtq_fake_dev *dev, int q)
{
    int n;
    if (bad_queue(dev, q))
        return -1;
    fk_dev_lock(dev);
    n = dev->q[q].npending;
    fk_dev_unlock(dev);
    return n;
}

int virtq_fake_in_flight(struct virtq_fake_dev *dev, int q)
{
    const struct fake_req *r;
    int n;
    if (bad_queue(dev, q))
        return -1;
    fk_dev_lock(dev);
    n = dev->q[q].npending;
    for (r = dev->q[q].parked; r; r = r->next)
        n += r->epoch == dev->q[q].epoch;
    fk_dev_unlock(dev);
    return n;
}

void virtq_fake_req_complete(struct virtq_fake_dev *dev, struct virtq_fake_req *req, uint32_t written)
{
    struct fake_req *r = (struct fake_req *)req, **pp = NULL;
    struct fake_queue *q = NULL;
    int qi;
    fk_dev_lock(dev);
    /* Find it by address only: a stale pointer is never dereferenced. */
    for (qi = 0; qi < dev->nq && pp == NULL; qi++) {
        struct fake_req **p;
        for (p = &dev->q[qi].parked; *p; p = &(*p)->next)
            if (*p == r) {
                pp = p;
                q = &dev->q[qi];
                break;
            }
    }
    qi--;
    if (pp == NULL || r->state != REQ_HELD) {
        fk_vio(dev, -1, NULL, "model completed a request it does not hold");
    } else {
        *pp = r->next;
        if (r->epoch != q->epoch || !fk_can_serve(dev, q)) {
            fk_req_release(q, r); /* the queue was reset or disabled meanwhile */
        } else {
            if (written > r->pub.writable) {
                fk_vio(dev, qi, NULL, "model says it wrote %u bytes into %u writable ones", written, r->pub.writable);
                written = r->pub.writable;
            }
            fk_batch_begin(q);
            fk_finish_req(dev, q, r, written);
            fk_batch_end(dev, qi, q);
        }
    }
    fk_dev_unlock(dev);
}

uint32_t virtq_fake_req_read(const struct virtq_fake_req *req, uint32_t off, void *dst, uint32_t len)
{
    uint32_t done = 0;
    int i;
    for (i = 0; i < req->nseg && done < len; i++) {
        const struct virtq_fake_seg *s = &req->seg[i];
        uint32_t n;
        if (s->writable)
            break;
        if (off >= s->len) {
            off -= s->len;
            continue;
        }
        n = s->len - off < len - done ? s->len - off : len - done;
        if (!fk_cache_dev_read("segment", s->addr, req->queue, req->head, (const char *)s->addr + off,
                               (char *)dst + done, n))
            memcpy((char *)dst + done, (const char *)s->addr + off, n);
        done += n;
        off = 0;
    }
    return done;
}

uint32_t virtq_fake_req_write(const struct virtq_fake_req *req, uint32_t off, const void *src, uint32_t len)
{
    uint32_t done = 0;
    int i;
    for (i = 0; i < req->nseg && done < len; i++) {
        const struct virtq_fake_seg *s = &req->seg[i];
        uint32_t n;
        if (!s->writable)
            continue;
        if (off >= s->len) {
            off -= s->len;
            continue;
        }
        n = s->len - off < len - done ? s->len - off : len - done;
        if (!fk_cache_dev_write("segment", s->addr, req->queue, req->head, (char *)s->addr + off,
                                (const char *)src + done, n))
            memcpy((char *)s->addr + off, (const char *)src + done, n);
        done += n;
        off = 0;
    }
    return done;
}

void virtq_fake_suppress_notify(struct virtq_fake_dev *dev, int q, int on)
{
    if (bad_queue(dev, q))
        return;
    fk_dev_lock(dev);
    dev->q[q].suppress = (uint8_t)(on != 0);
    fk_publish_notify_wish(dev, &dev->q[q]);
    fk_dev_unlock(dev);
}

int virtq_fake_inject(struct virtq_fake_dev *dev, int q, enum virtq_fake_fault fault, int count)
{
    int i;
    if (dev == NULL || count < 0 || (unsigned)fault > (unsigned)VIRTQ_FAKE_FAULT_NEEDS_RESET)
        return -1;
    if (fault < VIRTQ_FAKE_FAULT_SPURIOUS_IRQ && fault != VIRTQ_FAKE_FAULT_NONE && bad_queue(dev, q))
        return -1;
    fk_dev_lock(dev);
    switch (fault) {
    case VIRTQ_FAKE_FAULT_SPURIOUS_IRQ:
        /* The line rises with nothing in InterruptStatus. */
        for (i = 0; i < count; i++) {
            dev->raise_pending = 1;
            dev->st.irqs++;
        }
        break;
    case VIRTQ_FAKE_FAULT_SPURIOUS_VRING:
        for (i = 0; i < count; i++)
            fk_raise_irq(dev, VIRTIO_MMIO_INT_VRING);
        break;
    case VIRTQ_FAKE_FAULT_NEEDS_RESET:
        if (count > 0)
            fk_set_needs_reset(dev);
        break;
    case VIRTQ_FAKE_FAULT_NONE:
        if (!bad_queue(dev, q)) {
            dev->q[q].fault = VIRTQ_FAKE_FAULT_NONE;
            dev->q[q].fault_count = 0;
        }
        break;
    default:
        dev->q[q].fault = count ? (int)fault : VIRTQ_FAKE_FAULT_NONE;
        dev->q[q].fault_count = count;
        break;
    }
    fk_dev_unlock(dev);
    return 0;
}

int virtq_fake_queue_view(struct virtq_fake_dev *dev, int q, struct virtq_fake_queue_view *out)
{
    struct fake_queue *fq;
    int rc = -1;
    if (bad_queue(dev, q) || out == NULL)
        return -1;
    fk_dev_lock(dev);
    fq = &dev->q[q];
    if (fq->ready && !fq->packed) {
        out->desc = fq->desc;
        out->avail = fq->avail;
        out->used = fq->used;
        out->used_event = fk_used_event_ptr(fq);
        out->avail_event = fk_avail_event_ptr(fq);
        out->num = fq->num;
        out->last_avail = fq->last_avail;
        out->used_idx = fq->used_idx;
        rc = 0;
    }
    fk_dev_unlock(dev);
    return rc;
}

int virtq_fake_push_used_raw(struct virtq_fake_dev *dev, int q, uint32_t id, uint32_t len)
{
    struct fake_queue *fq;
    int rc = -1;
    if (bad_queue(dev, q))
        return -1;
    fk_dev_lock(dev);
    fq = &dev->q[q];
    if (fq->ready) {
        fk_batch_begin(fq);
        if (fq->packed)
            fk_packed_put_used(dev, fq, id, len, 1);
        else
            fk_put_used(fq, id, len);
        fk_batch_end(dev, q, fq);
        rc = 0;
    }
    fk_dev_unlock(dev);
    return rc;
}

int virtq_fake_config_set(struct virtq_fake_dev *dev, uint32_t off, const void *data, uint32_t len, int notify_driver)
{
    if (off > dev->config_len || len > dev->config_len - off)
        return -1;
    fk_dev_lock(dev);
    memcpy(dev->config + off, data, len);
    dev->generation++;
    if (notify_driver && (dev->status & ST_DRIVER_OK))
        fk_raise_irq(dev, VIRTIO_MMIO_INT_CONFIG);
    fk_dev_unlock(dev);
    return 0;
}

uint8_t *virtq_fake_config_bytes(struct virtq_fake_dev *dev)
{
    return dev->config;
}

void virtq_fake_config_bump(struct virtq_fake_dev *dev)
{
    fk_dev_lock(dev);
    dev->generation++;
    fk_dev_unlock(dev);
}

void virtq_fake_config_flap(struct virtq_fake_dev *dev, uint32_t n)
{
    fk_dev_lock(dev);
    dev->flap = n;
    fk_dev_unlock(dev);
}

void virtq_fake_get_stats(struct virtq_fake_dev *dev, struct virtq_fake_stats *out)
{
    int i;
    fk_dev_lock(dev);
    *out = dev->st;
    for (i = 0; i < dev->nq; i++)
        out->q[i] = dev->q[i].st;
    fk_dev_unlock(dev);
}
