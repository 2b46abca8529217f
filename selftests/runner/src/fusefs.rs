// SPDX-License-Identifier: GPL-2.0

//! A real FUSE daemon, in this process: it serves a snapshot of a directory through `/dev/fuse`
//! (read-only), counting the requests it answers; the data through itself, or through the kernel's
//! FUSE passthrough.
//!
//! It uses the `fuser` crate, without libfuse: `fuser` speaks the FUSE protocol in Rust and, as
//! root, mounts with mount(2), so the VM needs neither libfuse nor fusermount, and the daemon runs
//! on a thread of the runner, where a test can read its counts, kill it or unmount it. Replies
//! carry no cache lifetime (attribute and entry timeouts of 0) and files are opened for direct I/O,
//! so that every `stat` and `read` reaches the FUSE request path (and the filter) instead of the
//! kernel's caches.

use fuser::{
    BackgroundSession,
    BackingId,
    Config,
    Errno,
    FileAttr,
    FileHandle,
    FileType,
    Filesystem,
    FopenFlags,
    Generation,
    INodeNo,
    InitFlags,
    KernelConfig,
    LockOwner,
    MountOption,
    OpenFlags,
    ReplyAttr,
    ReplyData,
    ReplyDirectory,
    ReplyEmpty,
    ReplyEntry,
    ReplyOpen,
    Request, //
    Session,
};
use std::{
    collections::HashMap,
    ffi::{
        OsStr,
        OsString, //
    },
    fs::File,
    os::{
        fd::{
            AsFd,
            AsRawFd,
            OwnedFd, //
        },
        unix::fs::{
            FileExt,
            MetadataExt,
            PermissionsExt, //
        },
    },
    path::{
        Path,
        PathBuf, //
    },
    sync::{
        atomic::{
            AtomicU64,
            Ordering::SeqCst, //
        },
        Arc, Mutex,
    },
    time::{
        Duration,
        UNIX_EPOCH, //
    },
};

/// The files of the tests' tree, in its root: name, inode (they are numbered in name order from
/// 2), data.
pub(crate) const FILES: &[(&str, u64, &[u8])] = &[
    ("hello", 2, b"hello from a real FUSE daemon\n"),
    ("secret", 3, b"a secret the policy keeps\n"),
    (
        "vault",
        4,
        b"the policy lets you see the vault, not open it\n",
    ),
];

/// The mode the daemon gives its files.
pub(crate) const FILE_MODE: u32 = 0o100644;

/// What the daemon answered, by kind of request.
#[derive(Default)]
pub(crate) struct Counts {
    pub(crate) lookup: AtomicU64,
    pub(crate) getattr: AtomicU64,
    pub(crate) open: AtomicU64,
    pub(crate) read: AtomicU64,
    pub(crate) readdir: AtomicU64,
    /// RELEASEs (not in [`Counts::total`]).
    pub(crate) release: AtomicU64,
    /// The largest size a READ asked for.
    pub(crate) read_max: AtomicU64,
    /// Per node: the LOOKUPs the daemon answered with it, and the lookups FORGETs dropped (not in
    /// [`Counts::total`]).
    pub(crate) by_node: Mutex<HashMap<u64, (u64, u64)>>,
    /// How long the daemon takes to answer a GETATTR or READ, in milliseconds: a test's requests
    /// are then in flight in the daemon.
    pub(crate) delay_ms: AtomicU64,
}

impl Counts {
    /// Every request counted.
    pub(crate) fn total(&self) -> u64 {
        // (delay_ms is not a count.)
        [
            &self.lookup,
            &self.getattr,
            &self.open,
            &self.read,
            &self.readdir,
        ]
        .iter()
        .map(|c| c.load(SeqCst))
        .sum()
    }
}

/// One node of the tree: a file or directory of the backing directory.
struct Node {
    path: PathBuf,
    attr: FileAttr,
}

