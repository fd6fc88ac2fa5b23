/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The BPF side of xdnatd. gw_ext and gw_int both define the maps of
 * bpf/maps.h with LIBBPF_PIN_BY_NAME; opened with pin_root_path = --bpffs,
 * the first load creates and pins them and every later load (the second
 * object, a restarted or upgraded daemon) reuses the pinned ones, so their
 * contents and counters live on. Programs are attached over netlink, not
 * with a bpf_link, so they stay attached when the daemon exits: forwarding
 * never waits for the control plane.
 *
 * Keeping the share maps in step with the host table is mapsync.c's job:
 * this file only hands it the loaded maps' descriptors, and the hosts' MACs
 * that neigh.c reads from the kernel (refreshed by dataplane_tick()).
 * The routes' next hops are nexthop.c's: this file feeds it the programs'
 * xdnat_nh_events and polls both behind one epoll descriptor.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <net/if.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "gateway/bpffs.h"
#include "gateway/config.h"
#include "gateway/dataplane.h"
#include "lib/ethtool.h"
#include "lib/kfeat.h"
#include "lib/log.h"
#include "gateway/mapsync.h"
#include "gateway/neigh.h"
#include "gateway/nexthop.h"
#include "gateway/pinned.h"
#include "gateway/veth_check.h"
#include "gw_ext.skel.h"
#include "gw_int.skel.h"

/* What is attached to one NIC: at most one program of ours, nothing foreign. */
struct xdp_slot {
	uint32_t id;
	uint32_t mode;		/* XDP_FLAGS_*_MODE */
};

/* Seconds between two reads of the hosts' MACs and the internal NIC. */
#define NEIGH_REFRESH_TICKS	5

struct dataplane {
	struct gw_ext *ext;
	struct gw_int *in;
	struct mapsync sync;		/* the share maps and xdnat_tx */
	struct neigh *neigh;		/* the hosts' MACs on the internal NIC */
	struct nexthop *nh;		/* the routes' next hops, on demand ones */
	struct ring_buffer *nh_events;	/* xdnat_nh_events */
	int ep;				/* both of them, for xdnatd's loop */
	struct xdnat_cfg cfg;		/* as last written to xdnat_cfg */
	char ext_if[IF_NAMESIZE], int_if[IF_NAMESIZE];
	/* --internal-nets, which xdnat_cfg's int_nets hold before the NIC's */
	uint32_t conf_net[XDNAT_MAX_INT_NETS], conf_mask[XDNAT_MAX_INT_NETS];
	unsigned int n_conf_nets;
	bool nets_warned;		/* more subnets than xdnat_cfg holds, said */
	bool mtu_warned;		/* the internal MTU warning, said for these MTUs */
	unsigned int ticks;		/* since the last refresh */
	bool resolving;			/* resolutions just started: read soon */
	bool mac_missing;		/* a host change wrote a host without MAC */
	int cfg_fd, stats_fd;
	bool frags;			/* the xdp.frags programs, not the plain twins */
	unsigned int ifindex[2];	/* ext, int */
	struct xdp_slot attached[2];	/* before we attach */
};

static const char *const prog_names[2] = { "gw_ext", "gw_int" };
/* The same programs as SEC("xdp"), for kernels without xdp.frags. */
static const char *const plain_names[2] = { "gw_ext_plain", "gw_int_plain" };

/* ---- the map sync (mapsync.c) ------------------------------------------ */

struct gw_hooks dataplane_hooks(struct dataplane *dp)
{
	return mapsync_hooks(&dp->sync);
}

/* mapsync's MAC source: the table neigh.c read last. */
static bool host_mac(void *ctx, uint32_t addr, uint8_t mac[6])
{
	struct dataplane *dp = ctx;

	if (neigh_mac(dp->neigh, addr, mac))
		return true;
	/* a new host, likely: read the table again at the next tick */
	dp->mac_missing = true;
	return false;
}

/*
 * Read the MACs of all g's hosts and start resolving the missing ones; the
 * next refresh comes at the next tick when some were asked for the first
 * time (ARP takes milliseconds), else after NEIGH_REFRESH_TICKS.
 */
