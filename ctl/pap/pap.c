/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * PAP codec: a bounds-checked decoder driven by one schema table, and a small
 * sticky-error encoder. No I/O, no daemon state, no allocation; the HMAC and
 * key agreement live in pap_crypto.c. The wire format is in pap.h and
 * docs/pap.md.
 */
#include <errno.h>
#include <string.h>

#include "pap/pap.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* ---- big-endian helpers ------------------------------------------------- */

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = (v >> 16) & 0xff;
	p[2] = (v >> 8) & 0xff;
	p[3] = v & 0xff;
}

/* Addresses stay in network order: copy the bytes, never swap them. */
static uint32_t get_addr(const uint8_t *p)
{
	uint32_t a;

	memcpy(&a, p, sizeof(a));
	return a;
}

/* ---- parameter sizes ---------------------------------------------------- */

struct pap_param_desc {
	uint16_t min_len, max_len;	/* equal for fixed-size parameters */
	uint8_t slots;			/* room for it in struct pap_msg */
};

static const struct pap_param_desc pap_params[PAP_P_MAX + 1] = {
	[PAP_P_GLOBAL_ADDR]	= { 4, 4, PAP_MAX_RANGES },
	[PAP_P_PORT_RANGE]	= { 8, 8, PAP_MAX_RANGES },
	[PAP_P_SPI_RANGE]	= { 12, 12, PAP_MAX_RANGES },
	[PAP_P_COUNT]		= { 4, 4, 1 },
	[PAP_P_PEER_ADDR]	= { 4, 4, 1 },
	[PAP_P_LEASE]		= { 4, 4, 1 },
	[PAP_P_PUBKEY]		= { PAP_KEY_LEN, PAP_KEY_LEN, 1 },
	[PAP_P_ERROR_CODE]	= { 2, 2, 1 },
	[PAP_P_MESSAGE]		= { 0, PAP_MAX_TEXT, 1 },
	[PAP_P_CSR]		= { 1, PAP_MAX_DER, 1 },
	[PAP_P_CERT]		= { 1, PAP_MAX_DER, 4 },
	[PAP_P_SA]		= { 12, 12, PAP_MAX_SAS },
	[PAP_P_AUTH]		= { PAP_MAC_LEN, PAP_MAC_LEN, 1 },
	[PAP_P_REQ_TYPE]	= { 1, 1, 1 },
	[PAP_P_NATT_PORT]	= { 2, 2, 1 },
	[PAP_P_CRL]		= { 1, PAP_MAX_DER, 1 },
	[PAP_P_EXT_MTU]		= { 2, 2, 1 },
	[PAP_P_OFFSET]		= { 4, 4, 1 },
	[PAP_P_TOTAL]		= { 4, 4, 1 },
	[PAP_P_CRL_ID]		= { PAP_MAC_LEN, PAP_MAC_LEN, 1 },
	[PAP_P_COOKIE]		= { PAP_COOKIE_LEN, PAP_COOKIE_LEN, 1 },
	[PAP_P_TOKEN_ID]	= { 4, 4, 1 },
	[PAP_P_GW_SIG]		= { PAP_GW_SIG_LEN, PAP_GW_SIG_LEN, 1 },
};

/* ---- the schema: which parameters each message carries, how many -------- */

struct pap_rule {
	uint8_t min, max;		/* max 0: not allowed */
};

struct pap_schema {
	struct pap_rule p[PAP_P_MAX + 1];
	uint32_t one_of;		/* PAP_BITs: at least one must be present */
};

#define ONE		{ 1, 1 }
#define OPT		{ 0, 1 }
#define UPTO(n)		{ 0, n }
#define SOME(n)		{ 1, n }
/* AUTH may end any message; the daemon decides when it is required. */
#define ROW(...)	{ .p[PAP_P_AUTH] = OPT, __VA_ARGS__ }
#define EXT_REQ		ROW(.p[PAP_P_PEER_ADDR] = ONE, \
			    .p[PAP_P_SPI_RANGE] = UPTO(PAP_MAX_RANGES))
#define EXT_REPLY	ROW(.p[PAP_P_SA] = UPTO(PAP_MAX_SAS))
#define RANGES		.p[PAP_P_PORT_RANGE] = UPTO(PAP_MAX_RANGES), \
			.p[PAP_P_SPI_RANGE] = UPTO(PAP_MAX_RANGES)

