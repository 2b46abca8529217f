// SPDX-License-Identifier: GPL-2.0

//! Op calls through the Rust layer and the C twin, and the floors (a direct and an indirect
//! call of a native function); and link create and destroy: timed, and counted in instructions.

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

/// ns per call of an in-kernel loop.
fn per_call(dev: &str, kind: u32, loops: u32) -> Result<f64, String> {
    let (ns, _) = fuse::bench(dev, "bench", kind, loops).map_err(errno(dev))?;
    Ok(ns as f64 / f64::from(loops))
}

/// ns per op call, and its ratios, each repetition side by side.
pub(super) fn calls(p: &Params, r: &mut Results) -> Result<(), String> {
    for args in [0u32, 2, 5] {
        let kind = args;
        let (mut rust, mut c, mut ind, mut dir) = (vec![], vec![], vec![], vec![]);
        // Warm up: the trampolines, the caches.
        per_call(DEV, kind, p.loops)?;
        per_call(C_DEV, kind, p.loops)?;
        for _ in 0..p.reps {
            rust.push(per_call(DEV, kind, p.loops)?);
            c.push(per_call(C_DEV, kind, p.loops)?);
            ind.push(per_call(
                C_DEV,
                fuse::RSO_FUSE_BENCH_INDIRECT0 + args,
                p.loops,
            )?);
            dir.push(per_call(
                C_DEV,
                fuse::RSO_FUSE_BENCH_DIRECT0 + args,
                p.loops,
            )?);
        }
        let ratio = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x / y).collect();
        r.push(
            "ratios",
            format!("Rust/C, {args} args"),
            "x",
            ratio(&rust, &c),
        );
        r.push(
            "ratios",
            format!("Rust/indirect, {args} args"),
            "x",
            ratio(&rust, &ind),
        );
        r.push(
            "ratios",
            format!("C/indirect, {args} args"),
            "x",
            ratio(&c, &ind),
        );
        r.push("calls", format!("Rust layer, {args} args"), "ns/call", rust);
        r.push("calls", format!("C twin, {args} args"), "ns/call", c);
        r.push(
            "calls",
            format!("indirect call, {args} args"),
            "ns/call",
            ind,
        );
        r.push("calls", format!("direct call, {args} args"), "ns/call", dir);
    }
    Ok(())
}

/// link create and destroy of an already written map, Rust against C.
pub(super) fn attach_detach(
    p: &Params,
    r: &mut Results,
    rust: &mut Object,
    c: &mut Object,
) -> Result<(), String> {
    let cycle = |obj: &mut Object| -> Result<(f64, f64), String> {
        let (mut a, mut d) = (0.0, 0.0);
        for _ in 0..p.cycles {
            let t = Instant::now();
            let (link, _) = attach(obj, "bench")?;
            a += t.elapsed().as_secs_f64();
            let t = Instant::now();
            drop(link);
            d += t.elapsed().as_secs_f64();
        }
        let n = p.cycles as f64;
        Ok((a / n * 1e6, d / n * 1e6))
    };
    let (mut ra, mut rd, mut ca, mut cd) = (vec![], vec![], vec![], vec![]);
    for _ in 0..p.reps {
        let (a, d) = cycle(rust)?;
        ra.push(a);
        rd.push(d);
        let (a, d) = cycle(c)?;
        ca.push(a);
        cd.push(d);
    }
    let ratio = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x / y).collect();
    r.push("ratios", "attach Rust/C".into(), "x", ratio(&ra, &ca));
    r.push("ratios", "detach Rust/C".into(), "x", ratio(&rd, &cd));
    r.push("attach", "attach, Rust layer".into(), "us", ra);
    r.push("attach", "attach, C twin".into(), "us", ca);
    r.push("attach", "detach, Rust layer".into(), "us", rd);
    r.push("attach", "detach, C twin".into(), "us", cd);
    Ok(())
}

/// Instructions per op call, for the same four paths as [`calls`], each pass side by side.
pub(super) fn call_insns(p: &Params, r: &mut Results) -> Result<(), String> {
    let (rust_dev, c_dev) = (
        BenchDev::open(DEV).map_err(errno(DEV))?,
        BenchDev::open(C_DEV).map_err(errno(C_DEV))?,
    );
    let count = |dev: &BenchDev, kind: u32| {
        insns::per_iter(INSN_SAMPLES, INSN_LOOPS, |n| {
            dev.run("bench", kind, n).map(drop).map_err(errno("bench"))
        })
    };
    for args in [0u32, 2, 5] {
        let (mut rust, mut c, mut ind, mut dir) = (vec![], vec![], vec![], vec![]);
        for _ in 0..p.reps {
            rust.push(count(&rust_dev, args)?);
            c.push(count(&c_dev, args)?);
            ind.push(count(&c_dev, fuse::RSO_FUSE_BENCH_INDIRECT0 + args)?);
            dir.push(count(&c_dev, fuse::RSO_FUSE_BENCH_DIRECT0 + args)?);
        }
        let ratio = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x / y).collect();
        r.push(
            "instruction ratios",
            format!("Rust/C, {args} args"),
            "x",
            ratio(&rust, &c),
        );
        r.push(
            "instruction ratios",
            format!("Rust/indirect, {args} args"),
            "x",
            ratio(&rust, &ind),
        );
        let sec = "instructions";
        r.push(sec, format!("Rust layer, {args} args"), "insns/call", rust);
        r.push(sec, format!("C twin, {args} args"), "insns/call", c);
        r.push(
            sec,
            format!("indirect call, {args} args"),
            "insns/call",
            ind,
        );
        r.push(sec, format!("direct call, {args} args"), "insns/call", dir);
    }
    Ok(())
}

/// Instructions of a link create and a link destroy (the syscall, and libbpf's part in user
/// space), Rust against C: the least of `cycles` in each pass.
pub(super) fn attach_detach_insns(
    p: &Params,
    r: &mut Results,
    rust: &mut Object,
    c: &mut Object,
) -> Result<(), String> {
    let cycle = |obj: &mut Object| -> Result<(f64, f64), String> {
        let (mut a, mut d) = (u64::MAX, u64::MAX);
        for _ in 0..p.cycles.max(INSN_SAMPLES) {
            let mut link = None;
            a = a.min(insns::min_insns(1, || {
                link = Some(attach(obj, "bench")?.0);
                Ok(())
            })?);
            d = d.min(insns::min_insns(1, || {
                drop(link.take());
                Ok(())
            })?);
        }
        Ok((a as f64, d as f64))
    };
    let (mut ra, mut rd, mut ca, mut cd) = (vec![], vec![], vec![], vec![]);
    for _ in 0..p.reps {
        let (a, d) = cycle(rust)?;
        ra.push(a);
        rd.push(d);
        let (a, d) = cycle(c)?;
        ca.push(a);
        cd.push(d);
    }
    let ratio = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x / y).collect();
    let sec = "instruction ratios";
    r.push(sec, "attach Rust/C".into(), "x", ratio(&ra, &ca));
    r.push(sec, "detach Rust/C".into(), "x", ratio(&rd, &cd));
    let sec = "instructions";
    r.push(sec, "attach, Rust layer".into(), "insns", ra);
    r.push(sec, "attach, C twin".into(), "insns", ca);
    r.push(sec, "detach, Rust layer".into(), "insns", rd);
    r.push(sec, "detach, C twin".into(), "insns", cd);
    Ok(())
}
