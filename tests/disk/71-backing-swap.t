#!/usr/bin/env bash
# The default backing-file rule holds down a chain even when someone who
# can write in the image's directory renames things while it is opened:
# the directory that bounds level N+1 is the one level N was opened in
# (carried as a descriptor), not found again by name.  disk-tool -S swaps
# a symlinked directory between the open of level 1 and the lookup of
# level 2; -N takes the path for kernels without openat2 (before 5.6).
. "$(dirname "$0")/../lib/tap.sh"
TOOL=${DISK_TOOL:-$(dirname "$LKVM")/tests/disk/disk-tool}
[ -x "$TOOL" ] || skip_all "disk-tool not built ($TOOL)"
command -v qemu-img >/dev/null || skip_all "qemu-img not installed (qemu-utils)"
cd "$TAP_TMP" || exit 1
plan 17

M=$((1 << 20))
mkdir -p root/real root/empty out
"$TOOL" gen 1 0 $M >root/real/data.raw	# what the chain names
"$TOOL" gen 2 0 $M >out/data.raw		# the host's data, outside root/
qemu-img create -q -f qcow2 -b data.raw -F raw root/real/mid.qcow2 1M
cp root/real/mid.qcow2 root/empty/mid.qcow2	# its data.raw missing
ln -s real root/sub
qemu-img create -q -f qcow2 -b sub/mid.qcow2 -F qcow2 root/ov.qcow2 1M

# chain NAME SEED FIRST [tool options]: root/sub -> FIRST, swapped to
# ../out once level 1 is open; the read must give pattern SEED
# (0: refused, exit 3 for the missing file) and never the host's data.
chain() {
	local name=$1 seed=$2 first=$3
	shift 3
	ln -sfn "$first" root/sub
	"$TOOL" -r -S root/sub:../out "$@" read root/ov.qcow2 0 $M \
		>got.raw 2>got.err
	local st=$?
	if cmp -s got.raw out/data.raw; then
		ok 1 "$name"
		diag "escaped: read the file outside the image's directory"
	elif [ "$seed" = 0 ]; then
		is "$st" 3 "$name"
		[ "$st" = 3 ] || diag "$(head -2 got.err)"
	elif [ "$st" = 0 ] && cmp -s got.raw <("$TOOL" gen "$seed" 0 $M); then
		ok 0 "$name"
	else
		ok 1 "$name"
		diag "status $st: $(head -2 got.err)"
	fi
	[ "$(readlink root/sub)" = ../out ]
	ok $? "  ... and the swap did happen"
}

chain "swap after level 1: level 2 still from where level 1 was" 1 real
chain "swap after level 1, nothing there: refused" 0 empty
chain "no openat2: level 2 still from where level 1 was" 1 real -N
chain "no openat2, nothing there: refused" 0 empty -N

# Without openat2 the ordinary rules still hold.
ln -sfn real root/sub
"$TOOL" -N -r read root/ov.qcow2 0 $M | cmp -s - root/real/data.raw
ok $? "no openat2: a chain inside the directory is followed"
qemu-img create -q -f qcow2 -b ../out/data.raw -F raw root/esc.qcow2 1M
ln -s ../out/data.raw root/link.raw
qemu-img create -q -f qcow2 -b link.raw -F raw root/esclink.qcow2 1M
"$TOOL" -N -r read root/esc.qcow2 0 512 >/dev/null 2>got.err
is "$?" 2 "no openat2: ../ out refused"
"$TOOL" -N -r read root/esclink.qcow2 0 512 >/dev/null 2>got.err
is "$?" 2 "no openat2: a symlink out refused"
grep -q "outside the image's directory" got.err
ok $? "  ... saying why"

# The file is opened in its directory, so a symlink as last component
# stays there, as the directory bounding the next level is that one.
mkdir root/d2
ln -s ../real/data.raw root/d2/up.raw
ln -s real/data.raw root/up.raw
qemu-img create -q -f qcow2 -b d2/up.raw -F raw root/up.qcow2 1M
"$TOOL" -r read root/up.qcow2 0 512 >/dev/null 2>got.err
is "$?" 2 "d2/up.raw -> ../real/data.raw (out of d2/): refused"
grep -q "backing file 'root/d2/up.raw'.*outside" got.err
ok $? "  ... saying why"
qemu-img create -q -f qcow2 -b up.raw -F raw root/up2.qcow2 1M
"$TOOL" -r read root/up2.qcow2 0 $M | cmp -s - root/real/data.raw
ok $? "up.raw -> real/data.raw (within the directory): followed"

# A loop (a -> b -> a) ends at the depth limit under the default rule
# too, instead of recursing until the stack runs out (the nested message
# is cut before it says "deeper than 8").
qemu-img create -q -f qcow2 -b b.qcow2 -F qcow2 -u root/a.qcow2 1M
qemu-img create -q -f qcow2 -b a.qcow2 -F qcow2 -u root/b.qcow2 1M
"$TOOL" -r info root/a.qcow2 >/dev/null 2>got.err
is "$?" 2 "backing loop a -> b -> a: refused (exit 2)"
grep -q "backing file 'root/b.qcow2' of root/a.qcow2" got.err
ok $? "  ... naming the chain"
done_testing
