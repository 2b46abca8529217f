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
