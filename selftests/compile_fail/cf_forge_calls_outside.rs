// SPDX-License-Identifier: GPL-2.0

//! Must not compile: a typed view built by hand beside the generated view: its field is private
//! to the generated module, so only `OpsTable::calls` (an `unsafe fn`) makes one.
// compile-fail-expect: is private

include!("cf_common.rs");
include!("cf_init.rs");

/// A view over any `cf_ops`, for example a map value userspace wrote.
pub fn forge(o: &cf_ops) -> CfOpsCalls<'_> {
    CfOpsCalls { ops: o }
}
