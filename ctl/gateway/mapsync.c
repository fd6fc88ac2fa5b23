/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The map sync (mapsync.h): the share maps (hosts, ports, SPI blocks, SAs)
 * are derived from host structs through one "entry list" per map: a sorted
 * list of (key, value) pairs. Reconcile compares the list of every host with
 * the map; a host change compares the list of the old host with that of the
 * new one. Failures are counted (mapsync_errors) and logged once per map
 * and sync, never once per entry.
 *
 * Every value of a host carries its MAC (gw_ext's next hop), so a list is
 * derived from a host and a MAC. mapsync remembers, per host (client id),
 * the MAC its entries were last written with: a host change lists the old
 * host with that MAC and the new one with the MAC known now, and a MAC change
 * (mapsync_update_macs) is the same diff with the host unchanged.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lib/log.h"
#include "gateway/mapsync.h"
#include "xdnat.h"

/* One map entry; keys and values are zero beyond their size, so whole-struct
 * comparisons work for every map. */
struct map_entry {
	uint32_t key[2];
	uint32_t val[5];
};

_Static_assert(sizeof(struct xdnat_host) <= sizeof(((struct map_entry *)0)->val) &&
	       sizeof(struct xdnat_owner) <= sizeof(((struct map_entry *)0)->val) &&
	       sizeof(struct xdnat_port_owner) <= sizeof(((struct map_entry *)0)->val),
	       "every map value fits an entry");

/* The MAC every entry of a host was last written with; no record: zero. */
struct mapsync_mac {
	uint32_t client_id;
	uint8_t mac[6];
	uint16_t pad;
};

struct entry_list {
	struct map_entry *e;
	size_t n, cap;
	size_t limit;		/* the map's max_entries: more cannot fit anyway */
	size_t dropped;		/* entries beyond limit or memory */
	bool nomem;
};

struct sync_tally {
	size_t added, changed, removed, failed;
	int first_err;
};

typedef void (*emit_fn)(const struct host *h, const uint8_t mac[6],
			struct entry_list *l);

struct sync_desc {
	const char *name;
	uint32_t key_size, val_size;
	/* leading value bytes that say whose an entry is; the rest (a MAC, the
	 * NAT-T flag) is derived and may lag behind, it never stops a removal */
	uint32_t owner_size;
	bool array;		/* entries cannot be deleted: zero the value */
	emit_fn emit;		/* what one host puts in the map */
};

static const uint32_t zero_val[5];	/* an empty array slot, any map */
static const uint8_t zero_mac[6];

/* ---- entry lists ------------------------------------------------------ */

static size_t list_room(const struct entry_list *l)
{
	return l->n < l->limit ? l->limit - l->n : 0;
}

static void list_add(struct entry_list *l, const void *key, size_t ks,
		     const void *val, size_t vs)
{
	struct map_entry *e;

	if (!list_room(l)) {
		l->dropped++;
		return;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;

		e = realloc(l->e, cap * sizeof(*e));
		if (!e) {
			l->dropped++;
			l->nomem = true;
			return;
		}
		l->e = e;
		l->cap = cap;
	}
	e = &l->e[l->n++];
	memset(e, 0, sizeof(*e));
	memcpy(e->key, key, ks);
	if (val)
		memcpy(e->val, val, vs);
}

static int entry_cmp(const void *a, const void *b)
{
	const struct map_entry *x = a, *y = b;
	int c = memcmp(x->key, y->key, sizeof(x->key));

	return c ? c : memcmp(x->val, y->val, sizeof(x->val));
}

static int key_cmp(const void *a, const void *b)
{
	const struct map_entry *x = a, *y = b;

	return memcmp(x->key, y->key, sizeof(x->key));
}

/* Sort by key and keep one entry per key: the greatest value, which for the
 * hosts map is the newest client id of a re-registered address. */
static void list_sort(struct entry_list *l)
{
	size_t out = 0;

	if (!l->n)
		return;
	qsort(l->e, l->n, sizeof(*l->e), entry_cmp);
	for (size_t i = 1; i < l->n; i++) {
		if (key_cmp(&l->e[i], &l->e[out]))
			out++;
		l->e[out] = l->e[i];
	}
	l->n = out + 1;
}

static bool list_has_key(const struct entry_list *l, const uint32_t key[2])
{
	struct map_entry k = { .key = { key[0], key[1] } };

	return l->n && bsearch(&k, l->e, l->n, sizeof(*l->e), key_cmp);
}

static void list_free(struct entry_list *l)
{
	free(l->e);
	*l = (struct entry_list){ 0 };
}

/* ---- what a host puts in each map ---------------------------------------- */

static void emit_hosts(const struct host *h, const uint8_t mac[6], struct entry_list *l)
{
	struct xdnat_host v = { .client_id = h->client_id };

	memcpy(v.mac, mac, sizeof(v.mac));
	list_add(l, &h->addr, sizeof(h->addr), &v, sizeof(v));
}

static void emit_ports(const struct host *h, const uint8_t mac[6], struct entry_list *l)
{
	for (unsigned int i = 0; i < h->n_ports; i++) {
		for (uint32_t p = h->ports[i].first; p <= h->ports[i].last; p++) {
			struct xdnat_port_owner v = {
				.owner.client_id = h->client_id,
				.owner.host_addr = h->addr,
				/* natt_port 0 (none) never equals a held port */
				.flags = p == h->natt_port ? XDNAT_PORT_NATT : 0,
			};

			memcpy(v.owner.mac, mac, sizeof(v.owner.mac));
			list_add(l, &p, sizeof(p), &v, sizeof(v));
		}
	}
}

/* The value of a host's SAs and SPI granules. */
static struct xdnat_owner owner_of(const struct host *h, const uint8_t mac[6])
{
	struct xdnat_owner v = { .client_id = h->client_id, .host_addr = h->addr };

	memcpy(v.mac, mac, sizeof(v.mac));
	return v;
}

/* One entry per granule of each block: blocks are at least a granule and
 * aligned to their size (gateway.c), so no granule is shared by two hosts.
 * A smaller block restored from an older state still gets its granule. */
static void emit_spiblk(const struct host *h, const uint8_t mac[6], struct entry_list *l)
{
	struct xdnat_owner v = owner_of(h, mac);

	for (unsigned int i = 0; i < h->n_spis; i++) {
		uint64_t a = h->spis[i].first & ~(uint64_t)(XDNAT_SPI_GRANULE - 1);
		uint64_t n = ((uint64_t)h->spis[i].last - a) / XDNAT_SPI_GRANULE + 1;
		uint64_t fit = n < list_room(l) ? n : list_room(l);

		for (uint64_t g = 0; g < fit; g++) {
			struct xdnat_spiblk_key k = {
				.spi = htonl((uint32_t)(a + g * XDNAT_SPI_GRANULE)),
			};

			list_add(l, &k, sizeof(k), &v, sizeof(v));
		}
		l->dropped += n - fit;	/* a huge block must not loop for ever */
	}
}

static void emit_sa(const struct host *h, const uint8_t mac[6], struct entry_list *l)
{
	struct xdnat_owner v = owner_of(h, mac);

	for (unsigned int i = 0; i < h->n_sas; i++) {
		const struct pap_sa *sa = &h->sas[i];
		uint64_t n = (uint64_t)sa->spi_last - sa->spi_first + 1;
		uint64_t fit = n < list_room(l) ? n : list_room(l);

		for (uint64_t s = 0; s < fit; s++) {
			struct xdnat_sa_key k = {
				.spi = htonl((uint32_t)(sa->spi_first + s)),
				.peer = sa->peer,
			};

			list_add(l, &k, sizeof(k), &v, sizeof(v));
		}
		l->dropped += n - fit;	/* a huge range must not loop for ever */
	}
}

static const struct sync_desc sync_maps[MAPSYNC_N] = {
	[MAPSYNC_HOSTS]	= { "xdnat_hosts", 4, sizeof(struct xdnat_host),
			    sizeof(((struct xdnat_host *)0)->client_id), false, emit_hosts },
	[MAPSYNC_PORTS]	= { "xdnat_ports", 4, sizeof(struct xdnat_port_owner),
			    offsetof(struct xdnat_port_owner, owner.mac), true, emit_ports },
	[MAPSYNC_SPIBLK]	= { "xdnat_spiblk", sizeof(struct xdnat_spiblk_key),
			    sizeof(struct xdnat_owner), offsetof(struct xdnat_owner, mac), false,
			    emit_spiblk },
	[MAPSYNC_SA]	= { "xdnat_sa", sizeof(struct xdnat_sa_key),
			    sizeof(struct xdnat_owner), offsetof(struct xdnat_owner, mac), false,
			    emit_sa },
	[MAPSYNC_TX]	= { "xdnat_tx", 4, 4, 4, false, NULL },
};

/* ---- map operations ------------------------------------------------------- */

static void tally_fail(struct sync_tally *t, int err)
{
	if (!t->failed++)
		t->first_err = err;
}

static void map_put(struct mapsync *ms, enum mapsync_map m, const struct map_entry *e,
		    struct sync_tally *t)
{
	if (bpf_map_update_elem(ms->fd[m], e->key, e->val, BPF_ANY))
		tally_fail(t, errno);
}

/* Remove key; with expect, only while the map still holds that value (the
 * entry may be another host's by now, e.g. a re-registered address). */
static void map_drop(struct mapsync *ms, enum mapsync_map m, const uint32_t key[2],
		     const uint32_t *expect, struct sync_tally *t)
{
	uint32_t cur[5] = { 0 };
	int fd = ms->fd[m];

	if (bpf_map_lookup_elem(fd, key, cur)) {
		if (errno != ENOENT)
			tally_fail(t, errno);
		return;
	}
	if (expect && memcmp(cur, expect, sync_maps[m].owner_size))
		return;
	if (sync_maps[m].array) {
		if (!memcmp(cur, zero_val, sizeof(cur)))
			return;
		if (bpf_map_update_elem(fd, key, zero_val, BPF_ANY))
			return tally_fail(t, errno);
	} else if (bpf_map_delete_elem(fd, key) && errno != ENOENT) {
		return tally_fail(t, errno);
	}
	t->removed++;
}

/* Counted and logged once per map and sync: never a line per entry. */
static void report(struct mapsync *ms, enum mapsync_map m, const struct sync_tally *t,
		   const struct entry_list *want, const char *what)
{
	const char *name = sync_maps[m].name;

	ms->errors += t->failed + want->dropped;
	if (t->failed)
		log_err("%s: %zu update(s) failed for %s, the first: %s", name,
			t->failed, what, strerror(t->first_err));
	if (want->nomem)
		log_err("%s: out of memory listing the entries for %s", name, what);
	else if (want->dropped)
		log_err("%s: %zu entries for %s do not fit (max_entries %u)%s", name,
			want->dropped, what, ms->max_entries[m],
			m == MAPSYNC_SA ? ": raise --sa-entries" : "");
}

/* Make map m hold exactly want (sorted), in place: the programs keep using it. */
static int reconcile_map(struct mapsync *ms, enum mapsync_map m,
			 const struct entry_list *want, struct sync_tally *t)
{
	struct entry_list stale = { .limit = SIZE_MAX };
	struct map_entry cur = { 0 }, next = { 0 };
	const void *prev = NULL;
	int fd = ms->fd[m], err = 0;

	/* Collect first: deleting while walking restarts a hash walk. */
	while (!bpf_map_get_next_key(fd, prev, next.key)) {
		if (!list_has_key(want, next.key))
			list_add(&stale, next.key, sizeof(next.key), NULL, 0);
		cur = next;
		prev = cur.key;
	}
	if (errno != ENOENT)
		err = -errno;
	else if (stale.nomem)
		err = -ENOMEM;
	if (err) {
		log_err("%s: cannot list the entries: %s", sync_maps[m].name, strerror(-err));
		list_free(&stale);
		return err;
	}
	/* An incomplete list must not delete what it merely failed to name. */
	for (size_t i = 0; i < stale.n && !want->dropped; i++)
		map_drop(ms, m, stale.e[i].key, NULL, t);
	list_free(&stale);

	for (size_t i = 0; i < want->n; i++) {
		struct map_entry have = want->e[i];

		memset(have.val, 0, sizeof(have.val));
		if (!bpf_map_lookup_elem(fd, have.key, have.val)) {
			if (!memcmp(have.val, want->e[i].val, sizeof(have.val)))
				continue;
			/* in an array, a zero value is an absent entry */
			if (sync_maps[m].array && !memcmp(have.val, zero_val, sizeof(zero_val)))
				t->added++;
			else
				t->changed++;
		} else if (errno == ENOENT) {
			t->added++;
		} else {
			tally_fail(t, errno);
			continue;
		}
		map_put(ms, m, &want->e[i], t);
	}
	return 0;
}

static struct entry_list host_list(const struct mapsync *ms, enum mapsync_map m,
				   const struct host *h, const uint8_t mac[6])
{
	struct entry_list l = { .limit = ms->max_entries[m] };

	if (h)
		sync_maps[m].emit(h, mac, &l);
	list_sort(&l);
	return l;
}

/* Writes and deletes of one diff, gathered so that a big one (a whole SPI
 * block validated: 65,536 SA entries) is a few batch syscalls, not one per
 * entry: the daemon's only thread waits for them. */
#ifndef ENOTSUPP
#define ENOTSUPP	524	/* the kernel's, for a map without batch ops */
#endif

struct batch {
	const struct map_entry **put, **del;
	size_t n_put, n_del;
};

/* Packed keys (and values) of e[0..n) as the map has them. */
static int pack(enum mapsync_map m, const struct map_entry **e, size_t n, uint8_t **keys,
		uint8_t **vals)
{
	uint32_t ks = sync_maps[m].key_size, vs = sync_maps[m].val_size;

	*keys = malloc(n * ks);
	if (vals)
		*vals = malloc(n * vs);
	if (!*keys || (vals && !*vals)) {
		free(*keys);
		if (vals)
			free(*vals);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		memcpy(*keys + i * ks, e[i]->key, ks);
		if (vals)
			memcpy(*vals + i * vs, e[i]->val, vs);
	}
	return 0;
}

static void put_batch(struct mapsync *ms, enum mapsync_map m, const struct map_entry **e,
		      size_t n, struct sync_tally *t)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);
	uint32_t ks = sync_maps[m].key_size, vs = sync_maps[m].val_size;
	uint8_t *keys, *vals;
	size_t done = 0;

	if (pack(m, e, n, &keys, &vals)) {
		for (size_t i = 0; i < n; i++)
			map_put(ms, m, e[i], t);
		return;
	}
	while (done < n) {
		uint32_t count = (uint32_t)(n - done);

		if (!bpf_map_update_batch(ms->fd[m], keys + done * ks, vals + done * vs,
					  &count, &opts))
			break;
		done += count;
		if (errno == E2BIG || errno == ENOMEM) {
			/* full: the rest cannot go in either */
			for (; done < n; done++)
				tally_fail(t, errno);
			break;
		}
		if (!count && (errno == EINVAL || errno == ENOTSUPP || errno == EOPNOTSUPP)) {
			/* no batch ops (an old kernel): one by one */
			for (; done < n; done++)
				map_put(ms, m, e[done], t);
			break;
		}
		tally_fail(t, errno);
		done++;
	}
	free(keys);
	free(vals);
}

