/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ref_encap — the ceiling for gw_ext's forwarding path in bench/xdp_bench:
 * parse Ethernet and IPv4 with the data plane's parsers, push the 20-byte
 * outer IPv4 header (IPIP, Gi -> Hi, with its checksum) with the data
 * plane's own tunnel_push(), XDP_TX. No lookups, no counters, no policy.
 *
 * encap.h brings the gateway's map definitions along; they are unused here,
 * and the bench points them at gw_ext's (bpf_map__reuse_fd) so that loading
 * this program creates and pins nothing.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "parse.h"
#include "encap.h"

/* Tunnel endpoints (be), set by the bench before load. */
const volatile __u32 outer_src = 0;
const volatile __u32 outer_dst = 0;

SEC("xdp")
int ref_encap(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	struct hdr_cursor nh = { .pos = (void *)(long)ctx->data };
	struct ethhdr *eth;
	struct iphdr *iph;

	if (parse_ethhdr(&nh, data_end, &eth) != ETH_P_IP ||
	    parse_iphdr(&nh, data_end, &iph) < 0)
		return XDP_PASS;
	if (tunnel_push(ctx, outer_src, outer_dst, iph->tos, bpf_ntohs(iph->tot_len)))
		return XDP_DROP;
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
