/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Unit tests for the port and SPI allocators (ctl/alloc_ports.c,
 * ctl/alloc_spi.c): fixed scenarios with exact expected values, and a
 * randomized cross-check of each allocator against a brute-force bitmap model.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "gateway/alloc.h"

#include "test_rng.h"

/* ---- ports: fixed scenarios ------------------------------------------- */

static void test_port_new_bad_range(void **state)
{
	struct port_alloc *a;

	(void)state;
	assert_null(port_alloc_new(0, 10));
	assert_null(port_alloc_new(11, 10));
	assert_null(port_alloc_new(0, 0));
	port_alloc_free_all(NULL);

	a = port_alloc_new(65535, 65535);
	assert_non_null(a);
	assert_int_equal(port_alloc_free_count(a), 1);
	assert_int_equal(port_alloc_longest_free(a), 1);
	port_alloc_free_all(a);

	a = port_alloc_new(1, 65535);
	assert_non_null(a);
	assert_int_equal(port_alloc_free_count(a), 65535);
	assert_int_equal(port_alloc_longest_free(a), 65535);
	port_alloc_free_all(a);
}

static void test_port_exhaustion(void **state)
{
	struct port_alloc *a = port_alloc_new(1000, 1099);
	uint16_t first;
	uint32_t got;

	(void)state;
	assert_non_null(a);
	assert_int_equal(port_alloc_get(a, 30, false, &first, &got), 0);
	assert_int_equal(first, 1000);
	assert_int_equal(got, 30);
	assert_int_equal(port_alloc_get(a, 30, false, &first, &got), 0);
	assert_int_equal(first, 1030);
	assert_int_equal(port_alloc_get(a, 30, true, &first, &got), 0);
	assert_int_equal(first, 1060);
	assert_int_equal(got, 30);
	assert_int_equal(port_alloc_free_count(a), 10);
	assert_int_equal(port_alloc_get(a, 10, false, &first, &got), 0);
	assert_int_equal(first, 1090);
	assert_int_equal(got, 10);

	assert_int_equal(port_alloc_free_count(a), 0);
	assert_int_equal(port_alloc_longest_free(a), 0);
	assert_int_equal(port_alloc_get(a, 1, false, &first, &got), -ENOSPC);
	assert_int_equal(port_alloc_get(a, 1, true, &first, &got), -ENOSPC);

	/* One port back: exactly that one is handed out again. */
	assert_int_equal(port_alloc_put(a, 1042, 1042), 0);
	assert_int_equal(port_alloc_get(a, 5, true, &first, &got), 0);
	assert_int_equal(first, 1042);
	assert_int_equal(got, 1);
	assert_int_equal(port_alloc_get(a, 1, true, &first, &got), -ENOSPC);
	port_alloc_free_all(a);
}

static void test_port_partial(void **state)
{
	struct port_alloc *a = port_alloc_new(2000, 2099);
	uint16_t first;
	uint32_t got;

	(void)state;
	assert_non_null(a);
	/* Free runs of 5, 10 and 10 ports, in that order. */
	assert_int_equal(port_alloc_reserve(a, 2005, 2019), 0);
	assert_int_equal(port_alloc_reserve(a, 2030, 2039), 0);
	assert_int_equal(port_alloc_reserve(a, 2050, 2099), 0);
	assert_int_equal(port_alloc_free_count(a), 25);
	assert_int_equal(port_alloc_longest_free(a), 10);

	first = 7;
	got = 7;
	assert_int_equal(port_alloc_get(a, 11, false, &first, &got), -ENOSPC);
	assert_int_equal(first, 7);	/* untouched on failure */
	assert_int_equal(got, 7);
	assert_int_equal(port_alloc_free_count(a), 25);

	/* Leftmost longest run, not the leftmost run. */
	assert_int_equal(port_alloc_get(a, 11, true, &first, &got), 0);
	assert_int_equal(first, 2020);
	assert_int_equal(got, 10);
	assert_int_equal(port_alloc_get(a, 1000, true, &first, &got), 0);
	assert_int_equal(first, 2040);
	assert_int_equal(got, 10);
	/* A fit is still leftmost-first, not best-fit. */
	assert_int_equal(port_alloc_get(a, 3, true, &first, &got), 0);
	assert_int_equal(first, 2000);
	assert_int_equal(got, 3);
	assert_int_equal(port_alloc_get(a, 70000, true, &first, &got), 0);
	assert_int_equal(first, 2003);
	assert_int_equal(got, 2);
	assert_int_equal(port_alloc_get(a, 1, true, &first, &got), -ENOSPC);
	port_alloc_free_all(a);
}

static void test_port_fragment_merge(void **state)
{
	struct port_alloc *a = port_alloc_new(1, 65535);
	uint16_t first;
	uint32_t got;
	int i, n = 0;

	(void)state;
	assert_non_null(a);
	/* 65 blocks of 1000 and a tail of 535. */
	while (port_alloc_get(a, 1000, true, &first, &got) == 0) {
		assert_int_equal(first, 1 + n * 1000);
		assert_int_equal(got, n < 65 ? 1000 : 535);
		n++;
	}
	assert_int_equal(n, 66);
	assert_int_equal(port_alloc_free_count(a), 0);

	/* Free every other block: holes of 1000, never adjacent. */
	for (i = 0; i < 65; i += 2)
		assert_int_equal(port_alloc_put(a, 1 + i * 1000,
						 i * 1000 + 1000), 0);
	assert_int_equal(port_alloc_free_count(a), 33 * 1000);
	assert_int_equal(port_alloc_longest_free(a), 1000);
	assert_int_equal(port_alloc_get(a, 1001, false, &first, &got), -ENOSPC);

	/* Free the rest (in reverse): everything merges into one run. */
	assert_int_equal(port_alloc_put(a, 65001, 65535), 0);
	for (i = 63; i >= 1; i -= 2) {
		assert_int_equal(port_alloc_put(a, 1 + i * 1000,
						 i * 1000 + 1000), 0);
		if (i == 33)	/* blocks 32..65 now form one run */
			assert_int_equal(port_alloc_longest_free(a),
					 65535 - 32000);
	}
	assert_int_equal(port_alloc_free_count(a), 65535);
	assert_int_equal(port_alloc_longest_free(a), 65535);
	assert_int_equal(port_alloc_get(a, 65535, false, &first, &got), 0);
	assert_int_equal(first, 1);
	assert_int_equal(got, 65535);
	port_alloc_free_all(a);
}

