/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include "gateway/views.h"
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

void view_hosts(FILE *out, const struct gw *g, bool json)
{
	char a[INET_ADDRSTRLEN], gl[INET_ADDRSTRLEN], pl[512], sl[512];
	size_t n = gw_host_count(g);
	struct table *t;

	if (json) {
		fprintf(out, "{\"hosts\":[");
		for (size_t i = 0; i < n; i++) {
			const struct host *h = gw_host_at(g, i);

			fprintf(out, "%s{\"client_id\":%u,\"address\":\"%s\",\"global\":\"%s\","
				"\"lease_seconds\":%u,\"lease_remaining\":%llu,\"ports\":[",
				i ? "," : "", h->client_id, ip(h->addr, a), ip(h->global, gl),
				h->lease_secs, (unsigned long long)left(g, h));
			for (unsigned int k = 0; k < h->n_ports; k++)
				fprintf(out, "%s{\"first\":%u,\"last\":%u}", k ? "," : "",
					h->ports[k].first, h->ports[k].last);
			fprintf(out, "],\"spis\":[");
			for (unsigned int k = 0; k < h->n_spis; k++)
				fprintf(out, "%s{\"first\":%u,\"last\":%u}", k ? "," : "",
					h->spis[k].first, h->spis[k].last);
			fprintf(out, "],\"natt_port\":%u,\"validated_peers\":%u}",
				h->natt_port, h->n_sas);
		}
		fprintf(out, "],\"ports_free\":%u,\"spis_free\":%llu}\n", gw_ports_free(g),
			(unsigned long long)gw_spis_free(g));
		return;
	}
	t = table_new(6);
	table_add(t, "CLIENT");
	table_add(t, "ADDRESS");
	table_add(t, "LEASE");
	table_add(t, "SAS");
	table_add(t, "PORTS");
	table_add(t, "SPIS");
	for (size_t i = 0; i < n; i++) {
		const struct host *h = gw_host_at(g, i);

		port_list(h, pl, sizeof(pl));
		spi_list(h, sl, sizeof(sl));
		table_add(t, "%u", h->client_id);
		table_add(t, "%s", ip(h->addr, a));
		table_add(t, "%llus", (unsigned long long)left(g, h));
		table_add(t, "%u", h->n_sas);
		table_add(t, "%s", pl);
		table_add(t, "%s", sl);
	}
	table_print(t, out);
	fprintf(out, "%zu host(s); %u ports and %llu SPIs of %s free\n", n,
		gw_ports_free(g), (unsigned long long)gw_spis_free(g),
		ip(gw_get_config(g)->global, gl));
}

void view_sas(FILE *out, const struct gw *g, bool json)
{
	char a[INET_ADDRSTRLEN], p[INET_ADDRSTRLEN];
	size_t n = gw_host_count(g);
	bool first = true;
	struct table *t = json ? NULL : table_new(4);

	if (json)
		fprintf(out, "{\"sas\":[");
	table_add(t, "CLIENT");
	table_add(t, "HOST");
	table_add(t, "PEER");
	table_add(t, "SPIS");
	for (size_t i = 0; i < n; i++) {
		const struct host *h = gw_host_at(g, i);

		for (unsigned int k = 0; k < h->n_sas; k++) {
			const struct pap_sa *sa = &h->sas[k];

			if (json) {
				fprintf(out, "%s{\"client_id\":%u,\"host\":\"%s\",\"peer\":\"%s\","
					"\"spi_first\":%u,\"spi_last\":%u}", first ? "" : ",",
					h->client_id, ip(h->addr, a), ip(sa->peer, p),
					sa->spi_first, sa->spi_last);
				first = false;
				continue;
			}
			table_add(t, "%u", h->client_id);
			table_add(t, "%s", ip(h->addr, a));
			table_add(t, "%s", ip(sa->peer, p));
			table_add(t, "0x%x-0x%x", sa->spi_first, sa->spi_last);
		}
	}
	if (json)
		fprintf(out, "]}\n");
	else
		table_print(t, out);
}

static const char *const reason_names[XDNAT_REASON_MAX] = XDNAT_REASON_NAMES;

static void dataplane_json(FILE *out, const struct dataplane_stats *dp)
{
	fprintf(out, ",\"dataplane\":");
	if (!dp) {
		fprintf(out, "null,\"dataplane_sync_errors\":0,\"dataplane_neigh_failures\":0");
		return;
	}
	for (int r = 0; r < XDNAT_REASON_MAX; r++)
		fprintf(out, "%s\"%s\":{\"packets\":%llu,\"bytes\":%llu}", r ? "," : "{",
			reason_names[r], (unsigned long long)dp->reason[r].packets,
			(unsigned long long)dp->reason[r].bytes);
	fprintf(out, "},\"dataplane_sync_errors\":%llu,\"dataplane_neigh_failures\":%llu",
		(unsigned long long)dp->sync_errors, (unsigned long long)dp->neigh_failures);
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

void view_stats(FILE *out, const struct gw *g, const struct dataplane_stats *dp,
		bool json)
{
	const struct gw_stats *s = gw_get_stats(g);
	const struct { const char *name; uint64_t v; } totals[] = {
		{ "datagrams", s->datagrams },
		{ "replies", s->replies },
		{ "silent", s->silent },
		{ "retransmits", s->retransmits },
		{ "registered", s->registered },
		{ "deregistered", s->deregistered },
		{ "expired", s->expired },
	};
	const size_t nt = sizeof(totals) / sizeof(totals[0]);
	struct table *t;
	bool first = true;

	if (json) {
		fprintf(out, "{\"hosts\":%zu,\"pap\":{", gw_host_count(g));
		for (size_t i = 0; i < nt; i++)
			fprintf(out, "%s\"%s\":%llu", i ? "," : "", totals[i].name,
				(unsigned long long)totals[i].v);
		fprintf(out, ",\"requests\":{");
		for (int ty = PAP_REGISTER; ty <= PAP_TYPE_MAX; ty += 2) {
			fprintf(out, "%s\"%s\":%llu", first ? "" : ",", pap_type_name((uint8_t)ty),
				(unsigned long long)s->requests[ty]);
			first = false;
		}
		fprintf(out, "},\"errors\":{");
		first = true;
		for (int e = 1; e <= PAP_E_MAX; e++) {
			if (!s->errors[e])
				continue;
			fprintf(out, "%s\"%s\":%llu", first ? "" : ",", pap_err_name(e),
				(unsigned long long)s->errors[e]);
			first = false;
		}
		fprintf(out, "}}");
		dataplane_json(out, dp);
		fprintf(out, "}\n");
		return;
	}
	t = table_new(2);
	table_add(t, "COUNTER");
	table_add(t, "VALUE");
	table_add(t, "hosts");
	table_add(t, "%zu", gw_host_count(g));
	for (size_t i = 0; i < nt; i++) {
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
	}
	table_print(t, out);
	dataplane_table(out, dp);
}

/* JSON string body: quote, backslash and control characters escaped. */
static void json_chars(FILE *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
}

void view_pem(FILE *out, const char *key, const char *pem, bool json, long revoked)
{
	if (!json) {
		fputs(pem, out);
		return;
	}
	fprintf(out, "{\"%s\":\"", key);
	json_chars(out, pem);
	fputc('"', out);
	if (revoked >= 0)
		fprintf(out, ",\"revoked\":%ld", revoked);
	fputs("}\n", out);
}
