/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ctl/gateway/nexthop.c: the plan (what to add, ask for and remove, given
 * the routes' next hops and the neighbour table) as a pure function, then
 * the module against the kernel in a private network namespace: a veth
 * pair nh0 (10.2.0.1/24, the "external NIC") and nh1 (10.2.0.254, a router
 * that answers ARP), a route via the router. Checks the managed entry
 * appears, follows the route's removal and return (over the notification
 * socket), survives a flush, goes at nexthop_remove_ours, and that an
 * on-demand request is resolved and counted. The kernel part needs root;
 * it skips without.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/neighbour.h>
#include "bpf_rig.h"
#include "gateway/nexthop.h"

#define ROUTER		IP4(10, 2, 0, 254)
#define ONLINK		IP4(10, 2, 0, 11)	/* on nh1 too: answers ARP */
#define A(addr, ifx)	((struct nh_addr){ (addr), (ifx) })

/* ---- the plan ------------------------------------------------------------------ */

static size_t plan(const struct nh_addr *want, size_t n_want, const struct nh_neigh *tab,
		   size_t n_tab, bool managed, struct nh_step *steps)
{
	return nexthop_plan(want, n_want, tab, n_tab, managed, steps);
}

static void assert_step(const struct nh_step *s, uint32_t addr, uint32_t ifindex,
			enum nh_action act)
{
	assert_int_equal(s->a.addr, addr);
	assert_int_equal(s->a.ifindex, ifindex);
	assert_int_equal(s->act, act);
}

/* Managed: each wanted next hop without a managed entry is added, once. */
static void test_plan_managed(void **state)
{
	const struct nh_addr want[] = { A(1, 2), A(3, 2), A(1, 2), A(4, 2), A(5, 7), A(6, 2) };
	const struct nh_neigh tab[] = {
		{ A(3, 2), NUD_REACHABLE, true, true },		/* managed already */
		{ A(4, 2), NUD_PERMANENT, false, false },	/* the admin's */
		{ A(5, 2), NUD_REACHABLE, true, true },		/* another NIC's */
		{ A(6, 2), NUD_STALE, false, false },		/* not managed yet */
	};
	struct nh_step s[16];

	(void)state;
	assert_int_equal(plan(want, 6, tab, 4, true, s), 4);
	assert_step(&s[0], 1, 2, NH_ADD_MANAGED);
	assert_step(&s[1], 5, 7, NH_ADD_MANAGED);
	assert_step(&s[2], 6, 2, NH_ADD_MANAGED);
	/* 5 on NIC 2 is ours and managed, but only 5 on NIC 7 is wanted */
	assert_step(&s[3], 5, 2, NH_DELETE);
	/* 6 no longer wanted: not ours, so it stays */
	assert_int_equal(plan(want, 5, tab, 4, true, s), 3);
	assert_step(&s[2], 5, 2, NH_DELETE);
}

/* Our managed entries no route wants go; nobody else's. */
static void test_plan_removes_ours_only(void **state)
{
	const struct nh_neigh tab[] = {
		{ A(1, 2), NUD_REACHABLE, true, true },		/* ours */
		{ A(2, 2), NUD_REACHABLE, true, false },	/* someone's managed one */
		{ A(3, 2), NUD_REACHABLE, false, true },	/* ours, not managed */
	};
	const struct nh_addr want[] = { A(9, 2) };
	struct nh_step s[8];

	(void)state;
	assert_int_equal(plan(NULL, 0, tab, 3, true, s), 1);
	assert_step(&s[0], 1, 2, NH_DELETE);
	assert_int_equal(plan(want, 1, tab, 3, true, s), 2);
	assert_step(&s[0], 9, 2, NH_ADD_MANAGED);
	assert_step(&s[1], 1, 2, NH_DELETE);
	assert_int_equal(plan(NULL, 0, NULL, 0, true, s), 0);
}

/* Without managed entries: asked for when unusable or stale, as neigh.c. */
static void test_plan_use(void **state)
{
	const struct nh_addr want[] = { A(1, 2), A(2, 2), A(3, 2), A(4, 2), A(5, 2), A(6, 2) };
	const struct nh_neigh tab[] = {
		{ A(2, 2), NUD_REACHABLE, false, false },
		{ A(3, 2), NUD_STALE, false, false },
		{ A(4, 2), NUD_FAILED, false, false },
		{ A(5, 2), NUD_PERMANENT, false, false },
		{ A(6, 2), NUD_DELAY, false, false },	/* being confirmed */
	};
	struct nh_step s[16];

	(void)state;
	assert_int_equal(plan(want, 6, tab, 5, false, s), 3);
	assert_step(&s[0], 1, 2, NH_USE);
	assert_step(&s[1], 3, 2, NH_USE);
	assert_step(&s[2], 4, 2, NH_USE);
}

/* ---- against the kernel --------------------------------------------------------------- */

static bool have_ns;
static unsigned int ifx[NEXTHOP_NICS];
static const char *const names[NEXTHOP_NICS] = { "nh0", "lo" };

