/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Unit tests for the allocation log (ctl/gateway/alloc_log*.c): the lines a
 * gateway writes for grants, extensions, frees and expiries, rotation, a
 * reopen after a crash (torn last line), and `who` at a time across all of
 * it and across rotated files, for ports and SPIs. Each test has its own
 * mkdtemp directory, removed by the teardown.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <openssl/evp.h>
#include "gateway/alloc_log.h"
#include "host/host_cert.h"
#include "lib/parse.h"
#include "test_tmpdir.h"
#include "gw_fixture.h"

#define T0	1000000u	/* the fixture's clock at the start */
#define LEASE	60u		/* base_config()'s lease */

struct lfx {
	struct fx *gw;			/* a gateway under a fake clock */
	char root[64];
	char path[PATH_MAX];		/* root/alloc.log */
	struct alloc_log *l;
};

static int setup(void **state)
{
	struct lfx *x = calloc(1, sizeof(*x));
	void *gs;

	assert_non_null(x);
	assert_int_equal(fx_setup(&gs), 0);
	x->gw = gs;
	assert_int_equal(tmpdir_make(x->root, sizeof(x->root), "/tmp/xdnat-alog-XXXXXX",
				     x->path, sizeof(x->path), ALLOC_LOG_NAME), 0);
	assert_int_equal(alloc_log_open(x->path, 0, 10, &x->l), 0);
	assert_null(alloc_log_warning(x->l));		/* a new file is no repair */
	gw_set_alloc_log(x->gw->g, x->l);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct lfx *x = *state;
	void *gs = x->gw;

	fx_teardown(&gs);
	alloc_log_close(x->l);
	tmpdir_remove(x->root);
	free(x);
	return 0;
}

/* who G=198.51.100.1 value at t: 1 held (h filled), 0 nobody. */
static int who_at(struct lfx *x, bool spi, uint32_t value, uint64_t t,
		  struct alloc_holding *h)
{
	unsigned long skipped;
	int rc = alloc_log_who(x->path, G, spi, value, t, h, &skipped);

	assert_true(rc >= 0);
	assert_int_equal(skipped, 0);
	return rc;
}

static char *file_text(const char *path)
{
	size_t len;
	char *p = (char *)tmpdir_read_file(path, &len);

	assert_non_null(p);
	return p;
}

static unsigned int count_lines(const char *text)
{
	unsigned int n = 0;

	for (; *text; text++)
		n += *text == '\n';
	return n;
}

/* The n-th line (0-based) of path, parsed. */
static void nth_rec(const char *path, unsigned int n, struct alloc_rec *r)
{
	char *text = file_text(path), *p = text, *nl;

	for (unsigned int i = 0; i < n; i++) {
		p = strchr(p, '\n');
		assert_non_null(p);
		p++;
	}
	nl = strchr(p, '\n');
	assert_non_null(nl);
	assert_int_equal(alloc_rec_parse(p, (size_t)(nl - p), r), 0);
	free(text);
}

/* ---- the writer through the gateway ------------------------------------- */

