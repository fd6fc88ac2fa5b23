/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdnatd's control commands (gw_commands.h): one command line in, the
 * gateway's answer (views.c renders it) or a one-line error out.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include "gateway/gw_commands.h"
#include "gateway/views.h"

/* The answer view_*() rendered: 0, or its -errno with err set. */
static int answered(int rc, const char *cmd, char *err, size_t errlen)
{
	if (rc)
		snprintf(err, errlen, "%s: %s", cmd, strerror(-rc));
	return rc;
}

static int stats(struct gw *g, struct dataplane *dp, bool json, FILE *out, char *err,
		 size_t errlen)
{
	struct dataplane_stats ds;
	int rc = dp ? dataplane_read_stats(dp, &ds) : 0;

	if (rc) {
		snprintf(err, errlen, "stats: reading the data-plane counters: %s",
			 strerror(-rc));
		return rc;
	}
	return answered(view_stats(out, g, dp ? &ds : NULL, json), "stats", err, errlen);
}

static int free_host(struct gw *g, const char *arg, bool json, FILE *out, char *err,
		     size_t errlen)
{
	char *end;
	unsigned long id = strtoul(arg, &end, 10);
	int rc;

	if (*end || !id || id > UINT32_MAX) {
		snprintf(err, errlen, "free: '%s' is not a client id", arg);
		return -EINVAL;
	}
	rc = gw_drop_host(g, (uint32_t)id);
	if (!rc)
		rc = gw_commit(g);
	if (rc == -ENOENT) {
		snprintf(err, errlen, "free: no host %lu", id);
		return rc;
	}
	if (rc) {
		snprintf(err, errlen, "free: could not persist the change: %s",
			 strerror(-rc));
		return rc;
	}
	return answered(view_freed(out, (uint32_t)id, json), "free", err, errlen);
}

/* ca: the chain external peers trust, as ca_chain_pem() gives it. */
static int ca_chain(struct ca *ca, bool json, FILE *out, char *err, size_t errlen)
{
	char *pem;
	size_t len;
	int rc = ca ? ca_chain_pem(ca, &pem, &len) : -EOPNOTSUPP;

	if (rc) {
		snprintf(err, errlen, "ca: %s", strerror(-rc));
		return rc;
	}
	rc = view_pem(out, "chain_pem", pem, json, -1);
	free(pem);
	return answered(rc, "ca", err, errlen);
}

/* crl: the current CRL (signed anew when over half its life), in PEM. */
static int crl(struct ca *ca, bool json, FILE *out, char *err, size_t errlen)
{
	uint8_t *der = NULL;
	char *pem = NULL;
	size_t len, plen;
	int rc = ca ? ca_crl_der(ca, &der, &len) : -EOPNOTSUPP;

	if (!rc)
		rc = cert_pem_encode("X509 CRL", der, len, &pem, &plen);
	OPENSSL_free(der);
	if (rc) {
		snprintf(err, errlen, "crl: %s", strerror(-rc));
		return rc;
	}
	rc = view_pem(out, "crl_pem", pem, json, (long)ca_revoked_count(ca));
	free(pem);
	return answered(rc, "crl", err, errlen);
}

int gw_command(void *ctx, int nwords, char **words, FILE *out, char *err, size_t errlen)
{
	const struct gw_commands *c = ctx;
	char *argv[4] = { 0 };
	int argc = 0;
	bool json = false;

	for (int i = 0; i < nwords; i++) {
		if (!strcmp(words[i], "--json"))
			json = true;
		else if (argc < 3)
			argv[argc++] = words[i];
	}
	if (!argc) {
		snprintf(err, errlen, "empty command");
		return -EINVAL;
	}
	if (!strcmp(argv[0], "hosts")) {
		return answered(view_hosts(out, c->g, json), "hosts", err, errlen);
	} else if (!strcmp(argv[0], "sa")) {
		return answered(view_sas(out, c->g, json), "sa", err, errlen);
	} else if (!strcmp(argv[0], "stats")) {
		return stats(c->g, c->dp, json, out, err, errlen);
	} else if (!strcmp(argv[0], "free") && argc == 2) {
		return free_host(c->g, argv[1], json, out, err, errlen);
	} else if (!strcmp(argv[0], "ca") && argc == 1) {
		return ca_chain(c->ca, json, out, err, errlen);
	} else if (!strcmp(argv[0], "crl") && argc == 1) {
		return crl(c->ca, json, out, err, errlen);
	} else {
		snprintf(err, errlen, "unknown command '%s' (hosts, sa, stats, free ID, ca, crl)",
			 argv[0]);
		return -EINVAL;
	}
	return 0;
}
