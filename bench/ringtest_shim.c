/* SPDX-License-Identifier: MIT */
/* bench/ringtest_shim.c — LD_PRELOAD'ed into Linux's tools/virtio/ringtest
   programs (built unmodified from Debian's linux-source package) so that
   bench/ring_sweep.py can read the same figures from them as from
   ringbench, without changing a line of theirs:

   - time: from the first pthread_create() (ringtest's main() has allocated
     and initialised the ring by then and starts the host and guest threads)
     to process exit (both threads joined), CLOCK_MONOTONIC;
   - kicks and interrupts: ringtest's main() creates two eventfds, kickfd
     first and callfd second, and notifies only by write()ing 8 bytes to
     one of them, so the writes to each are its kicks and its calls.

   At exit it writes one line, "ns=<N> kicks=<K> calls=<C>", to the file
   named by RINGTEST_SHIM_OUT (stderr when unset). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

static int fds[2] = {-1, -1}, nfds;
static uint64_t writes[2];
static struct timespec t0;
static int started;

static void *next(const char *name)
{
    void *f = dlsym(RTLD_NEXT, name);
    if (!f) {
        fprintf(stderr, "ringtest_shim: no %s\n", name);
        _exit(99);
    }
    return f;
}

int eventfd(unsigned int initval, int flags)
{
    static int (*real)(unsigned int, int);
    int fd;
    if (!real)
        real = (int (*)(unsigned int, int))next("eventfd");
    fd = real(initval, flags);
    if (fd >= 0 && nfds < 2)
        fds[nfds++] = fd;
    return fd;
}

ssize_t write(int fd, const void *buf, size_t n)
{
    static ssize_t (*real)(int, const void *, size_t);
    if (!real)
        real = (ssize_t (*)(int, const void *, size_t))next("write");
    if (n == 8 && fd >= 0) {
        if (fd == fds[0])
            __atomic_fetch_add(&writes[0], 1, __ATOMIC_RELAXED);
        else if (fd == fds[1])
            __atomic_fetch_add(&writes[1], 1, __ATOMIC_RELAXED);
    }
    return real(fd, buf, n);
}

int pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg)
{
    static int (*real)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
    if (!real)
        real = (int (*)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *))
            next("pthread_create");
    if (!started) {
        started = 1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
    }
    return real(t, a, fn, arg);
}

__attribute__((destructor)) static void report(void)
{
    struct timespec t1;
    const char *path = getenv("RINGTEST_SHIM_OUT");
    FILE *f;
    /* A process that started no threads (a wrapper such as timeout(1),
       preloaded too) must not truncate the figures ringtest wrote. */
    if (!started || !(f = path ? fopen(path, "w") : stderr))
        return;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    fprintf(f, "ns=%.0f kicks=%llu calls=%llu\n",
            (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec),
            (unsigned long long)__atomic_load_n(&writes[0], __ATOMIC_RELAXED),
            (unsigned long long)__atomic_load_n(&writes[1], __ATOMIC_RELAXED));
    if (f != stderr)
        fclose(f);
}
