/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * PAP codec and crypto tests. The schema is restated here on purpose, as an
 * independent copy of docs/pap.md: every (type, parameter) pair is checked
 * against it, so a drift in ctl/pap.c's table fails a test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pap/pap.h"
#include "pap/site_key.h"

#define XID		0x11223344u
#define CID		0xa0b0c0d0u
#define SEQ		7u
#define G		0xc6336401u		/* 198.51.100.1 */

static const uint8_t key[PAP_KEY_LEN] = "0123456789abcdef0123456789abcdef";
static uint8_t der[PAP_MAX_DER + 1];		/* CSR / CERT bytes */

/* ---- the schema, restated --------------------------------------------- */

struct occ {
	uint8_t min, max;
};

static const struct occ spec[PAP_TYPE_MAX + 1][PAP_P_MAX + 1] = {
	[PAP_REGISTER] = { [PAP_P_PUBKEY] = { 1, 1 }, [PAP_P_LEASE] = { 0, 1 },
			   [PAP_P_COOKIE] = { 0, 1 }, [PAP_P_TOKEN_ID] = { 0, 1 },
			   [PAP_P_GLOBAL_ADDR] = { 0, 1 } },
	[PAP_REGISTER_REPLY] = { [PAP_P_GLOBAL_ADDR] = { 1, 16 },
				 [PAP_P_LEASE] = { 1, 1 },
				 [PAP_P_PUBKEY] = { 1, 1 },
				 [PAP_P_EXT_MTU] = { 0, 1 },
				 [PAP_P_GW_SIG] = { 0, 1 } },
	[PAP_PORT] = { [PAP_P_COUNT] = { 1, 1 }, [PAP_P_PORT_RANGE] = { 0, 1 },
		       [PAP_P_GLOBAL_ADDR] = { 0, 1 } },
	[PAP_PORT_REPLY] = { [PAP_P_PORT_RANGE] = { 1, 1 },
			     [PAP_P_LEASE] = { 0, 1 } },
	[PAP_SPI] = { [PAP_P_COUNT] = { 1, 1 }, [PAP_P_SPI_RANGE] = { 0, 1 },
		      [PAP_P_GLOBAL_ADDR] = { 0, 1 } },
	[PAP_SPI_REPLY] = { [PAP_P_SPI_RANGE] = { 1, 1 } },
	[PAP_CERT] = { [PAP_P_CSR] = { 1, 1 } },
	[PAP_CERT_REPLY] = { [PAP_P_CERT] = { 1, 4 } },
	[PAP_EXT_VALIDATE] = { [PAP_P_PEER_ADDR] = { 1, 1 },
			       [PAP_P_SPI_RANGE] = { 0, 16 } },
	[PAP_EXT_INVALIDATE] = { [PAP_P_PEER_ADDR] = { 1, 1 },
				 [PAP_P_SPI_RANGE] = { 0, 16 } },
	[PAP_EXT_VALIDATE_REPLY] = { [PAP_P_SA] = { 0, 64 } },
	[PAP_EXT_INVALIDATE_REPLY] = { [PAP_P_SA] = { 0, 64 } },
	[PAP_EXTEND] = { [PAP_P_LEASE] = { 0, 1 } },
	[PAP_EXTEND_REPLY] = { [PAP_P_LEASE] = { 1, 1 },
			       [PAP_P_EXT_MTU] = { 0, 1 } },
	[PAP_FREE] = { [PAP_P_PORT_RANGE] = { 0, 16 },
		       [PAP_P_SPI_RANGE] = { 0, 16 } },
	[PAP_FREE_REPLY] = { [PAP_P_PORT_RANGE] = { 0, 16 },
			     [PAP_P_SPI_RANGE] = { 0, 16 } },
	[PAP_QUERY_REPLY] = { [PAP_P_GLOBAL_ADDR] = { 1, 16 },
			      [PAP_P_LEASE] = { 1, 1 },
			      [PAP_P_PORT_RANGE] = { 0, 16 },
			      [PAP_P_SPI_RANGE] = { 0, 16 },
			      [PAP_P_SA] = { 0, 64 },
			      [PAP_P_NATT_PORT] = { 0, 1 },
			      [PAP_P_EXT_MTU] = { 0, 1 } },
	[PAP_NATT] = { [PAP_P_NATT_PORT] = { 1, 1 } },
	[PAP_NATT_REPLY] = { [PAP_P_NATT_PORT] = { 1, 1 } },
	[PAP_CRL] = { [PAP_P_OFFSET] = { 0, 1 } },
	[PAP_CRL_REPLY] = { [PAP_P_CRL] = { 1, 1 }, [PAP_P_OFFSET] = { 0, 1 },
			    [PAP_P_TOTAL] = { 0, 1 }, [PAP_P_CRL_ID] = { 0, 1 } },
	[PAP_ERROR] = { [PAP_P_ERROR_CODE] = { 1, 1 },
			[PAP_P_REQ_TYPE] = { 0, 1 },
			[PAP_P_MESSAGE] = { 0, 1 },
			[PAP_P_COOKIE] = { 0, 1 } },
	/* DEREGISTER, DEREGISTER_REPLY, QUERY: nothing but AUTH */
};

static struct occ rule(uint8_t type, uint8_t p)
{
	if (p == PAP_P_AUTH)
		return (struct occ){ 0, 1 };
	return spec[type][p];
}

/* A valid length for each parameter (1 for the variable ones). */
static const uint16_t plen[PAP_P_MAX + 1] = {
	[PAP_P_GLOBAL_ADDR] = 4, [PAP_P_PORT_RANGE] = 8, [PAP_P_SPI_RANGE] = 12,
	[PAP_P_COUNT] = 4, [PAP_P_PEER_ADDR] = 4, [PAP_P_LEASE] = 4,
	[PAP_P_PUBKEY] = 32, [PAP_P_ERROR_CODE] = 2, [PAP_P_MESSAGE] = 1,
	[PAP_P_CSR] = 1, [PAP_P_CERT] = 1, [PAP_P_SA] = 12, [PAP_P_AUTH] = 32,
	[PAP_P_REQ_TYPE] = 1, [PAP_P_NATT_PORT] = 2, [PAP_P_CRL] = 1,
	[PAP_P_EXT_MTU] = 2,
	[PAP_P_OFFSET] = 4, [PAP_P_TOTAL] = 4, [PAP_P_CRL_ID] = 32,
	[PAP_P_COOKIE] = 16, [PAP_P_TOKEN_ID] = 4, [PAP_P_GW_SIG] = 96,
};

/* ---- helpers ---------------------------------------------------------- */

static void msg_init(struct pap_msg *m, uint8_t type)
{
	memset(m, 0, sizeof(*m));
	m->version = PAP_VERSION;
	m->type = type;
	m->xid = XID;
	/* REGISTER comes before the host has an id or a sequence. */
	m->client_id = type == PAP_REGISTER ? 0 : CID;
	m->seq = type == PAP_REGISTER ? 0 : SEQ;
}

/* Occurrence i of parameter p: valid, distinct per i. */
static void fill_param(struct pap_msg *m, uint8_t p, unsigned int i)
{
	m->present |= PAP_BIT(p);
	switch (p) {
	case PAP_P_GLOBAL_ADDR:
		m->globals[i] = htonl(0xc0000200u + i);
		m->n_globals = i + 1;
		break;
	case PAP_P_PORT_RANGE:
		m->ports[i] = (struct pap_port_range){ htonl(G),
			1024 + 64 * i, 1024 + 64 * i + 63 };
		m->n_ports = i + 1;
		break;
	case PAP_P_SPI_RANGE:
		m->spis[i] = (struct pap_spi_range){ htonl(G),
			0x10000u * (i + 1), 0x10000u * (i + 1) + 0xffff };
		m->n_spis = i + 1;
		break;
	case PAP_P_SA:
		m->sas[i] = (struct pap_sa){ htonl(0xcb007100u + i),
			0x100u + 16 * i, 0x100u + 16 * i + 15 };
		m->n_sas = i + 1;
		break;
	case PAP_P_COUNT:
		m->count = 100;
		break;
	case PAP_P_PEER_ADDR:
		m->peer = htonl(0xcb007109u);
		break;
	case PAP_P_LEASE:
		m->lease = 3600;
		break;
	case PAP_P_PUBKEY:
		for (unsigned int j = 0; j < PAP_KEY_LEN; j++)
			m->pubkey[j] = j ^ 0x5a;
		break;
	case PAP_P_ERROR_CODE:
		m->error_code = PAP_E_QUOTA;
		break;
	case PAP_P_REQ_TYPE:
		m->req_type = PAP_PORT;
		break;
	case PAP_P_NATT_PORT:
		m->natt_port = 20001;
		break;
	case PAP_P_EXT_MTU:
		m->ext_mtu = 1400;
		break;
	case PAP_P_MESSAGE:
		m->message = "per-host quota reached";
		m->message_len = strlen(m->message);
		break;
	case PAP_P_CSR:
		m->csr = der;
		m->csr_len = 300;
		break;
	case PAP_P_CERT:
		m->certs[i] = der + i;
		m->cert_lens[i] = 500 * (i + 1);
		m->n_certs = i + 1;
		break;
	case PAP_P_CRL:
		m->crl = der + 3;
		m->crl_len = 700;
		break;
	case PAP_P_OFFSET:
		m->offset = 8192;
		break;
	case PAP_P_TOTAL:
		m->total = 70000;
		break;
	case PAP_P_CRL_ID:
		for (unsigned int j = 0; j < PAP_MAC_LEN; j++)
			m->crl_id[j] = (uint8_t)(j * 7 + 1);
		break;
	case PAP_P_COOKIE:
		memset(m->cookie, 0xc0 + (int)i, sizeof(m->cookie));
		break;
	case PAP_P_TOKEN_ID:
		m->token_id = 77;
		break;
	case PAP_P_GW_SIG:
		memcpy(m->gw_sig, der + 5, sizeof(m->gw_sig));
		break;
	default:
		fail_msg("fill_param: parameter %u", p);
	}
}

/* n occurrences of p (n <= its max). */
static void fill_n(struct pap_msg *m, uint8_t p, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		fill_param(m, p, i);
}

/* The smallest valid message of a type; skip leaves p out entirely. */
static void fill_required(struct pap_msg *m, uint8_t type, uint8_t skip)
{
	msg_init(m, type);
	for (uint8_t p = 1; p <= PAP_P_MAX; p++)
		if (p != skip && p != PAP_P_AUTH)
			fill_n(m, p, spec[type][p].min);
	/* FREE names at least one range of either kind. */
	if (type == PAP_FREE && skip != PAP_P_PORT_RANGE)
		fill_param(m, PAP_P_PORT_RANGE, 0);
}

