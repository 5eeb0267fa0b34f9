#!/usr/bin/env bash
# Backing files named in qcow2 images (made by qemu-img create -b -F):
# by default only regular files at or below the image's directory are
# followed; an absolute path outside it, a "../" escape, a symlink out
# and a device node are refused with exit 2 and a message naming the
# image and the backing path.  backing=on follows them, backing=PATH
# replaces the name, backing=off refuses any.  A backing format the
# image names is used as is, never guessed.
. "$(dirname "$0")/../lib/tap.sh"
TOOL=${DISK_TOOL:-$(dirname "$LKVM")/tests/disk/disk-tool}
[ -x "$TOOL" ] || skip_all "disk-tool not built ($TOOL)"
[ -x "$LKVM" ] || skip_all "lkvm not built at $LKVM"
command -v qemu-img >/dev/null || skip_all "qemu-img not installed (qemu-utils)"
cd "$TAP_TMP" || exit 1
plan 23

M=$((1 << 20))
mkdir -p img/sub
"$TOOL" gen 1 0 $M >img/base.raw
"$TOOL" gen 2 0 $M >secret.raw		# outside img/: the host's data
"$TOOL" gen 3 0 $M >img/sub/deep.raw
qemu-img convert -O qcow2 img/sub/deep.raw img/sub/deep.qcow2
mk() {	# mk NAME BACKING FMT [-u]: an overlay in img/
	qemu-img create -q -f qcow2 -b "$2" -F "$3" $4 "img/$1" 1M
}
mk ov-rel.qcow2 base.raw raw
mk ov-sub.qcow2 sub/deep.qcow2 qcow2
mk ov-absin.qcow2 "$TAP_TMP/img/base.raw" raw
mk ov-abs.qcow2 "$TAP_TMP/secret.raw" raw
mk ov-dotdot.qcow2 ../secret.raw raw
ln -s ../secret.raw img/link.raw
mk ov-link.qcow2 link.raw raw -u
mk ov-dev.qcow2 /dev/zero raw -u
mknod img/zero c 1 5 2>/dev/null
mk ov-devin.qcow2 zero raw -u
qemu-img create -q -f qcow2 img/plain.qcow2 1M
"$TOOL" gen 7 0 $M >vals.raw
qemu-img convert -O qcow2 vals.raw img/inner.qcow2
mk ov-fmt.qcow2 inner.qcow2 raw -u

reads() {	# reads NAME SEED IMG [tool options]: reads as pattern SEED
	local name=$1 seed=$2 img=$3
	shift 3
	if "$TOOL" -r "$@" read "$img" 0 $M >got.raw 2>got.err &&
	   cmp -s got.raw <("$TOOL" gen "$seed" 0 $M); then
		ok 0 "$name"
	else
		ok 1 "$name"
		diag "$(head -2 got.err)"
	fi
}
: >kernel	# the disks are checked before the kernel is read
refused() {	# refused NAME REGEX DISKSPEC: lkvm run exits 2 saying why
	local name=$1 re=$2
	run_lkvm start 20 -k kernel -d "$3"
	if [ "$STATUS" = 2 ] && grep -Eq -- "$re" "$ERR"; then
		ok 0 "$name"
	else
		ok 1 "$name"
		diag "status $STATUS, stderr: $(head -3 "$ERR")"
	fi
}

# Default: inside the image's directory.
reads "relative name in the same directory: followed" 1 img/ov-rel.qcow2
reads "relative name in a subdirectory (qcow2 backing): followed" 3 img/ov-sub.qcow2
reads "absolute name inside the image's directory: followed" 1 img/ov-absin.qcow2
reads "image given by a path from elsewhere: followed" 1 "$TAP_TMP/img/../img/ov-rel.qcow2"

# Default: everything else refused, naming the image and the backing path.
refused "absolute path outside: exit 2" \
	"ov-abs.qcow2.*backing file '$TAP_TMP/secret.raw'.*outside" img/ov-abs.qcow2
refused "../ escape: exit 2" "backing file 'img/../secret.raw' of img/ov-dotdot.qcow2.*outside" \
	img/ov-dotdot.qcow2
refused "symlink out of the directory: exit 2" "backing file 'img/link.raw'.*outside" \
	img/ov-link.qcow2
refused "/dev/zero: exit 2" "backing file '/dev/zero'.*outside" img/ov-dev.qcow2
if [ -c img/zero ]; then
	refused "device node inside the directory: exit 2" \
		"backing file 'img/zero'.*not a regular file" img/ov-devin.qcow2
else
	skip "device node inside the directory" "mknod failed (not root?)"
fi
"$TOOL" -r read img/ov-dotdot.qcow2 0 512 >/dev/null 2>&1
is "$?" 2 "disk-tool: the same refusal at the backend (exit 2)"

# backing=on: the user vouches for the image.
reads "backing=on: absolute path outside followed" 2 img/ov-abs.qcow2 -b on
reads "backing=on: ../ followed" 2 img/ov-dotdot.qcow2 -b on
reads "backing=on: symlink followed" 2 img/ov-link.qcow2 -b on
LOOP=
if [ "$(id -u)" = 0 ] && LOOP=$(losetup -f --show secret.raw 2>/dev/null); then
	trap 'losetup -d "$LOOP"; rm -rf "$TAP_TMP"' EXIT
	mk ov-blk.qcow2 "$LOOP" raw -u
	reads "backing=on: a block device followed" 2 img/ov-blk.qcow2 -b on
	refused "default: the same block device refused" "backing file '$LOOP'.*outside" \
		img/ov-blk.qcow2
else
	skip "backing=on: a block device followed" "needs root and a free loop device"
	skip "default: the same block device refused" "needs root and a free loop device"
fi

# backing=PATH: this file instead of the name.
reads "backing=PATH replaces an outside name" 1 img/ov-abs.qcow2 -b "$TAP_TMP/img/base.raw"
reads "backing=PATH replaces a good name too" 2 img/ov-rel.qcow2 -b "$TAP_TMP/secret.raw"
refused "backing=PATH that does not exist: exit 2" \
	"backing file 'nonexistent' of img/ov-rel.qcow2: No such file" "img/ov-rel.qcow2,backing=nonexistent"

# backing=off: none allowed.
refused "backing=off on an image that names one: exit 2" \
	"img/ov-rel.qcow2 names backing file 'base.raw', and backing=off" "img/ov-rel.qcow2,backing=off"
"$TOOL" -r -b off info img/plain.qcow2 >/dev/null
ok $? "backing=off on an image without one: fine"
refused "bad backing= value: exit 2" "unknown --disk option|backing must be" "img/ov-rel.qcow2,backing="

# The named format is used, not guessed: inner.qcow2 read as raw.
"$TOOL" -r read img/ov-fmt.qcow2 0 512 | head -c 4 | cmp -s - <(printf 'QFI\xfb')
ok $? "backing format 'raw' named: a qcow2 file is read as raw bytes"
"$TOOL" -r -b "$TAP_TMP/img/inner.qcow2" read img/ov-fmt.qcow2 0 512 |
	head -c 4 | cmp -s - <(printf 'QFI\xfb')
ok $? "  ... also when backing=PATH names the file"
done_testing
