#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/qemu-plugin.sh OUT.so
#
# Builds the QEMU TCG plugin selftests/icount/rso_icount.c (make bench's and
# bench_smoke's instruction counter) into OUT.so, against the plugin header
# of the QEMU this machine runs. Debian ships that header only in QEMU's
# source package, so it is fetched once: the source package of the installed
# qemu-system-x86's version, through this machine's own apt sources (as
# deb-src, in a private apt directory), hash checked by apt against the
# signed index, and cached under
#   ${XDG_CACHE_HOME:-$HOME/.cache}/rust-struct-ops/qemu/<version>/
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib.sh
. "$here/lib.sh"

[ $# = 1 ] || die "usage: $0 OUT.so"
out=$1
src="$here/../selftests/icount/rso_icount.c"

ver=$(dpkg-query -W -f='${source:Version}' qemu-system-x86 2>/dev/null) ||
	die "qemu-system-x86 is not installed: run scripts/setup.sh"
dir="$(rso_cache)/qemu/${ver//:/_}"
header="$dir/qemu-plugin.h"

if [ ! -f "$header" ]; then
	apt="$dir/apt"
	mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/sources.list.d" "$apt/dl"
	# The machine's own Debian sources, as deb-src.
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		sed -E 's/^Types: *deb$/Types: deb-src/' "$f" >"$apt/sources.list.d/$(basename "$f")"
	done
	sed -nE 's/^deb (.*)$/deb-src \1/p' /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
		2>/dev/null >"$apt/sources.list" || true
	aptopts=(-o "Dir::Etc::sourcelist=$apt/sources.list" -o "Dir::Etc::sourceparts=$apt/sources.list.d"
		-o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o "APT::Get::List-Cleanup=0"
		-o "APT::Sandbox::User=root")
	say "qemu-plugin: apt-get update (the machine's sources as deb-src, private lists under $apt)"
	apt-get "${aptopts[@]}" update -q >&2
	say "qemu-plugin: apt-get source --download-only qemu=$ver (hash checked by apt)"
	(cd "$apt/dl" && apt-get "${aptopts[@]}" source --download-only "qemu=$ver" >&2)
	orig=$(ls "$apt"/dl/qemu_*.orig.tar.* | head -n1)
	tar -xf "$orig" -C "$apt/dl" --wildcards '*/include/qemu/qemu-plugin.h'
	mv "$apt"/dl/*/include/qemu/qemu-plugin.h "$header"
	rm -rf "$apt"
	say "qemu-plugin: $header"
fi

mkdir -p "$(dirname "$out")"
say "qemu-plugin: building $out"
gcc -O2 -Wall -Werror -shared -fPIC -I"$dir" "$src" -o "$out"
