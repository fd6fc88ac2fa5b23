/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * gw_int: XDP on the gateway's internal NIC. A registered host sends its
 * outbound packets (source G, its own ports / echo ids) tunnelled to Gi in
 * IPv4-in-IPv4; we check the host really holds that share of G, strip the
 * outer header and send the inner packet out of the external NIC, as a
 * router would: its TTL decremented (RFC 2003 3.1), the outer header's
 * congestion mark carried over (RFC 6040). A packet to G itself is
 * hairpinned (RFC 4787 REQ-9): attributed as gw_ext attributes inbound
 * packets and tunnelled to the host holding its port. Everything else (PAP
 * to Gi, ARP, traffic to the gateway) goes to the stack. See
 * docs/design.md, "The path of a packet", and docs/xdnatd.md.
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

/* Two MACs alike; both 4-byte aligned in their values (asserted in xdnat.h):
 * two loads each, no memcmp (BPF has none). */
static __always_inline bool mac_eq(const __u8 *a, const __u8 *b)
{
	return *(const __u32 *)a == *(const __u32 *)b &&
	       *(const __u16 *)(a + 4) == *(const __u16 *)(b + 4);
}

/*
 * Remember that host (at hi) sends on the SA (peer, spi, proto). The peer
 * chose the SPI for G, so a second host naming it is rare (an SPI reused
 * after a rekey) and the latest sender gets the errors: the packet itself
 * is authenticated end to end, only where ICMP errors about it go is at
 * stake. Written only when new or changed: the LRU lookup refreshed it.
 */
static __always_inline void learn_ipsec_out(__u32 peer, __u32 spi, __u8 proto,
					    const struct xdnat_host *host, __u32 hi)
{
	struct xdnat_ipsec_key k = {};
	struct xdnat_owner *o, n = {};

	k.peer = peer;
	k.spi = spi;
	k.proto = proto;
	o = bpf_map_lookup_elem(&xdnat_ipsec_out, &k);
	if (o && o->client_id == host->client_id && o->host_addr == hi &&
	    mac_eq(o->mac, host->mac))
		return;
	n.client_id = host->client_id;
	n.host_addr = hi;
	__builtin_memcpy(n.mac, host->mac, sizeof(n.mac));
	bpf_map_update_elem(&xdnat_ipsec_out, &k, &n, BPF_ANY);
}

/* A learned owner value whose host is still the one registered at its
 * address: an entry of a host gone (or displaced) holds nothing. */
static __always_inline bool holder_live(const struct xdnat_owner *o)
{
	struct xdnat_host *h = bpf_map_lookup_elem(&xdnat_hosts, &o->host_addr);

	return h && h->client_id == o->client_id;
}

/* ICMP errors (RFC 792, RFC 1812 4.3.2.7's list): they quote a packet. */
static __always_inline bool icmp_is_error(__u8 type)
{
	return type == ICMP_DEST_UNREACH || type == ICMP_TIME_EXCEEDED ||
	       type == ICMP_PARAMETERPROB || type == 4 /* source quench */ ||
	       type == 5 /* redirect */;
}

/*
 * An ICMP error a host sends quotes a packet that was sent to it: to G,
 * at the host's own port, SPI (validated with the quoted source) or echo
 * id (an echo reply to its request). Another host's is not its to speak
 * about (icmp_quote_not_own); a quote that names no holder (truncated, a
 * non-first fragment, a protocol nobody holds) cannot be checked
 * (icmp_quote_unchecked). nh is just past the ICMP header.
 */
