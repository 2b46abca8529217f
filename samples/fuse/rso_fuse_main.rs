// SPDX-License-Identifier: GPL-2.0

//! `rso_fuse`: a FUSE-like request path whose requests BPF programs filter, in the shape of
//! fuse-bpf, on the typed struct_ops layer.
//!
//! - Clients send LOOKUP, GETATTR, READ and WRITE requests to a connection through
//!   `/dev/rso_fuse` (`RSO_FUSE_IOC_REQUEST`).
//! - A daemon serves a connection from `/dev/rso_fuse_daemon`: it mounts it by name, reads
//!   requests (each with a unique id) and replies by id, as FUSE daemons do. A connection holds
//!   at most `RSO_FUSE_QUEUE_MAX` unanswered requests; more fail with `EAGAIN`. When the daemon's
//!   file is closed (the daemon exits or dies), waiting requests fail with `ENOTCONN`.
//! - A backing store in the kernel plays the lower file system.
//! - A `fuse_ops` instance binds to a connection by the name in its `conn` member
//!   (`init_member` copies it, `reg` binds it, `unreg` unbinds it). Its prefilter for an opcode
//!   decides where a request goes (`fuse_ops.h`), its postfilter may rewrite the reply.
//! - Kfuncs (bodies here, BTF declarations in `fuse_kfuncs.c`) copy the name and data between a
//!   request and the program's dynptrs.
//!
//! A request holds a reference on the instance it started with (an [`InstanceRef`]) until it
//! is answered, so an instance detached while requests are in flight stays valid until they
//! finish; they finish with the filters they started with.

use core::{
    cell::{
        Cell,
        UnsafeCell, //
    },
    ffi::{
        c_int,
        c_void, //
    },
};
use kernel::{
    fs::File,
    ioctl::{
        _IO,
        _IOR,
        _IOW,
        _IOWR, //
    },
    miscdevice::{
        MiscDevice,
        MiscDeviceOptions,
        MiscDeviceRegistration, //
    },
    new_condvar, new_mutex,
    prelude::*,
    sync::{
        global_lock,
        Arc,
        CondVar,
        Mutex, //
    },
    time::{
        Instant,
        Monotonic, //
    },
    uaccess::{
        UserPtr,
        UserSlice, //
    },
};

#[macro_use]
#[path = "../../rust/struct_ops/mod.rs"]
mod struct_ops;

use struct_ops::{
    dynptr,
    InitMember,
    Instance,
    InstanceRef,
    Link,
    ModuleInit,
    StructOps, //
};

ops_header! {
    /// The Rust view of `fuse_ops.h`.
    mod fuse_h {
        include!("fuse_ops_generated.rs");
    }
}

use fuse_h::*;

module! {
    type: RsoFuse,
    name: "rso_fuse",
    authors: ["rust-struct-ops developers"],
    description: "fuse_ops: a FUSE-like request path filtered by BPF, in the shape of fuse-bpf",
    license: "GPL",
}

declare_struct_ops! {
    /// The `fuse_ops` struct_ops type.
    static FUSE: FuseOps = fuse_ops;
}

declare_kfuncs!(fn register_kfuncs = fuse);

const CONN_MAX: usize = RSO_FUSE_CONN_MAX as usize;
const NAME_MAX: usize = RSO_FUSE_NAME_MAX as usize;
const DATA_MAX: usize = RSO_FUSE_DATA_MAX as usize;
const QUEUE_MAX: usize = RSO_FUSE_QUEUE_MAX as usize;

const MAGIC: u32 = RSO_FUSE_IOC_MAGIC as u32;
const IOC_REQUEST: u32 = _IOWR::<rso_fuse_request>(MAGIC, 1);
const IOC_BENCH: u32 = _IOWR::<rso_fuse_bench>(MAGIC, 2);
const IOC_MOUNT: u32 = _IOW::<rso_fuse_mount>(MAGIC, 3);
const IOC_READ_REQ: u32 = _IOR::<rso_fuse_dreq>(MAGIC, 4);
const IOC_REPLY: u32 = _IOW::<rso_fuse_dreply>(MAGIC, 5);
const IOC_ABORT: u32 = _IO(MAGIC, 6);

/// A connection's name, NUL-padded.
type ConnName = [u8; CONN_MAX];

/// One binding: a connection name, the map id of the instance bound to it, and the number of
/// attachments (links) of that instance.
#[derive(Clone, Copy)]
struct Binding {
    conn: ConnName,
    id: u32,
    links: usize,
}

