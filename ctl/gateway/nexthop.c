/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The routes' next hops (nexthop.h). Two rtnetlink sockets: requests and
 * dumps over nl.h, and a non-blocking one subscribed to the route, link
 * and neighbour groups. Any route or link change, an overrun of the
 * notification socket, or a wanted entry deleted makes the next drain
 * sync everything again: the tables are small, a full reading is simpler
 * than following each change, and it cannot miss one.
 *
 * Managed entries are asked for with NTF_USE | NTF_EXT_MANAGED: a kernel
 * that knows the flag keeps the entry's state (no flap of a resolved one)
 * and resolves it from then on; one that does not ignores the attribute
 * (liberal parsing) and still resolves it once. The kernel probe (kfeat.h)
 * says which kernel this is; when it could not, the entry read back tells.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include "lib/kfeat.h"
#include "lib/log.h"
#include "lib/nl.h"
#include "gateway/nexthop.h"

#define REFRESH_S	5	/* periodic sync: NTF_USE refresh, a missed change */
#define PENDING_MAX	256	/* on-demand requests followed at once */
#define PENDING_RETRY_S	1	/* an address asked for again no sooner */
#define PENDING_FAIL_S	10	/* unresolved this long: counted as failed */
#define DUMP_TRIES	3

/* States with a MAC the FIB uses (NUD_VALID, less NOARP's fake ones). */
#define NUD_USABLE	(NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT)

enum mode { MODE_UNKNOWN, MODE_MANAGED, MODE_USE };

struct pending {
	struct nh_addr a;
	time_t asked;		/* monotonic s */
};

struct nexthop {
	struct nl *nl;
	struct mnl_socket *ev;
	unsigned int ifindex[NEXTHOP_NICS];
	char names[NEXTHOP_NICS][16];
	enum mode mode;
	bool dirty;			/* sync at the end of this drain or tick */
	unsigned int ticks;
	struct nh_addr *want;		/* the routes' gateways, last sync */
	size_t n_want;
	struct pending pending[PENDING_MAX];
	size_t n_pending;
	struct nexthop_stats st;
	char buf[32768];
};

static time_t now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static bool addr_eq(const struct nh_addr *x, const struct nh_addr *y)
{
	return x->addr == y->addr && x->ifindex == y->ifindex;
}

static bool ours_if(const unsigned int ifindex[NEXTHOP_NICS], uint32_t i)
{
	return i && (i == ifindex[0] || i == ifindex[1]);
}

/* ---- the plan ------------------------------------------------------------ */

static const struct nh_neigh *find_entry(const struct nh_neigh *tab, size_t n,
					 const struct nh_addr *a)
{
	for (size_t i = 0; i < n; i++)
		if (addr_eq(&tab[i].a, a))
			return &tab[i];
	return NULL;
}

static bool in_list(const struct nh_addr *list, size_t n, const struct nh_addr *a)
{
	for (size_t i = 0; i < n; i++)
		if (addr_eq(&list[i], a))
			return true;
	return false;
}

static bool usable(const struct nh_neigh *e)
{
	return e && (e->state & NUD_USABLE) && !(e->state & NUD_STALE);
}

size_t nexthop_plan(const struct nh_addr *want, size_t n_want, const struct nh_neigh *tab,
		    size_t n_tab, bool managed, struct nh_step *steps)
{
	size_t n = 0;

	for (size_t i = 0; i < n_want; i++) {
		const struct nh_neigh *e = find_entry(tab, n_tab, &want[i]);

		if (in_list(want, i, &want[i]) || (e && (e->state & NUD_PERMANENT)))
			continue;
		if (managed && !(e && e->managed))
			steps[n++] = (struct nh_step){ want[i], NH_ADD_MANAGED };
		else if (!managed && !usable(e))
			steps[n++] = (struct nh_step){ want[i], NH_USE };
	}
	for (size_t i = 0; i < n_tab; i++)
		if (tab[i].ours && tab[i].managed && !in_list(want, n_want, &tab[i].a))
			steps[n++] = (struct nh_step){ tab[i].a, NH_DELETE };
	return n;
}

