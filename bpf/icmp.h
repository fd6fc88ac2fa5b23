/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The ICMP answers of the data plane, built in place from the packet they
 * are about and sent back where it came from: frag-needed (RFC 1191) from G
 * for a packet too big for the tunnel to its host (gw_ext), and from Gi,
 * tunnelled, for a host's packet too big for the external link (gw_int);
 * time-exceeded for a packet whose TTL runs out at the gateway (gw_ext:
 * from G out of the external NIC; gw_int: from Gi, tunnelled back to the
 * host). All under RFC 1812 4.3.2.7's rules and a per-CPU rate limit.
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
#include "bucket.h"

/* Room an ICMP answer needs in front of the packet it quotes: its IPv4 +
 * ICMP headers. */
#define FRAG_NEEDED_HDRS	(sizeof(struct iphdr) + sizeof(struct icmphdr))
/* Longest quote: an IPv4 header with full options + 8 bytes of payload. */
#define ICMP_MAX_QUOTE		(60 + 8)
_Static_assert(CSUM_MAX_WORDS * 2 >= 8 + ICMP_MAX_QUOTE, "csum_words covers the answer");

/*
 * The per-CPU budget of the ICMP errors the programs build, as the kernel's
 * icmp_ratelimit (net.ipv4.icmp_msgs_per_sec, icmp_msgs_burst): the token
 * bucket of slot (enum xdnat_icmp_rl_slot: one per direction) in the pinned
 * xdnat_icmp_rl, XDNAT_ICMP_BURST at once, one more every
 * XDNAT_ICMP_INTERVAL_NS. True, and one token taken, when an ICMP may be
 * sent now. No atomics: per CPU, preemption off.
 */
static __always_inline bool icmp_allowed(__u32 slot)
{
	struct xdnat_icmp_bucket *b = bpf_map_lookup_elem(&xdnat_icmp_rl, &slot);

	return b && bucket_take(b, bpf_ktime_get_ns(), XDNAT_ICMP_BURST, XDNAT_ICMP_INTERVAL_NS);
}

/*
 * RFC 1812 4.3.2.7: no ICMP error about a non-first fragment, an ICMP
 * error (types 3, 4, 5, 11, 12, and unknown ones above 18, as the kernel's
 * icmp_pointers[].error says), or a packet whose source is not one host
 * (0/8, loopback, multicast, 240/4 and broadcast). iph is bounds-checked
 * with its whole header; l4 points past it, its first byte (the ICMP type)
 * not yet checked.
 */
static __always_inline bool icmp_error_allowed(const struct iphdr *iph, void *data_end)
{
	const __u8 *l4 = (const __u8 *)iph + iph->ihl * 4;
	__u8 type;

	if (iph->frag_off & bpf_htons(IP_OFFSET))
		return false;
	if (ipv4_martian_src(iph->saddr))
		return false;
	if (iph->protocol == IPPROTO_ICMP) {
		if ((void *)(l4 + 1) > data_end)
			return false;
		type = *l4;
		if (type == ICMP_DEST_UNREACH || type == ICMP_TIME_EXCEEDED ||
		    type == ICMP_PARAMETERPROB || type == 4 /* source quench */ ||
		    type == 5 /* redirect */ || type > 18)
			return false;
	}
	return true;
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
		return verdict(ctx, XDP_DROP, XDNAT_DROP_REDIRECT_FAILED);
	return verdict(ctx, XDP_REDIRECT, reason);
}

/*
 * An ICMP error about the IPv4 packet that follows the Ethernet header and
 * tun_len bytes of tunnel header (0, or 20: the host tunnel's, without
 * options, a compile-time constant), built in place and returned where it
 * came from (send_back), counted as reason. Grow the head by the new IP +
 * ICMP headers so the received packet is already where the quote goes, swap
 * the MACs, then cut the tail after its first 8 payload bytes. From src to
 * the quoted source; with tun_len 20 inside a new tunnel header tun_src ->
 * tun_dst. rest: the ICMP header's second word (network order). Returns the
 * action; drops counted as fail, and as adjust_head_failed when there is no
 * room for the headers.
 */
static __always_inline int send_icmp_error(struct xdp_md *ctx, __u32 tun_len, __u32 tun_src,
					   __u32 tun_dst, __u32 src, __u8 type, __u8 code,
					   __u32 rest, enum xdnat_reason reason,
					   enum xdnat_reason fail)
{
	struct ethhdr *eth, *old_eth;
	struct iphdr *iph, *qip, *outer;
	struct icmphdr *icmp;
	void *data, *data_end;
	__u32 qhl, icmp_len, new_len, cur_len;
	__u16 sum;

