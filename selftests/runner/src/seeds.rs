// SPDX-License-Identifier: GPL-2.0

//! The behaviours of the five seed series (and of C struct_ops types in the kernel's own
//! selftests), checked against the Rust modules.

use crate::{
    attach,
    errno_name,
    filter,
    hello,
    kmod,
    ktap::{
        ensure,
        ensure_eq,
        TestResult, //
    },
    libbpf_log,
    link_update,
    link_update_map,
    load,
    load_attach_err,
    map_fd,
    testmod,
    Ctx,
    HELLO,
    UNLOAD_TIMEOUT, //
};
use libbpf_rs::{
    libbpf_sys,
    AsRawLibbpf,
    MapCore,
    MapFlags,
    Object, //
};
use std::{
    io::Read,
    os::{
        fd::{
            AsFd,
            AsRawFd, //
        },
        unix::process::CommandExt,
    },
    process::{
        Command,
        Stdio, //
    },
};

/// `enum bpf_struct_ops_state` (include/linux/bpf.h).
const STATE_INIT: u32 = 0;
const STATE_INUSE: u32 = 1;
const STATE_TOBEFREE: u32 = 2;

/// Where `data` starts in a struct_ops map value: after the 8-byte
/// `struct bpf_struct_ops_common_value`, cacheline aligned.
const DATA_OFFSET: usize = 64;

/// A struct_ops map value as `BPF_MAP_LOOKUP_ELEM` returns it.
struct Value(Vec<u8>);

impl Value {
    fn u32_at(&self, off: usize) -> u32 {
        u32::from_ne_bytes(self.0[off..off + 4].try_into().unwrap_or_default())
    }

    fn u64_at(&self, off: usize) -> u64 {
        u64::from_ne_bytes(self.0[off..off + 8].try_into().unwrap_or_default())
    }

    fn refcnt(&self) -> u32 {
        self.u32_at(0)
    }

    fn state(&self) -> u32 {
        self.u32_at(4)
    }

    /// The member of `data` at byte offset `off`, as a 64-bit slot (function pointers hold
    /// program ids).
    fn slot(&self, off: usize) -> u64 {
        self.u64_at(DATA_OFFSET + off)
    }
}

fn lookup(obj: &Object, name: &str) -> Result<Value, String> {
    let map = obj
        .maps()
        .find(|m| m.name() == name)
        .ok_or(format!("no map {name}"))?;
    let want = DATA_OFFSET + std::mem::size_of::<hello::hello_ops>().next_multiple_of(64);
    ensure_eq("value size", map.value_size() as usize, want)?;
    map.lookup(&0u32.to_ne_bytes(), MapFlags::ANY)
        .map_err(|e| format!("lookup: {e}"))?
        .map(Value)
        .ok_or_else(|| "lookup of key 0 found nothing".into())
}

/// The id of program `name` of `obj`.
fn prog_id(obj: &Object, name: &str) -> Result<u32, String> {
    let prog = obj
        .progs()
        .find(|p| p.name() == name)
        .ok_or(format!("no program {name}"))?;
    let mut info = libbpf_sys::bpf_prog_info::default();
    let mut len = std::mem::size_of_val(&info) as u32;
    // SAFETY: `info` is valid for `len` bytes of writes.
    let r = unsafe {
        libbpf_sys::bpf_obj_get_info_by_fd(
            prog.as_fd().as_raw_fd(),
            (&raw mut info).cast(),
            &mut len,
        )
    };
    ensure(r == 0, || format!("prog info: {r}"))?;
    Ok(info.id)
}

