/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A pool of global addresses inside the gateway (issue 15), driven through
 * gw_handle() as test_gateway.c does: a pool of 3 and 5 hosts. Each host
 * keeps one G for all its ports (paired, RFC 4787 REQ-2), chosen by the
 * gateway (the G with the most free ports) unless it asks for one; ports
 * are per G (two hosts on different G hold the same numbers), SPIs unique
 * across the pool; the certificate names the host's own G; the state keeps
 * the pool and each host's G, and an old (version 1) state loads as a pool
 * of one. xdnatd itself refuses a pool of more than one (test_config.c)
 * until the data plane follows; only a harness like this builds one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <zlib.h>
#include "gateway/ca.h"
#include "gateway/gateway.h"
#include "gateway/metrics.h"
#include "gateway/state_record.h"
#include "gateway/views.h"
#include "host/host_cert.h"
#include "pap/cert_profile.h"
#include "xdnat.h"
#include "gw_fixture.h"

#define G2	0x026433c6u	/* 198.51.100.2 */
#define G3	0x036433c6u	/* 198.51.100.3 */
#define OUTSIDE	0x096433c6u	/* 198.51.100.9: not in the pool */
#define N_HOSTS	5

static uint32_t host_addr(unsigned int i)
{
	return HOST_A + (i << 24);	/* 10.0.0.11 .. 10.0.0.15 */
}

static struct gw_config pool_config(void)
{
	struct gw_config c = base_config();

	c.pool[0] = G;
	c.pool[1] = G2;
	c.pool[2] = G3;
	c.n_pool = 3;
	return c;
}

static int pool_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct gw_config cfg = pool_config();

	log_setup("test", LOG_LVL_ERR, 0);
	f->now = (uint64_t)time(NULL);
	fx_start(f, &cfg);
	*state = f;
	return 0;
}

/* REGISTER from src, asking for G want (0: the gateway chooses); the
 * COOKIE round as a client makes it. The reply's G, or 0 on an error
 * (the code in *code). */
static uint32_t register_on(struct fx *f, struct pap_session *s, uint32_t src,
			    uint32_t want, int *code)
{
	struct pap_writer w;
	int rc;

	s->local_addr = src;
	s->has_cookie = false;
	for (int round = 0; round < 2; round++) {
		begin(f, s, &w, PAP_REGISTER);
		if (want)
			pap_put_addr(&w, PAP_P_GLOBAL_ADDR, want);
		rc = exchange_once(f, s, &w, PAP_REGISTER, src);
		if (rc != PAP_E_COOKIE)
			break;
	}
	*code = rc;
	if (rc)
		return 0;
	assert_int_equal(f->m.n_globals, 1);
	return f->m.globals[0];
}

static uint32_t reg(struct fx *f, struct pap_session *s, uint32_t src, uint32_t want)
{
	int code;
	uint32_t g = register_on(f, s, src, want, &code);

	assert_int_equal(code, 0);
	return g;
}

/* A PORT request for count ports, naming G when asked (0: none). */
static int ports_on(struct fx *f, struct pap_session *s, uint32_t count, uint32_t global)
{
	struct pap_writer w;

	begin(f, s, &w, PAP_PORT);
	pap_put_u32(&w, PAP_P_COUNT, count);
	if (global)
		pap_put_addr(&w, PAP_P_GLOBAL_ADDR, global);
	return exchange(f, s, &w, PAP_PORT, HOST_A);
}

static bool overlap(uint32_t a1, uint32_t a2, uint32_t b1, uint32_t b2)
{
	return a1 <= b2 && b1 <= a2;
}

/* The five hosts of the pool, registered and holding ports as in the
 * choice test below; g[i] is host i's G. */
