/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * gw_int, the internal NIC's XDP program, run by the kernel with
 * BPF_PROG_TEST_RUN: tunnel frames from hosts in, verdict, exact bytes out
 * and the counter of the reason checked for every path (decapsulation, the
 * share checks, echo ids, the next-hop cache, malformed frames).
 * The rig and the shared checks: tests/lib/test_bpf_gw.h.
 */
#include <sched.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/if_link.h>
#include "test_bpf_gw.h"

/* ---- gw_int ------------------------------------------------------------------------ */

/* gw_int learns an echo id with the host's MAC from xdnat_hosts; the reply
 * goes to that MAC, and a later request after a MAC change updates it. */
static void test_int_echo_id_learns_mac(void **state)
{
	struct xdnat_icmp_key ik;
	struct xdnat_owner o;
	uint8_t ic[64], inner[128], d[16];
	struct frame req, rep;
	size_t n;

	(void)state;
	NEED_RIG();
	memset(d, 0x29, sizeof(d));
	memset(&ik, 0, sizeof(ik));
	ik.peer = PEER;
	ik.id = htons(0x2468);
	n = from_g(inner, G, PEER, P_ICMP, ic, icmp(ic, 8, 0, 0x24680001, d, sizeof(d)));
	from_host(&req, H1_MAC, H1, inner, n);
	to_g(&rep, PEER, P_ICMP, ic, icmp(ic, 0, 0, 0x24680001, d, sizeof(d)));

	set_host_mac(H1, CID1, H1_NEW_MAC);
	from_host(&req, H1_NEW_MAC, H1, inner, n);
	int_expect_decap(&req, PEER_MAC);
	assert_int_equal(bpf_map_lookup_elem(rig.icmp_ids, &ik, &o), 0);
	assert_owner(&o, CID1, H1, H1_NEW_MAC);
	expect_to_host(&rep, H1_NEW_MAC, H1);
	/* the MAC changes: the learned entry follows at the next request
	 * (from the new MAC: gw_int checks the frame's source) */
	set_host_entry(H1, CID1, H3_MAC);
	expect_to_host(&rep, H1_NEW_MAC, H1);
	from_host(&req, H3_MAC, H1, inner, n);
	int_expect_decap(&req, PEER_MAC);
	assert_int_equal(bpf_map_lookup_elem(rig.icmp_ids, &ik, &o), 0);
	assert_owner(&o, CID1, H1, H3_MAC);
	expect_to_host(&rep, H3_MAC, H1);
	/* and when it is lost, to no MAC: the reply takes the FIB's */
	set_host_entry(H1, CID1, NULL);
	int_expect_decap(&req, PEER_MAC);
	assert_int_equal(bpf_map_lookup_elem(rig.icmp_ids, &ik, &o), 0);
	assert_owner(&o, CID1, H1, NULL);
	expect_to_host(&rep, H1_MAC, H1);
}

static void test_int_decap(void **state)
{
	uint8_t inner[256], l4[128], d[64];
	struct frame in;
	size_t n;

	(void)state;
	NEED_RIG();
	memset(d, 0x2b, sizeof(d));
	n = from_g(inner, G, PEER, P_UDP, l4, udp(l4, H1_PORT, 500, d, sizeof(d)));
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect_decap(&in, PEER_MAC);
	n = from_g(inner, G, ATTACKER, P_TCP, l4, tcp(l4, H2_PORT, 22));
	from_host(&in, H2_MAC, H2, inner, n);
	int_expect_decap(&in, ATK_MAC);
	/* ESP and AH: the SPI is the peer's, nothing to check */
	n = from_g(inner, G, PEER, P_ESP, l4, esp(l4, 0xc0ffee, 1, 48));
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect_decap(&in, PEER_MAC);
	n = from_g(inner, G, PEER, P_AH, l4, ah(l4, P_TCP, 0xc0ffee, d, 20));
	from_host(&in, H2_MAC, H2, inner, n);
	int_expect_decap(&in, PEER_MAC);
	/* an ICMP error the host's stack sends about a packet to its port */
	n = host_unreach(inner, H2_PORT, 0);
	from_host(&in, H2_MAC, H2, inner, n);
	int_expect_decap(&in, PEER_MAC);
	/* a non-first fragment carries no port: allowed after its first */
	{
		struct ip4 h = { .src = G, .dst = PEER, .proto = P_UDP, .id = 3,
				 .frag = 0x2000 };

		n = ip4(inner, &h, l4, udp(l4, H1_PORT, 500, d, 32));
		from_host(&in, H1_MAC, H1, inner, n);
		int_expect_decap(&in, PEER_MAC);
		h.frag = 5;
		n = ip4(inner, &h, d, 40);
		from_host(&in, H1_MAC, H1, inner, n);
		int_expect_decap(&in, PEER_MAC);
	}
}

/*
 * gw_int's next-hop cache in front of the FIB (per CPU, slot by destination
 * and TOS): the entry of the CPU the test ran on, or -1 when no CPU has one
 * for dst.
 */
static int nexthop_of(uint32_t dst, struct xdnat_nexthop *out)
{
	uint32_t slot = xdnat_nexthop_slot(dst, 0);
	struct xdnat_nexthop v[256];
	int found = -1;

	assert_true(rig.ncpus <= 256);
	assert_int_equal(bpf_map_lookup_elem(rig.nexthop, &slot, v), 0);
	for (int cpu = 0; cpu < rig.ncpus; cpu++)
		if (v[cpu].expires_ns && v[cpu].dst == dst) {
			*out = v[cpu];
			found = cpu;
		}
	return found;
}

/* Set dst's entry on every CPU to expire at ns: 1 is long past, UINT64_MAX
 * never (the TTL is wall-clock time, which an emulated or loaded machine
 * can spend in one sh() call). */
static void nexthop_expire_at(uint32_t dst, uint64_t ns)
{
	uint32_t slot = xdnat_nexthop_slot(dst, 0);
	struct xdnat_nexthop v[256];

	assert_int_equal(bpf_map_lookup_elem(rig.nexthop, &slot, v), 0);
	for (int cpu = 0; cpu < rig.ncpus; cpu++)
		if (v[cpu].expires_ns)
			v[cpu].expires_ns = ns;
	assert_int_equal(bpf_map_update_elem(rig.nexthop, &slot, v, BPF_EXIST), 0);
}

static cpu_set_t cpus_before;

/* The cache is per CPU: the world, then the test pinned to the CPU it runs
 * on, or a run after a migration finds another CPU's entry (or none). */
static int world_on_one_cpu(void **state)
{
	cpu_set_t one;
	int cpu = sched_getcpu();

	if (cpu < 0 || sched_getaffinity(0, sizeof(cpus_before), &cpus_before))
		return -1;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one))
		return -1;
	return world(state);
}

static int all_cpus_again(void **state)
{
	(void)state;
	return sched_setaffinity(0, sizeof(cpus_before), &cpus_before) ? -1 : 0;
}

/*
 * The first packet to a destination caches the FIB's answer, the next ones
 * use it for XDNAT_NEXTHOP_TTL_NS even after the neighbour changed (that is
 * the cache's promise and its limit), a longer packet than any seen asks the
 * FIB again, an expired entry is looked up afresh, and another destination
 * in the same slot replaces the entry.
 */
