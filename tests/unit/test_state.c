/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Unit tests for the state store (ctl/state.c) and the host helpers
 * (ctl/host.c): round trips through snapshot and journal, compaction, and
 * crash and damage simulations done by editing the files between loads.
 * Every test works in its own mkdtemp directory, removed by the teardown
 * (which cmocka also runs when a test fails).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "gateway/state.h"
#include "gateway/state_record.h"
#include "gateway/tokens.h"
#include "test_tmpdir.h"

/* Offsets inside the formats documented at the top of ctl/state.c and
 * ctl/state_record.c. */
#define JNL_HDR_LEN	24
#define REC_OVERHEAD	9
#define HOST_OFF_REPLY_LEN 129
#define HOST_OFF_N_PORTS 131
#define HOST_OFF_N_SAS	133

#include "test_rng.h"

static void rng_fill(void *p, size_t n)
{
	uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)rng();
}

/* ---- fixture: a temporary directory and a store in it ------------------- */

struct fx {
	char root[64];
	char dir[PATH_MAX];
	struct state_store *s;
	struct state_image img;
	char err[512];
	struct rlimit fsize;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	if (tmpdir_make(f->root, sizeof(f->root), "/tmp/xdnat-test-state-XXXXXX",
			f->dir, sizeof(f->dir), "state")) {
		free(f);
		return -1;
	}
	getrlimit(RLIMIT_FSIZE, &f->fsize);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	setrlimit(RLIMIT_FSIZE, &f->fsize);
	state_image_free(&f->img);
	state_close(f->s);
	tmpdir_remove(f->root);
	free(f);
	return 0;
}

/* A path in the state directory (tmpdir_path). */
static const char *fpath(const struct fx *f, const char *name)
{
	return tmpdir_path(f->dir, name);
}

/* (Re)open the store and load it into f->img; returns state_load's result. */
static int reload(struct fx *f)
{
	state_image_free(&f->img);
	state_close(f->s);
	f->s = NULL;
	assert_int_equal(state_open(f->dir, &f->s), 0);
	f->err[0] = '\0';
	return state_load(f->s, &f->img, f->err, sizeof(f->err));
}

/* The whole file; the test fails when it cannot be read. */
static uint8_t *read_all(const char *path, size_t *len)
{
	uint8_t *p = tmpdir_read_file(path, len);

	assert_non_null(p);
	return p;
}

static void write_all(const char *path, const uint8_t *p, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, len), (ssize_t)len);
	close(fd);
}

static size_t file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (size_t)st.st_size;
}

static bool file_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static void assert_file_is(const char *path, const uint8_t *p, size_t len)
{
	size_t n;
	uint8_t *now = read_all(path, &n);

	assert_int_equal(n, len);
	assert_memory_equal(now, p, len);
	free(now);
}

/* ---- hosts -------------------------------------------------------------- */

/* shape 0: nothing held, no reply; 1: every table full, largest reply;
 * otherwise random counts and a short reply. */
static void make_host(struct host *h, uint32_t id, unsigned int shape)
{
	memset(h, 0, sizeof(*h));
	h->client_id = id;
	h->addr = rng();
	h->global = rng();
	rng_fill(h->secret, sizeof(h->secret));
	rng_fill(h->host_pub, sizeof(h->host_pub));
	h->lease_expires = (uint64_t)rng() << 32 | rng();
	h->lease_secs = rng();
	h->last_seq = rng();
	h->last_xid = rng();
	rng_fill(h->last_mac, sizeof(h->last_mac));
	rng_fill(h->cert_serial, sizeof(h->cert_serial));
	h->cert_expires = (uint64_t)rng() << 32 | rng();
	if (shape == 0)
		return;
	if (shape == 1) {
		h->n_ports = h->n_spis = HOST_MAX_RANGES;
		h->n_sas = HOST_MAX_SAS;
		h->reply_len = PAP_MAX_MSG;
	} else {
		h->n_ports = (uint8_t)rng_below(HOST_MAX_RANGES + 1);
		h->n_spis = (uint8_t)rng_below(HOST_MAX_RANGES + 1);
		h->n_sas = (uint8_t)rng_below(HOST_MAX_SAS + 1);
		h->reply_len = (uint16_t)(1 + rng_below(600));
	}
	for (unsigned int i = 0; i < h->n_ports; i++) {
		h->ports[i].global = rng();
		h->ports[i].first = (uint16_t)rng();
		h->ports[i].last = (uint16_t)(h->ports[i].first +
			rng_below(65536u - h->ports[i].first));
	}
	for (unsigned int i = 0; i < h->n_spis; i++) {
		h->spis[i].global = rng();
		h->spis[i].first = rng() >> 1;
		h->spis[i].last = h->spis[i].first + (rng() >> 1);
	}
	for (unsigned int i = 0; i < h->n_sas; i++) {
		h->sas[i].peer = rng();
		h->sas[i].spi_first = rng() >> 1;
		h->sas[i].spi_last = h->sas[i].spi_first + (rng() >> 1);
	}
	h->reply = malloc(h->reply_len);
	assert_non_null(h->reply);
	rng_fill(h->reply, h->reply_len);
}

