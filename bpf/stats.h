/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Per-CPU counters of every verdict and drop reason (xdnat_stats). Every
 * return of gw_ext and gw_int goes through verdict(), which counts exactly
 * one reason: packets + 1, bytes + the frame length as it leaves the
 * program (after encapsulation, decapsulation or the ICMP rewrite; the
 * received length for a pass or a drop).
 */
#ifndef XDNAT_BPF_STATS_H
#define XDNAT_BPF_STATS_H

#include "maps.h"

static __always_inline void count(struct xdp_md *ctx, enum xdnat_reason reason)
{
	__u32 key = reason;
	struct xdnat_reason_counter *c;

	c = bpf_map_lookup_elem(&xdnat_stats, &key);
	if (!c)
		return;
	/* per-CPU value and XDP runs with preemption off: no atomics needed */
	c->packets++;
	c->bytes += ctx->data_end - ctx->data;
	c->reason = reason;	/* the entry's name, on the line just written */
}

/* Count the reason and hand back the XDP action: `return verdict(...)`. */
static __always_inline int verdict(struct xdp_md *ctx, int action,
				   enum xdnat_reason reason)
{
	count(ctx, reason);
	return action;
}

/* The reason for a bpf_fib_lookup() answer other than success (and than
 * frag-needed, which the callers answer or name themselves). */
static __always_inline enum xdnat_reason fib_drop_reason(int rc)
{
	switch (rc) {
	case BPF_FIB_LKUP_RET_BLACKHOLE:
	case BPF_FIB_LKUP_RET_UNREACHABLE:
	case BPF_FIB_LKUP_RET_PROHIBIT:
	case BPF_FIB_LKUP_RET_NOT_FWDED:	/* no route, or local/broadcast */
		return XDNAT_DROP_FIB_NO_ROUTE;
	case BPF_FIB_LKUP_RET_FWD_DISABLED:
		return XDNAT_DROP_FIB_FWD_DISABLED;
	case BPF_FIB_LKUP_RET_FRAG_NEEDED:
		return XDNAT_DROP_FIB_FRAG_NEEDED;
	default:			/* no neighbour, unsupported lwt */
		return XDNAT_DROP_NO_ROUTE;
	}
}

#endif
