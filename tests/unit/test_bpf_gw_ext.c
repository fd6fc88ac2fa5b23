/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * gw_ext, the external NIC's XDP program, run by the kernel with
 * BPF_PROG_TEST_RUN: crafted frames to G in, verdict, exact bytes out and
 * the counter of the reason checked for every path (IPsec, NAT-T, TCP/UDP,
 * ICMP, MTU, fragments, malformed frames, the next hop in owner values).
 * The rig and the shared checks: tests/lib/test_bpf_gw.h.
 */
#include "test_bpf_gw.h"

/* ---- gw_ext: IPsec ---------------------------------------------------------- */

static void test_ext_esp_validated(void **state)
{
	uint8_t p[256];
	struct frame in;

	(void)state;
	NEED_RIG();
	to_g(&in, PEER, P_ESP, p, esp(p, H1_SPI, 7, 64));
	expect_to_host(&in, H1_MAC, H1);
	to_g(&in, PEER, P_ESP, p, esp(p, H2_SPI, 8, 33));
	expect_to_host(&in, H2_MAC, H2);
}

static void test_ext_ah_validated(void **state)
{
	uint8_t p[256], d[64];
	struct frame in;

	(void)state;
	NEED_RIG();
	memset(d, 0x3c, sizeof(d));
	to_g(&in, PEER, P_AH, p, ah(p, P_UDP, H2_SPI, d, sizeof(d)));
	expect_to_host(&in, H2_MAC, H2);
}

static void test_ext_ipsec_peer_not_validated(void **state)
{
	uint8_t p[256], d[32];
	struct frame in;

	(void)state;
	NEED_RIG();
	memset(d, 0, sizeof(d));
	/* allocated SPI, validated for PEER, but from the attacker */
	to_g(&in, ATTACKER, P_ESP, p, esp(p, H1_SPI, 1, 32));
	ext_expect_drop(&in, XDNAT_DROP_PEER_NOT_VALIDATED);
	to_g(&in, ATTACKER, P_AH, p, ah(p, P_TCP, H1_SPI, d, sizeof(d)));
	ext_expect_drop(&in, XDNAT_DROP_PEER_NOT_VALIDATED);
	/* allocated (in H1's block) but no SA at all yet */
	to_g(&in, PEER, P_ESP, p, esp(p, H1_SPI_BLOCK + 0xfe, 1, 32));
	ext_expect_drop(&in, XDNAT_DROP_PEER_NOT_VALIDATED);
}

static void test_ext_ipsec_spi_unknown(void **state)
{
	uint8_t p[256], d[32];
	struct frame in;

	(void)state;
	NEED_RIG();
	memset(d, 0, sizeof(d));
	to_g(&in, PEER, P_ESP, p, esp(p, UNKNOWN_SPI, 1, 32));
	ext_expect_drop(&in, XDNAT_DROP_SPI_UNKNOWN);
	to_g(&in, PEER, P_AH, p, ah(p, P_UDP, UNKNOWN_SPI, d, sizeof(d)));
	ext_expect_drop(&in, XDNAT_DROP_SPI_UNKNOWN);
	/* just past H1's /24 block */
	to_g(&in, PEER, P_ESP, p, esp(p, H1_SPI_BLOCK + 0x100, 1, 32));
	ext_expect_drop(&in, XDNAT_DROP_SPI_UNKNOWN);
}

/* Entries in xdnat_spiblk. */
static unsigned int spiblk_entries(void)
{
	struct xdnat_spiblk_key k, next;
	unsigned int n = 0;
	void *prev = NULL;

	while (!bpf_map_get_next_key(rig.spiblk, prev, &next)) {
		k = next;
		prev = &k;
		n++;
	}
	return n;
}

/* xdnat_spiblk holds one entry per granule of a block: exactly the block's
 * SPIs name peer_not_validated, its neighbours spi_unknown. */
static void test_ext_spi_block_granules(void **state)
{
	static const struct { uint32_t spi; enum xdnat_reason why; } cases[] = {
		{ 0x5000, XDNAT_DROP_PEER_NOT_VALIDATED },	/* first of the block */
		{ 0x5007, XDNAT_DROP_PEER_NOT_VALIDATED },
		{ 0x500f, XDNAT_DROP_PEER_NOT_VALIDATED },	/* last */
		{ 0x4fff, XDNAT_DROP_SPI_UNKNOWN },
		{ 0x5010, XDNAT_DROP_SPI_UNKNOWN },
		{ 0x6000, XDNAT_DROP_PEER_NOT_VALIDATED },	/* a 64-block: 4 granules */
		{ 0x6031, XDNAT_DROP_PEER_NOT_VALIDATED },
		{ 0x603f, XDNAT_DROP_PEER_NOT_VALIDATED },
		{ 0x6040, XDNAT_DROP_SPI_UNKNOWN },
		{ H1_SPI_BLOCK + SPI_BLOCK_SIZE - 1, XDNAT_DROP_PEER_NOT_VALIDATED },
		{ 0xfffffff0u, XDNAT_DROP_SPI_UNKNOWN },
	};
	uint8_t p[128];
	struct frame in;
	size_t i;

	(void)state;
	NEED_RIG();
	/* the world's two blocks of 256 */
	assert_int_equal(spiblk_entries(), 2 * SPI_BLOCK_SIZE / XDNAT_SPI_GRANULE);
	assert_int_equal(rig_set_spiblk(&rig, 0x5000, XDNAT_SPI_GRANULE, 5, H2), 0);
	assert_int_equal(rig_set_spiblk(&rig, 0x6000, 64, 6, H2), 0);
	assert_int_equal(spiblk_entries(), 2 * SPI_BLOCK_SIZE / XDNAT_SPI_GRANULE + 1 + 4);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		to_g(&in, PEER, P_ESP, p, esp(p, cases[i].spi, 1, 32));
		ext_expect_drop(&in, cases[i].why);
	}
}

/* ---- gw_ext: ESP-in-UDP on a NAT-T port (RFC 3948) -------------------------- */

static void natt_frame(struct frame *in, uint32_t src, uint16_t dport,
		       const void *pay, size_t n)
{
	uint8_t u[512];

	to_g(in, src, P_UDP, u, udp(u, 4500, dport, pay, n));
}

static void test_ext_natt_esp(void **state)
{
	uint8_t e[128];
	struct frame in;
	size_t n;

	(void)state;
	NEED_RIG();
	n = esp(e, H1_SPI, 3, 40);
	natt_frame(&in, PEER, H1_NATT, e, n);
	expect_to_host(&in, H1_MAC, H1);
	/* the same SPI from a peer H1 did not validate */
	natt_frame(&in, ATTACKER, H1_NATT, e, n);
	ext_expect_drop(&in, XDNAT_DROP_PEER_NOT_VALIDATED);
	/* an SPI nobody holds */
	n = esp(e, UNKNOWN_SPI, 3, 40);
	natt_frame(&in, PEER, H1_NATT, e, n);
	ext_expect_drop(&in, XDNAT_DROP_SPI_UNKNOWN);
	/* H2's validated SA must not come in through H1's port */
	n = esp(e, H2_SPI, 3, 40);
	natt_frame(&in, PEER, H1_NATT, e, n);
	ext_expect_drop(&in, XDNAT_DROP_SPI_UNKNOWN);
	/* on a plain (non-NAT-T) port the payload is not looked at */
	natt_frame(&in, ATTACKER, H1_PORT, e, n);
	expect_to_host(&in, H1_MAC, H1);
}

static void test_ext_natt_ike_marker(void **state)
{
	uint8_t ike[36];
	struct frame in;

	(void)state;
	NEED_RIG();
	memset(ike, 0x11, sizeof(ike));
	memset(ike, 0, 4);		/* non-ESP marker */
	natt_frame(&in, PEER, H2_NATT, ike, sizeof(ike));
	expect_to_host(&in, H2_MAC, H2);
	/* IKE from anyone reaches the port's holder: IKE authenticates */
	natt_frame(&in, ATTACKER, H2_NATT, ike, sizeof(ike));
	expect_to_host(&in, H2_MAC, H2);
}

static void test_ext_natt_keepalive(void **state)
{
	const uint8_t ka = 0xff;
	struct frame in;

	(void)state;
	NEED_RIG();
	natt_frame(&in, PEER, H1_NATT, &ka, 1);
	expect_to_host(&in, H1_MAC, H1);
	/* padded to Ethernet's minimum: lengths come from the headers */
	memset(in.b + in.len, 0, 60 - in.len);
	in.len = 60;
	expect_to_host(&in, H1_MAC, H1);
}

/* ---- gw_ext: TCP, UDP ------------------------------------------------------- */

static void test_ext_tcp_udp_by_port(void **state)
{
	uint8_t l4[256], d[100];
	struct frame in;

	(void)state;
	NEED_RIG();
	memset(d, 0x42, sizeof(d));
	to_g(&in, PEER, P_TCP, l4, tcp(l4, 443, H2_PORT));
	expect_to_host(&in, H2_MAC, H2);
	to_g(&in, ATTACKER, P_UDP, l4, udp(l4, 53, H1_PORT, d, sizeof(d)));
	expect_to_host(&in, H1_MAC, H1);
	/* ports are one table for TCP and UDP */
	to_g(&in, PEER, P_UDP, l4, udp(l4, 53, H2_PORT, d, 3));
	expect_to_host(&in, H2_MAC, H2);
}

