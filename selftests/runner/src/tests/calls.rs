// SPDX-License-Identifier: GPL-2.0

//! Calls from the modules into BPF: every argument kind, data the module copied from the map
//! value, several instances by map id, sleepable ops, helpers, and calls from a timer while
//! instances come and go.

use crate::{
    bpf::{
        attach,
        errno_name,
        load, //
    },
    ctx::{
        Ctx,
        HELLO,
        TESTMOD, //
    },
    harness::{
        ensure,
        ensure_eq,
        skip,
        TestResult, //
    },
    hello,
    test,
    testmod, //
};
use std::{
    sync::atomic::{
        AtomicBool,
        Ordering, //
    },
    time::Duration,
};

/// The magic `hello.bpf.c` stores in its `hello_link` map value.
const HELLO_MAGIC: i64 = 0xc0ffee;

test!(attach_link_calls_ops, needs: [HELLO]);
fn attach_link_calls_ops(ctx: &mut Ctx) -> TestResult {
    let mut obj = load(&ctx.obj("hello"))?;
    let (link, id) = attach(&mut obj, "hello_link")?;
    ensure_eq("attached instances", hello::count(), Ok(1))?;
    for (a, b) in [(40, 2), (-7, 3), (i32::MAX as i64, 0), (123456, -654321)] {
        let r = hello::call(id, hello::RSO_HELLO_OP_ADD, a, b).map_err(errno_name)?;
        ensure_eq(&format!("add({a}, {b})"), r.ret, a + b)?;
        ensure_eq("instance called", r.id, id)?;
    }
    for x in [5, -9, 0] {
        let r = hello::call(0, hello::RSO_HELLO_OP_NEGATE, x, 0).map_err(errno_name)?;
        ensure_eq(&format!("negate({x})"), r.ret, -x)?;
    }
    // SAFETY: gettid has no preconditions.
    let tid = i64::from(unsafe { libc::gettid() });
    let r = hello::call(id, hello::RSO_HELLO_OP_TASK_PID, 0, 0).map_err(errno_name)?;
    ensure_eq("task_pid(current)", r.ret, tid)?;
    drop(link);
    ensure_eq("attached instances after detach", hello::count(), Ok(0))?;
    ensure_eq(
        "call after detach",
        hello::call(id, hello::RSO_HELLO_OP_ADD, 1, 1).map(|r| r.ret),
        Err(libc::ENOENT),
    )
}

test!(nullable_arg, needs: [HELLO]);
fn nullable_arg(ctx: &mut Ctx) -> TestResult {
    let mut obj = load(&ctx.obj("hello"))?;
    let (_link, id) = attach(&mut obj, "hello_link")?;
    let r = hello::call(id, hello::RSO_HELLO_OP_TASK_PID_NULL, 0, 0).map_err(errno_name)?;
    ensure_eq("task_pid(NULL) (the program's NULL branch)", r.ret, -1)
}

test!(init_member_data, needs: [HELLO]);
fn init_member_data(ctx: &mut Ctx) -> TestResult {
    let mut obj = load(&ctx.obj("hello"))?;
    let (_link, id) = attach(&mut obj, "hello_link")?;
    let r = hello::call(id, hello::RSO_HELLO_OP_NEGATE, 1, 0).map_err(errno_name)?;
    ensure_eq("magic seen by the module", r.magic, HELLO_MAGIC)
}

