// SPDX-License-Identifier: GPL-2.0
/*
 * A worker thread for requests that only exist as blocking system calls
 * (qcow2's metadata updates, fallocate): it runs them one at a time in
 * submission order and reports completions on the disk's eventfd, so the
 * device's event loop never waits for the disk.
 */
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include "disk-int.h"
#include "lkvm/seccomp.h"

/*
 * w->lock held: @req finished, on the done list for the reaper, who is
 * woken through the eventfd if @wake.
 */
static void worker_done(struct disk_worker *w, struct disk_req *req,
			bool wake)
{
	u64 one = 1;

	req->next = NULL;
	if (w->done_tail)
		w->done_tail->next = req;
	else
		w->done_head = req;
	w->done_tail = req;
	pthread_cond_broadcast(&w->idle);
	/* Can only fail if the counter saturates: a wake-up is due. */
	if (wake && write(w->efd, &one, sizeof(one)) < 0)
		(void)0;
}

static void *worker_thread(void *opaque)
{
	struct disk_worker *w = opaque;
	struct disk_req *req;

	pthread_setname_np(pthread_self(), "lkvm-disk");
	seccomp__thread_enter(SECCOMP_THREAD_DISK);
	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->head && !w->stop)
			pthread_cond_wait(&w->cond, &w->lock);
		if (!w->head)
			break;
		req = w->head;
		w->head = req->next;
		if (!w->head)
			w->tail = NULL;
		w->running = true;
		pthread_mutex_unlock(&w->lock);

		req->ret = w->fn(w->ctx, req);

		pthread_mutex_lock(&w->lock);
		w->running = false;
		worker_done(w, req, true);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int disk_worker_start(struct disk_worker *w, int efd,
		      int (*fn)(void *ctx, struct disk_req *req), void *ctx)
{
	int ret;

	*w = (struct disk_worker){ .efd = efd, .fn = fn, .ctx = ctx };
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	pthread_cond_init(&w->idle, NULL);
	ret = pthread_create(&w->thread, NULL, worker_thread, w);
	if (ret)
		return -ret;
	w->started = true;
	return 0;
}

void disk_worker_queue(struct disk_worker *w, struct disk_req *req)
{
	pthread_mutex_lock(&w->lock);
	req->next = NULL;
	if (w->tail)
		w->tail->next = req;
	else
		w->head = req;
	w->tail = req;
	w->busy++;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

/*
 * With nothing queued or running, the worker's state (the backend's, for
 * qcow2 its metadata and caches) is only touched under w->lock: holding
 * it, this thread may run a request itself.  No request overtakes an
 * earlier one: those have all finished.  The completion goes the
 * worker's way (done list, eventfd), so callers need not know; without
 * the eventfd's wake-up where the submitter collects it anyway
 * (d->poll_after_submit).
 */
bool disk_worker_try_inline(struct disk_worker *w, struct disk_req *req,
			    int (*fn)(void *ctx, struct disk_req *req),
			    bool wake)
{
	int ret;

	pthread_mutex_lock(&w->lock);
	if (w->head || w->running) {
		pthread_mutex_unlock(&w->lock);
		return false;
	}
	ret = fn(w->ctx, req);
	if (ret == -EAGAIN) {
		pthread_mutex_unlock(&w->lock);
		return false;
	}
	req->ret = ret;
	w->busy++;
	worker_done(w, req, wake);
	pthread_mutex_unlock(&w->lock);
	return true;
}

unsigned int disk_worker_reap(struct disk_worker *w, struct disk *d)
{
	struct disk_req *req, *next;
	unsigned int n = 0;

	if (!w->started)
		return 0;
	pthread_mutex_lock(&w->lock);
	req = w->done_head;
	w->done_head = w->done_tail = NULL;
	pthread_mutex_unlock(&w->lock);
	for (; req; req = next) {
		next = req->next;
		pthread_mutex_lock(&w->lock);
		w->busy--;
		pthread_mutex_unlock(&w->lock);
		disk_complete(d, req, req->ret);
		n++;
	}
	return n;
}

void disk_worker_drain(struct disk_worker *w, struct disk *d)
{
	if (!w->started)
		return;
	for (;;) {
		pthread_mutex_lock(&w->lock);
		/* Everything queued is either done or on its way there. */
		while (w->head || (w->busy && !w->done_head))
			pthread_cond_wait(&w->idle, &w->lock);
		if (!w->busy) {
			pthread_mutex_unlock(&w->lock);
			return;
		}
		pthread_mutex_unlock(&w->lock);
		disk_worker_reap(w, d);
	}
}

void disk_worker_stop(struct disk_worker *w)
{
	if (!w->started)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cond);
	pthread_cond_destroy(&w->idle);
	pthread_mutex_destroy(&w->lock);
	w->started = false;
}
