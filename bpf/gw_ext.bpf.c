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
 * out of order) is dropped as frag_unknown.
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
#include "stats.h"
#include "nexthop.h"

/*
 * The established-SA check shared by ESP, AH and ESP-in-UDP: one hash
 * lookup in the common (validated) case; on a miss one more, of the SPI's
 * granule in the allocated blocks, only names the drop reason.
 */
static __always_inline int ipsec_owner(__u32 spi, __u32 peer,
				       struct xdnat_owner *out)
{
	struct xdnat_sa_key k = {};
	struct xdnat_spiblk_key bk = {};
	struct xdnat_owner *o;

	k.spi = spi;
	k.peer = peer;
	o = bpf_map_lookup_elem(&xdnat_sa, &k);
	if (o && o->client_id) {
		*out = *o;
		return XDNAT_FWD_TO_HOST;
	}
	/* both in network order: the mask is a constant, no byte swap */
	bk.spi = spi & bpf_htonl(~(__u32)(XDNAT_SPI_GRANULE - 1));
	if (bpf_map_lookup_elem(&xdnat_spiblk, &bk))
		return XDNAT_DROP_PEER_NOT_VALIDATED;
	return XDNAT_DROP_SPI_UNKNOWN;
}

/* Holder of a TCP/UDP port of G (port in network order). */
static __always_inline int port_owner(__u16 port_be, struct xdnat_owner *out,
				      __u32 *flags)
{
	__u32 key = bpf_ntohs(port_be);
	struct xdnat_port_owner *po;

	po = bpf_map_lookup_elem(&xdnat_ports, &key);
	if (!po || !po->owner.client_id)
		return XDNAT_PASS_STACK;
	*out = po->owner;
	if (flags)
		*flags = po->flags;
	return XDNAT_FWD_TO_HOST;
}

/* Holder of an echo id a host used towards peer (both in network order). */
static __always_inline int echo_owner(__u32 peer, __u16 id, struct xdnat_owner *out)
{
	struct xdnat_icmp_key k = {};
	struct xdnat_owner *o;

	k.peer = peer;
	k.id = id;
	o = bpf_map_lookup_elem(&xdnat_icmp_ids, &k);
	if (!o || !o->client_id)
		return XDNAT_PASS_STACK;
	*out = *o;
	return XDNAT_FWD_TO_HOST;
}

/*
 * UDP to G. A NAT-T port (RFC 3948) multiplexes IKE and ESP: a 1-byte 0xff
 * keepalive and a zero non-ESP marker (IKE) go to the port's holder, and a
 * payload of at least 8 bytes with a non-zero first word is ESP whose SPI
 * must pass the SA check like plain ESP, and belong to the port's holder.
 */
static __always_inline int classify_udp(struct hdr_cursor *nh, void *data_end,
					struct iphdr *iph, __u32 l4_len,
					struct xdnat_owner *out)
{
	struct xdnat_owner sa_owner = {};
	struct udphdr *udp;
	__u32 flags = 0, paylen, spi;
	__u16 frag = bpf_ntohs(iph->frag_off);
	int ulen, r;

	ulen = parse_udphdr(nh, data_end, &udp);
	if (ulen < 0 || l4_len < sizeof(*udp))
		return XDNAT_DROP_MALFORMED;
	/* a whole datagram must fit its IP packet; a first fragment cannot */
	if (!(frag & IP_MF) && (__u32)ulen > l4_len - sizeof(*udp))
		return XDNAT_DROP_MALFORMED;
	r = port_owner(udp->dest, out, &flags);
	if (r != XDNAT_FWD_TO_HOST || !(flags & XDNAT_PORT_NATT))
		return r;

