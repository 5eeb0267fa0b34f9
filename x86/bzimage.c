// SPDX-License-Identifier: GPL-2.0
/*
 * bzImage loader for the Linux 64-bit boot protocol
 * (Documentation/arch/x86/boot.rst): the protected-mode kernel is copied
 * to 1 MiB (or pref_address if it cannot be relocated), a zero page is
 * built from the image's setup header, and the boot CPU starts in long
 * mode at load address + 0x200 with rsi pointing at the zero page.  The
 * real-mode setup code is never run, so no BIOS is needed.
 *
 * The image is untrusted: every header field is checked before use.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "arch/boot.h"
#include "lkvm/guest_mem.h"
#include "lkvm/log.h"

#define SETUP_HDR_OFFSET	0x1f1
#define BOOT_FLAG_MAGIC		0xaa55
#define HDRS_MAGIC		0x53726448	/* "HdrS" */
#define BOOT_PROTO_MIN		0x020c		/* 2.12: xloadflags */
#define SECTOR_SIZE		512
#define ENTRY64_OFFSET		0x200
#define LOADER_TYPE_UNKNOWN	0xff
#define DEFAULT_HEAP_END	0xfe00
#define DEFAULT_INITRD_MAX	0x37ffffffULL	/* before protocol 2.03 */
#define DEFAULT_CMDLINE_SIZE	255

/* Offsets in the file of the header fields needed before copying it. */
#define OFF_JUMP		0x200
#define OFF_HEADER		0x202
#define OFF_VERSION		0x206
/* The 2.12 header ends after init_size; anything shorter is bogus. */
#define HDR_MIN_END		(SETUP_HDR_OFFSET + \
				 offsetof(struct setup_header, init_size) + 4)

static u16 get16(const u8 *p)
{
	return (u16)(p[0] | p[1] << 8);
}