static void fill_full(struct pap_msg *m, uint8_t type)
{
	msg_init(m, type);
	for (uint8_t p = 1; p <= PAP_P_MAX; p++)
		if (p != PAP_P_AUTH)
			fill_n(m, p, spec[type][p].max);
}

static size_t encode(const struct pap_msg *m, uint8_t *buf,
		     const uint8_t *k)
{
	int len = pap_encode_msg(buf, PAP_MAX_MSG, m, k, k ? PAP_KEY_LEN : 0);

	assert_true(len >= PAP_HDR_LEN);
	return (size_t)len;
}

/* Append a raw TLV (any type, any length) and fix the header length. */
static void append_raw(uint8_t *buf, size_t *len, uint8_t t, const void *val,
		       uint16_t vlen)
{
	buf[*len] = t;
	buf[*len + 1] = vlen >> 8;
	buf[*len + 2] = vlen & 0xff;
	if (vlen)
		memcpy(buf + *len + 3, val, vlen);
	*len += PAP_TLV_HDR_LEN + vlen;
	buf[2] = *len >> 8;
	buf[3] = *len & 0xff;
}

static void set_hdr_len(uint8_t *buf, size_t len)
{
	buf[2] = len >> 8;
	buf[3] = len & 0xff;
}

/* Decode from an exact-size heap copy, so ASan sees any overread. */
static int decode_exact(const uint8_t *buf, size_t len, struct pap_msg *m)
{
	uint8_t *copy = malloc(len ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, buf, len);
	rc = pap_decode(copy, len, m);
	free(copy);
	/* m's pointers dangle now: callers only look at scalars. */
	return rc;
}

#define assert_decode(buf, len, err) do {				\
	struct pap_msg _m;						\
	int _rc = decode_exact((buf), (len), &_m);			\
	int _want = -(int)(err);					\
	if (_rc != _want)						\
		fail_msg("decode: got %d (%s), want %d (%s)", _rc,	\
			 pap_err_name(_rc), _want, pap_err_name(_want));	\
} while (0)

/* A minimal valid message of type, with one raw TLV appended. */
static void assert_with_raw(uint8_t type, uint8_t t, const void *val,
			    uint16_t vlen, enum pap_err err)
{
	static uint8_t buf[PAP_MAX_MSG + 64];
	struct pap_msg m;
	size_t len;

	fill_required(&m, type, 0);
	len = encode(&m, buf, NULL);
	append_raw(buf, &len, t, val, vlen);
	assert_decode(buf, len, err);
}

/* ---- round trip: every type, every parameter at its maximum ---------- */

static void round_trip(uint8_t type)
{
	static uint8_t buf[PAP_MAX_MSG];
	struct pap_msg want, got;
	size_t len;
	const char *diff;

	/* Full: every allowed parameter, as many times as allowed, + AUTH. */
	fill_full(&want, type);
	len = encode(&want, buf, key);
	want.length = len;
	want.present |= PAP_BIT(PAP_P_AUTH);
	want.auth_off = len - PAP_MAC_LEN;
	assert_int_equal(pap_decode(buf, len, &got), 0);
	diff = pap_msg_diff(&got, &want);
	if (diff)
		fail_msg("%s: field %s differs", pap_type_name(type), diff);
	assert_int_equal(got.type, type);
	assert_int_equal(got.xid, XID);
	assert_int_equal(got.length, len);
	assert_true(pap_verify(buf, &got, key, sizeof(key)));
	/* Spot checks against literal values, not just against the filler. */
	if (spec[type][PAP_P_PORT_RANGE].max == 16) {
		assert_int_equal(got.n_ports, 16);
		assert_int_equal(got.ports[15].first, 1984);
		assert_int_equal(got.ports[15].last, 2047);
	}
	if (spec[type][PAP_P_SA].max) {
		assert_int_equal(got.n_sas, 64);
		assert_int_equal(ntohl(got.sas[63].peer), 0xcb00713fu);
		assert_int_equal(got.sas[63].spi_last, 0x100u + 16 * 63 + 15);
	}
	if (spec[type][PAP_P_CRL].max)
		assert_int_equal(got.crl_len, 700);
	if (spec[type][PAP_P_CERT].max) {
		assert_int_equal(got.n_certs, 4);
		assert_int_equal(got.cert_lens[3], 2000);
		assert_ptr_equal(got.certs[0],
				 buf + PAP_HDR_LEN + PAP_TLV_HDR_LEN);
	}

	/* Minimal: only what is required, no AUTH. */
	fill_required(&want, type, 0);
	len = encode(&want, buf, NULL);
	want.length = len;
	assert_int_equal(pap_decode(buf, len, &got), 0);
	diff = pap_msg_diff(&got, &want);
	if (diff)
		fail_msg("%s (minimal): field %s differs", pap_type_name(type),
			 diff);
	assert_int_equal(got.auth_off, 0);
	assert_false(got.present & PAP_BIT(PAP_P_AUTH));
}

