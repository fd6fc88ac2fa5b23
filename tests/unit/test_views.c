/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdnatctl's views (views.c) of a gateway driven with PAP requests: every
 * --json answer parsed back with json-c (keys in their order, types,
 * values), and the text tables.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "gateway/gw_commands.h"
#include "gateway/views.h"
#include "lib/json_out.h"
#include "lib/version.h"
#include "gw_fixture.h"
#include "test_lines.h"

/* What one view printed: open_memstream, then text (malloc'd) once closed. */
struct capture {
	FILE *out;
	char *text;
	size_t len;
};

static FILE *capture_open(struct capture *c)
{
	c->text = NULL;
	c->out = open_memstream(&c->text, &c->len);
	assert_non_null(c->out);
	return c->out;
}

static char *capture_close(struct capture *c)
{
	assert_int_equal(fclose(c->out), 0);
	return c->text;
}

/* Parse a whole JSON answer: one document, then exactly one newline. */
static struct json_object *parse_answer(const char *text)
{
	size_t n = strlen(text);
	struct json_object *o;

	assert_true(n > 1);
	assert_int_equal(text[n - 1], '\n');
	assert_true(strchr(text, '\n') == text + n - 1);	/* one line */
	o = json_tokener_parse(text);
	if (!o)
		fail_msg("not JSON: %s", text);
	return o;
}

/* o is an object whose keys are exactly keys[] (NULL-ended), in that order. */
static void assert_keys(struct json_object *o, const char *const *keys)
{
	size_t i = 0;

	assert_int_equal(json_object_get_type(o), json_type_object);
	json_object_object_foreach(o, k, v) {
		(void)v;
		if (!keys[i])
			fail_msg("unexpected key \"%s\"", k);
		assert_string_equal(k, keys[i]);
		i++;
	}
	if (keys[i])
		fail_msg("key \"%s\" missing", keys[i]);
}

static struct json_object *member(struct json_object *o, const char *key,
				  enum json_type type)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no key \"%s\"", key);
	if (!json_object_is_type(v, type))
		fail_msg("\"%s\" is a %s, not a %s", key, json_type_to_name(json_object_get_type(v)),
			 json_type_to_name(type));
	return v;
}

static uint64_t num(struct json_object *o, const char *key)
{
	return json_object_get_uint64(member(o, key, json_type_int));
}

static const char *str(struct json_object *o, const char *key)
{
	return json_object_get_string(member(o, key, json_type_string));
}

static void assert_schema(struct json_object *doc)
{
	assert_int_equal(num(doc, "schema"), XDNAT_JSON_SCHEMA);
	assert_string_equal(str(doc, "version"), xdnat_version);
}

static void assert_block(struct json_object *a, size_t i, uint64_t first, uint64_t last)
{
	static const char *const keys[] = { "first", "last", NULL };
	struct json_object *b = json_object_array_get_idx(a, i);

	assert_keys(b, keys);
	assert_int_equal(num(b, "first"), first);
	assert_int_equal(num(b, "last"), last);
}

/*
 * Host A (client 1): two port blocks 20000-20063 and 20064-20079, SPIs
 * 4096-4223 (100 rounded up), NAT-T on 20001, peer PEER validated. Host B
 * (client 2): registered, nothing held. Then 7 seconds pass: 53 left of the
 * 60-second leases. One QUERY from an unknown client: a register-first error.
 */
static void populate(struct fx *f)
{
	struct pap_session a = { 0 }, b = { 0 }, stranger = { .client_id = 99 };

	do_register(f, &a, HOST_A);
	do_register(f, &b, HOST_B);
	assert_int_equal(ask_ports(f, &a, 64, NULL), 0);
	assert_int_equal(ask_ports(f, &a, 16, NULL), 0);
	assert_int_equal(ask_spis(f, &a, 100), 0);
	assert_int_equal(peer_req(f, &a, PAP_EXT_VALIDATE, PEER, NULL), 0);
	assert_int_equal(natt_req(f, &a, 20001), 0);
	assert_int_equal(bare_req(f, &stranger, PAP_QUERY), PAP_E_REGISTER_FIRST);
	f->now += 7;
}

