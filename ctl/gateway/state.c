/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The state store (state.h): snapshot + journal in --state-dir.
 *
 * Every integer is little-endian and every record (host, meta) is encoded
 * by state_record.c, which documents the byte order and the record layout;
 * this file frames the records into files.
 *
 * state.snap, version 2 (version 1, with a version 1 meta, still loads):
 *   "XDNATSNP" | u32 version | u64 generation | meta | u32 n_hosts
 *   | n_hosts x (u32 length | host record) | SHA-256 of all bytes before it
 *
 * state.journal, version 1:
 *   header (24 bytes): "XDNATJNL" | u32 version | u64 generation
 *                      | u32 CRC32 of those 20 bytes
 *   records: u32 payload length | u8 kind | payload | u32 CRC32(kind, payload)
 *   kinds: 1 HOST_PUT (host record), 2 HOST_DEL (u32 client_id), 4 META_POOL
 *   (meta version 2, written now), 3 META (meta version 1: read, never written)
 *
 * Generations: each compaction writes snapshot generation g+1, then replaces
 * the journal by an empty one of generation g+1. A journal is replayed only
 * over the snapshot of its own generation. A crash between those two steps
 * leaves a journal of generation g beside snapshot g+1: everything in it is
 * already in the snapshot, so it is skipped (with a warning) and replaced.
 * Any other mismatch (e.g. an older snapshot copied back by hand) is an error.
 * With no snapshot at all the generation is 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <zlib.h>
#include "lib/atomic_file.h"
#include "lib/dirlock.h"
#include "gateway/state.h"
#include "gateway/state_record.h"

#define SNAP_NAME	"state.snap"
#define SNAP_PREV	"state.snap.prev"
#define SNAP_TMP	"state.snap.tmp"
#define JNL_NAME	"state.journal"
#define JNL_TMP		"state.journal.tmp"

#define SNAP_MAGIC	"XDNATSNP"
#define JNL_MAGIC	"XDNATJNL"
#define MAGIC_LEN	8
#define SNAP_VERSION	2	/* 2: the meta carries the pool (issue 15) */
#define SNAP_VERSION_V1	1	/* one global; loads as the pool of one */
#define JNL_VERSION	1

#define SHA_LEN		32
#define SNAP_HDR_LEN	(MAGIC_LEN + 4 + 8 + META_V1_LEN + 4)	/* the shortest */
#define JNL_HDR_LEN	(MAGIC_LEN + 4 + 8 + 4)
#define REC_OVERHEAD	(4 + 1 + 4)		/* length, kind, CRC */

#define COMPACT_BYTES	(4u << 20)
#define COMPACT_RECORDS	10000

enum rec_kind {
	REC_HOST_PUT	= 1,
	REC_HOST_DEL	= 2,
	REC_META	= 3,
	REC_META_POOL	= 4,
};

struct state_store {
	char *dir;
	int dirfd, lockfd;
	int jfd;			/* state.journal, open once loaded */
	uint64_t gen;			/* generation of snapshot and journal */
	uint64_t jsize, jrecords;	/* committed journal bytes / records */
	bool loaded;
	bool jbroken;			/* journal unusable until a compaction */
	struct buf q;			/* records queued for the next commit */
	uint64_t q_records;
	char warn[512];
};

static int host_id_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct host *)a)->client_id;
	uint32_t y = ((const struct host *)b)->client_id;

	return (x > y) - (x < y);
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* ---- messages ----------------------------------------------------------- */

struct load_ctx {
	struct state_store *s;
	char *err;
	size_t errlen;
};

static void vmsg(char *out, size_t outlen, const char *dir, const char *file,
		 const char *fmt, va_list ap)
{
	int n;

	if (!out || !outlen)
		return;
	n = snprintf(out, outlen, "%s/%s: ", dir, file);
	if (n >= 0 && (size_t)n < outlen)
		vsnprintf(out + n, outlen - (size_t)n, fmt, ap);
}

