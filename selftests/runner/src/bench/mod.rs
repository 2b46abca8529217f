// SPDX-License-Identifier: GPL-2.0

//! `make bench`: what the fast path buys and what the Rust layer costs, measured side by side in
//! one run, each figure repeated and reported with its spread (see the README).
//!
//! - ns per op call through the Rust layer (`rso_fuse`), its C twin (`rso_fuse_c`), an indirect
//!   call and a direct call of a native function, for 0, 2 and 5 arguments: loops in the kernel;
//! - attach and detach latency (link create, link destroy), Rust against C;
//! - the lookup of the instance bound to a connection with 1 to 10,000 attached instances;
//! - requests per second and p50/p99 latency for three paths (the BPF cache answers in the
//!   kernel, the backing store, the daemon) with 1 and 2 concurrent callers.
//!
//! It prints a table and writes `bench.json` (every repetition's raw figure) into `--out`.

use crate::{
    bpf::{
        attach,
        load,
        with_module_btf, //
    },
    ctx::Ctx,
    fuse::{
        self,
        Client,
        Daemon,
        Mode,
        C_DEV,
        DAEMON_NODE,
        DEV, //
    },
};
use libbpf_rs::{
    libbpf_sys,
    AsRawLibbpf,
    Link,
    MapCore,
    Object, //
};
use std::{
    ffi::CString,
    fmt::Write as _,
    os::fd::{
        AsFd,
        AsRawFd,
        FromRawFd,
        OwnedFd, //
    },
    path::Path,
    time::{
        Duration,
        Instant, //
    },
};

/// How big a run is.
pub(crate) struct Params {
    /// Repetitions of every figure.
    pub(crate) reps: usize,
    /// Iterations of an in-kernel loop.
    pub(crate) loops: u32,
    /// Attach/detach cycles per repetition.
    pub(crate) cycles: usize,
    /// Attached instances at which the lookup is measured.
    pub(crate) instances: &'static [usize],
    /// How long each request-path measurement runs.
    pub(crate) window: Duration,
}

impl Params {
    pub(crate) const FULL: Params = Params {
        reps: 7,
        loops: 1_000_000,
        cycles: 50,
        instances: &[1, 100, 1_000, 10_000],
        window: Duration::from_secs(2),
    };
    pub(crate) const SMOKE: Params = Params {
        reps: 2,
        loops: 1_000,
        cycles: 3,
        // Past 32: rso_fuse's binding table grows twice (16, 32, 64 buckets), and the first
        // and the last name must still be found.
        instances: &[1, 40],
        window: Duration::from_millis(200),
    };
}

/// One measured figure: its value in each repetition.
pub(crate) struct Figure {
    pub(crate) section: &'static str,
    pub(crate) name: String,
    pub(crate) unit: &'static str,
    pub(crate) values: Vec<f64>,
}

impl Figure {
    fn sorted(&self) -> Vec<f64> {
        let mut v = self.values.clone();
        v.sort_by(f64::total_cmp);
        v
    }

    pub(crate) fn median(&self) -> f64 {
        let v = self.sorted();
        if v.is_empty() {
            return f64::NAN;
        }
        if v.len() % 2 == 1 {
            v[v.len() / 2]
        } else {
            (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
        }
    }

    pub(crate) fn min(&self) -> f64 {
        self.sorted().first().copied().unwrap_or(f64::NAN)
    }

    pub(crate) fn max(&self) -> f64 {
        self.sorted().last().copied().unwrap_or(f64::NAN)
    }
}

/// Everything a run measured.
#[derive(Default)]
pub(crate) struct Results {
    pub(crate) figures: Vec<Figure>,
}

impl Results {
    fn push(&mut self, section: &'static str, name: String, unit: &'static str, values: Vec<f64>) {
        self.figures.push(Figure {
            section,
            name,
            unit,
            values,
        });
    }

    /// The sections, in the order they were first measured.
    pub(crate) fn sections(&self) -> Vec<&'static str> {
        let mut v: Vec<&'static str> = Vec::new();
        for f in &self.figures {
            if !v.contains(&f.section) {
                v.push(f.section);
            }
        }
        v
    }

