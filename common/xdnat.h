/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The one place where types and constants shared by the BPF programs and the
 * userspace tools are defined. Explicit padding, sizes checked at compile time:
 * these structs are BPF map keys and values, and a hole would be hashed.
 * Byte order is in every field's comment: "be" = network order as on the wire.
 */
#ifndef XDNAT_COMMON_H
#define XDNAT_COMMON_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define XDNAT_BPFFS_DEFAULT	"/sys/fs/bpf/xdnat"
#define XDNAT_SPI_MIN		256	/* RFC 4303: 1..255 reserved, 0 local use */
/* xdnat_spiblk holds one entry per aligned run of this many SPIs, so the
 * gateway hands out SPI blocks of at least this size (a power of two). */
#define XDNAT_SPI_GRANULE	16
#define XDNAT_ETH_ALEN		6
#define XDNAT_TUNNEL_OVERHEAD	20	/* the outer IPv4 header of the host tunnel */

/* Map sizes the programs are built with; xdnatd may raise the hash/LRU ones
 * before load (bpf_map__set_max_entries), e.g. --sa-entries. */
#define XDNAT_MAX_PORTS		65536
#define XDNAT_MAX_HOSTS		65536
#define XDNAT_MAX_SPI_GRANULES	262144	/* 4M allocated SPIs */
#define XDNAT_MAX_SA		262144
#define XDNAT_MAX_FRAGS		16384
#define XDNAT_MAX_ICMP_IDS	16384
#define XDNAT_MAX_IPSEC_OUT	16384
#define XDNAT_NEXTHOP_BITS	14
#define XDNAT_MAX_NEXTHOPS	(1u << XDNAT_NEXTHOP_BITS)
/* How long gw_int trusts a FIB answer it cached: a route or neighbour change
 * reaches outbound traffic within this (docs/xdnatd.md). */
#define XDNAT_NEXTHOP_TTL_NS	1000000000ULL

/*
 * Every verdict and drop reason of the data plane, counted per CPU (packets
 * and bytes) in xdnat_stats and shown by `xdnatctl stats` under the names in
 * XDNAT_REASON_NAMES. Never renumber: dashboards key on the names.
 */
