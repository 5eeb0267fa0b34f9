// SPDX-License-Identifier: GPL-2.0
/* `lkvm run` option parsing: kvmtool-compatible names, strict values. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lkvm/arch.h"
#include "lkvm/config.h"
#include "lkvm/disk.h"
#include "lkvm/net.h"
#include "lkvm/opt-err.h"
#include "lkvm/virtio.h"

enum {
	OPT_NAME = 0x100,
	OPT_CONSOLE,
	OPT_DEBUG,
	OPT_LOGLEVEL,
	OPT_CPU_FEATURES,
	OPT_DEBUG_EXIT,
	OPT_RNG,
	OPT_BALLOON,
	OPT_VIRTIO_TRANSPORT,
	OPT_IRQCHIP,
	OPT_PMU,
	OPT_DUMP_DTB,
	OPT_FIRMWARE,
	OPT_NODEFAULTS,
	OPT_DISABLE_SVE,
	OPT_DISABLE_PTRAUTH,
	OPT_VIRTIO_LEGACY,
	OPT_HUGETLBFS,
	OPT_TTY,
	OPT_DEBUG_IOPORT,
	OPT_DEBUG_MMIO,
	OPT_DEBUG_SINGLE_STEP,
	OPT_NO_DHCP,
	OPT_SECCOMP,
	OPT_9P,
	/* Set in the value of "--no-<name>", kvmtool's negation of a flag. */
	OPT_NEGATED = 0x10000,
};

/* A flag and its "--no-" form, as kvmtool's parse-options accepts. */
#define FLAG(name, val)							\
	{ name, no_argument, NULL, (val) },				\
	{ "no-" name, no_argument, NULL, (val) | OPT_NEGATED }

static const struct option run_options[] = {
	{ "kernel", required_argument, NULL, 'k' },
	{ "initrd", required_argument, NULL, 'i' },
	{ "params", required_argument, NULL, 'p' },
	{ "mem", required_argument, NULL, 'm' },
	{ "cpus", required_argument, NULL, 'c' },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "console", required_argument, NULL, OPT_CONSOLE },
	FLAG("debug", OPT_DEBUG),
	{ "loglevel", required_argument, NULL, OPT_LOGLEVEL },
	{ "cpu-features", required_argument, NULL, OPT_CPU_FEATURES },
	FLAG("debug-exit", OPT_DEBUG_EXIT),
	{ "disk", required_argument, NULL, 'd' },
	{ "network", required_argument, NULL, 'n' },
	FLAG("rng", OPT_RNG),
	FLAG("balloon", OPT_BALLOON),
	{ "9p", required_argument, NULL, OPT_9P },
	{ "virtio-transport", required_argument, NULL, OPT_VIRTIO_TRANSPORT },
	FLAG("virtio-legacy", OPT_VIRTIO_LEGACY),
	{ "hugetlbfs", required_argument, NULL, OPT_HUGETLBFS },
	{ "tty", required_argument, NULL, OPT_TTY },
	{ "irqchip", required_argument, NULL, OPT_IRQCHIP },
	FLAG("pmu", OPT_PMU),
	{ "dump-dtb", required_argument, NULL, OPT_DUMP_DTB },
	{ "firmware", required_argument, NULL, OPT_FIRMWARE },
	FLAG("nodefaults", OPT_NODEFAULTS),
	FLAG("disable-sve", OPT_DISABLE_SVE),
	FLAG("disable-ptrauth", OPT_DISABLE_PTRAUTH),
	FLAG("debug-ioport", OPT_DEBUG_IOPORT),
	FLAG("debug-mmio", OPT_DEBUG_MMIO),
	FLAG("debug-single-step", OPT_DEBUG_SINGLE_STEP),
	FLAG("no-dhcp", OPT_NO_DHCP),
	FLAG("seccomp", OPT_SECCOMP),
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

