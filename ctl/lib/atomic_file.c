/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Writing files whole and replacing them atomically (atomic_file.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/stat.h>
#include "lib/atomic_file.h"

int pwrite_all(int fd, const void *p, size_t n, uint64_t off)
{
	const char *c = p;

	while (n) {
		ssize_t w = pwrite(fd, c, n, (off_t)off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		c += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

int atomic_file_write_tmp(int dirfd, const char *tmp, const void *data, size_t len,
			  mode_t mode, int *fdp)
{
	int err, fd;

	/* A stale tmp (a crash mid-write) keeps its old mode when truncated:
	 * remove it, so a secret's file is created with mode and no other. */
	unlinkat(dirfd, tmp, 0);
	fd = openat(dirfd, tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	err = pwrite_all(fd, data, len, 0);
	if (!err && fsync(fd))
		err = -errno;
	if (err) {
		close(fd);
		unlinkat(dirfd, tmp, 0);
		return err;
	}
	*fdp = fd;
	return 0;
}

int atomic_file_install(int dirfd, const char *tmp, const char *name)
{
	if (renameat(dirfd, tmp, dirfd, name)) {
		int err = -errno;

		unlinkat(dirfd, tmp, 0);
		return err;
	}
	return fsync(dirfd) ? -errno : 0;
}

int atomic_write_file(const char *dir, const char *name, const void *data, size_t len,
		      mode_t mode)
{
	char tmp[NAME_MAX + 1];
	int dirfd, fd, err;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", name) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -errno;
	err = atomic_file_write_tmp(dirfd, tmp, data, len, mode, &fd);
	if (!err) {
		close(fd);
		err = atomic_file_install(dirfd, tmp, name);
	}
	close(dirfd);
	return err;
}

int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return mkdir(buf, mode) && errno != EEXIST ? -errno : 0;
}
