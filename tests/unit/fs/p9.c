// SPDX-License-Identifier: GPL-2.0
/*
 * fs/p9.c: the codec, the dispatch and the fid table.  Tversion and msize
 * negotiation, Tauth and unknown types, Tflush, xattrs, fid reuse, the
 * max_fids and msize limits (request and reply), the driver's reply room,
 * size fields that lie, every message type truncated at every length,
 * counts past the message, a read-only export refusing every mutating
 * message with the host tree unchanged, random bit flips and truncations
 * of valid messages (run under ASan in `make SANITIZE=1`), and several
 * threads using one server at once.
 */
#include <ftw.h>
#include <pthread.h>
#include <sys/stat.h>

#include "tap.h"
#include "p9-client.h"

#define ROOT	1
#define FILEF	2		/* "f", open read-write */
#define DIRF	3		/* the root, open */
#define SYMF	4		/* "s", a symlink */
#define SPARE	5

static char hpath[4][512];
static int hnext;

static const char *host(const char *rel)
{
	char *p = hpath[hnext++ % 4];

	snprintf(p, sizeof(hpath[0]), "%s/%s", export_dir, rel);
	return p;
}

/* Version, attach and the fids the message templates use. */
static int session(void)
{
	int ret = c_version(P9_MSIZE_MAX, "9P2000.L", NULL, NULL);

	ret = ret ?: c_attach(ROOT);
	ret = ret ?: c_walk(ROOT, FILEF, "f");
	ret = ret ?: c_lopen(FILEF, 2);
	ret = ret ?: c_walk(ROOT, DIRF, "");
	ret = ret ?: c_lopen(DIRF, 0);
	ret = ret ?: c_walk(ROOT, SYMF, "s");
	return ret;
}

/* A valid message of each type the server knows (body only; tpos set). */
static const struct tmpl {
	u8 type;
	const char *name;
	bool mutates;
} tmpls[] = {
	{ P9_TVERSION, "Tversion" }, { P9_TATTACH, "Tattach" },
	{ P9_TWALK, "Twalk" }, { P9_TLOPEN, "Tlopen" },
	{ P9_TLCREATE, "Tlcreate", true }, { P9_TREAD, "Tread" },
	{ P9_TWRITE, "Twrite", true }, { P9_TCLUNK, "Tclunk" },
	{ P9_TREMOVE, "Tremove", true }, { P9_TGETATTR, "Tgetattr" },
	{ P9_TSETATTR, "Tsetattr", true }, { P9_TREADDIR, "Treaddir" },
	{ P9_TSTATFS, "Tstatfs" }, { P9_TMKDIR, "Tmkdir", true },
	{ P9_TSYMLINK, "Tsymlink", true }, { P9_TMKNOD, "Tmknod", true },
	{ P9_TRENAME, "Trename", true }, { P9_TRENAMEAT, "Trenameat", true },
	{ P9_TUNLINKAT, "Tunlinkat", true }, { P9_TLINK, "Tlink", true },
	{ P9_TREADLINK, "Treadlink" }, { P9_TFSYNC, "Tfsync" },
	{ P9_TLOCK, "Tlock" }, { P9_TGETLOCK, "Tgetlock" },
	{ P9_TXATTRWALK, "Txattrwalk" }, { P9_TXATTRCREATE, "Txattrcreate", true },
	{ P9_TFLUSH, "Tflush" }, { P9_TAUTH, "Tauth" },
};

