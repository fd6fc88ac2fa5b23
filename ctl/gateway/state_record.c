/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The state store's record codec (state_record.h): struct host and the meta
 * to and from bytes, and the little-endian writer and reader that state.c
 * also frames its files with. No I/O here; the file layouts are in state.c.
 *
 * Byte order: every integer in every file is little-endian, written and read
 * byte by byte, so the files do not depend on the host's endianness or on
 * struct layout. IPv4 addresses, which struct host keeps in network order,
 * are stored as their four bytes as they are (a.b.c.d). Nothing is ever
 * written straight from a struct: no padding, no pointers.
 *
 * Host record, version 1 (in state.snap, and the HOST_PUT payload):
 *   u8 version | u32 client_id | addr[4] | global[4] | secret[32]
 *   | host_pub[32] | u64 lease_expires | u32 lease_secs | u32 last_seq
 *   | u32 last_xid | last_mac[32] | u16 reply_len | u8 n_ports | u8 n_spis
 *   | u8 n_sas | u16 natt_port | cert_serial[16] | u64 cert_expires
 *   | n_ports x (global[4] u16 first u16 last)
 *   | n_spis x (global[4] u32 first u32 last)
 *   | n_sas x (peer[4] u32 spi_first u32 spi_last) | reply[reply_len]
 * Meta, version 2 (state.snap version 2, journal kind META_POOL):
 *   u32 next_client_id | u8 n_pool (1..16) | n_pool x global[4]
 * Meta, version 1 (state.snap version 1, journal kind META; still read, as
 * the pool of one): u32 next_client_id | global[4]
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "gateway/gateway.h"
#include "gateway/state_record.h"

#define HOST_VERSION	1
#define TOKENS_MAGIC	0x4b544458u	/* "XDTK" little-endian */
#define TOKENS_VERSION	1
#define TOKEN_LEN	(4 + GW_TOKEN_LEN + 8 + 4 + 4 + 4)

/* ---- encoding ---------------------------------------------------------- */

uint8_t *buf_grow(struct buf *b, size_t n)
{
	uint8_t *p;

	if (b->err)
		return NULL;
	if (n > b->cap - b->len) {
		size_t cap = b->cap ? b->cap : 512;

		while (n > cap - b->len) {
			if (cap > SIZE_MAX / 2) {
				b->err = -ENOMEM;
				return NULL;
			}
			cap *= 2;
		}
		p = realloc(b->p, cap);
		if (!p) {
			b->err = -ENOMEM;
			return NULL;
		}
		b->p = p;
		b->cap = cap;
	}
	p = b->p + b->len;
	b->len += n;
	return p;
}

void put_bytes(struct buf *b, const void *v, size_t n)
{
	uint8_t *d = buf_grow(b, n);

	if (d && n)
		memcpy(d, v, n);
}

static void le_store(uint8_t *d, uint64_t v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		d[i] = (uint8_t)(v >> (8 * i));
}

uint64_t le_load(const uint8_t *s, unsigned int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | s[n];
	return v;
}

static void put_le(struct buf *b, uint64_t v, unsigned int n)
{
	uint8_t *d = buf_grow(b, n);

	if (d)
		le_store(d, v, n);
}

void put_u8(struct buf *b, uint8_t v)	{ put_le(b, v, 1); }
void put_u16(struct buf *b, uint16_t v)	{ put_le(b, v, 2); }
void put_u32(struct buf *b, uint32_t v)	{ put_le(b, v, 4); }
void put_u64(struct buf *b, uint64_t v)	{ put_le(b, v, 8); }
/* Network-order address: its bytes as they are. */
void put_addr(struct buf *b, uint32_t a)	{ put_bytes(b, &a, 4); }

/* A u32 length placeholder, filled in by patch_len() once the body is out. */
size_t put_len(struct buf *b)
{
	size_t at = b->len;

	put_u32(b, 0);
	return at;
}

void patch_len(struct buf *b, size_t at, size_t body_start)
{
	if (!b->err)
		le_store(b->p + at, b->len - body_start, 4);
}

/* ---- decoding: a cursor that never reads past len ------------------------ */

const uint8_t *get_bytes(struct rd *r, size_t n)
{
	const uint8_t *s;

	if (r->bad || n > r->len - r->off) {
		r->bad = true;
		return NULL;
	}
	s = r->p + r->off;
	r->off += n;
	return s;
}

static uint64_t get_le(struct rd *r, unsigned int n)
{
	const uint8_t *s = get_bytes(r, n);

	return s ? le_load(s, n) : 0;
}

