// SPDX-License-Identifier: GPL-2.0
/*
 * `lkvm sandbox`: run's options and the sandbox's own, the initramfs
 * with lkvm's init, the 9p root and shares, three console channels
 * (hvc0 CMD's stdin/stdout, hvc1 its stderr, hvc2 the init's status
 * line), the VM, and how it ended mapped to the status contract.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "lkvm/config.h"
#include "lkvm/exit.h"
#include "lkvm/kvm.h"
#include "lkvm/virtio.h"
#include "kver.h"
#include "sandbox.h"
#include "status.h"

extern char **environ;

/* Sized for building and testing kernel code, not for a demo guest. */
#define SANDBOX_DEFAULT_RAM	(1024 * SZ_1M)
#define SANDBOX_DEFAULT_CPUS	2

/*
 * hvc1 (stderr) is the kernel console: a panic shows there, never in
 * CMD's stdout.  loglevel=1 keeps everything but emergencies (the panic
 * itself) off it, so stderr holds CMD's output alone; `-p loglevel=7`
 * brings the kernel's messages back.
 */
#define SANDBOX_PARAMS	"rdinit=/init console=hvc1 loglevel=1 panic=-1"

enum {
	OPT_RWDIR = CONFIG_EXTRA_OPT_BASE,
	OPT_RODIR,
	OPT_TIMEOUT,
	OPT_RESULT_JSON,
	OPT_MODS,
};

static const struct option sandbox_options[] = {
	{ "rwdir", required_argument, NULL, OPT_RWDIR },
	{ "rodir", required_argument, NULL, OPT_RODIR },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "result-json", required_argument, NULL, OPT_RESULT_JSON },
	{ "mods", required_argument, NULL, OPT_MODS },
	{ NULL, 0, NULL, 0 },
};

/* One for the root, the rest for --rwdir/--rodir (and run's --9p). */
#define SANDBOX_MAX_SHARES	(LKVM_MAX_9P - 1)

struct sandbox_opts {
	struct initcfg_share shares[SANDBOX_MAX_SHARES];
	char *paths[SANDBOX_MAX_SHARES];
	char tags[SANDBOX_MAX_SHARES][16];
	size_t nr_shares;
	unsigned int timeout_s;
	const char *result_json;
	const char *mods;
};

static void sandbox_help(FILE *f)
{
	fprintf(f,
"usage: lkvm sandbox [<run options>] [<sandbox options>] -- <cmd> [<args>...]\n"
"\n"
"Runs <cmd> in a throwaway VM on the kernel (-k, or run's default search):\n"
"the host's / is the guest's root, read-only over virtio-9p, with a tmpfs\n"
"overlay on top (writes land in guest memory only), <cmd> runs in the\n"
"caller's directory, environment (minus DISPLAY, WAYLAND_DISPLAY,\n"
"XAUTHORITY, SSH_AUTH_SOCK and other host-session variables), uid and gid.\n"
"Its stdout and stderr reach lkvm's separately; stdin is forwarded.\n"
"lkvm carries the guest's init; a kernel whose 9p, virtio or overlayfs are\n"
"modules gets them from its module tree (/lib/modules/<release>, the\n"
"release read from the image).\n"
"\n"
"Sandbox options:\n"
"    --rwdir <dir>         share <dir> read-write at the same path\n"
"    --rodir <dir>         share <dir> read-only at the same path\n"
"                          (at most %d shares in all)\n"
"    --timeout <seconds>   stop the VM after that long (status 124)\n"
"    --result-json <file>  write how the run ended as one JSON object:\n"
"                          reason, status, signal, kernel, duration_s,\n"
"                          command, detail\n"
"    --mods <dir>          the kernel's module tree (default\n"
"                          /lib/modules/<release>); a kernel build tree\n"
"                          after 'make modules' works too\n"
"\n"
"Run options as for 'lkvm run' (see 'lkvm help run'), except that -i,\n"
"--firmware and --nodefaults are refused and --console is ignored (the\n"
"consoles here are virtio's). The defaults here are -c %d -m %uM. The\n"
"kernel command line is \"" SANDBOX_PARAMS "\"\n"
"followed by -p.\n"
"\n"
"Exit status (reason in --result-json):\n"
"    0-255    exit: <cmd>'s status (126/127: not executable / not found)\n"
"    128+n    signal: <cmd> killed by signal n; interrupted: lkvm got\n"
"             signal n (SIGINT, SIGTERM, SIGHUP)\n"
"    8        panic: the guest kernel panicked (or the init died);\n"
"             6 if the guest faulted\n"
"    124      timeout: --timeout expired\n"
"    4        vmm-error: lkvm or KVM failed, or the init could not set up\n"
"    2        vmm-error: usage error (bad option, no kernel, no <cmd>)\n"
"    10       missing-kernel-support: the kernel lacks 9p, virtio-pci or\n"
"             -mmio, virtio-console or overlayfs (named on stderr)\n"
"Only --result-json tells <cmd>'s own 8 or 124 from lkvm's.\n",
		SANDBOX_MAX_SHARES, SANDBOX_DEFAULT_CPUS,
		(unsigned int)(SANDBOX_DEFAULT_RAM >> 20));
}

