/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The PAP counters (struct gw_stats) across restarts: the file
 * "pap_counters.json" in the state directory, replaced atomically
 * (lib/atomic_file.h) each second they changed and at shutdown, and read at
 * start, so /metrics and `xdnatctl stats` continue their series as the
 * pinned data-plane counters do. Keyed by name, not by position: counters
 * added later start at 0, unknown names are ignored. A crash loses at most
 * the last second's counts (never the state: that is state.c's).
 */
#ifndef XDNAT_PAP_COUNTERS_H
#define XDNAT_PAP_COUNTERS_H

#include <stddef.h>
#include "gateway/gateway.h"

#define PAP_COUNTERS_FILE	"pap_counters.json"

/* dir's counters into *s (all zero when there is no file). 0, or -errno with
 * err set (a file that does not parse). */
int pap_counters_load(const char *dir, struct gw_stats *s, char *err, size_t errlen);
/* *s into dir's file. 0 or -errno. */
int pap_counters_save(const char *dir, const struct gw_stats *s);
/* Save *s when it differs from *saved, which then becomes *s; a failure is
 * logged (once until a save succeeds again). */
void pap_counters_sync(const char *dir, const struct gw_stats *s, struct gw_stats *saved);

#endif
