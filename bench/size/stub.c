/* SPDX-License-Identifier: MIT */
/* bench/size: the rest of a program that links virtq, whose bytes are not
   counted: an entry point and the hooks the wait configurations call.
   size.py keeps the row's functions with -Wl,-u,<name>. */
#include <stdint.h>

void _start(void);
uint64_t bench_now_us(void);
void bench_alarm_us(uint64_t deadline_us);
int bench_os_wait(void *ctx, volatile uint32_t *seq, uint32_t seen, uint64_t timeout_us);
void bench_os_wake(void *ctx);

void _start(void)
{
    for (;;) {
    }
}

static volatile uint64_t fake_clock;

uint64_t bench_now_us(void) { return fake_clock++; }
void bench_alarm_us(uint64_t deadline_us) { fake_clock = deadline_us; }
int bench_os_wait(void *ctx, volatile uint32_t *seq, uint32_t seen, uint64_t timeout_us)
{
    (void)ctx;
    (void)timeout_us;
    return *seq != seen;
}
void bench_os_wake(void *ctx) { (void)ctx; }
