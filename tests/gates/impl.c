/* SPDX-License-Identifier: MIT */
/* The virtq implementation translation unit the gates compile.
 *
 * Each GATE_* macro on the command line supplies one platform hook, as a
 * call to an external function declared here.  The compile gate checks
 * that an object built from this file references no undefined symbol but
 * these hooks (no memset, memcpy, abort, __atomic_* or libgcc helpers), so
 * the list below is also the whole list of what virtq may call out to.
 *
 *   GATE_NOW     VIRTQ_NOW_US()          monotonic clock (us)
 *   GATE_ALARM   VIRTQ_WFI_ALARM_US(d)   wfi wake-up alarm
 *   GATE_TICK    VIRTQ_WFI_TICK_US       a periodic tick instead of an alarm
 *   GATE_OS      VIRTQ_OS_WAIT / _WAKE   futex-like block and wake
 *   GATE_CUSTOM  VIRTQ_CUSTOM_WAIT       caller-supplied wait step
 *
 * VIRTQ_WAIT, VIRTQ_STATIC, VIRTQ_USE_ATOMICS... come from the command line
 * too.  Only <stdint.h> is included here: the freestanding builds use
 * -nostdinc with the compiler's own header directory, so anything else
 * virtq.h pulled in would fail to compile. */
#include <stdint.h>

#if defined(GATE_NOW)
uint64_t gate_now_us(void);
#define VIRTQ_NOW_US() gate_now_us()
#endif

#if defined(GATE_ALARM)
void gate_wfi_alarm_us(uint64_t deadline_us);
#define VIRTQ_WFI_ALARM_US(deadline_us) gate_wfi_alarm_us(deadline_us)
#endif

#if defined(GATE_TICK)
#define VIRTQ_WFI_TICK_US 1000u
#endif

#if defined(GATE_OS)
int gate_os_wait(void *ctx, volatile uint32_t *seq, uint32_t seen, uint64_t timeout_us);
void gate_os_wake(void *ctx);
#define VIRTQ_OS_WAIT(ctx, seq, seen, timeout_us) gate_os_wait((ctx), (seq), (seen), (timeout_us))
#define VIRTQ_OS_WAKE(ctx) gate_os_wake(ctx)
#endif

#if defined(GATE_CUSTOM)
struct virtq_dev;
struct virtq;
void gate_custom_wait(struct virtq_dev *dev, struct virtq *vq, uint64_t remaining_us);
#define VIRTQ_CUSTOM_WAIT(dev, vq, remaining_us) gate_custom_wait((dev), (vq), (remaining_us))
#endif

#define VIRTQ_IMPLEMENTATION
#include "virtq.h"
