/* SPDX-License-Identifier: MIT */
/* test_bootloader.c — the bootloader's portable parts (examples/bootloader)
   on the host, cmocka under ASan+UBSan.

   Unit tests: CRC-32, the GPT reader on an in-memory disk (every check,
   the backup header, bounds before CRC), the arm64 Image check, placement,
   the FDT editor (output verified with the host's libfdt).  End to end:
   bl_prepare() against the fake virtio-blk device (shims/fake) with a good
   disk (loads compared byte for byte, /chosen read back with libfdt,
   several requests in flight, device thread completing out of order) and
   each hostile disk, which must stop at the right stage with the right
   error and leave the kernel, initrd and DTB memory untouched. */
#define VIRTQ_IMPLEMENTATION
#include "virtq_fake.h"
#include "virtq.h"

#include "fake_blk.h"
#include "virtq_fake_cmocka.h"

#include "examples/bootloader/boot.h"
#include "examples/bootloader/crc32.h"
#include "disk_build.h"

#include <libfdt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define MIB (1024u * 1024u)

/* ---- an in-memory disk for the GPT reader -------------------------------- */

struct memdisk {
    uint8_t *img;
    uint64_t nsec;
    unsigned reads;
};

static int mem_read(void *ctx, uint64_t lba, void *buf, uint32_t n)
{
    struct memdisk *m = ctx;
    m->reads++;
    if (lba >= m->nsec || n > m->nsec - lba)
        return BL_EIO;
    memcpy(buf, m->img + lba * DB_SEC, (size_t)n * DB_SEC);
    return BL_OK;
}

#define G_NSEC 4096u
static uint8_t gimg[G_NSEC * DB_SEC];
static uint8_t scratch[BL_SCRATCH_BYTES] __attribute__((aligned(8)));
static struct gpt_info ginfo;

static const struct db_part std_parts[] = {
    {"kernel", 2048, 2559}, {"initrd", 2560, 3071}, {"cmdline", 3072, 3072}};

static int gread(void)
{
    struct memdisk m = {gimg, G_NSEC, 0};
    struct gpt_disk d = {mem_read, &m, G_NSEC, DB_SEC};
    return gpt_read(&d, scratch, sizeof scratch, &ginfo);
}

static void gbuild(void)
{
    db_build_gpt(gimg, G_NSEC, std_parts, 3);
}

static void crc32_vector(void **state)
{
    (void)state;
    assert_int_equal(bl_crc32(0, "123456789", 9), 0xcbf43926u);
    assert_int_equal(bl_crc32(bl_crc32(0, "1234", 4), "56789", 5), 0xcbf43926u);
    assert_int_equal(bl_crc32(0, "", 0), 0u);
}

static void gpt_good(void **state)
{
    const struct gpt_part *p;
    (void)state;
    gbuild();
    assert_int_equal(gread(), BL_OK);
    assert_int_equal(ginfo.used, GPT_USED_PRIMARY);
    assert_int_equal(ginfo.nparts, 3);
    assert_int_equal(gpt_find(&ginfo, "kernel", &p), BL_OK);
    assert_int_equal(p->first_lba, 2048);
    assert_int_equal(p->last_lba, 2559);
    assert_int_equal(gpt_find(&ginfo, "initrd", &p), BL_OK);
    assert_int_equal(p->index, 1);
    assert_int_equal(gpt_find(&ginfo, "cmdline", &p), BL_OK);
    assert_int_equal(gpt_find(&ginfo, "kerne", &p), BL_EGPT_NOTFOUND);
    assert_int_equal(gpt_find(&ginfo, "kernel0", &p), BL_EGPT_NOTFOUND);
}

/* Break the primary in one way: the backup is used; break both: the
   primary's error comes back. */
static void expect_backup_then_fail(void (*breakit)(int backup), int err)
{
    gbuild();
    breakit(0);
    assert_int_equal(gread(), BL_OK);
    assert_int_equal(ginfo.used, GPT_USED_BACKUP);
    assert_int_equal(ginfo.primary_err, err);
    assert_int_equal(ginfo.nparts, 3);
    breakit(1);
    assert_int_equal(gread(), err);
    assert_int_equal(ginfo.backup_err, err);
    assert_int_equal(ginfo.nparts, 0);
}

static void brk_hdr_crc(int b) { db_hdr(gimg, G_NSEC, b)[40] ^= 1; }
static void brk_sig(int b) { db_hdr(gimg, G_NSEC, b)[0] = 'X'; db_fix_hdr_crc(gimg, G_NSEC, b); }
static void brk_rev(int b) { db_le32(db_hdr(gimg, G_NSEC, b) + 8, 0x00020000u); db_fix_hdr_crc(gimg, G_NSEC, b); }
static void brk_hsize(int b) { db_le32(db_hdr(gimg, G_NSEC, b) + 12, 91); db_fix_hdr_crc(gimg, G_NSEC, b); }
static void brk_hsize_big(int b) { db_le32(db_hdr(gimg, G_NSEC, b) + 12, 513); }
static void brk_mylba(int b) { db_le64(db_hdr(gimg, G_NSEC, b) + 24, 7); db_fix_hdr_crc(gimg, G_NSEC, b); }
static void brk_usable(int b) { db_le64(db_hdr(gimg, G_NSEC, b) + 48, G_NSEC); db_fix_hdr_crc(gimg, G_NSEC, b); }
static void brk_usable_inv(int b) { db_le64(db_hdr(gimg, G_NSEC, b) + 40, 4080); db_fix_hdr_crc(gimg, G_NSEC, b); }
static void brk_ent_crc(int b) { db_entries(gimg, G_NSEC, b)[32] ^= 1; }
static void brk_entsize(int b) { db_le32(db_hdr(gimg, G_NSEC, b) + 84, 96); db_fix_hdr_crc(gimg, G_NSEC, b); }
static void brk_entsize_np2(int b) { db_le32(db_hdr(gimg, G_NSEC, b) + 84, 384); db_fix_hdr_crc(gimg, G_NSEC, b); }
static void brk_entsize_big(int b) { db_le32(db_hdr(gimg, G_NSEC, b) + 84, 8192); db_fix_hdr_crc(gimg, G_NSEC, b); }
/* A count whose array would run far past the scratch (and the disk): the
   bound must stop it before any CRC is computed over it; the array CRC is
   left stale on purpose, so a CRC-first reader reports ENTCRC instead. */
static void brk_count_huge(int b) { db_le32(db_hdr(gimg, G_NSEC, b) + 80, 0x01000000u); db_fix_hdr_crc(gimg, G_NSEC, b); }
static void brk_count_zero(int b) { db_le32(db_hdr(gimg, G_NSEC, b) + 80, 0); db_fix_hdr_crc(gimg, G_NSEC, b); }
static void brk_entlba_beyond(int b) { db_le64(db_hdr(gimg, G_NSEC, b) + 72, G_NSEC - 8u); db_fix_hdr_crc(gimg, G_NSEC, b); }
static void brk_entlba_usable(int b) { db_le64(db_hdr(gimg, G_NSEC, b) + 72, 100); db_fix_hdr_crc(gimg, G_NSEC, b); }
static void brk_part_beyond(int b)
{
    db_le64(db_entries(gimg, G_NSEC, b) + 128 + 40, G_NSEC + 100u);
    db_fix_crcs(gimg, G_NSEC, b);
}
static void brk_part_inverted(int b)
{
    db_le64(db_entries(gimg, G_NSEC, b) + 32, 2600);
    db_fix_crcs(gimg, G_NSEC, b);
}
static void brk_overlap(int b)
{
    db_le64(db_entries(gimg, G_NSEC, b) + 128 + 32, 2559); /* initrd starts at the kernel's last LBA */
    db_fix_crcs(gimg, G_NSEC, b);
}

