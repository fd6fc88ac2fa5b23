/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The PAP client's own recovery and error text (ctl/pap/pap_client.c),
 * against a scripted gateway on loopback: an ERROR REPLAY is retried once,
 * 65536 sequence numbers further on under a new xid, the retry sealed with
 * the session's secret; a second REPLAY is the caller's; and every failure
 * has its one line (pap_client_strerror).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <openssl/sha.h>
#include "pap/pap_client.h"

#define CLIENT_ID	7
#define MAX_REQS	4

static const uint8_t secret[PAP_KEY_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };

struct gw {
	int fd;
	uint16_t port;
	int replays;		/* answer this many requests with REPLAY first */
	pthread_t thread;
	/* what came in */
	int n;
	uint32_t xid[MAX_REQS], seq[MAX_REQS];
	uint8_t type[MAX_REQS];
	bool sealed[MAX_REQS];	/* AUTH verifies with the secret */
};

static void *gateway(void *arg)
{
	struct gw *g = arg;
	uint8_t buf[PAP_MAX_MSG], out[PAP_MAX_MSG];

	while (g->n < MAX_REQS) {
		struct pollfd p = { .fd = g->fd, .events = POLLIN };
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);
		struct pap_writer w;
		struct pap_msg m;
		ssize_t len;
		int olen;

		if (poll(&p, 1, 3000) != 1)
			break;
		len = recvfrom(g->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
		if (len <= 0 || pap_decode(buf, (size_t)len, &m))
			break;
		g->xid[g->n] = m.xid;
		g->seq[g->n] = m.seq;
		g->type[g->n] = m.type;
		g->sealed[g->n] = m.auth_off && pap_verify(buf, &m, secret, PAP_KEY_LEN);
		if (g->n++ < g->replays) {
			olen = pap_build_error(out, sizeof(out), &m, m.type, PAP_E_REPLAY, NULL,
					       secret, PAP_KEY_LEN);
		} else {
			pap_begin(&w, out, sizeof(out), PAP_EXTEND_REPLY, m.xid, m.client_id, m.seq);
			pap_put_u32(&w, PAP_P_LEASE, 60);
			olen = pap_finish(&w, secret, PAP_KEY_LEN);
		}
		if (olen < 0)
			break;
		sendto(g->fd, out, (size_t)olen, 0, (struct sockaddr *)&from, flen);
	}
	return NULL;
}

static int setup(void **state)
{
	struct gw *g = calloc(1, sizeof(*g));
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);

	if (!g)
		return -1;
	g->fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (g->fd < 0 || bind(g->fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    getsockname(g->fd, (struct sockaddr *)&sa, &len))
		return -1;
	g->port = ntohs(sa.sin_port);
	*state = g;
	return 0;
}

static int teardown(void **state)
{
	struct gw *g = *state;

	close(g->fd);
	free(g);
	return 0;
}

/* A client registered as CLIENT_ID whose last request was seq 10. */
static void open_client(struct pap_client *c, const struct gw *g)
{
	assert_int_equal(pap_client_open(c, "127.0.0.1", g->port), 0);
	c->s.client_id = CLIENT_ID;
	memcpy(c->s.secret, secret, PAP_KEY_LEN);
	c->s.seq = 10;
	c->s.xid = 100;
	c->timeout_ms = 200;
	c->retries = 1;
}

static void replay_retried_once_further_on(void **state)
{
	static struct pap_client c;
	struct gw *g = *state;
	uint32_t granted = 0;

	g->replays = 1;
	open_client(&c, g);
	assert_int_equal(pthread_create(&g->thread, NULL, gateway, g), 0);
	assert_int_equal(pap_client_extend(&c, 60, &granted), 0);
	pthread_join(g->thread, NULL);
	assert_int_equal(granted, 60);
	assert_int_equal(g->n, 2);
	assert_int_equal(g->seq[0], 11);
	assert_int_equal(g->seq[1], 11 + PAP_CLIENT_REPLAY_SKIP + 1);
	assert_int_equal(g->xid[1], g->xid[0] + 1);
	assert_int_equal(g->type[1], PAP_EXTEND);
	assert_true(g->sealed[0]);
	assert_true(g->sealed[1]);		/* the retry is sealed anew */
	assert_int_equal(c.s.seq, g->seq[1]);	/* the session moves on from there */
	pap_client_close(&c);
}