static __always_inline int check_quote(struct hdr_cursor *nh, void *data_end, __u32 l4_len,
				       __u32 global, __u32 cid)
{
	struct xdnat_owner o = {};
	struct iphdr *qip;
	__u8 *ql4;
	int r;

	qip = icmp_quote(nh, data_end, l4_len, &ql4);
	if (!qip)
		return XDNAT_DROP_ICMP_QUOTE_UNCHECKED;
	if (qip->daddr != global)
		return XDNAT_DROP_ICMP_QUOTE_NOT_OWN;
	switch (qip->protocol) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		/* the destination port, the host's */
		r = port_owner(*(__u16 *)(ql4 + 2), &o, NULL);
		break;
	case IPPROTO_ICMP:
		if (ql4[0] != ICMP_ECHOREPLY)
			return XDNAT_DROP_ICMP_QUOTE_UNCHECKED;
		r = echo_owner(qip->saddr, *(__u16 *)(ql4 + 4), &o);
		break;
	case IPPROTO_ESP:
		r = ipsec_owner(*(__u32 *)ql4, qip->saddr, &o);
		break;
	case IPPROTO_AH:
		r = ipsec_owner(*(__u32 *)(ql4 + 4), qip->saddr, &o);
		break;
	default:
		return XDNAT_DROP_ICMP_QUOTE_UNCHECKED;
	}
	if (r != XDNAT_FWD_TO_HOST || o.client_id != cid)
		return XDNAT_DROP_ICMP_QUOTE_NOT_OWN;
	return XDNAT_FWD_TO_EXT;
}

/*
 * The share check on the inner packet (a first fragment or a whole one) of
 * host at hi: TCP/UDP source port held by its client; an echo request's
 * (peer, id) not held by another live host, learned for the replies
 * otherwise, with the host's MAC from its xdnat_hosts value (gw_ext's next
 * hop); an ICMP error's quote the host's own (check_quote). Other ICMP,
 * ESP and AH are allowed (the SPI is the peer's); other protocols cannot
 * be attributed. ESP and AH teach gw_ext who sends on (peer, SPI), for the
 * ICMP errors about them.
 */
static __always_inline int check_inner(struct hdr_cursor *nh, void *data_end,
				       struct iphdr *iph, __u32 l4_len, __u32 global,
				       const struct xdnat_host *host, __u32 hi)
{
	__u32 cid = host->client_id;
	struct xdnat_port_owner *po;
	struct xdnat_icmp_key k = {};
	struct xdnat_owner *o, n = {};
	struct icmphdr *icmp;
	struct udphdr *udp;
	struct tcphdr *tcp;
	__u32 port, spi;
	int hl;

	switch (iph->protocol) {
	case IPPROTO_UDP:
		if (parse_udphdr(nh, data_end, &udp) < 0 || l4_len < sizeof(*udp))
			return XDNAT_DROP_MALFORMED;
		port = bpf_ntohs(udp->source);
		break;
	case IPPROTO_TCP:
		hl = parse_tcphdr(nh, data_end, &tcp);
		if (hl < 0 || (__u32)hl > l4_len)
			return XDNAT_DROP_MALFORMED;
		port = bpf_ntohs(tcp->source);
		break;
	case IPPROTO_ICMP:
		if (parse_icmphdr(nh, data_end, &icmp) < 0 || l4_len < sizeof(*icmp))
			return XDNAT_DROP_MALFORMED;
		if (icmp_is_error(icmp->type))
			return check_quote(nh, data_end, l4_len, global, cid);
		if (icmp->type != ICMP_ECHO)
			return XDNAT_FWD_TO_EXT;
		k.peer = iph->daddr;
		k.id = icmp->un.echo.id;
		o = bpf_map_lookup_elem(&xdnat_icmp_ids, &k);
		/* another host's id, unless that host is gone (finding 16) */
		if (o && o->client_id && o->client_id != cid && holder_live(o))
			return XDNAT_DROP_SPOOFED_SOURCE;
		/* the LRU lookup already refreshed a current entry: write only
		 * when new, when the host moved or its MAC changed */
		if (!o || o->client_id != cid || o->host_addr != hi ||
		    !mac_eq(o->mac, host->mac)) {
			n.client_id = cid;
			n.host_addr = hi;
			__builtin_memcpy(n.mac, host->mac, sizeof(n.mac));
			bpf_map_update_elem(&xdnat_icmp_ids, &k, &n, BPF_ANY);
		}
		return XDNAT_FWD_TO_EXT;
	case IPPROTO_ESP:
		if (parse_esphdr(nh, data_end, &spi) == 0 &&
		    l4_len >= sizeof(struct ip_esp_hdr))
			learn_ipsec_out(iph->daddr, spi, IPPROTO_ESP, host, hi);
		return XDNAT_FWD_TO_EXT;
	case IPPROTO_AH:
		if (parse_ahhdr(nh, data_end, &spi) >= 0 &&
		    l4_len >= sizeof(struct ip_auth_hdr))
			learn_ipsec_out(iph->daddr, spi, IPPROTO_AH, host, hi);
		return XDNAT_FWD_TO_EXT;
	default:
		return XDNAT_DROP_UNSUPPORTED;
	}

	po = bpf_map_lookup_elem(&xdnat_ports, &port);
	if (!po || !po->owner.client_id || po->owner.client_id != cid)
		return XDNAT_DROP_SPOOFED_SOURCE;
	return XDNAT_FWD_TO_EXT;
}