/* Deleting without looking first: only for maps whose keys are one host's
 * alone (SAs: an SPI is held by one host, its entries go when it does). */
static void del_batch(struct mapsync *ms, enum mapsync_map m, const struct map_entry **e,
		      size_t n, struct sync_tally *t)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	uint32_t ks = sync_maps[m].key_size;
	uint8_t *keys;
	size_t done = 0;

	if (pack(m, e, n, &keys, NULL)) {
		for (size_t i = 0; i < n; i++)
			map_drop(ms, m, e[i]->key, e[i]->val, t);
		return;
	}
	while (done < n) {
		uint32_t count = (uint32_t)(n - done);
		int rc = bpf_map_delete_batch(ms->fd[m], keys + done * ks, &count, &opts);

		t->removed += count;
		done += count;
		if (!rc)
			break;
		if (errno == ENOENT) {
			done++;		/* gone already */
			continue;
		}
		if (!count && (errno == EINVAL || errno == ENOTSUPP || errno == EOPNOTSUPP)) {
			for (; done < n; done++)
				map_drop(ms, m, e[done]->key, e[done]->val, t);
			break;
		}
		tally_fail(t, errno);
		done++;
	}
	free(keys);
}

/* Apply the difference of two sorted lists: what old has and new lacks goes,
 * what new has differently or alone is written. */