static void refresh_neigh(struct dataplane *dp, const struct gw *g)
{
	size_t n = gw_host_count(g);
	uint32_t *addrs = calloc(n ? n : 1, sizeof(*addrs));
	int rc;

	dp->ticks = 0;
	dp->resolving = false;
	if (!addrs) {
		log_err("neighbour refresh: out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++)
		addrs[i] = gw_host_at(g, i)->addr;
	rc = neigh_refresh(dp->neigh, addrs, n);
	if (rc < 0)
		log_err("%s: reading the neighbour table: %s", dp->int_if, strerror(-rc));
	free(addrs);
	dp->resolving = rc > 0;
}

int dataplane_reconcile(struct dataplane *dp, const struct gw *g)
{
	int err;

	refresh_neigh(dp, g);
	err = mapsync_reconcile(&dp->sync, g);
	/* the hosts it wrote without a MAC are being resolved already */
	dp->mac_missing = false;
	return err;
}

int dataplane_read_stats(struct dataplane *dp, struct dataplane_stats *out)
{
	struct nexthop_stats nst;
	int err;

	memset(out, 0, sizeof(*out));
	err = pinned_read_stats(dp->stats_fd, out->reason);
	out->sync_errors = mapsync_errors(&dp->sync);
	out->neigh_failures = neigh_failures(dp->neigh);
	nexthop_get_stats(dp->nh, &nst);
	out->nexthop_events = nst.events;
	out->nexthop_resolved = nst.resolved;
	out->nexthop_failed = nst.failed;
	return err;
}

/* ---- loading ---------------------------------------------------------------- */

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char buf[2048];
	size_t n;

	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = 0;
	/* libbpf's messages name themselves ("libbpf: ...") */
	if (level == LIBBPF_WARN)
		log_warn("%s", buf);
	else
		log_debug("%s", buf);
	return 0;
}

int dataplane_kernel_probe(const struct xdnatd_config *cfg, struct kfeat_set *k)
{
	size_t size;
	const void *elf;

	kfeat_init(k, "xdnatd");
	k->bpffs = cfg->bpffs;
	elf = gw_ext__elf_bytes(&size);
	kfeat_need_object(k, prog_names[0], elf, size);
	elf = gw_int__elf_bytes(&size);
	kfeat_need_object(k, prog_names[1], elf, size);
	kfeat_need(k, KFEAT_BPFFS, 0, 0, false, "the pinned maps");
	kfeat_need(k, KFEAT_XDP_FRAGS, 0, 0, true, "gw_ext, gw_int");
	kfeat_need(k, KFEAT_NEIGH_MANAGED, 0, 0, true, "the next hops");
	return kfeat_probe(k);
}

/* Load either the xdp.frags programs or their plain twins, never both
 * (the probe said which, logged once). */
static int choose_programs(struct dataplane *dp, bool frags)
{
	int err;

	dp->frags = frags;
	err = bpf_program__set_autoload(dp->ext->progs.gw_ext, dp->frags);
	if (!err)
		err = bpf_program__set_autoload(dp->ext->progs.gw_ext_plain, !dp->frags);
	if (!err)
		err = bpf_program__set_autoload(dp->in->progs.gw_int, dp->frags);
	if (!err)
		err = bpf_program__set_autoload(dp->in->progs.gw_int_plain, !dp->frags);
	if (err)
		log_err("choosing the XDP programs: %s", strerror(-err));
	return err;
}

/* Both objects, opened (not loaded) with their pins under dir. */
static int open_skels(struct dataplane *dp, const char *dir, bool frags)
{
	LIBBPF_OPTS(bpf_object_open_opts, o, .pin_root_path = dir);
	int err;

	libbpf_set_print(libbpf_log);
	dp->ext = gw_ext__open_opts(&o);
	if (!dp->ext) {
		err = -errno;
		log_err("opening the gw_ext BPF object: %s", strerror(errno));
		return err;
	}
	dp->in = gw_int__open_opts(&o);
	if (!dp->in) {
		err = -errno;
		log_err("opening the gw_int BPF object: %s", strerror(errno));
		return err;
	}
	return choose_programs(dp, frags);
}

static void close_skels(struct dataplane *dp)
{
	gw_int__destroy(dp->in);
	gw_ext__destroy(dp->ext);
	dp->in = NULL;
	dp->ext = NULL;
}

static struct bpf_object *skel_obj(const struct dataplane *dp, int i)
{
	return i ? dp->in->obj : dp->ext->obj;
}

static bool pin_fits(const struct bpf_map *map, struct bpf_map_info *info)
{
	uint32_t flags = bpf_map__map_flags(map);

	if (info->type == BPF_MAP_TYPE_DEVMAP || info->type == BPF_MAP_TYPE_DEVMAP_HASH) {
		info->map_flags &= ~BPF_F_RDONLY_PROG;	/* the kernel adds it */
		flags &= ~BPF_F_RDONLY_PROG;
	}
	return info->type == bpf_map__type(map) && info->key_size == bpf_map__key_size(map) &&
	       info->value_size == bpf_map__value_size(map) &&
	       info->max_entries == bpf_map__max_entries(map) && info->map_flags == flags;
}

/* Reuse map's pin when there is one (none: libbpf creates and pins it). */
static int reuse_pin(struct bpf_map *map, const struct xdnatd_config *cfg)
{
	const char *path = bpf_map__pin_path(map);
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info);
	int fd = bpf_obj_get(path), err;

	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len)) {
		err = -errno;
		log_err("%s: %s", path, strerror(errno));
	} else if (!pin_fits(map, &info)) {
		log_err("%s was pinned by BPF objects of another layout or size "
			"(type %u, key %u, value %u, max_entries %u, flags 0x%x; this xdnatd "
			"wants %u, %u, %u, %u, 0x%x): stop xdnatd, remove the old pins with "
			"`xdnatd --unload --ext-if %s --int-if %s --bpffs %s` (forwarding "
			"stops until the next start) and start again", path, info.type,
			info.key_size, info.value_size, info.max_entries, info.map_flags,
			bpf_map__type(map), bpf_map__key_size(map), bpf_map__value_size(map),
			bpf_map__max_entries(map), bpf_map__map_flags(map), cfg->ext_if,
			cfg->int_if, cfg->bpffs);
		err = -EEXIST;
	} else {
		/* reuse_fd dups fd; without a pin path libbpf checks nothing more */
		err = bpf_map__reuse_fd(map, fd);
		if (!err)
			err = bpf_map__set_pin_path(map, NULL);
		if (err)
			log_err("%s: reusing it: %s", path, strerror(-err));
	}
	if (fd >= 0)
		close(fd);
	return err;
}

