// SPDX-License-Identifier: GPL-2.0

//! A module's life cycle: registration at load, with or without BTF or a working init; the
//! module pinned while a map or link refers to it; unload and reload.

use crate::{
    bpf::{
        attach,
        errno_name,
        load,
        log as libbpf_log,
        module_btf_has, //
    },
    ctx::{
        dmesg,
        unload,
        Ctx,
        HELLO,
        TESTMOD, //
    },
    harness::{
        ensure,
        ensure_eq,
        TestResult, //
    },
    hello,
    kmod::{
        self,
        UNLOAD_TIMEOUT, //
    },
    test,
    testmod, //
};
use libbpf_rs::{
    MapCore,
    Object, //
};
use std::path::Path;

test!(module_load);
fn module_load(ctx: &mut Ctx) -> TestResult {
    unload(HELLO);
    kmod::insmod(&ctx.ko(HELLO)?)?;
    ensure(Path::new("/sys/kernel/btf/rso_hello").exists(), || {
        "/sys/kernel/btf/rso_hello is missing: the module has no BTF".into()
    })?;
    for ty in ["hello_ops", "bpf_struct_ops_hello_ops"] {
        ensure(module_btf_has(HELLO, ty)?, || {
            format!("libbpf finds no struct {ty} in rso_hello's BTF")
        })?;
    }
    ensure_eq("attached instances", hello::count(), Ok(0))
}

test!(rmmod_while_attached_fails, needs: [HELLO]);
fn rmmod_while_attached_fails(ctx: &mut Ctx) -> TestResult {
    let mut obj = load(&ctx.obj("hello"))?;
    let (link, _id) = attach(&mut obj, "hello_link")?;
    let e = kmod::rmmod(HELLO).err();
    ensure(e.as_deref().is_some_and(|e| e.contains("in use")), || {
        format!("rmmod with a link attached: want \"in use\", got {e:?}")
    })?;
    // Detached, but the map still exists: the module stays pinned.
    drop(link);
    let e = kmod::rmmod(HELLO).err();
    ensure(e.as_deref().is_some_and(|e| e.contains("in use")), || {
        format!("rmmod with the map alive: want \"in use\", got {e:?}")
    })?;
    ensure(kmod::is_loaded(HELLO), || "module gone".into())
}

test!(rmmod_after_detach_ok, needs: [HELLO]);
fn rmmod_after_detach_ok(ctx: &mut Ctx) -> TestResult {
    {
        let mut obj = load(&ctx.obj("hello"))?;
        let (_link, _id) = attach(&mut obj, "hello_link")?;
    }
    kmod::rmmod_wait(HELLO, UNLOAD_TIMEOUT)?;
    ensure(!kmod::is_loaded(HELLO), || "rso_hello still loaded".into())
}

test!(registration_without_btf_fails_loudly, cleanup: unload_hello);
fn registration_without_btf_fails_loudly(ctx: &mut Ctx) -> TestResult {
    unload(HELLO);
    let nobtf = ctx.build.join("nobtf").join(format!("{HELLO}.ko"));
    let res = kmod::insmod(&nobtf);
    let loaded = kmod::is_loaded(HELLO);
    let log = dmesg()?;
    ensure(res.is_err() && !loaded, || {
        format!("{} without BTF loaded: {res:?}", nobtf.display())
    })?;
    ensure(
        log.contains("struct_ops hello_ops: not registered: the module's BTF lacks"),
        || "no clear message in the kernel log".into(),
    )?;
    // The real module still loads afterwards.
    kmod::insmod(&ctx.ko(HELLO)?)
}

fn unload_hello(_ctx: &mut Ctx) {
    unload(HELLO);
}

test!(module_pinning_unattached_map);
fn module_pinning_unattached_map(ctx: &mut Ctx) -> TestResult {
    unload(HELLO);
    kmod::insmod(&ctx.ko(HELLO)?)?;
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
    match res {
        Ok(_) => Err("a hello_ops map was created with rso_hello unloaded".into()),
        Err(_) => ensure(log.contains("hello_ops is not found in kernel BTF"), || {
            format!("no clear error from libbpf:\n{log}")
        }),
    }
}

