/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#include <errno.h>
#include "gateway/udp_batch.h"

unsigned int udp_send_batch(int fd, struct mmsghdr *out, unsigned int n,
			    uint64_t *errors)
{
	unsigned int sent = 0, at = 0;

	while (at < n) {
		int k = sendmmsg(fd, out + at, n - at, 0);

		if (k > 0) {
			sent += (unsigned int)k;
			at += (unsigned int)k;
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		/* sendmmsg stops at the first message it cannot send and says
		 * why only when it is the first of the call: skip that one.
		 * The host retransmits and hits the reply cache. */
		if (errors)
			(*errors)++;
		at++;
	}
	return sent;
}
