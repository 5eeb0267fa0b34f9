// SPDX-License-Identifier: GPL-2.0
/*
 * The tap backend: a tap interface opened through /dev/net/tun with
 * IFF_VNET_HDR (so checksum and segmentation offloads pass through in a
 * 12-byte virtio-net header), or an inherited fd=: a tap the caller
 * opened, or any datagram socket carrying plain Ethernet frames (tests,
 * socket-pair plumbing).  script=/downscript= run as in kvmtool, with the
 * interface name as the one argument.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/if_tun.h>

#include "lkvm/log.h"
#include "lkvm/net.h"

struct net_tap {
	struct net_backend *be;
	int fd;
	bool own_fd;			/* we opened it (not fd=) */
	char ifname[IFNAMSIZ];
	const char *downscript;
	struct evloop *loop;
	struct evloop_watch watch;
	bool watched, rx_on, dead;
	bool dgram;			/* fd= is a SOCK_DGRAM socket */
};

/*
 * Runs "@script @ifname" and waits for it: 0 if it exited with 0, the
 * exec's -errno if it could not be run (a usage error: no such file, not
 * executable), -EIO if it ran and failed.
 */
static int tap_run_script(const char *script, const char *ifname)
{
	int status, err = 0, fds[2];
	ssize_t n;
	pid_t pid;

	if (!script || !strcmp(script, "none"))
		return 0;
	/*
	 * The child's execl() errno comes back through the pipe; a successful
	 * exec closes it (O_CLOEXEC) and the read sees end of file.  Exit
	 * statuses cannot tell the two apart: a shell script's own
	 * "command not found" is 127 too.
	 */
	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		err = errno;
		close(fds[0]);
		close(fds[1]);
		return -err;
	}
	if (!pid) {
		signal(SIGPIPE, SIG_DFL);	/* lkvm ignores it; the script must not */
		execl(script, script, ifname, (char *)NULL);
		err = errno;
		/* Nothing is left to try if this fails: the parent sees 127. */
		if (write(fds[1], &err, sizeof(err)) < 0)
			(void)0;
		_exit(127);
	}
	close(fds[1]);
	do
		n = read(fds[0], &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (n == (ssize_t)sizeof(err) && err > 0) {
		pr_err("net: cannot run %s: %s", script, strerror(err));
		return -err;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		if (WIFSIGNALED(status))
			pr_err("net: %s %s killed by signal %d", script, ifname,
			       WTERMSIG(status));
		else
			pr_err("net: %s %s exited with status %d", script,
			       ifname, WEXITSTATUS(status));
		return -EIO;
	}
	return 0;
}

static int tap_if_up(const char *ifname)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = 0;

	if (s < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
		ret = -errno;
	} else if (!(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
			ret = -errno;
	}
	close(s);
	return ret;
}

/* Which offloads the tap takes; leaves them all off until the guest says. */
static void tap_probe_offloads(struct net_backend *be, int fd)
{
	unsigned int base = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 |
			    TUN_F_TSO_ECN;

	if (ioctl(fd, TUNSETOFFLOAD, base) < 0)
		return;
	be->features = NET_OFFLOAD_FEATURES &
		       ~((1ULL << VIRTIO_NET_F_HOST_UFO) |
			 (1ULL << VIRTIO_NET_F_GUEST_UFO));
	if (!ioctl(fd, TUNSETOFFLOAD, base | TUN_F_UFO))
		be->features = NET_OFFLOAD_FEATURES;
	ioctl(fd, TUNSETOFFLOAD, 0);
}

static int tap_setup_vnet(struct net_backend *be, int fd)
{
	int sz = NET_HDR_LEN, le = 1;

	if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0)
		return -errno;
	/* virtio 1.0 headers are little-endian; a no-op on x86/arm64. */
	if (ioctl(fd, TUNSETVNETLE, &le) < 0 && errno != EINVAL &&
	    errno != ENOTTY)
		return -errno;
	be->vnet_hdr = true;
	tap_probe_offloads(be, fd);
	return 0;
}

