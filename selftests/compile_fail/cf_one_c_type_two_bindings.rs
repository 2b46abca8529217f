// SPDX-License-Identifier: GPL-2.0

//! Must not compile: a second Rust type bound to the C type `cf_ops`. The BPF core would take
//! the two registrations as two types of one name in one module.
// compile-fail-expect: conflicting implementations of trait

include!("cf_common.rs");
include!("cf_init.rs");

declare_struct_ops! {
    static CF_AGAIN: CfAgain = cf_ops;
}

struct CfAgain;

#[vtable]
impl StructOps for CfAgain {}
