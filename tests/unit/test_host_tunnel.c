/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * bpf/host_tunnel.bpf.c under BPF_PROG_TEST_RUN: crafted Ethernet frames in,
 * verdict, exact bytes and counters out. host_egress must push exactly the
 * outer header Hi -> Gi (the expected frame is built by bpf_rig's from_host(),
 * its checksum checked with bpf_rig's inet_csum(), both independent of
 * bpf/), host_ingress must strip exactly the gateway's IPIP and drop, each
 * under its own counter, whatever else is sent to G (finding 15 of issue 13:
 * plain packets, other tunnels) or from the host's own addresses; everything
 * else must come out untouched. Frames cut at every length must never crash
 * either program.
 *
 * test_run cannot tell egress from ingress, nor build GSO skbs: TSO/GSO
 * through the tunnel is checked in tests/integration/test_host_agent.sh.
 * Needs root (loading BPF); skipped otherwise.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "xdnat.h"
#include "bpf_rig.h"		/* frame builders and inet_csum(), not the XDP rig */
#include "host_tunnel.skel.h"

#define TC_ACT_OK	0
#define TC_ACT_SHOT	2
#define OTHER		IP4(10, 0, 0, 99)

struct fx {
	struct host_tunnel *skel;
	int egress, ingress, stat;
	int ncpus;
};

static struct fx fx;

/* Without root (or BPF) every test is skipped, not failed. */
static void need_bpf(void)
{
	if (!fx.skel)
		skip();
}

/* ---- frames ---------------------------------------------------------------- */

static const char out_text[] = "xdnat host tunnel payload";
static const char in_text[] = "reply through the tunnel";

/* What the host sends from src (normally G): UDP to PEER, Ethernet to Gi. */
static void egress_frame(struct frame *f, uint32_t src, uint8_t tos)
{
	struct ip4 h = { .src = src, .dst = PEER, .proto = P_UDP, .tos = tos,
			 .id = 0x1234 };
	uint8_t pkt[256];
	size_t n = udp(pkt, 20001, 4500, out_text, strlen(out_text));

	eth(f, INT_MAC, H1_MAC, ETH_IP);
	f->len += ip4(f->b + f->len, &h, pkt, n);
}

/* What the gateway tunnels to a host: outer osrc -> odst with TOS otos,
 * inner PEER -> idst with TOS itos. *inner: offset of the inner packet in f. */
static void ingress_frame_tos(struct frame *f, uint32_t osrc, uint32_t odst, uint32_t idst,
			      uint8_t otos, uint8_t itos, size_t *inner)
{
	struct ip4 o = { .src = osrc, .dst = odst, .proto = P_IPIP, .tos = otos,
			 .frag = 0x4000 };
	struct ip4 i = { .src = PEER, .dst = idst, .proto = P_UDP, .tos = itos, .id = 0x4321 };
	uint8_t pkt[256], l4[128];
	size_t n = udp(l4, 4500, 20001, in_text, strlen(in_text));

	n = ip4(pkt, &i, l4, n);
	eth(f, H1_MAC, INT_MAC, ETH_IP);
	f->len += ip4(f->b + f->len, &o, pkt, n);
	*inner = 14 + 20;
}

static void ingress_frame(struct frame *f, uint32_t osrc, uint32_t odst, uint32_t idst,
			  size_t *inner)
{
	ingress_frame_tos(f, osrc, odst, idst, 0, 0, inner);
}

/* ---- running the programs -------------------------------------------------- */

struct run {
	int err;
	uint32_t retval;
	uint8_t out[512];
	uint32_t out_len;
};

static struct run run_prog(int prog, const uint8_t *in, size_t len)
{
	struct run r = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, o,
		.data_in = in,
		.data_size_in = (uint32_t)len,
		.data_out = r.out,
		.data_size_out = sizeof(r.out),
		.repeat = 1,
	);

	r.err = bpf_prog_test_run_opts(prog, &o);
	r.retval = o.retval;
	r.out_len = o.data_size_out;
	return r;
}

/* Packets counted under what, summed over every CPU. */
static uint64_t counter(enum xdnat_host_counter what)
{
	struct xdnat_counter *v = calloc((size_t)fx.ncpus, sizeof(*v));
	uint32_t key = what;
	uint64_t sum = 0;

	assert_non_null(v);
	assert_int_equal(bpf_map_lookup_elem(fx.stat, &key, v), 0);
	for (int i = 0; i < fx.ncpus; i++)
		sum += v[i].packets;
	free(v);
	return sum;
}

