#!/usr/bin/env bash
# virtio-net over a tap in a network namespace this test creates: 10^5
# frames each way through a host echo program (none lost, reordered or
# corrupted), merged receive buffers, ARP + ICMP echo with the host
# kernel as peer, the CAP_NET_ADMIN message.  Traffic stays inside the
# namespace.
. "$(dirname "$0")/../lib/tap.sh"
need_kvm
need_guest vnet
[ "$(id -u)" = 0 ] || skip_all "needs root for ip netns"
command -v ip >/dev/null || skip_all "no ip (iproute2)"
"$LKVM" run --help 2>&1 | grep -q -- --network || skip_all "lkvm has no -n"

HELPER=$TAP_TMP/nethelper
cc -O2 -o "$HELPER" "$TOP/tests/net/nethelper.c" || skip_all "cannot build nethelper"
NS=lkvm-net-$$
ip netns add "$NS" || skip_all "ip netns add failed"
trap 'kill $ECHO_PID 2>/dev/null; ip netns del "$NS" 2>/dev/null; rm -rf "$TAP_TMP"' EXIT
nsx() { timeout -k 5 "$1" ip netns exec "$NS" "${@:2}"; }
nsx 10 sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip -n "$NS" tuntap add dev vt0 mode tap
ip -n "$NS" addr add 10.99.0.1/24 dev vt0
ip -n "$NS" link set vt0 up

plan 11

nsx 600 "$HELPER" echo vt0 300 >"$TAP_TMP/echo.out" 2>&1 &
ECHO_PID=$!
for _ in $(seq 50); do grep -q ready "$TAP_TMP/echo.out" && break; sleep 0.1; done

# irq=poll: the 10^5 loop stays at CPL3, no interrupt per batch.
OUT=$TAP_TMP/echo64.out
nsx 300 "$LKVM" run --debug-exit -k "$GUEST_DIR/vnet.bzImage" --loglevel info \
	-n mode=tap,tapif=vt0 -p "test=echo n=100000 size=64 irq=poll" \
	</dev/null >"$OUT" 2>&1
is "$?" 1 "tap: 10^5 64-byte frames each way"
like "$OUT" '^vnet: echo 100000 frames of 64 bytes each way, in order' \
	"tap: none lost or reordered"
like "$OUT" 'net0: rx [0-9]+ frames \(0 dropped' "tap: device dropped nothing"

OUT=$TAP_TMP/echo1500.out
nsx 300 "$LKVM" run --debug-exit -k "$GUEST_DIR/vnet.bzImage" \
	-n mode=tap,tapif=vt0 -p "test=echo n=3000 size=1514 rxbuf=512 irq=poll" \
	</dev/null >"$OUT" 2>&1
is "$?" 1 "tap: 1514-byte frames into 512-byte buffers"
like "$OUT" '^vnet: echo 3000 frames .* [1-9][0-9]* merged' \
	"tap: MRG_RXBUF merged every frame, in order"

OUT=$TAP_TMP/echomsix.out
nsx 300 "$LKVM" run --debug-exit -k "$GUEST_DIR/vnet.bzImage" \
	-n mode=tap,tapif=vt0 -p "test=echo n=500 size=128 promisc=0" \
	</dev/null >"$OUT" 2>&1
is "$?" 1 "tap: MSI-X interrupts, promiscuous mode off via control queue"
like "$OUT" '^vnet: echo 500 frames' "tap: echo with interrupts"

OUT=$TAP_TMP/ping.out
nsx 120 "$LKVM" run --debug-exit -k "$GUEST_DIR/vnet.bzImage" \
	-n mode=tap,tapif=vt0 -p "test=ping" </dev/null >"$OUT" 2>&1
is "$?" 1 "tap: ping guest ran"
like "$OUT" '^vnet: ping 10.99.0.1: 3/3 replies' "tap: ARP + ICMP echo with the host"

# Without CAP_NET_ADMIN (root minus that one capability, since /dev/kvm
# may be root's only): a clear message, not a crash.
if command -v setpriv >/dev/null; then
	OUT=$TAP_TMP/noperm.out
	setpriv --bounding-set=-net_admin --inh-caps=-net_admin \
		timeout 30 "$LKVM" run -k "$GUEST_DIR/vnet.bzImage" \
		-n mode=tap,tapif=lkvmnoperm0 </dev/null >"$OUT" 2>&1
	st=$?
	ok $([ "$st" != 0 ] && [ "$st" -lt 128 ] && echo 0 || echo 1) "tap without privileges fails cleanly ($st)"
	like "$OUT" 'CAP_NET_ADMIN' "tap without privileges: says what is missing"
else
	skip "tap without privileges" "no setpriv"
	skip "tap without privileges: message" "no setpriv"
fi

kill "$ECHO_PID" 2>/dev/null
wait "$ECHO_PID" 2>/dev/null
done_testing
