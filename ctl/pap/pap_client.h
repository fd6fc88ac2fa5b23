/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * PAP client library, for xdnat-host, the tests and the benchmark.
 *
 * Two layers: a session (identity, secret, sequence numbers: builds sealed
 * requests and checks replies, no I/O), and a client that adds the UDP
 * transport with retransmission of the very same datagram on time-out, so the
 * gateway's reply cache makes every call exactly-once. The client recovers
 * from a REPLAY itself (a saved sequence number older than the gateway's:
 * it jumps 65536 ahead and asks once more) and words every failure as one
 * line (pap_client_strerror).
 */
#ifndef XDNAT_PAP_CLIENT_H
#define XDNAT_PAP_CLIENT_H

#include <stdint.h>
#include <netinet/in.h>
#include "pap/pap.h"

struct pap_session {
	uint32_t client_id;		/* 0 until registered */
	uint8_t secret[PAP_KEY_LEN];
	uint32_t seq;			/* of the last request sent */
	uint32_t xid;
	/* REGISTER in flight: our X25519 key pair. */
	uint8_t priv[PAP_KEY_LEN], pub[PAP_KEY_LEN];
	const uint8_t *site_key;	/* or an enrolment token's secret */
	size_t site_key_len;
	uint32_t token_id;		/* non-zero: site_key is that token's secret */
	uint32_t local_addr;		/* our address as the gateway sees it (Hi) */
	/* The COOKIE the gateway gave for this REGISTER (return routability). */
	uint8_t cookie[PAP_COOKIE_LEN];
	bool has_cookie;
	/* The gateway's Ed25519 key: REGISTER_REPLY must be signed by it. NULL
	 * with require_gw_sig: any key, written to gw_key_seen (first use). */
	const uint8_t *gw_key;
	bool require_gw_sig;
	uint8_t gw_key_seen[PAP_SIG_KEY_LEN];
	bool gw_key_mismatch;		/* a signed reply by another key came */
};

/* Start a request of type into buf; REGISTER uses a fresh key pair, unless
 * it answers a COOKIE (s->has_cookie): the same key pair, with the cookie. */
int pap_session_begin(struct pap_session *s, struct pap_writer *w,
		      uint8_t *buf, size_t cap, uint8_t type);
/* Seal (length + AUTH). Returns the datagram length or -errno. */
int pap_session_seal(struct pap_session *s, struct pap_writer *w);
/*
 * Check a reply to the request last sealed: decodes into m, checks xid and
 * type, verifies AUTH (for REGISTER_REPLY: derives and stores the secret).
 * Returns 0 for the expected reply, the positive enum pap_err of an ERROR
 * reply (m->message has the text), -EAGAIN for a datagram that is not the
 * answer (stale xid, or an unsigned ERROR whose code the gateway always
 * signs: keep waiting) or -EBADMSG for a forged/malformed one. A COOKIE
 * ERROR to REGISTER stores the cookie in s.
 */
int pap_session_check(struct pap_session *s, const uint8_t *buf, size_t len,
		      uint8_t req_type, struct pap_msg *m);

struct pap_client {
	struct pap_session s;
	int fd;
	struct sockaddr_in gw;
	int timeout_ms;			/* first wait; doubles per retry */
	int retries;
	/* The G REGISTER asks for (GLOBAL_ADDR), network order; 0: the
	 * gateway chooses. */
	uint32_t want_global;
	/* Last ERROR the gateway sent (code 0 when the failure was local). */
	int err_code;
	char err_text[PAP_MAX_TEXT + 1];
	char why[PAP_MAX_TEXT + 64];	/* pap_client_strerror()'s line */
	/* Last reply, decoded; points into rbuf. */
	struct pap_msg reply;
	uint8_t rbuf[PAP_MAX_MSG];
	uint8_t qbuf[PAP_MAX_MSG];
	/* The last CRL pap_client_crl() put together (malloc'd, freed by
	 * pap_client_close() or the next call). */
	uint8_t *crl;
	size_t crl_len;
};

/* gw: the gateway's internal address (dotted quad), port in host order. */
int pap_client_open(struct pap_client *c, const char *gw, uint16_t port);
void pap_client_close(struct pap_client *c);

/* How far a request jumps its sequence number after a REPLAY. */
#define PAP_CLIENT_REPLAY_SKIP	(1u << 16)

/*
 * Every call returns 0, -EPROTO when the gateway answered with an ERROR
 * (c->err_code / c->err_text say which), -ETIMEDOUT when it never answered,
 * or another -errno. On success c->reply holds the decoded reply. An ERROR
 * REPLAY is retried once, PAP_CLIENT_REPLAY_SKIP further on.
 */
int pap_client_register(struct pap_client *c, const uint8_t *site_key,
			size_t site_key_len, uint32_t lease);
/* REGISTER with an enrolment token (xdnatctl token issue) instead of a site
 * key. -EKEYREJECTED: only replies signed by another key than the pinned one
 * came (c->s.gw_key_seen holds it). */
int pap_client_register_token(struct pap_client *c, uint32_t token_id,
			      const uint8_t *secret, size_t secret_len,
			      uint32_t lease);
int pap_client_ports(struct pap_client *c, uint32_t count,
		     const struct pap_port_range *hint, struct pap_port_range *got);
int pap_client_spis(struct pap_client *c, uint32_t count,
		    const struct pap_spi_range *hint, struct pap_spi_range *got);
int pap_client_validate(struct pap_client *c, uint32_t peer,
			const struct pap_spi_range *spis, unsigned int n);
int pap_client_invalidate(struct pap_client *c, uint32_t peer,
			  const struct pap_spi_range *spis, unsigned int n);
int pap_client_extend(struct pap_client *c, uint32_t lease, uint32_t *granted);
int pap_client_free(struct pap_client *c,
		    const struct pap_port_range *ports, unsigned int np,
		    const struct pap_spi_range *spis, unsigned int ns);
int pap_client_deregister(struct pap_client *c);
int pap_client_query(struct pap_client *c);	/* result in c->reply */
/* Declare which held port carries ESP-in-UDP (0: none). */
int pap_client_natt(struct pap_client *c, uint16_t port);
/* CERT with a PKCS#10 DER: c->reply.certs[] hold the leaf, then the chain. */
int pap_client_cert(struct pap_client *c, const uint8_t *csr, size_t len);
/* CRL: c->crl holds the CA's whole CRL, DER, put together from as many
 * chunks as it takes (each checked against the whole CRL's length and
 * SHA-256); a CRL that changed between two chunks is fetched again from the
 * start, twice at most (then -ESTALE). -EFBIG over PAP_MAX_CRL. */
int pap_client_crl(struct pap_client *c);

/* Why the call that returned rc failed, as one line kept in c->why: the
 * gateway's ERROR ("NOT_OWNER (text)"), "no answer from GW:PORT", or
 * strerror. */
const char *pap_client_strerror(struct pap_client *c, int rc);

#endif
