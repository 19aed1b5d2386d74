/* SPDX-License-Identifier: MIT */
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
