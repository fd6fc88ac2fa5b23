/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The allocation log's writer and its line format (alloc_log.h). The reader
 * is alloc_log_read.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>
#include "gateway/alloc_log.h"
#include "lib/atomic_file.h"
#include "lib/log.h"
#include "lib/parse.h"

struct alloc_log {
	char *path;
	char *base;			/* the file's name in dirfd */
	int dirfd, fd;
	uint64_t size;			/* committed bytes */
	uint64_t max_bytes;
	unsigned int keep;
	char *q;			/* lines queued for the next commit */
	size_t qlen, qcap;
	int qerr;			/* a line could not be queued */
	char warn[256];
};

static const char *const event_names[ALOG_N_EVENTS] = {
	[ALOG_GRANT]		= "grant",
	[ALOG_EXTEND]		= "extend",
	[ALOG_CERT]		= "cert",
	[ALOG_FREE]		= "free",
	[ALOG_DEREGISTER]	= "deregister",
	[ALOG_EXPIRE]		= "expire",
	[ALOG_RECLAIM]		= "reclaim",
	[ALOG_ADMIN_FREE]	= "admin-free",
};

const char *alloc_event_name(enum alloc_event ev)
{
	return ev < ALOG_N_EVENTS ? event_names[ev] : "?";
}

/* ---- open / close ------------------------------------------------------- */

/* Cut a torn last line (no newline: the crash came mid-write, before the
 * fdatasync that acknowledges it) so the next line starts on its own. */
static int cut_torn_tail(struct alloc_log *l)
{
	char buf[4096];
	uint64_t end = l->size;

	if (!end)
		return 0;
	while (end) {
		size_t n = end < sizeof(buf) ? (size_t)end : sizeof(buf);
		ssize_t r = pread(l->fd, buf, n, (off_t)(end - n));

		if (r != (ssize_t)n)
			return r < 0 ? -errno : -EIO;
		if (end == l->size && buf[n - 1] == '\n')
			return 0;			/* whole */
		while (n && buf[n - 1] != '\n')
			n--;
		if (n) {
			end -= (uint64_t)(r - (ssize_t)n);
			break;
		}
		end -= (uint64_t)r;
	}
	if (ftruncate(l->fd, (off_t)end) || fdatasync(l->fd))
		return -errno;
	snprintf(l->warn, sizeof(l->warn), "%s: cut a torn last line (%llu bytes) left by "
		 "a crash", l->path, (unsigned long long)(l->size - end));
	l->size = end;
	return 0;
}

/* Open (create) the current file, locked: one writer. */
static int open_current(struct alloc_log *l)
{
	struct stat st;
	int fd = openat(l->dirfd, l->base, O_RDWR | O_CREAT | O_CLOEXEC, 0600), err;

	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;
		close(fd);
		return err;
	}
	if (fstat(fd, &st) || fsync(l->dirfd)) {
		err = -errno;
		close(fd);
		return err;
	}
	if (l->fd >= 0)
		close(l->fd);
	l->fd = fd;
	l->size = (uint64_t)st.st_size;
	return 0;
}

int alloc_log_open(const char *path, uint64_t max_bytes, unsigned int keep,
		   struct alloc_log **out)
{
	struct alloc_log *l = calloc(1, sizeof(*l));
	char *d = strdup(path), *b = strdup(path);
	int err = -ENOMEM;

	if (!l || !d || !b)
		goto fail;
	l->fd = l->dirfd = -1;
	l->path = strdup(path);
	l->base = strdup(basename(b));
	if (!l->path || !l->base)
		goto fail;
	err = -EINVAL;
	if (!strcmp(l->base, "/") || !strcmp(l->base, ".") || !strcmp(l->base, ".."))
		goto fail;
	err = mkdir_p(dirname(d), 0700);
	if (err)
		goto fail;
	l->dirfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (l->dirfd < 0) {
		err = -errno;
		goto fail;
	}
	alloc_log_set_limits(l, max_bytes, keep);
	err = open_current(l);
	if (!err)
		err = cut_torn_tail(l);
	if (err)
		goto fail;
	free(d);
	free(b);
	*out = l;
	return 0;
fail:
	free(d);
	free(b);
	alloc_log_close(l);
	return err;
}