#define ROUND_TRIP(t) \
	static void test_round_trip_##t(void **state) \
	{ (void)state; round_trip(PAP_##t); }
ROUND_TRIP(ERROR)
ROUND_TRIP(REGISTER)
ROUND_TRIP(REGISTER_REPLY)
ROUND_TRIP(PORT)
ROUND_TRIP(PORT_REPLY)
ROUND_TRIP(SPI)
ROUND_TRIP(SPI_REPLY)
ROUND_TRIP(CERT)
ROUND_TRIP(CERT_REPLY)
ROUND_TRIP(EXT_VALIDATE)
ROUND_TRIP(EXT_VALIDATE_REPLY)
ROUND_TRIP(EXT_INVALIDATE)
ROUND_TRIP(EXT_INVALIDATE_REPLY)
ROUND_TRIP(EXTEND)
ROUND_TRIP(EXTEND_REPLY)
ROUND_TRIP(FREE)
ROUND_TRIP(FREE_REPLY)
ROUND_TRIP(DEREGISTER)
ROUND_TRIP(DEREGISTER_REPLY)
ROUND_TRIP(QUERY)
ROUND_TRIP(QUERY_REPLY)
ROUND_TRIP(NATT)
ROUND_TRIP(NATT_REPLY)
ROUND_TRIP(CRL)
ROUND_TRIP(CRL_REPLY)

/* Exact bytes for every fixed layout: catches a codec that is wrong the same
 * way in both directions (byte order, field order). */
static void test_wire_layout(void **state)
{
	static const uint8_t want[] = {
		0x01, 0x15, 0x00, 0x59, 0x11, 0x22, 0x33, 0x44,	/* hdr */
		0xa0, 0xb0, 0xc0, 0xd0, 0x00, 0x00, 0x00, 0x07,
		0x01, 0x00, 0x04, 0xc6, 0x33, 0x64, 0x01,	/* GLOBAL_ADDR */
		0x02, 0x00, 0x08, 0xc6, 0x33, 0x64, 0x01,	/* PORT_RANGE */
		0x04, 0x00, 0x04, 0x3f,
		0x03, 0x00, 0x0c, 0xc6, 0x33, 0x64, 0x01,	/* SPI_RANGE */
		0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0xff, 0xff,
		0x06, 0x00, 0x04, 0x00, 0x00, 0x0e, 0x10,	/* LEASE */
		0x0c, 0x00, 0x0c, 0xcb, 0x00, 0x71, 0x09,	/* SA */
		0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0f,
		0x0e, 0x00, 0x01, 0x04,				/* raw REQ_TYPE */
		0x04, 0x00, 0x04, 0x00, 0x00, 0x00, 0x40,	/* COUNT */
		0x05, 0x00, 0x04, 0xcb, 0x00, 0x71, 0x09,	/* PEER_ADDR */
	};
	struct pap_port_range pr = { htonl(G), 1024, 1087 };
	struct pap_spi_range sr = { htonl(G), 0x10000, 0x1ffff };
	struct pap_sa sa = { htonl(0xcb007109u), 0x100, 0x10f };
	uint8_t buf[256];
	struct pap_writer w;

	(void)state;
	pap_begin(&w, buf, sizeof(buf), PAP_QUERY_REPLY, XID, CID, SEQ);
	pap_put_addr(&w, PAP_P_GLOBAL_ADDR, htonl(G));
	pap_put_port_range(&w, &pr);
	pap_put_spi_range(&w, &sr);
	pap_put_u32(&w, PAP_P_LEASE, 3600);
	pap_put_sa(&w, &sa);
	pap_put_u8(&w, PAP_P_REQ_TYPE, PAP_PORT);
	pap_put_u32(&w, PAP_P_COUNT, 64);
	pap_put_addr(&w, PAP_P_PEER_ADDR, htonl(0xcb007109u));
	assert_int_equal(pap_finish(&w, NULL, 0), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
}

/* EXT_MTU (17, a u16 >= 68) of docs/pap.md: optional in REGISTER_REPLY and
 * QUERY_REPLY, nowhere else; absent (an older gateway) decodes as 0. */
static void test_ext_mtu(void **state)
{
	static const uint8_t tlv[] = { 0x11, 0x00, 0x02, 0x05, 0x78 };	/* 1400 */
	uint8_t buf[256];
	struct pap_msg m;
	size_t len;

	(void)state;
	fill_required(&m, PAP_REGISTER_REPLY, 0);
	len = encode(&m, buf, NULL);
	assert_int_equal(pap_decode(buf, len, &m), 0);
	assert_int_equal(m.ext_mtu, 0);
	assert_false(m.present & PAP_BIT(PAP_P_EXT_MTU));

	fill_required(&m, PAP_QUERY_REPLY, 0);
	m.present |= PAP_BIT(PAP_P_EXT_MTU);
	m.ext_mtu = 1400;
	len = encode(&m, buf, NULL);
	/* the last parameter, in type order, and its bytes */
	assert_memory_equal(buf + len - sizeof(tlv), tlv, sizeof(tlv));
	memset(&m, 0xee, sizeof(m));
	assert_int_equal(pap_decode(buf, len, &m), 0);
	assert_int_equal(m.ext_mtu, 1400);
	assert_true(m.present & PAP_BIT(PAP_P_EXT_MTU));

	assert_with_raw(PAP_REGISTER_REPLY, PAP_P_EXT_MTU, "\x00\x44", 2, PAP_OK);
	assert_with_raw(PAP_REGISTER_REPLY, PAP_P_EXT_MTU, "\x00\x43", 2, PAP_E_BAD_VALUE);
	assert_with_raw(PAP_REGISTER_REPLY, PAP_P_EXT_MTU, "\x05", 1, PAP_E_BAD_PARAM_LEN);
	assert_with_raw(PAP_QUERY_REPLY, PAP_P_EXT_MTU, "\x05\x78\x00", 3,
			PAP_E_BAD_PARAM_LEN);
	assert_with_raw(PAP_EXTEND_REPLY, PAP_P_EXT_MTU, "\x05\x78", 2, PAP_OK);
	assert_with_raw(PAP_PORT_REPLY, PAP_P_EXT_MTU, "\x05\x78", 2, PAP_E_UNEXPECTED_PARAM);
	assert_with_raw(PAP_REGISTER, PAP_P_EXT_MTU, "\x05\x78", 2, PAP_E_UNEXPECTED_PARAM);
}

/* The CRL bytes of docs/pap.md: a request is the header and AUTH (51 bytes),
 * the reply carries the DER in parameter 16. */
static void test_crl_layout(void **state)
{
	static const uint8_t reply[] = {
		0x01, 0x19, 0x00, 0x16, 0x11, 0x22, 0x33, 0x44,	/* CRL_REPLY, 22 bytes */
		0xa0, 0xb0, 0xc0, 0xd0, 0x00, 0x00, 0x00, 0x07,
		0x10, 0x00, 0x03, 0x30, 0x01, 0x00,		/* CRL, 3 bytes of DER */
	};
	uint8_t buf[128];
	struct pap_writer w;
	struct pap_msg m;

	(void)state;
	pap_begin(&w, buf, sizeof(buf), PAP_CRL, XID, CID, SEQ);
	assert_int_equal(pap_finish(&w, key, sizeof(key)), 51);
	assert_memory_equal(buf, "\x01\x18\x00\x33", 4);
	assert_memory_equal(buf + PAP_HDR_LEN, "\x0d\x00\x20", 3);
	assert_int_equal(pap_decode(buf, 51, &m), 0);
	assert_int_equal(m.type, PAP_CRL);

	pap_begin(&w, buf, sizeof(buf), PAP_CRL_REPLY, XID, CID, SEQ);
	pap_put(&w, PAP_P_CRL, "\x30\x01\x00", 3);
	assert_int_equal(pap_finish(&w, NULL, 0), sizeof(reply));
	assert_memory_equal(buf, reply, sizeof(reply));
	assert_int_equal(pap_decode(reply, sizeof(reply), &m), 0);
	assert_int_equal(m.crl_len, 3);
	assert_ptr_equal(m.crl, reply + 19);
	/* A CRL request carries nothing but AUTH. */
	assert_with_raw(PAP_CRL, PAP_P_CRL, "\x30", 1, PAP_E_UNEXPECTED_PARAM);
}

/* The worked example of docs/pap.md: RFC 7748 section 6.1 keys (host =
 * Alice, gateway = Bob), client id 1, this site key. The expected secret was
 * computed independently (Python hmac/hashlib HKDF over RFC 7748's shared
 * secret); the datagrams are the bytes printed in the document. */
static const uint8_t ex_host_priv[32] = {
	0x77, 0x07, 0x6d, 0x0a, 0x73, 0x18, 0xa5, 0x7d, 0x3c, 0x16, 0xc1, 0x72,
	0x51, 0xb2, 0x66, 0x45, 0xdf, 0x4c, 0x2f, 0x87, 0xeb, 0xc0, 0x99, 0x2a,
	0xb1, 0x77, 0xfb, 0xa5, 0x1d, 0xb9, 0x2c, 0x2a };
static const uint8_t ex_host_pub[32] = {
	0x85, 0x20, 0xf0, 0x09, 0x89, 0x30, 0xa7, 0x54, 0x74, 0x8b, 0x7d, 0xdc,
	0xb4, 0x3e, 0xf7, 0x5a, 0x0d, 0xbf, 0x3a, 0x0d, 0x26, 0x38, 0x1a, 0xf4,
	0xeb, 0xa4, 0xa9, 0x8e, 0xaa, 0x9b, 0x4e, 0x6a };
static const uint8_t ex_gw_priv[32] = {
	0x5d, 0xab, 0x08, 0x7e, 0x62, 0x4a, 0x8a, 0x4b, 0x79, 0xe1, 0x7f, 0x8b,
	0x83, 0x80, 0x0e, 0xe6, 0x6f, 0x3b, 0xb1, 0x29, 0x26, 0x18, 0xb6, 0xfd,
	0x1c, 0x2f, 0x8b, 0x27, 0xff, 0x88, 0xe0, 0xeb };
static const uint8_t ex_gw_pub[32] = {
	0xde, 0x9e, 0xdb, 0x7d, 0x7b, 0x7d, 0xc1, 0xb4, 0xd3, 0x5b, 0x61, 0xc2,
	0xec, 0xe4, 0x35, 0x37, 0x3f, 0x83, 0x43, 0xc8, 0x5b, 0x78, 0x67, 0x4d,
	0xad, 0xfc, 0x7e, 0x14, 0x6f, 0x88, 0x2b, 0x4f };
static const uint8_t ex_site[32] = "xdnat-example-site-key-32-bytes!";
#define EX_HI	htonl(0x0a00000bu)	/* the host's address, 10.0.0.11 */
static const uint8_t ex_secret[32] = {
	0x70, 0x16, 0x8f, 0xc6, 0x5f, 0x7d, 0xf1, 0x77, 0x9e, 0x16, 0xbd, 0xe5,
	0x20, 0x4a, 0x30, 0x66, 0x8f, 0x1e, 0x57, 0x1e, 0xef, 0x3b, 0x0e, 0x70,
	0xbc, 0x1b, 0xbc, 0x24, 0x99, 0x08, 0x27, 0x61 };
static const uint8_t ex_secret_nosite[32] = {
	0x82, 0x45, 0x63, 0xc7, 0x5e, 0x62, 0xc3, 0xd1, 0x96, 0xe8, 0x5a, 0x8e,
	0x60, 0x2f, 0x61, 0xf0, 0x9e, 0x3d, 0x86, 0x39, 0xfa, 0x8a, 0x0d, 0x72,
	0xff, 0xf6, 0x7b, 0x47, 0x19, 0x20, 0x39, 0xd8 };

static void test_doc_example(void **state)
{
	static const uint8_t reg[] = {
		0x01, 0x02, 0x00, 0x5d, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x20, 0x85, 0x20, 0xf0, 0x09, 0x89,
		0x30, 0xa7, 0x54, 0x74, 0x8b, 0x7d, 0xdc, 0xb4, 0x3e, 0xf7, 0x5a, 0x0d,
		0xbf, 0x3a, 0x0d, 0x26, 0x38, 0x1a, 0xf4, 0xeb, 0xa4, 0xa9, 0x8e, 0xaa,
		0x9b, 0x4e, 0x6a, 0x06, 0x00, 0x04, 0x00, 0x00, 0x0e, 0x10, 0x0d, 0x00,
		0x20, 0xfc, 0x5a, 0x28, 0x49, 0x6f, 0xff, 0xa4, 0x36, 0x80, 0xf9, 0xe3,
		0xc4, 0xb0, 0x2d, 0x96, 0xe1, 0x1e, 0xf1, 0xd5, 0x1a, 0x30, 0xa9, 0x89,
		0x1b, 0x21, 0x58, 0x91, 0xad, 0xc7, 0xda, 0x2e, 0x05 };
	static const uint8_t reg_reply[] = {
		0x01, 0x03, 0x00, 0x64, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
		0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x04, 0xc6, 0x33, 0x64, 0x01, 0x06,
		0x00, 0x04, 0x00, 0x00, 0x0e, 0x10, 0x07, 0x00, 0x20, 0xde, 0x9e, 0xdb,
		0x7d, 0x7b, 0x7d, 0xc1, 0xb4, 0xd3, 0x5b, 0x61, 0xc2, 0xec, 0xe4, 0x35,
		0x37, 0x3f, 0x83, 0x43, 0xc8, 0x5b, 0x78, 0x67, 0x4d, 0xad, 0xfc, 0x7e,
		0x14, 0x6f, 0x88, 0x2b, 0x4f, 0x0d, 0x00, 0x20, 0xaf, 0x60, 0x22, 0xf8,
		0xaf, 0xf0, 0x83, 0xfd, 0xaf, 0x19, 0xca, 0x13, 0x0d, 0x54, 0x3f, 0xa6,
		0xfb, 0xd3, 0xf6, 0xd6, 0xaa, 0x11, 0xd9, 0x10, 0x04, 0x49, 0xdb, 0x0d,
		0x8c, 0x0f, 0x62, 0x41 };
	static const uint8_t port[] = {
		0x01, 0x04, 0x00, 0x3a, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01,
		0x00, 0x00, 0x00, 0x01, 0x04, 0x00, 0x04, 0x00, 0x00, 0x00, 0x40, 0x0d,
		0x00, 0x20, 0x3d, 0x39, 0x1a, 0x51, 0xe3, 0x87, 0x87, 0xc1, 0x3b, 0x14,
		0x5a, 0x88, 0x55, 0x2b, 0x99, 0xcd, 0x25, 0xd9, 0x94, 0x06, 0x9e, 0x91,
		0x50, 0x59, 0x3e, 0x35, 0x79, 0xb9, 0x93, 0x17, 0x0d, 0x40 };
	static const uint8_t port_reply[] = {
		0x01, 0x05, 0x00, 0x45, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01,
		0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x08, 0xc6, 0x33, 0x64, 0x01, 0x04,
		0x00, 0x04, 0x3f, 0x06, 0x00, 0x04, 0x00, 0x00, 0x0e, 0x10, 0x0d, 0x00,
		0x20, 0xd5, 0x83, 0xb9, 0xa7, 0x5f, 0x67, 0x12, 0x43, 0xa6, 0x37, 0x62,
		0x10, 0x5b, 0x88, 0x6b, 0x8c, 0x2e, 0xb7, 0x12, 0xc0, 0x3a, 0xed, 0xba,
		0x1c, 0xec, 0xe8, 0x2f, 0x78, 0x94, 0x2c, 0x88, 0x3a };
	struct pap_port_range pr = { htonl(G), 1024, 1087 };
	uint8_t secret[32], buf[256];
	struct pap_writer w;
	struct pap_msg m;

	(void)state;
	assert_int_equal(pap_derive_secret(ex_host_priv, ex_gw_pub, ex_host_pub, ex_gw_pub, 1, EX_HI, ex_site, 32, secret), 0);
	assert_memory_equal(secret, ex_secret, 32);

	pap_begin(&w, buf, sizeof(buf), PAP_REGISTER, 1, 0, 0);
	pap_put(&w, PAP_P_PUBKEY, ex_host_pub, 32);
	pap_put_u32(&w, PAP_P_LEASE, 3600);
	assert_int_equal(pap_finish(&w, ex_site, 32), sizeof(reg));
	assert_memory_equal(buf, reg, sizeof(reg));

	pap_begin(&w, buf, sizeof(buf), PAP_REGISTER_REPLY, 1, 1, 0);
	pap_put_addr(&w, PAP_P_GLOBAL_ADDR, htonl(G));
	pap_put_u32(&w, PAP_P_LEASE, 3600);
	pap_put(&w, PAP_P_PUBKEY, ex_gw_pub, 32);
	assert_int_equal(pap_finish(&w, secret, 32), sizeof(reg_reply));
	assert_memory_equal(buf, reg_reply, sizeof(reg_reply));

	pap_begin(&w, buf, sizeof(buf), PAP_PORT, 2, 1, 1);
	pap_put_u32(&w, PAP_P_COUNT, 64);
	assert_int_equal(pap_finish(&w, secret, 32), sizeof(port));
	assert_memory_equal(buf, port, sizeof(port));

	pap_begin(&w, buf, sizeof(buf), PAP_PORT_REPLY, 2, 1, 1);
	pap_put_port_range(&w, &pr);
	pap_put_u32(&w, PAP_P_LEASE, 3600);
	assert_int_equal(pap_finish(&w, secret, 32), sizeof(port_reply));
	assert_memory_equal(buf, port_reply, sizeof(port_reply));

	/* And the gateway's view of the REGISTER it receives. */
	assert_int_equal(pap_decode(reg, sizeof(reg), &m), 0);
	assert_true(pap_verify(reg, &m, ex_site, 32));
	assert_int_equal(m.lease, 3600);
	assert_memory_equal(m.pubkey, ex_host_pub, 32);
	assert_int_equal(pap_decode(port, sizeof(port), &m), 0);
	assert_int_equal(m.count, 64);
	assert_int_equal(m.seq, 1);
	assert_true(pap_verify(port, &m, ex_secret, 32));
}

/* ---- the schema, pair by pair ----------------------------------------- */

static void test_schema_every_pair(void **state)
{
	static uint8_t buf[PAP_MAX_MSG + 64];
	static const uint8_t zero[PAP_GW_SIG_LEN];	/* the longest fixed value */
	struct pap_msg m;
	size_t len;

	(void)state;
	for (uint8_t type = 1; type <= PAP_TYPE_MAX; type++) {
		for (uint8_t p = 1; p <= PAP_P_MAX; p++) {
			struct occ r = rule(type, p);
			enum pap_err over = r.max == 1 ? PAP_E_DUPLICATE_PARAM :
							 PAP_E_TOO_MANY;

			if (!r.max) {
				assert_with_raw(type, p, zero, plen[p],
						PAP_E_UNEXPECTED_PARAM);
				continue;
			}
			if (p == PAP_P_AUTH) {
				fill_required(&m, type, 0);
				len = encode(&m, buf, key);
				assert_decode(buf, len, 0);
				append_raw(buf, &len, p, zero, plen[p]);
				assert_decode(buf, len, PAP_E_AUTH_NOT_LAST);
				continue;
			}
			/* Exactly max is fine, one more is not. */
			fill_required(&m, type, p);
			fill_n(&m, p, r.max);
			len = encode(&m, buf, NULL);
			assert_decode(buf, len, 0);
			append_raw(buf, &len, p, zero, plen[p]);
			assert_decode(buf, len, over);
			/* One fewer than min is missing. */
			if (r.min) {
				fill_required(&m, type, p);
				fill_n(&m, p, r.min - 1);
				len = encode(&m, buf, NULL);
				assert_decode(buf, len, PAP_E_MISSING_PARAM);
			}
		}
	}
}

/* ---- one test per malformed class ------------------------------------- */

static size_t valid_port(uint8_t *buf)
{
	struct pap_msg m;

	fill_required(&m, PAP_PORT, 0);
	return encode(&m, buf, NULL);
}

static void test_truncated_header(void **state)
{
	uint8_t buf[64];
	struct pap_msg m;

	(void)state;
	valid_port(buf);
	for (size_t len = 0; len < PAP_HDR_LEN; len++)
		assert_decode(buf, len, PAP_E_TRUNCATED_HEADER);
	assert_int_equal(pap_decode(NULL, 0, &m), -PAP_E_TRUNCATED_HEADER);
}

static void test_length_mismatch(void **state)
{
	static uint8_t big[PAP_MAX_MSG + 1];
	uint8_t buf[64];
	struct pap_msg m;
	size_t len;

	(void)state;
	len = valid_port(buf);
	set_hdr_len(buf, len + 1);
	assert_int_equal(pap_decode(buf, len, &m), -PAP_E_LENGTH_MISMATCH);
	/* The header is still reported, so an ERROR can echo it. */
	assert_int_equal(m.type, PAP_PORT);
	assert_int_equal(m.xid, XID);
	assert_int_equal(m.client_id, CID);
	assert_int_equal(m.seq, SEQ);
	assert_int_equal(m.length, len + 1);
	set_hdr_len(buf, len - 1);
	assert_decode(buf, len, PAP_E_LENGTH_MISMATCH);
	set_hdr_len(buf, 0);
	assert_decode(buf, len, PAP_E_LENGTH_MISMATCH);

	/* Over PAP_MAX_MSG even when the header agrees (the encoder cannot
	 * build that, so patch the bytes). */
	memcpy(big, buf, PAP_HDR_LEN);
	set_hdr_len(big, sizeof(big));
	assert_decode(big, sizeof(big), PAP_E_LENGTH_MISMATCH);
}

static void test_bad_version(void **state)
{
	uint8_t buf[64];
	struct pap_msg m;
	size_t len;

	(void)state;
	len = valid_port(buf);
	buf[0] = 0;
	assert_decode(buf, len, PAP_E_BAD_VERSION);
	buf[0] = 2;
	assert_int_equal(pap_decode(buf, len, &m), -PAP_E_BAD_VERSION);
	assert_int_equal(m.version, 2);
	assert_int_equal(m.xid, XID);
}

static void test_bad_type(void **state)
{
	static const uint8_t bad[] = { 0, PAP_TYPE_MAX + 1, 0x80, 0xff };
	uint8_t buf[64];
	size_t len;

	(void)state;
	len = valid_port(buf);
	for (size_t i = 0; i < sizeof(bad); i++) {
		buf[1] = bad[i];
		assert_decode(buf, len, PAP_E_BAD_TYPE);
	}
}

static void test_truncated_param(void **state)
{
	uint8_t buf[64];
	size_t len;

	(void)state;
	len = valid_port(buf);
	/* 1 and 2 bytes of a TLV header. */
	for (size_t extra = 1; extra < PAP_TLV_HDR_LEN; extra++) {
		memset(buf + len, PAP_P_LEASE, extra);
		set_hdr_len(buf, len + extra);
		assert_decode(buf, len + extra, PAP_E_TRUNCATED_PARAM);
	}
	/* A value one byte shorter than its TLV says. */
	len = valid_port(buf);
	set_hdr_len(buf, len - 1);
	assert_decode(buf, len - 1, PAP_E_TRUNCATED_PARAM);
	/* A huge TLV length must not be trusted. */
	len = valid_port(buf);
	buf[PAP_HDR_LEN + 1] = 0xff;
	buf[PAP_HDR_LEN + 2] = 0xff;
	assert_decode(buf, len, PAP_E_TRUNCATED_PARAM);
}

static void test_unknown_param(void **state)
{
	/* 0 and the unknown types with the high bit clear: critical */
	static const uint8_t bad[] = { 0, PAP_P_MAX + 1, 0x7f };
	uint32_t v = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bad); i++)
		assert_with_raw(PAP_PORT, bad[i], &v, 4, PAP_E_UNKNOWN_PARAM);
}

/* An unknown type with the high bit set is passed over: the known parameters
 * around it intact, AUTH over it too; cut short it is still malformed. */
static void test_skippable_param(void **state)
{
	static const uint8_t opt[5] = { 1, 2, 3, 4, 5 };
	static uint8_t buf[PAP_MAX_MSG];
	uint8_t sig[PAP_GW_SIG_LEN], zero[PAP_MAC_LEN] = { 0 };
	struct pap_msg want, got;
	size_t len;
	int out;

	(void)state;
	memset(sig, 0x5a, sizeof(sig));
	fill_required(&want, PAP_REGISTER_REPLY, 0);
	want.present |= PAP_BIT(PAP_P_EXT_MTU);
	want.ext_mtu = 1400;
	len = encode(&want, buf, NULL);
	append_raw(buf, &len, PAP_P_SKIPPABLE, opt, sizeof(opt));
	append_raw(buf, &len, PAP_P_GW_SIG, sig, sizeof(sig));	/* known, after it */
	append_raw(buf, &len, 0xff, NULL, 0);
	append_raw(buf, &len, PAP_P_AUTH, zero, sizeof(zero));
	assert_int_equal(pap_hmac(key, sizeof(key), buf, len - PAP_MAC_LEN,
				  buf + len - PAP_MAC_LEN), 0);

	assert_decode(buf, len, PAP_OK);
	assert_int_equal(decode_exact(buf, len, &got), 0);
	assert_int_equal(got.n_skipped, 2);
	assert_int_equal(got.skipped_len, 2 * PAP_TLV_HDR_LEN + sizeof(opt));
	assert_int_equal(got.ext_mtu, 1400);
	assert_memory_equal(got.gw_sig, sig, sizeof(sig));
	assert_int_equal(got.n_globals, want.n_globals);
	assert_int_equal(got.lease, want.lease);
	assert_memory_equal(got.pubkey, want.pubkey, PAP_KEY_LEN);
	assert_true(pap_verify(buf, &got, key, sizeof(key)));
	/* the canonical encoding drops what was skipped */
	out = pap_encode_msg(buf + len, sizeof(buf) - len, &got, NULL, 0);
	assert_int_equal(out, len - got.skipped_len - PAP_TLV_HDR_LEN - PAP_MAC_LEN);

	/* AUTH covers the skipped bytes: change one and it fails */
	buf[len - PAP_MAC_LEN - 3 * PAP_TLV_HDR_LEN - PAP_GW_SIG_LEN - 1] ^= 1;
	assert_int_equal(pap_decode(buf, len, &got), 0);
	assert_false(pap_verify(buf, &got, key, sizeof(key)));

	/* after AUTH, as any parameter */
	len = encode(&want, buf, key);
	append_raw(buf, &len, PAP_P_SKIPPABLE, opt, sizeof(opt));
	assert_decode(buf, len, PAP_E_AUTH_NOT_LAST);

	/* value cut short, and a TLV header cut short: still bounds-checked */
	len = encode(&want, buf, NULL);
	append_raw(buf, &len, 0x90, opt, sizeof(opt));
	set_hdr_len(buf, len - 1);
	assert_decode(buf, len - 1, PAP_E_TRUNCATED_PARAM);
	buf[len - 1 - sizeof(opt) - 1] = 0xff;	/* TLV length 0xff05 */
	set_hdr_len(buf, len);
	assert_decode(buf, len, PAP_E_TRUNCATED_PARAM);
	len = encode(&want, buf, NULL);
	buf[len] = 0xc0;
	buf[len + 1] = 0;
	set_hdr_len(buf, len + 2);
	assert_decode(buf, len + 2, PAP_E_TRUNCATED_PARAM);

	/* a request too: the schema still holds for the known ones */
	assert_with_raw(PAP_PORT, 0xfe, opt, sizeof(opt), PAP_OK);
	fill_required(&want, PAP_PORT, 0);
	len = encode(&want, buf, NULL);
	append_raw(buf, &len, 0x81, NULL, 0);
	append_raw(buf, &len, PAP_P_COUNT, "\0\0\0\1", 4);
	assert_decode(buf, len, PAP_E_DUPLICATE_PARAM);
}

static void test_unexpected_param(void **state)
{
	uint8_t pub[PAP_KEY_LEN] = { 0 };
	uint32_t v = htonl(1);

	(void)state;
	assert_with_raw(PAP_PORT, PAP_P_PUBKEY, pub, sizeof(pub),
			PAP_E_UNEXPECTED_PARAM);
	assert_with_raw(PAP_DEREGISTER, PAP_P_LEASE, &v, 4,
			PAP_E_UNEXPECTED_PARAM);
	assert_with_raw(PAP_SPI_REPLY, PAP_P_PORT_RANGE, pub, 8,
			PAP_E_UNEXPECTED_PARAM);
	/* Checked before the length: the parameter is wrong whatever its size. */
	assert_with_raw(PAP_QUERY, PAP_P_COUNT, &v, 1, PAP_E_UNEXPECTED_PARAM);
}

static void test_auth_not_last(void **state)
{
	uint8_t buf[128];
	uint32_t lease = htonl(60);
	struct pap_msg m;
	size_t len;

	(void)state;
	msg_init(&m, PAP_EXTEND);
	len = encode(&m, buf, key);
	append_raw(buf, &len, PAP_P_LEASE, &lease, 4);
	assert_decode(buf, len, PAP_E_AUTH_NOT_LAST);
	/* A second AUTH is also "not last". */
	len = encode(&m, buf, key);
	append_raw(buf, &len, PAP_P_AUTH, buf + len - PAP_MAC_LEN, PAP_MAC_LEN);
	assert_decode(buf, len, PAP_E_AUTH_NOT_LAST);
}

static void test_bad_param_len(void **state)
{
	uint8_t zero[PAP_GW_SIG_LEN + 8] = { 0 };

	(void)state;
	for (uint8_t p = 1; p <= PAP_P_MAX; p++) {
		uint8_t type = 1;

		if (p == PAP_P_MESSAGE || p == PAP_P_CSR || p == PAP_P_CERT ||
		    p == PAP_P_CRL)
			continue;
		while (!rule(type, p).max)	/* a type that allows p */
			type++;
		assert_with_raw(type, p, zero, plen[p] - 1, PAP_E_BAD_PARAM_LEN);
		assert_with_raw(type, p, zero, plen[p] + 1, PAP_E_BAD_PARAM_LEN);
	}
	/* CSR, CERT and CRL are at least one byte. */
	assert_with_raw(PAP_CERT, PAP_P_CSR, NULL, 0, PAP_E_BAD_PARAM_LEN);
	assert_with_raw(PAP_CERT_REPLY, PAP_P_CERT, NULL, 0,
			PAP_E_BAD_PARAM_LEN);
	assert_with_raw(PAP_CRL_REPLY, PAP_P_CRL, NULL, 0, PAP_E_BAD_PARAM_LEN);
}

static void test_oversized_param(void **state)
{
	static uint8_t buf[PAP_MAX_MSG];
	struct pap_msg m;
	size_t len;

	(void)state;
	assert_with_raw(PAP_ERROR, PAP_P_MESSAGE, der, PAP_MAX_TEXT + 1,
			PAP_E_OVERSIZED_PARAM);
	assert_with_raw(PAP_CERT, PAP_P_CSR, der, PAP_MAX_DER + 1,
			PAP_E_OVERSIZED_PARAM);
	assert_with_raw(PAP_CERT_REPLY, PAP_P_CERT, der, PAP_MAX_DER + 1,
			PAP_E_OVERSIZED_PARAM);
	assert_with_raw(PAP_CRL_REPLY, PAP_P_CRL, der, PAP_MAX_DER + 1,
			PAP_E_OVERSIZED_PARAM);

	/* The limits themselves are fine, and so is an empty MESSAGE. */
	msg_init(&m, PAP_CERT);
	m.present = PAP_BIT(PAP_P_CSR);
	m.csr = der;
	m.csr_len = PAP_MAX_DER;
	len = encode(&m, buf, key);
	assert_decode(buf, len, 0);
	msg_init(&m, PAP_CRL_REPLY);
	m.present = PAP_BIT(PAP_P_CRL);
	m.crl = der;
	m.crl_len = PAP_MAX_DER;
	len = encode(&m, buf, key);
	assert_decode(buf, len, 0);
	msg_init(&m, PAP_ERROR);
	fill_param(&m, PAP_P_ERROR_CODE, 0);
	fill_param(&m, PAP_P_MESSAGE, 0);
	m.message = (const char *)der;
	m.message_len = PAP_MAX_TEXT;
	len = encode(&m, buf, NULL);
	assert_decode(buf, len, 0);
	m.message_len = 0;
	len = encode(&m, buf, NULL);
	assert_decode(buf, len, 0);
}

static void test_duplicate_param(void **state)
{
	uint32_t v = htonl(5);
	uint8_t pub[PAP_KEY_LEN] = { 0 };

	(void)state;
	assert_with_raw(PAP_PORT, PAP_P_COUNT, &v, 4, PAP_E_DUPLICATE_PARAM);
	assert_with_raw(PAP_REGISTER, PAP_P_PUBKEY, pub, sizeof(pub),
			PAP_E_DUPLICATE_PARAM);
	assert_with_raw(PAP_EXTEND_REPLY, PAP_P_LEASE, &v, 4,
			PAP_E_DUPLICATE_PARAM);
}

static void test_too_many(void **state)
{
	static uint8_t buf[PAP_MAX_MSG];
	uint8_t zero[12] = { 0 };
	struct pap_msg m;
	size_t len;

	(void)state;
	/* 17th PORT_RANGE in FREE. */
	msg_init(&m, PAP_FREE);
	fill_n(&m, PAP_P_PORT_RANGE, PAP_MAX_RANGES);
	len = encode(&m, buf, NULL);
	assert_decode(buf, len, 0);
	append_raw(buf, &len, PAP_P_PORT_RANGE, zero, 8);
	assert_decode(buf, len, PAP_E_TOO_MANY);
	/* 65th SA. */
	msg_init(&m, PAP_EXT_VALIDATE_REPLY);
	fill_n(&m, PAP_P_SA, PAP_MAX_SAS);
	len = encode(&m, buf, NULL);
	append_raw(buf, &len, PAP_P_SA, zero, 12);
	assert_decode(buf, len, PAP_E_TOO_MANY);
	/* 5th CERT. */
	msg_init(&m, PAP_CERT_REPLY);
	fill_n(&m, PAP_P_CERT, 4);
	len = encode(&m, buf, NULL);
	append_raw(buf, &len, PAP_P_CERT, zero, 1);
	assert_decode(buf, len, PAP_E_TOO_MANY);
}

struct bad_value_case {
	uint8_t type, param;
	uint8_t val[12];
	uint16_t len;
};

static void test_bad_value(void **state)
{
	static const struct bad_value_case cases[] = {
		/* PORT_RANGE: first 0; first > last */
		{ PAP_FREE, PAP_P_PORT_RANGE, { 1, 2, 3, 4, 0, 0, 0, 9 }, 8 },
		{ PAP_FREE, PAP_P_PORT_RANGE, { 1, 2, 3, 4, 0, 9, 0, 8 }, 8 },
		/* SPI_RANGE: first < 256; first > last */
		{ PAP_FREE, PAP_P_SPI_RANGE,
		  { 1, 2, 3, 4, 0, 0, 0, 255, 0, 0, 1, 0 }, 12 },
		{ PAP_FREE, PAP_P_SPI_RANGE,
		  { 1, 2, 3, 4, 0, 0, 2, 0, 0, 0, 1, 255 }, 12 },
		/* SA: first < 256; first > last */
		{ PAP_QUERY_REPLY, PAP_P_SA,
		  { 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0 }, 12 },
		{ PAP_QUERY_REPLY, PAP_P_SA,
		  { 1, 2, 3, 4, 1, 0, 0, 0, 0, 0xff, 0xff, 0xff }, 12 },
		{ PAP_PORT, PAP_P_COUNT, { 0, 0, 0, 0 }, 4 },
		{ PAP_ERROR, PAP_P_ERROR_CODE, { 0, 0 }, 2 },
		{ PAP_ERROR, PAP_P_REQ_TYPE, { 0 }, 1 },
		{ PAP_ERROR, PAP_P_REQ_TYPE, { PAP_TYPE_MAX + 1 }, 1 },
	};
	uint8_t buf[64];
	struct pap_msg m;
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bad_value_case *c = &cases[i];

		/* Raw TLV first, then the required ones, so the bad value is
		 * met before the duplicate. */
		msg_init(&m, c->type);
		len = encode(&m, buf, NULL);
		append_raw(buf, &len, c->param, c->val, c->len);
		assert_decode(buf, len, PAP_E_BAD_VALUE);
	}
	/* The edges that are valid. */
	assert_with_raw(PAP_FREE, PAP_P_PORT_RANGE,
			(uint8_t []){ 1, 2, 3, 4, 0, 1, 0, 1 }, 8, PAP_OK);
	assert_with_raw(PAP_FREE, PAP_P_SPI_RANGE,
			(uint8_t []){ 1, 2, 3, 4, 0, 0, 1, 0, 0, 0, 1, 0 },
			12, PAP_OK);

	/* REGISTER must come with client id 0 and seq 0. */
	fill_required(&m, PAP_REGISTER, 0);
	m.client_id = 1;
	len = encode(&m, buf, NULL);
	assert_decode(buf, len, PAP_E_BAD_VALUE);
	m.client_id = 0;
	m.seq = 1;
	len = encode(&m, buf, NULL);
	assert_decode(buf, len, PAP_E_BAD_VALUE);
}

