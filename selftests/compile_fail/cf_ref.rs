// SPDX-License-Identifier: GPL-2.0

//! Must not compile: a borrowed task for a `__ref` parameter.

// compile-fail-expect: expected `ARef<Task>`, found `&Task`

include!("cf_common.rs");

/// Passes a borrowed task where the program takes (and releases) a reference.
pub fn calls(inst: &Instance<CfOps>, task: &Task) -> Option<i32> {
    inst.ops().owned(task)
}
