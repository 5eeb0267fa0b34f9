#!/usr/bin/env bash
# Fetches Debian arm64 packages with `apt-get download` (no root) and
# unpacks them into the cache:
#   $cache/arm64-sysroot/   libfdt, libaio, zlib, libseccomp headers +
#                           static libs
#   $cache/linux-arm64/     Image (raw, decompressed), config, version
#   $cache/linux-arm64/modtree/lib/modules/VERSION/
#                           the module tree's metadata (modules.dep,
#                           .builtin, .order) and the modules lkvm
#                           sandbox loads (9p, overlay, virtio and their
#                           dependencies), for tests/unit/sandbox/modules
#   $cache/busybox-arm64/   busybox (static)
#   $cache/arm64-slirp/     libslirp (headers + shared) and the shared
#                           libraries it needs (glib & co.): Debian has
#                           no static libslirp, so `make ARM64_DYNAMIC=1`
#                           links a second, dynamic arm64 lkvm with -n
#                           mode=user against these
# Each part is skipped when already present.  Needs `dpkg
# --add-architecture arm64` and an apt-get update (setup-arm64.sh).
set -euo pipefail

cache=${LKVM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lkvm}
mkdir -p "$cache"

# download DIR PKG...: the .debs of PKG (arch-qualified) into DIR
download() {
	local dir=$1
	shift
	# apt downloads as its _apt user, which cannot reach a cache under
	# root's 0700 home: it then warns and downloads as root anyway.  As
	# root, say so up front; as anyone else, the dir is theirs to share.
	local sandbox=()
	[ "$(id -u)" = 0 ] && sandbox=(-o APT::Sandbox::User=root)
	chmod 755 "$dir"
	(cd "$dir" && apt-get "${sandbox[@]}" download "$@" >/dev/null)
}

