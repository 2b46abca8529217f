// SPDX-License-Identifier: GPL-2.0

//! The kernel-log check, as libbpf's CI scans its VMs' logs: a run fails if the kernel reported a
//! bug, a warning, a KASAN, KFENCE or UBSAN report, an oops, a lockup, an RCU stall, a hung task,
//! a lockdep report or a memory leak (kmemleak).
//!
//! A test that makes the kernel splat on purpose (`splat_scan_catches_warn`) brackets it with
//! [`EXPECTED_BEGIN`] and [`EXPECTED_END`] lines written to `/dev/kmsg`; only those lines are
//! exempt, and the test checks that the scan does see them.

use crate::ctx::dmesg;
use regex::Regex;
use std::{
    fs,
    path::Path,
    process::Command,
    sync::OnceLock,
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
fn bad_lines(log: &str) -> Vec<String> {
    let mut inside = false;
    scan(log.lines().filter(|l| {
        if l.contains(EXPECTED_BEGIN) {
            inside = true;
        } else if l.contains(EXPECTED_END) {
            inside = false;
            return false;
        }
        !inside
    }))
}

fn ensure_debugfs() {
    if !Path::new(KMEMLEAK).exists() {
        let _ = Command::new("mount")
            .args(["-t", "debugfs", "none", "/sys/kernel/debug"])
            .status();
    }
}

/// Forgets the leak reports of everything allocated so far (boot), so that only leaks of the
/// tests are reported, and fails if the boot log already shows a problem.
pub(crate) fn start() -> Result<(), String> {
    ensure_debugfs();
    fs::write(KMEMLEAK, "clear")
        .map_err(|e| format!("{KMEMLEAK}: {e} (CONFIG_DEBUG_KMEMLEAK?)"))?;
    let bad = bad_lines(&dmesg()?);
    if !bad.is_empty() {
        return Err(format!(
            "the kernel log shows problems at boot:\n{}",
            bad.join("\n")
        ));
    }
    Ok(())
}

/// Scans for leaks and checks the whole log; `Err` lists what was found.
pub(crate) fn check() -> Result<(), String> {
    ensure_debugfs();
    // kmemleak reports an object only once it is 5 s old, and only after a scan.
    sleep(Duration::from_secs(6));
    fs::write(KMEMLEAK, "scan").map_err(|e| format!("{KMEMLEAK}: {e}"))?;
    let leaks = fs::read_to_string(KMEMLEAK).map_err(|e| format!("{KMEMLEAK}: {e}"))?;
    let mut bad = bad_lines(&dmesg()?);
    if !leaks.trim().is_empty() {
        bad.push(format!("kmemleak:\n{leaks}"));
    }
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
    Ok(dmesg()?.lines().count())
}

/// The problem lines the kernel logged after `mark`.
pub(crate) fn bad_since(mark: usize) -> Result<Vec<String>, String> {
    let log = dmesg()?;
    let new: Vec<&str> = log.lines().skip(mark).collect();
    Ok(bad_lines(&new.join("\n")))
}

/// The lines the kernel logged after `mark`.
pub(crate) fn since(mark: usize) -> Result<Vec<String>, String> {
    Ok(dmesg()?.lines().skip(mark).map(str::to_owned).collect())
}
