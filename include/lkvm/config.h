/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_CONFIG_H
#define LKVM_CONFIG_H

#include <stdio.h>

#include "lkvm/log.h"
#include "lkvm/types.h"

#define LKVM_DEFAULT_RAM	(256 * SZ_1M)
#define LKVM_MIN_RAM		(2 * SZ_1M)
#define LKVM_MAX_CPUS		255

#define LKVM_MAX_DISKS		16

enum lkvm_console {
	CONSOLE_SERIAL,
	CONSOLE_VIRTIO,		/* virtio-console (hvc0) on stdin/stdout */
};

/* -n: one virtio-net device each (include/lkvm/net.h parses them). */
#define LKVM_MAX_NETS		4
#define LKVM_NET_MAX_FWDS	8
#define LKVM_NET_SPEC_MAX	512

enum lkvm_net_mode {
	NET_MODE_NONE,		/* no device: the parser drops it (kvmtool) */
	NET_MODE_TAP,		/* tap device (IFF_VNET_HDR), or fd= */
	NET_MODE_USER,		/* user-mode networking (libslirp) */
};

struct lkvm_net {
	enum lkvm_net_mode mode;
	u8 mac[6];
	bool mac_set;			/* guest_mac= given */
	int fd;				/* fd= inherited tap/socket, or -1 */
	unsigned int mq;		/* queue pairs (1) */
	/* Strings point into spec; NULL when not given. */
	const char *tapif, *script, *downscript;
	const char *host_ip, *guest_ip;
	const char *hostfwd[LKVM_NET_MAX_FWDS];
	unsigned int nr_hostfwd;
	char spec[LKVM_NET_SPEC_MAX];	/* copy of the argument, split */
};

struct lkvm_disk {
	const char *path;
	bool readonly;
	bool direct;			/* ,direct: O_DIRECT (raw only) */
	int format;			/* enum disk_format, 0 = auto-detect */
	unsigned int num_queues;	/* ,num-queues=N: 1..8, 0 = 1 */
	bool queue_threads;		/* ,queue-threads: a thread per queue */
	int backing;			/* ,backing=: enum disk_backing */
	const char *backing_path;	/* ,backing=PATH */
};

/*
 * --9p DIR[,TAG][,ro]: one virtio-9p device each.  The tag is what the
 * guest names in `mount -t 9p TAG /mnt`.  kvmtool refuses tags over 32
 * bytes; 64 leaves room for longer names and still fits every
 * transport's config space (the legacy PCI BAR has 232 bytes for it).
 */
#define LKVM_MAX_9P		8
#define LKVM_9P_TAG_MAX		64
#define LKVM_9P_DEFAULT_TAG	"kvm_9p"	/* kvmtool's, without a TAG */

struct lkvm_9p {
	const char *dir;		/* host directory to export */
	const char *tag;		/* mount tag, 1..LKVM_9P_TAG_MAX bytes */
	bool readonly;			/* ,ro: mutating messages get EROFS */
};

/*
 * More virtio-console devices after hvc0, each a single port (hvc1,
 * hvc2, ... in this order): not a command-line option, but how `lkvm
 * sandbox` gives a guest command separate stdout, stderr and status
 * channels.  The fds stay the caller's; output that cannot be written is
 * dropped.
 */
#define LKVM_MAX_CONSOLE_PORTS	4

struct lkvm_console_port {
	int in_fd;			/* host -> guest; -1 for none */
	int out_fd;			/* guest -> host */
};

