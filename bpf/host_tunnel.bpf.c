/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * host_tunnel: tc (clsact) programs on an internal host's interface, loaded
 * by xdnat-host. The host owns a share of the gateway's global address G (on
 * its loopback); its packets to and from G travel to the gateway's internal
 * address Gi in IPv4-in-IPv4, built and stripped here (there is no ipip
 * device to do it):
 *
 *   host_egress   IPv4 from G        -> outer header Hi -> Gi pushed
 *   host_ingress  IPIP Gi -> Hi      -> outer header stripped, inner delivered
 *                 anything else to G -> dropped (G only through the tunnel)
 *
 * Everything else passes untouched. ECN follows RFC 6040: the outer header
 * copies the inner's ECN field (normal mode), and a congestion mark (CE) on
 * the outer header from the gateway is carried into the inner one, or the
 * packet dropped when the inner is not ECN-capable. The outer header is
 * added and removed
 * with bpf_skb_adjust_room, which keeps the skb's GSO/checksum metadata right
 * (inner headers, SKB_GSO_IPXIP4), so TSO and GSO keep working through the
 * tunnel. See docs/design.md, "The path of a packet".
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "xdnat.h"
#include "parse.h"
#include "csum.h"
#include "ipv4.h"

#define TC_ACT_OK		0
#define TC_ACT_SHOT		2
#define ETH_HLEN		sizeof(struct ethhdr)
#define IPV4_HLEN		sizeof(struct iphdr)

/*
 * FIXED_GSO: the route from G already has an MTU 20 bytes below the
 * device's (xdnat-host sets it), so segments keep their size; without it
 * UDP GSO could not be tunnelled at all (adjust_room refuses it).
 */
#define ENCAP_FLAGS	(BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 | BPF_F_ADJ_ROOM_FIXED_GSO)
#define DECAP_FLAGS	(BPF_F_ADJ_ROOM_DECAP_L3_IPV4 | BPF_F_ADJ_ROOM_FIXED_GSO)
#ifndef EINVAL
#define EINVAL		22
#endif
#ifndef PACKET_LOOPBACK
#define PACKET_LOOPBACK	5	/* linux/if_packet.h */
#endif

/* G, Hi and Gi: constants for the verifier and the JIT once loaded. */
const volatile struct xdnat_host_cfg host_cfg = {};

/* What the programs did, in packets and bytes per CPU (never pinned). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XDNAT_HOST_CTR_MAX);
	__type(key, __u32);
	__type(value, struct xdnat_counter);
} xdnat_host_stat SEC(".maps");

/* Count the skb as it leaves the program and hand back the action. */
static __always_inline int verdict(struct __sk_buff *skb, int action,
				   enum xdnat_host_counter what)
{
	__u32 key = what;
	struct xdnat_counter *c = bpf_map_lookup_elem(&xdnat_host_stat, &key);

	/* per-CPU slot, tc runs with migration off: no atomics needed */
	if (c) {
		c->packets++;
		c->bytes += skb->len;
	}
	return action;
}

/*
 * The packet bounds, read afresh from ctx (after a helper that may move the
 * data). barrier_var keeps clang from reusing a computed ctx + offset
 * pointer across branches, which the verifier refuses.
 */
static __always_inline void bounds(struct __sk_buff *skb, void **data,
				   void **data_end)
{
	barrier_var(skb);
	*data = (void *)(long)skb->data;
	*data_end = (void *)(long)skb->data_end;
}

/*
 * The first len bytes in the linear area, so direct packet access sees
 * them. Cheap when they already are (always so for locally built headers).
 */
static __always_inline void pull(struct __sk_buff *skb, __u32 len,
				 void **data, void **data_end)
{
	bounds(skb, data, data_end);
	if (*data + len > *data_end && skb->len >= len) {
		bpf_skb_pull_data(skb, len);
		bounds(skb, data, data_end);
	}
}