static void test_lines_of_a_lease(void **state)
{
	struct lfx *x = *state;
	struct fx *f = x->gw;
	struct pap_session s = { 0 };
	struct pap_port_range pr;
	struct pap_spi_range sr;
	struct alloc_rec r;
	char *text;

	do_register(f, &s, HOST_A);
	assert_int_equal(ask_ports(f, &s, 64, NULL), 0);	/* T0: 20000-20063 */
	pr = f->m.ports[0];
	assert_int_equal(ask_spis(f, &s, 256), 0);
	sr = f->m.spis[0];
	f->now = T0 + 30;
	assert_int_equal(bare_req(f, &s, PAP_EXTEND), 0);	/* lease to T0+90 */
	f->now = T0 + 40;
	assert_int_equal(free_req(f, &s, &pr, NULL), 0);
	f->now = T0 + 90;
	assert_int_equal(gw_expire(f->g), 1);
	assert_int_equal(gw_commit(f->g), 0);

	/* REGISTER holds nothing: no line; then one line per block and event */
	text = file_text(x->path);
	assert_int_equal(count_lines(text), 6);
	assert_non_null(strstr(text, "{\"time\":\"1970-01-12T13:46:40Z\",\"event\":\"grant\","
				     "\"global\":\"198.51.100.1\",\"type\":\"port\",\"first\":20000,"
				     "\"last\":20063,\"client\":1,\"host\":\"10.0.0.11\","
				     "\"lease_end\":\"1970-01-12T13:47:40Z\"}\n"));
	free(text);
	nth_rec(x->path, 1, &r);
	assert_int_equal(r.event, ALOG_GRANT);
	assert_true(r.spi);
	assert_int_equal(r.first, sr.first);
	assert_int_equal(r.last, sr.last);
	nth_rec(x->path, 2, &r);
	assert_int_equal(r.event, ALOG_EXTEND);
	assert_int_equal(r.time, T0 + 30);
	assert_int_equal(r.lease_end, T0 + 90);		/* the new end */
	nth_rec(x->path, 4, &r);
	assert_int_equal(r.event, ALOG_FREE);
	assert_false(r.spi);
	nth_rec(x->path, 5, &r);
	assert_int_equal(r.event, ALOG_EXPIRE);
	assert_true(r.spi);
	assert_int_equal(r.client, s.client_id);
	assert_int_equal(r.host, HOST_A);
}

/* A port block that changes hands: who answers for each moment. */
static void test_who_across_grant_extend_free_expiry(void **state)
{
	struct lfx *x = *state;
	struct fx *f = x->gw;
	struct pap_session a = { 0 }, b = { 0 };
	struct alloc_holding h;
	struct pap_port_range pr;
	uint32_t spi;

	do_register(f, &a, HOST_A);
	assert_int_equal(ask_ports(f, &a, 64, NULL), 0);
	pr = f->m.ports[0];
	assert_int_equal(ask_spis(f, &a, 256), 0);
	spi = f->m.spis[0].first + 7;
	f->now = T0 + 30;
	assert_int_equal(bare_req(f, &a, PAP_EXTEND), 0);
	f->now = T0 + 40;
	assert_int_equal(free_req(f, &a, &pr, NULL), 0);
	f->now = T0 + 50;
	do_register(f, &b, HOST_B);
	assert_int_equal(ask_ports(f, &b, 16, NULL), 0);	/* A's old ports */
	assert_int_equal(f->m.ports[0].first, pr.first);
	f->now = T0 + 95;			/* A's lease ended at T0+90 */
	assert_int_equal(gw_expire(f->g), 1);
	assert_int_equal(gw_commit(f->g), 0);

	assert_int_equal(who_at(x, false, pr.first + 5, T0 - 1, &h), 0);
	assert_int_equal(who_at(x, false, pr.first + 5, T0, &h), 1);
	assert_int_equal(h.rec.client, a.client_id);
	assert_int_equal(h.rec.host, HOST_A);
	assert_int_equal(h.since, T0);
	assert_true(h.since_grant);
	assert_int_equal(h.end, T0 + 40);
	assert_int_equal(h.end_event, ALOG_FREE);
	assert_int_equal(who_at(x, false, pr.first + 5, T0 + 35, &h), 1);
	assert_int_equal(h.rec.lease_end, T0 + 90);	/* as extended */
	assert_int_equal(who_at(x, false, pr.first + 5, T0 + 40, &h), 0);
	assert_int_equal(who_at(x, false, pr.first + 5, T0 + 50, &h), 1);
	assert_int_equal(h.rec.client, b.client_id);
	assert_int_equal(h.rec.host, HOST_B);
	assert_int_equal(h.end, 0);			/* still held */
	/* past B's block, and past the whole range */
	assert_int_equal(who_at(x, false, pr.first + 20, T0 + 50, &h), 0);
	assert_int_equal(who_at(x, false, 30000, T0 + 10, &h), 0);

	/* SPIs: A's until its lease ran out at T0+90, logged at T0+95 */
	assert_int_equal(who_at(x, true, spi, T0 + 89, &h), 1);
	assert_int_equal(h.rec.client, a.client_id);
	assert_int_equal(h.end, T0 + 90);
	assert_int_equal(h.end_event, ALOG_EXPIRE);
	assert_int_equal(who_at(x, true, spi, T0 + 90, &h), 0);
	assert_int_equal(who_at(x, true, spi, T0 + 92, &h), 0);
	/* a port number is not an SPI */
	assert_int_equal(who_at(x, true, pr.first, T0 + 10, &h), 0);
}

