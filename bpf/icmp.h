/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The ICMP answers of the data plane, built in place from the packet they
 * are about and sent back where it came from: frag-needed (RFC 1191) from G
 * for a packet too big for the tunnel to its host (gw_ext), and from Gi,
 * tunnelled, for a host's packet too big for the external link (gw_int).
 * Both under RFC 1812 4.3.2.7's rules and a per-CPU rate limit.
 */
#ifndef XDNAT_BPF_ICMP_H
#define XDNAT_BPF_ICMP_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "parse.h"
#include "csum.h"
#include "ipv4.h"
#include "stats.h"

/* Room the frag-needed answer needs in front of its quote: IPv4 + ICMP. */
#define FRAG_NEEDED_HDRS	(sizeof(struct iphdr) + sizeof(struct icmphdr))
/* Longest quote: an IPv4 header with full options + 8 bytes of payload. */
#define ICMP_MAX_QUOTE		(60 + 8)
#define ICMP_ETH_HLEN		14

/*
 * The token bucket of slot (enum xdnat_icmp_rl_slot): true, and one token
 * taken, when an ICMP may be sent now. No atomics: per CPU, preemption off.
 */
static __always_inline bool icmp_allowed(__u32 slot)
{
	struct xdnat_icmp_bucket *b = bpf_map_lookup_elem(&xdnat_icmp_rl, &slot);
	__u64 now, add;

	if (!b)
		return false;
	now = bpf_ktime_get_ns();
	if (!b->stamp_ns) {
		b->stamp_ns = now;
		b->tokens = XDNAT_ICMP_BURST;
	} else if (now > b->stamp_ns) {
		add = (now - b->stamp_ns) / XDNAT_ICMP_INTERVAL_NS;
		if (add >= XDNAT_ICMP_BURST || b->tokens + add >= XDNAT_ICMP_BURST) {
			b->tokens = XDNAT_ICMP_BURST;
			b->stamp_ns = now;
		} else if (add) {
			b->tokens += (__u32)add;
			/* keep the fraction of an interval already earned */
			b->stamp_ns += add * XDNAT_ICMP_INTERVAL_NS;
		}
	}
	if (!b->tokens)
		return false;
	b->tokens--;
	return true;
}

/* A source no ICMP may go to (RFC 1812 4.3.2.7, 5.3.7): 0/8, 127/8,
 * multicast and 240/4 (class E and the limited broadcast). */
static __always_inline bool icmp_bad_source(__u32 saddr_be)
{
	__u8 first = ((const __u8 *)&saddr_be)[0];

	return first == 0 || first == 127 || first >= 224;
}

/* An ICMP error type, as the kernel's icmp_pointers[].error says, unknown
 * types (above 18) included: never answered with another error. */
static __always_inline bool icmp_is_error(__u8 type)
{
	return type == ICMP_DEST_UNREACH || type == 4 /* source quench */ ||
	       type == 5 /* redirect */ || type == ICMP_TIME_EXCEEDED ||
	       type == ICMP_PARAMETERPROB || type > 18;
}

/*
 * Whether a packet too big for its next link (its IPv4 header at iph,
 * parsed) may be answered with frag-needed: XDNAT_PASS_STACK when yes, else
 * the reason it is dropped under. DF clear: XDP cannot fragment. Never about
 * a non-first fragment, an ICMP error or from an invalid source; then the
 * rate limit of slot.
 */
static __always_inline int frag_needed_rule(struct iphdr *iph, void *data_end, __u32 slot)
{
	__u8 *l4;

	if (!(iph->frag_off & bpf_htons(IP_DF)))
		return XDNAT_DROP_TOO_BIG_NOT_DF;
	if ((iph->frag_off & bpf_htons(IP_OFFSET)) || icmp_bad_source(iph->saddr))
		return XDNAT_DROP_TOO_BIG_NO_ICMP;
	if (iph->protocol == IPPROTO_ICMP) {
		l4 = (__u8 *)iph + iph->ihl * 4;
		if ((void *)(l4 + 1) > data_end || icmp_is_error(*l4))
			return XDNAT_DROP_TOO_BIG_NO_ICMP;
	}
	if (!icmp_allowed(slot))
		return XDNAT_DROP_ICMP_RATELIMITED;
	return XDNAT_PASS_STACK;
}

/*
 * Turn the frame into frag-needed about the IPv4 packet at quote_off,
 * built in place: move the head so the received IP header is already where
 * the quote goes, swap the MACs, write the headers in front of it, cut the
 * tail after the first 8 payload bytes. The answer's IP header goes from src
 * to the quoted source; with tunnel, inside an outer header tun_src ->
 * tun_dst (the host tunnel). mtu: the next-hop MTU it announces. 0, or -1
 * when the frame cannot be rewritten (it is then to be dropped).
 */
