/* SPDX-License-Identifier: MIT */
/* GICv2 / GICv3 for QEMU virt at EL1 (see gic.h).  Register offsets from the
 * GIC architecture specification; QEMU runs the GIC without security
 * extensions here (GICD_CTLR.DS = 1 on GICv3), so the non-secure EL1 view
 * owns everything and Group 1 is the group to use on GICv3. */
#include "gic.h"

#include "board_api.h"

/* Distributor, both versions. */
#define GICD_CTLR 0x000
#define GICD_TYPER 0x004
#define GICD_IGROUPR(n) (0x080 + 4 * ((n) / 32))
#define GICD_ISENABLER(n) (0x100 + 4 * ((n) / 32))
#define GICD_ICENABLER(n) (0x180 + 4 * ((n) / 32))
#define GICD_ICPENDR(n) (0x280 + 4 * ((n) / 32))
#define GICD_ICACTIVER(n) (0x380 + 4 * ((n) / 32))
#define GICD_IPRIORITYR(n) (0x400 + (n))          /* byte access */
#define GICD_ITARGETSR(n) (0x800 + (n))           /* byte access, GICv2 */
#define GICD_ICFGR(n) (0xc00 + 4 * ((n) / 16))
#define GICD_SGIR 0xf00                           /* GICv2 */
#define GICD_IROUTER(n) (0x6000 + 8 * (n))        /* GICv3, SPIs */
#define GICD_PIDR2 0xffe8
#define GICD_PIDR2_V2 0xfe8                       /* GICv2 keeps ID regs at 4K */
#define GICD_CTLR_RWP (1u << 31)
#define GICD_CTLR_ENABLE_G1 (1u << 1)             /* GICv3, DS=1 */
#define GICD_CTLR_ARE (1u << 4)                   /* GICv3, DS=1 */

/* GICv2 CPU interface. */
#define GICC_CTLR 0x00
#define GICC_PMR 0x04
#define GICC_BPR 0x08
#define GICC_IAR 0x0c
#define GICC_EOIR 0x10

/* GICv3 redistributor of core 0: RD_base, then SGI_base 64 KiB above. */
#define GICR_WAKER 0x0014
#define GICR_WAKER_SLEEP (1u << 1)
#define GICR_WAKER_ASLEEP (1u << 2)
#define GICR_SGI 0x10000
#define GICR_IGROUPR0 (GICR_SGI + 0x080)
#define GICR_ISENABLER0 (GICR_SGI + 0x100)
#define GICR_ICENABLER0 (GICR_SGI + 0x180)
#define GICR_ICPENDR0 (GICR_SGI + 0x280)
#define GICR_ICACTIVER0 (GICR_SGI + 0x380)
#define GICR_IPRIORITYR(n) (GICR_SGI + 0x400 + (n))
#define GICR_ICFGR1 (GICR_SGI + 0xc04)

/* GICv3 CPU interface system registers, by encoding (no assembler needs
 * to know the GIC names). */
#define ICC_PMR_EL1 "s3_0_c4_c6_0"
#define ICC_IAR1_EL1 "s3_0_c12_c12_0"
#define ICC_EOIR1_EL1 "s3_0_c12_c12_1"
#define ICC_BPR1_EL1 "s3_0_c12_c12_3"
#define ICC_CTLR_EL1 "s3_0_c12_c12_4"
#define ICC_SRE_EL1 "s3_0_c12_c12_5"
#define ICC_IGRPEN1_EL1 "s3_0_c12_c12_7"
#define ICC_SGI1R_EL1 "s3_0_c12_c11_5"
#define ICC_WRITE(reg, v) __asm__ volatile("msr " reg ", %0" : : "r"((uint64_t)(v)) : "memory")
#define ICC_READ(reg, v) __asm__ volatile("mrs %0, " reg : "=r"(v) : : "memory")

#define POLLS 1000000   /* bound on RWP / WAKER polls */

static int version;
static uint32_t nlines;   /* INTIDs the distributor implements */

