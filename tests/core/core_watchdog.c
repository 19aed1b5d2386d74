/* SPDX-License-Identifier: MIT */
/* core_watchdog.c — every core test ends within CORE_TEST_SECONDS (default
   20; environment variable of that name).  A hang in virtq (a wait or loop
   that never ends, e.g. a completion lost for good) then fails in seconds,
   naming the limit, instead of running into the make target's outer
   timeout minutes later. */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"

static void on_alarm(int sig)
{
    static const char msg[] = "\ncore test watchdog: a test ran past CORE_TEST_SECONDS "
                              "(a hang: see the [ RUN ] line above)\n";
    (void)sig;
    if (write(2, msg, sizeof msg - 1) < 0) {
        /* nothing more to do */
    }
    _exit(3);
}

void core_watchdog_arm(void)
{
    const char *e = getenv("CORE_TEST_SECONDS");
    unsigned s = e != NULL && atoi(e) > 0 ? (unsigned)atoi(e) : 20u;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    alarm(s);
}

void core_watchdog_disarm(void)
{
    alarm(0);
}
