/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The data-plane rig and packet builders of bpf_rig.h: namespace and veths,
 * gw_ext + gw_int loaded unpinned with shared maps, the standard world, one
 * test run, and frames built byte by byte.
 */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bpf_rig.h"
#include "gateway/pinned.h"
#include "lib/kfeat.h"
#include "gw_ext.skel.h"
#include "gw_int.skel.h"

const uint8_t EXT_MAC[6]  = { 0x02, 0, 0, 0, 0xe0, 0x01 };
const uint8_t INT_MAC[6]  = { 0x02, 0, 0, 0, 0x10, 0x01 };
const uint8_t H1_MAC[6]   = { 0x02, 0, 0, 0, 0x10, 0x11 };
const uint8_t H2_MAC[6]   = { 0x02, 0, 0, 0, 0x10, 0x12 };
const uint8_t PEER_MAC[6] = { 0x02, 0, 0, 0, 0xe0, 0x10 };
const uint8_t ATK_MAC[6]  = { 0x02, 0, 0, 0, 0xe0, 0x66 };
const uint8_t H4_MAC[6]   = { 0x02, 0, 0, 0, 0x10, 0x14 };

/* ---- namespace ------------------------------------------------------------ */

int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc)
		fprintf(stderr, "bpf_rig: `%s` failed (%d)\n", cmd, rc);
	return rc;
}

static const char *mac_str(const uint8_t *m)
{
	static char buf[4][18];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%02x:%02x:%02x:%02x:%02x:%02x",
		 m[0], m[1], m[2], m[3], m[4], m[5]);
	return buf[i];
}

static int write_file(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");
	int rc;

	if (!f)
		return -errno;
	rc = fputs(s, f) < 0 ? -EIO : 0;
	if (fclose(f))
		rc = -EIO;
	return rc;
}

static int build_netns(void)
{
	int rc = 0;

	rc |= sh("ip link set lo up");
	rc |= sh("ip link add " EXT_DEV " address %s type veth peer name xdnx1", mac_str(EXT_MAC));
	rc |= sh("ip link add " INT_DEV " address %s type veth peer name xdni1", mac_str(INT_MAC));
	rc |= sh("ip link set " EXT_DEV " up && ip link set xdnx1 up");
	rc |= sh("ip link set " INT_DEV " up && ip link set xdni1 up");
	rc |= sh("ip addr add 203.0.113.1/24 dev " EXT_DEV);
	rc |= sh("ip addr add 10.0.0.1/24 dev " INT_DEV);
	rc |= sh("ip neigh replace 10.0.0.11 lladdr %s dev " INT_DEV " nud permanent", mac_str(H1_MAC));
	rc |= sh("ip neigh replace 10.0.0.12 lladdr %s dev " INT_DEV " nud permanent", mac_str(H2_MAC));
	rc |= sh("ip route add 10.0.38.0/24 dev " INT_DEV);
	rc |= sh("ip neigh replace 10.0.38.254 lladdr %s dev " INT_DEV " nud permanent", mac_str(H4_MAC));
	rc |= sh("ip neigh replace 203.0.113.10 lladdr %s dev " EXT_DEV " nud permanent", mac_str(PEER_MAC));
	rc |= sh("ip neigh replace 203.0.113.66 lladdr %s dev " EXT_DEV " nud permanent", mac_str(ATK_MAC));
	/* bpf_fib_lookup answers FWD_DISABLED unless the ingress forwards */
	rc |= write_file("/proc/sys/net/ipv4/conf/" EXT_DEV "/forwarding", "1");
	rc |= write_file("/proc/sys/net/ipv4/conf/" INT_DEV "/forwarding", "1");
	return rc ? -1 : 0;
}

int rig_netns(void)
{
	if (geteuid() != 0) {
		errno = EPERM;
		return -1;
	}
	if (unshare(CLONE_NEWNET))
		return -1;
	return build_netns() ? -2 : 0;
}

/* ---- programs and maps ----------------------------------------------------- */