static void test_ext_unowned_port_passes(void **state)
{
	uint8_t l4[256], d[16];
	struct frame in;

	(void)state;
	NEED_RIG();
	memset(d, 1, sizeof(d));
	/* the gateway's own service (e.g. its IKE or SSH) */
	to_g(&in, PEER, P_UDP, l4, udp(l4, 500, 500, d, sizeof(d)));
	ext_expect_pass(&in);
	to_g(&in, PEER, P_TCP, l4, tcp(l4, 40000, 22));
	ext_expect_pass(&in);
	/* a protocol no host can hold */
	to_g(&in, PEER, P_GRE, d, sizeof(d));
	ext_expect_pass(&in);
}

/* ---- gw_ext: ICMP --------------------------------------------------------------- */

static void test_ext_echo_reply_after_request(void **state)
{
	uint8_t ic[64], inner[128], d[24];
	struct frame in, out;
	size_t n;

	(void)state;
	NEED_RIG();
	memset(d, 0x61, sizeof(d));
	/* H1 pings PEER (id 0x1234) through the tunnel: gw_int learns the id */
	n = from_g(inner, G, PEER, P_ICMP, ic, icmp(ic, 8, 0, 0x12340001, d, sizeof(d)));
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect_decap(&in, PEER_MAC);

	to_g(&in, PEER, P_ICMP, ic, icmp(ic, 0, 0, 0x12340001, d, sizeof(d)));
	expect_to_host(&in, H1_MAC, H1);
	/* same id from another peer, or another id: not H1's */
	to_g(&in, ATTACKER, P_ICMP, ic, icmp(ic, 0, 0, 0x12340001, d, sizeof(d)));
	ext_expect_pass(&in);
	to_g(&in, PEER, P_ICMP, ic, icmp(ic, 0, 0, 0x43210001, d, sizeof(d)));
	ext_expect_pass(&in);
	/* echo requests to G are the gateway's to answer */
	to_g(&in, PEER, P_ICMP, ic, icmp(ic, 8, 0, 0x12340001, d, sizeof(d)));
	ext_expect(&in, &out, XDP_PASS, XDNAT_PASS_STACK);
}

/* ICMP error from a router about a packet G sent (quoted header + 8). */
static void icmp_error(struct frame *in, uint8_t type, uint8_t code, uint32_t rest,
		       const uint8_t *quoted_pkt)
{
	uint8_t ic[128];
	size_t ql = (quoted_pkt[0] & 0xf) * 4 + 8;

	to_g(in, PEER, P_ICMP, ic, icmp(ic, type, code, rest, quoted_pkt, ql));
}

static void test_ext_icmp_errors_by_quote(void **state)
{
	uint8_t l4[64], q[256], d[40];
	struct frame in;

	(void)state;
	NEED_RIG();
	memset(d, 7, sizeof(d));
	/* frag-needed for H1's UDP G:20000 -> PEER:500: to H1 */
	from_g(q, G, PEER, P_UDP, l4, udp(l4, H1_PORT, 500, d, sizeof(d)));
	icmp_error(&in, 3, 4, 1400, q);
	expect_to_host(&in, H1_MAC, H1);
	/* port unreachable for H2's TCP: to H2 */
	from_g(q, G, PEER, P_TCP, l4, tcp(l4, H2_PORT, 80));
	icmp_error(&in, 3, 3, 0, q);
	expect_to_host(&in, H2_MAC, H2);
	/* parameter problem quoting an unowned port: the stack's */
	from_g(q, G, PEER, P_UDP, l4, udp(l4, 33333, 500, d, sizeof(d)));
	icmp_error(&in, 12, 0, 0, q);
	ext_expect_pass(&in);
	/* a quoted header with options (ihl 7): the port is after them */
	{
		static const uint8_t opt[8] = { 0x94, 0x04, 0, 0, 0x01, 0x01, 0x01, 0x00 };
		struct ip4 h = { .src = G, .dst = PEER, .proto = P_UDP, .frag = 0x4000,
				 .opt = opt, .optlen = sizeof(opt) };

		ip4(q, &h, l4, udp(l4, H2_PORT, 4500, d, 12));
		assert_int_equal(q[0], 0x47);
		icmp_error(&in, 3, 4, 1300, q);
		expect_to_host(&in, H2_MAC, H2);
		/* the same quote cut inside the 8 bytes after its options */
		to_g(&in, PEER, P_ICMP, l4, icmp(l4, 3, 4, 1300, q, 28 + 4));
		ext_expect_pass(&in);
	}
	/* a quote whose source is not G: the stack's */
	from_g(q, IP4(198, 51, 100, 7), PEER, P_UDP, l4, udp(l4, H1_PORT, 500, d, 4));
	icmp_error(&in, 3, 4, 1400, q);
	ext_expect_pass(&in);
}

static void test_ext_time_exceeded_quoting_echo(void **state)
{
	uint8_t ic[64], inner[128], q[128], d[8];
	struct frame in, out;
	size_t n;

	(void)state;
	NEED_RIG();
	memset(d, 0, sizeof(d));
	/* H2 traceroutes PEER with ICMP: gw_int learns (PEER, 0x0777) */
	n = from_g(inner, G, PEER, P_ICMP, ic, icmp(ic, 8, 0, 0x07770003, d, sizeof(d)));
	from_host(&in, H2_MAC, H2, inner, n);
	int_expect(&in, &out, XDP_REDIRECT, XDNAT_FWD_TO_EXT);
	/* a router on the way answers time exceeded, quoting the request */
	memcpy(q, inner, n);
	icmp_error(&in, 11, 0, 0, q);
	expect_to_host(&in, H2_MAC, H2);
	/* quoting a request id nobody learned */
	from_g(q, G, PEER, P_ICMP, ic, icmp(ic, 8, 0, 0x07780003, d, sizeof(d)));
	icmp_error(&in, 11, 0, 0, q);
	ext_expect_pass(&in);
}

/* ---- gw_ext: MTU ---------------------------------------------------------------- */

/*
 * The frag-needed gw_ext must answer a too-big frame with, built here from
 * the RFCs: from G to the sender, back to its MAC, quoting the received IP
 * header and the first 8 bytes of its payload, next-hop MTU mtu.
 */
static void expect_frag_needed(const struct frame *in, struct frame *out, uint16_t mtu)
{
	const uint8_t *orig = in->b + 14;
	size_t qlen = (orig[0] & 0xf) * 4 + 8;
	uint8_t ic[128], pkt[256];
	struct frame want;
	struct ip4 h;
	uint32_t src;
	size_t n;

	ext_expect(in, out, XDP_REDIRECT, XDNAT_ICMP_FRAG_NEEDED);

	memcpy(&src, orig + 12, 4);
	memset(&h, 0, sizeof(h));
	h.src = G;
	h.dst = src;
	h.proto = P_ICMP;
	h.frag = 0x4000;
	h.id = 0;
	n = ip4(pkt, &h, ic, icmp(ic, 3, 4, mtu, orig, qlen));	/* ttl 64 */
	eth(&want, in->b + 6, in->b, ETH_IP);
	append(&want, pkt, n);
	assert_frame(out, &want);
	/* both checksums verify with the test's own function */
	assert_int_equal(inet_csum(out->b + 14, 20), 0);
	assert_int_equal(inet_csum(out->b + 34, out->len - 34), 0);
	assert_int_equal(out->b[34], 3);
	assert_int_equal(out->b[35], 4);
	assert_int_equal(rd16(out->b + 40), mtu);
}

static void test_ext_too_big_frag_needed(void **state)
{
	static uint8_t l4[FRAME_MAX], d[FRAME_MAX];
	struct frame in, out;

	(void)state;
	NEED_RIG();
	memset(d, 0x77, sizeof(d));
	/* 1481 + 20 > int_mtu 1500 */
	to_g(&in, PEER, P_UDP, l4, udp(l4, 500, H1_PORT, d, 1481 - 28));
	assert_int_equal(in.len, 14 + 1481);
	expect_frag_needed(&in, &out, 1480);
	/* 1480 + 20 fits exactly */
	to_g(&in, PEER, P_UDP, l4, udp(l4, 500, H1_PORT, d, 1480 - 28));
	expect_to_host(&in, H1_MAC, H1);
	/* ESP from a validated peer: the sender must lower its MTU too */
	to_g(&in, PEER, P_ESP, l4, esp(l4, H1_SPI, 9, 2000));
	expect_frag_needed(&in, &out, 1480);
	/* a smaller configured tunnel MTU is what is announced */
	set_cfg(1280, XDNAT_CFG_ENABLED);
	tcp(l4, 443, H2_PORT);
	memset(l4 + 20, 0, 1300);
	to_g(&in, ATTACKER, P_TCP, l4, 20 + 1300);
	expect_frag_needed(&in, &out, 1260);
}

static int restore_int_mtu(void **state)
{
	(void)state;
	if (rig.ok)
		sh("ip link set dev " INT_DEV " mtu 1500");
	return 0;
}

