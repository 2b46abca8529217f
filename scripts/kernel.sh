#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Provide a Rust- and BTF-enabled Linux 7.3 build to build and test against.
#
#   scripts/kernel.sh           fetch, configure and build as needed; print
#                               the build directory (KDIR) on stdout
#   scripts/kernel.sh --kdir    only print where that build directory is; it
#                               never fetches or builds anything, and prints
#                               nothing if the source is not fetched yet
#   scripts/kernel.sh --fetch   only fetch the source; print its path
#   scripts/kernel.sh --source-dir      fetch the source; print the path of
#                               the unpatched tree (Debian's kernel's)
#   scripts/kernel.sh --tools KDIR      build bpftool and vmlinux.h for a
#                               user's KDIR; print where they are
#
# Source, in order of preference:
#   KSRC=<source tree>  build that tree (out of place, into the cache);
#   otherwise the Debian package linux-source-7.3, downloaded through this
#   machine's own apt mirror configuration (suite trixie-backports) and
#   verified by apt against the signed archive index.
#
# The build lives outside the repository, in
#   ${XDG_CACHE_HOME:-$HOME/.cache}/rust-struct-ops/kernel/<version>-<hash>
# where <hash> covers the config fragment and the toolchain versions, so a
# changed fragment or compiler gets a fresh build and an unchanged one is
# reused. A user's own built tree is used through KDIR= instead (see the
# Makefile); this script is then not involved in building the kernel.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$here/lib.sh"
eval "$(rso_env)"

cache=$(rso_cache)
# Which test kernel (RSO_KERNEL, `make KERNEL=`):
#   kasan  (default) kernel/rso.config + kernel/kasan.config, built with
#          LLVM=-19 (clang-19, lld-19): KASAN, KFENCE, UBSAN, lockdep,
#          kmemleak, Rust debug assertions. `make check` runs on it.
#   gcc    kernel/rso.config alone, built with gcc: lockdep and kmemleak but
#          no KASAN (CONFIG_RUST allows KASAN only with clang); it boots in
#          seconds under TCG where the KASAN kernel takes minutes, so it is
#          the quick loop while developing (`make check KERNEL=gcc`).
#   bench  kernel/rso.config + kernel/bench.config, built with gcc: no
#          lockdep, no kmemleak, no sleep-in-atomic checks, and the patches
#          (the FUSE request filter, which Debian's kernel lacks). Only
#          `make bench` builds and uses it.
flavour=${RSO_KERNEL:-kasan}
case "$flavour" in
kasan)
	fragments=("$top/kernel/rso.config" "$top/kernel/kasan.config")
	kmake=(LLVM=-19)
	export LIBCLANG_PATH=/usr/lib/llvm-19/lib
	compiler() { clang-19 --version | head -n1; }
	# Build steps of a cold build (see build_kernel), measured here.
	total_estimate=2250
	;;
gcc)
	fragments=("$top/kernel/rso.config")
	kmake=()
	compiler() { gcc --version | head -n1; }
	total_estimate=2230
	;;
bench)
	fragments=("$top/kernel/rso.config" "$top/kernel/bench.config")
	kmake=()
	compiler() { gcc --version | head -n1; }
	total_estimate=2230
	;;
debian)
	# Debian's own kernel is not built here (scripts/debian.sh): only
	# --tools and --tools-dir serve it.
	case "${1:-}" in --tools | --tools-dir | --source-dir) ;; *) die "RSO_KERNEL=debian: see scripts/debian.sh" ;; esac
	fragments=()
	kmake=()
	compiler() { :; }
	total_estimate=0
	;;
*) die "RSO_KERNEL=$flavour: want kasan, gcc, bench or debian" ;;
esac
pkg=linux-source-7.3
suite=trixie-backports
jobs=$(($(nproc) + 1))

fragment_sum() {
	cat "${fragments[@]}" | sha256sum | cut -c1-12
}

