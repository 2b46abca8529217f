// SPDX-License-Identifier: GPL-2.0

//! The FUSE request filter is a connection's: who may attach one, that detaching never waits for
//! the server, that a new mount never meets an old mount's filter, that the connection's own rules
//! (abort, lookup counts, errnos, owed FORGETs and RELEASEs) hold through it, and that it sees who
//! asks. On a kernel without the filter the tests skip, naming it.

use super::fuse_real::{
    data,
    need_filter, //
};
use crate::{
    bpf::{
        attach,
        load, //
    },
    ctx::{
        Ctx,
        KillOnDrop,
        FUSE,
        HELLO,
        TESTMOD, //
    },
    fusefs::{
        self,
        Mount,
        FILES, //
    },
    harness::{
        ensure,
        ensure_eq,
        skip,
        TestResult, //
    },
    test, //
    testmod,
};
use std::{
    fs::File,
    io::{
        BufRead,
        BufReader, //
    },
    os::unix::{
        fs::{FileExt, MetadataExt},
        io::AsRawFd,
        process::CommandExt, //
    },
    path::{
        Path,
        PathBuf, //
    },
    process::{
        Command,
        Stdio, //
    },
    sync::{
        atomic::Ordering::SeqCst,
        mpsc, //
    },
    time::{
        Duration,
        Instant, //
    },
};

/// The errno of `r`.
fn errno<T>(r: std::io::Result<T>) -> Result<T, Option<i32>> {
    r.map_err(|e| e.raw_os_error())
}

/// A FUSE daemon in a child process (`fusefs`), which a test can stop: its mount and connection.
struct ChildDaemon {
    child: KillOnDrop,
    dir: PathBuf,
    conn: u32,
}

impl ChildDaemon {
    fn spawn(ctx: &Ctx) -> Result<Self, String> {
        let mut child = KillOnDrop(
            ctx.child("fusefs")?
                .stdout(Stdio::piped())
                .spawn()
                .map_err(|e| format!("spawn: {e}"))?,
        );
        let mut out = BufReader::new(child.0.stdout.take().ok_or("no stdout")?);
        let mut line = String::new();
        out.read_line(&mut line).map_err(|e| e.to_string())?;
        let mut words = line.split_whitespace();
        let (Some("ready"), Some(dir), Some(conn)) = (words.next(), words.next(), words.next())
        else {
            return Err(format!("the daemon said {line:?}"));
        };
        let conn = conn
            .parse()
            .map_err(|e| format!("the daemon's connection {conn}: {e}"))?;
        Ok(Self {
            child,
            dir: PathBuf::from(dir),
            conn,
        })
    }

    fn signal(&self, sig: i32) -> TestResult {
        // SAFETY: A plain kill(2) of our own child.
        if unsafe { libc::kill(self.child.0.id() as i32, sig) } != 0 {
            return Err(format!("kill: {}", std::io::Error::last_os_error()));
        }
        Ok(())
    }

    /// The requests waiting on the connection (`/sys/fs/fuse/connections/<n>/waiting`).
    fn waiting(&self) -> Result<u64, String> {
        let p = format!("/sys/fs/fuse/connections/{}/waiting", self.conn);
        let s = std::fs::read_to_string(&p).map_err(|e| format!("{p}: {e}"))?;
        s.trim().parse().map_err(|e| format!("{p}: {s:?}: {e}"))
    }
}

impl Drop for ChildDaemon {
    fn drop(&mut self) {
        let _ = self.signal(libc::SIGCONT);
        let _ = self.child.0.kill();
        let _ = self.child.0.wait();
        let c = std::ffi::CString::new(self.dir.as_os_str().as_encoded_bytes());
        if let Ok(c) = c {
            // SAFETY: A valid NUL-terminated path.
            unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
        }
        let _ = std::fs::remove_dir(&self.dir);
    }
}