/* ---- growing arrays ------------------------------------------------------ */

struct vec {
	void *v;
	size_t n, cap, size;
};

static void *vec_push(struct vec *x)
{
	void *grown;

	if (x->n == x->cap) {
		x->cap = x->cap ? x->cap * 2 : 16;
		grown = realloc(x->v, x->cap * x->size);
		if (!grown)
			return NULL;
		x->v = grown;
	}
	return (char *)x->v + x->size * x->n++;
}

/* ---- reading the routes -------------------------------------------------- */

struct route_reading {
	const unsigned int *ifindex;
	struct vec want;	/* struct nh_addr */
	int err;
};

struct route_attrs {
	uint32_t gw, oif;
	bool has_gw;
	const struct nlattr *multipath;
};

static int route_attr(const struct nlattr *a, void *data)
{
	struct route_attrs *r = data;

	switch (mnl_attr_get_type(a)) {
	case RTA_GATEWAY:
		if (mnl_attr_get_payload_len(a) == sizeof(r->gw)) {
			memcpy(&r->gw, mnl_attr_get_payload(a), sizeof(r->gw));
			r->has_gw = true;
		}
		break;
	case RTA_OIF:
		if (mnl_attr_get_payload_len(a) == sizeof(uint32_t))
			r->oif = mnl_attr_get_u32(a);
		break;
	case RTA_MULTIPATH:
		r->multipath = a;
		break;
	}
	return MNL_CB_OK;
}

static void want_add(struct route_reading *rr, uint32_t gw, uint32_t oif)
{
	struct nh_addr *a;

	if (!ours_if(rr->ifindex, oif) || !gw)
		return;
	a = vec_push(&rr->want);
	if (!a)
		rr->err = -ENOMEM;
	else
		*a = (struct nh_addr){ gw, oif };
}

static void add_multipath(struct route_reading *rr, const struct nlattr *mp)
{
	const struct rtnexthop *nh = mnl_attr_get_payload(mp);
	int len = (int)mnl_attr_get_payload_len(mp);

	while (len >= (int)sizeof(*nh) && nh->rtnh_len >= sizeof(*nh) && nh->rtnh_len <= len) {
		struct route_attrs r = { 0 };

		mnl_attr_parse_payload(RTNH_DATA(nh), nh->rtnh_len - sizeof(*nh), route_attr, &r);
		if (r.has_gw)
			want_add(rr, r.gw, (uint32_t)nh->rtnh_ifindex);
		len -= RTNH_ALIGN(nh->rtnh_len);
		nh = RTNH_NEXT(nh);
	}
}

static int on_route(const struct nlmsghdr *h, void *data)
{
	struct route_reading *rr = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(h);
	struct route_attrs r = { 0 };

	if (h->nlmsg_type != RTM_NEWROUTE || mnl_nlmsg_get_payload_len(h) < sizeof(*rtm) ||
	    rtm->rtm_family != AF_INET || rtm->rtm_type != RTN_UNICAST ||
	    (rtm->rtm_flags & RTM_F_CLONED))
		return 0;
	if (mnl_attr_parse(h, sizeof(*rtm), route_attr, &r) != MNL_CB_OK)
		return 0;
	if (r.has_gw)
		want_add(rr, r.gw, r.oif);
	if (r.multipath)
		add_multipath(rr, r.multipath);
	return rr->err;
}

/*
 * An AF_INET dump of type (its family header: hdr bytes, the family first,
 * as in rtmsg and ndmsg) into cb, again when the kernel interrupts it: v,
 * which cb fills, is emptied before each try and freed on failure.
 */
static int dump_inet(struct nl *nl, uint16_t type, size_t hdr, nl_cb cb, void *data,
		     struct vec *v)
{
	int err, tries = 0;

