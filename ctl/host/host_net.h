/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What xdnat-host configures on the host, over rtnetlink (no `ip` binary):
 *
 *   G/32 on lo                    the host answers for G
 *   rule  from G lookup TABLE     (pref HOST_NET_RULE_PREF)
 *   route default via Gi dev IF table TABLE mtu M advmss (M - 40)
 *                                 packets from G go to the gateway, sized so
 *                                 that the 20-byte tunnel header still fits
 *                                 and the gateway's external link takes them:
 *                                 M = min(devmtu - 20, the gateway's EXT_MTU)
 *   IF rp_filter 0, arp_announce 2
 *                                 accept the decapsulated packets (their
 *                                 source is an external peer), and never
 *                                 use G as the source of an ARP request
 *
 * Every step is idempotent: configuring twice, or removing what is already
 * gone, succeeds. The tc part (the tunnel itself) is host_tc.h.
 */
#ifndef XDNAT_HOST_NET_H
#define XDNAT_HOST_NET_H

#include <stdbool.h>
#include <stdint.h>
#include <net/if.h>

#define HOST_NET_RULE_PREF	4555
#define HOST_NET_TABLE		4555	/* default of --table */

struct host_net {
	char dev[IF_NAMESIZE];		/* IF: towards the gateway */
	uint32_t global;		/* G, network order */
	uint32_t gateway;		/* Gi, network order */
	uint32_t table;
	uint16_t ext_mtu;		/* the gateway's external MTU (PAP EXT_MTU); 0: unknown */
};

/* The route's MTU: what fits the tunnel on a device of dev_mtu and the
 * gateway's external link (ext_mtu 0: not known, the tunnel alone). */
unsigned int host_net_route_mtu(unsigned int dev_mtu, uint16_t ext_mtu);

/*
 * Set everything up. *rp_prev / *arp_prev receive the sysctl values found
 * (left alone when already >= 0: the first `up` remembers the originals).
 * Logs the step that failed. Returns 0 or -errno.
 */
int host_net_configure(const struct host_net *n, int *rp_prev, int *arp_prev);
/* Remove it all again, restoring the sysctls when prev >= 0. Carries on
 * after a failed step, logs each, returns the first error. */
int host_net_unconfigure(const struct host_net *n, int rp_prev, int arp_prev);

/* What is really in place, read back from the kernel (not the state file). */
struct host_net_live {
	bool addr;			/* G/32 on lo */
	bool rule;			/* from G lookup TABLE, at HOST_NET_RULE_PREF */
	bool route;			/* default via Gi dev IF in TABLE */
	unsigned int route_mtu;		/* its mtu metric; 0: none */
};

/* Dump addresses, rules and table TABLE's routes. 0 or -errno (not logged:
 * the callers say what they were doing). */
int host_net_probe(const struct host_net *n, struct host_net_live *live);

#endif
