/* SPDX-License-Identifier: MIT */
/* The board-neutral half of the board API (../board_api.h): program name
 * and RESULT tags, the RESULT / FIGURE output, picolibc stdio on the board's
 * UART, a clock-bounded delay, the virtio-mmio slot scan and the PCI
 * bus-0 scan.  Every board
 * links it; it calls only board API functions and board.h constants. */
#include "board_api.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Plain volatile loads: the slot registers are read once, with no DMA in
 * flight, so they need no ordering beyond program order. */
static inline uint32_t slot_r32(uintptr_t a) { return *(volatile uint32_t *)a; }

/* ---- program identity and tags --------------------------------------- */

static const char *board_name_ = "board";
static struct {
    const char *key;
    const char *value;
} tags[BOARD_MAX_TAGS];
static int ntags;

void board_set_name(const char *name)
{
    if (name && name[0])
        board_name_ = name;
}

const char *board_name(void) { return board_name_; }

void board_tag(const char *key, const char *value)
{
    uintptr_t s = board_irq_save();
    int i;

    for (i = 0; i < ntags && strcmp(tags[i].key, key) != 0; i++)
        ;
    if (i < BOARD_MAX_TAGS) {
        tags[i].key = key;
        tags[i].value = value;
        if (i == ntags)
            ntags++;
    }
    board_irq_restore(s);
}

const char *board_tag_get(const char *key)
{
    for (int i = 0; i < ntags; i++)
        if (strcmp(tags[i].key, key) == 0)
            return tags[i].value;
    return NULL;
}

void board_tag_virtio(const char *transport, int packed, int mmio_version)
{
    board_tag("transport", transport);
    board_tag("ring", packed ? "packed" : "split");
    if (mmio_version == 1)
        board_tag("mmio", "1");
    else if (mmio_version == 2)
        board_tag("mmio", "2");
}

/* ---- RESULT and FIGURE ------------------------------------------------- */

static void print_tags(void)
{
    for (int i = 0; i < ntags; i++)
        printf(" %s=%s", tags[i].key, tags[i].value);
}

int board_printf(const char *fmt, ...)
{
    va_list ap;
    uintptr_t s = board_irq_save();
    int n;

    va_start(ap, fmt);
    n = vprintf(fmt, ap);
    va_end(ap);
    board_irq_restore(s);
    return n;
}

void board_pass(void)
{
    (void)board_irq_save();
    printf("RESULT %s PASS", board_name_);
    print_tags();
    printf("\n");
    board_exit(0);
}