/* Describe a load failure in the caller's errbuf; returns err. */
static int __attribute__((format(printf, 4, 5)))
fail(const struct load_ctx *c, int err, const char *file, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(c->err, c->errlen, c->s->dir, file, fmt, ap);
	va_end(ap);
	return err;
}

static void __attribute__((format(printf, 3, 4)))
set_warning(struct state_store *s, const char *file, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(s->warn, sizeof(s->warn), s->dir, file, fmt, ap);
	va_end(ap);
}

static void __attribute__((format(printf, 2, 3)))
append(const struct load_ctx *c, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (!c->err || !c->errlen)
		return;
	n = strnlen(c->err, c->errlen);
	if (n + 1 >= c->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(c->err + n, c->errlen - n, fmt, ap);
	va_end(ap);
}

/* Read a whole file. -ENOENT (no message) when it does not exist. */
static int slurp(const struct load_ctx *c, const char *name, int flags,
		 uint8_t **out, size_t *len, int *fdp)
{
	struct stat st;
	uint8_t *p;
	size_t n = 0, size;
	int fd, err;

	fd = openat(c->s->dirfd, name, flags | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		if (err == -ENOENT)
			return err;
		return fail(c, err, name, "open: %s", strerror(-err));
	}
	if (fstat(fd, &st)) {
		err = -errno;
		close(fd);
		return fail(c, err, name, "stat: %s", strerror(-err));
	}
	if (st.st_size < 0 || (uint64_t)st.st_size >= SIZE_MAX) {
		close(fd);
		return fail(c, -EFBIG, name, "too large");
	}
	size = (size_t)st.st_size;
	p = malloc(size + 1);
	if (!p) {
		close(fd);
		return fail(c, -ENOMEM, name, "out of memory");
	}
	while (n < size) {
		ssize_t r = pread(fd, p + n, size - n, (off_t)n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			free(p);
			close(fd);
			return fail(c, err, name, "read: %s", strerror(-err));
		}
		if (!r)
			break;
		n += (size_t)r;
	}
	if (fdp)
		*fdp = fd;
	else
		close(fd);
	*out = p;
	*len = n;
	return 0;
}

/* ---- open / close ------------------------------------------------------- */

int state_open(const char *dir, struct state_store **out)
{
	struct state_store *s;
	int err;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->lockfd = s->jfd = -1;
	s->dir = dir ? strdup(dir) : NULL;
	s->dirfd = dirlock_take(dir, &s->lockfd);
	if (!s->dir || s->dirfd < 0) {
		err = s->dirfd < 0 ? s->dirfd : -ENOMEM;
		goto fail;
	}
	*out = s;
	return 0;
fail:
	state_close(s);
	return err;
}

void state_close(struct state_store *s)
{
	if (!s)
		return;
	if (s->jfd >= 0)
		close(s->jfd);
	dirlock_release(s->dirfd, s->lockfd);
	free(s->q.p);
	free(s->dir);
	free(s);
}

const char *state_dir(const struct state_store *s)
{
	return s->dir;
}

const char *state_load_warning(const struct state_store *s)
{
	return s->warn[0] ? s->warn : NULL;
}

/* ---- journal ------------------------------------------------------------ */

/* Replace state.journal by an empty one of generation s->gen. */
static int journal_start(struct state_store *s)
{
	struct buf b = { 0 };
	int fd, err;

	put_bytes(&b, JNL_MAGIC, MAGIC_LEN);
	put_u32(&b, JNL_VERSION);
	put_u64(&b, s->gen);
	if (!b.err)
		put_u32(&b, (uint32_t)crc32(0, b.p, (uInt)b.len));
	err = b.err;
	if (!err)
		err = atomic_file_write_tmp(s->dirfd, JNL_TMP, b.p, b.len, 0600, &fd);
	free(b.p);
	if (err)
		return err;
	err = atomic_file_install(s->dirfd, JNL_TMP, JNL_NAME);
	if (err) {
		close(fd);
		return err;
	}
	if (s->jfd >= 0)
		close(s->jfd);
	s->jfd = fd;
	s->jsize = JNL_HDR_LEN;
	s->jrecords = 0;
	s->jbroken = false;
	return 0;
}

/* Start a record in q; rec_end() fills its length and CRC, or drops it. */
static size_t rec_begin(struct state_store *s, uint8_t kind)
{
	size_t at = put_len(&s->q);

	put_u8(&s->q, kind);
	return at;
}

static int rec_end(struct state_store *s, size_t at, int err)
{
	struct buf *b = &s->q;

	if (!err) {
		patch_len(b, at, at + 5);
		if (!b->err)
			put_u32(b, (uint32_t)crc32(0, b->p + at + 4,
						   (uInt)(b->len - at - 4)));
		err = b->err;
	}
	if (err) {
		/* Leave the queue exactly as it was before this record. */
		b->len = at;
		b->err = 0;
		return err;
	}
	s->q_records++;
	return 0;
}

int state_log_host(struct state_store *s, const struct host *h)
{
	size_t at = rec_begin(s, REC_HOST_PUT);

	return rec_end(s, at, record_put_host(&s->q, h));
}

int state_log_del(struct state_store *s, uint32_t client_id)
{
	size_t at;

	if (!client_id)
		return -EINVAL;
	at = rec_begin(s, REC_HOST_DEL);
	put_u32(&s->q, client_id);
	return rec_end(s, at, 0);
}

int state_log_meta(struct state_store *s, const struct state_meta *m)
{
	size_t at = rec_begin(s, REC_META_POOL);

	record_put_meta(&s->q, m);
	return rec_end(s, at, 0);
}

int state_commit(struct state_store *s)
{
	int err;

	if (!s->q.len)
		return 0;
	if (!s->loaded || s->jfd < 0)
		return -EINVAL;
	if (s->jbroken)
		return -EIO;
	err = pwrite_all(s->jfd, s->q.p, s->q.len, s->jsize);
	if (!err && fdatasync(s->jfd))
		err = -errno;
	if (err) {
		/*
		 * Cut off whatever part of the batch reached the file: a retry
		 * must append after the last good record, not after a fragment
		 * that would then read as damage in the middle of the journal.
		 */
		if (ftruncate(s->jfd, (off_t)s->jsize))
			s->jbroken = true;
		return err;
	}
	s->jsize += s->q.len;
	s->jrecords += s->q_records;
	s->q.len = 0;
	s->q_records = 0;
	return 0;
}

bool state_wants_compaction(const struct state_store *s)
{
	return s->jbroken || s->jsize >= COMPACT_BYTES ||
	       s->jrecords >= COMPACT_RECORDS;
}

/* ---- snapshot ----------------------------------------------------------- */

static int snap_build(struct buf *b, uint64_t gen, const struct state_meta *m,
		      const struct host *const *hosts, size_t n)
{
	uint8_t *sha;
	int err;

	if (n > UINT32_MAX)
		return -EINVAL;
	put_bytes(b, SNAP_MAGIC, MAGIC_LEN);
	put_u32(b, SNAP_VERSION);
	put_u64(b, gen);
	record_put_meta(b, m);
	put_u32(b, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		size_t at = put_len(b);

		err = record_put_host(b, hosts[i]);
		if (err)
			return err;
		patch_len(b, at, at + 4);
	}
	sha = buf_grow(b, SHA_LEN);
	if (!sha)
		return b->err;
	if (EVP_Digest(b->p, b->len - SHA_LEN, sha, NULL, EVP_sha256(), NULL) != 1)
		return -EIO;
	return 0;
}

/* A snapshot with a client id twice could never be loaded again. */
static int check_unique(const struct host *const *hosts, size_t n)
{
	uint32_t *ids = malloc((n ? n : 1) * sizeof(*ids));
	int err = 0;

	if (!ids)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		ids[i] = hosts[i]->client_id;
	qsort(ids, n, sizeof(*ids), u32_cmp);
	for (size_t i = 1; i < n && !err; i++)
		if (ids[i] == ids[i - 1])
			err = -EINVAL;
	free(ids);
	return err;
}

/*
 * Keep the current snapshot as state.snap.prev by a hard link, not a
 * rename: that way state.snap exists at every instant, where renaming it
 * away first would leave a crash window with no state.snap at all.
 */
static int keep_previous(struct state_store *s)
{
	if (unlinkat(s->dirfd, SNAP_PREV, 0) && errno != ENOENT)
		return -errno;
	if (linkat(s->dirfd, SNAP_NAME, s->dirfd, SNAP_PREV, 0) &&
	    errno != ENOENT)
		return -errno;
	return 0;
}

int state_compact(struct state_store *s, const struct state_meta *m,
		  const struct host *const *hosts, size_t n_hosts)
{
	struct buf b = { 0 };
	int fd, err;

	if (!s->loaded)
		return -EINVAL;
	err = check_unique(hosts, n_hosts);
	if (!err)
		err = snap_build(&b, s->gen + 1, m, hosts, n_hosts);
	if (!err)
		err = atomic_file_write_tmp(s->dirfd, SNAP_TMP, b.p, b.len, 0600, &fd);
	free(b.p);
	if (err)
		return err;
	close(fd);
	err = keep_previous(s);
	if (err) {
		unlinkat(s->dirfd, SNAP_TMP, 0);
		return err;
	}
	if (renameat(s->dirfd, SNAP_TMP, s->dirfd, SNAP_NAME)) {
		err = -errno;
		unlinkat(s->dirfd, SNAP_TMP, 0);
		return err;
	}
	/*
	 * state.snap is now generation gen+1 and the old journal is stale:
	 * appending to it would lose records, so commits fail until a fresh
	 * journal is in place. The queue is in the snapshot.
	 */
	s->gen++;
	s->jbroken = true;
	s->q.len = 0;
	s->q_records = 0;
	if (fsync(s->dirfd))
		return -errno;
	return journal_start(s);
}

/* ---- backup ------------------------------------------------------------- */

/* dir/name from the store's directory, atomically, with its mode. */
static int copy_into(const struct state_store *s, int dfd, const char *name, char *err,
		     size_t errlen)
{
	struct stat st;
	uint8_t *p = NULL;
	int fd = openat(s->dirfd, name, O_RDONLY | O_CLOEXEC), out, rc = 0;
	ssize_t n;

	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0 || fstat(fd, &st)) {
		rc = -errno;
		goto done;
	}
	p = malloc((size_t)st.st_size + 1);
	if (!p) {
		rc = -ENOMEM;
		goto done;
	}
	n = pread(fd, p, (size_t)st.st_size, 0);
	if (n != st.st_size) {
		rc = n < 0 ? -errno : -EIO;
		goto done;
	}
	rc = atomic_file_write_tmp(dfd, SNAP_TMP, p, (size_t)n, st.st_mode & 07777, &out);
	if (!rc) {
		close(out);
		rc = atomic_file_install(dfd, SNAP_TMP, name);
	}
done:
	if (rc)
		snprintf(err, errlen, "%s/%s: %s", s->dir, name, strerror(-rc));
	if (fd >= 0)
		close(fd);
	free(p);
	return rc;
}

