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
pub(crate) const FUSE: &str = "rso_fuse";
pub(crate) const FUSE_C: &str = "rso_fuse_c";
/// Every module above: the `needs` of a test that wants them all.
pub(crate) const ALL: &[&str] = &[HELLO, FILTER, TESTMOD, FUSE, FUSE_C];

/// What the tests share.
pub(crate) struct Ctx {
    pub(crate) top: PathBuf,
    pub(crate) build: PathBuf,
    pub(crate) bpftool: PathBuf,
    /// The kernel `make` says this is (`--kernel`: kasan or gcc, our own builds; debian,
    /// Debian's own), if `make` chose it (not a user's `KDIR`).
    pub(crate) kernel: Option<String>,
    /// The seed of the seeded tests (`--seed`, or the clock).
    pub(crate) seed: u64,
    /// `make stress`: the stress tests at full scale, not the bounded version of `make check`.
    pub(crate) full: bool,
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
            kernel: None,
            seed: 0,
            full: false,
            modules,
        }
    }

    /// Whether the kernel is one of our own builds, which carry `kernel/patches/` and every
    /// detector the tests rely on (KASAN on the kasan kernel, kmemleak, lockdep).
    pub(crate) fn ours(&self) -> bool {
        matches!(self.kernel.as_deref(), Some("kasan" | "gcc"))
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
        self.child("hold-link")
    }

    /// This runner as a child in mode `mode` (see `child.rs`).
    pub(crate) fn child(&self, mode: &str) -> Result<Command, String> {
        let me = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut cmd = Command::new(me);
        cmd.arg("--top")
            .arg(&self.top)
            .arg("--build")
            .arg(&self.build)
            .arg(mode);
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

pub(crate) use crate::klog::dmesg;

/// A small seeded generator (xorshift64*), so that a failing seed can be replayed.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value below `n` (`n` > 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}
