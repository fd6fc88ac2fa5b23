/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include "pap/pap_client.h"

/* ---- session: sealing requests, checking replies ---------------------- */

int pap_session_begin(struct pap_session *s, struct pap_writer *w,
		      uint8_t *buf, size_t cap, uint8_t type)
{
	int err;

	if (!s->xid && RAND_bytes((unsigned char *)&s->xid, sizeof(s->xid)) != 1)
		return -EIO;
	s->xid++;
	if (type == PAP_REGISTER) {
		if (!s->has_cookie) {
			err = pap_x25519_keygen(s->priv, s->pub);
			if (err)
				return err;
		}
		s->client_id = 0;
		s->seq = 0;
		pap_begin(w, buf, cap, type, s->xid, 0, 0);
		pap_put(w, PAP_P_PUBKEY, s->pub, PAP_KEY_LEN);
		if (s->has_cookie)
			pap_put(w, PAP_P_COOKIE, s->cookie, PAP_COOKIE_LEN);
		if (s->token_id)
			pap_put_u32(w, PAP_P_TOKEN_ID, s->token_id);
		return 0;
	}
	if (!s->client_id)
		return -ENOTCONN;
	pap_begin(w, buf, cap, type, s->xid, s->client_id, ++s->seq);
	return 0;
}

int pap_session_seal(struct pap_session *s, struct pap_writer *w)
{
	bool reg = w->len >= 2 && w->buf[1] == PAP_REGISTER;

	if (reg)
		return pap_finish(w, s->site_key_len ? s->site_key : NULL,
				  s->site_key_len);
	return pap_finish(w, s->secret, PAP_KEY_LEN);
}

/* Signed when the gateway knew us; unsigned only for the codes that the
 * protocol lets be (an on-path forger cannot make us give up). */
static int check_error(struct pap_session *s, const uint8_t *buf,
		       uint8_t req_type, const struct pap_msg *m)
{
	bool authentic = m->auth_off && s->client_id && req_type != PAP_REGISTER &&
			 pap_verify(buf, m, s->secret, PAP_KEY_LEN);

	if (m->auth_off && s->client_id && req_type != PAP_REGISTER && !authentic)
		return -EBADMSG;
	if (!authentic && !pap_error_may_be_unsigned(req_type, m->error_code))
		return -EAGAIN;
	if (m->error_code == PAP_E_COOKIE) {
		if (req_type != PAP_REGISTER || !(m->present & PAP_BIT(PAP_P_COOKIE)))
			return -EBADMSG;
		memcpy(s->cookie, m->cookie, PAP_COOKIE_LEN);
		s->has_cookie = true;
	}
	return m->error_code ? m->error_code : -EBADMSG;
}

/* REGISTER_REPLY: signed by the pinned gateway key over this exchange. */
static int check_gw_sig(struct pap_session *s, const struct pap_msg *m)
{
	if (!s->gw_key && !s->require_gw_sig)
		return 0;
	if (!pap_verify_register_reply(m, s->local_addr, s->pub))
		return -EBADMSG;
	if (s->gw_key && CRYPTO_memcmp(s->gw_key, m->gw_sig, PAP_SIG_KEY_LEN)) {
		s->gw_key_mismatch = true;
		memcpy(s->gw_key_seen, m->gw_sig, PAP_SIG_KEY_LEN);
		return -EBADMSG;
	}
	memcpy(s->gw_key_seen, m->gw_sig, PAP_SIG_KEY_LEN);
	return 0;
}

int pap_session_check(struct pap_session *s, const uint8_t *buf, size_t len,
		      uint8_t req_type, struct pap_msg *m)
{
	uint8_t secret[PAP_KEY_LEN];
	int rc = pap_decode(buf, len, m);

	if (rc == -PAP_E_TRUNCATED_HEADER || m->xid != s->xid)
		return -EAGAIN;
	if (rc < 0)
		return -EBADMSG;
	if (m->type == PAP_ERROR)
		return check_error(s, buf, req_type, m);
	if (m->type != req_type + 1)
		return -EBADMSG;
	if (req_type == PAP_REGISTER) {
		rc = check_gw_sig(s, m);
		if (rc)
			return rc;
		if (pap_derive_secret(s->priv, m->pubkey, s->pub, m->pubkey,
				      m->client_id, s->local_addr, s->site_key,
				      s->site_key_len, secret))
			return -EIO;
		if (!pap_verify(buf, m, secret, PAP_KEY_LEN)) {
			OPENSSL_cleanse(secret, sizeof(secret));
			return -EBADMSG;
		}
		memcpy(s->secret, secret, PAP_KEY_LEN);
		OPENSSL_cleanse(secret, sizeof(secret));
		OPENSSL_cleanse(s->priv, sizeof(s->priv));
		s->has_cookie = false;
		s->client_id = m->client_id;
		s->seq = 0;
		return 0;
	}
	if (m->client_id != s->client_id || m->seq != s->seq ||
	    !pap_verify(buf, m, s->secret, PAP_KEY_LEN))
		return -EBADMSG;
	return 0;
}

