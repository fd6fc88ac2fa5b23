/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A gateway (gw_new(), no sockets) driven with PAP requests under an injected
 * clock, for the CMocka suites: fx_setup() makes one with base_config(), the
 * helpers seal a request as a client would, hand it to gw_handle() and check
 * the reply (decoded into f->m). Include after <cmocka.h>.
 */
#ifndef XDNAT_TEST_GW_FIXTURE_H
#define XDNAT_TEST_GW_FIXTURE_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "gateway/ca.h"
#include "gateway/gateway.h"
#include "lib/log.h"
#include "pap/pap_client.h"

#define G	0x016433c6u	/* 198.51.100.1 in network order (little-endian host) */
#define HOST_A	0x0b00000au	/* 10.0.0.11 */
#define HOST_B	0x0c00000au	/* 10.0.0.12 */
#define PEER	0x0a7100cbu	/* 203.0.113.10 */
#define SPORT	0x4711u		/* any source port */

struct fx {
	struct gw *g;
	uint64_t now;
	struct state_store *store;
	char dir[64];
	uint8_t req[PAP_MAX_MSG], rep[PAP_MAX_MSG];
	size_t req_len, rep_len;
	struct pap_msg m;
	unsigned int changes;		/* host_changed calls */
	struct host last_old, last_new;
	bool had_old, had_new;
	int fail_with;			/* the next host_changed returns this */
	struct ca *ca;			/* fx_ca(): a CA in ca_dir */
	char ca_dir[64];
};

static inline uint64_t fake_clock(void *ctx)
{
	return ((struct fx *)ctx)->now;
}

static inline int on_change(void *ctx, const struct gw *g, const struct host *o,
			    const struct host *n)
{
	struct fx *f = ctx;
	int err = f->fail_with;

	(void)g;

	f->fail_with = 0;	/* one change fails, the next (the undo) works */
	f->changes++;
	f->had_old = o;
	f->had_new = n;
	if (o)
		f->last_old = *o;
	if (n)
		f->last_new = *n;
	return err;
}

static inline struct gw_config base_config(void)
{
	struct gw_config c = {
		.global = G,
		.port_lo = 20000, .port_hi = 20999,
		.spi_lo = 4096, .spi_hi = 0xffffffff,
		.lease_secs = 60, .max_lease_secs = 600,
		.port_quota = 256, .spi_quota = 1024, .max_hosts = 8,
		/* the CERT tests ask many times a minute; test_cert_rate sets its own */
		.cert_rate = 1000,
	};

	return c;
}

static inline void fx_start(struct fx *f, const struct gw_config *cfg)
{
	struct gw_hooks hooks = { .ctx = f, .host_changed = on_change };

	assert_int_equal(gw_new(cfg, f->store, fake_clock, f, &f->g), 0);
	gw_set_hooks(f->g, &hooks);
}

static inline int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct gw_config cfg = base_config();

	log_setup("test", LOG_LVL_ERR, 0);
	f->now = 1000000;
	fx_start(f, &cfg);
	*state = f;
	return 0;
}

static inline int fx_teardown(void **state)
{
	struct fx *f = *state;

	gw_free(f->g);
	if (f->store) {
		char cmd[128];

		state_close(f->store);
		snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
		assert_int_equal(system(cmd), 0);
	}
	if (f->ca) {
		char cmd[128];

		ca_close(f->ca);
		snprintf(cmd, sizeof(cmd), "rm -rf %s", f->ca_dir);
		assert_int_equal(system(cmd), 0);
	}
	free(f);
	return 0;
}

static inline int exchange_once(struct fx *f, struct pap_session *s, struct pap_writer *w,
				uint8_t type, uint32_t src)
{
	int len = pap_session_seal(s, w);

	assert_true(len > 0);
	f->req_len = (size_t)len;
	f->rep_len = gw_handle(f->g, f->req, f->req_len, src, SPORT, f->rep, sizeof(f->rep));
	assert_int_equal(gw_commit(f->g), 0);
	if (!f->rep_len)
		return -ENODATA;
	return pap_session_check(s, f->rep, f->rep_len, type, &f->m);
}

