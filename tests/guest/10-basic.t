#!/usr/bin/env bash
# Guests boot, print on the serial console and end with the status they ask.
. "$(dirname "$0")/../lib/tap.sh"
need_kvm
need_guest hello exit poweroff reset unclaimed cpl3

plan 19

run_guest hello
like "$OUT" '^Hello from lkvm guest' "hello: prints on COM1"
is "$STATUS" 1 "hello: test port value 0 gives status 1"

for n in 1 7 42 127; do
	run_guest exit -p "exit=$n"
	like "$OUT" "exit: $n" "exit $n: guest saw its command line"
	is "$STATUS" $(((n << 1 | 1) & 255)) "exit $n: status is (n<<1)|1"
done

run_guest poweroff
like "$OUT" 'poweroff: bye' "poweroff: guest ran"
is "$STATUS" 0 "poweroff: status 0"

run_guest reset
like "$OUT" 'reset: bye' "reset: guest ran"
is "$STATUS" 8 "reset: status 8 (documented reset code)"

run_guest unclaimed --loglevel debug
like "$OUT" 'unclaimed: survived' "unclaimed I/O and MMIO: guest survived"
is "$STATUS" 1 "unclaimed: guest exited normally"
like "$ERR" 'unclaimed (read|write)' "unclaimed accesses are logged at debug level"

run_guest cpl3
like "$OUT" 'cpl3: result=' "cpl3: loop at CPL3 finished"
is "$STATUS" 1 "cpl3: exited normally"

done_testing
