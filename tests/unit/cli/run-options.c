// SPDX-License-Identifier: GPL-2.0
/* `lkvm run` option parsing: accepted forms and one-line rejections. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lkvm/config.h"
#include "lkvm/virtio.h"
#include "tap.h"

/* --debug-exit is an x86 I/O port; arm64 refuses it (arch__check_config). */
#ifdef __x86_64__
#define DEBUG_EXIT_OPT	"--debug-exit"
#define HAVE_DEBUG_EXIT	true
#else
#define DEBUG_EXIT_OPT	"--debug"
#define HAVE_DEBUG_EXIT	false
#endif

#define ARGC(a) ({ int __n = 0; while ((a)[__n]) __n++; __n; })
#define PARSE_ERR(cfg, ...)                                      \
	({                                                       \
		char **__a = ARGV(__VA_ARGS__);                  \
		parse_err(cfg, ARGC(__a), __a);                  \
	})
#define ARGV(...) ((char *[]){ "run", __VA_ARGS__, NULL })

static int parse(struct lkvm_config *cfg, int argc, char **argv)
{
	int ret;

	/* Rejections print one line to stderr; keep TAP output clean. */
	fflush(stderr);
	ret = config_parse_run(cfg, argc, argv);
	return ret;
}

/* What the last PARSE_ERR() wrote to stderr. */
static char errbuf[512];

static int parse_err(struct lkvm_config *cfg, int argc, char **argv)
{
	FILE *tmp = tmpfile();
	int saved, ret;
	size_t n;

	fflush(stderr);
	saved = dup(2);
	dup2(fileno(tmp), 2);
	ret = config_parse_run(cfg, argc, argv);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	n = fread(errbuf, 1, sizeof(errbuf) - 1, tmp);
	errbuf[n] = 0;
	fclose(tmp);
	return ret;
}

/* One line that says @what. */
static bool one_line(const char *what)
{
	char *nl = strchr(errbuf, '\n');

	return nl && !nl[1] && strstr(errbuf, what);
}

#define PARSE(cfg, ...)                                          \
	({                                                       \
		char **__a = ARGV(__VA_ARGS__);                  \
		int __n = 0;                                     \
		while (__a[__n])                                 \
			__n++;                                   \
		parse(cfg, __n, __a);                            \
	})