static void test_port_reserve(void **state)
{
	struct port_alloc *a = port_alloc_new(100, 199);
	uint16_t first;
	uint32_t got;

	(void)state;
	assert_non_null(a);
	assert_int_equal(port_alloc_reserve(a, 110, 119), 0);
	assert_int_equal(port_alloc_free_count(a), 90);
	/* Taken, overlapping at either end, or a superset: busy. */
	assert_int_equal(port_alloc_reserve(a, 110, 119), -EBUSY);
	assert_int_equal(port_alloc_reserve(a, 115, 115), -EBUSY);
	assert_int_equal(port_alloc_reserve(a, 105, 110), -EBUSY);
	assert_int_equal(port_alloc_reserve(a, 119, 125), -EBUSY);
	assert_int_equal(port_alloc_reserve(a, 100, 199), -EBUSY);
	assert_int_equal(port_alloc_free_count(a), 90);
	/* Right next to it is fine. */
	assert_int_equal(port_alloc_reserve(a, 100, 109), 0);
	assert_int_equal(port_alloc_reserve(a, 120, 120), 0);
	assert_int_equal(port_alloc_reserve(a, 199, 199), 0);
	assert_int_equal(port_alloc_free_count(a), 78);
	assert_int_equal(port_alloc_longest_free(a), 78);

	/* get skips reserved ports. */
	assert_int_equal(port_alloc_get(a, 5, false, &first, &got), 0);
	assert_int_equal(first, 121);
	assert_int_equal(got, 5);

	/* Put part of a reservation back and reserve it again. */
	assert_int_equal(port_alloc_put(a, 112, 114), 0);
	assert_int_equal(port_alloc_free_count(a), 76);
	assert_int_equal(port_alloc_reserve(a, 112, 114), 0);
	assert_int_equal(port_alloc_free_count(a), 73);
	port_alloc_free_all(a);
}

static void test_port_bad_input(void **state)
{
	struct port_alloc *a = port_alloc_new(100, 199);
	uint16_t first;
	uint32_t got;

	(void)state;
	assert_non_null(a);
	assert_int_equal(port_alloc_get(NULL, 1, true, &first, &got), -EINVAL);
	assert_int_equal(port_alloc_get(a, 1, true, NULL, &got), -EINVAL);
	assert_int_equal(port_alloc_get(a, 1, true, &first, NULL), -EINVAL);
	assert_int_equal(port_alloc_get(a, 0, true, &first, &got), -EINVAL);
	assert_int_equal(port_alloc_reserve(NULL, 100, 100), -EINVAL);
	assert_int_equal(port_alloc_reserve(a, 120, 110), -EINVAL);
	assert_int_equal(port_alloc_reserve(a, 99, 110), -EINVAL);
	assert_int_equal(port_alloc_reserve(a, 190, 200), -EINVAL);
	assert_int_equal(port_alloc_reserve(a, 0, 65535), -EINVAL);
	assert_int_equal(port_alloc_put(NULL, 100, 100), -EINVAL);
	assert_int_equal(port_alloc_put(a, 120, 110), -EINVAL);
	assert_int_equal(port_alloc_put(a, 99, 99), -EINVAL);
	assert_int_equal(port_alloc_put(a, 200, 200), -EINVAL);
	/* Free ports cannot be put, neither wholly nor partly. */
	assert_int_equal(port_alloc_put(a, 100, 100), -EINVAL);
	assert_int_equal(port_alloc_reserve(a, 100, 109), 0);
	assert_int_equal(port_alloc_put(a, 105, 110), -EINVAL);
	assert_int_equal(port_alloc_put(a, 99, 105), -EINVAL);
	assert_int_equal(port_alloc_free_count(a), 90);
	assert_int_equal(port_alloc_put(a, 100, 109), 0);
	assert_int_equal(port_alloc_put(a, 100, 109), -EINVAL);	/* double */
	assert_int_equal(port_alloc_free_count(a), 100);
	assert_int_equal(port_alloc_free_count(NULL), 0);
	assert_int_equal(port_alloc_longest_free(NULL), 0);
	port_alloc_free_all(a);
}

/* ---- ports: randomized cross-check against a bitmap -------------------- */

#define PM_LO	1000u
#define PM_N	2000u

struct pm_block {
	uint32_t first, last;
};

static bool pm_used[PM_N];
static struct pm_block pm_blocks[PM_N];
static uint32_t pm_nblocks;

static uint32_t pm_free(void)
{
	uint32_t i, n = 0;

	for (i = 0; i < PM_N; i++)
		n += !pm_used[i];
	return n;
}