static void second_replay_is_the_callers(void **state)
{
	static struct pap_client c;
	struct gw *g = *state;

	g->replays = 2;
	open_client(&c, g);
	assert_int_equal(pthread_create(&g->thread, NULL, gateway, g), 0);
	assert_int_equal(pap_client_query(&c), -EPROTO);
	assert_int_equal(c.err_code, PAP_E_REPLAY);
	/* one retry only: the gateway waits for a third that never comes */
	pthread_join(g->thread, NULL);
	assert_int_equal(g->n, 2);
	assert_string_equal(pap_client_strerror(&c, -EPROTO), "replay (sequence number not above "
			    "the last accepted one)");
	pap_client_close(&c);
}

static void error_text(void **state)
{
	static struct pap_client c;
	struct gw *g = *state;
	char want[64];

	open_client(&c, g);
	c.retries = 0;
	c.timeout_ms = 50;
	/* nobody answers: the gateway thread is not running */
	assert_int_equal(pap_client_crl(&c), -ETIMEDOUT);
	snprintf(want, sizeof(want), "no answer from 127.0.0.1:%u", g->port);
	assert_string_equal(pap_client_strerror(&c, -ETIMEDOUT), want);
	assert_ptr_equal(pap_client_strerror(&c, -ENOTCONN), c.why);
	assert_string_equal(c.why, strerror(ENOTCONN));
	/* unregistered: refused before anything is sent */
	c.s.client_id = 0;
	assert_int_equal(pap_client_query(&c), -ENOTCONN);
	pap_client_close(&c);
}

/* ---- REGISTER's GLOBAL_ADDR ---------------------------------------------- */

struct reg_gw {
	struct gw *g;
	int n;
	bool has_global;
	uint32_t global;
};

