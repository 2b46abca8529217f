// SPDX-License-Identifier: GPL-2.0

//! The kernel-log check, as libbpf's CI scans its VMs' logs: a run fails if the kernel reported a
//! bug, a warning, a KASAN, KFENCE or UBSAN report, an oops, a lockup, an RCU stall, a hung task,
//! a lockdep report or a memory leak (kmemleak).
//!
//! A test that makes the kernel splat on purpose (`splat_scan_catches_warn`) brackets it with
//! [`EXPECTED_BEGIN`] and [`EXPECTED_END`] lines written to `/dev/kmsg`; only those lines are
//! exempt, and the test checks that the scan does see them.

use regex::Regex;
use std::{
    fs,
    io::{
        ErrorKind,
        Read, //
    },
    os::unix::fs::OpenOptionsExt,
    path::Path,
    process::Command,
    sync::{
        atomic::{
            AtomicBool,
            Ordering::Relaxed, //
        },
        Mutex,
        OnceLock, //
    },
    thread::sleep,
    time::Duration, //
};

const KMEMLEAK: &str = "/sys/kernel/debug/kmemleak";

/// What fails a run (libbpf CI's patterns, plus lockdep's and the detectors' own headlines).
const BAD: &[&str] = &[
    r"(BUG|WARNING|UBSAN|Oops)[: ]",
    r"kernel BUG at",
    r"KASAN|KFENCE",
    r"general protection fault",
    r"Kernel panic",
    r"soft lockup|hard LOCKUP|watchdog: .*stuck",
    r"rcu: INFO: .*stall|rcu_.* detected stalls?|self-detected stall",
    r"blocked for more than \d+ seconds|hung_task",
    r"possible circular locking|possible recursive locking|inconsistent lock state",
    r"suspicious RCU usage|lock held when returning|bad unlock balance|possible irq lock inversion",
    r"unreferenced object|suspected memory leak",
    r"refcount_t: ",
    r"list_(add|del) corruption",
];

/// Lines the patterns match that are not problems. Each entry says why.
const ALLOWED: &[&str] = &[
    // Boot banners of the detectors themselves: KASAN and KFENCE saying they are on.
    r"KernelAddressSanitizer initialized",
    r"kfence: initialized",
    // The kernel command line names the lockup options (softlockup_all_cpu_backtrace=1, ...)
    // and kasan_multi_shot.
    r"Kernel command line:",
];

/// Written to `/dev/kmsg` around a splat a test causes on purpose.
pub(crate) const EXPECTED_BEGIN: &str = "rso-selftests: expected splat begins";
pub(crate) const EXPECTED_END: &str = "rso-selftests: expected splat ends";

fn regexes() -> &'static (Regex, Regex) {
    static RE: OnceLock<(Regex, Regex)> = OnceLock::new();
    RE.get_or_init(|| {
        // The patterns are constants above; they are valid.
        let bad = Regex::new(&BAD.join("|")).unwrap_or_else(|e| panic!("BAD: {e}"));
        let ok = Regex::new(&ALLOWED.join("|")).unwrap_or_else(|e| panic!("ALLOWED: {e}"));
        (bad, ok)
    })
}

/// The lines of `log` that show a problem (all of them, expected splats included).
pub(crate) fn scan<'a>(log: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let (bad, ok) = regexes();
    log.into_iter()
        .filter(|l| bad.is_match(l) && !ok.is_match(l))
        .map(str::to_owned)
        .collect()
}

/// The lines of `log` that show a problem, outside the brackets of expected splats.
fn bad_lines<'a>(log: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut inside = false;
    scan(log.into_iter().filter(|l| {
        if l.contains(EXPECTED_BEGIN) {
            inside = true;
        } else if l.contains(EXPECTED_END) {
            inside = false;
            return false;
        }
        !inside
    }))
}

/// The kernel log as read so far from `/dev/kmsg`, a line per record, as `dmesg` prints them.
///
/// Each read takes only the records that came since the last one: every test reads the log
/// twice, and once a run has logged tens of thousands of lines (a stress test can), reading and
/// formatting it all anew with `dmesg` cost seconds per test.
struct Log {
    /// `/dev/kmsg`, opened non-blocking: a read past the newest record fails with `EAGAIN`.
    kmsg: fs::File,
    lines: Vec<String>,
}

impl Log {
    /// Reads the records logged since the last call.
    fn update(&mut self) -> Result<(), String> {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match self.kmsg.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => self.lines.push(record(&buf[..n])),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                // The ring buffer overwrote records before they were read: say so, go on.
                Err(e) if e.raw_os_error() == Some(libc::EPIPE) => self.lines.push(
                    "rso-selftests: kernel log records were lost before they were read".into(),
                ),
                Err(e) => return Err(format!("/dev/kmsg: {e}")),
            }
        }
    }
}