static void test_missing_param(void **state)
{
	uint8_t buf[128];
	struct pap_msg m;
	size_t len;

	(void)state;
	msg_init(&m, PAP_PORT);			/* no COUNT */
	len = encode(&m, buf, key);
	assert_decode(buf, len, PAP_E_MISSING_PARAM);
	msg_init(&m, PAP_FREE);			/* neither range kind */
	len = encode(&m, buf, NULL);
	assert_decode(buf, len, PAP_E_MISSING_PARAM);
	fill_param(&m, PAP_P_SPI_RANGE, 0);	/* SPIs alone are enough */
	len = encode(&m, buf, NULL);
	assert_decode(buf, len, 0);
	msg_init(&m, PAP_EXT_VALIDATE);
	fill_param(&m, PAP_P_SPI_RANGE, 0);	/* no PEER_ADDR */
	len = encode(&m, buf, NULL);
	assert_decode(buf, len, PAP_E_MISSING_PARAM);
}

/* When a datagram has several faults, the first check in order wins. */
static void test_check_order(void **state)
{
	uint8_t buf[128], zero[8] = { 0 };
	size_t len;

	(void)state;
	len = valid_port(buf);
	buf[0] = 9;
	buf[1] = 0;
	assert_decode(buf, len, PAP_E_BAD_VERSION);
	set_hdr_len(buf, 3);
	assert_decode(buf, len, PAP_E_LENGTH_MISMATCH);
	/* Unknown beats unexpected beats length; length beats duplicate. */
	assert_with_raw(PAP_PORT, 99, zero, 0, PAP_E_UNKNOWN_PARAM);
	assert_with_raw(PAP_PORT, PAP_P_SA, zero, 1, PAP_E_UNEXPECTED_PARAM);
	assert_with_raw(PAP_PORT, PAP_P_COUNT, zero, 3, PAP_E_BAD_PARAM_LEN);
	/* Duplicate beats a bad value in the duplicate. */
	assert_with_raw(PAP_PORT, PAP_P_COUNT, zero, 4, PAP_E_DUPLICATE_PARAM);
	/* A TLV after AUTH: unexpected is reported before AUTH_NOT_LAST. */
	len = encode(&(struct pap_msg){ .type = PAP_PORT, .xid = 1,
		.present = PAP_BIT(PAP_P_COUNT), .count = 1 }, buf, key);
	append_raw(buf, &len, PAP_P_PUBKEY, der, 32);
	assert_decode(buf, len, PAP_E_UNEXPECTED_PARAM);
}

