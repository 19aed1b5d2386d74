/* SPDX-License-Identifier: MIT */
/* virtq.h — virtio virtqueues for firmware, bootloaders and small kernels.
   One header, C99, freestanding, no allocation.  MIT licence (at the end).

   ABOUT
   -----
   virtq drives virtio devices: split and packed virtqueues (driver side), the
   virtio-mmio transport (version 1 "legacy" and version 2 "modern"), the
   device status machine, config space, and bounded waits for completions.
   Device drivers (blk, gpu, net) are built on it in examples/drivers/.
   Everything platform-specific is a compile-time shim with a safe default.

   USAGE
   -----
   In exactly one C file:

       #define VIRTQ_IMPLEMENTATION
       #include "virtq.h"

   Everywhere else just #include "virtq.h".  Configuration macros (below)
   go before the include in the implementation file, or in a header named
   by VIRTQ_CONFIG_FILE that every file sees.

   QUICKSTART (a virtio-blk read, spin-waiting, QEMU virt, legacy or modern)

       static uint8_t ring[VIRTQ_RING_BYTES(64, VIRTQ_ALIGN_LEGACY)]
           __attribute__((aligned(4096)));
       static struct virtq_slot slots[64];
       struct virtq_dev dev; struct virtq vq;
       struct { uint32_t type, reserved; uint64_t sector; } hdr = {0, 0, 0};
       uint8_t data[512], status = 0xff;
       struct virtq_buf bufs[3] = {{&hdr, 16}, {data, 512}, {&status, 1}};
       void *cookie; uint32_t len; int ok = 0;

       // QEMU virt riscv64: 8 virtio-mmio slots from 0x10001000, stride
       // 0x1000; the first -device lands in the last one.
       int rc = virtq_mmio_find(&dev, 0x10001000, 0x1000, 8, VIRTIO_ID_BLOCK, 0);
       if (rc == VIRTQ_OK) rc = virtq_dev_begin(&dev);     // reset, ACK, DRIVER
       if (rc == VIRTQ_OK) rc = virtq_dev_negotiate(&dev, 0, 0); // +VERSION_1
       if (rc == VIRTQ_OK) rc = virtq_dev_queue_setup(&dev, &vq, 0, 64, ring, slots);
       if (rc == VIRTQ_OK) rc = virtq_dev_driver_ok(&dev);
       if (rc == VIRTQ_OK) rc = virtq_add(&vq, bufs, 1, 2, &hdr); // 1 readable, 2 writable
       if (rc == VIRTQ_OK) rc = virtq_dev_kick(&dev, &vq); // publish + notify
       if (rc == VIRTQ_OK) rc = virtq_wait(&dev, &vq, 1000000); // bounded
       if (rc == VIRTQ_OK) rc = virtq_get(&vq, &cookie, &len);
       if (rc == VIRTQ_OK && status == 0)
           ok = 1;                                  // data[] holds sector 0

   ERRORS AND ANSWERS
   ------------------
   Functions that can fail return int: VIRTQ_OK (0) or a negative VIRTQ_E*
   code (api.h lists them; virtq_strerror() names them), nothing else; an
   answer such a function also gives goes through an out-parameter
   (virtq_publish(vq, &notify)).  Questions return bool and cannot fail:
     virtq_has_used       false only when virtq_get() would say VIRTQ_EAGAIN;
                          true for a used buffer AND for a broken or unusable
                          queue, so the caller goes to virtq_get(), which
                          reports VIRTQ_EBROKEN / VIRTQ_EINVAL
     virtq_enable_intr(_delayed, _after)  true = do not sleep, call virtq_get()
                          (buffers came in meanwhile, or the queue is broken)
     virtq_is_broken      latched broken (or NULL)
   A call that fails changes nothing.
   A device that breaks the protocol latches its queue broken: from then on
   every ring call returns VIRTQ_EBROKEN until the device is reset and
   virtq_detach() has handed back every outstanding cookie.

   THE RING (any transport)
   ------------------------
   virtq_ring_bytes(num, align), VIRTQ_RING_BYTES(num, align)
                          bytes of ring memory for num entries (the macro
                          sizes static arrays; the function returns 0 for a
                          bad num or align)
   virtq_packed_ring_bytes(num), VIRTQ_PACKED_RING_BYTES(num)
                          the same for a packed ring (any num up to 32768;
                          never more than the split size, so memory sized
                          for a split ring fits either)
   virtq_init             lay a ring over caller memory, split or packed by
                          the negotiated VIRTIO_F_RING_PACKED
                          (virtq_dev_queue_setup calls it for you)
   virtq_add, virtq_add_indirect
                          queue a request (not yet visible to the device)
   virtq_publish(vq, &notify)
                          make queued requests visible; *notify says whether
                          the device wants a notification
   virtq_publish_defer(vq), virtq_kick_prepare(vq, &notify)
                          virtq_publish in two steps (Linux's add and
                          kick_prepare): visible now, decided later, with
                          other work (taking completions) in between; the
                          decision is owed until made, and MUST be made
                          before waiting for the device; defers add up
                          to a ring's worth owed (then EBUSY: decide
                          first; VIRTQ_PUBLISH_DEFER 1 builds them)
   virtq_submit(vq, bufs, out, in, cookie, &notify)
                          virtq_add + virtq_publish in one call: the
                          cheapest way to send one request at a time
   virtq_get              take one completion: cookie and bytes written
   virtq_has_used         would virtq_get() return anything but EAGAIN?
   virtq_disable_intr, virtq_enable_intr, virtq_enable_intr_delayed
                          used-buffer notification control (enable re-arms,
                          then re-checks: true = drain before sleeping)
   virtq_enable_intr_after(vq, n)
                          re-arm for the n-th used buffer (EVENT_IDX): the
                          rest stay in flight while you wake, so a fast
                          device need not run dry and be kicked
   virtq_num_free         free descriptors now (a chain of n needs n)
   virtq_is_broken        latched broken (or NULL)?
   virtq_broken_reason    why: VIRTQ_BROKEN_USED_IDX, _USED_ID,
                          _NOT_IN_FLIGHT, _UNPUBLISHED, _USED_LEN (the device
                          broke a used-ring rule), _DEVICE (NEEDS_RESET or
                          FAILED seen by virtq_wait), _CALLER (virtq_break),
                          _DETACH (virtq_detach running); _NONE when working.
                          The first reason sticks; VIRTQ_LOG prints it
   virtq_break            latch broken yourself (e.g. the device needs reset)
   virtq_detach           after a reset: hand back every cookie, once each
   virtq_ignore_used_len  legacy queues whose used.len is junk
   virtq_need_event       the spec's event-index test (used by publish)
   virtq_dma_sync_for_device(p, len, device_writes), virtq_dma_sync_for_cpu(p, len)
                          the implementation's DMA sync hooks, from any
                          file: sync a request's writable bytes for the CPU
                          after virtq_get, memory the device reads outside
                          a descriptor for the device (non-coherent DMA;
                          no-ops by default)
   A request is a chain of segments, device-readable first, then
   device-writable.  The cookie (any non-NULL pointer, usually the caller's
   request struct) comes back exactly once.  Private bookkeeping (struct
   virtq_slot, one per entry) lives outside device-visible memory.

   THE DEVICE (virtio-mmio or virtio-pci; the calls after probe are neutral)
   ----------------------------------------------------------------
   virtq_mmio_probe       magic, version, device id (0 = empty slot: ENODEV)
   virtq_mmio_scan        probe a window of slots (base, stride, count) and
                          report each populated slot's id and version
   virtq_mmio_find        probe the nth slot in a window holding a device
                          id, e.g. (0x10001000, 0x1000, 8, VIRTIO_ID_BLOCK,
                          0) on QEMU virt riscv64, where the first -device
                          lands in the LAST slot
   virtq_pci_probe, virtq_pci_assign_bars   see VIRTIO-PCI below
   virtq_dev_begin        reset (bounded), ACKNOWLEDGE, DRIVER, features
   virtq_dev_negotiate    accept wanted & offered, require some; FEATURES_OK
   virtq_dev_queue_setup  QueueNumMax, addresses or PFN, QueueReady
   virtq_dev_driver_ok    DRIVER_OK; interrupts before it are ignored
   virtq_dev_queue_reset  VIRTIO_F_RING_RESET (PCI only): see VIRTIO-PCI
   virtq_dev_kick         virtq_publish() then, only if *notify said so,
                          virtq_dev_notify().  Returns virtq_publish()'s status
                          (VIRTQ_OK, VIRTQ_EINVAL, VIRTQ_EBROKEN); whether it
                          notified is not returned (dev->notifies counts)
   virtq_dev_notify       write the queue notification unconditionally (for
                          callers that run virtq_publish() themselves)
   virtq_dev_isr          call from the device's interrupt handler: reads
                          and acknowledges InterruptStatus, wakes waiters,
                          notes NEEDS_RESET; returns the status bits seen
   virtq_dev_check        VIRTQ_EBROKEN once the device set NEEDS_RESET/FAILED
   virtq_dev_fail         set FAILED (the driver gives up on the device)
   virtq_dev_reset        reset and wait (bounded) for status 0
   virtq_dev_config_read8, virtq_dev_config_read16, virtq_dev_config_read32,
   virtq_dev_config_read64, virtq_dev_config_read_bytes
                          device config space, each with the field's own
                          width, retried until ConfigGeneration is stable
   virtq_dev_config_write8, virtq_dev_config_write16,
   virtq_dev_config_write32, virtq_dev_config_write64
                          write a writable config field (e.g. a gpu
                          events_clear) with its own width; 64-bit as two
                          32-bit writes, low word first
   virtq_strerror         a short English name for a VIRTQ_E* code

   VIRTIO-PCI (VIRTQ_TRANSPORTS with VIRTQ_TRANSPORT_PCI; "Virtio Over PCI Bus")
   ----------------------------------------------------------------
   The same virtq_dev_* calls and drivers; only the probe differs.
   virtq_pci_assign_bars  optional, for firmware that enumerates nothing
                          (QEMU -bios none): size the function's memory BARs
                          (32/64-bit; I/O and ROM BARs skipped), place them
                          in [*next, end), enable memory + bus master;
                          VIRTQ_ENOSPC when the window is too small
   virtq_pci_probe        the function at its config handle (with the
                          default ECAM shim VIRTQ_PCI_ECAM(base, bus, dev,
                          fn)): ids (modern 0x1040+, transitional 0x1000..0x103f
                          with the type from the Subsystem ID; legacy-only
                          refused: VIRTQ_ENOTSUP), then the capability walk:
                          reserved bar/cfg_type ignored, longer cap_len
                          accepted, first usable of each type wins.  Every
                          field is checked (list loops, next outside
                          0x40..0xff, short cap_len/length, offset + length
                          beyond the BAR, notify multiplier); on failure
                          dev->why names the capability and field
                          (e.g. "notify cap: cap_len shorter than its
                          structure") and dev stays unprobed
   virtq_dev_queue_reset  VIRTIO_F_RING_RESET (PCI only; never negotiated on
                          virtio-mmio, whose QueueReset QEMU 7.2 lacks):
                          reset one queue, virtq_detach() its cookies, then
                          virtq_dev_queue_setup() it again
   Interrupts are INTx (level, shared): virtq_dev_isr() reads the ISR status,
   which is the acknowledgement; 0 means "not this device".  MSI-X is not
   used.  Queue setup checks the queue_size read-back and that the queue's
   notify address (cap.offset + queue_notify_off * notify_off_multiplier)
   lies, aligned, inside the notify structure; dev->why says which failed.
   VIRTIO_F_NOTIFICATION_DATA is driven on both transports when the driver
   asks for it (32-bit notifications carrying the avail index).
   Example: examples/boards/common/board_virtio.h finds a device on PCI bus
   0, assigns its BARs and probes it; the blk, gpu and net demos and the
   bootloader run over it unchanged (make demo TRANSPORT=pci).

   WAITING
   -------
   virtq_wait(dev, vq, timeout_us) returns once the queue has a completion,
   and always returns: VIRTQ_OK, VIRTQ_ETIMEDOUT or VIRTQ_EBROKEN.  How it
   blocks is chosen per device at run time among the strategies compiled in
   (VIRTQ_WAIT), because one image typically moves through all of them:
     SPIN  always available; the default after probe.  Polls the ring and
           reads a device register each round, so an emulator's event loop
           gets a chance even if the guest spins (QEMU completes virtio-gpu
           commands in a bottom half; 7.2 was measured not to starve it).
     WFI   after virtq_dev_irq_routed(dev, true) (the board routed and
           enabled the device interrupt); until then it spins, because a wfi
           that no interrupt can end sleeps forever.  Interrupts are masked
           between the last check and wfi; an alarm bounds it (below).
     OS    for tasks under a scheduler: blocks on VIRTQ_OS_WAIT with futex
           semantics, woken by virtq_dev_isr().  Never wfi inside a task.
     CUSTOM  VIRTQ_CUSTOM_WAIT(dev, vq, remaining_us) is called each round;
           it should block or yield briefly and return, virtq re-checks.
   Select with virtq_dev_set_wait(dev, VIRTQ_WAIT_*, os_ctx) (VIRTQ_ENOTSUP
   when that strategy is not built in).  Wire device interrupts only after
   every device finished init (DRIVER_OK).

   The WFI alarm contract.  VIRTQ_WFI_ALARM_US(deadline_us) is called with
   interrupts masked, right before each wfi.  deadline_us is ABSOLUTE, in
   the VIRTQ_NOW_US() time base, never a duration.  A long wait is cut in
   slices of at most VIRTQ_WFI_SLICE_US (default 10000 us): the alarm is
   re-armed before every wfi with min(now + slice, wait deadline), and each
   call replaces the previous alarm (one comparator is enough).  So a lost
   or misrouted device interrupt costs one slice of latency, never the
   whole timeout.  virtq never cancels the alarm when a wait ends early: it
   may fire later, when nobody waits.  Your timer interrupt handler must
   therefore silence the alarm itself (RISC-V: move mtimecmp past now or
   clear mie.MTIE; Arm: mask or disable the timer), or the level-triggered
   timer interrupt fires again at once and the CPU never sleeps.  A
   deadline already in the past must fire at once.  Instead of an alarm
   you may promise a periodic interrupt of period VIRTQ_WFI_TICK_US; WFI
   needs one of the two and VIRTQ_NOW_US() (an #error says so).

   Timeouts without a clock.  Without VIRTQ_NOW_US() a timeout of T us is
   not a time: it is T * VIRTQ_SPINS_PER_US polling rounds (default
   VIRTQ_SPINS_PER_US 4, plus one round), each a ring check, one device
   register read and VIRTQ_CPU_RELAX().  How long a round takes depends
   on the CPU and on the register read (an emulated MMIO exit, a bus
   round trip): measured under QEMU 7.2 TCG riscv64 on a busy 2-core
   host, a 1 s timeout lasted 1.13 to 1.26 s (about 290 ns a round);
   issue 16 saw 0.45 s on another host.  Real hardware differs again.  It bounds the wait, it does not time it: define
   VIRTQ_NOW_US() for real time, or calibrate VIRTQ_SPINS_PER_US on your
   board (rounds per microsecond).  WFI and OS waits require a clock; a
   CUSTOM wait without one gets the whole timeout as remaining_us each
   round and should return quickly.

   VERSION
   -------
   VIRTQ_VERSION_MAJOR, VIRTQ_VERSION_MINOR, VIRTQ_VERSION_PATCH, and
   VIRTQ_VERSION = MAJOR * 10000 + MINOR * 100 + PATCH (0.1.0 is 100) for
   #if tests.  CHANGELOG.md lists every user-visible change.

   CONFIGURATION (define before the implementation include; scope noted)
   -------------------------------------------------------------------
   VIRTQ_IMPLEMENTATION   emit the implementation here     (one file only)
   VIRTQ_CONFIG_FILE      "file.h" included first            (all files)
   VIRTQ_STATIC           all functions static               (all files)
   VIRTQ_HOT_INLINE       with VIRTQ_STATIC: virtq_add, virtq_publish,
                          virtq_submit, virtq_get inlined into each caller
                          (fastest; each call site grows)    (impl only)
   VIRTQ_API              linkage of every function          (all files)
   VIRTQ_WAIT             strategies built in, a mask of VIRTQ_WAIT_SPIN |
                          _WFI | _OS | _CUSTOM (default SPIN)  (impl only)
   VIRTQ_TRANSPORTS       transports built in: VIRTQ_TRANSPORT_MMIO
                          (default), VIRTQ_TRANSPORT_PCI, or both or'ed;
                          one transport builds no dispatch    (impl only)
   VIRTQ_RINGS            ring kinds built in: VIRTQ_RING_SPLIT (default),
                          VIRTQ_RING_PACKED, or both or'ed; with both the
                          packed ring is used whenever the device offers
                          it; one kind builds no dispatch     (impl only)
   VIRTQ_EVENT_IDX        0: no VIRTIO_F_EVENT_IDX (never negotiated,
                          refused by virtq_init()); the rings run on the
                          flags alone and the event code compiles away
                          (default 1)                          (impl only)
   VIRTQ_MMIO_LEGACY      0: no virtio-mmio version 1; virtq_mmio_probe()
                          refuses it with VIRTQ_ENOTSUP and the legacy
                          code compiles away (default 1)       (impl only)
   VIRTQ_PUBLISH_DEFER    1: build virtq_publish_defer() and
                          virtq_kick_prepare() (default 0: not declared,
                          no code; define it the same in every file that
                          includes virtq.h)
   VIRTQ_NOW_US()         monotonic microseconds; without it waits count
                          polls (VIRTQ_SPINS_PER_US per us)   (impl only)
   VIRTQ_SPINS_PER_US     polls per microsecond of timeout without a clock
                          (default 4; see "Timeouts without a clock")
                                                               (impl only)
   VIRTQ_WFI_ALARM_US(d)  arm a wake-up at absolute time d (WFI; see "The
                          WFI alarm contract")                 (impl only)
   VIRTQ_WFI_TICK_US      or: period of an interrupt you guarantee (WFI)
   VIRTQ_WFI_SLICE_US     longest single wfi (default 10000)  (impl only)
   VIRTQ_WFI(), VIRTQ_IRQ_SAVE(), VIRTQ_IRQ_RESTORE(f)
                          built in for RISC-V (M-mode; VIRTQ_RISCV_SMODE
                          for S-mode) and Arm; needed elsewhere for WFI
   VIRTQ_OS_WAIT(ctx, seqptr, seen, timeout_us), VIRTQ_OS_WAKE(ctx)
                          block while *seqptr == seen / wake all on ctx
   VIRTQ_CUSTOM_WAIT(dev, vq, remaining_us)                   (impl only)
   VIRTQ_MB(), VIRTQ_RMB(), VIRTQ_WMB()   SMP-strength barriers
   VIRTQ_DMA_MB(), VIRTQ_DMA_RMB(), VIRTQ_DMA_WMB()   bus-strength barriers,
                          used when VIRTIO_F_ORDER_PLATFORM is negotiated;
                          both sets default for RISC-V, AArch64, Arm,
                          x86-64, else compiler atomics        (impl only)
   VIRTQ_USE_ATOMICS      1: index accesses as acquire/release atomics (on
                          by itself under ThreadSanitizer)     (impl only)
                          Its barriers, the DMA ones too, are C11 fences
                          of CPU-to-CPU strength (AArch64 "dmb ish", not
                          "osh"): for a device emulated by another CPU
                          or a sanitizer run, not for a real bus master
                          that negotiates VIRTIO_F_ORDER_PLATFORM.
   VIRTQ_CPU_RELAX()      spin-loop hint                       (impl only)
   VIRTQ_MMIO_READ8(a), VIRTQ_MMIO_READ16(a), VIRTQ_MMIO_READ32(a),
   VIRTQ_MMIO_WRITE8(a, v), VIRTQ_MMIO_WRITE16(a, v), VIRTQ_MMIO_WRITE32(a, v)
                          register access; default volatile with the arch's
                          I/O ordering (RISC-V: fence w,o before a write,
                          fence i,r after a read)              (impl only)
   VIRTQ_PCI_CFG_READ8(cfg, off), VIRTQ_PCI_CFG_READ16(cfg, off),
   VIRTQ_PCI_CFG_READ32(cfg, off), VIRTQ_PCI_CFG_WRITE16(cfg, off, v),
   VIRTQ_PCI_CFG_WRITE32(cfg, off, v)
                          PCI configuration access for virtio-pci; default
                          ECAM (cfg = the function's ECAM address) through
                          the MMIO macros; port I/O or a firmware's own PCI
                          layer instead                        (impl only)
   VIRTQ_PCI_BAR_TO_CPU(bus_addr)   where the CPU sees a BAR's bus address
                          (default identity; 0 = unreachable)  (impl only)
   VIRTQ_VIRT_TO_DMA(p)   CPU pointer -> device address (default 1:1)
   VIRTQ_DMA_SYNC_FOR_DEVICE(p, len, device_writes), VIRTQ_DMA_SYNC_FOR_CPU
                          cache maintenance for non-coherent DMA (default
                          none); after virtq_get() sync your writable
                          buffers with VIRTQ_DMA_SYNC_FOR_CPU   (impl only)
                          Data buffers only: ring memory must itself be
                          coherent (uncached or cache-coherent), as in
                          Linux; the split ring's used ring shares a cache
                          line with the avail ring's end, and a packed
                          ring is written in place by both sides, so no
                          cache operation can keep a ring right
                          (shims/PORTING.md "Ring memory must be coherent")
   VIRTQ_DMA_ALIGN        the largest data cache line (default 64): a
                          buffer the device writes must own its lines, or a
                          write-back of data the CPU wrote next to it
                          destroys what the device wrote    (all files)
   VIRTQ_ASSERT(x)        checks of virtq's own invariants (never of
                          caller arguments or device data, which return
                          errors); off by default              (impl only)
   VIRTQ_LOG(...)         printf-style diagnostics, e.g. why a queue broke;
                          off by default                       (impl only)
   VIRTQ_RESET_POLLS, VIRTQ_CONFIG_RETRIES   bounds on reset and config
                          generation loops                     (impl only)
   "impl only" macros matter only where VIRTQ_IMPLEMENTATION is defined and
   never change a public struct's layout, so translation units cannot
   disagree about one.

   MEMORY ORDERING (the rules the code follows, by spec section)
   -------------------------------------------------------------
   Supplying buffers: descriptors and avail entries, write barrier, then
   avail.idx; full barrier; then read used.flags / avail_event to decide
   on a notification; the notify MMIO write is ordered after memory writes.
   Taking used buffers: read used.idx once, read barrier, copy the element
   once.  Re-arming interrupts: write used_event / flags, full barrier,
   re-read used.idx.  With EVENT_IDX the kick decision is virtq_need_event()
   over the avail indices since the last publish, which never spans more
   than the ring size, so 16-bit wrap cannot fool it.

   THE PACKED RING ("Packed Virtqueues"; VIRTQ_RINGS with VIRTQ_RING_PACKED)
   ---------------------------------------------------------------------
   Same calls, same promises; virtq_init picks it when RING_PACKED was
   negotiated (a build with both rings takes it whenever offered; QEMU
   offers it with packed=on on modern virtio-mmio or PCI).  Any Queue Size
   up to 32768, not only powers of two; memory VIRTQ_PACKED_RING_BYTES(num)
   (16-aligned descriptor ring, then the driver and device event
   suppression structures), never more than the split size.
   Private state: wrap counters live in bit 15 of the driver's positions;
   buffer ids (slots) are separate from descriptor positions, so a buffer
   may stay in flight while the ring laps past it; chain lengths, posted
   lengths and cookies are per id, never read back from the ring.
   Supplying buffers ("Supplying Buffers to The Device"): every descriptor
   of the batch but the oldest head is written at add time (later heads
   included: the device cannot pass the unpublished one before them);
   virtq_publish writes the oldest head's flags last, after a write
   barrier (the release, "Updating flags"), then a full barrier before
   reading the device event suppression ("Sending Available Buffer
   Notifications"): DISABLE, ENABLE, or with EVENT_IDX a descriptor
   offset/wrap that must lie in the batch just made available.  A refused
   add turns the flags it wrote back to "not available".
   Taking used buffers ("Receiving Used Buffers From The Device"): the
   flags at the driver's used position are read first with an acquire; a
   descriptor is used when AVAIL and USED both equal the wrap counter
   (every other pair, including a chain's inner descriptor left from the
   last lap, means "not yet"); id and length are copied once; the position
   advances by the chain length kept privately.  Re-arming interrupts:
   ENABLE, or DESC at the next used position (or 3/4 of the outstanding
   descriptors on, for _delayed), full barrier, re-check.
   Checks on each used descriptor: id < Queue Size, in flight (a repeat is
   caught), published (a device running ahead of the batch, or writing a
   used descriptor where nothing was outstanding, is caught), length
   within what was posted writable.  A device that writes its used
   descriptor at another position is a stall that a bounded wait ends.
   The WRITE bit of a used descriptor is not needed (QEMU 7.2 leaves it
   clear); its length is bounded all the same.

   HARDENING (checks on device data, always on)
   --------------------------------------------
   used.idx may not advance past what was published; each used element is
   copied once after the barrier; its 32-bit id must be < Queue Size and a
   published, in-flight chain head in the private slots (catches non-heads,
   double completions and a device reading ahead of avail.idx); its length
   may not exceed the writable bytes posted (virtq_ignore_used_len() lifts
   only this, for legacy queues); chains are freed through private links
   only; config reads retry until ConfigGeneration is stable, with a bound;
   reset, QueueReady and FEATURES_OK are read back; features virtq cannot
   drive are never negotiated; every loop on device data is bounded.
   Any violation latches the queue broken (VIRTQ_EBROKEN).  The full list,
   with the test behind each check: docs/HARDENING.md.

   WHAT VIRTQ DOES NOT DO
   ----------------------
   The packed ring and virtio-pci only when built in (VIRTQ_RINGS,
   VIRTQ_TRANSPORTS), no legacy-only virtio-pci devices, no big-endian CPUs, no allocation, no locking: one queue is used
   from one context at a time (guard it yourself if an ISR and a task both
   touch it), and no device-specific logic (see examples/drivers/).
*/
/* ==== begin config.h ==== */
/* ---- config.h: user configuration, linkage, freestanding includes ------- */
#ifndef VIRTQ_H_INCLUDED
#define VIRTQ_H_INCLUDED

/* A project-wide configuration header, included before anything else. */
#if defined(VIRTQ_CONFIG_FILE)
#include VIRTQ_CONFIG_FILE
#endif

/* Freestanding: only these three headers, which every C99 compiler ships
   even without a libc. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Version (manual: VERSION; CHANGELOG.md).  VIRTQ_VERSION orders releases
   in #if tests: MAJOR * 10000 + MINOR * 100 + PATCH. */
#define VIRTQ_VERSION_MAJOR 0
#define VIRTQ_VERSION_MINOR 1
#define VIRTQ_VERSION_PATCH 0
#define VIRTQ_VERSION \
    (VIRTQ_VERSION_MAJOR * 10000 + VIRTQ_VERSION_MINOR * 100 + VIRTQ_VERSION_PATCH)

#if !defined(VIRTQ_API)
#if defined(VIRTQ_STATIC) && (defined(__GNUC__) || defined(__clang__))
/* unused: a private copy need not call every function (-Wunused-function) */
#define VIRTQ_API static __attribute__((unused))
#elif defined(VIRTQ_STATIC)
#define VIRTQ_API static
#else
#define VIRTQ_API extern
#endif
#endif

/* The largest data cache line of a non-coherent platform: buffers the
   device writes (VIRTQ_DMA_SYNC_*) must not share a line with memory the
   CPU writes meanwhile; the example drivers align them to this. */
#ifndef VIRTQ_DMA_ALIGN
#define VIRTQ_DMA_ALIGN 64
#endif

/* 1 builds virtq_publish_defer() and virtq_kick_prepare() (the publish in
   two steps); 0, the default, leaves them out and costs nothing. */
#ifndef VIRTQ_PUBLISH_DEFER
#define VIRTQ_PUBLISH_DEFER 0
#endif

