// SPDX-License-Identifier: GPL-2.0
/*
 * tests/bench/launch: runs one VMM (lkvm or QEMU) and measures it from
 * outside, the same way for both, for tests/bench/run.sh.
 *
 *   launch [-e] [-w PATTERN] [-s SETTLE_MS] [-t TIMEOUT_S] [-o FILE] -- CMD...
 *
 * CMD's stdout (the guest's serial console for both VMMs) is read
 * through a pipe; its stderr goes to FILE.err.  Printed on one line:
 *   wall_ms    exec to exit
 *   first_ms   exec to the first byte of guest output
 *   cpu_ms     the VMM's user + system time (wait4's rusage: every
 *              thread, and what the kernel did for it, KVM_RUN included)
 *   maxrss_kib the VMM's peak resident set
 *   status     the exit status (128 + N for signal N)
 * With -w, once PATTERN has appeared in the output and SETTLE_MS more
 * have passed, also the VMM's resident set then, whole and anonymous
 * (rss_kib, anon_kib), and then it is sent SIGTERM: the idle-memory
 * figure.  With -e, also entry_ms: exec to the VMM's first KVM_RUN,
 * i.e. to its first guest instruction (-1 if it cannot be seen).  It
 * counts the kvm:kvm_fpu tracepoint, which KVM_RUN fires as it loads the
 * guest's FPU on every host (kvm_entry does not fire under this
 * machine's software-nested KVM), on the VMM and the threads it starts,
 * and stamps the moment the count is first non-zero (looked at every
 * 50 us); tracepoints need root (or CAP_PERFMON).  Timing is
 * CLOCK_MONOTONIC; the first byte is stamped when poll() wakes for it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* VmRSS and RssAnon of @pid, in KiB; -1 when unreadable. */
static void read_rss(pid_t pid, long *rss, long *anon)
{
	char path[64], line[256];
	FILE *f;

	*rss = *anon = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "VmRSS: %ld", rss);
		sscanf(line, "RssAnon: %ld", anon);
	}
	fclose(f);
}

/*
 * A counter of kvm:kvm_fpu on @pid and what it starts, from its next
 * exec on; -1 if the tracepoint or the permission is missing.
 */
static int open_entry_counter(pid_t pid)
{
	static const char *const ids[] = {
		"/sys/kernel/tracing/events/kvm/kvm_fpu/id",
		"/sys/kernel/debug/tracing/events/kvm/kvm_fpu/id",
	};
	struct perf_event_attr a = {
		.type = PERF_TYPE_TRACEPOINT, .size = sizeof(a),
		.disabled = 1, .enable_on_exec = 1, .inherit = 1,
	};
	long long id = -1;

	for (unsigned int i = 0; i < 2 && id < 0; i++) {
		FILE *f = fopen(ids[i], "re");

		if (f) {
			if (fscanf(f, "%lld", &id) != 1)
				id = -1;
			fclose(f);
		}
	}
	if (id < 0)
		return -1;
	a.config = (unsigned long long)id;
	return (int)syscall(SYS_perf_event_open, &a, pid, -1, -1,
			    PERF_FLAG_FD_CLOEXEC);
}

/* Inherited counts are summed in, live threads' too. */
static long long read_counter(int fd)
{
	unsigned long long v;

	return read(fd, &v, sizeof(v)) == sizeof(v) ? (long long)v : -1;
}

