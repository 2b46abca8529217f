// SPDX-License-Identifier: GPL-2.0

//! `rso_fuse` on a real FUSE mount, through the FUSE request filter of `kernel/patches/fuse`:
//! the BPF cache answering repeated requests without the daemon, the policy's errno and the
//! postfilter's rewrite, as `stat`, `open` and `read` see them. On a kernel without the filter
//! the tests skip, naming it.

use crate::{
    ctx::{
        Ctx,
        KillOnDrop,
        FUSE,
        TESTMOD, //
    },
    fusefs::{
        self,
        Mount,
        FILES,
        FILE_MODE, //
    },
    harness::{
        ensure,
        ensure_eq,
        skip,
        TestResult, //
    },
    kmod,
    tally::{
        duration,
        Tally, //
    },
    test,
    testmod, //
};
use libbpf_rs::{
    Link,
    Object, //
};
use std::{
    ffi::CString,
    fs::File,
    io::{
        BufRead,
        BufReader, //
    },
    os::unix::fs::{
        FileExt,
        MetadataExt,
        OpenOptionsExt, //
    },
    path::Path,
    process::Stdio,
    sync::atomic::{
        AtomicBool,
        Ordering::{
            Relaxed,
            SeqCst, //
        },
    },
    time::{
        Duration,
        Instant, //
    },
};

/// Skips on a kernel without the FUSE request filter.
pub(super) fn need_filter() -> TestResult {
    if fusefs::has_filter()? {
        return Ok(());
    }
    Err(skip(
        "this kernel has no FUSE request filter (fuse_filter_attach, kernel/patches/fuse)",
    ))
}

/// Loads `obj` with its struct_ops map `map` bound to the connection of `m`, and attaches it.
fn bound(ctx: &Ctx, m: &Mount, obj: &str, map: &str) -> Result<(Object, Link), String> {
    fusefs::attach_bound(&ctx.obj(obj), map, &m.dir)?
}

/// The data of file `name` of the tree.
pub(super) fn data(name: &str) -> Vec<u8> {
    file(name).map(|f| f.2.to_vec()).unwrap_or_default()
}

/// The inode of file `name` of the tree.
fn ino(name: &str) -> u64 {
    file(name).map_or(0, |f| f.1)
}

/// File `name` of the tree.
fn file(name: &str) -> Option<&'static (&'static str, u64, &'static [u8])> {
    FILES.iter().find(|f| f.0 == name)
}

/// `(size, mode, inode)` of `path`, as `stat` sees it.
fn stat(path: &Path) -> Result<(u64, u32, u64), String> {
    let md = std::fs::metadata(path).map_err(|e| format!("stat {}: {e}", path.display()))?;
    Ok((md.size(), md.mode(), md.ino()))
}

test!(fuse_real_cache_hit, needs: [FUSE]);
fn fuse_real_cache_hit(ctx: &mut Ctx) -> TestResult {
    need_filter()?;
    let m = Mount::new()?;
    let (_obj, _link) = bound(ctx, &m, "fuse_real_cache", "real_cache")?;
    let hello = m.path("hello");
    let want = data("hello");
    let first = stat(&hello)?;
    ensure_eq("stat, first", first, (want.len() as u64, FILE_MODE, 2))?;
    let before = m.seen();
    ensure_eq("stat, again", stat(&hello)?, first)?;
    ensure_eq(
        "requests the daemon saw for the second stat",
        m.seen() - before,
        0,
    )?;
    let f = File::open(&hello).map_err(|e| format!("open: {e}"))?;
    let mut buf = [0u8; 4096];
    let n = f.read_at(&mut buf, 0).map_err(|e| format!("read: {e}"))?;
    ensure_eq("read, first", buf.get(..n), Some(&want[..]))?;
    let reads = m.counts.read.load(SeqCst);
    ensure_eq("READs the daemon saw", reads, 1)?;
    let before = m.seen();
    let n = f
        .read_at(&mut buf, 0)
        .map_err(|e| format!("read again: {e}"))?;
    ensure_eq("read, again", buf.get(..n), Some(&want[..]))?;
    ensure_eq(
        "requests the daemon saw for the second read",
        m.seen() - before,
        0,
    )?;
    // cat: its open reaches the daemon, its reads (the data, then the end of the file) do not.
    let reads = m.counts.read.load(SeqCst);
    let got = std::fs::read(&hello).map_err(|e| format!("cat: {e}"))?;
    ensure_eq("cat", got, want)?;
    ensure_eq(
        "READs the daemon saw for cat",
        m.counts.read.load(SeqCst) - reads,
        0,
    )
}

