/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdnatd's /metrics (--metrics-listen ADDR:PORT): the Prometheus text
 * exposition format (version 0.0.4), every series listed in docs/xdnatd.md
 * and always present, 0 included. Served by lib/httpd.h from the daemon's
 * own epoll loop, not a thread: the gateway's tables and counters are only
 * ever touched by that loop, so a scrape renders a consistent snapshot
 * without a lock, between two PAP batches (a scrape takes microseconds).
 */
#ifndef XDNAT_METRICS_H
#define XDNAT_METRICS_H

#include <stdint.h>
#include <stdio.h>
#include "gateway/ca.h"
#include "gateway/dataplane.h"
#include "gateway/gateway.h"

#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

/* What a scrape reads: dp and ca may be NULL (no data plane, no CA). */
struct metrics_src {
	const struct gw *g;
	struct dataplane *dp;
	const struct ca *ca;
};

struct metrics;

/* Render every series into out; dp: the data plane's counters, NULL when
 * there is none (its series then read 0 and xdnat_dataplane_up 0). 0 or -EIO. */
int metrics_render(FILE *out, const struct gw *g, const struct dataplane_stats *dp,
		   const struct ca *ca);

/* Serve src's /metrics on addr:port (network order; port host order, 0:
 * any). 0 or -errno. src is read at every scrape. */
int metrics_start(uint32_t addr, uint16_t port, const struct metrics_src *src,
		  struct metrics **out);
int metrics_fd(const struct metrics *m);
uint16_t metrics_port(const struct metrics *m);
void metrics_run(struct metrics *m);	/* NULL: nothing */
void metrics_stop(struct metrics *m);

#endif