static void apply_diff(struct mapsync *ms, enum mapsync_map m, const struct entry_list *o,
		       const struct entry_list *n, struct sync_tally *t)
{
	/* the SA map: its keys are never another host's (del_batch) */
	bool batch_del = m == MAPSYNC_SA;
	struct batch b = {
		.put = malloc((n->n ? n->n : 1) * sizeof(*b.put)),
		.del = batch_del ? malloc((o->n ? o->n : 1) * sizeof(*b.del)) : NULL,
	};
	size_t i = 0, j = 0;

	while (i < o->n || j < n->n) {
		int c = i == o->n ? 1 : j == n->n ? -1 : key_cmp(&o->e[i], &n->e[j]);

		if (c < 0) {
			if (b.del)
				b.del[b.n_del++] = &o->e[i];
			else
				map_drop(ms, m, o->e[i].key, o->e[i].val, t);
			i++;
		} else if (c > 0) {
			if (b.put)
				b.put[b.n_put++] = &n->e[j];
			else
				map_put(ms, m, &n->e[j], t);
			t->added++;
			j++;
		} else {
			if (memcmp(o->e[i].val, n->e[j].val, sizeof(o->e[i].val))) {
				if (b.put)
					b.put[b.n_put++] = &n->e[j];
				else
					map_put(ms, m, &n->e[j], t);
				t->changed++;
			}
			i++;
			j++;
		}
	}
	/* the deletes first: a full map makes room for what replaces them */
	if (b.n_del)
		del_batch(ms, m, b.del, b.n_del, t);
	if (b.n_put)
		put_batch(ms, m, b.put, b.n_put, t);
	free(b.put);
	free(b.del);
}

