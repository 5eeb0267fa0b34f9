#!/usr/bin/env bash
# The command line contract: help text, version, one-line errors, exit 2.
. "$(dirname "$0")/../lib/tap.sh"
[ -x "$LKVM" ] || skip_all "lkvm not built at $LKVM"

plan 43

out=$TAP_TMP/out
err=$TAP_TMP/err

"$LKVM" --help >"$out" 2>&1; st=$?
is "$st" 0 "lkvm --help exits 0"
like "$out" '^The most commonly used lkvm commands are:$' \
	"--help has kvmtool's command list header"
like "$out" '^ +run +' "--help lists run"

"$LKVM" version >"$out" 2>&1
like "$out" '^lkvm version ' "lkvm version"

"$LKVM" run --help >"$out" 2>&1; st=$?
is "$st" 0 "run --help exits 0"
# Every option the parser accepts is documented.
missing=
for o in --kernel --initrd --params --mem --cpus --name --console --debug \
	 --loglevel --cpu-features --debug-exit --help -k -i -p -m -c -h \
	 --tty --hugetlbfs --virtio-legacy --nodefaults --no-dhcp \
	 --debug-ioport --debug-mmio --debug-single-step --9p; do
	grep -q -- "$o[ ,]" "$out" || missing="$missing $o"
done
is "$missing" "" "run --help documents every option"

check_usage_error() {	# check_usage_error NAME PATTERN ARGS...
	local name=$1 pat=$2
	shift 2
	"$LKVM" "$@" </dev/null >"$out" 2>"$err"; st=$?
	is "$st" 2 "$name: exit status 2"
	lines=$(cat "$out" "$err" | wc -l)
	if [ "$lines" = 1 ] && grep -Eq -- "$pat" "$err"; then
		ok 0 "$name: one line naming the problem"
	else
		ok 1 "$name: one line naming the problem"
		sed 's/^/#   /' "$out" "$err"
	fi
}

check_usage_error "unknown option" "unknown option '--frobnicate'" run --frobnicate
check_usage_error "bad memory size" "invalid value 'lots' for --mem" run -m lots -k /dev/null
check_usage_error "bad vCPU count" "invalid value '0' for --cpus" run -c 0 -k /dev/null
check_usage_error "missing kernel file" "Fatal: Unable to open kernel /nonexistent/bzImage" \
	run -k /nonexistent/bzImage
check_usage_error "missing initrd" "Unable to open initrd /nonexistent/initrd" \
	run -k /dev/null -i /nonexistent/initrd
check_usage_error "unknown command" "'frob' is not an lkvm command" frob
check_usage_error "unknown CPU feature" "nosuchfeature" run --cpu-features=-nosuchfeature -k /dev/null
# --9p: every mistake is caught before the VM is built.
touch "$TAP_TMP/file"
check_usage_error "--9p missing directory" "/nonexistent/share: no such directory" \
	run -k /dev/null --9p /nonexistent/share,t
check_usage_error "--9p not a directory" "$TAP_TMP/file: not a directory" \
	run -k /dev/null --9p "$TAP_TMP/file,t"
check_usage_error "--9p empty tag" "the mount tag is empty" \
	run -k /dev/null --9p "$TAP_TMP,"
check_usage_error "--9p tag too long" "the mount tag is 65 bytes, at most 64" \
	run -k /dev/null --9p "$TAP_TMP,$(printf '%065d' 0)"
check_usage_error "--9p duplicate tag" "mount tag 'x' is already used" \
	run -k /dev/null --9p "$TAP_TMP,x" --9p "$TAP_TMP,x,ro"

# Without -k: say which default kernels were tried.
(cd "$TAP_TMP" && "$LKVM" run </dev/null >"$out" 2>"$err"); st=$?
if [ -e "/boot/vmlinuz-$(uname -r)" ]; then
	skip "no default kernel" "/boot/vmlinuz-$(uname -r) exists here"
else
	like "$err" "tried: \./arch/x86/boot/bzImage /boot/vmlinuz-$(uname -r)" \
		"no kernel: lists the defaults tried"
fi

# An unknown short option inside a group ("-Xk") is named, not the
# argument before it.
check_usage_error "run -Xk" "unknown option '-X'" run -Xk /dev/null
check_usage_error "stop -Xn" "unknown option or missing value '-X'" stop -Xn x
# A long option is named as given, not by its short letter.
check_usage_error "stop --timeout" "missing value '--timeout'" stop --timeout

# No control directory to look in: every command that lists VMs says why
# and fails, rather than acting on none (stop --all used to exit 0).
for c in list "pause --all" "stop --all"; do
	# shellcheck disable=SC2086 # the command's words
	env -u XDG_RUNTIME_DIR -u HOME "$LKVM" $c >"$out" 2>"$err"; st=$?
	is "$st" 1 "$c without XDG_RUNTIME_DIR or HOME: exit status 1"
	like "$err" '^lkvm: no control directory: neither XDG_RUNTIME_DIR nor HOME' \
		"$c without XDG_RUNTIME_DIR or HOME: says so"
done

done_testing
