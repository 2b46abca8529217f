// SPDX-License-Identifier: GPL-2.0

//! Op calls through the Rust layer and the C twin, and the floors (a direct and an indirect
//! call of a native function); and link create and destroy. Each in two views: timed, and
//! counted in instructions ([`View`]).

use super::{
    errno,
    insns,
    Params,
    Results,
    INSN_LOOPS,
    INSN_SAMPLES, //
};
use crate::{
    bpf::attach,
    fuse::{
        self,
        BenchDev,
        C_DEV,
        DEV, //
    },
};
use libbpf_rs::Object;
use std::time::Instant;

/// How a run measures, and where its figures go.
pub(super) struct View {
    /// Counted in instructions ([`insns`]), or timed.
    counted: bool,
    calls: &'static str,
    attach: &'static str,
    ratios: &'static str,
    call_unit: &'static str,
    cycle_unit: &'static str,
}

/// Time: ns per call, us per attach or detach.
pub(super) const TIMED: View = View {
    counted: false,
    calls: "calls",
    attach: "attach",
    ratios: "ratios",
    call_unit: "ns/call",
    cycle_unit: "us",
};

/// Instructions per call, per attach, per detach: exact.
pub(super) const COUNTED: View = View {
    counted: true,
    calls: "instructions",
    attach: "instructions",
    ratios: "instruction ratios",
    call_unit: "insns/call",
    cycle_unit: "insns",
};

/// One op call of `kind` on `dev`: ns (the mean of a loop of `p.loops`) or instructions (the
/// fixed cost of the loop cancelled, see [`insns::per_iter`]).
fn per_call(view: &View, p: &Params, dev: &BenchDev, kind: u32) -> Result<f64, String> {
    let run = |n| dev.run("bench", kind, n).map_err(errno("bench"));
    if view.counted {
        insns::per_iter(INSN_SAMPLES, INSN_LOOPS, |n| run(n).map(drop))
    } else {
        let (ns, _) = run(p.loops)?;
        Ok(ns as f64 / f64::from(p.loops))
    }
}

fn ratio(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x / y).collect()
}

/// Op calls through the four paths at 0, 2 and 5 arguments, and their ratios, each repetition
/// side by side.
pub(super) fn calls(view: &View, p: &Params, r: &mut Results) -> Result<(), String> {
    let rust_dev = BenchDev::open(DEV).map_err(errno(DEV))?;
    let c_dev = BenchDev::open(C_DEV).map_err(errno(C_DEV))?;
    for args in [0u32, 2, 5] {
        let (mut rust, mut c, mut ind, mut dir) = (vec![], vec![], vec![], vec![]);
        // Warm up: the trampolines, the caches.
        per_call(view, p, &rust_dev, args)?;
        per_call(view, p, &c_dev, args)?;
        for _ in 0..p.reps {
            rust.push(per_call(view, p, &rust_dev, args)?);
            c.push(per_call(view, p, &c_dev, args)?);
            let indirect = fuse::RSO_FUSE_BENCH_INDIRECT0 + args;
            ind.push(per_call(view, p, &c_dev, indirect)?);
            let direct = fuse::RSO_FUSE_BENCH_DIRECT0 + args;
            dir.push(per_call(view, p, &c_dev, direct)?);
        }
        let (sec, unit) = (view.ratios, "x");
        r.push(sec, format!("Rust/C, {args} args"), unit, ratio(&rust, &c));
        r.push(
            sec,
            format!("Rust/indirect, {args} args"),
            unit,
            ratio(&rust, &ind),
        );
        r.push(
            sec,
            format!("C/indirect, {args} args"),
            unit,
            ratio(&c, &ind),
        );
        let (sec, unit) = (view.calls, view.call_unit);
        r.push(sec, format!("Rust layer, {args} args"), unit, rust);
        r.push(sec, format!("C twin, {args} args"), unit, c);
        r.push(sec, format!("indirect call, {args} args"), unit, ind);
        r.push(sec, format!("direct call, {args} args"), unit, dir);
    }
    Ok(())
}

/// One link create and destroy of `obj`'s map `bench`: us, or instructions (the syscall, and
/// libbpf's part in user space).
fn cycle(view: &View, obj: &mut Object) -> Result<(f64, f64), String> {
    if view.counted {
        let mut link = None;
        let a = insns::min_insns(1, || {
            link = Some(attach(obj, "bench")?.0);
            Ok(())
        })?;
        let d = insns::min_insns(1, || {
            drop(link.take());
            Ok(())
        })?;
        Ok((a as f64, d as f64))
    } else {
        let t = Instant::now();
        let (link, _) = attach(obj, "bench")?;
        let a = t.elapsed().as_secs_f64() * 1e6;
        let t = Instant::now();
        drop(link);
        Ok((a, t.elapsed().as_secs_f64() * 1e6))
    }
}

/// Link create and destroy of an already written map, Rust against C: per repetition, the mean
/// of `p.cycles` times, or the least of as many instruction counts (at least
/// [`INSN_SAMPLES`]).
pub(super) fn attach_detach(
    view: &View,
    p: &Params,
    r: &mut Results,
    rust: &mut Object,
    c: &mut Object,
) -> Result<(), String> {
    let cycles = |obj: &mut Object| -> Result<(f64, f64), String> {
        let n = if view.counted {
            p.cycles.max(INSN_SAMPLES)
        } else {
            p.cycles
        };
        let (mut a, mut d) = (Vec::new(), Vec::new());
        for _ in 0..n {
            let (x, y) = cycle(view, obj)?;
            a.push(x);
            d.push(y);
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let least = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
        Ok(if view.counted {
            (least(&a), least(&d))
        } else {
            (mean(&a), mean(&d))
        })
    };
    let (mut ra, mut rd, mut ca, mut cd) = (vec![], vec![], vec![], vec![]);
    for _ in 0..p.reps {
        let (a, d) = cycles(rust)?;
        ra.push(a);
        rd.push(d);
        let (a, d) = cycles(c)?;
        ca.push(a);
        cd.push(d);
    }
    r.push(view.ratios, "attach Rust/C".into(), "x", ratio(&ra, &ca));
    r.push(view.ratios, "detach Rust/C".into(), "x", ratio(&rd, &cd));
    let (sec, unit) = (view.attach, view.cycle_unit);
    r.push(sec, "attach, Rust layer".into(), unit, ra);
    r.push(sec, "attach, C twin".into(), unit, ca);
    r.push(sec, "detach, Rust layer".into(), unit, rd);
    r.push(sec, "detach, C twin".into(), unit, cd);
    Ok(())
}