#if defined(__cplusplus)
extern "C" {
#endif
/* ==== end config.h ==== */

/* ==== begin wire.h ==== */
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
/* ==== end wire.h ==== */

/* ==== begin api.h ==== */
/* ---- api.h: public types and functions ---------------------------------- */

/* Error codes.  Every function that can fail returns int: VIRTQ_OK or one of
   these, never anything else; an answer it also gives goes through an
   out-parameter (virtq_publish's *notify).  Questions return bool and never
   fail (virtq_has_used, virtq_enable_intr*, virtq_is_broken); each says
   what it answers for a NULL or broken queue.  A failed call changes no
   state, except that a protocol violation by the device latches the queue
   broken (VIRTQ_EBROKEN from then on). */
#define VIRTQ_OK 0
#define VIRTQ_EINVAL (-1)    /* bad argument from the caller */
#define VIRTQ_ENOSPC (-2)    /* not enough free descriptors right now */
#define VIRTQ_EAGAIN (-3)    /* nothing to return yet (no used buffer) */
#define VIRTQ_EBROKEN (-4)   /* device broke the protocol or needs reset */
#define VIRTQ_ETIMEDOUT (-5) /* a bounded wait ran out */
#define VIRTQ_ENOTSUP (-6)   /* feature or strategy not negotiated/built */
#define VIRTQ_ENODEV (-7)    /* no virtio device (bad magic, empty slot) */
#define VIRTQ_EIO (-8)       /* device refused: FEATURES_OK, QueueReady... */
#define VIRTQ_EBUSY (-9)     /* queue already live on the device */

/* Used-ring alignment, the second argument of virtq_ring_bytes(): modern
   devices need 4 ("Virtqueue alignment"), legacy ones the QueueAlign the
   driver wrote (virtq writes 4096).  The ring base must be aligned to 16
   (modern) or to the legacy alignment. */
#define VIRTQ_ALIGN_MODERN 4u
#define VIRTQ_ALIGN_LEGACY 4096u
#define VIRTQ_MAX_SIZE 32768u /* largest split-ring Queue Size */

#define VIRTQ__ALIGN_UP(x, a) (((x) + ((a) - 1u)) & ~((size_t)(a) - 1u))
/* Bytes of device-visible ring memory for a queue of num entries: the
   descriptor table and the available ring (with used_event), then the used
   ring (with avail_event) at the next multiple of align.  Usable in a static
   array size.  Legacy: "Legacy Interfaces: A Note on Virtqueue Layout". */
#define VIRTQ_RING_BYTES(num, align)                                         \
    (VIRTQ__ALIGN_UP((size_t)16u * (num) + 6u + (size_t)2u * (num), (align)) + \
     VIRTQ__ALIGN_UP(6u + (size_t)8u * (num), (align)))

/* Why a queue is broken (virtq_broken_reason()).  The first reason sticks
   until virtq_detach() has emptied the queue. */
enum virtq_broken_reason {
    VIRTQ_BROKEN_NONE = 0,      /* not broken */
    VIRTQ_BROKEN_USED_IDX,      /* used.idx moved past what was published */
    VIRTQ_BROKEN_USED_ID,       /* a used id >= Queue Size (all 32 bits) */
    VIRTQ_BROKEN_NOT_IN_FLIGHT, /* a used id that is no in-flight chain head:
                                   a chain's middle, a free one, a double */
    VIRTQ_BROKEN_UNPUBLISHED,   /* a used id added but not yet published */
    VIRTQ_BROKEN_USED_LEN,      /* used len beyond the writable bytes posted */
    VIRTQ_BROKEN_DEVICE,        /* the device set NEEDS_RESET or FAILED */
    VIRTQ_BROKEN_CALLER,        /* virtq_break() */
    VIRTQ_BROKEN_DETACH         /* virtq_detach() is handing cookies back */
};

/* Ring kinds, also the VIRTQ_RINGS compile-time mask (implementation file
   only; default VIRTQ_RING_SPLIT).  With VIRTQ_RING_PACKED built in, the
   packed ring is negotiated whenever the device offers it. */
#define VIRTQ_RING_SPLIT 1
#define VIRTQ_RING_PACKED 2

/* Bytes of a packed ring of num entries (any num in 1..32768): descriptor
   ring (16 per entry, 16-aligned), then the driver and the device event
   suppression structures (4 each): "Structure Size and Alignment".  Never
   more than VIRTQ_RING_BYTES(num, align) for the same num, so memory sized
   for a split ring always fits a packed one. */
#define VIRTQ_PACKED_RING_BYTES(num) ((size_t)16u * (num) + 8u)

/* One caller-supplied scatter-gather segment. */
struct virtq_buf {
    void *addr;   /* CPU address; VIRTQ_VIRT_TO_DMA() makes it a DMA one */
    uint32_t len; /* bytes, > 0 */
};

/* Driver-private bookkeeping for one descriptor (split) or one buffer id
   (packed: tail is 1 until the buffer is published, next links the
   unpublished ones, pos keeps the oldest one's head flags).  Kept outside the device-
   visible table, so a device scribbling over shared memory cannot steer
   the driver.  Allocate one per ring entry; treat as opaque. */
struct virtq_slot {
    void *cookie;  /* head of an in-flight chain: the caller's cookie */
    uint32_t wlen; /* head: writable bytes posted (bounds used.len) */
    uint16_t next; /* free-list and chain link */
    uint16_t ndesc; /* head: descriptors in the chain */
    uint16_t pos;  /* head: its avail index (published yet?) */
    uint16_t tail; /* head: last descriptor of the chain */
};

/* A split or packed virtqueue.  Public so callers can place it
   statically; fields are private (read them through the functions below).
   The layout is the same whatever VIRTQ_RINGS says.  A packed ring reuses
   the fields: desc is the descriptor ring (struct pvirtq_desc), avail the
   driver and used the device event suppression structure; avail_idx,
   published_idx, kicked_idx and last_used are ring positions with the wrap counter in
   bit 15 (the event suppression "desc" encoding); mask is the number of
   the batch being added, align and avail_event the flags and the place
   of the head virtq_publish() makes available (ring_packed.h). */
struct virtq {
    struct virtq_desc *desc;
    struct virtq_avail *avail;
    struct virtq_used *used;
    struct virtq_slot *slot;
    uint16_t *used_event;  /* &avail->ring[num] */
    uint16_t *avail_event; /* &used->ring[num] */
    uint16_t num;          /* Queue Size, a power of two */
    uint16_t num_free;     /* descriptors on the free list */
    uint16_t free_head;    /* first free descriptor (valid if num_free) */
    uint16_t avail_idx;    /* next avail index to fill (private copy) */
    uint16_t published_idx; /* avail.idx as last written by virtq_publish() */
    uint16_t last_used;    /* next used index to consume */
    uint16_t flags;        /* VIRTQ__Q_* */
    uint16_t index;        /* queue index on its device */
    uint16_t detach_pos;   /* scan cursor for virtq_detach() */
    uint16_t mask;         /* num - 1 */
    uint16_t broken_reason; /* enum virtq_broken_reason */
    uint16_t kicked_idx;   /* while a decision is owed: published_idx at the last one */
    uint32_t align;        /* used-ring alignment given to virtq_init() */
    uintptr_t notify;      /* transport: where this queue's notifications go (PCI) */
    void *user;            /* free for the caller */
};

/* --- ring: memory ------------------------------------------------------- */

/* Bytes of ring memory for num entries (0 if num is not a power of two in
   1..32768 or align is not a power of two >= 4). */
VIRTQ_API size_t virtq_ring_bytes(uint32_t num, uint32_t align);

/* Bytes of packed ring memory for num entries (0 unless 1 <= num <=
   32768: "Packed virtqueues support up to 2^15 entries each", any count).
   Inline, so a split-only build carries none of it. */
static inline size_t virtq_packed_ring_bytes(uint32_t num)
{
    return (num == 0u || num > 32768u) ? 0u : VIRTQ_PACKED_RING_BYTES(num);
}

/* Lay a queue of num entries over mem (VIRTQ_RING_BYTES(num, align) bytes,
   zeroed here) and slots (num entries).  features: the negotiated feature
   bits; the ring uses INDIRECT_DESC, EVENT_IDX and ORDER_PLATFORM.  With
   RING_PACKED it lays a packed ring (VIRTQ_PACKED_RING_BYTES(num) bytes,
   16-aligned, num need not be a power of two, align is not used), or
   returns VIRTQ_ENOTSUP when the packed ring is not built in; a packed-only
   build returns VIRTQ_ENOTSUP without it. */
VIRTQ_API int virtq_init(struct virtq *vq, uint32_t num, uint32_t align, void *mem,
                         struct virtq_slot *slots, uint64_t features);

/* --- ring: submit --------------------------------------------------------- */

/* Add one request: out device-readable segments then in device-writable
   ones (bufs[0..out+in)), as a descriptor chain.  cookie (non-NULL) comes
   back from virtq_get() or virtq_detach() exactly once.  The request is
   not visible to the device until virtq_publish().
   VIRTQ_EINVAL: NULL/zero-length segment, no segments, cookie NULL, more
   segments than the ring, a chain over 2^32 - 1 bytes in total.
   VIRTQ_ENOSPC: not enough free descriptors now (retry after virtq_get()).
   A refused add changes no byte of ring memory or private state. */
VIRTQ_API int virtq_add(struct virtq *vq, const struct virtq_buf *bufs, unsigned out,
                        unsigned in, void *cookie);

/* As virtq_add(), but the segments go into table (caller memory, out+in
   entries, 16-byte aligned, left untouched by the caller until the cookie
   comes back) and use one ring descriptor.  VIRTQ_ENOTSUP unless
   VIRTIO_F_INDIRECT_DESC was negotiated. */
VIRTQ_API int virtq_add_indirect(struct virtq *vq, const struct virtq_buf *bufs,
                                 unsigned out, unsigned in, struct virtq_desc *table,
                                 void *cookie);

/* Make every added request visible (write avail.idx) and decide whether the
   device must be notified: *notify is true when it must be, false when the
   device asked not to be, nothing was new, or the call failed.  VIRTQ_OK,
   VIRTQ_EINVAL (NULL vq or notify, queue not initialised) or VIRTQ_EBROKEN.
   virtq_dev_kick() does both. */
VIRTQ_API int virtq_publish(struct virtq *vq, bool *notify);

/* virtq_publish() in two steps, as Linux's virtqueue_add() and
   virtqueue_kick_prepare() split it: virtq_publish_defer() makes every added
   request visible now and owes the kick decision; virtq_kick_prepare() makes
   it, for everything published since the last decision, with the same full
   barrier.  Work done in between (taking used buffers, say) overlaps the
   wait for the avail.idx store that the barrier would otherwise spend
   alone: with two CPUs polling one queue a request at a time, that wait
   is the cost of the request.
   A decision is owed until virtq_kick_prepare() or virtq_publish() makes
   it, and a driver MUST make it before it waits for the device, or a
   device that went idle is never notified.  Defers add up: one while a
   decision is owed publishes the new requests too, and the decision covers
   all of them, as Linux's adds do until its kick_prepare.
   virtq_publish_defer(): VIRTQ_OK (also when nothing was added),
   VIRTQ_EINVAL (NULL vq, queue not initialised), VIRTQ_EBROKEN, or
   VIRTQ_EBUSY when the requests owed a decision would come to more than a
   ring's worth (Queue Size chains; packed: descriptors), which keeps the
   decision's window exact: make the decision, then defer again (nothing is
   published by the refused call).  virtq_kick_prepare():
   as virtq_publish() (*notify false when no decision was owed); it
   publishes nothing.  Built with VIRTQ_PUBLISH_DEFER 1 only. */
#if VIRTQ_PUBLISH_DEFER
VIRTQ_API int virtq_publish_defer(struct virtq *vq);
VIRTQ_API int virtq_kick_prepare(struct virtq *vq, bool *notify);
#endif

/* virtq_add() then virtq_publish() in one call, for a driver that makes
   each request visible as it adds it (the cheapest path for one request
   at a time; batches add several, then publish once).  *notify as for
   virtq_publish(); false when the add was refused, which changes nothing
   (same errors as virtq_add(), and VIRTQ_EINVAL for a NULL notify). */
VIRTQ_API int virtq_submit(struct virtq *vq, const struct virtq_buf *bufs, unsigned out,
                           unsigned in, void *cookie, bool *notify);

/* --- ring: complete ------------------------------------------------------- */

/* Take one used buffer: *cookie and *len (bytes the device wrote; len may be
   NULL).  VIRTQ_EAGAIN when there is none.  Every used element is checked
   (manual: "Hardening"); a bad one latches the queue broken. */
VIRTQ_API int virtq_get(struct virtq *vq, void **cookie, uint32_t *len);

/* Does virtq_get() have something to report?  false only when its next
   call would return VIRTQ_EAGAIN.  true when a used buffer waits, and also
   when the queue is broken or unusable (NULL, not initialised): virtq_get()
   then returns the error, so a poll loop `while (!virtq_has_used(q))`
   never spins on a dead queue. */
VIRTQ_API bool virtq_has_used(const struct virtq *vq);

/* Used-buffer notification suppression: a hint to the device, which may
   still interrupt.  virtq_enable_intr() re-arms and then re-checks the used
   ring: true means do not sleep, call virtq_get(): buffers arrived
   meanwhile (no interrupt may come for them), or the queue is broken or
   unusable (nothing re-armed; virtq_get() reports the error).  false:
   nothing pending, an interrupt will come.  _delayed (EVENT_IDX) asks for
   the interrupt only after about 3/4 of the outstanding buffers are used
   and returns true only when more than that many are already used (or on
   a broken queue); without EVENT_IDX it is virtq_enable_intr().
   _after(vq, n) (EVENT_IDX) asks for the interrupt when the n-th buffer
   from now is used (n clamped to what is published and not yet taken;
   0 and 1 are virtq_enable_intr()) and returns true when n are already
   used.  On a packed ring n counts descriptors, so with longer chains the
   interrupt comes earlier, never later.  Pick n so that what stays in
   flight covers your wake-up time: the device then never runs dry and
   needs no kick (BENCHMARKS.md, "Sleeping"); without EVENT_IDX it is
   virtq_enable_intr().  Either delayed re-arm asks for one interrupt, at
   that buffer: virtq_get() may take what is already used before sleeping,
   and leaves the event where it is (after virtq_enable_intr() each get
   asks for the next buffer instead; moved back like that, a delayed event
   could fall behind the device and its interrupt would not come).  Re-arm
   again before the next sleep, as always. */
VIRTQ_API void virtq_disable_intr(struct virtq *vq);
VIRTQ_API bool virtq_enable_intr(struct virtq *vq);
VIRTQ_API bool virtq_enable_intr_delayed(struct virtq *vq);
VIRTQ_API bool virtq_enable_intr_after(struct virtq *vq, unsigned n);

/* --- ring: state and teardown --------------------------------------------- */

/* true when vq is latched broken (every call fails with VIRTQ_EBROKEN until
   virtq_detach() has handed back every cookie) or vq is NULL. */
VIRTQ_API bool virtq_is_broken(const struct virtq *vq);
/* Why: VIRTQ_BROKEN_NONE while the queue works (and for NULL), else the
   first violation seen.  VIRTQ_LOG, when defined, also prints it. */
VIRTQ_API enum virtq_broken_reason virtq_broken_reason(const struct virtq *vq);
/* Latch the queue broken yourself (reason VIRTQ_BROKEN_CALLER). */
VIRTQ_API void virtq_break(struct virtq *vq);
/* Descriptors free right now (0 for NULL): a chain of n segments fits
   when n <= this (an indirect add needs 1). */
VIRTQ_API unsigned virtq_num_free(const struct virtq *vq);

/* Legacy devices often put junk in used.len for buffers they only read
   ("The Virtqueue Used Ring", legacy note; e.g. a net transmit queue).
   With ignore set, virtq_get() skips the length bound on this queue and
   the len it reports means nothing.  Every other check stays.  Call after
   setup (virtq_init clears it). */
VIRTQ_API void virtq_ignore_used_len(struct virtq *vq, bool ignore);

/* --- data buffers on a non-coherent platform -------------------------------- */

/* The implementation file's VIRTQ_DMA_SYNC_FOR_DEVICE / _FOR_CPU, callable
   from any file (drivers are often built apart from the implementation).
   virtq_add() already syncs every segment for the device; call
   virtq_dma_sync_for_cpu() on the writable bytes of a request after
   virtq_get() returned it and before reading them, and
   virtq_dma_sync_for_device() on memory the device reads outside a
   descriptor (a gpu resource's backing pages) before it does.  Data
   buffers only: ring memory must be coherent. */
VIRTQ_API void virtq_dma_sync_for_device(const void *p, size_t len, bool device_writes);
VIRTQ_API void virtq_dma_sync_for_cpu(const void *p, size_t len);

/* After the device was reset (it no longer touches the ring): hand back one
   in-flight or unpublished cookie per call; VIRTQ_EAGAIN when none is left,
   at which point the ring is empty, un-broken and ready for reuse. */
VIRTQ_API int virtq_detach(struct virtq *vq, void **cookie);

/* --- device and transport --------------------------------------------------- */

/* Transports (also the VIRTQ_TRANSPORTS compile-time selector bits; the
   implementation file builds in only those, default MMIO). */
#define VIRTQ_TRANSPORT_MMIO 1
#define VIRTQ_TRANSPORT_PCI 2

/* Wait strategies (also the VIRTQ_WAIT compile-time selector bits). */
#define VIRTQ_WAIT_SPIN 1
#define VIRTQ_WAIT_WFI 2
#define VIRTQ_WAIT_OS 4
#define VIRTQ_WAIT_CUSTOM 8

/* One virtio device.  Public so it can be placed statically; read fields
   freely, write them only through the functions below. */
struct virtq_dev {
    uintptr_t base;           /* MMIO base address (PCI: the common configuration) */
    uint8_t transport;        /* VIRTQ_TRANSPORT_*, recorded by the probe */
    uint8_t version;          /* 1 legacy, 2 modern (virtio-mmio's Version; PCI: 2) */
    uint8_t wait;             /* VIRTQ_WAIT_* in use */
    uint8_t state;            /* VIRTQ__D_* */
    uint32_t device_id;       /* VIRTIO_ID_* */
    uint32_t vendor_id;
    uint32_t early;           /* interrupts before DRIVER_OK (also in spurious) */
    uint64_t device_features; /* offered (after virtq_dev_begin) */
    uint64_t features;        /* negotiated (after virtq_dev_negotiate) */
    void *os_ctx;             /* VIRTQ_WAIT_OS: the channel tasks block on */
    volatile uint32_t wake_seq; /* bumped by virtq_dev_isr(): futex word */
    uint32_t irqs;            /* interrupts taken by virtq_dev_isr() */
    uint32_t notifies;        /* queue notifications written */
    uint32_t spurious;        /* interrupts with no status bit, or early */
    void *user;               /* free for the caller */
    const char *why;          /* why the last probe or queue setup failed, or NULL */
    /* virtio-pci only (virtq_pci_probe), CPU addresses of the structures: */
    uintptr_t pci_cfg;        /* the function's configuration-space handle */
    uintptr_t notify_base;    /* notification structure */
    uintptr_t isr;            /* ISR status byte */
    uintptr_t device_cfg;     /* device-specific configuration (0: none) */
    uint32_t notify_len;      /* bytes of the notification structure */
    uint32_t notify_mult;     /* notify_off_multiplier */
    uint32_t common_len;      /* bytes of the common configuration */
    uint32_t device_cfg_len;  /* bytes of the device-specific configuration */
};

/* Probe a virtio-mmio slot: magic, version (1 or 2), device id.  Touches
   no status.  VIRTQ_ENODEV: no device, or an empty slot (id 0). */
VIRTQ_API int virtq_mmio_probe(struct virtq_dev *dev, uintptr_t base);

/* One populated virtio-mmio slot, as virtq_mmio_scan() reports it. */
struct virtq_mmio_slot {
    uintptr_t base;     /* the slot's MMIO base */
    unsigned slot;      /* its index in the window */
    uint32_t device_id; /* VIRTIO_ID_* (never 0: empty slots are skipped) */
    uint8_t version;    /* 1 legacy, 2 modern */
};

/* Probe count slots at base, base + stride, ... (virtq_mmio_probe() each:
   magic, version, id; no status touched) and report every populated one in
   found[0..max), lowest address first.  Returns how many (0 when none), or
   VIRTQ_EINVAL (stride 0, found NULL with max > 0).  VIRTQ_ENOTSUP when
   the MMIO transport is not built in (VIRTQ_TRANSPORTS), here and below. */
VIRTQ_API int virtq_mmio_scan(uintptr_t base, uintptr_t stride, unsigned count,
                              struct virtq_mmio_slot *found, unsigned max);

/* Probe into dev the nth (0 = first) slot of that window holding a device
   of device_id (VIRTIO_ID_*): VIRTQ_OK, ready for virtq_dev_begin();
   VIRTQ_ENODEV when there is none; VIRTQ_EINVAL for NULL dev, stride 0 or
   id 0. */
VIRTQ_API int virtq_mmio_find(struct virtq_dev *dev, uintptr_t base, uintptr_t stride,
                              unsigned count, uint32_t device_id, unsigned nth);

/* virtio-pci modern ("Virtio Over PCI Bus"; build with VIRTQ_TRANSPORT_PCI
   in VIRTQ_TRANSPORTS, else these return VIRTQ_ENOTSUP).  cfg is the function's configuration-space handle
   given to VIRTQ_PCI_CFG_READ/WRITE*; with the default ECAM shim it is the
   function's ECAM address, VIRTQ_PCI_ECAM(base, bus, device, function). */
#define VIRTQ_PCI_ECAM(base, bus, device, function)                                   \
    ((uintptr_t)(base) + ((uintptr_t)(bus) << 20) + ((uintptr_t)(device) << 15) + \
     ((uintptr_t)(function) << 12))

/* Probe a virtio-pci function whose memory BARs are assigned: identity
   (vendor 0x1af4; modern ids 0x1040+, transitional 0x1000..0x103f with the
   type from the Subsystem ID), then the capability list.  Every value read
   from the device is checked; on failure dev->why names the capability and
   field, and dev is left unprobed.  Enables memory decode and bus
   mastering.  VIRTQ_ENODEV: not a virtio function; VIRTQ_ENOTSUP: a
   legacy-only device (no virtio capabilities); VIRTQ_EIO: a required
   structure missing or unusable, or a malformed capability list. */
VIRTQ_API int virtq_pci_probe(struct virtq_dev *dev, uintptr_t cfg);

/* Optional, for firmware that enumerates nothing itself (e.g. QEMU -bios
   none): size the function's memory BARs (32- and 64-bit; I/O BARs and the
   expansion ROM are left alone) and assign them from [*next, end), each
   aligned to its size, then enable memory decode and bus mastering.  *next
   advances past what was used.  VIRTQ_ENOSPC: the window is too small
   (memory decode stays off, *next unchanged); VIRTQ_ENODEV: no function,
   or not a type-0 header. */
VIRTQ_API int virtq_pci_assign_bars(uintptr_t cfg, uint64_t *next, uint64_t end);

/* VIRTIO_F_RING_RESET (PCI only): reset one queue while the device runs.
   Afterwards take every cookie back with virtq_detach() and set the queue
   up again with virtq_dev_queue_setup().  VIRTQ_ENOTSUP: not negotiated
   (never on virtio-mmio); VIRTQ_ETIMEDOUT: the reset did not complete. */
VIRTQ_API int virtq_dev_queue_reset(struct virtq_dev *dev, struct virtq *vq);

/* Reset the device and wait (bounded) until its status reads 0. */
VIRTQ_API int virtq_dev_reset(struct virtq_dev *dev);

/* Start initialisation: reset, ACKNOWLEDGE, DRIVER, read the offered
   features into dev->device_features. */
VIRTQ_API int virtq_dev_begin(struct virtq_dev *dev);

/* Accept wanted & offered (plus VERSION_1 on a modern device, where it is
   required), minus what virtq cannot drive (VIRTIO_F_RING_PACKED);
   VIRTQ_ENOTSUP and status FAILED when a required bit is not offered or
   not supported; modern: set FEATURES_OK and read it back (VIRTQ_EIO if the
   device refuses). */
VIRTQ_API int virtq_dev_negotiate(struct virtq_dev *dev, uint64_t wanted, uint64_t required);

/* Set up queue index over caller memory (see virtq_init(); legacy needs a
   4096-aligned mem whose page number fits 32 bits).  This starts vq
   afresh: after a reset, take every cookie back with virtq_detach() first,
   or those requests are dropped.  num is a wish: the queue gets min(num, QueueNumMax)
   rounded down to a power of two.  VIRTQ_ENODEV: the queue does not exist;
   VIRTQ_EBUSY: it is already live; VIRTQ_EIO: QueueReady did not stick:
   vq is then unusable (every call on it fails with VIRTQ_EINVAL until a
   setup succeeds) and the device is FAILED, as after virtq_dev_fail(). */
VIRTQ_API int virtq_dev_queue_setup(struct virtq_dev *dev, struct virtq *vq, uint16_t index,
                                    uint32_t num, void *mem, struct virtq_slot *slots);

/* Finish initialisation (DRIVER_OK).  Interrupts before this are ignored. */
VIRTQ_API int virtq_dev_driver_ok(struct virtq_dev *dev);

/* Mark the device FAILED (the driver gave up on it).  Until virtq_dev_begin()
   resets it, negotiation, queue setup and DRIVER_OK refuse with EINVAL. */
VIRTQ_API void virtq_dev_fail(struct virtq_dev *dev);

/* Publish vq and notify the device if it asked for it: virtq_publish()
   then virtq_dev_notify().  Returns virtq_publish()'s VIRTQ_OK, VIRTQ_EINVAL
   or VIRTQ_EBROKEN; whether a notification was written is not reported
   (dev->notifies counts them). */
VIRTQ_API int virtq_dev_kick(struct virtq_dev *dev, struct virtq *vq);
/* Write vq's queue notification unconditionally (after your own
   virtq_publish() said *notify).  Does nothing for a bad dev or NULL vq. */
VIRTQ_API void virtq_dev_notify(struct virtq_dev *dev, const struct virtq *vq);

/* Interrupt handler helper: read and acknowledge InterruptStatus, wake the
   waiters, note NEEDS_RESET.  Returns the VIRTQ_ISR_* bits seen (0: not
   this device's interrupt, or before DRIVER_OK); bits the spec does not
   define are ignored (neither acknowledged nor reported), and a status
   with none of the defined ones counts as spurious. */
VIRTQ_API uint32_t virtq_dev_isr(struct virtq_dev *dev);

/* VIRTQ_EBROKEN when the device set NEEDS_RESET or FAILED, else VIRTQ_OK. */
VIRTQ_API int virtq_dev_check(struct virtq_dev *dev);

/* Device-specific configuration space, read with the field's own width
   ("Device Configuration Space") and, on a modern device, retried until
   ConfigGeneration is stable (bounded: VIRTQ_EIO).  The bytes form reads
   byte by byte inside one generation; after VIRTQ_EIO its buffer holds
   an unstable mix (the fixed-width forms leave *val untouched). */
VIRTQ_API int virtq_dev_config_read8(struct virtq_dev *dev, uint32_t off, uint8_t *val);
VIRTQ_API int virtq_dev_config_read16(struct virtq_dev *dev, uint32_t off, uint16_t *val);
VIRTQ_API int virtq_dev_config_read32(struct virtq_dev *dev, uint32_t off, uint32_t *val);
VIRTQ_API int virtq_dev_config_read64(struct virtq_dev *dev, uint32_t off, uint64_t *val);
VIRTQ_API int virtq_dev_config_read_bytes(struct virtq_dev *dev, uint32_t off, void *buf,
                                          uint32_t len);
/* Writes with the field's own width, like the reads (a 64-bit field as two
   32-bit writes, low word first); VIRTQ_EINVAL for a misaligned or
   out-of-range offset.  Only fields the device type calls writable. */
VIRTQ_API int virtq_dev_config_write8(struct virtq_dev *dev, uint32_t off, uint8_t val);
VIRTQ_API int virtq_dev_config_write16(struct virtq_dev *dev, uint32_t off, uint16_t val);
VIRTQ_API int virtq_dev_config_write32(struct virtq_dev *dev, uint32_t off, uint32_t val);
VIRTQ_API int virtq_dev_config_write64(struct virtq_dev *dev, uint32_t off, uint64_t val);

/* --- waiting ----------------------------------------------------------------- */

/* The board routed and enabled this device's interrupt (PLIC, GIC...).  WFI
   waits fall back to spinning until this is said: a wfi with no interrupt
   routed would sleep forever. */
VIRTQ_API void virtq_dev_irq_routed(struct virtq_dev *dev, bool routed);

/* Choose how waits on this device block: VIRTQ_WAIT_SPIN (the default from
   probe on), _WFI, _OS (os_ctx: the channel for VIRTQ_OS_WAIT/WAKE) or
   _CUSTOM.  VIRTQ_ENOTSUP when that strategy is not built in (VIRTQ_WAIT). */
VIRTQ_API int virtq_dev_set_wait(struct virtq_dev *dev, int strategy, void *os_ctx);

/* Wait until vq has a used buffer (then virtq_get() returns it), bounded by
   timeout_us: VIRTQ_OK, VIRTQ_ETIMEDOUT (queue untouched and consistent),
   or VIRTQ_EBROKEN (queue broken or device NEEDS_RESET). */
VIRTQ_API int virtq_wait(struct virtq_dev *dev, struct virtq *vq, uint32_t timeout_us);

/* --- misc ---------------------------------------------------------------------- */

/* A short English name for an error code. */
VIRTQ_API const char *virtq_strerror(int err);
/* ==== end api.h ==== */

/* ==== begin api_end.h ==== */
/* ---- api_end.h ------------------------------------------------------------ */
#if defined(__cplusplus)
} /* extern "C" */
#endif
#endif /* VIRTQ_H_INCLUDED */
/* ==== end api_end.h ==== */

