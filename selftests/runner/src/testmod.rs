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

/// Calls `RSO_TESTMOD_OP_FUSE_FILTER` with `x` through an instance of `testmod.bpf.o` (at `obj`)
/// attached for the call only: the filter pins the module on its own.
fn fuse_filter_call(obj: &std::path::Path, x: i64) -> Result<(), String> {
    let mut obj = crate::bpf::load(obj)?;
    let (_link, id) = crate::bpf::attach(&mut obj, "tm_ok")?;
    call(id, RSO_TESTMOD_OP_FUSE_FILTER, x)
        .map(|_| ())
        .map_err(|e| format!("rso_testmod's filter ({x:#x}): errno {e}"))
}

/// `rso_testmod`'s FUSE request filter, attached to a mount's connection until
/// [`FuseFilter::remove`] or drop (a failed test must not leave it: it pins the module and keeps
/// other filters off the connection).
pub(crate) struct FuseFilter {
    obj: std::path::PathBuf,
    attached: bool,
}

impl FuseFilter {
    /// Attaches the filter in `mode` (`testmod_ops.h`, `RSO_TESTMOD_OP_FUSE_FILTER`) to the
    /// connection of `m`, named by a file of the mount.
    pub(crate) fn new(
        ctx: &crate::ctx::Ctx,
        mode: i64,
        m: &crate::fusefs::Mount,
    ) -> Result<Self, String> {
        use std::os::fd::AsRawFd;
        let obj = ctx.obj("testmod");
        let root = m.root()?;
        fuse_filter_call(&obj, mode | (i64::from(root.as_raw_fd()) << 4))?;
        Ok(Self {
            obj,
            attached: true,
        })
    }

    /// Detaches the filter.
    pub(crate) fn remove(mut self) -> Result<(), String> {
        self.attached = false;
        fuse_filter_call(&self.obj, 0)
    }
}

impl Drop for FuseFilter {
    fn drop(&mut self) {
        if self.attached {
            let _ = fuse_filter_call(&self.obj, 0);
        }
    }
}
