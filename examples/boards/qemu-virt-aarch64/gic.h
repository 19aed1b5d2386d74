/* SPDX-License-Identifier: MIT */
/* GICv2 / GICv3 driver for one core at EL1 (non-secure, QEMU virt), picked
 * at run time: ID_AA64PFR0_EL1.GIC says whether the core has the GICv3
 * system-register CPU interface, and the distributor's PIDR2 must agree. */
#ifndef GIC_H
#define GIC_H

#include <stdint.h>

#define GIC_INTID_MASK 0x3ffu    /* GICv2 IAR also carries the source CPU */
#define GIC_SPURIOUS 1020u       /* 1020..1023: nothing to acknowledge */
#define GIC_PRIORITY 0xa0u       /* every enabled interrupt; mask lets all in */

/* Find the version, enable distributor and CPU interface, disable and
 * clear every interrupt, configure SPIs level-triggered to this core. */
void gic_init(void);
int gic_version(void);                  /* 2 or 3, after gic_init */
/* Enable/disable one INTID (SGI, PPI or SPI). */
void gic_enable(uint32_t intid, int on);
/* Acknowledge the highest-priority pending interrupt: returns the raw
 * IAR value (INTID in the low 10 bits, >= GIC_SPURIOUS when none). */
uint32_t gic_ack(void);
/* End of interrupt: priority drop and deactivate, with the raw IAR. */
void gic_eoi(uint32_t iar);
/* Raise SGI intid (0..15) on this core. */
void gic_send_sgi_self(uint32_t intid);

#endif /* GIC_H */
