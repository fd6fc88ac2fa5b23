/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The number parser of every option (parse.c): the bases, the limits, no
 * sign, no blanks, garbage and overflow refused, and the ranges built on it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>
#include "lib/parse.h"

/* s in lo..hi is want. */
static void accepts(const char *s, uint32_t lo, uint32_t hi, uint32_t want)
{
	uint32_t v = 0xdeadbeef;

	if (parse_u32(s, lo, hi, &v))
		fail_msg("'%s' in %u..%u refused", s, lo, hi);
	assert_int_equal(v, want);
}

/* s refused in lo..hi, the output left alone. */
static void refuses(const char *s, uint32_t lo, uint32_t hi)
{
	uint32_t v = 0xdeadbeef;

	if (parse_u32(s, lo, hi, &v) != -EINVAL)
		fail_msg("'%s' in %u..%u accepted as %u", s, lo, hi, v);
	assert_int_equal(v, 0xdeadbeef);
}

static void test_bases(void **state)
{
	(void)state;
	accepts("0", 0, 10, 0);
	accepts("4555", 0, UINT32_MAX, 4555);
	accepts("0x11db", 0, UINT32_MAX, 4571);
	accepts("0X11DB", 0, UINT32_MAX, 4571);
	accepts("0xffffffff", 0, UINT32_MAX, UINT32_MAX);
	accepts("010", 0, 100, 8);		/* a leading 0 is octal */
	accepts("007", 0, 100, 7);
	refuses("08", 0, 100);			/* not an octal digit */
	refuses("0x", 0, 100);
	refuses("0xg", 0, 100);
}

static void test_limits(void **state)
{
	(void)state;
	accepts("5", 5, 604800, 5);
	accepts("604800", 5, 604800, 604800);
	refuses("4", 5, 604800);
	refuses("604801", 5, 604800);
	accepts("4294967295", 0, UINT32_MAX, UINT32_MAX);
	refuses("4294967296", 0, UINT32_MAX);	/* one past 32 bits */
	accepts("65535", 1, 65535, 65535);
	refuses("65536", 1, 65535);
	refuses("0", 1, 65535);
	accepts("7", 7, 7, 7);
}

static void test_signs_and_blanks(void **state)
{
	(void)state;
	refuses("-1", 0, UINT32_MAX);
	refuses("-0", 0, UINT32_MAX);
	refuses("+5", 0, 10);
	refuses(" 5", 0, 10);
	refuses("\t5", 0, 10);
	refuses(" -1", 0, UINT32_MAX);	/* strtoull: 2^64 - 1, wrapped */
	refuses("5 ", 0, 10);
	refuses("5\n", 0, 10);
}

static void test_garbage_and_overflow(void **state)
{
	(void)state;
	refuses("", 0, 10);
	refuses("abc", 0, 10);
	refuses("5x", 0, 10);
	refuses("1.5", 0, 10);
	refuses("1e3", 0, 10000);
	refuses("18446744073709551615", 0, UINT32_MAX);	/* 2^64 - 1 */
	refuses("18446744073709551616", 0, UINT32_MAX);	/* ERANGE */
	refuses("99999999999999999999999999", 0, UINT32_MAX);
	refuses("0x100000000", 0, UINT32_MAX);
}

static void range_is(const char *s, uint32_t lo, uint32_t hi, uint32_t a, uint32_t b)
{
	uint32_t x = 1, y = 1;

	if (parse_range(s, lo, hi, &x, &y))
		fail_msg("range '%s' in %u..%u refused", s, lo, hi);
	assert_int_equal(x, a);
	assert_int_equal(y, b);
}

static void range_refused(const char *s, uint32_t lo, uint32_t hi)
{
	uint32_t x, y;

	if (parse_range(s, lo, hi, &x, &y) != -EINVAL)
		fail_msg("range '%s' in %u..%u accepted", s, lo, hi);
}

static void test_ranges(void **state)
{
	char long_range[80];

	(void)state;
	range_is("10000-65535", 1, 65535, 10000, 65535);
	range_is("5-5", 1, 65535, 5, 5);			/* one number */
	range_is("0x1000-0xffffffff", 256, UINT32_MAX, 4096, UINT32_MAX);
	range_is("010-0x10", 0, 100, 8, 16);			/* bases mix */
	range_refused("9-2", 1, 65535);				/* backwards */
	range_refused("0-10", 1, 65535);			/* below lo */
	range_refused("1-65536", 1, 65535);			/* above hi */
	range_refused("255-4096", 256, UINT32_MAX);
	range_refused("10", 1, 65535);				/* no dash */
	range_refused("-10", 1, 65535);
	range_refused("10-", 1, 65535);
	range_refused("-", 1, 65535);
	range_refused("1-2-3", 1, 65535);
	range_refused("1--2", 1, 65535);			/* no negative end */
	range_refused("1 -2", 1, 65535);
	range_refused("1- 2", 1, 65535);
	range_refused("1-+2", 1, 65535);
	range_refused("a-b", 1, 65535);
	range_refused("1-4294967296", 0, UINT32_MAX);
	/* too long for its buffer, even when the digits would be fine */
	memset(long_range, '0', sizeof(long_range));
	long_range[sizeof(long_range) - 3] = '-';
	long_range[sizeof(long_range) - 2] = '1';
	long_range[sizeof(long_range) - 1] = 0;
	range_refused(long_range, 0, 10);
	range_is(long_range + sizeof(long_range) - 40, 0, 10, 0, 1);	/* 39 chars: fits */
}

/* parse_time: what `xdnatctl who --at` and the allocation log's lines take. */
static void time_is(const char *s, uint64_t want)
{
	uint64_t t = 1;

	if (parse_time(s, 777, &t))
		fail_msg("'%s' refused", s);
	assert_int_equal(t, want);
}

static void test_times(void **state)
{
	static const char *const bad[] = {
		"", "yesterday", "2026-13-01", "2026-12-02T25:00:00Z", "2026-12-02T13:45",
		"2026-12-02X13:45:01Z", "2026-12-02T13:45:01+2", "2026-12-02T13:45:01Zjunk",
		"@", "@-1", "@12x", " 2026-12-02", "1969-12-31T23:59:59Z",
	};
	char buf[RFC3339_LEN];
	uint64_t t;

	(void)state;
	time_is("2026-12-02T13:45:01Z", 1796219101);
	time_is("2026-12-02t13:45:01z", 1796219101);
	time_is("2026-12-02 13:45:01", 1796219101);
	time_is("2026-12-02T13:45:01.999Z", 1796219101);
	time_is("2026-12-02T14:45:01+01:00", 1796219101);
	time_is("2026-12-02T12:15:01-01:30", 1796219101);
	time_is("2026-12-02", 1796169600);
	time_is("@1796219101", 1796219101);
	time_is("now", 777);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!parse_time(bad[i], 0, &t))
			fail_msg("'%s' taken as %llu", bad[i], (unsigned long long)t);
	format_rfc3339(1796219101, buf);
	assert_string_equal(buf, "2026-12-02T13:45:01Z");
	format_rfc3339(0, buf);
	assert_string_equal(buf, "1970-01-01T00:00:00Z");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bases),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_signs_and_blanks),
		cmocka_unit_test(test_garbage_and_overflow),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_times),
	};

	return cmocka_run_group_tests_name("parse", tests, NULL, NULL);
}