/* Takes one REGISTER, notes its GLOBAL_ADDR, refuses it (NO_RESOURCES). */
static void *register_gateway(void *arg)
{
	struct reg_gw *rg = arg;
	uint8_t buf[PAP_MAX_MSG], out[PAP_MAX_MSG];
	struct pollfd p = { .fd = rg->g->fd, .events = POLLIN };
	struct sockaddr_in from;
	socklen_t flen = sizeof(from);
	struct pap_msg m;
	ssize_t len;
	int olen;

	if (poll(&p, 1, 3000) != 1)
		return NULL;
	len = recvfrom(rg->g->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
	if (len <= 0 || pap_decode(buf, (size_t)len, &m) || m.type != PAP_REGISTER)
		return NULL;
	rg->n++;
	rg->has_global = m.present & PAP_BIT(PAP_P_GLOBAL_ADDR);
	rg->global = rg->has_global ? m.globals[0] : 0;
	olen = pap_build_error(out, sizeof(out), &m, m.type, PAP_E_NO_RESOURCES, NULL, NULL, 0);
	if (olen > 0)
		sendto(rg->g->fd, out, (size_t)olen, 0, (struct sockaddr *)&from, flen);
	return NULL;
}

static void register_asks(struct gw *g, uint32_t want, struct reg_gw *rg)
{
	static struct pap_client c;

	*rg = (struct reg_gw){ .g = g };
	assert_int_equal(pap_client_open(&c, "127.0.0.1", g->port), 0);
	c.timeout_ms = 200;
	c.retries = 1;
	c.want_global = want;
	assert_int_equal(pthread_create(&g->thread, NULL, register_gateway, rg), 0);
	assert_int_equal(pap_client_register(&c, secret, sizeof(secret), 0), -EPROTO);
	pthread_join(g->thread, NULL);
	assert_int_equal(c.err_code, PAP_E_NO_RESOURCES);
	assert_int_equal(rg->n, 1);
	pap_client_close(&c);
}

/* xdnat-host up --global G: REGISTER names G; without it, no GLOBAL_ADDR. */
static void register_global_addr(void **state)
{
	struct reg_gw rg;
	uint32_t g2 = htonl(0xc6336402);	/* 198.51.100.2 */

	register_asks(*state, 0, &rg);
	assert_false(rg.has_global);
	register_asks(*state, g2, &rg);
	assert_true(rg.has_global);
	assert_int_equal(rg.global, g2);
}

/* ---- CRL in chunks ------------------------------------------------------ */

#define CRL_A_LEN	30000
#define CRL_B_LEN	20001

static uint8_t crl_a[CRL_A_LEN], crl_b[CRL_B_LEN];

struct crl_gw {
	struct gw *g;
	int switch_after;	/* serve crl_b after this many chunks; -1: never */
	bool corrupt;		/* one byte of the last chunk wrong */
	int served;
};

/* Serves crl_a (then crl_b) in PAP_CRL_CHUNK pieces from the OFFSET asked. */
static void *crl_gateway(void *arg)
{
	struct crl_gw *cg = arg;
	struct gw *g = cg->g;
	uint8_t buf[PAP_MAX_MSG], out[PAP_MAX_MSG], id[PAP_MAC_LEN], chunk[PAP_CRL_CHUNK];

	for (;;) {
		struct pollfd p = { .fd = g->fd, .events = POLLIN };
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);
		bool b = cg->switch_after >= 0 && cg->served >= cg->switch_after;
		const uint8_t *crl = b ? crl_b : crl_a;
		uint32_t total = b ? CRL_B_LEN : CRL_A_LEN, n;
		struct pap_writer w;
		struct pap_msg m;
		ssize_t len;
		int olen;

		if (poll(&p, 1, 2000) != 1)
			break;
		len = recvfrom(g->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
		if (len <= 0 || pap_decode(buf, (size_t)len, &m) || m.type != PAP_CRL ||
		    m.offset >= total)
			break;
		n = total - m.offset < PAP_CRL_CHUNK ? total - m.offset : PAP_CRL_CHUNK;
		memcpy(chunk, crl + m.offset, n);
		if (cg->corrupt && m.offset + n == total)
			chunk[n - 1] ^= 1;
		SHA256(crl, total, id);
		pap_begin(&w, out, sizeof(out), PAP_CRL_REPLY, m.xid, m.client_id, m.seq);
		pap_put(&w, PAP_P_CRL, chunk, (uint16_t)n);
		pap_put_u32(&w, PAP_P_OFFSET, m.offset);
		pap_put_u32(&w, PAP_P_TOTAL, total);
		pap_put(&w, PAP_P_CRL_ID, id, sizeof(id));
		olen = pap_finish(&w, secret, PAP_KEY_LEN);
		if (olen < 0)
			break;
		cg->served++;
		sendto(g->fd, out, (size_t)olen, 0, (struct sockaddr *)&from, flen);
	}
	return NULL;
}

static void crl_run(struct gw *g, struct crl_gw *cg, struct pap_client *c, int *rc)
{
	for (size_t i = 0; i < CRL_A_LEN; i++)
		crl_a[i] = (uint8_t)(i * 31 + 7);
	for (size_t i = 0; i < CRL_B_LEN; i++)
		crl_b[i] = (uint8_t)(i * 17 + 1);
	cg->g = g;
	open_client(c, g);
	assert_int_equal(pthread_create(&g->thread, NULL, crl_gateway, cg), 0);
	*rc = pap_client_crl(c);
	pthread_join(g->thread, NULL);
}

/* A CRL of 30000 bytes comes in 4 chunks, put together and checked. */
static void crl_reassembled(void **state)
{
	static struct pap_client c;
	struct crl_gw cg = { .switch_after = -1 };
	int rc;

	crl_run(*state, &cg, &c, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(cg.served, 4);
	assert_int_equal(c.crl_len, CRL_A_LEN);
	assert_memory_equal(c.crl, crl_a, CRL_A_LEN);
	pap_client_close(&c);
	assert_null(c.crl);
}

/* A new CRL signed between two chunks: the client starts again and gets
 * the new one whole, never a mix. */
static void crl_changed_midway(void **state)
{
	static struct pap_client c;
	struct crl_gw cg = { .switch_after = 2 };
	int rc;

	crl_run(*state, &cg, &c, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(cg.served, 2 + 1 + 3);	/* 2 of a, the stale one, then b */
	assert_int_equal(c.crl_len, CRL_B_LEN);
	assert_memory_equal(c.crl, crl_b, CRL_B_LEN);
	pap_client_close(&c);
}

/* Chunks that do not hash to the CRL's SHA-256: refused, nothing kept. */
static void crl_corrupt_refused(void **state)
{
	static struct pap_client c;
	struct crl_gw cg = { .switch_after = -1, .corrupt = true };
	int rc;

	crl_run(*state, &cg, &c, &rc);
	assert_int_equal(rc, -EBADMSG);
	assert_null(c.crl);
	assert_int_equal(c.crl_len, 0);
	pap_client_close(&c);
}

/* Finding 12: an on-path forger's unsigned ERROR (QUOTA, NOT_OWNER, ...)
 * is not an answer; register-first and auth-failed may come unsigned, a
 * signed one under the secret is taken, one signed under another is not. */
static void unsigned_errors_ignored(void **state)
{
	static const uint8_t other[PAP_KEY_LEN] = { 9 };
	struct pap_session s = { .client_id = CLIENT_ID, .seq = 4, .xid = 40 };
	uint8_t buf[PAP_MAX_MSG];
	struct pap_msg req = { .xid = 40, .client_id = CLIENT_ID, .seq = 4 }, m;
	int len;

	(void)state;
	memcpy(s.secret, secret, PAP_KEY_LEN);
	len = pap_build_error(buf, sizeof(buf), &req, PAP_PORT, PAP_E_QUOTA, NULL, NULL, 0);
	assert_true(len > 0);
	assert_int_equal(pap_session_check(&s, buf, (size_t)len, PAP_PORT, &m), -EAGAIN);
	len = pap_build_error(buf, sizeof(buf), &req, PAP_DEREGISTER, PAP_E_NOT_FOUND, NULL,
			      NULL, 0);
	assert_int_equal(pap_session_check(&s, buf, (size_t)len, PAP_DEREGISTER, &m), -EAGAIN);
	len = pap_build_error(buf, sizeof(buf), &req, PAP_PORT, PAP_E_QUOTA, NULL, other,
			      PAP_KEY_LEN);
	assert_int_equal(pap_session_check(&s, buf, (size_t)len, PAP_PORT, &m), -EBADMSG);
	len = pap_build_error(buf, sizeof(buf), &req, PAP_PORT, PAP_E_QUOTA, NULL, secret,
			      PAP_KEY_LEN);
	assert_int_equal(pap_session_check(&s, buf, (size_t)len, PAP_PORT, &m), PAP_E_QUOTA);
	len = pap_build_error(buf, sizeof(buf), &req, PAP_PORT, PAP_E_REGISTER_FIRST, NULL,
			      NULL, 0);
	assert_int_equal(pap_session_check(&s, buf, (size_t)len, PAP_PORT, &m),
			 PAP_E_REGISTER_FIRST);
	len = pap_build_error(buf, sizeof(buf), &req, PAP_PORT, PAP_E_AUTH_FAILED, NULL, NULL, 0);
	assert_int_equal(pap_session_check(&s, buf, (size_t)len, PAP_PORT, &m),
			 PAP_E_AUTH_FAILED);
	/* A COOKIE is only for REGISTER, and only with the cookie in it. */
	len = pap_build_error(buf, sizeof(buf), &req, PAP_PORT, PAP_E_COOKIE, NULL, NULL, 0);
	assert_int_equal(pap_session_check(&s, buf, (size_t)len, PAP_PORT, &m), -EAGAIN);
	s.client_id = 0;
	req.client_id = 0;
	req.seq = 0;
	len = pap_build_error(buf, sizeof(buf), &req, PAP_REGISTER, PAP_E_COOKIE, NULL, NULL, 0);
	assert_int_equal(pap_session_check(&s, buf, (size_t)len, PAP_REGISTER, &m), -EBADMSG);
	assert_false(s.has_cookie);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(replay_retried_once_further_on, setup, teardown),
		cmocka_unit_test_setup_teardown(second_replay_is_the_callers, setup, teardown),
		cmocka_unit_test_setup_teardown(error_text, setup, teardown),
		cmocka_unit_test_setup_teardown(register_global_addr, setup, teardown),
		cmocka_unit_test_setup_teardown(crl_reassembled, setup, teardown),
		cmocka_unit_test_setup_teardown(crl_changed_midway, setup, teardown),
		cmocka_unit_test_setup_teardown(crl_corrupt_refused, setup, teardown),
		cmocka_unit_test(unsigned_errors_ignored),
	};

	return cmocka_run_group_tests_name("pap_client", tests, NULL, NULL);
}
