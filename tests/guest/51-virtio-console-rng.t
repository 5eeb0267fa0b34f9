#!/usr/bin/env bash
# virtio-console and virtio-rng over every transport with the bare-metal
# vcons and vrng guests: a line piped into lkvm's stdin reaches the guest
# through the receiveq and comes back through the transmitq; the rng
# delivers 4 KiB that look random.
. "$(dirname "$0")/../lib/tap.sh"
need_kvm
need_guest vcons vrng
"$LKVM" run --help 2>&1 | grep -q -- --virtio-transport ||
	skip_all "lkvm has no virtio yet (no --virtio-transport)"

transports="pci pci-legacy mmio mmio-legacy"
plan $((4 * 3 + 1 + 2 + 4 * 4))

for t in $transports; do
	out=$TAP_TMP/vcons-$t.out
	(sleep 1; printf 'ping %s\n' "$t") |
		timeout -k 5 60 "$LKVM" run --debug-exit -k "$GUEST_DIR/vcons.bzImage" \
		--console virtio --virtio-transport "$t" -p "transport=$t" \
		>"$out" 2>"$TAP_TMP/vcons-$t.err"
	st=$?
	is "$st" 1 "console $t: guest ended normally"
	like "$out" '^vcons: hello from the guest' "console $t: transmitq reaches stdout"
	like "$out" "^vcons: echo 'ping $t'" "console $t: stdin line came back through the guest"
done

# Input that is already there before the driver set up its queues.
out=$TAP_TMP/vcons-early.out
printf 'early bird\n' |
	timeout -k 5 60 "$LKVM" run --debug-exit -k "$GUEST_DIR/vcons.bzImage" \
	--console virtio -p "transport=pci" >"$out" 2>&1
like "$out" "^vcons: echo 'early bird'" "console: input sent before the driver was ready is kept"

# stdout a stream socket (a journal's): the device thread sends with
# MSG_DONTWAIT, a call its seccomp filter must allow.
out=$TAP_TMP/vcons-sock.out
(sleep 1; printf 'ping sock\n') | perl -MSocket -e '
	socketpair(my $r, my $w, AF_UNIX, SOCK_STREAM, PF_UNSPEC)
		or die "socketpair: $!";
	my $pid = fork() // die "fork: $!";
	if (!$pid) {
		close $r;
		open(STDOUT, ">&", $w) or die "dup: $!";
		exec @ARGV or die "exec: $!";
	}
	close $w;
	print while <$r>;
	waitpid($pid, 0);
	exit($? & 127 ? 128 + ($? & 127) : $? >> 8);' \
	timeout -k 5 60 "$LKVM" run --debug-exit -k "$GUEST_DIR/vcons.bzImage" \
	--console virtio -p "transport=pci" >"$out" 2>"$TAP_TMP/vcons-sock.err"
st=$?
is "$st" 1 "console on a socket stdout: guest ended normally"
[ "$st" = 1 ] || sed 's/^/#   /' "$TAP_TMP/vcons-sock.err"
like "$out" "^vcons: echo 'ping sock'" "console on a socket stdout: output arrives"

for t in $transports; do
	run_guest vrng --rng --virtio-transport "$t" -p "transport=$t"
	is "$STATUS" 1 "rng $t: guest ended normally"
	like "$OUT" '^vrng: 4096 bytes' "rng $t: 4096 bytes read"
	like "$OUT" '^vrng: entropy ok' "rng $t: bytes look random"
	# An interrupt with nothing new in the used ring is how a device that
	# signals before publishing used.idx shows up.
	! grep -q 'interrupts before used->idx moved' "$OUT"
	ok $? "rng $t: no interrupt before the used ring moved"
done

done_testing
