// SPDX-License-Identifier: GPL-2.0

//! Exact instruction counts. `scripts/vm.sh` loads a QEMU TCG plugin (`selftests/icount`) that
//! counts the guest's instructions, in user space and in the kernel, between two marker
//! instructions (multi-byte NOPs with a magic displacement), and writes each count into a host
//! file the guest reads (`RSO_VM_INSN_COUNT`).
//!
//! The plugin counts per vCPU, and the measuring thread stays on one CPU ([`Armed`]), so the
//! other vCPU's work is not in a count. Interrupts that land on the measuring vCPU add their
//! instructions; the least of a few samples is one that nothing else touched, and repeats
//! exactly. A loop's fixed
//! cost (the syscall, the lookup, the markers) cancels in [`per_iter`]: the count of `2n`
//! iterations less that of `n`, over `n`.
//!
//! The plugin counts only while armed ([`Armed`]): counting slows the whole VM down, by about
//! 80 % at boot. [`arm`] arms it and proves the counter exact before any figure is taken: a loop
//! of two instructions must cost exactly two per iteration.

use std::{
    arch::asm,
    mem::size_of,
    path::PathBuf,
    time::{
        Duration,
        Instant, //
    }, //
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

/// A marker the plugin acts on: `nopl 0x<TAG>4f5352(%rax)`, "RSO" and `TAG` in its
/// displacement. [`ARM`] ("RSO+"): count from the next instruction on; [`START`] ("RSO["): a
/// measurement starts; [`STOP`] ("RSO]"): it ends, and the plugin writes its count; [`DISARM`]
/// ("RSO-"): stop counting.
#[inline(always)]
fn marker<const TAG: u8>() {
    // SAFETY: A NOP: it reads no memory, writes nothing, and leaves the flags alone.
    unsafe {
        asm!(
            ".byte 0x0f, 0x1f, 0x80, 0x52, 0x53, 0x4f, {tag}",
            tag = const TAG,
            options(nomem, nostack, preserves_flags)
        )
    };
}

const ARM: u8 = b'+';
const START: u8 = b'[';
const STOP: u8 = b']';
const DISARM: u8 = b'-';

/// The instructions of the latest start..stop, as the plugin wrote them.
fn read_count() -> Result<u64, String> {
    let path = count_file().ok_or("the VM does not count instructions")?;
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.trim()
        .parse()
        .map_err(|e| format!("{}: {e}: {text:?}", path.display()))
}

/// Tries at most in [`min_insns`].
const MAX_SAMPLES: usize = 60;

/// How many times the least count must have come before [`min_insns`] takes it.
const SAME_LEAST: usize = 3;

/// The instructions run in `f`: the least count of at least `samples` tries, and the counts. With
/// more than one, it tries on (up to [`MAX_SAMPLES`]) until that least count has come
/// [`SAME_LEAST`] times: what else lands in a measurement (an interrupt, a preemption) only adds
/// to it, and right after the counter is armed that happens often, while QEMU translates the
/// guest's code anew.
fn least(
    samples: usize,
    mut f: impl FnMut() -> Result<(), String>,
) -> Result<(u64, Vec<u64>), String> {
    let mut seen = Vec::new();
    loop {
        marker::<START>();
        f()?;
        marker::<STOP>();
        seen.push(read_count()?);
        let least = seen.iter().copied().min().unwrap_or(0);
        let same = seen.iter().filter(|&&c| c == least).count();
        if seen.len() >= samples.max(1)
            && (samples <= 1 || same >= SAME_LEAST || seen.len() >= MAX_SAMPLES)
        {
            return Ok((least, seen));
        }
    }
}

/// The instructions run in `f`: see [`least`].
pub(crate) fn min_insns(
    samples: usize,
    f: impl FnMut() -> Result<(), String>,
) -> Result<u64, String> {
    Ok(least(samples, f)?.0)
}

/// The instructions per iteration of `f(n)`, a loop of `n` iterations: the least count of `2n`
/// iterations less the least count of `n`, over `n`; and the counts of `n`, then of `2n`.
fn per_iter_counts(
    samples: usize,
    n: u32,
    mut f: impl FnMut(u32) -> Result<(), String>,
) -> Result<(f64, Vec<u64>, Vec<u64>), String> {
    let n = n.max(1);
    let (one, ones) = least(samples, || f(n))?;
    let (two, twos) = least(samples, || f(2 * n))?;
    Ok(((two as f64 - one as f64) / f64::from(n), ones, twos))
}

/// The instructions per iteration of `f(n)`, a loop of `n` iterations: the least count of `2n`
/// iterations less the least count of `n`, over `n`.
pub(crate) fn per_iter(
    samples: usize,
    n: u32,
    f: impl FnMut(u32) -> Result<(), String>,
) -> Result<f64, String> {
    Ok(per_iter_counts(samples, n, f)?.0)
}

/// `n` (at least 1) iterations of a loop of two instructions, `dec` and `jnz`.
fn two_insn_loop(n: u64) {
    // SAFETY: The loop only counts a register down to zero; it touches no memory or stack.
    unsafe {
        asm!("2:", "dec {n}", "jnz 2b", n = inout(reg) n.max(1) => _, options(nomem, nostack));
    }
}

/// Checks that one iteration of a two-instruction loop counts exactly 2.0, as it does when the
/// counter works.
fn calibrate() -> Result<(), String> {
    let (c, ones, twos) = per_iter_counts(5, 10_000, |n| {
        two_insn_loop(u64::from(n));
        Ok(())
    })?;
    if c == 2.0 {
        Ok(())
    } else {
        Err(format!(
            "the VM counts instructions, but a loop of 2 instructions counts {c} per iteration \
             (10,000 iterations: {ones:?}; 20,000: {twos:?})"
        ))
    }
}

/// The plugin counts while this lives ([`arm`]), and stops when it is dropped. The plugin counts
/// per vCPU, so the thread that measures stays on one CPU meanwhile.
pub(crate) struct Armed {
    /// The CPUs the thread could run on before.
    cpus: libc::cpu_set_t,
}

impl Drop for Armed {
    fn drop(&mut self) {
        // SAFETY: `self.cpus` is a valid CPU set of the size given, read for the call only.
        unsafe { libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &self.cpus) };
        marker::<DISARM>();
        if let Err(e) = wait_for("disarmed") {
            println!("# the instruction counter stays armed (the VM stays slower): {e}");
        }
    }
}

