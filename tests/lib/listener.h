/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_TESTS_LISTENER_H
#define LKVM_TESTS_LISTENER_H

/*
 * A non-blocking TCP listener on 127.0.0.1 at a port the kernel picks,
 * for tests whose guest connects out through user-mode networking.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

/* Returns the listening fd with its port in *@port, or -errno. */
static inline int loopback_listener(int backlog, unsigned short *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t salen = sizeof(sa);
	int fd, err;

	*port = 0;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(fd, backlog) ||
	    getsockname(fd, (struct sockaddr *)&sa, &salen)) {
		err = errno;
		close(fd);
		return -err;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

#endif
