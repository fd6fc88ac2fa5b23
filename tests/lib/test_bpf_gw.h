/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the data-plane tests of gw_ext and gw_int (test_bpf_gw_ext.c,
 * test_bpf_gw_int.c) share: the CMocka group set-up around the rig of
 * bpf_rig.h, map set-up that asserts, one BPF_PROG_TEST_RUN with its
 * verdict and counter checked, and the frames each program must send.
 *
 * Self-contained: the group setup moves the process into a new network
 * namespace (nothing touches the host's network) and builds the rig the
 * FIB lookups need there (bpf_rig.h, shared with test_bpf_fuzz.c and
 * bench/xdp_bench.c): two veth pairs, an external one (203.0.113.1/24,
 * peer and attacker as permanent neighbours) and an internal one
 * (10.0.0.1/24 = Gi, hosts H1 and H2 as permanent neighbours), forwarding
 * on both. The maps are created unpinned, shared by the two programs.
 * Needs root (CAP_SYS_ADMIN + CAP_BPF); the tests skip without it.
 *
 * Header only, like the other fixtures here: bpf_rig.c is linked into the
 * benches too, which have no CMocka.
 */
#ifndef XDNAT_TEST_BPF_GW_H
#define XDNAT_TEST_BPF_GW_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "xdnat.h"
#include "bpf_rig.h"
#include "gw_ext.skel.h"
#include "gw_int.skel.h"

/* ---- the rig (bpf_rig.h) ------------------------------------------------ */

static const char *const reason_names[] = XDNAT_REASON_NAMES;
_Static_assert(sizeof(reason_names) / sizeof(reason_names[0]) == XDNAT_REASON_MAX,
	       "one name per reason");

static struct rig rig;

static inline void set_cfg(uint16_t int_mtu, uint16_t flags)
{
	assert_int_equal(rig_set_cfg(&rig, int_mtu, flags), 0);
}

static inline int group_setup(void **state)
{
	int rc;

	(void)state;
	rc = rig_netns();
	if (rc == -1) {
		print_message("bpf_gw: needs root and a new network namespace (%s): skipping\n",
			      strerror(errno ? errno : EPERM));
		return 0;
	}
	if (rc || rig_open(&rig, 0))
		return -1;
	print_message("%s: %zu insns, %s: %zu insns (verifier accepted)\n",
		      bpf_program__name(rig.ext_prog), bpf_program__insn_cnt(rig.ext_prog),
		      bpf_program__name(rig.int_prog), bpf_program__insn_cnt(rig.int_prog));
	return 0;
}

static inline int group_teardown(void **state)
{
	(void)state;
	rig_close(&rig);
	/* the namespace and its veths vanish with the process */
	return 0;
}

/* ---- map helpers ---------------------------------------------------------- */

static inline void set_port(uint16_t port, uint32_t cid, uint32_t hi, uint32_t flags)
{
	assert_int_equal(rig_set_port(&rig, port, cid, hi, flags), 0);
}

static inline void set_sa(uint32_t spi, uint32_t peer, uint32_t cid, uint32_t hi)
{
	assert_int_equal(rig_set_sa(&rig, spi, peer, cid, hi), 0);
}

static inline void set_host(uint32_t hi, uint32_t cid)
{
	assert_int_equal(rig_set_host(&rig, hi, cid), 0);
}

/* The standard world, rebuilt before every test: H1 and H2 registered, a
 * plain and a NAT-T port each, an SPI block each, one SA each with PEER. */
static inline int world(void **state)
{
	(void)state;
	if (!rig.ok)
		return 0;
	return rig_world(&rig);
}

#define NEED_RIG() do { if (!rig.ok) skip(); } while (0)

/* ---- packets ---------------------------------------------------------------- */

/* The IPv4 header at ip as the gateway forwards it, one hop on (RFC 2003
 * 3.1): TTL - 1, its checksum summed anew (not updated incrementally, as the
 * programs do). */
static inline void after_hop(uint8_t *ip)
{
	ip4_set_ttl(ip, (uint8_t)(ip[8] - 1));
}

/* The time-exceeded (11/0) from src about the IPv4 packet at q, into p:
 * its IPv4 header (DF, id 0, TTL 64), ICMP, the quote of q's header and 8
 * bytes. Returns its length. */
static inline size_t time_exceeded(uint8_t *p, uint32_t src, const uint8_t *q)
{
	struct ip4 h = { .src = src, .proto = P_ICMP, .frag = 0x4000 };
	size_t qhl = (size_t)(q[0] & 0xf) * 4;
	uint8_t ic[128];

	memcpy(&h.dst, q + 12, 4);
	return ip4(p, &h, ic, icmp(ic, 11, 0, 0, q, qhl + 8));
}

/*
 * The port unreachable (3/3) a host's stack sends about PEER's UDP datagram
 * 500 -> G:port with pay bytes of payload, all of it quoted: the inner
 * packet G -> PEER into p (room for 64 + pay bytes); returns its length.
 */
static inline size_t host_unreach(uint8_t *p, uint16_t port, size_t pay)
{
	struct ip4 q = { .src = PEER, .dst = G, .proto = P_UDP, .id = 0x3131, .frag = 0x4000 };
	uint8_t quote[FRAME_MAX], ic[FRAME_MAX], d[FRAME_MAX];
	size_t qn;

	memset(d, 0x21, pay);
	qn = ip4(quote, &q, ic, udp(ic, 500, port, d, pay));
	return from_g(p, G, PEER, P_ICMP, ic, icmp(ic, 3, 3, 0, quote, qn));
}

/*
 * What gw_ext must send to the host: Ethernet to the host's MAC (the
 * kernel's neighbour, or the one in the owner value) from src_mac (the
 * internal NIC's), the outer header (built and summed here, with the test's
 * own checksum), then the received IP packet one hop on (after_hop).
 */
static inline void expect_encap(struct frame *e, const uint8_t *host_mac, const uint8_t *src_mac,
				uint32_t hi, const struct frame *in)
{
	const uint8_t *inner = in->b + 14;
	uint32_t gi = GI;
	uint8_t o[20];

	eth(e, host_mac, src_mac, ETH_IP);
	o[0] = 0x45;
	o[1] = inner[1];			/* tos copied */
	be16(o + 2, (uint16_t)(rd16(inner + 2) + 20));
	be16(o + 4, 0);				/* id */
	be16(o + 6, 0x4000);			/* DF */
	o[8] = 64;
	o[9] = P_IPIP;
	be16(o + 10, 0);
	memcpy(o + 12, &gi, 4);
	memcpy(o + 16, &hi, 4);
	be16(o + 10, inet_csum(o, 20));
	append(e, o, 20);
	append(e, inner, in->len - 14);
	after_hop(e->b + 14 + 20);
}

/* ---- running the programs ---------------------------------------------------- */

static inline void read_stats(struct counters *c)
{
	assert_int_equal(rig_read_stats(&rig, c), 0);
}

/*
 * One BPF_PROG_TEST_RUN of prog on frame in, arriving on ifindex; out is the
 * frame as the program left it. Asserts that exactly one reason was counted
 * (one packet, the bytes of the frame as it left) and returns it in *reason.
 * Returns the XDP action, or -errno when the kernel refused the run.
 */
static inline int xdp_run(int prog, int ifindex, const struct frame *in, struct frame *out,
			  int *reason)
{
	struct counters before, after;
	uint32_t r, olen;
	int act, moved = 0;

	*reason = -1;
	read_stats(&before);
	/* repeat 1: the programs rewrite the packet */
	act = rig_run(prog, ifindex, in->b, (uint32_t)in->len, out->b, sizeof(out->b), &olen,
		      1, NULL);
	if (act < 0)
		return act;
	out->len = olen;
	read_stats(&after);

	for (r = 0; r < XDNAT_REASON_MAX; r++) {
		uint64_t dp = after.packets[r] - before.packets[r];
		uint64_t db = after.bytes[r] - before.bytes[r];

		if (!dp) {
			assert_int_equal(db, 0);
			continue;
		}
		moved++;
		assert_int_equal(dp, 1);
		assert_int_equal(db, out->len);
		*reason = (int)r;
	}
	/* every return path counts exactly one reason */
	assert_int_equal(moved, 1);
	return act;
}

static inline const char *action_name(int a)
{
	static const char *const n[] = { "ABORTED", "DROP", "PASS", "TX", "REDIRECT" };

	return a >= 0 && a <= 4 ? n[a] : "?";
}

static inline void expect(int prog, int ifindex, const struct frame *in, struct frame *out,
			  int action, enum xdnat_reason reason)
{
	int got_reason, got;

	got = xdp_run(prog, ifindex, in, out, &got_reason);
	if (got != action || got_reason != (int)reason)
		print_error("want %s/%s, got %s(%d)/%s\n", action_name(action),
			    reason_names[reason], action_name(got), got,
			    got_reason >= 0 ? reason_names[got_reason] : "none");
	assert_int_equal(got, action);
	assert_int_equal(got_reason, reason);
}

static inline void ext_expect(const struct frame *in, struct frame *out, int action,
			      enum xdnat_reason reason)
{
	expect(rig.ext_fd, rig.ext_ifindex, in, out, action, reason);
}

static inline void int_expect(const struct frame *in, struct frame *out, int action,
			      enum xdnat_reason reason)
{
	expect(rig.int_fd, rig.int_ifindex, in, out, action, reason);
}

static inline void assert_frame(const struct frame *got, const struct frame *want)
{
	if (got->len != want->len || memcmp(got->b, want->b, want->len)) {
		size_t i = 0;

		while (i < got->len && i < want->len && got->b[i] == want->b[i])
			i++;
		print_error("frames differ at byte %zu\n", i);
		hexdump("got", got->b, got->len);
		hexdump("want", want->b, want->len);
	}
	assert_int_equal(got->len, want->len);
	assert_memory_equal(got->b, want->b, want->len);
}

/* Forwarded to a host from src_mac: redirect, exact frame, outer checksum
 * verifies. */
static inline void expect_to_host_from(const struct frame *in, const uint8_t *mac,
				       const uint8_t *src_mac, uint32_t hi)
{
	struct frame out, want;

	ext_expect(in, &out, XDP_REDIRECT, XDNAT_FWD_TO_HOST);
	expect_encap(&want, mac, src_mac, hi, in);
	assert_frame(&out, &want);
	assert_int_equal(inet_csum(out.b + 14, 20), 0);
}

static inline void expect_to_host(const struct frame *in, const uint8_t *mac, uint32_t hi)
{
	expect_to_host_from(in, mac, INT_MAC, hi);
}

/* To the stack: pass, untouched. */
static inline void ext_expect_pass(const struct frame *in)
{
	struct frame out;

	ext_expect(in, &out, XDP_PASS, XDNAT_PASS_STACK);
	assert_frame(&out, in);
}

static inline void ext_expect_drop(const struct frame *in, enum xdnat_reason reason)
{
	struct frame out;

	ext_expect(in, &out, XDP_DROP, reason);
}

/* Sent out of the external NIC: the inner packet one hop on (after_hop),
 * to the peer's neighbour MAC from the external NIC's. */
static inline void int_expect_decap(const struct frame *in, const uint8_t *peer_mac)
{
	struct frame out, want;
	size_t ohl = (in->b[14] & 0xf) * 4;

	int_expect(in, &out, XDP_REDIRECT, XDNAT_FWD_TO_EXT);
	eth(&want, peer_mac, EXT_MAC, ETH_IP);
	append(&want, in->b + 14 + ohl, in->len - 14 - ohl);
	after_hop(want.b + 14);
	assert_frame(&out, &want);
}

/* ---- MTU and the ICMP rate limit ------------------------------------------------ */

/* xdnat_cfg's ext_mtu alone, the rest as it is. */
static inline void set_ext_mtu(uint16_t mtu)
{
	struct xdnat_cfg c;
	uint32_t k = 0;

	assert_int_equal(bpf_map_lookup_elem(rig.cfg, &k, &c), 0);
	c.ext_mtu = mtu;
	assert_int_equal(bpf_map_update_elem(rig.cfg, &k, &c, BPF_ANY), 0);
}

/* bpf_ktime_get_ns()'s clock. */
static inline uint64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* Every CPU's token bucket of slot: tokens left, last refill at stamp_ns
 * (ahead of the clock: no refill until then, whatever the test's pace). */
static inline void set_icmp_bucket(uint32_t slot, uint32_t tokens, uint64_t stamp_ns)
{
	struct xdnat_icmp_bucket *b = calloc((size_t)rig.ncpus, sizeof(*b));

	assert_non_null(b);
	for (int i = 0; i < rig.ncpus; i++) {
		b[i].tokens = tokens;
		b[i].stamp_ns = stamp_ns;
	}
	assert_int_equal(bpf_map_update_elem(rig.icmp_rl, &slot, b, BPF_ANY), 0);
	free(b);
}

/* ---- MACs xdnatd resolved ---------------------------------------------------- */

/* MACs the kernel does not know: what xdnatd resolved, e.g. a NIC replaced
 * since the rig's permanent neighbours were set. */
static const uint8_t H1_NEW_MAC[6] = { 0x02, 0, 0, 0, 0x10, 0xe1 };
static const uint8_t H3_MAC[6] = { 0x02, 0, 0, 0, 0x10, 0x13 };

static inline void set_host_mac(uint32_t hi, uint32_t cid, const uint8_t *mac)
{
	assert_int_equal(rig_set_host_mac(&rig, hi, cid, mac), 0);
}

/* xdnat_hosts alone, the values left as they are: what gw_int reads. */
static inline void set_host_entry(uint32_t hi, uint32_t cid, const uint8_t *mac)
{
	struct xdnat_host v;

	memset(&v, 0, sizeof(v));
	v.client_id = cid;
	if (mac)
		memcpy(v.mac, mac, sizeof(v.mac));
	assert_int_equal(bpf_map_update_elem(rig.hosts, &hi, &v, BPF_ANY), 0);
}

/* The xdnat_frags key of the datagram (src, dst, id, proto); id in host
 * order. */
static inline void frag_key_of(struct xdnat_frag_key *fk, uint32_t src, uint32_t dst,
			       uint16_t id, uint8_t proto)
{
	memset(fk, 0, sizeof(*fk));
	fk->src = src;
	fk->dst = dst;
	fk->id = htons(id);
	fk->proto = proto;
}

/* The owner value as gw_ext or gw_int learned it: client, Hi and MAC. */
static inline void assert_owner(const struct xdnat_owner *o, uint32_t cid, uint32_t hi,
				const uint8_t *mac)
{
	static const uint8_t zero[6];

	assert_int_equal(o->client_id, cid);
	assert_int_equal(o->host_addr, hi);
	assert_memory_equal(o->mac, mac ? mac : zero, sizeof(o->mac));
	assert_int_equal(o->pad, 0);
}

#endif
