/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * nl.h over libmnl. mnl_cb_run() does the work on each message (the
 * kernel's NLMSG_ERROR into errno, NLMSG_DONE, the port id); what it would
 * refuse whole is handled here first: an answer to an earlier request in
 * the same read is skipped, an interrupted dump is read to its end.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include "lib/nl.h"

#define NL_BUF		32768	/* > a dump part (NLMSG_GOODSIZE, or more) */

struct nl {
	struct mnl_socket *sock;
	unsigned int portid;
	uint32_t seq;
	char buf[NL_BUF];
};

void nl_close(struct nl *nl)
{
	if (!nl)
		return;
	if (nl->sock)
		mnl_socket_close(nl->sock);
	free(nl);
}

int nl_open(int bus, unsigned int flags, struct nl **out)
{
	struct timeval tv = { .tv_sec = NL_TIMEOUT_SEC };
	struct nl *nl = calloc(1, sizeof(*nl));
	int one = 1, err;

	if (!nl)
		return -ENOMEM;
	nl->sock = mnl_socket_open2(bus, SOCK_CLOEXEC);
	if (!nl->sock)
		goto fail;
	/* best effort: a kernel without it dumps everything, callers check */
	if (flags & NL_STRICT_CHK)
		mnl_socket_setsockopt(nl->sock, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
	if (setsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID))
		goto fail;
	nl->portid = mnl_socket_get_portid(nl->sock);
	*out = nl;
	return 0;
fail:
	err = -errno;
	nl_close(nl);
	return err;
}

struct nlmsghdr *nl_msg(struct nl_msgbuf *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *h = mnl_nlmsg_put_header(buf->b);

	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_REQUEST | flags;
	return h;
}

struct talk {
	nl_cb cb;
	void *data;
	int err;	/* cb's first */
	bool intr;	/* the kernel marked the dump inconsistent */
};

/* After cb's error the rest of the answer is still read, so that no dump
 * is left running on the socket (the next would be refused, EBUSY). */
static int on_data(const struct nlmsghdr *h, void *arg)
{
	struct talk *t = arg;

	if (t->cb && !t->err)
		t->err = t->cb(h, t->data);
	return MNL_CB_OK;
}

/* One read's messages: 1 to read on, 0 at the answer's end, or -errno. */
static int run(struct nl *nl, size_t got, struct talk *t)
{
	const struct nlmsghdr *h = (const struct nlmsghdr *)nl->buf;
	int len = (int)got;

	for (; mnl_nlmsg_ok(h, len); h = mnl_nlmsg_next(h, &len)) {
		int rc;

		if (h->nlmsg_seq != nl->seq)
			continue;	/* an answer to an earlier, abandoned request */
		/* libmnl would stop at the first such message: read to the end */
		if (h->nlmsg_flags & NLM_F_DUMP_INTR) {
			t->intr = true;
			if (h->nlmsg_type == NLMSG_DONE)
				return t->err ? t->err : -EINTR;
			continue;
		}
		rc = mnl_cb_run(h, h->nlmsg_len, nl->seq, nl->portid, on_data, t);
		if (rc == MNL_CB_ERROR)
			return t->err ? t->err : -errno;
		if (rc == MNL_CB_STOP)
			return t->err ? t->err : t->intr ? -EINTR : 0;
	}
	return 1;
}

int nl_talk(struct nl *nl, struct nlmsghdr *req, nl_cb cb, void *data)
{
	struct talk t = { .cb = cb, .data = data };
	int rc;

	/* 0 would turn libmnl's sequence check off */
	if (!++nl->seq)
		nl->seq = 1;
	req->nlmsg_seq = nl->seq;
	if (mnl_socket_sendto(nl->sock, req, req->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t got = mnl_socket_recvfrom(nl->sock, nl->buf, sizeof(nl->buf));

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		rc = run(nl, (size_t)got, &t);
		if (rc <= 0)
			return rc;
	}
}

int nl_request(struct nl *nl, struct nlmsghdr *req)
{
	req->nlmsg_flags |= NLM_F_ACK;
	return nl_talk(nl, req, NULL, NULL);
}

int nl_dump(struct nl *nl, struct nlmsghdr *req, nl_cb cb, void *data)
{
	req->nlmsg_flags |= NLM_F_DUMP;
	return nl_talk(nl, req, cb, data);
}

int nl_subscribe(int bus, const unsigned int *groups, size_t n, unsigned int optional,
		 int rcvbuf, struct mnl_socket **out)
{
	struct mnl_socket *s = mnl_socket_open2(bus, SOCK_NONBLOCK | SOCK_CLOEXEC);
	int err;

	if (!s)
		return -errno;
	if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID))
		goto fail;
	for (size_t i = 0; i < n; i++) {
		int g = (int)groups[i];

		if (mnl_socket_setsockopt(s, NETLINK_ADD_MEMBERSHIP, &g, sizeof(g)) &&
		    !(i < 32 && optional & (1u << i)))
			goto fail;
	}
	/* a burst of changes must not overrun it (it would, the caller resyncs) */
	if (rcvbuf)
		setsockopt(mnl_socket_get_fd(s), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	*out = s;
	return 0;
fail:
	err = -errno;
	mnl_socket_close(s);
	return err;
}

int nl_drain(struct mnl_socket *s, void *buf, size_t len, mnl_cb_t cb, void *data)
{
	int rc = 0;

	for (;;) {
		ssize_t n = mnl_socket_recvfrom(s, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOBUFS) {
			rc = 2;
			continue;
		}
		if (n <= 0)
			return rc;
		if (!rc)
			rc = 1;
		if (cb)
			mnl_cb_run(buf, (size_t)n, 0, 0, cb, data);
	}
}