pub(crate) fn map_no_link_lifecycle(ctx: &mut Ctx) -> TestResult {
    ctx.load_hello()?;
    let mut obj = load(&ctx.obj("hello_nolink"))?;
    ensure_eq(
        "state after load",
        lookup(&obj, "hello_nolink")?.state(),
        STATE_INIT,
    )?;
    ensure_eq("instances after load", hello::count(), Ok(0))?;
    let (link, id) = attach(&mut obj, "hello_nolink")?;
    ensure_eq(
        "state after update",
        lookup(&obj, "hello_nolink")?.state(),
        STATE_INUSE,
    )?;
    let r = hello::call(id, hello::RSO_HELLO_OP_ADD, 20, 22).map_err(errno_name)?;
    ensure_eq("reg ran: add(20, 22) on the map", (r.ret, r.id), (42, id))?;
    let map = obj
        .maps()
        .find(|m| m.name() == "hello_nolink")
        .ok_or("no map")?;
    map.delete(&0u32.to_ne_bytes())
        .map_err(|e| format!("delete key 0: {e}"))?;
    ensure_eq("instances after delete (unreg ran)", hello::count(), Ok(0))?;
    ensure_eq(
        "state after delete",
        lookup(&obj, "hello_nolink")?.state(),
        STATE_TOBEFREE,
    )?;
    // libbpf's detach of a map without a link deletes key 0 again; that fails, harmlessly.
    drop(link);
    Ok(())
}

pub(crate) fn map_value_introspection(ctx: &mut Ctx) -> TestResult {
    ctx.load_hello()?;
    let mut obj = load(&ctx.obj("hello_nolink"))?;
    let (_link, _id) = attach(&mut obj, "hello_nolink")?;
    let v = lookup(&obj, "hello_nolink")?;
    ensure_eq("state", v.state(), STATE_INUSE)?;
    ensure(v.refcnt() >= 1, || {
        format!("refcnt {} while in use", v.refcnt())
    })?;
    ensure_eq(
        "add slot (program id)",
        v.slot(std::mem::offset_of!(hello::hello_ops, add)),
        u64::from(prog_id(&obj, "nolink_add")?),
    )?;
    ensure_eq(
        "negate slot (program id)",
        v.slot(std::mem::offset_of!(hello::hello_ops, negate)),
        u64::from(prog_id(&obj, "nolink_negate")?),
    )?;
    ensure_eq(
        "task_pid slot (unimplemented)",
        v.slot(std::mem::offset_of!(hello::hello_ops, task_pid)),
        0,
    )?;
    ensure_eq(
        "magic",
        v.u32_at(DATA_OFFSET + std::mem::offset_of!(hello::hello_ops, magic)),
        0xabc,
    )
}

pub(crate) fn multi_instance_by_id(ctx: &mut Ctx) -> TestResult {
    ctx.load_hello()?;
    let mut obj = load(&ctx.obj("hello_multi"))?;
    let mut links = Vec::new();
    for k in 1..=3 {
        let (link, id) = attach(&mut obj, &format!("multi_{k}"))?;
        links.push((link, id, k));
    }
    ensure_eq("instances", hello::count(), Ok(3))?;
    for (_, id, k) in &links {
        let r = hello::call(*id, hello::RSO_HELLO_OP_ADD, 1, 2).map_err(errno_name)?;
        ensure_eq(
            &format!("instance of map {id}"),
            (r.ret, r.magic, r.id),
            (3 + 1000 * k, *k, *id),
        )?;
    }
    let (link2, id2, _) = links.remove(1);
    drop(link2);
    ensure_eq(
        "call of the detached instance",
        hello::call(id2, hello::RSO_HELLO_OP_ADD, 1, 2).map(|r| r.ret),
        Err(libc::ENOENT),
    )?;
    for (_, id, k) in &links {
        let r = hello::call(*id, hello::RSO_HELLO_OP_ADD, 1, 2).map_err(errno_name)?;
        ensure_eq(
            &format!("instance of map {id} after another detached"),
            r.magic,
            *k,
        )?;
    }
    Ok(())
}