/* ---- truncation at every offset --------------------------------------- */

static void test_truncation_every_offset(void **state)
{
	static uint8_t buf[PAP_MAX_MSG];
	struct pap_msg m;

	(void)state;
	for (uint8_t type = 1; type <= PAP_TYPE_MAX; type++) {
		size_t len;

		fill_full(&m, type);
		len = encode(&m, buf, key);
		for (size_t cut = 0; cut < len; cut++) {
			uint8_t save[4];
			int rc;

			/* As received: the header length no longer agrees. */
			assert_decode(buf, cut, cut < PAP_HDR_LEN ?
				      PAP_E_TRUNCATED_HEADER :
				      PAP_E_LENGTH_MISMATCH);
			if (cut < PAP_HDR_LEN)
				continue;
			/* Header patched to agree: the TLV walk meets the
			 * cut. Only a cut between TLVs can decode, and then
			 * AUTH (last) is gone. */
			memcpy(save, buf, 4);
			set_hdr_len(buf, cut);
			rc = decode_exact(buf, cut, &m);
			memcpy(buf, save, 4);
			if (rc == 0) {
				assert_false(m.present & PAP_BIT(PAP_P_AUTH));
				assert_int_equal(m.length, cut);
			} else if (rc != -PAP_E_TRUNCATED_PARAM &&
				   rc != -PAP_E_MISSING_PARAM) {
				fail_msg("%s cut at %zu: %s", pap_type_name(type),
					 cut, pap_err_name(rc));
			}
		}
		assert_decode(buf, len, 0);
	}
}

