// SPDX-License-Identifier: GPL-2.0

//! Real FUSE requests, through the FUSE request filter of `kernel/patches/fuse`
//! (`rust/fuse_filter.rs`).
//!
//! An instance whose `conn` is `fuse:<n>` filters the requests of FUSE connection `n`, the
//! number of its directory in `/sys/fs/fuse/connections/`: LOOKUP, GETATTR, OPEN, READ, READDIR
//! and WRITE go through its filters, the others to the server. The module registers the filter
//! while such an instance is attached; a connection no instance is bound to behaves as plain FUSE,
//! and its requests leave the filter before they are sent ([`Verdict::Pass`]), as do those of a
//! bound one that no postfilter waits for.
//!
//! Routes, on a real connection: `BPF_FUSE_REPLIED` answers in the kernel, an errno (-511 to -1,
//! as fs/fuse takes from a server) fails the request, and every other route sends it to the
//! server (the server is the lower file system here); `BPF_FUSE_POSTFILTER` and
//! `BPF_FUSE_USER_POSTFILTER` run the postfilter on its reply.

use crate::{
    bindings::lookup,
    fuse_filter::{
        opcode,
        Filter,
        Registration,
        Request,
        Verdict, //
    },
    fuse_h::*,
    kfuncs::{
        is_errno,
        postfilter,
        prefilter,
        CallData,
        CallReq, //
    },
    struct_ops::{
        ModuleInit,
        StaticMutex, //
    },
    ConnName,
    CONN_MAX,
    FUSE,
    NAME_MAX,
    REAL_DATA_MAX, //
};
use core::ffi::c_int;
use kernel::{
    prelude::*,
    static_lock_class,
    uapi,
    ThisModule, //
};

use crate::REAL_PREFIX as PREFIX;

/// `fuse:<conn>`, the name an instance binds connection `conn` by.
fn name_of(conn: u32) -> ConnName {
    let mut name: ConnName = [0; CONN_MAX];
    let mut digits = [0u8; 10];
    let mut n = conn;
    let mut len = 0;
    for d in digits.iter_mut() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
        len += 1;
        if n == 0 {
            break;
        }
    }
    let bytes = Iterator::chain(PREFIX.iter(), digits.iter().take(len).rev()).copied();
    // 5 + 10 bytes fit the 16 of a name, with its NUL.
    for (dst, b) in name.iter_mut().zip(bytes) {
        *dst = b;
    }
    name
}

/// The filter's registration while instances are bound to real connections.
pub(crate) struct Filters {
    module: Option<&'static ThisModule>,
    reg: Option<Registration<RealFilter>>,
    bound: usize,
}

/// The module's filter, initialised in its init.
static FILTERS: StaticMutex<Filters> = StaticMutex::new(Filters {
    module: None,
    reg: None,
    bound: 0,
});

/// Initialises the filter's state (the module's init): `module` is the module, which fs/fuse
/// pins while the filter is registered.
pub(crate) fn init(init: &ModuleInit, module: &'static ThisModule) -> Result {
    FILTERS.init(init, c"rso_fuse_filters", static_lock_class!())?;
    FILTERS.lock()?.module = Some(module);
    Ok(())
}

/// One more instance attached to a real connection (`reg`): the first registers the filter.
pub(crate) fn hold() -> Result {
    let mut f = FILTERS.lock()?;
    if f.reg.is_none() {
        f.reg = Some(Registration::new(f.module.ok_or(EINVAL)?)?);
    }
    f.bound += 1;
    Ok(())
}

/// One less (`unreg`): the last unregisters the filter, which waits for the requests in it.
/// `FILTERS` is held meanwhile: the filter never takes it.
pub(crate) fn release() {
    let Ok(mut f) = FILTERS.lock() else {
        return;
    };
    f.bound = f.bound.saturating_sub(1);
    if f.bound == 0 {
        f.reg = None;
    }
}

/// The `fuse_ops` opcode of a FUSE opcode this module filters.
fn op_of(fuse_opcode: u32) -> Option<u32> {
    match fuse_opcode {
        opcode::LOOKUP => Some(RSO_FUSE_LOOKUP),
        opcode::GETATTR => Some(RSO_FUSE_GETATTR),
        opcode::READ => Some(RSO_FUSE_READ),
        opcode::WRITE => Some(RSO_FUSE_WRITE),
        opcode::OPEN => Some(RSO_FUSE_OPEN),
        opcode::READDIR => Some(RSO_FUSE_READDIR),
        _ => None,
    }
}

/// What `pre` keeps for `post` (`Request::private`): the instance's map id, and whether its
/// postfilter runs. 0: nothing to do.
const RUN_POSTFILTER: u64 = 1 << 32;

