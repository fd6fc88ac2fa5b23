/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The pinned maps as files, without the BPF objects: the counters of
 * xdnat_stats (one entry per reason, each naming it) and the layout record
 * xdnat_layout (common/xdnat.h). xdnatd uses this at start and
 * for its counters, xdnatctl to read the maps when xdnatd is down, the test
 * rigs to read the counters as xdnatd does.
 */
#ifndef XDNAT_PINNED_H
#define XDNAT_PINNED_H

#include <stddef.h>
#include "xdnat.h"

#define PINNED_STATS	"xdnat_stats"
#define PINNED_LAYOUT	"xdnat_layout"

/* Every reason's counters in xdnat_stats (fd), summed over the CPUs.
 * 0 or -errno. */
int pinned_read_stats(int fd, struct xdnat_counter sum[XDNAT_REASON_MAX]);
/* Write each entry's reason where it is missing (the programs write it when
 * they count), so that a dump names them all. 0 or -errno. */
int pinned_stats_name(int fd);

/* Write our layout and release into xdnat_layout (fd). 0 or -errno. */
int pinned_layout_write(int fd);
/*
 * The layout record pinned in dir: 0 with *out filled (layout 0: the record
 * was never written), -ENOENT when dir holds no pins at all, -ENODATA when
 * it holds pins but no record (a release before layout records: layout 1).
 */
int pinned_layout_read(const char *dir, struct xdnat_layout *out);
/* A one-line description of what pinned dir: "layout 3 (xdnatd 0.9.0)". */
void pinned_layout_describe(int rc, const struct xdnat_layout *l, char *buf, size_t len);

/* The fd of the map pinned as dir/name, or -errno. */
int pinned_open(const char *dir, const char *name);

#endif