/*
 * The pins of object i are reused here rather than by libbpf: libbpf up to
 * 1.5 compares a pinned DEVMAP's flags, which the kernel always reports
 * with BPF_F_RDONLY_PROG, with its own and refuses the map; and it says
 * little when a pin really differs.
 */
static int reuse_pins(struct dataplane *dp, int i, const struct xdnatd_config *cfg)
{
	struct bpf_map *map;
	int err;

	bpf_object__for_each_map(map, skel_obj(dp, i)) {
		if (!bpf_map__pin_path(map))
			continue;
		err = reuse_pin(map, cfg);
		if (err)
			return err;
	}
	return 0;
}

static struct bpf_map *find_map(const struct dataplane *dp, int i, const char *name)
{
	struct bpf_map *map = bpf_object__find_map_by_name(skel_obj(dp, i), name);

	if (!map)
		log_err("the %s BPF object has no map %s", prog_names[i], name);
	return map;
}

/* Pins of another layout (xdnat.h) are refused before any is reused. */
static int check_layout(const struct xdnatd_config *cfg)
{
	struct xdnat_layout l;
	char what[128];
	int rc = pinned_layout_read(cfg->bpffs, &l);

	if (rc == -ENOENT || (!rc && (!l.layout || l.layout == XDNAT_MAP_LAYOUT)))
		return 0;
	pinned_layout_describe(rc, &l, what, sizeof(what));
	log_err("%s holds the maps of %s, this xdnatd has layout %u: stop xdnatd, remove "
		"the old pins with `xdnatd --unload --ext-if %s --int-if %s --bpffs %s` "
		"(forwarding stops until the next start) and start again", cfg->bpffs, what,
		XDNAT_MAP_LAYOUT, cfg->ext_if, cfg->int_if, cfg->bpffs);
	return -EEXIST;
}

static int load(struct dataplane *dp, const struct xdnatd_config *cfg)
{
	struct bpf_map *map;
	int err = check_layout(cfg);

	if (err)
		return err;

	/* Both objects alike, or the second could not reuse the first's pin. */
	for (int i = 0; i < 2; i++) {
		map = find_map(dp, i, mapsync_name(MAPSYNC_SA));
		if (!map)
			return -ENOENT;
		err = bpf_map__set_max_entries(map, cfg->sa_entries);
		if (err) {
			log_err("--sa-entries %u: %s", cfg->sa_entries, strerror(-err));
			return err;
		}
	}
	/* gw_int after gw_ext: it reuses what gw_ext just created and pinned */
	for (int i = 0; i < 2; i++) {
		err = reuse_pins(dp, i, cfg);
		if (err)
			return err;
		err = i ? gw_int__load(dp->in) : gw_ext__load(dp->ext);
		if (err) {
			log_err("loading %s: %s", prog_names[i], strerror(-err));
			return err;
		}
	}
	for (enum mapsync_map m = 0; m < MAPSYNC_N; m++) {
		map = find_map(dp, 0, mapsync_name(m));
		if (!map)
			return -ENOENT;
		err = mapsync_bind(&dp->sync, m, bpf_map__fd(map), bpf_map__key_size(map),
				   bpf_map__value_size(map), bpf_map__max_entries(map));
		if (err)
			return err;
	}
	for (enum mapsync_learned l = 0; l < MAPSYNC_L_N; l++) {
		map = find_map(dp, 0, mapsync_learned_name(l));
		if (!map)
			return -ENOENT;
		err = mapsync_bind_learned(&dp->sync, l, bpf_map__fd(map), bpf_map__key_size(map),
					   bpf_map__value_size(map));
		if (err)
			return err;
	}
	dp->cfg_fd = bpf_map__fd(dp->ext->maps.xdnat_cfg);
	dp->stats_fd = bpf_map__fd(dp->ext->maps.xdnat_stats);
	err = pinned_stats_name(dp->stats_fd);
	if (!err)
		err = pinned_layout_write(bpf_map__fd(dp->ext->maps.xdnat_layout));
	if (err)
		log_err("writing the counters' names and the layout record: %s",
			strerror(-err));
	return err;
}

