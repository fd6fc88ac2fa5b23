/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * `xdnat-host status`: what the agent holds, as a text table (lib/table.h)
 * or one JSON document (json-c, lib/json_out.h; keys in docs/xdnat-host.md).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>
#include "xdnat.h"
#include "host/agent.h"
#include "lib/json_out.h"
#include "lib/table.h"

static struct json_object *ip_json(uint32_t a)
{
	return json_object_new_string(ip(a).s);
}

/* "DIR/NAME" */
static struct json_object *path_json(const char *dir, const char *name)
{
	char buf[PATH_MAX + 32];

	snprintf(buf, sizeof(buf), "%s/%s", dir, name);
	return json_object_new_string(buf);
}

/* [{"first":F,"last":L}] when has, else [] */
static struct json_object *range_json(bool has, uint32_t first, uint32_t last)
{
	struct json_object *arr = json_object_new_array(), *r;

	if (arr && has) {
		r = json_object_new_object();
		json_object_object_add(r, "first", json_object_new_int64(first));
		json_object_object_add(r, "last", json_object_new_int64(last));
		json_object_array_add(arr, r);
	}
	return arr;
}

static struct json_object *peers_json(const struct host_state *st)
{
	struct json_object *arr = json_object_new_array();

	for (unsigned int i = 0; arr && i < st->n_peers; i++) {
		struct json_object *p = json_object_new_object();

		json_object_object_add(p, "peer", ip_json(st->peers[i].peer));
		json_object_object_add(p, "spi_first", json_object_new_int64(st->peers[i].spi_first));
		json_object_object_add(p, "spi_last", json_object_new_int64(st->peers[i].spi_last));
		json_object_array_add(arr, p);
	}
	return arr;
}

static struct json_object *tunnel_json(const struct xdnat_counter *ctr, bool have_ctr)
{
	static const char *const names[] = XDNAT_HOST_COUNTER_NAMES;
	struct json_object *t = json_object_new_object();

	_Static_assert(sizeof(names) / sizeof(names[0]) == XDNAT_HOST_CTR_MAX,
		       "a name for every host_tunnel counter");

	for (int i = 0; t && have_ctr && i < XDNAT_HOST_CTR_MAX; i++) {
		struct json_object *c = json_object_new_object();

		json_object_object_add(c, "packets", json_object_new_uint64(ctr[i].packets));
		json_object_object_add(c, "bytes", json_object_new_uint64(ctr[i].bytes));
		json_object_object_add(t, names[i], c);
	}
	return t;
}

/* "encap 5, decap 3, ... packets": every counter, in the enum's order. */
static void tunnel_text(const struct xdnat_counter *ctr, struct table *t)
{
	static const char *const names[] = XDNAT_HOST_COUNTER_NAMES;
	char line[256];
	size_t n = 0;

	line[0] = 0;
	for (int i = 0; i < XDNAT_HOST_CTR_MAX && n < sizeof(line); i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s %llu", i ? ", " : "",
				      names[i], (unsigned long long)ctr[i].packets);
	table_add(t, "%s packets", line);
}

/* What is really in place, read back from the kernel now. */
struct live {
	bool ok;			/* read back at all */
	bool dev;			/* --dev exists */
	struct host_net_live net;
	struct host_tc_live tc;
};

static void read_live(struct agent *a, struct live *l)
{
	struct host_net n = agent_net(&a->st);
	int ifindex = (int)if_nametoindex(a->st.dev);

	memset(l, 0, sizeof(*l));
	l->dev = ifindex > 0;
	l->ok = !host_net_probe(&n, &l->net);
	if (l->dev)
		host_tc_probe(&a->tc, ifindex, &l->tc);
}

static const char *const restored_keys[WATCH_MAX] = {
	[WATCH_ADDR] = "address", [WATCH_RULE] = "rule", [WATCH_ROUTE] = "route",
	[WATCH_TC] = "tc_filters", [WATCH_SYSCTL] = "sysctls",
};

static struct json_object *live_json(const struct agent *a, const struct live *l)
{
	struct json_object *o = json_object_new_object(), *r = json_object_new_object();

