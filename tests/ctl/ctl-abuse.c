// SPDX-License-Identifier: GPL-2.0
/*
 * Misbehaving control-socket clients for tests/guest/60-control.t:
 *
 *	ctl-abuse MODE SOCKET [N]
 *
 * oversized   announce a 1 MiB request: expect -EMSGSIZE, then EOF
 * garbage     a frame of bytes that is no argument vector: -EBADMSG,
 *             and the connection still answers "info" afterwards
 * truncated   half a frame, then shutdown(SHUT_WR): -EBADMSG, then EOF
 * slow        half a frame and silence: the server hangs up (capped wait)
 * flood N     N connections at once, each asking "info": those beyond the
 *             server's limit are closed, the VM lives
 * noread      pipeline N "stat" requests and never read: dropped
 * halfclose   "info" then shutdown(SHUT_WR): the reply still comes, then EOF
 * repeat N    N "info" requests on one connection through ctl_request()
 *
 * Prints what happened; exits 0 when the server behaved, 1 otherwise.
 *
 * And one misbehaving VM, for the client's side:
 *
 * linger N     serve SOCKET as a VM with no power button whose process
 *              outlives its socket: on "kill" it replies, closes, removes
 *              the socket, and lives on for N seconds
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl/proto.h"
#include "lkvm/ctl.h"

static const char *sock_path;

static int conn(bool nonblock)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
			(nonblock ? SOCK_NONBLOCK : 0), 0);

	if (fd < 0)
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
	    errno != EINPROGRESS && errno != EAGAIN) {
		close(fd);
		return -1;
	}
	return fd;
}

static void send_all(int fd, const void *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w <= 0)
			return;
		p = (const char *)p + w;
		n -= (size_t)w;
	}
}

/* Reads exactly @n bytes within 60 s; false on EOF, error or timeout. */
static bool recv_all(int fd, void *p, size_t n)
{
	while (n) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&pf, 1, 60000) <= 0)
			return false;
		r = recv(fd, p, n, 0);
		if (r <= 0)
			return false;
		p = (char *)p + r;
		n -= (size_t)r;
	}
	return true;
}

/* One reply: its status, or 1 if none came (EOF, error). */
static int get_reply(int fd)
{
	u8 hdr[8];
	char *body;
	u32 len;
	int st;

	if (!recv_all(fd, hdr, sizeof(hdr)))
		return 1;
	len = ctl_get_u32(hdr);
	if (len < 4 || len > CTL_MAX_REPLY)
		return 1;
	body = malloc(len - 4 + 1);
	if (!body || !recv_all(fd, body, len - 4)) {
		free(body);
		return 1;
	}
	body[len - 4] = '\0';
	st = (int)ctl_get_u32(hdr + 4);
	printf("reply status %d: %s", st, body);
	free(body);
	return st;
}

/* Waits (at most 60 s) for EOF; the seconds it took, or -1. */
static double wait_eof(int fd)
{
	struct timespec a, b;
	char buf[4096];

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (;;) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&pf, 1, 60000) <= 0)
			return -1;
		r = recv(fd, buf, sizeof(buf), 0);
		if (r == 0 || (r < 0 && errno == ECONNRESET))
			break;
		if (r < 0)
			return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
}

static void send_req(int fd, const char *const argv[])
{
	struct ctl_buf b;

	ctl_buf_init(&b);
	ctl_args_encode(&b, argv);
	send_all(fd, b.data, b.len);
	ctl_buf_free(&b);
}

static const char *const info_req[] = { "info", NULL };

static int mode_oversized(void)
{
	u8 hdr[4];
	int fd = conn(false);

	ctl_put_u32(hdr, 1024 * 1024);
	send_all(fd, hdr, sizeof(hdr));
	send_all(fd, "xxxxxxxxxxxxxxxx", 16);
	if (get_reply(fd) != -EMSGSIZE)
		return 1;
	return wait_eof(fd) < 0;
}

static int mode_garbage(void)
{
	u8 frame[4 + 12] = { 0 };
	int fd = conn(false);

	ctl_put_u32(frame, 12);
	memcpy(frame + 4, "\xff\x01garbage\x7f!!", 12);	/* no final NUL */
	send_all(fd, frame, sizeof(frame));
	if (get_reply(fd) != -EBADMSG)
		return 1;
	send_req(fd, info_req);
	return get_reply(fd) != 0;
}

static int mode_truncated(void)
{
	u8 hdr[4];
	int fd = conn(false);

	ctl_put_u32(hdr, 100);
	send_all(fd, hdr, sizeof(hdr));
	send_all(fd, "info\0", 5);
	shutdown(fd, SHUT_WR);
	if (get_reply(fd) != -EBADMSG)
		return 1;
	return wait_eof(fd) < 0;
}

static int mode_slow(void)
{
	u8 hdr[4];
	int fd = conn(false);
	double t;

	ctl_put_u32(hdr, 100);
	send_all(fd, hdr, sizeof(hdr));
	send_all(fd, "in", 2);
	t = wait_eof(fd);
	printf("dropped after %.1f s\n", t);
	return t < 0;
}

