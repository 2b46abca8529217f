// SPDX-License-Identifier: GPL-2.0

//! The rust-struct-ops selftests. Runs inside the test VM as root (see `scripts/vm.sh`).
//!
//! ```text
//! rso-selftests --top <repository> --build <build dir> check   # all tests, KTAP
//! rso-selftests --top <repository> --build <build dir> demo    # the README's walk-through
//! ```

mod dev;
mod filter;
mod hello;
mod klog;
mod kmod;
mod ktap;
mod layer;
mod seeds;
mod testmod;

/// What libbpf logs (verifier logs among it), captured so tests can check it.
mod libbpf_log {
    use libbpf_rs::PrintLevel;
    use std::sync::Mutex;

    static LOG: Mutex<String> = Mutex::new(String::new());

    fn capture(_level: PrintLevel, msg: String) {
        if let Ok(mut log) = LOG.lock() {
            log.push_str(&msg);
        }
    }

    /// Routes libbpf's warnings into the capture buffer.
    pub(crate) fn install() {
        libbpf_rs::set_print(Some((PrintLevel::Warn, capture)));
    }

    /// Returns and clears what was captured.
    pub(crate) fn take() -> String {
        LOG.lock()
            .map(|mut l| std::mem::take(&mut *l))
            .unwrap_or_default()
    }
}

use ktap::{
    ensure,
    ensure_eq,
    Test,
    TestResult, //
};
use libbpf_rs::{
    libbpf_sys,
    AsRawLibbpf,
    Link,
    MapCore,
    Object,
    ObjectBuilder, //
};
use std::{
    ffi::CString,
    io::{
        BufRead,
        BufReader, //
    },
    os::fd::{
        AsFd,
        AsRawFd, //
    },
    path::{
        Path,
        PathBuf, //
    },
    process::{
        Command,
        Stdio, //
    },
    time::Duration,
};

pub(crate) const HELLO: &str = "rso_hello";
const FILTER: &str = "rso_filter";
const TESTMOD: &str = "rso_testmod";
const HELLO_MAGIC: i64 = 0xc0ffee;
/// How long a struct_ops map may take to be freed, and so to drop its module reference, after its
/// last fd and link are gone: the kernel frees it after RCU grace periods, which are slow under
/// TCG on a loaded machine.
pub(crate) const UNLOAD_TIMEOUT: Duration = Duration::from_secs(30);

/// What the tests share.
pub(crate) struct Ctx {
    pub(crate) top: PathBuf,
    pub(crate) build: PathBuf,
    pub(crate) bpftool: PathBuf,
}

impl Ctx {
    pub(crate) fn ko(&self, name: &str) -> PathBuf {
        let dir = name.strip_prefix("rso_").unwrap_or(name);
        let parent = if name == TESTMOD {
            "selftests"
        } else {
            "samples"
        };
        self.top.join(parent).join(dir).join(format!("{name}.ko"))
    }

    pub(crate) fn obj(&self, name: &str) -> PathBuf {
        self.build.join("bpf").join(format!("{name}.bpf.o"))
    }

    pub(crate) fn load_hello(&self) -> Result<(), String> {
        kmod::ensure_loaded(&self.ko(HELLO), HELLO)
    }

    pub(crate) fn load_filter(&self) -> Result<(), String> {
        kmod::ensure_loaded(&self.ko(FILTER), FILTER)
    }

    /// This runner, as the `hold-link` child that attaches `hello_link` and waits.
    pub(crate) fn hold_link_child(&self) -> Result<Command, String> {
        let me = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut cmd = Command::new(me);
        cmd.arg("--top")
            .arg(&self.top)
            .arg("--build")
            .arg(&self.build)
            .arg("hold-link");
        Ok(cmd)
    }

    pub(crate) fn load_testmod(&self) -> Result<(), String> {
        kmod::ensure_loaded(&self.ko(TESTMOD), TESTMOD)
    }
}

/// Opens and loads a BPF object.
pub(crate) fn load(path: &Path) -> Result<Object, String> {
    ObjectBuilder::default()
        .open_file(path)
        .and_then(|o| o.load())
        .map_err(|e| format!("{}: {e:#}", path.display()))
}