    /// The table: one row per figure, median and spread (min..max) over the repetitions, by
    /// section.
    pub(crate) fn table(&self) -> String {
        let mut out = String::new();
        for section in self.sections() {
            let _ = writeln!(out, "\n{section}");
            let _ = writeln!(
                out,
                "  {:<40} {:>12} {:>12} {:>12}  unit",
                "figure", "median", "min", "max"
            );
            for f in self.figures.iter().filter(|f| f.section == section) {
                let _ = writeln!(
                    out,
                    "  {:<40} {:>12.3} {:>12.3} {:>12.3}  {}",
                    f.name,
                    f.median(),
                    f.min(),
                    f.max(),
                    f.unit
                );
            }
        }
        out
    }

    /// The raw figures as JSON.
    pub(crate) fn json(&self, meta: &[(&str, String)]) -> String {
        let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
        let mut out = String::from("{\n  \"meta\": {");
        let m: Vec<String> = meta
            .iter()
            .map(|(k, v)| format!("\"{}\": \"{}\"", esc(k), esc(v)))
            .collect();
        out.push_str(&m.join(", "));
        out.push_str("},\n  \"figures\": [\n");
        let rows: Vec<String> = self
            .figures
            .iter()
            .map(|f| {
                let vals: Vec<String> = f.values.iter().map(|v| format!("{v:.6}")).collect();
                format!(
                    "    {{\"section\": \"{}\", \"name\": \"{}\", \"unit\": \"{}\", \
                     \"median\": {:.6}, \"min\": {:.6}, \"max\": {:.6}, \"values\": [{}]}}",
                    esc(f.section),
                    esc(&f.name),
                    f.unit,
                    f.median(),
                    f.min(),
                    f.max(),
                    vals.join(", ")
                )
            })
            .collect();
        out.push_str(&rows.join(",\n"));
        out.push_str("\n  ]\n}\n");
        out
    }
}

fn errno(what: &str) -> impl FnOnce(i32) -> String + '_ {
    move |e| format!("{what}: {}", std::io::Error::from_raw_os_error(e))
}

/// ns per call of an in-kernel loop.
fn per_call(dev: &str, kind: u32, loops: u32) -> Result<f64, String> {
    let (ns, _) = fuse::bench(dev, "bench", kind, loops).map_err(errno(dev))?;
    Ok(ns as f64 / f64::from(loops))
}