/* ---- NICs ------------------------------------------------------------------- */

/* NIC name's MTU, capped to xdnat_cfg's 16 bits. */
static int nic_mtu(int fd, const char *name, uint16_t *mtu)
{
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, SIOCGIFMTU, &ifr))
		return -errno;
	*mtu = (uint16_t)(ifr.ifr_mtu > UINT16_MAX ? UINT16_MAX : ifr.ifr_mtu);
	return 0;
}

int nic_subnets(const char *ifname, uint32_t *net, uint32_t *mask, unsigned int max)
{
	struct ifaddrs *ifa, *i;
	int n = 0;

	if (getifaddrs(&ifa))
		return -errno;
	for (i = ifa; i; i = i->ifa_next) {
		const struct sockaddr_in *a = (const void *)i->ifa_addr;
		const struct sockaddr_in *m = (const void *)i->ifa_netmask;

		if (!a || !m || a->sin_family != AF_INET || strcmp(i->ifa_name, ifname))
			continue;
		if ((unsigned int)n < max) {
			mask[n] = m->sin_addr.s_addr;
			net[n] = a->sin_addr.s_addr & m->sin_addr.s_addr;
		}
		n++;
	}
	freeifaddrs(ifa);
	return n;
}

/* The internal subnets into c (BCP 38: gw_ext drops packets to G from
 * them): --internal-nets, then the internal NIC's; unused slots zero. More
 * than fit: the first ones, said once. */
static void read_int_nets(struct dataplane *dp, struct xdnat_cfg *c)
{
	uint32_t net[XDNAT_MAX_INT_NETS], mask[XDNAT_MAX_INT_NETS];
	unsigned int k = dp->n_conf_nets, room = XDNAT_MAX_INT_NETS - k;
	int n = nic_subnets(dp->int_if, net, mask, room);

	/* not readable now: keep what c has */
	if (n < 0)
		return;
	memset(c->int_nets, 0, sizeof(c->int_nets));
	for (unsigned int i = 0; i < k; i++) {
		c->int_nets[i].net = dp->conf_net[i];
		c->int_nets[i].mask = dp->conf_mask[i];
	}
	for (unsigned int i = 0; i < (unsigned int)n && i < room; i++) {
		c->int_nets[k + i].net = net[i];
		c->int_nets[k + i].mask = mask[i];
	}
	if ((unsigned int)n > room && !dp->nets_warned) {
		dp->nets_warned = true;
		log_warn("%s has %d IPv4 subnets and --internal-nets %u: gw_ext knows %u "
			 "internal subnets, the first ones", dp->int_if, n, k, XDNAT_MAX_INT_NETS);
	}
}

/* The internal NIC's MTU, MAC and subnets, and the external NIC's MTU, into c. */
static int read_nics(struct dataplane *dp, struct xdnat_cfg *c)
{
	const char *ext_if = dp->ext_if, *int_if = dp->int_if;
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err;

	if (fd < 0)
		return -errno;
	err = nic_mtu(fd, int_if, &c->int_mtu);
	if (!err)
		err = nic_mtu(fd, ext_if, &c->ext_mtu);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", int_if);
	if (!err && ioctl(fd, SIOCGIFHWADDR, &ifr))
		err = -errno;
	if (!err)
		memcpy(c->int_mac, ifr.ifr_hwaddr.sa_data, sizeof(c->int_mac));
	close(fd);
	if (!err)
		read_int_nets(dp, c);
	return err;
}

/* A packet of the external MTU to a host needs 20 bytes more inside: with a
 * smaller internal MTU, ordinary full-size packets are bounced with
 * frag-needed (docs/xdnatd.md). Said at start and when the MTUs change. */
