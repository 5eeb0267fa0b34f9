#!/usr/bin/env bash
# arm64 nested real-Linux boot: qemu-system-aarch64 (TCG, EL2 emulated,
# GICv3 + ITS) boots Debian's arm64 kernel as L1; its init runs the
# static arm64 lkvm to boot the same kernel as L2 once per case below.
# A second, shorter L1 run does the core cases on an emulated GICv4 host,
# a third the GICv2 cases on a GICv2 host (LKVM_ARM64_RUNS picks runs).
# Judged only by the markers the two inits print (tests/arm64/l1-init,
# l2-init) and lkvm's status inside L1.  Each L1 console log is kept,
# timestamped, in $LKVM_BUILD/arm64-logs/ (latest.log, latest-gicv4.log,
# latest-gicv2.log).
# ARM64_CASES=kut,nisv (case names from the lists below) runs only those
# cases, for iterating on a few: the checks of the others are SKIPs, and
# the GICv4 and GICv2 L1s boot only if one of their cases is named.
. "$(dirname "$0")/../lib/tap.sh"

cache=${LKVM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lkvm}
kernel=$cache/linux-arm64/Image
busybox=$cache/busybox-arm64/busybox
cross=${CROSS_COMPILE_ARM64:-aarch64-linux-gnu-}

command -v qemu-system-aarch64 >/dev/null ||
	skip_all "qemu-system-aarch64 missing (Debian qemu-system-arm; scripts/setup.sh installs it)"
command -v "${cross}gcc" >/dev/null ||
	skip_all "${cross}gcc missing (Debian gcc-aarch64-linux-gnu)"
[ -s "$kernel" ] || skip_all "no arm64 kernel at $kernel (scripts/setup.sh fetches it)"
[ -x "$busybox" ] || skip_all "no arm64 busybox at $busybox (scripts/setup.sh fetches it)"

out=$LKVM_BUILD/arm64
logs=$LKVM_BUILD/arm64-logs
mkdir -p "$out" "$logs"
make -C "$TOP" --no-print-directory -s ARCH=arm64 CROSS_COMPILE="$cross" SANITIZE= \
	>"$TAP_TMP/make.log" 2>&1 || {
	sed 's/^/# /' "$TAP_TMP/make.log" | tail -30
	echo "1..1"; echo "not ok 1 - arm64 cross build"; exit 1
}
lkvm=$TOP/build/obj-arm64/lkvm
# The net case needs -n mode=user: a second, dynamically linked lkvm
# with libslirp (Debian has no static one), its libraries copied into L1.
lkvm_net= net_why=
if [ ! -s "$cache/linux-arm64/modules/virtio_net.ko" ]; then
	net_why="no virtio_net.ko in $cache/linux-arm64/modules (scripts/setup.sh fetches it)"
elif ! make -C "$TOP" --no-print-directory -s ARCH=arm64 CROSS_COMPILE="$cross" SANITIZE= \
	ARM64_DYNAMIC=1 >"$TAP_TMP/make-dyn.log" 2>&1; then
	net_why="dynamic arm64 lkvm did not build: $(grep -m1 -i error "$TAP_TMP/make-dyn.log")"
else
	lkvm_net=$TOP/build/obj-arm64-dyn/lkvm