static const struct pap_schema pap_schema[PAP_TYPE_MAX + 1] = {
	[PAP_REGISTER] = ROW(.p[PAP_P_PUBKEY] = ONE, .p[PAP_P_LEASE] = OPT,
			     .p[PAP_P_COOKIE] = OPT, .p[PAP_P_TOKEN_ID] = OPT,
			     .p[PAP_P_GLOBAL_ADDR] = OPT),
	[PAP_REGISTER_REPLY] = ROW(.p[PAP_P_GLOBAL_ADDR] = SOME(PAP_MAX_RANGES),
				   .p[PAP_P_LEASE] = ONE,
				   .p[PAP_P_PUBKEY] = ONE,
				   .p[PAP_P_GW_SIG] = OPT,
				   .p[PAP_P_EXT_MTU] = OPT),
	[PAP_PORT] = ROW(.p[PAP_P_COUNT] = ONE, .p[PAP_P_PORT_RANGE] = OPT,
			 .p[PAP_P_GLOBAL_ADDR] = OPT),
	[PAP_PORT_REPLY] = ROW(.p[PAP_P_PORT_RANGE] = ONE, .p[PAP_P_LEASE] = OPT),
	[PAP_SPI] = ROW(.p[PAP_P_COUNT] = ONE, .p[PAP_P_SPI_RANGE] = OPT,
			.p[PAP_P_GLOBAL_ADDR] = OPT),
	[PAP_SPI_REPLY] = ROW(.p[PAP_P_SPI_RANGE] = ONE),
	[PAP_CERT] = ROW(.p[PAP_P_CSR] = ONE),
	[PAP_CERT_REPLY] = ROW(.p[PAP_P_CERT] = SOME(4)),
	[PAP_EXT_VALIDATE] = EXT_REQ,
	[PAP_EXT_VALIDATE_REPLY] = EXT_REPLY,
	[PAP_EXT_INVALIDATE] = EXT_REQ,
	[PAP_EXT_INVALIDATE_REPLY] = EXT_REPLY,
	[PAP_EXTEND] = ROW(.p[PAP_P_LEASE] = OPT),
	[PAP_EXTEND_REPLY] = ROW(.p[PAP_P_LEASE] = ONE, .p[PAP_P_EXT_MTU] = OPT),
	[PAP_FREE] = ROW(RANGES, .one_of = PAP_BIT(PAP_P_PORT_RANGE) |
					   PAP_BIT(PAP_P_SPI_RANGE)),
	[PAP_FREE_REPLY] = ROW(RANGES),
	[PAP_DEREGISTER] = ROW(),
	[PAP_DEREGISTER_REPLY] = ROW(),
	[PAP_QUERY] = ROW(),
	[PAP_QUERY_REPLY] = ROW(.p[PAP_P_GLOBAL_ADDR] = SOME(PAP_MAX_RANGES),
				.p[PAP_P_LEASE] = ONE, RANGES,
				.p[PAP_P_SA] = UPTO(PAP_MAX_SAS),
				.p[PAP_P_NATT_PORT] = OPT,
				.p[PAP_P_EXT_MTU] = OPT),
	[PAP_NATT] = ROW(.p[PAP_P_NATT_PORT] = ONE),
	[PAP_NATT_REPLY] = ROW(.p[PAP_P_NATT_PORT] = ONE),
	/* A CRL larger than one reply comes in chunks: OFFSET asks for one;
	 * each reply names the whole CRL's length and hash. */
	[PAP_CRL] = ROW(.p[PAP_P_OFFSET] = OPT),
	[PAP_CRL_REPLY] = ROW(.p[PAP_P_CRL] = ONE, .p[PAP_P_OFFSET] = OPT,
			      .p[PAP_P_TOTAL] = OPT, .p[PAP_P_CRL_ID] = OPT),
	[PAP_ERROR] = ROW(.p[PAP_P_ERROR_CODE] = ONE, .p[PAP_P_REQ_TYPE] = OPT,
			  .p[PAP_P_MESSAGE] = OPT, .p[PAP_P_COOKIE] = OPT),
};

/* ---- decoder ------------------------------------------------------------ */

/* SPI_RANGE and SA share "addr | first u32 | last u32"; RFC 4303 reserves
 * SPIs 0..255. */
