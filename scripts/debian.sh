#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Debian's own 7.3 kernel as a build and test target (make KERNEL=debian).
#
#   scripts/debian.sh             make what is missing, then print the KDIR:
#                                 the trixie toolchain root, Debian's kernel
#                                 packages, a tree prepared for out-of-tree
#                                 modules (Debian's .config, Module.symvers
#                                 and vmlinux, with the Rust crates rebuilt
#                                 by Debian's own rustc), bpftool
#   scripts/debian.sh --kdir      print the KDIR; build nothing
#   scripts/debian.sh --kmake     print the variables every make in KDIR needs
#   scripts/debian.sh --image     print Debian's vmlinuz (its modules beside)
#   scripts/debian.sh --run CMD.. run CMD inside the trixie root, with the
#                                 repository, the kernel source and the cache
#                                 mounted at their own paths
#   scripts/debian.sh --install   install the built modules on this machine
#                                 (make modules_install KERNEL=debian): into
#                                 $INSTALL_MOD_PATH/lib/modules/<release>/
#                                 updates/, as Kbuild would, then depmod
#   scripts/debian.sh --guard RUSTC CONFIG_TEXT
#                                 the version guard alone: fails, naming both,
#                                 unless rustc's --version RUSTC is the
#                                 kernel's CONFIG_RUSTC_VERSION_TEXT
#   scripts/debian.sh --guard-test
#                                 the guard's test (make check): a faked
#                                 version must fail with that message
#
# Why a root: the kernel's Rust symbols carry a crate hash that depends on
# rustc's full version string, so only Debian's own rustc (trixie's) builds
# modules that link; its binaries need trixie's glibc. The root is made by
# debootstrap through this machine's own apt mirror, and the kernel's
# packages and source are fetched and hash-checked by apt. The versions are
# in kernel/debian.conf, and only there.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$here/lib.sh"
# shellcheck source=kernel/debian.conf
. "$top/kernel/debian.conf"

cache=$(rso_cache)
base="$cache/debian"
rel=$DEBIAN_KERNEL_RELEASE
# The toolchain root's packages: Debian's rustc, rust-src, bindgen and
# rustfmt (bindgen formats what it writes), the kernel's compiler and build
# tools (openssl too: Kconfig asks it what it signs with, and without it
# olddefconfig changes Debian's .config), and libclang's Python bindings for
# rust/rsogen.py.
root_pkgs=(rustc rust-src rustfmt bindgen gcc-14 make flex bison bc libelf-dev libssl-dev dwarves
	python3 python3-clang-19 libclang-19-dev clang-19 kmod xz-utils cpio openssl)
root_key=$(printf '%s\n' "$DEBIAN_TOOLCHAIN_SUITE" "$DEBIAN_RUSTC_VERSION" "${root_pkgs[@]}" |
	sha256sum | cut -c1-12)
root="$base/root-$DEBIAN_TOOLCHAIN_SUITE-$root_key"
pkgs="$base/kernel-$DEBIAN_KERNEL_VERSION"
kdir="$base/kdir-$rel-$root_key"
image="$pkgs/usr/lib/modules/$rel/vmlinuz"
# Every make in the kernel tree: Debian's compiler and release string (the
# vermagic), for x86 (the root's gcc-14 is the cross-named one).
kmake=(ARCH=x86 CROSS_COMPILE=x86_64-linux-gnu- "CC=$DEBIAN_CC" "KERNELRELEASE=$rel")

# The rustc Debian's kernel was built by, as its .config says.
kernel_rustc() {
	sed -n 's/^CONFIG_RUSTC_VERSION_TEXT="\(.*\)"$/\1/p' "$pkgs/usr/src/linux-headers-$rel/.config"
}

# The version guard: the root's rustc must be the kernel's.
guard() {
	local have=$1 want=$2
	[ "$have" = "$want" ] ||
		die "Debian's kernel was built by \"$want\", but the toolchain root has \"$have\": the root or the kernel moved (a trixie-backports update?); update kernel/debian.conf"
}

