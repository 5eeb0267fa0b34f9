#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The sandbox's guest init (build/sandbox-init-arm64) on Debian's real arm64
# kernel, with QEMU's virtio-9p and virtio-console standing in for lkvm's
# until those exist: modules loaded from the initramfs, the 9p root under a
# tmpfs overlay, a --rwdir share, CMD as uid 1000 in its cwd, stdout and
# stderr on their own ports, the status line on the third; and a kernel
# missing overlayfs or the 9p virtio transport reported by name.
# TCG, no KVM needed: each boot takes ~10 s here.
source "$(dirname "$0")/../lib/tap.sh"

cache=${LKVM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lkvm}
image=$cache/linux-arm64/Image
busybox=$cache/busybox-arm64/busybox
init=$LKVM_BUILD/sandbox-init-arm64
tree=$(ls -d "$cache"/linux-arm64/modtree/lib/modules/*/kernel 2>/dev/null | head -1)

command -v qemu-system-aarch64 >/dev/null || skip_all "no qemu-system-aarch64 (scripts/setup-arm64.sh installs it)"
command -v cpio >/dev/null || skip_all "no cpio (scripts/setup.sh installs it)"
[ -s "$image" ] && [ -x "$busybox" ] || skip_all "no arm64 Image or busybox in $cache (scripts/arm64-fetch.sh)"
[ -n "$tree" ] || skip_all "no arm64 module tree in $cache/linux-arm64/modtree (scripts/arm64-fetch.sh)"
[ -x "$init" ] || skip_all "no $init (make builds it when aarch64-linux-gnu-gcc exists)"

plan 12
T=$TAP_TMP
mkdir -p "$T"/ird/lkvm/modules "$T"/ird/{dev,proc,sys,tmp} \
	 "$T"/root/{bin,etc,dev,proc,sys,tmp,home/me} "$T"/rw
cp "$init" "$T"/ird/init
cp "$busybox" "$T"/root/bin/busybox
ln -s busybox "$T"/root/bin/sh
echo original > "$T"/root/etc/file
chmod 666 "$T"/root/etc/file	# writable, so only the overlay keeps it
chmod 777 "$T"/rw

# config DROP: the records, less the module named DROP (a kernel without it)
config() {
	local m
	for m in net/9p/9pnet fs/netfs/netfs fs/fscache/fscache fs/9p/9p \
		 net/9p/9pnet_virtio drivers/virtio/virtio_pci_modern_dev \
		 drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci \
		 drivers/char/virtio_console fs/overlayfs/overlay; do
		cp "$tree/$m.ko" "$T"/ird/lkvm/modules/
		[ "${m##*/}" = "$1" ] || printf 'module=/lkvm/modules/%s.ko\0' "${m##*/}"
	done
	printf '%s\0' arg=/bin/sh arg=-c \
		'arg=echo changed > /etc/file; echo out: $(pwd) $(id -u) $(cat /etc/file); echo err: to-stderr >&2; id -u > /home/me/rwfile; exit 7' \
		env=PATH=/bin env=HOME=/home/me cwd=/home/me uid=1000 gid=1000 \
		'share=rw lkvm-rw0 /home/me'
}

# boot DROP: boots; hvc0..2 and the console log in $T
boot() {
	config "$1" > "$T"/ird/lkvm/config
	(cd "$T"/ird && find . | cpio -o -H newc --quiet) > "$T"/initrd.cpio
	: > "$T"/hvc0; : > "$T"/hvc1; : > "$T"/hvc2
	timeout 300 qemu-system-aarch64 -M virt -cpu max -smp 1 -m 512 \
		-nographic -no-reboot -kernel "$image" -initrd "$T"/initrd.cpio \
		-append "console=ttyAMA0 panic=-1 quiet" \
		-fsdev local,id=r,path="$T"/root,security_model=none,readonly=on \
		-device virtio-9p-pci,fsdev=r,mount_tag=lkvm-root \
		-fsdev local,id=w,path="$T"/rw,security_model=none \
		-device virtio-9p-pci,fsdev=w,mount_tag=lkvm-rw0 \
		-device virtio-serial-pci \
		-chardev file,id=c0,path="$T"/hvc0 -device virtconsole,chardev=c0 \
		-chardev file,id=c1,path="$T"/hvc1 -device virtconsole,chardev=c1 \
		-chardev file,id=c2,path="$T"/hvc2 -device virtconsole,chardev=c2 \
		> "$T"/console.log 2>&1
}

start=$(date +%s.%N)
boot none
ok $? "the guest powered off (QEMU exited 0)"
diag "boot to power-off: $(echo "$(date +%s.%N) - $start" | bc 2>/dev/null) s"
is "$(head -n 1 "$T"/hvc2)" "lkvm-ready" "status port: the ready line first (stdin may flow)"
is "$(tail -n 1 "$T"/hvc2)" "lkvm-status: exit 7" "status port: CMD's exit status"
is "$(cat "$T"/hvc0)" "out: /home/me 1000 changed" \
	"stdout port: CMD ran as uid 1000 in its cwd and could write /etc/file"
is "$(cat "$T"/hvc1)" "err: to-stderr" "stderr port: only stderr"
is "$(cat "$T"/rw/rwfile 2>/dev/null)" "1000" "the rw share's file reached the host"
is "$(cat "$T"/root/etc/file)" "original" "the host's /etc/file is unchanged (the write went to the overlay)"
like "$T"/console.log "lkvm-status: exit 7" "the status line is on the kernel console too"

boot overlay
is "$(tail -n 1 "$T"/hvc2)" "lkvm-status: missing-kernel-support CONFIG_OVERLAY_FS" \
	"no overlayfs: named, then power-off"
is "$(cat "$T"/hvc0)" "" "and CMD did not run"
boot 9pnet_virtio
is "$(tail -n 1 "$T"/hvc2)" "lkvm-status: missing-kernel-support CONFIG_NET_9P_VIRTIO" \
	"no 9p virtio transport: named"
boot virtio_console
like "$T"/console.log "lkvm-status: missing-kernel-support CONFIG_VIRTIO_CONSOLE" \
	"no status port: named on the kernel console"
done_testing
