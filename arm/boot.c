// SPDX-License-Identifier: GPL-2.0
/*
 * arch__load_kernel() for arm64: loads an Image (Documentation/arch/
 * arm64/booting.rst; gzip'ed files are inflated on the way in), a raw
 * binary without Image header at RAM + 0x80000 as kvmtool does (arm/
 * image.c tells them apart) or, with --firmware, a raw binary at the
 * start of RAM; then the initrd and the device tree, which go at the top
 * of RAM:
 *
 *   RAM base + text_offset   kernel (image_size bytes incl. BSS; a raw
 *                            binary: 0x80000 and its file size)
 *   ...                      free
 *   below the DTB            initrd, page aligned
 *   last 2 MiB block         DTB (must not cross a 2 MiB boundary)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libfdt.h>
#include <zlib.h>

#include "lkvm/arm64-image.h"
#include "lkvm/kvm.h"
#include "lkvm/log.h"

#define SZ_2M_ALIGN		(2ULL << 20)
#define FDT_MAX_SIZE		0x10000
#define PAGE_SIZE_4K		0x1000ULL

#define ALIGN_DOWN_U64(x, a)	((x) & ~((u64)(a) - 1))

/*
 * Reads @path (gzip or plain, zlib tells them apart) into guest memory at
 * [@gpa, @limit).  Returns the number of bytes, or -errno.
 */
static long long load_file(struct kvm *kvm, const char *path, u64 gpa,
			   u64 limit, const char *what)
{
	gzFile f = gzopen(path, "rb");
	long long total = 0;
	int n;

	if (!f) {
		pr_err("cannot open %s %s: %s", what, path, strerror(errno));
		return -ENOENT;
	}
	gzbuffer(f, 1 << 20);
	for (;;) {
		u64 room = limit - (gpa + (u64)total);
		unsigned int chunk = room > (1u << 20) ? 1u << 20 : (unsigned int)room;
		void *dst;

		if (!chunk) {
			/* Full: fine only if nothing is left. */
			u8 probe;

			if (gzread(f, &probe, 1) == 0)
				break;
			pr_err("%s %s does not fit in guest RAM", what, path);
			gzclose(f);
			return -EFBIG;
		}
		dst = guest_mem_ptr(&kvm->mem, gpa + (u64)total, chunk);
		if (!dst) {
			gzclose(f);
			return -EFAULT;
		}
		n = gzread(f, dst, chunk);
		if (n < 0) {
			int errnum;

			pr_err("cannot read %s %s: %s", what, path,
			       gzerror(f, &errnum));
			gzclose(f);
			return -EIO;
		}
		if (n == 0)
			break;
		total += n;
	}
	gzclose(f);
	return total;
}

static int load_image(struct kvm *kvm, const char *path, u64 limit,
		      u64 *kernel_end, bool *is_linux)
{
	struct arm64_kernel_layout lay;
	u8 hdr[ARM64_IMAGE_HDR_SIZE];
	u64 load, image_size;
	long long n;
	gzFile f;
	int got;

	f = gzopen(path, "rb");
	if (!f) {
		pr_err("cannot open kernel %s: %s", path, strerror(errno));
		return -ENOENT;
	}
	got = gzread(f, hdr, sizeof(hdr));
	gzclose(f);
	if (got < 0) {
		pr_err("cannot read kernel %s", path);
		return -EIO;
	}
	if (arm64_kernel_classify(hdr, (size_t)got, &lay)) {
		pr_err("%s is %s", path, lay.note);
		return -ENOEXEC;
	}
	if (lay.note)
		pr_warn("%s is %s", path, lay.note);
	/* RAM starts 2 MiB aligned, so base + text_offset is what it wants. */
	load = ARM_RAM_BASE + lay.text_offset;
	n = load_file(kvm, path, load, limit, "kernel");
	if (n < 0)
		return (int)n;
	image_size = lay.image_size;
	if (image_size < (u64)n)
		image_size = (u64)n;
	if (arm64_kernel_end(load, image_size, limit, kernel_end)) {
		pr_err("kernel %s needs %llu MiB including BSS: more guest RAM please",
		       path, (unsigned long long)(image_size >> 20) + 1);
		return -EFBIG;
	}
	kvm->arch.entry = load;
	*is_linux = lay.kind == ARM64_KERNEL_IMAGE;
	pr_info("%s: %lld bytes at %#llx, image_size %#llx",
		lay.kind == ARM64_KERNEL_RAW ? "raw binary (no Image header)" :
		"kernel Image", n, (unsigned long long)load,
		(unsigned long long)image_size);
	return 0;
}