static int add_share(struct sandbox_opts *o, const char *opt, const char *dir,
		     bool ro)
{
	size_t n = o->nr_shares;
	char *real;

	if (n == SANDBOX_MAX_SHARES) {
		fprintf(stderr, "lkvm sandbox: too many shares (at most %d)\n",
			SANDBOX_MAX_SHARES);
		return -EINVAL;
	}
	real = realpath(dir, NULL);
	if (!real) {
		fprintf(stderr, "lkvm sandbox: invalid value '%s' for %s: %s\n",
			dir, opt, strerror(errno));
		return -EINVAL;
	}
	o->paths[n] = real;
	snprintf(o->tags[n], sizeof(o->tags[n]), "lkvm-%s%zu",
		 ro ? "ro" : "rw", n);
	o->shares[n] = (struct initcfg_share){
		.tag = o->tags[n], .path = real, .ro = ro,
	};
	o->nr_shares++;
	return 0;
}

static int parse_sandbox_opt(void *opaque, int opt, const char *arg)
{
	struct sandbox_opts *o = opaque;
	unsigned long v;
	char *end;

	switch (opt) {
	case OPT_RWDIR:
		return add_share(o, "--rwdir", arg, false);
	case OPT_RODIR:
		return add_share(o, "--rodir", arg, true);
	case OPT_TIMEOUT:
		errno = 0;
		v = strtoul(arg, &end, 10);
		if (errno || end == arg || *end || !v || v > 86400 * 365 ||
		    *arg == '-') {
			fprintf(stderr,
				"lkvm sandbox: invalid value '%s' for --timeout: expected whole seconds, 1 or more\n",
				arg);
			return -EINVAL;
		}
		o->timeout_s = (unsigned int)v;
		return 0;
	case OPT_RESULT_JSON:
		if (!*arg) {
			fprintf(stderr, "lkvm sandbox: --result-json needs a file name\n");
			return -EINVAL;
		}
		o->result_json = arg;
		return 0;
	case OPT_MODS:
		o->mods = arg;
		return 0;
	}
	return -EINVAL;
}

static void free_opts(struct sandbox_opts *o)
{
	for (size_t i = 0; i < o->nr_shares; i++)
		free(o->paths[i]);
}

/*
 * argv[0] is "sandbox".  Everything before the first "--" is options (a
 * "--" that is an option's value would have to be written as --opt=--),
 * everything after it CMD.  Returns 0 to run, 1 after --help, or a
 * negative errno after the message.
 */