static void assert_host_eq(const struct host *a, const struct host *b)
{
	assert_int_equal(a->client_id, b->client_id);
	assert_int_equal(a->addr, b->addr);
	assert_int_equal(a->global, b->global);
	assert_memory_equal(a->secret, b->secret, PAP_KEY_LEN);
	assert_memory_equal(a->host_pub, b->host_pub, PAP_KEY_LEN);
	assert_int_equal(a->lease_expires, b->lease_expires);
	assert_int_equal(a->lease_secs, b->lease_secs);
	assert_int_equal(a->last_seq, b->last_seq);
	assert_int_equal(a->last_xid, b->last_xid);
	assert_memory_equal(a->last_mac, b->last_mac, PAP_MAC_LEN);
	assert_memory_equal(a->cert_serial, b->cert_serial, HOST_SERIAL_LEN);
	assert_int_equal(a->cert_expires, b->cert_expires);
	assert_int_equal(a->n_ports, b->n_ports);
	assert_int_equal(a->n_spis, b->n_spis);
	assert_int_equal(a->n_sas, b->n_sas);
	for (unsigned int i = 0; i < a->n_ports; i++) {
		assert_int_equal(a->ports[i].global, b->ports[i].global);
		assert_int_equal(a->ports[i].first, b->ports[i].first);
		assert_int_equal(a->ports[i].last, b->ports[i].last);
	}
	for (unsigned int i = 0; i < a->n_spis; i++) {
		assert_int_equal(a->spis[i].global, b->spis[i].global);
		assert_int_equal(a->spis[i].first, b->spis[i].first);
		assert_int_equal(a->spis[i].last, b->spis[i].last);
	}
	for (unsigned int i = 0; i < a->n_sas; i++) {
		assert_int_equal(a->sas[i].peer, b->sas[i].peer);
		assert_int_equal(a->sas[i].spi_first, b->sas[i].spi_first);
		assert_int_equal(a->sas[i].spi_last, b->sas[i].spi_last);
	}
	assert_int_equal(a->reply_len, b->reply_len);
	if (a->reply_len) {
		assert_non_null(b->reply);
		assert_ptr_not_equal(a->reply, b->reply);
		assert_memory_equal(a->reply, b->reply, a->reply_len);
	} else {
		assert_null(b->reply);
	}
}

static const struct host *find(const struct state_image *img, uint32_t id)
{
	for (size_t i = 0; i < img->n_hosts; i++)
		if (img->hosts[i].client_id == id)
			return &img->hosts[i];
	return NULL;
}

/* The image holds exactly hosts[0..n) (any order given, sorted by id). */
static void assert_image(const struct state_image *img, const struct host *hosts,
			 size_t n)
{
	assert_int_equal(img->n_hosts, n);
	for (size_t i = 1; i < img->n_hosts; i++)
		assert_true(img->hosts[i - 1].client_id < img->hosts[i].client_id);
	for (size_t i = 0; i < n; i++) {
		const struct host *got = find(img, hosts[i].client_id);

		assert_non_null(got);
		assert_host_eq(&hosts[i], got);
	}
}

static void release_all(struct host *hosts, size_t n)
{
	for (size_t i = 0; i < n; i++)
		host_release(&hosts[i]);
}

static void compact(struct fx *f, const struct state_meta *m,
		    const struct host *hosts, size_t n)
{
	const struct host *ptrs[16];

	assert_true(n <= 16);
	for (size_t i = 0; i < n; i++)
		ptrs[i] = &hosts[i];
	assert_int_equal(state_compact(f->s, m, ptrs, n), 0);
}

static void log_hosts(struct fx *f, const struct host *hosts, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(state_log_host(f->s, &hosts[i]), 0);
}

/* ---- host helpers -------------------------------------------------------- */

static void test_host_helpers(void **state)
{
	struct host h = { .client_id = 1 }, c;
	uint8_t msg[10] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };

	(void)state;
	h.n_ports = 2;
	h.ports[0] = (struct pap_port_range){ 0, 100, 199 };
	h.ports[1] = (struct pap_port_range){ 0, 300, 300 };
	h.n_spis = 2;
	h.spis[0] = (struct pap_spi_range){ 0, 0x1000, 0x1fff };
	h.spis[1] = (struct pap_spi_range){ 0, 0x80000000u, 0xffffffffu };
	assert_int_equal(host_port_total(&h), 101);
	assert_int_equal(host_spi_total(&h), 0x1000 + 0x80000000ull);
	assert_int_equal(host_find_ports(&h, 150, 160), 0);
	assert_int_equal(host_find_ports(&h, 100, 199), 0);
	assert_int_equal(host_find_ports(&h, 300, 300), 1);
	assert_int_equal(host_find_ports(&h, 190, 210), -1);
	assert_int_equal(host_find_ports(&h, 200, 200), -1);
	assert_int_equal(host_find_ports(&h, 160, 150), -1);
	assert_int_equal(host_find_spis(&h, 0x1800, 0x1fff), 0);
	assert_int_equal(host_find_spis(&h, 0xfffffff0u, 0xffffffffu), 1);
	assert_int_equal(host_find_spis(&h, 0x0fff, 0x1000), -1);
	assert_int_equal(host_find_spis(&h, 5, 4), -1);

	assert_int_equal(host_set_reply(&h, msg, sizeof(msg)), 0);
	assert_ptr_not_equal(h.reply, msg);
	assert_int_equal(h.reply_len, sizeof(msg));
	assert_memory_equal(h.reply, msg, sizeof(msg));
	/* The new reply may alias the old one. */
	assert_int_equal(host_set_reply(&h, h.reply + 2, 5), 0);
	assert_int_equal(h.reply_len, 5);
	assert_memory_equal(h.reply, msg + 2, 5);
	assert_int_equal(host_set_reply(&h, msg, PAP_MAX_MSG + 1), -EINVAL);
	assert_int_equal(h.reply_len, 5);

	assert_int_equal(host_copy(&c, &h), 0);
	assert_host_eq(&h, &c);
	c.reply[0] ^= 0xff;
	assert_int_equal(h.reply[0], msg[2]);
	host_release(&c);
	assert_null(c.reply);
	assert_int_equal(c.reply_len, 0);
	host_release(&c);

	assert_int_equal(host_set_reply(&h, NULL, 0), 0);
	assert_null(h.reply);
	assert_int_equal(h.reply_len, 0);
	assert_int_equal(host_copy(&c, &h), 0);
	assert_null(c.reply);
}

