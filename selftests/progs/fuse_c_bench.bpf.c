// SPDX-License-Identifier: GPL-2.0
/* The benchmark ops of fuse_c_ops (the C twin). */
#define BENCH_OPS fuse_c_ops
#include "fuse_bench.h"