static void check_mtus(struct dataplane *dp, const struct xdnat_cfg *c)
{
	bool small = c->int_mtu < c->ext_mtu + XDNAT_TUNNEL_OVERHEAD;

	if (small && !dp->mtu_warned)
		log_warn("%s: MTU %u is below %s's %u + %u for the tunnel: inbound packets "
			 "over %u bytes get frag-needed instead of reaching their host; set "
			 "%s's MTU to at least %u", dp->int_if, c->int_mtu, dp->ext_if,
			 c->ext_mtu, XDNAT_TUNNEL_OVERHEAD, c->int_mtu - XDNAT_TUNNEL_OVERHEAD,
			 dp->int_if, c->ext_mtu + XDNAT_TUNNEL_OVERHEAD);
	dp->mtu_warned = small;
}

uint16_t dataplane_ext_mtu(const struct dataplane *dp)
{
	return dp->cfg.ext_mtu;
}

static int write_cfg(struct dataplane *dp)
{
	uint32_t zero = 0;
	int err;

	if (!bpf_map_update_elem(dp->cfg_fd, &zero, &dp->cfg, BPF_ANY))
		return 0;
	err = -errno;
	log_err("xdnat_cfg: %s", strerror(errno));
	return err;
}

/* bpf_fib_lookup answers "forwarding disabled" unless the NIC forwards. */
static int enable_forwarding(const char *ifname)
{
	char path[128], c = 0;
	int fd, err = 0;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/forwarding", ifname);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (read(fd, &c, 1) == 1 && c == '1')
		goto out;
	if (pwrite(fd, "1\n", 2, 0) != 2) {
		err = -errno;
		goto out;
	}
	log_info("enabled IPv4 forwarding on %s (the XDP route lookup needs it)", ifname);
out:
	close(fd);
	return err;
}

/* The XDP attach modes: flag, our name for it, iproute2's. */
static const struct {
	uint32_t flag;
	const char *name, *ip;
} xdp_modes[] = {
	{ XDP_FLAGS_DRV_MODE, "native", "xdpdrv" },
	{ XDP_FLAGS_SKB_MODE, "generic", "xdpgeneric" },
	{ XDP_FLAGS_HW_MODE, "offload", "xdpoffload" },
};
#define N_XDP_MODES (sizeof(xdp_modes) / sizeof(xdp_modes[0]))

static const char *mode_name(uint32_t flag)
{
	for (size_t i = 0; i < N_XDP_MODES; i++)
		if (xdp_modes[i].flag == flag)
			return xdp_modes[i].name;
	return "?";
}

static int prog_name(const char *ifname, uint32_t id, char name[BPF_OBJ_NAME_LEN])
{
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id), err = 0;

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len)) {
		err = -errno;
		log_err("%s: XDP program id %u: %s", ifname, id, strerror(errno));
	}
	if (fd >= 0)
		close(fd);
	memcpy(name, info.name, BPF_OBJ_NAME_LEN);
	return err;
}

/* What is attached to ifname, refusing anything that is not ours. */
static int xdp_inspect(const char *ifname, unsigned int ifindex, struct xdp_slot *s)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	char name[BPF_OBJ_NAME_LEN];
	uint32_t ids[N_XDP_MODES];
	int err = bpf_xdp_query((int)ifindex, 0, &q);

	*s = (struct xdp_slot){ 0 };
	if (err) {
		log_err("%s: querying XDP: %s", ifname, strerror(-err));
		return err;
	}
	ids[0] = q.drv_prog_id;		/* in the order of xdp_modes */
	ids[1] = q.skb_prog_id;
	ids[2] = q.hw_prog_id;
	for (size_t i = 0; i < N_XDP_MODES; i++) {
		if (!ids[i])
			continue;
		err = prog_name(ifname, ids[i], name);
		if (err)
			return err;
		if (strcmp(name, prog_names[0]) && strcmp(name, prog_names[1]) &&
		    strcmp(name, plain_names[0]) && strcmp(name, plain_names[1])) {
			log_err("%s has a foreign XDP program '%s' (id %u, %s mode): not "
				"replacing it; remove it (ip link set dev %s %s off) or "
				"name another interface", ifname, name, ids[i],
				xdp_modes[i].name, ifname, xdp_modes[i].ip);
			return -EBUSY;
		}
		*s = (struct xdp_slot){ ids[i], xdp_modes[i].flag };
	}
	return 0;
}

/* Replace our earlier program atomically (XDP_FLAGS_REPLACE checks it is
 * still the one we saw); attach fresh only where nothing is. */