static void test_hosts_json(void **state)
{
	static const char *const doc_keys[] = { "schema", "version", "hosts", "ports_free", "spis_free", NULL };
	static const char *const host_keys[] = {
		"client_id", "address", "global", "lease_seconds", "lease_remaining", "ports",
		"spis", "natt_port", "validated_peers", NULL
	};
	struct fx *f = *state;
	struct capture c;
	struct json_object *doc, *hosts, *h, *ports;

	populate(f);
	assert_int_equal(view_hosts(capture_open(&c), f->g, 0, true), 0);
	doc = parse_answer(capture_close(&c));
	assert_keys(doc, doc_keys);
	assert_schema(doc);
	assert_int_equal(num(doc, "ports_free"), 1000 - 80);
	assert_int_equal(num(doc, "spis_free"), 0xffffffffull - 4096 + 1 - 128);
	hosts = member(doc, "hosts", json_type_array);
	assert_int_equal(json_object_array_length(hosts), 2);

	h = json_object_array_get_idx(hosts, 0);
	assert_keys(h, host_keys);
	assert_int_equal(num(h, "client_id"), 1);
	assert_string_equal(str(h, "address"), "10.0.0.11");
	assert_string_equal(str(h, "global"), "198.51.100.1");
	assert_int_equal(num(h, "lease_seconds"), 60);
	assert_int_equal(num(h, "lease_remaining"), 53);
	ports = member(h, "ports", json_type_array);
	assert_int_equal(json_object_array_length(ports), 2);
	assert_block(ports, 0, 20000, 20063);
	assert_block(ports, 1, 20064, 20079);
	assert_int_equal(json_object_array_length(member(h, "spis", json_type_array)), 1);
	assert_block(member(h, "spis", json_type_array), 0, 4096, 4223);
	assert_int_equal(num(h, "natt_port"), 20001);
	assert_int_equal(num(h, "validated_peers"), 1);

	h = json_object_array_get_idx(hosts, 1);
	assert_keys(h, host_keys);
	assert_int_equal(num(h, "client_id"), 2);
	assert_string_equal(str(h, "address"), "10.0.0.12");
	assert_int_equal(json_object_array_length(member(h, "ports", json_type_array)), 0);
	assert_int_equal(json_object_array_length(member(h, "spis", json_type_array)), 0);
	assert_int_equal(num(h, "natt_port"), 0);
	assert_int_equal(num(h, "validated_peers"), 0);
	json_object_put(doc);
	free(c.text);
}

/* The layout is byte for byte what xdnatctl printed before json-c, plus
 * "schema" and "version": scripts that matched the text keep working. */
static void test_hosts_json_bytes(void **state)
{
	struct fx *f = *state;
	struct capture c;
	char want[512];

	assert_int_equal(view_hosts(capture_open(&c), f->g, 0, true), 0);
	snprintf(want, sizeof(want), "{\"schema\":1,\"version\":\"%s\",\"hosts\":[],"
		 "\"ports_free\":1000,\"spis_free\":4294963200}\n", xdnat_version);
	assert_string_equal(capture_close(&c), want);
	free(c.text);
	populate(f);
	assert_int_equal(view_sas(capture_open(&c), f->g, true), 0);
	snprintf(want, sizeof(want), "{\"schema\":1,\"version\":\"%s\",\"sas\":[{\"client_id\":1,"
		 "\"host\":\"10.0.0.11\",\"peer\":\"203.0.113.10\",\"spi_first\":4096,"
		 "\"spi_last\":4223}]}\n", xdnat_version);
	assert_string_equal(capture_close(&c), want);
	free(c.text);
}