fi
# lkvm sandbox loads Debian's 9p/virtio/overlay modules from this slice
# of the kernel's module tree (scripts/arm64-fetch.sh fetch_sandboxmods).
sbmods=$(ls -d "$cache"/linux-arm64/modtree/lib/modules/*/ 2>/dev/null | head -1)
sbox_why=
[ -n "$sbmods" ] && [ -s "$cache/linux-arm64/modtree/.done" -o -s "${sbmods}modules.dep" ] ||
	sbox_why="no module tree in $cache/linux-arm64/modtree (scripts/arm64-fetch.sh fetch_sandboxmods)"
[ -z "$sbox_why" ] || sbmods=
SBMODS=${sbmods%/} CROSS_COMPILE=$cross "$TOP/scripts/arm64-initramfs.sh" "$out" "$lkvm" \
	"$kernel" "$busybox" "$cache/linux-arm64/modules" \
	$lkvm_net ${lkvm_net:+"$cache/arm64-slirp"} >"$TAP_TMP/initramfs.log" 2>&1 || {
	sed 's/^/# /' "$TAP_TMP/initramfs.log" | tail -30
	echo "1..1"; echo "not ok 1 - arm64 initramfs (scripts/arm64-initramfs.sh)"; exit 1
}

# name:irqchip:action — what a name adds is in tests/arm64/l1-init
cases="v3:gicv3:poweroff,its:gicv3-its:poweroff,auto:auto:poweroff"
cases+=",reboot:gicv3:reboot,panic:gicv3:panic,pmu:gicv3:poweroff"
cases+=",fwoff:gicv3:fw-off,fwreset:gicv3:fw-reset,kut:gicv3:kut"
cases+=",nisv:gicv3:kut,nofeat:gicv3:kut"
cases+=",longp:gicv3:poweroff"
cases+=",vmmio:gicv3:poweroff,vpci:gicv3-its:poweroff,vpcix:gicv3:poweroff"
cases+=",vcon:gicv3:poweroff,v2:gicv2:poweroff,v2m:gicv2m:poweroff"
[ -n "$lkvm_net" ] && cases+=",net:gicv3-its:poweroff"
# virtio-9p needs the kernel's 9p modules (scripts/arm64-fetch.sh).
p9_why=
[ -s "$cache/linux-arm64/modules/9p.ko" ] ||
	p9_why="no 9p.ko in $cache/linux-arm64/modules (scripts/setup.sh fetches it)"
[ -z "$p9_why" ] && cases+=",v9p:gicv3-its:poweroff"
[ -z "$sbox_why" ] && cases+=",sbox:gicv3-its:sandbox"
# The power key needs the kernel's gpio_keys and evdev modules.
key_why=
[ -s "$cache/linux-arm64/modules/gpio_keys.ko" ] && [ -s "$cache/linux-arm64/modules/evdev.ko" ] ||
	key_why="no gpio_keys.ko/evdev.ko in $cache/linux-arm64/modules (scripts/arm64-fetch.sh fetch_keymods)"
[ -z "$key_why" ] && cases+=",pwrkey:gicv3:poweroff"
cases+=",pause:gicv3-its:poweroff"
cases_g4="g4its:gicv3-its:poweroff,g4vpci:gicv3-its:poweroff"
[ -n "$lkvm_net" ] && cases_g4+=",g4noits:auto:poweroff"
# The GICv2 host: gicv2 (INTx), gicv2m (MSI-X as SPIs) and auto.
cases_g2="v2pci:gicv2:poweroff,v2mpci:gicv2m:poweroff,v2auto:auto:poweroff"

# LKVM_ARM64_RUNS=gicv2,gicv4 (say) boots only those L1s; the default is
# all three.  A run left out says so, its checks are not counted.
runs=,${LKVM_ARM64_RUNS:-gicv3,gicv4,gicv2},
want_run() {
	case "$runs" in *",$1,"*) return 0 ;; esac
	diag "$1: L1 run left out (LKVM_ARM64_RUNS=$LKVM_ARM64_RUNS)"
	return 1
}

only=${ARM64_CASES:-}
picked() { [ -z "$only" ] || case ",$only," in *",$1,"*) true ;; *) false ;; esac; }
pick() {
	local c out=
	for c in $(echo "$1" | tr ',' ' '); do
		picked "${c%%:*}" && out+=${out:+,}$c
	done
	echo "$out"
}
if [ -n "$only" ]; then
	cases=$(pick "$cases") cases_g4=$(pick "$cases_g4") cases_g2=$(pick "$cases_g2")
	diag "ARM64_CASES: only ${cases:-(none)} ${cases_g4:+and GICv4 $cases_g4} ${cases_g2:+and GICv2 $cases_g2}"
	# The GICv2 run's host checks mean nothing without one of its cases.
	[ -n "$cases_g2" ] || runs=${runs//,gicv2,/,}
	# section/status_of/marker of an unpicked case say "unpicked";
	# a check on that is a SKIP.
	: >"$TAP_TMP/unpicked"
	eval "tap_$(declare -f is)"
	eval "tap_$(declare -f like)"
	is() { if [ "$1" = unpicked ]; then skip "$3" "not in ARM64_CASES"; else tap_is "$@"; fi; }
	like() { if [ "$1" = "$TAP_TMP/unpicked" ]; then skip "$3" "not in ARM64_CASES"; else tap_like "$@"; fi; }
fi

diag "kernel: $(cat "$cache/linux-arm64/version" 2>/dev/null)"

# run_l1 TAG MACHINE EXTRA-APPEND CASES TIMEOUT: one L1 boot; its log in
# $logs/l1[-TAG]-<stamp>.log, CR-stripped copy in $TAP_TMP/l1-TAG.log.
run_l1() {
	local tag=$1 machine=$2 append=$3 cs=$4 t=$5 log start end st suffix
	if [ -z "$cs" ]; then	# ARM64_CASES left none for this L1
		echo "qemu-system-aarch64: not run: no case in ARM64_CASES" >"$TAP_TMP/l1-$tag.log"
		return
	fi
	suffix=${tag:+-$tag}
	[ "$tag" = gicv3 ] && suffix=
	log=$logs/l1$suffix-$(date +%Y%m%d-%H%M%S).log
	start=$(date +%s.%N)
	timeout "$t" qemu-system-aarch64 -M "$machine" \
		-cpu max,pauth-impdef=on -accel tcg -smp 2 -m 2G \
		-display none -monitor none -serial stdio -no-reboot \
		-kernel "$kernel" -initrd "$out/l1.cpio" \
		-append "console=ttyAMA0 panic=-1 $append l1cases=$cs" \
		</dev/null >"$log" 2>&1
	st=$?
	end=$(date +%s.%N)
	tr -d '\r' <"$log" >"$TAP_TMP/l1-$tag.log"
	ln -sf "$(basename "$log")" "$logs/latest$suffix.log"
	diag "$tag: L1 console log: $log"
	diag "$tag: qemu status $st after $(awk "BEGIN { printf \"%.1f\", $end - $start }") s wall; L1 init reached at L1 uptime $(sed -n 's/^L1: init reached at uptime //p' "$TAP_TMP/l1-$tag.log") s"
}

# section NAME [TAG]: the console lines of case NAME (start to status)
section() {
	picked "$1" || { echo "$TAP_TMP/unpicked"; return; }
	sed -n "/^L1: case=$1 irqchip/,/^L1: case=$1 lkvm status/p" \
		"$TAP_TMP/l1-${2:-gicv3}.log" >"$TAP_TMP/case-$1"
	echo "$TAP_TMP/case-$1"
}
status_of() {
	picked "$1" || { echo unpicked; return; }
	sed -n "s/^L1: case=$1 lkvm status=\([0-9]*\).*/\1/p" "$TAP_TMP/l1-${2:-gicv3}.log"
}
# marker NAME KEY [TAG]: the value after "KEY=" in case NAME's lines
marker() {
	picked "$1" || { echo unpicked; return; }
	sed -n "s/.*[ :]$2=\([^ ]*\).*/\1/p" "$(section "$1" "$3")" | head -1
}
# timing NAME [TAG]: lkvm start to exit (L1 uptime) and L2's init uptime
timing() {
	local s b e i
	s=$(section "$1" "$2")
	i=$(sed -n 's/^L2: init reached at uptime //p' "$s")
	b=$(sed -n "s/^L1: case=$1 irqchip=.* start=\([0-9.]*\)$/\1/p" "$s")
	e=$(sed -n "s/^L1: case=$1 lkvm status=.* end=\([0-9.]*\)$/\1/p" "$s")
	[ -n "$b" ] && [ -n "$e" ] &&
		diag "$1: lkvm start to exit $(awk "BEGIN { printf \"%.2f\", $e - $b }") s (L1 uptime)${i:+; L2 kernel reached init at L2 uptime $i s}"
}
# blk_md5 NAME: the checksum of L2's pattern, computed here
blk_md5() { yes "lkvm-arm64-blk-$1" | head -c 1048576 | md5sum | cut -d' ' -f1; }