static void test_int_nexthop_cache(void **state)
{
	static const uint8_t NEW_MAC[6] = { 0x02, 0, 0, 0, 0xe0, 0x99 };
	uint8_t inner[512], l4[256], d[200];
	struct xdnat_nexthop v;
	struct frame in;
	size_t n;

	(void)state;
	NEED_RIG();
	memset(d, 0x5a, sizeof(d));
	assert_int_equal(nexthop_of(PEER, &v), -1);		/* cold */
	n = from_g(inner, G, PEER, P_UDP, l4, udp(l4, H1_PORT, 500, d, 40));
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect_decap(&in, PEER_MAC);
	assert_true(nexthop_of(PEER, &v) >= 0);
	assert_memory_equal(v.dmac, PEER_MAC, 6);
	assert_memory_equal(v.smac, EXT_MAC, 6);
	assert_int_equal(v.ifindex, rig.ext_ifindex);
	assert_int_equal(v.max_len, n);

	/* the peer's MAC changes: within the TTL the cached one is used */
	nexthop_expire_at(PEER, UINT64_MAX);
	assert_int_equal(sh("ip neigh replace 203.0.113.10 lladdr 02:00:00:00:e0:99 dev "
			    EXT_DEV " nud permanent"), 0);
	int_expect_decap(&in, PEER_MAC);
	/* a longer packet asks the FIB (it checks the MTU): the new MAC, and
	 * the entry starts afresh */
	n = from_g(inner, G, PEER, P_UDP, l4, udp(l4, H1_PORT, 500, d, 160));
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect_decap(&in, NEW_MAC);
	assert_true(nexthop_of(PEER, &v) >= 0);
	assert_memory_equal(v.dmac, NEW_MAC, 6);
	assert_int_equal(v.max_len, n);

	/* expired: looked up again */
	nexthop_expire_at(PEER, UINT64_MAX);
	assert_int_equal(sh("ip neigh replace 203.0.113.10 lladdr %02x:%02x:%02x:%02x:%02x:%02x "
			    "dev " EXT_DEV " nud permanent", PEER_MAC[0], PEER_MAC[1], PEER_MAC[2],
			    PEER_MAC[3], PEER_MAC[4], PEER_MAC[5]), 0);
	int_expect_decap(&in, NEW_MAC);		/* cached */
	nexthop_expire_at(PEER, 1);
	int_expect_decap(&in, PEER_MAC);
	assert_true(nexthop_of(PEER, &v) >= 0);
	assert_memory_equal(v.dmac, PEER_MAC, 6);
	assert_true(v.expires_ns > 1);

	/* another destination, same TOS: its own slot, the peer's entry stays
	 * unless the slots collide (then it is replaced, never mixed up) */
	n = from_g(inner, G, ATTACKER, P_UDP, l4, udp(l4, H1_PORT, 500, d, 40));
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect_decap(&in, ATK_MAC);
	assert_true(nexthop_of(ATTACKER, &v) >= 0);
	assert_memory_equal(v.dmac, ATK_MAC, 6);
	if (xdnat_nexthop_slot(ATTACKER, 0) != xdnat_nexthop_slot(PEER, 0))
		assert_true(nexthop_of(PEER, &v) >= 0);
}

static void test_int_spoofed_port(void **state)
{
	uint8_t inner[256], l4[128];
	struct frame in;
	size_t n;

	(void)state;
	NEED_RIG();
	/* H1 sending from H2's port */
	n = from_g(inner, G, PEER, P_UDP, l4, udp(l4, H2_PORT, 500, "x", 1));
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect(&in, &(struct frame){ 0 }, XDP_DROP, XDNAT_DROP_SPOOFED_SOURCE);
	n = from_g(inner, G, PEER, P_TCP, l4, tcp(l4, H2_NATT, 443));
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect(&in, &(struct frame){ 0 }, XDP_DROP, XDNAT_DROP_SPOOFED_SOURCE);
	/* a port nobody holds */
	n = from_g(inner, G, PEER, P_UDP, l4, udp(l4, 31000, 500, "x", 1));
	from_host(&in, H2_MAC, H2, inner, n);
	int_expect(&in, &(struct frame){ 0 }, XDP_DROP, XDNAT_DROP_SPOOFED_SOURCE);
}

static void test_int_spoofed_inner_source(void **state)
{
	uint8_t inner[256], l4[128];
	struct frame in, out;
	size_t n;

	(void)state;
	NEED_RIG();
	n = from_g(inner, IP4(198, 51, 100, 2), PEER, P_UDP, l4, udp(l4, H1_PORT, 500, "x", 1));
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_SPOOFED_SOURCE);
	n = from_g(inner, H1, PEER, P_ESP, l4, esp(l4, 1234, 1, 8));
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_SPOOFED_SOURCE);
}

static void test_int_unknown_host(void **state)
{
	uint8_t inner[256], l4[128];
	struct frame in, out;
	size_t n;

	(void)state;
	NEED_RIG();
	n = from_g(inner, G, PEER, P_UDP, l4, udp(l4, H1_PORT, 500, "x", 1));
	from_host(&in, H1_MAC, IP4(10, 0, 0, 99), inner, n);
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_UNKNOWN_HOST);
}

static void test_int_not_tunnel_passes(void **state)
{
	uint8_t pkt[256], l4[128];
	struct ip4 h = { .src = H1, .dst = GI, .proto = P_UDP };
	struct frame in, out;

	(void)state;
	NEED_RIG();
	/* PAP: UDP from a host to Gi */
	eth(&in, INT_MAC, H1_MAC, ETH_IP);
	append(&in, pkt, ip4(pkt, &h, l4, udp(l4, 40000, 4433, "PAP!", 4)));
	int_expect(&in, &out, XDP_PASS, XDNAT_PASS_STACK);
	assert_frame(&out, &in);
	/* IPIP not to Gi */
	h.dst = IP4(10, 0, 0, 2);
	h.proto = P_IPIP;
	eth(&in, INT_MAC, H1_MAC, ETH_IP);
	append(&in, pkt, ip4(pkt, &h, l4, from_g(l4, G, PEER, P_ESP, "abcdefgh", 8)));
	int_expect(&in, &out, XDP_PASS, XDNAT_PASS_STACK);
	/* ARP */
	eth(&in, (const uint8_t *)"\xff\xff\xff\xff\xff\xff", H1_MAC, ETH_ARP);
	memset(pkt, 0, 28);
	append(&in, pkt, 28);
	int_expect(&in, &out, XDP_PASS, XDNAT_PASS_STACK);
}

static void test_int_echo_id_of_other_host(void **state)
{
	uint8_t inner[128], ic[64];
	struct frame in, out;
	size_t n;

	(void)state;
	NEED_RIG();
	n = from_g(inner, G, PEER, P_ICMP, ic, icmp(ic, 8, 0, 0x55550001, "ping", 4));
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect_decap(&in, PEER_MAC);
	/* H1 again (refresh) is fine; H2 with H1's (peer, id) is not */
	int_expect_decap(&in, PEER_MAC);
	from_host(&in, H2_MAC, H2, inner, n);
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_SPOOFED_SOURCE);
	/* the same id towards another peer is H2's to take */
	n = from_g(inner, G, ATTACKER, P_ICMP, ic, icmp(ic, 8, 0, 0x55550001, "ping", 4));
	from_host(&in, H2_MAC, H2, inner, n);
	int_expect_decap(&in, ATK_MAC);
}

static void test_int_unsupported_and_malformed(void **state)
{
	uint8_t inner[256], l4[64];
	struct frame in, out;
	size_t n;

	(void)state;
	NEED_RIG();
	n = from_g(inner, G, PEER, P_GRE, "\0\0\x08\0", 4);
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_UNSUPPORTED);

	n = from_g(inner, G, PEER, P_UDP, l4, udp(l4, H1_PORT, 500, "x", 1));
	/* inner header claims more than the outer carries */
	from_host(&in, H1_MAC, H1, inner, n);
	be16(in.b + 34 + 2, (uint16_t)(n + 1));
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_MALFORMED);
	/* inner ihl 4 */
	from_host(&in, H1_MAC, H1, inner, n);
	in.b[34] = 0x44;
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_MALFORMED);
	/* inner UDP cut short, lengths consistent */
	n = from_g(inner, G, PEER, P_UDP, "\x4e\x20\x01", 3);
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_MALFORMED);
}

static void test_int_truncated_every_layer(void **state)
{
	uint8_t inner[256], l4[128];
	struct frame in, out;
	size_t n, cut;
	int reason, act;

	(void)state;
	NEED_RIG();
	n = from_g(inner, G, PEER, P_TCP, l4, tcp(l4, H1_PORT, 443));
	from_host(&in, H1_MAC, H1, inner, n);
	for (cut = 0; cut < in.len; cut++) {
		struct frame c = in;

		c.len = cut;
		act = xdp_run(rig.int_fd, rig.int_ifindex, &c, &out, &reason);
		if (cut < 14 && act < 0)
			continue;
		assert_true(act == XDP_PASS || act == XDP_DROP);
		assert_int_equal(reason, cut < 34 ? XDNAT_PASS_STACK : XDNAT_DROP_MALFORMED);
		if (cut < 34)
			continue;
		/* outer length fixed up: the inner header or TCP runs short */
		be16(c.b + 16, (uint16_t)(cut - 14));
		be16(c.b + 24, 0);
		be16(c.b + 24, inet_csum(c.b + 14, 20));
		act = xdp_run(rig.int_fd, rig.int_ifindex, &c, &out, &reason);
		assert_int_equal(act, XDP_DROP);
		assert_int_equal(reason, XDNAT_DROP_MALFORMED);
	}
}

