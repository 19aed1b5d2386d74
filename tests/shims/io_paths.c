/* SPDX-License-Identifier: MIT */
/* The virtq implementation with the WFI strategy built in, compiled for a
 * bare-metal target by tests/shims/io_order.py, which disassembles the
 * object and counts the I/O-ordering barriers and the wfi in the notify
 * (virtq_dev_notify), interrupt (virtq_dev_isr) and wait (virtq_wait)
 * paths.  The clock and alarm are external so nothing is inlined away. */
#include <stdint.h>

uint64_t gate_now_us(void);
void gate_alarm_us(uint64_t deadline_us);

#define VIRTQ_WAIT (VIRTQ_WAIT_SPIN | VIRTQ_WAIT_WFI)
#define VIRTQ_NOW_US() gate_now_us()
#define VIRTQ_WFI_ALARM_US(d) gate_alarm_us(d)
#define VIRTQ_IMPLEMENTATION
#include "virtq.h"
