/* SPDX-License-Identifier: MIT */
/* tests/ring/t_main.c — runs every split-ring test group.  This is the one
   translation unit that compiles virtq's implementation. */
#include "ring_test.h"

/* Every barrier virtq issues goes through rt_barrier() (a real fence plus
   a count and a test hook), so t_order.c can check what is ordered before
   what.  Only this translation unit holds the implementation, so only it
   needs the overrides. */
#define VIRTQ_MB() rt_barrier(RT_MB)
#define VIRTQ_RMB() rt_barrier(RT_RMB)
#define VIRTQ_WMB() rt_barrier(RT_WMB)
#define VIRTQ_DMA_MB() rt_barrier(RT_DMA_MB)
#define VIRTQ_DMA_RMB() rt_barrier(RT_DMA_RMB)
#define VIRTQ_DMA_WMB() rt_barrier(RT_DMA_WMB)
/* virtq's log lines are kept (t_get.c checks one message per reason a
   queue breaks) and its internal assertions fail the test. */
#define VIRTQ_LOG(...) rt_log(__VA_ARGS__)
#define VIRTQ_ASSERT(x) ((x) ? (void)0 : rt_assert_failed(#x, __FILE__, __LINE__))
#define VIRTQ_IMPLEMENTATION
#include "virtq.h"

#include <stdio.h>

int main(int argc, char **argv)
{
    int failed = 0;
    /* Optional: a cmocka test-name filter (glob), e.g. "*wrap*". */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    failed += rt_group_layout();
    failed += rt_group_add();
    failed += rt_group_publish();
    failed += rt_group_submit();
    failed += rt_group_get();
    failed += rt_group_intr();
    failed += rt_group_order();
    failed += rt_group_detach();
    failed += rt_group_ooo();
    failed += rt_group_wrap();
    printf("ring tests: %d failed\n", failed);
    return failed != 0;
}
