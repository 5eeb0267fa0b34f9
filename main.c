// SPDX-License-Identifier: GPL-2.0
/* lkvm's command dispatcher: `lkvm run|version|help`. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lkvm/arch.h"
#include "lkvm/config.h"
#include "lkvm/disk.h"
#include "lkvm/exit.h"
#include "lkvm/kvm.h"

#ifndef LKVM_VERSION
#define LKVM_VERSION "unknown"
#endif

static void usage(FILE *f)
{
	fprintf(f,
"usage: lkvm [--version] [--help] <command> [<args>]\n"
"\n"
"The most commonly used lkvm commands are:\n"
"   run        Start a virtual machine\n"
"   version    Print the version of the lkvm binary\n"
"   help       Show this text, or `lkvm help run` for run's options\n"
"\n"
"See 'lkvm help <command>' for more information on a specific command.\n");
}

/*
 * Without -k, pick the first default kernel that exists; name every path
 * tried when none does.  Then make sure the chosen file can be opened, so
 * a typo ends in one clear line before /dev/kvm is even touched.
 */
static int resolve_kernel(struct lkvm_config *cfg)
{
	const char *const *c;

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
		fprintf(stderr, "lkvm run: no kernel given (-k) and no default found; tried:");
		for (c = arch__default_kernels(); *c; c++)
			fprintf(stderr, " %s", *c);
		fprintf(stderr, "\n");
		return -ENOENT;
	}
	if (access(cfg->kernel, R_OK)) {
		fprintf(stderr, "  Fatal: Unable to open kernel %s: %s\n",
			cfg->kernel, strerror(errno));
		return -ENOENT;
	}
	if (cfg->initrd && access(cfg->initrd, R_OK)) {
		fprintf(stderr, "  Fatal: Unable to open initrd %s: %s\n",
			cfg->initrd, strerror(errno));
		return -ENOENT;
	}
	return 0;
}

/*
 * Opens every disk the way virtio-blk will (read-write unless ",ro", the
 * format detected or given, a qcow2 header fully validated, a mounted
 * block device refused), so a bad image is a usage error in one line
 * before /dev/kvm is even touched.
 */
static int check_disks(const struct lkvm_config *cfg)
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
			fprintf(stderr, "lkvm run: cannot open disk %s: %s\n",
				d->path, err);
			return ret;
		}
		disk_close(disk);
	}
	return 0;
}

static int cmd_run(int argc, char **argv)
{
	struct lkvm_config cfg;
	int ret;

	ret = config_parse_run(&cfg, argc, argv);
	if (ret < 0)
		return LKVM_EXIT_USAGE;
	if (ret > 0)
		return 0;
	if (resolve_kernel(&cfg) || check_disks(&cfg))
		return LKVM_EXIT_USAGE;
	return kvm__run(&cfg);
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	/*
	 * A closed stdout (`lkvm run ... | head`) or a guest's slirp socket
	 * whose peer has gone must not kill the VMM with the terminal left
	 * raw: writes see EPIPE instead, and their callers treat it as lost
	 * output.  Children (tap scripts) get the default back before exec.
	 */
	signal(SIGPIPE, SIG_IGN);
	if (!cmd) {
		usage(stderr);
		return LKVM_EXIT_USAGE;
	}
	if (!strcmp(cmd, "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("lkvm version %s\n", LKVM_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") ||
	    !strcmp(cmd, "-h")) {
		if (argc > 2 && !strcmp(argv[2], "run"))
			config_print_run_help(stdout);
		else
			usage(stdout);
		return 0;
	}
	fprintf(stderr, "lkvm: '%s' is not an lkvm command. See 'lkvm --help'.\n",
		cmd);
	return LKVM_EXIT_USAGE;
}