struct counts {
	uint64_t c[XDNAT_HOST_CTR_MAX];
};

static struct counts snapshot(void)
{
	struct counts s;

	for (int i = 0; i < XDNAT_HOST_CTR_MAX; i++)
		s.c[i] = counter((enum xdnat_host_counter)i);
	return s;
}

/* Exactly one packet counted, under what. */
static void assert_counted(const struct counts *before, enum xdnat_host_counter what)
{
	struct counts after = snapshot();

	for (int i = 0; i < XDNAT_HOST_CTR_MAX; i++)
		assert_int_equal(after.c[i] - before->c[i], i == (int)what ? 1 : 0);
}

static void assert_untouched(int prog, const uint8_t *f, size_t len)
{
	struct counts before = snapshot();
	struct run r = run_prog(prog, f, len);

	assert_int_equal(r.err, 0);
	assert_int_equal(r.retval, TC_ACT_OK);
	assert_int_equal(r.out_len, len);
	assert_memory_equal(r.out, f, len);
	assert_counted(&before, XDNAT_HOST_PASS);
}

/* ---- egress -------------------------------------------------------------- */

static void test_egress_encap(void **state)
{
	struct frame f, want;
	struct counts before;
	struct run r;

	(void)state;
	need_bpf();
	egress_frame(&f, G, 0);
	/* the expected frame is bpf_rig's "tunnel frame from a host" */
	from_host(&want, H1_MAC, H1, f.b + 14, f.len - 14);
	before = snapshot();
	r = run_prog(fx.egress, f.b, f.len);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.retval, TC_ACT_OK);
	assert_int_equal(r.out_len, f.len + 20);
	assert_int_equal(want.len, f.len + 20);
	assert_memory_equal(r.out, want.b, want.len);
	/* spelled out: v4 ihl 5, DF, TTL 64, IPIP, Hi -> Gi, checksum */
	assert_int_equal(r.out[14], 0x45);
	assert_int_equal(rd16(r.out + 14 + 2), f.len - 14 + 20);
	assert_int_equal(rd16(r.out + 14 + 6), 0x4000);
	assert_int_equal(r.out[14 + 8], 64);
	assert_int_equal(r.out[14 + 9], P_IPIP);
	assert_memory_equal(r.out + 14 + 12, &(uint32_t){ H1 }, 4);
	assert_memory_equal(r.out + 14 + 16, &(uint32_t){ GI }, 4);
	assert_int_equal(inet_csum(r.out + 14, 20), 0);
	assert_counted(&before, XDNAT_HOST_ENCAP);
}

/* The outer header copies the inner TOS (DSCP and ECN, RFC 2003). */
static void test_egress_tos(void **state)
{
	struct frame f;
	struct run r;

	(void)state;
	need_bpf();
	egress_frame(&f, G, 0xb9);	/* EF + ECT(1) */
	r = run_prog(fx.egress, f.b, f.len);
	assert_int_equal(r.retval, TC_ACT_OK);
	assert_int_equal(r.out[14 + 1], 0xb9);
	assert_int_equal(inet_csum(r.out + 14, 20), 0);
	assert_memory_equal(r.out + 34, f.b + 14, f.len - 14);
}

/* A header-only IPv4 packet from G (no payload at all) is still tunnelled. */
static void test_egress_minimal(void **state)
{
	struct ip4 h = { .src = G, .dst = PEER, .proto = 253 };
	struct frame f;
	struct run r;

	(void)state;
	need_bpf();
	eth(&f, INT_MAC, H1_MAC, ETH_IP);
	f.len += ip4(f.b + f.len, &h, f.b, 0);
	r = run_prog(fx.egress, f.b, f.len);
	assert_int_equal(r.retval, TC_ACT_OK);
	assert_int_equal(r.out_len, f.len + 20);
	assert_int_equal(inet_csum(r.out + 14, 20), 0);
	assert_memory_equal(r.out + 34, f.b + 14, 20);
}