# (The run blocks below are not indented under their want_run test.)
if want_run gicv3; then
run_l1 gicv3 virt,virtualization=on,gic-version=3,its=on "" "$cases" 540
L1=$TAP_TMP/l1-gicv3.log

like "$L1" '^L1: init reached' "L1 reached init"
like "$L1" '^L1: kvm=yes' "L1 has /dev/kvm (nested virtualization under TCG)"

for c in v3 its auto; do
	s=$(section $c)
	like "$s" '^L2: init reached' "$c: L2 reached init"
	like "$s" '^L2: cpus=2 online=0-1' "$c: both vCPUs online (PSCI CPU_ON)"
	is "$(status_of $c)" 0 "$c: guest poweroff -> lkvm status 0"
	timing $c
done
like "$(section v3)" '^L2: its=0' "gicv3: no ITS in L2"
like "$(section its)" '^L2: its=[1-9]' "gicv3-its: L2 found the ITS"
like "$(section auto)" '^L2: its=[1-9]' "auto picks gicv3-its on this host"
like "$(section v3)" '^L2: uart=[1-9]' "L2's ttyS0 is the 8250 at MMIO 0x1000000"
like "$(section v3)" '^L2: dt-initrd start=0*8[0-9a-f]{7} end=' \
	"L2 sees its initrd in /proc/device-tree/chosen"

s=$(section reboot)
like "$s" '^L2: action=reboot' "reboot: L2 reached init and rebooted"
is "$(status_of reboot)" 8 "reboot: PSCI SYSTEM_RESET -> lkvm status 8"
s=$(section panic)
like "$s" '^L2: action=panic' "panic: L2 reached init and crashed itself"
is "$(status_of panic)" 8 "panic: panic=-1 reboots -> lkvm status 8"

s=$(section pmu)
if grep -q 'has no PMUv3' "$s"; then
	skip "pmu: L2 sees a PMUv3" "L1's KVM offers no guest PMU"
	skip "pmu: status 0" "L1's KVM offers no guest PMU"
else
	like "$s" '^L2: pmu=[1-9]' "pmu: --pmu gives L2 a PMUv3"
	is "$(status_of pmu)" 0 "pmu: status 0"
fi

# Bootargs longer than an arm64 kernel takes (2047 bytes): the kernel
# would cut the tail, which is -p, so lkvm refuses them as on x86.
s=$(section longp)
is "$(status_of longp)" 2 "longp: a 2100-byte -p is refused (status 2), not cut by L2's kernel"
like "$s" 'kernel command line is [0-9]+ bytes; an arm64 kernel accepts at most 2047' \
	"longp: lkvm says how long the line is and what the kernel takes"

is "$(status_of fwoff)" 0 "--firmware blob calling PSCI SYSTEM_OFF -> status 0"
is "$(status_of fwreset)" 8 "--firmware blob calling PSCI SYSTEM_RESET -> status 8"

