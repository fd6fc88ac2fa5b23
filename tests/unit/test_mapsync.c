/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ctl/mapsync.c against real BPF maps of the gateway's layout (created here,
 * unpinned), fed by a real gateway (gw_restore, gw_drop_host) and a fake
 * neighbour table: every value of a host carries its MAC; a host change and
 * a MAC change (first resolution, NIC replaced, lost) rewrite exactly that
 * host's entries through the entry-list diff; a MAC that lags behind in a
 * value never stops a removal. Needs root (CAP_BPF); skips without it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include "bpf_rig.h"
#include "gateway/gateway.h"
#include "lib/log.h"
#include "gateway/mapsync.h"
#include "xdnat.h"

#define NATT1		20002
#define SPI1		0x1000u		/* h1: 32 SPIs, SAs 0x1000..0x1003 */
#define SPI2		0x2000u		/* h2: 16 SPIs, SAs 0x2000..0x2001 */

static const uint8_t M1[6] = { 0x02, 0, 0, 0, 0x0a, 0x01 };
static const uint8_t M1B[6] = { 0x02, 0, 0, 0, 0x0a, 0xb1 };	/* h1's NIC replaced */
static const uint8_t M2[6] = { 0x02, 0, 0, 0, 0x0a, 0x02 };
static const uint8_t M3[6] = { 0x02, 0, 0, 0, 0x0a, 0x03 };
static const uint8_t M3B[6] = { 0x02, 0, 0, 0, 0x0a, 0xb3 };
static const uint8_t ZERO[6];

/* The fake neighbour table: addr -> MAC, NULL when unresolved. */
static struct {
	uint32_t addr;
	const uint8_t *mac;
} neigh[3];

static struct mapsync ms;
static struct gw *g;
static bool have_maps;

static void set_neigh(uint32_t addr, const uint8_t *mac)
{
	for (size_t i = 0; i < 3; i++)
		if (neigh[i].addr == addr)
			neigh[i].mac = mac;
}

static bool fake_mac_of(void *ctx, uint32_t addr, uint8_t mac[6])
{
	(void)ctx;
	for (size_t i = 0; i < 3; i++) {
		if (neigh[i].addr == addr && neigh[i].mac) {
			memcpy(mac, neigh[i].mac, 6);
			return true;
		}
	}
	return false;
}

static uint64_t clock_now(void *ctx)
{
	(void)ctx;
	return 1000000;
}

/* ---- the maps ------------------------------------------------------------ */

static int create(enum mapsync_map m, enum bpf_map_type type, uint32_t ks, uint32_t vs,
		  uint32_t max)
{
	int fd = bpf_map_create(type, mapsync_name(m), ks, vs, max, NULL);

	if (fd < 0 || mapsync_bind(&ms, m, fd, ks, vs, max))
		return -1;
	return 0;
}

/* A learned table as the programs have it (an LRU hash). */
static int create_learned(enum mapsync_learned l, uint32_t ks, uint32_t vs)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, mapsync_learned_name(l), ks, vs, 256,
				NULL);

	if (fd < 0 || mapsync_bind_learned(&ms, l, fd, ks, vs))
		return -1;
	return 0;
}

static struct host host(uint32_t cid, uint32_t addr, uint16_t port, uint16_t nports,
			uint32_t spi, uint32_t nspis, uint32_t nsas)
{
	struct host h;

	memset(&h, 0, sizeof(h));
	h.client_id = cid;
	h.addr = addr;
	h.global = G;
	h.lease_expires = 2000000;
	h.lease_secs = 3600;
	h.n_ports = 1;
	h.ports[0] = (struct pap_port_range){ G, port, (uint16_t)(port + nports - 1) };
	h.n_spis = 1;
	h.spis[0] = (struct pap_spi_range){ G, spi, spi + nspis - 1 };
	h.n_sas = 1;
	h.sas[0] = (struct pap_sa){ PEER, spi, spi + nsas - 1 };
	return h;
}

