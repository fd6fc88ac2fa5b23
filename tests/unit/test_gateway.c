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
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include "gateway/ca.h"
#include "gateway/gateway.h"
#include "host/host_cert.h"
#include "lib/log.h"
#include "pap/pap_client.h"
#include "xdnat.h"
#include "gw_fixture.h"

/* EXTEND asking for lease seconds: what was granted. */
static uint32_t extend_lease(struct fx *f, struct pap_session *s, uint32_t lease)
{
	struct pap_writer w;

	begin(f, s, &w, PAP_EXTEND);
	pap_put_u32(&w, PAP_P_LEASE, lease);
	assert_int_equal(exchange(f, s, &w, PAP_EXTEND, HOST_A), 0);
	return f->m.lease;
}

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
		f->rep_len = gw_handle(f->g, f->req, f->req_len, HOST_A, SPORT, f->rep,
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
	f->rep_len = gw_handle(f->g, f->req, f->req_len, HOST_A, SPORT, f->rep, sizeof(f->rep));
	assert_true(f->rep_len > 0);
	assert_int_equal(pap_decode(f->rep, f->rep_len, &f->m), 0);
	assert_int_equal(f->m.type, PAP_REGISTER_REPLY);
	assert_int_equal(f->m.client_id, id);
	assert_int_equal(gw_host_count(f->g), 1);

	/* Once the host has moved on, the old REGISTER is a replay. */
	assert_int_equal(ask_ports(f, &s, 1, NULL), 0);
	f->rep_len = gw_handle(f->g, f->req, f->req_len, HOST_A, SPORT, f->rep, sizeof(f->rep));
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

/* EXTEND_REPLY carries EXT_MTU when the host was not told that value yet:
 * a renewing host learns a change, an older agent refuses one reply only. */
static void test_ext_mtu_in_extend_reply(void **state)
{
	struct fx *f = *state;
	struct pap_session s = { 0 }, t = { 0 };

	do_register(f, &s, HOST_A);
	assert_int_equal(bare_req(f, &s, PAP_EXTEND), 0);
	assert_false(f->m.present & PAP_BIT(PAP_P_EXT_MTU));
	gw_set_ext_mtu(f->g, 1400);
	assert_int_equal(bare_req(f, &s, PAP_EXTEND), 0);
	assert_true(f->m.present & PAP_BIT(PAP_P_EXT_MTU));
	assert_int_equal(f->m.ext_mtu, 1400);
	assert_true(f->m.lease > 0);
	/* told: the next renewals do without */
	assert_int_equal(bare_req(f, &s, PAP_EXTEND), 0);
	assert_false(f->m.present & PAP_BIT(PAP_P_EXT_MTU));
	assert_int_equal(bare_req(f, &s, PAP_QUERY), 0);
	assert_int_equal(f->m.ext_mtu, 1400);
	assert_int_equal(bare_req(f, &s, PAP_EXTEND), 0);
	assert_false(f->m.present & PAP_BIT(PAP_P_EXT_MTU));
	/* the link changed */
	gw_set_ext_mtu(f->g, 9000);
	assert_int_equal(bare_req(f, &s, PAP_EXTEND), 0);
	assert_int_equal(f->m.ext_mtu, 9000);
	assert_int_equal(bare_req(f, &s, PAP_EXTEND), 0);
	assert_false(f->m.present & PAP_BIT(PAP_P_EXT_MTU));
	/* REGISTER_REPLY told it already */
	do_register(f, &t, HOST_B);
	assert_int_equal(f->m.ext_mtu, 9000);
	assert_int_equal(bare_req(f, &t, PAP_EXTEND), 0);
	assert_false(f->m.present & PAP_BIT(PAP_P_EXT_MTU));
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
	f->rep_len = gw_handle(f->g, old, old_len, HOST_A, SPORT, f->rep, sizeof(f->rep));
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
	f->rep_len = gw_handle(f->g, f->req, w.len, HOST_A, SPORT, f->rep, sizeof(f->rep));
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
	/* From A's own address B's id is unknown (it is bound to B's). */
	assert_int_equal(bare_req(f, &forged, PAP_EXTEND), PAP_E_REGISTER_FIRST);
	forged.local_addr = HOST_B;	/* spoofing B's address: still A's secret */
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

	do_register(f, &s, HOST_A);
	assert_int_equal(ask_ports(f, &s, 100, NULL), 0);
	assert_int_equal(ask_spis(f, &s, 64), 0);
	assert_int_equal(gw_ports_free(f->g), 900);

	/* EXTEND keeps it alive past the first lease. */
	f->now += 50;
	granted = extend_lease(f, &s, 100000);	/* capped at max-lease */
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
	f->rep_len = gw_handle(f->g, f->req, f->req_len, HOST_A, SPORT, f->rep, sizeof(f->rep));
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
	assert_int_equal(gw_handle(f->g, junk, 10, HOST_A, SPORT, f->rep, sizeof(f->rep)), 0);
	/* A header, then an unknown parameter type: an ERROR naming it. */
	junk[16] = 200;
	junk[18] = 3;
	f->rep_len = gw_handle(f->g, junk, 40, HOST_A, SPORT, f->rep, sizeof(f->rep));
	assert_true(f->rep_len > 0);
	assert_int_equal(pap_decode(f->rep, f->rep_len, &f->m), 0);
	assert_int_equal(f->m.type, PAP_ERROR);
	assert_int_equal(f->m.error_code, PAP_E_UNKNOWN_PARAM);
	/* Replies are never answered (no ping-pong between two gateways). */
	assert_int_equal(gw_handle(f->g, reply_like, 16, HOST_A, SPORT, f->rep, sizeof(f->rep)), 0);
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
	f->rep_len = gw_handle(f->g, last_req, last_req_len, HOST_A, SPORT, f->rep, sizeof(f->rep));
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

/* ---- issue 13: REGISTER guards, the binding of a host to its address;
 * budgets, rates, the cheap checks first, CRL chunks ------------------- */

static void fx_restart_with(struct fx *f, const struct gw_config *cfg)
{
	gw_free(f->g);
	fx_start(f, cfg);
}

/* A REGISTER for s's key pair as raw bytes (no cookie unless s has one). */
static size_t raw_register(struct fx *f, struct pap_session *s, uint8_t *buf)
{
	struct pap_writer w;
	int len;

	assert_int_equal(pap_session_begin(s, &w, buf, PAP_MAX_MSG, PAP_REGISTER), 0);
	len = pap_session_seal(s, &w);
	assert_true(len > 0);
	(void)f;
	return (size_t)len;
}

static size_t send_raw(struct fx *f, const uint8_t *req, size_t len, uint32_t src,
		       uint16_t sport)
{
	f->rep_len = gw_handle(f->g, req, len, src, sport, f->rep, sizeof(f->rep));
	assert_int_equal(gw_commit(f->g), 0);
	return f->rep_len;
}

/* s's REGISTER from src answered by a COOKIE, which into (s or a copy of
 * it, as a relay would keep) takes for its next REGISTER. */
static void take_cookie(struct fx *f, struct pap_session *s, struct pap_session *into,
			uint32_t src)
{
	uint8_t req[PAP_MAX_MSG];
	struct pap_msg m;
	size_t len = raw_register(f, s, req);

	assert_true(send_raw(f, req, len, src, SPORT) > 0);
	assert_true(f->rep_len <= len);
	if (into != s)
		*into = *s;
	assert_int_equal(pap_session_check(into, f->rep, f->rep_len, PAP_REGISTER, &m),
			 PAP_E_COOKIE);
}

/* The last reply was an ERROR with code. */
static void expect_error(struct fx *f, int code)
{
	struct pap_msg m;

	assert_int_equal(pap_decode(f->rep, f->rep_len, &m), 0);
	assert_int_equal(m.type, PAP_ERROR);
	assert_int_equal(m.error_code, code);
}

static void test_cookie_round_trip(void **state)
{
	struct fx *f = *state;
	struct pap_session s = { .local_addr = HOST_A };
	uint8_t req[PAP_MAX_MSG];
	struct pap_msg m;
	size_t len;

	/* No cookie: a COOKIE error smaller than the request, nothing kept. */
	take_cookie(f, &s, &s, HOST_A);
	assert_true(s.has_cookie);
	assert_int_equal(gw_host_count(f->g), 0);
	assert_int_equal(gw_get_stats(f->g)->cookies, 1);

	/* The cookie is bound to the source port (and address) it was sent to. */
	len = raw_register(f, &s, req);
	assert_true(send_raw(f, req, len, HOST_A, SPORT + 1) > 0);
	expect_error(f, PAP_E_COOKIE);
	assert_true(send_raw(f, req, len, HOST_B, SPORT) > 0);
	expect_error(f, PAP_E_COOKIE);
	assert_int_equal(gw_host_count(f->g), 0);

	/* Good for this slot and the next, not later ... */
	f->now += 2 * GW_COOKIE_SLOT_SECS;
	take_cookie(f, &s, &s, HOST_A);
	len = raw_register(f, &s, req);
	f->now += GW_COOKIE_SLOT_SECS - 1;
	/* ... and through one secret rotation, not two */
	gw_rotate_cookie_secret(f->g);
	assert_true(send_raw(f, req, len, HOST_A, SPORT) > 0);
	assert_int_equal(pap_session_check(&s, f->rep, f->rep_len, PAP_REGISTER, &m), 0);
	assert_int_equal(gw_host_count(f->g), 1);

	s.local_addr = HOST_B;
	s.has_cookie = false;
	take_cookie(f, &s, &s, HOST_B);
	len = raw_register(f, &s, req);
	gw_rotate_cookie_secret(f->g);
	gw_rotate_cookie_secret(f->g);
	assert_true(send_raw(f, req, len, HOST_B, SPORT) > 0);
	expect_error(f, PAP_E_COOKIE);
	assert_int_equal(gw_host_count(f->g), 1);
}

/* Finding 1: the attacker (HOST_B) relays the victim's REGISTER as its own. */
static void test_relayed_register_useless(void **state)
{
	struct fx *f = *state;
	struct pap_session v = { .local_addr = HOST_A }, atk;
	struct pap_writer w;
	uint8_t req[PAP_MAX_MSG];
	struct pap_msg m;
	size_t len;

	/* The attacker gets a cookie for its address and the victim's key ... */
	take_cookie(f, &v, &atk, HOST_B);
	len = raw_register(f, &atk, req);
	assert_true(send_raw(f, req, len, HOST_B, SPORT) > 0);
	assert_int_equal(pap_decode(f->rep, f->rep_len, &m), 0);
	assert_int_equal(m.type, PAP_REGISTER_REPLY);
	/* ... but the reply, relayed back, does not verify for the victim (the
	 * secret is bound to HOST_B), and nobody else has the victim's key. */
	v.xid = atk.xid;
	assert_int_equal(pap_session_check(&v, f->rep, f->rep_len, PAP_REGISTER, &m), -EBADMSG);
	assert_int_equal(v.client_id, 0);
	assert_int_equal(gw_host_count(f->g), 1);

	/* The victim still registers itself, under another id. */
	begin(f, &v, &w, PAP_REGISTER);
	assert_int_equal(exchange(f, &v, &w, PAP_REGISTER, HOST_A), 0);
	assert_int_equal(gw_host_count(f->g), 2);
	assert_int_equal(ask_ports(f, &v, 10, NULL), 0);
	/* The ghost's requests, whoever sends them, cannot be signed: it never
	 * completes anything and is reclaimed early (see below). */
	assert_int_equal(gw_find_host(f->g, v.client_id)->addr, HOST_A);
}

/* With a site key the relay cannot even add its cookie: AUTH covers it. */
static void test_relayed_register_site_key(void **state)
{
	struct fx *f = *state;
	struct gw_config cfg = base_config();
	static const uint8_t key[32] = "a-site-key-for-the-relay-test!!!";
	struct pap_session v = { .local_addr = HOST_A, .site_key = key, .site_key_len = 32 };
	struct pap_writer w;
	uint8_t req[PAP_MAX_MSG];
	struct pap_msg m;
	size_t len;

	memcpy(cfg.site_key, key, 32);
	cfg.site_key_len = 32;
	fx_restart_with(f, &cfg);
	/* The victim's REGISTER with its cookie, captured, sent from HOST_B. */
	take_cookie(f, &v, &v, HOST_A);
	len = raw_register(f, &v, req);
	assert_true(send_raw(f, req, len, HOST_B, SPORT) > 0);
	expect_error(f, PAP_E_COOKIE);
	assert_true(f->rep_len <= len);
	assert_int_equal(gw_host_count(f->g), 0);
	/* and the original still works from the victim's address */
	assert_true(send_raw(f, req, len, HOST_A, SPORT) > 0);
	assert_int_equal(pap_session_check(&v, f->rep, f->rep_len, PAP_REGISTER, &m), 0);
	begin(f, &v, &w, PAP_QUERY);
	assert_int_equal(exchange(f, &v, &w, PAP_QUERY, HOST_A), 0);
}

static void test_request_from_other_address(void **state)
{
	struct fx *f = *state;
	struct pap_session s = { 0 };
	uint32_t free_before;
	uint8_t req[PAP_MAX_MSG];
	size_t len;

	do_register(f, &s, HOST_A);
	free_before = gw_ports_free(f->g);
	/* A genuine, signed PORT, delivered from another address: the id is
	 * unknown there (unsigned, no bigger than the request), nothing done. */
	s.local_addr = HOST_B;
	assert_int_equal(ask_ports(f, &s, 10, NULL), PAP_E_REGISTER_FIRST);
	assert_true(f->rep_len <= f->req_len);
	assert_int_equal(gw_ports_free(f->g), free_before);
	assert_int_equal(gw_get_stats(f->g)->wrong_source, 1);

	/* From its own address it works; the same bytes from elsewhere never
	 * get the cached reply. */
	s.local_addr = HOST_A;
	s.seq += 5;
	assert_int_equal(ask_ports(f, &s, 10, NULL), 0);
	memcpy(req, f->req, f->req_len);
	len = f->req_len;
	assert_true(send_raw(f, req, len, HOST_B, SPORT) <= len);
	expect_error(f, PAP_E_REGISTER_FIRST);
	assert_true(send_raw(f, req, len, 0x0d00000au, SPORT) <= len);
	expect_error(f, PAP_E_REGISTER_FIRST);
	assert_true(send_raw(f, req, len, HOST_A, SPORT) > 0);	/* the owner: cached */
	assert_int_equal(gw_get_stats(f->g)->retransmits, 1);
}

/* Finding 7: an unsigned ERROR is never bigger than what it answers. */
static void test_error_no_bigger_than_request(void **state)
{
	struct fx *f = *state;
	uint8_t junk[128] = { 1, PAP_PORT, 0, 0 };
	struct pap_session s = { .local_addr = HOST_A };
	uint8_t req[PAP_MAX_MSG];
	size_t len;

	for (size_t n = PAP_HDR_LEN; n <= sizeof(junk); n++) {
		junk[2] = (uint8_t)(n >> 8);
		junk[3] = (uint8_t)n;
		memset(junk + PAP_HDR_LEN, 0xee, sizeof(junk) - PAP_HDR_LEN);
		assert_true(send_raw(f, junk, n, HOST_A, SPORT) <= n);
		/* a bad length field too */
		junk[3] = (uint8_t)(n + 1);
		assert_true(send_raw(f, junk, n, HOST_A, SPORT) <= n);
	}
	/* 16 bytes of garbage: silence (the smallest ERROR is 21 bytes). */
	memset(junk, 0x55, 16);
	assert_int_equal(send_raw(f, junk, 16, HOST_A, SPORT), 0);
	/* REGISTER_FIRST for an unknown client, and the cookie, also. */
	len = raw_register(f, &s, req);
	assert_true(send_raw(f, req, len, HOST_A, SPORT) <= len);
	assert_true(f->rep_len > 0);
}

static void test_minimum_lease(void **state)
{
	struct fx *f = *state;
	struct gw_config cfg = base_config();
	struct pap_session s = { 0 };
	struct pap_writer w;
	uint32_t granted;

	cfg.min_lease_secs = 30;
	fx_restart_with(f, &cfg);
	begin(f, &s, &w, PAP_REGISTER);
	pap_put_u32(&w, PAP_P_LEASE, 1);
	assert_int_equal(exchange(f, &s, &w, PAP_REGISTER, HOST_A), 0);
	assert_int_equal(f->m.lease, 30);
	granted = extend_lease(f, &s, 1);
	assert_int_equal(granted, 30);
	f->now += 29;
	assert_int_equal(gw_expire(f->g), 0);
	assert_int_equal(gw_host_count(f->g), 1);
}

/* Finding 9: a bucket per source, a cap per source, unused ones reclaimed. */
static void test_register_rate_and_caps(void **state)
{
	struct fx *f = *state;
	struct gw_config cfg = base_config();
	struct pap_session s[6] = { 0 };
	struct pap_writer w;

	cfg.register_rate = 1;
	cfg.register_burst = 2;
	cfg.max_hosts_per_source = 3;
	cfg.register_timeout_secs = 20;
	fx_restart_with(f, &cfg);
	do_register(f, &s[0], HOST_A);
	do_register(f, &s[1], HOST_A);
	begin(f, &s[2], &w, PAP_REGISTER);
	assert_int_equal(exchange(f, &s[2], &w, PAP_REGISTER, HOST_A), PAP_E_RATE_LIMITED);
	/* another source has its own bucket */
	do_register(f, &s[3], HOST_B);
	f->now += 1;
	do_register(f, &s[2], HOST_A);
	f->now += 5;
	begin(f, &s[4], &w, PAP_REGISTER);
	assert_int_equal(exchange(f, &s[4], &w, PAP_REGISTER, HOST_A), PAP_E_RATE_LIMITED);
	assert_true(f->rep_len <= f->req_len);
	assert_int_equal(gw_host_count(f->g), 4);

	/* s[0] and s[3] use theirs; s[1] and s[2] never send a signed request. */
	assert_int_equal(ask_ports(f, &s[0], 4, NULL), 0);
	assert_int_equal(bare_req(f, &s[3], PAP_QUERY), 0);
	f->now += 20;
	assert_int_equal(gw_expire(f->g), 0);		/* not expiries ... */
	assert_int_equal(gw_get_stats(f->g)->reclaimed, 2);	/* ... reclaims */
	assert_int_equal(gw_host_count(f->g), 2);
	assert_non_null(gw_find_host(f->g, s[0].client_id));
	assert_non_null(gw_find_host(f->g, s[3].client_id));
	do_register(f, &s[4], HOST_A);
}

/* Finding 11: ids are never reused; at the top of the space, refused. */
static void test_client_id_at_the_top(void **state)
{
	struct fx *f = *state;
	struct state_image img = { .meta = { .next_client_id = UINT32_MAX - 1, .global = G } };
	struct pap_session s[2] = { 0 };
	struct pap_writer w;
	char err[128];

	assert_int_equal(gw_restore(f->g, &img, err, sizeof(err)), 0);
	do_register(f, &s[0], HOST_A);
	assert_int_equal(s[0].client_id, UINT32_MAX - 1);
	begin(f, &s[1], &w, PAP_REGISTER);
	assert_int_equal(exchange(f, &s[1], &w, PAP_REGISTER, HOST_B), PAP_E_NO_RESOURCES);
	assert_int_equal(gw_host_count(f->g), 1);
	/* and freeing the live one does not make its id (or 0) come round */
	assert_int_equal(bare_req(f, &s[0], PAP_DEREGISTER), 0);
	begin(f, &s[1], &w, PAP_REGISTER);
	assert_int_equal(exchange(f, &s[1], &w, PAP_REGISTER, HOST_B), PAP_E_NO_RESOURCES);
}

static void test_enrolment_tokens(void **state)
{
	struct fx *f = *state;
	struct gw_config cfg = base_config();
	struct pap_session s[5] = { 0 };
	struct gw_token once, multi, brief;
	struct pap_writer w;

	cfg.require_token = true;
	fx_restart_with(f, &cfg);
	begin(f, &s[0], &w, PAP_REGISTER);
	assert_int_equal(exchange(f, &s[0], &w, PAP_REGISTER, HOST_A), PAP_E_SITE_KEY);
	assert_int_equal(gw_host_count(f->g), 0);

	assert_int_equal(gw_token_issue(f->g, 1, 0, 0, &once), 0);
	assert_int_equal(gw_token_issue(f->g, 0, 0, 120, &multi), 0);
	assert_int_equal(gw_token_issue(f->g, 0, 10, 0, &brief), 0);
	assert_int_equal(gw_token_count(f->g), 3);
	assert_true(once.id != multi.id && multi.id != brief.id);

	/* One-time: used, then gone. */
	s[0] = (struct pap_session){ .token_id = once.id, .site_key = once.secret,
				     .site_key_len = GW_TOKEN_LEN };
	do_register(f, &s[0], HOST_A);
	assert_int_equal(bare_req(f, &s[0], PAP_QUERY), 0);
	s[1] = s[0];
	s[1].client_id = 0;
	begin(f, &s[1], &w, PAP_REGISTER);
	assert_int_equal(exchange(f, &s[1], &w, PAP_REGISTER, HOST_B), PAP_E_SITE_KEY);
	assert_int_equal(gw_token_count(f->g), 2);

	/* Multi-use, with its lease hint; a wrong secret under its id fails. */
	s[2] = (struct pap_session){ .token_id = multi.id, .site_key = multi.secret,
				     .site_key_len = GW_TOKEN_LEN };
	do_register(f, &s[2], HOST_B);
	assert_int_equal(f->m.lease, 120);
	s[3] = (struct pap_session){ .token_id = multi.id, .site_key = once.secret,
				     .site_key_len = GW_TOKEN_LEN };
	begin(f, &s[3], &w, PAP_REGISTER);
	assert_int_equal(exchange(f, &s[3], &w, PAP_REGISTER, HOST_A + 7), PAP_E_SITE_KEY);
	/* Revoked: refused from now on. */
	assert_int_equal(gw_token_revoke(f->g, multi.id), 0);
	assert_int_equal(gw_token_revoke(f->g, multi.id), -ENOENT);
	s[3].site_key = multi.secret;
	begin(f, &s[3], &w, PAP_REGISTER);
	assert_int_equal(exchange(f, &s[3], &w, PAP_REGISTER, HOST_A + 7), PAP_E_SITE_KEY);

	/* Expired: refused, and dropped by the sweep. */
	f->now += 10;
	s[4] = (struct pap_session){ .token_id = brief.id, .site_key = brief.secret,
				     .site_key_len = GW_TOKEN_LEN };
	begin(f, &s[4], &w, PAP_REGISTER);
	assert_int_equal(exchange(f, &s[4], &w, PAP_REGISTER, HOST_A + 8), PAP_E_SITE_KEY);
	gw_expire(f->g);
	assert_int_equal(gw_token_count(f->g), 0);
}

/* Finding 8: REGISTER_REPLY signed by the gateway's own key, pinned. */
static void test_gateway_signature(void **state)
{
	struct fx *f = *state;
	uint8_t seed[32] = { 9, 8, 7 }, other[32] = { 1 }, pub[32], other_pub[32];
	struct pap_session s = { .require_gw_sig = true };
	struct pap_writer w;

	/* No key: unsigned replies, which a host that wants a signature refuses. */
	begin(f, &s, &w, PAP_REGISTER);
	assert_int_equal(exchange(f, &s, &w, PAP_REGISTER, HOST_A), -EBADMSG);

	assert_int_equal(gw_set_sign_key(f->g, seed), 0);
	assert_int_equal(pap_ed25519_pub(seed, pub), 0);
	assert_int_equal(pap_ed25519_pub(other, other_pub), 0);
	s = (struct pap_session){ .require_gw_sig = true };
	do_register(f, &s, HOST_A);			/* first use: any key, seen */
	assert_memory_equal(s.gw_key_seen, pub, 32);
	s = (struct pap_session){ .gw_key = pub };
	do_register(f, &s, HOST_B);
	/* pinned to another key: refused, and said so */
	s = (struct pap_session){ .gw_key = other_pub };
	begin(f, &s, &w, PAP_REGISTER);
	assert_int_equal(exchange(f, &s, &w, PAP_REGISTER, HOST_A + 5), -EBADMSG);
	assert_true(s.gw_key_mismatch);
	/* a reply for another host's address or key does not verify */
	assert_int_equal(pap_decode(f->rep, f->rep_len, &f->m), 0);
	assert_true(pap_verify_register_reply(&f->m, HOST_A + 5, s.pub));
	assert_false(pap_verify_register_reply(&f->m, HOST_A + 6, s.pub));
	assert_false(pap_verify_register_reply(&f->m, HOST_A + 5, pub));
}

/* One host cannot fill the SA map: its validations stop at --sa-budget
 * entries (budget-exceeded), everyone's at --sa-entries (table-full), and a
 * refusal changes nothing, not even the maps (finding 3). */
static void test_sa_budget_and_table(void **state)
{
	struct fx *f = *state;
	struct gw_config cfg = base_config();
	struct pap_session a = { 0 }, b = { 0 };
	unsigned int changes;

	cfg.spi_quota = 1024;
	cfg.sa_budget = 2048;		/* two peers of a 1024-SPI block */
	cfg.sa_table = 3072;
	fx_restart_with(f, &cfg);
	do_register(f, &a, HOST_A);
	do_register(f, &b, HOST_B);
	assert_int_equal(ask_spis(f, &a, 1024), 0);
	assert_int_equal(ask_spis(f, &b, 1024), 0);

	assert_int_equal(peer_req(f, &a, PAP_EXT_VALIDATE, PEER, NULL), 0);
	assert_int_equal(peer_req(f, &a, PAP_EXT_VALIDATE, PEER + 0x01000000u, NULL), 0);
	assert_int_equal(gw_host_sa_entries(gw_find_host(f->g, a.client_id)), 2048);
	changes = f->changes;
	assert_int_equal(peer_req(f, &a, PAP_EXT_VALIDATE, PEER + 0x02000000u, NULL),
			 PAP_E_BUDGET);
	assert_string_equal(pap_err_name(f->m.error_code), "budget-exceeded");
	assert_int_equal(gw_find_host(f->g, a.client_id)->n_sas, 2);
	assert_int_equal(f->changes, changes);
	/* the same validation again is no new entry: still OK */
	assert_int_equal(peer_req(f, &a, PAP_EXT_VALIDATE, PEER, NULL), 0);

	/* b has budget left, but the map holds 3072: one peer, not two */
	assert_int_equal(peer_req(f, &b, PAP_EXT_VALIDATE, PEER, NULL), 0);
	assert_int_equal(gw_sa_entries(f->g), 3072);
	assert_int_equal(peer_req(f, &b, PAP_EXT_VALIDATE, PEER + 0x01000000u, NULL),
			 PAP_E_TABLE_FULL);
	assert_int_equal(gw_find_host(f->g, b.client_id)->n_sas, 1);
	/* what a invalidates is free for b */
	assert_int_equal(peer_req(f, &a, PAP_EXT_INVALIDATE, PEER, NULL), 0);
	assert_int_equal(peer_req(f, &b, PAP_EXT_VALIDATE, PEER + 0x01000000u, NULL), 0);
}

/* A map that refuses the entries (E2BIG: full) refuses the validation: the
 * host is told table-full, its SA table is as before and the maps are given
 * back what went in; never an OK for entries the data plane lacks. */
static void test_sa_map_refusal_rolls_back(void **state)
{
	struct fx *f = *state;
	struct pap_session s = { 0 };
	unsigned int changes;

	do_register(f, &s, HOST_A);
	assert_int_equal(ask_spis(f, &s, 64), 0);
	changes = f->changes;
	f->fail_with = -E2BIG;
	assert_int_equal(peer_req(f, &s, PAP_EXT_VALIDATE, PEER, NULL), PAP_E_TABLE_FULL);
	assert_int_equal(gw_find_host(f->g, s.client_id)->n_sas, 0);
	/* applied, refused, undone: the last change leaves no SA */
	assert_int_equal(f->changes, changes + 2);
	assert_true(f->had_old && f->had_new);
	assert_int_equal(f->last_old.n_sas, 1);
	assert_int_equal(f->last_new.n_sas, 0);
	/* the retransmission gets the same ERROR, not an OK */
	f->rep_len = gw_handle(f->g, f->req, f->req_len, HOST_A, SPORT, f->rep, sizeof(f->rep));
	assert_int_equal(pap_session_check(&s, f->rep, f->rep_len, PAP_EXT_VALIDATE, &f->m),
			 PAP_E_TABLE_FULL);
	/* the map has room again: the next one goes in, once */
	changes = f->changes;
	assert_int_equal(peer_req(f, &s, PAP_EXT_VALIDATE, PEER, NULL), 0);
	assert_int_equal(gw_find_host(f->g, s.client_id)->n_sas, 1);
	assert_int_equal(f->changes, changes + 1);
}

/* An RSA key with e of bits bits (n of mod bits). */
static EVP_PKEY *rsa_with_e(unsigned int mod, unsigned int bits)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	BIGNUM *e = BN_new();
	EVP_PKEY *k = NULL;

	assert_non_null(c);
	assert_true(BN_rand(e, (int)bits, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ODD));
	assert_int_equal(EVP_PKEY_keygen_init(c), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_keygen_bits(c, (int)mod), 1);
	assert_int_equal(EVP_PKEY_CTX_set1_rsa_keygen_pubexp(c, e), 1);
	assert_int_equal(EVP_PKEY_keygen(c, &k), 1);
	BN_free(e);
	EVP_PKEY_CTX_free(c);
	return k;
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* CERT: a host without ports is refused before the CSR is looked at; an
 * RSA key too large or with another exponent than 65537 before its
 * signature is verified (finding 10). */
static void test_cert_cheap_checks_first(void **state)
{
	struct fx *f = *state;
	struct pap_session s = { 0 };
	EVP_PKEY *huge = rsa_with_e(3072, 1024), *big = keygen("RSA", "4160");
	EVP_PKEY *e3 = rsa_with_e(2048, 2);
	uint8_t *csr, *bad;
	struct timespec t0;
	X509_REQ *req;
	const unsigned char *p;
	double verify_ms, refuse_ms;
	size_t len, blen;
	int n = 20;

	fx_ca(f);
	do_register(f, &s, HOST_A);
	csr = csr_for(huge, NULL, &len);
	bad = malloc(len);
	memcpy(bad, csr, len);
	bad[len - 1] ^= 0x01;	/* a signature that would not verify */
	/* no ports: no-ports, even for a CSR whose signature is wrong */
	assert_int_equal(cert_req(f, &s, bad, len, HOST_A), PAP_E_NO_PORTS);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < n; i++)
		assert_int_equal(cert_req(f, &s, csr, len, HOST_A), PAP_E_NO_PORTS);
	refuse_ms = ms_since(&t0) / n;
	/* what the verification alone costs: what each of these cost before */
	p = csr;
	req = d2i_X509_REQ(NULL, &p, (long)len);
	assert_non_null(req);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < n; i++)
		assert_int_equal(X509_REQ_verify(req, X509_REQ_get0_pubkey(req)), 1);
	verify_ms = ms_since(&t0) / n;
	X509_REQ_free(req);
	print_message("RSA-3072, 1024-bit e: CERT without ports %.3f ms, the signature "
		      "check it skips %.3f ms\n", refuse_ms, verify_ms);

	assert_int_equal(ask_ports(f, &s, 16, NULL), 0);
	/* with ports: the key is refused before the signature (bad still is) */
	assert_int_equal(cert_req(f, &s, bad, len, HOST_A), PAP_E_BAD_KEY);
	assert_int_equal(cert_req(f, &s, csr, len, HOST_A), PAP_E_BAD_KEY);
	free(bad);
	OPENSSL_free(csr);
	csr = csr_for(big, NULL, &blen);
	assert_int_equal(cert_req(f, &s, csr, blen, HOST_A), PAP_E_BAD_KEY);
	OPENSSL_free(csr);
	csr = csr_for(e3, NULL, &blen);
	assert_int_equal(cert_req(f, &s, csr, blen, HOST_A), PAP_E_BAD_KEY);
	OPENSSL_free(csr);
	EVP_PKEY_free(huge);
	EVP_PKEY_free(big);
	EVP_PKEY_free(e3);
}