void config_print_run_help(FILE *f)
{
	fprintf(f,
"usage: lkvm run [<options>] [<kernel image>]\n"
"\n"
"Basic options:\n"
"    --name <name>         a name for the guest (default: guest-<pid>)\n"
"    -c, --cpus <n>        number of vCPUs (default 1, max %d)\n"
"    -m, --mem <size>      guest RAM; plain numbers are MiB, B/K/M/G/T/P\n"
"                          suffixes accepted (default 256M, minimum 2M,\n"
"                          whole host pages)\n"
"    --console <dev>       console on stdin/stdout: 'serial' (8250 COM1,\n"
"                          the default) or 'virtio' (virtio-console, the\n"
"                          guest's hvc0; the generated console word is\n"
"                          \"console=hvc0\")\n"
"    --tty 0               move the console to a new pty, named on stderr\n"
"    --hugetlbfs <dir>     guest RAM from a file on the hugetlbfs at <dir>\n"
"\n"
"Device options:\n"
"    -d, --disk <file>[,ro][,direct][,format=raw|qcow2][,num-queues=N]\n"
"                [,queue-threads][,backing=off|on|<path>]\n"
"                          virtio-blk disk on an image file or block\n"
"                          device: ',ro' read-only, ',direct' O_DIRECT (raw\n"
"                          only), format auto-detected unless given (qcow2\n"
"                          v2/v3 by its magic, else raw). 'num-queues=N'\n"
"                          (1..8, default 1): N request queues\n"
"                          (VIRTIO_BLK_F_MQ), all served by the device's\n"
"                          thread, or each by its own with\n"
"                          'queue-threads'. A qcow2 backing file must be\n"
"                          a regular file at or below the image's\n"
"                          directory unless 'backing=on' (any path) or\n"
"                          'backing=<path>' (use that file); 'backing=off'\n"
"                          refuses one.\n"
"                          Without format=, writes making sector 0 of a\n"
"                          raw image look like qcow2 fail. Repeatable (up to\n"
"                          %d disks: vda, vdb, ...)\n"
"    --rng                 virtio-rng device fed from the host's getrandom()\n"
"    --balloon             virtio-balloon device: 'lkvm balloon' asks the\n"
"                          guest to give RAM back (released to the host) or\n"
"                          take it again; not with --hugetlbfs\n"
"    --9p <dir>[,<tag>[,ro]]\n"
"                          share host directory <dir> with the guest over\n"
"                          virtio-9p (9P2000.L); the guest mounts it with\n"
"                          'mount -t 9p -o trans=virtio,version=9p2000.L\n"
"                          <tag> /mnt'. <tag>: 1 to %d bytes, unique,\n"
"                          default \"" LKVM_9P_DEFAULT_TAG "\" (kvmtool's); ',ro': the\n"
"                          guest cannot change anything. Repeatable (up\n"
"                          to %d)\n"
"    -n, --network mode=tap|user|none[,<opt>=<value>...]\n"
"                          a virtio-net device (none unless asked for);\n"
"                          options: guest_mac=, tapif=, fd=, script=,\n"
"                          downscript= (tap), host_ip=, guest_ip=,\n"
"                          hostfwd=[tcp|udp]:[addr]:port-[addr]:port (user),\n"
"                          mq=1; kvmtool's trans=, vhost=, host_mac= are\n"
"                          accepted and ignored.\n"
"                          Repeatable (up to %d); see README \"Networking\".\n"
"                          mode=none: no network device (as in kvmtool)\n"
"    --no-dhcp             accepted for kvmtool scripts; changes nothing\n"
"    --virtio-transport <t>\n"
"                          how virtio devices attach: 'pci' (modern with\n"
"                          legacy I/O BAR, the default), 'pci-modern'\n"
"                          (modern-only: kvmtool's 'pci'), 'pci-legacy',\n"
"                          'mmio' (virtio-mmio v2) or 'mmio-legacy' (v1);\n"
"                          mmio devices (at most 9 on x86) are announced\n"
"                          with virtio_mmio.device= on the kernel command\n"
"                          line\n"
"    --virtio-legacy       same as --virtio-transport pci-legacy\n"
"\n"
"Kernel options:\n"
"    -k, --kernel <file>   kernel to boot. x86: bzImage (64-bit boot\n"
"                          protocol), ELF vmlinux with a PVH note, or a flat\n"
"                          binary (real mode at 1000:0000); arm64: Image,\n"
"                          plain or gzip'ed, or a raw binary without Image\n"
"                          header (loaded and entered at RAM + 0x80000,\n"
"                          x0 = DTB, like kvmtool). Default: the first of\n"
"                          ./arch/x86/boot/bzImage, /boot/vmlinuz-$(uname -r)\n"
"                          (x86) or ./arch/arm64/boot/Image (arm64)\n"
"    -i, --initrd <file>   initial ramdisk (any file; arm64 test harnesses\n"
"                          pass an environment file this way)\n"
"    -p, --params <str>    appended, as in kvmtool, to the generated kernel\n"
"                          command line: the console (x86 \"console=ttyS0\n"
"                          earlyprintk=serial\", arm64 \"console=ttyS0\n"
"                          earlycon\", \"console=hvc0\" with --console\n"
"                          virtio), \"root=/dev/vda rw\" with a disk or\n"
"                          initrd unless -p has root=, x86 mmio devices\n"
"    --nodefaults          no generated command line: exactly -p (x86 mmio\n"
"                          devices still add their virtio_mmio.device=;\n"
"                          arm64: also no KASLR/RNG seeds)\n"
"    --cpu-features <list> x86: mask CPUID features, QEMU style:\n"
"                          '-xsave,-cx16' clears, '+name' or 'name' sets if\n"
"                          KVM supports it\n"
"\n"
"arm64 options:\n"
"    --irqchip <type>      auto (default: the best KVM offers), gicv2,\n"
"                          gicv2m, gicv3 or gicv3-its\n"
"    --pmu                 give the vCPUs a PMUv3\n"
"    --dump-dtb <file>     write the device tree the guest gets to <file>\n"
"    --firmware <file>     load a raw binary at the start of RAM and enter\n"
"                          it (x0 = DTB) instead of a kernel; it gets -p\n"
"                          alone\n"
"    --disable-sve         no SVE for the vCPUs (default: on if KVM has it)\n"
"    --disable-ptrauth     no pointer authentication for the vCPUs (default:\n"
"                          on if KVM has it)\n"
"\n"
"Security options:\n"
"    --no-seccomp          run without the per-thread seccomp filters (on by\n"
"                          default: each lkvm thread may make only the\n"
"                          system calls its job needs; any other call ends\n"
"                          lkvm with status 159 and names the call)\n"
"\n"
"Debug options:\n"
"    --debug               dump vCPU registers when the guest faults\n"
"    --loglevel <level>    lkvm's messages: error, warning (default), info,\n"
"                          debug\n"
"    --debug-exit          x86: isa-debug-exit compatible test port at 0xf4:\n"
"                          a guest write of v ends lkvm with status\n"
"                          (v<<1)|1\n"
"    --debug-ioport        report a guest access to an unclaimed I/O port\n"
"                          and stop the guest\n"
"    --debug-mmio          report guest accesses to unclaimed MMIO\n"
"    --debug-single-step   dump the registers after every instruction\n"
"    -h, --help            this text\n"
"\n"
"Every flag also has kvmtool's --no-<flag> form (e.g. --no-rng);\n"
"--no-seccomp's other form is --seccomp.\n"
"\n"
"Exit status: 0 guest powered off; (v<<1)|1 guest wrote v to the test port;\n"
"2 usage error; 4 lkvm/KVM failure; 6 guest fault (KVM internal error,\n"
"triple fault); 8 guest reset; 128+n killed by signal n; 159 a seccomp\n"
"filter caught a forbidden system call.\n",
		LKVM_MAX_CPUS, LKVM_MAX_DISKS, LKVM_9P_TAG_MAX, LKVM_MAX_9P,
		LKVM_MAX_NETS);
}

