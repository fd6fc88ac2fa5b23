/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * SPI allocator: a buddy allocator kept as a lazily split binary trie over
 * the whole 32-bit SPI space. A node at depth d stands for the aligned block
 * of order 32 - d. Leaves are whole blocks that are free, handed out (as
 * exactly one block) or outside [lo, hi]; inner nodes only exist where a block
 * is mixed. The trie is kept canonical: an inner node never has two free
 * leaves as children (they merge), so every free aligned block lies inside a
 * free leaf and "largest free order beneath" per node is exact.
 *
 * Space outside [lo, hi] is built as "out" leaves once, at creation: the two
 * boundaries cost at most two root-to-leaf paths of nodes.
 */
#include <errno.h>
#include <stdlib.h>
#include "gateway/alloc.h"

#define SPI_MIN		256u	/* RFC 4303: 0 is never used, 1..255 reserved */
#define SPI_ORDERS	32	/* order of the root: the whole 32-bit space */

enum spi_state {
	SPI_SPLIT,	/* inner node: the children say */
	SPI_FREE,	/* whole block free */
	SPI_USED,	/* whole block handed out as one block */
	SPI_OUT,	/* whole block outside [lo, hi], never handed out */
};

struct spi_node {
	struct spi_node *kid;	/* [0] low half, [1] high half; NULL: leaf */
	int8_t maxfree;		/* largest free order beneath, -1 if none */
	uint8_t state;		/* enum spi_state */
};

struct spi_alloc {
	struct spi_node root;
	uint32_t lo, hi;	/* lo already clamped to SPI_MIN */
	uint64_t nfree;
};

static int8_t max_i8(int8_t a, int8_t b)
{
	return a > b ? a : b;
}

static void spi_leaf(struct spi_node *n, enum spi_state state, int order)
{
	n->kid = NULL;
	n->state = state;
	n->maxfree = state == SPI_FREE ? (int8_t)order : -1;
}

/* Build the subtree for the block of the given order at base. Depth <= 32,
 * and only blocks straddling lo or hi recurse, so this is O(64) nodes. */
static int spi_build(struct spi_node *n, uint32_t base, int order,
		     uint32_t lo, uint32_t hi)
{
	uint64_t last = (uint64_t)base + (1ull << order) - 1;
	uint32_t half;
	int rc, i;

	if (base >= lo && last <= hi) {
		spi_leaf(n, SPI_FREE, order);
		return 0;
	}
	if (last < lo || base > hi) {
		spi_leaf(n, SPI_OUT, order);
		return 0;
	}
	/* Straddles a bound, so order >= 1: an order-0 block is in or out. */
	spi_leaf(n, SPI_OUT, order);
	n->kid = calloc(2, sizeof(*n->kid));
	if (!n->kid)
		return -ENOMEM;
	n->state = SPI_SPLIT;
	half = 1u << (order - 1);
	for (i = 0; i < 2; i++) {
		rc = spi_build(&n->kid[i], base + i * half, order - 1, lo, hi);
		if (rc)
			return rc;	/* caller frees the partial trie */
	}
	n->maxfree = max_i8(n->kid[0].maxfree, n->kid[1].maxfree);
	return 0;
}

static void spi_free_kids(struct spi_node *n)
{
	if (!n->kid)
		return;
	spi_free_kids(&n->kid[0]);
	spi_free_kids(&n->kid[1]);
	free(n->kid);
	n->kid = NULL;
}

/* Smallest k with 2^k >= want; want is 1..2^31. */
static int spi_order_up(uint32_t want)
{
	return want == 1 ? 0 : 32 - __builtin_clz(want - 1);
}

/* count is a power of two and first is aligned to it. */
static bool spi_block_ok(uint32_t first, uint32_t count)
{
	return count && !(count & (count - 1)) && !(first & (count - 1));
}

/*
 * Walk from the root towards the block of the given order at addr, stopping
 * early at a leaf. The inner nodes passed are stored in path[] (path[d] has
 * order 32 - d); *at gets the order of the node returned.
 */
static struct spi_node *spi_walk(struct spi_alloc *a, uint32_t addr, int order,
				 struct spi_node **path, int *depth, int *at)
{
	struct spi_node *n = &a->root;
	int o = SPI_ORDERS;

	*depth = 0;
	while (o > order && n->kid) {
		path[(*depth)++] = n;
		o--;
		n = &n->kid[(addr >> o) & 1];
	}
	*at = o;
	return n;
}

