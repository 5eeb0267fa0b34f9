#!/usr/bin/env bash
# Where kvmtool's command line means something: scripts written for kvmtool
# run unchanged.  Each check is what kvmtool does with the same options.
# also-as-root: its --hugetlbfs checks need root (make check runs it as
# the test user, then again as root).
. "$(dirname "$0")/../lib/tap.sh"
need_kvm
need_guest demo exit echo unclaimed

plan 27

# -p is appended to the generated command line (console, root disk).
run_guest demo -p "init=/bin/sh foo=1"
like "$OUT" '^cmdline: console=ttyS0 earlyprintk=serial init=/bin/sh foo=1.?$' \
	"-p is appended to the console words"
truncate -s 1M "$TAP_TMP/d.img"
run_guest demo -d "$TAP_TMP/d.img" -p "foo=1"
like "$OUT" '^cmdline: console=ttyS0 earlyprintk=serial root=/dev/vda rw foo=1.?$' \
	"with a disk, root=/dev/vda rw comes before -p"
run_guest demo -d "$TAP_TMP/d.img" -p "root=/dev/vdb"
like "$OUT" '^cmdline: console=ttyS0 earlyprintk=serial root=/dev/vdb.?$' \
	"a root= in -p replaces the generated one"

# --nodefaults: exactly -p.
run_guest demo --nodefaults -p "foo=1"
like "$OUT" '^cmdline: foo=1.?$' "--nodefaults: the command line is exactly -p"
run_guest demo --nodefaults
like "$OUT" '^cmdline: .?$' "--nodefaults without -p: empty command line"
run_guest demo --no-nodefaults -p "foo=1"
like "$OUT" '^cmdline: console=ttyS0 earlyprintk=serial foo=1.?$' \
	"--no-nodefaults: the generated words are back"

# The guest test programs read the last of a key, as Linux does.
run_guest exit -p "exit=1 exit=5"
is "$STATUS" 11 "a later word of -p wins (exit=5: status 11)"

# -n mode=none: no network device at all.
run_guest demo
base=$(grep -c '^pci [0-9a-f]' "$OUT")
run_guest demo -n mode=none
is "$(grep -c '^pci [0-9a-f]' "$OUT")" "$base" "-n mode=none adds no PCI function"
if grep -q '1af4:1000' "$OUT"; then ok 1 "-n mode=none: no virtio-net"; else ok 0 "-n mode=none: no virtio-net"; fi

# -m with kvmtool's B (bytes) suffix.
run_guest demo -m 134217728B
like "$OUT" '^memory: [0-9]+ KiB \(128 MiB\)' "-m 134217728B is 128 MiB"

# --virtio-legacy: the legacy PCI transport (no modern interface).
run_guest vrng --rng --virtio-legacy -p transport=pci
like "$OUT" 'virtio: device has no modern interface' \
	"--virtio-legacy: the device has no modern interface"
run_guest vrng --rng --virtio-legacy -p transport=pci-legacy
like "$OUT" '^vrng: entropy ok' "--virtio-legacy: the legacy interface works"

# --debug-ioport: an unclaimed port is reported and stops the guest.
run_lkvm ioport 60 -k "$GUEST_DIR/exit.bzImage" --debug-ioport -p exit=3
like "$ERR" 'IO error: out port=f4, size=4, count=1' \
	"--debug-ioport names the unclaimed test port"
is "$STATUS" 6 "--debug-ioport: the guest is stopped (status 6)"
run_guest unclaimed --debug-ioport --no-debug-ioport
like "$OUT" 'unclaimed: survived' "--no-debug-ioport: unclaimed ports ignored again"

# --debug-mmio: unclaimed MMIO is reported, the guest carries on.
run_guest unclaimed --debug-mmio
like "$ERR" 'Ignoring MMIO (read|write) at 00000000d0000000 \(length 4\)' \
	"--debug-mmio names the unclaimed address"
like "$OUT" 'unclaimed: survived' "--debug-mmio: the guest carries on"

# --debug-single-step: a register dump per instruction.
printf '\xb0\x2a\xe6\xf4\xeb\xfe' >"$TAP_TMP/step.bin"	# mov al,42; out 0xf4,al
run_lkvm step 60 --debug-exit --debug-single-step -k "$TAP_TMP/step.bin"
if grep -q 'KVM_SET_GUEST_DEBUG' "$ERR"; then
	skip "--debug-single-step" "KVM cannot single-step here: $(head -1 "$ERR")"
	skip "--debug-single-step status" "as above"
	skip "--debug-single-step steps" "as above"
