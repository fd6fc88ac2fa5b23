/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The gateway's PAP logic driven directly (no sockets) with an injected
 * clock: authentication, replay, retransmission, ownership, quotas, leases,
 * persistence across a restart, the change hooks the data plane uses, and
 * CERT / CRL with a real CA in a mkdtemp directory (certificates for exactly
 * the host's ports, refusals, revocation when the share changes or ends).
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
#include <openssl/bn.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include "gateway/ca.h"
#include "gateway/gateway.h"
#include "host/host_cert.h"
#include "lib/log.h"
#include "pap/pap_client.h"
#include "xdnat.h"
#include "gw_fixture.h"

static void test_register_allocate_validate_query(void **state)
{
	struct fx *f = *state;
	struct pap_session s = { 0 };
	struct pap_port_range pr;
	struct pap_spi_range sr;

	do_register(f, &s, HOST_A);
	assert_int_equal(gw_host_count(f->g), 1);
	assert_int_equal(gw_find_host(f->g, s.client_id)->addr, HOST_A);

	assert_int_equal(ask_ports(f, &s, 64, NULL), 0);
	pr = f->m.ports[0];
	assert_int_equal(pr.first, 20000);
	assert_int_equal(pr.last, 20063);
	assert_int_equal(pr.global, G);

	assert_int_equal(ask_spis(f, &s, 100), 0);	/* rounded up to 128 */
	sr = f->m.spis[0];
	assert_int_equal(sr.last - sr.first + 1, 128);
	assert_int_equal(sr.first % 128, 0);
	assert_true(sr.first >= 4096);

	assert_int_equal(peer_req(f, &s, PAP_EXT_VALIDATE, PEER, NULL), 0);
	assert_int_equal(f->m.n_sas, 1);
	assert_int_equal(f->m.sas[0].peer, PEER);
	assert_int_equal(f->m.sas[0].spi_first, sr.first);

	assert_int_equal(bare_req(f, &s, PAP_QUERY), 0);
	assert_int_equal(f->m.n_ports, 1);
	assert_int_equal(f->m.ports[0].first, 20000);
	assert_int_equal(f->m.n_spis, 1);
	assert_int_equal(f->m.spis[0].first, sr.first);
	assert_int_equal(f->m.n_sas, 1);
	assert_int_equal(f->m.lease, 60);
	assert_int_equal(gw_ports_free(f->g), 1000 - 64);
}

static void test_retransmission_is_idempotent(void **state)
{
	struct fx *f = *state;
	struct pap_session s = { 0 };
	uint8_t first[PAP_MAX_MSG];
	size_t first_len;
	uint32_t free_before;

	do_register(f, &s, HOST_A);
	assert_int_equal(ask_ports(f, &s, 10, NULL), 0);
	memcpy(first, f->rep, f->rep_len);
	first_len = f->rep_len;
	free_before = gw_ports_free(f->g);

	/* The very same datagram three more times: the very same answer. */
	for (int i = 0; i < 3; i++) {
		f->rep_len = gw_handle(f->g, f->req, f->req_len, HOST_A, f->rep,
				       sizeof(f->rep));
		assert_int_equal(f->rep_len, first_len);
		assert_memory_equal(f->rep, first, first_len);
	}
	assert_int_equal(gw_ports_free(f->g), free_before);
	assert_int_equal(gw_get_stats(f->g)->retransmits, 3);
	assert_int_equal(gw_find_host(f->g, s.client_id)->n_ports, 1);
}

static void test_register_retransmission(void **state)
{
	struct fx *f = *state;
	struct pap_session s = { 0 };
	uint32_t id;

	do_register(f, &s, HOST_A);
	id = s.client_id;
	f->rep_len = gw_handle(f->g, f->req, f->req_len, HOST_A, f->rep, sizeof(f->rep));
	assert_true(f->rep_len > 0);
	assert_int_equal(pap_decode(f->rep, f->rep_len, &f->m), 0);
	assert_int_equal(f->m.type, PAP_REGISTER_REPLY);
	assert_int_equal(f->m.client_id, id);
	assert_int_equal(gw_host_count(f->g), 1);

	/* Once the host has moved on, the old REGISTER is a replay. */
	assert_int_equal(ask_ports(f, &s, 1, NULL), 0);
	f->rep_len = gw_handle(f->g, f->req, f->req_len, HOST_A, f->rep, sizeof(f->rep));
	assert_int_equal(pap_decode(f->rep, f->rep_len, &f->m), 0);
	assert_int_equal(f->m.type, PAP_PORT_REPLY);	/* the PORT retransmit */
}

/*
 * The external MTU the daemon read goes into REGISTER and QUERY replies as
 * EXT_MTU, checked and decoded by the client's session like any reply; a
 * gateway that does not know it (0, or below 68) leaves it out.
 */
static void test_ext_mtu_in_replies(void **state)
{
	struct fx *f = *state;
	struct pap_session s = { 0 }, t = { 0 };

	do_register(f, &s, HOST_A);
	assert_false(f->m.present & PAP_BIT(PAP_P_EXT_MTU));
	assert_int_equal(gw_ext_mtu(f->g), 0);

	gw_set_ext_mtu(f->g, 1400);
	assert_int_equal(gw_ext_mtu(f->g), 1400);
	do_register(f, &t, HOST_B);
	assert_true(f->m.present & PAP_BIT(PAP_P_EXT_MTU));
	assert_int_equal(f->m.ext_mtu, 1400);
	assert_int_equal(bare_req(f, &s, PAP_QUERY), 0);
	assert_int_equal(f->m.ext_mtu, 1400);
	/* the link changed: the next reply says so */
	gw_set_ext_mtu(f->g, 9000);
	assert_int_equal(bare_req(f, &t, PAP_QUERY), 0);
	assert_int_equal(f->m.ext_mtu, 9000);
	/* no MTU an IPv4 host could use: not sent */
	gw_set_ext_mtu(f->g, 40);
	assert_int_equal(gw_ext_mtu(f->g), 0);
	assert_int_equal(bare_req(f, &s, PAP_QUERY), 0);
	assert_false(f->m.present & PAP_BIT(PAP_P_EXT_MTU));
	assert_int_equal(f->m.ext_mtu, 0);
	gw_set_ext_mtu(f->g, 70000);
	assert_int_equal(gw_ext_mtu(f->g), UINT16_MAX);
}

static void test_replay_refused(void **state)
{
	struct fx *f = *state;
	struct pap_session s = { 0 };
	uint8_t old[PAP_MAX_MSG];
	size_t old_len;
	uint32_t free_before;

	do_register(f, &s, HOST_A);
	assert_int_equal(ask_ports(f, &s, 10, NULL), 0);
	memcpy(old, f->req, f->req_len);
	old_len = f->req_len;
	assert_int_equal(ask_ports(f, &s, 10, NULL), 0);
	free_before = gw_ports_free(f->g);

	/* An older genuine request, captured and sent again. */
	f->rep_len = gw_handle(f->g, old, old_len, HOST_A, f->rep, sizeof(f->rep));
	assert_int_equal(pap_decode(f->rep, f->rep_len, &f->m), 0);
	assert_int_equal(f->m.type, PAP_ERROR);
	assert_int_equal(f->m.error_code, PAP_E_REPLAY);
	assert_int_equal(gw_ports_free(f->g), free_before);

	/* A new request that reuses the last sequence number. */
	s.seq--;
	assert_int_equal(ask_ports(f, &s, 10, NULL), PAP_E_REPLAY);
	assert_int_equal(gw_ports_free(f->g), free_before);
}

static void test_forged_hmac_refused(void **state)
{
	struct fx *f = *state;
	struct pap_session s = { 0 };
	struct pap_writer w;
	uint32_t free_before;

	do_register(f, &s, HOST_A);
	free_before = gw_ports_free(f->g);
	begin(f, &s, &w, PAP_PORT);
	pap_put_u32(&w, PAP_P_COUNT, 10);
	s.secret[0] ^= 1;	/* sealed with the wrong key */
	assert_int_equal(exchange(f, &s, &w, PAP_PORT, HOST_A), PAP_E_AUTH_FAILED);
	s.secret[0] ^= 1;
	assert_int_equal(gw_ports_free(f->g), free_before);

	/* A flipped byte after sealing. */
	begin(f, &s, &w, PAP_PORT);
	pap_put_u32(&w, PAP_P_COUNT, 10);
	assert_true(pap_session_seal(&s, &w) > 0);
	f->req[PAP_HDR_LEN + PAP_TLV_HDR_LEN + 2] ^= 0x80;	/* inside COUNT */
	f->rep_len = gw_handle(f->g, f->req, w.len, HOST_A, f->rep, sizeof(f->rep));
	assert_int_equal(pap_decode(f->rep, f->rep_len, &f->m), 0);
	assert_int_equal(f->m.error_code, PAP_E_AUTH_FAILED);
	assert_int_equal(gw_ports_free(f->g), free_before);
}

static void test_ownership(void **state)
{
	struct fx *f = *state;
	struct pap_session a = { 0 }, b = { 0 }, forged;
	struct pap_port_range bp;
	struct pap_spi_range bs;
	uint64_t b_expiry;

	do_register(f, &a, HOST_A);
	do_register(f, &b, HOST_B);
	assert_int_equal(ask_ports(f, &a, 10, NULL), 0);
	assert_int_equal(ask_ports(f, &b, 10, NULL), 0);
	bp = f->m.ports[0];
	assert_int_equal(ask_spis(f, &a, 16), 0);
	assert_int_equal(ask_spis(f, &b, 16), 0);
	bs = f->m.spis[0];

	/* A names B's share with its own credentials. */
	assert_int_equal(free_req(f, &a, &bp, NULL), PAP_E_NOT_OWNER);
	assert_int_equal(free_req(f, &a, NULL, &bs), PAP_E_NOT_OWNER);
	assert_int_equal(peer_req(f, &a, PAP_EXT_VALIDATE, PEER, &bs), PAP_E_NOT_OWNER);
	assert_int_equal(gw_find_host(f->g, b.client_id)->n_ports, 1);
	assert_int_equal(gw_find_host(f->g, b.client_id)->n_spis, 1);
	assert_int_equal(gw_find_host(f->g, a.client_id)->n_sas, 0);

	/* A speaks as B (B's client id) but can only sign with A's secret. */
	b_expiry = gw_find_host(f->g, b.client_id)->lease_expires;
	f->now += 30;
	forged = a;
	forged.client_id = b.client_id;
	forged.seq = 100;
	assert_int_equal(bare_req(f, &forged, PAP_EXTEND), PAP_E_AUTH_FAILED);
	assert_int_equal(free_req(f, &forged, &bp, NULL), PAP_E_AUTH_FAILED);
	assert_int_equal(bare_req(f, &forged, PAP_DEREGISTER), PAP_E_AUTH_FAILED);
	assert_int_equal(gw_find_host(f->g, b.client_id)->lease_expires, b_expiry);
	assert_int_equal(gw_host_count(f->g), 2);
}

static void test_unknown_client_must_register(void **state)
{
	struct fx *f = *state;
	struct pap_session s = { .client_id = 77 };

	assert_int_equal(bare_req(f, &s, PAP_QUERY), PAP_E_REGISTER_FIRST);
}

static void test_quotas_and_partial_grants(void **state)
{
	struct fx *f = *state;
	struct pap_session s = { 0 }, t = { 0 };

	do_register(f, &s, HOST_A);
	/* Quota 256: asking for 300 grants 256, then nothing more. */
	assert_int_equal(ask_ports(f, &s, 300, NULL), 0);
	assert_int_equal(f->m.ports[0].last - f->m.ports[0].first + 1, 256);
	assert_int_equal(ask_ports(f, &s, 1, NULL), PAP_E_QUOTA);
	/* SPI quota 1024: 2000 would round to 2048, so 1024 is granted. */
	assert_int_equal(ask_spis(f, &s, 2000), 0);
	assert_int_equal(f->m.spis[0].last - f->m.spis[0].first + 1, 1024);
	assert_int_equal(ask_spis(f, &s, 1), PAP_E_QUOTA);

	/* Quotas are per host: another host still gets its own. */
	do_register(f, &t, HOST_B);
	assert_int_equal(ask_ports(f, &t, 200, NULL), 0);
	assert_int_equal(ask_ports(f, &t, 100, NULL), 0);	/* 56 left of quota */
	assert_int_equal(f->m.ports[0].last - f->m.ports[0].first + 1, 56);
	assert_int_equal(ask_ports(f, &t, 1, NULL), PAP_E_QUOTA);
}

static void test_pool_exhaustion_partial(void **state)
{
	struct fx *f = *state;
	struct gw_config cfg = base_config();
	struct pap_session s[5] = { 0 };

	gw_free(f->g);
	cfg.port_quota = 300;
	fx_start(f, &cfg);
	for (int i = 0; i < 3; i++) {
		do_register(f, &s[i], HOST_A + i);
		assert_int_equal(ask_ports(f, &s[i], 300, NULL), 0);
	}
	do_register(f, &s[3], HOST_B);
	assert_int_equal(ask_ports(f, &s[3], 300, NULL), 0);	/* 100 left */
	assert_int_equal(f->m.ports[0].first, 20900);
	assert_int_equal(f->m.ports[0].last, 20999);
	do_register(f, &s[4], HOST_B + 1);
	assert_int_equal(ask_ports(f, &s[4], 1, NULL), PAP_E_NO_RESOURCES);
	assert_int_equal(ask_spis(f, &s[4], 1), 0);
}

static void test_max_hosts(void **state)
{
	struct fx *f = *state;
	struct pap_session s[9] = { 0 };
	struct pap_writer w;

	for (int i = 0; i < 8; i++)
		do_register(f, &s[i], HOST_A + i);
	begin(f, &s[8], &w, PAP_REGISTER);
	assert_int_equal(exchange(f, &s[8], &w, PAP_REGISTER, HOST_B), PAP_E_TOO_MANY_HOSTS);
}

static void test_lease_expiry_frees_share(void **state)
{
	struct fx *f = *state;
	struct pap_session s = { 0 };
	uint32_t granted;
	struct pap_writer w;

	do_register(f, &s, HOST_A);
	assert_int_equal(ask_ports(f, &s, 100, NULL), 0);
	assert_int_equal(ask_spis(f, &s, 64), 0);
	assert_int_equal(gw_ports_free(f->g), 900);

	/* EXTEND keeps it alive past the first lease. */
	f->now += 50;
	begin(f, &s, &w, PAP_EXTEND);
	pap_put_u32(&w, PAP_P_LEASE, 100000);	/* capped at max-lease */
	assert_int_equal(exchange(f, &s, &w, PAP_EXTEND, HOST_A), 0);
	granted = f->m.lease;
	assert_int_equal(granted, 600);
	f->now += 599;
	assert_int_equal(gw_expire(f->g), 0);
	assert_int_equal(gw_host_count(f->g), 1);

	f->changes = 0;
	f->now += 1;
	assert_int_equal(gw_expire(f->g), 1);
	assert_int_equal(gw_host_count(f->g), 0);
	assert_int_equal(gw_ports_free(f->g), 1000);
	assert_int_equal(f->changes, 1);
	assert_true(f->had_old);
	assert_false(f->had_new);
	assert_int_equal(f->last_old.n_ports, 1);
	assert_int_equal(gw_get_stats(f->g)->expired, 1);
	assert_int_equal(bare_req(f, &s, PAP_QUERY), PAP_E_REGISTER_FIRST);
}

static void test_expired_but_unswept_host(void **state)
{
	struct fx *f = *state;
	struct pap_session s = { 0 };

	do_register(f, &s, HOST_A);
	assert_int_equal(ask_ports(f, &s, 100, NULL), 0);
	f->now += 61;
	assert_int_equal(bare_req(f, &s, PAP_EXTEND), PAP_E_REGISTER_FIRST);
	assert_int_equal(gw_ports_free(f->g), 1000);
}

static void test_validate_invalidate_free(void **state)
{
	struct fx *f = *state;
	struct pap_session s = { 0 };
	struct pap_spi_range sr, sub;
	const struct host *h;

	do_register(f, &s, HOST_A);
	assert_int_equal(ask_spis(f, &s, 32), 0);
	sr = f->m.spis[0];
	sub = sr;
	sub.last = sub.first + 3;

	assert_int_equal(peer_req(f, &s, PAP_EXT_VALIDATE, PEER, &sub), 0);
	assert_int_equal(peer_req(f, &s, PAP_EXT_VALIDATE, PEER, &sub), 0);	/* no dup */
	assert_int_equal(peer_req(f, &s, PAP_EXT_VALIDATE, PEER + 0x01000000u, NULL), 0);
	h = gw_find_host(f->g, s.client_id);
	assert_int_equal(h->n_sas, 2);
	assert_int_equal(peer_req(f, &s, PAP_EXT_VALIDATE, G, NULL), PAP_E_BAD_VALUE);

	assert_int_equal(peer_req(f, &s, PAP_EXT_INVALIDATE, PEER, NULL), 0);
	assert_int_equal(f->m.n_sas, 1);
	assert_int_equal(f->m.sas[0].spi_first, sub.first);
	assert_int_equal(peer_req(f, &s, PAP_EXT_INVALIDATE, PEER, NULL), PAP_E_NOT_FOUND);
	assert_int_equal(gw_find_host(f->g, s.client_id)->n_sas, 1);

	/* Freeing the SPI block takes its SA entries with it. */
	sub.last = sr.last - 1;
	assert_int_equal(free_req(f, &s, NULL, &sub), PAP_E_NOT_OWNER);	/* not exact */
	assert_int_equal(free_req(f, &s, NULL, &sr), 0);
	h = gw_find_host(f->g, s.client_id);
	assert_int_equal(h->n_spis, 0);
	assert_int_equal(h->n_sas, 0);
	assert_int_equal(peer_req(f, &s, PAP_EXT_VALIDATE, PEER, NULL), PAP_E_NOT_OWNER);
}

static void test_deregister_frees_everything(void **state)
{
	struct fx *f = *state;
	struct pap_session s = { 0 };

	do_register(f, &s, HOST_A);
	assert_int_equal(ask_ports(f, &s, 100, NULL), 0);
	assert_int_equal(ask_spis(f, &s, 64), 0);
	assert_int_equal(bare_req(f, &s, PAP_DEREGISTER), 0);
	assert_int_equal(gw_host_count(f->g), 0);
	assert_int_equal(gw_ports_free(f->g), 1000);
	assert_false(f->had_new);
	assert_int_equal(f->last_old.n_spis, 1);
}

static void test_reclaim_hint(void **state)
{
	struct fx *f = *state;
	struct pap_session s = { 0 };
	struct pap_port_range want = { .global = G, .first = 20500, .last = 20549 };

	do_register(f, &s, HOST_A);
	assert_int_equal(ask_ports(f, &s, 50, &want), 0);
	assert_int_equal(f->m.ports[0].first, 20500);
	assert_int_equal(f->m.ports[0].last, 20549);
	/* Taken now: the same hint falls back to the leftmost free block. */
	assert_int_equal(ask_ports(f, &s, 50, &want), 0);
	assert_int_equal(f->m.ports[0].first, 20000);
}

/* SPI blocks are at least XDNAT_SPI_GRANULE, the data plane's granule, so no
 * two hosts ever share one of xdnat_spiblk's entries. */
static void test_spi_minimum_block(void **state)
{
	static const uint32_t more[] = { 512, 256, 128, 64 };
	struct fx *f = *state;
	struct gw_config cfg = base_config();
	struct pap_spi_range hint = { .global = G, .first = 0x3000, .last = 0x3003 };
	struct pap_session s = { 0 };
	struct pap_writer w;

	gw_free(f->g);
	cfg.spi_quota = 1000;
	fx_start(f, &cfg);
	do_register(f, &s, HOST_A);
	assert_int_equal(ask_spis(f, &s, 1), 0);
	assert_int_equal(f->m.spis[0].last - f->m.spis[0].first + 1, XDNAT_SPI_GRANULE);
	assert_int_equal(f->m.spis[0].first % XDNAT_SPI_GRANULE, 0);
	/* a reclaim hint below the minimum is not honoured: a whole granule */
	begin(f, &s, &w, PAP_SPI);
	pap_put_u32(&w, PAP_P_COUNT, 4);
	pap_put_spi_range(&w, &hint);
	assert_int_equal(exchange(f, &s, &w, PAP_SPI, HOST_A), 0);
	assert_int_equal(f->m.spis[0].last - f->m.spis[0].first + 1, XDNAT_SPI_GRANULE);
	assert_int_not_equal(f->m.spis[0].first, hint.first);
	/* 32 held, 960 more: the 8 left of the quota 1000 are below a block */
	for (unsigned int i = 0; i < sizeof(more) / sizeof(more[0]); i++) {
		assert_int_equal(ask_spis(f, &s, more[i]), 0);
		assert_int_equal(f->m.spis[0].last - f->m.spis[0].first + 1, more[i]);
	}
	assert_int_equal(ask_spis(f, &s, 1), PAP_E_QUOTA);
}

static void test_natt_port(void **state)
{
	struct fx *f = *state;
	struct pap_session s = { 0 }, t = { 0 };
	struct pap_port_range pr;

	do_register(f, &s, HOST_A);
	do_register(f, &t, HOST_B);
	assert_int_equal(ask_ports(f, &s, 4, NULL), 0);
	pr = f->m.ports[0];
	assert_int_equal(natt_req(f, &t, pr.first + 1), PAP_E_NOT_OWNER);	/* not B's */
	f->changes = 0;
	assert_int_equal(natt_req(f, &s, pr.first + 1), 0);
	assert_int_equal(f->m.natt_port, pr.first + 1);
	assert_int_equal(f->changes, 1);	/* the data plane must flag the port */
	assert_int_equal(f->last_new.natt_port, pr.first + 1);
	assert_int_equal(bare_req(f, &s, PAP_QUERY), 0);
	assert_int_equal(f->m.natt_port, pr.first + 1);
	/* Freeing the block takes the declaration with it. */
	assert_int_equal(free_req(f, &s, &pr, NULL), 0);
	assert_int_equal(gw_find_host(f->g, s.client_id)->natt_port, 0);
	assert_int_equal(natt_req(f, &s, 0), 0);
}

/* A gateway without a CA (gw_set_ca never called). */
static void test_cert_not_implemented(void **state)
{
	struct fx *f = *state;
	struct pap_session s = { 0 };
	struct pap_writer w;
	const uint8_t csr[] = { 0x30, 0x00 };

	do_register(f, &s, HOST_A);
	begin(f, &s, &w, PAP_CERT);
	pap_put(&w, PAP_P_CSR, csr, sizeof(csr));
	assert_int_equal(exchange(f, &s, &w, PAP_CERT, HOST_A), PAP_E_NOT_IMPLEMENTED);
}

/* ---- CERT and CRL ------------------------------------------------------- */

/* Our own CA in a fresh directory, and the real clock: certificates are
 * valid until the lease ends, in real time. */
static void fx_ca(struct fx *f)
{
	char err[256];

	snprintf(f->ca_dir, sizeof(f->ca_dir), "/tmp/xdnat-gwca-XXXXXX");
	assert_non_null(mkdtemp(f->ca_dir));
	if (ca_open(f->ca_dir, NULL, NULL, G, &f->ca, err, sizeof(err)))
		fail_msg("ca_open: %s", err);
	gw_set_ca(f->g, f->ca);
	f->now = (uint64_t)time(NULL);
}

static EVP_PKEY *keygen(const char *type, const char *param)
{
	EVP_PKEY *k = !strcmp(type, "RSA") ?
		      EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)atoi(param)) :
		      !strcmp(type, "EC") ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", param) :
		      EVP_PKEY_Q_keygen(NULL, NULL, type);

	assert_non_null(k);
	return k;
}