/* Two MACs alike, byte by byte: the FIB's are not 4-byte aligned. */
static __always_inline bool same_mac(const __u8 *a, const __u8 *b)
{
	__u8 diff = 0;

#pragma unroll
	for (int i = 0; i < ETH_ALEN; i++)
		diff |= a[i] ^ b[i];
	return !diff;
}

/*
 * Cache the FIB's answer for (dst, tos) in slot e until now +
 * XDNAT_NEXTHOP_TTL_NS: a route or neighbour change reaches outbound traffic
 * within the TTL. The same answer for an entry still valid (asked again only
 * for a longer packet) keeps its expiry and grows max_len.
 */
static __always_inline void remember_nexthop(struct xdnat_nexthop *e, __u32 dst, __u8 tos,
					     __u64 now, const struct bpf_fib_lookup *p,
					     __u32 len)
{
	if (e->dst == dst && e->tos == tos && now < e->expires_ns &&
	    e->ifindex == p->ifindex && same_mac(e->dmac, p->dmac)) {
		if (len > e->max_len)
			e->max_len = len;
		return;
	}
	e->dst = dst;
	e->tos = tos;
	e->ifindex = p->ifindex;
	__builtin_memcpy(e->dmac, p->dmac, ETH_ALEN);
	__builtin_memcpy(e->smac, p->smac, ETH_ALEN);
	e->max_len = len;
	e->expires_ns = now + XDNAT_NEXTHOP_TTL_NS;
}

/*
 * The common case without xdnat_hosts: a whole (or first-fragment) TCP or
 * UDP packet from G within the outer one, whose source port xdnat_ports
 * gives to hi. The map sync writes a port only for a registered host, so
 * that is the share check, with one array lookup (the JIT inlines it; a
 * hash lookup is a helper call, the dearest step of gw_int). Not for
 * fragments, nor for a frame from another MAC than the host's. The inner
 * header, or NULL: then the full checks, which name every drop reason.
 */
static __always_inline struct iphdr *fast_inner(struct hdr_cursor nh, void *data_end,
						const struct ethhdr *eth, __u32 hi, __u32 global,
						__u32 outer_pay)
{
	struct xdnat_port_owner *po;
	struct udphdr *udp;
	struct tcphdr *tcp;
	struct iphdr *iph;
	__u32 port, inner_len, l4_len;
	int hl;

	if (parse_iphdr(&nh, data_end, &iph) < 0)
		return NULL;
	inner_len = bpf_ntohs(iph->tot_len);
	/* fragments: the full checks learn and check their datagram */
	if (inner_len > outer_pay || inner_len < (__u32)iph->ihl * 4 ||
	    iph->saddr != global || (iph->frag_off & bpf_htons(IP_MF | IP_OFFSET)))
		return NULL;
	l4_len = inner_len - iph->ihl * 4;
	if (iph->protocol == IPPROTO_UDP) {
		if (parse_udphdr(&nh, data_end, &udp) < 0 || l4_len < sizeof(*udp))
			return NULL;
		port = bpf_ntohs(udp->source);
	} else if (iph->protocol == IPPROTO_TCP) {
		hl = parse_tcphdr(&nh, data_end, &tcp);
		if (hl < 0 || (__u32)hl > l4_len)
			return NULL;
		port = bpf_ntohs(tcp->source);
	} else {
		return NULL;
	}
	po = bpf_map_lookup_elem(&xdnat_ports, &port);
	if (!po || !po->owner.client_id || po->owner.host_addr != hi)
		return NULL;
	/* the value carries the host's MAC (xdnat_hosts' own): the frame's
	 * source must be it, once resolved */
	if (mac_known(po->owner.mac) && !same_mac(eth->h_source, po->owner.mac))
		return NULL;
	return iph;
}

