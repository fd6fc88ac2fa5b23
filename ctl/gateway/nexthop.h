/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The next hops of the routes out of the gateway's NICs, kept resolved for
 * gw_ext's and gw_int's bpf_fib_lookup (XDP cannot wait for ARP: a next hop
 * without a neighbour entry is a drop, nexthop_unresolved).
 *
 * - The gateways of the routes (RTA_GATEWAY, RTA_MULTIPATH) whose output is
 *   one of the NICs get a managed neighbour entry (NTF_EXT_MANAGED, Linux
 *   5.16): the kernel keeps it resolved itself. Where the kernel has none
 *   (it ignores the flag: seen when the entry is read back), they are asked
 *   for with NTF_USE at every refresh instead, as neigh.c does for the
 *   hosts. The entries added are tagged NDA_PROTOCOL NEXTHOP_PROTO and
 *   removed when their route goes, and by nexthop_remove_ours (--unload).
 * - Route, link and neighbour changes come over an rtnetlink socket
 *   (nexthop_fd, in xdnatd's epoll loop): a route change is followed at once.
 * - On-link destinations, which no route names, come from the programs
 *   (nexthop_request, an xdnat_nh_events event): resolved with NTF_USE.
 */
#ifndef XDNAT_NEXTHOP_H
#define XDNAT_NEXTHOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NEXTHOP_PROTO		0x78	/* NDA_PROTOCOL of our entries ("proto 120") */
#define NEXTHOP_NICS		2	/* external, internal */

struct nexthop;

struct nexthop_stats {
	uint64_t events;	/* next hops the programs found unresolved */
	uint64_t resolved;	/* of those asked for, resolved since */
	uint64_t failed;	/* of those asked for, still unresolved 10 s later */
	uint64_t gateways;	/* routes' next hops tracked now */
};

/* For the NICs ifindex[] (names for the log). 0 or -errno. */
int nexthop_open(const unsigned int ifindex[NEXTHOP_NICS],
		 const char *const names[NEXTHOP_NICS], struct nexthop **out);
void nexthop_close(struct nexthop *nh);
/* What the kernel probe said of managed entries (kfeat.h's KFEAT_NEIGH_MANAGED
 * state): present or absent settles the mode; unknown leaves it to the
 * first managed entry read back. Before the first nexthop_sync(). */
void nexthop_set_managed(struct nexthop *nh, int kfeat_state);
/* The notification socket: readable when routes, links or neighbours change. */
int nexthop_fd(const struct nexthop *nh);
/* Read the routes and neighbours, add, refresh and remove entries. 0 or -errno. */
int nexthop_sync(struct nexthop *nh);
/* Drain the notification socket; a route or link change syncs at once. */
void nexthop_on_notify(struct nexthop *nh);
/* xdnatd's 1 s timer: the periodic refresh, expiry of on-demand requests. */
void nexthop_tick(struct nexthop *nh);
/* An xdnat_nh_events event: have the kernel resolve addr (be) on ifindex. */
void nexthop_request(struct nexthop *nh, uint32_t addr, unsigned int ifindex);
void nexthop_get_stats(const struct nexthop *nh, struct nexthop_stats *out);
/* Delete the managed entries tagged ours on the NICs (xdnatd --unload).
 * How many, or -errno. */
int nexthop_remove_ours(const unsigned int ifindex[NEXTHOP_NICS]);

/* ---- the plan, a pure function (exposed for the tests) ----------------- */

struct nh_addr {
	uint32_t addr;		/* be */
	uint32_t ifindex;
};

/* A neighbour entry as read from the kernel. */
struct nh_neigh {
	struct nh_addr a;
	uint16_t state;		/* NUD_* */
	bool managed;		/* NTF_EXT_MANAGED */
	bool ours;		/* NDA_PROTOCOL == NEXTHOP_PROTO */
};

enum nh_action {
	NH_ADD_MANAGED,		/* create or mark managed (NTF_USE too: resolve now) */
	NH_USE,			/* NTF_USE: resolve or confirm */
	NH_DELETE,		/* our managed entry, its route gone */
};

struct nh_step {
	struct nh_addr a;
	enum nh_action act;
};

/*
 * What to do for the wanted next hops (n_want, duplicates allowed) given
 * the neighbour table (n_tab entries): with managed entries, each wanted
 * one without a managed entry is added; without, each wanted one without a
 * usable MAC, or a stale one, is asked for; our managed entries no route
 * wants go. Permanent entries are never touched. steps has room for
 * n_want + n_tab; returns how many were written.
 */
size_t nexthop_plan(const struct nh_addr *want, size_t n_want, const struct nh_neigh *tab,
		    size_t n_tab, bool managed, struct nh_step *steps);

#endif
