#!/usr/bin/env bash
# Console input: stdin -> 8250 FIFO -> IRQ 4 -> guest, from a pipe and from
# a terminal; the terminal is raw while the guest runs (Ctrl-C reaches the
# guest) and restored however lkvm ends.
. "$(dirname "$0")/../lib/tap.sh"
need_kvm
need_guest echo
command -v script >/dev/null || skip_all "script(1) not installed (Debian package bsdutils)"

plan 14

# From a pipe.
out=$TAP_TMP/pipe.out
(sleep 0.5; printf 'hello\n') | timeout -k 5 60 "$LKVM" run --debug-exit \
	-k "$GUEST_DIR/echo.bzImage" >"$out" 2>"$TAP_TMP/pipe.err"
st=$?
like "$out" '^echo: 6 bytes: 68 65 6c 6c 6f 0a' "pipe: guest received every byte, in order"
is "$st" 1 "pipe: guest ended normally"

# stdout's reader gone before the guest prints (`lkvm run ... | head`):
# lkvm must not die of SIGPIPE (status 141); the guest runs to its end.
(sleep 1; printf 'hi\n') | { timeout -k 5 60 "$LKVM" run --debug-exit \
	-k "$GUEST_DIR/echo.bzImage" 2>"$TAP_TMP/epipe.err"; echo $? >"$TAP_TMP/epipe.st"; } | (exit 0)
is "$(cat "$TAP_TMP/epipe.st")" 1 "closed stdout: no SIGPIPE death, guest ended normally"
like "$TAP_TMP/epipe.err" 'stdout was closed' "closed stdout: lkvm says the console output is dropped"

# On a terminal (script(1) gives lkvm a pty as stdin).
in_pty() {	# in_pty INPUT_DELAY INPUT COMMAND... : runs COMMAND on a pty
	local delay=$1 input=$2
	shift 2
	(sleep "$delay"; printf "$input") |
		timeout -k 5 60 script -qec "stty -a >$TAP_TMP/before; $*; echo \"status=\$?\"; stty -a >$TAP_TMP/after" /dev/null
}

out=$TAP_TMP/pty.out
in_pty 1 'a\003q' "$LKVM" run --debug-exit -k "$GUEST_DIR/echo.bzImage" >"$out" 2>&1
like "$out" 'echo: 3 bytes: 61 03 71' "pty: raw mode, Ctrl-C went to the guest"
like "$out" 'status=1' "pty: guest ended normally"
if cmp -s "$TAP_TMP/before" "$TAP_TMP/after"; then ok 0 "pty: terminal restored after guest exit"
else ok 1 "pty: terminal restored after guest exit"; diff "$TAP_TMP/before" "$TAP_TMP/after" | sed 's/^/#   /'; fi

printf '\xeb\xfe' >"$TAP_TMP/spin.bin"
in_pty 1 '\001x' "$LKVM" run -k "$TAP_TMP/spin.bin" >"$out" 2>&1
like "$out" 'status=130' "pty: Ctrl-A x quits with status 130"
cmp -s "$TAP_TMP/before" "$TAP_TMP/after"
ok $? "pty: terminal restored after Ctrl-A x"

# The same on a terminal: the terminal comes back even so.
in_pty 1 'hi\n' "{ $LKVM run --debug-exit -k $GUEST_DIR/echo.bzImage; echo \$? >$TAP_TMP/pty-epipe.st; } | (exit 0)" >"$out" 2>&1
is "$(cat "$TAP_TMP/pty-epipe.st")" 1 "pty, closed stdout: guest ended normally, no SIGPIPE death"
cmp -s "$TAP_TMP/before" "$TAP_TMP/after"
ok $? "pty, closed stdout: terminal restored"

cp "$TAP_TMP/spin.bin" "$TAP_TMP/spin-term.bin"
in_pty 0 '' "(sleep 1; pkill -TERM -f \"^$LKVM run -k $TAP_TMP/spin-term.bin\") & $LKVM run -k $TAP_TMP/spin-term.bin" >"$out" 2>&1
like "$out" 'status=143' "pty: SIGTERM ends lkvm with 143"
cmp -s "$TAP_TMP/before" "$TAP_TMP/after"
ok $? "pty: terminal restored after SIGTERM"
grep -q 'icanon' "$TAP_TMP/after" && grep -q ' echo ' "$TAP_TMP/after"
ok $? "pty: echo and canonical mode are back on"

done_testing
