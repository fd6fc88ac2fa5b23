/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ctl/lib/nl.c and ctl/host/host_net.c against the kernel, in a private
 * network namespace (nothing touches the host's network): veth pairs, nl0
 * for the library's requests, nlm0 with NL0_MANY addresses for its dumps,
 * hn0 (10.8.0.2/24, the gateway 10.8.0.1 on its link) for host_net. What host_net set up is
 * checked with dumps of our own. Needs root (CAP_SYS_ADMIN +
 * CAP_NET_ADMIN); skips without it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include "bpf_rig.h"
#include "host/host_net.h"
#include "lib/nl.h"
#include "xdnat.h"

#define NL0_ADDR	IP4(10, 9, 0, 1)
#define NL0_MANY	300		/* addresses: a dump of several parts */
#define HN_GLOBAL	IP4(198, 51, 100, 7)
#define HN_GATEWAY	IP4(10, 8, 0, 1)
#define HN_MTU		1500
#define STR_(x)		#x
#define STR(x)		STR_(x)
#define TB_MAX		64		/* > IFA_MAX, FRA_MAX, RTA_MAX, RTAX_MAX */

/* The namespace's devices, for `ip -batch`; NL0_MANY addresses follow. */
static const char NS_SETUP[] =
	"link set lo up\n"
	"link add nl0 type veth peer name nl1\n"
	"link set nl0 up\n"
	"link add hn0 mtu " STR(HN_MTU) " type veth peer name hn1\n"
	"link set hn0 up\n"
	"addr add 10.8.0.2/24 dev hn0\n"
	"link add nlm0 type veth peer name nlm1\n";

static bool have_ns;

static int group_setup(void **state)
{
	FILE *ip;

	(void)state;
	if (geteuid() != 0 || unshare(CLONE_NEWNET)) {
		print_message("test_nl: needs root and a new network namespace: skipping\n");
		return 0;
	}
	ip = popen("ip -batch -", "w");
	if (!ip)
		return -1;
	fputs(NS_SETUP, ip);
	for (int i = 0; i < NL0_MANY; i++)
		fprintf(ip, "addr add 10.7.%d.%d/32 dev nlm0\n", i / 200, 1 + i % 200);
	if (pclose(ip))
		return -1;
	have_ns = true;
	return 0;
}

#define NEED_NS() do { if (!have_ns) skip(); } while (0)

static struct nl *open_route(void)
{
	struct nl *nl = NULL;

	assert_int_equal(nl_open(NETLINK_ROUTE, 0, &nl), 0);
	assert_non_null(nl);
	return nl;
}

static int put_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_get_type(a) < TB_MAX)
		tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

static uint32_t attr_u32(const struct nlattr *a)
{
	return a && mnl_attr_get_payload_len(a) == 4 ? mnl_attr_get_u32(a) : 0;
}

/* --- requests and dumps: the library ------------------------------------- */

/* RTM_NEWADDR / RTM_DELADDR of addr/32 on ifindex, acknowledged. */
static int addr_req(struct nl *nl, bool add, unsigned int ifindex, uint32_t addr)
{
	struct nl_msgbuf m;
	struct nlmsghdr *h = nl_msg(&m, add ? RTM_NEWADDR : RTM_DELADDR,
				    add ? NLM_F_CREATE | NLM_F_EXCL : 0);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(h, sizeof(*ifa));

	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = 32;
	ifa->ifa_index = ifindex;
	mnl_attr_put_u32(h, IFA_LOCAL, addr);
	mnl_attr_put_u32(h, IFA_ADDRESS, addr);
	return nl_request(nl, h);
}

/* What an address dump saw of one device: how many /32s, whether addr. */
struct addrs {
	unsigned int ifindex;
	uint32_t addr;
	int count, found;
};

static int on_addr(const struct nlmsghdr *h, void *data)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(h);
	const struct nlattr *tb[TB_MAX] = { 0 };
	struct addrs *s = data;

	if (h->nlmsg_type != RTM_NEWADDR || ifa->ifa_family != AF_INET ||
	    ifa->ifa_index != s->ifindex || ifa->ifa_prefixlen != 32)
		return 0;
	if (mnl_attr_parse(h, sizeof(*ifa), put_attr, tb) != MNL_CB_OK)
		return -EBADMSG;
	s->count++;
	s->found += attr_u32(tb[IFA_LOCAL]) == s->addr;
	return 0;
}