int state_backup(const struct state_store *s, const char *dir, const struct state_meta *m,
		 const struct host *const *hosts, size_t n_hosts, const char *const *copy,
		 char *err, size_t errlen)
{
	struct buf b = { 0 };
	int dfd, fd, rc = mkdir_p(dir, 0700);

	if (rc) {
		snprintf(err, errlen, "%s: %s", dir, strerror(-rc));
		return rc;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(-rc));
		return rc;
	}
	rc = check_unique(hosts, n_hosts);
	if (!rc)
		rc = snap_build(&b, s->gen, m, hosts, n_hosts);
	if (!rc)
		rc = atomic_file_write_tmp(dfd, SNAP_TMP, b.p, b.len, 0600, &fd);
	free(b.p);
	if (!rc) {
		close(fd);
		rc = atomic_file_install(dfd, SNAP_TMP, SNAP_NAME);
	}
	if (rc)
		snprintf(err, errlen, "%s/%s: %s", dir, SNAP_NAME, strerror(-rc));
	/* a journal left by an earlier backup into dir would be replayed */
	if (!rc && unlinkat(dfd, JNL_NAME, 0) && errno != ENOENT) {
		rc = -errno;
		snprintf(err, errlen, "%s/%s: %s", dir, JNL_NAME, strerror(-rc));
	}
	for (size_t i = 0; !rc && copy && copy[i]; i++)
		rc = copy_into(s, dfd, copy[i], err, errlen);
	if (!rc && fsync(dfd)) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(-rc));
	}
	close(dfd);
	return rc;
}

