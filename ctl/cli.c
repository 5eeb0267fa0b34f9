// SPDX-License-Identifier: GPL-2.0
/*
 * `lkvm list|pause|resume|stat|debug|balloon` (and `stop`, in
 * cli-stop.c): kvmtool's commands and options, each with --json, talking
 * to running VMs through their control sockets.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "path.h"
#include "lkvm/ctl.h"
#include "lkvm/exit.h"
#include "lkvm/opt-err.h"

static const struct {
	const char *name;
	const char *help;
} ctl_help[] = {
	{ "list",
"usage: lkvm list [--json]\n"
"\n"
"List the running VMs: name, pid, state (running/paused), vCPUs, memory\n"
"and uptime.  Sockets left by a killed lkvm are removed.\n"
"    -i, --run     accepted for kvmtool: only running VMs are listed anyway\n"
"    --json        a JSON array of objects\n" },
	{ "stop",
"usage: lkvm stop (--name NAME | --all) [--timeout S] [--force] [--json]\n"
"\n"
"Ask the guest to power off (ACPI power button on x86, KEY_POWER on arm64)\n"
"and wait for lkvm to exit; after --timeout seconds (default 30), or at\n"
"once with --force or when the board has no power-off request, stop it\n"
"by force: lkvm then exits with status 143 (128 + SIGTERM).  --all stops\n"
"every VM at the same time.  Exits 0 only once the VMs are gone, else 1\n"
"with the reason on stderr.\n"
"    -n, --name NAME     the VM to stop\n"
"    -a, --all           every running VM\n"
"    -t, --timeout S     seconds to wait for the guest (0 to 86400)\n"
"    -f, --force         do not ask the guest\n"
"    --json              a JSON array of {name, stopped, forced}\n" },
	{ "pause",
"usage: lkvm pause (--name NAME | --all) [--json]\n"
"\n"
"Stop the vCPUs and devices of a VM until `lkvm resume`.\n"
"    -n, --name NAME, -a, --all, --json\n" },
	{ "resume",
"usage: lkvm resume (--name NAME | --all) [--json]\n"
"\n"
"Let a paused VM run again.\n"
"    -n, --name NAME, -a, --all, --json\n" },
	{ "stat",
"usage: lkvm stat --name NAME [--json]\n"
"\n"
"Per virtio device: kicks, interrupts, requests, bytes, errors and\n"
"NEEDS_RESET events; guest RAM, lkvm's resident set, and the balloon's\n"
"figures when the VM has one.\n"
"    -n, --name NAME     the VM\n"
"    -m, --memory        accepted for kvmtool: memory is always shown\n"
"    --json              one JSON object\n" },
	{ "debug",
"usage: lkvm debug --name NAME (--dump | --nmi CPU | --sysrq KEY) [--json]\n"
"\n"
"    -n, --name NAME     the VM\n"
"    -d, --dump          every vCPU's registers\n"
"    -m, --nmi CPU       inject an NMI into vCPU CPU (x86 only)\n"
"    -s, --sysrq KEY     Magic SysRq KEY on the guest's console\n"
"    --json              JSON output\n" },
	{ "balloon",
"usage: lkvm balloon --name NAME (--inflate MiB | --deflate MiB) [--json]\n"
"\n"
"Move the balloon's target (the VM must run with --balloon): inflating\n"
"takes MiB from the guest, deflating gives it back.\n"
"    -n, --name NAME     the VM\n"
"    -i, --inflate MiB   take MiB more\n"
"    -d, --deflate MiB   give MiB back\n"
"    --json              JSON output\n" },
};

bool ctl_cli_is_command(const char *cmd)
{
	for (size_t i = 0; i < sizeof(ctl_help) / sizeof(ctl_help[0]); i++)
		if (!strcmp(cmd, ctl_help[i].name))
			return true;
	return false;
}

void ctl_cli_help(const char *cmd, FILE *f)
{
	for (size_t i = 0; i < sizeof(ctl_help) / sizeof(ctl_help[0]); i++)
		if (!strcmp(cmd, ctl_help[i].name))
			fputs(ctl_help[i].help, f);
}

static int ctl_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int ctl_cli_names(char ***out)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	size_t n = 0, cap = 0, sl = strlen(CTL_SOCK_SUFFIX);
	char **names = NULL, **p;
	const char *why;
	struct dirent *de;
	DIR *d = NULL;
	int ret;

	*out = NULL;
	ret = ctl_dir(dir, sizeof(dir));
	if (ret == -ENOENT) {
		fprintf(stderr, "lkvm: no control directory: neither XDG_RUNTIME_DIR nor HOME is an absolute path\n");
		return ret;
	}
	if (ret) {
		fprintf(stderr, "lkvm: the control directory's path is too long\n");
		return ret;
	}
	/* Sockets in a directory others can write to prove nothing. */
	ret = ctl_dir_prepare(dir, false, &why);
	if (ret == -ENOENT)
		goto done;
	if (ret) {
		fprintf(stderr, "lkvm: ignoring the control directory %s: %s\n",
			dir, why);
		return ret;
	}
	d = opendir(dir);
	if (!d) {
		ret = -errno;
		fprintf(stderr, "lkvm: cannot read the control directory %s: %s\n",
			dir, strerror(-ret));
		return ret;
	}
	/* A name left out would be a VM that stop --all leaves running. */
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);

		if (len <= sl || strcmp(de->d_name + len - sl, CTL_SOCK_SUFFIX) ||
		    de->d_name[0] == '.')
			continue;
		if (n + 2 > cap) {
			cap = cap ? cap * 2 : 16;
			p = realloc(names, cap * sizeof(*names));
			if (!p)
				goto nomem;
			names = p;
		}
		names[n] = strndup(de->d_name, len - sl);
		if (!names[n])
			goto nomem;
		names[++n] = NULL;
	}
	closedir(d);
	d = NULL;
