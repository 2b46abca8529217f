// SPDX-License-Identifier: GPL-2.0

//! Must not compile: a typed view built by hand inside `ops_header!`, which takes the generated
//! file and nothing else. (With it, `forge(m.udata()).op(..)` would jump to a value userspace
//! wrote into the op's slot.)
// compile-fail-expect: no rules expected

include!("cf_common.rs");
include!("cf_init.rs");

ops_header! {
    mod cf_forged {
        include!("cf_ops_generated.rs");

        pub fn forge(o: &cf_ops) -> CfOpsCalls<'_> {
            CfOpsCalls { ops: o }
        }
    }
}
