/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The tests' own PRNG (xorshift64*) so runs are identical on every libc. */
#ifndef XDNAT_TEST_RNG_H
#define XDNAT_TEST_RNG_H

#include <stdint.h>

static uint64_t rng_state;

static inline void rng_seed(uint64_t seed)
{
	rng_state = seed ? seed : 1;
}

static inline uint32_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

static inline uint32_t rng_below(uint32_t n)
{
	return rng() % n;
}

#endif
