// SPDX-License-Identifier: GPL-2.0
/*
 * The sandbox's exit status and --result-json (see sandbox/status.h).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "status.h"

int sandbox_exit_status(const struct sandbox_result *r)
{
	switch (r->reason) {
	case SANDBOX_EXIT:
		return r->code & 0xff;
	case SANDBOX_SIGNAL:
	case SANDBOX_INTERRUPTED:
		return LKVM_EXIT_SIGNAL_BASE + (r->code & 0x7f);
	case SANDBOX_PANIC:
		return r->code == SANDBOX_STATUS_GUEST_FAULT ?
			SANDBOX_STATUS_GUEST_FAULT : SANDBOX_STATUS_PANIC;
	case SANDBOX_TIMEOUT:
		return SANDBOX_STATUS_TIMEOUT;
	case SANDBOX_MISSING_SUPPORT:
		return SANDBOX_STATUS_MISSING_SUPPORT;
	case SANDBOX_VMM_ERROR:
	default:
		return r->code == SANDBOX_STATUS_USAGE ?
			SANDBOX_STATUS_USAGE : SANDBOX_STATUS_VMM_ERROR;
	}
}

/*
 * Length of the valid UTF-8 sequence at @s (RFC 3629: no overlong forms,
 * no surrogates, nothing above U+10FFFF), or 0 if there is none.
 */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	/* The second byte's range is what excludes the bad code points. */
	if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) ||
	    (c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;	/* also stops at the NUL */
	return n;
}

int sandbox_json_string(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	if (fputc('"', f) == EOF)
		return -EIO;
	while (*s) {
		size_t n = utf8_len(s);

		if (!n) {
			/* One replacement per byte that starts no sequence. */
			fputs("\\ufffd", f);
			s++;
			continue;
		}
		if (n > 1) {
			fwrite(s, 1, n, f);
			s += n;
			continue;
		}
		switch (*s) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (*s < 0x20 || *s == 0x7f)
				fprintf(f, "\\u%04x", *s);
			else
				fputc(*s, f);
		}
		s++;
	}
	return fputc('"', f) == EOF || ferror(f) ? -EIO : 0;
}

static void json_opt_string(FILE *f, const char *s)
{
	if (s)
		sandbox_json_string(f, s);
	else
		fputs("null", f);
}

int sandbox_result_json(const struct sandbox_result *r, FILE *f)
{
	double d = r->duration_s;

	fputs("{\"reason\": ", f);
	sandbox_json_string(f, sandbox_reason_name(r->reason));
	fprintf(f, ", \"status\": %d", sandbox_exit_status(r));
	if (r->reason == SANDBOX_SIGNAL || r->reason == SANDBOX_INTERRUPTED)
		fprintf(f, ", \"signal\": %d", r->code & 0x7f);
	else
		fputs(", \"signal\": null", f);
	fputs(", \"kernel\": ", f);
	json_opt_string(f, r->kernel);
	/* JSON has no NaN or infinity. */
	if (!isfinite(d) || d < 0)
		d = 0;
	fprintf(f, ", \"duration_s\": %.3f, \"command\": [", d);
	for (size_t i = 0; r->argv && r->argv[i]; i++) {
		if (i)
			fputs(", ", f);
		sandbox_json_string(f, r->argv[i]);
	}
	fputs("], \"detail\": ", f);
	json_opt_string(f, r->detail);
	fputs("}\n", f);
	return ferror(f) ? -EIO : 0;
}

int sandbox_result_finish(const struct sandbox_result *r, FILE *f)
{
	int ret = sandbox_result_json(r, f);

	if (fclose(f) && !ret)
		ret = -errno;
	return ret;
}

int sandbox_result_write(const struct sandbox_result *r, const char *path)
{
	FILE *f = fopen(path, "we");

	if (!f)
		return -errno;
	return sandbox_result_finish(r, f);
}
