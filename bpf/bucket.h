/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A token bucket (struct xdnat_icmp_bucket): burst tokens at once, one more
 * every interval_ns. The ICMP errors' per-CPU budget (icmp.h) and the
 * fragment table's per-source budget (classify.h) are two of them.
 */
#ifndef XDNAT_BPF_BUCKET_H
#define XDNAT_BPF_BUCKET_H

#include "vmlinux.h"
#include "xdnat.h"

/*
 * True, and one token taken, when b grants one at now. A zero stamp is a
 * full bucket. No atomics: a per-CPU bucket needs none (preemption is off);
 * in a shared one two CPUs may both take the last token, which loosens the
 * bound by the number of CPUs at most.
 */
static __always_inline bool bucket_take(struct xdnat_icmp_bucket *b, __u64 now, __u32 burst,
					__u64 interval_ns)
{
	__u64 add;

	if (!b->stamp_ns) {
		b->stamp_ns = now;
		b->tokens = burst;
	} else if (now > b->stamp_ns) {
		add = (now - b->stamp_ns) / interval_ns;
		if (add >= burst || b->tokens + add >= burst) {
			b->tokens = burst;
			b->stamp_ns = now;
		} else if (add) {
			b->tokens += (__u32)add;
			/* keep the fraction of an interval already earned */
			b->stamp_ns += add * interval_ns;
		}
	}
	if (!b->tokens)
		return false;
	b->tokens--;
	return true;
}

#endif