static int get_spi_triple(const uint8_t *v, uint32_t *addr, uint32_t *first,
			  uint32_t *last)
{
	*addr = get_addr(v);
	*first = get_be32(v + 4);
	*last = get_be32(v + 8);
	return *first < 256 || *first > *last ? -PAP_E_BAD_VALUE : 0;
}

/* Store the n-th occurrence of parameter t (length already checked). */
static int pap_store(struct pap_msg *m, uint8_t t, const uint8_t *v,
		     uint16_t len, uint8_t n)
{
	struct pap_port_range *pr;
	struct pap_spi_range *sr;
	struct pap_sa *sa;

	switch (t) {
	case PAP_P_GLOBAL_ADDR:
		m->globals[n] = get_addr(v);
		m->n_globals = n + 1;
		return 0;
	case PAP_P_PORT_RANGE:
		pr = &m->ports[n];
		pr->global = get_addr(v);
		pr->first = get_be16(v + 4);
		pr->last = get_be16(v + 6);
		m->n_ports = n + 1;
		return !pr->first || pr->first > pr->last ? -PAP_E_BAD_VALUE : 0;
	case PAP_P_SPI_RANGE:
		sr = &m->spis[n];
		m->n_spis = n + 1;
		return get_spi_triple(v, &sr->global, &sr->first, &sr->last);
	case PAP_P_SA:
		sa = &m->sas[n];
		m->n_sas = n + 1;
		return get_spi_triple(v, &sa->peer, &sa->spi_first, &sa->spi_last);
	case PAP_P_COUNT:
		m->count = get_be32(v);
		return m->count ? 0 : -PAP_E_BAD_VALUE;
	case PAP_P_PEER_ADDR:
		m->peer = get_addr(v);
		return 0;
	case PAP_P_LEASE:
		m->lease = get_be32(v);
		return 0;
	case PAP_P_PUBKEY:
		memcpy(m->pubkey, v, PAP_KEY_LEN);
		return 0;
	case PAP_P_ERROR_CODE:
		m->error_code = get_be16(v);
		return m->error_code ? 0 : -PAP_E_BAD_VALUE;
	case PAP_P_MESSAGE:
		m->message = (const char *)v;
		m->message_len = len;
		return 0;
	case PAP_P_CSR:
		m->csr = v;
		m->csr_len = len;
		return 0;
	case PAP_P_CERT:
		m->certs[n] = v;
		m->cert_lens[n] = len;
		m->n_certs = n + 1;
		return 0;
	case PAP_P_REQ_TYPE:
		m->req_type = v[0];
		return v[0] && v[0] <= PAP_TYPE_MAX ? 0 : -PAP_E_BAD_VALUE;
	case PAP_P_NATT_PORT:
		m->natt_port = get_be16(v);
		return 0;
	case PAP_P_CRL:
		m->crl = v;
		m->crl_len = len;
		return 0;
	case PAP_P_COOKIE:
		memcpy(m->cookie, v, PAP_COOKIE_LEN);
		return 0;
	case PAP_P_TOKEN_ID:
		m->token_id = get_be32(v);
		return m->token_id ? 0 : -PAP_E_BAD_VALUE;
	case PAP_P_GW_SIG:
		memcpy(m->gw_sig, v, PAP_GW_SIG_LEN);
		return 0;
	case PAP_P_EXT_MTU:
		m->ext_mtu = get_be16(v);
		return m->ext_mtu >= PAP_MIN_MTU ? 0 : -PAP_E_BAD_VALUE;
	case PAP_P_OFFSET:
		m->offset = get_be32(v);
		return 0;
	case PAP_P_TOTAL:
		m->total = get_be32(v);
		return m->total ? 0 : -PAP_E_BAD_VALUE;
	case PAP_P_CRL_ID:
		memcpy(m->crl_id, v, PAP_MAC_LEN);
		return 0;
	case PAP_P_AUTH:
		return 0;	/* verified by pap_verify(), which has the key */
	}
	return -PAP_E_UNKNOWN_PARAM;
}

static int pap_check_len(const struct pap_param_desc *d, uint16_t len)
{
	if (d->min_len == d->max_len ? len != d->min_len : len < d->min_len)
		return -PAP_E_BAD_PARAM_LEN;
	return len > d->max_len ? -PAP_E_OVERSIZED_PARAM : 0;
}