	if (!o || !r) {
		json_object_put(o);
		json_object_put(r);
		return NULL;
	}
	json_object_object_add(o, "read_back", json_object_new_boolean(l->ok));
	json_object_object_add(o, "dev", json_object_new_boolean(l->dev));
	json_object_object_add(o, "address", json_object_new_boolean(l->net.addr));
	json_object_object_add(o, "rule", json_object_new_boolean(l->net.rule));
	json_object_object_add(o, "route", json_object_new_boolean(l->net.route));
	json_object_object_add(o, "route_mtu", l->net.route && l->net.route_mtu ?
			       json_object_new_int64(l->net.route_mtu) : NULL);
	json_object_object_add(o, "tc_egress",
			       json_object_new_string(host_tc_filter_name(l->tc.egress)));
	json_object_object_add(o, "tc_ingress",
			       json_object_new_string(host_tc_filter_name(l->tc.ingress)));
	json_object_object_add(o, "sysctls", json_object_new_boolean(l->dev &&
				       !l->net.sysctl_wrong));
	for (int p = 0; p < WATCH_MAX; p++)
		json_object_object_add(r, restored_keys[p],
				       json_object_new_int64(a->watch.piece[p].restored));
	json_object_object_add(o, "restored", r);
	return o;
}

static const char *yes(bool b)
{
	return b ? "present" : "MISSING";
}

static void live_text(const struct agent *a, const struct live *l, struct table *t)
{
	const struct watch_piece_stat *ps = a->watch.piece;

	table_add(t, "in place");
	if (!l->ok) {
		table_add(t, "unknown (the kernel could not be asked)");
	} else {
		table_add(t, "address %s, rule %s, route %s", yes(l->net.addr), yes(l->net.rule),
			  yes(l->net.route));
		table_add(t, " ");
		if (l->net.route && l->net.route_mtu)
			table_add(t, "route mtu %u; tc egress %s, ingress %s%s", l->net.route_mtu,
				  host_tc_filter_name(l->tc.egress),
				  host_tc_filter_name(l->tc.ingress), l->dev ? "" : " (no device)");
		else
			table_add(t, "tc egress %s, ingress %s%s", host_tc_filter_name(l->tc.egress),
				  host_tc_filter_name(l->tc.ingress), l->dev ? "" : " (no device)");
		table_add(t, " ");
		table_add(t, "sysctls %s", l->dev && !l->net.sysctl_wrong ? "as needed" : "CHANGED");
	}
	table_add(t, "restored");
	table_add(t, "address %u, rule %u, route %u, tc filters %u, sysctls %u time(s)",
		  ps[WATCH_ADDR].restored, ps[WATCH_RULE].restored, ps[WATCH_ROUTE].restored,
		  ps[WATCH_TC].restored, ps[WATCH_SYSCTL].restored);
}

static int status_json(struct agent *a, FILE *out, int64_t left,
		       const struct xdnat_counter *ctr, bool have_ctr)
{
	struct live l;
	const struct host_state *st = &a->st;
	struct json_object *d = json_doc_new();
	char line[HOST_SWAN_LINE_MAX];
	bool cert = a->cert.have;

	if (!d)
		return -ENOMEM;
	read_live(a, &l);
#define ADD(k, v) json_object_object_add(d, k, v)
	ADD("gateway", ip_json(st->gateway));
	ADD("pap_port", json_object_new_int(st->pap_port));
	ADD("client_id", json_object_new_int64(st->client_id));
	ADD("global", ip_json(st->global));
	ADD("ports", range_json(st->has_ports, st->ports.first, st->ports.last));
	ADD("spis", range_json(st->has_spis, st->spis.first, st->spis.last));
	ADD("ike_port", json_object_new_int(st->has_ports ? st->ports.first : 0));
	ADD("natt_port", json_object_new_int(st->natt_port));
	ADD("lease_seconds", json_object_new_int64(st->lease));
	ADD("lease_remaining", json_object_new_int64(left));
	ADD("validated_peers", peers_json(st));
	ADD("dev", json_object_new_string(st->dev));
	ADD("host_address", ip_json(st->host_addr));
	ADD("table", json_object_new_int64(st->table));
	ADD("tunnel", tunnel_json(ctr, have_ctr));
	ADD("in_place", live_json(a, &l));
	ADD("state_file", path_json(a->o->state_dir, HOST_STATE_FILE));
	ADD("socket", json_object_new_string(a->o->socket_path));
	if (st->swan.dir[0] && !host_cmd_line(&host_cmd_strongswan, &st->swan, line, sizeof(line)))
		ADD("strongswan", json_object_new_string(line));
	else
		ADD("strongswan", NULL);
	ADD("certificate", cert ? path_json(a->cert.dir, HOST_CERT_CRT) : NULL);
	ADD("key", cert ? path_json(a->cert.dir, HOST_CERT_KEY) : NULL);
	ADD("ca_chain", cert ? path_json(a->cert.dir, HOST_CERT_CHAIN) : NULL);
	ADD("crl", cert && a->crl_time ? path_json(a->cert.dir, HOST_CERT_CRL) : NULL);
	ADD("cert_serial", cert ? json_object_new_string(a->cert.serial) : NULL);
	ADD("cert_not_before", cert ? json_object_new_int64(a->cert.not_before) : NULL);
	ADD("cert_not_after", cert ? json_object_new_int64(a->cert.not_after) : NULL);
#undef ADD
	return json_doc_print(out, d);
}

