/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One process per state directory: DIR/lock held with flock() for as long as
 * the process uses DIR. xdnatd's state store and the host agent both take it;
 * the kernel drops it when the process dies, so a crash never leaves it held.
 */
#ifndef XDNAT_LIB_DIRLOCK_H
#define XDNAT_LIB_DIRLOCK_H

#define DIRLOCK_NAME	"lock"

/* Create dir (0700, with its parents) when missing, open it and lock
 * dir/lock. Returns the directory's fd (O_DIRECTORY) and the lock's fd in
 * *lockfd; -EBUSY when another process holds it, or -errno. */
int dirlock_take(const char *dir, int *lockfd);
/* Lock fd (any open file) exclusively, without waiting: fd, or -EBUSY when
 * another process holds it, or -errno; fd is closed on failure. */
int dirlock_fd(int fd);
/* Lock the directory itself, for a filesystem that holds no regular file
 * (bpffs). The lock's fd, -EBUSY when another process holds it, or -errno. */
int dirlock_self(const char *dir);
/* Release the lock (and close dirfd when >= 0). */
void dirlock_release(int dirfd, int lockfd);

#endif
