// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket's server, on the main thread's event loop.  Nothing
 * here may block the VM: every socket is non-blocking, a client gets one
 * request handled at a time (its reply must be taken before the next is
 * read, so the output held per client is one reply), and a client that
 * stalls mid-request or stops reading is dropped by a 1 s sweep timer.
 *
 * Client slots live inside struct ctl_server and are never freed while
 * the loop runs: an event already fetched by epoll_wait() for a client
 * that was closed earlier in the same batch finds a free slot (fd < 0),
 * or a new connection whose non-blocking read simply sees EAGAIN.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "path.h"
#include "server.h"
#include "lkvm/config.h"
#include "lkvm/ctl.h"
#include "lkvm/kvm.h"
#include "lkvm/log.h"

u64 ctl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000 + (u64)ts.tv_nsec / 1000000;
}

static void ctl_timer_set(struct ctl_server *srv, bool on)
{
	struct itimerspec its = { 0 };

	if (srv->timer_on == on || srv->tw.fd < 0)
		return;
	if (on) {
		its.it_value.tv_sec = 1;
		its.it_interval.tv_sec = 1;
	}
	if (!timerfd_settime(srv->tw.fd, 0, &its, NULL))
		srv->timer_on = on;
}

static void ctl_client_close(struct ctl_client *c)
{
	struct ctl_server *srv = c->srv;

	if (!c->open)
		return;
	evloop_del(&srv->kvm->loop, &c->w);
	close(c->w.fd);
	c->w.fd = -1;
	c->open = false;
	ctl_buf_free(&c->out);
	srv->nr_clients--;
	if (!srv->nr_clients)
		ctl_timer_set(srv, false);
}

/* Queues a reply frame: header, status, body. */
static void ctl_client_reply(struct ctl_client *c, int status,
			     struct ctl_buf *body)
{
	u8 hdr[CTL_HDR_SIZE + 4];
	size_t len = body && !body->failed ? body->len : 0;
	const char *msg = "reply too large\n";

	if (body && body->failed) {
		status = -E2BIG;
		len = strlen(msg);
	}
	ctl_put_u32(hdr, (u32)(4 + len));
	ctl_put_u32(hdr + CTL_HDR_SIZE, (u32)status);
	ctl_buf_free(&c->out);
	ctl_buf_add(&c->out, hdr, sizeof(hdr));
	if (body && body->failed)
		ctl_buf_add(&c->out, msg, len);
	else if (len)
		ctl_buf_add(&c->out, body->data, len);
	c->out_off = 0;
	c->since_ms = ctl_now_ms();
}

static void ctl_client_error(struct ctl_client *c, int status,
			     const char *msg, bool fatal)
{
	struct ctl_buf b;

	ctl_buf_init(&b);
	ctl_buf_printf(&b, "%s\n", msg);
	ctl_client_reply(c, status, &b);
	ctl_buf_free(&b);
	if (fatal)
		c->closing = true;
}

/* Handles every whole request already received, one reply at a time. */
static void ctl_client_process(struct ctl_client *c)
{
	const char *argv[CTL_MAX_ARGS];
	struct ctl_buf body;
	long n;
	int argc, st;

	if (c->out.len || c->closing)
		return;
	n = ctl_frame_check(c->in, c->in_len, CTL_MAX_REQUEST);
	if (n == -EMSGSIZE) {
		ctl_client_error(c, -EMSGSIZE, "request too large", true);
		return;
	}
	if (n < 0) {
		ctl_client_error(c, -EBADMSG, "empty request", true);
		return;
	}
	if (!n)
		return;
	argc = ctl_args_decode((const char *)c->in + CTL_HDR_SIZE,
			       (size_t)n - CTL_HDR_SIZE, argv, CTL_MAX_ARGS);
	ctl_buf_init(&body);
	if (argc == -E2BIG) {
		st = argc;
		ctl_buf_printf(&body, "too many arguments\n");
	} else if (argc < 0) {
		st = argc;
		ctl_buf_printf(&body, "malformed request\n");
	} else {
		st = ctl_dispatch(c->srv, argc, argv, &body);
	}
	ctl_client_reply(c, st, &body);
	ctl_buf_free(&body);
	/* The request's bytes are done with once dispatched. */
	memmove(c->in, c->in + n, c->in_len - (size_t)n);
	c->in_len -= (size_t)n;
}

