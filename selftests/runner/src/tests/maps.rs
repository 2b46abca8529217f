// SPDX-License-Identifier: GPL-2.0

//! Struct_ops maps and what can be seen of them: the INIT/INUSE/TOBEFREE states of a map
//! without a link, its value as `BPF_MAP_LOOKUP_ELEM` and bpftool show it, and the parameter
//! names (tags) of the generated stubs in the modules' BTF.

use crate::{
    bpf::{
        attach,
        errno_name,
        load,
        prog_id,
        with_module_btf, //
    },
    ctx::{
        Ctx,
        FILTER,
        FUSE,
        HELLO,
        TESTMOD, //
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
    libbpf_sys,
    MapCore,
    MapFlags,
    Object, //
};
use std::{
    ffi::{
        CStr,
        CString, //
    },
    process::Command,
};

/// `enum bpf_struct_ops_state` (include/linux/bpf.h).
const STATE_INIT: u32 = 0;
const STATE_INUSE: u32 = 1;
const STATE_TOBEFREE: u32 = 2;

/// Where `data` starts in a struct_ops map value: after the 8-byte
/// `struct bpf_struct_ops_common_value`, cacheline aligned.
const DATA_OFFSET: usize = 64;

/// A hello_ops map value as `BPF_MAP_LOOKUP_ELEM` returns it.
struct Value(Vec<u8>);

impl Value {
    fn u32_at(&self, off: usize) -> u32 {
        u32::from_ne_bytes(self.0[off..off + 4].try_into().unwrap_or_default())
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
        let off = DATA_OFFSET + off;
        u64::from_ne_bytes(self.0[off..off + 8].try_into().unwrap_or_default())
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

test!(map_no_link_lifecycle, needs: [HELLO]);
fn map_no_link_lifecycle(ctx: &mut Ctx) -> TestResult {
    let mut obj = load(&ctx.obj("hello_nolink"))?;
    let state = |obj: &Object| lookup(obj, "hello_nolink").map(|v| v.state());
    ensure_eq("state after load", state(&obj)?, STATE_INIT)?;
    ensure_eq("instances after load", hello::count(), Ok(0))?;
    let (link, id) = attach(&mut obj, "hello_nolink")?;
    ensure_eq("state after update", state(&obj)?, STATE_INUSE)?;
    let r = hello::call(id, hello::RSO_HELLO_OP_ADD, 20, 22).map_err(errno_name)?;
    ensure_eq("reg ran: add(20, 22) on the map", (r.ret, r.id), (42, id))?;
    let map = obj
        .maps()
        .find(|m| m.name() == "hello_nolink")
        .ok_or("no map")?;
    map.delete(&0u32.to_ne_bytes())
        .map_err(|e| format!("delete key 0: {e}"))?;
    ensure_eq("instances after delete (unreg ran)", hello::count(), Ok(0))?;
    ensure_eq("state after delete", state(&obj)?, STATE_TOBEFREE)?;
    // libbpf's detach of a map without a link deletes key 0 again; that fails, harmlessly.
    drop(link);
    Ok(())
}

test!(map_value_introspection, needs: [HELLO]);
fn map_value_introspection(ctx: &mut Ctx) -> TestResult {
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

test!(bpftool_dump_module_type, needs: [HELLO]);
fn bpftool_dump_module_type(ctx: &mut Ctx) -> TestResult {
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

/// Every op of every type, with its parameter names as the header declares them (tags
/// included), as `rust/rsogen.py --list` read them at build time:
/// `module type op param...` per line.
const HEADER_OPS: &str = include_str!(concat!(env!("OUT_DIR"), "/header_ops.txt"));

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

test!(generated_stub_tags, needs: [HELLO, FILTER, TESTMOD, FUSE]);
fn generated_stub_tags(ctx: &mut Ctx) -> TestResult {
    let mut checked = 0;
    for line in HEADER_OPS.lines() {
        let mut f = line.split_whitespace();
        let (Some(module), Some(ty), Some(op)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        // Every module of modules.list, including one added after the `needs` above.
        crate::kmod::ensure_loaded(&ctx.ko(module)?, module)?;
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