int rig_share_maps(const struct rig *r, struct bpf_object *obj)
{
	struct bpf_map *m;

	bpf_object__for_each_map(m, obj) {
		const char *name = bpf_map__name(m);
		struct bpf_map *same;

		/* no pinning: nothing may land in the host's /sys/fs/bpf */
		if (bpf_map__set_pin_path(m, NULL))
			return -1;
		if (strncmp(name, "xdnat_", 6))
			continue;
		same = bpf_object__find_map_by_name(r->ext->obj, name);
		if (!same || bpf_map__reuse_fd(m, bpf_map__fd(same)))
			return -1;
	}
	return 0;
}

static int load_programs(struct rig *r, uint32_t sa_entries)
{
	struct bpf_map *m;

	r->ext = gw_ext__open();
	r->in = gw_int__open();
	if (!r->ext || !r->in)
		return -1;
	/* as xdnatd: the xdp.frags programs, or their plain twins on a kernel
	 * without frags (before 5.18) */
	r->xdp_frags = kfeat_has(KFEAT_XDP_FRAGS);
	if (bpf_program__set_autoload(r->ext->progs.gw_ext_plain, !r->xdp_frags) ||
	    bpf_program__set_autoload(r->in->progs.gw_int_plain, !r->xdp_frags) ||
	    bpf_program__set_autoload(r->ext->progs.gw_ext, r->xdp_frags) ||
	    bpf_program__set_autoload(r->in->progs.gw_int, r->xdp_frags))
		return -1;
	bpf_object__for_each_map(m, r->ext->obj)
		if (bpf_map__set_pin_path(m, NULL))
			return -1;
	if (sa_entries && bpf_map__set_max_entries(r->ext->maps.xdnat_sa, sa_entries))
		return -1;
	if (gw_ext__load(r->ext))
		return -1;
	/* gw_int shares gw_ext's maps, as the pinned maps do in xdnatd */
	if (rig_share_maps(r, r->in->obj) || gw_int__load(r->in))
		return -1;

	r->ext_prog = r->xdp_frags ? r->ext->progs.gw_ext : r->ext->progs.gw_ext_plain;
	r->int_prog = r->xdp_frags ? r->in->progs.gw_int : r->in->progs.gw_int_plain;
	r->ext_fd = bpf_program__fd(r->ext_prog);
	r->int_fd = bpf_program__fd(r->int_prog);
	r->cfg = bpf_map__fd(r->ext->maps.xdnat_cfg);
	r->ports = bpf_map__fd(r->ext->maps.xdnat_ports);
	r->spiblk = bpf_map__fd(r->ext->maps.xdnat_spiblk);
	r->sa = bpf_map__fd(r->ext->maps.xdnat_sa);
	r->hosts = bpf_map__fd(r->ext->maps.xdnat_hosts);
	r->frags = bpf_map__fd(r->ext->maps.xdnat_frags);
	r->frag_src = bpf_map__fd(r->ext->maps.xdnat_frag_src);
	r->icmp_ids = bpf_map__fd(r->ext->maps.xdnat_icmp_ids);
	r->nexthop = bpf_map__fd(r->ext->maps.xdnat_nexthop);
	r->stats = bpf_map__fd(r->ext->maps.xdnat_stats);
	r->tx = bpf_map__fd(r->ext->maps.xdnat_tx);
	r->ipsec_out = bpf_map__fd(r->ext->maps.xdnat_ipsec_out);
	r->icmp_rl = bpf_map__fd(r->ext->maps.xdnat_icmp_rl);
	/* proof of the sharing: one map (same id) behind both programs' fds */
	bpf_object__for_each_map(m, r->in->obj) {
		struct bpf_map_info a, b;
		uint32_t la = sizeof(a), lb = sizeof(b);
		struct bpf_map *same;

		if (strncmp(bpf_map__name(m), "xdnat_", 6))
			continue;
		same = bpf_object__find_map_by_name(r->ext->obj, bpf_map__name(m));
		memset(&a, 0, sizeof(a));
		memset(&b, 0, sizeof(b));
		if (bpf_obj_get_info_by_fd(bpf_map__fd(m), &a, &la) ||
		    bpf_obj_get_info_by_fd(bpf_map__fd(same), &b, &lb) || a.id != b.id)
			return -1;
	}
	return 0;
}

