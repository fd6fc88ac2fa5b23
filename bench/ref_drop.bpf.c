/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ref_drop — the floor for gw_ext's IPsec drop paths in bench/xdp_bench:
 * parse Ethernet, IPv4 and the ESP SPI with the data plane's own parsers,
 * then drop. No maps, no counters, no policy.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "parse.h"

SEC("xdp")
int ref_drop(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	struct hdr_cursor nh = { .pos = (void *)(long)ctx->data };
	struct ethhdr *eth;
	struct iphdr *iph;
	__u32 spi;

	if (parse_ethhdr(&nh, data_end, &eth) != ETH_P_IP ||
	    parse_iphdr(&nh, data_end, &iph) != IPPROTO_ESP ||
	    parse_esphdr(&nh, data_end, &spi) < 0 || !spi)
		return XDP_PASS;
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