uint64_t state_written(const struct state_store *s)
{
	static const char *const names[] = { SNAP_NAME, JNL_NAME };
	uint64_t t = 0;
	struct stat st;

	for (size_t i = 0; i < 2; i++)
		if (!fstatat(s->dirfd, names[i], &st, 0) && (uint64_t)st.st_mtime > t)
			t = (uint64_t)st.st_mtime;
	return t;
}

/* ---- load --------------------------------------------------------------- */

static int snap_parse(const struct load_ctx *c, const uint8_t *p, size_t len,
		      struct state_image *img, uint64_t *gen)
{
	uint8_t md[SHA_LEN];
	struct rd r = { .p = p };
	uint32_t version, n;

	if (len < SNAP_HDR_LEN + SHA_LEN)
		return fail(c, -EBADMSG, SNAP_NAME, "too short (%zu bytes)", len);
	if (memcmp(p, SNAP_MAGIC, MAGIC_LEN))
		return fail(c, -EBADMSG, SNAP_NAME,
			    "bad magic (not an xdnat snapshot)");
	version = (uint32_t)le_load(p + MAGIC_LEN, 4);
	if (version != SNAP_VERSION && version != SNAP_VERSION_V1)
		return fail(c, -EBADMSG, SNAP_NAME,
			    "unsupported format version %u", version);
	if (EVP_Digest(p, len - SHA_LEN, md, NULL, EVP_sha256(), NULL) != 1)
		return fail(c, -EIO, SNAP_NAME, "SHA-256 failed");
	if (memcmp(md, p + len - SHA_LEN, SHA_LEN))
		return fail(c, -EBADMSG, SNAP_NAME,
			    "checksum mismatch (file corrupt)");