static void test_egress_not_g(void **state)
{
	struct frame f;

	(void)state;
	need_bpf();
	egress_frame(&f, H1, 0);
	assert_untouched(fx.egress, f.b, f.len);
	/* a source one byte away from G */
	egress_frame(&f, IP4(198, 51, 100, 2), 0);
	assert_untouched(fx.egress, f.b, f.len);
	/* not IPv4 at all: ARP, IPv6 */
	eth(&f, INT_MAC, H1_MAC, ETH_ARP);
	append(&f, (uint8_t[28]){ 0 }, 28);
	assert_untouched(fx.egress, f.b, f.len);
	egress_frame(&f, G, 0);
	be16(f.b + 12, ETH_IP6);
	assert_untouched(fx.egress, f.b, f.len);
}

/* An "IPv4" header claiming version 6 or ihl < 5 is not taken for G's. */
static void test_egress_bad_header(void **state)
{
	struct frame f;

	(void)state;
	need_bpf();
	egress_frame(&f, G, 0);
	f.b[14] = 0x44;
	assert_untouched(fx.egress, f.b, f.len);
	f.b[14] = 0x65;
	assert_untouched(fx.egress, f.b, f.len);
}

/* ---- ingress ------------------------------------------------------------- */

static void test_ingress_decap(void **state)
{
	struct frame f;
	struct counts before;
	size_t inner;
	struct run r;

	(void)state;
	need_bpf();
	ingress_frame(&f, GI, H1, G, &inner);
	before = snapshot();
	r = run_prog(fx.ingress, f.b, f.len);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.retval, TC_ACT_OK);
	assert_int_equal(r.out_len, f.len - 20);
	assert_memory_equal(r.out, f.b, 14);
	assert_memory_equal(r.out + 14, f.b + inner, f.len - inner);
	assert_counted(&before, XDNAT_HOST_DECAP);
}

/*
 * RFC 6040 at the host's decapsulator, every (outer, inner) ECN pair under
 * a DSCP that must survive: the inner TOS as bpf_rig's table says, its
 * checksum summed anew here, every other byte the inner packet's; outer CE
 * on a Not-ECT inner is dropped under its own counter.
 */
static void test_ingress_ecn(void **state)
{
	struct frame f, want;
	struct counts before;
	size_t inner;
	struct run r;
	int tos;

	(void)state;
	need_bpf();
	for (int o = 0; o < 4; o++) {
		for (int i = 0; i < 4; i++) {
			ingress_frame_tos(&f, GI, H1, G, (uint8_t)(0x28 | o), (uint8_t)(0xb8 | i),
					  &inner);
			tos = rfc6040_decap((uint8_t)o, (uint8_t)(0xb8 | i));
			before = snapshot();
			r = run_prog(fx.ingress, f.b, f.len);
			assert_int_equal(r.err, 0);
			if (tos < 0) {
				assert_int_equal(r.retval, TC_ACT_SHOT);
				assert_counted(&before, XDNAT_HOST_ECN_NOT_ECT);
				continue;
			}
			eth(&want, H1_MAC, INT_MAC, ETH_IP);
			append(&want, f.b + inner, f.len - inner);
			want.b[15] = (uint8_t)tos;
			be16(want.b + 24, 0);
			be16(want.b + 24, inet_csum(want.b + 14, 20));
			assert_int_equal(r.retval, TC_ACT_OK);
			assert_int_equal(r.out_len, want.len);
			if (memcmp(r.out, want.b, want.len))
				print_error("outer ECN %d, inner %d\n", o, i);
			assert_memory_equal(r.out, want.b, want.len);
			assert_counted(&before, XDNAT_HOST_DECAP);
		}
	}
	/* spelled out: outer CE marks an ECT(0) inner CE */
	ingress_frame_tos(&f, GI, H1, G, 0x03, 0x02, &inner);
	r = run_prog(fx.ingress, f.b, f.len);
	assert_int_equal(r.retval, TC_ACT_OK);
	assert_int_equal(r.out[15], 0x03);
	assert_int_equal(inet_csum(r.out + 14, 20), 0);
}

/* Ethernet pads short frames: the trailer must not upset the decap. */
static void test_ingress_padded(void **state)
{
	struct frame f;
	size_t inner;
	struct run r;

	(void)state;
	need_bpf();
	ingress_frame(&f, GI, H1, G, &inner);
	append(&f, (uint8_t[16]){ 0 }, 16);
	r = run_prog(fx.ingress, f.b, f.len);
	assert_int_equal(r.retval, TC_ACT_OK);
	assert_int_equal(r.out_len, f.len - 20);
	assert_memory_equal(r.out + 14, f.b + inner, f.len - inner);
}