static void get_copy(struct rd *r, void *dst, size_t n)
{
	const uint8_t *s = get_bytes(r, n);

	if (s)
		memcpy(dst, s, n);
}

uint8_t get_u8(struct rd *r)	{ return (uint8_t)get_le(r, 1); }
uint16_t get_u16(struct rd *r)	{ return (uint16_t)get_le(r, 2); }
uint32_t get_u32(struct rd *r)	{ return (uint32_t)get_le(r, 4); }
uint64_t get_u64(struct rd *r)	{ return get_le(r, 8); }

uint32_t get_addr(struct rd *r)
{
	uint32_t a = 0;

	get_copy(r, &a, 4);
	return a;
}

/* ---- host records and meta ---------------------------------------------- */

/*
 * What a host must look like to be stored. The encoder and the decoder share
 * it, so the store never writes a record it would refuse to read back.
 */
static bool host_valid(const struct host *h)
{
	if (!h->client_id || h->n_ports > HOST_MAX_RANGES ||
	    h->n_spis > HOST_MAX_RANGES || h->n_sas > HOST_MAX_SAS ||
	    h->reply_len > PAP_MAX_MSG)
		return false;
	for (unsigned int i = 0; i < h->n_ports; i++)
		if (h->ports[i].first > h->ports[i].last)
			return false;
	for (unsigned int i = 0; i < h->n_spis; i++)
		if (h->spis[i].first > h->spis[i].last)
			return false;
	for (unsigned int i = 0; i < h->n_sas; i++)
		if (h->sas[i].spi_first > h->sas[i].spi_last)
			return false;
	return true;
}

int record_put_host(struct buf *b, const struct host *h)
{
	if (!host_valid(h) || (h->reply_len && !h->reply))
		return -EINVAL;
	put_u8(b, HOST_VERSION);
	put_u32(b, h->client_id);
	put_addr(b, h->addr);
	put_addr(b, h->global);
	put_bytes(b, h->secret, PAP_KEY_LEN);
	put_bytes(b, h->host_pub, PAP_KEY_LEN);
	put_u64(b, h->lease_expires);
	put_u32(b, h->lease_secs);
	put_u32(b, h->last_seq);
	put_u32(b, h->last_xid);
	put_bytes(b, h->last_mac, PAP_MAC_LEN);
	put_u16(b, h->reply_len);
	put_u8(b, h->n_ports);
	put_u8(b, h->n_spis);
	put_u8(b, h->n_sas);
	put_u16(b, h->natt_port);
	put_bytes(b, h->cert_serial, HOST_SERIAL_LEN);
	put_u64(b, h->cert_expires);
	for (unsigned int i = 0; i < h->n_ports; i++) {
		put_addr(b, h->ports[i].global);
		put_u16(b, h->ports[i].first);
		put_u16(b, h->ports[i].last);
	}
	for (unsigned int i = 0; i < h->n_spis; i++) {
		put_addr(b, h->spis[i].global);
		put_u32(b, h->spis[i].first);
		put_u32(b, h->spis[i].last);
	}
	for (unsigned int i = 0; i < h->n_sas; i++) {
		put_addr(b, h->sas[i].peer);
		put_u32(b, h->sas[i].spi_first);
		put_u32(b, h->sas[i].spi_last);
	}
	put_bytes(b, h->reply, h->reply_len);
	return b->err;
}

/*
 * Parse exactly len bytes into h without allocating: h->reply is left NULL
 * and *reply points at the reply bytes inside p.
 */
int record_parse_host(const uint8_t *p, size_t len, struct host *h,
		      const uint8_t **reply)
{
	struct rd r = { .p = p, .len = len };

	memset(h, 0, sizeof(*h));
	if (get_u8(&r) != HOST_VERSION)
		return -EBADMSG;
	h->client_id = get_u32(&r);
	h->addr = get_addr(&r);
	h->global = get_addr(&r);
	get_copy(&r, h->secret, PAP_KEY_LEN);
	get_copy(&r, h->host_pub, PAP_KEY_LEN);
	h->lease_expires = get_u64(&r);
	h->lease_secs = get_u32(&r);
	h->last_seq = get_u32(&r);
	h->last_xid = get_u32(&r);
	get_copy(&r, h->last_mac, PAP_MAC_LEN);
	h->reply_len = get_u16(&r);
	h->n_ports = get_u8(&r);
	h->n_spis = get_u8(&r);
	h->n_sas = get_u8(&r);
	h->natt_port = get_u16(&r);
	get_copy(&r, h->cert_serial, HOST_SERIAL_LEN);
	h->cert_expires = get_u64(&r);
	/* The counts index fixed arrays: check them before the loops. */
	if (r.bad || !host_valid(h))
		return -EBADMSG;
	for (unsigned int i = 0; i < h->n_ports; i++) {
		h->ports[i].global = get_addr(&r);
		h->ports[i].first = get_u16(&r);
		h->ports[i].last = get_u16(&r);
	}
	for (unsigned int i = 0; i < h->n_spis; i++) {
		h->spis[i].global = get_addr(&r);
		h->spis[i].first = get_u32(&r);
		h->spis[i].last = get_u32(&r);
	}
	for (unsigned int i = 0; i < h->n_sas; i++) {
		h->sas[i].peer = get_addr(&r);
		h->sas[i].spi_first = get_u32(&r);
		h->sas[i].spi_last = get_u32(&r);
	}
	*reply = get_bytes(&r, h->reply_len);
	if (r.bad || r.off != len || !host_valid(h))
		return -EBADMSG;
	return 0;
}

