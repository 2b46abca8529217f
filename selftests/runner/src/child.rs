// SPDX-License-Identifier: GPL-2.0

//! This runner as a child process of a test:
//!
//! - `hold-link`: attach `hello_link`, print "ready", wait to be killed;
//! - `churn`: attach, call (from the process and from the timer) and detach testmod_ops
//!   instances in a loop, printing "ready" after the first attach, until killed;
//! - `fuse-hold`: a `rso_fuse` daemon on connection "death" that prints "ready", then reads
//!   requests, printing "read <unique>" for each, and answers none (until it is killed);
//! - `fusefs`: a real FUSE daemon (`fusefs.rs`) that prints "ready <dir> <connection>", then
//!   serves until it is killed;
//! - `fuse-attach <obj> <dir> [fd]`: without `CAP_SYS_ADMIN`, attach `fuse_real_policy` (at
//!   `<obj>`) to the FUSE connection that descriptor `fd` names, or a file of the mount at `<dir>`
//!   (opened by the child); print `attach <errno>` (0: it attached);
//! - `probe`: as an unprivileged user, try what only root may do; one `probe <what> <errno>` line
//!   per attempt (0: it worked).

use crate::{
    bpf::{
        array_map,
        attach,
        load, //
    },
    fuse, testmod,
};
use libbpf_rs::libbpf_sys;
use std::{
    ffi::CString,
    fs::OpenOptions,
    path::Path,
    time::Duration, //
};

/// The child modes.
pub(crate) const MODES: &[&str] = &[
    "hold-link",
    "churn",
    "fuse-hold",
    "fusefs",
    "fuse-attach",
    "probe",
];

/// Drops `CAP_SYS_ADMIN` from this process's effective, permitted and inheritable sets, keeping
/// the rest (`CAP_BPF`, `CAP_PERFMON`...).
fn drop_sys_admin() -> Result<(), String> {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy, Default)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const VERSION_3: u32 = 0x2008_0522;
    const CAP_SYS_ADMIN: u32 = 21;
    let mut h = Header {
        version: VERSION_3,
        pid: 0,
    };
    let mut d = [Data::default(); 2];
    // SAFETY: capget(2) with a valid header and room for the two words of version 3.
    if unsafe { libc::syscall(libc::SYS_capget, &mut h, d.as_mut_ptr()) } != 0 {
        return Err(format!("capget: {}", std::io::Error::last_os_error()));
    }
    for w in &mut d[..1] {
        let keep = !(1u32 << CAP_SYS_ADMIN);
        w.effective &= keep;
        w.permitted &= keep;
        w.inheritable &= keep;
    }
    // SAFETY: capset(2) with the header and words capget filled.
    if unsafe { libc::syscall(libc::SYS_capset, &h, d.as_ptr()) } != 0 {
        return Err(format!("capset: {}", std::io::Error::last_os_error()));
    }
    Ok(())
}

/// Runs child mode `mode`.
pub(crate) fn run(mode: &str, args: &[String], build: &Path) -> Result<(), String> {
    let obj = |name: &str| build.join("bpf").join(format!("{name}.bpf.o"));
    match mode {
        "hold-link" => {
            let mut obj = load(&obj("hello"))?;
            let (_link, _id) = attach(&mut obj, "hello_link")?;
            println!("ready");
            loop {
                std::thread::sleep(Duration::from_secs(60));
            }
        }
        "churn" => {
            let mut obj = load(&obj("testmod"))?;
            let mut first = true;
            loop {
                let (link, id) = attach(&mut obj, "tm_ok")?;
                if std::mem::take(&mut first) {
                    println!("ready");
                }
                testmod::call(id, testmod::RSO_TESTMOD_OP_TIMER, 20)
                    .and_then(|_| testmod::call(id, testmod::RSO_TESTMOD_OP_NOSLEEP, 1))
                    .map_err(|e| format!("call: errno {e}"))?;
                drop(link);
            }
        }
        "fuse-hold" => {
            let d = fuse::DaemonFile::mount("death").map_err(|e| format!("mount: errno {e}"))?;
            println!("ready");
            loop {
                let q = d.read_req().map_err(|e| format!("read_req: errno {e}"))?;
                println!("read {}", q.unique);
            }
        }
        "fusefs" => {
            let m = crate::fusefs::Mount::new()?;
            println!("ready {} {}", m.dir.display(), m.conn);
            loop {
                std::thread::sleep(Duration::from_secs(60));
            }
        }
        "fuse-attach" => {
            use std::os::fd::AsRawFd;
            let [obj, dir, rest @ ..] = args else {
                return Err("fuse-attach <obj> <dir> [fd]".into());
            };
            let root = std::fs::File::open(dir).map_err(|e| format!("open {dir}: {e}"))?;
            let fd = match rest.first() {
                Some(fd) => fd.parse().map_err(|e| format!("fd {fd}: {e}"))?,
                None => root.as_raw_fd(),
            };
            // Loading a module's struct_ops type needs its BTF, which only CAP_SYS_ADMIN may
            // find by id: load first, then attach without it.
            let mut o = crate::fusefs::load_fd(Path::new(obj), "real_policy", fd)??;
            drop_sys_admin()?;
            let errno = match attach(&mut o, "real_policy") {
                Ok(_) => 0,
                Err(e) => e
                    .split("os error ")
                    .nth(1)
                    .and_then(|t| t.split(|c: char| !c.is_ascii_digit()).next())
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(-1),
            };
            println!("attach {errno}");
            Ok(())
        }
        _ => {
            probe(build);
            Ok(())
        }
    }
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn report(what: &str, res: i32) {
    println!("probe {what} {res}");
}

/// The attempts of the `probe` child.
fn probe(build: &Path) {
    // Every call device of every module.
    let mut devs: Vec<_> = std::fs::read_dir("/dev")
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    devs.retain(|p| {
        p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("rso_"))
    });
    devs.sort();
    for dev in devs {
        let r = OpenOptions::new().read(true).write(true).open(&dev);
        report(
            &format!("open:{}", dev.display()),
            r.map_or_else(|e| e.raw_os_error().unwrap_or(-1), |_| 0),
        );
    }
    let hello = build.join("bpf").join("hello.bpf.o");
    report(
        "prog_load",
        match load(&hello) {
            Ok(_) => 0,
            Err(e) if e.contains("Operation not permitted") => libc::EPERM,
            Err(_) => -1,
        },
    );
    let mut id = 0u32;
    // SAFETY: A plain bpf() call with a valid pointer.
    let r = unsafe { libbpf_sys::bpf_prog_get_next_id(0, &mut id) };
    report("prog_get_next_id", if r < 0 { -r } else { 0 });
    report("map_create", array_map().err().unwrap_or(0));
    let name = CString::new("rso_hello").unwrap_or_default();
    // SAFETY: delete_module with a C string; it fails without CAP_SYS_MODULE.
    let r = unsafe { libc::syscall(libc::SYS_delete_module, name.as_ptr(), libc::O_NONBLOCK) };
    report("delete_module", if r < 0 { errno() } else { 0 });
    let empty = CString::default();
    // SAFETY: init_module with an empty image; it fails without CAP_SYS_MODULE.
    let r = unsafe {
        libc::syscall(
            libc::SYS_init_module,
            empty.as_ptr(),
            0usize,
            empty.as_ptr(),
        )
    };
    report("init_module", if r < 0 { errno() } else { 0 });
}
