// SPDX-License-Identifier: GPL-2.0

//! Stress: attach/detach and link updates while other threads and a timer call ops, unload
//! racing map creation, load/unload cycles, and processes killed mid-attach and mid-call. Bounded
//! in `make check`; `make stress` runs them at full scale. Each prints a row of the summary
//! table. A lost call, an unexpected errno or a splat (the harness checks the log) fails.

use crate::{
    bpf::{
        array_map,
        attach,
        errno_name,
        link_update_fd,
        link_update_map,
        load,
        log as libbpf_log,
        map_fd, //
    },
    ctx::{
        Ctx,
        KillOnDrop,
        Rng,
        ALL,
        FILTER,
        FUSE,
        FUSE_C,
        HELLO,
        TESTMOD, //
    },
    filter,
    harness::{
        ensure_eq,
        TestResult, //
    },
    hello,
    kmod::{
        self,
        UNLOAD_TIMEOUT, //
    },
    tally::{
        duration,
        Tally, //
    },
    test,
    testmod, //
};
use std::{
    io::{
        BufRead,
        BufReader, //
    },
    os::fd::{
        AsFd,
        AsRawFd, //
    },
    process::Stdio,
    sync::atomic::{
        AtomicBool,
        AtomicU64,
        Ordering::Relaxed, //
    },
    time::{
        Duration,
        Instant, //
    },
};

test!(stress_attach_detach, needs: [TESTMOD, FILTER]);
fn stress_attach_detach(ctx: &mut Ctx) -> TestResult {
    let t = Tally::default();
    let stop = AtomicBool::new(false);
    let start = Instant::now();
    let mut pinned = load(&ctx.obj("testmod"))?;
    let (_pin, pin) = attach(&mut pinned, "tm_ok")?;
    let mut fobj = load(&ctx.obj("filter"))?;
    let (flink, id_a) = attach(&mut fobj, "filter_a")?;
    // filter_b comes from a second object, loaded after 200 maps were made and closed: its id
    // is far from filter_a's, in another node of the registry's xarray, so a scan of the
    // registry takes longer to go from one slot to the other while a link update moves.
    for _ in 0..200 {
        drop(array_map());
    }
    let fobj_b = load(&ctx.obj("filter"))?;
    // libbpf writes filter_b's value on its first update; after that, raw updates switch maps.
    link_update_map(&flink, &fobj_b, "filter_b").map_err(errno_name)?;
    let id_b = filter::decide(3).map_err(errno_name)?.id;
    let (lfd, fa, fb) = (
        flink.as_fd().as_raw_fd(),
        map_fd(&fobj, "filter_a")?,
        map_fd(&fobj_b, "filter_b")?,
    );
    let path = ctx.obj("testmod");
    std::thread::scope(|s| {
        // Callers on the pinned instance: every call must return 2x.
        for k in 1..=2i64 {
            let (t, stop) = (&t, &stop);
            s.spawn(move || {
                while !stop.load(Relaxed) {
                    match testmod::call(pin, testmod::RSO_TESTMOD_OP_NOSLEEP, k) {
                        Ok((r, _)) if r == 2 * k => {}
                        Ok(r) => t.error(format!("nosleep({k}) = {r:?}")),
                        Err(e) => t.error(format!("nosleep: {}", errno_name(e))),
                    }
                    t.calls.fetch_add(1, Relaxed);
                }
            });
        }
        // A caller on any instance (the pinned one is always there), and the timer path.
        s.spawn(|| {
            while !stop.load(Relaxed) {
                if let Err(e) = testmod::call(0, testmod::RSO_TESTMOD_OP_NOSLEEP, 1) {
                    t.error(format!("any: {}", errno_name(e)));
                }
                match testmod::call(pin, testmod::RSO_TESTMOD_OP_TIMER, 20) {
                    Ok((n, _)) => t.lost.fetch_add(20 - n.clamp(0, 20) as u64, Relaxed),
                    Err(e) => {
                        t.error(format!("timer: {}", errno_name(e)));
                        0
                    }
                };
                t.calls.fetch_add(21, Relaxed);
            }
        });
        // Attach and detach another instance continuously.
        s.spawn(|| match load(&path) {
            Err(e) => t.error(e),
            Ok(mut obj) => {
                while !stop.load(Relaxed) {
                    match attach(&mut obj, "tm_ok") {
                        Ok(_) => t.cycles.fetch_add(1, Relaxed),
                        Err(e) => {
                            t.error(e);
                            break;
                        }
                    };
                }
            }
        });
        // Two threads switch one filter link between two maps; a third asks for verdicts.
        for new in [fa, fb] {
            let (t, stop) = (&t, &stop);
            s.spawn(move || {
                while !stop.load(Relaxed) {
                    if let Err(e) = link_update_fd(lfd, new, None) {
                        t.error(format!("link update: {}", errno_name(e)));
                    }
                    t.iterations.fetch_add(1, Relaxed);
                }
            });
        }
        // Two threads ask for verdicts of any instance: one of the two maps is always attached.
        for _ in 0..2 {
            s.spawn(|| {
                while !stop.load(Relaxed) {
                    match filter::decide(3) {
                        Ok(v)
                            if (v.id, v.verdict) == (id_a, 1) || (v.id, v.verdict) == (id_b, 0) => {
                        }
                        Ok(v) => t.error(format!("verdict {v:?}")),
                        Err(e) => t.error(format!("decide: {}", errno_name(e))),
                    }
                    t.calls.fetch_add(1, Relaxed);
                }
            });
        }
        // With first()'s retry removed, this misses about once every 2 s here.
        std::thread::sleep(duration(ctx, 10));
        stop.store(true, Relaxed);
    });
    println!("# filter maps {id_a} and {id_b}");
    t.finish("stress_attach_detach", start.elapsed())
}