/// Attaches the struct_ops map `name` of `obj`; returns the link and the map id.
pub(crate) fn attach(obj: &mut Object, name: &str) -> Result<(Link, u32), String> {
    let mut map = obj
        .maps_mut()
        .find(|m| m.name() == name)
        .ok_or_else(|| format!("no map {name}"))?;
    let id = map.info().map_err(|e| format!("map info: {e}"))?.info.id;
    let link = map
        .attach_struct_ops()
        .map_err(|e| format!("attach {name}: {e:#}"))?;
    Ok((link, id))
}

pub(crate) fn errno_name(e: i32) -> String {
    std::io::Error::from_raw_os_error(e).to_string()
}

/// Runs `f` on the module's BTF, as libbpf reads it (split on the vmlinux BTF).
pub(crate) fn with_module_btf<R>(
    module: &str,
    f: impl FnOnce(*const libbpf_sys::btf) -> R,
) -> Result<R, String> {
    let cmod = CString::new(module).map_err(|e| e.to_string())?;
    // SAFETY: FFI calls with a valid C string; every BTF object loaded here is freed below, after
    // `f`, which gets a valid BTF object.
    unsafe {
        let vmlinux = libbpf_sys::btf__load_vmlinux_btf();
        if vmlinux.is_null() {
            return Err("libbpf cannot load the vmlinux BTF".into());
        }
        let btf = libbpf_sys::btf__load_module_btf(cmod.as_ptr(), vmlinux);
        if btf.is_null() {
            libbpf_sys::btf__free(vmlinux);
            return Err(format!("libbpf cannot load {module}'s BTF"));
        }
        let r = f(btf);
        libbpf_sys::btf__free(btf);
        libbpf_sys::btf__free(vmlinux);
        Ok(r)
    }
}

/// Whether the module's BTF, as libbpf reads it, holds struct `name`.
fn module_btf_has(module: &str, name: &str) -> Result<bool, String> {
    let name = CString::new(name).map_err(|e| e.to_string())?;
    with_module_btf(module, |btf| {
        // SAFETY: `btf` is valid for the call; `name` is a C string.
        let id = unsafe {
            libbpf_sys::btf__find_by_name_kind(btf, name.as_ptr(), libbpf_sys::BTF_KIND_STRUCT)
        };
        id > 0
    })
}

