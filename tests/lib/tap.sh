# SPDX-License-Identifier: GPL-2.0
# TAP helpers for shell tests run by prove.  Source it, call plan N, then
# ok/is/like; the exit status is non-zero if anything failed.

TAP_N=0
TAP_FAILED=0
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LKVM=${LKVM:-$TOP/build/obj/lkvm}
GUEST_DIR=${GUEST_DIR:-$TOP/build/guest}
LKVM_BUILD=${LKVM_BUILD:-$TOP/build}
TAP_TMP=$(mktemp -d)
trap 'rm -rf "$TAP_TMP"' EXIT

plan() { echo "1..$1"; }

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

diag() { printf '# %s\n' "$@"; }

ok() {	# ok COND_STATUS NAME
	TAP_N=$((TAP_N + 1))
	if [ "$1" = 0 ]; then
		echo "ok $TAP_N - $2"
	else
		echo "not ok $TAP_N - $2"
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
}

is() {	# is GOT WANT NAME
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diag "  got '$1', want '$2'"
	fi
}

like() {	# like FILE REGEX NAME  (extended regex, grep -E)
	if grep -Eq -- "$2" "$1"; then
		ok 0 "$3"
	else
		ok 1 "$3"
		diag "  /$2/ not found in output:"
		sed 's/^/#   /' "$1" | tail -20
	fi
}

skip() {	# skip NAME REASON
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N - $1 # SKIP $2"
}

# watch_peak PID [SECONDS]: until PID exits (polled for at most SECONDS,
# default 300; then it is only waited for), PEAK is its highest VmHWM in
# KiB; STATUS its exit status.
watch_peak() {
	local pid=$1 n=$((${2:-300} * 100)) h
	for ((; n > 0; n--)); do
		h=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$pid/status" 2>/dev/null)
		[ -n "$h" ] && PEAK=$h
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.01
	done
	STATUS=0
	wait "$pid" || STATUS=$?
}

# rss_within GROWTH_KIB BUDGET_KIB NAME: ok when lkvm grew by no more than
# the budget.  A sanitizer build's shadow memory, redzones and quarantine
# are not lkvm's: over budget there is a SKIP with the figures.
rss_within() {
	if [ "$1" -le "$2" ]; then
		ok 0 "$3"
	elif grep -qa -e __asan_init -e __tsan_init "$LKVM"; then
		skip "$3" "sanitizer build: ${1} KiB against a budget of ${2} KiB for the plain build"
	else
		ok 1 "$3"
	fi
}

done_testing() {
	[ "$TAP_FAILED" = 0 ]
	exit $?
}

need_kvm() {
	[ -x "$LKVM" ] || skip_all "lkvm not built at $LKVM"
	[ -r /dev/kvm ] && [ -w /dev/kvm ] || skip_all "/dev/kvm is not usable here"
}

need_guest() {
	for g in "$@"; do
		[ -f "$GUEST_DIR/$g.bzImage" ] ||
			skip_all "guest $g not built in $GUEST_DIR (make guests)"
	done
}

# run_lkvm NAME TIMEOUT ARGS... : runs lkvm with stdin from /dev/null, stdout
# to $TAP_TMP/NAME.out, stderr to $TAP_TMP/NAME.err; sets $STATUS.
run_lkvm() {
	local name=$1 t=$2
	shift 2
	OUT=$TAP_TMP/$name.out
	ERR=$TAP_TMP/$name.err
	STATUS=0
	timeout -k 5 "$t" "$LKVM" run "$@" </dev/null >"$OUT" 2>"$ERR" || STATUS=$?
}

# run_guest NAME [lkvm args...]: boots $GUEST_DIR/NAME.bzImage with the
# test exit port enabled.
run_guest() {
	local g=$1
	shift
	run_lkvm "$g" 120 --debug-exit -k "$GUEST_DIR/$g.bzImage" "$@"
}
