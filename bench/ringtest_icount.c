/* SPDX-License-Identifier: MIT */
/* bench/ringtest_icount.c — the lock-step instruction count of Linux's
   tools/virtio/ringtest rings, measured the way bench/icount.c measures
   virtq.

   The ring under test (ringtest's virtio_ring_0_9.c or ring.c, from
   Debian's linux-source package, unpacked at bench time and compiled
   unmodified with gcc -O2 in its own translation unit) is linked with this
   file instead of ringtest's main.c.  Each round, one thread: the guest
   side's add_inbuf() (which also publishes) and kick_available() (the full
   barrier and the event-index kick decision), the host side's use_buf()
   (the device: not counted), then the guest's get_buf().  The host re-arms
   kicks every round (enable_kick, as a host that went idle does), so the
   kick decision takes its full path, as bench/icount.c does for virtq.
   Under callgrind the inclusive counts of add_inbuf, kick_available and
   get_buf, less the harness's own kick(), divided by the rounds, are the
   guest driver's instructions per request.

   usage: ringtest_icount [-n ROUNDS]   (ring size 256, as ringtest's
   default).  Every buffer and cookie is checked on the way back. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* What ringtest's main.c provides to a ring (main.h). */
int param = 0;
bool do_exit = false, do_sleep = false, do_relax = false;
unsigned ring_size = 256;
static unsigned long kicks, calls;

void kick(void) { kicks++; }
void call(void) { calls++; }
void wait_for_kick(void) { abort(); }
void wait_for_call(void) { abort(); }

/* The ring's side (main.h's declarations). */
void alloc_ring(void);
int add_inbuf(unsigned, void *, void *);
void *get_buf(unsigned *, void **);
void kick_available(void);
bool enable_kick(void);
bool use_buf(unsigned *, void **);

int main(int argc, char **argv)
{
    static char buf[512], cookie[1];
    unsigned long rounds = 100000, i;
    int opt;

    while ((opt = getopt(argc, argv, "n:")) != -1) {
        if (opt != 'n') {
            fprintf(stderr, "usage: ringtest_icount [-n rounds]\n");
            return 2;
        }
        rounds = strtoul(optarg, NULL, 0);
    }
    alloc_ring();
    for (i = 0; i < rounds; i++) {
        unsigned len;
        void *b, *d;
        if (add_inbuf(sizeof buf, buf, cookie) != 0) {
            fprintf(stderr, "ringtest_icount: add_inbuf failed\n");
            return 1;
        }
        kick_available();
        if (!use_buf(&len, &b)) { /* ring.c's host does not report the buffer */
            fprintf(stderr, "ringtest_icount: the host saw no buffer\n");
            return 1;
        }
        (void)enable_kick(); /* re-arm: the next kick decision kicks */
        b = NULL;
        d = get_buf(&len, &b);
        if (d != cookie || b != buf) {
            fprintf(stderr, "ringtest_icount: wrong completion\n");
            return 1;
        }
    }
    if (kicks != rounds) {
        fprintf(stderr, "ringtest_icount: %lu kicks in %lu rounds\n", kicks, rounds);
        return 1;
    }
    printf("ringtest_icount: rounds=%lu kicks=%lu\n", rounds, kicks);
    return 0;
}