/* A lease that ran out with no line for it (the daemon was down): nobody
 * holds the block after its last lease_end. Deregister ends it too. */
static void test_who_unrecorded_end_and_deregister(void **state)
{
	struct lfx *x = *state;
	struct fx *f = x->gw;
	struct pap_session a = { 0 }, b = { 0 };
	struct alloc_holding h;
	uint16_t pa, pb;

	do_register(f, &a, HOST_A);
	assert_int_equal(ask_ports(f, &a, 8, NULL), 0);
	pa = f->m.ports[0].first;
	do_register(f, &b, HOST_B);
	assert_int_equal(ask_ports(f, &b, 8, NULL), 0);
	pb = f->m.ports[0].first;
	f->now = T0 + 20;
	assert_int_equal(bare_req(f, &b, PAP_DEREGISTER), 0);

	assert_int_equal(who_at(x, false, pa, T0 + LEASE - 1, &h), 1);
	assert_int_equal(h.end, 0);
	assert_int_equal(who_at(x, false, pa, T0 + LEASE, &h), 0);
	assert_int_equal(who_at(x, false, pb, T0 + 19, &h), 1);
	assert_int_equal(h.rec.client, b.client_id);
	assert_int_equal(h.end_event, ALOG_DEREGISTER);
	assert_int_equal(who_at(x, false, pb, T0 + 20, &h), 0);
}

/*
 * What one host costs a day (docs/xdnatd.md quotes this): the host agent's
 * defaults (64 ports, 256 SPIs, lease 300 s renewed every 150 s, a new
 * certificate when a third of the last one's life is left), through the
 * gateway with its CA, 24 hours of the fake clock.
 */
static void test_size_per_host_day(void **state)
{
	struct lfx *x = *state;
	struct fx *f = x->gw;
	struct gw_config cfg = base_config();
	struct pap_session s = { 0 };
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	uint64_t start, issued = 0, until = 0;
	unsigned int lines, extends = 0, certs = 0;
	uint8_t *csr;
	size_t csr_len, bytes;
	char *text, err[256];

	snprintf(f->ca_dir, sizeof(f->ca_dir), "/tmp/xdnat-alogca-XXXXXX");
	assert_non_null(mkdtemp(f->ca_dir));
	if (ca_open(f->ca_dir, NULL, NULL, G, &f->ca, err, sizeof(err)))
		fail_msg("ca_open: %s", err);
	gw_set_ca(f->g, f->ca);
	cfg.lease_secs = 300;
	cfg.max_lease_secs = 3600;
	cfg.port_quota = 4096;
	cfg.spi_quota = 65536;
	gw_reconfigure(f->g, &cfg);
	assert_non_null(k);
	assert_int_equal(host_csr_der(k, &csr, &csr_len), 0);

	/* certificates are checked against the real clock: start there */
	start = f->now = (uint64_t)time(NULL);
	do_register(f, &s, HOST_A);
	assert_int_equal(ask_ports(f, &s, 64, NULL), 0);
	assert_int_equal(ask_spis(f, &s, 256), 0);
	for (uint64_t t = start; t <= start + 86400; t += 150) {
		struct pap_writer w;

		f->now = t;
		if (t > start) {
			assert_int_equal(bare_req(f, &s, PAP_EXTEND), 0);
			extends++;
		}
		if (until && (until - t) * 3 > until - issued)
			continue;
		begin(f, &s, &w, PAP_CERT);
		pap_put(&w, PAP_P_CSR, csr, (uint16_t)csr_len);
		assert_int_equal(exchange(f, &s, &w, PAP_CERT, HOST_A), 0);
		issued = t;
		until = gw_find_host(f->g, s.client_id)->cert_expires;
		certs++;
	}
	text = file_text(x->path);
	lines = count_lines(text);
	bytes = strlen(text);
	free(text);
	OPENSSL_free(csr);
	EVP_PKEY_free(k);
	/* two grants, two lines an extension, one a certificate */
	assert_int_equal(extends, 576);
	assert_int_equal(lines, 2 + 2 * extends + certs);
	print_message("one host for a day (lease 300 s renewed every 150 s, %u certificates): "
		      "%u lines, %zu bytes, %zu bytes a line\n", certs, lines, bytes,
		      bytes / lines);
	assert_true(bytes / lines <= 256);
}