/* A request for k, as the host agent makes it; with san, one that also asks
 * for names (the CA must ignore them). */
static uint8_t *csr_for(EVP_PKEY *k, const char *san, size_t *len)
{
	STACK_OF(X509_EXTENSION) *exts;
	X509_REQ *req;
	uint8_t *der = NULL;
	int n;

	if (!san) {
		assert_int_equal(host_csr_der(k, &der, len), 0);
		return der;
	}
	exts = sk_X509_EXTENSION_new_null();
	req = X509_REQ_new();
	assert_true(X509_REQ_set_pubkey(req, k));
	sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san));
	assert_true(X509_REQ_add_extensions(req, exts));
	assert_true(X509_REQ_sign(req, k, EVP_sha256()) > 0);
	n = i2d_X509_REQ(req, &der);
	assert_true(n > 0);
	*len = (size_t)n;
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(req);
	return der;
}

static int cert_req(struct fx *f, struct pap_session *s, const uint8_t *csr, size_t len,
		    uint32_t src)
{
	struct pap_writer w;

	begin(f, s, &w, PAP_CERT);
	pap_put(&w, PAP_P_CSR, csr, (uint16_t)len);
	return exchange(f, s, &w, PAP_CERT, src);
}

/* CERT for a fresh P-256 key; the leaf (copied out of the reply) in *der. */
static int get_cert(struct fx *f, struct pap_session *s, uint32_t src, uint8_t **der,
		    size_t *len)
{
	EVP_PKEY *k = keygen("EC", "P-256");
	size_t clen;
	uint8_t *csr = csr_for(k, NULL, &clen);
	int rc = cert_req(f, s, csr, clen, src);

	if (!rc) {
		*len = f->m.cert_lens[0];
		*der = malloc(*len);
		assert_non_null(*der);
		memcpy(*der, f->m.certs[0], *len);
	}
	OPENSSL_free(csr);
	EVP_PKEY_free(k);
	return rc;
}