/* At most --cert-rate CERTs per host and minute; other hosts unaffected. */
static void test_cert_rate_limit(void **state)
{
	struct fx *f = *state;
	struct gw_config cfg = base_config();
	struct pap_session a = { 0 }, b = { 0 };
	uint8_t *der;
	size_t len;

	cfg.cert_rate = 2;
	cfg.lease_secs = 300;
	fx_restart_with(f, &cfg);
	fx_ca(f);
	f->now -= f->now % 60;		/* the start of a minute */
	do_register(f, &a, HOST_A);
	do_register(f, &b, HOST_B);
	assert_int_equal(ask_ports(f, &a, 16, NULL), 0);
	assert_int_equal(ask_ports(f, &b, 16, NULL), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(get_cert(f, &a, HOST_A, &der, &len), 0);
		free(der);
	}
	assert_int_equal(get_cert(f, &a, HOST_A, &der, &len), PAP_E_RATE_LIMITED);
	assert_string_equal(pap_err_name(f->m.error_code), "rate-limited");
	assert_int_equal(get_cert(f, &b, HOST_B, &der, &len), 0);
	free(der);
	f->now += 60;
	assert_int_equal(get_cert(f, &a, HOST_A, &der, &len), 0);
	free(der);
}

/* A CA whose crl.list already holds n revocations. */
static void fx_ca_revoked(struct fx *f, unsigned int n)
{
	char path[128], err[256];
	FILE *l;

	snprintf(f->ca_dir, sizeof(f->ca_dir), "/tmp/xdnat-gwca-XXXXXX");
	assert_non_null(mkdtemp(f->ca_dir));
	snprintf(path, sizeof(path), "%s/crl.list", f->ca_dir);
	l = fopen(path, "w");
	assert_non_null(l);
	fprintf(l, "# xdnat crl.list v1\nnumber 1\n");
	for (unsigned int i = 1; i <= n; i++)
		/* 128-bit serials as the CA makes them: top bit clear */
		fprintf(l, "7%07x%08x%08x%08x %ld\n", i, i * 2654435761u, ~i, i,
			(long)time(NULL) - 10);
	fclose(l);
	if (ca_open(f->ca_dir, NULL, NULL, G, &f->ca, err, sizeof(err)))
		fail_msg("ca_open: %s", err);
	gw_set_ca(f->g, f->ca);
	f->now = (uint64_t)time(NULL);
}