static void test_int_outer_options_and_fragments(void **state)
{
	static const uint8_t opt[12] = { 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
					 0x01, 0x01, 0x01, 0x01, 0x01, 0x00 };
	uint8_t inner[256], l4[128], pkt[512];
	struct ip4 o = { .src = H2, .dst = GI, .proto = P_IPIP, .frag = 0x4000,
			 .opt = opt, .optlen = sizeof(opt) };
	struct frame in, out;
	size_t n;

	(void)state;
	NEED_RIG();
	/* a 32-byte outer header is stripped as a whole */
	n = from_g(inner, G, PEER, P_UDP, l4, udp(l4, H2_PORT, 500, "opts", 4));
	eth(&in, INT_MAC, H2_MAC, ETH_IP);
	append(&in, pkt, ip4(pkt, &o, inner, n));
	assert_int_equal(in.b[14], 0x48);
	int_expect_decap(&in, PEER_MAC);
	/* a fragmented tunnel packet cannot be checked: never reassembled here */
	o.opt = NULL;
	o.optlen = 0;
	o.frag = 0x2000;
	eth(&in, INT_MAC, H2_MAC, ETH_IP);
	append(&in, pkt, ip4(pkt, &o, inner, n));
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_UNSUPPORTED);
	o.frag = 5;
	eth(&in, INT_MAC, H2_MAC, ETH_IP);
	append(&in, pkt, ip4(pkt, &o, inner, n));
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_UNSUPPORTED);
}

static void test_int_no_route(void **state)
{
	uint8_t inner[256], l4[128];
	struct frame in, out;
	size_t n;

	(void)state;
	NEED_RIG();
	/* nothing routes 192.0.2.0/24 in the test namespace: the FIB says so */
	n = from_g(inner, G, IP4(192, 0, 2, 1), P_UDP, l4, udp(l4, H1_PORT, 53, "x", 1));
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_FIB_NO_ROUTE);
	/* a host must not reach another host as G at its internal address */
	n = from_g(inner, G, H2, P_UDP, l4, udp(l4, H1_PORT, 53, "x", 1));
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_ROUTE_WRONG_NIC);
}

/* ---- tunnel semantics: ECN, TTL, hairpin, errors about the tunnel --------------------- */

/*
 * RFC 6040 at gw_int's decapsulator: every (outer, inner) ECN pair under
 * DSCPs that must survive; the inner as bpf_rig's table says, one hop on,
 * its checksum summed anew here. Outer CE on a Not-ECT inner: ecn_not_ect.
 */
static void test_int_ecn(void **state)
{
	uint8_t inner[256], l4[128];
	struct frame in, out, want;
	int tos;
	size_t n;

	(void)state;
	NEED_RIG();
	for (int o = 0; o < 4; o++) {
		for (int i = 0; i < 4; i++) {
			struct ip4 h = { .src = G, .dst = PEER, .proto = P_UDP,
					 .tos = (uint8_t)(0xb8 | i), .id = 7, .frag = 0x4000 };

			n = ip4(inner, &h, l4, udp(l4, H1_PORT, 500, "ecn", 3));
			from_host_tos(&in, H1_MAC, H1, (uint8_t)(0x20 | o), inner, n);
			tos = rfc6040_decap((uint8_t)o, h.tos);
			if (tos < 0) {
				int_expect(&in, &out, XDP_DROP, XDNAT_DROP_ECN_NOT_ECT);
				continue;
			}
			int_expect(&in, &out, XDP_REDIRECT, XDNAT_FWD_TO_EXT);
			eth(&want, PEER_MAC, EXT_MAC, ETH_IP);
			append(&want, inner, n);
			want.b[15] = (uint8_t)tos;
			after_hop(want.b + 14);
			assert_frame(&out, &want);
		}
	}
}

/* The gateway is a hop: TTL 2 leaves with 1 (both checksums of the frame
 * checked against a full sum); TTL 1 and 0 are answered from Gi with
 * time-exceeded, tunnelled back to the host, exact bytes. */
static void test_int_ttl(void **state)
{
	uint8_t inner[256], l4[128], te[256], d[64];
	struct frame in, out, want;
	struct ip4 o = { .src = GI, .dst = H1, .proto = P_IPIP, .frag = 0x4000 };
	size_t n, m;

	(void)state;
	NEED_RIG();
	memset(d, 0x77, sizeof(d));
	n = from_g(inner, G, PEER, P_UDP, l4, udp(l4, H1_PORT, 33434, d, 32));
	ip4_set_ttl(inner, 2);
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect_decap(&in, PEER_MAC);

	for (int ttl = 1; ttl >= 0; ttl--) {
		ip4_set_ttl(inner, (uint8_t)ttl);
		from_host(&in, H1_MAC, H1, inner, n);
		int_expect(&in, &out, XDP_REDIRECT, XDNAT_ICMP_TIME_EXCEEDED);
		m = time_exceeded(te, GI, inner);
		eth(&want, H1_MAC, INT_MAC, ETH_IP);
		want.len += ip4(want.b + want.len, &o, te, m);
		assert_frame(&out, &want);
		/* spelled out: Gi -> G inside Gi -> H1, type 11 code 0 */
		assert_int_equal(out.b[14 + 20 + 20], 11);
		assert_memory_equal(out.b + 14 + 20 + 12, &(uint32_t){ GI }, 4);
		assert_memory_equal(out.b + 14 + 20 + 16, &(uint32_t){ G }, 4);
	}
	/* no error about an ICMP error (RFC 1812 4.3.2.7) */
	n = host_unreach(inner, H1_PORT, 0);
	ip4_set_ttl(inner, 1);
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_TTL_EXCEEDED);
}

/* A host's packet to G (inner, n bytes) from the host at mac/hi, hairpinned
 * to holder at holder_mac: one hop on inside the holder's tunnel, exact. */
static void expect_hairpin(const uint8_t *inner, size_t n, const uint8_t *mac, uint32_t hi,
			   const uint8_t *holder_mac, uint32_t holder)
{
	struct frame in, out, want, as_ext;

	from_host(&in, mac, hi, inner, n);
	int_expect(&in, &out, XDP_REDIRECT, XDNAT_FWD_HAIRPIN);
	/* what gw_ext would tunnel had it come from outside */
	eth(&as_ext, EXT_MAC, PEER_MAC, ETH_IP);
	append(&as_ext, inner, n);
	expect_encap(&want, holder_mac, INT_MAC, holder, &as_ext);
	assert_frame(&out, &want);
}

/* Hairpinning (RFC 4787 REQ-9): H1 to G:H2's port reaches H2 through the
 * tunnel, one hop on; a port nobody holds is dropped, not sent out. */
static void test_int_hairpin_by_port(void **state)
{
	uint8_t inner[256], l4[128], d[64];
	struct frame in, out;
	size_t n;

	(void)state;
	NEED_RIG();
	memset(d, 0x68, sizeof(d));
	n = from_g(inner, G, G, P_UDP, l4, udp(l4, H1_PORT, H2_PORT, d, 40));
	expect_hairpin(inner, n, H1_MAC, H1, H2_MAC, H2);

	/* TCP the same, and H2 back to H1 */
	n = from_g(inner, G, G, P_TCP, l4, tcp(l4, H2_PORT, H1_PORT));
	expect_hairpin(inner, n, H2_MAC, H2, H1_MAC, H1);

	/* the holder's MAC as xdnatd resolved it: no FIB */
	set_host_mac(H2, CID2, H1_NEW_MAC);
	n = from_g(inner, G, G, P_UDP, l4, udp(l4, H1_PORT, H2_PORT, d, 8));
	expect_hairpin(inner, n, H1_MAC, H1, H1_NEW_MAC, H2);

	/* nobody holds 31000: neither the stack nor the outside gets it */
	n = from_g(inner, G, G, P_UDP, l4, udp(l4, H1_PORT, 31000, d, 8));
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_HAIRPIN_NO_OWNER);
	/* the sender's share is checked first, as for any outbound packet */
	n = from_g(inner, G, G, P_UDP, l4, udp(l4, H2_PORT, H1_PORT, d, 8));
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_SPOOFED_SOURCE);
	/* TTL 1 hairpinned: time-exceeded back to the sender */
	n = from_g(inner, G, G, P_UDP, l4, udp(l4, H1_PORT, H2_PORT, d, 8));
	ip4_set_ttl(inner, 1);
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect(&in, &out, XDP_REDIRECT, XDNAT_ICMP_TIME_EXCEEDED);
}