static int tap_open_dev(struct net_tap *t, const struct lkvm_net *cfg)
{
	struct ifreq ifr = { 0 };
	int fd;

	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		pr_err("net: /dev/net/tun: %s", strerror(errno));
		return -errno;
	}
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s",
		 cfg->tapif ? cfg->tapif : "lkvmtap%d");
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int err = errno;

		if (err == EPERM)
			pr_err("net: tap %s: needs CAP_NET_ADMIN (run as root), "
			       "or a tap you own: 'ip tuntap add dev NAME mode tap "
			       "user $USER' then tapif=NAME, or pass an open tap "
			       "with fd=; mode=user needs no privileges",
			       ifr.ifr_name);
		else
			pr_err("net: tap %s: %s", ifr.ifr_name, strerror(err));
		close(fd);
		return -err;
	}
	t->fd = fd;
	t->own_fd = true;
	snprintf(t->ifname, sizeof(t->ifname), "%s", ifr.ifr_name);
	return 0;
}

/* fd=: a tap (TUNGETIFF works) or a datagram socket of plain frames. */
static int tap_adopt_fd(struct net_tap *t, int fd)
{
	struct ifreq ifr = { 0 };
	int type = 0, flags;
	socklen_t len = sizeof(type);

	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		pr_err("net: fd=%d: %s", fd, strerror(errno));
		return -EBADF;
	}
	t->fd = fd;
	if (!ioctl(fd, TUNGETIFF, &ifr)) {
		snprintf(t->ifname, sizeof(t->ifname), "%s", ifr.ifr_name);
		if (!(ifr.ifr_flags & IFF_TAP) || !(ifr.ifr_flags & IFF_NO_PI)) {
			pr_err("net: fd=%d: %s is not a tap with IFF_NO_PI", fd,
			       t->ifname);
			return -EINVAL;
		}
		return (ifr.ifr_flags & IFF_VNET_HDR) ?
			tap_setup_vnet(t->be, fd) : 0;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) ||
	    (type != SOCK_DGRAM && type != SOCK_SEQPACKET)) {
		pr_err("net: fd=%d is neither a tap nor a datagram socket", fd);
		return -EINVAL;
	}
	t->dgram = type == SOCK_DGRAM;
	snprintf(t->ifname, sizeof(t->ifname), "fd%d", fd);
	return 0;
}

static void tap_on_event(void *opaque, u32 events __unused)
{
	struct net_tap *t = opaque;
	struct net_backend *be = t->be;

	pthread_mutex_lock(be->lock);
	be->rx_wake(be->opaque);
	pthread_mutex_unlock(be->lock);
}

static void tap_watch(struct net_tap *t)
{
	bool want = t->rx_on && !t->dead;

	if (!t->loop || want == t->watched)
		return;
	/*
	 * Add and remove the fd rather than change its event mask: epoll
	 * reports EPOLLERR/EPOLLHUP even with a mask of 0, which on a dead
	 * tap or a closed socket peer would spin the device thread.
	 */
	if (!(want ? evloop_add(t->loop, &t->watch, EPOLLIN) :
		     evloop_del(t->loop, &t->watch)))
		t->watched = want;
}

static int tap_attach(struct net_backend *be, struct evloop *loop)
{
	struct net_tap *t = be->priv;

	t->watch = (struct evloop_watch){
		.fd = t->fd, .cb = tap_on_event, .opaque = t,
	};
	t->loop = loop;
	tap_watch(t);
	/* Input wanted but not watched: epoll refused the fd. */
	if (t->rx_on && !t->dead && !t->watched)
		return -EIO;
	return 0;
}

static int tap_send(struct net_backend *be, const struct iovec *iov,
		    unsigned int cnt)
{
	struct net_tap *t = be->priv;
	ssize_t n;

	do {
		n = writev(t->fd, iov, (int)cnt);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		be->tx_dropped++;
		return -errno;
	}
	return 0;
}

