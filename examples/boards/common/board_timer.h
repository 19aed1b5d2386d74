/* SPDX-License-Identifier: MIT */
/* The one-shot alarm and the scheduler's tick share one timer comparator
 * on every board: board_timer.c keeps both deadlines and the scheduler
 * hooks, the board only drives its hardware.  Private to the board layer
 * (board.c and common/), not part of the board API.
 *
 * What a board.c provides (called with interrupts masked):
 *   void board__timer_hw(uint64_t ticks)   arm the comparator at absolute
 *       counter ticks (a past value fires at once; it replaces the earlier
 *       value and silences a pending one), or disarm it at BOARD_NEVER
 *   uint64_t board__us_to_ticks(uint64_t us), board__ticks_to_us(uint64_t)
 * and what it calls:
 *   board__timer_start()   at start-up: no deadline, comparator off
 *   board__timer_isr()     from its timer interrupt
 *   board__switch_hook()   the scheduler's switch hook (or NULL), at the
 *                          end of a trap that asked for a switch
 *   board__timer_stats()   adds timer_irqs and alarm_fires to its stats */
#ifndef BOARD_TIMER_H
#define BOARD_TIMER_H

#include "board_api.h"

void board__timer_hw(uint64_t ticks);
uint64_t board__us_to_ticks(uint64_t us);
uint64_t board__ticks_to_us(uint64_t ticks);

void board__timer_start(void);
void board__timer_isr(void);
board_switch_fn board__switch_hook(void);
void board__timer_stats(board_stats *out);

#endif /* BOARD_TIMER_H */
