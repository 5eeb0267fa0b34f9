#!/usr/bin/env bash
# Hostile virtio driver (guest vhostile), one broken rule per run, on every
# transport: malformed rings make the device report NEEDS_RESET and raise a
# configuration interrupt, lkvm carries on and the guest recovers the
# device by resetting it; queue reconfiguration after DRIVER_OK and a
# notify for a queue that does not exist are ignored; with bus mastering
# off nothing is completed until it is back on; a reset while requests are
# with the host's disk waits for them.  Runs under the sanitizer
# build too (make SANITIZE=1 check), where any report fails the test.
. "$(dirname "$0")/../lib/tap.sh"
need_kvm
need_guest vhostile
"$LKVM" run --help 2>&1 | grep -q -- --virtio-transport ||
	skip_all "lkvm has no virtio yet (no --virtio-transport)"

malformed="loop oob lenovf zerolen nested availjump"
# transport | guest irq mode: INTx for legacy PCI and polling of the ISR
# on one run, so every way of seeing the config interrupt is covered.
runs=()
for t in pci pci-legacy mmio mmio-legacy; do
	irq=
	[ "$t" = pci-legacy ] && irq=intx
	for c in $malformed resize badnotify; do runs+=("$t|$irq|$c"); done
	case $t in pci*) runs+=("$t|$irq|busmaster") ;; esac
done
runs+=("pci|poll|loop" "mmio|poll|oob")
# Resets with the disk's requests in flight: the vCPU thread waits for
# them under its seccomp filter.
runs+=("pci||resetflight" "mmio||resetflight")
plan $((${#runs[@]} * 3))

for r in "${runs[@]}"; do
	IFS='|' read -r t irq c <<<"$r"
	img=$TAP_TMP/h.img
	rm -f "$img"
	truncate -s 1M "$img"
	args="transport=$t case=$c"
	[ -n "$irq" ] && args="$args irq=$irq"
	name="$t${irq:+ irq=$irq} $c"
	run_guest vhostile -d "$img" --virtio-transport "$t" -p "$args"
	is "$STATUS" 1 "$name: guest saw the expected behaviour, lkvm survived"
	case $c in
	resize|badnotify) want="^vhostile: $c: ignored" ;;
	busmaster) want="^vhostile: busmaster: no dma while disabled" ;;
	resetflight) want="^vhostile: resetflight: recovered" ;;
	*) want="^vhostile: $c: needs_reset" ;;
	esac
	like "$OUT" "$want" "$name: ${want#^vhostile: }"
	if grep -Eq 'AddressSanitizer|UndefinedBehaviorSanitizer|runtime error|LeakSanitizer' "$ERR"; then
		ok 1 "$name: no sanitizer report"
		sed 's/^/#   /' "$ERR" | head -20
	elif [ "$c" != resize ] && [ "$c" != badnotify ] && [ "$c" != busmaster ] &&
	     ! grep -q '^vhostile: .*: recovered' "$OUT"; then
		ok 1 "$name: device recovered after reset"
	else
		ok 0 "$name: no sanitizer report${c:+, device usable afterwards}"
	fi
done

done_testing
