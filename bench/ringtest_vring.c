/* SPDX-License-Identifier: MIT */
/* bench/ringtest_vring.c — points virtio_ring_0_9.c's host (its global
   `ring`) at virtq's ring memory, for bench/ringtest_virtq.c.  Apart from
   that file because it needs Linux's <linux/virtio_ring.h>, whose names
   would meet virtq.h's. */
#include <linux/virtio_ring.h>

extern struct vring ring; /* defined in ringtest's virtio_ring_0_9.c */

void rtv_point_host(void *mem, unsigned num, unsigned align);

void rtv_point_host(void *mem, unsigned num, unsigned align)
{
    vring_init(&ring, num, mem, align);
}
