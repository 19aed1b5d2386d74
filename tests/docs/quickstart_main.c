/* SPDX-License-Identifier: MIT */
/* tests/docs/quickstart_main.c — the board program around README.md's
   quickstart (build/quickstart/readme_quickstart.c, the README's C block
   verbatim): call read_sector0() and check what it read against the disk
   image tests/docs/quickstart_boot.py wrote.  RESULT tags come from a
   read-only probe of the device the quickstart used. */
#include "board_api.h"
#include "virtq.h"

int read_sector0(uint8_t data[512]);

static const char signature[] = "virtq quickstart sector 0";

int main(void)
{
    static uint8_t data[512];
    struct virtq_dev dev;
    unsigned i;
    int rc;

    board_set_name("quickstart");
    /* Tags: what the device is (mmio version); the quickstart negotiates
       no packed ring. */
    if (virtq_mmio_find(&dev, 0x10001000, 0x1000, 8, VIRTIO_ID_BLOCK, 0) == VIRTQ_OK)
        board_tag_virtio("mmio", 0, dev.version);
    rc = read_sector0(data);
    if (rc != 0)
        board_fail("read_sector0 returned %d (%s)", rc, virtq_strerror(rc));
    for (i = 0; i < sizeof signature - 1u; i++)
        if (data[i] != (uint8_t)signature[i])
            board_fail("sector 0 byte %u is %#x, want %#x", i, data[i], (uint8_t)signature[i]);
    for (i = 256; i < 512; i++)
        if (data[i] != (uint8_t)i)
            board_fail("sector 0 byte %u is %#x, want %#x", i, data[i], (uint8_t)i);
    board_printf("quickstart: sector 0 read and checked\n");
    board_pass();
}