static ssize_t tap_recv(struct net_backend *be, void *buf, size_t len)
{
	struct net_tap *t = be->priv;
	ssize_t n;

	if (t->dead)
		return -EAGAIN;
	do {
		n = read(t->fd, buf, len);
	} while (n < 0 && errno == EINTR);
	/*
	 * A datagram socket has no end of file (a closed peer leaves it
	 * quiet): 0 is an empty datagram, for the device to drop.
	 */
	if (n > 0 || (!n && t->dgram))
		return n;
	if (n < 0 && errno == EAGAIN)
		return -EAGAIN;
	/* EOF (a closed socket peer) or a dead tap: stop polling it. */
	pr_warn("net: %s: %s, no more input", t->ifname,
		n ? strerror(errno) : "end of file");
	t->dead = true;
	tap_watch(t);
	return -EIO;
}

static void tap_rx_enable(struct net_backend *be, bool on)
{
	struct net_tap *t = be->priv;

	t->rx_on = on;
	tap_watch(t);
}

static int tap_set_offload(struct net_backend *be, u64 f)
{
	struct net_tap *t = be->priv;
	unsigned int off = 0;

	if (!be->vnet_hdr)
		return 0;
	if (f & (1ULL << VIRTIO_NET_F_GUEST_CSUM)) {
		off |= TUN_F_CSUM;
		if (f & (1ULL << VIRTIO_NET_F_GUEST_TSO4))
			off |= TUN_F_TSO4;
		if (f & (1ULL << VIRTIO_NET_F_GUEST_TSO6))
			off |= TUN_F_TSO6;
		if ((off & (TUN_F_TSO4 | TUN_F_TSO6)) &&
		    (f & (1ULL << VIRTIO_NET_F_GUEST_ECN)))
			off |= TUN_F_TSO_ECN;
		if (f & (1ULL << VIRTIO_NET_F_GUEST_UFO))
			off |= TUN_F_UFO;
	}
	return ioctl(t->fd, TUNSETOFFLOAD, off) < 0 ? -errno : 0;
}

static void tap_free(struct net_backend *be)
{
	struct net_tap *t = be->priv;

	if (t->loop && t->watched)
		evloop_del(t->loop, &t->watch);
	if (t->own_fd) {
		tap_run_script(t->downscript, t->ifname);
		close(t->fd);
	}
	free(t);
}

static const struct net_backend_ops tap_ops = {
	.name = "tap",
	.attach = tap_attach,
	.send = tap_send,
	.recv = tap_recv,
	.rx_enable = tap_rx_enable,
	.set_offload = tap_set_offload,
	.free = tap_free,
};

int net_tap_open(struct net_backend *be, const struct lkvm_net *cfg)
{
	struct net_tap *t = calloc(1, sizeof(*t));
	int ret;

	if (!t)
		return -ENOMEM;
	t->be = be;
	t->fd = -1;
	be->priv = t;
	be->ops = &tap_ops;
	if (cfg->fd >= 0) {
		ret = tap_adopt_fd(t, cfg->fd);
		if (ret)
			goto err;
		return 0;
	}
	ret = tap_open_dev(t, cfg);
	if (ret)
		goto err;
	ret = tap_setup_vnet(be, t->fd);
	if (ret) {
		pr_err("net: %s: vnet header: %s", t->ifname, strerror(-ret));
		goto err;
	}
	if (cfg->script) {
		ret = tap_run_script(cfg->script, t->ifname);
	} else {
		ret = tap_if_up(t->ifname);
		if (ret)
			pr_warn("net: %s: cannot bring it up: %s", t->ifname,
				strerror(-ret));
		ret = 0;
	}
	if (ret)
		goto err;
	t->downscript = cfg->downscript;
	pr_info("net: tap %s%s", t->ifname, be->vnet_hdr ? " (vnet header)" : "");
	return 0;
err:
	if (t->own_fd)
		close(t->fd);
	free(t);
	be->priv = NULL;
	be->ops = NULL;
	return ret;
}