/* int_mtu larger than the internal link really carries: the FIB's MTU wins. */
static void test_ext_link_mtu_frag_needed(void **state)
{
	static uint8_t l4[FRAME_MAX], d[FRAME_MAX];
	struct frame in, out;

	(void)state;
	NEED_RIG();
	assert_int_equal(sh("ip link set dev " INT_DEV " mtu 1400"), 0);
	memset(d, 0x11, sizeof(d));
	to_g(&in, PEER, P_UDP, l4, udp(l4, 500, H1_PORT, d, 1400 - 28));
	expect_frag_needed(&in, &out, 1380);
	to_g(&in, PEER, P_UDP, l4, udp(l4, 500, H1_PORT, d, 1380 - 28));
	expect_to_host(&in, H1_MAC, H1);
}

/* An oversized (1481-byte) UDP packet to H1's port from src with frag_off
 * frag (flags | offset), id 0x3333. */
static void big_to_h1(struct frame *in, uint32_t src, uint16_t frag)
{
	static uint8_t l4[FRAME_MAX], d[FRAME_MAX], pkt[FRAME_MAX];
	struct ip4 h = { .src = src, .dst = G, .proto = P_UDP, .id = 0x3333, .frag = frag };

	memset(d, 0x5c, 1481);
	ext_frame(in, PEER_MAC, pkt, ip4(pkt, &h, l4, udp(l4, 500, H1_PORT, d, 1481 - 28)));
}

/* RFC 1812 4.3.2.7: frag-needed only for DF, never about an ICMP error,
 * a non-first fragment or to an invalid source; each such packet is
 * dropped under its own reason instead. */
static void test_ext_too_big_rules(void **state)
{
	const uint32_t bad_src[] = {
		IP4(0, 0, 0, 0), IP4(0, 1, 2, 3), IP4(127, 0, 0, 1), IP4(224, 0, 0, 5),
		IP4(239, 1, 1, 1), IP4(240, 0, 0, 1), IP4(255, 255, 255, 255),
	};
	static uint8_t ic[FRAME_MAX], q[FRAME_MAX], l4[FRAME_MAX], d[FRAME_MAX];
	uint8_t small[64];
	struct frame in, out;
	size_t n;

	(void)state;
	NEED_RIG();
	memset(d, 0x3c, sizeof(d));
	/* DF set: answered; DF clear: XDP cannot fragment, dropped and said so */
	big_to_h1(&in, PEER, 0x4000);
	expect_frag_needed(&in, &out, 1480);
	big_to_h1(&in, PEER, 0);
	ext_expect_drop(&in, XDNAT_DROP_TOO_BIG_NOT_DF);
	/* the first fragment (MF, no DF) cannot have DF: not_df as well */
	big_to_h1(&in, PEER, 0x2000);
	ext_expect_drop(&in, XDNAT_DROP_TOO_BIG_NOT_DF);
	/* a non-first fragment, even one claiming DF: never an ICMP (its
	 * first one, small, told gw_ext the owner) */
	{
		struct ip4 h = { .src = PEER, .dst = G, .proto = P_UDP, .id = 0x3333,
				 .frag = 0x2000 };

		ext_frame(&in, PEER_MAC, q, ip4(q, &h, l4, udp(l4, 500, H1_PORT, d, 64)));
		expect_to_host(&in, H1_MAC, H1);
	}
	big_to_h1(&in, PEER, 0x4000 | 185);
	ext_expect_drop(&in, XDNAT_DROP_TOO_BIG_NO_ICMP);
	big_to_h1(&in, PEER, 185);
	ext_expect_drop(&in, XDNAT_DROP_TOO_BIG_NOT_DF);
	/* sources no ICMP may go to: no host may get their packets either
	 * (BCP 38, finding 14), checked before the size */
	for (size_t i = 0; i < sizeof(bad_src) / sizeof(bad_src[0]); i++) {
		big_to_h1(&in, bad_src[i], 0x4000);
		ext_expect_drop(&in, XDNAT_DROP_SRC_MARTIAN);
	}
	/* an ICMP error (quoting a big UDP packet of H1's) is never answered */
	n = from_g(q, G, PEER, P_UDP, l4, udp(l4, H1_PORT, 500, d, 1440));
	to_g(&in, PEER, P_ICMP, ic, icmp(ic, 3, 4, 1400, q, n));
	ext_expect_drop(&in, XDNAT_DROP_TOO_BIG_NO_ICMP);
	/* the same size fitting the tunnel goes through: the rule is only
	 * about the answer */
	to_g(&in, PEER, P_ICMP, ic, icmp(ic, 3, 4, 1400, q, 1400));
	expect_to_host(&in, H1_MAC, H1);
	/* an echo reply is no error: a too-big one gets frag-needed */
	n = from_g(q, G, PEER, P_ICMP, small, icmp(small, 8, 0, 0x51510001, d, 8));
	from_host(&in, H1_MAC, H1, q, n);
	int_expect_decap(&in, PEER_MAC);
	to_g(&in, PEER, P_ICMP, ic, icmp(ic, 0, 0, 0x51510001, d, 1470));
	expect_frag_needed(&in, &out, 1480);
}

/*
 * Like the kernel's icmp_ratelimit: a token bucket per CPU. N tokens left
 * (and no refill during the test): N oversized packets from one source get
 * N answers, the next one is dropped as icmp_ratelimited. Time refills it,
 * and an untouched bucket starts with XDNAT_ICMP_BURST.
 */
static void test_ext_frag_needed_rate_limit(void **state)
{
	struct xdnat_icmp_bucket *b;
	uint32_t slot = XDNAT_ICMP_RL_EXT;
	struct counters before, after;
	struct frame in, out;
	int used = 0;

	(void)state;
	NEED_RIG();
	big_to_h1(&in, ATTACKER, 0x4000);
	set_icmp_bucket(XDNAT_ICMP_RL_EXT, 3, mono_ns() + 3600ull * 1000000000ull);
	read_stats(&before);
	for (int i = 0; i < 3; i++)
		expect_frag_needed(&in, &out, 1480);
	ext_expect_drop(&in, XDNAT_DROP_ICMP_RATELIMITED);
	ext_expect_drop(&in, XDNAT_DROP_ICMP_RATELIMITED);
	read_stats(&after);
	assert_int_equal(after.packets[XDNAT_ICMP_FRAG_NEEDED] -
			 before.packets[XDNAT_ICMP_FRAG_NEEDED], 3);
	assert_int_equal(after.packets[XDNAT_DROP_ICMP_RATELIMITED] -
			 before.packets[XDNAT_DROP_ICMP_RATELIMITED], 2);
	/* empty, last refill 10 ms ago: 10 tokens earned */
	set_icmp_bucket(XDNAT_ICMP_RL_EXT, 0, mono_ns() - 10000000ull);
	expect_frag_needed(&in, &out, 1480);
	/* the host direction has a bucket of its own */
	set_icmp_bucket(XDNAT_ICMP_RL_HOST, 0, mono_ns() + 3600ull * 1000000000ull);
	expect_frag_needed(&in, &out, 1480);
	/* untouched: a full burst, one taken */
	set_icmp_bucket(XDNAT_ICMP_RL_EXT, 0, 0);
	expect_frag_needed(&in, &out, 1480);
	b = calloc((size_t)rig.ncpus, sizeof(*b));
	assert_non_null(b);
	assert_int_equal(bpf_map_lookup_elem(rig.icmp_rl, &slot, b), 0);
	for (int i = 0; i < rig.ncpus; i++) {
		if (!b[i].stamp_ns)
			continue;
		used++;
		/* refills of the microseconds since are capped at the burst */
		assert_true(b[i].tokens == XDNAT_ICMP_BURST - 1);
	}
	assert_int_equal(used, 1);
	free(b);
}

/* ---- gw_ext: ICMP errors about a host's IPsec ------------------------------------- */

/*
 * RFC 4301 6: an ICMP error quoting a host's outbound ESP or AH (SPI the
 * peer's) goes to the host that sent on that SA, as gw_int learned it;
 * an SA nobody sent on, or the same SPI to another peer, stays the stack's.
 */
