#!/usr/bin/env bash
# A raw image whose format was guessed (no format=): a write that would
# make sector 0 look like a qcow2 header is refused (-EPERM, the guest
# sees IOERR) and the file is left as it was, or the next start would
# open the guest's data as qcow2 and follow a backing file it names into
# the host.  format=raw allows the write; other writes to sector 0 work.
. "$(dirname "$0")/../lib/tap.sh"
TOOL=${DISK_TOOL:-$(dirname "$LKVM")/tests/disk/disk-tool}
[ -x "$TOOL" ] || skip_all "disk-tool not built ($TOOL)"
command -v qemu-img >/dev/null || skip_all "qemu-img not installed (qemu-utils)"
cd "$TAP_TMP" || exit 1
plan 9

# The header a hostile guest would write: qcow2 over a host file.
echo "host secret" >secret.txt
qemu-img create -q -f qcow2 -b "$TAP_TMP/secret.txt" -F raw hdr.qcow2 1M
head -c 4096 hdr.qcow2 >hdr.bin

truncate -s 1M g.raw
"$TOOL" gen 5 0 $((1 << 20)) >g.raw
before=$(sha256sum <g.raw)
"$TOOL" put g.raw 0 <hdr.bin 2>put.err
is "$?" 1 "guessed raw: a qcow2 header written to sector 0 fails"
like put.err "Operation not permitted" "  ... with EPERM (IOERR to a guest)"
is "$(sha256sum <g.raw)" "$before" "  ... and the file is unchanged"
like <("$TOOL" info g.raw) "^format raw" "  ... it still opens as raw"

# The same header one sector later: not a probe target, written.
"$TOOL" put g.raw 512 <hdr.bin
ok $? "guessed raw: the header written at sector 1 is fine"

# Ordinary data over sector 0 (an MBR, say) is not affected.
"$TOOL" gen 9 0 4096 >mbr.bin
"$TOOL" put g.raw 0 <mbr.bin && cmp -s <(head -c 4096 g.raw) mbr.bin
ok $? "guessed raw: other data written to sector 0"

# format=raw: the user said what it is, nothing is guessed later.
"$TOOL" -f raw put g.raw 0 <hdr.bin
ok $? "format=raw: the qcow2 header can be written"
cmp -s <(head -c 4096 g.raw) hdr.bin
ok $? "  ... and it is in the file"

# A block write that starts at sector 0 and goes on: same rule.
truncate -s 1M g3.raw
cat hdr.bin hdr.bin >two.bin
before=$(sha256sum <g3.raw)
"$TOOL" put g3.raw 0 <two.bin 2>/dev/null
st=$?
[ $st = 1 ] && [ "$(sha256sum <g3.raw)" = "$before" ]
ok $? "guessed raw: a multi-sector write starting with the header is refused whole"
done_testing