/*
 * The outbound fragment check: a non-first fragment of host hi belongs to a
 * datagram whose first fragment hi sent (and that passed check_inner), as
 * gw_ext checks inbound ones; a hairpinned one (to G) has its holder looked
 * up by hairpin(). A first fragment, checked, is learned for the rest
 * (hairpin() learns its own, with the holder). Fragments are keyed by Hi,
 * not by the G all hosts share.
 */
static __always_inline int check_fragment(const struct iphdr *iph, __u32 global,
					  const struct xdnat_host *host, __u32 hi)
{
	struct xdnat_owner *fo, me = {};
	int r;

	if (iph->frag_off & bpf_htons(IP_OFFSET)) {
		fo = fragment_owner(iph, hi);
		if (!fo)
			return XDNAT_DROP_FRAG_UNKNOWN;
		if (iph->daddr != global && fo->client_id != host->client_id)
			return XDNAT_DROP_SPOOFED_SOURCE;
		return XDNAT_FWD_TO_EXT;
	}
	if (!(iph->frag_off & bpf_htons(IP_MF)) || iph->daddr == global)
		return XDNAT_FWD_TO_EXT;
	me.client_id = host->client_id;
	me.host_addr = hi;
	__builtin_memcpy(me.mac, host->mac, sizeof(me.mac));
	r = learn_fragment(iph, hi, &me);
	return r ? r : XDNAT_FWD_TO_EXT;
}

/*
 * The full checks, when fast_inner() did not vouch for the packet (nh just
 * past the outer header): a registered host, its frame from its MAC (when
 * xdnatd resolved it; until then the address alone: docs/security.md), an
 * inner header within the outer packet, source G, the share check and the
 * fragment check, each failure with its reason. Returns XDNAT_FWD_TO_EXT
 * with the inner header in *inner, or the reason.
 */
static __always_inline int check_tunnelled(struct hdr_cursor *nh, void *data_end,
					   const struct ethhdr *eth, __u32 hi, __u32 global,
					   __u32 outer_pay, struct iphdr **inner)
{
	struct xdnat_host *host;
	struct iphdr *iph;
	int r;

	host = bpf_map_lookup_elem(&xdnat_hosts, &hi);
	if (!host || !host->client_id)
		return XDNAT_DROP_UNKNOWN_HOST;
	if (mac_known(host->mac) && !same_mac(eth->h_source, host->mac))
		return XDNAT_DROP_HOST_MAC_MISMATCH;
	if (parse_iphdr(nh, data_end, &iph) < 0)
		return XDNAT_DROP_MALFORMED;
	/* the inner packet must lie within the outer one */
	if (bpf_ntohs(iph->tot_len) > outer_pay)
		return XDNAT_DROP_MALFORMED;
	/* a host speaks only as G */
	if (iph->saddr != global)
		return XDNAT_DROP_SPOOFED_SOURCE;
	/* non-first fragments carry no port: check_fragment() */
	if (!(iph->frag_off & bpf_htons(IP_OFFSET))) {
		r = check_inner(nh, data_end, iph, bpf_ntohs(iph->tot_len) - iph->ihl * 4,
				global, host, hi);
		if (r != XDNAT_FWD_TO_EXT)
			return r;
	}
	r = check_fragment(iph, global, host, hi);
	if (r != XDNAT_FWD_TO_EXT)
		return r;
	*inner = iph;
	return XDNAT_FWD_TO_EXT;
}

/*
 * Send the checked inner packet (header at iph) of host hi out of the
 * external NIC: next hop from the cache or the FIB, strip the outer header
 * (outer_len bytes), set the MACs and redirect. Longer than the external
 * link takes (ext_mtu, or the FIB's MTU of the route): frag-needed back to
 * the host through the tunnel, as a router would (RFC 1191), or the drop.
 */
