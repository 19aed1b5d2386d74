/* SPDX-License-Identifier: MIT */
/* tests/ring/trace/tr_impl.c — virtq's implementation, built with access
   instrumentation (see tr.h).  TR_CONFIG selects the build. */
#include "tr.h"

#if !defined(TR_CONFIG)
#error "build with -DTR_CONFIG=TR_CFG_VOL|TR_CFG_ATOMICS|TR_CFG_NOCLOCK"
#endif

#if TR_CONFIG == TR_CFG_VOL
/* Barrier hooks: the kind and the exact position of every barrier. */
#define VIRTQ_MB() tr_barrier(TR_MB)
#define VIRTQ_RMB() tr_barrier(TR_RMB)
#define VIRTQ_WMB() tr_barrier(TR_WMB)
#define VIRTQ_DMA_MB() tr_barrier(TR_DMA_MB)
#define VIRTQ_DMA_RMB() tr_barrier(TR_DMA_RMB)
#define VIRTQ_DMA_WMB() tr_barrier(TR_DMA_WMB)
#define VIRTQ_USE_ATOMICS 0
#elif TR_CONFIG == TR_CFG_ATOMICS
/* The shim's own barriers (C11 fences in this configuration). */
#define VIRTQ_USE_ATOMICS 1
#elif TR_CONFIG == TR_CFG_NOCLOCK
#define VIRTQ_MB() tr_barrier(TR_MB)
#define VIRTQ_RMB() tr_barrier(TR_RMB)
#define VIRTQ_WMB() tr_barrier(TR_WMB)
#define VIRTQ_DMA_MB() tr_barrier(TR_DMA_MB)
#define VIRTQ_DMA_RMB() tr_barrier(TR_DMA_RMB)
#define VIRTQ_DMA_WMB() tr_barrier(TR_DMA_WMB)
#define VIRTQ_USE_ATOMICS 0
#define VIRTQ_SPINS_PER_US 3u
#endif

#define VIRTQ_MMIO_READ8(a) ((uint8_t)tr_mmio_read((a), 1))
#define VIRTQ_MMIO_READ16(a) ((uint16_t)tr_mmio_read((a), 2))
#define VIRTQ_MMIO_READ32(a) tr_mmio_read((a), 4)
#define VIRTQ_MMIO_WRITE32(a, v) tr_mmio_write((a), (v), 4)
#define VIRTQ_CPU_RELAX() tr_relax()

#if TR_CONFIG != TR_CFG_NOCLOCK
#define VIRTQ_NOW_US() tr_now_us()
#define VIRTQ_OS_WAIT(ctx, seq, seen, t) tr_os_wait((ctx), (seq), (seen), (t))
#define VIRTQ_OS_WAKE(ctx) tr_os_wake(ctx)
#define VIRTQ_IRQ_SAVE() tr_irq_save()
#define VIRTQ_IRQ_RESTORE(f) tr_irq_restore(f)
#define VIRTQ_WFI() tr_wfi()
#define VIRTQ_WFI_ALARM_US(d) tr_wfi_alarm(d)
#define VIRTQ_WAIT (VIRTQ_WAIT_SPIN | VIRTQ_WAIT_WFI | VIRTQ_WAIT_OS)
#endif

#define VIRTQ_IMPLEMENTATION
#include "virtq.h"

const int tr_config = TR_CONFIG;
const unsigned tr_spins_per_us = VIRTQ_SPINS_PER_US;
