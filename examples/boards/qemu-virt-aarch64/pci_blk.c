/* SPDX-License-Identifier: MIT */
/* pci_blk: virtio-blk over virtio-pci on QEMU virt AArch64 (a smoke test of
 * the PCI transport on this board, not a board-neutral demo).
 *
 *   1. scan ECAM bus 0 (0x40_1000_0000, highmem) for a virtio-blk function
 *      (1af4:1001 transitional or 1af4:1042 modern); nobody enumerated PCI
 *      (no firmware), so assign its memory BARs from the 32-bit window
 *      (0x1000_0000..0x3eff_0000) with virtq_pci_assign_bars()
 *   2. virtq_pci_probe(), vblk_init() with spinning waits, write a pattern
 *      to 64 sectors, read it back, compare
 *   3. wire INTx: device d's INTA is GIC SPI 3 + (d % 4), level (virt's
 *      swizzle), then the same with WFI waits
 * RESULT tags transport=pci ring=... as negotiated. */
#include "board_api.h"

#define VIRTQ_IMPLEMENTATION
#include "virtq.h"
#include "examples/drivers/virtio_blk.h"

#include <string.h>

#define ECAM BOARD_PCIE_ECAM_HIGH
#define WIN_LO 0x10000000ull
#define WIN_HI 0x3eff0000ull
#define QSIZE 128u

static uint8_t ring[VIRTQ_RING_BYTES(QSIZE, VIRTQ_ALIGN_LEGACY)] __attribute__((aligned(4096)));
static struct virtq_slot slots[QSIZE];
static struct vblk_req reqs[8];
static struct virtq_dev dev;
static struct vblk blk;
static uint8_t wbuf[64 * 512] __attribute__((aligned(64)));
static uint8_t rbuf[64 * 512] __attribute__((aligned(64)));

static void isr(void *ctx, int irq)
{
    (void)irq;
    (void)virtq_dev_isr((struct virtq_dev *)ctx);   /* ISR read acks INTx */
}

static void round_trip(const char *what, uint64_t sector, uint8_t seed)
{
    int rc;

    for (unsigned i = 0; i < sizeof wbuf; i++)
        wbuf[i] = (uint8_t)(i * 7u + seed);
    memset(rbuf, 0, sizeof rbuf);
    if ((rc = vblk_write(&blk, sector, wbuf, sizeof wbuf)) != 0)
        board_fail("%s: write: %d", what, rc);
    if ((rc = vblk_read(&blk, sector, rbuf, sizeof rbuf)) != 0)
        board_fail("%s: read: %d", what, rc);
    if (memcmp(wbuf, rbuf, sizeof rbuf) != 0)
        board_fail("%s: read back differs", what);
    board_printf("pci_blk: %s: 32 KiB written and read back at sector %lu: ok\n", what,
                 (unsigned long)sector);
}

int main(void)
{
    struct vblk_params p = {ring, sizeof ring, slots, QSIZE, reqs, 8, 0, 0};
    uint64_t next = WIN_LO;
    uintptr_t cfg = 0;
    int slot = -1, rc, irq;

    board_set_name("pci_blk");
    for (int d = 0; d < 32 && slot < 0; d++) {
        uintptr_t c = VIRTQ_PCI_ECAM(ECAM, 0, d, 0);
        uint32_t id = *(volatile uint32_t *)c;
        if (id == 0x10011af4u || id == 0x10421af4u) {
            slot = d;
            cfg = c;
        }
    }
    if (slot < 0)
        board_fail("no virtio-blk function on PCI bus 0");
    if ((rc = virtq_pci_assign_bars(cfg, &next, WIN_HI)) != VIRTQ_OK)
        board_fail("assign BARs: %d", rc);
    if ((rc = virtq_pci_probe(&dev, cfg)) != VIRTQ_OK)
        board_fail("virtq_pci_probe: %d (%s)", rc, dev.why ? dev.why : "");
    if ((rc = vblk_init(&blk, &dev, &p)) != 0)
        board_fail("vblk_init: %d", rc);
    board_tag_dev(&dev);
    board_printf("pci_blk: 00:%02x.0 BARs up to 0x%lx, capacity %lu sectors\n", slot,
                 (unsigned long)next, (unsigned long)blk.capacity);
    round_trip("spin", 2048, 1);

    irq = 32 + 3 + (slot % 4);   /* INTA of device slot, swizzled */
    if (board_irq_register(irq, isr, &dev) != 0 || board_irq_enable(irq) != 0)
        board_fail("cannot wire INTx irq %d", irq);
    board_interrupts_on();
    virtq_dev_irq_routed(&dev, 1);
    if (virtq_dev_set_wait(&dev, VIRTQ_WAIT_WFI, NULL) != VIRTQ_OK)
        board_fail("WFI strategy not built in");
    round_trip("wfi", 4096, 2);
    board_figure("irqs", (long long)dev.irqs, "count");
    if (dev.irqs == 0)
        board_fail("no INTx interrupt was taken");
    board_pass();
}
