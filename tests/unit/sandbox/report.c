// SPDX-License-Identifier: GPL-2.0
/*
 * sandbox/report.c: the status line the guest init sends lkvm.  What the
 * init formats, lkvm parses back; and since the line comes from the
 * guest, anything not exactly in the grammar is malformed.
 */
#include <errno.h>
#include <string.h>

#include "tap.h"
#include "sandbox/report.h"

static int roundtrip(enum sandbox_reason reason, int code, const char *detail,
		     const char *want_line)
{
	struct sandbox_report r = { .reason = reason, .code = code }, back;
	char line[SANDBOX_REPORT_MAX];

	if (detail)
		strcpy(r.detail, detail);
	if (sandbox_report_format(&r, line, sizeof(line)))
		return ok(0, "%s: formats", want_line);
	if (!is_str(line, want_line, "formatted"))
		return 0;
	return ok(!sandbox_report_parse(line, &back) && back.reason == reason &&
		  back.code == (reason == SANDBOX_EXIT || reason == SANDBOX_SIGNAL ? code : 0) &&
		  !strcmp(back.detail, detail ? detail : ""),
		  "parsed back: %s", sandbox_reason_name(reason));
}

int main(void)
{
	static const char *const bad[] = {
		"lkvm-status: exit 256", "lkvm-status: exit -1", "lkvm-status: exit 07",
		"lkvm-status: exit 7x", "lkvm-status: exit ", "lkvm-status: exit",
		"lkvm-status: signal 0", "lkvm-status: signal 65",
		"lkvm-status: panic 1", "lkvm-status: timeout 5",
		"lkvm-status: missing-kernel-support ", "lkvm-status: init-error a\x1b[2Jb",
		"lkvm-status:exit 7", "status: exit 7", "lkvm-status: exit 99999999999999999999",
		"",
	};
	struct sandbox_report r = { .reason = SANDBOX_EXIT, .code = 300 };
	char line[SANDBOX_REPORT_MAX], longl[SANDBOX_REPORT_MAX + 16];

	tap_plan(18 + (int)(sizeof(bad) / sizeof(bad[0])));
	roundtrip(SANDBOX_EXIT, 0, NULL, "lkvm-status: exit 0\n");
	roundtrip(SANDBOX_EXIT, 255, NULL, "lkvm-status: exit 255\n");
	roundtrip(SANDBOX_SIGNAL, 9, NULL, "lkvm-status: signal 9\n");
	roundtrip(SANDBOX_MISSING_SUPPORT, 0, "CONFIG_NET_9P_VIRTIO",
		  "lkvm-status: missing-kernel-support CONFIG_NET_9P_VIRTIO\n");
	roundtrip(SANDBOX_VMM_ERROR, 0, "chdir /home/me: No such file or directory",
		  "lkvm-status: init-error chdir /home/me: No such file or directory\n");
	is_int(sandbox_report_format(&r, line, sizeof(line)), -EINVAL, "exit 300 cannot be formatted");
	r.reason = SANDBOX_TIMEOUT;
	is_int(sandbox_report_format(&r, line, sizeof(line)), -EINVAL,
	       "timeout is lkvm's to decide, never the init's");
	ok(!sandbox_report_parse("lkvm-status: exit 3\r\n", &r) && r.code == 3,
	   "a CR before the newline (a tty's doing) is tolerated");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(sandbox_report_parse(bad[i], &r), -EINVAL, bad[i]);
	is_str(sandbox_missing_config("9p-root", EINVAL), "CONFIG_NET_9P_VIRTIO",
	       "9p mount without the virtio transport (EINVAL, as Linux 6.1 says it): CONFIG_NET_9P_VIRTIO");
	is_str(sandbox_missing_config("9p-root", ENODEV), "CONFIG_9P_FS", "no 9p filesystem: CONFIG_9P_FS");
	is_str(sandbox_missing_config("overlay", ENODEV), "CONFIG_OVERLAY_FS", "no overlayfs: CONFIG_OVERLAY_FS");
	ok(!sandbox_missing_config("9p-root", EIO) && !sandbox_missing_config("overlay", EINVAL),
	   "other errors are no missing option (an init-error)");
	memset(longl, 'x', sizeof(longl));
	memcpy(longl, "lkvm-status: init-error ", 24);
	longl[sizeof(longl) - 1] = 0;
	is_int(sandbox_report_parse(longl, &r), -EINVAL, "an over-long line is malformed, not cut");
	return tap_done();
}
