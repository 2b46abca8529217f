// SPDX-License-Identifier: GPL-2.0

//! Real FUSE requests, through the FUSE request filter of `kernel/patches/fuse`
//! (`rust/fuse_filter.rs`).
//!
//! An instance whose `conn` is `"fuse"` filters the requests of the FUSE connection its `fuse_fd`
//! names, in the process that attaches it: the connection's `/dev/fuse` file (its server's), or,
//! for root, a file of its mount. `reg` attaches the module's filter to that connection, with the
//! instance's map id as the filter's data, and `unreg` detaches it; LOOKUP, GETATTR, OPEN, READ,
//! READDIR and WRITE go through the instance's filters, the others to the server. The filter is
//! the connection's: a new mount, even with the same device number, has none, and detaching
//! never waits for the server.
//!
//! Routes, on a real connection: `BPF_FUSE_REPLIED` answers in the kernel, an errno (-511 to -1,
//! as fs/fuse takes from a server) fails the request, and every other route sends it to the
//! server (the server is the lower file system here); `BPF_FUSE_POSTFILTER` and
//! `BPF_FUSE_USER_POSTFILTER` run the postfilter on its reply. A prefilter's rewrite of a direct
//! READ's offset and size (no larger than asked; a short reply then means the end of the file to
//! fs/fuse, as a server's would) reaches the server; the rest of a request (its node, a LOOKUP's
//! name, an OPEN's flags, a READDIR's or page-cache READ's place, a WRITE's offset, size and
//! data, which are tied to what the kernel does with the reply) cannot be rewritten on a real
//! connection, and a prefilter that tries fails the request with `EIO`.

use crate::{
    fuse_filter::{
        opcode,
        Attachment,
        Filter,
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
        Instance,
        ModuleInit,
        StaticMutex, //
    },
    FuseOps,
    FUSE,
    NAME_MAX,
    REAL_DATA_MAX, //
};
use core::ffi::c_int;
use kernel::{
    fs::LocalFile,
    prelude::*,
    static_lock_class,
    sync::aref::ARef,
    uapi,
    ThisModule, //
};

/// The filter attached for each instance bound to a real connection, by map id. Taken in `reg`,
/// `unreg` and `update` only: requests find their instance by the filter's data, its map id.
struct Attached {
    module: Option<&'static ThisModule>,
    by_id: KVec<(u32, Attachment<RealFilter>)>,
}

/// The module's attachments, initialised in its init.
static ATTACHED: StaticMutex<Attached> = StaticMutex::new(Attached {
    module: None,
    by_id: KVec::new(),
});

/// Initialises the attachments' table (the module's init): `module` is the module, which fs/fuse
/// pins while a filter of it is attached.
pub(crate) fn init(init: &ModuleInit, module: &'static ThisModule) -> Result {
    ATTACHED.init(init, c"rso_fuse_attached", static_lock_class!())?;
    ATTACHED.lock()?.module = Some(module);
    Ok(())
}

/// The file `inst`'s `fuse_fd` names, in the calling process.
fn file_of(inst: &Instance<FuseOps>) -> Result<ARef<LocalFile>> {
    let fd = u32::try_from(inst.data().fuse_fd).map_err(|_| EBADF)?;
    LocalFile::fget(fd).map_err(|_| EBADF)
}

/// Attaches the filter to the connection `inst` names (`reg`): `EBUSY` when the instance is
/// attached already, or when the connection has a filter.
pub(crate) fn attach(inst: &Instance<FuseOps>) -> Result {
    let file = file_of(inst)?;
    let mut a = ATTACHED.lock()?;
    if a.by_id.iter().any(|(id, _)| *id == inst.id()) {
        pr_warn!("fuse_ops: an instance binds one real connection, with one link\n");
        return Err(EBUSY);
    }
    a.by_id.reserve(1, GFP_KERNEL)?;
    let filter = Attachment::new(&file, a.module.ok_or(EINVAL)?, u64::from(inst.id()))?;
    a.by_id.push(
        (inst.id(), filter),
        GFP_KERNEL, // Reserved above: cannot fail.
    )?;
    Ok(())
}