static void five_hosts(struct fx *f, struct pap_session s[N_HOSTS], uint32_t g[N_HOSTS])
{
	static const uint32_t take[3] = { 200, 100, 50 };

	memset(s, 0, N_HOSTS * sizeof(*s));
	/* All equal: the G fewest hosts hold, in pool order. */
	g[0] = reg(f, &s[0], host_addr(0), 0);
	g[1] = reg(f, &s[1], host_addr(1), 0);
	g[2] = reg(f, &s[2], host_addr(2), 0);
	assert_int_equal(g[0], G);
	assert_int_equal(g[1], G2);
	assert_int_equal(g[2], G3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(ports_on(f, &s[i], take[i], 0), 0);
		assert_int_equal(f->m.ports[0].global, g[i]);
		assert_int_equal(f->m.ports[0].first, 20000);	/* per G: the same numbers */
	}
	/* G3 has the most free ports now (950 > 900 > 800). */
	assert_int_equal(gw_pool_ports_free(f->g, 0), 800);
	assert_int_equal(gw_pool_ports_free(f->g, 1), 900);
	assert_int_equal(gw_pool_ports_free(f->g, 2), 950);
	g[3] = reg(f, &s[3], host_addr(3), 0);
	assert_int_equal(g[3], G3);
	/* A host asking for one gets it, the fullest G as well. */
	g[4] = reg(f, &s[4], host_addr(4), G);
	assert_int_equal(g[4], G);
	assert_int_equal(ports_on(f, &s[3], 10, 0), 0);
	assert_int_equal(ports_on(f, &s[4], 10, G), 0);
}

static void test_pool_choice_and_pairing(void **state)
{
	struct fx *f = *state;
	struct pap_session s[N_HOSTS];
	uint32_t g[N_HOSTS];
	int code;

	five_hosts(f, s, g);
	assert_int_equal(gw_pool_count(f->g), 3);
	assert_int_equal(gw_pool_hosts(f->g, 0), 2);
	assert_int_equal(gw_pool_hosts(f->g, 1), 1);
	assert_int_equal(gw_pool_hosts(f->g, 2), 2);
	assert_int_equal(gw_ports_free(f->g), 3000 - 370);

	/* Every host: more blocks, all on its own G, QUERY names that G. */
	for (int i = 0; i < N_HOSTS; i++) {
		const struct host *h;

		assert_int_equal(ports_on(f, &s[i], 5, 0), 0);
		assert_int_equal(f->m.ports[0].global, g[i]);
		assert_int_equal(bare_req(f, &s[i], PAP_QUERY), 0);
		assert_int_equal(f->m.n_globals, 1);
		assert_int_equal(f->m.globals[0], g[i]);
		h = gw_find_host(f->g, s[i].client_id);
		assert_int_equal(h->global, g[i]);
		for (unsigned int k = 0; k < h->n_ports; k++)
			assert_int_equal(h->ports[k].global, g[i]);
	}
	/* Host 1 (on G) and host 2 (on G2) hold the same port numbers. */
	assert_int_equal(gw_find_host(f->g, s[0].client_id)->ports[0].first,
			 gw_find_host(f->g, s[1].client_id)->ports[0].first);

	/* Paired: another G of the pool is not the host's to take ports of. */
	assert_int_equal(ports_on(f, &s[0], 5, G2), PAP_E_NO_RESOURCES);
	/* An address outside the pool cannot be asked for. */
	{
		struct pap_session t = { 0 };

		assert_int_equal(register_on(f, &t, HOST_B + (9u << 24), OUTSIDE, &code), 0);
		assert_int_equal(code, PAP_E_NO_RESOURCES);
	}
	/* Every G of the pool is the gateway's own: no peer to validate. */
	assert_int_equal(ask_spis(f, &s[0], 256), 0);
	assert_int_equal(peer_req(f, &s[0], PAP_EXT_VALIDATE, G3, NULL), PAP_E_BAD_VALUE);
}

/* Exhaustion and partial grants per address: a G that runs out grants what
 * it has left, then nothing, while the rest of the pool still has ports;
 * paired, its hosts do not spill onto another G, and a new host is placed
 * on an address that still has ports. */