	r.len = len - SHA_LEN;
	r.off = MAGIC_LEN + 4;
	*gen = get_u64(&r);
	if (version == SNAP_VERSION_V1)
		record_get_meta_v1(&r, &img->meta);
	else if (record_get_meta(&r, &img->meta))
		return fail(c, -EBADMSG, SNAP_NAME, "malformed meta at byte %d",
			    MAGIC_LEN + 4 + 8);
	n = get_u32(&r);
	/* Bound the allocation by what the file can actually hold. */
	if (n > (r.len - r.off) / (4 + HOST_FIXED_LEN))
		return fail(c, -EBADMSG, SNAP_NAME,
			    "host count %u does not fit the file", n);
	img->hosts = calloc(n ? n : 1, sizeof(*img->hosts));
	if (!img->hosts)
		return fail(c, -ENOMEM, SNAP_NAME, "out of memory");
	for (uint32_t i = 0; i < n; i++) {
		size_t at = r.off;
		uint32_t rlen = get_u32(&r);
		const uint8_t *rec = get_bytes(&r, rlen);
		int err;

		if (!rec)
			return fail(c, -EBADMSG, SNAP_NAME,
				    "host record at byte %zu runs past the end", at);
		err = state_host_decode(rec, rlen, &img->hosts[i]);
		if (err == -EBADMSG)
			return fail(c, err, SNAP_NAME,
				    "malformed host record at byte %zu", at);
		if (err)
			return fail(c, err, SNAP_NAME, "out of memory");
		img->n_hosts++;
	}
	if (r.off != r.len)
		return fail(c, -EBADMSG, SNAP_NAME,
			    "%zu unexpected bytes at byte %zu", r.len - r.off, r.off);
	qsort(img->hosts, img->n_hosts, sizeof(*img->hosts), host_id_cmp);
	for (size_t i = 1; i < img->n_hosts; i++)
		if (img->hosts[i].client_id == img->hosts[i - 1].client_id)
			return fail(c, -EBADMSG, SNAP_NAME, "client id %u twice",
				    img->hosts[i].client_id);
	return 0;
}