/* Everything `lkvm run` was asked to do, after option parsing. */
struct lkvm_config {
	const char *kernel;
	const char *initrd;
	const char *params;
	const char *name;
	const char *cpu_features;	/* e.g. "-xsave,-cx16", checked by arch */
	u64 ram_size;
	unsigned int nr_cpus;
	enum lkvm_console console;
	struct lkvm_disk disks[LKVM_MAX_DISKS];
	unsigned int nr_disks;
	bool rng;			/* virtio-rng */
	bool balloon;			/* virtio-balloon (one per VM) */
	int virtio_transport;		/* enum virtio_transport_kind */
	bool debug;			/* dump registers on a guest fault */
	bool debug_exit;		/* isa-debug-exit style port at 0xf4 */
	enum log_level loglevel;
	/* arm64 machine options; arch__check_config() vets them. */
	const char *irqchip;		/* --irqchip, NULL = auto */
	bool pmu;			/* --pmu */
	const char *dump_dtb;		/* --dump-dtb FILE */
	const char *firmware;		/* --firmware FILE */
	bool nodefaults;		/* --nodefaults */
	bool disable_sve;		/* --disable-sve */
	bool disable_ptrauth;		/* --disable-ptrauth */
	const char *hugetlbfs;		/* --hugetlbfs DIR: RAM from there */
	int tty;			/* --tty N: console on a pty; -1 */
	bool debug_ioport;		/* log unclaimed port I/O, stop */
	bool debug_mmio;		/* log unclaimed MMIO */
	bool debug_single_step;		/* KVM_GUESTDBG_SINGLESTEP */
	bool no_dhcp;			/* --no-dhcp: kvmtool compat, no-op */
	bool seccomp;			/* per-thread filters (--no-seccomp) */
	struct lkvm_net nets[LKVM_MAX_NETS];	/* -n, --network */
	unsigned int nr_nets;
	struct lkvm_9p p9[LKVM_MAX_9P];		/* --9p */
	unsigned int nr_p9;
	struct lkvm_console_port console_ports[LKVM_MAX_CONSOLE_PORTS];
	unsigned int nr_console_ports;
	/*
	 * Not options of `lkvm run`; set by `lkvm sandbox`.  default_params
	 * replaces the arch's generated command-line words (and so the
	 * "root=" one); stop_after_s > 0 stops the VM with
	 * LKVM_EXIT_TIMEOUT after that many seconds.
	 */
	const char *default_params;
	unsigned int stop_after_s;
	/*
	 * --console virtio reads this fd instead of the terminal's (0: the
	 * terminal's, stdin or --tty's pty); the terminal keeps its raw mode
	 * and Ctrl-A x.  lkvm sandbox feeds stdin through it.
	 */
	int console_in_fd;
};

/*
 * Parses `lkvm run` arguments (argv[0] is "run"; cli/run-options.c).  On error writes one line
 * naming the bad option to stderr and returns -EINVAL.  Returns 1 when
 * --help was printed, 0 when the VM should start.
 */
int config_parse_run(struct lkvm_config *cfg, int argc, char **argv);
void config_print_run_help(FILE *f);

/*
 * Another command's options next to run's (`lkvm sandbox`): @options
 * (getopt_long's struct option, NULL-name terminated) have values from
 * CONFIG_EXTRA_OPT_BASE on; each is handed to @parse, which returns 0 or
 * a negative errno after printing what was wrong.  -h prints @help.
 */
#define CONFIG_EXTRA_OPT_BASE	0x1000

struct option;
struct config_extra_opts {
	const char *prog;		/* "sandbox": names it in messages */
	const struct option *options;
	int (*parse)(void *opaque, int opt, const char *arg);
	void (*help)(FILE *f);
	void *opaque;
	u64 ram_size;			/* the default -m, 0: run's */
	unsigned int nr_cpus;		/* the default -c, 0: run's */
};

int config_parse_opts(struct lkvm_config *cfg, int argc, char **argv,
		      const struct config_extra_opts *extra);

/*
 * cli/prepare.c: the kernel (-k or the first default that exists) and the
 * initrd must be readable, every disk must open; one line on stderr
 * naming "lkvm @prog" and the problem otherwise, and a negative errno.
 */
int config_resolve_kernel(struct lkvm_config *cfg, const char *prog);
int config_check_disks(const struct lkvm_config *cfg, const char *prog);

/* "64M", "1G", "512" (MiB) ... -> bytes; -EINVAL on garbage or overflow. */
int config_parse_size(const char *s, u64 *out);

/*
 * The guest's kernel command line (kvm/cmdline.c): @defaults (the arch's
 * console words; NULL for a payload that is not Linux) plus
 * "root=/dev/vda rw" when there is a disk or initrd and -p names no root,
 * then @extra (device announcements, kept even with --nodefaults), then
 * -p.  --nodefaults drops the generated words.  malloc'ed, NULL on ENOMEM.
 */
char *cmdline__build(const struct lkvm_config *cfg, const char *defaults,
		     const char *extra);

#endif