fetch_debian_source() {
	local apt="$cache/apt" deb tarball dir
	dir=$(ls -d "$cache"/src/${pkg}_* 2>/dev/null | sort -V | tail -n1 || true)
	if [ -n "$dir" ] && [ -f "$dir/.rso-unpacked" ] && [ -z "${RSO_REFRESH:-}" ]; then
		printf '%s\n' "$dir/linux"
		return
	fi
	mkdir -p "$apt/debs"
	rso_apt_update "$suite"
	local ver
	ver=$(rso_apt_cache "$suite" policy "$pkg" | awk '/Candidate:/ { print $2 }')
	[ -n "$ver" ] && [ "$ver" != "(none)" ] || die "$pkg not found in $suite"
	say "kernel: apt-get download $pkg=$ver (hash checked by apt against the signed index)"
	(cd "$apt/debs" && rso_apt "$suite" download "$pkg=$ver" >&2)
	deb=$(ls "$apt/debs/${pkg}_${ver//:/%3a}_"*.deb)
	say "kernel: sha256 $(sha256sum "$deb" | cut -d' ' -f1)  $(basename "$deb")"
	dir="$cache/src/${pkg}_$ver"
	rm -rf "$dir" && mkdir -p "$dir"
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dir" --wildcards "./usr/src/$pkg.tar.xz"
	tarball="$dir/usr/src/$pkg.tar.xz"
	say "kernel: unpacking $(basename "$tarball")"
	tar -xJf "$tarball" -C "$dir"
	mv "$dir/$pkg" "$dir/linux"
	rm -rf "$dir/usr" "$deb"
	touch "$dir/.rso-unpacked"
	printf '%s\n' "$dir/linux"
}

# The source tree if it is here already (KSRC, or a fetched Debian source).
local_source_tree() {
	local dir
	if [ -n "${KSRC:-}" ]; then
		source_tree
		return
	fi
	dir=$(ls -d "$cache"/src/${pkg}_* 2>/dev/null | sort -V | tail -n1 || true)
	[ -n "$dir" ] && [ -f "$dir/.rso-unpacked" ] || return 0
	if [ -z "$(kernel_patches)" ]; then
		printf '%s\n' "$dir/linux"
	elif [ -f "$dir/linux-p$(patches_sum)/.rso-patched" ]; then
		printf '%s\n' "$dir/linux-p$(patches_sum)"
	fi
	return 0
}

source_tree() {
	if [ -n "${KSRC:-}" ]; then
		[ -f "$KSRC/Makefile" ] || die "KSRC=$KSRC is not a kernel source tree"
		printf '%s\n' "$(cd "$KSRC" && pwd)"
	else
		patched_tree "$(fetch_debian_source)"
	fi
}

