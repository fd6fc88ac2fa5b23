/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Header parsers in the xdp-tutorial style: a cursor walks the frame, every
 * parser bounds-checks against data_end (what the verifier needs), advances
 * the cursor past its header and returns the next protocol, or -1 when the
 * header is truncated or inconsistent. The cursor is left untouched on -1.
 *
 * data_end bounds what may be read; the IPv4 total length bounds what the
 * packet means (a short frame is padded to 60 bytes on Ethernet). Callers
 * check L4 sizes against the IP payload length as well, see gw_ext.bpf.c.
 */
#ifndef XDNAT_BPF_PARSE_H
#define XDNAT_BPF_PARSE_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* uapi macros that vmlinux.h (BTF types only) does not carry */
#ifndef ETH_ALEN
#define ETH_ALEN		6
#endif
#ifndef ETH_P_IP
#define ETH_P_IP		0x0800
#endif
#ifndef IP_MF
#define IP_MF			0x2000	/* more fragments (host order) */
#endif
#ifndef IP_DF
#define IP_DF			0x4000	/* don't fragment (host order) */
#endif
#ifndef IP_OFFSET
#define IP_OFFSET		0x1fff	/* fragment offset mask (host order) */
#endif
#ifndef ICMP_ECHOREPLY
#define ICMP_ECHOREPLY		0
#define ICMP_DEST_UNREACH	3
#define ICMP_ECHO		8
#define ICMP_TIME_EXCEEDED	11
#define ICMP_PARAMETERPROB	12
#define ICMP_FRAG_NEEDED	4	/* code of ICMP_DEST_UNREACH */
#endif

struct hdr_cursor {
	void *pos;
};

/* Ethernet: returns the EtherType in host order. No VLAN tags: a tagged
 * frame returns 0x8100 and is left to the stack by the callers. */
static __always_inline int parse_ethhdr(struct hdr_cursor *nh, void *data_end,
					struct ethhdr **ethhdr)
{
	struct ethhdr *eth = nh->pos;

	if ((void *)(eth + 1) > data_end)
		return -1;
	nh->pos = eth + 1;
	*ethhdr = eth;
	return bpf_ntohs(eth->h_proto);
}

/*
 * A 16-bit network-order field in host order, with bounds the verifier
 * keeps: up to 6.12 it forgets them across a byte swap (BPF_END), so a
 * length added to a packet pointer right after bpf_ntohs() is refused
 * ("unbounded min value"). The mask after the barrier restores them; clang
 * cannot drop it as redundant.
 */
static __always_inline __u32 be16_bounded(__be16 v)
{
	__u32 h = bpf_ntohs(v);

	barrier_var(h);
	return h & 0xffff;
}

/* IPv4: version 4, ihl >= 5 (options are skipped, not interpreted), the
 * whole header in the frame, ihl * 4 <= tot_len <= frame bytes after L2.
 * Returns the protocol field. */
static __always_inline int parse_iphdr(struct hdr_cursor *nh, void *data_end,
				       struct iphdr **iphdr)
{
	struct iphdr *iph = nh->pos;
	__u32 hdrsize, tot_len;

	if ((void *)(iph + 1) > data_end)
		return -1;
	if (iph->version != 4 || iph->ihl < 5)
		return -1;
	hdrsize = iph->ihl * 4;
	if (nh->pos + hdrsize > data_end)
		return -1;
	tot_len = be16_bounded(iph->tot_len);
	/* a total length beyond the frame means a truncated packet */
	if (tot_len < hdrsize || nh->pos + tot_len > data_end)
		return -1;
	nh->pos += hdrsize;
	*iphdr = iph;
	return iph->protocol;
}

/* UDP: returns the payload length the header claims (may exceed the frame
 * for a first fragment; callers compare it with the IP payload length). */
static __always_inline int parse_udphdr(struct hdr_cursor *nh, void *data_end,
					struct udphdr **udphdr)
{
	struct udphdr *udp = nh->pos;
	int len;

	if ((void *)(udp + 1) > data_end)
		return -1;
	len = bpf_ntohs(udp->len) - (int)sizeof(*udp);
	if (len < 0)
		return -1;
	nh->pos = udp + 1;
	*udphdr = udp;
	return len;
}

/* TCP: doff >= 5 and the options in the frame; returns the header length. */
static __always_inline int parse_tcphdr(struct hdr_cursor *nh, void *data_end,
					struct tcphdr **tcphdr)
{
	struct tcphdr *tcp = nh->pos;
	int len;

	if ((void *)(tcp + 1) > data_end)
		return -1;
	len = tcp->doff * 4;
	if (len < (int)sizeof(*tcp) || nh->pos + len > data_end)
		return -1;
	nh->pos += len;
	*tcphdr = tcp;
	return len;
}

/* ICMP: the fixed 8-byte header; returns the type. */
static __always_inline int parse_icmphdr(struct hdr_cursor *nh, void *data_end,
					 struct icmphdr **icmphdr)
{
	struct icmphdr *icmp = nh->pos;

	if ((void *)(icmp + 1) > data_end)
		return -1;
	nh->pos = icmp + 1;
	*icmphdr = icmp;
	return icmp->type;
}

/*
 * ESP and AH as on the wire, not vmlinux.h's ip_esp_hdr/ip_auth_hdr: those
 * are CO-RE relocated against the running kernel's BTF, which has no such
 * type where ESP or AH is a module (Debian's 6.1), and then gw_ext does not
 * load. Wire formats never move: fixed offsets are right everywhere.
 */
struct esp_wire {
	__be32 spi;
	__be32 seq_no;
};

struct ah_wire {
	__u8 nexthdr;
	__u8 hdrlen;
	__be16 reserved;
	__be32 spi;
	__be32 seq_no;
};

/* ESP (RFC 4303): SPI and sequence number; returns 0, SPI in *spi (be). */
static __always_inline int parse_esphdr(struct hdr_cursor *nh, void *data_end,
					__u32 *spi)
{
	struct esp_wire *esp = nh->pos;

	if ((void *)(esp + 1) > data_end)
		return -1;
	nh->pos = esp + 1;
	*spi = esp->spi;
	return 0;
}

/* AH (RFC 4302): the 12-byte fixed part, SPI at offset 4; returns the next
 * header, SPI in *spi (be). The ICV is not touched: the host verifies it. */
static __always_inline int parse_ahhdr(struct hdr_cursor *nh, void *data_end,
				       __u32 *spi)
{
	struct ah_wire *ah = nh->pos;

	if ((void *)(ah + 1) > data_end)
		return -1;
	nh->pos = ah + 1;
	*spi = ah->spi;
	return ah->nexthdr;
}

#endif
