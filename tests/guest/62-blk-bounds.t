#!/usr/bin/env bash
# The qcow2 L2 cache against a real guest: the vblk guest reads random
# sectors spread over a sparse 256 GiB qcow2 (64 KiB clusters) that has
# one cluster written every GiB, so its reads go through 256 different
# L2 tables and keep the 16-table cache (L2_CACHE_TABLES) cycling.  lkvm's
# peak RSS (VmHWM, sampled until it exits) may exceed that of the same
# guest reading a 512 KiB span (one L2 table) by at most the cache,
# 16 x 64 KiB, plus 2 MiB: the tables are evicted, not accumulated.
. "$(dirname "$0")/../lib/tap.sh"
need_kvm
need_guest vblk
command -v qemu-img >/dev/null && command -v qemu-io >/dev/null ||
	skip_all "qemu-img and qemu-io are needed to make the image"

plan 5

IMG=$TAP_TMP/sparse.qcow2
qemu-img create -q -f qcow2 -o cluster_size=65536 "$IMG" 256G
io=()
for i in $(seq 0 255); do io+=(-c "write -P $((i % 255 + 1)) ${i}G 512"); done
qemu-io -f qcow2 "${io[@]}" "$IMG" >/dev/null
ok $? "a 256 GiB qcow2 with 256 L2 tables"

# peak SPAN: runs vblk reading 20000 random sectors of [0, SPAN); sets
# $PEAK to the last VmHWM read before lkvm exited and $STATUS.
peak() {
	PEAK=0
	"$LKVM" run --debug-exit -k "$GUEST_DIR/vblk.bzImage" -m 64M \
		-d "$IMG" -p "sectors=64 reqs=10 depth=32 rw=randread bs=512 count=20000 span=$1" \
		</dev/null >"$TAP_TMP/vblk.out" 2>&1 &
	watch_peak $! 120
	grep '^vblk: bench' "$TAP_TMP/vblk.out" | sed 's/^/# /'
}

peak 1024
base=$PEAK
is "$STATUS" 1 "reads of one L2 table's range"
peak $((256 << 21))
is "$STATUS" 1 "reads spread over 256 GiB"
BUDGET=$((16 * 64 + 2048))
diag "lkvm VmHWM: ${base} KiB for one table, ${PEAK} KiB for 256; budget ${BUDGET} KiB"
rss_within $((PEAK - base)) "$BUDGET" "the L2 cache grew lkvm by $((PEAK - base)) KiB (budget $BUDGET)"
ok $((PEAK == 0)) "VmHWM was read"