	if (bpf_xdp_adjust_head(ctx, -(int)FRAG_NEEDED_HDRS))
		return verdict(ctx, XDP_DROP, XDNAT_DROP_ADJUST_HEAD_FAILED);
	/* adjust_head invalidated every packet pointer: start over from ctx */
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	old_eth = data + FRAG_NEEDED_HDRS;
	outer = data + sizeof(*eth);
	iph = data + sizeof(*eth) + tun_len;
	icmp = (void *)(iph + 1);
	qip = (void *)(icmp + 1);
	if ((void *)(qip + 1) > data_end)
		return verdict(ctx, XDP_DROP, fail);
	qhl = qip->ihl * 4;
	/* the quoted packet must hold its header and 8 bytes (not padding);
	 * csum_words() below checks they are in the frame */
	if (qhl < sizeof(*qip) || bpf_ntohs(qip->tot_len) < qhl + 8)
		return verdict(ctx, XDP_DROP, fail);
	icmp_len = sizeof(*icmp) + qhl + 8;

	/* reply to where it came from: swap the MACs before the old Ethernet
	 * header (under the new IP/ICMP headers) is overwritten */
	__builtin_memcpy(eth->h_dest, old_eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, old_eth->h_dest, ETH_ALEN);
	eth->h_proto = bpf_htons(ETH_P_IP);

	ipv4_build(iph, 0, sizeof(*iph) + icmp_len, IPPROTO_ICMP, src, qip->saddr);
	if (tun_len)
		ipv4_build(outer, 0, tun_len + sizeof(*iph) + icmp_len, IPPROTO_IPIP,
			   tun_src, tun_dst);

	icmp->type = type;
	icmp->code = code;
	icmp->checksum = 0;
	*(__u32 *)&icmp->un = rest;
	if (csum_words(icmp, icmp_len, data_end, &sum))
		return verdict(ctx, XDP_DROP, fail);
	icmp->checksum = sum;

	new_len = sizeof(*eth) + tun_len + sizeof(*iph) + icmp_len;
	cur_len = data_end - data;
	if (new_len < cur_len && bpf_xdp_adjust_tail(ctx, (int)new_len - (int)cur_len))
		return verdict(ctx, XDP_DROP, fail);
	return send_back(ctx, reason);
}

/*
 * Whether a packet too big for its next link (its IPv4 header at iph,
 * parsed) may be answered with frag-needed: XDNAT_PASS_STACK when yes, else
 * the reason it is dropped under. DF clear: XDP cannot fragment; then RFC
 * 1812's rules and the rate limit of slot.
 */
static __always_inline int frag_needed_rule(const struct iphdr *iph, void *data_end,
					    __u32 slot)
{
	if (!(iph->frag_off & bpf_htons(IP_DF)))
		return XDNAT_DROP_TOO_BIG_NOT_DF;
	if (!icmp_error_allowed(iph, data_end))
		return XDNAT_DROP_TOO_BIG_NO_ICMP;
	if (!icmp_allowed(slot))
		return XDNAT_DROP_ICMP_RATELIMITED;
	return XDNAT_PASS_STACK;
}

/*
 * gw_ext: answer a packet to G too big for the tunnel to its host (its IPv4
 * header at iph, right after Ethernet) with frag-needed (RFC 1191) from G,
 * back to its sender, when the rules allow; else drop it under the reason.
 */
static __always_inline int send_frag_needed(struct xdp_md *ctx, const struct iphdr *iph,
					    __u32 global, __u32 mtu)
{
	int r = frag_needed_rule(iph, (void *)(long)ctx->data_end, XDNAT_ICMP_RL_EXT);

	if (r != XDNAT_PASS_STACK)
		return verdict(ctx, XDP_DROP, r);
	return send_icmp_error(ctx, 0, 0, 0, global, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED,
			       bpf_htonl(mtu & 0xffff), XDNAT_ICMP_FRAG_NEEDED,
			       XDNAT_DROP_NO_ROUTE);
}

/*
 * gw_int: a host's inner packet (header at iph, behind a tunnel header of
 * outer_len bytes) too big for the external link: frag-needed from Gi to G,
 * tunnelled Gi -> hi back to the host, so its stack takes it as any
 * router's PMTU update; or the drop reason. Hosts' tunnel headers have no
 * options (host_tunnel builds them); one with options gets no answer.
 */
static __always_inline int send_frag_needed_host(struct xdp_md *ctx, const struct iphdr *iph,
						 __u32 outer_len, __u32 gi, __u32 hi,
						 __u32 mtu)
{
	int r = outer_len == sizeof(struct iphdr) ?
		frag_needed_rule(iph, (void *)(long)ctx->data_end, XDNAT_ICMP_RL_HOST) :
		XDNAT_DROP_TOO_BIG_NO_ICMP;

	if (r != XDNAT_PASS_STACK)
		return verdict(ctx, XDP_DROP, r);
	return send_icmp_error(ctx, sizeof(struct iphdr), gi, hi, gi, ICMP_DEST_UNREACH,
			       ICMP_FRAG_NEEDED, bpf_htonl(mtu & 0xffff),
			       XDNAT_ICMP_FRAG_TO_HOST, XDNAT_DROP_NO_ROUTE);
}

#endif
