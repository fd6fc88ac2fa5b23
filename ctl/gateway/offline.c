/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Reading the pinned maps without the daemon (offline.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <json-c/json.h>
#include "gateway/offline.h"
#include "gateway/pinned.h"
#include "lib/json_out.h"
#include "lib/table.h"

/* A run of ports or SPIs (host order) one owner holds, or an SA's SPIs. */
struct run {
	uint32_t first, last;
	uint32_t peer;			/* xdnat_sa: the validated peer (be) */
	uint32_t flags;			/* xdnat_ports: XDNAT_PORT_* */
	struct xdnat_owner o;
};

struct runs {
	struct run *v;
	size_t n, cap;
};

struct maps {
	const char *dir;
	struct runs ports, spis, sas;
	struct runs hosts;		/* first = Hi (be), o.client_id and o.mac */
};

static const char *const reason_names[XDNAT_REASON_MAX] = XDNAT_REASON_NAMES;

static int runs_add(struct runs *r, const struct run *x)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 64;
		struct run *v = realloc(r->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		r->v = v;
		r->cap = cap;
	}
	r->v[r->n++] = *x;
	return 0;
}

static bool same_owner(const struct run *a, const struct run *b)
{
	return a->o.client_id == b->o.client_id && a->o.host_addr == b->o.host_addr &&
	       !memcmp(a->o.mac, b->o.mac, sizeof(a->o.mac)) && a->peer == b->peer &&
	       a->flags == b->flags;
}

/* x onto the last run when it continues it, else a new run. */
static int runs_extend(struct runs *r, const struct run *x)
{
	struct run *last = r->n ? &r->v[r->n - 1] : NULL;

	if (last && same_owner(last, x) && last->last + 1 == x->first) {
		last->last = x->last;
		return 0;
	}
	return runs_add(r, x);
}

static int by_owner_then_first(const void *pa, const void *pb)
{
	const struct run *a = pa, *b = pb;

	if (a->o.client_id != b->o.client_id)
		return a->o.client_id < b->o.client_id ? -1 : 1;
	if (a->peer != b->peer)
		return ntohl(a->peer) < ntohl(b->peer) ? -1 : 1;
	return a->first < b->first ? -1 : a->first > b->first;
}

/* Sort r's single entries and merge the adjacent ones of one owner. */
static int runs_merge(struct runs *r)
{
	struct runs m = { 0 };
	int err = 0;

	qsort(r->v, r->n, sizeof(r->v[0]), by_owner_then_first);
	for (size_t i = 0; i < r->n && !err; i++)
		err = runs_extend(&m, &r->v[i]);
	free(r->v);
	*r = m;
	return err;
}

static int read_ports(int fd, struct runs *r)
{
	struct xdnat_port_owner v;

	for (uint32_t p = 0; p < XDNAT_MAX_PORTS; p++) {
		struct run x = { .first = p, .last = p };

		if (bpf_map_lookup_elem(fd, &p, &v))
			return -errno;
		if (!v.owner.client_id)
			continue;
		x.o = v.owner;
		x.flags = v.flags;
		if (runs_extend(r, &x))
			return -ENOMEM;
	}
	return 0;
}

/* Every entry of a hash map, as a run of its kind. */
enum kind { K_SPIBLK, K_SA, K_HOSTS, K_PORTS };

static int read_hash(int fd, enum kind kind, struct runs *r)
{
	union {
		struct xdnat_spiblk_key spi;
		struct xdnat_sa_key sa;
		uint32_t addr;
	} k, next;
	union {
		struct xdnat_owner o;
		struct xdnat_host h;
	} v;
	void *prev = NULL;

	memset(&k, 0, sizeof(k));
	memset(&next, 0, sizeof(next));
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		struct run x = { 0 };

		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &v)) {
			if (errno == ENOENT)
				continue;	/* gone meanwhile */
			return -errno;
		}
		if (kind == K_HOSTS) {
			x.first = x.last = k.addr;
			x.o.client_id = v.h.client_id;
			x.o.host_addr = k.addr;
			memcpy(x.o.mac, v.h.mac, sizeof(x.o.mac));
		} else if (kind == K_SA) {
			x.first = x.last = ntohl(k.sa.spi);
			x.peer = k.sa.peer;
			x.o = v.o;
		} else {
			x.first = ntohl(k.spi.spi);
			x.last = x.first + XDNAT_SPI_GRANULE - 1;
			x.o = v.o;
		}
		if (runs_add(r, &x))
			return -ENOMEM;
	}
	return errno == ENOENT ? 0 : -errno;
}

