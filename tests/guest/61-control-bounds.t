#!/usr/bin/env bash
# The control socket's bounds against a real lkvm: 1000 clients at once
# (CTL_MAX_CLIENTS = 64 served, the rest closed), requests over
# CTL_MAX_REQUEST (4 KiB), pipelined requests never read, garbage.  lkvm's
# peak RSS (VmHWM, reset before) may grow by at most what the bound allows:
# every client slot full both ways, CTL_MAX_CLIENTS x (CTL_MAX_REQUEST +
# the largest reply these requests get, a "stat" of < 16 KiB), + 2 MiB.
. "$(dirname "$0")/../lib/tap.sh"
need_kvm
need_guest idle
ABUSE=${CTL_ABUSE:-$(dirname "$LKVM")/tests/ctl/ctl-abuse}
[ -x "$ABUSE" ] || skip_all "ctl-abuse not built ($ABUSE)"

plan 8

export XDG_RUNTIME_DIR=$TAP_TMP/run
mkdir -m 700 "$XDG_RUNTIME_DIR"
S=$XDG_RUNTIME_DIR/lkvm/b1.sock
PID=
cleanup() {
	[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
	rm -rf "$TAP_TMP"
}
trap cleanup EXIT

kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

"$LKVM" run -k "$GUEST_DIR/idle.bzImage" -m 32M --name b1 \
	</dev/null >"$TAP_TMP/b1.out" 2>&1 &
PID=$!
for _ in $(seq 600); do
	[ -S "$S" ] && timeout 60 "$LKVM" stat --name b1 >/dev/null 2>&1 && break
	kill -0 "$PID" 2>/dev/null || break
	sleep 0.1
done
timeout 60 "$LKVM" stat --name b1 >"$TAP_TMP/stat.out" 2>&1
ok $? "an idle VM answers lkvm stat"

BUDGET=$((64 * (4 + 16) + 2048))
before=$(kib "$PID" VmRSS)
if echo 5 >"/proc/$PID/clear_refs" 2>/dev/null; then HWM=VmHWM; else HWM=VmRSS; fi

timeout 120 "$ABUSE" flood "$S" 1000 >"$TAP_TMP/ab.out" 2>&1
ok $? "1000 clients at once: some answered, the rest closed"
tail -1 "$TAP_TMP/ab.out" | sed 's/^/# /'
timeout 120 "$ABUSE" oversized "$S" >"$TAP_TMP/ab.out" 2>&1
ok $? "a request over CTL_MAX_REQUEST: EMSGSIZE, closed"
timeout 120 "$ABUSE" garbage "$S" >"$TAP_TMP/ab.out" 2>&1
ok $? "garbage: EBADMSG, the connection still answers"
timeout 120 "$ABUSE" noread "$S" 100000 >"$TAP_TMP/ab.out" 2>&1
ok $? "pipelined stat requests never read: dropped"
head -1 "$TAP_TMP/ab.out" | sed 's/^/# /'
timeout 120 "$ABUSE" repeat b1 2000 >"$TAP_TMP/ab.out" 2>&1
ok $? "2000 requests on one connection"

after=$(kib "$PID" "$HWM")
diag "lkvm VmRSS ${before} KiB before, $HWM ${after} KiB after; budget ${BUDGET} KiB"
rss_within $((after - before)) "$BUDGET" "lkvm's RSS grew $((after - before)) KiB (budget $BUDGET)"
timeout 60 "$LKVM" stat --name b1 >/dev/null 2>&1
ok $? "the VM still answers"
