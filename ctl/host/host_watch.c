/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The agent holds its ground (host_watch.h): the netlink watch and the check. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include "host/agent.h"
#include "host/host_net.h"
#include "host/host_veth.h"
#include "host/host_watch.h"
#include "lib/log.h"

static const unsigned int groups[] = {
	RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV4_RULE, RTNLGRP_TC,
};

int host_watch_open(struct host_watch *w)
{
	int err;

	w->fd = -1;
	w->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!w->sock)
		return -errno;
	if (mnl_socket_bind(w->sock, 0, MNL_SOCKET_AUTOPID))
		goto fail;
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		int g = (int)groups[i];

		/* RTNLGRP_TC may be refused: the periodic check covers it */
		if (mnl_socket_setsockopt(w->sock, NETLINK_ADD_MEMBERSHIP, &g, sizeof(g)) &&
		    groups[i] != RTNLGRP_TC)
			goto fail;
	}
	w->fd = mnl_socket_get_fd(w->sock);
	return 0;
fail:
	err = -errno;
	mnl_socket_close(w->sock);
	w->sock = NULL;
	return err;
}

void host_watch_close(struct host_watch *w)
{
	if (w->sock)
		mnl_socket_close(w->sock);
	w->sock = NULL;
	w->fd = -1;
}

bool host_watch_drain(struct host_watch *w)
{
	static char buf[16384];
	bool any = false;

	if (!w->sock)
		return false;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(w->sock, buf, sizeof(buf));

		if (n > 0) {
			any = true;
			continue;
		}
		/* ENOBUFS: events were lost, which calls for a check too */
		if (n < 0 && errno == ENOBUFS) {
			any = true;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return any;
	}
}