pub(crate) fn detach_epollhup(ctx: &mut Ctx) -> TestResult {
    ctx.load_hello()?;
    let mut obj = load(&ctx.obj("hello"))?;
    let (link, _id) = attach(&mut obj, "hello_link")?;
    // SAFETY: Plain syscalls on fds this function owns; `ev` outlives the calls.
    unsafe {
        let ep = libc::epoll_create1(libc::EPOLL_CLOEXEC);
        ensure(ep >= 0, || "epoll_create1 failed".into())?;
        let mut ev = libc::epoll_event {
            events: (libc::EPOLLIN | libc::EPOLLHUP) as u32,
            u64: 7,
        };
        let fd = link.as_fd().as_raw_fd();
        let r = libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, fd, &mut ev);
        let before = libc::epoll_wait(ep, &mut ev, 1, 0);
        link.detach().map_err(|e| format!("detach: {e}"))?;
        let count = hello::count();
        let mut out = libc::epoll_event { events: 0, u64: 0 };
        let after = libc::epoll_wait(ep, &mut out, 1, 2000);
        libc::close(ep);
        ensure_eq("epoll_ctl", r, 0)?;
        ensure_eq("events before detach", before, 0)?;
        ensure_eq("instances after detach (unreg ran)", count, Ok(0))?;
        let events = out.events;
        ensure(after == 1 && events & libc::EPOLLHUP as u32 != 0, || {
            format!("after detach: {after} events, mask {events:#x}, want EPOLLHUP")
        })
    }
}

pub(crate) fn link_update_replace_wrong_old(ctx: &mut Ctx) -> TestResult {
    ctx.load_filter()?;
    let mut obj = load(&ctx.obj("filter"))?;
    let (link, id_a) = attach(&mut obj, "filter_a")?;
    link_update_map(&link, &obj, "filter_b")
        .map_err(|e| format!("update to B: {}", errno_name(e)))?;
    let id_b = filter::decide(3).map_err(errno_name)?.id;
    ensure(id_b != id_a, || "update to B did not switch".into())?;
    // Back to A, naming the wrong old map (C; the link holds B).
    ensure_eq(
        "replace with the wrong old map",
        link_update(
            &link,
            map_fd(&obj, "filter_a")?,
            Some(map_fd(&obj, "filter_c")?),
        ),
        Err(libc::EPERM),
    )?;
    let v = filter::decide(3).map_err(errno_name)?;
    ensure_eq(
        "active instance after the refused update",
        (v.id, v.verdict),
        (id_b, 0),
    )?;
    // And with the right old map, it works.
    link_update(
        &link,
        map_fd(&obj, "filter_a")?,
        Some(map_fd(&obj, "filter_b")?),
    )
    .map_err(|e| format!("replace with the right old map: {}", errno_name(e)))?;
    let v = filter::decide(3).map_err(errno_name)?;
    ensure_eq(
        "active instance after the replace",
        (v.id, v.verdict),
        (id_a, 1),
    )
}

pub(crate) fn nullable_unchecked_rejected(ctx: &mut Ctx) -> TestResult {
    ctx.load_hello()?;
    libbpf_log::take();
    let res = load(&ctx.obj("hello_nullable_unchecked"));
    let log = libbpf_log::take();
    ensure(res.is_err(), || {
        "a program that dereferences a __nullable task unchecked loaded".into()
    })?;
    ensure(
        log.contains("invalid mem access 'trusted_ptr_or_null_'"),
        || format!("verifier log lacks the NULL check message:\n{log}"),
    )
}

pub(crate) fn module_pinning_unattached_map(ctx: &mut Ctx) -> TestResult {
    if kmod::is_loaded(HELLO) {
        kmod::rmmod_wait(HELLO, UNLOAD_TIMEOUT)?;
    }
    kmod::insmod(&ctx.ko(HELLO))?;
    let obj = load(&ctx.obj("hello"))?;
    let e = kmod::rmmod(HELLO).err();
    ensure(e.as_deref().is_some_and(|e| e.contains("in use")), || {
        format!("rmmod with a created, never attached map: want \"in use\", got {e:?}")
    })?;
    drop(obj);
    kmod::rmmod_wait(HELLO, UNLOAD_TIMEOUT)?;
    libbpf_log::take();
    let res = load(&ctx.obj("hello"));
    let log = libbpf_log::take();
    let out = match res {
        Ok(_) => Err("a hello_ops map was created with rso_hello unloaded".into()),
        Err(_) => ensure(log.contains("hello_ops is not found in kernel BTF"), || {
            format!("no clear error from libbpf:\n{log}")
        }),
    };
    kmod::insmod(&ctx.ko(HELLO))?;
    out
}

