/* SPDX-License-Identifier: MIT */
/* ---- wire.h: the spec's shared-memory layout, bits and registers -------- */
/* Names follow the VirtIO spec ("Split Virtqueues", "virtio-queue.h"), so   */
/* virtq.h can stand in for the spec's header.  All fields are little-endian */
/* on the wire; virtq supports little-endian CPUs only (see the manual).     */

#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && \
    (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
#error "virtq: big-endian CPUs are not supported (wire format is little-endian)"
#endif

/* C++ has no flexible array members; a [1] array keeps member offsets the
   same, and virtq never uses sizeof on these structs. */
#if defined(__cplusplus)
#define VIRTQ__FLEX 1
#else
#define VIRTQ__FLEX
#endif

/* Descriptor flags ("The Virtqueue Descriptor Table"). */
#define VIRTQ_DESC_F_NEXT 1u     /* the chain continues via the next field */
#define VIRTQ_DESC_F_WRITE 2u    /* device writes (otherwise device reads) */
#define VIRTQ_DESC_F_INDIRECT 4u /* the buffer is a table of descriptors */

/* Ring flags ("The Virtqueue Available Ring", "The Virtqueue Used Ring"). */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1u
#define VIRTQ_USED_F_NO_NOTIFY 1u

struct virtq_desc {
    uint64_t addr; /* guest-physical (DMA) address */
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

struct virtq_avail {
    uint16_t flags;
    uint16_t idx;
    uint16_t ring[VIRTQ__FLEX]; /* then: uint16_t used_event (EVENT_IDX) */
};

struct virtq_used_elem {
    uint32_t id; /* head of the used chain; 32 bits on the wire */
    uint32_t len;
};

struct virtq_used {
    uint16_t flags;
    uint16_t idx;
    struct virtq_used_elem ring[VIRTQ__FLEX]; /* then: uint16_t avail_event */
};

/* The packed ring ("Packed Virtqueues"): one descriptor array that both
   sides write, and two event suppression structures.  Wrap-counter flags
   ("Driver and Device Ring Wrap Counters") and event flags ("Driver and
   Device Event Suppression") keep the spec's names. */
#define VIRTQ_DESC_F_AVAIL (1u << 7)
#define VIRTQ_DESC_F_USED (1u << 15)
#define RING_EVENT_FLAGS_ENABLE 0x0u
#define RING_EVENT_FLAGS_DISABLE 0x1u
#define RING_EVENT_FLAGS_DESC 0x2u /* needs VIRTIO_F_EVENT_IDX */

struct pvirtq_desc {
    uint64_t addr; /* guest-physical (DMA) address */
    uint32_t len;
    uint16_t id;   /* Buffer ID */
    uint16_t flags;
};

struct pvirtq_event_suppress {
    uint16_t desc;  /* desc_event_off (bits 0-14), desc_event_wrap (bit 15) */
    uint16_t flags; /* desc_event_flags (bits 0-1): RING_EVENT_FLAGS_* */
};

/* Reserved feature bits ("Reserved Feature Bits"). */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32
#define VIRTIO_F_ACCESS_PLATFORM 33
#define VIRTIO_F_RING_PACKED 34
#define VIRTIO_F_IN_ORDER 35
#define VIRTIO_F_ORDER_PLATFORM 36
#define VIRTIO_F_NOTIFICATION_DATA 38
#define VIRTIO_F_RING_RESET 40
#define VIRTQ_FEATURE(bit) ((uint64_t)1 << (bit))

/* Device status bits ("Device Status Field"). */
#define VIRTIO_STATUS_ACKNOWLEDGE 1u
#define VIRTIO_STATUS_DRIVER 2u
#define VIRTIO_STATUS_DRIVER_OK 4u
#define VIRTIO_STATUS_FEATURES_OK 8u
#define VIRTIO_STATUS_NEEDS_RESET 64u
#define VIRTIO_STATUS_FAILED 128u

/* virtio-mmio registers ("MMIO Device Register Layout"; legacy ones from
   "Legacy interface"). */
#define VIRTIO_MMIO_MAGIC_VALUE 0x000
#define VIRTIO_MMIO_VERSION 0x004
#define VIRTIO_MMIO_DEVICE_ID 0x008
#define VIRTIO_MMIO_VENDOR_ID 0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES 0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES 0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_GUEST_PAGE_SIZE 0x028 /* legacy */
#define VIRTIO_MMIO_QUEUE_SEL 0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX 0x034
#define VIRTIO_MMIO_QUEUE_NUM 0x038
#define VIRTIO_MMIO_QUEUE_ALIGN 0x03c /* legacy */
#define VIRTIO_MMIO_QUEUE_PFN 0x040   /* legacy */
#define VIRTIO_MMIO_QUEUE_READY 0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY 0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS 0x060
#define VIRTIO_MMIO_INTERRUPT_ACK 0x064
#define VIRTIO_MMIO_STATUS 0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW 0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH 0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW 0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH 0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW 0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH 0x0a4
#define VIRTIO_MMIO_CONFIG_GENERATION 0x0fc
#define VIRTIO_MMIO_CONFIG 0x100
#define VIRTIO_MMIO_MAGIC 0x74726976u /* "virt" */
#define VIRTIO_MMIO_INT_VRING 1u
#define VIRTIO_MMIO_INT_CONFIG 2u

/* virtio-pci ("Virtio Over PCI Bus"): identity ("PCI Device Discovery"),
   capability types and layout ("Virtio Structure PCI Capabilities"), and
   the common configuration structure's field offsets. */
#define VIRTIO_PCI_VENDOR_ID 0x1af4
#define VIRTIO_PCI_DEVICE_ID_MODERN 0x1040 /* + device type, up to 0x107f */
#define VIRTIO_PCI_DEVICE_ID_TRANS_LO 0x1000 /* transitional: 0x1000..0x103f */
#define VIRTIO_PCI_DEVICE_ID_TRANS_HI 0x103f
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG 3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG 5
#define VIRTIO_PCI_CAP_VNDR 0     /* u8: 0x09, vendor-specific */
#define VIRTIO_PCI_CAP_NEXT 1     /* u8 */
#define VIRTIO_PCI_CAP_LEN 2      /* u8 */
#define VIRTIO_PCI_CAP_CFG_TYPE 3 /* u8 */
#define VIRTIO_PCI_CAP_BAR 4      /* u8: 0..5 */
#define VIRTIO_PCI_CAP_OFFSET 8   /* le32 */
#define VIRTIO_PCI_CAP_LENGTH 12  /* le32 */
#define VIRTIO_PCI_NOTIFY_CAP_MULT 16 /* le32 notify_off_multiplier */
#define VIRTIO_PCI_CAP_SIZE 16u        /* struct virtio_pci_cap */
#define VIRTIO_PCI_NOTIFY_CAP_SIZE 20u /* struct virtio_pci_notify_cap */
#define VIRTIO_PCI_COMMON_DFSELECT 0x00  /* le32 device_feature_select */
#define VIRTIO_PCI_COMMON_DF 0x04        /* le32 device_feature */
#define VIRTIO_PCI_COMMON_GFSELECT 0x08  /* le32 driver_feature_select */
#define VIRTIO_PCI_COMMON_GF 0x0c        /* le32 driver_feature */
#define VIRTIO_PCI_COMMON_MSIX 0x10      /* le16 config_msix_vector */
#define VIRTIO_PCI_COMMON_NUMQ 0x12      /* le16 num_queues */
#define VIRTIO_PCI_COMMON_STATUS 0x14    /* u8 device_status */
#define VIRTIO_PCI_COMMON_CFGGENERATION 0x15 /* u8 config_generation */
#define VIRTIO_PCI_COMMON_Q_SELECT 0x16  /* le16 queue_select */
#define VIRTIO_PCI_COMMON_Q_SIZE 0x18    /* le16 queue_size */
#define VIRTIO_PCI_COMMON_Q_MSIX 0x1a    /* le16 queue_msix_vector */
#define VIRTIO_PCI_COMMON_Q_ENABLE 0x1c  /* le16 queue_enable */
#define VIRTIO_PCI_COMMON_Q_NOFF 0x1e    /* le16 queue_notify_off */
#define VIRTIO_PCI_COMMON_Q_DESCLO 0x20  /* le64 queue_desc */
#define VIRTIO_PCI_COMMON_Q_DESCHI 0x24
#define VIRTIO_PCI_COMMON_Q_AVAILLO 0x28 /* le64 queue_driver */
#define VIRTIO_PCI_COMMON_Q_AVAILHI 0x2c
#define VIRTIO_PCI_COMMON_Q_USEDLO 0x30  /* le64 queue_device */
#define VIRTIO_PCI_COMMON_Q_USEDHI 0x34
#define VIRTIO_PCI_COMMON_Q_NDATA 0x38   /* le16 queue_notify_data (1.2) */
#define VIRTIO_PCI_COMMON_Q_RESET 0x3a   /* le16 queue_reset (1.2, RING_RESET) */
#define VIRTIO_PCI_COMMON_SIZE 0x38u     /* the structure up to queue_device */
#define VIRTIO_PCI_COMMON_SIZE_RESET 0x3cu /* ... with queue_reset */

/* Interrupt causes, the same bits on every transport (virtio-mmio
   InterruptStatus, virtio-pci ISR status): what virtq_dev_isr() returns. */
#define VIRTQ_ISR_QUEUE 1u  /* a used buffer notification */
#define VIRTQ_ISR_CONFIG 2u /* a configuration change (also NEEDS_RESET) */

/* Device types ("Device Types"). */
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG 4
#define VIRTIO_ID_GPU 16
#define VIRTIO_ID_INPUT 18

/* The event-index rule ("Used Buffer Notification Suppression"): true when
   new_idx has just moved past event_idx, i.e. event_idx lies in
   [old, new_idx).  All arithmetic is mod 2^16, so it survives wrap. */
static inline bool virtq_need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old)
{
    return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old);
}
