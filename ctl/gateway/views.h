/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What xdnatctl shows: the gateway's tables rendered as aligned text or as
 * JSON with stable keys and a "schema" version (docs/xdnatctl.md; json-c,
 * lib/json_out.h). Pure formatting, no I/O but out. Each returns 0, or
 * -ENOMEM / -EIO when the answer could not be built or written.
 */
#ifndef XDNAT_VIEWS_H
#define XDNAT_VIEWS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "gateway/dataplane.h"
#include "gateway/gateway.h"

/* only: the hosts of that G of the pool (and its free ports); 0: all. */
int view_hosts(FILE *out, const struct gw *g, uint32_t only, bool json);
int view_sas(FILE *out, const struct gw *g, bool json);
/* dp: the data-plane counters, NULL when xdnatd runs without a data plane. */
int view_stats(FILE *out, const struct gw *g, const struct dataplane_stats *dp,
	       bool json);

/* A PEM document as it is, or with json {"KEY":"PEM"} (and "revoked":N when
 * revoked >= 0). */
int view_pem(FILE *out, const char *key, const char *pem, bool json, long revoked);
/*
 * `state dump`: the daemon's state as JSON, never a secret: "meta"
 * (next_client_id, global, state_written), "hosts" (hosts' keys plus
 * lease_expires, cert_serial, cert_expires and "sas"), ports_free, spis_free.
 */
int view_state_dump(FILE *out, const struct gw *g, const struct state_meta *m,
		    uint64_t written);
/* The answer to `state backup DIR`. */
int view_backup(FILE *out, const char *dir, size_t n_hosts, bool json);
/* The answer to `free CLIENT`: "host N freed", or {"freed":N}. */
int view_freed(FILE *out, uint32_t client_id, bool json);

#endif
