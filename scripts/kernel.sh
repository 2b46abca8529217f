#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Provide a Rust- and BTF-enabled Linux 7.3 build to build and test against.
#
#   scripts/kernel.sh           fetch, configure and build as needed; print
#                               the build directory (KDIR) on stdout
#   scripts/kernel.sh --kdir    only print where that build directory is
#   scripts/kernel.sh --fetch   only fetch the source; print its path
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
fragment="$top/kernel/rso.config"
pkg=linux-source-7.3
suite=trixie-backports
jobs=$(($(nproc) + 1))

# The mirror this machine's apt already uses for Debian (never hard-coded).
debian_mirror() {
	local uri
	uri=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n1 || true)
	if [ -z "$uri" ]; then
		uri=$(grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
			grep -v security | sed -E 's/^deb (\[[^]]*\] )?//' | awk '{ print $1; exit }' || true)
	fi
	[ -n "$uri" ] || die "cannot find a Debian mirror in the apt configuration"
	printf '%s\n' "$uri"
}

fetch_debian_source() {
	local apt="$cache/apt" deb tarball dir
	dir=$(ls -d "$cache"/src/${pkg}_* 2>/dev/null | sort -V | tail -n1 || true)
	if [ -n "$dir" ] && [ -f "$dir/.rso-unpacked" ] && [ -z "${RSO_REFRESH:-}" ]; then
		printf '%s\n' "$dir/linux"
		return
	fi
	mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/debs"
	printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' \
		"$(debian_mirror)" "$suite" >"$apt/sources.list"
	local aptopts=(-o "Dir::Etc::sourcelist=$apt/sources.list" -o "Dir::Etc::sourceparts=-"
		-o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o "APT::Get::List-Cleanup=0" -o "APT::Sandbox::User=root")
	say "kernel: apt-get update ($suite, private lists under $apt)"
	apt-get "${aptopts[@]}" update -q >&2
	local ver
	ver=$(apt-cache "${aptopts[@]}" policy "$pkg" | awk '/Candidate:/ { print $2 }')
	[ -n "$ver" ] && [ "$ver" != "(none)" ] || die "$pkg not found in $suite"
	say "kernel: apt-get download $pkg=$ver (hash checked by apt against the signed index)"
	(cd "$apt/debs" && apt-get "${aptopts[@]}" download "$pkg=$ver" >&2)
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

source_tree() {
	if [ -n "${KSRC:-}" ]; then
		[ -f "$KSRC/Makefile" ] || die "KSRC=$KSRC is not a kernel source tree"
		printf '%s\n' "$(cd "$KSRC" && pwd)"
	else
		fetch_debian_source
	fi
}

build_key() {
	local src=$1 kver
	kver=$(make -s -C "$src" kernelversion)
	case "$kver" in 7.3 | 7.3.*) ;; *) die "kernel $kver in $src is not 7.3" ;; esac
	{
		cat "$fragment"
		gcc --version | head -n1
		rustc --version
		bindgen --version
		pahole --version
		printf '%s\n' "$src"
	} | sha256sum | cut -c1-12 | sed "s/^/$kver-/"
}

check_config() {
	local b=$1 bad=0 line
	while IFS= read -r line; do
		case "$line" in CONFIG_*=*) ;; *) continue ;; esac
		if ! grep -qx "$line" "$b/.config"; then
			say "kernel: required option lost after olddefconfig: $line (a dependency is missing)"
			bad=1
		fi
	done <"$fragment"
	[ $bad = 0 ] || die "kernel configuration is missing required options; see above"
}

build_kernel() {
	local src=$1 b=$2
	if [ -f "$b/.rso-built" ]; then
		say "kernel: using cached build $b"
		return
	fi
	mkdir -p "$b"
	say "kernel: configuring $b (tinyconfig + kernel/rso.config)"
	make -s -C "$src" O="$b" tinyconfig >&2
	"$src/scripts/kconfig/merge_config.sh" -m -O "$b" "$b/.config" "$fragment" >"$b/rso-config.log" 2>&1 ||
		{ cat "$b/rso-config.log" >&2; die "merge_config.sh failed"; }
	make -s -C "$src" O="$b" olddefconfig >&2
	check_config "$b"
	make -s -C "$src" O="$b" rustavailable >&2
	say "kernel: building (about 11 minutes on 2 cores from cold)"
	local t0=$SECONDS
	make -C "$src" O="$b" -j"$jobs" all >"$b/rso-build.log" 2>&1 ||
		{ tail -n 40 "$b/rso-build.log" >&2; die "kernel build failed; full log in $b/rso-build.log"; }
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
--kdir)
	src=$(source_tree)
	kdir_of "$src"
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
