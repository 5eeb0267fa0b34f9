/* SPDX-License-Identifier: GPL-2.0 */
#ifndef LKVM_DISK_H
#define LKVM_DISK_H

/*
 * Block backends: what virtio-blk (or a test program) uses to reach an
 * image, whatever its format.
 *
 *   device (virtio/blk.c)  --disk_submit()-->  backend (disk/raw.c, ...)
 *   backend  --eventfd-->  device event loop  --disk_poll()-->  req->done()
 *
 * Requests are asynchronous: disk_submit() only queues (libaio for raw
 * images, a worker thread for qcow2 and for raw discard/write-zeroes).
 * When disk->event_fd becomes readable the owner calls disk_poll(), which
 * runs the completion callbacks of finished requests on the caller's
 * thread.  Any thread may call them: a lock inside the disk serialises
 * disk_submit(), disk_poll() and disk_drain(), and req->done runs with it
 * held, so a callback must not call back into the disk.
 *
 * Ordering: a FLUSH covers every write whose completion was delivered
 * before the FLUSH was submitted (the virtio-blk rule); writes still in
 * flight are not covered.
 */
#include <pthread.h>
#include <sys/uio.h>

#include "lkvm/types.h"

#define DISK_SECTOR_SIZE	512
/* Requests one disk accepts at a time (libaio queue depth). */
#define DISK_MAX_INFLIGHT	128
/* Backing-file chain length we follow before calling it a loop. */
#define DISK_MAX_BACKING_DEPTH	8

enum disk_format {
	DISK_FORMAT_AUTO,	/* "QFI\xfb" -> qcow2, anything else raw */
	DISK_FORMAT_RAW,
	DISK_FORMAT_QCOW2,
};

enum disk_op {
	DISK_OP_READ,
	DISK_OP_WRITE,
	DISK_OP_FLUSH,
	DISK_OP_DISCARD,
	DISK_OP_WRITE_ZEROES,
};

struct disk;
struct disk_req;

/* @ret: 0 or a negative errno.  Runs inside disk_poll()/disk_drain(). */
typedef void (*disk_done_fn)(struct disk_req *req, int ret);

struct disk_req {
	/* Filled by the caller. */
	enum disk_op op;
	u64 offset;			/* bytes, multiple of 512 */
	u64 len;			/* DISCARD/WRITE_ZEROES; computed for r/w */
	const struct iovec *iov;	/* READ/WRITE data, must stay valid */
	unsigned int iovcnt;
	disk_done_fn done;
	void *opaque;

	/* Set by disk_submit(): unique per disk, for tracing. */
	u64 id;

	/* Backend bookkeeping; the caller leaves it alone. */
	struct disk_req *next;
	int ret;
};

/*
 * Which backing files a qcow2 image may name (-d ...,backing=).  The
 * default suits untrusted images; a user's own chains that point
 * elsewhere need backing=on.
 */
enum disk_backing {
	/* Regular files at or below the image's directory only. */
	DISK_BACKING_SAFE,
	DISK_BACKING_OFF,		/* none: an image that needs one fails */
	DISK_BACKING_ON,		/* any path the image names */
	DISK_BACKING_PATH,		/* backing_path instead of the name */
};

struct disk_opts {
	const char *path;
	enum disk_format format;
	bool readonly;
	bool direct;			/* O_DIRECT (raw only) */
	enum disk_backing backing;
	const char *backing_path;	/* DISK_BACKING_PATH */
};

struct disk_ops;