static void test_ingress_not_ours(void **state)
{
	struct ip4 h = { .src = GI, .dst = H1, .proto = P_UDP };
	uint8_t l4[64];
	struct frame f;
	size_t inner;

	(void)state;
	need_bpf();
	/* someone else's IPIP: from another source, inner not for G */
	ingress_frame(&f, OTHER, H1, PEER, &inner);
	assert_untouched(fx.ingress, f.b, f.len);
	/* plain UDP from Gi (a PAP reply) */
	eth(&f, H1_MAC, INT_MAC, ETH_IP);
	f.len += ip4(f.b + f.len, &h, l4, udp(l4, 4555, 40000, "pap", 3));
	assert_untouched(fx.ingress, f.b, f.len);
	/* plain UDP from a neighbour to Hi */
	h.src = OTHER;
	eth(&f, H1_MAC, INT_MAC, ETH_IP);
	f.len += ip4(f.b + f.len, &h, l4, udp(l4, 4000, 22, "ssh", 3));
	assert_untouched(fx.ingress, f.b, f.len);
	/* a non-first fragment of someone's IPIP: its first one decides */
	ingress_frame(&f, OTHER, H1, PEER, &inner);
	be16(f.b + 14 + 6, 0x0010);
	be16(f.b + 14 + 10, 0);
	be16(f.b + 14 + 10, inet_csum(f.b + 14, 20));
	assert_untouched(fx.ingress, f.b, f.len);
}

/* Dropped, counted once under what. */
static void expect_drop(const struct frame *f, enum xdnat_host_counter what)
{
	struct counts before = snapshot();
	struct run r = run_prog(fx.ingress, f->b, f->len);

	assert_int_equal(r.err, 0);
	assert_int_equal(r.retval, TC_ACT_SHOT);
	assert_counted(&before, what);
}

/* A plain frame from src to dst, at H1's MAC: UDP, or ICMP echo when icmp. */
static void plain_frame(struct frame *f, uint32_t src, uint32_t dst, bool icmp_echo,
			uint16_t frag)
{
	struct ip4 h = { .src = src, .dst = dst, .proto = icmp_echo ? P_ICMP : P_UDP,
			 .frag = frag };
	uint8_t l4[64];
	size_t n = icmp_echo ? icmp(l4, 8, 0, 0x42420001, "ping", 4) :
		   udp(l4, 4000, 20001, "bypass", 6);

	eth(f, H1_MAC, INT_MAC, ETH_IP);
	f->len += ip4(f->b + f->len, &h, l4, n);
}

/*
 * Finding 15: G only through the gateway's tunnel. What a LAN neighbour
 * sends to G at this host's MAC is dropped as plain_to_g, whatever it is.
 */
static void test_ingress_plain_to_g(void **state)
{
	struct frame f;
	size_t inner;

	(void)state;
	need_bpf();
	plain_frame(&f, OTHER, G, false, 0);		/* UDP to a port of G */
	expect_drop(&f, XDNAT_HOST_PLAIN_TO_G);
	plain_frame(&f, OTHER, G, true, 0);		/* ping G */
	expect_drop(&f, XDNAT_HOST_PLAIN_TO_G);
	plain_frame(&f, PEER, G, false, 0);		/* posing as a peer */
	expect_drop(&f, XDNAT_HOST_PLAIN_TO_G);
	plain_frame(&f, GI, G, false, 0);		/* even from Gi, if not tunnelled */
	expect_drop(&f, XDNAT_HOST_PLAIN_TO_G);
	plain_frame(&f, OTHER, G, false, 0x2000);	/* a first fragment */
	expect_drop(&f, XDNAT_HOST_PLAIN_TO_G);
	plain_frame(&f, OTHER, G, false, 0x0004);	/* a later one */
	expect_drop(&f, XDNAT_HOST_PLAIN_TO_G);
	ingress_frame(&f, GI, G, G, &inner);		/* IPIP, but to G */
	expect_drop(&f, XDNAT_HOST_PLAIN_TO_G);
}

/* G and Hi are this host's: a plain packet from either came from the LAN
 * with a forged source (accept_local would let the stack take it). */
