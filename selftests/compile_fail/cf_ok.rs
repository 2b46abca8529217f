// SPDX-License-Identifier: GPL-2.0

//! The control of the compile-fail checks: every argument kind used right compiles.

include!("cf_common.rs");
include!("cf_init.rs");

/// Each op with the argument its tag asks for.
pub fn calls(inst: &Instance<CfOps>, task: &Task) -> Option<i32> {
    let ops = inst.ops();
    ops.trusted(task)?;
    ops.nullable(None)?;
    ops.nullable(Some(task))?;
    ops.owned(task)
}