/* Leftmost start of the first run >= want; *longest gets the longest run. */
static int pm_find(uint32_t want, uint32_t *longest, uint32_t *lstart)
{
	uint32_t i, run = 0;
	int fit = -1;

	*longest = 0;
	*lstart = 0;
	for (i = 0; i < PM_N; i++) {
		run = pm_used[i] ? 0 : run + 1;
		if (fit < 0 && run >= want)
			fit = (int)(i + 1 - want);
		if (run > *longest) {
			*longest = run;
			*lstart = i + 1 - run;
		}
	}
	return fit;
}

static void pm_mark(uint32_t first, uint32_t last, bool used)
{
	uint32_t i;

	assert_true(first >= PM_LO && last < PM_LO + PM_N && first <= last);
	for (i = first - PM_LO; i <= last - PM_LO; i++) {
		assert_true(pm_used[i] != used);	/* no overlap */
		pm_used[i] = used;
	}
}

static void test_port_random_model(void **state)
{
	struct port_alloc *a = port_alloc_new(PM_LO, PM_LO + PM_N - 1);
	uint32_t op, want, got, longest, lstart, i, k, len, exp_first;
	uint16_t first, f16, l16;
	int fit, rc, exp_rc, n_get = 0, n_part = 0, n_nospc = 0, n_busy = 0;
	bool partial, all_used;

	(void)state;
	assert_non_null(a);
	memset(pm_used, 0, sizeof(pm_used));
	pm_nblocks = 0;
	rng_seed(0x5eed0001);

	for (op = 0; op < 6000; op++) {
		uint32_t dice = rng_below(100);

		if (dice < 45) {
			want = 1 + rng_below(dice < 5 ? 3000 : 150);
			partial = rng_below(2);
			fit = pm_find(want, &longest, &lstart);
			rc = port_alloc_get(a, want, partial, &first, &got);
			if (fit >= 0) {
				exp_rc = 0;
				exp_first = PM_LO + fit;
			} else if (partial && longest) {
				exp_rc = 0;
				exp_first = PM_LO + lstart;
				want = longest;
				n_part++;
			} else {
				exp_rc = -ENOSPC;
				n_nospc++;
			}
			assert_int_equal(rc, exp_rc);
			if (rc == 0) {
				assert_int_equal(first, exp_first);
				assert_int_equal(got, want);
				pm_mark(first, first + got - 1, true);
				pm_blocks[pm_nblocks++] =
					(struct pm_block){ first, first + got - 1 };
				n_get++;
			}
		} else if (dice < 60) {
			k = rng_below(PM_N);
			len = 1 + rng_below(40);
			if (k + len > PM_N)
				len = PM_N - k;
			all_used = false;
			for (i = k; i < k + len; i++)
				all_used |= pm_used[i];
			f16 = (uint16_t)(PM_LO + k);
			l16 = (uint16_t)(PM_LO + k + len - 1);
			rc = port_alloc_reserve(a, f16, l16);
			assert_int_equal(rc, all_used ? -EBUSY : 0);
			if (rc == 0) {
				pm_mark(f16, l16, true);
				pm_blocks[pm_nblocks++] =
					(struct pm_block){ f16, l16 };
			} else {
				n_busy++;
			}
		} else if (dice < 92) {
			struct pm_block *b;

			if (!pm_nblocks)
				continue;
			b = &pm_blocks[rng_below(pm_nblocks)];
			if (b->last > b->first && rng_below(2)) {
				/* Put a prefix back, keep the rest held. */
				k = b->first + rng_below(b->last - b->first);
				assert_int_equal(port_alloc_put(a, b->first, k),
						 0);
				pm_mark(b->first, k, false);
				b->first = k + 1;
			} else {
				assert_int_equal(port_alloc_put(a, b->first,
								b->last), 0);
				pm_mark(b->first, b->last, false);
				*b = pm_blocks[--pm_nblocks];
			}
		} else {
			/* A put touching free ports must fail and change nothing. */
			k = rng_below(PM_N);
			len = 1 + rng_below(20);
			if (k + len > PM_N)
				len = PM_N - k;
			all_used = true;
			for (i = k; i < k + len; i++)
				all_used &= pm_used[i];
			if (all_used)
				continue;
			assert_int_equal(port_alloc_put(a, PM_LO + k,
							PM_LO + k + len - 1),
					 -EINVAL);
		}
		assert_int_equal(port_alloc_free_count(a), pm_free());
		pm_find(1, &longest, &lstart);
		assert_int_equal(port_alloc_longest_free(a), longest);
	}
	/* The mix really exercised every path. */
	assert_true(n_get > 1000);
	assert_true(n_part > 20);
	assert_true(n_nospc > 5);
	assert_true(n_busy > 20);

	while (pm_nblocks) {
		struct pm_block *b = &pm_blocks[--pm_nblocks];

		assert_int_equal(port_alloc_put(a, b->first, b->last), 0);
	}
	assert_int_equal(port_alloc_free_count(a), PM_N);
	assert_int_equal(port_alloc_longest_free(a), PM_N);
	port_alloc_free_all(a);
}

/* ---- SPIs: fixed scenarios --------------------------------------------- */

static void test_spi_new_bad_range(void **state)
{
	struct spi_alloc *a;

	(void)state;
	assert_null(spi_alloc_new(5000, 1000));
	assert_null(spi_alloc_new(0, 255));	/* nothing left after 0..255 */
	assert_null(spi_alloc_new(100, 200));
	spi_alloc_free_all(NULL);

	a = spi_alloc_new(0, 255 + 1);
	assert_non_null(a);
	assert_int_equal(spi_alloc_free_count(a), 1);
	spi_alloc_free_all(a);

	a = spi_alloc_new(0xffffffffu, 0xffffffffu);
	assert_non_null(a);
	assert_int_equal(spi_alloc_free_count(a), 1);
	spi_alloc_free_all(a);

	a = spi_alloc_new(0, 0xffffffffu);
	assert_non_null(a);
	assert_true(spi_alloc_free_count(a) == 0x100000000ull - 256);
	spi_alloc_free_all(a);
}

