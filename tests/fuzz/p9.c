// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the 9P2000.L server (fs/p9.c and its ops) through its
 * dispatch entry point p9_server_handle(), as virtio/9p.c calls it, on a
 * session of messages from the input, against a fresh temporary export
 * each time (a file, a directory, a symlink pointing out of the export).
 * Besides the sanitizers it checks the server's promise: nothing outside
 * the export changes (a sentinel file next to it, and no new entries).
 *
 * Input: byte 0 picks how each request is split into iovecs (as a guest
 * may scatter it), byte 1 bit 0 a read-only export; then the messages,
 * each as long as its own size field says (clamped to what is left).
 */
#include "fs/p9.h"
#include "p9-fixture.h"

#define RESP_SIZE	8192

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

static void fixture(void)
{
	char p[160];

	p9fx_export_empty("p9");
	snprintf(p, sizeof(p), "%s/file", p9fx_export);
	p9fx_write_file(p, "hello, 9p\n");
	snprintf(p, sizeof(p), "%s/dir", p9fx_export);
	if (mkdir(p, 0755))
		abort();
	snprintf(p, sizeof(p), "%s/dir/inner", p9fx_export);
	p9fx_write_file(p, "inner\n");
	snprintf(p, sizeof(p), "%s/out", p9fx_export);
	if (symlink("../sentinel", p))
		abort();
}

static u32 le32(const u8 *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (u32)p[3] << 24;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static u8 resp[RESP_SIZE];
	struct p9_opts opts = { 0 };
	struct p9_server *srv;
	struct iovec rq[3], rs[2];
	size_t off = 2, n, cut, reply;
	char err[256];
	unsigned int nreq;

	if (size < 2)
		return 0;
	fixture();
	opts.root = p9fx_export;
	opts.readonly = data[1] & 1;
	opts.max_msize = RESP_SIZE;
	opts.max_fids = 64;
	if (p9_server_open(&opts, &srv, err, sizeof(err)))
		abort();
	while (off < size) {
		n = size - off;
		if (n >= 4 && le32(data + off) && le32(data + off) < n)
			n = le32(data + off);
		/* Scatter: up to three pieces, cut where byte 0 says. */
		cut = (data[0] & 15) < n ? data[0] & 15 : n;
		rq[0] = (struct iovec){ (void *)(data + off), cut };
		rq[1] = (struct iovec){ (void *)(data + off + cut), (n - cut) / 2 };
		rq[2] = (struct iovec){ (void *)(data + off + cut + rq[1].iov_len),
					n - cut - rq[1].iov_len };
		nreq = data[0] & 16 ? 3 : 1;
		if (nreq == 1)
			rq[0].iov_len = n;
		rs[0] = (struct iovec){ resp, (data[0] >> 5) * 7 + 1 };
		rs[1] = (struct iovec){ resp + rs[0].iov_len,
					RESP_SIZE - rs[0].iov_len };
		reply = p9_server_handle(srv, rq, nreq, n, rs, 2, RESP_SIZE);
		if (reply > RESP_SIZE || (reply >= 4 && le32(resp) != reply))
			abort();
		off += n;
	}
	p9_server_close(srv);
	p9fx_check_outside();
	return 0;
}
