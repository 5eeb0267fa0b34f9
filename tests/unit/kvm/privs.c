// SPDX-License-Identifier: GPL-2.0
/*
 * kvm/privs.c: threads that exist before privs_drop() lose their
 * capabilities and get no_new_privs too (each is signalled to drop its
 * own), threads created afterwards inherit that, and an inherited fd
 * becomes close-on-exec.  Runs as any user: as root every set ends empty,
 * as a user only no_new_privs changes.
 */
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "lkvm/privs.h"
#include "tap.h"

#define NR_THREADS	4

static sem_t go;

/* Blocks until the end, as a device thread waits in epoll_wait(). */
static void *idle_thread(void *arg)
{
	int *nnp = arg;

	while (sem_wait(&go))
		;
	*nnp = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
	return NULL;
}

int main(void)
{
	pthread_t t[NR_THREADS + 1];
	int nnp[NR_THREADS + 1] = { 0 }, fd, fl;

	tap_plan(6);
	sem_init(&go, 0, 0);
	fd = open("/dev/null", O_RDONLY);	/* no O_CLOEXEC: "inherited" */
	privs_cloexec_inherited();
	fl = fcntl(fd, F_GETFD);
	ok(fl >= 0 && (fl & FD_CLOEXEC), "an fd opened without O_CLOEXEC is close-on-exec afterwards");

	for (int i = 0; i < NR_THREADS; i++)
		pthread_create(&t[i], NULL, idle_thread, &nnp[i]);
	is_int(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), 0, "no_new_privs unset before");
	is_int(privs_drop(), 0, "privs_drop() succeeds");
	is_int(privs_check(geteuid() == 0), 0, "every thread: no capability, no_new_privs");
	pthread_create(&t[NR_THREADS], NULL, idle_thread, &nnp[NR_THREADS]);
	for (int i = 0; i <= NR_THREADS; i++)
		sem_post(&go);
	for (int i = 0; i <= NR_THREADS; i++)
		pthread_join(t[i], NULL);
	fl = 1;
	for (int i = 0; i < NR_THREADS; i++)
		fl &= nnp[i] == 1;
	ok(fl, "threads started before the drop see no_new_privs");
	is_int(nnp[NR_THREADS], 1, "a thread started after it inherits it");
	close(fd);
	return tap_done();
}
