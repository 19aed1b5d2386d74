/* SPDX-License-Identifier: MIT */
/* main.c — the virtq bootloader on QEMU virt (AArch64).
 *
 * Started by QEMU as a bare ELF (-kernel), linked 1 MiB above RAM so QEMU
 * writes its DTB at the base of RAM (x0 is 0 for an ELF).  It finds the
 * virtio-blk disk, reads the GPT, loads the partitions "kernel" (a Linux
 * arm64 Image) and "initrd" with several requests in flight, sets /chosen
 * in a copy of the DTB, resets the disk (status reads 0: no more DMA), and
 * enters Linux as booting.rst asks (handover.S).  Any problem is printed
 * with its stage and RESULT FAIL; the kernel is never entered then.
 *
 * Placement (like U-Boot's kernel_addr_r / ramdisk_addr_r / fdt_addr_r),
 * overridable with -D: the kernel at BL_KERNEL_BASE (2 MiB aligned), the
 * initrd at BL_INITRD_ADDR, the edited DTB at BL_DTB_ADDR; RAM as the DTB's
 * /memory says.
 */
#include "board_api.h"

#define VIRTQ_IMPLEMENTATION
#include "virtq.h" /* with -DVIRTQ_CONFIG_FILE='"virtq_board.h"' */

#include "examples/bootloader/boot.h"
#include "examples/drivers/virtio_blk.h"
#include "board_virtio.h"

#include <stdio.h>

#ifndef BL_KERNEL_BASE
#define BL_KERNEL_BASE 0x40200000u
#endif
#ifndef BL_INITRD_ADDR
#define BL_INITRD_ADDR 0x48000000u
#endif
#ifndef BL_DTB_ADDR
#define BL_DTB_ADDR 0x50000000u
#endif
#ifndef BL_DTB_MAX
#define BL_DTB_MAX (1u << 20)
#endif
#ifndef BL_CMDLINE
#define BL_CMDLINE "console=ttyAMA0 panic=-1"
#endif
#ifndef BL_CHUNK
#define BL_CHUNK (16u << 20) /* bytes per request (QEMU favours few, large ones) */
#endif
#ifndef BL_DEPTH
#define BL_DEPTH 8u /* requests in flight */
#endif
#ifndef BL_WFI
#define BL_WFI 1 /* wait in wfi on the routed interrupt (0: spin) */
#endif
#define FW_DTB_MAX (1u << 20) /* QEMU's DTB: below the image, 1 MiB at most */
#define QSIZE 128u

struct bl_range {
    uint64_t base, len;
};
void bl_handover(uint64_t entry, uint64_t dtb, const struct bl_range *r, uint64_t n)
    __attribute__((noreturn));

extern char _start[], __end[];

static uint8_t ring[VIRTQ_RING_BYTES(QSIZE, VIRTQ_ALIGN_LEGACY)] __attribute__((aligned(4096)));
static struct virtq_slot slots[QSIZE];
static struct vblk_req reqs[BL_DEPTH + 2u];
static uint8_t scratch[BL_SCRATCH_BYTES] __attribute__((aligned(64)));
static struct virtq_dev dev;
static struct vblk blk;
static struct bl_result res;

static void blk_isr(void *ctx, int irq)
{
    (void)irq;
    (void)virtq_dev_isr((struct virtq_dev *)ctx);
}

static uint64_t now_us(void)
{
    return board_now_us();
}

/* Lines the bench times on the host, as it times U-Boot's "virtio read"
   lines: the start line is printed before the first request, the done
   line after the last completion. */
static void progress(const char *what, uint64_t bytes, int done)
{
    if (done)
        printf("bootloader: loaded %s\n", what);
    else
        printf("bootloader: loading %s, %llu bytes ...\n", what, (unsigned long long)bytes);
}

static const char *err_name(int err)
{
    return err <= -100 ? bl_strerror(err) : vblk_strerror(err);
}

static void fail(const char *what, int err) __attribute__((noreturn));
static void fail(const char *what, int err)
{
    printf("bootloader: %s: %s (%d); not entering the kernel\n", what, err_name(err), err);
    board_fail("%s: %s", what, err_name(err));
}

static long long mib_s(uint64_t bytes, uint64_t us)
{
    return us ? (long long)(bytes * 1000000u / us / (1024u * 1024u)) : 0;
}

