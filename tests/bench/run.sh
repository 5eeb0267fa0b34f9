#!/usr/bin/env bash
# make bench: lkvm and QEMU side by side, in one run, on the same guest
# images and disk files, with the host's own figure for the same work
# where there is one.  Not a test: it prints figures and writes
#   OUT/results.tsv  figure, vmm, median, min, max, unit, runs
#   OUT/bench.md     the Markdown table (README's "Performance")
#   OUT/bench.png    the plot (gnuplot), when gnuplot is installed
#
#   tests/bench/run.sh [OUT]           (default build/bench)
#   BENCH_REPS=N     repetitions of each start-up figure (default 10)
#   BENCH_IO_REPS=N  repetitions of each I/O figure (default 3)
#   BENCH_ONLY="start rss scale blk net"  which groups to run
#   BENCH_SCALE=N    idle guests at once in the scale group (default 50)
#   BENCH_DIR=dir    where the disk images go (default /var/tmp)
#   BENCH_MB=N       the disk image's size in MiB, the I/O rows' span (default 256)
#
# QEMU is -M microvm (its virtio-mmio transport, modern) for everything
# it can run, and -M pc (SeaBIOS, virtio-pci) for start-up as well, as the
# heavier reference.  lkvm's guests use its default virtio-pci, and for
# the I/O rows the same virtio-mmio transport as QEMU microvm.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$TOP/build/bench}
LKVM=${LKVM:-$TOP/build/obj/lkvm}
G=${GUEST_DIR:-$TOP/build/guest}
# shellcheck source=tests/bench/qemu.sh
. "$TOP/tests/bench/qemu.sh"
REPS=${BENCH_REPS:-10}
IO_REPS=${BENCH_IO_REPS:-3}
ONLY=${BENCH_ONLY:-start rss scale blk net}
DIR=${BENCH_DIR:-/var/tmp}
mkdir -p "$OUT"
TMP=$(mktemp -d)
IMG=$DIR/lkvm-bench-$$.img
trap 'rm -rf "$TMP" "$IMG" "$IMG.qcow2"' EXIT
LAUNCH=$TMP/launch
cc -O2 -o "$LAUNCH" "$TOP/tests/bench/launch.c" || exit 1
RECACHE=$TMP/recache
cc -O2 -o "$RECACHE" "$TOP/tests/bench/recache.c" || exit 1
# The first-instruction figure reads kvm:kvm_fpu's id from tracefs, which
# a fresh machine (no systemd) may not have mounted: root mounts it at
# its usual place, as systemd would.
if [ "$(id -u)" = 0 ] && [ ! -e /sys/kernel/tracing/events ] &&
   [ ! -e /sys/kernel/debug/tracing/events ]; then
	mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null ||
		echo "bench: cannot mount tracefs: no first-instruction figure" >&2
fi
RES=$OUT/results.tsv
: >"$RES"

for f in exit idle vblk; do
	[ -f "$G/$f.bzImage" ] || { echo "bench: guest $f not built in $G (make guests)" >&2; exit 1; }
done
[ -x "$LKVM" ] || { echo "bench: no lkvm at $LKVM (make)" >&2; exit 1; }
[ -r /dev/kvm ] && [ -w /dev/kvm ] || { echo "bench: /dev/kvm is not usable here" >&2; exit 1; }
have_qemu=1
command -v "$QEMU" >/dev/null || { have_qemu=; echo "bench: $QEMU not installed: QEMU columns left empty" >&2; }

