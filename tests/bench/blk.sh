#!/usr/bin/env bash
# virtio-blk throughput against the host's own pread/pwrite on the same
# file (not a test; prints figures).  Guest side: the vblk guest with
# irq=poll.  vblk times (a) its sequential write phase, (b) `reqs`
# one-sector reads at a given depth, and (c) with rw=randread bs=4096 and
# rw=read bs=1048576 its TSC-timed bench rows, compared here with the
# host's own pread on the same file (disk-tool bench rand4k / seqread).
#
#   tests/bench/blk.sh [raw|direct|qcow2]...     (default: raw direct qcow2)
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
LKVM=${LKVM:-$TOP/build/obj/lkvm}
TOOL=${DISK_TOOL:-$(dirname "$LKVM")/tests/disk/disk-tool}
GUEST=${GUEST_DIR:-$TOP/build/guest}/vblk.bzImage
DIR=${BENCH_DIR:-/var/tmp}
IMG=$DIR/lkvm-blk-bench.img
MB=${BENCH_MB:-256}
trap 'rm -f "$IMG" "$IMG.raw"' EXIT

guest() {	# guest DISKARG PARAMS -> the vblk lines
	"$LKVM" run --debug-exit -m 256M -k "$GUEST" -d "$1" -p "irq=poll $2" </dev/null 2>&1 |
		grep '^vblk: \(wrote\|kicks\|bench\)' || echo "vblk failed"
}

ratio() {	# ratio GUEST HOST -> "NN%"
	[ -n "$1" ] && [ -n "$2" ] && [ "$2" -gt 0 ] &&
		echo "$(($1 * 100 / $2))% of host" || echo "n/a"
}

for mode in ${@:-raw direct qcow2}; do
	rm -f "$IMG"
	case $mode in
	qcow2) qemu-img create -q -f qcow2 "$IMG" $((MB + 16))M; disk=$IMG ;;
	direct) truncate -s $((MB + 16))M "$IMG"; disk=$IMG,direct ;;
	*) truncate -s $((MB + 16))M "$IMG"; disk=$IMG ;;
	esac
	sectors=$((MB * 2048))
	echo "== $mode ($MB MiB)"
	# Sequential 1 MiB writes, 4 in flight; then 20000 512 B reads.
	out=$(guest "$disk" "sectors=$sectors per_req=2048 segs=8 depth=4 reqs=20000")
	w_ms=$(sed -n 's/.*wrote [0-9]* sectors ([0-9]* requests, \([0-9]*\) ms).*/\1/p' <<<"$out")
	r_ms=$(sed -n 's/.*depth=[0-9]*, \([0-9]*\) ms).*/\1/p' <<<"$out")
	[ -n "$w_ms" ] && [ "$w_ms" -gt 0 ] &&
		echo "guest seq write 1 MiB (depth 4): $((MB * 1000 / w_ms)) MB/s ($w_ms ms)"
	[ -n "$r_ms" ] && [ "$r_ms" -gt 0 ] &&
		echo "guest 512 B reads (depth 4):      $((20000 * 1000 / r_ms)) IOPS"
	out=$(guest "$disk" "sectors=2048 depth=1 reqs=20000")
	r_ms=$(sed -n 's/.*depth=[0-9]*, \([0-9]*\) ms).*/\1/p' <<<"$out")
	[ -n "$r_ms" ] && [ "$r_ms" -gt 0 ] &&
		echo "guest 512 B reads (depth 1):      $((20000 * 1000 / r_ms)) IOPS"
	if [ $mode = qcow2 ]; then
		qemu-img convert -O raw "$IMG" "$IMG.raw"
		hf=$IMG.raw
	else
		hf=$IMG
	fi
	flag=; [ $mode = direct ] && flag=-D
	# The pattern above filled the image, so reads hit real data.
	out=$(guest "$disk" "sectors=$sectors per_req=16 depth=16 reqs=0 rw=randread bs=4096 count=50000")
	g_iops=$(sed -n 's/.*bench rw=randread.*: \([0-9]*\) IOPS.*/\1/p' <<<"$out")
	out=$(guest "$disk,num-queues=4" "queues=4 sectors=$sectors per_req=16 depth=16 reqs=0 rw=randread bs=4096 count=50000")
	g_iops4=$(sed -n 's/.*bench rw=randread.*: \([0-9]*\) IOPS.*/\1/p' <<<"$out")
	out=$(guest "$disk" "sectors=$sectors per_req=16 segs=8 depth=4 reqs=0 rw=read bs=1048576 count=$((MB * 2))")
	g_mbs=$(sed -n 's/.*bench rw=read .*IOPS, \([0-9]*\) MB\/s.*/\1/p' <<<"$out")
	h_w=$("$TOOL" $flag bench "$hf" seqwrite 2)
	h_r=$("$TOOL" $flag bench "$hf" seqread 2)
	h_4k=$("$TOOL" $flag bench "$hf" rand4k 2)
	echo "host  $h_w"
	echo "host  $h_r"
	echo "host  $h_4k"
	h_iops=$(grep -o '[0-9]* IOPS' <<<"$h_4k" | grep -o '[0-9]*' || true)
	h_mbs=$(grep -o '[0-9.]* MB/s' <<<"$h_r" | cut -d. -f1 || true)
	echo "guest 4 KiB random read (depth 16): ${g_iops:-?} IOPS ($(ratio "$g_iops" "$h_iops"))"
	echo "  ... num-queues=4, 4 queues:         ${g_iops4:-?} IOPS ($(ratio "$g_iops4" "$h_iops"))"
	echo "guest seq read 1 MiB (depth 4):     ${g_mbs:-?} MB/s ($(ratio "$g_mbs" "$h_mbs"))"
done
