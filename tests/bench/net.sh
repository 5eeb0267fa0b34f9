#!/usr/bin/env bash
# virtio-net frames per second (not a test; prints figures), guest->host
# and host->guest at 64 and 1500 bytes, for tap (in a private network
# namespace) and user (libslirp, UDP over 127.0.0.1), against a host
# veth-to-veth pair with the same AF_PACKET sender/receiver.  Guest side:
# the vnet guest, test=bench, irq=poll.  Needs root (ip netns).
#
#   tests/bench/net.sh            BENCH_N=frames per run (20000)
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
LKVM=${LKVM:-$TOP/build/obj/lkvm}
GUEST=${GUEST_DIR:-$TOP/build/guest}/vnet.bzImage
N=${BENCH_N:-20000}
TMP=$(mktemp -d)
NS=lkvm-bench-$$
HELPER=$TMP/nethelper
trap 'ip netns del $NS 2>/dev/null; rm -rf "$TMP"' EXIT
cc -O2 -o "$HELPER" "$TOP/tests/net/nethelper.c" || exit 1
ip netns add $NS || exit 1
nsx() { timeout -k 5 120 ip netns exec $NS "$@"; }
ip -n $NS tuntap add dev vt0 mode tap
ip -n $NS link add va type veth peer name vb
for i in vt0 va vb; do ip -n $NS link set $i up; done
nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=1

vm() {	# vm NETARG PARAMS -> the guest's bench line (user mode: host netns)
	local x=nsx

	[ "${1#mode=user}" != "$1" ] && x="timeout -k 5 120"
	$x "$LKVM" run --debug-exit -k "$GUEST" -n "$1" -p "irq=poll $2" \
		</dev/null >"$TMP/vm.out" 2>&1
	grep -o 'bench [rt]x [0-9].*' "$TMP/vm.out" || { echo "guest failed:"; tail -3 "$TMP/vm.out"; }
}

ready() {	# until the rx guest said so (lkvm's output is a file)
	for _ in $(seq 300); do
		grep -qs 'bench rx ready' "$TMP/vm.out" && return
		sleep 0.1
	done
}

for size in 64 1500; do
	echo "== $size-byte frames, $N per run =="
	# tap, guest -> host
	nsx "$HELPER" sink vt0 "$N" 60 >"$TMP/sink" &
	sleep 0.3
	g=$(vm mode=tap,tapif=vt0 "test=bench dir=tx n=$N size=$size")
	wait
	printf 'tap  guest->host: guest %s; host %s\n' "$g" \
		"$(grep -o 'sink: [0-9].*' "$TMP/sink")"
	# tap, host -> guest (a flood: the tap queue drops what the guest misses)
	rm -f "$TMP/vm.out"
	vm mode=tap,tapif=vt0 "test=bench dir=rx n=$N size=$size" >"$TMP/g" &
	ready
	nsx "$HELPER" flood vt0 "$N" "$size" >"$TMP/flood"
	wait
	printf 'tap  host->guest: guest %s; host %s\n' "$(cat "$TMP/g")" \
		"$(grep -o 'flood: .*' "$TMP/flood")"
	# user, guest -> host (UDP to 10.0.2.2 = 127.0.0.1)
	rm -f "$TMP/port"
	timeout 120 "$HELPER" udpsink "$TMP/port" "$N" 60 >"$TMP/usink" &
	for _ in $(seq 50); do [ -s "$TMP/port" ] && break; sleep 0.1; done
	g=$(vm mode=user "test=bench dir=tx n=$N size=$size dhcp=1 udpport=$(cat "$TMP/port")")
	wait
	printf 'user guest->host: guest %s; host %s\n' "$g" \
		"$(grep -o 'udpsink: .*' "$TMP/usink")"
	# user, host -> guest (hostfwd udp to guest port 9)
	fwd=$(( 20000 + RANDOM % 20000 ))
	rm -f "$TMP/vm.out"
	vm "mode=user,hostfwd=udp:127.0.0.1:$fwd-:9" "test=bench dir=rx n=$N size=$size dhcp=1" >"$TMP/g" &
	ready
	timeout 120 "$HELPER" udpflood $fwd "$N" $((size - 42)) >/dev/null
	wait
	printf 'user host->guest: guest %s\n' "$(cat "$TMP/g")"
	# host veth -> veth, same sender and receiver
	nsx "$HELPER" sink vb "$N" 60 >"$TMP/sink" &
	sleep 0.3
	nsx "$HELPER" flood va "$N" "$size" >"$TMP/flood"
	wait
	printf 'veth va->vb:      %s; %s\n' "$(grep -o 'flood: .*' "$TMP/flood")" \
		"$(grep -o 'sink: [0-9].*' "$TMP/sink")"
done