static int load_initrd(struct kvm *kvm, const char *path, u64 low, u64 top)
{
	struct stat st;
	u64 start;
	void *dst;
	int fd, ret = 0;
	off_t done = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		pr_err("cannot open initrd %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -ENOENT;
	}
	if ((u64)st.st_size > top - low) {
		pr_err("initrd %s (%lld bytes) does not fit between the kernel and the DTB",
		       path, (long long)st.st_size);
		close(fd);
		return -EFBIG;
	}
	start = ALIGN_DOWN_U64(top - (u64)st.st_size, PAGE_SIZE_4K);
	dst = guest_mem_ptr(&kvm->mem, start, (u64)st.st_size);
	if (start < low || !dst) {
		close(fd);
		return -EFBIG;
	}
	while (done < st.st_size) {
		ssize_t r = read(fd, (u8 *)dst + done, (size_t)(st.st_size - done));

		if (r <= 0) {
			pr_err("cannot read initrd %s: %s", path,
			       r ? strerror(errno) : "short file");
			ret = -EIO;
			break;
		}
		done += r;
	}
	close(fd);
	kvm->arch.initrd_start = start;
	kvm->arch.initrd_size = (u64)st.st_size;
	return ret;
}

static const char *arm__kernel_path(const struct kvm *kvm)
{
	const char *const *k;

	if (kvm->cfg->kernel)
		return kvm->cfg->kernel;
	for (k = arch__default_kernels(); *k; k++)
		if (!access(*k, R_OK))
			return *k;
	pr_err("no kernel given (-k) and none of the defaults exist:");
	for (k = arch__default_kernels(); *k; k++)
		pr_err("  %s", *k);
	return NULL;
}

static int write_dtb_file(const char *path, const void *fdt, u32 size)
{
	FILE *f = fopen(path, "wbe");
	int ret = 0;

	if (!f || fwrite(fdt, 1, size, f) != size)
		ret = -EIO;
	if (f && fclose(f))
		ret = -EIO;
	if (ret)
		pr_err("cannot write the DTB to %s: %s", path, strerror(errno));
	return ret;
}

int arch__load_kernel(struct kvm *kvm)
{
	const struct lkvm_config *cfg = kvm->cfg;
	u64 ram_end = ARM_RAM_BASE + kvm->ram_size;
	u64 dtb = ALIGN_DOWN_U64(ram_end - FDT_MAX_SIZE, SZ_2M_ALIGN);
	const char *kernel;
	char *cmdline;
	u64 kernel_end = ARM_RAM_BASE;
	static u8 fdt[FDT_MAX_SIZE];
	bool is_linux = false;
	long long n;
	int ret;

	if (dtb < ARM_RAM_BASE + SZ_2M_ALIGN) {
		pr_err("%llu MiB of RAM is too little for an arm64 guest",
		       (unsigned long long)(kvm->ram_size >> 20));
		return -EINVAL;
	}
	if (cfg->firmware) {
		n = load_file(kvm, cfg->firmware, ARM_RAM_BASE, dtb,
			      "firmware");
		if (n < 0)
			return (int)n;
		kvm->arch.entry = ARM_RAM_BASE;
		kernel_end = ARM_RAM_BASE + (u64)n;
	} else {
		kernel = arm__kernel_path(kvm);
		if (!kernel)
			return -ENOENT;
		ret = load_image(kvm, kernel, dtb, &kernel_end, &is_linux);
		if (ret)
			return ret;
	}
	if (cfg->initrd) {
		ret = load_initrd(kvm, cfg->initrd, kernel_end, dtb);
		if (ret)
			return ret;
	}

	cmdline = fdt__bootargs(kvm);
	if (!cmdline)
		return -ENOMEM;
	/*
	 * Linux copies at most COMMAND_LINE_SIZE - 1 bytes of bootargs and
	 * drops the rest without a word, and what comes last is -p: refuse,
	 * as x86 does.  Other payloads read /chosen themselves.
	 */
	if (is_linux && strlen(cmdline) >= ARM64_COMMAND_LINE_SIZE) {
		pr_err("kernel command line is %zu bytes; an arm64 kernel accepts at most %d",
		       strlen(cmdline), ARM64_COMMAND_LINE_SIZE - 1);
		free(cmdline);
		return -E2BIG;
	}
	ret = fdt__build(kvm, fdt, sizeof(fdt), cmdline);
	free(cmdline);
	if (ret)
		return ret;
	if (cfg->dump_dtb) {
		ret = write_dtb_file(cfg->dump_dtb, fdt, fdt_totalsize(fdt));
		if (ret)
			return ret;
	}
	ret = guest_mem_write(&kvm->mem, dtb, fdt, fdt_totalsize(fdt));
	if (ret)
		return ret;
	kvm->arch.dtb_addr = dtb;
	return 0;
}