/// The out arguments of a FUSE attribute reply.
fn out_of(attr: &uapi::fuse_attr, out: &mut rso_fuse_out) {
    out.size = attr.size;
    out.mode = attr.mode;
    out.ino = attr.ino;
    out.blocks = attr.blocks;
    out.atime = attr.atime;
    out.mtime = attr.mtime;
    out.ctime = attr.ctime;
    out.nlink = attr.nlink;
    out.uid = attr.uid;
    out.gid = attr.gid;
    out.blksize = attr.blksize;
}

/// The attributes of a reply from the out arguments (what the out arguments do not hold stays).
fn attr_of(out: &rso_fuse_out, attr: &mut uapi::fuse_attr) {
    attr.size = out.size;
    attr.mode = out.mode;
    attr.ino = out.ino;
    attr.blocks = out.blocks;
    attr.atime = out.atime;
    attr.mtime = out.mtime;
    attr.ctime = out.ctime;
    attr.nlink = out.nlink;
    attr.uid = out.uid;
    attr.gid = out.gid;
    attr.blksize = out.blksize;
}

/// The request the filters see, and its in arguments.
fn call_req(req: &Request<'_>, op: u32) -> Result<(CallReq, rso_fuse_in)> {
    let mut name = [0u8; NAME_MAX];
    let mut in_args = rso_fuse_in {
        nodeid: req.nodeid(),
        ..Default::default()
    };
    let mut namelen = 0;
    match op {
        RSO_FUSE_LOOKUP => {
            namelen = req.in_arg(1, &mut name)?;
            if namelen > NAME_MAX {
                return Err(ENAMETOOLONG);
            }
            in_args.namelen = namelen as u32;
        }
        RSO_FUSE_READ | RSO_FUSE_READDIR => {
            let r: uapi::fuse_read_in = req.in_arg_as(0)?;
            in_args.offset = r.offset;
            in_args.size = r.size;
        }
        RSO_FUSE_OPEN => {
            let o: uapi::fuse_open_in = req.in_arg_as(0)?;
            in_args.flags = o.flags;
        }
        RSO_FUSE_WRITE => {
            let w: uapi::fuse_write_in = req.in_arg_as(0)?;
            in_args.offset = w.offset;
            in_args.size = w.size;
        }
        _ => {}
    }
    // Room for the first `REAL_DATA_MAX` bytes of the data, which the programs see.
    let cap = if matches!(op, RSO_FUSE_READ | RSO_FUSE_READDIR | RSO_FUSE_WRITE) {
        REAL_DATA_MAX
    } else {
        0
    };
    let r = CallReq::new(
        rso_fuse_req {
            unique: 0,
            nodeid: req.nodeid(),
            opcode: op,
            pid: req.pid(),
        },
        CallData::new(name.get(..namelen).ok_or(EINVAL)?, cap)?,
    );
    if op == RSO_FUSE_WRITE {
        r.data().fill(|buf| req.in_arg(1, buf))?;
    }
    Ok((r, in_args))
}

/// Writes the out arguments into the reply of `req` (LOOKUP, GETATTR, OPEN, WRITE; the data of
/// READ and READDIR). The reply's timeouts become `out.valid` with `timeouts`, and stay the
/// server's otherwise.
fn write_reply(req: &mut Request<'_>, r: &CallReq, out: &rso_fuse_out, timeouts: bool) -> Result {
    match r.req().opcode {
        RSO_FUSE_LOOKUP => {
            let mut e: uapi::fuse_entry_out = req.out_arg_as(0)?;
            e.nodeid = out.nodeid;
            e.generation = out.generation;
            if timeouts {
                e.entry_valid = out.valid;
                e.attr_valid = out.valid;
            }
            attr_of(out, &mut e.attr);
            req.set_out_arg_as(0, &e)
        }
        RSO_FUSE_GETATTR => {
            let mut a: uapi::fuse_attr_out = req.out_arg_as(0)?;
            if timeouts {
                a.attr_valid = out.valid;
            }
            attr_of(out, &mut a.attr);
            req.set_out_arg_as(0, &a)
        }
        RSO_FUSE_OPEN => {
            // The server's file handle, which later requests carry to it, and its passthrough
            // id stay.
            let mut o: uapi::fuse_open_out = req.out_arg_as(0)?;
            o.open_flags = out.open_flags;
            req.set_out_arg_as(0, &o)
        }
        RSO_FUSE_READ | RSO_FUSE_READDIR => r.data().with_data(|data| {
            // No data: fs/fuse answers a READ whose data the filter did not write with none
            // (a READDIR with none: the end of the directory).
            if data.is_empty() {
                return Ok(());
            }
            req.set_out_arg(0, data)
        }),
        RSO_FUSE_WRITE => {
            let w = uapi::fuse_write_out {
                size: out.count,
                ..Default::default()
            };
            req.set_out_arg_as(0, &w)
        }
        _ => Err(EINVAL),
    }
}

