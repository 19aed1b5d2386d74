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