/// The id of the module BTF a struct_ops map of `obj` belongs to.
fn map_btf_obj_id(obj: &Object, name: &str) -> Result<u32, String> {
    let map = obj
        .maps()
        .find(|m| m.name() == name)
        .ok_or(format!("no map {name}"))?;
    Ok(map.info().map_err(|e| e.to_string())?.info.btf_vmlinux_id)
}

test!(reload_cycle, needs: [HELLO]);
fn reload_cycle(ctx: &mut Ctx) -> TestResult {
    let first = {
        let mut obj = load(&ctx.obj("hello"))?;
        let (_link, _id) = attach(&mut obj, "hello_link")?;
        map_btf_obj_id(&obj, "hello_link")?
    };
    kmod::rmmod_wait(HELLO, UNLOAD_TIMEOUT)?;
    kmod::insmod(&ctx.ko(HELLO)?)?;
    let mut obj = load(&ctx.obj("hello"))?;
    let (_link, id) = attach(&mut obj, "hello_link")?;
    let second = map_btf_obj_id(&obj, "hello_link")?;
    ensure(second != 0 && second > first, || {
        format!("module BTF id {first} before the reload, {second} after: want a new, larger id")
    })?;
    let r = hello::call(id, hello::RSO_HELLO_OP_ADD, 5, 6).map_err(errno_name)?;
    ensure_eq("add(5, 6) after the reload", r.ret, 11)
}

test!(init_failure_fails_load, cleanup: unload_testmod);
fn init_failure_fails_load(ctx: &mut Ctx) -> TestResult {
    unload(TESTMOD);
    let ko = ctx.ko(TESTMOD)?;
    let res = kmod::insmod_args(&ko, &["fail_init=1"]);
    let loaded = kmod::is_loaded(TESTMOD);
    let log = dmesg()?;
    ensure(res.is_err() && !loaded, || {
        format!("rso_testmod loaded with a failing init: {res:?}")
    })?;
    ensure(
        log.contains("Error in init bpf_struct_ops testmod_ops"),
        || "no message from the BPF core about the failed init".into(),
    )?;
    // Without the fault, init runs and the module loads.
    kmod::insmod(&ko)?;
    ensure(dmesg()?.contains("testmod_ops: init"), || {
        "init did not run on a normal load".into()
    })
}

fn unload_testmod(_ctx: &mut Ctx) {
    unload(TESTMOD);
}

test!(register_after_init_refused, needs: [TESTMOD]);
fn register_after_init_refused(ctx: &mut Ctx) -> TestResult {
    let mut obj = load(&ctx.obj("testmod"))?;
    let (_link, id) = attach(&mut obj, "tm_ok")?;
    ensure_eq(
        "the module's init run again after the load",
        testmod::call(id, testmod::RSO_TESTMOD_OP_REGISTER_LATE, 0).map(|r| r.0),
        Err(libc::EBUSY),
    )?;
    // Refused before the module's own init body ran again (not by a registration it made).
    let (_, runs) =
        testmod::call_out(id, testmod::RSO_TESTMOD_OP_INIT_FROM_WORK, 0).map_err(errno_name)?;
    ensure_eq("times the module's init body ran", runs, 1)
}

test!(register_from_work_refused, cleanup: unload_testmod);
fn register_from_work_refused(ctx: &mut Ctx) -> TestResult {
    unload(TESTMOD);
    let ko = ctx.ko(TESTMOD)?;
    // The module's init spawns a work item that runs the init again while the module is still
    // COMING, and waits for it: the layer must refuse the second run (EALREADY), so that the
    // module's own init body runs once.
    kmod::insmod_args(&ko, &["init_from_work=1"])?;
    let mut obj = load(&ctx.obj("testmod"))?;
    let (_link, id) = attach(&mut obj, "tm_ok")?;
    let (ret, runs) =
        testmod::call_out(id, testmod::RSO_TESTMOD_OP_INIT_FROM_WORK, 0).map_err(errno_name)?;
    ensure_eq(
        "the init run again from a work item",
        ret,
        -i64::from(libc::EALREADY),
    )?;
    ensure_eq("times the module's init body ran", runs, 1)
}

