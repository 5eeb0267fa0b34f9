#!/usr/bin/env bash
# The control socket and the client commands, against real lkvm processes
# running the idle guest: permissions, another uid, misbehaving clients,
# stale and duplicate names, and lkvm stop (one, --force, --timeout, --all).
# also-as-root: "another uid" needs root to run a client as nobody (make
# check runs it as the test user, then again as root).
. "$(dirname "$0")/../lib/tap.sh"
need_kvm
need_guest idle poweroff
ABUSE=${CTL_ABUSE:-$(dirname "$LKVM")/tests/ctl/ctl-abuse}
[ -x "$ABUSE" ] || skip_all "ctl-abuse not built ($ABUSE)"

plan 74

export XDG_RUNTIME_DIR=$TAP_TMP/run
mkdir -m 700 "$XDG_RUNTIME_DIR"
DIR=$XDG_RUNTIME_DIR/lkvm
declare -A PIDS
cleanup() {
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$TAP_TMP"
}
trap cleanup EXIT

lkvm() { timeout -k 5 120 "$LKVM" "$@"; }

# start_vm NAME: an idle VM in the background, up once `lkvm list` shows it.
start_vm() {
	"$LKVM" run -k "$GUEST_DIR/idle.bzImage" -m 32M --name "$1" \
		</dev/null >"$TAP_TMP/$1.out" 2>&1 &
	PIDS[$1]=$!
	for _ in $(seq 600); do
		lkvm list 2>/dev/null | grep -q "^$1 " && return 0
		kill -0 "${PIDS[$1]}" 2>/dev/null || break
		sleep 0.1
	done
	diag "VM $1 did not come up:"; sed 's/^/#   /' "$TAP_TMP/$1.out"
	return 1
}

# gone PID: the process exits within 60 s; sets $VMST to its status.
gone() {
	for _ in $(seq 600); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$1" 2>/dev/null && return 1
	# The job's own "Killed" notice is not ours to print.
	{ wait "$1"; VMST=$?; } 2>/dev/null
	return 0
}

alive() {	# alive NAME WHAT
	lkvm list >"$TAP_TMP/list.out" 2>&1
	like "$TAP_TMP/list.out" "^$1 +${PIDS[$1]} +running" "$2: VM still runs and answers lkvm list"
}

start_vm c1; ok $? "an idle VM starts"
is "$(stat -c %a "$DIR")" 700 "control directory is 0700"
is "$(stat -c %a "$DIR/c1.sock")" 600 "socket is 0600"
lkvm list >"$TAP_TMP/list.out"
like "$TAP_TMP/list.out" "^c1 +${PIDS[c1]} +running +1 +32 MiB" "list: name, pid, state, vCPUs, memory"
lkvm list --json >"$TAP_TMP/list.json"
like "$TAP_TMP/list.json" "^\[\{\"name\":\"c1\",\"pid\":${PIDS[c1]},\"state\":\"running\",\"vcpus\":1,\"memory_mib\":32,\"uptime_s\":[0-9]+\}\]$" "list --json"
lkvm stat --name c1 >"$TAP_TMP/stat.out"; st=$?
is "$st" 0 "stat answers"
like "$TAP_TMP/stat.out" "guest RAM 32 MiB, lkvm RSS [0-9]+ KiB" "stat: guest RAM and RSS"
lkvm stat --name c1 --json >"$TAP_TMP/stat.json"
like "$TAP_TMP/stat.json" '^\{"name":"c1","state":"running","devices":\[.*\],"memory":\{"guest_ram_mib":32,"rss_kib":[0-9]+' "stat --json"

# Usage errors: one line naming the problem, status 2.
lkvm pause --name nosuch 2>"$TAP_TMP/e1"; st=$?
is "$st" 2 "unknown VM: status 2"
like "$TAP_TMP/e1" "no VM named 'nosuch' is running" "unknown VM: says so"
lkvm stop 2>"$TAP_TMP/e2"; st=$?
is "$st" 2 "stop without --name/--all: status 2"
lkvm debug --name c1 --frobnicate 2>"$TAP_TMP/e3"; st=$?
is "$st" 2 "unknown option: status 2"
like "$TAP_TMP/e3" "unknown option.*--frobnicate" "unknown option: named"
lkvm balloon --name c1 --inflate lots 2>"$TAP_TMP/e4"; st=$?
is "$st" 2 "balloon --inflate lots: status 2"
"$LKVM" run -k "$GUEST_DIR/idle.bzImage" --name a/b </dev/null >/dev/null 2>"$TAP_TMP/e5"; st=$?
is "$st" 2 "--name with '/': refused before the VM starts"
like "$TAP_TMP/e5" "--name 'a/b': must not contain '/'" "--name with '/': says why"
"$LKVM" run -k "$GUEST_DIR/idle.bzImage" --name "$(printf 'n%.0s' $(seq 120))" </dev/null >/dev/null 2>"$TAP_TMP/e6"; st=$?
is "$st" 2 "--name too long for sun_path: refused"
"$LKVM" run -k "$GUEST_DIR/idle.bzImage" --name c1 </dev/null >/dev/null 2>"$TAP_TMP/e7"; st=$?
is "$st" 2 "duplicate name: usage error"
like "$TAP_TMP/e7" "a VM named 'c1' is already running" "duplicate name: says so"
alive c1 "duplicate name"

