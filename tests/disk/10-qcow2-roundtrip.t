#!/usr/bin/env bash
# qcow2 round trips with Debian's qemu-img as the peer: images qemu-img
# creates (v2 and v3, cluster sizes 512 B..2 MiB, refcount widths 1..64
# bits, compressed, with zero clusters, with raw and qcow2 backing files)
# read back right through lkvm's backend; images lkvm writes into (and
# creates) pass `qemu-img check` and `qemu-img compare` against the same
# writes applied to a raw file.
. "$(dirname "$0")/../lib/tap.sh"
TOOL=${DISK_TOOL:-$(dirname "$LKVM")/tests/disk/disk-tool}
[ -x "$TOOL" ] || skip_all "disk-tool not built ($TOOL)"
command -v qemu-img >/dev/null || skip_all "qemu-img not installed (qemu-utils)"
cd "$TAP_TMP" || exit 1

SIZE=$((16 << 20))
plan 45

# apply IMG EXP: the same writes through the backend (in one session)
# and onto raw EXP.  Offsets straddle cluster boundaries for every
# cluster size tested; the last three are whole pages, and rewrite
# clusters the earlier ones allocated (or qemu-img did): those run inline
# on the submitting thread (disk/qcow2.c, data_rw()).
WRITES="0:4096:11 1000448:300032:12 4193792:1048576:13 65024:1024:14
	$((SIZE - 512)):512:15 2096640:512:16 8192:8192:17
	1003520:139264:18 0:4096:19"
apply() {
	local img=$1 exp=$2 w off len seed rc=0
	# shellcheck disable=SC2086
	"$TOOL" writes "$img" $WRITES || rc=1
	for w in $WRITES; do
		IFS=: read -r off len seed <<<"$w"
		"$TOOL" gen "$seed" "$off" "$len" |
			dd of="$exp" bs=512 seek=$((off / 512)) conv=notrunc status=none
	done
	return $rc
}

check_img() {	# check_img IMG EXP NAME
	local out rc=0
	out=$(qemu-img check "$1" 2>&1) || rc=$?
	ok $rc "$3: qemu-img check clean"
	[ $rc = 0 ] || diag "$out"
	qemu-img compare -q -f raw "$2" "$1"
	ok $? "$3: qemu-img compare with the expected raw image"
}

# qemu-img creates, lkvm writes, qemu-img checks.
for opts in "compat=1.1,cluster_size=65536" "compat=0.10,cluster_size=65536" \
	    "cluster_size=512" "cluster_size=2M" \
	    "refcount_bits=1,cluster_size=4096" "refcount_bits=64" \
	    "lazy_refcounts=on"; do
	rm -f q.qcow2 exp.raw
	qemu-img create -q -f qcow2 -o "$opts" q.qcow2 $SIZE
	truncate -s $SIZE exp.raw
	apply q.qcow2 exp.raw
	ok $? "$opts: lkvm writes accepted"
	check_img q.qcow2 exp.raw "$opts"
done

# lkvm creates, writes; qemu-img checks.
rm -f own.qcow2 exp.raw
"$TOOL" create own.qcow2 $SIZE 16 3 4 && truncate -s $SIZE exp.raw && apply own.qcow2 exp.raw
ok $? "lkvm-created image: writes accepted"
check_img own.qcow2 exp.raw "lkvm-created image"

# qemu-img writes (convert, compressed), lkvm reads, then rewrites parts.
"$TOOL" gen 21 0 $SIZE >pat.raw
for c in "" "-c"; do
	rm -f conv.qcow2
	qemu-img convert $c -O qcow2 pat.raw conv.qcow2
	"$TOOL" read conv.qcow2 0 $SIZE | cmp -s - pat.raw
	ok $? "qemu-img convert $c: lkvm reads the same bytes"
	cp pat.raw exp.raw
	apply conv.qcow2 exp.raw
	check_img conv.qcow2 exp.raw "qemu-img convert $c, then lkvm writes"
done

# Clusters out of order in the file, and runs of them in order, one
# across the end of an L2 table (4 KiB clusters: 2 MiB a table): read in
# one request, with odd iovecs, lkvm joins the runs into single reads.
rm -f s.qcow2 s.raw
qemu-img create -q -f qcow2 -o cluster_size=4096 s.qcow2 4M
truncate -s 4M s.raw
for w in "0x11 12k 4k" "0x22 0 8k" "0x33 8k 4k" "0x44 2040k 16k" \
	 "0x55 64k 4k" "0x66 60k 4k" "0x77 2052k 4k"; do
	set -- $w
	qemu-io -f qcow2 -c "write -P $1 $2 $3" s.qcow2 >/dev/null &&
		qemu-io -f raw -c "write -P $1 $2 $3" s.raw >/dev/null || echo "qemu-io failed: $w"
done
"$TOOL" read s.qcow2 0 $((4 << 20)) | cmp -s - s.raw
ok $? "clusters out of order and in runs: lkvm reads the same bytes"

# Zero clusters (v3): written by qemu-io, read as zeros, then rewritten.
rm -f z.qcow2
qemu-img convert -O qcow2 pat.raw z.qcow2
qemu-io -f qcow2 -c "write -z 0 1M" -c "write -z -u 2M 1M" z.qcow2 >/dev/null
cp pat.raw exp.raw
dd if=/dev/zero of=exp.raw bs=1M count=1 conv=notrunc status=none
dd if=/dev/zero of=exp.raw bs=1M seek=2 count=1 conv=notrunc status=none
"$TOOL" read z.qcow2 0 $SIZE | cmp -s - exp.raw
ok $? "zero clusters read as zeros"
apply z.qcow2 exp.raw
check_img z.qcow2 exp.raw "zero clusters rewritten"

# lkvm's WRITE_ZEROES on qcow2.
"$TOOL" zero z.qcow2 4096000 1048576 &&
	dd if=/dev/zero of=exp.raw bs=512 seek=8000 count=2048 conv=notrunc status=none
ok $? "write-zeroes accepted"
check_img z.qcow2 exp.raw "after write-zeroes"

# Backing files: raw and qcow2, relative names, a smaller backing file.
"$TOOL" gen 31 0 $((SIZE / 2)) >base.raw
qemu-img convert -O qcow2 base.raw base.qcow2
for b in raw qcow2; do
	rm -f ov.qcow2
	qemu-img create -q -f qcow2 -b base.$b -F $b ov.qcow2 $SIZE
	cp base.raw exp.raw
	truncate -s $SIZE exp.raw
	"$TOOL" read ov.qcow2 0 $SIZE | cmp -s - exp.raw
	ok $? "$b backing file: read through"
	apply ov.qcow2 exp.raw
	check_img ov.qcow2 exp.raw "$b backing file, after partial-cluster writes"
done
cmp -s base.raw <("$TOOL" -f raw read base.raw 0 $((SIZE / 2)))
ok $? "backing file untouched"

# Read-only open: writes refused, image unchanged.
cp own.qcow2 ro.qcow2
"$TOOL" -r write ro.qcow2 0 512 1 2>/dev/null
[ $? != 0 ] && cmp -s own.qcow2 ro.qcow2
ok $? "read-only qcow2: write refused, file unchanged"

done_testing
