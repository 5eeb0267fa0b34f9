// SPDX-License-Identifier: GPL-2.0
/*
 * Pauses and resumes a running VM over its control socket, many times
 * on one connection, for tests/guest/56-pause-stress.t and the nested
 * arm64 pause case.  Prints the pause->resume round-trip latency
 * (median, 99th percentile, maximum) so the note can quote it.
 *
 * usage: pause-cycles --name NAME [--cycles N] [--hold-us U] [--gap-us G]
 *	--hold-us: how long each pause lasts before the resume (0)
 *	--gap-us: the guest runs 0..G us (at random) between two cycles, so
 *	pauses land at every point of its work, not only right after a
 *	resume (0)
 * Exit 0 when every pause and resume answered 0; 1 otherwise.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lkvm/ctl.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* One request on @fd; 0, or prints what failed and returns -1. */
static int call(int fd, const char *what, unsigned long cycle)
{
	const char *argv[] = { what, NULL };
	char *body = NULL;
	int status = 0, ret;

	ret = ctl_request(fd, argv, &status, &body);
	if (ret || status) {
		fprintf(stderr, "pause-cycles: cycle %lu: %s: %s%s%s\n", cycle,
			what, strerror(-(ret ? ret : status)),
			body && *body ? ": " : "", body ? body : "");
		free(body);
		return -1;
	}
	free(body);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "cycles", required_argument, NULL, 'c' },
		{ "hold-us", required_argument, NULL, 'h' },
		{ "gap-us", required_argument, NULL, 'g' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long cycles = 10000, hold_us = 0, gap_us = 0;
	unsigned int seed = 1;
	const char *name = NULL;
	double *lat, t0;
	int fd, opt;

	while ((opt = getopt_long(argc, argv, "n:c:h:g:", opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			name = optarg;
			break;
		case 'c':
			cycles = strtoul(optarg, NULL, 0);
			break;
		case 'h':
			hold_us = strtoul(optarg, NULL, 0);
			break;
		case 'g':
			gap_us = strtoul(optarg, NULL, 0);
			break;
		default:
			return 2;
		}
	}
	if (!name || !cycles) {
		fprintf(stderr, "usage: pause-cycles --name NAME [--cycles N] [--hold-us U] [--gap-us G]\n");
		return 2;
	}
	fd = ctl_connect(name);
	if (fd < 0) {
		fprintf(stderr, "pause-cycles: cannot reach VM '%s': %s\n",
			name, strerror(-fd));
		return 1;
	}
	lat = calloc(cycles, sizeof(*lat));
	if (!lat)
		return 1;
	t0 = now_us();
	for (unsigned long i = 0; i < cycles; i++) {
		double start = now_us();

		if (call(fd, "pause", i))
			return 1;
		if (hold_us)
			usleep(hold_us);
		if (call(fd, "resume", i))
			return 1;
		lat[i] = now_us() - start;
		if (gap_us)
			usleep((unsigned int)(rand_r(&seed) % (gap_us + 1)));
	}
	qsort(lat, cycles, sizeof(*lat), cmp_double);
	printf("pause-cycles: %lu pause/resume cycles in %.2f s; round trip median %.0f us, p99 %.0f us, max %.0f us\n",
	       cycles, (now_us() - t0) / 1e6, lat[cycles / 2],
	       lat[cycles * 99 / 100], lat[cycles - 1]);
	free(lat);
	close(fd);
	return 0;
}
