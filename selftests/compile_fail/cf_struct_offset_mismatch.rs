// SPDX-License-Identifier: GPL-2.0

//! Must not build: the C part of `cf_mismatch_ops.h`, whose C and Rust views disagree. Building
//! this crate builds that C part first (Kbuild), and its layout assertions fail.
// compile-fail-expect: cf_mismatch_ops.b: C and Rust offsets differ

include!("cf_common.rs");
include!("cf_init.rs");
