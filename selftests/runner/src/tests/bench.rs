// SPDX-License-Identifier: GPL-2.0

//! `bench_smoke`: a shortened `make bench`, to show that it works, and the guard on the call
//! path's cost. The guard counts instructions, which do not vary (never seconds): through the
//! Rust layer an op call may run at most 2% more instructions than through the C twin, and at
//! most 4 more (on the KASAN kernel a call runs about 820 instructions, of which 2% would let
//! 16 pass); the lookup of a connection's instance at the most instances at most 20% more than
//! at one.

use crate::{
    bench::{
        self,
        insns,
        Params,
        Results, //
    },
    ctx::{
        Ctx,
        FUSE,
        FUSE_C, //
    },
    harness::{
        ensure,
        skip,
        TestResult, //
    },
    test,
};

/// Rust ≤ C × this, per op call.
const RUST_OVER_C: f64 = 1.02;
/// Rust ≤ C + this, per op call (instructions).
const RUST_MINUS_C: f64 = 4.0;
/// Lookup at the most instances ≤ lookup at one × this.
const LOOKUP_MOST_OVER_ONE: f64 = 1.2;

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
    ensure(back == json, || "the JSON did not survive a write".into())?;
    if !insns::requested() {
        return Err(skip(
            "the instruction guard: the VM does not count instructions (no QEMU plugin)",
        ));
    }
    guard(&r)
}

/// The guard on instruction counts (present: `bench::run` counts them in a VM that counts
/// instructions, and fails if the counter is not exact).
fn guard(r: &Results) -> TestResult {
    let fig = |name: &str| {
        r.get("instruction ratios", name)
            .ok_or_else(|| format!("no instruction ratio \"{name}\""))
    };
    let count = |name: &str| {
        r.get("instructions", name)
            .ok_or_else(|| format!("no instruction count \"{name}\""))
    };
    for args in [0, 2, 5] {
        let rust = count(&format!("Rust layer, {args} args"))?;
        let c = count(&format!("C twin, {args} args"))?;
        let more = rust.max() - c.min();
        ensure(more <= RUST_MINUS_C, || {
            format!(
                "an op call with {args} args runs {more} more instructions through the Rust layer \
                 than through the C twin (at most {RUST_MINUS_C}): {:?} against {:?}",
                rust.values, c.values
            )
        })?;
        let f = fig(&format!("Rust/C, {args} args"))?;
        ensure(f.max() <= RUST_OVER_C, || {
            format!(
                "an op call with {args} args runs {:.4}x the C twin's instructions through the \
                 Rust layer (at most {RUST_OVER_C}x): {:?}",
                f.max(),
                f.values
            )
        })?;
    }
    let f = fig("lookup most/fewest")?;
    ensure(f.max() <= LOOKUP_MOST_OVER_ONE, || {
        format!(
            "a lookup at the most instances runs {:.4}x the instructions of one at one instance \
             (at most {LOOKUP_MOST_OVER_ONE}x): {:?}",
            f.max(),
            f.values
        )
    })
}