/* ---- store ---------------------------------------------------------------- */

static void test_empty_dir(void **state)
{
	struct fx *f = *state;
	struct stat st;

	/* state_open creates missing parents too. */
	snprintf(f->dir, sizeof(f->dir), "%s/a/b/state", f->root);
	assert_int_equal(reload(f), 0);
	assert_int_equal(stat(f->dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_string_equal(state_dir(f->s), f->dir);
	assert_int_equal(f->img.n_hosts, 0);
	assert_int_equal(f->img.meta.next_client_id, 1);
	assert_null(state_load_warning(f->s));
	assert_false(state_wants_compaction(f->s));
	assert_int_equal(state_commit(f->s), 0);
	assert_true(file_exists(fpath(f, "lock")));
	assert_false(file_exists(fpath(f, "state.snap")));
	assert_int_equal(file_size(fpath(f, "state.journal")), JNL_HDR_LEN);

	assert_int_equal(reload(f), 0);
	assert_int_equal(f->img.n_hosts, 0);
	assert_null(state_load_warning(f->s));
}

static void test_snapshot_roundtrip(void **state)
{
	struct fx *f = *state;
	struct state_meta m = { .next_client_id = 77, .global = 0x0a0b0c0d };
	struct host hosts[8];
	size_t len;
	uint8_t *snap;

	rng_seed(1);
	/* Ids out of order on purpose: the image comes back sorted. */
	for (unsigned int i = 0; i < 8; i++)
		make_host(&hosts[i], 70 - 3 * i, i);
	assert_int_equal(reload(f), 0);
	compact(f, &m, hosts, 8);
	assert_int_equal(file_size(fpath(f, "state.journal")), JNL_HDR_LEN);

	snap = read_all(fpath(f, "state.snap"), &len);
	assert_memory_equal(snap, "XDNATSNP", 8);
	free(snap);

	for (int round = 0; round < 2; round++) {
		assert_int_equal(reload(f), 0);
		assert_null(state_load_warning(f->s));
		assert_int_equal(f->img.meta.next_client_id, 77);
		assert_int_equal(f->img.meta.global, 0x0a0b0c0d);
		assert_image(&f->img, hosts, 8);
	}
	release_all(hosts, 8);
}

static void test_journal_replay(void **state)
{
	struct fx *f = *state;
	struct state_meta m1 = { .next_client_id = 4, .global = 0x01020304 };
	struct state_meta m2 = { .next_client_id = 9, .global = 0x01020304 };
	struct host h[4], a2, d, want[3];

	rng_seed(2);
	for (unsigned int i = 0; i < 3; i++)
		make_host(&h[i], i + 1, i + 2);
	assert_int_equal(reload(f), 0);
	log_hosts(f, h, 3);
	assert_int_equal(state_log_meta(f->s, &m1), 0);
	assert_int_equal(state_commit(f->s), 0);

	make_host(&a2, 1, 5);		/* host 1 again, all new values */
	assert_int_equal(state_log_host(f->s, &a2), 0);
	assert_int_equal(state_log_del(f->s, 2), 0);
	assert_int_equal(state_log_del(f->s, 99), 0);	/* never existed */
	assert_int_equal(state_log_meta(f->s, &m2), 0);
	assert_int_equal(state_commit(f->s), 0);
	make_host(&d, 4, 3);		/* logged, never committed: lost */
	assert_int_equal(state_log_host(f->s, &d), 0);

	assert_int_equal(reload(f), 0);
	assert_null(state_load_warning(f->s));
	assert_int_equal(f->img.meta.next_client_id, 9);
	want[0] = a2;
	want[1] = h[2];
	assert_image(&f->img, want, 2);

	/* Appending after a replay, then replaying again. */
	make_host(&h[3], 2, 1);		/* id 2 comes back, tables full */
	assert_int_equal(state_log_host(f->s, &h[3]), 0);
	assert_int_equal(state_log_del(f->s, 3), 0);
	assert_int_equal(state_commit(f->s), 0);
	assert_int_equal(reload(f), 0);
	want[1] = h[3];
	assert_image(&f->img, want, 2);
	assert_int_equal(f->img.meta.next_client_id, 9);

	release_all(h, 4);
	host_release(&a2);
	host_release(&d);
}

static void test_group_commit(void **state)
{
	struct fx *f = *state;
	struct host h[64];
	size_t before, bytes = 0;

	rng_seed(3);
	assert_int_equal(reload(f), 0);
	before = file_size(fpath(f, "state.journal"));
	for (unsigned int i = 0; i < 64; i++) {
		uint8_t *enc;
		size_t len;

		make_host(&h[i], 1000 + i, 2 + i);
		assert_int_equal(state_log_host(f->s, &h[i]), 0);
		assert_int_equal(state_host_encode(&h[i], &enc, &len), 0);
		bytes += REC_OVERHEAD + len;
		free(enc);
	}
	/* Nothing reaches the file before the commit. */
	assert_int_equal(file_size(fpath(f, "state.journal")), before);
	assert_int_equal(state_commit(f->s), 0);
	assert_int_equal(file_size(fpath(f, "state.journal")), before + bytes);
	assert_int_equal(state_commit(f->s), 0);	/* nothing queued */
	assert_int_equal(file_size(fpath(f, "state.journal")), before + bytes);

	assert_int_equal(reload(f), 0);
	assert_int_equal(f->img.n_hosts, 64);
	for (unsigned int i = 0; i < 64; i++)
		assert_host_eq(&h[i], find(&f->img, 1000 + i));
	release_all(h, 64);
}

static void test_log_invalid(void **state)
{
	struct fx *f = *state;
	struct host ok, bad;

	rng_seed(4);
	make_host(&ok, 1, 2);
	make_host(&bad, 2, 2);
	assert_int_equal(reload(f), 0);
	assert_int_equal(state_log_host(f->s, &ok), 0);

	bad.n_sas = HOST_MAX_SAS + 1;
	assert_int_equal(state_log_host(f->s, &bad), -EINVAL);
	bad.n_sas = 0;
	bad.n_ports = 1;
	bad.ports[0].first = 10;
	bad.ports[0].last = 9;
	assert_int_equal(state_log_host(f->s, &bad), -EINVAL);
	bad.n_ports = 0;
	bad.client_id = 0;
	assert_int_equal(state_log_host(f->s, &bad), -EINVAL);
	assert_int_equal(state_log_del(f->s, 0), -EINVAL);

	/* The refused records left nothing behind in the queue. */
	assert_int_equal(state_commit(f->s), 0);
	assert_int_equal(reload(f), 0);
	assert_image(&f->img, &ok, 1);
	host_release(&ok);
	host_release(&bad);
}

/* A failed write leaves the journal as it was and the queue for a retry. */
static void test_commit_failure_retry(void **state)
{
	struct fx *f = *state;
	struct rlimit lim = f->fsize;
	struct host h[3];
	size_t size;

	rng_seed(5);
	assert_int_equal(reload(f), 0);
	make_host(&h[0], 1, 2);
	assert_int_equal(state_log_host(f->s, &h[0]), 0);
	assert_int_equal(state_commit(f->s), 0);
	size = file_size(fpath(f, "state.journal"));

	make_host(&h[1], 2, 1);		/* ~18 KB record */
	make_host(&h[2], 3, 2);
	log_hosts(f, h + 1, 2);
	/* Let the write get part of the way, then fail with EFBIG. */
	signal(SIGXFSZ, SIG_IGN);
	lim.rlim_cur = size + 1000;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(state_commit(f->s), -EFBIG);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &f->fsize), 0);
	assert_int_equal(file_size(fpath(f, "state.journal")), size);

	assert_int_equal(state_commit(f->s), 0);
	assert_int_equal(reload(f), 0);
	assert_null(state_load_warning(f->s));
	assert_image(&f->img, h, 3);
	release_all(h, 3);
}

