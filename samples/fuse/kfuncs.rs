// SPDX-License-Identifier: GPL-2.0

//! The request as the filters and the kfuncs see it, and the bodies of the kfuncs `fuse_ops.h`
//! declares (the layer generates their C forwarders and registration).

use crate::{
    fuse_h::*,
    struct_ops::{
        Dynptr,
        Instance,
        KfuncReq, //
    },
    FuseOps,
    NAME_MAX, //
};
use core::{
    cell::Cell,
    ffi::c_int, //
};
use kernel::prelude::*;

/// A request while the filters run: what programs see (`rso_fuse_req`), and beside it the name
/// and data the kfuncs reach. Every op that takes the request takes it as a `&CallReq`.
pub(crate) type CallReq = KfuncReq<rso_fuse_req, CallData>;

/// What the module keeps beside a request.
///
/// # Invariants
///
/// `namelen <= NAME_MAX`, and `len <= buf.len()`: the data is `buf[..len]`. `buf` keeps the length
/// it was made with (the most data the request can hold) except while a method has taken it out
/// of its `Cell`, and then the `Cell` holds an empty vector.
pub(crate) struct CallData {
    name: [u8; NAME_MAX],
    namelen: usize,
    /// The kfuncs get the request shared, during an op call: the data changes through `Cell`s.
    /// It is on the heap: a real READ's can be a page.
    buf: Cell<KVec<u8>>,
    len: Cell<usize>,
    /// Whether a program replaced the data (`bpf_rso_fuse_set_data`).
    set: Cell<bool>,
}

impl CallData {
    /// A request's data: `name` (`E2BIG` beyond `NAME_MAX` bytes), and room for `cap` bytes of
    /// data, none yet.
    pub(crate) fn new(name: &[u8], cap: usize) -> Result<Self> {
        let mut n = [0; NAME_MAX];
        n.get_mut(..name.len()).ok_or(E2BIG)?.copy_from_slice(name);
        // INVARIANT: `name.len()` fits `n`, and the data is empty.
        Ok(Self {
            name: n,
            namelen: name.len(),
            buf: Cell::new(KVec::from_elem(0, cap, GFP_KERNEL)?),
            len: Cell::new(0),
            set: Cell::new(false),
        })
    }

    /// The LOOKUP name.
    pub(crate) fn name(&self) -> &[u8] {
        self.name.get(..self.namelen).unwrap_or(&[])
    }

    /// Calls `f` with the data.
    pub(crate) fn with_data<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        let buf = self.buf.take();
        let r = f(buf.get(..self.len.get()).unwrap_or(&[]));
        self.buf.set(buf);
        r
    }

    /// Copies the data to the start of `dst`: returns its size, or `E2BIG` if it does not fit.
    pub(crate) fn copy_to(&self, dst: &mut [u8]) -> Result<usize> {
        self.with_data(|data| {
            dst.get_mut(..data.len())
                .ok_or(E2BIG)?
                .copy_from_slice(data);
            Ok(data.len())
        })
    }

    /// Replaces the data with what `f` writes into the room for it: `f` returns the size of what
    /// it had (which may be more than the room, whose size the data then gets), and so does this.
    /// If `f` fails the data keeps its size: `f` must fail before it writes.
    pub(crate) fn fill(&self, f: impl FnOnce(&mut [u8]) -> Result<usize>) -> Result<usize> {
        let mut buf = self.buf.take();
        let r = f(buf.as_mut_slice());
        if let Ok(n) = r {
            // INVARIANT: At most `buf.len()`.
            self.len.set(n.min(buf.len()));
        }
        self.buf.set(buf);
        r
    }

    /// Whether a program replaced the data.
    pub(crate) fn was_set(&self) -> bool {
        self.set.get()
    }

    /// Replaces the data with `src`: `E2BIG` beyond the room for it.
    pub(crate) fn set_data(&self, src: &[u8]) -> Result<usize> {
        self.fill(|buf| {
            buf.get_mut(..src.len()).ok_or(E2BIG)?.copy_from_slice(src);
            Ok(src.len())
        })
    }
}

impl FuseOpsKfuncs for fuse_ops {
    type Data = CallData;

    fn bpf_rso_fuse_name(req: &CallReq, dst: &Dynptr<'_>) -> Result<c_int> {
        let name = req.data().name();
        dst.write(0, name)?;
        c_int::try_from(name.len()).map_err(|_| E2BIG)
    }

    fn bpf_rso_fuse_data(req: &CallReq, dst: &Dynptr<'_>) -> Result<c_int> {
        req.data().with_data(|data| {
            dst.write(0, data)?;
            c_int::try_from(data.len()).map_err(|_| E2BIG)
        })
    }

    fn bpf_rso_fuse_set_data(req: &CallReq, src: &Dynptr<'_>, len: u32) -> Result<c_int> {
        req.data().set.set(true);
        let n = req.data().fill(|buf| {
            src.read(0, buf.get_mut(..len as usize).ok_or(E2BIG)?)?;
            Ok(len as usize)
        })?;
        c_int::try_from(n).map_err(|_| E2BIG)
    }
}

/// Whether a filter's return is an errno it may fail a request with: one a FUSE server may send
/// too (-511 to -1), since the kernel-internal ones below (`ERESTARTSYS`...) must not reach
/// userspace, but not `ENOSYS`, which from a server means that it does not implement the
/// operation: fs/fuse would stop sending it on the connection (and a failed OPEN would succeed).
pub(crate) fn is_errno(ret: c_int) -> bool {
    (-511..0).contains(&ret) && ret != ENOSYS.to_errno()
}

/// Runs the prefilter of `r`'s opcode, which may rewrite the in args and write the out args.
pub(crate) fn prefilter(
    r: &CallReq,
    inst: &Instance<FuseOps>,
    in_args: &mut rso_fuse_in,
    out: &mut rso_fuse_out,
) -> Option<c_int> {
    let ops = inst.ops();
    match r.req().opcode {
        RSO_FUSE_LOOKUP => ops.lookup_prefilter(r, in_args, out),
        RSO_FUSE_GETATTR => ops.getattr_prefilter(r, in_args, out),
        RSO_FUSE_READ => ops.read_prefilter(r, in_args, out),
        RSO_FUSE_WRITE => ops.write_prefilter(r, in_args, out),
        RSO_FUSE_OPEN => ops.open_prefilter(r, in_args, out),
        RSO_FUSE_READDIR => ops.readdir_prefilter(r, in_args, out),
        _ => None,
    }
}

/// Runs the postfilter of `r`'s opcode, which may rewrite the out args.
pub(crate) fn postfilter(
    r: &CallReq,
    inst: &Instance<FuseOps>,
    in_args: &rso_fuse_in,
    out: &mut rso_fuse_out,
) -> Option<c_int> {
    let ops = inst.ops();
    match r.req().opcode {
        RSO_FUSE_LOOKUP => ops.lookup_postfilter(r, in_args, out),
        RSO_FUSE_GETATTR => ops.getattr_postfilter(r, in_args, out),
        RSO_FUSE_READ => ops.read_postfilter(r, in_args, out),
        RSO_FUSE_WRITE => ops.write_postfilter(r, in_args, out),
        RSO_FUSE_OPEN => ops.open_postfilter(r, in_args, out),
        RSO_FUSE_READDIR => ops.readdir_postfilter(r, in_args, out),
        _ => None,
    }
}
