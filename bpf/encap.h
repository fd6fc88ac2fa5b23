/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The host tunnel (IPv4-in-IPv4 between Gi and a host's Hi) built and
 * stripped by hand, plus the steps both programs share: the configuration,
 * the route lookup and the MAC + redirect step. After any
 * bpf_xdp_adjust_head every packet pointer is stale: these helpers re-derive
 * theirs from ctx and so must the callers.
 */
#ifndef XDNAT_BPF_ENCAP_H
#define XDNAT_BPF_ENCAP_H

#include "maps.h"
#include "parse.h"
#include "ipv4.h"

#ifndef AF_INET
#define AF_INET			2
#endif

/* The configuration, when the data plane is enabled; else NULL: every
 * frame is the stack's. */
static __always_inline struct xdnat_cfg *cfg_enabled(void)
{
	__u32 key = 0;
	struct xdnat_cfg *cfg = bpf_map_lookup_elem(&xdnat_cfg, &key);

	return cfg && (cfg->flags & XDNAT_CFG_ENABLED) ? cfg : NULL;
}

/*
 * Prepend the outer IPv4 header Gi -> Hi in front of the inner packet that
 * starts right after the Ethernet header. inner_len is the inner total
 * length (host order), tos is copied from the inner header (RFC 2003).
 * Returns 0, or -1 when there is no headroom (nothing was changed then).
 */
static __always_inline int tunnel_push(struct xdp_md *ctx, __u32 saddr,
				       __u32 daddr, __u8 tos, __u16 inner_len)
{
	struct ethhdr *eth, *old_eth;
	struct iphdr *outer;
	void *data, *data_end;

	if (bpf_xdp_adjust_head(ctx, -(int)sizeof(struct iphdr)))
		return -1;
	/* adjust_head invalidated every packet pointer: start over from ctx */
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	old_eth = data + sizeof(struct iphdr);
	outer = data + sizeof(*eth);
	if ((void *)(outer + 1) + sizeof(struct iphdr) > data_end)
		return -1;
	/* the Ethernet header moves to the new front; the outer IP header then
	 * overwrites its old place (no overlap: 20 bytes apart, 14 long) */
	__builtin_memcpy(eth, old_eth, sizeof(*eth));
	ipv4_build(outer, tos, inner_len + sizeof(struct iphdr), IPPROTO_IPIP, saddr, daddr);
	return 0;
}

/*
 * Remove the outer header (outer_len bytes, 20..60) that follows the
 * Ethernet header. The new Ethernet header is written where the outer one
 * ended: only its EtherType survives, fwd_l2() writes the MACs, so nothing
 * else of the old one needs moving.
 * Returns 0, or -1 (nothing changed unless adjust_head succeeded).
 */
static __always_inline int tunnel_pop(struct xdp_md *ctx, __u32 outer_len)
{
	struct ethhdr *eth;
	void *data, *data_end;

	if (outer_len < sizeof(struct iphdr) || outer_len > 60)
		return -1;
	if (bpf_xdp_adjust_head(ctx, (int)outer_len))
		return -1;
	/* adjust_head invalidated every packet pointer: start over from ctx */
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return -1;
	eth->h_proto = bpf_htons(ETH_P_IP);
	return 0;
}

/*
 * Route and neighbour lookup in the kernel's tables. ifindex is the ingress
 * device (it must have forwarding on, else BPF_FIB_LKUP_RET_FWD_DISABLED);
 * tot_len (host order) makes the kernel check the egress MTU and report
 * BPF_FIB_LKUP_RET_FRAG_NEEDED with p->mtu_result. Returns BPF_FIB_LKUP_RET_*.
 */
static __always_inline int fib_ipv4(struct xdp_md *ctx, struct bpf_fib_lookup *p,
				    __u32 src, __u32 dst, __u8 tos, __u16 tot_len,
				    __u8 l4_protocol)
{
	__builtin_memset(p, 0, sizeof(*p));
	p->family = AF_INET;
	p->l4_protocol = l4_protocol;
	p->tos = tos;
	p->tot_len = tot_len;
	p->ipv4_src = src;
	p->ipv4_dst = dst;
	p->ifindex = ctx->ingress_ifindex;
	return bpf_fib_lookup(ctx, p, sizeof(*p), 0);
}

/*
 * Set the MACs (the next hop's, the egress NIC's) and redirect out of
 * ifindex through xdnat_tx (a DEVMAP_HASH, so the egress must be one of the
 * gateway's NICs). The MACs come from a FIB lookup, or from xdnatd.
 * Returns XDP_REDIRECT, or another action when the frame or map says no.
 */
static __always_inline int fwd_l2(struct xdp_md *ctx, const __u8 *dmac, const __u8 *smac,
				  __u32 ifindex)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return XDP_ABORTED;
	__builtin_memcpy(eth->h_dest, dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, smac, ETH_ALEN);
	/* flags 0: a missing devmap entry yields XDP_ABORTED, not a redirect */
	return bpf_redirect_map(&xdnat_tx, ifindex, 0);
}

#endif
