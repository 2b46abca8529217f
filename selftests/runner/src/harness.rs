// SPDX-License-Identifier: GPL-2.0

//! The test harness: tests registered with [`test!`](crate::test) where they are defined, the
//! modules each needs, a cleanup that runs even when the test fails, a kernel-log check after
//! each test, name filters, an optional shuffled order, and KTAP output with each point's time,
//! the slowest points and the kselftest totals line.
//!
//! Isolation is structural: before each test the harness brings the set of loaded modules (of
//! those this repository builds) to exactly the test's `needs`, unloading the others. A test that
//! relied on another's leftovers fails when run alone or in another order.

use crate::{
    ctx::Rng,
    klog,
    kmod,
    Ctx, //
};
use std::{
    io::Write,
    time::{
        Duration,
        Instant, //
    },
};

/// What a test returns: `Ok` passes, `Err` fails with a message; [`skip`] skips.
pub(crate) type TestResult = Result<(), String>;

/// A test registered with [`test!`](crate::test).
pub(crate) struct Test {
    /// The test's name: its function's name.
    pub(crate) name: &'static str,
    /// `module_path!()` and `line!()` of the registration: the order of the run.
    pub(crate) module: &'static str,
    pub(crate) line: u32,
    /// The modules loaded when the test starts: exactly these (of the modules this repository
    /// builds); the harness unloads the others.
    pub(crate) needs: &'static [&'static str],
    pub(crate) kind: Kind,
    /// Runs after the test, whether it passed or not.
    pub(crate) cleanup: Option<fn(&mut Ctx)>,
}

/// What a registration holds.
pub(crate) enum Kind {
    /// One test point.
    Test(fn(&mut Ctx) -> TestResult),
    /// A generator of test points (one per BPF program, say), made from the built files.
    Cases(fn(&Ctx) -> Result<Vec<Case>, String>),
}

/// One KTAP point.
pub(crate) struct Case {
    pub(crate) name: String,
    /// Runs after every other point, shuffled or not (the subject `log`).
    pub(crate) last: bool,
    pub(crate) needs: &'static [&'static str],
    pub(crate) run: Box<dyn Fn(&mut Ctx) -> TestResult>,
    pub(crate) cleanup: Option<fn(&mut Ctx)>,
}

/// Every registered test, in no particular order (see [`cases`]).
#[linkme::distributed_slice]
pub(crate) static TESTS: [Test];

/// Registers the test function `$name` (`fn(&mut Ctx) -> TestResult`) under its own name.
///
/// ```ignore
/// test!(module_load, needs: [HELLO], cleanup: unload_hello);
/// fn module_load(ctx: &mut Ctx) -> TestResult { ... }
/// ```
///
/// `cases:` instead registers a generator `fn(&Ctx) -> Result<Vec<Case>, String>` whose points
/// take its place in the run.
#[macro_export]
macro_rules! test {
    ($name:ident $(, needs: [$($m:expr),* $(,)?])? $(, cleanup: $c:path)? $(,)?) => {
        $crate::test!(@reg stringify!($name), Test($name), [$($($m),*)?] $(, $c)?);
    };
    (cases: $gen:ident) => {
        $crate::test!(@reg stringify!($gen), Cases($gen), []);
    };
    (@reg $name:expr, $kind:ident($f:ident), [$($m:expr),*] $(, $c:path)?) => {
        const _: () = {
            #[linkme::distributed_slice($crate::harness::TESTS)]
            static T: $crate::harness::Test = $crate::harness::Test {
                name: $name,
                module: module_path!(),
                line: line!(),
                needs: &[$($m),*],
                kind: $crate::harness::Kind::$kind($f),
                cleanup: $crate::test!(@cleanup $($c)?),
            };
        };
    };
    (@cleanup) => { None };
    (@cleanup $c:path) => { Some($c) };
}

/// The prefix of a [`TestResult`] error that skips the test instead of failing it.
const SKIP: &str = "\u{0}SKIP ";

/// Skips the test with `reason` (KTAP `# SKIP reason`): return it as the test's error.
pub(crate) fn skip(reason: &str) -> String {
    format!("{SKIP}{reason}")
}

/// Every test point, in the order of `subjects` (the test files), then of registration in
/// each file.
pub(crate) fn cases(ctx: &Ctx, subjects: &[&str]) -> Result<Vec<Case>, String> {
    let rank = |t: &Test| {
        let file = t.module.rsplit("::").next().unwrap_or_default();
        let r = subjects.iter().position(|s| *s == file);
        (r.unwrap_or(subjects.len()), t.line)
    };
    let mut tests: Vec<&Test> = TESTS.iter().collect();
    tests.sort_by_key(|t| rank(t));
    let mut out = Vec::new();
    for t in tests {
        match t.kind {
            Kind::Cases(gen) => out.extend(gen(ctx).map_err(|e| format!("{}: {e}", t.name))?),
            Kind::Test(run) => out.push(Case {
                name: t.name.to_string(),
                last: t.module.ends_with("::log"),
                needs: t.needs,
                run: Box::new(run),
                cleanup: t.cleanup,
            }),
        }
    }
    let mut names: Vec<&str> = out.iter().map(|c| c.name.as_str()).collect();
    names.sort_unstable();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        return Err(format!("two tests are named {}", w[0]));
    }
    Ok(out)
}

