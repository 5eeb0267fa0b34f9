// SPDX-License-Identifier: GPL-2.0
/*
 * Host-side peer for the virtio-net tests and benchmark.  Only loopback
 * and interfaces the test created in its own network namespace.
 *
 *   nethelper echo IFNAME SECS           echo ethertype 0x88b5 frames back
 *   nethelper tcpserver PORTFILE SECS    one TCP connection on 127.0.0.1:
 *                                        read a line, answer "echo: line"
 *   nethelper udpclient PORT SECS        "ping" to 127.0.0.1:PORT until
 *                                        echoed, then "bye"
 *   nethelper flood IFNAME N SIZE        N frames of ethertype 0x88b6
 *   nethelper sink IFNAME N SECS         count 0x88b6 frames, print rate
 *   nethelper udpflood PORT N SIZE       N datagrams to 127.0.0.1:PORT
 *   nethelper udpsink PORTFILE N SECS    count datagrams on 127.0.0.1
 *   nethelper freeudp                    print a UDP port of 127.0.0.1
 *                                        that nothing is bound to
 *
 * Every loop is bounded by a count and by SECS.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int packet_socket(const char *ifname, int proto)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	int s = socket(AF_PACKET, SOCK_RAW, htons(proto)), bufsz = 4 << 20;

	if (s < 0) {
		perror("socket(AF_PACKET)");
		exit(2);
	}
	sll.sll_protocol = htons(proto);
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (!sll.sll_ifindex || bind(s, (void *)&sll, sizeof(sll))) {
		perror(ifname);
		exit(2);
	}
	setsockopt(s, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	setsockopt(s, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	return s;
}

/* Next incoming (not outgoing) frame, or -1 after @deadline. */
static ssize_t recv_in(int s, unsigned char *buf, size_t len, double deadline)
{
	struct sockaddr_ll from;
	socklen_t fl = sizeof(from);
	struct pollfd pfd = { .fd = s, .events = POLLIN };
	ssize_t n;

	while (now() < deadline) {
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		n = recvfrom(s, buf, len, 0, (void *)&from, &fl);
		if (n > 0 && from.sll_pkttype != PACKET_OUTGOING)
			return n;
	}
	return -1;
}

static int do_echo(const char *ifname, int secs)
{
	int s = packet_socket(ifname, 0x88b5);
	unsigned char buf[2048], tmp[6];
	unsigned long n = 0, bad = 0;
	uint32_t expect = 0, seq;
	double end = now() + secs;
	ssize_t len;

	printf("echo: ready on %s\n", ifname);
	fflush(stdout);
	while ((len = recv_in(s, buf, sizeof(buf), end)) > 0) {
		memcpy(tmp, buf, 6);
		memcpy(buf, buf + 6, 6);
		memcpy(buf + 6, tmp, 6);
		if (send(s, buf, (size_t)len, 0) != len)
			perror("send");
		memcpy(&seq, buf + 14, 4);
		seq = ntohl(seq);
		if (seq == 0xffffffff)
			continue;	/* probe */
		if (seq != expect)
			bad++;
		expect = seq + 1;
		n++;
		/* The guest is done after its last frame: stop when idle. */
		end = now() + 10;
	}
	printf("echo: %lu frames, %lu out of order\n", n, bad);
	return 0;
}

static int do_tcpserver(const char *portfile, int secs)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof(a);
	char buf[256], out[300];
	struct pollfd pfd;
	int s, c, one = 1;
	ssize_t n, got = 0;
	FILE *f;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (void *)&a, sizeof(a)) || listen(s, 1) ||
	    getsockname(s, (void *)&a, &al)) {
		perror("tcpserver");
		return 2;
	}
	f = fopen(portfile, "w");
	fprintf(f, "%d\n", ntohs(a.sin_port));
	fclose(f);
	pfd = (struct pollfd){ .fd = s, .events = POLLIN };
	if (poll(&pfd, 1, secs * 1000) != 1)
		return 1;
	c = accept(s, NULL, NULL);
	pfd = (struct pollfd){ .fd = c, .events = POLLIN };
	while (got < (ssize_t)sizeof(buf) - 1 && poll(&pfd, 1, secs * 1000) == 1) {
		n = read(c, buf + got, sizeof(buf) - 1 - (size_t)got);
		if (n <= 0)
			break;
		got += n;
		if (memchr(buf, '\n', (size_t)got))
			break;
	}
	buf[got] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	printf("tcpserver: got '%s'\n", buf);
	n = snprintf(out, sizeof(out), "echo: %s\n", buf);
	if (write(c, out, (size_t)n) != n)
		perror("write");
	close(c);
	close(s);
	return 0;
}

static int udp_socket(void)
{
	return socket(AF_INET, SOCK_DGRAM, 0);
}

/*
 * The kernel picks the port: a guess could land on one that something on
 * the machine holds.  It is free again once this exits; the kernel hands
 * out ephemeral ports in turn, so it is not reused at once.
 */
static int do_freeudp(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int s = udp_socket();

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(s, (struct sockaddr *)&a, &len)) {
		perror("freeudp");
		if (s >= 0)
			close(s);
		return 1;
	}
	printf("%u\n", ntohs(a.sin_port));
	close(s);
	return 0;
}