static void test_spi_deterministic(void **state)
{
	static const struct {
		uint32_t want, first, count;
	} seq[] = {
		{ 1, 256, 1 }, { 1, 257, 1 }, { 2, 258, 2 }, { 4, 260, 4 },
		{ 3, 264, 4 }, { 256, 512, 256 }, { 1, 268, 1 },
		{ 5, 272, 8 }, { 0x80000000u, 0x80000000u, 0x80000000u },
		{ 0x40000000u, 0x40000000u, 0x40000000u },
	};
	struct spi_alloc *a = spi_alloc_new(0x100, 0xffffffffu);
	uint32_t first, count;
	size_t i;

	(void)state;
	assert_non_null(a);
	for (i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		assert_int_equal(spi_alloc_get(a, seq[i].want, false,
					       &first, &count), 0);
		assert_int_equal(first, seq[i].first);
		assert_int_equal(count, seq[i].count);
	}
	spi_alloc_free_all(a);
}

static void test_spi_alignment(void **state)
{
	static const uint32_t wants[] = {
		1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 100, 127, 128, 129, 255,
		256, 257, 1000, 1024, 4097, 65535, 65536, 65537, 1u << 20,
		(1u << 20) + 1, 3u << 22, (1u << 28) - 1, 1u << 29,
	};
	struct spi_alloc *a = spi_alloc_new(256, 0xffffffffu);
	uint64_t expect = 0x100000000ull - 256;
	uint32_t first, count, pow;
	size_t i;
	int round;

	(void)state;
	assert_non_null(a);
	for (round = 0; round < 3; round++) {
		for (i = 0; i < sizeof(wants) / sizeof(wants[0]); i++) {
			assert_int_equal(spi_alloc_get(a, wants[i], false,
						       &first, &count), 0);
			for (pow = 1; pow < wants[i]; pow <<= 1)
				;
			assert_int_equal(count, pow);
			assert_int_equal(first & (count - 1), 0);
			assert_true(first >= 256);
			expect -= count;
			assert_true(spi_alloc_free_count(a) == expect);
		}
	}
	spi_alloc_free_all(a);
}

static void test_spi_low_reserved(void **state)
{
	struct spi_alloc *a = spi_alloc_new(0, 1023);
	uint32_t first, count, n = 0;

	(void)state;
	assert_non_null(a);
	assert_int_equal(spi_alloc_free_count(a), 768);
	assert_int_equal(spi_alloc_reserve(a, 0, 1), -EINVAL);
	assert_int_equal(spi_alloc_reserve(a, 255, 1), -EINVAL);
	assert_int_equal(spi_alloc_reserve(a, 0, 256), -EINVAL);
	assert_int_equal(spi_alloc_reserve(a, 0, 1024), -EINVAL);
	assert_int_equal(spi_alloc_put(a, 0, 256), -EINVAL);
	assert_int_equal(spi_alloc_put(a, 0, 1), -EINVAL);
	/* The whole 0..1023 block cannot be had, even partially. */
	assert_int_equal(spi_alloc_get(a, 1024, false, &first, &count),
			 -ENOSPC);
	assert_int_equal(spi_alloc_get(a, 1024, true, &first, &count), 0);
	assert_int_equal(first, 512);
	assert_int_equal(count, 512);
	while (spi_alloc_get(a, 1, false, &first, &count) == 0) {
		assert_int_equal(first, 256 + n);
		assert_int_equal(count, 1);
		n++;
	}
	assert_int_equal(n, 256);
	assert_int_equal(spi_alloc_free_count(a), 0);
	spi_alloc_free_all(a);
}

static void test_spi_odd_bounds(void **state)
{
	static bool seen[5001];
	struct spi_alloc *a = spi_alloc_new(1000, 5000);
	uint32_t first, count, i, blocks = 0;
	uint64_t total = 0;

	(void)state;
	assert_non_null(a);
	assert_int_equal(spi_alloc_free_count(a), 4001);
	/* 4096..8191 sticks out of the range: no 4096 block exists. */
	assert_int_equal(spi_alloc_get(a, 4096, false, &first, &count),
			 -ENOSPC);
	assert_int_equal(spi_alloc_get(a, 2048, false, &first, &count), 0);
	assert_int_equal(first, 2048);
	assert_int_equal(spi_alloc_get(a, 1024, false, &first, &count), 0);
	assert_int_equal(first, 1024);
	/* 4096..5119 sticks out too; 0..1023 sticks out below. */
	assert_int_equal(spi_alloc_get(a, 1024, false, &first, &count),
			 -ENOSPC);
	assert_int_equal(spi_alloc_put(a, 2048, 2048), 0);
	assert_int_equal(spi_alloc_put(a, 1024, 1024), 0);
	assert_int_equal(spi_alloc_free_count(a), 4001);
	assert_int_equal(spi_alloc_reserve(a, 4096, 1024), -EINVAL);
	assert_int_equal(spi_alloc_reserve(a, 992, 16), -EINVAL);
	assert_int_equal(spi_alloc_reserve(a, 5000, 2), -EINVAL);
	assert_int_equal(spi_alloc_reserve(a, 5001, 1), -EINVAL);

	/* Drain it with assorted sizes: nothing outside, nothing twice. */
	memset(seen, 0, sizeof(seen));
	rng_seed(42);
	while (spi_alloc_get(a, 1 + rng_below(300), true, &first, &count) == 0) {
		assert_true(first >= 1000);
		assert_true((uint64_t)first + count - 1 <= 5000);
		assert_int_equal(first & (count - 1), 0);
		for (i = first; i < first + count; i++) {
			assert_false(seen[i]);
			seen[i] = true;
		}
		total += count;
		blocks++;
	}
	assert_true(total == 4001);
	assert_true(blocks > 10);	/* assorted sizes, not one lucky block */
	assert_int_equal(spi_alloc_free_count(a), 0);
	for (i = 1000; i <= 5000; i++)
		assert_true(seen[i]);
	spi_alloc_free_all(a);	/* with everything held: no leak either */
}