static int crl_chunk_req(struct fx *f, struct pap_session *s, uint32_t off)
{
	struct pap_writer w;

	begin(f, s, &w, PAP_CRL);
	if (off)
		pap_put_u32(&w, PAP_P_OFFSET, off);
	return exchange(f, s, &w, PAP_CRL, HOST_A);
}

/* 1000 revocations: a CRL of ~40 KiB, far more than one reply; PAP CRL
 * gives it in chunks that name the whole length and hash (finding 6). */
static void test_crl_in_chunks(void **state)
{
	struct fx *f = *state;
	struct pap_session s = { 0 };
	uint8_t sum[SHA256_DIGEST_LENGTH], id[PAP_MAC_LEN], *all;
	uint32_t total, got = 0;
	const unsigned char *p;
	X509_CRL *crl;
	int chunks = 0;

	fx_ca_revoked(f, 1000);
	do_register(f, &s, HOST_A);
	assert_int_equal(crl_chunk_req(f, &s, 0), 0);
	assert_true(f->m.present & PAP_BIT(PAP_P_TOTAL));
	total = f->m.total;
	print_message("CRL of %u bytes, %zu revoked\n", total, ca_revoked_count(f->ca));
	assert_true(total > 3 * PAP_CRL_CHUNK);
	memcpy(id, f->m.crl_id, sizeof(id));
	all = malloc(total);
	for (;;) {
		assert_int_equal(f->m.offset, got);
		assert_int_equal(f->m.total, total);
		assert_memory_equal(f->m.crl_id, id, sizeof(id));
		assert_true(f->m.crl_len <= PAP_CRL_CHUNK && f->m.crl_len <= total - got);
		memcpy(all + got, f->m.crl, f->m.crl_len);
		got += f->m.crl_len;
		chunks++;
		if (got == total)
			break;
		assert_int_equal(crl_chunk_req(f, &s, got), 0);
	}
	assert_int_equal(chunks, (int)((total + PAP_CRL_CHUNK - 1) / PAP_CRL_CHUNK));
	SHA256(all, total, sum);
	assert_memory_equal(sum, id, sizeof(sum));
	p = all;
	crl = d2i_X509_CRL(NULL, &p, total);
	assert_non_null(crl);
	assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), 1000);
	X509_CRL_free(crl);
	free(all);
	/* past the end: bad-value */
	assert_int_equal(crl_chunk_req(f, &s, total), PAP_E_BAD_VALUE);
}