enum xdnat_reason {
	XDNAT_PASS_STACK = 0,		/* not ours: to the gateway's own stack */
	XDNAT_FWD_TO_HOST,		/* inbound, tunnelled to a host */
	XDNAT_FWD_TO_EXT,		/* outbound, decapsulated and sent out */
	XDNAT_DROP_SPI_UNKNOWN,		/* ESP/AH SPI allocated to nobody */
	XDNAT_DROP_PEER_NOT_VALIDATED,	/* SPI allocated, source not validated */
	XDNAT_DROP_SPOOFED_SOURCE,	/* host sent as G:port / id it does not hold */
	XDNAT_DROP_UNKNOWN_HOST,	/* tunnel packet from an unregistered host */
	XDNAT_DROP_FRAG_UNKNOWN,	/* non-first fragment with no learned owner */
	XDNAT_DROP_MALFORMED,		/* truncated or inconsistent headers */
	XDNAT_DROP_NO_ROUTE,		/* no route/neighbour, or redirect failed */
	XDNAT_DROP_UNSUPPORTED,		/* outbound protocol that cannot be attributed */
	XDNAT_ICMP_FRAG_NEEDED,		/* too big for the tunnel: ICMP sent back */
	/* appended (never renumber): what no_route used to hide */
	XDNAT_DROP_FIB_NO_ROUTE,	/* FIB: no route, blackhole, unreachable, prohibit */
	XDNAT_DROP_FIB_FWD_DISABLED,	/* FIB: forwarding off on the ingress NIC */
	XDNAT_DROP_ROUTE_WRONG_NIC,	/* FIB's egress is not the NIC it must be */
	XDNAT_DROP_FIB_FRAG_NEEDED,	/* FIB: over the egress MTU (outbound) */
	XDNAT_DROP_REDIRECT_FAILED,	/* devmap redirect refused */
	XDNAT_DROP_ADJUST_HEAD_FAILED,	/* no head room to push or pop a header */
	/* tunnel semantics (RFC 2003, RFC 6040, RFC 4787) */
	XDNAT_ICMP_TIME_EXCEEDED,	/* inner TTL <= 1: time-exceeded sent back */
	XDNAT_DROP_TTL_EXCEEDED,	/* inner TTL <= 1, no answer (rate limit, error) */
	XDNAT_DROP_ECN_NOT_ECT,		/* outer CE, inner Not-ECT (RFC 6040 4.2) */
	XDNAT_FWD_HAIRPIN,		/* host to G:port of another host, tunnelled */
	XDNAT_DROP_HAIRPIN_NO_OWNER,	/* host to G, nobody holds the port / id */
	XDNAT_ICMP_TUNNEL_ERROR,	/* ICMP error about our tunnel Gi -> Hi */
	/* path MTU (RFC 1191, RFC 1812 4.3.2.7, RFC 4301 6) */
	XDNAT_ICMP_FRAG_TO_HOST,	/* outbound, too big for the external link:
					 * frag-needed tunnelled back to the host */
	XDNAT_DROP_TOO_BIG_NOT_DF,	/* too big, DF clear: XDP cannot fragment */
	XDNAT_DROP_TOO_BIG_NO_ICMP,	/* too big, DF set, but no ICMP may be sent
					 * (RFC 1812 4.3.2.7: about an ICMP error, a
					 * non-first fragment, an invalid source) */
	XDNAT_DROP_ICMP_RATELIMITED,	/* too big, its frag-needed over the rate limit */
	XDNAT_DROP_NEXTHOP_UNRESOLVED,	/* the FIB's next hop has no neighbour entry
					 * yet: xdnatd was asked to resolve it */
	/* issue 13, findings 13, 14, 16: docs/security.md */
	XDNAT_DROP_HOST_MAC_MISMATCH,	/* tunnel from Hi, frame not from Hi's MAC */
	XDNAT_DROP_ICMP_QUOTE_NOT_OWN,	/* a host's ICMP error quotes a packet that
					 * was not sent to it (G:port, SPI, id) */
	XDNAT_DROP_ICMP_QUOTE_UNCHECKED, /* ... whose quote names no holder
					 * (truncated, a fragment, not to G) */
	XDNAT_DROP_SRC_MARTIAN,		/* to G from 0/8, 127/8, 224/4, 240/4 */
	XDNAT_DROP_SRC_INTERNAL,	/* to G from Gi or an internal prefix */
	XDNAT_DROP_SRC_GLOBAL,		/* to G from G, from outside */
	XDNAT_DROP_FRAG_CONFLICT,	/* first fragment of a datagram learned for
					 * another holder, not yet XDNAT_FRAG_HOLD_NS ago */
	XDNAT_DROP_FRAG_BUDGET,		/* first fragment over its source's budget of
					 * new datagrams */
	XDNAT_REASON_MAX,
};

#define XDNAT_REASON_NAMES {						\
	"pass_stack", "fwd_to_host", "fwd_to_ext", "spi_unknown",	\
	"peer_not_validated", "spoofed_source", "unknown_host",		\
	"frag_unknown", "malformed", "no_route", "unsupported",		\
	"icmp_frag_needed", "fib_no_route", "fib_fwd_disabled",	\
	"route_wrong_nic", "fib_frag_needed", "redirect_failed",	\
	"adjust_head_failed", "icmp_time_exceeded", "ttl_exceeded",	\
	"ecn_not_ect", "fwd_hairpin", "hairpin_no_owner",		\
	"icmp_tunnel_error", "icmp_frag_to_host", "too_big_not_df",	\
	"too_big_no_icmp", "icmp_ratelimited", "nexthop_unresolved",	\
	"host_mac_mismatch", "icmp_quote_not_own", "icmp_quote_unchecked", \
	"src_martian", "src_internal", "src_global", "frag_conflict",	\
	"frag_budget" }