/// The id of the module BTF a struct_ops map of `obj` belongs to.
fn map_btf_obj_id(obj: &Object, name: &str) -> Result<u32, String> {
    let map = obj
        .maps()
        .find(|m| m.name() == name)
        .ok_or(format!("no map {name}"))?;
    Ok(map.info().map_err(|e| e.to_string())?.info.btf_vmlinux_id)
}

pub(crate) fn reload_cycle(ctx: &mut Ctx) -> TestResult {
    ctx.load_hello()?;
    let first = {
        let mut obj = load(&ctx.obj("hello"))?;
        let (_link, _id) = attach(&mut obj, "hello_link")?;
        map_btf_obj_id(&obj, "hello_link")?
    };
    kmod::rmmod_wait(HELLO, UNLOAD_TIMEOUT)?;
    kmod::insmod(&ctx.ko(HELLO))?;
    let mut obj = load(&ctx.obj("hello"))?;
    let (_link, id) = attach(&mut obj, "hello_link")?;
    let second = map_btf_obj_id(&obj, "hello_link")?;
    ensure(second != 0 && second > first, || {
        format!("module BTF id {first} before the reload, {second} after: want a new, larger id")
    })?;
    let r = hello::call(id, hello::RSO_HELLO_OP_ADD, 5, 6).map_err(errno_name)?;
    ensure_eq("add(5, 6) after the reload", r.ret, 11)
}