static int group_setup(void **state)
{
	struct gw_config cfg = {
		.global = G, .port_lo = 20000, .port_hi = 29999,
		.spi_lo = 4096, .spi_hi = 1048575, .lease_secs = 3600,
		.max_lease_secs = 86400, .port_quota = 1000, .spi_quota = 65536,
		.max_hosts = 16,
	};
	struct host hosts[2] = {
		host(CID1, H1, H1_PORT, 10, SPI1, 32, 4),
		host(CID2, H2, H2_PORT, 5, SPI2, 16, 2),
	};
	struct state_image img = { .meta = { 3, G }, .hosts = hosts, .n_hosts = 2 };
	struct gw_hooks hooks;
	char err[128];

	(void)state;
	log_set_level(LOG_LVL_WARN);
	neigh[0].addr = H1;
	neigh[1].addr = H2;
	neigh[2].addr = H3;
	hosts[0].natt_port = NATT1;
	if (create(MAPSYNC_HOSTS, BPF_MAP_TYPE_HASH, 4, sizeof(struct xdnat_host), 64)) {
		print_message("test_mapsync: cannot create BPF maps (%s): skipping\n",
			      strerror(errno));
		return 0;
	}
	if (create(MAPSYNC_PORTS, BPF_MAP_TYPE_ARRAY, 4, sizeof(struct xdnat_port_owner),
		   XDNAT_MAX_PORTS) ||
	    create(MAPSYNC_SPIBLK, BPF_MAP_TYPE_HASH, sizeof(struct xdnat_spiblk_key),
		   sizeof(struct xdnat_owner), 1024) ||
	    create(MAPSYNC_SA, BPF_MAP_TYPE_HASH, sizeof(struct xdnat_sa_key),
		   sizeof(struct xdnat_owner), 1024) ||
	    create(MAPSYNC_TX, BPF_MAP_TYPE_DEVMAP_HASH, 4, 4, 8) ||
	    create_learned(MAPSYNC_L_ICMP_IDS, sizeof(struct xdnat_icmp_key),
			   sizeof(struct xdnat_owner)) ||
	    create_learned(MAPSYNC_L_FRAGS, sizeof(struct xdnat_frag_key),
			   sizeof(struct xdnat_frag)) ||
	    create_learned(MAPSYNC_L_IPSEC_OUT, sizeof(struct xdnat_ipsec_key),
			   sizeof(struct xdnat_owner)))
		return -1;
	ms.tx_ifindex[0] = ms.tx_ifindex[1] = 1;	/* lo */
	ms.mac_of = fake_mac_of;
	have_maps = true;

	/* h1 resolved, h2 not yet, when the state is restored */
	set_neigh(H1, M1);
	if (gw_new(&cfg, NULL, clock_now, NULL, &g))
		return -1;
	hooks = mapsync_hooks(&ms);
	gw_set_hooks(g, &hooks);
	if (gw_restore(g, &img, err, sizeof(err))) {
		print_error("gw_restore: %s\n", err);
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	gw_free(g);
	mapsync_release(&ms);
	for (int m = 0; m < MAPSYNC_N; m++)
		if (have_maps && ms.fd[m] > 0)
			close(ms.fd[m]);
	for (int l = 0; l < MAPSYNC_L_N; l++)
		if (ms.learned_bound[l])
			close(ms.learned_fd[l]);
	return 0;
}

#define NEED_MAPS() do { if (!have_maps) skip(); } while (0)

/* ---- what the maps hold ---------------------------------------------------- */

/* Entries of host addr in a hash map of xdnat_owner values, all with mac;
 * returns how many. */
static unsigned int owners_with(enum mapsync_map m, size_t key_size, uint32_t cid,
				uint32_t addr, const uint8_t *mac)
{
	uint8_t key[8], next[8];
	struct xdnat_owner v;
	unsigned int n = 0;
	void *prev = NULL;

	while (!bpf_map_get_next_key(ms.fd[m], prev, next)) {
		memcpy(key, next, key_size);
		prev = key;
		assert_int_equal(bpf_map_lookup_elem(ms.fd[m], key, &v), 0);
		if (v.host_addr != addr)
			continue;
		assert_int_equal(v.client_id, cid);
		assert_memory_equal(v.mac, mac, 6);
		assert_int_equal(v.pad, 0);
		n++;
	}
	return n;
}

/* Host cid at addr holds nports ports from first (flags on natt), nspis
 * SPIs, nsas SAs, and every one of its values carries mac. */
static void expect_host(uint32_t cid, uint32_t addr, uint16_t first, uint16_t nports,
			uint16_t natt, uint32_t nspis, uint32_t nsas, const uint8_t *mac)
{
	struct xdnat_host hv;

	assert_int_equal(bpf_map_lookup_elem(ms.fd[MAPSYNC_HOSTS], &addr, &hv), 0);
	assert_int_equal(hv.client_id, cid);
	assert_memory_equal(hv.mac, mac, 6);
	for (uint32_t p = first; p < (uint32_t)first + nports; p++) {
		struct xdnat_port_owner v;

		assert_int_equal(bpf_map_lookup_elem(ms.fd[MAPSYNC_PORTS], &p, &v), 0);
		assert_int_equal(v.owner.client_id, cid);
		assert_int_equal(v.owner.host_addr, addr);
		assert_memory_equal(v.owner.mac, mac, 6);
		assert_int_equal(v.owner.pad, 0);
		assert_int_equal(v.flags, p == natt ? XDNAT_PORT_NATT : 0);
	}
	assert_int_equal(owners_with(MAPSYNC_SPIBLK, sizeof(struct xdnat_spiblk_key), cid, addr,
				     mac), nspis / XDNAT_SPI_GRANULE);
	assert_int_equal(owners_with(MAPSYNC_SA, sizeof(struct xdnat_sa_key), cid, addr, mac),
			 nsas);
}

static void expect_h1(const uint8_t *mac)
{
	expect_host(CID1, H1, H1_PORT, 10, NATT1, 32, 4, mac);
}

static void expect_h2(const uint8_t *mac)
{
	expect_host(CID2, H2, H2_PORT, 5, 0, 16, 2, mac);
}

/* An SA value of host cid at addr for spi, written behind mapsync's back. */
static void tamper_sa(uint32_t spi, uint32_t cid, uint32_t addr, const uint8_t *mac)
{
	struct xdnat_sa_key k;
	struct xdnat_owner v;

	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.spi = htonl(spi);
	k.peer = PEER;
	v.client_id = cid;
	v.host_addr = addr;
	memcpy(v.mac, mac, 6);
	assert_int_equal(bpf_map_update_elem(ms.fd[MAPSYNC_SA], &k, &v, BPF_ANY), 0);
}

/* ---- tests -------------------------------------------------------------------- */

/* Restored hosts: each value with the MAC known then; reconcile agrees and
 * repairs a value whose MAC was changed behind its back. */
static void test_restore_and_reconcile(void **state)
{
	size_t hosts;

	(void)state;
	NEED_MAPS();
	expect_h1(M1);
	expect_h2(ZERO);
	assert_int_equal(mapsync_update_macs(&ms, g, &hosts), 0);
	assert_int_equal(hosts, 0);
	tamper_sa(SPI1 + 2, CID1, H1, M2);
	assert_int_equal(mapsync_reconcile(&ms, g), 0);
	expect_h1(M1);
	expect_h2(ZERO);
	assert_int_equal(mapsync_errors(&ms), 0);
}

/* First resolution and a replaced NIC: all the entries of exactly the hosts
 * whose MAC changed, once. */
static void test_mac_changes_rewrite_the_host(void **state)
{
	size_t hosts;

	(void)state;
	NEED_MAPS();
	set_neigh(H2, M2);
	assert_int_equal(mapsync_update_macs(&ms, g, &hosts), 0);
	assert_int_equal(hosts, 1);
	expect_h1(M1);
	expect_h2(M2);
	set_neigh(H1, M1B);
	assert_int_equal(mapsync_update_macs(&ms, g, &hosts), 0);
	assert_int_equal(hosts, 1);
	expect_h1(M1B);
	expect_h2(M2);
	assert_int_equal(mapsync_update_macs(&ms, g, &hosts), 0);
	assert_int_equal(hosts, 0);
	/* lost (resolution failed): zero everywhere, gw_ext asks the FIB */
	set_neigh(H1, NULL);
	assert_int_equal(mapsync_update_macs(&ms, g, &hosts), 0);
	assert_int_equal(hosts, 1);
	expect_h1(ZERO);
	expect_h2(M2);
	set_neigh(H1, M1B);
	assert_int_equal(mapsync_update_macs(&ms, g, &hosts), 0);
	assert_int_equal(hosts, 1);
	expect_h1(M1B);
	assert_int_equal(mapsync_errors(&ms), 0);
}

/* A host change lists the new host with the MAC known now: a change and a
 * MAC change at once land together. */
static void test_host_change_takes_mac_now(void **state)
{
	struct host h3 = host(3, H3, 21000, 4, 0x3000, 16, 1);
	struct host h3b = host(3, H3, 21000, 6, 0x3000, 16, 3);
	struct gw_hooks hooks = mapsync_hooks(&ms);

	(void)state;
	NEED_MAPS();
	set_neigh(H3, M3);
	hooks.host_changed(hooks.ctx, g, NULL, &h3);
	expect_host(3, H3, 21000, 4, 0, 16, 1, M3);
	/* more ports and SAs, and a new MAC meanwhile */
	set_neigh(H3, M3B);
	hooks.host_changed(hooks.ctx, g, &h3, &h3b);
	expect_host(3, H3, 21000, 6, 0, 16, 3, M3B);
	hooks.host_changed(hooks.ctx, g, &h3b, NULL);
	assert_int_equal(owners_with(MAPSYNC_SA, sizeof(struct xdnat_sa_key), 3, H3, M3B), 0);
	assert_int_equal(owners_with(MAPSYNC_SPIBLK, sizeof(struct xdnat_spiblk_key), 3, H3,
				     M3B), 0);
	expect_h1(M1B);
	expect_h2(M2);
	assert_int_equal(mapsync_errors(&ms), 0);
}

/* A value whose MAC lags behind (changed meanwhile, or tampered with) is
 * still removed with its host: the MAC never says whose an entry is. */
static void test_removal_despite_a_lagging_mac(void **state)
{
	struct xdnat_port_owner pv;
	uint32_t p = H2_PORT, addr = H2;
	struct xdnat_host hv;

	(void)state;
	NEED_MAPS();
	set_neigh(H2, M3);		/* not written yet */
	tamper_sa(SPI2 + 1, CID2, H2, M1);
	assert_int_equal(gw_drop_host(g, CID2), 0);
	assert_int_equal(owners_with(MAPSYNC_SA, sizeof(struct xdnat_sa_key), CID2, H2, ZERO), 0);
	assert_int_equal(owners_with(MAPSYNC_SPIBLK, sizeof(struct xdnat_spiblk_key), CID2, H2,
				     ZERO), 0);
	assert_int_not_equal(bpf_map_lookup_elem(ms.fd[MAPSYNC_HOSTS], &addr, &hv), 0);
	assert_int_equal(bpf_map_lookup_elem(ms.fd[MAPSYNC_PORTS], &p, &pv), 0);
	assert_int_equal(pv.owner.client_id, 0);
	expect_h1(M1B);
	assert_int_equal(mapsync_errors(&ms), 0);
}

/* ---- issue 13: a whole block validated, a full map ---------------------- */

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* A mapsync of its own, on maps of the daemon's default sizes (SA: sa). */
static int own_maps(struct mapsync *m, uint32_t sa)
{
	static const struct { enum bpf_map_type t; uint32_t ks, vs, max; } d[MAPSYNC_N] = {
		[MAPSYNC_HOSTS] = { BPF_MAP_TYPE_HASH, 4, sizeof(struct xdnat_host), 64 },
		[MAPSYNC_PORTS] = { BPF_MAP_TYPE_ARRAY, 4, sizeof(struct xdnat_port_owner),
				    XDNAT_MAX_PORTS },
		[MAPSYNC_SPIBLK] = { BPF_MAP_TYPE_HASH, sizeof(struct xdnat_spiblk_key),
				     sizeof(struct xdnat_owner), 65536 },
		[MAPSYNC_SA] = { BPF_MAP_TYPE_HASH, sizeof(struct xdnat_sa_key),
				 sizeof(struct xdnat_owner), 0 },
		[MAPSYNC_TX] = { BPF_MAP_TYPE_DEVMAP_HASH, 4, 4, 8 },
	};

	memset(m, 0, sizeof(*m));
	for (int i = 0; i < MAPSYNC_N; i++) {
		uint32_t max = i == MAPSYNC_SA ? sa : d[i].max;
		int fd = bpf_map_create(d[i].t, mapsync_name(i), d[i].ks, d[i].vs, max, NULL);

		if (fd < 0 || mapsync_bind(m, i, fd, d[i].ks, d[i].vs, max))
			return -1;
	}
	return 0;
}

static void own_maps_close(struct mapsync *m)
{
	for (int i = 0; i < MAPSYNC_N; i++)
		if (m->fd[i] > 0)
			close(m->fd[i]);
	mapsync_release(m);
}

static unsigned int sa_count(const struct mapsync *m)
{
	struct xdnat_sa_key k, next;
	unsigned int n = 0;
	const void *prev = NULL;

	while (!bpf_map_get_next_key(m->fd[MAPSYNC_SA], prev, &next)) {
		k = next;
		prev = &k;
		n++;
	}
	return n;
}

/* One EXT_VALIDATE of a whole 65,536-SPI block for one peer: 65,536 SA
 * entries in one host change. Its time is what the single thread stalls
 * (finding 3), printed for docs/security.md. */
static void test_whole_block_validation(void **state)
{
	struct host bare = host(9, H3, 22000, 1, 0x10000, 65536, 1), full;
	struct mapsync m;
	struct gw_hooks hk;
	struct timespec t0;
	double add_ms, del_ms;

	(void)state;
	NEED_MAPS();
	assert_int_equal(own_maps(&m, XDNAT_MAX_SA), 0);
	hk = mapsync_hooks(&m);
	bare.n_sas = 0;
	full = bare;
	full.n_sas = 1;
	full.sas[0] = (struct pap_sa){ PEER, 0x10000, 0x10000 + 65535 };
	assert_int_equal(hk.host_changed(hk.ctx, NULL, NULL, &bare), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(hk.host_changed(hk.ctx, NULL, &bare, &full), 0);
	add_ms = ms_since(&t0);
	assert_int_equal(sa_count(&m), 65536);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(hk.host_changed(hk.ctx, NULL, &full, &bare), 0);
	del_ms = ms_since(&t0);
	assert_int_equal(sa_count(&m), 0);
	print_message("65536 SA entries: validate %.1f ms, invalidate %.1f ms\n", add_ms, del_ms);
	assert_int_equal(mapsync_errors(&m), 0);
	own_maps_close(&m);
}

/* A map that cannot take the entries says so (-E2BIG), so EXT_VALIDATE can
 * refuse instead of answering OK. */
static void test_full_map_reported(void **state)
{
	struct host h = host(9, H3, 22000, 1, 0x10000, 4096, 2048);
	struct mapsync m;
	struct gw_hooks hk;

	(void)state;
	NEED_MAPS();
	assert_int_equal(own_maps(&m, 1024), 0);
	hk = mapsync_hooks(&m);
	assert_int_equal(hk.host_changed(hk.ctx, NULL, NULL, &h), -E2BIG);
	assert_true(mapsync_errors(&m) > 0);
	/* taken back: nothing of it stays */
	assert_int_equal(hk.host_changed(hk.ctx, NULL, &h, NULL), 0);
	assert_int_equal(sa_count(&m), 0);
	own_maps_close(&m);
}

/* Finding 2: a second registration from h1's address (a forged REGISTER:
 * no ports) neither takes h1's xdnat_hosts entry nor, when it goes, takes
 * the entry with it: the entry is rebuilt from the hosts that remain. */
static void test_ghost_keeps_off_the_hosts_entry(void **state)
{
	struct host ghost = host(10, H1, 0, 1, 0, 0, 0);
	struct state_image img = { .meta = { 11, G }, .hosts = &ghost, .n_hosts = 1 };
	uint32_t addr = H1;
	struct xdnat_host hv;
	char err[128];

	(void)state;
	NEED_MAPS();
	ghost.n_ports = ghost.n_spis = ghost.n_sas = 0;
	assert_int_equal(gw_restore(g, &img, err, sizeof(err)), 0);
	assert_int_equal(bpf_map_lookup_elem(ms.fd[MAPSYNC_HOSTS], &addr, &hv), 0);
	assert_int_equal(hv.client_id, CID1);
	assert_int_equal(gw_drop_host(g, 10), 0);
	assert_int_equal(bpf_map_lookup_elem(ms.fd[MAPSYNC_HOSTS], &addr, &hv), 0);
	assert_int_equal(hv.client_id, CID1);
	expect_h1(M1B);

	/* The other way round: h1 goes, the one left at the address gets it. */
	assert_int_equal(gw_restore(g, &img, err, sizeof(err)), 0);
	assert_int_equal(gw_drop_host(g, CID1), 0);
	assert_int_equal(bpf_map_lookup_elem(ms.fd[MAPSYNC_HOSTS], &addr, &hv), 0);
	assert_int_equal(hv.client_id, 10);
	assert_int_equal(gw_drop_host(g, 10), 0);
	assert_int_not_equal(bpf_map_lookup_elem(ms.fd[MAPSYNC_HOSTS], &addr, &hv), 0);
	assert_int_equal(mapsync_errors(&ms), 0);
}

/* What the programs learn for host cid at addr, with key k (echo id peer,
 * fragment id, SPI): one entry in each learned table. */
static void learn(uint32_t k, uint32_t cid, uint32_t addr)
{
	struct xdnat_icmp_key ik = { .peer = PEER, .id = (uint16_t)k };
	struct xdnat_frag_key fk = { .src = PEER, .dst = G, .id = (uint16_t)k, .proto = 17 };
	struct xdnat_ipsec_key sk = { .peer = PEER, .spi = k, .proto = 50 };
	struct xdnat_frag f = { .owner = { .client_id = cid, .host_addr = addr } };

	assert_int_equal(bpf_map_update_elem(ms.learned_fd[MAPSYNC_L_ICMP_IDS], &ik, &f.owner,
					     BPF_ANY), 0);
	assert_int_equal(bpf_map_update_elem(ms.learned_fd[MAPSYNC_L_FRAGS], &fk, &f, BPF_ANY), 0);
	assert_int_equal(bpf_map_update_elem(ms.learned_fd[MAPSYNC_L_IPSEC_OUT], &sk, &f.owner,
					     BPF_ANY), 0);
}

/* Whether each learned table still has key k's entry (all or none). */
static bool learned(uint32_t k)
{
	struct xdnat_icmp_key ik = { .peer = PEER, .id = (uint16_t)k };
	struct xdnat_frag_key fk = { .src = PEER, .dst = G, .id = (uint16_t)k, .proto = 17 };
	struct xdnat_ipsec_key sk = { .peer = PEER, .spi = k, .proto = 50 };
	struct xdnat_frag f;
	int n = !bpf_map_lookup_elem(ms.learned_fd[MAPSYNC_L_ICMP_IDS], &ik, &f.owner) +
		!bpf_map_lookup_elem(ms.learned_fd[MAPSYNC_L_FRAGS], &fk, &f) +
		!bpf_map_lookup_elem(ms.learned_fd[MAPSYNC_L_IPSEC_OUT], &sk, &f.owner);

	assert_true(n == 0 || n == 3);
	return n == 3;
}

/*
 * Issue 13, finding 16: the echo ids, fragments and IPsec senders the
 * programs learned for a host go when it does (a later host would be
 * refused its echo id, or get its replies); those of others, and the
 * stack's fragments (client 0), stay. Reconcile (start, restored state)
 * removes what names a client that is not registered at that address.
 */
static void test_learned_entries_go_with_their_host(void **state)
{
	struct host hosts[2] = {
		host(20, H3, 25000, 1, 0x3000, 16, 1),
		host(21, H4, 25100, 1, 0x4000, 16, 1),
	};
	struct state_image img = { .meta = { 22, G }, .hosts = hosts, .n_hosts = 2 };
	char err[128];

	(void)state;
	NEED_MAPS();
	assert_int_equal(gw_restore(g, &img, err, sizeof(err)), 0);
	for (uint32_t k = 1; k <= 40; k++)
		learn(k, k & 1 ? 20 : 21, k & 1 ? H3 : H4);
	learn(100, 0, 0);
	assert_int_equal(gw_drop_host(g, 21), 0);
	for (uint32_t k = 1; k <= 40; k++)
		assert_int_equal(learned(k), k & 1);
	assert_true(learned(100));
	/* behind mapsync's back: a client not registered, one at another address */
	learn(200, 99, H3);
	learn(201, 20, H4);
	assert_int_equal(mapsync_reconcile(&ms, g), 0);
	assert_false(learned(200));
	assert_false(learned(201));
	assert_true(learned(1));
	assert_true(learned(100));
	assert_int_equal(gw_drop_host(g, 20), 0);
	assert_false(learned(1));
	assert_true(learned(100));
	assert_int_equal(mapsync_errors(&ms), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_restore_and_reconcile),
		cmocka_unit_test(test_learned_entries_go_with_their_host),
		cmocka_unit_test(test_mac_changes_rewrite_the_host),
		cmocka_unit_test(test_host_change_takes_mac_now),
		cmocka_unit_test(test_removal_despite_a_lagging_mac),
		cmocka_unit_test(test_whole_block_validation),
		cmocka_unit_test(test_full_map_reported),
		cmocka_unit_test(test_ghost_keeps_off_the_hosts_entry),
	};

	return cmocka_run_group_tests_name("mapsync", tests, group_setup, group_teardown);
}