static void status_text(struct agent *a, FILE *out, int64_t left,
			const struct xdnat_counter *ctr, bool have_ctr)
{
	const struct host_state *st = &a->st;
	struct table *t = table_new(2);
	char line[HOST_SWAN_LINE_MAX];
	struct live l;

	table_add(t, "gateway");
	table_add(t, "%s port %u", ip(st->gateway).s, st->pap_port);
	table_add(t, "client");
	table_add(t, "%u", st->client_id);
	table_add(t, "global");
	table_add(t, "%s", ip(st->global).s);
	table_add(t, "ports");
	table_add(t, "%u-%u (%u)", st->ports.first, st->ports.last, nports(&st->ports));
	table_add(t, "ike port");
	table_add(t, "%u", st->ports.first);
	table_add(t, "nat-t port");
	if (st->natt_port)
		table_add(t, "%u", st->natt_port);
	else
		table_add(t, "none");
	table_add(t, "spis");
	if (st->has_spis)
		table_add(t, "0x%x-0x%x (%" PRIu64 ")", st->spis.first, st->spis.last,
			  nspis(&st->spis));
	else
		table_add(t, "none");
	table_add(t, "lease");
	table_add(t, "%u s granted, %" PRId64 " s left", st->lease, left);
	table_add(t, "peers");
	if (!st->n_peers)
		table_add(t, "none validated");
	for (unsigned int i = 0; i < st->n_peers; i++) {
		if (i)
			table_add(t, " ");
		table_add(t, "%s spis 0x%x-0x%x", ip(st->peers[i].peer).s,
			  st->peers[i].spi_first, st->peers[i].spi_last);
	}
	table_add(t, "interface");
	table_add(t, "%s (%s), rule from %s lookup table %u", st->dev, ip(st->host_addr).s,
		  ip(st->global).s, st->table);
	table_add(t, "tunnel");
	if (have_ctr)
		tunnel_text(ctr, t);
	else
		table_add(t, "counters unavailable");
	read_live(a, &l);
	live_text(a, &l, t);
	table_add(t, "state");
	table_add(t, "%s/%s", a->o->state_dir, HOST_STATE_FILE);
	table_add(t, "socket");
	table_add(t, "%s", a->o->socket_path);
	if (st->swan.dir[0] && !host_cmd_line(&host_cmd_strongswan, &st->swan, line,
					      sizeof(line))) {
		table_add(t, "strongswan");
		table_add(t, "%s", line);
	}
	table_add(t, "certificate");
	if (a->cert.have) {
		char until[40];

		table_add(t, "%s/%s, serial %s, valid until %s (%" PRId64 " s left)",
			  a->cert.dir, HOST_CERT_CRT, a->cert.serial,
			  agent_utc(a->cert.not_after, until, sizeof(until)),
			  a->cert.not_after > (int64_t)time(NULL) ?
			  a->cert.not_after - (int64_t)time(NULL) : 0);
		table_add(t, "key");
		table_add(t, "%s/%s", a->cert.dir, HOST_CERT_KEY);
		table_add(t, "ca chain");
		table_add(t, "%s/%s", a->cert.dir, HOST_CERT_CHAIN);
		table_add(t, "crl");
		if (a->crl_time)
			table_add(t, "%s/%s", a->cert.dir, HOST_CERT_CRL);
		else
			table_add(t, "none yet");
	} else {
		table_add(t, "none yet");
		table_add(t, "key");
		table_add(t, "none yet");
	}
	table_print(t, out);
}

int agent_status(struct agent *a, bool json, FILE *out)
{
	struct xdnat_counter ctr[XDNAT_HOST_CTR_MAX];
	int64_t left = (int64_t)a->st.lease_expires - (int64_t)time(NULL);
	bool have_ctr = !host_tc_counters(&a->tc, ctr);

	if (left < 0)
		left = 0;
	if (json)
		return status_json(a, out, left, ctr, have_ctr);
	status_text(a, out, left, ctr, have_ctr);
	return 0;
}