test!(fuse_detach_with_stopped_server, needs: [FUSE, HELLO]);
fn fuse_detach_with_stopped_server(ctx: &mut Ctx) -> TestResult {
    need_filter()?;
    let d = ChildDaemon::spawn(ctx)?;
    let (obj, link) = fusefs::attach_bound(&ctx.obj("fuse_real_policy"), "real_policy", &d.dir)??;
    // A GETATTR whose reply the policy's postfilter waits for, to a stopped server.
    d.signal(libc::SIGSTOP)?;
    let hello = d.dir.join("hello");
    let (stat_tx, stat_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = stat_tx.send(std::fs::metadata(&hello).map(|m| m.mode()));
    });
    let start = Instant::now();
    while d.waiting()? == 0 {
        if start.elapsed() > Duration::from_secs(5) {
            return Err("no request waited on the stopped server".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // Detaching returns at once, and so does attaching an unrelated type meanwhile. (Should
    // either hang, a watchdog lets the server go on after 10 s, and the test fails.)
    let pid = d.child.0.id() as i32;
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if stop_rx.recv_timeout(Duration::from_secs(10)).is_err() {
            // SAFETY: A plain kill(2) of the test's child.
            unsafe { libc::kill(pid, libc::SIGCONT) };
        }
    });
    let start = Instant::now();
    drop((link, obj));
    let detach_took = start.elapsed();
    let start = Instant::now();
    let attached =
        load(&ctx.obj("hello")).and_then(|mut o| attach(&mut o, "hello_link").map(|_| ()));
    let attach_took = start.elapsed();
    let waiting = d.waiting()?;
    let _ = stop_tx.send(());
    let _ = watchdog.join();
    d.signal(libc::SIGCONT)?;
    println!(
        "# detach took {} ms, attaching hello_ops {} ms, {waiting} request(s) waiting",
        detach_took.as_millis(),
        attach_took.as_millis()
    );
    ensure(detach_took < Duration::from_secs(2), || {
        format!("the detach took {} ms", detach_took.as_millis())
    })?;
    attached?;
    ensure(attach_took < Duration::from_secs(2), || {
        format!("attaching hello_ops took {} ms", attach_took.as_millis())
    })?;
    ensure(waiting > 0, || {
        "the request no longer waited when the detach returned".into()
    })?;
    // The request completes once the server goes on, without the detached filter's post().
    let got = stat_rx
        .recv_timeout(Duration::from_secs(10))
        .map_err(|_| "the stat did not return once the server went on".to_string())?;
    ensure_eq(
        "stat, answered after the detach",
        got.ok(),
        Some(fusefs::FILE_MODE),
    )
}

test!(fuse_new_mount_not_served_by_old, needs: [FUSE]);
fn fuse_new_mount_not_served_by_old(ctx: &mut Ctx) -> TestResult {
    need_filter()?;
    let old = Mount::new()?;
    let old_conn = old.conn;
    let (_obj, _link) = fusefs::attach_bound(&ctx.obj("fuse_real_cache"), "real_cache", &old.dir)??;
    for round in ["first", "cached"] {
        ensure_eq(
            &format!("cat hello, {round}"),
            std::fs::read(old.path("hello")).ok(),
            Some(data("hello")),
        )?;
    }
    drop(old);
    // Another tree, whose `hello` holds other data, mounted while the old instance is attached.
    let back = std::env::temp_dir().join(format!("rso-fuse-{}-other", std::process::id()));
    std::fs::create_dir_all(&back).map_err(|e| e.to_string())?;
    let other = b"another mount, another user\n";
    std::fs::write(back.join("hello"), other).map_err(|e| e.to_string())?;
    let m = Mount::serve(&back, 1, false);
    let r = (|| {
        let m = m?;
        println!(
            "# the old mount was connection {old_conn}, the new one is {}",
            m.conn
        );
        let reads = m.counts.read.load(SeqCst);
        let out = Command::new("cat")
            .arg(m.path("hello"))
            .uid(65534)
            .gid(65534)
            .output()
            .map_err(|e| format!("cat as nobody: {e}"))?;
        ensure_eq("cat hello as nobody", out.stdout, other.to_vec())?;
        ensure(m.counts.read.load(SeqCst) > reads, || {
            "the new mount's daemon saw no READ".into()
        })
    })();
    let _ = std::fs::remove_dir_all(&back);
    r
}

