/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Sending a batch of UDP replies with sendmmsg. One reply the kernel refuses
 * (a source port 0, an unreachable address, a full buffer) is skipped and
 * counted: the replies after it in the batch still go out.
 */
#ifndef XDNAT_UDP_BATCH_H
#define XDNAT_UDP_BATCH_H

#include <stdint.h>
#include <sys/socket.h>

/* Send out[0..n); returns how many went out. Each message refused is
 * skipped and counted in *errors (when errors is non-NULL). */
unsigned int udp_send_batch(int fd, struct mmsghdr *out, unsigned int n,
			    uint64_t *errors);

#endif
