#!/usr/bin/env bash
# The vblk guest on each backend: raw through libaio (buffered and
# O_DIRECT), qcow2 v3 and v2, qcow2 over a backing file, several disks.
# The guest writes a pattern, flushes, reads it back and verifies; the
# host then checks the image (qcow2: `qemu-img check`, then `qemu-img
# convert -O raw` and guest/tools/vblk-pattern.c).
. "$(dirname "$0")/../lib/tap.sh"
need_kvm
need_guest vblk
command -v qemu-img >/dev/null || skip_all "qemu-img not installed (qemu-utils)"
PATTERN=$TAP_TMP/vblk-pattern
${HOSTCC:-cc} -O2 -o "$PATTERN" "$TOP/guest/tools/vblk-pattern.c" ||
	skip_all "cannot build guest/tools/vblk-pattern.c with ${HOSTCC:-cc}"
cd "$TAP_TMP" || exit 1

SECTORS=4096		# 2 MiB, from sector 0
plan 46

guest_ok() {	# guest_ok NAME: the last run passed and verified
	if [ "$STATUS" = 1 ] && grep -q '^vblk: verify ok' "$OUT" &&
	   grep -q '^vblk: done' "$OUT"; then
		ok 0 "$1: guest wrote, flushed, read back and verified"
	else
		ok 1 "$1: guest wrote, flushed, read back and verified"
		diag "status $STATUS: $(tail -3 "$OUT" | tr '\n' ' ') $(head -3 "$ERR")"
	fi
}

host_check() {	# host_check NAME RAW SEED
	"$PATTERN" check "$2" "$3" 0 $SECTORS 2>pattern.err
	ok $? "$1: the host sees the pattern"
	[ -s pattern.err ] && sed 's/^/#   /' pattern.err
}

qcow2_check() {	# qcow2_check NAME IMG SEED
	local out rc=0
	out=$(qemu-img check "$2" 2>&1) || rc=$?
	ok $rc "$1: qemu-img check clean"
	[ $rc = 0 ] || diag "$out"
	rm -f conv.raw
	qemu-img convert -O raw "$2" conv.raw
	host_check "$1" conv.raw "$3"
}

seed=40
for mode in "" ",direct"; do
	seed=$((seed + 1))
	rm -f r.raw
	truncate -s 16M r.raw
	run_guest vblk -d "r.raw$mode" -p "seed=$seed sectors=$SECTORS per_req=16"
	guest_ok "raw$mode"
	host_check "raw$mode" r.raw $seed
done

for compat in 1.1 0.10; do
	for cs in 65536 4096; do
		seed=$((seed + 1))
		rm -f q.qcow2
		qemu-img create -q -f qcow2 -o compat=$compat,cluster_size=$cs q.qcow2 16M
		run_guest vblk -d q.qcow2 -p "seed=$seed sectors=$SECTORS per_req=16"
		guest_ok "qcow2 compat=$compat cluster $cs"
		qcow2_check "qcow2 compat=$compat cluster $cs" q.qcow2 $seed
	done
done

# Over a backing file: the pattern of a previous run is the base.
seed=$((seed + 1))
qemu-img convert -O qcow2 conv.raw base.qcow2
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 ov.qcow2 16M
run_guest vblk -d ov.qcow2 -p "seed=$seed sectors=$SECTORS per_req=16"
guest_ok "qcow2 over a backing file"
qcow2_check "qcow2 over a backing file" ov.qcow2 $seed

# num-queues=4: the guest negotiates VIRTIO_BLK_F_MQ and submits
# round-robin over four queues, served by the device thread or, with
# queue-threads, each by its own thread on a backend lane of its own
# (O_DIRECT too: there nothing completes inside io_submit(), so every
# completion comes through the lane's eventfd on the queue's thread); on
# pci with one MSI-X vector per queue, and on mmio (one line).
for t in pci mmio; do
	for qt in "" ",queue-threads" ",queue-threads,direct"; do
		seed=$((seed + 1))
		rm -f r.raw
		truncate -s 16M r.raw
		irq=; [ $t = pci ] && irq=irq=msix
		run_guest vblk -d "r.raw,num-queues=4$qt" --virtio-transport $t \
			-p "transport=$t $irq queues=4 depth=16 seed=$seed sectors=$SECTORS per_req=16 reqs=2000"
		if grep -q '^vblk: using 4 of 4 queues' "$OUT"; then
			ok 0 "num-queues=4$qt $t: guest uses 4 queues"
		else
			ok 1 "num-queues=4$qt $t: guest uses 4 queues"
		fi
		guest_ok "num-queues=4$qt $t"
		host_check "num-queues=4$qt $t" r.raw $seed
	done
done

# qcow2 has no lanes: the device thread or the queue threads share its
# one state, and what one queue's batch finished inline may be another
# queue's.
for qt in "" ",queue-threads"; do
	seed=$((seed + 1))
	rm -f q.qcow2
	qemu-img create -q -f qcow2 q.qcow2 16M
	run_guest vblk -d "q.qcow2,num-queues=4$qt" \
		-p "queues=4 depth=16 seed=$seed sectors=$SECTORS per_req=16 reqs=2000"
	grep -q '^vblk: using 4 of 4 queues' "$OUT"
	ok $? "qcow2 num-queues=4$qt: guest uses 4 queues"
	guest_ok "qcow2 num-queues=4$qt"
	qcow2_check "qcow2 num-queues=4$qt" q.qcow2 $seed
done

# Several disks with their own serials; the guest drives the first.
truncate -s 4M d1.raw d2.raw
qemu-img create -q -f qcow2 d3.qcow2 4M
run_guest vblk -d d1.raw -d d2.raw,ro -d d3.qcow2,format=qcow2 -p "seed=3 sectors=64"
if [ "$STATUS" = 1 ] && grep -q "^vblk: serial 'lkvm-0'" "$OUT"; then
	ok 0 "three disks: the first is vda with serial lkvm-0"
else
	ok 1 "three disks: the first is vda with serial lkvm-0"
	diag "status $STATUS: $(head -3 "$ERR")"
fi
done_testing
