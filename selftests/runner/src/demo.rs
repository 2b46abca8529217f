// SPDX-License-Identifier: GPL-2.0

//! The walk-through `make run` shows.

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
        HELLO, //
    },
    hello,
    kmod::{
        self,
        UNLOAD_TIMEOUT, //
    },
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
