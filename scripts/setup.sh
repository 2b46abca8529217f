#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install or check everything rust-struct-ops needs on a Debian machine:
# build packages, clang-19/lld-19/llvm-19 (the KASAN test kernel is built
# with LLVM=-19, and bindgen uses libclang-19 for it), rust-src, bindgen-cli,
# a libclang >= 17 for the generator and the gcc kernel, virtme-ng, and
# matplotlib (the plot of make bench). Idempotent: a second run only checks and prints "ok" lines.
#
# Writes nothing into the repository. Python tools live in a venv under
# the cache directory; print the environment to use with `--env`.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib.sh
. "$here/lib.sh"

apt_pkgs=(
	gcc make flex bison bc libelf-dev libssl-dev dwarves cpio kmod xz-utils patch
	clang llvm pkg-config zlib1g-dev libcap-dev
	qemu-system-x86 udev busybox-static debootstrap fio bindfs
	python3-venv
	clang-19 lld-19 llvm-19 libclang1-19
)
bindgen_min=0.71.1
libclang_ver=18.1.1
vng_ver=1.42
matplotlib_ver=3.10.8

if [ "${1:-}" = "--env" ]; then
	rso_env
	exit 0
fi

say "setup: checking Debian packages"
missing=()
for p in "${apt_pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	say "setup: apt-get install ${missing[*]}"
	as_root apt-get update -q
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
else
	say "setup: Debian packages ok"
fi

# pahole must understand --lang_exclude=rust (>= 1.24) or RUST and BTF clash.
pv=$(pahole --version | tr -d v)
version_ge "$pv" 1.24 || die "pahole $pv is too old (need >= 1.24)"
say "setup: pahole $pv ok"

command -v rustup >/dev/null || die "rustup not found: install a Rust toolchain with rustup first"
if ! rustup component list --installed 2>/dev/null | grep -q '^rust-src'; then
	say "setup: rustup component add rust-src"
	rustup component add rust-src
else
	say "setup: rust-src ok"
fi

bv=$(bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ -z "$bv" ] || ! version_ge "$bv" "$bindgen_min"; then
	say "setup: cargo install --locked bindgen-cli (have '${bv:-none}', need >= $bindgen_min)"
	cargo install --locked bindgen-cli
else
	say "setup: bindgen $bv ok"
fi

venv=$(rso_venv)
if [ ! -x "$venv/bin/python3" ]; then
	say "setup: creating Python venv $venv"
	python3 -m venv "$venv"
fi
pyver() { "$venv/bin/pip" show "$1" 2>/dev/null | awk '/^Version/{print $2}'; }
if [ "$(pyver libclang)" != "$libclang_ver" ]; then
	say "setup: pip install libclang==$libclang_ver (libclang for bindgen)"
	"$venv/bin/pip" install -q "libclang==$libclang_ver"
else
	say "setup: libclang $libclang_ver ok"
fi
if [ "$(pyver virtme-ng)" != "$vng_ver" ]; then
	say "setup: pip install virtme-ng==$vng_ver"
	"$venv/bin/pip" install -q "virtme-ng==$vng_ver"
else
	say "setup: virtme-ng $vng_ver ok"
fi
if [ "$(pyver matplotlib)" != "$matplotlib_ver" ]; then
	say "setup: pip install matplotlib==$matplotlib_ver (the plot of make bench)"
	"$venv/bin/pip" install -q "matplotlib==$matplotlib_ver"
else
	say "setup: matplotlib $matplotlib_ver ok"
fi
say "setup: done"