/* Packets and bytes: the host tunnel's counters (xdnat_host_stat), and the
 * data plane's summed over CPUs. */
struct xdnat_counter {
	__u64 packets;
	__u64 bytes;
};

/*
 * xdnat_stats value, one per reason (the index) per CPU: the counters and
 * the reason itself, so that `bpftool map dump` names every entry
 * ("reason": "XDNAT_DROP_SPI_UNKNOWN"). The reason is in the value, not the
 * key's type: the kernel takes only a 32-bit int as an array's key type,
 * and a hash keyed by the enum costs 40-60 ns a packet (docs/xdnatd.md).
 */
struct xdnat_reason_counter {
	__u64 packets;
	__u64 bytes;
	enum xdnat_reason reason;	/* the index; written by the programs and xdnatd */
	__u32 pad;
};

/*
 * xdnat_layout value (single entry, key 0), written by xdnatd: the layout of
 * the pinned maps (raised whenever a map's type, key, value or meaning
 * changes) and the release that pinned them. An xdnatd of another layout
 * refuses the pins, naming that release; xdnatctl reads them offline only
 * when the layout is its own.
 */
#define XDNAT_MAP_LAYOUT	3	/* 2: xdnat_stats names its reasons, this record; 3: xdnat_cfg's internal subnets, xdnat_frags' owner and time */
struct xdnat_layout {
	__u32 layout;			/* XDNAT_MAP_LAYOUT; 0: never written */
	__u32 pad;
	char version[56];		/* the release, NUL-terminated */
};
#define XDNAT_MAX_INT_NETS	8	/* internal subnets gw_ext knows */

/* xdnat_cfg value (single entry, key 0): written by xdnatd, read per packet. */
struct xdnat_cfg {
	__u32 global;			/* G, be */
	__u32 internal;			/* Gi, be: outer source of the tunnel */
	__u32 ext_ifindex;
	__u32 int_ifindex;
	__u16 int_mtu;			/* inner packet + 20 must fit */
	__u16 flags;			/* XDNAT_CFG_* */
	__u8 int_mac[XDNAT_ETH_ALEN];	/* internal NIC: source MAC towards hosts */
	/* what a host's packet may be on the external link: longer ones get
	 * frag-needed (DF) or are dropped; 0: unknown, the FIB's check only */
	__u16 ext_mtu;
	/* the internal subnets (BCP 38: --internal-nets, then the internal
	 * NIC's): gw_ext drops packets to G from them; mask 0: an unused slot */
	struct xdnat_prefix {
		__u32 net;		/* be, masked */
		__u32 mask;		/* be */
	} int_nets[XDNAT_MAX_INT_NETS];
};
#define XDNAT_CFG_ENABLED	0x1	/* 0: everything passes to the stack */

/* Who holds a share of G: the tunnel endpoint for the packet, and its next
 * hop. The value of xdnat_sa and xdnat_spiblk (written by xdnatd), and of
 * xdnat_frags and xdnat_icmp_ids (learned by the programs, copied from what
 * they read): gw_ext forwards from it alone, with no xdnat_hosts lookup. */
struct xdnat_owner {
	__u32 client_id;		/* 0: nobody */
	__u32 host_addr;		/* Hi, be */
	__u8 mac[XDNAT_ETH_ALEN];	/* Hi's MAC, as in xdnat_hosts; zero: use the FIB */
	__u16 pad;
};

/* xdnat_ports value, indexed by port (host order), TCP and UDP alike: the
 * holder as every other owner value names it (client_id 0: the port is not
 * handed out), which gw_ext copies as one, then the port's flags. */
struct xdnat_port_owner {
	struct xdnat_owner owner;
	__u32 flags;			/* XDNAT_PORT_* */
};
#define XDNAT_PORT_NATT		0x1	/* UDP port carries ESP-in-UDP (RFC 3948) */

/* xdnat_spiblk key (hash): one granule, XDNAT_SPI_GRANULE SPIs aligned to
 * their number, of an allocated SPI block; a block of n SPIs has
 * n / XDNAT_SPI_GRANULE entries. One lookup names a drop reason. */
