// SPDX-License-Identifier: GPL-2.0

//! Shadow types of a module's struct_ops type in generated skeletons: a C program on a bpftool
//! skeleton and this runner on a libbpf-rs one set a data member and swap a program before load.

use crate::{
    bpf::errno_name,
    ctx::{
        Ctx,
        HELLO, //
    },
    harness::{
        ensure,
        ensure_eq,
        TestResult, //
    },
    hello,
    test, //
};
use libbpf_rs::{
    AsRawLibbpf,
    MapCore, //
};
use std::process::Command;

const SHADOW_MAGIC: i64 = 0x5ad0;

test!(shadow_vars_c_skeleton, needs: [HELLO]);
fn shadow_vars_c_skeleton(ctx: &mut Ctx) -> TestResult {
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

test!(shadow_vars_rust_skeleton, needs: [HELLO]);
fn shadow_vars_rust_skeleton(_ctx: &mut Ctx) -> TestResult {
    use hello_shadow_skel::HelloShadowSkelBuilder;
    use libbpf_rs::skel::{
        OpenSkel,
        SkelBuilder, //
    };

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