static int sandbox_parse(struct lkvm_config *cfg, struct sandbox_opts *o,
			 int argc, char **argv, char ***cmd)
{
	struct config_extra_opts extra = {
		.prog = "sandbox", .options = sandbox_options,
		.parse = parse_sandbox_opt, .help = sandbox_help, .opaque = o,
		.ram_size = SANDBOX_DEFAULT_RAM, .nr_cpus = SANDBOX_DEFAULT_CPUS,
	};
	int dash, ret;

	*o = (struct sandbox_opts){ 0 };
	for (dash = 1; dash < argc && strcmp(argv[dash], "--"); dash++)
		if (!strcmp(argv[dash], "-h") || !strcmp(argv[dash], "--help")) {
			sandbox_help(stdout);
			return 1;
		}
	ret = config_parse_opts(cfg, dash, argv, &extra);
	if (ret)
		return ret < 0 ? ret : 1;
	if (dash + 1 >= argc) {
		fprintf(stderr,
			"lkvm sandbox: no command: expected '-- CMD [ARGS...]' after the options (see lkvm sandbox --help)\n");
		return -EINVAL;
	}
	if (cfg->firmware) {
		fprintf(stderr, "lkvm sandbox: --firmware cannot run a command; it needs a Linux kernel (-k)\n");
		return -EINVAL;
	}
	if (cfg->initrd) {
		fprintf(stderr, "lkvm sandbox: -i is not for the sandbox: lkvm builds the initramfs itself\n");
		return -EINVAL;
	}
	if (cfg->nodefaults) {
		fprintf(stderr, "lkvm sandbox: --nodefaults would drop the sandbox's own command line (" SANDBOX_PARAMS "); add words with -p\n");
		return -EINVAL;
	}
	if (cfg->nr_p9 + o->nr_shares + 1 > LKVM_MAX_9P) {
		fprintf(stderr, "lkvm sandbox: too many shares: --rwdir, --rodir and --9p together at most %d\n",
			LKVM_MAX_9P - 1);
		return -EINVAL;
	}
	*cmd = argv + dash + 1;
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Module names, and the option each stands for when it is missing. */
static const struct {
	const char *mod, *config;
} needed_mods[] = {
	{ "9pnet_virtio", "CONFIG_NET_9P_VIRTIO" },
	{ "9p", "CONFIG_9P_FS" },
	{ "overlay", "CONFIG_OVERLAY_FS" },
	{ "virtio_console", "CONFIG_VIRTIO_CONSOLE" },
	{ "virtio_pci", "CONFIG_VIRTIO_PCI" },
	{ "virtio_mmio", "CONFIG_VIRTIO_MMIO" },
};

static bool mmio_transport(const struct lkvm_config *cfg)
{
	return cfg->virtio_transport == VIRTIO_TRANSPORT_MMIO ||
	       cfg->virtio_transport == VIRTIO_TRANSPORT_MMIO_LEGACY;
}

/*
 * The modules to carry: 0 with @mods filled (maybe empty: no tree, the
 * kernel then has to have it all built in, and the init names what it
 * lacks), SANDBOX_MISSING_SUPPORT with @detail, or -errno (usage).
 */
static int find_modules(const struct lkvm_config *cfg, const char *mods_dir,
			struct mod_list *mods, char *detail, size_t len)
{
	const char *wanted[ARRAY_SIZE(needed_mods)], *why = NULL;
	char rel[KVER_MAX], tree[PATH_MAX];
	size_t nr = 0, off = 0;
	int ret;

	*mods = (struct mod_list){ 0 };
	if (mods_dir) {
		snprintf(tree, sizeof(tree), "%s", mods_dir);
		if (access(tree, R_OK | X_OK)) {
			fprintf(stderr, "lkvm sandbox: invalid value '%s' for --mods: %s\n",
				mods_dir, strerror(errno));
			return -EINVAL;
		}
	} else {
		if (kver_from_file(cfg->kernel, rel, &why)) {
			pr_info("sandbox: no release in %s (%s): no modules",
				cfg->kernel, why ? why : "unreadable");
			return 0;
		}
		snprintf(tree, sizeof(tree), "/lib/modules/%s", rel);
		if (access(tree, F_OK)) {
			pr_info("sandbox: no %s: the kernel must have it built in",
				tree);
			return 0;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(needed_mods); i++) {
		const char *m = needed_mods[i].mod;

		if (!strcmp(m, "virtio_pci") && mmio_transport(cfg))
			continue;
		if (!strcmp(m, "virtio_mmio") && !mmio_transport(cfg))
			continue;
		wanted[nr++] = m;
	}
	ret = modules_resolve(tree, wanted, nr, mods);
	if (ret) {
		fprintf(stderr, "lkvm sandbox: module tree %s: %s\n", tree,
			mods->err);
		return -EINVAL;
	}
	if (!mods->nr_missing)
		return 0;
	detail[0] = 0;
	for (size_t i = 0; i < mods->nr_missing; i++)
		for (size_t j = 0; j < ARRAY_SIZE(needed_mods); j++)
			if (!strcmp(mods->missing[i], needed_mods[j].mod) &&
			    off < len)
				off += (size_t)snprintf(detail + off, len - off,
							"%s%s", off ? " " : "",
							needed_mods[j].config);
	return SANDBOX_MISSING_SUPPORT;
}

/*
 * The initrd as a file the boot code can open: a memfd, named by its
 * /proc/self/fd path (the fd stays open until lkvm exits).
 */
static int initrd_memfd(const struct cpio *c, char *path, size_t len)
{
	size_t off = 0;
	int fd = memfd_create("lkvm-sandbox-initramfs", MFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	while (off < c->len) {
		ssize_t n = write(fd, c->buf + off, c->len - off);

		if (n < 0) {
			int err = -errno;

			close(fd);
			return err;
		}
		off += (size_t)n;
	}
	snprintf(path, len, "/proc/self/fd/%d", fd);
	return fd;
}

/* The status line, if the init sent one: the last well-formed line. */
/*
 * stdin is held back until the init's ready line (SANDBOX_READY_LINE) on
 * the status port says CMD's stdin device is open in the guest: input a
 * one-port virtio-console delivers before that stays unread in the
 * guest's driver.  A thread reads the status pipe up to that line (or
 * EOF: the VM ended first), then copies stdin into the pipe hvc0 reads.
 * It is never joined: it may sit in read(stdin) on a terminal when the
 * VM ends; the process's exit ends it.
 */
struct stdin_gate {
	int status_rd;			/* the status pipe's read end */
	int feed_wr;			/* hvc0's input: the thread's to close */
	char buf[4 * SANDBOX_REPORT_MAX];	/* status bytes read meanwhile */
	size_t len;
	bool done_waiting;		/* no longer reads status_rd */
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

static void *stdin_gate_thread(void *opaque)
{
	struct stdin_gate *g = opaque;
	bool ready = false;
	char tmp[4096];
	ssize_t n, w;

	seccomp__thread_enter(SECCOMP_THREAD_STDIN);
	while (!ready && g->len < sizeof(g->buf) - 1) {
		n = read(g->status_rd, g->buf + g->len,
			 sizeof(g->buf) - 1 - g->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		g->len += (size_t)n;
		g->buf[g->len] = 0;
		ready = strstr(g->buf, SANDBOX_READY_LINE) != NULL;
	}
	pthread_mutex_lock(&g->lock);
	g->done_waiting = true;
	pthread_cond_signal(&g->cond);
	pthread_mutex_unlock(&g->lock);
	while (ready) {
		n = read(STDIN_FILENO, tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (ssize_t off = 0; off < n; off += w) {
			w = write(g->feed_wr, tmp + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				w = 0;
			else if (w <= 0)
				goto out;	/* the console is gone */
		}
	}
out:
	/* EOF for the guest's stdin. */
	close(g->feed_wr);
	return NULL;
}

/* @pre: status bytes the gate read first; then the rest of @fd. */
static bool read_report(int fd, const char *pre, size_t pre_len,
			struct sandbox_report *r)
{
	char buf[8 * SANDBOX_REPORT_MAX], *line, *save = NULL;
	size_t len = min_t(size_t, pre_len, sizeof(buf) - 1);
	ssize_t n;
	bool found = false;

	memcpy(buf, pre, len);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	while (len < sizeof(buf) - 1 &&
	       (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = 0;
	for (line = strtok_r(buf, "\r\n", &save); line;
	     line = strtok_r(NULL, "\r\n", &save)) {
		struct sandbox_report tmp;

		if (!sandbox_report_parse(line, &tmp)) {
			*r = tmp;
			found = true;
		}
	}
	return found;
}

/* lkvm run's status (no status line came) as the sandbox's result. */
static void result_from_vm(int code, struct sandbox_result *res)
{
	if (code == LKVM_EXIT_TIMEOUT) {
		res->reason = SANDBOX_TIMEOUT;
	} else if (code == LKVM_EXIT_POWEROFF || code == LKVM_EXIT_RESET) {
		res->reason = SANDBOX_PANIC;
		res->code = SANDBOX_STATUS_PANIC;
		res->detail = code == LKVM_EXIT_RESET ?
			"the guest reset without a status line (kernel panic with panic=-1)" :
			"the guest powered off without a status line (the init died?)";
	} else if (code == LKVM_EXIT_GUEST_FAULT) {
		res->reason = SANDBOX_PANIC;
		res->code = SANDBOX_STATUS_GUEST_FAULT;
		res->detail = "the guest faulted";
	} else if (code > LKVM_EXIT_SIGNAL_BASE) {
		res->reason = SANDBOX_INTERRUPTED;
		res->code = code - LKVM_EXIT_SIGNAL_BASE;
	} else {
		res->reason = SANDBOX_VMM_ERROR;
		res->code = code == LKVM_EXIT_USAGE ? SANDBOX_STATUS_USAGE :
						      SANDBOX_STATUS_VMM_ERROR;
	}
}

/*
 * @json_f: @json opened before the VM ran (see sandbox_main()), or NULL
 * when the run was refused before that and @json is opened now.
 */
static int finish(struct sandbox_result *res, const char *json, FILE *json_f,
		  double t0)
{
	int ret = 0;

	res->duration_s = now_s() - t0;
	if (json_f)
		ret = sandbox_result_finish(res, json_f);
	else if (json)		/* refused before the file was opened */
		ret = sandbox_result_write(res, json);
	if (ret)
		fprintf(stderr, "lkvm sandbox: cannot write %s: %s\n", json,
			strerror(-ret));
	return sandbox_exit_status(res);
}

/* Shares as virtio-9p devices: the host's root first, then the rest. */
static void add_9p(struct lkvm_config *cfg, const struct sandbox_opts *o)
{
	cfg->p9[cfg->nr_p9++] = (struct lkvm_9p){
		.dir = "/", .tag = SANDBOX_ROOT_TAG, .readonly = true,
	};
	for (size_t i = 0; i < o->nr_shares; i++)
		cfg->p9[cfg->nr_p9++] = (struct lkvm_9p){
			.dir = o->shares[i].path, .tag = o->shares[i].tag,
			.readonly = o->shares[i].ro,
		};
}

int sandbox_main(int argc, char **argv)
{
	struct sandbox_result res = { .reason = SANDBOX_VMM_ERROR,
				      .code = SANDBOX_STATUS_USAGE };
	char detail[SANDBOX_REPORT_MAX], err[256], initrd[64], *cwd = NULL;
	struct sandbox_report report;
	struct lkvm_config cfg;
	struct sandbox_opts o;
	struct mod_list mods = { 0 };
	struct cpio cpio = { 0 };
	int status_pipe[2] = { -1, -1 }, feed[2] = { -1, -1 }, memfd = -1;
	struct stdin_gate gate = {
		.lock = PTHREAD_MUTEX_INITIALIZER,
		.cond = PTHREAD_COND_INITIALIZER,
	};
	pthread_t gate_thread;
	FILE *json_f = NULL;
	int ret, code;
	double t0 = now_s();
	char **cmd = NULL;

	ret = sandbox_parse(&cfg, &o, argc, argv, &cmd);
	if (ret > 0)
		return 0;
	res.argv = (const char *const *)cmd;
	if (ret < 0)
		goto out_free;
	log_level = cfg.loglevel;
	if (config_resolve_kernel(&cfg, "sandbox") ||
	    config_check_disks(&cfg, "sandbox"))
		goto out;
	res.kernel = cfg.kernel;

	ret = find_modules(&cfg, o.mods, &mods, detail, sizeof(detail));
	if (ret < 0)
		goto out;
	if (ret == SANDBOX_MISSING_SUPPORT) {
		fprintf(stderr, "lkvm sandbox: the kernel lacks %s (neither built in nor a module in its tree)\n",
			detail);
		res.reason = SANDBOX_MISSING_SUPPORT;
		res.detail = detail;
		goto out;
	}

	res.code = SANDBOX_STATUS_VMM_ERROR;
	cwd = getcwd(NULL, 0);
	if (!cwd) {
		fprintf(stderr, "lkvm sandbox: cannot get the current directory: %s\n",
			strerror(errno));
		goto out;
	}
	{
		struct sandbox_image img = {
			.init = sandbox_init_blob,
			.init_len = (size_t)(sandbox_init_blob_end -
					     sandbox_init_blob),
			.argv = cmd, .envp = environ, .cwd = cwd,
			.uid = getuid(), .gid = getgid(),
			.shares = o.shares, .nr_shares = o.nr_shares,
			.mods = &mods,
		};

		if (sandbox_initramfs(&img, &cpio, err, sizeof(err))) {
			fprintf(stderr, "lkvm sandbox: %s\n", err);
			goto out;
		}
	}
	memfd = initrd_memfd(&cpio, initrd, sizeof(initrd));
	if (memfd < 0 || pipe2(status_pipe, O_CLOEXEC) || pipe2(feed, O_CLOEXEC)) {
		fprintf(stderr, "lkvm sandbox: %s\n", strerror(errno));
		goto out;
	}
	/* A status line longer than the pipe holds is dropped, never waited on. */
	fcntl(status_pipe[1], F_SETFL, O_NONBLOCK);

	cfg.initrd = initrd;
	cfg.console = CONSOLE_VIRTIO;
	cfg.default_params = SANDBOX_PARAMS;
	cfg.stop_after_s = o.timeout_s;
	add_9p(&cfg, &o);
	cfg.console_ports[0] = (struct lkvm_console_port){ -1, STDERR_FILENO };
	cfg.console_ports[1] = (struct lkvm_console_port){ -1, status_pipe[1] };
	cfg.nr_console_ports = 2;
	cfg.console_in_fd = feed[0];
	gate.status_rd = status_pipe[0];
	gate.feed_wr = feed[1];
	/* The gate thread installs its filter, so seccomp must know first. */
	if (seccomp__prepare(&cfg)) {
		fprintf(stderr, "lkvm sandbox: cannot set up seccomp\n");
		goto out;
	}
	/*
	 * The result file is opened now: once kvm__run() has installed the
	 * main thread's filter, this thread can open nothing.
	 */
	if (o.result_json) {
		json_f = fopen(o.result_json, "we");
		if (!json_f) {
			fprintf(stderr, "lkvm sandbox: cannot write %s: %s\n",
				o.result_json, strerror(errno));
			goto out;
		}
	}
	if (pthread_create(&gate_thread, NULL, stdin_gate_thread, &gate)) {
		fprintf(stderr, "lkvm sandbox: cannot start the stdin thread\n");
		goto out;
	}
	feed[1] = -1;	/* the thread's now */
	pthread_detach(gate_thread);

	code = kvm__run(&cfg);
	/* The VM is gone: EOF ends the gate's wait, if it still waits. */
	close(status_pipe[1]);
	status_pipe[1] = -1;
	pthread_mutex_lock(&gate.lock);
	while (!gate.done_waiting)
		pthread_cond_wait(&gate.cond, &gate.lock);
	pthread_mutex_unlock(&gate.lock);
	if (read_report(status_pipe[0], gate.buf, gate.len, &report)) {
		res.reason = report.reason;
		res.code = report.code;
		if (report.detail[0]) {
			snprintf(detail, sizeof(detail), "%s", report.detail);
			res.detail = detail;
		}
		if (report.reason == SANDBOX_MISSING_SUPPORT)
			fprintf(stderr, "lkvm sandbox: the kernel lacks %s\n",
				report.detail);
		else if (report.reason == SANDBOX_VMM_ERROR)
			fprintf(stderr, "lkvm sandbox: the guest init failed: %s\n",
				report.detail);
	} else {
		result_from_vm(code, &res);
		if (res.reason == SANDBOX_TIMEOUT)
			fprintf(stderr, "lkvm sandbox: timed out after %u s\n",
				o.timeout_s);
		else if (res.detail)
			fprintf(stderr, "lkvm sandbox: %s\n", res.detail);
	}
out:
	ret = finish(&res, o.result_json, json_f, t0);
	goto cleanup;
out_free:
	ret = SANDBOX_STATUS_USAGE;
cleanup:
	if (status_pipe[0] >= 0)
		close(status_pipe[0]);
	if (status_pipe[1] >= 0)
		close(status_pipe[1]);
	if (feed[1] >= 0)
		close(feed[1]);
	/* feed[0] stays open: the gate thread may still write to it. */
	if (memfd >= 0)
		close(memfd);
	cpio_free(&cpio);
	modules_free(&mods);
	free(cwd);
	free_opts(&o);
	return ret;
}
