/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The ICMP answers of the data plane, built in place from the packet they
 * are about and sent back where it came from. Today one: frag-needed from G
 * for a packet too big for the tunnel to its host (gw_ext).
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

/* Room the frag-needed answer needs in front: its IPv4 + ICMP headers. */
#define FRAG_NEEDED_HDRS	(sizeof(struct iphdr) + sizeof(struct icmphdr))
/* Longest quote: an IPv4 header with full options + 8 bytes of payload. */
#define ICMP_MAX_QUOTE		(60 + 8)

/*
 * Answer a packet too big for the tunnel with ICMP frag-needed (RFC 1191)
 * from G, built in place: grow the head by the new IP + ICMP headers so the
 * received IP header is already where the quote goes, swap the MACs, then
 * cut the tail after the first 8 payload bytes. XDP_TX back to the sender.
 */
static __always_inline int send_frag_needed(struct xdp_md *ctx, __u32 global,
					    __u32 mtu)
{
	struct ethhdr *eth, *old_eth;
	struct iphdr *iph, *qip;
	struct icmphdr *icmp;
	void *data, *data_end;
	__u32 qhl, icmp_len, new_len, cur_len;

	if (bpf_xdp_adjust_head(ctx, -(int)FRAG_NEEDED_HDRS))
		return verdict(ctx, XDP_DROP, XDNAT_DROP_NO_ROUTE);
	/* adjust_head invalidated every packet pointer: start over from ctx */
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	old_eth = data + FRAG_NEEDED_HDRS;
	iph = data + sizeof(*eth);
	icmp = (void *)(iph + 1);
	qip = (void *)(icmp + 1);
	/* constant bound covering the longest quote, for bpf_csum_diff below;
	 * holds for any too-big packet unless int_mtu is absurdly small */
	if ((void *)qip + ICMP_MAX_QUOTE > data_end)
		return verdict(ctx, XDP_DROP, XDNAT_DROP_NO_ROUTE);
	qhl = qip->ihl * 4;

	/* reply to where it came from: swap the MACs before the old Ethernet
	 * header (under the new IP/ICMP headers) is overwritten */
	__builtin_memcpy(eth->h_dest, old_eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, old_eth->h_dest, ETH_ALEN);
	eth->h_proto = bpf_htons(ETH_P_IP);

	icmp_len = sizeof(*icmp) + qhl + 8;
	ipv4_build(iph, 0, sizeof(*iph) + icmp_len, IPPROTO_ICMP, global, qip->saddr);

	icmp->type = ICMP_DEST_UNREACH;
	icmp->code = ICMP_FRAG_NEEDED;
	icmp->checksum = 0;
	icmp->un.frag.__unused = 0;
	icmp->un.frag.mtu = bpf_htons(mtu);
	/* icmp_len <= 8 + ICMP_MAX_QUOTE, all inside the bound checked above */
	icmp->checksum = csum_buf(icmp, icmp_len);

	new_len = sizeof(*eth) + sizeof(*iph) + icmp_len;
	cur_len = data_end - data;
	if (new_len < cur_len && bpf_xdp_adjust_tail(ctx, (int)new_len - (int)cur_len))
		return verdict(ctx, XDP_DROP, XDNAT_DROP_NO_ROUTE);
	return verdict(ctx, XDP_TX, XDNAT_ICMP_FRAG_NEEDED);
}

#endif
