// SPDX-License-Identifier: GPL-2.0
/*
 * fs/p9.c resource bounds, measured as this process's RSS around the
 * real p9_server_handle() path (the virtio-9p device calls nothing
 * else):
 *  - fids: P9_FIDS_MAX fids, each walked to a directory whose path is
 *    close to PATH_MAX, then one more (EMFILE); RSS grows by at most
 *    P9_FIDS_MAX x (struct p9_fid + PATH_MAX) and a Tclunk of all of
 *    them gives the room back; a Twalk of P9_MAXWELEM + 1 names is
 *    refused;
 *  - msize: a Tversion asking 16 MiB gets P9_MSIZE_MAX, a Tread and a
 *    Treaddir of 16 MiB get at most msize, and the peak RSS of each
 *    request is within the two msize buffers the server may hold.
 */
#include <limits.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "tap.h"
#include "rss.h"
#include "p9-client.h"

#define ROOT		1
#define FIRST		100
#define SLACK_KIB	2048	/* malloc arenas, stdio, page tables */
#define NAME_LEN	250
#define DEPTH		16	/* P9_MAXWELEM names: one Twalk */

static char names[DEPTH][NAME_LEN + 1];

/* DEPTH nested directories of NAME_LEN-byte names: a 4000-byte path. */
static int deep_dirs(void)
{
	char path[8192];
	size_t n = (size_t)snprintf(path, sizeof(path), "%s", export_dir);

	for (int i = 0; i < DEPTH; i++) {
		memset(names[i], 'a' + i, NAME_LEN);
		names[i][NAME_LEN] = '\0';
		n += (size_t)snprintf(path + n, sizeof(path) - n, "/%s", names[i]);
		if (mkdir(path, 0755) && errno != EEXIST)
			return -errno;
	}
	return 0;
}

static void fids(void)
{
	const char *nv[DEPTH];
	struct rlimit rl;
	long before, after, budget;
	int ret = 0, i;

	for (i = 0; i < DEPTH; i++)
		nv[i] = names[i];
	/* Each fid holds an O_PATH fd. */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < P9_FIDS_MAX + 64) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur < P9_FIDS_MAX + 64) {
		for (i = 0; i < 4; i++)
			ok(1, "# SKIP RLIMIT_NOFILE below %d", P9_FIDS_MAX + 64);
		return;
	}
	budget = (long)(P9_FIDS_MAX * (sizeof(struct p9_fid) + PATH_MAX + 32) /
			1024) + SLACK_KIB;
	before = rss_kib(0);
	for (i = 0, ret = DEPTH; i < P9_FIDS_MAX - 1 && ret == DEPTH; i++)
		ret = c_walkv(ROOT, FIRST + i, DEPTH, nv);
	if (ret != DEPTH)
		diag("fid %d: %d", i, ret);
	ok(ret == DEPTH && i == P9_FIDS_MAX - 1,
	   "P9_FIDS_MAX fids (the root and 4095 walked 4000 bytes deep)");
	is_int(c_walkv(ROOT, FIRST + P9_FIDS_MAX, DEPTH, nv), -EMFILE,
	       "one more fid: Rlerror EMFILE");
	{
		const char *n17[P9_MAXWELEM + 1];

		for (i = 0; i <= P9_MAXWELEM; i++)
			n17[i] = ".";
		is_int(c_walkv(ROOT, ROOT, P9_MAXWELEM + 1, n17), -EINVAL,
		       "a Twalk of P9_MAXWELEM + 1 names: Rlerror EINVAL");
	}
	after = rss_kib(0);
	diag("fids: RSS %ld KiB before, %ld KiB at the bound; budget %ld KiB",
	     before, after, budget);
	rss_within(after - before, budget, "4096 fids");
	for (i = 0, ret = 0; i < P9_FIDS_MAX - 1 && !ret; i++)
		ret = c_clunk(FIRST + i);
	is_int(ret, 0, "every fid clunked");
}

static const char *host(const char *rel)
{
	static char p[512];

	snprintf(p, sizeof(p), "%s/%s", export_dir, rel);
	return p;
}

static void msize(void)
{
	static u8 data[64 * 1024];
	long before, peak, budget = 2 * P9_MSIZE_MAX / 1024 + SLACK_KIB;
	u32 m = 0;
	int fd, ret;

	is_int(c_version(16 << 20, "9P2000.L", &m, NULL), 0, "Tversion asking 16 MiB");
	is_int(m, P9_MSIZE_MAX, "msize is P9_MSIZE_MAX");
	c_attach(ROOT);
	c_walk(ROOT, 2, "");
	c_lcreate(2, "big", 2, 0644);
	fd = open(host("big"), O_WRONLY);
	for (int i = 0; fd >= 0 && i < 64; i++)
		if (write(fd, data, sizeof(data)) != sizeof(data))
			break;
	if (fd >= 0)
		close(fd);
	c_walk(ROOT, 3, "");
	c_lopen(3, 0);
	memset(tb, 0, sizeof(tb));	/* the client's buffers: resident now */
	memset(rb, 0, sizeof(rb));
	before = rss_kib(0);
	hwm_reset();
	t_begin(P9_TREAD);
	t32(2);
	t64(0);
	t32(16 << 20);
	ret = rpc();
	ok(!ret && r32() == P9_MSIZE_MAX - 11 && rlen == P9_MSIZE_MAX,
	   "Tread of 16 MiB: a reply of exactly msize");
	t_begin(P9_TREADDIR);
	t32(3);
	t64(0);
	t32(16 << 20);
	ret = rpc();
	ok(!ret && rlen <= P9_MSIZE_MAX, "Treaddir of 16 MiB: at most msize");
	t_begin(P9_TWRITE);
	t32(2);
	t64(0);
	t32(P9_MSIZE_MAX);
	tpos += P9_MSIZE_MAX;
	is_int(rpc(), -EPROTO, "a Twrite one msize long (header over): EPROTO");
	peak = hwm_kib(0);
	diag("msize: RSS %ld KiB before, peak %ld KiB; budget %ld KiB",
	     before, peak, budget);
	rss_within(peak - before, budget, "requests of 16 MiB: two msize buffers");
}

int main(void)
{
	tap_plan(12);
	export_make();
	if (deep_dirs() || server_start(false, 0, 0)) {
		printf("# could not make the export\n");
		return 1;
	}
	is_int(c_version(P9_MSIZE_MAX, "9P2000.L", NULL, NULL) ?:
	       c_attach(ROOT), 0, "session");
	fids();
	p9_server_close(srv);
	server_start(false, 0, 0);
	msize();
	p9_server_close(srv);
	export_remove();
	return tap_done();
}