static int dump_of(struct nl *nl, uint16_t type, size_t hdr_len, nl_cb cb, void *data)
{
	struct nl_msgbuf m;
	struct nlmsghdr *h = nl_msg(&m, type, 0);
	/* ifaddrmsg, fib_rule_hdr and rtmsg all begin with the family */
	uint8_t *family = mnl_nlmsg_put_extra_header(h, hdr_len);

	*family = AF_INET;
	return nl_dump(nl, h, cb, data);
}

static int dump_addrs(struct nl *nl, struct addrs *s)
{
	s->count = s->found = 0;
	return dump_of(nl, RTM_GETADDR, sizeof(struct ifaddrmsg), on_addr, s);
}

/* Add twice, delete twice: the kernel's EEXIST and EADDRNOTAVAIL come back
 * as -errno, and a dump shows the address exactly while it is there. */
static void test_addr_twice(void **state)
{
	struct addrs s = { .ifindex = if_nametoindex("nl0"), .addr = NL0_ADDR };
	struct nl *nl;

	(void)state;
	NEED_NS();
	nl = open_route();
	assert_int_equal(addr_req(nl, true, s.ifindex, NL0_ADDR), 0);
	assert_int_equal(addr_req(nl, true, s.ifindex, NL0_ADDR), -EEXIST);
	assert_int_equal(dump_addrs(nl, &s), 0);
	assert_int_equal(s.found, 1);
	assert_int_equal(sh("ip -4 addr show dev nl0 | grep -q 'inet 10.9.0.1/32'"), 0);
	assert_int_equal(addr_req(nl, false, s.ifindex, NL0_ADDR), 0);
	assert_int_equal(addr_req(nl, false, s.ifindex, NL0_ADDR), -EADDRNOTAVAIL);
	assert_int_equal(dump_addrs(nl, &s), 0);
	assert_int_equal(s.found, 0);
	nl_close(nl);
}

/* The kernel's refusal of a request is its -errno: no such device. */
static void test_kernel_error(void **state)
{
	struct nl *nl;

	(void)state;
	NEED_NS();
	nl = open_route();
	assert_int_equal(addr_req(nl, true, 0x7ffffff0, NL0_ADDR), -ENODEV);
	/* and the socket goes on serving */
	assert_int_equal(addr_req(nl, true, if_nametoindex("nl0"), NL0_ADDR), 0);
	assert_int_equal(addr_req(nl, false, if_nametoindex("nl0"), NL0_ADDR), 0);
	nl_close(nl);
}

/* A dump of several parts arrives whole (each part is one read). */
static void test_dump_all_parts(void **state)
{
	struct addrs s = { .ifindex = if_nametoindex("nlm0"), .addr = IP4(10, 7, 1, 100) };
	struct nl *nl;

	(void)state;
	NEED_NS();
	nl = open_route();
	assert_int_equal(dump_addrs(nl, &s), 0);
	assert_int_equal(s.count, NL0_MANY);
	assert_int_equal(s.found, 1);
	nl_close(nl);
}

static int refuse(const struct nlmsghdr *h, void *data)
{
	int *calls = data;

	(void)h;
	++*calls;
	return -ECANCELED;
}

/* A callback's error ends the dump with it, called no more; the rest of
 * the dump is read, so the socket serves a dump and a request next. */
