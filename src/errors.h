/* SPDX-License-Identifier: MIT */
/* ---- errors.h: error names -------------------------------------------------- */
VIRTQ_API const char *virtq_strerror(int err)
{
    switch (err) {
    case VIRTQ_OK: return "ok";
    case VIRTQ_EINVAL: return "invalid argument";
    case VIRTQ_ENOSPC: return "no free descriptors";
    case VIRTQ_EAGAIN: return "nothing used yet";
    case VIRTQ_EBROKEN: return "queue broken by the device";
    case VIRTQ_ETIMEDOUT: return "timed out";
    case VIRTQ_ENOTSUP: return "not supported or not negotiated";
    case VIRTQ_ENODEV: return "no virtio device";
    case VIRTQ_EIO: return "device refused";
    case VIRTQ_EBUSY: return "busy";
    default: return "unknown error";
    }
}
