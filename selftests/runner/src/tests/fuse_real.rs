// SPDX-License-Identifier: GPL-2.0

//! `rso_fuse` on a real FUSE mount, through the FUSE request filter of `kernel/patches/fuse`:
//! the BPF cache answering repeated requests without the daemon, the policy's errno and the
//! postfilter's rewrite, as `stat`, `open` and `read` see them. On a kernel without the filter
//! the tests skip, naming it.

use crate::{
    ctx::{
        Ctx,
        KillOnDrop,
        FUSE, //
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
        MetadataExt, //
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
fn need_filter() -> TestResult {
    if fusefs::has_filter()? {
        return Ok(());
    }
    Err(skip(
        "this kernel has no FUSE request filter (fuse_filter_register, kernel/patches/fuse)",
    ))
}

/// Loads `obj` with its struct_ops map `map` bound to the connection of `m`, and attaches it.
fn bound(ctx: &Ctx, m: &Mount, obj: &str, map: &str) -> Result<(Object, Link), String> {
    fusefs::attach_bound(&ctx.obj(obj), map, m.conn)?
}

/// The data of file `name` of the tree.
fn data(name: &str) -> Vec<u8> {
    FILES
        .iter()
        .find(|f| f.0 == name)
        .map(|f| f.2.to_vec())
        .unwrap_or_default()
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
    // waits for them (their postfilter runs, or not, but each gets its answer).
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
    let conn = conn
        .parse()
        .map_err(|e| format!("the daemon's connection {conn}: {e}"))?;
    let (obj, link) = fusefs::attach_bound(&ctx.obj("fuse_real_policy"), "real_policy", conn)??;
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
    // The rest goes on working.
    let (plain, _) = modes("hello");
    ensure_eq("stat hello", stat(&m.path("hello"))?, (plain.0, plain.1, 2))?;
    let mut buf = [0u8; 64];
    let n = f
        .read_at(&mut buf, 0)
        .map_err(|e| format!("read hello: {e}"))?;
    ensure_eq("read hello", buf.get(..n), Some(&data("hello")[..]))
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
                match fusefs::attach_bound(&path, "real_cache", m.conn) {
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