static bool serial_is(const struct host *h, const uint8_t *der, size_t len)
{
	struct cert_serial sn;

	assert_int_equal(cert_read_serial(der, len, &sn), 0);
	return !memcmp(h->cert_serial, sn.b, HOST_SERIAL_LEN);
}

/* Is the certificate's serial on the CA's current CRL (as ca_crl_der()
 * serves it, and as openssl would read it)? */
static bool revoked(struct fx *f, const uint8_t *cert, size_t cert_len)
{
	const unsigned char *p, *q = cert;
	X509_REVOKED *rev = NULL;
	X509_CRL *crl;
	uint8_t *der;
	size_t len;
	X509 *x;
	bool on;

	assert_int_equal(ca_crl_der(f->ca, &der, &len), 0);
	p = der;
	crl = d2i_X509_CRL(NULL, &p, (long)len);
	x = d2i_X509(NULL, &q, (long)cert_len);
	assert_non_null(crl);
	assert_non_null(x);
	on = X509_CRL_get0_by_serial(crl, &rev, X509_get0_serialNumber(x)) == 1;
	X509_free(x);
	X509_CRL_free(crl);
	OPENSSL_free(der);
	return on;
}

/* The SAN URI of a DER certificate, "" when none. */
static const char *san_uri(const uint8_t *der, size_t len, uint32_t *ip)
{
	static char uri[512];
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	GENERAL_NAMES *gens;

	assert_non_null(x);
	gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	uri[0] = 0;
	*ip = 0;
	for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);

		if (g->type == GEN_URI)
			snprintf(uri, sizeof(uri), "%.*s", ASN1_STRING_length(g->d.ia5),
				 (const char *)ASN1_STRING_get0_data(g->d.ia5));
		if (g->type == GEN_IPADD && ASN1_STRING_length(g->d.ip) == 4)
			memcpy(ip, ASN1_STRING_get0_data(g->d.ip), 4);
	}
	GENERAL_NAMES_free(gens);
	X509_free(x);
	return uri;
}