static inline uint32_t rd32(uintptr_t a) { return *(volatile uint32_t *)a; }
static inline void wr32(uintptr_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static inline void wr8(uintptr_t a, uint8_t v) { *(volatile uint8_t *)a = v; }
static inline void wr64(uintptr_t a, uint64_t v) { *(volatile uint64_t *)a = v; }

#define D(off) ((uintptr_t)BOARD_GICD_BASE + (uintptr_t)(off))
#define C(off) ((uintptr_t)BOARD_GICC_BASE + (uintptr_t)(off))
#define R(off) ((uintptr_t)BOARD_GICR_BASE + (uintptr_t)(off))

int gic_version(void) { return version; }

static void isb(void) { __asm__ volatile("isb" ::: "memory"); }

static void wait_rwp(void)
{
    for (int i = 0; i < POLLS && (rd32(D(GICD_CTLR)) & GICD_CTLR_RWP); i++)
        ;
}

static int detect(void)
{
    uint64_t pfr0;
    int cpu_v3, dist_rev;

    __asm__ volatile("mrs %0, id_aa64pfr0_el1" : "=r"(pfr0));
    cpu_v3 = ((pfr0 >> 24) & 0xf) != 0;
    /* ArchRev in PIDR2[7:4]: GICv3 has it at 0xffe8, GICv2 at 0xfe8. */
    dist_rev = (int)((rd32(D(cpu_v3 ? GICD_PIDR2 : GICD_PIDR2_V2)) >> 4) & 0xf);
    if (cpu_v3 && dist_rev != 3 && dist_rev != 4)
        board_fail("gic: the core has a GICv3 interface, distributor ArchRev %d", dist_rev);
    if (!cpu_v3 && dist_rev != 2 && dist_rev != 1)
        board_fail("gic: no GICv3 interface, distributor ArchRev %d", dist_rev);
    return cpu_v3 ? 3 : 2;
}

static void dist_init_common(void)
{
    /* Everything off, nothing pending or active, all priorities equal,
     * SPIs level-triggered (a virtio or PCI INTx line is a level). */
    for (uint32_t n = 32; n < nlines; n += 32) {
        wr32(D(GICD_ICENABLER(n)), 0xffffffffu);
        wr32(D(GICD_ICPENDR(n)), 0xffffffffu);
        wr32(D(GICD_ICACTIVER(n)), 0xffffffffu);
    }
    for (uint32_t n = 32; n < nlines; n++)
        wr8(D(GICD_IPRIORITYR(n)), GIC_PRIORITY);
    for (uint32_t n = 32; n < nlines; n += 16)
        wr32(D(GICD_ICFGR(n)), 0);
}

static void init_v2(void)
{
    wr32(D(GICD_CTLR), 0);
    dist_init_common();
    for (uint32_t n = 32; n < nlines; n++)
        wr8(D(GICD_ITARGETSR(n)), 0x01);      /* CPU interface 0 */
    /* Banked SGI/PPI registers of this core. */
    wr32(D(GICD_ICENABLER(0)), 0xffffffffu);
    wr32(D(GICD_ICPENDR(0)), 0xffffffffu);
    wr32(D(GICD_ICACTIVER(0)), 0xffffffffu);
    for (uint32_t n = 0; n < 32; n++)
        wr8(D(GICD_IPRIORITYR(n)), GIC_PRIORITY);
    wr32(D(GICD_CTLR), 1);
    wr32(C(GICC_PMR), 0xff);                  /* let every priority through */
    wr32(C(GICC_BPR), 0);
    wr32(C(GICC_CTLR), 1);                    /* signal IRQs to the core */
}

static void init_v3(void)
{
    uint64_t sre;

    wr32(D(GICD_CTLR), 0);
    wait_rwp();
    dist_init_common();
    for (uint32_t n = 32; n < nlines; n += 32)
        wr32(D(GICD_IGROUPR(n)), 0xffffffffu);   /* Group 1 */
    for (uint32_t n = 32; n < nlines; n++)
        wr64(D(GICD_IROUTER(n)), 0);              /* affinity 0.0.0.0 */
    wr32(D(GICD_CTLR), GICD_CTLR_ARE | GICD_CTLR_ENABLE_G1);
    wait_rwp();

    /* Wake the redistributor, then its SGI/PPI frame. */
    wr32(R(GICR_WAKER), rd32(R(GICR_WAKER)) & ~GICR_WAKER_SLEEP);
    for (int i = 0; i < POLLS && (rd32(R(GICR_WAKER)) & GICR_WAKER_ASLEEP); i++)
        ;
    if (rd32(R(GICR_WAKER)) & GICR_WAKER_ASLEEP)
        board_fail("gic: redistributor did not wake");
    wr32(R(GICR_ICENABLER0), 0xffffffffu);
    wr32(R(GICR_ICPENDR0), 0xffffffffu);
    wr32(R(GICR_ICACTIVER0), 0xffffffffu);
    wr32(R(GICR_IGROUPR0), 0xffffffffu);
    for (uint32_t n = 0; n < 32; n++)
        wr8(R(GICR_IPRIORITYR(n)), GIC_PRIORITY);
    wr32(R(GICR_ICFGR1), 0);                      /* PPIs level */

    /* CPU interface through system registers. */
    ICC_READ(ICC_SRE_EL1, sre);
    ICC_WRITE(ICC_SRE_EL1, sre | 1u);
    isb();
    ICC_WRITE(ICC_PMR_EL1, 0xff);
    ICC_WRITE(ICC_BPR1_EL1, 0);
    ICC_WRITE(ICC_CTLR_EL1, 0);                   /* EOI drops and deactivates */
    ICC_WRITE(ICC_IGRPEN1_EL1, 1);
    isb();
}

void gic_init(void)
{
    version = detect();
    nlines = 32u * ((rd32(D(GICD_TYPER)) & 0x1fu) + 1u);
    if (nlines > BOARD_IRQ_COUNT)
        nlines = BOARD_IRQ_COUNT;
    if (version == 3)
        init_v3();
    else
        init_v2();
}

void gic_enable(uint32_t intid, int on)
{
    uint32_t bit = 1u << (intid % 32u);

    if (intid >= nlines)
        return;
    if (version == 3 && intid < 32)
        wr32(R(on ? GICR_ISENABLER0 : GICR_ICENABLER0), bit);
    else
        wr32(D(on ? GICD_ISENABLER(intid) : GICD_ICENABLER(intid)), bit);
    if (version == 3 && intid >= 32)
        wait_rwp();   /* disabling an SPI is complete only once RWP clears */
}

uint32_t gic_ack(void)
{
    uint64_t iar;

    if (version == 2)
        return rd32(C(GICC_IAR));
    ICC_READ(ICC_IAR1_EL1, iar);
    /* The acknowledge is a system register read; later loads of device
     * state (the handler reads virtio registers and rings) must not be
     * satisfied before it. */
    __asm__ volatile("dsb sy" ::: "memory");
    return (uint32_t)iar;
}

void gic_eoi(uint32_t iar)
{
    if (version == 2) {
        wr32(C(GICC_EOIR), iar);
        return;
    }
    /* The handler's device writes (interrupt ack) complete first, so the
     * line is low before the GIC samples it again. */
    __asm__ volatile("dsb sy" ::: "memory");
    ICC_WRITE(ICC_EOIR1_EL1, iar);
    isb();
}

void gic_send_sgi_self(uint32_t intid)
{
    if (version == 2) {
        /* TargetListFilter 0b10: the requesting CPU only. */
        wr32(D(GICD_SGIR), (2u << 24) | (intid & 0xfu));
        return;
    }
    /* Aff3.Aff2.Aff1 = 0, TargetList bit 0 = core with Aff0 0. */
    ICC_WRITE(ICC_SGI1R_EL1, ((uint64_t)(intid & 0xfu) << 24) | 1u);
    isb();
}
