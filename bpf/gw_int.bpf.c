/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * gw_int: XDP on the gateway's internal NIC. A registered host sends its
 * outbound packets (source G, its own ports / echo ids) tunnelled to Gi in
 * IPv4-in-IPv4; we check the host really holds that share of G, strip the
 * outer header and send the inner packet, unmodified, out of the external
 * NIC. Everything else (PAP to Gi, ARP, traffic to the gateway) goes to the
 * stack. See ../../shared/DESIGN.md, "Data plane".
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "xdnat.h"
#include "maps.h"
#include "parse.h"
#include "csum.h"
#include "encap.h"
#include "stats.h"

/* Two MACs alike; both 4-byte aligned in their values (asserted in xdnat.h):
 * two loads each, no memcmp (BPF has none). */
static __always_inline bool mac_eq(const __u8 *a, const __u8 *b)
{
	return *(const __u32 *)a == *(const __u32 *)b &&
	       *(const __u16 *)(a + 4) == *(const __u16 *)(b + 4);
}

/*
 * The share check on the inner packet (a first fragment or a whole one) of
 * host at hi: TCP/UDP source port held by its client; an echo request's
 * (peer, id) not held by another host, learned for the replies otherwise,
 * with the host's MAC from its xdnat_hosts value (gw_ext's next hop).
 * ICMP errors, ESP and AH are allowed (their SPI is the peer's, and errors
 * quote traffic the host received); other protocols cannot be attributed.
 */
static __always_inline int check_inner(struct hdr_cursor *nh, void *data_end,
				       struct iphdr *iph, __u32 l4_len,
				       const struct xdnat_host *host, __u32 hi)
{
	__u32 cid = host->client_id;
	struct xdnat_port_owner *po;
	struct xdnat_icmp_key k = {};
	struct xdnat_owner *o, n = {};
	struct icmphdr *icmp;
	struct udphdr *udp;
	struct tcphdr *tcp;
	__u32 port;
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
		if (icmp->type != ICMP_ECHO)
			return XDNAT_FWD_TO_EXT;
		k.peer = iph->daddr;
		k.id = icmp->un.echo.id;
		o = bpf_map_lookup_elem(&xdnat_icmp_ids, &k);
		if (o && o->client_id && o->client_id != cid)
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
	case IPPROTO_AH:
		return XDNAT_FWD_TO_EXT;
	default:
		return XDNAT_DROP_UNSUPPORTED;
	}

	po = bpf_map_lookup_elem(&xdnat_ports, &port);
	if (!po || !po->client_id || po->client_id != cid)
		return XDNAT_DROP_SPOOFED_SOURCE;
	return XDNAT_FWD_TO_EXT;
}

SEC("xdp")
int gw_int(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct hdr_cursor nh = { .pos = data };
	struct bpf_fib_lookup p;
	struct xdnat_cfg *cfg;
	struct iphdr *oip, *iph;
	struct ethhdr *eth;
	__u32 key = 0, hi, outer_len, outer_pay, inner_len;
	struct xdnat_host *host;
	int r;

	cfg = bpf_map_lookup_elem(&xdnat_cfg, &key);
	if (!cfg || !(cfg->flags & XDNAT_CFG_ENABLED))
		return verdict(ctx, XDP_PASS, XDNAT_PASS_STACK);
	/* ARP, IPv6, VLAN-tagged, runts: the stack's */
	if (parse_ethhdr(&nh, data_end, &eth) != ETH_P_IP)
		return verdict(ctx, XDP_PASS, XDNAT_PASS_STACK);
	oip = nh.pos;
	/* only the tunnel to Gi is ours; PAP (UDP to Gi) and the rest: stack */
	if ((void *)(oip + 1) > data_end || oip->daddr != cfg->internal ||
	    oip->protocol != IPPROTO_IPIP)
		return verdict(ctx, XDP_PASS, XDNAT_PASS_STACK);

	if (parse_iphdr(&nh, data_end, &oip) < 0)
		return verdict(ctx, XDP_DROP, XDNAT_DROP_MALFORMED);
	/* no reassembly here: hosts send the tunnel with DF and a fitting MTU */
	if (oip->frag_off & bpf_htons(IP_MF | IP_OFFSET))
		return verdict(ctx, XDP_DROP, XDNAT_DROP_UNSUPPORTED);
	hi = oip->saddr;
	host = bpf_map_lookup_elem(&xdnat_hosts, &hi);
	if (!host || !host->client_id)
		return verdict(ctx, XDP_DROP, XDNAT_DROP_UNKNOWN_HOST);
	outer_len = oip->ihl * 4;
	outer_pay = bpf_ntohs(oip->tot_len) - outer_len;

	if (parse_iphdr(&nh, data_end, &iph) < 0)
		return verdict(ctx, XDP_DROP, XDNAT_DROP_MALFORMED);
	inner_len = bpf_ntohs(iph->tot_len);
	/* the inner packet must lie within the outer one */
	if (inner_len > outer_pay)
		return verdict(ctx, XDP_DROP, XDNAT_DROP_MALFORMED);
	/* a host speaks only as G */
	if (iph->saddr != cfg->global)
		return verdict(ctx, XDP_DROP, XDNAT_DROP_SPOOFED_SOURCE);

	/* non-first fragments carry no port: their first one was checked */
	if (!(iph->frag_off & bpf_htons(IP_OFFSET))) {
		r = check_inner(&nh, data_end, iph, inner_len - iph->ihl * 4,
				host, hi);
		if (r != XDNAT_FWD_TO_EXT)
			return verdict(ctx, XDP_DROP, r);
	}

	/* route before touching the packet, so a miss passes nothing half-made;
	 * the egress must be the external NIC (no host-to-host hairpin as G) */
	r = fib_ipv4(ctx, &p, iph->saddr, iph->daddr, iph->tos, inner_len,
		     iph->protocol);
	if (r != BPF_FIB_LKUP_RET_SUCCESS || p.ifindex != cfg->ext_ifindex)
		return verdict(ctx, XDP_DROP, XDNAT_DROP_NO_ROUTE);

	if (tunnel_pop(ctx, outer_len))
		return verdict(ctx, XDP_DROP, XDNAT_DROP_NO_ROUTE);
	r = fwd_l2(ctx, p.dmac, p.smac, p.ifindex);
	if (r != XDP_REDIRECT)
		return verdict(ctx, XDP_DROP, XDNAT_DROP_NO_ROUTE);
	return verdict(ctx, XDP_REDIRECT, XDNAT_FWD_TO_EXT);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
