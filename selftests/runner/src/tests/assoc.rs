// SPDX-License-Identifier: GPL-2.0

//! Programs associated with a struct_ops map (`bpf_program__assoc_struct_ops()`), and the
//! association a program used by two maps does not get.

use crate::{
    bpf::{
        attach,
        errno_name,
        load, //
    },
    ctx::{
        Ctx,
        TESTMOD, //
    },
    harness::{
        ensure,
        ensure_eq,
        TestResult, //
    },
    test,
    testmod, //
};
use libbpf_rs::{
    libbpf_sys,
    AsRawLibbpf,
    MapCore,
    Object, //
};
use std::os::fd::{
    AsFd,
    AsRawFd, //
};

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

test!(assoc_struct_ops, needs: [TESTMOD]);
fn assoc_struct_ops(ctx: &mut Ctx) -> TestResult {
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

test!(assoc_reuse_poisoned, needs: [TESTMOD]);
fn assoc_reuse_poisoned(ctx: &mut Ctx) -> TestResult {
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