static int pap_check_header(const uint8_t *buf, size_t len, struct pap_msg *m)
{
	m->version = buf[0];
	m->type = buf[1];
	m->length = get_be16(buf + 2);
	m->xid = get_be32(buf + 4);
	m->client_id = get_be32(buf + 8);
	m->seq = get_be32(buf + 12);

	if (m->length != len || len > PAP_MAX_MSG)
		return -PAP_E_LENGTH_MISMATCH;
	if (m->version != PAP_VERSION)
		return -PAP_E_BAD_VERSION;
	if (!m->type || m->type > PAP_TYPE_MAX)
		return -PAP_E_BAD_TYPE;
	/* A host has neither an id nor a sequence before it registers. */
	if (m->type == PAP_REGISTER && (m->client_id || m->seq))
		return -PAP_E_BAD_VALUE;
	return 0;
}

int pap_decode(const uint8_t *buf, size_t len, struct pap_msg *m)
{
	uint8_t seen[PAP_P_MAX + 1] = { 0 };
	const struct pap_schema *s;
	size_t off = PAP_HDR_LEN;
	int err;

	memset(m, 0, sizeof(*m));
	if (!buf || len < PAP_HDR_LEN)
		return -PAP_E_TRUNCATED_HEADER;
	err = pap_check_header(buf, len, m);
	if (err)
		return err;
	s = &pap_schema[m->type];

	while (off < len) {
		const struct pap_param_desc *d;
		const struct pap_rule *r;
		uint16_t plen;
		uint8_t t;

		if (len - off < PAP_TLV_HDR_LEN)
			return -PAP_E_TRUNCATED_PARAM;
		t = buf[off];
		plen = get_be16(buf + off + 1);
		off += PAP_TLV_HDR_LEN;
		if (plen > len - off)
			return -PAP_E_TRUNCATED_PARAM;
		if (t > PAP_P_MAX && (t & PAP_P_SKIPPABLE)) {
			/* a newer peer's optional parameter: AUTH covers it
			 * like any other, so it may not follow AUTH either */
			if (m->auth_off)
				return -PAP_E_AUTH_NOT_LAST;
			m->n_skipped++;
			m->skipped_len += PAP_TLV_HDR_LEN + plen;
			off += plen;
			continue;
		}
		if (!t || t > PAP_P_MAX)
			return -PAP_E_UNKNOWN_PARAM;
		r = &s->p[t];
		if (!r->max)
			return -PAP_E_UNEXPECTED_PARAM;
		if (m->auth_off)
			return -PAP_E_AUTH_NOT_LAST;
		d = &pap_params[t];
		err = pap_check_len(d, plen);
		if (err)
			return err;
		if (seen[t] >= r->max || seen[t] >= d->slots)
			return r->max == 1 ? -PAP_E_DUPLICATE_PARAM :
					     -PAP_E_TOO_MANY;
		err = pap_store(m, t, buf + off, plen, seen[t]);
		if (err)
			return err;
		seen[t]++;
		m->present |= PAP_BIT(t);
		if (t == PAP_P_AUTH)
			m->auth_off = (uint16_t)off;
		off += plen;
	}

	for (unsigned int t = 1; t <= PAP_P_MAX; t++)
		if (seen[t] < s->p[t].min)
			return -PAP_E_MISSING_PARAM;
	if (s->one_of && !(m->present & s->one_of))
		return -PAP_E_MISSING_PARAM;
	return 0;
}

/* ---- encoder ------------------------------------------------------------ */

void pap_begin(struct pap_writer *w, uint8_t *buf, size_t cap, uint8_t type,
	       uint32_t xid, uint32_t client_id, uint32_t seq)
{
	w->buf = buf;
	/* Never build what pap_decode() would refuse for its size. */
	w->cap = cap < PAP_MAX_MSG ? cap : PAP_MAX_MSG;
	w->len = 0;
	w->err = 0;
	if (!buf) {
		w->err = -EINVAL;
		return;
	}
	if (w->cap < PAP_HDR_LEN) {
		w->err = -ENOSPC;
		return;
	}
	buf[0] = PAP_VERSION;
	buf[1] = type;
	put_be16(buf + 2, 0);		/* set by pap_finish() */
	put_be32(buf + 4, xid);
	put_be32(buf + 8, client_id);
	put_be32(buf + 12, seq);
	w->len = PAP_HDR_LEN;
}

