// SPDX-License-Identifier: GPL-2.0
/*
 * sandbox/status.c: the exit status for every reason, and --result-json
 * read back by Python's json module (a real parser): the fields, and
 * strings with quotes, backslashes, control characters and invalid UTF-8.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "sandbox/status.h"

static char path[] = "/tmp/lkvm-result-XXXXXX";

/*
 * Python's view of the file: ascii() of the fields, or the parse error.
 * ascii() spells every non-ASCII character as an escape, so the expected
 * strings below say exactly which code points came out.
 */
static int py(char *out, size_t len)
{
	char cmd[1024];
	FILE *p;
	size_t n;

	snprintf(cmd, sizeof(cmd),
		 "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
		 "print(ascii([d[k] for k in (\"reason\",\"status\",\"signal\",\"kernel\",\"duration_s\",\"command\",\"detail\")]), end=\"\")' "
		 "%s 2>&1", path);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	n = fread(out, 1, len - 1, p);
	out[n] = 0;
	return pclose(p);
}

static void check(const struct sandbox_result *r, const char *want, const char *name)
{
	char got[2048];

	if (sandbox_result_write(r, path)) {
		ok(0, "%s: written", name);
		return;
	}
	if (py(got, sizeof(got)))
		diag("python3: %s", got);
	is_str(got, want, name);
}

