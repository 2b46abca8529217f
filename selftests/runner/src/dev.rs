// SPDX-License-Identifier: GPL-2.0

//! The samples' trigger devices: an ioctl whose argument is an array of `__s64`.

use std::{
    fs::OpenOptions,
    os::fd::AsRawFd, //
};

/// `_IOWR(ty, nr, size)` of `include/uapi/asm-generic/ioctl.h`.
const fn iowr(ty: u32, nr: u32, size: usize) -> u64 {
    (3u64 << 30) | ((size as u64) << 16) | ((ty as u64) << 8) | nr as u64
}

/// Issues `_IOWR(ty, nr, __s64[N])` on `dev` with `v`; `Err(errno)` on failure.
pub fn ioctl<const N: usize>(dev: &str, ty: u32, nr: u32, v: &mut [i64; N]) -> Result<(), i32> {
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .open(dev)
        .map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))?;
    let cmd = iowr(ty, nr, std::mem::size_of::<[i64; N]>());
    // SAFETY: `v` is an array of the size the ioctl number encodes, valid for reads and writes.
    let r = unsafe { libc::ioctl(f.as_raw_fd(), cmd as _, v.as_mut_ptr()) };
    if r < 0 {
        return Err(std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO));
    }
    Ok(())
}
