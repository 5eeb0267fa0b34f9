#!/usr/bin/env bash
# File descriptors of a running lkvm with a disk, a 9p share, a user-mode
# network and the control socket: every fd but 0-2 is close-on-exec
# (its fdinfo flags carry O_CLOEXEC, 02000000) -- one lkvm inherited
# without the flag too, which lkvm keeps -- and each is one the VM needs: /dev/kvm once,
# the VM once, one per vCPU, the image once, the 9p root once, lkvm's own
# /proc/<pid>/statm once (lkvm stat reads it; under seccomp the main
# thread may not open files, so it is opened during set-up), and
# otherwise only anonymous kernel objects (eventfd, epoll, timerfd,
# signalfd) and sockets (control, slirp).
. "$(dirname "$0")/../lib/tap.sh"
need_kvm
need_guest idle

plan 11

export XDG_RUNTIME_DIR=$TAP_TMP/run
mkdir -m 700 "$XDG_RUNTIME_DIR" "$TAP_TMP/share"
truncate -s 8M "$TAP_TMP/d.img"
LPID=
trap '[ -n "$LPID" ] && kill -9 "$LPID" 2>/dev/null; rm -rf "$TAP_TMP"' EXIT

# Built without libslirp (static builds), lkvm has no mode=user.
NET=(-n mode=user)
grep -qa slirp_new "$LKVM" || NET=()
: >"$TAP_TMP/leak"
# lkvm starts with 0-2 and one fd as a careless parent would leave it
# (fd 7, without FD_CLOEXEC); whatever prove or make left open is closed.
(
	for f in /proc/self/fd/*; do
		n=${f##*/}
		[ "$n" -gt 2 ] && eval "exec $n>&-" 2>/dev/null
	done
	exec 7<"$TAP_TMP/leak"
	exec "$LKVM" run -k "$GUEST_DIR/idle.bzImage" -m 32M -c 2 --name fds \
		-d "$TAP_TMP/d.img" --9p "$TAP_TMP/share,fdshare" "${NET[@]}"
) </dev/null >"$TAP_TMP/out" 2>&1 &
LPID=$!
up=1
for _ in $(seq 600); do
	grep -q '^idle: ready' "$TAP_TMP/out" && grep -qx lkvm-vcpu-1 /proc/"$LPID"/task/*/comm 2>/dev/null &&
		{ up=0; break; }
	kill -0 "$LPID" 2>/dev/null || break
	sleep 0.1
done
ok $up "lkvm runs with disk, 9p${NET:+, net user} and control socket"
[ $up = 0 ] || sed 's/^/#   /' "$TAP_TMP/out"
# A control client in between: the fd of an accepted connection is gone
# again afterwards, and the listening socket stays.
timeout 60 "$LKVM" stat --name fds >/dev/null 2>&1
ok $? "lkvm stat answers"

declare -A count
noexec=() unexpected=() listing=()
for f in /proc/"$LPID"/fd/*; do
	n=${f##*/}
	[ "$n" -le 2 ] && continue
	t=$(readlink "$f") || continue
	fl=$(sed -n 's/^flags:[[:space:]]*//p' /proc/"$LPID"/fdinfo/"$n")
	listing+=("$n $t $fl")
	[ $((8#$fl & 02000000)) != 0 ] || noexec+=("$n ($t, flags $fl)")
	case $t in
	/dev/kvm|anon_inode:kvm-vm|"$TAP_TMP/d.img"|"$TAP_TMP/share"|"$TAP_TMP/leak")
		count[$t]=$((${count[$t]:-0} + 1)) ;;
	anon_inode:kvm-vcpu:*) count[vcpu]=$((${count[vcpu]:-0} + 1)) ;;
	/proc/"$LPID"/statm) count[statm]=$((${count[statm]:-0} + 1)) ;;
	"anon_inode:[eventfd]"|"anon_inode:[eventpoll]"|"anon_inode:[timerfd]"|\
	"anon_inode:[signalfd]"|socket:*|anon_inode:kvm-device*) ;;
	*) unexpected+=("$n -> $t") ;;
	esac
done
diag "${#listing[@]} fds above 2:"
printf '#   %s\n' "${listing[@]}" | sort -n -k2

is "${noexec[*]}" "" "every fd above 2 is close-on-exec"
is "${count[/dev/kvm]:-0}" 1 "/dev/kvm is open once"
is "${count[anon_inode:kvm-vm]:-0}" 1 "one VM fd"
is "${count[vcpu]:-0}" 2 "one fd per vCPU"
is "${count[$TAP_TMP/d.img]:-0}" 1 "the image is open once"
# lkvm cannot tell a leak from an fd= tap: kept, but close-on-exec.
is "${count[$TAP_TMP/leak]:-0}" 1 "the inherited fd is kept (checked close-on-exec above)"
is "${count[$TAP_TMP/share]:-0}" 1 "the 9p root is open once"
is "${count[statm]:-0}" 1 "/proc/<pid>/statm is open once (lkvm stat)"
is "${unexpected[*]}" "" "no fd the VM does not need"

kill "$LPID"
wait "$LPID" 2>/dev/null
LPID=
done_testing