static void test_compaction(void **state)
{
	struct fx *f = *state;
	struct state_meta m = { .next_client_id = 20, .global = 0x0a000001 };
	struct host h[6];
	size_t len1, len2;
	uint8_t *snap1, *snap2;

	rng_seed(6);
	for (unsigned int i = 0; i < 6; i++)
		make_host(&h[i], 10 + i, i);
	assert_int_equal(reload(f), 0);
	log_hosts(f, h, 4);
	assert_int_equal(state_commit(f->s), 0);
	assert_true(file_size(fpath(f, "state.journal")) > JNL_HDR_LEN);

	/* Queued, uncommitted records are dropped: the snapshot has them. */
	assert_int_equal(state_log_host(f->s, &h[5]), 0);
	compact(f, &m, h + 1, 3);
	assert_int_equal(state_commit(f->s), 0);
	assert_int_equal(file_size(fpath(f, "state.journal")), JNL_HDR_LEN);
	assert_false(state_wants_compaction(f->s));
	assert_false(file_exists(fpath(f, "state.snap.prev")));
	assert_false(file_exists(fpath(f, "state.snap.tmp")));
	assert_false(file_exists(fpath(f, "state.journal.tmp")));

	/* Journal on top of the snapshot. */
	assert_int_equal(state_log_host(f->s, &h[4]), 0);
	assert_int_equal(state_log_del(f->s, 11), 0);
	assert_int_equal(state_commit(f->s), 0);
	assert_int_equal(reload(f), 0);
	assert_null(state_load_warning(f->s));
	assert_int_equal(f->img.meta.next_client_id, 20);
	assert_image(&f->img, h + 2, 3);

	/* A second compaction keeps the first snapshot as state.snap.prev. */
	snap1 = read_all(fpath(f, "state.snap"), &len1);
	m.next_client_id = 21;
	compact(f, &m, h, 2);
	assert_file_is(fpath(f, "state.snap.prev"), snap1, len1);
	snap2 = read_all(fpath(f, "state.snap"), &len2);
	assert_false(len1 == len2 && !memcmp(snap1, snap2, len1));
	assert_int_equal(reload(f), 0);
	assert_int_equal(f->img.meta.next_client_id, 21);
	assert_image(&f->img, h, 2);

	free(snap1);
	free(snap2);
	release_all(h, 6);
}

