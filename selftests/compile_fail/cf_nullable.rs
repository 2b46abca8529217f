// SPDX-License-Identifier: GPL-2.0

//! Must not compile: `None` for a parameter that is not `__nullable`.

// compile-fail-expect: expected `&Task`, found `Option<_>`

include!("cf_common.rs");
include!("cf_init.rs");

/// Passes NULL where a verified program may dereference without a check.
pub fn calls(inst: &Instance<CfOps>) -> Option<i32> {
    inst.ops().trusted(None)
}
