/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A next hop the FIB has no neighbour entry for: the route is there (the
 * kernel set p->ipv4_dst to the next hop and p->ifindex to its NIC), only
 * the MAC is missing, and XDP cannot wait for ARP. The packet is dropped
 * under its own reason and xdnatd is told (xdnat_nh_events), which has the
 * kernel resolve the address: the next packets go.
 */
#ifndef XDNAT_BPF_NEXTHOP_H
#define XDNAT_BPF_NEXTHOP_H

#include "maps.h"
#include "stats.h"

/* Tell xdnatd, at most once per XDNAT_NH_EVENT_GAP_NS per CPU and slot;
 * a full ring loses the event, the next packet after the gap retries. */
static __always_inline int nexthop_unresolved(struct xdp_md *ctx,
					      const struct bpf_fib_lookup *p)
{
	__u32 slot = xdnat_nh_event_slot(p->ipv4_dst);
	__u64 now = bpf_ktime_get_coarse_ns(), *last;
	struct xdnat_nh_event *ev;

	last = bpf_map_lookup_elem(&xdnat_nh_event_at, &slot);
	if (last && now - *last >= XDNAT_NH_EVENT_GAP_NS) {
		ev = bpf_ringbuf_reserve(&xdnat_nh_events, sizeof(*ev), 0);
		if (ev) {
			ev->addr = p->ipv4_dst;
			ev->ifindex = p->ifindex;
			bpf_ringbuf_submit(ev, 0);
			*last = now;
		}
	}
	return verdict(ctx, XDP_DROP, XDNAT_DROP_NEXTHOP_UNRESOLVED);
}

#endif
