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

#define ARGV(...) ((char *[]){ "run", __VA_ARGS__, NULL })

static int parse(struct lkvm_config *cfg, int argc, char **argv)
{
	int ret;

	/* Rejections print one line to stderr; keep TAP output clean. */
	fflush(stderr);
	ret = config_parse_run(cfg, argc, argv);
	return ret;
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

	tap_plan(65);

	is_int(PARSE(&cfg, "-k", "bz"), 0, "-k alone");
	is_str(cfg.kernel, "bz", "kernel set");
	is_int(cfg.ram_size, LKVM_DEFAULT_RAM, "default RAM");
	is_int(cfg.nr_cpus, 1, "default one vCPU");
	ok(!cfg.params && !cfg.initrd && !cfg.debug_exit, "defaults off");
	ok(cfg.name && !strncmp(cfg.name, "guest-", 6), "default name guest-<pid>");

	is_int(PARSE(&cfg, "--kernel", "k", "--initrd", "i", "--params",
		     "console=ttyS0 quiet", "--mem", "64M", "--cpus", "4",
		     "--name", "vm1", "--console", "serial", "--debug",
		     "--loglevel", "debug", "--debug-exit"),
	       0, "every long option");
	ok(cfg.kernel && cfg.initrd && cfg.params && cfg.name, "strings set");
	is_str(cfg.params, "console=ttyS0 quiet", "params verbatim");
	is_int(cfg.ram_size, 64 * SZ_1M, "--mem 64M");
	is_int(cfg.nr_cpus, 4, "--cpus 4");
	ok(cfg.debug && cfg.debug_exit && cfg.loglevel == LOG_DEBUG,
	   "flags and loglevel");

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
		char *help = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&help, &len);

		config_print_run_help(f);
		fclose(f);
		ok(help && strstr(help, "--disk") && strstr(help, "--rng") &&
		   strstr(help, "--virtio-transport") &&
		   strstr(help, "'virtio'") && strstr(help, "mmio-legacy"),
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

	return tap_done();
}