	do {
		struct nl_msgbuf m;
		struct nlmsghdr *h = nl_msg(&m, type, 0);
		uint8_t *family = mnl_nlmsg_put_extra_header(h, hdr);

		*family = AF_INET;
		v->n = 0;
		err = nl_dump(nl, h, cb, data);
	} while (err == -EINTR && ++tries < DUMP_TRIES);
	if (err) {
		free(v->v);
		v->v = NULL;
	}
	return err;
}

static int read_routes(struct nexthop *nh, struct vec *want)
{
	struct route_reading rr = { .ifindex = nh->ifindex,
				    .want = { .size = sizeof(struct nh_addr) } };
	int err = dump_inet(nh->nl, RTM_GETROUTE, sizeof(struct rtmsg), on_route, &rr, &rr.want);

	if (!err)
		*want = rr.want;
	return err;
}

/* ---- reading the neighbours ---------------------------------------------- */

struct neigh_attrs {
	struct nh_neigh *e;
	bool dst;
};

static int neigh_attr(const struct nlattr *a, void *data)
{
	struct neigh_attrs *p = data;

	switch (mnl_attr_get_type(a)) {
	case NDA_DST:
		if (mnl_attr_get_payload_len(a) == sizeof(p->e->a.addr)) {
			memcpy(&p->e->a.addr, mnl_attr_get_payload(a), sizeof(p->e->a.addr));
			p->dst = true;
		}
		break;
	case NDA_FLAGS_EXT:
		if (mnl_attr_get_payload_len(a) == sizeof(uint32_t))
			p->e->managed = mnl_attr_get_u32(a) & NTF_EXT_MANAGED;
		break;
	case NDA_PROTOCOL:
		if (mnl_attr_get_payload_len(a) == sizeof(uint8_t))
			p->e->ours = mnl_attr_get_u8(a) == NEXTHOP_PROTO;
		break;
	}
	return MNL_CB_OK;
}

/* An RTM_NEWNEIGH / RTM_DELNEIGH on one of the NICs into *e. */
static bool parse_neigh(const unsigned int ifindex[NEXTHOP_NICS], const struct nlmsghdr *h,
			struct nh_neigh *e)
{
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(h);
	struct neigh_attrs p = { .e = e };

	if ((h->nlmsg_type != RTM_NEWNEIGH && h->nlmsg_type != RTM_DELNEIGH) ||
	    mnl_nlmsg_get_payload_len(h) < sizeof(*ndm) || ndm->ndm_family != AF_INET ||
	    !ours_if(ifindex, (uint32_t)ndm->ndm_ifindex))
		return false;
	memset(e, 0, sizeof(*e));
	e->a.ifindex = (uint32_t)ndm->ndm_ifindex;
	e->state = ndm->ndm_state;
	return mnl_attr_parse(h, sizeof(*ndm), neigh_attr, &p) == MNL_CB_OK && p.dst;
}

struct neigh_reading {
	const unsigned int *ifindex;
	struct vec tab;		/* struct nh_neigh */
};

static int on_neigh(const struct nlmsghdr *h, void *data)
{
	struct neigh_reading *r = data;
	struct nh_neigh e, *slot;

	if (!parse_neigh(r->ifindex, h, &e))
		return 0;
	slot = vec_push(&r->tab);
	if (!slot)
		return -ENOMEM;
	*slot = e;
	return 0;
}

static int read_neighbours(struct nl *nl, const unsigned int ifindex[NEXTHOP_NICS],
			   struct vec *tab)
{
	struct neigh_reading r = { .ifindex = ifindex, .tab = { .size = sizeof(struct nh_neigh) } };
	int err = dump_inet(nl, RTM_GETNEIGH, sizeof(struct ndmsg), on_neigh, &r, &r.tab);

	if (!err)
		*tab = r.tab;
	return err;
}

/* ---- changing them ------------------------------------------------------- */