static int group_setup(void **state)
{
	(void)state;
	if (geteuid() != 0 || unshare(CLONE_NEWNET)) {
		print_message("test_nexthop: needs root and a new network namespace: "
			      "skipping the kernel tests\n");
		return 0;
	}
	if (sh("ip link set lo up") || sh("ip link add nh0 type veth peer name nh1") ||
	    sh("ip addr add 10.2.0.1/24 dev nh0 && ip addr add 10.2.0.254/24 dev nh1 && "
	       "ip addr add 10.2.0.11/24 dev nh1") ||
	    sh("ip link set nh0 up && ip link set nh1 up") ||
	    /* both ends are ours: nh1 must accept ARP from a local source */
	    sh("sysctl -qw net.ipv4.conf.nh1.accept_local=1 net.ipv4.conf.all.rp_filter=0 "
	       "net.ipv4.conf.nh1.rp_filter=0"))
		return -1;
	ifx[0] = if_nametoindex("nh0");
	ifx[1] = if_nametoindex("lo");
	have_ns = ifx[0] && ifx[1];
	return have_ns ? 0 : -1;
}

static int fresh(void **state)
{
	(void)state;
	return have_ns ? sh("ip neigh flush dev nh0; ip route flush 198.18.0.0/24; "
			    "ip route add 198.18.0.0/24 via 10.2.0.254 dev nh0") : 0;
}

#define NEED_NS() do { if (!have_ns) skip(); } while (0)

/* Until cmd succeeds, handling the notifications meanwhile; 5 s at most. */
static bool wait_for(struct nexthop *nh, const char *cmd)
{
	for (int i = 0; i < 250; i++) {
		nexthop_on_notify(nh);
		if (!system(cmd))
			return true;
		usleep(20000);
	}
	return false;
}

#define ROUTER_MANAGED	"ip neigh show 10.2.0.254 dev nh0 | grep -q 'managed.* proto 120'"
#define ROUTER_GONE	"! ip neigh show 10.2.0.254 dev nh0 | grep -q ."

/* Opened and synced once: the router has its managed entry. */
static struct nexthop *open_nh(void)
{
	struct nexthop *nh = NULL;

	assert_int_equal(nexthop_open(ifx, names, &nh), 0);
	assert_true(nexthop_fd(nh) >= 0);
	assert_int_equal(nexthop_sync(nh), 0);
	assert_int_equal(sh(ROUTER_MANAGED), 0);
	return nh;
}

/* The route's gateway gets a managed entry, which the kernel resolves. */
static void test_route_gateway_managed(void **state)
{
	struct nexthop_stats st;
	struct nexthop *nh;

	(void)state;
	NEED_NS();
	nh = open_nh();
	assert_true(wait_for(nh, "ip neigh show 10.2.0.254 dev nh0 | grep -q REACHABLE"));
	nexthop_get_stats(nh, &st);
	assert_int_equal(st.gateways, 1);
	assert_int_equal(st.events, 0);
	nexthop_close(nh);
	/* closing leaves it (forwarding goes on); --unload removes it */
	assert_int_equal(sh(ROUTER_MANAGED), 0);
	assert_int_equal(nexthop_remove_ours(ifx), 1);
	assert_int_equal(sh(ROUTER_GONE), 0);
	assert_int_equal(nexthop_remove_ours(ifx), 0);
}

/* Route gone: entry gone; back, a flush: entry back, all by notification. */
static void test_follows_changes(void **state)
{
	struct nexthop *nh;

	(void)state;
	NEED_NS();
	nh = open_nh();
	assert_int_equal(sh("ip route del 198.18.0.0/24"), 0);
	assert_true(wait_for(nh, ROUTER_GONE));
	/* a multipath route names it again */
	assert_int_equal(sh("ip route add 198.18.0.0/24 nexthop via 10.2.0.254 dev nh0 "
			    "nexthop via 10.2.0.11 dev nh0"), 0);
	assert_true(wait_for(nh, ROUTER_MANAGED));
	assert_true(wait_for(nh, "ip neigh show 10.2.0.11 dev nh0 | grep -q managed"));
	/* flushed (ip neigh flush all): the kernel's notification has it back */
	assert_int_equal(sh("ip neigh flush dev nh0"), 0);
	assert_true(wait_for(nh, ROUTER_MANAGED));
	nexthop_close(nh);
	assert_int_equal(nexthop_remove_ours(ifx), 2);
}

/* An on-link destination the programs report: resolved, counted. */
static void test_on_demand(void **state)
{
	struct nexthop_stats st;
	struct nexthop *nh;

	(void)state;
	NEED_NS();
	nh = open_nh();
	nexthop_request(nh, ONLINK, ifx[0]);
	nexthop_request(nh, ONLINK, ifx[0]);	/* again at once: not asked twice */
	nexthop_request(nh, ONLINK, 9999);	/* not one of the NICs: ignored */
	assert_true(wait_for(nh, "ip neigh show 10.2.0.11 dev nh0 | grep -q REACHABLE"));
	/* an ordinary entry, not managed, not ours: it ages as any other */
	assert_int_equal(sh("ip neigh show 10.2.0.11 dev nh0 | grep -qv managed"), 0);
	for (int i = 0; i < 100; i++) {
		nexthop_get_stats(nh, &st);
		if (st.resolved)
			break;
		nexthop_on_notify(nh);
		usleep(20000);
	}
	assert_int_equal(st.events, 2);
	assert_int_equal(st.resolved, 1);
	assert_int_equal(st.failed, 0);
	nexthop_close(nh);
	assert_int_equal(nexthop_remove_ours(ifx), 1);	/* the router's */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_managed),
		cmocka_unit_test(test_plan_removes_ours_only),
		cmocka_unit_test(test_plan_use),
		cmocka_unit_test_setup(test_route_gateway_managed, fresh),
		cmocka_unit_test_setup(test_follows_changes, fresh),
		cmocka_unit_test_setup(test_on_demand, fresh),
	};

	return cmocka_run_group_tests_name("nexthop", tests, group_setup, NULL);
}