static __always_inline int route_out(struct xdp_md *ctx, const struct xdnat_cfg *cfg,
				     struct iphdr *iph, __u32 outer_len, __u32 hi)
{
	__u32 inner_len = bpf_ntohs(iph->tot_len), slot;
	struct xdnat_nexthop *e;
	struct bpf_fib_lookup p = {};
	__u64 now;
	int r;

	if (cfg->ext_mtu && inner_len > cfg->ext_mtu)
		return send_frag_needed_host(ctx, iph, outer_len, cfg->internal, hi,
					     cfg->ext_mtu);
	/* route before touching the packet, so a miss passes nothing half-made;
	 * the egress must be the external NIC (a host reaches another host
	 * only as G, hairpinned, never at its internal address) */
	slot = xdnat_nexthop_slot(iph->daddr, iph->tos);
	e = bpf_map_lookup_elem(&xdnat_nexthop, &slot);
	if (!e)
		return verdict(ctx, XDP_DROP, XDNAT_DROP_NO_ROUTE);
	now = bpf_ktime_get_coarse_ns();
	if (e->dst != iph->daddr || e->tos != iph->tos || now >= e->expires_ns ||
	    inner_len > e->max_len) {
		r = fib_ipv4(ctx, &p, iph->saddr, iph->daddr, iph->tos, inner_len,
			     iph->protocol);
		if (r == BPF_FIB_LKUP_RET_NO_NEIGH && p.ifindex == cfg->ext_ifindex)
			return nexthop_unresolved(ctx, &p);
		/* the route's MTU (a locked route metric, or the NIC's) is smaller */
		if (r == BPF_FIB_LKUP_RET_FRAG_NEEDED)
			return send_frag_needed_host(ctx, iph, outer_len, cfg->internal, hi,
						     p.mtu_result);
		if (r != BPF_FIB_LKUP_RET_SUCCESS)
			return verdict(ctx, XDP_DROP, fib_drop_reason(r));
		if (p.ifindex != cfg->ext_ifindex)
			return verdict(ctx, XDP_DROP, XDNAT_DROP_ROUTE_WRONG_NIC);
		remember_nexthop(e, iph->daddr, iph->tos, now, &p, inner_len);
	}

	if (tunnel_pop(ctx, outer_len))
		return verdict(ctx, XDP_DROP, XDNAT_DROP_ADJUST_HEAD_FAILED);
	r = fwd_l2(ctx, e->dmac, e->smac, e->ifindex);
	if (r != XDP_REDIRECT)
		return verdict(ctx, XDP_DROP, XDNAT_DROP_REDIRECT_FAILED);
	return verdict(ctx, XDP_REDIRECT, XDNAT_FWD_TO_EXT);
}

/*
 * A host's packet to G (RFC 4787 REQ-9, hairpinning), its TTL already
 * decremented: attributed as gw_ext attributes inbound packets, with G as
 * the peer (so ESP/AH, validated with no SA, is dropped as
 * peer_not_validated or spi_unknown), and tunnelled to the holder. The
 * packet came through the same tunnel, so it fits the way back.
 */
static __always_inline int hairpin(struct xdp_md *ctx, const struct xdnat_cfg *cfg,
				   struct iphdr *iph, __u32 outer_len, __u32 hi)
{
	void *data_end = (void *)(long)ctx->data_end;
	struct hdr_cursor nh = { .pos = iph };
	struct xdnat_owner owner = {}, *fo;
	struct bpf_fib_lookup p = {};
	__u32 inner_len, l4_len;
	bool fast;
	__u16 frag;
	__u8 tos;
	int r;

	if (parse_iphdr(&nh, data_end, &iph) < 0)
		return verdict(ctx, XDP_DROP, XDNAT_DROP_MALFORMED);
	inner_len = bpf_ntohs(iph->tot_len);
	l4_len = inner_len - iph->ihl * 4;
	frag = bpf_ntohs(iph->frag_off);
	tos = iph->tos;
	if (frag & IP_OFFSET) {
		fo = fragment_owner(iph, hi);
		if (!fo || !fo->client_id)
			return verdict(ctx, XDP_DROP, XDNAT_DROP_HAIRPIN_NO_OWNER);
		owner = *fo;
		r = XDNAT_FWD_TO_HOST;
	} else {
		r = classify(&nh, data_end, iph, l4_len, cfg->global, &owner);
	}
	/* held by nobody: the gateway's stack cannot take a packet from G */
	if (r == XDNAT_PASS_STACK)
		return verdict(ctx, XDP_DROP, XDNAT_DROP_HAIRPIN_NO_OWNER);
	if (r != XDNAT_FWD_TO_HOST)
		return verdict(ctx, XDP_DROP, r);
	if ((frag & IP_MF) && !(frag & IP_OFFSET)) {
		r = learn_fragment(iph, hi, &owner);
		if (r)
			return verdict(ctx, XDP_DROP, r);
	}

