// SPDX-License-Identifier: GPL-2.0

//! The whole run's kernel log and kmemleak's report: the last test of a full run.

use crate::{
    ctx::Ctx,
    harness::TestResult,
    klog,
    test, //
};

test!(kernel_log_clean);
fn kernel_log_clean(_ctx: &mut Ctx) -> TestResult {
    klog::check()
}