/* Crash after the new snapshot, before the new journal: the old journal is
 * stale and must not be replayed over the newer snapshot. */
static void test_interrupted_compaction(void **state)
{
	struct fx *f = *state;
	struct state_meta m = { .next_client_id = 5, .global = 0 };
	struct host h[3];
	uint8_t *old;
	size_t len;

	rng_seed(7);
	for (unsigned int i = 0; i < 3; i++)
		make_host(&h[i], i + 1, i + 2);
	assert_int_equal(reload(f), 0);
	log_hosts(f, h, 3);
	assert_int_equal(state_commit(f->s), 0);
	old = read_all(fpath(f, "state.journal"), &len);
	/* Host 3 was dropped in memory: the snapshot no longer has it. */
	compact(f, &m, h, 2);
	state_close(f->s);
	f->s = NULL;
	write_all(fpath(f, "state.journal"), old, len);

	assert_int_equal(reload(f), 0);
	assert_non_null(state_load_warning(f->s));
	assert_non_null(strstr(state_load_warning(f->s), "state.journal"));
	assert_non_null(strstr(state_load_warning(f->s), "predates"));
	assert_image(&f->img, h, 2);
	assert_int_equal(file_size(fpath(f, "state.journal")), JNL_HDR_LEN);

	/* And the new journal works. */
	assert_int_equal(state_log_del(f->s, 1), 0);
	assert_int_equal(state_commit(f->s), 0);
	assert_int_equal(reload(f), 0);
	assert_null(state_load_warning(f->s));
	assert_image(&f->img, h + 1, 1);
	free(old);
	release_all(h, 3);
}

static void test_wants_compaction(void **state)
{
	struct fx *f = *state;
	struct state_meta m = { .next_client_id = 1, .global = 0 };

	assert_int_equal(reload(f), 0);
	for (uint32_t id = 1; id <= 10000; id++) {
		assert_false(state_wants_compaction(f->s));
		assert_int_equal(state_log_del(f->s, id), 0);
		if (id % 1000 == 0)
			assert_int_equal(state_commit(f->s), 0);
	}
	assert_true(state_wants_compaction(f->s));
	/* The count survives a reload (it is the journal's). */
	assert_int_equal(reload(f), 0);
	assert_true(state_wants_compaction(f->s));
	assert_int_equal(state_compact(f->s, &m, NULL, 0), 0);
	assert_false(state_wants_compaction(f->s));
}

/* Three committed records, the last one torn by a crash in several ways. */
static void test_torn_tail(void **state)
{
	struct fx *f = *state;
	struct host h[3];
	size_t end2, len, rec3;
	uint8_t *full;
	const size_t cuts[] = { 1, 2, 3, 4, 5, 8, 9, 100 };

	rng_seed(8);
	for (unsigned int i = 0; i < 3; i++)
		make_host(&h[i], i + 1, i + 2);
	assert_int_equal(reload(f), 0);
	for (unsigned int i = 0; i < 3; i++) {
		end2 = file_size(fpath(f, "state.journal"));
		assert_int_equal(state_log_host(f->s, &h[i]), 0);
		assert_int_equal(state_commit(f->s), 0);
	}
	state_close(f->s);
	f->s = NULL;
	full = read_all(fpath(f, "state.journal"), &len);
	rec3 = len - end2;
	assert_true(rec3 > 100);

	for (size_t i = 0; i <= sizeof(cuts) / sizeof(cuts[0]) + 2; i++) {
		size_t cut = i < 8 ? cuts[i] : i == 8 ? rec3 / 2 : i == 9 ? rec3 - 4 : rec3 - 1;
		const char *w;

		write_all(fpath(f, "state.journal"), full, len - cut);
		assert_int_equal(reload(f), 0);
		w = state_load_warning(f->s);
		assert_non_null(w);
		assert_non_null(strstr(w, fpath(f, "state.journal")));
		assert_non_null(strstr(w, "torn"));
		assert_image(&f->img, h, 2);
		assert_null(find(&f->img, 3));
		assert_int_equal(file_size(fpath(f, "state.journal")), end2);
		/* Repaired: the next load is clean, and appending works. */
		assert_int_equal(reload(f), 0);
		assert_null(state_load_warning(f->s));
		assert_image(&f->img, h, 2);
	}

	/* Complete but with a bad CRC (crash with only part of it on disk). */
	full[len - 1] ^= 0x40;
	write_all(fpath(f, "state.journal"), full, len);
	assert_int_equal(reload(f), 0);
	assert_non_null(state_load_warning(f->s));
	assert_image(&f->img, h, 2);
	assert_int_equal(file_size(fpath(f, "state.journal")), end2);
	assert_int_equal(state_log_host(f->s, &h[2]), 0);
	assert_int_equal(state_commit(f->s), 0);
	assert_int_equal(reload(f), 0);
	assert_image(&f->img, h, 3);

	/* Cut exactly on a record boundary: nothing torn, nothing to say. */
	full[len - 1] ^= 0x40;
	write_all(fpath(f, "state.journal"), full, end2);
	assert_int_equal(reload(f), 0);
	assert_null(state_load_warning(f->s));
	assert_image(&f->img, h, 2);

	free(full);
	release_all(h, 3);
}