# kvm-unit-tests contract: the test binary as -k, an environment file
# (not a cpio) as --initrd; it echoes the environment it found through
# /chosen, prints "EXIT: STATUS=1" and calls PSCI SYSTEM_OFF.  L1 kept
# lkvm's stdout in a file: every byte must be there.
env=$TOP/tests/arm64/kut.env
want=$({ echo "kut: initrd bytes=$(wc -c <"$env")"; sed 's/^/ENV: /' "$env"
	 printf '\nEXIT: STATUS=1\n'; } | md5sum | cut -d' ' -f1)
s=$(section kut)
like "$s" '^L1: kut-out: kut: hello from EL1, dtb at 0x' "kut: the test binary ran at EL1"
like "$s" '^L1: kut-out: EXIT: STATUS=1$' "kut: 'EXIT: STATUS=1' arrives on lkvm's stdout"
is "$(marker kut out-md5)" "$want" "kut: lkvm's stdout is intact (env echoed from the --initrd file, then EXIT)"
is "$(status_of kut)" 0 "kut: PSCI SYSTEM_OFF after EXIT -> lkvm status 0"
timing kut

# A load with writeback from the UART (ldr w0, [x1], #4): KVM cannot
# decode it and hands it to lkvm (KVM_CAP_ARM_NISV_TO_USER), which
# injects an external data abort, as QEMU does.  The stand-in's handler
# sees EC 0x25 at the UART address, skips the load, and the test runs on.
s=$(section nisv)
like "$s" '^L1: kut-out: kut: nisv exc=1 ec=0x25 far=0x1000004 base-moved=0 ' \
	"nisv: undecodable MMIO load -> the guest takes one external data abort (EC 0x25, FAR = UART)"
like "$s" '^L1: kut-out: kut: nisv survived$' "nisv: the guest runs on after the abort"
like "$s" '^L1: kut-out: EXIT: STATUS=1$' "nisv: the stand-in reaches its exit"
is "$(status_of nisv)" 0 "nisv: status 0 (KVM_RUN does not fail with ENOSYS, lkvm does not exit 4)"
like "$s" 'undecodable MMIO access at 0x1000004' "nisv: lkvm says so on stderr"
n=unpicked
picked nisv && n=$(grep -c 'undecodable MMIO' "$s")
is "$n" 1 "nisv: ... once"

# SVE and pointer authentication (address + generic) go to the vCPUs when
# L1's KVM offers them (QEMU's -cpu max,pauth-impdef=on has both): the
# stand-in reads the ID registers, L2's kernel lists them in /proc/cpuinfo.
like "$s" '^L1: kut-out: kut: id sve=[1-9] ' "nisv: ID_AA64PFR0_EL1.SVE is set"
like "$s" '^L1: kut-out: kut: id .* api=[1-9] .* gpi=[1-9]$' \
	"nisv: ID_AA64ISAR1_EL1 has address (API) and generic (GPI) authentication"
like "$(section v3)" '^L2: cpu-features sve=1 paca=1 pacg=1 ' \
	"L2's kernel sees sve, paca and pacg"
diag "v3: $(sed -n 's/^L2: cpu-features //p' "$(section v3)")"
like "$(section nofeat)" '^L1: kut-out: kut: id sve=0 apa=0 api=0 gpa=0 gpi=0$' \
	"--disable-sve --disable-ptrauth: the ID registers show neither"
is "$(status_of nofeat)" 0 "nofeat: status 0"

# virtio over virtio-mmio, over virtio-pci with MSI-X through the ITS,
# over virtio-pci with INTx: disk (known first sector; L2 writes a
# pattern the host and L1 check independently) and rng.
for c in vmmio vpci vpcix; do
	s=$(section $c)
	like "$s" '^L2: vda=LKVM-DISK-MARKER' "$c: L2 reads the virtio-blk disk"
	like "$s" '^L2: hwrng=virtio_rng.0 bytes=64' "$c: L2 reads virtio-rng"
	want=$(blk_md5 $c)
	is "$(marker $c blk-md5)" "$want" "$c: L2 wrote and read back the pattern (O_DIRECT)"
	is "$(marker $c image-md5)" "$want" "$c: L1 finds the pattern in the image after lkvm exits"
	is "$(status_of $c)" 0 "$c: status 0"
	timing $c
done
like "$(section vpci)" '^L2: msi=[1-9]' "vpci: MSI-X through the ITS (requester ID as device ID)"
like "$(section vpci)" '^L2: intr: .*ITS-MSI.*virtio0-req' "vpci: virtio-blk's queue interrupt is ITS-MSI"
like "$(section vpci)" '^L2: intr: .*ITS-MSI.*virtio1-' "vpci: virtio-rng's interrupts are ITS-MSI"
grep '^L2: intr:' "$(section vpci)" | sed 's/^/  /' | while read -r l; do diag "$l"; done

# Idle wake-up: two direct-I/O readers, one pinned per vCPU; both vCPUs
# sit in WFI between requests.  A lost wake-up is a reader killed by its
# timeout (rc 143).
for c in vmmio vpci; do
	s=$(section $c)
	like "$s" '^L2: wake rc=0,0 ' "$c: idle-wakeup: 2x1024 4k O_DIRECT reads on 2 vCPUs finish"
	diag "$c: $(sed -n 's/^L2: wake //p' "$s")"
done