static void test_ingress_local_source(void **state)
{
	struct frame f;

	(void)state;
	need_bpf();
	plain_frame(&f, G, H1, false, 0);
	expect_drop(&f, XDNAT_HOST_LOCAL_SOURCE);
	plain_frame(&f, H1, H1, true, 0);
	expect_drop(&f, XDNAT_HOST_LOCAL_SOURCE);
	/* what the host sends, seen at ingress (test_truncated's other half) */
	egress_frame(&f, G, 0);
	expect_drop(&f, XDNAT_HOST_LOCAL_SOURCE);
}

/*
 * IPIP carrying a packet to G is the gateway's tunnel (Gi -> Hi, no options,
 * not a fragment) or dropped as tunnel_not_gw: from another source, to
 * another host, with options, as a first fragment, or too short to show its
 * inner header.
 */
static void test_ingress_tunnel_not_gw(void **state)
{
	static const uint8_t nop4[4] = { 1, 1, 1, 0 };
	struct ip4 o = { .src = OTHER, .dst = H1, .proto = P_IPIP, .opt = nop4, .optlen = 4 };
	uint8_t pkt[256];
	struct frame f;
	size_t inner, n;

	(void)state;
	need_bpf();
	ingress_frame(&f, OTHER, H1, G, &inner);	/* a neighbour's tunnel */
	expect_drop(&f, XDNAT_HOST_TUNNEL_NOT_GW);
	ingress_frame(&f, PEER, H1, G, &inner);
	expect_drop(&f, XDNAT_HOST_TUNNEL_NOT_GW);
	ingress_frame(&f, GI, OTHER, G, &inner);	/* Gi's, to another address */
	expect_drop(&f, XDNAT_HOST_TUNNEL_NOT_GW);
	ingress_frame(&f, GI, H1, G, &inner);		/* Gi's, a first fragment */
	be16(f.b + 14 + 6, 0x2000);
	be16(f.b + 14 + 10, 0);
	be16(f.b + 14 + 10, inet_csum(f.b + 14, 20));
	expect_drop(&f, XDNAT_HOST_TUNNEL_NOT_GW);
	/* outer options: the inner header read after them */
	ingress_frame(&f, GI, H1, G, &inner);
	n = ip4(pkt, &o, f.b + inner, f.len - inner);
	f.len = 14;
	append(&f, pkt, n);
	expect_drop(&f, XDNAT_HOST_TUNNEL_NOT_GW);
	o.src = GI;
	f.len = 14;
	n = ip4(pkt, &o, f.b + inner, 0);
	append(&f, pkt, n);
	/* ... and an outer header with no inner one behind it */
	append(&f, (uint8_t[12]){ 0 }, 12);
	expect_drop(&f, XDNAT_HOST_TUNNEL_NOT_GW);
}

/* The gateway's tunnel, but broken inside: dropped and counted as an error. */
static void expect_error(const struct frame *f)
{
	struct counts before = snapshot();
	struct run r = run_prog(fx.ingress, f->b, f->len);

	assert_int_equal(r.err, 0);
	assert_int_equal(r.retval, TC_ACT_SHOT);
	assert_counted(&before, XDNAT_HOST_ERROR);
}

/* Outer total length set to len, checksum fixed up. */
static void set_outer_len(struct frame *f, uint16_t len)
{
	be16(f->b + 14 + 2, len);
	be16(f->b + 14 + 10, 0);
	be16(f->b + 14 + 10, inet_csum(f->b + 14, 20));
}

static void test_ingress_malformed(void **state)
{
	struct ip4 o = { .src = GI, .dst = H1, .proto = P_IPIP, .frag = 0x4000 };
	struct frame f;
	size_t inner;

	(void)state;
	need_bpf();
	/* bad outer checksum */
	ingress_frame(&f, GI, H1, G, &inner);
	f.b[14 + 11] ^= 0x01;
	expect_error(&f);
	/* inner packet not for G */
	ingress_frame(&f, GI, H1, OTHER, &inner);
	expect_error(&f);
	/* inner not IPv4 */
	ingress_frame(&f, GI, H1, G, &inner);
	f.b[inner] = 0x65;
	expect_error(&f);
	/* outer length beyond the frame */
	ingress_frame(&f, GI, H1, G, &inner);
	set_outer_len(&f, (uint16_t)(f.len - 14 + 1));
	expect_error(&f);
	/* inner length beyond the outer one */
	ingress_frame(&f, GI, H1, G, &inner);
	set_outer_len(&f, (uint16_t)(f.len - 14 - 1));
	expect_error(&f);
	/* outer header only, no inner packet */
	eth(&f, H1_MAC, INT_MAC, ETH_IP);
	f.len += ip4(f.b + f.len, &o, f.b, 0);
	expect_error(&f);
}

