/* SPDX-License-Identifier: MIT */
/* The virtq implementation in its own translation unit, as a user builds
   it: the benchmarks call the library through its extern API, so no call
   is inlined into the harness and callgrind sees each virtq function. */
#define VIRTQ_IMPLEMENTATION
#include "virtq.h"