static void build(u8 type)
{
	t_begin(type);
	switch (type) {
	case P9_TVERSION: t32(8192); tstr("9P2000.L"); break;
	case P9_TAUTH: t32(SPARE); tstr("u"); tstr(""); t32(0); break;
	case P9_TATTACH: t32(SPARE); t32(P9_NOFID); tstr("u"); tstr(""); t32(0); break;
	case P9_TWALK: t32(ROOT); t32(SPARE); t16(1); tstr("f"); break;
	case P9_TLOPEN: t32(ROOT); t32(0); break;
	case P9_TLCREATE: t32(ROOT); tstr("new"); t32(2); t32(0644); t32(0); break;
	case P9_TREAD: t32(FILEF); t64(0); t32(64); break;
	case P9_TWRITE: t32(FILEF); t64(0); t32(4); t32(0x74736574); break;
	case P9_TCLUNK: case P9_TREMOVE: case P9_TSTATFS: case P9_TREADLINK:
		t32(type == P9_TREADLINK ? SYMF : SPARE);
		break;
	case P9_TGETATTR: t32(FILEF); t64(0x7ff); break;
	case P9_TSETATTR:
		t32(FILEF); t32(0x1); t32(0644); t32(0); t32(0); t64(0);
		t64(0); t64(0); t64(0); t64(0);
		break;
	case P9_TREADDIR: t32(DIRF); t64(0); t32(4000); break;
	case P9_TMKDIR: t32(ROOT); tstr("nd"); t32(0755); t32(0); break;
	case P9_TSYMLINK: t32(ROOT); tstr("ns"); tstr("f"); t32(0); break;
	case P9_TMKNOD: t32(ROOT); tstr("np"); t32(S_IFIFO | 0644); t32(0); t32(0); t32(0); break;
	case P9_TRENAME: t32(FILEF); t32(ROOT); tstr("f2"); break;
	case P9_TRENAMEAT: t32(ROOT); tstr("f"); t32(ROOT); tstr("f3"); break;
	case P9_TUNLINKAT: t32(ROOT); tstr("f"); t32(0); break;
	case P9_TLINK: t32(ROOT); t32(FILEF); tstr("fl"); break;
	case P9_TFSYNC: t32(FILEF); t32(0); break;
	case P9_TLOCK: t32(FILEF); t8(0); t32(0); t64(0); t64(1); t32(1); tstr("c"); break;
	case P9_TGETLOCK: t32(FILEF); t8(0); t64(0); t64(1); t32(1); tstr("c"); break;
	case P9_TXATTRWALK: t32(FILEF); t32(SPARE); tstr("user.x"); break;
	case P9_TXATTRCREATE: t32(FILEF); tstr("user.x"); t64(1); t32(0); break;
	case P9_TFLUSH: t16(7); break;
	}
}

static bool reply_sane(void)
{
	u32 size;

	if (rlen < P9_HDR || rlen > resp_room)
		return false;
	size = (u32)rb[0] | (u32)rb[1] << 8 | (u32)rb[2] << 16 | (u32)rb[3] << 24;
	if (rb[4] == P9_RLERROR && rlen != P9_HDR + 4)
		return false;
	return size == rlen && (rb[4] & 1);
}

