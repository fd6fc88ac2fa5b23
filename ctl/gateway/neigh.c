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
#include <sys/socket.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include "lib/log.h"
#include "lib/nl.h"
#include "gateway/neigh.h"

#define DUMP_TRIES	3	/* dumps the kernel may interrupt in a row */

/* States with a MAC worth forwarding to; stale and the probing ones too:
 * the kernel itself keeps sending to them while it confirms them. */
#define NUD_USABLE	(NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT)

struct neigh_entry {
	uint32_t addr;		/* be */
	uint16_t state;		/* NUD_* */
	uint8_t mac[6];		/* zero when the kernel reported none */
};

struct neigh {
	struct nl *nl;
	unsigned int ifindex;
	struct neigh_entry *tab;	/* the last table read, sorted by addr */
	size_t n_tab;
	uint32_t *asked;		/* resolutions asked for, sorted */
	size_t n_asked;
	uint64_t failures;
};

/* For addresses and for entries alike: an entry begins with its address. */
static int addr_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

int neigh_open(unsigned int ifindex, struct neigh **out)
{
	struct neigh *n = calloc(1, sizeof(*n));
	int err;

	if (!n)
		return -ENOMEM;
	n->ifindex = ifindex;
	/* strict: the kernel then filters the dump by NDA_IFINDEX (we check again) */
	err = nl_open(NETLINK_ROUTE, NL_STRICT_CHK, &n->nl);
	if (err) {
		free(n);
		return err;
	}
	*out = n;
	return 0;
}

void neigh_close(struct neigh *n)
{
	if (!n)
		return;
	nl_close(n->nl);
	free(n->tab);
	free(n->asked);
	free(n);
}

struct parsed {
	struct neigh_entry *e;
	bool dst;
};

static int parse_attr(const struct nlattr *a, void *data)
{
	struct parsed *p = data;
	uint16_t len = mnl_attr_get_payload_len(a);

	if (mnl_attr_get_type(a) == NDA_DST && len == sizeof(p->e->addr)) {
		memcpy(&p->e->addr, mnl_attr_get_payload(a), sizeof(p->e->addr));
		p->dst = true;
	} else if (mnl_attr_get_type(a) == NDA_LLADDR && len == sizeof(p->e->mac)) {
		memcpy(p->e->mac, mnl_attr_get_payload(a), sizeof(p->e->mac));
	}
	return MNL_CB_OK;
}

/* One RTM_NEWNEIGH of the dump into *e; false when it is not ours. */
static bool parse_entry(const struct neigh *n, const struct nlmsghdr *h,
			struct neigh_entry *e)
{
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(h);
	struct parsed p = { .e = e };

	if (h->nlmsg_type != RTM_NEWNEIGH || mnl_nlmsg_get_payload_len(h) < sizeof(*ndm) ||
	    ndm->ndm_family != AF_INET || (unsigned int)ndm->ndm_ifindex != n->ifindex)
		return false;
	memset(e, 0, sizeof(*e));
	e->state = ndm->ndm_state;
	return mnl_attr_parse(h, sizeof(*ndm), parse_attr, &p) == MNL_CB_OK && p.dst;
}

/* The table being read: the dump's entries, grown as needed. */
struct reading {
	const struct neigh *n;
	struct neigh_entry *tab;
	size_t count, cap;
};

static int add_entry(const struct nlmsghdr *h, void *data)
{
	struct reading *r = data;
	struct neigh_entry e, *grown;

	if (!parse_entry(r->n, h, &e))
		return 0;
	if (r->count == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		grown = realloc(r->tab, r->cap * sizeof(*r->tab));
		if (!grown)
			return -ENOMEM;
		r->tab = grown;
	}
	r->tab[r->count++] = e;
	return 0;
}

static int dump_table(struct neigh *n, struct reading *r)
{
	struct nl_msgbuf m;
	struct nlmsghdr *h = nl_msg(&m, RTM_GETNEIGH, 0);
	struct ndmsg *ndm = mnl_nlmsg_put_extra_header(h, sizeof(*ndm));

	ndm->ndm_family = AF_INET;
	mnl_attr_put_u32(h, NDA_IFINDEX, n->ifindex);
	r->count = 0;
	return nl_dump(n->nl, h, add_entry, r);
}

/* The NIC's IPv4 neighbour table, sorted by address, into n->tab. */
static int read_table(struct neigh *n)
{
	struct reading r = { .n = n };
	int err, tries = 0;

	/* interrupted: the table changed while it was read, read it again */
	do
		err = dump_table(n, &r);
	while (err == -EINTR && ++tries < DUMP_TRIES);
	if (err) {
		free(r.tab);
		return err;
	}
	if (r.count)
		qsort(r.tab, r.count, sizeof(*r.tab), addr_cmp);
	free(n->tab);
	n->tab = r.tab;
	n->n_tab = r.count;
	return 0;
}

/* Ask the kernel to resolve addr, as if a packet waited for it. */
static int resolve(struct neigh *n, uint32_t addr)
{
	struct nl_msgbuf m;
	struct nlmsghdr *h = nl_msg(&m, RTM_NEWNEIGH, NLM_F_CREATE);
	struct ndmsg *ndm = mnl_nlmsg_put_extra_header(h, sizeof(*ndm));

	ndm->ndm_family = AF_INET;
	ndm->ndm_ifindex = (int)n->ifindex;
	ndm->ndm_flags = NTF_USE;
	mnl_attr_put(h, NDA_DST, sizeof(addr), &addr);
	return nl_request(n->nl, h);
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
