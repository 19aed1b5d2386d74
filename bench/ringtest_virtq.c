/* SPDX-License-Identifier: MIT */
/* bench/ringtest_virtq.c — virtq's driver as one of the rings of Linux's
   tools/virtio/ringtest, so that both drivers run in the same harness.

   ringtest's main.c runs a guest thread and a host thread against a ring
   file that provides both sides (main.h: add_inbuf, get_buf, ... for the
   guest; use_buf, call_used, ... for the host).  At bench time (mk/bench.mk,
   ringtest_virtq) virtio_ring_0_9.c is compiled unmodified, with its guest
   functions renamed away (-Dadd_inbuf=rt09_add_inbuf, ...), and linked with
   main.c and this file, which provides the guest side with virtq's calls.
   virtio_ring_0_9.c's host side then serves virtq's ring: the split layout
   at 4096 alignment is the same, and bench/ringtest_vring.c points the
   host's `ring` at virtq's memory.  So the two drivers meet the same host,
   the same notification paths and the same wake-ups; only the guest
   differs.  (Kicks and interrupts per request still follow which side is
   faster and so waits for the other: BENCHMARKS.md, "Sleeping".)

   The calls mirror virtio_ring_0_9's guest:
   - add_inbuf: virtq_add, then virtq_publish_defer (ringtest's guest makes
     each add visible at once and decides the kick per batch);
   - kick_available: virtq_kick_prepare, kick() if asked (ringtest calls it
     every --batch adds, and only with --sleep);
   - get_buf / used_empty: virtq_get / virtq_has_used;
   - enable_call / disable_call: virtq_enable_intr / virtq_disable_intr
     (--param 1: virtq_enable_intr_delayed; --param 2:
     virtq_enable_intr_after with a quarter of the ring).
   ringtest posts empty buffers (length 0); virtq refuses an empty segment,
   so each posts one byte, which the host never touches. */
#include "main.h"

#include <stdio.h>
#include <stdlib.h>

#include "virtq.h"

#if !VIRTQ_PUBLISH_DEFER
#error "build with -DVIRTQ_PUBLISH_DEFER=1"
#endif

#define RTV_ALIGN 4096u /* vring_init()'s alignment in virtio_ring_0_9.c */

void rt09_alloc_ring(void);                         /* its host state */
void rtv_point_host(void *mem, unsigned num, unsigned align); /* ringtest_vring.c */

static struct virtq vq;

static void rtv_fail(const char *what, int rc)
{
    fprintf(stderr, "ringtest_virtq: %s: %s\n", what, virtq_strerror(rc));
    exit(4);
}

/* The kick decision over everything published since the last one; in
   polling mode (no --sleep) ringtest's guest never kicks. */
static void rtv_decide(void)
{
    bool notify;
    int rc = virtq_kick_prepare(&vq, &notify);
    if (rc != VIRTQ_OK)
        rtv_fail("kick_prepare", rc);
    if (notify && do_sleep)
        kick();
}

void alloc_ring(void)
{
    struct virtq_slot *slots;
    void *mem;
    int rc;
    rt09_alloc_ring();
    if (posix_memalign(&mem, RTV_ALIGN, VIRTQ_RING_BYTES(ring_size, RTV_ALIGN)) != 0 ||
        (slots = calloc(ring_size, sizeof *slots)) == NULL) {
        perror("ringtest_virtq: ring");
        exit(3);
    }
    /* virtio_ring_0_9's host always uses the event indices. */
    rc = virtq_init(&vq, ring_size, RTV_ALIGN, mem, slots, VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX));
    if (rc != VIRTQ_OK)
        rtv_fail("init", rc);
    rtv_point_host(mem, ring_size, RTV_ALIGN);
}

int add_inbuf(unsigned len, void *buf, void *datap)
{
    struct virtq_buf b;
    int rc;
    b.addr = buf;
    b.len = len != 0u ? len : 1u;
    rc = virtq_add(&vq, &b, 0, 1, datap);
    if (rc == VIRTQ_ENOSPC)
        return -1; /* full, as ringtest's rings say it */
    if (rc != VIRTQ_OK)
        rtv_fail("add", rc);
    rc = virtq_publish_defer(&vq);
    if (rc == VIRTQ_EBUSY) { /* a ring's worth owed (polling mode): decide first */
        rtv_decide();
        rc = virtq_publish_defer(&vq);
    }
    if (rc != VIRTQ_OK)
        rtv_fail("publish_defer", rc);
    return 0;
}

void *get_buf(unsigned *lenp, void **bufp)
{
    void *cookie;
    uint32_t len;
    int rc = virtq_get(&vq, &cookie, &len);
    if (rc == VIRTQ_EAGAIN)
        return NULL;
    if (rc != VIRTQ_OK)
        rtv_fail("get", rc);
    *lenp = len;
    *bufp = NULL; /* ringtest's harness reads neither */
    return cookie;
}

bool used_empty(void)
{
    return !virtq_has_used(&vq);
}

void disable_call(void)
{
    virtq_disable_intr(&vq);
}

/* ringtest: true when nothing is pending, so the guest may sleep.  With
   --param 1 the re-arm is virtq_enable_intr_delayed() (Linux's
   virtqueue_enable_cb_delayed): woken when most of what is in flight is
   used, not at the first; virtio_ring_0_9's guest has only the first.
   With --param 2 it is virtq_enable_intr_after(), woken at the 64th of a
   full 256 ring: three quarters stay in flight to cover the wake-up, so
   the host does not run dry and need a kick. */
bool enable_call(void)
{
    if (param == 2)
        return !virtq_enable_intr_after(&vq, ring_size / 4u);
    return !(param == 1 ? virtq_enable_intr_delayed(&vq) : virtq_enable_intr(&vq));
}

void kick_available(void)
{
    rtv_decide();
}