struct xdnat_spiblk_key {
	__u32 spi;			/* be: first SPI of the granule */
};

/* xdnat_sa key (hash): established-SA table (US 7,028,335; docs/design.md), one entry per SPI
 * and validated peer, so an inbound ESP/AH costs one lookup. */
struct xdnat_sa_key {
	__u32 spi;			/* be, as on the wire */
	__u32 peer;			/* external peer, be */
};

/*
 * xdnat_nexthop (per-CPU array, a direct-mapped cache): gw_int's copy of the
 * FIB's answer for an outbound destination, so that most packets skip
 * bpf_fib_lookup(). Slot xdnat_nexthop_slot(dst, tos); an entry for
 * another destination or TOS, or expired, is a miss. An array, not a hash:
 * the JIT inlines its lookup (a hash lookup is a helper call, which costs as
 * much as the FIB here). Per CPU: no torn entries between CPUs.
 */
struct xdnat_nexthop {
	__u64 expires_ns;		/* bpf_ktime_get_coarse_ns() clock; 0: empty */
	__u32 dst;			/* be */
	__u32 ifindex;
	__u8 dmac[XDNAT_ETH_ALEN];
	__u8 smac[XDNAT_ETH_ALEN];
	/* the longest packet the FIB let through to dst: no longer ones are
	 * within the route's MTU (a longer one asks the FIB again) */
	__u16 max_len;
	__u8 tos;
	__u8 pad;
};

/* Fibonacci hashing of (dst, tos) onto the XDNAT_MAX_NEXTHOPS slots. */
static inline __u32 xdnat_nexthop_slot(__u32 dst_be, __u8 tos)
{
	return ((dst_be ^ ((__u32)tos << 24)) * 2654435761u) >> (32 - XDNAT_NEXTHOP_BITS);
}

/*
 * xdnat_nh_events (ring buffer, read by xdnatd): a next hop the FIB found
 * no neighbour entry for (BPF_FIB_LKUP_RET_NO_NEIGH), for xdnatd to have
 * the kernel resolve it. At most one event per XDNAT_NH_EVENT_GAP_NS per
 * CPU and slot xdnat_nh_event_slot(addr) (xdnat_nh_event_at holds when the
 * last one left), so a flood towards unresolvable addresses cannot flood
 * the daemon.
 */
struct xdnat_nh_event {
	__u32 addr;			/* be: the next hop (gateway or destination) */
	__u32 ifindex;			/* the NIC it lies on */
};
#define XDNAT_NH_EVENTS_SIZE	(64 * 1024)	/* bytes: about 4000 events */
#define XDNAT_NH_EVENT_BITS	10
#define XDNAT_NH_EVENT_SLOTS	(1u << XDNAT_NH_EVENT_BITS)
#define XDNAT_NH_EVENT_GAP_NS	100000000ULL	/* 100 ms */

static inline __u32 xdnat_nh_event_slot(__u32 addr_be)
{
	return (addr_be * 2654435761u) >> (32 - XDNAT_NH_EVENT_BITS);
}

/* xdnat_hosts value, key Hi (be, __u32): a registered host. The MAC is what
 * the kernel resolved for Hi on the internal NIC (xdnatd, ctl/gateway/neigh.c); xdnatd
 * copies it into every port, SA and SPI-granule value of the host, gw_int
 * into the echo ids it learns. gw_int checks hosts here; gw_ext never reads it. */
struct xdnat_host {
	__u32 client_id;
	__u8 mac[XDNAT_ETH_ALEN];	/* all zero: not resolved, use the FIB */
	__u16 pad;
};

/*
 * xdnat_frags key (LRU): a datagram (RFC 791: source, destination, id,
 * protocol) whose first fragment was seen -> struct xdnat_frag for the rest.
 * Inbound (gw_ext): the peer, G. From a host (gw_int): src is the host's
 * Hi, not G (which all hosts share): the datagram to dst whose first
 * fragment Hi sent, or hairpinned (dst G) the holder it went to. Hi lies in
 * an internal subnet, which gw_ext never accepts as a source.
 */