fetch_sysroot() {
	local root=$cache/arm64-sysroot tmp
	# A sysroot from before libseccomp was added is fetched again.
	[ -s "$root/.done" ] && grep -q libseccomp-dev "$root/.done" && return 0
	tmp=$(mktemp -d "$cache/sysroot.XXXXXX")
	download "$tmp" libfdt-dev:arm64 libfdt1:arm64 libaio-dev:arm64 \
		libaio1:arm64 zlib1g-dev:arm64 zlib1g:arm64 \
		libseccomp-dev:arm64 libseccomp2:arm64
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
	# (tar fails on a pattern that matches nothing: a kernel with the
	# failover modules built in must not cost the kernel itself.)
	dpkg-deb --fsys-tarfile "$deb" |
		tar -x -C "$tmp/x" --wildcards './boot/*' '*/virtio*.ko' \
		'*failover.ko' || ls "$tmp"/x/boot/vmlinuz-* >/dev/null
	mkdir -p "$dir/modules"
	# The virtio drivers are modules in Debian's config; the L2 initramfs
	# loads them in this order (dependencies first).
	: > "$dir/modules/order"
	for m in virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci \
		 virtio_mmio virtio_blk virtio_console virtio-rng; do
		find "$tmp/x/lib/modules" -name "$m.ko" -exec cp {} "$dir/modules/" \;
		[ -s "$dir/modules/$m.ko" ] && echo "$m.ko" >> "$dir/modules/order"
	done
	# Only the net case loads these (l2net=1 in tests/arm64/l2-init).
	for m in failover net_failover virtio_net; do
		find "$tmp/x/lib/modules" -name "$m.ko" -exec cp {} "$dir/modules/" \;
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

fetch_slirp() {
	local root=$cache/arm64-slirp tmp
	[ -s "$root/.done" ] && return 0
	tmp=$(mktemp -d "$cache/slirp.XXXXXX")
	download "$tmp" libslirp-dev:arm64 libslirp0:arm64 \
		libglib2.0-0:arm64 libffi8:arm64 libmount1:arm64 \
		libblkid1:arm64 libpcre2-8-0:arm64 libselinux1:arm64
	mkdir -p "$tmp/root"
	for d in "$tmp"/*.deb; do
		dpkg-deb -x "$d" "$tmp/root"
	done
	rm -rf "$root"
	mv "$tmp/root" "$root"
	(cd "$tmp" && ls ./*.deb) > "$root/.done"
	rm -rf "$tmp"
}

# The kernel's virtio_net and its failover dependencies, from the very
# package the cached Image came from (a cache that predates them).
fetch_netmods() {
	local dir=$cache/linux-arm64 tmp deb pkg ver m
	[ -s "$dir/modules/virtio_net.ko" ] && return 0
	[ -s "$dir/version" ] || return 1
	deb=$(cat "$dir/version")
	pkg=${deb%%_*} ver=${deb#*_}
	ver=${ver%_*}
	ver=${ver//%3a/:}
	tmp=$(mktemp -d "$cache/netmods.XXXXXX")
	mkdir -p "$tmp/x"
	if download "$tmp" "$pkg:arm64=$ver" &&
	   dpkg-deb --fsys-tarfile "$tmp/$deb" |
		tar -x -C "$tmp/x" --wildcards '*/virtio_net.ko' '*failover.ko'; then
		# virtio_net.ko last: its presence marks the set complete.
		for m in failover net_failover virtio_net; do
			find "$tmp/x/lib/modules" -name "$m.ko" -exec cp {} "$dir/modules/$m.ko.tmp" \;
			[ -s "$dir/modules/$m.ko.tmp" ] &&
				mv "$dir/modules/$m.ko.tmp" "$dir/modules/$m.ko"
		done
	fi
	rm -rf "$tmp"
	[ -s "$dir/modules/virtio_net.ko" ]
}

# The 9p client (9p, 9pnet_virtio and what they need), for the nested
# boot's 9p case, from the very package the cached Image came from.
# modules/order9p lists them in load order; 9p.ko last marks the set done.
fetch_9pmods() {
	local dir=$cache/linux-arm64 tmp deb pkg ver m
	[ -s "$dir/modules/9p.ko" ] && return 0
	[ -s "$dir/version" ] || return 1
	deb=$(cat "$dir/version")
	pkg=${deb%%_*} ver=${deb#*_}
	ver=${ver%_*}
	ver=${ver//%3a/:}
	tmp=$(mktemp -d "$cache/9pmods.XXXXXX")
	mkdir -p "$tmp/x"
	if download "$tmp" "$pkg:arm64=$ver" &&
	   dpkg-deb --fsys-tarfile "$tmp/$deb" |
		tar -x -C "$tmp/x" --wildcards '*/fs/9p/*.ko' '*/net/9p/*.ko' \
		'*/fs/netfs/*.ko' '*/fs/fscache/*.ko'; then
		: > "$dir/modules/order9p"
		# Dependencies first (modinfo's depends, as Debian 12 builds them).
		for m in netfs fscache 9pnet 9pnet_virtio 9p; do
			find "$tmp/x/lib/modules" -name "$m.ko" -exec cp {} "$dir/modules/$m.ko.tmp" \;
			[ -s "$dir/modules/$m.ko.tmp" ] || continue
			mv "$dir/modules/$m.ko.tmp" "$dir/modules/$m.ko"
			echo "$m.ko" >> "$dir/modules/order9p"
		done
	fi
	rm -rf "$tmp"
	[ -s "$dir/modules/9p.ko" ]
}

# The power key's input stack (gpio_keys, evdev), for the nested boot's
# pwrkey case (lkvm stop's gpio-keys power button), from the very package
# the cached Image came from.  modules/orderkeys lists them in load
# order; evdev.ko last marks the set done.
fetch_keymods() {
	local dir=$cache/linux-arm64 tmp deb pkg ver m
	[ -s "$dir/modules/evdev.ko" ] && return 0
	[ -s "$dir/version" ] || return 1
	deb=$(cat "$dir/version")
	pkg=${deb%%_*} ver=${deb#*_}
	ver=${ver%_*}
	ver=${ver//%3a/:}
	tmp=$(mktemp -d "$cache/keymods.XXXXXX")
	mkdir -p "$tmp/x"
	if download "$tmp" "$pkg:arm64=$ver" &&
	   dpkg-deb --fsys-tarfile "$tmp/$deb" |
		tar -x -C "$tmp/x" --wildcards '*/keyboard/gpio_keys.ko' \
		'*/input/evdev.ko'; then
		: > "$dir/modules/orderkeys"
		# Neither depends on another module (modinfo's depends is empty
		# in Debian 12's build: input core and gpiolib are built in).
		for m in gpio_keys evdev; do
			find "$tmp/x/lib/modules" -name "$m.ko" -exec cp {} "$dir/modules/$m.ko.tmp" \;
			[ -s "$dir/modules/$m.ko.tmp" ] || continue
			mv "$dir/modules/$m.ko.tmp" "$dir/modules/$m.ko"
			echo "$m.ko" >> "$dir/modules/orderkeys"
		done
	fi
	rm -rf "$tmp"
	[ -s "$dir/modules/evdev.ko" ]
}

# A slice of the image package's module tree, laid out as on a Debian
# system, for the sandbox's module resolver tests: all of the metadata,
# but only the modules the sandbox wants (and what they need), not the
# whole 300 MB tree.
fetch_sandboxmods() {
	local dir=$cache/linux-arm64 tmp deb pkg ver
	[ -s "$dir/modtree/.done" ] && return 0
	[ -s "$dir/version" ] || return 1
	deb=$(cat "$dir/version")
	pkg=${deb%%_*} ver=${deb#*_}
	ver=${ver%_*}
	ver=${ver//%3a/:}
	tmp=$(mktemp -d "$cache/modtree.XXXXXX")
	mkdir -p "$tmp/x"
	if download "$tmp" "$pkg:arm64=$ver" &&
	   dpkg-deb --fsys-tarfile "$tmp/$deb" |
		tar -x -C "$tmp/x" --wildcards './lib/modules/*/modules.*' \
		'*/fs/9p/*' '*/net/9p/*' '*/fs/overlayfs/*' '*/fs/netfs/*' \
		'*/fs/fscache/*' '*/virtio*' '*failover.ko'; then
		rm -rf "$dir/modtree"
		echo "$deb" > "$tmp/x/.done"
		mv "$tmp/x" "$dir/modtree"
	fi
	rm -rf "$tmp"
	[ -s "$dir/modtree/.done" ]
}

# Only the nested boot's net, 9p and pwrkey cases and the sandbox module tests
# need these; they say when theirs are missing and skip.
optional() {
	"$@" || echo "arm64-fetch: $* failed; a case of tests/arm64 will skip" >&2
}

fetch_sysroot
fetch_kernel
optional fetch_netmods
optional fetch_9pmods
optional fetch_keymods
optional fetch_sandboxmods
fetch_busybox
optional fetch_slirp
