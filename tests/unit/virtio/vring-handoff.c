// SPDX-License-Identifier: GPL-2.0
/*
 * A guest buffer handed from one host thread to another through the guest
 * is not a data race.  Two threads serve two rings, as two queue threads
 * of one device do; the driver is a forked process, so that, as with a
 * real guest, ThreadSanitizer sees none of its synchronisation.  It gives
 * the same byte to one thread, takes it back, and gives it to the other;
 * then an indirect table one thread read becomes a buffer the other
 * writes, and back into a table.  Built with SANITIZE=thread, a missing handoff
 * (vring_chain_release() and the acquire in vring_pop()) makes TSan
 * report the second thread's write and fail the test; in other builds it
 * checks the chains and the bytes each side saw.
 */
#include <endian.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lkvm/barrier.h"
#include "lkvm/vring.h"
#include "tap.h"

#define MEM_SIZE	0x20000
#define QSZ		8
#define RING_A		0x1000		/* desc, avail, used: a page each */
#define RING_B		0x5000
#define TABLE		0x9000		/* indirect table, later a buffer */
#define BUF		0x10000		/* the status byte both threads write */
#define DATA		0x11040		/* what the indirect table points at */
/* Generous: the other side may be starved on a loaded machine. */
#define WAIT_SEC	120

static u8 *ram;
static struct guest_mem gm;
static struct vring_state qa, qb;

struct ring_gpa {
	u64 desc, avail, used;
};

static const struct ring_gpa ga = { RING_A, RING_A + 0x1000, RING_A + 0x2000 };
static const struct ring_gpa gb = { RING_B, RING_B + 0x1000, RING_B + 0x2000 };

static bool expired(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec - start->tv_sec > WAIT_SEC;
}

/* --- the driver (the forked child) ------------------------------------ */

static void set_desc(const struct ring_gpa *g, unsigned int i, u64 addr,
		     u32 len, u16 flags)
{
	struct vring_desc *d = (struct vring_desc *)(ram + g->desc) + i;

	d->addr = htole64(addr);
	d->len = htole32(len);
	d->flags = htole16(flags);
	d->next = 0;
}

/* Posts head 0 of @g's table and waits until the device used it. */
static bool offer_and_wait(const struct ring_gpa *g, u16 n)
{
	struct vring_avail *av = (struct vring_avail *)(ram + g->avail);
	struct vring_used *us = (struct vring_used *)(ram + g->used);
	struct timespec start;

	av->ring[(n - 1) % QSZ] = 0;
	smp_store_release(&av->idx, htole16(n));
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (le16toh(smp_load_acquire(&us->idx)) != n) {
		if (expired(&start))
			return false;
		sched_yield();
	}
	return true;
}

static int driver(void)
{
	struct vring_desc *t = (struct vring_desc *)(ram + TABLE);

	/* 1: the status byte, to thread A, then to thread B. */
	set_desc(&ga, 0, BUF, 1, VRING_DESC_F_WRITE);
	if (!offer_and_wait(&ga, 1) || ram[BUF] != 0xa1)
		return 1;
	set_desc(&gb, 0, BUF, 1, VRING_DESC_F_WRITE);
	if (!offer_and_wait(&gb, 1) || ram[BUF] != 0xb1)
		return 2;
	/* 2: A reads an indirect table; its memory becomes B's buffer. */
	t->addr = htole64(DATA);
	t->len = htole32(16);
	t->flags = 0;
	t->next = 0;
	ram[DATA] = 0x5a;
	set_desc(&ga, 0, TABLE, sizeof(*t), VRING_DESC_F_INDIRECT);
	if (!offer_and_wait(&ga, 2))
		return 3;
	set_desc(&gb, 0, TABLE, 1, VRING_DESC_F_WRITE);
	if (!offer_and_wait(&gb, 2) || ram[TABLE] != 0xb2)
		return 4;
	/* 3: and a table again, which A reads where B wrote. */
	t->addr = htole64(DATA);
	set_desc(&ga, 0, TABLE, sizeof(*t), VRING_DESC_F_INDIRECT);
	if (!offer_and_wait(&ga, 3))
		return 5;
	return 0;
}

/* --- the device: one thread per ring ---------------------------------- */

struct server {
	struct vring_state *vq;
	int rounds;
	u8 mark[3];		/* written into each round's buffer */
	/* Results, read by main after the join. */
	bool popped[3];
	u8 seen[3];		/* first byte of the chain's first buffer */
	bool indirect_recorded;
};

static void *serve(void *arg)
{
	struct server *s = arg;
	struct vring_chain c;
	struct timespec start;

	for (int round = 0; round < s->rounds; round++) {
		int ret;

		clock_gettime(CLOCK_MONOTONIC, &start);
		while (!(ret = vring_pop(s->vq, &c)) && !expired(&start))
			sched_yield();
		if (ret != 1 || c.out_num + c.in_num != 1)
			return NULL;
		s->popped[round] = true;
		s->seen[round] = *(u8 *)c.iov[0].iov_base;
		if (c.in_num)
			*(u8 *)c.iov[0].iov_base = s->mark[round];
		if (c.indirect.iov_base == ram + TABLE &&
		    c.indirect.iov_len == sizeof(struct vring_desc))
			s->indirect_recorded = true;
		vring_chain_release(&c);
		vring_push(s->vq, c.id.head, c.in_num ? 1 : 0);
	}
	return NULL;
}

static void map_ring(struct vring_state *vq, const struct ring_gpa *g)
{
	*vq = (struct vring_state){ .size = QSZ, .desc_gpa = g->desc,
				    .avail_gpa = g->avail, .used_gpa = g->used };
	if (vring_map(vq, &gm, false, true))
		abort();
}

int main(void)
{
	struct server a = { .vq = &qa, .rounds = 3, .mark = { 0xa1 } };
	struct server b = { .vq = &qb, .rounds = 2, .mark = { 0xb1, 0xb2 } };
	pthread_t ta, tb;
	int status;
	pid_t pid;

	tap_plan(7);
	ram = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED)
		abort();
	guest_mem_add(&gm, 0, MEM_SIZE, ram);
	map_ring(&qa, &ga);
	map_ring(&qb, &gb);

	/* Before any thread: the child is the driver and nothing else. */
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		abort();
	if (!pid)
		_exit(driver());
	if (pthread_create(&ta, NULL, serve, &a) ||
	    pthread_create(&tb, NULL, serve, &b))
		abort();
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	if (waitpid(pid, &status, 0) != pid)
		abort();

	is_int(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0,
	       "the driver saw each thread's byte (exit 1-5: the step that failed)");
	ok(a.popped[0] && a.popped[1] && a.popped[2] && b.popped[0] &&
	   b.popped[1], "each thread popped all of its chains");
	is_int(b.seen[0], 0xa1,
	       "thread B read the byte thread A wrote, handed over by the driver");
	ok(a.indirect_recorded, "the chain records the indirect table it read");
	ok(!b.indirect_recorded, "a chain without one records none");
	is_int(b.seen[1], 0x40,
	       "thread B's buffer is the table thread A read (its first byte)");
	is_int(a.seen[2], 0x5a, "thread A read the table again after B's write");
	return tap_done();
}
