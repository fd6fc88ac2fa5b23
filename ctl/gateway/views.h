/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What xdnatctl shows: the gateway's tables rendered as aligned text or as
 * JSON with stable keys (docs/xdnatctl.md). Pure formatting, no I/O but out.
 */
#ifndef XDNAT_VIEWS_H
#define XDNAT_VIEWS_H

#include <stdbool.h>
#include <stdio.h>
#include "gateway/dataplane.h"
#include "gateway/gateway.h"

void view_hosts(FILE *out, const struct gw *g, bool json);
void view_sas(FILE *out, const struct gw *g, bool json);
/* dp: the data-plane counters, NULL when xdnatd runs without a data plane. */
void view_stats(FILE *out, const struct gw *g, const struct dataplane_stats *dp,
		bool json);

/* A PEM document as it is, or with json {"KEY":"PEM"} (and "revoked":N when
 * revoked >= 0). */
void view_pem(FILE *out, const char *key, const char *pem, bool json, long revoked);

#endif