/* ---- truncation: every prefix of a frame, through both programs --------- */

/*
 * own: the program the frame is meant for; other: the other one, which must
 * leave every prefix alone (other_drops: drop each one, as ingress does
 * with a packet from G, counted as local_source). Prefixes of the frame meant for own must be
 * tunnelled whole (egress: the outer header does not depend on what follows)
 * or dropped (ingress: a cut tunnel packet), never delivered as they are.
 */
static void run_prefixes(const struct frame *f, int own, int other, bool other_drops)
{
	for (size_t n = 0; n <= f->len; n++) {
		struct run o = run_prog(own, f->b, n);
		struct run x = run_prog(other, f->b, n);

		/* test_run itself refuses an IPv4 frame without a whole IPv4
		 * header on current kernels (6.1, 6.18: -EINVAL); older ones
		 * (5.15) run both programs, which must leave it alone */
		if (n < 34) {
			assert_int_equal(o.err < 0, x.err < 0);
			if (o.err < 0)
				continue;
			for (int k = 0; k < 2; k++) {
				const struct run *r = k ? &x : &o;

				assert_int_equal(r->err, 0);
				assert_int_equal(r->retval, TC_ACT_OK);
				assert_int_equal(r->out_len, n);
				assert_memory_equal(r->out, f->b, n);
			}
			continue;
		}
		assert_int_equal(o.err, 0);
		assert_int_equal(x.err, 0);
		assert_int_equal(x.retval, other_drops ? TC_ACT_SHOT : TC_ACT_OK);
		assert_int_equal(x.out_len, n);
		assert_memory_equal(x.out, f->b, n);
		if (own == fx.egress) {
			assert_int_equal(o.retval, TC_ACT_OK);
			assert_int_equal(o.out_len, n + 20);
			assert_memory_equal(o.out + 34, f->b + 14, n - 14);
		} else if (n < f->len) {
			assert_int_equal(o.retval, TC_ACT_SHOT);
		} else {
			assert_int_equal(o.retval, TC_ACT_OK);
			assert_int_equal(o.out_len, n - 20);
		}
	}
}

static void test_truncated(void **state)
{
	struct frame f;
	size_t inner;

	(void)state;
	need_bpf();
	egress_frame(&f, G, 0);
	run_prefixes(&f, fx.egress, fx.ingress, true);
	ingress_frame(&f, GI, H1, G, &inner);
	run_prefixes(&f, fx.ingress, fx.egress, false);
}

/* ---- fixture ------------------------------------------------------------- */

static int group_setup(void **state)
{
	int err;

	(void)state;
	fx.skel = host_tunnel__open();
	if (!fx.skel)
		return -1;
	fx.skel->rodata->host_cfg = (struct xdnat_host_cfg){
		.global = G, .host_addr = H1, .gw_addr = GI,
	};
	err = host_tunnel__load(fx.skel);
	if (err) {
		fprintf(stderr, "host_tunnel: load failed: %s%s\n", strerror(-err),
			err == -EPERM ? " (these tests need root)" : "");
		host_tunnel__destroy(fx.skel);
		fx.skel = NULL;
		return 0;	/* every test skips */
	}
	fx.egress = bpf_program__fd(fx.skel->progs.host_egress);
	fx.ingress = bpf_program__fd(fx.skel->progs.host_ingress);
	fx.stat = bpf_map__fd(fx.skel->maps.xdnat_host_stat);
	fx.ncpus = libbpf_num_possible_cpus();
	return fx.ncpus > 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	host_tunnel__destroy(fx.skel);
	return 0;
}

#define T(f) cmocka_unit_test(f)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_egress_encap),
		T(test_egress_tos),
		T(test_egress_minimal),
		T(test_egress_not_g),
		T(test_egress_bad_header),
		T(test_ingress_decap),
		T(test_ingress_padded),
		T(test_ingress_ecn),
		T(test_ingress_not_ours),
		T(test_ingress_plain_to_g),
		T(test_ingress_local_source),
		T(test_ingress_tunnel_not_gw),
		T(test_ingress_malformed),
		T(test_truncated),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