int config_parse_size(const char *s, u64 *out)
{
	unsigned long long v;
	unsigned int shift = 20;	/* kvmtool: a bare number is MiB */
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	if (*end) {
		switch (toupper((unsigned char)*end)) {
		case 'B':	/* kvmtool: bytes */
			shift = 0;
			break;
		case 'K':
			shift = 10;
			break;
		case 'M':
			shift = 20;
			break;
		case 'G':
			shift = 30;
			break;
		case 'T':
			shift = 40;
			break;
		case 'P':
			shift = 50;
			break;
		default:
			return -EINVAL;
		}
		end++;
		/* Accept "64M", "64MB" and "64MiB" alike. */
		if (shift && (!strcasecmp(end, "iB") || !strcasecmp(end, "B")))
			end += strlen(end);
		if (*end)
			return -EINVAL;
	}
	if (v > (~0ULL >> shift))
		return -EINVAL;
	*out = (u64)v << shift;
	return 0;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* "run" or "sandbox": the command named in every message. */
static const char *prog = "run";

static int bad_value(const char *opt, const char *val, const char *why)
{
	fprintf(stderr, "lkvm %s: invalid value '%s' for %s: %s\n", prog, val,
		opt, why);
	return -EINVAL;
}

/*
 * Disk paths split off their ",ro": copies that live until the next
 * parse (reachable from here, so never reported as a leak).
 */
static char *disk_paths[LKVM_MAX_DISKS];
static char *disk_backing_paths[LKVM_MAX_DISKS];

static void free_disk_paths(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(disk_paths); i++) {
		free(disk_paths[i]);
		disk_paths[i] = NULL;
		free(disk_backing_paths[i]);
		disk_backing_paths[i] = NULL;
	}
}

