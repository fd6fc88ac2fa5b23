/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * pap_bench — authenticated PAP transactions per second against a live xdnatd.
 *
 *   pap_bench GW PORT HOSTS SECONDS
 *
 * Registers HOSTS clients, then keeps one EXTEND in flight per client from a
 * single thread (one core): every request is HMAC-sealed, every reply is
 * HMAC-verified, and the daemon acknowledges only after its journal is on
 * disk. A request unanswered for a second is resent verbatim (the gateway's
 * reply cache keeps that exactly-once). Prints the rate; a figure, not a test.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include "pap/pap_client.h"

#define RX_BATCH 64

struct slot {
	struct pap_session s;
	uint8_t req[256];
	int len;
	double sent_at;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int seal_extend(struct slot *sl)
{
	struct pap_writer w;

	if (pap_session_begin(&sl->s, &w, sl->req, sizeof(sl->req), PAP_EXTEND))
		return -1;
	pap_put_u32(&w, PAP_P_LEASE, 600);
	sl->len = pap_session_seal(&sl->s, &w);
	return sl->len > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	static uint8_t rx[RX_BATCH][PAP_MAX_MSG];
	struct mmsghdr msgs[RX_BATCH];
	struct iovec iov[RX_BATCH];
	struct slot *slots;
	struct pap_client reg;
	uint32_t base_id;
	unsigned long done = 0, resent = 0, bad = 0;
	double t0, t_end, seconds;
	int hosts, fd;

	if (argc != 5) {
		fprintf(stderr, "usage: pap_bench GW PORT HOSTS SECONDS\n");
		return 2;
	}
	hosts = atoi(argv[3]);
	seconds = atof(argv[4]);
	slots = calloc((size_t)hosts, sizeof(*slots));
	if (!slots || hosts < 1)
		return 2;

	/* Register every client through the ordinary client library. */
	if (pap_client_open(&reg, argv[1], (uint16_t)atoi(argv[2]))) {
		fprintf(stderr, "pap_bench: bad gateway %s\n", argv[1]);
		return 2;
	}
	for (int i = 0; i < hosts; i++) {
		int rc = pap_client_register(&reg, NULL, 0, 600);

		if (rc) {
			fprintf(stderr, "pap_bench: register: %s %s\n", strerror(-rc),
				reg.err_text);
			return 1;
		}
		slots[i].s = reg.s;
		slots[i].s.site_key = NULL;
		reg.s.client_id = 0;
	}
	fd = reg.fd;
	base_id = slots[0].s.client_id;
	for (int i = 0; i < hosts; i++) {
		if (slots[i].s.client_id != base_id + (uint32_t)i) {
			fprintf(stderr, "pap_bench: client ids are not consecutive (other clients?)\n");
			return 1;
		}
	}

	t0 = now_s();
	t_end = t0 + seconds;
	for (int i = 0; i < hosts; i++) {
		seal_extend(&slots[i]);
		slots[i].sent_at = t0;
		send(fd, slots[i].req, (size_t)slots[i].len, 0);
	}
	while (now_s() < t_end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int n;

		if (poll(&p, 1, 100) <= 0)
			goto resend;
		for (int i = 0; i < RX_BATCH; i++) {
			iov[i] = (struct iovec){ rx[i], PAP_MAX_MSG };
			msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
		}
		n = recvmmsg(fd, msgs, RX_BATCH, MSG_DONTWAIT, NULL);
		for (int i = 0; i < n; i++) {
			struct pap_msg m;
			uint32_t id;
			struct slot *sl;

			if (msgs[i].msg_len < PAP_HDR_LEN)
				continue;
			memcpy(&id, rx[i] + 8, 4);
			id = ntohl(id) - base_id;
			if (id >= (uint32_t)hosts)
				continue;
			sl = &slots[id];
			if (pap_session_check(&sl->s, rx[i], msgs[i].msg_len, PAP_EXTEND, &m)) {
				bad++;
				continue;
			}
			done++;
			seal_extend(sl);
			sl->sent_at = now_s();
			send(fd, sl->req, (size_t)sl->len, 0);
		}
resend:
		for (int i = 0; i < hosts; i++) {
			if (now_s() - slots[i].sent_at < 1.0)
				continue;
			send(fd, slots[i].req, (size_t)slots[i].len, 0);
			slots[i].sent_at = now_s();
			resent++;
		}
	}
	seconds = now_s() - t0;
	printf("pap_bench: %lu authenticated EXTEND transactions in %.2f s with %d clients "
	       "in flight: %.0f transactions/s (%lu resent, %lu unexpected replies)\n",
	       done, seconds, hosts, done / seconds, resent, bad);
	for (int i = 0; i < hosts; i++) {
		reg.s = slots[i].s;
		pap_client_deregister(&reg);
	}
	pap_client_close(&reg);
	free(slots);
	return 0;
}