void alloc_log_close(struct alloc_log *l)
{
	if (!l)
		return;
	if (l->fd >= 0)
		close(l->fd);
	if (l->dirfd >= 0)
		close(l->dirfd);
	free(l->q);
	free(l->path);
	free(l->base);
	free(l);
}

const char *alloc_log_path(const struct alloc_log *l)
{
	return l->path;
}

const char *alloc_log_warning(const struct alloc_log *l)
{
	return l->warn[0] ? l->warn : NULL;
}

void alloc_log_set_limits(struct alloc_log *l, uint64_t max_bytes, unsigned int keep)
{
	l->max_bytes = max_bytes ? max_bytes : UINT64_MAX;
	l->keep = keep ? keep : 1;
}

/* ---- lines -------------------------------------------------------------- */

static void add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static void add_time(struct json_object *o, const char *k, uint64_t t)
{
	char s[RFC3339_LEN];

	format_rfc3339(t, s);
	add_str(o, k, s);
}

static void add_addr(struct json_object *o, const char *k, uint32_t a)
{
	char s[INET_ADDRSTRLEN];

	add_str(o, k, inet_ntop(AF_INET, &a, s, sizeof(s)) ? s : "?");
}

static bool has_serial(const struct host *h)
{
	static const uint8_t none[HOST_SERIAL_LEN];

	return memcmp(h->cert_serial, none, sizeof(none)) != 0;
}

static int queue(struct alloc_log *l, const char *s, size_t n)
{
	if (l->qlen + n + 1 > l->qcap) {
		size_t cap = (l->qlen + n + 1) * 2;
		char *q = realloc(l->q, cap);

		if (!q)
			return -ENOMEM;
		l->q = q;
		l->qcap = cap;
	}
	memcpy(l->q + l->qlen, s, n);
	l->q[l->qlen + n] = '\n';
	l->qlen += n + 1;
	return 0;
}

static void queue_line(struct alloc_log *l, uint64_t now, enum alloc_event ev,
		       const struct host *h, bool spi, uint32_t global, uint32_t first,
		       uint32_t last)
{
	struct json_object *o = json_object_new_object();
	const char *s;
	int err = -ENOMEM;

	if (o) {
		add_time(o, "time", now);
		add_str(o, "event", alloc_event_name(ev));
		add_addr(o, "global", global);
		add_str(o, "type", spi ? "spi" : "port");
		json_object_object_add(o, "first", json_object_new_int64(first));
		json_object_object_add(o, "last", json_object_new_int64(last));
		json_object_object_add(o, "client", json_object_new_int64(h->client_id));
		add_addr(o, "host", h->addr);
		add_time(o, "lease_end", h->lease_expires);
		if (has_serial(h)) {
			char hex[2 * HOST_SERIAL_LEN + 1];

			for (int i = 0; i < HOST_SERIAL_LEN; i++)
				snprintf(hex + 2 * i, 3, "%02x", h->cert_serial[i]);
			add_str(o, "serial", hex);
		}
		s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						   JSON_C_TO_STRING_NOSLASHESCAPE);
		err = s ? queue(l, s, strlen(s)) : -ENOMEM;
		json_object_put(o);
	}
	if (err && !l->qerr)
		l->qerr = err;
}

static bool holds_port(const struct host *h, const struct pap_port_range *r)
{
	for (unsigned int i = 0; i < h->n_ports; i++)
		if (h->ports[i].global == r->global && h->ports[i].first == r->first &&
		    h->ports[i].last == r->last)
			return true;
	return false;
}

static bool holds_spi(const struct host *h, const struct pap_spi_range *r)
{
	for (unsigned int i = 0; i < h->n_spis; i++)
		if (h->spis[i].global == r->global && h->spis[i].first == r->first &&
		    h->spis[i].last == r->last)
			return true;
	return false;
}

