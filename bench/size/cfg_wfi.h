/* SPDX-License-Identifier: MIT */
/* bench/size: VIRTQ_WAIT = SPIN | WFI.  The clock and the alarm are extern
   dummies (defined in stub.c, not counted), as a board would supply them. */
#include <stdint.h>
#define VIRTQ_WAIT (VIRTQ_WAIT_SPIN | VIRTQ_WAIT_WFI)
extern uint64_t bench_now_us(void);
extern void bench_alarm_us(uint64_t deadline_us);
#define VIRTQ_NOW_US() bench_now_us()
#define VIRTQ_WFI_ALARM_US(d) bench_alarm_us(d)