s=$(section vcon)
like "$s" '^L2: console=hvc0 active=hvc0' "vcon: --console virtio: L2's console is hvc0"
like "$s" '^L2: cpus=2 online=0-1' "vcon: markers arrive through virtio-console"
like "$s" '^L2: hwrng=virtio_rng.0 bytes=64' "vcon: virtio-rng next to the console"
is "$(status_of vcon)" 0 "vcon: status 0"
timing vcon

# --9p: L2 mounts two of L1's directories over virtio-9p (pci, MSI-X),
# reads L1's file, writes one back, and cannot write the ro share.
if [ -z "$p9_why" ]; then
	s=$(section v9p)
	want=$(yes lkvm-9p-from-l2 | head -c 100000 | md5sum | cut -d' ' -f1)
	like "$s" '^L2: 9p-mount rw=0 ro=0' "v9p: L2 mounts both shares (9p2000.L over virtio)"
	like "$s" '^L2: 9p-read lkvm-9p-from-l1$' "v9p: L2 reads the file L1 put in the share"
	like "$s" "^L2: 9p-write rc=0 md5=$want " "v9p: L2 writes 100000 bytes and reads them back"
	is "$(marker v9p l2-md5)" "$want" "v9p: L1 finds L2's file with the same content"
	is "$(marker v9p l2-link)" "from-l2" "v9p: and L2's symlink, pointing where L2 said"
	like "$s" '^L2: 9p-ro create=[1-9][0-9]* remove=[1-9]' "v9p: creating or removing a file in the ro share fails"
	is "$(marker v9p ro-entries)" 1 "v9p: L1's ro share is unchanged (no new file)"
	is "$(marker v9p ro-keep)" "keep" "v9p: and its file is still there, intact"
	like "$s" '^L2: 9p-escape 0$' "v9p: a symlink out of the share leads nowhere in L2"
	is "$(status_of v9p)" 0 "v9p: status 0"
	timing v9p
else
	for t in mount read write "L1 sees" symlink "ro create" "ro unchanged" \
		 "ro intact" escape status; do
		skip "v9p: $t" "$p9_why"
	done
fi

# lkvm sandbox, inside L1 on the same kernel with Debian's modules
# (--mods): CMD's status, stdout and stderr apart, --timeout, a panic,
# --rwdir and the read-only root, --result-json.
# sbox_val RUN KEY: KEY's value in "L1: sbox RUN ... KEY=value"
sbox_val() { sed -n "s/^L1: sbox $1 .*$2=\([^ ]*\).*/\1/p" "$(section sbox)" | head -1; }
sbox_line() { sed -n "s/^L1: sbox $1 out=/out=/p" "$(section sbox)" | head -1; }
if ! picked sbox; then
	for i in $(seq 17); do skip "sbox check $i" "sbox not in ARM64_CASES"; done
elif [ -z "$sbox_why" ]; then
	s=$(section sbox)
	is "$(sbox_val true status)" 0 "sandbox -- true: status 0"
	is "$(sbox_val exit7 status)" 7 "sandbox -- sh -c 'exit 7': status 7"
	is "$(sbox_val echo status)" 0 "sandbox -- echo hi: status 0"
	is "$(sbox_line echo)" "out=[ h i \n ] err=[]" "sandbox -- echo hi: 'hi' on stdout, nothing on stderr"
	is "$(sbox_line stderr)" "out=[] err=[ e r r \n ]" "sandbox -- echo err >&2: 'err' on stderr only"
	is "$(sbox_line stdin)" "out=[ f r o m - s t d i n \n ] err=[]" "sandbox -- head -n 1: piped stdin, there before the guest booted, reaches CMD"
	is "$(sbox_val timeout status)" 124 "sandbox --timeout 5 -- sleep 100: status 124"
	t=$(sbox_val timeout secs)
	awk "BEGIN { exit !(${t:-999} < 100) }"
	ok $? "sandbox --timeout 5: ends long before sleep 100 would ($t s)"
	is "$(sbox_val panic status)" 8 "sandbox -- echo c >/proc/sysrq-trigger: panic status 8"
	is "$(sbox_val rwdir status)" 0 "sandbox --rwdir: status 0"
	is "$(sbox_line rwdir)" "out=[ c h a n g e d \n ] err=[]" "sandbox: the guest sees its own write outside --rwdir (overlay)"
	is "$(sbox_val 'rwdir l1:' rw-f)" changed "sandbox --rwdir: the guest's write reaches L1"
	is "$(sbox_val 'rwdir l1:' rw-new)" new "sandbox --rwdir: a file the guest creates appears on L1"
	is "$(sbox_val 'rwdir l1:' outside-f)" orig "sandbox: L1's file outside --rwdir is unchanged"
	like "$s" '^L1: sbox cwd out=\[ / t m p / r w \\n c h a n g e d \\n 0 \\n r c = 1 \\n \] err=' \
		"sandbox --rodir: cd, read, uid 0, writing refused"
	is "$(sbox_val json status)" 3 "sandbox --result-json run: status 3"
	sed -n 's/^L1: sbox json {/{/p' "$s" >"$TAP_TMP/r.json"
	if command -v python3 >/dev/null; then
		python3 - "$TAP_TMP/r.json" >"$TAP_TMP/json.out" 2>&1 <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["reason"] == "exit" and r["status"] == 3 and r["signal"] is None, r
