/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What xdnatd answers on its control socket (docs/xdnatctl.md): hosts, sa,
 * stats, free CLIENT, ca, crl, state dump, state backup DIR and token
 * issue/list/revoke, each with --json. The transport is
 * ctlsock.h.
 */
#ifndef XDNAT_GW_COMMANDS_H
#define XDNAT_GW_COMMANDS_H

#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include "gateway/ca.h"
#include "gateway/dataplane.h"
#include "gateway/gateway.h"
#include "lib/ctlsock.h"

struct gw_commands {
	struct gw *g;
	struct dataplane *dp;		/* NULL without a data plane */
	struct ca *ca;			/* the local CA */
	struct state_store *store;	/* NULL: no state directory (tests) */
	gid_t ro_gid;			/* --ctl-group: read commands only; -1: none */
};

/* A ctlsock_handler; ctx is a struct gw_commands. 0, or -errno with err set. */
int gw_command(void *ctx, int nwords, char **words, FILE *out, char *err, size_t errlen);

/* Does the command only read (hosts, sa, stats, ca, crl, state dump, token
 * list)? Everything else changes the gateway or writes files. */
bool gw_command_read_only(int nwords, char **words);
/* A ctlsock_auth: root and xdnatd's own user run everything, members of
 * ro_gid the read commands; everyone else is refused. */
int gw_command_auth(void *ctx, const struct ctlsock_peer *peer, int nwords, char **words,
		    char *err, size_t errlen);

#endif