static void test_cert_issued_for_own_ports(void **state)
{
	struct fx *f = *state;
	struct pap_session s = { 0 };
	struct pap_port_range got[4], want[2];
	unsigned int n = 4;
	const unsigned char *p;
	const struct host *h;
	EVP_PKEY *k = keygen("EC", "P-256");
	uint8_t *csr, *leaf;
	size_t len, leaf_len;
	int64_t nb, na;
	uint32_t g = 0, ip;
	X509 *x, *cax;

	fx_ca(f);
	do_register(f, &s, HOST_A);
	assert_int_equal(ask_ports(f, &s, 64, NULL), 0);
	want[0] = f->m.ports[0];
	assert_int_equal(ask_ports(f, &s, 8, NULL), 0);
	want[1] = f->m.ports[0];

	csr = csr_for(k, NULL, &len);
	assert_int_equal(cert_req(f, &s, csr, len, HOST_A), 0);
	/* The leaf, then the chain: our own CA, one certificate. */
	assert_int_equal(f->m.n_certs, 2);
	leaf_len = f->m.cert_lens[0];
	leaf = malloc(leaf_len);
	memcpy(leaf, f->m.certs[0], leaf_len);
	p = f->m.certs[1];
	cax = d2i_X509(NULL, &p, f->m.cert_lens[1]);
	p = leaf;
	x = d2i_X509(NULL, &p, (long)leaf_len);
	assert_non_null(cax);
	assert_non_null(x);
	assert_int_equal(X509_verify(x, X509_get0_pubkey(cax)), 1);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(x), k), 1);
	assert_int_equal(X509_check_ip(x, (const unsigned char *)&(uint32_t){ G }, 4, 0), 1);

	/* Extension and SAN say exactly the host's blocks. */
	assert_int_equal(cert_read_ports(leaf, leaf_len, &g, got, &n), 0);
	assert_int_equal(g, G);
	assert_int_equal(n, 2);
	assert_int_equal(got[0].first, want[0].first);
	assert_int_equal(got[0].last, want[0].last);
	assert_int_equal(got[1].first, want[1].first);
	assert_int_equal(got[1].last, want[1].last);
	assert_string_equal(san_uri(leaf, leaf_len, &ip),
			    "xdnat://198.51.100.1/ports/20000-20063,20064-20071");
	assert_int_equal(ip, G);

	/* Recorded, bounded by the lease, not revoked. */
	h = gw_find_host(f->g, s.client_id);
	assert_true(serial_is(h, leaf, leaf_len));
	assert_int_equal(cert_read_validity(leaf, leaf_len, &nb, &na), 0);
	assert_int_equal(na, (int64_t)h->lease_expires);
	assert_true(nb <= (int64_t)time(NULL));
	assert_false(revoked(f, leaf, leaf_len));

	/* A retransmitted CERT gets the same certificate, not a second one. */
	f->rep_len = gw_handle(f->g, f->req, f->req_len, HOST_A, f->rep, sizeof(f->rep));
	assert_int_equal(pap_decode(f->rep, f->rep_len, &f->m), 0);
	assert_int_equal(f->m.cert_lens[0], leaf_len);
	assert_memory_equal(f->m.certs[0], leaf, leaf_len);
	assert_int_equal(ca_revoked_count(f->ca), 0);

	X509_free(x);
	X509_free(cax);
	free(leaf);
	OPENSSL_free(csr);
	EVP_PKEY_free(k);
}