static int snap_load(const struct load_ctx *c, struct state_image *img,
		     bool *have)
{
	struct state_store *s = c->s;
	uint8_t *p;
	size_t len;
	int err;

	s->gen = 0;
	*have = false;
	img->meta.next_client_id = 1;
	err = slurp(c, SNAP_NAME, O_RDONLY, &p, &len, NULL);
	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	*have = true;
	err = snap_parse(c, p, len, img, &s->gen);
	free(p);
	if (err == -EBADMSG) {
		if (!faccessat(s->dirfd, SNAP_PREV, F_OK, 0))
			append(c, "; the previous snapshot is %s/%s", s->dir,
			       SNAP_PREV);
		else
			append(c, "; there is no previous snapshot (%s/%s)",
			       s->dir, SNAP_PREV);
	}
	return err;
}

/* One HOST_PUT or HOST_DEL, by position in the journal. */
struct op {
	uint32_t id;
	uint8_t kind;
	uint32_t plen;
	size_t seq;
	const uint8_t *payload;
};

struct jnl {
	struct op *ops;
	size_t n_ops, cap_ops;
	struct state_meta meta;
	bool have_meta;
	uint64_t records;
	size_t good_end;	/* end of the last intact record */
};

static int op_cmp(const void *a, const void *b)
{
	const struct op *x = a, *y = b;

	if (x->id != y->id)
		return (x->id > y->id) - (x->id < y->id);
	return (x->seq > y->seq) - (x->seq < y->seq);
}

static int jnl_add_op(struct jnl *j, uint32_t id, uint8_t kind,
		      const uint8_t *payload, uint32_t plen)
{
	if (j->n_ops == j->cap_ops) {
		size_t cap = j->cap_ops ? 2 * j->cap_ops : 64;
		struct op *o = realloc(j->ops, cap * sizeof(*o));

		if (!o)
			return -ENOMEM;
		j->ops = o;
		j->cap_ops = cap;
	}
	j->ops[j->n_ops] = (struct op){ id, kind, plen, j->n_ops, payload };
	j->n_ops++;
	return 0;
}

/* Validate one record whose CRC matched. -EBADMSG sets *why. */
static int jnl_record(struct jnl *j, uint8_t kind, const uint8_t *pl,
		      uint32_t plen, const char **why)
{
	struct rd r = { .p = pl, .len = plen };
	const uint8_t *reply;
	struct host h;

	switch (kind) {
	case REC_HOST_PUT:
		if (record_parse_host(pl, plen, &h, &reply)) {
			*why = "malformed HOST_PUT";
			return -EBADMSG;
		}
		return jnl_add_op(j, h.client_id, kind, pl, plen);
	case REC_HOST_DEL:
		if (plen != 4 || !le_load(pl, 4)) {
			*why = "malformed HOST_DEL";
			return -EBADMSG;
		}
		return jnl_add_op(j, (uint32_t)le_load(pl, 4), kind, pl, plen);
	case REC_META:
		if (plen != META_V1_LEN) {
			*why = "malformed META";
			return -EBADMSG;
		}
		record_get_meta_v1(&r, &j->meta);
		j->have_meta = true;
		return 0;
	case REC_META_POOL:
		if (plen < META_MIN_LEN || plen > META_MAX_LEN ||
		    record_get_meta(&r, &j->meta) || r.off != plen) {
			*why = "malformed META_POOL";
			return -EBADMSG;
		}
		j->have_meta = true;
		return 0;
	default:
		*why = "unknown record kind";
		return -EBADMSG;
	}
}

/*
 * Walk the records after the header. A last record that runs past EOF or
 * fails its CRC was being appended when the process died, so it was never
 * acknowledged: stop there (j->good_end). Damage anywhere else is an error.
 * A length over the largest record is damage, not a tear, so that a flipped
 * length byte cannot make the loader throw away good records.
 */