static __always_inline int build_frag_needed(struct xdp_md *ctx, __u32 quote_off, bool tunnel,
					     __u32 tun_src, __u32 tun_dst, __u32 src,
					     __u32 mtu)
{
	const __u32 lead = ICMP_ETH_HLEN + (tunnel ? sizeof(struct iphdr) : 0);
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *outer, *iph, *qip;
	struct icmphdr *icmp;
	__u8 dmac[ETH_ALEN], smac[ETH_ALEN];
	__u32 qhl, icmp_len, new_len, cur_len;

	if ((void *)(eth + 1) > data_end)
		return -1;
	/* back to where it came from */
	__builtin_memcpy(dmac, eth->h_source, ETH_ALEN);
	__builtin_memcpy(smac, eth->h_dest, ETH_ALEN);
	if (bpf_xdp_adjust_head(ctx, (int)quote_off - (int)(lead + FRAG_NEEDED_HDRS)))
		return -1;
	/* adjust_head invalidated every packet pointer: start over from ctx */
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	outer = data + ICMP_ETH_HLEN;
	iph = data + lead;
	icmp = (void *)(iph + 1);
	qip = (void *)(icmp + 1);
	/* constant bound covering the longest quote, for bpf_csum_diff below;
	 * holds for any too-big packet unless an MTU is absurdly small */
	if ((void *)qip + ICMP_MAX_QUOTE > data_end)
		return -1;
	qhl = qip->ihl * 4;

	__builtin_memcpy(eth->h_dest, dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, smac, ETH_ALEN);
	eth->h_proto = bpf_htons(ETH_P_IP);

	icmp_len = sizeof(*icmp) + qhl + 8;
	ipv4_build(iph, 0, sizeof(*iph) + icmp_len, IPPROTO_ICMP, src, qip->saddr);
	if (tunnel)
		ipv4_build(outer, 0, 2 * sizeof(*iph) + icmp_len, IPPROTO_IPIP, tun_src,
			   tun_dst);

	icmp->type = ICMP_DEST_UNREACH;
	icmp->code = ICMP_FRAG_NEEDED;
	icmp->checksum = 0;
	icmp->un.frag.__unused = 0;
	icmp->un.frag.mtu = bpf_htons(mtu);
	/* icmp_len <= 8 + ICMP_MAX_QUOTE, all inside the bound checked above */
	icmp->checksum = csum_buf(icmp, icmp_len);

	new_len = lead + sizeof(*iph) + icmp_len;
	cur_len = data_end - data;
	if (new_len < cur_len && bpf_xdp_adjust_tail(ctx, (int)new_len - (int)cur_len))
		return -1;
	return 0;
}

/*
 * Send the answer back out of the NIC it came in on. A redirect through
 * xdnat_tx, not XDP_TX: a veth's XDP_TX frames wait in its peer's ring
 * until the peer runs an XDP program of its own (veth_xdp_flush), so on
 * all-in-one deployments they would never leave; a redirect is flushed at
 * the end of the NAPI poll like every forwarded packet.
 */
static __always_inline int send_back(struct xdp_md *ctx, enum xdnat_reason reason)
{
	if (bpf_redirect_map(&xdnat_tx, ctx->ingress_ifindex, 0) != XDP_REDIRECT)
		return verdict(ctx, XDP_DROP, XDNAT_DROP_NO_ROUTE);
	return verdict(ctx, XDP_REDIRECT, reason);
}

/*
 * gw_ext: answer a packet to G too big for the tunnel to its host (its IPv4
 * header at iph, right after Ethernet) with frag-needed from G, back to its
 * sender, when RFC 1812 and the rate limit allow; else drop it under the
 * reason.
 */
static __always_inline int send_frag_needed(struct xdp_md *ctx, struct iphdr *iph,
					    __u32 global, __u32 mtu)
{
	int r = frag_needed_rule(iph, (void *)(long)ctx->data_end, XDNAT_ICMP_RL_EXT);

	if (r != XDNAT_PASS_STACK)
		return verdict(ctx, XDP_DROP, r);
	if (build_frag_needed(ctx, ICMP_ETH_HLEN, false, 0, 0, global, mtu))
		return verdict(ctx, XDP_DROP, XDNAT_DROP_NO_ROUTE);
	return send_back(ctx, XDNAT_ICMP_FRAG_NEEDED);
}

/*
 * gw_int: a host's inner packet (header at iph, quote_off bytes into the
 * frame, behind the tunnel header) too big for the external link: frag-
 * needed from Gi to G, tunnelled Gi -> hi back to the host, so
 * its stack takes it as any router's PMTU update; or the drop reason.
 */
static __always_inline int send_frag_needed_host(struct xdp_md *ctx, struct iphdr *iph,
						 __u32 quote_off, __u32 gi, __u32 hi,
						 __u32 mtu)
{
	int r = frag_needed_rule(iph, (void *)(long)ctx->data_end, XDNAT_ICMP_RL_HOST);

	if (r != XDNAT_PASS_STACK)
		return verdict(ctx, XDP_DROP, r);
	if (build_frag_needed(ctx, quote_off, true, gi, hi, gi, mtu))
		return verdict(ctx, XDP_DROP, XDNAT_DROP_NO_ROUTE);
	return send_back(ctx, XDNAT_ICMP_FRAG_TO_HOST);
}

#endif
