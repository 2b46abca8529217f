// SPDX-License-Identifier: GPL-2.0

//! What an unprivileged user cannot do.

use crate::{
    ctx::{
        Ctx,
        KillOnDrop,
        HELLO, //
    },
    harness::{
        ensure,
        ensure_eq,
        TestResult, //
    },
    hello,
    test, //
};
use std::{
    io::Read,
    os::unix::process::CommandExt,
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
