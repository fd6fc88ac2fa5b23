/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The unit tests' temporary directory: made with mkdtemp by the setup,
 * removed with everything in it by the teardown. */
#ifndef XDNAT_TEST_TMPDIR_H
#define XDNAT_TEST_TMPDIR_H

#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

static inline int tmpdir_rm_entry(const char *path, const struct stat *st, int flag,
				  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* mkdtemp a copy of tmpl ("/tmp/...-XXXXXX") into root (rootlen bytes) and
 * name dir (dirlen bytes) root/sub, not made. 0, or -1 (root not made). */
static inline int tmpdir_make(char *root, size_t rootlen, const char *tmpl,
			      char *dir, size_t dirlen, const char *sub)
{
	if (strlen(tmpl) >= rootlen)
		return -1;
	strcpy(root, tmpl);
	if (!mkdtemp(root))
		return -1;
	snprintf(dir, dirlen, "%s/%s", root, sub);
	return 0;
}

/* dir/name in one of four rotating buffers: up to four in one call's
 * arguments. */
static inline const char *tmpdir_path(const char *dir, const char *name)
{
	static char bufs[4][4096 + 64];
	static unsigned int next;
	char *b = bufs[next++ % 4];

	snprintf(b, sizeof(bufs[0]), "%s/%s", dir, name);
	return b;
}

/* A whole file, malloc'd and NUL-terminated (its length in *len), or NULL. */
static inline uint8_t *tmpdir_read_file(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *p = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (!fstat(fd, &st) && (p = malloc((size_t)st.st_size + 1)) &&
	    read(fd, p, (size_t)st.st_size) == st.st_size) {
		p[st.st_size] = 0;
		*len = (size_t)st.st_size;
	} else {
		free(p);
		p = NULL;
	}
	close(fd);
	return p;
}

/* Remove root and everything under it. */
static inline void tmpdir_remove(const char *root)
{
	nftw(root, tmpdir_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
