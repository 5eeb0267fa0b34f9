#!/usr/bin/env bash
# virtio-net frames per second (not a test; prints figures), guest->host
# and host->guest at 64 and 1500 bytes, for tap (in a private network
# namespace) and user mode (libslirp in lkvm, QEMU's -netdev user; UDP
# over 127.0.0.1), under lkvm and QEMU microvm alike (both virtio-mmio),
# against a host veth-to-veth pair with the same AF_PACKET sender and
# receiver.  Guest side: the vnet guest, test=bench, irq=poll.  Needs
# root (ip netns).
#
#   tests/bench/net.sh      BENCH_N=frames per run (20000), BENCH_NET_REPS (3)
#
# Besides its own lines it prints, for tests/bench/run.sh's table,
#   ROW<tab>figure<tab>vmm<tab>value<tab>unit
# once per run: guest->host is what the host received, host->guest what
# the guest did.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
LKVM=${LKVM:-$TOP/build/obj/lkvm}
GUEST=${GUEST_DIR:-$TOP/build/guest}/vnet.bzImage
N=${BENCH_N:-20000}
REPS=${BENCH_NET_REPS:-3}
TMP=$(mktemp -d)
NS=lkvm-bench-$$
HELPER=$TMP/nethelper
# shellcheck source=tests/bench/qemu.sh
. "$TOP/tests/bench/qemu.sh"
trap 'ip netns del $NS 2>/dev/null; rm -rf "$TMP"' EXIT
cc -O2 -o "$HELPER" "$TOP/tests/net/nethelper.c" || exit 1
ip netns add $NS || exit 1
nsx() { timeout -k 5 120 ip netns exec $NS "$@"; }
ip -n $NS tuntap add dev vt0 mode tap
ip -n $NS link add va type veth peer name vb
for i in vt0 va vb; do ip -n $NS link set $i up; done
nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=1
vmms=(lkvm)
command -v "$QEMU" >/dev/null && vmms+=("QEMU microvm")

# vm VMM MODE PARAMS -> the guest's bench line.  MODE: tap, or user with
# an optional udp forward port.  Tap runs in the namespace, user mode in
# the host's (its UDP goes to 127.0.0.1).
vm() {
	local vmm=$1 mode=$2 p="transport=mmio irq=poll $3" x=nsx fwd=${4:-}
	local ln=() qn=()

	case $mode in
	tap)	ln=(-n mode=tap,tapif=vt0)
		qn=(-netdev tap,id=n0,ifname=vt0,script=no,downscript=no) ;;
	user)	x="timeout -k 5 120"
		ln=(-n "mode=user${fwd:+,hostfwd=udp:127.0.0.1:$fwd-:9}")
		qn=(-netdev "user,id=n0${fwd:+,hostfwd=udp:127.0.0.1:$fwd-:9}") ;;
	esac
	if [ "$vmm" = lkvm ]; then
		$x "$LKVM" run --debug-exit -k "$GUEST" --virtio-transport mmio \
			"${ln[@]}" -p "$p" </dev/null >"$TMP/vm.out" 2>&1
	else
		$x "${QMICRO[@]}" -m 128M -kernel "$GUEST" -append "$MICROVM_SLOT $p" \
			"${qn[@]}" -device virtio-net-device,netdev=n0 \
			</dev/null >"$TMP/vm.out" 2>&1
	fi
	grep -ao 'bench [rt]x [0-9].*' "$TMP/vm.out" || { echo "guest failed:"; tail -3 "$TMP/vm.out"; }
}

ready() {	# until the rx guest said so (the VMM's output is a file)
	for _ in $(seq 300); do
		grep -aqs 'bench rx ready' "$TMP/vm.out" && return
		sleep 0.1
	done
}

