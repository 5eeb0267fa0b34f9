// SPDX-License-Identifier: GPL-2.0
/* What `lkvm run` and `lkvm sandbox` check before /dev/kvm is touched. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lkvm/arch.h"
#include "lkvm/config.h"
#include "lkvm/disk.h"

/*
 * Without -k, pick the first default kernel that exists; name every path
 * tried when none does.  Then make sure the chosen file can be opened, so
 * a typo ends in one clear line before /dev/kvm is even touched.
 */
int config_resolve_kernel(struct lkvm_config *cfg, const char *prog)
{
	const char *const *c;
	int err;

	/* --firmware replaces the kernel; the arch loader opens it. */
	if (cfg->firmware)
		return 0;
	if (!cfg->kernel) {
		for (c = arch__default_kernels(); *c; c++) {
			if (!access(*c, F_OK)) {
				cfg->kernel = *c;
				break;
			}
		}
	}
	if (!cfg->kernel) {
		fprintf(stderr, "lkvm %s: no kernel given (-k) and no default found; tried:",
			prog);
		for (c = arch__default_kernels(); *c; c++)
			fprintf(stderr, " %s", *c);
		fprintf(stderr, "\n");
		return -ENOENT;
	}
	if (access(cfg->kernel, R_OK)) {
		err = errno;
		fprintf(stderr, "  Fatal: Unable to open kernel %s: %s\n",
			cfg->kernel, strerror(err));
		return -err;
	}
	if (cfg->initrd && access(cfg->initrd, R_OK)) {
		err = errno;
		fprintf(stderr, "  Fatal: Unable to open initrd %s: %s\n",
			cfg->initrd, strerror(err));
		return -err;
	}
	return 0;
}

/*
 * Opens every disk the way virtio-blk will (read-write unless ",ro", the
 * format detected or given, a qcow2 header fully validated, a mounted
 * block device refused), so a bad image is a usage error in one line
 * before /dev/kvm is even touched.
 */
int config_check_disks(const struct lkvm_config *cfg, const char *prog)
{
	for (unsigned int i = 0; i < cfg->nr_disks; i++) {
		const struct lkvm_disk *d = &cfg->disks[i];
		struct disk_opts o = {
			.path = d->path, .format = (enum disk_format)d->format,
			.readonly = d->readonly, .direct = d->direct,
			.backing = (enum disk_backing)d->backing,
			.backing_path = d->backing_path,
		};
		struct disk *disk;
		char err[256] = "";
		int ret;

		ret = disk_open(&o, &disk, err, sizeof(err));
		if (ret) {
			fprintf(stderr, "lkvm %s: cannot open disk %s: %s\n",
				prog, d->path, err);
			return ret;
		}
		disk_close(disk);
	}
	return 0;
}
