// SPDX-License-Identifier: GPL-2.0

//! Userspace side of `rso_fuse` (see `samples/fuse/fuse_ops.h`): a client of `/dev/rso_fuse`
//! and a daemon on `/dev/rso_fuse_daemon`, which serves a small file system of its own.

crate::dev::uapi!("fuse_ops_uapi.rs");

use crate::dev::ioc;
use std::{
    fs::{
        File,
        OpenOptions, //
    },
    os::fd::AsRawFd,
    sync::{
        atomic::{
            AtomicU64,
            Ordering::Relaxed, //
        },
        mpsc, Arc,
    },
    thread::JoinHandle,
};

pub const DEV: &str = "/dev/rso_fuse";
pub const DAEMON_DEV: &str = "/dev/rso_fuse_daemon";
pub const C_DEV: &str = "/dev/rso_fuse_c";

/// The daemon's file: a node it knows, with its content.
pub const DAEMON_NODE: u64 = 100;
pub const DAEMON_DATA: &[u8] = b"from the daemon\n";
pub const DAEMON_MODE: u32 = 0o100664;

const IOC_W: u64 = 1;
const IOC_R: u64 = 2;
const IOC_RW: u64 = 3;

fn ioctl<T>(f: &File, dir: u64, nr: u8, v: &mut T) -> Result<(), i32> {
    let cmd = ioc(dir, RSO_FUSE_IOC_MAGIC, nr, std::mem::size_of::<T>());
    // SAFETY: `v` is a struct of the size the ioctl number encodes, valid for reads and writes.
    result(unsafe { libc::ioctl(f.as_raw_fd(), cmd as _, v as *mut T) })
}

/// `Ok` or the errno of an ioctl's return value `r`.
fn result(r: i32) -> Result<(), i32> {
    if r < 0 {
        Err(std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO))
    } else {
        Ok(())
    }
}

fn open(dev: &str) -> Result<File, i32> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(dev)
        .map_err(|e| e.raw_os_error().unwrap_or(libc::EIO))
}

fn fill<const N: usize, T: Copy + Default>(dst: &mut [T; N], src: &[u8], conv: fn(u8) -> T) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = conv(*s);
    }
}

/// A client of `/dev/rso_fuse`.
pub struct Client(File);

/// What a request got back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub nodeid: u64,
    pub size: u64,
    pub mode: u32,
    pub count: u32,
    pub data: Vec<u8>,
}

impl Client {
    pub fn open() -> Result<Self, i32> {
        open(DEV).map(Self)
    }

    /// One request to connection `conn`; `Err(errno)` when it fails.
    pub fn request(
        &self,
        conn: &str,
        opcode: u32,
        nodeid: u64,
        name: &str,
        offset: u64,
        data_or_size: Result<&[u8], u32>,
    ) -> Result<Answer, i32> {
        let mut r = rso_fuse_request {
            opcode,
            nodeid,
            offset,
            namelen: name.len() as u32,
            ..Default::default()
        };
        fill(&mut r.conn, conn.as_bytes(), |b| b as _);
        fill(&mut r.name, name.as_bytes(), |b| b as _);
        match data_or_size {
            Ok(d) => {
                fill(&mut r.data, d, |b| b);
                r.size = d.len() as u32;
            }
            Err(size) => r.size = size,
        }
        ioctl(&self.0, IOC_RW, 1, &mut r)?;
        let n = (r.out.count as usize).min(r.data.len());
        Ok(Answer {
            nodeid: r.out.nodeid,
            size: r.out.size,
            mode: r.out.mode,
            count: r.out.count,
            data: if opcode == RSO_FUSE_READ {
                r.data[..n].to_vec()
            } else {
                Vec::new()
            },
        })
    }

    pub fn lookup(&self, conn: &str, name: &str) -> Result<u64, i32> {
        self.request(conn, RSO_FUSE_LOOKUP, 1, name, 0, Err(0))
            .map(|a| a.nodeid)
    }

    pub fn getattr(&self, conn: &str, nodeid: u64) -> Result<(u64, u32), i32> {
        self.request(conn, RSO_FUSE_GETATTR, nodeid, "", 0, Err(0))
            .map(|a| (a.size, a.mode))
    }

