#!/usr/bin/env bash
# virtio-9p with the bare-metal v9p guest on every transport: the mount
# tag from config space, then Tversion, Tattach and a refused Tclunk
# through the real 9P server (fs/) on a host directory.
. "$(dirname "$0")/../lib/tap.sh"
need_kvm
need_guest v9p
mkdir -p "$TAP_TMP/share"

transports="pci pci-legacy mmio mmio-legacy"
plan $((6 * 4))

for t in $transports; do
	run_guest v9p --9p "$TAP_TMP/share,hostshare" --virtio-transport "$t" \
		-p "transport=$t"
	is "$STATUS" 1 "$t: v9p guest passed"
	like "$OUT" "^v9p: tag 'hostshare'" "$t: mount tag from config space"
	like "$OUT" '^v9p: Rversion msize [0-9]+ 9P2000\.L' "$t: Rversion"
	like "$OUT" '^v9p: Rattach qid type 0x80' "$t: Rattach, the root is a directory"
	like "$OUT" '^v9p: Rlerror [1-9]' "$t: Tclunk of an unknown fid: Rlerror"
	if grep -q 'before used->idx moved' "$OUT"; then
		ok 1 "$t: no interrupt before used->idx moved"
	else
		ok 0 "$t: no interrupt before used->idx moved"
	fi
done
done_testing
