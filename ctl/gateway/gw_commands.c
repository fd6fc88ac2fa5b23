/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdnatd's control commands (gw_commands.h): one command line in, the
 * gateway's answer (views.c renders it) or a one-line error out.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <openssl/crypto.h>
#include "gateway/gw_commands.h"
#include "gateway/pap_counters.h"
#include "gateway/tokens.h"
#include "gateway/views.h"
#include "lib/json_out.h"
#include "pap/gw_key.h"

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
/* Besides the table: the CA, the gateway's key (hosts pinned it: a restore
 * without it would make every agent refuse the gateway) and the tokens. */
static const char *const ca_files[] = { "ca.key", "ca.crt", "crl.list", "crl.pem",
					PAP_GW_KEY_FILE, PAP_GW_PUB_FILE, TOKENS_FILE,
					PAP_COUNTERS_FILE, NULL };

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

/* ---- enrolment tokens (docs/xdnatctl.md) ------------------------------ */

static int parse_u32_arg(const char *what, const char *v, uint32_t *out, char *err,
			 size_t errlen)
{
	char *end;
	unsigned long n = v ? strtoul(v, &end, 10) : 0;

	if (!v || !*v || *end || n > UINT32_MAX) {
		snprintf(err, errlen, "token: %s wants a number, not '%s'", what, v ? v : "");
		return -EINVAL;
	}
	*out = (uint32_t)n;
	return 0;
}

static int token_saved(const struct gw_commands *c, const char *cmd, char *err,
		       size_t errlen)
{
	int rc = c->store ? tokens_save(state_dir(c->store), c->g) : 0;

	if (rc)
		snprintf(err, errlen, "%s: could not persist the tokens: %s", cmd,
			 strerror(-rc));
	return rc;
}

/* One line "ID:SECRET" for xdnat-host up --token, or its JSON. */
static int token_print(FILE *out, const struct gw_token *t, bool json)
{
	char secret[2 * GW_TOKEN_LEN + 1];
	struct json_object *doc;
	int rc;

	for (int i = 0; i < GW_TOKEN_LEN; i++)
		snprintf(secret + 2 * i, 3, "%02x", t->secret[i]);
	if (!json) {
		rc = fprintf(out, "%u:%s\n", t->id, secret) < 0 ? -EIO : 0;
	} else {
		char tok[16 + sizeof(secret)];

		snprintf(tok, sizeof(tok), "%u:%s", t->id, secret);
		doc = json_doc_new();
		if (doc) {
			json_object_object_add(doc, "id", json_object_new_int64(t->id));
			json_object_object_add(doc, "token", json_object_new_string(tok));
			json_object_object_add(doc, "uses", json_object_new_int64(t->uses_left));
			json_object_object_add(doc, "expires", json_object_new_int64((int64_t)t->expires));
			json_object_object_add(doc, "lease_hint",
					       json_object_new_int64(t->lease_hint));
		}
		rc = json_doc_print(out, doc);
		OPENSSL_cleanse(tok, sizeof(tok));
	}
	OPENSSL_cleanse(secret, sizeof(secret));
	return rc;
}

static int token_issue(const struct gw_commands *c, int argc, char **argv, bool json,
		       FILE *out, char *err, size_t errlen)
{
	uint32_t uses = 1, ttl = 0, hint = 0;
	struct gw_token t;
	int rc = 0;

	for (int i = 2; i < argc && !rc; i += 2) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(argv[i], "--uses"))
			rc = parse_u32_arg("--uses", v, &uses, err, errlen);
		else if (!strcmp(argv[i], "--ttl"))
			rc = parse_u32_arg("--ttl", v, &ttl, err, errlen);
		else if (!strcmp(argv[i], "--lease-hint"))
			rc = parse_u32_arg("--lease-hint", v, &hint, err, errlen);
		else {
			snprintf(err, errlen, "token issue: unknown option '%s' "
				 "(--uses N, --ttl SECONDS, --lease-hint SECONDS)", argv[i]);
			rc = -EINVAL;
		}
	}
	if (rc)
		return rc;
	rc = gw_token_issue(c->g, uses, ttl, hint, &t);
	if (rc) {
		snprintf(err, errlen, "token issue: %s", rc == -ENOSPC ?
			 "the token table is full: revoke some" : strerror(-rc));
		return rc;
	}
	rc = token_saved(c, "token issue", err, errlen);
	if (rc) {
		gw_token_revoke(c->g, t.id);	/* never hand out what is not kept */
	} else {
		rc = token_print(out, &t, json);
	}
	OPENSSL_cleanse(&t, sizeof(t));
	return rc;
}

static int token_list(const struct gw_commands *c, bool json, FILE *out)
{
	size_t n = gw_token_count(c->g);
	struct json_object *doc, *arr;

	if (!json) {
		if (fprintf(out, "ID      USES-LEFT  USED  EXPIRES     LEASE-HINT\n") < 0)
			return -EIO;
		for (size_t i = 0; i < n; i++) {
			const struct gw_token *t = gw_token_at(c->g, i);
			char uses[16], exp[24];

			snprintf(uses, sizeof(uses), t->uses_left ? "%u" : "unlimited",
				 t->uses_left);
			snprintf(exp, sizeof(exp), t->expires ? "%llu" : "never",
				 (unsigned long long)t->expires);
			if (fprintf(out, "%-7u %-10s %-5u %-11s %u\n", t->id, uses, t->used, exp,
				    t->lease_hint) < 0)
				return -EIO;
		}
		return 0;
	}
	doc = json_doc_new();
	arr = json_object_new_array();
	for (size_t i = 0; doc && arr && i < n; i++) {
		const struct gw_token *t = gw_token_at(c->g, i);
		struct json_object *o = json_object_new_object();

		if (!o)
			break;
		json_object_object_add(o, "id", json_object_new_int64(t->id));
		json_object_object_add(o, "uses_left", json_object_new_int64(t->uses_left));
		json_object_object_add(o, "used", json_object_new_int64(t->used));
		json_object_object_add(o, "expires", json_object_new_int64((int64_t)t->expires));
		json_object_object_add(o, "lease_hint", json_object_new_int64(t->lease_hint));
		json_object_array_add(arr, o);
	}
	if (doc && arr)
		json_object_object_add(doc, "tokens", arr);
	else
		json_object_put(arr);
	return json_doc_print(out, doc);
}