static void test_cert_refused(void **state)
{
	static const struct { const char *type, *param; } bad_keys[] = {
		{ "EC", "P-521" }, { "ED25519", NULL }, { "RSA", "1024" },
	};
	struct fx *f = *state;
	struct pap_session s = { 0 };
	EVP_PKEY *k = keygen("EC", "P-256");
	uint8_t garbage[200], *csr;
	size_t len;

	fx_ca(f);
	do_register(f, &s, HOST_A);
	csr = csr_for(k, NULL, &len);
	/* No ports yet: nothing to certify. */
	assert_int_equal(cert_req(f, &s, csr, len, HOST_A), PAP_E_NO_PORTS);
	assert_int_equal(ask_ports(f, &s, 16, NULL), 0);

	/* A flipped bit in the signature. */
	csr[len - 1] ^= 0x01;
	assert_int_equal(cert_req(f, &s, csr, len, HOST_A), PAP_E_BAD_CSR);
	csr[len - 1] ^= 0x01;
	/* Garbage, and a request cut short. */
	for (size_t i = 0; i < sizeof(garbage); i++)
		garbage[i] = (uint8_t)(i * 29 + 3);
	assert_int_equal(cert_req(f, &s, garbage, sizeof(garbage), HOST_A), PAP_E_BAD_CSR);
	assert_int_equal(cert_req(f, &s, csr, len - 10, HOST_A), PAP_E_BAD_CSR);
	/* Keys the CA does not take. */
	for (size_t i = 0; i < sizeof(bad_keys) / sizeof(bad_keys[0]); i++) {
		EVP_PKEY *bk = keygen(bad_keys[i].type, bad_keys[i].param);
		size_t bl;
		uint8_t *bc = csr_for(bk, NULL, &bl);

		assert_int_equal(cert_req(f, &s, bc, bl, HOST_A), PAP_E_BAD_KEY);
		assert_string_equal(pap_err_name(f->m.error_code), "bad-key");
		OPENSSL_free(bc);
		EVP_PKEY_free(bk);
	}
	/* The ERROR says why in words too. */
	assert_int_equal(cert_req(f, &s, garbage, sizeof(garbage), HOST_A), PAP_E_BAD_CSR);
	assert_int_equal(f->m.message_len, strlen(pap_err_text(PAP_E_BAD_CSR)));
	/* Nothing issued, nothing revoked; the good request still works. */
	assert_false(gw_find_host(f->g, s.client_id)->cert_serial[0] |
		     gw_find_host(f->g, s.client_id)->cert_serial[15]);
	assert_int_equal(gw_get_stats(f->g)->errors[PAP_E_BAD_KEY], 3);
	assert_int_equal(cert_req(f, &s, csr, len, HOST_A), 0);
	assert_int_equal(ca_revoked_count(f->ca), 0);
	OPENSSL_free(csr);
	EVP_PKEY_free(k);
}