test!(fuse_real_policy_denies, needs: [FUSE]);
fn fuse_real_policy_denies(ctx: &mut Ctx) -> TestResult {
    need_filter()?;
    let m = Mount::new()?;
    // Before the policy: plain FUSE.
    ensure_eq(
        "cat secret, unbound",
        std::fs::read(m.path("secret")).ok(),
        Some(data("secret")),
    )?;
    let (_obj, _link) = bound(ctx, &m, "fuse_real_policy", "real_policy")?;
    let lookups = m.counts.lookup.load(SeqCst);
    let got = std::fs::read(m.path("secret")).map_err(|e| e.raw_os_error());
    ensure_eq("cat secret", got, Err(Some(libc::EACCES)))?;
    ensure_eq(
        "LOOKUPs the daemon saw for the denied cat",
        m.counts.lookup.load(SeqCst) - lookups,
        0,
    )?;
    ensure_eq(
        "cat hello",
        std::fs::read(m.path("hello")).ok(),
        Some(data("hello")),
    )
}

test!(fuse_real_open_denied, needs: [FUSE]);
fn fuse_real_open_denied(ctx: &mut Ctx) -> TestResult {
    need_filter()?;
    let m = Mount::new()?;
    let vault = m.path("vault");
    let (_, filtered) = modes("vault");
    ensure_eq(
        "cat vault, unbound",
        std::fs::read(&vault).ok(),
        Some(data("vault")),
    )?;
    let (_obj, _link) = bound(ctx, &m, "fuse_real_policy", "real_policy")?;
    // Its LOOKUP goes through (the postfilter notes its node), its OPEN does not.
    ensure_eq(
        "stat vault",
        stat(&vault)?,
        (filtered.0, filtered.1, ino("vault")),
    )?;
    let opens = m.counts.open.load(SeqCst);
    let got = File::open(&vault).map(|_| ()).map_err(|e| e.raw_os_error());
    ensure_eq("open vault", got, Err(Some(libc::EPERM)))?;
    ensure_eq(
        "OPENs the daemon saw for it",
        m.counts.open.load(SeqCst) - opens,
        0,
    )?;
    // Other files open as before.
    ensure_eq(
        "cat hello",
        std::fs::read(m.path("hello")).ok(),
        Some(data("hello")),
    )?;
    ensure_eq(
        "OPENs the daemon saw for cat hello",
        m.counts.open.load(SeqCst) - opens,
        1,
    )
}