else
	is "$STATUS" 85 "--debug-single-step: guest still runs to its exit (42)"
	like "$ERR" '^ rip 0000000000000002 ' "a stop after the first instruction (mov)"
	like "$ERR" '^ rax 000000000000002a ' "...with its result in the registers"
fi

# --tty 0: the console moves to a pty whose name is printed.
if command -v python3 >/dev/null; then
	python3 - "$LKVM" "$GUEST_DIR/echo.bzImage" >"$TAP_TMP/tty.out" 2>&1 <<'EOF'
import os, re, select, subprocess, sys, time
p = subprocess.Popen([sys.argv[1], "run", "--debug-exit", "--tty", "0",
                      "-k", sys.argv[2]], stdin=subprocess.DEVNULL,
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
line = p.stderr.readline().decode()
print("info:", line.strip())
m = re.search(r"Assigned terminal 0 to pty (/dev/\S+)", line)
if m:
    fd = os.open(m.group(1), os.O_RDWR | os.O_NOCTTY)
    buf, sent, end = b"", False, time.time() + 60
    while time.time() < end and not re.search(rb"bytes:[^\n]*\n", buf):
        # Type only once the guest listens, as a user would.
        if not sent and b"ready" in buf:
            os.write(fd, b"hi\n")
            sent = True
        if select.select([fd], [], [], 1)[0]:
            try:
                buf += os.read(fd, 4096)
            except OSError:
                break
    print("pty:", buf.decode(errors="replace").replace("\r", ""))
try:
    out, err = p.communicate(timeout=60)
except subprocess.TimeoutExpired:
    p.kill()
    out, err = p.communicate()
print("status:", p.returncode)
print("stdout:", repr(out))
EOF
	like "$TAP_TMP/tty.out" '^info: Info: Assigned terminal 0 to pty /dev/pts/[0-9]+$' \
		"--tty 0 prints the pty"
	like "$TAP_TMP/tty.out" '^echo: 3 bytes: 68 69 0a' \
		"the guest's console (in and out) is on the pty"
	like "$TAP_TMP/tty.out" "^stdout: b''$" "nothing of the console on stdout"
	like "$TAP_TMP/tty.out" '^status: 1$' "--tty 0: guest ended normally"
else
	for i in 1 2 3 4; do skip "--tty" "python3 not installed"; done
fi

# --hugetlbfs: guest RAM from a file on a hugetlbfs mount.
hp=/proc/sys/vm/nr_hugepages
mnt=$TAP_TMP/hugetlbfs
if [ "$(id -u)" != 0 ] || ! grep -qw hugetlbfs /proc/filesystems; then
	for i in 1 2 3; do skip "--hugetlbfs" "needs root and hugetlbfs"; done
elif ! mkdir -p "$mnt" || ! mount -t hugetlbfs none "$mnt"; then
	for i in 1 2 3; do skip "--hugetlbfs" "cannot mount hugetlbfs"; done
else
	old=$(cat $hp)
	# Put the system-wide pool and the mount back however the test ends.
	trap 'echo "$old" >$hp; umount "$mnt" 2>/dev/null; rm -rf "$TAP_TMP"' EXIT
	echo 0 >$hp
	run_guest demo -m 64M --hugetlbfs "$mnt"
	like "$ERR" "hugetlbfs .*cannot map 64 MiB" "--hugetlbfs with no huge pages: refused"
	echo $((old + 40)) >$hp
	if [ "$(cat $hp)" -lt 32 ]; then
		skip "--hugetlbfs" "the kernel gave only $(cat $hp) huge pages"
	else
		run_guest demo -m 64M --hugetlbfs "$mnt"
		like "$OUT" '^memory: [0-9]+ KiB \(64 MiB\)' "--hugetlbfs: guest runs on huge pages"
	fi
	echo "$old" >$hp
	umount "$mnt"
	run_guest demo -m 64M --hugetlbfs "$TAP_TMP"
	like "$ERR" "not a hugetlbfs mount" "--hugetlbfs on another file system: refused"
fi

done_testing
