// SPDX-License-Identifier: GPL-2.0
/*
 * newc cpio writer (see sandbox/cpio.h).  An entry is a 110-byte ASCII
 * header (magic and 13 eight-digit hex fields), the name with its NUL,
 * padding to a multiple of 4 counted from the start of the header, then
 * the data padded to a multiple of 4.  The kernel's unpacker
 * (init/initramfs.c) relies on exactly that alignment, and so does GNU
 * cpio, which reads the archive back in the unit test.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpio.h"

#define NEWC_MAGIC	"070701"
#define NEWC_HDR_LEN	110
#define TRAILER		"TRAILER!!!"

void cpio_init(struct cpio *c)
{
	memset(c, 0, sizeof(*c));
	/* Inode 0 is what cpio writers use for the trailer only. */
	c->next_ino = 1;
}

void cpio_free(struct cpio *c)
{
	free(c->buf);
	cpio_init(c);
}

static int reserve(struct cpio *c, size_t more)
{
	size_t cap = c->cap ? c->cap : 4096;
	u8 *p;

	if (more > SIZE_MAX - c->len)
		return -ENOMEM;
	while (cap < c->len + more) {
		if (cap > SIZE_MAX / 2)
			return -ENOMEM;
		cap *= 2;
	}
	if (cap == c->cap)
		return 0;
	p = realloc(c->buf, cap);
	if (!p)
		return -ENOMEM;
	c->buf = p;
	c->cap = cap;
	return 0;
}

/*
 * Relative, no "." or ".." component, no empty component: the archive
 * must mean the same to every unpacker, and never reach outside it.
 */
static int check_name(const char *name)
{
	const char *p = name;
	size_t len = strlen(name);

	if (!len || name[0] == '/')
		return -EINVAL;
	if (len + 1 > CPIO_NAME_MAX)
		return -ENAMETOOLONG;
	while (*p) {
		size_t n = strcspn(p, "/");

		if (!n || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return -EINVAL;
		p += n;
		if (*p == '/' && !*++p)
			return -EINVAL;	/* a trailing slash */
	}
	return 0;
}

static void put_pad(struct cpio *c)
{
	while (c->len & 3)
		c->buf[c->len++] = 0;
}

/* The caller checked @name; @data may be NULL when @size is 0. */
static int add_entry(struct cpio *c, const char *name, mode_t mode,
		     unsigned int rmajor, unsigned int rminor,
		     const void *data, size_t size)
{
	size_t namesize = strlen(name) + 1;
	char hdr[NEWC_HDR_LEN + 1];
	size_t need;
	int ret;

	if (c->finished)
		return -EBUSY;
	if (size > 0xffffffffULL)
		return -EFBIG;
	/* Header, name and data, each padded by at most 3 bytes. */
	need = NEWC_HDR_LEN + namesize + 3 + size + 3;
	ret = reserve(c, need);
	if (ret)
		return ret;
	snprintf(hdr, sizeof(hdr),
		 "%s%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		 NEWC_MAGIC,
		 strcmp(name, TRAILER) ? c->next_ino++ : 0,	/* ino */
		 (unsigned int)mode, 0, 0,			/* uid, gid */
		 S_ISDIR(mode) ? 2 : 1,				/* nlink */
		 0,						/* mtime */
		 (unsigned int)size,
		 0, 0,						/* dev */
		 rmajor, rminor,
		 (unsigned int)namesize,
		 0);						/* check */
	memcpy(c->buf + c->len, hdr, NEWC_HDR_LEN);
	c->len += NEWC_HDR_LEN;
	memcpy(c->buf + c->len, name, namesize);
	c->len += namesize;
	put_pad(c);
	if (size) {
		memcpy(c->buf + c->len, data, size);
		c->len += size;
	}
	put_pad(c);
	return 0;
}

int cpio_add_dir(struct cpio *c, const char *name, mode_t perm)
{
	int ret = check_name(name);

	return ret ? ret : add_entry(c, name, S_IFDIR | (perm & 07777),
				     0, 0, NULL, 0);
}

int cpio_add_file(struct cpio *c, const char *name, mode_t perm,
		  const void *data, size_t len)
{
	int ret = check_name(name);

	return ret ? ret : add_entry(c, name, S_IFREG | (perm & 07777),
				     0, 0, data, len);
}

int cpio_add_symlink(struct cpio *c, const char *name, const char *target)
{
	size_t len = strlen(target);
	int ret = check_name(name);

	if (ret)
		return ret;
	/* The target is stored without its NUL; the kernel caps it too. */
	if (!len)
		return -EINVAL;
	if (len + 1 > CPIO_NAME_MAX)
		return -ENAMETOOLONG;
	return add_entry(c, name, S_IFLNK | 0777, 0, 0, target, len);
}

int cpio_add_node(struct cpio *c, const char *name, mode_t type, mode_t perm,
		  unsigned int major, unsigned int minor)
{
	int ret = check_name(name);

	if (ret)
		return ret;
	if (type != S_IFCHR && type != S_IFBLK && type != S_IFIFO &&
	    type != S_IFSOCK)
		return -EINVAL;
	if (type != S_IFCHR && type != S_IFBLK && (major || minor))
		return -EINVAL;
	return add_entry(c, name, type | (perm & 07777), major, minor, NULL, 0);
}

int cpio_add_host_file(struct cpio *c, const char *name, const char *path)
{
	struct stat st;
	size_t done = 0;
	u8 *data = NULL;
	int fd, ret;

	ret = check_name(name);
	if (ret)
		return ret;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		ret = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		goto out;
	}
	if ((u64)st.st_size > 0xffffffffULL) {
		ret = -EFBIG;
		goto out;
	}
	data = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!data) {
		ret = -ENOMEM;
		goto out;
	}
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, data + done, (size_t)st.st_size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			goto out;
		}
		if (!n) {
			ret = -EIO;	/* shrank under us */
			goto out;
		}
		done += (size_t)n;
	}
	ret = add_entry(c, name, S_IFREG | (st.st_mode & 07777), 0, 0,
			data, done);
out:
	free(data);
	close(fd);
	return ret;
}

int cpio_finish(struct cpio *c)
{
	int ret = add_entry(c, TRAILER, 0, 0, 0, NULL, 0);

	if (!ret)
		c->finished = true;
	return ret;
}