/* NTF_USE (the kernel resolves as for a waiting packet), managed or not. */
static int neigh_use(struct nl *nl, const struct nh_addr *a, bool managed)
{
	struct nl_msgbuf m;
	struct nlmsghdr *h = nl_msg(&m, RTM_NEWNEIGH, NLM_F_CREATE);
	struct ndmsg *ndm = mnl_nlmsg_put_extra_header(h, sizeof(*ndm));

	ndm->ndm_family = AF_INET;
	ndm->ndm_ifindex = (int)a->ifindex;
	ndm->ndm_flags = NTF_USE;
	mnl_attr_put(h, NDA_DST, sizeof(a->addr), &a->addr);
	if (managed) {
		mnl_attr_put_u32(h, NDA_FLAGS_EXT, NTF_EXT_MANAGED);
		mnl_attr_put_u8(h, NDA_PROTOCOL, NEXTHOP_PROTO);
	}
	return nl_request(nl, h);
}

static int neigh_delete(struct nl *nl, const struct nh_addr *a)
{
	struct nl_msgbuf m;
	struct nlmsghdr *h = nl_msg(&m, RTM_DELNEIGH, 0);
	struct ndmsg *ndm = mnl_nlmsg_put_extra_header(h, sizeof(*ndm));
	int err;

	ndm->ndm_family = AF_INET;
	ndm->ndm_ifindex = (int)a->ifindex;
	mnl_attr_put(h, NDA_DST, sizeof(a->addr), &a->addr);
	err = nl_request(nl, h);
	return err == -ENOENT ? 0 : err;
}

static const char *ifname(const struct nexthop *nh, uint32_t ifindex)
{
	return ifindex == nh->ifindex[0] ? nh->names[0] : nh->names[1];
}

/* The first managed entry added on a kernel not known yet: read it back. */
static void learn_mode(struct nexthop *nh, const struct nh_addr *added, int err)
{
	struct vec tab = { 0 };
	const struct nh_neigh *e;
	char a[INET_ADDRSTRLEN];

	if (!err && read_neighbours(nh->nl, nh->ifindex, &tab))
		return;		/* try again at the next sync */
	e = err ? NULL : find_entry(tab.v, tab.n, added);
	nh->mode = e && e->managed ? MODE_MANAGED : MODE_USE;
	inet_ntop(AF_INET, &added->addr, a, sizeof(a));
	if (nh->mode == MODE_MANAGED)
		log_info("next hops: managed neighbour entries (the kernel keeps them resolved)");
	else
		log_info("next hops: this kernel keeps no managed neighbour entries (%s on %s: %s); "
			 "refreshing them every %d s instead", a, ifname(nh, added->ifindex),
			 err ? strerror(-err) : "flag ignored", REFRESH_S);
	free(tab.v);
}

static void run_steps(struct nexthop *nh, const struct nh_step *steps, size_t n)
{
	size_t refused = 0;
	int first = 0;

	for (size_t i = 0; i < n; i++) {
		const struct nh_step *s = &steps[i];
		char a[INET_ADDRSTRLEN];
		int err;

		inet_ntop(AF_INET, &s->a.addr, a, sizeof(a));
		if (s->act == NH_DELETE) {
			err = neigh_delete(nh->nl, &s->a);
			if (!err)
				log_info("next hop %s on %s: no route uses it, managed entry removed",
					 a, ifname(nh, s->a.ifindex));
		} else {
			err = neigh_use(nh->nl, &s->a, s->act == NH_ADD_MANAGED);
			if (s->act == NH_ADD_MANAGED && nh->mode == MODE_UNKNOWN)
				learn_mode(nh, &s->a, err);
			else if (!err && s->act == NH_ADD_MANAGED)
				log_info("next hop %s on %s: managed neighbour entry", a,
					 ifname(nh, s->a.ifindex));
		}
		if (err && !refused++)
			first = err;
	}
	if (refused)
		log_warn("next hops: %zu neighbour change(s) refused, the first: %s", refused,
			 strerror(-first));
}