static void test_sas_json(void **state)
{
	static const char *const doc_keys[] = { "schema", "version", "sas", NULL };
	static const char *const sa_keys[] = {
		"client_id", "host", "peer", "spi_first", "spi_last", NULL
	};
	struct fx *f = *state;
	struct capture c;
	struct json_object *doc, *sas, *sa;

	assert_int_equal(view_sas(capture_open(&c), f->g, true), 0);
	doc = parse_answer(capture_close(&c));
	assert_keys(doc, doc_keys);
	assert_int_equal(json_object_array_length(member(doc, "sas", json_type_array)), 0);
	json_object_put(doc);
	free(c.text);

	populate(f);
	assert_int_equal(view_sas(capture_open(&c), f->g, true), 0);
	doc = parse_answer(capture_close(&c));
	assert_keys(doc, doc_keys);
	assert_schema(doc);
	sas = member(doc, "sas", json_type_array);
	assert_int_equal(json_object_array_length(sas), 1);
	sa = json_object_array_get_idx(sas, 0);
	assert_keys(sa, sa_keys);
	assert_int_equal(num(sa, "client_id"), 1);
	assert_string_equal(str(sa, "host"), "10.0.0.11");
	assert_string_equal(str(sa, "peer"), "203.0.113.10");
	assert_int_equal(num(sa, "spi_first"), 4096);
	assert_int_equal(num(sa, "spi_last"), 4223);
	json_object_put(doc);
	free(c.text);
}

static const char *const stats_keys[] = {
	"schema", "version", "hosts", "pool", "pap", "dataplane", "dataplane_sync_errors",
	"dataplane_neigh_failures", "dataplane_nexthop_events", "dataplane_nexthop_resolved",
	"dataplane_nexthop_failed", NULL
};

static void assert_pap_stats(struct json_object *doc)
{
	static const char *const pap_keys[] = {
		"datagrams", "replies", "silent", "retransmits", "registered", "deregistered",
		"expired", "send_errors", "foreign", "requests", "errors", NULL
	};
	static const char *const req_keys[] = {
		"register", "port", "spi", "cert", "ext-validate", "ext-invalidate", "extend",
		"free", "deregister", "query", "natt", "crl", NULL
	};
	/* each REGISTER first gets its COOKIE (return routability) */
	static const char *const err_keys[] = { "register-first", "cookie", NULL };
	struct json_object *pap = member(doc, "pap", json_type_object);
	struct json_object *req = member(pap, "requests", json_type_object);

	assert_int_equal(num(doc, "hosts"), 2);
	assert_keys(pap, pap_keys);
	assert_int_equal(num(pap, "datagrams"), 10);
	assert_int_equal(num(pap, "replies"), 10);
	assert_int_equal(num(pap, "silent"), 0);
	assert_int_equal(num(pap, "registered"), 2);
	assert_keys(req, req_keys);
	assert_int_equal(num(req, "register"), 4);
	assert_int_equal(num(req, "port"), 2);
	assert_int_equal(num(req, "spi"), 1);
	assert_int_equal(num(req, "ext-validate"), 1);
	assert_int_equal(num(req, "natt"), 1);
	assert_int_equal(num(req, "cert"), 0);
	/* only the errors that occurred */
	assert_keys(member(pap, "errors", json_type_object), err_keys);
	assert_int_equal(num(member(pap, "errors", json_type_object), "register-first"), 1);
	assert_int_equal(num(member(pap, "errors", json_type_object), "cookie"), 2);
}

static void test_stats_json_without_dataplane(void **state)
{
	struct fx *f = *state;
	struct capture c;
	struct json_object *doc;

	populate(f);
	assert_int_equal(view_stats(capture_open(&c), f->g, NULL, true), 0);
	doc = parse_answer(capture_close(&c));
	assert_keys(doc, stats_keys);
	assert_schema(doc);
	assert_pap_stats(doc);
	member(doc, "dataplane", json_type_null);
	assert_int_equal(num(doc, "dataplane_sync_errors"), 0);
	assert_int_equal(num(doc, "dataplane_neigh_failures"), 0);
	assert_int_equal(num(doc, "dataplane_nexthop_events"), 0);
	assert_int_equal(num(doc, "dataplane_nexthop_resolved"), 0);
	assert_int_equal(num(doc, "dataplane_nexthop_failed"), 0);
	json_object_put(doc);
	free(c.text);
}

