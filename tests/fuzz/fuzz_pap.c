/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * libFuzzer target for the PAP codec. Beyond "no crash, no overread", it
 * checks what the gateway relies on:
 *  - a datagram whose header parsed gets an ERROR reply that itself decodes
 *    and echoes the code and ids;
 *  - a decoded message re-encodes (canonical parameter order) to the same
 *    length less the unknown skippable parameters it passed over (the
 *    canonical encoding drops them) and decodes to the same content;
 *  - AUTH verifies only when present, and a re-encoded AUTH verifies;
 *  - a gateway (gw_handle) never answers a source that has not proven its
 *    address (no valid COOKIE can be guessed) with more bytes than it sent:
 *    no reflection, no amplification (issue 13, finding 7);
 *  - GW_SIG of a REGISTER_REPLY is checked without crashing.
 * Any broken invariant abort()s, which libFuzzer reports as a crash.
 *
 * The seed corpus (tests/fuzz/corpus/pap) is written by gen_corpus.c, which
 * includes this file for fuzz_key and to run every seed through the target.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "gateway/gateway.h"
#include "lib/log.h"
#include "pap/pap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Seeds are authenticated with this key, so the verify path is reachable. */
static const uint8_t fuzz_key[PAP_KEY_LEN] = "xdnat-pap-fuzz-key-32-bytes-long";

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz_pap: %s: ", #cond);		\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		abort();						\
	}								\
} while (0)

static void check_error_reply(const struct pap_msg *req, int rc)
{
	static uint8_t out[PAP_MAX_MSG];
	struct pap_msg e;
	int len;

	len = pap_build_error(out, sizeof(out), req, req->type, -rc, NULL,
			      NULL, 0);
	CHECK(len > 0, "build_error: %d", len);
	CHECK(!pap_decode(out, len, &e), "error reply does not decode");
	CHECK(e.type == PAP_ERROR && e.error_code == -rc &&
	      e.xid == req->xid && e.client_id == req->client_id &&
	      e.seq == req->seq, "error reply does not echo the request");
}

static void check_reencode(const uint8_t *data, const struct pap_msg *m)
{
	static uint8_t out[PAP_MAX_MSG];
	bool auth = m->present & PAP_BIT(PAP_P_AUTH);
	const uint8_t *k = auth ? fuzz_key : NULL;
	struct pap_msg again, want = *m;
	const char *diff;
	int len, rc;

	CHECK(auth || !pap_verify(data, m, fuzz_key, sizeof(fuzz_key)),
	      "verified without AUTH");
	len = pap_encode_msg(out, sizeof(out), m, k, k ? sizeof(fuzz_key) : 0);
	/* skipped parameters come before AUTH, so AUTH moves back as far */
	CHECK(m->skipped_len <= m->length - PAP_HDR_LEN &&
	      (!m->skipped_len) == (!m->n_skipped), "skipped %u bytes in %u",
	      m->skipped_len, m->n_skipped);
	want.length -= m->skipped_len;
	if (auth)
		want.auth_off -= m->skipped_len;
	CHECK(len == want.length, "re-encoded %d bytes, original %u less %u skipped",
	      len, m->length, m->skipped_len);
	rc = pap_decode(out, len, &again);
	CHECK(rc == 0, "re-encoded %s does not decode: %s",
	      pap_type_name(m->type), pap_err_name(rc));
	CHECK(!again.n_skipped, "re-encoded %s kept a skipped parameter",
	      pap_type_name(m->type));
	diff = pap_msg_diff(&again, &want);
	CHECK(!diff, "re-encoded %s differs in %s", pap_type_name(m->type),
	      diff);
	CHECK(!auth || pap_verify(out, &again, fuzz_key, sizeof(fuzz_key)),
	      "re-encoded AUTH does not verify");
}

static uint64_t fuzz_clock(void *ctx)
{
	(void)ctx;
	return 1000000;
}

/* One gateway for the whole run: nobody can register (no cookie), so its
 * table stays empty and every answer goes to an unproven source. */
static void check_gateway(const uint8_t *data, size_t size)
{
	static struct gw *g;
	static uint8_t reply[PAP_MAX_MSG];
	size_t n;

	if (!g) {
		struct gw_config cfg = {
			.global = 0x016433c6u, .port_lo = 20000, .port_hi = 20999,
			.spi_lo = 4096, .spi_hi = 0xffffffffu, .lease_secs = 60,
			.max_lease_secs = 600, .port_quota = 256, .spi_quota = 1024,
			.max_hosts = 8, .min_lease_secs = 30, .register_rate = 10,
			.register_burst = 20,
		};

		log_setup("fuzz_pap", LOG_LVL_ERR, 0);
		if (gw_new(&cfg, NULL, fuzz_clock, NULL, &g))
			abort();
	}
	n = gw_handle(g, data, size, 0x0b00000au, 0x4711, reply, sizeof(reply));
	CHECK(n <= size, "%zu-byte answer to %zu bytes from an unproven source", n, size);
	CHECK(!gw_host_count(g), "a host registered without a cookie");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pap_msg m;
	int rc;

	check_gateway(data, size);
	rc = pap_decode(data, size, &m);
	CHECK(rc <= 0 && rc >= -PAP_E_AUTH_NOT_LAST, "decode returned %d", rc);
	if (rc == -PAP_E_TRUNCATED_HEADER)
		return 0;		/* the gateway stays silent */
	if (rc)
		check_error_reply(&m, rc);
	else
		check_reencode(data, &m);
	if (!rc && m.type == PAP_REGISTER_REPLY)
		(void)pap_verify_register_reply(&m, 0x0b00000au, m.pubkey);
	return 0;
}
