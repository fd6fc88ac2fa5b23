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
 *   net.ipv4.conf.IF.*            the sysctls of enum host_sysctl below
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

/*
 * The sysctls net.ipv4.conf.IF.NAME that the tunnel needs, and the value
 * each must have. The kernel takes max(all, IF) for rp_filter, arp_ignore
 * and arp_announce and all || IF for accept_local: IF's value is enough.
 * They are not all netlink-visible, so the agent reads them back at each
 * check of host_watch.h and puts them back (host_net_sysctls).
 */
enum host_sysctl {
	HOST_SYSCTL_RP_FILTER,		/* 0: the decapsulated packets come from peers */
	HOST_SYSCTL_ARP_ANNOUNCE,	/* 2: no ARP request names G as its source */
	HOST_SYSCTL_ARP_IGNORE,		/* 1: no ARP answer for G (on lo) on the LAN */
	HOST_SYSCTL_ACCEPT_LOCAL,	/* 1: hairpinned packets come from G, ours */
	HOST_SYSCTL_MAX,
};

/* "rp_filter", ... */
const char *host_sysctl_name(enum host_sysctl s);

/*
 * Set IF's sysctls to what the tunnel needs. prev (may be NULL) receives
 * the values found where it still holds -1 (the first `up` remembers the
 * originals). Each change is logged: with why at `up` (restoring false), as
 * a warning that someone changed it when restoring. *changed (may be NULL)
 * gets a bit per sysctl rewritten. Logs what failed; 0 or -errno.
 */
int host_net_sysctls(const char *dev, int prev[HOST_SYSCTL_MAX], bool restoring,
		     unsigned int *changed);
/* A bit per sysctl of IF not as wanted (or unreadable). No log. */
unsigned int host_net_sysctls_wrong(const char *dev);

/* The route's MTU: what fits the tunnel on a device of dev_mtu and the
 * gateway's external link (ext_mtu 0: not known, the tunnel alone). */
unsigned int host_net_route_mtu(unsigned int dev_mtu, uint16_t ext_mtu);

/*
 * Set everything up. prev: as for host_net_sysctls (may be NULL).
 * Logs the step that failed. Returns 0 or -errno.
 */
int host_net_configure(const struct host_net *n, int prev[HOST_SYSCTL_MAX]);
/* Remove it all again, restoring each sysctl whose prev is >= 0. Carries
 * on after a failed step, logs each, returns the first error. */
int host_net_unconfigure(const struct host_net *n, const int prev[HOST_SYSCTL_MAX]);

/* What is really in place, read back from the kernel (not the state file). */
struct host_net_live {
	bool addr;			/* G/32 on lo */
	bool rule;			/* from G lookup TABLE, at HOST_NET_RULE_PREF */
	bool route;			/* default via Gi dev IF in TABLE */
	unsigned int route_mtu;		/* its mtu metric; 0: none */
	unsigned int sysctl_wrong;	/* host_net_sysctls_wrong() */
};

/* Dump addresses, rules and table TABLE's routes. 0 or -errno (not logged:
 * the callers say what they were doing). */
int host_net_probe(const struct host_net *n, struct host_net_live *live);

#endif