/// The binding table: names hashed into buckets, at most one binding per bucket on average, so
/// that a lookup costs the same with 1 or 10,000 bound connections.
///
/// # Invariants
///
/// `buckets.len()` is 0 or a power of two, every binding is in the bucket its name hashes to,
/// no name is bound twice, and `len` is the number of bindings.
struct Bindings {
    buckets: KVec<KVec<Binding>>,
    len: usize,
}

impl Bindings {
    const fn new() -> Self {
        Self {
            buckets: KVec::new(),
            len: 0,
        }
    }

    /// FNV-1a of the name.
    fn hash(conn: &ConnName) -> usize {
        conn.iter().fold(0x811c_9dc5u32, |h, &b| {
            (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
        }) as usize
    }

    /// The index of the bucket `conn` belongs in, with `n` buckets (a power of two).
    fn slot(conn: &ConnName, n: usize) -> usize {
        Self::hash(conn) & n.wrapping_sub(1)
    }

    fn get(&self, conn: &ConnName) -> Option<&Binding> {
        let bucket = self.buckets.get(Self::slot(conn, self.buckets.len()))?;
        bucket.iter().find(|b| b.conn == *conn)
    }

    fn get_mut(&mut self, conn: &ConnName) -> Option<&mut Binding> {
        let slot = Self::slot(conn, self.buckets.len());
        let bucket = self.buckets.get_mut(slot)?;
        bucket.iter_mut().find(|b| b.conn == *conn)
    }

    /// Binds `b.conn`, which the caller found unbound. On error no binding changed (the table
    /// may have grown).
    fn insert(&mut self, b: Binding) -> Result {
        if self.len >= self.buckets.len() {
            self.grow()?;
        }
        let slot = Self::slot(&b.conn, self.buckets.len());
        self.buckets
            .get_mut(slot)
            .ok_or(ENOMEM)?
            .push(b, GFP_KERNEL)?;
        self.len += 1;
        Ok(())
    }

    /// Unbinds `conn`, if bound.
    fn remove(&mut self, conn: &ConnName) {
        let slot = Self::slot(conn, self.buckets.len());
        if let Some(bucket) = self.buckets.get_mut(slot) {
            if let Some(i) = bucket.iter().position(|b| b.conn == *conn) {
                if bucket.remove(i).is_ok() {
                    self.len -= 1;
                }
            }
        }
    }

    /// Doubles the buckets. The bindings are copied into the new table, which replaces the old
    /// one only when every copy is in place, so on error nothing changed.
    fn grow(&mut self) -> Result {
        let n = self.buckets.len().checked_mul(2).ok_or(ENOMEM)?.max(16);
        let mut buckets = KVec::with_capacity(n, GFP_KERNEL)?;
        for _ in 0..n {
            buckets.push(KVec::new(), GFP_KERNEL)?;
        }
        for &b in self.buckets.iter().flat_map(|bucket| bucket.iter()) {
            let bucket: &mut KVec<Binding> =
                buckets.get_mut(Self::slot(&b.conn, n)).ok_or(ENOMEM)?;
            bucket.push(b, GFP_KERNEL)?;
        }
        self.buckets = buckets;
        Ok(())
    }
}

global_lock! {
    // SAFETY: Initialised in the module's init, before the type is registered.
    unsafe(uninit) static BINDINGS: Mutex<Bindings> = Bindings::new();
}

global_lock! {
    // SAFETY: Initialised in the module's init, before the devices are registered.
    unsafe(uninit) static CONNS: Mutex<KVec<Arc<Conn>>> = KVec::new();
}

global_lock! {
    // SAFETY: Initialised in the module's init, before the devices are registered.
    unsafe(uninit) static BACKING: Mutex<Backing> = Backing::new();
}

/// A connection name from a fixed-size field: NUL-terminated within it, and not empty.
fn conn_name(raw: &[kernel::ffi::c_char; CONN_MAX]) -> Result<ConnName> {
    let mut name: ConnName = *raw;
    let len = name.iter().position(|&b| b == 0).ok_or(EINVAL)?;
    if len == 0 {
        return Err(EINVAL);
    }
    name[len..].fill(0);
    Ok(name)
}

/// The instance bound to `conn`, with a reference that keeps it alive.
fn lookup(conn: &ConnName) -> Option<InstanceRef<FuseOps>> {
    // The guard is dropped at the end of the statement: the registry is not read under it.
    let id = BINDINGS.lock().get(conn)?.id;
    FUSE.get(id)
}

/// The Rust side of `fuse_ops`.
struct FuseOps;

#[vtable]
impl StructOps for FuseOps {
    fn init_member(member: &mut InitMember<'_, fuse_ops>) -> Result<bool> {
        if !member.is(core::mem::offset_of!(fuse_ops, conn)) {
            return Ok(false);
        }
        if conn_name(&member.udata().conn).is_err() {
            pr_warn!("fuse_ops: conn must be a non-empty NUL-terminated name\n");
            return Err(EINVAL);
        }
        member.copy()?;
        Ok(true)
    }

