// SPDX-License-Identifier: GPL-2.0
/* The benchmark ops of fuse_ops (the Rust layer). */
#define BENCH_OPS fuse_ops
#include "fuse_bench.h"