/* Append a TLV header and reserve its value; NULL (error set) if no room. */
static uint8_t *pap_tlv(struct pap_writer *w, uint8_t param, uint16_t len)
{
	uint8_t *p;

	if (w->err)
		return NULL;
	if (w->cap - w->len < (size_t)PAP_TLV_HDR_LEN + len) {
		w->err = -ENOSPC;
		return NULL;
	}
	p = w->buf + w->len;
	p[0] = param;
	put_be16(p + 1, len);
	w->len += PAP_TLV_HDR_LEN + len;
	return p + PAP_TLV_HDR_LEN;
}

void pap_put(struct pap_writer *w, uint8_t param, const void *val, uint16_t len)
{
	uint8_t *v;

	if (!val && len) {
		if (!w->err)
			w->err = -EINVAL;
		return;
	}
	v = pap_tlv(w, param, len);
	if (v && len)
		memcpy(v, val, len);
}

void pap_put_u8(struct pap_writer *w, uint8_t param, uint8_t v)
{
	pap_put(w, param, &v, 1);
}

void pap_put_u16(struct pap_writer *w, uint8_t param, uint16_t v)
{
	uint8_t *p = pap_tlv(w, param, 2);

	if (p)
		put_be16(p, v);
}

void pap_put_u32(struct pap_writer *w, uint8_t param, uint32_t v)
{
	uint8_t *p = pap_tlv(w, param, 4);

	if (p)
		put_be32(p, v);
}

void pap_put_addr(struct pap_writer *w, uint8_t param, uint32_t addr_be)
{
	pap_put(w, param, &addr_be, 4);
}

void pap_put_port_range(struct pap_writer *w, const struct pap_port_range *r)
{
	uint8_t *p = pap_tlv(w, PAP_P_PORT_RANGE, 8);

	if (!p)
		return;
	memcpy(p, &r->global, 4);
	put_be16(p + 4, r->first);
	put_be16(p + 6, r->last);
}

static void pap_put_spi_triple(struct pap_writer *w, uint8_t param,
			       uint32_t addr, uint32_t first, uint32_t last)
{
	uint8_t *p = pap_tlv(w, param, 12);

	if (!p)
		return;
	memcpy(p, &addr, 4);
	put_be32(p + 4, first);
	put_be32(p + 8, last);
}

void pap_put_spi_range(struct pap_writer *w, const struct pap_spi_range *r)
{
	pap_put_spi_triple(w, PAP_P_SPI_RANGE, r->global, r->first, r->last);
}

void pap_put_sa(struct pap_writer *w, const struct pap_sa *sa)
{
	pap_put_spi_triple(w, PAP_P_SA, sa->peer, sa->spi_first, sa->spi_last);
}

int pap_finish(struct pap_writer *w, const uint8_t *key, size_t key_len)
{
	uint8_t *mac = NULL;

	if (!w->err && key && !key_len)
		w->err = -EINVAL;
	if (key)
		mac = pap_tlv(w, PAP_P_AUTH, PAP_MAC_LEN);
	if (w->err)
		return w->err;
	/* The MAC covers the final length, so set it first. */
	put_be16(w->buf + 2, (uint16_t)w->len);
	if (mac && pap_hmac(key, key_len, w->buf, (size_t)(mac - w->buf), mac)) {
		w->err = -EIO;
		return w->err;
	}
	return (int)w->len;
}

