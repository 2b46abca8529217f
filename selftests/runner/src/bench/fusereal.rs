// SPDX-License-Identifier: GPL-2.0

//! Real FUSE, measured with real syscalls and fio: a `stat` loop, `ls -l` of a directory of
//! 1,000 files, and fio's 4 KiB sequential and random reads, on the native file system (a tmpfs),
//! on plain FUSE (the daemon answers everything; direct I/O), on FUSE with the BPF cache
//! (`fuse_real_cache.bpf.o`, on a kernel with the FUSE request filter) and on FUSE passthrough.
//! The modes take turns within each repetition, so that drift touches them alike; the ratios
//! against native and against plain FUSE are per repetition. Before the fio rows, each mode reads
//! fio's file once, 4 KiB at a time, so that every mode's caches start warm: the page cache of
//! the native file system, the BPF cache's blocks (a page each).

use super::{
    Params,
    Results, //
};
use crate::{
    ctx::Ctx,
    fusefs::{
        self,
        Mount, //
    },
};
use std::{
    ffi::CString,
    os::unix::fs::{
        FileExt,
        MetadataExt, //
    },
    path::{
        Path,
        PathBuf, //
    },
    process::Command,
    time::Instant,
};

/// The size of fio's file.
const FIO_MB: usize = 16;
/// The files of the `ls -l` directory.
const LS_FILES: usize = 1_000;

