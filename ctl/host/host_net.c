/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * host_net.h over rtnetlink (lib/nl.h): one request per step, each
 * acknowledged (NLM_F_ACK) so the kernel's errno comes back. "Already there" (EEXIST on
 * a create) and "already gone" (ENOENT, ESRCH, EADDRNOTAVAIL on a delete)
 * count as success: that is what makes `up` and `down` idempotent.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include "host/host_net.h"
#include "lib/log.h"
#include "lib/nl.h"
#include "xdnat.h"

/* advmss = mtu - IPv4 header - TCP header */
#define TCP_IP_HEADERS	40

static int tolerate(int err, bool add)
{
	if (add && err == -EEXIST)
		return 0;
	if (!add && (err == -ENOENT || err == -ESRCH || err == -EADDRNOTAVAIL))
		return 0;
	return err;
}

/* G/32 on lo. */
static int addr(struct nl *nl, bool add, uint32_t global)
{
	struct nl_msgbuf m;
	struct nlmsghdr *h;
	struct ifaddrmsg *ifa;
	unsigned int lo = if_nametoindex("lo");

	if (!lo)
		return -ENODEV;
	h = nl_msg(&m, add ? RTM_NEWADDR : RTM_DELADDR, add ? NLM_F_CREATE | NLM_F_EXCL : 0);
	ifa = mnl_nlmsg_put_extra_header(h, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = 32;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = lo;
	mnl_attr_put(h, IFA_LOCAL, sizeof(global), &global);
	mnl_attr_put(h, IFA_ADDRESS, sizeof(global), &global);
	return tolerate(nl_request(nl, h), add);
}

/*
 * from G lookup TABLE, at a fixed preference: the kernel's duplicate check
 * (NLM_F_EXCL) compares the preference too, so a second `up` finds it.
 */
static int rule(struct nl *nl, bool add, uint32_t global, uint32_t table)
{
	struct nl_msgbuf m;
	struct nlmsghdr *h;
	struct fib_rule_hdr *frh;

	h = nl_msg(&m, add ? RTM_NEWRULE : RTM_DELRULE, add ? NLM_F_CREATE | NLM_F_EXCL : 0);
	frh = mnl_nlmsg_put_extra_header(h, sizeof(*frh));
	frh->family = AF_INET;
	frh->src_len = 32;
	frh->action = FR_ACT_TO_TBL;
	frh->table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	mnl_attr_put(h, FRA_SRC, sizeof(global), &global);
	mnl_attr_put_u32(h, FRA_TABLE, table);
	mnl_attr_put_u32(h, FRA_PRIORITY, HOST_NET_RULE_PREF);
	return tolerate(nl_request(nl, h), add);
}

/* default via Gi dev IF table TABLE mtu M advmss M-40 (replaced if there). */
static int route(struct nl *nl, bool add, uint32_t gateway, unsigned int ifindex,
		 uint32_t table, unsigned int mtu)
{
	struct nl_msgbuf m;
	struct nlmsghdr *h;
	struct rtmsg *rtm;
	struct nlattr *metrics;

	h = nl_msg(&m, add ? RTM_NEWROUTE : RTM_DELROUTE, add ? NLM_F_CREATE | NLM_F_REPLACE : 0);
	rtm = mnl_nlmsg_put_extra_header(h, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = add ? RT_SCOPE_UNIVERSE : RT_SCOPE_NOWHERE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(h, RTA_TABLE, table);
	if (add) {
		mnl_attr_put(h, RTA_GATEWAY, sizeof(gateway), &gateway);
		mnl_attr_put_u32(h, RTA_OIF, ifindex);
		metrics = mnl_attr_nest_start(h, RTA_METRICS);
		mnl_attr_put_u32(h, RTAX_MTU, mtu);
		mnl_attr_put_u32(h, RTAX_ADVMSS, mtu - TCP_IP_HEADERS);
		mnl_attr_nest_end(h, metrics);
	}
	return tolerate(nl_request(nl, h), add);
}

static int dev_mtu(const char *dev, unsigned int *mtu)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	if (ioctl(fd, SIOCGIFMTU, &ifr))
		err = -errno;
	else
		*mtu = (unsigned int)ifr.ifr_mtu;
	close(fd);
	return err;
}

static const struct {
	const char *name;
	int want;
	const char *why;	/* for the log */
} sysctls[HOST_SYSCTL_MAX] = {
	[HOST_SYSCTL_RP_FILTER] = { "rp_filter", 0,
		"the decapsulated packets come from external peers" },
	[HOST_SYSCTL_ARP_ANNOUNCE] = { "arp_announce", 2,
		"no ARP request names G as its source" },
	[HOST_SYSCTL_ARP_IGNORE] = { "arp_ignore", 1,
		"no ARP answers for G (on lo) on the LAN: only the gateway answers for it" },
	[HOST_SYSCTL_ACCEPT_LOCAL] = { "accept_local", 1,
		"hairpinned packets arrive from G, the host's own address" },
};

const char *host_sysctl_name(enum host_sysctl s)
{
	return sysctls[s].name;
}

/* net.ipv4.conf.DEV.NAME, open for reading or writing. */
static int sysctl_open(const char *dev, enum host_sysctl s, int flags)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/%s", dev, sysctls[s].name);
	fd = open(path, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int sysctl_read(const char *dev, enum host_sysctl s, int *v)
{
	char buf[32];
	int fd = sysctl_open(dev, s, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return fd;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	buf[n] = 0;
	*v = atoi(buf);
	return 0;
}

static int sysctl_write(const char *dev, enum host_sysctl s, int v)
{
	char buf[32];
	int fd = sysctl_open(dev, s, O_WRONLY), n, err = 0;

	if (fd < 0)
		return fd;
	n = snprintf(buf, sizeof(buf), "%d\n", v);
	if (write(fd, buf, (size_t)n) != n)
		err = -errno;
	close(fd);
	return err;
}

int host_net_sysctls(const char *dev, int prev[HOST_SYSCTL_MAX], bool restoring,
		     unsigned int *changed)
{
	int cur, rc;

	if (changed)
		*changed = 0;
	for (int s = 0; s < HOST_SYSCTL_MAX; s++) {
		rc = sysctl_read(dev, s, &cur);
		if (rc) {
			log_err("reading sysctl net.ipv4.conf.%s.%s: %s", dev, sysctls[s].name,
				strerror(-rc));
			return rc;
		}
		if (prev && prev[s] < 0)
			prev[s] = cur;
		if (cur == sysctls[s].want)
			continue;
		rc = sysctl_write(dev, s, sysctls[s].want);
		if (rc) {
			log_err("setting sysctl net.ipv4.conf.%s.%s to %d: %s", dev,
				sysctls[s].name, sysctls[s].want, strerror(-rc));
			return rc;
		}
		if (restoring)
			log_warn("restored sysctl net.ipv4.conf.%s.%s = %d (was %d): someone "
				 "changed it", dev, sysctls[s].name, sysctls[s].want, cur);
		else
			log_info("sysctl net.ipv4.conf.%s.%s = %d (was %d): %s", dev,
				 sysctls[s].name, sysctls[s].want, cur, sysctls[s].why);
		if (changed)
			*changed |= 1u << s;
	}
	return 0;
}

unsigned int host_net_sysctls_wrong(const char *dev)
{
	unsigned int wrong = 0;
	int v;

	for (int s = 0; s < HOST_SYSCTL_MAX; s++)
		if (sysctl_read(dev, s, &v) || v != sysctls[s].want)
			wrong |= 1u << s;
	return wrong;
}

/* What `up` found, put back. Logs each; returns the first error. */
static int sysctls_restore(const char *dev, const int prev[HOST_SYSCTL_MAX])
{
	int first = 0, cur, rc;

	for (int s = 0; s < HOST_SYSCTL_MAX; s++) {
		if (prev[s] < 0 || (!sysctl_read(dev, s, &cur) && cur == prev[s]))
			continue;
		rc = sysctl_write(dev, s, prev[s]);
		if (rc)
			log_err("restoring sysctl net.ipv4.conf.%s.%s to %d: %s", dev,
				sysctls[s].name, prev[s], strerror(-rc));
		else
			log_info("sysctl net.ipv4.conf.%s.%s = %d again (as before up)", dev,
				 sysctls[s].name, prev[s]);
		first = first ? first : rc;
	}
	return first;
}

/* Address, rule and route, in that order. Logs the step that failed. */
static int routing_up(struct nl *nl, const struct host_net *n, unsigned int ifindex,
		      unsigned int mtu)
{
	char g[INET_ADDRSTRLEN], gi[INET_ADDRSTRLEN];
	int rc;

	inet_ntop(AF_INET, &n->global, g, sizeof(g));
	inet_ntop(AF_INET, &n->gateway, gi, sizeof(gi));
	rc = addr(nl, true, n->global);
	if (rc) {
		log_err("adding %s/32 to lo: %s", g, strerror(-rc));
		return rc;
	}
	rc = rule(nl, true, n->global, n->table);
	if (rc) {
		log_err("adding rule 'from %s lookup %u': %s", g, n->table, strerror(-rc));
		return rc;
	}
	rc = route(nl, true, n->gateway, ifindex, n->table, mtu);
	if (rc) {
		log_err("adding route 'default via %s dev %s table %u mtu %u': %s", gi,
			n->dev, n->table, mtu, strerror(-rc));
		return rc;
	}
	log_info("%s/32 on lo; from %s lookup table %u: default via %s dev %s mtu %u advmss %u",
		 g, g, n->table, gi, n->dev, mtu, mtu - TCP_IP_HEADERS);
	return 0;
}

/* Route, rule and address: each step tried, each failure logged, the first
 * returned. */
static int routing_down(struct nl *nl, const struct host_net *n)
{
	char g[INET_ADDRSTRLEN];
	int rc, first;

	inet_ntop(AF_INET, &n->global, g, sizeof(g));
	rc = route(nl, false, 0, 0, n->table, 0);
	if (rc)
		log_err("removing the default route of table %u: %s", n->table, strerror(-rc));
	first = rc;
	rc = rule(nl, false, n->global, n->table);
	if (rc)
		log_err("removing rule 'from %s lookup %u': %s", g, n->table, strerror(-rc));
	first = first ? first : rc;
	rc = addr(nl, false, n->global);
	if (rc)
		log_err("removing %s/32 from lo: %s", g, strerror(-rc));
	return first ? first : rc;
}

static int rtnl_open(struct nl **nl)
{
	int rc = nl_open(NETLINK_ROUTE, 0, nl);

	if (rc)
		log_err("rtnetlink socket: %s", strerror(-rc));
	return rc;
}

unsigned int host_net_route_mtu(unsigned int dev_mtu, uint16_t ext_mtu)
{
	unsigned int mtu = dev_mtu - XDNAT_TUNNEL_OVERHEAD;

	return ext_mtu && ext_mtu < mtu ? ext_mtu : mtu;
}

int host_net_configure(const struct host_net *n, int prev[HOST_SYSCTL_MAX])
{
	unsigned int ifindex = if_nametoindex(n->dev), mtu = 0;
	struct nl *nl;
	int rc;

	if (!ifindex) {
		log_err("%s: no such interface", n->dev);
		return -ENODEV;
	}
	rc = dev_mtu(n->dev, &mtu);
	if (!rc && mtu < 576 + XDNAT_TUNNEL_OVERHEAD)
		rc = -EINVAL;
	if (rc) {
		log_err("%s: MTU %u too small for the tunnel (or unreadable: %s)",
			n->dev, mtu, strerror(-rc));
		return rc;
	}
	rc = host_net_sysctls(n->dev, prev, false, NULL);
	if (rc)
		return rc;
	rc = rtnl_open(&nl);
	if (rc)
		return rc;
	rc = routing_up(nl, n, ifindex, host_net_route_mtu(mtu, n->ext_mtu));
	nl_close(nl);
	return rc;
}

int host_net_unconfigure(const struct host_net *n, const int prev[HOST_SYSCTL_MAX])
{
	struct nl *nl;
	int rc, first;

	first = rtnl_open(&nl);
	if (!first) {
		first = routing_down(nl, n);
		nl_close(nl);
	}
	/* the interface may be gone by now: then so are its sysctls */
	if (if_nametoindex(n->dev)) {
		rc = sysctls_restore(n->dev, prev);
		first = first ? first : rc;
	}
	return first;
}

/* ---- reading back ------------------------------------------------------------ */

struct attr_tab {
	const struct nlattr *tb[FRA_MAX > RTA_MAX ? FRA_MAX + 1 : RTA_MAX + 1];
	unsigned int max;
};

static int attr_cb(const struct nlattr *a, void *data)
{
	struct attr_tab *t = data;
	unsigned int type = mnl_attr_get_type(a);

	if (type <= t->max)
		t->tb[type] = a;
	return MNL_CB_OK;
}

/* The attributes of h after its family header of hdrlen bytes, by type. */
static void attrs_of(const struct nlmsghdr *h, size_t hdrlen, struct attr_tab *t,
		     unsigned int max)
{
	memset(t->tb, 0, sizeof(t->tb));
	t->max = max;
	mnl_attr_parse(h, (unsigned int)hdrlen, attr_cb, t);
}

static bool attr_is_u32(const struct nlattr *a, uint32_t v)
{
	return a && mnl_attr_get_payload_len(a) >= 4 && mnl_attr_get_u32(a) == v;
}

struct probe {
	const struct host_net *n;
	unsigned int lo, ifindex;
	struct host_net_live *live;
};

static int addr_cb(const struct nlmsghdr *h, void *data)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(h);
	struct probe *p = data;
	struct attr_tab t;

	if (ifa->ifa_family != AF_INET || ifa->ifa_index != p->lo || ifa->ifa_prefixlen != 32)
		return 0;
	attrs_of(h, sizeof(*ifa), &t, IFA_MAX);
	if (attr_is_u32(t.tb[IFA_LOCAL], p->n->global))
		p->live->addr = true;
	return 0;
}

static int rule_cb(const struct nlmsghdr *h, void *data)
{
	const struct fib_rule_hdr *frh = mnl_nlmsg_get_payload(h);
	struct probe *p = data;
	struct attr_tab t;

	if (frh->family != AF_INET || frh->src_len != 32 || frh->action != FR_ACT_TO_TBL)
		return 0;
	attrs_of(h, sizeof(*frh), &t, FRA_MAX);
	if (attr_is_u32(t.tb[FRA_SRC], p->n->global) &&
	    attr_is_u32(t.tb[FRA_PRIORITY], HOST_NET_RULE_PREF) &&
	    (attr_is_u32(t.tb[FRA_TABLE], p->n->table) ||
	     (!t.tb[FRA_TABLE] && frh->table == p->n->table)))
		p->live->rule = true;
	return 0;
}

static unsigned int metric_mtu(const struct nlattr *metrics)
{
	const struct nlattr *a;

	if (!metrics)
		return 0;
	mnl_attr_for_each_nested(a, metrics)
		if (mnl_attr_get_type(a) == RTAX_MTU && mnl_attr_get_payload_len(a) >= 4)
			return mnl_attr_get_u32(a);
	return 0;
}

static int route_cb(const struct nlmsghdr *h, void *data)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(h);
	struct probe *p = data;
	struct attr_tab t;

	if (rtm->rtm_family != AF_INET || rtm->rtm_dst_len != 0)
		return 0;
	attrs_of(h, sizeof(*rtm), &t, RTA_MAX);
	if (!(attr_is_u32(t.tb[RTA_TABLE], p->n->table) ||
	      (!t.tb[RTA_TABLE] && rtm->rtm_table == p->n->table)))
		return 0;
	if (attr_is_u32(t.tb[RTA_GATEWAY], p->n->gateway) &&
	    attr_is_u32(t.tb[RTA_OIF], p->ifindex)) {
		p->live->route = true;
		p->live->route_mtu = metric_mtu(t.tb[RTA_METRICS]);
	}
	return 0;
}

/* One dump of type with a zeroed family header of hdrlen bytes. */
static int probe_dump(struct nl *nl, uint16_t type, size_t hdrlen, nl_cb cb,
		      struct probe *p)
{
	struct nl_msgbuf m;
	struct nlmsghdr *h = nl_msg(&m, type, 0);
	uint8_t *fam = mnl_nlmsg_put_extra_header(h, hdrlen);
	int rc;

	/* family is the first byte of ifaddrmsg, fib_rule_hdr and rtmsg alike */
	fam[0] = AF_INET;
	rc = nl_dump(nl, h, cb, p);
	return rc == -EINTR ? nl_dump(nl, h, cb, p) : rc;
}

int host_net_probe(const struct host_net *n, struct host_net_live *live)
{
	struct probe p = { n, if_nametoindex("lo"), if_nametoindex(n->dev), live };
	struct nl *nl;
	int rc;

	memset(live, 0, sizeof(*live));
	rc = nl_open(NETLINK_ROUTE, 0, &nl);
	if (rc)
		return rc;
	rc = probe_dump(nl, RTM_GETADDR, sizeof(struct ifaddrmsg), addr_cb, &p);
	if (!rc)
		rc = probe_dump(nl, RTM_GETRULE, sizeof(struct fib_rule_hdr), rule_cb, &p);
	if (!rc && p.ifindex)
		rc = probe_dump(nl, RTM_GETROUTE, sizeof(struct rtmsg), route_cb, &p);
	nl_close(nl);
	live->sysctl_wrong = host_net_sysctls_wrong(n->dev);
	return rc;
}
