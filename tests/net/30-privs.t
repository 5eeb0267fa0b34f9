#!/usr/bin/env bash
# Least privilege: lkvm started as root with a tap (which needs
# CAP_NET_ADMIN) holds no capability in any thread once the guest runs,
# has an empty bounding set and no_new_privs; the tap's script= runs
# privileged (set-up), its downscript= without privileges (after).  Then
# the same for an ordinary user given CAP_NET_ADMIN as an ambient
# capability (what file capabilities on lkvm would give it).
. "$(dirname "$0")/../lib/tap.sh"
need_kvm
need_guest idle
[ "$(id -u)" = 0 ] || skip_all "needs root for ip netns and a tap"
command -v ip >/dev/null || skip_all "no ip (iproute2)"

NS=lkvm-privs-$$
ip netns add "$NS" || skip_all "ip netns add failed"
LPID=
cleanup() {
	[ -n "$LPID" ] && kill -9 "$LPID" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$TAP_TMP"
}
trap cleanup EXIT
ip -n "$NS" tuntap add dev vt0 mode tap
ip -n "$NS" link set vt0 up

plan 21

# A script that records the capabilities it runs with.
cat >"$TAP_TMP/caps.sh" <<'EOF'
#!/bin/sh
grep -E '^(CapEff|CapPrm|NoNewPrivs):' /proc/self/status >"$(dirname "$0")/$(basename "$0" .sh).out"
EOF
chmod 755 "$TAP_TMP/caps.sh"
ln -s caps.sh "$TAP_TMP/up.sh"
ln -s caps.sh "$TAP_TMP/down.sh"