test!(fuse_two_connections_two_filters, needs: [FUSE]);
fn fuse_two_connections_two_filters(ctx: &mut Ctx) -> TestResult {
    need_filter()?;
    let a = Mount::new()?;
    let b = Mount::new()?;
    let (_pa, _la) = fusefs::attach_bound(&ctx.obj("fuse_real_policy"), "real_policy", &a.dir)??;
    let (_cb, _lb) = fusefs::attach_bound(&ctx.obj("fuse_real_cache"), "real_cache", &b.dir)??;
    // a: the policy's (no secret, no write bits); b: the cache's (the data, from the kernel).
    ensure_eq(
        "cat secret on a",
        errno(std::fs::read(a.path("secret"))),
        Err(Some(libc::EACCES)),
    )?;
    ensure_eq(
        "cat secret on b",
        errno(std::fs::read(b.path("secret"))),
        Ok(data("secret")),
    )?;
    let mode = |m: &Mount| std::fs::metadata(m.path("hello")).map(|md| md.mode() & 0o777);
    ensure_eq("mode of hello on a", errno(mode(&a)), Ok(0o444))?;
    ensure_eq("mode of hello on b", errno(mode(&b)), Ok(0o644))?;
    let cat = || {
        ensure_eq(
            "cat hello on b",
            std::fs::read(b.path("hello")).ok(),
            Some(data("hello")),
        )
    };
    cat()?;
    let reads = b.counts.read.load(SeqCst);
    cat()?;
    cat()?;
    ensure_eq(
        "READs b's daemon saw for two more cats",
        b.counts.read.load(SeqCst) - reads,
        0,
    )
}

