/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include "gateway/views.h"
#include "lib/json_out.h"
#include "lib/table.h"

static const char *ip(uint32_t a, char *buf)
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

/* "20000-20063,30000-30015" (or "-"), into a static-size buffer. */
static void port_list(const struct host *h, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = 0;
	for (unsigned int i = 0; i < h->n_ports && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%u-%u", i ? "," : "",
					h->ports[i].first, h->ports[i].last);
	if (!h->n_ports)
		snprintf(buf, len, "-");
}

static void spi_list(const struct host *h, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = 0;
	for (unsigned int i = 0; i < h->n_spis && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s0x%x-0x%x", i ? "," : "",
					h->spis[i].first, h->spis[i].last);
	if (!h->n_spis)
		snprintf(buf, len, "-");
}

static uint64_t left(const struct gw *g, const struct host *h)
{
	uint64_t now = gw_now(g);

	return h->lease_expires > now ? h->lease_expires - now : 0;
}

/* {"first":F,"last":L}, one block of ports or SPIs. */
static struct json_object *block_json(uint32_t first, uint32_t last)
{
	struct json_object *b = json_object_new_object();

	if (b && json_put_u64(b, "first", first) && json_put_u64(b, "last", last))
		return b;
	json_object_put(b);
	return NULL;
}

static struct json_object *host_json(const struct gw *g, const struct host *h)
{
	char a[INET_ADDRSTRLEN], gl[INET_ADDRSTRLEN];
	struct json_object *o = json_object_new_object(), *ports = NULL, *spis = NULL;
	bool ok = o && json_put_u64(o, "client_id", h->client_id) &&
		  json_put_str(o, "address", ip(h->addr, a)) &&
		  json_put_str(o, "global", ip(h->global, gl)) &&
		  json_put_u64(o, "lease_seconds", h->lease_secs) &&
		  json_put_u64(o, "lease_remaining", left(g, h)) &&
		  json_put(o, "ports", ports = json_object_new_array());

	for (unsigned int k = 0; ok && k < h->n_ports; k++)
		ok = json_put(ports, NULL, block_json(h->ports[k].first, h->ports[k].last));
	ok = ok && json_put(o, "spis", spis = json_object_new_array());
	for (unsigned int k = 0; ok && k < h->n_spis; k++)
		ok = json_put(spis, NULL, block_json(h->spis[k].first, h->spis[k].last));
	if (ok && json_put_u64(o, "natt_port", h->natt_port) &&
	    json_put_u64(o, "validated_peers", h->n_sas))
		return o;
	json_object_put(o);
	return NULL;
}

/* The free ports of only (0: of the whole pool). */
static uint32_t ports_free_of(const struct gw *g, uint32_t only)
{
	return only ? gw_pool_ports_free(g, (size_t)gw_pool_index(g, only)) : gw_ports_free(g);
}

static int hosts_json(FILE *out, const struct gw *g, uint32_t only)
{
	char gl[INET_ADDRSTRLEN];
	struct json_object *doc = json_doc_new(), *hosts = NULL;
	bool ok = doc && json_put(doc, "hosts", hosts = json_object_new_array());

	for (size_t i = 0; ok && i < gw_host_count(g); i++)
		if (!only || gw_host_at(g, i)->global == only)
			ok = json_put(hosts, NULL, host_json(g, gw_host_at(g, i)));
	if (only)
		ok = ok && json_put_str(doc, "global", ip(only, gl));
	ok = ok && json_put_u64(doc, "ports_free", ports_free_of(g, only)) &&
	     json_put_u64(doc, "spis_free", gw_spis_free(g));
	return json_doc_finish(out, doc, ok);
}

/* Below the table: what is free, of one G (a pool of one, or --global G),
 * else a line per G of the pool and the totals. */