/* ---- pointers, limits ------------------------------------------------- */

static void test_pointers_into_buffer(void **state)
{
	static uint8_t buf[PAP_MAX_MSG];
	struct pap_msg m, got;
	size_t len;

	(void)state;
	fill_full(&m, PAP_ERROR);
	len = encode(&m, buf, NULL);
	assert_int_equal(pap_decode(buf, len, &got), 0);
	assert_true((const uint8_t *)got.message > buf &&
		    (const uint8_t *)got.message + got.message_len <= buf + len);
	assert_memory_equal(got.message, "per-host quota reached", 22);

	fill_full(&m, PAP_CERT);
	len = encode(&m, buf, NULL);
	assert_int_equal(pap_decode(buf, len, &got), 0);
	assert_ptr_equal(got.csr, buf + PAP_HDR_LEN + PAP_TLV_HDR_LEN);
	assert_int_equal(got.csr_len, 300);

	fill_full(&m, PAP_CRL_REPLY);
	len = encode(&m, buf, key);
	assert_int_equal(pap_decode(buf, len, &got), 0);
	assert_ptr_equal(got.crl, buf + PAP_HDR_LEN + PAP_TLV_HDR_LEN);
	assert_int_equal(got.crl_len, 700);
	assert_memory_equal(got.crl, der + 3, 700);
	/* CRL 16, length 700 (0x02bc), right after the header. */
	assert_int_equal(buf[PAP_HDR_LEN], 16);
	assert_int_equal(buf[PAP_HDR_LEN + 1], 0x02);
	assert_int_equal(buf[PAP_HDR_LEN + 2], 0xbc);
}

static void test_max_size_message(void **state)
{
	static uint8_t buf[PAP_MAX_MSG + 1];
	struct pap_msg m;
	size_t len;
	/* Two CERTs filling the datagram to exactly PAP_MAX_MSG. */
	uint16_t first = PAP_MAX_DER;
	uint16_t second = PAP_MAX_MSG - PAP_HDR_LEN - 2 * PAP_TLV_HDR_LEN - first;

	(void)state;
	msg_init(&m, PAP_CERT_REPLY);
	m.present = PAP_BIT(PAP_P_CERT);
	m.n_certs = 2;
	m.certs[0] = der;
	m.cert_lens[0] = first;
	m.certs[1] = der;
	m.cert_lens[1] = second;
	len = encode(&m, buf, NULL);
	assert_int_equal(len, PAP_MAX_MSG);
	assert_decode(buf, len, 0);
	/* The encoder stops at PAP_MAX_MSG whatever the buffer size. */
	m.cert_lens[1]++;
	assert_int_equal(pap_encode_msg(buf, sizeof(buf), &m, NULL, 0),
			 -ENOSPC);
}

/* ---- encoder ---------------------------------------------------------- */

static void test_encoder_errors(void **state)
{
	uint8_t buf[64];
	struct pap_writer w;

	(void)state;
	pap_begin(&w, buf, PAP_HDR_LEN - 1, PAP_QUERY, 1, 2, 3);
	assert_int_equal(pap_finish(&w, NULL, 0), -ENOSPC);
	pap_begin(&w, NULL, 64, PAP_QUERY, 1, 2, 3);
	assert_int_equal(pap_finish(&w, NULL, 0), -EINVAL);

	/* Exactly enough room, then one byte short: sticky -ENOSPC. */
	pap_begin(&w, buf, PAP_HDR_LEN + 7, PAP_EXTEND, 1, 2, 3);
	pap_put_u32(&w, PAP_P_LEASE, 60);
	assert_int_equal(pap_finish(&w, NULL, 0), PAP_HDR_LEN + 7);
	pap_begin(&w, buf, PAP_HDR_LEN + 6, PAP_EXTEND, 1, 2, 3);
	pap_put_u32(&w, PAP_P_LEASE, 60);
	assert_int_equal(w.err, -ENOSPC);
	pap_put_u8(&w, PAP_P_REQ_TYPE, 1);	/* would fit, but sticky */
	assert_int_equal(w.len, PAP_HDR_LEN);
	assert_int_equal(pap_finish(&w, NULL, 0), -ENOSPC);

	/* No room for AUTH. */
	pap_begin(&w, buf, PAP_HDR_LEN + PAP_TLV_HDR_LEN + PAP_MAC_LEN - 1,
		  PAP_QUERY, 1, 2, 3);
	assert_int_equal(pap_finish(&w, key, sizeof(key)), -ENOSPC);

	pap_begin(&w, buf, sizeof(buf), PAP_ERROR, 1, 2, 3);
	pap_put(&w, PAP_P_MESSAGE, NULL, 3);
	assert_int_equal(pap_finish(&w, NULL, 0), -EINVAL);
	pap_begin(&w, buf, sizeof(buf), PAP_ERROR, 1, 2, 3);
	pap_put(&w, PAP_P_MESSAGE, NULL, 0);	/* empty is fine */
	assert_int_equal(pap_finish(&w, NULL, 0), PAP_HDR_LEN + 3);
	pap_begin(&w, buf, sizeof(buf), PAP_QUERY, 1, 2, 3);
	assert_int_equal(pap_finish(&w, key, 0), -EINVAL);
}