int pap_encode_msg(uint8_t *buf, size_t cap, const struct pap_msg *m,
		   const uint8_t *key, size_t key_len)
{
	struct pap_writer w;
	unsigned int i;

	pap_begin(&w, buf, cap, m->type, m->xid, m->client_id, m->seq);
	for (i = 0; i < m->n_globals && i < PAP_MAX_RANGES; i++)
		pap_put_addr(&w, PAP_P_GLOBAL_ADDR, m->globals[i]);
	for (i = 0; i < m->n_ports && i < PAP_MAX_RANGES; i++)
		pap_put_port_range(&w, &m->ports[i]);
	for (i = 0; i < m->n_spis && i < PAP_MAX_RANGES; i++)
		pap_put_spi_range(&w, &m->spis[i]);
	if (m->present & PAP_BIT(PAP_P_COUNT))
		pap_put_u32(&w, PAP_P_COUNT, m->count);
	if (m->present & PAP_BIT(PAP_P_PEER_ADDR))
		pap_put_addr(&w, PAP_P_PEER_ADDR, m->peer);
	if (m->present & PAP_BIT(PAP_P_LEASE))
		pap_put_u32(&w, PAP_P_LEASE, m->lease);
	if (m->present & PAP_BIT(PAP_P_PUBKEY))
		pap_put(&w, PAP_P_PUBKEY, m->pubkey, PAP_KEY_LEN);
	if (m->present & PAP_BIT(PAP_P_ERROR_CODE))
		pap_put_u16(&w, PAP_P_ERROR_CODE, m->error_code);
	if (m->present & PAP_BIT(PAP_P_MESSAGE))
		pap_put(&w, PAP_P_MESSAGE, m->message, m->message_len);
	if (m->present & PAP_BIT(PAP_P_CSR))
		pap_put(&w, PAP_P_CSR, m->csr, m->csr_len);
	for (i = 0; i < m->n_certs && i < ARRAY_SIZE(m->certs); i++)
		pap_put(&w, PAP_P_CERT, m->certs[i], m->cert_lens[i]);
	for (i = 0; i < m->n_sas && i < PAP_MAX_SAS; i++)
		pap_put_sa(&w, &m->sas[i]);
	if (m->present & PAP_BIT(PAP_P_REQ_TYPE))
		pap_put_u8(&w, PAP_P_REQ_TYPE, m->req_type);
	if (m->present & PAP_BIT(PAP_P_NATT_PORT))
		pap_put_u16(&w, PAP_P_NATT_PORT, m->natt_port);
	if (m->present & PAP_BIT(PAP_P_CRL))
		pap_put(&w, PAP_P_CRL, m->crl, m->crl_len);
	if (m->present & PAP_BIT(PAP_P_COOKIE))
		pap_put(&w, PAP_P_COOKIE, m->cookie, PAP_COOKIE_LEN);
	if (m->present & PAP_BIT(PAP_P_TOKEN_ID))
		pap_put_u32(&w, PAP_P_TOKEN_ID, m->token_id);
	if (m->present & PAP_BIT(PAP_P_GW_SIG))
		pap_put(&w, PAP_P_GW_SIG, m->gw_sig, PAP_GW_SIG_LEN);
	if (m->present & PAP_BIT(PAP_P_EXT_MTU))
		pap_put_u16(&w, PAP_P_EXT_MTU, m->ext_mtu);
	if (m->present & PAP_BIT(PAP_P_OFFSET))
		pap_put_u32(&w, PAP_P_OFFSET, m->offset);
	if (m->present & PAP_BIT(PAP_P_TOTAL))
		pap_put_u32(&w, PAP_P_TOTAL, m->total);
	if (m->present & PAP_BIT(PAP_P_CRL_ID))
		pap_put(&w, PAP_P_CRL_ID, m->crl_id, PAP_MAC_LEN);
	return pap_finish(&w, key, key_len);
}

/* Variable-size values compare by content: the pointers differ by buffer. */
static bool pap_bytes_equal(const void *a, uint16_t alen, const void *b,
			    uint16_t blen)
{
	return alen == blen && (!alen || !memcmp(a, b, alen));
}

const char *pap_msg_diff(const struct pap_msg *a, const struct pap_msg *b)
{
#define DIFF(f)		do { if (a->f != b->f) return #f; } while (0)
#define DIFF_ARR(f, n)	do { DIFF(n); if ((size_t)a->n > ARRAY_SIZE(a->f) || \
			     memcmp(a->f, b->f, a->n * sizeof(a->f[0]))) \
				return #f; } while (0)
#define DIFF_BYTES(p, l) do { if (!pap_bytes_equal(a->p, a->l, b->p, b->l)) \
				return #p; } while (0)
	unsigned int i;

	DIFF(version);
	DIFF(type);
	DIFF(length);
	DIFF(xid);
	DIFF(client_id);
	DIFF(seq);
	DIFF(present);
	DIFF_ARR(globals, n_globals);
	DIFF_ARR(ports, n_ports);
	DIFF_ARR(spis, n_spis);
	DIFF_ARR(sas, n_sas);
	DIFF(count);
	DIFF(peer);
	DIFF(lease);
	if (memcmp(a->pubkey, b->pubkey, PAP_KEY_LEN))
		return "pubkey";
	DIFF(error_code);
	DIFF(req_type);
	DIFF(natt_port);
	DIFF(ext_mtu);
	DIFF_BYTES(message, message_len);
	DIFF_BYTES(csr, csr_len);
	DIFF(n_certs);
	for (i = 0; i < a->n_certs && i < ARRAY_SIZE(a->certs); i++)
		DIFF_BYTES(certs[i], cert_lens[i]);
	DIFF_BYTES(crl, crl_len);
	DIFF(offset);
	DIFF(total);
	if (memcmp(a->crl_id, b->crl_id, PAP_MAC_LEN))
		return "crl_id";
	if (memcmp(a->cookie, b->cookie, PAP_COOKIE_LEN))
		return "cookie";
	DIFF(token_id);
	if (memcmp(a->gw_sig, b->gw_sig, PAP_GW_SIG_LEN))
		return "gw_sig";
	DIFF(auth_off);
	return NULL;