static void test_callback_error(void **state)
{
	struct addrs s = { .ifindex = if_nametoindex("nlm0") };
	struct nl *nl;
	int calls = 0;

	(void)state;
	NEED_NS();
	nl = open_route();
	assert_int_equal(dump_of(nl, RTM_GETADDR, sizeof(struct ifaddrmsg), refuse, &calls),
			 -ECANCELED);
	assert_int_equal(calls, 1);
	assert_int_equal(dump_addrs(nl, &s), 0);
	assert_int_equal(s.count, NL0_MANY);
	assert_int_equal(addr_req(nl, true, if_nametoindex("nl0"), NL0_ADDR), 0);
	assert_int_equal(addr_req(nl, false, if_nametoindex("nl0"), NL0_ADDR), 0);
	nl_close(nl);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A request the kernel does not answer (a create without NLM_F_ACK that
 * succeeds) gives up after NL_TIMEOUT_SEC; the next request is served. */
static void test_timeout(void **state)
{
	unsigned int nl0 = if_nametoindex("nl0");
	struct nl_msgbuf m;
	struct nlmsghdr *h;
	struct ifaddrmsg *ifa;
	struct nl *nl;
	double t0, waited;

	(void)state;
	NEED_NS();
	nl = open_route();
	h = nl_msg(&m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
	ifa = mnl_nlmsg_put_extra_header(h, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = 32;
	ifa->ifa_index = nl0;
	mnl_attr_put_u32(h, IFA_LOCAL, NL0_ADDR);
	t0 = now();
	assert_int_equal(nl_talk(nl, h, NULL, NULL), -ETIMEDOUT);
	waited = now() - t0;
	assert_true(waited >= NL_TIMEOUT_SEC - 0.05 && waited < NL_TIMEOUT_SEC + 1.0);
	/* it was made all the same */
	assert_int_equal(addr_req(nl, false, nl0, NL0_ADDR), 0);
	nl_close(nl);
}

static void test_open_bad_bus(void **state)
{
	struct nl *nl = NULL;

	(void)state;
	assert_true(nl_open(MAX_LINKS + 1, 0, &nl) < 0);
	assert_null(nl);
}

/* --- host_net, checked with our own dumps ---------------------------------- */

struct rules {
	uint32_t src, table;
	int found;
};

static int on_rule(const struct nlmsghdr *h, void *data)
{
	const struct fib_rule_hdr *frh = mnl_nlmsg_get_payload(h);
	const struct nlattr *tb[TB_MAX] = { 0 };
	struct rules *s = data;

	if (h->nlmsg_type != RTM_NEWRULE || frh->family != AF_INET)
		return 0;
	if (mnl_attr_parse(h, sizeof(*frh), put_attr, tb) != MNL_CB_OK)
		return -EBADMSG;
	if (attr_u32(tb[FRA_PRIORITY]) != HOST_NET_RULE_PREF)
		return 0;
	s->found++;
	s->src = frh->src_len == 32 ? attr_u32(tb[FRA_SRC]) : 0;
	s->table = attr_u32(tb[FRA_TABLE]);
	return 0;
}

struct routes {
	uint32_t table;
	uint32_t gateway, oif, mtu, advmss;
	int found;
};

static int on_route(const struct nlmsghdr *h, void *data)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(h);
	const struct nlattr *tb[TB_MAX] = { 0 }, *mx[TB_MAX] = { 0 };
	struct routes *s = data;

	if (h->nlmsg_type != RTM_NEWROUTE || rtm->rtm_family != AF_INET || rtm->rtm_dst_len)
		return 0;
	if (mnl_attr_parse(h, sizeof(*rtm), put_attr, tb) != MNL_CB_OK)
		return -EBADMSG;
	if (attr_u32(tb[RTA_TABLE]) != s->table)
		return 0;
	if (tb[RTA_METRICS] && mnl_attr_parse_nested(tb[RTA_METRICS], put_attr, mx) != MNL_CB_OK)
		return -EBADMSG;
	s->found++;
	s->gateway = attr_u32(tb[RTA_GATEWAY]);
	s->oif = attr_u32(tb[RTA_OIF]);
	s->mtu = attr_u32(mx[RTAX_MTU]);
	s->advmss = attr_u32(mx[RTAX_ADVMSS]);
	return 0;
}

/* What host_net left in the namespace. */
struct host_view {
	struct addrs addr;
	struct rules rule;
	struct routes route;
};

static void view(struct host_view *v)
{
	struct nl *nl = open_route();

	memset(v, 0, sizeof(*v));
	v->addr.ifindex = if_nametoindex("lo");
	v->addr.addr = HN_GLOBAL;
	v->route.table = HOST_NET_TABLE;
	assert_int_equal(dump_addrs(nl, &v->addr), 0);
	assert_int_equal(dump_of(nl, RTM_GETRULE, sizeof(struct fib_rule_hdr), on_rule,
				 &v->rule), 0);
	assert_int_equal(dump_of(nl, RTM_GETROUTE, sizeof(struct rtmsg), on_route, &v->route), 0);
	nl_close(nl);
}

static int sysctl_of(const char *name)
{
	char path[128];
	FILE *f;
	int v = -1;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/hn0/%s", name);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%d", &v), 1);
	fclose(f);
	return v;
}

