/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The agent holds its ground: a netlink socket on the groups that tell of
 * addresses, rules, routes, links and tc filters changing (the kernel's own
 * multicast, no polling of `ip`), and a check that reads back what is in
 * place (host_net_probe, host_tc_probe) and puts back what someone removed:
 * G on lo, the rule, the route, the tc filters (systemd-networkd removes
 * foreign rules by default), and the sysctls of host_net.h, which have no
 * netlink event of their own: they are read back at every check (every
 * WATCH_PERIOD_MS at least). A device that disappears and comes back gets
 * everything back. Each restoration is logged once; a piece removed again
 * and again (another manager fighting us) is restored with a growing delay
 * and a warning, so that the fight does not spin.
 */
#ifndef XDNAT_HOST_WATCH_H
#define XDNAT_HOST_WATCH_H

#include <stdbool.h>
#include <stdint.h>

enum watch_piece { WATCH_ADDR, WATCH_RULE, WATCH_ROUTE, WATCH_TC, WATCH_SYSCTL, WATCH_MAX };

/* Restorations of one piece: how many, and the rate limit. */
struct watch_piece_stat {
	unsigned int restored;		/* since the agent started */
	int64_t window_ms;		/* start of the current rate window */
	unsigned int in_window;		/* restorations in it */
	int64_t not_before_ms;		/* held off until then */
	bool warned;			/* the fight was reported in this window */
};

struct host_watch {
	struct mnl_socket *sock;	/* NULL: events unavailable, periodic checks only */
	int fd;				/* for poll, -1 without sock */
	int64_t check_ms;		/* monotonic time of the next check */
	unsigned int ifindex;		/* of --dev when last checked; 0: gone */
	struct watch_piece_stat piece[WATCH_MAX];
};

/* Checks this often even without events (lost events, kernels without
 * RTNLGRP_TC), and this long after an event (a burst is one check). */
#define WATCH_PERIOD_MS		5000
#define WATCH_DEBOUNCE_MS	200
/* More restorations of one piece than this in WATCH_WINDOW_MS: a fight. */
#define WATCH_WINDOW_MS		60000
#define WATCH_FIGHT		3

/* Subscribe. 0 or -errno; w->fd is -1 on failure (checks still run). */
int host_watch_open(struct host_watch *w);
void host_watch_close(struct host_watch *w);
/* Read what arrived; true when any message did (a check is due). */
bool host_watch_drain(struct host_watch *w);
/* "address", "rule", "route", "tc filters", "sysctls" */
const char *host_watch_piece_name(enum watch_piece p);

#endif