test!(one_c_type_two_bindings_refused, cleanup: unload_testmod);
fn one_c_type_two_bindings_refused(ctx: &mut Ctx) -> TestResult {
    unload(TESTMOD);
    let ko = ctx.ko(TESTMOD)?;
    // bind_twice=1: the module registers testmod_ops a second time, through a second Rust type
    // of the same C type (its generated file included twice). The layer must refuse it, so the
    // load fails.
    let res = kmod::insmod_args(&ko, &["bind_twice=1"]);
    ensure(res.is_err() && !kmod::is_loaded(TESTMOD), || {
        format!("rso_testmod loaded with testmod_ops bound twice: {res:?}")
    })?;
    ensure(
        dmesg()?.contains("struct_ops testmod_ops: the module registered a type of this name"),
        || "no message from the layer about the second binding".into(),
    )?;
    kmod::insmod(&ko)
}

test!(prog_of_earlier_load_refused, needs: [TESTMOD], cleanup: unload_testmod);
/// A program verified against one load of `rso_testmod` put into a map of the next load. The
/// BPF core checks a program's type id and member index, not which BTF the id is of
/// (`bpf_struct_ops_map_update_elem()`), so a program of another module whose type has the same
/// id would pass too; the layer's `validate` checks each program's BTF and refuses it.
fn prog_of_earlier_load_refused(ctx: &mut Ctx) -> TestResult {
    use std::os::fd::{
        AsFd,
        AsRawFd,
        OwnedFd, //
    };
    let path = ctx.obj("testmod");
    let nosleep = |obj: &Object| -> Result<OwnedFd, String> {
        obj.progs()
            .find(|p| p.name() == "tm_nosleep")
            .ok_or("no program tm_nosleep")?
            .as_fd()
            .try_clone_to_owned()
            .map_err(|e| format!("dup: {e}"))
    };
    // The object's maps, which pin the module, close with it; the program stays.
    let old = nosleep(&load(&path)?)?;
    kmod::rmmod_wait(TESTMOD, UNLOAD_TIMEOUT)?;
    kmod::insmod(&ctx.ko(TESTMOD)?)?;
    // The kernel's value: `struct bpf_struct_ops_common_value`, then (cache-line aligned) `struct
    // testmod_ops`, whose first member is `nosleep`; every other member 0. Written to the map
    // `tm_ok` of a fresh object of this load.
    let data = crate::bpf::value_data_offset(TESTMOD, "testmod_ops")?;
    let update = |prog: i32| -> Result<Result<(), i32>, String> {
        let obj = load(&path)?;
        let map = obj
            .maps()
            .find(|m| m.name() == "tm_ok")
            .ok_or("no map tm_ok")?;
        let mut value = vec![0u8; map.value_size() as usize];
        value
            .get_mut(data..data + 8)
            .ok_or("the value is too small")?
            .copy_from_slice(&(prog as u64).to_ne_bytes());
        let key = 0u32;
        // SAFETY: `key` and `value` are valid for the map's key and value sizes.
        let r = unsafe {
            libbpf_rs::libbpf_sys::bpf_map_update_elem(
                map.as_fd().as_raw_fd(),
                std::ptr::from_ref(&key).cast(),
                value.as_ptr().cast(),
                0,
            )
        };
        Ok(if r == 0 { Ok(()) } else { Err(-r) })
    };
    // The control: a program of this load is accepted (so the value is laid out right).
    let own = nosleep(&load(&path)?)?;
    ensure_eq(
        "the program of this load in nosleep",
        update(own.as_raw_fd())?,
        Ok(()),
    )?;
    ensure_eq(
        "a program of the earlier load in nosleep",
        update(old.as_raw_fd())?,
        Err(libc::EINVAL),
    )?;
    ensure(
        dmesg()?.contains("was verified against another BTF"),
        || "no message from the layer about the program's BTF".into(),
    )
}
