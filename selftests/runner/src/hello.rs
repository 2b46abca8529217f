// SPDX-License-Identifier: GPL-2.0

//! Userspace side of `/dev/rso_hello` (see `samples/hello/hello_ops.h`).

#[expect(non_camel_case_types)]
mod uapi {
    include!(concat!(env!("OUT_DIR"), "/hello_uapi.rs"));
}
pub use uapi::*;

const NR_FIELDS: usize = RSO_HELLO_NR_FIELDS as usize;

/// The outputs of a call.
#[derive(Debug, Clone, Copy)]
pub struct Reply {
    pub ret: i64,
    pub magic: i64,
    pub id: u32,
}

/// Calls `op` with `a`, `b` on the instance of map `map_id` (0: any); `Err(errno)` on failure.
pub fn call(map_id: u32, op: u32, a: i64, b: i64) -> Result<Reply, i32> {
    let mut v = [0i64; NR_FIELDS];
    v[RSO_HELLO_F_MAP_ID as usize] = map_id.into();
    v[RSO_HELLO_F_OP as usize] = op.into();
    v[RSO_HELLO_F_ARG0 as usize] = a;
    v[RSO_HELLO_F_ARG1 as usize] = b;
    crate::dev::ioctl(
        "/dev/rso_hello",
        RSO_HELLO_IOC_MAGIC.into(),
        RSO_HELLO_IOC_NR,
        &mut v,
    )?;
    Ok(Reply {
        ret: v[RSO_HELLO_F_RET as usize],
        magic: v[RSO_HELLO_F_MAGIC as usize],
        id: v[RSO_HELLO_F_ID as usize] as u32,
    })
}

/// The number of attached `hello_ops` instances.
pub fn count() -> Result<i64, i32> {
    call(0, RSO_HELLO_OP_COUNT, 0, 0).map(|r| r.ret)
}