static void test_pool_exhaustion_partial(void **state)
{
	struct fx *f = *state;
	struct pap_session s[6];
	struct pap_port_range r[4];
	uint32_t got = 0;

	memset(s, 0, sizeof(s));
	for (int i = 0; i < 4; i++) {
		uint32_t n;

		assert_int_equal(reg(f, &s[i], host_addr(i), G), G);
		assert_int_equal(ports_on(f, &s[i], 256, 0), 0);
		assert_int_equal(f->m.ports[0].global, G);
		r[i] = f->m.ports[0];
		n = (uint32_t)f->m.ports[0].last - f->m.ports[0].first + 1;
		/* the first three get their whole quota, the fourth the rest */
		assert_int_equal(n, i < 3 ? 256 : 1000 - 3 * 256);
		got += n;
	}
	assert_int_equal(got, 1000);
	assert_int_equal(gw_pool_ports_free(f->g, 0), 0);
	assert_int_equal(gw_pool_ports_free(f->g, 1), 1000);
	assert_int_equal(gw_pool_ports_free(f->g, 2), 1000);

	/* G is empty: its hosts get nothing more, G2's ports are not theirs. */
	assert_int_equal(ports_on(f, &s[3], 10, 0), PAP_E_NO_RESOURCES);
	assert_int_equal(ports_on(f, &s[3], 10, G2), PAP_E_NO_RESOURCES);
	assert_int_equal(gw_pool_ports_free(f->g, 1), 1000);

	/* A new host is placed where ports are left, not on the full G. */
	assert_int_not_equal(reg(f, &s[4], host_addr(4), 0), G);
	assert_int_equal(ports_on(f, &s[4], 100, 0), 0);
	assert_int_not_equal(f->m.ports[0].global, G);
	assert_int_equal(gw_ports_free(f->g), 3000 - 1000 - 100);

	/* A block freed on G is G's again: the next grant on G takes it. */
	assert_int_equal(free_req(f, &s[0], &r[0], NULL), 0);
	assert_int_equal(gw_pool_ports_free(f->g, 0), 256);
	assert_int_equal(ports_on(f, &s[3], 10, 0), 0);
	assert_int_equal(f->m.ports[0].global, G);
}

static void test_pool_spis_unique(void **state)
{
	struct fx *f = *state;
	struct pap_session s[N_HOSTS];
	struct pap_spi_range got[N_HOSTS * 2];
	uint32_t g[N_HOSTS];
	unsigned int n = 0;

	five_hosts(f, s, g);
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < N_HOSTS; i++) {
			assert_int_equal(ask_spis(f, &s[i], 256), 0);
			assert_int_equal(f->m.spis[0].global, g[i]);
			got[n++] = f->m.spis[0];
		}
	/* One SPI space for the pool: the SA table's key needs no G. */
	for (unsigned int i = 0; i < n; i++)
		for (unsigned int j = i + 1; j < n; j++)
			assert_false(overlap(got[i].first, got[i].last, got[j].first,
					     got[j].last));
	assert_int_equal(gw_spis_free(f->g), 0xffffffffull - 4096 + 1 - 256 * n);
}

static void test_pool_certs_name_own_global(void **state)
{
	struct fx *f = *state;
	struct pap_session s[N_HOSTS];
	uint32_t g[N_HOSTS];
	char err[256];

	snprintf(f->ca_dir, sizeof(f->ca_dir), "/tmp/xdnat-poolca-XXXXXX");
	assert_non_null(mkdtemp(f->ca_dir));
	if (ca_open(f->ca_dir, NULL, NULL, G, &f->ca, err, sizeof(err)))
		fail_msg("ca_open: %s", err);
	gw_set_ca(f->g, f->ca);
	five_hosts(f, s, g);

	for (int i = 0; i < N_HOSTS; i++) {
		EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		struct pap_port_range ports[HOST_MAX_RANGES];
		unsigned int np = HOST_MAX_RANGES;
		const unsigned char *p;
		struct pap_writer w;
		uint8_t *csr = NULL;
		size_t len;
		uint32_t cg = 0;
		X509 *x;

		assert_non_null(k);
		assert_int_equal(host_csr_der(k, &csr, &len), 0);
		begin(f, &s[i], &w, PAP_CERT);
		pap_put(&w, PAP_P_CSR, csr, (uint16_t)len);
		assert_int_equal(exchange(f, &s[i], &w, PAP_CERT, HOST_A), 0);
		assert_int_equal(cert_read_ports(f->m.certs[0], f->m.cert_lens[0], &cg, ports,
						 &np), 0);
		assert_int_equal(cg, g[i]);
		assert_int_equal(np, gw_find_host(f->g, s[i].client_id)->n_ports);
		p = f->m.certs[0];
		x = d2i_X509(NULL, &p, (long)f->m.cert_lens[0]);
		assert_non_null(x);
		assert_int_equal(X509_check_ip(x, (const unsigned char *)&g[i], 4, 0), 1);
		assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(x), k), 1);
		X509_free(x);
		OPENSSL_free(csr);
		EVP_PKEY_free(k);
	}
}