/* ==== begin impl_begin.h ==== */
/* ---- impl_begin.h: the implementation, in exactly one translation unit -- */
#if defined(VIRTQ_IMPLEMENTATION) && !defined(VIRTQ_IMPLEMENTATION_INCLUDED)
#define VIRTQ_IMPLEMENTATION_INCLUDED
#if defined(__cplusplus)
extern "C" {
#endif

/* Hot-path helpers: keep the common case straight-line and the error
   classification out of line. */
#if defined(__GNUC__) || defined(__clang__)
#define VIRTQ__INLINE static inline __attribute__((always_inline))
#define VIRTQ__COLD __attribute__((cold, noinline))
#define VIRTQ__NOINLINE __attribute__((noinline))
#define VIRTQ__UNLIKELY(x) __builtin_expect(!!(x), 0)
#define VIRTQ__LIKELY(x) __builtin_expect(!!(x), 1)
#else
#define VIRTQ__INLINE static inline
#define VIRTQ__COLD
#define VIRTQ__NOINLINE
#define VIRTQ__UNLIKELY(x) (x)
#define VIRTQ__LIKELY(x) (x)
#endif

/* Loops over a request's segments (both rings): with VIRTQ_STATIC the
   caller's segment counts are usually compile-time constants, and these
   loops are then unrolled into straight-line code.  In an out-of-line build the count is
   a variable and the plain loop is the only copy (no size cost). */
#if defined(__clang__)
#define VIRTQ__UNROLL _Pragma("clang loop unroll(full)")
#elif defined(__GNUC__) && __GNUC__ >= 8
#define VIRTQ__UNROLL _Pragma("GCC unroll 8")
#else
#define VIRTQ__UNROLL
#endif
#if defined(__GNUC__) || defined(__clang__)
#define VIRTQ__CONST_SMALL(n) (__builtin_constant_p(n) && (n) <= 8u)
#else
#define VIRTQ__CONST_SMALL(n) 0
#endif
/* ==== end impl_begin.h ==== */

/* ==== begin ring_flags.h ==== */
/* ---- ring_flags.h: private state bits of struct virtq (.flags) ---------- */
/* Set by virtq_init() from the negotiated features (EVENT_IDX, INDIRECT,
   PLATFORM, PACKED) and by the ring as it runs.  Early in the manifest
   because the barrier helpers (shim_access.h) read PLATFORM. */
#ifndef VIRTQ_EVENT_IDX
#define VIRTQ_EVENT_IDX 1
#endif
#if VIRTQ_EVENT_IDX
#define VIRTQ__Q_EVENT_IDX 1u /* VIRTIO_F_EVENT_IDX negotiated */
#else
#define VIRTQ__Q_EVENT_IDX 0u /* VIRTQ_EVENT_IDX 0: every event branch folds away */
#endif
#define VIRTQ__Q_INDIRECT 2u  /* VIRTIO_F_INDIRECT_DESC negotiated */
#define VIRTQ__Q_PLATFORM 4u  /* VIRTIO_F_ORDER_PLATFORM: DMA barriers */
#define VIRTQ__Q_BROKEN 8u    /* protocol violation seen: latched */
#define VIRTQ__Q_INTR_OFF 16u /* driver asked for no used notifications */
#define VIRTQ__Q_READY 32u    /* virtq_init() succeeded */
#define VIRTQ__Q_ANY_LEN 64u  /* used.len not bounded: virtq_ignore_used_len() */
#define VIRTQ__Q_PACKED 128u  /* a packed ring (ring_packed.h) */
#if VIRTQ_PUBLISH_DEFER
#define VIRTQ__Q_OWED 256u    /* virtq_publish_defer() left a kick decision owed */
#else
#define VIRTQ__Q_OWED 0u      /* never set: every owed branch folds away */
#endif
/* Re-armed with a delay (virtq_enable_intr_after / _delayed): one
   interrupt at a set buffer, so virtq_get() leaves the event alone.  Set
   and cleared only by a re-arm (and the ring reset); meaningless while
   INTR_OFF is set. */
#define VIRTQ__Q_DELAYED (VIRTQ__Q_EVENT_IDX ? 512u : 0u)

/* VIRTQ_EVENT_IDX 0 builds the rings without VIRTIO_F_EVENT_IDX: never
   negotiated (device.h), and virtq_init() refuses it, since a ring that
   ignored a negotiated event index would miss the device's thresholds. */
#define VIRTQ__FEATURES_OUT (VIRTQ_EVENT_IDX ? (uint64_t)0 : VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX))
/* ==== end ring_flags.h ==== */

/* ==== begin shim_arch.h ==== */
/* ---- shim_arch.h: barriers, CPU relax, interrupt mask, wfi --------------- */
/* Each primitive is defined only if the user has not (#ifndef), so one can be
   replaced alone.  "SMP" barriers order memory between CPUs and suffice for
   a device emulated by another CPU (a hypervisor); the DMA forms order
   memory against real bus masters and are used when VIRTIO_F_ORDER_PLATFORM
   is negotiated ("Reserved Feature Bits": ORDER_PLATFORM). */

#if defined(__clang__) || defined(__GNUC__)
#define VIRTQ__COMPILER_BARRIER() __asm__ __volatile__("" ::: "memory")
#else
#error "virtq: needs GCC or Clang inline asm for barriers; define VIRTQ_MB etc."
#endif

/* ThreadSanitizer sees no asm fences: under TSan (or when asked) shared
   indices use C11-style acquire/release atomics instead; see shim_access.h. */
#if !defined(VIRTQ_USE_ATOMICS)
#if defined(__SANITIZE_THREAD__)
#define VIRTQ_USE_ATOMICS 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define VIRTQ_USE_ATOMICS 1
#endif
#endif
#endif
#if !defined(VIRTQ_USE_ATOMICS)
#define VIRTQ_USE_ATOMICS 0
#endif

/* Two independent choices: the memory-barrier flavour (architecture asm, or
   C11 atomics below when VIRTQ_USE_ATOMICS) and, always by architecture,
   the I/O ordering around MMIO accesses and the wfi / interrupt mask.  A C11
   fence orders memory between CPUs; it says nothing about device (I/O)
   accesses, so the atomics flavour must not drop those. */
#if defined(__riscv)
/* RVWMO: r/w order normal memory, i/o orders device memory. */
#define VIRTQ__ARCH_MB() __asm__ __volatile__("fence rw,rw" ::: "memory")
#define VIRTQ__ARCH_RMB() __asm__ __volatile__("fence r,r" ::: "memory")
#define VIRTQ__ARCH_WMB() __asm__ __volatile__("fence w,w" ::: "memory")
#define VIRTQ__ARCH_DMA_MB() __asm__ __volatile__("fence iorw,iorw" ::: "memory")
#define VIRTQ__ARCH_DMA_RMB() __asm__ __volatile__("fence ir,ir" ::: "memory")
#define VIRTQ__ARCH_DMA_WMB() __asm__ __volatile__("fence ow,ow" ::: "memory")
/* Zihintpause "pause" is a hint in the fence encoding: a no-op elsewhere. */
#define VIRTQ__ARCH_RELAX() __asm__ __volatile__(".4byte 0x0100000f" ::: "memory")
#define VIRTQ__IO_BEFORE_WRITE() __asm__ __volatile__("fence w,o" ::: "memory")
#define VIRTQ__IO_AFTER_READ() __asm__ __volatile__("fence i,r" ::: "memory")
#elif defined(__aarch64__)
/* Inner-shareable for CPU-to-CPU, outer-shareable for bus masters. */
#define VIRTQ__ARCH_MB() __asm__ __volatile__("dmb ish" ::: "memory")
#define VIRTQ__ARCH_RMB() __asm__ __volatile__("dmb ishld" ::: "memory")
#define VIRTQ__ARCH_WMB() __asm__ __volatile__("dmb ishst" ::: "memory")
#define VIRTQ__ARCH_DMA_MB() __asm__ __volatile__("dmb osh" ::: "memory")
#define VIRTQ__ARCH_DMA_RMB() __asm__ __volatile__("dmb oshld" ::: "memory")
#define VIRTQ__ARCH_DMA_WMB() __asm__ __volatile__("dmb oshst" ::: "memory")
#define VIRTQ__ARCH_RELAX() __asm__ __volatile__("yield" ::: "memory")
#define VIRTQ__IO_BEFORE_WRITE() __asm__ __volatile__("dmb oshst" ::: "memory")
#define VIRTQ__IO_AFTER_READ() __asm__ __volatile__("dmb oshld" ::: "memory")
#elif defined(__arm__)
#if defined(__ARM_ARCH_PROFILE) && (__ARM_ARCH_PROFILE == 'M')
/* M-profile has one shareability domain: plain dmb. */
#define VIRTQ__ARCH_MB() __asm__ __volatile__("dmb" ::: "memory")
#define VIRTQ__ARCH_WMB() __asm__ __volatile__("dmb" ::: "memory")
#define VIRTQ__ARCH_DMA_WMB() __asm__ __volatile__("dmb" ::: "memory")
#else
#define VIRTQ__ARCH_MB() __asm__ __volatile__("dmb ish" ::: "memory")
#define VIRTQ__ARCH_WMB() __asm__ __volatile__("dmb ishst" ::: "memory")
#define VIRTQ__ARCH_DMA_WMB() __asm__ __volatile__("dmb oshst" ::: "memory")
#endif
#define VIRTQ__ARCH_RMB() VIRTQ__ARCH_MB() /* ARMv7 has no load-only dmb */
#define VIRTQ__ARCH_DMA_MB() __asm__ __volatile__("dmb sy" ::: "memory")
#define VIRTQ__ARCH_DMA_RMB() __asm__ __volatile__("dmb sy" ::: "memory")
#define VIRTQ__ARCH_RELAX() __asm__ __volatile__("yield" ::: "memory")
/* Spelled out, not as the DMA barriers, which the atomics flavour replaces. */
#if defined(__ARM_ARCH_PROFILE) && (__ARM_ARCH_PROFILE == 'M')
#define VIRTQ__IO_BEFORE_WRITE() __asm__ __volatile__("dmb" ::: "memory")
#else
#define VIRTQ__IO_BEFORE_WRITE() __asm__ __volatile__("dmb oshst" ::: "memory")
#endif
#define VIRTQ__IO_AFTER_READ() __asm__ __volatile__("dmb sy" ::: "memory")
#elif defined(__x86_64__) || defined(__i386__)
/* TSO: only store->load needs a fence; a locked op is cheaper than mfence. */
#if defined(__x86_64__)
#define VIRTQ__ARCH_MB() __asm__ __volatile__("lock; addl $0,-4(%%rsp)" ::: "memory", "cc")
#else
#define VIRTQ__ARCH_MB() __asm__ __volatile__("lock; addl $0,-4(%%esp)" ::: "memory", "cc")
#endif
#define VIRTQ__ARCH_RMB() VIRTQ__COMPILER_BARRIER()
#define VIRTQ__ARCH_WMB() VIRTQ__COMPILER_BARRIER()
#define VIRTQ__ARCH_DMA_MB() __asm__ __volatile__("mfence" ::: "memory")
#define VIRTQ__ARCH_DMA_RMB() VIRTQ__COMPILER_BARRIER()
#define VIRTQ__ARCH_DMA_WMB() VIRTQ__COMPILER_BARRIER()
#define VIRTQ__ARCH_RELAX() __asm__ __volatile__("pause" ::: "memory")
#else
/* C11-style fallback through the compiler's atomic builtins. */
#define VIRTQ__ARCH_MB() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define VIRTQ__ARCH_RMB() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define VIRTQ__ARCH_WMB() __atomic_thread_fence(__ATOMIC_RELEASE)
#define VIRTQ__ARCH_DMA_MB() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define VIRTQ__ARCH_DMA_RMB() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define VIRTQ__ARCH_DMA_WMB() __atomic_thread_fence(__ATOMIC_RELEASE)
#define VIRTQ__ARCH_RELAX() VIRTQ__COMPILER_BARRIER()
#endif

/* The atomics flavour (ThreadSanitizer, or asked for): memory barriers as
   C11 fences the sanitizer understands.  The I/O ordering, cpu-relax hint
   and wfi above stay the architecture's. */
#if VIRTQ_USE_ATOMICS
#undef VIRTQ__ARCH_MB
#undef VIRTQ__ARCH_RMB
#undef VIRTQ__ARCH_WMB
#undef VIRTQ__ARCH_DMA_MB
#undef VIRTQ__ARCH_DMA_RMB
#undef VIRTQ__ARCH_DMA_WMB
#define VIRTQ__ARCH_MB() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define VIRTQ__ARCH_RMB() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define VIRTQ__ARCH_WMB() __atomic_thread_fence(__ATOMIC_RELEASE)
#define VIRTQ__ARCH_DMA_MB() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define VIRTQ__ARCH_DMA_RMB() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define VIRTQ__ARCH_DMA_WMB() __atomic_thread_fence(__ATOMIC_RELEASE)
#endif

#ifndef VIRTQ_MB
#define VIRTQ_MB() VIRTQ__ARCH_MB()
#endif
#ifndef VIRTQ_RMB
#define VIRTQ_RMB() VIRTQ__ARCH_RMB()
#endif
#ifndef VIRTQ_WMB
#define VIRTQ_WMB() VIRTQ__ARCH_WMB()
#endif
#ifndef VIRTQ_DMA_MB
#define VIRTQ_DMA_MB() VIRTQ__ARCH_DMA_MB()
#endif
#ifndef VIRTQ_DMA_RMB
#define VIRTQ_DMA_RMB() VIRTQ__ARCH_DMA_RMB()
#endif
#ifndef VIRTQ_DMA_WMB
#define VIRTQ_DMA_WMB() VIRTQ__ARCH_DMA_WMB()
#endif
#ifndef VIRTQ_CPU_RELAX
#define VIRTQ_CPU_RELAX() VIRTQ__ARCH_RELAX()
#endif
#ifndef VIRTQ__IO_BEFORE_WRITE
#define VIRTQ__IO_BEFORE_WRITE() VIRTQ__COMPILER_BARRIER()
#endif
#ifndef VIRTQ__IO_AFTER_READ
#define VIRTQ__IO_AFTER_READ() VIRTQ__COMPILER_BARRIER()
#endif

/* Interrupt mask and wait-for-interrupt, for the WFI strategy.  wfi must be
   issued with interrupts masked after the last "nothing yet" check, or an
   interrupt landing in between is taken before wfi and the wfi then sleeps
   with nothing left to wake it.  RISC-V and Arm wake from wfi on a pending
   enabled interrupt even while it is masked globally. */
#if !defined(VIRTQ_WFI)
#if defined(__riscv)
/* CSR instructions spelled with .insn (SYSTEM opcode 0x73; funct3 3 is
   csrrc, 2 is csrrs) so plain -march=rv64gc builds need no _zicsr. */
#if defined(VIRTQ_RISCV_SMODE)
#define VIRTQ__STATUS_CSR "0x100" /* sstatus */
#define VIRTQ__STATUS_IE 2ul      /* SIE */
#else
#define VIRTQ__STATUS_CSR "0x300" /* mstatus */
#define VIRTQ__STATUS_IE 8ul      /* MIE */
#endif
static inline unsigned long virtq__irq_save(void)
{
    unsigned long old;
    __asm__ __volatile__(".insn i 0x73, 3, %0, %1, " VIRTQ__STATUS_CSR
                         : "=r"(old) : "r"(VIRTQ__STATUS_IE) : "memory");
    return old & VIRTQ__STATUS_IE;
}
static inline void virtq__irq_restore(unsigned long flags)
{
    unsigned long ignored;
    __asm__ __volatile__(".insn i 0x73, 2, %0, %1, " VIRTQ__STATUS_CSR
                         : "=r"(ignored) : "r"(flags) : "memory");
    (void)ignored;
}
#define VIRTQ_IRQ_SAVE() virtq__irq_save()
#define VIRTQ_IRQ_RESTORE(f) virtq__irq_restore(f)
#define VIRTQ_WFI() __asm__ __volatile__("wfi" ::: "memory")
#elif defined(__aarch64__)
static inline unsigned long virtq__irq_save(void)
{
    unsigned long daif;
    __asm__ __volatile__("mrs %0, daif\n\tmsr daifset, #2" : "=r"(daif) : : "memory");
    return daif;
}
#define VIRTQ_IRQ_SAVE() virtq__irq_save()
#define VIRTQ_IRQ_RESTORE(f) __asm__ __volatile__("msr daif, %0" ::"r"(f) : "memory")
#define VIRTQ_WFI() __asm__ __volatile__("wfi" ::: "memory")
#elif defined(__arm__)
#if defined(__ARM_ARCH_PROFILE) && (__ARM_ARCH_PROFILE == 'M')
static inline unsigned long virtq__irq_save(void)
{
    unsigned long primask;
    __asm__ __volatile__("mrs %0, primask\n\tcpsid i" : "=r"(primask) : : "memory");
    return primask;
}
#define VIRTQ_IRQ_RESTORE(f) __asm__ __volatile__("msr primask, %0" ::"r"(f) : "memory")
#else
/* A/R-profile has no PRIMASK: the I bit lives in CPSR (control field). */
static inline unsigned long virtq__irq_save(void)
{
    unsigned long cpsr;
    __asm__ __volatile__("mrs %0, cpsr\n\tcpsid i" : "=r"(cpsr) : : "memory");
    return cpsr;
}
#define VIRTQ_IRQ_RESTORE(f) __asm__ __volatile__("msr cpsr_c, %0" ::"r"(f) : "memory")
#endif
#define VIRTQ_IRQ_SAVE() virtq__irq_save()
#define VIRTQ_WFI() __asm__ __volatile__("wfi" ::: "memory")
#endif
#endif
/* ==== end shim_arch.h ==== */

/* ==== begin shim_access.h ==== */
/* ---- shim_access.h: shared-memory and MMIO accesses ----------------------- */
/* Every access to memory the device also sees goes through these, so each
   is a single access of the right width that the compiler can neither
   cache nor split nor merge ("Split Virtqueues": the rings are shared). */

#if VIRTQ_USE_ATOMICS
#define VIRTQ__LD16(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define VIRTQ__LD32(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define VIRTQ__ST16(p, v) __atomic_store_n((p), (uint16_t)(v), __ATOMIC_RELAXED)
#define VIRTQ__ST32(p, v) __atomic_store_n((p), (uint32_t)(v), __ATOMIC_RELAXED)
#define VIRTQ__ST64(p, v) __atomic_store_n((p), (uint64_t)(v), __ATOMIC_RELAXED)
/* The barrier and the index access are one atomic operation here. */
#define VIRTQ__LD16_ACQUIRE(vq, p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define VIRTQ__ST16_RELEASE(vq, p, v) __atomic_store_n((p), (uint16_t)(v), __ATOMIC_RELEASE)
#else
#define VIRTQ__LD16(p) (*(const volatile uint16_t *)(p))
#define VIRTQ__LD32(p) (*(const volatile uint32_t *)(p))
#define VIRTQ__ST16(p, v) (*(volatile uint16_t *)(p) = (uint16_t)(v))
#define VIRTQ__ST32(p, v) (*(volatile uint32_t *)(p) = (uint32_t)(v))
#define VIRTQ__ST64(p, v) (*(volatile uint64_t *)(p) = (uint64_t)(v))
static inline uint16_t virtq__ld16_acquire(const struct virtq *vq, const uint16_t *p)
{
    uint16_t v = VIRTQ__LD16(p);
    /* 2.7.14 "Receiving Used Buffers": the used entries are read only
       after the index that covers them; the load above stays first. */
    /* NOLINTNEXTLINE(bugprone-branch-clone): the two differ on most arches */
    if (vq->flags & VIRTQ__Q_PLATFORM)
        VIRTQ_DMA_RMB();
    else
        VIRTQ_RMB();
    return v;
}
static inline void virtq__st16_release(const struct virtq *vq, uint16_t *p, uint16_t v)
{
    /* 2.7.13 "Supplying Buffers": descriptors and ring entries must be
       visible before the index that publishes them. */
    /* NOLINTNEXTLINE(bugprone-branch-clone): the two differ on most arches */
    if (vq->flags & VIRTQ__Q_PLATFORM)
        VIRTQ_DMA_WMB();
    else
        VIRTQ_WMB();
    VIRTQ__ST16(p, v);
}
#define VIRTQ__LD16_ACQUIRE(vq, p) virtq__ld16_acquire((vq), (p))
#define VIRTQ__ST16_RELEASE(vq, p, v) virtq__st16_release((vq), (p), (v))
#endif

/* Full barrier between our store of an index/event and our load of the
   device's (avail.idx -> used.flags/avail_event; used_event -> used.idx):
   the store-load pair that otherwise loses a notification or an interrupt. */
static inline void virtq__mb(const struct virtq *vq)
{
    /* NOLINTNEXTLINE(bugprone-branch-clone): the two differ on most arches */
    if (vq->flags & VIRTQ__Q_PLATFORM)
        VIRTQ_DMA_MB();
    else
        VIRTQ_MB();
}

/* MMIO.  Like Linux's writel/readl: a write is ordered after earlier memory
   writes (so the device sees avail.idx before the notify), a read before
   later memory reads. */
#ifndef VIRTQ_MMIO_READ32
static inline uint32_t virtq__mmio_read32(uintptr_t a)
{
    uint32_t v = *(const volatile uint32_t *)a;
    VIRTQ__IO_AFTER_READ(); /* the register value precedes dependent reads */
    return v;
}
#define VIRTQ_MMIO_READ32(a) virtq__mmio_read32(a)
#endif
#ifndef VIRTQ_MMIO_READ16
static inline uint16_t virtq__mmio_read16(uintptr_t a)
{
    uint16_t v = *(const volatile uint16_t *)a;
    VIRTQ__IO_AFTER_READ(); /* as for 32-bit reads */
    return v;
}
#define VIRTQ_MMIO_READ16(a) virtq__mmio_read16(a)
#endif
#ifndef VIRTQ_MMIO_READ8
static inline uint8_t virtq__mmio_read8(uintptr_t a)
{
    uint8_t v = *(const volatile uint8_t *)a;
    VIRTQ__IO_AFTER_READ(); /* as for 32-bit reads */
    return v;
}
#define VIRTQ_MMIO_READ8(a) virtq__mmio_read8(a)
#endif
#ifndef VIRTQ_MMIO_WRITE32
static inline void virtq__mmio_write32(uintptr_t a, uint32_t v)
{
    VIRTQ__IO_BEFORE_WRITE(); /* prior ring writes reach memory first */
    *(volatile uint32_t *)a = v;
}
#define VIRTQ_MMIO_WRITE32(a, v) virtq__mmio_write32((a), (v))
#endif
/* 8- and 16-bit writes: virtio-pci's common configuration is accessed at
   each field's natural width ("Virtio Over PCI Bus", driver requirements). */
#ifndef VIRTQ_MMIO_WRITE16
static inline void virtq__mmio_write16(uintptr_t a, uint16_t v)
{
    VIRTQ__IO_BEFORE_WRITE(); /* as for 32-bit writes */
    *(volatile uint16_t *)a = v;
}
#define VIRTQ_MMIO_WRITE16(a, v) virtq__mmio_write16((a), (uint16_t)(v))
#endif
#ifndef VIRTQ_MMIO_WRITE8
static inline void virtq__mmio_write8(uintptr_t a, uint8_t v)
{
    VIRTQ__IO_BEFORE_WRITE(); /* as for 32-bit writes */
    *(volatile uint8_t *)a = v;
}
#define VIRTQ_MMIO_WRITE8(a, v) virtq__mmio_write8((a), (uint8_t)(v))
#endif
/* ==== end shim_access.h ==== */

/* ==== begin shim_dma.h ==== */
/* ---- shim_dma.h: device addresses and cache maintenance for DMA --------- */

/* DMA.  Default: the device sees CPU addresses 1:1 and caches are coherent
   (QEMU virt, most SoCs with an IOMMU off).  On a non-coherent system,
   place the rings in uncached (or cache-coherent) memory and define the
   sync hooks, which cover data buffers only: virtq calls SYNC_FOR_DEVICE
   on each buffer (and indirect table) in virtq_add().  After virtq_get()
   the caller syncs its writable buffers with VIRTQ_DMA_SYNC_FOR_CPU, from
   another file through virtq_dma_sync_for_cpu().  A ring cannot be kept
   right by cache operations: with the split ring's 16/2/4 alignment
   ("Split Virtqueues") the used ring shares a cache line with the end
   of the available ring, each written by a different side, and a packed
   ring's descriptors ("Packed Virtqueues") are rewritten in place by both. */
#ifndef VIRTQ_VIRT_TO_DMA
#define VIRTQ_VIRT_TO_DMA(p) ((uint64_t)(uintptr_t)(p))
#endif
#ifndef VIRTQ_DMA_SYNC_FOR_DEVICE
#define VIRTQ_DMA_SYNC_FOR_DEVICE(p, len, device_writes) ((void)0)
#endif
#ifndef VIRTQ_DMA_SYNC_FOR_CPU
#define VIRTQ_DMA_SYNC_FOR_CPU(p, len) ((void)0)
#endif

VIRTQ_API void virtq_dma_sync_for_device(const void *p, size_t len, bool device_writes)
{
    (void)p; /* each is unused by the default (coherent) hook */
    (void)len;
    (void)device_writes;
    VIRTQ_DMA_SYNC_FOR_DEVICE(p, len, device_writes);
}

VIRTQ_API void virtq_dma_sync_for_cpu(const void *p, size_t len)
{
    (void)p;
    (void)len;
    VIRTQ_DMA_SYNC_FOR_CPU(p, len);
}
/* ==== end shim_dma.h ==== */

/* ==== begin shim_log.h ==== */
/* ---- shim_log.h: VIRTQ_ASSERT and VIRTQ_LOG ------------------------------ */

/* Off unless the user supplies them.  VIRTQ_ASSERT(x) checks virtq's own
   private invariants (free-list heads, descriptor counts): a failure is a
   virtq bug or memory corruption, never a caller's bad argument (those
   return VIRTQ_EINVAL) nor a hostile device (that latches the queue
   broken).  VIRTQ_LOG(fmt, ...) is printf-like, one line per event (why a
   queue broke, ring_broken.h). */
#ifndef VIRTQ_ASSERT
#define VIRTQ_ASSERT(x) ((void)0)
#endif
#ifndef VIRTQ_LOG
#define VIRTQ_LOG(...) ((void)0)
#endif
/* ==== end shim_log.h ==== */

/* ==== begin shim_wait.h ==== */
/* ---- shim_wait.h: wait strategies built in, clock, WFI/OS/custom hooks --- */

/* Which wait strategies are built in: a bit mask of VIRTQ_WAIT_*.  SPIN is
   always there (it is the fallback before interrupts are routed). */
#ifndef VIRTQ_WAIT
#define VIRTQ_WAIT VIRTQ_WAIT_SPIN
#endif
#if (VIRTQ_WAIT) <= 0 || ((VIRTQ_WAIT) & ~15) != 0
#error "virtq: VIRTQ_WAIT must be VIRTQ_WAIT_SPIN | _WFI | _OS | _CUSTOM"
#endif

/* Clock: VIRTQ_NOW_US() returns a monotonic microsecond count.  Without it
   waits are bounded by iterations: VIRTQ_SPINS_PER_US polls per microsecond
   of timeout (a rough figure; err towards more). */
#ifndef VIRTQ_SPINS_PER_US
#define VIRTQ_SPINS_PER_US 4u
#endif

#if ((VIRTQ_WAIT) & VIRTQ_WAIT_WFI)
#if !defined(VIRTQ_WFI) || !defined(VIRTQ_IRQ_SAVE) || !defined(VIRTQ_IRQ_RESTORE)
#error "virtq: VIRTQ_WAIT_WFI needs VIRTQ_WFI/VIRTQ_IRQ_SAVE/VIRTQ_IRQ_RESTORE (built in for RISC-V and Arm)"
#endif
#if !defined(VIRTQ_NOW_US)
#error "virtq: VIRTQ_WAIT_WFI needs VIRTQ_NOW_US() to bound the wait"
#endif
#if !defined(VIRTQ_WFI_ALARM_US) && !defined(VIRTQ_WFI_TICK_US)
/* A wfi must have a wake-up source that does not depend on the device, or
   a device that never completes hangs the CPU: either an alarm (define
   VIRTQ_WFI_ALARM_US(deadline_us)) or a periodic interrupt you promise
   (define VIRTQ_WFI_TICK_US as its period). */
#error "virtq: VIRTQ_WAIT_WFI needs VIRTQ_WFI_ALARM_US(deadline) or VIRTQ_WFI_TICK_US"
#endif
#endif

#if ((VIRTQ_WAIT) & VIRTQ_WAIT_OS)
#if !defined(VIRTQ_OS_WAIT) || !defined(VIRTQ_OS_WAKE) || !defined(VIRTQ_NOW_US)
/* VIRTQ_OS_WAIT(ctx, seqptr, seen, timeout_us): block while *seqptr == seen
   (futex semantics), return on wake, change or timeout.
   VIRTQ_OS_WAKE(ctx): wake all waiters on ctx; callable from an ISR. */
#error "virtq: VIRTQ_WAIT_OS needs VIRTQ_OS_WAIT, VIRTQ_OS_WAKE and VIRTQ_NOW_US"
#endif
#endif

#if ((VIRTQ_WAIT) & VIRTQ_WAIT_CUSTOM)
#if !defined(VIRTQ_CUSTOM_WAIT)
/* VIRTQ_CUSTOM_WAIT(dev, vq, remaining_us): block or yield a little; virtq
   re-checks the ring and the deadline after each call. */
#error "virtq: VIRTQ_WAIT_CUSTOM needs VIRTQ_CUSTOM_WAIT(dev, vq, remaining_us)"
#endif
#endif
/* ==== end shim_wait.h ==== */

/* ==== begin errors.h ==== */
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
/* ==== end errors.h ==== */

/* ==== begin ring_broken.h ==== */
/* ---- ring_broken.h: why a queue broke (both ring kinds) ---------------- */
/* A queue latches broken on the first protocol violation and remembers
   why (enum virtq_broken_reason); one VIRTQ_LOG line per reason.  Only
   virtq_detach() emptying the queue clears it (the ring's reset). */

/* The log line of each reason, indexed by enum virtq_broken_reason
   (NONE and DETACH are not faults and log nothing). */
static const char *const virtq__broken_text[] = {
    NULL,
    "used.idx past what was published",
    "used id out of range",
    "used id is no in-flight head",
    "used id not yet published",
    "used len beyond the writable bytes",
    "device needs reset or failed",
    "broken by the caller",
    NULL,
};

/* Latch broken, keeping the first reason; one log line per reason. */
static VIRTQ__COLD void virtq__break(struct virtq *vq, enum virtq_broken_reason why)
{
    if (vq->flags & VIRTQ__Q_BROKEN)
        return;
    vq->flags |= VIRTQ__Q_BROKEN;
    vq->broken_reason = (uint16_t)why;
    if ((unsigned)why < sizeof virtq__broken_text / sizeof virtq__broken_text[0] &&
        virtq__broken_text[why] != NULL)
        VIRTQ_LOG("virtq: queue %u broken: %s (used %u)\n", vq->index, virtq__broken_text[why],
                  vq->last_used);
}

VIRTQ_API enum virtq_broken_reason virtq_broken_reason(const struct virtq *vq)
{
    if (vq == NULL || !(vq->flags & VIRTQ__Q_BROKEN))
        return VIRTQ_BROKEN_NONE;
    return (enum virtq_broken_reason)vq->broken_reason;
}

VIRTQ_API void virtq_break(struct virtq *vq)
{
    if (vq != NULL)
        virtq__break(vq, VIRTQ_BROKEN_CALLER);
}
/* ==== end ring_broken.h ==== */

/* ==== begin ring_select.h ==== */
/* ---- ring_select.h: which ring kinds are built (VIRTQ_RINGS) ------------- */
/* A mask of VIRTQ_RING_SPLIT | VIRTQ_RING_PACKED (numbers from 1, so a
   misspelt name is 0 and stops here).  With one kind built in, every
   dispatch below is empty or unconditional: no test, no pointer. */
#ifndef VIRTQ_RINGS
#define VIRTQ_RINGS VIRTQ_RING_SPLIT
#endif
#if (VIRTQ_RINGS) != VIRTQ_RING_SPLIT && (VIRTQ_RINGS) != VIRTQ_RING_PACKED && \
    (VIRTQ_RINGS) != (VIRTQ_RING_SPLIT | VIRTQ_RING_PACKED)
#error "virtq: VIRTQ_RINGS must be VIRTQ_RING_SPLIT, VIRTQ_RING_PACKED or both, or'ed"
#endif

/* Each public ring function starts with VIRTQ__RING_DISPATCH(vq, packed
   call): the packed body runs instead of the split one for a packed
   queue.  virtq_init() chooses by the negotiated features. */
#if (VIRTQ_RINGS) == VIRTQ_RING_SPLIT
#define VIRTQ__RING_DISPATCH(vq, call)
#define VIRTQ__RING_DISPATCH_VOID(vq, call)
#define VIRTQ__RING_DISPATCH_INIT(features, call)
#elif (VIRTQ_RINGS) == VIRTQ_RING_PACKED
#define VIRTQ__RING_DISPATCH(vq, call) return call;
#define VIRTQ__RING_DISPATCH_VOID(vq, call) \
    {                                       \
        call;                               \
        return;                             \
    }
#define VIRTQ__RING_DISPATCH_INIT(features, call) \
    return ((features) & VIRTQ_FEATURE(VIRTIO_F_RING_PACKED)) ? call : VIRTQ_ENOTSUP;
#else
#define VIRTQ__RING_DISPATCH(vq, call)                              \
    if ((vq) != NULL && ((vq)->flags & VIRTQ__Q_PACKED) != 0u) \
        return call;
#define VIRTQ__RING_DISPATCH_VOID(vq, call)                         \
    if ((vq) != NULL && ((vq)->flags & VIRTQ__Q_PACKED) != 0u) { \
        call;                                                       \
        return;                                                     \
    }
#define VIRTQ__RING_DISPATCH_INIT(features, call)          \
    if ((features) & VIRTQ_FEATURE(VIRTIO_F_RING_PACKED)) \
        return call;
#endif

/* Negotiation ("Reserved Feature Bits"): a build with the packed ring
   accepts RING_PACKED whenever the device offers it; a packed-only build
   requires it. */
#if ((VIRTQ_RINGS) & VIRTQ_RING_PACKED)
#define VIRTQ__RING_FEATURES VIRTQ_FEATURE(VIRTIO_F_RING_PACKED)
#else
#define VIRTQ__RING_FEATURES ((uint64_t)0)
#endif
#if (VIRTQ_RINGS) == VIRTQ_RING_PACKED
#define VIRTQ__RING_REQUIRED VIRTQ_FEATURE(VIRTIO_F_RING_PACKED)
#else
#define VIRTQ__RING_REQUIRED ((uint64_t)0)
#endif
/* ==== end ring_select.h ==== */

/* ==== begin ring_packed.h ==== */
/* ---- ring_packed.h: the packed virtqueue ("Packed Virtqueues") ------------ */
/* Driver side only, built when VIRTQ_RINGS has VIRTQ_RING_PACKED; the
   public ring functions (ring_split.h) hand a packed queue to these.
   As for the split ring, device-visible memory is written, never trusted:
   chain lengths, cookies and posted lengths live in the private slots,
   indexed by buffer id (not by descriptor position), and every used
   descriptor is checked before anything is freed.

   A position is pos | wrap << 15: the ring offset with the wrap counter
   that goes with it, as in the event suppression "desc" field ("Driver
   and Device Ring Wrap Counters": both counters start at 1).
     avail_idx   where the next chain goes (Driver Ring Wrap Counter)
     published_idx  the first position not yet made available: the head of
                 the oldest unpublished chain
     last_used   where the device writes its next used descriptor
   Descriptors from published_idx to avail_idx are added but not visible; the
   published ones in flight add up to last_used..published_idx.  A buffer may
   stay in flight while the ring laps past it many times (the device uses
   out of order), so "published?" is a mark in its slot, never a position:
   each add numbers its buffer with the batch being added (slot.tail, the
   batch number in mask), and virtq_publish() closes the batch by counting
   on, so "unpublished" is "numbered with the current batch" and publishing
   any batch is O(1).  The flags of the batch's first head wait in align,
   and where they go in avail_event (neither has another use in a packed
   ring), until virtq_publish() writes them. */
#if ((VIRTQ_RINGS) & VIRTQ_RING_PACKED)

#define VIRTQ__PW_WRAP 0x8000u
#define VIRTQ__PW_POS 0x7fffu
#define VIRTQ__PDESC(vq) ((struct pvirtq_desc *)(void *)(vq)->desc)
/* Driver Area: the driver event suppression structure (we write it). */
#define VIRTQ__PDRIVER(vq) ((struct pvirtq_event_suppress *)(void *)(vq)->avail)
/* Device Area: the device event suppression structure (we only read it). */
#define VIRTQ__PDEVICE(vq) ((struct pvirtq_event_suppress *)(void *)(vq)->used)
#define VIRTQ__P_BATCH(vq) ((vq)->mask) /* number of the batch being added: 1..0xffff */
#define VIRTQ__P_HEADF(vq) ((vq)->align) /* flags of the head at published_idx */
/* Its descriptor, kept in avail_event (a uint16_t *; a descriptor is 16-aligned). */
#define VIRTQ__P_HEADP(vq) ((struct pvirtq_desc *)(void *)(vq)->avail_event)
#define VIRTQ__P_SET_HEADP(vq, d) ((vq)->avail_event = (uint16_t *)(void *)(d))
#define VIRTQ__P_LIVE (VIRTQ__Q_READY | VIRTQ__Q_BROKEN)

#if !defined(__OPTIMIZE_SIZE__) && (defined(__GNUC__) || defined(__clang__))
/* One segment straight and the common two and three unrolled (as
   ring_split.h does), other chains out of line, and add, publish and get
   inlined into the public functions; none of it when optimising for
   size (one copy of each, called). */
#define VIRTQ__P_ADD1_FAST 1
#define VIRTQ__P_APART static __attribute__((noinline))
#define VIRTQ__P_HOT VIRTQ__INLINE
#else
#define VIRTQ__P_ADD1_FAST 0
#define VIRTQ__P_APART static
#define VIRTQ__P_HOT static
#endif

/* Position pw moved on by n (<= num) descriptors; the wrap bit flips when
   it passes the end of the ring. */
VIRTQ__INLINE uint16_t virtq__pw_add(const struct virtq *vq, uint16_t pw, uint32_t n)
{
    uint32_t p = (pw & VIRTQ__PW_POS) + n;
    if (p >= vq->num)
        return (uint16_t)((p - vq->num) | ((pw & VIRTQ__PW_WRAP) ^ VIRTQ__PW_WRAP));
    return (uint16_t)(p | (pw & VIRTQ__PW_WRAP));
}

/* Descriptors from position a forward to position b, in [0, 2 num): two
   laps tell the wrap bits apart.  Values up to num mean b is at or after
   a; larger ones that b is behind a. */
VIRTQ__INLINE uint32_t virtq__pw_dist(const struct virtq *vq, uint16_t a, uint16_t b)
{
    int32_t d = (int32_t)(b & VIRTQ__PW_POS) - (int32_t)(a & VIRTQ__PW_POS);
    if ((a ^ b) & VIRTQ__PW_WRAP)
        d += vq->num;
    if (d < 0)
        d += 2 * (int32_t)vq->num;
    return (uint32_t)d;
}

/* AVAIL equal to the wrap counter, USED its inverse: "available" in the
   lap of position pw ("Driver and Device Ring Wrap Counters"). */
VIRTQ__INLINE uint16_t virtq__pavail(uint16_t pw)
{
    return (uint16_t)((pw & VIRTQ__PW_WRAP) ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED);
}

/* Empty ring: "The descriptor ring is zero-initialized", event structures
   0 (ENABLE), every buffer id free, all positions 0 with wrap 1. */
static void virtq__packed_reset(struct virtq *vq)
{
    volatile uint32_t *w = (volatile uint32_t *)(void *)vq->desc;
    size_t i, words = VIRTQ_PACKED_RING_BYTES(vq->num) / 4u;
    for (i = 0; i < words; i++)
        w[i] = 0;
    for (i = 0; i < vq->num; i++) {
        vq->slot[i].cookie = NULL;
        vq->slot[i].wlen = 0;
        vq->slot[i].ndesc = 0;
        vq->slot[i].pos = 0;
        vq->slot[i].tail = 0; /* batch 0: older than any batch */
        vq->slot[i].next = (uint16_t)(i + 1u); /* the last one is never followed */
    }
    vq->num_free = vq->num;
    vq->free_head = 0;
    vq->avail_idx = VIRTQ__PW_WRAP;
    vq->published_idx = VIRTQ__PW_WRAP;
    vq->last_used = VIRTQ__PW_WRAP;
    VIRTQ__P_BATCH(vq) = 1;
    VIRTQ__P_HEADF(vq) = 0;
    VIRTQ__P_SET_HEADP(vq, &VIRTQ__PDESC(vq)[0]);
    vq->detach_pos = 0;
    vq->flags &= (uint16_t)~(VIRTQ__Q_BROKEN | VIRTQ__Q_INTR_OFF | VIRTQ__Q_OWED |
                             VIRTQ__Q_DELAYED);
    vq->broken_reason = VIRTQ_BROKEN_NONE;
}

static int virtq__packed_init(struct virtq *vq, uint32_t num, uint32_t align, void *mem,
                              struct virtq_slot *slots, uint64_t features)
{
    uintptr_t base = (uintptr_t)mem;
    if (vq == NULL || mem == NULL || slots == NULL || virtq_packed_ring_bytes(num) == 0u)
        return VIRTQ_EINVAL;
    /* "Structure Size and Alignment": descriptor ring 16, the event
       structures 4 (they follow at 16 num and 16 num + 4). */
    if ((base & 15u) != 0u)
        return VIRTQ_EINVAL;
    if (features & VIRTQ__FEATURES_OUT)
        return VIRTQ_ENOTSUP;
    vq->desc = (struct virtq_desc *)mem;
    vq->avail = (struct virtq_avail *)(void *)(base + (uintptr_t)16u * num);
    vq->used = (struct virtq_used *)(void *)(base + (uintptr_t)16u * num + 4u);
    vq->used_event = &VIRTQ__PDRIVER(vq)->desc;
    vq->slot = slots;
    vq->num = (uint16_t)num; /* 32768 fits: positions use 15 bits */
    (void)align; /* "Structure Size and Alignment" fixes the layout */
    vq->index = 0;
    vq->flags = VIRTQ__Q_READY | VIRTQ__Q_PACKED;
    if (features & VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX))
        vq->flags |= VIRTQ__Q_EVENT_IDX;
    if (features & VIRTQ_FEATURE(VIRTIO_F_INDIRECT_DESC))
        vq->flags |= VIRTQ__Q_INDIRECT;
    if (features & VIRTQ_FEATURE(VIRTIO_F_ORDER_PLATFORM))
        vq->flags |= VIRTQ__Q_PLATFORM;
    virtq__packed_reset(vq);
    return VIRTQ_OK;
}