/* ---- the writer alone: hosts by hand ------------------------------------ */

static struct host a_host(uint64_t lease_end)
{
	struct host h = {
		.client_id = 7, .addr = HOST_A, .global = G, .lease_expires = lease_end,
		.n_ports = 1, .n_spis = 1,
		.ports = { { .global = G, .first = 30000, .last = 30099 } },
		.spis = { { .global = G, .first = 0x10000, .last = 0x100ff } },
	};

	return h;
}

static void test_cert_serial_in_lines(void **state)
{
	struct lfx *x = *state;
	struct host h0 = a_host(200), h1;
	struct alloc_rec r;
	char *text;

	h1 = h0;
	memset(h1.cert_serial, 0xab, sizeof(h1.cert_serial));
	alloc_log_change(x->l, 100, &h0, &h1);		/* CERT: the port block only */
	alloc_log_gone(x->l, 150, &h1, ALOG_ADMIN_FREE);
	assert_int_equal(alloc_log_commit(x->l), 0);
	text = file_text(x->path);
	assert_int_equal(count_lines(text), 3);
	free(text);
	nth_rec(x->path, 0, &r);
	assert_int_equal(r.event, ALOG_CERT);
	assert_false(r.spi);
	assert_string_equal(r.serial, "abababababababababababababababab");
	nth_rec(x->path, 2, &r);
	assert_int_equal(r.event, ALOG_ADMIN_FREE);
	assert_true(r.spi);
	assert_string_equal(r.serial, "abababababababababababababababab");
	assert_int_equal(alloc_log_commit(x->l), 0);	/* nothing queued */
}

/* Rotation after every commit (size 1), keep 3: PATH stays, the newest
 * three rotated files remain, and who reads through them. */