# stats FIGURE VMM UNIT VALUE... -> a results.tsv row: median min max
stats() {
	local fig=$1 vmm=$2 unit=$3
	shift 3
	[ $# -gt 0 ] || return 0
	printf '%s\n' "$@" | sort -g | awk -v f="$fig" -v v="$vmm" -v u="$unit" '
		{ x[NR] = $1 }
		END {
			m = NR % 2 ? x[(NR + 1) / 2] : (x[NR / 2] + x[NR / 2 + 1]) / 2
			printf "%s\t%s\t%.6g\t%.6g\t%.6g\t%s\t%d\n", f, v, m, x[1], x[NR], u, NR
		}' >>"$RES"
	tail -1 "$RES" | awk -F'\t' '{ printf "  %-40s %-14s %10s %s (%s..%s, n=%s)\n", $1, $2, $3, $6, $4, $5, $7 }'
}

# field NAME LINE -> the value of NAME=... in a launch line
field() { sed -n "s/.*\\b$1=\\([-0-9.]*\\).*/\\1/p" <<<"$2"; }

# lifecycle VMM REPS WHAT EXPECT CMD...: exec -> first KVM_RUN (the first
# guest instruction; launch -e, root only) -> first output -> exit, VMM
# CPU time.  EXPECT: the output the guest must have printed.  The first
# instruction comes from runs of its own: the tracepoint counter launch -e
# attaches adds about 3 ms to exec -> exit here.
lifecycle() {
	local vmm=$1 reps=$2 what=$3 expect=$4 wall=() first=() cpu=() entry=() line e
	shift 4
	for _ in $(seq "$reps"); do
		line=$("$LAUNCH" -t 120 -o "$TMP/out" -- "$@" 2>/dev/null) ||
			{ echo "  $vmm: failed: $line" >&2; return; }
		grep -aq "$expect" "$TMP/out" || { echo "  $vmm: no guest output" >&2; return; }
		wall+=("$(field wall_ms "$line")") first+=("$(field first_ms "$line")")
		cpu+=("$(field cpu_ms "$line")")
	done
	for _ in $(seq "$reps"); do
		line=$("$LAUNCH" -e -t 120 -o "$TMP/out" -- "$@" 2>/dev/null) || break
		e=$(field entry_ms "$line")
		[ "${e:--1}" != -1.00 ] && [ "${e:--1}" != -1 ] || break
		entry+=("$e")
	done
	stats "$what: exec to exit" "$vmm" ms "${wall[@]}"
	if [ ${#entry[@]} -gt 0 ]; then
		stats "$what: exec to first guest instruction" "$vmm" ms "${entry[@]}"
	elif [ -z "$ENTRY_WARNED" ]; then
		ENTRY_WARNED=1
		echo "  first guest instruction: not measured (the kvm:kvm_fpu tracepoint needs root)" >&2
	fi
	stats "$what: exec to first guest output" "$vmm" ms "${first[@]}"
	stats "$what: VMM CPU time per start" "$vmm" ms "${cpu[@]}"
}
ENTRY_WARNED=

# idle_rss FIGURE VMM CMD...: resident set once the idle guest said ready
idle_rss() {
	local fig=$1 vmm=$2 rss=() line
	shift 2
	for _ in $(seq 3); do
		line=$("$LAUNCH" -w 'idle: ready' -s 1000 -t 120 -o "$TMP/out" -- "$@")
		[ "$(field rss_kib "$line")" -gt 0 ] 2>/dev/null ||
			{ echo "  $vmm: $fig failed: $line" >&2; return; }
		rss+=("$(awk '{ printf "%.2f", $1 / 1024 }' <<<"$(field rss_kib "$line")")")
	done
	stats "$fig" "$vmm" MiB "${rss[@]}"
}

if [[ " $ONLY " == *" start "* ]]; then
	echo "== start-up: the exit guest (64-bit boot protocol, prints, exits)"
	w="exit guest"
	lifecycle lkvm "$REPS" "$w" '^exit: 0' "$LKVM" run --debug-exit -m 128M -k "$G/exit.bzImage" -p exit=0
	if [ -n "$have_qemu" ]; then
		lifecycle "QEMU microvm" "$REPS" "$w" '^exit: 0' "${QMICRO[@]}" -m 128M -kernel "$G/exit.bzImage" -append exit=0
		# SeaBIOS runs in real mode, emulated here: seconds a start.
		lifecycle "QEMU pc" 3 "$w" '^exit: 0' "${QPC[@]}" -m 128M -kernel "$G/exit.bzImage" -append exit=0
	fi
	# The issue's trivial flat guest, in kvmtool's real-mode convention
	# (tests/guest/30-faults.t): 'K' on COM1, then the debug-exit port.
	# QEMU boots no flat binary, and kvmtool is not packaged for Debian.
	echo "== start-up: a 15-byte flat binary (real mode, 'K', exit)"
	printf '\xba\xf8\x03\xb0\x4b\xee\xba\xf4\x00\xb0\x2a\xee\xf4\xeb\xfd' >"$TMP/flat.bin"
	lifecycle lkvm "$REPS" "flat binary" '^K' "$LKVM" run --debug-exit -m 128M -k "$TMP/flat.bin"
	line=()
	for _ in $(seq "$REPS"); do
		line+=("$(field wall_ms "$("$LAUNCH" -- /bin/true)")")
	done
	stats "exit guest: exec to exit" "host (/bin/true)" ms "${line[@]}"
fi

if [[ " $ONLY " == *" rss "* ]]; then
	echo "== memory: the idle guest (128 MiB), resident set once it is idle"
	truncate -s 64M "$IMG"
	idle_rss "idle RSS, 1 vCPU" lkvm "$LKVM" run -m 128M -k "$G/idle.bzImage"
	idle_rss "idle RSS, 2 vCPUs" lkvm "$LKVM" run -m 128M -c 2 -k "$G/idle.bzImage"
	idle_rss "idle RSS, + virtio-blk + virtio-rng" lkvm "$LKVM" run -m 128M \
		-k "$G/idle.bzImage" -d "$IMG" --rng
	if [ -n "$have_qemu" ]; then
		idle_rss "idle RSS, 1 vCPU" "QEMU microvm" "${QMICRO[@]}" -m 128M -kernel "$G/idle.bzImage"
		idle_rss "idle RSS, 2 vCPUs" "QEMU microvm" "${QMICRO[@]}" -m 128M -smp 2 -kernel "$G/idle.bzImage"
		idle_rss "idle RSS, + virtio-blk + virtio-rng" "QEMU microvm" "${QMICRO[@]}" -m 128M \
			-kernel "$G/idle.bzImage" \
			-drive file="$IMG",format=raw,if=none,id=d0 -device virtio-blk-device,drive=d0 \
			-device virtio-rng-device
	fi
fi

# fio_once KIND PARAMS: the host's own figure for a vblk row's work (fio
# on the same file, libaio), IOPS, or MB/s for 1 MiB transfers; nothing
# for qcow2, which the host has no reader of its own for.
fio_once() {
	local kind=$1 params=$2 rw bs depth direct=0 j
	command -v fio >/dev/null || return 1
	[ "$kind" = qcow2 ] && return 1
	[ "$kind" = direct ] && direct=1
	rw=$(sed -n 's/.*\brw=\([a-z]*\).*/\1/p' <<<"$params")
	bs=$(sed -n 's/.*\bbs=\([0-9]*\).*/\1/p' <<<"$params")
	depth=$(sed -n 's/.*\bdepth=\([0-9]*\).*/\1/p' <<<"$params")
	j=$(fio --name=b --filename="$IMG" --rw="$rw" --bs="$bs" --iodepth="$depth" \
		--ioengine=libaio --direct=$direct --invalidate=0 --size=$((MB))M --runtime=1 \
		--time_based --output-format=terse --terse-version=3 2>/dev/null) || return 1
	# terse v3: read KiB/s and IOPS in fields 7 and 8, write in 48 and 49
	case $rw in
	*read) awk -F';' -v big="$((bs >= 1048576))" '{ print big ? $7 / 1024 : $8 }' <<<"$j" ;;
	*) awk -F';' -v big="$((bs >= 1048576))" '{ print big ? $48 / 1024 : $49 }' <<<"$j" ;;
	esac
}

# blk_row FIGURE DISK-KIND PARAMS QUEUES LKVM-DISK-OPTS VMM...: one vblk
# bench row, IO_REPS times for each VMM, their runs taking turns: what one
# run leaves behind (write-back below this machine's own page cache)
# then falls on every VMM alike, not on whichever went first.  VMM "host"
# is fio doing the same work, in the same turns: on this nested machine
# a phase of a few minutes can slow the two-thread round trip of a VM by
# a quarter while a single-threaded fio hardly changes, so the ceiling
# is measured beside the runs it is the ceiling of.
blk_row() {
	local fig=$1 kind=$2 params=$3 nq=$4 lopt=$5 line out n vmm v
	local ldisk=$IMG qdrive="file=$IMG,format=raw" lq= qq= p1=$3 ld lp pq
	local -A iops=() mbs=() kpr=() ipr=()
	shift 5
	[ "$nq" -gt 1 ] && { lq=",num-queues=$nq$lopt" qq=",num-queues=$nq" params="$params queues=$nq"; }
	case $kind in
	direct) ldisk=$IMG,direct; qdrive="$qdrive,cache=none,aio=native" ;;
	qcow2) ldisk=$IMG.qcow2; qdrive="file=$IMG.qcow2,format=qcow2" ;;
	esac
	for _ in $(seq "$IO_REPS"); do
		for vmm in "$@"; do
			# What the last write run left dirty is written back
			# first, not in the middle of this run.
			sync "$IMG" "$IMG.qcow2" 2>/dev/null
			case $vmm in
			host)	v=$(fio_once "$kind" "$params") || continue
				iops[$vmm]+=" $v" mbs[$vmm]+=" $v"
				continue ;;
			# lkvm1q: one queue against several, in the same turns.
			lkvm | lkvm1q)
				ld=$ldisk$lq lp=$params
				[ "$vmm" = lkvm1q ] && { ld=$ldisk lp=$p1; }
				line=$("$LAUNCH" -t 300 -o "$TMP/out" -- "$LKVM" run --debug-exit -m 256M \
					-k "$G/vblk.bzImage" --virtio-transport mmio -d "$ld" \
					-p "transport=mmio $lp") ;;
			# qemu1q: QEMU's one queue in the same turns, so the
			# row shows what spreading a batch over queues costs
			# each VMM.
			*)	lp=$params pq=$qq
				[ "$vmm" = qemu1q ] && { lp=$p1 pq=; }
				line=$("$LAUNCH" -t 300 -o "$TMP/out" -- "${QMICRO[@]}" -m 256M \
					-kernel "$G/vblk.bzImage" -append "$MICROVM_SLOT transport=mmio $lp" \
					-drive "$qdrive,if=none,id=d0" -device "virtio-blk-device,drive=d0$pq") ;;
			esac
			out=$(grep -a '^vblk: bench' "$TMP/out") || {
				echo "  $vmm: $fig: no bench line ($line)" >&2
				grep -a vblk "$TMP/out" | tail -2 >&2
				continue
			}
			# The guest times with the TSC: a guessed rate (no
			# kvmclock, no PIT) would scale the row by the guess.
			case $out in
			*" tsc="*/kvmclock* | *" tsc="*/pit*) ;;
			*)	echo "  $vmm: $fig: the guest's TSC rate is not known, run dropped: $out" >&2
				continue ;;
			esac
			iops[$vmm]+=" $(sed -n 's/.*: \([0-9]*\) IOPS.*/\1/p' <<<"$out")"
			mbs[$vmm]+=" $(sed -n 's/.* \([0-9]*\) MB\/s.*/\1/p' <<<"$out")"
			n=$(sed -n 's/.*count=\([0-9]*\).*/\1/p' <<<"$out")
			kpr[$vmm]+=" $(sed -n 's/.*kicks=\([0-9]*\).*/\1/p' <<<"$out" | awk -v n="$n" '{ printf "%.4f", $1 / n }')"
			ipr[$vmm]+=" $(sed -n 's/.*interrupts=\([0-9]*\).*/\1/p' <<<"$out" | awk -v n="$n" '{ printf "%.4f", $1 / n }')"
		done
	done
	# shellcheck disable=SC2086 # one value per word
	for vmm in "$@"; do
		local f=$fig
		n=$vmm
		[ "$vmm" = host ] && n="host (fio)"
		[ "$vmm" = lkvm1q ] && { n=lkvm f="$fig: 1 queue, same turns"; }
		[ "$vmm" = qemu1q ] && { n="QEMU microvm" f="$fig: 1 queue, same turns"; }
		case $f in
		*MB/s*) stats "$f" "$n" MB/s ${mbs[$vmm]:-} ;;
		*) stats "$f" "$n" IOPS ${iops[$vmm]:-} ;;
		esac
		[ "$vmm" = host ] && continue
		stats "$f: kicks per request" "$n" kicks ${kpr[$vmm]:-}
		# irq=poll rows take none; the interrupt-driven row says how many.
		[[ " $params " == *" irq=poll "* ]] ||
			stats "$f: interrupts per request" "$n" interrupts ${ipr[$vmm]:-}
	done
}

