/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * gw_ext: XDP on the gateway's external NIC. Packets to the global address
 * G are tunnelled, unmodified, to the host that holds their port, SPI or
 * ICMP id (IPv4-in-IPv4, Gi -> Hi), or dropped with a counted reason; what
 * no host holds goes to the gateway's own stack, and so does everything not
 * for G. See docs/design.md, "The path of a packet".
 *
 * Malformed packets to G (truncated, inconsistent lengths, bad version or
 * ihl) are dropped and counted as malformed rather than passed: the stack
 * would drop them too, and a half-parsed packet must never be attributed to
 * a host. A frame too short to even read the IPv4 destination cannot be
 * told to be for G, so it goes to the stack, which discards it.
 *
 * Fragments: the first one is attributed like a whole packet and its
 * (source, id, protocol) remembered in xdnat_frags with where it went: a
 * host, or client 0 for the gateway's own stack (which must get all the
 * fragments of, say, a certificate-carrying IKE message to reassemble it).
 * A later fragment whose first one was not seen (lost, dropped, or arriving
 * out of order) is dropped as frag_unknown. A first fragment does not
 * re-point a datagram learned for another holder (frag_conflict), and one
 * source enters only so many new datagrams (frag_budget): classify.h.
 *
 * Sources are checked first (check_source): nothing to G from a martian,
 * internal or G source reaches a host or the stack.
 *
 * Loading needs CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON: the verifier only
 * allows variable-offset packet pointers (IP options) to the latter.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "xdnat.h"
#include "maps.h"
#include "parse.h"
#include "encap.h"
#include "icmp.h"
#include "classify.h"
#include "stats.h"
#include "nexthop.h"

/*
 * The inner TTL ran out here (RFC 2003 3.1: the gateway is a hop of the
 * packet's path): time-exceeded from G back out of the external NIC, where
 * RFC 1812 allows an error and the budget has a token; else a counted drop.
 */
static __always_inline int ttl_expired(struct xdp_md *ctx, const struct xdnat_cfg *cfg,
				       struct iphdr *iph)
{
	void *data_end = (void *)(long)ctx->data_end;

	if (!icmp_error_allowed(iph, data_end) || !icmp_allowed(XDNAT_ICMP_RL_EXT))
		return verdict(ctx, XDP_DROP, XDNAT_DROP_TTL_EXCEEDED);
	return send_icmp_error(ctx, 0, 0, 0, cfg->global, ICMP_TIME_EXCEEDED, 0, 0,
			       XDNAT_ICMP_TIME_EXCEEDED, XDNAT_DROP_TTL_EXCEEDED);
}

/*
 * Tunnel the packet (its IPv4 header at iph) to owner: TTL, MTU check, next
 * hop, learn the fragment owner, decrement the TTL, push the outer header,
 * redirect.
 *
 * The next hop is the host's MAC as xdnatd resolved it, carried in the owner
 * value the packet was attributed with (no lookup), out of the internal NIC.
 * Until it is known (zero), or when int_mtu is unset and only the kernel
 * knows the link MTU, it is the FIB's route and neighbour: right, but most
 * of the forwarding cost.
 */
static __always_inline int forward(struct xdp_md *ctx, const struct xdnat_cfg *cfg,
				   const struct xdnat_owner *owner, struct iphdr *iph)
{
	struct bpf_fib_lookup p = {};
	__u32 tot_len = bpf_ntohs(iph->tot_len);
	__u16 frag = bpf_ntohs(iph->frag_off);
	__u8 tos = iph->tos;
	bool fast = false;
	__u32 mtu = 0;
	int rc;

	/* a router checks the TTL before anything else (RFC 1812 5.3.1) */
	if (iph->ttl <= 1)
		return ttl_expired(ctx, cfg, iph);
	/* the tunnel adds 20 bytes; a veth would drop an oversized frame
	 * silently. int_mtu unset (0): leave it to the FIB's MTU check, and
	 * no fast path, which has no other */
	if (cfg->int_mtu > sizeof(struct iphdr)) {
		if (tot_len + sizeof(struct iphdr) > cfg->int_mtu)
			mtu = cfg->int_mtu;
		else
			fast = mac_known(owner->mac);
	}
	if (!mtu && !fast) {
		rc = fib_ipv4(ctx, &p, cfg->internal, owner->host_addr, tos,
			      tot_len + sizeof(struct iphdr), IPPROTO_IPIP);
		/* int_mtu above what the internal link carries: the kernel knows */
		if (rc == BPF_FIB_LKUP_RET_FRAG_NEEDED)
			mtu = p.mtu_result;
		else if (rc == BPF_FIB_LKUP_RET_NO_NEIGH && p.ifindex == cfg->int_ifindex)
			return nexthop_unresolved(ctx, &p);
		else if (rc != BPF_FIB_LKUP_RET_SUCCESS)
			return verdict(ctx, XDP_DROP, fib_drop_reason(rc));
		else if (p.ifindex != cfg->int_ifindex)
			return verdict(ctx, XDP_DROP, XDNAT_DROP_ROUTE_WRONG_NIC);
	}
	if (mtu) {
		if (mtu <= sizeof(struct iphdr))
			return verdict(ctx, XDP_DROP, XDNAT_DROP_NO_ROUTE);
		/* what the sender may send: the link MTU less the outer header */
		return send_frag_needed(ctx, iph, cfg->global, mtu - sizeof(struct iphdr));
	}

	/* first fragment: the rest carry no port/SPI, remember who gets them */
	if ((frag & IP_MF) && !(frag & IP_OFFSET)) {
		rc = learn_fragment(iph, iph->saddr, owner);
		if (rc)
			return verdict(ctx, XDP_DROP, rc);
	}

	/* one hop: the outer header copies the inner TOS, ECN included
	 * (RFC 6040 normal mode), and has its own TTL */
	ipv4_set_tos_ttl(iph, tos, iph->ttl - 1);
	if (tunnel_push(ctx, cfg->internal, owner->host_addr, tos, tot_len))
		return verdict(ctx, XDP_DROP, XDNAT_DROP_ADJUST_HEAD_FAILED);
	/* iph is stale from here on: tunnel_push moved the packet start */
	if (fast)
		rc = fwd_l2(ctx, owner->mac, cfg->int_mac, cfg->int_ifindex);
	else
		rc = fwd_l2(ctx, p.dmac, p.smac, p.ifindex);
	if (rc != XDP_REDIRECT)
		return verdict(ctx, XDP_DROP, XDNAT_DROP_REDIRECT_FAILED);
	return verdict(ctx, XDP_REDIRECT, XDNAT_FWD_TO_HOST);
}