static void test_ext_ipsec_error_relay(void **state)
{
	uint8_t inner[256], l4[128], q[256], ic[320], d[32];
	struct frame in, out;
	size_t n, qn;

	(void)state;
	NEED_RIG();
	memset(d, 0x6d, sizeof(d));
	/* H1 sends ESP on the peer's SPI 0xc1000001, H2 AH on 0xc2000002 */
	n = from_g(inner, G, PEER, P_ESP, l4, esp(l4, 0xc1000001, 7, 64));
	from_host(&in, H1_MAC, H1, inner, n);
	int_expect(&in, &out, XDP_REDIRECT, XDNAT_FWD_TO_EXT);
	qn = n;
	memcpy(q, inner, qn);
	/* a router's frag-needed, quoting the IP header + 8 bytes (the SPI and
	 * sequence number), from a router that is not the peer */
	to_g(&in, ATTACKER, P_ICMP, ic, icmp(ic, 3, 4, 1400, q, 28));
	expect_to_host(&in, H1_MAC, H1);
	/* a longer quote (RFC 1812 allows up to 576 bytes) as well */
	to_g(&in, PEER, P_ICMP, ic, icmp(ic, 3, 4, 1400, q, qn));
	expect_to_host(&in, H1_MAC, H1);
	/* time exceeded too */
	to_g(&in, PEER, P_ICMP, ic, icmp(ic, 11, 0, 0, q, 28));
	expect_to_host(&in, H1_MAC, H1);

	n = from_g(inner, G, PEER, P_AH, l4, ah(l4, P_TCP, 0xc2000002, d, 20));
	from_host(&in, H2_MAC, H2, inner, n);
	int_expect(&in, &out, XDP_REDIRECT, XDNAT_FWD_TO_EXT);
	memcpy(q, inner, n);
	to_g(&in, PEER, P_ICMP, ic, icmp(ic, 3, 4, 1300, q, 28));
	expect_to_host(&in, H2_MAC, H2);
	/* the AH SPI quoted as ESP: not an SA anybody sent on */
	q[9] = P_ESP;
	be16(q + 10, 0);
	be16(q + 10, inet_csum(q, 20));
	to_g(&in, PEER, P_ICMP, ic, icmp(ic, 3, 4, 1300, q, 28));
	ext_expect_pass(&in);

	/* H1's SPI, but to another peer: not learned */
	n = from_g(q, G, ATTACKER, P_ESP, l4, esp(l4, 0xc1000001, 7, 64));
	to_g(&in, PEER, P_ICMP, ic, icmp(ic, 3, 4, 1400, q, 28));
	ext_expect_pass(&in);
	/* an SPI nobody sent on */
	n = from_g(q, G, PEER, P_ESP, l4, esp(l4, 0xc1000009, 7, 64));
	to_g(&in, PEER, P_ICMP, ic, icmp(ic, 3, 4, 1400, q, 28));
	ext_expect_pass(&in);
	/* the quote cut before the SPI's end */
	n = from_g(q, G, PEER, P_ESP, l4, esp(l4, 0xc1000001, 7, 64));
	to_g(&in, PEER, P_ICMP, ic, icmp(ic, 3, 4, 1400, q, 20 + 3));
	ext_expect_pass(&in);
	(void)n;
}

/* ---- gw_ext: fragments ---------------------------------------------------------- */

static void fragment(struct frame *in, uint32_t src, uint16_t id, uint16_t frag,
		     uint8_t proto, const void *pay, size_t n)
{
	struct ip4 h = { .src = src, .dst = G, .proto = proto, .id = id, .frag = frag };
	uint8_t pkt[FRAME_MAX];

	ext_frame(in, PEER_MAC, pkt, ip4(pkt, &h, pay, n));
}

static void test_ext_fragments_follow_first(void **state)
{
	uint8_t first[128], rest[128];
	struct frame in;

	(void)state;
	NEED_RIG();
	memset(rest, 0x99, sizeof(rest));
	/* a 108-byte UDP datagram to H2's port in two fragments: 48 + 60 */
	udp(first, 500, H2_PORT, rest, 100);
	fragment(&in, PEER, 0x4242, 0x2000, P_UDP, first, 48);
	expect_to_host(&in, H2_MAC, H2);
	fragment(&in, PEER, 0x4242, 48 / 8, P_UDP, rest, 60);
	expect_to_host(&in, H2_MAC, H2);
	/* a middle fragment (MF and an offset) follows as well */
	fragment(&in, PEER, 0x4242, 0x2000 | 3, P_UDP, rest, 24);
	expect_to_host(&in, H2_MAC, H2);
	/* same id, other source or other protocol: unknown */
	fragment(&in, ATTACKER, 0x4242, 48 / 8, P_UDP, rest, 60);
	ext_expect_drop(&in, XDNAT_DROP_FRAG_UNKNOWN);
	fragment(&in, PEER, 0x4242, 48 / 8, P_TCP, rest, 60);
	ext_expect_drop(&in, XDNAT_DROP_FRAG_UNKNOWN);
}

/* The gateway's own fragmented datagrams (IKE with certificates to an
 * unallocated port): the first fragment passes, and so must the rest. */
static void test_ext_stack_fragments_follow_first(void **state)
{
	uint8_t first[128], rest[128];
	struct frame in;

	(void)state;
	NEED_RIG();
	memset(rest, 0x44, sizeof(rest));
	udp(first, 500, 500, rest, 100);
	fragment(&in, PEER, 0x6161, 0x2000, P_UDP, first, 48);
	ext_expect_pass(&in);
	fragment(&in, PEER, 0x6161, 48 / 8, P_UDP, rest, 60);
	ext_expect_pass(&in);
	/* a different datagram's tail is still unknown */
	fragment(&in, PEER, 0x6162, 48 / 8, P_UDP, rest, 60);
	ext_expect_drop(&in, XDNAT_DROP_FRAG_UNKNOWN);
}

static void test_ext_unknown_fragment(void **state)
{
	uint8_t rest[64];
	struct frame in;

	(void)state;
	NEED_RIG();
	memset(rest, 0x99, sizeof(rest));
	fragment(&in, PEER, 0x5151, 100, P_ESP, rest, 64);
	ext_expect_drop(&in, XDNAT_DROP_FRAG_UNKNOWN);
	/* a first fragment that is dropped teaches nothing */
	esp(rest, UNKNOWN_SPI, 1, 40);
	fragment(&in, PEER, 0x5252, 0x2000, P_ESP, rest, 48);
	ext_expect_drop(&in, XDNAT_DROP_SPI_UNKNOWN);
	fragment(&in, PEER, 0x5252, 6, P_ESP, rest, 8);
	ext_expect_drop(&in, XDNAT_DROP_FRAG_UNKNOWN);
}

/* ---- gw_ext: robustness ------------------------------------------------------------ */

/*
 * Cut a valid frame at every length. Cut as is, the IP total length no
 * longer fits the frame: malformed once the destination is readable, to
 * the stack before. Cut with the total length (and checksum) fixed up, the
 * L4 parsers see the shortage: malformed below l4_min. Never a crash or a
 * verifier-time surprise, never anything but PASS or DROP inside headers.
 */
static void cut_every_length(int prog, int ifindex, const struct frame *full,
			     size_t l3_off, size_t l4_min)
{
	struct frame in, out;
	size_t cut;
	int reason, act;

	for (cut = 0; cut < full->len; cut++) {
		memcpy(in.b, full->b, cut);
		in.len = cut;
		act = xdp_run(prog, ifindex, &in, &out, &reason);
		if (cut < 14 && act < 0)
			continue;	/* the kernel refuses runts itself */
		assert_true(act == XDP_PASS || act == XDP_DROP);
		if (cut < l3_off + 20) {
			assert_int_equal(act, XDP_PASS);
			assert_int_equal(reason, XDNAT_PASS_STACK);
		} else {
			assert_int_equal(act, XDP_DROP);
			assert_int_equal(reason, XDNAT_DROP_MALFORMED);
		}

		/* the same with consistent lengths */
		if (cut < l3_off + 20)
			continue;
		be16(in.b + l3_off + 2, (uint16_t)(cut - l3_off));
		be16(in.b + l3_off + 10, 0);
		be16(in.b + l3_off + 10, inet_csum(in.b + l3_off, 20));
		act = xdp_run(prog, ifindex, &in, &out, &reason);
		if (cut - l3_off - 20 < l4_min) {
			assert_int_equal(act, XDP_DROP);
			assert_int_equal(reason, XDNAT_DROP_MALFORMED);
		} else {
			assert_true(act == XDP_PASS || act == XDP_DROP ||
				    act == XDP_REDIRECT);
		}
	}
}

static void test_ext_truncated_every_layer(void **state)
{
	uint8_t l4[256], d[64];
	struct frame in;

	(void)state;
	NEED_RIG();
	memset(d, 0x5e, sizeof(d));
	to_g(&in, PEER, P_ESP, l4, esp(l4, H1_SPI, 1, 24));
	cut_every_length(rig.ext_fd, rig.ext_ifindex, &in, 14, 8);
	to_g(&in, PEER, P_UDP, l4, udp(l4, 4500, H1_NATT, l4 + 100, esp(l4 + 100, H1_SPI, 1, 16)));
	cut_every_length(rig.ext_fd, rig.ext_ifindex, &in, 14, 8);
	to_g(&in, PEER, P_TCP, l4, tcp(l4, 443, H2_PORT));
	cut_every_length(rig.ext_fd, rig.ext_ifindex, &in, 14, 20);
	to_g(&in, PEER, P_AH, l4, ah(l4, P_UDP, H2_SPI, d, 16));
	cut_every_length(rig.ext_fd, rig.ext_ifindex, &in, 14, 12);
	to_g(&in, PEER, P_ICMP, l4, icmp(l4, 0, 0, 0x12340001, d, 16));
	cut_every_length(rig.ext_fd, rig.ext_ifindex, &in, 14, 8);
}

