// SPDX-License-Identifier: GPL-2.0

//! Userspace side of `/dev/rso_testmod` (see `selftests/testmod/testmod_ops.h`).

crate::dev::uapi!("testmod_ops_uapi.rs");

crate::dev::call_struct!(rso_testmod_call);

const DEV: &str = "/dev/rso_testmod";

/// Calls `op` with `x` on the instance of map `map_id` (0: any); returns the op's return value
/// and the instance's limit, or `Err(errno)`.
pub fn call(map_id: u32, op: u32, x: i64) -> Result<(i64, i64), i32> {
    let mut c = rso_testmod_call {
        x,
        ..Default::default()
    };
    let (ret, _id) = crate::dev::call(DEV, map_id, op, &mut c)?;
    Ok((ret, c.limit))
}

/// Calls `op` with `x`; returns the op's return value and the module's `out` field.
pub fn call_out(map_id: u32, op: u32, x: i64) -> Result<(i64, i64), i32> {
    let mut c = rso_testmod_call {
        x,
        ..Default::default()
    };
    let (ret, _id) = crate::dev::call(DEV, map_id, op, &mut c)?;
    Ok((ret, c.out))
}

/// The number of attached `testmod_ops` instances.
pub fn count() -> Result<i64, i32> {
    crate::dev::count::<rso_testmod_call>(DEV)
}
