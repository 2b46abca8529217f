// SPDX-License-Identifier: GPL-2.0

//! The rust-struct-ops selftests. Runs inside the test VM as root (see `scripts/vm.sh`).
//!
//! ```text
//! rso-selftests --top DIR --build DIR [--bpftool PATH] check [-t GLOB]...  # tests, KTAP
//! rso-selftests --top DIR --build DIR list [-t GLOB]...                    # their names
//! rso-selftests --top DIR --build DIR demo                                 # make run
//! rso-selftests --top DIR --build DIR fuse-demo                            # make fuse-demo
//! rso-selftests --top DIR --build DIR bench --out DIR                      # make bench
//! ```
//!
//! `check` also takes `--kernel kasan|gcc` (which of our test kernels this is), `--seed N` (the
//! seeded tests; default: the clock), `--shuffle` (a random order, from the seed) and `--full`
//! (`make stress`: full-scale stress tests).
//!
//! Tests live in `tests/`, one file per subject, each registered where it is defined.

mod bench;
mod bpf;
mod child;
mod ctx;
mod demo;
mod dev;
mod filter;
mod fuse;
mod fusefs;
mod harness;
mod hello;
mod klog;
mod kmod;
mod tally;
mod testmod;
mod tests;

use ctx::Ctx;
use std::path::PathBuf;

fn usage() -> ! {
    eprintln!(
        "usage: rso-selftests --top DIR --build DIR [--bpftool PATH] \
         [--kernel K] [--seed N] [--shuffle] [--full] \
         (check [-t GLOB]... | list [-t GLOB]... | demo | fuse-demo | bench --out DIR)"
    );
    std::process::exit(2);
}

/// Prints `error: e` and fails.
fn fail(e: String) -> i32 {
    println!("error: {e}");
    1
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut top, mut build, mut cmd) = (None, None, None);
    let mut bpftool = PathBuf::from("bpftool");
    let mut filters = Vec::new();
    let (mut kernel, mut seed, mut full, mut shuffle) = (None, None, false, false);
    let mut out = None;
    let mut child_args = Vec::new();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--top" => top = args.next().map(PathBuf::from),
            "--build" => build = args.next().map(PathBuf::from),
            "--bpftool" => bpftool = args.next().map(PathBuf::from).unwrap_or_else(|| usage()),
            "-t" => filters.extend(
                args.next()
                    .unwrap_or_else(|| usage())
                    .split([',', ' '])
                    .filter(|f| !f.is_empty())
                    .map(str::to_owned),
            ),
            "--kernel" => kernel = args.next(),
            "--seed" => seed = args.next().and_then(|s| s.parse().ok()).or_else(|| usage()),
            "--full" => full = true,
            "--shuffle" => shuffle = true,
            "--out" => out = args.next().map(PathBuf::from),
            "check" | "list" | "demo" | "fuse-demo" | "bench" => cmd = Some(a),
            m if child::MODES.contains(&m) => {
                cmd = Some(a);
                // A child mode takes the rest as its own arguments.
                child_args.extend(args.by_ref());
            }
            _ => usage(),
        }
    }
    let (Some(top), Some(build), Some(cmd)) = (top, build, cmd) else {
        usage()
    };
    bpf::log::install();
    if child::MODES.contains(&cmd.as_str()) {
        std::process::exit(child::run(&cmd, &child_args, &build).map_or_else(fail, |()| 0));
    }
    let mut ctx = Ctx::new(top, build, bpftool);
    ctx.kernel = kernel;
    ctx.full = full;
    ctx.seed = seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
    });
    let code = match cmd.as_str() {
        "demo" => demo::demo(&ctx).map_or_else(fail, |()| 0),
        "fuse-demo" => demo::fuse_demo(&ctx).map_or_else(fail, |()| 0),
        "bench" => match out {
            Some(out) => bench::main(&ctx, &out).map_or_else(fail, |()| 0),
            None => usage(),
        },
        _ => match harness::cases(&ctx, tests::SUBJECTS) {
            Err(e) => fail(e),
            Ok(all) => {
                let mut cases = harness::select(all, &filters);
                if shuffle && cmd == "check" {
                    println!(
                        "# shuffled with seed {0}: make check SHUFFLE=1 SEED={0} replays it",
                        ctx.seed
                    );
                    harness::shuffle(&mut cases, ctx.seed);
                }
                if cases.is_empty() {
                    fail(format!("no test matches {}", filters.join(" ")))
                } else if cmd == "list" {
                    cases.iter().for_each(|c| println!("{}", c.name));
                    0
                } else if let Err(e) = klog::start(ctx.ours()) {
                    fail(e)
                } else {
                    i32::from(harness::run(&mut ctx, &cases) != 0)
                }
            }
        },
    };
    std::process::exit(code);
}