static int xdp_attach(const char *ifname, unsigned int ifindex, const struct xdp_slot *cur,
		      struct bpf_program *prog, uint32_t mode)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, o);
	uint32_t flags = mode;
	int err, old_fd = -1;

	if (cur->id && cur->mode != mode) {
		/* One mode per NIC: ours in the other mode goes first. */
		err = bpf_xdp_detach((int)ifindex, cur->mode, NULL);
		if (err) {
			log_err("%s: detaching our %s-mode program: %s", ifname,
				mode_name(cur->mode), strerror(-err));
			return err;
		}
		log_info("%s: detached our %s-mode program id %u", ifname,
			 mode_name(cur->mode), cur->id);
		flags |= XDP_FLAGS_UPDATE_IF_NOEXIST;
	} else if (cur->id) {
		old_fd = bpf_prog_get_fd_by_id(cur->id);
		if (old_fd < 0) {
			err = -errno;
			log_err("%s: XDP program id %u: %s", ifname, cur->id, strerror(errno));
			return err;
		}
		o.old_prog_fd = old_fd;
		flags |= XDP_FLAGS_REPLACE;
	} else {
		flags |= XDP_FLAGS_UPDATE_IF_NOEXIST;
	}
	err = bpf_xdp_attach((int)ifindex, bpf_program__fd(prog), flags, &o);
	if (old_fd >= 0)
		close(old_fd);
	if (err) {
		char why[96] = "", driver[32];

		/* the kernel answers EOPNOTSUPP for a driver without ndo_bpf */
		if (mode == XDP_FLAGS_DRV_MODE && err == -EOPNOTSUPP &&
		    !ethtool_driver(ifname, driver, sizeof(driver)))
			snprintf(why, sizeof(why), ": driver %s has no native XDP; try "
				 "--xdp-mode generic", driver);
		else if (mode == XDP_FLAGS_DRV_MODE)
			snprintf(why, sizeof(why), " (no native XDP in this driver? try "
				 "--xdp-mode generic)");
		log_err("attaching %s to %s in %s mode: %s%s", bpf_program__name(prog),
			ifname, mode_name(mode), strerror(-err), why);
		return err;
	}
	if (cur->id && cur->mode == mode)
		log_info("%s: replaced XDP program id %u with %s (%s mode)", ifname,
			 cur->id, bpf_program__name(prog), mode_name(mode));
	else
		log_info("%s: attached %s (%s mode)", ifname, bpf_program__name(prog),
			 mode_name(mode));
	return 0;
}

/* Both NICs exist and carry nothing foreign, before anything is loaded. */
static int inspect(struct dataplane *dp, const struct xdnatd_config *cfg)
{
	const char *ifs[2] = { cfg->ext_if, cfg->int_if };
	int err;

	for (int i = 0; i < 2; i++) {
		dp->ifindex[i] = if_nametoindex(ifs[i]);
		if (!dp->ifindex[i]) {
			log_err("%s: no such interface", ifs[i]);
			return -ENODEV;
		}
		err = xdp_inspect(ifs[i], dp->ifindex[i], &dp->attached[i]);
		if (err)
			return err;
		veth_check(ifs[i], i ? "gw_int" : "gw_ext");
	}
	return 0;
}

static int configure(struct dataplane *dp, const struct xdnatd_config *cfg)
{
	const char *ifs[2] = { cfg->ext_if, cfg->int_if };
	int err;

	dp->cfg = (struct xdnat_cfg){
		.global = cfg->gw.global,
		.internal = cfg->internal,
		.ext_ifindex = dp->ifindex[0],
		.int_ifindex = dp->ifindex[1],
		.flags = XDNAT_CFG_ENABLED,
	};
	snprintf(dp->int_if, sizeof(dp->int_if), "%s", cfg->int_if);
	snprintf(dp->ext_if, sizeof(dp->ext_if), "%s", cfg->ext_if);
	dp->n_conf_nets = cfg->n_int_nets;
	memcpy(dp->conf_net, cfg->int_net, sizeof(dp->conf_net));
	memcpy(dp->conf_mask, cfg->int_mask, sizeof(dp->conf_mask));
	err = read_nics(dp, &dp->cfg);
	if (err) {
		log_err("%s, %s: reading the MTUs and MAC: %s", cfg->ext_if, cfg->int_if,
			strerror(-err));
		return err;
	}
	check_mtus(dp, &dp->cfg);
	err = write_cfg(dp);
	if (err)
		return err;
	err = neigh_open(dp->ifindex[1], &dp->neigh);
	if (err) {
		log_err("rtnetlink socket for %s's neighbours: %s", cfg->int_if, strerror(-err));
		return err;
	}
	dp->sync.mac_of = host_mac;
	dp->sync.mac_ctx = dp;
	/* the redirect targets; stale NICs of an earlier run go at reconcile */
	for (int i = 0; i < 2; i++) {
		dp->sync.tx_ifindex[i] = dp->ifindex[i];
		if (bpf_map_update_elem(dp->sync.fd[MAPSYNC_TX], &dp->ifindex[i],
					&dp->ifindex[i], BPF_ANY)) {
			err = -errno;
			log_err("xdnat_tx: %s", strerror(errno));
			return err;
		}
	}
	for (int i = 0; i < 2; i++) {
		err = enable_forwarding(ifs[i]);
		if (err) {
			log_err("%s: enabling IPv4 forwarding: %s", ifs[i], strerror(-err));
			return err;
		}
	}
	return 0;
}