static void version_and_types(void)
{
	char ver[64];
	u32 m;

	is_int(c_version(1 << 20, "9P2000.L", &m, ver), 0, "Tversion");
	ok(m == P9_MSIZE_MAX && !strcmp(ver, "9P2000.L"),
	   "a client's 1 MiB msize comes back as the server's maximum");
	is_int(c_version(8000, "9P2000.u", &m, ver), 0, "Tversion 9P2000.u");
	ok(m == 8000 && !strcmp(ver, "unknown"), "answers 'unknown' (and the client's smaller msize)");
	is_int(c_version(4095, "9P2000.L", NULL, NULL), -EINVAL, "msize 4095: EINVAL");
	c_version(65536, "9P2000.L", NULL, NULL);
	is_int(c_attach(ROOT), 0, "Tattach");
	is_int(c_attach(ROOT), -EEXIST, "Tattach to a fid in use: EEXIST");
	is_int(c_version(65536, "9P2000.L", NULL, NULL), 0, "Tversion again");
	is_int(c_clunk(ROOT), -EBADF, "dropped every fid");

	build(P9_TAUTH);
	is_int(rpc(), -EOPNOTSUPP, "Tauth: Rlerror EOPNOTSUPP");
	t_begin(P9_TOPEN);
	t32(1);
	t8(0);
	is_int(rpc(), -EOPNOTSUPP, "9P2000's Topen: EOPNOTSUPP");
	t_begin(200);
	is_int(rpc(), -EOPNOTSUPP, "an unknown type: EOPNOTSUPP");
	t_begin(P9_RVERSION);
	t32(8192);
	tstr("9P2000.L");
	is_int(rpc(), -EPROTO, "an R-message sent as a request: EPROTO");
	build(P9_TFLUSH);
	ok(!rpc() && rlen == P9_HDR, "Tflush: an empty Rflush");

	session();
	build(P9_TXATTRWALK);
	is_int(rpc(), -EOPNOTSUPP, "Txattrwalk: EOPNOTSUPP");
	build(P9_TXATTRCREATE);
	is_int(rpc(), -EOPNOTSUPP, "Txattrcreate: EOPNOTSUPP");
	t_begin(P9_TXATTRWALK);
	t32(99); t32(SPARE); tstr("");
	is_int(rpc(), -EBADF, "Txattrwalk of an unknown fid: EBADF");
	is_int(c_walk(ROOT, FILEF, ""), -EEXIST, "walk to a newfid in use: EEXIST");
	is_int(c_walk(ROOT, P9_NOFID, ""), -EBADF, "walk to NOFID: EBADF");
	is_int(c_walk(77, 78, ""), -EBADF, "walk from an unknown fid: EBADF");
	is_int(c_walk(FILEF, 78, "x"), -ENOTDIR, "walk from a file: ENOTDIR");
	is_int(c_walk(SPARE - 1, SPARE - 1, ""), 0, "walk of no names onto itself");
	is_int(c_getattr(SPARE - 1, &(struct c_attr){ 0 }), 0, "leaves the fid as it was");
}

static void headers(void)
{
	u8 save[32];
	int ret;

	session();
	/* fewer than 7 bytes: no tag to answer to */
	build(P9_TCLUNK);
	t_hdr((u32)tpos);
	send_raw(5);
	ok(reply_sane() && rb[4] == P9_RLERROR && rb[5] == 0xff && rb[6] == 0xff &&
	   rb[7] == EPROTO, "a 5-byte request: Rlerror EPROTO with NOTAG");
	/* size field larger than what the driver gave */
	build(P9_TGETATTR);
	t_hdr((u32)tpos + 1);
	send_raw(tpos);
	ok(reply_sane() && rb[4] == P9_RLERROR && rb[7] == EPROTO, "size > given bytes: EPROTO");
	t_hdr(6);
	send_raw(tpos);
	ok(reply_sane() && rb[4] == P9_RLERROR && rb[7] == EPROTO, "size < 7: EPROTO");
	/* size field smaller than what the driver gave: the rest is not the message */
	build(P9_TGETATTR);
	t_hdr((u32)tpos);
	memcpy(tb + tpos, "garbage", 7);
	send_raw(tpos + 7);
	ok(reply_sane() && rb[4] == P9_RGETATTR, "bytes past the size field are ignored");
	/* fields ending before the message does */
	build(P9_TCLUNK);
	t32(0);
	is_int(rpc(), -EPROTO, "a message longer than its fields: EPROTO");
	is_int(c_getattr(SPARE, &(struct c_attr){ 0 }), -EBADF, "(and did nothing)");
	/* counts past the message */
	t_begin(P9_TWRITE);
	t32(FILEF); t64(0); t32(1000); t32(0);
	is_int(rpc(), -EPROTO, "Twrite count 1000 with 4 bytes: EPROTO");
	t_begin(P9_TWRITE);
	t32(FILEF); t64(0); t32(2); t32(0);
	is_int(rpc(), -EPROTO, "Twrite count 2 with 4 bytes: EPROTO");
	t_begin(P9_TWALK);
	t32(ROOT); t32(SPARE); t16(16); tstr("f");
	is_int(rpc(), -EPROTO, "Twalk of 16 names carrying 1: EPROTO");
	t_begin(P9_TWRITE);
	t32(FILEF); t64(~0ull); t32(4); t32(0);
	is_int(rpc(), -EINVAL, "Twrite at offset 2^64-1: EINVAL");

	/* the driver's reply room */
	resp_room = 10;
	build(P9_TGETATTR);
	t_hdr((u32)tpos);
	memset(rb, 0xa5, 32);
	ret = (int)send_raw(tpos);
	memset(save, 0xa5, sizeof(save));
	ok(ret == 0 && !memcmp(rb, save, 32), "room for less than an Rlerror: 0, nothing written");
	resp_room = 50;
	build(P9_TGETATTR);
	is_int(rpc(), -ENOBUFS, "an Rgetattr that does not fit the room: ENOBUFS");
	c_write(FILEF, 0, "0123456789012345678901234567890123456789012345678901234567890123", 64);
	build(P9_TREAD);
	ret = rpc();
	ok(!ret && r32() == 50 - 11 && rlen == 50, "Tread of 64 with 50 bytes of room: 39 bytes");
	resp_room = CL_BUF;
}

