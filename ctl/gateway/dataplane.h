/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The BPF side of xdnatd: loads gw_ext and gw_int with their maps pinned by
 * name under --bpffs (a restarted daemon reuses them, so forwarding goes on
 * while it is down), attaches them to --ext-if / --int-if, and mirrors the
 * gateway's host table into the maps (mapsync.c): once in full at start
 * (reconcile), then one host change at a time through the gw_hooks.
 */
#ifndef XDNAT_DATAPLANE_H
#define XDNAT_DATAPLANE_H

#include <stdint.h>
#include "gateway/gateway.h"
#include "xdnat.h"

struct dataplane;
struct xdnatd_config;
struct kfeat_set;

struct dataplane_stats {
	struct xdnat_counter reason[XDNAT_REASON_MAX];	/* summed over CPUs */
	uint64_t sync_errors;		/* map updates that failed */
	uint64_t neigh_failures;	/* host MAC resolutions that failed */
	uint64_t nexthop_events;	/* unresolved next hops the programs reported */
	uint64_t nexthop_resolved;	/* of those, resolved since */
	uint64_t nexthop_failed;	/* of those, still unresolved 10 s later */
};

/*
 * What the data plane needs of the kernel (kfeat.h): what gw_ext and gw_int
 * use, the BPF filesystem at --bpffs, and the optional xdp.frags and
 * managed neighbour entries. Probed; changes nothing. 0 or -errno, logged.
 */
int dataplane_kernel_probe(const struct xdnatd_config *cfg, struct kfeat_set *k);
/* The IPv4 subnets (network order) of NIC ifname, the first max of them
 * into net and mask; how many it has, or -errno. */
int nic_subnets(const char *ifname, uint32_t *net, uint32_t *mask, unsigned int max);

/*
 * Load (reusing pinned maps), fill the config maps and attach, replacing our
 * own earlier programs atomically and refusing a foreign XDP program. Needs
 * config_dataplane(cfg) and the kernel's answers k (dataplane_kernel_probe:
 * which programs, which next-hop mode). 0 or -errno, the reason logged.
 */
int dataplane_open(const struct xdnatd_config *cfg, const struct kfeat_set *k,
		   struct dataplane **out);
/* Make the share maps equal to the gateway's host table, in place (no
 * clearing: the programs keep forwarding), with the hosts' MACs as the
 * kernel knows them now (resolution starts for the others). 0 or -errno. */
int dataplane_reconcile(struct dataplane *dp, const struct gw *g);
/*
 * xdnatd's 1 s timer. Every few seconds, or at the next tick after a host
 * without a known MAC appeared: re-read the NICs (MTUs, internal MAC) and the
 * hosts' MACs (neigh.c), start resolving the missing ones, and write what
 * changed into xdnat_cfg, and into every map entry of a host whose MAC changed.
 */
void dataplane_tick(struct dataplane *dp, const struct gw *g);
/* The external NIC's MTU as last read (0 before it was): what the gateway
 * tells hosts (gw_set_ext_mtu) and gw_int checks their packets against. */
uint16_t dataplane_ext_mtu(const struct dataplane *dp);
/*
 * The data plane's events for xdnatd's epoll loop: readable when gw_ext or
 * gw_int report a next hop without a neighbour entry, or when routes,
 * links or neighbours change (nexthop.c). dataplane_on_events() handles
 * what is there, without blocking.
 */
int dataplane_fd(const struct dataplane *dp);
void dataplane_on_events(struct dataplane *dp);
/* Hooks that keep the maps in step with every later host change. */
struct gw_hooks dataplane_hooks(struct dataplane *dp);
int dataplane_read_stats(struct dataplane *dp, struct dataplane_stats *out);
/* Releases our handles only: programs stay attached, maps stay pinned. */
void dataplane_close(struct dataplane *dp);

/* xdnatd --unload: detach our programs from the NICs cfg names, remove
 * the pins and the managed neighbour entries xdnatd added. 0 or -errno. */
int dataplane_unload(const struct xdnatd_config *cfg);

#endif