/// Detaches the filter of `inst` (`unreg`), which never waits for the server.
pub(crate) fn detach(inst: &Instance<FuseOps>) {
    let Ok(mut a) = ATTACHED.lock() else {
        return;
    };
    if let Some(i) = a.by_id.iter().position(|(id, _)| *id == inst.id()) {
        // Dropped here: detached.
        let _ = a.by_id.remove(i);
    }
}

/// Moves the filter of `old` to `new` (`update`): `new`'s `fuse_fd` must name the same
/// connection.
pub(crate) fn rebind(new: &Instance<FuseOps>, old: &Instance<FuseOps>) -> Result {
    let file = file_of(new)?;
    let mut a = ATTACHED.lock()?;
    // `new` attached elsewhere already: moving this link to it would leave its other connection
    // filtered by programs only this link reaches.
    if new.id() != old.id() && a.by_id.iter().any(|(id, _)| *id == new.id()) {
        return Err(EBUSY);
    }
    let entry = a
        .by_id
        .iter_mut()
        .find(|(id, _)| *id == old.id())
        .ok_or(ENOENT)?;
    entry.1.update(&file, u64::from(new.id()))?;
    entry.0 = new.id();
    Ok(())
}

/// Frees the table (the module's exit, when no instance is attached).
pub(crate) fn clear() {
    if let Ok(mut a) = ATTACHED.lock() {
        a.by_id = KVec::new();
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
    out.atimensec = attr.atimensec;
    out.mtimensec = attr.mtimensec;
    out.ctimensec = attr.ctimensec;
    out.nlink = attr.nlink;
    out.uid = attr.uid;
    out.gid = attr.gid;
    out.rdev = attr.rdev;
    out.blksize = attr.blksize;
    out.attr_flags = attr.flags;
}

/// The attributes of a reply from the out arguments: every field of `fuse_attr`.
fn attr_of(out: &rso_fuse_out, attr: &mut uapi::fuse_attr) {
    attr.size = out.size;
    attr.mode = out.mode;
    attr.ino = out.ino;
    attr.blocks = out.blocks;
    attr.atime = out.atime;
    attr.mtime = out.mtime;
    attr.ctime = out.ctime;
    attr.atimensec = out.atimensec;
    attr.mtimensec = out.mtimensec;
    attr.ctimensec = out.ctimensec;
    attr.nlink = out.nlink;
    attr.uid = out.uid;
    attr.gid = out.gid;
    attr.rdev = out.rdev;
    attr.blksize = out.blksize;
    attr.flags = out.attr_flags;
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
            uid: req.uid(),
            gid: req.gid(),
        },
        CallData::new(name.get(..namelen).ok_or(EINVAL)?, cap)?,
    );
    if op == RSO_FUSE_WRITE {
        r.data().fill(|buf| req.in_arg(1, buf))?;
    }
    Ok((r, in_args))
}

