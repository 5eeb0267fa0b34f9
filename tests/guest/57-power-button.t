#!/usr/bin/env bash
# `lkvm stop` asks first: the pwrbtn guest arms the ACPI fixed-feature
# power button (PM1_EN, SCI on IRQ 9 through the IOAPIC), sees the SCI,
# clears PWRBTN_STS and powers off through SLP_EN.  A guest that ignores
# the button is stopped anyway once the timeout runs out.
. "$(dirname "$0")/../lib/tap.sh"
need_kvm
need_guest pwrbtn
"$LKVM" stop --help >/dev/null 2>&1 ||
	skip_all "lkvm has no stop command yet (lkvm stop --help fails)"

plan 8

# wait_for FILE REGEX SECONDS: 0 once FILE matches, 1 after the cap.
wait_for() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# start NAME [lkvm args...]: boots the pwrbtn guest in the background.
start() {
	local name=$1
	shift
	timeout -k 5 120 "$LKVM" run --name "$name" --debug-exit \
		-k "$GUEST_DIR/pwrbtn.bzImage" "$@" </dev/null \
		>"$TAP_TMP/$name.out" 2>"$TAP_TMP/$name.err" &
	PID=$!
}

name=pwrbtn-$$
start "$name"
wait_for "$TAP_TMP/$name.out" '^pwrbtn: armed' 60
ok $? "guest armed the power button"
t0=$(date +%s.%N)
"$LKVM" stop --name "$name" >"$TAP_TMP/stop.out" 2>&1
is "$?" 0 "lkvm stop --name exits 0"
wait $PID
st=$?
diag "guest gone $(echo "$(date +%s.%N) - $t0" | bc) s after lkvm stop"
is "$st" 0 "guest powered off cleanly (status 0)"
like "$TAP_TMP/$name.out" '^pwrbtn: pressed' "guest saw the button"
like "$TAP_TMP/$name.out" '^pwrbtn: pressed \(via sci\)' \
	"the press arrived as an SCI, not only by polling PM1_STS"

# The guest never enables the button: the stop must be forced.
name=pwrbtn-ignore-$$
start "$name" -p ignore=1
wait_for "$TAP_TMP/$name.out" '^pwrbtn: ignoring' 60
ok $? "ignoring guest is running"
stop_args=(--name "$name")
"$LKVM" stop --help 2>&1 | grep -q -- --timeout && stop_args+=(--timeout 2)
t0=$(date +%s.%N)
"$LKVM" stop "${stop_args[@]}" >"$TAP_TMP/stop2.out" 2>&1
diag "lkvm stop ${stop_args[*]}: status $?"
wait $PID
st=$?
diag "ignoring guest gone $(echo "$(date +%s.%N) - $t0" | bc) s after lkvm stop, status $st"
[ "$st" != 124 ] && [ "$st" != 137 ]
ok $? "ignoring guest was stopped by lkvm stop, not the test's cap"
! grep -q '^pwrbtn: pressed' "$TAP_TMP/$name.out"
ok $? "ignoring guest never acted on the button"

done_testing
