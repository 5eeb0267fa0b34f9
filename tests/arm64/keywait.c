// SPDX-License-Identifier: GPL-2.0
/*
 * L2's power-key reader (tests/arm64/l2-init, l2pwrkey=1): busybox has
 * no input-event reader.  Opens every /dev/input/event* that reports
 * KEY_POWER (gpio-keys on lkvm's PL061), says "armed", then waits for
 * the press (EV_KEY 116, value 1) and the release (value 0), printing a
 * marker for each.  Static, built by scripts/arm64-initramfs.sh.
 *
 *   keywait SECONDS   give up after SECONDS (status 2); status 0 once the
 *                     press was seen (the release is waited for 5 s more)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define MAX_DEVS	16
#define NBITS(n)	(((n) + 8 * sizeof(long) - 1) / (8 * sizeof(long)))

static double uptime(void)
{
	struct timespec t;

	clock_gettime(CLOCK_BOOTTIME, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int has_power_key(int fd)
{
	unsigned long bits[NBITS(KEY_MAX + 1)] = { 0 };

	if (ioctl(fd, EVIOCGBIT(EV_KEY, sizeof(bits)), bits) < 0)
		return 0;
	return !!(bits[KEY_POWER / (8 * sizeof(long))] &
		  (1UL << (KEY_POWER % (8 * sizeof(long)))));
}

/* Every event device with KEY_POWER; waits up to 10 s for one to appear. */
static int open_keys(struct pollfd *pfd, char names[][64])
{
	int n = 0;

	for (int tries = 0; tries < 100 && !n; tries++) {
		DIR *d = opendir("/dev/input");
		struct dirent *e;

		while (d && (e = readdir(d)) && n < MAX_DEVS) {
			char path[288];
			int fd;

			if (strncmp(e->d_name, "event", 5))
				continue;
			snprintf(path, sizeof(path), "/dev/input/%s", e->d_name);
			fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
			if (fd < 0)
				continue;
			if (!has_power_key(fd)) {
				close(fd);
				continue;
			}
			if (ioctl(fd, EVIOCGNAME(64), names[n]) < 0)
				strcpy(names[n], "?");
			pfd[n].fd = fd;
			pfd[n].events = POLLIN;
			n++;
		}
		if (d)
			closedir(d);
		if (!n)
			usleep(100000);
	}
	return n;
}

int main(int argc, char **argv)
{
	struct pollfd pfd[MAX_DEVS];
	char names[MAX_DEVS][64];
	int secs = argc > 1 ? atoi(argv[1]) : 200, n;
	double deadline, pressed_at = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	n = open_keys(pfd, names);
	if (!n) {
		printf("L2: pwrkey no input device with KEY_POWER\n");
		return 1;
	}
	for (int i = 0; i < n; i++)
		printf("L2: pwrkey device name=\"%s\"\n", names[i]);
	printf("L2: pwrkey armed devices=%d at uptime %.2f\n", n, uptime());
	deadline = uptime() + secs;
	for (;;) {
		double now = uptime();
		int left = (int)((deadline - now) * 1000);

		if (left <= 0) {
			if (pressed_at) {
				printf("L2: pwrkey no release within 5 s\n");
				return 0;
			}
			printf("L2: pwrkey timeout after %d s\n", secs);
			return 2;
		}
		if (poll(pfd, (nfds_t)n, left) < 0 && errno != EINTR)
			return 3;
		for (int i = 0; i < n; i++) {
			struct input_event ev;

			if (!(pfd[i].revents & POLLIN))
				continue;
			while (read(pfd[i].fd, &ev, sizeof(ev)) == sizeof(ev)) {
				if (ev.type != EV_KEY || ev.code != KEY_POWER)
					continue;
				if (ev.value == 1 && !pressed_at) {
					pressed_at = uptime();
					printf("L2: pwrkey pressed code=%d at uptime %.2f\n",
					       ev.code, pressed_at);
					deadline = pressed_at + 5;
				} else if (ev.value == 0 && pressed_at) {
					printf("L2: pwrkey released held=%.0f ms\n",
					       (uptime() - pressed_at) * 1e3);
					return 0;
				}
			}
		}
	}
}