/* Hairpinned ICMP: an echo id is learned from the request to G (which no
 * host holds), the reply reaches the requester; an error about a
 * hairpinned packet reaches its sender by the quoted port. ESP/AH from G
 * are never validated: G is no peer of any SA. */
static void test_int_hairpin_icmp_and_ipsec(void **state)
{
	uint8_t inner[256], l4[128], q[64], d[16];
	struct xdnat_icmp_key ik = { .peer = G, .id = htons(0x7777) };
	struct xdnat_owner o;
	struct frame in, out;
	size_t n, qn;

	(void)state;
	NEED_RIG();
	memset(d, 0x45, sizeof(d));
	n = from_g(inner, G, G, P_ICMP, l4, icmp(l4, 8, 0, 0x77770001, d, sizeof(d)));
	from_host(&in, H2_MAC, H2, inner, n);
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_HAIRPIN_NO_OWNER);
	assert_int_equal(bpf_map_lookup_elem(rig.icmp_ids, &ik, &o), 0);
	assert_owner(&o, CID2, H2, NULL);
	n = from_g(inner, G, G, P_ICMP, l4, icmp(l4, 0, 0, 0x77770001, d, sizeof(d)));
	expect_hairpin(inner, n, H1_MAC, H1, H2_MAC, H2);

	/* H2's port unreachable about H1's datagram to it: to H1 */
	qn = from_g(q, G, G, P_UDP, l4, udp(l4, H1_PORT, H2_PORT, d, 8));
	n = from_g(inner, G, G, P_ICMP, l4, icmp(l4, 3, 3, 0, q, qn));
	expect_hairpin(inner, n, H2_MAC, H2, H1_MAC, H1);

	n = from_g(inner, G, G, P_ESP, l4, esp(l4, H2_SPI, 1, 32));
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_PEER_NOT_VALIDATED);
	n = from_g(inner, G, G, P_AH, l4, ah(l4, P_UDP, UNKNOWN_SPI, d, 8));
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_SPI_UNKNOWN);
	/* ESP-in-UDP on H2's NAT-T port alike; its IKE (marker 0) passes */
	n = from_g(inner, G, G, P_UDP, l4, udp(l4, H1_NATT, H2_NATT,
					       (uint8_t[12]){ 0, 0, 0x20, 0x01, 0, 0, 0, 1 }, 12));
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_PEER_NOT_VALIDATED);
	n = from_g(inner, G, G, P_UDP, l4, udp(l4, H1_NATT, H2_NATT, (uint8_t[12]){ 0 }, 12));
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect(&in, &out, XDP_REDIRECT, XDNAT_FWD_HAIRPIN);
}

/* An ICMP error to Gi quoting our own tunnel (Gi -> Hi, IPIP): counted
 * under its own reason and left to the stack, untouched. */
static void test_int_error_about_tunnel(void **state)
{
	uint8_t outer[256], inner[128], l4[64], ic[128], pkt[256];
	struct ip4 h = { .src = H1, .dst = GI, .proto = P_ICMP, .frag = 0x4000 };
	struct ip4 t = { .src = GI, .dst = H1, .proto = P_IPIP, .frag = 0x4000 };
	struct frame in, out;
	size_t n, m;

	(void)state;
	NEED_RIG();
	n = from_g(inner, PEER, G, P_UDP, l4, udp(l4, 500, H1_PORT, "x", 1));
	n = ip4(outer, &t, inner, n);
	m = ip4(pkt, &h, ic, icmp(ic, 3, 1, 0, outer, n));
	eth(&in, INT_MAC, H1_MAC, ETH_IP);
	append(&in, pkt, m);
	int_expect(&in, &out, XDP_PASS, XDNAT_ICMP_TUNNEL_ERROR);
	assert_frame(&out, &in);
	/* frag-needed from a router of the internal network alike */
	h.src = IP4(10, 0, 0, 254);
	m = ip4(pkt, &h, ic, icmp(ic, 3, 4, 1400, outer, 28));
	eth(&in, INT_MAC, H1_MAC, ETH_IP);
	append(&in, pkt, m);
	int_expect(&in, &out, XDP_PASS, XDNAT_ICMP_TUNNEL_ERROR);
	/* an error about PAP (UDP from Gi) is the stack's like any */
	t.proto = P_UDP;
	n = ip4(outer, &t, l4, udp(l4, 4500, 4500, "p", 1));
	m = ip4(pkt, &h, ic, icmp(ic, 3, 3, 0, outer, n));
	eth(&in, INT_MAC, H1_MAC, ETH_IP);
	append(&in, pkt, m);
	int_expect(&in, &out, XDP_PASS, XDNAT_PASS_STACK);
}

/* What no_route used to hide, each provoked: forwarding off on the
 * internal NIC, a blackhole route, a locked route MTU (now frag-needed to
 * the host), a missing devmap entry. */
static void test_int_route_reasons(void **state)
{
	uint8_t inner[1024], l4[1024], d[600];
	struct frame in, out;
	uint32_t ext = (uint32_t)rig.ext_ifindex;
	size_t n;

	(void)state;
	NEED_RIG();
	memset(d, 0x33, sizeof(d));
	n = from_g(inner, G, PEER, P_UDP, l4, udp(l4, H1_PORT, 53, d, 8));
	from_host(&in, H1_MAC, H1, inner, n);

	assert_int_equal(sh("echo 0 > /proc/sys/net/ipv4/conf/" INT_DEV "/forwarding"), 0);
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_FIB_FWD_DISABLED);
	assert_int_equal(sh("echo 1 > /proc/sys/net/ipv4/conf/" INT_DEV "/forwarding"), 0);

	assert_int_equal(bpf_map_delete_elem(rig.tx, &ext), 0);
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_REDIRECT_FAILED);
	assert_int_equal(bpf_map_update_elem(rig.tx, &ext, &ext, BPF_ANY), 0);
	int_expect_decap(&in, PEER_MAC);

	assert_int_equal(sh("ip route add blackhole 192.0.2.128/25"), 0);
	n = from_g(inner, G, IP4(192, 0, 2, 129), P_UDP, l4, udp(l4, H1_PORT, 53, d, 8));
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_FIB_NO_ROUTE);
	assert_int_equal(sh("ip route del blackhole 192.0.2.128/25"), 0);

	assert_int_equal(sh("ip route add 192.0.2.64/26 via 203.0.113.10 mtu lock 576"), 0);
	n = from_g(inner, G, IP4(192, 0, 2, 65), P_UDP, l4, udp(l4, H1_PORT, 53, d, 600));
	from_host(&in, H1_MAC, H1, inner, n);
	/* no longer a drop since path MTU: DF set, frag-needed back to the host
	 * (test_int_link_mtu_frag_needed has its bytes) */
	int_expect(&in, &out, XDP_REDIRECT, XDNAT_ICMP_FRAG_TO_HOST);
	assert_int_equal(rd16(out.b + 60), 576);
	assert_int_equal(sh("ip route del 192.0.2.64/26"), 0);
}

/* The time-exceeded answers are rate-limited per CPU like the kernel's
 * icmp_ratelimit (burst 50, 1/ms): a flood of TTL-1 packets gets a
 * bounded number of answers, the rest are counted drops. The bucket starts
 * full and its refill is an hour ahead, so the count does not depend on
 * how fast the packets go (under emulation one takes over 1 ms). */