static void test_rotation_and_who_across_files(void **state)
{
	struct lfx *x = *state;
	struct host none = { .client_id = 7, .addr = HOST_A, .global = G };
	struct host h = a_host(160), prev;
	struct alloc_holding w;
	char *text;

	alloc_log_set_limits(x->l, 1, 3);
	alloc_log_change(x->l, 100, &none, &h);		/* grant */
	assert_int_equal(alloc_log_commit(x->l), 0);
	for (uint64_t t = 110; t <= 120; t += 10) {
		prev = h;
		h.lease_expires = t + 60;
		alloc_log_change(x->l, t, &prev, &h);	/* extend */
		assert_int_equal(alloc_log_commit(x->l), 0);
	}
	/* alloc.log (empty), .1 = 120, .2 = 110, .3 = the grant */
	text = file_text(x->path);
	assert_int_equal(count_lines(text), 0);
	free(text);
	text = file_text(tmpdir_path(x->root, ALLOC_LOG_NAME ".3"));
	assert_non_null(strstr(text, "\"event\":\"grant\""));
	assert_int_equal(count_lines(text), 2);		/* the port and SPI blocks */
	free(text);
	assert_int_equal(who_at(x, false, 30050, 105, &w), 1);
	assert_true(w.since_grant);
	assert_int_equal(w.since, 100);
	assert_int_equal(w.rec.lease_end, 160);	/* its last line up to then */
	assert_int_equal(who_at(x, true, 0x10080, 125, &w), 1);
	assert_int_equal(w.rec.lease_end, 180);

	/* one more: the grant's file goes, nothing past .3 stays */
	prev = h;
	h.lease_expires = 190;
	alloc_log_change(x->l, 130, &prev, &h);
	assert_int_equal(alloc_log_commit(x->l), 0);
	assert_int_equal(access(tmpdir_path(x->root, ALLOC_LOG_NAME ".4"), F_OK), -1);
	assert_int_equal(access(tmpdir_path(x->root, ALLOC_LOG_NAME ".3"), F_OK), 0);
	assert_int_equal(who_at(x, false, 30050, 125, &w), 1);
	assert_false(w.since_grant);			/* its grant was rotated away */
	assert_int_equal(w.since, 110);
	assert_int_equal(who_at(x, false, 30050, 105, &w), 0);	/* before the log */

	/* a free in the newest file ends it */
	alloc_log_set_limits(x->l, 0, 3);
	prev = h;
	h.n_ports = 0;
	alloc_log_change(x->l, 140, &prev, &h);
	assert_int_equal(alloc_log_commit(x->l), 0);
	assert_int_equal(who_at(x, false, 30050, 135, &w), 1);
	assert_int_equal(w.end, 140);
	assert_int_equal(w.end_event, ALOG_FREE);
	assert_int_equal(who_at(x, false, 30050, 140, &w), 0);
	assert_int_equal(who_at(x, true, 0x10080, 140, &w), 1);	/* the SPIs stay */
}