/// A tmpfs of its own: the native file system, and the backing directory of the FUSE mounts.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn new() -> Result<Self, String> {
        let dir = std::env::temp_dir().join(format!("rso-bench-native-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let c = CString::new(dir.as_os_str().as_encoded_bytes()).map_err(|e| e.to_string())?;
        // SAFETY: Valid NUL-terminated strings; no data argument.
        let rc = unsafe {
            libc::mount(
                c"tmpfs".as_ptr(),
                c.as_ptr(),
                c"tmpfs".as_ptr(),
                0,
                std::ptr::null(),
            )
        };
        if rc != 0 {
            return Err(format!("mount tmpfs: {}", std::io::Error::last_os_error()));
        }
        Ok(Tmpfs(dir))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        if let Ok(c) = CString::new(self.0.as_os_str().as_encoded_bytes()) {
            // SAFETY: A valid NUL-terminated path.
            unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
        }
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// The backing tree: `data` (fio's file), `hello`, and `many/` with `LS_FILES` files.
fn populate(dir: &Path) -> Result<(), String> {
    let err = |p: &Path, e: std::io::Error| format!("{}: {e}", p.display());
    let data: Vec<u8> = (0..FIO_MB << 20)
        .map(|i| (i * 7 + i / 4096) as u8)
        .collect();
    let p = dir.join("data");
    std::fs::write(&p, &data).map_err(|e| err(&p, e))?;
    let p = dir.join("hello");
    std::fs::write(&p, b"hello\n").map_err(|e| err(&p, e))?;
    let many = dir.join("many");
    std::fs::create_dir_all(&many).map_err(|e| err(&many, e))?;
    for i in 0..LS_FILES {
        let p = many.join(format!("f{i:04}"));
        std::fs::write(&p, b"0123456789abcdef").map_err(|e| err(&p, e))?;
    }
    Ok(())
}

/// `stat`s of `path` per second, for `p.window`.
fn stat_loop(path: &Path, p: &Params) -> Result<f64, String> {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < p.window {
        std::fs::metadata(path).map_err(|e| format!("stat {}: {e}", path.display()))?;
        n += 1;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

/// `ls -l` of `dir` (its entries, and a `stat` of each) per second, for `p.window`.
fn ls_loop(dir: &Path, p: &Params) -> Result<f64, String> {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < p.window || n == 0 {
        let mut size = 0;
        for e in std::fs::read_dir(dir).map_err(|e| format!("ls {}: {e}", dir.display()))? {
            let e = e.map_err(|e| e.to_string())?;
            size += std::fs::symlink_metadata(e.path())
                .map_err(|err| format!("stat {}: {err}", e.path().display()))?
                .size();
        }
        if size != 16 * LS_FILES as u64 {
            return Err(format!("ls -l {}: {size} bytes in all", dir.display()));
        }
        n += 1;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

/// Reads fio's file under `root` once, 4 KiB at a time: every mode starts its fio rows warm (the
/// native page cache, the BPF cache's blocks).
fn warm(root: &Path) -> Result<(), String> {
    let p = root.join("data");
    let f = std::fs::File::open(&p).map_err(|e| format!("{}: {e}", p.display()))?;
    let mut buf = [0u8; 4096];
    let mut off = 0u64;
    loop {
        match f.read_at(&mut buf, off) {
            Ok(0) => return Ok(()),
            Ok(n) => off += n as u64,
            Err(e) => return Err(format!("read {}: {e}", p.display())),
        }
    }
}

/// fio's bandwidth in MiB/s: 4 KiB `rw` (read or randread) of `file`, synchronous, for
/// `p.window`.
fn fio(file: &Path, rw: &str, p: &Params) -> Result<f64, String> {
    let out = Command::new("fio")
        .args([
            "--name=rso",
            &format!("--filename={}", file.display()),
            &format!("--rw={rw}"),
            "--bs=4k",
            &format!("--size={FIO_MB}m"),
            "--ioengine=psync",
            "--time_based",
            &format!("--runtime={}ms", p.window.as_millis()),
            "--output-format=terse",
            "--terse-version=3",
        ])
        .output()
        .map_err(|e| format!("fio: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "fio {rw} {}: {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    // Terse v3: field 7 (from 1) is the read bandwidth in KiB/s.
    let text = String::from_utf8_lossy(&out.stdout);
    let kib: f64 = text
        .lines()
        .last()
        .and_then(|l| l.split(';').nth(6))
        .and_then(|f| f.parse().ok())
        .ok_or_else(|| format!("fio: no bandwidth in {text:?}"))?;
    Ok(kib / 1024.0)
}

/// The workloads: name, unit, and the measurement in a tree rooted at a path.
type Workload = (
    &'static str,
    &'static str,
    fn(&Path, &Params) -> Result<f64, String>,
);

const WORKLOADS: &[Workload] = &[
    ("stat", "stat/s", |root, p| {
        stat_loop(&root.join("hello"), p)
    }),
    ("ls -l, 1,000 files", "ls/s", |root, p| {
        ls_loop(&root.join("many"), p)
    }),
    ("fio 4 KiB read", "MiB/s", |root, p| {
        fio(&root.join("data"), "read", p)
    }),
    ("fio 4 KiB randread", "MiB/s", |root, p| {
        fio(&root.join("data"), "randread", p)
    }),
];

/// The real-FUSE section of `make bench`.
pub(super) fn real_fuse(ctx: &Ctx, p: &Params, r: &mut Results) -> Result<(), String> {
    let native = Tmpfs::new()?;
    populate(&native.0)?;
    let plain = Mount::serve(&native.0, 1, false)?;
    let pass = match Mount::serve(&native.0, 1, true) {
        Ok(m) => Some(m),
        Err(e) => {
            println!("# real FUSE: no passthrough row: {e}");
            None
        }
    };
    let cached = if fusefs::has_filter()? {
        let m = Mount::serve(&native.0, 1, false)?;
        let bound = fusefs::attach_bound(&ctx.obj("fuse_real_cache"), "real_cache", &m.dir)??;
        Some((m, bound))
    } else {
        println!(
            "# real FUSE: no BPF row: this kernel has no FUSE request filter (kernel/patches/fuse)"
        );
        None
    };
    let mut modes: Vec<(&str, &Path)> = vec![("native", &native.0), ("FUSE", &plain.dir)];
    if let Some((m, _)) = &cached {
        modes.push(("FUSE + BPF cache", &m.dir));
    }
    if let Some(m) = &pass {
        modes.push(("FUSE passthrough", &m.dir));
    }
    let has_fio = Command::new("fio").arg("--version").output().is_ok();
    if !has_fio {
        println!("# real FUSE: no fio rows: fio is not installed (scripts/setup.sh installs it)");
    }
    for (work, unit, f) in WORKLOADS {
        if unit == &"MiB/s" && !has_fio {
            continue;
        }
        if unit == &"MiB/s" {
            for (_, root) in &modes {
                warm(root)?;
            }
        }
        // values[mode][rep]
        let mut values = vec![Vec::new(); modes.len()];
        for _ in 0..p.reps {
            for (i, (_, root)) in modes.iter().enumerate() {
                values[i].push(f(root, p)?);
            }
        }
        for (i, (mode, _)) in modes.iter().enumerate() {
            r.push(
                "real FUSE",
                format!("{work}: {mode}"),
                unit,
                values[i].clone(),
            );
        }
        for (i, (mode, _)) in modes.iter().enumerate().skip(1) {
            let ratio = |base: usize| {
                values[i]
                    .iter()
                    .zip(&values[base])
                    .map(|(a, b)| a / b)
                    .collect()
            };
            r.push(
                "real FUSE ratios",
                format!("{work}: {mode} / native"),
                "x",
                ratio(0),
            );
            if i > 1 {
                r.push(
                    "real FUSE ratios",
                    format!("{work}: {mode} / FUSE"),
                    "x",
                    ratio(1),
                );
            }
        }
    }
    if let Some((m, _)) = &cached {
        println!(
            "# real FUSE: the daemon under the BPF cache answered {} requests",
            m.seen()
        );
    }
    println!(
        "# real FUSE: the plain daemon answered {} requests",
        plain.seen()
    );
    drop(cached);
    drop(pass);
    drop(plain);
    Ok(())
}
