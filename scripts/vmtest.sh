#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/vmtest.sh check|run
#
# Everything `make check` and `make run` do: install what is missing, get the
# kernel (KDIR, or the cached Linux 7.3 build), build the modules, the BPF
# programs and the runner, then boot the kernel under virtme-ng and run the
# selftests (check) or the walk-through (run) inside it.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$here/lib.sh"

mode=${1:-}
case "$mode" in
check) cmd=check ;;
run) cmd=demo ;;
*) die "usage: $0 check|run" ;;
esac

t0=$SECONDS
"$here/setup.sh"
eval "$(rso_env)"

if [ -n "${KDIR:-}" ]; then
	say "vmtest: using KDIR=$KDIR"
	"$here/kernel.sh" --tools "$KDIR" >/dev/null
else
	KDIR=$("$here/kernel.sh")
fi
export KDIR

if [ "$mode" = check ]; then
	# clippy-driver compiles the modules fully: its build is the build tested
	# (a plain `make modules` after it would rebuild every Rust object).
	say "vmtest: rustfmt (kernel .rustfmt.toml), then the modules with clippy -Dwarnings"
	make -C "$top" --no-print-directory fmtcheck >&2
	make -C "$top" --no-print-directory clippy >&2
	say "vmtest: compile-fail checks of the layer (selftests/compile_fail)"
	make -C "$top" --no-print-directory compile-fail >&2
else
	say "vmtest: building the modules"
	make -C "$top" --no-print-directory modules >&2
fi
say "vmtest: building the BPF programs and the runner"
make -C "$top" --no-print-directory selftests >&2
say "vmtest: build done after $((SECONDS - t0)) s; booting the VM (about 2 minutes under TCG)"

runner="$top/build/cargo/release/rso-selftests"
bpftool="$("$here/kernel.sh" --tools-dir "$KDIR")/bpftool/bpftool"
# The VM's output comes last, so that the runner's "N passed, N failed" closes the run.
exec "$here/vm.sh" "$KDIR" "$runner" --top "$top" --build "$top/build" --bpftool "$bpftool" "$cmd"