struct disk {
	const struct disk_ops *ops;
	char *path;
	enum disk_format format;
	u64 size;			/* guest-visible bytes, whole sectors */
	u32 block_size;			/* O_DIRECT alignment (512 normally) */
	bool readonly;
	bool direct;
	/*
	 * Raw because the format was guessed: a write that would make sector
	 * 0 look like another format fails (-EPERM), or the next open would
	 * read guest data as image metadata (QEMU does the same).
	 */
	bool probed;
	bool warned_probe;		/* said so once */
	bool can_discard;
	bool can_write_zeroes;
	int fd;
	int event_fd;			/* readable: call disk_poll() */
	pthread_mutex_t lock;		/* see the top of the file */
	unsigned int inflight;		/* submitted, completion not yet run */
	unsigned int reserved;		/* disk_reserve()d, not yet submitted */
	unsigned int depth;		/* most requests accepted at once */
	/*
	 * The submitter calls disk_poll_submitted() after each batch of
	 * submissions, on every path: a request finished inside
	 * disk_submit() then waits for that call instead of a wake-up
	 * through event_fd (a system call each way).
	 */
	bool poll_after_submit;
	u64 next_id;
	void *priv;			/* backend state */
};

/*
 * Opens an image.  On failure prints nothing, returns a negative errno and
 * puts a one-line reason in @err (e.g. "qcow2: cluster_bits 30 out of range
 * 9..21").
 */
int disk_open(const struct disk_opts *opts, struct disk **out, char *err,
	      size_t errlen);
/*
 * A lane of @d for one thread's requests: the same image with its own
 * lock, event_fd, in-flight limit and (raw) aio context, so threads that
 * each submit to and poll their own lane never contend.  Writes on one
 * lane are seen by reads on every other once completed, and a FLUSH on
 * any lane covers them (the rule above, across lanes).  -EOPNOTSUPP for a
 * format whose state cannot be split (qcow2's metadata); the lane is
 * closed with disk_close() before @d.
 */
int disk_open_lane(struct disk *d, struct disk **out, char *err,
		   size_t errlen);
/* Waits for every request (running their callbacks), then frees @d. */
void disk_close(struct disk *d);

/*
 * Queues @req.  Returns 0 (req->done will run from disk_poll/disk_drain)
 * or a negative errno without calling req->done:
 *   -EROFS   a write-type request on a read-only disk
 *   -EINVAL  not whole sectors, past the end, or an iovec overflow
 *   -EOPNOTSUPP  DISCARD/WRITE_ZEROES the backend does not offer
 *   -EAGAIN  disk->depth requests in flight: retry after a completion
 */
int disk_submit(struct disk *d, struct disk_req *req);
/* Room for one more request now (another thread may take it first). */
bool disk_can_submit(struct disk *d);
/*
 * Room that another thread cannot take: true if one request's worth was
 * set aside for the caller, who then either submits with
 * disk_submit_reserved() (never -EAGAIN; the room is given back on any
 * error) or returns it with disk_unreserve().
 */
bool disk_reserve(struct disk *d);
void disk_unreserve(struct disk *d);
int disk_submit_reserved(struct disk *d, struct disk_req *req);
/* Runs the callbacks of finished requests; never blocks. */
void disk_poll(struct disk *d);
/*
 * After a batch of submissions: on a buffered file a read or write is
 * mostly finished inside disk_submit() (the page cache takes or has the
 * data), so its completion is there already; collecting it now saves the
 * event loop a wake-up per batch.  Nothing (and no system call) for
 * O_DIRECT disks, whose I/O is really async.
 */
void disk_poll_submitted(struct disk *d);
/* Blocks until nothing is in flight, running the callbacks. */
void disk_drain(struct disk *d);

/* Synchronous reads, for backing files and tools: 0 or -errno. */
int disk_pread(struct disk *d, void *buf, size_t len, u64 offset);

/*
 * Copies the part [@skip, @skip + @len) of the @n iovecs at @src into
 * @dst, which has room for @n entries (@dst == @src is fine: each entry
 * comes from the same or a later one).  Returns the number of entries.
 */
unsigned int iov_slice(const struct iovec *src, unsigned int n, u64 skip,
		       u64 len, struct iovec *dst);

/* "off", "on" or a path, as -d backing= takes it: 0 or -EINVAL. */
int disk_parse_backing(const char *s, enum disk_backing *mode,
		       const char **path);

/* "raw", "qcow2"; parse returns -EINVAL for anything else. */
const char *disk_format_name(enum disk_format f);
int disk_parse_format(const char *s, enum disk_format *out);

#endif