test!(stress_unload_race, needs: [HELLO, FILTER, TESTMOD, FUSE, FUSE_C]);
/// Cycles every module ([`ALL`], which the test needs loaded), then races rmmod with map creation.
fn stress_unload_race(ctx: &mut Ctx) -> TestResult {
    let t = Tally::default();
    let start = Instant::now();
    // Load/unload cycles of each module.
    let cycles = if ctx.full { 100 } else { 10 };
    for &m in ALL {
        let ko = ctx.ko(m)?;
        for _ in 0..cycles {
            kmod::rmmod_wait(m, UNLOAD_TIMEOUT)?;
            kmod::insmod(&ko)?;
            t.cycles.fetch_add(1, Relaxed);
        }
    }
    ensure_eq("hello instances after the cycles", hello::count(), Ok(0))?;
    // rmmod attempts racing map creation: each attempt either unloads the module (then it is
    // loaded again) or finds it in use; each map creation either pins the module (then attach
    // and a call must work), finds no hello_ops in the kernel's BTF (unloaded), or is refused
    // with EINVAL because the module is on its way out.
    let stop = AtomicBool::new(false);
    let (absent, going) = (AtomicU64::new(0), AtomicU64::new(0));
    let ko = ctx.ko(HELLO)?;
    let path = ctx.obj("hello");
    std::thread::scope(|s| {
        s.spawn(|| {
            while !stop.load(Relaxed) {
                match kmod::rmmod(HELLO) {
                    Ok(()) => {
                        if let Err(e) = kmod::insmod(&ko) {
                            t.error(format!("insmod: {e}"));
                        }
                        t.cycles.fetch_add(1, Relaxed);
                    }
                    Err(e) if kmod::in_use(&e) => {}
                    Err(e) => t.error(format!("rmmod: {e}")),
                }
                t.iterations.fetch_add(1, Relaxed);
            }
        });
        s.spawn(|| {
            libbpf_log::take();
            while !stop.load(Relaxed) {
                match load(&path) {
                    Ok(mut obj) => match attach(&mut obj, "hello_link") {
                        Ok((_link, id)) => match hello::call(id, hello::RSO_HELLO_OP_ADD, 1, 2) {
                            Ok(r) if r.ret == 3 => {}
                            r => t.error(format!("add(1, 2) on a pinned module: {r:?}")),
                        },
                        Err(e) => t.error(e),
                    },
                    Err(e) => {
                        let log = libbpf_log::take();
                        if log.contains("hello_ops is not found in kernel BTF") {
                            absent.fetch_add(1, Relaxed);
                        } else if log.contains("map 'hello_link': failed to create: -EINVAL") {
                            // The module was on its way out: the kernel cannot pin it
                            // (btf_try_get_module() fails in bpf_struct_ops_map_alloc()).
                            going.fetch_add(1, Relaxed);
                        } else {
                            let last = log.lines().rfind(|l| !l.trim().is_empty());
                            t.error(format!("{e} ({})", last.unwrap_or("no libbpf log")));
                        }
                    }
                }
                t.calls.fetch_add(1, Relaxed);
            }
        });
        std::thread::sleep(duration(ctx, 3));
        stop.store(true, Relaxed);
    });
    println!(
        "# map creations that found rso_hello unloaded: {}, unloading (EINVAL): {}",
        absent.load(Relaxed),
        going.load(Relaxed)
    );
    kmod::ensure_loaded(&ko, HELLO)?;
    t.finish("stress_unload_race", start.elapsed())
}

test!(kill_mid_call, needs: [TESTMOD], cleanup: reload_testmod);
fn kill_mid_call(ctx: &mut Ctx) -> TestResult {
    let t = Tally::default();
    let start = Instant::now();
    let mut rng = Rng::new(ctx.seed);
    println!("# seed {}", ctx.seed);
    let rounds = if ctx.full { 60 } else { 8 };
    for round in 0..rounds {
        let mut kids = Vec::new();
        for _ in 0..2 {
            let child = ctx.child("churn")?.stdout(Stdio::piped()).spawn();
            kids.push(KillOnDrop(child.map_err(|e| format!("spawn churn: {e}"))?));
        }
        // Even rounds kill while the children load and attach; odd rounds once they are
        // attaching, detaching and calling in a loop.
        if round % 2 == 1 {
            for k in &mut kids {
                let out = k.0.stdout.take().ok_or("no stdout")?;
                let mut line = String::new();
                BufReader::new(out)
                    .read_line(&mut line)
                    .map_err(|e| e.to_string())?;
                ensure_eq("churn child", line.trim(), "ready")?;
            }
        }
        std::thread::sleep(Duration::from_millis(rng.below(200)));
        for k in &mut kids {
            if k.0.try_wait().map_err(|e| e.to_string())?.is_some() {
                t.error("a churn child exited by itself".into());
            }
        }
        t.kills.fetch_add(kids.len() as u64, Relaxed);
        drop(kids);
        t.iterations.fetch_add(1, Relaxed);
    }
    ensure_eq("instances after the kills", testmod::count(), Ok(0))?;
    // Every map of the killed processes is freed: the module unloads.
    kmod::rmmod_wait(TESTMOD, UNLOAD_TIMEOUT)?;
    t.finish("kill_mid_call", start.elapsed())
}

fn reload_testmod(ctx: &mut Ctx) {
    if let Ok(ko) = ctx.ko(TESTMOD) {
        let _ = kmod::ensure_loaded(&ko, TESTMOD);
    }
}