/// Tries, in a child process without `CAP_SYS_ADMIN`, to attach `fuse_real_policy` to the
/// connection `fd` (0: a file of `dir`, which the child opens) names: the errno (0: attached).
fn attach_without_sys_admin(ctx: &Ctx, dir: &Path, fd: Option<i32>) -> Result<i32, String> {
    let mut cmd = ctx.child("fuse-attach")?;
    cmd.arg(ctx.obj("fuse_real_policy")).arg(dir);
    if let Some(fd) = fd {
        cmd.arg("100");
        // SAFETY: Only dup2(2), async-signal-safe, between fork and exec: the child's fd 100 is the
        // daemon's /dev/fuse file (dup2 clears close-on-exec).
        unsafe {
            cmd.pre_exec(move || {
                if libc::dup2(fd, 100) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let out = cmd.output().map_err(|e| format!("spawn: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("attach "))
        .and_then(|e| e.trim().parse().ok())
        .ok_or_else(|| {
            format!(
                "the child said {text:?} ({})",
                String::from_utf8_lossy(&out.stderr)
            )
        })
}

test!(fuse_attach_needs_the_connection, needs: [FUSE]);
fn fuse_attach_needs_the_connection(ctx: &mut Ctx) -> TestResult {
    need_filter()?;
    let m = Mount::new()?;
    // A process that may load and attach BPF (CAP_BPF, CAP_PERFMON) but is not root
    // (no CAP_SYS_ADMIN) cannot name another's connection by a file of its mount...
    ensure_eq(
        "attach through a file of the mount, without CAP_SYS_ADMIN",
        attach_without_sys_admin(ctx, &m.dir, None),
        Ok(libc::EPERM),
    )?;
    // ...but the server can, through its /dev/fuse file.
    ensure_eq(
        "attach through the server's /dev/fuse file, without CAP_SYS_ADMIN",
        attach_without_sys_admin(ctx, &m.dir, Some(m.dev_fd()?)),
        Ok(0),
    )?;
    // A file that is not of a FUSE connection names none.
    let tmp = File::open(std::env::temp_dir()).map_err(|e| e.to_string())?;
    let got = fusefs::attach_fd(&ctx.obj("fuse_real_policy"), "real_policy", tmp.as_raw_fd())?;
    ensure(
        got.as_ref()
            .err()
            .is_some_and(|e| e.contains("os error 22")),
        || {
            format!(
                "attach through a file of /tmp: want EINVAL, got {:?}",
                got.map(|_| ())
            )
        },
    )
}

test!(fuse_aborted_conn_enotconn, needs: [FUSE]);
fn fuse_aborted_conn_enotconn(ctx: &mut Ctx) -> TestResult {
    need_filter()?;
    let m = Mount::new()?;
    let (_obj, _link) = fusefs::attach_bound(&ctx.obj("fuse_real_cache"), "real_cache", &m.dir)??;
    let hello = m.path("hello");
    for _ in 0..2 {
        std::fs::metadata(&hello).map_err(|e| format!("stat: {e}"))?;
        std::fs::read(&hello).map_err(|e| format!("cat: {e}"))?;
    }
    let abort = format!("/sys/fs/fuse/connections/{}/abort", m.conn);
    std::fs::write(&abort, "1").map_err(|e| format!("{abort}: {e}"))?;
    ensure_eq(
        "stat of a cached path, connection aborted",
        errno(std::fs::metadata(&hello)).map(|_| ()),
        Err(Some(libc::ENOTCONN)),
    )?;
    ensure_eq(
        "cat of a cached file, connection aborted",
        errno(std::fs::read(&hello)).map(|_| ()),
        Err(Some(libc::ENOTCONN)),
    )
}

test!(fuse_answered_lookup_counts, needs: [FUSE]);
fn fuse_answered_lookup_counts(ctx: &mut Ctx) -> TestResult {
    need_filter()?;
    let m = Mount::new()?;
    let (_obj, _link) = fusefs::attach_bound(&ctx.obj("fuse_real_cache"), "real_cache", &m.dir)??;
    let lookups = m.counts.lookup.load(SeqCst);
    let stats = 5;
    for _ in 0..stats {
        for (name, _, _) in FILES {
            std::fs::metadata(m.path(name)).map_err(|e| format!("stat {name}: {e}"))?;
        }
    }
    let answered = m.counts.lookup.load(SeqCst) - lookups;
    println!(
        "# {} stats, {answered} LOOKUPs reached the daemon",
        stats * FILES.len()
    );
    ensure(answered < (stats * FILES.len()) as u64, || {
        "the cache answered no LOOKUP".into()
    })?;
    // Evicting the inodes sends the FORGETs: as many lookups as the daemon answered, per node.
    std::fs::write("/proc/sys/vm/drop_caches", "2").map_err(|e| format!("drop_caches: {e}"))?;
    let start = Instant::now();
    loop {
        let by_node: Vec<(u64, (u64, u64))> = m
            .counts
            .by_node
            .lock()
            .map_err(|_| "poisoned")?
            .iter()
            .map(|(k, v)| (*k, *v))
            .collect();
        let settled = by_node.iter().all(|(_, (l, f))| l == f);
        if settled || start.elapsed() > Duration::from_secs(5) {
            let mut by_node = by_node;
            by_node.sort();
            return ensure(settled && by_node.len() == FILES.len(), || {
                format!("per node (lookups answered, lookups forgotten): {by_node:?}")
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The first `n` 32-bit words of the `.bss` of `obj`.
fn bss_words(obj: &libbpf_rs::Object, n: usize) -> Result<Vec<u32>, String> {
    use libbpf_rs::MapCore;
    let bss = obj
        .maps()
        .find(|m| m.name().to_string_lossy().ends_with(".bss"))
        .ok_or("the object has no .bss")?;
    let v = bss
        .lookup(&0u32.to_ne_bytes(), libbpf_rs::MapFlags::ANY)
        .map_err(|e| format!("read .bss: {e}"))?
        .ok_or("empty .bss")?;
    (0..n)
        .map(|i| {
            v.get(i * 4..i * 4 + 4)
                .and_then(|b| b.try_into().ok())
                .map(u32::from_ne_bytes)
                .ok_or_else(|| "short .bss".to_string())
        })
        .collect()
}

/// `fuse_real_probe`'s noted caller: `(uid, gid, pid)`.
fn noted_caller(obj: &libbpf_rs::Object) -> Result<(u32, u32, u32), String> {
    match bss_words(obj, 3)?[..] {
        [uid, gid, pid] => Ok((uid, gid, pid)),
        _ => Err("short .bss".into()),
    }
}

/// `fuse_real_cache`'s `hits` and `misses` (in either order: both must grow).
fn cache_counts(obj: &libbpf_rs::Object) -> Result<(u64, u64), String> {
    match bss_words(obj, 4)?[..] {
        [a0, a1, b0, b1] => Ok((
            u64::from(a0) | (u64::from(a1) << 32),
            u64::from(b0) | (u64::from(b1) << 32),
        )),
        _ => Err("short .bss".into()),
    }
}

test!(fuse_filter_sees_caller, needs: [FUSE]);
fn fuse_filter_sees_caller(ctx: &mut Ctx) -> TestResult {
    need_filter()?;
    let m = Mount::new()?;
    let (obj, _link) = fusefs::attach_bound(&ctx.obj("fuse_real_probe"), "real_probe", &m.dir)??;
    let child = Command::new("stat")
        .arg(m.path("hello"))
        .uid(65534)
        .gid(65533)
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("stat as nobody: {e}"))?;
    let pid = child.id();
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    ensure(out.status.success(), || "stat as nobody failed".into())?;
    ensure_eq(
        "the caller the filter saw",
        noted_caller(&obj)?,
        (65534, 65533, pid),
    )
}

test!(fuse_post_fail_releases, needs: [FUSE]);
fn fuse_post_fail_releases(ctx: &mut Ctx) -> TestResult {
    need_filter()?;
    let m = Mount::new()?;
    let (_obj, _link) = fusefs::attach_bound(&ctx.obj("fuse_real_probe"), "real_probe", &m.dir)??;
    // The daemon answers the LOOKUP of secret (node 3); the postfilter fails it: fs/fuse owes the
    // daemon that lookup back.
    ensure_eq(
        "stat secret",
        errno(std::fs::metadata(m.path("secret"))).map(|_| ()),
        Err(Some(libc::EACCES)),
    )?;
    // The daemon opens vault (node 4); the postfilter fails the OPEN: fs/fuse owes a RELEASE.
    let releases = m.counts.release.load(SeqCst);
    ensure_eq(
        "open vault",
        errno(File::open(m.path("vault"))).map(|_| ()),
        Err(Some(libc::EPERM)),
    )?;
    let start = Instant::now();
    loop {
        let secret = m
            .counts
            .by_node
            .lock()
            .map_err(|_| "poisoned")?
            .get(&3)
            .copied();
        let released = m.counts.release.load(SeqCst) - releases;
        if (secret == Some((1, 1)) && released == 1) || start.elapsed() > Duration::from_secs(5) {
            ensure_eq(
                "secret's (lookups answered, lookups forgotten)",
                secret,
                Some((1, 1)),
            )?;
            return ensure_eq("RELEASEs for the failed OPEN", released, 1);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

test!(fuse_real_prefilter_rewrite_reaches_server, needs: [FUSE]);
fn fuse_real_prefilter_rewrite_reaches_server(ctx: &mut Ctx) -> TestResult {
    need_filter()?;
    let m = Mount::new()?;
    let (_obj, _link) = fusefs::attach_bound(&ctx.obj("fuse_real_probe"), "real_probe", &m.dir)??;
    let f = File::open(m.path("hello")).map_err(|e| format!("open hello: {e}"))?;
    let mut buf = [0u8; 64];
    let n = f
        .read_at(&mut buf, 0)
        .map_err(|e| format!("read hello: {e}"))?;
    ensure_eq(
        "the largest READ the daemon saw",
        m.counts.read_max.load(SeqCst),
        8,
    )?;
    ensure_eq("what the read got", buf.get(..n), data("hello").get(..8))
}

test!(fuse_real_attrs_exact, needs: [FUSE]);
fn fuse_real_attrs_exact(ctx: &mut Ctx) -> TestResult {
    need_filter()?;
    // A tree with a file whose times have nanoseconds and a device node.
    let back = std::env::temp_dir().join(format!("rso-fuse-{}-attrs", std::process::id()));
    std::fs::create_dir_all(&back).map_err(|e| e.to_string())?;
    let r = (|| {
        std::fs::write(back.join("file"), b"x").map_err(|e| e.to_string())?;
        let dev = std::ffi::CString::new(back.join("null").into_os_string().into_encoded_bytes())
            .map_err(|e| e.to_string())?;
        // SAFETY: A valid NUL-terminated path; mknod(2) of a character device as root.
        if unsafe { libc::mknod(dev.as_ptr(), libc::S_IFCHR | 0o600, libc::makedev(1, 3)) } != 0 {
            return Err(format!("mknod: {}", std::io::Error::last_os_error()));
        }
        let m = Mount::serve(&back, 1, false)?;
        let (_obj, _link) =
            fusefs::attach_bound(&ctx.obj("fuse_real_cache"), "real_cache", &m.dir)??;
        for name in ["file", "null"] {
            let key = |md: &std::fs::Metadata| {
                (
                    md.mode(),
                    md.rdev(),
                    md.size(),
                    (md.atime(), md.atime_nsec()),
                    (md.mtime(), md.mtime_nsec()),
                    (md.ctime(), md.ctime_nsec()),
                )
            };
            let native = key(&std::fs::metadata(back.join(name)).map_err(|e| e.to_string())?);
            let first = key(&std::fs::metadata(m.path(name)).map_err(|e| e.to_string())?);
            let seen = m.seen();
            let cached = key(&std::fs::metadata(m.path(name)).map_err(|e| e.to_string())?);
            ensure_eq(
                &format!("{name}: requests for the cached stat"),
                m.seen() - seen,
                0,
            )?;
            ensure_eq(&format!("{name}: stat through the daemon"), first, native)?;
            ensure_eq(
                &format!("{name}: stat answered by the cache"),
                cached,
                native,
            )?;
        }
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&back);
    r
}

test!(fuse_filter_enosys_refused, needs: [TESTMOD]);
fn fuse_filter_enosys_refused(ctx: &mut Ctx) -> TestResult {
    need_filter()?;
    let ctx: &Ctx = ctx;
    let m = Mount::new()?;
    let hello = m.path("hello");
    let filter = testmod::FuseFilter::new(ctx, 3, &m)?;
    let opens = m.counts.open.load(SeqCst);
    for round in ["first", "again"] {
        ensure_eq(
            &format!("open, failed by the filter with ENOSYS ({round})"),
            errno(File::open(&hello)).map(|_| ()),
            Err(Some(libc::EIO)),
        )?;
    }
    ensure_eq(
        "OPENs the daemon saw",
        m.counts.open.load(SeqCst) - opens,
        0,
    )?;
    filter.remove()?;
    // fs/fuse did not take it as "OPEN not implemented": the next open reaches the daemon.
    ensure_eq(
        "cat, no filter",
        std::fs::read(&hello).ok(),
        Some(data("hello")),
    )?;
    ensure_eq(
        "OPENs the daemon saw, no filter",
        m.counts.open.load(SeqCst) - opens,
        1,
    )
}

/// A bindfs (libfuse3) mount of `back` at `mnt`, served in the foreground by a child process
/// whose stderr is kept, with no entry or attribute cache (so that each `stat` reaches FUSE).
struct Bindfs {
    child: Option<std::process::Child>,
    mnt: PathBuf,
}

impl Bindfs {
    fn mount(back: &Path, mnt: &Path) -> Result<Self, String> {
        std::fs::create_dir_all(mnt).map_err(|e| e.to_string())?;
        let before = std::fs::metadata(mnt).map_err(|e| e.to_string())?.dev();
        let child = Command::new("bindfs")
            .args([
                "-f",
                "-o",
                "entry_timeout=0,attr_timeout=0,negative_timeout=0",
            ])
            .arg(back)
            .arg(mnt)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("bindfs: {e}"))?;
        let b = Self {
            child: Some(child),
            mnt: mnt.to_path_buf(),
        };
        let start = Instant::now();
        while std::fs::metadata(mnt).map_err(|e| e.to_string())?.dev() == before {
            if start.elapsed() > Duration::from_secs(10) {
                return Err("bindfs did not mount".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(b)
    }

    /// Unmounts, and returns how bindfs ended and what it logged.
    fn finish(mut self) -> Result<(std::process::ExitStatus, String), String> {
        umount(&self.mnt);
        let child = self.child.take().ok_or("no bindfs")?;
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        Ok((
            out.status,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ))
    }
}

impl Drop for Bindfs {
    fn drop(&mut self) {
        umount(&self.mnt);
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Unmounts `dir` (lazily: whatever still uses it).
fn umount(dir: &Path) {
    if let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()) {
        // SAFETY: A valid NUL-terminated path.
        unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
    }
}

test!(fuse_bindfs_answered_lookups, needs: [FUSE]);
fn fuse_bindfs_answered_lookups(ctx: &mut Ctx) -> TestResult {
    need_filter()?;
    if Command::new("bindfs").arg("--version").output().is_err() {
        return Err(skip(
            "bindfs is not installed (scripts/setup.sh installs it)",
        ));
    }
    let top = std::env::temp_dir().join(format!("rso-bindfs-{}", std::process::id()));
    let (back, mnt) = (top.join("back"), top.join("mnt"));
    std::fs::create_dir_all(&back).map_err(|e| e.to_string())?;
    let r = (|| {
        for (name, _, data) in FILES {
            std::fs::write(back.join(name), data).map_err(|e| e.to_string())?;
        }
        let b = Bindfs::mount(&back, &mnt)?;
        let (obj, link) = fusefs::attach_bound(&ctx.obj("fuse_real_cache"), "real_cache", &mnt)??;
        // Lookups the cache answers, then evictions (FORGETs), then lookups again: bindfs must
        // know every node the kernel asks it about.
        for round in 0..3 {
            for _ in 0..5 {
                for (name, _, _) in FILES {
                    std::fs::metadata(mnt.join(name))
                        .map_err(|e| format!("stat {name}, round {round}: {e}"))?;
                }
            }
            for (name, _, data) in FILES {
                ensure_eq(
                    &format!("cat {name}, round {round}"),
                    std::fs::read(mnt.join(name)).ok(),
                    Some(data.to_vec()),
                )?;
            }
            std::fs::write("/proc/sys/vm/drop_caches", "2")
                .map_err(|e| format!("drop_caches: {e}"))?;
        }
        let (x, y) = cache_counts(&obj)?;
        println!("# the cache's hits and misses: {x}, {y}");
        ensure(x > 0 && y > 0, || {
            "the cache answered nothing, or everything".into()
        })?;
        drop((obj, link));
        let (status, log) = b.finish()?;
        if !log.is_empty() {
            println!("# bindfs logged: {}", log.trim().replace('\n', "\n# "));
        }
        ensure(status.success(), || format!("bindfs ended with {status}"))?;
        ensure(!log.contains("node"), || {
            format!("bindfs logged a node error: {log}")
        })
    })();
    let _ = std::fs::remove_dir_all(&top);
    r
}

test!(fuse_filter_kunit);
fn fuse_filter_kunit(_ctx: &mut Ctx) -> TestResult {
    need_filter()?;
    // The patch's own KUnit suite (fs/fuse/filter_test.c) ran at boot; its result line closes
    // its KTAP subtest in the kernel log.
    let log = crate::klog::since(0)?;
    let result = log.iter().find_map(|l| {
        let l = l
            .trim_start_matches(|c: char| c != ']')
            .trim_start_matches(']')
            .trim();
        let verdict = l.strip_suffix(" fuse_filter")?;
        if verdict.starts_with("ok ") {
            Some(true)
        } else if verdict.starts_with("not ok ") {
            Some(false)
        } else {
            None
        }
    });
    let summary = log
        .iter()
        .find(|l| l.contains("# fuse_filter: pass:"))
        .cloned()
        .unwrap_or_default();
    println!("# {}", summary.trim());
    match result {
        Some(true) => Ok(()),
        Some(false) => Err(format!("the fuse_filter KUnit suite failed: {summary}")),
        None => Err(skip(
            "this kernel did not run the fuse_filter KUnit suite (CONFIG_FUSE_FILTER_KUNIT_TEST)",
        )),
    }
}
