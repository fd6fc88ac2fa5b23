/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * pap_probe — drives a live xdnatd over UDP with the PAP client library and
 * checks every answer. Prints "PASS name" / "FAIL name: why" lines for the
 * calling test script to count; exits with the number of failures.
 *
 *   pap_probe GW PORT SESSION phase1   register, allocate, validate, extend,
 *                                      free, ownership, retransmission; saves
 *                                      the session and what it holds
 *   pap_probe GW PORT SESSION phase2   after a daemon restart: the same
 *                                      holdings, then extend and deregister
 *   pap_probe GW PORT SESSION hold     register + 32 ports, save, exit
 *   pap_probe GW PORT SESSION check    the saved session still holds them
 *   pap_probe GW PORT SESSION free     it frees them
 *
 * For the data-plane test, a host whose share is then driven step by step:
 *
 *   pap_probe GW PORT SESSION share PEER   register (lease 600 s), 16 ports,
 *                                          16 SPIs, validate PEER; prints
 *                                          CLIENT= PORT_FIRST= PORT_LAST=
 *                                          SPI_FIRST= SPI_LAST= for eval
 *   pap_probe GW PORT SESSION validate PEER | invalidate PEER | natt PORT
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include "pap/pap_client.h"

static int failures;

#define CHECK(cond, name, ...) do {					\
	if (cond) {							\
		printf("PASS %s\n", name);				\
	} else {							\
		printf("FAIL %s: ", name);				\
		printf(__VA_ARGS__);					\
		printf("\n");						\
		failures++;						\
	}								\
} while (0)

struct saved {
	uint32_t client_id, seq, xid;
	uint8_t secret[PAP_KEY_LEN];
	struct pap_port_range ports;
	struct pap_spi_range spis;
};

static int save(const char *path, const struct pap_client *c,
		const struct pap_port_range *p, const struct pap_spi_range *s)
{
	struct saved sv = {
		.client_id = c->s.client_id, .seq = c->s.seq, .xid = c->s.xid,
		.ports = *p, .spis = *s,
	};
	FILE *f = fopen(path, "w");

	memcpy(sv.secret, c->s.secret, PAP_KEY_LEN);
	if (!f || fwrite(&sv, sizeof(sv), 1, f) != 1) {
		perror(path);
		return -1;
	}
	return fclose(f);
}

static int load(const char *path, struct pap_client *c, struct saved *sv)
{
	FILE *f = fopen(path, "r");

	if (!f || fread(sv, sizeof(*sv), 1, f) != 1) {
		perror(path);
		return -1;
	}
	fclose(f);
	c->s.client_id = sv->client_id;
	c->s.seq = sv->seq;
	c->s.xid = sv->xid;
	memcpy(c->s.secret, sv->secret, PAP_KEY_LEN);
	return 0;
}

static const char *why(const struct pap_client *c, int rc)
{
	static char buf[320];

	if (rc == -EPROTO)
		snprintf(buf, sizeof(buf), "gateway said %s (%s)",
			 pap_err_name(c->err_code), c->err_text);
	else
		snprintf(buf, sizeof(buf), "%s", strerror(-rc));
	return buf;
}

/* Send a sealed QUERY twice as the very same datagram: same bytes back. */
static void check_retransmission(struct pap_client *c)
{
	uint8_t req[PAP_MAX_MSG], r1[PAP_MAX_MSG], r2[PAP_MAX_MSG];
	struct pap_writer w;
	ssize_t n1 = -1, n2 = -1;
	int len;

	pap_session_begin(&c->s, &w, req, sizeof(req), PAP_QUERY);
	len = pap_session_seal(&c->s, &w);
	for (int i = 0; i < 2; i++) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };

		if (send(c->fd, req, (size_t)len, 0) < 0 || poll(&p, 1, 2000) != 1)
			break;
		if (i == 0)
			n1 = recv(c->fd, r1, sizeof(r1), 0);
		else
			n2 = recv(c->fd, r2, sizeof(r2), 0);
	}
	CHECK(n1 > 0 && n1 == n2 && !memcmp(r1, r2, (size_t)n1),
	      "retransmitted request gets the identical reply",
	      "lengths %zd and %zd", n1, n2);
}