    fn reg(inst: &Instance<Self>, _link: Option<&Link>) -> Result {
        let conn = conn_name(&inst.data().conn)?;
        let mut bindings = BINDINGS.lock();
        match bindings.get_mut(&conn) {
            Some(b) if b.id == inst.id() => b.links += 1,
            Some(_) => {
                pr_warn!("fuse_ops: the connection is bound to another instance\n");
                return Err(EEXIST);
            }
            None => bindings.insert(Binding {
                conn,
                id: inst.id(),
                links: 1,
            })?,
        }
        Ok(())
    }

    fn unreg(inst: &Instance<Self>, _link: Option<&Link>) {
        let Ok(conn) = conn_name(&inst.data().conn) else {
            return;
        };
        let mut bindings = BINDINGS.lock();
        if let Some(b) = bindings.get_mut(&conn) {
            if b.id == inst.id() {
                b.links -= 1;
                if b.links == 0 {
                    bindings.remove(&conn);
                }
            }
        }
    }

    fn update(new: &Instance<Self>, old: &Instance<Self>, _link: &Link) -> Result {
        if new.data().conn != old.data().conn {
            return Err(EINVAL);
        }
        let conn = conn_name(&new.data().conn)?;
        let mut bindings = BINDINGS.lock();
        let b = bindings.get_mut(&conn).ok_or(ENOENT)?;
        if b.links != 1 {
            return Err(EBUSY);
        }
        b.id = new.id();
        Ok(())
    }
}

/// A request while the filters run: what they see (`hdr`), and the name and data the kfuncs
/// reach from it.
///
/// # Invariants
///
/// Every `rso_fuse_req` this module passes to an op is the `hdr` of a live `CallReq` (only
/// [`CallReq::prefilter`] and [`CallReq::postfilter`] call ops), so the kfuncs find the
/// `CallReq` from it. `data` is only accessed by the thread that owns the `CallReq`: by this
/// module outside op calls, and by the kfuncs the op's program calls during them.
#[repr(C)]
struct CallReq {
    hdr: rso_fuse_req,
    name: [u8; NAME_MAX],
    namelen: usize,
    data: UnsafeCell<[u8; DATA_MAX]>,
    len: Cell<usize>,
}

impl CallReq {
    fn data(&self) -> &[u8] {
        // SAFETY: By the type invariants no op call (and so no kfunc) runs while `&self` is used
        // here, on the owning thread.
        let data: &[u8; DATA_MAX] = unsafe { &*self.data.get() };
        &data[..self.len.get()]
    }

    fn set_data(&self, src: &[u8]) -> Result<usize> {
        if src.len() > DATA_MAX {
            return Err(E2BIG);
        }
        // SAFETY: As in `data`, or called by a kfunc during an op call, when this module holds
        // no reference into `data`.
        let data: &mut [u8; DATA_MAX] = unsafe { &mut *self.data.get() };
        data[..src.len()].copy_from_slice(src);
        self.len.set(src.len());
        Ok(src.len())
    }

    fn prefilter(
        &self,
        inst: &Instance<FuseOps>,
        in_args: &mut rso_fuse_in,
        out: &mut rso_fuse_out,
    ) -> Option<c_int> {
        let ops = inst.ops();
        match self.hdr.opcode {
            RSO_FUSE_LOOKUP => ops.lookup_prefilter(&self.hdr, in_args, out),
            RSO_FUSE_GETATTR => ops.getattr_prefilter(&self.hdr, in_args, out),
            RSO_FUSE_READ => ops.read_prefilter(&self.hdr, in_args, out),
            _ => ops.write_prefilter(&self.hdr, in_args, out),
        }
    }

