/* SPDX-License-Identifier: MIT */
/* Compile gate for shims/aarch64 (make test-aarch64-shim): virtq's whole
 * implementation configured by the AArch64 shim alone, built freestanding
 * with gcc and clang, with and without -mgeneral-regs-only, with the cache
 * hooks on and with the C11-atomics barrier flavour.  A few calls keep the
 * shim's inline functions in the object for the disassembly checks. */
#define VIRTQ_IMPLEMENTATION
#include "virtq.h"

uint64_t shim_gate_now(void);
void shim_gate_alarm(uint64_t d);
uint32_t shim_gate_notify(uintptr_t reg, uint32_t v);
void shim_gate_sync(void *p, uint32_t len);
unsigned long shim_gate_mask(void);

uint64_t shim_gate_now(void) { return VIRTQ_NOW_US(); }
void shim_gate_alarm(uint64_t d) { VIRTQ_WFI_ALARM_US(d); }
uint32_t shim_gate_notify(uintptr_t reg, uint32_t v)
{
    VIRTQ_MMIO_WRITE32(reg, v);
    VIRTQ_MMIO_WRITE16(reg + 4u, (uint16_t)v);
    VIRTQ_MMIO_WRITE8(reg + 6u, (uint8_t)v);
    return VIRTQ_MMIO_READ32(reg);
}
void shim_gate_sync(void *p, uint32_t len)
{
    (void)p; /* the coherent default hooks expand to nothing */
    (void)len;
    VIRTQ_DMA_SYNC_FOR_DEVICE(p, len, 1);
    VIRTQ_DMA_SYNC_FOR_CPU(p, len);
}
unsigned long shim_gate_mask(void)
{
    unsigned long f = VIRTQ_IRQ_SAVE();
    VIRTQ_WFI();
    VIRTQ_IRQ_RESTORE(f);
    return f;
}