static u32 get32(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

bool bzimage__detect(const void *img, size_t len)
{
	return len >= OFF_HEADER + 4 &&
	       get32((const u8 *)img + OFF_HEADER) == HDRS_MAGIC;
}

/* Copies and checks the setup header; on success *hdr is usable. */
static int bzimage__read_header(const struct x86_load_args *a,
				struct setup_header *hdr, size_t *hdr_len)
{
	const char *name = a->kernel_path;
	const u8 *img = a->kernel;
	size_t len = a->kernel_len, end;
	u16 version;

	if (len < OFF_VERSION + 2) {
		pr_err("%s: file too small (%zu bytes) to be a bzImage",
		       name, len);
		return -EINVAL;
	}
	if (get16(img + SETUP_HDR_OFFSET + offsetof(struct setup_header,
						      boot_flag)) !=
	    BOOT_FLAG_MAGIC) {
		pr_err("%s: bad bzImage boot_flag (expected 0xaa55)", name);
		return -EINVAL;
	}
	if (get32(img + OFF_HEADER) != HDRS_MAGIC) {
		pr_err("%s: no \"HdrS\" signature, not a bzImage", name);
		return -EINVAL;
	}
	version = get16(img + OFF_VERSION);
	if (version < BOOT_PROTO_MIN) {
		pr_err("%s: boot protocol %u.%02u is too old, lkvm needs 2.12 or later",
		       name, version >> 8, version & 0xff);
		return -EINVAL;
	}

	/* The header ends at 0x202 + the byte at 0x201 (the jump offset). */
	end = OFF_HEADER + img[OFF_JUMP + 1];
	if (end < HDR_MIN_END) {
		pr_err("%s: setup header length 0x%zx is too short for boot protocol %u.%02u",
		       name, end - SETUP_HDR_OFFSET, version >> 8,
		       version & 0xff);
		return -EINVAL;
	}
	if (end > len) {
		pr_err("%s: file truncated inside the setup header (%zu bytes)",
		       name, len);
		return -EINVAL;
	}
	*hdr_len = min_t(size_t, end - SETUP_HDR_OFFSET, sizeof(*hdr));
	memset(hdr, 0, sizeof(*hdr));
	memcpy(hdr, img + SETUP_HDR_OFFSET, *hdr_len);

	if (!(hdr->xloadflags & XLF_KERNEL_64)) {
		pr_err("%s: kernel has no 64-bit entry point (XLF_KERNEL_64 not set in xloadflags)",
		       name);
		return -EINVAL;
	}
	if (!(hdr->loadflags & LOADED_HIGH)) {
		pr_err("%s: kernel does not load high (zImage), not supported",
		       name);
		return -EINVAL;
	}
	return 0;
}

int bzimage__load(struct guest_mem *gm, const struct x86_load_args *a,
		  struct x86_boot_state *out)
{
	const char *name = a->kernel_path;
	u64 below = x86_ram_below_hole(a->ram_size);
	u64 load, need, payload_len, setup_len, initrd_addr, limit;
	u64 cmdline_len, cmdline_max;
	struct setup_header hdr;
	struct boot_params *zp;
	size_t hdr_len;
	unsigned int setup_sects;
	int ret, n;

	ret = bzimage__read_header(a, &hdr, &hdr_len);
	if (ret)
		return ret;

	/* setup_sects == 0 means 4 for historical reasons. */
	setup_sects = hdr.setup_sects ? hdr.setup_sects : 4;
	setup_len = (u64)(setup_sects + 1) * SECTOR_SIZE;
	if (setup_len >= a->kernel_len) {
		pr_err("%s: setup_sects (%u) points past the end of the file (%zu bytes)",
		       name, setup_sects, a->kernel_len);
		return -EINVAL;
	}
	payload_len = a->kernel_len - setup_len;

	/*
	 * A relocatable kernel decompresses itself to a properly aligned
	 * address, so 1 MiB (where every loader puts it) is fine; otherwise
	 * it must sit exactly at pref_address.
	 */
	load = KERNEL_LOAD_ADDR;
	if (!hdr.relocatable_kernel) {
		load = hdr.pref_address;
		if (load < KERNEL_LOAD_ADDR || load >= below) {
			pr_err("%s: non-relocatable kernel wants pref_address 0x%llx, outside guest RAM [1 MiB, 0x%llx)",
			       name, (unsigned long long)load,
			       (unsigned long long)below);
			return -EINVAL;
		}
	}
	/* init_size covers the decompression buffer, usually > the file. */
	need = max_t(u64, payload_len, hdr.init_size);
	if (need > below - load) {
		pr_err("%s: kernel needs %llu KiB at 0x%llx but the guest has only %llu KiB of RAM there; use a bigger -m",
		       name, (unsigned long long)(need >> 10),
		       (unsigned long long)load,
		       (unsigned long long)((below - load) >> 10));
		return -EINVAL;
	}
	ret = guest_mem_write(gm, load, (const u8 *)a->kernel + setup_len,
			      payload_len);
	if (ret)
		goto fault;

	zp = guest_mem_ptr(gm, BOOT_ZERO_PAGE_ADDR, sizeof(*zp));
	if (!zp)
		goto fault;
	memset(zp, 0, sizeof(*zp));
	/* Only the header comes from the image; the rest stays zero. */
	memcpy(&zp->hdr, &hdr, hdr_len);

	zp->hdr.type_of_loader = LOADER_TYPE_UNKNOWN;
	zp->hdr.loadflags |= CAN_USE_HEAP;
	zp->hdr.loadflags &= ~KASLR_FLAG;	/* set by the kernel itself */
	zp->hdr.heap_end_ptr = DEFAULT_HEAP_END;
	zp->hdr.code32_start = (u32)load;
	/* Never let the image point the kernel at setup_data we did not write. */
	zp->hdr.setup_data = 0;
	zp->hdr.hardware_subarch = 0;
	zp->hdr.hardware_subarch_data = 0;

	/* cmdline_size excludes the terminating NUL. */
	cmdline_max = (hdr.cmdline_size ? hdr.cmdline_size :
		       DEFAULT_CMDLINE_SIZE) + 1ULL;
	ret = boot__write_cmdline(gm, a->cmdline, cmdline_max, &cmdline_len);
	if (ret == -E2BIG)
		return ret;
	if (ret)
		goto fault;
	zp->hdr.cmd_line_ptr = (u32)BOOT_CMDLINE_ADDR;

	/* Initrd below initrd_addr_max (inclusive) and below the PCI hole. */
	limit = hdr.initrd_addr_max ? (u64)hdr.initrd_addr_max + 1 :
				      DEFAULT_INITRD_MAX + 1;
	limit = min_t(u64, limit, below);
	ret = boot__place_initrd(gm, a, load + need, limit, &initrd_addr);
	if (ret)
		return ret;
	zp->hdr.ramdisk_image = (u32)initrd_addr;
	zp->hdr.ramdisk_size = initrd_addr ? (u32)a->initrd_len : 0;

	n = e820__build(a->ram_size, zp->e820_table,
			E820_MAX_ENTRIES_ZEROPAGE);
	if (n < 0) {
		pr_err("cannot build the e820 map for %llu bytes of RAM",
		       (unsigned long long)a->ram_size);
		return n;
	}
	zp->e820_entries = (u8)n;

	ret = boot_tables__setup(gm, out);
	if (ret)
		goto fault;
	out->mode = X86_BOOT_LONG64;
	out->entry = load + ENTRY64_OFFSET;
	out->arg = BOOT_ZERO_PAGE_ADDR;
	out->stack = BOOT_STACK_TOP;
	out->cs = BOOT_CS64;
	pr_debug("bzImage %s: protocol %u.%02u, %llu bytes at 0x%llx, cmdline %llu bytes, initrd at 0x%llx",
		 name, hdr.version >> 8, hdr.version & 0xff,
		 (unsigned long long)payload_len, (unsigned long long)load,
		 (unsigned long long)cmdline_len,
		 (unsigned long long)initrd_addr);
	return 0;

fault:
	/* Only reachable if guest RAM is smaller than the low-memory map. */
	pr_err("%s: guest RAM too small for the boot structures", name);
	return -EINVAL;
}
