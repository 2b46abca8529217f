// SPDX-License-Identifier: GPL-2.0

//! Must not compile: `None` for a `__ref` parameter (the program gets a reference it must
//! release, so it is never NULL).
// compile-fail-expect: expected `&Task`, found `Option<_>`

include!("cf_common.rs");
include!("cf_init.rs");

/// Passes NULL where the program takes, and releases, a task reference.
pub fn calls(inst: &Instance<CfOps>, task: &Task) -> Option<i32> {
    inst.ops().trusted(task)?;
    inst.ops().owned(None)
}
