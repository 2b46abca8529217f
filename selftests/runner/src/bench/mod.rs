// SPDX-License-Identifier: GPL-2.0

//! `make bench`: what the fast path buys and what the Rust layer costs, measured side by side in
//! one run (see the README). Two views:
//!
//! - exact: instructions per op call through the Rust layer (`rso_fuse`), its C twin
//!   (`rso_fuse_c`), an indirect and a direct call of a native function, for 0, 2 and 5
//!   arguments; per attach and detach; per lookup of a connection's instance with 1 to 10,000
//!   attached instances. The VM counts them (a QEMU plugin, see [`insns`]); the same build
//!   gives the same counts.
//! - timed, each figure repeated and reported with its spread: the same figures in ns, and
//!   requests per second and p50/p99 latency for three paths (the BPF cache answers in the
//!   kernel, the backing store, the daemon) with 1 and 2 concurrent callers.
//!
//! It prints a table and writes `bench.json` (every repetition's raw figure) into `--out`.
//!
//! - `calls.rs`: op calls and the floors; attach and detach;
//! - `lookup.rs`: the lookup, with many attached instances;
//! - `requests.rs`: the request paths;
//! - `insns.rs`: the instruction counter;
//! - `results.rs`: the figures, the table, the JSON.

mod calls;
mod fusereal;
pub(crate) mod insns;
mod lookup;
mod requests;
mod results;

pub(crate) use results::Results;

use crate::{
    bpf::{
        attach,
        load, //
    },
    ctx::Ctx,
};
use libbpf_rs::{
    Link,
    Object, //
};
use std::{
    path::Path,
    time::Duration, //
};

/// Iterations of an in-kernel loop counted in instructions ([`insns::per_iter`] also runs twice
/// as many).
const INSN_LOOPS: u32 = 100;
/// Tries of each count, of which the least is taken (one no interrupt landed in).
const INSN_SAMPLES: usize = 9;

/// How big a run is.
pub(crate) struct Params {
    /// Repetitions of every figure.
    pub(crate) reps: usize,
    /// Iterations of an in-kernel loop.
    pub(crate) loops: u32,
    /// Attach/detach cycles per repetition.
    pub(crate) cycles: usize,
    /// Attached instances at which the lookup is measured.
    pub(crate) instances: &'static [usize],
    /// How long each request-path measurement runs.
    pub(crate) window: Duration,
    /// Whether to measure real FUSE (`fusereal.rs`): `make bench` only.
    pub(crate) real_fuse: bool,
}

impl Params {
    pub(crate) const FULL: Params = Params {
        reps: 7,
        loops: 1_000_000,
        cycles: 50,
        instances: &[1, 100, 1_000, 10_000],
        window: Duration::from_secs(2),
        real_fuse: true,
    };
    pub(crate) const SMOKE: Params = Params {
        reps: 2,
        loops: 1_000,
        cycles: 3,
        // Past 32: rso_fuse's binding table grows twice (16, 32, 64 buckets), and the first
        // and the last name must still be found.
        instances: &[1, 40],
        window: Duration::from_millis(200),
        real_fuse: false,
    };
}

/// Runs the benchmark with every module loaded; returns what it measured. Instruction counts
/// are taken when the VM counts instructions ([`insns::arm`]).
pub(crate) fn run(ctx: &Ctx, p: &Params) -> Result<Results, String> {
    use crate::{
        ctx::{
            FUSE,
            FUSE_C, //
        },
        kmod,
    };
    for m in [FUSE, FUSE_C] {
        kmod::ensure_loaded(&ctx.ko(m)?, m)?;
    }
    // Counting slows the VM down: only this run counts.
    let armed = insns::arm()?;
    let exact = armed.is_some();
    if !exact {
        println!("# no instruction counts: the VM does not count instructions (no QEMU plugin)");
    }
    let mut rust = load(&ctx.obj("fuse_bench"))?;
    let mut c = load(&ctx.obj("fuse_c_bench"))?;
    let (_cache, _l1): (Object, Link) = {
        let mut o = load(&ctx.obj("fuse_cache"))?;
        let (l, _) = attach(&mut o, "cache")?;
        (o, l)
    };
    let (_policy, _l2): (Object, Link) = {
        let mut o = load(&ctx.obj("fuse_policy"))?;
        let (l, _) = attach(&mut o, "policy")?;
        (o, l)
    };
    let mut r = Results::default();
    let views: &[&calls::View] = if exact {
        &[&calls::COUNTED, &calls::TIMED]
    } else {
        &[&calls::TIMED]
    };
    {
        let (_lr, _) = attach(&mut rust, "bench")?;
        let (_lc, _) = attach(&mut c, "bench")?;
        for view in views {
            calls::calls(view, p, &mut r)?;
        }
    }
    for view in views {
        calls::attach_detach(view, p, &mut r, &mut rust, &mut c)?;
    }
    requests::requests(p, &mut r)?;
    lookup::lookups(p, &mut r, &rust, exact)?;
    if p.real_fuse {
        fusereal::real_fuse(ctx, p, &mut r)?;
    }
    Ok(r)
}

/// What the JSON says about where it ran.
pub(crate) fn meta(ctx: &Ctx) -> Vec<(&'static str, String)> {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let cpu = read("/proc/cpuinfo")
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    vec![
        (
            "kernel",
            read("/proc/sys/kernel/osrelease").trim().to_string(),
        ),
        (
            "kernel_config",
            ctx.kernel.clone().unwrap_or_else(|| "own".into()),
        ),
        (
            "accel",
            std::env::var("RSO_VM_ACCEL").unwrap_or_else(|_| "unknown".into()),
        ),
        (
            "instructions",
            if insns::requested() {
                "counted (QEMU plugin)"
            } else {
                "not counted"
            }
            .into(),
        ),
        ("guest_cpu", cpu),
        (
            "guest_cpus",
            std::thread::available_parallelism()
                .map_or(0, |n| n.get())
                .to_string(),
        ),
    ]
}

/// `make bench`: runs, prints the table, writes `bench.json` into `out`.
pub(crate) fn main(ctx: &Ctx, out: &Path) -> Result<(), String> {
    let r = run(ctx, &Params::FULL)?;
    print!("{}", r.table());
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let path = out.join("bench.json");
    std::fs::write(&path, r.json(&meta(ctx))).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("bench: wrote {}", path.display());
    Ok(())
}

pub(super) fn errno(what: &str) -> impl FnOnce(i32) -> String + '_ {
    move |e| format!("{what}: {}", std::io::Error::from_raw_os_error(e))
}