static void hosts_footer(FILE *out, const struct gw *g, uint32_t only, size_t n)
{
	char gl[INET_ADDRSTRLEN];
	size_t pool = gw_pool_count(g);

	if (only || pool == 1) {
		fprintf(out, "%zu host(s); %u ports and %llu SPIs of %s free\n", n,
			ports_free_of(g, only), (unsigned long long)gw_spis_free(g),
			ip(only ? only : gw_pool_at(g, 0), gl));
		return;
	}
	for (size_t i = 0; i < pool; i++)
		fprintf(out, "%s: %zu host(s), %u ports free\n", ip(gw_pool_at(g, i), gl),
			gw_pool_hosts(g, i), gw_pool_ports_free(g, i));
	fprintf(out, "%zu host(s); %u ports of %zu addresses and %llu SPIs free\n", n,
		gw_ports_free(g), pool, (unsigned long long)gw_spis_free(g));
}

int view_hosts(FILE *out, const struct gw *g, uint32_t only, bool json)
{
	char a[INET_ADDRSTRLEN], pl[512], sl[512];
	bool pooled = gw_pool_count(g) > 1;	/* one G: it is in the footer */
	size_t n = 0;
	struct table *t;

	if (json)
		return hosts_json(out, g, only);
	t = table_new(pooled ? 7 : 6);
	table_add(t, "CLIENT");
	table_add(t, "ADDRESS");
	if (pooled)
		table_add(t, "GLOBAL");
	table_add(t, "LEASE");
	table_add(t, "SAS");
	table_add(t, "PORTS");
	table_add(t, "SPIS");
	for (size_t i = 0; i < gw_host_count(g); i++) {
		const struct host *h = gw_host_at(g, i);

		if (only && h->global != only)
			continue;
		n++;
		port_list(h, pl, sizeof(pl));
		spi_list(h, sl, sizeof(sl));
		table_add(t, "%u", h->client_id);
		table_add(t, "%s", ip(h->addr, a));
		if (pooled)
			table_add(t, "%s", ip(h->global, a));
		table_add(t, "%llus", (unsigned long long)left(g, h));
		table_add(t, "%u", h->n_sas);
		table_add(t, "%s", pl);
		table_add(t, "%s", sl);
	}
	table_print(t, out);
	hosts_footer(out, g, only, n);
	return 0;
}

static struct json_object *sa_json(const struct host *h, const struct pap_sa *sa)
{
	char a[INET_ADDRSTRLEN], p[INET_ADDRSTRLEN];
	struct json_object *o = json_object_new_object();

	if (o && json_put_u64(o, "client_id", h->client_id) && json_put_str(o, "host", ip(h->addr, a)) &&
	    json_put_str(o, "peer", ip(sa->peer, p)) && json_put_u64(o, "spi_first", sa->spi_first) &&
	    json_put_u64(o, "spi_last", sa->spi_last))
		return o;
	json_object_put(o);
	return NULL;
}

static int sas_json(FILE *out, const struct gw *g)
{
	struct json_object *doc = json_doc_new(), *sas = NULL;
	bool ok = doc && json_put(doc, "sas", sas = json_object_new_array());

	for (size_t i = 0; ok && i < gw_host_count(g); i++) {
		const struct host *h = gw_host_at(g, i);

		for (unsigned int k = 0; ok && k < h->n_sas; k++)
			ok = json_put(sas, NULL, sa_json(h, &h->sas[k]));
	}
	return json_doc_finish(out, doc, ok);
}

int view_sas(FILE *out, const struct gw *g, bool json)
{
	char a[INET_ADDRSTRLEN], p[INET_ADDRSTRLEN];
	size_t n = gw_host_count(g);
	struct table *t;

	if (json)
		return sas_json(out, g);
	t = table_new(4);
	table_add(t, "CLIENT");
	table_add(t, "HOST");
	table_add(t, "PEER");
	table_add(t, "SPIS");
	for (size_t i = 0; i < n; i++) {
		const struct host *h = gw_host_at(g, i);

		for (unsigned int k = 0; k < h->n_sas; k++) {
			const struct pap_sa *sa = &h->sas[k];

			table_add(t, "%u", h->client_id);
			table_add(t, "%s", ip(h->addr, a));
			table_add(t, "%s", ip(sa->peer, p));
			table_add(t, "0x%x-0x%x", sa->spi_first, sa->spi_last);
		}
	}
	table_print(t, out);
	return 0;
}

