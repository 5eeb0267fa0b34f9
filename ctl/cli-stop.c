// SPDX-License-Identifier: GPL-2.0
/*
 * `lkvm stop --name N | --all [--timeout S] [--force] [--json]`: ask the
 * guest to power off, wait for lkvm to exit, force it after the timeout.
 * With --all every VM is stopped at once, one thread each, so ten VMs take
 * one timeout, not ten.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "proto.h"
#include "lkvm/ctl.h"
#include "lkvm/exit.h"
#include "lkvm/opt-err.h"

/* How long a guest gets to act on the power-off request by default. */
#define CTL_STOP_DEFAULT_TIMEOUT_S	30
/* After a forced stop: lkvm tears down and exits within this, or we fail. */
#define CTL_STOP_KILL_WAIT_S		30

struct ctl_stop {
	const char *name;
	unsigned int timeout_s;
	bool force;
	/* Results, written by the thread, read after pthread_join(). */
	bool gone, forced;
	int connect_err;
	char why[160];
	pthread_t thread;
	bool threaded;
};

/*
 * Waits up to @secs for the VM to close our connection: it does so only
 * on its way out (the socket is removed after everything else is torn
 * down), so EOF means lkvm is exiting.  Every few seconds it asks for
 * `info`, so the server never takes the connection for an idle one
 * (those it drops after a minute, which would look like an exit).
 */
#define CTL_STOP_PING_MS	5000

static bool ctl_wait_gone(int fd, unsigned int secs)
{
	const char *info[] = { "info", NULL };
	struct timespec end, now;
	char c;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += secs;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char *body = NULL;
		long ms;
		int n, st, err;

		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = (end.tv_sec - now.tv_sec) * 1000 +
		     (end.tv_nsec - now.tv_nsec) / 1000000;
		if (ms <= 0)
			return false;
		n = poll(&p, 1, (int)(ms < CTL_STOP_PING_MS ? ms :
						     CTL_STOP_PING_MS));
		if (n < 0 && errno != EINTR)
			return false;
		if (n > 0 && p.revents) {
			ssize_t r = recv(fd, &c, 1, MSG_DONTWAIT);

			if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
				return true;
			continue;
		}
		if (n == 0) {
			err = ctl_request(fd, info, &st, &body);
			free(body);
			if (err)
				return err == -ECONNRESET || err == -EPIPE;
		}
	}
}