static void ctl_client_update(struct ctl_client *c);

/* Sends what it can of the pending reply; false when the client is gone. */
static bool ctl_client_flush(struct ctl_client *c)
{
	while (c->out_off < c->out.len) {
		ssize_t w = send(c->w.fd, c->out.data + c->out_off,
				 c->out.len - c->out_off, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (w <= 0) {
			ctl_client_close(c);
			return false;
		}
		c->out_off += (size_t)w;
	}
	ctl_buf_free(&c->out);
	c->out_off = 0;
	c->since_ms = ctl_now_ms();
	if (c->closing || (c->eof && !c->in_len)) {
		ctl_client_close(c);
		return false;
	}
	return true;
}

/* Reads what fits in the request buffer; false when the client is gone. */
static bool ctl_client_read(struct ctl_client *c)
{
	while (!c->eof && c->in_len < sizeof(c->in)) {
		ssize_t r = recv(c->w.fd, c->in + c->in_len,
				 sizeof(c->in) - c->in_len, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (r < 0) {
			ctl_client_close(c);
			return false;
		}
		if (!r) {
			c->eof = true;
			break;
		}
		if (!c->in_len)
			c->since_ms = ctl_now_ms();
		c->in_len += (size_t)r;
	}
	return true;
}

/* Runs the client until it waits for the peer; then picks what to wait for. */
static void ctl_client_update(struct ctl_client *c)
{
	/*
	 * A client that pipelines requests and reads every reply would
	 * keep the main loop here; after this many, its reply waits for
	 * EPOLLOUT, which comes back after the loop's other events.
	 */
	unsigned int budget = 16;

	for (;;) {
		if (c->out.len) {
			if (!budget)
				break;		/* others first */
			if (!ctl_client_flush(c))
				return;
			if (c->out.len)
				break;		/* wait for EPOLLOUT */
			continue;
		}
		ctl_client_process(c);
		if (c->out.len) {
			budget--;
			continue;
		}
		if (c->eof) {
			/* A half-closed client may still read its replies. */
			if (c->in_len)
				ctl_client_error(c, -EBADMSG,
						 "truncated request", true);
			else
				ctl_client_close(c);
			if (!c->open)
				return;
			continue;
		}
		if (!ctl_client_read(c))
			return;
		if (ctl_frame_check(c->in, c->in_len, CTL_MAX_REQUEST) ||
		    c->eof)
			continue;
		break;				/* wait for EPOLLIN */
	}
	evloop_mod(&c->srv->kvm->loop, &c->w, c->out.len ? EPOLLOUT : EPOLLIN);
}

static void ctl_on_client(void *opaque, u32 events __unused)
{
	struct ctl_client *c = opaque;

	if (c->open)
		ctl_client_update(c);
}

/* Another user: one error line, best effort, then the door. */
static void ctl_refuse(int fd, uid_t uid)
{
	char msg[96];
	u8 hdr[CTL_HDR_SIZE + 4];
	int n = snprintf(msg, sizeof(msg),
			 "permission denied: uid %u may not control this VM\n",
			 (unsigned int)uid);

	ctl_put_u32(hdr, (u32)(4 + n));
	ctl_put_u32(hdr + CTL_HDR_SIZE, (u32)-EPERM);
	if (send(fd, hdr, sizeof(hdr), MSG_NOSIGNAL | MSG_DONTWAIT) ==
	    (ssize_t)sizeof(hdr))
		send(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

static bool ctl_peer_allowed(int fd, uid_t *uid)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len))
		return false;
	*uid = cr.uid;
	return cr.uid == 0 || cr.uid == geteuid();
}

static void ctl_on_accept(void *opaque, u32 events __unused)
{
	struct ctl_server *srv = opaque;

	for (;;) {
		struct ctl_client *c = NULL;
		uid_t uid = (uid_t)-1;
		int fd = accept4(srv->lw.fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				/* Out of fds: listen again on the next tick. */
				evloop_mod(&srv->kvm->loop, &srv->lw, 0);
				srv->listening = false;
				ctl_timer_set(srv, true);
			}
			return;
		}
		if (!ctl_peer_allowed(fd, &uid)) {
			pr_warn("control socket: refused a client of uid %d",
				(int)uid);
			ctl_refuse(fd, uid);
			continue;
		}
		for (unsigned int i = 0; i < CTL_MAX_CLIENTS; i++) {
			if (!srv->clients[i].open) {
				c = &srv->clients[i];
				break;
			}
		}
		if (!c) {
			close(fd);	/* too many clients at once */
			continue;
		}
		memset(c, 0, sizeof(*c));
		c->srv = srv;
		c->w.fd = fd;
		c->w.cb = ctl_on_client;
		c->w.opaque = c;
		c->since_ms = ctl_now_ms();
		if (evloop_add(&srv->kvm->loop, &c->w, EPOLLIN)) {
			close(fd);
			c->w.fd = -1;
			continue;
		}
		c->open = true;
		srv->nr_clients++;
		ctl_timer_set(srv, true);
	}
}