struct xdnat_frag_key {
	__u32 src;			/* be */
	__u32 dst;			/* be */
	__u16 id;			/* be */
	__u8 proto;
	__u8 pad;
};

/* xdnat_frags value: where the first fragment went (client 0: our stack),
 * and when it was learned. A first fragment naming another holder does not
 * replace an entry younger than XDNAT_FRAG_HOLD_NS (frag_conflict): a
 * duplicate cannot re-point a datagram in flight, an id reused later can. */
struct xdnat_frag {
	struct xdnat_owner owner;
	__u64 learned_ns;		/* bpf_ktime_get_ns() */
};
#define XDNAT_FRAG_HOLD_NS	2000000000ULL	/* 2 s */

/* xdnat_frag_src (LRU, key: a source address, be; value: a token bucket,
 * struct xdnat_icmp_bucket): the new datagrams one source may enter in
 * xdnat_frags, XDNAT_FRAG_SRC_BURST at once and one more every
 * XDNAT_FRAG_SRC_INTERVAL_NS, so that one source needs XDNAT_MAX_FRAGS /
 * 2000 = 8 s to cycle the table (a datagram's fragments arrive within
 * milliseconds). The source is the peer (gw_ext) or the host's Hi (gw_int). */
#define XDNAT_MAX_FRAG_SRCS	16384
#define XDNAT_FRAG_SRC_BURST	256
#define XDNAT_FRAG_SRC_INTERVAL_NS	500000ULL	/* 2000 a second */

/* xdnat_icmp_ids key (LRU): echo id a host used towards a peer. */
struct xdnat_icmp_key {
	__u32 peer;			/* be */
	__u16 id;			/* be */
	__u16 pad;
};

/* xdnat_ipsec_out key (LRU): an SA a host sends on, learned from its
 * outbound ESP/AH, so ICMP errors quoting that packet (RFC 4301 6: PMTU of
 * the SA) reach the host. The SPI is the peer's choice, unique per (G, peer). */
struct xdnat_ipsec_key {
	__u32 peer;			/* be: the quoted destination */
	__u32 spi;			/* be, as on the wire */
	__u8 proto;			/* IPPROTO_ESP or IPPROTO_AH */
	__u8 pad[3];
};

/*
 * xdnat_icmp_rl (per-CPU array, XDNAT_ICMP_RL_MAX slots): a token bucket per
 * direction for the ICMP errors the data plane sends, like the kernel's
 * icmp_ratelimit: XDNAT_ICMP_BURST at once, one more every
 * XDNAT_ICMP_INTERVAL_NS. Zero: a full bucket. A stamp ahead of the clock
 * (written by a test) grants nothing new until the clock gets there.
 */
struct xdnat_icmp_bucket {
	__u64 stamp_ns;			/* bpf_ktime_get_ns() of the last refill */
	__u32 tokens;
	__u32 pad;
};
#define XDNAT_ICMP_BURST	50
#define XDNAT_ICMP_INTERVAL_NS	1000000ULL	/* 1 ms: 1000 a second per CPU */
enum xdnat_icmp_rl_slot {
	XDNAT_ICMP_RL_EXT = 0,		/* gw_ext's answers to external senders */
	XDNAT_ICMP_RL_HOST,		/* gw_int's answers to hosts */
	XDNAT_ICMP_RL_MAX,
};

/* xdnat_tx: DEVMAP_HASH keyed by ifindex (the two NICs). */

/*
 * Host side (xdnat-host, bpf/host_tunnel.bpf.c). Its maps are never pinned
 * and all carry the xdnat_host_ prefix, so they cannot meet the gateway's.
 */

/* host_tunnel's configuration: .rodata, written by xdnat-host before load. */
struct xdnat_host_cfg {
	__u32 global;			/* G, be: source out, destination in */
	__u32 host_addr;		/* Hi, be: outer source out, destination in */
	__u32 gw_addr;			/* Gi, be: outer destination out, source in */
};