assert r["kernel"] == "/Image" and r["command"] == ["sh", "-c", "exit 3"], r
assert isinstance(r["duration_s"], float) and r["duration_s"] > 0, r
assert "detail" in r, r
print("ok")
PY
		is "$(cat "$TAP_TMP/json.out")" ok "sandbox --result-json: valid JSON with reason, status, signal, kernel, duration_s, command, detail"
	else
		skip "sandbox --result-json: valid JSON" "no python3 on the host"
	fi
	diag "sbox: lkvm sandbox -- true: $(sbox_val true secs) s start to exit (L1 uptime); lkvm run of the same kernel (L2 init, poweroff): $(sbox_val run-l2 secs) s"
	diag "sbox json: $(cat "$TAP_TMP/r.json")"
else
	for i in $(seq 17); do skip "sbox check $i" "$sbox_why"; done
fi

# -n mode=user (libslirp): L2's udhcpc gets slirp's lease, then fetches a
# file L1's busybox httpd serves on 127.0.0.1:8080 through 10.0.2.2.
if [ -n "$lkvm_net" ]; then
	s=$(section net)
	want=$(yes lkvm-arm64-net | head -c 65536 | md5sum | cut -d' ' -f1)
	like "$s" '^L2: eth0 10\.0\.2\.15 dhcp-rc=0 ' "net: eth0 gets 10.0.2.15 from slirp's DHCP (udhcpc)"
	is "$(marker net file-md5)" "$want" "net: L1's httpd serves the file on its loopback"
	like "$s" '^L2: net-get rc=0 bytes=65536 ' "net: L2 fetches it from 10.0.2.2:8080 (busybox wget)"
	is "$(marker net net-md5)" "$want" "net: the file arrives intact"
	like "$s" '^L2: intr: .*ITS-MSI.*virtio0-input' "net: virtio-net's receive queue interrupt is ITS-MSI"
	is "$(status_of net)" 0 "net: status 0"
	diag "net: $(sed -n 's/^L2: eth0 //p' "$s")"
	timing net
else
	for t in "eth0 gets 10.0.2.15" "httpd on L1" "wget" "file intact" \
		 "ITS-MSI" "status"; do
		skip "net: $t" "$net_why"
	done
fi

# lkvm stop on arm64: L2 waits for KEY_POWER from gpio-keys on lkvm's
# PL061; L1 runs `lkvm stop --name l2key --timeout 60` once L2 says it is
# armed; L2 powers off on the key, well before the forced stop.
if ! picked pwrkey; then
	for i in $(seq 7); do skip "pwrkey check $i" "pwrkey not in ARM64_CASES"; done
elif [ -z "$key_why" ]; then
	s=$(section pwrkey)
	like "$s" '^L2: pwrkey pl061=1 gpio-keys=1' \
		"pwrkey: L2's gpio-pl061 and gpio-keys bind to lkvm's device tree nodes"
	like "$s" '^L2: pwrkey armed devices=1 ' "pwrkey: L2 has an input device with KEY_POWER"
	like "$s" '^L2: pwrkey pressed code=116 ' "pwrkey: lkvm stop presses KEY_POWER (gpio-keys reports it)"
	like "$s" '^L2: pwrkey released ' "pwrkey: ... and releases it"
	is "$(marker pwrkey stop-status)" 0 "pwrkey: lkvm stop --name l2key --timeout 60: status 0"
	is "$(status_of pwrkey)" 0 "pwrkey: L2 powered off on the key -> lkvm status 0"
	t=$(marker pwrkey exit-secs)
	awk "BEGIN { exit !(${t:-999} < 60) }"
	ok $? "pwrkey: lkvm exited before stop's 60 s timeout (${t:-?} s): not forced"
	diag "pwrkey: $(sed -n 's/^L2: pwrkey \(pressed\|released\)/\1/p' "$s" | tr '\n' ' ')"
	diag "pwrkey: stop took $(marker pwrkey stop-secs) s, lkvm exited $(marker pwrkey exit-secs) s after the stop began (L1 uptime)"
	grep '^L1: case=pwrkey stop: ' "$s" | while read -r l; do diag "$l"; done
else
	for i in $(seq 7); do skip "pwrkey check $i" "$key_why"; done
fi

# lkvm pause/resume on arm64: L1 pauses and resumes L2 (virtio-pci with
# MSI through the ITS) for as long as L2 writes and reads back its disk,
# 20 s of guest time; a short run of the x86 10^4-cycle stress test.
if ! picked pause; then
	for i in $(seq 5); do skip "pause check $i" "pause not in ARM64_CASES"; done