fn module_load(ctx: &mut Ctx) -> TestResult {
    if kmod::is_loaded(HELLO) {
        kmod::rmmod_wait(HELLO, UNLOAD_TIMEOUT)?;
    }
    kmod::insmod(&ctx.ko(HELLO))?;
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

fn attach_link_calls_ops(ctx: &mut Ctx) -> TestResult {
    ctx.load_hello()?;
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

fn nullable_arg(ctx: &mut Ctx) -> TestResult {
    ctx.load_hello()?;
    let mut obj = load(&ctx.obj("hello"))?;
    let (_link, id) = attach(&mut obj, "hello_link")?;
    let r = hello::call(id, hello::RSO_HELLO_OP_TASK_PID_NULL, 0, 0).map_err(errno_name)?;
    ensure_eq("task_pid(NULL) (the program's NULL branch)", r.ret, -1)
}

fn init_member_data(ctx: &mut Ctx) -> TestResult {
    ctx.load_hello()?;
    let mut obj = load(&ctx.obj("hello"))?;
    let (_link, id) = attach(&mut obj, "hello_link")?;
    let r = hello::call(id, hello::RSO_HELLO_OP_NEGATE, 1, 0).map_err(errno_name)?;
    ensure_eq("magic seen by the module", r.magic, HELLO_MAGIC)
}

/// Loads `obj` and attaches its map `map` (libbpf writes a `.struct_ops.link` map's value when it
/// attaches it); returns the error, or fails if both worked.
pub(crate) fn load_attach_err(path: &Path, map: &str) -> Result<String, String> {
    let mut obj = match load(path) {
        Ok(obj) => obj,
        Err(e) => return Ok(e),
    };
    match attach(&mut obj, map) {
        Ok(_) => Err(format!("{map} of {} was accepted", path.display())),
        Err(e) => Ok(e),
    }
}

fn validate_rejects_bad_value(ctx: &mut Ctx) -> TestResult {
    ctx.load_hello()?;
    let err = load_attach_err(&ctx.obj("hello_bad_magic"), "hello_bad")?;
    ensure(
        err.contains("Invalid argument") || err.contains("EINVAL") || err.contains("-22"),
        || format!("want EINVAL, got: {err}"),
    )?;
    ensure_eq("attached instances", hello::count(), Ok(0))?;
    // Nothing was lost: a good value still attaches.
    let mut obj = load(&ctx.obj("hello"))?;
    let (_link, id) = attach(&mut obj, "hello_link")?;
    let r = hello::call(id, hello::RSO_HELLO_OP_ADD, 2, 2).map_err(errno_name)?;
    ensure_eq("add(2, 2) after the refused value", r.ret, 4)
}

fn rmmod_while_attached_fails(ctx: &mut Ctx) -> TestResult {
    ctx.load_hello()?;
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

fn rmmod_after_detach_ok(ctx: &mut Ctx) -> TestResult {
    ctx.load_hello()?;
    {
        let mut obj = load(&ctx.obj("hello"))?;
        let (_link, _id) = attach(&mut obj, "hello_link")?;
    }
    kmod::rmmod_wait(HELLO, UNLOAD_TIMEOUT)?;
    ensure(!kmod::is_loaded(HELLO), || "rso_hello still loaded".into())
}

fn detach_on_process_exit(ctx: &mut Ctx) -> TestResult {
    ctx.load_hello()?;
    let mut child = ctx
        .hold_link_child()?
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawn: {e}"))?;
    let mut line = String::new();
    let stdout = child.stdout.take().ok_or("no stdout")?;
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    if line.trim() != "ready" {
        let _ = child.kill();
        let _ = child.wait();
        return Err(format!("child did not attach: {line:?}"));
    }
    let attached = hello::count();
    child.kill().map_err(|e| e.to_string())?;
    child.wait().map_err(|e| e.to_string())?;
    ensure_eq("instances while the child holds the link", attached, Ok(1))?;
    // The link's file is released when the process exits: unreg runs before wait() returns.
    ensure_eq(
        "instances after the child was killed",
        hello::count(),
        Ok(0),
    )?;
    kmod::rmmod_wait(HELLO, UNLOAD_TIMEOUT)?;
    ensure(!kmod::is_loaded(HELLO), || "rso_hello still loaded".into())
}

/// The fd of the struct_ops map `name` of `obj`.
pub(crate) fn map_fd(obj: &Object, name: &str) -> Result<i32, String> {
    obj.maps()
        .find(|m| m.name() == name)
        .map(|m| m.as_fd().as_raw_fd())
        .ok_or_else(|| format!("no map {name}"))
}

/// `BPF_LINK_UPDATE` of a struct_ops link to the map `new_fd`, whose value must be written
/// already; with `old_fd`, as `BPF_F_REPLACE` of that map. `Err(errno)` on failure.
pub(crate) fn link_update(link: &Link, new_fd: i32, old_fd: Option<i32>) -> Result<(), i32> {
    let opts = libbpf_sys::bpf_link_update_opts {
        sz: std::mem::size_of::<libbpf_sys::bpf_link_update_opts>() as _,
        flags: if old_fd.is_some() {
            libbpf_sys::BPF_F_REPLACE
        } else {
            0
        },
        old_map_fd: old_fd.unwrap_or(0) as _,
        ..Default::default()
    };
    // SAFETY: Valid fds and a fully initialised options struct.
    let r = unsafe { libbpf_sys::bpf_link_update(link.as_fd().as_raw_fd(), new_fd, &opts) };
    if r < 0 {
        Err(-r)
    } else {
        Ok(())
    }
}

/// `bpf_link__update_map()`: writes the value of the struct_ops map `name` of `obj` (libbpf
/// writes a `.struct_ops.link` map's value only when it attaches or updates with it), then
/// switches `link` to it. `Err(errno)` on failure.
pub(crate) fn link_update_map(link: &Link, obj: &Object, name: &str) -> Result<(), i32> {
    let map = obj.maps().find(|m| m.name() == name).ok_or(libc::ENOENT)?;
    // SAFETY: Both pointers come from live libbpf-rs objects.
    let r = unsafe {
        libbpf_sys::bpf_link__update_map(
            link.as_libbpf_object().as_ptr(),
            map.as_libbpf_object().as_ptr(),
        )
    };
    if r < 0 {
        Err(-r)
    } else {
        Ok(())
    }
}

fn validate_rejects_missing_op(ctx: &mut Ctx) -> TestResult {
    ctx.load_filter()?;
    let err = load_attach_err(&ctx.obj("filter_missing_op"), "filter_no_decide")?;
    ensure(
        err.contains("Invalid argument") || err.contains("-22"),
        || format!("want EINVAL, got: {err}"),
    )?;
    ensure_eq(
        "verdict with nothing attached",
        filter::decide(1),
        Err(libc::ENOENT),
    )
}

fn link_update_replaces_ops(ctx: &mut Ctx) -> TestResult {
    ctx.load_filter()?;
    let mut obj = load(&ctx.obj("filter"))?;
    let (link, id_a) = attach(&mut obj, "filter_a")?;
    let id_b = obj
        .maps()
        .find(|m| m.name() == "filter_b")
        .ok_or("no map filter_b")?
        .info()
        .map_err(|e| e.to_string())?
        .info
        .id;
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

fn link_update_unsupported(ctx: &mut Ctx) -> TestResult {
    ctx.load_hello()?;
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

fn registration_without_btf_fails_loudly(ctx: &mut Ctx) -> TestResult {
    if kmod::is_loaded(HELLO) {
        kmod::rmmod_wait(HELLO, UNLOAD_TIMEOUT)?;
    }
    let nobtf = ctx.build.join("nobtf").join(format!("{HELLO}.ko"));
    let res = kmod::insmod(&nobtf);
    let loaded = kmod::is_loaded(HELLO);
    let log = Command::new("dmesg").output().map_err(|e| e.to_string())?;
    let log = String::from_utf8_lossy(&log.stdout);
    ensure(res.is_err() && !loaded, || {
        format!("{} without BTF loaded: {res:?}", nobtf.display())
    })?;
    ensure(
        log.contains("struct_ops hello_ops: not registered: the module's BTF lacks"),
        || "no clear message in the kernel log".into(),
    )?;
    // The real module still loads afterwards.
    kmod::insmod(&ctx.ko(HELLO))
}

fn kernel_log_clean(_ctx: &mut Ctx) -> TestResult {
    klog::check()
}

const TESTS: &[Test<Ctx>] = &[
    Test {
        name: "module_load",
        run: module_load,
    },
    Test {
        name: "attach_link_calls_ops",
        run: attach_link_calls_ops,
    },
    Test {
        name: "nullable_arg",
        run: nullable_arg,
    },
    Test {
        name: "init_member_data",
        run: init_member_data,
    },
    Test {
        name: "validate_rejects_bad_value",
        run: validate_rejects_bad_value,
    },
    Test {
        name: "rmmod_while_attached_fails",
        run: rmmod_while_attached_fails,
    },
    Test {
        name: "rmmod_after_detach_ok",
        run: rmmod_after_detach_ok,
    },
    Test {
        name: "detach_on_process_exit",
        run: detach_on_process_exit,
    },
    Test {
        name: "validate_rejects_missing_op",
        run: validate_rejects_missing_op,
    },
    Test {
        name: "link_update_replaces_ops",
        run: link_update_replaces_ops,
    },
    Test {
        name: "link_update_unsupported",
        run: link_update_unsupported,
    },
    Test {
        name: "registration_without_btf_fails_loudly",
        run: registration_without_btf_fails_loudly,
    },
    Test {
        name: "map_no_link_lifecycle",
        run: seeds::map_no_link_lifecycle,
    },
    Test {
        name: "map_value_introspection",
        run: seeds::map_value_introspection,
    },
    Test {
        name: "multi_instance_by_id",
        run: seeds::multi_instance_by_id,
    },
    Test {
        name: "detach_epollhup",
        run: seeds::detach_epollhup,
    },
    Test {
        name: "link_update_replace_wrong_old",
        run: seeds::link_update_replace_wrong_old,
    },
    Test {
        name: "nullable_unchecked_rejected",
        run: seeds::nullable_unchecked_rejected,
    },
    Test {
        name: "module_pinning_unattached_map",
        run: seeds::module_pinning_unattached_map,
    },
    Test {
        name: "reload_cycle",
        run: seeds::reload_cycle,
    },
    Test {
        name: "unprivileged_denied",
        run: seeds::unprivileged_denied,
    },
    Test {
        name: "init_failure_fails_load",
        run: seeds::init_failure_fails_load,
    },
    Test {
        name: "verifier_ops_override",
        run: seeds::verifier_ops_override,
    },
    Test {
        name: "unsupported_member",
        run: seeds::unsupported_member,
    },
    Test {
        name: "testmod_attach_calls_ops",
        run: seeds::testmod_ops_work,
    },
    Test {
        name: "refcounted_arg",
        run: seeds::refcounted_arg,
    },
    Test {
        name: "refcounted_leak_rejected",
        run: seeds::refcounted_leak_rejected,
    },
    Test {
        name: "check_member_rejects",
        run: seeds::check_member_rejects,
    },
    Test {
        name: "init_member_rejects_bad_data",
        run: seeds::init_member_rejects_bad_data,
    },
    Test {
        name: "assoc_struct_ops",
        run: seeds::assoc_struct_ops,
    },
    Test {
        name: "assoc_reuse_poisoned",
        run: seeds::assoc_reuse_poisoned,
    },
    Test {
        name: "bpftool_dump_module_type",
        run: seeds::bpftool_dump_module_type,
    },
    Test {
        name: "shadow_vars_c_skeleton",
        run: seeds::shadow_vars_c_skeleton,
    },
    Test {
        name: "shadow_vars_rust_skeleton",
        run: seeds::shadow_vars_rust_skeleton,
    },
    Test {
        name: "typed_call_arg_kinds",
        run: layer::typed_call_arg_kinds,
    },
    Test {
        name: "generated_stub_tags",
        run: layer::generated_stub_tags,
    },
    Test {
        name: "one_map_two_links",
        run: layer::one_map_two_links,
    },
    Test {
        name: "link_update_same_map",
        run: layer::link_update_same_map,
    },
    Test {
        name: "lookup_from_timer",
        run: layer::lookup_from_timer,
    },
    Test {
        name: "sleepable_refused_by_default",
        run: layer::sleepable_refused_by_default,
    },
    Test {
        name: "sleepable_allowed_when_opted_in",
        run: layer::sleepable_allowed_when_opted_in,
    },
    Test {
        name: "init_member_fn_member_refused",
        run: layer::init_member_fn_member_refused,
    },
    Test {
        name: "register_after_init_refused",
        run: layer::register_after_init_refused,
    },
    Test {
        name: "kernel_log_clean",
        run: kernel_log_clean,
    },
];

/// Child of `detach_on_process_exit`: attach, say so, and wait to be killed.
fn hold_link(ctx: &Ctx) -> Result<(), String> {
    let mut obj = load(&ctx.obj("hello"))?;
    let (_link, _id) = attach(&mut obj, "hello_link")?;
    println!("ready");
    loop {
        std::thread::sleep(Duration::from_secs(60));
    }
}

/// The walk-through `make run` shows.
fn demo(ctx: &Ctx) -> Result<(), String> {
    let step = |s: &str| println!("==> {s}");
    step(&format!("insmod {}", ctx.ko(HELLO).display()));
    kmod::insmod(&ctx.ko(HELLO))?;
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
    let log = Command::new("dmesg").output().map_err(|e| e.to_string())?;
    for l in String::from_utf8_lossy(&log.stdout).lines() {
        if l.contains("hello_ops") || l.contains("rso_hello") {
            println!("    {l}");
        }
    }
    Ok(())
}

fn usage() -> ! {
    eprintln!("usage: rso-selftests --top DIR --build DIR [--bpftool PATH] (check|demo|hold-link)");
    std::process::exit(2);
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut top, mut build, mut cmd) = (None, None, None);
    let mut bpftool = PathBuf::from("bpftool");
    while let Some(a) = args.next() {
        match a.as_str() {
            "--top" => top = args.next().map(PathBuf::from),
            "--build" => build = args.next().map(PathBuf::from),
            "--bpftool" => bpftool = args.next().map(PathBuf::from).unwrap_or_else(|| usage()),
            "check" | "demo" | "hold-link" => cmd = Some(a),
            _ => usage(),
        }
    }
    let (Some(top), Some(build), Some(cmd)) = (top, build, cmd) else {
        usage()
    };
    let mut ctx = Ctx {
        top,
        build,
        bpftool,
    };
    libbpf_log::install();
    let code = match cmd.as_str() {
        "check" => {
            if let Err(e) = klog::start() {
                println!("# {e}");
                std::process::exit(1);
            }
            i32::from(ktap::run(&mut ctx, TESTS) != 0)
        }
        "demo" => match demo(&ctx) {
            Ok(()) => 0,
            Err(e) => {
                println!("error: {e}");
                1
            }
        },
        _ => match hold_link(&ctx) {
            Ok(()) => 0,
            Err(e) => {
                println!("error: {e}");
                1
            }
        },
    };
    std::process::exit(code);
}