int main(void)
{
	struct lkvm_config cfg;
	u64 sz;

	tap_plan(133);

	is_int(PARSE(&cfg, "-k", "bz"), 0, "-k alone");
	is_str(cfg.kernel, "bz", "kernel set");
	is_int(cfg.ram_size, LKVM_DEFAULT_RAM, "default RAM");
	is_int(cfg.nr_cpus, 1, "default one vCPU");
	ok(!cfg.params && !cfg.initrd && !cfg.debug_exit, "defaults off");
	ok(cfg.name && !strncmp(cfg.name, "guest-", 6), "default name guest-<pid>");

	is_int(PARSE(&cfg, "--kernel", "k", "--initrd", "i", "--params",
		     "console=ttyS0 quiet", "--mem", "64M", "--cpus", "4",
		     "--name", "vm1", "--console", "serial", "--debug",
		     "--loglevel", "debug", DEBUG_EXIT_OPT),
	       0, "every long option");
	ok(cfg.kernel && cfg.initrd && cfg.params && cfg.name, "strings set");
	is_str(cfg.params, "console=ttyS0 quiet", "params verbatim");
	is_int(cfg.ram_size, 64 * SZ_1M, "--mem 64M");
	is_int(cfg.nr_cpus, 4, "--cpus 4");
	ok(cfg.debug && cfg.debug_exit == HAVE_DEBUG_EXIT &&
	   cfg.loglevel == LOG_DEBUG, "flags and loglevel");

	is_int(PARSE(&cfg, "-m", "2G", "-c", "2", "-p", "x", "-i", "i", "bz"),
	       0, "short options and positional kernel");
	is_str(cfg.kernel, "bz", "positional kernel");
	is_int(cfg.ram_size, 2 * SZ_1G, "-m 2G");
	is_int(PARSE(&cfg, "bz", "-m", "512"), 0, "options after the kernel");
	is_int(cfg.ram_size, 512 * SZ_1M, "bare number is MiB");

	is_int(PARSE(&cfg, "--bogus"), -EINVAL, "unknown long option");
	is_int(PARSE(&cfg, "-z"), -EINVAL, "unknown short option");
	is_int(PARSE(&cfg, "-k"), -EINVAL, "missing value");
	is_int(PARSE(&cfg, "-m", "lots"), -EINVAL, "garbage size");
	is_int(PARSE(&cfg, "-m", "1M"), -EINVAL, "size below the minimum");
	is_int(PARSE(&cfg, "-m", "-64M"), -EINVAL, "negative size");
	is_int(PARSE(&cfg, "-c", "0"), -EINVAL, "zero vCPUs");
	is_int(PARSE(&cfg, "-c", "256"), -EINVAL, "too many vCPUs");
	is_int(PARSE(&cfg, "-c", "2x"), -EINVAL, "vCPU count with junk");
	is_int(PARSE(&cfg, "--console", "hvc"), -EINVAL, "unknown console");
	is_int(PARSE(&cfg, "--loglevel", "loud"), -EINVAL, "unknown loglevel");
	is_int(PARSE(&cfg, "-k", "a", "b"), -EINVAL,
	       "positional kernel after -k");
	is_int(PARSE(&cfg, "a", "b"), -EINVAL, "two positional arguments");
	is_int(PARSE(&cfg, "--cpu-features", "-nosuchfeature"), -EINVAL,
	       "unknown CPU feature");

	/* virtio devices */
	is_int(PARSE(&cfg, "bz"), 0, "no devices");
	ok(!cfg.nr_disks && !cfg.rng && cfg.console == CONSOLE_SERIAL &&
	   cfg.virtio_transport == VIRTIO_TRANSPORT_PCI,
	   "defaults: no disks, no rng, serial console, pci transport");
	is_int(PARSE(&cfg, "-d", "a.img", "--disk", "/x/b.img,ro", "--rng",
		     "--console", "virtio", "bz"), 0, "disks, rng, console");
	is_int(cfg.nr_disks, 2, "two disks");
	ok(cfg.disks[0].path && !cfg.disks[0].readonly, "first disk rw");
	is_str(cfg.disks[0].path, "a.img", "first disk path");
	is_str(cfg.disks[1].path, "/x/b.img", "',ro' split off the path");
	ok(cfg.disks[1].readonly, "second disk read-only");
	ok(cfg.rng && cfg.console == CONSOLE_VIRTIO, "--rng, --console virtio");
	is_int(PARSE(&cfg, "--virtio-transport", "mmio"), 0, "transport mmio");
	is_int(cfg.virtio_transport, VIRTIO_TRANSPORT_MMIO, "mmio stored");
	is_int(PARSE(&cfg, "--virtio-transport", "mmio-legacy"), 0,
	       "transport mmio-legacy");
	is_int(cfg.virtio_transport, VIRTIO_TRANSPORT_MMIO_LEGACY,
	       "mmio-legacy stored");
	is_int(PARSE(&cfg, "--virtio-transport", "pci-legacy"), 0,
	       "transport pci-legacy");
	is_int(cfg.virtio_transport, VIRTIO_TRANSPORT_PCI_LEGACY,
	       "pci-legacy stored");
	is_int(PARSE(&cfg, "--virtio-transport", "pci"), 0, "transport pci");
	is_int(cfg.virtio_transport, VIRTIO_TRANSPORT_PCI, "pci stored");
	is_int(PARSE(&cfg, "--virtio-transport", "pci-modern"), 0,
	       "transport pci-modern");
	is_int(cfg.virtio_transport, VIRTIO_TRANSPORT_PCI_MODERN,
	       "pci-modern stored");
	is_int(PARSE(&cfg, "--virtio-transport", "usb"), -EINVAL,
	       "unknown transport");
	is_int(PARSE(&cfg, "-d", "a.img,rw"), -EINVAL, "unknown disk option");
	is_int(PARSE(&cfg, "-d", "a.img,ro,"), -EINVAL, "empty disk option");
	is_int(PARSE(&cfg, "-d", ",ro"), -EINVAL, "disk without a path");
	is_int(PARSE(&cfg, "-d"), -EINVAL, "-d without a value");
	is_int(PARSE(&cfg, "-d", "1", "-d", "2", "-d", "3", "-d", "4", "-d",
		     "5", "-d", "6", "-d", "7", "-d", "8", "-d", "9", "-d",
		     "10", "-d", "11", "-d", "12", "-d", "13", "-d", "14",
		     "-d", "15", "-d", "16"), 0, "16 disks");
	is_int(PARSE(&cfg, "-d", "1", "-d", "2", "-d", "3", "-d", "4", "-d",
		     "5", "-d", "6", "-d", "7", "-d", "8", "-d", "9", "-d",
		     "10", "-d", "11", "-d", "12", "-d", "13", "-d", "14",
		     "-d", "15", "-d", "16", "-d", "17"), -EINVAL,
	       "17 disks refused");
	{
		char dir[] = "/tmp/lkvm-test-9p-XXXXXX", file[64], tag65[66];
		char arg[128], arg2[128];

		ok(mkdtemp(dir) != NULL, "--9p: a directory to share");
		snprintf(file, sizeof(file), "%s/f", dir);
		fclose(fopen(file, "w"));
		snprintf(arg, sizeof(arg), "%s,hostshare", dir);
		snprintf(arg2, sizeof(arg2), "%s,other,ro", dir);
		is_int(PARSE(&cfg, "--9p", arg, "--9p", arg2), 0,
		       "--9p DIR,TAG and DIR,TAG,ro");
		is_int(cfg.nr_p9, 2, "two shares");
		ok(!strcmp(cfg.p9[0].dir, dir) &&
		   !strcmp(cfg.p9[0].tag, "hostshare") && !cfg.p9[0].readonly,
		   "first: dir and tag split, read-write");
		ok(!strcmp(cfg.p9[1].tag, "other") && cfg.p9[1].readonly,
		   "second: ',ro' read-only");
		is_int(PARSE(&cfg, "--9p", dir), 0, "--9p DIR alone (kvmtool)");
		is_str(cfg.p9[0].tag, "kvm_9p", "kvmtool's default tag");
		snprintf(arg, sizeof(arg), "%s,ro", dir);
		is_int(PARSE(&cfg, "--9p", arg), 0, "--9p DIR,ro");
		ok(!strcmp(cfg.p9[0].tag, "ro") && !cfg.p9[0].readonly,
		   "the second field is the tag, as in kvmtool");
		memset(tag65, 't', 64);
		tag65[64] = 0;
		snprintf(arg, sizeof(arg), "%s,%s", dir, tag65);
		is_int(PARSE(&cfg, "--9p", arg), 0, "a 64-byte tag");
		tag65[64] = 't';
		tag65[65] = 0;
		snprintf(arg, sizeof(arg), "%s,%s", dir, tag65);
		is_int(PARSE_ERR(&cfg, "--9p", arg), -EINVAL, "a 65-byte tag");
		ok(one_line("the mount tag is 65 bytes, at most 64"),
		   "... one line naming the limit");
		is_int(PARSE_ERR(&cfg, "--9p", "/nonexistent/lkvm-dir,t"),
		       -EINVAL, "missing directory");
		ok(one_line("/nonexistent/lkvm-dir: no such directory"),
		   "... one line naming it");
		snprintf(arg, sizeof(arg), "%s,t", file);
		is_int(PARSE_ERR(&cfg, "--9p", arg), -EINVAL, "a file, not a directory");
		ok(one_line("/f: not a directory"), "... one line saying so");
		snprintf(arg, sizeof(arg), "%s,", dir);
		is_int(PARSE_ERR(&cfg, "--9p", arg), -EINVAL, "empty tag");
		ok(one_line("the mount tag is empty"), "... one line saying so");
		snprintf(arg, sizeof(arg), "%s,,ro", dir);
		is_int(PARSE_ERR(&cfg, "--9p", arg), -EINVAL, "empty tag before ,ro");
		snprintf(arg, sizeof(arg), "%s,a", dir);
		snprintf(arg2, sizeof(arg2), "%s,a,ro", dir);
		is_int(PARSE_ERR(&cfg, "--9p", arg, "--9p", arg2), -EINVAL,
		       "duplicate tag");
		ok(one_line("mount tag 'a' is already used"),
		   "... one line naming the tag");
		snprintf(arg, sizeof(arg), "%s,a,rw", dir);
		is_int(PARSE_ERR(&cfg, "--9p", arg), -EINVAL, "unknown option");
		ok(one_line("unknown --9p option 'rw'"), "... one line naming it");
		is_int(PARSE_ERR(&cfg, "--9p", ",a"), -EINVAL, "no directory");
		is_int(PARSE_ERR(&cfg, "--9p", dir, "--9p", dir), -EINVAL,
		       "two shares with the default tag");
		snprintf(arg, sizeof(arg), "%s,t", dir);
		{
			char tags[9][64];
			char *argv[20] = { "run" };

			for (int i = 0; i < 9; i++) {
				snprintf(tags[i], sizeof(tags[i]), "%s,t%d", dir, i);
				argv[1 + 2 * i] = "--9p";
				argv[2 + 2 * i] = tags[i];
			}
			is_int(parse(&cfg, 17, argv), 0, "8 shares");
			is_int(parse_err(&cfg, 19, argv), -EINVAL,
			       "a ninth refused");
			ok(one_line("too many --9p shares (at most 8)"),
			   "... one line with the limit");
		}
		unlink(file);
		rmdir(dir);
	}
	{
		char *help = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&help, &len);

		config_print_run_help(f);
		fclose(f);
		ok(help && strstr(help, "--disk") && strstr(help, "--rng") &&
		   strstr(help, "--virtio-transport") &&
		   strstr(help, "'virtio'") && strstr(help, "mmio-legacy") &&
		   strstr(help, "--9p <dir>[,<tag>[,ro]]"),
		   "help documents the virtio options");
		free(help);
	}

	is_int(config_parse_size("64M", &sz), 0, "64M");
	is_int(sz, 64 * SZ_1M, "64M in bytes");
	is_int(config_parse_size("1GiB", &sz) == 0 && sz == SZ_1G, 1, "1GiB");
	is_int(config_parse_size("4096K", &sz) == 0 && sz == 4 * SZ_1M, 1,
	       "4096K");
	is_int(config_parse_size("99999999999999999999", &sz), -EINVAL,
	       "overflowing number");
	is_int(config_parse_size("17179869184T", &sz), -EINVAL,
	       "overflowing shift");
	is_int(config_parse_size("64Mx", &sz), -EINVAL, "trailing junk");
	/* kvmtool's -m: B is bytes, P petabytes. */
	is_int(config_parse_size("268435456B", &sz) == 0 && sz == 256 * SZ_1M,
	       1, "268435456B is bytes");
	is_int(config_parse_size("1P", &sz) == 0 && sz == 1ULL << 50, 1, "1P");
	is_int(PARSE(&cfg, "-m", "134217728B"), 0, "-m with a B suffix");
	is_int(cfg.ram_size, 128 * SZ_1M, "-m 134217728B is 128 MiB");
	is_int(PARSE(&cfg, "-m", "2048B"), -EINVAL, "-m 2048B is below 2M");
	/*
	 * KVM maps RAM in host pages: a size that is not a whole number of
	 * them must be a usage error here, not a KVM_SET_USER_MEMORY_REGION
	 * EINVAL (status 4) after the VM is half built.
	 */
	is_int(PARSE(&cfg, "-m", "134217727B"), -EINVAL,
	       "-m 134217727B (not whole pages) refused");
	is_int(PARSE(&cfg, "-m", "4097K"), -EINVAL,
	       "-m 4097K (not whole pages) refused");
	is_int(PARSE(&cfg, "-m", "134221824B"), 0,
	       "-m 134221824B (128M + one 4K page) accepted");

	/* kvmtool's --no-<flag> */
	is_int(PARSE(&cfg, "--rng", "--debug", "--debug-exit", "--no-rng",
		     "--no-debug", "--no-debug-exit"), 0, "--no-<flag> accepted");
	ok(!cfg.rng && !cfg.debug && !cfg.debug_exit, "--no-<flag> clears it");
	is_int(PARSE(&cfg, "--no-nodefaults", "--nodefaults"), 0,
	       "--no-nodefaults then --nodefaults");
	ok(cfg.nodefaults, "the last of a flag and its --no- wins");
	is_int(PARSE(&cfg, "--no-kernel", "x"), -EINVAL,
	       "--no- of an option with a value is refused");

	/* kvmtool options lkvm did not have */
	is_int(PARSE(&cfg, "--virtio-transport", "mmio", "--virtio-legacy"), 0,
	       "--virtio-legacy");
	is_int(cfg.virtio_transport, VIRTIO_TRANSPORT_PCI_LEGACY,
	       "--virtio-legacy is the legacy PCI transport, as in kvmtool");
	is_int(PARSE(&cfg, "--virtio-legacy", "--no-virtio-legacy"), 0,
	       "--no-virtio-legacy");
	is_int(cfg.virtio_transport, VIRTIO_TRANSPORT_PCI,
	       "--no-virtio-legacy goes back to pci");
	is_int(PARSE(&cfg, "--hugetlbfs", "/dev/hugepages"), 0, "--hugetlbfs");
	is_str(cfg.hugetlbfs, "/dev/hugepages", "hugetlbfs path kept");
	is_int(PARSE(&cfg, "--hugetlbfs", ""), -EINVAL, "--hugetlbfs ''");
	is_int(PARSE(&cfg, "bz"), 0, "no --tty");
	ok(cfg.tty == -1 && !cfg.hugetlbfs && !cfg.debug_ioport &&
	   !cfg.debug_mmio && !cfg.debug_single_step && !cfg.no_dhcp,
	   "new options default off");
	is_int(PARSE(&cfg, "--tty", "0"), 0, "--tty 0");
	is_int(cfg.tty, 0, "--tty 0 stored");
	is_int(PARSE(&cfg, "--tty", "1"), -EINVAL, "--tty 1: lkvm has one terminal");
	is_int(PARSE(&cfg, "--debug-ioport", "--debug-mmio",
		     "--debug-single-step", "--no-dhcp"), 0, "debug flags, --no-dhcp");
	ok(cfg.debug_ioport && cfg.debug_mmio && cfg.debug_single_step &&
	   cfg.no_dhcp, "debug flags and --no-dhcp set");

	/* -n mode=none: no network device, as in kvmtool */
	is_int(PARSE(&cfg, "-n", "mode=none"), 0, "-n mode=none");
	is_int(cfg.nr_nets, 0, "-n mode=none adds no NIC");
	is_int(PARSE(&cfg, "-n", "mode=none", "-n", "mode=tap"), 0,
	       "-n mode=none -n mode=tap");
	is_int(cfg.nr_nets, 1, "only the tap NIC");

	/* The kernel command line (kvm/cmdline.c) */
	{
		struct {
			const char *args[6];
			const char *extra, *want;
		} c[] = {
			{ { "bz" }, NULL, "con" },
			{ { "-p", "init=/bin/sh" }, NULL, "con init=/bin/sh" },
			{ { "-d", "a.img", "-p", "x=1" }, NULL,
			  "con root=/dev/vda rw x=1" },
			{ { "-i", "initrd" }, "mmio=1", "con root=/dev/vda rw mmio=1" },
			{ { "-d", "a.img", "-p", "root=/dev/vdb" }, NULL,
			  "con root=/dev/vdb" },
			{ { "-d", "a.img", "-p", "nfsroot=x" }, NULL,
			  "con root=/dev/vda rw nfsroot=x" },
			{ { "--nodefaults", "-d", "a.img", "-p", "x=1" }, "mmio=1",
			  "mmio=1 x=1" },
			{ { "--nodefaults" }, NULL, "" },
		};

		for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
			char *argv[8] = { "run" };
			int argc = 1;
			char *got;

			while (argc < 7 && c[i].args[argc - 1])
				argv[argc] = (char *)c[i].args[argc - 1], argc++;
			parse(&cfg, argc, argv);
			got = cmdline__build(&cfg, "con", c[i].extra);
			is_str(got, c[i].want, "cmdline: defaults, root, extra, then -p");
			free(got);
		}
		parse(&cfg, 3, ARGV("-p", "x=1"));
		{
			char *got = cmdline__build(&cfg, NULL, NULL);

			is_str(got, "x=1", "no defaults for a non-Linux payload");
			free(got);
		}
	}

	return tap_done();
}