int rig_open(struct rig *r, uint32_t sa_entries)
{
	uint32_t ifx;

	memset(r, 0, sizeof(*r));
	r->ext_ifindex = (int)if_nametoindex(EXT_DEV);
	r->int_ifindex = (int)if_nametoindex(INT_DEV);
	if (!r->ext_ifindex || !r->int_ifindex)
		return -1;
	if (load_programs(r, sa_entries))
		return -1;
	r->ncpus = libbpf_num_possible_cpus();
	if (r->ncpus <= 0)
		return -1;
	ifx = (uint32_t)r->ext_ifindex;
	if (bpf_map_update_elem(r->tx, &ifx, &ifx, BPF_ANY))
		return -1;
	ifx = (uint32_t)r->int_ifindex;
	if (bpf_map_update_elem(r->tx, &ifx, &ifx, BPF_ANY))
		return -1;
	r->ok = true;
	return 0;
}

void rig_close(struct rig *r)
{
	gw_int__destroy(r->in);
	gw_ext__destroy(r->ext);
	r->in = NULL;
	r->ext = NULL;
	r->ok = false;
	/* the namespace and its veths vanish with the process */
}

static int update(int fd, const void *k, const void *v)
{
	return bpf_map_update_elem(fd, k, v, BPF_ANY) ? -errno : 0;
}

int rig_set_cfg_mac(struct rig *r, uint16_t int_mtu, uint16_t flags, const uint8_t *int_mac)
{
	struct xdnat_cfg c;
	uint32_t k = 0;

	memset(&c, 0, sizeof(c));
	c.global = G;
	c.internal = GI;
	c.ext_ifindex = r->ext_ifindex;
	c.int_ifindex = r->int_ifindex;
	c.int_mtu = int_mtu;
	c.flags = flags;
	memcpy(c.int_mac, int_mac, sizeof(c.int_mac));
	/* the internal NIC's subnet, as xdnatd reads it */
	c.int_nets[0].net = IP4(10, 0, 0, 0);
	c.int_nets[0].mask = IP4(255, 255, 255, 0);
	return update(r->cfg, &k, &c);
}

int rig_set_cfg(struct rig *r, uint16_t int_mtu, uint16_t flags)
{
	return rig_set_cfg_mac(r, int_mtu, flags, INT_MAC);
}

/* The MAC xdnat_hosts holds for hi into mac (zero: none, or no entry):
 * what xdnatd copies into every value of the host. */
static void host_mac_of(const struct rig *r, uint32_t hi, uint8_t mac[6])
{
	struct xdnat_host h;

	memset(&h, 0, sizeof(h));
	if (bpf_map_lookup_elem(r->hosts, &hi, &h))
		memset(h.mac, 0, sizeof(h.mac));
	memcpy(mac, h.mac, 6);
}

static void owner_val(struct xdnat_owner *v, uint32_t cid, uint32_t hi, const uint8_t *mac)
{
	memset(v, 0, sizeof(*v));
	v->client_id = cid;
	v->host_addr = hi;
	if (mac)
		memcpy(v->mac, mac, sizeof(v->mac));
}

int rig_set_port_mac(struct rig *r, uint16_t port, uint32_t cid, uint32_t hi, uint32_t flags,
		     const uint8_t *mac)
{
	struct xdnat_port_owner v;
	uint32_t k = port;

	memset(&v, 0, sizeof(v));
	owner_val(&v.owner, cid, hi, mac);
	v.flags = flags;
	if (r->n_used_ports >= sizeof(r->used_ports) / sizeof(r->used_ports[0]))
		return -ENOSPC;
	r->used_ports[r->n_used_ports++] = port;
	return update(r->ports, &k, &v);
}

int rig_set_port(struct rig *r, uint16_t port, uint32_t cid, uint32_t hi, uint32_t flags)
{
	uint8_t mac[6];

	host_mac_of(r, hi, mac);
	return rig_set_port_mac(r, port, cid, hi, flags, mac);
}