static void phase1(struct pap_client *c, const char *gw, uint16_t port,
		   const char *path)
{
	struct pap_client b;
	struct pap_port_range p, extra;
	struct pap_spi_range s;
	uint32_t peer, lease = 0;
	int rc;

	inet_pton(AF_INET, "203.0.113.10", &peer);
	rc = pap_client_register(c, NULL, 0, 30);
	CHECK(!rc && c->s.client_id, "register", "%s", why(c, rc));
	rc = pap_client_ports(c, 64, NULL, &p);
	CHECK(!rc && p.last - p.first + 1 == 64, "64 ports", "%s", why(c, rc));
	rc = pap_client_spis(c, 100, NULL, &s);
	CHECK(!rc && s.last - s.first + 1 == 128 && s.first % 128 == 0,
	      "SPI block of 128, aligned", "%s, got 0x%x-0x%x", why(c, rc), s.first, s.last);
	rc = pap_client_validate(c, peer, NULL, 0);
	CHECK(!rc && c->reply.n_sas == 1 && c->reply.sas[0].peer == peer,
	      "validate external peer", "%s", why(c, rc));
	rc = pap_client_extend(c, 20, &lease);
	CHECK(!rc && lease == 20, "extend", "%s, lease %u", why(c, rc), lease);
	rc = pap_client_ports(c, 16, NULL, &extra);
	if (!rc)
		rc = pap_client_free(c, &extra, 1, NULL, 0);
	CHECK(!rc && c->reply.n_ports == 1 && c->reply.ports[0].first == extra.first,
	      "allocate and free a second block", "%s", why(c, rc));

	/* Another host may not free what this one holds. */
	pap_client_open(&b, gw, port);
	rc = pap_client_register(&b, NULL, 0, 0);
	if (!rc)
		rc = pap_client_free(&b, &p, 1, NULL, 0);
	CHECK(rc == -EPROTO && b.err_code == PAP_E_NOT_OWNER,
	      "host B cannot free host A's ports", "%s", why(&b, rc));
	rc = pap_client_validate(&b, peer, &s, 1);
	CHECK(rc == -EPROTO && b.err_code == PAP_E_NOT_OWNER,
	      "host B cannot validate host A's SPIs", "%s", why(&b, rc));
	pap_client_deregister(&b);
	pap_client_close(&b);

	rc = pap_client_query(c);
	CHECK(!rc && c->reply.n_ports == 1 && c->reply.ports[0].first == p.first &&
	      c->reply.n_spis == 1 && c->reply.n_sas == 1, "query shows the share",
	      "%s", why(c, rc));
	check_retransmission(c);
	if (save(path, c, &p, &s))
		failures++;
}

static void phase2(struct pap_client *c, const char *path)
{
	struct saved sv;
	uint32_t lease = 0;
	int rc;

	if (load(path, c, &sv)) {
		failures++;
		return;
	}
	rc = pap_client_query(c);
	CHECK(!rc && c->reply.n_ports == 1 && c->reply.ports[0].first == sv.ports.first &&
	      c->reply.ports[0].last == sv.ports.last && c->reply.n_spis == 1 &&
	      c->reply.spis[0].first == sv.spis.first && c->reply.n_sas == 1,
	      "share restored after restart", "%s", why(c, rc));
	rc = pap_client_extend(c, 25, &lease);
	CHECK(!rc && lease == 25, "extend after restart", "%s", why(c, rc));
	rc = pap_client_deregister(c);
	CHECK(!rc, "deregister", "%s", why(c, rc));
	c->s.client_id = sv.client_id;
	rc = pap_client_query(c);
	CHECK(rc == -EPROTO && c->err_code == PAP_E_REGISTER_FIRST,
	      "after deregister: register first", "%s", why(c, rc));
}

static void hold(struct pap_client *c, const char *path)
{
	struct pap_port_range p;
	struct pap_spi_range s = { 0 };
	int rc = pap_client_register(c, NULL, 0, 0);

	if (!rc)
		rc = pap_client_ports(c, 32, NULL, &p);
	CHECK(!rc, "register and hold 32 ports", "%s", why(c, rc));
	if (!rc && save(path, c, &p, &s))
		failures++;
}

static void check_held(struct pap_client *c, const char *path)
{
	struct saved sv;
	int rc;

	if (load(path, c, &sv)) {
		failures++;
		return;
	}
	rc = pap_client_query(c);
	CHECK(!rc && c->reply.n_ports == 1 && c->reply.ports[0].first == sv.ports.first,
	      "share survived", "%s", why(c, rc));
}