static void test_stats_json_with_dataplane(void **state)
{
	static const char *const reasons[XDNAT_REASON_MAX + 1] = XDNAT_REASON_NAMES;
	static const char *const counter_keys[] = { "packets", "bytes", NULL };
	struct fx *f = *state;
	struct dataplane_stats dp = { .sync_errors = 5, .neigh_failures = 6,
				      .nexthop_events = 7, .nexthop_resolved = 8,
				      .nexthop_failed = UINT64_MAX };
	struct capture c;
	struct json_object *doc, *o;

	for (int r = 0; r < XDNAT_REASON_MAX; r++) {
		dp.reason[r].packets = (uint64_t)r * 3 + 1;
		dp.reason[r].bytes = 1ull << 40 | (uint64_t)r;
	}
	populate(f);
	assert_int_equal(view_stats(capture_open(&c), f->g, &dp, true), 0);
	doc = parse_answer(capture_close(&c));
	assert_keys(doc, stats_keys);
	assert_pap_stats(doc);
	o = member(doc, "dataplane", json_type_object);
	assert_keys(o, reasons);	/* every reason, in enum order */
	for (int r = 0; r < XDNAT_REASON_MAX; r++) {
		struct json_object *cnt = member(o, reasons[r], json_type_object);

		assert_keys(cnt, counter_keys);
		assert_int_equal(num(cnt, "packets"), (uint64_t)r * 3 + 1);
		assert_int_equal(num(cnt, "bytes"), 1ull << 40 | (uint64_t)r);
	}
	assert_int_equal(num(doc, "dataplane_sync_errors"), 5);
	/* a uint64 keeps its full range (not a signed or floating value) */
	assert_int_equal(num(doc, "dataplane_neigh_failures"), 6);
	assert_int_equal(num(doc, "dataplane_nexthop_events"), 7);
	assert_int_equal(num(doc, "dataplane_nexthop_resolved"), 8);
	assert_non_null(strstr(c.text, "\"dataplane_nexthop_failed\":18446744073709551615}"));
	assert_true(num(doc, "dataplane_nexthop_failed") == UINT64_MAX);
	json_object_put(doc);
	free(c.text);
}

static const char tricky_pem[] =
	"-----BEGIN X509 CRL-----\n"
	"MIIB\"quoted\"\\back/slash\n"
	"-----END X509 CRL-----\n";

static void test_pem_json(void **state)
{
	static const char *const chain_keys[] = { "schema", "version", "chain_pem", NULL };
	static const char *const crl_keys[] = { "schema", "version", "crl_pem", "revoked", NULL };
	struct capture c;
	struct json_object *doc;

	(void)state;
	assert_int_equal(view_pem(capture_open(&c), "chain_pem", tricky_pem, true, -1), 0);
	doc = parse_answer(capture_close(&c));
	assert_keys(doc, chain_keys);
	assert_schema(doc);
	assert_string_equal(str(doc, "chain_pem"), tricky_pem);
	/* newlines escaped (one line), "/" left as it is */
	assert_non_null(strstr(c.text, "\\\"quoted\\\"\\\\back/slash\\n"));
	json_object_put(doc);
	free(c.text);

	assert_int_equal(view_pem(capture_open(&c), "crl_pem", tricky_pem, true, 3), 0);
	doc = parse_answer(capture_close(&c));
	assert_keys(doc, crl_keys);
	assert_string_equal(str(doc, "crl_pem"), tricky_pem);
	assert_int_equal(num(doc, "revoked"), 3);
	json_object_put(doc);
	free(c.text);

	assert_int_equal(view_pem(capture_open(&c), "crl_pem", tricky_pem, true, 0), 0);
	doc = parse_answer(capture_close(&c));
	assert_int_equal(num(doc, "revoked"), 0);	/* 0 revoked is still said */
	json_object_put(doc);
	free(c.text);
}

static void test_freed(void **state)
{
	static const char *const keys[] = { "schema", "version", "freed", NULL };
	struct capture c;
	struct json_object *doc;

	(void)state;
	assert_int_equal(view_freed(capture_open(&c), 4000000000u, true), 0);
	doc = parse_answer(capture_close(&c));
	assert_keys(doc, keys);
	assert_schema(doc);
	assert_int_equal(num(doc, "freed"), 4000000000u);
	json_object_put(doc);
	free(c.text);

	assert_int_equal(view_freed(capture_open(&c), 7, false), 0);
	assert_string_equal(capture_close(&c), "host 7 freed\n");
	free(c.text);
}

