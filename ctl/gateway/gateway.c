/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * PAP request handling: authentication, replay and retransmission, then one
 * handler per request type. Every handler either changes nothing and returns
 * an error code, or changes the host and fills the reply: checks come first,
 * so a refused request never leaves half a change behind. With a CA (seed
 * claims 28-36) a host's certificate names the ports it holds: whatever
 * changes or ends the port share revokes it (docs/ca.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include "gateway/alloc.h"
#include "gateway/alloc_log.h"
#include "gateway/ca.h"
#include "gateway/gateway.h"
#include "lib/log.h"
#include "xdnat.h"

/* One address of the pool: its own ports, and how many hosts hold it. */
struct gw_addr {
	uint32_t addr;			/* network order */
	struct port_alloc *ports;
	size_t hosts;
};

struct gw {
	struct gw_config cfg;
	struct gw_addr pool[GW_MAX_POOL];
	size_t n_pool;
	struct spi_alloc *spis;		/* one for the pool: SPIs are unique */
	struct state_store *store;
	gw_clock_fn clock;
	void *clock_ctx;
	struct gw_hooks hooks;
	struct ca *ca;			/* NULL: CERT and CRL not implemented */
	struct alloc_log *alog;		/* NULL: no allocation log */
	/* Sorted by client_id; ids only grow, so registration appends. */
	struct host **hosts;
	size_t n_hosts, cap_hosts;
	uint32_t next_client_id;
	struct gw_stats stats;
	size_t req_len;			/* of the request being answered */
	/* REGISTER cookies: the current secret and the one before. */
	uint8_t cookie_secret[2][PAP_KEY_LEN];
	uint8_t sign_seed[PAP_SIG_KEY_LEN];
	bool has_sign_key;
	/* Per-source REGISTER token buckets (milli-tokens), LRU-evicted. */
	struct gw_src {
		uint32_t addr;
		uint32_t mtokens;
		uint64_t last;
	} src[GW_SRC_SLOTS];
	struct gw_token *tokens;
	size_t n_tokens;
	uint32_t next_token_id;
	bool tokens_changed;
	/* CERTs per host in the current minute: its own table, pruned as the
	 * minutes pass, so a host record needs no field for it. */
	struct cert_rate *cert_rate;
	size_t n_cert_rate, cap_cert_rate;
	uint16_t ext_mtu;		/* told to hosts as EXT_MTU; 0: not known */
};

#define GW_MAX_TOKENS	1024

struct cert_rate {
	uint32_t client_id;
	uint32_t count;
	uint64_t window;		/* the minute (unix seconds / 60) counted */
};

/* What one request handler sees. */
struct gw_req {
	const struct pap_msg *m;
	struct host *h;
	struct pap_writer *w;	/* reply, begun with the reply type */
	uint64_t now;
	bool synced;		/* the handler told the hooks itself */
};

uint64_t gw_now(const struct gw *g)
{
	return g->clock(g->clock_ctx);
}

/* ---- the pool -------------------------------------------------------- */

int gw_pool_index(const struct gw *g, uint32_t global)
{
	for (size_t i = 0; i < g->n_pool; i++)
		if (g->pool[i].addr == global)
			return (int)i;
	return -1;
}

static struct gw_addr *pool_of(struct gw *g, uint32_t global)
{
	int i = gw_pool_index(g, global);

	return i < 0 ? NULL : &g->pool[i];
}

static void ports_put(struct gw *g, const struct pap_port_range *r)
{
	struct gw_addr *a = pool_of(g, r->global);

	if (a)
		port_alloc_put(a->ports, r->first, r->last);
}

/*
 * The G of a new host (paired pooling, RFC 4787 REQ-2: all its ports on
 * one address): the one it asks for, else the one with the most free
 * ports, ties to the one fewest hosts hold (hosts that registered but hold
 * nothing yet count), then pool order. NULL: it asked for one not in the
 * pool.
 */
static struct gw_addr *choose_global(struct gw *g, const struct pap_msg *m)
{
	struct gw_addr *best = &g->pool[0];

	if (m->present & PAP_BIT(PAP_P_GLOBAL_ADDR))
		return pool_of(g, m->globals[0]);
	for (size_t i = 1; i < g->n_pool; i++) {
		struct gw_addr *a = &g->pool[i];
		uint32_t fa = port_alloc_free_count(a->ports);
		uint32_t fb = port_alloc_free_count(best->ports);

		if (fa > fb || (fa == fb && a->hosts < best->hosts))
			best = a;
	}
	return best;
}

/* ---- host table ------------------------------------------------------- */

static size_t host_slot(const struct gw *g, uint32_t client_id)
{
	size_t lo = 0, hi = g->n_hosts;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (g->hosts[mid]->client_id < client_id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct host *gw_find_host(const struct gw *g, uint32_t client_id)
{
	size_t i = host_slot(g, client_id);

	return i < g->n_hosts && g->hosts[i]->client_id == client_id ?
	       g->hosts[i] : NULL;
}

static int host_insert(struct gw *g, struct host *h)
{
	size_t i = host_slot(g, h->client_id);

	if (g->n_hosts == g->cap_hosts) {
		size_t cap = g->cap_hosts ? g->cap_hosts * 2 : 64;
		struct host **n = realloc(g->hosts, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		g->hosts = n;
		g->cap_hosts = cap;
	}
	memmove(&g->hosts[i + 1], &g->hosts[i], (g->n_hosts - i) * sizeof(*g->hosts));
	g->hosts[i] = h;
	g->n_hosts++;
	if (pool_of(g, h->global))
		pool_of(g, h->global)->hosts++;
	return 0;
}

static void host_remove(struct gw *g, struct host *h)
{
	size_t i = host_slot(g, h->client_id);

	memmove(&g->hosts[i], &g->hosts[i + 1], (g->n_hosts - i - 1) * sizeof(*g->hosts));
	g->n_hosts--;
	if (pool_of(g, h->global))
		pool_of(g, h->global)->hosts--;
	host_release(h);
	OPENSSL_cleanse(h->secret, sizeof(h->secret));
	free(h);
}

size_t gw_host_count(const struct gw *g)
{
	return g->n_hosts;
}

const struct host *gw_host_at(const struct gw *g, size_t i)
{
	return i < g->n_hosts ? g->hosts[i] : NULL;
}

/* ---- change notification and logging ---------------------------------- */

/* A copy of a host's share for the hooks; the reply cache is not part of it. */
static void share_snapshot(struct host *dst, const struct host *src)
{
	*dst = *src;
	dst->reply = NULL;
	dst->reply_len = 0;
}

static bool share_equal(const struct host *a, const struct host *b)
{
	return a->n_ports == b->n_ports && a->n_spis == b->n_spis &&
	       a->n_sas == b->n_sas && a->addr == b->addr &&
	       a->natt_port == b->natt_port &&
	       !memcmp(a->ports, b->ports, a->n_ports * sizeof(a->ports[0])) &&
	       !memcmp(a->spis, b->spis, a->n_spis * sizeof(a->spis[0])) &&
	       !memcmp(a->sas, b->sas, a->n_sas * sizeof(a->sas[0]));
}

static int notify(struct gw *g, const struct host *old_h, const struct host *new_h)
{
	if (!g->hooks.host_changed)
		return 0;
	if (old_h && new_h && share_equal(old_h, new_h))
		return 0;
	return g->hooks.host_changed(g->hooks.ctx, g, old_h, new_h);
}

static int log_host(struct gw *g, const struct host *h)
{
	return g->store ? state_log_host(g->store, h) : 0;
}

static int log_meta(struct gw *g)
{
	struct state_meta m;

	gw_state_meta(g, &m);
	return g->store ? state_log_meta(g->store, &m) : 0;
}

/* ---- certificates --------------------------------------------------- */

_Static_assert(sizeof(struct cert_serial) == HOST_SERIAL_LEN, "struct host keeps serials");

static bool has_cert(const struct host *h)
{
	static const uint8_t none[HOST_SERIAL_LEN];

	return memcmp(h->cert_serial, none, sizeof(none));
}

/* The host's certificate no longer tells the truth (its ports changed or
 * went, or a new one replaces it): onto the CRL, and forgotten. */
static void revoke_cert(struct gw *g, struct host *h, const char *why)
{
	char hex[2 * CERT_SERIAL_LEN + 1], err[256];
	time_t expires = (time_t)h->cert_expires;
	struct cert_serial s;
	int rc;

	if (!has_cert(h))
		return;
	memcpy(s.b, h->cert_serial, sizeof(s.b));
	memset(h->cert_serial, 0, sizeof(h->cert_serial));
	h->cert_expires = 0;
	if (!g->ca)
		return;
	cert_serial_hex(&s, hex);
	rc = ca_revoke_until(g->ca, &s, 0, expires, err, sizeof(err));
	if (rc) {
		log_err("host %u: revoking certificate %s (%s): %s", h->client_id, hex, why, err);
		return;
	}
	g->stats.certs_revoked++;
	log_info("host %u: certificate %s revoked: %s", h->client_id, hex, why);
}

static bool ports_equal(const struct host *a, const struct host *b)
{
	return a->n_ports == b->n_ports &&
	       !memcmp(a->ports, b->ports, a->n_ports * sizeof(a->ports[0]));
}

/* ---- share bookkeeping ---------------------------------------------- */

static void release_share(struct gw *g, struct host *h)
{
	for (unsigned int i = 0; i < h->n_ports; i++)
		ports_put(g, &h->ports[i]);
	for (unsigned int i = 0; i < h->n_spis; i++)
		spi_alloc_put(g->spis, h->spis[i].first,
			      h->spis[i].last - h->spis[i].first + 1);
	h->n_ports = h->n_spis = h->n_sas = 0;
	h->natt_port = 0;
}

/* Frees everything h holds and forgets it (deregister, expiry, admin). */
static void destroy_host(struct gw *g, struct host *h, const char *why,
			 enum alloc_event ev)
{
	struct host old;

	alloc_log_gone(g->alog, gw_now(g), h, ev);	/* with the serial it had */
	revoke_cert(g, h, why);
	share_snapshot(&old, h);
	release_share(g, h);
	if (g->store)
		state_log_del(g->store, h->client_id);
	notify(g, &old, NULL);
	host_remove(g, h);
}

static uint32_t lease_left(const struct host *h, uint64_t now)
{
	return h->lease_expires > now ? (uint32_t)(h->lease_expires - now) : 0;
}

static uint32_t lease_grant(const struct gw *g, const struct pap_msg *m,
			    uint32_t fallback)
{
	uint32_t want = (m->present & PAP_BIT(PAP_P_LEASE)) && m->lease ?
			m->lease : fallback;

	/* A floor: LEASE=1 would let a forged REGISTER come and go at once.
	 * An operator's own short --lease lowers it. */
	uint32_t floor = g->cfg.min_lease_secs < g->cfg.lease_secs ?
			 g->cfg.min_lease_secs : g->cfg.lease_secs;

	if (want < floor)
		want = floor;
	return want > g->cfg.max_lease_secs ? g->cfg.max_lease_secs : want;
}

static bool sa_within(const struct pap_sa *sa, const struct pap_spi_range *r)
{
	return sa->spi_first >= r->first && sa->spi_last <= r->last;
}

static void remove_sa(struct host *h, unsigned int i)
{
	memmove(&h->sas[i], &h->sas[i + 1], (h->n_sas - i - 1) * sizeof(h->sas[0]));
	h->n_sas--;
}

/* ---- request handlers ----------------------------------------------- */

static int handle_port(struct gw *g, struct gw_req *r)
{
	const struct pap_msg *m = r->m;
	struct host *h = r->h;
	struct gw_addr *a = pool_of(g, h->global);
	uint32_t held = host_port_total(h), want = m->count, got = 0;
	uint16_t first = 0;
	int err = -ENOSPC;

	/* paired: a host's ports are all on its own G */
	if (!a || ((m->present & PAP_BIT(PAP_P_GLOBAL_ADDR)) && m->globals[0] != h->global))
		return PAP_E_NO_RESOURCES;
	if (held >= g->cfg.port_quota)
		return PAP_E_QUOTA;
	if (h->n_ports >= HOST_MAX_RANGES)
		return PAP_E_TABLE_FULL;
	if (want > g->cfg.port_quota - held)
		want = g->cfg.port_quota - held;

	/* Re-claim: the exact ports the host had, when still free and in quota. */
	if (m->present & PAP_BIT(PAP_P_PORT_RANGE)) {
		const struct pap_port_range *hint = &m->ports[0];
		uint32_t n = (uint32_t)hint->last - hint->first + 1;

		if (n <= g->cfg.port_quota - held &&
		    (!(hint->global) || hint->global == h->global) &&
		    !port_alloc_reserve(a->ports, hint->first, hint->last)) {
			first = hint->first;
			got = n;
			err = 0;
		}
	}
	if (err)
		err = port_alloc_get(a->ports, want, true, &first, &got);
	if (err)
		return PAP_E_NO_RESOURCES;

	h->ports[h->n_ports++] = (struct pap_port_range){
		.global = h->global,
		.first = first,
		.last = (uint16_t)(first + got - 1),
	};
	pap_put_port_range(r->w, &h->ports[h->n_ports - 1]);
	pap_put_u32(r->w, PAP_P_LEASE, lease_left(h, r->now));
	return PAP_OK;
}

/* Largest power of two <= v (v >= 1), at most 2^31: the largest SPI block. */
static uint32_t pow2_floor(uint64_t v)
{
	uint32_t p = 1;

	while ((uint64_t)p * 2 <= v && p < 0x80000000u)
		p *= 2;
	return p;
}

static uint64_t pow2_ceil(uint32_t v)
{
	uint64_t p = 1;

	while (p < v)
		p *= 2;
	return p;
}

/*
 * SPI blocks are at least XDNAT_SPI_GRANULE SPIs (smaller requests are
 * rounded up), so that the data plane's xdnat_spiblk, one entry per granule,
 * never has a granule shared by two hosts.
 */
static int handle_spi(struct gw *g, struct gw_req *r)
{
	const struct pap_msg *m = r->m;
	struct host *h = r->h;
	uint64_t held = host_spi_total(h), room;
	uint32_t want = m->count, first = 0, count = 0;
	int err = -ENOSPC;

	if ((m->present & PAP_BIT(PAP_P_GLOBAL_ADDR)) && m->globals[0] != h->global)
		return PAP_E_NO_RESOURCES;
	if (held + XDNAT_SPI_GRANULE > g->cfg.spi_quota)
		return PAP_E_QUOTA;
	if (h->n_spis >= HOST_MAX_RANGES)
		return PAP_E_TABLE_FULL;
	room = g->cfg.spi_quota - held;
	if (want < XDNAT_SPI_GRANULE)
		want = XDNAT_SPI_GRANULE;
	/* Blocks are powers of two: never round up past the quota. */
	if (pow2_ceil(want) > room)
		want = pow2_floor(room);

	if (m->present & PAP_BIT(PAP_P_SPI_RANGE)) {
		const struct pap_spi_range *hint = &m->spis[0];
		uint64_t n = (uint64_t)hint->last - hint->first + 1;

		if (n >= XDNAT_SPI_GRANULE && n <= room && n <= 0x80000000u &&
		    !spi_alloc_reserve(g->spis, hint->first, (uint32_t)n)) {
			first = hint->first;
			count = (uint32_t)n;
			err = 0;
		}
	}
	if (err)
		err = spi_alloc_get(g->spis, want, true, &first, &count);
	/* a partial grant below the minimum: only at unaligned --spis edges */
	if (!err && count < XDNAT_SPI_GRANULE) {
		spi_alloc_put(g->spis, first, count);
		err = -ENOSPC;
	}
	if (err)
		return PAP_E_NO_RESOURCES;

	h->spis[h->n_spis++] = (struct pap_spi_range){
		.global = h->global,
		.first = first,
		.last = first + count - 1,
	};
	pap_put_spi_range(r->w, &h->spis[h->n_spis - 1]);
	return PAP_OK;
}

uint64_t gw_host_sa_entries(const struct host *h)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < h->n_sas; i++)
		n += (uint64_t)h->sas[i].spi_last - h->sas[i].spi_first + 1;
	return n;
}

uint64_t gw_sa_entries(const struct gw *g)
{
	uint64_t n = 0;

	for (size_t i = 0; i < g->n_hosts; i++)
		n += gw_host_sa_entries(g->hosts[i]);
	return n;
}

/* The SA map has one entry per (SPI, peer): a validation costs its SPIs. A
 * host gets --sa-budget entries at most and the map holds --sa-entries; a
 * request over either is refused before anything changes. */
static int sa_budget_check(struct gw *g, const struct host *h, uint64_t added)
{
	uint64_t mine = gw_host_sa_entries(h);

	if (!added)
		return PAP_OK;
	if (mine + added > g->cfg.sa_budget) {
		log_info("host %u: validation of %llu SA entries refused: it holds %llu of "
			 "its budget of %u", h->client_id, (unsigned long long)added,
			 (unsigned long long)mine, g->cfg.sa_budget);
		return PAP_E_BUDGET;
	}
	if (gw_sa_entries(g) + added > g->cfg.sa_table) {
		log_warn("host %u: validation of %llu SA entries refused: the SA map "
			 "(--sa-entries %u) is full", h->client_id,
			 (unsigned long long)added, g->cfg.sa_table);
		return PAP_E_TABLE_FULL;
	}
	return PAP_OK;
}

/* The maps take the new SAs now, so that a map that cannot (full, out of
 * memory) refuses the request instead of acknowledging work not done. */
static int validate_sync(struct gw *g, struct gw_req *r, const struct host *before)
{
	struct host added;
	int err;

	r->synced = true;
	err = notify(g, before, r->h);
	if (!err)
		return PAP_OK;
	share_snapshot(&added, r->h);
	memcpy(r->h->sas, before->sas, sizeof(r->h->sas));
	r->h->n_sas = before->n_sas;
	notify(g, &added, r->h);	/* take back what went in */
	log_err("host %u: the SA map refused the validation (%s): refused",
		r->h->client_id, strerror(-err));
	return PAP_E_TABLE_FULL;
}

static int handle_validate(struct gw *g, struct gw_req *r)
{
	const struct pap_msg *m = r->m;
	struct host *h = r->h, before;
	const struct pap_spi_range *want = m->n_spis ? m->spis : h->spis;
	unsigned int n = m->n_spis ? m->n_spis : h->n_spis, added = 0;
	uint64_t entries = 0;
	int rc;

	if (!m->peer || gw_pool_index(g, m->peer) >= 0)
		return PAP_E_BAD_VALUE;
	if (!n)
		return PAP_E_NOT_OWNER;		/* holds no SPIs at all */
	for (unsigned int i = 0; i < n; i++)
		if (host_find_spis(h, want[i].first, want[i].last) < 0)
			return PAP_E_NOT_OWNER;

	/* Count the new entries first, so a full table refuses the whole request. */
	for (unsigned int i = 0; i < n; i++) {
		bool dup = false;

		for (unsigned int j = 0; j < h->n_sas && !dup; j++)
			dup = h->sas[j].peer == m->peer &&
			      h->sas[j].spi_first == want[i].first &&
			      h->sas[j].spi_last == want[i].last;
		for (unsigned int j = 0; j < i && !dup; j++)
			dup = want[j].first == want[i].first && want[j].last == want[i].last;
		added += !dup;
		if (!dup)
			entries += (uint64_t)want[i].last - want[i].first + 1;
	}
	if (h->n_sas + added > HOST_MAX_SAS)
		return PAP_E_TABLE_FULL;
	rc = sa_budget_check(g, h, entries);
	if (rc)
		return rc;

	share_snapshot(&before, h);
	for (unsigned int i = 0; i < n; i++) {
		struct pap_sa sa = {
			.peer = m->peer,
			.spi_first = want[i].first,
			.spi_last = want[i].last,
		};
		bool dup = false;

		for (unsigned int j = 0; j < h->n_sas && !dup; j++)
			dup = !memcmp(&h->sas[j], &sa, sizeof(sa));
		if (!dup)
			h->sas[h->n_sas++] = sa;
		pap_put_sa(r->w, &sa);
	}
	return validate_sync(g, r, &before);
}

static int handle_invalidate(struct gw *g, struct gw_req *r)
{
	const struct pap_msg *m = r->m;
	struct host *h = r->h;
	unsigned int removed = 0;

	(void)g;
	for (unsigned int i = 0; i < m->n_spis; i++)
		if (host_find_spis(h, m->spis[i].first, m->spis[i].last) < 0)
			return PAP_E_NOT_OWNER;

	for (unsigned int j = 0; j < h->n_sas;) {
		bool match = h->sas[j].peer == m->peer && !m->n_spis;

		for (unsigned int i = 0; i < m->n_spis && !match; i++)
			match = h->sas[j].peer == m->peer &&
				sa_within(&h->sas[j], &m->spis[i]);
		if (!match) {
			j++;
			continue;
		}
		pap_put_sa(r->w, &h->sas[j]);
		remove_sa(h, j);
		removed++;
	}
	return removed ? PAP_OK : PAP_E_NOT_FOUND;
}

/* EXT_MTU when the gateway knows it, remembered as what h was told. */
static void put_ext_mtu(const struct gw *g, struct pap_writer *w, struct host *h)
{
	if (g->ext_mtu)
		pap_put_u16(w, PAP_P_EXT_MTU, g->ext_mtu);
	h->mtu_told = g->ext_mtu;
}

static int handle_extend(struct gw *g, struct gw_req *r)
{
	struct host *h = r->h;

	h->lease_secs = lease_grant(g, r->m, h->lease_secs);
	h->lease_expires = r->now + h->lease_secs;
	pap_put_u32(r->w, PAP_P_LEASE, h->lease_secs);
	/* Only a value the host was not told yet: an agent from before EXT_MTU
	 * was allowed here refuses this reply (UNEXPECTED_PARAM), and its next
	 * EXTEND, which gets none, renews (docs/pap.md, EXTEND_REPLY). */
	if (g->ext_mtu && g->ext_mtu != h->mtu_told)
		put_ext_mtu(g, r->w, h);
	return PAP_OK;
}

static int handle_free(struct gw *g, struct gw_req *r)
{
	const struct pap_msg *m = r->m;
	struct host *h = r->h;

	/* Only exactly-held blocks, all of them checked before any is freed. */
	for (unsigned int i = 0; i < m->n_ports; i++) {
		int k = host_find_ports(h, m->ports[i].first, m->ports[i].last);

		if (k < 0 || h->ports[k].first != m->ports[i].first ||
		    h->ports[k].last != m->ports[i].last)
			return PAP_E_NOT_OWNER;
	}
	for (unsigned int i = 0; i < m->n_spis; i++) {
		int k = host_find_spis(h, m->spis[i].first, m->spis[i].last);

		if (k < 0 || h->spis[k].first != m->spis[i].first ||
		    h->spis[k].last != m->spis[i].last)
			return PAP_E_NOT_OWNER;
	}

	for (unsigned int i = 0; i < m->n_ports; i++) {
		int k = host_find_ports(h, m->ports[i].first, m->ports[i].last);

		if (k < 0)
			continue;	/* the same block named twice */
		ports_put(g, &h->ports[k]);
		pap_put_port_range(r->w, &h->ports[k]);
		if (h->natt_port >= h->ports[k].first && h->natt_port <= h->ports[k].last)
			h->natt_port = 0;
		h->ports[k] = h->ports[--h->n_ports];
	}
	for (unsigned int i = 0; i < m->n_spis; i++) {
		int k = host_find_spis(h, m->spis[i].first, m->spis[i].last);

		if (k < 0)
			continue;
		spi_alloc_put(g->spis, h->spis[k].first,
			      h->spis[k].last - h->spis[k].first + 1);
		pap_put_spi_range(r->w, &h->spis[k]);
		/* SAs on freed SPIs go with them: the SPIs may be someone else's next. */
		for (unsigned int j = 0; j < h->n_sas;) {
			if (sa_within(&h->sas[j], &h->spis[k]))
				remove_sa(h, j);
			else
				j++;
		}
		h->spis[k] = h->spis[--h->n_spis];
	}
	return PAP_OK;
}

static int handle_query(struct gw *g, struct gw_req *r)
{
	struct host *h = r->h;

	pap_put_addr(r->w, PAP_P_GLOBAL_ADDR, h->global);
	pap_put_u32(r->w, PAP_P_LEASE, lease_left(h, r->now));
	for (unsigned int i = 0; i < h->n_ports; i++)
		pap_put_port_range(r->w, &h->ports[i]);
	for (unsigned int i = 0; i < h->n_spis; i++)
		pap_put_spi_range(r->w, &h->spis[i]);
	for (unsigned int i = 0; i < h->n_sas; i++)
		pap_put_sa(r->w, &h->sas[i]);
	if (h->natt_port)
		pap_put_u16(r->w, PAP_P_NATT_PORT, h->natt_port);
	put_ext_mtu(g, r->w, h);
	return PAP_OK;
}

/* The host names the held port its IKE daemon uses for ESP-in-UDP, so the
 * data plane applies the SPI + validated-peer check to that port too. */
static int handle_natt(struct gw *g, struct gw_req *r)
{
	struct host *h = r->h;
	uint16_t port = r->m->natt_port;

	(void)g;
	if (port && host_find_ports(h, port, port) < 0)
		return PAP_E_NOT_OWNER;
	h->natt_port = port;
	pap_put_u16(r->w, PAP_P_NATT_PORT, port);
	return PAP_OK;
}

/* The CERT reply: the leaf, then the chain; PAP_E_INTERNAL (logged) when
 * it does not fit a datagram with its AUTH. */
static int put_certs(struct pap_writer *w, const uint8_t *leaf, size_t leaf_len,
		     const uint8_t *const *chain, const size_t *lens, int n)
{
	size_t total = leaf_len;

	for (int i = 0; i < n; i++)
		total += lens[i];
	if (leaf_len > PAP_MAX_DER || total + (size_t)(n + 2) * PAP_TLV_HDR_LEN +
	    PAP_MAC_LEN > w->cap - w->len) {
		log_err("a certificate and its chain (%zu bytes) do not fit a PAP datagram",
			total);
		return PAP_E_INTERNAL;
	}
	pap_put(w, PAP_P_CERT, leaf, (uint16_t)leaf_len);
	for (int i = 0; i < n; i++)
		pap_put(w, PAP_P_CERT, chain[i], (uint16_t)lens[i]);
	return w->err ? PAP_E_INTERNAL : PAP_OK;
}

/* One more CERT of host id in this minute: false when over --cert-rate.
 * Entries of past minutes are dropped on the way. */
static bool cert_rate_take(struct gw *g, uint32_t id, uint64_t now)
{
	uint64_t minute = now / 60;
	struct cert_rate *e = NULL;
	size_t out = 0;

	for (size_t i = 0; i < g->n_cert_rate; i++) {
		if (g->cert_rate[i].window != minute)
			continue;
		g->cert_rate[out] = g->cert_rate[i];
		if (g->cert_rate[out].client_id == id)
			e = &g->cert_rate[out];
		out++;
	}
	g->n_cert_rate = out;
	if (!e) {
		if (g->n_cert_rate == g->cap_cert_rate) {
			size_t cap = g->cap_cert_rate ? g->cap_cert_rate * 2 : 16;
			struct cert_rate *n = realloc(g->cert_rate, cap * sizeof(*n));

			if (!n)
				return false;
			g->cert_rate = n;
			g->cap_cert_rate = cap;
		}
		e = &g->cert_rate[g->n_cert_rate++];
		*e = (struct cert_rate){ .client_id = id, .window = minute };
	}
	if (e->count >= g->cfg.cert_rate)
		return false;
	e->count++;
	return true;
}

static bool holds_ports_of(const struct host *h, uint32_t global)
{
	for (unsigned int i = 0; i < h->n_ports; i++)
		if (h->ports[i].global == global)
			return true;
	return false;
}

/*
 * A certificate for the key in the CSR naming G and exactly the ports the
 * host holds now, valid until its lease ends; the one issued before is
 * revoked. The host asks again whenever its ports change (docs/ca.md).
 * The cheap refusals come first: no ports, over the rate; the CSR's
 * signature is checked last (ca_issue checks the key's size first).
 */
static int handle_cert(struct gw *g, struct gw_req *r)
{
	const uint8_t *chain[3];
	char hex[2 * CERT_SERIAL_LEN + 1];
	struct host *h = r->h;
	struct cert_serial serial;
	uint8_t *der = NULL;
	size_t lens[3], len;
	int n, rc, code;

	if (!g->ca)
		return PAP_E_NOT_IMPLEMENTED;
	if (!holds_ports_of(h, h->global))
		return PAP_E_NO_PORTS;
	if (!cert_rate_take(g, h->client_id, r->now)) {
		log_info("host %u: certificate refused: over %u CERT a minute",
			 h->client_id, g->cfg.cert_rate);
		return PAP_E_RATE_LIMITED;
	}
	/* CERT 1..4: the leaf and at most three of the chain (xdnatd checks
	 * at start that the chain fits). */
	n = ca_chain_der(g->ca, chain, lens, 3);
	if (n < 0)
		return PAP_E_INTERNAL;
	rc = ca_issue(g->ca, r->m->csr, r->m->csr_len, h->client_id, h->global, h->ports,
		      h->n_ports, h->lease_expires, &der, &len, &serial, &code);
	if (rc) {
		log_info("host %u: certificate refused: %s", h->client_id, pap_err_name(code));
		return code;
	}
	code = put_certs(r->w, der, len, chain, lens, n);
	OPENSSL_free(der);
	if (code)
		return code;
	g->stats.certs_issued++;
	revoke_cert(g, h, "replaced by a new one");
	memcpy(h->cert_serial, serial.b, sizeof(h->cert_serial));
	h->cert_expires = h->lease_expires;
	cert_serial_hex(&serial, hex);
	log_info("host %u: certificate %s issued for %u port block(s), until the lease ends",
		 h->client_id, hex, h->n_ports);
	return PAP_OK;
}

/* CRL: the CA's current revocation list, signed, as xdnatctl crl prints it,
 * in chunks of PAP_CRL_CHUNK bytes from the OFFSET asked for; each reply
 * names the whole CRL's length and SHA-256, so the host puts it together
 * and notices a CRL signed between two chunks. */
static int handle_crl(struct gw *g, struct gw_req *r)
{
	uint8_t id[SHA256_DIGEST_LENGTH], *der;
	uint32_t off = r->m->offset;
	size_t len, n;
	int rc;

	if (!g->ca)
		return PAP_E_NOT_IMPLEMENTED;
	rc = ca_crl_der(g->ca, &der, &len);
	if (rc) {
		log_err("the CRL for a CRL request: %s", strerror(-rc));
		return PAP_E_INTERNAL;
	}
	if (!len || len > PAP_MAX_CRL) {
		log_err("the CRL (%zu bytes) is larger than PAP carries (%u)", len,
			PAP_MAX_CRL);
		OPENSSL_free(der);
		return PAP_E_INTERNAL;
	}
	if (off >= len) {
		OPENSSL_free(der);
		return PAP_E_BAD_VALUE;
	}
	n = len - off < PAP_CRL_CHUNK ? len - off : PAP_CRL_CHUNK;
	SHA256(der, len, id);
	pap_put(r->w, PAP_P_CRL, der + off, (uint16_t)n);
	pap_put_u32(r->w, PAP_P_OFFSET, off);
	pap_put_u32(r->w, PAP_P_TOTAL, (uint32_t)len);
	pap_put(r->w, PAP_P_CRL_ID, id, sizeof(id));
	OPENSSL_free(der);
	return PAP_OK;
}

static int handle_nothing(struct gw *g, struct gw_req *r)
{
	(void)g;
	(void)r;
	return PAP_OK;
}

typedef int (*gw_handler)(struct gw *g, struct gw_req *r);

/* Authenticated requests; DEREGISTER is special-cased (the host goes away). */
static const gw_handler handlers[PAP_TYPE_MAX + 1] = {
	[PAP_PORT]		= handle_port,
	[PAP_SPI]		= handle_spi,
	[PAP_CERT]		= handle_cert,
	[PAP_EXT_VALIDATE]	= handle_validate,
	[PAP_EXT_INVALIDATE]	= handle_invalidate,
	[PAP_EXTEND]		= handle_extend,
	[PAP_FREE]		= handle_free,
	[PAP_DEREGISTER]	= handle_nothing,
	[PAP_QUERY]		= handle_query,
	[PAP_NATT]		= handle_natt,
	[PAP_CRL]		= handle_crl,
};

/* ---- dispatch ------------------------------------------------------- */

/* An ERROR with only the code (and REQ_TYPE when it fits), for limit. */
static int small_error(uint8_t *reply, size_t limit, const struct pap_msg *m, int code)
{
	struct pap_writer w;
	int n;

	pap_begin(&w, reply, limit, PAP_ERROR, m->xid, m->client_id, m->seq);
	pap_put_u16(&w, PAP_P_ERROR_CODE, (uint16_t)code);
	if (m->type && m->type <= PAP_TYPE_MAX)
		pap_put_u8(&w, PAP_P_REQ_TYPE, m->type);
	n = pap_finish(&w, NULL, 0);
	if (n > 0)
		return n;
	pap_begin(&w, reply, limit, PAP_ERROR, m->xid, m->client_id, m->seq);
	pap_put_u16(&w, PAP_P_ERROR_CODE, (uint16_t)code);
	return pap_finish(&w, NULL, 0);
}

/*
 * Unsigned ERRORs go to whoever the source claims to be: never bigger than
 * the request (no amplification), shortened to the code, or silence. Signed
 * ones answer an authenticated request from the host's own address.
 */
static size_t reply_error(struct gw *g, const struct pap_msg *m, int code,
			  const uint8_t *key, size_t key_len, uint8_t *reply,
			  size_t cap)
{
	size_t limit = !key && g->req_len < cap ? g->req_len : cap;
	int n = pap_build_error(reply, limit, m, m->type, (enum pap_err)code,
				pap_err_text(code), key, key_len);

	if (n <= 0 && !key)
		n = small_error(reply, limit, m, code);
	if (n <= 0)
		return 0;
	if (code > 0 && code <= PAP_E_MAX)
		g->stats.errors[code]++;
	return (size_t)n;
}

/* The registration a retransmitted REGISTER made: same key, same address
 * (a copy relayed from elsewhere is a new REGISTER, and needs its cookie). */
static struct host *find_by_pubkey(struct gw *g, const uint8_t *pub, uint32_t src)
{
	for (size_t i = 0; i < g->n_hosts; i++)
		if (g->hosts[i]->addr == src &&
		    !CRYPTO_memcmp(g->hosts[i]->host_pub, pub, PAP_KEY_LEN))
			return g->hosts[i];
	return NULL;
}

static uint32_t hosts_from(const struct gw *g, uint32_t src)
{
	uint32_t n = 0;

	for (size_t i = 0; i < g->n_hosts; i++)
		n += g->hosts[i]->addr == src;
	return n;
}

/* ---- REGISTER guards: cookie, per-source rate, tokens ------------------ */

static bool cookie_ok(const struct gw *g, const struct pap_msg *m, uint32_t src,
		      uint16_t sport, uint64_t now)
{
	uint8_t want[PAP_COOKIE_LEN];
	uint64_t slot = now / GW_COOKIE_SLOT_SECS;

	if (!(m->present & PAP_BIT(PAP_P_COOKIE)))
		return false;
	/* this slot or the one before, under this secret or the one before */
	for (int k = 0; k < 2; k++)
		for (uint64_t d = 0; d < 2 && d <= slot; d++) {
			if (pap_cookie(g->cookie_secret[k], src, sport, m->pubkey,
				       slot - d, want))
				return false;
			if (!CRYPTO_memcmp(want, m->cookie, PAP_COOKIE_LEN))
				return true;
		}
	return false;
}

/* COOKIE, unsigned: 40 bytes, below the 51 of the smallest REGISTER. */
static size_t cookie_reply(struct gw *g, const struct pap_msg *m, uint32_t src,
			   uint16_t sport, uint64_t now, uint8_t *reply, size_t cap)
{
	uint8_t cookie[PAP_COOKIE_LEN];
	struct pap_writer w;
	int n;

	if (pap_cookie(g->cookie_secret[0], src, sport, m->pubkey,
		       now / GW_COOKIE_SLOT_SECS, cookie))
		return 0;
	pap_begin(&w, reply, g->req_len < cap ? g->req_len : cap, PAP_ERROR, m->xid, 0, 0);
	pap_put_u16(&w, PAP_P_ERROR_CODE, PAP_E_COOKIE);
	pap_put(&w, PAP_P_COOKIE, cookie, PAP_COOKIE_LEN);
	n = pap_finish(&w, NULL, 0);
	if (n <= 0)
		return 0;
	g->stats.cookies++;
	g->stats.errors[PAP_E_COOKIE]++;
	return (size_t)n;
}

/* A token bucket per source address; the least recently seen is reused. */
static bool source_allows(struct gw *g, uint32_t src, uint64_t now)
{
	uint64_t burst = (uint64_t)g->cfg.register_burst * 1000;
	struct gw_src *e = NULL, *lru = &g->src[0];

	if (!g->cfg.register_rate)
		return true;
	for (unsigned int i = 0; i < GW_SRC_SLOTS && !e; i++) {
		if (g->src[i].addr == src && g->src[i].last)
			e = &g->src[i];
		else if (g->src[i].last < lru->last)
			lru = &g->src[i];
	}
	if (!e) {
		e = lru;
		*e = (struct gw_src){ .addr = src, .mtokens = (uint32_t)burst, .last = now };
	}
	if (now > e->last) {
		uint64_t t = e->mtokens + (now - e->last) * g->cfg.register_rate * 1000;

		e->mtokens = (uint32_t)(t > burst ? burst : t);
	}
	e->last = now ? now : 1;
	if (e->mtokens < 1000)
		return false;
	e->mtokens -= 1000;
	return true;
}

static struct gw_token *token_find(struct gw *g, uint32_t id)
{
	for (size_t i = 0; i < g->n_tokens; i++)
		if (g->tokens[i].id == id)
			return &g->tokens[i];
	return NULL;
}

static bool token_live(const struct gw_token *t, uint64_t now)
{
	return !t->expires || t->expires > now;
}

static void token_remove(struct gw *g, struct gw_token *t)
{
	OPENSSL_cleanse(t->secret, sizeof(t->secret));
	*t = g->tokens[--g->n_tokens];
	g->tokens_changed = true;
}

/*
 * Who may register: with TOKEN_ID, the holder of that live token; else with
 * a site key, its holder; else anyone unless tokens are required. *salt is
 * the key the secret's derivation is salted with. 0 or the error code.
 */
static int register_auth(struct gw *g, const uint8_t *req, const struct pap_msg *m,
			 uint64_t now, struct gw_token **tok, const uint8_t **salt,
			 size_t *salt_len)
{
	*tok = NULL;
	*salt = NULL;
	*salt_len = 0;
	if (m->present & PAP_BIT(PAP_P_TOKEN_ID)) {
		struct gw_token *t = token_find(g, m->token_id);

		if (!t || !token_live(t, now) || !pap_verify(req, m, t->secret, GW_TOKEN_LEN))
			return PAP_E_SITE_KEY;
		*tok = t;
		*salt = t->secret;
		*salt_len = GW_TOKEN_LEN;
		return 0;
	}
	if (g->cfg.site_key_len) {
		if (!pap_verify(req, m, g->cfg.site_key, g->cfg.site_key_len))
			return PAP_E_SITE_KEY;
		*salt = g->cfg.site_key;
		*salt_len = g->cfg.site_key_len;
		return 0;
	}
	return g->cfg.require_token ? PAP_E_SITE_KEY : 0;
}

static int sign_reply(struct gw *g, struct pap_writer *w, const struct host *h,
		      const uint8_t gw_pub[PAP_KEY_LEN], uint32_t xid)
{
	struct pap_msg r = {
		.xid = xid, .client_id = h->client_id, .lease = h->lease_secs,
		.n_globals = 1, .globals = { h->global },
	};
	uint8_t sig[PAP_GW_SIG_LEN];

	if (!g->has_sign_key)
		return 0;
	memcpy(r.pubkey, gw_pub, PAP_KEY_LEN);
	if (pap_sign_register_reply(g->sign_seed, &r, h->addr, h->host_pub, sig))
		return -EIO;
	pap_put(w, PAP_P_GW_SIG, sig, sizeof(sig));
	return 0;
}

/*
 * REGISTER: a retransmission gets its cached reply (only at the address it
 * came from); otherwise, in this order and before anything is allocated:
 * the cookie (return routability), the source's rate, the token or site
 * key, the tables' room. The secret is bound to src (Hi).
 */
static size_t handle_register(struct gw *g, const uint8_t *req,
			      const struct pap_msg *m, uint32_t src, uint16_t sport,
			      uint8_t *reply, size_t cap)
{
	uint8_t gw_priv[PAP_KEY_LEN], gw_pub[PAP_KEY_LEN];
	const uint8_t *salt;
	struct gw_token *tok;
	struct pap_writer w;
	struct gw_addr *pa;
	struct host *h;
	uint64_t now = gw_now(g);
	size_t salt_len;
	int n, code;

	/* The same REGISTER again (its reply was lost): the same answer. */
	h = find_by_pubkey(g, m->pubkey, src);
	if (h) {
		if (h->last_seq || h->last_xid != m->xid || !h->reply)
			return reply_error(g, m, PAP_E_REPLAY, NULL, 0, reply, cap);
		g->stats.retransmits++;
		memcpy(reply, h->reply, h->reply_len);
		return h->reply_len;
	}
	if (!cookie_ok(g, m, src, sport, now))
		return cookie_reply(g, m, src, sport, now, reply, cap);
	if (!source_allows(g, src, now))
		return reply_error(g, m, PAP_E_RATE_LIMITED, NULL, 0, reply, cap);
	code = register_auth(g, req, m, now, &tok, &salt, &salt_len);
	if (code)
		return reply_error(g, m, code, NULL, 0, reply, cap);
	if (g->n_hosts >= g->cfg.max_hosts)
		return reply_error(g, m, PAP_E_TOO_MANY_HOSTS, NULL, 0, reply, cap);
	if (g->cfg.max_hosts_per_source && hosts_from(g, src) >= g->cfg.max_hosts_per_source)
		return reply_error(g, m, PAP_E_RATE_LIMITED, NULL, 0, reply, cap);
	/* Ids are never reused: at the top of the space, no more registrations. */
	if (g->next_client_id == UINT32_MAX || !g->next_client_id)
		return reply_error(g, m, PAP_E_NO_RESOURCES, NULL, 0, reply, cap);
	pa = choose_global(g, m);
	if (!pa)
		return reply_error(g, m, PAP_E_NO_RESOURCES, NULL, 0, reply, cap);

	h = calloc(1, sizeof(*h));
	if (!h)
		return reply_error(g, m, PAP_E_INTERNAL, NULL, 0, reply, cap);
	h->client_id = g->next_client_id;
	h->addr = src;
	h->global = pa->addr;
	memcpy(h->host_pub, m->pubkey, PAP_KEY_LEN);
	h->lease_secs = lease_grant(g, m, tok && tok->lease_hint ? tok->lease_hint :
					  g->cfg.lease_secs);
	h->lease_expires = now + h->lease_secs;
	h->last_xid = m->xid;

	if (pap_x25519_keygen(gw_priv, gw_pub) ||
	    pap_derive_secret(gw_priv, m->pubkey, m->pubkey, gw_pub, h->client_id,
			      src, salt, salt_len, h->secret))
		goto internal;

	pap_begin(&w, reply, cap, PAP_REGISTER_REPLY, m->xid, h->client_id, 0);
	pap_put_addr(&w, PAP_P_GLOBAL_ADDR, h->global);
	pap_put_u32(&w, PAP_P_LEASE, h->lease_secs);
	pap_put(&w, PAP_P_PUBKEY, gw_pub, PAP_KEY_LEN);
	put_ext_mtu(g, &w, h);
	if (sign_reply(g, &w, h, gw_pub, m->xid))
		goto internal;
	n = pap_finish(&w, h->secret, PAP_KEY_LEN);
	if (n <= 0 || host_set_reply(h, reply, (uint16_t)n) || host_insert(g, h))
		goto internal;
	OPENSSL_cleanse(gw_priv, sizeof(gw_priv));

	if (tok) {
		g->tokens_changed = true;
		tok->used++;
		if (tok->uses_left && !--tok->uses_left)
			token_remove(g, tok);	/* one-time: used up */
	}
	g->next_client_id++;
	log_meta(g);
	log_host(g, h);
	notify(g, NULL, h);
	g->stats.registered++;
	{
		char hi[INET_ADDRSTRLEN], gl[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &src, hi, sizeof(hi));
		inet_ntop(AF_INET, &h->global, gl, sizeof(gl));
		log_info("host %u registered from %s on %s, lease %us", h->client_id,
			 hi, gl, h->lease_secs);
	}
	return (size_t)n;

internal:
	OPENSSL_cleanse(gw_priv, sizeof(gw_priv));
	host_release(h);
	free(h);
	return reply_error(g, m, PAP_E_INTERNAL, NULL, 0, reply, cap);
}

static bool is_request(uint8_t type)
{
	return type >= PAP_REGISTER && type <= PAP_TYPE_MAX && !(type & 1);
}

size_t gw_handle(struct gw *g, const uint8_t *req, size_t len, uint32_t src,
		 uint16_t src_port, uint8_t *reply, size_t cap)
{
	struct pap_msg m;
	struct pap_writer w;
	struct host *h, before;
	struct gw_req r;
	int rc, n;

	g->stats.datagrams++;
	g->req_len = len;
	rc = pap_decode(req, len, &m);
	/* Never answer what has no header, nor replies/ERRORs (no ping-pong). */
	if (rc == -PAP_E_TRUNCATED_HEADER || (!is_request(m.type) && m.type != 0 &&
					      m.type <= PAP_TYPE_MAX)) {
		g->stats.silent++;
		return 0;
	}
	if (rc < 0) {
		n = (int)reply_error(g, &m, -rc, NULL, 0, reply, cap);
		goto out;
	}
	g->stats.requests[m.type]++;

	if (m.type == PAP_REGISTER) {
		n = (int)handle_register(g, req, &m, src, src_port, reply, cap);
		goto out;
	}

	h = (struct host *)gw_find_host(g, m.client_id);
	r.now = gw_now(g);
	if (h && h->lease_expires <= r.now) {
		/* Expired but not swept yet: the same answer as after the sweep. */
		g->stats.expired++;
		destroy_host(g, h, "lease expired", ALOG_EXPIRE);
		h = NULL;
	}
	if (!h) {
		n = (int)reply_error(g, &m, PAP_E_REGISTER_FIRST, NULL, 0, reply, cap);
		goto out;
	}
	/* A host speaks from the address it registered from and was bound to:
	 * from anywhere else (a relay, a spoofer, a moved host, or a host whose
	 * id a gateway that lost its state gave to another) the id is unknown:
	 * REGISTER_FIRST, unsigned and no bigger than the request, never the
	 * cached reply. */
	if (src != h->addr) {
		g->stats.wrong_source++;
		n = (int)reply_error(g, &m, PAP_E_REGISTER_FIRST, NULL, 0, reply, cap);
		goto out;
	}
	if (!pap_verify(req, &m, h->secret, PAP_KEY_LEN)) {
		n = (int)reply_error(g, &m, PAP_E_AUTH_FAILED, NULL, 0, reply, cap);
		goto out;
	}
	if (m.seq <= h->last_seq) {
		/* The same datagram again gets the same answer; anything else is a replay. */
		if (m.seq == h->last_seq && m.xid == h->last_xid && h->reply &&
		    !CRYPTO_memcmp(req + m.auth_off, h->last_mac, PAP_MAC_LEN)) {
			g->stats.retransmits++;
			memcpy(reply, h->reply, h->reply_len);
			n = h->reply_len;
		} else {
			n = (int)reply_error(g, &m, PAP_E_REPLAY, h->secret,
					     PAP_KEY_LEN, reply, cap);
		}
		goto out;
	}

	share_snapshot(&before, h);
	r.m = &m;
	r.h = h;
	r.w = &w;
	r.synced = false;
	pap_begin(&w, reply, cap, m.type + 1, m.xid, m.client_id, m.seq);
	rc = handlers[m.type](g, &r);
	if (rc == PAP_OK && m.type == PAP_DEREGISTER) {
		n = pap_finish(&w, h->secret, PAP_KEY_LEN);
		g->stats.deregistered++;
		log_info("host %u deregistered", h->client_id);
		destroy_host(g, h, "deregistered", ALOG_DEREGISTER);
		goto out;
	}
	/* PORT, FREE: what the certificate names is no longer the share. */
	if (rc == PAP_OK && !ports_equal(&before, h))
		revoke_cert(g, h, "its ports changed");
	if (rc == PAP_OK)
		alloc_log_change(g->alog, r.now, &before, h);
	if (rc == PAP_OK)
		n = pap_finish(&w, h->secret, PAP_KEY_LEN);
	else
		n = (int)reply_error(g, &m, rc, h->secret, PAP_KEY_LEN, reply, cap);
	if (n <= 0)
		n = (int)reply_error(g, &m, PAP_E_INTERNAL, h->secret,
				     PAP_KEY_LEN, reply, cap);

	/* The request is consumed either way: remember it and its answer. */
	h->last_seq = m.seq;
	h->last_xid = m.xid;
	memcpy(h->last_mac, req + m.auth_off, PAP_MAC_LEN);
	if (n > 0 && host_set_reply(h, reply, (uint16_t)n))
		n = 0;
	log_host(g, h);
	if (!r.synced)
		notify(g, &before, h);
out:
	if (n > 0)
		g->stats.replies++;
	else
		g->stats.silent++;
	return n > 0 ? (size_t)n : 0;
}

/* The allocation log first: a crash between the two leaves a line for a
 * change the state lacks, never a change without its line. */
int gw_commit(struct gw *g)
{
	int rc = alloc_log_commit(g->alog);

	if (rc)
		log_err("allocation log %s: %s", alloc_log_path(g->alog), strerror(-rc));
	return rc ? rc : g->store ? state_commit(g->store) : 0;
}

void gw_set_alloc_log(struct gw *g, struct alloc_log *l)
{
	g->alog = l;
}

/* Registered, and never one signed request since: nobody holds its secret
 * (a forged or relayed REGISTER) or the host died at once. */
static bool never_used(const struct gw *g, const struct host *h, uint64_t now)
{
	uint64_t since = h->lease_expires - h->lease_secs;

	return g->cfg.register_timeout_secs && !h->last_seq &&
	       now >= since + g->cfg.register_timeout_secs;
}

unsigned int gw_expire(struct gw *g)
{
	uint64_t now = gw_now(g);
	unsigned int n = 0;

	for (size_t i = 0; i < g->n_hosts;) {
		struct host *h = g->hosts[i];

		if (h->lease_expires > now && !never_used(g, h, now)) {
			i++;
			continue;
		}
		if (h->lease_expires > now) {
			log_info("host %u: no signed request in %us since REGISTER, reclaimed",
				 h->client_id, g->cfg.register_timeout_secs);
			destroy_host(g, h, "registration never used", ALOG_RECLAIM);
			g->stats.reclaimed++;
			continue;
		}
		log_info("host %u: lease expired, its share is free again", h->client_id);
		destroy_host(g, h, "lease expired", ALOG_EXPIRE);
		n++;
	}
	for (size_t i = 0; i < g->n_tokens;) {
		if (token_live(&g->tokens[i], now)) {
			i++;
			continue;
		}
		log_info("enrolment token %u expired", g->tokens[i].id);
		token_remove(g, &g->tokens[i]);
	}
	g->stats.expired += n;
	return n;
}

int gw_drop_host(struct gw *g, uint32_t client_id)
{
	struct host *h = (struct host *)gw_find_host(g, client_id);

	if (!h)
		return -ENOENT;
	log_info("host %u dropped by the administrator", client_id);
	destroy_host(g, h, "freed by the administrator", ALOG_ADMIN_FREE);
	return 0;
}

void gw_state_meta(const struct gw *g, struct state_meta *m)
{
	memset(m, 0, sizeof(*m));
	m->next_client_id = g->next_client_id;
	m->global = g->cfg.global;
	m->n_pool = (uint8_t)g->n_pool;
	for (size_t i = 0; i < g->n_pool; i++)
		m->pool[i] = g->pool[i].addr;
}

int gw_compact(struct gw *g, bool force)
{
	struct state_meta meta;

	gw_state_meta(g, &meta);
	if (!g->store || (!force && !state_wants_compaction(g->store)))
		return 0;
	return state_compact(g->store, &meta, (const struct host *const *)g->hosts,
			     g->n_hosts);
}

/* ---- set-up --------------------------------------------------------- */

/* Zero in a gw_config (a test's, an old caller's) is the default. */
static void cfg_defaults(struct gw_config *c)
{
	if (!c->sa_budget)
		c->sa_budget = GW_DEFAULT_SA_BUDGET;
	if (!c->sa_table)
		c->sa_table = XDNAT_MAX_SA;
	if (!c->cert_rate)
		c->cert_rate = GW_DEFAULT_CERT_RATE;
	if (!c->n_pool) {
		c->pool[0] = c->global;
		c->n_pool = 1;
	}
	c->global = c->pool[0];
}

/* At most GW_MAX_POOL addresses, none twice, none 0.0.0.0. */
static bool pool_valid(const struct gw_config *c)
{
	if (c->n_pool > GW_MAX_POOL)
		return false;
	for (unsigned int i = 0; i < c->n_pool; i++) {
		if (!c->pool[i] && c->n_pool > 1)
			return false;
		for (unsigned int j = 0; j < i; j++)
			if (c->pool[i] == c->pool[j])
				return false;
	}
	return true;
}

int gw_new(const struct gw_config *cfg, struct state_store *store,
	   gw_clock_fn clock, void *clock_ctx, struct gw **out)
{
	struct gw *g = calloc(1, sizeof(*g));

	if (!g)
		return -ENOMEM;
	if (!pool_valid(cfg)) {
		free(g);
		return -EINVAL;
	}
	g->cfg = *cfg;
	cfg_defaults(&g->cfg);
	g->store = store;
	g->clock = clock;
	g->clock_ctx = clock_ctx;
	g->next_client_id = 1;
	g->next_token_id = 1;
	g->n_pool = g->cfg.n_pool;
	for (size_t i = 0; i < g->n_pool; i++) {
		g->pool[i].addr = g->cfg.pool[i];
		g->pool[i].ports = port_alloc_new(cfg->port_lo, cfg->port_hi);
		if (!g->pool[i].ports) {
			gw_free(g);
			return -EINVAL;
		}
	}
	g->spis = spi_alloc_new(cfg->spi_lo, cfg->spi_hi);
	if (RAND_bytes(g->cookie_secret[0], PAP_KEY_LEN) != 1 ||
	    RAND_bytes(g->cookie_secret[1], PAP_KEY_LEN) != 1) {
		gw_free(g);
		return -EIO;
	}
	if (!g->spis) {
		gw_free(g);
		return -EINVAL;
	}
	*out = g;
	return 0;
}

void gw_free(struct gw *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->n_hosts; i++) {
		host_release(g->hosts[i]);
		OPENSSL_cleanse(g->hosts[i]->secret, PAP_KEY_LEN);
		free(g->hosts[i]);
	}
	free(g->hosts);
	for (size_t i = 0; i < g->n_tokens; i++)
		OPENSSL_cleanse(g->tokens[i].secret, GW_TOKEN_LEN);
	free(g->tokens);
	OPENSSL_cleanse(g->cookie_secret, sizeof(g->cookie_secret));
	OPENSSL_cleanse(g->sign_seed, sizeof(g->sign_seed));
	free(g->cert_rate);
	for (size_t i = 0; i < g->n_pool; i++)
		port_alloc_free_all(g->pool[i].ports);
	spi_alloc_free_all(g->spis);
	free(g);
}

void gw_set_hooks(struct gw *g, const struct gw_hooks *hooks)
{
	g->hooks = *hooks;
}

void gw_set_ca(struct gw *g, struct ca *ca)
{
	g->ca = ca;
}

void gw_rotate_cookie_secret(struct gw *g)
{
	uint8_t next[PAP_KEY_LEN];

	if (RAND_bytes(next, sizeof(next)) != 1)
		return;		/* keep the current one: still unguessable */
	memcpy(g->cookie_secret[1], g->cookie_secret[0], PAP_KEY_LEN);
	memcpy(g->cookie_secret[0], next, PAP_KEY_LEN);
	OPENSSL_cleanse(next, sizeof(next));
}

int gw_set_sign_key(struct gw *g, const uint8_t seed[PAP_SIG_KEY_LEN])
{
	uint8_t pub[PAP_SIG_KEY_LEN];

	if (pap_ed25519_pub(seed, pub))
		return -EINVAL;
	memcpy(g->sign_seed, seed, PAP_SIG_KEY_LEN);
	g->has_sign_key = true;
	return 0;
}

/* ---- enrolment tokens ------------------------------------------------ */

int gw_token_add(struct gw *g, const struct gw_token *t)
{
	struct gw_token *n;

	if (!t->id || token_find(g, t->id))
		return -EEXIST;
	if (g->n_tokens >= GW_MAX_TOKENS)
		return -ENOSPC;
	n = realloc(g->tokens, (g->n_tokens + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	g->tokens = n;
	g->tokens[g->n_tokens++] = *t;
	g->tokens_changed = true;
	if (t->id >= g->next_token_id)
		g->next_token_id = t->id + 1;
	return 0;
}

int gw_token_issue(struct gw *g, uint32_t uses, uint32_t ttl_secs,
		   uint32_t lease_hint, struct gw_token *t)
{
	*t = (struct gw_token){
		.id = g->next_token_id,
		.expires = ttl_secs ? gw_now(g) + ttl_secs : 0,
		.uses_left = uses,
		.lease_hint = lease_hint,
	};
	if (!t->id || t->id == UINT32_MAX)
		return -ENOSPC;
	if (RAND_bytes(t->secret, sizeof(t->secret)) != 1)
		return -EIO;
	return gw_token_add(g, t);
}

int gw_token_revoke(struct gw *g, uint32_t id)
{
	struct gw_token *t = token_find(g, id);

	if (!t)
		return -ENOENT;
	token_remove(g, t);
	return 0;
}

bool gw_tokens_take_changed(struct gw *g)
{
	bool changed = g->tokens_changed;

	g->tokens_changed = false;
	return changed;
}

size_t gw_token_count(const struct gw *g)
{
	return g->n_tokens;
}

const struct gw_token *gw_token_at(const struct gw *g, size_t i)
{
	return i < g->n_tokens ? &g->tokens[i] : NULL;
}

/* What the tables and maps were built for: the addresses, the ranges and
 * the SA map's size need a restart. */
#define KEPT(m)	{ offsetof(struct gw_config, m), sizeof(((struct gw_config *)0)->m) }
static const struct { size_t off, size; } kept[] = {
	KEPT(global), KEPT(pool), KEPT(n_pool), KEPT(port_lo), KEPT(port_hi), KEPT(spi_lo),
	KEPT(spi_hi), KEPT(sa_table),
};

bool gw_config_kept(size_t off)
{
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		if (off >= kept[i].off && off < kept[i].off + kept[i].size)
			return true;
	return false;
}

void gw_reconfigure(struct gw *g, const struct gw_config *cfg)
{
	struct gw_config keep = g->cfg;

	/* everything applies at once but what it was built for */
	g->cfg = *cfg;
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		memcpy((char *)&g->cfg + kept[i].off, (const char *)&keep + kept[i].off,
		       kept[i].size);
	cfg_defaults(&g->cfg);
}

static int reserve_share(struct gw *g, const struct host *h, char *errbuf,
			 size_t errlen)
{
	for (unsigned int i = 0; i < h->n_ports; i++)
		if (h->ports[i].global != h->global ||
		    port_alloc_reserve(pool_of(g, h->global)->ports, h->ports[i].first,
				       h->ports[i].last)) {
			snprintf(errbuf, errlen,
				 "host %u holds ports %u-%u, outside --ports or held twice",
				 h->client_id, h->ports[i].first, h->ports[i].last);
			return -EINVAL;
		}
	for (unsigned int i = 0; i < h->n_spis; i++)
		if (spi_alloc_reserve(g->spis, h->spis[i].first,
				      h->spis[i].last - h->spis[i].first + 1)) {
			snprintf(errbuf, errlen,
				 "host %u holds SPIs %u-%u, outside --spis or held twice",
				 h->client_id, h->spis[i].first, h->spis[i].last);
			return -EINVAL;
		}
	return 0;
}

/* Hosts of the image on an address no longer in the pool: refused, each
 * named with its address, so the operator frees them or keeps the address. */
static int pool_holders(const struct gw *g, const struct state_image *img,
			char *errbuf, size_t errlen)
{
	size_t off = 0, n = 0;

	for (size_t i = 0; i < img->n_hosts; i++) {
		const struct host *h = &img->hosts[i];
		char gl[INET_ADDRSTRLEN];

		if (gw_pool_index(g, h->global) >= 0)
			continue;
		inet_ntop(AF_INET, &h->global, gl, sizeof(gl));
		if (!n++)
			off = (size_t)snprintf(errbuf, errlen, "the state has holders of global "
					       "addresses not in the pool (--global): ");
		if (off < errlen)
			off += (size_t)snprintf(errbuf + off, errlen - off, "%shost %u on %s",
						n > 1 ? ", " : "", h->client_id, gl);
	}
	return n ? -EINVAL : 0;
}

int gw_restore(struct gw *g, const struct state_image *img, char *errbuf,
	       size_t errlen)
{
	int err = pool_holders(g, img, errbuf, errlen);

	if (err)
		return err;
	if (img->meta.next_client_id > g->next_client_id)
		g->next_client_id = img->meta.next_client_id;
	for (size_t i = 0; i < img->n_hosts; i++) {
		struct host *h = calloc(1, sizeof(*h));

		if (!h)
			return -ENOMEM;
		err = host_copy(h, &img->hosts[i]);
		if (!err)
			err = reserve_share(g, h, errbuf, errlen);
		if (!err)
			err = host_insert(g, h);
		if (err) {
			host_release(h);
			free(h);
			return err;
		}
		if (h->client_id >= g->next_client_id)
			g->next_client_id = h->client_id + 1;
		notify(g, NULL, h);
	}
	return 0;
}

const struct gw_stats *gw_get_stats(const struct gw *g)
{
	return &g->stats;
}

void gw_set_stats(struct gw *g, const struct gw_stats *s)
{
	g->stats = *s;
}

const struct gw_config *gw_get_config(const struct gw *g)
{
	return &g->cfg;
}

void gw_set_ext_mtu(struct gw *g, unsigned int mtu)
{
	uint16_t m = mtu > UINT16_MAX ? UINT16_MAX : (uint16_t)mtu;

	/* below the IPv4 minimum is no MTU a host could use */
	if (m && m < PAP_MIN_MTU)
		m = 0;
	if (m != g->ext_mtu)
		log_info("external MTU %u: told to hosts in REGISTER and QUERY replies", m);
	g->ext_mtu = m;
}

uint16_t gw_ext_mtu(const struct gw *g)
{
	return g->ext_mtu;
}

uint32_t gw_ports_free(const struct gw *g)
{
	uint32_t n = 0;

	for (size_t i = 0; i < g->n_pool; i++)
		n += port_alloc_free_count(g->pool[i].ports);
	return n;
}

size_t gw_pool_count(const struct gw *g)
{
	return g->n_pool;
}

uint32_t gw_pool_at(const struct gw *g, size_t i)
{
	return i < g->n_pool ? g->pool[i].addr : 0;
}

uint32_t gw_pool_ports_free(const struct gw *g, size_t i)
{
	return i < g->n_pool ? port_alloc_free_count(g->pool[i].ports) : 0;
}

size_t gw_pool_hosts(const struct gw *g, size_t i)
{
	return i < g->n_pool ? g->pool[i].hosts : 0;
}

uint64_t gw_spis_free(const struct gw *g)
{
	return spi_alloc_free_count(g->spis);
}

void gw_count_foreign(struct gw *g)
{
	g->stats.foreign++;
}

uint64_t *gw_send_errors(struct gw *g)
{
	return &g->stats.send_errors;
}