static void gpt_bad_headers(void **state)
{
    (void)state;
    expect_backup_then_fail(brk_hdr_crc, BL_EGPT_HDRCRC);
    expect_backup_then_fail(brk_sig, BL_EGPT_SIG);
    expect_backup_then_fail(brk_rev, BL_EGPT_REV);
    expect_backup_then_fail(brk_hsize, BL_EGPT_HDRSIZE);
    expect_backup_then_fail(brk_hsize_big, BL_EGPT_HDRSIZE);
    expect_backup_then_fail(brk_mylba, BL_EGPT_MYLBA);
    expect_backup_then_fail(brk_usable, BL_EGPT_USABLE);
    expect_backup_then_fail(brk_usable_inv, BL_EGPT_USABLE);
}

static void gpt_bad_arrays(void **state)
{
    (void)state;
    expect_backup_then_fail(brk_ent_crc, BL_EGPT_ENTCRC);
    expect_backup_then_fail(brk_entsize, BL_EGPT_ENTSIZE);
    expect_backup_then_fail(brk_entsize_np2, BL_EGPT_ENTSIZE);
    expect_backup_then_fail(brk_entsize_big, BL_EGPT_ENTSIZE);
    expect_backup_then_fail(brk_count_huge, BL_EGPT_ENTCOUNT);
    expect_backup_then_fail(brk_count_zero, BL_EGPT_ENTCOUNT);
    expect_backup_then_fail(brk_entlba_beyond, BL_EGPT_ENTLBA);
    expect_backup_then_fail(brk_entlba_usable, BL_EGPT_ENTLBA);
}

static void gpt_bad_partitions(void **state)
{
    (void)state;
    expect_backup_then_fail(brk_part_beyond, BL_EGPT_PARTRANGE);
    expect_backup_then_fail(brk_part_inverted, BL_EGPT_PARTRANGE);
    expect_backup_then_fail(brk_overlap, BL_EGPT_OVERLAP);
}

static void gpt_bounds_before_crc(void **state)
{
    struct memdisk m = {gimg, G_NSEC, 0};
    struct gpt_disk d = {mem_read, &m, G_NSEC, DB_SEC};
    (void)state;
    /* 4 x 4096-byte entries need 16 KiB: fine with 64 KiB of scratch,
       refused (ENTCOUNT, not a read past the buffer) with 8 KiB. */
    gbuild();
    db_le32(db_hdr(gimg, G_NSEC, 0) + 80, 4);
    db_le32(db_hdr(gimg, G_NSEC, 0) + 84, 4096);
    db_fix_crcs(gimg, G_NSEC, 0);
    assert_int_equal(gpt_read(&d, scratch, 8 * 1024 + 512, &ginfo), BL_EGPT_ENTCOUNT);
    assert_int_equal(ginfo.primary_err, BL_EGPT_ENTCOUNT);
    assert_int_equal(ginfo.backup_err, BL_EGPT_ENTCOUNT); /* 16 KiB array too */
    assert_int_equal(gpt_read(&d, scratch, sizeof scratch, &ginfo), BL_OK);
    assert_int_equal(ginfo.used, GPT_USED_PRIMARY);
    assert_int_equal(ginfo.entry_size, 4096);
}

static void gpt_names_and_dups(void **state)
{
    const struct gpt_part *p;
    struct db_part two[] = {{"kernel", 2048, 2100}, {"kernel", 2200, 2300}};
    (void)state;
    db_build_gpt(gimg, G_NSEC, two, 2);
    assert_int_equal(gread(), BL_OK);
    assert_int_equal(gpt_find(&ginfo, "kernel", &p), BL_EGPT_DUPNAME);
    /* A non-ASCII code unit reads as '?' and never matches. */
    gbuild();
    db_entries(gimg, G_NSEC, 0)[57] = 0x01; /* 'k' becomes U+016B */
    db_entries(gimg, G_NSEC, 1)[57] = 0x01;
    db_fix_crcs(gimg, G_NSEC, 0);
    db_fix_crcs(gimg, G_NSEC, 1);
    assert_int_equal(gread(), BL_OK);
    assert_string_equal(ginfo.parts[0].name, "?ernel");
    assert_int_equal(gpt_find(&ginfo, "kernel", &p), BL_EGPT_NOTFOUND);
}

static void gpt_disk_args(void **state)
{
    struct memdisk m = {gimg, G_NSEC, 0};
    struct gpt_disk d = {mem_read, &m, G_NSEC, 1000};
    (void)state;
    gbuild();
    assert_int_equal(gpt_read(&d, scratch, sizeof scratch, &ginfo), BL_EGPT_DISK);
    d.block_size = DB_SEC;
    d.blocks = 3;
    assert_int_equal(gpt_read(&d, scratch, sizeof scratch, &ginfo), BL_EGPT_DISK);
    d.blocks = G_NSEC;
    assert_int_equal(gpt_read(&d, scratch, 512, &ginfo), BL_EGPT_DISK);
    assert_int_equal(gpt_read(NULL, scratch, sizeof scratch, &ginfo), BL_EARG);
    /* A disk that is smaller than the GPT says: the backup is not where the
       primary's usable range ends, and the primary's usable range is out. */
    d.blocks = 3000;
    assert_int_equal(gpt_read(&d, scratch, sizeof scratch, &ginfo), BL_EGPT_USABLE);
}

/* ---- arm64 Image -------------------------------------------------------- */

static uint8_t kimg[64 * 1024];

static void image_checks(void **state)
{
    struct arm64_image im;
    (void)state;
    db_build_image(kimg, 40000, 40000, 65536, 10, 0xaa64);
    assert_int_equal(arm64_image_check(kimg, 4096, 40448, &im), BL_OK);
    assert_true(im.pe);
    assert_int_equal(im.file_bytes, 40000);
    assert_int_equal(im.image_size, 65536);
    assert_int_equal(im.text_offset, 0);
    /* Truncated: the sections end past the partition. */
    assert_int_equal(arm64_image_check(kimg, 4096, 32768, &im), BL_EIMG_TRUNC);
    assert_int_equal(arm64_image_check(kimg, 32, 40448, &im), BL_EIMG_SHORT);
    assert_int_equal(arm64_image_check(kimg, 4096, 63, &im), BL_EIMG_SHORT);
    /* File longer than image_size. */
    db_build_image(kimg, 40000, 40000, 30000, 10, 0xaa64);
    assert_int_equal(arm64_image_check(kimg, 4096, 40448, &im), BL_EIMG_FILESIZE);
    /* Not arm64: x86-64 PE, no magic. */
    db_build_image(kimg, 40000, 40000, 65536, 10, 0x8664);
    assert_int_equal(arm64_image_check(kimg, 4096, 40448, &im), BL_EIMG_MACHINE);
    db_build_image(kimg, 40000, 40000, 65536, 10, 0xaa64);
    kimg[56] = 'X';
    assert_int_equal(arm64_image_check(kimg, 4096, 40448, &im), BL_EIMG_MAGIC);
    /* Big-endian, image_size 0. */
    db_build_image(kimg, 40000, 40000, 65536, 11, 0xaa64);
    assert_int_equal(arm64_image_check(kimg, 4096, 40448, &im), BL_EIMG_BE);
    db_build_image(kimg, 40000, 40000, 0, 10, 0xaa64);
    assert_int_equal(arm64_image_check(kimg, 4096, 40448, &im), BL_EIMG_NOSIZE);
    /* PE offset out of the probed bytes, bad PE signature, sections out. */
    db_build_image(kimg, 40000, 40000, 65536, 10, 0xaa64);
    db_le32(kimg + 60, 4090);
    assert_int_equal(arm64_image_check(kimg, 4096, 40448, &im), BL_EIMG_PE);
    db_build_image(kimg, 40000, 40000, 65536, 10, 0xaa64);
    kimg[0x41] = 'X';
    assert_int_equal(arm64_image_check(kimg, 4096, 40448, &im), BL_EIMG_PE);
    db_build_image(kimg, 40000, 40000, 65536, 10, 0xaa64);
    kimg[0x46] = 0xff; /* 255 sections do not fit 4 KiB */
    assert_int_equal(arm64_image_check(kimg, 4096, 40448, &im), BL_EIMG_PE);
    /* No PE header (not an EFI stub): the partition is loaded, up to image_size. */
    db_build_image(kimg, 40000, 40000, 65536, 10, 0xaa64);
    kimg[0] = 0;
    assert_int_equal(arm64_image_check(kimg, 4096, 40448, &im), BL_OK);
    assert_false(im.pe);
    assert_int_equal(im.file_bytes, 40448);
    assert_int_equal(arm64_image_check(kimg, 4096, 100000, &im), BL_OK);
    assert_int_equal(im.file_bytes, 65536);
}