static void limits(void)
{
	static u8 big[10000];
	u32 m;
	int ret, i;

	p9_server_close(srv);
	server_start(false, 8192, 8);
	is_int(c_version(1 << 20, "9P2000.L", &m, NULL), 0, "Tversion with max_msize 8192");
	is_int(m, 8192, "msize is 8192");
	is_int(c_attach(ROOT), 0, "Tattach");
	for (i = 0, ret = 0; i < 7 && !ret; i++)
		ret = c_walk(ROOT, 10 + i, "");
	is_int(ret, 0, "seven more fids (eight in all)");
	is_int(c_walk(ROOT, 20, ""), -EMFILE, "a ninth: EMFILE");
	c_clunk(10);
	is_int(c_walk(ROOT, 20, ""), 0, "after a Tclunk there is room again");
	is_int(c_walk(ROOT, 11, ""), -EEXIST, "reusing a number needs a Tclunk first");
	is_int(c_walk(20, 20, "f"), 0, "walking a fid onto itself needs no room");
	c_lopen(20, 2);
	is_int(c_write(20, 0, big, 8192 - 23), 8192 - 23, "a Twrite of exactly msize");
	is_int(c_write(20, 0, big, 8192 - 22), -EPROTO, "one byte more: EPROTO");
	c_write(20, 8192, big, 8192 - 23);
	ret = c_read(20, 0, big, 100000);
	is_int(ret, 8192 - 11, "Tread of 100000 gets msize - 11 bytes");
	ok(rlen == 8192, "a reply of exactly msize");
	p9_server_close(srv);
	server_start(false, 0, 0);
}

static void truncations(void)
{
	size_t i, len, full;
	int bad;

	for (i = 0; i < ARRAY_SIZE(tmpls); i++) {
		bad = 0;
		session();
		build(tmpls[i].type);
		full = tpos;
		for (len = P9_HDR; len < full; len++) {
			t_hdr((u32)len);
			send_raw(len);
			if (!reply_sane() || rb[4] != P9_RLERROR)
				bad++;
			/* and the size field claiming more than is there */
			t_hdr((u32)full);
			send_raw(len);
			if (!reply_sane() || rb[4] != P9_RLERROR || rb[7] != EPROTO)
				bad++;
		}
		ok(!bad, "%s cut at every length: always Rlerror (%zu lengths)",
		   tmpls[i].name, full - P9_HDR);
	}
}

/* The host tree as text: name, type, mode, size, mtime of each entry. */
static char snap[65536];
static size_t snap_len;

static int snap_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)flag;
	(void)ftw;
	snap_len += snprintf(snap + snap_len, sizeof(snap) - snap_len, "%s %o %lld %lld.%ld %lu\n",
			     p, st->st_mode, (long long)st->st_size,
			     (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
			     (unsigned long)st->st_nlink);
	return snap_len >= sizeof(snap) - 1;
}