/// Section 1: ns per op call, and its ratios, each repetition side by side.
fn calls(p: &Params, r: &mut Results) -> Result<(), String> {
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

/// Section 2: link create and destroy of an already written map, Rust against C.
fn attach_detach(
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

/// Many attached `fuse_ops` instances, each bound to its own connection `b<N>`, made from the
/// bench object's programs with plain map and link syscalls.
struct Instances {
    value: Vec<u8>,
    data_off: usize,
    create: libbpf_sys::bpf_map_create_opts,
    value_size: u32,
    /// The links; each holds its map.
    held: Vec<OwnedFd>,
    _btf: OwnedFd,
}

impl Instances {
    fn new(obj: &Object) -> Result<Self, String> {
        // One fd per link: 10,000 of them need more than the default limit of 1,024.
        let lim = libc::rlimit {
            rlim_cur: 65536,
            rlim_max: 65536,
        };
        // SAFETY: A plain setrlimit() call with a valid struct.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } != 0 {
            return Err(format!("setrlimit: {}", std::io::Error::last_os_error()));
        }
        let map = obj
            .maps()
            .find(|m| m.name() == "bench")
            .ok_or("no map bench")?;
        let info = map.info().map_err(|e| e.to_string())?.info;
        // SAFETY: A plain bpf() call.
        let btf_fd = unsafe { libbpf_sys::bpf_btf_get_fd_by_id(info.btf_vmlinux_id) };
        if btf_fd < 0 {
            return Err(format!("the module's BTF: errno {}", -btf_fd));
        }
        // SAFETY: A new fd nothing else owns.
        let btf = unsafe { OwnedFd::from_raw_fd(btf_fd) };
        let data_off = value_data_offset()?;
        // SAFETY: A live object; libbpf returns the fd of its loaded BTF, or a negative errno.
        let obj_btf = unsafe { libbpf_sys::bpf_object__btf_fd(obj.as_libbpf_object().as_ptr()) };
        if obj_btf < 0 {
            return Err(format!("the bench object's BTF: errno {}", -obj_btf));
        }
        let mut value = vec![0u8; info.value_size as usize];
        let prog = obj
            .progs()
            .find(|p| p.name() == "bench0")
            .ok_or("no program bench0")?;
        let fd = prog.as_fd().as_raw_fd() as u64;
        let op = data_off + std::mem::offset_of!(fuse::fuse_ops, bench0);
        value[op..op + 8].copy_from_slice(&fd.to_ne_bytes());
        let create = libbpf_sys::bpf_map_create_opts {
            sz: std::mem::size_of::<libbpf_sys::bpf_map_create_opts>() as _,
            // The kernel wants the BTF of a BPF object here too (not a kernel BTF): the
            // bench object's, as libbpf passes it.
            btf_fd: obj_btf as u32,
            btf_vmlinux_value_type_id: info.btf_vmlinux_value_type_id,
            value_type_btf_obj_fd: btf.as_raw_fd(),
            map_flags: libbpf_sys::BPF_F_LINK | libbpf_sys::BPF_F_VTYPE_BTF_OBJ_FD,
            ..Default::default()
        };
        Ok(Self {
            value,
            data_off,
            create,
            value_size: info.value_size,
            held: Vec::new(),
            _btf: btf,
        })
    }

    /// Attaches instances until there are `n`.
    fn grow(&mut self, n: usize) -> Result<(), String> {
        while self.held.len() < n {
            let name = format!("b{}", self.held.len());
            let conn = self.data_off + std::mem::offset_of!(fuse::fuse_ops, conn);
            self.value[conn..conn + 16].fill(0);
            self.value[conn..conn + name.len()].copy_from_slice(name.as_bytes());
            // SAFETY: Plain bpf() calls with valid options and buffers of the sizes given.
            unsafe {
                let fd = libbpf_sys::bpf_map_create(
                    libbpf_sys::BPF_MAP_TYPE_STRUCT_OPS,
                    std::ptr::null(),
                    4,
                    self.value_size,
                    1,
                    &self.create,
                );
                if fd < 0 {
                    return Err(format!("instance {name}: map create: errno {}", -fd));
                }
                let map = OwnedFd::from_raw_fd(fd);
                let key = 0u32;
                let r = libbpf_sys::bpf_map_update_elem(
                    fd,
                    (&raw const key).cast(),
                    self.value.as_ptr().cast(),
                    0,
                );
                if r < 0 {
                    return Err(format!("instance {name}: map update: errno {}", -r));
                }
                let l = libbpf_sys::bpf_link_create(
                    fd,
                    0,
                    libbpf_sys::BPF_STRUCT_OPS,
                    std::ptr::null(),
                );
                if l < 0 {
                    return Err(format!("instance {name}: link: errno {}", -l));
                }
                drop(map);
                self.held.push(OwnedFd::from_raw_fd(l));
            }
        }
        Ok(())
    }
}

/// The offset of `data` in `struct bpf_struct_ops_fuse_ops`, from the module's BTF.
fn value_data_offset() -> Result<usize, String> {
    let name = CString::new("bpf_struct_ops_fuse_ops").map_err(|e| e.to_string())?;
    let data = CString::new("data").map_err(|e| e.to_string())?;
    with_module_btf("rso_fuse", |btf| {
        // SAFETY: `btf` is valid for the call; the type's members follow it in the BTF data,
        // `vlen` of them (`btf_members()`).
        unsafe {
            let id =
                libbpf_sys::btf__find_by_name_kind(btf, name.as_ptr(), libbpf_sys::BTF_KIND_STRUCT);
            if id <= 0 {
                return Err("no bpf_struct_ops_fuse_ops in rso_fuse's BTF".to_string());
            }
            let t = libbpf_sys::btf__type_by_id(btf, id as u32);
            let vlen = ((*t).info & 0xffff) as usize;
            let kflag = (*t).info >> 31 != 0;
            let members = t.add(1).cast::<libbpf_sys::btf_member>();
            for i in 0..vlen {
                let m = &*members.add(i);
                let n = std::ffi::CStr::from_ptr(libbpf_sys::btf__name_by_offset(btf, m.name_off));
                if n == data.as_c_str() {
                    let bits = if kflag {
                        m.offset & 0xff_ffff
                    } else {
                        m.offset
                    };
                    return Ok(bits as usize / 8);
                }
            }
            Err("bpf_struct_ops_fuse_ops has no member data".to_string())
        }
    })?
}

/// Section 3: the lookup of a connection's instance with more and more attached instances.
fn lookups(p: &Params, r: &mut Results, bench_obj: &Object) -> Result<(), String> {
    let mut inst = Instances::new(bench_obj)?;
    for &n in p.instances {
        let t = Instant::now();
        inst.grow(n)?;
        println!(
            "# {n} instances attached ({:.1} s)",
            t.elapsed().as_secs_f64()
        );
        let mut v = Vec::new();
        for rep in 0..p.reps {
            // The first instance and the newest, in turn.
            let name = if rep % 2 == 0 {
                "b0".to_string()
            } else {
                format!("b{}", n - 1)
            };
            let (ns, _) = fuse::bench(DEV, &name, fuse::RSO_FUSE_BENCH_LOOKUP, p.loops)
                .map_err(errno("lookup"))?;
            v.push(ns as f64 / f64::from(p.loops));
        }
        r.push("lookup", format!("{n} instances"), "ns/lookup", v);
    }
    // Repetition k at the most instances against repetition k at the fewest: the sizes cannot
    // be measured side by side, but the ratio still gets a spread.
    let mut lookup = r.figures.iter().filter(|f| f.section == "lookup");
    let ratios: Option<Vec<f64>> = match (lookup.next(), lookup.next_back()) {
        (Some(first), Some(last)) => Some(
            first
                .values
                .iter()
                .zip(&last.values)
                .map(|(a, b)| b / a)
                .collect(),
        ),
        _ => None,
    };
    if let Some(v) = ratios {
        r.push("ratios", "lookup largest/smallest".into(), "x", v);
    }
    Ok(())
}

/// The `q`-quantile of sorted `v`.
fn quantile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v[((v.len() - 1) as f64 * q).round() as usize]
}

