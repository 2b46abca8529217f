// SPDX-License-Identifier: GPL-2.0

//! The kernel-log check: a run fails if the kernel reported a bug, a warning (lockdep splats
//! are warnings), an oops or a memory leak (kmemleak) while the tests ran.

use crate::ctx::dmesg;
use std::{
    fs,
    path::Path,
    process::Command,
    thread::sleep,
    time::Duration, //
};

const KMEMLEAK: &str = "/sys/kernel/debug/kmemleak";

/// Patterns that fail a run when the kernel log shows them.
const BAD: &[&str] = &[
    "BUG:",
    "WARNING:",
    "Oops",
    "kernel BUG at",
    "general protection fault",
    "Kernel panic",
    "possible circular locking",
    "possible recursive locking",
    "inconsistent lock state",
    "suspicious RCU usage",
    "soft lockup",
    "rcu_sched detected stall",
    "hung_task",
    "suspected memory leak",
    "UBSAN:",
];

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
    let boot = dmesg()?;
    let bad = bad_lines(&boot);
    if !bad.is_empty() {
        return Err(format!(
            "the kernel log shows problems at boot:\n{}",
            bad.join("\n")
        ));
    }
    Ok(())
}

fn bad_lines(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| BAD.iter().any(|p| l.contains(p)))
        .map(str::to_owned)
        .collect()
}

/// Scans for leaks and checks the log; `Err` lists what was found.
pub(crate) fn check() -> Result<(), String> {
    ensure_debugfs();
    // kmemleak reports an object only once it is 5 s old, and only after a scan.
    sleep(Duration::from_secs(6));
    fs::write(KMEMLEAK, "scan").map_err(|e| format!("{KMEMLEAK}: {e}"))?;
    let leaks = fs::read_to_string(KMEMLEAK).map_err(|e| format!("{KMEMLEAK}: {e}"))?;
    let log = dmesg()?;
    let mut bad = bad_lines(&log);
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
