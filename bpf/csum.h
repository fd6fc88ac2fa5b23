/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Internet checksums (RFC 1071) for the headers the data plane writes: the
 * outer IPv4 header of the tunnel and the ICMP errors it answers with; and
 * the incremental update (RFC 1624) of a header it rewrites in passing (the
 * inner TTL and ECN field). Only headers are summed, never a payload.
 */
#ifndef XDNAT_BPF_CSUM_H
#define XDNAT_BPF_CSUM_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* Fold a 32-bit one's complement sum to 16 bits and complement it. */
static __always_inline __u16 csum_fold32(__u32 sum)
{
	/* two rounds fold any 32-bit sum: the first leaves at most 0x1fffe */
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/*
 * Checksum of a 20-byte IPv4 header (ihl 5, the only kind we build); the
 * check field must be 0. The caller has bounds-checked the 20 bytes. Summed
 * as ten 16-bit words in memory order, so the result is already in network
 * order when stored back.
 */
static __always_inline __u16 ipv4_csum(const struct iphdr *iph)
{
	const __u16 *w = (const __u16 *)iph;
	__u32 sum = 0;
	int i;

#pragma unroll
	for (i = 0; i < (int)(sizeof(*iph) / 2); i++)
		sum += w[i];
	return csum_fold32(sum);
}

/*
 * Checksum of len bytes at p (len even, at most 2 * max_words), each word
 * bounds-checked against data_end, so a variable length needs no constant
 * bound in front. Returns 0 with the checksum in *out (network order), or
 * -1 when the bytes are not all in the packet.
 */
#define CSUM_MAX_WORDS		38	/* ICMP header + longest quote */
static __always_inline int csum_words(const void *p, __u32 len, const void *data_end,
				      __u16 *out)
{
	__u32 sum = 0;

#pragma unroll
	for (int i = 0; i < CSUM_MAX_WORDS; i++) {
		const __u16 *w = (const __u16 *)p + i;

		if ((__u32)i * 2 >= len)
			break;
		if ((const void *)(w + 1) > data_end)
			return -1;
		sum += *w;
	}
	*out = csum_fold32(sum);
	return 0;
}

/*
 * RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'): the checksum at *check after one
 * 16-bit word changed from old to new. All three as they are in memory: the
 * one's complement sum does not care about byte order as long as every word
 * is taken the same way.
 */
static __always_inline void csum_replace16(__u16 *check, __u16 old, __u16 new)
{
	__u32 sum = (__u16)~*check + (__u32)(__u16)~old + new;

	*check = csum_fold32(sum);
}

#endif