/* Hand the sealed request to the gateway, check the reply like a client; a
 * REGISTER goes again with the COOKIE it is answered with, as a client's. A
 * session registered from an address keeps using it. */
static inline int exchange(struct fx *f, struct pap_session *s, struct pap_writer *w,
		    uint8_t type, uint32_t src)
{
	struct pap_msg req;
	int rc;

	if (type == PAP_REGISTER) {
		s->local_addr = src;
		s->has_cookie = false;
	} else if (s->local_addr && src == HOST_A) {
		src = s->local_addr;
	}
	rc = exchange_once(f, s, w, type, src);
	if (type != PAP_REGISTER || rc != PAP_E_COOKIE)
		return rc;
	assert_int_equal(pap_decode(f->req, f->req_len, &req), 0);
	assert_int_equal(pap_session_begin(s, w, f->req, sizeof(f->req), PAP_REGISTER), 0);
	if (req.present & PAP_BIT(PAP_P_LEASE))
		pap_put_u32(w, PAP_P_LEASE, req.lease);
	return exchange_once(f, s, w, type, src);
}

static inline void begin(struct fx *f, struct pap_session *s, struct pap_writer *w,
		  uint8_t type)
{
	assert_int_equal(pap_session_begin(s, w, f->req, sizeof(f->req), type), 0);
}

static inline void do_register(struct fx *f, struct pap_session *s, uint32_t src)
{
	struct pap_writer w;

	begin(f, s, &w, PAP_REGISTER);
	assert_int_equal(exchange(f, s, &w, PAP_REGISTER, src), 0);
	assert_true(s->client_id != 0);
	assert_int_equal(f->m.globals[0], G);
}

static inline int ask_ports(struct fx *f, struct pap_session *s, uint32_t count,
		     const struct pap_port_range *hint)
{
	struct pap_writer w;

	begin(f, s, &w, PAP_PORT);
	pap_put_u32(&w, PAP_P_COUNT, count);
	if (hint)
		pap_put_port_range(&w, hint);
	return exchange(f, s, &w, PAP_PORT, HOST_A);
}

static inline int ask_spis(struct fx *f, struct pap_session *s, uint32_t count)
{
	struct pap_writer w;

	begin(f, s, &w, PAP_SPI);
	pap_put_u32(&w, PAP_P_COUNT, count);
	return exchange(f, s, &w, PAP_SPI, HOST_A);
}

static inline int peer_req(struct fx *f, struct pap_session *s, uint8_t type,
		    uint32_t peer, const struct pap_spi_range *r)
{
	struct pap_writer w;

	begin(f, s, &w, type);
	pap_put_addr(&w, PAP_P_PEER_ADDR, peer);
	if (r)
		pap_put_spi_range(&w, r);
	return exchange(f, s, &w, type, HOST_A);
}

static inline int free_req(struct fx *f, struct pap_session *s,
		    const struct pap_port_range *p, const struct pap_spi_range *r)
{
	struct pap_writer w;

	begin(f, s, &w, PAP_FREE);
	if (p)
		pap_put_port_range(&w, p);
	if (r)
		pap_put_spi_range(&w, r);
	return exchange(f, s, &w, PAP_FREE, HOST_A);
}

static inline int bare_req(struct fx *f, struct pap_session *s, uint8_t type)
{
	struct pap_writer w;

	begin(f, s, &w, type);
	return exchange(f, s, &w, type, HOST_A);
}

static inline int natt_req(struct fx *f, struct pap_session *s, uint16_t port)
{
	struct pap_writer w;

	begin(f, s, &w, PAP_NATT);
	pap_put_u16(&w, PAP_P_NATT_PORT, port);
	return exchange(f, s, &w, PAP_NATT, HOST_A);
}

#endif
