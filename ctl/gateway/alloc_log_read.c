/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The allocation log's reader (alloc_log.h): xdnatctl who and log export,
 * offline, from PATH and its rotated files PATH.1 ... PATH.N.
 */
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <json-c/json.h>
#include "gateway/alloc_log.h"
#include "lib/json_out.h"
#include "lib/parse.h"

/* ---- one line ----------------------------------------------------------- */

static const char *get_str(struct json_object *o, const char *k)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int get_u32(struct json_object *o, const char *k, uint32_t *out)
{
	struct json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_int))
		return -EBADMSG;
	n = json_object_get_int64(v);
	if (n < 0 || n > UINT32_MAX)
		return -EBADMSG;
	*out = (uint32_t)n;
	return 0;
}

static int get_time(struct json_object *o, const char *k, uint64_t *out)
{
	const char *s = get_str(o, k);

	return s && !parse_time(s, 0, out) ? 0 : -EBADMSG;
}

static int get_addr(struct json_object *o, const char *k, uint32_t *out)
{
	const char *s = get_str(o, k);

	return s && inet_pton(AF_INET, s, out) == 1 ? 0 : -EBADMSG;
}

static int parse_fields(struct json_object *o, struct alloc_rec *r)
{
	const char *ev = get_str(o, "event"), *type = get_str(o, "type");
	const char *serial = get_str(o, "serial");
	int i;

	if (!ev || !type || get_time(o, "time", &r->time) || get_addr(o, "global", &r->global) ||
	    get_u32(o, "first", &r->first) || get_u32(o, "last", &r->last) ||
	    get_u32(o, "client", &r->client) || get_addr(o, "host", &r->host) ||
	    r->first > r->last)
		return -EBADMSG;
	for (i = 0; i < ALOG_N_EVENTS && strcmp(ev, alloc_event_name((enum alloc_event)i)); i++)
		;
	if (i == ALOG_N_EVENTS)
		return -EBADMSG;
	r->event = (enum alloc_event)i;
	if (!strcmp(type, "spi"))
		r->spi = true;
	else if (strcmp(type, "port") || r->last > 65535)
		return -EBADMSG;
	if (get_str(o, "lease_end") && get_time(o, "lease_end", &r->lease_end))
		return -EBADMSG;
	if (serial && strlen(serial) >= sizeof(r->serial))
		return -EBADMSG;
	snprintf(r->serial, sizeof(r->serial), "%s", serial ? serial : "");
	return 0;
}

int alloc_rec_parse(const char *line, size_t len, struct alloc_rec *r)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o;
	int err = -EBADMSG;

	memset(r, 0, sizeof(*r));
	if (!tok)
		return -ENOMEM;
	o = len <= INT_MAX ? json_tokener_parse_ex(tok, line, (int)len) : NULL;
	/* the whole line is one object, nothing after it */
	if (o && json_tokener_get_error(tok) == json_tokener_success &&
	    json_tokener_get_parse_end(tok) == len && json_object_is_type(o, json_type_object))
		err = parse_fields(o, r);
	json_object_put(o);
	json_tokener_free(tok);
	return err;
}

/* ---- the files ---------------------------------------------------------- */

/* The rotation numbers of path's files, newest first: 0 (PATH itself, if
 * there), then 1, 2, ... as there are (gaps allowed: a crash mid-rotation). */
static int list_files(const char *path, unsigned long **out, size_t *n)
{
	char *d = strdup(path), *b = strdup(path);
	unsigned long *v = NULL;
	size_t cnt = 0, cap = 0, blen;
	const char *base;
	struct dirent *e;
	DIR *dir = NULL;
	int err = -ENOMEM;

	if (!d || !b)
		goto out;
	base = basename(b);
	blen = strlen(base);
	dir = opendir(dirname(d));
	if (!dir) {
		err = -errno;
		goto out;
	}
	err = 0;
	while ((e = readdir(dir))) {
		unsigned long k = 0;
		char *end = NULL;

		if (strncmp(e->d_name, base, blen))
			continue;
		if (e->d_name[blen]) {
			if (e->d_name[blen] != '.' || e->d_name[blen + 1] < '1' ||
			    e->d_name[blen + 1] > '9')
				continue;
			k = strtoul(e->d_name + blen + 1, &end, 10);
			if (*end)
				continue;
		}
		if (cnt == cap) {
			unsigned long *nv = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));

			if (!nv) {
				err = -ENOMEM;
				break;
			}
			v = nv;
		}
		v[cnt++] = k;
	}
	/* insertion sort: a handful of files */
	for (size_t i = 1; i < cnt; i++)
		for (size_t j = i; j && v[j - 1] > v[j]; j--) {
			unsigned long t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
out:
	if (dir)
		closedir(dir);
	free(d);
	free(b);
	if (err) {
		free(v);
		return err;
	}
	*out = v;
	*n = cnt;
	return 0;
}

typedef int (*line_fn)(void *ctx, const char *line, size_t len, const struct alloc_rec *r);

