// SPDX-License-Identifier: GPL-2.0

//! Programs the verifier must refuse, declared in the programs themselves: every function of a
//! `build/bpf/*.bpf.o` tagged `__failure` (`selftests/progs/rso_misc.h`) is one test point,
//! named after the function. Loading its object must fail, and the log must hold every
//! `__msg("...")` of the function. Adding a refusal test means adding one `.bpf.c` file.

use crate::{
    bpf::{
        load,
        log as libbpf_log, //
    },
    ctx::{
        Ctx,
        ALL, //
    },
    harness::{
        ensure,
        Case,
        TestResult, //
    },
    test, //
};
use libbpf_rs::libbpf_sys;
use std::{
    collections::BTreeMap,
    ffi::{
        CStr,
        CString, //
    },
    path::{
        Path,
        PathBuf, //
    },
};

/// The tags of `rso_misc.h`, as `btf_decl_tag` strings.
const FAILURE: &str = "comment:test_expect_failure";
const MSG: &str = "comment:test_expect_msg=";

/// A function tagged `__failure`, and its `__msg`s.
#[derive(Default)]
struct Expect {
    failure: bool,
    msgs: Vec<String>,
}

/// The declaration tags on the functions of the BPF object at `path`, by function name.
fn tags(path: &Path) -> Result<BTreeMap<String, Expect>, String> {
    let cpath = CString::new(path.as_os_str().as_encoded_bytes()).map_err(|e| e.to_string())?;
    // SAFETY: `cpath` is a C string; a NULL `btf_ext` pointer is allowed.
    let btf = unsafe { libbpf_sys::btf__parse_elf(cpath.as_ptr(), std::ptr::null_mut()) };
    if btf.is_null() {
        return Err(format!("{}: no BTF", path.display()));
    }
    let name_of = |off: u32| {
        // SAFETY: `btf` is valid until it is freed below; names are C strings in it.
        let p = unsafe { libbpf_sys::btf__name_by_offset(btf, off) };
        if p.is_null() {
            String::new()
        } else {
            // SAFETY: As above.
            unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
        }
    };
    let mut out: BTreeMap<String, Expect> = BTreeMap::new();
    // SAFETY: `btf` is valid.
    let n = unsafe { libbpf_sys::btf__type_cnt(btf) };
    for id in 1..n {
        // SAFETY: `id` is below the type count, so it names a type of `btf`; a DECL_TAG is
        // followed by `struct btf_decl_tag` (its component_idx), in BTF's layout.
        let (kind, tag, target, component) = unsafe {
            let t = libbpf_sys::btf__type_by_id(btf, id);
            let kind = ((*t).info >> 24) & 0x1f;
            if kind != libbpf_sys::BTF_KIND_DECL_TAG {
                continue;
            }
            let target = (*t).__bindgen_anon_1.type_;
            let component = (*t.add(1).cast::<libbpf_sys::btf_decl_tag>()).component_idx;
            (kind, name_of((*t).name_off), target, component)
        };
        // SAFETY: `target` is a type id of `btf`, which BTF loading checked.
        let func = unsafe { libbpf_sys::btf__type_by_id(btf, target) };
        // SAFETY: `func` points to a type of `btf`.
        let fkind = unsafe { ((*func).info >> 24) & 0x1f };
        if kind != libbpf_sys::BTF_KIND_DECL_TAG
            || component != -1
            || fkind != libbpf_sys::BTF_KIND_FUNC
        {
            continue;
        }
        // SAFETY: As above.
        let e = out.entry(name_of(unsafe { (*func).name_off })).or_default();
        if tag == FAILURE {
            e.failure = true;
        } else if let Some(m) = tag.strip_prefix(MSG) {
            e.msgs.push(m.to_string());
        }
    }
    // SAFETY: `btf` came from btf__parse_elf and is not used after this.
    unsafe { libbpf_sys::btf__free(btf) };
    Ok(out)
}

/// Loads `obj` (every module is loaded: the case needs [`ALL`]): it must fail, with each of
/// `msgs` in the log.
fn refused(_ctx: &mut Ctx, obj: &Path, msgs: &[String]) -> TestResult {
    libbpf_log::take();
    let res = load(obj);
    let log = libbpf_log::take();
    ensure(res.is_err(), || format!("{} loaded", obj.display()))?;
    for want in msgs {
        ensure(log.contains(want.as_str()), || {
            format!("the log lacks \"{want}\":\n{log}")
        })?;
    }
    Ok(())
}

test!(cases: refusals);
/// One point per `__failure` function of the built BPF objects.
fn refusals(ctx: &Ctx) -> Result<Vec<Case>, String> {
    let dir = ctx.build.join("bpf");
    let mut objs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".bpf.o"))
        .collect();
    objs.sort();
    let mut cases = Vec::new();
    for obj in objs {
        for (name, e) in tags(&obj)? {
            if !e.failure {
                continue;
            }
            if e.msgs.is_empty() {
                return Err(format!("{name} ({}) has no __msg", obj.display()));
            }
            let obj = obj.clone();
            cases.push(Case {
                last: false,
                name,
                needs: ALL,
                run: Box::new(move |ctx| refused(ctx, &obj, &e.msgs)),
                cleanup: None,
            });
        }
    }
    Ok(cases)
}
