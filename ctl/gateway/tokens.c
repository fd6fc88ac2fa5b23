/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The enrolment tokens file (tokens.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <openssl/crypto.h>
#include "gateway/state_record.h"
#include "gateway/tokens.h"
#include "lib/atomic_file.h"

#define TOKENS_MAX_FILE	(1u << 20)

static int add_token(void *ctx, const struct gw_token *t)
{
	return gw_token_add(ctx, t);
}

int tokens_load(const char *dir, struct gw *g, char *err, size_t errlen)
{
	char path[4096];
	struct stat st;
	uint8_t *data;
	ssize_t n;
	int fd, rc;

	snprintf(path, sizeof(path), "%s/%s", dir, TOKENS_FILE);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0 || fstat(fd, &st)) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	if (st.st_size > TOKENS_MAX_FILE || !(data = malloc((size_t)st.st_size + 1))) {
		close(fd);
		snprintf(err, errlen, "%s: too large", path);
		return -EFBIG;
	}
	n = read(fd, data, (size_t)st.st_size);
	close(fd);
	rc = n == st.st_size ? record_parse_tokens(data, (size_t)n, add_token, g) : -EIO;
	OPENSSL_cleanse(data, (size_t)st.st_size);
	free(data);
	if (rc)
		snprintf(err, errlen, "%s: %s", path, rc == -EBADMSG ?
			 "not an xdnat tokens file (version 1)" : strerror(-rc));
	return rc;
}

int tokens_save(const char *dir, const struct gw *g)
{
	size_t n = gw_token_count(g);
	struct gw_token *t = calloc(n ? n : 1, sizeof(*t));
	struct buf b = { 0 };
	int rc;

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		t[i] = *gw_token_at(g, i);
	record_put_tokens(&b, t, n);
	OPENSSL_cleanse(t, n * sizeof(*t));
	free(t);
	rc = b.err ? b.err : atomic_write_file(dir, TOKENS_FILE, b.p, b.len, 0600);
	if (b.p)
		OPENSSL_cleanse(b.p, b.len);
	free(b.p);
	return rc;
}