/* Why an add was refused, worked out only once it was. */
static VIRTQ__COLD int virtq__packed_add_error(const struct virtq *vq, const struct virtq_buf *bufs,
                                               unsigned out, unsigned in, const void *cookie)
{
    unsigned i;
    if (vq == NULL || bufs == NULL || cookie == NULL || !(vq->flags & VIRTQ__Q_READY))
        return VIRTQ_EINVAL;
    if (vq->flags & VIRTQ__Q_BROKEN)
        return VIRTQ_EBROKEN;
    /* "Scatter-Gather Support": a list is at most Queue Size long. */
    if (out > vq->num || in > vq->num || out + in == 0u || out + in > vq->num)
        return VIRTQ_EINVAL;
    for (i = 0; i < out + in; i++)
        if (bufs[i].addr == NULL || bufs[i].len == 0u)
            return VIRTQ_EINVAL;
    return VIRTQ_ENOSPC;
}

/* Write one descriptor but its flags.  Nothing here is visible before the
   flags of the oldest unpublished head, so the field order is free. */
VIRTQ__INLINE void virtq__pdesc_set(struct pvirtq_desc *d, const void *addr, uint32_t len,
                                    uint16_t id, int device_writes)
{
    (void)device_writes; /* used by some VIRTQ_DMA_SYNC_FOR_DEVICE only */
    VIRTQ_DMA_SYNC_FOR_DEVICE(addr, len, device_writes);
    VIRTQ__ST64(&d->addr, VIRTQ_VIRT_TO_DMA(addr));
    VIRTQ__ST32(&d->len, len);
    VIRTQ__ST16(&d->id, id);
}

/* The chain of n descriptors from head (avail_idx) to end, head flags
   head_flags, is written: take buffer id off the free list, record it in
   private state numbered with the batch being added (unpublished), and
   either keep the head flags for virtq_publish() (the batch's first
   chain) or write them now (a later chain: the device cannot pass the
   unpublished head before it, "Polling of available and used
   descriptors"). */
VIRTQ__INLINE void virtq__packed_commit(struct virtq *vq, uint16_t id, uint16_t head, uint16_t end,
                                        uint16_t n, uint16_t head_flags, uint32_t wlen,
                                        void *cookie)
{
    struct virtq_slot *s = &vq->slot[id];
    vq->free_head = s->next;
    s->cookie = cookie;
    s->wlen = wlen;
    s->ndesc = n;
    s->tail = VIRTQ__P_BATCH(vq);
    if (head == vq->published_idx) {
        VIRTQ__P_HEADF(vq) = head_flags;
        VIRTQ__P_SET_HEADP(vq, &VIRTQ__PDESC(vq)[head & VIRTQ__PW_POS]);
    } else
        VIRTQ__ST16(&VIRTQ__PDESC(vq)[head & VIRTQ__PW_POS].flags, head_flags);
    vq->avail_idx = end;
}

/* A refused add wrote the flags of descriptors 1..written-1 after
   avail_idx as available in this lap.  Nothing can reach them now, but a
   later chain whose head lands before them would expose them with its own
   flags, so turn each back into "not available" (AVAIL of the last lap,
   USED of this one: what a skipped inner descriptor looks like), and
   give back the taken descriptors the free count was charged already. */
static VIRTQ__COLD int virtq__packed_add_undo(struct virtq *vq, unsigned written, unsigned taken)
{
    uint16_t pw = vq->avail_idx;
    unsigned k;
    vq->num_free = (uint16_t)(vq->num_free + taken);
    for (k = 1; k < written; k++) {
        pw = virtq__pw_add(vq, pw, 1);
        VIRTQ__ST16(&VIRTQ__PDESC(vq)[pw & VIRTQ__PW_POS].flags,
                    virtq__pavail(pw) ^ (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED));
    }
    return VIRTQ_EINVAL;
}

/* One segment, the queue and the count checked (out + in == 1, so out
   above 1 means the sum wrapped): the segment is checked before anything
   is written, so a refusal needs no undo.  The steps in the order that
   keeps fewest values live. */
VIRTQ__INLINE int virtq__packed_add1(struct virtq *vq, const struct virtq_buf *b, unsigned out,
                                     void *cookie)
{
    const void *addr = b->addr;
    uint32_t len = b->len, wlen = 0;
    struct pvirtq_desc *d;
    struct virtq_slot *s;
    uint16_t head, id, flags, end;
    if (VIRTQ__UNLIKELY(addr == NULL || len == 0u))
        return VIRTQ_EINVAL;
    head = vq->avail_idx;
    flags = virtq__pavail(head); /* no NEXT: the chain ends here */
    if (VIRTQ__LIKELY(out == 0u)) { /* a receive buffer, the usual one */
        flags |= VIRTQ_DESC_F_WRITE;
        wlen = len;
    } else if (VIRTQ__UNLIKELY(out != 1u)) {
        return VIRTQ_EINVAL; /* out + in wrapped */
    }
    id = vq->free_head;
    d = &VIRTQ__PDESC(vq)[head & VIRTQ__PW_POS];
    virtq__pdesc_set(d, addr, len, id, out == 0u);
    s = &vq->slot[id];
    vq->free_head = s->next;
    s->cookie = cookie;
    s->wlen = wlen;
    s->ndesc = 1;
    s->tail = VIRTQ__P_BATCH(vq);
    if (head == vq->published_idx) { /* the batch's first head: publish writes it */
        VIRTQ__P_HEADF(vq) = flags;
        VIRTQ__P_SET_HEADP(vq, d);
    } else {
        VIRTQ__ST16(&d->flags, flags);
    }
    end = (uint16_t)(head + 1u);
    if ((end & VIRTQ__PW_POS) == vq->num) /* past the end: the next lap */
        end = (uint16_t)((head & VIRTQ__PW_WRAP) ^ VIRTQ__PW_WRAP);
    vq->avail_idx = end;
    vq->num_free--;
    return VIRTQ_OK;
}

/* Where a chain is being written: ring position (offset, wrap bit), the
   AVAIL/USED pair of its lap, writable bytes so far, the head's flags. */
struct virtq__pchain {
    uint16_t pos, wrap, avail, head_flags;
    uint64_t wlen;
};

/* Descriptor i of n, buffer id, at the chain's position: 0 for a bad
   segment (nothing written).  "Placing Available Buffers Into The
   Descriptor Ring": flags AVAIL = wrap counter, USED = its inverse, NEXT
   on all but the last ("Next Flag: Descriptor Chaining"), Buffer ID in
   every one (the spec reads it from the last).  The head's flags are kept:
   it is made available last.  The wrap is tracked here: n <= num, so a
   chain crosses the end of the ring at most once. */
VIRTQ__INLINE int virtq__packed_put(struct pvirtq_desc *ring, uint16_t num, struct virtq__pchain *ch,
                                    const struct virtq_buf *b, unsigned i, unsigned out,
                                    unsigned n, uint16_t id)
{
    const void *addr = b->addr;
    uint32_t len = b->len;
    uint16_t flags = (uint16_t)(ch->avail | (i + 1u < n ? VIRTQ_DESC_F_NEXT : 0u));
    struct pvirtq_desc *d = &ring[ch->pos];
    if (VIRTQ__UNLIKELY(addr == NULL || len == 0u))
        return 0;
    if (i >= out) {
        flags |= VIRTQ_DESC_F_WRITE;
        ch->wlen += len;
    }
    virtq__pdesc_set(d, addr, len, id, i >= out);
    if (i == 0u)
        ch->head_flags = flags;
    else
        VIRTQ__ST16(&d->flags, flags);
    if (++ch->pos == num) { /* past the end: the next lap */
        ch->pos = 0;
        ch->wrap ^= VIRTQ__PW_WRAP;
        ch->avail ^= VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED;
    }
    return 1;
}

/* A chain of n (1..num_free) descriptors, the queue and the count checked
   (out + in may have wrapped).  The positions from avail_idx on are free:
   the device does not read them before the oldest unpublished head is
   made available; a bad segment found half-way undoes the flags
   written. */
VIRTQ__P_APART int virtq__packed_chain(struct virtq *vq, const struct virtq_buf *bufs,
                                       unsigned out, unsigned n, void *cookie)
{
    struct pvirtq_desc *ring = VIRTQ__PDESC(vq);
    struct virtq__pchain ch;
    uint16_t head = vq->avail_idx, id = vq->free_head, num = vq->num;
    unsigned i;
    if (VIRTQ__UNLIKELY(n < out))
        return VIRTQ_EINVAL; /* out + in wrapped */
    ch.pos = (uint16_t)(head & VIRTQ__PW_POS);
    ch.wrap = (uint16_t)(head & VIRTQ__PW_WRAP);
    ch.avail = virtq__pavail(head);
    ch.head_flags = 0;
    ch.wlen = 0;
    for (i = 0; i < n; i++)
        if (VIRTQ__UNLIKELY(!virtq__packed_put(ring, num, &ch, &bufs[i], i, out, n, id)))
            return virtq__packed_add_undo(vq, i, 0);
    if (VIRTQ__UNLIKELY(ch.wlen > UINT32_MAX))
        return virtq__packed_add_undo(vq, n, 0); /* a used length could not say it */
    vq->num_free = (uint16_t)(vq->num_free - n);
    virtq__packed_commit(vq, id, head, (uint16_t)(ch.pos | ch.wrap), (uint16_t)n, ch.head_flags,
                         (uint32_t)ch.wlen, cookie);
    return VIRTQ_OK;
}

#if VIRTQ__P_ADD1_FAST
/* virtq__packed_chain() for a constant n that does not reach past the end
   of the ring (one lap: the same AVAIL/USED pair on every descriptor), in
   straight-line code; a chain that wraps takes the loop. */
VIRTQ__INLINE int virtq__packed_run(struct virtq *vq, const struct virtq_buf *bufs, unsigned out,
                                    unsigned n, void *cookie)
{
    struct pvirtq_desc *d;
    uint64_t wlen = 0;
    uint16_t head = vq->avail_idx, id, avail, head_flags = 0, end;
    unsigned i;
    if (VIRTQ__UNLIKELY((head & VIRTQ__PW_POS) + n > vq->num || n < out))
        return virtq__packed_chain(vq, bufs, out, n, cookie);
    id = vq->free_head;
    avail = virtq__pavail(head);
    d = &VIRTQ__PDESC(vq)[head & VIRTQ__PW_POS];
    vq->num_free = (uint16_t)(vq->num_free - n); /* put back by an undo */
    VIRTQ__UNROLL
    for (i = 0; i < n; i++) {
        const void *addr = bufs[i].addr;
        uint32_t len = bufs[i].len;
        uint16_t flags = (uint16_t)(avail | (i + 1u < n ? VIRTQ_DESC_F_NEXT : 0u));
        if (VIRTQ__UNLIKELY(addr == NULL || len == 0u))
            return virtq__packed_add_undo(vq, i, n);
        if (i >= out) {
            flags |= VIRTQ_DESC_F_WRITE;
            wlen += len;
        }
        virtq__pdesc_set(&d[i], addr, len, id, i >= out);
        if (i == 0u)
            head_flags = flags; /* the head is made available last */
        else
            VIRTQ__ST16(&d[i].flags, flags);
    }
    if (VIRTQ__UNLIKELY(wlen > UINT32_MAX))
        return virtq__packed_add_undo(vq, n, n); /* a used length could not say it */
    end = (uint16_t)(head + n);
    if ((end & VIRTQ__PW_POS) == vq->num) /* ends at the end: the next lap */
        end = (uint16_t)((head & VIRTQ__PW_WRAP) ^ VIRTQ__PW_WRAP);
    virtq__packed_commit(vq, id, head, end, (uint16_t)n, head_flags, (uint32_t)wlen, cookie);
    return VIRTQ_OK;
}

/* Two and three segments (a request header + data + status) unrolled. */
static __attribute__((noinline)) int virtq__packed_add_chain(struct virtq *vq,
                                                             const struct virtq_buf *bufs,
                                                             unsigned out, unsigned n,
                                                             void *cookie)
{
    if (n == 2u)
        return virtq__packed_run(vq, bufs, out, 2u, cookie);
    if (n == 3u)
        return virtq__packed_run(vq, bufs, out, 3u, cookie);
    return virtq__packed_chain(vq, bufs, out, n, cookie);
}
#else
#define virtq__packed_add_chain virtq__packed_chain
#endif

VIRTQ__P_HOT int virtq__packed_add(struct virtq *vq, const struct virtq_buf *bufs, unsigned out,
                             unsigned in, void *cookie)
{
    unsigned n = out + in;
    /* One test for every refusal (as the split ring): NULLs, not ready or
       broken, n == 0 or beyond the free descriptors (so never beyond the
       ring), out + in overflowing.  A free descriptor means a free buffer
       id: each id in flight holds at least one descriptor. */
    if (VIRTQ__UNLIKELY(vq == NULL || (vq->flags & VIRTQ__P_LIVE) != VIRTQ__Q_READY ||
                        bufs == NULL || n - 1u >= vq->num_free || cookie == NULL))
        return virtq__packed_add_error(vq, bufs, out, in, cookie);
#if VIRTQ__P_ADD1_FAST
    if (n == 1u)
        return virtq__packed_add1(vq, bufs, out, cookie);
#endif
    return virtq__packed_add_chain(vq, bufs, out, n, cookie);
}

static int virtq__packed_add_indirect(struct virtq *vq, const struct virtq_buf *bufs,
                                      unsigned out, unsigned in, struct virtq_desc *table,
                                      void *cookie)
{
    struct pvirtq_desc *t = (struct pvirtq_desc *)(void *)table;
    uint64_t wlen = 0;
    uint16_t id, head;
    unsigned i, n = out + in;
    if (vq == NULL || bufs == NULL || cookie == NULL ||
        (vq->flags & VIRTQ__P_LIVE) != VIRTQ__Q_READY || n == 0u || n > vq->num || n < out) {
        int rc = virtq__packed_add_error(vq, bufs, out, in, cookie);
        return rc == VIRTQ_ENOSPC ? VIRTQ_EINVAL : rc;
    }
    if (table == NULL || ((uintptr_t)table & 15u) != 0u)
        return VIRTQ_EINVAL;
    if (!(vq->flags & VIRTQ__Q_INDIRECT))
        return VIRTQ_ENOTSUP; /* "Indirect Flag: Scatter-Gather Support" needs the feature */
    if (vq->num_free == 0u)
        return VIRTQ_ENOSPC;
    /* The table is struct pvirtq_desc entries (same size as struct
       virtq_desc): WRITE is the only valid flag, Buffer ID reserved, and
       the entries follow each other with no NEXT. */
    for (i = 0; i < n; i++) {
        int w = i >= out;
        if (bufs[i].addr == NULL || bufs[i].len == 0u)
            return VIRTQ_EINVAL;
        if (w)
            wlen += bufs[i].len;
        virtq__pdesc_set(&t[i], bufs[i].addr, bufs[i].len, 0, w);
        VIRTQ__ST16(&t[i].flags, w ? VIRTQ_DESC_F_WRITE : 0u);
    }
    if (wlen > UINT32_MAX)
        return VIRTQ_EINVAL;
    id = vq->free_head;
    head = vq->avail_idx;
    /* One ring descriptor: INDIRECT, never with NEXT; WRITE is reserved on
       it ("Indirect Descriptors"). */
    virtq__pdesc_set(&VIRTQ__PDESC(vq)[head & VIRTQ__PW_POS], table, 16u * n, id, 0);
    vq->num_free--;
    virtq__packed_commit(vq, id, head, virtq__pw_add(vq, head, 1), 1,
                         (uint16_t)(virtq__pavail(head) | VIRTQ_DESC_F_INDIRECT),
                         (uint32_t)wlen, cookie);
    return VIRTQ_OK;
}

/* EINVAL for a bad queue, EBROKEN for a broken one. */
static VIRTQ__COLD int virtq__packed_state_error(const struct virtq *vq)
{
    return (vq != NULL && (vq->flags & VIRTQ__Q_BROKEN)) ? VIRTQ_EBROKEN : VIRTQ_EINVAL;
}

/* Why a publish was refused (cold): EINVAL or EBROKEN, never a kick. */
static VIRTQ__COLD int virtq__packed_publish_error(const struct virtq *vq, bool *notify)
{
    if (notify == NULL)
        return VIRTQ_EINVAL;
    *notify = false;
    return virtq__packed_state_error(vq);
}

/* With EVENT_IDX, the device's event descriptor ev (offset and wrap
   counter) asks for a notification when it is among the descriptors just
   made available, [old, now).  Each position is put in now's lap (one lap
   behind: num less), and the wrap-safe vring_need_event form decides
   (positions are at most two laps, 65536, apart). */
VIRTQ__INLINE bool virtq__packed_need_event(uint16_t num, uint16_t ev, uint16_t old, uint16_t now)
{
    uint16_t e = (uint16_t)(ev & VIRTQ__PW_POS), o = (uint16_t)(old & VIRTQ__PW_POS);
    if ((ev ^ now) & VIRTQ__PW_WRAP)
        e = (uint16_t)(e - num);
    if ((old ^ now) & VIRTQ__PW_WRAP)
        o = (uint16_t)(o - num);
    return virtq_need_event(e, (uint16_t)(now & VIRTQ__PW_POS), o);
}

/* The kick decision for old..now, all published. */
VIRTQ__INLINE bool virtq__packed_decide(const struct virtq *vq, uint16_t flags, uint16_t old,
                                        uint16_t now)
{
    const struct pvirtq_event_suppress *dev_ev;
    uint16_t ev;
    /* "Sending Available Buffer Notifications": the flags must be visible
       before we read the device's suppression structure, or both sides
       skip the notification. */
    virtq__mb(vq);
    dev_ev = VIRTQ__PDEVICE(vq);
    ev = (uint16_t)(VIRTQ__LD16(&dev_ev->flags) & 3u);
    if (ev == RING_EVENT_FLAGS_DESC && (flags & VIRTQ__Q_EVENT_IDX)) {
        /* The event at old (a device that went idle waiting for the next
           descriptor) is among them without the arithmetic. */
        ev = VIRTQ__LD16(&dev_ev->desc);
        return ev == old || virtq__packed_need_event(vq->num, ev, old, now);
    }
    /* DESC without EVENT_IDX and the reserved value 3 mean nothing the
       driver may rely on: notify. */
    return ev != RING_EVENT_FLAGS_DISABLE;
}

/* Publish the batch old..now (not empty, its number closed): the oldest
   head's flags, then the kick decision. */
VIRTQ__P_HOT int virtq__packed_publish_batch(struct virtq *vq, bool *notify, uint16_t flags,
                                             uint16_t old, uint16_t now)
{
    /* "Updating flags": every descriptor of every chain added since the
       last publish (later heads included) before the oldest head's flags,
       which make the whole batch available at once. */
    VIRTQ__ST16_RELEASE(vq, &VIRTQ__P_HEADP(vq)->flags, (uint16_t)VIRTQ__P_HEADF(vq));
    vq->published_idx = now;
    if (VIRTQ__UNLIKELY(flags & VIRTQ__Q_OWED)) {
        /* virtq_publish_defer(): the decision waits for virtq_kick_prepare(). */
        *notify = false;
        return VIRTQ_OK;
    }
    *notify = virtq__packed_decide(vq, flags, old, now);
    return VIRTQ_OK;
}

/* Batch numbers run 1..0xffff.  When the count wraps, every buffer (all
   published at this point) is renumbered 0, older than any batch to come,
   so one in flight for 65535 publishes is never taken for one of the
   newest batch.  O(num) once per 65535 publishes; then the publish goes
   on (a tail call: the hot path saves no registers for it). */
static VIRTQ__COLD int virtq__packed_publish_renumbered(struct virtq *vq, bool *notify,
                                                        uint16_t flags, uint16_t old,
                                                        uint16_t now)
{
    uint32_t i;
    for (i = 0; i < vq->num; i++)
        vq->slot[i].tail = 0;
    VIRTQ__P_BATCH(vq) = 1;
    return virtq__packed_publish_batch(vq, notify, flags, old, now);
}

/* The publish of a checked queue: close the added batch and make it
   available, then decide, unless flags has OWED (the decision waits). */
VIRTQ__INLINE int virtq__packed_publish_as(struct virtq *vq, bool *notify, uint16_t flags)
{
    uint16_t old = vq->published_idx, now = vq->avail_idx;
    if (old == now) {
        *notify = false; /* nothing added (a full ring of adds differs in wrap) */
        return VIRTQ_OK;
    }
    /* The batch is published: later adds get the next number. */
    if (VIRTQ__UNLIKELY(++VIRTQ__P_BATCH(vq) == 0u))
        return virtq__packed_publish_renumbered(vq, notify, flags, old, now);
    return virtq__packed_publish_batch(vq, notify, flags, old, now);
}

#if VIRTQ_PUBLISH_DEFER
/* A publish while virtq_publish_defer() left a decision owed (cold): the
   new batch (if any), then one decision from kicked_idx.  The deferred
   batches (together: virtq__packed_publish_defer() refuses more) and the
   adds since are each at most a ring, so the window is at
   most two laps; the event arithmetic is exact up to one, and a wider
   window (a ring run through between the two calls) just notifies, which
   is always safe. */
static VIRTQ__COLD int virtq__packed_publish_owed(struct virtq *vq, bool *notify)
{
    uint16_t old = vq->kicked_idx;
    uint32_t dist;
    (void)virtq__packed_publish_as(vq, notify, vq->flags); /* OWED: no decision */
    vq->flags &= (uint16_t)~VIRTQ__Q_OWED;
    dist = virtq__pw_dist(vq, old, vq->published_idx);
    *notify = virtq__packed_decide(vq, vq->flags, old, vq->published_idx) || dist == 0u ||
              dist > vq->num;
    return VIRTQ_OK;
}
#endif

VIRTQ__P_HOT int virtq__packed_publish(struct virtq *vq, bool *notify)
{
    uint16_t flags;
    if (VIRTQ__UNLIKELY(vq == NULL))
        return virtq__packed_publish_error(vq, notify);
    flags = vq->flags;
    if (VIRTQ__UNLIKELY(notify == NULL || (flags & VIRTQ__P_LIVE) != VIRTQ__Q_READY))
        return virtq__packed_publish_error(vq, notify);
#if VIRTQ_PUBLISH_DEFER
    if (VIRTQ__UNLIKELY(flags & VIRTQ__Q_OWED))
        return virtq__packed_publish_owed(vq, notify);
#endif
    return virtq__packed_publish_as(vq, notify, flags);
}

#if VIRTQ_PUBLISH_DEFER
static int virtq__packed_publish_defer(struct virtq *vq)
{
    bool unused;
    uint16_t flags;
    if (vq == NULL || (vq->flags & VIRTQ__P_LIVE) != VIRTQ__Q_READY)
        return virtq__packed_state_error(vq);
    flags = vq->flags;
    if (vq->published_idx == vq->avail_idx)
        return VIRTQ_OK; /* nothing added: nothing to publish */
    if (!(flags & VIRTQ__Q_OWED)) {
        vq->kicked_idx = vq->published_idx; /* decided up to here */
        flags = (uint16_t)(flags | VIRTQ__Q_OWED);
        vq->flags = flags;
    } else if (virtq__pw_dist(vq, vq->kicked_idx, vq->published_idx) +
                   virtq__pw_dist(vq, vq->published_idx, vq->avail_idx) > vq->num) {
        return VIRTQ_EBUSY; /* more than a ring owed: decide first (a lap at most) */
    }
    return virtq__packed_publish_as(vq, &unused, flags);
}

