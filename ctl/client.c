// SPDX-License-Identifier: GPL-2.0
/* The client end of the control socket: connect, request, reply. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "path.h"
#include "proto.h"
#include "lkvm/ctl.h"

/* A VM that does not answer within this long is taken as hung. */
#define CTL_CLIENT_TIMEOUT_S	60

int ctl_connect(const char *name)
{
	struct sockaddr_un sa;
	struct timeval tv = { .tv_sec = CTL_CLIENT_TIMEOUT_S };
	char dir[sizeof(sa.sun_path)];
	const char *why;
	int fd, ret;

	ret = ctl_dir(dir, sizeof(dir));
	if (ret)
		return ret;
	if (ctl_name_check(dir, name, &why))
		return -ENOENT;		/* no VM can have that name */
	ret = ctl_sock_addr(dir, name, &sa);
	if (ret)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/*
	 * Before connect(): a VM whose main loop is stuck lets its backlog
	 * fill, and a blocking connect() to it waits up to SO_SNDTIMEO.
	 */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = errno == EAGAIN || errno == EINPROGRESS ? -ETIMEDOUT :
							       -errno;
		close(fd);
		return ret;
	}
	return fd;
}

static int ctl_read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = recv(fd, (char *)buf + got, len - got, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		if (!r)
			return -ECONNRESET;	/* the VM went away */
		got += (size_t)r;
	}
	return 0;
}

int ctl_request(int fd, const char *const argv[], int *status, char **body)
{
	struct ctl_buf req;
	u8 hdr[CTL_HDR_SIZE + 4];
	size_t off = 0, len;
	char *text;
	int ret;

	*body = NULL;
	ctl_buf_init(&req);
	ret = ctl_args_encode(&req, argv);
	while (!ret && off < req.len) {
		ssize_t w = send(fd, req.data + off, req.len - off,
				 MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			ret = errno == EAGAIN ? -ETIMEDOUT : -errno;
		else
			off += (size_t)w;
	}
	ctl_buf_free(&req);
	/*
	 * A server that refuses us (another uid) replies and closes before
	 * reading: the send fails, but its reason is waiting to be read.
	 */
	if (ret && ret != -EPIPE && ret != -ECONNRESET)
		return ret;
	if (ret) {
		/* Either way the VM is gone for us: EOF is -ECONNRESET. */
		if (ctl_read_full(fd, hdr, sizeof(hdr)))
			return -ECONNRESET;
	} else {
		ret = ctl_read_full(fd, hdr, sizeof(hdr));
		if (ret)
			return ret;
	}
	len = ctl_get_u32(hdr);
	if (len < 4 || len > CTL_MAX_REPLY)
		return -EBADMSG;
	len -= 4;
	text = malloc(len + 1);
	if (!text)
		return -ENOMEM;
	ret = ctl_read_full(fd, text, len);
	if (ret) {
		free(text);
		return ret;
	}
	text[len] = '\0';
	*status = (int)ctl_get_u32(hdr + CTL_HDR_SIZE);
	/* A status that is not 0 or an errno is the peer's bug. */
	if (*status > 0 || *status < -4095)
		*status = -EBADMSG;
	*body = text;
	return 0;
}

int ctl_call(const char *name, const char *const argv[], char **reply)
{
	int fd = ctl_connect(name), status, ret;

	*reply = NULL;
	if (fd < 0)
		return fd;
	ret = ctl_request(fd, argv, &status, reply);
	close(fd);
	return ret ? ret : status;
}
