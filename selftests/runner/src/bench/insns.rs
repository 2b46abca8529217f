// SPDX-License-Identifier: GPL-2.0

//! Exact instruction counts. `scripts/vm.sh` loads a QEMU TCG plugin (`selftests/icount`) that
//! counts the guest's instructions, in user space and in the kernel, between two marker
//! instructions (multi-byte NOPs with a magic displacement), and writes each count into a host
//! file the guest reads (`RSO_VM_INSN_COUNT`).
//!
//! Interrupts, and the other vCPU, that run inside a measurement add their instructions; the
//! least of a few samples is one that nothing else touched, and repeats exactly. A loop's fixed
//! cost (the syscall, the lookup, the markers) cancels in [`per_iter`]: the count of `2n`
//! iterations less that of `n`, over `n`.
//!
//! [`calibrate`] proves the counter exact before any figure is taken: a loop of two instructions
//! must cost exactly two per iteration.

use std::{
    arch::asm,
    path::PathBuf, //
};

/// The file the plugin writes each count into, if the VM counts instructions.
fn count_file() -> Option<PathBuf> {
    std::env::var_os("RSO_VM_INSN_COUNT")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Whether the VM was started to count instructions (`scripts/vm.sh` says so).
pub(crate) fn requested() -> bool {
    count_file().is_some()
}

/// The start marker, `nopl 0x5b4f5352(%rax)` ("RSO[").
#[inline(always)]
fn start() {
    // SAFETY: A NOP: it reads no memory, writes nothing, and leaves the flags alone.
    unsafe {
        asm!(
            ".byte 0x0f, 0x1f, 0x80, 0x52, 0x53, 0x4f, 0x5b",
            options(nomem, nostack, preserves_flags)
        )
    };
}

/// The stop marker, `nopl 0x5d4f5352(%rax)` ("RSO]"): the plugin writes the count.
#[inline(always)]
fn stop() {
    // SAFETY: As in `start`.
    unsafe {
        asm!(
            ".byte 0x0f, 0x1f, 0x80, 0x52, 0x53, 0x4f, 0x5d",
            options(nomem, nostack, preserves_flags)
        )
    };
}

/// The instructions of the latest start..stop, as the plugin wrote them.
fn read_count() -> Result<u64, String> {
    let path = count_file().ok_or("the VM does not count instructions")?;
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.trim()
        .parse()
        .map_err(|e| format!("{}: {e}: {text:?}", path.display()))
}

/// The instructions run in `f`: the least of `samples` tries.
pub(crate) fn min_insns(
    samples: usize,
    mut f: impl FnMut() -> Result<(), String>,
) -> Result<u64, String> {
    let mut best = u64::MAX;
    for _ in 0..samples.max(1) {
        start();
        f()?;
        stop();
        best = best.min(read_count()?);
    }
    Ok(best)
}

/// The instructions per iteration of `f(n)`, a loop of `n` iterations: the least count of `2n`
/// iterations less the least count of `n`, over `n`.
pub(crate) fn per_iter(
    samples: usize,
    n: u32,
    mut f: impl FnMut(u32) -> Result<(), String>,
) -> Result<f64, String> {
    let n = n.max(1);
    let one = min_insns(samples, || f(n))?;
    let two = min_insns(samples, || f(2 * n))?;
    Ok((two as f64 - one as f64) / f64::from(n))
}

/// `n` (at least 1) iterations of a loop of two instructions, `dec` and `jnz`.
fn two_insn_loop(n: u64) {
    // SAFETY: The loop only counts a register down to zero; it touches no memory or stack.
    unsafe {
        asm!("2:", "dec {n}", "jnz 2b", n = inout(reg) n.max(1) => _, options(nomem, nostack));
    }
}

/// What one iteration of a two-instruction loop counts: exactly 2.0 when the counter works.
pub(crate) fn calibrate() -> Result<f64, String> {
    per_iter(5, 10_000, |n| {
        two_insn_loop(u64::from(n));
        Ok(())
    })
}

/// Whether instruction counts can be taken: `Ok(true)` if the VM counts instructions and the
/// counter is exact, `Ok(false)` if the VM does not count them (KVM, or a VM started without
/// the plugin), an error if it should but the counter is not exact.
pub(crate) fn available() -> Result<bool, String> {
    if !requested() {
        return Ok(false);
    }
    let c = calibrate()?;
    if c == 2.0 {
        Ok(true)
    } else {
        Err(format!(
            "the VM counts instructions, but a loop of 2 instructions counts {c} per iteration"
        ))
    }
}
