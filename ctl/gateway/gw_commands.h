/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What xdnatd answers on its control socket (docs/xdnatctl.md): hosts, sa,
 * stats, free CLIENT, ca, crl, state dump, state backup DIR, token
 * issue/list/revoke and status, each with --json. The transport is
 * ctlsock.h.
 */
#ifndef XDNAT_GW_COMMANDS_H
#define XDNAT_GW_COMMANDS_H

#include <stddef.h>
#include <stdio.h>
#include "gateway/ca.h"
#include "gateway/dataplane.h"
#include "gateway/gateway.h"

struct gw_commands {
	struct gw *g;
	struct dataplane *dp;		/* NULL without a data plane */
	struct ca *ca;			/* the local CA */
	struct state_store *store;	/* NULL: no state directory (tests) */
	const char *restart_keys;	/* keys a reload could not apply, blank-separated */
};

/* A ctlsock_handler; ctx is a struct gw_commands. 0, or -errno with err set. */
int gw_command(void *ctx, int nwords, char **words, FILE *out, char *err, size_t errlen);

#endif