int nexthop_sync(struct nexthop *nh)
{
	struct vec want = { 0 }, tab = { 0 };
	struct nh_step *steps;
	size_t n;
	int err;

	nh->dirty = false;
	nh->ticks = 0;
	err = read_routes(nh, &want);
	if (!err)
		err = read_neighbours(nh->nl, nh->ifindex, &tab);
	steps = err ? NULL : calloc(want.n + tab.n + 1, sizeof(*steps));
	if (!err && !steps)
		err = -ENOMEM;
	if (err) {
		log_err("next hops: reading the routes and neighbours: %s", strerror(-err));
		free(want.v);
		free(tab.v);
		return err;
	}
	/* not known yet: managed, which a kernel without them takes as NTF_USE */
	n = nexthop_plan(want.v, want.n, tab.v, tab.n, nh->mode != MODE_USE, steps);
	run_steps(nh, steps, n);
	free(nh->want);
	nh->want = want.v;
	nh->n_want = want.n;
	nh->st.gateways = want.n;
	free(tab.v);
	free(steps);
	return 0;
}

/* ---- on demand --------------------------------------------------------------- */

void nexthop_request(struct nexthop *nh, uint32_t addr, unsigned int ifindex)
{
	struct nh_addr a = { addr, ifindex };
	time_t now = now_s();
	struct pending *p = NULL;
	char s[INET_ADDRSTRLEN];
	int err;

	if (!ours_if(nh->ifindex, ifindex))
		return;
	nh->st.events++;
	for (size_t i = 0; i < nh->n_pending; i++)
		if (addr_eq(&nh->pending[i].a, &a))
			p = &nh->pending[i];
	if (p && now - p->asked < PENDING_RETRY_S)
		return;
	/* a route's gateway keeps its managed flag (a plain NTF_USE clears it) */
	err = neigh_use(nh->nl, &a, nh->mode != MODE_USE && in_list(nh->want, nh->n_want, &a));
	if (err) {
		inet_ntop(AF_INET, &addr, s, sizeof(s));
		log_warn("next hop %s on %s: resolution refused: %s", s, ifname(nh, ifindex),
			 strerror(-err));
		return;
	}
	if (!p && nh->n_pending < PENDING_MAX) {
		p = &nh->pending[nh->n_pending++];
		p->a = a;
	}
	if (p)
		p->asked = now;
}

static void drop_pending(struct nexthop *nh, size_t i)
{
	nh->pending[i] = nh->pending[--nh->n_pending];
}

/* ---- notifications ----------------------------------------------------------- */

static void on_neigh_change(struct nexthop *nh, const struct nlmsghdr *h)
{
	struct nh_neigh e;
	bool wanted;

	if (!parse_neigh(nh->ifindex, h, &e))
		return;
	if (h->nlmsg_type == RTM_NEWNEIGH && (e.state & NUD_USABLE)) {
		for (size_t i = 0; i < nh->n_pending; i++) {
			if (addr_eq(&nh->pending[i].a, &e.a)) {
				nh->st.resolved++;
				drop_pending(nh, i);
				break;
			}
		}
	}
	wanted = in_list(nh->want, nh->n_want, &e.a);
	/* a route's next hop deleted (a flush, say), or no longer managed */
	if (wanted && (h->nlmsg_type == RTM_DELNEIGH ||
		       (nh->mode == MODE_MANAGED && !e.managed && !(e.state & NUD_PERMANENT))))
		nh->dirty = true;
}

static int on_notify(const struct nlmsghdr *h, void *data)
{
	struct nexthop *nh = data;
	const struct ifinfomsg *ifi;

	switch (h->nlmsg_type) {
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		nh->dirty = true;
		break;
	case RTM_NEWLINK:
	case RTM_DELLINK:
		ifi = mnl_nlmsg_get_payload(h);
		if (mnl_nlmsg_get_payload_len(h) >= sizeof(*ifi) &&
		    ours_if(nh->ifindex, (uint32_t)ifi->ifi_index))
			nh->dirty = true;
		break;
	case RTM_NEWNEIGH:
	case RTM_DELNEIGH:
		on_neigh_change(nh, h);
		break;
	}
	return MNL_CB_OK;
}