static int token_revoke(const struct gw_commands *c, const char *arg, bool json, FILE *out,
			char *err, size_t errlen)
{
	uint32_t id;
	int rc = parse_u32_arg("revoke", arg, &id, err, errlen);

	if (rc)
		return rc;
	rc = gw_token_revoke(c->g, id);
	if (rc == -ENOENT) {
		snprintf(err, errlen, "token revoke: no token %u", id);
		return rc;
	}
	rc = token_saved(c, "token revoke", err, errlen);
	if (rc)
		return rc;
	if (json) {
		struct json_object *doc = json_doc_new();

		if (doc)
			json_object_object_add(doc, "revoked", json_object_new_int64(id));
		return json_doc_print(out, doc);
	}
	return fprintf(out, "token %u revoked\n", id) < 0 ? -EIO : 0;
}

static int token(const struct gw_commands *c, int argc, char **argv, bool json, FILE *out,
		 char *err, size_t errlen)
{
	if (argc >= 2 && !strcmp(argv[1], "issue"))
		return token_issue(c, argc, argv, json, out, err, errlen);
	if (argc == 2 && !strcmp(argv[1], "list"))
		return answered(token_list(c, json, out), "token list", err, errlen);
	if (argc == 3 && !strcmp(argv[1], "revoke"))
		return token_revoke(c, argv[2], json, out, err, errlen);
	snprintf(err, errlen, "token: issue [--uses N] [--ttl SECONDS] [--lease-hint SECONDS], "
		 "list, or revoke ID");
	return -EINVAL;
}

/* hosts [--global G]: all, or those holding G of the pool. */
static int hosts(const struct gw *g, int argc, char **argv, bool json, FILE *out,
		 char *err, size_t errlen)
{
	uint32_t only = 0;

	if (argc == 3 && !strcmp(argv[1], "--global")) {
		if (inet_pton(AF_INET, argv[2], &only) != 1 || gw_pool_index(g, only) < 0) {
			snprintf(err, errlen, "hosts --global %s: not an address of the pool",
				 argv[2]);
			return -EINVAL;
		}
	} else if (argc != 1) {
		snprintf(err, errlen, "hosts [--global G]");
		return -EINVAL;
	}
	return answered(view_hosts(out, g, only, json), "hosts", err, errlen);
}

int gw_command(void *ctx, int nwords, char **words, FILE *out, char *err, size_t errlen)
{
	const struct gw_commands *c = ctx;
	char *argv[10] = { 0 };
	int argc = 0;
	bool json = false;

	for (int i = 0; i < nwords; i++) {
		if (!strcmp(words[i], "--json"))
			json = true;
		else if (argc < 9)
			argv[argc++] = words[i];
	}
	if (!argc) {
		snprintf(err, errlen, "empty command");
		return -EINVAL;
	}
	if (!strcmp(argv[0], "hosts")) {
		return hosts(c->g, argc, argv, json, out, err, errlen);
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
	} else if (!strcmp(argv[0], "token")) {
		return token(c, argc, argv, json, out, err, errlen);
	} else {
		snprintf(err, errlen, "unknown command '%s' (hosts, sa, stats, free ID, ca, crl, "
			 "state dump, state backup DIR, token)", argv[0]);
		return -EINVAL;
	}
	return 0;
}

bool gw_command_read_only(int nwords, char **words)
{
	static const char *const reads[] = { "hosts", "sa", "stats", "ca", "crl" };
	const char *w[2] = { NULL, NULL };
	int k = 0;

	for (int i = 0; i < nwords && k < 2; i++)
		if (strcmp(words[i], "--json"))
			w[k++] = words[i];
	if (!w[0])
		return true;	/* refused as empty anyway */
	for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++)
		if (!strcmp(w[0], reads[i]))
			return true;
	return w[1] && ((!strcmp(w[0], "state") && !strcmp(w[1], "dump")) ||
			(!strcmp(w[0], "token") && !strcmp(w[1], "list")));
}

int gw_command_auth(void *ctx, const struct ctlsock_peer *peer, int nwords, char **words,
		    char *err, size_t errlen)
{
	const struct gw_commands *c = ctx;

	if (!peer->uid || peer->uid == geteuid())
		return 0;
	if (c->ro_gid == (gid_t)-1 || !ctlsock_peer_in_group(peer, c->ro_gid)) {
		snprintf(err, errlen, "permission denied: uid %u is not root nor in xdnatd's "
			 "--ctl-group", (unsigned int)peer->uid);
		return -EPERM;
	}
	if (gw_command_read_only(nwords, words))
		return 0;
	snprintf(err, errlen, "%s: permission denied: --ctl-group may read, only root may "
		 "change the gateway", nwords ? words[0] : "");
	return -EPERM;
}
