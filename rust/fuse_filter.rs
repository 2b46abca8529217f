// SPDX-License-Identifier: GPL-2.0

//! FUSE request filters: a module sees each synchronous FUSE request before it is sent to the
//! server, and may answer it, fail it or send it; then it sees the result of each request it sent,
//! with the server's reply, and may rewrite or fail it.
//!
//! The filter hook is not in Linux 7.3: it is `kernel/patches/fuse`, which the test kernel
//! applies. A module includes this file only when the kernel it is built against has the hook
//! (`rust/struct_ops.mk` sets `--cfg rso_fuse_filter` then).
//!
//! C header: [`include/linux/fuse_filter.h`](srctree/include/linux/fuse_filter.h).

#![expect(
    unreachable_pub,
    reason = "each module compiles its own copy of this file: its public items are public to that \
              module only"
)]
#![allow(
    dead_code,
    reason = "each module uses a different part of its copy (so `expect` cannot be used)"
)]

use core::{
    ffi::c_int,
    marker::PhantomData,
    mem::size_of, //
};
use kernel::{
    bindings,
    error::to_result,
    prelude::*,
    uapi,
    ThisModule, //
};

/// The FUSE opcodes a filter tells apart (`include/uapi/linux/fuse.h`).
pub mod opcode {
    use kernel::uapi;

    /// `FUSE_LOOKUP`: in args 1 is the name; the out arg a `fuse_entry_out`.
    pub const LOOKUP: u32 = uapi::fuse_opcode_FUSE_LOOKUP;
    /// `FUSE_GETATTR`: the out arg is a `fuse_attr_out`.
    pub const GETATTR: u32 = uapi::fuse_opcode_FUSE_GETATTR;
    /// `FUSE_OPEN`: the in arg is a `fuse_open_in`, the out arg a `fuse_open_out`.
    pub const OPEN: u32 = uapi::fuse_opcode_FUSE_OPEN;
    /// `FUSE_READ`: the in arg is a `fuse_read_in`; the out arg, variable, the data.
    pub const READ: u32 = uapi::fuse_opcode_FUSE_READ;
    /// `FUSE_WRITE`: the in args are a `fuse_write_in` and the data; the out arg a
    /// `fuse_write_out`.
    pub const WRITE: u32 = uapi::fuse_opcode_FUSE_WRITE;
    /// `FUSE_READDIR`: the in arg is a `fuse_read_in`; the out arg, variable, `fuse_dirent`
    /// records.
    pub const READDIR: u32 = uapi::fuse_opcode_FUSE_READDIR;
}

/// A FUSE protocol structure that a filter reads from an argument or writes into one.
///
/// # Safety
///
/// Every bit pattern is a valid value of the type, and it has no padding: its bytes may be read
/// and written as bytes.
pub unsafe trait FuseArg: Sized {}

// SAFETY: Each is a `#[repr(C)]` struct of integers whose sizes add up to its own (no padding),
// as `include/uapi/linux/fuse.h` lays them out for the protocol.
unsafe impl FuseArg for uapi::fuse_entry_out {}
// SAFETY: As above.
unsafe impl FuseArg for uapi::fuse_attr_out {}
// SAFETY: As above.
unsafe impl FuseArg for uapi::fuse_read_in {}
// SAFETY: As above.
unsafe impl FuseArg for uapi::fuse_write_in {}
// SAFETY: As above.
unsafe impl FuseArg for uapi::fuse_write_out {}
// SAFETY: As above.
unsafe impl FuseArg for uapi::fuse_open_in {}
// SAFETY: As above.
unsafe impl FuseArg for uapi::fuse_open_out {}

/// The bytes of `v`.
fn bytes_of<T: FuseArg>(v: &T) -> &[u8] {
    // SAFETY: `T: FuseArg` has no padding, so all its `size_of::<T>()` bytes are initialised.
    unsafe { core::slice::from_raw_parts(core::ptr::from_ref(v).cast::<u8>(), size_of::<T>()) }
}

/// The bytes of `v`, to write.
fn bytes_of_mut<T: FuseArg>(v: &mut T) -> &mut [u8] {
    // SAFETY: As in `bytes_of`; and any bytes written make a valid `T` (`T: FuseArg`).
    unsafe { core::slice::from_raw_parts_mut(core::ptr::from_mut(v).cast::<u8>(), size_of::<T>()) }
}

/// A zeroed `T`.
fn zeroed<T: FuseArg>() -> T {
    // SAFETY: Every bit pattern, zeroes too, is a valid `T` (`T: FuseArg`).
    unsafe { core::mem::zeroed() }
}

