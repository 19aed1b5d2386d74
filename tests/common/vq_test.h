/* tests/common/vq_test.h — helpers shared by the host tests, fuzz targets,
   stress and bench programs.  Header-only; include after virtq.h. */
#ifndef VQ_TEST_H
#define VQ_TEST_H

#include <stdbool.h>

/* virtq_publish() folded into one int for compact assertions: the error
   (negative) or the notify answer (1 or 0).  It also checks the contract
   that a failed publish never asks for a notification: a violation is
   reported as 2, which no caller expects. */
static inline int vq_test_publish(struct virtq *vq)
{
    bool notify = true;
    int rc = virtq_publish(vq, &notify);
    if (rc != VIRTQ_OK)
        return notify ? 2 : rc;
    return notify ? 1 : 0;
}

#endif
