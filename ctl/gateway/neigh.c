/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The hosts' MACs on the internal NIC (neigh.h), over rtnetlink rather than
 * the SIOCGARP ioctl: one dump answers for every host and tells the entry's
 * state, so a stale entry can be told from a reachable one.
 *
 * Resolution is started with RTM_NEWNEIGH + NTF_USE (NLM_F_CREATE makes the
 * entry when there is none): the kernel sends the ARP request itself and
 * the entry then lives and ages like any other; nothing is sent to the
 * host's own ports. Permanent entries are never touched (NTF_USE would
 * clear their permanence).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include "lib/log.h"
#include "gateway/neigh.h"

#define NL_BUF		32768	/* > a dump part (NLMSG_GOODSIZE) */

/* States with a MAC worth forwarding to; stale and the probing ones too:
 * the kernel itself keeps sending to them while it confirms them. */
#define NUD_USABLE	(NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT)

struct neigh_entry {
	uint32_t addr;		/* be */
	uint16_t state;		/* NUD_* */
	uint8_t mac[6];		/* zero when the kernel reported none */
};

struct neigh {
	int fd;
	unsigned int ifindex;
	uint32_t seq;
	struct neigh_entry *tab;	/* the last table read, sorted by addr */
	size_t n_tab;
	uint32_t *asked;		/* resolutions asked for, sorted */
	size_t n_asked;
	uint64_t failures;
	char buf[NL_BUF];
};

/* For addresses and for entries alike: an entry begins with its address. */
static int addr_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

int neigh_open(unsigned int ifindex, struct neigh **out)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = 1 };
	struct neigh *n = calloc(1, sizeof(*n));
	int one = 1, err;

	if (!n)
		return -ENOMEM;
	n->ifindex = ifindex;
	n->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (n->fd < 0) {
		err = -errno;
		free(n);
		return err;
	}
	/* the kernel then filters the dump by NDA_IFINDEX (we check again) */
	setsockopt(n->fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
	/* never stall the daemon's loop on a kernel that does not answer */
	setsockopt(n->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(n->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		neigh_close(n);
		return err;
	}
	*out = n;
	return 0;
}

void neigh_close(struct neigh *n)
{
	if (!n)
		return;
	close(n->fd);
	free(n->tab);
	free(n->asked);
	free(n);
}

/* One RTM_NEWNEIGH of the dump into *e; false when it is not ours. */
static bool parse_entry(const struct neigh *n, const struct nlmsghdr *h,
			struct neigh_entry *e)
{
	const struct ndmsg *ndm = NLMSG_DATA(h);
	const struct rtattr *a;
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ndm));
	bool dst = false;

	if (len < 0 || ndm->ndm_family != AF_INET || (unsigned int)ndm->ndm_ifindex != n->ifindex)
		return false;
	memset(e, 0, sizeof(*e));
	e->state = ndm->ndm_state;
	for (a = (const struct rtattr *)((const char *)ndm + NLMSG_ALIGN(sizeof(*ndm)));
	     RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == NDA_DST && RTA_PAYLOAD(a) == sizeof(e->addr)) {
			memcpy(&e->addr, RTA_DATA(a), sizeof(e->addr));
			dst = true;
		} else if (a->rta_type == NDA_LLADDR && RTA_PAYLOAD(a) == sizeof(e->mac)) {
			memcpy(e->mac, RTA_DATA(a), sizeof(e->mac));
		}
	}
	return dst;
}

/* NLMSG_OK and NLMSG_NEXT without their mixed-sign comparisons. */
static bool nl_ok(const struct nlmsghdr *h, int len)
{
	return len >= (int)sizeof(*h) && h->nlmsg_len >= sizeof(*h) &&
	       h->nlmsg_len <= (unsigned int)len;
}

static struct nlmsghdr *nl_next(struct nlmsghdr *h, int *len)
{
	*len -= (int)NLMSG_ALIGN(h->nlmsg_len);
	return (struct nlmsghdr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));
}

/*
 * Reads messages answering seq until the dump's end or the request's ack.
 * Dump entries go to *tab (grown as needed) when tab is not NULL.
 * 0, the kernel's error (negative), or -errno.
 */
static int receive(struct neigh *n, uint32_t seq, struct neigh_entry **tab, size_t *count)
{
	size_t cap = 0;

	for (;;) {
		ssize_t got = recv(n->fd, n->buf, sizeof(n->buf), 0);
		struct nlmsghdr *h = (struct nlmsghdr *)n->buf;
		int len = (int)got;

		if (got < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		for (; nl_ok(h, len); h = nl_next(h, &len)) {
			struct neigh_entry e, *grown;

			if (h->nlmsg_seq != seq)
				continue;	/* an answer to an earlier, abandoned request */
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *ne = NLMSG_DATA(h);

				return h->nlmsg_len < NLMSG_LENGTH(sizeof(*ne)) ? -EPROTO :
				       ne->error;
			}
			if (!tab || h->nlmsg_type != RTM_NEWNEIGH || !parse_entry(n, h, &e))
				continue;
			if (*count == cap) {
				cap = cap ? cap * 2 : 64;
				grown = realloc(*tab, cap * sizeof(**tab));
				if (!grown)
					return -ENOMEM;
				*tab = grown;
			}
			(*tab)[(*count)++] = e;
		}
	}
}

