/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The state directory's lock (dirlock.h). */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/file.h>
#include "lib/atomic_file.h"
#include "lib/dirlock.h"

int dirlock_fd(int fd)
{
	int err;

	if (!flock(fd, LOCK_EX | LOCK_NB))
		return fd;
	err = errno == EWOULDBLOCK ? -EBUSY : -errno;
	close(fd);
	return err;
}

int dirlock_take(const char *dir, int *lockfd)
{
	int dirfd, fd, err;

	*lockfd = -1;
	if (!dir || !*dir)
		return -EINVAL;
	err = mkdir_p(dir, 0700);
	if (err)
		return err;
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -errno;
	fd = openat(dirfd, DIRLOCK_NAME, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		close(dirfd);
		return err;
	}
	fd = dirlock_fd(fd);
	if (fd < 0) {
		close(dirfd);
		return fd;
	}
	*lockfd = fd;
	return dirfd;
}

int dirlock_self(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return fd < 0 ? -errno : dirlock_fd(fd);
}

void dirlock_release(int dirfd, int lockfd)
{
	if (lockfd >= 0)
		close(lockfd);	/* drops the flock */
	if (dirfd >= 0)
		close(dirfd);
}