/* ---- placement ---------------------------------------------------------- */

static const struct bl_layout host_layout = {
    .ram_base = 0x40000000u, .ram_size = 16u * MIB,
    .self_lo = 0x40000000u + 1u * MIB, .self_hi = 0x40000000u + 2u * MIB,
    .kernel_base = 0x40000000u + 2u * MIB,
    .initrd_addr = 0x40000000u + 8u * MIB,
    .dtb_addr = 0x40000000u + 14u * MIB, .dtb_max = 64u * 1024u,
};

static void place_checks(void **state)
{
    struct arm64_image im = {0, 3u * MIB, 8, 2u * MIB + 100u, true};
    struct bl_plan p;
    struct bl_layout L = host_layout;
    (void)state;
    assert_int_equal(bl_place(&L, &im, 2u * MIB + 512u, 1u * MIB, 512, &p), BL_OK);
    assert_int_equal(p.kernel_entry, L.kernel_base);
    assert_int_equal(p.kernel_load, 2u * MIB + 512u);
    assert_int_equal(p.kernel_span, 3u * MIB);
    assert_int_equal(p.initrd_start, L.initrd_addr);
    /* No initrd. */
    assert_int_equal(bl_place(&L, &im, 2u * MIB + 512u, 0, 512, &p), BL_OK);
    assert_int_equal(p.initrd_bytes, 0);
    /* Kernel partition or image_size beyond the RAM window (14 MiB from
       the load address). */
    assert_int_equal(bl_place(&L, &im, 14u * MIB + 512u, 1u * MIB, 512, &p), BL_EPL_KERNEL_RAM);
    im.image_size = 15u * MIB;
    assert_int_equal(bl_place(&L, &im, 3u * MIB, 1u * MIB, 512, &p), BL_EPL_KERNEL_RAM);
    /* image_size reaching the initrd, the DTB. */
    im.image_size = 6u * MIB + 1u;
    assert_int_equal(bl_place(&L, &im, 3u * MIB, 1u * MIB, 512, &p), BL_EPL_INITRD_KERNEL);
    assert_int_equal(bl_place(&L, &im, 3u * MIB, 0, 512, &p), BL_OK);
    im.image_size = 12u * MIB + 1u;
    assert_int_equal(bl_place(&L, &im, 3u * MIB, 0, 512, &p), BL_EPL_KERNEL_SELF);
    im.image_size = 3u * MIB;
    /* text_offset moves the kernel; a huge one leaves RAM. */
    im.text_offset = 0x80000;
    assert_int_equal(bl_place(&L, &im, 3u * MIB, 1u * MIB, 512, &p), BL_OK);
    assert_int_equal(p.kernel_entry, L.kernel_base + 0x80000);
    im.text_offset = 1ull << 40;
    assert_int_equal(bl_place(&L, &im, 3u * MIB, 1u * MIB, 512, &p), BL_EPL_KERNEL_RAM);
    im.text_offset = 0;
    /* initrd into the DTB, past RAM, over the bootloader. */
    assert_int_equal(bl_place(&L, &im, 3u * MIB, 6u * MIB + 1u, 512, &p), BL_EPL_INITRD_DTB);
    assert_int_equal(bl_place(&L, &im, 3u * MIB, 6u * MIB, 512, &p), BL_OK);
    L.dtb_addr = L.ram_base;
    assert_int_equal(bl_place(&L, &im, 3u * MIB, 8u * MIB + 1u, 512, &p), BL_EPL_INITRD_RAM);
    L.initrd_addr = L.ram_base + 1u * MIB + 4096u;
    assert_int_equal(bl_place(&L, &im, 3u * MIB, 4096u, 512, &p), BL_EPL_INITRD_SELF);
    L = host_layout;
    /* Layout errors: misaligned kernel base, DTB misaligned or over 2 MiB. */
    L.kernel_base += 4096u;
    assert_int_equal(bl_place(&L, &im, 3u * MIB, 0, 512, &p), BL_EPL_LAYOUT);
    L = host_layout;
    L.dtb_addr += 4u;
    assert_int_equal(bl_place(&L, &im, 3u * MIB, 0, 512, &p), BL_EPL_DTB);
    L = host_layout;
    L.dtb_max = 2u * MIB + 8u;
    assert_int_equal(bl_place(&L, &im, 3u * MIB, 0, 512, &p), BL_EPL_DTB);
    /* The 1 GiB-aligned window of up to 32 GiB: a big machine, the initrd
       32 GiB above a kernel at 1 GiB + 2 MiB. */
    L = host_layout;
    L.ram_base = 1ull << 30;
    L.ram_size = 64ull << 30;
    L.self_lo = L.ram_base;
    L.self_hi = L.ram_base + MIB;
    L.kernel_base = L.ram_base + 2u * MIB;
    L.dtb_addr = L.ram_base + MIB;
    L.initrd_addr = L.ram_base + (31ull << 30);
    assert_int_equal(bl_place(&L, &im, 3u * MIB, MIB, 512, &p), BL_OK);
    L.initrd_addr = L.ram_base + (32ull << 30);
    assert_int_equal(bl_place(&L, &im, 3u * MIB, MIB, 512, &p), BL_EPL_WINDOW);
    L.initrd_addr = L.ram_base + (31ull << 30) + (BL_SZ_1G - MIB / 2u);
    assert_int_equal(bl_place(&L, &im, 3u * MIB, MIB, 512, &p), BL_EPL_WINDOW);
}

/* ---- FDT ---------------------------------------------------------------- */

static uint8_t dtb_in[64 * 1024], dtb_out[64 * 1024];

/* A small tree as QEMU's virt makes it: root props, /chosen (with an old
   bootargs unless bare), /memory, a node after /chosen, one memreserve. */
