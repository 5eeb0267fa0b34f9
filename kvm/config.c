// SPDX-License-Identifier: GPL-2.0
/* `lkvm run` option parsing: kvmtool-compatible names, strict values. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lkvm/arch.h"
#include "lkvm/config.h"

enum {
	OPT_NAME = 0x100,
	OPT_CONSOLE,
	OPT_DEBUG,
	OPT_LOGLEVEL,
	OPT_CPU_FEATURES,
	OPT_DEBUG_EXIT,
};

static const struct option run_options[] = {
	{ "kernel", required_argument, NULL, 'k' },
	{ "initrd", required_argument, NULL, 'i' },
	{ "params", required_argument, NULL, 'p' },
	{ "mem", required_argument, NULL, 'm' },
	{ "cpus", required_argument, NULL, 'c' },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "console", required_argument, NULL, OPT_CONSOLE },
	{ "debug", no_argument, NULL, OPT_DEBUG },
	{ "loglevel", required_argument, NULL, OPT_LOGLEVEL },
	{ "cpu-features", required_argument, NULL, OPT_CPU_FEATURES },
	{ "debug-exit", no_argument, NULL, OPT_DEBUG_EXIT },
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
"    -m, --mem <size>      guest RAM; plain numbers are MiB, K/M/G/T suffixes\n"
"                          accepted (default 256M, minimum 2M)\n"
"    --console <serial>    console device; only 'serial' (8250 COM1 on\n"
"                          stdin/stdout) at present\n"
"\n"
"Kernel options:\n"
"    -k, --kernel <file>   kernel to boot: bzImage (64-bit boot protocol),\n"
"                          ELF vmlinux with a PVH note, or a flat binary\n"
"                          (real mode at 1000:0000). Default: the first of\n"
"                          ./arch/x86/boot/bzImage, /boot/vmlinuz-$(uname -r)\n"
"    -i, --initrd <file>   initial ramdisk\n"
"    -p, --params <str>    kernel command line (default\n"
"                          \"console=ttyS0 earlyprintk=serial\")\n"
"    --cpu-features <list> mask CPUID features, QEMU style: '-xsave,-cx16'\n"
"                          clears, '+name' or 'name' sets if KVM supports it\n"
"\n"
"Debug options:\n"
"    --debug               dump vCPU registers when the guest faults\n"
"    --loglevel <level>    lkvm's messages: error, warning (default), info,\n"
"                          debug\n"
"    --debug-exit          isa-debug-exit compatible test port at 0xf4: a\n"
"                          guest write of v ends lkvm with status (v<<1)|1\n"
"    -h, --help            this text\n"
"\n"
"Exit status: 0 guest powered off; (v<<1)|1 guest wrote v to the test port;\n"
"2 usage error; 4 lkvm/KVM failure; 6 guest fault (KVM internal error,\n"
"triple fault); 8 guest reset; 128+n killed by signal n.\n",
		LKVM_MAX_CPUS);
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
		default:
			return -EINVAL;
		}
		end++;
		/* Accept "64M", "64MB" and "64MiB" alike. */
		if (!strcasecmp(end, "iB") || !strcasecmp(end, "B"))
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

static int bad_value(const char *opt, const char *val, const char *why)
{
	fprintf(stderr, "lkvm run: invalid value '%s' for %s: %s\n", val, opt,
		why);
	return -EINVAL;
}

int config_parse_run(struct lkvm_config *cfg, int argc, char **argv)
{
	unsigned long n;
	int c;

	*cfg = (struct lkvm_config){
		.ram_size = LKVM_DEFAULT_RAM,
		.nr_cpus = 1,
		.console = CONSOLE_SERIAL,
		.loglevel = LOG_WARNING,
	};

	/* 0, not 1: glibc then also resets its internal state for reuse. */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":k:i:p:m:c:h", run_options,
				NULL)) != -1) {
		switch (c) {
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
			if (strcmp(optarg, "serial"))
				return bad_value("--console", optarg,
						 "only 'serial' is supported");
			cfg->console = CONSOLE_SERIAL;
			break;
		case OPT_DEBUG:
			cfg->debug = true;
			break;
		case OPT_LOGLEVEL:
			if (log_parse_level(optarg, &cfg->loglevel))
				return bad_value("--loglevel", optarg,
						 "expected error, warning, info or debug");
			break;
		case OPT_CPU_FEATURES:
			if (arch__check_cpu_features(optarg))
				return -EINVAL;
			cfg->cpu_features = optarg;
			break;
		case OPT_DEBUG_EXIT:
			cfg->debug_exit = true;
			break;
		case 'h':
			config_print_run_help(stdout);
			return 1;
		case ':':
			fprintf(stderr, "lkvm run: option '%s' needs a value\n",
				argv[optind - 1]);
			return -EINVAL;
		default:
			fprintf(stderr,
				"lkvm run: unknown option '%s' (see lkvm run --help)\n",
				argv[optind - 1]);
			return -EINVAL;
		}
	}

	/* kvmtool accepts the kernel as the one positional argument. */
	if (optind < argc) {
		if (cfg->kernel || optind + 1 < argc) {
			fprintf(stderr, "lkvm run: unexpected argument '%s'\n",
				argv[cfg->kernel ? optind : optind + 1]);
			return -EINVAL;
		}
		cfg->kernel = argv[optind];
	}
	return 0;
}