pub(crate) fn unprivileged_denied(ctx: &mut Ctx) -> TestResult {
    ctx.load_hello()?;
    let mut child = ctx
        .hold_link_child()?
        .uid(65534)
        .gid(65534)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawn as nobody: {e}"))?;
    let mut out = String::new();
    if let Some(mut o) = child.stdout.take() {
        let _ = o.read_to_string(&mut out);
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    ensure(!status.success() && !out.contains("ready"), || {
        format!("an unprivileged process attached hello_ops: {out}")
    })?;
    ensure(out.contains("Operation not permitted"), || {
        format!("want EPERM, got: {out}")
    })?;
    ensure_eq("instances", hello::count(), Ok(0))
}

/// Loads `name` and checks that loading fails with `want` in libbpf's log (the verifier's
/// message).
pub(crate) fn refused_with(ctx: &Ctx, name: &str, want: &str) -> TestResult {
    libbpf_log::take();
    let res = load(&ctx.obj(name));
    let log = libbpf_log::take();
    ensure(res.is_err(), || format!("{name}.bpf.o loaded"))?;
    ensure(log.contains(want), || {
        format!("the log lacks \"{want}\":\n{log}")
    })
}

pub(crate) fn unsupported_member(ctx: &mut Ctx) -> TestResult {
    ctx.load_testmod()?;
    refused_with(
        ctx,
        "testmod_unsupported",
        "attach to unsupported member unsupported of struct testmod_ops",
    )
}

/// The control for the refusals below: a testmod_ops value that follows every rule, with a
/// sleepable program on `may_sleep`, attaches and works.
pub(crate) fn testmod_ops_work(ctx: &mut Ctx) -> TestResult {
    ctx.load_testmod()?;
    let mut obj = load(&ctx.obj("testmod"))?;
    let (_link, id) = attach(&mut obj, "tm_ok")?;
    ensure_eq(
        "nosleep(21)",
        testmod::call(id, testmod::RSO_TESTMOD_OP_NOSLEEP, 21),
        Ok((42, 10)),
    )?;
    ensure_eq(
        "may_sleep(1) (a sleepable program)",
        testmod::call(id, testmod::RSO_TESTMOD_OP_MAY_SLEEP, 1),
        Ok((2, 10)),
    )
}

pub(crate) fn refcounted_arg(ctx: &mut Ctx) -> TestResult {
    ctx.load_testmod()?;
    let mut obj = load(&ctx.obj("testmod"))?;
    let (_link, id) = attach(&mut obj, "tm_ok")?;
    // SAFETY: gettid has no preconditions.
    let tid = i64::from(unsafe { libc::gettid() });
    // Each call moves a task reference to the program, which releases it: a leak or a double
    // release shows in the kernel log (refcount warnings, kmemleak) checked at the end.
    for i in 0..100 {
        let r = testmod::call(id, testmod::RSO_TESTMOD_OP_TAKE_TASK, 0).map_err(errno_name)?;
        ensure_eq(&format!("take_task(current) #{i}"), r.0, tid)?;
    }
    Ok(())
}

pub(crate) fn refcounted_leak_rejected(ctx: &mut Ctx) -> TestResult {
    ctx.load_testmod()?;
    refused_with(ctx, "testmod_ref_leak", "Unreleased reference")
}

pub(crate) fn check_member_rejects(ctx: &mut Ctx) -> TestResult {
    ctx.load_testmod()?;
    // The same kind of program is accepted for may_sleep (testmod_attach_calls_ops); for nosleep,
    // check_member refuses it.
    refused_with(
        ctx,
        "testmod_sleepable_nosleep",
        "attach to unsupported member nosleep of struct testmod_ops",
    )
}

pub(crate) fn init_member_rejects_bad_data(ctx: &mut Ctx) -> TestResult {
    ctx.load_testmod()?;
    let err = load_attach_err(&ctx.obj("testmod_bad_limit"), "tm_bad_limit")?;
    ensure(
        err.contains("Numerical result out of range") || err.contains("-34"),
        || {
            format!(
                "limit {}: want ERANGE, got: {err}",
                testmod::RSO_TESTMOD_LIMIT_MAX + 1
            )
        },
    )?;
    ensure_eq("instances", testmod::count(), Ok(0))?;
    let mut obj = load(&ctx.obj("testmod"))?;
    let (_link, id) = attach(&mut obj, "tm_ok")?;
    ensure_eq(
        "a good value after the refused one",
        testmod::call(id, testmod::RSO_TESTMOD_OP_NOSLEEP, 2),
        Ok((4, 10)),
    )
}

/// Associates program `prog` of `obj` with its map `map` (`bpf_program__assoc_struct_ops()`).
fn assoc(obj: &Object, prog: &str, map: &str) -> Result<(), String> {
    let p = obj
        .progs()
        .find(|p| p.name() == prog)
        .ok_or(format!("no program {prog}"))?;
    let m = obj
        .maps()
        .find(|m| m.name() == map)
        .ok_or(format!("no map {map}"))?;
    // SAFETY: Both pointers come from live libbpf-rs objects; NULL options are allowed.
    let r = unsafe {
        libbpf_sys::bpf_program__assoc_struct_ops(
            p.as_libbpf_object().as_ptr(),
            m.as_libbpf_object().as_ptr(),
            std::ptr::null_mut(),
        )
    };
    ensure(r == 0, || {
        format!("assoc {prog} with {map}: {}", errno_name(-r))
    })
}

/// Runs the syscall program `prog` of `obj`; returns its return value.
fn run_syscall(obj: &Object, prog: &str) -> Result<i32, String> {
    let p = obj
        .progs()
        .find(|p| p.name() == prog)
        .ok_or(format!("no program {prog}"))?;
    let mut opts = libbpf_sys::bpf_test_run_opts {
        sz: std::mem::size_of::<libbpf_sys::bpf_test_run_opts>() as _,
        ..Default::default()
    };
    // SAFETY: A valid program fd and a fully initialised options struct.
    let r = unsafe { libbpf_sys::bpf_prog_test_run_opts(p.as_fd().as_raw_fd(), &mut opts) };
    ensure(r == 0, || format!("test run of {prog}: {}", errno_name(-r)))?;
    Ok(opts.retval as i32)
}

pub(crate) fn assoc_struct_ops(ctx: &mut Ctx) -> TestResult {
    ctx.load_testmod()?;
    let mut obj = load(&ctx.obj("testmod_assoc"))?;
    let (_la, id_a) = attach(&mut obj, "map_a")?;
    let (_lb, id_b) = attach(&mut obj, "map_b")?;
    ensure_eq(
        "unassociated syscall program",
        run_syscall(&obj, "syscall_a")?,
        -libc::ENOENT,
    )?;
    assoc(&obj, "syscall_a", "map_a")?;
    assoc(&obj, "syscall_b", "map_b")?;
    ensure_eq(
        "syscall_a's instance (map B attached too)",
        run_syscall(&obj, "syscall_a")?,
        id_a as i32,
    )?;
    ensure_eq(
        "syscall_b's instance",
        run_syscall(&obj, "syscall_b")?,
        id_b as i32,
    )
}

pub(crate) fn assoc_reuse_poisoned(ctx: &mut Ctx) -> TestResult {
    ctx.load_testmod()?;
    let mut obj = load(&ctx.obj("testmod_assoc"))?;
    let (_la, id_a) = attach(&mut obj, "map_a")?;
    let (_l1, id_1) = attach(&mut obj, "map_shared_1")?;
    let (_l2, _id_2) = attach(&mut obj, "map_shared_2")?;
    // A struct_ops program used by one map is associated with it.
    ensure_eq(
        "nosleep of map_a",
        testmod::call(id_a, testmod::RSO_TESTMOD_OP_NOSLEEP, 0).map(|r| r.0),
        Ok(i64::from(id_a)),
    )?;
    // One used by two maps has no unique association.
    ensure_eq(
        "nosleep of map_shared_1",
        testmod::call(id_1, testmod::RSO_TESTMOD_OP_NOSLEEP, 0).map(|r| r.0),
        Ok(-i64::from(libc::ENOENT)),
    )?;
    // A syscall program cannot be associated with a second map (EBUSY); it keeps the first.
    assoc(&obj, "syscall_b", "map_a")?;
    let second = assoc(&obj, "syscall_b", "map_shared_1");
    ensure(
        second
            .as_ref()
            .is_err_and(|e| e.contains("Device or resource busy")),
        || format!("second association of a syscall program: want EBUSY, got {second:?}"),
    )?;
    ensure_eq(
        "syscall program after the refused association",
        run_syscall(&obj, "syscall_b")?,
        id_a as i32,
    )
}

/// Runs `bpftool ARGS`; returns its standard output, or fails with what it said.
fn bpftool(ctx: &Ctx, args: &[&str]) -> Result<String, String> {
    let out = Command::new(&ctx.bpftool)
        .args(args)
        .output()
        .map_err(|e| format!("{}: {e}", ctx.bpftool.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    ensure(out.status.success(), || {
        format!(
            "bpftool {}: {} (stdout {stdout:?}, stderr {:?})",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    Ok(stdout)
}

pub(crate) fn bpftool_dump_module_type(ctx: &mut Ctx) -> TestResult {
    ctx.load_hello()?;
    let mut obj = load(&ctx.obj("hello"))?;
    let (_link, id) = attach(&mut obj, "hello_link")?;
    let id = id.to_string();
    let magic = format!("\"magic\":{}", 0xc0ffee);
    let show = bpftool(ctx, &["-j", "struct_ops", "show", "id", &id])?;
    ensure(show.contains("\"kernel_struct_ops\":\"hello_ops\""), || {
        format!("struct_ops show: {show}")
    })?;
    let dump = bpftool(ctx, &["-j", "struct_ops", "dump", "id", &id])?;
    ensure(
        dump.contains("bpf_struct_ops_hello_ops")
            && dump.contains(&magic)
            && dump.contains("hello_add"),
        || format!("struct_ops dump lacks the type, its magic or its program: {dump}"),
    )?;
    let dump = bpftool(ctx, &["-j", "map", "dump", "id", &id])?;
    ensure(dump.contains(&magic), || {
        format!("map dump lacks the magic: {dump}")
    })
}

const SHADOW_MAGIC: i64 = 0x5ad0;

pub(crate) fn shadow_vars_c_skeleton(ctx: &mut Ctx) -> TestResult {
    ctx.load_hello()?;
    let prog = ctx.build.join("c").join("shadow_skel");
    let out = Command::new(&prog)
        .arg(SHADOW_MAGIC.to_string())
        .output()
        .map_err(|e| format!("{}: {e}", prog.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    ensure(out.status.success(), || {
        format!(
            "{}: {} {stdout} {}",
            prog.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    // add was swapped to shadow_mul: add(6, 7) = 42, not 13.
    ensure_eq(
        "module saw",
        stdout.trim(),
        format!("ret={} magic={SHADOW_MAGIC}", 6 * 7).as_str(),
    )?;
    ensure_eq(
        "instances after the C program exited",
        hello::count(),
        Ok(0),
    )
}

mod hello_shadow_skel {
    #![allow(
        clippy::all,
        non_camel_case_types,
        non_snake_case,
        dead_code,
        unused_imports
    )]
    include!(concat!(env!("OUT_DIR"), "/hello_shadow.skel.rs"));
}

pub(crate) fn shadow_vars_rust_skeleton(ctx: &mut Ctx) -> TestResult {
    use hello_shadow_skel::HelloShadowSkelBuilder;
    use libbpf_rs::skel::{
        OpenSkel,
        SkelBuilder, //
    };

    ctx.load_hello()?;
    let mut storage = std::mem::MaybeUninit::uninit();
    let mut open = HelloShadowSkelBuilder::default()
        .open(&mut storage)
        .map_err(|e| format!("open: {e:#}"))?;
    let mul = open.progs.shadow_mul.as_libbpf_object().as_ptr();
    let shadow = open.struct_ops.hello_shadow_mut();
    shadow.magic = SHADOW_MAGIC as u32 + 1;
    shadow.add = mul;
    let mut skel = open.load().map_err(|e| format!("load: {e:#}"))?;
    let id = skel
        .maps
        .hello_shadow
        .info()
        .map_err(|e| e.to_string())?
        .info
        .id;
    let _link = skel
        .maps
        .hello_shadow
        .attach_struct_ops()
        .map_err(|e| format!("attach: {e:#}"))?;
    let r = hello::call(id, hello::RSO_HELLO_OP_ADD, 6, 7).map_err(errno_name)?;
    ensure_eq(
        "module saw (add(6, 7), magic)",
        (r.ret, r.magic),
        (6 * 7, SHADOW_MAGIC + 1),
    )
}

pub(crate) fn init_failure_fails_load(ctx: &mut Ctx) -> TestResult {
    const TESTMOD: &str = "rso_testmod";
    if kmod::is_loaded(TESTMOD) {
        kmod::rmmod_wait(TESTMOD, UNLOAD_TIMEOUT)?;
    }
    let ko = ctx.ko(TESTMOD);
    let res = kmod::insmod_args(&ko, &["fail_init=1"]);
    let loaded = kmod::is_loaded(TESTMOD);
    let log = Command::new("dmesg").output().map_err(|e| e.to_string())?;
    let log = String::from_utf8_lossy(&log.stdout);
    ensure(res.is_err() && !loaded, || {
        format!("rso_testmod loaded with a failing init: {res:?}")
    })?;
    ensure(
        log.contains("Error in init bpf_struct_ops testmod_ops"),
        || "no message from the BPF core about the failed init".into(),
    )?;
    // Without the fault, init runs and the module loads.
    kmod::insmod(&ko)?;
    ensure(log_has("testmod_ops: init")?, || {
        "init did not run on a normal load".into()
    })
}

fn log_has(what: &str) -> Result<bool, String> {
    let log = Command::new("dmesg").output().map_err(|e| e.to_string())?;
    Ok(String::from_utf8_lossy(&log.stdout).contains(what))
}

pub(crate) fn verifier_ops_override(ctx: &mut Ctx) -> TestResult {
    // With the default helper list, a hello_ops program may call bpf_get_prandom_u32().
    ctx.load_hello()?;
    let mut obj = load(&ctx.obj("hello_helper"))?;
    let (_link, id) = attach(&mut obj, "hello_random")?;
    let r = hello::call(id, hello::RSO_HELLO_OP_ADD, 2, 3).map_err(errno_name)?;
    ensure_eq("add(2, 3) of the program calling the helper", r.ret, 5)?;
    // rso_testmod's get_func_proto refuses it.
    ctx.load_testmod()?;
    refused_with(
        ctx,
        "testmod_helper_refused",
        "program of this type cannot use helper bpf_get_prandom_u32",
    )
}
