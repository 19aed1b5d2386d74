/* SPDX-License-Identifier: MIT */
/* A tiny virtq user built from an installed tree (tests/install, mk/install.mk):
   the implementation in this one file, a ring laid out and used once with
   no device (add, publish, detach), and the version it was built against. */
#define VIRTQ_IMPLEMENTATION
#include "virtq.h"

#include <stdio.h>

#ifndef WANT_VERSION
#error "build with -DWANT_VERSION=<VIRTQ_VERSION of the tree under test>"
#endif

static uint8_t ring[VIRTQ_RING_BYTES(8, VIRTQ_ALIGN_MODERN)] __attribute__((aligned(16)));
static struct virtq_slot slots[8];

int main(void)
{
    struct virtq vq;
    static uint8_t buf[4];
    struct virtq_buf b = {buf, sizeof buf};
    void *cookie = NULL;
    bool notify = false;
    if (VIRTQ_VERSION != WANT_VERSION) {
        printf("consumer: virtq.h says %d, want %d\n", VIRTQ_VERSION, WANT_VERSION);
        return 1;
    }
    if (virtq_init(&vq, 8, VIRTQ_ALIGN_MODERN, ring, slots, 0) != VIRTQ_OK ||
        virtq_add(&vq, &b, 1, 0, buf) != VIRTQ_OK || virtq_publish(&vq, &notify) != VIRTQ_OK ||
        !notify || virtq_detach(&vq, &cookie) != VIRTQ_OK || cookie != buf) {
        printf("consumer: ring round trip failed\n");
        return 1;
    }
    printf("consumer: virtq %d.%d.%d ok\n", VIRTQ_VERSION_MAJOR, VIRTQ_VERSION_MINOR,
           VIRTQ_VERSION_PATCH);
    return 0;
}
