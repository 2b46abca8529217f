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
