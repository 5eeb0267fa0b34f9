#!/usr/bin/env bash
# lkvm sandbox's command line on the host, no guest: --help, and every
# usage error is one line naming the problem, status 2, before any VM
# (so no /dev/kvm needed).  The runs themselves are in tests/arm64
# (nested-boot.t, case sbox).
. "$(dirname "$0")/../lib/tap.sh"
[ -x "$LKVM" ] || skip_all "lkvm not built at $LKVM"

out=$TAP_TMP/out
err=$TAP_TMP/err
# A readable file for -k: parsing and the checks before the VM never
# look inside it.
kernel=$TAP_TMP/kernel
printf 'not a kernel' >"$kernel"

"$LKVM" sandbox --help >"$out" 2>&1; st=$?
is "$st" 0 "sandbox --help exits 0"
missing=
for o in --rwdir --rodir --timeout --result-json --mods; do
	grep -q -- "$o " "$out" || missing="$missing $o"
done
is "$missing" "" "sandbox --help documents every sandbox option"
like "$out" '^ +124 +timeout' "sandbox --help has the status table"
"$LKVM" help sandbox >"$TAP_TMP/out2" 2>&1
cmp -s "$out" "$TAP_TMP/out2"
ok $? "lkvm help sandbox prints the same"
"$LKVM" --help >"$out" 2>&1
like "$out" '^ +sandbox +' "lkvm --help lists sandbox"

# sandbox_err NAME REGEX ARGS...: status 2, one stderr line matching
sandbox_err() {
	local name=$1 re=$2
	shift 2
	"$LKVM" sandbox "$@" </dev/null >"$out" 2>"$err"
	is "$?" 2 "$name: status 2"
	like "$err" "$re" "$name: says why"
	is "$(wc -l <"$err")" 1 "$name: in one line"
}

sandbox_err "no --" "no command: expected '-- CMD" -k "$kernel"
sandbox_err "nothing after --" "no command: expected '-- CMD" -k "$kernel" --
sandbox_err "--timeout x" "invalid value 'x' for --timeout" --timeout x -- true
sandbox_err "--timeout 0" "invalid value '0' for --timeout" --timeout 0 -- true
sandbox_err "--timeout -1" "invalid value '-1' for --timeout" --timeout -1 -- true
sandbox_err "--rwdir missing" "invalid value '$TAP_TMP/nope' for --rwdir: No such file" \
	--rwdir "$TAP_TMP/nope" -- true
sandbox_err "--rodir missing" "invalid value '$TAP_TMP/nope' for --rodir" \
	--rodir "$TAP_TMP/nope" -- true
sandbox_err "unknown option" "unknown option '--bogus' \\(see lkvm sandbox --help\\)" \
	--bogus -- true
sandbox_err "run option value" "invalid value 'lots' for --mem" -m lots -- true
sandbox_err "-i" "-i is not for the sandbox" -k "$kernel" -i "$kernel" -- true
sandbox_err "--nodefaults" "--nodefaults would drop the sandbox's own command line" \
	-k "$kernel" --nodefaults -- true
sandbox_err "missing kernel" "Unable to open kernel $TAP_TMP/nokernel" \
	-k "$TAP_TMP/nokernel" -- true
sandbox_err "--mods missing" "invalid value '$TAP_TMP/nomods' for --mods" \
	-k "$kernel" --mods "$TAP_TMP/nomods" -- true
mkdir -p "$TAP_TMP/d"
args=()
for i in 1 2 3 4 5 6 7 8; do args+=(--rwdir "$TAP_TMP/d"); done
sandbox_err "too many shares" "too many shares" "${args[@]}" -- true

# The CMD after -- is CMD's, even when it looks like an option.
"$LKVM" sandbox --timeout x -- --timeout 5 </dev/null >"$out" 2>"$err"
like "$err" "invalid value 'x'" "options after -- are CMD's, not lkvm's"

# A module tree without what the sandbox needs: missing-kernel-support
# (10), named by option, and in --result-json.
mods=$TAP_TMP/mods
mkdir -p "$mods/kernel/fs"
: >"$mods/modules.dep"
printf 'kernel/drivers/virtio/virtio_pci.ko\nkernel/drivers/char/virtio_console.ko\n' >"$mods/modules.builtin"
"$LKVM" sandbox -k "$kernel" --mods "$mods" --result-json "$TAP_TMP/r.json" \
	-- true </dev/null >"$out" 2>"$err"
is "$?" 10 "modules neither built in nor in the tree: status 10"
like "$err" 'lacks CONFIG_NET_9P_VIRTIO CONFIG_9P_FS CONFIG_OVERLAY_FS' \
	"missing kernel support: the options are named"
like "$TAP_TMP/r.json" '"reason": "missing-kernel-support", "status": 10' \
	"--result-json: reason missing-kernel-support"
if command -v python3 >/dev/null; then
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["command"]==["true"] and "CONFIG_9P_FS" in r["detail"]' \
		"$TAP_TMP/r.json"
	ok $? "--result-json is valid JSON with the command and the detail"
else
	skip "--result-json is valid JSON" "no python3"
fi

plan "$TAP_N"
done_testing
