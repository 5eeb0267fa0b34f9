// SPDX-License-Identifier: GPL-2.0
/*
 * arch__load_kernel(): finds and reads the kernel and initrd, picks the
 * boot protocol from the image format and leaves the result in
 * kvm->arch.boot for the boot CPU:
 *
 *   bzImage ("HdrS" at 0x202)       -> 64-bit boot protocol (bzimage.c)
 *   ELF with a PVH entry note       -> PVH, 32-bit entry     (pvh.c)
 *   anything else                   -> flat real-mode binary (flat.c)
 *
 * The command line is kvmtool's: X86_DEFAULT_CMDLINE (X86_VIRTIO_CMDLINE
 * with --console virtio) so a stock kernel talks on the console, the root
 * disk, the devices Linux cannot find by itself (virtio-mmio, from
 * kvm->arch.extra_cmdline), then -p appended; see kvm/cmdline.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch/acpi.h"
#include "arch/boot.h"
#include "lkvm/kvm.h"
#include "lkvm/log.h"

/*
 * Reads a whole regular file of at most @max bytes.  @what ("kernel",
 * "initrd") names it in the one error line printed on failure.
 */
static int read_file(const char *what, const char *path, u64 max,
		     void **data, size_t *len)
{
	struct stat st;
	size_t done = 0;
	u8 *buf = NULL;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		pr_err("Fatal: Unable to open %s %s: %s", what, path,
		       strerror(errno));
		return ret;
	}
	if (fstat(fd, &st)) {
		ret = -errno;
		pr_err("Fatal: Unable to stat %s %s: %s", what, path,
		       strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		pr_err("Fatal: %s %s is not a regular file", what, path);
		ret = -EINVAL;
		goto out;
	}
	if ((u64)st.st_size > max) {
		pr_err("Fatal: %s %s (%lld bytes) is larger than guest RAM",
		       what, path, (long long)st.st_size);
		ret = -EINVAL;
		goto out;
	}
	/* +1 so that an empty file still gets a valid buffer. */
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		ret = -ENOMEM;
		pr_err("Fatal: no memory to read %s %s", what, path);
		goto out;
	}
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			pr_err("Fatal: Unable to read %s %s: %s", what, path,
			       n < 0 ? strerror(errno) : "file shrank");
			goto out;
		}
		done += (size_t)n;
	}
	*data = buf;
	*len = done;
	buf = NULL;
	ret = 0;
out:
	free(buf);
	close(fd);
	return ret;
}

/* -k, or the first default kernel that exists. */
static const char *boot__kernel_path(const struct lkvm_config *cfg)
{
	const char *const *k = arch__default_kernels();
	char tried[512] = "";
	size_t n = 0;

	if (cfg->kernel)
		return cfg->kernel;
	for (; *k; k++) {
		if (!access(*k, R_OK))
			return *k;
		n += (size_t)snprintf(tried + n, n < sizeof(tried) ?
				      sizeof(tried) - n : 0, "%s%s",
				      n ? ", " : "", *k);
		if (n >= sizeof(tried))
			n = sizeof(tried) - 1;
	}
	pr_err("Fatal: no kernel given (-k) and no default kernel found; tried %s",
	       tried);
	return NULL;
}

static int boot__write_mptable(struct kvm *kvm)
{
	struct mptable_cpu_info info = { 0 };
	struct kvm_cpuid_entry2 *e = NULL;
	int ret;

	if (kvm->arch.cpuid)
		e = cpuid__find(kvm->arch.cpuid, 1, 0);
	if (e) {
		info.signature = e->eax;
		info.features = e->edx;
	}
	ret = mptable__write(&kvm->mem, kvm->cfg->nr_cpus, &info);
	if (ret)
		pr_err("cannot write the MP table for %u vCPUs: error %d",
		       kvm->cfg->nr_cpus, ret);
	return ret;
}

/*
 * ACPI tables next to the MP table: kernels without MP table support
 * need them to see more than one CPU.  A bzImage also gets the RSDP in
 * its zero page; PVH start_info carries it already (pvh.c).
 */
static int boot__write_acpi(struct kvm *kvm)
{
	const struct x86_boot_state *bs = &kvm->arch.boot;
	int ret;

	ret = acpi__write(&kvm->mem, kvm->cfg->nr_cpus);
	if (!ret && bs->mode == X86_BOOT_LONG64)
		ret = acpi__set_boot_params_rsdp(&kvm->mem, bs->arg);
	if (ret)
		pr_err("cannot write the ACPI tables for %u vCPUs: error %d",
		       kvm->cfg->nr_cpus, ret);
	return ret;
}

static char *boot__cmdline(struct kvm *kvm)
{
	const struct lkvm_config *cfg = kvm->cfg;

	return cmdline__build(cfg, cfg->console == CONSOLE_VIRTIO ?
			      X86_VIRTIO_CMDLINE : X86_DEFAULT_CMDLINE,
			      kvm->arch.extra_cmdline);
}

int arch__load_kernel(struct kvm *kvm)
{
	const struct lkvm_config *cfg = kvm->cfg;
	struct x86_load_args a = {
		.ram_size = kvm->ram_size,
		.initrd_path = cfg->initrd,
	};
	void *kernel = NULL, *initrd = NULL;
	char *cmdline;
	int ret;

	cmdline = boot__cmdline(kvm);
	if (!cmdline) {
		pr_err("Fatal: no memory for the kernel command line");
		return -ENOMEM;
	}
	a.cmdline = cmdline;
	a.kernel_path = boot__kernel_path(cfg);
	if (!a.kernel_path) {
		ret = -ENOENT;
		goto out;
	}
	ret = read_file("kernel", a.kernel_path, kvm->ram_size, &kernel,
			&a.kernel_len);
	if (ret)
		goto out;
	a.kernel = kernel;
	if (cfg->initrd) {
		ret = read_file("initrd", cfg->initrd, kvm->ram_size, &initrd,
				&a.initrd_len);
		if (ret)
			goto out;
		a.initrd = initrd;
	}

	if (bzimage__detect(a.kernel, a.kernel_len)) {
		ret = bzimage__load(&kvm->mem, &a, &kvm->arch.boot);
	} else if (elf__detect(a.kernel, a.kernel_len)) {
		ret = pvh__load(&kvm->mem, &a, &kvm->arch.boot);
	} else {
		if (cfg->params)
			pr_warn("%s: flat binaries get no command line, ignoring -p",
				a.kernel_path);
		ret = flat__load(&kvm->mem, &a, &kvm->arch.boot);
	}
	if (!ret)
		ret = boot__write_mptable(kvm);
	if (!ret)
		ret = boot__write_acpi(kvm);
out:
	free(kernel);
	free(initrd);
	free(cmdline);
	return ret;
}
