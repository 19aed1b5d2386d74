/* SPDX-License-Identifier: MIT */
/* fuzz_fdt.c — libFuzzer: the bootloader's /chosen editor on arbitrary
   device trees.  Oracle: whenever bl_fdt_set_chosen() accepts an input, the
   output passes libfdt's fdt_check_full() and /chosen carries exactly the
   bootargs and initrd range asked for. */
#include "examples/bootloader/fdt_chosen.h"

#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ORACLE(c)                                                                  \
    do {                                                                           \
        if (!(c)) {                                                                \
            fprintf(stderr, "fuzz_fdt: oracle failed: %s (line %d)\n", #c, __LINE__); \
            abort();                                                               \
        }                                                                          \
    } while (0)

static uint8_t out[256 * 1024];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bl_chosen c = {"console=ttyAMA0 fuzz", 0x48000000u, 0x48100000u};
    size_t n = 0;
    uint8_t *in;
    int off, len;
    const void *v;

    if (size > 128u * 1024u)
        return 0;
    in = malloc(size ? size : 1u);
    if (!in)
        return 0;
    memcpy(in, data, size);
    if (bl_fdt_set_chosen(in, size, out, sizeof out, &c, &n) == BL_OK) {
        ORACLE(n >= 40u && n <= sizeof out && fdt_totalsize(out) == n);
        ORACLE(fdt_check_full(out, n) == 0);
        off = fdt_path_offset(out, "/chosen");
        ORACLE(off >= 0);
        v = fdt_getprop(out, off, "bootargs", &len);
        ORACLE(v && len == (int)strlen(c.bootargs) + 1 && memcmp(v, c.bootargs, (size_t)len) == 0);
        v = fdt_getprop(out, off, "linux,initrd-start", &len);
        ORACLE(v && len == 8 && fdt64_ld(v) == c.initrd_start);
        v = fdt_getprop(out, off, "linux,initrd-end", &len);
        ORACLE(v && len == 8 && fdt64_ld(v) == c.initrd_end);
    }
    free(in);
    return 0;
}