static const char *const reason_names[XDNAT_REASON_MAX] = XDNAT_REASON_NAMES;

/* The PAP totals, in the order both renderings list them. */
struct named_total {
	const char *name;
	uint64_t v;
};
#define N_TOTALS	9

static void pap_totals(const struct gw_stats *s, struct named_total t[N_TOTALS])
{
	const struct named_total all[N_TOTALS] = {
		{ "datagrams", s->datagrams },
		{ "replies", s->replies },
		{ "silent", s->silent },
		{ "retransmits", s->retransmits },
		{ "registered", s->registered },
		{ "deregistered", s->deregistered },
		{ "expired", s->expired },
		{ "send_errors", s->send_errors },
		{ "foreign", s->foreign },
	};

	memcpy(t, all, sizeof(all));
}

/* "pap": the totals, then "requests" per request type and "errors" per
 * error code that occurred. */
static struct json_object *pap_json(const struct gw_stats *s)
{
	struct json_object *o = json_object_new_object(), *req = NULL, *errs = NULL;
	struct named_total t[N_TOTALS];
	bool ok = o;

	pap_totals(s, t);
	for (size_t i = 0; ok && i < N_TOTALS; i++)
		ok = json_put_u64(o, t[i].name, t[i].v);
	ok = ok && json_put(o, "requests", req = json_object_new_object());
	for (int ty = PAP_REGISTER; ok && ty <= PAP_TYPE_MAX; ty += 2)
		ok = json_put_u64(req, pap_type_name((uint8_t)ty), s->requests[ty]);
	ok = ok && json_put(o, "errors", errs = json_object_new_object());
	for (int e = 1; ok && e <= PAP_E_MAX; e++)
		if (s->errors[e])
			ok = json_put_u64(errs, pap_err_name(e), s->errors[e]);
	if (ok)
		return o;
	json_object_put(o);
	return NULL;
}

/* "dataplane": {REASON:{"packets":N,"bytes":N},...}, or null without one. */
static bool dataplane_json(struct json_object *doc, const struct dataplane_stats *dp)
{
	struct json_object *o;
	bool ok;

	if (!dp)
		return !json_object_object_add(doc, "dataplane", NULL) &&
		       json_put_u64(doc, "dataplane_sync_errors", 0) &&
		       json_put_u64(doc, "dataplane_neigh_failures", 0) &&
		       json_put_u64(doc, "dataplane_nexthop_events", 0) &&
		       json_put_u64(doc, "dataplane_nexthop_resolved", 0) &&
		       json_put_u64(doc, "dataplane_nexthop_failed", 0);
	ok = json_put(doc, "dataplane", o = json_object_new_object());
	for (int r = 0; ok && r < XDNAT_REASON_MAX; r++) {
		struct json_object *c = json_object_new_object();

		ok = json_put(o, reason_names[r], c) && json_put_u64(c, "packets", dp->reason[r].packets) &&
		     json_put_u64(c, "bytes", dp->reason[r].bytes);
	}
	return ok && json_put_u64(doc, "dataplane_sync_errors", dp->sync_errors) &&
	       json_put_u64(doc, "dataplane_neigh_failures", dp->neigh_failures) &&
	       json_put_u64(doc, "dataplane_nexthop_events", dp->nexthop_events) &&
	       json_put_u64(doc, "dataplane_nexthop_resolved", dp->nexthop_resolved) &&
	       json_put_u64(doc, "dataplane_nexthop_failed", dp->nexthop_failed);
}

static void dataplane_table(FILE *out, const struct dataplane_stats *dp)
{
	struct table *t;

	if (!dp) {
		fprintf(out, "\ndata plane: off (xdnatd runs without --ext-if and --int-if)\n");
		return;
	}
	t = table_new(3);
	table_add(t, "DATAPLANE");
	table_add(t, "PACKETS");
	table_add(t, "BYTES");
	for (int r = 0; r < XDNAT_REASON_MAX; r++) {
		table_add(t, "%s", reason_names[r]);
		table_add(t, "%llu", (unsigned long long)dp->reason[r].packets);
		table_add(t, "%llu", (unsigned long long)dp->reason[r].bytes);
	}
	fprintf(out, "\n");
	table_print(t, out);
}