done:
	if (!names) {
		names = calloc(1, sizeof(*names));
		if (!names)
			goto nomem;
	}
	names[n] = NULL;
	qsort(names, n, sizeof(*names), ctl_cmp);
	*out = names;
	return (int)n;
nomem:
	if (d)
		closedir(d);
	ctl_cli_free_names(names);	/* NULL-terminated all along */
	fprintf(stderr, "lkvm: out of memory listing the VMs\n");
	return -ENOMEM;
}

void ctl_cli_free_names(char **names)
{
	for (char **p = names; p && *p; p++)
		free(*p);
	free(names);
}

void ctl_cli_remove_stale(const char *name)
{
	struct sockaddr_un sa;
	char dir[sizeof(sa.sun_path)];
	struct stat st;
	int fd, lock;

	if (ctl_dir(dir, sizeof(dir)) || ctl_sock_addr(dir, name, &sa))
		return;
	if (lstat(sa.sun_path, &st) || !S_ISSOCK(st.st_mode))
		return;
	/*
	 * Ask once more right before unlinking, under the directory lock a
	 * starting lkvm takes to put its socket in place: a socket that
	 * refuses then is not one being set up.
	 */
	lock = ctl_dir_lock(dir);
	if (lock < 0)
		return;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
		    errno == ECONNREFUSED)
			unlink(sa.sun_path);
		close(fd);
	}
	ctl_dir_unlock(lock);
}

void ctl_cli_connect_error(const char *cmd, const char *name, int err)
{
	if (err == -ENOENT || err == -ECONNREFUSED) {
		fprintf(stderr, "lkvm %s: no VM named '%s' is running\n", cmd,
			name);
		if (err == -ECONNREFUSED)
			ctl_cli_remove_stale(name);
	} else {
		fprintf(stderr, "lkvm %s: cannot reach VM '%s': %s\n", cmd,
			name, strerror(-err));
	}
}

struct ctl_opts {
	const char *name;
	bool all, json;
	/* debug */
	bool dump;
	const char *nmi, *sysrq;
	/* balloon */
	const char *inflate, *deflate;
};

enum { OPT_JSON = 256 };

#define CTL_OPT(l, arg, c) { l, arg, NULL, c }
#define CTL_OPT_END { NULL, 0, NULL, 0 }

/*
 * Each command's options: kvmtool's letters, and --json.  The leading ':'
 * makes a missing value ':' rather than '?', so the two get told apart.
 */
static const struct ctl_cmd_opts {
	const char *cmd, *shortopts;
	struct option longopts[8];
} ctl_cmd_opts[] = {
	{ "list", ":ih", {
		CTL_OPT("run", no_argument, 'i'),
		CTL_OPT("json", no_argument, OPT_JSON),
		CTL_OPT("help", no_argument, 'h'), CTL_OPT_END } },
	{ "pause", ":n:ah", {
		CTL_OPT("name", required_argument, 'n'),
		CTL_OPT("all", no_argument, 'a'),
		CTL_OPT("json", no_argument, OPT_JSON),
		CTL_OPT("help", no_argument, 'h'), CTL_OPT_END } },
	{ "resume", ":n:ah", {
		CTL_OPT("name", required_argument, 'n'),
		CTL_OPT("all", no_argument, 'a'),
		CTL_OPT("json", no_argument, OPT_JSON),
		CTL_OPT("help", no_argument, 'h'), CTL_OPT_END } },
	{ "stat", ":n:mh", {
		CTL_OPT("name", required_argument, 'n'),
		CTL_OPT("memory", no_argument, 'm'),
		CTL_OPT("json", no_argument, OPT_JSON),
		CTL_OPT("help", no_argument, 'h'), CTL_OPT_END } },
	{ "debug", ":n:dm:s:h", {
		CTL_OPT("name", required_argument, 'n'),
		CTL_OPT("dump", no_argument, 'd'),
		CTL_OPT("nmi", required_argument, 'm'),
		CTL_OPT("sysrq", required_argument, 's'),
		CTL_OPT("json", no_argument, OPT_JSON),
		CTL_OPT("help", no_argument, 'h'), CTL_OPT_END } },
	{ "balloon", ":n:i:d:h", {
		CTL_OPT("name", required_argument, 'n'),
		CTL_OPT("inflate", required_argument, 'i'),
		CTL_OPT("deflate", required_argument, 'd'),
		CTL_OPT("json", no_argument, OPT_JSON),
		CTL_OPT("help", no_argument, 'h'), CTL_OPT_END } },
};

