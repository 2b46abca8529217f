// SPDX-License-Identifier: GPL-2.0

//! Bad map values: refused by `validate` or `init_member` with a clear errno, nothing attached,
//! and the module still usable afterwards.

use crate::{
    bpf::{
        attach,
        errno_name,
        load,
        load_attach_err, //
    },
    ctx::{
        Ctx,
        FILTER,
        HELLO,
        TESTMOD, //
    },
    filter,
    harness::{
        ensure,
        ensure_eq,
        TestResult, //
    },
    hello,
    test,
    testmod, //
};

/// Whether libbpf's error `err` says EINVAL.
fn is_einval(err: &str) -> bool {
    err.contains("Invalid argument") || err.contains("EINVAL") || err.contains("-22")
}

test!(validate_rejects_bad_value, needs: [HELLO]);
fn validate_rejects_bad_value(ctx: &mut Ctx) -> TestResult {
    let err = load_attach_err(&ctx.obj("hello_bad_magic"), "hello_bad")?;
    ensure(is_einval(&err), || format!("want EINVAL, got: {err}"))?;
    ensure_eq("attached instances", hello::count(), Ok(0))?;
    // Nothing was lost: a good value still attaches.
    let mut obj = load(&ctx.obj("hello"))?;
    let (_link, id) = attach(&mut obj, "hello_link")?;
    let r = hello::call(id, hello::RSO_HELLO_OP_ADD, 2, 2).map_err(errno_name)?;
    ensure_eq("add(2, 2) after the refused value", r.ret, 4)
}

test!(validate_rejects_missing_op, needs: [FILTER]);
fn validate_rejects_missing_op(ctx: &mut Ctx) -> TestResult {
    let err = load_attach_err(&ctx.obj("filter_missing_op"), "filter_no_decide")?;
    ensure(is_einval(&err), || format!("want EINVAL, got: {err}"))?;
    ensure_eq(
        "verdict with nothing attached",
        filter::decide(1),
        Err(libc::ENOENT),
    )
}

test!(init_member_rejects_bad_data, needs: [TESTMOD]);
fn init_member_rejects_bad_data(ctx: &mut Ctx) -> TestResult {
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

test!(init_member_fn_member_refused, needs: [TESTMOD]);
fn init_member_fn_member_refused(ctx: &mut Ctx) -> TestResult {
    let err = load_attach_err(&ctx.obj("testmod_claim_op"), "tm_claim")?;
    ensure(is_einval(&err), || {
        format!("claiming an op in init_member: want EINVAL, got: {err}")
    })?;
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