static void test_int_ttl_rate_limit(void **state)
{
	uint8_t inner[256], l4[128];
	struct counters before, after;
	struct frame in, out;
	int reason, tx = 0, act;
	size_t n;

	(void)state;
	NEED_RIG();
	n = from_g(inner, G, PEER, P_UDP, l4, udp(l4, H1_PORT, 33434, "t", 1));
	ip4_set_ttl(inner, 1);
	from_host(&in, H1_MAC, H1, inner, n);
	set_icmp_bucket(XDNAT_ICMP_RL_HOST, XDNAT_ICMP_BURST, mono_ns() + 3600ull * 1000000000ull);
	read_stats(&before);
	for (int i = 0; i < 400; i++) {
		act = xdp_run(rig.int_fd, rig.int_ifindex, &in, &out, &reason);
		tx += act == XDP_REDIRECT;
	}
	read_stats(&after);
	print_message("400 TTL-1 packets: %d answered\n", tx);
	assert_int_equal(tx, XDNAT_ICMP_BURST);
	assert_int_equal(after.packets[XDNAT_DROP_TTL_EXCEEDED] -
			 before.packets[XDNAT_DROP_TTL_EXCEEDED], (uint64_t)(400 - tx));
	assert_int_equal(after.packets[XDNAT_ICMP_TIME_EXCEEDED] -
			 before.packets[XDNAT_ICMP_TIME_EXCEEDED], (uint64_t)tx);
	/* the next tests want the bucket full again (zero: full) */
	set_icmp_bucket(XDNAT_ICMP_RL_HOST, 0, 0);
}

/* xdp.frags: gw_int attaches natively to a veth with a 9000-byte MTU; its
 * plain twin (xdnatd's fallback for kernels without frags, the only one
 * those load) is refused there, as the kernel does for any single-buffer
 * program. */
static void test_int_attach_jumbo(void **state)
{
	struct gw_int *plain;
	int ifx, err;

	(void)state;
	NEED_RIG();
	assert_int_equal(sh("ip link add xdnj0 mtu 9000 type veth peer name xdnj1 mtu 9000 && "
			    "ip link set xdnj0 up && ip link set xdnj1 up"), 0);
	ifx = (int)if_nametoindex("xdnj0");
	assert_true(ifx > 0);
	if (rig.xdp_frags) {
		assert_int_equal(bpf_xdp_attach(ifx, rig.int_fd, XDP_FLAGS_DRV_MODE, NULL), 0);
		assert_int_equal(bpf_xdp_detach(ifx, XDP_FLAGS_DRV_MODE, NULL), 0);
	} else {
		print_message("no xdp.frags in this kernel: only the plain twin, refused\n");
	}

	plain = gw_int__open();
	assert_non_null(plain);
	assert_int_equal(bpf_program__set_autoload(plain->progs.gw_int, false), 0);
	assert_int_equal(rig_share_maps(&rig, plain->obj), 0);
	assert_int_equal(gw_int__load(plain), 0);
	err = bpf_xdp_attach(ifx, bpf_program__fd(plain->progs.gw_int_plain), XDP_FLAGS_DRV_MODE,
			     NULL);
	print_message("plain xdp on a 9000-byte veth: %s\n", err ? strerror(-err) : "attached");
	assert_int_not_equal(err, 0);
	gw_int__destroy(plain);
	assert_int_equal(sh("ip link del xdnj0"), 0);
}

/* ---- gw_int: the external link's MTU ------------------------------------------------ */

/* H1's tunnelled UDP G:H1_PORT -> PEER of inner length len, frag_off frag. */
static void big_from_h1(struct frame *in, size_t len, uint16_t frag)
{
	static uint8_t inner[FRAME_MAX], l4[FRAME_MAX], d[FRAME_MAX];
	struct ip4 h = { .src = G, .dst = PEER, .proto = P_UDP, .id = 0x4444, .frag = frag };

	memset(d, 0x4e, len);
	from_host(in, H1_MAC, H1, inner,
		  ip4(inner, &h, l4, udp(l4, H1_PORT, 4500, d, len - 28)));
}

/*
 * What gw_int must send back for the too-big inner packet of in, built here
 * from the RFCs: to the host's MAC from the internal NIC's, the tunnel's
 * outer header Gi -> host (DF, id 0, TTL 64), then ICMP frag-needed from Gi
 * to G announcing mtu, quoting the inner header (as forwarded: one hop on,
 * TTL - 1) and 8 bytes.
 */
static void expect_frag_needed_host(const struct frame *in, uint32_t hi, uint16_t mtu)
{
	const uint8_t *orig = in->b + 14 + (in->b[14] & 0xf) * 4;
	size_t qlen = (orig[0] & 0xf) * 4 + 8;
	uint8_t ic[128], pkt[256], outer[320], inner[128];
	struct frame out, want;
	struct ip4 h = { .src = GI, .dst = G, .proto = P_ICMP, .frag = 0x4000 };
	struct ip4 o = { .src = GI, .dst = hi, .proto = P_IPIP, .frag = 0x4000 };
	size_t n;

	int_expect(in, &out, XDP_REDIRECT, XDNAT_ICMP_FRAG_TO_HOST);
	memcpy(inner, orig, qlen);
	ip4_set_ttl(inner, (uint8_t)(orig[8] - 1));
	n = ip4(pkt, &h, ic, icmp(ic, 3, 4, mtu, inner, qlen));
	n = ip4(outer, &o, pkt, n);
	eth(&want, in->b + 6, in->b, ETH_IP);
	append(&want, outer, n);
	assert_frame(&out, &want);
	/* every checksum verifies with the test's own function */
	assert_int_equal(inet_csum(out.b + 14, 20), 0);
	assert_int_equal(inet_csum(out.b + 34, 20), 0);
	assert_int_equal(inet_csum(out.b + 54, out.len - 54), 0);
	assert_int_equal(rd16(out.b + 60), mtu);
	assert_int_equal(out.len, 14 + 20 + 20 + 8 + 28);
}

/*
 * ext_mtu 1400: a host's DF packet of 1401 gets frag-needed (mtu 1400)
 * tunnelled back; 1400 goes out; DF clear, too big: dropped as
 * too_big_not_df (XDP cannot fragment), fitting: forwarded.
 */
static void test_int_too_big_frag_needed(void **state)
{
	struct frame in;

	(void)state;
	NEED_RIG();
	set_ext_mtu(1400);
	big_from_h1(&in, 1401, 0x4000);
	expect_frag_needed_host(&in, H1, 1400);
	big_from_h1(&in, 1400, 0x4000);
	int_expect_decap(&in, PEER_MAC);
	big_from_h1(&in, 1401, 0);
	{
		struct frame out;

		int_expect(&in, &out, XDP_DROP, XDNAT_DROP_TOO_BIG_NOT_DF);
	}
	big_from_h1(&in, 1400, 0);
	int_expect_decap(&in, PEER_MAC);
	/* unset: the old behaviour up to the NIC's 1500 */
	set_ext_mtu(0);
	big_from_h1(&in, 1401, 0x4000);
	int_expect_decap(&in, PEER_MAC);
}

static int restore_ext_mtu(void **state)
{
	(void)state;
	if (rig.ok)
		sh("ip link set dev " EXT_DEV " mtu 1500");
	return 0;
}

/* ext_mtu unset or larger than the link: the FIB's MTU (the NIC's, or a
 * route's locked mtu) is announced; what fits the cached next hop still
 * goes out. An ICMP error too big is dropped, never answered. */
static void test_int_link_mtu_frag_needed(void **state)
{
	static uint8_t inner[FRAME_MAX];
	struct frame in, out;
	size_t n;

	(void)state;
	NEED_RIG();
	assert_int_equal(sh("ip link set dev " EXT_DEV " mtu 1300"), 0);
	big_from_h1(&in, 1300, 0x4000);
	int_expect_decap(&in, PEER_MAC);
	big_from_h1(&in, 1301, 0x4000);
	expect_frag_needed_host(&in, H1, 1300);
	set_ext_mtu(1400);
	big_from_h1(&in, 1350, 0x4000);
	expect_frag_needed_host(&in, H1, 1300);
	/* a route's MTU below the NIC's: for forwarded packets the kernel (and
	 * so the FIB helper) takes it only locked, or with ip_forward_use_pmtu */
	assert_int_equal(sh("ip route add 203.0.113.10/32 dev " EXT_DEV " mtu lock 1280"), 0);
	rig_clear_nexthops(&rig);
	big_from_h1(&in, 1281, 0x4000);
	expect_frag_needed_host(&in, H1, 1280);
	assert_int_equal(sh("ip route del 203.0.113.10/32 dev " EXT_DEV), 0);
	/* the host's own ICMP error, too big: no error about an error */
	n = host_unreach(inner, H1_PORT, 1292);
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_TOO_BIG_NO_ICMP);
}