/* "path[,ro][,direct][,format=raw|qcow2][,num-queues=N][,queue-threads][,backing=B]" */
static int parse_disk(struct lkvm_config *cfg, const char *arg)
{
	struct lkvm_disk *d = &cfg->disks[cfg->nr_disks];
	const char *comma = strchr(arg, ',');
	size_t len = comma ? (size_t)(comma - arg) : strlen(arg);

	if (cfg->nr_disks == LKVM_MAX_DISKS) {
		fprintf(stderr, "lkvm %s: too many disks (at most %d)\n", prog,
			LKVM_MAX_DISKS);
		return -EINVAL;
	}
	if (!len)
		return bad_value("--disk", arg, "expected a file name");
	*d = (struct lkvm_disk){ 0 };
	while (comma) {
		const char *opt = comma + 1, *next = strchr(opt, ',');
		size_t n = next ? (size_t)(next - opt) : strlen(opt);

		if (n == 2 && !strncmp(opt, "ro", 2)) {
			d->readonly = true;
		} else if (n == 6 && !strncmp(opt, "direct", 6)) {
			d->direct = true;
		} else if (n == 13 && !strncmp(opt, "queue-threads", 13)) {
			d->queue_threads = true;
		} else if (n > 11 && !strncmp(opt, "num-queues=", 11)) {
			char buf[8], *end;
			unsigned long v;

			if (n - 11 >= sizeof(buf))
				return bad_value("--disk", arg,
						 "num-queues must be 1..8");
			memcpy(buf, opt + 11, n - 11);
			buf[n - 11] = 0;
			v = strtoul(buf, &end, 10);
			if (*end || end == buf || v < 1 || v > 8)
				return bad_value("--disk", arg,
						 "num-queues must be 1..8");
			d->num_queues = (unsigned int)v;
		} else if (n > 8 && !strncmp(opt, "backing=", 8)) {
			char **bp = &disk_backing_paths[cfg->nr_disks];
			enum disk_backing mode;
			const char *path;

			free(*bp);
			*bp = strndup(opt + 8, n - 8);
			if (!*bp || disk_parse_backing(*bp, &mode, &path))
				return bad_value("--disk", arg,
						 "backing must be off, on or a path");
			d->backing = (int)mode;
			d->backing_path = path;
		} else if (n > 7 && !strncmp(opt, "format=", 7)) {
			if (n == 10 && !strncmp(opt + 7, "raw", 3))
				d->format = DISK_FORMAT_RAW;
			else if (n == 12 && !strncmp(opt + 7, "qcow2", 5))
				d->format = DISK_FORMAT_QCOW2;
			else
				return bad_value("--disk", arg,
						 "format must be raw or qcow2");
		} else {
			fprintf(stderr,
				"lkvm %s: unknown --disk option '%.*s' in '%s' (ro, direct, format=, num-queues=, queue-threads, backing=)\n",
				prog, (int)n, opt, arg);
			return -EINVAL;
		}
		comma = next;
	}
	free(disk_paths[cfg->nr_disks]);
	disk_paths[cfg->nr_disks] = strndup(arg, len);
	if (!disk_paths[cfg->nr_disks]) {
		fprintf(stderr, "lkvm %s: out of memory\n", prog);
		return -ENOMEM;
	}
	d->path = disk_paths[cfg->nr_disks];
	cfg->nr_disks++;
	return 0;
}

/* --9p copies: directory and tag split apart, as the disk paths. */
static char *p9_dirs[LKVM_MAX_9P];
static char *p9_tags[LKVM_MAX_9P];

static void free_p9_strings(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(p9_dirs); i++) {
		free(p9_dirs[i]);
		p9_dirs[i] = NULL;
		free(p9_tags[i]);
		p9_tags[i] = NULL;
	}
}

/*
 * "dir[,tag][,ro]", kvmtool's "<host dir>,<mount tag>" plus ",ro".  The
 * second field is always the tag (as in kvmtool), so "dir,ro" exports
 * under the tag "ro".  The directory is checked here so that a typo is
 * a usage error (status 2), not a VM that boots without its files.
 */
