/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_TESTS_GUEST_FRAMES_H
#define LKVM_TESTS_GUEST_FRAMES_H

/*
 * Frames a guest on user-mode networking would send, for the unit tests
 * that play the guest in front of net/user.c: the guest is 10.0.2.15 at
 * GUEST_MAC, the host (loopback through slirp) 10.0.2.2.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "lkvm/types.h"

static const u8 GUEST_MAC[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

/* The Internet checksum of @len bytes at @p, on top of @sum. */
static inline u16 guest_csum(const void *p, size_t len, u32 sum)
{
	const u8 *b = p;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (u32)b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += (u32)b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (u16)~sum;
}

/*
 * "Who has 10.0.2.2? Tell 10.0.2.15" into @f (60 bytes): slirp also
 * learns the guest's address from it, and then sends IP frames to the
 * guest without asking first.
 */
static inline size_t guest_arp_request(u8 *f)
{
	static const u8 spa[4] = { 10, 0, 2, 15 }, tpa[4] = { 10, 0, 2, 2 };

	memset(f, 0, 60);
	memset(f, 0xff, 6);
	memcpy(f + 6, GUEST_MAC, 6);
	f[12] = 0x08; f[13] = 0x06;
	f[14] = 0; f[15] = 1;			/* Ethernet */
	f[16] = 0x08; f[17] = 0x00;		/* IPv4 */
	f[18] = 6; f[19] = 4;
	f[20] = 0; f[21] = 1;			/* request */
	memcpy(f + 22, GUEST_MAC, 6);
	memcpy(f + 28, spa, 4);
	memcpy(f + 38, tpa, 4);
	return 60;
}

/*
 * A TCP segment from 10.0.2.15:@sport to 10.0.2.2:@dport into @f (54 +
 * @len bytes) with @flags and @len bytes of @data.
 */
static inline size_t guest_tcp(u8 *f, u16 sport, u16 dport, u32 seq,
			       u32 ack, u8 flags, const void *data, u16 len)
{
	static const u8 dst_mac[6] = { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02 };
	u8 *ip = f + 14, *tcp = ip + 20, pseudo[12] = { 0 };
	u32 saddr = htonl(0x0a00020f), daddr = htonl(0x0a000202), sum = 0;
	u16 v;

	memset(f, 0, 14 + 20 + 20);
	memcpy(f, dst_mac, 6);
	memcpy(f + 6, GUEST_MAC, 6);
	f[12] = 0x08;
	ip[0] = 0x45;
	v = htons((u16)(40 + len));
	memcpy(ip + 2, &v, 2);
	ip[8] = 64;
	ip[9] = IPPROTO_TCP;
	memcpy(ip + 12, &saddr, 4);
	memcpy(ip + 16, &daddr, 4);
	v = htons(guest_csum(ip, 20, 0));
	memcpy(ip + 10, &v, 2);

	v = htons(sport);
	memcpy(tcp, &v, 2);
	v = htons(dport);
	memcpy(tcp + 2, &v, 2);
	seq = htonl(seq);
	memcpy(tcp + 4, &seq, 4);
	ack = htonl(ack);
	memcpy(tcp + 8, &ack, 4);
	tcp[12] = 5 << 4;		/* data offset */
	tcp[13] = flags;
	v = htons(8192);
	memcpy(tcp + 14, &v, 2);
	if (len)
		memcpy(tcp + 20, data, len);
	memcpy(pseudo, &saddr, 4);
	memcpy(pseudo + 4, &daddr, 4);
	pseudo[9] = IPPROTO_TCP;
	v = htons((u16)(20 + len));
	memcpy(pseudo + 10, &v, 2);
	for (int i = 0; i < 12; i += 2)
		sum += (u32)pseudo[i] << 8 | pseudo[i + 1];
	v = htons(guest_csum(tcp, 20 + len, sum));
	memcpy(tcp + 16, &v, 2);
	return 14 + 20 + 20 + len;
}

#endif