const char *host_watch_piece_name(enum watch_piece p)
{
	static const char *const names[WATCH_MAX] = {
		[WATCH_ADDR] = "address", [WATCH_RULE] = "rule", [WATCH_ROUTE] = "route",
		[WATCH_TC] = "tc filters", [WATCH_SYSCTL] = "sysctls",
	};

	return names[p];
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * May piece p be restored now? Counts the restoration when it may. After
 * WATCH_FIGHT restorations within WATCH_WINDOW_MS each next one waits
 * longer (2, 4, 8... s, at most 60 s), and a warning says why, once per
 * window.
 */
static bool may_restore(struct host_watch *w, enum watch_piece p, const char *what,
			int64_t now)
{
	struct watch_piece_stat *s = &w->piece[p];
	int64_t delay;

	if (now < s->not_before_ms)
		return false;
	if (now - s->window_ms > WATCH_WINDOW_MS) {
		s->window_ms = now;
		s->in_window = 0;
		s->warned = false;
	}
	s->in_window++;
	s->restored++;
	if (s->in_window <= WATCH_FIGHT)
		return true;
	delay = 1000LL << (s->in_window - WATCH_FIGHT < 6 ? s->in_window - WATCH_FIGHT : 6);
	if (delay > WATCH_WINDOW_MS)
		delay = WATCH_WINDOW_MS;
	s->not_before_ms = now + delay;
	if (!s->warned && p == WATCH_SYSCTL)
		log_warn("%s changed %u times within %d s: something else sets them (a sysctl.d "
			 "file for net.ipv4.conf.*, which systemd-sysctl applies again when an "
			 "interface appears); restoring them at most every %lld s",
			 what, s->in_window, WATCH_WINDOW_MS / 1000, (long long)delay / 1000);
	else if (!s->warned)
		log_warn("%s removed %u times within %d s: another network manager is removing "
			 "it (systemd-networkd: ManageForeignRoutingPolicyRules=no, "
			 "ManageForeignRoutes=no); restoring it at most every %lld s",
			 what, s->in_window, WATCH_WINDOW_MS / 1000, (long long)delay / 1000);
	s->warned = true;
	return true;
}

/* The next check: the periodic one, or earlier for a held-off piece. */
static void next_check(struct host_watch *w, int64_t now)
{
	w->check_ms = now + WATCH_PERIOD_MS;
	for (int p = 0; p < WATCH_MAX; p++)
		if (w->piece[p].not_before_ms > now && w->piece[p].not_before_ms < w->check_ms)
			w->check_ms = w->piece[p].not_before_ms;
}

/* A device that came back (or a new one of the name): the settings that
 * lived on the old one. Logged by the callees. */
static void device_back(struct agent *a)
{
	int tx = -1;

	host_veth_prepare(a->st.dev, &tx);
}

/* "the address 192.0.2.1/32 on lo", for the log. */
static const char *describe(const struct agent *a, enum watch_piece p, char *buf, size_t len)
{
	char g[INET_ADDRSTRLEN], gi[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &a->st.global, g, sizeof(g));
	inet_ntop(AF_INET, &a->st.gateway, gi, sizeof(gi));
	if (p == WATCH_ADDR)
		snprintf(buf, len, "the address %s/32 on lo", g);
	else if (p == WATCH_RULE)
		snprintf(buf, len, "the rule 'from %s lookup %u'", g, a->st.table);
	else
		snprintf(buf, len, "the route 'default via %s dev %s table %u'", gi, a->st.dev,
			 a->st.table);
	return buf;
}

void agent_hold_ground(struct agent *a)
{
	struct host_watch *w = &a->watch;
	struct host_net n = agent_net(&a->st);
	unsigned int ifindex = if_nametoindex(a->st.dev);
	int64_t now = now_ms();
	struct host_net_live live;
	struct host_tc_live tl;
	enum watch_piece what[3];
	unsigned int n_what = 0;
	char buf[160];
	bool back;

	next_check(w, now);
	if (!a->st.configured)
		return;
	if (!ifindex) {
		if (w->ifindex)
			log_warn("%s is gone: the tunnel is down until it comes back", a->st.dev);
		w->ifindex = 0;
		return;
	}
	back = ifindex != w->ifindex;
	if (back && w->ifindex == 0)
		log_warn("%s is back (ifindex %u): restoring the route and the tunnel on it",
			 a->st.dev, ifindex);
	else if (back)
		log_warn("%s was re-created (ifindex %u, was %u): restoring the route and the "
			 "tunnel on it", a->st.dev, ifindex, w->ifindex);
	w->ifindex = ifindex;
	if (back)
		device_back(a);
	if (host_net_probe(&n, &live) || host_tc_probe(&a->tc, (int)ifindex, &tl)) {
		w->check_ms = now + WATCH_DEBOUNCE_MS * 5;	/* the kernel was busy */
		return;
	}
	if (!live.addr && may_restore(w, WATCH_ADDR, "address", now))
		what[n_what++] = WATCH_ADDR;
	if (!live.rule && may_restore(w, WATCH_RULE, "rule", now))
		what[n_what++] = WATCH_RULE;
	if (!live.route && may_restore(w, WATCH_ROUTE, "route", now))
		what[n_what++] = WATCH_ROUTE;
	if (n_what) {
		n.ext_mtu = a->ext_mtu;	/* the route as the gateway's MTU wants it */
		/* idempotent: what is there stays, what is missing comes back
		 * (the sysctls of a re-created device among them) */
		if (!host_net_configure(&n, NULL))
			for (unsigned int i = 0; i < n_what; i++)
				log_warn("restored %s: someone removed it",
					 describe(a, what[i], buf, sizeof(buf)));
	}
	/* read again: host_net_configure above may have set them */
	if (host_net_sysctls_wrong(a->st.dev) && may_restore(w, WATCH_SYSCTL, "sysctls", now))
		host_net_sysctls(a->st.dev, NULL, true, NULL);
	if ((tl.egress == HOST_TC_MISSING || tl.ingress == HOST_TC_MISSING) &&
	    may_restore(w, WATCH_TC, "tc filters", now)) {
		bool created;

		if (!host_tc_reattach(&a->tc, (int)ifindex, &created)) {
			if (created)
				a->st.clsact_created = true;
			log_warn("restored the tc filters (egress %s, ingress %s before) on %s",
				 host_tc_filter_name(tl.egress), host_tc_filter_name(tl.ingress),
				 a->st.dev);
		}
	}
	next_check(w, now);
}
