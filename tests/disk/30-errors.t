#!/usr/bin/env bash
# Error paths: a full file system (ENOSPC is VIRTIO_BLK_S_IOERR for that
# request, lkvm and the disk keep working), truncated and unsupported
# qcow2 images, a read-only file asked for read-write, bad -d options:
# each is a clear one-line error, never a crash.
. "$(dirname "$0")/../lib/tap.sh"
TOOL=${DISK_TOOL:-$(dirname "$LKVM")/tests/disk/disk-tool}
[ -x "$TOOL" ] || skip_all "disk-tool not built ($TOOL)"
[ -x "$LKVM" ] || skip_all "lkvm not built at $LKVM"
command -v qemu-img >/dev/null || skip_all "qemu-img not installed (qemu-utils)"
cd "$TAP_TMP" || exit 1
plan 18

MNT=$TAP_TMP/mnt
mkdir -p "$MNT"
mounted=
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=2m lkvm-test "$MNT" 2>/dev/null; then
	mounted=1
	trap 'umount "$MNT" 2>/dev/null; rm -rf "$TAP_TMP"' EXIT
fi

start_err() {	# start_err NAME REGEX ARGS...: lkvm run refuses with exit 2
	local name=$1 re=$2
	shift 2
	run_lkvm start 20 -k "${GUEST_DIR}/vblk.bzImage" "$@"
	if [ "$STATUS" = 2 ] && grep -Eq -- "$re" "$ERR"; then
		ok 0 "$name"
	else
		ok 1 "$name"
		diag "status $STATUS, stderr: $(head -3 "$ERR")"
	fi
}

# --- full file system ------------------------------------------------------
if [ -n "$mounted" ]; then
	truncate -s 8M "$MNT/full.raw"
	out=$("$TOOL" -f raw fill "$MNT/full.raw" 3)
	like <(echo "$out") '^error ENOSPC' "raw on a full fs: ENOSPC reported"
	like <(echo "$out") '^read after: ok' "raw: the disk still works after ENOSPC"
	rm -f "$MNT/full.raw"
	qemu-img create -q -f qcow2 "$MNT/full.qcow2" 8M
	out=$("$TOOL" -f qcow2 fill "$MNT/full.qcow2" 3)
	like <(echo "$out") '^error ENOSPC' "qcow2 on a full fs: ENOSPC reported"
	like <(echo "$out") '^read after: ok' "qcow2: the disk still works after ENOSPC"
	qemu-img check -q "$MNT/full.qcow2" >/dev/null 2>&1
	rc=$?
	[ $rc = 0 ] || [ $rc = 3 ]
	ok $? "qcow2 after ENOSPC: no corruption (qemu-img check $rc)"
	rm -f "$MNT/full.qcow2"
	if [ -f "$GUEST_DIR/vblk.bzImage" ] && [ -w /dev/kvm ]; then
		truncate -s 8M "$MNT/g.raw"
		run_guest vblk -d "$MNT/g.raw" -p "sectors=8192 reqs=0"
		# vblk gives up (status 3) after IOERR; lkvm itself is fine.
		if [ "$STATUS" = 3 ] && ! grep -qi 'fatal\|needs reset' "$ERR"; then
			ok 0 "guest on a full fs: IOERR to the guest, lkvm keeps running"
		else
			ok 1 "guest on a full fs: IOERR to the guest, lkvm keeps running"
			diag "status $STATUS: $(tail -3 "$OUT") $(head -3 "$ERR")"
		fi
		rm -f "$MNT/g.raw"
	else
		skip "guest on a full fs" "no /dev/kvm or vblk guest"
	fi
	# A read-only file system: rw open is a usage error, ro works.
	truncate -s 1M "$MNT/ro.raw"
	if mount -o remount,ro "$MNT" 2>/dev/null; then
		start_err "read-only file opened rw: exit 2" "cannot open disk .*Read-only file system" -d "$MNT/ro.raw"
		"$TOOL" -r info "$MNT/ro.raw" >/dev/null
		ok $? "read-only file opened ro: fine"
		mount -o remount,rw "$MNT"
	else
		skip "read-only file opened rw" "remount failed"
		skip "read-only file opened ro" "remount failed"
	fi
else
	for i in 1 2 3 4 5 6 7 8; do skip "full / read-only fs $i" "needs root to mount a tmpfs"; done
fi

# --- bad images ---------------------------------------------------------------
qemu-img create -q -f qcow2 t.qcow2 16M
truncate -s 1000 t.qcow2
start_err "qcow2 truncated inside the header cluster: exit 2" "cannot open disk .*qcow2: .*(truncated|too short|past the end)" -d t.qcow2

"$TOOL" gen 1 0 $((4 << 20)) >p.raw
qemu-img convert -O qcow2 p.raw d.qcow2
truncate -s $((1 << 20)) d.qcow2
"$TOOL" -r read d.qcow2 0 $((4 << 20)) >/dev/null 2>d.err
rc=$?
[ $rc = 1 ] && grep -q 'Input/output error' d.err
ok $? "qcow2 truncated in its data: reads fail with EIO, no crash ($rc)"

qemu-img create -q -f qcow2 u.qcow2 16M
printf '\x20' | dd of=u.qcow2 bs=1 seek=79 conv=notrunc status=none
start_err "unknown incompatible feature: exit 2" "unknown incompatible feature" -d u.qcow2

qemu-img create -q -f qcow2 c.qcow2 16M
printf '\x16' | dd of=c.qcow2 bs=1 seek=23 conv=notrunc status=none
start_err "cluster_bits 22: exit 2" "cluster_bits out of range" -d c.qcow2

start_err "direct on qcow2: exit 2" "only supported for raw" -d "c.qcow2,direct"
start_err "unknown -d option: exit 2" "unknown --disk option 'foo'" -d "p.raw,foo"
start_err "bad format: exit 2" "format must be raw or qcow2" -d "p.raw,format=vmdk"
start_err "missing image: exit 2" "cannot open disk .*No such file" -d nonexistent.img
: >empty.qcow2
start_err "empty file as qcow2: exit 2" "cannot open disk .*qcow2: file too short for a qcow2 header" \
	-d "empty.qcow2,format=qcow2"
# A qcow2 image on a block device (a loop device of our own, holding a
# real qcow2 image): its size is not st_size, which qcow2 would need.
blk=
if [ "$(id -u)" = 0 ] && command -v losetup >/dev/null; then
	qemu-img create -q -f qcow2 b.qcow2 16M
	blk=$(losetup -f --show b.qcow2 2>/dev/null)
fi
if [ -n "$blk" ]; then
	start_err "block device as qcow2: exit 2" "cannot open disk .*qcow2: only regular files are supported, not a block device" \
		-d "$blk,ro,format=qcow2"
	losetup -d "$blk"
else
	skip "block device as qcow2" "needs root and losetup for a loop device"
fi
done_testing