static int virtq__packed_kick_prepare(struct virtq *vq, bool *notify)
{
    uint16_t flags;
    if (vq == NULL || notify == NULL || (vq->flags & VIRTQ__P_LIVE) != VIRTQ__Q_READY)
        return virtq__packed_publish_error(vq, notify);
    flags = vq->flags;
    if (!(flags & VIRTQ__Q_OWED)) {
        *notify = false; /* nothing owed */
        return VIRTQ_OK;
    }
    flags = (uint16_t)(flags & ~VIRTQ__Q_OWED);
    vq->flags = flags;
    *notify = virtq__packed_decide(vq, flags, vq->kicked_idx, vq->published_idx);
    return VIRTQ_OK;
}
#endif

/* 1 when the descriptor at position pw is used in its lap: AVAIL and USED
   both equal the wrap counter ("Driver and Device Ring Wrap Counters").
   Every other pair means "not yet": available in this lap, used in the
   last, or a chain's inner descriptor from the last lap, which the device
   skips and never overwrites ("Next Flag: Descriptor Chaining"). */
VIRTQ__INLINE int virtq__packed_used_flags(uint16_t flags, uint16_t pw)
{
    uint16_t want = (pw & VIRTQ__PW_WRAP) ? (uint16_t)(VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED) : 0u;
    return (flags & (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED)) == want;
}

VIRTQ__INLINE int virtq__packed_is_used(const struct virtq *vq, uint16_t pw)
{
    return virtq__packed_used_flags(VIRTQ__LD16(&VIRTQ__PDESC(vq)[pw & VIRTQ__PW_POS].flags), pw);
}

/* A used descriptor broke the rules: which one, from private state only
   (ring_broken.h logs it); nothing else changes. */
static VIRTQ__COLD int virtq__packed_used_broken(struct virtq *vq, uint32_t id)
{
    virtq__break(vq, id >= vq->num                             ? VIRTQ_BROKEN_USED_ID
                     : vq->slot[id].cookie == NULL             ? VIRTQ_BROKEN_NOT_IN_FLIGHT
                     : vq->slot[id].tail == VIRTQ__P_BATCH(vq) ? VIRTQ_BROKEN_UNPUBLISHED
                                                               : VIRTQ_BROKEN_USED_LEN);
    return VIRTQ_EBROKEN;
}

VIRTQ__P_HOT int virtq__packed_get(struct virtq *vq, void **cookie, uint32_t *len)
{
    const struct pvirtq_desc *d;
    struct virtq_slot *s;
    uint32_t ulen;
    uint16_t id, pw, pos, flags, n;
    void *c;
    if (VIRTQ__UNLIKELY(vq == NULL || cookie == NULL ||
                        (vq->flags & VIRTQ__P_LIVE) != VIRTQ__Q_READY))
        return cookie == NULL ? VIRTQ_EINVAL : virtq__packed_state_error(vq);
    pw = vq->last_used;
    d = &VIRTQ__PDESC(vq)[pw & VIRTQ__PW_POS];
    /* "Receiving Used Buffers From The Device": the flags first, then (the
       acquire) the rest of the descriptor, which the device wrote before
       them. */
    flags = VIRTQ__LD16_ACQUIRE(vq, &d->flags);
    if (!virtq__packed_used_flags(flags, pw))
        return VIRTQ_EAGAIN;
    /* Copy the element once; shared memory is never read twice. */
    id = VIRTQ__LD16(&d->id);
    ulen = VIRTQ__LD32(&d->len);
    /* The id must name a buffer in flight (not free, not used already:
       a repeat) and published (not a device running ahead of what was
       made available, nor a used descriptor where none was outstanding,
       whose wrap bits contradict the ring's state); the length may not
       exceed what was posted writable.  Published chains in flight add up
       to last_used..published_idx, so this also bounds the skip below.
       The WRITE bit of a used descriptor is not needed for the length
       (QEMU leaves it clear). */
    if (VIRTQ__UNLIKELY(id >= vq->num))
        return virtq__packed_used_broken(vq, id);
    s = &vq->slot[id];
    /* "Next Flag: Descriptor Chaining": where the next used descriptor
       goes, the chain's length taken from private state, never from the
       device (at most num); worked out here, where it frees the most
       registers, and stored only once the id checks out. */
    n = s->ndesc;
    pos = (uint16_t)((pw & VIRTQ__PW_POS) + n);
    pw &= VIRTQ__PW_WRAP;
    if (pos >= vq->num) { /* past the end: the next lap */
        pos = (uint16_t)(pos - vq->num);
        pw ^= VIRTQ__PW_WRAP;
    }
    pw |= pos;
    c = s->cookie;
    if (VIRTQ__UNLIKELY(c == NULL || s->tail == VIRTQ__P_BATCH(vq) ||
                        (ulen > s->wlen && !(vq->flags & VIRTQ__Q_ANY_LEN))))
        return virtq__packed_used_broken(vq, id);
    /* Checked: the caller's first, then ours (the order keeps few values
       live). */
    *cookie = c;
    if (len != NULL)
        *len = ulen;
    vq->last_used = pw;
    /* Keep the device interrupting for the next used descriptor, as the
       split ring moves used_event.  A hint: no barrier, every sleep
       re-arms through virtq_enable_intr().  Not after a delayed re-arm
       (see virtq_get in ring_split.h). */
    if (VIRTQ__Q_EVENT_IDX != 0u &&
        (vq->flags & (VIRTQ__Q_EVENT_IDX | VIRTQ__Q_INTR_OFF | VIRTQ__Q_DELAYED)) ==
            VIRTQ__Q_EVENT_IDX)
        VIRTQ__ST16(vq->used_event, pw);
    /* Free the id. */
    vq->num_free = (uint16_t)(vq->num_free + n);
    s->cookie = NULL;
    s->next = vq->free_head;
    vq->free_head = id;
    return VIRTQ_OK;
}

/* What virtq_get() would say next, taking nothing (see ring_split.h). */
static int virtq__packed_used_state(const struct virtq *vq)
{
    if (vq == NULL || !(vq->flags & VIRTQ__Q_READY))
        return VIRTQ_EINVAL;
    if (vq->flags & VIRTQ__Q_BROKEN)
        return VIRTQ_EBROKEN;
    return virtq__packed_is_used(vq, vq->last_used) ? VIRTQ_OK : VIRTQ_EAGAIN;
}

static void virtq__packed_disable_intr(struct virtq *vq)
{
    if (vq == NULL || !(vq->flags & VIRTQ__Q_READY))
        return;
    vq->flags |= VIRTQ__Q_INTR_OFF; /* a DELAYED bit left here is inert */
    /* "Driver and Device Event Suppression": DISABLE, with or without
       EVENT_IDX. */
    VIRTQ__ST16(&VIRTQ__PDRIVER(vq)->flags, RING_EVENT_FLAGS_DISABLE);
}

/* True when the device has written used descriptors beyond delay positions
   past last_used (it crossed the event), walking the used chains through
   private lengths; an id that does not check out ends the walk with 1, so
   the caller's virtq_get() finds and latches it. */
static bool virtq__packed_used_past(const struct virtq *vq, uint32_t delay)
{
    uint16_t pw = vq->last_used;
    uint32_t walked = 0, i;
    for (i = 0; i < vq->num && walked <= delay; i++) {
        uint32_t id;
        if (!virtq__packed_is_used(vq, pw))
            return false;
        id = VIRTQ__LD16(&VIRTQ__PDESC(vq)[pw & VIRTQ__PW_POS].id);
        if (id >= vq->num || vq->slot[id].cookie == NULL ||
            vq->slot[id].tail == VIRTQ__P_BATCH(vq))
            return true;
        walked += vq->slot[id].ndesc;
        pw = virtq__pw_add(vq, pw, vq->slot[id].ndesc);
    }
    return walked > delay;
}

/* Re-arm with the event delay descriptors past last_used (EVENT_IDX) or
   plain ENABLE, then re-check: true when the device crossed the event
   already, or virtq_get() has an error to report (never sleep on it). */
static bool virtq__packed_arm(struct virtq *vq, uint32_t delay)
{
    struct pvirtq_event_suppress *drv;
    if (vq == NULL || (vq->flags & VIRTQ__P_LIVE) != VIRTQ__Q_READY)
        return true;
    drv = VIRTQ__PDRIVER(vq);
    vq->flags &= (uint16_t)~(VIRTQ__Q_INTR_OFF | VIRTQ__Q_DELAYED);
    if (vq->flags & VIRTQ__Q_EVENT_IDX) {
        VIRTQ__ST16(&drv->desc, virtq__pw_add(vq, vq->last_used, delay));
        VIRTQ__ST16(&drv->flags, RING_EVENT_FLAGS_DESC);
        if (delay != 0u)
            vq->flags |= VIRTQ__Q_DELAYED;
    } else {
        VIRTQ__ST16(&drv->flags, RING_EVENT_FLAGS_ENABLE);
    }
    /* "Receiving Used Buffers From The Device" (the note): the re-arm must
       be visible before we look at the ring again, or a buffer used in
       between raises no interrupt and we sleep on it. */
    virtq__mb(vq);
    return delay == 0u ? virtq__packed_is_used(vq, vq->last_used) != 0
                       : virtq__packed_used_past(vq, delay);
}

/* The event counts descriptors, and a chain may have several: n
   descriptors are used no later than n buffers, so the interrupt is
   never later than asked (earlier with longer chains). */
static bool virtq__packed_enable_intr_after(struct virtq *vq, unsigned n)
{
    uint32_t outstanding;
    if (vq == NULL || !(vq->flags & VIRTQ__Q_EVENT_IDX))
        return virtq__packed_arm(vq, 0); /* only an event can be delayed */
    /* Published descriptors in flight: at most num. */
    outstanding = virtq__pw_dist(vq, vq->last_used, vq->published_idx);
    if (n > outstanding)
        n = outstanding;
    return virtq__packed_arm(vq, n != 0u ? n - 1u : 0u);
}

static bool virtq__packed_enable_intr_delayed(struct virtq *vq)
{
    if (vq == NULL)
        return true;
    return virtq__packed_enable_intr_after(
        vq, virtq__pw_dist(vq, vq->last_used, vq->published_idx) * 3u / 4u + 1u);
}

#endif /* VIRTQ_RINGS & VIRTQ_RING_PACKED */
/* ==== end ring_packed.h ==== */

/* ==== begin ring_split.h ==== */
/* ---- ring_split.h: the split virtqueue ("Split Virtqueues") --------------- */
/* Driver side only.  The device-visible memory is written, never trusted:
   chains are walked through the private slot array, and every used element
   is checked before anything is freed. */

/* VIRTQ_HOT_INLINE (with VIRTQ_STATIC, in the implementation file): the
   hot path (virtq_add, virtq_publish, virtq_submit, virtq_get) is inlined
   into every caller, where the segment counts are usually constants: the fastest
   build (BENCHMARKS.md), each call site a little bigger. */
#if defined(VIRTQ_STATIC) && defined(VIRTQ_HOT_INLINE) && (defined(__GNUC__) || defined(__clang__))
#define VIRTQ__HOT inline __attribute__((always_inline))
#else
#define VIRTQ__HOT
#endif

static int virtq__pow2(uint32_t x) { return x != 0u && (x & (x - 1u)) == 0u; }

VIRTQ_API size_t virtq_ring_bytes(uint32_t num, uint32_t align)
{
    if (!virtq__pow2(num) || num > VIRTQ_MAX_SIZE || !virtq__pow2(align) || align < 4u)
        return 0;
    return VIRTQ_RING_BYTES(num, align);
}

/* Empty ring: zeroed shared memory, every descriptor on the free list in
   index order, all indices 0.  Volatile stores, so no memset is needed
   (freestanding) and none is elided. */
static void virtq__reset(struct virtq *vq)
{
    VIRTQ__RING_DISPATCH_VOID(vq, virtq__packed_reset(vq))
    volatile uint32_t *w = (volatile uint32_t *)(void *)vq->desc;
    size_t i, words = VIRTQ_RING_BYTES(vq->num, vq->align) / 4u;
    for (i = 0; i < words; i++)
        w[i] = 0;
    /* A free slot is a NULL cookie and a link; its other fields are
       written by the add that takes it, before anything reads them. */
    for (i = 0; i < vq->num; i++) {
        vq->slot[i].cookie = NULL;
        vq->slot[i].next = (uint16_t)((i + 1u) & (vq->num - 1u));
    }
    vq->num_free = vq->num;
    vq->free_head = 0;
    vq->avail_idx = 0;
    vq->published_idx = 0;
    vq->last_used = 0;
    vq->detach_pos = 0;
    vq->flags &= (uint16_t)~(VIRTQ__Q_BROKEN | VIRTQ__Q_INTR_OFF | VIRTQ__Q_OWED |
                             VIRTQ__Q_DELAYED);
    vq->broken_reason = VIRTQ_BROKEN_NONE;
}

VIRTQ_API int virtq_init(struct virtq *vq, uint32_t num, uint32_t align, void *mem,
                         struct virtq_slot *slots, uint64_t features)
{
    VIRTQ__RING_DISPATCH_INIT(features, virtq__packed_init(vq, num, align, mem, slots, features))
    uintptr_t base = (uintptr_t)mem;
    if (vq == NULL || mem == NULL || slots == NULL || virtq_ring_bytes(num, align) == 0)
        return VIRTQ_EINVAL;
    /* "Virtqueue alignment": descriptor table 16, legacy the whole ring
       on the QueueAlign boundary. */
    if ((base & ((align > 16u ? align : 16u) - 1u)) != 0u)
        return VIRTQ_EINVAL;
    if (features & (VIRTQ_FEATURE(VIRTIO_F_RING_PACKED) | VIRTQ__FEATURES_OUT))
        return VIRTQ_ENOTSUP;
    vq->desc = (struct virtq_desc *)mem;
    vq->avail = (struct virtq_avail *)(void *)(base + (uintptr_t)16u * num);
    vq->used = (struct virtq_used *)(void *)(base +
        VIRTQ__ALIGN_UP((size_t)16u * num + 6u + (size_t)2u * num, align));
    vq->used_event = (uint16_t *)(void *)((uintptr_t)vq->avail + 4u + (uintptr_t)2u * num);
    vq->avail_event = (uint16_t *)(void *)((uintptr_t)vq->used + 4u + (uintptr_t)8u * num);
    vq->slot = slots;
    vq->num = (uint16_t)num;
    vq->mask = (uint16_t)(num - 1u);
    vq->align = align;
    vq->index = 0;
    vq->flags = VIRTQ__Q_READY;
    if (features & VIRTQ_FEATURE(VIRTIO_F_EVENT_IDX))
        vq->flags |= VIRTQ__Q_EVENT_IDX;
    if (features & VIRTQ_FEATURE(VIRTIO_F_INDIRECT_DESC))
        vq->flags |= VIRTQ__Q_INDIRECT;
    if (features & VIRTQ_FEATURE(VIRTIO_F_ORDER_PLATFORM))
        vq->flags |= VIRTQ__Q_PLATFORM;
    virtq__reset(vq);
    return VIRTQ_OK;
}

/* Bytes of the whole chain bufs[0..n), or UINT64_MAX for a NULL or empty
   segment.  Checked before anything is written, so a refused add leaves
   every byte of ring memory, private state and an indirect table as it
   was (docs/HARDENING.md). */
static uint64_t virtq__chain_bytes(const struct virtq_buf *bufs, unsigned n)
{
    uint64_t total = 0;
    unsigned i;
    for (i = 0; i < n; i++) {
        if (bufs[i].addr == NULL || bufs[i].len == 0u)
            return UINT64_MAX;
        total += bufs[i].len;
    }
    return total;
}

/* EINVAL for a bad queue, EBROKEN for a broken one. */
static VIRTQ__COLD int virtq__state_error(const struct virtq *vq)
{
    return (vq != NULL && (vq->flags & VIRTQ__Q_BROKEN)) ? VIRTQ_EBROKEN : VIRTQ_EINVAL;
}

/* Why an add was refused, worked out only once it was: the hot path below
   tests everything with one combined condition. */
static VIRTQ__COLD int virtq__add_error(const struct virtq *vq, const struct virtq_buf *bufs,
                                        unsigned out, unsigned in, const void *cookie)
{
    if (vq == NULL || bufs == NULL || cookie == NULL || !(vq->flags & VIRTQ__Q_READY))
        return VIRTQ_EINVAL;
    if (vq->flags & VIRTQ__Q_BROKEN)
        return VIRTQ_EBROKEN;
    /* "The Virtqueue Descriptor Table": a chain is at most Queue Size long. */
    if (out > vq->num || in > vq->num || out + in == 0u || out + in > vq->num)
        return VIRTQ_EINVAL;
    if (virtq__chain_bytes(bufs, out + in) > UINT32_MAX)
        return VIRTQ_EINVAL;
    return VIRTQ_ENOSPC; /* valid, but not enough free descriptors now */
}

/* Write one descriptor.  The device reads none of it before avail.idx
   publishes the chain, so the field order does not matter. */
VIRTQ__INLINE void virtq__desc_set(struct virtq_desc *d, void *addr, uint32_t len,
                                   uint16_t flags, uint16_t next)
{
    VIRTQ_DMA_SYNC_FOR_DEVICE(addr, len, (flags & VIRTQ_DESC_F_WRITE) != 0u);
    VIRTQ__ST64(&d->addr, VIRTQ_VIRT_TO_DMA(addr));
    VIRTQ__ST32(&d->len, len);
    VIRTQ__ST16(&d->flags, flags);
    VIRTQ__ST16(&d->next, next);
}

/* Fill an indirect table from bufs (already checked), readable first,
   entry i linked to i + 1.  Returns the writable byte count. */
static uint32_t virtq__fill_table(struct virtq_desc *table, const struct virtq_buf *bufs,
                                  unsigned out, unsigned n)
{
    uint32_t wlen = 0;
    unsigned i;
    for (i = 0; i < n; i++) {
        uint16_t flags = (uint16_t)(i + 1u < n ? VIRTQ_DESC_F_NEXT : 0u);
        if (i >= out) {
            flags |= VIRTQ_DESC_F_WRITE;
            wlen += bufs[i].len;
        }
        virtq__desc_set(&table[i], bufs[i].addr, bufs[i].len, flags, (uint16_t)(i + 1u));
    }
    return wlen;
}

/* The chain is owned from here on: record it and queue its head in the
   avail ring (not yet visible: virtq_publish() writes avail.idx). */
VIRTQ__INLINE void virtq__commit(struct virtq *vq, uint16_t head, uint16_t tail, uint16_t ndesc,
                                 uint32_t wlen, void *cookie)
{
    struct virtq_slot *s = &vq->slot[head];
    uint16_t pos = vq->avail_idx;
    /* A head taken from the free list is in no chain in flight. */
    VIRTQ_ASSERT(s->cookie == NULL);
    s->cookie = cookie;
    s->wlen = wlen;
    s->ndesc = ndesc;
    s->pos = pos;
    s->tail = tail;
    VIRTQ__ST16(&vq->avail->ring[pos & vq->mask], head);
    vq->avail_idx = (uint16_t)(pos + 1u);
}

/* Every segment of bufs[0..n) present and non-empty, and the chain at most
   2^32 - 1 bytes in total ("The Virtqueue Descriptor Table"; used.len
   could not say more either). */
VIRTQ__INLINE bool virtq__segs_ok(const struct virtq_buf *bufs, unsigned n)
{
    uint64_t total = 0;
    unsigned i;
    /* Same loop twice: unrolled when n is a small constant. */
    if (VIRTQ__CONST_SMALL(n)) { /* NOLINT(bugprone-branch-clone) */
        VIRTQ__UNROLL
        for (i = 0; i < n; i++) {
            if (bufs[i].addr == NULL || bufs[i].len == 0u)
                return false;
            total += bufs[i].len;
        }
    } else {
        for (i = 0; i < n; i++) {
            if (bufs[i].addr == NULL || bufs[i].len == 0u)
                return false;
            total += bufs[i].len;
        }
    }
    return total <= UINT32_MAX;
}

/* Write bufs[0..n) (checked) into the first n descriptors of the free list,
   readable first.  Each descriptor's next is already its free-list link,
   so the chain is linked as it is written.  Returns the writable bytes;
   *tail gets the last descriptor, *after the free list's new head. */
VIRTQ__INLINE uint32_t virtq__write_chain(struct virtq *vq, const struct virtq_buf *bufs,
                                          unsigned out, unsigned n, uint16_t *tail,
                                          uint16_t *after)
{
    struct virtq_desc *desc = vq->desc;
    const struct virtq_slot *slot = vq->slot;
    uint16_t idx = vq->free_head, last = idx, flags = 0;
    uint32_t wlen = 0;
    unsigned i;
    /* Same loop twice: unrolled when n is a small constant. */
    if (VIRTQ__CONST_SMALL(n)) { /* NOLINT(bugprone-branch-clone) */
        /* Straight-line: each descriptor's flags are constants. */
        VIRTQ__UNROLL
        for (i = 0; i < n; i++) {
            flags = (uint16_t)((i + 1u < n ? VIRTQ_DESC_F_NEXT : 0u) |
                               (i >= out ? VIRTQ_DESC_F_WRITE : 0u));
            if (i >= out)
                wlen += bufs[i].len;
            last = idx;
            idx = slot[last].next;
            virtq__desc_set(&desc[last], bufs[i].addr, bufs[i].len, flags, idx);
        }
    } else {
        for (i = 0; i < n; i++) {
            flags = (uint16_t)(i < out ? VIRTQ_DESC_F_NEXT
                                       : VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE);
            if (i >= out)
                wlen += bufs[i].len;
            last = idx;
            idx = slot[last].next;
            virtq__desc_set(&desc[last], bufs[i].addr, bufs[i].len, flags, idx);
        }
        /* "Message Framing": the chain ends here, no NEXT on the last one
           (rewritten before anything is published). */
        VIRTQ__ST16(&desc[last].flags, flags & (uint16_t)~VIRTQ_DESC_F_NEXT);
    }
    *tail = last;
    *after = idx;
    return wlen;
}

/* Step 3 of an add (the queue, the counts, the free count and every
   segment already checked). */
VIRTQ__INLINE int virtq__add_checked(struct virtq *vq, const struct virtq_buf *bufs, unsigned out,
                                     unsigned n, void *cookie)
{
    uint16_t head, tail, after;
    uint32_t wlen;
    /* Step 3, write the chain, take it off the free list, record it and
       queue its head (not visible to the device before virtq_publish()). */
    head = vq->free_head;
    wlen = virtq__write_chain(vq, bufs, out, n, &tail, &after);
    vq->free_head = after;
    vq->num_free = (uint16_t)(vq->num_free - n);
    virtq__commit(vq, head, tail, (uint16_t)n, wlen, cookie);
    return VIRTQ_OK;
}

/* Steps 2 and 3 of an add (the queue and the counts already checked). */
VIRTQ__INLINE int virtq__add_segs(struct virtq *vq, const struct virtq_buf *bufs, unsigned out,
                                  unsigned n, void *cookie)
{
    /* Step 2, every segment, before anything is written: a refused add
       leaves ring memory and private state exactly as they were. */
    if (VIRTQ__UNLIKELY(!virtq__segs_ok(bufs, n)))
        return VIRTQ_EINVAL;
    return virtq__add_checked(vq, bufs, out, n, cookie);
}

#if !defined(__OPTIMIZE_SIZE__) && (defined(__GNUC__) || defined(__clang__))
/* Out of line, a chain of a variable length: its loops keep many values
   live, and a separate function keeps that cost off the one-segment
   path; the common short chains are unrolled (none of this is built when
   optimising for size). */
static __attribute__((noinline)) int virtq__add_chain(struct virtq *vq,
                                                      const struct virtq_buf *bufs,
                                                      unsigned out, unsigned n, void *cookie)
{
    /* Two and three segments (a request header + data + status) unrolled. */
    if (n == 2u)
        return virtq__add_segs(vq, bufs, out, 2u, cookie);
    if (n == 3u)
        return virtq__add_segs(vq, bufs, out, 3u, cookie);
    return virtq__add_segs(vq, bufs, out, n, cookie);
}
#define VIRTQ__ADD1_FAST 1
#else
#define VIRTQ__ADD1_FAST 0
#endif

/* virtq_add()'s work, shared with virtq_submit(). */
VIRTQ__INLINE int virtq__add(struct virtq *vq, const struct virtq_buf *bufs, unsigned out,
                             unsigned in, void *cookie)
{
    unsigned n = out + in;
    /* Step 1, the queue and the counts (each refusal classified out of
       line): NULLs, not ready or broken, out + in overflowing, n == 0 or
       beyond the free count (which also bounds it by the ring size). */
    if (VIRTQ__UNLIKELY(vq == NULL || bufs == NULL || cookie == NULL))
        return VIRTQ_EINVAL;
    if (VIRTQ__UNLIKELY((vq->flags & (VIRTQ__Q_READY | VIRTQ__Q_BROKEN)) != VIRTQ__Q_READY))
        return virtq__state_error(vq);
    if (VIRTQ__UNLIKELY(n < out))
        return VIRTQ_EINVAL;
#if !VIRTQ__ADD1_FAST
    /* Optimising for size: the same checks with one copy of the segment
       loop, which then also classifies a chain that does not fit. */
    if (VIRTQ__UNLIKELY(n == 0u || n > vq->num || !virtq__segs_ok(bufs, n)))
        return VIRTQ_EINVAL;
    if (VIRTQ__UNLIKELY(n > vq->num_free))
        return VIRTQ_ENOSPC;
    return virtq__add_checked(vq, bufs, out, n, cookie);
#else
    if (VIRTQ__UNLIKELY(n - 1u >= vq->num_free)) {
        /* "The Virtqueue Descriptor Table": a chain is at most Queue Size
           long; a valid one that does not fit now waits for virtq_get().
           (Classified here, not in a helper that takes bufs: the caller's
           segment list then need not live in memory.) */
        if (n == 0u || n > vq->num || !virtq__segs_ok(bufs, n))
            return VIRTQ_EINVAL;
        return VIRTQ_ENOSPC;
    }
    /* A variable count: one segment (a receive buffer, a single transfer)
       takes a straight path, longer chains the loops. */
    if (!VIRTQ__CONST_SMALL(n)) {
        if (n == 1u)
            return virtq__add_segs(vq, bufs, out, 1u, cookie);
        return virtq__add_chain(vq, bufs, out, n, cookie);
    }
    return virtq__add_segs(vq, bufs, out, n, cookie);
#endif
}

VIRTQ_API VIRTQ__HOT int virtq_add(struct virtq *vq, const struct virtq_buf *bufs,
                                   unsigned out, unsigned in, void *cookie)
{
    VIRTQ__RING_DISPATCH(vq, virtq__packed_add(vq, bufs, out, in, cookie))
    return virtq__add(vq, bufs, out, in, cookie);
}

VIRTQ_API int virtq_add_indirect(struct virtq *vq, const struct virtq_buf *bufs, unsigned out,
                                 unsigned in, struct virtq_desc *table, void *cookie)
{
    VIRTQ__RING_DISPATCH(vq, virtq__packed_add_indirect(vq, bufs, out, in, table, cookie))
    uint32_t wlen;
    uint16_t head;
    unsigned n = out + in;
    if (vq == NULL || bufs == NULL || cookie == NULL ||
        (vq->flags & (VIRTQ__Q_READY | VIRTQ__Q_BROKEN)) != VIRTQ__Q_READY || n == 0u ||
        n > vq->num || n < out) {
        int rc = virtq__add_error(vq, bufs, out, in, cookie);
        return rc == VIRTQ_ENOSPC ? VIRTQ_EINVAL : rc;
    }
    if (table == NULL || ((uintptr_t)table & 15u) != 0u)
        return VIRTQ_EINVAL;
    if (!(vq->flags & VIRTQ__Q_INDIRECT))
        return VIRTQ_ENOTSUP; /* "Indirect Descriptors" need the feature */
    /* As for virtq_add(): the whole chain checked before the table is. */
    if (virtq__chain_bytes(bufs, n) > UINT32_MAX)
        return VIRTQ_EINVAL;
    if (vq->num_free == 0u)
        return VIRTQ_ENOSPC;
    wlen = virtq__fill_table(table, bufs, out, n);
    head = vq->free_head;
    /* INDIRECT never with NEXT ("Indirect Descriptors"). */
    virtq__desc_set(&vq->desc[head], table, 16u * n, VIRTQ_DESC_F_INDIRECT, 0);
    vq->free_head = vq->slot[head].next;
    vq->num_free--;
    virtq__commit(vq, head, head, 1, wlen, cookie);
    return VIRTQ_OK;
}

/* Why a publish was refused (cold): EINVAL or EBROKEN, never a kick. */
static VIRTQ__COLD int virtq__publish_error(const struct virtq *vq, bool *notify)
{
    if (notify == NULL)
        return VIRTQ_EINVAL;
    *notify = false;
    return virtq__state_error(vq);
}

/* The full barrier of the queue's strength (VIRTIO_F_ORDER_PLATFORM), from
   flags the caller already holds. */
VIRTQ__INLINE void virtq__mb_of(uint16_t flags)
{
    /* NOLINTNEXTLINE(bugprone-branch-clone): the two differ on most arches */
    if (flags & VIRTQ__Q_PLATFORM)
        VIRTQ_DMA_MB();
    else
        VIRTQ_MB();
}

/* Make avail.idx = now visible: every chain added before it, descriptors
   and ring entries, goes with it (release). */
VIRTQ__INLINE void virtq__expose(struct virtq *vq, uint16_t now)
{
    VIRTQ__ST16_RELEASE(vq, &vq->avail->idx, now);
    vq->published_idx = now;
}

/* After the full barrier: does the device want a notification for any of
   old..now, all published? */
VIRTQ__INLINE bool virtq__wants_kick(const struct virtq *vq, uint16_t flags, uint16_t old,
                                     uint16_t now)
{
    if (flags & VIRTQ__Q_EVENT_IDX)
        return virtq_need_event(VIRTQ__LD16(vq->avail_event), now, old);
    return (VIRTQ__LD16(&vq->used->flags) & VIRTQ_USED_F_NO_NOTIFY) == 0u;
}

/* The kick decision for old..now with the queue's own full barrier. */
VIRTQ__INLINE bool virtq__decide(const struct virtq *vq, uint16_t flags, uint16_t old,
                                 uint16_t now)
{
    /* 2.7.13.4 "Notifying The Device": avail.idx must be visible before we
       read the device's suppression state, or both sides skip the kick. */
    virtq__mb_of(flags);
    return virtq__wants_kick(vq, flags, old, now);
}

#if VIRTQ_PUBLISH_DEFER
/* The kick decision's less common cases, out of line: a queue ordered by
   the platform's DMA barriers (VIRTIO_F_ORDER_PLATFORM), and one where
   virtq_publish_defer() left a decision owed, whose window then starts at
   the last decision, kicked_idx.  That window holds the deferred batches
   (together at most a ring: virtq_publish_defer() refuses more) and the
   adds since (at most a ring), so it is at most 2^16 wide; exactly 2^16 (a
   Queue Size of 32768 run through twice) reads as empty, and gets a
   notification, which is always safe. */
static VIRTQ__NOINLINE bool virtq__decide_slow(struct virtq *vq, uint16_t flags, uint16_t old,
                                               uint16_t now)
{
    bool wrapped = false;
    if (flags & VIRTQ__Q_OWED) {
        old = vq->kicked_idx;
        wrapped = old == now;
        flags = (uint16_t)(flags & ~VIRTQ__Q_OWED);
        vq->flags = flags;
    }
    return virtq__decide(vq, flags, old, now) || wrapped;
}
#endif

