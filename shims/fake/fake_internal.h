/* fake_internal.h — what the fake's own files share; not for users. */
#ifndef VIRTQ_FAKE_INTERNAL_H
#define VIRTQ_FAKE_INTERNAL_H

#include "virtq_fake.h"

/* Report a violation that belongs to no device (or to the fake CPU): the
   message is recorded and handed to the handler at once, so call it with
   no fake lock held. */
void virtq_fake__violation_now(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* The fake CPU: a device raised its (connected) interrupt line. */
void virtq_fake__cpu_raise(void);
/* An "instruction boundary" on the calling thread: take a pending
   interrupt if this thread is the CPU and interrupts are unmasked. */
void virtq_fake__cpu_boundary(void);
/* Number of devices whose interrupt line reaches the fake CPU. */
int virtq_fake__irq_lines_connected(void);

#endif