/* Recompute maxfree bottom-up along path, merging free buddies. */
static void spi_fixup(struct spi_node **path, int depth)
{
	struct spi_node *p;

	while (depth-- > 0) {
		p = path[depth];
		if (p->kid[0].state == SPI_FREE &&
		    p->kid[1].state == SPI_FREE) {
			free(p->kid);
			spi_leaf(p, SPI_FREE, SPI_ORDERS - depth);
		} else {
			p->maxfree = max_i8(p->kid[0].maxfree,
					    p->kid[1].maxfree);
		}
	}
}

/* Mark the block of the given order at first as handed out, splitting the
 * free leaf holding it. The caller has checked the block is inside [lo, hi]. */
static int spi_take(struct spi_alloc *a, uint32_t first, int order)
{
	struct spi_node *path[SPI_ORDERS], *spare[SPI_ORDERS], *n;
	int depth, o, i, need;

	n = spi_walk(a, first, order, path, &depth, &o);
	/* Canonical trie: an inner node at the target order is partly taken. */
	if (n->state != SPI_FREE)
		return -EBUSY;
	/* Allocate every split first so that -ENOMEM leaves the trie as is. */
	need = o - order;
	for (i = 0; i < need; i++) {
		spare[i] = malloc(2 * sizeof(*spare[i]));
		if (!spare[i]) {
			while (i--)
				free(spare[i]);
			return -ENOMEM;
		}
	}
	for (i = 0; i < need; i++) {
		path[depth++] = n;
		o--;
		n->kid = spare[i];
		n->state = SPI_SPLIT;
		spi_leaf(&n->kid[0], SPI_FREE, o);
		spi_leaf(&n->kid[1], SPI_FREE, o);
		n = &n->kid[(first >> o) & 1];
	}
	spi_leaf(n, SPI_USED, order);
	a->nfree -= 1ull << order;
	spi_fixup(path, depth);
	return 0;
}

struct spi_alloc *spi_alloc_new(uint32_t lo, uint32_t hi)
{
	struct spi_alloc *a;

	/* Clamp rather than refuse: 0..255 are simply never handed out. */
	if (lo < SPI_MIN)
		lo = SPI_MIN;
	if (lo > hi)
		return NULL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->lo = lo;
	a->hi = hi;
	a->nfree = (uint64_t)hi - lo + 1;
	if (spi_build(&a->root, 0, SPI_ORDERS, lo, hi)) {
		spi_alloc_free_all(a);
		return NULL;
	}
	return a;
}

void spi_alloc_free_all(struct spi_alloc *a)
{
	if (!a)
		return;
	spi_free_kids(&a->root);
	free(a);
}

int spi_alloc_get(struct spi_alloc *a, uint32_t want, bool partial,
		  uint32_t *first, uint32_t *count)
{
	struct spi_node *n;
	uint32_t base = 0;
	int order, o = SPI_ORDERS, rc;

	if (!a || !first || !count || want == 0 || want > (1u << 31))
		return -EINVAL;
	order = spi_order_up(want);
	if (a->root.maxfree < order) {
		if (!partial || a->root.maxfree < 0)
			return -ENOSPC;
		/* Never 32: SPIs 0..255 keep the low half from being free. */
		order = a->root.maxfree;
	}
	/* Lowest address: take the low half whenever it has room. */
	n = &a->root;
	while (n->kid) {
		o--;
		if (n->kid[0].maxfree >= order) {
			n = &n->kid[0];
		} else {
			n = &n->kid[1];
			base |= 1u << o;
		}
	}
	/* n is a free leaf of order >= order; its start is the lowest fit. */
	rc = spi_take(a, base, order);
	if (rc)
		return rc;
	*first = base;
	*count = 1u << order;
	return 0;
}

int spi_alloc_reserve(struct spi_alloc *a, uint32_t first, uint32_t count)
{
	if (!a || !spi_block_ok(first, count))
		return -EINVAL;
	if (first < a->lo || (uint64_t)first + count - 1 > a->hi)
		return -EINVAL;
	return spi_take(a, first, __builtin_ctz(count));
}

int spi_alloc_put(struct spi_alloc *a, uint32_t first, uint32_t count)
{
	struct spi_node *path[SPI_ORDERS], *n;
	int order, depth, o;

	if (!a || !spi_block_ok(first, count))
		return -EINVAL;
	order = __builtin_ctz(count);
	n = spi_walk(a, first, order, path, &depth, &o);
	/*
	 * Only a leaf handed out as exactly this block may be freed: stopping
	 * above it means a sub-block (or a free block), an inner node means a
	 * super-block, and a free leaf a double free.
	 */
	if (o != order || n->state != SPI_USED)
		return -EINVAL;
	spi_leaf(n, SPI_FREE, order);
	a->nfree += count;
	spi_fixup(path, depth);
	return 0;
}

uint64_t spi_alloc_free_count(const struct spi_alloc *a)
{
	return a ? a->nfree : 0;
}