/* Publish up to now, which is ahead of what was published (the queue
   checked usable): write avail.idx and decide. */
VIRTQ__INLINE bool virtq__publish_new(struct virtq *vq, uint16_t flags, uint16_t old,
                                      uint16_t now)
{
    /* Unpublished adds never exceed the ring size (each holds a descriptor),
       so old..now always fits the 16-bit event-index window: the "kick
       before 2^16 adds" rule holds by construction. */
    virtq__expose(vq, now);
#if VIRTQ_PUBLISH_DEFER
    if (VIRTQ__UNLIKELY(flags & (VIRTQ__Q_PLATFORM | VIRTQ__Q_OWED)))
        return virtq__decide_slow(vq, flags, old, now);
    /* 2.7.13.4 "Notifying The Device": avail.idx must be visible before we
       read the device's suppression state, or both sides skip the kick
       (the plain barrier: PLATFORM queues took the slow path). */
    VIRTQ_MB();
    return virtq__wants_kick(vq, flags, old, now);
#else
    return virtq__decide(vq, flags, old, now);
#endif
}

VIRTQ__INLINE bool virtq__publish(struct virtq *vq, uint16_t flags, uint16_t now)
{
    uint16_t old = vq->published_idx;
    if (old == now)
        return false; /* nothing new never asks for a kick */
    return virtq__publish_new(vq, flags, old, now);
}

#if VIRTQ_PUBLISH_DEFER
/* virtq_publish() while a decision is owed (cold): publish what is new,
   then decide from the last decision, even when nothing was added. */
static VIRTQ__COLD bool virtq__publish_owed(struct virtq *vq, uint16_t now)
{
    if (vq->published_idx != now)
        virtq__expose(vq, now);
    return virtq__decide_slow(vq, vq->flags, now, now);
}
#endif

VIRTQ_API VIRTQ__HOT int virtq_publish(struct virtq *vq, bool *notify)
{
    VIRTQ__RING_DISPATCH(vq, virtq__packed_publish(vq, notify))
    uint16_t flags;
    if (VIRTQ__UNLIKELY(vq == NULL))
        return virtq__publish_error(vq, notify);
    flags = vq->flags;
    if (VIRTQ__UNLIKELY(notify == NULL ||
                        (flags & (VIRTQ__Q_READY | VIRTQ__Q_BROKEN)) != VIRTQ__Q_READY))
        return virtq__publish_error(vq, notify);
#if VIRTQ_PUBLISH_DEFER
    if (VIRTQ__UNLIKELY(flags & VIRTQ__Q_OWED)) {
        *notify = virtq__publish_owed(vq, vq->avail_idx);
        return VIRTQ_OK;
    }
#endif
    *notify = virtq__publish(vq, flags, vq->avail_idx);
    return VIRTQ_OK;
}

#if VIRTQ_PUBLISH_DEFER
VIRTQ_API int virtq_publish_defer(struct virtq *vq)
{
    VIRTQ__RING_DISPATCH(vq, virtq__packed_publish_defer(vq))
    uint16_t flags;
    if (vq == NULL)
        return VIRTQ_EINVAL;
    flags = vq->flags;
    if ((flags & (VIRTQ__Q_READY | VIRTQ__Q_BROKEN)) != VIRTQ__Q_READY)
        return virtq__state_error(vq);
    if (vq->published_idx == vq->avail_idx)
        return VIRTQ_OK; /* nothing added: nothing to publish */
    if (!(flags & VIRTQ__Q_OWED))
        vq->kicked_idx = vq->published_idx; /* decided up to here */
    else if ((unsigned)(uint16_t)(vq->published_idx - vq->kicked_idx) +
                 (uint16_t)(vq->avail_idx - vq->published_idx) > vq->num)
        return VIRTQ_EBUSY; /* more than a ring owed: decide first (window < 2^16) */
    virtq__expose(vq, vq->avail_idx);
    vq->flags = (uint16_t)(flags | VIRTQ__Q_OWED);
    return VIRTQ_OK;
}

VIRTQ_API int virtq_kick_prepare(struct virtq *vq, bool *notify)
{
    VIRTQ__RING_DISPATCH(vq, virtq__packed_kick_prepare(vq, notify))
    uint16_t flags;
    if (vq == NULL || notify == NULL)
        return virtq__publish_error(vq, notify);
    flags = vq->flags;
    if ((flags & (VIRTQ__Q_READY | VIRTQ__Q_BROKEN)) != VIRTQ__Q_READY)
        return virtq__publish_error(vq, notify);
    if (!(flags & VIRTQ__Q_OWED)) {
        *notify = false; /* nothing owed */
        return VIRTQ_OK;
    }
    *notify = virtq__decide_slow(vq, flags, vq->published_idx, vq->published_idx);
    return VIRTQ_OK;
}
#endif

/* virtq_submit()'s work (vq and notify checked). */
VIRTQ__INLINE int virtq__submit(struct virtq *vq, const struct virtq_buf *bufs, unsigned out,
                                unsigned in, void *cookie, bool *notify)
{
    uint16_t flags = vq->flags;
    int rc = virtq__add(vq, bufs, out, in, cookie);
    if (VIRTQ__UNLIKELY(rc != VIRTQ_OK)) {
        *notify = false;
        return rc;
    }
    /* The add succeeded, so the queue is usable (an add changes no flag)
       and there is something new to publish. */
    *notify = virtq__publish_new(vq, flags, vq->published_idx, vq->avail_idx);
    return VIRTQ_OK;
}

#if ((VIRTQ_RINGS) & VIRTQ_RING_PACKED)
/* The packed ring's submit: its add, then its publish. */
static int virtq__packed_submit(struct virtq *vq, const struct virtq_buf *bufs, unsigned out,
                                unsigned in, void *cookie, bool *notify)
{
    int rc = virtq__packed_add(vq, bufs, out, in, cookie);
    if (rc != VIRTQ_OK) {
        *notify = false;
        return rc;
    }
    return virtq__packed_publish(vq, notify);
}
#endif

#if VIRTQ__ADD1_FAST
/* Longer chains out of line, as for virtq_add(). */
static __attribute__((noinline)) int virtq__submit_chain(struct virtq *vq,
                                                         const struct virtq_buf *bufs,
                                                         unsigned out, unsigned in, void *cookie,
                                                         bool *notify)
{
    return virtq__submit(vq, bufs, out, in, cookie, notify);
}
#endif

VIRTQ_API VIRTQ__HOT int virtq_submit(struct virtq *vq, const struct virtq_buf *bufs,
                                      unsigned out, unsigned in, void *cookie, bool *notify)
{
    if (VIRTQ__UNLIKELY(notify == NULL || vq == NULL))
        return VIRTQ_EINVAL; /* before the add: a refused call changes nothing */
    VIRTQ__RING_DISPATCH(vq, virtq__packed_submit(vq, bufs, out, in, cookie, notify))
#if VIRTQ__ADD1_FAST
    if (!VIRTQ__CONST_SMALL(out + in) && out + in != 1u)
        return virtq__submit_chain(vq, bufs, out, in, cookie, notify);
#endif
    return virtq__submit(vq, bufs, out, in, cookie, notify);
}

/* Which check a used element with an in-range id failed, in the order
   the spec's rules build on each other (private state only). */
static VIRTQ__COLD enum virtq_broken_reason virtq__slot_fault(const struct virtq *vq,
                                                              const struct virtq_slot *s)
{
    if (s->cookie == NULL)
        return VIRTQ_BROKEN_NOT_IN_FLIGHT;
    if ((uint16_t)(s->pos - vq->published_idx) < (uint16_t)(vq->avail_idx - vq->published_idx))
        return VIRTQ_BROKEN_UNPUBLISHED;
    return VIRTQ_BROKEN_USED_LEN;
}

/* A used element broke the protocol: latch why, nothing else changes. */
static VIRTQ__COLD int virtq__used_broken(struct virtq *vq, enum virtq_broken_reason why)
{
    virtq__break(vq, why);
    return VIRTQ_EBROKEN;
}

VIRTQ_API VIRTQ__HOT int virtq_get(struct virtq *vq, void **cookie, uint32_t *len)
{
    VIRTQ__RING_DISPATCH(vq, virtq__packed_get(vq, cookie, len))
    const struct virtq_used *used;
    struct virtq_slot *s;
    uint16_t last, pub, pending;
    uint32_t id, ulen;
    void *c;
    if (VIRTQ__UNLIKELY(vq == NULL || cookie == NULL ||
                        (vq->flags & (VIRTQ__Q_READY | VIRTQ__Q_BROKEN)) != VIRTQ__Q_READY))
        return cookie == NULL ? VIRTQ_EINVAL : virtq__state_error(vq);
    used = vq->used;
    last = vq->last_used;
    /* Step 1: read used.idx once; the acquire orders the element reads
       after it.  The device cannot use more chains than were published. */
    pending = (uint16_t)(VIRTQ__LD16_ACQUIRE(vq, &used->idx) - last);
    if (pending == 0u)
        return VIRTQ_EAGAIN;
    if (VIRTQ__UNLIKELY(pending > (uint16_t)(vq->published_idx - last)))
        return virtq__used_broken(vq, VIRTQ_BROKEN_USED_IDX);
    /* Step 2: copy the element once; shared memory is never read twice. */
    id = VIRTQ__LD32(&used->ring[last & vq->mask].id);
    ulen = VIRTQ__LD32(&used->ring[last & vq->mask].len);
    /* Step 3: the full 32-bit id must name an in-flight head (not a chain's
       middle, not one already used, not one added but not yet published),
       and the device may not claim to have written more than was posted
       writable. */
    if (VIRTQ__UNLIKELY(id >= vq->num))
        return virtq__used_broken(vq, VIRTQ_BROKEN_USED_ID);
    s = &vq->slot[id];
    c = s->cookie;
    pub = vq->published_idx;
    if (VIRTQ__UNLIKELY(c == NULL ||
                        (ulen > s->wlen && !(vq->flags & VIRTQ__Q_ANY_LEN)) ||
                        (uint16_t)(s->pos - pub) < (uint16_t)(vq->avail_idx - pub)))
        return virtq__used_broken(vq, virtq__slot_fault(vq, s));
    /* Step 4: the caller's (nothing of ours is left to check). */
    *cookie = c;
    if (len != NULL)
        *len = ulen;
    /* Step 5: free the chain through private state only: its links are
       intact from the free list, so splice head..tail back in front. */
    VIRTQ_ASSERT(s->ndesc >= 1u && vq->num_free + s->ndesc <= vq->num);
    s->cookie = NULL;
    vq->slot[s->tail].next = vq->free_head;
    vq->free_head = (uint16_t)id;
    vq->num_free = (uint16_t)(vq->num_free + s->ndesc);
    last++;
    vq->last_used = last;
    /* Keep the device interrupting for the next buffer.  No barrier: this
       is a hint, and every sleep re-arms through virtq_enable_intr().  Not
       after a delayed re-arm, which asked for one interrupt at a set
       buffer: moved back to the next one, the event could fall behind
       what the device has used, and that interrupt would never come. */
    if (VIRTQ__Q_EVENT_IDX != 0u &&
        (vq->flags & (VIRTQ__Q_EVENT_IDX | VIRTQ__Q_INTR_OFF | VIRTQ__Q_DELAYED)) ==
            VIRTQ__Q_EVENT_IDX)
        VIRTQ__ST16(vq->used_event, last);
    return VIRTQ_OK;
}

/* What virtq_get() would say about its next call, without taking
   anything: VIRTQ_OK (a used buffer waits), VIRTQ_EAGAIN (none yet),
   VIRTQ_EINVAL (no usable queue) or VIRTQ_EBROKEN.  The used element is
   checked only when virtq_get() takes it. */
static int virtq__used_state(const struct virtq *vq)
{
    VIRTQ__RING_DISPATCH(vq, virtq__packed_used_state(vq))
    if (vq == NULL || !(vq->flags & VIRTQ__Q_READY))
        return VIRTQ_EINVAL;
    if (vq->flags & VIRTQ__Q_BROKEN)
        return VIRTQ_EBROKEN;
    return VIRTQ__LD16(&vq->used->idx) != vq->last_used ? VIRTQ_OK : VIRTQ_EAGAIN;
}

VIRTQ_API bool virtq_has_used(const struct virtq *vq)
{
    return virtq__used_state(vq) != VIRTQ_EAGAIN;
}

VIRTQ_API void virtq_disable_intr(struct virtq *vq)
{
    VIRTQ__RING_DISPATCH_VOID(vq, virtq__packed_disable_intr(vq))
    if (vq == NULL || !(vq->flags & VIRTQ__Q_READY))
        return;
    vq->flags |= VIRTQ__Q_INTR_OFF; /* a DELAYED bit left here is inert */
    /* "Used Buffer Notification Suppression".  With EVENT_IDX an event one
       behind what we consumed is crossed only after 2^16 more buffers. */
    if (vq->flags & VIRTQ__Q_EVENT_IDX)
        VIRTQ__ST16(vq->used_event, (uint16_t)(vq->last_used - 1u));
    else
        VIRTQ__ST16(&vq->avail->flags, VIRTQ_AVAIL_F_NO_INTERRUPT);
}

/* Re-arm with the event at last_used + delay, then re-check: true if
   more than delay buffers are already used, or virtq_get() has an error
   to report (no usable queue, broken): never sleep on those. */
static bool virtq__arm(struct virtq *vq, uint16_t delay)
{
    if (vq == NULL || (vq->flags & (VIRTQ__Q_READY | VIRTQ__Q_BROKEN)) != VIRTQ__Q_READY)
        return true;
    vq->flags &= (uint16_t)~(VIRTQ__Q_INTR_OFF | VIRTQ__Q_DELAYED);
    if (vq->flags & VIRTQ__Q_EVENT_IDX) {
        VIRTQ__ST16(vq->used_event, (uint16_t)(vq->last_used + delay));
        if (delay != 0u)
            vq->flags |= VIRTQ__Q_DELAYED;
    } else {
        VIRTQ__ST16(&vq->avail->flags, 0);
    }
    /* 2.7.10: the re-arm must be visible before we re-read used.idx, or a
       buffer used in between raises no interrupt and we sleep on it. */
    virtq__mb(vq);
    return (uint16_t)(VIRTQ__LD16(&vq->used->idx) - vq->last_used) > delay;
}

VIRTQ_API bool virtq_enable_intr(struct virtq *vq)
{
    VIRTQ__RING_DISPATCH(vq, virtq__packed_arm(vq, 0))
    return virtq__arm(vq, 0);
}

VIRTQ_API bool virtq_enable_intr_after(struct virtq *vq, unsigned n)
{
    VIRTQ__RING_DISPATCH(vq, virtq__packed_enable_intr_after(vq, n))
    uint16_t outstanding;
    /* Only an event index can ask for a later interrupt; with flags, a
       delay would leave buffers used before the re-arm unannounced. */
    if (vq == NULL || !(vq->flags & VIRTQ__Q_EVENT_IDX))
        return virtq__arm(vq, 0);
    /* Never past the last published buffer: that interrupt would not come. */
    outstanding = (uint16_t)(vq->published_idx - vq->last_used);
    if (n > outstanding)
        n = outstanding;
    return virtq__arm(vq, (uint16_t)(n != 0u ? n - 1u : 0u));
}

/* About 3/4 of what is in flight, as Linux's virtqueue_enable_cb_delayed. */
VIRTQ_API bool virtq_enable_intr_delayed(struct virtq *vq)
{
    VIRTQ__RING_DISPATCH(vq, virtq__packed_enable_intr_delayed(vq))
    uint16_t outstanding;
    if (vq == NULL)
        return true;
    outstanding = (uint16_t)(vq->published_idx - vq->last_used);
    return virtq_enable_intr_after(vq, outstanding * 3u / 4u + 1u);
}

VIRTQ_API bool virtq_is_broken(const struct virtq *vq)
{
    return vq == NULL || (vq->flags & VIRTQ__Q_BROKEN) != 0u;
}

VIRTQ_API unsigned virtq_num_free(const struct virtq *vq)
{
    return vq == NULL ? 0u : vq->num_free;
}

VIRTQ_API void virtq_ignore_used_len(struct virtq *vq, bool ignore)
{
    if (vq == NULL)
        return;
    if (ignore)
        vq->flags |= VIRTQ__Q_ANY_LEN;
    else
        vq->flags &= (uint16_t)~VIRTQ__Q_ANY_LEN;
}

VIRTQ_API int virtq_detach(struct virtq *vq, void **cookie)
{
    if (vq == NULL || cookie == NULL || !(vq->flags & VIRTQ__Q_READY))
        return VIRTQ_EINVAL;
    /* Until the last cookie is out, the queue is unusable: latch broken
       so no add or get interleaves with the hand-back. */
    virtq__break(vq, VIRTQ_BROKEN_DETACH);
    while (vq->detach_pos < vq->num) {
        struct virtq_slot *s = &vq->slot[vq->detach_pos++];
        if (s->cookie != NULL) {
            *cookie = s->cookie;
            s->cookie = NULL;
            return VIRTQ_OK;
        }
    }
    virtq__reset(vq);
    return VIRTQ_EAGAIN;
}
/* ==== end ring_split.h ==== */

/* ==== begin device_flags.h ==== */
/* ---- device_flags.h: private state bits of struct virtq_dev (.state) ---- */
/* The device status machine as the driver saw it: probe, begin,
   FEATURES_OK, DRIVER_OK, NEEDS_RESET/FAILED, and whether the board routed
   the interrupt (WFI waits need it). */
#define VIRTQ__D_PROBED 1u
#define VIRTQ__D_FEATURES_OK 2u
#define VIRTQ__D_DRIVER_OK 4u
#define VIRTQ__D_IRQ_ROUTED 8u
#define VIRTQ__D_BROKEN 16u /* NEEDS_RESET or FAILED seen */
#define VIRTQ__D_BEGUN 32u  /* ACKNOWLEDGE, DRIVER set: features may be negotiated */
/* ==== end device_flags.h ==== */

/* ==== begin transport_select.h ==== */
/* ---- transport_select.h: which transports are built in ------------------ */
/* VIRTQ_TRANSPORTS is a mask of VIRTQ_TRANSPORT_MMIO (1) and
   VIRTQ_TRANSPORT_PCI (2).  Default: MMIO only, so an existing build is
   unchanged; define it to VIRTQ_TRANSPORT_MMIO | VIRTQ_TRANSPORT_PCI (or
   PCI alone) to drive virtio-pci.  It matters only in the implementation
   file: every public declaration and struct is the same either way. */
#ifndef VIRTQ_TRANSPORTS
#define VIRTQ_TRANSPORTS VIRTQ_TRANSPORT_MMIO
#endif
#if (VIRTQ_TRANSPORTS) <= 0 || ((VIRTQ_TRANSPORTS) & ~3) != 0
#error "virtq: VIRTQ_TRANSPORTS must be VIRTQ_TRANSPORT_MMIO | VIRTQ_TRANSPORT_PCI"
#endif
#define VIRTQ__HAS_MMIO (((VIRTQ_TRANSPORTS) & VIRTQ_TRANSPORT_MMIO) != 0)
#define VIRTQ__HAS_PCI (((VIRTQ_TRANSPORTS) & VIRTQ_TRANSPORT_PCI) != 0)

#define VIRTQ__PAGE 4096u /* legacy GuestPageSize and QueueAlign we use */

/* VIRTQ_MMIO_LEGACY 0 leaves out virtio-mmio version 1 ("Legacy
   interface"): virtq_mmio_probe() refuses such a device with
   VIRTQ_ENOTSUP, and every legacy branch compiles away. */
#ifndef VIRTQ_MMIO_LEGACY
#define VIRTQ_MMIO_LEGACY 1
#endif
#define VIRTQ__LEGACY(dev) (VIRTQ_MMIO_LEGACY && (dev)->version == 1u)

#ifndef VIRTQ_RESET_POLLS
#define VIRTQ_RESET_POLLS 100000u /* reads before a device or queue reset times out */
#endif

/* VIRTIO_F_NOTIFICATION_DATA's 32-bit value ("Available Buffer
   Notifications"): vqn, then next_off (15 bits) and next_wrap (bit 31):
   where the device finds the next available buffer, i.e. the published
   position, not avail_idx (chains added since the last virtq_publish()
   are not available yet).  A split ring's avail.idx and a packed ring's
   position with its wrap counter in bit 15 both live in published_idx,
   so one formula serves both. */
static inline uint32_t virtq__notify_data(const struct virtq *vq)
{
    return (uint32_t)vq->index | ((uint32_t)vq->published_idx << 16);
}
/* ==== end transport_select.h ==== */

/* ==== begin transport_mmio.h ==== */
/* ---- transport_mmio.h: virtio-mmio v1 (legacy) and v2 ("Virtio Over MMIO") */
/* The transport interface for virtio-mmio (see transport.h for the
   contract of each operation); device.h and wait.h reach these only
   through transport.h. */
#if VIRTQ__HAS_MMIO

/* Register accesses from a base address.  Functions with several take
   dev->base into a local first: every access's barrier is also a compiler
   barrier, which would reload it from *dev each time. */
#define VIRTQ__R32(base, off) VIRTQ_MMIO_READ32((base) + (uintptr_t)(off))
#define VIRTQ__W32(base, off, v) VIRTQ_MMIO_WRITE32((base) + (uintptr_t)(off), (uint32_t)(v))

VIRTQ_API int virtq_mmio_probe(struct virtq_dev *dev, uintptr_t base)
{
    uint32_t version, id;
    if (dev == NULL || base == 0u)
        return VIRTQ_EINVAL;
    if (VIRTQ_MMIO_READ32(base + VIRTIO_MMIO_MAGIC_VALUE) != VIRTIO_MMIO_MAGIC)
        return VIRTQ_ENODEV;
    version = VIRTQ_MMIO_READ32(base + VIRTIO_MMIO_VERSION);
    if (version != 2u && !(VIRTQ_MMIO_LEGACY && version == 1u))
        return VIRTQ_ENOTSUP;
    /* "Device ID 0 is a placeholder": an empty virtio-mmio slot. */
    id = VIRTQ_MMIO_READ32(base + VIRTIO_MMIO_DEVICE_ID);
    if (id == 0u)
        return VIRTQ_ENODEV;
    /* Field by field: a struct assignment may become a memset call. */
    dev->base = base;
    dev->transport = VIRTQ_TRANSPORT_MMIO;
    dev->version = (uint8_t)version;
    dev->device_id = id;
    dev->vendor_id = VIRTQ_MMIO_READ32(base + VIRTIO_MMIO_VENDOR_ID);
    dev->wait = VIRTQ_WAIT_SPIN;
    dev->state = VIRTQ__D_PROBED;
    dev->early = 0;
    dev->device_features = 0;
    dev->features = 0;
    dev->os_ctx = NULL;
    dev->wake_seq = 0;
    dev->irqs = 0;
    dev->notifies = 0;
    dev->spurious = 0;
    dev->user = NULL;
    return VIRTQ_OK;
}

static uint32_t virtq__mmio_status(const struct virtq_dev *dev)
{
    return VIRTQ__R32(dev->base, VIRTIO_MMIO_STATUS);
}

static void virtq__mmio_set_status(const struct virtq_dev *dev, uint32_t status)
{
    VIRTQ__W32(dev->base, VIRTIO_MMIO_STATUS, status);
}

/* 64-bit features through two 32-bit windows; the select register is
   written before every access ("Feature bits" in "MMIO Device Register
   Layout"). */