static int read_map(const char *dir, const char *name, enum kind kind, struct runs *r,
		    char *err, size_t errlen)
{
	int fd = pinned_open(dir, name), rc;

	if (fd < 0) {
		snprintf(err, errlen, "%s/%s: %s", dir, name, strerror(-fd));
		return fd;
	}
	/* the ports come in order; a hash's entries do not */
	rc = kind == K_PORTS ? read_ports(fd, r) : read_hash(fd, kind, r);
	close(fd);
	if (!rc && kind != K_PORTS)
		rc = runs_merge(r);
	if (rc)
		snprintf(err, errlen, "%s/%s: %s", dir, name, strerror(-rc));
	return rc;
}
static const char *ip(uint32_t a, char *buf)
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static const char *mac(const uint8_t m[XDNAT_ETH_ALEN], char buf[18])
{
	static const uint8_t zero[XDNAT_ETH_ALEN];

	if (!memcmp(m, zero, sizeof(zero)))
		return "-";	/* not resolved: the programs ask the FIB */
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	return buf;
}

static void range_text(const struct run *x, bool hex, char *buf, size_t len)
{
	if (x->first == x->last)
		snprintf(buf, len, hex ? "0x%x" : "%u", x->first);
	else
		snprintf(buf, len, hex ? "0x%x-0x%x" : "%u-%u", x->first, x->last);
}

/* "a-b,c-d" of client's runs in r, adjacent ones as one (a NAT-T port
 * is a run of its own in xdnat_ports), or "-". */
static void list_of(const struct runs *r, uint32_t client, bool hex, char *buf, size_t len)
{
	struct run cur = { 0 };
	bool have = false;
	size_t off = 0;
	char one[32];

	buf[0] = 0;
	for (size_t i = 0; i <= r->n && off < len; i++) {
		const struct run *x = i < r->n ? &r->v[i] : NULL;

		if (x && x->o.client_id != client)
			continue;
		if (x && have && cur.last + 1 == x->first) {
			cur.last = x->last;
			continue;
		}
		if (have) {
			range_text(&cur, hex, one, sizeof(one));
			off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? "," : "", one);
		}
		if (x)
			cur = *x;
		have = x;
	}
	if (!buf[0])
		snprintf(buf, len, "-");
}

/* ---- JSON -------------------------------------------------------------- */

/* {"first","last","client_id","host","mac"[,"peer"][,"natt"]} */
static struct json_object *run_json(const struct run *x, bool sa, bool port)
{
	struct json_object *o = json_object_new_object();
	char a[INET_ADDRSTRLEN], m[18];
	bool ok = o && json_put_u64(o, "first", x->first) && json_put_u64(o, "last", x->last) &&
		  json_put_u64(o, "client_id", x->o.client_id) &&
		  json_put_str(o, "host", ip(x->o.host_addr, a)) && json_put_str(o, "mac", mac(x->o.mac, m));

	if (ok && sa)
		ok = json_put_str(o, "peer", ip(x->peer, a));
	if (ok && port)
		ok = json_put(o, "natt", json_object_new_boolean(x->flags & XDNAT_PORT_NATT));
	if (ok)
		return o;
	json_object_put(o);
	return NULL;
}

static bool runs_json(struct json_object *doc, const char *key, const struct runs *r,
		      uint32_t client, bool all, bool sa, bool port)
{
	struct json_object *arr = json_object_new_array();
	bool ok = json_put(doc, key, arr);

	for (size_t i = 0; ok && i < r->n; i++)
		if (all || r->v[i].o.client_id == client)
			ok = json_put(arr, NULL, run_json(&r->v[i], sa, port));
	return ok;
}

/* ---- the commands ------------------------------------------------------ */