/// The tree a daemon serves: a snapshot of a backing directory, taken at mount (the mount is
/// read-only). Inode 1 is the directory itself.
struct Tree {
    counts: Arc<Counts>,
    nodes: HashMap<u64, Node>,
    /// `(parent, name)` to inode.
    names: HashMap<(u64, OsString), u64>,
    /// Children of each directory, in order.
    children: HashMap<u64, Vec<(u64, OsString)>>,
    /// Open files, by file handle: the backing file, and its passthrough id.
    open: Mutex<HashMap<u64, (File, Option<BackingId>)>>,
    next_fh: AtomicU64,
    passthrough: bool,
}

/// The attributes of the backing file `md`, as inode `ino`: its times to the nanosecond, and a
/// device's number.
fn attr_of(ino: u64, md: &std::fs::Metadata) -> FileAttr {
    use std::os::unix::fs::FileTypeExt;
    let ft = md.file_type();
    let kind = if ft.is_dir() {
        FileType::Directory
    } else if ft.is_char_device() {
        FileType::CharDevice
    } else {
        FileType::RegularFile
    };
    let at = |s: i64, ns: i64| {
        UNIX_EPOCH + Duration::from_secs(s.max(0) as u64) + Duration::from_nanos(ns.max(0) as u64)
    };
    FileAttr {
        ino: INodeNo(ino),
        size: md.len(),
        blocks: md.len().div_ceil(512),
        atime: at(md.atime(), md.atime_nsec()),
        mtime: at(md.mtime(), md.mtime_nsec()),
        ctime: at(md.ctime(), md.ctime_nsec()),
        crtime: UNIX_EPOCH,
        kind,
        perm: (md.mode() & 0o7777) as u16,
        nlink: if md.is_dir() { 2 } else { 1 },
        uid: 0,
        gid: 0,
        rdev: md.rdev() as u32,
        blksize: 4096,
        flags: 0,
    }
}

impl Tree {
    /// A snapshot of `dir`: its files, and those of its subdirectories, sorted by name.
    fn scan(dir: &Path, counts: Arc<Counts>, passthrough: bool) -> Result<Tree, String> {
        let mut t = Tree {
            counts,
            nodes: HashMap::new(),
            names: HashMap::new(),
            children: HashMap::new(),
            open: Mutex::new(HashMap::new()),
            next_fh: AtomicU64::new(1),
            passthrough,
        };
        let md = std::fs::metadata(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        t.nodes.insert(
            1,
            Node {
                path: dir.to_path_buf(),
                attr: attr_of(1, &md),
            },
        );
        let mut todo = vec![(1u64, dir.to_path_buf())];
        let mut next = 2u64;
        while let Some((parent, path)) = todo.pop() {
            let mut entries: Vec<_> = std::fs::read_dir(&path)
                .map_err(|e| format!("{}: {e}", path.display()))?
                .filter_map(|e| e.ok())
                .collect();
            entries.sort_by_key(|e| e.file_name());
            let mut kids = Vec::new();
            for e in entries {
                let md = e
                    .metadata()
                    .map_err(|err| format!("{}: {err}", e.path().display()))?;
                let ino = next;
                next += 1;
                if md.is_dir() {
                    todo.push((ino, e.path()));
                }
                t.names.insert((parent, e.file_name()), ino);
                kids.push((ino, e.file_name()));
                t.nodes.insert(
                    ino,
                    Node {
                        path: e.path(),
                        attr: attr_of(ino, &md),
                    },
                );
            }
            t.children.insert(parent, kids);
        }
        Ok(t)
    }

    fn delay(&self) {
        let ms = self.counts.delay_ms.load(SeqCst);
        if ms > 0 {
            std::thread::sleep(Duration::from_millis(ms));
        }
    }
}

impl Filesystem for Tree {
    fn init(&mut self, _req: &Request, config: &mut KernelConfig) -> std::io::Result<()> {
        if self.passthrough {
            config
                .add_capabilities(InitFlags::FUSE_PASSTHROUGH)
                .map_err(|_| std::io::Error::other("the kernel offers no FUSE passthrough"))?;
            config
                .set_max_stack_depth(1)
                .map_err(|_| std::io::Error::other("max_stack_depth"))?;
        }
        Ok(())
    }

    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        self.counts.lookup.fetch_add(1, SeqCst);
        let node = self
            .names
            .get(&(u64::from(parent), name.to_os_string()))
            .and_then(|ino| self.nodes.get(ino));
        match node {
            Some(n) => {
                if let Ok(mut m) = self.counts.by_node.lock() {
                    m.entry(n.attr.ino.0).or_default().0 += 1;
                }
                reply.entry(&Duration::ZERO, &n.attr, Generation(0))
            }
            None => reply.error(Errno::ENOENT),
        }
    }