/* The hosts' bucket: N answers, then icmp_ratelimited; gw_ext's untouched. */
static void test_int_frag_needed_rate_limit(void **state)
{
	struct frame in, out;

	(void)state;
	NEED_RIG();
	set_ext_mtu(1400);
	big_from_h1(&in, 1401, 0x4000);
	set_icmp_bucket(XDNAT_ICMP_RL_HOST, 2, mono_ns() + 3600ull * 1000000000ull);
	set_icmp_bucket(XDNAT_ICMP_RL_EXT, 0, mono_ns() + 3600ull * 1000000000ull);
	expect_frag_needed_host(&in, H1, 1400);
	expect_frag_needed_host(&in, H1, 1400);
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_ICMP_RATELIMITED);
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_ICMP_RATELIMITED);
}

/*
 * Outbound ESP and AH teach xdnat_ipsec_out (peer, SPI, protocol) -> host
 * with its MAC; the same SA from another host moves the entry (the latest
 * sender gets the errors); a truncated ESP header teaches nothing.
 */
static void test_int_ipsec_out_learned(void **state)
{
	uint8_t inner[256], l4[128], d[32];
	struct xdnat_ipsec_key k;
	struct xdnat_owner o;
	struct frame in;
	size_t n;

	(void)state;
	NEED_RIG();
	memset(d, 0x3a, sizeof(d));
	memset(&k, 0, sizeof(k));
	k.peer = PEER;
	k.spi = htonl(0xc3000003);
	k.proto = P_ESP;
	set_host_mac(H1, CID1, H1_NEW_MAC);
	n = from_g(inner, G, PEER, P_ESP, l4, esp(l4, 0xc3000003, 1, 40));
	from_host(&in, H1_NEW_MAC, H1, inner, n);
	int_expect_decap(&in, PEER_MAC);
	assert_int_equal(bpf_map_lookup_elem(rig.ipsec_out, &k, &o), 0);
	assert_owner(&o, CID1, H1, H1_NEW_MAC);
	/* the same SPI as AH is another SA */
	k.proto = P_AH;
	assert_int_not_equal(bpf_map_lookup_elem(rig.ipsec_out, &k, &o), 0);
	n = from_g(inner, G, PEER, P_AH, l4, ah(l4, P_UDP, 0xc3000003, d, 16));
	from_host(&in, H2_MAC, H2, inner, n);
	int_expect_decap(&in, PEER_MAC);
	assert_int_equal(bpf_map_lookup_elem(rig.ipsec_out, &k, &o), 0);
	assert_owner(&o, CID2, H2, NULL);
	/* H2 now sends ESP on that SPI too: the entry is H2's */
	k.proto = P_ESP;
	n = from_g(inner, G, PEER, P_ESP, l4, esp(l4, 0xc3000003, 2, 40));
	from_host(&in, H2_MAC, H2, inner, n);
	int_expect_decap(&in, PEER_MAC);
	assert_int_equal(bpf_map_lookup_elem(rig.ipsec_out, &k, &o), 0);
	assert_owner(&o, CID2, H2, NULL);
	/* 4 bytes of ESP: forwarded as before, nothing learned */
	k.spi = htonl(0xc3000004);
	n = from_g(inner, G, PEER, P_ESP, l4, esp(l4, 0xc3000004, 1, 0));
	n -= 4;
	be16(inner + 2, (uint16_t)n);
	be16(inner + 10, 0);
	be16(inner + 10, inet_csum(inner, 20));
	from_host(&in, H1_NEW_MAC, H1, inner, n);
	int_expect_decap(&in, PEER_MAC);
	assert_int_not_equal(bpf_map_lookup_elem(rig.ipsec_out, &k, &o), 0);
}

/* ---- issue 13, finding 13: what a host may say through the tunnel ---------------- */

/* The ICMP error (type/code) a host sends about the quoted packet q (qn
 * bytes), to the quoted source: the inner packet G -> dst into p. */
static size_t error_about(uint8_t *p, uint8_t type, uint8_t code, const uint8_t *q, size_t qn)
{
	uint8_t ic[256];
	uint32_t dst;

	memcpy(&dst, q + 12, 4);
	return from_g(p, G, dst, P_ICMP, ic, icmp(ic, type, code, 0, q, qn));
}

/*
 * A host's ICMP error quotes a packet that was sent to it: to G, at its own
 * port, SPI (validated with the quoted source) or echo id. One about
 * another host's flow, or about a packet not sent to G, is refused
 * (icmp_quote_not_own); one whose quote names no holder is counted as
 * unchecked, never forwarded.
 */
static void test_int_icmp_error_quotes_own(void **state)
{
	struct ip4 qh = { .src = PEER, .dst = G, .proto = P_UDP, .id = 0x99, .frag = 0x4000 };
	uint8_t inner[512], q[256], l4[128], d[32];
	struct frame in, out;
	size_t n, qn;

	(void)state;
	NEED_RIG();
	memset(d, 0x13, sizeof(d));
	/* UDP to G:H1_PORT: H1's to answer, not H2's */
	qn = ip4(q, &qh, l4, udp(l4, 500, H1_PORT, d, 8));
	n = error_about(inner, 3, 3, q, qn);
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect_decap(&in, PEER_MAC);
	from_host(&in, H2_MAC, H2, inner, n);
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_ICMP_QUOTE_NOT_OWN);
	/* time exceeded and parameter problem alike, TCP too */
	qh.proto = P_TCP;
	qn = ip4(q, &qh, l4, tcp(l4, 443, H2_PORT));
	n = error_about(inner, 11, 0, q, qn);
	from_host(&in, H2_MAC, H2, inner, n);
	int_expect_decap(&in, PEER_MAC);
	n = error_about(inner, 12, 0, q, qn);
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_ICMP_QUOTE_NOT_OWN);
	/* a port nobody holds, a packet not to G */
	qn = ip4(q, &qh, l4, tcp(l4, 443, 31000));
	n = error_about(inner, 3, 3, q, qn);
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_ICMP_QUOTE_NOT_OWN);
	qh.dst = ATTACKER;
	qn = ip4(q, &qh, l4, tcp(l4, 443, H1_PORT));
	n = error_about(inner, 3, 3, q, qn);
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_ICMP_QUOTE_NOT_OWN);
	qh.dst = G;
	/* ESP and AH by the SA: H1's SPI validated with PEER */
	qh.proto = P_ESP;
	qn = ip4(q, &qh, l4, esp(l4, H1_SPI, 9, 16));
	n = error_about(inner, 3, 1, q, qn);
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect_decap(&in, PEER_MAC);
	from_host(&in, H2_MAC, H2, inner, n);
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_ICMP_QUOTE_NOT_OWN);
	qh.proto = P_AH;
	qn = ip4(q, &qh, l4, ah(l4, P_UDP, H2_SPI, d, 8));
	n = error_about(inner, 3, 1, q, qn);
	from_host(&in, H2_MAC, H2, inner, n);
	int_expect_decap(&in, PEER_MAC);
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_ICMP_QUOTE_NOT_OWN);
	/* an echo reply to H1's request: H1's id */
	n = from_g(inner, G, PEER, P_ICMP, l4, icmp(l4, 8, 0, 0x61610001, d, 8));
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect_decap(&in, PEER_MAC);
	qh.proto = P_ICMP;
	qn = ip4(q, &qh, l4, icmp(l4, 0, 0, 0x61610001, d, 8));
	n = error_about(inner, 3, 4, q, qn);
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect_decap(&in, PEER_MAC);
	from_host(&in, H2_MAC, H2, inner, n);
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_ICMP_QUOTE_NOT_OWN);
	/* unchecked: an echo request quoted (none is ever sent to a host),
	 * a protocol nobody holds, a non-first fragment, a short quote */
	qn = ip4(q, &qh, l4, icmp(l4, 8, 0, 0x61610001, d, 8));
	n = error_about(inner, 3, 4, q, qn);
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_ICMP_QUOTE_UNCHECKED);
	qh.proto = P_GRE;
	qn = ip4(q, &qh, d, 8);
	n = error_about(inner, 3, 2, q, qn);
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_ICMP_QUOTE_UNCHECKED);
	qh.proto = P_UDP;
	qh.frag = 0x2000 | 4;
	qn = ip4(q, &qh, l4, udp(l4, 500, H1_PORT, d, 8));
	n = error_about(inner, 11, 1, q, qn);
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_ICMP_QUOTE_UNCHECKED);
	qh.frag = 0x4000;
	qn = ip4(q, &qh, l4, udp(l4, 500, H1_PORT, d, 8));
	n = error_about(inner, 3, 3, q, 24);
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_ICMP_QUOTE_UNCHECKED);
	/* other ICMP (an echo reply, a timestamp) quotes nothing: as before */
	n = from_g(inner, G, PEER, P_ICMP, l4, icmp(l4, 14, 0, 0x1, d, 12));
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect_decap(&in, PEER_MAC);
}

