/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Range lists in the sysctl's "a-b,c,d-e" format (lib/range_list.c) and the
 * reserved-ports plan built on them (gateway/reserved_ports.c): what xdnatd
 * writes into net.ipv4.ip_local_reserved_ports and what it takes back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "gateway/reserved_ports.h"
#include "lib/range_list.h"

static struct range_list parsed(const char *s)
{
	struct range_list l;

	if (range_list_parse(s, UINT16_MAX, &l))
		fail_msg("'%s' refused", s);
	return l;
}

/* l prints as want. */
static void prints(const struct range_list *l, const char *want)
{
	char buf[4096];

	assert_int_equal(range_list_format(l, buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
}

/* s parses and prints back canonical as want. */
static void canon(const char *s, const char *want)
{
	struct range_list l = parsed(s);

	prints(&l, want);
}

static void test_parse(void **state)
{
	(void)state;
	canon("", "");
	canon("\n", "");
	canon("8080\n", "8080");
	canon("1-3,5,7-9", "1-3,5,7-9");
	canon("7-9,1-3,5\n", "1-3,5,7-9");	/* sorted */
	canon("1-3,4,5-6", "1-6");		/* adjacent ranges merge */
	canon("10-20,15-30,5-12", "5-30");	/* overlapping too */
	canon("3-3", "3");
	canon("0-65535", "0-65535");
	canon(" 1-2 , 4\t\n", "1-2,4");		/* blanks around the items */
}

static void test_parse_refuses(void **state)
{
	static const char *bad[] = {
		"a", "1-", "-1", "3-1", "1,,2", "1,", "65536", "1-65536", "1;2",
		"1\n2", "99999999999999999999", "1 - 2", "1 2",
	};
	struct range_list l = { .n = 7 };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (range_list_parse(bad[i], UINT16_MAX, &l) != -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
		assert_int_equal(l.n, 7);	/* output untouched */
	}
}

static void test_too_many(void **state)
{
	char s[RANGE_LIST_MAX * 8 + 16], *p = s;
	struct range_list l;

	(void)state;
	for (int i = 0; i <= RANGE_LIST_MAX; i++)
		p += sprintf(p, "%s%d", i ? "," : "", 2 * i);
	assert_int_equal(range_list_parse(s, UINT16_MAX, &l), -E2BIG);
	/* a hole that would split the last full list in two */
	l = (struct range_list){ 0 };
	for (uint32_t i = 0; i < RANGE_LIST_MAX; i++)
		assert_int_equal(range_list_add(&l, 10 * i, 10 * i + 5), 0);
	assert_int_equal(range_list_add(&l, 10000, 10001), -E2BIG);
	assert_int_equal(l.n, RANGE_LIST_MAX);
	{
		struct range_list hole = parsed("2");
		struct range_list before = l;

		assert_int_equal(range_list_subtract(&l, &hole), -E2BIG);
		assert_true(range_list_equal(&l, &before));
	}
}

static void test_format_short_buffer(void **state)
{
	struct range_list l = parsed("1000-2000,3000");
	char buf[32];

	(void)state;
	assert_int_equal(range_list_format(&l, buf, 9), -ENOSPC);
	assert_int_equal(range_list_format(&l, buf, 14), -ENOSPC);	/* no room for the NUL */
	assert_int_equal(range_list_format(&l, buf, 15), 0);
	assert_string_equal(buf, "1000-2000,3000");
}

static void test_union_subtract(void **state)
{
	struct range_list a = parsed("1-10,20-30,50"), b = parsed("5-25,49,51-60");

	(void)state;
	assert_int_equal(range_list_union(&a, &b), 0);
	prints(&a, "1-30,49-60");
	a = parsed("1-10,20-30,50");
	assert_int_equal(range_list_subtract(&a, &b), 0);
	prints(&a, "1-4,26-30,50");
	a = parsed("1-100");
	b = parsed("1,100,50-60");
	assert_int_equal(range_list_subtract(&a, &b), 0);
	prints(&a, "2-49,61-99");
	b = parsed("0-65535");
	assert_int_equal(range_list_subtract(&a, &b), 0);
	prints(&a, "");
}

static void test_queries(void **state)
{
	struct range_list l = parsed("10-20,30");

	(void)state;
	assert_true(range_list_overlaps(&l, 20, 25));
	assert_true(range_list_overlaps(&l, 0, 10));
	assert_true(range_list_overlaps(&l, 30, 30));
	assert_false(range_list_overlaps(&l, 21, 29));
	assert_false(range_list_overlaps(&l, 31, 65535));
	assert_true(range_list_covers(&l, 12, 20));
	assert_false(range_list_covers(&l, 12, 21));
	assert_false(range_list_covers(&l, 20, 30));
}

/* plan(now, added_prev, --ports) gives want and added as text. */
static void plans(const char *now, const char *prev, uint32_t lo, uint32_t hi,
		  const char *want, const char *added)
{
	struct range_list n = parsed(now), p = parsed(prev), w, a;

	assert_int_equal(reserved_ports_plan(&n, &p, lo, hi, &w, &a), 0);
	prints(&w, want);
	prints(&a, added);
}

static void test_plan(void **state)
{
	(void)state;
	/* first start: the operator's entries kept, ours added */
	plans("", "", 10000, 65535, "10000-65535", "10000-65535");
	plans("8080,9000-9100", "", 20000, 29999, "8080,9000-9100,20000-29999",
	      "20000-29999");
	/* the operator reserved part of ours already: that part stays theirs */
	plans("8080,25000-26000", "", 20000, 29999, "8080,20000-29999",
	      "20000-24999,26001-29999");
	/* restart, same ports: nothing changes */
	plans("8080,20000-29999", "20000-29999", 20000, 29999, "8080,20000-29999",
	      "20000-29999");
	/* restart with other ports: ours move, the operator's stay */
	plans("8080,20000-29999", "20000-29999", 40000, 49999, "8080,40000-49999",
	      "40000-49999");
	/* restart after the operator added an entry inside ours meanwhile: it is
	 * indistinguishable from ours, so it goes with ours (and came back) */
	plans("8080,20000-29999,30500", "20000-29999", 20000, 29999,
	      "8080,20000-29999,30500", "20000-29999");
}

/* What --unload writes: the sysctl minus our part, the operator's intact. */
static void test_release(void **state)
{
	struct range_list now = parsed("8080,20000-29999"), added = parsed("20000-24999,26001-29999");

	(void)state;
	assert_int_equal(range_list_subtract(&now, &added), 0);
	prints(&now, "8080,25000-26000");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_refuses),
		cmocka_unit_test(test_too_many),
		cmocka_unit_test(test_format_short_buffer),
		cmocka_unit_test(test_union_subtract),
		cmocka_unit_test(test_queries),
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_release),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