/* ---- the hosts' MACs ------------------------------------------------------- */

static int mac_rec_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct mapsync_mac *)a)->client_id;
	uint32_t y = ((const struct mapsync_mac *)b)->client_id;

	return (x > y) - (x < y);
}

/* The MAC host addr has now (zero: unknown, gw_ext asks the FIB). */
static void mac_now(const struct mapsync *ms, uint32_t addr, uint8_t mac[6])
{
	if (!ms->mac_of || !ms->mac_of(ms->mac_ctx, addr, mac))
		memcpy(mac, zero_mac, sizeof(zero_mac));
}

static struct mapsync_mac *mac_rec(const struct mapsync *ms, uint32_t client_id)
{
	struct mapsync_mac k = { .client_id = client_id };

	return ms->n_macs ? bsearch(&k, ms->macs, ms->n_macs, sizeof(k), mac_rec_cmp) : NULL;
}

/* The MAC the entries of client_id were last written with. */
static const uint8_t *mac_written(const struct mapsync *ms, uint32_t client_id)
{
	const struct mapsync_mac *r = mac_rec(ms, client_id);

	return r ? r->mac : zero_mac;
}

/* Record mac for client_id. A record set to zero stays until the next
 * rebuild (mapsync_update_macs, reconcile): no memmove per removed host. */