# Another uid.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups"
	$NOBODY "$LKVM" pause --name c1 >/dev/null 2>"$TAP_TMP/u1"; st=$?
	ok $((st == 0)) "another uid, directory 0700: refused (status $st)"
	# Open the way so that only SO_PEERCRED stands between nobody and the VM.
	chmod 711 "$TAP_TMP" "$XDG_RUNTIME_DIR" "$DIR"; chmod 666 "$DIR/c1.sock"
	$NOBODY "$LKVM" pause --name c1 >/dev/null 2>"$TAP_TMP/u2"; st=$?
	chmod 700 "$TAP_TMP" "$XDG_RUNTIME_DIR" "$DIR"; chmod 600 "$DIR/c1.sock"
	ok $((st == 0)) "another uid reaching the socket: refused (status $st)"
	like "$TAP_TMP/u2" "permission denied: uid 65534 may not control this VM" "another uid: SO_PEERCRED check says why"
else
	skip "another uid, directory 0700" "needs root and setpriv to run a client as nobody"
	skip "another uid reaching the socket" "needs root and setpriv"
	skip "another uid: SO_PEERCRED" "needs root and setpriv"
fi
alive c1 "another uid"

# A control directory others could write to proves nothing: every command
# that lists VMs says it ignores it and finds none (stop --all stops none).
chmod 770 "$DIR"
for c in list "pause --all" "stop --all"; do
	# shellcheck disable=SC2086 # the command's words
	"$LKVM" $c >/dev/null 2>"$TAP_TMP/perm.err"; st=$?
	is "$st" 0 "$c, directory 0770: no VMs, status 0"
	like "$TAP_TMP/perm.err" "ignoring the control directory .*chmod 700" \
		"$c, directory 0770: says why"
done
chmod 700 "$DIR"
alive c1 "unsafe control directory"

# Misbehaving clients: each is answered or dropped, and the VM goes on.
S=$DIR/c1.sock
for m in oversized garbage truncated halfclose slow; do
	timeout 120 "$ABUSE" "$m" "$S" >"$TAP_TMP/ab.out" 2>&1; st=$?
	is "$st" 0 "$m client: answered with an error or dropped"
	[ "$st" = 0 ] || sed 's/^/#   /' "$TAP_TMP/ab.out"
	grep -h "dropped after" "$TAP_TMP/ab.out" | sed 's/^/# /'
	alive c1 "$m client"
done
timeout 120 "$ABUSE" flood "$S" 1000 >"$TAP_TMP/ab.out" 2>&1; st=$?
is "$st" 0 "1000 clients at once: some answered, the rest closed"
tail -1 "$TAP_TMP/ab.out" | sed 's/^/# /'
alive c1 "1000 clients"
timeout 120 "$ABUSE" noread "$S" 100000 >"$TAP_TMP/ab.out" 2>&1; st=$?
is "$st" 0 "a client that never reads is dropped"
alive c1 "never-reading client"
timeout 300 "$ABUSE" repeat c1 2000 >"$TAP_TMP/ab.out" 2>&1; st=$?
is "$st" 0 "2000 requests on one connection"

# pause/resume: wired to kvm__pause/kvm__resume (a stub until they land).
lkvm pause --name c1 >"$TAP_TMP/p.out" 2>&1; st=$?
if grep -q "Function not implemented" "$TAP_TMP/p.out"; then
	skip "pause" "kvm__pause is still the ctl/stubs.c stub"
	skip "list shows paused" "kvm__pause is a stub"
	skip "resume" "kvm__resume is a stub"
else
	is "$st" 0 "pause"
	lkvm list >"$TAP_TMP/list.out"
	like "$TAP_TMP/list.out" "^c1 +${PIDS[c1]} +paused" "list shows paused"
	lkvm resume --name c1 >/dev/null 2>&1; is $? 0 "resume"