static int do_udpclient(int port, int secs)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	const char *msgs[] = { "ping", "bye" };
	struct pollfd pfd;
	double end = now() + secs;
	char buf[64];
	int s = udp_socket();
	ssize_t n;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	pfd = (struct pollfd){ .fd = s, .events = POLLIN };
	for (int m = 0; m < 2; m++) {
		for (;;) {
			if (now() > end)
				return 1;
			sendto(s, msgs[m], strlen(msgs[m]), 0, (void *)&a,
			       sizeof(a));
			if (poll(&pfd, 1, 200) != 1)
				continue;
			n = recv(s, buf, sizeof(buf) - 1, 0);
			if (n <= 0)
				continue;
			buf[n] = '\0';
			printf("udpclient: reply '%s'\n", buf);
			if (!strcmp(buf, msgs[m]))
				break;
		}
	}
	return 0;
}

static int do_flood(const char *ifname, long n, int size)
{
	int s = packet_socket(ifname, 0x88b6);
	unsigned char buf[2048] = { 0 };
	double t0 = now();
	long sent = 0;

	memset(buf, 0xff, 6);
	buf[6] = 0x02;
	buf[12] = 0x88;
	buf[13] = 0xb6;
	for (long i = 0; i < n; i++) {
		if (send(s, buf, (size_t)size, 0) == size) {
			sent++;
		} else if (errno == ENOBUFS) {
			usleep(50);
			i--;
		}
		if (now() - t0 > 60)
			break;
	}
	printf("flood: %ld frames in %.3f s: %.0f frames/s\n", sent,
	       now() - t0, sent / (now() - t0));
	return 0;
}

static int do_sink(const char *ifname, long n, int secs)
{
	int s = packet_socket(ifname, 0x88b6);
	unsigned char buf[2048];
	double end = now() + secs, t0 = 0, last = 0;
	long got = 0;

	printf("sink: ready\n");
	fflush(stdout);
	while (got < n && recv_in(s, buf, sizeof(buf), end) > 0) {
		last = now();
		if (!got++)
			t0 = last;
		end = last + 3 < end ? last + 3 : end;
	}
	printf("sink: %ld frames in %.3f s: %.0f frames/s\n", got, last - t0,
	       got > 1 ? (got - 1) / (last - t0) : 0.0);
	return 0;
}

static int do_udpflood(int port, long n, int size)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	char buf[1500] = { 0 };
	int s = udp_socket();
	double t0 = now();

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	for (long i = 0; i < n && now() - t0 < 60; i++)
		sendto(s, buf, (size_t)size, 0, (void *)&a, sizeof(a));
	printf("udpflood: %ld datagrams in %.3f s\n", n, now() - t0);
	return 0;
}

static int do_udpsink(const char *portfile, long n, int secs)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof(a);
	int s = udp_socket(), bufsz = 4 << 20;
	double end = now() + secs, t0 = 0, last = 0;
	struct pollfd pfd = { .fd = s, .events = POLLIN };
	char buf[2048];
	long got = 0;
	FILE *f;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(s, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	if (bind(s, (void *)&a, sizeof(a)) || getsockname(s, (void *)&a, &al))
		return 2;
	f = fopen(portfile, "w");
	fprintf(f, "%d\n", ntohs(a.sin_port));
	fclose(f);
	while (got < n && now() < end) {
		if (poll(&pfd, 1, 200) != 1)
			continue;
		if (recv(s, buf, sizeof(buf), 0) > 0) {
			last = now();
			if (!got++)
				t0 = last;
			end = last + 3 < end ? last + 3 : end;
		}
	}
	printf("udpsink: %ld datagrams in %.3f s: %.0f/s\n", got, last - t0,
	       got > 1 ? (got - 1) / (last - t0) : 0.0);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && !strcmp(argv[1], "echo"))
		return do_echo(argv[2], atoi(argv[3]));
	if (argc == 4 && !strcmp(argv[1], "tcpserver"))
		return do_tcpserver(argv[2], atoi(argv[3]));
	if (argc == 2 && !strcmp(argv[1], "freeudp"))
		return do_freeudp();
	if (argc == 4 && !strcmp(argv[1], "udpclient"))
		return do_udpclient(atoi(argv[2]), atoi(argv[3]));
	if (argc == 5 && !strcmp(argv[1], "flood"))
		return do_flood(argv[2], atol(argv[3]), atoi(argv[4]));
	if (argc == 5 && !strcmp(argv[1], "sink"))
		return do_sink(argv[2], atol(argv[3]), atoi(argv[4]));
	if (argc == 5 && !strcmp(argv[1], "udpflood"))
		return do_udpflood(atoi(argv[2]), atol(argv[3]), atoi(argv[4]));
	if (argc == 5 && !strcmp(argv[1], "udpsink"))
		return do_udpsink(argv[2], atol(argv[3]), atoi(argv[4]));
	fprintf(stderr, "usage: see the top of %s\n", __FILE__);
	return 2;
}