#undef DIFF_BYTES
#undef DIFF_ARR
#undef DIFF
}

int pap_build_error(uint8_t *buf, size_t cap, const struct pap_msg *req,
		    uint8_t req_type, enum pap_err code, const char *text,
		    const uint8_t *key, size_t key_len)
{
	struct pap_writer w;
	size_t n;

	if (code <= PAP_OK || code > UINT16_MAX)
		return -EINVAL;
	if (!text)
		text = pap_err_text(code);
	n = strnlen(text, PAP_MAX_TEXT + 1);
	if (n > PAP_MAX_TEXT) {
		n = PAP_MAX_TEXT;
		/* Cut before a UTF-8 continuation byte, not inside a character. */
		while (n && ((uint8_t)text[n] & 0xc0) == 0x80)
			n--;
	}

	pap_begin(&w, buf, cap, PAP_ERROR, req ? req->xid : 0,
		  req ? req->client_id : 0, req ? req->seq : 0);
	pap_put_u16(&w, PAP_P_ERROR_CODE, (uint16_t)code);
	/* An unknown request type cannot be echoed: the decoder refuses it. */
	if (req_type && req_type <= PAP_TYPE_MAX)
		pap_put_u8(&w, PAP_P_REQ_TYPE, req_type);
	pap_put(&w, PAP_P_MESSAGE, text, (uint16_t)n);
	return pap_finish(&w, key, key_len);
}

bool pap_error_may_be_unsigned(uint8_t req_type, int code)
{
	if (req_type == PAP_REGISTER)
		return true;
	return code == PAP_E_REGISTER_FIRST || code == PAP_E_AUTH_FAILED ||
	       (code > 0 && code < PAP_E_AUTH_FAILED);
}

/* ---- names -------------------------------------------------------------- */

static const char *const pap_type_names[PAP_TYPE_MAX + 1] = {
	[PAP_ERROR]			= "error",
	[PAP_REGISTER]			= "register",
	[PAP_REGISTER_REPLY]		= "register-reply",
	[PAP_PORT]			= "port",
	[PAP_PORT_REPLY]		= "port-reply",
	[PAP_SPI]			= "spi",
	[PAP_SPI_REPLY]			= "spi-reply",
	[PAP_CERT]			= "cert",
	[PAP_CERT_REPLY]		= "cert-reply",
	[PAP_EXT_VALIDATE]		= "ext-validate",
	[PAP_EXT_VALIDATE_REPLY]	= "ext-validate-reply",
	[PAP_EXT_INVALIDATE]		= "ext-invalidate",
	[PAP_EXT_INVALIDATE_REPLY]	= "ext-invalidate-reply",
	[PAP_EXTEND]			= "extend",
	[PAP_EXTEND_REPLY]		= "extend-reply",
	[PAP_FREE]			= "free",
	[PAP_FREE_REPLY]		= "free-reply",
	[PAP_DEREGISTER]		= "deregister",
	[PAP_DEREGISTER_REPLY]		= "deregister-reply",
	[PAP_QUERY]			= "query",
	[PAP_QUERY_REPLY]		= "query-reply",
	[PAP_NATT]			= "natt",
	[PAP_NATT_REPLY]		= "natt-reply",
	[PAP_CRL]			= "crl",
	[PAP_CRL_REPLY]			= "crl-reply",
};

const char *pap_type_name(uint8_t type)
{
	if (type > PAP_TYPE_MAX || !pap_type_names[type])
		return "unknown";
	return pap_type_names[type];
}

