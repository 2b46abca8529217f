// SPDX-License-Identifier: GPL-2.0

//! Userspace side of `/dev/rso_filter` (see `samples/filter/filter_ops.h`).

crate::dev::uapi!("filter_ops_uapi.rs");

crate::dev::call_struct!(rso_filter_call);

/// The outputs of a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub verdict: i64,
    pub id: u32,
    pub audited: bool,
}

/// Asks the attached `filter_ops` instance for a verdict on `key`; `Err(errno)` on failure.
pub fn decide(key: u64) -> Result<Verdict, i32> {
    let mut c = rso_filter_call {
        key,
        ..Default::default()
    };
    let (verdict, id) = crate::dev::call("/dev/rso_filter", 0, RSO_FILTER_OP_DECIDE, &mut c)?;
    Ok(Verdict {
        verdict,
        id,
        audited: c.audited != 0,
    })
}