    fn postfilter(
        &self,
        inst: &Instance<FuseOps>,
        in_args: &rso_fuse_in,
        out: &mut rso_fuse_out,
    ) -> Option<c_int> {
        let ops = inst.ops();
        match self.hdr.opcode {
            RSO_FUSE_LOOKUP => ops.lookup_postfilter(&self.hdr, in_args, out),
            RSO_FUSE_GETATTR => ops.getattr_postfilter(&self.hdr, in_args, out),
            RSO_FUSE_READ => ops.read_postfilter(&self.hdr, in_args, out),
            _ => ops.write_postfilter(&self.hdr, in_args, out),
        }
    }
}

/// The `CallReq` of `req`, a kfunc's argument.
///
/// # Safety
///
/// `req` is an `rso_fuse_req` argument of an op call of this module, which is running.
unsafe fn call_req<'a>(req: *const rso_fuse_req) -> &'a CallReq {
    // SAFETY: By the type invariants of `CallReq`, `req` is the first field of a live
    // `CallReq` (`repr(C)`), which outlives the op call.
    unsafe { &*req.cast::<CallReq>() }
}

/// `bpf_rso_fuse_name()`: copies the LOOKUP name into the program's dynptr `dst`.
///
/// # Safety
///
/// Called only by the kfunc of `fuse_kfuncs.c`: `req` is the request argument of the running op
/// call and `dst` an initialised dynptr of the program.
#[no_mangle]
pub unsafe extern "C" fn rso_fuse_kf_name(req: *const rso_fuse_req, dst: *const c_void) -> c_int {
    // SAFETY: Per the function's safety requirements.
    let r = unsafe { call_req(req) };
    // SAFETY: Per the function's safety requirements; `name` is not the program's memory.
    let ret = unsafe { dynptr::copy_to(dst, &r.name[..r.namelen]) };
    ret.map_or_else(|e| e.to_errno(), |n| n as c_int)
}

/// `bpf_rso_fuse_data()`: copies the request's data into the program's dynptr `dst`.
///
/// # Safety
///
/// As for [`rso_fuse_kf_name`].
#[no_mangle]
pub unsafe extern "C" fn rso_fuse_kf_data(req: *const rso_fuse_req, dst: *const c_void) -> c_int {
    // SAFETY: Per the function's safety requirements.
    let r = unsafe { call_req(req) };
    // SAFETY: As in `rso_fuse_kf_name`; this module holds no reference into the data during an
    // op call.
    let ret = unsafe { dynptr::copy_to(dst, r.data()) };
    ret.map_or_else(|e| e.to_errno(), |n| n as c_int)
}

/// `bpf_rso_fuse_set_data()`: replaces the request's data with the program's dynptr `src`.
///
/// # Safety
///
/// As for [`rso_fuse_kf_name`].
#[no_mangle]
pub unsafe extern "C" fn rso_fuse_kf_set_data(
    req: *const rso_fuse_req,
    src: *const c_void,
) -> c_int {
    // SAFETY: Per the function's safety requirements.
    let r = unsafe { call_req(req) };
    let mut buf = [0u8; DATA_MAX];
    // SAFETY: Per the function's safety requirements; `buf` is not the program's memory.
    let ret = unsafe { dynptr::copy_from(&mut buf, src) }.and_then(|n| r.set_data(&buf[..n]));
    ret.map_or_else(|e| e.to_errno(), |n| n as c_int)
}

/// A file of the backing store.
struct BackFile {
    nodeid: u64,
    name: &'static [u8],
    mode: u32,
    data: [u8; DATA_MAX],
    len: usize,
}

/// The backing store: a root directory (node 1) and two files, in the kernel.
struct Backing {
    files: [BackFile; 3],
}

const HELLO: &[u8] = b"hello from the backing store\n";

impl Backing {
    const fn new() -> Self {
        let mut hello = [0u8; DATA_MAX];
        let mut i = 0;
        while i < HELLO.len() {
            hello[i] = HELLO[i];
            i += 1;
        }
        Self {
            files: [
                BackFile {
                    nodeid: 1,
                    name: b"",
                    mode: 0o40755,
                    data: [0; DATA_MAX],
                    len: 0,
                },
                BackFile {
                    nodeid: 2,
                    name: b"hello",
                    mode: 0o100644,
                    data: hello,
                    len: HELLO.len(),
                },
                BackFile {
                    nodeid: 3,
                    name: b"notes",
                    mode: 0o100644,
                    data: [0; DATA_MAX],
                    len: 0,
                },
            ],
        }
    }