static void mac_record(struct mapsync *ms, uint32_t client_id, const uint8_t mac[6])
{
	struct mapsync_mac *r = mac_rec(ms, client_id), *grown;
	size_t i = ms->n_macs;

	if (r) {
		memcpy(r->mac, mac, sizeof(r->mac));
		return;
	}
	if (!memcmp(mac, zero_mac, sizeof(zero_mac)))
		return;
	if (ms->n_macs == ms->cap_macs) {
		size_t cap = ms->cap_macs ? ms->cap_macs * 2 : 64;

		grown = realloc(ms->macs, cap * sizeof(*grown));
		if (!grown) {
			/* not recorded: the next MAC check rewrites this host */
			ms->errors++;
			log_err("host %u's MAC: out of memory", client_id);
			return;
		}
		ms->macs = grown;
		ms->cap_macs = cap;
	}
	/* client ids only grow: a new host goes last, in the usual case */
	while (i && ms->macs[i - 1].client_id > client_id)
		i--;
	memmove(&ms->macs[i + 1], &ms->macs[i], (ms->n_macs - i) * sizeof(*ms->macs));
	ms->macs[i] = (struct mapsync_mac){ .client_id = client_id };
	memcpy(ms->macs[i].mac, mac, sizeof(ms->macs[i].mac));
	ms->n_macs++;
}

/* Replace the records by those of g's hosts with the MACs in macs[i] (of
 * gw_host_at(g, i)); hosts without a MAC need none. */