/* ---- next hops (nexthop.c) ------------------------------------------------ */

static int on_nh_event(void *ctx, void *data, size_t len)
{
	struct dataplane *dp = ctx;
	const struct xdnat_nh_event *ev = data;

	if (len >= sizeof(*ev))
		nexthop_request(dp->nh, ev->addr, ev->ifindex);
	return 0;
}

static int add_ep(int ep, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static int open_nexthops(struct dataplane *dp, const struct xdnatd_config *cfg,
			 const struct kfeat_set *k)
{
	const char *ifs[2] = { cfg->ext_if, cfg->int_if };
	int err;

	err = nexthop_open(dp->ifindex, ifs, &dp->nh);
	if (err) {
		log_err("rtnetlink sockets for the routes' next hops: %s", strerror(-err));
		return err;
	}
	nexthop_set_managed(dp->nh, kfeat_state(k, KFEAT_NEIGH_MANAGED));
	dp->nh_events = ring_buffer__new(bpf_map__fd(dp->ext->maps.xdnat_nh_events),
					 on_nh_event, dp, NULL);
	if (!dp->nh_events) {
		err = -errno;
		log_err("xdnat_nh_events: %s", strerror(errno));
		return err;
	}
	dp->ep = epoll_create1(EPOLL_CLOEXEC);
	err = dp->ep < 0 ? -errno : add_ep(dp->ep, ring_buffer__epoll_fd(dp->nh_events));
	if (!err)
		err = add_ep(dp->ep, nexthop_fd(dp->nh));
	if (err) {
		log_err("next-hop events: %s", strerror(-err));
		return err;
	}
	/* a failed first reading is retried at the next tick */
	nexthop_sync(dp->nh);
	return 0;
}

int dataplane_fd(const struct dataplane *dp)
{
	return dp->ep;
}

void dataplane_on_events(struct dataplane *dp)
{
	int n = ring_buffer__consume(dp->nh_events);

	if (n < 0)
		log_warn("xdnat_nh_events: %s", strerror(-n));
	nexthop_on_notify(dp->nh);
}

static int attach(struct dataplane *dp, const struct xdnatd_config *cfg)
{
	const char *ifs[2] = { cfg->ext_if, cfg->int_if };
	struct bpf_program *progs[2] = {
		dp->frags ? dp->ext->progs.gw_ext : dp->ext->progs.gw_ext_plain,
		dp->frags ? dp->in->progs.gw_int : dp->in->progs.gw_int_plain,
	};
	uint32_t mode = cfg->xdp_generic ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	int err;

	for (int i = 0; i < 2; i++) {
		err = xdp_attach(ifs[i], dp->ifindex[i], &dp->attached[i], progs[i], mode);
		if (err)
			return err;
	}
	return 0;
}

int dataplane_open(const struct xdnatd_config *cfg, const struct kfeat_set *k,
		   struct dataplane **out)
{
	struct dataplane *dp = calloc(1, sizeof(*dp));
	int err;

	if (!dp)
		return -ENOMEM;
	dp->ep = -1;
	err = inspect(dp, cfg);
	if (!err) {
		err = bpffs_prepare(cfg->bpffs);
		if (err)
			log_err("--bpffs %s: %s", cfg->bpffs, strerror(-err));
	}
	if (!err)
		err = open_skels(dp, cfg->bpffs, kfeat_state(k, KFEAT_XDP_FRAGS) == KFEAT_PRESENT);
	if (!err)
		err = load(dp, cfg);
	if (!err)
		err = configure(dp, cfg);
	if (!err)
		err = open_nexthops(dp, cfg, k);
	if (!err)
		err = attach(dp, cfg);
	if (err) {
		dataplane_close(dp);
		return err;
	}
	log_info("data plane on %s (external) and %s (internal), maps pinned in %s",
		 cfg->ext_if, cfg->int_if, cfg->bpffs);
	*out = dp;
	return 0;
}

void dataplane_tick(struct dataplane *dp, const struct gw *g)
{
	struct xdnat_cfg c = dp->cfg;
	size_t changed = 0;
	int err;

	nexthop_tick(dp->nh);
	if (++dp->ticks < NEIGH_REFRESH_TICKS && !dp->resolving && !dp->mac_missing)
		return;
	/* the fast path trusts int_mtu and int_mac, gw_int ext_mtu: follow the NICs */
	if (!read_nics(dp, &c) && memcmp(&c, &dp->cfg, sizeof(c))) {
		log_info("%s: MTU %u, MAC %02x:%02x:%02x:%02x:%02x:%02x; %s: MTU %u: "
			 "xdnat_cfg updated", dp->int_if, c.int_mtu, c.int_mac[0], c.int_mac[1],
			 c.int_mac[2], c.int_mac[3], c.int_mac[4], c.int_mac[5], dp->ext_if,
			 c.ext_mtu);
		if (c.int_mtu != dp->cfg.int_mtu || c.ext_mtu != dp->cfg.ext_mtu)
			dp->mtu_warned = false;
		check_mtus(dp, &c);
		dp->cfg = c;
		write_cfg(dp);
	}
	refresh_neigh(dp, g);
	err = mapsync_update_macs(&dp->sync, g, &changed);
	dp->mac_missing = false;
	if (!err && changed)
		log_info("%zu host MAC(s) changed in %s's neighbours: their map entries rewritten",
			 changed, dp->int_if);
}

void dataplane_close(struct dataplane *dp)
{
	if (!dp)
		return;
	ring_buffer__free(dp->nh_events);
	nexthop_close(dp->nh);
	if (dp->ep >= 0)
		close(dp->ep);
	neigh_close(dp->neigh);
	mapsync_release(&dp->sync);
	close_skels(dp);
	free(dp);
}

/* ---- unloading --------------------------------------------------------------- */

static int detach(const char *ifname)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, o);
	unsigned int ifindex = if_nametoindex(ifname);
	struct xdp_slot cur;
	int err;

	if (!ifindex) {
		log_warn("%s: no such interface, nothing to detach", ifname);
		return 0;
	}
	err = xdp_inspect(ifname, ifindex, &cur);
	if (err || !cur.id)
		return err;
	o.old_prog_fd = bpf_prog_get_fd_by_id(cur.id);
	if (o.old_prog_fd < 0)
		return 0;	/* gone meanwhile */
	err = bpf_xdp_detach((int)ifindex, cur.mode, &o);
	close(o.old_prog_fd);
	if (err) {
		log_err("%s: detaching XDP program id %u: %s", ifname, cur.id,
			strerror(-err));
		return err;
	}
	log_info("%s: detached XDP program id %u", ifname, cur.id);
	return 0;
}