static void test_build_error(void **state)
{
	static const uint8_t want[] = {
		0x01, 0x01, 0x00, 0x25, 0x11, 0x22, 0x33, 0x44,
		0xa0, 0xb0, 0xc0, 0xd0, 0x00, 0x00, 0x00, 0x07,
		0x08, 0x00, 0x02, 0x00, 0x1f,			/* QUOTA */
		0x0e, 0x00, 0x01, 0x04,				/* PORT */
		0x09, 0x00, 0x09, 'n', 'o', ' ', 'p', 'o', 'r', 't', 's', '!',
	};
	uint8_t buf[512], req_buf[64];
	char text[300];
	struct pap_msg req, m;
	int len;

	(void)state;
	valid_port(req_buf);
	assert_int_equal(pap_decode(req_buf, valid_port(req_buf), &req), 0);
	len = pap_build_error(buf, sizeof(buf), &req, req.type, PAP_E_QUOTA,
			      "no ports!", NULL, 0);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));

	/* Authenticated, default text. */
	len = pap_build_error(buf, sizeof(buf), &req, req.type,
			      PAP_E_NOT_OWNER, NULL, key, sizeof(key));
	assert_true(len > 0);
	assert_int_equal(pap_decode(buf, len, &m), 0);
	assert_true(pap_verify(buf, &m, key, sizeof(key)));
	assert_int_equal(m.error_code, PAP_E_NOT_OWNER);
	assert_int_equal(m.message_len, strlen(pap_err_text(PAP_E_NOT_OWNER)));
	assert_memory_equal(m.message, pap_err_text(PAP_E_NOT_OWNER),
			    m.message_len);

	/* Long text is cut to 255 bytes, on a UTF-8 character boundary:
	 * 254 ASCII bytes then "é" (2 bytes) would end mid-character. */
	memset(text, 'a', 254);
	strcpy(text + 254, "\xc3\xa9tail");
	len = pap_build_error(buf, sizeof(buf), &req, req.type,
			      PAP_E_INTERNAL, text, NULL, 0);
	assert_int_equal(pap_decode(buf, len, &m), 0);
	assert_int_equal(m.message_len, 254);

	/* An invalid request type is not echoed (it would not decode). */
	len = pap_build_error(buf, sizeof(buf), &req, 0x77, PAP_E_BAD_TYPE,
			      NULL, NULL, 0);
	assert_int_equal(pap_decode(buf, len, &m), 0);
	assert_false(m.present & PAP_BIT(PAP_P_REQ_TYPE));
	assert_int_equal(m.xid, XID);

	assert_int_equal(pap_build_error(buf, sizeof(buf), &req, 4, PAP_OK,
					 NULL, NULL, 0), -EINVAL);
	assert_int_equal(pap_build_error(buf, 20, &req, 4, PAP_E_QUOTA, NULL,
					 NULL, 0), -ENOSPC);
}

static void test_msg_diff(void **state)
{
	struct pap_msg a, b;
	char other[32];

	(void)state;
	fill_full(&a, PAP_ERROR);
	b = a;
	assert_null(pap_msg_diff(&a, &b));
	/* Same text elsewhere: equal; different text: not. */
	memcpy(other, a.message, a.message_len);
	b.message = other;
	assert_null(pap_msg_diff(&a, &b));
	other[0] ^= 1;
	assert_string_equal(pap_msg_diff(&a, &b), "message");
	fill_full(&a, PAP_QUERY_REPLY);
	b = a;
	b.sas[63].spi_last++;
	assert_string_equal(pap_msg_diff(&a, &b), "sas");
	b = a;
	b.auth_off = 1;
	assert_string_equal(pap_msg_diff(&a, &b), "auth_off");
}

/* ---- names ------------------------------------------------------------ */

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(pap_type_name(PAP_REGISTER), "register");
	assert_string_equal(pap_type_name(PAP_EXT_INVALIDATE_REPLY),
			    "ext-invalidate-reply");
	assert_string_equal(pap_type_name(0), "unknown");
	assert_string_equal(pap_type_name(PAP_TYPE_MAX + 1), "unknown");
	assert_string_equal(pap_err_name(PAP_E_TRUNCATED_HEADER),
			    "truncated-header");
	assert_string_equal(pap_err_name(-PAP_E_AUTH_FAILED), "auth-failed");
	assert_string_equal(pap_err_name(PAP_E_REGISTER_FIRST),
			    "register-first");
	assert_string_equal(pap_err_name(15), "unknown");
	assert_string_equal(pap_err_name(INT_MIN), "unknown");
	assert_string_equal(pap_err_text(999), "unknown error");

	assert_string_equal(pap_type_name(PAP_CRL), "crl");
	assert_string_equal(pap_type_name(PAP_CRL_REPLY), "crl-reply");
	assert_string_equal(pap_err_name(PAP_E_BAD_CSR), "bad-csr");
	assert_string_equal(pap_err_name(PAP_E_BAD_KEY), "bad-key");
	assert_string_equal(pap_err_name(PAP_E_NO_PORTS), "no-ports");
	/* The wire values of docs/pap.md, never renumbered. */
	assert_int_equal(PAP_CRL, 24);
	assert_int_equal(PAP_CRL_REPLY, 25);
	assert_int_equal(PAP_P_CRL, 16);
	assert_int_equal(PAP_E_BAD_CSR, 50);
	assert_int_equal(PAP_E_BAD_KEY, 51);
	assert_int_equal(PAP_E_NO_PORTS, 52);
	assert_int_equal(PAP_P_OFFSET, 18);
	assert_int_equal(PAP_P_TOTAL, 19);
	assert_int_equal(PAP_P_CRL_ID, 20);
	assert_int_equal(PAP_E_BUDGET, 36);
	assert_int_equal(PAP_E_RATE_LIMITED, 37);
	assert_string_equal(pap_err_name(PAP_E_BUDGET), "budget-exceeded");
	assert_string_equal(pap_err_name(PAP_E_RATE_LIMITED), "rate-limited");

	for (uint8_t t = 1; t <= PAP_TYPE_MAX; t++)
		assert_string_not_equal(pap_type_name(t), "unknown");
	/* Every defined code has a kebab-case name and a text; 15..19 etc.
	 * are gaps. */
	for (int c = 0; c <= PAP_E_MAX; c++) {
		bool defined = c <= PAP_E_AUTH_NOT_LAST ||
			       (c >= 20 && c <= PAP_E_COOKIE) ||
			       (c >= 30 && c <= PAP_E_RATE_LIMITED) ||
			       (c >= 40 && c <= PAP_E_INTERNAL) ||
			       (c >= 50 && c <= PAP_E_NO_PORTS);
		const char *n = pap_err_name(c);

		if (!defined) {
			assert_string_equal(n, "unknown");
			continue;
		}
		assert_string_not_equal(n, "unknown");
		assert_int_equal(strspn(n, "abcdefghijklmnopqrstuvwxyz-"),
				 strlen(n));
		assert_string_not_equal(pap_err_text(c), "unknown error");
		assert_null(strchr(pap_err_text(c), '\n'));
	}
}

/* ---- HMAC ------------------------------------------------------------- */

static void test_hmac_rfc4231(void **state)
{
	/* RFC 4231 test cases 1 and 2. */
	static const uint8_t mac1[32] = {
		0xb0, 0x34, 0x4c, 0x61, 0xd8, 0xdb, 0x38, 0x53, 0x5c, 0xa8, 0xaf,
		0xce, 0xaf, 0x0b, 0xf1, 0x2b, 0x88, 0x1d, 0xc2, 0x00, 0xc9, 0x83,
		0x3d, 0xa7, 0x26, 0xe9, 0x37, 0x6c, 0x2e, 0x32, 0xcf, 0xf7 };
	static const uint8_t mac2[32] = {
		0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24,
		0x26, 0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27,
		0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43 };
	uint8_t k1[20], out[32];

	(void)state;
	memset(k1, 0x0b, sizeof(k1));
	/* Twice each, interleaved: the cached context must re-key. */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pap_hmac(k1, sizeof(k1),
					  (const uint8_t *)"Hi There", 8, out), 0);
		assert_memory_equal(out, mac1, 32);
		assert_int_equal(pap_hmac((const uint8_t *)"Jefe", 4,
			(const uint8_t *)"what do ya want for nothing?", 28,
			out), 0);
		assert_memory_equal(out, mac2, 32);
	}
	assert_int_equal(pap_hmac(NULL, 0, out, 1, out), -EINVAL);
	assert_int_equal(pap_hmac(k1, 0, out, 1, out), -EINVAL);
}

static void test_verify_good_and_bad_key(void **state)
{
	uint8_t buf[256], other[PAP_KEY_LEN], mac[PAP_MAC_LEN];
	struct pap_msg m;
	size_t len;

	(void)state;
	fill_full(&m, PAP_EXTEND);
	len = encode(&m, buf, key);
	assert_int_equal(pap_decode(buf, len, &m), 0);
	assert_int_equal(m.auth_off, len - PAP_MAC_LEN);
	assert_true(pap_verify(buf, &m, key, sizeof(key)));
	/* The MAC covers everything before its value, length included. */
	assert_int_equal(pap_hmac(key, sizeof(key), buf, m.auth_off, mac), 0);
	assert_memory_equal(mac, buf + m.auth_off, PAP_MAC_LEN);

	memcpy(other, key, sizeof(other));
	other[31] ^= 0x80;
	assert_false(pap_verify(buf, &m, other, sizeof(other)));
	assert_false(pap_verify(buf, &m, key, sizeof(key) - 1));
	assert_false(pap_verify(buf, &m, NULL, 0));
}

static void test_verify_tampered(void **state)
{
	uint8_t buf[256];
	struct pap_msg m;
	size_t len;
	int decoded = 0;

	(void)state;
	fill_full(&m, PAP_PORT);
	len = encode(&m, buf, key);
	for (size_t i = 0; i < len; i++) {
		for (uint8_t bit = 1; bit; bit <<= 1) {
			buf[i] ^= bit;
			if (!pap_decode(buf, len, &m)) {
				decoded++;
				if (pap_verify(buf, &m, key, sizeof(key)))
					fail_msg("flip %zu/%#x verifies", i, bit);
			}
			buf[i] ^= bit;
		}
	}
	/* Most flips (ids, values, the MAC itself) still parse: the MAC is
	 * what catches them. */
	assert_true(decoded > (int)len * 4);
	assert_int_equal(pap_decode(buf, len, &m), 0);
	assert_true(pap_verify(buf, &m, key, sizeof(key)));
}

static void test_verify_missing_auth(void **state)
{
	uint8_t buf[256];
	struct pap_msg m;
	size_t len;

	(void)state;
	fill_full(&m, PAP_PORT);
	len = encode(&m, buf, NULL);
	assert_int_equal(pap_decode(buf, len, &m), 0);
	assert_int_equal(m.auth_off, 0);
	assert_false(pap_verify(buf, &m, key, sizeof(key)));
}

/* ---- key agreement ---------------------------------------------------- */

