#!/usr/bin/env bash
# The guest suite runs as an ordinary user: `make check` runs it through
# scripts/as-test-user.sh, which says (LKVM_GUEST_UID) whom as -- as root,
# the user lkvm-test.  Fails if the suite ran as root although an
# ordinary user was arranged, or holds any capability.
. "$(dirname "$0")/../lib/tap.sh"

plan 2
uid=$(id -u)
eff=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status)
if [ -n "${LKVM_GUEST_UNPRIV_SKIP:-}" ]; then
	skip "guest suite runs as uid $uid (not root)" "$LKVM_GUEST_UNPRIV_SKIP"
	skip "guest suite holds no capability" "$LKVM_GUEST_UNPRIV_SKIP"
elif [ -z "${LKVM_GUEST_UID:-}" ] && [ "$uid" = 0 ]; then
	# prove by hand, as root: nobody asked for an ordinary user.
	skip "guest suite runs as uid $uid (not root)" "run by hand as root; make check runs it as lkvm-test"
	skip "guest suite holds no capability" "run by hand as root"
else
	ok $([ "$uid" != 0 ] && [ "$uid" = "${LKVM_GUEST_UID:-$uid}" ] && echo 0 || echo 1) \
		"guest suite runs as uid $uid (not root)"
	is "$((16#${eff:-1}))" 0 "guest suite holds no capability (CapEff $eff)"
fi
done_testing
