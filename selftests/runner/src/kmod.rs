// SPDX-License-Identifier: GPL-2.0

//! Loading and unloading the sample modules.

use std::{
    path::Path,
    process::Command,
    thread::sleep,
    time::{
        Duration,
        Instant, //
    },
};

/// How long a struct_ops map may take to be freed, and so to drop its module reference, after its
/// last fd and link are gone: the kernel frees it after RCU grace periods, which are slow under
/// TCG on a loaded machine.
pub(crate) const UNLOAD_TIMEOUT: Duration = Duration::from_secs(30);

fn run(cmd: &str, args: &[&str]) -> Result<(), String> {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {cmd}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Whether module `name` is loaded.
pub(crate) fn is_loaded(name: &str) -> bool {
    Path::new("/sys/module").join(name).exists()
}

/// Loads the module at `ko` (path) unless a module `name` is loaded already.
pub(crate) fn ensure_loaded(ko: &Path, name: &str) -> Result<(), String> {
    if is_loaded(name) {
        return Ok(());
    }
    run("insmod", &[&ko.to_string_lossy()])
}

/// Loads the module at `ko`, failing if that fails.
pub(crate) fn insmod(ko: &Path) -> Result<(), String> {
    insmod_args(ko, &[])
}

/// Loads the module at `ko` with module parameters `args` (`name=value`).
pub(crate) fn insmod_args(ko: &Path, args: &[&str]) -> Result<(), String> {
    let ko = ko.to_string_lossy();
    let mut all = vec![ko.as_ref()];
    all.extend_from_slice(args);
    run("insmod", &all)
}

/// Whether an [`rmmod`] error says the module is in use: rmmod's own check of the reference
/// count ("is in use"), or the kernel's (`delete_module()` fails with `EWOULDBLOCK`, "Resource
/// temporarily unavailable", when a reference was taken between that check and the call).
pub(crate) fn in_use(err: &str) -> bool {
    err.contains("in use") || err.contains("Resource temporarily unavailable")
}

/// Unloads `name` once.
pub(crate) fn rmmod(name: &str) -> Result<(), String> {
    run("rmmod", &[name])
}

/// Unloads `name`, retrying while it is in use for up to `timeout`: a struct_ops map drops its
/// module reference when it is freed, which the kernel does asynchronously after the last fd and
/// link are gone.
pub(crate) fn rmmod_wait(name: &str, timeout: Duration) -> Result<(), String> {
    let start = Instant::now();
    loop {
        match rmmod(name) {
            Ok(()) => return Ok(()),
            Err(e) if start.elapsed() < timeout && in_use(&e) => sleep(Duration::from_millis(50)),
            Err(e) => return Err(e),
        }
    }
}