int rig_set_spiblk(struct rig *r, uint32_t first, uint32_t count, uint32_t cid,
		   uint32_t hi)
{
	struct xdnat_spiblk_key k;
	struct xdnat_owner v;
	uint8_t mac[6];
	uint64_t spi;
	int rc;

	memset(&k, 0, sizeof(k));
	host_mac_of(r, hi, mac);
	owner_val(&v, cid, hi, mac);
	for (spi = first; spi < (uint64_t)first + count; spi += XDNAT_SPI_GRANULE) {
		k.spi = htonl((uint32_t)spi);
		rc = update(r->spiblk, &k, &v);
		if (rc)
			return rc;
	}
	return 0;
}

int rig_set_sa_mac(struct rig *r, uint32_t spi, uint32_t peer, uint32_t cid, uint32_t hi,
		   const uint8_t *mac)
{
	struct xdnat_sa_key k;
	struct xdnat_owner v;

	memset(&k, 0, sizeof(k));
	k.spi = htonl(spi);
	k.peer = peer;
	owner_val(&v, cid, hi, mac);
	return update(r->sa, &k, &v);
}

int rig_set_sa(struct rig *r, uint32_t spi, uint32_t peer, uint32_t cid, uint32_t hi)
{
	uint8_t mac[6];

	host_mac_of(r, hi, mac);
	return rig_set_sa_mac(r, spi, peer, cid, hi, mac);
}

/* Every xdnat_owner value of host hi in a hash map (SAs, SPI granules)
 * rewritten with mac. Keys collected first: an update during a walk may
 * restart it. */
static int remac_owners(int fd, size_t key_size, uint32_t hi, const uint8_t *mac)
{
	uint8_t key[16], next[16], *keys = NULL;
	size_t n = 0, cap = 0, i;
	struct xdnat_owner v;
	void *prev = NULL;
	int rc = 0;

	while (!bpf_map_get_next_key(fd, prev, next)) {
		if (n == cap) {
			uint8_t *grown = realloc(keys, (cap = cap ? cap * 2 : 64) * key_size);

			if (!grown) {
				free(keys);
				return -ENOMEM;
			}
			keys = grown;
		}
		memcpy(keys + n++ * key_size, next, key_size);
		memcpy(key, next, key_size);
		prev = key;
	}
	for (i = 0; i < n && !rc; i++) {
		if (bpf_map_lookup_elem(fd, keys + i * key_size, &v) || v.host_addr != hi)
			continue;
		memset(v.mac, 0, sizeof(v.mac));
		if (mac)
			memcpy(v.mac, mac, sizeof(v.mac));
		rc = update(fd, keys + i * key_size, &v);
	}
	free(keys);
	return rc;
}

int rig_set_host_mac(struct rig *r, uint32_t hi, uint32_t cid, const uint8_t *mac)
{
	struct xdnat_host v;
	unsigned int i;
	int rc;

	memset(&v, 0, sizeof(v));
	v.client_id = cid;
	if (mac)
		memcpy(v.mac, mac, sizeof(v.mac));
	rc = update(r->hosts, &hi, &v);
	/* as xdnatd does: the MAC goes into every value of the host too */
	for (i = 0; i < r->n_used_ports && !rc; i++) {
		struct xdnat_port_owner po;
		uint32_t k = r->used_ports[i];

		if (bpf_map_lookup_elem(r->ports, &k, &po) || po.owner.host_addr != hi)
			continue;
		memcpy(po.owner.mac, v.mac, sizeof(po.owner.mac));
		rc = update(r->ports, &k, &po);
	}
	if (!rc)
		rc = remac_owners(r->sa, sizeof(struct xdnat_sa_key), hi, mac);
	if (!rc)
		rc = remac_owners(r->spiblk, sizeof(struct xdnat_spiblk_key), hi, mac);
	return rc;
}

int rig_set_host(struct rig *r, uint32_t hi, uint32_t cid)
{
	return rig_set_host_mac(r, hi, cid, NULL);
}

static int clear_map(int fd, size_t key_size)
{
	uint8_t key[64];

	if (key_size > sizeof(key))
		return -EINVAL;
	while (!bpf_map_get_next_key(fd, NULL, key))
		if (bpf_map_delete_elem(fd, key))
			return -errno;
	return 0;
}