static void make_dtb(int with_chosen, int old_bootargs)
{
    void *f = dtb_in;
    assert_int_equal(fdt_create(f, sizeof dtb_in), 0);
    assert_int_equal(fdt_add_reservemap_entry(f, 0x48000000u, 0x1000), 0);
    assert_int_equal(fdt_finish_reservemap(f), 0);
    assert_int_equal(fdt_begin_node(f, ""), 0);
    assert_int_equal(fdt_property_string(f, "compatible", "linux,dummy-virt"), 0);
    assert_int_equal(fdt_property_u32(f, "#address-cells", 2), 0);
    assert_int_equal(fdt_property_u32(f, "#size-cells", 2), 0);
    if (with_chosen) {
        assert_int_equal(fdt_begin_node(f, "chosen"), 0);
        assert_int_equal(fdt_property_string(f, "stdout-path", "/pl011@9000000"), 0);
        if (old_bootargs)
            assert_int_equal(fdt_property_string(f, "bootargs", "old args"), 0);
        assert_int_equal(fdt_begin_node(f, "sub"), 0);
        assert_int_equal(fdt_property_string(f, "bootargs", "nested, untouched"), 0);
        assert_int_equal(fdt_end_node(f), 0);
        assert_int_equal(fdt_end_node(f), 0);
    }
    assert_int_equal(fdt_begin_node(f, "memory@40000000"), 0);
    assert_int_equal(fdt_property_string(f, "device_type", "memory"), 0);
    {
        fdt64_t reg[2] = {cpu_to_fdt64(0x40000000u), cpu_to_fdt64(0x40000000u)};
        assert_int_equal(fdt_property(f, "reg", reg, sizeof reg), 0);
    }
    assert_int_equal(fdt_end_node(f), 0);
    assert_int_equal(fdt_end_node(f), 0);
    assert_int_equal(fdt_finish(f), 0);
}

static void check_chosen(const void *f, const char *args, uint64_t s, uint64_t e)
{
    int off, len;
    const void *v;
    uint64_t mr_addr, mr_size;
    assert_int_equal(fdt_check_full(f, fdt_totalsize(f)), 0);
    off = fdt_path_offset(f, "/chosen");
    assert_true(off >= 0);
    {
        /* Each of ours exactly once (libfdt's check allows duplicates and
           reads the first, so count them). */
        int p, n_args = 0, n_start = 0, n_end = 0;
        fdt_for_each_property_offset(p, f, off) {
            const char *name;
            assert_non_null(fdt_getprop_by_offset(f, p, &name, &len));
            n_args += strcmp(name, "bootargs") == 0;
            n_start += strcmp(name, "linux,initrd-start") == 0;
            n_end += strcmp(name, "linux,initrd-end") == 0;
        }
        assert_int_equal(n_args, 1);
        assert_int_equal(n_start, 1);
        assert_int_equal(n_end, 1);
    }
    v = fdt_getprop(f, off, "bootargs", &len);
    assert_non_null(v);
    assert_int_equal(len, (int)strlen(args) + 1);
    assert_string_equal(v, args);
    v = fdt_getprop(f, off, "linux,initrd-start", &len);
    assert_non_null(v);
    assert_int_equal(len, 8);
    assert_int_equal(fdt64_ld(v), s);
    v = fdt_getprop(f, off, "linux,initrd-end", &len);
    assert_non_null(v);
    assert_int_equal(fdt64_ld(v), e);
    /* Everything else kept. */
    off = fdt_path_offset(f, "/memory@40000000");
    assert_true(off >= 0);
    assert_string_equal(fdt_getprop(f, off, "device_type", NULL), "memory");
    assert_string_equal(fdt_getprop(f, 0, "compatible", NULL), "linux,dummy-virt");
    assert_int_equal(fdt_num_mem_rsv(f), 1);
    assert_int_equal(fdt_get_mem_rsv(f, 0, &mr_addr, &mr_size), 0);
    assert_int_equal(mr_addr, 0x48000000u);
}

static void fdt_edit(void **state)
{
    struct bl_chosen c = {"console=ttyAMA0 rdinit=/init", 0x40800000u, 0x40900000u};
    size_t n;
    int off;
    (void)state;
    /* /chosen with an old bootargs: replaced, not duplicated. */
    make_dtb(1, 1);
    assert_int_equal(bl_fdt_set_chosen(dtb_in, sizeof dtb_in, dtb_out, sizeof dtb_out, &c, &n), BL_OK);
    assert_int_equal(n, fdt_totalsize(dtb_out));
    check_chosen(dtb_out, c.bootargs, c.initrd_start, c.initrd_end);
    off = fdt_path_offset(dtb_out, "/chosen");
    assert_string_equal(fdt_getprop(dtb_out, off, "stdout-path", NULL), "/pl011@9000000");
    off = fdt_path_offset(dtb_out, "/chosen/sub");
    assert_string_equal(fdt_getprop(dtb_out, off, "bootargs", NULL), "nested, untouched");
    /* Editing the edited tree again gives a valid tree with the new values. */
    memcpy(dtb_in, dtb_out, n);
    c.bootargs = "second";
    c.initrd_start = 0x1234567890ull;
    c.initrd_end = 0x1234567990ull;
    assert_int_equal(bl_fdt_set_chosen(dtb_in, sizeof dtb_in, dtb_out, sizeof dtb_out, &c, &n), BL_OK);
    check_chosen(dtb_out, "second", c.initrd_start, c.initrd_end);
    /* /chosen without bootargs, and no /chosen at all (created). */
    make_dtb(1, 0);
    assert_int_equal(bl_fdt_set_chosen(dtb_in, sizeof dtb_in, dtb_out, sizeof dtb_out, &c, &n), BL_OK);
    check_chosen(dtb_out, "second", c.initrd_start, c.initrd_end);
    make_dtb(0, 0);
    assert_int_equal(bl_fdt_set_chosen(dtb_in, sizeof dtb_in, dtb_out, sizeof dtb_out, &c, &n), BL_OK);
    check_chosen(dtb_out, "second", c.initrd_start, c.initrd_end);
    /* No initrd: no initrd properties. */
    c.initrd_start = c.initrd_end = 0;
    assert_int_equal(bl_fdt_set_chosen(dtb_in, sizeof dtb_in, dtb_out, sizeof dtb_out, &c, &n), BL_OK);
    assert_int_equal(fdt_check_full(dtb_out, n), 0);
    assert_null(fdt_getprop(dtb_out, fdt_path_offset(dtb_out, "/chosen"), "linux,initrd-start", NULL));
}

static void fdt_memory(void **state)
{
    uint64_t base = 0, size = 0;
    (void)state;
    make_dtb(1, 1);
    assert_int_equal(bl_fdt_memory(dtb_in, sizeof dtb_in, &base, &size), BL_OK);
    assert_int_equal(base, 0x40000000u);
    assert_int_equal(size, 0x40000000u);
    /* One cell each. */
    assert_int_equal(fdt_setprop_inplace_u32(dtb_in, 0, "#address-cells", 1), 0);
    assert_int_equal(bl_fdt_memory(dtb_in, sizeof dtb_in, &base, &size), BL_OK);
    assert_int_equal(base, 0); /* first 32-bit cell of the 64-bit address */
    assert_int_equal(size, 0x4000000000000000ull); /* cells 1-2 */
    assert_int_equal(fdt_setprop_inplace_u32(dtb_in, 0, "#size-cells", 3), 0);
    assert_int_equal(bl_fdt_memory(dtb_in, sizeof dtb_in, &base, &size), BL_EFDT_STRUCT);
    /* No memory node at all. */
    make_dtb(0, 0);
    assert_int_equal(fdt_nop_node(dtb_in, fdt_path_offset(dtb_in, "/memory@40000000")), 0);
    assert_int_equal(bl_fdt_memory(dtb_in, sizeof dtb_in, &base, &size), BL_EFDT_STRUCT);
    dtb_in[0] = 0;
    assert_int_equal(bl_fdt_memory(dtb_in, sizeof dtb_in, &base, &size), BL_EFDT_HDR);
}

