/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ctl/gateway/udp_batch.c on loopback: a reply to UDP port 0 in the middle of
 * a batch (issue 13, finding 4) is skipped and counted, and every other
 * reply of the batch still arrives. sendmmsg alone stops at it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "gateway/udp_batch.h"

#define N	6
#define BAD	2		/* the message to port 0 */

struct rig {
	int rx, tx;
	struct sockaddr_in to[N];
	struct iovec iov[N];
	struct mmsghdr out[N];
	char body[N][24];
};

static int udp_bound(uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	if (port)
		*port = ntohs(sa.sin_port);
	return fd;
}

static void rig_init(struct rig *r)
{
	uint16_t port;

	r->rx = udp_bound(&port);
	r->tx = udp_bound(NULL);
	for (int i = 0; i < N; i++) {
		r->to[i] = (struct sockaddr_in){ .sin_family = AF_INET,
			.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
			.sin_port = i == BAD ? 0 : htons(port) };
		snprintf(r->body[i], sizeof(r->body[i]), "reply%d", i);
		r->iov[i] = (struct iovec){ r->body[i], strlen(r->body[i]) };
		r->out[i] = (struct mmsghdr){ .msg_hdr = {
			.msg_name = &r->to[i], .msg_namelen = sizeof(r->to[i]),
			.msg_iov = &r->iov[i], .msg_iovlen = 1 } };
	}
}

/* What arrived, as a bit per message index. */
static unsigned int received(int fd)
{
	unsigned int got = 0;
	char buf[16];
	ssize_t n;

	while (poll(&(struct pollfd){ .fd = fd, .events = POLLIN }, 1, 200) == 1 &&
	       (n = recv(fd, buf, sizeof(buf) - 1, 0)) > 0) {
		buf[n] = 0;
		assert_int_equal(strncmp(buf, "reply", 5), 0);
		got |= 1u << (buf[5] - '0');
	}
	return got;
}

static void port_zero_skipped(void **state)
{
	struct rig r;
	uint64_t errors = 0;

	(void)state;
	rig_init(&r);
	assert_int_equal(udp_send_batch(r.tx, r.out, N, &errors), N - 1);
	assert_int_equal(errors, 1);
	assert_int_equal(received(r.rx), ((1u << N) - 1) & ~(1u << BAD));
	close(r.rx);
	close(r.tx);
}

/* Why: sendmmsg stops at the refused message and reports only what went
 * before it; the old loop then gave up on the rest of the batch. */
static void sendmmsg_stops_there(void **state)
{
	struct rig r;

	(void)state;
	rig_init(&r);
	assert_int_equal(sendmmsg(r.tx, r.out, N, 0), BAD);
	assert_int_equal(sendmmsg(r.tx, r.out + BAD, N - BAD, 0), -1);
	assert_int_equal(received(r.rx), (1u << BAD) - 1);
	close(r.rx);
	close(r.tx);
}

static void every_one_refused(void **state)
{
	struct rig r;
	uint64_t errors = 0;

	(void)state;
	rig_init(&r);
	for (int i = 0; i < N; i++)
		r.to[i].sin_port = 0;
	assert_int_equal(udp_send_batch(r.tx, r.out, N, &errors), 0);
	assert_int_equal(errors, N);
	assert_int_equal(udp_send_batch(r.tx, r.out, 0, NULL), 0);
	close(r.rx);
	close(r.tx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(port_zero_skipped),
		cmocka_unit_test(sendmmsg_stops_there),
		cmocka_unit_test(every_one_refused),
	};

	return cmocka_run_group_tests_name("udp_batch", tests, NULL, NULL);
}
