/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* /metrics in the Prometheus text format (metrics.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include "gateway/metrics.h"
#include "lib/httpd.h"
#include "lib/log.h"
#include "lib/version.h"

struct metrics {
	struct httpd *httpd;
	struct metrics_src src;
};

static const char *const reason_names[XDNAT_REASON_MAX] = XDNAT_REASON_NAMES;

/* HELP and TYPE of one metric family. */
static void family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A family of one series without labels. */
static void single(FILE *out, const char *name, const char *type, const char *help,
		   uint64_t v)
{
	family(out, name, type, help);
	fprintf(out, "%s %llu\n", name, (unsigned long long)v);
}

/* The PAP totals: counters with their help, in gw_stats order. */
static void pap_totals(FILE *out, const struct gw_stats *s)
{
	const struct {
		const char *name, *help;
		uint64_t v;
	} t[] = {
		{ "xdnat_pap_datagrams_total", "PAP datagrams received", s->datagrams },
		{ "xdnat_pap_replies_total", "PAP replies sent, errors included", s->replies },
		{ "xdnat_pap_silent_total", "PAP datagrams dropped without an answer",
		  s->silent },
		{ "xdnat_pap_retransmits_total", "PAP requests answered from the reply cache",
		  s->retransmits },
		{ "xdnat_pap_registrations_total", "hosts registered", s->registered },
		{ "xdnat_pap_deregistrations_total", "hosts deregistered", s->deregistered },
		{ "xdnat_pap_wrong_source_total",
		  "PAP requests dropped: not from their host's address", s->wrong_source },
		{ "xdnat_pap_cookies_total", "REGISTERs answered with a COOKIE", s->cookies },
		{ "xdnat_pap_reclaimed_total", "registrations never used, reclaimed early",
		  s->reclaimed },
		{ "xdnat_pap_send_errors_total", "PAP replies the kernel refused to send",
		  s->send_errors },
		{ "xdnat_pap_foreign_total", "PAP datagrams from outside the hosts' subnets",
		  s->foreign },
		{ "xdnat_lease_expiries_total", "leases that ran out", s->expired },
		{ "xdnat_certificates_issued_total", "host certificates issued by the CA",
		  s->certs_issued },
		{ "xdnat_certificates_revoked_total", "host certificates revoked by the CA",
		  s->certs_revoked },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		single(out, t[i].name, "counter", t[i].help, t[i].v);
}

static void pap_by_label(FILE *out, const struct gw_stats *s)
{
	family(out, "xdnat_pap_requests_total", "counter", "PAP requests by type");
	for (int t = PAP_REGISTER; t <= PAP_TYPE_MAX; t += 2)
		fprintf(out, "xdnat_pap_requests_total{type=\"%s\"} %llu\n",
			pap_type_name((uint8_t)t), (unsigned long long)s->requests[t]);
	family(out, "xdnat_pap_errors_total", "counter", "PAP ERROR replies by code");
	for (int e = 1; e <= PAP_E_MAX; e++)
		if (strcmp(pap_err_name(e), "unknown"))
			fprintf(out, "xdnat_pap_errors_total{code=\"%s\"} %llu\n", pap_err_name(e),
				(unsigned long long)s->errors[e]);
}

static void share(FILE *out, const struct gw *g)
{
	const struct gw_config *c = gw_get_config(g);
	size_t n = gw_host_count(g);
	uint64_t ports = 0, spis = 0;

	for (size_t i = 0; i < n; i++) {
		ports += host_port_total(gw_host_at(g, i));
		spis += host_spi_total(gw_host_at(g, i));
	}
	single(out, "xdnat_hosts", "gauge", "registered hosts", n);
	single(out, "xdnat_hosts_max", "gauge", "registered hosts at most (--max-hosts)",
	       c->max_hosts);
	single(out, "xdnat_ports_held", "gauge", "ports of G the hosts hold", ports);
	single(out, "xdnat_ports_free", "gauge", "ports of G free to hand out",
	       gw_ports_free(g));
	single(out, "xdnat_spis_held", "gauge", "SPIs the hosts hold", spis);
	single(out, "xdnat_spis_free", "gauge", "SPIs free to hand out", gw_spis_free(g));
	single(out, "xdnat_sa_entries", "gauge",
	       "established-SA map entries the validations take (SPIs x peers)",
	       gw_sa_entries(g));
	single(out, "xdnat_sa_entries_max", "gauge", "the SA map's size (--sa-entries)",
	       c->sa_table);
}

/* Per address of the pool (issue 15), labelled global="G". */
static void pool(FILE *out, const struct gw *g)
{
	static const char *const name[3] = {
		"xdnat_pool_hosts", "xdnat_pool_ports_held", "xdnat_pool_ports_free"
	};
	static const char *const help[3] = {
		"registered hosts holding the global address",
		"ports of the global address the hosts hold",
		"ports of the global address free to hand out",
	};

	for (int k = 0; k < 3; k++) {
		family(out, name[k], "gauge", help[k]);
		for (size_t i = 0; i < gw_pool_count(g); i++) {
			uint32_t a = gw_pool_at(g, i);
			char gl[INET_ADDRSTRLEN];
			uint64_t v = 0;

			if (k == 0)
				v = gw_pool_hosts(g, i);
			else if (k == 2)
				v = gw_pool_ports_free(g, i);
			for (size_t h = 0; k == 1 && h < gw_host_count(g); h++)
				if (gw_host_at(g, h)->global == a)
					v += host_port_total(gw_host_at(g, h));
			inet_ntop(AF_INET, &a, gl, sizeof(gl));
			fprintf(out, "%s{global=\"%s\"} %llu\n", name[k], gl,
				(unsigned long long)v);
		}
	}
}

static void dataplane(FILE *out, const struct dataplane_stats *dp)
{
	static const struct dataplane_stats none;
	const struct dataplane_stats *d = dp ? dp : &none;

	single(out, "xdnat_dataplane_up", "gauge",
	       "1 when the XDP data plane runs (--ext-if and --int-if)", dp != NULL);
	family(out, "xdnat_dataplane_packets_total", "counter",
	       "packets per data-plane verdict and drop reason, all CPUs");
	for (int r = 0; r < XDNAT_REASON_MAX; r++)
		fprintf(out, "xdnat_dataplane_packets_total{reason=\"%s\"} %llu\n",
			reason_names[r], (unsigned long long)d->reason[r].packets);
	family(out, "xdnat_dataplane_bytes_total", "counter",
	       "bytes per data-plane verdict and drop reason, all CPUs");
	for (int r = 0; r < XDNAT_REASON_MAX; r++)
		fprintf(out, "xdnat_dataplane_bytes_total{reason=\"%s\"} %llu\n",
			reason_names[r], (unsigned long long)d->reason[r].bytes);
	single(out, "xdnat_dataplane_sync_errors_total", "counter",
	       "map updates that failed", d->sync_errors);
	single(out, "xdnat_dataplane_neigh_failures_total", "counter",
	       "host MAC resolutions that failed", d->neigh_failures);
	single(out, "xdnat_dataplane_nexthop_events_total", "counter",
	       "next hops without a neighbour entry the programs reported",
	       d->nexthop_events);
	single(out, "xdnat_dataplane_nexthop_resolved_total", "counter",
	       "of those, resolved", d->nexthop_resolved);
	single(out, "xdnat_dataplane_nexthop_failed_total", "counter",
	       "of those, still unresolved 10 s later", d->nexthop_failed);
}

int metrics_render(FILE *out, const struct gw *g, const struct dataplane_stats *dp,
		   const struct ca *ca)
{
	family(out, "xdnat_build_info", "gauge", "the release of xdnatd, always 1");
	fprintf(out, "xdnat_build_info{version=\"%s\"} 1\n", xdnat_version);
	share(out, g);
	pool(out, g);
	pap_totals(out, gw_get_stats(g));
	pap_by_label(out, gw_get_stats(g));
	single(out, "xdnat_crl_revoked_certificates", "gauge",
	       "serials on the CA's certificate revocation list", ca ? ca_revoked_count(ca) : 0);
	dataplane(out, dp);
	return ferror(out) ? -EIO : 0;
}

static enum MHD_Result serve(void *ctx, struct MHD_Connection *conn, const char *url)
{
	struct metrics *m = ctx;
	struct dataplane_stats ds;
	enum MHD_Result rc;
	char *body = NULL;
	size_t len = 0;
	FILE *out;
	int err = 0;

	if (strcmp(url, "/metrics"))
		return httpd_text(conn, MHD_HTTP_NOT_FOUND, "/metrics\n");
	if (m->src.dp)
		err = dataplane_read_stats(m->src.dp, &ds);
	out = err ? NULL : open_memstream(&body, &len);
	if (out) {
		err = metrics_render(out, m->src.g, m->src.dp ? &ds : NULL, m->src.ca);
		if (fclose(out))
			err = -EIO;
	} else if (!err) {
		err = -ENOMEM;
	}
	if (err) {
		log_err("/metrics: %s", strerror(-err));
		free(body);
		return httpd_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "no metrics\n");
	}
	rc = httpd_reply(conn, MHD_HTTP_OK, METRICS_CONTENT_TYPE, body, len);
	free(body);
	return rc;
}

int metrics_start(uint32_t addr, uint16_t port, const struct metrics_src *src,
		  struct metrics **out)
{
	struct metrics *m = calloc(1, sizeof(*m));
	int err;

	if (!m)
		return -ENOMEM;
	m->src = *src;
	err = httpd_start(addr, port, serve, m, &m->httpd);
	if (err) {
		free(m);
		return err;
	}
	*out = m;
	return 0;
}

int metrics_fd(const struct metrics *m)
{
	return httpd_fd(m->httpd);
}

uint16_t metrics_port(const struct metrics *m)
{
	return httpd_port(m->httpd);
}

void metrics_run(struct metrics *m)
{
	if (m)
		httpd_run(m->httpd);
}

void metrics_stop(struct metrics *m)
{
	if (!m)
		return;
	httpd_stop(m->httpd);
	free(m);
}
