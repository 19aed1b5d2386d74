/* SPDX-License-Identifier: MIT */
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