static void ctl_on_tick(void *opaque, u32 events __unused)
{
	struct ctl_server *srv = opaque;
	u64 now = ctl_now_ms(), n;

	if (read(srv->tw.fd, &n, sizeof(n)) < 0) {
		/* EAGAIN: a spurious wake-up; sweep anyway. */
	}
	for (unsigned int i = 0; i < CTL_MAX_CLIENTS; i++) {
		struct ctl_client *c = &srv->clients[i];
		u64 limit = c->out.len || c->in_len ? CTL_IO_TIMEOUT_MS :
						      CTL_IDLE_TIMEOUT_MS;

		if (c->open && now - c->since_ms > limit)
			ctl_client_close(c);
	}
	if (!srv->listening &&
	    !evloop_mod(&srv->kvm->loop, &srv->lw, EPOLLIN))
		srv->listening = true;
	if (!srv->nr_clients && srv->listening)
		ctl_timer_set(srv, false);
}

/*
 * Puts a listening socket at @srv->addr without a moment where another
 * lkvm could take it for a stale one: it is bound, made 0600 and set
 * listening under a temporary name, then renamed into place.  A socket
 * file already there is a live VM (connect works: -EEXIST) or a stale
 * one left by a killed lkvm (ECONNREFUSED), which the rename replaces.
 * The directory lock makes the look and the rename one step against
 * other lkvm processes doing the same.
 */
static int ctl_bind(struct ctl_server *srv, const char *dir)
{
	struct sockaddr_un tmp;
	int lock, probe, err, ret;

	ret = ctl_sock_tmp_addr(dir, srv->name, &tmp);
	if (ret)
		return ret;
	lock = ctl_dir_lock(dir);
	if (lock < 0)
		return lock;
	unlink(tmp.sun_path);
	if (bind(srv->lw.fd, (struct sockaddr *)&tmp, sizeof(tmp))) {
		ret = -errno;
		goto out;
	}
	if (chmod(tmp.sun_path, 0600) || listen(srv->lw.fd, CTL_MAX_CLIENTS)) {
		ret = -errno;
		goto out_unlink;
	}
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe < 0) {
		ret = -errno;
		goto out_unlink;
	}
	err = connect(probe, (struct sockaddr *)&srv->addr,
		      sizeof(srv->addr)) ? errno : 0;
	close(probe);
	if (!err || err == EAGAIN) {
		ret = -EEXIST;
		goto out_unlink;
	}
	if (err != ECONNREFUSED && err != ENOENT) {
		ret = -err;
		goto out_unlink;
	}
	if (err == ECONNREFUSED)
		pr_info("control socket: replacing the stale %s",
			srv->addr.sun_path);
	if (rename(tmp.sun_path, srv->addr.sun_path)) {
		ret = -errno;
		goto out_unlink;
	}
	ret = 0;
	goto out;

