// SPDX-License-Identifier: GPL-2.0

//! What a stress test counts, and the row of `make stress`'s summary table it prints.

use crate::{
    ctx::Ctx,
    harness::{
        ensure,
        ensure_eq,
        TestResult, //
    },
};
use std::{
    collections::BTreeMap,
    sync::{
        atomic::{
            AtomicU64,
            Ordering::Relaxed, //
        },
        Mutex, //
    },
    time::Duration,
};

/// What a stress test counts.
#[derive(Default)]
pub(crate) struct Tally {
    pub(crate) iterations: AtomicU64,
    pub(crate) calls: AtomicU64,
    pub(crate) lost: AtomicU64,
    pub(crate) kills: AtomicU64,
    pub(crate) cycles: AtomicU64,
    pub(crate) errors: Mutex<BTreeMap<String, u64>>,
}

impl Tally {
    pub(crate) fn error(&self, kind: String) {
        if let Ok(mut e) = self.errors.lock() {
            *e.entry(kind).or_default() += 1;
        }
    }

    /// Prints the summary row; fails on lost calls or errors.
    pub(crate) fn finish(&self, name: &str, took: Duration) -> TestResult {
        let errors = self.errors.lock().map(|e| e.clone()).unwrap_or_default();
        let n: u64 = errors.values().sum();
        println!(
            "# {:<20} {:>6} iterations {:>6.1} s {:>7} calls {:>3} lost {:>3} errors {:>3} kills {:>4} cycles {}",
            name,
            self.iterations.load(Relaxed),
            took.as_secs_f64(),
            self.calls.load(Relaxed),
            self.lost.load(Relaxed),
            n,
            self.kills.load(Relaxed),
            self.cycles.load(Relaxed),
            if errors.is_empty() { String::new() } else { format!("{errors:?}") },
        );
        ensure_eq("lost calls", self.lost.load(Relaxed), 0)?;
        ensure(errors.is_empty(), || format!("errors by kind: {errors:?}"))
    }
}

/// How long each stress test runs: bounded in `make check` (`bounded` seconds), 30 s in
/// `make stress`.
pub(crate) fn duration(ctx: &Ctx, bounded: u64) -> Duration {
    Duration::from_secs(if ctx.full { 30 } else { bounded })
}
