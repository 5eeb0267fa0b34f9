#!/usr/bin/env bash
# Fetches Debian arm64 packages with `apt-get download` (no root) and
# unpacks them into the cache:
#   $cache/arm64-sysroot/   libfdt, libaio, zlib headers + static libs
#   $cache/linux-arm64/     Image (raw, decompressed), config, version
#   $cache/busybox-arm64/   busybox (static)
# Each part is skipped when already present.  Needs `dpkg
# --add-architecture arm64` and an apt-get update (setup-arm64.sh).
set -euo pipefail

cache=${LKVM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lkvm}
mkdir -p "$cache"

# download DIR PKG...: the .debs of PKG (arch-qualified) into DIR
download() {
	local dir=$1
	shift
	# apt's _apt user must be able to write there (else a warning).
	chmod 755 "$dir"
	(cd "$dir" && apt-get download "$@" >/dev/null)
}

fetch_sysroot() {
	local root=$cache/arm64-sysroot tmp
	[ -s "$root/.done" ] && return 0
	tmp=$(mktemp -d "$cache/sysroot.XXXXXX")
	download "$tmp" libfdt-dev:arm64 libfdt1:arm64 libaio-dev:arm64 \
		libaio1:arm64 zlib1g-dev:arm64 zlib1g:arm64
	mkdir -p "$tmp/root"
	for d in "$tmp"/*.deb; do
		dpkg-deb -x "$d" "$tmp/root"
	done
	rm -rf "$root"
	mv "$tmp/root" "$root"
	(cd "$tmp" && ls ./*.deb) > "$root/.done"
	rm -rf "$tmp"
}

fetch_kernel() {
	local dir=$cache/linux-arm64 tmp meta dep deb m
	[ -s "$dir/Image" ] && [ -s "$dir/modules/.done" ] && return 0
	tmp=$(mktemp -d "$cache/kernel.XXXXXX")
	download "$tmp" linux-image-arm64:arm64
	meta=$(ls "$tmp"/linux-image-arm64_*.deb | head -1)
	# The metapackage depends on exactly one versioned image package.
	dep=$(dpkg-deb -f "$meta" Depends | tr ',' '\n' |
		sed -n 's/^ *\(linux-image-[0-9][^ ]*-arm64\)\( .*\)\?$/\1/p' |
		head -1)
	[ -n "$dep" ] || { echo "no image package in $meta" >&2; return 1; }
	download "$tmp" "$dep:arm64"
	deb=$(ls "$tmp/$dep"_*.deb | head -1)
	mkdir -p "$tmp/x"
	dpkg-deb --fsys-tarfile "$deb" |
		tar -x -C "$tmp/x" --wildcards './boot/*' '*/virtio*.ko'
	mkdir -p "$dir/modules"
	# The virtio drivers are modules in Debian's config; the L2 initramfs
	# loads them in this order (dependencies first).
	: > "$dir/modules/order"
	for m in virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci \
		 virtio_mmio virtio_blk virtio_console virtio-rng; do
		find "$tmp/x/lib/modules" -name "$m.ko" -exec cp {} "$dir/modules/" \;
		[ -s "$dir/modules/$m.ko" ] && echo "$m.ko" >> "$dir/modules/order"
	done
	echo ok > "$dir/modules/.done"
	# Debian 12 ships arm64 vmlinuz as a gzip'ed raw Image.
	if gzip -t "$tmp"/x/boot/vmlinuz-* 2>/dev/null; then
		gzip -dc "$tmp"/x/boot/vmlinuz-* > "$dir/Image.tmp"
	else
		cp "$tmp"/x/boot/vmlinuz-* "$dir/Image.tmp"
	fi
	cp "$tmp"/x/boot/config-* "$dir/config"
	basename "$deb" > "$dir/version"
	mv "$dir/Image.tmp" "$dir/Image"
	rm -rf "$tmp"
}

fetch_busybox() {
	local dir=$cache/busybox-arm64 tmp
	[ -x "$dir/busybox" ] && return 0
	tmp=$(mktemp -d "$cache/busybox.XXXXXX")
	download "$tmp" busybox-static:arm64
	dpkg-deb -x "$tmp"/busybox-static_*.deb "$tmp/x"
	mkdir -p "$dir"
	cp "$tmp/x/bin/busybox" "$dir/busybox.tmp"
	mv "$dir/busybox.tmp" "$dir/busybox"
	rm -rf "$tmp"
}

fetch_sysroot
fetch_kernel
fetch_busybox
