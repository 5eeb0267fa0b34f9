// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-9p: read the mount tag from config space (VIRTIO_9P_MOUNT_TAG),
 * then speak the first two messages of a 9P2000.L session as Linux's
 * v9fs does (Tversion, Tattach) and check the replies, then one message
 * the server must refuse (Tclunk of a fid never attached: Rlerror).
 * Prints "v9p: tag '<tag>'", "v9p: Rversion msize <n> 9P2000.L",
 * "v9p: Rattach qid type <t>", "v9p: Rlerror <errno>".
 *
 * fids=1: then walks the root to new fids, each through 16 directories
 * of 250-byte names ('a' x 250, 'b' x 250, ... the host makes them: see
 * tests/guest/63-9p-bounds.t), until the server refuses one, and prints
 * "v9p: fids: <n> walked, then Rlerror <errno>".
 */
#include "guest.h"
#include "virtio.h"

#define VIRTIO_9P_MOUNT_TAG	0
#define MSIZE			8192

#define P9_RLERROR		7
#define P9_TVERSION		100
#define P9_TATTACH		104
#define P9_TWALK		110
#define DEEP_NAMES		16
#define DEEP_LEN		250
#define P9_TCLUNK		120
#define P9_QTDIR		0x80

static struct virtio_dev vd;
static struct virtio_opts opts;
static struct virtq *vq;
static uint8_t *tbuf, *rbuf;

/* A T-message under construction. */
static uint32_t tlen;

static void put8(uint8_t v)
{
	tbuf[tlen++] = v;
}

static void put16(uint16_t v)
{
	put8(v & 0xff);
	put8(v >> 8);
}

static void put32(uint32_t v)
{
	put16(v & 0xffff);
	put16(v >> 16);
}

static void putstr(const char *s)
{
	uint16_t n = (uint16_t)strlen(s);

	put16(n);
	memcpy(tbuf + tlen, s, n);
	tlen += n;
}

static void begin(uint8_t type, uint16_t tag)
{
	tlen = 0;
	put32(0);		/* size, filled in by rpc() */
	put8(type);
	put16(tag);
}

static uint32_t get32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Sends the T-message, waits for the reply; returns its length or 0. */
static uint32_t rpc(const char *what)
{
	struct vsg sg[2] = { { tbuf, 0 }, { rbuf, MSIZE } };
	uint32_t len = 0;

	tbuf[0] = tlen & 0xff;
	tbuf[1] = (tlen >> 8) & 0xff;
	tbuf[2] = tbuf[3] = 0;
	sg[0].len = tlen;
	memset(rbuf, 0, MSIZE);
	if (virtq_add(vq, sg, 1, 1, tbuf, false)) {
		printf("v9p: %s: ring full\n", what);
		return 0;
	}
	virtq_kick(vq);
	while (!virtq_get_buf(vq, &len)) {
		if (!virtq_wait(vq, 5000)) {
			printf("v9p: %s: no reply\n", what);
			virtq_dump(vq);
			return 0;
		}
	}
	if (len < 7 || len > MSIZE || get32(rbuf) != len) {
		printf("v9p: %s: reply of %u bytes, size field %u\n", what,
		       len, get32(rbuf));
		return 0;
	}
	return len;
}

/* Fids 1, 2, ... walked DEEP_NAMES directories deep, until refused. */
static int walk_fids(void)
{
	uint32_t len, fid;

	for (fid = 1; fid < 1000000; fid++) {
		begin(P9_TWALK, 3);
		put32(0);
		put32(fid);
		put16(DEEP_NAMES);
		for (int i = 0; i < DEEP_NAMES; i++) {
			put16(DEEP_LEN);
			memset(tbuf + tlen, 'a' + i, DEEP_LEN);
			tlen += DEEP_LEN;
		}
		len = rpc("Twalk");
		if (!len)
			return 1;
		if (rbuf[4] == P9_RLERROR)
			break;
		if (rbuf[4] != P9_TWALK + 1 || len != 7 + 2 + 13 * DEEP_NAMES) {
			printf("v9p: bad Rwalk (type %u, %u bytes)\n", rbuf[4], len);
			return 1;
		}
	}
	printf("v9p: fids: %u walked, then Rlerror %u\n", fid - 1,
	       len == 11 ? get32(rbuf + 7) : 0);
	return 0;
}