static int mode_flood(int n)
{
	struct rlimit rl;
	int *fds = calloc((size_t)n, sizeof(int));
	int replied = 0, closed = 0, failed = 0;

	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	for (int i = 0; i < n; i++)
		fds[i] = conn(true);
	for (int i = 0; i < n; i++) {
		if (fds[i] < 0) {
			failed++;
			continue;
		}
		send_req(fds[i], info_req);
	}
	for (int i = 0; i < n; i++) {
		if (fds[i] < 0)
			continue;
		fcntl(fds[i], F_SETFL, 0);
		if (!get_reply(fds[i]))
			replied++;
		else
			closed++;
		close(fds[i]);
	}
	printf("flood: %d connections, %d answered, %d closed, %d could not connect\n",
	       n, replied, closed, failed);
	free(fds);
	return replied == 0;
}

static int mode_noread(int n)
{
	const char *const stat_req[] = { "stat", NULL };
	int fd = conn(true);
	int sent = 0;
	double t;

	/* Until the socket is full both ways: the server must stop reading. */
	for (int i = 0; i < n; i++) {
		struct ctl_buf b;
		ssize_t w;

		ctl_buf_init(&b);
		ctl_args_encode(&b, stat_req);
		w = send(fd, b.data, b.len, MSG_NOSIGNAL);
		ctl_buf_free(&b);
		if (w < 0)
			break;
		sent++;
	}
	printf("noread: sent %d requests\n", sent);
	/* Now see that the server gave up on us instead of waiting forever. */
	fcntl(fd, F_SETFL, 0);
	sleep(8);
	t = wait_eof(fd);
	printf("noread: connection %s\n", t < 0 ? "still open" : "dropped");
	return t < 0;
}

static int mode_halfclose(void)
{
	int fd = conn(false);

	send_req(fd, info_req);
	shutdown(fd, SHUT_WR);
	if (get_reply(fd) != 0)
		return 1;
	return wait_eof(fd) < 0;
}

static int mode_repeat(const char *name, int n)
{
	int fd = ctl_connect(name), st = 0, err = 0, i;
	char *body;

	if (fd < 0) {
		printf("repeat: connect: %s\n", strerror(-fd));
		return 1;
	}
	for (i = 0; i < n; i++) {
		err = ctl_request(fd, info_req, &st, &body);
		free(body);
		if (err || st)
			break;
	}
	printf("repeat: %d of %d requests answered on one connection\n", i, n);
	close(fd);
	return i != n;
}

/* One reply frame: @st and @text. */
static void put_reply(int fd, int st, const char *text)
{
	size_t n = strlen(text);
	u8 hdr[8];

	ctl_put_u32(hdr, (u32)(4 + n));
	ctl_put_u32(hdr + 4, (u32)st);
	send_all(fd, hdr, sizeof(hdr));
	send_all(fd, text, n);
}

/* Serves one client until EOF (false) or "kill" (true). */
static bool linger_serve(int fd)
{
	const char *argv[CTL_MAX_ARGS];
	char line[64];
	u8 buf[4 + CTL_MAX_REQUEST];
	u32 len;

	while (recv_all(fd, buf, 4)) {
		len = ctl_get_u32(buf);
		if (!len || len > CTL_MAX_REQUEST || !recv_all(fd, buf + 4, len) ||
		    ctl_args_decode((char *)buf + 4, len, argv, CTL_MAX_ARGS) < 1)
			break;
		if (!strcmp(argv[0], "info")) {
			snprintf(line, sizeof(line), "%d running 1 32 0\n",
				 (int)getpid());
			put_reply(fd, 0, line);
		} else if (!strcmp(argv[0], "poweroff")) {
			put_reply(fd, -ENOTSUP, "no power button\n");
		} else if (!strcmp(argv[0], "kill")) {
			put_reply(fd, 0, "stopping\n");
			return true;
		} else {
			put_reply(fd, -ENOSYS, "not served here\n");
		}
	}
	return false;
}

static int mode_linger(int secs)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), fd;
	bool killed = false;

	/* Listening before it has its name, as lkvm's own server does. */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s.tmp", sock_path);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(lfd, 4) || rename(sa.sun_path, sock_path)) {
		printf("linger: %s: %s\n", sock_path, strerror(errno));
		return 1;
	}
	while (!killed) {
		struct pollfd pf = { .fd = lfd, .events = POLLIN };

		/* Nobody came within a minute: the test is gone. */
		if (poll(&pf, 1, 60000) <= 0)
			break;
		fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			continue;
		killed = linger_serve(fd);
		close(fd);
	}
	unlink(sock_path);
	close(lfd);
	if (killed) {
		printf("linger: killed; socket closed, living on %d s\n", secs);
		sleep((unsigned int)secs);
	}
	return !killed;
}

int main(int argc, char **argv)
{
	int n = argc > 3 ? atoi(argv[3]) : 0;

	if (argc < 3) {
		fprintf(stderr, "usage: ctl-abuse MODE SOCKET|NAME [N]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	sock_path = argv[2];
	if (!strcmp(argv[1], "oversized"))
		return mode_oversized();
	if (!strcmp(argv[1], "garbage"))
		return mode_garbage();
	if (!strcmp(argv[1], "truncated"))
		return mode_truncated();
	if (!strcmp(argv[1], "slow"))
		return mode_slow();
	if (!strcmp(argv[1], "flood"))
		return mode_flood(n);
	if (!strcmp(argv[1], "noread"))
		return mode_noread(n);
	if (!strcmp(argv[1], "halfclose"))
		return mode_halfclose();
	if (!strcmp(argv[1], "repeat"))
		return mode_repeat(argv[2], n);
	if (!strcmp(argv[1], "linger"))
		return mode_linger(n);
	fprintf(stderr, "ctl-abuse: unknown mode '%s'\n", argv[1]);
	return 2;
}