/* H1's UDP datagram G:H1_PORT -> dst, id, in two fragments (MF | offset
 * 0, then offset 5), from the host at mac/hi: the inner packets. */
static size_t host_fragment(uint8_t *p, uint32_t dst, uint16_t id, uint16_t frag,
			    uint16_t sport, uint16_t dport)
{
	struct ip4 h = { .src = G, .dst = dst, .proto = P_UDP, .id = id, .frag = frag };
	uint8_t l4[128], d[64];

	memset(d, 0x16, sizeof(d));
	if (frag & 0x1fff)
		return ip4(p, &h, d, 40);
	return ip4(p, &h, l4, udp(l4, sport, dport, d, 32));
}

/*
 * Non-first fragments from a host carry no port: gw_int learns the
 * datagram's owner from its first fragment (keyed by Hi: G is all hosts'
 * source) and checks the rest against it, as gw_ext does inbound; what has
 * no checked first fragment is frag_unknown.
 */
static void test_int_fragments_checked(void **state)
{
	uint8_t inner[256];
	struct xdnat_frag_key fk;
	struct xdnat_frag f;
	struct frame in, out;
	size_t n;

	(void)state;
	NEED_RIG();
	/* a tail with no first fragment */
	n = host_fragment(inner, PEER, 0x111, 5, 0, 0);
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_FRAG_UNKNOWN);
	/* H1's datagram: first (learned), then its tail */
	n = host_fragment(inner, PEER, 0x111, 0x2000, H1_PORT, 500);
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect_decap(&in, PEER_MAC);
	frag_key_of(&fk, H1, PEER, 0x111, P_UDP);
	assert_int_equal(bpf_map_lookup_elem(rig.frags, &fk, &f), 0);
	assert_owner(&f.owner, CID1, H1, NULL);
	n = host_fragment(inner, PEER, 0x111, 5, 0, 0);
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect_decap(&in, PEER_MAC);
	/* H2 cannot send a tail of it (nor of a datagram of its own it never
	 * began), to that peer or another */
	from_host(&in, H2_MAC, H2, inner, n);
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_FRAG_UNKNOWN);
	n = host_fragment(inner, ATTACKER, 0x111, 5, 0, 0);
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_FRAG_UNKNOWN);
	/* a first fragment from another host's port teaches nothing */
	n = host_fragment(inner, PEER, 0x222, 0x2000, H2_PORT, 500);
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_SPOOFED_SOURCE);
	n = host_fragment(inner, PEER, 0x222, 5, 0, 0);
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_FRAG_UNKNOWN);
	/* an entry of another registration at H1's address holds nothing */
	f.owner.client_id = 77;
	assert_int_equal(bpf_map_update_elem(rig.frags, &fk, &f, BPF_EXIST), 0);
	n = host_fragment(inner, PEER, 0x111, 5, 0, 0);
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_SPOOFED_SOURCE);
}

/* Hairpinned fragments: the first one names the holder, the rest follow it,
 * keyed by the sender's Hi; another host's tail is unknown. */
static void test_int_hairpin_fragments(void **state)
{
	uint8_t inner[256];
	struct frame in, out;
	size_t n;

	(void)state;
	NEED_RIG();
	n = host_fragment(inner, G, 0x333, 0x2000, H1_PORT, H2_PORT);
	expect_hairpin(inner, n, H1_MAC, H1, H2_MAC, H2);
	n = host_fragment(inner, G, 0x333, 5, 0, 0);
	expect_hairpin(inner, n, H1_MAC, H1, H2_MAC, H2);
	from_host(&in, H2_MAC, H2, inner, n);
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_FRAG_UNKNOWN);
}

/*
 * The frame's source MAC must be the host's, as xdnatd resolved it (in
 * xdnat_hosts and every port value): a LAN neighbour sending a tunnel with
 * a host's address from its own MAC is dropped on the fast path and the
 * full one. A host whose MAC is not resolved yet is checked by address
 * alone (docs/security.md).
 */
static void test_int_source_mac(void **state)
{
	uint8_t inner[256], l4[128], d[32];
	struct frame in, out;
	size_t n;

	(void)state;
	NEED_RIG();
	memset(d, 0x31, sizeof(d));
	set_host_mac(H1, CID1, H1_MAC);
	/* the fast path (UDP from a held port) and the full one (ICMP echo) */
	n = from_g(inner, G, PEER, P_UDP, l4, udp(l4, H1_PORT, 500, d, 8));
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect_decap(&in, PEER_MAC);
	from_host(&in, ATK_MAC, H1, inner, n);
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_HOST_MAC_MISMATCH);
	from_host(&in, H2_MAC, H1, inner, n);
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_HOST_MAC_MISMATCH);
	n = from_g(inner, G, PEER, P_ICMP, l4, icmp(l4, 8, 0, 0x31310001, d, 8));
	from_host(&in, ATK_MAC, H1, inner, n);
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_HOST_MAC_MISMATCH);
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect_decap(&in, PEER_MAC);
	/* H2 not resolved: its address is all there is to check */
	n = from_g(inner, G, PEER, P_UDP, l4, udp(l4, H2_PORT, 500, d, 8));
	from_host(&in, ATK_MAC, H2, inner, n);
	int_expect_decap(&in, PEER_MAC);
	/* resolved, and the MAC changes: the new one only */
	set_host_mac(H2, CID2, H1_NEW_MAC);
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_HOST_MAC_MISMATCH);
	from_host(&in, H1_NEW_MAC, H2, inner, n);
	int_expect_decap(&in, PEER_MAC);
}

/*
 * Finding 16: an echo id learned by a host that has gone (its xdnat_hosts
 * entry removed, or the address another registration's) holds nothing: a
 * later host may use it, and the replies follow that host.
 */
static void test_int_echo_id_freed_with_host(void **state)
{
	struct xdnat_icmp_key ik = { .peer = PEER, .id = htons(0x5656) };
	uint8_t inner[128], ic[64];
	struct xdnat_owner o;
	struct frame in, out, rep;
	size_t n;

	(void)state;
	NEED_RIG();
	n = from_g(inner, G, PEER, P_ICMP, ic, icmp(ic, 8, 0, 0x56560001, "ping", 4));
	from_host(&in, H2_MAC, H2, inner, n);
	int_expect_decap(&in, PEER_MAC);
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect(&in, &out, XDP_DROP, XDNAT_DROP_SPOOFED_SOURCE);
	/* H2 leaves; the map sync removes its xdnat_hosts entry */
	assert_int_equal(bpf_map_delete_elem(rig.hosts, &(uint32_t){ H2 }), 0);
	int_expect_decap(&in, PEER_MAC);
	assert_int_equal(bpf_map_lookup_elem(rig.icmp_ids, &ik, &o), 0);
	assert_owner(&o, CID1, H1, NULL);
	to_g(&rep, PEER, P_ICMP, ic, icmp(ic, 0, 0, 0x56560001, "ping", 4));
	expect_to_host(&rep, H1_MAC, H1);
	/* a new registration at an address is another host too */
	set_host(H2, CID2);
	n = from_g(inner, G, PEER, P_ICMP, ic, icmp(ic, 8, 0, 0x57570001, "ping", 4));
	from_host(&in, H2_MAC, H2, inner, n);
	int_expect_decap(&in, PEER_MAC);
	set_host(H2, 9);
	from_host(&in, H2_MAC, H2, inner, n);
	int_expect_decap(&in, PEER_MAC);
	assert_int_equal(bpf_map_lookup_elem(rig.icmp_ids,
					     &(struct xdnat_icmp_key){ .peer = PEER,
								       .id = htons(0x5757) },
					     &o), 0);
	assert_owner(&o, 9, H2, NULL);
}