	fast = mac_known(owner.mac);
	if (!fast) {
		r = fib_ipv4(ctx, &p, cfg->internal, owner.host_addr, tos,
			     inner_len + sizeof(struct iphdr), IPPROTO_IPIP);
		if (r == BPF_FIB_LKUP_RET_NO_NEIGH && p.ifindex == cfg->int_ifindex)
			return nexthop_unresolved(ctx, &p);
		if (r != BPF_FIB_LKUP_RET_SUCCESS)
			return verdict(ctx, XDP_DROP, fib_drop_reason(r));
		if (p.ifindex != cfg->int_ifindex)
			return verdict(ctx, XDP_DROP, XDNAT_DROP_ROUTE_WRONG_NIC);
	}
	/* the sender's tunnel header off, the holder's on */
	if (tunnel_pop(ctx, outer_len) ||
	    tunnel_push(ctx, cfg->internal, owner.host_addr, tos, inner_len))
		return verdict(ctx, XDP_DROP, XDNAT_DROP_ADJUST_HEAD_FAILED);
	if (fast)
		r = fwd_l2(ctx, owner.mac, cfg->int_mac, cfg->int_ifindex);
	else
		r = fwd_l2(ctx, p.dmac, p.smac, p.ifindex);
	if (r != XDP_REDIRECT)
		return verdict(ctx, XDP_DROP, XDNAT_DROP_REDIRECT_FAILED);
	return verdict(ctx, XDP_REDIRECT, XDNAT_FWD_HAIRPIN);
}

/*
 * The inner TTL ran out here: time-exceeded from Gi (the hop the host sees;
 * its stack would drop a packet from its own G as martian), tunnelled back
 * to the host, where RFC 1812 allows an error and the budget has a token.
 * Hosts send the tunnel without options; anything else is a counted drop.
 */
static __always_inline int ttl_expired(struct xdp_md *ctx, const struct xdnat_cfg *cfg,
				       struct iphdr *iph, __u32 outer_len, __u32 hi)
{
	void *data_end = (void *)(long)ctx->data_end;

	if (outer_len != sizeof(struct iphdr) || !icmp_error_allowed(iph, data_end) ||
	    !icmp_allowed(XDNAT_ICMP_RL_HOST))
		return verdict(ctx, XDP_DROP, XDNAT_DROP_TTL_EXCEEDED);
	return send_icmp_error(ctx, sizeof(struct iphdr), cfg->internal, hi, cfg->internal,
			       ICMP_TIME_EXCEEDED, 0, 0, XDNAT_ICMP_TIME_EXCEEDED,
			       XDNAT_DROP_TTL_EXCEEDED);
}

/*
 * An ICMP error to Gi about our own tunnel (RFC 2003 4): a host or a router
 * of the internal network quoting an outer header Gi -> Hi, e.g. host
 * unreachable, or frag-needed about the 20 bytes the tunnel adds. oip is the
 * parsed outer header; its payload is the ICMP message.
 */
static __always_inline bool tunnel_error(struct hdr_cursor nh, void *data_end,
					 __u32 gi)
{
	struct icmphdr *icmp;
	struct iphdr *qip;
	int type;

	type = parse_icmphdr(&nh, data_end, &icmp);
	if (type != ICMP_DEST_UNREACH && type != ICMP_TIME_EXCEEDED &&
	    type != ICMP_PARAMETERPROB)
		return false;
	qip = nh.pos;
	if ((void *)(qip + 1) > data_end)
		return false;
	return qip->saddr == gi && qip->protocol == IPPROTO_IPIP;
}