/* A document that says where it comes from: "offline":true, "bpffs":DIR. */
static struct json_object *offline_doc(const struct maps *m)
{
	struct json_object *doc = json_doc_new();

	if (doc && json_put(doc, "offline", json_object_new_boolean(1)) &&
	    json_put_str(doc, "bpffs", m->dir))
		return doc;
	json_object_put(doc);
	return NULL;
}

/* The columns' titles, as the first row of a new table. */
static struct table *titled(unsigned int n, const char *const *titles)
{
	struct table *t = table_new(n);

	for (unsigned int i = 0; i < n; i++)
		table_add(t, "%s", titles[i]);
	return t;
}

static int stats(const struct maps *m, bool json, FILE *out, char *err, size_t errlen)
{
	struct xdnat_counter sum[XDNAT_REASON_MAX];
	struct json_object *doc, *dp;
	int fd = pinned_open(m->dir, PINNED_STATS), rc;
	struct table *t;
	bool ok;

	if (fd < 0) {
		snprintf(err, errlen, "%s/%s: %s", m->dir, PINNED_STATS, strerror(-fd));
		return fd;
	}
	rc = pinned_read_stats(fd, sum);
	close(fd);
	if (rc) {
		snprintf(err, errlen, "%s/%s: %s", m->dir, PINNED_STATS, strerror(-rc));
		return rc;
	}
	if (json) {
		doc = offline_doc(m);
		ok = doc && json_put(doc, "dataplane", dp = json_object_new_object());
		for (int r = 0; ok && r < XDNAT_REASON_MAX; r++) {
			struct json_object *c = json_object_new_object();

			ok = json_put(dp, reason_names[r], c) && json_put_u64(c, "packets", sum[r].packets) &&
			     json_put_u64(c, "bytes", sum[r].bytes);
		}
		return json_doc_finish(out, doc, ok);
	}
	t = titled(3, (const char *const[]){ "DATAPLANE", "PACKETS", "BYTES" });
	for (int r = 0; r < XDNAT_REASON_MAX; r++) {
		table_add(t, "%s", reason_names[r]);
		table_add(t, "%llu", (unsigned long long)sum[r].packets);
		table_add(t, "%llu", (unsigned long long)sum[r].bytes);
	}
	table_print(t, out);
	return 0;
}

static int hosts(const struct maps *m, bool json, FILE *out)
{
	char a[INET_ADDRSTRLEN], mc[18], ports[4096], spis[4096];
	struct json_object *doc, *arr;
	struct table *t;
	bool ok;

	if (json) {
		doc = offline_doc(m);
		ok = doc && json_put(doc, "hosts", arr = json_object_new_array());
		for (size_t i = 0; ok && i < m->hosts.n; i++) {
			const struct run *h = &m->hosts.v[i];
			struct json_object *o = json_object_new_object();

			ok = json_put(arr, NULL, o) && json_put_u64(o, "client_id", h->o.client_id) &&
			     json_put_str(o, "address", ip(h->first, a)) &&
			     json_put_str(o, "mac", mac(h->o.mac, mc)) &&
			     runs_json(o, "ports", &m->ports, h->o.client_id, false, false, true) &&
			     runs_json(o, "spis", &m->spis, h->o.client_id, false, false, false);
		}
		return json_doc_finish(out, doc, ok);
	}
	t = titled(5, (const char *const[]){ "CLIENT", "ADDRESS", "MAC", "PORTS", "SPIS" });
	for (size_t i = 0; i < m->hosts.n; i++) {
		const struct run *h = &m->hosts.v[i];

		list_of(&m->ports, h->o.client_id, false, ports, sizeof(ports));
		list_of(&m->spis, h->o.client_id, true, spis, sizeof(spis));
		table_add(t, "%u", h->o.client_id);
		table_add(t, "%s", ip(h->first, a));
		table_add(t, "%s", mac(h->o.mac, mc));
		table_add(t, "%s", ports);
		table_add(t, "%s", spis);
	}
	table_print(t, out);
	return 0;
}

