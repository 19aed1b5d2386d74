/* SPDX-License-Identifier: MIT */
/* fake_config.c — device configuration space ("Device Configuration Space"). */
#define _GNU_SOURCE
#include "fake_internal.h"

#include <string.h>

/* ---- config space ---- */

static const struct virtq_fake_cfg_field *cfg_field(const struct virtq_fake_dev *d, uint32_t off)
{
    int i;
    for (i = 0; i < d->nfields; i++)
        if (off >= d->fields[i].off && off < (uint32_t)d->fields[i].off + d->fields[i].size)
            return &d->fields[i];
    return NULL;
}

/* 0 if the access may proceed. */
static int cfg_check(struct virtq_fake_dev *d, uint32_t off, int width, int write)
{
    const char *what = write ? "write" : "read";
    const struct virtq_fake_cfg_field *f;
    if (off + (uint32_t)width > d->config_len) {
        fk_vio(d, -1, S_REGS, "%d-bit config %s at offset %#x, beyond the %u-byte configuration space", width * 8, what,
            off, d->config_len);
        return -1;
    }
    if (d->version == 2 && (off % (uint32_t)width) != 0)
        fk_vio(d, -1, S_REGS, "%d-bit config %s at offset %#x is not aligned", width * 8, what, off);
    if (d->nfields == 0)
        return 0;
    f = cfg_field(d, off);
    if (f == NULL) {
        fk_vio(d, -1, S_REGS, "config %s at offset %#x, which the device type does not describe", what, off);
        return 0;
    }
    if (d->version == 2) {
        int ew = f->width == 8 ? 4 : f->width;
        if (width != ew || off + (uint32_t)width > (uint32_t)f->off + f->size || (off - f->off) % (uint32_t)ew)
            fk_vio(d, -1, S_REGS, "%d-bit config %s at offset %#x: the field at %#x takes %d-bit accesses",
                width * 8, what, off, f->off, ew * 8);
    }
    if (f->feature >= 0 && !(d->offered & VIRTQ_FEATURE(f->feature)))
        fk_vio(d, -1, S_CONFIG, "config field at offset %#x accessed, but its feature bit %d is not offered", f->off,
            f->feature);
    if (write && !f->writable)
        fk_vio(d, -1, S_CONFIG, "the driver wrote config field at offset %#x, which is read-only", f->off);
    return 0;
}

uint32_t fk_cfg_read(struct virtq_fake_dev *d, uint32_t off, int width)
{
    uint32_t v = 0;
    d->st.config_reads++;
    if (d->flap > 0) {
        d->flap--;
        d->generation++;
    }
    if (cfg_check(d, off, width, 0) < 0)
        return 0;
    memcpy(&v, d->config + off, (size_t)width); /* little-endian host */
    return v;
}

void fk_cfg_write(struct virtq_fake_dev *d, uint32_t off, uint32_t val, int width)
{
    if (cfg_check(d, off, width, 1) < 0)
        return;
    if (d->model && d->model->config_write)
        d->model->config_write(d, d->model_ctx, off, val, width);
    else
        memcpy(d->config + off, &val, (size_t)width);
}