/* Parse the tunnel, check the inner packet (the fast path, else the full
 * checks), apply the outer ECN and the hop's TTL, then route it out or
 * hairpin it. */
static __always_inline int gw_int_run(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct hdr_cursor nh = { .pos = data };
	__u32 hi, outer_len, outer_pay;
	struct xdnat_cfg *cfg;
	struct iphdr *oip, *iph;
	struct ethhdr *eth;
	int r;

	cfg = cfg_enabled();
	/* off; ARP, IPv6, VLAN-tagged, runts: the stack's */
	if (!cfg || parse_ethhdr(&nh, data_end, &eth) != ETH_P_IP)
		return verdict(ctx, XDP_PASS, XDNAT_PASS_STACK);
	oip = nh.pos;
	if ((void *)(oip + 1) > data_end || oip->daddr != cfg->internal)
		return verdict(ctx, XDP_PASS, XDNAT_PASS_STACK);
	/* errors about the tunnel: counted, and the stack's (which ignores
	 * them: nothing there sent the tunnel); docs/xdnatd.md says why */
	if (oip->protocol == IPPROTO_ICMP) {
		if (parse_iphdr(&nh, data_end, &oip) >= 0 &&
		    tunnel_error(nh, data_end, cfg->internal))
			return verdict(ctx, XDP_PASS, XDNAT_ICMP_TUNNEL_ERROR);
		return verdict(ctx, XDP_PASS, XDNAT_PASS_STACK);
	}
	/* only the tunnel to Gi is ours; PAP (UDP to Gi) and the rest: stack */
	if (oip->protocol != IPPROTO_IPIP)
		return verdict(ctx, XDP_PASS, XDNAT_PASS_STACK);

	if (parse_iphdr(&nh, data_end, &oip) < 0)
		return verdict(ctx, XDP_DROP, XDNAT_DROP_MALFORMED);
	/* no reassembly here: hosts send the tunnel with DF and a fitting MTU */
	if (oip->frag_off & bpf_htons(IP_MF | IP_OFFSET))
		return verdict(ctx, XDP_DROP, XDNAT_DROP_UNSUPPORTED);
	hi = oip->saddr;
	outer_len = oip->ihl * 4;
	outer_pay = bpf_ntohs(oip->tot_len) - outer_len;

	iph = fast_inner(nh, data_end, eth, hi, cfg->global, outer_pay);
	if (!iph) {
		r = check_tunnelled(&nh, data_end, eth, hi, cfg->global, outer_pay, &iph);
		if (r != XDNAT_FWD_TO_EXT)
			return verdict(ctx, XDP_DROP, r);
	}

	/* decapsulation (RFC 6040 4.2): a congestion mark on the way from the
	 * host survives in the inner header, or the packet is dropped */
	r = ecn_decap(oip->tos, iph->tos);
	if (r < 0)
		return verdict(ctx, XDP_DROP, XDNAT_DROP_ECN_NOT_ECT);
	/* the gateway is a hop (RFC 2003 3.1) */
	if (iph->ttl <= 1)
		return ttl_expired(ctx, cfg, iph, outer_len, hi);
	ipv4_set_tos_ttl(iph, (__u8)r, iph->ttl - 1);
	if (iph->daddr == cfg->global)
		return hairpin(ctx, cfg, iph, outer_len, hi);
	return route_out(ctx, cfg, iph, outer_len, hi);
}

/*
 * Multi-buffer aware (xdp.frags, Linux 5.18): the program reads only the
 * linear part and bpf_xdp_adjust_head works on the first buffer, so it
 * attaches to a NIC with a jumbo MTU. A frame longer than its linear part
 * fails parse_iphdr's length check and is dropped as malformed (no
 * gateway path carries one: docs/xdnatd.md).
 */
SEC("xdp.frags")
int gw_int(struct xdp_md *ctx)
{
	return gw_int_run(ctx);
}

/* The same for kernels that refuse xdp.frags; xdnatd loads one of the two
 * (dataplane.c), both named ours. */
SEC("xdp")
int gw_int_plain(struct xdp_md *ctx)
{
	return gw_int_run(ctx);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