/// The out arguments of the server's reply to `req`.
fn read_reply(req: &Request<'_>, r: &CallReq, out: &mut rso_fuse_out) -> Result {
    match r.req().opcode {
        RSO_FUSE_LOOKUP => {
            let e: uapi::fuse_entry_out = req.out_arg_as(0)?;
            out.nodeid = e.nodeid;
            out.generation = e.generation;
            out.valid = e.attr_valid;
            out_of(&e.attr, out);
        }
        RSO_FUSE_GETATTR => {
            let a: uapi::fuse_attr_out = req.out_arg_as(0)?;
            out.nodeid = req.nodeid();
            out.valid = a.attr_valid;
            out_of(&a.attr, out);
        }
        RSO_FUSE_OPEN => {
            let o: uapi::fuse_open_out = req.out_arg_as(0)?;
            out.fh = o.fh;
            out.open_flags = o.open_flags;
        }
        RSO_FUSE_READ | RSO_FUSE_READDIR => {
            // The programs see the first `REAL_DATA_MAX` bytes of the data.
            let n = r.data().fill(|buf| req.out_arg(0, buf))?;
            out.count = n as u32;
        }
        RSO_FUSE_WRITE => {
            let w: uapi::fuse_write_out = req.out_arg_as(0)?;
            out.count = w.size;
        }
        _ => return Err(EINVAL),
    }
    Ok(())
}

/// The filter of real FUSE requests.
pub(crate) struct RealFilter;

impl Filter for RealFilter {
    fn pre(req: &mut Request<'_>) -> Result<Verdict> {
        let Some(op) = op_of(req.opcode()) else {
            return Ok(Verdict::Pass);
        };
        let Some(inst) = lookup(&name_of(req.conn())) else {
            return Ok(Verdict::Pass);
        };
        let (r, mut in_args) = match call_req(req, op) {
            Ok(v) => v,
            // A name longer than the programs' view goes to the server unfiltered.
            Err(e) if e == ENAMETOOLONG => return Ok(Verdict::Pass),
            Err(e) => return Err(e),
        };
        let mut out = rso_fuse_out::default();
        let route = prefilter(&r, &inst, &mut in_args, &mut out).unwrap_or(BPF_FUSE_USER as c_int);
        match route as u32 {
            // An OPEN must reach the server: the handle it returns is what later requests on the
            // file carry to it.
            BPF_FUSE_REPLIED if op == RSO_FUSE_OPEN => Err(EIO),
            BPF_FUSE_REPLIED => {
                // A reply that does not fit the request (more data than it asked for) is the
                // program's error: the request fails with EIO.
                write_reply(req, &r, &out, true).map_err(|_| EIO)?;
                Ok(Verdict::Replied)
            }
            BPF_FUSE_POSTFILTER | BPF_FUSE_USER_POSTFILTER => {
                req.set_private(RUN_POSTFILTER | u64::from(inst.id()));
                Ok(Verdict::Send)
            }
            _ if is_errno(route) => Err(Error::from_errno(route)),
            // No postfilter waits for the reply: the request leaves the filter.
            BPF_FUSE_CONTINUE | BPF_FUSE_USER => Ok(Verdict::Pass),
            _ => Err(EIO),
        }
    }

    fn post(req: &mut Request<'_>, ret: Result) -> Result {
        let p = req.private();
        ret?;
        if p & RUN_POSTFILTER == 0 {
            return Ok(());
        }
        let (Some(op), Some(inst)) = (op_of(req.opcode()), FUSE.get(p as u32)) else {
            // The instance was detached meanwhile: the reply goes through as it is.
            return Ok(());
        };
        let (r, in_args) = call_req(req, op)?;
        let mut out = rso_fuse_out::default();
        read_reply(req, &r, &mut out)?;
        let valid = out.valid;
        match postfilter(&r, &inst, &in_args, &mut out).unwrap_or(0) {
            0 => {}
            e if is_errno(e) => return Err(Error::from_errno(e)),
            _ => return Err(EIO),
        }
        // The data of READ and READDIR goes through as the server sent it; the attributes and
        // OPEN's flags as the postfilter left them. The server's entry and attribute timeouts
        // stay, unless the postfilter changed them.
        if !matches!(op, RSO_FUSE_READ | RSO_FUSE_READDIR) {
            write_reply(req, &r, &out, out.valid != valid)?;
        }
        Ok(())
    }
}