SEC("tc")
int host_egress(struct __sk_buff *skb)
{
	struct hdr_cursor nh;
	struct ethhdr *eth;
	struct iphdr *iph;
	void *data, *data_end;
	__u32 outer_len;
	__u8 tos;

	if (skb->protocol != bpf_htons(ETH_P_IP))
		return verdict(skb, TC_ACT_OK, XDNAT_HOST_PASS);
	pull(skb, ETH_HLEN + IPV4_HLEN, &data, &data_end);
	nh.pos = data;
	if (parse_ethhdr(&nh, data_end, &eth) != ETH_P_IP)
		return verdict(skb, TC_ACT_OK, XDNAT_HOST_PASS);
	/* Not parse_iphdr(): a GSO skb's payload is not in the linear area,
	 * so its total length exceeds data_end. Only the header matters here. */
	iph = nh.pos;
	if ((void *)(iph + 1) > data_end || iph->version != 4 || iph->ihl < 5 ||
	    iph->saddr != host_cfg.global)
		return verdict(skb, TC_ACT_OK, XDNAT_HOST_PASS);
	tos = iph->tos;

	/* From here the packet is G's: tunnel it or drop it, never leak it
	 * onto the internal network with source G. */
	if (bpf_skb_adjust_room(skb, IPV4_HLEN, BPF_ADJ_ROOM_MAC, ENCAP_FLAGS))
		return verdict(skb, TC_ACT_SHOT, XDNAT_HOST_ERROR);
	/* adjust_room invalidated every packet pointer: start over */
	bounds(skb, &data, &data_end);
	iph = data + ETH_HLEN;
	if ((void *)(iph + 1) > data_end)
		return verdict(skb, TC_ACT_SHOT, XDNAT_HOST_ERROR);

	/* skb->len, not the inner total length: right for GSO skbs too (whose
	 * segments get their own lengths and checksums in the GSO layer) */
	outer_len = skb->len - ETH_HLEN;
	/* tos: RFC 2003, copied from the inner, ECN included (RFC 6040) */
	ipv4_build(iph, tos, outer_len > 0xffff ? 0 : outer_len, IPPROTO_IPIP,
		   host_cfg.host_addr, host_cfg.gw_addr);
	return verdict(skb, TC_ACT_OK, XDNAT_HOST_ENCAP);
}

/*
 * Strip the outer header. BPF_F_ADJ_ROOM_DECAP_L3_IPV4 (Linux 6.3) also
 * takes the tunnel out of the skb's GSO type; older kernels refuse the flag
 * with -EINVAL and strip the header without it. That is exact for a single
 * packet; a GRO aggregate keeps SKB_GSO_IPXIP4 there, which local delivery
 * (G is on lo) never looks at: TCP takes the aggregate whole, and its
 * gso_size is the inner MSS, kept by FIXED_GSO.
 */
static __always_inline long decap(struct __sk_buff *skb)
{
	long err = bpf_skb_adjust_room(skb, -(__s32)IPV4_HLEN, BPF_ADJ_ROOM_MAC, DECAP_FLAGS);

	if (err == -EINVAL)
		err = bpf_skb_adjust_room(skb, -(__s32)IPV4_HLEN, BPF_ADJ_ROOM_MAC,
					  BPF_F_ADJ_ROOM_FIXED_GSO);
	return err;
}

/* The gateway's tunnel, outer header at outer (IPIP Gi -> Hi, no options,
 * not a fragment): deliver it well-formed or drop it. */
static __always_inline int tunnel_in(struct __sk_buff *skb, struct iphdr *outer,
				     void *data_end)
{
	struct iphdr *inner = (void *)(outer + 1);
	__u16 outer_len = bpf_ntohs(outer->tot_len);
	int tos;

	/* The stack never sees this header, so its checksum is checked here. */
	if (ipv4_csum(outer) != 0 || outer_len < 2 * IPV4_HLEN ||
	    outer_len > skb->len - ETH_HLEN || (void *)(inner + 1) > data_end ||
	    inner->version != 4 || inner->ihl < 5 ||
	    bpf_ntohs(inner->tot_len) > outer_len - IPV4_HLEN ||
	    inner->daddr != host_cfg.global)
		return verdict(skb, TC_ACT_SHOT, XDNAT_HOST_ERROR);

	/* RFC 6040 4.2: the mark a router put on the way must not be lost */
	tos = ecn_decap(outer->tos, inner->tos);
	if (tos < 0)
		return verdict(skb, TC_ACT_SHOT, XDNAT_HOST_ECN_NOT_ECT);
	if (tos != inner->tos)
		ipv4_set_tos(inner, (__u8)tos);

	if (decap(skb))
		return verdict(skb, TC_ACT_SHOT, XDNAT_HOST_ERROR);
	/* the inner packet now follows the Ethernet header, whose EtherType
	 * (IPv4) is still right: the stack delivers it to G on lo */
	return verdict(skb, TC_ACT_OK, XDNAT_HOST_DECAP);
}

