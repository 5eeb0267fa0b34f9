#!/usr/bin/env bash
# User-mode networking (libslirp), no root needed: a DHCP lease obtained
# by hand, a hand-made TCP connection to a server on the host's loopback
# (10.0.2.2 -> 127.0.0.1), a UDP port forward into the guest; malformed
# rx/tx chains make the device NEEDS_RESET and it recovers.  Traffic goes
# to 127.0.0.1 only.
. "$(dirname "$0")/../lib/tap.sh"
need_kvm
need_guest vnet
"$LKVM" run --help 2>&1 | grep -q -- --network || skip_all "lkvm has no -n"

HELPER=$TAP_TMP/nethelper
cc -O2 -o "$HELPER" "$TOP/tests/net/nethelper.c" || skip_all "cannot build nethelper"

plan 12

timeout 120 "$HELPER" tcpserver "$TAP_TMP/port" 90 >"$TAP_TMP/srv.out" 2>&1 &
SRV=$!
for _ in $(seq 50); do [ -s "$TAP_TMP/port" ] && break; sleep 0.1; done
TCPPORT=$(cat "$TAP_TMP/port")
# A free UDP port for the forward, from the kernel.
FWD=$("$HELPER" freeudp)

OUT=$TAP_TMP/user.out
timeout -k 5 120 "$LKVM" run --debug-exit -k "$GUEST_DIR/vnet.bzImage" \
	-n "mode=user,hostfwd=udp:127.0.0.1:$FWD-:7" \
	-p "test=user tcpport=$TCPPORT udpecho=1" </dev/null >"$OUT" 2>&1 &
VM=$!
timeout 100 "$HELPER" udpclient "$FWD" 90 >"$TAP_TMP/udp.out" 2>&1
wait "$VM"
is "$?" 1 "user: guest ended normally"
like "$OUT" '^vnet: dhcp lease 10\.0\.2\.15 from 10\.0\.2\.2' "user: DHCP lease obtained"
like "$OUT" "^vnet: tcp reply 'echo: hello from lkvm'" "user: TCP to the host's loopback, both ways"
wait "$SRV"
like "$TAP_TMP/srv.out" "got 'hello from lkvm'" "user: the host server got the guest's data"
like "$TAP_TMP/udp.out" "reply 'ping'" "user: UDP port forward into the guest and back"
like "$OUT" '^vnet: udp echo: [0-9]+ datagrams, bye' "user: guest saw the forwarded datagrams"

for c in txloop rxro rxloop; do
	run_guest vnet -n mode=user -p "test=hostile case=$c"
	is "$STATUS" 1 "hostile $c: guest ended normally, lkvm alive"
	like "$OUT" "^vnet: hostile $c: recovered" "hostile $c: NEEDS_RESET, then works after reset"
done
done_testing