void board_fail(const char *fmt, ...)
{
    va_list ap;

    (void)board_irq_save();
    printf("RESULT %s FAIL", board_name_);
    print_tags();
    printf(": ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    board_exit(1);
}

void board_figure(const char *key, long long value, const char *unit)
{
    board_printf("FIGURE %s %s=%lld %s\n", board_name_, key, value, unit);
}

/* picolibc's exit() and abort() end here. */
void _exit(int code)
{
    board_exit(code);
}

/* ---- picolibc stdio on the UART --------------------------------------- */

static int board_stdio_put(char c, FILE *f)
{
    (void)f;
    if (c == '\n')
        board_uart_putc('\r');   /* terminals want CR LF; the harness strips CR */
    board_uart_putc(c);
    return (unsigned char)c;
}

static int board_stdio_get(FILE *f)
{
    int c = board_uart_getc();

    (void)f;
    return c < 0 ? _FDEV_EOF : c;
}

/* One FILE on the UART for all three, no malloc. */
static FILE board_stdio = FDEV_SETUP_STREAM(board_stdio_put, board_stdio_get,
                                            NULL, _FDEV_SETUP_RW);
FILE *const stdin = &board_stdio;
FILE *const stdout = &board_stdio;
FILE *const stderr = &board_stdio;

/* ---- delay ------------------------------------------------------------- */

void board_delay_us(uint64_t us)
{
    uint64_t end = board_now_us() + us;
    /* The clock is the bound; the iteration cap only guards a dead clock. */
    uint64_t cap = us < (BOARD_NEVER >> 12) ? (us << 10) + 1024 : BOARD_NEVER;

    for (uint64_t i = 0; i < cap && board_now_us() < end; i++)
        __asm__ volatile("" ::: "memory");
}

/* ---- virtio-mmio slots ------------------------------------------------- */

int board_virtio_scan(board_virtio_slot *out, int n)
{
    int found = 0;

    if (n > BOARD_VIRTIO_SLOTS)
        n = BOARD_VIRTIO_SLOTS;
    for (int i = 0; i < n; i++) {
        board_virtio_slot *s = &out[i];
        s->index = i;
        s->pci = 0;
        s->base = BOARD_VIRTIO_BASE + (uintptr_t)i * BOARD_VIRTIO_STRIDE;
        s->irq = BOARD_VIRTIO_IRQ(i);
        s->magic = slot_r32(s->base + 0x000);
        s->version = slot_r32(s->base + 0x004);
        s->device_id = slot_r32(s->base + 0x008);
        s->vendor_id = slot_r32(s->base + 0x00c);
        if (s->magic == BOARD_VIRTIO_MAGIC && s->device_id != 0)
            found++;
    }
    return found;
}

static const char *virtio_name(uint32_t id)
{
    switch (id) {
    case 0: return "empty";
    case 1: return "net";
    case 2: return "blk";
    case 3: return "console";
    case 4: return "rng";
    case 5: return "balloon";
    case 8: return "scsi";
    case 9: return "9p";
    case 16: return "gpu";
    case 18: return "input";
    case 19: return "vsock";
    case 20: return "crypto";
    default: return "other";
    }
}

/* ---- virtio functions on PCI bus 0 ------------------------------------ */
#if defined(BOARD_PCIE_ECAM)
#define PCI_DEVICES 32
#define VIRTIO_PCI_VENDOR 0x1af4u

static uint64_t pci_next = BOARD_PCIE_MMIO_BASE;

uint64_t *board_pci_next(void) { return &pci_next; }

/* Bus-0 device d's function 0 (ECAM: bus << 20 | device << 15 | fn << 12). */
static uintptr_t pci_cfg(int d) { return (uintptr_t)BOARD_PCIE_ECAM + ((uintptr_t)d << 15); }

/* The virtio device type of a function, 0 when it is no virtio function
 * ("PCI Device Discovery": modern ids 0x1040 + type; transitional ids
 * 0x1000..0x103f carry the type in the Subsystem Device ID). */
static uint32_t pci_virtio_type(uintptr_t cfg)
{
    uint32_t id = slot_r32(cfg);             /* device id << 16 | vendor id */
    uint32_t device = id >> 16;

    if ((id & 0xffffu) != VIRTIO_PCI_VENDOR)
        return 0;
    if (device >= 0x1040u && device <= 0x107fu)
        return device - 0x1040u;
    if (device >= 0x1000u && device <= 0x103fu)
        return slot_r32(cfg + 0x2c) >> 16;   /* Subsystem Device ID */
    return 0;
}

static void pci_slot(int d, uint32_t type, board_virtio_slot *out)
{
    memset(out, 0, sizeof *out);
    out->base = pci_cfg(d);
    out->irq = BOARD_PCIE_INTX_IRQ(d);
    out->index = d;
    out->pci = 1;
    out->device_id = type;
    out->vendor_id = VIRTIO_PCI_VENDOR;
}

/* The nth virtio function of device_id on bus 0; nth is decremented past
 * every match so the caller can continue a count begun elsewhere. */
static int pci_find(uint32_t device_id, int *nth, board_virtio_slot *out)
{
    for (int d = 0; d < PCI_DEVICES; d++) {
        uint32_t type = pci_virtio_type(pci_cfg(d));
        if (type != 0 && type == device_id && (*nth)-- == 0) {
            pci_slot(d, type, out);
            return 0;
        }
    }
    return -1;
}

static int pci_report(void)
{
    int found = 0;

    for (int d = 0; d < PCI_DEVICES; d++) {
        uint32_t type = pci_virtio_type(pci_cfg(d));
        if (type == 0)
            continue;
        board_printf("virtio-pci 00:%02x.0 irq %d: device %lu (%s)\n", d,
                     BOARD_PCIE_INTX_IRQ(d), (unsigned long)type, virtio_name(type));
        found++;
    }
    return found;
}
#else
uint64_t *board_pci_next(void) { return NULL; }
static int pci_find(uint32_t device_id, int *nth, board_virtio_slot *out)
{
    (void)device_id, (void)nth, (void)out;
    return -1;
}
static int pci_report(void) { return 0; }
#endif

int board_virtio_find(uint32_t device_id, int nth, board_virtio_slot *out)
{
    board_virtio_slot slots[BOARD_VIRTIO_SLOTS];

    if (device_id == 0)
        return -1;
    board_virtio_scan(slots, BOARD_VIRTIO_SLOTS);
    for (int i = 0; i < BOARD_VIRTIO_SLOTS; i++) {
        if (slots[i].magic == BOARD_VIRTIO_MAGIC && slots[i].device_id == device_id &&
            nth-- == 0) {
            *out = slots[i];
            return 0;
        }
    }
    return pci_find(device_id, &nth, out);
}

int board_virtio_report(void)
{
    board_virtio_slot slots[BOARD_VIRTIO_SLOTS];
    int found = board_virtio_scan(slots, BOARD_VIRTIO_SLOTS);

    for (int i = 0; i < BOARD_VIRTIO_SLOTS; i++) {
        const board_virtio_slot *s = &slots[i];
        if (s->magic != BOARD_VIRTIO_MAGIC) {
            board_printf("virtio-mmio slot %d @0x%08lx irq %d: no virtio-mmio "
                         "(magic 0x%08lx)\n", i, (unsigned long)s->base,
                         s->irq, (unsigned long)s->magic);
            continue;
        }
        board_printf("virtio-mmio slot %d @0x%08lx irq %d: version %lu "
                     "device %lu (%s) vendor 0x%08lx\n", i,
                     (unsigned long)s->base, s->irq, (unsigned long)s->version,
                     (unsigned long)s->device_id, virtio_name(s->device_id),
                     (unsigned long)s->vendor_id);
    }
    return found + pci_report();
}
