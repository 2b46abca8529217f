// SPDX-License-Identifier: GPL-2.0

//! The dynptrs programs pass to a module's kfuncs.
//!
//! A kfunc with a `struct bpf_dynptr *` parameter gets an initialised dynptr of the calling
//! program (the verifier checks that). Modules cannot create dynptrs for programs (the verifier
//! gives only its own kfuncs a dynptr type), so a module's kfunc copies between its data and a
//! dynptr the program made, e.g. with `bpf_dynptr_from_mem()` over a map value (the verifier
//! accepts no other memory for it: the program's stack is refused).
//!
//! The copies go through the kernel's own helpers `bpf_dynptr_read()` and `bpf_dynptr_write()`,
//! which know the dynptr's kinds, read-only bit and size (their encoding is private to
//! `kernel/bpf/helpers.c`): the C part looks them up once, at registration
//! (`RSO_OPS_KFUNCS()`, `rust/rso.h`).

use core::{
    ffi::{
        c_int,
        c_void, //
    },
    marker::PhantomData,
};
use kernel::{
    error::to_result,
    prelude::*, //
};

/// `rso_<type>_dynptr_read(dst, len, src, offset)`: `bpf_dynptr_read(dst, len, src, offset, 0)`.
type ReadFn = unsafe extern "C" fn(*mut c_void, u32, *const c_void, u32) -> c_int;

/// `rso_<type>_dynptr_write(dst, offset, src, len)`: `bpf_dynptr_write(dst, offset, src, len,
/// 0)`.
type WriteFn = unsafe extern "C" fn(*const c_void, u32, *const c_void, u32) -> c_int;

/// The C part's calls of the kernel's dynptr helpers, for one type.
///
/// # Invariants
///
/// `read` and `write` are `rso_<type>_dynptr_read()` and `rso_<type>_dynptr_write()` of the
/// module's C part (`RSO_OPS_KFUNCS()`): each calls the kernel's helper on a dynptr, or fails
/// with `EOPNOTSUPP` before the type's kfuncs were registered.
pub struct DynptrFns {
    read: ReadFn,
    write: WriteFn,
}

impl DynptrFns {
    /// # Safety
    ///
    /// `read` and `write` are `rso_<type>_dynptr_read()` and `rso_<type>_dynptr_write()` of the
    /// module's C part.
    #[doc(hidden)]
    pub const unsafe fn new(read: ReadFn, write: WriteFn) -> Self {
        // INVARIANT: Per the function's safety requirements.
        Self { read, write }
    }
}

/// A dynptr that a program passed to a kfunc, for the kfunc's call.
///
/// # Invariants
///
/// `ptr` is an initialised `struct bpf_dynptr` of the calling program, valid for `'a`, which
/// lasts no longer than the kfunc's call; its memory (a map value, a ring buffer sample) is the
/// program's, never memory that Rust code holds a reference to.
pub struct Dynptr<'a> {
    ptr: *const c_void,
    fns: &'static DynptrFns,
    _call: PhantomData<&'a c_void>,
}

impl Dynptr<'_> {
    /// The view of `ptr` for a kfunc's call.
    ///
    /// # Safety
    ///
    /// `ptr` is a `struct bpf_dynptr *` argument of the running kfunc, which the verifier checked
    /// to be an initialised dynptr of the calling program, and the view is dropped before the
    /// kfunc returns.
    #[doc(hidden)]
    pub unsafe fn from_raw(ptr: *const c_void, fns: &'static DynptrFns) -> Self {
        // INVARIANT: Per the function's safety requirements.
        Self {
            ptr,
            fns,
            _call: PhantomData,
        }
    }

    /// Copies `src` into the dynptr at byte `offset`: `E2BIG` when it does not fit, `EINVAL`
    /// when the dynptr is read-only or null.
    pub fn write(&self, offset: u32, src: &[u8]) -> Result {
        let len = u32::try_from(src.len()).map_err(|_| E2BIG)?;
        // SAFETY: By the type invariants `ptr` is an initialised dynptr of the calling program
        // and `write` calls the kernel's `bpf_dynptr_write()` on it, which checks its kind,
        // read-only bit and bounds and copies `len` bytes from `src`, valid for reads; the
        // dynptr's memory is the program's, so no Rust reference aliases what it writes. It is
        // the call the program could make itself, from the same context.
        to_result(unsafe { (self.fns.write)(self.ptr, offset, src.as_ptr().cast(), len) })
    }

    /// Fills `dst` from the dynptr at byte `offset`: `E2BIG` when the dynptr holds fewer bytes
    /// there, `EINVAL` when it is null.
    pub fn read(&self, offset: u32, dst: &mut [u8]) -> Result {
        let len = u32::try_from(dst.len()).map_err(|_| E2BIG)?;
        // SAFETY: By the type invariants `ptr` is an initialised dynptr of the calling program
        // and `read` calls the kernel's `bpf_dynptr_read()` on it, which checks its kind and
        // bounds and copies `len` bytes into `dst`, valid for writes and borrowed exclusively.
        to_result(unsafe { (self.fns.read)(dst.as_mut_ptr().cast(), len, self.ptr, offset) })
    }
}
