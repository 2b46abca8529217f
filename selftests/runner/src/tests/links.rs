// SPDX-License-Identifier: GPL-2.0

//! Links and updates: detach by the link, by process exit and by epoll's view; link updates
//! with and without `update`, with the wrong old map, to the same map; one map, two links.

use crate::{
    bpf::{
        attach,
        errno_name,
        link_update,
        link_update_map,
        load,
        map_fd,
        map_id, //
    },
    ctx::{
        Ctx,
        KillOnDrop,
        FILTER,
        HELLO, //
    },
    filter,
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
    test, //
};
use std::{
    io::{
        BufRead,
        BufReader, //
    },
    os::fd::{
        AsFd,
        AsRawFd, //
    },
    process::Stdio,
};

test!(detach_on_process_exit, needs: [HELLO]);
fn detach_on_process_exit(ctx: &mut Ctx) -> TestResult {
    let mut child = KillOnDrop(
        ctx.hold_link_child()?
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("spawn: {e}"))?,
    );
    let mut line = String::new();
    let stdout = child.0.stdout.take().ok_or("no stdout")?;
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    ensure_eq("the child's first line", line.trim(), "ready")?;
    let attached = hello::count();
    // The link's file is released when the process exits: unreg runs before wait() returns.
    drop(child);
    ensure_eq("instances while the child holds the link", attached, Ok(1))?;
    ensure_eq(
        "instances after the child was killed",
        hello::count(),
        Ok(0),
    )?;
    kmod::rmmod_wait(HELLO, UNLOAD_TIMEOUT)?;
    ensure(!kmod::is_loaded(HELLO), || "rso_hello still loaded".into())
}

test!(detach_epollhup, needs: [HELLO]);
fn detach_epollhup(ctx: &mut Ctx) -> TestResult {
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
        let detached = link.detach();
        let count = hello::count();
        let mut out = libc::epoll_event { events: 0, u64: 0 };
        let after = libc::epoll_wait(ep, &mut out, 1, 2000);
        libc::close(ep);
        detached.map_err(|e| format!("detach: {e}"))?;
        ensure_eq("epoll_ctl", r, 0)?;
        ensure_eq("events before detach", before, 0)?;
        ensure_eq("instances after detach (unreg ran)", count, Ok(0))?;
        let events = out.events;
        ensure(after == 1 && events & libc::EPOLLHUP as u32 != 0, || {
            format!("after detach: {after} events, mask {events:#x}, want EPOLLHUP")
        })
    }
}

test!(link_update_replaces_ops, needs: [FILTER]);
fn link_update_replaces_ops(ctx: &mut Ctx) -> TestResult {
    let mut obj = load(&ctx.obj("filter"))?;
    let (link, id_a) = attach(&mut obj, "filter_a")?;
    let id_b = map_id(&obj, "filter_b")?;
    let v = filter::decide(3).map_err(errno_name)?;
    ensure_eq(
        "policy A: decide(3)",
        (v.verdict, v.id, v.audited),
        (1, id_a, false),
    )?;
    link_update_map(&link, &obj, "filter_b")
        .map_err(|e| format!("link update: {}", errno_name(e)))?;
    let v = filter::decide(3).map_err(errno_name)?;
    ensure_eq(
        "policy B: decide(3)",
        (v.verdict, v.id, v.audited),
        (0, id_b, true),
    )?;
    let v = filter::decide(101).map_err(errno_name)?;
    ensure_eq("policy B: decide(101)", v.verdict, 2)?;
    drop(link);
    ensure_eq("verdict after detach", filter::decide(1), Err(libc::ENOENT))
}

test!(link_update_unsupported, needs: [HELLO]);
fn link_update_unsupported(ctx: &mut Ctx) -> TestResult {
    let mut first = load(&ctx.obj("hello"))?;
    let second = load(&ctx.obj("hello"))?;
    let (link, id) = attach(&mut first, "hello_link")?;
    ensure_eq(
        "update of a hello_ops link (no update callback)",
        link_update_map(&link, &second, "hello_link"),
        Err(libc::EOPNOTSUPP),
    )?;
    let r = hello::call(0, hello::RSO_HELLO_OP_ADD, 1, 2).map_err(errno_name)?;
    ensure_eq("instance still attached", (r.id, r.ret), (id, 3))
}

test!(link_update_replace_wrong_old, needs: [FILTER]);
fn link_update_replace_wrong_old(ctx: &mut Ctx) -> TestResult {
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

test!(one_map_two_links, needs: [HELLO]);
fn one_map_two_links(ctx: &mut Ctx) -> TestResult {
    let mut obj = load(&ctx.obj("hello"))?;
    let (link1, id) = attach(&mut obj, "hello_link")?;
    // libbpf tolerates EBUSY from the second map update of a link map: a second link.
    let (link2, id2) = attach(&mut obj, "hello_link")?;
    ensure_eq("map id of the second link", id2, id)?;
    ensure_eq("instances", hello::count(), Ok(1))?;
    let add = || hello::call(id, hello::RSO_HELLO_OP_ADD, 1, 2).map(|r| r.ret);
    ensure_eq("add(1, 2)", add(), Ok(3))?;
    drop(link1);
    ensure_eq("add(1, 2) with one link left", add(), Ok(3))?;
    ensure_eq("instances with one link left", hello::count(), Ok(1))?;
    drop(link2);
    ensure_eq("add(1, 2) with no link", add(), Err(libc::ENOENT))?;
    drop(obj);
    kmod::rmmod_wait(HELLO, UNLOAD_TIMEOUT)
}

test!(link_update_same_map, needs: [FILTER]);
fn link_update_same_map(ctx: &mut Ctx) -> TestResult {
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
