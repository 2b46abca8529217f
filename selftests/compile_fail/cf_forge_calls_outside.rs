// SPDX-License-Identifier: GPL-2.0

//! Must not compile: a typed view built by hand in a module that includes the generated file
//! itself (not through `ops_header!`): the view's field is private to the generated file's own
//! module, so only `OpsTable::calls` (an `unsafe fn`) makes one.
// compile-fail-expect: is private

include!("cf_common.rs");
include!("cf_init.rs");

#[allow(non_camel_case_types, non_upper_case_globals, dead_code, missing_docs)]
mod cf_forged {
    use kernel::bindings::*;
    include!("cf_ops_generated.rs");

    /// A view over any `cf_ops`, for example a map value userspace wrote.
    pub fn forge(o: &cf_ops) -> CfOpsCalls<'_> {
        CfOpsCalls { ops: o }
    }
}