/// Waits until the plugin says `state` ("armed" or "disarmed"): it flushes the translated code
/// first, when every vCPU has left its block, a little after the marker.
fn wait_for(state: &str) -> Result<(), String> {
    let path = count_file().ok_or("the VM does not count instructions")?;
    let t = Instant::now();
    loop {
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        if text.trim() == state {
            return Ok(());
        }
        if t.elapsed() > Duration::from_secs(10) {
            return Err(format!(
                "the QEMU plugin did not say \"{state}\" within 10 s: {text:?}"
            ));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Pins the calling thread to the CPU it runs on; returns the CPUs it could run on before.
fn pin() -> Result<libc::cpu_set_t, String> {
    let size = size_of::<libc::cpu_set_t>();
    // SAFETY: An all-zero `cpu_set_t` is an empty set.
    let mut old: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `old` is a writable CPU set of `size` bytes.
    if unsafe { libc::sched_getaffinity(0, size, &mut old) } != 0 {
        return Err(format!(
            "sched_getaffinity: {}",
            std::io::Error::last_os_error()
        ));
    }
    // SAFETY: No arguments; it returns the CPU or -1.
    let here = unsafe { libc::sched_getcpu() };
    let here = usize::try_from(here)
        .map_err(|_| format!("sched_getcpu: {}", std::io::Error::last_os_error()))?;
    // SAFETY: As for `old`.
    let mut one: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `one` is a valid CPU set and `here` a CPU the kernel named, below CPU_SETSIZE.
    unsafe { libc::CPU_SET(here, &mut one) };
    // SAFETY: `one` is a valid CPU set of `size` bytes, read for the call only.
    if unsafe { libc::sched_setaffinity(0, size, &one) } != 0 {
        return Err(format!(
            "sched_setaffinity: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(old)
}

/// Arms the counter if the VM counts instructions. `Ok(Some(_))`: counts can be taken, and the
/// counter is exact; `Ok(None)`: the VM does not count them (KVM, or a VM started without the
/// plugin); an error if it should but the counter is not exact (or not armed: it then counts
/// nothing).
pub(crate) fn arm() -> Result<Option<Armed>, String> {
    if !requested() {
        return Ok(None);
    }
    let armed = Armed { cpus: pin()? };
    marker::<ARM>();
    wait_for("armed")?;
    calibrate()?;
    Ok(Some(armed))
}
