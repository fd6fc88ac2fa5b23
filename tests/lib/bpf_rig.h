/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The rig for running the XDP data plane (gw_ext, gw_int) with
 * BPF_PROG_TEST_RUN, shared by the BPF tests (tests/unit/test_bpf_*.c) and
 * bench/xdp_bench.c.
 *
 * rig_netns() moves the process into a new network namespace (nothing
 * touches the host's network) and builds what the FIB lookups need there:
 * two veth pairs, an external one (203.0.113.1/24, peer and attacker as
 * permanent neighbours) and an internal one (10.0.0.1/24 = Gi, hosts H1 and
 * H2 as permanent neighbours, H4 behind an on-link route), forwarding on
 * both. rig_open() loads the two
 * programs with their maps created unpinned and shared, as the pinned maps
 * are in xdnatd; several rigs may be open at once (each with its own maps).
 * rig_world() installs the standard world. Needs root (CAP_SYS_ADMIN +
 * CAP_BPF).
 *
 * Then packet builders: frames with valid checksums, built byte by byte
 * independently of the BPF code (no bpf/ header is used here).
 */
#ifndef XDNAT_TEST_BPF_RIG_H
#define XDNAT_TEST_BPF_RIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include "xdnat.h"

struct bpf_object;
struct bpf_program;

/* ---- the world ---------------------------------------------------------- */

#define EXT_DEV		"xdnx0"		/* gateway's external NIC (peer xdnx1) */
#define INT_DEV		"xdni0"		/* gateway's internal NIC (peer xdni1) */

extern const uint8_t EXT_MAC[6], INT_MAC[6], H1_MAC[6], H2_MAC[6], PEER_MAC[6],
	ATK_MAC[6], H4_MAC[6];

#define IP4(a, b, c, d)	htonl(((uint32_t)(a) << 24) | ((b) << 16) | ((c) << 8) | (d))
#define G		IP4(198, 51, 100, 1)
#define GI		IP4(10, 0, 0, 1)
#define H1		IP4(10, 0, 0, 11)
#define H2		IP4(10, 0, 0, 12)
#define H3		IP4(10, 0, 0, 13)	/* registered, no neighbour entry */
#define H4		IP4(10, 0, 38, 254)	/* on-link route: its address bytes
						 * make the outer checksum need a
						 * second carry fold */
#define PEER		IP4(203, 0, 113, 10)
#define ATTACKER	IP4(203, 0, 113, 66)

#define CID1		1
#define CID2		2
#define H1_PORT		20000
#define H1_NATT		20002
#define H2_PORT		20100
#define H2_NATT		20102
#define H1_SPI_BLOCK	0x00001000u	/* 256 SPIs: 0x1000..0x10ff */
#define H2_SPI_BLOCK	0x00002000u
#define SPI_BLOCK_SIZE	256u
#define H1_SPI		0x00001001u	/* validated with PEER */
#define H2_SPI		0x00002001u	/* validated with PEER */
#define UNKNOWN_SPI	0x00777777u

#define ETH_IP		0x0800
#define ETH_ARP		0x0806
#define ETH_IP6		0x86dd
#define P_ICMP		1
#define P_IPIP		4
#define P_TCP		6
#define P_UDP		17
#define P_GRE		47
#define P_ESP		50
#define P_AH		51

/* ---- the rig -------------------------------------------------------------- */

struct rig {
	bool ok;			/* rig built; tests skip otherwise */
	struct gw_ext *ext;
	struct gw_int *in;
	bool xdp_frags;			/* the xdp.frags programs, else the
					 * plain twins (kernels before 5.18) */
	struct bpf_program *ext_prog, *int_prog;	/* the ones loaded */
	int ext_fd, int_fd;		/* their fds */
	int ext_ifindex, int_ifindex;
	int cfg, ports, spiblk, sa, hosts, frags, icmp_ids, nexthop, stats, tx;
	int ipsec_out, icmp_rl, frag_src;
	int ncpus;
	uint16_t used_ports[64];	/* set by rig_set_port, reset by rig_world */
	unsigned int n_used_ports;
};

/* Packets and bytes per reason, summed over the CPUs. */
struct counters {
	uint64_t packets[XDNAT_REASON_MAX];
	uint64_t bytes[XDNAT_REASON_MAX];
};

/* Runs a shell command (printf-style); its exit status, reported if not 0. */
int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Private network namespace with the two veth pairs. 0, -1 when the caller
 * cannot have one (not root: errno set, nothing changed), -2 when the rig
 * could not be built. */
int rig_netns(void);
/* Loads gw_ext and gw_int (maps unpinned, shared), fills the NIC map and the
 * rig's fds. sa_entries: xdnat_sa's max_entries, 0 for the built-in size.
 * 0 or -1 (the rig is then half built: rig_close() it). */
int rig_open(struct rig *r, uint32_t sa_entries);
void rig_close(struct rig *r);
/* Points every map of obj at the rig's map of the same name and disables its
 * pinning, so loading obj creates (and pins) nothing. Before load; 0 or -1. */
int rig_share_maps(const struct rig *r, struct bpf_object *obj);

/* Map set-up. 0 or a negative errno (with the libbpf calls' errno). */
/* Empties gw_int's next-hop cache (rig_world does too). */
int rig_clear_nexthops(struct rig *r);
/* The config; its int_mac is INT_MAC, the internal NIC's, and its internal
 * subnet 10.0.0.0/24, as xdnatd writes them. */
int rig_set_cfg(struct rig *r, uint16_t int_mtu, uint16_t flags);
int rig_set_cfg_mac(struct rig *r, uint16_t int_mtu, uint16_t flags, const uint8_t *int_mac);
/* Port, SPI-granule and SA values carry the host's MAC, as xdnatd writes
 * them: these take the one xdnat_hosts holds for hi now (zero when it has
 * none); the _mac variants take mac (NULL: zero) whatever xdnat_hosts says. */
int rig_set_port(struct rig *r, uint16_t port, uint32_t cid, uint32_t hi, uint32_t flags);
int rig_set_port_mac(struct rig *r, uint16_t port, uint32_t cid, uint32_t hi, uint32_t flags,
		     const uint8_t *mac);
/* An allocated SPI block [first, first + count): its granules in xdnat_spiblk. */
int rig_set_spiblk(struct rig *r, uint32_t first, uint32_t count, uint32_t cid,
		   uint32_t hi);
/*
 * n SAs at once, for the benches: SPI spi0 + k validated with peer peer0 + k
 * (host order), the SPIs in blocks of block in xdnat_spiblk. two_hosts:
 * block b is client 100 + b, held by H1 and H2 in turn; else all client
 * CID1's on H1. The values carry the host's MAC, as xdnatd writes them.
 * Batched (a million take half a second). 0 or a negative errno.
 */
int rig_add_sas(struct rig *r, uint32_t n, uint32_t spi0, uint32_t peer0, uint32_t block,
		bool two_hosts);
int rig_set_sa(struct rig *r, uint32_t spi, uint32_t peer, uint32_t cid, uint32_t hi);
int rig_set_sa_mac(struct rig *r, uint32_t spi, uint32_t peer, uint32_t cid, uint32_t hi,
		   const uint8_t *mac);
/* A registered host, its MAC not resolved (gw_ext uses the FIB), or with
 * the MAC xdnatd would have resolved (gw_ext's fast path). Like xdnatd, both
 * also rewrite the MAC in every port, SA and SPI-granule value of hi. */
int rig_set_host(struct rig *r, uint32_t hi, uint32_t cid);
int rig_set_host_mac(struct rig *r, uint32_t hi, uint32_t cid, const uint8_t *mac);
/* The standard world: every share map emptied (the ICMP rate limit's
 * buckets full again), then H1 and H2 registered
 * (MACs not resolved: the FIB path), a plain and a NAT-T port each, an SPI
 * block of 256 each, one SA each with PEER; config enabled with an internal
 * MTU of 1500. 0 or -1. */
int rig_world(struct rig *r);
int rig_read_stats(const struct rig *r, struct counters *c);

/*
 * One BPF_PROG_TEST_RUN of prog on len bytes at in, arriving on ifindex.
 * out/out_size: where the kernel writes the frame as the program left it
 * (*out_len: its length, which may exceed out_size: then the kernel refused
 * with -ENOSPC after copying out_size bytes). repeat: the kernel's loop
 * count (1 when the program changes the packet). *duration: ns per run as
 * the kernel measured it (may be NULL). Returns the XDP action or -errno.
 */
int rig_run(int prog, int ifindex, const void *in, uint32_t len, void *out,
	    uint32_t out_size, uint32_t *out_len, uint32_t repeat, uint32_t *duration);

/* ---- packets ---------------------------------------------------------------- */

#define FRAME_MAX	4096

struct frame {
	size_t len;
	uint8_t b[FRAME_MAX];
};

struct ip4 {
	uint32_t src, dst;		/* be */
	uint8_t proto, tos;
	uint16_t id, frag;		/* host order; frag = flags | offset */
	const uint8_t *opt;
	size_t optlen;			/* multiple of 4 */
};

void be16(uint8_t *p, uint16_t v);
void be32(uint8_t *p, uint32_t v);
uint16_t rd16(const uint8_t *p);
/* RFC 1071, written here independently of bpf/csum.h: the sum of the
 * big-endian 16-bit words, folded and complemented. Over data that
 * contains its own valid checksum the result is 0. */
uint16_t inet_csum(const uint8_t *p, size_t n);

/* Starts f with an Ethernet header. */
void eth(struct frame *f, const uint8_t *dst, const uint8_t *src, uint16_t proto);
/* Appends n bytes; aborts past FRAME_MAX (a bug in the caller). */
void append(struct frame *f, const void *p, size_t n);
/* An IPv4 packet (valid header checksum) into p; returns its length. pay may
 * overlap p (it is moved last). */
size_t ip4(uint8_t *p, const struct ip4 *h, const void *pay, size_t paylen);
/* The TTL of the IPv4 header at p, its checksum summed anew. */
void ip4_set_ttl(uint8_t *p, uint8_t ttl);
/* L4 headers into p, followed by their payload; each returns its length. */
size_t udp(uint8_t *p, uint16_t sport, uint16_t dport, const void *d, size_t n);
size_t tcp(uint8_t *p, uint16_t sport, uint16_t dport);		/* SYN, doff 5 */
/* ESP header + n bytes standing in for ciphertext, IV and ICV. */
size_t esp(uint8_t *p, uint32_t spi, uint32_t seq, size_t n);
/* AH header with a 12-byte ICV (hdrlen 4), then the protected payload. */
size_t ah(uint8_t *p, uint8_t next, uint32_t spi, const void *d, size_t n);
/* ICMP with a valid checksum; rest is the 4 bytes after it (host order). */
size_t icmp(uint8_t *p, uint8_t type, uint8_t code, uint32_t rest, const void *d, size_t n);

/* Prints len bytes at b, 16 a line, on stdout (with cmocka's messages). */
void hexdump(const char *what, const uint8_t *b, size_t len);

/* Frame from the external side (peer's or attacker's MAC) to the gateway. */
void ext_frame(struct frame *f, const uint8_t *src_mac, const uint8_t *pkt, size_t n);
/* IPv4 to G from src (DF, id 0x1111), with protocol and payload. */
void to_g(struct frame *f, uint32_t src, uint8_t proto, const void *pay, size_t n);
/* Tunnel frame from a host (outer hi -> Gi) carrying an inner packet. */
void from_host(struct frame *f, const uint8_t *mac, uint32_t hi, const uint8_t *inner,
	       size_t n);
/* The same with the outer header's TOS byte tos (its ECN field, say). */
void from_host_tos(struct frame *f, const uint8_t *mac, uint32_t hi, uint8_t tos,
		   const uint8_t *inner, size_t n);

/* RFC 6040 section 4.2 (Figure 4), as a table written here: the inner TOS
 * byte a decapsulator forwards for an outer and an inner one, or -1: drop. */
int rfc6040_decap(uint8_t outer_tos, uint8_t inner_tos);
/* An inner packet from src (normally G, what a host sends) into p. */
size_t from_g(uint8_t *p, uint32_t src, uint32_t dst, uint8_t proto, const void *pay,
	      size_t n);

#endif