# Runs "$@" in the root, in a mount namespace of its own (the mounts go away
# with it): /proc, /dev, and the repository, the kernel source and this
# cache's debian directory at their own paths.
in_root() {
	local src
	src=$(RSO_KERNEL=kasan "$here/kernel.sh" --source-dir)
	as_root unshare -m bash -euc '
		root=$1; shift
		mount -t proc proc "$root/proc"
		mount --rbind /dev "$root/dev"
		for d in "$1" "$2" "$3"; do
			mkdir -p "$root$d"
			mount --bind "$d" "$root$d"
		done
		shift 3
		exec chroot "$root" env -i PATH=/usr/bin:/bin HOME=/root LANG=C.UTF-8 "$@"
	' - "$root" "$top" "$src" "$base" "$@"
}

make_root() {
	[ -f "$root/.rso-done" ] && return
	command -v debootstrap >/dev/null || die "debootstrap not found: run scripts/setup.sh"
	local tmp="$root.tmp" have
	rm -rf "$tmp"
	mkdir -p "$base"
	say "debian: debootstrap $DEBIAN_TOOLCHAIN_SUITE into $root (about 4 minutes, 2 GB)"
	as_root debootstrap --variant=minbase --include="$(IFS=,; echo "${root_pkgs[*]}")" \
		--keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
		"$DEBIAN_TOOLCHAIN_SUITE" "$tmp" "$(debian_mirror)" >"$base/debootstrap.log" 2>&1 ||
		{ tail -n 20 "$base/debootstrap.log" >&2; die "debootstrap failed; log in $base/debootstrap.log"; }
	have=$(as_root chroot "$tmp" dpkg-query -W -f='${Version}' rustc)
	[ "$have" = "$DEBIAN_RUSTC_VERSION" ] ||
		die "$DEBIAN_TOOLCHAIN_SUITE has rustc $have, kernel/debian.conf pins $DEBIAN_RUSTC_VERSION"
	touch "$tmp/.rso-done"
	mv "$tmp" "$root"
}