/* One line ev for each block of h that other holds too (want true) or not. */
static void queue_blocks(struct alloc_log *l, uint64_t now, enum alloc_event ev,
			 const struct host *h, const struct host *other, bool want,
			 bool ports_only)
{
	for (unsigned int i = 0; i < h->n_ports; i++)
		if (!other || holds_port(other, &h->ports[i]) == want)
			queue_line(l, now, ev, h, false, h->ports[i].global, h->ports[i].first,
				   h->ports[i].last);
	for (unsigned int i = 0; i < h->n_spis && !ports_only; i++)
		if (!other || holds_spi(other, &h->spis[i]) == want)
			queue_line(l, now, ev, h, true, h->spis[i].global, h->spis[i].first,
				   h->spis[i].last);
}

void alloc_log_change(struct alloc_log *l, uint64_t now, const struct host *before,
		      const struct host *after)
{
	if (!l)
		return;
	queue_blocks(l, now, ALOG_FREE, before, after, false, false);
	queue_blocks(l, now, ALOG_GRANT, after, before, false, false);
	if (after->lease_expires != before->lease_expires)
		queue_blocks(l, now, ALOG_EXTEND, after, before, true, false);
	else if (has_serial(after) &&
		 memcmp(after->cert_serial, before->cert_serial, HOST_SERIAL_LEN))
		queue_blocks(l, now, ALOG_CERT, after, before, true, true);
}

void alloc_log_gone(struct alloc_log *l, uint64_t now, const struct host *h,
		    enum alloc_event ev)
{
	if (l)
		queue_blocks(l, now, ev, h, NULL, false, false);
}

/* ---- commit and rotation ------------------------------------------------ */

static int name_of(const struct alloc_log *l, unsigned int k, char *buf, size_t len)
{
	int n = k ? snprintf(buf, len, "%s.%u", l->base, k) : snprintf(buf, len, "%s", l->base);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* PATH.k -> PATH.k+1 from the oldest, PATH -> PATH.1, a new PATH; what is
 * past keep goes. Every step leaves whole files: a crash in between loses
 * nothing that was committed (the reader takes any PATH.N there is). */
static int rotate(struct alloc_log *l)
{
	char from[NAME_MAX + 1], to[NAME_MAX + 1];
	int err;

	for (unsigned int k = l->keep; ; k++) {
		err = name_of(l, k, to, sizeof(to));
		if (err)
			return err;
		if (unlinkat(l->dirfd, to, 0)) {
			if (errno != ENOENT)
				return -errno;
			if (k > l->keep)
				break;
		}
	}
	for (unsigned int k = l->keep; k >= 1; k--) {
		if (name_of(l, k - 1, from, sizeof(from)) || name_of(l, k, to, sizeof(to)))
			return -ENAMETOOLONG;
		if (renameat(l->dirfd, from, l->dirfd, to) && errno != ENOENT)
			return -errno;
	}
	return open_current(l);
}

int alloc_log_commit(struct alloc_log *l)
{
	int err;

	if (!l)
		return 0;
	if (l->qerr) {
		err = l->qerr;
		l->qerr = 0;
		return err;
	}
	if (!l->qlen)
		return 0;
	err = pwrite_all(l->fd, l->q, l->qlen, l->size);
	if (!err && fdatasync(l->fd))
		err = -errno;
	if (err) {
		/* The next commit appends after the last whole line. */
		if (ftruncate(l->fd, (off_t)l->size))
			log_err("%s: cannot cut back a failed write: %s", l->path,
				strerror(errno));
		return err;
	}
	l->size += l->qlen;
	l->qlen = 0;
	if (l->size >= l->max_bytes) {
		err = rotate(l);
		if (err)
			log_warn("%s: rotation failed: %s; appending to it still", l->path,
				 strerror(-err));
	}
	return 0;
}