test!(multi_instance_by_id, needs: [HELLO]);
fn multi_instance_by_id(ctx: &mut Ctx) -> TestResult {
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

test!(testmod_attach_calls_ops, needs: [TESTMOD]);
/// The control for the verifier's refusals of testmod_ops programs: a value that follows every
/// rule, with a sleepable program on `may_sleep`, attaches and works.
fn testmod_attach_calls_ops(ctx: &mut Ctx) -> TestResult {
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

test!(refcounted_arg, needs: [TESTMOD]);
fn refcounted_arg(ctx: &mut Ctx) -> TestResult {
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

test!(typed_call_arg_kinds, needs: [TESTMOD]);
fn typed_call_arg_kinds(ctx: &mut Ctx) -> TestResult {
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

test!(struct_args, needs: [TESTMOD]);
/// An op's struct arguments: a program writes one passed by `&mut` (the module sees it), and one
/// passed by `&` only as the copy the layer hands it (the module's stays unchanged).
fn struct_args(ctx: &mut Ctx) -> TestResult {
    let mut obj = load(&ctx.obj("testmod"))?;
    let (_link, id) = attach(&mut obj, "tm_ok")?;
    ensure_eq(
        "args_inout({21, 0}): (ret, args.b)",
        testmod::call_out(id, testmod::RSO_TESTMOD_OP_ARGS_INOUT, 21),
        Ok((1, 42)),
    )?;
    ensure_eq(
        "args_in({21, 0}), which writes b = 99: (ret, args.b)",
        testmod::call_out(id, testmod::RSO_TESTMOD_OP_ARGS_IN, 21),
        Ok((21, 0)),
    )
}

test!(sleepable_allowed_when_opted_in, needs: [TESTMOD]);
fn sleepable_allowed_when_opted_in(ctx: &mut Ctx) -> TestResult {
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

test!(helper_allowed_by_default, needs: [HELLO]);
/// The control of `verifier_ops_override` (a verifier test): with the default helper list, a
/// hello_ops program may call `bpf_get_prandom_u32()`, which rso_testmod's `allow_helper` refuses.
fn helper_allowed_by_default(ctx: &mut Ctx) -> TestResult {
    let mut obj = load(&ctx.obj("hello_helper"))?;
    let (_link, id) = attach(&mut obj, "hello_random")?;
    let r = hello::call(id, hello::RSO_HELLO_OP_ADD, 2, 3).map_err(errno_name)?;
    ensure_eq("add(2, 3) of the program calling the helper", r.ret, 5)
}

test!(lookup_from_timer, needs: [TESTMOD]);
fn lookup_from_timer(ctx: &mut Ctx) -> TestResult {
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
    // A lockdep report or a splat of the timer path fails the test: the harness checks the log
    // after each test.
    ensure(timer_calls > 0, || {
        "no call from the timer reached BPF".into()
    })?;
    ensure(cycles > 0, || "no attach/detach cycle ran".into())?;
    println!("# {timer_calls} calls from the timer, {cycles} attach/detach cycles");
    Ok(())
}

test!(ref_leak_refused, needs: [TESTMOD]);
fn ref_leak_refused(ctx: &mut Ctx) -> TestResult {
    let path = ctx.obj("testmod_ref_return");
    crate::bpf::log::install();
    let loaded = load(&path);
    let log = crate::bpf::log::take();
    let mut obj = match loaded {
        Err(e) => {
            ensure(log.contains("Unreleased reference"), || {
                format!("refused, but not for the reference it returns: {e}\n{log}")
            })?;
            println!("# this kernel refuses a program that returns its __ref task from an int op");
            return Ok(());
        }
        Ok(obj) => obj,
    };
    // The kernel lacks the verifier fix: measure what each call leaks, from a thread of its own
    // (the leaked reference keeps that thread's task_struct forever).
    let (_link, id) = attach(&mut obj, "tm_ref_return")?;
    let leaked = std::thread::spawn(move || {
        testmod::call_out(id, testmod::RSO_TESTMOD_OP_TAKE_TASK_REFS, 0)
    })
    .join()
    .map_err(|_| "call thread panicked".to_string())?
    .map_err(errno_name)?
    .1;
    let what = format!(
        "the program loaded, and a call leaked {leaked} rcu_users reference(s) of the calling \
         task: this kernel lacks kernel/patches/bpf/0001"
    );
    if leaked == 0 {
        println!("# the program loaded, but the call leaked no reference");
        return Ok(());
    }
    if ctx.ours() {
        // Our own test kernels carry the patch.
        return Err(what);
    }
    Err(skip(&what))
}

test!(sleepable_from_atomic_refused, needs: [TESTMOD]);
fn sleepable_from_atomic_refused(ctx: &mut Ctx) -> TestResult {
    let mut obj = load(&ctx.obj("testmod"))?;
    let (_link, id) = attach(&mut obj, "tm_ok")?;
    // In process context the sleepable op is called.
    let r = testmod::call(id, testmod::RSO_TESTMOD_OP_MAY_SLEEP, 4).map_err(errno_name)?;
    ensure_eq("may_sleep(4) from an ioctl", r.0, 5)?;
    // From a timer (softirq) the layer refuses it before the program runs: a sleepable program
    // there would fault and sleep in atomic context (a splat, which the log check catches).
    let (reached, refused) =
        testmod::call_out(id, testmod::RSO_TESTMOD_OP_TIMER_SLEEPABLE, 5).map_err(errno_name)?;
    ensure_eq(
        "sleepable calls from the timer that reached BPF",
        reached,
        0,
    )?;
    // Five ticks of eight calls each, all refused.
    ensure_eq("sleepable calls from the timer refused", refused, 40)
}
