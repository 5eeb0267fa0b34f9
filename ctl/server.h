/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_CTL_SERVER_H
#define LKVM_CTL_SERVER_H

#include <sys/types.h>
#include <sys/un.h>

#include "proto.h"
#include "lkvm/evloop.h"

struct kvm;

/* Concurrent clients; more are accepted and closed at once. */
#define CTL_MAX_CLIENTS		64
/* A request begun, or a reply not taken, this long ago: the client is dropped. */
#define CTL_IO_TIMEOUT_MS	5000
/* A connection with nothing going on this long is closed. */
#define CTL_IDLE_TIMEOUT_MS	60000

struct ctl_server;

struct ctl_client {
	/*
	 * A free slot is all zeroes, as calloc() left it: the server's 64
	 * slots of 4 KiB are then only address space until a client uses
	 * one (an idle lkvm's resident set).  w.fd is valid while @open.
	 */
	bool open;
	struct evloop_watch w;
	struct ctl_server *srv;
	u8 in[CTL_HDR_SIZE + CTL_MAX_REQUEST];
	size_t in_len;
	struct ctl_buf out;		/* a whole reply frame */
	size_t out_off;
	u64 since_ms;			/* when the current wait began */
	bool closing;			/* close once @out is sent */
	bool eof;			/* the peer will send no more */
};

struct ctl_server {
	struct kvm *kvm;
	const char *name;
	struct sockaddr_un addr;
	dev_t dev;			/* of the socket we bound, so that */
	ino_t ino;			/* we only ever unlink our own */
	struct evloop_watch lw;		/* listening socket */
	struct evloop_watch tw;		/* 1 s timerfd while clients exist */
	bool listening, timer_on;
	u64 start_ms;
	unsigned int nr_clients;
	struct ctl_client clients[CTL_MAX_CLIENTS];
};

u64 ctl_now_ms(void);

/* ctl/commands.c: what the commands need opened before seccomp. */
void ctl_commands_init(void);

/* ctl/commands.c: runs request @argv, the reply text into @body. */
int ctl_dispatch(struct ctl_server *srv, int argc, const char **argv,
		 struct ctl_buf *body);

#endif
