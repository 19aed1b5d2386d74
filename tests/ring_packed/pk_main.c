/* SPDX-License-Identifier: MIT */
/* tests/ring_packed/pk_main.c — runs every packed-ring test group; the one
   translation unit with virtq's implementation (both rings built in). */
#include "pk_test.h"

/* Every barrier virtq issues goes through pk_barrier(), so the tests can
   check what is stored before each one. */
#define VIRTQ_MB() pk_barrier(PK_MB)
#define VIRTQ_RMB() pk_barrier(PK_RMB)
#define VIRTQ_WMB() pk_barrier(PK_WMB)
#define VIRTQ_DMA_MB() pk_barrier(PK_DMA_MB)
#define VIRTQ_DMA_RMB() pk_barrier(PK_DMA_RMB)
#define VIRTQ_DMA_WMB() pk_barrier(PK_DMA_WMB)
#define VIRTQ_IMPLEMENTATION
#include "virtq.h"

#include <stdio.h>

int main(int argc, char **argv)
{
    int failed = 0;
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    failed += pk_group_basic();
    failed += pk_group_hostile();
    failed += pk_group_sim();
    printf("packed ring tests: %d failed\n", failed);
    return failed != 0;
}
