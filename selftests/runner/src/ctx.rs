// SPDX-License-Identifier: GPL-2.0

//! What the tests share: where the repository, the build and bpftool are, and where each module
//! was built (from Kbuild's `modules.order`).

use std::{
    collections::BTreeMap,
    path::PathBuf,
    process::Command, //
};

pub(crate) const HELLO: &str = "rso_hello";
pub(crate) const FILTER: &str = "rso_filter";
pub(crate) const TESTMOD: &str = "rso_testmod";

/// What the tests share.
pub(crate) struct Ctx {
    pub(crate) top: PathBuf,
    pub(crate) build: PathBuf,
    pub(crate) bpftool: PathBuf,
    /// Module name to `.ko`, as `modules.order` lists them.
    modules: BTreeMap<String, PathBuf>,
}

impl Ctx {
    /// Reads `<top>/modules.order`, which Kbuild writes when it builds the modules (listing the
    /// tests needs no modules: without it, [`Ctx::ko`] fails).
    pub(crate) fn new(top: PathBuf, build: PathBuf, bpftool: PathBuf) -> Self {
        let text = std::fs::read_to_string(top.join("modules.order")).unwrap_or_default();
        let modules = text
            .lines()
            .filter_map(|l| {
                let ko = top.join(l.trim()).with_extension("ko");
                let name = ko.file_stem()?.to_str()?.to_string();
                Some((name, ko))
            })
            .collect();
        Ctx {
            top,
            build,
            bpftool,
            modules,
        }
    }

    /// The `.ko` of module `name`.
    pub(crate) fn ko(&self, name: &str) -> Result<PathBuf, String> {
        self.modules.get(name).cloned().ok_or_else(|| {
            format!("module {name} is not in modules.order (build the modules: make)")
        })
    }

    /// Every module this repository builds.
    pub(crate) fn modules(&self) -> impl Iterator<Item = &str> {
        self.modules.keys().map(String::as_str)
    }

    /// The BPF object `build/bpf/<name>.bpf.o`.
    pub(crate) fn obj(&self, name: &str) -> PathBuf {
        self.build.join("bpf").join(format!("{name}.bpf.o"))
    }

    /// This runner, as the `hold-link` child that attaches `hello_link` and waits.
    pub(crate) fn hold_link_child(&self) -> Result<Command, String> {
        let me = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut cmd = Command::new(me);
        cmd.arg("--top")
            .arg(&self.top)
            .arg("--build")
            .arg(&self.build)
            .arg("hold-link");
        Ok(cmd)
    }
}

/// A child process that is killed and reaped when dropped, whatever the test did with it.
pub(crate) struct KillOnDrop(pub(crate) std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Unloads module `name` if it is loaded: the cleanup of tests that load a module in a way later
/// tests must not inherit (another `.ko`, module parameters). The next test that needs it
/// loads it again.
pub(crate) fn unload(name: &str) {
    if crate::kmod::is_loaded(name) {
        let _ = crate::kmod::rmmod_wait(name, crate::kmod::UNLOAD_TIMEOUT);
    }
}

/// Reads the kernel log.
pub(crate) fn dmesg() -> Result<String, String> {
    let out = Command::new("dmesg")
        .output()
        .map_err(|e| format!("dmesg: {e}"))?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
