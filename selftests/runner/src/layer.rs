// SPDX-License-Identifier: GPL-2.0

//! The guarantees of the Rust layer (`rust/struct_ops/`): typed op calls and the tags the
//! generated stubs carry, the registry under several links and link updates, lookups from a
//! timer, sleepable programs, `init_member`'s view and registration outside init.

use crate::{
    attach,
    errno_name,
    filter,
    hello,
    klog,
    kmod,
    ktap::{
        ensure,
        ensure_eq,
        TestResult, //
    },
    link_update_map,
    load,
    load_attach_err,
    seeds::refused_with,
    testmod,
    with_module_btf,
    Ctx,
    HELLO,
    UNLOAD_TIMEOUT, //
};
use libbpf_rs::{
    libbpf_sys, //
};
use std::{
    ffi::{
        CStr,
        CString, //
    },
    sync::atomic::{
        AtomicBool,
        Ordering, //
    },
    time::Duration,
};

/// Every op of every type, with its parameter names as the header declares them (tags
/// included), as `rust/rsogen.py --list` read them at build time:
/// `module type op param...` per line.
const HEADER_OPS: &str = include_str!(concat!(env!("OUT_DIR"), "/header_ops.txt"));

pub(crate) fn typed_call_arg_kinds(ctx: &mut Ctx) -> TestResult {
    ctx.load_testmod()?;
    let mut obj = load(&ctx.obj("testmod"))?;
    let (_link, id) = attach(&mut obj, "tm_ok")?;
    // arg_kinds(x, trusted, maybe, owned): x, +1000 when trusted and owned are the same task,
    // +100 when maybe is not NULL, +10 more when it is that task too; it releases owned.
    ensure_eq(
        "arg_kinds(1, current, NULL, ref)",
        testmod::call(id, testmod::RSO_TESTMOD_OP_ARG_NULL, 1).map(|r| r.0),
        Ok(1001),
    )?;
    ensure_eq(
        "arg_kinds(1, current, current, ref)",
        testmod::call(id, testmod::RSO_TESTMOD_OP_ARG_TASK, 1).map(|r| r.0),
        Ok(1111),
    )?;
    ensure_eq(
        "take_task(ref on current)",
        testmod::call(id, testmod::RSO_TESTMOD_OP_TAKE_TASK, 0).map(|r| r.0),
        Ok(i64::from(std::process::id())),
    )?;
    ensure_eq(
        "nosleep(21)",
        testmod::call(id, testmod::RSO_TESTMOD_OP_NOSLEEP, 21).map(|r| r.0),
        Ok(42),
    )
}

/// The parameter names of the BTF function `name` in `btf`, or `None` if there is none.
///
/// # Safety
///
/// `btf` is a valid libbpf BTF object.
unsafe fn btf_func_params(btf: *const libbpf_sys::btf, name: &str) -> Option<Vec<String>> {
    let cname = CString::new(name).ok()?;
    // SAFETY: `btf` is valid; `cname` is a C string.
    let id = unsafe {
        libbpf_sys::btf__find_by_name_kind(btf, cname.as_ptr(), libbpf_sys::BTF_KIND_FUNC)
    };
    if id <= 0 {
        return None;
    }
    // SAFETY: `id` is a type of `btf`; a FUNC's `type` is its FUNC_PROTO, which is followed by
    // `vlen` `struct btf_param` in BTF's layout.
    unsafe {
        let func = libbpf_sys::btf__type_by_id(btf, id as u32);
        let proto = libbpf_sys::btf__type_by_id(btf, (*func).__bindgen_anon_1.type_);
        let vlen = ((*proto).info & 0xffff) as usize;
        let params = proto.add(1).cast::<libbpf_sys::btf_param>();
        Some(
            (0..vlen)
                .map(|i| {
                    let p = libbpf_sys::btf__name_by_offset(btf, (*params.add(i)).name_off);
                    if p.is_null() {
                        String::new()
                    } else {
                        CStr::from_ptr(p).to_string_lossy().into_owned()
                    }
                })
                .collect(),
        )
    }
}

