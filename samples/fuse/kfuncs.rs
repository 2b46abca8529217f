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
    DATA_MAX,
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
/// `namelen <= NAME_MAX` and `len <= DATA_MAX`.
pub(crate) struct CallData {
    name: [u8; NAME_MAX],
    namelen: usize,
    /// The kfuncs get the request shared, during an op call: the data changes through `Cell`s.
    data: Cell<[u8; DATA_MAX]>,
    len: Cell<usize>,
}

/// A copy of a request's data.
pub(crate) struct DataCopy {
    buf: [u8; DATA_MAX],
    len: usize,
}

impl DataCopy {
    pub(crate) fn as_slice(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }
}

impl CallData {
    /// A request's data: `name` (`E2BIG` beyond `NAME_MAX` bytes), and no data yet.
    pub(crate) fn new(name: &[u8]) -> Result<Self> {
        let mut buf = [0; NAME_MAX];
        buf.get_mut(..name.len())
            .ok_or(E2BIG)?
            .copy_from_slice(name);
        // INVARIANT: `name.len()` fits `buf`, and the data is empty.
        Ok(Self {
            name: buf,
            namelen: name.len(),
            data: Cell::new([0; DATA_MAX]),
            len: Cell::new(0),
        })
    }

    /// The LOOKUP name.
    pub(crate) fn name(&self) -> &[u8] {
        self.name.get(..self.namelen).unwrap_or(&[])
    }

    /// A copy of the data.
    pub(crate) fn data(&self) -> DataCopy {
        DataCopy {
            buf: self.data.get(),
            len: self.len.get(),
        }
    }

    /// Replaces the data with `src`: `E2BIG` beyond `DATA_MAX` bytes.
    pub(crate) fn set_data(&self, src: &[u8]) -> Result<usize> {
        let mut buf = [0; DATA_MAX];
        buf.get_mut(..src.len()).ok_or(E2BIG)?.copy_from_slice(src);
        self.data.set(buf);
        // INVARIANT: `src.len()` fits `buf`.
        self.len.set(src.len());
        Ok(src.len())
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
        let data = req.data().data();
        dst.write(0, data.as_slice())?;
        c_int::try_from(data.as_slice().len()).map_err(|_| E2BIG)
    }

    fn bpf_rso_fuse_set_data(req: &CallReq, src: &Dynptr<'_>, len: u32) -> Result<c_int> {
        let mut buf = [0u8; DATA_MAX];
        let buf = buf.get_mut(..len as usize).ok_or(E2BIG)?;
        src.read(0, buf)?;
        let n = req.data().set_data(buf)?;
        c_int::try_from(n).map_err(|_| E2BIG)
    }
}

/// Whether a filter's return is an errno a FUSE server may send too (-511 to -1): the
/// kernel-internal ones below (`ERESTARTSYS`...) must not reach userspace.
pub(crate) fn is_errno(ret: c_int) -> bool {
    (-511..0).contains(&ret)
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
        _ => ops.write_prefilter(r, in_args, out),
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
        _ => ops.write_postfilter(r, in_args, out),
    }
}