    fn forget(&self, _req: &Request, ino: INodeNo, nlookup: u64) {
        if let Ok(mut m) = self.counts.by_node.lock() {
            m.entry(u64::from(ino)).or_default().1 += nlookup;
        }
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        self.counts.getattr.fetch_add(1, SeqCst);
        self.delay();
        match self.nodes.get(&u64::from(ino)) {
            Some(n) => reply.attr(&Duration::ZERO, &n.attr),
            None => reply.error(Errno::ENOENT),
        }
    }

    fn open(&self, _req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        self.counts.open.fetch_add(1, SeqCst);
        let Some(n) = self.nodes.get(&u64::from(ino)) else {
            return reply.error(Errno::ENOENT);
        };
        let file = match File::open(&n.path) {
            Ok(f) => f,
            Err(_) => return reply.error(Errno::EIO),
        };
        let fh = self.next_fh.fetch_add(1, SeqCst);
        let Ok(mut open) = self.open.lock() else {
            return reply.error(Errno::EIO);
        };
        if self.passthrough {
            let id = match reply.open_backing(&file) {
                Ok(id) => id,
                Err(_) => return reply.error(Errno::EIO),
            };
            reply.opened_passthrough(FileHandle(fh), FopenFlags::empty(), &id);
            open.insert(fh, (file, Some(id)));
        } else {
            // Direct I/O: every read is a READ request, not a page cache hit.
            open.insert(fh, (file, None));
            reply.opened(FileHandle(fh), FopenFlags::FOPEN_DIRECT_IO);
        }
    }

    fn read(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        self.counts.read.fetch_add(1, SeqCst);
        self.counts.read_max.fetch_max(u64::from(size), SeqCst);
        self.delay();
        let mut buf = vec![0u8; size as usize];
        let n = match self.open.lock() {
            Ok(open) => match open.get(&u64::from(fh)) {
                Some((f, _)) => f.read_at(&mut buf, offset),
                None => return reply.error(Errno::EBADF),
            },
            Err(_) => return reply.error(Errno::EIO),
        };
        match n {
            Ok(n) => reply.data(buf.get(..n).unwrap_or(&[])),
            Err(_) => reply.error(Errno::EIO),
        }
    }

    fn release(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        self.counts.release.fetch_add(1, SeqCst);
        if let Ok(mut open) = self.open.lock() {
            open.remove(&u64::from(fh));
        }
        reply.ok();
    }

    fn readdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        self.counts.readdir.fetch_add(1, SeqCst);
        let Some(kids) = self.children.get(&u64::from(ino)) else {
            return reply.error(Errno::ENOTDIR);
        };
        let dot = [
            (u64::from(ino), FileType::Directory, OsStr::new(".")),
            (1, FileType::Directory, OsStr::new("..")),
        ];
        let entries = dot.into_iter().chain(kids.iter().map(|(k, name)| {
            let kind = self
                .nodes
                .get(k)
                .map_or(FileType::RegularFile, |n| n.attr.kind);
            (*k, kind, name.as_os_str())
        }));
        for (i, (ino, kind, name)) in entries.enumerate().skip(offset as usize) {
            if reply.add(INodeNo(ino), (i + 1) as u64, kind, name) {
                break;
            }
        }
        reply.ok();
    }
}