static void mac_rebuild(struct mapsync *ms, const struct gw *g, const uint8_t (*macs)[6])
{
	size_t n = gw_host_count(g), k = 0;
	struct mapsync_mac *r = malloc((n ? n : 1) * sizeof(*r));

	if (!r) {
		/* the old records stay: at worst one more rewrite of a host */
		log_err("the hosts' MACs: out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (!memcmp(macs[i], zero_mac, sizeof(zero_mac)))
			continue;
		r[k] = (struct mapsync_mac){ .client_id = gw_host_at(g, i)->client_id };
		memcpy(r[k++].mac, macs[i], sizeof(r->mac));
	}
	/* gw_host_at() goes by client id already; cheap insurance */
	qsort(r, k, sizeof(*r), mac_rec_cmp);
	free(ms->macs);
	ms->macs = r;
	ms->n_macs = k;
	ms->cap_macs = n ? n : 1;
}

/* Every map entry of old_h (written with old_mac) made that of new_h with
 * new_mac: one entry-list diff per map. Either host may be NULL. */
static void host_rewrite(struct mapsync *ms, const struct host *old_h, const uint8_t *old_mac,
			 const struct host *new_h, const uint8_t *new_mac, const char *what,
			 struct sync_tally *all)
{
	all->failed = 0;
	for (enum mapsync_map m = 0; m < MAPSYNC_N; m++) {
		struct sync_tally t = { 0 };
		struct entry_list o, n;

		/* xdnat_hosts is shared by address: hosts_rebuild() */
		if (!sync_maps[m].emit || m == MAPSYNC_HOSTS)
			continue;
		o = host_list(ms, m, old_h, old_mac);
		n = host_list(ms, m, new_h, new_mac);
		apply_diff(ms, m, &o, &n, &t);
		report(ms, m, &t, &n, what);
		all->added += t.added;
		all->changed += t.changed;
		all->removed += t.removed;
		all->failed += t.failed + n.dropped;
		if (t.failed && !all->first_err)
			all->first_err = t.first_err;
		if (n.dropped && !all->first_err)
			all->first_err = n.nomem ? ENOMEM : E2BIG;
		list_free(&o);
		list_free(&n);
	}
}

/* ---- xdnat_hosts: one entry per address, several hosts may have it ------- */

/* A host with ports (the share its outbound needs) over one without, then
 * the newest: a forged or relayed REGISTER from a host's address, which
 * never gets ports, cannot take the entry from the host that has them. */
static bool outranks(const struct host *a, const struct host *b)
{
	if (!b)
		return true;
	if (!!a->n_ports != !!b->n_ports)
		return a->n_ports;
	return a->client_id > b->client_id;
}

/* Whose entry the address gets: of g's hosts at addr, with new_h in place of
 * its listed self and gone_id (a host being removed) left out. */
static const struct host *addr_owner(const struct gw *g, uint32_t addr,
				     const struct host *new_h, uint32_t gone_id)
{
	const struct host *best = NULL;
	bool new_listed = false;

	for (size_t i = 0; g && i < gw_host_count(g); i++) {
		const struct host *h = gw_host_at(g, i);

		if (new_h && h->client_id == new_h->client_id) {
			new_listed = true;
			h = new_h;
		}
		if (h->addr != addr || h->client_id == gone_id)
			continue;
		if (outranks(h, best))
			best = h;
	}
	if (new_h && !new_listed && new_h->addr == addr && outranks(new_h, best))
		best = new_h;
	return best;
}

/* The entry for addr rebuilt from the hosts that remain, never deleted
 * blindly (issue 13, finding 2). */
static void hosts_entry_rebuild(struct mapsync *ms, const struct gw *g, uint32_t addr,
				const struct host *new_h, const uint8_t *new_mac,
				uint32_t gone_id, struct sync_tally *t)
{
	const struct host *h = addr_owner(g, addr, new_h, gone_id);
	const uint32_t key[2] = { addr, 0 };
	struct entry_list l = { .limit = SIZE_MAX };

	if (!h) {
		map_drop(ms, MAPSYNC_HOSTS, key, NULL, t);
		return;
	}
	emit_hosts(h, h == new_h ? new_mac : mac_written(ms, h->client_id), &l);
	if (l.n) {
		struct xdnat_host cur;

		if (bpf_map_lookup_elem(ms->fd[MAPSYNC_HOSTS], key, &cur) ||
		    memcmp(&cur, l.e[0].val, sizeof(cur))) {
			map_put(ms, MAPSYNC_HOSTS, &l.e[0], t);
			t->changed++;
		}
	}
	list_free(&l);
}

static void hosts_rebuild(struct mapsync *ms, const struct gw *g, const struct host *old_h,
			  const struct host *new_h, const uint8_t *new_mac, const char *what,
			  struct sync_tally *all)
{
	uint32_t gone = new_h ? 0 : old_h->client_id;
	struct entry_list none = { 0 };
	struct sync_tally t = { 0 };

	if (new_h)
		hosts_entry_rebuild(ms, g, new_h->addr, new_h, new_mac, gone, &t);
	if (old_h && (!new_h || old_h->addr != new_h->addr))
		hosts_entry_rebuild(ms, g, old_h->addr, new_h, new_mac, gone, &t);
	report(ms, MAPSYNC_HOSTS, &t, &none, what);
	all->changed += t.changed;
	all->removed += t.removed;
	all->failed += t.failed;
	if (t.failed && !all->first_err)
		all->first_err = t.first_err;
}

/* ---- learned tables: their entries go with their host ---------------------- */

static const char *const learned_names[MAPSYNC_L_N] = {
	[MAPSYNC_L_ICMP_IDS] = "xdnat_icmp_ids",
	[MAPSYNC_L_FRAGS] = "xdnat_frags",
	[MAPSYNC_L_IPSEC_OUT] = "xdnat_ipsec_out",
};

/* Whether a learned entry (its owner) is stale: with gone_id set, an entry
 * of that client (at gone_addr, or anywhere when 0); else one whose client
 * is not among g's hosts at that address. Client 0 (the stack's fragments)
 * is nobody's. */
struct stale_rule {
	const struct gw *g;
	uint32_t gone_id, gone_addr;
};

static bool learned_stale(const struct stale_rule *r, const struct xdnat_owner *o)
{
	const struct host *h;

	if (!o->client_id)
		return false;
	if (r->gone_id)
		return o->client_id == r->gone_id &&
		       (!r->gone_addr || o->host_addr == r->gone_addr);
	h = gw_find_host(r->g, o->client_id);
	return !h || h->addr != o->host_addr;
}

#define LEARNED_CHUNK	1024
#define LEARNED_MAX_KEY	16
#define LEARNED_MAX_VAL	32

/* The stale entries' keys of learned map l, appended to *keys (n of them):
 * a batch walk, or one key at a time where the kernel has no batch ops. */
static int learned_collect(struct mapsync *ms, enum mapsync_learned l,
			   const struct stale_rule *r, uint8_t **keys, size_t *n, size_t *cap)
{
	uint32_t ks = ms->learned_ksize[l], vs = ms->learned_vsize[l];
	uint8_t *kb = malloc(LEARNED_CHUNK * LEARNED_MAX_KEY);
	uint8_t *vb = malloc(LEARNED_CHUNK * LEARNED_MAX_VAL);
	uint8_t in_batch[LEARNED_MAX_KEY], out_batch[LEARNED_MAX_KEY];
	uint8_t cur[LEARNED_MAX_KEY], next[LEARNED_MAX_KEY];
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	int fd = ms->learned_fd[l], rc, err = 0;
	bool first = true, batch = true;
	uint32_t count;

	if (!kb || !vb) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		if (batch) {
			count = LEARNED_CHUNK;
			rc = bpf_map_lookup_batch(fd, first ? NULL : in_batch, out_batch, kb, vb,
						  &count, &opts);
			if (rc && errno != ENOENT) {
				if (!first || (errno != EINVAL && errno != ENOTSUPP &&
					       errno != EOPNOTSUPP)) {
					err = -errno;
					goto out;
				}
				batch = false;	/* an old kernel: one by one */
				continue;
			}
			first = false;
		} else {
			rc = bpf_map_get_next_key(fd, first ? NULL : cur, next);
			if (rc) {
				if (errno != ENOENT)
					err = -errno;
				break;
			}
			first = false;
			memcpy(cur, next, ks);
			memcpy(kb, next, ks);
			count = !bpf_map_lookup_elem(fd, next, vb);
		}
		for (uint32_t i = 0; i < count; i++) {
			struct xdnat_owner o;

			memcpy(&o, vb + (size_t)i * vs, sizeof(o));
			if (!learned_stale(r, &o))
				continue;
			if (*n == *cap) {
				size_t c = *cap ? *cap * 2 : 64;
				uint8_t *grown = realloc(*keys, c * LEARNED_MAX_KEY);

				if (!grown) {
					err = -ENOMEM;
					goto out;
				}
				*keys = grown;
				*cap = c;
			}
			memcpy(*keys + (*n)++ * LEARNED_MAX_KEY, kb + (size_t)i * ks, ks);
		}
		if (batch) {
			if (rc)		/* ENOENT: that was the last chunk */
				break;
			memcpy(in_batch, out_batch, ks);
		}
	}
out:
	free(kb);
	free(vb);
	return err;
}