static void test_spi_put_rejects(void **state)
{
	struct spi_alloc *a = spi_alloc_new(256, 0xffffffffu);
	uint32_t first, count;

	(void)state;
	assert_non_null(a);
	assert_int_equal(spi_alloc_get(a, 16, false, &first, &count), 0);
	assert_int_equal(first, 256);
	assert_int_equal(spi_alloc_get(a, 16, false, &first, &count), 0);
	assert_int_equal(first, 272);
	assert_int_equal(spi_alloc_free_count(a), 0x100000000ull - 256 - 32);

	assert_int_equal(spi_alloc_put(a, 256, 8), -EINVAL);	/* sub-block */
	assert_int_equal(spi_alloc_put(a, 264, 8), -EINVAL);
	assert_int_equal(spi_alloc_put(a, 257, 1), -EINVAL);
	assert_int_equal(spi_alloc_put(a, 256, 32), -EINVAL);	/* super-block */
	assert_int_equal(spi_alloc_put(a, 256, 256), -EINVAL);
	assert_int_equal(spi_alloc_put(a, 0, 0x80000000u), -EINVAL);
	assert_int_equal(spi_alloc_put(a, 256, 15), -EINVAL);	/* not 2^k */
	assert_int_equal(spi_alloc_put(a, 256, 0), -EINVAL);
	assert_int_equal(spi_alloc_put(a, 264, 16), -EINVAL);	/* unaligned */
	assert_int_equal(spi_alloc_put(a, 288, 16), -EINVAL);	/* free */
	assert_int_equal(spi_alloc_put(a, 0x80000000u, 0x80000000u), -EINVAL);
	assert_int_equal(spi_alloc_put(a, 0, 1), -EINVAL);	/* reserved */
	assert_int_equal(spi_alloc_put(NULL, 256, 16), -EINVAL);
	assert_int_equal(spi_alloc_free_count(a), 0x100000000ull - 256 - 32);

	assert_int_equal(spi_alloc_put(a, 256, 16), 0);
	assert_int_equal(spi_alloc_put(a, 256, 16), -EINVAL);	/* double */
	assert_int_equal(spi_alloc_put(a, 272, 16), 0);
	assert_int_equal(spi_alloc_put(a, 272, 16), -EINVAL);
	assert_int_equal(spi_alloc_put(a, 256, 32), -EINVAL);	/* merged, free */
	assert_int_equal(spi_alloc_free_count(a), 0x100000000ull - 256);

	/* A reserved block is an allocated block too. */
	assert_int_equal(spi_alloc_reserve(a, 0x12340000u, 0x10000u), 0);
	assert_int_equal(spi_alloc_put(a, 0x12340000u, 0x8000u), -EINVAL);
	assert_int_equal(spi_alloc_put(a, 0x12340000u, 0x20000u), -EINVAL);
	assert_int_equal(spi_alloc_put(a, 0x12340000u, 0x10000u), 0);
	assert_int_equal(spi_alloc_put(a, 0x12340000u, 0x10000u), -EINVAL);
	assert_int_equal(spi_alloc_free_count(a), 0x100000000ull - 256);
	spi_alloc_free_all(a);
}

static void test_spi_bad_input(void **state)
{
	struct spi_alloc *a = spi_alloc_new(256, 65535);
	uint32_t first = 7, count = 7;

	(void)state;
	assert_non_null(a);
	assert_int_equal(spi_alloc_get(NULL, 1, true, &first, &count), -EINVAL);
	assert_int_equal(spi_alloc_get(a, 1, true, NULL, &count), -EINVAL);
	assert_int_equal(spi_alloc_get(a, 1, true, &first, NULL), -EINVAL);
	assert_int_equal(spi_alloc_get(a, 0, true, &first, &count), -EINVAL);
	assert_int_equal(spi_alloc_get(a, 0x80000001u, true, &first, &count),
			 -EINVAL);
	assert_int_equal(spi_alloc_get(a, 0xffffffffu, true, &first, &count),
			 -EINVAL);
	/* 2^31 itself is a valid request, just not satisfiable here. */
	assert_int_equal(spi_alloc_get(a, 0x80000000u, false, &first, &count),
			 -ENOSPC);
	assert_int_equal(first, 7);
	assert_int_equal(count, 7);
	assert_int_equal(spi_alloc_reserve(NULL, 256, 1), -EINVAL);
	assert_int_equal(spi_alloc_reserve(a, 256, 0), -EINVAL);
	assert_int_equal(spi_alloc_reserve(a, 256, 3), -EINVAL);
	assert_int_equal(spi_alloc_reserve(a, 258, 4), -EINVAL);
	assert_int_equal(spi_alloc_reserve(a, 65535, 2), -EINVAL);
	assert_int_equal(spi_alloc_reserve(a, 65536, 1), -EINVAL);
	assert_int_equal(spi_alloc_reserve(a, 0x80000000u, 0x80000000u),
			 -EINVAL);
	assert_int_equal(spi_alloc_free_count(a), 65536 - 256);
	assert_true(spi_alloc_free_count(NULL) == 0);
	spi_alloc_free_all(a);
}