pub(crate) fn generated_stub_tags(ctx: &mut Ctx) -> TestResult {
    ctx.load_hello()?;
    ctx.load_filter()?;
    ctx.load_testmod()?;
    let mut checked = 0;
    for line in HEADER_OPS.lines() {
        let mut f = line.split_whitespace();
        let (Some(module), Some(ty), Some(op)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        let want: Vec<&str> = f.collect();
        let got = with_module_btf(module, |btf| {
            // SAFETY: `btf` is a valid BTF object for the call.
            unsafe { btf_func_params(btf, &format!("{ty}__{op}")) }
        })?;
        if want == ["-"] {
            // __rso_unsupported: no stub.
            ensure(got.is_none(), || {
                format!("{module}: {ty}__{op} has a stub but the header marks it unsupported")
            })?;
        } else {
            let got = got.ok_or_else(|| format!("{module}: no BTF function {ty}__{op}"))?;
            ensure_eq(
                &format!("{module}: parameters of {ty}__{op}"),
                got,
                want.iter().map(|s| s.to_string()).collect(),
            )?;
        }
        checked += 1;
    }
    ensure(checked >= 10, || format!("only {checked} ops checked"))
}

pub(crate) fn one_map_two_links(ctx: &mut Ctx) -> TestResult {
    ctx.load_hello()?;
    let mut obj = load(&ctx.obj("hello"))?;
    let (link1, id) = attach(&mut obj, "hello_link")?;
    // libbpf tolerates EBUSY from the second map update of a link map: a second link.
    let (link2, id2) = attach(&mut obj, "hello_link")?;
    ensure_eq("map id of the second link", id2, id)?;
    ensure_eq("instances", hello::count(), Ok(1))?;
    ensure_eq(
        "add(1, 2)",
        hello::call(id, hello::RSO_HELLO_OP_ADD, 1, 2).map(|r| r.ret),
        Ok(3),
    )?;
    drop(link1);
    ensure_eq(
        "add(1, 2) with one link left",
        hello::call(id, hello::RSO_HELLO_OP_ADD, 1, 2).map(|r| r.ret),
        Ok(3),
    )?;
    ensure_eq("instances with one link left", hello::count(), Ok(1))?;
    drop(link2);
    ensure_eq(
        "add(1, 2) with no link",
        hello::call(id, hello::RSO_HELLO_OP_ADD, 1, 2).map(|r| r.ret),
        Err(libc::ENOENT),
    )?;
    drop(obj);
    kmod::rmmod_wait(HELLO, UNLOAD_TIMEOUT)
}

pub(crate) fn link_update_same_map(ctx: &mut Ctx) -> TestResult {
    ctx.load_filter()?;
    let mut obj = load(&ctx.obj("filter"))?;
    let (link, id) = attach(&mut obj, "filter_a")?;
    ensure_eq("verdict map", filter::decide(3).map(|v| v.id), Ok(id))?;
    link_update_map(&link, &obj, "filter_a")
        .map_err(|e| format!("update to the same map: {}", errno_name(e)))?;
    ensure_eq(
        "verdict map after the update",
        filter::decide(3).map(|v| v.id),
        Ok(id),
    )?;
    drop(link);
    ensure_eq(
        "verdict after detach",
        filter::decide(3).map(|v| v.id),
        Err(libc::ENOENT),
    )
}

pub(crate) fn lookup_from_timer(ctx: &mut Ctx) -> TestResult {
    ctx.load_testmod()?;
    let mark = klog::mark()?;
    let stop = AtomicBool::new(false);
    let path = ctx.obj("testmod");
    let (timer_calls, cycles) = std::thread::scope(|s| {
        // Attach and detach continuously while the timer and process context look up.
        let churn = s.spawn(|| -> Result<u32, String> {
            let mut obj = load(&path)?;
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let (link, _) = attach(&mut obj, "tm_ok")?;
                std::thread::sleep(Duration::from_millis(5));
                drop(link);
                n += 1;
            }
            Ok(n)
        });
        // Keeps an instance attached, so the timer op can always be issued.
        let res = (|| -> Result<i64, String> {
            let mut obj = load(&path)?;
            let (_link, id) = attach(&mut obj, "tm_ok")?;
            let mut calls = 0;
            for _ in 0..5 {
                calls += testmod::call(id, testmod::RSO_TESTMOD_OP_TIMER, 40)
                    .map_err(|e| format!("timer op: {}", errno_name(e)))?
                    .0;
                for _ in 0..50 {
                    match testmod::call(0, testmod::RSO_TESTMOD_OP_NOSLEEP, 1) {
                        Ok(_) | Err(libc::ENOENT) => {}
                        Err(e) => return Err(format!("nosleep: {}", errno_name(e))),
                    }
                }
            }
            Ok(calls)
        })();
        stop.store(true, Ordering::Relaxed);
        let cycles = churn
            .join()
            .map_err(|_| "churn thread panicked".to_string())?;
        Ok::<_, String>((res?, cycles?))
    })?;
    let bad = klog::bad_since(mark)?;
    ensure(bad.is_empty(), || {
        format!("the kernel log shows:\n{}", bad.join("\n"))
    })?;
    ensure(timer_calls > 0, || {
        "no call from the timer reached BPF".into()
    })?;
    ensure(cycles > 0, || "no attach/detach cycle ran".into())?;
    println!("# {timer_calls} calls from the timer, {cycles} attach/detach cycles");
    Ok(())
}