/*
 * IPIP that is not the gateway's tunnel (another source, options, a first
 * fragment): someone else's, unless it carries a packet to G, or hides its
 * inner header (a first fragment cut short), which an ipip device (tunl0)
 * would decapsulate after reassembly. Non-first fragments pass: without
 * their first one nothing is reassembled.
 */
static __always_inline int foreign_tunnel(struct __sk_buff *skb, __u32 ihl)
{
	struct iphdr *inner;
	void *data, *data_end;

	pull(skb, ETH_HLEN + ihl * 4 + IPV4_HLEN, &data, &data_end);
	inner = data + ETH_HLEN + ihl * 4;
	if ((void *)(inner + 1) > data_end || inner->daddr == host_cfg.global)
		return verdict(skb, TC_ACT_SHOT, XDNAT_HOST_TUNNEL_NOT_GW);
	return verdict(skb, TC_ACT_OK, XDNAT_HOST_PASS);
}

/*
 * G is reached from the LAN only through the gateway's tunnel: the gateway
 * enforces the share (ports, SPIs, validated peers), and a neighbour that
 * sent to G at this host's MAC would skip it (finding 15 of issue 13,
 * docs/security.md). The agent keeps the host from answering ARP for G
 * (arp_ignore); this drops what is sent to G anyway, and what claims G or
 * Hi as its source (accept_local, which hairpinned packets need, would let
 * the stack take those).
 */
SEC("tc")
int host_ingress(struct __sk_buff *skb)
{
	struct hdr_cursor nh;
	struct ethhdr *eth;
	struct iphdr *outer;
	void *data, *data_end;

	if (skb->protocol != bpf_htons(ETH_P_IP))
		return verdict(skb, TC_ACT_OK, XDNAT_HOST_PASS);
	/* the host's own multicast, looped back (IP_MULTICAST_LOOP) */
	if (skb->pkt_type == PACKET_LOOPBACK)
		return verdict(skb, TC_ACT_OK, XDNAT_HOST_PASS);
	pull(skb, ETH_HLEN + 2 * IPV4_HLEN, &data, &data_end);
	nh.pos = data;
	if (parse_ethhdr(&nh, data_end, &eth) != ETH_P_IP)
		return verdict(skb, TC_ACT_OK, XDNAT_HOST_PASS);
	outer = nh.pos;
	if ((void *)(outer + 1) > data_end)
		return verdict(skb, TC_ACT_OK, XDNAT_HOST_PASS);
	if (outer->daddr == host_cfg.global)
		return verdict(skb, TC_ACT_SHOT, XDNAT_HOST_PLAIN_TO_G);
	if (outer->version != 4 || outer->ihl < 5)
		return verdict(skb, TC_ACT_OK, XDNAT_HOST_PASS);
	/* Only the gateway's tunnel is ours; it never sends options or
	 * fragments (DF). */
	if (outer->protocol == IPPROTO_IPIP && outer->ihl == 5 &&
	    outer->saddr == host_cfg.gw_addr && outer->daddr == host_cfg.host_addr &&
	    !(outer->frag_off & bpf_htons(IP_MF | IP_OFFSET)))
		return tunnel_in(skb, outer, data_end);
	if (outer->saddr == host_cfg.global || outer->saddr == host_cfg.host_addr)
		return verdict(skb, TC_ACT_SHOT, XDNAT_HOST_LOCAL_SOURCE);
	if (outer->protocol == IPPROTO_IPIP && !(outer->frag_off & bpf_htons(IP_OFFSET)))
		return foreign_tunnel(skb, outer->ihl);
	return verdict(skb, TC_ACT_OK, XDNAT_HOST_PASS);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
