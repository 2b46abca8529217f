// SPDX-License-Identifier: GPL-2.0

//! Generates the Rust view of the samples' uapi (request structs and op numbers) from their C headers,
//! the single source of truth, with the bindgen CLI that `scripts/setup.sh` installs.

use std::{
    env,
    path::PathBuf,
    process::Command, //
};

fn main() {
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR is set by cargo"));
    let top = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo")).join("../..");
    let bindgen = env::var("BINDGEN").unwrap_or_else(|_| "bindgen".into());
    for (header, allow, name) in [
        (
            "samples/hello/hello_ops.h",
            "hello_ops|rso_hello_.*|RSO_HELLO_.*|rso_call_hdr",
            "hello_uapi.rs",
        ),
        (
            "selftests/testmod/testmod_ops.h",
            "rso_testmod_.*|RSO_TESTMOD_.*|rso_call_hdr",
            "testmod_uapi.rs",
        ),
        (
            "samples/filter/filter_ops.h",
            "rso_filter_.*|RSO_FILTER_.*|rso_call_hdr",
            "filter_uapi.rs",
        ),
    ] {
        let header = top.join(header);
        println!("cargo:rerun-if-changed={}", header.display());
        let status = Command::new(&bindgen)
            .arg(&header)
            .args([
                "--no-prepend-enum-name",
                "--with-derive-default",
                "--no-layout-tests",
                "--allowlist-item",
                allow,
            ])
            .arg("-o")
            .arg(out.join(name))
            .status()
            .unwrap_or_else(|e| panic!("cannot run {bindgen} (run scripts/setup.sh): {e}"));
        assert!(status.success(), "bindgen failed on {}", header.display());
    }
    println!(
        "cargo:rerun-if-changed={}",
        top.join("rust/rso_call.h").display()
    );
    // Every op of every type with its parameter names (tags included), as the generator reads
    // them from the headers: generated_stub_tags checks the modules' BTF against it.
    let python = env::var("RSO_PYTHON").unwrap_or_else(|_| "python3".into());
    let mut ops = Vec::new();
    for (module, header) in [
        ("rso_hello", "samples/hello/hello_ops.h"),
        ("rso_filter", "samples/filter/filter_ops.h"),
        ("rso_testmod", "selftests/testmod/testmod_ops.h"),
    ] {
        let header = top.join(header);
        let ty = header
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("a header name");
        let out = Command::new(&python)
            .arg(top.join("rust/rsogen.py"))
            .args(["--type", ty, "--list", module, "--header"])
            .arg(&header)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {python} rust/rsogen.py (make setup): {e}"));
        assert!(
            out.status.success(),
            "rsogen.py --list {}: {}",
            header.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        ops.extend_from_slice(&out.stdout);
    }
    std::fs::write(out.join("header_ops.txt"), ops).expect("write header_ops.txt");
    println!(
        "cargo:rerun-if-changed={}",
        top.join("rust/rsogen.py").display()
    );
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