static void free_held(struct pap_client *c, const char *path)
{
	struct saved sv;
	int rc;

	if (load(path, c, &sv)) {
		failures++;
		return;
	}
	rc = pap_client_free(c, &sv.ports, 1, NULL, 0);
	CHECK(!rc && c->reply.n_ports == 1 && c->reply.ports[0].first == sv.ports.first,
	      "free the held ports", "%s", why(c, rc));
	if (!rc && save(path, c, &sv.ports, &sv.spis))
		failures++;
}

/* Quiet on success but for the share in shell syntax; a failure is one
 * line on stderr, so the output can go straight to eval. */
static void share(struct pap_client *c, const char *path, uint32_t peer)
{
	struct pap_port_range p;
	struct pap_spi_range s;
	const char *step = "register";
	int rc = pap_client_register(c, NULL, 0, 600);

	if (!rc) {
		step = "ports";
		rc = pap_client_ports(c, 16, NULL, &p);
	}
	if (!rc) {
		step = "SPIs";
		rc = pap_client_spis(c, 16, NULL, &s);
	}
	if (!rc) {
		step = "validate";
		rc = pap_client_validate(c, peer, NULL, 0);
	}
	if (rc || save(path, c, &p, &s)) {
		fprintf(stderr, "pap_probe share: %s: %s\n", step, rc ? why(c, rc) : path);
		failures++;
		return;
	}
	printf("CLIENT=%u PORT_FIRST=%u PORT_LAST=%u SPI_FIRST=%u SPI_LAST=%u\n",
	       c->s.client_id, p.first, p.last, s.first, s.last);
}

/* One request on a saved session (arg: a peer or a port); saves it again. */
static void step(struct pap_client *c, const char *path, const char *what,
		 const char *arg)
{
	struct saved sv;
	uint32_t peer = 0;
	int rc;

	if (load(path, c, &sv)) {
		failures++;
		return;
	}
	if (!strcmp(what, "natt"))
		rc = pap_client_natt(c, (uint16_t)atoi(arg));
	else if (inet_pton(AF_INET, arg, &peer) != 1)
		rc = -EINVAL;
	else if (!strcmp(what, "validate"))
		rc = pap_client_validate(c, peer, NULL, 0);
	else
		rc = pap_client_invalidate(c, peer, NULL, 0);
	if (rc || save(path, c, &sv.ports, &sv.spis)) {
		fprintf(stderr, "pap_probe %s %s: %s\n", what, arg, rc ? why(c, rc) : path);
		failures++;
	}
}

static bool takes_arg(const char *cmd)
{
	return !strcmp(cmd, "share") || !strcmp(cmd, "validate") ||
	       !strcmp(cmd, "invalidate") || !strcmp(cmd, "natt");
}

int main(int argc, char **argv)
{
	struct pap_client c;
	uint32_t peer = 0;
	uint16_t port;

	if (argc < 5 || argc != (takes_arg(argv[4]) ? 6 : 5) ||
	    (!strcmp(argv[4], "share") && inet_pton(AF_INET, argv[5], &peer) != 1)) {
		fprintf(stderr, "usage: pap_probe GW PORT SESSION phase1|phase2|hold|check|free\n"
			"       pap_probe GW PORT SESSION share PEER|validate PEER|"
			"invalidate PEER|natt PORT\n");
		return 2;
	}
	port = (uint16_t)atoi(argv[2]);
	if (pap_client_open(&c, argv[1], port)) {
		fprintf(stderr, "pap_probe: bad gateway address %s\n", argv[1]);
		return 2;
	}
	if (!strcmp(argv[4], "phase1"))
		phase1(&c, argv[1], port, argv[3]);
	else if (!strcmp(argv[4], "phase2"))
		phase2(&c, argv[3]);
	else if (!strcmp(argv[4], "hold"))
		hold(&c, argv[3]);
	else if (!strcmp(argv[4], "check"))
		check_held(&c, argv[3]);
	else if (!strcmp(argv[4], "free"))
		free_held(&c, argv[3]);
	else if (!strcmp(argv[4], "share"))
		share(&c, argv[3], peer);
	else if (takes_arg(argv[4]))
		step(&c, argv[3], argv[4], argv[5]);
	else
		return 2;
	pap_client_close(&c);
	return failures;
}