/// The names `read_dir` lists in `dir`, sorted.
fn names(dir: &Path) -> Result<Vec<String>, String> {
    let mut v = std::fs::read_dir(dir)
        .map_err(|e| format!("ls {}: {e}", dir.display()))?
        .map(|e| {
            e.map(|e| e.file_name().to_string_lossy().into_owned())
                .map_err(|e| format!("ls {}: {e}", dir.display()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    v.sort();
    Ok(v)
}

test!(fuse_real_readdir_cached, needs: [FUSE]);
fn fuse_real_readdir_cached(ctx: &mut Ctx) -> TestResult {
    need_filter()?;
    let m = Mount::new()?;
    let want: Vec<String> = FILES.iter().map(|f| f.0.to_string()).collect();
    ensure_eq("ls, unbound", names(&m.dir)?, want.clone())?;
    let (_obj, _link) = bound(ctx, &m, "fuse_real_cache", "real_cache")?;
    let before = m.counts.readdir.load(SeqCst);
    ensure_eq("ls, first", names(&m.dir)?, want.clone())?;
    let first = m.counts.readdir.load(SeqCst) - before;
    ensure(first > 0, || {
        "the first ls reached the daemon with no READDIR".into()
    })?;
    let before = m.counts.readdir.load(SeqCst);
    ensure_eq("ls, again", names(&m.dir)?, want)?;
    ensure_eq(
        "READDIRs the daemon saw for the second ls",
        m.counts.readdir.load(SeqCst) - before,
        0,
    )
}

test!(fuse_real_unbound_not_waited, needs: [FUSE]);
fn fuse_real_unbound_not_waited(ctx: &mut Ctx) -> TestResult {
    need_filter()?;
    // A filter is attached to `bound`'s connection; a GETATTR of `other`, which has none, waits
    // 5 s in its daemon. Detaching from `bound` must not wait for it: the request never met a
    // filter. (Waiting for it, the detach would take nearly 5 s, and the stat would be answered
    // before the detach returns.)
    let bound_mount = Mount::new()?;
    let other = Mount::new()?;
    let link = bound(ctx, &bound_mount, "fuse_real_policy", "real_policy")?;
    let hello = other.path("hello");
    let (plain, _) = modes("hello");
    other.counts.delay_ms.store(5000, SeqCst);
    let done = AtomicBool::new(false);
    let getattrs = other.counts.getattr.load(SeqCst);
    std::thread::scope(|s| {
        let caller = s.spawn(|| {
            let r = stat(&hello);
            done.store(true, SeqCst);
            r
        });
        let start = Instant::now();
        while other.counts.getattr.load(SeqCst) == getattrs {
            if start.elapsed() > Duration::from_secs(10) || done.load(SeqCst) {
                return Err("the GETATTR did not reach the other daemon".to_string());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let start = Instant::now();
        drop(link);
        let took = start.elapsed();
        let in_flight = !done.load(SeqCst) && took < Duration::from_secs(4);
        println!(
            "# detach took {} ms; the other mount's GETATTR was {}",
            took.as_millis(),
            if in_flight {
                "still in flight"
            } else {
                "answered"
            }
        );
        let got = caller.join().map_err(|_| "the stat panicked".to_string())?;
        ensure(in_flight, || {
            "the detach waited for a request of a mount no instance is bound to".into()
        })?;
        ensure_eq("stat of the other mount", got?, (plain.0, plain.1, 2))
    })
}

test!(fuse_real_postfilter_rewrites, needs: [FUSE]);
fn fuse_real_postfilter_rewrites(ctx: &mut Ctx) -> TestResult {
    need_filter()?;
    let m = Mount::new()?;
    let hello = m.path("hello");
    let size = data("hello").len() as u64;
    ensure_eq("stat, unbound", stat(&hello)?, (size, FILE_MODE, 2))?;
    let bound = bound(ctx, &m, "fuse_real_policy", "real_policy")?;
    ensure_eq(
        "stat, with the policy",
        stat(&hello)?,
        (size, FILE_MODE & !0o222, 2),
    )?;
    let before = m.counts.getattr.load(SeqCst);
    ensure_eq("stat, again", stat(&hello)?, (size, FILE_MODE & !0o222, 2))?;
    let after = m.counts.getattr.load(SeqCst);
    ensure_eq("GETATTRs the daemon answered for it", after - before, 1)?;
    drop(bound);
    ensure_eq("stat, detached", stat(&hello)?, (size, FILE_MODE, 2))
}

/// `(size, mode)` of file `name` as the daemon serves it, and as the policy shows it.
fn modes(name: &str) -> ((u64, u32), (u64, u32)) {
    let size = data(name).len() as u64;
    ((size, FILE_MODE), (size, FILE_MODE & !0o222))
}

test!(fuse_real_detach_inflight, needs: [FUSE]);
fn fuse_real_detach_inflight(ctx: &mut Ctx) -> TestResult {
    need_filter()?;
    let m = Mount::with_threads(4)?;
    let hello = m.path("hello");
    let (plain, filtered) = modes("hello");
    let link = bound(ctx, &m, "fuse_real_policy", "real_policy")?;
    // Each GETATTR waits 100 ms in the daemon: the detach finds requests in flight there, and
    // does not wait for them (their postfilter runs, or not, but each gets its answer).
    m.counts.delay_ms.store(100, SeqCst);
    let t = Tally::default();
    let (detach_took, getattrs) = std::thread::scope(|s| {
        let callers: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    for _ in 0..10 {
                        match std::fs::metadata(&hello) {
                            Ok(md) if [plain, filtered].contains(&(md.size(), md.mode())) => {
                                t.iterations.fetch_add(1, Relaxed);
                            }
                            Ok(md) => t.error(format!("stat: {:o}", md.mode())),
                            Err(e) => t.error(format!("stat: {e}")),
                        }
                        t.calls.fetch_add(1, Relaxed);
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(250));
        let getattrs = m.counts.getattr.load(SeqCst);
        let start = Instant::now();
        drop(link);
        let took = start.elapsed();
        for c in callers {
            let _ = c.join();
        }
        (took, getattrs)
    });
    m.counts.delay_ms.store(0, SeqCst);
    println!(
        "# detach took {} ms, with {getattrs} GETATTRs answered before",
        detach_took.as_millis()
    );
    ensure(getattrs > 0, || {
        "no request reached the daemon before the detach".into()
    })?;
    ensure_eq("stats answered rightly", t.iterations.load(Relaxed), 40)?;
    t.finish("fuse_real_detach_inflight", detach_took)?;
    ensure_eq("stat, detached", stat(&hello)?, (plain.0, plain.1, 2))
}

test!(fuse_real_unload_refused_while_bound, needs: [FUSE]);
fn fuse_real_unload_refused_while_bound(ctx: &mut Ctx) -> TestResult {
    need_filter()?;
    let m = Mount::new()?;
    let link = bound(ctx, &m, "fuse_real_policy", "real_policy")?;
    let (_, filtered) = modes("hello");
    let hello = m.path("hello");
    match kmod::rmmod("rso_fuse") {
        Ok(()) => return Err("rmmod rso_fuse succeeded while an instance is bound".into()),
        Err(e) => ensure(kmod::in_use(&e), || format!("rmmod: want in use, got: {e}"))?,
    }
    // Nothing was lost: the policy still filters the mount.
    ensure_eq(
        "stat, after the refused rmmod",
        stat(&hello)?,
        (filtered.0, filtered.1, 2),
    )?;
    drop(link);
    kmod::rmmod_wait("rso_fuse", kmod::UNLOAD_TIMEOUT)?;
    // Without the module the mount is plain FUSE.
    let (plain, _) = modes("hello");
    ensure_eq(
        "stat, module unloaded",
        stat(&hello)?,
        (plain.0, plain.1, 2),
    )?;
    kmod::ensure_loaded(&ctx.ko(FUSE)?, FUSE)
}

/// Unmounts `dir` lazily (its daemon is gone).
fn umount_lazy(dir: &Path) -> TestResult {
    let c = CString::new(dir.as_os_str().as_encoded_bytes()).map_err(|e| e.to_string())?;
    // SAFETY: A valid NUL-terminated path.
    if unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) } != 0 {
        return Err(format!(
            "umount {}: {}",
            dir.display(),
            std::io::Error::last_os_error()
        ));
    }
    let _ = std::fs::remove_dir(dir);
    Ok(())
}

test!(fuse_real_daemon_killed, needs: [FUSE]);
fn fuse_real_daemon_killed(ctx: &mut Ctx) -> TestResult {
    need_filter()?;
    let mut daemon = KillOnDrop(
        ctx.child("fusefs")?
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("spawn: {e}"))?,
    );
    let mut out = BufReader::new(daemon.0.stdout.take().ok_or("no stdout")?);
    let mut line = String::new();
    out.read_line(&mut line).map_err(|e| e.to_string())?;
    let mut words = line.split_whitespace();
    let (Some("ready"), Some(dir), Some(conn)) = (words.next(), words.next(), words.next()) else {
        return Err(format!("the daemon said {line:?}"));
    };
    let dir = Path::new(dir).to_path_buf();
    conn.parse::<u32>()
        .map_err(|e| format!("the daemon's connection {conn}: {e}"))?;
    let (obj, link) = fusefs::attach_bound(&ctx.obj("fuse_real_policy"), "real_policy", &dir)??;
    let (_, filtered) = modes("hello");
    let hello = dir.join("hello");
    let got = stat(&hello);
    daemon.0.kill().map_err(|e| e.to_string())?;
    let _ = daemon.0.wait();
    ensure_eq("stat, daemon alive", got?, (filtered.0, filtered.1, 2))?;
    let got = std::fs::metadata(&hello).map_err(|e| e.raw_os_error());
    ensure_eq(
        "stat, daemon killed",
        got.map(|_| ()),
        Err(Some(libc::ENOTCONN)),
    )?;
    drop(link);
    drop(obj);
    umount_lazy(&dir)?;
    kmod::rmmod_wait("rso_fuse", kmod::UNLOAD_TIMEOUT)?;
    kmod::ensure_loaded(&ctx.ko(FUSE)?, FUSE)
}

test!(fuse_real_bad_replies, needs: [FUSE]);
fn fuse_real_bad_replies(ctx: &mut Ctx) -> TestResult {
    need_filter()?;
    let m = Mount::new()?;
    let (_obj, _link) = bound(ctx, &m, "fuse_real_bad", "real_bad")?;
    let errno = |r: std::io::Result<std::fs::Metadata>| r.map(|_| ()).map_err(|e| e.raw_os_error());
    ensure_eq(
        "stat of a LOOKUP answered with no file type",
        errno(std::fs::metadata(m.path("badmode"))),
        Err(Some(libc::EIO)),
    )?;
    // A node the daemon never gave: the daemon answers the LOOKUP instead (it has no such name).
    let lookups = m.counts.lookup.load(SeqCst);
    ensure_eq(
        "stat of a LOOKUP answered with a node the daemon never gave",
        errno(std::fs::metadata(m.path("badnode"))),
        Err(Some(libc::ENOENT)),
    )?;
    ensure_eq(
        "LOOKUPs the daemon saw for it",
        m.counts.lookup.load(SeqCst) - lookups,
        1,
    )?;
    ensure_eq(
        "stat of a LOOKUP answered with route 99",
        errno(std::fs::metadata(m.path("badret"))),
        Err(Some(libc::EIO)),
    )?;
    ensure_eq(
        "stat of a GETATTR whose postfilter returned 7",
        errno(std::fs::metadata(m.path("secret"))),
        Err(Some(libc::EIO)),
    )?;
    let f = File::open(m.path("hello")).map_err(|e| format!("open hello: {e}"))?;
    let mut small = [0u8; 4];
    let got = f.read_at(&mut small, 0).map_err(|e| e.raw_os_error());
    ensure_eq(
        "a 4-byte read answered with 16 bytes",
        got,
        Err(Some(libc::EIO)),
    )?;
    ensure_eq("the 4 bytes", small, [0u8; 4])?;
    // Answered without data: fs/fuse makes it empty, whatever the buffer held.
    let mut six = [0xaau8; 6];
    let got = f.read_at(&mut six, 0).map_err(|e| e.raw_os_error());
    ensure_eq("a 6-byte read answered with no data", got, Ok(0))?;
    // The rest goes on working; the daemon answers the READ below by the handle its OPEN gave
    // (EBADF for another), which the OPEN postfilter's rewrite did not replace.
    let (plain, _) = modes("hello");
    ensure_eq("stat hello", stat(&m.path("hello"))?, (plain.0, plain.1, 2))?;
    let mut buf = [0u8; 64];
    let n = f
        .read_at(&mut buf, 0)
        .map_err(|e| format!("read hello: {e}"))?;
    ensure_eq("read hello", buf.get(..n), Some(&data("hello")[..]))?;
    // An OPEN failed with ENOSYS, which fs/fuse would take as the daemon's "not implemented" (and
    // let the open succeed, and stop sending OPENs): the module makes it EIO, each time. An OPEN
    // the program answers, which only the daemon can (its handle): EIO.
    let opens = m.counts.open.load(SeqCst);
    let open = |flags| {
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(flags)
            .open(m.path("vault"))
            .map(|_| ())
            .map_err(|e| e.raw_os_error())
    };
    for round in ["first", "again"] {
        ensure_eq(
            &format!("open vault, failed with ENOSYS ({round})"),
            open(0),
            Err(Some(libc::EIO)),
        )?;
    }
    ensure_eq(
        "open vault, answered by the program",
        open(libc::O_NONBLOCK),
        Err(Some(libc::EIO)),
    )?;
    ensure_eq(
        "OPENs the daemon saw for them",
        m.counts.open.load(SeqCst) - opens,
        0,
    )
}

test!(stress_fuse_real, needs: [FUSE]);
fn stress_fuse_real(ctx: &mut Ctx) -> TestResult {
    need_filter()?;
    let m = Mount::with_threads(2)?;
    let path = ctx.obj("fuse_real_cache");
    let t = Tally::default();
    let stop = AtomicBool::new(false);
    let start = Instant::now();
    let want = data("hello");
    let (plain, _) = modes("hello");
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                while !stop.load(Relaxed) {
                    match stat(&m.path("hello")) {
                        Ok(got) if got == (plain.0, plain.1, 2) => {}
                        other => t.error(format!("stat: {other:?}")),
                    }
                    t.calls.fetch_add(1, Relaxed);
                }
            });
        }
        s.spawn(|| {
            let f = match File::open(m.path("hello")) {
                Ok(f) => f,
                Err(e) => return t.error(format!("open: {e}")),
            };
            let mut buf = [0u8; 256];
            while !stop.load(Relaxed) {
                match f.read_at(&mut buf, 0) {
                    Ok(n) if buf.get(..n) == Some(&want[..]) => {}
                    other => t.error(format!("read: {other:?}")),
                }
                t.calls.fetch_add(1, Relaxed);
            }
        });
        s.spawn(|| {
            while !stop.load(Relaxed) {
                match fusefs::attach_bound(&path, "real_cache", &m.dir) {
                    Ok(Ok(_)) => t.cycles.fetch_add(1, Relaxed),
                    Ok(Err(e)) | Err(e) => {
                        t.error(e);
                        break;
                    }
                };
            }
        });
        std::thread::sleep(duration(ctx, 10));
        stop.store(true, Relaxed);
    });
    println!("# the daemon answered {} requests", m.seen());
    t.finish("stress_fuse_real", start.elapsed())
}