static int parse_9p(struct lkvm_config *cfg, const char *arg)
{
	unsigned int n = cfg->nr_p9;
	struct lkvm_9p *p = &cfg->p9[n];
	const char *comma = strchr(arg, ','), *tag = LKVM_9P_DEFAULT_TAG;
	const char *opt = NULL;
	size_t dir_len = comma ? (size_t)(comma - arg) : strlen(arg);
	size_t tag_len = strlen(tag);
	struct stat st;
	char why[128];

	if (n == LKVM_MAX_9P) {
		fprintf(stderr, "lkvm %s: too many --9p shares (at most %d)\n", prog,
			LKVM_MAX_9P);
		return -EINVAL;
	}
	if (!dir_len)
		return bad_value("--9p", arg, "expected a host directory");
	if (comma) {
		tag = comma + 1;
		opt = strchr(tag, ',');
		tag_len = opt ? (size_t)(opt - tag) : strlen(tag);
		if (opt)
			opt++;
	}
	if (!tag_len)
		return bad_value("--9p", arg, "the mount tag is empty");
	if (tag_len > LKVM_9P_TAG_MAX) {
		snprintf(why, sizeof(why),
			 "the mount tag is %zu bytes, at most %d are allowed",
			 tag_len, LKVM_9P_TAG_MAX);
		return bad_value("--9p", arg, why);
	}
	if (opt && strcmp(opt, "ro")) {
		fprintf(stderr,
			"lkvm %s: unknown --9p option '%s' in '%s' (ro)\n",
			prog, opt, arg);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < n; i++) {
		if (strlen(cfg->p9[i].tag) == tag_len &&
		    !strncmp(cfg->p9[i].tag, tag, tag_len)) {
			snprintf(why, sizeof(why),
				 "mount tag '%.*s' is already used by another --9p",
				 (int)tag_len, tag);
			return bad_value("--9p", arg, why);
		}
	}
	free(p9_dirs[n]);
	free(p9_tags[n]);
	p9_dirs[n] = strndup(arg, dir_len);
	p9_tags[n] = strndup(tag, tag_len);
	if (!p9_dirs[n] || !p9_tags[n]) {
		fprintf(stderr, "lkvm %s: out of memory\n", prog);
		return -ENOMEM;
	}
	if (stat(p9_dirs[n], &st)) {
		snprintf(why, sizeof(why), "%s: %s", p9_dirs[n],
			 errno == ENOENT ? "no such directory" :
			 strerror(errno));
		return bad_value("--9p", arg, why);
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, sizeof(why), "%s: not a directory", p9_dirs[n]);
		return bad_value("--9p", arg, why);
	}
	*p = (struct lkvm_9p){
		.dir = p9_dirs[n], .tag = p9_tags[n], .readonly = opt != NULL,
	};
	cfg->nr_p9++;
	return 0;
}

/* -n mode=...,...: kvmtool's syntax, parsed by net/options.c. */
static int parse_net(struct lkvm_config *cfg, const char *arg)
{
	char err[128];

	if (cfg->nr_nets == LKVM_MAX_NETS) {
		fprintf(stderr, "lkvm %s: too many network devices (at most %d)\n", prog,
			LKVM_MAX_NETS);
		return -EINVAL;
	}
	if (net_parse_option(&cfg->nets[cfg->nr_nets], arg, err, sizeof(err)))
		return bad_value("--network", arg, err);
	/*
	 * kvmtool: mode=none means "no network device" (kvm-unit-tests
	 * passes it for that), not a NIC without a backend.
	 */
	if (cfg->nets[cfg->nr_nets].mode != NET_MODE_NONE)
		cfg->nr_nets++;
	return 0;
}

static const char *const virtio_transports[] = {
	[VIRTIO_TRANSPORT_PCI] = "pci",
	[VIRTIO_TRANSPORT_PCI_LEGACY] = "pci-legacy",
	[VIRTIO_TRANSPORT_MMIO] = "mmio",
	[VIRTIO_TRANSPORT_MMIO_LEGACY] = "mmio-legacy",
	[VIRTIO_TRANSPORT_PCI_MODERN] = "pci-modern",
};

static int parse_opts(struct lkvm_config *cfg, int argc, char **argv,
		      const struct option *options,
		      const struct config_extra_opts *extra);