static void report(void)
{
    const struct bl_plan *p = &res.plan;
    uint64_t bytes = res.kernel_bytes + res.initrd_bytes;

    printf("bootloader: GPT %s header, %u partitions", res.gpt.used == GPT_USED_PRIMARY ? "primary" : "backup",
           (unsigned)res.gpt.nparts);
    if (res.gpt.used == GPT_USED_BACKUP)
        printf(" (primary refused: %s)", bl_strerror(res.gpt.primary_err));
    printf("\n");
    printf("bootloader: kernel LBA %llu..%llu: arm64 Image text_offset=0x%llx image_size=0x%llx flags=0x%llx%s\n",
           (unsigned long long)res.kernel->first_lba, (unsigned long long)res.kernel->last_lba,
           (unsigned long long)res.img.text_offset, (unsigned long long)res.img.image_size,
           (unsigned long long)res.img.flags, res.img.pe ? " (EFI stub, PE length checked)" : "");
    printf("bootloader: kernel 0x%llx..0x%llx (%llu bytes loaded)\n",
           (unsigned long long)p->kernel_entry, (unsigned long long)(p->kernel_entry + p->kernel_span),
           (unsigned long long)res.kernel_bytes);
    if (res.initrd)
        printf("bootloader: initrd 0x%llx..0x%llx (%llu bytes loaded)\n",
               (unsigned long long)p->initrd_start, (unsigned long long)(p->initrd_start + p->initrd_bytes),
               (unsigned long long)res.initrd_bytes);
    printf("bootloader: one load of %llu bytes: %u requests, %u in flight at most, %u kicks\n",
           (unsigned long long)bytes, (unsigned)res.load_st.requests,
           (unsigned)res.load_st.max_inflight, (unsigned)res.load_st.kicks);
    printf("bootloader: dtb 0x%llx (%u bytes), bootargs \"%s\" (%s)\n", (unsigned long long)p->dtb,
           (unsigned)res.dtb_size, res.cmdline, res.cmdline_part ? "cmdline partition" : "default");
    board_figure("gpt_us", (long long)res.us_gpt, "us");
    board_figure("kernel_bytes", (long long)res.kernel_bytes, "B");
    board_figure("initrd_bytes", (long long)res.initrd_bytes, "B");
    board_figure("load_us", (long long)res.us_load, "us");
    board_figure("load_mib_s", mib_s(bytes, res.us_load), "MiB/s");
    board_figure("requests", (long long)res.load_st.requests, "count");
    board_figure("max_inflight", (long long)res.load_st.max_inflight, "count");
    board_figure("prepare_us", (long long)res.us_total, "us");
}

