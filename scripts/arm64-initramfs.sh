#!/usr/bin/env bash
# Builds the nested-boot initramfs images (uncompressed newc cpio: about
# twice as fast to unpack under TCG as gzip):
#   OUT/l2.cpio   busybox + tests/arm64/l2-init
#   OUT/l1.cpio   busybox + the static arm64 lkvm + the kernel Image +
#                 l2.cpio + tests/arm64/l1-init
#   OUT/l2.cpio   also the kernel's virtio modules, if MODULES is given
#                 (with the 9p and power-key sets and their load orders),
#                 and /bin/keywait (tests/arm64/keywait.c, static, built
#                 with ${CROSS_COMPILE}gcc): the power-key reader
#   OUT/l1.cpio   also kut.bin (tests/arm64/kut-env.c, a kvm-unit-tests
#                 stand-in built with ${CROSS_COMPILE}gcc) and kut.env,
#                 the environment file it gets as its initrd
#   OUT/l1.cpio   also /lkvm-net, if LKVM_NET is given: the dynamically
#                 linked lkvm with libslirp (make ARM64_DYNAMIC=1), with
#                 the shared libraries it needs in /lib/aarch64-linux-gnu
#                 (from SLIRP_ROOT, then the cross compiler's libc) and
#                 the dynamic loader in /lib, and /no-its.so, an
#                 LD_PRELOAD shim hiding KVM's ITS (tests/arm64/no-its.c)
#   OUT/l1.cpio   also /sbmods, if SBMODS (a module tree, the kernel's
#                 /lib/modules/RELEASE) is set in the environment: what
#                 `lkvm sandbox --mods /sbmods` loads the 9p, virtio and
#                 overlay modules from
# Usage: arm64-initramfs.sh OUT LKVM IMAGE BUSYBOX [MODULES [LKVM_NET SLIRP_ROOT]]
set -euo pipefail