bool ctl_stat_gone(int fd)
{
	char buf[256], *p;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	/*
	 * ESRCH: the task was reaped after the file was opened.  A parent
	 * that reaps its children at once (a shell) makes that a common
	 * ending, not an error.
	 */
	if (n <= 0)
		return true;
	buf[n] = '\0';
	/* comm may itself hold ')': the state follows the last one. */
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

/* Is the process gone (or a zombie nobody reaped yet)? */
static bool ctl_pid_gone(int pid)
{
	char path[64];
	bool gone;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true;
	gone = ctl_stat_gone(fd);
	close(fd);
	return gone;
}

static void *ctl_stop_one(void *opaque)
{
	struct ctl_stop *s = opaque;
	const char *info[] = { "info", NULL };
	const char *poweroff[] = { "poweroff", NULL };
	const char *kill[] = { "kill", NULL };
	char *body = NULL;
	int fd, st, err, pid = -1;

	fd = ctl_connect(s->name);
	if (fd < 0) {
		s->connect_err = fd;
		snprintf(s->why, sizeof(s->why), "cannot connect: %s",
			 strerror(-fd));
		return NULL;
	}
	err = ctl_request(fd, info, &st, &body);
	if (!err && !st)
		sscanf(body, "%d", &pid);
	free(body);
	if (!s->force) {
		err = ctl_request(fd, poweroff, &st, &body);
		free(body);
		if (err) {
			s->gone = err == -ECONNRESET;
			if (!s->gone)
				snprintf(s->why, sizeof(s->why),
					 "power-off request failed: %s",
					 strerror(-err));
			goto out;
		}
		/* -ENOTSUP: no power button; -ENOSYS: not built yet. */
		if (!st && ctl_wait_gone(fd, s->timeout_s)) {
			s->gone = true;
			goto out;
		}
	}
	s->forced = true;
	err = ctl_request(fd, kill, &st, &body);
	free(body);
	if (err && err != -ECONNRESET) {
		snprintf(s->why, sizeof(s->why), "forced stop failed: %s",
			 strerror(-err));
		goto out;
	}
	s->gone = err == -ECONNRESET || ctl_wait_gone(fd, CTL_STOP_KILL_WAIT_S);
	if (!s->gone)
		snprintf(s->why, sizeof(s->why),
			 "still running after a forced stop");
out:
	close(fd);
	/*
	 * The socket goes last, just before exit(): give exit() its moment.
	 * Once seen gone it is not looked at again: the pid may be reused.
	 */
	for (int i = 0; s->gone && pid > 0 && !ctl_pid_gone(pid); i++) {
		if (i == 1000) {
			s->gone = false;
			snprintf(s->why, sizeof(s->why),
				 "closed its socket but pid %d is still running",
				 pid);
			break;
		}
		usleep(10000);
	}
	return NULL;
}

static const struct option stop_opts[] = {
	{ "name", required_argument, NULL, 'n' },
	{ "all", no_argument, NULL, 'a' },
	{ "timeout", required_argument, NULL, 't' },
	{ "force", no_argument, NULL, 'f' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int ctl_cli_stop(int argc, char **argv)
{
	unsigned long timeout = CTL_STOP_DEFAULT_TIMEOUT_S;
	const char *name = NULL;
	bool all = false, force = false, json = false;
	struct ctl_stop *vms = NULL;
	char **names = NULL, *end, optbuf[64];
	int c, n = 0, ret = 0;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":n:at:fh", stop_opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			name = optarg;
			break;
		case 'a':
			all = true;
			break;
		case 't':
			errno = 0;
			timeout = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-' ||
			    timeout > 86400) {
				fprintf(stderr, "lkvm stop: --timeout '%s': expected seconds, 0 to 86400\n",
					optarg);
				return LKVM_EXIT_USAGE;
			}
			break;
		case 'f':
			force = true;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			ctl_cli_help("stop", stdout);
			return 0;
		default:
			fprintf(stderr, "lkvm stop: unknown option or missing value '%s'; see 'lkvm help stop'\n",
				opt_err_name(argv, stop_opts, optbuf,
					     sizeof(optbuf)));
			return LKVM_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "lkvm stop: unexpected argument '%s'\n",
			argv[optind]);
		return LKVM_EXIT_USAGE;
	}
	if (!!name == all) {
		fprintf(stderr, "lkvm stop: give either --name NAME or --all\n");
		return LKVM_EXIT_USAGE;
	}
	if (all) {
		/* It says why; a directory it ignored holds no VMs of ours. */
		n = ctl_cli_names(&names);
		if (n == -EPERM)
			n = 0;
		else if (n < 0)
			return CTL_EXIT_FAILED;
	} else {
		int fd = ctl_connect(name);

		if (fd < 0) {
			ctl_cli_connect_error("stop", name, fd);
			return LKVM_EXIT_USAGE;
		}
		close(fd);
		n = 1;
	}
	vms = calloc((size_t)n + 1, sizeof(*vms));
	if (!vms) {
		ctl_cli_free_names(names);
		return CTL_EXIT_FAILED;
	}
	for (int i = 0; i < n; i++) {
		vms[i].name = all ? names[i] : name;
		vms[i].timeout_s = (unsigned int)timeout;
		vms[i].force = force;
		vms[i].threaded = !pthread_create(&vms[i].thread, NULL,
						  ctl_stop_one, &vms[i]);
		if (!vms[i].threaded)
			ctl_stop_one(&vms[i]);	/* no thread: do it here */
	}
	if (json)
		printf("[");
	for (int i = 0, shown = 0; i < n; i++) {
		struct ctl_stop *s = &vms[i];

		if (s->threaded)
			pthread_join(s->thread, NULL);
		/*
		 * A VM that had gone before we got to it (its socket removed,
		 * or left by a killed lkvm) is not a failure; one that did
		 * not answer (a full backlog: ETIMEDOUT) is.
		 */
		if (all && (s->connect_err == -ENOENT ||
			    s->connect_err == -ECONNREFUSED))
			continue;
		if (!s->gone)
			ret = CTL_EXIT_FAILED;
		if (json) {
			struct ctl_buf b;

			ctl_buf_init(&b);
			ctl_buf_json_str(&b, s->name);
			printf("%s{\"name\":%s,\"stopped\":%s,\"forced\":%s}",
			       shown ? "," : "", b.failed ? "\"?\"" : b.data,
			       s->gone ? "true" : "false",
			       s->forced ? "true" : "false");
			ctl_buf_free(&b);
		} else if (s->gone) {
			printf("%s: stopped%s\n", s->name,
			       s->forced ? " (forced)" : "");
		}
		/* --json is read by programs; the reason is for a person. */
		if (!s->gone)
			fprintf(stderr, "lkvm stop: %s: %s\n", s->name, s->why);
		shown++;
	}
	if (json)
		printf("]\n");
	free(vms);
	ctl_cli_free_names(names);
	return ret;
}