/// What [`Filter::pre`] decides.
pub enum Verdict {
    /// Send the request to the server, then call [`Filter::post`]: the request stays in the
    /// filter until `post` returns, and dropping the [`Registration`] waits for it.
    Send,
    /// Send the request to the server, with no [`Filter::post`]: a request the filter has no
    /// interest in, which leaves the filter before it is sent.
    Pass,
    /// The filter answered the request: it wrote every out argument ([`Request::set_out_arg`]);
    /// fs/fuse fails the request with `EIO` if a fixed one was not written, and a variable last one
    /// left unwritten (a READ's data) is empty. (Out arguments are for an answer: a request the
    /// filter wrote one of and then sends or passes fails with `EIO`.)
    Replied,
}

/// A FUSE request, during one call of a filter.
///
/// # Invariants
///
/// `raw` is the request fs/fuse called the filter with, valid and not used by anyone else for
/// `'a`.
pub struct Request<'a> {
    raw: &'a mut bindings::fuse_filter_req,
}

impl Request<'_> {
    /// The connection's number: the name of its directory in `/sys/fs/fuse/connections/`.
    pub fn conn(&self) -> u32 {
        self.raw.conn
    }

    /// The node the request is about.
    pub fn nodeid(&self) -> u64 {
        self.raw.nodeid
    }

    /// The request's FUSE opcode (`include/uapi/linux/fuse.h`).
    pub fn opcode(&self) -> u32 {
        self.raw.opcode
    }

    /// The caller's pid, in the connection's pid namespace.
    pub fn pid(&self) -> u32 {
        self.raw.pid
    }

    /// Copies in argument `i` into `buf` (as much as fits): returns the argument's size, which
    /// may be more than `buf`'s, or `EINVAL` when the request has no argument `i`.
    pub fn in_arg(&self, i: u32, buf: &mut [u8]) -> Result<usize> {
        // SAFETY: By the type invariants `raw` is a valid request; fs/fuse writes at most
        // `buf.len()` bytes into `buf`.
        let n = unsafe {
            bindings::fuse_filter_in_arg(&*self.raw, i, buf.as_mut_ptr().cast(), buf.len())
        };
        usize::try_from(n).map_err(|_| Error::from_errno(n as c_int))
    }

    /// Copies out argument `i`, the reply (in [`Filter::post`]: the server's), into `buf` (as much
    /// as fits): returns the argument's size, or `EINVAL` when the request has no argument `i`.
    pub fn out_arg(&self, i: u32, buf: &mut [u8]) -> Result<usize> {
        // SAFETY: As in `in_arg`.
        let n = unsafe {
            bindings::fuse_filter_out_arg(&*self.raw, i, buf.as_mut_ptr().cast(), buf.len())
        };
        usize::try_from(n).map_err(|_| Error::from_errno(n as c_int))
    }

    /// The filter's own value, which it keeps from [`Filter::pre`] to [`Filter::post`] (0 before).
    pub fn private(&self) -> u64 {
        self.raw.private
    }

    /// Sets the filter's own value.
    pub fn set_private(&mut self, v: u64) {
        self.raw.private = v;
    }

    /// In argument `i` as a `T`: `EINVAL` when it has another size.
    pub fn in_arg_as<T: FuseArg>(&self, i: u32) -> Result<T> {
        let mut v = zeroed::<T>();
        if self.in_arg(i, bytes_of_mut(&mut v))? != size_of::<T>() {
            return Err(EINVAL);
        }
        Ok(v)
    }

    /// Out argument `i` as a `T`: `EINVAL` when it has another size.
    pub fn out_arg_as<T: FuseArg>(&self, i: u32) -> Result<T> {
        let mut v = zeroed::<T>();
        if self.out_arg(i, bytes_of_mut(&mut v))? != size_of::<T>() {
            return Err(EINVAL);
        }
        Ok(v)
    }

    /// Writes `v` into out argument `i`: `EINVAL` when it has another size.
    pub fn set_out_arg_as<T: FuseArg>(&mut self, i: u32, v: &T) -> Result {
        self.set_out_arg(i, bytes_of(v))
    }

    /// Writes out argument `i`: `buf` must be the argument's size, or at most that for a variable
    /// last argument (a READ's data), whose size it becomes. `EINVAL` otherwise.
    ///
    /// fs/fuse checks the reply as it checks a server's: the filter can write anything a server
    /// could.
    pub fn set_out_arg(&mut self, i: u32, buf: &[u8]) -> Result {
        // SAFETY: By the type invariants `raw` is a valid request, ours for the call; fs/fuse reads
        // `buf.len()` bytes of `buf`.
        to_result(unsafe {
            bindings::fuse_filter_set_out_arg(self.raw, i, buf.as_ptr().cast(), buf.len())
        })
    }
}