/* Every line of one file, in order; one that does not parse is counted. */
static int read_file(const char *path, unsigned long k, line_fn fn, void *ctx,
		     unsigned long *skipped)
{
	char name[PATH_MAX], *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;
	int rc = 0;

	if ((size_t)(k ? snprintf(name, sizeof(name), "%s.%lu", path, k) :
		     snprintf(name, sizeof(name), "%s", path)) >= sizeof(name))
		return -ENAMETOOLONG;
	f = fopen(name, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;	/* rotated away meanwhile */
	while (!rc && (n = getline(&line, &cap, f)) > 0) {
		struct alloc_rec r;
		size_t len = (size_t)n;

		/* no newline: a torn last line (a crash mid-write) */
		if (line[len - 1] != '\n' || alloc_rec_parse(line, len - 1, &r)) {
			(*skipped)++;
			continue;
		}
		rc = fn(ctx, line, len, &r);
	}
	if (!rc && ferror(f))
		rc = -EIO;
	free(line);
	fclose(f);
	return rc;
}

/* ---- who ---------------------------------------------------------------- */

struct who_ctx {
	uint32_t global, value;
	bool spi;
	uint64_t at;
	struct alloc_rec *recs;		/* matching lines of the files read so far */
	size_t n, cap;
	bool grant_before;		/* a grant at or before at was read */
};

static int who_line(void *ctx, const char *line, size_t len, const struct alloc_rec *r)
{
	struct who_ctx *w = ctx;

	(void)line;
	(void)len;
	if (r->global != w->global || r->spi != w->spi || r->first > w->value ||
	    r->last < w->value)
		return 0;
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		struct alloc_rec *n = realloc(w->recs, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		w->recs = n;
		w->cap = cap;
	}
	w->recs[w->n++] = *r;
	if (r->event == ALOG_GRANT && r->time <= w->at)
		w->grant_before = true;
	return 0;
}

/* A holding that ends: when. An expiry is logged when the sweep saw it (or
 * when the daemon came back): the lease itself ended first. */
static uint64_t end_time(const struct alloc_rec *r)
{
	return r->event == ALOG_EXPIRE && r->lease_end && r->lease_end < r->time ?
	       r->lease_end : r->time;
}

/* The lines of one block, oldest first: who held it at w->at. */
static int who_decide(const struct who_ctx *w, struct alloc_holding *h)
{
	struct alloc_holding cur = { 0 };
	bool have = false, found = false;
	size_t i;

	for (i = 0; i < w->n; i++) {
		const struct alloc_rec *r = &w->recs[i];

		if (r->time > w->at)
			break;
		if (have && r->client == cur.rec.client && r->event != ALOG_GRANT) {
			/* an end is at or before its line: nobody holds it at `at` */
			have = !alloc_event_ends(r->event);
			cur.rec = *r;
			continue;
		}
		/* a grant, or a line of another client: a new holding */
		have = !alloc_event_ends(r->event);
		cur = (struct alloc_holding){
			.rec = *r, .since = r->time, .since_grant = r->event == ALOG_GRANT,
		};
	}
	/* still held then, unless its lease had run out (logged later, or not) */
	if (have && (!cur.rec.lease_end || cur.rec.lease_end > w->at)) {
		found = true;
		/* how it ended, when it has */
		for (; i < w->n && !cur.end; i++) {
			const struct alloc_rec *r = &w->recs[i];

			if (r->client != cur.rec.client || r->event == ALOG_GRANT) {
				cur.end = r->time;
				cur.end_event = ALOG_GRANT;
			} else if (alloc_event_ends(r->event)) {
				cur.end = end_time(r);
				cur.end_event = r->event;
			}
		}
	}
	if (found)
		*h = cur;
	return found;
}

int alloc_log_who(const char *path, uint32_t global, bool spi, uint32_t value,
		  uint64_t at, struct alloc_holding *h, unsigned long *skipped)
{
	struct who_ctx w = { .global = global, .spi = spi, .value = value, .at = at };
	struct alloc_rec *ordered = NULL;
	unsigned long *files;
	size_t n_files, *starts = NULL, o = 0;
	int rc;

	*skipped = 0;
	rc = list_files(path, &files, &n_files);
	if (rc)
		return rc;
	if (!n_files) {
		free(files);
		return -ENOENT;
	}
	starts = calloc(n_files + 1, sizeof(*starts));
	if (!starts)
		rc = -ENOMEM;
	/* Newest first, until the grant that began the holding at `at` is in. */
	for (size_t f = 0; !rc && f < n_files && !w.grant_before; f++) {
		starts[f] = w.n;
		rc = read_file(path, files[f], who_line, &w, skipped);
		starts[f + 1] = w.n;
		if (!rc && w.grant_before)
			n_files = f + 1;
	}
	/* Then the files' lines oldest file first. */
	if (!rc && w.n && !(ordered = malloc(w.n * sizeof(*ordered))))
		rc = -ENOMEM;
	for (size_t f = n_files; !rc && w.n && f-- > 0;) {
		memcpy(ordered + o, w.recs + starts[f], (starts[f + 1] - starts[f]) * sizeof(*ordered));
		o += starts[f + 1] - starts[f];
	}
	if (!rc) {
		free(w.recs);
		w.recs = ordered;
		w.n = o;
		rc = who_decide(&w, h);
	} else {
		free(ordered);
	}
	free(w.recs);
	free(starts);
	free(files);
	return rc;
}

/* ---- export ------------------------------------------------------------- */

struct export_ctx {
	uint64_t since, until;
	FILE *out;
};

static int export_line(void *ctx, const char *line, size_t len, const struct alloc_rec *r)
{
	struct export_ctx *e = ctx;

	if (r->time < e->since || r->time > e->until)
		return 0;
	return fwrite(line, 1, len, e->out) == len ? 0 : -EIO;
}

int alloc_log_export(const char *path, uint64_t since, uint64_t until, FILE *out,
		     unsigned long *skipped)
{
	struct export_ctx e = { since, until, out };
	unsigned long *files = NULL;
	size_t n;
	int rc;

	*skipped = 0;
	rc = list_files(path, &files, &n);
	if (!rc && !n)
		rc = -ENOENT;
	while (!rc && n--)
		rc = read_file(path, files[n], export_line, &e, skipped);
	free(files);
	return rc;
}