static void test_text_views(void **state)
{
	struct fx *f = *state;
	struct dataplane_stats dp = { .sync_errors = 5, .neigh_failures = 6,
				      .nexthop_events = 7, .nexthop_resolved = 8,
				      .nexthop_failed = 9 };
	struct capture c;
	char *t;

	populate(f);
	assert_int_equal(view_hosts(capture_open(&c), f->g, 0, false), 0);
	t = capture_close(&c);
	assert_line(t, "CLIENT  ADDRESS    LEASE  SAS  PORTS                    SPIS");
	assert_line(t, "1       10.0.0.11  53s    1    20000-20063,20064-20079  0x1000-0x107f");
	assert_line(t, "2       10.0.0.12  53s    0    -                        -");
	assert_line(t, "2 host(s); 920 ports and 4294963072 SPIs of 198.51.100.1 free");
	free(t);

	assert_int_equal(view_sas(capture_open(&c), f->g, false), 0);
	t = capture_close(&c);
	assert_string_equal(t, "CLIENT  HOST       PEER          SPIS\n"
			       "1       10.0.0.11  203.0.113.10  0x1000-0x107f\n");
	free(t);

	assert_int_equal(view_stats(capture_open(&c), f->g, NULL, false), 0);
	t = capture_close(&c);
	assert_line(t, "COUNTER                     VALUE");
	assert_line(t, "hosts                       2");
	assert_line(t, "pap.datagrams               10");
	assert_line(t, "pap.request.ext-validate    1");
	assert_line(t, "pap.error.register-first    1");
	assert_line(t, "data plane: off (xdnatd runs without --ext-if and --int-if)");
	assert_no_line(t, "dataplane.sync_errors       0");
	free(t);

	dp.reason[0].packets = 11;
	dp.reason[0].bytes = 1500;
	assert_int_equal(view_stats(capture_open(&c), f->g, &dp, false), 0);
	t = capture_close(&c);
	assert_line(t, "dataplane.sync_errors       5");
	assert_line(t, "dataplane.neigh_failures    6");
	assert_line(t, "dataplane.nexthop_events    7");
	assert_line(t, "dataplane.nexthop_resolved  8");
	assert_line(t, "dataplane.nexthop_failed    9");
	assert_line(t, "nexthop_unresolved    0        0");
	assert_line(t, "DATAPLANE             PACKETS  BYTES");
	assert_line(t, "pass_stack            11       1500");
	assert_line(t, "icmp_frag_needed      0        0");
	free(t);

	assert_int_equal(view_pem(capture_open(&c), "crl_pem", tricky_pem, false, 3), 0);
	assert_string_equal(capture_close(&c), tricky_pem);	/* as it is */
	free(c.text);
}

/* state dump: everything but the secrets, parsed back. */
static void test_state_dump(void **state)
{
	static const char *const doc_keys[] = { "schema", "version", "meta", "hosts", "ports_free",
						"spis_free", NULL };
	static const char *const meta_keys[] = { "next_client_id", "global", "pool",
						 "state_written", "now", NULL };
	static const char *const host_keys[] = {
		"client_id", "address", "global", "lease_seconds", "lease_remaining", "ports",
		"spis", "natt_port", "validated_peers", "lease_expires", "cert_serial",
		"cert_expires", "sas", NULL
	};
	static const char *const sa_keys[] = { "peer", "spi_first", "spi_last", NULL };
	struct fx *f = *state;
	struct state_meta m;
	struct capture c;
	struct json_object *doc, *meta, *hosts, *h, *sas, *serial;
	char *text;

	populate(f);
	gw_state_meta(f->g, &m);
	assert_int_equal(m.next_client_id, 3);
	assert_int_equal(view_state_dump(capture_open(&c), f->g, &m, 999990), 0);
	text = capture_close(&c);
	doc = parse_answer(text);
	assert_keys(doc, doc_keys);
	assert_schema(doc);
	meta = member(doc, "meta", json_type_object);
	assert_keys(meta, meta_keys);
	assert_int_equal(num(meta, "next_client_id"), 3);
	assert_string_equal(str(meta, "global"), "198.51.100.1");
	assert_int_equal(json_object_array_length(member(meta, "pool", json_type_array)), 1);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(
		member(meta, "pool", json_type_array), 0)), "198.51.100.1");
	assert_int_equal(num(meta, "state_written"), 999990);
	assert_int_equal(num(meta, "now"), f->now);
	hosts = member(doc, "hosts", json_type_array);
	assert_int_equal(json_object_array_length(hosts), 2);
	h = json_object_array_get_idx(hosts, 0);
	assert_keys(h, host_keys);
	assert_int_equal(num(h, "lease_expires"), f->now + 53);
	assert_true(json_object_object_get_ex(h, "cert_serial", &serial));
	assert_null(serial);		/* no certificate issued */
	sas = member(h, "sas", json_type_array);
	assert_int_equal(json_object_array_length(sas), 1);
	assert_keys(json_object_array_get_idx(sas, 0), sa_keys);
	assert_string_equal(str(json_object_array_get_idx(sas, 0), "peer"), "203.0.113.10");
	assert_int_equal(num(json_object_array_get_idx(sas, 0), "spi_first"), 4096);
	assert_int_equal(num(json_object_array_get_idx(sas, 0), "spi_last"), 4223);
	/* never a secret: no key names one, and no 32-byte hex blob shows up */
	assert_null(strstr(text, "secret"));
	assert_null(strstr(text, "mac"));
	assert_null(strstr(text, "pub"));
	json_object_put(doc);
	free(text);
}