else
	s=$(section pause)
	n=$(marker pause cycles)
	ok "$([ "${n:-0}" -gt 0 ]; echo $?)" "pause: L1 paused and resumed the running L2 (${n:-0} cycles)"
	is "$(marker pause fails)" 0 "pause: every lkvm pause/resume succeeded"
	like "$s" '^L2: pause done rounds=[1-9][0-9]* bad=0 ' \
		"pause: L2's disk writes and reads all came back intact"
	l2=$(sed -n 's/^L2: pause done .* l2secs=\([0-9.]*\).*/\1/p' "$s")
	l1=$(marker pause l1secs)
	awk "BEGIN { exit !(${l2:-999} <= ${l1:-0} + 2) }"
	ok $? "pause: L2's clock did not run ahead of L1's (${l2:-?} s in L2, ${l1:-?} s in L1)"
	is "$(status_of pause)" 0 "pause: L2 powered off afterwards -> lkvm status 0"
	diag "pause: $(grep '^L2: pause done' "$s")"
fi

# GICv2 guests on a GICv3 host need the CPU interface's GICv2
# compatibility (GICV); QEMU's virt GICv3 has none, and L1's KVM says so.
for c in v2 v2m; do
	s=$(section $c)
	if grep -q '^L2: init reached' "$s"; then
		like "$s" '^L2: cpus=2 online=0-1' "$c: L2 boots with a GICv2"
		is "$(status_of $c)" 0 "$c: status 0"
	elif grep -q 'disabling GICv2 emulation' "$L1"; then
		why=$(grep -o 'kvm \[1\]: GICv3: no GICV resource entry' "$L1" | head -1)
		is "$(status_of $c)" 4 "$c: refused cleanly on a GICv3-only host (status 4)"
		skip "$c: L2 boots with a gic$c" \
			"L1 is GICv3-only: '$why', 'disabling GICv2 emulation'; lkvm: '$(sed -n 's/^lkvm: error: //p' "$s")'"
	else
		like "$s" '^L2: init reached' "$c: L2 boots with a GICv2"
		skip "$c: status" "did not boot"
	fi
done

# The DTB lkvm gave L2 (--dump-dtb in the its case), carried out base64.
# Like kvmtool, --dump-dtb writes the file and the guest still runs.
like "$(section its)" '^L2: init reached' "--dump-dtb: the guest still runs (as in kvmtool)"
sed -n '/^L1: dtb-begin/,/^L1: dtb-end/p' "$L1" | sed '1d;$d' |
	base64 -d >"$TAP_TMP/l2.dtb" 2>/dev/null
if ! picked its; then
	for i in 1 2 3 4 5 6; do skip "dtb check $i" "its not in ARM64_CASES"; done
elif command -v dtc >/dev/null; then
	dtc -q -I dtb -O dts -o "$TAP_TMP/l2.dts" "$TAP_TMP/l2.dtb" 2>"$TAP_TMP/dtc.err"
	ok $? "--dump-dtb output is a valid DTB (dtc)"
	cp "$TAP_TMP/l2.dtb" "$logs/l2-its.dtb" 2>/dev/null
	d=$TAP_TMP/l2.dts
	like "$d" 'compatible = "arm,psci-0\.2' "dtb: psci 0.2"
	like "$d" 'enable-method = "psci"' "dtb: cpus use psci"
	like "$d" 'compatible = "arm,gic-v3-its"' "dtb: ITS under the GICv3"
	like "$d" 'compatible = "pci-host-ecam-generic"' "dtb: ECAM PCI host with msi-map"
	like "$d" 'linux,initrd-start' "dtb: chosen has the initrd"
else
	for i in 1 2 3 4 5 6; do skip "dtb check $i" "dtc missing (device-tree-compiler)"; done
fi
like "$L1" '^L1: all cases done' "L1 ran every case and powered off"
fi

# The same core checks on a GICv4 host (vLPI direct injection enabled in
# L1's KVM; lkvm's MSIs still go through KVM_SIGNAL_MSI and the emulated
# ITS, GICv4 only changes how L1's KVM runs).
if want_run gicv4; then
run_l1 gicv4 virt,virtualization=on,gic-version=4,its=on \
	"kvm-arm.vgic_v4_enable=1" "$cases_g4" 420
L4=$TAP_TMP/l1-gicv4.log
if ! grep -q '^L1: init reached' "$L4" &&
   grep -q '^qemu-system-aarch64:' "$L4"; then
	why=$(grep -m1 '^qemu-system-aarch64:' "$L4")
	for t in "L1 reached init" "GICv4 in L1's KVM" "L2 init" "2 CPUs" \
		 "blk" "status"; do
		skip "gicv4: $t" "$why"
	done