int config_parse_run(struct lkvm_config *cfg, int argc, char **argv)
{
	return config_parse_opts(cfg, argc, argv, NULL);
}

/*
 * getopt_long() takes one table: run's options followed by the caller's
 * (whose values must not collide with run's: they start at
 * CONFIG_EXTRA_OPT_BASE).
 */
static struct option *merge_options(const struct option *extra)
{
	size_t nr_run = ARRAY_SIZE(run_options) - 1, nr_extra = 0;
	struct option *all;

	while (extra && extra[nr_extra].name)
		nr_extra++;
	all = calloc(nr_run + nr_extra + 1, sizeof(*all));
	if (!all)
		return NULL;
	memcpy(all, run_options, nr_run * sizeof(*all));
	if (nr_extra)
		memcpy(all + nr_run, extra, nr_extra * sizeof(*all));
	return all;
}

int config_parse_opts(struct lkvm_config *cfg, int argc, char **argv,
		      const struct config_extra_opts *extra)
{
	struct option *options;
	int ret;

	prog = extra ? extra->prog : "run";
	options = merge_options(extra ? extra->options : NULL);
	if (!options) {
		fprintf(stderr, "lkvm %s: out of memory\n", prog);
		return -ENOMEM;
	}
	ret = parse_opts(cfg, argc, argv, options, extra);
	free(options);
	return ret;
}

