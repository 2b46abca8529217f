// SPDX-License-Identifier: GPL-2.0

//! Userspace side of `/dev/rso_hello` (see `samples/hello/hello_ops.h`).

crate::dev::uapi!("hello_ops_uapi.rs");

crate::dev::call_struct!(rso_hello_call);

const DEV: &str = "/dev/rso_hello";

/// The outputs of a call.
#[derive(Debug, Clone, Copy)]
pub struct Reply {
    pub ret: i64,
    pub magic: i64,
    pub id: u32,
}

/// Calls `op` with `a`, `b` on the instance of map `map_id` (0: any); `Err(errno)` on failure.
pub fn call(map_id: u32, op: u32, a: i64, b: i64) -> Result<Reply, i32> {
    let mut c = rso_hello_call {
        a,
        b,
        ..Default::default()
    };
    let (ret, id) = crate::dev::call(DEV, map_id, op, &mut c)?;
    Ok(Reply {
        ret,
        magic: c.magic,
        id,
    })
}

/// The number of attached `hello_ops` instances.
pub fn count() -> Result<i64, i32> {
    crate::dev::count::<rso_hello_call>(DEV)
}
