/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The one IPv4 header the data plane builds: the outer header of the host
 * tunnel (gw_ext's tunnel_push, host_tunnel's host_egress) and the header of
 * the gateway's ICMP answers. Always 20 bytes without options, DF with id 0
 * and TTL XDNAT_IP_TTL.
 */
#ifndef XDNAT_BPF_IPV4_H
#define XDNAT_BPF_IPV4_H

#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include "parse.h"
#include "csum.h"

#define XDNAT_IP_TTL		64

/* The ECN field (RFC 3168), the low two bits of the TOS byte. */
#define IP_ECN_MASK		0x3
#define IP_ECN_NOT_ECT		0x0
#define IP_ECN_ECT_1		0x1
#define IP_ECN_ECT_0		0x2
#define IP_ECN_CE		0x3

/*
 * Fill the 20 bytes at iph (the caller has bounds-checked them), checksum
 * included. tot_len is in host order, the addresses in network order.
 */
static __always_inline void ipv4_build(struct iphdr *iph, __u8 tos, __u16 tot_len,
				       __u8 protocol, __u32 saddr, __u32 daddr)
{
	*(__u8 *)iph = 0x45;			/* version 4, ihl 5: no options */
	iph->tos = tos;
	iph->tot_len = bpf_htons(tot_len);
	/* id 0 is fine with DF set (RFC 6864): what we build never fragments */
	iph->id = 0;
	iph->frag_off = bpf_htons(IP_DF);
	iph->ttl = XDNAT_IP_TTL;
	iph->protocol = protocol;
	iph->check = 0;
	iph->saddr = saddr;
	iph->daddr = daddr;
	iph->check = ipv4_csum(iph);
}

/*
 * A source no single host may have (RFC 1812 5.3.7, 4.3.2.7): "this"
 * network 0/8, loopback 127/8, multicast 224/4 and 240/4 with the limited
 * broadcast 255.255.255.255 in it. saddr in network order.
 */
static __always_inline bool ipv4_martian_src(__u32 saddr)
{
	__u32 src = bpf_ntohl(saddr);

	return !(src >> 24) || (src >> 24) == 127 || (src >> 28) >= 0xe;
}

/*
 * RFC 6040 section 4.2, the decapsulator's table: the inner TOS byte to
 * forward given the outer and inner ones, or -1 when the packet must be
 * dropped (outer CE on a Not-ECT inner: the congestion mark cannot be
 * passed on). The DSCP bits are always the inner's.
 */
static __always_inline int ecn_decap(__u8 outer_tos, __u8 inner_tos)
{
	__u8 o = outer_tos & IP_ECN_MASK, i = inner_tos & IP_ECN_MASK;

	if (o == IP_ECN_CE) {
		if (i == IP_ECN_NOT_ECT)
			return -1;
		i = IP_ECN_CE;
	} else if (o == IP_ECN_ECT_1 && i == IP_ECN_ECT_0) {
		i = IP_ECN_ECT_1;
	}
	return (inner_tos & ~IP_ECN_MASK) | i;
}

/*
 * The header's 16-bit words 0 (version/ihl, TOS) and 4 (TTL, protocol) are
 * rewritten whole, through the same pointer the old ones are read with:
 * a byte store to iph->tos and a 16-bit reload of its word is something
 * clang's type-based alias analysis may reorder (it did: the checksum then
 * missed the change).
 */
static __always_inline void ipv4_set_word(struct iphdr *iph, int i, __u16 new_be)
{
	__u16 *w = (__u16 *)iph, old = w[i];

	w[i] = new_be;
	csum_replace16(&iph->check, old, new_be);
}

/* Rewrite a received header's TOS byte (the caller has bounds-checked its
 * first 20 bytes), the checksum updated incrementally, so the header's sum,
 * and with it any checksum over the whole packet (CHECKSUM_COMPLETE), stays
 * what it was. */
static __always_inline void ipv4_set_tos(struct iphdr *iph, __u8 tos)
{
	ipv4_set_word(iph, 0, bpf_htons(((__u16)*(__u8 *)iph << 8) | tos));
}

/* The same for the TOS byte and the TTL. */
static __always_inline void ipv4_set_tos_ttl(struct iphdr *iph, __u8 tos, __u8 ttl)
{
	ipv4_set_tos(iph, tos);
	ipv4_set_word(iph, 4, bpf_htons(((__u16)ttl << 8) | iph->protocol));
}

#endif