int rig_clear_nexthops(struct rig *r)
{
	uint32_t n = XDNAT_MAX_NEXTHOPS, *keys = calloc(n, sizeof(*keys));
	struct xdnat_nexthop *zero = calloc((size_t)n * r->ncpus, sizeof(*zero));
	LIBBPF_OPTS(bpf_map_batch_opts, o);
	int rc = 0;

	if (!keys || !zero) {
		rc = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < n; i++)
		keys[i] = i;
	if (bpf_map_update_batch(r->nexthop, keys, zero, &n, &o))
		rc = -errno;
out:
	free(keys);
	free(zero);
	return rc;
}

/* Every CPU's bucket of every slot zero: full at the next ICMP. */
static int reset_icmp_rl(struct rig *r)
{
	struct xdnat_icmp_bucket *zero = calloc((size_t)r->ncpus, sizeof(*zero));
	int rc = 0;

	if (!zero)
		return -ENOMEM;
	for (uint32_t k = 0; k < XDNAT_ICMP_RL_MAX && !rc; k++)
		rc = update(r->icmp_rl, &k, zero);
	free(zero);
	return rc;
}

int rig_world(struct rig *r)
{
	struct xdnat_port_owner zero;
	unsigned int i;

	memset(&zero, 0, sizeof(zero));
	for (i = 0; i < r->n_used_ports; i++) {
		uint32_t k = r->used_ports[i];

		if (update(r->ports, &k, &zero))
			return -1;
	}
	r->n_used_ports = 0;
	if (clear_map(r->spiblk, sizeof(struct xdnat_spiblk_key)) ||
	    clear_map(r->sa, sizeof(struct xdnat_sa_key)) ||
	    clear_map(r->hosts, sizeof(uint32_t)) ||
	    clear_map(r->frags, sizeof(struct xdnat_frag_key)) ||
	    clear_map(r->frag_src, sizeof(uint32_t)) ||
	    clear_map(r->icmp_ids, sizeof(struct xdnat_icmp_key)) ||
	    clear_map(r->ipsec_out, sizeof(struct xdnat_ipsec_key)) ||
	    reset_icmp_rl(r) || rig_clear_nexthops(r))
		return -1;

	if (rig_set_cfg(r, 1500, XDNAT_CFG_ENABLED) ||
	    rig_set_host(r, H1, CID1) ||
	    rig_set_host(r, H2, CID2) ||
	    rig_set_port(r, H1_PORT, CID1, H1, 0) ||
	    rig_set_port(r, H1_NATT, CID1, H1, XDNAT_PORT_NATT) ||
	    rig_set_port(r, H2_PORT, CID2, H2, 0) ||
	    rig_set_port(r, H2_NATT, CID2, H2, XDNAT_PORT_NATT) ||
	    rig_set_spiblk(r, H1_SPI_BLOCK, SPI_BLOCK_SIZE, CID1, H1) ||
	    rig_set_spiblk(r, H2_SPI_BLOCK, SPI_BLOCK_SIZE, CID2, H2) ||
	    rig_set_sa(r, H1_SPI, PEER, CID1, H1) ||
	    rig_set_sa(r, H2_SPI, PEER, CID2, H2))
		return -1;
	return 0;
}

int rig_read_stats(const struct rig *r, struct counters *c)
{
	struct xdnat_counter sum[XDNAT_REASON_MAX];
	int rc = pinned_read_stats(r->stats, sum);

	memset(c, 0, sizeof(*c));
	for (uint32_t k = 0; k < XDNAT_REASON_MAX && !rc; k++) {
		c->packets[k] = sum[k].packets;
		c->bytes[k] = sum[k].bytes;
	}
	return rc;
}

int rig_run(int prog, int ifindex, const void *in, uint32_t len, void *out,
	    uint32_t out_size, uint32_t *out_len, uint32_t repeat, uint32_t *duration)
{
	struct xdp_md ctx;
	int err;
	LIBBPF_OPTS(bpf_test_run_opts, o);

	memset(&ctx, 0, sizeof(ctx));
	ctx.data_end = len;		/* must equal data_size_in */
	ctx.ingress_ifindex = (uint32_t)ifindex;
	o.data_in = in;
	o.data_size_in = len;
	o.data_out = out;
	o.data_size_out = out_size;
	o.ctx_in = &ctx;
	o.ctx_size_in = sizeof(ctx);
	o.repeat = repeat;

	err = bpf_prog_test_run_opts(prog, &o);
	if (out_len)
		*out_len = o.data_size_out;
	if (duration)
		*duration = o.duration;
	if (err)
		return err < 0 ? err : -err;
	return (int)o.retval;
}

