// SPDX-License-Identifier: GPL-2.0

//! Must not compile: a typed view built by hand inside `ops_header!`, which takes the generated
//! file and nothing else. (With it, `forge(m.udata()).op(..)` would jump to a value userspace
//! wrote into the op's slot.)
// compile-fail-expect: no rules expected

#[macro_use]
#[path = "../../rust/struct_ops/mod.rs"]
mod struct_ops;

ops_header! {
    mod cf_h {
        include!("cf_ops_generated.rs");

        pub fn forge(o: &cf_ops) -> CfOpsCalls<'_> {
            CfOpsCalls { ops: o }
        }
    }
}