/* ---- client: UDP with retransmission ---------------------------------- */

int pap_client_open(struct pap_client *c, const char *gw, uint16_t port)
{
	struct sockaddr_in local;
	socklen_t local_len = sizeof(local);

	memset(c, 0, sizeof(*c));
	c->gw.sin_family = AF_INET;
	c->gw.sin_port = htons(port);
	if (inet_pton(AF_INET, gw, &c->gw.sin_addr) != 1)
		return -EINVAL;
	c->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	if (connect(c->fd, (struct sockaddr *)&c->gw, sizeof(c->gw)) ||
	    getsockname(c->fd, (struct sockaddr *)&local, &local_len)) {
		int err = -errno;

		close(c->fd);
		return err;
	}
	/* Hi: the source the gateway sees, bound into the key derivation. */
	c->s.local_addr = local.sin_addr.s_addr;
	c->timeout_ms = 250;
	c->retries = 5;
	return 0;
}

void pap_client_close(struct pap_client *c)
{
	if (c->fd > 0)
		close(c->fd);
	c->fd = -1;
	free(c->crl);
	c->crl = NULL;
	c->crl_len = 0;
	OPENSSL_cleanse(&c->s, sizeof(c->s));
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Send the sealed request, resending the same bytes until an answer. */
static int send_and_wait(struct pap_client *c, struct pap_writer *w, uint8_t type)
{
	int len = pap_session_seal(&c->s, w), timeout = c->timeout_ms;

	c->err_code = 0;
	c->err_text[0] = 0;
	if (len < 0)
		return len;
	for (int attempt = 0; attempt <= c->retries; attempt++, timeout *= 2) {
		int64_t deadline = now_ms() + timeout;

		if (send(c->fd, c->qbuf, (size_t)len, 0) < 0 &&
		    errno != ECONNREFUSED)
			return -errno;
		for (;;) {
			struct pollfd p = { .fd = c->fd, .events = POLLIN };
			int left = (int)(deadline - now_ms()), rc;
			ssize_t n;

			if (left <= 0 || poll(&p, 1, left) <= 0)
				break;
			n = recv(c->fd, c->rbuf, sizeof(c->rbuf), 0);
			if (n < 0) {
				/* ICMP port unreachable (no daemon yet): wait out this
				 * attempt, so the backoff still spans seconds. */
				left = (int)(deadline - now_ms());
				if (left > 0)
					poll(NULL, 0, left);
				break;
			}
			rc = pap_session_check(&c->s, c->rbuf, (size_t)n, type, &c->reply);
			if (rc == -EAGAIN || rc == -EBADMSG)
				continue;	/* not our answer: keep waiting */
			if (rc > 0) {
				c->err_code = rc;
				snprintf(c->err_text, sizeof(c->err_text), "%.*s",
					 c->reply.message ? (int)c->reply.message_len : 0,
					 c->reply.message ? c->reply.message : "");
				if (!c->err_text[0])
					snprintf(c->err_text, sizeof(c->err_text), "%s",
						 pap_err_text(rc));
				return -EPROTO;
			}
			return rc;
		}
	}
	return c->s.gw_key_mismatch && type == PAP_REGISTER ? -EKEYREJECTED : -ETIMEDOUT;
}

/*
 * The request built in w, answered. A REPLAY means the gateway saw a higher
 * sequence number than ours (a state file older than the last request):
 * the same parameters go again under a new xid and a sequence number
 * PAP_CLIENT_REPLAY_SKIP ahead, once.
 */
static int transact(struct pap_client *c, struct pap_writer *w, uint8_t type)
{
	size_t body = w->len;	/* header and parameters, before AUTH */
	int rc = send_and_wait(c, w, type);

	if (rc != -EPROTO || c->err_code != PAP_E_REPLAY || type == PAP_REGISTER)
		return rc;
	c->s.seq += PAP_CLIENT_REPLAY_SKIP;
	/* a new header over the old one; the parameters stay where they are */
	pap_begin(w, c->qbuf, sizeof(c->qbuf), type, ++c->s.xid, c->s.client_id, ++c->s.seq);
	w->len = body;
	return send_and_wait(c, w, type);
}

const char *pap_client_strerror(struct pap_client *c, int rc)
{
	char gw[INET_ADDRSTRLEN];

	if (rc == -EPROTO)
		snprintf(c->why, sizeof(c->why), "%s (%s)", pap_err_name(c->err_code),
			 c->err_text);
	else if (rc == -EKEYREJECTED)
		snprintf(c->why, sizeof(c->why),
			 "the gateway's replies are signed by another key than the pinned one "
			 "(a forger, or a new gateway key: check it and provision it)");
	else if (rc == -ETIMEDOUT)
		snprintf(c->why, sizeof(c->why), "no answer from %s:%u",
			 inet_ntop(AF_INET, &c->gw.sin_addr, gw, sizeof(gw)),
			 ntohs(c->gw.sin_port));
	else
		snprintf(c->why, sizeof(c->why), "%s", strerror(-rc));
	return c->why;
}

static int begin(struct pap_client *c, struct pap_writer *w, uint8_t type)
{
	return pap_session_begin(&c->s, w, c->qbuf, sizeof(c->qbuf), type);
}

/* REGISTER, and once more with the COOKIE when the gateway asks for one
 * (the same key pair: the cookie is bound to it). */
static int do_register(struct pap_client *c, uint32_t lease)
{
	struct pap_writer w;
	int err;

	c->s.has_cookie = false;
	c->s.gw_key_mismatch = false;
	for (int round = 0; round < 3; round++) {
		err = begin(c, &w, PAP_REGISTER);
		if (err)
			return err;
		if (lease)
			pap_put_u32(&w, PAP_P_LEASE, lease);
		if (c->want_global)
			pap_put_addr(&w, PAP_P_GLOBAL_ADDR, c->want_global);
		err = transact(c, &w, PAP_REGISTER);
		if (err != -EPROTO || c->err_code != PAP_E_COOKIE)
			break;
	}
	c->s.has_cookie = false;
	return err;
}

int pap_client_register(struct pap_client *c, const uint8_t *site_key,
			size_t site_key_len, uint32_t lease)
{
	c->s.site_key = site_key;
	c->s.site_key_len = site_key_len;
	c->s.token_id = 0;
	return do_register(c, lease);
}

int pap_client_register_token(struct pap_client *c, uint32_t token_id,
			      const uint8_t *secret, size_t secret_len,
			      uint32_t lease)
{
	if (!token_id || !secret || !secret_len)
		return -EINVAL;
	c->s.site_key = secret;
	c->s.site_key_len = secret_len;
	c->s.token_id = token_id;
	return do_register(c, lease);
}

int pap_client_ports(struct pap_client *c, uint32_t count,
		     const struct pap_port_range *hint, struct pap_port_range *got)
{
	struct pap_writer w;
	int err = begin(c, &w, PAP_PORT);

	if (err)
		return err;
	pap_put_u32(&w, PAP_P_COUNT, count);
	if (hint)
		pap_put_port_range(&w, hint);
	err = transact(c, &w, PAP_PORT);
	if (!err && got)
		*got = c->reply.ports[0];
	return err;
}

int pap_client_spis(struct pap_client *c, uint32_t count,
		    const struct pap_spi_range *hint, struct pap_spi_range *got)
{
	struct pap_writer w;
	int err = begin(c, &w, PAP_SPI);

	if (err)
		return err;
	pap_put_u32(&w, PAP_P_COUNT, count);
	if (hint)
		pap_put_spi_range(&w, hint);
	err = transact(c, &w, PAP_SPI);
	if (!err && got)
		*got = c->reply.spis[0];
	return err;
}

static int peer_request(struct pap_client *c, uint8_t type, uint32_t peer,
			const struct pap_spi_range *spis, unsigned int n)
{
	struct pap_writer w;
	int err = begin(c, &w, type);

	if (err)
		return err;
	pap_put_addr(&w, PAP_P_PEER_ADDR, peer);
	for (unsigned int i = 0; i < n; i++)
		pap_put_spi_range(&w, &spis[i]);
	return transact(c, &w, type);
}

int pap_client_validate(struct pap_client *c, uint32_t peer,
			const struct pap_spi_range *spis, unsigned int n)
{
	return peer_request(c, PAP_EXT_VALIDATE, peer, spis, n);
}

int pap_client_invalidate(struct pap_client *c, uint32_t peer,
			  const struct pap_spi_range *spis, unsigned int n)
{
	return peer_request(c, PAP_EXT_INVALIDATE, peer, spis, n);
}

int pap_client_extend(struct pap_client *c, uint32_t lease, uint32_t *granted)
{
	struct pap_writer w;
	int err = begin(c, &w, PAP_EXTEND);

	if (err)
		return err;
	if (lease)
		pap_put_u32(&w, PAP_P_LEASE, lease);
	err = transact(c, &w, PAP_EXTEND);
	if (!err && granted)
		*granted = c->reply.lease;
	return err;
}

int pap_client_free(struct pap_client *c,
		    const struct pap_port_range *ports, unsigned int np,
		    const struct pap_spi_range *spis, unsigned int ns)
{
	struct pap_writer w;
	int err = begin(c, &w, PAP_FREE);

	if (err)
		return err;
	for (unsigned int i = 0; i < np; i++)
		pap_put_port_range(&w, &ports[i]);
	for (unsigned int i = 0; i < ns; i++)
		pap_put_spi_range(&w, &spis[i]);
	return transact(c, &w, PAP_FREE);
}

static int bare_request(struct pap_client *c, uint8_t type)
{
	struct pap_writer w;
	int err = begin(c, &w, type);

	return err ? err : transact(c, &w, type);
}

int pap_client_deregister(struct pap_client *c)
{
	int err = bare_request(c, PAP_DEREGISTER);

	if (!err)
		c->s.client_id = 0;
	return err;
}

int pap_client_query(struct pap_client *c)
{
	return bare_request(c, PAP_QUERY);
}

int pap_client_natt(struct pap_client *c, uint16_t port)
{
	struct pap_writer w;
	int err = begin(c, &w, PAP_NATT);

	if (err)
		return err;
	pap_put_u16(&w, PAP_P_NATT_PORT, port);
	return transact(c, &w, PAP_NATT);
}

int pap_client_cert(struct pap_client *c, const uint8_t *csr, size_t len)
{
	struct pap_writer w;
	int err;

	if (!csr || !len || len > PAP_MAX_DER)
		return -EINVAL;
	err = begin(c, &w, PAP_CERT);
	if (err)
		return err;
	pap_put(&w, PAP_P_CSR, csr, (uint16_t)len);
	return transact(c, &w, PAP_CERT);
}

static int crl_chunk(struct pap_client *c, uint32_t offset)
{
	struct pap_writer w;
	int err = begin(c, &w, PAP_CRL);

	if (err)
		return err;
	if (offset)
		pap_put_u32(&w, PAP_P_OFFSET, offset);
	return transact(c, &w, PAP_CRL);
}

/* One pass over the chunks into c->crl: 0, -ESTALE when the CRL changed
 * under us, or -errno. */
static int crl_fetch(struct pap_client *c)
{
	const struct pap_msg *m = &c->reply;
	uint8_t id[PAP_MAC_LEN], sum[SHA256_DIGEST_LENGTH];
	uint32_t total, got = 0;
	int err = crl_chunk(c, 0);

	if (err)
		return err;
	if (!(m->present & PAP_BIT(PAP_P_TOTAL))) {
		/* a gateway that sends the CRL whole, in one reply */
		total = m->crl_len;
	} else {
		total = m->total;
		if (!(m->present & PAP_BIT(PAP_P_CRL_ID)) || m->offset)
			return -EBADMSG;
	}
	if (total > PAP_MAX_CRL)
		return -EFBIG;
	memcpy(id, m->crl_id, sizeof(id));
	c->crl = malloc(total);
	if (!c->crl)
		return -ENOMEM;
	for (;;) {
		if (m->crl_len > total - got)
			return -EBADMSG;
		memcpy(c->crl + got, m->crl, m->crl_len);
		got += m->crl_len;
		if (got == total)
			break;
		err = crl_chunk(c, got);
		if (err)
			return err;
		if (m->total != total || memcmp(m->crl_id, id, sizeof(id)))
			return -ESTALE;	/* a new CRL was signed meanwhile */
		if (m->offset != got)
			return -EBADMSG;
	}
	c->crl_len = total;
	if (!(m->present & PAP_BIT(PAP_P_TOTAL)))
		return 0;
	SHA256(c->crl, total, sum);
	return CRYPTO_memcmp(sum, id, sizeof(sum)) ? -EBADMSG : 0;
}

int pap_client_crl(struct pap_client *c)
{
	int err = -ESTALE;

	for (int pass = 0; pass < 3 && err == -ESTALE; pass++) {
		free(c->crl);
		c->crl = NULL;
		c->crl_len = 0;
		err = crl_fetch(c);
	}
	if (err) {
		free(c->crl);
		c->crl = NULL;
		c->crl_len = 0;
	}
	return err;
}