else
	like "$L4" '^L1: dmesg: .*kvm \[1\]: GICv4 support enabled' "gicv4: L1's KVM uses the GICv4"
	for c in g4its g4vpci; do
		s=$(section $c gicv4)
		like "$s" '^L2: init reached' "gicv4 $c: L2 reached init"
		like "$s" '^L2: cpus=2 online=0-1' "gicv4 $c: both vCPUs online"
		is "$(status_of $c gicv4)" 0 "gicv4 $c: status 0"
		timing $c gicv4
	done
	want=$(blk_md5 g4vpci)
	is "$(marker g4vpci blk-md5 gicv4)" "$want" "gicv4 g4vpci: L2's blk pattern reads back"
	is "$(marker g4vpci image-md5 gicv4)" "$want" "gicv4 g4vpci: L1 finds the pattern in the image"
	like "$(section g4vpci gicv4)" '^L2: wake rc=0,0 ' "gicv4 g4vpci: idle-wakeup readers finish"
	diag "g4vpci: $(sed -n 's/^L2: wake //p' "$(section g4vpci gicv4)")"
	like "$(section g4vpci gicv4)" '^L2: intr: .*ITS-MSI.*virtio0-req' "gicv4 g4vpci: blk interrupt is ITS-MSI"
	# auto on a KVM without the ITS (an LD_PRELOAD shim hides it
	# from the dynamic lkvm): probing must leave no vGICv3 behind that
	# would make creating the plain gicv3 fail with EEXIST.
	if [ -n "$lkvm_net" ]; then
		s=$(section g4noits gicv4)
		like "$s" '^L2: init reached' "gicv4 auto without ITS: L2 reached init (gicv3 chosen)"
		like "$s" '^L2: its=0' "gicv4 auto without ITS: no ITS in L2"
		is "$(status_of g4noits gicv4)" 0 "gicv4 auto without ITS: status 0"
		timing g4noits gicv4
	else
		for t in "L2 init" "no ITS" "status"; do
			skip "gicv4 auto without ITS: $t" "$net_why"
		done
	fi
fi
fi

# A GICv2 host (QEMU's GICv2 with the virtualization extensions): L1's
# KVM can only give its guests a GICv2.  virtio-pci block I/O with
# interrupts counted in L2 under gicv2 (INTx), gicv2m (MSI-X: the v2m
# doorbell and an SPI number, which lkvm must turn into that SPI) and
# auto (which must pick gicv2m here).  A lost interrupt hangs L2 until
# l1-init's timeout (status 143).
if want_run gicv2; then
run_l1 gicv2 virt,virtualization=on,gic-version=2 "" "$cases_g2" 900
L2H=$TAP_TMP/l1-gicv2.log
like "$L2H" '^L1: init reached' "gicv2 host: L1 reached init"
like "$L2H" '^L1: kvm=yes' "gicv2 host: L1 has /dev/kvm"
like "$L2H" '^L1: irqchip=GICv2 $' "gicv2 host: L1 runs on a GICv2"
like "$L2H" '^L1: dmesg: .*kvm \[1\]: vgic interrupt IRQ' "gicv2 host: L1's KVM has its vGIC maintenance interrupt"
for c in v2pci v2mpci v2auto; do
	s=$(section $c gicv2)
	like "$s" '^L2: init reached' "gicv2 $c: L2 reached init"
	like "$s" '^L2: cpus=2 online=0-1' "gicv2 $c: both vCPUs online"
	like "$s" '^L2: irqchip=(GIC-0|GICv2) $' "gicv2 $c: L2 runs on a GICv2"
	like "$s" '^L2: vda=LKVM-DISK-MARKER' "gicv2 $c: L2 reads the virtio-blk disk"
	want=$(blk_md5 $c)
	is "$(marker $c blk-md5 gicv2)" "$want" "gicv2 $c: L2 wrote and read back the pattern (O_DIRECT)"
	is "$(marker $c image-md5 gicv2)" "$want" "gicv2 $c: L1 finds the pattern in the image"
	b=$(sed -n 's/^L2: blk-irq before=\([0-9]*\) after=.*/\1/p' "$s")
	a=$(sed -n 's/^L2: blk-irq before=[0-9]* after=\([0-9]*\)/\1/p' "$s")
	[ -n "$b" ] && [ -n "$a" ] && [ "$a" -gt "$b" ]
	ok $? "gicv2 $c: virtio0's interrupt count grows with the I/O ($b -> $a)"
	grep -q 'injecting .* failed' "$s"
	ok $((!$?)) "gicv2 $c: lkvm reports no failed interrupt injection"
	is "$(status_of $c gicv2)" 0 "gicv2 $c: status 0"
	grep '^L2: virq:' "$s" | while read -r l; do diag "$c: $l"; done
	timing $c gicv2
done
like "$(section v2pci gicv2)" '^L2: virq: .*GIC-0 [0-9]+ Level virtio0$' "gicv2 v2pci: virtio-blk interrupts by INTx"
like "$(section v2mpci gicv2)" '^L2: virq: .* MSI [0-9]+ Edge virtio0-req' "gicv2 v2mpci: virtio-blk's queue interrupt is an MSI (through the v2m frame: no ITS)"
like "$(section v2mpci gicv2)" '^L2: wake rc=0,0 ' "gicv2 v2mpci: idle-wakeup readers finish"
diag "v2mpci: $(sed -n 's/^L2: wake //p' "$(section v2mpci gicv2)")"
like "$(section v2auto gicv2)" '^L2: v2m=[1-9]' "gicv2 auto picks gicv2m on a GICv2 host (L2 found the v2m frame)"
like "$(section v2pci gicv2)" '^L2: v2m=0' "gicv2 v2pci: no v2m frame with plain gicv2"
like "$(section v2auto gicv2)" '^L2: virq: .* MSI [0-9]+ Edge virtio0-req' "gicv2 v2auto: virtio-blk's queue interrupt is an MSI"
like "$L2H" '^L1: all cases done' "gicv2 host: L1 ran every case and powered off"
fi

plan "$TAP_N"
done_testing
