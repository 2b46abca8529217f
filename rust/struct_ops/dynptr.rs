// SPDX-License-Identifier: GPL-2.0

//! The dynptrs programs pass to a module's kfuncs.
//!
//! A kfunc with a `struct bpf_dynptr *` parameter gets an initialised dynptr of the calling
//! program (the verifier checks that). Modules cannot create dynptrs for programs (the verifier
//! gives only its own kfuncs a dynptr type), so a module's kfunc copies between its data and a
//! dynptr the program made, with `bpf_dynptr_from_mem()` over a map value or its stack.

use core::ffi::c_void;
use kernel::{
    bindings,
    prelude::*, //
};

// The layout of `struct bpf_dynptr_kern`'s `size` word: private to `kernel/bpf/helpers.c`
// (`DYNPTR_SIZE_MASK`, `DYNPTR_TYPE_SHIFT`, `DYNPTR_RDONLY_BIT`), which exports no accessor.
// Checked against Linux 7.3; the selftests `fastpath_hit` and `postfilter_rewrites` go through
// both directions.
const SIZE_MASK: u32 = 0x00ff_ffff;
const TYPE_SHIFT: u32 = 28;
const TYPE_MASK: u32 = 0x7;
const RDONLY_BIT: u32 = 1 << 31;

/// The bytes of the dynptr `ptr`, when it is backed by plain memory (a local or ring buffer
/// dynptr), and whether it is read-only.
///
/// # Safety
///
/// `ptr` is a `struct bpf_dynptr *` argument of a kfunc, which the verifier checked to be an
/// initialised dynptr of the calling program, and the kfunc is running.
unsafe fn bytes(ptr: *const c_void) -> Result<(*mut u8, usize, bool)> {
    // SAFETY: Per the function's safety requirements `ptr` is a `struct bpf_dynptr_kern`.
    let k = unsafe { &*ptr.cast::<bindings::bpf_dynptr_kern>() };
    let ty = (k.size >> TYPE_SHIFT) & TYPE_MASK;
    if ty != bindings::bpf_dynptr_type_BPF_DYNPTR_TYPE_LOCAL
        && ty != bindings::bpf_dynptr_type_BPF_DYNPTR_TYPE_RINGBUF
    {
        return Err(EINVAL);
    }
    let size = (k.size & SIZE_MASK) as usize;
    if k.data.is_null() || size == 0 {
        return Ok((core::ptr::null_mut(), 0, true));
    }
    // SAFETY: A local or ring buffer dynptr's data is memory of at least `offset + size` bytes.
    let data = unsafe { k.data.cast::<u8>().add(k.offset as usize) };
    Ok((data, size, k.size & RDONLY_BIT != 0))
}

/// Copies `src` to the start of the dynptr `dst`; returns the bytes copied. `E2BIG` when the
/// dynptr is smaller, `EINVAL` when it is read-only or not backed by plain memory.
///
/// # Safety
///
/// As for [`bytes`]: `dst` is a dynptr argument of the running kfunc; `src` does not overlap
/// the program's memory.
pub unsafe fn copy_to(dst: *const c_void, src: &[u8]) -> Result<usize> {
    // SAFETY: Per the function's safety requirements.
    let (data, size, rdonly) = unsafe { bytes(dst) }?;
    if rdonly && !src.is_empty() {
        return Err(EINVAL);
    }
    if src.len() > size {
        return Err(E2BIG);
    }
    // SAFETY: `data` has `size >= src.len()` writable bytes (not read-only), which do not
    // overlap `src`.
    unsafe { core::ptr::copy_nonoverlapping(src.as_ptr(), data, src.len()) };
    Ok(src.len())
}

/// Copies the dynptr `src` to the start of `dst`; returns the bytes copied. `E2BIG` when `dst`
/// is smaller, `EINVAL` when the dynptr is not backed by plain memory.
///
/// # Safety
///
/// As for [`bytes`]: `src` is a dynptr argument of the running kfunc; `dst` does not overlap
/// the program's memory.
pub unsafe fn copy_from(dst: &mut [u8], src: *const c_void) -> Result<usize> {
    // SAFETY: Per the function's safety requirements.
    let (data, size, _) = unsafe { bytes(src) }?;
    if size > dst.len() {
        return Err(E2BIG);
    }
    // SAFETY: `data` has `size` readable bytes, which do not overlap `dst`.
    unsafe { core::ptr::copy_nonoverlapping(data, dst.as_mut_ptr(), size) };
    Ok(size)
}
