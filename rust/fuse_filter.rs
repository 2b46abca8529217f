// SPDX-License-Identifier: GPL-2.0

//! FUSE request filters: a module attaches a filter to one FUSE connection, and sees each
//! synchronous request of it before it is sent to the server (LOOKUP, GETATTR, OPEN, READ, WRITE,
//! READDIR); it may answer it, fail it, rewrite its first in argument or send it; then it sees the
//! result of each request it sent, with the server's reply, and may rewrite or fail it.
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
    mem::size_of,
    ptr::NonNull, //
};
use kernel::{
    bindings,
    error::{
        from_err_ptr,
        to_result, //
    },
    fs::LocalFile,
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
// SAFETY: As above.
unsafe impl FuseArg for uapi::fuse_getattr_in {}

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
    /// Send the request to the server, then call [`Filter::post`] (unless the filter is detached
    /// before the reply comes).
    Send,
    /// Send the request to the server, with no [`Filter::post`]: a request the filter has no
    /// interest in.
    Pass,
    /// The filter answered the request: it wrote every out argument ([`Request::set_out_arg`]);
    /// fs/fuse fails the request with `EIO` if a fixed one was not written, and a variable last one
    /// left unwritten (a READ's data) is empty. (Out arguments are for an answer: a request the
    /// filter wrote one of and then sends or passes fails with `EIO`.) An OPEN cannot be answered
    /// (`EIO`); a LOOKUP answered with a node the server does not hold is sent to the server
    /// instead.
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
    /// The value the filter was attached with ([`Attachment::new`], [`Attachment::update`]).
    pub fn data(&self) -> u64 {
        self.raw.data
    }

    /// The caller's fsuid, as the server sees it (in the connection's user namespace).
    pub fn uid(&self) -> u32 {
        self.raw.uid
    }

    /// The caller's fsgid, as the server sees it.
    pub fn gid(&self) -> u32 {
        self.raw.gid
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
    /// as fits): returns the argument's size, or `EINVAL` when the request has no argument `i` or,
    /// in [`Filter::pre`], when the filter has not written it (it holds no reply yet).
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

    /// Rewrites in argument `i`, which the server then receives (the caller's copy stays as it
    /// was), in [`Filter::pre`]: only the `fuse_read_in` (argument 0) of a READ that does not fill
    /// the page cache, whose offset may change and size shrink (a short reply then means the end
    /// of the file to fs/fuse); `EINVAL` otherwise.
    pub fn set_in_arg_as<T: FuseArg>(&mut self, i: u32, v: &T) -> Result {
        let buf = bytes_of(v);
        // SAFETY: By the type invariants `raw` is a valid request, ours for the call; fs/fuse reads
        // `buf.len()` bytes of `buf`.
        to_result(unsafe {
            bindings::fuse_filter_set_in_arg(self.raw, i, buf.as_ptr().cast(), buf.len())
        })
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
    /// the filter answered it, an error fails it. fs/fuse turns an errno a server may not send
    /// (-512 or below) and `ENOSYS`, which it would take as "not implemented" and remember for
    /// the connection, into `EIO`.
    fn pre(req: &mut Request<'_>) -> Result<Verdict>;

    /// Called after each request [`Filter::pre`] sent with [`Verdict::Send`], unless the filter was
    /// detached before, with its result (`Err` when it failed) and the server's reply in its out
    /// arguments (none when it failed), which it may rewrite: returns `Ok` (or the request's own
    /// error) to let the result through, or an error that fails the request (or replaces its
    /// error). fs/fuse takes the result's size from the out arguments, and a failed request stays
    /// failed. It may not change a LOOKUP's node, generation or file type, make its attributes
    /// invalid, or change an OPEN's file handle (`EIO`); when it fails a LOOKUP or OPEN the server
    /// carried out, fs/fuse sends the server the FORGET or RELEASE it is owed.
    fn post(req: &mut Request<'_>, ret: Result) -> Result;
}

/// A filter attached to one FUSE connection, from [`Attachment::new`] until it is dropped, or
/// until the connection is aborted or unmounted. A connection has one filter at a time.
///
/// Dropping it detaches the filter without waiting for the server or for requests: those in the
/// filter keep it, and the module, until they leave it, and a request sent to the server meanwhile
/// completes without [`Filter::post`] (unless its `post` had started; one that entered the filter
/// before may still be in [`Filter::pre`]). A module that keeps an attachment, or whose filter
/// still has a request at the server, cannot be unloaded (fs/fuse pins it; `rmmod` fails with
/// `EBUSY`).
///
/// # Invariants
///
/// `raw` is a filter `fuse_filter_attach()` returned, with `F`'s callbacks, not detached until
/// `drop`.
pub struct Attachment<F: Filter> {
    raw: NonNull<bindings::fuse_filter>,
    _filter: PhantomData<F>,
}

impl<F: Filter> Attachment<F> {
    /// Attaches `F` to the FUSE connection `file` names: its `/dev/fuse` file (the server's), or a
    /// file of its mount (which needs `CAP_SYS_ADMIN`). Each request carries `data` to the filter
    /// ([`Request::data`]).
    ///
    /// `EBUSY` when the connection has a filter, `EPERM` when `file` is not the server's and the
    /// caller lacks `CAP_SYS_ADMIN`, `EINVAL` when `file` is not of a FUSE connection, `ENOTCONN`
    /// when the connection is gone.
    pub fn new(file: &LocalFile, module: &'static ThisModule, data: u64) -> Result<Self> {
        let ops = bindings::fuse_filter_ops {
            pre: Some(Self::pre_c),
            post: Some(Self::post_c),
            owner: module.as_ptr(),
        };
        // SAFETY: `file` is a valid file for the call, and `ops` a valid table, which fs/fuse
        // copies. Its callbacks are `F`'s, compiled into the module whose `ThisModule` `module`
        // is (safe code has no other: each module's crate has its own `THIS_MODULE`), which
        // fs/fuse pins while they can be called.
        let raw = from_err_ptr(unsafe { bindings::fuse_filter_attach(file.as_ptr(), &ops, data) })?;
        // INVARIANT: `raw` is attached.
        Ok(Self {
            raw: NonNull::new(raw).ok_or(EINVAL)?,
            _filter: PhantomData,
        })
    }

    /// Changes the value requests carry to the filter from now on; `file` must name the same
    /// connection (`EINVAL` otherwise; `ENOTCONN` once the connection is gone), under the rules of
    /// [`Attachment::new`].
    pub fn update(&self, file: &LocalFile, data: u64) -> Result {
        // SAFETY: By the type invariants `raw` is attached; `file` is valid for the call.
        to_result(unsafe { bindings::fuse_filter_update(self.raw.as_ptr(), file.as_ptr(), data) })
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

impl<F: Filter> Drop for Attachment<F> {
    fn drop(&mut self) {
        // SAFETY: By the type invariants `raw` is attached, and not used after this.
        unsafe { bindings::fuse_filter_detach(self.raw.as_ptr()) };
    }
}

// SAFETY: fs/fuse may detach a filter from any thread.
unsafe impl<F: Filter> Send for Attachment<F> {}
// SAFETY: The one method of a shared attachment, `update`, is an atomic store in fs/fuse.
unsafe impl<F: Filter> Sync for Attachment<F> {}
