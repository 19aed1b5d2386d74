/* SPDX-License-Identifier: MIT */
/* tests/common/vq_test.h — helpers shared by the host tests, fuzz targets,
   stress and bench programs.  Header-only; include after virtq.h.

   FAIL(fmt, ...) / CHECK(cond, fmt, ...) for programs without cmocka
   (fuzzers, stress): define VQ_TEST_NAME ("fuzz_ring") before including,
   and optionally VQ_TEST_STEP, an unsigned expression printed with each
   failure (the fuzzers' step counter).  A failure prints
   "<name>: oracle failed at <file>:<line> [(step N)]: <message>" (the
   phrase tests/fuzz/run_fuzz.sh looks for) and aborts. */
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

#if defined(VQ_TEST_NAME)
#include <stdio.h>
#include <stdlib.h>

#if defined(VQ_TEST_STEP)
#define VQ_TEST__WHERE()                                                              \
    fprintf(stderr, "%s: oracle failed at %s:%d (step %u): ", VQ_TEST_NAME, __FILE__, \
            __LINE__, (unsigned)(VQ_TEST_STEP))
#else
#define VQ_TEST__WHERE() \
    fprintf(stderr, "%s: oracle failed at %s:%d: ", VQ_TEST_NAME, __FILE__, __LINE__)
#endif
#define FAIL(...)                      \
    do {                               \
        VQ_TEST__WHERE();              \
        fprintf(stderr, __VA_ARGS__);  \
        fputc('\n', stderr);           \
        abort();                       \
    } while (0)
#define CHECK(cond, ...)       \
    do {                       \
        if (!(cond))           \
            FAIL(__VA_ARGS__); \
    } while (0)
#endif /* VQ_TEST_NAME */

#endif
