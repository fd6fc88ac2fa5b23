/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * tgen — the traffic generator of bench/live_bench: XDP programs run by
 * BPF_PROG_RUN with BPF_F_TEST_XDP_LIVE_FRAMES, each returning XDP_TX, which
 * the kernel turns into a redirect out of the generator's NIC (a veth, so
 * the frame lands in the peer's receive ring: the gateway's NIC).
 *
 * Live frames come from a page_pool and are recycled with whatever the last
 * user wrote into them (a gateway rewrites headers in place, pushes or pops
 * a tunnel header): only the data pointers are reset. So every frame gets
 * the whole header template copied in, then its flow's fields.
 *
 * Flows: frame i belongs to flow k = i mod flows (flows a power of two;
 * with `spread` k is permuted so consecutive frames touch unrelated table
 * entries). The template is flow 0; flow k adds k to one address (and to
 * the SPI, or a port), and the IPv4 (and TCP) checksums are adjusted
 * incrementally (RFC 1624). One program; the layout of a run (`layout`)
 * fixes the offsets:
 *   TGEN_ESP	Ethernet, IPv4, ESP: source address + k, SPI + k
 *   TGEN_L4	Ethernet, IPv4, UDP or TCP: source address + k, source port + k
 *   TGEN_IPIP	Ethernet, IPv4 (host -> Gi), IPv4, UDP or TCP: the inner
 *		destination + k, destination port + k (what a host sends)
 *   TGEN_OUT	Ethernet, IPv4, UDP or TCP: destination + k, destination
 *		port + k (a host without the tunnel, behind a NAT)
 *   TGEN_BARE	the frame as given, flow 0, untouched: the minimal rig's
 *		generator (only for frames nobody rewrites on the way)
 * The bench writes the globals below (the skeleton's mmapped .bss) before
 * each run; all frames of a run come from one CPU, so next_flow needs no
 * atomics.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define TGEN_WORDS	10		/* template: at most 80 bytes */
#define ETH_LEN		14
#define IP_LEN		20		/* templates carry no IP options */

enum tgen_layout { TGEN_ESP, TGEN_L4, TGEN_IPIP, TGEN_OUT, TGEN_BARE };

__u64 tmpl[TGEN_WORDS];			/* flow 0's headers */
__u32 words;				/* 8-byte words of tmpl to copy */
__u32 flow_mask;			/* flows - 1 */
__u32 spread;				/* permute the flows */
__u32 addr_base;			/* host order: flow 0's varied address */
__u32 spi_base;				/* host order: flow 0's SPI */
__u32 port_base;			/* host order: flow 0's varied port */
__u32 tcp;				/* the L4 is TCP: adjust its checksum */
__u32 next_flow;
__u32 layout;				/* enum tgen_layout */

/* Fold a 32-bit one's complement sum to 16 bits (not complemented). */
static __always_inline __u32 fold(__u32 s)
{
	s = (s & 0xffff) + (s >> 16);
	return (s & 0xffff) + (s >> 16);
}

/* RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'), for a 32-bit field changed from
 * `from` to `to`. All in memory order: one's complement sums do not care. */
static __always_inline void csum_repl32(__u16 *check, __u32 from, __u32 to)
{
	__u32 s = (__u16)~*check;

	s += (__u16)~(from & 0xffff) + (__u16)~(from >> 16);
	s += (to & 0xffff) + (to >> 16);
	*check = (__u16)~fold(s);
}

static __always_inline void csum_repl16(__u16 *check, __u16 from, __u16 to)
{
	__u32 s = (__u16)~*check;

	s += (__u16)~from + to;
	*check = (__u16)~fold(s);
}

/* Copies the template; the flow of this frame, or -1 (frame too short). */
static __always_inline int start_frame(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 *w = data;
	__u32 i, k;

	for (i = 0; i < TGEN_WORDS; i++) {
		if (i >= words)
			break;
		if ((void *)(w + i + 1) > data_end)
			return -1;
		w[i] = tmpl[i];
	}
	k = next_flow;
	next_flow = (k + 1) & flow_mask;
	/* k * odd is a bijection modulo a power of two */
	if (spread)
		k = (k * 0x9e3779b1u) & flow_mask;
	return (int)k;
}

/*
 * Flow k into the IPv4 header at ip_off (and its L4 header after it): the
 * address at addr_off within the IP header (12 source, 16 destination) and
 * either the SPI (spi: right after the IP header) or the port at port_off
 * within the L4 header.
 */
static __always_inline int set_flow(struct xdp_md *ctx, __u32 k, const __u32 ip_off,
				    const __u32 addr_off, const bool spi, const __u32 port_off)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct iphdr *iph = data + ip_off;
	void *l4 = (void *)(iph + 1);
	__u32 *addr = (void *)iph + addr_off;
	__u32 a0 = bpf_htonl(addr_base), a = bpf_htonl(addr_base + k);
	__u16 p0 = bpf_htons((__u16)port_base), p;
	struct tcphdr *th = l4;

	/* an ESP or UDP header; TCP's is checked below */
	if (l4 + 8 > data_end)
		return XDP_ABORTED;
	*addr = a;
	csum_repl32(&iph->check, a0, a);
	if (spi) {
		*(__u32 *)l4 = bpf_htonl(spi_base + k);
		return XDP_TX;
	}
	/* ports from port_base on, never 0 */
	p = bpf_htons((__u16)(port_base + (k & 0x7fff)));
	*(__u16 *)(l4 + port_off) = p;
	if (tcp) {
		if (l4 + sizeof(struct tcphdr) > data_end)
			return XDP_ABORTED;
		/* the address is in the pseudo-header */
		csum_repl32(&th->check, a0, a);
		csum_repl16(&th->check, p0, p);
	}
	return XDP_TX;
}

/*
 * One program for every layout (the `layout` global picks it): a test run
 * with live frames puts its program into the kernel's XDP dispatcher and
 * takes it out again, a synchronize_rcu() each way (milliseconds here) per
 * BPF_PROG_RUN call, unless the program is attached somewhere and so stays
 * in. live_bench keeps this one attached (generic XDP on the generator
 * namespace's lo, which carries no traffic) for the whole run.
 */
SEC("xdp")
int tgen(struct xdp_md *ctx)
{
	int k;

	if (layout == TGEN_BARE)
		return XDP_TX;
	k = start_frame(ctx);
	if (k < 0)
		return XDP_ABORTED;
	switch (layout) {
	case TGEN_ESP:
		return set_flow(ctx, (__u32)k, ETH_LEN, 12, true, 0);
	case TGEN_L4:
		return set_flow(ctx, (__u32)k, ETH_LEN, 12, false, 0);
	case TGEN_IPIP:
		return set_flow(ctx, (__u32)k, ETH_LEN + IP_LEN, 16, false, 2);
	default:
		return set_flow(ctx, (__u32)k, ETH_LEN, 16, false, 2);
	}
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