static void test_ext_malformed_to_g(void **state)
{
	uint8_t l4[64];
	struct frame in, bad;

	(void)state;
	NEED_RIG();
	to_g(&in, PEER, P_UDP, l4, udp(l4, 500, H1_PORT, "abcd", 4));
	bad = in;
	bad.b[14] = 0x65;			/* version 6 */
	ext_expect_drop(&bad, XDNAT_DROP_MALFORMED);
	bad = in;
	bad.b[14] = 0x44;			/* ihl 4 */
	ext_expect_drop(&bad, XDNAT_DROP_MALFORMED);
	bad = in;
	be16(bad.b + 16, 19);			/* tot_len < header */
	ext_expect_drop(&bad, XDNAT_DROP_MALFORMED);
	bad = in;
	be16(bad.b + 16, (uint16_t)(in.len - 14 + 1));	/* beyond the frame */
	ext_expect_drop(&bad, XDNAT_DROP_MALFORMED);
	bad = in;
	bad.b[14] = 0x4f;			/* 60-byte header in a 32-byte packet */
	ext_expect_drop(&bad, XDNAT_DROP_MALFORMED);
	bad = in;
	be16(bad.b + 38, 200);			/* UDP length beyond the packet */
	ext_expect_drop(&bad, XDNAT_DROP_MALFORMED);
	bad = in;
	be16(bad.b + 38, 7);			/* UDP length below its header */
	ext_expect_drop(&bad, XDNAT_DROP_MALFORMED);
	/* ESP too short for its header, lengths consistent */
	to_g(&bad, PEER, P_ESP, "\0\0\x10\x01", 4);
	ext_expect_drop(&bad, XDNAT_DROP_MALFORMED);
	/* Ethernet padding does not complete a short header: the IP total
	 * length says where the packet ends */
	memset(bad.b + bad.len, 0, 60 - bad.len);
	bad.len = 60;
	ext_expect_drop(&bad, XDNAT_DROP_MALFORMED);
	to_g(&bad, PEER, P_TCP, l4, tcp(l4, 1, H2_PORT) - 4);
	memset(bad.b + bad.len, 0, 64 - bad.len);
	bad.len = 64;
	ext_expect_drop(&bad, XDNAT_DROP_MALFORMED);
}

/*
 * The outer header over every length and many tos values, to H1 and to H4:
 * byte-exact, and its checksum verifies. With H4 = 10.0.38.254 some of
 * these sums (len 74 and 202) carry again after the first fold, which
 * a one-round fold gets wrong; with 10.0.0.x hosts no frame size can.
 */
static void test_ext_outer_header_every_length(void **state)
{
	static uint8_t p[FRAME_MAX];
	struct frame in;
	size_t len;

	(void)state;
	NEED_RIG();
	set_host(H4, 4);
	set_sa(0x3001, PEER, 4, H4);
	for (len = 20 + 8; len <= 1480; len++) {
		struct ip4 h = { .src = PEER, .dst = G, .proto = P_ESP,
				 .tos = (uint8_t)(len * 37), .id = (uint16_t)(len * 7919),
				 .frag = 0x4000 };
		uint8_t pkt[FRAME_MAX];

		esp(p, H1_SPI, (uint32_t)len, len - 28);
		ext_frame(&in, PEER_MAC, pkt, ip4(pkt, &h, p, len - 20));
		expect_to_host(&in, H1_MAC, H1);
		esp(p, 0x3001, (uint32_t)len, len - 28);
		ext_frame(&in, PEER_MAC, pkt, ip4(pkt, &h, p, len - 20));
		expect_to_host(&in, H4_MAC, H4);
	}
}

static void test_ext_ip_options(void **state)
{
	static const uint8_t opt[4] = { 0x01, 0x01, 0x01, 0x00 };	/* NOP NOP NOP EOL */
	uint8_t pkt[256], l4[128];
	struct ip4 h = { .src = PEER, .dst = G, .id = 9, .frag = 0x4000, .tos = 0x28,
			 .opt = opt, .optlen = sizeof(opt) };
	struct frame in, out;

	(void)state;
	NEED_RIG();
	h.proto = P_ESP;
	ext_frame(&in, PEER_MAC, pkt, ip4(pkt, &h, l4, esp(l4, H1_SPI, 5, 48)));
	assert_int_equal(in.b[14], 0x46);
	expect_to_host(&in, H1_MAC, H1);	/* tos 0x28 copied to the outer */
	h.proto = P_UDP;
	ext_frame(&in, PEER_MAC, pkt, ip4(pkt, &h, l4, udp(l4, 9, H2_PORT, "x", 1)));
	expect_to_host(&in, H2_MAC, H2);
	h.proto = P_ESP;
	h.src = ATTACKER;
	ext_frame(&in, ATK_MAC, pkt, ip4(pkt, &h, l4, esp(l4, H1_SPI, 5, 48)));
	ext_expect(&in, &out, XDP_DROP, XDNAT_DROP_PEER_NOT_VALIDATED);
}

static void test_ext_not_ours_passes(void **state)
{
	static const uint8_t arp[28] = {
		0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0xe0, 0x10, 203, 0, 113, 10,
		0, 0, 0, 0, 0, 0, 198, 51, 100, 1 };
	uint8_t ip6[48], l4[64], pkt[128];
	struct ip4 h = { .src = PEER, .dst = IP4(203, 0, 113, 1), .proto = P_UDP };
	struct frame in;

	(void)state;
	NEED_RIG();
	eth(&in, (const uint8_t *)"\xff\xff\xff\xff\xff\xff", PEER_MAC, ETH_ARP);
	append(&in, arp, sizeof(arp));
	ext_expect_pass(&in);

	memset(ip6, 0, sizeof(ip6));
	ip6[0] = 0x60;
	be16(ip6 + 4, 8);
	ip6[6] = P_UDP;
	ip6[7] = 64;
	eth(&in, EXT_MAC, PEER_MAC, ETH_IP6);
	append(&in, ip6, 40);
	append(&in, l4, udp(l4, 1, H1_PORT, NULL, 0));
	ext_expect_pass(&in);

	/* to the gateway's external address, not G, even on a held port */
	ext_frame(&in, PEER_MAC, pkt, ip4(pkt, &h, l4, udp(l4, 1, H1_PORT, "z", 1)));
	ext_expect_pass(&in);
	/* a runt that cannot show its destination */
	eth(&in, EXT_MAC, PEER_MAC, ETH_IP);
	append(&in, "\x45\x00\x00\x14", 4);
	ext_expect_pass(&in);
}

static void test_ext_disabled_passes(void **state)
{
	uint8_t p[128];
	struct frame in;

	(void)state;
	NEED_RIG();
	to_g(&in, PEER, P_ESP, p, esp(p, H1_SPI, 1, 32));
	set_cfg(1500, 0);
	ext_expect_pass(&in);
	set_cfg(1500, XDNAT_CFG_ENABLED);
	expect_to_host(&in, H1_MAC, H1);
}

static void test_ext_no_neighbour_no_route(void **state)
{
	uint8_t l4[64];
	struct frame in;

	(void)state;
	NEED_RIG();
	/* H3 holds a port but has no neighbour entry on the internal NIC:
	 * the route is there, the MAC is not (xdnatd is told) */
	set_host(H3, 3);
	set_port(30000, 3, H3, 0);
	to_g(&in, PEER, P_UDP, l4, udp(l4, 1, 30000, "q", 1));
	ext_expect_drop(&in, XDNAT_DROP_NEXTHOP_UNRESOLVED);
	/* a host address routed out of the external NIC is no tunnel end */
	set_port(30001, 4, IP4(203, 0, 113, 10), 0);
	to_g(&in, PEER, P_UDP, l4, udp(l4, 1, 30001, "q", 1));
	ext_expect_drop(&in, XDNAT_DROP_ROUTE_WRONG_NIC);
}

/* ---- gw_ext: next hop as xdnatd resolves it (in every value of the host) ------------ */

static const uint8_t INT_NEW_MAC[6] = { 0x02, 0, 0, 0, 0x10, 0xf1 };

/* A known MAC: to it from the config's int_mac, exactly, no FIB lookup. */
static void test_ext_mac_fast_path(void **state)
{
	uint8_t p[256], l4[64], d[48];
	struct frame in;

	(void)state;
	NEED_RIG();
	memset(d, 0x6d, sizeof(d));
	set_host_mac(H1, CID1, H1_NEW_MAC);
	to_g(&in, PEER, P_ESP, p, esp(p, H1_SPI, 11, 64));
	expect_to_host(&in, H1_NEW_MAC, H1);
	to_g(&in, PEER, P_UDP, l4, udp(l4, 53, H1_PORT, d, sizeof(d)));
	expect_to_host(&in, H1_NEW_MAC, H1);
	/* the source MAC is the config's, not the FIB's */
	assert_int_equal(rig_set_cfg_mac(&rig, 1500, XDNAT_CFG_ENABLED, INT_NEW_MAC), 0);
	expect_to_host_from(&in, H1_NEW_MAC, INT_NEW_MAC, H1);
	set_cfg(1500, XDNAT_CFG_ENABLED);
	/* H2 unresolved meanwhile: its neighbour, by the FIB */
	to_g(&in, PEER, P_ESP, p, esp(p, H2_SPI, 12, 40));
	expect_to_host(&in, H2_MAC, H2);
	/* H3 has no neighbour at all: forwarded only because its MAC is known */
	set_host_mac(H3, 3, H3_MAC);
	set_port(30000, 3, H3, 0);
	to_g(&in, PEER, P_UDP, l4, udp(l4, 1, 30000, "q", 1));
	expect_to_host(&in, H3_MAC, H3);
	/* gw_int reads the client id from the same entry */
	{
		uint8_t inner[128];
		size_t n = from_g(inner, G, PEER, P_UDP, l4, udp(l4, H1_PORT, 500, d, 8));

		from_host(&in, H1_NEW_MAC, H1, inner, n);
		int_expect_decap(&in, PEER_MAC);
	}
}