static uint64_t virtq__mmio_features(const struct virtq_dev *dev)
{
    const uintptr_t base = dev->base;
    uint64_t f;
    VIRTQ__W32(base, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    f = VIRTQ__R32(base, VIRTIO_MMIO_DEVICE_FEATURES);
    VIRTQ__W32(base, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    f |= (uint64_t)VIRTQ__R32(base, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
    return f;
}

static void virtq__mmio_set_features(const struct virtq_dev *dev, uint64_t f)
{
    const uintptr_t base = dev->base;
    VIRTQ__W32(base, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    VIRTQ__W32(base, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
    VIRTQ__W32(base, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    VIRTQ__W32(base, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
}

/* Select queue index and report its QueueNumMax, or an error if it is
   missing or already live. */
static int virtq__mmio_queue_max(const struct virtq_dev *dev, uint16_t index, uint32_t *max)
{
    const uintptr_t base = dev->base;
    VIRTQ__W32(base, VIRTIO_MMIO_QUEUE_SEL, index);
    if (VIRTQ__R32(base, VIRTQ__LEGACY(dev) ? VIRTIO_MMIO_QUEUE_PFN : VIRTIO_MMIO_QUEUE_READY))
        return VIRTQ_EBUSY;
    *max = VIRTQ__R32(base, VIRTIO_MMIO_QUEUE_NUM_MAX);
    return *max == 0u ? VIRTQ_ENODEV : VIRTQ_OK;
}

/* Hand the (selected, initialised) ring to the device. */
static int virtq__mmio_queue_enable(const struct virtq_dev *dev, const struct virtq *vq)
{
    const uintptr_t base = dev->base;
    uint64_t desc = VIRTQ_VIRT_TO_DMA(vq->desc);
    VIRTQ__W32(base, VIRTIO_MMIO_QUEUE_NUM, vq->num);
    if (VIRTQ__LEGACY(dev)) {
        /* "Legacy interface": GuestPageSize before QueuePFN, which names
           the page holding the whole contiguous ring. */
        VIRTQ__W32(base, VIRTIO_MMIO_GUEST_PAGE_SIZE, VIRTQ__PAGE);
        VIRTQ__W32(base, VIRTIO_MMIO_QUEUE_ALIGN, VIRTQ__PAGE);
        VIRTQ__W32(base, VIRTIO_MMIO_QUEUE_PFN, (uint32_t)(desc / VIRTQ__PAGE));
        return VIRTQ_OK;
    }
    {
        /* QueueDesc, QueueDriver, QueueDevice: low/high pairs 0x10 apart. */
        uint64_t area[3];
        unsigned i;
        area[0] = desc;
        area[1] = VIRTQ_VIRT_TO_DMA(vq->avail);
        area[2] = VIRTQ_VIRT_TO_DMA(vq->used);
        for (i = 0; i < 3u; i++) {
            VIRTQ__W32(base, VIRTIO_MMIO_QUEUE_DESC_LOW + 0x10u * i, (uint32_t)area[i]);
            VIRTQ__W32(base, VIRTIO_MMIO_QUEUE_DESC_HIGH + 0x10u * i, (uint32_t)(area[i] >> 32));
        }
        VIRTQ__W32(base, VIRTIO_MMIO_QUEUE_READY, 1);
        return VIRTQ__R32(base, VIRTIO_MMIO_QUEUE_READY) == 1u ? VIRTQ_OK : VIRTQ_EIO;
    }
}

static void virtq__mmio_notify(const struct virtq_dev *dev, const struct virtq *vq)
{
    /* The MMIO write is ordered after the avail.idx store by the shim
       (RISC-V "fence w,o"): "Available Buffer Notifications". */
    VIRTQ__W32(dev->base, VIRTIO_MMIO_QUEUE_NOTIFY,
               (dev->features & VIRTQ_FEATURE(VIRTIO_F_NOTIFICATION_DATA)) ? virtq__notify_data(vq)
                                                                           : vq->index);
}

/* Read and acknowledge the interrupt causes (VIRTQ_ISR_* bits).  "MMIO
   Device Register Layout": the driver ignores bits the spec does not
   define, so they are neither reported nor acknowledged. */
static uint32_t virtq__mmio_isr(const struct virtq_dev *dev)
{
    const uintptr_t base = dev->base;
    uint32_t st = VIRTQ__R32(base, VIRTIO_MMIO_INTERRUPT_STATUS) &
                  (VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG);
    if (st != 0u)
        VIRTQ__W32(base, VIRTIO_MMIO_INTERRUPT_ACK, st);
    return st;
}

static uint32_t virtq__mmio_generation(const struct virtq_dev *dev)
{
    /* Legacy devices have no ConfigGeneration: treat it as constant. */
    return VIRTQ__LEGACY(dev) ? 0u : VIRTQ__R32(dev->base, VIRTIO_MMIO_CONFIG_GENERATION);
}

/* One config-space access of the given width (1, 2 or 4 bytes). */
static uint32_t virtq__mmio_cfg_read(const struct virtq_dev *dev, uint32_t off, unsigned width)
{
    uintptr_t a = dev->base + VIRTIO_MMIO_CONFIG + off;
    if (width == 1u)
        return VIRTQ_MMIO_READ8(a);
    if (width == 2u)
        return VIRTQ_MMIO_READ16(a);
    return VIRTQ_MMIO_READ32(a);
}

static void virtq__mmio_cfg_write(const struct virtq_dev *dev, uint32_t off, uint32_t v,
                                  unsigned width)
{
    uintptr_t a = dev->base + VIRTIO_MMIO_CONFIG + off;
    if (width == 1u)
        VIRTQ_MMIO_WRITE8(a, (uint8_t)v);
    else if (width == 2u)
        VIRTQ_MMIO_WRITE16(a, (uint16_t)v);
    else
        VIRTQ_MMIO_WRITE32(a, v);
}

/* Bytes of device configuration space the register window holds. */
static uint32_t virtq__mmio_cfg_len(const struct virtq_dev *dev)
{
    (void)dev;
    return 0xf00u;
}

/* A cheap look while spinning: does the device flag a configuration
   change (how NEEDS_RESET arrives)?  Reads without acknowledging, so an
   interrupt handler still sees it. */
static int virtq__mmio_poll(const struct virtq_dev *dev)
{
    return (VIRTQ__R32(dev->base, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTQ_ISR_CONFIG) != 0u;
}
/* No QueueReset register exists before virtio 1.2's MMIO layout, and QEMU
   7.2 offers RING_RESET on virtio-mmio without one: never negotiate it. */
static uint64_t virtq__mmio_unsupported(const struct virtq_dev *dev)
{
    (void)dev;
    return VIRTQ_FEATURE(VIRTIO_F_RING_RESET);
}
/* RING_RESET is never negotiated here (virtq__mmio_unsupported). */
static int virtq__mmio_queue_reset(const struct virtq_dev *dev, const struct virtq *vq)
{
    (void)dev;
    (void)vq;
    return VIRTQ_ENOTSUP;
}
#else /* !VIRTQ__HAS_MMIO: the call exists whatever is built, and says so */

VIRTQ_API int virtq_mmio_probe(struct virtq_dev *dev, uintptr_t base)
{
    (void)dev;
    (void)base;
    return VIRTQ_ENOTSUP;
}
#endif /* VIRTQ__HAS_MMIO */
/* ==== end transport_mmio.h ==== */

/* ==== begin mmio_scan.h ==== */
/* ---- mmio_scan.h: find virtio-mmio devices in a window of slots --------- */
/* virtio-mmio has no enumeration: a platform places slots at a base with a
   stride (QEMU virt riscv64: 8 at 0x10001000, stride 0x1000; aarch64: 32
   at 0x0a000000, stride 0x200) and the device tree lists them.  These
   helpers probe such a window slot by slot (magic, version, device id,
   touching no status), so a driver need not know which slot a device
   landed in: on QEMU virt the first -device takes the LAST slot.  Built
   whatever VIRTQ_TRANSPORTS says; without MMIO they answer VIRTQ_ENOTSUP. */

VIRTQ_API int virtq_mmio_scan(uintptr_t base, uintptr_t stride, unsigned count,
                              struct virtq_mmio_slot *found, unsigned max)
{
    struct virtq_dev probe;
    unsigned i, n = 0;
    if (stride == 0u || (found == NULL && max != 0u))
        return VIRTQ_EINVAL;
    if (!VIRTQ__HAS_MMIO)
        return VIRTQ_ENOTSUP;
    for (i = 0; i < count && n < max; i++) {
        uintptr_t a = base + (uintptr_t)i * stride;
        if (virtq_mmio_probe(&probe, a) != VIRTQ_OK)
            continue; /* no device, an empty slot, or a version virtq lacks */
        found[n].base = a;
        found[n].slot = i;
        found[n].device_id = probe.device_id;
        found[n].version = probe.version;
        n++;
    }
    return (int)n;
}

VIRTQ_API int virtq_mmio_find(struct virtq_dev *dev, uintptr_t base, uintptr_t stride,
                              unsigned count, uint32_t device_id, unsigned nth)
{
    unsigned i;
    if (dev == NULL || stride == 0u || device_id == 0u)
        return VIRTQ_EINVAL;
    if (!VIRTQ__HAS_MMIO)
        return VIRTQ_ENOTSUP;
    /* Slot order, lowest address first; nth counts matching devices. */
    for (i = 0; i < count; i++) {
        if (virtq_mmio_probe(dev, base + (uintptr_t)i * stride) != VIRTQ_OK ||
            dev->device_id != device_id)
            continue;
        if (nth-- == 0u)
            return VIRTQ_OK;
    }
    dev->state = 0; /* a probe that matched another id leaves nothing usable */
    return VIRTQ_ENODEV;
}
/* ==== end mmio_scan.h ==== */

/* ==== begin transport_pci.h ==== */
/* ---- transport_pci.h: virtio-pci modern ("Virtio Over PCI Bus") ---------- */
/* The transport interface (transport.h) over the four structures a modern
   virtio-pci function maps through its BARs, found by walking the PCI
   capability list.  Everything read from configuration space is untrusted:
   a bad value gives an error and a reason in dev->why, never an access
   outside the structure the device declared. */
#if VIRTQ__HAS_PCI

/* PCI configuration space.  cfg is an opaque handle for one function; the
   default treats it as the function's ECAM address (PCIe "Enhanced
   Configuration Access Mechanism").  Port I/O or a firmware's own PCI
   layer replaces any of these. */
#ifndef VIRTQ_PCI_CFG_READ8
#define VIRTQ_PCI_CFG_READ8(cfg, off) VIRTQ_MMIO_READ8((cfg) + (off))
#endif
#ifndef VIRTQ_PCI_CFG_READ16
#define VIRTQ_PCI_CFG_READ16(cfg, off) VIRTQ_MMIO_READ16((cfg) + (off))
#endif
#ifndef VIRTQ_PCI_CFG_READ32
#define VIRTQ_PCI_CFG_READ32(cfg, off) VIRTQ_MMIO_READ32((cfg) + (off))
#endif
#ifndef VIRTQ_PCI_CFG_WRITE16
#define VIRTQ_PCI_CFG_WRITE16(cfg, off, v) VIRTQ_MMIO_WRITE16((cfg) + (off), (v))
#endif
#ifndef VIRTQ_PCI_CFG_WRITE32
#define VIRTQ_PCI_CFG_WRITE32(cfg, off, v) VIRTQ_MMIO_WRITE32((cfg) + (off), (v))
#endif
/* A BAR holds a PCI bus address; where the CPU sees it (identity on QEMU
   virt).  Return 0 if the CPU cannot reach it. */
#ifndef VIRTQ_PCI_BAR_TO_CPU
#define VIRTQ_PCI_BAR_TO_CPU(bus_addr)                                                   \
    ((uint64_t)(bus_addr) > (uint64_t)UINTPTR_MAX ? (uintptr_t)0 : (uintptr_t)(bus_addr))
#endif

/* Type-0 configuration header (PCI Local Bus, "Configuration Space"). */
#define VIRTQ__PCI_VENDOR 0x00
#define VIRTQ__PCI_DEVICE 0x02
#define VIRTQ__PCI_COMMAND 0x04
#define VIRTQ__PCI_STATUS 0x06
#define VIRTQ__PCI_HEADER_TYPE 0x0e
#define VIRTQ__PCI_BAR0 0x10
#define VIRTQ__PCI_SUBSYS_ID 0x2e
#define VIRTQ__PCI_CAP_PTR 0x34
#define VIRTQ__PCI_CMD_MEM 0x2u
#define VIRTQ__PCI_CMD_MASTER 0x4u
#define VIRTQ__PCI_STATUS_CAPS 0x10u
#define VIRTQ__PCI_CAP_ID_VNDR 0x09

#define VIRTQ__C(dev) ((dev)->base) /* the common configuration */

/* ---- configuration-space helpers ---- */

/* Why a capability cannot be used: an index into virtq__pci_why[type]. */
enum {
    VIRTQ__PCI_MISSING,
    VIRTQ__PCI_CAP_LEN,
    VIRTQ__PCI_LENGTH,
    VIRTQ__PCI_BAR_IO,
    VIRTQ__PCI_BAR_64_5,
    VIRTQ__PCI_BAR_UNSET,
    VIRTQ__PCI_BAR_OVER,
    VIRTQ__PCI_BAR_CPU,
    VIRTQ__PCI_MULT,
    VIRTQ__PCI_OK
};
#define VIRTQ__PCI_WHYS(cap)                                                               \
    {                                                                                      \
        cap ": missing", cap ": cap_len shorter than its structure",                       \
            cap ": length shorter than its structure", cap ": bar is an I/O BAR",          \
            cap ": bar is a 64-bit BAR 5 (no upper half)",                                 \
            cap ": bar not implemented or not assigned",                                   \
            cap ": offset + length beyond the BAR's size",                                 \
            cap ": BAR address not reachable by the CPU",                                  \
            cap ": notify_off_multiplier neither 0 nor an even power of 2"                 \
    }
/* Size and place BAR i: *addr its bus address, *size its size (0: not
   implemented), *is64 when it spans BARs i and i+1.  Memory decode is
   off around the all-ones write, as sizing requires.  VIRTQ__PCI_OK, or
   why the BAR cannot hold a structure (virtq maps memory BARs only). */
static int virtq__pci_bar(uintptr_t cfg, unsigned i, uint64_t *addr, uint64_t *size,
                                  int *is64)
{
    uint32_t off = VIRTQ__PCI_BAR0 + 4u * i, lo, hi = 0, slo, shi = 0xffffffffu;
    uint16_t cmd = VIRTQ_PCI_CFG_READ16(cfg, VIRTQ__PCI_COMMAND);
    lo = VIRTQ_PCI_CFG_READ32(cfg, off);
    *is64 = 0;
    *size = 0;
    *addr = 0;
    if (lo & 1u)
        return VIRTQ__PCI_BAR_IO;
    *is64 = ((lo >> 1) & 3u) == 2u;
    if (*is64 && i == 5u)
        return VIRTQ__PCI_BAR_64_5;
    VIRTQ_PCI_CFG_WRITE16(cfg, VIRTQ__PCI_COMMAND, cmd & ~VIRTQ__PCI_CMD_MEM);
    VIRTQ_PCI_CFG_WRITE32(cfg, off, 0xffffffffu);
    slo = VIRTQ_PCI_CFG_READ32(cfg, off);
    VIRTQ_PCI_CFG_WRITE32(cfg, off, lo);
    if (*is64) {
        hi = VIRTQ_PCI_CFG_READ32(cfg, off + 4u);
        VIRTQ_PCI_CFG_WRITE32(cfg, off + 4u, 0xffffffffu);
        shi = VIRTQ_PCI_CFG_READ32(cfg, off + 4u);
        VIRTQ_PCI_CFG_WRITE32(cfg, off + 4u, hi);
    }
    VIRTQ_PCI_CFG_WRITE16(cfg, VIRTQ__PCI_COMMAND, cmd);
    {
        uint64_t mask = ((uint64_t)(*is64 ? shi : 0xffffffffu) << 32) | (slo & ~0xfu);
        *size = (slo & ~0xfu) == 0u && !*is64 ? 0u : (~mask + 1u);
        if (!*is64)
            *size &= 0xffffffffu;
    }
    *addr = ((uint64_t)hi << 32) | (lo & ~0xfu);
    return VIRTQ__PCI_OK;
}

/* ---- the capability walk ("Virtio Structure PCI Capabilities") ---- */

static const char *const virtq__pci_why[5][VIRTQ__PCI_OK] = {
    VIRTQ__PCI_WHYS(""), VIRTQ__PCI_WHYS("common cfg cap"), VIRTQ__PCI_WHYS("notify cap"),
    VIRTQ__PCI_WHYS("isr cap"), VIRTQ__PCI_WHYS("device cfg cap")};

struct virtq__pci_found {
    uintptr_t addr[5]; /* by cfg_type 1..4: CPU address of the structure */
    uint32_t len[5];   /* its length */
    uint32_t mult;     /* notify_off_multiplier */
    uint8_t why[5];    /* VIRTQ__PCI_*: why the first one of a type was refused */
    uint8_t any;       /* saw at least one virtio capability */
};

/* Smallest length each structure must have. */
static uint32_t virtq__pci_min_len(unsigned type)
{
    return type == VIRTIO_PCI_CAP_COMMON_CFG ? VIRTIO_PCI_COMMON_SIZE
           : type == VIRTIO_PCI_CAP_NOTIFY_CFG ? 2u
                                                : 1u;
}

/* Check one virtio capability at pos of a type the driver uses:
   VIRTQ__PCI_OK and the structure recorded in f, or why it is unusable. */
static int virtq__pci_cap(uintptr_t cfg, uint8_t pos, unsigned type, struct virtq__pci_found *f)
{
    uint8_t cap_len = VIRTQ_PCI_CFG_READ8(cfg, pos + VIRTIO_PCI_CAP_LEN);
    unsigned bar = VIRTQ_PCI_CFG_READ8(cfg, pos + VIRTIO_PCI_CAP_BAR);
    uint32_t need = type == VIRTIO_PCI_CAP_NOTIFY_CFG ? VIRTIO_PCI_NOTIFY_CAP_SIZE
                                                      : VIRTIO_PCI_CAP_SIZE;
    uint32_t offset, length;
    uint64_t base, size;
    uintptr_t cpu;
    int is64, why;
    /* 1. the capability itself: long enough, inside configuration space
       (a longer cap_len is accepted) */
    if (cap_len < need || (uint32_t)pos + need > 0x100u)
        return VIRTQ__PCI_CAP_LEN;
    offset = VIRTQ_PCI_CFG_READ32(cfg, pos + VIRTIO_PCI_CAP_OFFSET);
    length = VIRTQ_PCI_CFG_READ32(cfg, pos + VIRTIO_PCI_CAP_LENGTH);
    if (length < virtq__pci_min_len(type))
        return VIRTQ__PCI_LENGTH;
    /* 2. the BAR: memory, assigned, and holding offset + length */
    why = virtq__pci_bar(cfg, bar, &base, &size, &is64);
    if (why != VIRTQ__PCI_OK)
        return why;
    if (size == 0u || base == 0u)
        return VIRTQ__PCI_BAR_UNSET;
    if ((uint64_t)offset + length > size)
        return VIRTQ__PCI_BAR_OVER;
    cpu = VIRTQ_PCI_BAR_TO_CPU(base + offset);
    if (cpu == 0u)
        return VIRTQ__PCI_BAR_CPU;
    /* 3. notify_off_multiplier: 0 (one address for all) or a power of 2
       of at least 2 (the per-queue offset is checked at queue setup) */
    if (type == VIRTIO_PCI_CAP_NOTIFY_CFG) {
        uint32_t m = VIRTQ_PCI_CFG_READ32(cfg, pos + VIRTIO_PCI_NOTIFY_CAP_MULT);
        if (m == 1u || (m & (m - 1u)) != 0u)
            return VIRTQ__PCI_MULT;
        f->mult = m;
    }
    f->addr[type] = cpu;
    f->len[type] = length;
    return VIRTQ__PCI_OK;
}

/* Walk the list: first usable capability of each type wins; a reserved
   bar or cfg_type is ignored ("The driver MUST ignore ...").  A list that
   loops or points outside 0x40..0xff is refused outright. */
static const char *virtq__pci_walk(uintptr_t cfg, struct virtq__pci_found *f)
{
    uint32_t seen_lo = 0, seen_hi = 0; /* dwords visited (no 64-bit shifts on rv32) */
    uint8_t pos = (uint8_t)(VIRTQ_PCI_CFG_READ8(cfg, VIRTQ__PCI_CAP_PTR) & 0xfcu);
    while (pos != 0u) {
        unsigned type, bar;
        if (pos < 0x40u)
            return "capability list: next pointer outside 0x40..0xff";
        {
            uint32_t *seen = pos >= 0x80u ? &seen_hi : &seen_lo, bit = 1u << ((pos >> 2) & 31u);
            if (*seen & bit)
                return "capability list: loop";
            *seen |= bit;
        }
        /* A virtio capability needs 16 bytes: one closer to the end of
           configuration space cannot be one (its fields are not read). */
        if (VIRTQ_PCI_CFG_READ8(cfg, pos) == VIRTQ__PCI_CAP_ID_VNDR &&
            pos <= 0x100u - VIRTIO_PCI_CAP_SIZE) {
            type = VIRTQ_PCI_CFG_READ8(cfg, pos + VIRTIO_PCI_CAP_CFG_TYPE);
            bar = VIRTQ_PCI_CFG_READ8(cfg, pos + VIRTIO_PCI_CAP_BAR);
            if (type >= VIRTIO_PCI_CAP_COMMON_CFG && type <= VIRTIO_PCI_CAP_DEVICE_CFG &&
                bar <= 5u) {
                f->any = 1;
                if (f->addr[type] == 0u) {
                    int why = virtq__pci_cap(cfg, pos, type, f);
                    if (why != VIRTQ__PCI_OK && f->why[type] == VIRTQ__PCI_MISSING)
                        f->why[type] = (uint8_t)why;
                }
            }
        }
        pos = (uint8_t)(VIRTQ_PCI_CFG_READ8(cfg, pos + VIRTIO_PCI_CAP_NEXT) & 0xfcu);
    }
    return NULL;
}

/* ---- probe ---- */

/* Device type from the PCI ids ("PCI Device Discovery"), 0 if none. */
static uint32_t virtq__pci_type(uintptr_t cfg)
{
    uint16_t id = VIRTQ_PCI_CFG_READ16(cfg, VIRTQ__PCI_DEVICE);
    if (VIRTQ_PCI_CFG_READ16(cfg, VIRTQ__PCI_VENDOR) != VIRTIO_PCI_VENDOR_ID)
        return 0;
    if (id >= VIRTIO_PCI_DEVICE_ID_MODERN && id <= VIRTIO_PCI_DEVICE_ID_MODERN + 0x3fu)
        return id - VIRTIO_PCI_DEVICE_ID_MODERN;
    if (id >= VIRTIO_PCI_DEVICE_ID_TRANS_LO && id <= VIRTIO_PCI_DEVICE_ID_TRANS_HI)
        return VIRTQ_PCI_CFG_READ16(cfg, VIRTQ__PCI_SUBSYS_ID);
    return 0;
}

/* Fail the probe with a reason: nothing else in dev was touched. */
static int virtq__pci_refuse(struct virtq_dev *dev, int err, const char *why)
{
    dev->why = why;
    dev->state = 0; /* unprobed: every other call refuses it */
    return err;
}

/* Every required structure found (common, notify, ISR; the device
   configuration is optional: not every device type has one)? */
static int virtq__pci_check_found(struct virtq_dev *dev, const struct virtq__pci_found *f)
{
    unsigned t;
    if (!f->any)
        return virtq__pci_refuse(dev, VIRTQ_ENOTSUP,
                                 "legacy-only device: no virtio capabilities");
    for (t = VIRTIO_PCI_CAP_COMMON_CFG; t <= VIRTIO_PCI_CAP_ISR_CFG; t++)
        if (f->addr[t] == 0u)
            return virtq__pci_refuse(dev, VIRTQ_EIO, virtq__pci_why[t][f->why[t]]);
    return VIRTQ_OK;
}

VIRTQ_API int virtq_pci_probe(struct virtq_dev *dev, uintptr_t cfg)
{
    struct virtq__pci_found f;
    uint32_t type;
    unsigned t;
    int rc;
    if (dev == NULL || cfg == 0u)
        return VIRTQ_EINVAL;
    dev->why = NULL;
    /* 1. identity */
    type = virtq__pci_type(cfg);
    if (type == 0u)
        return virtq__pci_refuse(dev, VIRTQ_ENODEV, "not a virtio-pci function (ids)");
    if ((VIRTQ_PCI_CFG_READ8(cfg, VIRTQ__PCI_HEADER_TYPE) & 0x7fu) != 0u)
        return virtq__pci_refuse(dev, VIRTQ_ENODEV, "not a type-0 header");
    if (!(VIRTQ_PCI_CFG_READ16(cfg, VIRTQ__PCI_STATUS) & VIRTQ__PCI_STATUS_CAPS))
        return virtq__pci_refuse(dev, VIRTQ_ENOTSUP,
                                 "legacy-only device: no capability list");
    /* 2. the capabilities */
    for (t = 0; t < 5u; t++) {
        f.addr[t] = 0;
        f.len[t] = 0;
        f.why[t] = VIRTQ__PCI_MISSING;
    }
    f.mult = 0;
    f.any = 0;
    {
        const char *why = virtq__pci_walk(cfg, &f);
        if (why != NULL)
            return virtq__pci_refuse(dev, VIRTQ_EIO, why);
    }
    rc = virtq__pci_check_found(dev, &f);
    if (rc != VIRTQ_OK)
        return rc;
    /* 3. decode and DMA on; then the device, field by field */
    VIRTQ_PCI_CFG_WRITE16(cfg, VIRTQ__PCI_COMMAND,
                          VIRTQ_PCI_CFG_READ16(cfg, VIRTQ__PCI_COMMAND) | VIRTQ__PCI_CMD_MEM |
                              VIRTQ__PCI_CMD_MASTER);
    dev->base = f.addr[VIRTIO_PCI_CAP_COMMON_CFG];
    dev->common_len = f.len[VIRTIO_PCI_CAP_COMMON_CFG];
    dev->notify_base = f.addr[VIRTIO_PCI_CAP_NOTIFY_CFG];
    dev->notify_len = f.len[VIRTIO_PCI_CAP_NOTIFY_CFG];
    dev->notify_mult = f.mult;
    dev->isr = f.addr[VIRTIO_PCI_CAP_ISR_CFG];
    dev->device_cfg = f.addr[VIRTIO_PCI_CAP_DEVICE_CFG];
    dev->device_cfg_len = f.len[VIRTIO_PCI_CAP_DEVICE_CFG] > 0x1000u
                              ? 0x1000u
                              : f.len[VIRTIO_PCI_CAP_DEVICE_CFG];
    dev->pci_cfg = cfg;
    dev->transport = VIRTQ_TRANSPORT_PCI;
    dev->version = 2; /* modern: VERSION_1 and FEATURES_OK are required */
    dev->device_id = type;
    dev->vendor_id = VIRTIO_PCI_VENDOR_ID;
    dev->wait = VIRTQ_WAIT_SPIN;
    dev->state = VIRTQ__D_PROBED;
    dev->early = 0;
    dev->device_features = 0;
    dev->features = 0;
    dev->os_ctx = NULL;
    dev->wake_seq = 0;
    dev->irqs = 0;
    dev->notifies = 0;
    dev->spurious = 0;
    dev->user = NULL;
    return VIRTQ_OK;
}

/* ---- the transport interface (see transport.h) ---- */

#define VIRTQ__PCI_R8(dev, off) VIRTQ_MMIO_READ8(VIRTQ__C(dev) + (off))
#define VIRTQ__PCI_R16(dev, off) VIRTQ_MMIO_READ16(VIRTQ__C(dev) + (off))
#define VIRTQ__PCI_R32(dev, off) VIRTQ_MMIO_READ32(VIRTQ__C(dev) + (off))
#define VIRTQ__PCI_W8(dev, off, v) VIRTQ_MMIO_WRITE8(VIRTQ__C(dev) + (off), (uint8_t)(v))
#define VIRTQ__PCI_W16(dev, off, v) VIRTQ_MMIO_WRITE16(VIRTQ__C(dev) + (off), (uint16_t)(v))
#define VIRTQ__PCI_W32(dev, off, v) VIRTQ_MMIO_WRITE32(VIRTQ__C(dev) + (off), (uint32_t)(v))

static uint32_t virtq__pci_status(const struct virtq_dev *dev)
{
    return VIRTQ__PCI_R8(dev, VIRTIO_PCI_COMMON_STATUS);
}

static void virtq__pci_set_status(const struct virtq_dev *dev, uint32_t status)
{
    VIRTQ__PCI_W8(dev, VIRTIO_PCI_COMMON_STATUS, status);
}

static uint64_t virtq__pci_features(const struct virtq_dev *dev)
{
    uint64_t f;
    VIRTQ__PCI_W32(dev, VIRTIO_PCI_COMMON_DFSELECT, 0);
    f = VIRTQ__PCI_R32(dev, VIRTIO_PCI_COMMON_DF);
    VIRTQ__PCI_W32(dev, VIRTIO_PCI_COMMON_DFSELECT, 1);
    f |= (uint64_t)VIRTQ__PCI_R32(dev, VIRTIO_PCI_COMMON_DF) << 32;
    return f;
}

static void virtq__pci_set_features(const struct virtq_dev *dev, uint64_t f)
{
    VIRTQ__PCI_W32(dev, VIRTIO_PCI_COMMON_GFSELECT, 0);
    VIRTQ__PCI_W32(dev, VIRTIO_PCI_COMMON_GF, (uint32_t)f);
    VIRTQ__PCI_W32(dev, VIRTIO_PCI_COMMON_GFSELECT, 1);
    VIRTQ__PCI_W32(dev, VIRTIO_PCI_COMMON_GF, (uint32_t)(f >> 32));
}

/* queue_reset exists only in a common configuration long enough to hold
   it; without it RING_RESET cannot be driven. */
static uint64_t virtq__pci_unsupported(const struct virtq_dev *dev)
{
    return dev->common_len < VIRTIO_PCI_COMMON_SIZE_RESET ? VIRTQ_FEATURE(VIRTIO_F_RING_RESET)
                                                           : 0u;
}

static int virtq__pci_queue_max(const struct virtq_dev *dev, uint16_t index, uint32_t *max)
{
    if (index >= VIRTQ__PCI_R16(dev, VIRTIO_PCI_COMMON_NUMQ))
        return VIRTQ_ENODEV;
    VIRTQ__PCI_W16(dev, VIRTIO_PCI_COMMON_Q_SELECT, index);
    if (VIRTQ__PCI_R16(dev, VIRTIO_PCI_COMMON_Q_ENABLE) != 0u)
        return VIRTQ_EBUSY;
    *max = VIRTQ__PCI_R16(dev, VIRTIO_PCI_COMMON_Q_SIZE);
    return *max == 0u ? VIRTQ_ENODEV : VIRTQ_OK;
}

/* Bytes one notification writes: the queue index, or with
   NOTIFICATION_DATA the 32-bit value ("Available Buffer Notifications"). */
static uint32_t virtq__pci_notify_width(const struct virtq_dev *dev)
{
    return (dev->features & VIRTQ_FEATURE(VIRTIO_F_NOTIFICATION_DATA)) ? 4u : 2u;
}

/* The queue's notification address, "cap.offset + queue_notify_off *
   notify_off_multiplier", checked to lie, aligned, inside the structure. */
static int virtq__pci_notify_addr(struct virtq_dev *dev, struct virtq *vq)
{
    uint64_t off = (uint64_t)VIRTQ__PCI_R16(dev, VIRTIO_PCI_COMMON_Q_NOFF) * dev->notify_mult;
    uint32_t width = virtq__pci_notify_width(dev);
    if (off + width > dev->notify_len) {
        dev->why = "notify cap: queue_notify_off * notify_off_multiplier beyond its length";
        return VIRTQ_EIO;
    }
    if ((dev->notify_base + (uintptr_t)off) & (width - 1u)) {
        dev->why = "notify cap: queue notify address unaligned";
        return VIRTQ_EIO;
    }
    vq->notify = dev->notify_base + (uintptr_t)off;
    return VIRTQ_OK;
}

/* On the selected queue: size (read back), ring addresses, notification
   address, then queue_enable, written once and last ("Virtqueue
   Configuration": the other fields before enabling). */
static int virtq__pci_queue_enable(struct virtq_dev *dev, struct virtq *vq)
{
    uint64_t desc = VIRTQ_VIRT_TO_DMA(vq->desc), avail = VIRTQ_VIRT_TO_DMA(vq->avail),
             used = VIRTQ_VIRT_TO_DMA(vq->used);
    int rc;
    VIRTQ__PCI_W16(dev, VIRTIO_PCI_COMMON_Q_SIZE, vq->num);
    if (VIRTQ__PCI_R16(dev, VIRTIO_PCI_COMMON_Q_SIZE) != vq->num) {
        dev->why = "common cfg: queue_size did not read back as written";
        return VIRTQ_EIO;
    }
    VIRTQ__PCI_W32(dev, VIRTIO_PCI_COMMON_Q_DESCLO, (uint32_t)desc);
    VIRTQ__PCI_W32(dev, VIRTIO_PCI_COMMON_Q_DESCHI, (uint32_t)(desc >> 32));
    VIRTQ__PCI_W32(dev, VIRTIO_PCI_COMMON_Q_AVAILLO, (uint32_t)avail);
    VIRTQ__PCI_W32(dev, VIRTIO_PCI_COMMON_Q_AVAILHI, (uint32_t)(avail >> 32));
    VIRTQ__PCI_W32(dev, VIRTIO_PCI_COMMON_Q_USEDLO, (uint32_t)used);
    VIRTQ__PCI_W32(dev, VIRTIO_PCI_COMMON_Q_USEDHI, (uint32_t)(used >> 32));
    rc = virtq__pci_notify_addr(dev, vq);
    if (rc != VIRTQ_OK)
        return rc;
    VIRTQ__PCI_W16(dev, VIRTIO_PCI_COMMON_Q_ENABLE, 1);
    if (VIRTQ__PCI_R16(dev, VIRTIO_PCI_COMMON_Q_ENABLE) != 1u) {
        dev->why = "common cfg: queue_enable did not read back as 1";
        return VIRTQ_EIO;
    }
    return VIRTQ_OK;
}

/* VIRTIO_F_RING_RESET: write 1 to queue_reset, then the reset is done
   only once it reads back 0 (with queue_enable 0). */
static int virtq__pci_queue_reset(const struct virtq_dev *dev, const struct virtq *vq)
{
    uint32_t i;
    VIRTQ__PCI_W16(dev, VIRTIO_PCI_COMMON_Q_SELECT, vq->index);
    VIRTQ__PCI_W16(dev, VIRTIO_PCI_COMMON_Q_RESET, 1);
    for (i = 0; i < VIRTQ_RESET_POLLS; i++) {
        if (VIRTQ__PCI_R16(dev, VIRTIO_PCI_COMMON_Q_RESET) == 0u)
            return VIRTQ__PCI_R16(dev, VIRTIO_PCI_COMMON_Q_ENABLE) == 0u ? VIRTQ_OK : VIRTQ_EIO;
        VIRTQ_CPU_RELAX();
    }
    return VIRTQ_ETIMEDOUT;
}

static void virtq__pci_notify(const struct virtq_dev *dev, const struct virtq *vq)
{
    /* Ordered after the avail.idx store by the MMIO write shim. */
    if (dev->features & VIRTQ_FEATURE(VIRTIO_F_NOTIFICATION_DATA))
        VIRTQ_MMIO_WRITE32(vq->notify, virtq__notify_data(vq));
    else
        VIRTQ_MMIO_WRITE16(vq->notify, vq->index);
}

/* Reading the ISR status is the acknowledgement ("ISR status
   capability"); undefined bits are ignored.  0: not this device's
   interrupt (INTx lines are shared). */
static uint32_t virtq__pci_isr(const struct virtq_dev *dev)
{
    return VIRTQ_MMIO_READ8(dev->isr) & (VIRTQ_ISR_QUEUE | VIRTQ_ISR_CONFIG);
}

/* While spinning: the ISR cannot be peeked (reading acknowledges), so look
   at device_status itself. */
static int virtq__pci_poll(const struct virtq_dev *dev)
{
    return (virtq__pci_status(dev) & (VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED)) != 0u;
}

static uint32_t virtq__pci_generation(const struct virtq_dev *dev)
{
    return VIRTQ__PCI_R8(dev, VIRTIO_PCI_COMMON_CFGGENERATION);
}

static uint32_t virtq__pci_cfg_read(const struct virtq_dev *dev, uint32_t off, unsigned width)
{
    uintptr_t a = dev->device_cfg + off;
    if (width == 1u)
        return VIRTQ_MMIO_READ8(a);
    if (width == 2u)
        return VIRTQ_MMIO_READ16(a);
    return VIRTQ_MMIO_READ32(a);
}

static void virtq__pci_cfg_write(const struct virtq_dev *dev, uint32_t off, uint32_t v,
                                 unsigned width)
{
    uintptr_t a = dev->device_cfg + off;
    if (width == 1u)
        VIRTQ_MMIO_WRITE8(a, v);
    else if (width == 2u)
        VIRTQ_MMIO_WRITE16(a, v);
    else
        VIRTQ_MMIO_WRITE32(a, v);
}

static uint32_t virtq__pci_cfg_len(const struct virtq_dev *dev)
{
    return dev->device_cfg_len;
}

/* ---- BAR assignment for firmware that enumerates nothing ---- */

/* Size memory BAR i (decode must be off); 0 when not implemented or an
   I/O BAR.  *is64 when it takes BARs i and i+1. */
static uint64_t virtq__pci_bar_size(uintptr_t cfg, unsigned i, int *is64)
{
    uint32_t off = VIRTQ__PCI_BAR0 + 4u * i, orig = VIRTQ_PCI_CFG_READ32(cfg, off), lo,
             hi = 0xffffffffu;
    uint64_t mask;
    *is64 = ((orig >> 1) & 3u) == 2u && !(orig & 1u) && i < 5u;
    if (orig & 1u)
        return 0; /* I/O space: not ours to place */
    /* All ones, read the size mask, put the old value back: a failed
       assignment leaves every BAR as it was. */
    VIRTQ_PCI_CFG_WRITE32(cfg, off, 0xffffffffu);
    lo = VIRTQ_PCI_CFG_READ32(cfg, off) & ~0xfu;
    VIRTQ_PCI_CFG_WRITE32(cfg, off, orig);
    if (*is64) {
        uint32_t orig_hi = VIRTQ_PCI_CFG_READ32(cfg, off + 4u);
        VIRTQ_PCI_CFG_WRITE32(cfg, off + 4u, 0xffffffffu);
        hi = VIRTQ_PCI_CFG_READ32(cfg, off + 4u);
        VIRTQ_PCI_CFG_WRITE32(cfg, off + 4u, orig_hi);
    }
    if (lo == 0u && (!*is64 || hi == 0u))
        return 0;
    mask = ((uint64_t)hi << 32) | lo;
    return *is64 ? ~mask + 1u : (uint64_t)(uint32_t)(~lo + 1u);
}

VIRTQ_API int virtq_pci_assign_bars(uintptr_t cfg, uint64_t *next, uint64_t end)
{
    uint64_t at;
    uint16_t cmd;
    unsigned i;
    if (cfg == 0u || next == NULL)
        return VIRTQ_EINVAL;
    if (VIRTQ_PCI_CFG_READ16(cfg, VIRTQ__PCI_VENDOR) == 0xffffu ||
        (VIRTQ_PCI_CFG_READ8(cfg, VIRTQ__PCI_HEADER_TYPE) & 0x7fu) != 0u)
        return VIRTQ_ENODEV;
    /* 1. decode off while BARs move */
    cmd = VIRTQ_PCI_CFG_READ16(cfg, VIRTQ__PCI_COMMAND);
    VIRTQ_PCI_CFG_WRITE16(cfg, VIRTQ__PCI_COMMAND, cmd & ~VIRTQ__PCI_CMD_MEM);
    /* 2. each memory BAR at the next multiple of its size */
    for (at = *next, i = 0; i < 6u; i++) {
        int is64;
        uint64_t size = virtq__pci_bar_size(cfg, i, &is64);
        uint32_t off = VIRTQ__PCI_BAR0 + 4u * i;
        if (size == 0u) {
            i += (unsigned)is64;
            continue;
        }
        at = (at + size - 1u) & ~(size - 1u);
        if (at < *next || at > end || end - at < size || (!is64 && at + size - 1u > 0xffffffffu))
            return VIRTQ_ENOSPC; /* decode stays off: nothing half-mapped is live */
        VIRTQ_PCI_CFG_WRITE32(cfg, off, (uint32_t)at);
        if (is64)
            VIRTQ_PCI_CFG_WRITE32(cfg, off + 4u, (uint32_t)(at >> 32));
        at += size;
        i += (unsigned)is64;
    }
    /* 3. decode and bus mastering on */
    VIRTQ_PCI_CFG_WRITE16(cfg, VIRTQ__PCI_COMMAND,
                          cmd | VIRTQ__PCI_CMD_MEM | VIRTQ__PCI_CMD_MASTER);
    *next = at;
    return VIRTQ_OK;
}

#else /* !VIRTQ__HAS_PCI: the calls exist (one API whatever is built), and say so */

VIRTQ_API int virtq_pci_probe(struct virtq_dev *dev, uintptr_t cfg)
{
    (void)dev;
    (void)cfg;
    return VIRTQ_ENOTSUP;
}

/* NOLINTNEXTLINE(readability-non-const-parameter): the built-in form advances *next */
VIRTQ_API int virtq_pci_assign_bars(uintptr_t cfg, uint64_t *next, uint64_t end)
{
    (void)cfg;
    (void)next;
    (void)end;
    return VIRTQ_ENOTSUP;
}
#endif /* VIRTQ__HAS_PCI */
/* ==== end transport_pci.h ==== */

/* ==== begin transport.h ==== */
/* ---- transport.h: the transport seam ------------------------------------- */
/* The one interface between the device layer (device.h, wait.h) and a
   transport (transport_mmio.h, transport_pci.h).  Nothing above this file
   names a register.  Each transport provides, as virtq__<t>_<op>:

     status / set_status      the device status byte
     features / set_features  64-bit device / driver feature bits
     unsupported              features this transport cannot carry (mask)
     queue_max                select a queue, refuse a live one, its max size
     queue_enable             size + ring addresses + ready, on the selected queue
     queue_reset              VIRTIO_F_RING_RESET's reset of one queue
     notify                   an available buffer notification for a queue
     isr                      read and acknowledge the interrupt causes
     poll                     cheap look for a pending config change
     generation               configuration generation
     cfg_read / cfg_write     device configuration space, 1/2/4 bytes
     cfg_len                  bytes of device configuration space

   With one transport built in, each wrapper below is a direct call the
   compiler inlines: no dispatch at all.  With both, it is a branch on
   dev->transport (recorded by the probe), never a function pointer. */

#if VIRTQ__HAS_MMIO && VIRTQ__HAS_PCI
#define VIRTQ__T(dev, op, args)                                                   \
    ((dev)->transport == VIRTQ_TRANSPORT_PCI ? virtq__pci_##op args : virtq__mmio_##op args)
#elif VIRTQ__HAS_PCI
#define VIRTQ__T(dev, op, args) virtq__pci_##op args
#else
#define VIRTQ__T(dev, op, args) virtq__mmio_##op args
#endif

static inline uint32_t virtq__t_status(const struct virtq_dev *dev)
{
    return VIRTQ__T(dev, status, (dev));
}

static inline void virtq__t_set_status(const struct virtq_dev *dev, uint32_t status)
{
    VIRTQ__T(dev, set_status, (dev, status));
}

static inline uint64_t virtq__t_features(const struct virtq_dev *dev)
{
    return VIRTQ__T(dev, features, (dev));
}

static inline void virtq__t_set_features(const struct virtq_dev *dev, uint64_t f)
{
    VIRTQ__T(dev, set_features, (dev, f));
}

static inline uint64_t virtq__t_unsupported(const struct virtq_dev *dev)
{
    return VIRTQ__T(dev, unsupported, (dev));
}

static inline int virtq__t_queue_max(const struct virtq_dev *dev, uint16_t index, uint32_t *max)
{
    return VIRTQ__T(dev, queue_max, (dev, index, max));
}

static inline int virtq__t_queue_enable(struct virtq_dev *dev, struct virtq *vq)
{
    return VIRTQ__T(dev, queue_enable, (dev, vq));
}

static inline int virtq__t_queue_reset(const struct virtq_dev *dev, const struct virtq *vq)
{
    return VIRTQ__T(dev, queue_reset, (dev, vq));
}

static inline void virtq__t_notify(const struct virtq_dev *dev, const struct virtq *vq)
{
    VIRTQ__T(dev, notify, (dev, vq));
}

static inline uint32_t virtq__t_isr(const struct virtq_dev *dev)
{
    return VIRTQ__T(dev, isr, (dev));
}

static inline int virtq__t_poll(const struct virtq_dev *dev)
{
    return VIRTQ__T(dev, poll, (dev));
}

static inline uint32_t virtq__t_generation(const struct virtq_dev *dev)
{
    return VIRTQ__T(dev, generation, (dev));
}

static inline uint32_t virtq__t_cfg_read(const struct virtq_dev *dev, uint32_t off, unsigned width)
{
    return VIRTQ__T(dev, cfg_read, (dev, off, width));
}

static inline void virtq__t_cfg_write(const struct virtq_dev *dev, uint32_t off, uint32_t v,
                                      unsigned width)
{
    VIRTQ__T(dev, cfg_write, (dev, off, v, width));
}

static inline uint32_t virtq__t_cfg_len(const struct virtq_dev *dev)
{
    return VIRTQ__T(dev, cfg_len, (dev));
}
/* ==== end transport.h ==== */

/* ==== begin device.h ==== */
/* ---- device.h: status machine, features, queues, config ("Device
   Initialization", "Device Status Field") ---------------------------------- */

/* Feature bits virtq cannot drive, so never negotiates: the packed ring
   unless it is built in (VIRTQ_RINGS, ring_select.h); plus, per device,
   what its transport cannot carry (virtq__t_unsupported). */
#define VIRTQ__UNSUPPORTED \
    ((VIRTQ_FEATURE(VIRTIO_F_RING_PACKED) & ~VIRTQ__RING_FEATURES) | VIRTQ__FEATURES_OUT)

#ifndef VIRTQ_CONFIG_RETRIES
#define VIRTQ_CONFIG_RETRIES 64u /* ConfigGeneration retries before EIO */
#endif

#if VIRTQ_USE_ATOMICS
#define VIRTQ__BUMP(p) ((void)__atomic_fetch_add((p), 1u, __ATOMIC_RELAXED))
#else
/* Spelled out: C++20 deprecates compound assignment to a volatile. */
#define VIRTQ__BUMP(p) ((void)(*(p) = *(p) + 1u))
#endif

VIRTQ__INLINE int virtq__dev_ok(const struct virtq_dev *dev)
{
    return dev != NULL && (dev->state & VIRTQ__D_PROBED);
}

static void virtq__add_status(const struct virtq_dev *dev, uint32_t bit)
{
    virtq__t_set_status(dev, virtq__t_status(dev) | bit);
}

VIRTQ_API int virtq_dev_reset(struct virtq_dev *dev)
{
    uint32_t i;
    if (!virtq__dev_ok(dev))
        return VIRTQ_EINVAL;
    virtq__t_set_status(dev, 0);
    /* "Device Reset": not complete until the status reads back 0. */
    for (i = 0; i < VIRTQ_RESET_POLLS; i++) {
        if (virtq__t_status(dev) == 0u) {
            dev->state = (uint8_t)(VIRTQ__D_PROBED | (dev->state & VIRTQ__D_IRQ_ROUTED));
            dev->features = 0;
            return VIRTQ_OK;
        }
        VIRTQ_CPU_RELAX();
    }
    return VIRTQ_ETIMEDOUT;
}

VIRTQ_API int virtq_dev_begin(struct virtq_dev *dev)
{
    int rc = virtq_dev_reset(dev);
    if (rc != VIRTQ_OK)
        return rc;
    /* "Device Initialization" steps 2 and 3. */
    virtq__add_status(dev, VIRTIO_STATUS_ACKNOWLEDGE);
    virtq__add_status(dev, VIRTIO_STATUS_DRIVER);
    dev->device_features = virtq__t_features(dev);
    dev->state |= VIRTQ__D_BEGUN;
    return VIRTQ_OK;
}

VIRTQ_API int virtq_dev_negotiate(struct virtq_dev *dev, uint64_t wanted, uint64_t required)
{
    uint64_t accepted, unsupported;
    /* Only between begin and FEATURES_OK: before begin the status is not
       DRIVER, and a FAILED device must be reset first ("Device Status
       Field"), so either way nothing may be written. */
    if (!virtq__dev_ok(dev) ||
        (dev->state & (VIRTQ__D_BEGUN | VIRTQ__D_FEATURES_OK | VIRTQ__D_DRIVER_OK)) != VIRTQ__D_BEGUN)
        return VIRTQ_EINVAL;
    /* "Legacy Interface: Device Initialization": a modern device must be
       driven as one, which VERSION_1 says. */
    if (!VIRTQ__LEGACY(dev))
        required |= VIRTQ_FEATURE(VIRTIO_F_VERSION_1);
    required |= VIRTQ__RING_REQUIRED; /* a packed-only build needs RING_PACKED */
    /* Never accept what virtq cannot drive (the packed ring, for now): a
       device that agreed to it would expect a layout virtq never builds. */
    unsupported = VIRTQ__UNSUPPORTED | virtq__t_unsupported(dev);
    if (required & (~dev->device_features | unsupported)) {
        virtq_dev_fail(dev);
        return VIRTQ_ENOTSUP;
    }
    /* The packed ring, when built in, is taken whenever offered. */
    accepted = dev->device_features & (wanted | required | VIRTQ__RING_FEATURES) &
               ~unsupported;
    virtq__t_set_features(dev, accepted);
    if (!VIRTQ__LEGACY(dev)) {
        /* Step 5-6: FEATURES_OK, then re-read it: the device may refuse. */
        virtq__add_status(dev, VIRTIO_STATUS_FEATURES_OK);
        if (!(virtq__t_status(dev) & VIRTIO_STATUS_FEATURES_OK)) {
            virtq_dev_fail(dev);
            return VIRTQ_EIO;
        }
    }
    dev->features = accepted;
    dev->state |= VIRTQ__D_FEATURES_OK;
    return VIRTQ_OK;
}

/* Queues are set up between FEATURES_OK and DRIVER_OK, or, with
   VIRTIO_F_RING_RESET, again after a queue reset on a running device. */
static int virtq__setup_allowed(const struct virtq_dev *dev)
{
    if (!(dev->state & VIRTQ__D_FEATURES_OK))
        return 0;
    return !(dev->state & VIRTQ__D_DRIVER_OK) ||
           (dev->features & VIRTQ_FEATURE(VIRTIO_F_RING_RESET)) != 0u;
}

VIRTQ_API int virtq_dev_queue_setup(struct virtq_dev *dev, struct virtq *vq, uint16_t index,
                                    uint32_t num, void *mem, struct virtq_slot *slots)
{
    uint32_t max, align;
    uint64_t page = VIRTQ_VIRT_TO_DMA(mem) / VIRTQ__PAGE;
    int rc;
    if (!virtq__dev_ok(dev) || vq == NULL || num == 0u || !virtq__setup_allowed(dev))
        return VIRTQ_EINVAL;
    align = VIRTQ__LEGACY(dev) ? VIRTQ_ALIGN_LEGACY : VIRTQ_ALIGN_MODERN;
    /* Legacy QueuePFN is a 32-bit page number. */
    /* cppcheck-suppress knownConditionTrueFalse ; cppcheck 2.10 bounds pointer values */
    if (VIRTQ__LEGACY(dev) && page != (uint32_t)page)
        return VIRTQ_EINVAL;
    rc = virtq__t_queue_max(dev, index, &max);
    if (rc != VIRTQ_OK)
        return rc;
    if (num > max)
        num = max;
    if (num > VIRTQ_MAX_SIZE)
        num = VIRTQ_MAX_SIZE;
    /* Split rings are a power of two; packed ones any size ("Structure
       Size and Alignment"), so they keep min(num, QueueNumMax). */
    while (!(dev->features & VIRTQ__RING_FEATURES) && !virtq__pow2(num))
        num &= num - 1u; /* round down to a power of two */
    rc = virtq_init(vq, num, align, mem, slots, dev->features);
    if (rc != VIRTQ_OK)
        return rc;
    vq->index = index;
    rc = virtq__t_queue_enable(dev, vq);
    if (rc != VIRTQ_OK) {
        /* The ready/enable write did not stick: the queue is unusable
           (every call on it fails with VIRTQ_EINVAL) and the device FAILED
           ("Device Initialization": an irrecoverable step) until a reset. */
        vq->flags = 0;
        vq->num_free = 0;
        virtq_dev_fail(dev);
    }
    return rc;
}

VIRTQ_API int virtq_dev_queue_reset(struct virtq_dev *dev, struct virtq *vq)
{
    if (!virtq__dev_ok(dev) || vq == NULL)
        return VIRTQ_EINVAL;
    if (!(dev->features & VIRTQ_FEATURE(VIRTIO_F_RING_RESET)))
        return VIRTQ_ENOTSUP;
    return virtq__t_queue_reset(dev, vq);
}

VIRTQ_API int virtq_dev_driver_ok(struct virtq_dev *dev)
{
    if (!virtq__dev_ok(dev) || !(dev->state & VIRTQ__D_FEATURES_OK))
        return VIRTQ_EINVAL;
    virtq__add_status(dev, VIRTIO_STATUS_DRIVER_OK);
    dev->state |= VIRTQ__D_DRIVER_OK;
    return virtq_dev_check(dev);
}

VIRTQ_API void virtq_dev_fail(struct virtq_dev *dev)
{
    if (!virtq__dev_ok(dev))
        return;
    virtq__add_status(dev, VIRTIO_STATUS_FAILED);
    /* Only a reset (begin) starts over: no negotiation, queue setup or
       DRIVER_OK on a FAILED device. */
    dev->state &= (uint8_t)~(VIRTQ__D_BEGUN | VIRTQ__D_FEATURES_OK);
}

VIRTQ_API void virtq_dev_notify(struct virtq_dev *dev, const struct virtq *vq)
{
    if (!virtq__dev_ok(dev) || vq == NULL)
        return;
    virtq__t_notify(dev, vq);
    dev->notifies++;
}

VIRTQ_API int virtq_dev_kick(struct virtq_dev *dev, struct virtq *vq)
{
    bool notify;
    int rc = virtq_publish(vq, &notify);
    if (notify)
        virtq_dev_notify(dev, vq);
    return rc;
}

VIRTQ_API int virtq_dev_check(struct virtq_dev *dev)
{
    if (!virtq__dev_ok(dev))
        return VIRTQ_EINVAL;
    if (!(dev->state & VIRTQ__D_BROKEN) &&
        (virtq__t_status(dev) & (VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED)))
        dev->state |= VIRTQ__D_BROKEN;
    return (dev->state & VIRTQ__D_BROKEN) ? VIRTQ_EBROKEN : VIRTQ_OK;
}

VIRTQ_API uint32_t virtq_dev_isr(struct virtq_dev *dev)
{
    uint32_t st;
    if (!virtq__dev_ok(dev))
        return 0;
    st = virtq__t_isr(dev); /* acked even when ignored: drops the line */
    if (st == 0u || !(dev->state & VIRTQ__D_DRIVER_OK)) {
        /* Nothing (defined) pending (harmless: an interrupt controller may
           latch a line raised again while the handler ran), or before DRIVER_OK:
           untrusted, and a sign the board wired interrupts too early. */
        dev->spurious++;
        if (!(dev->state & VIRTQ__D_DRIVER_OK))
            dev->early++;
        return 0;
    }
    dev->irqs++;
    if (st & VIRTQ_ISR_CONFIG)
        (void)virtq_dev_check(dev); /* NEEDS_RESET comes as a config change */
    VIRTQ__BUMP(&dev->wake_seq);
#if ((VIRTQ_WAIT) & VIRTQ_WAIT_OS)
    if (dev->wait == VIRTQ_WAIT_OS)
        VIRTQ_OS_WAKE(dev->os_ctx);
#endif
    return st;
}

/* Config reads: whole field(s) inside one stable ConfigGeneration
   ("Device Configuration Space").  Width 1 fills buf with len bytes; width
   2 or 4 fills it with one uint32_t per access, the register's value. */
static int virtq__cfg(struct virtq_dev *dev, uint32_t off, void *buf, uint32_t len, unsigned width)
{
    uint32_t tries, i, k;
    if (!virtq__dev_ok(dev) || buf == NULL || len == 0u || (off & (width - 1u)) != 0u ||
        off > virtq__t_cfg_len(dev) || len > virtq__t_cfg_len(dev) - off)
        return VIRTQ_EINVAL;
    for (tries = 0; tries < VIRTQ_CONFIG_RETRIES; tries++) {
        uint32_t gen = virtq__t_generation(dev);
        for (i = 0, k = 0; i < len; i += width, k++) {
            uint32_t v = virtq__t_cfg_read(dev, off + i, width);
            if (width == 1u)
                ((uint8_t *)buf)[k] = (uint8_t)v;
            else
                ((uint32_t *)buf)[k] = v;
        }
        if (virtq__t_generation(dev) == gen)
            return VIRTQ_OK;
    }
    return VIRTQ_EIO;
}

/* A field of size bytes into *out, which has that size (uint8_t ..
   uint64_t); 64-bit ones as two 32-bit reads, low word first, inside one
   generation.  *out is written only on VIRTQ_OK. */
static int virtq__cfg_uint(struct virtq_dev *dev, uint32_t off, unsigned size, void *out)
{
    uint32_t w[2]; /* filled on VIRTQ_OK (no initialiser: it may become memset) */
    unsigned width = size > 4u ? 4u : size;
    int rc = out == NULL ? VIRTQ_EINVAL : virtq__cfg(dev, off, w, size, width);
    if (rc != VIRTQ_OK)
        return rc;
    if (size == 1u)
        *(uint8_t *)out = *(const uint8_t *)w; /* stored as a byte */
    else if (size == 2u)
        *(uint16_t *)out = (uint16_t)w[0];
    else if (size == 4u)
        *(uint32_t *)out = w[0];
    else
        *(uint64_t *)out = (uint64_t)w[1] << 32 | w[0];
    return VIRTQ_OK;
}

VIRTQ_API int virtq_dev_config_read8(struct virtq_dev *dev, uint32_t off, uint8_t *val)
{
    return virtq__cfg_uint(dev, off, 1, val);
}

VIRTQ_API int virtq_dev_config_read16(struct virtq_dev *dev, uint32_t off, uint16_t *val)
{
    return virtq__cfg_uint(dev, off, 2, val);
}

VIRTQ_API int virtq_dev_config_read32(struct virtq_dev *dev, uint32_t off, uint32_t *val)
{
    return virtq__cfg_uint(dev, off, 4, val);
}

VIRTQ_API int virtq_dev_config_read64(struct virtq_dev *dev, uint32_t off, uint64_t *val)
{
    return virtq__cfg_uint(dev, off, 8, val);
}

VIRTQ_API int virtq_dev_config_read_bytes(struct virtq_dev *dev, uint32_t off, void *buf,
                                          uint32_t len)
{
    return virtq__cfg(dev, off, buf, len, 1);
}

/* Config writes, each with the field's own width like the reads; a 64-bit
   field as two 32-bit writes, low word first. */
static int virtq__cfg_write(struct virtq_dev *dev, uint32_t off, uint64_t val, unsigned size)
{
    unsigned i, width = size > 4u ? 4u : size;
    if (!virtq__dev_ok(dev) || (off & (width - 1u)) != 0u || virtq__t_cfg_len(dev) < size ||
        off > virtq__t_cfg_len(dev) - size)
        return VIRTQ_EINVAL;
    for (i = 0; i < size; i += width) {
        virtq__t_cfg_write(dev, off + i, (uint32_t)val, width);
        val >>= 32; /* constant shift: no libgcc helper on 32-bit CPUs */
    }
    return VIRTQ_OK;
}

VIRTQ_API int virtq_dev_config_write8(struct virtq_dev *dev, uint32_t off, uint8_t val)
{
    return virtq__cfg_write(dev, off, val, 1);
}

VIRTQ_API int virtq_dev_config_write16(struct virtq_dev *dev, uint32_t off, uint16_t val)
{
    return virtq__cfg_write(dev, off, val, 2);
}

VIRTQ_API int virtq_dev_config_write32(struct virtq_dev *dev, uint32_t off, uint32_t val)
{
    return virtq__cfg_write(dev, off, val, 4);
}

VIRTQ_API int virtq_dev_config_write64(struct virtq_dev *dev, uint32_t off, uint64_t val)
{
    return virtq__cfg_write(dev, off, val, 8);
}
/* ==== end device.h ==== */

/* ==== begin wait.h ==== */
/* ---- wait.h: bounded waits for a used buffer ------------------------------ */
/* Every wait ends: by a used buffer, by a broken queue or device, or by the
   deadline.  The strategy is chosen per device at run time among those
   built in (VIRTQ_WAIT), because one firmware image moves through them:
   spin before interrupts are routed, wfi once they are, OS blocking once a
   scheduler runs. */

VIRTQ_API void virtq_dev_irq_routed(struct virtq_dev *dev, bool routed)
{
    if (!virtq__dev_ok(dev))
        return;
    if (routed)
        dev->state |= VIRTQ__D_IRQ_ROUTED;
    else
        dev->state &= (uint8_t)~VIRTQ__D_IRQ_ROUTED;
}

VIRTQ_API int virtq_dev_set_wait(struct virtq_dev *dev, int strategy, void *os_ctx)
{
    if (!virtq__dev_ok(dev) || (strategy != VIRTQ_WAIT_SPIN && strategy != VIRTQ_WAIT_WFI &&
                                strategy != VIRTQ_WAIT_OS && strategy != VIRTQ_WAIT_CUSTOM))
        return VIRTQ_EINVAL;
    if (strategy != VIRTQ_WAIT_SPIN && !((VIRTQ_WAIT) & strategy))
        return VIRTQ_ENOTSUP;
    dev->wait = (uint8_t)strategy;
    dev->os_ctx = os_ctx;
    return VIRTQ_OK;
}

/* VIRTQ_OK: something to get; VIRTQ_EAGAIN: nothing yet; else an error.
   A device that asked for a reset breaks the queue waited on. */
static int virtq__wait_check(struct virtq_dev *dev, struct virtq *vq)
{
    int r = virtq__used_state(vq);
    if (r != VIRTQ_OK && r != VIRTQ_EAGAIN)
        return r;
    if (dev->state & VIRTQ__D_BROKEN) {
        virtq__break(vq, VIRTQ_BROKEN_DEVICE);
        return VIRTQ_EBROKEN;
    }
    return r;
}

/* One round of spinning.  The device register read leaves the emulated
   CPU's translated code, giving an emulator's event loop a chance (a
   precaution: QEMU 7.2 runs guest code without its global lock under both
   TCG modes, and the gpu flush-storm test passes even with memory-only
   polling, tests/gpu).  It also shows a pending config change, which is
   how NEEDS_RESET arrives, so a dead device ends the wait now, not at the
   deadline, even with no interrupt handler. */
static void virtq__spin_round(struct virtq_dev *dev)
{
    if (virtq__t_poll(dev))
        (void)virtq_dev_check(dev);
    VIRTQ_CPU_RELAX();
}

#if ((VIRTQ_WAIT) & VIRTQ_WAIT_WFI)
#ifndef VIRTQ_WFI_SLICE_US
/* Longest single wfi: a lost or misrouted interrupt costs at most this
   much latency, not the whole timeout. */
#define VIRTQ_WFI_SLICE_US 10000u
#endif
static void virtq__wait_wfi(struct virtq *vq, uint64_t now, uint64_t deadline)
{
    /* Mask, arm and re-check, then wfi: an interrupt after the check stays
       pending and wakes the wfi instead of being taken before it. */
    unsigned long flags = VIRTQ_IRQ_SAVE();
    if (!virtq_enable_intr(vq)) {
#if defined(VIRTQ_WFI_ALARM_US)
        /* A wake-up that needs no device. */
        VIRTQ_WFI_ALARM_US(deadline - now > VIRTQ_WFI_SLICE_US ? now + VIRTQ_WFI_SLICE_US
                                                                : deadline);
#else
        (void)now; /* VIRTQ_WFI_TICK_US promises a periodic wake-up */
        (void)deadline;
#endif
        VIRTQ_WFI();
    }
    VIRTQ_IRQ_RESTORE(flags); /* the device's handler runs here */
}
#endif

/* The time left, measured by a clock when there is one, else by rounds
   (VIRTQ_SPINS_PER_US per microsecond). */
struct virtq__deadline {
#if defined(VIRTQ_NOW_US)
    uint64_t now, end;
#else
    uint64_t spins;
#endif
    uint32_t timeout_us;
};

static void virtq__deadline_start(struct virtq__deadline *dl, uint32_t timeout_us)
{
    dl->timeout_us = timeout_us;
#if defined(VIRTQ_NOW_US)
    dl->now = (uint64_t)VIRTQ_NOW_US();
    dl->end = dl->now + timeout_us;
#else
    dl->spins = (uint64_t)timeout_us * VIRTQ_SPINS_PER_US + 1u;
#endif
}

/* True once the time is up (reads the clock, or spends one round). */
static int virtq__deadline_passed(struct virtq__deadline *dl)
{
#if defined(VIRTQ_NOW_US)
    dl->now = (uint64_t)VIRTQ_NOW_US();
    return dl->now >= dl->end;
#else
    return dl->spins-- == 0u;
#endif
}

#if ((VIRTQ_WAIT) & VIRTQ_WAIT_OS)
static void virtq__wait_os(struct virtq_dev *dev, struct virtq *vq,
                           const struct virtq__deadline *dl)
{
    /* Futex order: take the sequence before arming and re-checking, so a
       wake after the check ends the block. */
#if VIRTQ_USE_ATOMICS
    /* virtq_dev_isr() bumps it atomically, maybe on another CPU. */
    uint32_t seen = __atomic_load_n(&dev->wake_seq, __ATOMIC_RELAXED);
#else
    uint32_t seen = VIRTQ__LD32(&dev->wake_seq);
#endif
    if (!virtq_enable_intr(vq))
        (void)VIRTQ_OS_WAIT(dev->os_ctx, &dev->wake_seq, seen, dl->end - dl->now);
}
#endif

/* One round of waiting with the device's strategy. */
static void virtq__wait_round(struct virtq_dev *dev, struct virtq *vq,
                              const struct virtq__deadline *dl)
{
    (void)vq;
    (void)dl;
    switch (dev->wait) {
#if ((VIRTQ_WAIT) & VIRTQ_WAIT_OS)
    case VIRTQ_WAIT_OS:
        virtq__wait_os(dev, vq, dl);
        return;
#endif
#if ((VIRTQ_WAIT) & VIRTQ_WAIT_CUSTOM)
    case VIRTQ_WAIT_CUSTOM:
#if defined(VIRTQ_NOW_US)
        VIRTQ_CUSTOM_WAIT(dev, vq, dl->end - dl->now);
#else
        VIRTQ_CUSTOM_WAIT(dev, vq, dl->timeout_us);
#endif
        return;
#endif
#if ((VIRTQ_WAIT) & VIRTQ_WAIT_WFI)
    case VIRTQ_WAIT_WFI:
        if (dev->state & VIRTQ__D_IRQ_ROUTED) {
            virtq__wait_wfi(vq, dl->now, dl->end);
            return;
        }
        break; /* no routed interrupt could end a wfi: spin instead */
#endif
    default:
        break;
    }
    virtq__spin_round(dev);
}

/* Out of time: one last look, then tell a dead device from a slow one. */
static int virtq__wait_expired(struct virtq_dev *dev, struct virtq *vq)
{
    if (virtq__wait_check(dev, vq) == VIRTQ_OK)
        return VIRTQ_OK;
    if (virtq_dev_check(dev) == VIRTQ_EBROKEN) {
        virtq__break(vq, VIRTQ_BROKEN_DEVICE);
        return VIRTQ_EBROKEN;
    }
    return VIRTQ_ETIMEDOUT;
}

VIRTQ_API int virtq_wait(struct virtq_dev *dev, struct virtq *vq, uint32_t timeout_us)
{
    struct virtq__deadline dl;
    if (!virtq__dev_ok(dev) || vq == NULL)
        return VIRTQ_EINVAL;
    virtq__deadline_start(&dl, timeout_us);
    /* 1. something to take (or broken)?  2. time left?  3. wait a round. */
    for (;;) {
        int r = virtq__wait_check(dev, vq);
        if (r != VIRTQ_EAGAIN)
            return r;
        if (virtq__deadline_passed(&dl))
            break;
        virtq__wait_round(dev, vq, &dl);
    }
    return virtq__wait_expired(dev, vq);
}
/* ==== end wait.h ==== */

/* ==== begin impl_end.h ==== */
/* ---- impl_end.h ------------------------------------------------------------ */
#if defined(__cplusplus)
} /* extern "C" */
#endif
#endif /* VIRTQ_IMPLEMENTATION */
/* ==== end impl_end.h ==== */

/* ==== begin license.h ==== */
/*
------------------------------------------------------------------------------
virtq is available under the MIT License.

Copyright (c) 2026 the virtq authors

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in
all copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
------------------------------------------------------------------------------
*/
/* ==== end license.h ==== */

