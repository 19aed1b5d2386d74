/* SPDX-License-Identifier: MIT */
/* fake_status.c — the status machine ("Device Initialization", "Device Status Field"). */
#define _GNU_SOURCE
#include "fake_internal.h"

#include <stdio.h>

/* ---- the status machine ("Device Initialization", "Device Status Field") ------------------------------------------ */

static int accept_features(struct virtq_fake_dev *d, uint64_t acc)
{
    uint64_t extra = acc & ~d->offered;
    int ok = 1;
    if (extra || d->drv_high_garbage) {
        fk_vio(d, -1, S_FEATURES, "the driver accepted feature bits %#llx%s that the device did not offer",
            (unsigned long long)extra, d->drv_high_garbage ? " (and bits above 63)" : "");
        ok = 0;
    }
    if (d->version == 2 && (d->offered & VIRTQ_FEATURE(VIRTIO_F_VERSION_1)) &&
        !(acc & VIRTQ_FEATURE(VIRTIO_F_VERSION_1))) {
        fk_vio(d, -1, S_RESERVED, "the driver did not accept VIRTIO_F_VERSION_1, which the device offers");
        ok = 0;
    }
    if (ok && d->want_packed && (d->offered & VIRTQ_FEATURE(VIRTIO_F_RING_PACKED)) &&
        !(acc & VIRTQ_FEATURE(VIRTIO_F_RING_PACKED))) {
        fprintf(stderr, "fake: VIRTQ_FAKE_RING=packed: the driver did not accept VIRTIO_F_RING_PACKED; "
                        "FEATURES_OK refused\n");
        ok = 0;
    }
    if (ok && d->model && d->model->features_ok && !d->model->features_ok(d, d->model_ctx, acc))
        ok = 0;
    return ok;
}

void fk_status_write(struct virtq_fake_dev *d, uint32_t val)
{
    uint32_t old = d->status, added, cleared;
    d->st.status_writes++;
    if (val == 0) {
        if (!d->reset_stuck) /* stuck: the reset never completes */
            fk_dev_reset(d);
        return;
    }
    if (val & ~ST_ALL)
        fk_vio(d, -1, S_STATUS, "status %#x sets undefined bits", val);
    cleared = old & ~val & ~(uint32_t)ST_NEEDS_RESET;
    if (cleared)
        fk_vio(d, -1, S_STATUS, "status %#x clears bit(s) %#x: the driver MUST NOT clear a status bit (write 0 to reset)",
            val, cleared);
    added = val & ~old;
    if (added & ST_NEEDS_RESET) {
        fk_vio(d, -1, S_STATUS, "the driver set DEVICE_NEEDS_RESET, a bit only the device sets");
        val &= ~(uint32_t)ST_NEEDS_RESET;
        added &= ~(uint32_t)ST_NEEDS_RESET;
    }
    if ((added & ST_DRIVER) && !(val & ST_ACK))
        fk_vio(d, -1, S_INIT, "DRIVER set before ACKNOWLEDGE (status %#x -> %#x)", old, val);
    if ((added & ST_FEATURES_OK) && d->version == 2) {
        if (!(val & ST_DRIVER) || !(val & ST_ACK)) {
            fk_vio(d, -1, S_INIT, "FEATURES_OK set before ACKNOWLEDGE and DRIVER (status %#x -> %#x)", old, val);
            val &= ~(uint32_t)ST_FEATURES_OK;
        } else if (!accept_features(d, d->drv_features) || d->refuse_fo)
            val &= ~(uint32_t)ST_FEATURES_OK; /* refused: the bit does not stick */
        else
            d->negotiated = d->drv_features;
        d->fo_unchecked = 1;
    }
    if ((old & ST_FAILED) && (added & ~(uint32_t)ST_FAILED))
        fk_vio(d, -1, S_STATUS, "status bits %#x set after FAILED: the driver MUST reset the device before re-initializing",
            added & ~(uint32_t)ST_FAILED);
    if (added & ST_DRIVER_OK) {
        if (!(val & ST_DRIVER) || !(val & ST_ACK))
            fk_vio(d, -1, S_INIT, "DRIVER_OK set before ACKNOWLEDGE and DRIVER (status %#x -> %#x)", old, val);
        if (d->version == 2) {
            if (!(val & ST_FEATURES_OK))
                fk_vio(d, -1, S_INIT, "DRIVER_OK set without FEATURES_OK (status %#x -> %#x)", old, val);
            else if (d->fo_unchecked)
                fk_vio(d, -1, S_INIT,
                    "DRIVER_OK set without re-reading the status after FEATURES_OK (the device may refuse it)");
        } else {
            (void)accept_features(d, d->drv_features);
        }
    }
    d->status = val | (old & ST_NEEDS_RESET);
}

/* DriverFeatures / driver_feature: the half drv_sel names. */
void fk_driver_features_write(struct virtq_fake_dev *d, uint32_t val)
{
    if (!d->drv_sel_written)
        fk_vio(d, -1, S_REGS, "DriverFeatures written before any write to DriverFeaturesSel");
    if (!(d->status & ST_DRIVER) || (d->status & ST_DRIVER_OK) ||
        (d->version == 2 && (d->status & ST_FEATURES_OK)))
        fk_vio(d, -1, S_INIT, "DriverFeatures written outside feature negotiation (status %#x): after DRIVER, before %s",
            d->status, d->version == 2 ? "FEATURES_OK" : "DRIVER_OK");
    if (d->drv_sel == 0)
        d->drv_features = (d->drv_features & ~0xffffffffull) | val;
    else if (d->drv_sel == 1)
        d->drv_features = (d->drv_features & 0xffffffffull) | ((uint64_t)val << 32);
    else if (val != 0)
        d->drv_high_garbage = 1;
}
