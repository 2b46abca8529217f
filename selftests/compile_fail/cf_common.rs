// SPDX-License-Identifier: GPL-2.0

// What every compile-fail crate shares: the layer, the generated view of cf_ops.h, a type and
// the module.

#[macro_use]
#[path = "../../rust/struct_ops/mod.rs"]
mod struct_ops;

use kernel::{
    prelude::*,
    task::Task, //
};
use struct_ops::{
    Instance,
    ModuleInit,
    StructOps,
    StructOpsModule, //
};

ops_header!(mod cf_h = "cf_ops_generated.rs");

use cf_h::*;

struct_ops_module! {
    type: Cf,
    name: "rso_cf",
    authors: ["rust-struct-ops developers"],
    description: "compile-fail checks",
    license: "GPL",
}

declare_struct_ops! {
    static CF: CfOps = cf_ops;
}

struct CfOps;

#[vtable]
impl StructOps for CfOps {}

struct Cf;

// Each crate writes its `impl StructOpsModule for Cf`, most with `include!("cf_init.rs")`.