# start NAME [prefix...] -- lkvm args: lkvm in the namespace, in the
# background ($LPID); returns once its first vCPU thread exists, which
# is after the drop.
start() {
	local name=$1
	shift
	"$@" </dev/null >"$TAP_TMP/$name.out" 2>&1 &
	LPID=$!
	for _ in $(seq 600); do
		grep -qx lkvm-vcpu-0 /proc/"$LPID"/task/*/comm 2>/dev/null && return 0
		kill -0 "$LPID" 2>/dev/null || break
		sleep 0.1
	done
	diag "lkvm $name did not start:"; sed 's/^/#   /' "$TAP_TMP/$name.out"
	return 1
}

# check_tasks WHAT FIELDS...: every thread of $LPID has each FIELD 0 and
# NoNewPrivs 1; prints the main thread's lines.
check_tasks() {
	local what=$1 bad=0 t f v n=0
	shift
	for t in /proc/"$LPID"/task/*; do
		n=$((n + 1))
		for f in "$@"; do
			v=$(sed -n "s/^$f:[[:space:]]*//p" "$t/status")
			[ -n "$v" ] && [ $((16#$v)) = 0 ] && continue
			diag "  thread $(cat "$t/comm") ($(basename "$t")): $f $v"
			bad=1
		done
		v=$(sed -n 's/^NoNewPrivs:[[:space:]]*//p' "$t/status")
		[ "$v" = 1 ] || { diag "  thread $(cat "$t/comm"): NoNewPrivs $v"; bad=1; }
	done
	diag "$what, main thread: $(grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):' /proc/"$LPID"/status | tr -s '\t\n' '  ')"
	ok "$bad" "$what: all $n threads hold no capability, no_new_privs set"
}

stop() {
	kill "$LPID"
	for _ in $(seq 600); do kill -0 "$LPID" 2>/dev/null || break; sleep 0.1; done
	wait "$LPID" 2>/dev/null
	LPID=
}

export XDG_RUNTIME_DIR=$TAP_TMP/run
mkdir -m 700 "$XDG_RUNTIME_DIR"

start root ip netns exec "$NS" "$LKVM" run -k "$GUEST_DIR/idle.bzImage" -m 32M \
	--name privs -n "mode=tap,tapif=vt0,script=$TAP_TMP/up.sh,downscript=$TAP_TMP/down.sh"
ok $? "root, tap: lkvm runs the guest"
check_tasks "root, tap" CapInh CapPrm CapEff CapAmb CapBnd
stop
like "$TAP_TMP/up.out" '^CapEff:[[:space:]]*0*[1-9a-f]' "script= ran with capabilities (set-up)"
like "$TAP_TMP/down.out" '^CapEff:[[:space:]]*0+$' "downscript= ran without capabilities"
like "$TAP_TMP/down.out" '^CapPrm:[[:space:]]*0+$' "downscript= cannot regain them"
like "$TAP_TMP/down.out" '^NoNewPrivs:[[:space:]]*1$' "downscript= runs with no_new_privs"

# A script= that cannot run, and one that fails: lkvm stops before the
# guest and says which.
ip netns exec "$NS" "$LKVM" run -k "$GUEST_DIR/idle.bzImage" -m 32M \
	-n "mode=tap,tapif=vt0,script=$TAP_TMP/nonexistent.sh" \
	>"$TAP_TMP/s.out" 2>"$TAP_TMP/s.err"
is "$?" 2 "script= missing: status 2"
like "$TAP_TMP/s.err" "cannot run $TAP_TMP/nonexistent.sh: No such file" "script= missing: says so"
printf '#!/bin/sh\nexit 3\n' >"$TAP_TMP/fail.sh"
chmod 755 "$TAP_TMP/fail.sh"
ip netns exec "$NS" "$LKVM" run -k "$GUEST_DIR/idle.bzImage" -m 32M \
	-n "mode=tap,tapif=vt0,script=$TAP_TMP/fail.sh" \
	>"$TAP_TMP/s.out" 2>"$TAP_TMP/s.err"
is "$?" 4 "script= exits 3: lkvm fails (status 4)"
like "$TAP_TMP/s.err" "fail.sh vt0 exited with status 3" "script= exits 3: the status is named"
# A script whose own command is not found exits 127: a failed script
# (status 4), not a script that could not be run.
printf '#!/bin/sh\n/nonexistent/cmd\n' >"$TAP_TMP/nf.sh"
chmod 755 "$TAP_TMP/nf.sh"
ip netns exec "$NS" "$LKVM" run -k "$GUEST_DIR/idle.bzImage" -m 32M \
	-n "mode=tap,tapif=vt0,script=$TAP_TMP/nf.sh" \
	>"$TAP_TMP/s.out" 2>"$TAP_TMP/s.err"
is "$?" 4 "script= exits 127 itself: lkvm fails (status 4)"
like "$TAP_TMP/s.err" "nf.sh vt0 exited with status 127" "script= exits 127 itself: named as its status"

# Root with only CAP_NET_ADMIN left (as setpriv leaves it): no CAP_SETPCAP,
# so the bounding set stays, everything else goes.
if command -v setpriv >/dev/null; then
	start netadmin ip netns exec "$NS" setpriv --inh-caps=-all,+net_admin \
		--bounding-set=-all,+net_admin "$LKVM" run -k "$GUEST_DIR/idle.bzImage" \
		-m 32M --name privs2 -n mode=tap,tapif=vt0
	ok $? "root with CAP_NET_ADMIN only: runs"
	check_tasks "root, CAP_NET_ADMIN only" CapInh CapPrm CapEff CapAmb
	stop
else
	skip "root with CAP_NET_ADMIN only: runs" "no setpriv"
	skip "root with CAP_NET_ADMIN only: dropped" "no setpriv"
fi

# An ordinary user in group kvm with CAP_NET_ADMIN as an ambient
# capability (scripts/setup.sh creates lkvm-test).
USER_OK=
if ! command -v setpriv >/dev/null; then
	USER_OK="no setpriv"
elif ! id lkvm-test >/dev/null 2>&1; then
	USER_OK="no user lkvm-test (scripts/setup.sh creates it)"
elif ! setpriv --reuid=lkvm-test --regid=lkvm-test --init-groups \
	sh -c '[ -r /dev/kvm ] && [ -w /dev/kvm ]'; then
	USER_OK="lkvm-test cannot open /dev/kvm"
fi
if [ -z "$USER_OK" ]; then
	chmod 755 "$TAP_TMP"
	caps=+net_admin
	# Debian's /dev/net/tun is 0666; where it is root's only, the user
	# needs CAP_DAC_OVERRIDE as well (which lkvm drops just the same).
	if ! setpriv --reuid=lkvm-test --regid=lkvm-test --init-groups \
		sh -c '[ -r /dev/net/tun ] && [ -w /dev/net/tun ]'; then
		caps=$caps,+dac_override
		diag "/dev/net/tun is $(stat -c %a /dev/net/tun) here: CAP_DAC_OVERRIDE as well"
	fi
	mkdir -m 700 "$TAP_TMP/urun" && chown lkvm-test "$TAP_TMP/urun"
	start user ip netns exec "$NS" env XDG_RUNTIME_DIR="$TAP_TMP/urun" \
		setpriv --reuid=lkvm-test --regid=lkvm-test --init-groups \
		--inh-caps="$caps" --ambient-caps="$caps" \
		"$LKVM" run -k "$GUEST_DIR/idle.bzImage" -m 32M --name privs3 --loglevel info \
		-n mode=tap,tapif=lkvmpriv0
	ok $? "user with ambient CAP_NET_ADMIN: creates a tap and runs"
	is "$(stat -c %U /proc/"$LPID")" lkvm-test "user: lkvm runs as lkvm-test"
	like "$TAP_TMP/user.out" 'tap lkvmpriv0' "user: the tap was created"
	check_tasks "user, ambient CAP_NET_ADMIN" CapInh CapPrm CapEff CapAmb
	stop
else
	for n in 1 2 3 4; do skip "ordinary user with CAP_NET_ADMIN ($n)" "$USER_OK"; done
fi
# A user without access to /dev/kvm (nobody, not in group kvm) is told
# what failed and what to do.
if command -v setpriv >/dev/null; then
	mkdir -m 777 "$TAP_TMP/nobody"
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		env HOME="$TAP_TMP/nobody" XDG_RUNTIME_DIR= \
		timeout 60 "$LKVM" run -k "$GUEST_DIR/idle.bzImage" -m 32M \
		</dev/null >"$TAP_TMP/nokvm.out" 2>&1
	st=$?
	ok $([ "$st" != 0 ] && [ "$st" -lt 128 ] && echo 0 || echo 1) "no access to /dev/kvm: lkvm fails cleanly ($st)"
	like "$TAP_TMP/nokvm.out" 'cannot open /dev/kvm: .*errno 13' "no access to /dev/kvm: names the file and the errno"
	like "$TAP_TMP/nokvm.out" 'group kvm' "no access to /dev/kvm: names the fix (group kvm)"
else
	for n in 1 2 3; do skip "no access to /dev/kvm ($n)" "no setpriv"; done
fi
done_testing
