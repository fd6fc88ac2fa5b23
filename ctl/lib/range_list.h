/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Lists of number ranges in the kernel's bitmap-sysctl format, "a-b,c,d-e"
 * (net.ipv4.ip_local_reserved_ports): parsed, kept sorted and merged (no two
 * ranges touch), united, subtracted and written back. Fixed size: a list
 * that would need more than RANGE_LIST_MAX ranges is refused (-E2BIG).
 */
#ifndef XDNAT_RANGE_LIST_H
#define XDNAT_RANGE_LIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RANGE_LIST_MAX	256

struct range {
	uint32_t lo, hi;	/* inclusive */
};

struct range_list {
	size_t n;
	struct range r[RANGE_LIST_MAX];	/* sorted, disjoint, not adjacent */
};

/* "a-b,c,..." (spaces, tabs and a trailing newline allowed; "" is the empty
 * list), each number <= max. 0, -EINVAL or -E2BIG. */
int range_list_parse(const char *s, uint32_t max, struct range_list *out);
/* The canonical text ("" when empty). 0 or -ENOSPC. */
int range_list_format(const struct range_list *l, char *buf, size_t len);

/* l |= [lo, hi]. 0 or -E2BIG (l unchanged). */
int range_list_add(struct range_list *l, uint32_t lo, uint32_t hi);
/* dst |= src. 0 or -E2BIG (dst partly united). */
int range_list_union(struct range_list *dst, const struct range_list *src);
/* l &= ~sub. 0 or -E2BIG (a hole splitting too many ranges). */
int range_list_subtract(struct range_list *l, const struct range_list *sub);

bool range_list_overlaps(const struct range_list *l, uint32_t lo, uint32_t hi);
/* Every number of [lo, hi] is in l. */
bool range_list_covers(const struct range_list *l, uint32_t lo, uint32_t hi);
bool range_list_equal(const struct range_list *a, const struct range_list *b);

#endif