# The kernel patches we carry (kernel/patches/<subsystem>/*.patch, in
# upstream form; kernel/patches/bpftool is bpftool's, see build_tools),
# applied in order to our own test kernels. A user's KSRC or KDIR is used as
# it is.
kernel_patches() {
	local d
	for d in "$top"/kernel/patches/*/; do
		[ "$(basename "$d")" = bpftool ] && continue
		ls "$d"*.patch 2>/dev/null
	done
}

# What the patches change (their diffs, not their commit messages): the key
# of the patched tree, and so of the kernel build.
patches_sum() {
	local p
	for p in $(kernel_patches); do sed -n '/^diff --git/,$p' "$p"; done | sha256sum | cut -c1-12
}

# The fetched source with the patches applied, in a tree of its own beside it
# (hard links, except for the files the patches touch); made once.
patched_tree() {
	local src=$1 dir tmp p f
	[ -n "$(kernel_patches)" ] || { printf '%s\n' "$src"; return; }
	dir="$src-p$(patches_sum)"
	if [ -f "$dir/.rso-patched" ]; then
		printf '%s\n' "$dir"
		return
	fi
	tmp="$dir.tmp"
	rm -rf "$tmp"
	cp -al "$src" "$tmp"
	for p in $(kernel_patches); do
		say "kernel: applying ${p#"$top"/}"
		for f in $(sed -n 's|^+++ b/||p' "$p"); do
			[ -e "$tmp/$f" ] && cp --remove-destination "$src/$f" "$tmp/$f"
		done
		patch -s -p1 -d "$tmp" <"$p" || die "cannot apply $p to $src"
	done
	touch "$tmp/.rso-patched"
	mv "$tmp" "$dir"
	printf '%s\n' "$dir"
}

build_key() {
	local src=$1 kver tag=""
	# The gcc build keeps the name it had before there were two kernels.
	[ "$flavour" = gcc ] || tag="$flavour-"
	kver=$(make -s -C "$src" kernelversion)
	case "$kver" in 7.3 | 7.3.*) ;; *) die "kernel $kver in $src is not 7.3" ;; esac
	{
		cat "${fragments[@]}"
		compiler
		rustc --version
		bindgen --version
		pahole --version
		printf '%s\n' "$src"
	} | sha256sum | cut -c1-12 | sed "s/^/$kver-$tag/"
}

# Every option the fragments set (the last fragment that names an option
# wins, as merge_config.sh merges them) must be so after olddefconfig.
check_config() {
	local b=$1 bad=0 line opt
	declare -A want=()
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=*) want[${line%%=*}]=$line ;;
		"# CONFIG_"*" is not set")
			opt=${line#"# "}
			want[${opt%" is not set"}]=unset
			;;
		esac
	done < <(cat "${fragments[@]}")
	for opt in "${!want[@]}"; do
		line=${want[$opt]}
		if [ "$line" = unset ]; then
			if grep -q "^$opt=" "$b/.config"; then
				say "kernel: $opt is still set after olddefconfig (something selects it)"
				bad=1
			fi
		elif ! grep -qx "$line" "$b/.config"; then
			say "kernel: required option lost after olddefconfig: $line (a dependency is missing)"
			bad=1
		fi
	done
	[ $bad = 0 ] || die "kernel configuration is missing required options; see above"
}

build_kernel() {
	local src=$1 b=$2
	if [ -f "$b/.rso-built" ]; then
		say "kernel: using cached build $b"
		return
	fi
	mkdir -p "$b"
	say "kernel: configuring $b ($flavour: tinyconfig + ${fragments[*]#"$top"/})"
	make -s -C "$src" O="$b" "${kmake[@]}" tinyconfig >&2
	"$src/scripts/kconfig/merge_config.sh" -m -O "$b" "$b/.config" "${fragments[@]}" >"$b/rso-config.log" 2>&1 ||
		{ cat "$b/rso-config.log" >&2; die "merge_config.sh failed"; }
	make -s -C "$src" O="$b" "${kmake[@]}" olddefconfig >&2
	check_config "$b"
	make -s -C "$src" O="$b" "${kmake[@]}" rustavailable >&2
	say "kernel: building the $flavour kernel (about 11 minutes on 2 cores); progress every 20 s"
	local t0=$SECONDS pid steps total rc=0
	make -C "$src" O="$b" "${kmake[@]}" -j"$jobs" all >"$b/rso-build.log" 2>&1 &
	pid=$!
	# A cold build of this config took about $total_estimate steps (a line
	# such as "  CC  foo.o" in the log) here; a finished build records its
	# own count, which later builds of the same fragment use.
	total=$(cat "$cache/kernel/steps-$(fragment_sum)" 2>/dev/null || echo "$total_estimate")
	while kill -0 "$pid" 2>/dev/null; do
		for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null && sleep 1; done
		steps=$(grep -c '^  [A-Z]' "$b/rso-build.log" || true)
		say "kernel: $steps/~$total build steps ($((steps * 100 / total))%), $((SECONDS - t0)) s"
	done
	wait "$pid" || rc=$?
	[ "$rc" = 0 ] ||
		{ tail -n 40 "$b/rso-build.log" >&2; die "kernel build failed; full log in $b/rso-build.log"; }
	grep -c '^  [A-Z]' "$b/rso-build.log" >"$cache/kernel/steps-$(fragment_sum)" || true
	touch "$b/.rso-built"
	say "kernel: built in $((SECONDS - t0)) s"
}

# bpftool and libbpf from the same tree, with kernel/patches/bpftool/*.patch
# applied to a private copy of bpftool's directory (the source tree is never
# modified: it may be a user's), and the vmlinux.h the BPF programs include.
# They live beside the kernel they match; bpftool is rebuilt when the
# patches change.
build_tools() {
	local src=$1 b=$2 copy="$2/bpftool-src" sum e p
	sum=$(cat "$top"/kernel/patches/bpftool/*.patch 2>/dev/null | sha256sum | cut -c1-16)
	if [ ! -x "$b/bpftool/bpftool" ] || [ "$(cat "$b/bpftool/.rso-patches" 2>/dev/null)" != "$sum" ]; then
		say "kernel: building bpftool and libbpf from $src"
		rm -rf "$copy" "$b/bpftool"
		mkdir -p "$copy/tools/bpf" "$b/bpftool"
		for e in "$src"/tools/*; do [ "${e##*/}" = bpf ] || ln -s "$e" "$copy/tools/"; done
		for e in "$src"/tools/bpf/*; do [ "${e##*/}" = bpftool ] || ln -s "$e" "$copy/tools/bpf/"; done
		cp -r "$src/tools/bpf/bpftool" "$copy/tools/bpf/"
		for p in "$top"/kernel/patches/bpftool/*.patch; do
			[ -e "$p" ] || continue
			say "kernel: applying ${p#"$top"/}"
			patch -s -p1 -d "$copy" <"$p" || die "cannot apply $p to bpftool of $src"
		done
		make -C "$copy/tools/bpf/bpftool" srctree="$src" OUTPUT="$b/bpftool/" -j"$jobs" \
			>"$b/rso-bpftool.log" 2>&1 ||
			{ tail -n 30 "$b/rso-bpftool.log" >&2; die "bpftool build failed; log in $b/rso-bpftool.log"; }
		printf '%s\n' "$sum" >"$b/bpftool/.rso-patches"
	fi
	if [ ! -s "$b/vmlinux.h" ] || [ "$b/vmlinux" -nt "$b/vmlinux.h" ]; then
		say "kernel: generating vmlinux.h"
		"$b/bpftool/bpftool" btf dump file "$b/vmlinux" format c >"$b/vmlinux.h.tmp"
		mv "$b/vmlinux.h.tmp" "$b/vmlinux.h"
	fi
}

kdir_of() {
	local src=$1
	printf '%s\n' "$cache/kernel/$(build_key "$src")"
}

# Where bpftool, the libbpf headers and vmlinux.h for KDIR live: beside our
# own cached builds, or under the cache, keyed by path, for a user's KDIR.
tools_dir() {
	local kdir
	kdir=$(cd "$1" && pwd)
	case "$kdir" in
	"$cache"/kernel/*) printf '%s\n' "$kdir" ;;
	*) printf '%s\n' "$cache/tools/$(printf '%s' "$kdir" | sha256sum | cut -c1-12)" ;;
	esac
}

case "${1:-}" in
--tools-dir)
	tools_dir "${2:?KDIR}"
	;;
--tools)
	kdir=$(cd "${2:?KDIR}" && pwd)
	[ -f "$kdir/vmlinux" ] || die "KDIR=$kdir has no vmlinux: build the kernel first"
	src=$kdir
	[ -d "$kdir/source" ] && src=$(cd "$kdir/source" && pwd)
	t=$(tools_dir "$kdir")
	mkdir -p "$t"
	ln -sf "$kdir/vmlinux" "$t/vmlinux" 2>/dev/null || true
	build_tools "$src" "$t"
	printf '%s\n' "$t"
	;;
--fetch)
	source_tree
	;;
--source-dir)
	# The fetched source as Debian ships it (no patches): Debian's kernel
	# is built from it (scripts/debian.sh).
	fetch_debian_source
	;;
--kdir)
	src=$(local_source_tree)
	[ -z "$src" ] || kdir_of "$src"
	;;
"")
	src=$(source_tree)
	b=$(kdir_of "$src")
	build_kernel "$src" "$b"
	build_tools "$src" "$b"
	printf '%s\n' "$b"
	;;
*)
	die "usage: $0 [--kdir | --fetch | --tools KDIR | --tools-dir KDIR]"
	;;
esac