static long v9p_main(long unused)
{
	char tag[65];
	uint32_t len, n;
	long fids;

	(void)unused;
	if (!virtio_parse_opts(&opts))
		return 1;
	if (virtio_probe(&vd, &opts, VIRTIO_ID_9P) ||
	    virtio_init(&vd, &opts, 1ULL << VIRTIO_9P_MOUNT_TAG, 1))
		return 1;
	if (!(vd.features & (1ULL << VIRTIO_9P_MOUNT_TAG))) {
		printf("v9p: VIRTIO_9P_MOUNT_TAG not negotiated\n");
		return 1;
	}
	n = virtio_cfg_read8(&vd, 0) | virtio_cfg_read8(&vd, 1) << 8;
	if (!n || n > 64) {
		printf("v9p: tag_len %u\n", n);
		return 1;
	}
	for (uint32_t i = 0; i < n; i++)
		tag[i] = (char)virtio_cfg_read8(&vd, 2 + i);
	tag[n] = 0;
	printf("v9p: tag '%s'\n", tag);

	vq = vd.vqs[0];
	tbuf = valloc(MSIZE, 64);
	rbuf = valloc(MSIZE, 64);
	if (!tbuf || !rbuf)
		return 1;

	begin(P9_TVERSION, 0xffff);	/* NOTAG */
	put32(MSIZE);
	putstr("9P2000.L");
	len = rpc("Tversion");
	if (!len)
		return 1;
	if (rbuf[4] != P9_TVERSION + 1 || len < 7 + 4 + 2 + 8 ||
	    rbuf[11] != 8 || memcmp(rbuf + 13, "9P2000.L", 8)) {
		printf("v9p: bad Rversion (type %u, %u bytes)\n", rbuf[4], len);
		return 1;
	}
	n = get32(rbuf + 7);
	if (!n || n > MSIZE) {
		printf("v9p: Rversion msize %u, asked for %u\n", n, MSIZE);
		return 1;
	}
	printf("v9p: Rversion msize %u 9P2000.L\n", n);

	begin(P9_TATTACH, 1);
	put32(0);			/* fid */
	put32(0xffffffff);		/* afid: none */
	putstr("root");			/* uname */
	putstr("");			/* aname */
	put32(0);			/* n_uname */
	len = rpc("Tattach");
	if (!len)
		return 1;
	if (rbuf[4] != P9_TATTACH + 1 || len != 7 + 13 ||
	    rbuf[5] != 1 || rbuf[6] != 0) {
		printf("v9p: bad Rattach (type %u, %u bytes)\n", rbuf[4], len);
		return 1;
	}
	if (!(rbuf[7] & P9_QTDIR)) {
		printf("v9p: the root's qid is not a directory (type 0x%x)\n",
		       rbuf[7]);
		return 1;
	}
	printf("v9p: Rattach qid type 0x%x\n", rbuf[7]);

	begin(P9_TCLUNK, 2);
	put32(77);			/* never attached */
	len = rpc("Tclunk");
	if (!len)
		return 1;
	if (rbuf[4] != P9_RLERROR || len != 11 || !get32(rbuf + 7)) {
		printf("v9p: Tclunk of an unknown fid: type %u, %u bytes\n",
		       rbuf[4], len);
		return 1;
	}
	printf("v9p: Rlerror %u\n", get32(rbuf + 7));
	if (cmdline_get_int("fids", &fids) && fids && walk_fids())
		return 1;
	if (virtq_early_irqs)
		printf("v9p: warning: %lu interrupts before used->idx moved\n",
		       virtq_early_irqs);
	return 0;
}

void guest_main(struct boot_info *bi)
{
	(void)bi;
	user_io_init();
	tsc_khz();
	guest_exit(run_user(v9p_main, 0));
}