static void test_derive_both_sides(void **state)
{
	uint8_t hpriv[32], hpub[32], gpriv[32], gpub[32];
	uint8_t s_host[32], s_gw[32], s_other[32];
	static const uint8_t site2[32] = "another-site-key-of-32-bytes....";

	(void)state;
	assert_int_equal(pap_x25519_keygen(hpriv, hpub), 0);
	assert_int_equal(pap_x25519_keygen(gpriv, gpub), 0);
	assert_memory_not_equal(hpriv, gpriv, 32);
	assert_memory_not_equal(hpub, gpub, 32);

	assert_int_equal(pap_derive_secret(hpriv, gpub, hpub, gpub, 42, EX_HI, ex_site, 32, s_host), 0);
	assert_int_equal(pap_derive_secret(gpriv, hpub, hpub, gpub, 42, EX_HI, ex_site, 32, s_gw), 0);
	assert_memory_equal(s_host, s_gw, 32);

	/* Another site key, no site key, another id, swapped keys: another
	 * secret each time. */
	assert_int_equal(pap_derive_secret(gpriv, hpub, hpub, gpub, 42, EX_HI, site2, 32, s_other), 0);
	assert_memory_not_equal(s_host, s_other, 32);
	assert_int_equal(pap_derive_secret(gpriv, hpub, hpub, gpub, 42, EX_HI, NULL, 0, s_other), 0);
	assert_memory_not_equal(s_host, s_other, 32);
	assert_int_equal(pap_derive_secret(gpriv, hpub, hpub, gpub, 43, EX_HI, ex_site, 32, s_other), 0);
	assert_memory_not_equal(s_host, s_other, 32);
	assert_int_equal(pap_derive_secret(gpriv, hpub, gpub, hpub, 42, EX_HI, ex_site, 32, s_other), 0);
	assert_memory_not_equal(s_host, s_other, 32);
}

static void test_derive_known_answer(void **state)
{
	static const uint8_t small_order[32] = { 0 };
	uint8_t s[32];

	(void)state;
	assert_int_equal(pap_derive_secret(ex_gw_priv, ex_host_pub, ex_host_pub, ex_gw_pub, 1, EX_HI, ex_site, 32, s), 0);
	assert_memory_equal(s, ex_secret, 32);
	assert_int_equal(pap_derive_secret(ex_host_priv, ex_gw_pub, ex_host_pub, ex_gw_pub, 1, EX_HI, NULL, 0, s), 0);
	assert_memory_equal(s, ex_secret_nosite, 32);
	/* A small-order peer key would give an all-zero shared secret. */
	assert_int_equal(pap_derive_secret(ex_gw_priv, small_order, small_order, ex_gw_pub, 1, EX_HI, NULL, 0, s), -EIO);
}

/* ---- issue 13: the address binding, cookie, GW_SIG, tokens ------------- */

static void test_derive_binds_the_address(void **state)
{
	uint8_t a[32], b[32];

	(void)state;
	assert_int_equal(pap_derive_secret(ex_gw_priv, ex_host_pub, ex_host_pub, ex_gw_pub, 1,
					   EX_HI, NULL, 0, a), 0);
	assert_int_equal(pap_derive_secret(ex_gw_priv, ex_host_pub, ex_host_pub, ex_gw_pub, 1,
					   EX_HI + 1, NULL, 0, b), 0);
	assert_memory_not_equal(a, b, 32);	/* a relay's address: another secret */
}

static void test_cookie_inputs(void **state)
{
	static const uint8_t k1[32] = { 1 }, k2[32] = { 2 };
	uint8_t c[6][PAP_COOKIE_LEN];

	(void)state;
	assert_int_equal(pap_cookie(k1, EX_HI, 4711, ex_host_pub, 7, c[0]), 0);
	assert_int_equal(pap_cookie(k1, EX_HI, 4711, ex_host_pub, 7, c[1]), 0);
	assert_memory_equal(c[0], c[1], PAP_COOKIE_LEN);
	assert_int_equal(pap_cookie(k2, EX_HI, 4711, ex_host_pub, 7, c[1]), 0);
	assert_int_equal(pap_cookie(k1, EX_HI + 1, 4711, ex_host_pub, 7, c[2]), 0);
	assert_int_equal(pap_cookie(k1, EX_HI, 4712, ex_host_pub, 7, c[3]), 0);
	assert_int_equal(pap_cookie(k1, EX_HI, 4711, ex_gw_pub, 7, c[4]), 0);
	assert_int_equal(pap_cookie(k1, EX_HI, 4711, ex_host_pub, 8, c[5]), 0);
	for (int i = 1; i < 6; i++)
		assert_memory_not_equal(c[0], c[i], PAP_COOKIE_LEN);
}

static void test_gw_sig(void **state)
{
	static const uint8_t seed[32] = { 42 };
	struct pap_msg r = { .xid = 9, .client_id = 3, .lease = 300, .n_globals = 1,
			     .globals = { 0x016433c6u }, .present = PAP_BIT(PAP_P_GW_SIG) };
	struct pap_msg x;
	uint8_t pub[32];

	(void)state;
	memcpy(r.pubkey, ex_gw_pub, 32);
	assert_int_equal(pap_ed25519_pub(seed, pub), 0);
	assert_int_equal(pap_sign_register_reply(seed, &r, EX_HI, ex_host_pub, r.gw_sig), 0);
	assert_memory_equal(r.gw_sig, pub, 32);
	assert_true(pap_verify_register_reply(&r, EX_HI, ex_host_pub));
	assert_false(pap_verify_register_reply(&r, EX_HI + 1, ex_host_pub));
	assert_false(pap_verify_register_reply(&r, EX_HI, ex_gw_pub));
	/* every field it covers */
	x = r; x.xid++;
	assert_false(pap_verify_register_reply(&x, EX_HI, ex_host_pub));
	x = r; x.client_id++;
	assert_false(pap_verify_register_reply(&x, EX_HI, ex_host_pub));
	x = r; x.lease = 1;
	assert_false(pap_verify_register_reply(&x, EX_HI, ex_host_pub));
	x = r; x.globals[0] ^= 1;
	assert_false(pap_verify_register_reply(&x, EX_HI, ex_host_pub));
	x = r; x.pubkey[5] ^= 1;
	assert_false(pap_verify_register_reply(&x, EX_HI, ex_host_pub));
	x = r; x.gw_sig[40] ^= 1;
	assert_false(pap_verify_register_reply(&x, EX_HI, ex_host_pub));
	x = r; x.present = 0;
	assert_false(pap_verify_register_reply(&x, EX_HI, ex_host_pub));
}

static void test_unsigned_error_rule(void **state)
{
	(void)state;
	for (int c = 1; c <= PAP_E_MAX; c++)
		assert_true(pap_error_may_be_unsigned(PAP_REGISTER, c));
	assert_true(pap_error_may_be_unsigned(PAP_PORT, PAP_E_REGISTER_FIRST));
	assert_true(pap_error_may_be_unsigned(PAP_PORT, PAP_E_AUTH_FAILED));
	assert_true(pap_error_may_be_unsigned(PAP_PORT, PAP_E_BAD_VALUE));
	assert_false(pap_error_may_be_unsigned(PAP_PORT, PAP_E_QUOTA));
	assert_false(pap_error_may_be_unsigned(PAP_EXTEND, PAP_E_REPLAY));
	assert_false(pap_error_may_be_unsigned(PAP_QUERY, PAP_E_COOKIE));
	assert_false(pap_error_may_be_unsigned(PAP_DEREGISTER, PAP_E_INTERNAL));
}

static void test_token_parse(void **state)
{
	char good[128] = "17:";
	uint8_t secret[32];
	uint32_t id;

	(void)state;
	for (int i = 0; i < 32; i++)
		snprintf(good + 3 + 2 * i, 3, "%02X", i);
	assert_int_equal(pap_token_parse(good, &id, secret), 0);
	assert_int_equal(id, 17);
	assert_int_equal(secret[31], 31);
	assert_int_equal(pap_token_parse("0:00", &id, secret), -EINVAL);
	assert_int_equal(pap_token_parse("17", &id, secret), -EINVAL);
	good[10] = 'g';
	assert_int_equal(pap_token_parse(good, &id, secret), -EINVAL);
	good[10] = '0';
	good[strlen(good) - 1] = 0;
	assert_int_equal(pap_token_parse(good, &id, secret), -EINVAL);
	assert_int_equal(pap_token_parse("4294967296:", &id, secret), -EINVAL);
}

static int setup(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(der); i++)
		der[i] = (uint8_t)(i * 7 + 3);
	return 0;
}

#define RT(t)	cmocka_unit_test(test_round_trip_##t)

int main(void)
{
	const struct CMUnitTest tests[] = {
		RT(ERROR), RT(REGISTER), RT(REGISTER_REPLY), RT(PORT),
		RT(PORT_REPLY), RT(SPI), RT(SPI_REPLY), RT(CERT),
		RT(CERT_REPLY), RT(EXT_VALIDATE), RT(EXT_VALIDATE_REPLY),
		RT(EXT_INVALIDATE), RT(EXT_INVALIDATE_REPLY), RT(EXTEND),
		RT(EXTEND_REPLY), RT(FREE), RT(FREE_REPLY), RT(DEREGISTER),
		RT(DEREGISTER_REPLY), RT(QUERY), RT(QUERY_REPLY), RT(NATT), RT(NATT_REPLY),
		RT(CRL), RT(CRL_REPLY),
		cmocka_unit_test(test_wire_layout),
		cmocka_unit_test(test_crl_layout),
		cmocka_unit_test(test_ext_mtu),
		cmocka_unit_test(test_doc_example),
		cmocka_unit_test(test_schema_every_pair),
		cmocka_unit_test(test_truncated_header),
		cmocka_unit_test(test_length_mismatch),
		cmocka_unit_test(test_bad_version),
		cmocka_unit_test(test_bad_type),
		cmocka_unit_test(test_truncated_param),
		cmocka_unit_test(test_unknown_param),
		cmocka_unit_test(test_skippable_param),
		cmocka_unit_test(test_unexpected_param),
		cmocka_unit_test(test_auth_not_last),
		cmocka_unit_test(test_bad_param_len),
		cmocka_unit_test(test_oversized_param),
		cmocka_unit_test(test_duplicate_param),
		cmocka_unit_test(test_too_many),
		cmocka_unit_test(test_bad_value),
		cmocka_unit_test(test_missing_param),
		cmocka_unit_test(test_check_order),
		cmocka_unit_test(test_truncation_every_offset),
		cmocka_unit_test(test_pointers_into_buffer),
		cmocka_unit_test(test_max_size_message),
		cmocka_unit_test(test_encoder_errors),
		cmocka_unit_test(test_build_error),
		cmocka_unit_test(test_msg_diff),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_hmac_rfc4231),
		cmocka_unit_test(test_verify_good_and_bad_key),
		cmocka_unit_test(test_verify_tampered),
		cmocka_unit_test(test_verify_missing_auth),
		cmocka_unit_test(test_derive_both_sides),
		cmocka_unit_test(test_derive_known_answer),
		cmocka_unit_test(test_derive_binds_the_address),
		cmocka_unit_test(test_cookie_inputs),
		cmocka_unit_test(test_gw_sig),
		cmocka_unit_test(test_unsigned_error_rule),
		cmocka_unit_test(test_token_parse),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