/* "pool": per G its hosts, free ports, and the free SPIs its hosts may
 * take: one space across the pool, so the same for every G. */
static struct json_object *pool_json(const struct gw *g)
{
	struct json_object *a = json_object_new_array();
	char gl[INET_ADDRSTRLEN];
	bool ok = a;

	for (size_t i = 0; ok && i < gw_pool_count(g); i++) {
		struct json_object *o = json_object_new_object();

		ok = json_put(a, NULL, o) && json_put_str(o, "global", ip(gw_pool_at(g, i), gl)) &&
		     json_put_u64(o, "hosts", gw_pool_hosts(g, i)) &&
		     json_put_u64(o, "ports_free", gw_pool_ports_free(g, i)) &&
		     json_put_u64(o, "spis_free", gw_spis_free(g));
	}
	if (ok)
		return a;
	json_object_put(a);
	return NULL;
}

/* The pool below the counters: a row per G. */
static void pool_table(FILE *out, const struct gw *g)
{
	char gl[INET_ADDRSTRLEN];
	struct table *t = table_new(4);

	table_add(t, "GLOBAL");
	table_add(t, "HOSTS");
	table_add(t, "PORTS_FREE");
	table_add(t, "SPIS_FREE");
	for (size_t i = 0; i < gw_pool_count(g); i++) {
		table_add(t, "%s", ip(gw_pool_at(g, i), gl));
		table_add(t, "%zu", gw_pool_hosts(g, i));
		table_add(t, "%u", gw_pool_ports_free(g, i));
		table_add(t, "%llu", (unsigned long long)gw_spis_free(g));
	}
	fprintf(out, "\n");
	table_print(t, out);
}

int view_stats(FILE *out, const struct gw *g, const struct dataplane_stats *dp,
	       bool json)
{
	const struct gw_stats *s = gw_get_stats(g);
	struct named_total totals[N_TOTALS];
	struct json_object *doc;
	struct table *t;

	if (json) {
		doc = json_doc_new();
		return json_doc_finish(out, doc, doc && json_put_u64(doc, "hosts", gw_host_count(g)) &&
				 json_put(doc, "pool", pool_json(g)) &&
				 json_put(doc, "pap", pap_json(s)) && dataplane_json(doc, dp));
	}
	pap_totals(s, totals);
	t = table_new(2);
	table_add(t, "COUNTER");
	table_add(t, "VALUE");
	table_add(t, "hosts");
	table_add(t, "%zu", gw_host_count(g));
	for (size_t i = 0; i < N_TOTALS; i++) {
		table_add(t, "pap.%s", totals[i].name);
		table_add(t, "%llu", (unsigned long long)totals[i].v);
	}
	for (int ty = PAP_REGISTER; ty <= PAP_TYPE_MAX; ty += 2) {
		table_add(t, "pap.request.%s", pap_type_name((uint8_t)ty));
		table_add(t, "%llu", (unsigned long long)s->requests[ty]);
	}
	for (int e = 1; e <= PAP_E_MAX; e++) {
		if (!s->errors[e])
			continue;
		table_add(t, "pap.error.%s", pap_err_name(e));
		table_add(t, "%llu", (unsigned long long)s->errors[e]);
	}
	if (dp) {
		table_add(t, "dataplane.sync_errors");
		table_add(t, "%llu", (unsigned long long)dp->sync_errors);
		table_add(t, "dataplane.neigh_failures");
		table_add(t, "%llu", (unsigned long long)dp->neigh_failures);
		table_add(t, "dataplane.nexthop_events");
		table_add(t, "%llu", (unsigned long long)dp->nexthop_events);
		table_add(t, "dataplane.nexthop_resolved");
		table_add(t, "%llu", (unsigned long long)dp->nexthop_resolved);
		table_add(t, "dataplane.nexthop_failed");
		table_add(t, "%llu", (unsigned long long)dp->nexthop_failed);
	}
	table_print(t, out);
	pool_table(out, g);
	dataplane_table(out, dp);
	return 0;
}