out=$1 lkvm=$2 image=$3 busybox=$4 modules=${5:-}
lkvm_net=${6:-} slirp_root=${7:-}
top=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
stage=$(mktemp -d "$out/stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT

# mkroot DIR INIT: the skeleton both levels share
mkroot() {
	mkdir -p "$1"/{bin,dev,proc,sys,tmp}
	cp "$busybox" "$1/bin/busybox"
	cp "$2" "$1/init"
	chmod 0755 "$1/init" "$1/bin/busybox"
	# The kernel opens /dev/console before init runs; without the
	# node (mknod needs root) init re-opens it from devtmpfs.
	mknod -m 600 "$1/dev/console" c 5 1 2>/dev/null || true
}

# mkcpio DIR FILE
mkcpio() {
	(cd "$1" && find . -print0 | sort -z |
		cpio --null -o -H newc -R 0:0 --quiet) > "$2.tmp"
	mv "$2.tmp" "$2"
}

mkroot "$stage/l2" "$top/tests/arm64/l2-init"
if [ -n "$modules" ] && [ -s "$modules/order" ]; then
	mkdir -p "$stage/l2/modules"
	cp "$modules"/*.ko "$modules/order" "$stage/l2/modules/"
	[ -s "$modules/order9p" ] && cp "$modules/order9p" "$stage/l2/modules/"
	[ -s "$modules/orderkeys" ] && cp "$modules/orderkeys" "$stage/l2/modules/"
fi
cross=${CROSS_COMPILE:-aarch64-linux-gnu-}
"${cross}gcc" -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -O2 -static -s -o "$stage/l2/bin/keywait" \
	"$top/tests/arm64/keywait.c"
mkcpio "$stage/l2" "$out/l2.cpio"

mkroot "$stage/l1" "$top/tests/arm64/l1-init"
cp "$lkvm" "$stage/l1/lkvm"
cp "$image" "$stage/l1/Image"
cp "$out/l2.cpio" "$stage/l1/l2.cpio"
# --firmware blobs: w0 = PSCI SYSTEM_OFF (0x84000008) or SYSTEM_RESET
# (0x84000009); hvc #0; b .   (movz w0,#n; movk w0,#0x8400,lsl #16)
fw() { printf "$2" > "$stage/l1/$1.bin"; }
fw fw-off   '\x00\x01\x80\x52\x00\x80\xb0\x72\x02\x00\x00\xd4\x00\x00\x00\x14'
fw fw-reset '\x20\x01\x80\x52\x00\x80\xb0\x72\x02\x00\x00\xd4\x00\x00\x00\x14'
# The kvm-unit-tests stand-in: freestanding, flattened to a raw binary
# without Image header, like a .flat file.  VMMs load such a file at RAM
# + 0x80000 (kvmtool's rule, lkvm's too), so it is linked there.
cross=${CROSS_COMPILE:-aarch64-linux-gnu-}
cat >"$stage/kut.lds" <<'EOF'
ENTRY(_start)
SECTIONS {
	. = 0x80080000;
	.text : { *(.text.head) *(.text*) }
	.rodata : { *(.rodata*) }
	.data : { *(.data*) *(.bss*) *(COMMON) }
	/DISCARD/ : { *(.comment) *(.note*) *(.eh_frame*) }
}
EOF
"${cross}gcc" -std=gnu11 -Wall -Wextra -Werror -O2 -ffreestanding \
	-fno-pic -fno-pie -no-pie -nostdlib -nostartfiles \
	-mgeneral-regs-only -mstrict-align -fno-stack-protector \
	-fno-asynchronous-unwind-tables -Wl,--build-id=none \
	-T "$stage/kut.lds" -o "$stage/kut.elf" "$top/tests/arm64/kut-env.c"
"${cross}objcopy" -O binary "$stage/kut.elf" "$stage/l1/kut.bin"
# No "ARM\x64" at 0x38: it must take the raw-binary path.
[ "$(dd if="$stage/l1/kut.bin" bs=1 skip=56 count=4 2>/dev/null)" != "$(printf 'ARM\x64')" ] ||
	{ echo "arm64-initramfs: kut.bin has an Image header" >&2; exit 1; }
cp "$top/tests/arm64/kut.env" "$stage/l1/kut.env"

# /lkvm-net and the closure of its DT_NEEDED libraries.
if [ -n "$lkvm_net" ]; then
	libc_dir=$(dirname "$("${cross}gcc" -print-file-name=libc.so.6)")
	libdirs=("$slirp_root/usr/lib/aarch64-linux-gnu"
		 "$slirp_root/lib/aarch64-linux-gnu" "$libc_dir")
	mkdir -p "$stage/l1/lib/aarch64-linux-gnu"
	cp "$lkvm_net" "$stage/l1/lkvm-net"
	interp=$("${cross}readelf" -l "$lkvm_net" |
		sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p')
	cp -L "$libc_dir/$(basename "$interp")" "$stage/l1$interp"
	todo=("$lkvm_net") seen=" "
	while [ ${#todo[@]} -gt 0 ]; do
		f=${todo[0]}
		todo=("${todo[@]:1}")
		for n in $("${cross}readelf" -d "$f" |
			   sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'); do
			case "$seen" in *" $n "*) continue ;; esac
			seen="$seen$n "
			found=
			for d in "${libdirs[@]}"; do
				[ -e "$d/$n" ] || continue
				found=$d/$n
				break
			done
			[ -n "$found" ] || { echo "arm64-initramfs: $n (needed by $f) not found" >&2; exit 1; }
			cp -L "$found" "$stage/l1/lib/aarch64-linux-gnu/$n"
			todo+=("$found")
		done
	done
	# LD_PRELOAD shim: a KVM without the ITS (tests/arm64/no-its.c)
	"${cross}gcc" -std=gnu11 -Wall -Wextra -Werror -O2 -shared -fPIC \
		-o "$stage/l1/no-its.so" "$top/tests/arm64/no-its.c"
fi
if [ -n "${SBMODS:-}" ] && [ -d "$SBMODS" ]; then
	cp -a "$SBMODS" "$stage/l1/sbmods"
fi
mkcpio "$stage/l1" "$out/l1.cpio"
