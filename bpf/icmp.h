/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The ICMP answers of the data plane, built in place from the packet they
 * are about and sent back where it came from: frag-needed from G for a
 * packet too big for the tunnel to its host (gw_ext), time-exceeded for a
 * packet whose TTL runs out at the gateway (gw_ext: from G out of the
 * external NIC; gw_int: from Gi, tunnelled back to the host).
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

/* Room an ICMP answer needs in front of the packet it quotes: its IPv4 +
 * ICMP headers. */
#define FRAG_NEEDED_HDRS	(sizeof(struct iphdr) + sizeof(struct icmphdr))
/* Longest quote: an IPv4 header with full options + 8 bytes of payload. */
#define ICMP_MAX_QUOTE		(60 + 8)
_Static_assert(CSUM_MAX_WORDS * 2 >= 8 + ICMP_MAX_QUOTE, "csum_words covers the answer");

/*
 * The per-CPU budget of the ICMP errors the programs build, as the kernel's
 * icmp_ratelimit (net.ipv4.icmp_msgs_per_sec, icmp_msgs_burst): a token per
 * millisecond, at most ICMP_BURST saved. Not pinned: each program and CPU
 * has its own bucket, as each CPU has in the kernel.
 */
#define ICMP_TOKEN_NS		1000000ULL
#define ICMP_BURST		50

struct icmp_bucket {
	__u64 last_ns;
	__u32 tokens;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct icmp_bucket);
} xdnat_icmp_bucket SEC(".maps");

/* One token, if there is one: may an ICMP error be sent now? */
static __always_inline bool icmp_rate_ok(void)
{
	__u32 key = 0;
	struct icmp_bucket *b = bpf_map_lookup_elem(&xdnat_icmp_bucket, &key);
	__u64 now = bpf_ktime_get_coarse_ns(), add;

	if (!b)
		return false;
	add = (now - b->last_ns) / ICMP_TOKEN_NS;
	if (add) {
		b->tokens = add >= ICMP_BURST || b->tokens + add >= ICMP_BURST ?
			    ICMP_BURST : b->tokens + (__u32)add;
		b->last_ns = now;
	}
	if (!b->tokens)
		return false;
	b->tokens--;
	return true;
}

/*
 * RFC 1812 4.3.2.7: no ICMP error about a non-first fragment, an ICMP
 * error, or a packet whose source is not one host (0, loopback, multicast,
 * broadcast). iph is bounds-checked with its whole header; l4 points past
 * it, its first byte (the ICMP type) not yet checked.
 */
static __always_inline bool icmp_error_allowed(const struct iphdr *iph, void *data_end)
{
	const __u8 *l4 = (const __u8 *)iph + iph->ihl * 4;
	__u32 src = bpf_ntohl(iph->saddr);
	__u8 type;

	if (iph->frag_off & bpf_htons(IP_OFFSET))
		return false;
	if (!src || (src >> 24) == 127 || (src >> 28) >= 0xe)
		return false;
	if (iph->protocol == IPPROTO_ICMP) {
		if ((void *)(l4 + 1) > data_end)
			return false;
		type = *l4;
		if (type == ICMP_DEST_UNREACH || type == ICMP_TIME_EXCEEDED ||
		    type == ICMP_PARAMETERPROB || type == 4 /* source quench */ ||
		    type == 5 /* redirect */)
			return false;
	}
	return true;
}

/*
 * An ICMP error about the IPv4 packet that follows the Ethernet header and
 * tun_len bytes of tunnel header (0, or 20: the host tunnel's, without
 * options, a compile-time constant), built in place and returned where it
 * came from with XDP_TX, counted as reason. Grow the head by the new IP +
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
	return verdict(ctx, XDP_TX, reason);
}

/*
 * Answer a packet too big for the tunnel with ICMP frag-needed (RFC 1191)
 * from G, back out of the NIC it came in on.
 */
static __always_inline int send_frag_needed(struct xdp_md *ctx, __u32 global,
					    __u32 mtu)
{
	return send_icmp_error(ctx, 0, 0, 0, global, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED,
			       bpf_htonl(mtu & 0xffff), XDNAT_ICMP_FRAG_NEEDED,
			       XDNAT_DROP_NO_ROUTE);
}

#endif
