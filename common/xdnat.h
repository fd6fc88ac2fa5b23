/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The one place where types and constants shared by the BPF programs and the
 * userspace tools are defined. Explicit padding, sizes checked at compile time:
 * these structs are BPF map keys and values, and a hole would be hashed.
 */
#ifndef XDNAT_COMMON_H
#define XDNAT_COMMON_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define XDNAT_BPFFS_DEFAULT	"/sys/fs/bpf/xdnat"
#define XDNAT_SPI_MIN		256	/* RFC 4303: 1..255 reserved, 0 local use */
#define XDNAT_TUNNEL_OVERHEAD	20	/* the outer IPv4 header of the host tunnel */

/* Every verdict and drop reason of the data plane, counted per CPU and shown
 * by `xdnatctl stats` under these names (see xdnat_reason_names in ctl/). */
enum xdnat_reason {
	XDNAT_PASS_STACK = 0,		/* to the gateway's own stack */
	XDNAT_FWD_TO_HOST,		/* inbound, tunnelled to a host */
	XDNAT_FWD_TO_EXT,		/* outbound, decapsulated and sent out */
	XDNAT_DROP_SPI_UNKNOWN,		/* ESP/AH SPI allocated to nobody */
	XDNAT_DROP_PEER_NOT_VALIDATED,	/* SPI allocated, source not validated */
	XDNAT_DROP_SPOOFED_SOURCE,	/* host sent with G:port it does not hold */
	XDNAT_DROP_UNKNOWN_HOST,	/* tunnel packet from an unregistered host */
	XDNAT_DROP_FRAG_UNKNOWN,	/* non-first fragment with no learned owner */
	XDNAT_DROP_MALFORMED,		/* truncated or inconsistent headers */
	XDNAT_ICMP_FRAG_NEEDED,		/* too big for the tunnel: ICMP sent back */
	XDNAT_REASON_MAX,
};

/* A global address share entry: who holds G:port (or an SPI). */
struct xdnat_owner {
	__u32 client_id;
	__u32 host_addr;		/* Hi, network order: tunnel destination */
};

/* Established-SA table key (seed 001): one hash lookup per inbound ESP/AH. */
struct xdnat_sa_key {
	__u32 spi;			/* host order */
	__u32 peer;			/* external peer, network order */
};

_Static_assert(sizeof(struct xdnat_owner) == 8, "xdnat_owner layout");
_Static_assert(sizeof(struct xdnat_sa_key) == 8, "xdnat_sa_key layout");

#endif