/// `rso_testmod`'s module reference count.
fn testmod_refs() -> Result<u64, String> {
    let p = format!("/sys/module/{TESTMOD}/refcnt");
    let s = std::fs::read_to_string(&p).map_err(|e| format!("{p}: {e}"))?;
    s.trim().parse().map_err(|e| format!("{p}: {s:?}: {e}"))
}

test!(fuse_filter_pins_module, needs: [TESTMOD]);
fn fuse_filter_pins_module(ctx: &mut Ctx) -> TestResult {
    need_filter()?;
    let ctx: &Ctx = ctx;
    let m = Mount::new()?;
    let filter = testmod::FuseFilter::new(ctx, 1, &m)?;
    // The struct_ops map drops its reference on the module when the kernel frees it, after the
    // link and the fds are gone: wait for the count to settle.
    let start = Instant::now();
    while testmod_refs()? > 1 && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    ensure_eq(
        "references on rso_testmod while only its filter is attached",
        testmod_refs()?,
        1,
    )?;
    match kmod::rmmod(TESTMOD) {
        Ok(()) => {
            std::mem::forget(filter);
            return Err("rmmod rso_testmod succeeded while its filter is attached".into());
        }
        Err(e) => ensure(kmod::in_use(&e), || format!("rmmod: want in use, got: {e}"))?,
    }
    // FUSE goes on working through the filter, which passes every request.
    let (plain, _) = modes("hello");
    ensure_eq("stat hello", stat(&m.path("hello"))?, (plain.0, plain.1, 2))?;
    drop(m);
    filter.remove()?;
    kmod::rmmod_wait(TESTMOD, kmod::UNLOAD_TIMEOUT)?;
    kmod::ensure_loaded(&ctx.ko(TESTMOD)?, TESTMOD)
}

