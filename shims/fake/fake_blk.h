/* SPDX-License-Identifier: MIT */
/* fake_blk.h — a virtio-blk model for the fake device ("Block Device").

   An in-memory disk the test provides.  Offers VIRTIO_BLK_F_SIZE_MAX,
   SEG_MAX, BLK_SIZE and FLUSH, VIRTIO_BLK_F_RO when read_only, plus the
   test's features (VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX...); a
   modern (version 2) device also offers VIRTIO_F_VERSION_1.  One request
   queue.  Requests are read as byte streams ("Message Framing"): a 16-byte
   header {le32 type, le32 reserved, le64 sector} at the start of the
   device-readable bytes, the data, and the status byte as the last
   device-writable byte.

     VIRTIO_BLK_T_IN     read sectors into the writable data bytes
     VIRTIO_BLK_T_OUT    write the readable data bytes (IOERR if read-only)
     VIRTIO_BLK_T_FLUSH  nothing to do
     VIRTIO_BLK_T_GET_ID the 20-byte serial, NUL-padded
     other types         VIRTIO_BLK_S_UNSUPP

   A request beyond the capacity ends with VIRTIO_BLK_S_IOERR.  Violations
   (the request then ends with IOERR): no 16-byte header, no writable status
   byte, data in the wrong direction for the type, IN/OUT data not a
   multiple of 512, GET_ID data not 20 bytes, FLUSH with a non-zero sector,
   more data segments than seg_max or a segment over size_max (when
   negotiated), and on a legacy device without VIRTIO_F_ANY_LAYOUT the
   legacy framing (header alone in the first descriptor, status alone in
   the last).  The used len is the bytes written: data and status for IN
   and GET_ID, 1 (the status) otherwise. */
#ifndef VIRTQ_FAKE_BLK_H_INCLUDED
#define VIRTQ_FAKE_BLK_H_INCLUDED

#include "virtq_fake.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_GEOMETRY 4
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_TOPOLOGY 10
#define VIRTIO_BLK_F_CONFIG_WCE 11
#define VIRTIO_BLK_F_MQ 12
#define VIRTIO_F_ANY_LAYOUT 27

#define VIRTIO_BLK_T_IN 0u
#define VIRTIO_BLK_T_OUT 1u
#define VIRTIO_BLK_T_FLUSH 4u
#define VIRTIO_BLK_T_GET_ID 8u

#define VIRTIO_BLK_S_OK 0u
#define VIRTIO_BLK_S_IOERR 1u
#define VIRTIO_BLK_S_UNSUPP 2u

#define VIRTIO_BLK_SECTOR 512u
#define VIRTIO_BLK_ID_BYTES 20u

/* Config-space offsets (struct virtio_blk_config). */
#define VIRTIO_BLK_CFG_CAPACITY 0u  /* le64, 512-byte sectors */
#define VIRTIO_BLK_CFG_SIZE_MAX 8u  /* le32 */
#define VIRTIO_BLK_CFG_SEG_MAX 12u  /* le32 */
#define VIRTIO_BLK_CFG_GEOMETRY 16u /* le16 cylinders, u8 heads, u8 sectors */
#define VIRTIO_BLK_CFG_BLK_SIZE 20u /* le32 */

/* The request header, device-readable, first. */
struct virtio_blk_outhdr {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};

struct virtq_fake_blk_params {
    int version;            /* 1 legacy, 2 modern (0 means 2) */
    uintptr_t base;         /* 0: the next free fake base */
    void *image;            /* the disk: image_bytes, a multiple of 512 */
    uint64_t image_bytes;
    uint64_t features;      /* offered on top of the blk bits above */
    int read_only;          /* offer VIRTIO_BLK_F_RO */
    uint32_t size_max;      /* 0 means 65536 */
    uint32_t seg_max;       /* 0 means queue_num_max - 2 */
    uint32_t blk_size;      /* 0 means 512 */
    uint16_t queue_num_max; /* 0 means 128 */
    const char *serial;     /* GET_ID string (<= 20 bytes); NULL: "virtq-fake-blk" */
};

struct virtq_fake_blk_stats {
    uint32_t reads, writes, flushes, get_ids, unsupp, ioerr, bad; /* bad: violations */
    uint64_t bytes_read, bytes_written;
    uint32_t last_type;
    uint8_t last_status;
};

/* A fake device with the blk model; free it with virtq_fake_destroy().
   The image is used in place (not copied) and must outlive the device. */
struct virtq_fake_dev *virtq_fake_blk_create(const struct virtq_fake_blk_params *p);
void virtq_fake_blk_get_stats(struct virtq_fake_dev *dev, struct virtq_fake_blk_stats *out);
/* Resize (sectors <= the image) as the device: updates capacity, bumps
   ConfigGeneration, raises a configuration change interrupt. */
int virtq_fake_blk_set_capacity(struct virtq_fake_dev *dev, uint64_t sectors);

#ifdef __cplusplus
} /* extern "C" */
#endif
#endif
