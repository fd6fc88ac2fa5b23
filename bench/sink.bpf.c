/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * sink — the receiving end of bench/live_bench: counts every frame per CPU
 * (packets and bytes) and drops it. One map, two attachment points:
 *   sink_xdp	XDP on the receiving veth: where the gateway's XDP redirects
 *		land (a redirect into a veth needs an XDP program, or GRO, on
 *		its peer).
 *   sink_tc	tc ingress (clsact) of the same NIC, for frames the kernel
 *		forwarded as skbs (the Linux configuration). With XDP attached
 *		too, XDP drops first; without, an skb reaching an XDP program
 *		on a veth would be copied into a fresh page first, a cost the
 *		Linux path must not be charged with.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#ifndef TC_ACT_SHOT
#define TC_ACT_SHOT	2
#endif

struct sink_counter {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sink_counter);
} sink_count SEC(".maps");

static __always_inline void sink_add(__u64 len)
{
	struct sink_counter *c;
	__u32 key = 0;

	c = bpf_map_lookup_elem(&sink_count, &key);
	if (!c)
		return;
	/* per-CPU slot, preemption off: no atomics */
	c->packets++;
	c->bytes += len;
}

SEC("xdp")
int sink_xdp(struct xdp_md *ctx)
{
	sink_add(ctx->data_end - ctx->data);
	return XDP_DROP;
}

SEC("tc")
int sink_tc(struct __sk_buff *skb)
{
	sink_add(skb->len);
	return TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
