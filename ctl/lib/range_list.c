/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* range_list.h: the list stays canonical after every operation, so that
 * equal sets compare and print equal. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/range_list.h"

static const char *skip_blank(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

static int number(const char **s, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (**s < '0' || **s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(*s, &end, 10);
	if (errno || v > max)
		return -EINVAL;
	*s = end;
	*out = (uint32_t)v;
	return 0;
}

int range_list_parse(const char *s, uint32_t max, struct range_list *out)
{
	struct range_list l = { 0 };
	uint32_t lo, hi;
	int err;

	s = skip_blank(s);
	if (!*s || !strcmp(s, "\n")) {
		*out = l;
		return 0;
	}
	for (;;) {
		s = skip_blank(s);
		if (number(&s, max, &lo))
			return -EINVAL;
		hi = lo;
		if (*s == '-') {
			s++;
			if (number(&s, max, &hi) || hi < lo)
				return -EINVAL;
		}
		err = range_list_add(&l, lo, hi);
		if (err)
			return err;
		s = skip_blank(s);
		if (*s != ',')
			break;
		s++;
	}
	if (*s == '\n')
		s++;
	if (*s)
		return -EINVAL;
	*out = l;
	return 0;
}

int range_list_format(const struct range_list *l, char *buf, size_t len)
{
	size_t used = 0;
	int n;

	if (!len)
		return -ENOSPC;
	buf[0] = 0;
	for (size_t i = 0; i < l->n; i++) {
		const struct range *r = &l->r[i];

		if (r->lo == r->hi)
			n = snprintf(buf + used, len - used, "%s%u", i ? "," : "", r->lo);
		else
			n = snprintf(buf + used, len - used, "%s%u-%u", i ? "," : "",
				     r->lo, r->hi);
		if (n < 0 || (size_t)n >= len - used)
			return -ENOSPC;
		used += (size_t)n;
	}
	return 0;
}

/* Ranges that touch (or overlap) [lo, hi] are merged into it. */
static bool touches(const struct range *r, uint32_t lo, uint32_t hi)
{
	return (uint64_t)r->hi + 1 >= lo && (uint64_t)hi + 1 >= r->lo;
}

int range_list_add(struct range_list *l, uint32_t lo, uint32_t hi)
{
	size_t first = 0, last;

	while (first < l->n && (uint64_t)l->r[first].hi + 1 < lo)
		first++;
	last = first;
	while (last < l->n && touches(&l->r[last], lo, hi)) {
		if (l->r[last].lo < lo)
			lo = l->r[last].lo;
		if (l->r[last].hi > hi)
			hi = l->r[last].hi;
		last++;
	}
	/* r[first, last) collapse into one range at first */
	if (first == last) {
		if (l->n == RANGE_LIST_MAX)
			return -E2BIG;
		memmove(&l->r[first + 1], &l->r[first], (l->n - first) * sizeof(l->r[0]));
		l->n++;
	} else {
		memmove(&l->r[first + 1], &l->r[last], (l->n - last) * sizeof(l->r[0]));
		l->n -= last - first - 1;
	}
	l->r[first] = (struct range){ lo, hi };
	return 0;
}

int range_list_union(struct range_list *dst, const struct range_list *src)
{
	for (size_t i = 0; i < src->n; i++) {
		int err = range_list_add(dst, src->r[i].lo, src->r[i].hi);

		if (err)
			return err;
	}
	return 0;
}

static int push(struct range_list *l, uint32_t lo, uint32_t hi)
{
	if (l->n == RANGE_LIST_MAX)
		return -E2BIG;
	l->r[l->n++] = (struct range){ lo, hi };
	return 0;
}

/* l &= ~[lo, hi] */
static int cut(struct range_list *l, uint32_t lo, uint32_t hi)
{
	struct range_list out = { 0 };
	int err = 0;

	for (size_t i = 0; i < l->n && !err; i++) {
		struct range r = l->r[i];

		if (r.hi < lo || r.lo > hi) {
			err = push(&out, r.lo, r.hi);
			continue;
		}
		if (r.lo < lo)
			err = push(&out, r.lo, lo - 1);
		if (!err && r.hi > hi)
			err = push(&out, hi + 1, r.hi);
	}
	if (!err)
		*l = out;
	return err;
}

int range_list_subtract(struct range_list *l, const struct range_list *sub)
{
	for (size_t i = 0; i < sub->n; i++) {
		int err = cut(l, sub->r[i].lo, sub->r[i].hi);

		if (err)
			return err;
	}
	return 0;
}

bool range_list_overlaps(const struct range_list *l, uint32_t lo, uint32_t hi)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->r[i].lo <= hi && l->r[i].hi >= lo)
			return true;
	return false;
}

bool range_list_covers(const struct range_list *l, uint32_t lo, uint32_t hi)
{
	/* canonical: one range holds all of [lo, hi] or none does */
	for (size_t i = 0; i < l->n; i++)
		if (l->r[i].lo <= lo && l->r[i].hi >= hi)
			return true;
	return false;
}

bool range_list_equal(const struct range_list *a, const struct range_list *b)
{
	return a->n == b->n && !memcmp(a->r, b->r, a->n * sizeof(a->r[0]));
}
