#!/usr/bin/env bash
# 9P fids against a real guest: the v9p guest (fids=1) walks new fids
# through 16 directories of 250-byte names (a 4000-byte path each) until
# the server refuses one: it must be Rlerror EMFILE after P9_FIDS_MAX
# (4096, the attached root included; fewer only where the open-file limit
# cannot be raised to hold them).  lkvm's peak RSS (VmHWM, sampled
# until it exits) may exceed that of the same guest without fids=1 by at
# most P9_FIDS_MAX x (struct p9_fid + PATH_MAX) + 2 MiB = 19 MiB.
. "$(dirname "$0")/../lib/tap.sh"
need_kvm
need_guest v9p

plan 5

SHARE=$TAP_TMP/share
d=$SHARE
for c in a b c d e f g h i j k l m n o p; do
	d=$d/$(printf "$c%.0s" $(seq 250))
done
mkdir -p "$d"
ok $? "16 nested directories of 250-byte names"

# lkvm sizes an export's fids to its open-file limit (two fds each, 256
# kept for the rest): room for all 4096.
[ "$(ulimit -n)" -ge 8448 ] || ulimit -n 8448 2>/dev/null
# Where the hard limit is lower, what lkvm leaves each export is the bound.
lim=$(ulimit -n)
fids=4096
[ "$lim" = unlimited ] || [ $(((lim - 256) / 2)) -ge 4096 ] || fids=$(((lim - 256) / 2))
[ "$fids" -ge 64 ] || fids=64

# peak [v9p options]: sets $PEAK (last VmHWM seen) and $STATUS.
peak() {
	PEAK=0
	"$LKVM" run --debug-exit -k "$GUEST_DIR/v9p.bzImage" -m 64M \
		--9p "$SHARE,hostshare" -p "$*" </dev/null >"$TAP_TMP/v9p.out" 2>&1 &
	watch_peak $! 300
}

peak
base=$PEAK
is "$STATUS" 1 "v9p without fids: passed"
peak fids=1
is "$STATUS" 1 "v9p fids=1: passed"
like "$TAP_TMP/v9p.out" "^v9p: fids: $((fids - 1)) walked, then Rlerror 24\b" "$((fids - 1)) fids besides the root, then EMFILE"
grep '^v9p: fids' "$TAP_TMP/v9p.out" | sed 's/^/# /'
BUDGET=$((4096 * (160 + 4096 + 32) / 1024 + 2048))
diag "lkvm VmHWM: ${base} KiB without fids, ${PEAK} KiB at the bound; budget ${BUDGET} KiB"
rss_within $((PEAK - base)) "$BUDGET" "4096 fids grew lkvm by $((PEAK - base)) KiB (budget $BUDGET)"