MB=${BENCH_MB:-256}
if [[ " $ONLY " == *" blk "* ]]; then
	sectors=$((MB * 2048))
	rm -f "$IMG"
	truncate -s "${MB}M" "$IMG"
	# Written through once, so reads hit data (the vblk verify pass).
	"$LKVM" run --debug-exit -m 256M -k "$G/vblk.bzImage" -d "$IMG" \
		-p "irq=poll sectors=$sectors per_req=2048 segs=8 depth=4 reqs=0" >/dev/null 2>&1
	qemu-img convert -O qcow2 "$IMG" "$IMG.qcow2" 2>/dev/null || rm -f "$IMG.qcow2"
	# The rows span the whole image; vblk's own write-and-verify pass
	# only covers its first 1 MiB.  A run is 0.1-4 s of I/O (100000
	# requests, 20000 for O_DIRECT at depth 1, 1 GiB sequential): the
	# 50 ms runs of 20000 put four queues anywhere from 0.8x to 1x of
	# one, which longer runs measure at 0.97-1.0x, and cached writes at
	# depth 1 anywhere from 0.7x to 0.95x of fio's rate.
	# The guest polls the used ring (irq=poll) except in the one row
	# that counts interrupts.  A 4 KiB request carries its data in one
	# segment, as Linux's virtio-blk sends a page (header, page and
	# status in a three-entry indirect table) and as fio writes it; a
	# 1 MiB one in eight of 128 KiB.  (Through 989f334 the 4 KiB rows sent
	# eight 512-byte segments: two more descriptor cache lines per
	# request crossing between the CPUs, about 5% at depth 1.)
	base="reqs=0 sectors=2048 span=$sectors irq=poll"
	seg4k="segs=1" seg1m="segs=8"
	blk_vmms=(lkvm)
	[ -n "$have_qemu" ] && blk_vmms+=("QEMU microvm")
	for kind in buffered direct qcow2; do
		[ $kind = qcow2 ] && [ ! -f "$IMG.qcow2" ] && continue
		echo "== virtio-blk, $kind"
		# Each group of rows on the cache its own access pattern leaves
		# (tests/bench/recache.c): 4 KiB rows on single pages, 1 MiB
		# rows on large folios.  Nothing in a group changes it: reads
		# and writes of cached pages keep their folios.  O_DIRECT rows
		# bypass the cache.
		blk_file=$IMG
		[ $kind = qcow2 ] && blk_file=$IMG.qcow2
		[ $kind = direct ] || "$RECACHE" "$blk_file" || exit 1
		for depth in 1 16 64; do
			for rw in randread randwrite; do
				fig="blk $kind 4K $rw depth $depth"
				n=100000
				[ $kind = direct ] && [ $depth = 1 ] && n=20000
				p="$base $seg4k per_req=8 depth=$depth rw=$rw bs=4096 count=$n"
				blk_row "$fig" $kind "$p" 1 "" "${blk_vmms[@]}" host
			done
		done
		# Multi-queue: 4 queues against 1, one queue's runs taking
		# turns with them (the depth-16 row above ran minutes before).
		if [ $kind = buffered ]; then
			fig="blk $kind 4K randread depth 16, 4 queues"
			p="$base $seg4k per_req=8 depth=16 rw=randread bs=4096 count=100000"
			q1=(lkvm1q)
			[ -n "$have_qemu" ] && q1+=(qemu1q)
			blk_row "$fig" $kind "$p" 4 "" "${blk_vmms[@]}" "${q1[@]}"
			blk_row "$fig, a thread each" $kind "$p" 4 ,queue-threads lkvm
			# Interrupts (INTx on virtio-mmio) instead of polling,
			# lkvm only: under QEMU microvm the vblk guest's line
			# never fires (it waits out every request's timeout).
			fig="blk $kind 4K randread depth 16, interrupt-driven"
			p="${base% irq=poll} $seg4k per_req=8 depth=16 rw=randread bs=4096 count=100000"
			blk_row "$fig" $kind "$p" 1 "" lkvm
		fi
		[ $kind = direct ] || "$RECACHE" -s "$blk_file" || exit 1
		for rw in read write; do
			fig="blk $kind 1M seq $rw MB/s"
			p="$base $seg1m per_req=2048 depth=4 rw=$rw bs=1048576 count=$((MB * 4))"
			blk_row "$fig" $kind "$p" 1 "" "${blk_vmms[@]}" host
		done
	done