out_unlink:
	unlink(tmp.sun_path);
out:
	ctl_dir_unlock(lock);
	return ret;
}

int ctl_server_open(const struct lkvm_config *cfg, struct ctl_server **out)
{
	struct ctl_server *srv;
	char dir[sizeof(srv->addr.sun_path)];
	const char *why = NULL;
	struct stat st;
	int ret;

	*out = NULL;
	ret = ctl_dir(dir, sizeof(dir));
	if (ret) {
		pr_err("control socket: no directory for it (set XDG_RUNTIME_DIR or HOME to an absolute path, of at most %zu bytes)",
		       sizeof(dir) - 20);
		return -EINVAL;
	}
	ret = ctl_name_check(dir, cfg->name, &why);
	if (ret) {
		pr_err("--name '%s': %s", cfg->name, why);
		return -EINVAL;
	}
	ret = ctl_dir_prepare(dir, true, &why);
	if (ret) {
		pr_err("control directory %s: %s", dir, why);
		return ret == -EPERM || ret == -ENOTDIR ? -EPERM : ret;
	}
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv->name = cfg->name;
	srv->lw.fd = srv->tw.fd = -1;
	ctl_sock_addr(dir, cfg->name, &srv->addr);
	srv->lw.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    0);
	if (srv->lw.fd < 0) {
		ret = -errno;
		goto err;
	}
	ret = ctl_bind(srv, dir);
	if (ret == -EEXIST) {
		pr_err("a VM named '%s' is already running (%s)", cfg->name,
		       srv->addr.sun_path);
		goto err;
	}
	if (ret) {
		pr_err("control socket %s: %s", srv->addr.sun_path,
		       strerror(-ret));
		goto err;
	}
	/* From here on the file is ours to remove. */
	if (!stat(srv->addr.sun_path, &st)) {
		srv->dev = st.st_dev;
		srv->ino = st.st_ino;
	}
	srv->tw.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (srv->tw.fd < 0) {
		ret = -errno;
		ctl_server_close(srv);
		return ret;
	}
	*out = srv;
	return 0;

err:
	if (srv->lw.fd >= 0)
		close(srv->lw.fd);
	free(srv);
	return ret;
}

int ctl_server_attach(struct ctl_server *srv, struct kvm *kvm)
{
	int ret;

	srv->kvm = kvm;
	srv->start_ms = ctl_now_ms();
	ctl_commands_init();
	srv->lw.cb = ctl_on_accept;
	srv->lw.opaque = srv;
	srv->tw.cb = ctl_on_tick;
	srv->tw.opaque = srv;
	ret = evloop_add(&kvm->loop, &srv->tw, EPOLLIN);
	if (ret)
		return ret;
	ret = evloop_add(&kvm->loop, &srv->lw, EPOLLIN);
	if (ret) {
		evloop_del(&kvm->loop, &srv->tw);
		return ret;
	}
	srv->listening = true;
	return 0;
}

void ctl_server_close(struct ctl_server *srv)
{
	struct stat st;

	if (!srv)
		return;
	for (unsigned int i = 0; i < CTL_MAX_CLIENTS; i++) {
		struct ctl_client *c = &srv->clients[i];

		if (c->open) {
			close(c->w.fd);
			ctl_buf_free(&c->out);
		}
	}
	/* Only our own socket: never one a later VM of this name bound. */
	if (srv->ino && !stat(srv->addr.sun_path, &st) &&
	    st.st_dev == srv->dev && st.st_ino == srv->ino)
		unlink(srv->addr.sun_path);
	if (srv->lw.fd >= 0)
		close(srv->lw.fd);
	if (srv->tw.fd >= 0)
		close(srv->tw.fd);
	free(srv);
}
