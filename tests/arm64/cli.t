#!/usr/bin/env bash
# The arm64 machine options on the host's lkvm: parsed by the shared
# option code and vetted by the arch (arch__check_config).  On x86 only
# --irqchip=auto is accepted; the rest are refused with status 2 and a
# line naming the option.
. "$(dirname "$0")/../lib/tap.sh"

[ -x "$LKVM" ] || skip_all "lkvm not built at $LKVM"
case "$(uname -m)" in
x86_64) ;;
*) skip_all "host-side checks are for x86 hosts (arm64 runs tests/arm64/nested-boot.t)" ;;
esac

plan 14
nokernel=$TAP_TMP/no-such-kernel

run() { "$LKVM" run "$@" >"$TAP_TMP/out" 2>"$TAP_TMP/err"; echo $?; }

for opt in --irqchip=gicv3 --pmu "--dump-dtb $TAP_TMP/x.dtb" \
	   "--firmware $TAP_TMP/fw.bin" --disable-sve --disable-ptrauth; do
	# shellcheck disable=SC2086
	st=$(run $opt -k "$nokernel")
	is "$st" 2 "x86: $opt refused with status 2"
	like "$TAP_TMP/err" "${opt%%[= ]*}.*not supported on x86" \
		"x86: $opt: the message names the option"
done
st=$(run --irqchip=bogus -k "$nokernel")
is "$st" 2 "--irqchip=bogus: status 2"
# auto passes option checks: what fails next is the missing kernel.
st=$(run --irqchip=auto --nodefaults -k "$nokernel")
like "$TAP_TMP/err" "Unable to open kernel" \
	"--irqchip=auto --nodefaults pass option checks on x86 (status $st)"
done_testing
