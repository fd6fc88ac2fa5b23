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

/* The CA's files beside the state (ca.h), backed up with it. */
static const char *const ca_files[] = { "ca.key", "ca.crt", "crl.list", "crl.pem", NULL };

/* state backup DIR: a snapshot of the table as it is now, and the CA. */
static int state_backup_cmd(const struct gw_commands *c, const char *dir, bool json,
			    FILE *out, char *err, size_t errlen)
{
	size_t n = gw_host_count(c->g);
	const struct host **hosts = calloc(n ? n : 1, sizeof(*hosts));
	char why[400], *real = realpath(dir, NULL), *live = realpath(state_dir(c->store), NULL);
	struct state_meta m;
	int rc = 0;

	if (dir[0] != '/') {
		snprintf(err, errlen, "state backup: '%s' is not an absolute path", dir);
		rc = -EINVAL;
	} else if (real && live && !strcmp(real, live)) {
		snprintf(err, errlen, "state backup: %s is the state directory itself", dir);
		rc = -EINVAL;
	} else if (!hosts) {
		rc = answered(-ENOMEM, "state backup", err, errlen);
	}
	free(real);
	free(live);
	if (rc) {
		free(hosts);
		return rc;
	}
	for (size_t i = 0; i < n; i++)
		hosts[i] = gw_host_at(c->g, i);
	gw_state_meta(c->g, &m);
	rc = state_backup(c->store, dir, &m, hosts, n, ca_files, why, sizeof(why));
	free(hosts);
	if (rc) {
		snprintf(err, errlen, "state backup: %s", why);
		return rc;
	}
	return answered(view_backup(out, dir, n, json), "state backup", err, errlen);
}

static int state_cmd(const struct gw_commands *c, int argc, char **argv, bool json,
		     FILE *out, char *err, size_t errlen)
{
	struct state_meta m;

	if (!c->store) {
		snprintf(err, errlen, "state: no state directory");
		return -EOPNOTSUPP;
	}
	if (argc == 2 && !strcmp(argv[1], "dump")) {
		gw_state_meta(c->g, &m);
		return answered(view_state_dump(out, c->g, &m, state_written(c->store)),
				"state dump", err, errlen);
	}
	if (argc == 3 && !strcmp(argv[1], "backup"))
		return state_backup_cmd(c, argv[2], json, out, err, errlen);
	snprintf(err, errlen, "state: 'state dump' or 'state backup DIR'");
	return -EINVAL;
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
	} else if (!strcmp(argv[0], "state")) {
		return state_cmd(c, argc, argv, json, out, err, errlen);
	} else {
		snprintf(err, errlen, "unknown command '%s' (hosts, sa, stats, free ID, ca, crl, "
			 "state dump, state backup DIR)", argv[0]);
		return -EINVAL;
	}
	return 0;
}