static void fdt_hostile(void **state)
{
    struct bl_chosen c = {"a", 0x1000, 0x2000};
    char longline[BL_CMDLINE_MAX + 1];
    size_t n;
    uint32_t ts;
    (void)state;
    make_dtb(1, 1);
    ts = fdt_totalsize(dtb_in);
    /* Output too small, by one byte. */
    assert_int_equal(bl_fdt_set_chosen(dtb_in, sizeof dtb_in, dtb_out, sizeof dtb_out, &c, &n), BL_OK);
    assert_int_equal(bl_fdt_set_chosen(dtb_in, sizeof dtb_in, dtb_out, n - 1u, &c, &n), BL_EFDT_SPACE);
    /* Header: magic, totalsize beyond what is readable, version, offsets. */
    assert_int_equal(bl_fdt_set_chosen(dtb_in, ts - 1u, dtb_out, sizeof dtb_out, &c, &n), BL_EFDT_HDR);
    dtb_in[0] ^= 1;
    assert_int_equal(bl_fdt_set_chosen(dtb_in, sizeof dtb_in, dtb_out, sizeof dtb_out, &c, &n), BL_EFDT_HDR);
    make_dtb(1, 1);
    fdt_set_version(dtb_in, 16);
    assert_int_equal(bl_fdt_set_chosen(dtb_in, sizeof dtb_in, dtb_out, sizeof dtb_out, &c, &n), BL_EFDT_HDR);
    make_dtb(1, 1);
    fdt_set_size_dt_struct(dtb_in, ts);
    assert_int_equal(bl_fdt_set_chosen(dtb_in, sizeof dtb_in, dtb_out, sizeof dtb_out, &c, &n), BL_EFDT_HDR);
    make_dtb(1, 1);
    fdt_set_off_dt_strings(dtb_in, ts + 4u);
    assert_int_equal(bl_fdt_set_chosen(dtb_in, sizeof dtb_in, dtb_out, sizeof dtb_out, &c, &n), BL_EFDT_HDR);
    /* Structure: a bad token, a name offset past the strings, a property
       length past the block, a missing FDT_END (struct cut short). */
    make_dtb(1, 1);
    fdt32_st(dtb_in + fdt_off_dt_struct(dtb_in) + 4 + 4, 7); /* after the root name */
    assert_int_equal(bl_fdt_set_chosen(dtb_in, sizeof dtb_in, dtb_out, sizeof dtb_out, &c, &n), BL_EFDT_STRUCT);
    make_dtb(1, 1);
    fdt32_st(dtb_in + fdt_off_dt_struct(dtb_in) + 16, fdt_size_dt_strings(dtb_in)); /* nameoff */
    assert_int_equal(bl_fdt_set_chosen(dtb_in, sizeof dtb_in, dtb_out, sizeof dtb_out, &c, &n), BL_EFDT_STRUCT);
    make_dtb(1, 1);
    fdt32_st(dtb_in + fdt_off_dt_struct(dtb_in) + 12, 0x10000); /* prop len */
    assert_int_equal(bl_fdt_set_chosen(dtb_in, sizeof dtb_in, dtb_out, sizeof dtb_out, &c, &n), BL_EFDT_STRUCT);
    make_dtb(1, 1);
    fdt_set_size_dt_struct(dtb_in, fdt_size_dt_struct(dtb_in) - 4u);
    assert_int_equal(bl_fdt_set_chosen(dtb_in, sizeof dtb_in, dtb_out, sizeof dtb_out, &c, &n), BL_EFDT_STRUCT);
    /* Command line too long. */
    make_dtb(1, 1);
    memset(longline, 'x', BL_CMDLINE_MAX);
    longline[BL_CMDLINE_MAX] = 0;
    c.bootargs = longline;
    assert_int_equal(bl_fdt_set_chosen(dtb_in, sizeof dtb_in, dtb_out, sizeof dtb_out, &c, &n), BL_EFDT_CMDLINE);
}

/* ---- end to end against the fake virtio-blk device --------------------- */

#define QSIZE 128u
#define NREQ 16u
#define RING_BYTES VIRTQ_RING_BYTES(QSIZE, VIRTQ_ALIGN_LEGACY)
#define D_NSEC (40u * 2048u) /* 40 MiB */
#define K_FIRST 2048u
#define K_FILE (2u * MIB + 1000u)
#define K_SECS 8192u /* 4 MiB partition */
#define I_FIRST (K_FIRST + K_SECS)
#define I_SECS 2048u /* 1 MiB */
#define C_FIRST (I_FIRST + I_SECS)

static uint8_t *ring;
static struct virtq_slot slots[QSIZE];
static struct vblk_req reqs[NREQ];
static uint8_t *disk;      /* D_NSEC sectors */
static uint8_t *ram;       /* host_layout's 16 MiB */
static struct virtq_fake_dev *fd;
static struct virtq_dev vdev;
static struct vblk blk;
static struct bl_result res;

static void disk_std(uint64_t kpart_secs, uint64_t ipart_secs, const char *cmdline)
{
    struct db_part parts[3] = {{"kernel", K_FIRST, K_FIRST + kpart_secs - 1u},
                               {"initrd", K_FIRST + kpart_secs, K_FIRST + kpart_secs + ipart_secs - 1u},
                               {"cmdline", K_FIRST + kpart_secs + ipart_secs, K_FIRST + kpart_secs + ipart_secs}};
    memset(disk, 0, (size_t)D_NSEC * DB_SEC);
    db_build_gpt(disk, D_NSEC, parts, cmdline ? 3u : 2u);
    db_build_image(disk + (size_t)K_FIRST * DB_SEC, K_FILE, K_FILE, 3u * MIB, 10, 0xaa64);
    for (size_t i = 0; i < (size_t)ipart_secs * DB_SEC && K_FIRST + kpart_secs + i / DB_SEC < D_NSEC - 40u; i++)
        disk[(K_FIRST + kpart_secs) * DB_SEC + i] = (uint8_t)(i * 7u + (i >> 9) + 3u);
    if (cmdline)
        memcpy(disk + (K_FIRST + kpart_secs + ipart_secs) * DB_SEC, cmdline, strlen(cmdline));
}

static void dev_up(int threaded)
{
    struct virtq_fake_blk_params bp = {0};
    struct vblk_params p = {0};
    virtq_fake_set_violation_handler(virtq_fake_count_violations, NULL);
    virtq_fake_clear_violations();
    virtq_fake_cpu_reset();
    bp.image = disk;
    bp.image_bytes = (uint64_t)D_NSEC * DB_SEC;
    bp.queue_num_max = QSIZE;
    bp.features = VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX) | VIRTQ_FEATURE(VIRTIO_F_INDIRECT_DESC);
    bp.size_max = 256u * 1024u;
    fd = virtq_fake_blk_create(&bp);
    assert_non_null(fd);
    assert_int_equal(virtq_mmio_probe(&vdev, virtq_fake_base(fd)), VIRTQ_OK);
    p.ring = ring;
    p.ring_bytes = RING_BYTES;
    p.slots = slots;
    p.queue_size = QSIZE;
    p.reqs = reqs;
    p.nreqs = NREQ;
    assert_int_equal(vblk_init(&blk, &vdev, &p), VIRTQ_OK);
    if (threaded) {
        virtq_fake_set_mode(fd, VIRTQ_FAKE_OUT_OF_ORDER, 11);
        virtq_fake_set_thread_delay(fd, 50);
        assert_int_equal(virtq_fake_start_thread(fd), 0);
    }
}

