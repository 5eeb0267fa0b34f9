#!/usr/bin/env bash
# SMP bring-up, memory size as seen by the guest, timer interrupts, and
# the TSC rate the test guests time with (kvmclock, checked on the PIT).
. "$(dirname "$0")/../lib/tap.sh"
need_kvm
need_guest smp mem timer

plan 22

for n in 1 2 4; do
	run_guest smp -c "$n"
	is "$STATUS" 1 "smp -c $n: guest exited normally"
	like "$OUT" "smp: $n cpus online" "smp -c $n: $n vCPUs online"
	ids=$(sed -n 's/.*cpu [0-9]* apic \([0-9]*\) online.*/\1/p' "$OUT" | sort -n | uniq | tr '\n' ' ')
	want=$(seq 0 $((n - 1)) | tr '\n' ' ')
	is "$ids" "$want" "smp -c $n: every vCPU reported its own APIC ID"
done

# Below the PCI hole, exactly at it, and split around it (RAM above 4 GiB).
for m in 64 200 3072 3200; do
	run_guest mem -m "${m}M"
	is "$STATUS" 1 "mem -m ${m}M: guest exited normally"
	like "$OUT" "^mem_mib=$m\b" "mem -m ${m}M: guest sees $m MiB in e820"
done
like "$OUT" 'mem: top ok' "mem: top of RAM is backed"
like "$OUT" 'e820: 0*100000000-' "mem 3200M: RAM above 4 GiB in e820"

run_guest timer
is "$STATUS" 1 "timer: exited normally"
like "$OUT" 'timer: 100 ticks' "timer: 100 LAPIC timer interrupts delivered"
like "$OUT" 'timer: tsc from kvmclock, the PIT agrees' "timer: kvmclock's TSC rate within 0.5% of the PIT's"

done_testing
