/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Writes the PAP seed corpus: one valid datagram per message type (AUTH under
 * the fuzzer's key) and one malformed datagram per decode error, each checked
 * against pap_decode() and run through the fuzz target before it is written.
 *
 *   make build/ctl/libxdnat-gateway.a   (and the other layers)
 *   gcc -std=c11 -D_GNU_SOURCE -Ictl -Icommon tests/fuzz/gen_corpus.c \
 *       build/ctl/libxdnat-gateway.a build/ctl/libxdnat-pap.a \
 *       build/ctl/libxdnat-lib.a -lcrypto -ljson-c -lbpf -lmnl -lz -lmicrohttpd \
 *       -o /tmp/gen_corpus
 *   /tmp/gen_corpus tests/fuzz/corpus/pap
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_pap.c"	/* fuzz_key and LLVMFuzzerTestOneInput */

#define G		htonl(0xc6336401u)	/* 198.51.100.1 */

static const struct sample {
	uint8_t type;
	uint8_t n[PAP_P_MAX + 1];	/* occurrences of each parameter */
	const char *variant;		/* a second seed of the type: name suffix */
} samples[] = {
	{ PAP_ERROR, { [PAP_P_ERROR_CODE] = 1, [PAP_P_REQ_TYPE] = 1,
		       [PAP_P_MESSAGE] = 1 } },
	{ PAP_ERROR, { [PAP_P_ERROR_CODE] = 1, [PAP_P_COOKIE] = 1 }, "cookie" },
	{ PAP_REGISTER, { [PAP_P_PUBKEY] = 1, [PAP_P_LEASE] = 1 } },
	{ PAP_REGISTER, { [PAP_P_PUBKEY] = 1, [PAP_P_LEASE] = 1, [PAP_P_COOKIE] = 1,
			  [PAP_P_TOKEN_ID] = 1 }, "cookie-token" },
	{ PAP_REGISTER_REPLY, { [PAP_P_GLOBAL_ADDR] = 2, [PAP_P_LEASE] = 1,
				[PAP_P_PUBKEY] = 1, [PAP_P_EXT_MTU] = 1 } },
	{ PAP_REGISTER_REPLY, { [PAP_P_GLOBAL_ADDR] = 1, [PAP_P_LEASE] = 1,
				[PAP_P_PUBKEY] = 1, [PAP_P_EXT_MTU] = 1, [PAP_P_GW_SIG] = 1 }, "signed" },
	{ PAP_PORT, { [PAP_P_COUNT] = 1, [PAP_P_PORT_RANGE] = 1,
		      [PAP_P_GLOBAL_ADDR] = 1 } },
	{ PAP_PORT_REPLY, { [PAP_P_PORT_RANGE] = 1, [PAP_P_LEASE] = 1 } },
	{ PAP_SPI, { [PAP_P_COUNT] = 1, [PAP_P_SPI_RANGE] = 1,
		     [PAP_P_GLOBAL_ADDR] = 1 } },
	{ PAP_SPI_REPLY, { [PAP_P_SPI_RANGE] = 1 } },
	{ PAP_CERT, { [PAP_P_CSR] = 1 } },
	{ PAP_CERT_REPLY, { [PAP_P_CERT] = 2 } },
	{ PAP_EXT_VALIDATE, { [PAP_P_PEER_ADDR] = 1, [PAP_P_SPI_RANGE] = 2 } },
	{ PAP_EXT_VALIDATE_REPLY, { [PAP_P_SA] = 2 } },
	{ PAP_EXT_INVALIDATE, { [PAP_P_PEER_ADDR] = 1, [PAP_P_SPI_RANGE] = 1 } },
	{ PAP_EXT_INVALIDATE_REPLY, { [PAP_P_SA] = 1 } },
	{ PAP_EXTEND, { [PAP_P_LEASE] = 1 } },
	{ PAP_EXTEND_REPLY, { [PAP_P_LEASE] = 1 } },
	{ PAP_FREE, { [PAP_P_PORT_RANGE] = 2, [PAP_P_SPI_RANGE] = 1 } },
	{ PAP_FREE_REPLY, { [PAP_P_PORT_RANGE] = 2, [PAP_P_SPI_RANGE] = 1 } },
	{ PAP_DEREGISTER, { 0 } },
	{ PAP_DEREGISTER_REPLY, { 0 } },
	{ PAP_QUERY, { 0 } },
	{ PAP_QUERY_REPLY, { [PAP_P_GLOBAL_ADDR] = 1, [PAP_P_LEASE] = 1,
			     [PAP_P_PORT_RANGE] = 2, [PAP_P_SPI_RANGE] = 2,
			     [PAP_P_SA] = 3, [PAP_P_NATT_PORT] = 1,
			     [PAP_P_EXT_MTU] = 1 } },
	{ PAP_NATT, { [PAP_P_NATT_PORT] = 1 } },
	{ PAP_NATT_REPLY, { [PAP_P_NATT_PORT] = 1 } },
	{ PAP_CRL, { [PAP_P_OFFSET] = 1 } },
	{ PAP_CRL_REPLY, { [PAP_P_CRL] = 1, [PAP_P_OFFSET] = 1, [PAP_P_TOTAL] = 1,
			   [PAP_P_CRL_ID] = 1 } },
};

static uint8_t der[64];		/* stands in for CSR / certificate / CRL DER */
static uint8_t gw_sig[PAP_GW_SIG_LEN];	/* a key and signature's shape */

/* Occurrence i of parameter p, with a plausible value. */
static void put_sample(struct pap_writer *w, uint8_t p, unsigned int i)
{
	struct pap_port_range pr = { G, 1024 + 64 * i, 1087 + 64 * i };
	struct pap_spi_range sr = { G, 0x10000u << i, (0x10000u << i) + 0xffff };
	struct pap_sa sa = { htonl(0xcb007101u + i), 0x10000, 0x1ffff };
	uint8_t pub[PAP_KEY_LEN];

	switch (p) {
	case PAP_P_GLOBAL_ADDR:
		pap_put_addr(w, p, htonl(ntohl(G) + i));
		break;
	case PAP_P_PORT_RANGE:
		pap_put_port_range(w, &pr);
		break;
	case PAP_P_SPI_RANGE:
		pap_put_spi_range(w, &sr);
		break;
	case PAP_P_SA:
		pap_put_sa(w, &sa);
		break;
	case PAP_P_COUNT:
		pap_put_u32(w, p, 64);
		break;
	case PAP_P_PEER_ADDR:
		pap_put_addr(w, p, htonl(0xcb007101u));
		break;
	case PAP_P_LEASE:
		pap_put_u32(w, p, 3600);
		break;
	case PAP_P_PUBKEY:
		memset(pub, 0x20 + i, sizeof(pub));
		pap_put(w, p, pub, sizeof(pub));
		break;
	case PAP_P_ERROR_CODE:
		pap_put_u16(w, p, PAP_E_QUOTA);
		break;
	case PAP_P_MESSAGE:
		pap_put(w, p, "per-host quota reached", 22);
		break;
	case PAP_P_CSR:
	case PAP_P_CERT:
	case PAP_P_CRL:
		pap_put(w, p, der, sizeof(der) - 8 * i);
		break;
	case PAP_P_REQ_TYPE:
		pap_put_u8(w, p, PAP_PORT);
		break;
	case PAP_P_NATT_PORT:
		pap_put_u16(w, p, 1025);
		break;
	case PAP_P_EXT_MTU:
		pap_put_u16(w, p, 1400);
		break;
	case PAP_P_OFFSET:
		pap_put_u32(w, p, 8192);
		break;
	case PAP_P_TOTAL:
		pap_put_u32(w, p, 35249);
		break;
	case PAP_P_CRL_ID:
		memset(pub, 0x5c, sizeof(pub));
		pap_put(w, p, pub, sizeof(pub));
		break;
	case PAP_P_COOKIE:
		pap_put(w, p, der, PAP_COOKIE_LEN);
		break;
	case PAP_P_TOKEN_ID:
		pap_put_u32(w, p, 7);
		break;
	case PAP_P_GW_SIG:
		pap_put(w, p, gw_sig, sizeof(gw_sig));
		break;
	}
}

static int build_sample(const struct sample *s, uint8_t *buf, size_t cap)
{
	bool reg = s->type == PAP_REGISTER;
	struct pap_writer w;

	pap_begin(&w, buf, cap, s->type, 0x1000 + s->type, reg ? 0 : 1,
		  reg ? 0 : s->type);
	for (uint8_t p = 1; p <= PAP_P_MAX; p++)
		for (unsigned int i = 0; i < s->n[p]; i++)
			put_sample(&w, p, i);
	return pap_finish(&w, fuzz_key, sizeof(fuzz_key));
}

static void set_len(uint8_t *buf, size_t len)
{
	buf[2] = len >> 8;
	buf[3] = len & 0xff;
}

/* Append a raw TLV and fix the header length. */
static size_t append(uint8_t *buf, size_t len, uint8_t t, uint16_t vlen,
		     uint8_t fill)
{
	buf[len] = t;
	buf[len + 1] = vlen >> 8;
	buf[len + 2] = vlen & 0xff;
	memset(buf + len + 3, fill, vlen);
	len += PAP_TLV_HDR_LEN + vlen;
	set_len(buf, len);
	return len;
}

/* A PORT request (COUNT, no AUTH) broken so that it fails with err. */
static size_t build_malformed(enum pap_err err, uint8_t *buf, size_t cap)
{
	struct pap_writer w;
	size_t len;

	pap_begin(&w, buf, cap, PAP_PORT, 0x2000 + err, 1, err);
	pap_put_u32(&w, PAP_P_COUNT, 64);
	len = (size_t)pap_finish(&w, NULL, 0);

	switch (err) {
	case PAP_E_TRUNCATED_HEADER:
		return PAP_HDR_LEN - 1;
	case PAP_E_LENGTH_MISMATCH:
		set_len(buf, len + 4);
		return len;
	case PAP_E_BAD_VERSION:
		buf[0] = 2;
		return len;
	case PAP_E_BAD_TYPE:
		buf[1] = PAP_TYPE_MAX + 1;
		return len;
	case PAP_E_TRUNCATED_PARAM:
		set_len(buf, len - 1);
		return len - 1;
	case PAP_E_UNKNOWN_PARAM:
		return append(buf, len, PAP_P_MAX + 1, 4, 0);
	case PAP_E_UNEXPECTED_PARAM:
		return append(buf, len, PAP_P_PUBKEY, PAP_KEY_LEN, 0x11);
	case PAP_E_MISSING_PARAM:
		set_len(buf, PAP_HDR_LEN);
		return PAP_HDR_LEN;
	case PAP_E_DUPLICATE_PARAM:
		return append(buf, len, PAP_P_COUNT, 4, 1);
	case PAP_E_BAD_PARAM_LEN:
		return append(buf, len, PAP_P_GLOBAL_ADDR, 5, 1);
	case PAP_E_OVERSIZED_PARAM:
		buf[1] = PAP_ERROR;
		set_len(buf, PAP_HDR_LEN);
		return append(buf, PAP_HDR_LEN, PAP_P_MESSAGE, PAP_MAX_TEXT + 1,
			      'x');
	case PAP_E_TOO_MANY:
		buf[1] = PAP_FREE;
		len = PAP_HDR_LEN;
		for (int i = 0; i <= PAP_MAX_RANGES; i++)
			len = append(buf, len, PAP_P_PORT_RANGE, 8, 1);
		return len;
	case PAP_E_BAD_VALUE:
		buf[PAP_HDR_LEN + PAP_TLV_HDR_LEN + 3] = 0;	/* COUNT 0 */
		return len;
	case PAP_E_AUTH_NOT_LAST:
		len = append(buf, len, PAP_P_AUTH, PAP_MAC_LEN, 0xaa);
		return append(buf, len, PAP_P_GLOBAL_ADDR, 4, 1);
	default:
		return 0;
	}
}

/* An EXTEND_REPLY with unknown skippable parameters (128..255) before AUTH,
 * which covers them: decodes, and re-encodes without them. */
static size_t build_skipped(uint8_t *buf, size_t cap)
{
	struct pap_writer w;
	size_t len;

	pap_begin(&w, buf, cap, PAP_EXTEND_REPLY, 0x3000, 7, 9);
	pap_put_u32(&w, PAP_P_LEASE, 600);
	pap_put_u16(&w, PAP_P_EXT_MTU, 1400);
	len = (size_t)pap_finish(&w, NULL, 0);
	len = append(buf, len, PAP_P_SKIPPABLE, 6, 0x42);
	len = append(buf, len, 0xff, 0, 0);
	len = append(buf, len, PAP_P_AUTH, PAP_MAC_LEN, 0);
	if (pap_hmac(fuzz_key, sizeof(fuzz_key), buf, len - PAP_MAC_LEN,
		     buf + len - PAP_MAC_LEN))
		return 0;
	return len;
}

static int write_seed(const char *dir, const char *prefix, const char *name,
		      const uint8_t *buf, size_t len, int want)
{
	struct pap_msg m;
	char path[512];
	FILE *f;
	int rc = pap_decode(buf, len, &m);

	if (rc != want) {
		fprintf(stderr, "%s%s: decodes to %s, want %s\n", prefix, name,
			pap_err_name(rc), pap_err_name(want));
		return -1;
	}
	LLVMFuzzerTestOneInput(buf, len);
	snprintf(path, sizeof(path), "%s/%s%s.bin", dir, prefix, name);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f)) {
		perror(path);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static uint8_t buf[PAP_MAX_MSG];
	const char *dir = argc > 1 ? argv[1] : "tests/fuzz/corpus/pap";
	int bad = 0;

	for (size_t i = 0; i < sizeof(der); i++)
		der[i] = 0x30 ^ i;
	for (size_t i = 0; i < sizeof(gw_sig); i++)
		gw_sig[i] = (uint8_t)(0x5a ^ i);
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		int len = build_sample(&samples[i], buf, sizeof(buf));

		char name[64];

		snprintf(name, sizeof(name), "%s%s%s", pap_type_name(samples[i].type),
			 samples[i].variant ? "-" : "",
			 samples[i].variant ? samples[i].variant : "");
		bad |= len < 0 || write_seed(dir, "", name, buf, len, 0);
	}
	{
		size_t len = build_skipped(buf, sizeof(buf));

		bad |= !len || write_seed(dir, "", "extend-reply-skipped", buf, len, 0);
	}
	for (int e = PAP_E_TRUNCATED_HEADER; e <= PAP_E_AUTH_NOT_LAST; e++) {
		size_t len = build_malformed(e, buf, sizeof(buf));

		bad |= !len || write_seed(dir, "malformed-", pap_err_name(e),
					  buf, len, -e);
	}
	return bad ? 1 : 0;
}