/// Whether `name` matches the shell-style `glob` (`*`, `?`).
pub(crate) fn glob(glob: &str, name: &str) -> bool {
    fn m(g: &[u8], n: &[u8]) -> bool {
        match (g.first(), n.first()) {
            (None, None) => true,
            (Some(b'*'), _) => m(&g[1..], n) || (!n.is_empty() && m(g, &n[1..])),
            (Some(b'?'), Some(_)) => m(&g[1..], &n[1..]),
            (Some(a), Some(b)) if a == b => m(&g[1..], &n[1..]),
            _ => false,
        }
    }
    m(glob.as_bytes(), name.as_bytes())
}

/// Keeps the cases matching any of `filters` (all of them if there is none).
pub(crate) fn select(cases: Vec<Case>, filters: &[String]) -> Vec<Case> {
    cases
        .into_iter()
        .filter(|c| filters.is_empty() || filters.iter().any(|f| glob(f, &c.name)))
        .collect()
}

/// Shuffles `cases` with a generator seeded by `seed` (Fisher-Yates), keeping the subject `log`
/// (the whole run's kernel-log check) last. The same seed gives the same order.
pub(crate) fn shuffle(cases: &mut [Case], seed: u64) {
    let last = cases.iter().filter(|c| c.last).count();
    let n = cases.len() - last;
    cases.sort_by_key(|c| c.last);
    let mut rng = Rng::new(seed);
    for i in (1..n).rev() {
        cases.swap(i, rng.below(i as u64 + 1) as usize);
    }
}

/// Brings the loaded modules of this repository to exactly `needs`: unloads the others (waiting
/// for maps being freed to let go of them), then loads what is missing.
pub(crate) fn settle_modules(ctx: &Ctx, needs: &[&str]) -> Result<(), String> {
    let extra: Vec<String> = ctx
        .modules()
        .filter(|m| !needs.contains(m) && kmod::is_loaded(m))
        .map(str::to_owned)
        .collect();
    for m in extra {
        kmod::rmmod_wait(&m, kmod::UNLOAD_TIMEOUT)
            .map_err(|e| format!("before the test, unloading {m}, which it does not need: {e}"))?;
    }
    for m in needs {
        kmod::ensure_loaded(&ctx.ko(m)?, m)?;
    }
    Ok(())
}

fn run_one(ctx: &mut Ctx, c: &Case) -> TestResult {
    let mark = klog::mark()?;
    settle_modules(ctx, c.needs)?;
    let res = (c.run)(ctx);
    if let Some(cleanup) = c.cleanup {
        cleanup(ctx);
    }
    res?;
    let bad = klog::bad_since(mark)?;
    let Some(first) = bad.first() else {
        return Ok(());
    };
    // The report around the first problem line: a splat's first line names it, the rest (the
    // locks, the stacks) says where it is.
    let log = klog::since(mark)?;
    let at = log.iter().position(|l| l == first).unwrap_or(0);
    let report = log
        .get(at..(at + SPLAT_LINES).min(log.len()))
        .unwrap_or(&[]);
    Err(format!(
        "the kernel logged:\n{}\nfrom the first of them on:\n{}",
        bad.join("\n"),
        report.join("\n")
    ))
}

/// How many lines of the kernel log a failed point shows from the first problem line on.
const SPLAT_LINES: usize = 80;

/// How many of the slowest points the run names at its end.
const SLOWEST: usize = 5;

/// Runs `cases` in order and prints KTAP, each point with its time (`# time: 1.23 s`, the
/// line before its result) and the slowest points at the end; returns the number of failures.
pub(crate) fn run(ctx: &mut Ctx, cases: &[Case]) -> usize {
    println!("TAP version 13");
    println!("1..{}", cases.len());
    let (mut pass, mut fail, mut skip) = (0, 0, 0);
    let mut times: Vec<(Duration, &str)> = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let _ = std::io::stdout().flush();
        let start = Instant::now();
        let res = run_one(ctx, c);
        let took = start.elapsed();
        times.push((took, &c.name));
        println!("# time: {:.2} s", took.as_secs_f64());
        match res {
            Ok(()) => {
                pass += 1;
                println!("ok {} {}", i + 1, c.name);
            }
            Err(msg) => match msg.strip_prefix(SKIP) {
                Some(reason) => {
                    skip += 1;
                    println!("ok {} {} # SKIP {reason}", i + 1, c.name);
                }
                None => {
                    fail += 1;
                    for line in msg.lines() {
                        println!("# {line}");
                    }
                    println!("not ok {} {}", i + 1, c.name);
                }
            },
        }
    }
    times.sort_by_key(|t| std::cmp::Reverse(t.0));
    let total: Duration = times.iter().map(|t| t.0).sum();
    println!(
        "# the {SLOWEST} slowest tests, of {:.1} s in all:",
        total.as_secs_f64()
    );
    for (t, name) in times.iter().take(SLOWEST) {
        println!("#   {:8.2} s  {name}", t.as_secs_f64());
    }
    println!("# Totals: pass:{pass} fail:{fail} xfail:0 xpass:0 skip:{skip} error:0");
    println!("{pass} passed, {fail} failed");
    let _ = std::io::stdout().flush();
    fail
}

/// Fails with `msg` unless `cond` holds.
pub(crate) fn ensure(cond: bool, msg: impl FnOnce() -> String) -> TestResult {
    if cond {
        Ok(())
    } else {
        Err(msg())
    }
}

/// Fails unless `got == want`, naming `what`.
pub(crate) fn ensure_eq<T: PartialEq + std::fmt::Debug>(what: &str, got: T, want: T) -> TestResult {
    ensure(got == want, || {
        format!("{what}: got {got:?}, want {want:?}")
    })
}