/* Remove the learned entries r names; counted, failures logged once per map. */
static void learned_purge(struct mapsync *ms, const struct stale_rule *r, const char *what)
{
	for (enum mapsync_learned l = 0; l < MAPSYNC_L_N; l++) {
		uint8_t *keys = NULL;
		size_t n = 0, cap = 0, removed = 0;
		int err;

		if (!ms->learned_bound[l])
			continue;
		err = learned_collect(ms, l, r, &keys, &n, &cap);
		/* collected first: deleting while walking restarts a hash walk */
		for (size_t i = 0; i < n; i++)
			if (!bpf_map_delete_elem(ms->learned_fd[l], keys + i * LEARNED_MAX_KEY))
				removed++;
		free(keys);
		ms->learned_removed += removed;
		if (err) {
			ms->errors++;
			log_err("%s: removing the entries of %s: %s", learned_names[l], what,
				strerror(-err));
		} else if (removed) {
			log_debug("%s: %zu entries of %s removed", learned_names[l], removed, what);
		}
	}
}

const char *mapsync_learned_name(enum mapsync_learned l)
{
	return learned_names[l];
}

int mapsync_bind_learned(struct mapsync *ms, enum mapsync_learned l, int fd, uint32_t key_size,
			 uint32_t val_size)
{
	if (val_size < sizeof(struct xdnat_owner) || val_size > LEARNED_MAX_VAL ||
	    key_size > LEARNED_MAX_KEY) {
		log_err("%s: key/value of %u/%u bytes, not a learned table's: "
			"rebuild xdnatd and the BPF objects together", learned_names[l],
			key_size, val_size);
		return -EPROTO;
	}
	ms->learned_fd[l] = fd;
	ms->learned_bound[l] = true;
	ms->learned_ksize[l] = key_size;
	ms->learned_vsize[l] = val_size;
	return 0;
}

/* ---- syncs ------------------------------------------------------------------- */

/* 0, or -errno when an entry of new_h is not in the maps (-E2BIG: full). */
static int host_changed(void *ctx, const struct gw *g, const struct host *old_h,
			const struct host *new_h)
{
	struct mapsync *ms = ctx;
	uint32_t id = new_h ? new_h->client_id : old_h->client_id;
	const uint8_t *old_mac = old_h ? mac_written(ms, old_h->client_id) : zero_mac;
	struct sync_tally all = { 0 };
	uint8_t new_mac[6];
	char what[32];

	if (new_h)
		mac_now(ms, new_h->addr, new_mac);
	else
		memcpy(new_mac, zero_mac, sizeof(new_mac));
	snprintf(what, sizeof(what), "host %u", id);
	host_rewrite(ms, old_h, old_mac, new_h, new_mac, what, &all);
	hosts_rebuild(ms, g, old_h, new_h, new_mac, what, &all);
	mac_record(ms, id, new_mac);
	/* gone, or moved: what the programs learned for it holds nothing now */
	if (old_h && (!new_h || old_h->addr != new_h->addr)) {
		struct stale_rule r = { .gone_id = old_h->client_id,
					.gone_addr = new_h ? old_h->addr : 0 };

		learned_purge(ms, &r, what);
	}
	log_debug("maps for %s: %zu added, %zu changed, %zu removed", what, all.added,
		  all.changed, all.removed);
	return all.failed ? -(all.first_err ? all.first_err : EIO) : 0;
}