int main(void)
{
	const char *argv7[] = { "sh", "-c", "exit 7", NULL };
	const char *nasty[] = { "say \"hi\"", "back\\slash", "tab\tnl\ncr\r",
				"\x01\x1f\x7f", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
				"bad\xff", "trunc\xe2\x82", "overlong\xc0\xaf",
				"surrogate\xed\xa0\x80", "big\xf4\x90\x80\x80", "", NULL };
	struct sandbox_result r = { 0 };
	int fd;

	if (system("python3 -c 'import json' 2>/dev/null")) {
		printf("1..0 # SKIP python3 with its json module is missing\n");
		return 0;
	}
	fd = mkstemp(path);
	if (fd < 0) {
		printf("1..0 # SKIP no temporary file: %s\n", strerror(errno));
		return 0;
	}
	close(fd);
	tap_plan(24);

	r.reason = SANDBOX_EXIT;
	r.code = 0;
	is_int(sandbox_exit_status(&r), 0, "exit 0 passes through");
	r.code = 7;
	is_int(sandbox_exit_status(&r), 7, "exit 7 passes through");
	r.code = 255;
	is_int(sandbox_exit_status(&r), 255, "exit 255 passes through");
	r.reason = SANDBOX_SIGNAL;
	r.code = 9;
	is_int(sandbox_exit_status(&r), 137, "SIGKILL: 128 + 9");
	r.reason = SANDBOX_PANIC;
	r.code = 0;
	is_int(sandbox_exit_status(&r), 8, "panic: 8, as lkvm run's panic=-1 reset");
	r.code = 6;
	is_int(sandbox_exit_status(&r), 6, "guest fault: 6, as lkvm run");
	r.reason = SANDBOX_TIMEOUT;
	is_int(sandbox_exit_status(&r), 124, "timeout: 124, as timeout(1)");
	r.reason = SANDBOX_VMM_ERROR;
	r.code = 0;
	is_int(sandbox_exit_status(&r), 4, "vmm-error: 4, as lkvm run");
	r.code = 2;
	is_int(sandbox_exit_status(&r), 2, "usage error: 2, as lkvm run");
	r.reason = SANDBOX_MISSING_SUPPORT;
	is_int(sandbox_exit_status(&r), 10, "missing-kernel-support: 10");
	r.reason = SANDBOX_INTERRUPTED;
	r.code = 15;
	is_int(sandbox_exit_status(&r), 143, "lkvm got SIGTERM: 143, as lkvm run");

	r = (struct sandbox_result){ .reason = SANDBOX_EXIT, .code = 7,
		.kernel = "/boot/vmlinuz-6.1.0-28-arm64", .duration_s = 1.23456,
		.argv = argv7 };
	check(&r, "['exit', 7, None, '/boot/vmlinuz-6.1.0-28-arm64', 1.235, ['sh', '-c', 'exit 7'], None]",
	      "exit 7: every field");
	r = (struct sandbox_result){ .reason = SANDBOX_SIGNAL, .code = 11,
		.kernel = "Image", .duration_s = 0.5, .argv = argv7 };
	check(&r, "['signal', 139, 11, 'Image', 0.5, ['sh', '-c', 'exit 7'], None]",
	      "signal 11: status 139 and the signal");
	r = (struct sandbox_result){ .reason = SANDBOX_TIMEOUT, .duration_s = 5.01,
		.argv = argv7, .kernel = "k", .detail = "--timeout 5 expired" };
	check(&r, "['timeout', 124, None, 'k', 5.01, ['sh', '-c', 'exit 7'], '--timeout 5 expired']",
	      "timeout with detail");
	r = (struct sandbox_result){ .reason = SANDBOX_MISSING_SUPPORT,
		.detail = "CONFIG_NET_9P_VIRTIO", .argv = argv7, .kernel = "k" };
	check(&r, "['missing-kernel-support', 10, None, 'k', 0.0, ['sh', '-c', 'exit 7'], 'CONFIG_NET_9P_VIRTIO']",
	      "missing-kernel-support names the option");
	r = (struct sandbox_result){ .reason = SANDBOX_VMM_ERROR, .code = 2,
		.detail = "--cpus: bad number" };
	check(&r, "['vmm-error', 2, None, None, 0.0, [], '--cpus: bad number']",
	      "a usage error before any kernel: kernel null, command empty");
	r = (struct sandbox_result){ .reason = SANDBOX_PANIC, .duration_s = NAN,
		.kernel = "k", .argv = argv7 };
	check(&r, "['panic', 8, None, 'k', 0.0, ['sh', '-c', 'exit 7'], None]",
	      "a NaN duration is written as 0, not as invalid JSON");
	r = (struct sandbox_result){ .reason = SANDBOX_EXIT, .code = 0,
		.kernel = "/tmp/we\"ird\\ker\nnel\xfe", .argv = nasty, .detail = "\x1b[31mred" };
	check(&r, "['exit', 0, None, '/tmp/we\"ird\\\\ker\\nnel\\ufffd', 0.0, "
	      "['say \"hi\"', 'back\\\\slash', 'tab\\tnl\\ncr\\r', '\\x01\\x1f\\x7f', "
	      "'caf\\xe9 \\u20ac \\U0001f600', 'bad\\ufffd', 'trunc\\ufffd\\ufffd', "
	      "'overlong\\ufffd\\ufffd', 'surrogate\\ufffd\\ufffd\\ufffd', "
	      "'big\\ufffd\\ufffd\\ufffd\\ufffd', ''], '\\x1b[31mred']",
	      "quotes, backslashes, control characters, valid and invalid UTF-8");

	{
		FILE *f = fopen(path, "r");
		char buf[2048] = { 0 };
		size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
		int ascii_ctl = 0;

		if (f)
			fclose(f);
		for (size_t i = 0; i < n; i++)
			ascii_ctl |= (unsigned char)buf[i] < 0x20 && buf[i] != '\n';
		ok(n && !ascii_ctl && buf[n - 1] == '\n' && !strchr(buf, '\n')[1],
		   "the file is one line: no raw control character inside");
		ok(strstr(buf, "\\ufffd") && !memchr(buf, 0xff, n) && !memchr(buf, 0xfe, n),
		   "invalid bytes never reach the file");
	}

	/* The string writer alone, for the shortest cases. */
	{
		char *buf = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&buf, &len);

		sandbox_json_string(m, "\"\\/\x08\x0c");
		fclose(m);
		is_str(buf, "\"\\\"\\\\/\\u0008\\u000c\"", "\\b and \\f as \\u escapes, '/' left alone");
		free(buf);
	}
	is_str(sandbox_reason_name(SANDBOX_MISSING_SUPPORT), "missing-kernel-support", "reason name");
	is_str(sandbox_reason_name((enum sandbox_reason)99), "unknown", "an out-of-range reason is 'unknown'");
	is_int(sandbox_result_write(&r, "/nonexistent/dir/result.json"), -ENOENT,
	       "an unwritable --result-json path is -ENOENT");
	unlink(path);
	return tap_done();
}