/// A FUSE request filter. Both methods may sleep.
pub trait Filter: 'static {
    /// Called before a request is sent: [`Verdict::Send`] sends it and calls [`Filter::post`]
    /// with the reply, [`Verdict::Pass`] sends it with no `post`, [`Verdict::Replied`] says
    /// the filter answered it, an error fails it (an errno of -512 or below, which a server may
    /// not send either, becomes `EIO`). Forced and no-reply requests, which must reach the server,
    /// are not filtered.
    fn pre(req: &mut Request<'_>) -> Result<Verdict>;

    /// Called after each request [`Filter::pre`] sent with [`Verdict::Send`], with its result
    /// (`Err` when it failed) and the server's reply in its out arguments, which it may rewrite:
    /// returns `Ok` to let the result through, or an error that fails the request (or replaces
    /// its error). fs/fuse takes the result's size from the out arguments, and a failed request
    /// stays failed.
    fn post(req: &mut Request<'_>, ret: Result) -> Result;
}

/// A registered filter: registered from [`Registration::new`] until it is dropped. fs/fuse holds
/// one filter at a time.
///
/// While it is registered, fs/fuse pins the module: a module that keeps one from its init to
/// its exit can never be unloaded, so register while the filter has work (as `rso_fuse` does,
/// while an instance is bound). Dropping it waits until no request is in the filter any more,
/// including requests [`Verdict::Send`] sent that wait for the server's reply (not those
/// [`Verdict::Pass`] sent): do not drop it where the server might be waiting for the dropping
/// thread (the server's own thread, while requests it has not answered are in flight), nor with a
/// lock held that `F`'s methods take.
///
/// # Invariants
///
/// `ops` is registered with fs/fuse, with `F`'s callbacks, until `drop`.
pub struct Registration<F: Filter> {
    ops: KBox<bindings::fuse_filter_ops>,
    _filter: PhantomData<F>,
}

impl<F: Filter> Registration<F> {
    /// Registers `F` as the FUSE request filter: `EBUSY` when another filter is registered.
    pub fn new(module: &'static ThisModule) -> Result<Self> {
        let ops = KBox::new(
            bindings::fuse_filter_ops {
                pre: Some(Self::pre_c),
                post: Some(Self::post_c),
                owner: module.as_ptr(),
            },
            GFP_KERNEL,
        )?;
        // SAFETY: `ops` is valid and stays so until `drop` unregisters it: the box's contents
        // do not move with the box, and are freed only after `drop`. Its callbacks are `F`'s,
        // in this module, which fs/fuse pins meanwhile.
        to_result(unsafe { bindings::fuse_filter_register(&*ops) })?;
        // INVARIANT: `ops` is registered.
        Ok(Self {
            ops,
            _filter: PhantomData,
        })
    }

    /// # Safety
    ///
    /// `req` is a request fs/fuse is calling the filter with.
    unsafe extern "C" fn pre_c(req: *mut bindings::fuse_filter_req) -> c_int {
        // INVARIANT: The `Request` lives for the call only.
        let mut req = Request {
            // SAFETY: By the function's safety requirements `req` is valid, and ours for the call.
            raw: unsafe { &mut *req },
        };
        match F::pre(&mut req) {
            Ok(Verdict::Send) => bindings::FUSE_FILTER_SEND as c_int,
            Ok(Verdict::Pass) => bindings::FUSE_FILTER_PASS as c_int,
            Ok(Verdict::Replied) => bindings::FUSE_FILTER_REPLIED as c_int,
            Err(e) => e.to_errno(),
        }
    }

    /// # Safety
    ///
    /// As for `pre_c`.
    unsafe extern "C" fn post_c(req: *mut bindings::fuse_filter_req, err: c_int) -> c_int {
        // INVARIANT: As in `pre_c`.
        let mut req = Request {
            // SAFETY: As in `pre_c`.
            raw: unsafe { &mut *req },
        };
        match F::post(&mut req, to_result(err)) {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        }
    }
}

impl<F: Filter> Drop for Registration<F> {
    fn drop(&mut self) {
        // SAFETY: By the type invariants `ops` is registered; fs/fuse returns once no request is
        // in it, and `ops` is freed after that.
        unsafe { bindings::fuse_filter_unregister(&*self.ops) };
    }
}

// SAFETY: The registration is only the ops table's address; fs/fuse may unregister it from any
// thread.
unsafe impl<F: Filter> Send for Registration<F> {}
// SAFETY: A shared registration offers no method.
unsafe impl<F: Filter> Sync for Registration<F> {}
