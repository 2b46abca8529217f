// SPDX-License-Identifier: GPL-2.0

//! Userspace side of `/dev/rso_testmod` (see `selftests/testmod/testmod_ops.h`).

#[expect(non_camel_case_types)]
mod uapi {
    include!(concat!(env!("OUT_DIR"), "/testmod_uapi.rs"));
}
pub use uapi::*;

const NR_FIELDS: usize = RSO_TESTMOD_NR_FIELDS as usize;

/// Calls `op` with `x` on the instance of map `map_id` (0: any); returns the op's return value
/// and the instance's limit, or `Err(errno)`.
pub fn call(map_id: u32, op: u32, x: i64) -> Result<(i64, i64), i32> {
    let mut v = [0i64; NR_FIELDS];
    v[RSO_TESTMOD_F_MAP_ID as usize] = map_id.into();
    v[RSO_TESTMOD_F_OP as usize] = op.into();
    v[RSO_TESTMOD_F_ARG as usize] = x;
    crate::dev::ioctl(
        "/dev/rso_testmod",
        RSO_TESTMOD_IOC_MAGIC.into(),
        RSO_TESTMOD_IOC_NR,
        &mut v,
    )?;
    Ok((
        v[RSO_TESTMOD_F_RET as usize],
        v[RSO_TESTMOD_F_LIMIT as usize],
    ))
}

/// The number of attached `testmod_ops` instances.
pub fn count() -> Result<i64, i32> {
    call(0, RSO_TESTMOD_OP_COUNT, 0).map(|r| r.0)
}