/* 0, 1 after --help, or -EINVAL with the problem said. */
static int ctl_parse(const char *cmd, int argc, char **argv,
		     struct ctl_opts *o)
{
	const struct ctl_cmd_opts *co = NULL;
	bool balloon = !strcmp(cmd, "balloon");
	char optbuf[64];
	int c;

	for (size_t i = 0; i < sizeof(ctl_cmd_opts) / sizeof(ctl_cmd_opts[0]); i++)
		if (!strcmp(cmd, ctl_cmd_opts[i].cmd))
			co = &ctl_cmd_opts[i];
	if (!co)
		return -EINVAL;
	memset(o, 0, sizeof(*o));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, co->shortopts, co->longopts,
				NULL)) != -1) {
		switch (c) {
		case 'n':
			o->name = optarg;
			break;
		case 'a':
			o->all = true;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case 'i':
			o->inflate = optarg;	/* list --run: NULL */
			break;
		case 'd':
			if (balloon)
				o->deflate = optarg;
			else
				o->dump = true;
			break;
		case 'm':
			o->nmi = optarg;	/* stat --memory: NULL */
			break;
		case 's':
			o->sysrq = optarg;
			break;
		case 'h':
			ctl_cli_help(cmd, stdout);
			return 1;
		default:
			fprintf(stderr, "lkvm %s: unknown option or missing value '%s'; see 'lkvm help %s'\n",
				cmd, opt_err_name(argv, co->longopts, optbuf,
						  sizeof(optbuf)), cmd);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "lkvm %s: unexpected argument '%s'\n", cmd,
			argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* Prints @body of a reply from @name: JSON as it is, text prefixed. */
static void ctl_print(const char *name, const char *body, bool json,
		      bool prefix)
{
	if (json || !prefix)
		fputs(body, stdout);
	else
		printf("%s: %s", name, body);
}

static int ctl_cli_list(struct ctl_opts *o)
{
	const char *info[] = { "info", o->json ? "--json" : NULL, NULL };
	char **names = NULL;
	int n, shown = 0;

	n = ctl_cli_names(&names);
	if (n < 0 && n != -EPERM)
		return CTL_EXIT_FAILED;	/* ctl_cli_names() said why */
	if (o->json)
		printf("[");
	else
		printf("%-20s %8s %-8s %5s %10s %10s\n", "NAME", "PID", "STATE",
		       "VCPUS", "MEMORY", "UPTIME");
	for (int i = 0; i < n; i++) {
		char *body = NULL;
		int ret = ctl_call(names[i], info, &body);
		unsigned long long mib, up;
		unsigned int cpus;
		char state[16];
		int pid;

		if (ret == -ECONNREFUSED)
			ctl_cli_remove_stale(names[i]);
		if (ret || !body) {
			free(body);
			continue;	/* gone, stale, or not ours */
		}
		if (o->json) {
			body[strcspn(body, "\n")] = '\0';
			printf("%s%s", shown ? "," : "", body);
			shown++;
		} else if (sscanf(body, "%d %15s %u %llu %llu", &pid, state,
				  &cpus, &mib, &up) == 5) {
			char ubuf[32];

			snprintf(ubuf, sizeof(ubuf), "%llu:%02llu:%02llu",
				 up / 3600, up / 60 % 60, up % 60);
			printf("%-20s %8d %-8s %5u %7llu MiB %10s\n", names[i],
			       pid, state, cpus, mib, ubuf);
			shown++;
		}
		free(body);
	}
	if (o->json)
		printf("]\n");
	ctl_cli_free_names(names);
	return 0;
}

/*
 * Sends @req to VM o->name, or to every VM with --all (those that go away
 * meanwhile are skipped); prints each reply.
 */
static int ctl_cli_each(const char *cmd, struct ctl_opts *o,
			const char *const req[], bool multi)
{
	char **names = NULL, *one[2] = { (char *)o->name, NULL };
	char **list = one;
	int ret = 0, n, shown = 0;

	if (o->all) {
		/* It says why; a directory it ignored holds no VMs of ours. */
		n = ctl_cli_names(&names);
		if (n < 0 && n != -EPERM)
			return CTL_EXIT_FAILED;
		one[0] = NULL;
		list = n < 0 ? one : names;
	}
	if (o->json && multi)
		printf("[");
	for (char **p = list; *p; p++) {
		char *body = NULL;
		int st = ctl_call(*p, req, &body);

		if (st == -ENOENT || st == -ECONNREFUSED || st == -EACCES ||
		    (st < 0 && !body)) {
			free(body);
			if (o->all) {
				if (st == -ECONNREFUSED)
					ctl_cli_remove_stale(*p);
				continue;
			}
			ctl_cli_connect_error(cmd, *p, st);
			ret = LKVM_EXIT_USAGE;
			break;
		}
		if (st) {
			fprintf(stderr, "lkvm %s: %s: %s", cmd, *p, body);
			ret = CTL_EXIT_FAILED;
		} else {
			if (o->json && multi && shown++)
				printf(",");
			if (o->json && multi)
				body[strcspn(body, "\n")] = '\0';
			ctl_print(*p, body, o->json, multi);
		}
		free(body);
	}
	if (o->json && multi)
		printf("]\n");
	ctl_cli_free_names(names);
	return ret;
}

static bool ctl_need_name(const char *cmd, struct ctl_opts *o, bool all_ok)
{
	if (all_ok && !!o->name == o->all) {
		fprintf(stderr, "lkvm %s: give either --name NAME or --all\n", cmd);
		return false;
	}
	if (!all_ok && !o->name) {
		fprintf(stderr, "lkvm %s: --name NAME is required\n", cmd);
		return false;
	}
	return true;
}

int ctl_cli_main(int argc, char **argv)
{
	const char *cmd = argv[0];
	const char *req[5] = { NULL };
	struct ctl_opts o;
	int ret;

	if (!strcmp(cmd, "stop"))
		return ctl_cli_stop(argc, argv);
	ret = ctl_parse(cmd, argc, argv, &o);
	if (ret)
		return ret > 0 ? 0 : LKVM_EXIT_USAGE;
	if (!strcmp(cmd, "list"))
		return ctl_cli_list(&o);
	if (!strcmp(cmd, "pause") || !strcmp(cmd, "resume")) {
		if (!ctl_need_name(cmd, &o, true))
			return LKVM_EXIT_USAGE;
		req[0] = cmd;
		req[1] = o.json ? "--json" : NULL;
		return ctl_cli_each(cmd, &o, req, o.all);
	}
	if (!ctl_need_name(cmd, &o, false))
		return LKVM_EXIT_USAGE;
	if (!strcmp(cmd, "stat")) {
		req[0] = "stat";
	} else if (!strcmp(cmd, "debug")) {
		if (o.dump + !!o.nmi + !!o.sysrq != 1) {
			fprintf(stderr, "lkvm debug: give one of --dump, --nmi CPU, --sysrq KEY\n");
			return LKVM_EXIT_USAGE;
		}
		if (o.sysrq && strlen(o.sysrq) != 1) {
			fprintf(stderr, "lkvm debug: --sysrq '%s': expected one character\n",
				o.sysrq);
			return LKVM_EXIT_USAGE;
		}
		req[0] = o.dump ? "dump" : o.nmi ? "nmi" : "sysrq";
		req[1] = o.dump ? NULL : o.nmi ? o.nmi : o.sysrq;
	} else {	/* balloon */
		const char *mib = o.inflate ? o.inflate : o.deflate;
		char *end;

		if (!!o.inflate == !!o.deflate) {
			fprintf(stderr, "lkvm balloon: give one of --inflate MiB, --deflate MiB\n");
			return LKVM_EXIT_USAGE;
		}
		errno = 0;
		if (!strtoull(mib, &end, 10) || errno || *end || mib[0] == '-') {
			fprintf(stderr, "lkvm balloon: '%s': expected a number of MiB, at least 1\n",
				mib);
			return LKVM_EXIT_USAGE;
		}
		req[0] = "balloon";
		req[1] = o.inflate ? "inflate" : "deflate";
		req[2] = mib;
	}
	for (int i = 0; i < 4; i++) {
		if (!req[i]) {
			req[i] = o.json ? "--json" : NULL;
			break;
		}
	}
	return ctl_cli_each(cmd, &o, req, false);
}