    /// Serves a request in the kernel.
    fn serve(&mut self, r: &CallReq, in_args: &rso_fuse_in, out: &mut rso_fuse_out) -> Result {
        if r.hdr.opcode == RSO_FUSE_LOOKUP {
            if in_args.nodeid != 1 {
                return Err(ENOTDIR);
            }
            let name = &r.name[..r.namelen];
            let f = self
                .files
                .iter()
                .find(|f| !f.name.is_empty() && f.name == name);
            out.nodeid = f.ok_or(ENOENT)?.nodeid;
            return Ok(());
        }
        let f = self
            .files
            .iter_mut()
            .find(|f| f.nodeid == in_args.nodeid)
            .ok_or(ENOENT)?;
        let off = usize::try_from(in_args.offset)
            .map_err(|_| EINVAL)?
            .min(DATA_MAX);
        let size = in_args.size as usize;
        match r.hdr.opcode {
            RSO_FUSE_GETATTR => {
                out.size = f.len as u64;
                out.mode = f.mode;
            }
            RSO_FUSE_READ => {
                let end = (off + size).min(f.len).max(off.min(f.len));
                let n = r.set_data(&f.data[off.min(f.len)..end])?;
                out.count = n as u32;
            }
            _ => {
                let src = r.data();
                let end = off
                    .checked_add(src.len())
                    .filter(|&e| e <= DATA_MAX)
                    .ok_or(EFBIG)?;
                f.data[off..end].copy_from_slice(src);
                f.len = f.len.max(end);
                out.count = src.len() as u32;
            }
        }
        Ok(())
    }
}

/// A reply from the daemon.
struct Reply {
    out: rso_fuse_out,
    data: KVec<u8>,
}

/// What a connection holds: requests not read yet, requests the daemon read, and answers not
/// collected yet.
struct ConnState {
    alive: bool,
    next_unique: u64,
    queue: KVec<rso_fuse_dreq>,
    sent: KVec<(u64, u32, u32)>,
    done: KVec<(u64, Result<Reply>)>,
}

impl ConnState {
    fn outstanding(&self) -> usize {
        self.queue.len() + self.sent.len()
    }

    /// Forgets request `unique` (its caller gave up waiting).
    fn forget(&mut self, unique: u64) {
        self.queue.retain(|q| q.unique != unique);
        self.sent.retain(|s| s.0 != unique);
        self.done.retain(|d| d.0 != unique);
    }
}

/// A connection served by a daemon.
#[pin_data]
struct Conn {
    name: ConnName,
    #[pin]
    state: Mutex<ConnState>,
    /// The daemon waits here for requests.
    #[pin]
    to_daemon: CondVar,
    /// Callers wait here for replies.
    #[pin]
    replied: CondVar,
}

impl Conn {
    fn find(name: &ConnName) -> Option<Arc<Conn>> {
        CONNS.lock().iter().find(|c| &c.name == name).cloned()
    }

    /// Sends `r` to the daemon and waits for its reply.
    fn call(&self, r: &CallReq, in_args: &rso_fuse_in) -> Result<Reply> {
        let mut dreq = rso_fuse_dreq {
            nodeid: in_args.nodeid,
            offset: in_args.offset,
            opcode: r.hdr.opcode,
            size: in_args.size,
            namelen: r.namelen as u32,
            ..Default::default()
        };
        dreq.name[..r.namelen].copy_from_slice(&r.name[..r.namelen]);
        let data = r.data();
        dreq.data[..data.len()].copy_from_slice(data);
        if r.hdr.opcode == RSO_FUSE_WRITE {
            dreq.size = data.len() as u32;
        }
        let mut st = self.state.lock();
        if !st.alive {
            return Err(ENOTCONN);
        }
        if st.outstanding() >= QUEUE_MAX {
            return Err(EAGAIN);
        }
        let unique = st.next_unique;
        st.next_unique += 1;
        dreq.unique = unique;
        st.queue.push(dreq, GFP_KERNEL)?;
        self.to_daemon.notify_one();
        loop {
            if let Some(i) = st.done.iter().position(|d| d.0 == unique) {
                return st.done.remove(i).map_err(|_| EINVAL)?.1;
            }
            if !st.alive {
                st.forget(unique);
                return Err(ENOTCONN);
            }
            if self.replied.wait_interruptible(&mut st) {
                st.forget(unique);
                return Err(EINTR);
            }
        }
    }