fi

# virtio-net: tests/bench/net.sh (root: a private network namespace);
# its own lines go to OUT/net.log, its ROW lines become one results row
# per figure and VMM, over its runs.
if [[ " $ONLY " == *" net "* ]]; then
	echo "== virtio-net (tests/bench/net.sh; the runs in $OUT/net.log)"
	if [ "$(id -u)" = 0 ]; then
		LKVM=$LKVM GUEST_DIR=$G "$TOP/tests/bench/net.sh" >"$OUT/net.log" 2>&1 ||
			echo "  net.sh failed: see $OUT/net.log" >&2
		awk -F'\t' '$1 == "ROW" {
				k = $2 "\t" $3 "\t" $5
				if (!(k in v)) order[++n] = k
				v[k] = v[k] " " $4
			}
			END { for (i = 1; i <= n; i++) print order[i] "\t" v[order[i]] }' "$OUT/net.log" |
		while IFS=$'\t' read -r fig vmm unit vals; do
			# shellcheck disable=SC2086 # one value per word
			stats "$fig" "$vmm" "$unit" $vals
		done
	else
		echo "  skipped: needs root for its network namespace"
	fi
fi

# scale VMM N CMD...: N idle guests at once; their total RSS (and PSS,
# which shares the library pages out) once all are idle; all stopped
# with SIGTERM, each must end with 143 (README "Exit status").
scale() {
	local vmm=$1 n=$2 pids=() up=0 rss=0 pss=0 clean=0 st
	shift 2
	for i in $(seq "$n"); do
		"$@" </dev/null >"$TMP/scale.$i" 2>&1 &
		pids+=($!)
	done
	for _ in $(seq 600); do
		up=$(grep -l 'idle: ready' "$TMP"/scale.* 2>/dev/null | wc -l)
		[ "$up" -ge "$n" ] && break
		sleep 0.5
	done
	sleep 1
	for p in "${pids[@]}"; do
		rss=$((rss + $(awk '/^VmRSS/ { print $2 }' /proc/"$p"/status 2>/dev/null || echo 0)))
		pss=$((pss + $(awk '/^Pss:/ { print $2 }' /proc/"$p"/smaps_rollup 2>/dev/null || echo 0)))
	done
	kill -TERM "${pids[@]}" 2>/dev/null
	for p in "${pids[@]}"; do
		wait "$p"
		st=$?
		[ $st = 143 ] || [ $st = 0 ] && clean=$((clean + 1))
	done
	rm -f "$TMP"/scale.*
	echo "  $vmm: $up of $n idle guests up, $clean ended cleanly"
	stats "$n idle guests: total RSS" "$vmm" MiB "$(awk -v k=$rss 'BEGIN { printf "%.1f", k / 1024 }')"
	stats "$n idle guests: total PSS" "$vmm" MiB "$(awk -v k=$pss 'BEGIN { printf "%.1f", k / 1024 }')"
	stats "$n idle guests: up and ended cleanly" "$vmm" VMs "$((up < clean ? up : clean))"
}

if [[ " $ONLY " == *" scale "* ]]; then
	n=${BENCH_SCALE:-50}
	echo "== scale: $n idle 128 MiB guests at once"
	scale lkvm "$n" "$LKVM" run -m 128M -k "$G/idle.bzImage"
	[ -n "$have_qemu" ] && scale "QEMU microvm" "$n" "${QMICRO[@]}" -m 128M -kernel "$G/idle.bzImage"
fi

"$TOP/tests/bench/report.sh" "$RES" "$OUT"