static char *snapshot(void)
{
	snap_len = 0;
	nftw(export_dir, snap_one, 16, FTW_PHYS);
	return strdup(snap);
}

static void readonly(void)
{
	static const u32 opens[] = { 1, 2, 01000, 01000 | 0 };
	char *before, *after, buf[16];
	size_t i;
	int bad = 0, ret;

	p9_server_close(srv);
	server_start(true, 0, 0);
	c_version(65536, "9P2000.L", NULL, NULL);
	c_attach(ROOT);
	c_walk(ROOT, FILEF, "f");
	is_int(c_lopen(FILEF, 0), 0, "ro: Tlopen read-only works");
	c_walk(ROOT, DIRF, "");
	c_lopen(DIRF, 0);
	c_walk(ROOT, SYMF, "s");
	before = snapshot();
	for (i = 0; i < ARRAY_SIZE(tmpls); i++) {
		if (!tmpls[i].mutates)
			continue;
		if (tmpls[i].type == P9_TREMOVE) {
			c_walk(ROOT, SPARE, "f");
			ret = c_fid1(P9_TREMOVE, SPARE);
			is_int(ret, -EROFS, "ro: Tremove: EROFS");
			is_int(c_clunk(SPARE), -EBADF, "ro: and Tremove still clunked the fid");
			continue;
		}
		build(tmpls[i].type);
		ret = rpc();
		if (ret != -EROFS) {
			diag("%s: %d", tmpls[i].name, ret);
			bad++;
		}
	}
	is_int(bad, 0, "ro: every other mutating type: EROFS");
	for (i = 0; i < ARRAY_SIZE(opens); i++) {
		c_walk(ROOT, SPARE, "f");
		ret = c_lopen(SPARE, opens[i]);
		c_clunk(SPARE);
		if (ret != -EROFS)
			bad++;
	}
	is_int(bad, 0, "ro: Tlopen for writing or with O_TRUNC: EROFS");
	ok(c_read(FILEF, 0, buf, sizeof(buf)) >= 0 && !c_getattr(FILEF, &(struct c_attr){ 0 }),
	   "ro: Tread and Tgetattr work");
	build(P9_TREADDIR);
	ok(!rpc() && r32() > 0, "ro: Treaddir works");
	after = snapshot();
	ok(!strcmp(before, after), "ro: the host tree is unchanged");
	if (strcmp(before, after))
		diag("before:\n%s\nafter:\n%s", before, after);
	free(before);
	free(after);
	p9_server_close(srv);
	server_start(false, 0, 0);
}

static void fuzz(void)
{
	unsigned int seed = 12345, iter, bad = 0, errors = 0;
	size_t len;

	mkdir(host("fz"), 0755);
	for (iter = 0; iter < 30000; iter++) {
		const struct tmpl *t = &tmpls[rand_r(&seed) % ARRAY_SIZE(tmpls)];
		unsigned int flips = rand_r(&seed) % 4, k;

		if (iter % 64 == 0) {
			/* mutated renames and unlinks take these away */
			if (access(host("f"), F_OK))
				host_write(host("f"), "file f");
			if (symlink("f", host("s")) && errno != EEXIST)
				perror("symlink");
			session();
		}
		build(t->type);
		len = tpos;
		t_hdr((u32)len);
		for (k = 0; k < flips; k++) {
			size_t at = rand_r(&seed) % len;

			tb[at] ^= (u8)(1u << (rand_r(&seed) % 8));
		}
		if (rand_r(&seed) % 3 == 0)
			len = rand_r(&seed) % (len + 1);
		split_mode = rand_r(&seed) & 1;
		resp_room = rand_r(&seed) % 4 ? CL_BUF : 11 + rand_r(&seed) % 200;
		send_raw(len);
		if (!reply_sane() || (len >= P9_HDR && memcmp(rb + 5, tb + 5, 2)) ||
		    (len < P9_HDR && (rb[5] & rb[6]) != 0xff)) {
			if (bad++ < 5)
				diag("%s len %zu room %zu: reply %zu type %d", t->name, len,
				     resp_room, rlen, rlen > 4 ? rb[4] : -1);
		}
		else if (rb[4] == P9_RLERROR)
			errors++;
	}
	split_mode = 0;
	resp_room = CL_BUF;
	ok(!bad, "30000 mutated messages: every reply well formed (%u errors)", errors);
}