/// Writes the out arguments into the reply of `req` (LOOKUP, GETATTR, OPEN, WRITE; the data of
/// READ and READDIR). A prefilter's answer (`answer`) is made from `out` alone; a postfilter's
/// rewrite changes the server's reply, whose timeouts stay unless the postfilter changed them
/// (`timeouts`).
fn write_reply(
    req: &mut Request<'_>,
    r: &CallReq,
    out: &rso_fuse_out,
    answer: bool,
    timeouts: bool,
) -> Result {
    match r.req().opcode {
        RSO_FUSE_LOOKUP => {
            let mut e: uapi::fuse_entry_out = if answer {
                Default::default()
            } else {
                req.out_arg_as(0)?
            };
            e.nodeid = out.nodeid;
            e.generation = out.generation;
            if answer || timeouts {
                e.entry_valid = out.entry_valid;
                e.entry_valid_nsec = 0;
                e.attr_valid = out.valid;
                e.attr_valid_nsec = 0;
            }
            attr_of(out, &mut e.attr);
            req.set_out_arg_as(0, &e)
        }
        RSO_FUSE_GETATTR => {
            let mut a: uapi::fuse_attr_out = if answer {
                Default::default()
            } else {
                req.out_arg_as(0)?
            };
            if answer || timeouts {
                a.attr_valid = out.valid;
                a.attr_valid_nsec = 0;
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

/// Passes a prefilter's rewrite of `in_args` (from `orig`) on to the server where a real request
/// can carry it (a direct READ's offset, and a size no larger), or fails with `EIO`.
fn write_in_args(req: &mut Request<'_>, op: u32, orig: &rso_fuse_in, new: &rso_fuse_in) -> Result {
    let same = |a: &rso_fuse_in, b: &rso_fuse_in| {
        (a.nodeid, a.offset, a.size, a.namelen, a.flags)
            == (b.nodeid, b.offset, b.size, b.namelen, b.flags)
    };
    if same(orig, new) {
        return Ok(());
    }
    let moved = rso_fuse_in {
        offset: new.offset,
        size: new.size,
        ..*orig
    };
    if op != RSO_FUSE_READ || !same(&moved, new) {
        return Err(EIO);
    }
    // fs/fuse refuses a larger size, which would not fit the reply's room.
    let mut r: uapi::fuse_read_in = req.in_arg_as(0)?;
    r.offset = new.offset;
    r.size = new.size;
    req.set_in_arg_as(0, &r).map_err(|_| EIO)
}

/// The out arguments of the server's reply to `req`.
fn read_reply(req: &Request<'_>, r: &CallReq, out: &mut rso_fuse_out) -> Result {
    match r.req().opcode {
        RSO_FUSE_LOOKUP => {
            let e: uapi::fuse_entry_out = req.out_arg_as(0)?;
            out.nodeid = e.nodeid;
            out.generation = e.generation;
            out.valid = e.attr_valid;
            out.entry_valid = e.entry_valid;
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
        // The instance whose `reg` attached the filter (none while a detach is under way).
        let Some(inst) = u32::try_from(req.data()).ok().and_then(|id| FUSE.get(id)) else {
            return Ok(Verdict::Pass);
        };
        // A request the programs cannot see (a name longer than their view, an argument of an
        // old protocol version's size) goes to the server unfiltered.
        let Ok((r, orig)) = call_req(req, op) else {
            return Ok(Verdict::Pass);
        };
        let mut in_args = rso_fuse_in { ..orig };
        let mut out = rso_fuse_out::default();
        let route = prefilter(&r, &inst, &mut in_args, &mut out).unwrap_or(BPF_FUSE_USER as c_int);
        // A WRITE's data is the caller's pages: a prefilter cannot replace it here.
        if op == RSO_FUSE_WRITE && r.data().was_set() {
            return Err(EIO);
        }
        match route as u32 {
            BPF_FUSE_REPLIED => {
                // A reply that does not fit the request (more data than it asked for) is the
                // program's error: the request fails with EIO. (fs/fuse refuses an answered
                // OPEN: only the server can give its handle.)
                write_reply(req, &r, &out, true, true).map_err(|_| EIO)?;
                Ok(Verdict::Replied)
            }
            BPF_FUSE_POSTFILTER | BPF_FUSE_USER_POSTFILTER => {
                write_in_args(req, op, &orig, &in_args)?;
                req.set_private(RUN_POSTFILTER | u64::from(inst.id()));
                Ok(Verdict::Send)
            }
            _ if is_errno(route) => Err(Error::from_errno(route)),
            BPF_FUSE_CONTINUE | BPF_FUSE_USER => {
                write_in_args(req, op, &orig, &in_args)?;
                Ok(Verdict::Pass)
            }
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
        // The in args as the server received them.
        let (r, in_args) = call_req(req, op)?;
        let mut out = rso_fuse_out::default();
        read_reply(req, &r, &mut out)?;
        let timeouts = (out.valid, out.entry_valid);
        match postfilter(&r, &inst, &in_args, &mut out).unwrap_or(0) {
            0 => {}
            e if is_errno(e) => return Err(Error::from_errno(e)),
            _ => return Err(EIO),
        }
        // The data of READ and READDIR goes through as the server sent it; the attributes and
        // OPEN's flags as the postfilter left them. The server's entry and attribute timeouts
        // stay, unless the postfilter changed them.
        if !matches!(op, RSO_FUSE_READ | RSO_FUSE_READDIR) {
            let changed = (out.valid, out.entry_valid) != timeouts;
            write_reply(req, &r, &out, false, changed)?;
        }
        Ok(())
    }
}
