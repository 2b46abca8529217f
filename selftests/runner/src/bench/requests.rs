// SPDX-License-Identifier: GPL-2.0

//! Requests per second and latency of the three paths of `rso_fuse`: the BPF cache answers in
//! the kernel, the backing store, the daemon.

use super::{
    errno,
    Params,
    Results, //
};
use crate::fuse::{
    Client,
    Daemon,
    Mode,
    DAEMON_NODE, //
};
use std::time::Instant;

/// The `q`-quantile of sorted `v`.
fn quantile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v[((v.len() - 1) as f64 * q).round() as usize]
}

/// requests per second and latency for three paths and 1 or 2 callers.
pub(super) fn requests(p: &Params, r: &mut Results) -> Result<(), String> {
    let daemon = Daemon::start("cache", Mode::Serve)?;
    let warm = Client::open().map_err(errno("open"))?;
    warm.getattr("cache", DAEMON_NODE)
        .map_err(errno("warm the cache"))?;
    type Req = fn(&Client) -> Result<(), i32>;
    let paths: [(&str, Req); 3] = [
        ("BPF answers", |c| c.getattr("cache", DAEMON_NODE).map(drop)),
        ("backing store", |c| c.lookup("policy", "hello").map(drop)),
        ("daemon", |c| c.lookup("cache", "daemon").map(drop)),
    ];
    let mut rps_by_path = Vec::new();
    for (path, req) in paths {
        for callers in [1usize, 2] {
            let (mut rps, mut p50, mut p99) = (vec![], vec![], vec![]);
            for _ in 0..p.reps {
                let start = Instant::now();
                let lats: Vec<Vec<f64>> = std::thread::scope(|s| {
                    let hs: Vec<_> = (0..callers)
                        .map(|_| {
                            s.spawn(|| -> Result<Vec<f64>, String> {
                                let c = Client::open().map_err(errno("open"))?;
                                let mut l = Vec::new();
                                while start.elapsed() < p.window {
                                    let t = Instant::now();
                                    req(&c).map_err(errno(path))?;
                                    l.push(t.elapsed().as_secs_f64() * 1e6);
                                }
                                Ok(l)
                            })
                        })
                        .collect();
                    hs.into_iter()
                        .map(|h| h.join().map_err(|_| "a caller panicked".to_string())?)
                        .collect::<Result<_, String>>()
                })?;
                let secs = start.elapsed().as_secs_f64();
                let mut all: Vec<f64> = lats.into_iter().flatten().collect();
                all.sort_by(f64::total_cmp);
                rps.push(all.len() as f64 / secs);
                p50.push(quantile(&all, 0.5));
                p99.push(quantile(&all, 0.99));
            }
            if callers == 1 {
                rps_by_path.push(rps.clone());
            }
            r.push(
                "requests",
                format!("{path}, {callers} caller(s)"),
                "req/s",
                rps,
            );
            r.push(
                "latency",
                format!("{path}, {callers} caller(s), p50"),
                "us",
                p50,
            );
            r.push(
                "latency",
                format!("{path}, {callers} caller(s), p99"),
                "us",
                p99,
            );
        }
    }
    if let [bpf, _, user] = &rps_by_path[..] {
        let ratio = bpf.iter().zip(user).map(|(a, b)| a / b).collect();
        r.push(
            "ratios",
            "BPF answers/daemon req/s (1 caller)".into(),
            "x",
            ratio,
        );
    }
    daemon.stop()
}