/* Several threads at once: per-thread messages and buffers. */
struct worker {
	int id, bad;
};

static size_t w_msg(u8 *b, u8 type, u16 tag, const u8 *body, size_t n)
{
	size_t len = P9_HDR + n;

	b[0] = (u8)len; b[1] = (u8)(len >> 8); b[2] = 0; b[3] = 0;
	b[4] = type; b[5] = (u8)tag; b[6] = (u8)(tag >> 8);
	memcpy(b + P9_HDR, body, n);
	return len;
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	u8 req[64], resp[8192], body[32];
	u32 fid = 1000 + w->id;
	int i;

	for (i = 0; i < 3000; i++) {
		struct iovec rq, rs = { resp, sizeof(resp) };
		size_t n;

		/* walk ROOT -> fid "f", getattr, clunk; another thread resets now and then */
		memcpy(body, (u32[]){ ROOT }, 4);
		memcpy(body + 4, &fid, 4);
		memcpy(body + 8, (u16[]){ 1 }, 2);
		memcpy(body + 10, (u16[]){ 1 }, 2);
		body[12] = 'f';
		rq = (struct iovec){ req, w_msg(req, P9_TWALK, 1, body, 13) };
		n = p9_server_handle(srv, &rq, 1, rq.iov_len, &rs, 1, sizeof(resp));
		if (n < 11)
			w->bad++;
		memcpy(body, &fid, 4);
		memset(body + 4, 0xff, 8);
		rq = (struct iovec){ req, w_msg(req, P9_TGETATTR, 2, body, 12) };
		n = p9_server_handle(srv, &rq, 1, rq.iov_len, &rs, 1, sizeof(resp));
		if (n < 11 || (resp[4] != P9_RGETATTR && resp[4] != P9_RLERROR))
			w->bad++;
		rq = (struct iovec){ req, w_msg(req, P9_TCLUNK, 3, body, 4) };
		p9_server_handle(srv, &rq, 1, rq.iov_len, &rs, 1, sizeof(resp));
		if (w->id == 0 && i % 100 == 0) {
			p9_server_reset(srv);
			memcpy(body, (u32[]){ ROOT, P9_NOFID }, 8);
			memcpy(body + 8, (u16[]){ 0, 0 }, 4);
			memcpy(body + 12, (u32[]){ 0 }, 4);
			rq = (struct iovec){ req, w_msg(req, P9_TATTACH, 4, body, 16) };
			p9_server_handle(srv, &rq, 1, rq.iov_len, &rs, 1, sizeof(resp));
		}
	}
	return NULL;
}

static void threads(void)
{
	struct worker w[4];
	pthread_t t[4];
	int i, bad = 0;

	session();
	for (i = 0; i < 4; i++) {
		w[i] = (struct worker){ .id = i };
		pthread_create(&t[i], NULL, worker_run, &w[i]);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		bad += w[i].bad;
	}
	is_int(bad, 0, "4 threads walking, reading attributes, clunking, one resetting");
}

int main(void)
{
	tap_plan(86);
	export_make();
	host_write(host("f"), "file f");
	if (symlink("f", host("s")))
		perror("symlink");
	if (server_start(false, 0, 0))
		return 1;
	version_and_types();
	headers();
	limits();
	truncations();
	readonly();
	fuzz();
	threads();
	p9_server_close(srv);
	export_remove();
	return tap_done();
}