static const struct {
	const char *name, *text;
} pap_errs[PAP_E_MAX + 1] = {
	[PAP_OK]		 = { "ok", "success" },
	[PAP_E_TRUNCATED_HEADER] = { "truncated-header",
				     "datagram shorter than the 16-byte header" },
	[PAP_E_LENGTH_MISMATCH]	 = { "length-mismatch",
				     "header length differs from the datagram's, or over 16384" },
	[PAP_E_BAD_VERSION]	 = { "bad-version", "unsupported protocol version" },
	[PAP_E_BAD_TYPE]	 = { "bad-type",
				     "unknown message type, or a reply sent as a request" },
	[PAP_E_TRUNCATED_PARAM]	 = { "truncated-param",
				     "a parameter runs past the end of the datagram" },
	[PAP_E_UNKNOWN_PARAM]	 = { "unknown-param", "undefined parameter type" },
	[PAP_E_UNEXPECTED_PARAM] = { "unexpected-param",
				     "parameter not allowed in this message type" },
	[PAP_E_MISSING_PARAM]	 = { "missing-param", "a required parameter is missing" },
	[PAP_E_DUPLICATE_PARAM]	 = { "duplicate-param",
				     "a single-valued parameter appears twice" },
	[PAP_E_BAD_PARAM_LEN]	 = { "bad-param-len", "wrong length for a parameter" },
	[PAP_E_OVERSIZED_PARAM]	 = { "oversized-param",
				     "variable-size parameter over its maximum length" },
	[PAP_E_TOO_MANY]	 = { "too-many",
				     "more repeated parameters than the message allows" },
	[PAP_E_BAD_VALUE]	 = { "bad-value",
				     "invalid value (first > last, count 0, SPI below 256, ...)" },
	[PAP_E_AUTH_NOT_LAST]	 = { "auth-not-last", "AUTH is not the last parameter" },
	[PAP_E_AUTH_FAILED]	 = { "auth-failed", "missing or wrong HMAC" },
	[PAP_E_REPLAY]		 = { "replay",
				     "sequence number not above the last accepted one" },
	[PAP_E_REGISTER_FIRST]	 = { "register-first", "unknown client id: register first" },
	[PAP_E_SITE_KEY]	 = { "site-key",
				     "site key or enrolment token required and missing or wrong" },
	[PAP_E_COOKIE]		 = { "cookie", "register again with the cookie given" },
	[PAP_E_NO_RESOURCES]	 = { "no-resources", "nothing free to allocate" },
	[PAP_E_QUOTA]		 = { "quota", "per-host quota reached" },
	[PAP_E_NOT_OWNER]	 = { "not-owner",
				     "names ports or SPIs the host does not hold" },
	[PAP_E_NOT_FOUND]	 = { "not-found", "nothing matched the request" },
	[PAP_E_TOO_MANY_HOSTS]	 = { "too-many-hosts", "no room for another host" },
	[PAP_E_TABLE_FULL]	 = { "table-full",
				     "the host's range table or the gateway's SA map is full" },
	[PAP_E_BUDGET]		 = { "budget-exceeded",
				     "the host's SA budget is spent: invalidate peers first" },
	[PAP_E_RATE_LIMITED]	 = { "rate-limited", "too many such requests: try later" },
	[PAP_E_NOT_IMPLEMENTED]	 = { "not-implemented", "not implemented by this gateway" },
	[PAP_E_INTERNAL]	 = { "internal",
				     "internal gateway error (e.g. state not persisted)" },
	[PAP_E_BAD_CSR]		 = { "bad-csr",
				     "CSR not PKCS#10 DER, or its signature does not verify" },
	[PAP_E_BAD_KEY]		 = { "bad-key",
				     "CSR key not ECDSA P-256/P-384 nor RSA 2048-4096 bits, e 65537" },
	[PAP_E_NO_PORTS]	 = { "no-ports",
				     "the host holds no ports to certify: request ports first" },
};

/* Accepts a code or a negated pap_decode() return. */
static unsigned int pap_err_index(int code)
{
	unsigned int c = code < 0 ? 0u - (unsigned int)code : (unsigned int)code;

	return c <= PAP_E_MAX && pap_errs[c].name ? c : PAP_E_MAX + 1;
}

const char *pap_err_name(int code)
{
	unsigned int c = pap_err_index(code);

	return c <= PAP_E_MAX ? pap_errs[c].name : "unknown";
}

const char *pap_err_text(int code)
{
	unsigned int c = pap_err_index(code);

	return c <= PAP_E_MAX ? pap_errs[c].text : "unknown error";
}
