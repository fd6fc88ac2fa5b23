/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * host_net.h over rtnetlink: one request per step, each acknowledged
 * (NLM_F_ACK) so the kernel's errno comes back. "Already there" (EEXIST on
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
#include <sys/socket.h>
#include <linux/fib_rules.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include "host/host_net.h"
#include "lib/log.h"
#include "xdnat.h"

/* advmss = mtu - IPv4 header - TCP header */
#define TCP_IP_HEADERS	40

struct nlreq {
	struct nlmsghdr nh;
	char body[512];			/* family header, then attributes */
};

static void *nl_begin(struct nlreq *r, uint16_t type, uint16_t flags,
		      size_t hdr_len)
{
	memset(r, 0, sizeof(*r));
	r->nh.nlmsg_len = NLMSG_LENGTH(hdr_len);
	r->nh.nlmsg_type = type;
	r->nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	return NLMSG_DATA(&r->nh);
}

/* Append an attribute; our requests are small and fixed, far below body[]. */
static struct rtattr *nl_attr(struct nlreq *r, uint16_t type, const void *data,
			      size_t len)
{
	struct rtattr *rta = (struct rtattr *)((char *)r + NLMSG_ALIGN(r->nh.nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(rta), data, len);
	r->nh.nlmsg_len = NLMSG_ALIGN(r->nh.nlmsg_len) + RTA_ALIGN(rta->rta_len);
	return rta;
}

static void nl_u32(struct nlreq *r, uint16_t type, uint32_t v)
{
	nl_attr(r, type, &v, sizeof(v));
}

/* Send one request and wait for its acknowledgement: 0 or -errno. */
static int nl_talk(struct nlreq *r)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	char buf[8192];
	int fd, err = -EIO;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	r->nh.nlmsg_seq = 1;
	if (sendto(fd, r, r->nh.nlmsg_len, 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) < 0) {
		err = -errno;
		goto out;
	}
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h = (struct nlmsghdr *)buf;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out;
		}
		for (; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_seq != 1)
				continue;
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
				goto out;
			err = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
			goto out;
		}
	}
out:
	close(fd);
	return err;
}

static int tolerate(int err, bool add)
{
	if (add && err == -EEXIST)
		return 0;
	if (!add && (err == -ENOENT || err == -ESRCH || err == -EADDRNOTAVAIL))
		return 0;
	return err;
}

/* G/32 on lo. */
static int addr(bool add, uint32_t global)
{
	struct nlreq r;
	struct ifaddrmsg *ifa;
	unsigned int lo = if_nametoindex("lo");

	if (!lo)
		return -ENODEV;
	ifa = nl_begin(&r, add ? RTM_NEWADDR : RTM_DELADDR,
		       add ? NLM_F_CREATE | NLM_F_EXCL : 0, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = 32;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = lo;
	nl_attr(&r, IFA_LOCAL, &global, 4);
	nl_attr(&r, IFA_ADDRESS, &global, 4);
	return tolerate(nl_talk(&r), add);
}

/*
 * from G lookup TABLE, at a fixed preference: the kernel's duplicate check
 * (NLM_F_EXCL) compares the preference too, so a second `up` finds it.
 */
static int rule(bool add, uint32_t global, uint32_t table)
{
	struct nlreq r;
	struct fib_rule_hdr *frh;

	frh = nl_begin(&r, add ? RTM_NEWRULE : RTM_DELRULE,
		       add ? NLM_F_CREATE | NLM_F_EXCL : 0, sizeof(*frh));
	frh->family = AF_INET;
	frh->src_len = 32;
	frh->action = FR_ACT_TO_TBL;
	frh->table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	nl_attr(&r, FRA_SRC, &global, 4);
	nl_u32(&r, FRA_TABLE, table);
	nl_u32(&r, FRA_PRIORITY, HOST_NET_RULE_PREF);
	return tolerate(nl_talk(&r), add);
}

/* default via Gi dev IF table TABLE mtu M advmss M-40 (replaced if there). */
static int route(bool add, uint32_t gateway, unsigned int ifindex,
		 uint32_t table, unsigned int mtu)
{
	struct nlreq r;
	struct rtmsg *rtm;
	struct rtattr *metrics;

	rtm = nl_begin(&r, add ? RTM_NEWROUTE : RTM_DELROUTE,
		       add ? NLM_F_CREATE | NLM_F_REPLACE : 0, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = add ? RT_SCOPE_UNIVERSE : RT_SCOPE_NOWHERE;
	rtm->rtm_type = RTN_UNICAST;
	nl_u32(&r, RTA_TABLE, table);
	if (add) {
		nl_attr(&r, RTA_GATEWAY, &gateway, 4);
		nl_u32(&r, RTA_OIF, ifindex);
		metrics = nl_attr(&r, RTA_METRICS, NULL, 0);
		nl_u32(&r, RTAX_MTU, mtu);
		nl_u32(&r, RTAX_ADVMSS, mtu - TCP_IP_HEADERS);
		metrics->rta_len = (unsigned short)((char *)&r + r.nh.nlmsg_len -
						    (char *)metrics);
	}
	return tolerate(nl_talk(&r), add);
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

int host_net_configure(const struct host_net *n, int *rp_prev, int *arp_prev)
{
	char g[INET_ADDRSTRLEN], gi[INET_ADDRSTRLEN];
	unsigned int ifindex = if_nametoindex(n->dev), mtu = 0;
	int rc;

	inet_ntop(AF_INET, &n->global, g, sizeof(g));
	inet_ntop(AF_INET, &n->gateway, gi, sizeof(gi));
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
	rc = addr(true, n->global);
	if (rc) {
		log_err("adding %s/32 to lo: %s", g, strerror(-rc));
		return rc;
	}
	rc = rule(true, n->global, n->table);
	if (rc) {
		log_err("adding rule 'from %s lookup %u': %s", g, n->table, strerror(-rc));
		return rc;
	}
	rc = route(true, n->gateway, ifindex, n->table, mtu - XDNAT_TUNNEL_OVERHEAD);
	if (rc) {
		log_err("adding route 'default via %s dev %s table %u mtu %u': %s", gi,
			n->dev, n->table, mtu - XDNAT_TUNNEL_OVERHEAD, strerror(-rc));
		return rc;
	}
	log_info("%s/32 on lo; from %s lookup table %u: default via %s dev %s mtu %u advmss %u",
		 g, g, n->table, gi, n->dev, mtu - XDNAT_TUNNEL_OVERHEAD,
		 mtu - XDNAT_TUNNEL_OVERHEAD - TCP_IP_HEADERS);
	return 0;
}

int host_net_unconfigure(const struct host_net *n, int rp_prev, int arp_prev)
{
	char g[INET_ADDRSTRLEN];
	int rc, first = 0;

	inet_ntop(AF_INET, &n->global, g, sizeof(g));
	rc = route(false, 0, 0, n->table, 0);
	if (rc)
		log_err("removing the default route of table %u: %s", n->table, strerror(-rc));
	first = first ? first : rc;
	rc = rule(false, n->global, n->table);
	if (rc)
		log_err("removing rule 'from %s lookup %u': %s", g, n->table, strerror(-rc));
	first = first ? first : rc;
	rc = addr(false, n->global);
	if (rc)
		log_err("removing %s/32 from lo: %s", g, strerror(-rc));
	first = first ? first : rc;
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