int view_pem(FILE *out, const char *key, const char *pem, bool json, long revoked)
{
	struct json_object *doc;

	if (!json)
		return fputs(pem, out) < 0 ? -EIO : 0;
	doc = json_doc_new();
	return json_doc_finish(out, doc, doc && json_put_str(doc, key, pem) &&
			 (revoked < 0 || json_put(doc, "revoked", json_object_new_int64(revoked))));
}

int view_freed(FILE *out, uint32_t client_id, bool json)
{
	struct json_object *doc;

	if (!json)
		return fprintf(out, "host %u freed\n", client_id) < 0 ? -EIO : 0;
	doc = json_doc_new();
	return json_doc_finish(out, doc, doc && json_put_u64(doc, "freed", client_id));
}

/* ---- state dump ------------------------------------------------------------- */

static bool serial_zero(const uint8_t *s)
{
	for (int i = 0; i < HOST_SERIAL_LEN; i++)
		if (s[i])
			return false;
	return true;
}

/* host_json's keys, and what only the dump shows (no secret, no MAC). */
static struct json_object *host_dump_json(const struct gw *g, const struct host *h)
{
	struct json_object *o = host_json(g, h), *sas = NULL;
	char hex[2 * HOST_SERIAL_LEN + 1], p[INET_ADDRSTRLEN];
	bool ok;

	for (int i = 0; i < HOST_SERIAL_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", h->cert_serial[i]);
	ok = o && json_put_u64(o, "lease_expires", h->lease_expires) &&
	     (serial_zero(h->cert_serial) ? !json_object_object_add(o, "cert_serial", NULL) :
	      json_put_str(o, "cert_serial", hex)) &&
	     json_put_u64(o, "cert_expires", h->cert_expires) &&
	     json_put(o, "sas", sas = json_object_new_array());
	for (unsigned int k = 0; ok && k < h->n_sas; k++) {
		struct json_object *sa = json_object_new_object();

		ok = sa && json_put_str(sa, "peer", ip(h->sas[k].peer, p)) &&
		     json_put_u64(sa, "spi_first", h->sas[k].spi_first) &&
		     json_put_u64(sa, "spi_last", h->sas[k].spi_last);
		ok = ok ? json_put(sas, NULL, sa) : (json_object_put(sa), false);
	}
	if (ok)
		return o;
	json_object_put(o);
	return NULL;
}

int view_state_dump(FILE *out, const struct gw *g, const struct state_meta *m,
		    uint64_t written)
{
	struct json_object *doc = json_doc_new(), *meta = NULL, *hosts = NULL, *pool = NULL;
	char gl[INET_ADDRSTRLEN];
	bool ok = doc && json_put(doc, "meta", meta = json_object_new_object()) &&
		  json_put_u64(meta, "next_client_id", m->next_client_id) &&
		  json_put_str(meta, "global", ip(m->global, gl)) &&
		  json_put(meta, "pool", pool = json_object_new_array());

	for (unsigned int i = 0; ok && i < m->n_pool; i++)
		ok = json_put_str(pool, NULL, ip(m->pool[i], gl));
	ok = ok && json_put_u64(meta, "state_written", written) &&
		  json_put_u64(meta, "now", gw_now(g)) &&
		  json_put(doc, "hosts", hosts = json_object_new_array());

	for (size_t i = 0; ok && i < gw_host_count(g); i++)
		ok = json_put(hosts, NULL, host_dump_json(g, gw_host_at(g, i)));
	ok = ok && json_put_u64(doc, "ports_free", gw_ports_free(g)) &&
	     json_put_u64(doc, "spis_free", gw_spis_free(g));
	return json_doc_finish(out, doc, ok);
}

int view_backup(FILE *out, const char *dir, size_t n_hosts, bool json)
{
	struct json_object *doc;

	if (!json) {
		fprintf(out, "backup of %zu host(s) in %s\n", n_hosts, dir);
		return ferror(out) ? -EIO : 0;
	}
	doc = json_doc_new();
	return json_doc_finish(out, doc, doc && json_put_str(doc, "backup", dir) &&
			 json_put_u64(doc, "hosts", n_hosts));
}