/* Load must fail with errno -EBADMSG, name the file and leave it alone. */
static void expect_damaged(struct fx *f, const char *name, const uint8_t *p,
			   size_t len, const char *needle)
{
	write_all(fpath(f, name), p, len);
	assert_int_equal(reload(f), -EBADMSG);
	assert_non_null(strstr(f->err, fpath(f, name)));
	if (needle && !strstr(f->err, needle))
		fail_msg("\"%s\" not in \"%s\"", needle, f->err);
	assert_int_equal(f->img.n_hosts, 0);
	assert_null(f->img.hosts);
	assert_file_is(fpath(f, name), p, len);
}

static void test_journal_damage(void **state)
{
	struct fx *f = *state;
	struct host h[3];
	size_t off2, len, len2;
	uint8_t *good, *bad;
	char at[32];
	uLong crc;

	rng_seed(9);
	for (unsigned int i = 0; i < 3; i++)
		make_host(&h[i], i + 1, i + 2);
	assert_int_equal(reload(f), 0);
	assert_int_equal(state_log_host(f->s, &h[0]), 0);
	assert_int_equal(state_commit(f->s), 0);
	off2 = file_size(fpath(f, "state.journal"));
	log_hosts(f, h + 1, 2);
	assert_int_equal(state_commit(f->s), 0);
	state_close(f->s);
	f->s = NULL;
	good = read_all(fpath(f, "state.journal"), &len);
	bad = malloc(len);
	assert_non_null(bad);
	len2 = (size_t)good[off2] | (size_t)good[off2 + 1] << 8;
	snprintf(at, sizeof(at), "byte %zu", off2);

	/* A flipped byte inside the middle record's payload. */
	memcpy(bad, good, len);
	bad[off2 + 5 + len2 / 2] ^= 0x01;
	expect_damaged(f, "state.journal", bad, len, at);
	assert_non_null(strstr(f->err, "CRC"));

	/* Its length made too large (high byte). */
	memcpy(bad, good, len);
	bad[off2 + 2] ^= 0x10;
	expect_damaged(f, "state.journal", bad, len, at);

	/* Its length made a little larger: the CRC no longer lines up. */
	memcpy(bad, good, len);
	bad[off2] ^= 0x04;
	expect_damaged(f, "state.journal", bad, len, at);

	/* An unknown kind with a valid CRC. */
	memcpy(bad, good, len);
	bad[off2 + 4] = 9;
	crc = crc32(0, bad + off2 + 4, (uInt)len2 + 1);
	for (int i = 0; i < 4; i++)
		bad[off2 + 5 + len2 + i] = (uint8_t)(crc >> (8 * i));
	expect_damaged(f, "state.journal", bad, len, "unknown record kind");

	/* Header: magic, version, generation, and too short. */
	memcpy(bad, good, len);
	bad[0] = 'Y';
	expect_damaged(f, "state.journal", bad, len, "magic");
	memcpy(bad, good, len);
	bad[13] ^= 0x80;
	expect_damaged(f, "state.journal", bad, len, "byte 20");
	expect_damaged(f, "state.journal", good, 10, "too short");

	/* The intact journal still loads. */
	write_all(fpath(f, "state.journal"), good, len);
	assert_int_equal(reload(f), 0);
	assert_image(&f->img, h, 3);
	free(good);
	free(bad);
	release_all(h, 3);
}

