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

#endif
