// SPDX-License-Identifier: GPL-2.0

//! The walk-throughs `make run` and `make fuse-demo` show.

use crate::{
    bpf::{
        attach,
        errno_name,
        load,
        module_btf_has, //
    },
    ctx::{
        dmesg,
        Ctx,
        FUSE,
        HELLO, //
    },
    fuse::{
        Client,
        Daemon,
        Mode,
        DAEMON_NODE, //
    },
    fusefs::{
        self,
        Mount, //
    },
    hello,
    kmod::{
        self,
        UNLOAD_TIMEOUT, //
    },
};
use std::{
    os::unix::fs::MetadataExt,
    sync::atomic::Ordering::SeqCst, //
};

/// The walk-through: load rso_hello, attach a BPF implementation of hello_ops, call it from the
/// kernel, detach, unload.
pub(crate) fn demo(ctx: &Ctx) -> Result<(), String> {
    let step = |s: &str| println!("==> {s}");
    let ko = ctx.ko(HELLO)?;
    step(&format!("insmod {}", ko.display()));
    kmod::insmod(&ko)?;
    println!(
        "    struct hello_ops in /sys/kernel/btf/rso_hello: {}",
        module_btf_has(HELLO, "hello_ops")?
    );
    step("load hello.bpf.o and attach its .struct_ops.link map hello_link");
    let mut obj = load(&ctx.obj("hello"))?;
    let (link, id) = attach(&mut obj, "hello_link")?;
    println!("    attached: map id {id}, instances {:?}", hello::count());
    step("call the ops from the kernel through /dev/rso_hello");
    let calls = [
        ("add(40, 2)", hello::RSO_HELLO_OP_ADD, 40, 2),
        ("negate(7)", hello::RSO_HELLO_OP_NEGATE, 7, 0),
        ("task_pid(current)", hello::RSO_HELLO_OP_TASK_PID, 0, 0),
        ("task_pid(NULL)", hello::RSO_HELLO_OP_TASK_PID_NULL, 0, 0),
    ];
    for (what, op, a, b) in calls {
        let r = hello::call(id, op, a, b).map_err(errno_name)?;
        println!("    {what:<18} = {:<8} (magic {:#x})", r.ret, r.magic);
    }
    step("detach (drop the link) and close the map");
    drop(link);
    drop(obj);
    println!("    instances {:?}", hello::count());
    step("rmmod rso_hello");
    kmod::rmmod_wait(HELLO, UNLOAD_TIMEOUT)?;
    println!(
        "    /sys/module/rso_hello present: {}",
        kmod::is_loaded(HELLO)
    );
    step("kernel log");
    for l in dmesg()?.lines() {
        if l.contains("hello_ops") || l.contains("rso_hello") {
            println!("    {l}");
        }
    }
    Ok(())
}

/// `ls -l` of `dir`, one line per entry.
fn ls(dir: &std::path::Path) -> Result<Vec<String>, String> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("ls {}: {e}", dir.display()))?
        .filter_map(|e| e.ok())
        .collect();
    entries.sort_by_key(|e| e.file_name());
    Ok(entries
        .iter()
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            match std::fs::metadata(e.path()) {
                Ok(md) => format!("{:o} {:>4} {name}", md.mode(), md.size()),
                Err(err) => format!("{name}: {err}"),
            }
        })
        .collect())
}

/// The sample on a real FUSE mount (`kernel/patches/fuse`): `ls`, `cat` and `stat`, the daemon's
/// request count with and without the BPF cache, and a denied `cat`.
fn fuse_demo_real(ctx: &Ctx) -> Result<(), String> {
    let step = |s: &str| println!("==> {s}");
    if !fusefs::has_filter()? {
        step("a real FUSE mount: skipped, this kernel has no FUSE request filter (kernel/patches/fuse)");
        return Ok(());
    }
    let m = Mount::new()?;
    step(&format!(
        "a real FUSE mount: a daemon (fuser, in this process) serves {}, connection {}",
        m.dir.display(),
        m.conn
    ));
    for l in ls(&m.dir)? {
        println!("    ls -l: {l}");
    }
    let hello = m.path("hello");
    let show = |round: &str| {
        let c = &m.counts;
        let before = (
            m.seen(),
            [&c.lookup, &c.getattr, &c.open, &c.read, &c.readdir].map(|n| n.load(SeqCst)),
        );
        let names = std::fs::read_dir(&m.dir)
            .map(|d| {
                let mut v: Vec<_> = d
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect();
                v.sort();
                v.join(" ")
            })
            .unwrap_or_else(|e| format!("error: {e}"));
        let st = std::fs::metadata(&hello)
            .map(|md| format!("size {} mode {:o}", md.size(), md.mode()))
            .unwrap_or_else(|e| format!("error: {e}"));
        let cat = std::fs::read(&hello)
            .map(|d| format!("{:?}", String::from_utf8_lossy(&d)))
            .unwrap_or_else(|e| format!("error: {e}"));
        println!("    ls ({round}): {names}");
        println!("    stat hello ({round}): {st}");
        println!("    cat hello ({round}): {cat}");
        let c = &m.counts;
        println!(
            "    requests the daemon answered: {} (LOOKUP {}, GETATTR {}, OPEN {}, READ {}, \
             READDIR {})",
            m.seen() - before.0,
            c.lookup.load(SeqCst) - before.1[0],
            c.getattr.load(SeqCst) - before.1[1],
            c.open.load(SeqCst) - before.1[2],
            c.read.load(SeqCst) - before.1[3],
            c.readdir.load(SeqCst) - before.1[4],
        );
    };
    step("ls, stat and cat hello, twice, as plain FUSE: each reaches the daemon");
    show("first");
    show("again");
    step(&format!(
        "attach fuse_real_cache.bpf.o, bound to the connection of {} (conn \"fuse\", fuse_fd an \
         open file of the mount); ls, stat and cat twice",
        m.dir.display()
    ));
    let (obj, link) = fusefs::attach_bound(&ctx.obj("fuse_real_cache"), "real_cache", &m.dir)??;
    show("first");
    show("cached");
    println!(
        "    (cat opens the file: its OPEN goes to the daemon; LOOKUP, GETATTR, READ and READDIR \
         do not)"
    );
    drop(link);
    drop(obj);
    step(
        "attach fuse_real_policy.bpf.o instead: modes lose their write bits, secret's LOOKUP and \
         vault's OPEN are denied",
    );
    let (obj, link) = fusefs::attach_bound(&ctx.obj("fuse_real_policy"), "real_policy", &m.dir)??;
    for l in ls(&m.dir)? {
        println!("    ls -l: {l}");
    }
    let secret = std::fs::read(m.path("secret"))
        .map(|d| format!("{:?}", String::from_utf8_lossy(&d)))
        .unwrap_or_else(|e| format!("error: {e}"));
    println!("    cat secret: {secret}");
    let opens = m.counts.open.load(SeqCst);
    let vault = std::fs::read(m.path("vault"))
        .map(|d| format!("{:?}", String::from_utf8_lossy(&d)))
        .unwrap_or_else(|e| format!("error: {e}"));
    println!(
        "    cat vault: {vault} (OPENs the daemon answered: {})",
        m.counts.open.load(SeqCst) - opens
    );
    drop(link);
    drop(obj);
    step("detach; unmount");
    drop(m);
    Ok(())
}