    /// The daemon's next request; waits for one.
    fn next(&self) -> Result<rso_fuse_dreq> {
        let mut st = self.state.lock();
        loop {
            if !st.alive {
                return Err(ENOTCONN);
            }
            if !st.queue.is_empty() {
                // Room first: a request leaves the queue only to be recorded as sent.
                st.sent.reserve(1, GFP_KERNEL)?;
                let q = st.queue.remove(0).map_err(|_| EINVAL)?;
                st.sent.push((q.unique, q.opcode, q.size), GFP_KERNEL)?;
                return Ok(q);
            }
            if self.to_daemon.wait_interruptible(&mut st) {
                return Err(EINTR);
            }
        }
    }

    /// The daemon's reply `rep`. A malformed reply fails the request with `EIO` and the daemon's
    /// call with `EINVAL`; a reply to no waiting request fails with `ENOENT`.
    fn reply(&self, rep: &rso_fuse_dreply) -> Result {
        let mut st = self.state.lock();
        let i = st
            .sent
            .iter()
            .position(|s| s.0 == rep.unique)
            .ok_or(ENOENT)?;
        let (unique, opcode, size) = st.sent[i];
        let count = rep.out.count as usize;
        let bad = rep.error > 0
            || rep.error < -4095
            || rep.pad != 0
            || (rep.error == 0
                && (count > DATA_MAX || (opcode == RSO_FUSE_READ && count > size as usize)));
        let answer = if bad {
            Err(EIO)
        } else if rep.error < 0 {
            Err(Error::from_errno(rep.error))
        } else {
            let n = if opcode == RSO_FUSE_READ { count } else { 0 };
            let mut data = KVec::with_capacity(n, GFP_KERNEL)?;
            data.extend_from_slice(&rep.data[..n], GFP_KERNEL)?;
            let out = rso_fuse_out {
                nodeid: rep.out.nodeid,
                size: rep.out.size,
                mode: rep.out.mode,
                count: rep.out.count,
            };
            Ok(Reply { out, data })
        };
        // Everything that can fail is done: the request moves from sent to done.
        st.done.reserve(1, GFP_KERNEL)?;
        st.sent.remove(i).map_err(|_| EINVAL)?;
        st.done.push((unique, answer), GFP_KERNEL)?;
        self.replied.notify_all();
        if bad {
            pr_info!(
                "rso_fuse: malformed reply to request {}: the request fails with EIO\n",
                unique
            );
            return Err(EINVAL);
        }
        Ok(())
    }

    /// Fails request `unique`, which the daemon read but could not take (a bad buffer), so that
    /// its caller does not wait for a reply that cannot come.
    fn fail(&self, unique: u64) {
        let mut st = self.state.lock();
        let Some(i) = st.sent.iter().position(|s| s.0 == unique) else {
            return;
        };
        if st.done.reserve(1, GFP_KERNEL).is_ok() && st.sent.remove(i).is_ok() {
            let _ = st.done.push((unique, Err(EIO)), GFP_KERNEL);
            self.replied.notify_all();
        }
    }