static void append_raw(const char *path, const char *s)
{
	FILE *fp = fopen(path, "a");

	assert_non_null(fp);
	assert_int_equal(fputs(s, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

/* A crash mid-write leaves a torn last line: the reader skips it, a reopen
 * cuts it, and what was committed before is all still there. */
static void test_reopen_after_a_torn_line(void **state)
{
	struct lfx *x = *state;
	struct host none = { .client_id = 7, .addr = HOST_A, .global = G };
	struct host h = a_host(160);
	struct alloc_holding w;
	unsigned long skipped;
	size_t before, after;
	char *text;
	FILE *out;

	alloc_log_change(x->l, 100, &none, &h);
	assert_int_equal(alloc_log_commit(x->l), 0);
	alloc_log_close(x->l);
	x->l = NULL;
	text = file_text(x->path);
	before = strlen(text);
	free(text);
	append_raw(x->path, "{\"time\":\"1970-01-01T00:02:30Z\",\"event\":\"fr");

	assert_int_equal(alloc_log_who(x->path, G, false, 30000, 120, &w, &skipped), 1);
	assert_int_equal(skipped, 1);
	assert_int_equal(w.rec.client, 7);
	out = fopen("/dev/null", "w");
	assert_int_equal(alloc_log_export(x->path, 0, UINT64_MAX, out, &skipped), 0);
	fclose(out);
	assert_int_equal(skipped, 1);

	/* reopen: cut back to the last whole line, then append after it */
	assert_int_equal(alloc_log_open(x->path, 0, 10, &x->l), 0);
	assert_non_null(alloc_log_warning(x->l));
	text = file_text(x->path);
	assert_int_equal(strlen(text), before);
	free(text);
	alloc_log_gone(x->l, 150, &h, ALOG_EXPIRE);
	assert_int_equal(alloc_log_commit(x->l), 0);
	text = file_text(x->path);
	after = strlen(text);
	assert_true(after > before);
	assert_int_equal(count_lines(text), 4);
	free(text);
	assert_int_equal(who_at(x, false, 30000, 149, &w), 1);
	assert_int_equal(w.end_event, ALOG_EXPIRE);

	/* a file torn inside its only line: cut to nothing */
	alloc_log_close(x->l);
	x->l = NULL;
	assert_int_equal(truncate(x->path, 0), 0);
	append_raw(x->path, "{\"time\"");
	assert_int_equal(alloc_log_open(x->path, 0, 10, &x->l), 0);
	assert_non_null(alloc_log_warning(x->l));
	text = file_text(x->path);
	assert_int_equal(strlen(text), 0);
	free(text);
	/* and a second writer is refused */
	{
		struct alloc_log *other;

		assert_int_equal(alloc_log_open(x->path, 0, 10, &other), -EBUSY);
	}
}

/* A write that fails (here: over RLIMIT_FSIZE, as a full disk) fails the
 * commit, so no reply may leave; the file is cut back to its last whole line
 * and the next commit writes the kept lines once. */
static void test_failed_write_keeps_the_queue(void **state)
{
	struct lfx *x = *state;
	struct host none = { .client_id = 7, .addr = HOST_A, .global = G };
	struct host h = a_host(160), prev;
	struct rlimit old, lim;
	size_t before;
	char *text;
	int rc;

	alloc_log_change(x->l, 100, &none, &h);
	assert_int_equal(alloc_log_commit(x->l), 0);
	text = file_text(x->path);
	before = strlen(text);
	free(text);

	prev = h;
	h.lease_expires = 250;
	alloc_log_change(x->l, 190, &prev, &h);		/* two lines, ~400 bytes */
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = before + 100;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	rc = alloc_log_commit(x->l);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(rc, -EFBIG);
	text = file_text(x->path);
	assert_int_equal(strlen(text), before);		/* no fragment left */
	free(text);

	assert_int_equal(alloc_log_commit(x->l), 0);	/* the kept lines, once */
	text = file_text(x->path);
	assert_int_equal(count_lines(text), 4);
	free(text);
}

/* Lines that are not ours, or half ours, are refused whole. */
static void test_parse_refuses(void **state)
{
	static const char *const bad[] = {
		"",
		"[]",
		"{}",
		"{\"time\":\"1970-01-01T00:01:40Z\",\"event\":\"grant\",\"global\":\"198.51.100.1\","
		"\"type\":\"port\",\"first\":20000,\"last\":70000,\"client\":1,\"host\":\"10.0.0.11\"}",
		"{\"time\":\"1970-01-01T00:01:40Z\",\"event\":\"steal\",\"global\":\"198.51.100.1\","
		"\"type\":\"port\",\"first\":20000,\"last\":20001,\"client\":1,\"host\":\"10.0.0.11\"}",
		"{\"time\":\"yesterday\",\"event\":\"grant\",\"global\":\"198.51.100.1\","
		"\"type\":\"port\",\"first\":20000,\"last\":20001,\"client\":1,\"host\":\"10.0.0.11\"}",
		"{\"time\":\"1970-01-01T00:01:40Z\",\"event\":\"grant\",\"global\":\"198.51.100.1\","
		"\"type\":\"port\",\"first\":20000,\"last\":20001,\"client\":1,\"host\":\"10.0.0.11\"} x",
	};
	const char *good = "{\"time\":\"1970-01-01T00:01:40Z\",\"event\":\"grant\","
			   "\"global\":\"198.51.100.1\",\"type\":\"port\",\"first\":20000,"
			   "\"last\":20001,\"client\":1,\"host\":\"10.0.0.11\"}";
	struct alloc_rec r;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(alloc_rec_parse(bad[i], strlen(bad[i]), &r), -EBADMSG);
	assert_int_equal(alloc_rec_parse(good, strlen(good), &r), 0);
	assert_int_equal(r.time, 100);
	assert_int_equal(r.lease_end, 0);
}

/* ---- xdnatctl who / log export ------------------------------------------ */

/* Run alloc_log_cmd on words (NULL-terminated); its output in out. */
static int cmd(struct lfx *x, char *out, size_t cap, ...)
{
	char *argv[16], *buf = NULL;
	size_t len = 0;
	int argc = 0, rc;
	FILE *o = open_memstream(&buf, &len), *e = fopen("/dev/null", "w");
	va_list ap;

	va_start(ap, cap);
	while ((argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	rc = alloc_log_cmd(argc, argv, x->path, o, e);
	fclose(o);
	fclose(e);
	snprintf(out, cap, "%s", buf ? buf : "");
	free(buf);
	return rc;
}

static void test_commands(void **state)
{
	struct lfx *x = *state;
	struct host none = { .client_id = 7, .addr = HOST_A, .global = G };
	struct host h = a_host(160), prev;
	char out[2048];

	alloc_log_change(x->l, 100, &none, &h);
	prev = h;
	h.n_ports = 0;
	alloc_log_change(x->l, 130, &prev, &h);
	assert_int_equal(alloc_log_commit(x->l), 0);

	assert_int_equal(cmd(x, out, sizeof(out), "who", "198.51.100.1", "30001", "--at",
			     "1970-01-01T00:02:00Z", NULL), 0);
	assert_non_null(strstr(out, "client 7, host 10.0.0.11, ports 30000-30099, since "
				    "1970-01-01T00:01:40Z, until 1970-01-01T00:02:10Z (free)"));
	assert_int_equal(cmd(x, out, sizeof(out), "who", "198.51.100.1", "30001", "--at",
			     "@130", "--json", NULL), 0);
	assert_non_null(strstr(out, "\"held\":false"));
	assert_int_equal(cmd(x, out, sizeof(out), "--json", "who", "198.51.100.1", "--spi",
			     "0x10001", "--at", "1970-01-01T01:02:00+01:00", NULL), 0);
	assert_non_null(strstr(out, "\"held\":true,\"client\":7,\"host\":\"10.0.0.11\""));
	assert_non_null(strstr(out, "\"type\":\"spi\",\"value\":65537"));

	assert_int_equal(cmd(x, out, sizeof(out), "log", "export", NULL), 0);
	assert_int_equal(count_lines(out), 3);
	assert_int_equal(cmd(x, out, sizeof(out), "log", "export", "--since", "@101", NULL), 0);
	assert_int_equal(count_lines(out), 1);
	assert_non_null(strstr(out, "\"event\":\"free\""));
	assert_int_equal(cmd(x, out, sizeof(out), "log", "export", "--until", "@100", NULL), 0);
	assert_int_equal(count_lines(out), 2);

	/* usage */
	assert_int_equal(cmd(x, out, sizeof(out), "who", "198.51.100.1", NULL), 2);
	assert_int_equal(cmd(x, out, sizeof(out), "who", "nowhere", "1", NULL), 2);
	assert_int_equal(cmd(x, out, sizeof(out), "who", "198.51.100.1", "70000", NULL), 2);
	assert_int_equal(cmd(x, out, sizeof(out), "who", "198.51.100.1", "1", "--at", "soon",
			     NULL), 2);
	assert_int_equal(cmd(x, out, sizeof(out), "who", "198.51.100.1", "1", "--since", "@1",
			     NULL), 2);
	assert_int_equal(cmd(x, out, sizeof(out), "log", "import", NULL), 2);
	assert_int_equal(cmd(x, out, sizeof(out), "log", "export", "--alloc-log",
			     "/nonexistent/alloc.log", NULL), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lines_of_a_lease, setup, teardown),
		cmocka_unit_test_setup_teardown(test_who_across_grant_extend_free_expiry, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_who_unrecorded_end_and_deregister, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_size_per_host_day, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cert_serial_in_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation_and_who_across_files, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reopen_after_a_torn_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_write_keeps_the_queue, setup, teardown),
		cmocka_unit_test(test_parse_refuses),
		cmocka_unit_test_setup_teardown(test_commands, setup, teardown),
	};

	return cmocka_run_group_tests_name("alloc_log", tests, NULL, NULL);
}
