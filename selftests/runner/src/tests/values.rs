// SPDX-License-Identifier: GPL-2.0

//! Bad map values: refused by `validate` or `init_member` with a clear errno, nothing attached,
//! and the module still usable afterwards; then boundary and seeded random values in every data
//! member of every ops type.

use crate::{
    bpf::{
        attach,
        attach_with_bytes,
        errno_name,
        load,
        load_attach_err, //
    },
    ctx::{
        Ctx,
        Rng,
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
use libbpf_rs::{
    Link,
    Object, //
};
use std::path::Path;

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

/// Opens `obj`, writes `value` into the `u32` data member at `off` of its struct_ops map `map`,
/// loads and attaches it. `Ok(id)` of the attached map, whose link is in `links`;
/// `Err(message)` if it was refused.
fn attach_with(
    path: &Path,
    map: &str,
    off: usize,
    value: u32,
    links: &mut Vec<(Object, Link)>,
) -> Result<Result<u32, String>, String> {
    Ok(
        attach_with_bytes(path, map, off, &value.to_ne_bytes())?.map(|(obj, link, id)| {
            links.push((obj, link));
            id
        }),
    )
}

/// Boundary values of a `u32` around `limit`, then `n` seeded random ones.
fn values(rng: &mut Rng, limit: u32, n: usize) -> Vec<u32> {
    let mut v = vec![
        0,
        1,
        2,
        limit - 1,
        limit,
        limit + 1,
        i32::MAX as u32,
        1 << 31,
        u32::MAX,
    ];
    v.extend((0..n).map(|_| rng.next() as u32 >> rng.below(32)));
    v
}

test!(bad_input_map_values, needs: [HELLO, TESTMOD]);
fn bad_input_map_values(ctx: &mut Ctx) -> TestResult {
    println!(
        "# seed {} (make check T=bad_input_map_values SEED={} replays it)",
        ctx.seed, ctx.seed
    );
    let mut rng = Rng::new(ctx.seed);
    let (mut ok, mut refused) = (0, 0);
    // hello_ops.magic: validate refuses 0 (EINVAL); any other value reaches the module.
    let off = std::mem::offset_of!(hello::hello_ops, magic);
    for v in values(&mut rng, 0xc0ffee, 8) {
        let mut links = Vec::new();
        let got = attach_with(&ctx.obj("hello"), "hello_link", off, v, &mut links)?;
        let what = format!("hello_ops.magic = {v:#x}");
        match got {
            Ok(id) => {
                ensure(v != 0, || format!("{what} was accepted"))?;
                let r = hello::call(id, hello::RSO_HELLO_OP_ADD, 1, 2).map_err(errno_name)?;
                ensure_eq(
                    &format!("{what}: magic the module saw"),
                    r.magic,
                    i64::from(v),
                )?;
                ok += 1;
            }
            Err(e) => {
                ensure(v == 0 && is_einval(&e), || format!("{what}: refused: {e}"))?;
                refused += 1;
            }
        }
        ensure_eq(
            &format!("{what}: instances"),
            hello::count(),
            Ok(links.len() as i64),
        )?;
    }
    // testmod_ops.limit: init_member refuses values above RSO_TESTMOD_LIMIT_MAX (ERANGE).
    let max = testmod::RSO_TESTMOD_LIMIT_MAX;
    let off = std::mem::offset_of!(testmod::testmod_ops, limit);
    for v in values(&mut rng, max, 8) {
        let mut links = Vec::new();
        let got = attach_with(&ctx.obj("testmod"), "tm_ok", off, v, &mut links)?;
        let what = format!("testmod_ops.limit = {v}");
        match got {
            Ok(id) => {
                ensure(v <= max, || format!("{what} was accepted"))?;
                let r =
                    testmod::call(id, testmod::RSO_TESTMOD_OP_NOSLEEP, 1).map_err(errno_name)?;
                ensure_eq(&format!("{what}: limit the module saw"), r.1, i64::from(v))?;
                ok += 1;
            }
            Err(e) => {
                ensure(
                    v > max && e.contains("Numerical result out of range"),
                    || format!("{what}: refused: {e}"),
                )?;
                refused += 1;
            }
        }
    }
    // testmod_ops.claim_op: 1 makes init_member claim an op, which the layer refuses (EINVAL).
    let off = std::mem::offset_of!(testmod::testmod_ops, claim_op);
    for v in values(&mut rng, 1, 4) {
        let mut links = Vec::new();
        let got = attach_with(&ctx.obj("testmod"), "tm_ok", off, v, &mut links)?;
        let what = format!("testmod_ops.claim_op = {v}");
        match got {
            Ok(_) => {
                ensure(v != 1, || format!("{what} was accepted"))?;
                ok += 1;
            }
            Err(e) => {
                ensure(v == 1 && is_einval(&e), || format!("{what}: refused: {e}"))?;
                refused += 1;
            }
        }
    }
    println!("# {ok} values accepted, {refused} refused with the expected errno");
    ensure_eq(
        "instances left",
        (hello::count(), testmod::count()),
        (Ok(0), Ok(0)),
    )
}