/// A `/dev/kmsg` record (`prio,seq,usec,flags[,...];text`, then dictionary lines that start with
/// a space) as `dmesg` prints it: `[seconds.micros] text`.
fn record(raw: &[u8]) -> String {
    let raw = String::from_utf8_lossy(raw);
    let first = raw.lines().next().unwrap_or_default();
    let Some((head, text)) = first.split_once(';') else {
        return first.to_owned();
    };
    let usec: u64 = head
        .split(',')
        .nth(2)
        .and_then(|u| u.parse().ok())
        .unwrap_or(0);
    format!("[{:5}.{:06}] {text}", usec / 1_000_000, usec % 1_000_000)
}

/// Runs `f` on the whole kernel log, brought up to date.
fn with_log<R>(f: impl FnOnce(&[String]) -> R) -> Result<R, String> {
    static LOG: Mutex<Option<Log>> = Mutex::new(None);
    let mut guard = LOG
        .lock()
        .map_err(|_| "the kernel log's lock is poisoned")?;
    if guard.is_none() {
        let kmsg = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open("/dev/kmsg")
            .map_err(|e| format!("/dev/kmsg: {e}"))?;
        *guard = Some(Log {
            kmsg,
            lines: Vec::new(),
        });
    }
    let Some(log) = guard.as_mut() else {
        return Err("no kernel log".into());
    };
    log.update()?;
    Ok(f(&log.lines))
}

/// The whole kernel log, a line per record.
pub(crate) fn dmesg() -> Result<String, String> {
    with_log(|l| l.join("\n"))
}

fn ensure_debugfs() {
    if !Path::new(KMEMLEAK).exists() {
        let _ = Command::new("mount")
            .args(["-t", "debugfs", "none", "/sys/kernel/debug"])
            .status();
    }
}

/// Whether kmemleak scans this run ([`start`] found it).
static KMEMLEAK_ON: AtomicBool = AtomicBool::new(false);

/// Forgets the leak reports of everything allocated so far (boot), so that only leaks of the
/// tests are reported, and fails if the boot log already shows a problem. Without kmemleak it
/// fails if `need_kmemleak` (our own kernels have it: losing it is a config drift), and says so
/// otherwise (Debian's kernel, a user's).
pub(crate) fn start(need_kmemleak: bool) -> Result<(), String> {
    ensure_debugfs();
    if Path::new(KMEMLEAK).exists() || need_kmemleak {
        fs::write(KMEMLEAK, "clear")
            .map_err(|e| format!("{KMEMLEAK}: {e} (CONFIG_DEBUG_KMEMLEAK?)"))?;
        KMEMLEAK_ON.store(true, Relaxed);
    } else {
        println!("# this kernel has no kmemleak: the run checks its log, but not for leaks");
    }
    let bad = with_log(|l| bad_lines(l.iter().map(String::as_str)))?;
    if !bad.is_empty() {
        return Err(format!(
            "the kernel log shows problems at boot:\n{}",
            bad.join("\n")
        ));
    }
    Ok(())
}

/// Scans for leaks (if kmemleak is on) and checks the whole log; `Err` lists what was found.
pub(crate) fn check() -> Result<(), String> {
    let mut bad = Vec::new();
    if KMEMLEAK_ON.load(Relaxed) {
        ensure_debugfs();
        // kmemleak reports an object only once it is 5 s old, and only after a scan.
        sleep(Duration::from_secs(6));
        fs::write(KMEMLEAK, "scan").map_err(|e| format!("{KMEMLEAK}: {e}"))?;
        let leaks = fs::read_to_string(KMEMLEAK).map_err(|e| format!("{KMEMLEAK}: {e}"))?;
        if !leaks.trim().is_empty() {
            bad.push(format!("kmemleak:\n{leaks}"));
        }
    } else {
        println!("# no kmemleak in this kernel: leaks not scanned, the log checked");
    }
    bad.extend(with_log(|l| bad_lines(l.iter().map(String::as_str)))?);
    if bad.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the kernel log shows problems:\n{}",
            bad.join("\n")
        ))
    }
}

/// Writes `line` into the kernel log.
pub(crate) fn kmsg(line: &str) -> Result<(), String> {
    fs::write("/dev/kmsg", line).map_err(|e| format!("/dev/kmsg: {e}"))
}

/// The number of lines in the kernel log now: pass it to [`bad_since`].
pub(crate) fn mark() -> Result<usize, String> {
    with_log(<[String]>::len)
}

/// The problem lines the kernel logged after `mark`.
pub(crate) fn bad_since(mark: usize) -> Result<Vec<String>, String> {
    with_log(|l| bad_lines(l.iter().skip(mark).map(String::as_str)))
}

/// The lines the kernel logged after `mark`.
pub(crate) fn since(mark: usize) -> Result<Vec<String>, String> {
    with_log(|l| l.iter().skip(mark).cloned().collect())
}