static void dev_down(int threaded)
{
    if (threaded)
        virtq_fake_stop_thread(fd);
    assert_int_equal(vblk_reset(&blk), VIRTQ_OK);
    virtq_fake_assert_clean();
    virtq_fake_destroy(fd);
    fd = NULL;
}

static unsigned progress_calls;
static uint64_t shrink_at_load; /* != 0: the disk's capacity when the load starts */
static void progress(const char *what, uint64_t bytes, int done)
{
    /* Start and done alternate, start first. */
    assert_int_equal((int)(progress_calls & 1u), done);
    assert_true(bytes > 0);
    assert_true(strcmp(what, "kernel+initrd") == 0 || strcmp(what, "kernel") == 0);
    progress_calls++;
    if (!done && shrink_at_load)
        blk.capacity = shrink_at_load; /* the disk shrank after its GPT was read */
}

static struct bl_config cfg_std(void)
{
    struct bl_config c;
    memset(&c, 0, sizeof c);
    c.layout = &host_layout;
    c.ram = ram;
    c.dtb_in = dtb_in;
    c.dtb_in_max = sizeof dtb_in;
    c.default_cmdline = "console=ttyAMA0 default";
    c.chunk = 512u * 1024u;
    c.depth = 8;
    c.scratch = scratch;
    c.progress = progress;
    return c;
}

/* The standard disk, untouched RAM, QEMU's DTB, the device up (sync). */
static struct bl_config std_up(void)
{
    disk_std(K_SECS, I_SECS, NULL);
    memset(ram, 0xa5, 16u * MIB);
    make_dtb(1, 1);
    dev_up(0);
    return cfg_std();
}

static int run(int threaded)
{
    struct bl_config c = cfg_std();
    int err;
    memset(ram, 0xa5, 16u * MIB);
    make_dtb(1, 1);
    dev_up(threaded);
    err = bl_prepare(&blk, &c, &res);
    dev_down(threaded);
    return err;
}

static bool ram_untouched(void)
{
    for (size_t i = 0; i < 16u * MIB; i += 4096)
        if (ram[i] != 0xa5 || ram[i + 4095] != 0xa5)
            return false;
    return true;
}

static void boot_good_common(int threaded)
{
    const uint8_t *k = ram + 2u * MIB, *i = ram + 8u * MIB;
    const void *f = ram + 14u * MIB;
    disk_std(K_SECS, I_SECS, "console=ttyAMA0 from-disk\nignored");
    assert_int_equal(run(threaded), BL_OK);
    assert_int_equal(res.stage, BL_STAGE_DONE);
    assert_int_equal(res.gpt.used, GPT_USED_PRIMARY);
    /* Kernel: the file's bytes rounded up to a block, nothing beyond. */
    assert_int_equal(res.plan.kernel_load, (K_FILE + 511u) / 512u * 512u);
    assert_memory_equal(k, disk + K_FIRST * DB_SEC, res.plan.kernel_load);
    assert_int_equal(k[res.plan.kernel_load], 0xa5);
    assert_memory_equal(i, disk + I_FIRST * DB_SEC, I_SECS * DB_SEC);
    assert_int_equal(res.kernel_bytes, res.plan.kernel_load);
    assert_int_equal(res.initrd_bytes, I_SECS * DB_SEC);
    assert_int_equal(res.load_st.bytes, res.kernel_bytes + res.initrd_bytes);
    /* Several requests in flight, fewer kicks than requests. */
    assert_true(res.load_st.max_inflight >= 2);
    assert_true(res.load_st.requests >= 5);
    assert_true(res.load_st.kicks < res.load_st.requests);
    check_chosen(f, "console=ttyAMA0 from-disk", host_layout.initrd_addr,
                 host_layout.initrd_addr + I_SECS * DB_SEC);
    assert_int_equal(res.dtb_size, fdt_totalsize(f));
}

static void boot_good_sync(void **state)
{
    (void)state;
    progress_calls = 0;
    boot_good_common(0);
    assert_int_equal(progress_calls, 2); /* one load: kernel and initrd */
}

static void boot_good_threaded(void **state)
{
    (void)state;
    boot_good_common(1);
}

static void boot_default_cmdline_no_initrd(void **state)
{
    struct db_part parts[1] = {{"kernel", K_FIRST, K_FIRST + K_SECS - 1u}};
    struct bl_config c = cfg_std();
    int off;
    (void)state;
    memset(disk, 0, (size_t)D_NSEC * DB_SEC);
    db_build_gpt(disk, D_NSEC, parts, 1);
    db_build_image(disk + (size_t)K_FIRST * DB_SEC, K_FILE, K_FILE, 3u * MIB, 10, 0xaa64);
    memset(ram, 0xa5, 16u * MIB);
    make_dtb(0, 0);
    dev_up(0);
    assert_int_equal(bl_prepare(&blk, &c, &res), BL_OK);
    dev_down(0);
    off = fdt_path_offset(ram + 14u * MIB, "/chosen");
    assert_true(off >= 0);
    assert_string_equal(fdt_getprop(ram + 14u * MIB, off, "bootargs", NULL), "console=ttyAMA0 default");
    assert_null(fdt_getprop(ram + 14u * MIB, off, "linux,initrd-start", NULL));
    assert_int_equal(res.initrd_bytes, 0);
    assert_int_equal(res.load_st.bytes, res.plan.kernel_load);
}

/* A load error names the file it hit: the initrd's sectors refused at
   submission (the disk shrank below them after the GPT was read), while
   the kernel's requests were in flight; the kernel still lands whole and
   every request comes back. */
static void boot_load_error_names_initrd(void **state)
{
    struct bl_config c = std_up();
    (void)state;
    shrink_at_load = I_FIRST + 8u;
    assert_int_equal(bl_prepare(&blk, &c, &res), VBLK_ERANGE);
    shrink_at_load = 0;
    assert_int_equal(res.stage, BL_STAGE_LOAD_INITRD);
    assert_int_equal(vblk_pending(&blk), 0);
    dev_down(0);
    assert_int_equal(res.kernel_bytes, res.plan.kernel_load);
    assert_memory_equal(ram + 2u * MIB, disk + K_FIRST * DB_SEC, res.plan.kernel_load);
    assert_int_equal(res.initrd_bytes, 0);
    assert_int_equal(ram[8u * MIB], 0xa5);
}

/* Each hostile disk: the stage, the error, and no byte of RAM written. */
static void expect_refused(enum bl_stage stage, int err)
{
    assert_int_equal(run(0), err);
    assert_int_equal(res.stage, stage);
    assert_true(ram_untouched());
}

