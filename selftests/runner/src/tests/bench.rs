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
    // The JSON the plot reads: every figure, with its raw values. (The plot itself is
    // `make bench`'s: matplotlib under the emulated KASAN kernel takes longer than the whole
    // run, and a VM that may write the host's files boots that kernel too slowly.)
    let json = r.json(&bench::meta(ctx));
    ensure(
        json.matches("\"section\"").count() == r.figures.len(),
        || "the JSON lacks figures".into(),
    )?;
    let path = std::env::temp_dir().join("rso-bench-smoke.json");
    std::fs::write(&path, &json).map_err(|e| format!("{}: {e}", path.display()))?;
    let back = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
    ensure(back == json, || "the JSON did not survive a write".into())
}
