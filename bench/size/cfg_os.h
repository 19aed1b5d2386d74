/* SPDX-License-Identifier: MIT */
/* bench/size: VIRTQ_WAIT = SPIN | OS.  The clock and the OS wait/wake are
   extern dummies (defined in stub.c, not counted), as an RTOS port would
   supply them. */
#include <stdint.h>
#define VIRTQ_WAIT (VIRTQ_WAIT_SPIN | VIRTQ_WAIT_OS)
extern uint64_t bench_now_us(void);
extern int bench_os_wait(void *ctx, volatile uint32_t *seq, uint32_t seen, uint64_t timeout_us);
extern void bench_os_wake(void *ctx);
#define VIRTQ_NOW_US() bench_now_us()
#define VIRTQ_OS_WAIT(ctx, seq, seen, t) bench_os_wait((ctx), (seq), (seen), (t))
#define VIRTQ_OS_WAKE(ctx) bench_os_wake(ctx)
