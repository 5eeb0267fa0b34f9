/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_DISK_INT_H
#define LKVM_DISK_INT_H

/* What backends share: their ops, the worker thread, iovec helpers. */
#include <pthread.h>
#include <stdio.h>

#include "lkvm/disk.h"

struct disk_ops {
	const char *name;
	/* Checked request (range, ro, op offered); 0 or -errno. */
	int (*submit)(struct disk *d, struct disk_req *req);
	void (*poll)(struct disk *d);
	void (*drain)(struct disk *d);
	int (*pread)(struct disk *d, void *buf, size_t len, u64 offset);
	void (*close)(struct disk *d);
	/*
	 * Optional (disk_open_lane()): the backend state of @lane, which has
	 * @d's fields copied, its own lock and event_fd and no fd yet.
	 */
	int (*open_lane)(struct disk *d, struct disk *lane, char *err,
			 size_t errlen);
};

/* Backends hand a finished request back through this. */
void disk_complete(struct disk *d, struct disk_req *req, int ret);

/*
 * The format the first bytes of an image say it is: qcow2 for its magic,
 * raw for anything else.
 */
enum disk_format disk_probe(const u8 *buf, size_t len);

/* Formats the reason for a failed open into @err. */
#define disk_err(err, len, ...) snprintf((err), (len), __VA_ARGS__)

int raw_open(struct disk *d, int fd, char *err, size_t errlen);
/*
 * What the raw backend calls to collect aio completions: io_getevents(),
 * unless a test puts a failing stand-in here.
 */
struct io_context;
struct io_event;
struct timespec;
extern int (*raw_getevents)(struct io_context *ctx, long min, long nr,
			    struct io_event *ev, struct timespec *ts);
/*
 * @dir_fd: the directory @fd was found in (O_PATH), which bounds the
 * image's backing file by default; borrowed.
 */
int qcow2_open(struct disk *d, int fd, int dir_fd,
	       const struct disk_opts *opts, unsigned int depth, char *err,
	       size_t errlen);
/* disk_open() with a backing-chain depth, for qcow2 backing files. */
int disk_open_depth(const struct disk_opts *opts, struct disk **out,
		    unsigned int depth, char *err, size_t errlen);
/*
 * The same on an open @fd (opts->path names it) found in directory
 * @dir_fd (O_PATH); it takes over both.
 */
int disk_open_fd(const struct disk_opts *opts, int fd, int dir_fd,
		 struct disk **out, unsigned int depth, char *err,
		 size_t errlen);
/*
 * The directory part of @path, malloc'd ("." if none, "/" for the
 * root), and in *@base its last component ("." if @path ends in '/').
 */
char *disk_split_path(const char *path, const char **base);

/*
 * A thread running synchronous request handlers in submission order and
 * signalling completions on an eventfd (the disk's event_fd).
 */
struct disk_worker {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;		/* work queued / stop */
	pthread_cond_t idle;		/* busy dropped to 0 */
	struct disk_req *head, *tail;	/* queued */
	struct disk_req *done_head, *done_tail;
	unsigned int busy;		/* queued + running + done */
	bool running;			/* the worker is in fn() */
	bool stop;
	bool started;
	int efd;
	int (*fn)(void *ctx, struct disk_req *req);
	void *ctx;
};

int disk_worker_start(struct disk_worker *w, int efd,
		      int (*fn)(void *ctx, struct disk_req *req), void *ctx);
void disk_worker_queue(struct disk_worker *w, struct disk_req *req);
/*
 * Runs @req with @fn on the calling thread when the worker has nothing
 * queued or running, completing it as the worker would (the eventfd
 * written only if @wake); false (and nothing done) if the worker is busy
 * or @fn answers -EAGAIN.
 */
bool disk_worker_try_inline(struct disk_worker *w, struct disk_req *req,
			    int (*fn)(void *ctx, struct disk_req *req),
			    bool wake);
/* Completes what the worker finished; returns the number completed. */
unsigned int disk_worker_reap(struct disk_worker *w, struct disk *d);
/* Waits until everything queued has finished, then reaps. */
void disk_worker_drain(struct disk_worker *w, struct disk *d);
void disk_worker_stop(struct disk_worker *w);

/* iovec helpers (disk/iov.c). */
u64 iov_total(const struct iovec *iov, unsigned int cnt, bool *overflow);
size_t iov_to_buf(const struct iovec *iov, unsigned int cnt, u64 skip,
		  void *buf, size_t len);
size_t iov_from_buf(const struct iovec *iov, unsigned int cnt, u64 skip,
		    const void *buf, size_t len);
size_t iov_memset(const struct iovec *iov, unsigned int cnt, u64 skip,
		  int c, size_t len);
bool iov_aligned(const struct iovec *iov, unsigned int cnt, size_t align);

/* pread/pwrite all of @len or fail: -EIO on end of file. */
int full_pread(int fd, void *buf, size_t len, u64 off);
int full_pwrite(int fd, const void *buf, size_t len, u64 off);
int full_preadv(int fd, const struct iovec *iov, unsigned int cnt, u64 off);
int full_pwritev(int fd, const struct iovec *iov, unsigned int cnt, u64 off);
/*
 * One preadv2/pwritev2 that may not wait (RWF_NOWAIT): the bytes moved,
 * maybe fewer than asked, or -errno.  A filesystem without non-blocking
 * buffered writes (ext4) refuses them at once with EOPNOTSUPP, nothing
 * written; *nowait_write_unsupported remembers that, and later writes
 * get -EOPNOTSUPP without the system call.  At most IOV_MAX entries.
 */
ssize_t rw_nowait(int fd, const struct iovec *iov, unsigned int cnt, u64 off,
		  bool write, bool *nowait_write_unsupported);

#endif
