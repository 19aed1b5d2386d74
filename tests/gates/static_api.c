/* SPDX-License-Identifier: MIT */
/* VIRTQ_STATIC: the whole implementation as static functions, a private
 * copy inside one translation unit.  The gate compiles this file twice,
 * with GATE_STATIC_ENTRY naming a different exported function each time,
 * checks that each object exports that one symbol and nothing of virtq's,
 * and links both copies into one program: no duplicate symbols, and each
 * copy works.  It is built with the full warning set (-Wall includes
 * -Wunused-function) and -Werror, although it calls only part of the API:
 * a VIRTQ_STATIC user must not be forced to call everything. */
#define VIRTQ_STATIC
#define VIRTQ_IMPLEMENTATION
#include "virtq.h"

#if !defined(GATE_STATIC_ENTRY)
#error "define GATE_STATIC_ENTRY to the function this copy exports"
#endif

/* C linkage in a C++ build too, so static_main.c (C) can call it. */
#if defined(__cplusplus)
#define GATE_EXTERN_C extern "C"
#else
#define GATE_EXTERN_C
#endif

GATE_EXTERN_C int GATE_STATIC_ENTRY(void);

static uint64_t ring_store[(VIRTQ_RING_BYTES(4, VIRTQ_ALIGN_MODERN) + 16u) / 8u + 1u];
static struct virtq_slot slots[4];

/* 0 when this private copy behaves, else the number of the failed step. */
int GATE_STATIC_ENTRY(void)
{
    struct virtq vq;
    void *mem = (void *)(((uintptr_t)ring_store + 15u) & ~(uintptr_t)15u);
    if (virtq_ring_bytes(4, VIRTQ_ALIGN_MODERN) != VIRTQ_RING_BYTES(4, VIRTQ_ALIGN_MODERN))
        return 1;
    if (virtq_ring_bytes(5, VIRTQ_ALIGN_MODERN) != 0u)
        return 2;
    if (virtq_strerror(VIRTQ_OK) == virtq_strerror(VIRTQ_EINVAL))
        return 3;
    if (virtq_init(&vq, 4, VIRTQ_ALIGN_MODERN, mem, slots, 0) != VIRTQ_OK)
        return 4;
    if (virtq_num_free(&vq) != 4u || virtq_is_broken(&vq) != 0)
        return 5;
    return 0;
}
