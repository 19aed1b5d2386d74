/* SPDX-License-Identifier: MIT */
/* init.c — the initramfs's only program: print a marker line and the
 * kernel command line, then power the machine off.
 *
 * Static, no libc: raw Linux arm64 system calls (svc #0, number in x8,
 * arguments in x0..x5).  Built with gcc-aarch64-linux-gnu, packed with
 * cpio by mk/bootloader.mk.  The QEMU harness looks for the marker after
 * the bootloader's RESULT line: it proves the kernel reached user space
 * with the initrd the bootloader loaded.
 */
#define SYS_mkdirat 34
#define SYS_mount 40
#define SYS_openat 56
#define SYS_read 63
#define SYS_write 64
#define SYS_exit 93
#define SYS_reboot 142
#define AT_FDCWD (-100)
#define O_RDWR 2
#define REBOOT_MAGIC1 0xfee1dead
#define REBOOT_MAGIC2 672274793
#define REBOOT_POWER_OFF 0x4321fedc

static long sys6(long n, long a, long b, long c, long d, long e)
{
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    register long x4 __asm__("x4") = e;
    __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4) : "memory");
    return x0;
}

static unsigned long len(const char *s)
{
    unsigned long n = 0;
    while (s[n])
        n++;
    return n;
}

static void say(const char *s)
{
    sys6(SYS_write, 1, (long)s, (long)len(s), 0, 0);
}

void init_main(void)
{
    static char buf[4096];
    long n;

    /* The kernel opens /dev/console as fd 0-2 when it exists (its built-in
       initramfs has the node); open it ourselves if it did not. */
    if (sys6(SYS_write, 1, (long)"", 0, 0, 0) < 0)
        sys6(SYS_openat, AT_FDCWD, (long)"/dev/console", O_RDWR, 0, 0);
    say("VIRTQ-INIT: init reached user space (pid 1, initramfs from the virtq bootloader)\n");
    sys6(SYS_mkdirat, AT_FDCWD, (long)"/proc", 0555, 0, 0);
    if (sys6(SYS_mount, (long)"proc", (long)"/proc", (long)"proc", 0, 0) == 0) {
        long fd = sys6(SYS_openat, AT_FDCWD, (long)"/proc/cmdline", 0, 0, 0);
        n = fd >= 0 ? sys6(SYS_read, fd, (long)buf, sizeof buf - 1, 0, 0) : -1;
        if (n > 0) {
            buf[n] = 0;
            say("VIRTQ-INIT: cmdline: ");
            say(buf);
            if (buf[n - 1] != '\n')
                say("\n");
        }
    }
    say("VIRTQ-INIT: powering off\n");
    sys6(SYS_reboot, REBOOT_MAGIC1, REBOOT_MAGIC2, REBOOT_POWER_OFF, 0, 0);
    sys6(SYS_exit, 0, 0, 0, 0, 0);
}

/* Entry: the kernel starts pid 1 here with sp set; never returns. */
__asm__(".text\n.global _start\n_start:\n  bl init_main\n1: b 1b\n");