    /// The daemon is gone: every waiting request fails with `ENOTCONN`.
    fn abort(&self) {
        let mut st = self.state.lock();
        st.alive = false;
        st.queue.clear();
        st.sent.clear();
        self.replied.notify_all();
        self.to_daemon.notify_all();
    }
}

/// Routes one request through the filters of the instance bound to its connection.
fn request(rq: &mut rso_fuse_request) -> Result {
    let conn = conn_name(&rq.conn)?;
    let namelen = rq.namelen as usize;
    if !(RSO_FUSE_LOOKUP..=RSO_FUSE_WRITE).contains(&rq.opcode)
        || namelen > NAME_MAX
        || rq.size as usize > DATA_MAX
    {
        return Err(EINVAL);
    }
    let mut r = CallReq {
        hdr: rso_fuse_req {
            unique: 0,
            nodeid: rq.nodeid,
            opcode: rq.opcode,
            pid: current!().pid() as u32,
        },
        name: [0; NAME_MAX],
        namelen,
        data: UnsafeCell::new([0; DATA_MAX]),
        len: Cell::new(0),
    };
    r.name[..namelen].copy_from_slice(&rq.name[..namelen]);
    if rq.opcode == RSO_FUSE_WRITE {
        r.set_data(&rq.data[..rq.size as usize])?;
    }
    let mut in_args = rso_fuse_in {
        nodeid: rq.nodeid,
        offset: rq.offset,
        size: rq.size,
        namelen: rq.namelen,
    };
    let mut out = rso_fuse_out::default();
    let inst = lookup(&conn);
    let route = match &inst {
        Some(inst) => r.prefilter(inst, &mut in_args, &mut out),
        None => None,
    };
    let route = route.unwrap_or(BPF_FUSE_USER as c_int);
    match route as u32 {
        BPF_FUSE_REPLIED => {}
        BPF_FUSE_CONTINUE | BPF_FUSE_POSTFILTER => BACKING.lock().serve(&r, &in_args, &mut out)?,
        BPF_FUSE_USER | BPF_FUSE_USER_POSTFILTER => {
            let c = Conn::find(&conn).ok_or(ENOTCONN)?;
            let reply = c.call(&r, &in_args)?;
            out = reply.out;
            if r.hdr.opcode == RSO_FUSE_READ {
                r.set_data(&reply.data)?;
            }
        }
        _ if (-4095..0).contains(&route) => return Err(Error::from_errno(route)),
        _ => return Err(EIO),
    }
    if matches!(route as u32, BPF_FUSE_POSTFILTER | BPF_FUSE_USER_POSTFILTER) {
        if let Some(inst) = &inst {
            match r.postfilter(inst, &in_args, &mut out).unwrap_or(0) {
                0 => {}
                e if (-4095..0).contains(&e) => return Err(Error::from_errno(e)),
                _ => return Err(EIO),
            }
        }
    }
    if r.hdr.opcode == RSO_FUSE_READ {
        let data = r.data();
        rq.data[..data.len()].copy_from_slice(data);
        out.count = data.len() as u32;
    }
    rq.out = out;
    Ok(())
}

/// An in-kernel loop for `make bench`.
fn bench(b: &mut rso_fuse_bench) -> Result {
    let conn = conn_name(&b.conn)?;
    let loops = b.loops;
    let mut sum = 0i64;
    let start = Instant::<Monotonic>::now();
    if b.kind == RSO_FUSE_BENCH_LOOKUP {
        for _ in 0..loops {
            sum += i64::from(lookup(&conn).ok_or(ENOENT)?.id());
        }
    } else {
        let inst = lookup(&conn).ok_or(ENOENT)?;
        let ops = inst.ops();
        // One loop per op, and a sum that wraps, as in the C twin's loops: the two modules then
        // differ only in how they call the op.
        macro_rules! call_loop {
            ($i:pat => $call:expr) => {
                for $i in 0..loops as c_int {
                    sum = sum.wrapping_add(i64::from($call.ok_or(EOPNOTSUPP)?));
                }
            };
        }
        match b.kind {
            RSO_FUSE_BENCH_CALL0 => call_loop!(_ => ops.bench0()),
            RSO_FUSE_BENCH_CALL2 => call_loop!(i => ops.bench2(i, 1)),
            RSO_FUSE_BENCH_CALL5 => call_loop!(i => ops.bench5(i, 1, 2, 3, 4)),
            _ => return Err(EINVAL),
        }
    }
    b.ns = start.elapsed().as_nanos() as u64;
    b.sum = sum;
    Ok(())
}

/// Reads a `T` from userspace at `arg`, and gives `f` a chance to answer in place.
fn in_out<T: kernel::transmute::FromBytes + kernel::transmute::AsBytes>(
    arg: usize,
    write_back: bool,
    f: impl FnOnce(&mut T) -> Result,
) -> Result<isize> {
    let size = core::mem::size_of::<T>();
    let (mut reader, mut writer) = UserSlice::new(UserPtr::from_addr(arg), size).reader_writer();
    let mut v: T = reader.read()?;
    f(&mut v)?;
    if write_back {
        writer.write(&v)?;
    }
    Ok(0)
}

/// `/dev/rso_fuse`: clients' requests, and the benchmark's loops.
struct ClientDev;

#[vtable]
impl MiscDevice for ClientDev {
    type Ptr = Pin<KBox<Self>>;

    fn open(_file: &File, _misc: &MiscDeviceRegistration<Self>) -> Result<Pin<KBox<Self>>> {
        Ok(KBox::pin(ClientDev, GFP_KERNEL)?)
    }