int mapsync_update_macs(struct mapsync *ms, const struct gw *g, size_t *hosts)
{
	size_t n = gw_host_count(g);
	uint8_t (*macs)[6] = calloc(n ? n : 1, sizeof(*macs));

	*hosts = 0;
	if (!macs) {
		log_err("checking the hosts' MACs: out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const struct host *h = gw_host_at(g, i);
		const uint8_t *was = mac_written(ms, h->client_id);
		struct sync_tally all = { 0 };
		char what[48];

		mac_now(ms, h->addr, macs[i]);
		if (!memcmp(was, macs[i], sizeof(macs[i])))
			continue;
		/* first resolution, lost, or a NIC replaced: same host, new MAC */
		snprintf(what, sizeof(what), "host %u's new MAC", h->client_id);
		host_rewrite(ms, h, was, h, macs[i], what, &all);
		hosts_rebuild(ms, g, h, h, macs[i], what, &all);
		log_debug("maps for %s: %zu changed", what, all.changed);
		(*hosts)++;
	}
	mac_rebuild(ms, g, (const uint8_t (*)[6])macs);
	free(macs);
	return 0;
}

/* Map m (and, for xdnat_tx, tx_ifindex) equal to g's hosts, each with its
 * MAC in macs[i]; counts in *t. */
static int sync_map(struct mapsync *ms, const struct gw *g, enum mapsync_map m,
		    const uint8_t (*macs)[6], struct sync_tally *t, const char *what)
{
	struct entry_list want = { .limit = ms->max_entries[m] };
	size_t nh = gw_host_count(g);
	int err;

	if (sync_maps[m].emit) {
		for (size_t i = 0; i < nh; i++) {
			const struct host *h = gw_host_at(g, i);

			/* an address's entry: the one host addr_owner() names */
			if (m == MAPSYNC_HOSTS && addr_owner(g, h->addr, NULL, 0) != h)
				continue;
			sync_maps[m].emit(h, macs[i], &want);
		}
	} else {
		/* xdnat_tx: exactly our two NICs, ifindex -> ifindex */
		for (int k = 0; k < 2; k++)
			list_add(&want, &ms->tx_ifindex[k], 4, &ms->tx_ifindex[k], 4);
	}
	list_sort(&want);
	err = reconcile_map(ms, m, &want, t);
	report(ms, m, t, &want, what);
	log_debug("%s: %zu added, %zu changed, %zu removed", sync_maps[m].name,
		  t->added, t->changed, t->removed);
	t->failed += want.dropped;
	list_free(&want);
	return err;
}

int mapsync_reconcile(struct mapsync *ms, const struct gw *g)
{
	size_t nh = gw_host_count(g);
	uint8_t (*macs)[6] = calloc(nh ? nh : 1, sizeof(*macs));
	struct sync_tally all = { 0 };
	int err = 0;

	if (!macs) {
		log_err("reconciling the maps: out of memory");
		return -ENOMEM;
	}
	/* one MAC per host for all maps, read once */
	for (size_t i = 0; i < nh; i++)
		mac_now(ms, gw_host_at(g, i)->addr, macs[i]);
	for (enum mapsync_map m = 0; m < MAPSYNC_N && !err; m++) {
		struct sync_tally t = { 0 };

		err = sync_map(ms, g, m, (const uint8_t (*)[6])macs, &t, "the restored state");
		all.added += t.added;
		all.changed += t.changed;
		all.removed += t.removed;
		all.failed += t.failed;
	}
	/* even after a failure: what was written carries these MACs */
	mac_rebuild(ms, g, (const uint8_t (*)[6])macs);
	free(macs);
	if (!err) {
		struct stale_rule r = { .g = g };

		learned_purge(ms, &r, "hosts no longer registered");
	}
	if (!err)
		log_info("maps reconciled with %zu host(s): %zu added, %zu changed, "
			 "%zu removed, %zu failed", gw_host_count(g), all.added, all.changed,
			 all.removed, all.failed);
	return err;
}

struct gw_hooks mapsync_hooks(struct mapsync *ms)
{
	return (struct gw_hooks){ .ctx = ms, .host_changed = host_changed };
}

const char *mapsync_name(enum mapsync_map m)
{
	return sync_maps[m].name;
}

int mapsync_bind(struct mapsync *ms, enum mapsync_map m, int fd, uint32_t key_size,
		 uint32_t val_size, uint32_t max_entries)
{
	/* the entries are built from common/xdnat.h: same sizes or a stale build */
	if (key_size != sync_maps[m].key_size || val_size != sync_maps[m].val_size) {
		log_err("%s: key/value of %u/%u bytes, xdnatd writes %u/%u: "
			"rebuild xdnatd and the BPF objects together", sync_maps[m].name,
			key_size, val_size, sync_maps[m].key_size, sync_maps[m].val_size);
		return -EPROTO;
	}
	ms->fd[m] = fd;
	ms->max_entries[m] = max_entries;
	return 0;
}

uint64_t mapsync_errors(const struct mapsync *ms)
{
	return ms->errors;
}

void mapsync_release(struct mapsync *ms)
{
	free(ms->macs);
	ms->macs = NULL;
	ms->n_macs = ms->cap_macs = 0;
}