/*
 * Inbound source validation (BCP 38/84, RFC 1812 5.3.7), which the
 * gateway's rp_filter cannot do: XDP runs before it. No packet to G may
 * come from an address no host has (martian), from G itself, or from Gi
 * or an internal subnet: those are the hosts' side, and a host's packet
 * would be taken for its peer's (xdnat_frags keys hosts' datagrams by Hi).
 */
static __always_inline int check_source(const struct xdnat_cfg *cfg, __u32 saddr)
{
	if (ipv4_martian_src(saddr))
		return XDNAT_DROP_SRC_MARTIAN;
	if (saddr == cfg->global)
		return XDNAT_DROP_SRC_GLOBAL;
	if (saddr == cfg->internal)
		return XDNAT_DROP_SRC_INTERNAL;
#pragma unroll
	for (int i = 0; i < XDNAT_MAX_INT_NETS; i++)
		if (cfg->int_nets[i].mask &&
		    (saddr & cfg->int_nets[i].mask) == cfg->int_nets[i].net)
			return XDNAT_DROP_SRC_INTERNAL;
	return XDNAT_PASS_STACK;
}

static __always_inline int gw_ext_run(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct hdr_cursor nh = { .pos = data };
	struct xdnat_owner owner = {};
	struct xdnat_owner *fo;
	struct xdnat_cfg *cfg;
	struct ethhdr *eth;
	struct iphdr *iph;
	__u32 l4_len;
	__u16 frag;
	int r;

	cfg = cfg_enabled();
	if (!cfg)
		return verdict(ctx, XDP_PASS, XDNAT_PASS_STACK);
	/* ARP, IPv6, VLAN-tagged, runts: the stack's */
	if (parse_ethhdr(&nh, data_end, &eth) != ETH_P_IP)
		return verdict(ctx, XDP_PASS, XDNAT_PASS_STACK);
	iph = nh.pos;
	/* cannot even read the destination: not provably ours */
	if ((void *)(iph + 1) > data_end || iph->daddr != cfg->global)
		return verdict(ctx, XDP_PASS, XDNAT_PASS_STACK);

	if (parse_iphdr(&nh, data_end, &iph) < 0)
		return verdict(ctx, XDP_DROP, XDNAT_DROP_MALFORMED);
	r = check_source(cfg, iph->saddr);
	if (r != XDNAT_PASS_STACK)
		return verdict(ctx, XDP_DROP, r);
	/* IP payload length by the header, not the (maybe padded) frame */
	l4_len = bpf_ntohs(iph->tot_len) - iph->ihl * 4;
	frag = bpf_ntohs(iph->frag_off);

	if (frag & IP_OFFSET) {
		/* non-first fragment: only the first one told us its owner */
		fo = fragment_owner(iph, iph->saddr);
		if (!fo)
			return verdict(ctx, XDP_DROP, XDNAT_DROP_FRAG_UNKNOWN);
		/* the first one went to our stack: reassembly happens there */
		if (!fo->client_id)
			return verdict(ctx, XDP_PASS, XDNAT_PASS_STACK);
		owner = *fo;
		r = XDNAT_FWD_TO_HOST;
	} else {
		r = classify(&nh, data_end, iph, l4_len, cfg->global, &owner);
		/* the gateway's own fragmented datagrams (IKE with certificates)
		 * must reach the stack whole: the rest follow the first there */
		if (r == XDNAT_PASS_STACK && (frag & IP_MF)) {
			__builtin_memset(&owner, 0, sizeof(owner));
			r = learn_fragment(iph, iph->saddr, &owner);
			if (r)
				return verdict(ctx, XDP_DROP, r);
			r = XDNAT_PASS_STACK;
		}
	}

	if (r == XDNAT_FWD_TO_HOST)
		return forward(ctx, cfg, &owner, iph);
	if (r == XDNAT_PASS_STACK)
		return verdict(ctx, XDP_PASS, XDNAT_PASS_STACK);
	return verdict(ctx, XDP_DROP, r);
}

/*
 * Multi-buffer aware (xdp.frags, Linux 5.18): the program reads only the
 * linear part and bpf_xdp_adjust_head works on the first buffer, so it
 * attaches to a NIC with a jumbo MTU. A frame longer than its linear part
 * fails parse_iphdr's length check and is dropped as malformed (no
 * gateway path carries one: docs/xdnatd.md).
 */
SEC("xdp.frags")
int gw_ext(struct xdp_md *ctx)
{
	return gw_ext_run(ctx);
}

/* The same for kernels that refuse xdp.frags; xdnatd loads one of the two
 * (dataplane.c), both named ours. */
SEC("xdp")
int gw_ext_plain(struct xdp_md *ctx)
{
	return gw_ext_run(ctx);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
