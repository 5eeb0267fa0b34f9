#!/usr/bin/env bash
# The mounted-device check covers partitions: a whole disk whose
# partition is mounted is refused (a guest writing the disk would corrupt
# the mounted file system), as is the mounted partition itself; a
# partition of the same disk that is not mounted is fine.  Built on a
# loop device with an MBR partition table (losetup -P, else addpart).
. "$(dirname "$0")/../lib/tap.sh"
TOOL=${DISK_TOOL:-$(dirname "$LKVM")/tests/disk/disk-tool}
[ -x "$TOOL" ] || skip_all "disk-tool not built ($TOOL)"
[ -x "$LKVM" ] || skip_all "lkvm not built at $LKVM"
[ "$(id -u)" = 0 ] || skip_all "needs root (loop devices, mount)"
command -v losetup >/dev/null || skip_all "losetup not installed (util-linux)"
command -v mkfs.ext4 >/dev/null || skip_all "mkfs.ext4 not installed (e2fsprogs)"
cd "$TAP_TMP" || exit 1

# An MBR by hand (no sfdisk needed): p1 = sectors 2048..34815 (type 83),
# p2 = 34816..55295.
le32() { printf "\\x$(printf %02x $(($1 & 255)))\\x$(printf %02x $(($1 >> 8 & 255)))\\x$(printf %02x $(($1 >> 16 & 255)))\\x$(printf %02x $(($1 >> 24 & 255)))"; }
truncate -s 32M disk.img
{
	printf '\x00\x00\x00\x00\x83\x00\x00\x00'; le32 2048; le32 32768
	printf '\x00\x00\x00\x00\x83\x00\x00\x00'; le32 34816; le32 20480
} | dd of=disk.img bs=1 seek=446 conv=notrunc status=none
printf '\x55\xaa' | dd of=disk.img bs=1 seek=510 conv=notrunc status=none

LOOP=$(losetup -P -f --show disk.img 2>losetup.err) ||
	skip_all "losetup -P failed: $(head -1 losetup.err)"
MNT=$TAP_TMP/mnt
MADE=
cleanup() {
	umount "$MNT" 2>/dev/null
	losetup -d "$LOOP" 2>/dev/null
	[ -n "$MADE" ] && rm -f $MADE
	rm -rf "$TAP_TMP"
}
trap cleanup EXIT
# A kernel without partition table parsers (CONFIG_MSDOS_PARTITION off)
# finds none: add them as the table says, with BLKPG (addpart).
if ! [ -e "/sys/class/block/$(basename "$LOOP")p1" ] && command -v addpart >/dev/null; then
	addpart "$LOOP" 1 2048 32768 && addpart "$LOOP" 2 34816 20480 ||
		skip_all "no partitions on $LOOP and addpart failed"
fi
# udev may be absent: the partition nodes then have to be made by hand.
for i in 1 2; do
	p=${LOOP}p$i
	d=/sys/class/block/$(basename "$p")/dev
	for _ in $(seq 50); do [ -e "$d" ] && break; sleep 0.1; done
	[ -e "$d" ] || skip_all "no partitions on $LOOP (no partition support, no addpart)"
	if ! [ -b "$p" ]; then
		mknod "$p" b $(tr ':' ' ' <"$d") || skip_all "cannot create $p"
		MADE="$MADE $p"
	fi
done
mkdir -p "$MNT"
mkfs.ext4 -q -F "${LOOP}p1" >/dev/null 2>&1 || skip_all "mkfs.ext4 on ${LOOP}p1 failed"
mount "${LOOP}p1" "$MNT" 2>mount.err || skip_all "mount failed: $(head -1 mount.err)"
plan 5

: >kernel	# lkvm checks the disks before it reads the kernel
refused() {	# refused NAME DISK: lkvm run exits 2 naming the mount
	run_lkvm start 20 -k kernel -d "$2"
	if [ "$STATUS" = 2 ] && grep -q "mounted on $MNT" "$ERR"; then
		ok 0 "$1"
	else
		ok 1 "$1"
		diag "status $STATUS, stderr: $(head -3 "$ERR")"
	fi
}
refused "whole disk with a mounted partition: refused (exit 2)" "$LOOP"
like "$ERR" "${LOOP}p1" "  ... naming the mounted partition"
refused "the mounted partition itself: refused" "${LOOP}p1"
"$TOOL" -r info "${LOOP}p2" >/dev/null 2>info.err
ok $? "the other, unmounted partition: opens"
umount "$MNT"
"$TOOL" -r info "$LOOP" >/dev/null 2>info.err
ok $? "whole disk once nothing is mounted: opens"
done_testing
