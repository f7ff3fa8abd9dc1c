# kruispunt tests - helpers for the shell end-to-end tests.
#
# Source it; then `run CMD...` runs a command, keeping its status in $status
# and its output in $out and $err; `expect_status N`, `expect_out TEXT`,
# `expect_err TEXT` check them; `done_testing` prints the count and exits
# non-zero if anything failed. Every test makes its files in $T, a temporary
# directory removed on exit.
#
# Copyright (C) 2026 the kruispunt authors
# SPDX-License-Identifier: GPL-2.0-or-later

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
T=$(mktemp -d /tmp/kp-e2e.XXXXXX)
kp_cleanup_hooks=""
kp_cleanup() {
	for h in $kp_cleanup_hooks; do $h; done
	rm -rf "$T"
}
trap 'kp_cleanup' EXIT
trap 'kp_cleanup; exit 130' INT
trap 'kp_cleanup; exit 143' TERM

passed=0
failed=0
current=""

# Name the check that follows.
check() { current="$*"; }

ok() { passed=$((passed + 1)); echo "ok - $current${1:+: $1}"; }
not_ok() {
	failed=$((failed + 1))
	echo "FAIL - $current: $1"
	[ -s "$T/out" ] && { echo "--- stdout"; cat "$T/out"; }
	[ -s "$T/err" ] && { echo "--- stderr"; cat "$T/err"; }
}

run() {
	"$@" >"$T/out" 2>"$T/err"
	status=$?
	out=$(cat "$T/out")
	err=$(cat "$T/err")
}

expect_status() {
	if [ "$status" -eq "$1" ]; then ok "exit $1"; else not_ok "exit $status, want $1"; fi
}

expect_out() {
	case "$out" in *"$1"*) ok "stdout has '$1'" ;; *) not_ok "stdout lacks '$1'" ;; esac
}

expect_err() {
	case "$err" in *"$1"*) ok "stderr has '$1'" ;; *) not_ok "stderr lacks '$1'" ;; esac
}

expect_no_out() {
	case "$out$err" in *"$1"*) not_ok "output has '$1'" ;; *) ok "output lacks '$1'" ;; esac
}

done_testing() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit $?
}