/// The fuse-bpf-style walk-through `make fuse-demo` shows: rso_fuse with a daemon, the BPF
/// cache, then the BPF policy over the backing store.
pub(crate) fn fuse_demo(ctx: &Ctx) -> Result<(), String> {
    let step = |s: &str| println!("==> {s}");
    let show = |what: &str, r: Result<String, i32>| match r {
        Ok(v) => println!("    {what:<38} {v}"),
        Err(e) => println!("    {what:<38} error: {}", errno_name(e)),
    };
    let ko = ctx.ko(FUSE)?;
    step(&format!("insmod {}", ko.display()));
    kmod::ensure_loaded(&ko, FUSE)?;
    step("a daemon mounts connection \"cache\"; attach fuse_cache.bpf.o, bound to it");
    let daemon = Daemon::start("cache", Mode::Serve)?;
    let mut cache = load(&ctx.obj("fuse_cache"))?;
    let (link, id) = attach(&mut cache, "cache")?;
    println!("    attached: map id {id}");
    let c = Client::open().map_err(errno_name)?;
    step("GETATTR and READ of the daemon's node, twice: the postfilters fill the cache");
    for round in ["first", "again"] {
        let before = daemon.seen();
        let attr = c.getattr("cache", DAEMON_NODE);
        show(
            &format!("getattr {DAEMON_NODE} ({round})"),
            attr.map(|(s, m)| format!("size {s} mode {m:o}")),
        );
        let data = c.read("cache", DAEMON_NODE, 0, 64);
        show(
            &format!("read {DAEMON_NODE} ({round})"),
            data.map(|d| format!("{:?}", String::from_utf8_lossy(&d))),
        );
        println!(
            "    {:<34} {}",
            "requests the daemon saw",
            daemon.seen() - before
        );
    }
    step("detach the cache; the daemon stops");
    drop(link);
    drop(cache);
    daemon.stop()?;
    step("attach fuse_policy.bpf.o on connection \"policy\" (no daemon: the backing store)");
    let mut policy = load(&ctx.obj("fuse_policy"))?;
    let (link, _) = attach(&mut policy, "policy")?;
    show(
        "lookup \"hello\" (CONTINUE)",
        c.lookup("policy", "hello").map(|n| format!("node {n}")),
    );
    show(
        "lookup \"secret\" (-EACCES)",
        c.lookup("policy", "secret").map(|n| format!("node {n}")),
    );
    show(
        "getattr 2 (postfilter: no write bits)",
        c.getattr("policy", 2)
            .map(|(s, m)| format!("size {s} mode {m:o}")),
    );
    show(
        "read 2, 64 bytes (clamped to 8)",
        c.read("policy", 2, 0, 64)
            .map(|d| format!("{:?}", String::from_utf8_lossy(&d))),
    );
    show(
        "write 2 (-EROFS)",
        c.write("policy", 2, 0, b"x").map(|n| format!("{n} bytes")),
    );
    show(
        "lookup \"daemon\" (USER, no daemon)",
        c.lookup("policy", "daemon").map(|n| format!("node {n}")),
    );
    drop(link);
    drop(policy);
    drop(c);
    fuse_demo_real(ctx)?;
    step("detach, rmmod rso_fuse");
    kmod::rmmod_wait(FUSE, UNLOAD_TIMEOUT)?;
    step("kernel log");
    for l in dmesg()?.lines() {
        if l.contains("rso_fuse") || l.contains("fuse_ops") {
            println!("    {l}");
        }
    }
    Ok(())
}
