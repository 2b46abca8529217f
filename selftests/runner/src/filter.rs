// SPDX-License-Identifier: GPL-2.0

//! Userspace side of `/dev/rso_filter` (see `samples/filter/filter_ops.h`).

#[expect(non_camel_case_types)]
mod uapi {
    include!(concat!(env!("OUT_DIR"), "/filter_uapi.rs"));
}
use uapi::*;

const NR_FIELDS: usize = RSO_FILTER_NR_FIELDS as usize;

/// The outputs of a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub verdict: i64,
    pub id: u32,
    pub audited: bool,
}

/// Asks the attached `filter_ops` instance for a verdict on `key`; `Err(errno)` on failure.
pub fn decide(key: u64) -> Result<Verdict, i32> {
    let mut v = [0i64; NR_FIELDS];
    v[RSO_FILTER_F_KEY as usize] = key as i64;
    crate::dev::ioctl(
        "/dev/rso_filter",
        RSO_FILTER_IOC_MAGIC.into(),
        RSO_FILTER_IOC_NR,
        &mut v,
    )?;
    Ok(Verdict {
        verdict: v[RSO_FILTER_F_VERDICT as usize],
        id: v[RSO_FILTER_F_ID as usize] as u32,
        audited: v[RSO_FILTER_F_AUDITED as usize] != 0,
    })
}
