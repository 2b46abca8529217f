#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/phase.sh FILE NAME COMMAND [ARGS...]
#
# Runs COMMAND, then prints how long it took as "# phase: NAME: T s" and
# appends "NAME<TAB>T" to FILE; exits with COMMAND's status. make check times
# its phases before the VM with it, and prints FILE before it boots the VM.
set -uo pipefail

[ $# -ge 3 ] || { echo "usage: $0 FILE NAME COMMAND [ARGS...]" >&2; exit 2; }
file=$1
name=$2
shift 2
start=$EPOCHREALTIME
"$@"
rc=$?
t=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
printf '# phase: %s: %s s%s\n' "$name" "$t" "$([ $rc = 0 ] || echo " (failed: exit status $rc)")"
printf '%s\t%s\n' "$name" "$t" >>"$file"
exit $rc
