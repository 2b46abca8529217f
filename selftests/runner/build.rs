// SPDX-License-Identifier: GPL-2.0

//! Generates, for every module of `modules.list`, the Rust view of its uapi (request structs and op
//! numbers) from its type's C header, the single source of truth, with the bindgen CLI that
//! `scripts/setup.sh` installs; and the list of ops the generator reads from those headers.

use std::{
    env,
    path::{
        Path,
        PathBuf, //
    },
    process::Command, //
};

/// The modules of `modules.list`: `(module, directory, ops type, uapi allowlist)`.
fn modules(top: &Path) -> Vec<[String; 4]> {
    let list = top.join("modules.list");
    println!("cargo:rerun-if-changed={}", list.display());
    let text = std::fs::read_to_string(&list).expect("read modules.list");
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            assert!(f.len() == 4, "modules.list: want 4 fields: {l}");
            [f[0], f[1], f[2], f[3]].map(str::to_owned)
        })
        .collect()
}

fn main() {
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR is set by cargo"));
    let top = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo")).join("../..");
    let bindgen = env::var("BINDGEN").unwrap_or_else(|_| "bindgen".into());
    let python = env::var("RSO_PYTHON").unwrap_or_else(|_| "python3".into());
    // Every op of every type with its parameter names (tags included), as the generator reads
    // them from the headers: generated_stub_tags checks the modules' BTF against it.
    let mut ops = Vec::new();
    for [module, dir, ty, uapi] in modules(&top) {
        let header = top.join(&dir).join(format!("{ty}.h"));
        println!("cargo:rerun-if-changed={}", header.display());
        // The uapi (request structs, op numbers) as `<type>_uapi.rs`, e.g. hello_ops_uapi.rs.
        let status = Command::new(&bindgen)
            .arg(&header)
            .args([
                "--no-prepend-enum-name",
                "--with-derive-default",
                "--no-layout-tests",
                "--allowlist-item",
                &format!("{ty}|{uapi}|rso_call_hdr"),
            ])
            .arg("-o")
            .arg(out.join(format!("{ty}_uapi.rs")))
            .status()
            .unwrap_or_else(|e| panic!("cannot run {bindgen} (run scripts/setup.sh): {e}"));
        assert!(status.success(), "bindgen failed on {}", header.display());
        let listed = Command::new(&python)
            .arg(top.join("rust/rsogen.py"))
            .args(["--type", &ty, "--list", &module, "--header"])
            .arg(&header)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {python} rust/rsogen.py (make setup): {e}"));
        assert!(
            listed.status.success(),
            "rsogen.py --list {}: {}",
            header.display(),
            String::from_utf8_lossy(&listed.stderr)
        );
        ops.extend_from_slice(&listed.stdout);
    }
    std::fs::write(out.join("header_ops.txt"), ops).expect("write header_ops.txt");
    for f in ["rust/rso_call.h", "rust/rsogen.py"] {
        println!("cargo:rerun-if-changed={}", top.join(f).display());
    }
    println!("cargo:rerun-if-env-changed=RSO_PYTHON");
    // The Rust skeleton of a BPF object the Makefile built (shadow_vars_rust_skeleton).
    let bpf = PathBuf::from(
        env::var("RSO_BPF_DIR").expect("RSO_BPF_DIR: build the runner with `make selftests`"),
    );
    let obj = bpf.join("hello_shadow.bpf.o");
    println!("cargo:rerun-if-changed={}", obj.display());
    libbpf_cargo::SkeletonBuilder::new()
        .obj(&obj)
        .generate(out.join("hello_shadow.skel.rs"))
        .unwrap_or_else(|e| panic!("skeleton of {}: {e:#}", obj.display()));
    println!("cargo:rerun-if-env-changed=RSO_BPF_DIR");
    println!("cargo:rerun-if-env-changed=BINDGEN");
    println!("cargo:rerun-if-env-changed=LIBCLANG_PATH");
}