static void test_host_net_twice(void **state)
{
	struct host_net n = {
		.dev = "hn0",
		.global = HN_GLOBAL,
		.gateway = HN_GATEWAY,
		.table = HOST_NET_TABLE,
	};
	/* what `up` finds (not what it wants), and what it must set */
	static const int was[HOST_SYSCTL_MAX] = {
		[HOST_SYSCTL_RP_FILTER] = 1, [HOST_SYSCTL_ARP_ANNOUNCE] = 0,
		[HOST_SYSCTL_ARP_IGNORE] = 0, [HOST_SYSCTL_ACCEPT_LOCAL] = 0,
	};
	static const int want[HOST_SYSCTL_MAX] = {
		[HOST_SYSCTL_RP_FILTER] = 0, [HOST_SYSCTL_ARP_ANNOUNCE] = 2,
		[HOST_SYSCTL_ARP_IGNORE] = 1, [HOST_SYSCTL_ACCEPT_LOCAL] = 1,
	};
	int prev[HOST_SYSCTL_MAX] = { -1, -1, -1, -1 };
	unsigned int changed;
	struct host_view v;

	(void)state;
	NEED_NS();
	assert_int_equal(sh("sysctl -qw net.ipv4.conf.hn0.rp_filter=1 "
			    "net.ipv4.conf.hn0.arp_announce=0 net.ipv4.conf.hn0.arp_ignore=0 "
			    "net.ipv4.conf.hn0.accept_local=0"), 0);
	assert_int_equal(host_net_sysctls_wrong("hn0"), (1u << HOST_SYSCTL_MAX) - 1);
	assert_int_equal(host_net_configure(&n, prev), 0);
	assert_int_equal(host_net_configure(&n, prev), 0);
	/* the first `up` remembered the originals, the second kept them */
	for (int i = 0; i < HOST_SYSCTL_MAX; i++) {
		assert_int_equal(prev[i], was[i]);
		assert_int_equal(sysctl_of(host_sysctl_name(i)), want[i]);
	}
	assert_int_equal(host_net_sysctls_wrong("hn0"), 0);
	/* someone changes one: seen, and put back alone */
	assert_int_equal(sh("sysctl -qw net.ipv4.conf.hn0.arp_ignore=0"), 0);
	assert_int_equal(host_net_sysctls_wrong("hn0"), 1u << HOST_SYSCTL_ARP_IGNORE);
	assert_int_equal(host_net_sysctls(n.dev, NULL, true, &changed), 0);
	assert_int_equal(changed, 1u << HOST_SYSCTL_ARP_IGNORE);
	assert_int_equal(sysctl_of("arp_ignore"), 1);
	assert_int_equal(host_net_sysctls_wrong("hn0"), 0);

	view(&v);
	assert_int_equal(v.addr.found, 1);
	assert_int_equal(v.rule.found, 1);
	assert_int_equal(v.rule.src, HN_GLOBAL);
	assert_int_equal(v.rule.table, HOST_NET_TABLE);
	assert_int_equal(v.route.found, 1);
	assert_int_equal(v.route.gateway, HN_GATEWAY);
	assert_int_equal(v.route.oif, if_nametoindex("hn0"));
	assert_int_equal(v.route.mtu, HN_MTU - XDNAT_TUNNEL_OVERHEAD);
	assert_int_equal(v.route.advmss, HN_MTU - XDNAT_TUNNEL_OVERHEAD - 40);
	/* and iproute2 reads the same */
	assert_int_equal(sh("ip route show table %d | grep -q 'default via 10.8.0.1 dev hn0 "
			    ".*mtu %d advmss %d'", HOST_NET_TABLE, HN_MTU - XDNAT_TUNNEL_OVERHEAD,
			    HN_MTU - XDNAT_TUNNEL_OVERHEAD - 40), 0);

	assert_int_equal(host_net_unconfigure(&n, prev), 0);
	assert_int_equal(host_net_unconfigure(&n, prev), 0);
	view(&v);
	assert_int_equal(v.addr.found, 0);
	assert_int_equal(v.rule.found, 0);
	assert_int_equal(v.route.found, 0);
	for (int i = 0; i < HOST_SYSCTL_MAX; i++)
		assert_int_equal(sysctl_of(host_sysctl_name(i)), was[i]);
}

/* A device that is not there: refused, and nothing made. */
static void test_host_net_no_device(void **state)
{
	struct host_net n = { .dev = "nosuch0", .global = HN_GLOBAL, .gateway = HN_GATEWAY,
			      .table = HOST_NET_TABLE };
	int prev[HOST_SYSCTL_MAX] = { -1, -1, -1, -1 };
	struct host_view v;

	(void)state;
	NEED_NS();
	assert_int_equal(host_net_configure(&n, prev), -ENODEV);
	view(&v);
	assert_int_equal(v.addr.found, 0);
	assert_int_equal(v.rule.found, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_twice),
		cmocka_unit_test(test_kernel_error),
		cmocka_unit_test(test_dump_all_parts),
		cmocka_unit_test(test_callback_error),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_open_bad_bus),
		cmocka_unit_test(test_host_net_twice),
		cmocka_unit_test(test_host_net_no_device),
	};

	return cmocka_run_group_tests_name("nl", tests, group_setup, NULL);
}
