/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Port allocator: a segment tree over [lo, hi] where every node keeps the
 * longest free run below it, the free run touching its left edge (prefix)
 * and the one touching its right edge (suffix). Range assignments stop at
 * fully covered nodes; there is no separate lazy tag because a covered node
 * is then uniform (all free or all taken), and a uniform node's children are
 * simply rebuilt from it before anyone looks inside. Every operation is one
 * or two root-to-leaf walks: O(log n).
 */
#include <errno.h>
#include <stdlib.h>
#include "gateway/alloc.h"

struct port_node {
	uint16_t max;	/* longest free run */
	uint16_t pre;	/* free run starting at the left edge */
	uint16_t suf;	/* free run ending at the right edge */
};

struct port_alloc {
	uint16_t lo, hi;
	uint32_t n;		/* hi - lo + 1, at most 65535 */
	uint32_t nfree;
	struct port_node *t;	/* heap order: t[1] is the root, t[0] unused */
};

/* A run summary for a range query; wider than a node to sum safely. */
struct port_run {
	uint32_t len, pre, suf, max;
};

static uint32_t max_u32(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

static uint32_t mid_of(uint32_t l, uint32_t r)
{
	return l + (r - l) / 2;
}

static void pn_fill(struct port_node *p, uint32_t len, bool free)
{
	uint16_t v = free ? (uint16_t)len : 0;

	p->max = p->pre = p->suf = v;
}

/*
 * Assignments stop at covering nodes and leave the children stale. Such a
 * node is uniform until someone descends through it, so whenever a node is
 * uniform hand its state down first (a no-op when the children agree).
 */
static void pn_push(struct port_node *t, uint32_t i, uint32_t l, uint32_t r)
{
	uint32_t m = mid_of(l, r);
	bool free;

	if (t[i].max != 0 && t[i].max != r - l + 1)
		return;
	free = t[i].max != 0;
	pn_fill(&t[2 * i], m - l + 1, free);
	pn_fill(&t[2 * i + 1], r - m, free);
}

static struct port_run pn_join(struct port_run a, struct port_run b)
{
	struct port_run j;

	j.len = a.len + b.len;
	j.pre = a.pre == a.len ? a.len + b.pre : a.pre;
	j.suf = b.suf == b.len ? b.len + a.suf : b.suf;
	j.max = max_u32(max_u32(a.max, b.max), a.suf + b.pre);
	return j;
}

static struct port_run pn_run(const struct port_node *p, uint32_t len)
{
	struct port_run r = { len, p->pre, p->suf, p->max };

	return r;
}

static void pn_pull(struct port_node *t, uint32_t i, uint32_t l, uint32_t r)
{
	uint32_t m = mid_of(l, r);
	struct port_run j = pn_join(pn_run(&t[2 * i], m - l + 1),
				    pn_run(&t[2 * i + 1], r - m));

	/* j.len <= 65535, so every field fits a node. */
	t[i].max = (uint16_t)j.max;
	t[i].pre = (uint16_t)j.pre;
	t[i].suf = (uint16_t)j.suf;
}

/* Mark [ql, qr] (offsets from lo) free or taken. Depth is ~17. */
static void pn_assign(struct port_node *t, uint32_t i, uint32_t l, uint32_t r,
		      uint32_t ql, uint32_t qr, bool free)
{
	uint32_t m;

	if (ql <= l && r <= qr) {
		pn_fill(&t[i], r - l + 1, free);
		return;
	}
	pn_push(t, i, l, r);
	m = mid_of(l, r);
	if (ql <= m)
		pn_assign(t, 2 * i, l, m, ql, qr, free);
	if (qr > m)
		pn_assign(t, 2 * i + 1, m + 1, r, ql, qr, free);
	pn_pull(t, i, l, r);
}

static struct port_run pn_query(struct port_node *t, uint32_t i, uint32_t l,
				uint32_t r, uint32_t ql, uint32_t qr)
{
	uint32_t m;

	if (ql <= l && r <= qr)
		return pn_run(&t[i], r - l + 1);
	pn_push(t, i, l, r);
	m = mid_of(l, r);
	if (qr <= m)
		return pn_query(t, 2 * i, l, m, ql, qr);
	if (ql > m)
		return pn_query(t, 2 * i + 1, m + 1, r, ql, qr);
	return pn_join(pn_query(t, 2 * i, l, m, ql, qr),
		       pn_query(t, 2 * i + 1, m + 1, r, ql, qr));
}

/*
 * Start of the leftmost free run of at least want; the root must have one.
 * Going left first, then across the middle, then right keeps it leftmost.
 */
static uint32_t pn_find(struct port_node *t, uint32_t n, uint32_t want)
{
	uint32_t i = 1, l = 0, r = n - 1, m;

	while (l < r) {
		pn_push(t, i, l, r);
		m = mid_of(l, r);
		if (t[2 * i].max >= want) {
			i = 2 * i;
			r = m;
		} else if ((uint32_t)t[2 * i].suf + t[2 * i + 1].pre >= want) {
			return m + 1 - t[2 * i].suf;
		} else {
			i = 2 * i + 1;
			l = m + 1;
		}
	}
	return l;
}

struct port_alloc *port_alloc_new(uint16_t lo, uint16_t hi)
{
	struct port_alloc *a;
	uint32_t n, size = 1;

	if (lo == 0 || lo > hi)
		return NULL;
	n = (uint32_t)hi - lo + 1;
	/* Leaves are at depth <= d = ceil(log2 n), so indices < 2^(d+1). */
	while (size < n)
		size <<= 1;
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->t = calloc(2 * (size_t)size, sizeof(*a->t));
	if (!a->t) {
		free(a);
		return NULL;
	}
	a->lo = lo;
	a->hi = hi;
	a->n = n;
	a->nfree = n;
	/* A uniform root is enough: pn_push builds the rest on demand. */
	pn_fill(&a->t[1], n, true);
	return a;
}

void port_alloc_free_all(struct port_alloc *a)
{
	if (!a)
		return;
	free(a->t);
	free(a);
}

int port_alloc_get(struct port_alloc *a, uint32_t want, bool partial,
		   uint16_t *first, uint32_t *got)
{
	uint32_t best, pos;

	if (!a || !first || !got || want == 0)
		return -EINVAL;
	best = a->t[1].max;
	if (best == 0)
		return -ENOSPC;
	if (best < want) {
		if (!partial)
			return -ENOSPC;
		/* The leftmost run of the longest length: leftmost longest. */
		want = best;
	}
	pos = pn_find(a->t, a->n, want);
	pn_assign(a->t, 1, 0, a->n - 1, pos, pos + want - 1, false);
	a->nfree -= want;
	*first = (uint16_t)(a->lo + pos);
	*got = want;
	return 0;
}

static bool port_range_ok(const struct port_alloc *a, uint16_t first,
			  uint16_t last)
{
	return first <= last && first >= a->lo && last <= a->hi;
}

/*
 * Flip [first, last] between taken and free. Every port must be in the other
 * state first: reserving a taken port is -EBUSY, and putting a free one (a
 * double free) is -EINVAL, since it would corrupt the free count.
 */
static int port_flip(struct port_alloc *a, uint16_t first, uint16_t last,
		     bool make_free)
{
	uint32_t ql, qr;
	struct port_run run;

	if (!a || !port_range_ok(a, first, last))
		return -EINVAL;
	ql = first - a->lo;
	qr = last - a->lo;
	run = pn_query(a->t, 1, 0, a->n - 1, ql, qr);
	if (make_free && run.max != 0)
		return -EINVAL;
	if (!make_free && run.max != run.len)
		return -EBUSY;
	pn_assign(a->t, 1, 0, a->n - 1, ql, qr, make_free);
	if (make_free)
		a->nfree += run.len;
	else
		a->nfree -= run.len;
	return 0;
}

int port_alloc_reserve(struct port_alloc *a, uint16_t first, uint16_t last)
{
	return port_flip(a, first, last, false);
}

int port_alloc_put(struct port_alloc *a, uint16_t first, uint16_t last)
{
	return port_flip(a, first, last, true);
}

uint32_t port_alloc_free_count(const struct port_alloc *a)
{
	return a ? a->nfree : 0;
}

uint32_t port_alloc_longest_free(const struct port_alloc *a)
{
	return a ? a->t[1].max : 0;
}