/* ---- next hops without a neighbour entry ---------------------------------------- */

#define NH_SEEN_MAX	16

struct nh_seen {
	struct xdnat_nh_event ev[NH_SEEN_MAX];
	size_t n;
};

static int on_nh_event(void *ctx, void *data, size_t len)
{
	struct nh_seen *s = ctx;

	assert_int_equal(len, sizeof(struct xdnat_nh_event));
	if (s->n < NH_SEEN_MAX)
		memcpy(&s->ev[s->n], data, sizeof(s->ev[0]));
	s->n++;
	return 0;
}

/* The events gw_int left in xdnat_nh_events since the last call. */
static size_t drain_nh_events(struct nh_seen *s)
{
	struct ring_buffer *rb = ring_buffer__new(bpf_map__fd(rig.in->maps.xdnat_nh_events),
						  on_nh_event, s, NULL);

	assert_non_null(rb);
	s->n = 0;
	assert_true(ring_buffer__consume(rb) >= 0);
	ring_buffer__free(rb);
	return s->n;
}

static uint64_t unresolved_count(void)
{
	struct counters c;

	assert_int_equal(rig_read_stats(&rig, &c), 0);
	return c.packets[XDNAT_DROP_NEXTHOP_UNRESOLVED];
}

/* repeat runs of gw_int on in, all dropped as nexthop_unresolved; the
 * events they left */
static size_t run_unresolved(const struct frame *in, uint32_t repeat, struct nh_seen *s)
{
	uint64_t before = unresolved_count();
	struct frame out;
	uint32_t len;

	assert_int_equal(rig_run(rig.int_fd, rig.int_ifindex, in->b, (uint32_t)in->len, out.b,
				 sizeof(out.b), &len, repeat, NULL), XDP_DROP);
	assert_int_equal(unresolved_count() - before, repeat);
	return drain_nh_events(s);
}

/*
 * The FIB has the route but no neighbour for its next hop: dropped as
 * nexthop_unresolved, and xdnatd told which next hop (the route's gateway,
 * or an on-link destination itself) on which NIC, at most once per slot
 * per XDNAT_NH_EVENT_GAP_NS on a CPU; resolved, the packet goes. One CPU:
 * the rate limit is per CPU.
 */
static void test_int_nexthop_unresolved(void **state)
{
	const uint32_t router = IP4(203, 0, 113, 254), onlink = IP4(203, 0, 113, 77);
	uint8_t inner[256], l4[128];
	struct nh_seen seen;
	struct frame in, routed, beside;
	size_t n;

	(void)state;
	NEED_RIG();
	drain_nh_events(&seen);
	assert_int_equal(sh("ip route replace 198.18.0.0/24 via 203.0.113.254 dev " EXT_DEV), 0);
	n = from_g(inner, G, IP4(198, 18, 0, 7), P_UDP, l4, udp(l4, H1_PORT, 53, "x", 1));
	from_host(&routed, H1_MAC, H1, inner, n);
	n = from_g(inner, G, onlink, P_UDP, l4, udp(l4, H1_PORT, 53, "y", 1));
	from_host(&beside, H1_MAC, H1, inner, n);

	/* a flood towards the router's network: every packet counted, one event */
	assert_int_equal(run_unresolved(&routed, 50, &seen), 1);
	assert_int_equal(seen.ev[0].addr, router);
	assert_int_equal(seen.ev[0].ifindex, rig.ext_ifindex);
	/* on-link: the destination is the next hop */
	assert_int_equal(run_unresolved(&beside, 1, &seen), 1);
	assert_int_equal(seen.ev[0].addr, onlink);
	assert_int_equal(seen.ev[0].ifindex, rig.ext_ifindex);
	/* the gap over (at least 2x it: only the lower bound matters), again */
	usleep(2 * XDNAT_NH_EVENT_GAP_NS / 1000);
	assert_int_equal(run_unresolved(&routed, 3, &seen), 1);
	assert_int_equal(seen.ev[0].addr, router);

	/* resolved (as xdnatd has the kernel do it): forwarded to its MAC */
	assert_int_equal(sh("ip neigh replace 203.0.113.254 lladdr %02x:%02x:%02x:%02x:%02x:%02x "
			    "dev " EXT_DEV " nud reachable", PEER_MAC[0], PEER_MAC[1], PEER_MAC[2],
			    PEER_MAC[3], PEER_MAC[4], PEER_MAC[5]), 0);
	in = routed;
	int_expect_decap(&in, PEER_MAC);
	assert_int_equal(drain_nh_events(&seen), 0);
	/* no route at all is fib_no_route, and no event */
	n = from_g(inner, G, IP4(192, 0, 2, 1), P_UDP, l4, udp(l4, H1_PORT, 53, "z", 1));
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect(&in, &beside, XDP_DROP, XDNAT_DROP_FIB_NO_ROUTE);
	assert_int_equal(drain_nh_events(&seen), 0);
	assert_int_equal(sh("ip route del 198.18.0.0/24 && ip neigh del 203.0.113.254 dev "
			    EXT_DEV), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_int_echo_id_learns_mac, world),
		cmocka_unit_test_setup(test_int_decap, world),
		cmocka_unit_test_setup(test_int_spoofed_port, world),
		cmocka_unit_test_setup(test_int_spoofed_inner_source, world),
		cmocka_unit_test_setup(test_int_unknown_host, world),
		cmocka_unit_test_setup(test_int_not_tunnel_passes, world),
		cmocka_unit_test_setup(test_int_echo_id_of_other_host, world),
		cmocka_unit_test_setup(test_int_unsupported_and_malformed, world),
		cmocka_unit_test_setup(test_int_truncated_every_layer, world),
		cmocka_unit_test_setup(test_int_outer_options_and_fragments, world),
		cmocka_unit_test_setup(test_int_no_route, world),
		cmocka_unit_test_setup(test_int_too_big_frag_needed, world),
		cmocka_unit_test_setup_teardown(test_int_link_mtu_frag_needed, world,
						restore_ext_mtu),
		cmocka_unit_test_setup(test_int_frag_needed_rate_limit, world),
		cmocka_unit_test_setup(test_int_ipsec_out_learned, world),
		cmocka_unit_test_setup_teardown(test_int_nexthop_cache, world_on_one_cpu,
						all_cpus_again),
		cmocka_unit_test_setup(test_int_ecn, world),
		cmocka_unit_test_setup(test_int_ttl, world),
		cmocka_unit_test_setup(test_int_hairpin_by_port, world),
		cmocka_unit_test_setup(test_int_hairpin_icmp_and_ipsec, world),
		cmocka_unit_test_setup(test_int_icmp_error_quotes_own, world),
		cmocka_unit_test_setup(test_int_fragments_checked, world),
		cmocka_unit_test_setup(test_int_hairpin_fragments, world),
		cmocka_unit_test_setup(test_int_source_mac, world),
		cmocka_unit_test_setup(test_int_echo_id_freed_with_host, world),
		cmocka_unit_test_setup(test_int_error_about_tunnel, world),
		cmocka_unit_test_setup(test_int_route_reasons, world),
		cmocka_unit_test_setup_teardown(test_int_ttl_rate_limit, world_on_one_cpu,
						all_cpus_again),
		cmocka_unit_test_setup(test_int_attach_jumbo, world),
		cmocka_unit_test_setup_teardown(test_int_nexthop_unresolved, world_on_one_cpu,
						all_cpus_again),
	};

	return cmocka_run_group_tests_name("bpf_gw_int", tests, group_setup, group_teardown);
}
