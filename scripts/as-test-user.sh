#!/usr/bin/env bash
# Runs COMMAND (make check's prove of tests/guest/*.t) as an ordinary
# user: as root, as lkvm-test (scripts/setup.sh creates it, in group
# kvm); otherwise as the calling user.  Everything the tests write goes
# under a fresh TMPDIR that user owns, removed afterwards.
#
#   scripts/as-test-user.sh COMMAND...
#   LKVM_TEST_USER=name        another user than lkvm-test
#   LKVM_TEST_WRITABLE="dirs"  directories the user must be able to
#                              write (TSan's report directory)
#
# tests/guest/01-unprivileged.t checks the result: LKVM_GUEST_UID is the
# uid the suite must run as; LKVM_GUEST_UNPRIV_SKIP, when set, is why it
# could not be arranged (the suite then runs as root and that test says
# SKIP with the reason).
set -u
unset LKVM_GUEST_UNPRIV_SKIP
user=${LKVM_TEST_USER:-lkvm-test}

if [ "$(id -u)" != 0 ]; then
	export LKVM_GUEST_UID=$(id -u)
	[ -r /dev/kvm ] && [ -w /dev/kvm ] ||
		export LKVM_GUEST_UNPRIV_SKIP="$(id -un) cannot open /dev/kvm (add it to group kvm, see README)"
	exec "$@"
fi

# as_user CMD...: CMD as $user with its groups, no capability.
as_user() {
	setpriv --reuid="$user" --regid="$user" --init-groups \
		--inh-caps=-all --bounding-set=-all "$@"
}

why=
if ! command -v setpriv >/dev/null; then
	why="no setpriv (util-linux)"
elif ! id "$user" >/dev/null 2>&1; then
	why="no user $user (scripts/setup.sh creates it)"
elif ! as_user sh -c '[ -r /dev/kvm ] && [ -w /dev/kvm ]'; then
	why="$user cannot open /dev/kvm (scripts/setup.sh makes it root:kvm 0660)"
else
	# The build tree may be root's: the user must read lkvm, the guests
	# and the tests (a umask of 077 at build time would hide them).
	for f in "${LKVM:-}" "${GUEST_DIR:-}" "$PWD/tests/lib/tap.sh"; do
		[ -n "$f" ] || continue
		if ! as_user sh -c '[ -r "$1" ] && { [ ! -d "$1" ] || [ -x "$1" ]; }' sh "$f"; then
			why="$user cannot read $f (build with umask 022, or make the tree readable)"
			break
		fi
	done
fi
if [ -n "$why" ]; then
	echo "# SKIP guest suite as an ordinary user: $why; running it as root" >&2
	export LKVM_GUEST_UID=0 LKVM_GUEST_UNPRIV_SKIP="$why"
	exec "$@"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lkvm-test.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
chown "$user:" "$tmp"
for d in ${LKVM_TEST_WRITABLE:-}; do
	mkdir -p "$d" && chown "$user:" "$d"
done
uid=$(id -u "$user")
# HOME and XDG_RUNTIME_DIR are root's: the control socket would go
# there.  The user's own, under its TMPDIR.
mkdir -m 700 "$tmp/home" "$tmp/run" && chown "$user:" "$tmp/home" "$tmp/run"
# Not exec: the trap removes $tmp afterwards.
(umask 022; TMPDIR=$tmp HOME=$tmp/home XDG_RUNTIME_DIR=$tmp/run \
	USER=$user LOGNAME=$user LKVM_GUEST_UID=$uid as_user "$@")