static void test_spi_partial(void **state)
{
	struct spi_alloc *a = spi_alloc_new(256, 511);
	uint32_t first, count;

	(void)state;
	assert_non_null(a);
	assert_int_equal(spi_alloc_get(a, 100, false, &first, &count), 0);
	assert_int_equal(first, 256);
	assert_int_equal(count, 128);
	assert_int_equal(spi_alloc_get(a, 256, false, &first, &count),
			 -ENOSPC);
	assert_int_equal(spi_alloc_get(a, 129, false, &first, &count),
			 -ENOSPC);
	assert_int_equal(spi_alloc_free_count(a), 128);
	assert_int_equal(spi_alloc_get(a, 256, true, &first, &count), 0);
	assert_int_equal(first, 384);
	assert_int_equal(count, 128);
	assert_int_equal(spi_alloc_get(a, 1, true, &first, &count), -ENOSPC);
	assert_int_equal(spi_alloc_get(a, 1, false, &first, &count), -ENOSPC);

	/* Largest smaller block, lowest address among the largest. */
	assert_int_equal(spi_alloc_put(a, 384, 128), 0);
	assert_int_equal(spi_alloc_reserve(a, 384, 1), 0);	/* 385..511 free */
	assert_int_equal(spi_alloc_reserve(a, 480, 4), 0);
	/* Free: 385, 386..387, 388..391, ..., 416..447, 448..479, 484..511 */
	assert_int_equal(spi_alloc_get(a, 64, true, &first, &count), 0);
	assert_int_equal(first, 416);
	assert_int_equal(count, 32);
	assert_int_equal(spi_alloc_get(a, 64, true, &first, &count), 0);
	assert_int_equal(first, 448);
	assert_int_equal(count, 32);
	assert_int_equal(spi_alloc_get(a, 0x80000000u, true, &first, &count),
			 0);
	assert_int_equal(first, 400);
	assert_int_equal(count, 16);
	assert_int_equal(spi_alloc_free_count(a), 128 - 1 - 4 - 64 - 16);
	spi_alloc_free_all(a);
}

static void test_spi_reserve(void **state)
{
	struct spi_alloc *a = spi_alloc_new(0x1000, 0x1fff);
	uint32_t first, count;

	(void)state;
	assert_non_null(a);
	assert_int_equal(spi_alloc_reserve(a, 0x1400, 0x100), 0);
	assert_int_equal(spi_alloc_free_count(a), 0x1000 - 0x100);
	assert_int_equal(spi_alloc_reserve(a, 0x1400, 0x100), -EBUSY);
	assert_int_equal(spi_alloc_reserve(a, 0x1480, 0x10), -EBUSY);	/* sub */
	assert_int_equal(spi_alloc_reserve(a, 0x1400, 0x400), -EBUSY);	/* super */
	assert_int_equal(spi_alloc_reserve(a, 0x1000, 0x1000), -EBUSY);
	assert_int_equal(spi_alloc_free_count(a), 0x1000 - 0x100);
	/* Its buddy and neighbours are free. */
	assert_int_equal(spi_alloc_reserve(a, 0x1500, 0x100), 0);
	assert_int_equal(spi_alloc_reserve(a, 0x13ff, 1), 0);
	assert_int_equal(spi_alloc_reserve(a, 0x1000, 0x200), 0);
	assert_int_equal(spi_alloc_free_count(a), 0x1000 - 0x401);
	/* get avoids all of it: 0x1200..0x13ff holds 0x13ff. */
	assert_int_equal(spi_alloc_get(a, 0x200, false, &first, &count), 0);
	assert_int_equal(first, 0x1600);
	assert_int_equal(spi_alloc_get(a, 0x200, false, &first, &count), 0);
	assert_int_equal(first, 0x1800);
	assert_int_equal(spi_alloc_get(a, 0x100, false, &first, &count), 0);
	assert_int_equal(first, 0x1200);
	/* Give back, merge, take the whole range as one block. */
	assert_int_equal(spi_alloc_put(a, 0x1200, 0x100), 0);
	assert_int_equal(spi_alloc_put(a, 0x1600, 0x200), 0);
	assert_int_equal(spi_alloc_put(a, 0x1800, 0x200), 0);
	assert_int_equal(spi_alloc_put(a, 0x1000, 0x200), 0);
	assert_int_equal(spi_alloc_put(a, 0x1400, 0x100), 0);
	assert_int_equal(spi_alloc_put(a, 0x1500, 0x100), 0);
	assert_int_equal(spi_alloc_reserve(a, 0x1000, 0x1000), -EBUSY);
	assert_int_equal(spi_alloc_put(a, 0x13ff, 1), 0);
	assert_int_equal(spi_alloc_free_count(a), 0x1000);
	assert_int_equal(spi_alloc_reserve(a, 0x1000, 0x1000), 0);
	assert_int_equal(spi_alloc_free_count(a), 0);
	assert_int_equal(spi_alloc_put(a, 0x1000, 0x1000), 0);
	spi_alloc_free_all(a);
}

