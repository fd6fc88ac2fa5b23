/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The gateway's maps, shared by gw_ext and gw_int: both objects define them
 * and libbpf pins them by name under xdnatd's --bpffs directory, so the second
 * program loaded (and a restarted daemon) reuses the same maps. Key and value
 * types live in common/xdnat.h.
 */
#ifndef XDNAT_BPF_MAPS_H
#define XDNAT_BPF_MAPS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "xdnat.h"

/* Gateway addresses, NICs and MTU: written by xdnatd, read per packet. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdnat_cfg);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdnat_cfg SEC(".maps");

/* Port of G (TCP and UDP) -> the host holding it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XDNAT_MAX_PORTS);
	__type(key, __u32);
	__type(value, struct xdnat_port_owner);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdnat_ports SEC(".maps");

/* Granules of allocated SPI blocks -> holder; only consulted to name a drop
 * reason. A hash, not an LPM trie of blocks: one lookup whatever the number
 * of blocks (docs/benchmarks.md). Not preallocated: sized for many more
 * SPIs than most gateways hand out. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XDNAT_MAX_SPI_GRANULES);
	__type(key, struct xdnat_spiblk_key);
	__type(value, struct xdnat_owner);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdnat_spiblk SEC(".maps");

/* Established-SA table: (SPI, validated peer) -> host and its MAC. The
 * inbound IPsec fast path: one lookup names the tunnel end and next hop. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XDNAT_MAX_SA);
	__type(key, struct xdnat_sa_key);
	__type(value, struct xdnat_owner);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdnat_sa SEC(".maps");

/* Registered hosts: Hi (be) -> client id (outer source check of gw_int) and
 * MAC (what gw_int copies into the echo ids it learns). gw_ext never looks
 * here: every owner value it reads carries the MAC itself. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XDNAT_MAX_HOSTS);
	__type(key, __u32);
	__type(value, struct xdnat_host);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdnat_hosts SEC(".maps");

/* gw_int's cache of the FIB's next hop per outbound destination: slot
 * xdnat_nexthop_slot(dst, tos) -> the answer and when it expires. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XDNAT_MAX_NEXTHOPS);
	__type(key, __u32);
	__type(value, struct xdnat_nexthop);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdnat_nexthop SEC(".maps");

/* Next hops without a neighbour entry, for xdnatd to resolve (xdnat.h). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, XDNAT_NH_EVENTS_SIZE);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdnat_nh_events SEC(".maps");

/* When this CPU last sent an event for slot xdnat_nh_event_slot(addr). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XDNAT_NH_EVENT_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdnat_nh_event_at SEC(".maps");

/* (source, destination, IP id, protocol) of a first fragment -> its holder
 * and when, for the rest (xdnat.h). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XDNAT_MAX_FRAGS);
	__type(key, struct xdnat_frag_key);
	__type(value, struct xdnat_frag);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdnat_frags SEC(".maps");

/* Source -> its budget of new datagrams in xdnat_frags (xdnat.h). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XDNAT_MAX_FRAG_SRCS);
	__type(key, __u32);
	__type(value, struct xdnat_icmp_bucket);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdnat_frag_src SEC(".maps");

/* (peer, echo id) learned from outbound echo requests -> host, for the replies. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XDNAT_MAX_ICMP_IDS);
	__type(key, struct xdnat_icmp_key);
	__type(value, struct xdnat_owner);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdnat_icmp_ids SEC(".maps");

/* (peer, SPI, ESP/AH) learned from a host's outbound IPsec -> host, for the
 * ICMP errors that quote it. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XDNAT_MAX_IPSEC_OUT);
	__type(key, struct xdnat_ipsec_key);
	__type(value, struct xdnat_owner);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdnat_ipsec_out SEC(".maps");

/* Token buckets of the ICMP errors sent, per direction and CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XDNAT_ICMP_RL_MAX);
	__type(key, __u32);
	__type(value, struct xdnat_icmp_bucket);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdnat_icmp_rl SEC(".maps");

/* Packets and bytes per verdict and drop reason (the index), per CPU; each
 * value names its reason for bpftool (xdnat.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XDNAT_REASON_MAX);
	__type(key, __u32);
	__type(value, struct xdnat_reason_counter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdnat_stats SEC(".maps");

/* The layout record (key 0): which layout of these maps is pinned, and the
 * release that pinned them; xdnatd refuses pins of another layout, and
 * xdnatctl reads the maps offline only of its own. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdnat_layout);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdnat_layout SEC(".maps");

/* Egress NICs by ifindex, for bpf_redirect_map. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xdnat_tx SEC(".maps");

#endif