fi

# Stale socket after kill -9: skipped by list, replaced by a new VM.
start_vm c2; ok $? "second VM"
kill -9 "${PIDS[c2]}"; gone "${PIDS[c2]}"
[ -S "$DIR/c2.sock" ]; ok $? "kill -9 leaves the socket behind"
lkvm list >"$TAP_TMP/list.out"
! grep -q "^c2 " "$TAP_TMP/list.out"; ok $? "list skips the stale socket"
[ ! -e "$DIR/c2.sock" ]; ok $? "and removes it"
start_vm c3 && kill -9 "${PIDS[c3]}" && gone "${PIDS[c3]}"
start_vm c3; ok $? "a new VM replaces a stale socket of its name"

# stop --force: forced at once, status 143, socket gone.
lkvm stop --name c3 --force >"$TAP_TMP/s.out" 2>&1; st=$?
is "$st" 0 "stop --force: client exits 0"
gone "${PIDS[c3]}"; ok $? "stop --force: the VM is gone"
is "$VMST" 143 "stop --force: lkvm exits 128+SIGTERM"
[ ! -e "$DIR/c3.sock" ]; ok $? "stop --force: socket removed"

# A guest that ignores the power-off request is forced after --timeout.
lkvm stop --name c1 --timeout 3 >"$TAP_TMP/s.out" 2>&1; st=$?
is "$st" 0 "stop of a guest that ignores power-off: client exits 0"
like "$TAP_TMP/s.out" "c1: stopped \(forced\)" "and says it was forced"
gone "${PIDS[c1]}"; is "$VMST" 143 "forced stop: status 143"

# stop --all stops ten VMs at once.
up=0
for i in $(seq 10); do start_vm "m$i" && up=$((up + 1)); done
is "$up" 10 "ten VMs up"
lkvm stop --all --timeout 5 --json >"$TAP_TMP/all.out" 2>&1; st=$?
is "$st" 0 "stop --all: client exits 0"
[ "$st" = 0 ] || sed 's/^/#   /' "$TAP_TMP/all.out"
n=0
for i in $(seq 10); do gone "${PIDS[m$i]}" && n=$((n + 1)); done
is "$n" 10 "stop --all: all ten are gone"
is "$(ls "$DIR" | wc -l)" 0 "stop --all: no socket left"

# A VM whose process outlives its socket is not reported stopped, and
# with --json the reason still goes to stderr.  (The fake VM has no power
# button, so it is forced at once; the client then waits 10 s for the pid.)
"$ABUSE" linger "$DIR/ling.sock" 60 >"$TAP_TMP/ling.out" 2>&1 &
PIDS[ling]=$!
for _ in $(seq 600); do
	[ -S "$DIR/ling.sock" ] && break
	sleep 0.1
done
lkvm stop --all --json >"$TAP_TMP/ling.json" 2>"$TAP_TMP/ling.err"; st=$?
is "$st" 1 "stop of a VM that outlives its socket: status 1"
like "$TAP_TMP/ling.json" '^\[\{"name":"ling","stopped":false,"forced":true\}\]$' \
	"stop --json: not stopped"
like "$TAP_TMP/ling.err" "^lkvm stop: ling: closed its socket but pid ${PIDS[ling]} is still running$" \
	"stop --json: stderr says why"
kill "${PIDS[ling]}"; gone "${PIDS[ling]}"

# The socket goes however lkvm ends: guest power-off, SIGTERM, start-up failure.
"$LKVM" run -k "$GUEST_DIR/poweroff.bzImage" --name po </dev/null >/dev/null 2>&1; st=$?
is "$st" 0 "poweroff guest ran"
[ ! -e "$DIR/po.sock" ]; ok $? "guest power-off: socket removed"
start_vm t1; kill -TERM "${PIDS[t1]}"; gone "${PIDS[t1]}"
is "$VMST" 143 "SIGTERM: status 143"
[ ! -e "$DIR/t1.sock" ]; ok $? "SIGTERM: socket removed"
head -c 1024 "$GUEST_DIR/idle.bzImage" >"$TAP_TMP/trunc.bzImage"
timeout -k 5 60 "$LKVM" run -k "$TAP_TMP/trunc.bzImage" --name bad </dev/null >/dev/null 2>&1; st=$?
is "$st" 2 "truncated bzImage: lkvm fails to start (usage error)"
[ ! -e "$DIR/bad.sock" ]; ok $? "start-up failure: socket removed"

done_testing
