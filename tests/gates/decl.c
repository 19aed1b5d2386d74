/* SPDX-License-Identifier: MIT */
/* virtq.h without VIRTQ_IMPLEMENTATION: what every user file but one sees.
 * Uses the compile-time parts of the public API (the ring-size macro in a
 * static array size, the wire structs, virtq_need_event) so that a
 * declaration-only build exercises more than the prototypes. */
#include "virtq.h"

/* A 256-entry modern ring placed statically, as the manual suggests. */
static unsigned char gate_ring[VIRTQ_RING_BYTES(256, VIRTQ_ALIGN_MODERN)];

int gate_decl_probe(void);

int gate_decl_probe(void)
{
    struct virtq_desc d;
    struct virtq_used_elem e;
    d.addr = (uint64_t)(uintptr_t)gate_ring;
    d.len = (uint32_t)sizeof gate_ring;
    d.flags = (uint16_t)(VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE);
    d.next = 1;
    e.id = d.next;
    e.len = d.len;
    /* event 5 lies in [3, 7): crossing it needs a notification */
    return virtq_need_event(5, 7, 3) + (int)(e.len - d.len) + (int)(e.id - 1u);
}
