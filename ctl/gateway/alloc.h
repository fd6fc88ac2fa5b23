/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Allocators for the two shares of a global address: ports and IPsec SPIs.
 * Neither knows about hosts or quotas (the caller enforces those); both are
 * O(log n) per operation and free blocks merge automatically.
 */
#ifndef XDNAT_ALLOC_H
#define XDNAT_ALLOC_H

#include <stdint.h>
#include <stdbool.h>

/*
 * Port allocator: contiguous blocks inside [lo, hi] (1 <= lo <= hi <= 65535).
 * A segment tree over the range keeps, per node, the longest free run, the
 * free prefix and the free suffix, so "leftmost free run of at least n" is
 * one root-to-leaf walk.
 */
struct port_alloc;

/* Returns NULL on bad range or no memory. */
struct port_alloc *port_alloc_new(uint16_t lo, uint16_t hi);
void port_alloc_free_all(struct port_alloc *a);

/*
 * Allocate a contiguous block of want ports: the leftmost free run of at least
 * want; when none is that long and partial is true, the leftmost longest free
 * run (a partial grant, *got < want). Returns 0 with *first, *got set, -ENOSPC
 * when nothing is free (or when !partial and no run of want exists), -EINVAL
 * when want == 0.
 */
int port_alloc_get(struct port_alloc *a, uint32_t want, bool partial,
		   uint16_t *first, uint32_t *got);
/* Take exactly [first, last] if every port in it is free (restore, re-claim).
 * -EINVAL outside the range or first > last, -EBUSY if any port is taken. */
int port_alloc_reserve(struct port_alloc *a, uint16_t first, uint16_t last);
/* Give back [first, last]; -EINVAL if outside the range or not all taken. */
int port_alloc_put(struct port_alloc *a, uint16_t first, uint16_t last);
uint32_t port_alloc_free_count(const struct port_alloc *a);
uint32_t port_alloc_longest_free(const struct port_alloc *a);

/*
 * SPI allocator: a buddy allocator over [lo, hi] (lo >= 256; SPIs 0..255 are
 * reserved by RFC 4303 and are never handed out, whatever the range says).
 * Blocks are power-of-two sized and aligned to their size, so a block is
 * exactly "spi_min..spi_max" for an IKE daemon. Implemented as a lazily split
 * binary trie over the 32-bit space: each node records the order of the
 * largest free aligned block beneath it, so alloc and free walk <= 32 levels,
 * and a freed block merges with its free buddy on the way back up.
 */
struct spi_alloc;

struct spi_alloc *spi_alloc_new(uint32_t lo, uint32_t hi);
void spi_alloc_free_all(struct spi_alloc *a);

/*
 * Allocate a block of 2^k SPIs where 2^k is want rounded up to a power of
 * two. The lowest-addressed suitable free block is used (so results are
 * deterministic). When none is free and partial is true, the largest free
 * aligned block smaller than that is granted instead. Returns 0 with
 * *first, *count set, -ENOSPC, or -EINVAL (want == 0 or want > 2^31).
 */
int spi_alloc_get(struct spi_alloc *a, uint32_t want, bool partial,
		  uint32_t *first, uint32_t *count);
/* Take exactly the aligned power-of-two block [first, first+count-1] if it
 * is entirely free. -EINVAL if count is not a power of two, first is not
 * aligned to it or the block leaves [lo, hi]; -EBUSY if any of it is taken. */
int spi_alloc_reserve(struct spi_alloc *a, uint32_t first, uint32_t count);
/* Give back a block previously returned by get/reserve (exactly that block).
 * -EINVAL if it is not an allocated block. */
int spi_alloc_put(struct spi_alloc *a, uint32_t first, uint32_t count);
uint64_t spi_alloc_free_count(const struct spi_alloc *a);

#endif
