// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: a qcow2 image with a backing file, opened by the real
 * disk_open() as `lkvm run -d top.qcow2` opens it (format probed, backing
 * files under the default rule), then reads, writes, discards,
 * write-zeroes and flushes through disk_submit() and disk_drain(), as
 * virtio-blk does, one at a time.
 *
 * Input, little-endian:
 *   0..3   length of the top image   4..7 length of the backing image
 *   8      flags: bit 0 read-only
 *   9..15  spare
 *   then the top image (written as top.qcow2 in a private directory; the
 *   seeds name base.qcow2 as their backing file), the backing image
 *   (base.qcow2), then operations of 8 bytes:
 *     0 op (% 5: read, write, discard, write-zeroes, flush)
 *     1 pattern   2..5 sector   6 sectors - 1   7 where the iovec splits
 *
 * Besides the sanitizers: every request returns 0 or a negative errno;
 * the backing file never changes; and while the image is one lkvm laid
 * out itself (the top's L1 table empty at open, as `qemu-img create -b`
 * leaves it) and nothing has failed, reading back sectors written,
 * zeroed or copied from what a read returned gives that data.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lkvm/disk.h"
#include "lkvm/log.h"

#define HDR		16
#define MAX_SECTORS	64
#define SHADOW_SECTORS	8192		/* 4 MiB tracked */

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

static char dir[64], top[96], bak[96];
static u8 buf[MAX_SECTORS * 512], shadow[SHADOW_SECTORS][512];
static bool known[SHADOW_SECTORS];

static void cleanup(void)
{
	unlink(top);
	unlink(bak);
	rmdir(dir);
}

static u32 le32(const u8 *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (u32)p[3] << 24;
}

static u64 be64(const u8 *p)
{
	u64 v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void put(const char *path, const u8 *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || write(fd, p, n) != (ssize_t)n)
		abort();
	close(fd);
}

/* The backing file as the input gave it. */
static void check_backing(const u8 *p, size_t n)
{
	static u8 got[1 << 20];
	int fd = open(bak, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		abort();
	r = read(fd, got, sizeof(got));
	close(fd);
	if (r != (ssize_t)(n < sizeof(got) ? n : sizeof(got)) ||
	    memcmp(got, p, r))
		abort();
}

/* qcow2 with an all-zero L1 table: every cluster mapping will be ours. */
static bool fresh_image(const u8 *p, size_t n)
{
	u64 l1_off, l1_n;

	if (n < 48 || memcmp(p, "QFI\xfb", 4))
		return false;
	l1_n = p[36] << 24 | p[37] << 16 | p[38] << 8 | p[39];
	l1_off = be64(p + 40);
	if (l1_off > n || l1_n * 8 > n - l1_off)
		return false;
	for (u64 i = 0; i < l1_n * 8; i++)
		if (p[l1_off + i])
			return false;
	return true;
}

static int last_ret;

static void done(struct disk_req *req __unused, int ret)
{
	last_ret = ret;
}

static bool is_errno(int ret)
{
	return ret == 0 || (ret < 0 && ret > -4096);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct disk_opts o = { 0 };
	struct disk_req req;
	struct iovec iov[2];
	struct disk *d;
	size_t tn, bn, off;
	char err[256];
	bool trust;
	int ret;

	if (size < HDR)
		return 0;
	if (!dir[0]) {
		log_level = LOG_ERROR;
		strcpy(dir, "/tmp/lkvm-fuzz-qcow2.XXXXXX");
		if (!mkdtemp(dir))
			abort();
		snprintf(top, sizeof(top), "%s/top.qcow2", dir);
		snprintf(bak, sizeof(bak), "%s/base.qcow2", dir);
		atexit(cleanup);
	}
	tn = le32(data);
	bn = le32(data + 4);
	off = HDR;
	tn = tn < size - off ? tn : size - off;
	off += tn;
	bn = bn < size - off ? bn : size - off;
	put(top, data + HDR, tn);
	put(bak, data + off, bn);
	off += bn;

	o.path = top;
	o.readonly = data[8] & 1;
	if (disk_open(&o, &d, err, sizeof(err)))
		goto out;
	trust = fresh_image(data + HDR, tn);
	memset(known, 0, sizeof(known));

	for (; off + 8 <= size; off += 8) {
		const u8 *op = data + off;
		u64 sec = le32(op + 2) % (d->size / 512 + 16);
		u32 n = op[6] % MAX_SECTORS + 1, cut = op[7] % (n * 512 + 1);

		memset(&req, 0, sizeof(req));
		req.op = (enum disk_op)(op[0] % 5);
		req.offset = sec * 512;
		req.len = (u64)n * 512;
		req.done = done;
		iov[0] = (struct iovec){ buf, cut };
		iov[1] = (struct iovec){ buf + cut, n * 512 - cut };
		req.iov = cut ? iov : iov + 1;
		req.iovcnt = cut ? 2 : 1;
		if (req.op == DISK_OP_WRITE)
			memset(buf, op[1], n * 512);
		else
			memset(buf, 0xa5, sizeof(buf));
		if (req.op == DISK_OP_FLUSH)
			req.len = 0;
		last_ret = 1;
		ret = disk_submit(d, &req);
		if (!is_errno(ret))
			abort();
		if (!ret) {
			disk_drain(d);
			ret = last_ret;
			if (!is_errno(ret))
				abort();	/* done() never ran, or a bad value */
		}
		if (ret) {
			trust = false;
			continue;
		}
		for (u32 i = 0; trust && i < n && sec + i < SHADOW_SECTORS; i++) {
			u8 *s = shadow[sec + i], *b = buf + 512 * i;

			switch (req.op) {
			case DISK_OP_READ:
				if (known[sec + i] && memcmp(s, b, 512))
					abort();	/* not what was written */
				memcpy(s, b, 512);
				known[sec + i] = true;
				break;
			case DISK_OP_WRITE:
				memcpy(s, b, 512);
				known[sec + i] = true;
				break;
			case DISK_OP_WRITE_ZEROES:
				memset(s, 0, 512);
				known[sec + i] = true;
				break;
			case DISK_OP_DISCARD:
				known[sec + i] = false;
				break;
			case DISK_OP_FLUSH:
				break;
			}
		}
	}
	disk_close(d);
out:
	check_backing(data + HDR + tn, bn);
	return 0;
}
