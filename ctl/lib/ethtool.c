/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* ethtool.h: ETHTOOL_GDRVINFO, ETHTOOL_[GS]TXCSUM (the kernel maps them to
 * the NETIF_F_CSUM_MASK features) and RTM_GETLINK for the peer. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include "lib/ethtool.h"
#include "lib/nl.h"

static int ethtool(const char *ifname, void *cmd)
{
	struct ifreq ifr = { 0 };
	int fd, err = 0;

	if (strlen(ifname) >= sizeof(ifr.ifr_name))
		return -ENAMETOOLONG;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	strcpy(ifr.ifr_name, ifname);
	ifr.ifr_data = cmd;
	if (ioctl(fd, SIOCETHTOOL, &ifr))
		err = -errno;
	close(fd);
	return err;
}

int ethtool_driver(const char *ifname, char *buf, size_t len)
{
	struct ethtool_drvinfo di = { .cmd = ETHTOOL_GDRVINFO };
	int err = ethtool(ifname, &di);
	size_t n;

	if (err)
		return err;
	n = strnlen(di.driver, sizeof(di.driver));
	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(buf, di.driver, n);
	buf[n] = 0;
	return 0;
}

int ethtool_is_veth(const char *ifname)
{
	char driver[32];
	int err = ethtool_driver(ifname, driver, sizeof(driver));

	/* no ethtool_ops at all (lo, some virtual devices): not a veth */
	if (err == -EOPNOTSUPP)
		return 0;
	return err ? err : !strcmp(driver, "veth");
}

int ethtool_get_tx_csum(const char *ifname, bool *on)
{
	struct ethtool_value v = { .cmd = ETHTOOL_GTXCSUM };
	int err = ethtool(ifname, &v);

	if (!err)
		*on = v.data != 0;
	return err;
}

int ethtool_set_tx_csum(const char *ifname, bool on)
{
	struct ethtool_value v = { .cmd = ETHTOOL_STXCSUM, .data = on };

	return ethtool(ifname, &v);
}

struct link_info {
	unsigned int link;
	bool other_ns;
};

static int link_cb(const struct nlmsghdr *h, void *data)
{
	struct link_info *li = data;
	const struct nlattr *a;

	mnl_attr_for_each(a, h, sizeof(struct ifinfomsg)) {
		if (mnl_attr_get_type(a) == IFLA_LINK)
			li->link = mnl_attr_get_u32(a);
		else if (mnl_attr_get_type(a) == IFLA_LINK_NETNSID)
			li->other_ns = true;
	}
	return 0;
}

int veth_peer(const char *ifname, unsigned int *ifindex, bool *other_ns, char *name,
	      size_t namelen)
{
	unsigned int me = if_nametoindex(ifname);
	struct link_info li = { 0 };
	struct nl_msgbuf m;
	struct nlmsghdr *h;
	struct ifinfomsg *ifi;
	char buf[IF_NAMESIZE];
	struct nl *nl;
	int err;

	if (!me)
		return -errno;
	err = nl_open(NETLINK_ROUTE, 0, &nl);
	if (err)
		return err;
	h = nl_msg(&m, RTM_GETLINK, 0);
	ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = (int)me;
	err = nl_talk(nl, h, link_cb, &li);
	nl_close(nl);
	if (err)
		return err;
	if (!li.link)
		return -ENOENT;
	*ifindex = li.link;
	*other_ns = li.other_ns;
	if (namelen)
		name[0] = 0;
	if (!li.other_ns && if_indextoname(li.link, buf))
		snprintf(name, namelen, "%s", buf);
	return 0;
}
