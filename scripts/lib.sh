# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the scripts; sourced, not run.

say() { printf '%s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# version_ge A B: true when version A >= version B.
version_ge() {
	[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]
}

rso_cache() {
	printf '%s\n' "${XDG_CACHE_HOME:-$HOME/.cache}/rust-struct-ops"
}

rso_venv() {
	printf '%s\n' "$(rso_cache)/venv"
}

# The environment the build and VM steps need: bindgen, libclang, vng.
rso_env() {
	local venv lib
	venv=$(rso_venv)
	lib=$("$venv/bin/python3" -c 'import clang.native, os; print(os.path.dirname(clang.native.__file__))' 2>/dev/null || true)
	printf 'export PATH=%q:%q:$PATH\n' "$venv/bin" "$HOME/.cargo/bin"
	[ -n "$lib" ] && printf 'export LIBCLANG_PATH=%q\n' "$lib"
	return 0
}

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

# A private apt configuration for one Debian suite, under the cache (the
# machine's own configuration is not touched): its options.
rso_apt_opts() {
	local suite=$1 apt
	apt="$(rso_cache)/apt"
	[ "$suite" = trixie-backports ] || apt="$apt-$suite"
	printf '%s\n' -o "Dir::Etc::sourcelist=$apt/sources.list" -o "Dir::Etc::sourceparts=-" \
		-o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" \
		-o "APT::Get::List-Cleanup=0" -o "APT::Sandbox::User=root"
}

# rso_apt SUITE ARGS...: apt-get with that configuration.
rso_apt() {
	local suite=$1 opts
	shift
	mapfile -t opts < <(rso_apt_opts "$suite")
	apt-get "${opts[@]}" "$@"
}

# rso_apt_cache SUITE ARGS...: apt-cache with that configuration.
rso_apt_cache() {
	local suite=$1 opts
	shift
	mapfile -t opts < <(rso_apt_opts "$suite")
	apt-cache "${opts[@]}" "$@"
}

# rso_apt_update SUITE: writes the suite's source line (the machine's mirror,
# the archive keyring) and fetches its signed index.
rso_apt_update() {
	local suite=$1 apt
	apt="$(rso_cache)/apt"
	[ "$suite" = trixie-backports ] || apt="$apt-$suite"
	mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial"
	printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' \
		"$(debian_mirror)" "$suite" >"$apt/sources.list"
	say "apt-get update ($suite, private lists under $apt)"
	rso_apt "$suite" update -q >&2
}
