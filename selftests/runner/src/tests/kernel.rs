// SPDX-License-Identifier: GPL-2.0

//! The test kernel itself: that it has the detectors the run relies on, and that the log scan
//! catches what they print.

use crate::{
    bpf::{
        attach,
        errno_name,
        load, //
    },
    ctx::{
        dmesg,
        Ctx,
        HELLO,
        TESTMOD, //
    },
    harness::{
        ensure,
        ensure_eq,
        skip,
        TestResult, //
    },
    klog,
    test,
    testmod, //
};

test!(kasan_enabled);
fn kasan_enabled(ctx: &mut Ctx) -> TestResult {
    let log = dmesg()?;
    let kasan = log.contains("KernelAddressSanitizer initialized (generic)");
    let kfence = log.contains("kfence: initialized");
    match ctx.kernel.as_deref() {
        // Our KASAN kernel: a config drift that loses KASAN must fail the run.
        Some("kasan") => {
            ensure(kasan, || {
                "the kasan test kernel does not report KASAN at boot \
                 (\"KernelAddressSanitizer initialized (generic)\")"
                    .into()
            })?;
            ensure(kfence, || "the kasan test kernel has no KFENCE".into())
        }
        Some(k) if !kasan => Err(skip(&format!("the {k} test kernel has no KASAN"))),
        None if !kasan => Err(skip("KDIR's kernel has no KASAN")),
        _ => Ok(()),
    }
}

test!(splat_scan_catches_warn, needs: [TESTMOD]);
fn splat_scan_catches_warn(ctx: &mut Ctx) -> TestResult {
    let mut obj = load(&ctx.obj("testmod"))?;
    let (_link, id) = attach(&mut obj, "tm_ok")?;
    // x = 0: the op runs without the WARN; nothing is logged.
    let quiet = klog::mark()?;
    testmod::call(id, testmod::RSO_TESTMOD_OP_WARN, 0).map_err(errno_name)?;
    ensure_eq(
        "problems logged without the WARN",
        klog::bad_since(quiet)?,
        vec![],
    )?;
    let mark = klog::mark()?;
    klog::kmsg(klog::EXPECTED_BEGIN)?;
    let r = testmod::call(id, testmod::RSO_TESTMOD_OP_WARN, 1).map_err(errno_name);
    klog::kmsg(klog::EXPECTED_END)?;
    r?;
    let lines = klog::since(mark)?;
    let found = klog::scan(lines.iter().map(String::as_str));
    ensure(
        found
            .iter()
            .any(|l| l.contains("WARNING:") && l.contains("rso_testmod")),
        || {
            format!(
                "the scan missed the planted WARN; it found {found:?} in:\n{}",
                lines.join("\n")
            )
        },
    )?;
    println!("# caught: {}", found[0].trim());
    // Bracketed as expected, it fails neither this test nor kernel_log_clean.
    ensure_eq(
        "problems outside the brackets",
        klog::bad_since(mark)?,
        vec![],
    )
}

test!(debian_kernel_is_distro, needs: [HELLO]);
/// On `make check KERNEL=debian`: the kernel running is Debian's own (its release and build
/// string, as `kernel/debian.conf` pins them), and the module loaded is the one built in the
/// trixie root (its vermagic is the kernel's, and it holds the code of Debian's rustc).
fn debian_kernel_is_distro(ctx: &mut Ctx) -> TestResult {
    if ctx.kernel.as_deref() != Some("debian") {
        return Err(skip(
            "not Debian's kernel (make check KERNEL=debian runs it)",
        ));
    }
    let read = |p: &std::path::Path| {
        std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))
    };
    let conf = read(&ctx.top.join("kernel/debian.conf"))?;
    let pin = |key: &str| {
        conf.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .map(str::to_owned)
            .ok_or_else(|| format!("kernel/debian.conf has no {key}"))
    };
    let (release, version) = (pin("DEBIAN_KERNEL_RELEASE")?, pin("DEBIAN_KERNEL_VERSION")?);
    let osrelease = read("/proc/sys/kernel/osrelease".as_ref())?;
    ensure_eq(
        "the running kernel's release",
        osrelease.trim(),
        release.as_str(),
    )?;
    let banner = read("/proc/version".as_ref())?;
    ensure(banner.contains(&format!("Debian {version}")), || {
        format!(
            "the running kernel is not Debian's {version}: {}",
            banner.trim()
        )
    })?;
    // The module loaded is the .ko built for this kernel: a vermagic that names the running
    // release, and the same build ID.
    let ko = ctx.ko(HELLO)?;
    let info = |field: &str| -> Result<String, String> {
        let out = std::process::Command::new("modinfo")
            .args(["-F", field])
            .arg(&ko)
            .output()
            .map_err(|e| format!("modinfo: {e}"))?;
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let vermagic = info("vermagic")?;
    ensure(vermagic.starts_with(&format!("{release} ")), || {
        format!(
            "{} has vermagic {vermagic:?}, not {release}'s",
            ko.display()
        )
    })?;
    // The loaded module's build ID (its GNU build-id note, as sysfs shows it) is the .ko's.
    let note = format!("/sys/module/{HELLO}/notes/.note.gnu.build-id");
    let loaded = std::fs::read(&note).map_err(|e| format!("{note}: {e}"))?;
    let copy = std::env::temp_dir().join("rso-build-id");
    let st = std::process::Command::new("objcopy")
        .args(["-O", "binary", "--only-section=.note.gnu.build-id"])
        .arg(&ko)
        .arg(&copy)
        .status()
        .map_err(|e| format!("objcopy: {e}"))?;
    ensure(st.success(), || {
        format!("objcopy could not read {}'s build ID", ko.display())
    })?;
    let built = std::fs::read(&copy).map_err(|e| format!("{}: {e}", copy.display()))?;
    ensure(!built.is_empty() && loaded == built, || {
        format!(
            "the loaded {HELLO} is not {} (build-id notes {loaded:02x?} and {built:02x?})",
            ko.display()
        )
    })?;
    // The Rust objects record their compiler in .comment: Debian's rustc, not rustup's.
    let comment = std::process::Command::new("readelf")
        .args(["-p", ".comment"])
        .arg(&ko)
        .output()
        .map_err(|e| format!("readelf: {e}"))?;
    let comment = String::from_utf8_lossy(&comment.stdout);
    let rustc = pin("DEBIAN_RUSTC_VERSION")?;
    let upstream = rustc.split('+').next().unwrap_or_default();
    ensure(
        comment.contains(&format!("rustc version {upstream}")),
        || {
            format!(
                "{} was not built by rustc {upstream} (its .comment: {})",
                ko.display(),
                comment.trim()
            )
        },
    )
}