static int jnl_parse(const struct load_ctx *c, const uint8_t *p, size_t len,
		     struct jnl *j)
{
	size_t off = JNL_HDR_LEN;

	while (len - off >= REC_OVERHEAD) {
		uint32_t plen = (uint32_t)le_load(p + off, 4);
		uint8_t kind = p[off + 4];
		const char *why = NULL;
		size_t end;
		int err;

		if (plen > HOST_REC_MAX)
			return fail(c, -EBADMSG, JNL_NAME,
				    "record at byte %zu: length %u too large (file corrupt)",
				    off, plen);
		if (plen > len - off - REC_OVERHEAD)
			break;
		end = off + REC_OVERHEAD + plen;
		if (crc32(0, p + off + 4, plen + 1) != le_load(p + end - 4, 4)) {
			if (end == len)
				break;
			return fail(c, -EBADMSG, JNL_NAME,
				    "record at byte %zu: CRC mismatch (file corrupt)",
				    off);
		}
		err = jnl_record(j, kind, p + off + 5, plen, &why);
		if (err == -EBADMSG)
			return fail(c, err, JNL_NAME, "record at byte %zu: %s (kind %u)",
				    off, why, kind);
		if (err)
			return fail(c, err, JNL_NAME, "out of memory");
		j->records++;
		off = end;
	}
	j->good_end = off;
	return 0;
}

/*
 * 0: replay it; 1: stale, skip it; or -EBADMSG. Stale means older than the
 * snapshot: compaction only writes a snapshot holding everything committed,
 * and never appends to a journal of another generation.
 */
static int jnl_header(const struct load_ctx *c, const uint8_t *p, size_t len,
		      bool have_snap, uint64_t *gen)
{
	uint64_t jgen, sgen = c->s->gen;
	uint32_t version;

	if (len < JNL_HDR_LEN)
		return fail(c, -EBADMSG, JNL_NAME,
			    "header too short (%zu bytes, at byte 0)", len);
	if (memcmp(p, JNL_MAGIC, MAGIC_LEN))
		return fail(c, -EBADMSG, JNL_NAME,
			    "bad magic at byte 0 (not an xdnat journal)");
	if (crc32(0, p, JNL_HDR_LEN - 4) != le_load(p + JNL_HDR_LEN - 4, 4))
		return fail(c, -EBADMSG, JNL_NAME,
			    "header CRC mismatch at byte %d (file corrupt)",
			    JNL_HDR_LEN - 4);
	version = (uint32_t)le_load(p + MAGIC_LEN, 4);
	if (version != JNL_VERSION)
		return fail(c, -EBADMSG, JNL_NAME,
			    "unsupported format version %u at byte %d", version,
			    MAGIC_LEN);
	jgen = le_load(p + MAGIC_LEN + 4, 8);
	*gen = jgen;
	if (jgen == sgen)
		return 0;
	if (have_snap && jgen < sgen)
		return 1;
	if (!have_snap)
		return fail(c, -EBADMSG, JNL_NAME,
			    "generation %" PRIu64 " at byte %d, but there is no %s/%s",
			    jgen, MAGIC_LEN + 4, c->s->dir, SNAP_NAME);
	return fail(c, -EBADMSG, JNL_NAME,
		    "generation %" PRIu64 " at byte %d does not match %s/%s generation %" PRIu64 "%s",
		    jgen, MAGIC_LEN + 4, c->s->dir, SNAP_NAME, sgen,
		    jgen > sgen ?
		    " (an older snapshot was put back? its changes since are lost: move the journal aside to start from the snapshot alone)" :
		    "");
}

/*
 * Apply the journal to the snapshot's hosts (both sorted by client id). A
 * HOST_PUT replaces the whole host and a HOST_DEL removes it, so only the
 * last record per id matters: sort the records by (id, position) and merge.
 */