# row FIGURE VMM SIZE FRAMES-PER-S: frames/s, and MB/s for full frames
row() {
	[ -n "$4" ] || return 0
	printf 'ROW\tnet %s, %s B: frames/s\t%s\t%s\tframes/s\n' "$1" "$3" "$2" "$4"
	[ "$3" -ge 1000 ] &&
		printf 'ROW\tnet %s, %s B: MB/s\t%s\t%s\tMB/s\n' "$1" "$3" "$2" \
			"$(awk -v f="$4" -v s="$3" 'BEGIN { printf "%.1f", f * s / 1e6 }')"
	return 0
}
fps() { sed -n 's/.*: \([0-9.]*\) frames\/s.*/\1/p; s/.*: \([0-9.]*\)\/s$/\1/p' <<<"$1" | head -1; }

for size in 64 1500; do
	echo "== $size-byte frames, $N per run =="
	for _ in $(seq "$REPS"); do
		for vmm in "${vmms[@]}"; do
			# tap, guest -> host
			nsx "$HELPER" sink vt0 "$N" 60 >"$TMP/sink" &
			sleep 0.3
			g=$(vm "$vmm" tap "test=bench dir=tx n=$N size=$size")
			wait
			h=$(grep -o 'sink: [0-9].*' "$TMP/sink")
			printf '%-12s tap  guest->host: guest %s; host %s\n' "$vmm" "$g" "$h"
			row "tap, guest to host" "$vmm" "$size" "$(fps "$h")"
			# tap, host -> guest (a flood: the tap queue drops what
			# the guest misses)
			rm -f "$TMP/vm.out"
			vm "$vmm" tap "test=bench dir=rx n=$N size=$size" >"$TMP/g" &
			ready
			nsx "$HELPER" flood vt0 "$N" "$size" >"$TMP/flood"
			wait
			printf '%-12s tap  host->guest: guest %s; host %s\n' "$vmm" \
				"$(cat "$TMP/g")" "$(grep -o 'flood: .*' "$TMP/flood")"
			row "tap, host to guest" "$vmm" "$size" "$(fps "$(cat "$TMP/g")")"
			# user, guest -> host (UDP to 10.0.2.2 = 127.0.0.1)
			rm -f "$TMP/port"
			timeout 120 "$HELPER" udpsink "$TMP/port" "$N" 60 >"$TMP/usink" &
			for _ in $(seq 50); do [ -s "$TMP/port" ] && break; sleep 0.1; done
			g=$(vm "$vmm" user "test=bench dir=tx n=$N size=$size dhcp=1 udpport=$(cat "$TMP/port")")
			wait
			h=$(grep -o 'udpsink: .*' "$TMP/usink")
			printf '%-12s user guest->host: guest %s; host %s\n' "$vmm" "$g" "$h"
			row "user, guest to host" "$vmm" "$size" "$(fps "$h")"
			# user, host -> guest (a udp forward to guest port 9)
			fwd=$("$HELPER" freeudp)
			rm -f "$TMP/vm.out"
			vm "$vmm" user "test=bench dir=rx n=$N size=$size dhcp=1" $fwd >"$TMP/g" &
			ready
			timeout 120 "$HELPER" udpflood $fwd "$N" $((size - 42)) >/dev/null
			wait
			printf '%-12s user host->guest: guest %s\n' "$vmm" "$(cat "$TMP/g")"
			row "user, host to guest" "$vmm" "$size" "$(fps "$(cat "$TMP/g")")"
		done
		# host veth -> veth, same sender and receiver: the ceiling
		nsx "$HELPER" sink vb "$N" 60 >"$TMP/sink" &
		sleep 0.3
		nsx "$HELPER" flood va "$N" "$size" >"$TMP/flood"
		wait
		h=$(grep -o 'sink: [0-9].*' "$TMP/sink")
		printf '%-12s veth va->vb: %s; %s\n' host "$(grep -o 'flood: .*' "$TMP/flood")" "$h"
		row "tap, guest to host" "host (veth)" "$size" "$(fps "$h")"
		row "tap, host to guest" "host (veth)" "$size" "$(fps "$h")"
	done
done