/* MAC zero, entry missing, or no int_mtu to check against: the FIB path. */
static void test_ext_mac_fib_fallback(void **state)
{
	static const uint8_t zero[6];
	uint8_t p[128], l4[64];
	struct frame in;

	(void)state;
	NEED_RIG();
	to_g(&in, PEER, P_ESP, p, esp(p, H1_SPI, 1, 32));
	set_host_mac(H1, CID1, zero);
	expect_to_host(&in, H1_MAC, H1);
	/* not registered at all (the SA still names H1): the FIB knows it */
	assert_int_equal(bpf_map_delete_elem(rig.hosts, &(uint32_t){ H1 }), 0);
	expect_to_host(&in, H1_MAC, H1);
	/* int_mtu unset: only the FIB can check the MTU, so it is asked */
	set_host_mac(H1, CID1, H1_NEW_MAC);
	set_cfg(0, XDNAT_CFG_ENABLED);
	expect_to_host(&in, H1_MAC, H1);
	set_cfg(1500, XDNAT_CFG_ENABLED);
	expect_to_host(&in, H1_NEW_MAC, H1);
	/* H3 unresolved and without a neighbour: the FIB's next hop is missing */
	set_host(H3, 3);
	set_port(30000, 3, H3, 0);
	to_g(&in, PEER, P_UDP, l4, udp(l4, 1, 30000, "q", 1));
	ext_expect_drop(&in, XDNAT_DROP_NEXTHOP_UNRESOLVED);
}

/* The fast path still answers too-big packets, with the config's MTU. */
static void test_ext_mac_fast_path_frag_needed(void **state)
{
	static uint8_t l4[FRAME_MAX], d[FRAME_MAX];
	struct frame in, out;

	(void)state;
	NEED_RIG();
	memset(d, 0x5a, sizeof(d));
	set_host_mac(H1, CID1, H1_NEW_MAC);
	set_host_mac(H2, CID2, H2_MAC);
	to_g(&in, PEER, P_UDP, l4, udp(l4, 500, H1_PORT, d, 1481 - 28));
	expect_frag_needed(&in, &out, 1480);
	to_g(&in, PEER, P_UDP, l4, udp(l4, 500, H1_PORT, d, 1480 - 28));
	expect_to_host(&in, H1_NEW_MAC, H1);
	to_g(&in, PEER, P_ESP, l4, esp(l4, H2_SPI, 9, 1400));
	set_cfg(1400, XDNAT_CFG_ENABLED);
	expect_frag_needed(&in, &out, 1380);
	set_cfg(1500, XDNAT_CFG_ENABLED);
	expect_to_host(&in, H2_MAC, H2);
}

/* ---- gw_ext: the next hop carried in the owner values ------------------------------ */

static const uint8_t H2_NEW_MAC[6] = { 0x02, 0, 0, 0, 0x10, 0xe2 };

static void set_port_mac(uint16_t port, uint32_t cid, uint32_t hi, uint32_t flags,
			 const uint8_t *mac)
{
	assert_int_equal(rig_set_port_mac(&rig, port, cid, hi, flags, mac), 0);
}

static void set_sa_mac(uint32_t spi, uint32_t peer, uint32_t cid, uint32_t hi,
		       const uint8_t *mac)
{
	assert_int_equal(rig_set_sa_mac(&rig, spi, peer, cid, hi, mac), 0);
}

/* The MAC comes from the value the packet was attributed with, never from
 * xdnat_hosts: with H1's entry gone, or H2's holding another MAC, every
 * kind of owner value still forwards to its own MAC. */
static void test_ext_mac_from_value(void **state)
{
	uint8_t p[256], l4[128], q[128], d[40];
	struct frame in;

	(void)state;
	NEED_RIG();
	memset(d, 0x3d, sizeof(d));
	assert_int_equal(bpf_map_delete_elem(rig.hosts, &(uint32_t){ H1 }), 0);
	set_sa_mac(H1_SPI, PEER, CID1, H1, H1_NEW_MAC);
	set_port_mac(H1_PORT, CID1, H1, 0, H1_NEW_MAC);
	/* NAT-T: the port's value is the owner, the SA only a check */
	set_port_mac(H1_NATT, CID1, H1, XDNAT_PORT_NATT, H3_MAC);
	to_g(&in, PEER, P_ESP, p, esp(p, H1_SPI, 21, 64));
	expect_to_host(&in, H1_NEW_MAC, H1);
	to_g(&in, PEER, P_AH, p, ah(p, P_UDP, H1_SPI, d, sizeof(d)));
	expect_to_host(&in, H1_NEW_MAC, H1);
	to_g(&in, PEER, P_UDP, l4, udp(l4, 53, H1_PORT, d, sizeof(d)));
	expect_to_host(&in, H1_NEW_MAC, H1);
	to_g(&in, PEER, P_TCP, l4, tcp(l4, 443, H1_PORT));
	expect_to_host(&in, H1_NEW_MAC, H1);
	natt_frame(&in, PEER, H1_NATT, p, esp(p, H1_SPI, 22, 40));
	expect_to_host(&in, H3_MAC, H1);
	/* an ICMP error quoting H1's port: the port's value */
	from_g(q, G, PEER, P_UDP, l4, udp(l4, H1_PORT, 500, d, sizeof(d)));
	icmp_error(&in, 3, 3, 0, q);
	expect_to_host(&in, H1_NEW_MAC, H1);
	/* xdnat_hosts says otherwise: not read */
	set_host_entry(H2, CID2, H3_MAC);
	set_sa_mac(H2_SPI, PEER, CID2, H2, H2_NEW_MAC);
	to_g(&in, PEER, P_ESP, p, esp(p, H2_SPI, 23, 64));
	expect_to_host(&in, H2_NEW_MAC, H2);
}

/* A zero MAC in the value is the fallback, the FIB's route and neighbour,
 * whatever MAC xdnat_hosts holds. */
static void test_ext_mac_zero_in_value_fib(void **state)
{
	uint8_t p[128], l4[64];
	struct frame in;

	(void)state;
	NEED_RIG();
	/* the world's values carry no MAC; xdnat_hosts has a wrong one */
	set_host_entry(H1, CID1, H1_NEW_MAC);
	to_g(&in, PEER, P_ESP, p, esp(p, H1_SPI, 31, 32));
	expect_to_host(&in, H1_MAC, H1);
	to_g(&in, PEER, P_UDP, l4, udp(l4, 1, H1_PORT, "z", 1));
	expect_to_host(&in, H1_MAC, H1);
	/* H3 has no neighbour: only a MAC in its value gets it there */
	set_host_entry(H3, 3, H3_MAC);
	set_port_mac(30000, 3, H3, 0, NULL);
	to_g(&in, PEER, P_UDP, l4, udp(l4, 1, 30000, "q", 1));
	ext_expect_drop(&in, XDNAT_DROP_NEXTHOP_UNRESOLVED);
	set_port_mac(30000, 3, H3, 0, H3_MAC);
	expect_to_host(&in, H3_MAC, H3);
	set_sa_mac(0x1077, PEER, CID1, H1, NULL);
	to_g(&in, PEER, P_ESP, p, esp(p, 0x1077, 32, 32));
	expect_to_host(&in, H1_MAC, H1);
}

/* xdnat_frags keeps the owner value gw_ext read, MAC included: the rest of
 * a datagram follows the first fragment's next hop. */
static void test_ext_fragment_learns_mac(void **state)
{
	struct xdnat_frag_key fk;
	struct xdnat_frag o;
	uint8_t first[128], rest[128];
	struct frame in;

	(void)state;
	NEED_RIG();
	memset(rest, 0x71, sizeof(rest));
	frag_key_of(&fk, PEER, G, 0x4343, P_UDP);
	set_port_mac(H2_PORT, CID2, H2, 0, H2_NEW_MAC);
	udp(first, 500, H2_PORT, rest, 100);
	fragment(&in, PEER, 0x4343, 0x2000, P_UDP, first, 48);
	expect_to_host(&in, H2_NEW_MAC, H2);
	assert_int_equal(bpf_map_lookup_elem(rig.frags, &fk, &o), 0);
	assert_owner(&o.owner, CID2, H2, H2_NEW_MAC);
	/* the port's MAC is lost meanwhile: the rest keep the learned one */
	set_port_mac(H2_PORT, CID2, H2, 0, NULL);
	fragment(&in, PEER, 0x4343, 48 / 8, P_UDP, rest, 60);
	expect_to_host(&in, H2_NEW_MAC, H2);
	/* learned without a MAC: the rest take the FIB's */
	fk.id = htons(0x4344);
	fragment(&in, PEER, 0x4344, 0x2000, P_UDP, first, 48);
	expect_to_host(&in, H2_MAC, H2);
	assert_int_equal(bpf_map_lookup_elem(rig.frags, &fk, &o), 0);
	assert_owner(&o.owner, CID2, H2, NULL);
	fragment(&in, PEER, 0x4344, 48 / 8, P_UDP, rest, 60);
	expect_to_host(&in, H2_MAC, H2);
	/* the gateway's own: learned as all zero, MAC included */
	fk.id = htons(0x4345);
	udp(first, 500, 500, rest, 100);
	fragment(&in, PEER, 0x4345, 0x2000, P_UDP, first, 48);
	ext_expect_pass(&in);
	assert_int_equal(bpf_map_lookup_elem(rig.frags, &fk, &o), 0);
	assert_owner(&o.owner, 0, 0, NULL);
}