static void open_store(struct fx *f, struct state_image *img)
{
	char err[256];

	assert_int_equal(state_open(f->dir, &f->store), 0);
	if (state_load(f->store, img, err, sizeof(err)))
		fail_msg("state_load: %s", err);
}

static void test_pool_state_restart(void **state)
{
	struct fx *f = *state;
	struct gw_config cfg = pool_config(), small = base_config();
	struct state_image img = { 0 };
	struct pap_session s[N_HOSTS];
	uint32_t g[N_HOSTS], free_before[3];
	char err[256];

	gw_free(f->g);
	snprintf(f->dir, sizeof(f->dir), "/tmp/xdnat-pooltest-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	open_store(f, &img);
	state_image_free(&img);
	fx_start(f, &cfg);
	five_hosts(f, s, g);
	for (int i = 0; i < 3; i++)
		free_before[i] = gw_pool_ports_free(f->g, (size_t)i);

	/* A restart from the journal, then one from a compacted snapshot. */
	for (int round = 0; round < 2; round++) {
		if (round)
			assert_int_equal(gw_compact(f->g, true), 0);
		gw_free(f->g);
		state_close(f->store);
		open_store(f, &img);
		assert_int_equal(img.meta.n_pool, 3);
		assert_int_equal(img.meta.pool[0], G);
		assert_int_equal(img.meta.pool[1], G2);
		assert_int_equal(img.meta.pool[2], G3);
		fx_start(f, &cfg);
		assert_int_equal(gw_restore(f->g, &img, err, sizeof(err)), 0);
		state_image_free(&img);
		assert_int_equal(gw_host_count(f->g), N_HOSTS);
		for (int i = 0; i < N_HOSTS; i++)
			assert_int_equal(gw_find_host(f->g, s[i].client_id)->global, g[i]);
		for (int i = 0; i < 3; i++)
			assert_int_equal(gw_pool_ports_free(f->g, (size_t)i), free_before[i]);
		assert_int_equal(gw_pool_hosts(f->g, 2), 2);
	}
	/* The hosts carry on, on their own G. */
	assert_int_equal(ports_on(f, &s[1], 5, 0), 0);
	assert_int_equal(f->m.ports[0].global, G2);

	/* A smaller pool with holders of what it lost: refused, holders named. */
	gw_free(f->g);
	state_close(f->store);
	open_store(f, &img);
	fx_start(f, &small);
	assert_int_equal(gw_restore(f->g, &img, err, sizeof(err)), -EINVAL);
	state_image_free(&img);
	assert_non_null(strstr(err, "not in the pool"));
	{
		char want[64];

		snprintf(want, sizeof(want), "host %u on 198.51.100.2", s[1].client_id);
		assert_non_null(strstr(err, want));
		snprintf(want, sizeof(want), "host %u on 198.51.100.3", s[3].client_id);
		assert_non_null(strstr(err, want));
		snprintf(want, sizeof(want), "host %u on", s[0].client_id);
		assert_null(strstr(err, want));
	}
}

/* ---- an old state directory: version 1 snapshot and META records ---- */

static void le(uint8_t *p, uint64_t v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void write_bytes(const char *dir, const char *name, const uint8_t *p, size_t len)
{
	char path[128];
	FILE *o;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	o = fopen(path, "w");
	assert_non_null(o);
	assert_int_equal(fwrite(p, 1, len, o), len);
	assert_int_equal(fclose(o), 0);
}

static void unlink_jnl(const char *dir)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/state.journal", dir);
	unlink(path);
}

/* state.snap of this version (generation 1) with these meta bytes and h. */
static void write_snap(const char *dir, uint32_t version, const uint8_t *meta, size_t mlen,
		       const struct host *h)
{
	uint8_t snap[2048], *rec;
	size_t n, rlen;

	memcpy(snap, "XDNATSNP", 8);
	n = 8;
	le(snap + n, version, 4), n += 4;
	le(snap + n, 1, 8), n += 8;
	memcpy(snap + n, meta, mlen), n += mlen;
	le(snap + n, 1, 4), n += 4;
	assert_int_equal(state_host_encode(h, &rec, &rlen), 0);
	assert_true(n + 4 + rlen + 32 <= sizeof(snap));
	le(snap + n, rlen, 4), n += 4;
	memcpy(snap + n, rec, rlen), n += rlen;
	free(rec);
	assert_int_equal(EVP_Digest(snap, n, snap + n, NULL, EVP_sha256(), NULL), 1);
	write_bytes(dir, "state.snap", snap, n + 32);
}

/* state.journal of generation 1 holding one record of kind. */
static void write_jnl(const char *dir, uint8_t kind, const uint8_t *pl, uint32_t plen)
{
	uint8_t jnl[256];
	size_t j;

	assert_true(24 + 9 + plen <= sizeof(jnl));
	memcpy(jnl, "XDNATJNL", 8);
	j = 8;
	le(jnl + j, 1, 4), j += 4;
	le(jnl + j, 1, 8), j += 8;
	le(jnl + j, crc32(0, jnl, 20), 4), j += 4;
	le(jnl + j, plen, 4), j += 4;
	jnl[j] = kind;
	memcpy(jnl + j + 1, pl, plen);
	le(jnl + j + 1 + plen, crc32(0, jnl + j, 1 + plen), 4);
	write_bytes(dir, "state.journal", jnl, j + 1 + plen + 4);
}

/* What an xdnatd before the pool wrote: state.snap version 1 (next id 3,
 * G, host h) and a journal with a version 1 META (next id 5, G). */
static void write_v1_state(const char *dir, const struct host *h)
{
	uint8_t meta[8];

	le(meta, 3, 4);
	memcpy(meta + 4, &(uint32_t){ G }, 4);
	write_snap(dir, 1, meta, sizeof(meta), h);
	le(meta, 5, 4);
	write_jnl(dir, 3, meta, sizeof(meta));
}

static void test_old_state_is_pool_of_one(void **state)
{
	struct fx *f = *state;
	struct gw_config one = base_config(), cfg = pool_config();
	struct state_image img = { 0 };
	struct host h = {
		.client_id = 2, .addr = HOST_A, .global = G, .lease_expires = f->now + 60,
		.lease_secs = 60, .n_ports = 1,
		.ports = { { .global = G, .first = 20000, .last = 20099 } },
	};
	char err[256];

	gw_free(f->g);
	snprintf(f->dir, sizeof(f->dir), "/tmp/xdnat-poolold-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	write_v1_state(f->dir, &h);
	open_store(f, &img);
	assert_int_equal(img.meta.next_client_id, 5);
	assert_int_equal(img.meta.n_pool, 1);
	assert_int_equal(img.meta.pool[0], G);
	assert_int_equal(img.meta.global, G);
	assert_int_equal(img.n_hosts, 1);

	/* Into the gateway of one address it was written for... */
	fx_start(f, &one);
	assert_int_equal(gw_restore(f->g, &img, err, sizeof(err)), 0);
	assert_int_equal(gw_find_host(f->g, 2)->global, G);
	assert_int_equal(gw_pool_ports_free(f->g, 0), 900);
	/* ...and into a pool that still has its address. */
	gw_free(f->g);
	fx_start(f, &cfg);
	assert_int_equal(gw_restore(f->g, &img, err, sizeof(err)), 0);
	assert_int_equal(gw_pool_ports_free(f->g, 0), 900);
	assert_int_equal(gw_pool_ports_free(f->g, 1), 1000);
	state_image_free(&img);

	/* The next write is version 2: it carries the pool. */
	assert_int_equal(gw_compact(f->g, true), 0);
	gw_free(f->g);
	state_close(f->store);
	open_store(f, &img);
	assert_int_equal(img.meta.n_pool, 3);
	assert_int_equal(img.meta.pool[1], G2);
	assert_int_equal(img.meta.next_client_id, 5);
	state_image_free(&img);
	fx_start(f, &cfg);
}

/* A damaged pool in the state stops the load, naming the file. */
static void test_pool_meta_damage(void **state)
{
	struct fx *f = *state;
	struct host h = { .client_id = 2, .addr = HOST_A, .global = G };
	struct state_image img = { 0 };
	uint8_t meta[4 + 1 + 4 * 17] = { 9, 0, 0, 0 };
	char err[256];

	(void)f;
	snprintf(f->dir, sizeof(f->dir), "/tmp/xdnat-poolbad-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	for (int k = 0; k < 4; k++) {
		/* k 0: a pool of 0, 1: of 17, 2: cut short, in the snapshot; 3: the
		 * journal's META_POOL a pool of 0 */
		size_t mlen = k == 1 ? sizeof(meta) : 4 + 1 + 4;

		meta[4] = k == 1 ? 17 : k == 2 ? 3 : 0;
		if (k < 3) {
			write_snap(f->dir, 2, meta, mlen, &h);
			unlink_jnl(f->dir);
		} else {
			meta[4] = 1;
			memcpy(meta + 5, &(uint32_t){ G }, 4);
			write_snap(f->dir, 2, meta, mlen, &h);
			meta[4] = 0;
			write_jnl(f->dir, 4, meta, (uint32_t)mlen);
		}
		assert_int_equal(state_open(f->dir, &f->store), 0);
		assert_int_equal(state_load(f->store, &img, err, sizeof(err)), -EBADMSG);
		assert_non_null(strstr(err, k < 3 ? "state.snap" : "state.journal"));
		state_image_free(&img);
		state_close(f->store);
		f->store = NULL;
	}
	/* A good pool of two in both loads. */
	meta[4] = 2;
	memcpy(meta + 5, &(uint32_t){ G }, 4);
	memcpy(meta + 9, &(uint32_t){ G3 }, 4);
	write_snap(f->dir, 2, meta, 4 + 1 + 8, &h);
	write_jnl(f->dir, 4, meta, 4 + 1 + 8);
	assert_int_equal(state_open(f->dir, &f->store), 0);
	if (state_load(f->store, &img, err, sizeof(err)))
		fail_msg("state_load: %s", err);
	assert_int_equal(img.meta.n_pool, 2);
	assert_int_equal(img.meta.pool[1], G3);
	assert_int_equal(img.meta.next_client_id, 9);
	state_image_free(&img);
}

static void test_pool_views(void **state)
{
	struct fx *f = *state;
	struct pap_session s[N_HOSTS];
	uint32_t g[N_HOSTS];
	char *text = NULL;
	size_t len;
	FILE *o;

	five_hosts(f, s, g);
	o = open_memstream(&text, &len);
	assert_int_equal(view_hosts(o, f->g, G2, false), 0);
	fclose(o);
	assert_non_null(strstr(text, "10.0.0.12"));
	assert_null(strstr(text, "10.0.0.11"));
	assert_non_null(strstr(text, "1 host(s); 900 ports and"));
	assert_non_null(strstr(text, "SPIs of 198.51.100.2 free"));
	free(text);

	o = open_memstream(&text, &len);
	assert_int_equal(view_hosts(o, f->g, 0, false), 0);
	fclose(o);
	assert_non_null(strstr(text, "GLOBAL"));
	assert_non_null(strstr(text, "198.51.100.3: 2 host(s), 940 ports free"));
	assert_non_null(strstr(text, "5 host(s); 2630 ports of 3 addresses and"));
	free(text);

	o = open_memstream(&text, &len);
	assert_int_equal(view_hosts(o, f->g, G3, true), 0);
	fclose(o);
	assert_non_null(strstr(text, "\"global\":\"198.51.100.3\",\"ports_free\":940"));
	assert_null(strstr(text, "10.0.0.11"));
	free(text);

	o = open_memstream(&text, &len);
	assert_int_equal(view_stats(o, f->g, NULL, true), 0);
	fclose(o);
	assert_non_null(strstr(text, "\"pool\":[{\"global\":\"198.51.100.1\",\"hosts\":2,"
				     "\"ports_free\":790,\"spis_free\":"));
	free(text);

	o = open_memstream(&text, &len);
	assert_int_equal(view_stats(o, f->g, NULL, false), 0);
	fclose(o);
	assert_non_null(strstr(text, "GLOBAL        HOSTS  PORTS_FREE  SPIS_FREE"));
	assert_non_null(strstr(text, "198.51.100.2  1      900"));
	free(text);

	o = open_memstream(&text, &len);
	assert_int_equal(metrics_render(o, f->g, NULL, NULL), 0);
	fclose(o);
	assert_non_null(strstr(text, "\nxdnat_pool_hosts{global=\"198.51.100.3\"} 2\n"));
	assert_non_null(strstr(text, "\nxdnat_pool_ports_held{global=\"198.51.100.1\"} 210\n"));
	assert_non_null(strstr(text, "\nxdnat_pool_ports_free{global=\"198.51.100.2\"} 900\n"));
	free(text);

	{
		struct state_meta m;

		gw_state_meta(f->g, &m);
		assert_int_equal(m.n_pool, 3);
		o = open_memstream(&text, &len);
		assert_int_equal(view_state_dump(o, f->g, &m, 0), 0);
		fclose(o);
		assert_non_null(strstr(text, "\"global\":\"198.51.100.1\",\"pool\":[\"198.51.100.1\","
					     "\"198.51.100.2\",\"198.51.100.3\"]"));
		free(text);
	}
}

static void test_pool_config_checked(void **state)
{
	struct fx *f = *state;
	struct gw_config cfg = pool_config();
	struct gw *g = NULL;

	(void)f;
	cfg.pool[2] = G;	/* twice */
	assert_int_equal(gw_new(&cfg, NULL, fake_clock, f, &g), -EINVAL);
	cfg = pool_config();
	cfg.n_pool = GW_MAX_POOL + 1;
	assert_int_equal(gw_new(&cfg, NULL, fake_clock, f, &g), -EINVAL);
	assert_null(g);
}

static int pool_teardown(void **state)
{
	return fx_teardown(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pool_choice_and_pairing, pool_setup,
						pool_teardown),
		cmocka_unit_test_setup_teardown(test_pool_exhaustion_partial, pool_setup,
						pool_teardown),
		cmocka_unit_test_setup_teardown(test_pool_spis_unique, pool_setup, pool_teardown),
		cmocka_unit_test_setup_teardown(test_pool_certs_name_own_global, pool_setup,
						pool_teardown),
		cmocka_unit_test_setup_teardown(test_pool_state_restart, pool_setup, pool_teardown),
		cmocka_unit_test_setup_teardown(test_old_state_is_pool_of_one, pool_setup,
						pool_teardown),
		cmocka_unit_test_setup_teardown(test_pool_meta_damage, pool_setup, pool_teardown),
		cmocka_unit_test_setup_teardown(test_pool_views, pool_setup, pool_teardown),
		cmocka_unit_test_setup_teardown(test_pool_config_checked, pool_setup,
						pool_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