/* Certificates name the CRL distribution point and carry portBlocks under
 * the configured OID (the default one under 2.25, not RFC 5612's PEN). */
static void test_cert_crl_dp_and_oid(void **state)
{
	struct fx *f = *state;
	struct pap_session s = { 0 };
	struct pap_port_range got[4];
	const unsigned char *p;
	STACK_OF(DIST_POINT) *dps;
	GENERAL_NAME *gn;
	unsigned int n = 4;
	uint32_t g;
	uint8_t *der;
	size_t len;
	X509 *x;

	fx_ca(f);
	do_register(f, &s, HOST_A);
	assert_int_equal(ask_ports(f, &s, 16, NULL), 0);
	assert_int_equal(get_cert(f, &s, HOST_A, &der, &len), 0);
	assert_int_equal(cert_read_ports(der, len, &g, got, &n), 0);
	p = der;
	x = d2i_X509(NULL, &p, (long)len);
	assert_null(X509_get_ext_d2i(x, NID_crl_distribution_points, NULL, NULL));
	X509_free(x);
	free(der);

	assert_int_equal(ca_set_profile(f->ca, "http://10.0.0.1:8555/crl.der", "1.2.3.4.5"), 0);
	assert_int_equal(get_cert(f, &s, HOST_A, &der, &len), 0);
	n = 4;
	assert_int_equal(cert_read_ports(der, len, &g, got, &n), -ENOENT);
	n = 4;
	assert_int_equal(cert_read_ports_oid(der, len, "1.2.3.4.5", &g, got, &n), 0);
	assert_int_equal(n, 1);
	p = der;
	x = d2i_X509(NULL, &p, (long)len);
	dps = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL, NULL);
	assert_non_null(dps);
	assert_int_equal(sk_DIST_POINT_num(dps), 1);
	gn = sk_GENERAL_NAME_value(sk_DIST_POINT_value(dps, 0)->distpoint->name.fullname, 0);
	assert_int_equal(gn->type, GEN_URI);
	assert_string_equal((const char *)ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier),
			    "http://10.0.0.1:8555/crl.der");
	sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
	X509_free(x);
	free(der);
	assert_false(!strncmp(CERT_OID_PORT_BLOCKS, "1.3.6.1.4.1.32473", 17));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_register_allocate_validate_query, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_retransmission_is_idempotent, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_register_retransmission, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_ext_mtu_in_extend_reply, fx_setup,
						fx_teardown),
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
		cmocka_unit_test_setup_teardown(test_cookie_round_trip, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_relayed_register_useless, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_relayed_register_site_key, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_request_from_other_address, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_error_no_bigger_than_request, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_minimum_lease, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_register_rate_and_caps, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_client_id_at_the_top, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_enrolment_tokens, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_gateway_signature, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_sa_budget_and_table, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_sa_map_refusal_rolls_back, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_cert_cheap_checks_first, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_cert_rate_limit, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_crl_in_chunks, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_cert_crl_dp_and_oid, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests_name("gateway", tests, NULL, NULL);
}