/* Random damage to the journal: an error or a clean load, never a crash. */
static void test_journal_fuzz(void **state)
{
	struct fx *f = *state;
	struct host h[4];
	uint8_t *good, *bad;
	size_t len;

	rng_seed(10);
	assert_int_equal(reload(f), 0);
	for (unsigned int i = 0; i < 4; i++) {
		make_host(&h[i], i + 1, i + 2);
		assert_int_equal(state_log_host(f->s, &h[i]), 0);
		assert_int_equal(state_log_del(f->s, i + 7), 0);
	}
	assert_int_equal(state_commit(f->s), 0);
	state_close(f->s);
	f->s = NULL;
	good = read_all(fpath(f, "state.journal"), &len);
	bad = malloc(len);
	assert_non_null(bad);

	for (int iter = 0; iter < 300; iter++) {
		size_t n = len;
		int rc;

		memcpy(bad, good, len);
		for (uint32_t k = 1 + rng_below(3); k--;)
			bad[rng_below((uint32_t)len)] ^= (uint8_t)(1 + rng_below(255));
		if (iter % 3 == 0)
			n = rng_below((uint32_t)len + 1);
		write_all(fpath(f, "state.journal"), bad, n);
		rc = reload(f);
		assert_true(rc == 0 || rc == -EBADMSG);
	}
	free(good);
	free(bad);
	release_all(h, 4);
}

static void test_snapshot_damage(void **state)
{
	struct fx *f = *state;
	struct state_meta m = { .next_client_id = 3, .global = 0x0a000002 };
	struct host h[3];
	uint8_t *snap, *prev, *bad;
	size_t len, plen;
	char want[PATH_MAX + 64];
	const size_t cuts[] = { 0, 1, 8, 31, 40, 100 };
	const size_t flips[] = { 0, 9, 14, 30, 200 };

	rng_seed(11);
	for (unsigned int i = 0; i < 3; i++)
		make_host(&h[i], i + 1, i + 2);
	assert_int_equal(reload(f), 0);
	compact(f, &m, h, 1);		/* generation 1: host 1 */
	compact(f, &m, h, 3);		/* generation 2: hosts 1-3 */
	state_close(f->s);
	f->s = NULL;
	snap = read_all(fpath(f, "state.snap"), &len);
	prev = read_all(fpath(f, "state.snap.prev"), &plen);
	bad = malloc(len);
	assert_non_null(bad);
	snprintf(want, sizeof(want), "%s:", fpath(f, "state.snap"));

	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]) + 2; i++) {
		size_t n = i < 6 ? cuts[i] : i == 6 ? len / 2 : len - 1;

		expect_damaged(f, "state.snap", snap, n, want);
		assert_non_null(strstr(f->err, fpath(f, "state.snap.prev")));
		assert_file_is(fpath(f, "state.snap.prev"), prev, plen);
	}
	for (size_t i = 0; i <= sizeof(flips) / sizeof(flips[0]); i++) {
		size_t at = i < 5 ? flips[i] : len - 1;

		memcpy(bad, snap, len);
		bad[at] ^= 0x20;
		expect_damaged(f, "state.snap", bad, len, want);
		assert_non_null(strstr(f->err, fpath(f, "state.snap.prev")));
	}
	memcpy(bad, snap, len);
	bad[200] ^= 0x20;
	expect_damaged(f, "state.snap", bad, len, "checksum mismatch");

	/*
	 * The operator puts the previous snapshot back. The journal belongs to
	 * the damaged one, so it is refused until moved aside as well.
	 */
	write_all(fpath(f, "state.snap"), prev, plen);
	assert_int_equal(reload(f), -EBADMSG);
	assert_non_null(strstr(f->err, fpath(f, "state.journal")));
	assert_non_null(strstr(f->err, "generation"));
	assert_int_equal(rename(fpath(f, "state.journal"),
				fpath(f, "state.journal.old")), 0);
	assert_int_equal(reload(f), 0);
	assert_int_equal(f->img.meta.next_client_id, 3);
	assert_image(&f->img, h, 1);

	/* No snapshot, but a journal that needs one. */
	state_close(f->s);
	f->s = NULL;
	assert_int_equal(unlink(fpath(f, "state.snap")), 0);
	assert_int_equal(reload(f), -EBADMSG);
	assert_non_null(strstr(f->err, fpath(f, "state.journal")));

	free(snap);
	free(prev);
	free(bad);
	release_all(h, 3);
}

static void test_lock_busy(void **state)
{
	struct fx *f = *state;
	struct state_store *other = NULL;

	assert_int_equal(state_open(f->dir, &f->s), 0);
	assert_int_equal(state_open(f->dir, &other), -EBUSY);
	assert_null(other);
	state_close(f->s);
	f->s = NULL;
	assert_int_equal(state_open(f->dir, &other), 0);
	state_close(other);
}

/* The record decoder on random and mutated input: never past the buffer
 * (ASan), and whatever it accepts re-encodes to the same bytes. */