test!(fuse_filter_one_at_a_time, needs: [TESTMOD, FUSE]);
fn fuse_filter_one_at_a_time(ctx: &mut Ctx) -> TestResult {
    need_filter()?;
    let ctx: &Ctx = ctx;
    let m = Mount::new()?;
    let other = Mount::new()?;
    let filter = testmod::FuseFilter::new(ctx, 1, &m)?;
    // One filter per connection: rso_fuse's cannot be attached to m's too, and binding fails
    // whole...
    match bound(ctx, &m, "fuse_real_policy", "real_policy").map(|_| ()) {
        Ok(()) => return Err("rso_fuse bound a connection beside another filter".into()),
        Err(e) => ensure(e.contains("os error 16"), || {
            format!("binding beside another filter: want EBUSY, got: {e}")
        })?,
    }
    // ...but to another connection meanwhile, yes.
    let (plain, filtered) = modes("hello");
    {
        let _b = bound(ctx, &other, "fuse_real_policy", "real_policy")?;
        ensure_eq(
            "stat hello on the other mount, bound",
            stat(&other.path("hello"))?,
            (filtered.0, filtered.1, 2),
        )?;
    }
    filter.remove()?;
    ensure_eq(
        "stat hello, unbound",
        stat(&m.path("hello"))?,
        (plain.0, plain.1, 2),
    )?;
    // Once the other filter is gone, rso_fuse binds.
    let _b = bound(ctx, &m, "fuse_real_policy", "real_policy")?;
    ensure_eq(
        "stat hello, bound",
        stat(&m.path("hello"))?,
        (filtered.0, filtered.1, 2),
    )
}

test!(fuse_filter_written_then_sent, needs: [TESTMOD]);
fn fuse_filter_written_then_sent(ctx: &mut Ctx) -> TestResult {
    need_filter()?;
    let ctx: &Ctx = ctx;
    let m = Mount::new()?;
    let hello = m.path("hello");
    let (plain, _) = modes("hello");
    let filter = testmod::FuseFilter::new(ctx, 2, &m)?;
    // The filter wrote the GETATTR's reply, then passed the request: fs/fuse fails it rather
    // than send it with the sizes the filter left.
    let getattrs = m.counts.getattr.load(SeqCst);
    let got = std::fs::metadata(&hello)
        .map(|_| ())
        .map_err(|e| e.raw_os_error());
    ensure_eq(
        "stat, the GETATTR written then passed",
        got,
        Err(Some(libc::EIO)),
    )?;
    ensure_eq(
        "GETATTRs the daemon saw",
        m.counts.getattr.load(SeqCst) - getattrs,
        0,
    )?;
    filter.remove()?;
    ensure_eq("stat, no filter", stat(&hello)?, (plain.0, plain.1, 2))
}