void nexthop_on_notify(struct nexthop *nh)
{
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nh->ev, nh->buf, sizeof(nh->buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOBUFS) {
			nh->dirty = true;	/* notifications lost: read it all again */
			continue;
		}
		if (n <= 0)
			break;
		mnl_cb_run(nh->buf, (size_t)n, 0, 0, on_notify, nh);
	}
	if (nh->dirty)
		nexthop_sync(nh);
}

void nexthop_tick(struct nexthop *nh)
{
	time_t now = now_s();

	for (size_t i = 0; i < nh->n_pending;) {
		if (now - nh->pending[i].asked >= PENDING_FAIL_S) {
			nh->st.failed++;
			drop_pending(nh, i);
		} else {
			i++;
		}
	}
	if (nh->dirty || ++nh->ticks >= REFRESH_S)
		nexthop_sync(nh);
}

/* ---- life ---------------------------------------------------------------------- */

static int open_notify(struct mnl_socket **out)
{
	static const int groups[] = { RTNLGRP_IPV4_ROUTE, RTNLGRP_LINK, RTNLGRP_NEIGH };
	struct mnl_socket *s = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
	int rcvbuf = 1 << 20, err;

	if (!s)
		return -errno;
	if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID))
		goto fail;
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		int g = groups[i];

		if (mnl_socket_setsockopt(s, NETLINK_ADD_MEMBERSHIP, &g, sizeof(g)))
			goto fail;
	}
	/* a burst of changes must not overrun it (it would, we resync) */
	setsockopt(mnl_socket_get_fd(s), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	*out = s;
	return 0;
fail:
	err = -errno;
	mnl_socket_close(s);
	return err;
}

void nexthop_set_managed(struct nexthop *nh, int kfeat_state)
{
	/* absent: the probe's report said which way already */
	if (kfeat_state == KFEAT_PRESENT) {
		nh->mode = MODE_MANAGED;
		log_info("next hops: managed neighbour entries (the kernel keeps them resolved)");
	} else if (kfeat_state == KFEAT_ABSENT) {
		nh->mode = MODE_USE;
	}
}

int nexthop_open(const unsigned int ifindex[NEXTHOP_NICS],
		 const char *const names[NEXTHOP_NICS], struct nexthop **out)
{
	struct nexthop *nh = calloc(1, sizeof(*nh));
	int err;

	if (!nh)
		return -ENOMEM;
	for (int i = 0; i < NEXTHOP_NICS; i++) {
		nh->ifindex[i] = ifindex[i];
		snprintf(nh->names[i], sizeof(nh->names[i]), "%s", names[i]);
	}
	err = nl_open(NETLINK_ROUTE, 0, &nh->nl);
	if (!err)
		err = open_notify(&nh->ev);
	if (err) {
		nexthop_close(nh);
		return err;
	}
	*out = nh;
	return 0;
}

void nexthop_close(struct nexthop *nh)
{
	if (!nh)
		return;
	if (nh->ev)
		mnl_socket_close(nh->ev);
	nl_close(nh->nl);
	free(nh->want);
	free(nh);
}

int nexthop_fd(const struct nexthop *nh)
{
	return mnl_socket_get_fd(nh->ev);
}

void nexthop_get_stats(const struct nexthop *nh, struct nexthop_stats *out)
{
	*out = nh->st;
}

int nexthop_remove_ours(const unsigned int ifindex[NEXTHOP_NICS])
{
	struct vec tab = { 0 };
	struct nl *nl = NULL;
	int err, removed = 0;

	err = nl_open(NETLINK_ROUTE, 0, &nl);
	if (!err)
		err = read_neighbours(nl, ifindex, &tab);
	for (size_t i = 0; !err && i < tab.n; i++) {
		const struct nh_neigh *e = (const struct nh_neigh *)tab.v + i;

		if (!e->ours || !e->managed)
			continue;
		err = neigh_delete(nl, &e->a);
		removed += !err;
	}
	free(tab.v);
	if (nl)
		nl_close(nl);
	return err ? err : removed;
}