	/* payload bytes present in this packet (lengths, not frame padding) */
	paylen = l4_len - sizeof(*udp);
	if ((__u32)ulen < paylen)
		paylen = ulen;
	/* keepalive, short junk: only the holder's IKE daemon cares */
	if (paylen < sizeof(struct ip_esp_hdr))
		return XDNAT_FWD_TO_HOST;
	if (nh->pos + sizeof(__u32) > data_end)
		return XDNAT_DROP_MALFORMED;
	spi = *(__u32 *)nh->pos;
	/* non-ESP marker: IKE on the NAT-T port */
	if (!spi)
		return XDNAT_FWD_TO_HOST;
	r = ipsec_owner(spi, iph->saddr, &sa_owner);
	if (r != XDNAT_FWD_TO_HOST)
		return r;
	/* an SA of another host must not be reachable through this port */
	if (sa_owner.client_id != out->client_id)
		return XDNAT_DROP_SPI_UNKNOWN;
	return XDNAT_FWD_TO_HOST;
}

/*
 * ICMP to G. Echo replies go to the host that sent the request (id learned
 * by gw_int). Errors go to the host that sent the packet they quote, which
 * must have G as its source: by its TCP/UDP source port or its echo id.
 * A quote we cannot attribute (truncated, a fragment, ESP/AH whose SPI is
 * the peer's) is the gateway's business: to the stack.
 */
static __always_inline int classify_icmp(struct hdr_cursor *nh, void *data_end,
					 struct iphdr *iph, __u32 l4_len,
					 __u32 global, struct xdnat_owner *out)
{
	struct icmphdr *icmp;
	struct iphdr *qip;
	__u32 qhl;
	__u8 *ql4;
	int type;

	type = parse_icmphdr(nh, data_end, &icmp);
	if (type < 0 || l4_len < sizeof(*icmp))
		return XDNAT_DROP_MALFORMED;
	if (type == ICMP_ECHOREPLY)
		return echo_owner(iph->saddr, icmp->un.echo.id, out);
	if (type != ICMP_DEST_UNREACH && type != ICMP_TIME_EXCEEDED &&
	    type != ICMP_PARAMETERPROB)
		return XDNAT_PASS_STACK;

	/* the quoted header: our own packet as the peer's router saw it */
	qip = nh->pos;
	if ((void *)(qip + 1) > data_end)
		return XDNAT_PASS_STACK;
	if (qip->version != 4 || qip->ihl < 5 || qip->saddr != global)
		return XDNAT_PASS_STACK;
	/* a non-first fragment quotes no port */
	if (qip->frag_off & bpf_htons(IP_OFFSET))
		return XDNAT_PASS_STACK;
	qhl = qip->ihl * 4;
	ql4 = (void *)qip + qhl;
	/* IP header + 8 bytes must be quoted, within the ICMP length too */
	if ((void *)(ql4 + 8) > data_end ||
	    qhl + 8 > l4_len - sizeof(*icmp))
		return XDNAT_PASS_STACK;
	switch (qip->protocol) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		/* we sent it: our port is the quoted source port */
		return port_owner(*(__u16 *)ql4, out, NULL);
	case IPPROTO_ICMP:
		if (ql4[0] != ICMP_ECHO)
			return XDNAT_PASS_STACK;
		/* our echo request went to the quoted destination */
		return echo_owner(qip->daddr, *(__u16 *)(ql4 + 4), out);
	default:
		return XDNAT_PASS_STACK;
	}
}

/* Remember where a first fragment went (owner, or client 0: our stack); the
 * owner value as read, MAC included, so the rest take the same next hop. */
static __always_inline void learn_fragment(const struct iphdr *iph,
					   const struct xdnat_owner *owner)
{
	struct xdnat_frag_key fk = {};

	fk.src = iph->saddr;
	fk.id = iph->id;
	fk.proto = iph->protocol;
	bpf_map_update_elem(&xdnat_frags, &fk, owner, BPF_ANY);
}

/* A MAC xdnatd resolved: all zero means not (yet). Two loads: the MAC sits
 * 4-byte aligned in xdnat_owner (asserted in xdnat.h). */
static __always_inline bool mac_known(const __u8 *mac)
{
	return *(const __u32 *)mac | *(const __u16 *)(mac + 4);
}