static int send_req(struct neigh *n, struct nlmsghdr *h)
{
	h->nlmsg_seq = ++n->seq;
	if (send(n->fd, h, h->nlmsg_len, 0) != (ssize_t)h->nlmsg_len)
		return -errno;
	return 0;
}

/* The NIC's IPv4 neighbour table, sorted by address, into n->tab. */
static int read_table(struct neigh *n)
{
	struct {
		struct nlmsghdr h;
		struct ndmsg ndm;
		struct rtattr a;
		uint32_t ifindex;
	} req = {
		.h = {
			.nlmsg_len = sizeof(req),
			.nlmsg_type = RTM_GETNEIGH,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		},
		.ndm = { .ndm_family = AF_INET },
		.a = { .rta_len = RTA_LENGTH(sizeof(uint32_t)), .rta_type = NDA_IFINDEX },
		.ifindex = n->ifindex,
	};
	struct neigh_entry *tab = NULL;
	size_t count = 0;
	int err = send_req(n, &req.h);

	if (!err)
		err = receive(n, n->seq, &tab, &count);
	if (err) {
		free(tab);
		return err;
	}
	if (count)
		qsort(tab, count, sizeof(*tab), addr_cmp);
	free(n->tab);
	n->tab = tab;
	n->n_tab = count;
	return 0;
}

/* Ask the kernel to resolve addr, as if a packet waited for it. */
static int resolve(struct neigh *n, uint32_t addr)
{
	struct {
		struct nlmsghdr h;
		struct ndmsg ndm;
		struct rtattr a;
		uint32_t dst;
	} req = {
		.h = {
			.nlmsg_len = sizeof(req),
			.nlmsg_type = RTM_NEWNEIGH,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_ACK,
		},
		.ndm = {
			.ndm_family = AF_INET,
			.ndm_ifindex = (int)n->ifindex,
			.ndm_flags = NTF_USE,
		},
		.a = { .rta_len = RTA_LENGTH(sizeof(uint32_t)), .rta_type = NDA_DST },
		.dst = addr,
	};
	int err = send_req(n, &req.h);

	return err ? err : receive(n, n->seq, NULL, NULL);
}

static const struct neigh_entry *find(const struct neigh *n, uint32_t addr)
{
	return n->n_tab ? bsearch(&addr, n->tab, n->n_tab, sizeof(*n->tab), addr_cmp) : NULL;
}

static bool usable(const struct neigh_entry *e)
{
	static const uint8_t zero[6];

	return e && (e->state & NUD_USABLE) && memcmp(e->mac, zero, sizeof(zero));
}

bool neigh_mac(const struct neigh *n, uint32_t addr, uint8_t mac[6])
{
	const struct neigh_entry *e = find(n, addr);

	if (!usable(e))
		return false;
	memcpy(mac, e->mac, sizeof(e->mac));
	return true;
}

int neigh_refresh(struct neigh *n, const uint32_t *addrs, size_t count)
{
	uint32_t *asked = count ? calloc(count, sizeof(*asked)) : NULL;
	size_t n_asked = 0, refused = 0;
	int err = read_table(n), first = 0, started = 0;

	if (err || (count && !asked)) {
		free(asked);
		return err ? err : -ENOMEM;
	}
	for (size_t i = 0; i < count; i++) {
		const struct neigh_entry *e = find(n, addrs[i]);
		bool ok = usable(e), again = n->n_asked &&
			bsearch(&addrs[i], n->asked, n->n_asked, sizeof(*n->asked), addr_cmp);

		if (!ok && again)
			n->failures++;
		else if (!ok)
			started++;
		/* resolved and fresh, being confirmed, or the admin's */
		if (ok && !(e->state & NUD_STALE))
			continue;
		err = resolve(n, addrs[i]);
		if (err && !refused++)
			first = err;
		asked[n_asked++] = addrs[i];
	}
	if (refused)
		log_warn("neighbour resolution refused for %zu host(s), the first: %s",
			 refused, strerror(-first));
	if (n_asked)
		qsort(asked, n_asked, sizeof(*asked), addr_cmp);
	free(n->asked);
	n->asked = asked;
	n->n_asked = n_asked;
	return started;
}

uint64_t neigh_failures(const struct neigh *n)
{
	return n->failures;
}
