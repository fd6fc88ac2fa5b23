/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Robustness of the XDP data plane: FUZZ_FRAMES (or XDNAT_FUZZ_FRAMES from
 * the environment: make test-kernels runs fewer under emulation) random and
 * mutated frames through each of gw_ext and gw_int with BPF_PROG_TEST_RUN (repeat = 1, the
 * programs rewrite packets), deterministic (fixed seed, the tests' own PRNG).
 *
 * The maps hold the standard world of bpf_rig.h (H2's MAC resolved, so both
 * of gw_ext's next-hop paths run) plus a learned echo id and fragment, so
 * mutations of valid frames (ESP, AH, UDP, NAT-T, TCP, ICMP echo reply and
 * errors, fragments, too-big packets, IPIP from hosts) reach the deep paths.
 * For every frame:
 *   - the kernel runs it and the verdict is one the program may give
 *     (gw_ext: PASS, DROP, TX, REDIRECT; gw_int: PASS, DROP, REDIRECT),
 *     never XDP_ABORTED;
 *   - data_out is larger than any possible output and filled with a canary:
 *     nothing after data_size_out changes;
 *   - the output is consistent with the verdict: PASS leaves the frame
 *     untouched; gw_ext's REDIRECT is the input behind exactly one valid
 *     outer header (+20), its TX a frag-needed quoting the input; gw_int's
 *     REDIRECT is the input less its outer header (-20..-60); a DROP may
 *     carry what was pushed before the drop was decided (gw_ext: +20 for the
 *     tunnel, +28 for the ICMP headers; gw_int: up to -60).
 * Over the whole run the per-reason counters moved by exactly the number of
 * frames (each path counts one reason) and by the bytes that left, and by
 * as many per verdict class as the verdicts returned; and every deep reason
 * was reached at least once, so the mutations do get past the parsers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include "bpf_rig.h"
#include "test_rng.h"

#define FUZZ_FRAMES	250000		/* per program */
#define FUZZ_SEED	0x78646e6174667a31ull
#define FUZZ_LEN_MAX	2048		/* > 1500: reaches frag-needed; < test-run limit */
#define OUT_SIZE	FRAME_MAX	/* data_out: FUZZ_LEN_MAX + 28 and canary after */
#define MAX_SEEDS	32

/* What gw_ext may push before deciding to drop: the frag-needed headers. */
#define EXT_PUSH_MAX	28
/* The longest outer header gw_int strips. */
#define INT_POP_MAX	60

_Static_assert(OUT_SIZE >= FUZZ_LEN_MAX + EXT_PUSH_MAX + 256, "room for the canary");

#define ECHO_ID		0x1234		/* learned (PEER, id) -> H1 */
#define FRAG_ID		0x4242		/* learned (PEER, id, UDP) -> H1 */

static const char *const reason_names[] = XDNAT_REASON_NAMES;

static struct rig rig;

enum side { EXT, INT };

struct seeds {
	struct frame f[MAX_SEEDS];
	const char *name[MAX_SEEDS];
	unsigned int n;
};

/* ---- seed frames ------------------------------------------------------------- */

static struct frame *seed_add(struct seeds *s, const char *name)
{
	assert_true(s->n < MAX_SEEDS);
	s->name[s->n] = name;
	return &s->f[s->n++];
}

/* IPv4 from src to G with the header fields given, into a new seed. */
static void seed_ip(struct seeds *s, const char *name, const struct ip4 *h,
		    const void *pay, size_t n)
{
	uint8_t pkt[FRAME_MAX];

	ext_frame(seed_add(s, name), h->src == ATTACKER ? ATK_MAC : PEER_MAC, pkt,
		  ip4(pkt, h, pay, n));
}

static void ext_seeds(struct seeds *s)
{
	static const uint8_t opt[4] = { 0x01, 0x01, 0x01, 0x00 };
	static uint8_t big[1600];
	uint8_t l4[1700], q[128], d[64];
	struct ip4 h;
	size_t n;

	memset(d, 0x3c, sizeof(d));
	to_g(seed_add(s, "esp"), PEER, P_ESP, l4, esp(l4, H1_SPI, 7, 64));
	to_g(seed_add(s, "ah"), PEER, P_AH, l4, ah(l4, P_UDP, H2_SPI, d, 32));
	to_g(seed_add(s, "esp unvalidated"), ATTACKER, P_ESP, l4, esp(l4, H1_SPI, 1, 32));
	to_g(seed_add(s, "ah spi unknown"), PEER, P_AH, l4, ah(l4, P_TCP, UNKNOWN_SPI, d, 16));
	to_g(seed_add(s, "udp"), PEER, P_UDP, l4, udp(l4, 500, H1_PORT, d, 40));
	n = esp(q, H1_SPI, 3, 40);
	to_g(seed_add(s, "natt esp"), PEER, P_UDP, l4, udp(l4, 4500, H1_NATT, q, n));
	memset(q, 0, 4);
	to_g(seed_add(s, "natt ike"), ATTACKER, P_UDP, l4, udp(l4, 4500, H2_NATT, q, 36));
	to_g(seed_add(s, "natt keepalive"), PEER, P_UDP, l4, udp(l4, 4500, H1_NATT, "\xff", 1));
	to_g(seed_add(s, "tcp"), PEER, P_TCP, l4, tcp(l4, 443, H2_PORT));
	to_g(seed_add(s, "echo reply"), PEER, P_ICMP, l4,
	     icmp(l4, 0, 0, ECHO_ID << 16 | 1, d, 24));
	from_g(q, G, PEER, P_UDP, l4, udp(l4, H1_PORT, 500, d, 8));
	to_g(seed_add(s, "icmp error udp"), PEER, P_ICMP, l4, icmp(l4, 3, 4, 1400, q, 28 + 8));
	n = from_g(q, G, PEER, P_ICMP, l4, icmp(l4, 8, 0, ECHO_ID << 16 | 1, d, 8));
	to_g(seed_add(s, "icmp error echo"), PEER, P_ICMP, l4, icmp(l4, 11, 0, 0, q, n));

	memset(&h, 0, sizeof(h));
	h.src = PEER;
	h.dst = G;
	h.proto = P_UDP;
	h.id = FRAG_ID;
	h.frag = 0x2000;				/* MF, offset 0 */
	seed_ip(s, "first fragment", &h, l4, udp(l4, 53, H1_PORT, d, 56));
	h.frag = 8;					/* offset 64 */
	seed_ip(s, "later fragment", &h, d, 48);
	h.frag = 0x4000;
	h.proto = P_UDP;
	memset(big, 0x77, sizeof(big));
	seed_ip(s, "too big", &h, l4, udp(l4, 500, H1_PORT, big, 1481 - 28));
	h.proto = P_ESP;
	h.opt = opt;
	h.optlen = sizeof(opt);
	seed_ip(s, "esp options", &h, l4, esp(l4, H2_SPI, 5, 48));
	h.opt = NULL;
	h.optlen = 0;
	h.proto = P_ICMP;
	seed_ip(s, "echo request", &h, l4, icmp(l4, 8, 0, 0x99990001, d, 16));
	h.dst = IP4(203, 0, 113, 1);
	h.proto = P_UDP;
	seed_ip(s, "not for G", &h, l4, udp(l4, 1, H1_PORT, d, 8));
	eth(seed_add(s, "arp"), (const uint8_t *)"\xff\xff\xff\xff\xff\xff", PEER_MAC, ETH_ARP);
	memset(q, 0, 28);
	append(&s->f[s->n - 1], q, 28);
}

static void int_seed(struct seeds *s, const char *name, const uint8_t *mac, uint32_t hi,
		     const uint8_t *inner, size_t n)
{
	from_host(seed_add(s, name), mac, hi, inner, n);
}

static void int_seeds(struct seeds *s)
{
	uint8_t inner[256], l4[160], d[64];
	struct ip4 h;
	size_t n;

	memset(d, 0x2b, sizeof(d));
	n = from_g(inner, G, PEER, P_UDP, l4, udp(l4, H1_PORT, 500, d, 40));
	int_seed(s, "udp", H1_MAC, H1, inner, n);
	int_seed(s, "unknown host", H1_MAC, IP4(10, 0, 0, 99), inner, n);
	n = from_g(inner, G, ATTACKER, P_TCP, l4, tcp(l4, H2_PORT, 22));
	int_seed(s, "tcp", H2_MAC, H2, inner, n);
	int_seed(s, "tcp spoofed port", H1_MAC, H1, inner, n);
	n = from_g(inner, G, PEER, P_ESP, l4, esp(l4, 0xc0ffee, 1, 48));
	int_seed(s, "esp", H1_MAC, H1, inner, n);
	n = from_g(inner, G, PEER, P_AH, l4, ah(l4, P_TCP, 0xc0ffee, d, 20));
	int_seed(s, "ah", H2_MAC, H2, inner, n);
	n = from_g(inner, G, PEER, P_ICMP, l4, icmp(l4, 8, 0, 0x55550001, d, 16));
	int_seed(s, "echo request", H1_MAC, H1, inner, n);
	n = from_g(inner, G, PEER, P_ICMP, l4, icmp(l4, 3, 3, 0, d, 28));
	int_seed(s, "icmp error", H2_MAC, H2, inner, n);
	n = from_g(inner, H1, PEER, P_UDP, l4, udp(l4, H1_PORT, 500, d, 8));
	int_seed(s, "inner source not G", H1_MAC, H1, inner, n);
	n = from_g(inner, G, PEER, P_GRE, d, 8);
	int_seed(s, "gre", H1_MAC, H1, inner, n);
	/* nothing routes 192.0.2.0/24 in the rig */
	n = from_g(inner, G, IP4(192, 0, 2, 1), P_UDP, l4, udp(l4, H2_PORT, 53, d, 8));
	int_seed(s, "no route", H2_MAC, H2, inner, n);

	memset(&h, 0, sizeof(h));
	h.src = G;
	h.dst = PEER;
	h.proto = P_UDP;
	h.id = 3;
	h.frag = 0x2000;
	n = ip4(inner, &h, l4, udp(l4, H1_PORT, 53, d, 40));
	int_seed(s, "first fragment", H1_MAC, H1, inner, n);
	h.frag = 10;
	n = ip4(inner, &h, d, 40);
	int_seed(s, "later fragment", H1_MAC, H1, inner, n);

	/* PAP: UDP from a host to Gi, not the tunnel */
	h.src = H1;
	h.dst = GI;
	h.frag = 0;
	n = ip4(inner, &h, l4, udp(l4, 40000, 4433, "PAP!", 4));
	eth(seed_add(s, "pap"), INT_MAC, H1_MAC, ETH_IP);
	append(&s->f[s->n - 1], inner, n);
}

/* ---- mutations ---------------------------------------------------------------- */

/* 16- and 32-bit values the programs compare with, written big-endian:
 * G, Gi, H1, H2, PEER, ATTACKER (host order here), SPIs, extremes. */
static const uint32_t dict32[] = {
	0xc6336401, 0x0a000001, 0x0a00000b, 0x0a00000c, 0xcb00710a, 0xcb007142,
	H1_SPI, H2_SPI, H1_SPI_BLOCK, UNKNOWN_SPI, 0, 0xffffffff,
};
static const uint16_t dict16[] = {
	H1_PORT, H1_NATT, H2_PORT, H2_NATT, 0, 0xffff, 0x0800, 0x4000, 0x2000,
	0x1fff, 20, 28, 1500, 1481, ECHO_ID, FRAG_ID, 4500, 500,
};
static const uint8_t protos[] = { P_ICMP, P_IPIP, P_TCP, P_UDP, P_GRE, P_ESP, P_AH, 0, 255 };

/* A position to hit: mostly in the first 96 bytes, where the headers are. */
static size_t pick_pos(const struct frame *f)
{
	size_t span = f->len < 96 || rng_below(4) == 0 ? f->len : 96;

	return rng_below((uint32_t)span);
}

/* Offset of an IPv4 header: the outer one, the inner one of a tunnel frame
 * or the quoted one of an ICMP error. */
static size_t pick_ip(void)
{
	static const size_t at[] = { 14, 14, 34, 42 };

	return at[rng_below(4)];
}

static void mutate_once(struct frame *f)
{
	size_t pos = pick_pos(f), ip = pick_ip(), i, n;
	uint8_t *h = f->b + ip;
	bool has_ip = f->len >= ip + 20;

	switch (rng_below(13)) {
	case 0:			/* flip a bit */
		f->b[pos] ^= (uint8_t)(1u << rng_below(8));
		break;
	case 1:			/* a random byte */
		f->b[pos] = (uint8_t)rng();
		break;
	case 2:			/* truncate, never below the kernel's 14 */
		f->len = 14 + rng_below((uint32_t)(f->len - 14 + 1));
		break;
	case 3:			/* extend with random bytes */
		n = 1 + rng_below(rng_below(2) ? 16 : 512);
		for (i = 0; i < n && f->len < FUZZ_LEN_MAX; i++)
			f->b[f->len++] = (uint8_t)rng();
		break;
	case 4:			/* version / ihl */
		if (has_ip)
			h[0] = rng_below(4) ? (uint8_t)(0x40 | rng_below(16)) : (uint8_t)rng();
		break;
	case 5:			/* total length: around the truth, or anything */
		if (!has_ip)
			break;
		n = f->len - ip;
		switch (rng_below(4)) {
		case 0:
			be16(h + 2, (uint16_t)rng());
			break;
		case 1:
			be16(h + 2, (uint16_t)(n + rng_below(9) - 4));
			break;
		case 2:
			be16(h + 2, (uint16_t)rng_below(64));
			break;
		default:
			be16(h + 2, (uint16_t)n);
			break;
		}
		break;
	case 6:			/* fragment field: MF, an offset, both, anything */
		if (!has_ip)
			break;
		switch (rng_below(4)) {
		case 0:
			be16(h + 6, 0x2000);
			break;
		case 1:
			be16(h + 6, (uint16_t)(1 + rng_below(0x1fff)));
			break;
		case 2:
			be16(h + 6, (uint16_t)(0x2000 | rng_below(0x2000)));
			break;
		default:
			be16(h + 6, (uint16_t)rng());
			break;
		}
		break;
	case 7:			/* protocol */
		if (has_ip)
			h[9] = protos[rng_below(sizeof(protos))];
		break;
	case 8:			/* an interesting 32-bit value anywhere */
		if (f->len >= 4)
			be32(f->b + rng_below((uint32_t)(f->len - 3)),
			     dict32[rng_below(sizeof(dict32) / sizeof(dict32[0]))]);
		break;
	case 9:			/* an interesting 16-bit value anywhere */
		if (f->len >= 2)
			be16(f->b + rng_below((uint32_t)(f->len - 1)),
			     dict16[rng_below(sizeof(dict16) / sizeof(dict16[0]))]);
		break;
	case 10:		/* grow to about the MTU, lengths consistent */
		n = 1400 + rng_below(200);
		while (f->len < n)
			f->b[f->len++] = (uint8_t)rng();
		if (f->len >= 34)
			be16(f->b + 16, (uint16_t)(f->len - 14));
		break;
	case 11:		/* L4 length / offset byte after a plain header */
		if (f->len >= ip + 28)
			be16(f->b + ip + 20 + 4, (uint16_t)rng_below(rng_below(2) ? 64 : 65536));
		break;
	default:		/* the header checksum right again (not checked) */
		if (has_ip && (h[0] & 0xf) >= 5 && f->len >= ip + (h[0] & 0xf) * 4u) {
			be16(h + 10, 0);
			be16(h + 10, inet_csum(h, (h[0] & 0xf) * 4u));
		}
		break;
	}
}

/* A frame of random bytes; half of them look like IPv4 to G (ext) or IPIP to
 * Gi (int) up to the address, so the programs read past the first test. */
static void random_frame(struct frame *f, enum side side)
{
	size_t i;

	f->len = 14 + rng_below(rng_below(2) ? 100 : FUZZ_LEN_MAX - 14);
	for (i = 0; i < f->len; i++)
		f->b[i] = (uint8_t)rng();
	if (rng_below(2) || f->len < 34)
		return;
	be16(f->b + 12, ETH_IP);
	f->b[14] = 0x45;
	if (side == EXT) {
		uint32_t g = G;

		memcpy(f->b + 30, &g, 4);
	} else {
		uint32_t gi = GI;

		f->b[23] = P_IPIP;
		memcpy(f->b + 30, &gi, 4);
	}
}

static void next_frame(struct frame *f, const struct seeds *s, enum side side,
		       unsigned int *seed_idx)
{
	unsigned int i, n;

	if (rng_below(16) == 0) {
		*seed_idx = s->n;		/* "random" */
		random_frame(f, side);
		return;
	}
	*seed_idx = rng_below(s->n);
	*f = s->f[*seed_idx];
	/* 1 in 8 unchanged: the valid paths stay covered as the maps change */
	n = rng_below(8) ? 1 + rng_below(rng_below(4) ? 3 : 8) : 0;
	for (i = 0; i < n; i++)
		mutate_once(f);
}

/* ---- checks -------------------------------------------------------------------- */

static uint8_t canary[OUT_SIZE];

struct tally {
	uint64_t frames, bytes_out;
	uint64_t act[XDP_REDIRECT + 1];
};

/*
 * The IPv4 packet got (n bytes) is orig one hop on: TTL - 1, the ECN field
 * possibly marked (ecn_free: decapsulated, RFC 6040), the checksum still
 * right where it was, every other byte alike.
 */
static bool one_hop_on(const uint8_t *got, const uint8_t *orig, size_t n, bool ecn_free)
{
	size_t hl = (size_t)(orig[0] & 0xf) * 4;

	if (n < 20 || hl < 20 || hl > n || orig[8] <= 1 || got[8] != orig[8] - 1)
		return false;
	if ((got[1] & ~3) != (orig[1] & ~3) || (!ecn_free && got[1] != orig[1]))
		return false;
	if (got[0] != orig[0] || memcmp(got + 2, orig + 2, 6) || got[9] != orig[9] ||
	    memcmp(got + 12, orig + 12, n - 12))
		return false;
	return inet_csum(orig, hl) || !inet_csum(got, hl);
}

/* A time-exceeded (11/0) at icmp, quoting the packet at orig. */
static bool time_exceeded_of(const uint8_t *ip, uint32_t len, const uint8_t *orig)
{
	size_t qhl = (size_t)(orig[0] & 0xf) * 4;

	return len == 20 + 8 + qhl + 8 && ip[9] == P_ICMP && !inet_csum(ip, 20) &&
	       ip[20] == 11 && ip[21] == 0 && !inet_csum(ip + 20, len - 20) &&
	       !memcmp(ip + 28, orig, qhl + 8);
}

/* Why a frame's output is wrong, or NULL when it is right. */
/* gw_ext's ICMP answer about the input (time-exceeded or frag-needed from
 * G), sent back out of the NIC it came in on. */
static const char *check_ext_answer(const struct frame *in, const uint8_t *out, uint32_t olen)
{
	size_t qhl = (in->b[14] & 0xf) * 4u;

	if (olen >= 14 + 20 && out[34] == 11) {
		if (!time_exceeded_of(out + 14, olen - 14, in->b + 14))
			return "answer: bad time-exceeded";
		return NULL;
	}
	if (olen != 14 + 20 + 8 + qhl + 8 || olen > in->len + 20)
		return "answer: not a frag-needed of the input";
	if (out[34] != 3 || out[35] != 4 || inet_csum(out + 14, 20) ||
	    inet_csum(out + 34, olen - 34) || memcmp(out + 42, in->b + 14, qhl + 8))
		return "answer: bad frag-needed";
	return NULL;
}

/* gw_int's ICMP answer about the inner packet (time-exceeded or frag-needed
 * from Gi), in the tunnel back to the host. The quote is the inner header
 * as forwarded: one hop on (TTL - 1) for frag-needed. */
static const char *check_int_answer(const struct frame *in, const uint8_t *out, uint32_t olen)
{
	size_t ohl = (in->b[14] & 0xf) * 4u, qhl = (in->b[14 + ohl] & 0xf) * 4u;

	if (ohl != 20 || olen < 54 || inet_csum(out + 14, 20))
		return "answer: not tunnelled to the host";
	if (out[54] == 11) {
		if (!time_exceeded_of(out + 34, olen - 34, in->b + 34))
			return "answer: bad time-exceeded";
		return NULL;
	}
	if (olen != 14 + 20 + 20 + 8 + qhl + 8 || inet_csum(out + 34, 20) || out[54] != 3 ||
	    out[55] != 4 || inet_csum(out + 54, olen - 54) ||
	    !one_hop_on(out + 62, in->b + 34, qhl + 8, true))
		return "answer: bad frag-needed";
	return NULL;
}

/* XDP_PASS: the frame as it came. */
static const char *pass_unchanged(const struct frame *in, const uint8_t *out, uint32_t olen)
{
	return olen != in->len || memcmp(out, in->b, in->len) ? "PASS changed the frame" : NULL;
}

static const char *check_ext(const struct frame *in, const uint8_t *out, uint32_t olen,
			     int act)
{
	switch (act) {
	case XDP_PASS:
		return pass_unchanged(in, out, olen);
	case XDP_REDIRECT:
		/* an ICMP answer goes back out of the NIC it came in on */
		if (olen >= 34 && out[23] == P_ICMP)
			return check_ext_answer(in, out, olen);
		if (olen != in->len + 20)
			return "REDIRECT: not input + 20 bytes";
		if (!one_hop_on(out + 34, in->b + 14, in->len - 14, false))
			return "REDIRECT: inner packet not the input's one hop on";
		if (rd16(out + 12) != ETH_IP || out[14] != 0x45 || out[23] != P_IPIP ||
		    memcmp(out + 26, &(uint32_t){ GI }, 4) || inet_csum(out + 14, 20) ||
		    rd16(out + 16) != rd16(in->b + 16) + 20)
			return "REDIRECT: bad outer header";
		return NULL;
	case XDP_DROP:
		if (olen < in->len || olen > in->len + EXT_PUSH_MAX)
			return "DROP: output size";
		return NULL;
	default:
		return "verdict not allowed";
	}
}

static const char *check_int(const struct frame *in, const uint8_t *out, uint32_t olen,
			     int act)
{
	size_t ohl;

	switch (act) {
	case XDP_PASS:
		return pass_unchanged(in, out, olen);
	case XDP_REDIRECT:
		ohl = (in->b[14] & 0xf) * 4u;
		if (ohl < 20 || ohl > in->len - 14)
			return "REDIRECT: no outer header";
		/* an ICMP answer from Gi, in a tunnel back to the host */
		if (olen >= 54 && out[23] == P_IPIP && out[43] == P_ICMP &&
		    !memcmp(out + 26, &(uint32_t){ GI }, 4) &&
		    !memcmp(out + 46, &(uint32_t){ GI }, 4))
			return check_int_answer(in, out, olen);
		/* hairpinned: back into a tunnel to another host */
		if (olen == in->len - ohl + 20 && out[23] == P_IPIP &&
		    !memcmp(out + 30, &(uint32_t){ G }, 4)) {
			if (inet_csum(out + 14, 20) ||
			    !one_hop_on(out + 34, in->b + 14 + ohl, olen - 34, true))
				return "REDIRECT: bad hairpin";
			return NULL;
		}
		if (olen != in->len - ohl)
			return "REDIRECT: not input less its outer header";
		if (rd16(out + 12) != ETH_IP ||
		    !one_hop_on(out + 14, in->b + 14 + ohl, olen - 14, true))
			return "REDIRECT: inner packet not the input's one hop on";
		return NULL;
	case XDP_DROP:
		if (olen > in->len || olen + INT_POP_MAX < in->len)
			return "DROP: output size";
		return NULL;
	default:
		return "verdict not allowed";
	}
}

/* Runs one frame and checks it; fails the test with the frame dumped. */
static void run_one(enum side side, const struct frame *in, const char *seed,
		    unsigned int iter, uint8_t *out, struct tally *t)
{
	int prog = side == EXT ? rig.ext_fd : rig.int_fd;
	int ifindex = side == EXT ? rig.ext_ifindex : rig.int_ifindex;
	const char *why = NULL;
	uint32_t olen = 0;
	int act;

	act = rig_run(prog, ifindex, in->b, (uint32_t)in->len, out, OUT_SIZE, &olen, 1, NULL);
	if (act < 0)
		why = "the kernel refused the run";
	else if (olen > OUT_SIZE)
		why = "output larger than data_out";
	else if (memcmp(out + olen, canary + olen, OUT_SIZE - olen))
		why = "bytes after data_size_out changed";
	else
		why = side == EXT ? check_ext(in, out, olen, act) : check_int(in, out, olen, act);
	if (why) {
		print_error("%s frame %u (from seed \"%s\"): %s; verdict %d, %zu -> %u bytes\n",
			    side == EXT ? "gw_ext" : "gw_int", iter, seed, why, act, in->len, olen);
		hexdump("in", in->b, in->len);
		hexdump("out", out, olen < OUT_SIZE ? olen : OUT_SIZE);
		fail();
	}
	t->frames++;
	t->bytes_out += olen;
	t->act[act]++;
	memcpy(out, canary, olen);	/* the canary whole again for the next run */
}

/* The counters moved once per frame, and per verdict class as returned. */
static void check_counters(enum side side, const struct counters *before,
			   const struct counters *after, const struct tally *t)
{
	uint64_t packets = 0, bytes = 0, d[XDNAT_REASON_MAX], drops = 0;
	unsigned int r;

	for (r = 0; r < XDNAT_REASON_MAX; r++) {
		d[r] = after->packets[r] - before->packets[r];
		packets += d[r];
		bytes += after->bytes[r] - before->bytes[r];
		if (d[r])
			print_message("    %-20s %8llu\n", reason_names[r], (unsigned long long)d[r]);
	}
	assert_int_equal(packets, t->frames);
	assert_int_equal(bytes, t->bytes_out);
	assert_int_equal(d[XDNAT_PASS_STACK] + d[XDNAT_ICMP_TUNNEL_ERROR], t->act[XDP_PASS]);
	/* the ICMP answers leave by a redirect too (bpf/icmp.h: send_back) */
	assert_int_equal(t->act[XDP_TX], 0);
	assert_int_equal(d[side == EXT ? XDNAT_FWD_TO_HOST : XDNAT_FWD_TO_EXT] +
			 d[XDNAT_FWD_HAIRPIN] + d[XDNAT_ICMP_FRAG_NEEDED] +
			 d[XDNAT_ICMP_TIME_EXCEEDED] + d[XDNAT_ICMP_FRAG_TO_HOST],
			 t->act[XDP_REDIRECT]);
	for (r = XDNAT_DROP_SPI_UNKNOWN; r < XDNAT_REASON_MAX; r++)
		if (r != XDNAT_ICMP_FRAG_NEEDED && r != XDNAT_ICMP_TIME_EXCEEDED &&
		    r != XDNAT_FWD_HAIRPIN && r != XDNAT_ICMP_TUNNEL_ERROR &&
		    r != XDNAT_ICMP_FRAG_TO_HOST)
			drops += d[r];
	assert_int_equal(drops, t->act[XDP_DROP]);
	assert_int_equal(t->act[XDP_ABORTED], 0);
}

/* Every reason in want was counted at least once: the fuzzing got there. */
static void check_reached(const struct counters *before, const struct counters *after,
			  const enum xdnat_reason *want, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (after->packets[want[i]] == before->packets[want[i]])
			print_error("reason %s never reached\n", reason_names[want[i]]);
		assert_true(after->packets[want[i]] > before->packets[want[i]]);
	}
}

/* FUZZ_SEED, or XDNAT_FUZZ_SEED from the environment to explore further. */
static uint64_t fuzz_seed(void)
{
	const char *env = getenv("XDNAT_FUZZ_SEED");

	return env && *env ? strtoull(env, NULL, 0) : FUZZ_SEED;
}

/* FUZZ_FRAMES, or XDNAT_FUZZ_FRAMES from the environment (at least 1). */
static unsigned int fuzz_frames(void)
{
	const char *env = getenv("XDNAT_FUZZ_FRAMES");
	unsigned long n = env && *env ? strtoul(env, NULL, 0) : FUZZ_FRAMES;

	return n && n <= 100000000 ? (unsigned int)n : FUZZ_FRAMES;
}

static void fuzz(enum side side, const enum xdnat_reason *want, size_t n_want)
{
	const unsigned int frames = fuzz_frames();
	static uint8_t out[OUT_SIZE];
	static struct seeds s;
	struct counters before, after;
	struct tally t;
	struct frame f;
	unsigned int i, idx;

	memset(&t, 0, sizeof(t));
	s.n = 0;
	if (side == EXT)
		ext_seeds(&s);
	else
		int_seeds(&s);
	for (i = 0; i < OUT_SIZE; i++)
		canary[i] = (uint8_t)(0xa5 ^ (i * 7));
	memcpy(out, canary, OUT_SIZE);
	rng_seed(fuzz_seed() + side);

	assert_int_equal(rig_read_stats(&rig, &before), 0);
	for (i = 0; i < frames; i++) {
		next_frame(&f, &s, side, &idx);
		run_one(side, &f, idx < s.n ? s.name[idx] : "random", i, out, &t);
	}
	assert_int_equal(rig_read_stats(&rig, &after), 0);

	print_message("  %s: %llu frames (%u seeds + random, seed %#llx): PASS %llu, "
		      "DROP %llu, TX %llu, REDIRECT %llu; by reason:\n",
		      side == EXT ? "gw_ext" : "gw_int", (unsigned long long)t.frames, s.n,
		      (unsigned long long)fuzz_seed(),
		      (unsigned long long)t.act[XDP_PASS], (unsigned long long)t.act[XDP_DROP],
		      (unsigned long long)t.act[XDP_TX], (unsigned long long)t.act[XDP_REDIRECT]);
	check_counters(side, &before, &after, &t);
	check_reached(&before, &after, want, n_want);
}

/* ---- tests ---------------------------------------------------------------------- */

#define NEED_RIG() do { if (!rig.ok) skip(); } while (0)

/* The standard world with H2's MAC, a learned echo id and a learned first
 * fragment. */
static int world(void **state)
{
	struct xdnat_icmp_key ik;
	struct xdnat_frag_key fk;
	struct xdnat_owner o;
	struct xdnat_frag f;

	(void)state;
	if (!rig.ok)
		return 0;
	/* H2 with its MAC resolved: gw_ext's fast path; H1 the FIB path */
	if (rig_world(&rig) || rig_set_host_mac(&rig, H2, CID2, H2_MAC))
		return -1;
	memset(&ik, 0, sizeof(ik));
	memset(&fk, 0, sizeof(fk));
	memset(&o, 0, sizeof(o));
	o.client_id = CID1;
	o.host_addr = H1;
	ik.peer = PEER;
	ik.id = htons(ECHO_ID);
	fk.src = PEER;
	fk.dst = G;
	fk.id = htons(FRAG_ID);
	fk.proto = P_UDP;
	memset(&f, 0, sizeof(f));
	f.owner = o;
	if (bpf_map_update_elem(rig.icmp_ids, &ik, &o, BPF_ANY) ||
	    bpf_map_update_elem(rig.frags, &fk, &f, BPF_ANY))
		return -1;
	return 0;
}

static void test_fuzz_gw_ext(void **state)
{
	static const enum xdnat_reason want[] = {
		XDNAT_PASS_STACK, XDNAT_FWD_TO_HOST, XDNAT_DROP_SPI_UNKNOWN,
		XDNAT_DROP_PEER_NOT_VALIDATED, XDNAT_DROP_FRAG_UNKNOWN,
		XDNAT_DROP_MALFORMED, XDNAT_ICMP_FRAG_NEEDED,
	};

	(void)state;
	NEED_RIG();
	fuzz(EXT, want, sizeof(want) / sizeof(want[0]));
}

static void test_fuzz_gw_int(void **state)
{
	static const enum xdnat_reason want[] = {
		XDNAT_PASS_STACK, XDNAT_FWD_TO_EXT, XDNAT_DROP_SPOOFED_SOURCE,
		XDNAT_DROP_UNKNOWN_HOST, XDNAT_DROP_MALFORMED, XDNAT_DROP_NO_ROUTE,
		XDNAT_DROP_UNSUPPORTED,
	};

	(void)state;
	NEED_RIG();
	fuzz(INT, want, sizeof(want) / sizeof(want[0]));
}

static int group_setup(void **state)
{
	int rc;

	(void)state;
	rc = rig_netns();
	if (rc == -1) {
		print_message("test_bpf_fuzz: needs root and a new network namespace (%s): "
			      "skipping\n", strerror(errno));
		return 0;
	}
	if (rc || rig_open(&rig, 0))
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	rig_close(&rig);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_fuzz_gw_ext, world),
		cmocka_unit_test_setup(test_fuzz_gw_int, world),
	};

	return cmocka_run_group_tests_name("bpf_fuzz", tests, group_setup, group_teardown);
}