static int parse_opts(struct lkvm_config *cfg, int argc, char **argv,
		      const struct option *options,
		      const struct config_extra_opts *extra)
{
	unsigned long n;
	char optbuf[64];
	bool on;
	int c;

	*cfg = (struct lkvm_config){
		.ram_size = LKVM_DEFAULT_RAM,
		.nr_cpus = 1,
		.console = CONSOLE_SERIAL,
		.virtio_transport = VIRTIO_TRANSPORT_PCI,
		.loglevel = LOG_WARNING,
		.tty = -1,
		.seccomp = true,
	};
	if (extra && extra->ram_size)
		cfg->ram_size = extra->ram_size;
	if (extra && extra->nr_cpus)
		cfg->nr_cpus = extra->nr_cpus;
	free_disk_paths();
	free_p9_strings();

	/* 0, not 1: glibc then also resets its internal state for reuse. */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":k:i:p:m:c:d:n:h", options,
				NULL)) != -1) {
		on = !(c & OPT_NEGATED);
		if (extra && c >= CONFIG_EXTRA_OPT_BASE &&
		    c < CONFIG_EXTRA_OPT_BASE + 0x100) {
			if (extra->parse(extra->opaque, c, optarg))
				return -EINVAL;
			continue;
		}
		switch (c & ~OPT_NEGATED) {
		case 'k':
			cfg->kernel = optarg;
			break;
		case 'i':
			cfg->initrd = optarg;
			break;
		case 'p':
			cfg->params = optarg;
			break;
		case 'm':
			if (config_parse_size(optarg, &cfg->ram_size))
				return bad_value("--mem", optarg,
						 "expected a size like 512M or 2G");
			if (cfg->ram_size < LKVM_MIN_RAM)
				return bad_value("--mem", optarg,
						 "at least 2M is needed");
			/*
			 * KVM takes RAM in whole host pages; B and K make
			 * other sizes easy to write.
			 */
			if (cfg->ram_size % (u64)sysconf(_SC_PAGESIZE))
				return bad_value("--mem", optarg,
						 "not a whole number of host pages");
			break;
		case 'c':
			if (parse_uint(optarg, LKVM_MAX_CPUS, &n) || !n)
				return bad_value("--cpus", optarg,
						 "expected 1 to 255");
			cfg->nr_cpus = (unsigned int)n;
			break;
		case OPT_NAME:
			if (!*optarg)
				return bad_value("--name", optarg,
						 "must not be empty");
			cfg->name = optarg;
			break;
		case OPT_CONSOLE:
			if (!strcmp(optarg, "serial"))
				cfg->console = CONSOLE_SERIAL;
			else if (!strcmp(optarg, "virtio"))
				cfg->console = CONSOLE_VIRTIO;
			else
				return bad_value("--console", optarg,
						 "expected serial or virtio");
			break;
		case 'd':
			if (parse_disk(cfg, optarg))
				return -EINVAL;
			break;
		case 'n':
			if (parse_net(cfg, optarg))
				return -EINVAL;
			break;
		case OPT_RNG:
			cfg->rng = on;
			break;
		case OPT_BALLOON:
			cfg->balloon = on;
			break;
		case OPT_9P:
			if (parse_9p(cfg, optarg))
				return -EINVAL;
			break;
		case OPT_VIRTIO_TRANSPORT:
			for (n = 0; n < ARRAY_SIZE(virtio_transports); n++)
				if (!strcmp(optarg, virtio_transports[n]))
					break;
			if (n == ARRAY_SIZE(virtio_transports))
				return bad_value("--virtio-transport", optarg,
						 "expected pci, pci-modern, pci-legacy, mmio or mmio-legacy");
			cfg->virtio_transport = (int)n;
			break;
		case OPT_DEBUG:
			cfg->debug = on;
			break;
		case OPT_LOGLEVEL:
			if (log_parse_level(optarg, &cfg->loglevel))
				return bad_value("--loglevel", optarg,
						 "expected error, warning, info or debug");
			break;
		case OPT_CPU_FEATURES:
			if (arch__check_cpu_features(optarg, prog))
				return -EINVAL;
			cfg->cpu_features = optarg;
			break;
		case OPT_DEBUG_EXIT:
			cfg->debug_exit = on;
			break;
		case OPT_IRQCHIP:
			cfg->irqchip = optarg;
			break;
		case OPT_PMU:
			cfg->pmu = on;
			break;
		case OPT_DUMP_DTB:
			cfg->dump_dtb = optarg;
			break;
		case OPT_FIRMWARE:
			cfg->firmware = optarg;
			break;
		case OPT_NODEFAULTS:
			cfg->nodefaults = on;
			break;
		case OPT_VIRTIO_LEGACY:
			/* kvmtool: the legacy PCI transport; --no- undoes it. */
			if (on)
				cfg->virtio_transport =
					VIRTIO_TRANSPORT_PCI_LEGACY;
			else if (cfg->virtio_transport ==
				 VIRTIO_TRANSPORT_PCI_LEGACY)
				cfg->virtio_transport = VIRTIO_TRANSPORT_PCI;
			break;
		case OPT_HUGETLBFS:
			if (!*optarg)
				return bad_value("--hugetlbfs", optarg,
						 "expected a hugetlbfs directory");
			cfg->hugetlbfs = optarg;
			break;
		case OPT_TTY:
			/* kvmtool numbers the guest terminals; lkvm has one. */
			if (parse_uint(optarg, 0, &n))
				return bad_value("--tty", optarg,
						 "lkvm has one guest terminal, 0 (the console)");
			cfg->tty = (int)n;
			break;
		case OPT_DEBUG_IOPORT:
			cfg->debug_ioport = on;
			break;
		case OPT_DEBUG_MMIO:
			cfg->debug_mmio = on;
			break;
		case OPT_DEBUG_SINGLE_STEP:
			cfg->debug_single_step = on;
			break;
		case OPT_SECCOMP:
			cfg->seccomp = on;
			break;
		case OPT_NO_DHCP:
			cfg->no_dhcp = on;
			break;
		case OPT_DISABLE_SVE:
			cfg->disable_sve = on;
			break;
		case OPT_DISABLE_PTRAUTH:
			cfg->disable_ptrauth = on;
			break;
		case 'h':
			if (extra)
				extra->help(stdout);
			else
				config_print_run_help(stdout);
			return 1;
		case ':':
			fprintf(stderr, "lkvm %s: option '%s' needs a value\n",
				prog, opt_err_name(argv, options, optbuf,
						   sizeof(optbuf)));
			return -EINVAL;
		default:
			fprintf(stderr,
				"lkvm %s: unknown option '%s' (see lkvm %s --help)\n",
				prog, opt_err_name(argv, options, optbuf,
						   sizeof(optbuf)), prog);
			return -EINVAL;
		}
	}

	/* kvmtool accepts the kernel as the one positional argument. */
	if (optind < argc) {
		if (cfg->kernel || optind + 1 < argc) {
			fprintf(stderr, "lkvm %s: unexpected argument '%s'\n",
				prog, argv[cfg->kernel ? optind : optind + 1]);
			return -EINVAL;
		}
		cfg->kernel = argv[optind];
	}
	if (!cfg->name) {
		static char default_name[32];

		snprintf(default_name, sizeof(default_name), "guest-%d",
			 (int)getpid());
		cfg->name = default_name;
	}
	return arch__check_config(cfg, prog);
}