int dataplane_unload(const struct xdnatd_config *cfg)
{
	struct dataplane dp = { 0 };
	const char *ifs[2] = { cfg->ext_if, cfg->int_if };
	unsigned int removed = 0, ifindex[2];
	struct bpf_map *map;
	int err = 0, rc;

	for (int i = 0; i < 2; i++) {
		rc = ifs[i][0] ? detach(ifs[i]) : 0;
		err = err ? err : rc;
		ifindex[i] = ifs[i][0] ? if_nametoindex(ifs[i]) : 0;
	}
	rc = nexthop_remove_ours(ifindex);
	if (rc < 0)
		log_warn("removing our managed neighbour entries: %s", strerror(-rc));
	else if (rc)
		log_info("removed %d managed neighbour entr%s", rc, rc == 1 ? "y" : "ies");
	/* The objects name the pins; a map both define is unlinked once. */
	rc = open_skels(&dp, cfg->bpffs, true);	/* the pins' names only */
	if (rc) {
		close_skels(&dp);
		return rc;
	}
	for (int i = 0; i < 2; i++) {
		bpf_object__for_each_map(map, skel_obj(&dp, i)) {
			const char *path = bpf_map__pin_path(map);

			if (!path)
				continue;
			if (!unlink(path)) {
				removed++;
			} else if (errno != ENOENT) {
				log_err("%s: %s", path, strerror(errno));
				err = err ? err : -errno;
			}
		}
	}
	close_skels(&dp);
	/* A mount point or a directory with other files stays. */
	if (rmdir(cfg->bpffs) && errno != ENOENT && errno != EBUSY && errno != ENOTEMPTY)
		log_warn("%s: %s", cfg->bpffs, strerror(errno));
	log_info("removed %u pinned map(s) from %s", removed, cfg->bpffs);
	return err;
}