static int jnl_merge(struct state_image *img, struct op *ops, size_t n_ops)
{
	size_t i = 0, k = 0, n = 0;
	struct host *out;
	int err = 0;

	if (!n_ops)
		return 0;
	qsort(ops, n_ops, sizeof(*ops), op_cmp);
	out = calloc(img->n_hosts + n_ops, sizeof(*out));
	if (!out)
		return -ENOMEM;
	while (i < img->n_hosts || k < n_ops) {
		const struct op *o;

		if (k == n_ops ||
		    (i < img->n_hosts && img->hosts[i].client_id < ops[k].id)) {
			out[n++] = img->hosts[i++];
			continue;
		}
		while (k + 1 < n_ops && ops[k + 1].id == ops[k].id)
			k++;
		o = &ops[k++];
		if (i < img->n_hosts && img->hosts[i].client_id == o->id)
			host_release(&img->hosts[i++]);
		if (o->kind != REC_HOST_PUT)
			continue;
		err = state_host_decode(o->payload, o->plen, &out[n]);
		if (err)
			break;
		n++;
	}
	if (err)	/* out[0..n) is what img will own; drop the rest */
		while (i < img->n_hosts)
			host_release(&img->hosts[i++]);
	free(img->hosts);
	img->hosts = out;
	img->n_hosts = n;
	return err;
}

static int jnl_load(const struct load_ctx *c, struct state_image *img,
		    bool have_snap)
{
	struct state_store *s = c->s;
	struct jnl j = { 0 };
	uint64_t jgen = 0;
	uint8_t *p;
	size_t len;
	int fd, err;

	err = slurp(c, JNL_NAME, O_RDWR, &p, &len, &fd);
	if (err == -ENOENT) {
		err = journal_start(s);
		return err ? fail(c, err, JNL_NAME, "create: %s",
				  strerror(-err)) : 0;
	}
	if (err)
		return err;
	err = jnl_header(c, p, len, have_snap, &jgen);
	if (err == 1) {
		set_warning(s, JNL_NAME,
			    "generation %" PRIu64 " predates %s (%" PRIu64 "): a compaction was interrupted and the snapshot holds all of it; started a new journal",
			    jgen, SNAP_NAME, s->gen);
		err = journal_start(s);
		if (err)
			fail(c, err, JNL_NAME, "create: %s", strerror(-err));
		goto out;
	}
	if (!err)
		err = jnl_parse(c, p, len, &j);
	if (!err) {
		err = jnl_merge(img, j.ops, j.n_ops);
		if (err)
			fail(c, err, JNL_NAME, "out of memory");
	}
	if (!err && j.have_meta)
		img->meta = j.meta;
	if (!err && j.good_end < len) {
		/* Only now, with everything else intact, cut the torn tail. */
		if (ftruncate(fd, (off_t)j.good_end) || fsync(fd)) {
			err = fail(c, -errno, JNL_NAME, "truncate: %s",
				   strerror(errno));
			goto out;
		}
		set_warning(s, JNL_NAME,
			    "dropped a torn last record at byte %zu (%zu bytes, never acknowledged); truncated to %zu bytes",
			    j.good_end, len - j.good_end, j.good_end);
	}
	if (!err) {
		if (s->jfd >= 0)
			close(s->jfd);
		s->jfd = fd;
		fd = -1;
		s->jsize = j.good_end;
		s->jrecords = j.records;
		s->jbroken = false;
	}
out:
	if (fd >= 0)
		close(fd);
	free(j.ops);
	free(p);
	return err;
}

int state_load(struct state_store *s, struct state_image *img,
	       char *errbuf, size_t errlen)
{
	struct load_ctx c = { .s = s, .err = errbuf, .errlen = errlen };
	bool have_snap;
	int err;

	memset(img, 0, sizeof(*img));
	if (errbuf && errlen)
		errbuf[0] = '\0';
	s->warn[0] = '\0';
	s->loaded = false;
	err = snap_load(&c, img, &have_snap);
	if (!err)
		err = jnl_load(&c, img, have_snap);
	if (err) {
		state_image_free(img);
		return err;
	}
	s->loaded = true;
	return 0;
}

void state_image_free(struct state_image *img)
{
	for (size_t i = 0; i < img->n_hosts; i++)
		host_release(&img->hosts[i]);
	free(img->hosts);
	img->hosts = NULL;
	img->n_hosts = 0;
}