static void boot_hostile(void **state)
{
    uint8_t *h;
    (void)state;
    /* Bad primary header CRC, good backup: boots from the backup. */
    disk_std(K_SECS, I_SECS, NULL);
    db_hdr(disk, D_NSEC, 0)[20] ^= 1;
    assert_int_equal(run(0), BL_OK);
    assert_int_equal(res.gpt.used, GPT_USED_BACKUP);
    assert_int_equal(res.gpt.primary_err, BL_EGPT_HDRCRC);
    /* ... and with the backup bad too. */
    db_hdr(disk, D_NSEC, 1)[20] ^= 1;
    expect_refused(BL_STAGE_GPT, BL_EGPT_HDRCRC);
    /* Entry size and count out of bounds (CRCs recomputed). */
    disk_std(K_SECS, I_SECS, NULL);
    for (int b = 0; b < 2; b++) {
        db_le32(db_hdr(disk, D_NSEC, b) + 84, 64);
        db_fix_hdr_crc(disk, D_NSEC, b);
    }
    expect_refused(BL_STAGE_GPT, BL_EGPT_ENTSIZE);
    disk_std(K_SECS, I_SECS, NULL);
    for (int b = 0; b < 2; b++) {
        db_le32(db_hdr(disk, D_NSEC, b) + 80, 100000);
        db_fix_hdr_crc(disk, D_NSEC, b);
    }
    expect_refused(BL_STAGE_GPT, BL_EGPT_ENTCOUNT);
    /* Entries beyond the disk. */
    disk_std(K_SECS, I_SECS, NULL);
    for (int b = 0; b < 2; b++) {
        db_le64(db_entries(disk, D_NSEC, b) + 128 + 40, D_NSEC + 5u);
        db_fix_crcs(disk, D_NSEC, b);
    }
    expect_refused(BL_STAGE_GPT, BL_EGPT_PARTRANGE);
    /* Overlapping partitions. */
    disk_std(K_SECS, I_SECS, NULL);
    for (int b = 0; b < 2; b++) {
        db_le64(db_entries(disk, D_NSEC, b) + 128 + 32, K_FIRST + 10u);
        db_fix_crcs(disk, D_NSEC, b);
    }
    expect_refused(BL_STAGE_GPT, BL_EGPT_OVERLAP);
    /* Kernel partition larger than the RAM window (14 MiB from the base). */
    disk_std(15u * 2048u, I_SECS, NULL);
    expect_refused(BL_STAGE_PLACE, BL_EPL_KERNEL_RAM);
    /* Truncated Image: the sections end past a 1 MiB partition. */
    disk_std(2048u, I_SECS, NULL);
    expect_refused(BL_STAGE_IMAGE, BL_EIMG_TRUNC);
    /* Non-arm64: an x86-64 PE, and no magic at all. */
    disk_std(K_SECS, I_SECS, NULL);
    db_build_image(disk + (size_t)K_FIRST * DB_SEC, K_FILE, K_FILE, 3u * MIB, 10, 0x8664);
    expect_refused(BL_STAGE_IMAGE, BL_EIMG_MACHINE);
    disk_std(K_SECS, I_SECS, NULL);
    memcpy(disk + (size_t)K_FIRST * DB_SEC + 56, "HdrS", 4);
    expect_refused(BL_STAGE_IMAGE, BL_EIMG_MAGIC);
    /* An initrd that would overlap the kernel (image_size reaches 8 MiB) or
       the DTB (7 MiB initrd at 8 MiB runs into the DTB at 14 MiB). */
    disk_std(K_SECS, I_SECS, NULL);
    h = disk + (size_t)K_FIRST * DB_SEC;
    db_le64(h + 16, 6u * MIB + 4096u);
    expect_refused(BL_STAGE_PLACE, BL_EPL_INITRD_KERNEL);
    disk_std(K_SECS, 7u * 2048u, NULL);
    expect_refused(BL_STAGE_PLACE, BL_EPL_INITRD_DTB);
    /* No kernel partition, a cmdline that is not text. */
    disk_std(K_SECS, I_SECS, NULL);
    for (int b = 0; b < 2; b++) {
        db_entries(disk, D_NSEC, b)[56] = 'K';
        db_fix_crcs(disk, D_NSEC, b);
    }
    expect_refused(BL_STAGE_FIND, BL_EGPT_NOTFOUND);
    disk_std(K_SECS, I_SECS, "console=ttyAMA0 \x01");
    expect_refused(BL_STAGE_CMDLINE, BL_EFDT_CMDLINE);
}

/* The firmware's DTB where a load would land: refused before any load. */
static void boot_dtb_in_the_way(void **state)
{
    struct bl_config c = std_up();
    (void)state;
    memcpy(ram + 8u * MIB + 4096u, dtb_in, fdt_totalsize(dtb_in)); /* in the initrd's range */
    c.dtb_in = ram + 8u * MIB + 4096u;
    c.dtb_in_max = fdt_totalsize(dtb_in);
    assert_int_equal(bl_prepare(&blk, &c, &res), BL_EPL_INITRD_DTB);
    assert_int_equal(res.stage, BL_STAGE_PLACE);
    memcpy(ram + 2u * MIB + 8192u, dtb_in, fdt_totalsize(dtb_in)); /* in the kernel's image_size */
    c.dtb_in = ram + 2u * MIB + 8192u;
    assert_int_equal(bl_prepare(&blk, &c, &res), BL_EPL_KERNEL_SELF);
    assert_int_equal(res.stage, BL_STAGE_PLACE);
    dev_down(0);
    /* Nothing loaded: the first bytes of kernel and initrd areas as they were. */
    assert_int_equal(ram[2u * MIB], 0xa5);
    assert_int_equal(ram[8u * MIB], 0xa5);
    assert_int_equal(ram[14u * MIB], 0xa5);
}

static void boot_bad_firmware_dtb(void **state)
{
    struct bl_config c = cfg_std();
    (void)state;
    disk_std(K_SECS, I_SECS, NULL);
    memset(ram, 0xa5, 16u * MIB);
    make_dtb(1, 1);
    dtb_in[3] ^= 1;
    dev_up(0);
    assert_int_equal(bl_prepare(&blk, &c, &res), BL_EFDT_HDR);
    assert_int_equal(res.stage, BL_STAGE_DTB);
    dev_down(0);
    assert_true(ram_untouched());
}

/* The loader on its own: an odd length is refused, an I/O error stops it
   and every request still comes back. */
static void load_errors(void **state)
{
    struct bl_load_stats st = {0};
    (void)state;
    disk_std(K_SECS, I_SECS, NULL);
    dev_up(0);
    assert_int_equal(bl_load(&blk, 0, ram, 1000, 4096, 4, &st), BL_ELOAD_ALIGN);
    /* Past the capacity: refused by the driver before it is sent. */
    memset(&st, 0, sizeof st);
    assert_int_equal(bl_load(&blk, D_NSEC - 8u, ram, 8192, 4096, 4, &st), VBLK_ERANGE);
    assert_int_equal(vblk_pending(&blk), 0);
    /* A chunk bigger than max_transfer is capped; depth 1 works too. */
    memset(&st, 0, sizeof st);
    assert_int_equal(bl_load(&blk, 0, ram, 1u * MIB, 0xffffffffu, 1, &st), BL_OK);
    assert_int_equal(st.max_inflight, 1);
    assert_memory_equal(ram, disk, 1u * MIB);
    dev_down(0);
}

/* Extents k (from the kernel partition) and i (from the initrd's). */
static void two_extents(struct bl_extent *k, uint64_t kbytes, struct bl_extent *i,
                        uint8_t *idst, uint64_t ibytes)
{
    k->sector = K_FIRST;
    k->dst = ram;
    k->bytes = kbytes;
    i->sector = I_FIRST;
    i->dst = idst;
    i->bytes = ibytes;
}

