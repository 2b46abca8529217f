// SPDX-License-Identifier: GPL-2.0

//! The one client of the modules' call devices (`rust/rso_call.h`): `RSO_IOC_CALL(struct
//! rso_<x>_call)`, whose argument starts with `struct rso_call_hdr`.

use std::{
    fs::OpenOptions,
    os::fd::AsRawFd, //
};

/// `RSO_CALL_COUNT`: the number of attached instances.
const RSO_CALL_COUNT: u32 = 0;

/// A request struct of a type's header (`rso_<x>_call`), as bindgen generated it.
pub trait CallStruct: Default {
    /// Sets `hdr.map_id` and `hdr.op`.
    fn request(&mut self, map_id: u32, op: u32);
    /// `(hdr.ret, hdr.id)`.
    fn reply(&self) -> (i64, u32);
}

/// Includes bindgen's view of a header (`build.rs` writes `$OUT_DIR/<file>`) as `mod uapi`, and
/// re-exports it.
macro_rules! uapi {
    ($file:literal) => {
        #[allow(
            dead_code,
            non_camel_case_types,
            non_snake_case,
            reason = "bindgen's view of the whole header, of which each client uses a part"
        )]
        mod uapi {
            include!(concat!(env!("OUT_DIR"), "/", $file));
        }
        pub use uapi::*;
    };
}
pub(crate) use uapi;

/// Implements [`CallStruct`] for bindgen's request structs.
macro_rules! call_struct {
    ($($t:ty),*) => {
        $(
            impl $crate::dev::CallStruct for $t {
                fn request(&mut self, map_id: u32, op: u32) {
                    self.hdr.map_id = map_id;
                    self.hdr.op = op;
                }

                fn reply(&self) -> (i64, u32) {
                    (self.hdr.ret, self.hdr.id)
                }
            }
        )*
    };
}
pub(crate) use call_struct;

/// `_IOC(dir, ty, nr, size)`.
pub(crate) const fn ioc(dir: u64, ty: u8, nr: u8, size: usize) -> u64 {
    (dir << 30) | ((size as u64) << 16) | ((ty as u64) << 8) | nr as u64
}

/// `_IOWR('R', 1, size)`: `RSO_IOC_CALL` of `rust/rso_call.h`.
pub(crate) const fn rso_ioc_call(size: usize) -> u64 {
    ioc(3, b'R', 1, size)
}

/// `ioctl(fd of dev, cmd, arg)`: `Ok(ret)` or `Err(errno)`.
pub(crate) fn raw_ioctl(dev: &str, cmd: u64, arg: *mut u8) -> Result<i32, i32> {
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .open(dev)
        .map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))?;
    // SAFETY: The kernel checks `arg` as a user pointer; bad ones fail with EFAULT.
    let r = unsafe { libc::ioctl(f.as_raw_fd(), cmd as _, arg) };
    if r < 0 {
        Err(std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO))
    } else {
        Ok(r)
    }
}

/// Issues `RSO_IOC_CALL` on `dev` with `c`, for op `op` of the instance of map `map_id` (0: any).
/// Returns `(ret, id)` or `Err(errno)`; the module's output fields are in `c`.
pub fn call<C: CallStruct>(dev: &str, map_id: u32, op: u32, c: &mut C) -> Result<(i64, u32), i32> {
    c.request(map_id, op);
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .open(dev)
        .map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))?;
    let cmd = rso_ioc_call(std::mem::size_of::<C>());
    // SAFETY: `c` is a struct of the size the ioctl number encodes, valid for reads and writes.
    let r = unsafe { libc::ioctl(f.as_raw_fd(), cmd as _, c as *mut C) };
    if r < 0 {
        return Err(std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO));
    }
    Ok(c.reply())
}

/// The number of instances attached to the type behind `dev`.
pub fn count<C: CallStruct>(dev: &str) -> Result<i64, i32> {
    call(dev, 0, RSO_CALL_COUNT, &mut C::default()).map(|r| r.0)
}