/*
 * Finding 16: a first fragment naming another holder does not re-point a
 * datagram learned less than XDNAT_FRAG_HOLD_NS ago (frag_conflict, the
 * entry kept); the same first fragment again (retransmitted) passes; once
 * the hold is over the id may be reused for another holder.
 */
static void test_ext_fragment_conflict(void **state)
{
	uint8_t to_h1[128], to_h2[128], rest[128];
	struct xdnat_frag_key fk;
	struct xdnat_frag f;
	struct frame in;

	(void)state;
	NEED_RIG();
	memset(rest, 0x5d, sizeof(rest));
	frag_key_of(&fk, PEER, G, 0x7171, P_UDP);
	udp(to_h1, 500, H1_PORT, rest, 100);
	udp(to_h2, 500, H2_PORT, rest, 100);
	fragment(&in, PEER, 0x7171, 0x2000, P_UDP, to_h1, 48);
	expect_to_host(&in, H1_MAC, H1);
	/* the duplicate, spoofed or not, to H2's port: refused */
	fragment(&in, PEER, 0x7171, 0x2000, P_UDP, to_h2, 48);
	ext_expect_drop(&in, XDNAT_DROP_FRAG_CONFLICT);
	assert_int_equal(bpf_map_lookup_elem(rig.frags, &fk, &f), 0);
	assert_owner(&f.owner, CID1, H1, NULL);
	fragment(&in, PEER, 0x7171, 48 / 8, P_UDP, rest, 60);
	expect_to_host(&in, H1_MAC, H1);
	/* H1's again: a retransmission, forwarded */
	fragment(&in, PEER, 0x7171, 0x2000, P_UDP, to_h1, 48);
	expect_to_host(&in, H1_MAC, H1);
	/* the gateway's own datagram cannot be taken over either */
	udp(rest, 500, 500, rest + 8, 40);
	fragment(&in, PEER, 0x7272, 0x2000, P_UDP, rest, 48);
	ext_expect_pass(&in);
	fragment(&in, PEER, 0x7272, 0x2000, P_UDP, to_h2, 48);
	ext_expect_drop(&in, XDNAT_DROP_FRAG_CONFLICT);
	/* the hold over (learned long ago): the id is H2's datagram now */
	f.learned_ns = mono_ns() - XDNAT_FRAG_HOLD_NS - 1000000;
	assert_int_equal(bpf_map_update_elem(rig.frags, &fk, &f, BPF_EXIST), 0);
	fragment(&in, PEER, 0x7171, 0x2000, P_UDP, to_h2, 48);
	expect_to_host(&in, H2_MAC, H2);
	fragment(&in, PEER, 0x7171, 48 / 8, P_UDP, rest, 60);
	expect_to_host(&in, H2_MAC, H2);
}

/*
 * Finding 16: one source enters at most XDNAT_FRAG_SRC_BURST new datagrams
 * in xdnat_frags at once (then XDNAT_FRAG_SRC_INTERVAL_NS apart): 16,384
 * tiny first fragments from it no longer flush the table; another
 * source's datagram is learned and followed meanwhile.
 */
static void test_ext_fragment_budget(void **state)
{
	uint8_t first[64], rest[64];
	struct xdnat_icmp_bucket b;
	struct frame in;
	uint32_t src = ATTACKER;
	uint16_t id;

	(void)state;
	NEED_RIG();
	memset(rest, 0x3e, sizeof(rest));
	udp(first, 500, H1_PORT, rest, 40);
	/* a stamp ahead of the clock: no refill while the test runs */
	for (id = 1; id <= XDNAT_FRAG_SRC_BURST; id++) {
		fragment(&in, ATTACKER, id, 0x2000, P_UDP, first, 16);
		expect_to_host(&in, H1_MAC, H1);
		if (id == 1) {
			assert_int_equal(bpf_map_lookup_elem(rig.frag_src, &src, &b), 0);
			assert_int_equal(b.tokens, XDNAT_FRAG_SRC_BURST - 1);
			b.stamp_ns = mono_ns() + 3600ull * 1000000000ull;
			assert_int_equal(bpf_map_update_elem(rig.frag_src, &src, &b, BPF_EXIST),
					 0);
		}
	}
	fragment(&in, ATTACKER, id, 0x2000, P_UDP, first, 16);
	ext_expect_drop(&in, XDNAT_DROP_FRAG_BUDGET);
	fragment(&in, ATTACKER, id, 2, P_UDP, rest, 16);
	ext_expect_drop(&in, XDNAT_DROP_FRAG_UNKNOWN);
	/* what it entered still works; the peer's own datagram is learned */
	fragment(&in, ATTACKER, 7, 2, P_UDP, rest, 16);
	expect_to_host(&in, H1_MAC, H1);
	fragment(&in, PEER, id, 0x2000, P_UDP, first, 16);
	expect_to_host(&in, H1_MAC, H1);
	fragment(&in, PEER, id, 2, P_UDP, rest, 16);
	expect_to_host(&in, H1_MAC, H1);
	/* the budget refills with time: a bucket stamped long ago is full */
	b.tokens = 0;
	b.stamp_ns = mono_ns() - 1000000000ull;
	assert_int_equal(bpf_map_update_elem(rig.frag_src, &src, &b, BPF_EXIST), 0);
	fragment(&in, ATTACKER, id, 0x2000, P_UDP, first, 16);
	expect_to_host(&in, H1_MAC, H1);
}

/*
 * Finding 14 (BCP 38/84, RFC 1812 5.3.7): XDP runs before rp_filter, so
 * gw_ext itself drops packets to G from sources no peer can have, whatever
 * they are for (a held port, an SA, the stack's): martian (0/8, 127/8,
 * 224/4, 240/4, the limited broadcast), G itself, Gi and the internal
 * subnets xdnat_cfg names (the internal NIC's).
 */
static void test_ext_source_validation(void **state)
{
	const uint32_t martian[] = {
		IP4(0, 0, 0, 0), IP4(0, 1, 2, 3), IP4(127, 0, 0, 1), IP4(127, 255, 0, 9),
		IP4(224, 0, 0, 5), IP4(239, 1, 1, 1), IP4(240, 0, 0, 1),
		IP4(255, 255, 255, 255),
	};
	uint8_t l4[128], d[32];
	struct xdnat_cfg c;
	struct frame in;
	uint32_t k = 0;

	(void)state;
	NEED_RIG();
	memset(d, 0x14, sizeof(d));
	for (size_t i = 0; i < sizeof(martian) / sizeof(martian[0]); i++) {
		to_g(&in, martian[i], P_UDP, l4, udp(l4, 500, H1_PORT, d, 8));
		ext_expect_drop(&in, XDNAT_DROP_SRC_MARTIAN);
		/* to the stack's port: no exception */
		to_g(&in, martian[i], P_UDP, l4, udp(l4, 500, 31000, d, 8));
		ext_expect_drop(&in, XDNAT_DROP_SRC_MARTIAN);
	}
	to_g(&in, G, P_UDP, l4, udp(l4, 500, H1_PORT, d, 8));
	ext_expect_drop(&in, XDNAT_DROP_SRC_GLOBAL);
	to_g(&in, GI, P_UDP, l4, udp(l4, 500, H1_PORT, d, 8));
	ext_expect_drop(&in, XDNAT_DROP_SRC_INTERNAL);
	/* a host's address: as if H2 spoke to H1 from outside */
	to_g(&in, H2, P_UDP, l4, udp(l4, H2_PORT, H1_PORT, d, 8));
	ext_expect_drop(&in, XDNAT_DROP_SRC_INTERNAL);
	to_g(&in, H1, P_ESP, l4, esp(l4, H1_SPI, 1, 16));
	ext_expect_drop(&in, XDNAT_DROP_SRC_INTERNAL);
	/* fragments too, first or not */
	{
		struct ip4 h = { .src = H2, .dst = G, .proto = P_UDP, .id = 5, .frag = 3 };
		uint8_t pkt[128];

		ext_frame(&in, PEER_MAC, pkt, ip4(pkt, &h, d, 16));
		ext_expect_drop(&in, XDNAT_DROP_SRC_INTERNAL);
	}
	/* a second internal subnet (H4's) once xdnat_cfg names it */
	to_g(&in, H4, P_UDP, l4, udp(l4, 500, H1_PORT, d, 8));
	expect_to_host(&in, H1_MAC, H1);
	assert_int_equal(bpf_map_lookup_elem(rig.cfg, &k, &c), 0);
	c.int_nets[XDNAT_MAX_INT_NETS - 1].net = IP4(10, 0, 38, 0);
	c.int_nets[XDNAT_MAX_INT_NETS - 1].mask = IP4(255, 255, 255, 0);
	assert_int_equal(bpf_map_update_elem(rig.cfg, &k, &c, BPF_ANY), 0);
	ext_expect_drop(&in, XDNAT_DROP_SRC_INTERNAL);
	/* the neighbours of the internal subnets are fine */
	to_g(&in, IP4(10, 0, 1, 11), P_UDP, l4, udp(l4, 500, H1_PORT, d, 8));
	expect_to_host(&in, H1_MAC, H1);
	to_g(&in, PEER, P_UDP, l4, udp(l4, 500, H1_PORT, d, 8));
	expect_to_host(&in, H1_MAC, H1);
}

