// SPDX-License-Identifier: GPL-2.0

//! What an unprivileged user cannot do: load or attach BPF, create maps, walk ids, load or
//! unload modules, or open any call device.

use crate::{
    bpf::errno_name,
    ctx::{
        Ctx,
        KillOnDrop,
        FILTER,
        FUSE,
        FUSE_C,
        HELLO,
        TESTMOD, //
    },
    harness::{
        ensure,
        ensure_eq,
        TestResult, //
    },
    hello,
    kmod,
    test, //
};
use std::{
    io::Read,
    os::unix::{fs::MetadataExt, process::CommandExt},
    process::Stdio, //
};

test!(unprivileged_denied, needs: [HELLO]);
fn unprivileged_denied(ctx: &mut Ctx) -> TestResult {
    let mut child = KillOnDrop(
        ctx.hold_link_child()?
            .uid(65534)
            .gid(65534)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("spawn as nobody: {e}"))?,
    );
    let mut out = String::new();
    if let Some(mut o) = child.0.stdout.take() {
        let _ = o.read_to_string(&mut out);
    }
    let status = child.0.wait().map_err(|e| e.to_string())?;
    ensure(!status.success() && !out.contains("ready"), || {
        format!("an unprivileged process attached hello_ops: {out}")
    })?;
    ensure(out.contains("Operation not permitted"), || {
        format!("want EPERM, got: {out}")
    })?;
    ensure_eq("instances", hello::count(), Ok(0))
}

/// The device nodes: root's, mode 0600 (miscdevice's default: the modules give no mode, so
/// devtmpfs creates them root-only). Everything a call device offers is for root: calling ops,
/// counting instances.
fn device_modes() -> Result<Vec<(String, u32, u32)>, String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/dev").map_err(|e| e.to_string())? {
        let path = e.map_err(|e| e.to_string())?.path();
        if path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("rso_"))
        {
            let m = std::fs::metadata(&path).map_err(|e| e.to_string())?;
            out.push((path.display().to_string(), m.mode() & 0o7777, m.uid()));
        }
    }
    out.sort();
    Ok(out)
}

test!(unprivileged_matrix, needs: [HELLO, FILTER, TESTMOD, FUSE, FUSE_C]);
fn unprivileged_matrix(ctx: &mut Ctx) -> TestResult {
    let devs = device_modes()?;
    // One device per module, named after it, and rso_fuse's daemon device.
    let mut want: Vec<String> = ctx.modules().map(|m| format!("/dev/{m}")).collect();
    want.push("/dev/rso_fuse_daemon".into());
    want.sort();
    let names: Vec<String> = devs.iter().map(|d| d.0.clone()).collect();
    ensure_eq("devices", names, want)?;
    for (dev, mode, uid) in &devs {
        ensure_eq(&format!("{dev}: mode, owner"), (*mode, *uid), (0o600, 0))?;
    }
    let out = ctx
        .child("probe")?
        .uid(65534)
        .gid(65534)
        .stderr(Stdio::null())
        .output()
        .map_err(|e| format!("spawn probe as nobody: {e}"))?;
    let out = String::from_utf8_lossy(&out.stdout);
    let mut got = Vec::new();
    for l in out.lines() {
        let f: Vec<&str> = l.split_whitespace().collect();
        if let ["probe", what, errno] = f[..] {
            got.push((what.to_string(), errno.parse::<i32>().unwrap_or(-1)));
        }
    }
    let mut want: Vec<(String, i32)> = devs
        .iter()
        .map(|(d, _, _)| (format!("open:{d}"), libc::EACCES))
        .collect();
    for what in [
        "prog_load",
        "prog_get_next_id",
        "map_create",
        "delete_module",
        "init_module",
    ] {
        want.push((what.to_string(), libc::EPERM));
    }
    for (what, errno) in &got {
        println!("# nobody: {what:<24} {}", errno_name(*errno));
    }
    ensure_eq("what nobody tried, and its errno", got, want)?;
    // Nothing changed for root.
    ensure(kmod::is_loaded(HELLO), || "rso_hello was unloaded".into())?;
    ensure_eq("instances", hello::count(), Ok(0))
}