/* sa and ports: one row per run. */
static int runs_table(const struct maps *m, const struct runs *r, bool sa, bool json,
		      FILE *out)
{
	char a[INET_ADDRSTRLEN], mc[18], range[32];
	struct json_object *doc;
	struct table *t;
	bool ok;

	if (json) {
		doc = offline_doc(m);
		ok = doc && runs_json(doc, sa ? "sas" : "ports", r, 0, true, sa, !sa);
		return json_doc_finish(out, doc, ok);
	}
	t = titled(5, (const char *const[]){ "CLIENT", "HOST", "MAC", sa ? "PEER" : "PORTS",
					     sa ? "SPIS" : "FLAGS" });
	for (size_t i = 0; i < r->n; i++) {
		const struct run *x = &r->v[i];

		range_text(x, sa, range, sizeof(range));
		table_add(t, "%u", x->o.client_id);
		table_add(t, "%s", ip(x->o.host_addr, a));
		table_add(t, "%s", mac(x->o.mac, mc));
		if (sa) {
			table_add(t, "%s", ip(x->peer, a));
			table_add(t, "%s", range);
		} else {
			table_add(t, "%s", range);
			table_add(t, "%s", x->flags & XDNAT_PORT_NATT ? "natt" : "-");
		}
	}
	table_print(t, out);
	return 0;
}

/* The command's word, or NULL; *json when --json is among the words. */
static const char *command(int nwords, char **words, bool *json, int *n)
{
	const char *cmd = NULL;

	*json = false;
	*n = 0;
	for (int i = 0; i < nwords; i++) {
		if (!strcmp(words[i], "--json")) {
			*json = true;
		} else {
			cmd = cmd ? cmd : words[i];
			(*n)++;
		}
	}
	return cmd;
}

bool offline_supported(int nwords, char **words)
{
	static const char *const cmds[] = { "stats", "hosts", "sa", "ports" };
	const char *cmd;
	bool json;
	int n;

	cmd = command(nwords, words, &json, &n);
	for (size_t i = 0; cmd && n == 1 && i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(cmd, cmds[i]))
			return true;
	return false;
}

int offline_command(const char *bpffs, int nwords, char **words, FILE *out, char *what,
		    size_t whatlen, char *err, size_t errlen)
{
	struct maps m = { .dir = bpffs };
	struct xdnat_layout l;
	const char *cmd;
	bool json;
	int n, rc = pinned_layout_read(bpffs, &l);

	pinned_layout_describe(rc, &l, what, whatlen);
	if (rc == -ENOENT) {
		snprintf(err, errlen, "no pinned maps in %s (--bpffs)", bpffs);
		return rc;
	}
	if (rc || l.layout != XDNAT_MAP_LAYOUT) {
		snprintf(err, errlen, "%s holds the maps of %s; this xdnatctl reads layout %u",
			 bpffs, what, XDNAT_MAP_LAYOUT);
		return -EPROTO;
	}
	cmd = command(nwords, words, &json, &n);
	if (!strcmp(cmd, "stats"))
		return stats(&m, json, out, err, errlen);
	if (!strcmp(cmd, "sa")) {
		rc = read_map(bpffs, "xdnat_sa", K_SA, &m.sas, err, errlen);
	} else {
		rc = read_map(bpffs, "xdnat_ports", K_PORTS, &m.ports, err, errlen);
		if (!rc && !strcmp(cmd, "hosts"))
			rc = read_map(bpffs, "xdnat_spiblk", K_SPIBLK, &m.spis, err, errlen);
		if (!rc && !strcmp(cmd, "hosts"))
			rc = read_map(bpffs, "xdnat_hosts", K_HOSTS, &m.hosts, err, errlen);
	}
	if (!rc) {
		if (!strcmp(cmd, "hosts"))
			rc = hosts(&m, json, out);
		else
			rc = runs_table(&m, !strcmp(cmd, "sa") ? &m.sas : &m.ports,
					!strcmp(cmd, "sa"), json, out);
		if (rc)
			snprintf(err, errlen, "%s: %s", cmd, strerror(-rc));
	}
	free(m.ports.v);
	free(m.spis.v);
	free(m.sas.v);
	free(m.hosts.v);
	return rc;
}
