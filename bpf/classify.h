/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Inbound attribution: which host holds the port, SPI or echo id a packet
 * to G is for, by the maps xdnatd writes (ports, SAs, SPI blocks) and the
 * programs learn (echo ids, fragments). gw_ext's, for packets from the
 * outside; gw_int's for a hairpinned packet (a host to G:port of another
 * host, RFC 4787 REQ-9), whose source G is the peer here: no SA is ever
 * validated with G, so hairpinned ESP/AH is never attributed.
 */
#ifndef XDNAT_BPF_CLASSIFY_H
#define XDNAT_BPF_CLASSIFY_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "xdnat.h"
#include "maps.h"
#include "parse.h"
#include "bucket.h"

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

/* Holder of the SA a host sends on with SPI spi to peer (proto ESP or AH),
 * as gw_int learned it: an ICMP error quoting that packet is the host's. */
static __always_inline int ipsec_out_owner(__u32 peer, __u32 spi, __u8 proto,
					   struct xdnat_owner *out)
{
	struct xdnat_ipsec_key k = {};
	struct xdnat_owner *o;

	k.peer = peer;
	k.spi = spi;
	k.proto = proto;
	o = bpf_map_lookup_elem(&xdnat_ipsec_out, &k);
	if (!o || !o->client_id)
		return XDNAT_PASS_STACK;
	*out = *o;
	return XDNAT_FWD_TO_HOST;
}

/* The datagram of fragment iph as xdnat_frags keys it: src is the sender
 * (gw_ext: the IP source; gw_int: the host's Hi, not the G all share). */
static __always_inline void frag_key(struct xdnat_frag_key *fk, const struct iphdr *iph,
				     __u32 src)
{
	fk->src = src;
	fk->dst = iph->daddr;
	fk->id = iph->id;
	fk->proto = iph->protocol;
}

/* Same holder: client and address (the MAC is derived). */
static __always_inline bool same_holder(const struct xdnat_owner *a,
					const struct xdnat_owner *b)
{
	return a->client_id == b->client_id && a->host_addr == b->host_addr;
}

/* One of src's new datagrams in xdnat_frags (its bucket, made full when
 * the LRU has none or lost it): false when its budget is spent. */
static __always_inline bool frag_budget_take(__u32 src, __u64 now)
{
	struct xdnat_icmp_bucket *b, fresh = {};

	b = bpf_map_lookup_elem(&xdnat_frag_src, &src);
	if (b)
		return bucket_take(b, now, XDNAT_FRAG_SRC_BURST, XDNAT_FRAG_SRC_INTERVAL_NS);
	fresh.stamp_ns = now;
	fresh.tokens = XDNAT_FRAG_SRC_BURST - 1;
	bpf_map_update_elem(&xdnat_frag_src, &src, &fresh, BPF_ANY);
	return true;
}

/*
 * Remember where the first fragment iph of src went (owner, or client 0:
 * our stack); the owner value as read, MAC included, so the rest take the
 * same next hop. 0, or the drop reason: the datagram is another holder's,
 * learned less than XDNAT_FRAG_HOLD_NS ago (a duplicate first fragment
 * must not re-point it), or src's budget of new datagrams is spent (one
 * source cannot flush the table). The same holder again (a retransmitted
 * first fragment) costs nothing.
 */
static __always_inline int learn_fragment(const struct iphdr *iph, __u32 src,
					  const struct xdnat_owner *owner)
{
	struct xdnat_frag_key fk = {};
	struct xdnat_frag *f, n = {};
	__u64 now = bpf_ktime_get_ns();

	frag_key(&fk, iph, src);
	f = bpf_map_lookup_elem(&xdnat_frags, &fk);
	if (f && now - f->learned_ns < XDNAT_FRAG_HOLD_NS) {
		if (!same_holder(&f->owner, owner))
			return XDNAT_DROP_FRAG_CONFLICT;
		return 0;
	}
	/* an id reused after the hold: a new datagram, charged as one */
	if (!frag_budget_take(src, now))
		return XDNAT_DROP_FRAG_BUDGET;
	n.owner = *owner;
	n.learned_ns = now;
	bpf_map_update_elem(&xdnat_frags, &fk, &n, BPF_ANY);
	return 0;
}

/* Where the first fragment of iph's datagram from src went, or NULL: not
 * seen. */
static __always_inline struct xdnat_owner *fragment_owner(const struct iphdr *iph, __u32 src)
{
	struct xdnat_frag_key fk = {};
	struct xdnat_frag *f;

	frag_key(&fk, iph, src);
	f = bpf_map_lookup_elem(&xdnat_frags, &fk);
	return f ? &f->owner : NULL;
}

/*
 * The packet an ICMP error quotes (nh just past the ICMP header; l4_len
 * the ICMP message's length): its IPv4 header, with the 8 bytes after it
 * (*ql4) within the packet and the message, of a whole packet or a first
 * fragment (a later one quotes no port); else NULL.
 */
static __always_inline struct iphdr *icmp_quote(const struct hdr_cursor *nh, void *data_end,
						__u32 l4_len, __u8 **ql4)
{
	struct iphdr *qip = nh->pos;
	__u32 qhl;

	if ((void *)(qip + 1) > data_end)
		return NULL;
	if (qip->version != 4 || qip->ihl < 5 || (qip->frag_off & bpf_htons(IP_OFFSET)))
		return NULL;
	qhl = qip->ihl * 4;
	*ql4 = (__u8 *)qip + qhl;
	/* IP header + 8 bytes must be quoted, within the ICMP length too */
	if ((void *)(*ql4 + 8) > data_end || qhl + 8 > l4_len - sizeof(struct icmphdr))
		return NULL;
	return qip;
}

/* A MAC xdnatd resolved: all zero means not (yet). Two loads: the MAC sits
 * 4-byte aligned in xdnat_owner (asserted in xdnat.h). */
static __always_inline bool mac_known(const __u8 *mac)
{
	return *(const __u32 *)mac | *(const __u16 *)(mac + 4);
}

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
 * must have G as its source: by its TCP/UDP source port, its echo id, or
 * the SA of its ESP/AH (the SPI is the peer's: gw_int learned who sends on
 * it, RFC 4301 6). A quote we cannot attribute (truncated, a fragment, an
 * SA no host sent on) is the gateway's business: to the stack.
 */
static __always_inline int classify_icmp(struct hdr_cursor *nh, void *data_end,
					 struct iphdr *iph, __u32 l4_len,
					 __u32 global, struct xdnat_owner *out)
{
	struct icmphdr *icmp;
	struct iphdr *qip;
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
	qip = icmp_quote(nh, data_end, l4_len, &ql4);
	if (!qip || qip->saddr != global)
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
	case IPPROTO_ESP:
		/* the SPI opens the ESP header */
		return ipsec_out_owner(qip->daddr, *(__u32 *)ql4, IPPROTO_ESP, out);
	case IPPROTO_AH:
		/* next header, length, reserved, then the SPI */
		return ipsec_out_owner(qip->daddr, *(__u32 *)(ql4 + 4), IPPROTO_AH, out);
	default:
		return XDNAT_PASS_STACK;
	}
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

#endif
