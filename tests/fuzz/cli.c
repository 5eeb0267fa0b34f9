// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: `lkvm run` option parsing (config_parse_run(),
 * cli/run-options.c) on an argv split from the input at NUL bytes, run
 * after run in one process (its static state is reset each time).  What
 * it prints is captured: a rejection ends in a newline, is one line unless
 * a value it quotes carries newlines, and nothing prints more than its
 * input can explain.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lkvm/config.h"

#define MAX_ARGS	64
/* A line of text around each argument quoted back, at most. */
#define SLACK		256

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

static FILE *out, *err;

static size_t captured(FILE *f, char *buf, size_t max)
{
	size_t n;

	fflush(f);
	rewind(f);
	n = fread(buf, 1, max, f);
	rewind(f);
	if (ftruncate(fileno(f), 0))
		abort();
	return n;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static char *argv[MAX_ARGS + 2];
	static char errbuf[1 << 16];
	static struct lkvm_config cfg;
	size_t i, start = 0, nl_in = 0, nl_out = 0, n;
	int argc = 1, ret, saved_out, saved_err;
	char *args;

	if (size > 4096)
		return 0;
	if (!out) {
		out = tmpfile();
		err = tmpfile();
		if (!out || !err)
			abort();
	}
	args = malloc(size + 1);
	if (!args)
		abort();
	memcpy(args, data, size);
	args[size] = 0;
	argv[0] = "run";
	for (i = 0; i <= size && argc <= MAX_ARGS; i++) {
		if (args[i] == '\n')
			nl_in++;
		if (args[i])
			continue;
		argv[argc++] = args + start;
		start = i + 1;
	}
	argv[argc] = NULL;

	fflush(stdout);
	fflush(stderr);
	saved_out = dup(1);
	saved_err = dup(2);
	dup2(fileno(out), 1);
	dup2(fileno(err), 2);
	ret = config_parse_run(&cfg, argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);

	captured(out, errbuf, sizeof(errbuf));	/* --help: any length */
	n = captured(err, errbuf, sizeof(errbuf));
	for (i = 0; i < n; i++)
		nl_out += errbuf[i] == '\n';
	if (ret != 0 && ret != 1 && ret != -EINVAL && ret != -ENOMEM)
		abort();
	if (ret == -EINVAL && (!n || errbuf[n - 1] != '\n'))
		abort();	/* a rejection always says why */
	/*
	 * A message may quote a value twice ("invalid value 'x' for -n:
	 * 'x': ..."), newlines included; without any in the input it is
	 * one line.
	 */
	if (n > SLACK + 4 * size || (!nl_in && nl_out > 1))
		abort();
	free(args);
	return 0;
}
