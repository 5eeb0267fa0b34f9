// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-console, port 0 only (MULTIPORT is not negotiated, so this works
 * with QEMU's multiport-capable device too): send a line on the transmitq,
 * read one line from the receiveq, report it on COM1 as
 * "vcons: got '<line>'" and echo it back on the virtio console.
 * Option timeout=<s> (20) bounds the wait for input.
 */
#include "guest.h"
#include "virtio.h"

#define RX_BUFS		8
#define RX_BUF_SIZE	128
#define LINE_MAX	256

static struct virtio_dev vd;
static struct virtio_opts opts;

static int tx(const char *s)
{
	struct virtq *vq = vd.vqs[1];
	size_t n = strlen(s);
	char *buf = valloc(n, 16);
	struct vsg sg;

	if (!buf)
		return -1;
	memcpy(buf, s, n);
	sg = (struct vsg){ buf, n };
	if (virtq_add(vq, &sg, 1, 0, buf, false))
		return -1;
	virtq_kick(vq);
	while (!virtq_get_buf(vq, NULL))
		if (!virtq_wait(vq, 5000)) {
			puts("vcons: transmit timeout");
			virtq_dump(vq);
			return -1;
		}
	return 0;
}

static long vcons_main(long unused)
{
	struct virtq *rx;
	char line[LINE_MAX + 1], msg[LINE_MAX + 32];
	unsigned int n = 0, i;
	uint64_t end;
	uint32_t len;
	long secs;
	bool done = false;

	(void)unused;
	if (!virtio_parse_opts(&opts))
		return 1;
	if (!cmdline_get_int("timeout", &secs))
		secs = 20;
	if (virtio_probe(&vd, &opts, VIRTIO_ID_CONSOLE) ||
	    virtio_init(&vd, &opts, 0, 2))
		return 1;
	rx = vd.vqs[0];
	for (i = 0; i < RX_BUFS; i++) {
		char *b = valloc(RX_BUF_SIZE, 64);
		struct vsg sg = { b, RX_BUF_SIZE };

		if (!b || virtq_add(rx, &sg, 0, 1, b, false))
			return 1;
	}
	virtq_kick(rx);

	if (tx("vcons: hello from the guest\n"))
		return 1;
	puts("vcons: sent hello");

	end = ms_now() + secs * 1000;
	while (!done) {
		char *b;

		while (!done && (b = virtq_get_buf(rx, &len))) {
			struct vsg sg = { b, RX_BUF_SIZE };

			for (i = 0; i < len && i < RX_BUF_SIZE; i++) {
				if (b[i] == '\n') {
					done = true;
					break;
				}
				if (b[i] != '\r' && n < LINE_MAX)
					line[n++] = b[i];
			}
			/* Recycle the buffer for the next bytes. */
			virtq_add(rx, &sg, 0, 1, b, false);
			virtq_kick(rx);
		}
		if (done)
			break;
		if (ms_now() >= end) {
			line[n] = '\0';
			printf("vcons: timeout, got '%s' without a newline\n", line);
			virtq_dump(rx);
			return 1;
		}
		virtq_wait(rx, 1000);
	}
	line[n] = '\0';
	printf("vcons: got '%s'\n", line);

	snprintf(msg, sizeof(msg), "vcons: echo '%s'\n", line);
	if (tx(msg))
		return 1;
	puts("vcons: done");
	return 0;
}

void guest_main(struct boot_info *bi)
{
	(void)bi;
	user_io_init();
	tsc_khz();
	guest_exit(run_user(vcons_main, 0));
}