    pub fn read(&self, conn: &str, nodeid: u64, offset: u64, size: u32) -> Result<Vec<u8>, i32> {
        self.request(conn, RSO_FUSE_READ, nodeid, "", offset, Err(size))
            .map(|a| a.data)
    }

    pub fn write(&self, conn: &str, nodeid: u64, offset: u64, data: &[u8]) -> Result<u32, i32> {
        self.request(conn, RSO_FUSE_WRITE, nodeid, "", offset, Ok(data))
            .map(|a| a.count)
    }
}

/// An in-kernel loop of `kind` on the device `dev` (`/dev/rso_fuse` or its C twin's): `(ns,
/// sum)`.
pub fn bench(dev: &str, conn: &str, kind: u32, loops: u32) -> Result<(u64, i64), i32> {
    BenchDev::open(dev)?.run(conn, kind, loops)
}

/// A device open for in-kernel loops: counted loops run on one open file, so that their fixed
/// cost does not include an open and a close.
pub struct BenchDev(File);

impl BenchDev {
    pub fn open(dev: &str) -> Result<Self, i32> {
        open(dev).map(Self)
    }

    /// An in-kernel loop of `kind`: `(ns, sum)`.
    pub fn run(&self, conn: &str, kind: u32, loops: u32) -> Result<(u64, i64), i32> {
        let mut b = rso_fuse_bench {
            kind,
            loops,
            ..Default::default()
        };
        fill(&mut b.conn, conn.as_bytes(), |b| b as _);
        ioctl(&self.0, IOC_RW, 2, &mut b)?;
        Ok((b.ns, b.sum))
    }
}

/// A daemon's file on `/dev/rso_fuse_daemon`, mounted on a connection.
pub struct DaemonFile(File);

impl DaemonFile {
    pub fn mount(conn: &str) -> Result<Self, i32> {
        let f = open(DAEMON_DEV)?;
        let mut m = rso_fuse_mount::default();
        fill(&mut m.conn, conn.as_bytes(), |b| b as _);
        ioctl(&f, IOC_W, 3, &mut m)?;
        Ok(Self(f))
    }

    /// The next request; waits for one.
    pub fn read_req(&self) -> Result<rso_fuse_dreq, i32> {
        let mut q = rso_fuse_dreq::default();
        ioctl(&self.0, IOC_R, 4, &mut q)?;
        Ok(q)
    }

    /// `RSO_FUSE_IOC_READ_REQ` into a bad buffer (address 1, in the first page, which is never
    /// mapped: `vm.mmap_min_addr`): the ioctl fails with `EFAULT`, and the request the daemon
    /// could not take fails with `EIO` for its caller.
    pub fn read_req_bad_buffer(&self) -> Result<(), i32> {
        let size = std::mem::size_of::<rso_fuse_dreq>();
        let cmd = ioc(IOC_R, RSO_FUSE_IOC_MAGIC, 4, size);
        // SAFETY: Nothing is mapped at address 1: the kernel cannot write there, and this
        // process's memory is not touched.
        result(unsafe { libc::ioctl(self.0.as_raw_fd(), cmd as _, 1usize) })
    }

    pub fn reply(&self, r: &mut rso_fuse_dreply) -> Result<(), i32> {
        ioctl(&self.0, IOC_W, 5, r)
    }

    /// `RSO_FUSE_IOC_ABORT`: unmounts, as if the daemon had died.
    pub fn abort(&self) -> Result<(), i32> {
        let cmd = ioc(0, RSO_FUSE_IOC_MAGIC, 6, 0);
        // SAFETY: An ioctl without an argument.
        result(unsafe { libc::ioctl(self.0.as_raw_fd(), cmd as _, 0) })
    }
}