    fn ioctl(_me: Pin<&Self>, _file: &File, cmd: u32, arg: usize) -> Result<isize> {
        match cmd {
            // A failed request writes nothing back: its errno is the answer.
            IOC_REQUEST => in_out::<rso_fuse_request>(arg, true, request),
            IOC_BENCH => in_out::<rso_fuse_bench>(arg, true, bench),
            _ => Err(ENOTTY),
        }
    }
}

/// `/dev/rso_fuse_daemon`: one open file serves one connection.
#[pin_data]
struct DaemonDev {
    #[pin]
    conn: Mutex<Option<Arc<Conn>>>,
}

impl DaemonDev {
    fn conn(&self) -> Result<Arc<Conn>> {
        self.conn.lock().clone().ok_or(ENOTCONN)
    }

    fn mount(&self, m: &mut rso_fuse_mount) -> Result {
        let name = conn_name(&m.conn)?;
        let mut mine = self.conn.lock();
        if mine.is_some() {
            return Err(EBUSY);
        }
        let mut conns = CONNS.lock();
        if conns.iter().any(|c| c.name == name) {
            return Err(EEXIST);
        }
        let conn = Arc::pin_init(
            pin_init!(Conn {
                name,
                state <- new_mutex!(ConnState {
                    alive: true,
                    next_unique: 1,
                    queue: KVec::new(),
                    sent: KVec::new(),
                    done: KVec::new(),
                }),
                to_daemon <- new_condvar!(),
                replied <- new_condvar!(),
            }),
            GFP_KERNEL,
        )?;
        conns.push(conn.clone(), GFP_KERNEL)?;
        *mine = Some(conn);
        Ok(())
    }
}

impl DaemonDev {
    /// The daemon is gone (its file closed, or `RSO_FUSE_IOC_ABORT`): the connection goes, and
    /// every request waiting on it fails with `ENOTCONN`.
    fn unmount(&self) {
        let Some(conn) = self.conn.lock().take() else {
            return;
        };
        CONNS.lock().retain(|c| !Arc::ptr_eq(c, &conn));
        conn.abort();
    }
}

#[vtable]
impl MiscDevice for DaemonDev {
    type Ptr = Pin<KBox<Self>>;

    fn open(_file: &File, _misc: &MiscDeviceRegistration<Self>) -> Result<Pin<KBox<Self>>> {
        KBox::try_pin_init(
            try_pin_init!(DaemonDev {
                conn <- new_mutex!(None),
            }),
            GFP_KERNEL,
        )
    }

    fn release(me: Pin<KBox<Self>>, _file: &File) {
        me.unmount();
    }

    fn ioctl(me: Pin<&Self>, _file: &File, cmd: u32, arg: usize) -> Result<isize> {
        match cmd {
            IOC_MOUNT => in_out::<rso_fuse_mount>(arg, false, |m| me.mount(m)),
            IOC_READ_REQ => {
                let conn = me.conn()?;
                let q = conn.next()?;
                let size = core::mem::size_of::<rso_fuse_dreq>();
                let written = UserSlice::new(UserPtr::from_addr(arg), size)
                    .writer()
                    .write(&q);
                if let Err(e) = written {
                    conn.fail(q.unique);
                    return Err(e);
                }
                Ok(0)
            }
            IOC_REPLY => in_out::<rso_fuse_dreply>(arg, false, |r| me.conn()?.reply(r)),
            IOC_ABORT => {
                me.unmount();
                Ok(0)
            }
            _ => Err(ENOTTY),
        }
    }
}

#[pin_data]
struct RsoFuse {
    #[pin]
    _client: MiscDeviceRegistration<ClientDev>,
    #[pin]
    _daemon: MiscDeviceRegistration<DaemonDev>,
}

impl kernel::InPlaceModule for RsoFuse {
    fn init(module: &'static ThisModule) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            _client <- {
                // SAFETY: Called once, in the module's init, before anything uses the locks.
                unsafe {
                    BINDINGS.init();
                    CONNS.init();
                    BACKING.init();
                }
                FUSE.register(&ModuleInit::new(module)?)?;
                register_kfuncs()?;
                pr_info!("registered struct_ops type fuse_ops\n");
                MiscDeviceRegistration::register(MiscDeviceOptions { name: c"rso_fuse" })
            },
            _daemon <- MiscDeviceRegistration::register(MiscDeviceOptions {
                name: c"rso_fuse_daemon",
            }),
        })
    }
}
