/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Durable writes: a file is replaced by writing a temporary file beside it,
 * fsyncing it, renaming it over the old one and fsyncing the directory, so a
 * crash leaves the old content or the new, never a mix. The state store
 * (state.c) and the host agent's state file (host_state.c) both use it;
 * mkdir_p makes the directories they (and the sockets, pins) live in.
 */
#ifndef XDNAT_ATOMIC_FILE_H
#define XDNAT_ATOMIC_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Write all n bytes at offset off (EINTR retried). 0 or -errno. */
int pwrite_all(int fd, const void *p, size_t n, uint64_t off);

/*
 * Create tmp in dirfd afresh (a stale one is removed first) holding exactly
 * len bytes of data, with mode (less the umask), fsynced. 0 with the fd,
 * open read-write, in *fdp; or -errno (tmp removed).
 */
int atomic_file_write_tmp(int dirfd, const char *tmp, const void *data, size_t len,
			  mode_t mode, int *fdp);

/* Rename tmp over name in dirfd and fsync dirfd. 0 or -errno (tmp removed
 * if the rename failed). */
int atomic_file_install(int dirfd, const char *tmp, const char *name);

/* Replace dir/name by data, through dir/name.tmp. 0 or -errno. */
int atomic_write_file(const char *dir, const char *name, const void *data, size_t len,
		      mode_t mode);

/* mkdir -p with mode for every directory it creates. 0 or -errno. */
int mkdir_p(const char *path, mode_t mode);

#endif