/*
 * Tunnel the packet (its IPv4 header at iph) to owner: MTU check, next hop,
 * learn the fragment owner, push the outer header, redirect.
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
	struct bpf_fib_lookup p;
	__u32 tot_len = bpf_ntohs(iph->tot_len);
	__u16 frag = bpf_ntohs(iph->frag_off);
	__u8 tos = iph->tos;
	bool fast = false;
	__u32 mtu = 0;
	int rc;

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
		else if (rc != BPF_FIB_LKUP_RET_SUCCESS || p.ifindex != cfg->int_ifindex)
			return verdict(ctx, XDP_DROP, XDNAT_DROP_NO_ROUTE);
	}
	if (mtu) {
		if (mtu <= sizeof(struct iphdr))
			return verdict(ctx, XDP_DROP, XDNAT_DROP_NO_ROUTE);
		/* what the sender may send: the link MTU less the outer header */
		return send_frag_needed(ctx, cfg->global, mtu - sizeof(struct iphdr));
	}

	/* first fragment: the rest carry no port/SPI, remember who gets them */
	if ((frag & IP_MF) && !(frag & IP_OFFSET))
		learn_fragment(iph, owner);

	if (tunnel_push(ctx, cfg->internal, owner->host_addr, tos, tot_len))
		return verdict(ctx, XDP_DROP, XDNAT_DROP_NO_ROUTE);
	/* iph is stale from here on: tunnel_push moved the packet start */
	if (fast)
		rc = fwd_l2(ctx, owner->mac, cfg->int_mac, cfg->int_ifindex);
	else
		rc = fwd_l2(ctx, p.dmac, p.smac, p.ifindex);
	if (rc != XDP_REDIRECT)
		return verdict(ctx, XDP_DROP, XDNAT_DROP_NO_ROUTE);
	return verdict(ctx, XDP_REDIRECT, XDNAT_FWD_TO_HOST);
}

/* First fragments and whole packets: who holds the port, SPI or id. */
static __always_inline int classify(struct hdr_cursor *nh, void *data_end,
				    struct iphdr *iph, __u32 l4_len, __u32 global,
				    struct xdnat_owner *owner)
{
	struct tcphdr *tcp;
	__u32 spi;
	int hl;

	switch (iph->protocol) {
	case IPPROTO_ESP:
		if (parse_esphdr(nh, data_end, &spi) < 0 ||
		    l4_len < sizeof(struct ip_esp_hdr))
			return XDNAT_DROP_MALFORMED;
		return ipsec_owner(spi, iph->saddr, owner);
	case IPPROTO_AH:
		if (parse_ahhdr(nh, data_end, &spi) < 0 ||
		    l4_len < sizeof(struct ip_auth_hdr))
			return XDNAT_DROP_MALFORMED;
		return ipsec_owner(spi, iph->saddr, owner);
	case IPPROTO_UDP:
		return classify_udp(nh, data_end, iph, l4_len, owner);
	case IPPROTO_TCP:
		hl = parse_tcphdr(nh, data_end, &tcp);
		if (hl < 0 || (__u32)hl > l4_len)
			return XDNAT_DROP_MALFORMED;
		return port_owner(tcp->dest, owner, NULL);
	case IPPROTO_ICMP:
		return classify_icmp(nh, data_end, iph, l4_len, global, owner);
	default:
		/* GRE, SCTP, ...: nothing a host can hold, the gateway's own */
		return XDNAT_PASS_STACK;
	}
}

SEC("xdp")
int gw_ext(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct hdr_cursor nh = { .pos = data };
	struct xdnat_owner owner = {};
	struct xdnat_frag_key fk = {};
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
	/* IP payload length by the header, not the (maybe padded) frame */
	l4_len = bpf_ntohs(iph->tot_len) - iph->ihl * 4;
	frag = bpf_ntohs(iph->frag_off);

	if (frag & IP_OFFSET) {
		/* non-first fragment: only the first one told us its owner */
		fk.src = iph->saddr;
		fk.id = iph->id;
		fk.proto = iph->protocol;
		fo = bpf_map_lookup_elem(&xdnat_frags, &fk);
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
			learn_fragment(iph, &owner);
		}
	}

	if (r == XDNAT_FWD_TO_HOST)
		return forward(ctx, cfg, &owner, iph);
	if (r == XDNAT_PASS_STACK)
		return verdict(ctx, XDP_PASS, XDNAT_PASS_STACK);
	return verdict(ctx, XDP_DROP, r);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