/* ---- packets ----------------------------------------------------------------- */

void be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

void be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = (v >> 16) & 0xff;
	p[2] = (v >> 8) & 0xff;
	p[3] = v & 0xff;
}

uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

uint16_t inet_csum(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

void eth(struct frame *f, const uint8_t *dst, const uint8_t *src, uint16_t proto)
{
	memcpy(f->b, dst, 6);
	memcpy(f->b + 6, src, 6);
	be16(f->b + 12, proto);
	f->len = 14;
}

void append(struct frame *f, const void *p, size_t n)
{
	if (f->len + n > FRAME_MAX) {
		fprintf(stderr, "bpf_rig: frame of %zu bytes > FRAME_MAX\n", f->len + n);
		abort();
	}
	memcpy(f->b + f->len, p, n);
	f->len += n;
}

size_t ip4(uint8_t *p, const struct ip4 *h, const void *pay, size_t paylen)
{
	size_t hl = 20 + h->optlen;

	p[0] = 0x40 | (uint8_t)(hl / 4);
	p[1] = h->tos;
	be16(p + 2, (uint16_t)(hl + paylen));
	be16(p + 4, h->id);
	be16(p + 6, h->frag);
	p[8] = 64;
	p[9] = h->proto;
	p[10] = p[11] = 0;
	memcpy(p + 12, &h->src, 4);
	memcpy(p + 16, &h->dst, 4);
	if (h->optlen)
		memcpy(p + 20, h->opt, h->optlen);
	be16(p + 10, inet_csum(p, hl));
	memmove(p + hl, pay, paylen);
	return hl + paylen;
}

void ip4_set_ttl(uint8_t *p, uint8_t ttl)
{
	p[8] = ttl;
	be16(p + 10, 0);
	be16(p + 10, inet_csum(p, (size_t)(p[0] & 0xf) * 4));
}

size_t udp(uint8_t *p, uint16_t sport, uint16_t dport, const void *d, size_t n)
{
	be16(p, sport);
	be16(p + 2, dport);
	be16(p + 4, (uint16_t)(8 + n));
	be16(p + 6, 0);			/* no checksum: allowed over IPv4 */
	if (n)
		memcpy(p + 8, d, n);
	return 8 + n;
}

size_t tcp(uint8_t *p, uint16_t sport, uint16_t dport)
{
	memset(p, 0, 20);
	be16(p, sport);
	be16(p + 2, dport);
	be32(p + 4, 0x01020304);	/* seq */
	p[12] = 5 << 4;			/* doff 5 */
	p[13] = 0x02;			/* SYN */
	be16(p + 14, 65535);
	return 20;
}

size_t esp(uint8_t *p, uint32_t spi, uint32_t seq, size_t n)
{
	size_t i;

	be32(p, spi);
	be32(p + 4, seq);
	for (i = 0; i < n; i++)
		p[8 + i] = (uint8_t)(0xa5 ^ i);
	return 8 + n;
}

size_t ah(uint8_t *p, uint8_t next, uint32_t spi, const void *d, size_t n)
{
	p[0] = next;
	p[1] = (24 / 4) - 2;
	p[2] = p[3] = 0;
	be32(p + 4, spi);
	be32(p + 8, 1);
	memset(p + 12, 0x5a, 12);
	memcpy(p + 24, d, n);
	return 24 + n;
}

size_t icmp(uint8_t *p, uint8_t type, uint8_t code, uint32_t rest, const void *d, size_t n)
{
	p[0] = type;
	p[1] = code;
	p[2] = p[3] = 0;
	be32(p + 4, rest);
	if (n)
		memcpy(p + 8, d, n);
	be16(p + 2, inet_csum(p, 8 + n));
	return 8 + n;
}

void hexdump(const char *what, const uint8_t *b, size_t len)
{
	size_t i;

	printf("%s (%zu bytes):", what, len);
	for (i = 0; i < len; i++)
		printf("%s%02x", i % 16 ? " " : "\n  ", b[i]);
	printf("\n");
}

void ext_frame(struct frame *f, const uint8_t *src_mac, const uint8_t *pkt, size_t n)
{
	eth(f, EXT_MAC, src_mac, ETH_IP);
	append(f, pkt, n);
}

void to_g(struct frame *f, uint32_t src, uint8_t proto, const void *pay, size_t n)
{
	struct ip4 h = { .src = src, .dst = G, .proto = proto, .id = 0x1111, .frag = 0x4000 };
	uint8_t pkt[FRAME_MAX];
	size_t len = ip4(pkt, &h, pay, n);

	ext_frame(f, src == ATTACKER ? ATK_MAC : PEER_MAC, pkt, len);
}

void from_host(struct frame *f, const uint8_t *mac, uint32_t hi, const uint8_t *inner,
	       size_t n)
{
	from_host_tos(f, mac, hi, 0, inner, n);
}

void from_host_tos(struct frame *f, const uint8_t *mac, uint32_t hi, uint8_t tos,
		   const uint8_t *inner, size_t n)
{
	struct ip4 o = { .src = hi, .dst = GI, .proto = P_IPIP, .tos = tos, .frag = 0x4000 };
	uint8_t pkt[FRAME_MAX];
	size_t len = ip4(pkt, &o, inner, n);

	eth(f, INT_MAC, mac, ETH_IP);
	append(f, pkt, len);
}

int rfc6040_decap(uint8_t outer_tos, uint8_t inner_tos)
{
	/* [inner][outer] by codepoint: 0 Not-ECT, 1 ECT(1), 2 ECT(0), 3 CE */
	static const int8_t table[4][4] = {
		{ 0, 0, 0, -1 },	/* Not-ECT: CE cannot be passed on */
		{ 1, 1, 1, 3 },		/* ECT(1) */
		{ 2, 1, 2, 3 },		/* ECT(0): ECT(1) outside wins */
		{ 3, 3, 3, 3 },		/* CE stays CE */
	};
	int e = table[inner_tos & 3][outer_tos & 3];

	return e < 0 ? -1 : (inner_tos & 0xfc) | e;
}

size_t from_g(uint8_t *p, uint32_t src, uint32_t dst, uint8_t proto, const void *pay,
	      size_t n)
{
	struct ip4 h = { .src = src, .dst = dst, .proto = proto, .id = 0x2222, .frag = 0x4000 };

	return ip4(p, &h, pay, n);
}

int rig_add_sas(struct rig *r, uint32_t n, uint32_t spi0, uint32_t peer0, uint32_t block,
		bool two_hosts)
{
	const uint32_t chunk = 65536;
	struct xdnat_sa_key *k = calloc(chunk, sizeof(*k));
	struct xdnat_owner *v = calloc(chunk, sizeof(*v));
	uint32_t i, j, b;
	int rc = 0;

	if (!k || !v) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n && !rc; i += chunk) {
		uint32_t cnt = n - i < chunk ? n - i : chunk;
		LIBBPF_OPTS(bpf_map_batch_opts, o);

		for (j = 0; j < cnt; j++) {
			b = (i + j) / block;
			k[j].spi = htonl(spi0 + i + j);
			k[j].peer = htonl(peer0 + i + j);
			v[j].client_id = two_hosts ? 100 + b : CID1;
			v[j].host_addr = two_hosts && (b & 1) ? H2 : H1;
			memcpy(v[j].mac, two_hosts && (b & 1) ? H2_MAC : H1_MAC, sizeof(v[j].mac));
		}
		if (bpf_map_update_batch(r->sa, k, v, &cnt, &o))
			rc = -errno;
	}
	for (b = 0; b < (n + block - 1) / block && !rc; b++)
		rc = rig_set_spiblk(r, spi0 + b * block, block, two_hosts ? 100 + b : CID1,
				    two_hosts && (b & 1) ? H2 : H1);
out:
	free(k);
	free(v);
	return rc;
}