/* xdnat_host_stat index (per CPU, value struct xdnat_counter). */
enum xdnat_host_counter {
	XDNAT_HOST_ENCAP = 0,		/* egress from G, outer header pushed */
	XDNAT_HOST_DECAP,		/* ingress IPIP Gi -> Hi, outer header stripped */
	XDNAT_HOST_PASS,		/* not the tunnel's: untouched */
	XDNAT_HOST_ERROR,		/* tunnel packet malformed or not resizable: dropped */
	XDNAT_HOST_ECN_NOT_ECT,		/* outer CE, inner Not-ECT: dropped (RFC 6040) */
	/* G is reached through the gateway's tunnel only (docs/security.md,
	 * finding 15): the rest of what the LAN sends towards it is dropped */
	XDNAT_HOST_PLAIN_TO_G,		/* plain (untunnelled) packet to G */
	XDNAT_HOST_LOCAL_SOURCE,	/* plain packet from G or Hi: never from the LAN */
	XDNAT_HOST_TUNNEL_NOT_GW,	/* IPIP to G not from Gi to Hi, or hiding its inner header */
	XDNAT_HOST_CTR_MAX,
};

#define XDNAT_HOST_COUNTER_NAMES { "encap", "decap", "pass", "error", "ecn_not_ect", \
	"plain_to_g", "local_source", "tunnel_not_gw" }

_Static_assert(sizeof(struct xdnat_counter) == 16, "xdnat_counter layout");
_Static_assert(sizeof(struct xdnat_host_cfg) == 12, "xdnat_host_cfg layout");
_Static_assert(sizeof(struct xdnat_cfg) == 28 + 8 * XDNAT_MAX_INT_NETS, "xdnat_cfg layout");
_Static_assert(sizeof(struct xdnat_host) == 12, "xdnat_host layout");
_Static_assert(__builtin_offsetof(struct xdnat_host, mac) == 4,
	       "xdnat_host: gw_int compares the MAC as an aligned u32 and u16");
_Static_assert(sizeof(struct xdnat_owner) == 16, "xdnat_owner layout");
_Static_assert(__builtin_offsetof(struct xdnat_owner, mac) == 8,
	       "xdnat_owner: gw_ext reads the MAC as an aligned u32 and u16");
_Static_assert(sizeof(struct xdnat_port_owner) == 20, "xdnat_port_owner layout");
_Static_assert(sizeof(struct xdnat_spiblk_key) == 4, "xdnat_spiblk_key layout");
_Static_assert((XDNAT_SPI_GRANULE & (XDNAT_SPI_GRANULE - 1)) == 0, "granule: a power of two");
_Static_assert(sizeof(struct xdnat_sa_key) == 8, "xdnat_sa_key layout");
_Static_assert(sizeof(struct xdnat_frag_key) == 12, "xdnat_frag_key layout");
_Static_assert(sizeof(struct xdnat_frag) == 24, "xdnat_frag layout");
_Static_assert(__builtin_offsetof(struct xdnat_frag, owner) == 0,
	       "xdnat_frag: the map sync reads every learned value's owner at offset 0");
_Static_assert(sizeof(struct xdnat_icmp_key) == 8, "xdnat_icmp_key layout");
_Static_assert(sizeof(struct xdnat_nexthop) == 32, "xdnat_nexthop layout");
_Static_assert(sizeof(struct xdnat_ipsec_key) == 12, "xdnat_ipsec_key layout");
_Static_assert(sizeof(struct xdnat_icmp_bucket) == 16, "xdnat_icmp_bucket layout");
_Static_assert(sizeof(struct xdnat_nh_event) == 8, "xdnat_nh_event layout");
_Static_assert(sizeof(struct xdnat_layout) == 64, "xdnat_layout layout");
_Static_assert(sizeof(struct xdnat_reason_counter) == 24, "xdnat_reason_counter layout");

#endif
