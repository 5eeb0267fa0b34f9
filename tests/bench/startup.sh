#!/usr/bin/env bash
# Start-up benchmark (not a test): exec -> guest output -> exit for a
# trivial guest, and lkvm's resident memory with an idle 128 MiB guest.
#
#   tests/bench/startup.sh [path/to/lkvm]
# Needs hyperfine (Debian package hyperfine) for the timing part.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
lkvm=${1:-$top/build/obj/lkvm}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Real-mode flat binary: 'K' to COM1, then 0x2a to the test exit port.
printf '\xba\xf8\x03\xb0\x4b\xee\xba\xf4\x00\xb0\x2a\xee\xf4\xeb\xfd' >"$tmp/exit.bin"
# cli is the reset state: hlt forever, an idle guest.
printf '\xf4\xeb\xfd' >"$tmp/idle.bin"

if command -v hyperfine >/dev/null; then
	hyperfine -N -w 3 -r 30 -i \
		-n "flat binary (real mode, 1 vCPU)" \
		"$lkvm run --debug-exit -k $tmp/exit.bin" \
		-n "hello bzImage (64-bit boot protocol, serial output, test-port exit)" \
		"$lkvm run --debug-exit -k $top/build/guest/hello.bzImage"
else
	echo "hyperfine not installed (apt-get install hyperfine): timing skipped"
fi

"$lkvm" run -m 128M -k "$tmp/idle.bin" </dev/null >/dev/null 2>&1 &
pid=$!
sleep 2
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
kill -TERM $pid
wait $pid || true
echo "idle 128 MiB guest: lkvm VmRSS ${rss} KiB (peak ${hwm} KiB)"