/// A mounted tree, served by threads of this process until it is dropped (which unmounts it).
pub(crate) struct Mount {
    session: Option<BackgroundSession>,
    /// The daemon's `/dev/fuse` file (a duplicate of its descriptor): the server's, which names
    /// the connection to the FUSE request filter.
    pub(crate) dev: Option<OwnedFd>,
    /// Where it is mounted.
    pub(crate) dir: PathBuf,
    /// The backing directory the mount made (and removes).
    made: Option<PathBuf>,
    /// What its daemon answered.
    pub(crate) counts: Arc<Counts>,
    /// The connection's number: its directory in `/sys/fs/fuse/connections/`.
    pub(crate) conn: u32,
}

/// Mounts FUSE's control file system on `/sys/fs/fuse/connections` (the VM does not), where each
/// connection has a directory named by its number.
fn ensure_fusectl() -> Result<(), String> {
    const DIR: &std::ffi::CStr = c"/sys/fs/fuse/connections";
    let mounts = std::fs::read_to_string("/proc/mounts").map_err(|e| format!("mounts: {e}"))?;
    if mounts
        .lines()
        .any(|l| l.split(' ').nth(2) == Some("fusectl"))
    {
        return Ok(());
    }
    // SAFETY: Valid NUL-terminated strings; no data argument.
    let rc = unsafe {
        libc::mount(
            c"fusectl".as_ptr(),
            DIR.as_ptr(),
            c"fusectl".as_ptr(),
            0,
            std::ptr::null(),
        )
    };
    if rc != 0 {
        return Err(format!(
            "mount fusectl: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

/// A new directory under the temporary directory.
fn new_dir(what: &str) -> Result<PathBuf, String> {
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "rso-fuse-{}-{}-{what}",
        std::process::id(),
        N.fetch_add(1, SeqCst)
    ));
    std::fs::create_dir_all(&dir).map_err(|e| format!("mkdir {}: {e}", dir.display()))?;
    Ok(dir)
}

impl Mount {
    /// Mounts the tests' tree ([`FILES`]), served by one thread.
    pub(crate) fn new() -> Result<Self, String> {
        Self::with_threads(1)
    }

    /// Mounts the tests' tree ([`FILES`]), served by `threads` threads.
    pub(crate) fn with_threads(threads: usize) -> Result<Self, String> {
        let back = new_dir("back")?;
        for (name, _, data) in FILES {
            let p = back.join(name);
            std::fs::write(&p, data).map_err(|e| format!("{}: {e}", p.display()))?;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(FILE_MODE & 0o7777))
                .map_err(|e| format!("{}: {e}", p.display()))?;
        }
        let mut m = Self::serve(&back, threads, false);
        if let Ok(m) = &mut m {
            m.made = Some(back);
        } else {
            let _ = std::fs::remove_dir_all(&back);
        }
        m
    }

    /// Mounts `back`, a directory, served by `threads` threads: its files' data through the
    /// daemon (direct I/O), or through the kernel's FUSE passthrough with `passthrough`.
    pub(crate) fn serve(back: &Path, threads: usize, passthrough: bool) -> Result<Self, String> {
        let dir = new_dir("mnt")?;
        let counts = Arc::new(Counts::default());
        let tree = Tree::scan(back, counts.clone(), passthrough)?;
        let mut cfg = Config::default();
        cfg.mount_options = vec![MountOption::FSName("rsofs".into()), MountOption::RO];
        // Other users may use the mount too (allow_other; root mounts it, with no fuse.conf).
        cfg.acl = fuser::SessionACL::All;
        cfg.n_threads = Some(threads);
        let session = Session::new(tree, &dir, &cfg)
            .map_err(|e| format!("mount a FUSE tree on {}: {e}", dir.display()))?;
        let dev_fuse = session
            .as_fd()
            .try_clone_to_owned()
            .map_err(|e| format!("dup /dev/fuse: {e}"))?;
        let session = session
            .spawn()
            .map_err(|e| format!("serve {}: {e}", dir.display()))?;
        // The connection's number is the superblock's device number, in the kernel's encoding.
        let dev = std::fs::metadata(&dir)
            .map_err(|e| format!("stat {}: {e}", dir.display()))?
            .dev();
        let conn = (libc::major(dev) << 20) | libc::minor(dev);
        let m = Mount {
            session: Some(session),
            dev: Some(dev_fuse),
            dir,
            made: None,
            counts,
            conn,
        };
        ensure_fusectl()?;
        let sys = format!("/sys/fs/fuse/connections/{conn}");
        if !Path::new(&sys).exists() {
            return Err(format!("the FUSE mount's connection {sys} does not exist"));
        }
        Ok(m)
    }

    /// The path of a file of the tree.
    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Every request the daemon answered.
    pub(crate) fn seen(&self) -> u64 {
        self.counts.total()
    }

    /// A file of the mount (its root directory), which names the connection, for root, to the
    /// FUSE request filter.
    pub(crate) fn root(&self) -> Result<File, String> {
        File::open(&self.dir).map_err(|e| format!("open {}: {e}", self.dir.display()))
    }

    /// The raw descriptor of the daemon's `/dev/fuse` file.
    pub(crate) fn dev_fd(&self) -> Result<i32, String> {
        Ok(self.dev.as_ref().ok_or("no /dev/fuse file")?.as_raw_fd())
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        if let Some(s) = self.session.take() {
            let _ = s.umount_and_join();
        }
        self.dev = None;
        let _ = std::fs::remove_dir(&self.dir);
        if let Some(back) = &self.made {
            let _ = std::fs::remove_dir_all(back);
        }
    }
}

/// Whether the running kernel has the FUSE request filter of `kernel/patches/fuse`.
pub(crate) fn has_filter() -> Result<bool, String> {
    let syms = std::fs::read_to_string("/proc/kallsyms").map_err(|e| format!("kallsyms: {e}"))?;
    Ok(syms.lines().any(|l| l.ends_with(" fuse_filter_attach")))
}

/// The bytes of a `fuse_ops` map value from `conn` on: `conn` `"fuse"`, and `fuse_fd` `fd`.
fn real_conn(fd: i32) -> Vec<u8> {
    let mut bytes = vec![0u8; 16];
    if let Some(b) = bytes.get_mut(..4) {
        b.copy_from_slice(b"fuse");
    }
    bytes.extend_from_slice(&fd.to_ne_bytes());
    bytes
}

/// The offset of `conn` in `fuse_ops`, which `fuse_fd` follows.
fn conn_off() -> usize {
    const _: () = assert!(
        std::mem::offset_of!(crate::fuse::fuse_ops, fuse_fd)
            == std::mem::offset_of!(crate::fuse::fuse_ops, conn) + 16
    );
    std::mem::offset_of!(crate::fuse::fuse_ops, conn)
}

/// Loads the object at `path` with its `fuse_ops` map `map` bound to the FUSE connection that
/// file descriptor `fd` names (a file of the mount, or its `/dev/fuse` file), and attaches it.
pub(crate) fn attach_fd(
    path: &std::path::Path,
    map: &str,
    fd: i32,
) -> Result<Result<(libbpf_rs::Object, libbpf_rs::Link), String>, String> {
    crate::bpf::log::take();
    Ok(
        crate::bpf::attach_with_bytes(path, map, conn_off(), &real_conn(fd))?
            .map(|(o, l, _)| (o, l))
            .map_err(|e| format!("{e}\n{}", crate::bpf::log::take())),
    )
}

/// Loads the object at `path` with its `fuse_ops` map `map` bound to the FUSE connection that
/// `fd` will name when the map is attached (`reg` reads it then, in the attaching process).
pub(crate) fn load_fd(
    path: &std::path::Path,
    map: &str,
    fd: i32,
) -> Result<Result<libbpf_rs::Object, String>, String> {
    crate::bpf::load_with_bytes(path, map, conn_off(), &real_conn(fd))
}

/// Loads the object at `path` with its `fuse_ops` map `map` bound to the connection of the FUSE
/// mount at `dir` (named by a file of the mount: root's way), and attaches it.
pub(crate) fn attach_bound(
    path: &std::path::Path,
    map: &str,
    dir: &Path,
) -> Result<Result<(libbpf_rs::Object, libbpf_rs::Link), String>, String> {
    let root = File::open(dir).map_err(|e| format!("open {}: {e}", dir.display()))?;
    attach_fd(path, map, root.as_raw_fd())
}