int state_host_encode(const struct host *h, uint8_t **out, size_t *len)
{
	struct buf b = { 0 };
	int err = record_put_host(&b, h);

	if (err) {
		free(b.p);
		return err;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

int state_host_decode(const uint8_t *buf, size_t len, struct host *h)
{
	const uint8_t *reply;
	struct host tmp;
	int err = record_parse_host(buf, len, &tmp, &reply);

	if (err)
		return err;
	if (tmp.reply_len) {
		tmp.reply = malloc(tmp.reply_len);
		if (!tmp.reply)
			return -ENOMEM;
		memcpy(tmp.reply, reply, tmp.reply_len);
	}
	*h = tmp;
	return 0;
}

void record_put_meta(struct buf *b, const struct state_meta *m)
{
	uint8_t n = m->n_pool ? m->n_pool : 1;

	put_u32(b, m->next_client_id);
	put_u8(b, n);
	for (uint8_t i = 0; i < n; i++)
		put_addr(b, m->n_pool ? m->pool[i] : m->global);
}

int record_get_meta(struct rd *r, struct state_meta *m)
{
	memset(m, 0, sizeof(*m));
	m->next_client_id = get_u32(r);
	m->n_pool = get_u8(r);
	if (!m->n_pool || m->n_pool > STATE_MAX_POOL) {
		r->bad = true;
		return -EBADMSG;
	}
	for (uint8_t i = 0; i < m->n_pool; i++)
		m->pool[i] = get_addr(r);
	m->global = m->pool[0];
	return r->bad ? -EBADMSG : 0;
}

void record_get_meta_v1(struct rd *r, struct state_meta *m)
{
	memset(m, 0, sizeof(*m));
	m->next_client_id = get_u32(r);
	m->global = get_addr(r);
	m->pool[0] = m->global;
	m->n_pool = 1;
}

/* ---- enrolment tokens ---------------------------------------------------- */

void record_put_tokens(struct buf *b, const struct gw_token *t, size_t n)
{
	put_u32(b, TOKENS_MAGIC);
	put_u32(b, TOKENS_VERSION);
	put_u32(b, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		put_u32(b, t[i].id);
		put_bytes(b, t[i].secret, GW_TOKEN_LEN);
		put_u64(b, t[i].expires);
		put_u32(b, t[i].uses_left);
		put_u32(b, t[i].lease_hint);
		put_u32(b, t[i].used);
	}
}

int record_parse_tokens(const uint8_t *p, size_t len,
			int (*add)(void *ctx, const struct gw_token *t), void *ctx)
{
	struct rd r = { .p = p, .len = len };
	uint32_t n;

	if (get_u32(&r) != TOKENS_MAGIC || get_u32(&r) != TOKENS_VERSION)
		return -EBADMSG;
	n = get_u32(&r);
	if (r.bad || (len - r.off) / TOKEN_LEN != n || (len - r.off) % TOKEN_LEN)
		return -EBADMSG;
	for (uint32_t i = 0; i < n; i++) {
		struct gw_token t = { .id = get_u32(&r) };
		const uint8_t *secret = get_bytes(&r, GW_TOKEN_LEN);
		int err;

		if (!secret)
			return -EBADMSG;
		memcpy(t.secret, secret, GW_TOKEN_LEN);
		t.expires = get_u64(&r);
		t.uses_left = get_u32(&r);
		t.lease_hint = get_u32(&r);
		t.used = get_u32(&r);
		if (r.bad || !t.id)
			return -EBADMSG;
		err = add(ctx, &t);
		memset(t.secret, 0, sizeof(t.secret));
		if (err)
			return err;
	}
	return 0;
}
