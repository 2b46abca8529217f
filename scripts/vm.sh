#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/vm.sh KDIR|IMAGE COMMAND [ARGS...]
#
# Boot the kernel of KDIR (a build tree) or IMAGE (a distribution's vmlinuz,
# its module tree beside it) under virtme-ng, run COMMAND as root inside it (the
# guest sees the host's files) and return its exit status. Uses KVM when it
# works and falls back to TCG (software emulation) when it does not (probed
# once per host and cached); set RSO_ACCEL=kvm|tcg to choose. The whole VM
# run is bounded by RSO_VM_TIMEOUT seconds (default 2400): a VM that does not
# come back fails the run.
# RSO_VERBOSE=1 shows the guest's kernel console; RSO_VM_RWDIR=DIR lets the
# guest write DIR (the guest sees the host's files read-only otherwise).
# RSO_VM_INSN_PLUGIN=PATH.so (TCG only) loads the QEMU plugin that counts
# guest instructions between marker instructions (selftests/icount, built by
# scripts/qemu-plugin.sh); it writes each count into a file beside it, which
# the guest learns as RSO_VM_INSN_COUNT (make bench's and bench_smoke's
# instruction counts).
#
# It prints how long the VM took to boot: from vng's start to the guest
# command's start.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib.sh
. "$here/lib.sh"
eval "$(rso_env)"

[ $# -ge 2 ] || die "usage: $0 KDIR|IMAGE COMMAND [ARGS...]"
kdir=$1
shift
# A build tree, or a distribution's kernel image with its module tree
# beside it (usr/lib/modules/<release>/vmlinuz: Debian's, scripts/debian.sh).
if [ -f "$kdir" ]; then
	image=$kdir
else
	image="$kdir/arch/x86/boot/bzImage"
fi
[ -f "$image" ] || die "no kernel image at $image"
command -v vng >/dev/null || die "vng not found: run scripts/setup.sh"

# KVM works when a guest with -cpu host boots to a panic (no root) and
# powers off; here nested KVM aborts or hangs instead, and a hang costs the
# probe's whole 30 s. The answer is cached per host (kernel, CPU, QEMU, and
# whether /dev/kvm is there and writable), so only the first VM run on a
# machine pays for it; RSO_ACCEL overrides it.
accel() {
	if [ -n "${RSO_ACCEL:-}" ]; then
		printf '%s\n' "$RSO_ACCEL"
		return
	fi
	local key file acc=tcg
	key=$({
		uname -r
		grep -m1 '^model name' /proc/cpuinfo
		qemu-system-x86_64 --version | head -n1
		[ -w /dev/kvm ] && echo "kvm writable"
	} | sha256sum | cut -c1-12)
	file="$(rso_cache)/accel-$key"
	if [ -f "$file" ]; then
		cat "$file"
		return
	fi
	say "vm: probing KVM once for this host (up to 30 s; cached in $file)"
	if [ -w /dev/kvm ] && timeout 30 qemu-system-x86_64 -accel kvm -cpu host -m 256 \
		-nodefaults -display none -serial none -no-reboot -kernel "$image" \
		-append "panic=-1 root=/dev/rso-none" >/dev/null 2>&1; then
		acc=kvm
	fi
	mkdir -p "$(dirname "$file")"
	printf '%s\n' "$acc" >"$file"
	printf '%s\n' "$acc"
}

acc=$(accel)
# virtme-ng tries virtiofsd first, which is not there, and falls back to 9p
# after a few tries (up to 6 s in a verbose boot); go to 9p at once.
flags=(--force-9p)
[ "$acc" = kvm ] || flags+=(--disable-kvm)
# RSO_VERBOSE=1 shows the guest's kernel console.
[ -n "${RSO_VERBOSE:-}" ] && flags+=(--verbose)
# RSO_VM_RWDIR=DIR: a directory the guest may write (make bench's results).
[ -n "${RSO_VM_RWDIR:-}" ] && flags+=(--rwdir "$RSO_VM_RWDIR")
count=
if [ -n "${RSO_VM_INSN_PLUGIN:-}" ] && [ "$acc" = tcg ]; then
	[ -f "$RSO_VM_INSN_PLUGIN" ] || die "no QEMU plugin at $RSO_VM_INSN_PLUGIN"
	count="$(cd "$(dirname "$RSO_VM_INSN_PLUGIN")" && pwd)/count.$$"
	: >"$count"
	trap 'rm -f "$count"' EXIT
	flags+=("--qemu-opts=-plugin $RSO_VM_INSN_PLUGIN,out=$count")
fi
say "vm: booting $(basename "$kdir") with $acc$([ -n "$count" ] && echo ', counting instructions (QEMU plugin)')"

# The guest's command learns how it is emulated (RSO_VM_ACCEL: kvm or tcg;
# RSO_VM_INSN_COUNT: the plugin's file, if instructions are counted), after
# a line that marks its start (the end of the boot).
marker="rso-vm: the guest command starts"
cmd="echo '$marker'; env RSO_VM_ACCEL=$acc RSO_VM_INSN_COUNT=$count $(printf '%q ' "$@")"

# Copies the VM's output, replacing the marker with the boot time.
start=$EPOCHREALTIME
elapsed() { awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
stamp() {
	local line
	while IFS= read -r line || [ -n "$line" ]; do
		if [ "$line" = "$marker" ]; then
			printf '# vm: booted in %s s (vng start to the guest command)\n' "$(elapsed)"
		else
			printf '%s\n' "$line"
		fi
	done
}
# As the BPF CI boots its VMs: a panic powers the VM off at once (the run then
# fails), every KASAN report is printed (not only the first), lockups print
# every CPU's backtrace, and the log is large enough to keep the whole run.
boot="panic=-1 kasan_multi_shot hardlockup_all_cpu_backtrace=1 softlockup_all_cpu_backtrace=1 log_buf_len=16M"
# Through a pipe: QEMU reopens its standard output and error (/proc/self/fd/1
# and 2) as files, which truncates a log file the caller redirected them to.
timeout "${RSO_VM_TIMEOUT:-2400}" vng --run "$kdir" --user root "${flags[@]}" \
	--memory 2G --cpus 2 --append "root=/dev/root $boot" --exec "$cmd" </dev/null 2>&1 | stamp
rc=${PIPESTATUS[0]}
case $rc in
0) ;;
124) say "vm: the VM did not come back within ${RSO_VM_TIMEOUT:-2400} s" ;;
*) say "vm: exit status $rc" ;;
esac
exit $rc