# Debian's kernel packages, unpacked into one directory: the image and its
# modules (vng finds the module tree beside the image), and the headers
# package's .config, Module.symvers and vmlinux.
fetch_kernel() {
	[ -f "$pkgs/.rso-done" ] && return
	local tmp="$pkgs.tmp" p deb
	rm -rf "$tmp"
	mkdir -p "$tmp/debs"
	rso_apt_update "$DEBIAN_KERNEL_SUITE"
	for p in "linux-image-$rel" "linux-binary-$rel" "linux-modules-$rel" "linux-base-$rel" \
		"linux-headers-$rel"; do
		say "debian: apt-get download $p=$DEBIAN_KERNEL_VERSION (hash checked by apt against the signed index)"
		(cd "$tmp/debs" && rso_apt "$DEBIAN_KERNEL_SUITE" download "$p=$DEBIAN_KERNEL_VERSION" >&2)
	done
	for deb in "$tmp"/debs/*.deb; do
		dpkg-deb -x "$deb" "$tmp"
	done
	rm -rf "$tmp/debs"
	[ -f "$tmp/usr/lib/modules/$rel/vmlinuz" ] || die "no vmlinuz in Debian's $rel packages"
	touch "$tmp/.rso-done"
	mv "$tmp" "$pkgs"
}

# The exported Rust symbols of the rebuilt crates must be Debian's.
check_exports() {
	local ours theirs
	ours=$(sed -n 's/^EXPORT_SYMBOL_RUST_GPL(\(_R.*\));$/\1/p' "$kdir"/rust/exports_*_generated.h | sort)
	theirs=$(awk '$2 ~ /^_R/ { print $2 }' "$pkgs/usr/src/linux-headers-$rel/Module.symvers" | sort)
	[ -n "$theirs" ] || die "Debian's Module.symvers exports no Rust symbol"
	[ "$ours" = "$theirs" ] || die "the Rust crates rebuilt by the root's rustc export \
$(comm -23 <(echo "$ours") <(echo "$theirs") | wc -l) symbols Debian's kernel lacks and lack \
$(comm -13 <(echo "$ours") <(echo "$theirs") | wc -l) it has: the compiler or the source is not the kernel's"
}

prepare() {
	[ -f "$kdir/.rso-done" ] && return
	local hdr="$pkgs/usr/src/linux-headers-$rel" src want have
	src=$(RSO_KERNEL=kasan "$here/kernel.sh" --source-dir)
	# The source must be the kernel's own version: linux-source-7.3 moves
	# with trixie-backports, and kernel.sh takes its newest.
	case "$src" in
	*"_$DEBIAN_KERNEL_VERSION/linux") ;;
	*) die "the kernel source $src is not Debian's $DEBIAN_KERNEL_VERSION (kernel/debian.conf): trixie-backports moved; update kernel/debian.conf" ;;
	esac
	want=$(kernel_rustc)
	have=$(in_root rustc --version)
	guard "$have" "$want"
	rm -rf "$kdir"
	mkdir -p "$kdir"
	cp "$hdr/.config" "$hdr/Module.symvers" "$hdr/vmlinux" "$kdir/"
	say "debian: preparing $kdir for modules (the Rust crates by $have; about 3 minutes)"
	in_root make -C "$src" O="$kdir" "${kmake[@]}" olddefconfig >"$kdir/rso-prepare.log" 2>&1 &&
		in_root make -C "$src" O="$kdir" "${kmake[@]}" -j"$(($(nproc) + 1))" modules_prepare \
			>>"$kdir/rso-prepare.log" 2>&1 ||
		{ tail -n 30 "$kdir/rso-prepare.log" >&2; die "preparing the tree failed; log in $kdir/rso-prepare.log"; }
	cmp -s "$hdr/.config" "$kdir/.config" || die "olddefconfig changed Debian's .config"
	check_exports
	touch "$kdir/.rso-done"
}

case "${1:-}" in
--kdir) printf '%s\n' "$kdir" ;;
--kmake) printf '%s\n' "${kmake[*]}" ;;
--image) printf '%s\n' "$image" ;;
--guard) guard "${2:?RUSTC}" "${3:?CONFIG_TEXT}" ;;
--guard-test)
	# make check's test of the guard: a faked rustc version must be refused,
	# with a message that names both versions; the real one must pass.
	want=$(kernel_rustc)
	[ -n "$want" ] || die "no CONFIG_RUSTC_VERSION_TEXT in Debian's headers (run scripts/debian.sh)"
	fake="rustc 1.95.0 (faked for the guard's test)"
	if msg=$("$0" --guard "$fake" "$want" 2>&1); then
		die "the version guard accepted a faked rustc ($fake against $want)"
	fi
	case "$msg" in
	*"$fake"*"$want"* | *"$want"*"$fake"*) ;;
	*) die "the version guard refused a faked rustc, but its message names not both versions: $msg" ;;
	esac
	"$0" --guard "$(in_root rustc --version)" "$want"
	say "debian: the version guard refused a faked rustc: ${msg#error: }"
	;;
--run)
	shift
	in_root "$@"
	;;
--install)
	# Not Kbuild's modules_install: that runs in the root, and would install
	# into it. The same layout, on this machine (or under INSTALL_MOD_PATH).
	dest="${INSTALL_MOD_PATH:-}/lib/modules/$rel/updates"
	[ -s "$top/modules.order" ] || die "no modules built: run make modules KERNEL=debian first"
	while read -r m; do
		ko="${m%.o}.ko"
		[ -f "$top/$ko" ] || die "$ko is not built: run make modules KERNEL=debian first"
		modinfo -F vermagic "$top/$ko" | grep -q "^$rel " ||
			die "$ko was not built for $rel: run make modules KERNEL=debian first"
		install -D -m 644 "$top/$ko" "$dest/$ko"
		say "debian: installed $dest/$ko"
	done <"$top/modules.order"
	if [ -f "${INSTALL_MOD_PATH:-}/lib/modules/$rel/modules.order" ]; then
		PATH=$PATH:/usr/sbin:/sbin depmod -b "${INSTALL_MOD_PATH:-/}" "$rel"
		say "debian: depmod $rel done; modprobe rso_hello loads the sample into $rel"
	else
		say "debian: no $rel kernel installed under ${INSTALL_MOD_PATH:-/}: depmod not run"
	fi
	;;
"")
	make_root
	fetch_kernel
	prepare
	# bpftool, libbpf and vmlinux.h from the same source, for Debian's BTF.
	"$here/kernel.sh" --tools "$kdir" >/dev/null
	printf '%s\n' "$kdir"
	;;
*) die "usage: $0 [--kdir | --kmake | --image | --run CMD... | --install | --guard RUSTC CONFIG_TEXT | --guard-test]" ;;
esac