static void test_spi_merge(void **state)
{
	struct spi_alloc *a = spi_alloc_new(0, 0xffffffffu);
	uint32_t first, count, i;

	(void)state;
	assert_non_null(a);
	for (i = 0; i < 256; i++) {
		assert_int_equal(spi_alloc_get(a, 1, false, &first, &count), 0);
		assert_int_equal(first, 256 + i);
	}
	assert_int_equal(spi_alloc_get(a, 256, false, &first, &count), 0);
	assert_int_equal(first, 512);
	/* Free the odd SPIs: nothing can merge yet. */
	for (i = 1; i < 256; i += 2)
		assert_int_equal(spi_alloc_put(a, 256 + i, 1), 0);
	assert_int_equal(spi_alloc_get(a, 2, false, &first, &count), 0);
	assert_int_equal(first, 768);
	assert_int_equal(spi_alloc_put(a, 768, 2), 0);
	/* Free the even ones: buddies merge all the way up to 256..511. */
	for (i = 0; i < 256; i += 2)
		assert_int_equal(spi_alloc_put(a, 256 + i, 1), 0);
	assert_int_equal(spi_alloc_get(a, 256, false, &first, &count), 0);
	assert_int_equal(first, 256);
	assert_int_equal(spi_alloc_put(a, 256, 256), 0);
	assert_int_equal(spi_alloc_put(a, 512, 256), 0);
	assert_true(spi_alloc_free_count(a) == 0x100000000ull - 256);
	/* Fully merged: the top half is one block again. */
	assert_int_equal(spi_alloc_reserve(a, 0x80000000u, 0x80000000u), 0);
	assert_int_equal(spi_alloc_put(a, 0x80000000u, 0x80000000u), 0);
	spi_alloc_free_all(a);
}

/* ---- SPIs: randomized cross-check against a bitmap ---------------------- */

#define SM_LO	1000u
#define SM_HI	9000u
#define SM_N	(SM_HI + 1)	/* model covers 0..SM_HI */

struct sm_block {
	uint32_t first, count;
};

static bool sm_used[SM_N];
static uint32_t sm_sum[SM_N + 1];	/* sm_sum[i]: used among [0, i) */
static struct sm_block sm_blocks[SM_N];
static uint32_t sm_nblocks;

/* Outside [SM_LO, SM_HI] counts as used, as it must for the allocator. */
static void sm_prefix(void)
{
	uint32_t i;

	sm_sum[0] = 0;
	for (i = 0; i < SM_N; i++)
		sm_sum[i + 1] = sm_sum[i] + (sm_used[i] || i < SM_LO);
}

static bool sm_block_free(uint64_t first, uint64_t count)
{
	if (first + count > SM_N)
		return false;
	return sm_sum[first + count] == sm_sum[first];
}

/* Lowest free aligned block of the given order, or -1. */
static int64_t sm_lowest(int order)
{
	uint64_t size = 1ull << order, b;

	for (b = 0; b + size <= SM_N; b += size)
		if (sm_block_free(b, size))
			return (int64_t)b;
	return -1;
}

static void sm_mark(uint32_t first, uint32_t count, bool used)
{
	uint32_t i;

	assert_true(first >= SM_LO);
	assert_true((uint64_t)first + count - 1 <= SM_HI);
	for (i = first; i < first + count; i++) {
		assert_true(sm_used[i] != used);	/* no overlap */
		sm_used[i] = used;
	}
}

static uint64_t sm_free(void)
{
	sm_prefix();
	return (uint64_t)SM_N - sm_sum[SM_N];
}

static void test_spi_random_model(void **state)
{
	struct spi_alloc *a = spi_alloc_new(SM_LO, SM_HI);
	uint32_t op, want, first, count, k;
	int order, o, rc, n_get = 0, n_part = 0, n_nospc = 0, n_busy = 0;
	int n_bogus = 0;
	int64_t at;
	bool partial;

	(void)state;
	assert_non_null(a);
	memset(sm_used, 0, sizeof(sm_used));
	sm_nblocks = 0;
	rng_seed(0x5eed0002);

	for (op = 0; op < 6000; op++) {
		uint32_t dice = rng_below(100);

		sm_prefix();
		if (dice < 45) {
			want = rng_below(4) ? 1 + rng_below(300) :
					      1u << rng_below(14);
			partial = rng_below(2);
			order = 0;
			while ((1ull << order) < want)
				order++;
			at = sm_lowest(order);
			if (at < 0 && partial) {
				for (o = order - 1; o >= 0 && at < 0; o--) {
					at = sm_lowest(o);
					if (at >= 0)
						order = o;
				}
				n_part += at >= 0;
			}
			rc = spi_alloc_get(a, want, partial, &first, &count);
			assert_int_equal(rc, at >= 0 ? 0 : -ENOSPC);
			if (rc) {
				n_nospc++;
			} else {
				assert_int_equal(first, (uint32_t)at);
				assert_int_equal(count, 1u << order);
				sm_mark(first, count, true);
				sm_blocks[sm_nblocks++] =
					(struct sm_block){ first, count };
				n_get++;
			}
		} else if (dice < 60) {
			count = 1u << rng_below(10);
			first = rng_below(SM_N + 2000) & ~(count - 1);
			rc = spi_alloc_reserve(a, first, count);
			if (first < SM_LO || first + count - 1 > SM_HI) {
				assert_int_equal(rc, -EINVAL);
			} else if (!sm_block_free(first, count)) {
				assert_int_equal(rc, -EBUSY);
				n_busy++;
			} else {
				assert_int_equal(rc, 0);
				sm_mark(first, count, true);
				sm_blocks[sm_nblocks++] =
					(struct sm_block){ first, count };
			}
		} else if (dice < 90) {
			if (!sm_nblocks)
				continue;
			k = rng_below(sm_nblocks);
			first = sm_blocks[k].first;
			count = sm_blocks[k].count;
			assert_int_equal(spi_alloc_put(a, first, count), 0);
			sm_mark(first, count, false);
			sm_blocks[k] = sm_blocks[--sm_nblocks];
			if (rng_below(4) == 0) {	/* and again: double */
				assert_int_equal(spi_alloc_put(a, first, count),
						 -EINVAL);
				n_bogus++;
			}
		} else {
			/* Sub- and super-blocks of a held block. */
			if (!sm_nblocks)
				continue;
			k = rng_below(sm_nblocks);
			first = sm_blocks[k].first;
			count = sm_blocks[k].count;
			if (count > 1) {
				assert_int_equal(spi_alloc_put(a, first +
							       count / 2,
							       count / 2),
						 -EINVAL);
				n_bogus++;
			}
			if (count < 0x80000000u) {
				assert_int_equal(spi_alloc_put(a,
						first & ~(2 * count - 1),
						2 * count), -EINVAL);
				n_bogus++;
			}
		}
		assert_true(spi_alloc_free_count(a) == sm_free());
	}
	assert_true(n_get > 1000);
	assert_true(n_part > 20);
	assert_true(n_nospc > 5);
	assert_true(n_busy > 20);
	assert_true(n_bogus > 300);

	while (sm_nblocks) {
		struct sm_block *b = &sm_blocks[--sm_nblocks];

		assert_int_equal(spi_alloc_put(a, b->first, b->count), 0);
	}
	assert_int_equal(spi_alloc_free_count(a), SM_HI - SM_LO + 1);
	/* All merged back: the only 4096 block inside is 4096..8191. */
	assert_int_equal(spi_alloc_get(a, 4096, false, &first, &count), 0);
	assert_int_equal(first, 4096);
	spi_alloc_free_all(a);
}

