// SPDX-License-Identifier: GPL-2.0

//! A KTAP printer: `TAP version 13`, a plan, one line per test, and the closing
//! `N passed, N failed` line.

use std::io::Write;

/// What a test returns: `Ok` passes, `Err` fails with a message.
pub type TestResult = Result<(), String>;

/// A test point.
pub struct Test<C> {
    pub name: &'static str,
    pub run: fn(&mut C) -> TestResult,
}

/// Runs `tests` in order on the shared context and prints KTAP; returns the number of failures.
pub fn run<C>(ctx: &mut C, tests: &[Test<C>]) -> usize {
    println!("TAP version 13");
    println!("1..{}", tests.len());
    let (mut passed, mut failed) = (0, 0);
    for (i, t) in tests.iter().enumerate() {
        let _ = std::io::stdout().flush();
        match (t.run)(ctx) {
            Ok(()) => {
                passed += 1;
                println!("ok {} {}", i + 1, t.name);
            }
            Err(msg) => {
                failed += 1;
                for line in msg.lines() {
                    println!("# {line}");
                }
                println!("not ok {} {}", i + 1, t.name);
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    let _ = std::io::stdout().flush();
    failed
}

/// Fails with `msg` unless `cond` holds.
pub fn ensure(cond: bool, msg: impl FnOnce() -> String) -> TestResult {
    if cond {
        Ok(())
    } else {
        Err(msg())
    }
}

/// Fails unless `got == want`, naming `what`.
pub fn ensure_eq<T: PartialEq + std::fmt::Debug>(what: &str, got: T, want: T) -> TestResult {
    ensure(got == want, || {
        format!("{what}: got {got:?}, want {want:?}")
    })
}