/* B asks for a certificate naming A's ports in its CSR: it gets its own. */
static void test_cert_only_own_ports(void **state)
{
	struct fx *f = *state;
	struct pap_session a = { 0 }, b = { 0 };
	struct pap_port_range ap, bp, got[4];
	EVP_PKEY *k = keygen("EC", "P-384");
	unsigned int n = 4;
	char san[128];
	uint8_t *csr;
	uint32_t g, ip;
	size_t len;

	fx_ca(f);
	do_register(f, &a, HOST_A);
	do_register(f, &b, HOST_B);
	assert_int_equal(ask_ports(f, &a, 32, NULL), 0);
	ap = f->m.ports[0];
	assert_int_equal(ask_ports(f, &b, 32, NULL), 0);
	bp = f->m.ports[0];
	snprintf(san, sizeof(san), "IP:198.51.100.1,URI:xdnat://198.51.100.1/ports/%u-%u",
		 ap.first, ap.last);
	csr = csr_for(k, san, &len);
	assert_int_equal(cert_req(f, &b, csr, len, HOST_B), 0);
	assert_int_equal(cert_read_ports(f->m.certs[0], f->m.cert_lens[0], &g, got, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(got[0].first, bp.first);
	assert_int_equal(got[0].last, bp.last);
	assert_true(got[0].first > ap.last || got[0].last < ap.first);
	snprintf(san, sizeof(san), "xdnat://198.51.100.1/ports/%u-%u", bp.first, bp.last);
	assert_string_equal(san_uri(f->m.certs[0], f->m.cert_lens[0], &ip), san);
	/* The CN names B, not A. */
	{
		const unsigned char *p = f->m.certs[0];
		X509 *x = d2i_X509(NULL, &p, f->m.cert_lens[0]);
		char cn[64], want[64];

		X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn,
					  sizeof(cn));
		snprintf(want, sizeof(want), "%u@198.51.100.1", b.client_id);
		assert_string_equal(cn, want);
		X509_free(x);
	}
	OPENSSL_free(csr);
	EVP_PKEY_free(k);
}

/* Whatever changes what a certificate names revokes it: FREE and PORT of
 * ports, a new CERT; an SPI change does not. */
static void test_cert_revoked_on_change(void **state)
{
	struct fx *f = *state;
	struct pap_session s = { 0 };
	struct pap_port_range p1, p2, got[4];
	uint8_t *c1, *c2, *c3, *c4;
	size_t l1, l2, l3, l4;
	unsigned int n = 4;
	uint32_t g;

	fx_ca(f);
	do_register(f, &s, HOST_A);
	assert_int_equal(ask_ports(f, &s, 16, NULL), 0);
	p1 = f->m.ports[0];
	assert_int_equal(ask_ports(f, &s, 16, NULL), 0);
	p2 = f->m.ports[0];
	assert_int_equal(get_cert(f, &s, HOST_A, &c1, &l1), 0);

	/* SPIs are not in the certificate: it stands. */
	assert_int_equal(ask_spis(f, &s, 16), 0);
	assert_true(serial_is(gw_find_host(f->g, s.client_id), c1, l1));
	assert_false(revoked(f, c1, l1));

	/* FREE of one block: revoked, forgotten; a new one names what is left. */
	assert_int_equal(free_req(f, &s, &p1, NULL), 0);
	assert_true(revoked(f, c1, l1));
	assert_int_equal(gw_find_host(f->g, s.client_id)->cert_serial[0] |
			 gw_find_host(f->g, s.client_id)->cert_serial[15], 0);
	assert_int_equal(get_cert(f, &s, HOST_A, &c2, &l2), 0);
	assert_int_equal(cert_read_ports(c2, l2, &g, got, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(got[0].first, p2.first);
	assert_false(revoked(f, c2, l2));

	/* A CERT while one is valid: the old one is revoked. */
	assert_int_equal(get_cert(f, &s, HOST_A, &c3, &l3), 0);
	assert_true(revoked(f, c2, l2));
	assert_false(revoked(f, c3, l3));

	/* A PORT grant: revoked too. */
	assert_int_equal(ask_ports(f, &s, 4, NULL), 0);
	assert_true(revoked(f, c3, l3));
	assert_int_equal(get_cert(f, &s, HOST_A, &c4, &l4), 0);
	assert_int_equal(ca_revoked_count(f->ca), 3);
	assert_true(revoked(f, c1, l1));	/* still listed: not expired */

	/* DEREGISTER. */
	assert_int_equal(bare_req(f, &s, PAP_DEREGISTER), 0);
	assert_true(revoked(f, c4, l4));
	free(c1);
	free(c2);
	free(c3);
	free(c4);
}

/* Lease expiry and `xdnatctl free` put the serial on the CRL. */
static void test_cert_revoked_on_expiry_and_admin_free(void **state)
{
	struct fx *f = *state;
	struct pap_session s = { 0 }, t = { 0 };
	uint8_t *c1, *c2;
	size_t l1, l2;

	fx_ca(f);
	do_register(f, &s, HOST_A);
	assert_int_equal(ask_ports(f, &s, 16, NULL), 0);
	assert_int_equal(get_cert(f, &s, HOST_A, &c1, &l1), 0);
	do_register(f, &t, HOST_B);
	assert_int_equal(ask_ports(f, &t, 16, NULL), 0);
	assert_int_equal(get_cert(f, &t, HOST_B, &c2, &l2), 0);

	assert_int_equal(gw_drop_host(f->g, t.client_id), 0);
	assert_true(revoked(f, c2, l2));
	assert_false(revoked(f, c1, l1));

	f->now += 61;		/* the lease is 60 s */
	assert_int_equal(gw_expire(f->g), 1);
	assert_true(revoked(f, c1, l1));
	assert_int_equal(ca_revoked_count(f->ca), 2);
	free(c1);
	free(c2);
}

/* PAP CRL: the CA's CRL, signed by the CA, listing what was revoked. */
static void test_crl_over_pap(void **state)
{
	struct fx *f = *state;
	struct pap_session s = { 0 };
	const unsigned char *p;
	X509_REVOKED *rev;
	X509_CRL *crl;
	X509 *cax;
	uint8_t *c1, *ca_der;
	size_t l1, ca_len;

	fx_ca(f);
	do_register(f, &s, HOST_A);
	assert_int_equal(bare_req(f, &s, PAP_CRL), 0);
	assert_true(f->m.crl_len > 0);
	p = f->m.crl;
	crl = d2i_X509_CRL(NULL, &p, f->m.crl_len);
	assert_non_null(crl);
	assert_null(X509_CRL_get_REVOKED(crl) ? sk_X509_REVOKED_value(X509_CRL_get_REVOKED(crl),
								      0) : NULL);
	X509_CRL_free(crl);

	assert_int_equal(ask_ports(f, &s, 16, NULL), 0);
	assert_int_equal(get_cert(f, &s, HOST_A, &c1, &l1), 0);
	ca_len = f->m.cert_lens[1];
	ca_der = malloc(ca_len);
	memcpy(ca_der, f->m.certs[1], ca_len);
	assert_int_equal(free_req(f, &s, &gw_find_host(f->g, s.client_id)->ports[0], NULL), 0);

	assert_int_equal(bare_req(f, &s, PAP_CRL), 0);
	p = f->m.crl;
	crl = d2i_X509_CRL(NULL, &p, f->m.crl_len);
	p = ca_der;
	cax = d2i_X509(NULL, &p, (long)ca_len);
	assert_non_null(crl);
	assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(cax)), 1);
	p = c1;
	{
		X509 *x = d2i_X509(NULL, &p, (long)l1);

		assert_int_equal(X509_CRL_get0_by_serial(crl, &rev, X509_get0_serialNumber(x)), 1);
		X509_free(x);
	}
	assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), 1);
	X509_CRL_free(crl);
	X509_free(cax);
	free(ca_der);
	free(c1);
}