/* ---- SPIs: scale ------------------------------------------------------- */

#define BIG_N	100000u

static int cmp_block(const void *x, const void *y)
{
	const struct sm_block *a = x, *b = y;

	return a->first < b->first ? -1 : a->first > b->first;
}

static void test_spi_full_range_100k(void **state)
{
	struct spi_alloc *a = spi_alloc_new(256, 0xffffffffu);
	const uint64_t all = 0x100000000ull - 256;
	struct sm_block *blk = calloc(BIG_N, sizeof(*blk));
	uint64_t held = 0;
	uint32_t i, j, first, count;

	(void)state;
	assert_non_null(a);
	assert_non_null(blk);
	rng_seed(0x5eed0003);
	for (i = 0; i < BIG_N; i++) {
		/* Mostly small blocks, now and then a large one. */
		uint32_t want = rng_below(50) ? 1 + rng_below(64) :
						1u << (10 + rng_below(12));

		assert_int_equal(spi_alloc_get(a, want, false, &first, &count),
				 0);
		assert_true(count >= want && count < 2 * want);
		assert_int_equal(first & (count - 1), 0);
		assert_true(first >= 256);
		blk[i] = (struct sm_block){ first, count };
		held += count;
	}
	assert_true(spi_alloc_free_count(a) == all - held);

	/* No two blocks overlap. */
	qsort(blk, BIG_N, sizeof(*blk), cmp_block);
	for (i = 1; i < BIG_N; i++)
		assert_true((uint64_t)blk[i - 1].first + blk[i - 1].count <=
			    blk[i].first);

	/* Free in random order. */
	for (i = BIG_N - 1; i > 0; i--) {
		struct sm_block t;

		j = rng_below(i + 1);
		t = blk[i];
		blk[i] = blk[j];
		blk[j] = t;
	}
	for (i = 0; i < BIG_N; i++) {
		assert_int_equal(spi_alloc_put(a, blk[i].first, blk[i].count),
				 0);
		held -= blk[i].count;
		if (i % 10000 == 0)
			assert_true(spi_alloc_free_count(a) == all - held);
	}
	assert_true(spi_alloc_free_count(a) == all);
	assert_int_equal(spi_alloc_get(a, 0x80000000u, false, &first, &count),
			 0);
	assert_int_equal(first, 0x80000000u);
	assert_int_equal(spi_alloc_get(a, 0x40000000u, false, &first, &count),
			 0);
	assert_int_equal(first, 0x40000000u);
	assert_int_equal(spi_alloc_get(a, 1, false, &first, &count), 0);
	assert_int_equal(first, 256);
	free(blk);
	spi_alloc_free_all(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_port_new_bad_range),
		cmocka_unit_test(test_port_exhaustion),
		cmocka_unit_test(test_port_partial),
		cmocka_unit_test(test_port_fragment_merge),
		cmocka_unit_test(test_port_reserve),
		cmocka_unit_test(test_port_bad_input),
		cmocka_unit_test(test_port_random_model),
		cmocka_unit_test(test_spi_new_bad_range),
		cmocka_unit_test(test_spi_deterministic),
		cmocka_unit_test(test_spi_alignment),
		cmocka_unit_test(test_spi_low_reserved),
		cmocka_unit_test(test_spi_odd_bounds),
		cmocka_unit_test(test_spi_put_rejects),
		cmocka_unit_test(test_spi_bad_input),
		cmocka_unit_test(test_spi_partial),
		cmocka_unit_test(test_spi_reserve),
		cmocka_unit_test(test_spi_merge),
		cmocka_unit_test(test_spi_random_model),
		cmocka_unit_test(test_spi_full_range_100k),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
