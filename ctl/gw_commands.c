/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdnatd's control commands (gw_commands.h): one command line in, the
 * gateway's answer (views.c renders it) or a one-line error out.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "gw_commands.h"
#include "views.h"

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
	view_stats(out, g, dp ? &ds : NULL, json);
	return 0;
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
	fprintf(out, json ? "{\"freed\":%lu}\n" : "host %lu freed\n", id);
	return 0;
}

int gw_command(void *ctx, char *line, FILE *out, char *err, size_t errlen)
{
	const struct gw_commands *c = ctx;
	char *argv[4] = { 0 }, *save = NULL;
	int argc = 0;
	bool json = false;

	for (char *tok = strtok_r(line, " \t\r\n", &save); tok;
	     tok = strtok_r(NULL, " \t\r\n", &save)) {
		if (!strcmp(tok, "--json"))
			json = true;
		else if (argc < 3)
			argv[argc++] = tok;
	}
	if (!argc) {
		snprintf(err, errlen, "empty command");
		return -EINVAL;
	}
	if (!strcmp(argv[0], "hosts")) {
		view_hosts(out, c->g, json);
	} else if (!strcmp(argv[0], "sa")) {
		view_sas(out, c->g, json);
	} else if (!strcmp(argv[0], "stats")) {
		return stats(c->g, c->dp, json, out, err, errlen);
	} else if (!strcmp(argv[0], "free") && argc == 2) {
		return free_host(c->g, argv[1], json, out, err, errlen);
	} else if (!strcmp(argv[0], "ca")) {
		snprintf(err, errlen, "the local certificate authority is not built yet");
		return -EOPNOTSUPP;
	} else {
		snprintf(err, errlen, "unknown command '%s' (hosts, sa, stats, free ID, ca)",
			 argv[0]);
		return -EINVAL;
	}
	return 0;
}