/* The certificate's serial is part of the host's record: after a restart,
 * freeing the host still revokes it. */
static void test_cert_serial_survives_restart(void **state)
{
	struct fx *f = *state;
	struct gw_config cfg = base_config();
	struct state_image img = { 0 };
	struct pap_session s = { 0 };
	uint8_t *c1;
	size_t l1;
	char err[256];

	fx_ca(f);
	gw_free(f->g);
	snprintf(f->dir, sizeof(f->dir), "/tmp/xdnat-gwtest-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(state_open(f->dir, &f->store), 0);
	assert_int_equal(state_load(f->store, &img, err, sizeof(err)), 0);
	state_image_free(&img);
	fx_start(f, &cfg);
	gw_set_ca(f->g, f->ca);
	do_register(f, &s, HOST_A);
	assert_int_equal(ask_ports(f, &s, 16, NULL), 0);
	assert_int_equal(get_cert(f, &s, HOST_A, &c1, &l1), 0);

	gw_free(f->g);
	state_close(f->store);
	assert_int_equal(state_open(f->dir, &f->store), 0);
	assert_int_equal(state_load(f->store, &img, err, sizeof(err)), 0);
	fx_start(f, &cfg);
	gw_set_ca(f->g, f->ca);
	assert_int_equal(gw_restore(f->g, &img, err, sizeof(err)), 0);
	state_image_free(&img);
	assert_true(serial_is(gw_find_host(f->g, s.client_id), c1, l1));
	assert_false(revoked(f, c1, l1));
	assert_int_equal(bare_req(f, &s, PAP_DEREGISTER), 0);
	assert_true(revoked(f, c1, l1));
	free(c1);
}

static void test_malformed_and_replies(void **state)
{
	struct fx *f = *state;
	uint8_t junk[40] = { 1, PAP_QUERY, 0, 40 };
	uint8_t reply_like[16] = { 1, PAP_PORT_REPLY, 0, 16 };

	/* Too short for a header: silence. */
	assert_int_equal(gw_handle(f->g, junk, 10, HOST_A, f->rep, sizeof(f->rep)), 0);
	/* A header, then an unknown parameter type: an ERROR naming it. */
	junk[16] = 200;
	junk[18] = 3;
	f->rep_len = gw_handle(f->g, junk, 40, HOST_A, f->rep, sizeof(f->rep));
	assert_true(f->rep_len > 0);
	assert_int_equal(pap_decode(f->rep, f->rep_len, &f->m), 0);
	assert_int_equal(f->m.type, PAP_ERROR);
	assert_int_equal(f->m.error_code, PAP_E_UNKNOWN_PARAM);
	/* Replies are never answered (no ping-pong between two gateways). */
	assert_int_equal(gw_handle(f->g, reply_like, 16, HOST_A, f->rep, sizeof(f->rep)), 0);
	assert_int_equal(gw_host_count(f->g), 0);
}

static void test_site_key(void **state)
{
	struct fx *f = *state;
	struct gw_config cfg = base_config();
	struct pap_session s = { 0 }, t = { 0 };
	static const uint8_t key[] = "0123456789abcdef-site";
	struct pap_writer w;

	gw_free(f->g);
	memcpy(cfg.site_key, key, sizeof(key) - 1);
	cfg.site_key_len = sizeof(key) - 1;
	fx_start(f, &cfg);

	begin(f, &s, &w, PAP_REGISTER);
	assert_int_equal(exchange(f, &s, &w, PAP_REGISTER, HOST_A), PAP_E_SITE_KEY);
	t.site_key = (const uint8_t *)"0123456789abcdef-nope";
	t.site_key_len = sizeof(key) - 1;
	begin(f, &t, &w, PAP_REGISTER);
	assert_int_equal(exchange(f, &t, &w, PAP_REGISTER, HOST_A), PAP_E_SITE_KEY);
	assert_int_equal(gw_host_count(f->g), 0);

	s.site_key = key;
	s.site_key_len = sizeof(key) - 1;
	do_register(f, &s, HOST_A);
	assert_int_equal(ask_ports(f, &s, 5, NULL), 0);	/* the derived secret works */
}

static void test_restart_restores_state(void **state)
{
	struct fx *f = *state;
	struct gw_config cfg = base_config();
	struct pap_session s = { 0 }, t = { 0 };
	struct state_image img = { 0 };
	uint8_t last_rep[PAP_MAX_MSG], last_req[PAP_MAX_MSG];
	size_t last_rep_len, last_req_len;
	char err[256];
	uint32_t id;

	gw_free(f->g);
	snprintf(f->dir, sizeof(f->dir), "/tmp/xdnat-gwtest-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(state_open(f->dir, &f->store), 0);
	assert_int_equal(state_load(f->store, &img, err, sizeof(err)), 0);
	assert_int_equal(img.n_hosts, 0);
	state_image_free(&img);
	fx_start(f, &cfg);

	do_register(f, &s, HOST_A);
	do_register(f, &t, HOST_B);
	assert_int_equal(ask_ports(f, &s, 64, NULL), 0);
	assert_int_equal(ask_spis(f, &s, 16), 0);
	assert_int_equal(peer_req(f, &s, PAP_EXT_VALIDATE, PEER, NULL), 0);
	assert_int_equal(bare_req(f, &t, PAP_DEREGISTER), 0);
	memcpy(last_req, f->req, f->req_len);
	last_req_len = f->req_len;
	assert_int_equal(ask_ports(f, &s, 8, NULL), 0);
	memcpy(last_req, f->req, f->req_len);
	last_req_len = f->req_len;
	memcpy(last_rep, f->rep, f->rep_len);
	last_rep_len = f->rep_len;
	id = s.client_id;

	/* "Restart": drop the gateway and the store, load them again. */
	gw_free(f->g);
	state_close(f->store);
	assert_int_equal(state_open(f->dir, &f->store), 0);
	assert_int_equal(state_load(f->store, &img, err, sizeof(err)), 0);
	fx_start(f, &cfg);
	f->changes = 0;
	assert_int_equal(gw_restore(f->g, &img, err, sizeof(err)), 0);
	state_image_free(&img);
	assert_int_equal(f->changes, 1);	/* the map sync hears about it */
	assert_int_equal(gw_host_count(f->g), 1);
	assert_int_equal(gw_find_host(f->g, id)->n_ports, 2);
	assert_int_equal(gw_find_host(f->g, id)->n_sas, 1);
	assert_int_equal(gw_ports_free(f->g), 1000 - 72);

	/* The last request retransmitted after the restart: the cached reply. */
	f->rep_len = gw_handle(f->g, last_req, last_req_len, HOST_A, f->rep, sizeof(f->rep));
	assert_int_equal(f->rep_len, last_rep_len);
	assert_memory_equal(f->rep, last_rep, last_rep_len);
	assert_int_equal(gw_ports_free(f->g), 1000 - 72);

	/* The session carries on; new ids never reuse the deregistered one. */
	assert_int_equal(ask_ports(f, &s, 8, NULL), 0);
	assert_int_equal(f->m.ports[0].first, 20072);
	do_register(f, &t, HOST_B);
	assert_true(t.client_id > id + 1);
}

static void test_restore_other_global_refused(void **state)
{
	struct fx *f = *state;
	struct gw_config cfg = base_config();
	struct state_image img = { 0 };
	struct host h = { .client_id = 3, .global = G };
	char err[256] = "";

	img.meta.global = G;
	img.meta.next_client_id = 4;
	img.hosts = &h;
	img.n_hosts = 1;
	gw_free(f->g);
	cfg.global = G + 1;
	fx_start(f, &cfg);
	assert_int_equal(gw_restore(f->g, &img, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "198.51.100.1"));

	/* A share outside the configured ranges is an error too, not a drop. */
	gw_free(f->g);
	cfg = base_config();
	fx_start(f, &cfg);
	h.n_ports = 1;
	h.ports[0] = (struct pap_port_range){ .global = G, .first = 30000, .last = 30010 };
	assert_int_equal(gw_restore(f->g, &img, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "30000-30010"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_register_allocate_validate_query, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_retransmission_is_idempotent, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_register_retransmission, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_ext_mtu_in_replies, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_replay_refused, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_forged_hmac_refused, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_ownership, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_unknown_client_must_register, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_quotas_and_partial_grants, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_pool_exhaustion_partial, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_max_hosts, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_lease_expiry_frees_share, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_expired_but_unswept_host, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_validate_invalidate_free, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_deregister_frees_everything, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_reclaim_hint, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_spi_minimum_block, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_natt_port, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_cert_not_implemented, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_cert_issued_for_own_ports, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_cert_refused, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_cert_only_own_ports, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_cert_revoked_on_change, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_cert_revoked_on_expiry_and_admin_free, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_crl_over_pap, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_cert_serial_survives_restart, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_malformed_and_replies, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_site_key, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_restart_restores_state, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_restore_other_global_refused, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests_name("gateway", tests, NULL, NULL);
}