/// Section 4: requests per second and latency for three paths and 1 or 2 callers.
fn requests(p: &Params, r: &mut Results) -> Result<(), String> {
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

/// Runs the benchmark with every module loaded; returns what it measured.
pub(crate) fn run(ctx: &Ctx, p: &Params) -> Result<Results, String> {
    use crate::{
        ctx::{
            FUSE,
            FUSE_C, //
        },
        kmod,
    };
    for m in [FUSE, FUSE_C] {
        kmod::ensure_loaded(&ctx.ko(m)?, m)?;
    }
    let mut rust = load(&ctx.obj("fuse_bench"))?;
    let mut c = load(&ctx.obj("fuse_c_bench"))?;
    let (_cache, _l1): (Object, Link) = {
        let mut o = load(&ctx.obj("fuse_cache"))?;
        let (l, _) = attach(&mut o, "cache")?;
        (o, l)
    };
    let (_policy, _l2): (Object, Link) = {
        let mut o = load(&ctx.obj("fuse_policy"))?;
        let (l, _) = attach(&mut o, "policy")?;
        (o, l)
    };
    let mut r = Results::default();
    {
        let (_lr, _) = attach(&mut rust, "bench")?;
        let (_lc, _) = attach(&mut c, "bench")?;
        calls(p, &mut r)?;
    }
    attach_detach(p, &mut r, &mut rust, &mut c)?;
    requests(p, &mut r)?;
    lookups(p, &mut r, &rust)?;
    Ok(r)
}

/// What the JSON says about where it ran.
pub(crate) fn meta(ctx: &Ctx) -> Vec<(&'static str, String)> {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let cpu = read("/proc/cpuinfo")
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    vec![
        (
            "kernel",
            read("/proc/sys/kernel/osrelease").trim().to_string(),
        ),
        (
            "kernel_config",
            ctx.kernel.clone().unwrap_or_else(|| "own".into()),
        ),
        (
            "accel",
            std::env::var("RSO_VM_ACCEL").unwrap_or_else(|_| "unknown".into()),
        ),
        ("guest_cpu", cpu),
        (
            "guest_cpus",
            std::thread::available_parallelism()
                .map_or(0, |n| n.get())
                .to_string(),
        ),
    ]
}

/// `make bench`: runs, prints the table, writes `bench.json` into `out`.
pub(crate) fn main(ctx: &Ctx, out: &Path) -> Result<(), String> {
    let r = run(ctx, &Params::FULL)?;
    print!("{}", r.table());
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let path = out.join("bench.json");
    std::fs::write(&path, r.json(&meta(ctx))).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("bench: wrote {}", path.display());
    Ok(())
}
