// SPDX-License-Identifier: GPL-2.0
/* ctl/path.c: VM names, the socket directory and its permission checks. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl/path.h"
#include "tap.h"

static void test_names(void)
{
	const char *why = NULL;
	char longname[200];

	is_int(ctl_name_check("/run/lkvm", "web-1", &why), 0, "plain name ok");
	is_int(ctl_name_check("/run/lkvm", "a b", &why), 0, "space ok");
	is_int(ctl_name_check("/run/lkvm", "", &why), -EINVAL, "empty refused");
	is_int(ctl_name_check("/run/lkvm", "a/b", &why), -EINVAL, "'/' refused");
	ok(why && strstr(why, "'/'"), "and the reason names '/'");
	is_int(ctl_name_check("/run/lkvm", "..", &why), -EINVAL, "'..' refused");
	is_int(ctl_name_check("/run/lkvm", "a\nb", &why), -EINVAL,
	       "newline refused");
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	is_int(ctl_name_check("/run/lkvm", longname, &why), -ENAMETOOLONG,
	       "too long for sun_path refused");
	/* 108 bytes of sun_path: dir + '/' + name + ".sock" + NUL. */
	longname[107 - strlen("/run/lkvm/") - 5] = '\0';
	is_int(ctl_name_check("/run/lkvm", longname, &why), 0,
	       "the longest name that fits is fine");
}

static void test_dir(void)
{
	char tmpl[] = "/tmp/ctl-path-XXXXXX", sub[64], buf[128];
	const char *why = NULL;

	ok(mkdtemp(tmpl) != NULL, "temporary directory");
	snprintf(sub, sizeof(sub), "%s/lkvm", tmpl);
	is_int(ctl_dir_prepare(sub, false, &why), -ENOENT,
	       "client: a missing directory is -ENOENT");
	is_int(ctl_dir_prepare(sub, true, &why), 0, "server creates it");
	{
		struct stat st;

		ok(!stat(sub, &st) && (st.st_mode & 0777) == 0700,
		   "created 0700");
	}
	chmod(sub, 0750);
	is_int(ctl_dir_prepare(sub, true, &why), -EPERM,
	       "group-accessible directory refused");
	ok(why && strstr(why, "group or others"), "and says why");
	chmod(sub, 0700);
	rmdir(sub);
	if (symlink("/tmp", sub) == 0) {
		is_int(ctl_dir_prepare(sub, true, &why), -ENOTDIR,
		       "a symlink in its place is refused");
		unlink(sub);
	} else {
		ok(0, "symlink: %s", strerror(errno));
	}
	rmdir(tmpl);

	setenv("XDG_RUNTIME_DIR", "/run/user/7", 1);
	is_int(ctl_dir(buf, sizeof(buf)), 0, "XDG_RUNTIME_DIR set");
	ok(!strcmp(buf, "/run/user/7/lkvm"), "-> $XDG_RUNTIME_DIR/lkvm");
	setenv("XDG_RUNTIME_DIR", "relative", 1);
	setenv("HOME", "/home/u", 1);
	is_int(ctl_dir(buf, sizeof(buf)), 0, "relative XDG_RUNTIME_DIR ignored");
	ok(!strcmp(buf, "/home/u/.lkvm"), "-> ~/.lkvm (kvmtool's place)");
	unsetenv("XDG_RUNTIME_DIR");
	unsetenv("HOME");
	is_int(ctl_dir(buf, sizeof(buf)), -ENOENT, "neither: -ENOENT");
}

int main(void)
{
	tap_plan(21);
	test_names();
	test_dir();
	return tap_done();
}
