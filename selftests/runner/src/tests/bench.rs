// SPDX-License-Identifier: GPL-2.0

//! `bench_smoke`: a shortened `make bench`, to show that it works (no time thresholds).

use crate::{
    bench::{self, Params},
    ctx::{
        Ctx,
        FUSE,
        FUSE_C, //
    },
    harness::{
        ensure,
        TestResult, //
    },
    test,
};

test!(bench_smoke, needs: [FUSE, FUSE_C]);
fn bench_smoke(ctx: &mut Ctx) -> TestResult {
    let r = bench::run(ctx, &Params::SMOKE)?;
    for line in r.table().lines() {
        println!("# {line}");
    }
    for f in &r.figures {
        ensure(!f.values.is_empty(), || format!("{}: no value", f.name))?;
        for v in &f.values {
            ensure(v.is_finite() && *v > 0.0, || format!("{}: {v}", f.name))?;
        }
    }
    for section in ["calls", "ratios", "attach", "lookup", "requests", "latency"] {
        ensure(r.figures.iter().any(|f| f.section == section), || {
            format!("no {section} figure")
        })?;
    }
    // The JSON the plot reads: every figure, with its raw values.
    let json = r.json(&bench::meta(ctx));
    let dir = std::env::temp_dir().join("rso-bench-smoke");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("bench.json"), &json).map_err(|e| e.to_string())?;
    ensure(
        json.matches("\"section\"").count() == r.figures.len(),
        || "the JSON lacks figures".into(),
    )?;
    // The plot and the CSV, from that JSON, as `make bench` draws them.
    let python = ctx
        .python
        .clone()
        .ok_or("no --python: the plot cannot be drawn")?;
    let out = std::process::Command::new(python)
        .arg(ctx.top.join("scripts/plot_bench.py"))
        .arg(dir.join("bench.json"))
        .output()
        .map_err(|e| format!("plot_bench.py: {e}"))?;
    ensure(out.status.success(), || {
        format!("plot_bench.py: {}", String::from_utf8_lossy(&out.stderr))
    })?;
    for f in ["bench.png", "bench.csv"] {
        let len = std::fs::metadata(dir.join(f)).map_or(0, |m| m.len());
        ensure(len > 0, || format!("plot_bench.py wrote no {f}"))?;
    }
    Ok(())
}