pub(crate) fn sleepable_refused_by_default(ctx: &mut Ctx) -> TestResult {
    ctx.load_hello()?;
    refused_with(
        ctx,
        "hello_sleepable",
        "attach to unsupported member add of struct hello_ops",
    )
}

pub(crate) fn sleepable_allowed_when_opted_in(ctx: &mut Ctx) -> TestResult {
    ctx.load_testmod()?;
    // tm_ok implements may_sleep (__rso_sleepable) with a struct_ops.s program.
    let mut obj =
        load(&ctx.obj("testmod")).map_err(|e| format!("sleepable may_sleep refused: {e}"))?;
    let (_link, id) = attach(&mut obj, "tm_ok")?;
    ensure_eq(
        "may_sleep(1)",
        testmod::call(id, testmod::RSO_TESTMOD_OP_MAY_SLEEP, 1).map(|r| r.0),
        Ok(2),
    )
}

pub(crate) fn init_member_fn_member_refused(ctx: &mut Ctx) -> TestResult {
    ctx.load_testmod()?;
    let err = load_attach_err(&ctx.obj("testmod_claim_op"), "tm_claim")?;
    ensure(
        err.contains("Invalid argument") || err.contains("-22"),
        || format!("claiming an op in init_member: want EINVAL, got: {err}"),
    )?;
    ensure_eq("instances", testmod::count(), Ok(0))?;
    // The module is still usable.
    let mut obj = load(&ctx.obj("testmod"))?;
    let (_link, id) = attach(&mut obj, "tm_ok")?;
    ensure_eq(
        "nosleep(2) afterwards",
        testmod::call(id, testmod::RSO_TESTMOD_OP_NOSLEEP, 2).map(|r| r.0),
        Ok(4),
    )
}

pub(crate) fn register_after_init_refused(ctx: &mut Ctx) -> TestResult {
    ctx.load_testmod()?;
    let mut obj = load(&ctx.obj("testmod"))?;
    let (_link, id) = attach(&mut obj, "tm_ok")?;
    ensure_eq(
        "ModuleInit::new() after init",
        testmod::call(id, testmod::RSO_TESTMOD_OP_REGISTER_LATE, 0).map(|r| r.0),
        Err(libc::EBUSY),
    )
}