/// The daemon's answer to `q`: its own small file system.
pub fn serve(q: &rso_fuse_dreq) -> rso_fuse_dreply {
    let mut r = rso_fuse_dreply {
        unique: q.unique,
        ..Default::default()
    };
    let name: Vec<u8> = q.name[..q.namelen as usize]
        .iter()
        .map(|&c| c as u8)
        .collect();
    match q.opcode {
        RSO_FUSE_LOOKUP if name == b"daemon" => r.out.nodeid = DAEMON_NODE,
        RSO_FUSE_LOOKUP => r.error = -libc::ENOENT,
        _ if q.nodeid < DAEMON_NODE => r.error = -libc::ENOENT,
        RSO_FUSE_GETATTR => {
            r.out.size = DAEMON_DATA.len() as u64;
            r.out.mode = DAEMON_MODE;
        }
        RSO_FUSE_READ => {
            let off = (q.offset as usize).min(DAEMON_DATA.len());
            let end = (off + q.size as usize).min(DAEMON_DATA.len());
            r.data[..end - off].copy_from_slice(&DAEMON_DATA[off..end]);
            r.out.count = (end - off) as u32;
        }
        _ => r.out.count = q.size,
    }
    r
}

/// What a daemon thread does with each request.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Serves it.
    Serve,
    /// Waits for a go on the gate channel, then serves it.
    Gated,
    /// Replies with a count larger than the request's data.
    Malformed,
}

/// A daemon on its own thread. Dropping it closes its file (the daemon is gone).
pub struct Daemon {
    /// Requests it read.
    pub seen: Arc<AtomicU64>,
    gate: Option<mpsc::Sender<()>>,
    /// Tells the test each request it read, in Gated mode.
    pub read: Option<mpsc::Receiver<u64>>,
    thread: Option<JoinHandle<Result<(), String>>>,
    file: Arc<DaemonFile>,
}

impl Daemon {
    pub fn start(conn: &str, mode: Mode) -> Result<Self, String> {
        let file =
            Arc::new(DaemonFile::mount(conn).map_err(|e| format!("mount {conn}: errno {e}"))?);
        let seen = Arc::new(AtomicU64::new(0));
        let (gate_tx, gate_rx) = mpsc::channel::<()>();
        let (read_tx, read_rx) = mpsc::channel::<u64>();
        let (f, s) = (file.clone(), seen.clone());
        let thread = std::thread::spawn(move || -> Result<(), String> {
            loop {
                let q = match f.read_req() {
                    Ok(q) => q,
                    // The daemon's file is being shut down by the test.
                    Err(libc::ENOTCONN | libc::EINTR) => return Ok(()),
                    Err(e) => return Err(format!("read_req: errno {e}")),
                };
                s.fetch_add(1, Relaxed);
                let mut r = serve(&q);
                match mode {
                    Mode::Serve => {}
                    Mode::Gated => {
                        let _ = read_tx.send(q.unique);
                        if gate_rx.recv().is_err() {
                            return Ok(());
                        }
                    }
                    Mode::Malformed => r.out.count = RSO_FUSE_DATA_MAX + 1,
                }
                match f.reply(&mut r) {
                    Ok(()) => {}
                    Err(libc::EINVAL) if mode == Mode::Malformed => {}
                    Err(e) => return Err(format!("reply {}: errno {e}", q.unique)),
                }
            }
        });
        Ok(Self {
            seen,
            gate: Some(gate_tx),
            read: Some(read_rx),
            thread: Some(thread),
            file,
        })
    }

    /// Lets a Gated daemon answer one request.
    pub fn open_gate(&self) {
        if let Some(g) = &self.gate {
            let _ = g.send(());
        }
    }

    /// The requests it read.
    pub fn seen(&self) -> u64 {
        self.seen.load(Relaxed)
    }
}

impl Drop for Daemon {
    /// Unmounts (waking the thread from `read_req` with `ENOTCONN`) and joins the thread.
    fn drop(&mut self) {
        self.gate.take();
        let _ = self.file.abort();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Daemon {
    /// Stops the daemon and returns what its thread reported.
    pub fn stop(mut self) -> Result<(), String> {
        self.gate.take();
        let _ = self.file.abort();
        self.thread.take().map_or(Ok(()), |t| {
            t.join().map_err(|_| "the daemon panicked".to_string())?
        })
    }
}