/* ---- tunnel semantics: TTL, ECN into the outer header, route reasons ----------------- */

/*
 * The gateway is a hop inbound too: TTL 2 arrives with 1 (expect_to_host
 * sums the inner header anew); TTL 1 and 0 are answered from G with
 * time-exceeded out of the external NIC, exact bytes, nothing tunnelled.
 * A packet for the gateway's own stack keeps its TTL (it is delivered, not
 * forwarded).
 */
static void test_ext_ttl(void **state)
{
	uint8_t l4[128], te[256], d[64];
	struct frame in, out, want;
	size_t m;

	(void)state;
	NEED_RIG();
	memset(d, 0x71, sizeof(d));
	to_g(&in, PEER, P_UDP, l4, udp(l4, 40000, H1_PORT, d, 24));
	ip4_set_ttl(in.b + 14, 2);
	expect_to_host(&in, H1_MAC, H1);
	for (int ttl = 1; ttl >= 0; ttl--) {
		ip4_set_ttl(in.b + 14, (uint8_t)ttl);
		ext_expect(&in, &out, XDP_REDIRECT, XDNAT_ICMP_TIME_EXCEEDED);
		m = time_exceeded(te, G, in.b + 14);
		eth(&want, PEER_MAC, EXT_MAC, ETH_IP);
		append(&want, te, m);
		assert_frame(&out, &want);
	}
	/* a 20-byte header with options, quoted whole */
	{
		static const uint8_t opt[8] = { 0x94, 4, 0, 0, 1, 1, 1, 0 };
		struct ip4 h = { .src = PEER, .dst = G, .proto = P_UDP, .frag = 0x4000,
				 .opt = opt, .optlen = sizeof(opt) };
		uint8_t pkt[256];
		size_t n = ip4(pkt, &h, l4, udp(l4, 40000, H1_PORT, d, 4));

		ip4_set_ttl(pkt, 1);
		ext_frame(&in, PEER_MAC, pkt, n);
		ext_expect(&in, &out, XDP_REDIRECT, XDNAT_ICMP_TIME_EXCEEDED);
		m = time_exceeded(te, G, pkt);
		eth(&want, PEER_MAC, EXT_MAC, ETH_IP);
		append(&want, te, m);
		assert_frame(&out, &want);
	}
	/* the gateway's own (no holder): its stack decides, TTL untouched */
	to_g(&in, PEER, P_UDP, l4, udp(l4, 40000, 31000, d, 4));
	ip4_set_ttl(in.b + 14, 1);
	ext_expect_pass(&in);
	/* no errors to a multicast source (dropped before, as martian: BCP 38)
	 * or about an ICMP error */
	to_g(&in, IP4(224, 0, 0, 5), P_UDP, l4, udp(l4, 40000, H1_PORT, d, 4));
	ip4_set_ttl(in.b + 14, 1);
	ext_expect_drop(&in, XDNAT_DROP_SRC_MARTIAN);
	{
		uint8_t q[64];
		size_t qn = from_g(q, G, PEER, P_UDP, l4, udp(l4, H1_PORT, 53, d, 8));

		to_g(&in, PEER, P_ICMP, l4, icmp(l4, 3, 3, 0, q, qn));
		ip4_set_ttl(in.b + 14, 1);
		ext_expect_drop(&in, XDNAT_DROP_TTL_EXCEEDED);
	}
}

/* The encapsulator copies the inner ECN field into the outer header (RFC
 * 6040 normal mode), CE included, with the DSCP. */
static void test_ext_ecn_to_outer(void **state)
{
	uint8_t l4[64], pkt[128];
	struct frame in, out;
	size_t n;

	(void)state;
	NEED_RIG();
	for (uint8_t ecn = 0; ecn < 4; ecn++) {
		struct ip4 h = { .src = PEER, .dst = G, .proto = P_UDP, .tos = (uint8_t)(0x88 | ecn),
				 .frag = 0x4000 };

		n = ip4(pkt, &h, l4, udp(l4, 40000, H2_PORT, "e", 1));
		ext_frame(&in, PEER_MAC, pkt, n);
		expect_to_host(&in, H2_MAC, H2);
		ext_expect(&in, &out, XDP_REDIRECT, XDNAT_FWD_TO_HOST);
		assert_int_equal(out.b[15], 0x88 | ecn);
		assert_int_equal(out.b[35], 0x88 | ecn);
	}
}

/* What no_route used to hide, inbound: forwarding off on the external NIC,
 * the internal NIC missing from the devmap. */
static void test_ext_route_reasons(void **state)
{
	uint8_t l4[64];
	struct frame in;
	uint32_t intx = (uint32_t)rig.int_ifindex;

	(void)state;
	NEED_RIG();
	to_g(&in, PEER, P_UDP, l4, udp(l4, 40000, H1_PORT, "r", 1));
	assert_int_equal(sh("echo 0 > /proc/sys/net/ipv4/conf/" EXT_DEV "/forwarding"), 0);
	ext_expect_drop(&in, XDNAT_DROP_FIB_FWD_DISABLED);
	assert_int_equal(sh("echo 1 > /proc/sys/net/ipv4/conf/" EXT_DEV "/forwarding"), 0);
	assert_int_equal(bpf_map_delete_elem(rig.tx, &intx), 0);
	ext_expect_drop(&in, XDNAT_DROP_REDIRECT_FAILED);
	assert_int_equal(bpf_map_update_elem(rig.tx, &intx, &intx, BPF_ANY), 0);
	expect_to_host(&in, H1_MAC, H1);
	/* a blackhole towards a host (its address unroutable on purpose) */
	set_host(IP4(10, 0, 0, 200), 9);
	set_port(30002, 9, IP4(10, 0, 0, 200), 0);
	assert_int_equal(sh("ip route add blackhole 10.0.0.200/32"), 0);
	to_g(&in, PEER, P_UDP, l4, udp(l4, 40000, 30002, "r", 1));
	ext_expect_drop(&in, XDNAT_DROP_FIB_NO_ROUTE);
	assert_int_equal(sh("ip route del blackhole 10.0.0.200/32"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_ext_esp_validated, world),
		cmocka_unit_test_setup(test_ext_ah_validated, world),
		cmocka_unit_test_setup(test_ext_ipsec_peer_not_validated, world),
		cmocka_unit_test_setup(test_ext_ipsec_spi_unknown, world),
		cmocka_unit_test_setup(test_ext_spi_block_granules, world),
		cmocka_unit_test_setup(test_ext_natt_esp, world),
		cmocka_unit_test_setup(test_ext_natt_ike_marker, world),
		cmocka_unit_test_setup(test_ext_natt_keepalive, world),
		cmocka_unit_test_setup(test_ext_tcp_udp_by_port, world),
		cmocka_unit_test_setup(test_ext_unowned_port_passes, world),
		cmocka_unit_test_setup(test_ext_echo_reply_after_request, world),
		cmocka_unit_test_setup(test_ext_icmp_errors_by_quote, world),
		cmocka_unit_test_setup(test_ext_time_exceeded_quoting_echo, world),
		cmocka_unit_test_setup(test_ext_too_big_frag_needed, world),
		cmocka_unit_test_setup_teardown(test_ext_link_mtu_frag_needed, world,
						restore_int_mtu),
		cmocka_unit_test_setup(test_ext_too_big_rules, world),
		cmocka_unit_test_setup(test_ext_frag_needed_rate_limit, world),
		cmocka_unit_test_setup(test_ext_ipsec_error_relay, world),
		cmocka_unit_test_setup(test_ext_fragments_follow_first, world),
		cmocka_unit_test_setup(test_ext_stack_fragments_follow_first, world),
		cmocka_unit_test_setup(test_ext_unknown_fragment, world),
		cmocka_unit_test_setup(test_ext_truncated_every_layer, world),
		cmocka_unit_test_setup(test_ext_malformed_to_g, world),
		cmocka_unit_test_setup(test_ext_outer_header_every_length, world),
		cmocka_unit_test_setup(test_ext_ip_options, world),
		cmocka_unit_test_setup(test_ext_not_ours_passes, world),
		cmocka_unit_test_setup(test_ext_disabled_passes, world),
		cmocka_unit_test_setup(test_ext_no_neighbour_no_route, world),
		cmocka_unit_test_setup(test_ext_mac_fast_path, world),
		cmocka_unit_test_setup(test_ext_mac_fib_fallback, world),
		cmocka_unit_test_setup(test_ext_mac_fast_path_frag_needed, world),
		cmocka_unit_test_setup(test_ext_mac_from_value, world),
		cmocka_unit_test_setup(test_ext_mac_zero_in_value_fib, world),
		cmocka_unit_test_setup(test_ext_fragment_learns_mac, world),
		cmocka_unit_test_setup(test_ext_fragment_conflict, world),
		cmocka_unit_test_setup(test_ext_fragment_budget, world),
		cmocka_unit_test_setup(test_ext_source_validation, world),
		cmocka_unit_test_setup(test_ext_ttl, world),
		cmocka_unit_test_setup(test_ext_ecn_to_outer, world),
		cmocka_unit_test_setup(test_ext_route_reasons, world),
	};

	return cmocka_run_group_tests_name("bpf_gw_ext", tests, group_setup, group_teardown);
}
