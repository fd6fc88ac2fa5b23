/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Medians for the benches (one definition for xdp_bench and live_bench). */
#ifndef XDNAT_BENCH_STATS_H
#define XDNAT_BENCH_STATS_H

#include <stdlib.h>
#include <string.h>

#define BENCH_MAX_SAMPLES	64

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of v[0..n), n <= BENCH_MAX_SAMPLES (more are not looked at). */
static inline double bench_median(const double *v, unsigned int n)
{
	double s[BENCH_MAX_SAMPLES];

	if (!n)
		return 0;
	if (n > BENCH_MAX_SAMPLES)
		n = BENCH_MAX_SAMPLES;
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), bench_cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

#endif