static void usage(void)
{
	fprintf(stderr, "usage: launch [-e] [-w PATTERN] [-s SETTLE_MS] [-t TIMEOUT_S] [-o FILE] -- CMD...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *pattern = NULL, *outfile = "/dev/null";
	long settle_ms = 500, timeout_s = 120, rss = -1, anon = -1;
	double t0, first = -1, seen_at = -1, deadline, entry = -1;
	char *buf = NULL, errpath[4096];
	size_t len = 0, cap = 0;
	struct rusage ru;
	int pfd[2], go[2] = { -1, -1 }, opt, st = 0, out, err, status;
	int counter = -1;
	bool termed = false, reading = true, want_entry = false;
	pid_t pid;

	while ((opt = getopt(argc, argv, "+ew:s:t:o:")) != -1) {
		switch (opt) {
		case 'e': want_entry = true; break;
		case 'w': pattern = optarg; break;
		case 's': settle_ms = atol(optarg); break;
		case 't': timeout_s = atol(optarg); break;
		case 'o': outfile = optarg; break;
		default: usage();
		}
	}
	if (optind >= argc)
		usage();
	snprintf(errpath, sizeof(errpath), "%s.err",
		 strcmp(outfile, "/dev/null") ? outfile : "/dev/null");
	out = open(outfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	err = strcmp(errpath, "/dev/null.err") ?
	      open(errpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) :
	      open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (out < 0 || err < 0 || pipe2(pfd, O_CLOEXEC) ||
	    (want_entry && pipe2(go, O_CLOEXEC))) {
		perror("launch");
		return 2;
	}
	t0 = now_ms();
	deadline = t0 + timeout_s * 1e3;
	pid = fork();
	if (pid < 0) {
		perror("launch: fork");
		return 2;
	}
	if (!pid) {
		int in = open("/dev/null", O_RDONLY);
		char c;

		if (in < 0 || dup2(in, 0) < 0 || dup2(pfd[1], 1) < 0 ||
		    dup2(err, 2) < 0)
			_exit(127);
		/* -e: exec only once the counter is on us. */
		if (want_entry && read(go[0], &c, 1) != 1)
			_exit(127);
		execvp(argv[optind], argv + optind);
		_exit(127);
	}
	close(pfd[1]);
	if (want_entry) {
		counter = open_entry_counter(pid);
		if (counter < 0)
			fprintf(stderr, "launch: no kvm:kvm_fpu counter (%s): entry_ms=-1\n",
				strerror(errno));
		if (write(go[1], "x", 1) != 1) {
			perror("launch: go");
			kill(pid, SIGKILL);
		}
		close(go[0]);
		close(go[1]);
	}
	while (reading) {
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };
		double t = now_ms(), wait_ms = deadline - t;
		struct timespec step = { 0, 50000 };
		char chunk[4096];
		ssize_t n;
		int r;

		if (counter >= 0 && entry < 0 && read_counter(counter) > 0)
			entry = now_ms() - t0;

		if (pattern && seen_at >= 0 && !termed) {
			double due = seen_at + settle_ms - t;

			if (due <= 0) {
				read_rss(pid, &rss, &anon);
				kill(pid, SIGTERM);
				termed = true;
			} else if (due < wait_ms) {
				wait_ms = due;
			}
		}
		if (wait_ms <= 0) {
			fprintf(stderr, "launch: %s still running after %ld s, killed\n",
				argv[optind], timeout_s);
			kill(pid, SIGKILL);
			st = 1;
			break;
		}
		if (counter >= 0 && entry < 0)
			r = ppoll(&p, 1, &step, NULL);
		else
			r = poll(&p, 1, (int)wait_ms + 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			perror("launch: poll");
			kill(pid, SIGKILL);
			st = 2;
			break;
		}
		if (!p.revents)
			continue;
		n = read(pfd[0], chunk, sizeof(chunk));
		if (n <= 0) {
			reading = false;
			break;
		}
		if (first < 0)
			first = now_ms() - t0;
		if (write(out, chunk, n) != n)
			st = 2;
		if (pattern && seen_at < 0) {
			if (len + n + 1 > cap) {
				cap = (len + n + 1) * 2;
				buf = realloc(buf, cap);
				if (!buf)
					abort();
			}
			memcpy(buf + len, chunk, n);
			len += n;
			buf[len] = 0;
			if (memmem(buf, len, pattern, strlen(pattern)))
				seen_at = now_ms();
		}
	}
	if (wait4(pid, &status, 0, &ru) < 0) {
		perror("launch: wait4");
		return 2;
	}
	printf("wall_ms=%.2f first_ms=%.2f cpu_ms=%.2f maxrss_kib=%ld status=%d",
	       now_ms() - t0, first,
	       (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3,
	       ru.ru_maxrss,
	       WIFEXITED(status) ? WEXITSTATUS(status) :
				   128 + WTERMSIG(status));
	if (pattern)
		printf(" rss_kib=%ld anon_kib=%ld", rss, anon);
	if (want_entry)
		printf(" entry_ms=%.2f", entry);
	printf("\n");
	if (pattern && rss < 0) {
		fprintf(stderr, "launch: '%s' never appeared in the output\n",
			pattern);
		st = st ? st : 1;
	}
	free(buf);
	return st;
}