static void test_decode_random(void **state)
{
	uint8_t buf[2048], *enc, *again;
	size_t len, len2;
	struct host h, d;

	(void)state;
	rng_seed(12);
	for (int iter = 0; iter < 20000; iter++) {
		size_t n = rng_below(sizeof(buf) + 1);

		rng_fill(buf, n);
		if (n && iter % 2)
			buf[0] = 1;		/* get past the version byte */
		if (state_host_decode(buf, n, &d) == 0)
			host_release(&d);
	}

	make_host(&h, 5, 2);
	assert_int_equal(state_host_encode(&h, &enc, &len), 0);
	assert_int_equal(state_host_decode(enc, len, &d), 0);
	assert_host_eq(&h, &d);
	host_release(&d);
	for (size_t n = 0; n < len; n++)
		assert_int_equal(state_host_decode(enc, n, &d), -EBADMSG);
	again = malloc(len + 1);
	assert_non_null(again);
	memcpy(again, enc, len);
	again[len] = 0;
	assert_int_equal(state_host_decode(again, len + 1, &d), -EBADMSG);

	/* Counts and lengths over the limits. */
	memcpy(again, enc, len);
	again[HOST_OFF_N_PORTS] = HOST_MAX_RANGES + 1;
	assert_int_equal(state_host_decode(again, len, &d), -EBADMSG);
	memcpy(again, enc, len);
	again[HOST_OFF_N_SAS] = HOST_MAX_SAS + 1;
	assert_int_equal(state_host_decode(again, len, &d), -EBADMSG);
	memcpy(again, enc, len);
	again[HOST_OFF_REPLY_LEN] = 0x01;
	again[HOST_OFF_REPLY_LEN + 1] = 0x40;	/* 16385 */
	assert_int_equal(state_host_decode(again, len, &d), -EBADMSG);
	free(again);

	for (int iter = 0; iter < 20000; iter++) {
		uint8_t *m = malloc(len);

		assert_non_null(m);
		memcpy(m, enc, len);
		for (uint32_t k = 1 + rng_below(4); k--;)
			m[rng_below((uint32_t)len)] = (uint8_t)rng();
		if (state_host_decode(m, len, &d) == 0) {
			assert_int_equal(state_host_encode(&d, &again, &len2), 0);
			assert_int_equal(len2, len);
			assert_memory_equal(again, m, len);
			free(again);
			host_release(&d);
		}
		free(m);
	}
	free(enc);

	/* The encoder refuses what the decoder would refuse. */
	h.n_spis = HOST_MAX_RANGES + 1;
	assert_int_equal(state_host_encode(&h, &enc, &len), -EINVAL);
	h.n_spis = 0;
	free(h.reply);
	h.reply = NULL;			/* reply_len still set */
	assert_int_equal(state_host_encode(&h, &enc, &len), -EINVAL);
}

/* ---- the enrolment tokens file (tokens.c) ------------------------------ */

static uint64_t token_clock(void *ctx)
{
	(void)ctx;
	return 5000;
}

static struct gw *token_gw(void)
{
	struct gw_config cfg = { .global = 1, .port_lo = 1000, .port_hi = 2000,
				 .spi_lo = 4096, .spi_hi = 8191, .lease_secs = 60,
				 .max_lease_secs = 60, .port_quota = 10, .spi_quota = 64,
				 .max_hosts = 4 };
	struct gw *g;

	assert_int_equal(gw_new(&cfg, NULL, token_clock, NULL, &g), 0);
	return g;
}

static void test_tokens_file(void **state)
{
	struct fx *f = *state;
	struct gw *a = token_gw(), *b = token_gw(), *c = token_gw();
	struct gw_token t[3], n;
	char path[PATH_MAX + 16];
	struct stat st;
	FILE *fp;

	/* none yet: nothing, no error */
	assert_int_equal(tokens_load(f->root, a, f->err, sizeof(f->err)), 0);
	assert_int_equal(gw_token_count(a), 0);
	assert_int_equal(gw_token_issue(a, 1, 0, 0, &t[0]), 0);
	assert_int_equal(gw_token_issue(a, 0, 600, 120, &t[1]), 0);
	assert_int_equal(gw_token_issue(a, 5, 60, 0, &t[2]), 0);
	assert_int_equal(tokens_save(f->root, a), 0);
	snprintf(path, sizeof(path), "%s/%s", f->root, TOKENS_FILE);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	assert_int_equal(tokens_load(f->root, b, f->err, sizeof(f->err)), 0);
	assert_int_equal(gw_token_count(b), 3);
	for (int i = 0; i < 3; i++) {
		const struct gw_token *r = gw_token_at(b, (size_t)i);

		assert_int_equal(r->id, t[i].id);
		assert_memory_equal(r->secret, t[i].secret, GW_TOKEN_LEN);
		assert_int_equal(r->expires, t[i].expires);
		assert_int_equal(r->uses_left, t[i].uses_left);
		assert_int_equal(r->lease_hint, t[i].lease_hint);
	}
	assert_int_equal(gw_token_at(b, 1)->expires, 5600);
	/* a restored table goes on with new ids, never an old one again */
	assert_int_equal(gw_token_issue(b, 1, 0, 0, &n), 0);
	assert_true(n.id > t[2].id);

	/* damaged: refused, naming the file */
	assert_int_equal(truncate(path, 20), 0);
	assert_int_equal(tokens_load(f->root, c, f->err, sizeof(f->err)), -EBADMSG);
	assert_non_null(strstr(f->err, TOKENS_FILE));
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("not a tokens file at all", fp);
	fclose(fp);
	assert_int_equal(tokens_load(f->root, c, f->err, sizeof(f->err)), -EBADMSG);
	assert_int_equal(gw_token_count(c), 0);
	gw_free(a);
	gw_free(b);
	gw_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_helpers),
		cmocka_unit_test(test_decode_random),
		cmocka_unit_test_setup_teardown(test_empty_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_invalid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_failure_retry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compaction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interrupted_compaction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wants_compaction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_damage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_fuzz, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_damage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tokens_file, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
