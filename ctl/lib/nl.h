/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The netlink requests the programs make (rtnetlink, XFRM), over libmnl:
 * a socket with a receive timeout, one request and the kernel's answer as
 * -errno, a dump whose messages go to a callback. Messages are built with
 * libmnl itself (nl_msg, then mnl_attr_put_*, mnl_attr_nest_start).
 *
 * Each request gets the next sequence number; answers to another one (an
 * earlier request given up on after a timeout) are skipped.
 */
#ifndef XDNAT_NL_H
#define XDNAT_NL_H

#include <stddef.h>
#include <stdint.h>
#include <libmnl/libmnl.h>

#define NL_TIMEOUT_SEC	1	/* never stall a caller on a silent kernel */

/* nl_open flags */
#define NL_STRICT_CHK	1u	/* NETLINK_GET_STRICT_CHK: the kernel filters dumps */

struct nl;

/* A socket on the netlink bus (NETLINK_ROUTE, NETLINK_XFRM), bound, with
 * a receive timeout of NL_TIMEOUT_SEC. 0 or -errno. */
int nl_open(int bus, unsigned int flags, struct nl **out);
void nl_close(struct nl *nl);

/* Room for any request built here, aligned for its header. */
struct nl_msgbuf {
	union {
		char b[1024];
		struct nlmsghdr h;
		uint64_t align;
	};
};

/*
 * Start a request of type in buf: its header, with NLM_F_REQUEST | flags.
 * The family header follows with mnl_nlmsg_put_extra_header() (zeroed),
 * the attributes with mnl_attr_put_*().
 */
struct nlmsghdr *nl_msg(struct nl_msgbuf *buf, uint16_t type, uint16_t flags);

/* Called for each data message answering a request: 0, or -errno to stop
 * and have the request fail with it. */
typedef int (*nl_cb)(const struct nlmsghdr *h, void *data);

/*
 * Send req as it is and read its answer: data messages go to cb (when not
 * NULL) until the kernel's NLMSG_DONE or NLMSG_ERROR. 0, the kernel's
 * error, cb's first error (the answer is still read to its end), -EINTR
 * when the kernel marks a dump interrupted (the table changed meanwhile:
 * dump again), -ETIMEDOUT when nothing came for NL_TIMEOUT_SEC, or -errno.
 */
int nl_talk(struct nl *nl, struct nlmsghdr *req, nl_cb cb, void *data);
/* nl_talk with NLM_F_ACK: 0 or the kernel's -errno. */
int nl_request(struct nl *nl, struct nlmsghdr *req);
/* nl_talk with NLM_F_DUMP. */
int nl_dump(struct nl *nl, struct nlmsghdr *req, nl_cb cb, void *data);

/* ---- notifications ---------------------------------------------------------- */

/*
 * A non-blocking socket on the multicast groups (RTNLGRP_*) of bus, for an
 * epoll loop: groups[i] is required unless bit i of optional is set (a
 * kernel may refuse one, RTNLGRP_TC say: periodic checks cover it), and a
 * receive buffer of rcvbuf bytes when not 0. 0 or -errno.
 */
int nl_subscribe(int bus, const unsigned int *groups, size_t n, unsigned int optional,
		 int rcvbuf, struct mnl_socket **out);
/*
 * Read what is queued on s: each message to cb (NULL: just drain). Returns
 * 1 when something came, 2 when the kernel dropped notifications (ENOBUFS:
 * the caller reads its state anew), 0 when nothing did.
 */
int nl_drain(struct mnl_socket *s, void *buf, size_t len, mnl_cb_t cb, void *data);

#endif