int main(void)
{
    struct bl_layout L;
    struct bl_config cfg;
    struct vblk_params vp;
    board_virtio_slot slot;
    char where[32];
    uint64_t ram_base = 0, ram_size = 0;
    struct bl_range ranges[5];
    int rc;

    board_set_name("bootloader");
    printf("virtq bootloader on %s\n", board_platform());

    /* 1. The firmware's DTB (QEMU put it at the base of RAM) and RAM. */
    rc = bl_fdt_memory((const void *)(uintptr_t)BOARD_RAM_BASE, FW_DTB_MAX, &ram_base, &ram_size);
    if (rc != BL_OK)
        fail("firmware dtb at the base of RAM", rc);
    printf("bootloader: RAM 0x%llx, %llu MiB (from the DTB)\n", (unsigned long long)ram_base,
           (unsigned long long)(ram_size >> 20));

    /* 2. The disk: the first virtio-blk, a virtio-mmio slot or a function
     *    on PCI bus 0 (BARs assigned here: nothing enumerated the bus). */
    if (board_virtio_find(2u /* block */, 0, &slot) != 0)
        board_fail("no virtio-blk device");
    rc = board_virtio_probe(&dev, &slot);
    if (rc != VIRTQ_OK) {
        if (dev.why)
            printf("bootloader: probe: %s\n", dev.why);
        fail(slot.pci ? "virtio-pci probe" : "virtio-mmio probe", rc);
    }
    vp.ring = ring;
    vp.ring_bytes = sizeof ring;
    vp.slots = slots;
    vp.queue_size = QSIZE;
    vp.reqs = reqs;
    vp.nreqs = sizeof reqs / sizeof reqs[0];
    vp.refuse = 0;
    vp.timeout_us = 0;
    rc = vblk_init(&blk, &dev, &vp);
    if (rc != VIRTQ_OK)
        fail("virtio-blk init", rc);
    board_tag_dev(&dev);
    /* Waits sleep in wfi until the completion interrupt (wired after the
       device reached DRIVER_OK, the board's rule); the CPU then leaves
       the emulator to the I/O instead of polling a device register. */
    if (BL_WFI) {
        if (board_irq_register(slot.irq, blk_isr, &dev) != 0 || board_irq_enable(slot.irq) != 0)
            board_fail("cannot route the virtio-blk interrupt %d", slot.irq);
        board_interrupts_on();
        virtq_dev_irq_routed(&dev, 1);
        rc = virtq_dev_set_wait(&dev, VIRTQ_WAIT_WFI, NULL);
        if (rc != VIRTQ_OK)
            fail("wait strategy", rc);
    }
    printf("bootloader: virtio-blk %s, %s, %llu MiB, blk_size %u, %u bytes per request max\n",
           board_virtio_where(&slot, where, sizeof where), board_virtio_iface(&dev),
           (unsigned long long)(blk.capacity >> 11), (unsigned)blk.blk_size, (unsigned)blk.max_transfer);

    /* 3. GPT, Image, placement, loads, /chosen (boot.c). */
    L.ram_base = ram_base;
    L.ram_size = ram_size;
    L.self_lo = (uintptr_t)_start;
    L.self_hi = (uintptr_t)__end;
    L.kernel_base = BL_KERNEL_BASE;
    L.initrd_addr = BL_INITRD_ADDR;
    L.dtb_addr = BL_DTB_ADDR;
    L.dtb_max = BL_DTB_MAX;
    cfg.layout = &L;
    cfg.ram = (uint8_t *)(uintptr_t)ram_base;
    cfg.dtb_in = (const void *)(uintptr_t)BOARD_RAM_BASE;
    cfg.dtb_in_max = FW_DTB_MAX;
    cfg.default_cmdline = BL_CMDLINE;
    cfg.chunk = BL_CHUNK;
    cfg.depth = BL_DEPTH;
    cfg.now_us = now_us;
    cfg.progress = progress;
    cfg.scratch = scratch;
    rc = bl_prepare(&blk, &cfg, &res);
    if (rc != BL_OK) {
        if (res.stage == BL_STAGE_GPT && res.gpt.backup_err)
            printf("bootloader: primary GPT: %s; backup GPT: %s\n", bl_strerror(res.gpt.primary_err),
                   bl_strerror(res.gpt.backup_err));
        (void)vblk_reset(&blk);
        fail(bl_stage_name(res.stage), rc);
    }
    report();

    /* 4. Quiesce the disk: "Device Reset" completes when status reads 0,
          after which the device touches no ring or buffer (booting.rst:
          "Quiesce all DMA capable devices"). */
    rc = vblk_reset(&blk);
    if (rc != VIRTQ_OK)
        fail("virtio-blk reset", rc);
    if (BL_WFI)
        (void)board_irq_disable(slot.irq); /* and DAIF is masked at the jump */
    printf("bootloader: virtio-blk reset, device status read back 0\n");

    /* 5. Enter Linux.  RESULT first: nothing of ours runs after the jump. */
    board_figure("handover_us", (long long)board_now_us(), "us");
    printf("bootloader: entering Linux at 0x%llx, x0 = dtb 0x%llx\n",
           (unsigned long long)res.plan.kernel_entry, (unsigned long long)res.plan.dtb);
    /* The transport and ring tags were taken at init (board_tag_dev): the
     * reset above cleared what the device negotiated. */
    printf("RESULT bootloader PASS arch=%s transport=%s ring=%s gic=%d", BOARD_ARCH,
           board_tag_get("transport"), board_tag_get("ring"), board_gic_version());
    if (board_tag_get("mmio"))
        printf(" mmio=%s", board_tag_get("mmio"));
    printf("\n");
    ranges[0].base = res.plan.kernel_entry;
    ranges[0].len = res.plan.kernel_span;
    ranges[1].base = res.plan.initrd_start;
    ranges[1].len = res.plan.initrd_bytes;
    ranges[2].base = res.plan.dtb;
    ranges[2].len = res.dtb_size;
    ranges[3].base = BOARD_RAM_BASE;
    ranges[3].len = FW_DTB_MAX;
    ranges[4].base = L.self_lo;
    ranges[4].len = L.self_hi - L.self_lo;
    bl_handover(res.plan.kernel_entry, res.plan.dtb, ranges, 5);
}