/* Two extents through one window: the second's request is queued with the
   first's, before any completion is taken, and one kick publishes all. */
static void load_extents_share_window(void **state)
{
    struct bl_load_stats st = {0};
    struct bl_extent e[3];
    unsigned failed = 99;
    (void)state;
    disk_std(K_SECS, I_SECS, NULL);
    memset(ram, 0xa5, 16u * MIB);
    dev_up(0);
    two_extents(&e[0], 3u * 256u * 1024u, &e[2], ram + 4u * MIB, 3u * DB_SEC); /* 3 chunks, 1 */
    e[1] = e[0];
    e[1].bytes = 0; /* empty: skipped */
    e[2].done = 12345; /* reset by the call */
    assert_int_equal(bl_load_extents(&blk, e, 3, 256u * 1024u, 8, &st, &failed), BL_OK);
    assert_int_equal(failed, 99); /* untouched on success */
    assert_int_equal(e[0].done, e[0].bytes);
    assert_int_equal(e[1].done, 0);
    assert_int_equal(e[2].done, e[2].bytes);
    assert_memory_equal(ram, disk + K_FIRST * DB_SEC, e[0].bytes);
    assert_memory_equal(ram + 4u * MIB, disk + I_FIRST * DB_SEC, e[2].bytes);
    assert_int_equal(ram[e[0].bytes], 0xa5);
    assert_int_equal(ram[4u * MIB + e[2].bytes], 0xa5);
    assert_int_equal(st.requests, 4);
    assert_int_equal(st.max_inflight, 4);
    assert_int_equal(st.kicks, 1);
    assert_int_equal(st.bytes, e[0].bytes + e[2].bytes);
    dev_down(0);
}

/* The same with completions out of order from a device thread, a window
   narrower than the work: every byte lands, every request comes back. */
static void load_extents_threaded(void **state)
{
    struct bl_load_stats st = {0};
    struct bl_extent e[2];
    (void)state;
    disk_std(K_SECS, I_SECS, NULL);
    memset(ram, 0xa5, 16u * MIB);
    dev_up(1);
    two_extents(&e[0], 4u * MIB, &e[1], ram + 8u * MIB, 1u * MIB);
    assert_int_equal(bl_load_extents(&blk, e, 2, 128u * 1024u, 5, &st, NULL), BL_OK);
    assert_memory_equal(ram, disk + K_FIRST * DB_SEC, 4u * MIB);
    assert_memory_equal(ram + 8u * MIB, disk + I_FIRST * DB_SEC, 1u * MIB);
    assert_int_equal(st.requests, 40);
    assert_int_equal(st.max_inflight, 5);
    assert_int_equal(vblk_pending(&blk), 0);
    dev_down(1);
}

/* Refusals read nothing; an error in the second extent stops submission,
   takes back the first's requests and names the second. */
static void load_extents_errors(void **state)
{
    struct bl_load_stats st = {0};
    struct bl_extent e[2];
    unsigned failed = 99;
    static uint8_t other[DB_SEC];
    void *tag;
    int result;
    struct virtq_buf seg;
    (void)state;
    disk_std(K_SECS, I_SECS, NULL);
    memset(ram, 0xa5, 16u * MIB);
    dev_up(0);
    two_extents(&e[0], 1u * MIB, &e[1], ram + 4u * MIB, 1000); /* not whole blocks */
    assert_int_equal(bl_load_extents(&blk, NULL, 2, 4096, 4, &st, &failed), BL_EARG);
    assert_int_equal(failed, 0); /* every error sets it */
    assert_int_equal(bl_load_extents(&blk, e, 2, 4096, 4, NULL, &failed), BL_EARG);
    assert_int_equal(bl_load_extents(&blk, e, 0, 4096, 4, &st, &failed), BL_EARG);
    assert_int_equal(bl_load_extents(&blk, e, 2, 4096, 4, &st, &failed), BL_ELOAD_ALIGN);
    assert_int_equal(failed, 0);
    e[1].bytes = 1024;
    e[1].dst = NULL;
    assert_int_equal(bl_load_extents(&blk, e, 2, 4096, 4, &st, &failed), BL_EARG);
    e[1].dst = ram + 4u * MIB;
    /* A request of someone else's in flight: the window must own the device. */
    seg.addr = other;
    seg.len = DB_SEC;
    virtq_fake_set_mode(fd, VIRTQ_FAKE_DEFERRED, 0);
    assert_int_equal(vblk_submit(&blk, VIRTIO_BLK_T_IN, 0, &seg, 1, &seg, 0), VIRTQ_OK);
    assert_int_equal(bl_load_extents(&blk, e, 2, 4096, 4, &st, &failed), BL_EARG);
    assert_int_equal(virtq_fake_step(fd, 0, 1), 1);
    assert_int_equal(vblk_complete(&blk, &tag, &result, 0), VIRTQ_OK);
    assert_ptr_equal(tag, &seg);
    assert_true(ram_untouched());
    assert_int_equal(st.requests, 0);
    /* Second extent past the end of the disk, first one's requests in flight. */
    virtq_fake_set_mode(fd, VIRTQ_FAKE_SYNC, 0);
    e[1].sector = D_NSEC - 1u;
    assert_int_equal(bl_load_extents(&blk, e, 2, 256u * 1024u, 8, &st, &failed), VBLK_ERANGE);
    assert_int_equal(failed, 1);
    assert_int_equal(e[0].done, e[0].bytes);
    assert_int_equal(e[1].done, 0);
    assert_memory_equal(ram, disk + K_FIRST * DB_SEC, e[0].bytes);
    assert_int_equal(ram[4u * MIB], 0xa5);
    assert_int_equal(vblk_pending(&blk), 0);
    dev_down(0);
}

static int group_setup(void **state)
{
    (void)state;
    ring = virtq_fake_lowmem_alloc(RING_BYTES);
    disk = calloc(D_NSEC, DB_SEC);
    ram = malloc(16u * MIB);
    return ring && disk && ram ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    virtq_fake_lowmem_free(ring);
    free(disk);
    free(ram);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crc32_vector),
        cmocka_unit_test(gpt_good),
        cmocka_unit_test(gpt_bad_headers),
        cmocka_unit_test(gpt_bad_arrays),
        cmocka_unit_test(gpt_bad_partitions),
        cmocka_unit_test(gpt_bounds_before_crc),
        cmocka_unit_test(gpt_names_and_dups),
        cmocka_unit_test(gpt_disk_args),
        cmocka_unit_test(image_checks),
        cmocka_unit_test(place_checks),
        cmocka_unit_test(fdt_edit),
        cmocka_unit_test(fdt_memory),
        cmocka_unit_test(fdt_hostile),
        cmocka_unit_test(boot_good_sync),
        cmocka_unit_test(boot_good_threaded),
        cmocka_unit_test(boot_default_cmdline_no_initrd),
        cmocka_unit_test(boot_hostile),
        cmocka_unit_test(boot_bad_firmware_dtb),
        cmocka_unit_test(boot_dtb_in_the_way),
        cmocka_unit_test(load_errors),
        cmocka_unit_test(load_extents_share_window),
        cmocka_unit_test(load_extents_threaded),
        cmocka_unit_test(load_extents_errors),
        cmocka_unit_test(boot_load_error_names_initrd),
    };
    return cmocka_run_group_tests_name("bootloader", tests, group_setup, group_teardown);
}