/* state backup DIR through the control command: loads back as the table;
 * the state directory itself and relative paths are refused. */
static void test_state_backup(void **state)
{
	struct fx *f = *state;
	char root[64] = "/tmp/xdnat-backup-XXXXXX", live[96], dir[96], err[512];
	char *words[3] = { "state", "backup", dir };
	struct gw_config cfg = base_config();
	struct state_store *st, *back;
	struct state_image img = { 0 };
	struct gw_commands c;
	struct capture cap;

	assert_non_null(mkdtemp(root));
	snprintf(live, sizeof(live), "%s/live", root);
	snprintf(dir, sizeof(dir), "%s/copy", root);
	gw_free(f->g);
	assert_int_equal(state_open(live, &st), 0);
	assert_int_equal(state_load(st, &img, err, sizeof(err)), 0);
	state_image_free(&img);
	f->store = NULL;
	assert_int_equal(gw_new(&cfg, st, fake_clock, f, &f->g), 0);
	populate(f);
	assert_int_equal(gw_commit(f->g), 0);
	c = (struct gw_commands){ .g = f->g, .store = st };

	assert_int_equal(gw_command(&c, 3, words, capture_open(&cap), err, sizeof(err)), 0);
	capture_close(&cap);
	snprintf(err, sizeof(err), "backup of 2 host(s) in %s\n", dir);
	assert_string_equal(cap.text, err);
	free(cap.text);
	assert_int_equal(state_open(dir, &back), 0);
	assert_int_equal(state_load(back, &img, err, sizeof(err)), 0);
	assert_int_equal(img.n_hosts, 2);
	assert_int_equal(img.meta.next_client_id, 3);
	assert_int_equal(img.hosts[0].n_ports, 2);
	assert_int_equal(img.hosts[0].n_sas, 1);
	assert_memory_equal(img.hosts[0].secret, gw_host_at(f->g, 0)->secret, PAP_KEY_LEN);
	state_image_free(&img);
	state_close(back);

	words[2] = live;
	assert_int_equal(gw_command(&c, 3, words, capture_open(&cap), err, sizeof(err)), -EINVAL);
	capture_close(&cap);
	free(cap.text);
	assert_non_null(strstr(err, "is the state directory itself"));
	words[2] = "relative/dir";
	assert_int_equal(gw_command(&c, 3, words, capture_open(&cap), err, sizeof(err)), -EINVAL);
	capture_close(&cap);
	free(cap.text);
	assert_string_equal(err, "state backup: 'relative/dir' is not an absolute path");

	gw_free(f->g);
	f->g = NULL;
	state_close(st);
	snprintf(err, sizeof(err), "rm -rf '%s'", root);
	assert_int_equal(system(err), 0);
	fx_start(f, &cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hosts_json, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_hosts_json_bytes, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_sas_json, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_stats_json_without_dataplane, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_stats_json_with_dataplane, fx_setup,
						fx_teardown),
		cmocka_unit_test(test_pem_json),
		cmocka_unit_test(test_freed),
		cmocka_unit_test_setup_teardown(test_text_views, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_state_dump, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_state_backup, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests_name("views", tests, NULL, NULL);
}
