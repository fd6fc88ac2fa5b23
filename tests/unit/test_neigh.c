/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ctl/neigh.c against the kernel: in a private network namespace (nothing
 * touches the host's network), a veth pair nb0 (10.1.0.1/24, the "internal
 * NIC") and nb1 (10.1.0.11, a host that answers ARP). Checks what a refresh
 * reads (permanent, stale, resolved entries; only nb0's), that it has the
 * kernel resolve what is missing, and that a resolution that goes nowhere
 * counts as a failure. Needs root (CAP_SYS_ADMIN + CAP_NET_ADMIN); skips
 * without it.
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
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include "bpf_rig.h"
#include "gateway/neigh.h"

#define NB_HOST		IP4(10, 1, 0, 11)	/* on nb1: answers ARP */
#define NB_PERM		IP4(10, 1, 0, 20)	/* permanent entry, nobody there */
#define NB_NOBODY	IP4(10, 1, 0, 99)	/* no entry, nobody answers */
#define NB_OTHER	IP4(10, 1, 0, 30)	/* an entry on nb1 only */

static const uint8_t PERM_MAC[6] = { 0x02, 0, 0, 0, 0x0b, 0x20 };
static const uint8_t STALE_MAC[6] = { 0x02, 0, 0, 0, 0x0b, 0x5e };
static uint8_t host_mac[6];		/* nb1's */
static bool have_ns;

static int group_setup(void **state)
{
	struct ifreq ifr = { .ifr_name = "nb1" };
	int fd, rc;

	(void)state;
	if (geteuid() != 0 || unshare(CLONE_NEWNET)) {
		print_message("test_neigh: needs root and a new network namespace: skipping\n");
		return 0;
	}
	if (sh("ip link set lo up") ||
	    sh("ip link add nb0 type veth peer name nb1") ||
	    sh("ip addr add 10.1.0.1/24 dev nb0 && ip addr add 10.1.0.11/24 dev nb1") ||
	    sh("ip link set nb0 up && ip link set nb1 up") ||
	    /* both ends are ours: nb1 must accept ARP from a local source */
	    sh("sysctl -qw net.ipv4.conf.nb1.accept_local=1 net.ipv4.conf.all.rp_filter=0 "
	       "net.ipv4.conf.nb1.rp_filter=0"))
		return -1;
	/* not from /sys: it still shows the namespace we left */
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	rc = fd < 0 ? -1 : ioctl(fd, SIOCGIFHWADDR, &ifr);
	if (fd >= 0)
		close(fd);
	if (rc)
		return -1;
	memcpy(host_mac, ifr.ifr_hwaddr.sa_data, sizeof(host_mac));
	have_ns = true;
	return 0;
}

/* Each test starts from an empty neighbour table on nb0. */
static int flush(void **state)
{
	(void)state;
	return have_ns ? sh("ip neigh flush dev nb0 && ip neigh flush dev nb1") : 0;
}

#define NEED_NS() do { if (!have_ns) skip(); } while (0)

static struct neigh *open_nb0(void)
{
	struct neigh *n = NULL;

	assert_int_equal(neigh_open(if_nametoindex("nb0"), &n), 0);
	return n;
}

static void assert_mac(const struct neigh *n, uint32_t addr, const uint8_t *want)
{
	uint8_t mac[6];

	assert_true(neigh_mac(n, addr, mac));
	assert_memory_equal(mac, want, 6);
}

/* A permanent entry is read and never touched (NTF_USE would clear it). */
static void test_permanent(void **state)
{
	uint32_t a = NB_PERM;
	struct neigh *n;

	(void)state;
	NEED_NS();
	assert_int_equal(sh("ip neigh replace 10.1.0.20 lladdr 02:00:00:00:0b:20 dev nb0 "
			    "nud permanent"), 0);
	n = open_nb0();
	assert_int_equal(neigh_refresh(n, &a, 1), 0);
	assert_mac(n, NB_PERM, PERM_MAC);
	assert_int_equal(neigh_refresh(n, &a, 1), 0);
	assert_mac(n, NB_PERM, PERM_MAC);
	assert_int_equal(sh("ip neigh show 10.1.0.20 dev nb0 | grep -q PERMANENT"), 0);
	assert_int_equal(neigh_failures(n), 0);
	neigh_close(n);
}

/* No entry: the refresh has the kernel resolve it, the next one reads it. */
static void test_resolves_missing(void **state)
{
	uint32_t a = NB_HOST;
	struct neigh *n;
	int i;

	(void)state;
	NEED_NS();
	n = open_nb0();
	assert_int_equal(neigh_refresh(n, &a, 1), 1);		/* asked for */
	assert_false(neigh_mac(n, NB_HOST, (uint8_t[6]){ 0 }));
	/* nothing else sends to 10.1.0.11: only the refresh's request */
	for (i = 0; i < 50; i++) {
		usleep(20000);
		if (!system("ip neigh show 10.1.0.11 dev nb0 | grep -q REACHABLE"))
			break;
	}
	assert_true(i < 50);
	assert_int_equal(neigh_refresh(n, &a, 1), 0);
	assert_mac(n, NB_HOST, host_mac);
	assert_int_equal(neigh_failures(n), 0);
	neigh_close(n);
}

/* Nobody answers: asked for, then one failure per refresh it stays so. */
static void test_failure_counted(void **state)
{
	uint32_t a = NB_NOBODY;
	struct neigh *n;

	(void)state;
	NEED_NS();
	n = open_nb0();
	assert_int_equal(neigh_refresh(n, &a, 1), 1);
	assert_int_equal(neigh_failures(n), 0);
	usleep(100000);
	assert_int_equal(neigh_refresh(n, &a, 1), 0);
	assert_int_equal(neigh_failures(n), 1);
	assert_int_equal(neigh_refresh(n, &a, 1), 0);
	assert_int_equal(neigh_failures(n), 2);
	assert_false(neigh_mac(n, NB_NOBODY, (uint8_t[6]){ 0 }));
	neigh_close(n);
}

/* A stale entry's MAC is usable, and the refresh has the kernel confirm it. */
static void test_stale_confirmed(void **state)
{
	uint32_t a = NB_HOST;
	struct neigh *n;

	(void)state;
	NEED_NS();
	assert_int_equal(sh("ip neigh replace 10.1.0.11 lladdr 02:00:00:00:0b:5e dev nb0 "
			    "nud stale"), 0);
	n = open_nb0();
	assert_int_equal(neigh_refresh(n, &a, 1), 0);	/* usable: nothing new */
	assert_mac(n, NB_HOST, STALE_MAC);
	/* NTF_USE moved it on from stale: the kernel is confirming it */
	assert_int_equal(sh("ip neigh show 10.1.0.11 dev nb0 | grep -q DELAY"), 0);
	neigh_close(n);
}

/* Only the NIC's own entries count; all of them are read. */
static void test_other_nic_ignored(void **state)
{
	uint32_t a = NB_OTHER;
	struct neigh *n;

	(void)state;
	NEED_NS();
	/* nb1's neighbour, not nb0's */
	assert_int_equal(sh("ip neigh replace 10.1.0.30 lladdr 02:00:00:00:0b:30 dev nb1 "
			    "nud permanent"), 0);
	assert_int_equal(sh("ip neigh replace 10.1.0.20 lladdr 02:00:00:00:0b:20 dev nb0 "
			    "nud permanent"), 0);
	n = open_nb0();
	assert_int_equal(neigh_refresh(n, &a, 1), 1);
	assert_false(neigh_mac(n, NB_OTHER, (uint8_t[6]){ 0 }));
	/* read, though not asked about */
	assert_mac(n, NB_PERM, PERM_MAC);
	assert_int_equal(neigh_refresh(n, NULL, 0), 0);
	neigh_close(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_permanent, flush),
		cmocka_unit_test_setup(test_resolves_missing, flush),
		cmocka_unit_test_setup(test_failure_counted, flush),
		cmocka_unit_test_setup(test_stale_confirmed, flush),
		cmocka_unit_test_setup(test_other_nic_ignored, flush),
	};

	return cmocka_run_group_tests_name("neigh", tests, group_setup, NULL);
}
