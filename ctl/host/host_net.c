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

/* net.ipv4.conf.DEV.NAME: read the old value into *prev (when wanted), write v. */
static int sysctl_conf(const char *dev, const char *name, int v, int *prev)
{
	char path[128], buf[32];
	ssize_t n;
	int fd, err = 0;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/%s", dev, name);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (prev) {
		n = read(fd, buf, sizeof(buf) - 1);
		if (n > 0) {
			buf[n] = 0;
			*prev = atoi(buf);
		}
	}
	n = snprintf(buf, sizeof(buf), "%d\n", v);
	if (pwrite(fd, buf, (size_t)n, 0) != n)
		err = -errno;
	close(fd);
	return err;
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

int host_net_configure(const struct host_net *n, int *rp_prev, int *arp_prev)
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
	rc = sysctl_conf(n->dev, "rp_filter", 0, *rp_prev < 0 ? rp_prev : NULL);
	if (!rc)
		rc = sysctl_conf(n->dev, "arp_announce", 2, *arp_prev < 0 ? arp_prev : NULL);
	if (rc) {
		log_err("sysctl net.ipv4.conf.%s: %s", n->dev, strerror(-rc));
		return rc;
	}
	rc = rtnl_open(&nl);
	if (rc)
		return rc;
	rc = routing_up(nl, n, ifindex, host_net_route_mtu(mtu, n->ext_mtu));
	nl_close(nl);
	return rc;
}

int host_net_unconfigure(const struct host_net *n, int rp_prev, int arp_prev)
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
		rc = rp_prev >= 0 ? sysctl_conf(n->dev, "rp_filter", rp_prev, NULL) : 0;
		if (!rc && arp_prev >= 0)
			rc = sysctl_conf(n->dev, "arp_announce", arp_prev, NULL);
		if (rc)
			log_err("restoring sysctl net.ipv4.conf.%s: %s", n->dev, strerror(-rc));
		first = first ? first : rc;
	}
	return first;
}
