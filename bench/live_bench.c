/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * live_bench — packets per second through the gateway namespace of a veth
 * rig, with live frames: the ceiling (a bare XDP redirect), xdnat (gw_ext,
 * gw_int) and Linux (forwarding, nft NAT, conntrack), alternated in one run
 * on the same rig and frames; then gw_ext with 1K, 64K and 1M SAs.
 * Figures, not tests: targets are printed with PASS/MISS, the exit status
 * only says whether the bench could run. bench/live_bench.sh builds the rig
 * (three namespaces, static neighbours, the nft rules) and runs this
 * pinned to one CPU:
 *
 *   live_bench --gen NS --gw NS --host NS [--rounds N] [--seconds S]
 *		[--flows N] [--size BYTES] [--scale 0|1] [--tcp 0|1] [--out DIR]
 *		[--only DIRECTION/CONFIG]	(that case alone, for perf record)
 *		[--dispatcher 0|1]	(0: tgen not kept in the XDP dispatcher)
 *		[--call FRAMES]		(frames per BPF_PROG_RUN call, 32768)
 *
 *   gen:  eth0, the external peer ----- xdnx0 gw xdni0 ----- eth0 host H1
 *
 * The generator (bench/tgen.bpf.c) runs by BPF_PROG_RUN with live frames in
 * the sending namespace (gen inbound, host outbound) and XDP_TX's every
 * frame out of its veth, into the gateway's NIC. Everything downstream runs
 * on the generator's CPU too, in the softirq that follows each batch: the
 * gateway and the sink (bench/sink.bpf.c) on the far NIC, which counts per
 * CPU and drops. Mpps = frames counted by the sink / wall time between two
 * reads of its counters, while the generator runs; the generator's own rate
 * and the difference (frames lost on the way) are printed with it.
 *
 * Configurations (XDP attached by this program in the gw namespace):
 *   ceiling  bench/ref_redirect.bpf.c's ref_redirect_map on each gateway NIC,
 *	      to the other NIC through the gateway's devmap: no parsing;
 *   xdnat    gw_ext on xdnx0, gw_int on xdni0, loaded as in tests/lib's rig
 *	      (maps unpinned, filled as xdnatd fills them: H1's MAC resolved,
 *	      so gw_ext takes its fast path);
 *   linux    no XDP in gw: the kernel forwards, with the nft rules the
 *	      script loaded (dnat of ESP and UDP to H1 inbound, masquerade
 *	      outbound: conntrack on every packet). The sink then counts in tc
 *	      ingress instead of XDP (sink.bpf.c says why);
 *   direct   a reference, no gateway: the sinks on the gateway's NICs, so
 *	      the frames stop one hop earlier (printed, not in live.tsv);
 *   minimal  the ceiling's gateway and sinks with the barest generator
 *	      (tgen's TGEN_BARE: flow 0's frame, no per-frame rewrite): the
 *	      minimal rig of issue 16, which the ceiling should be within 10%
 *	      of (printed, not in live.tsv).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bench_stats.h"
#include "bpf_rig.h"
#include "tgen.skel.h"
#include "sink.skel.h"
#include "ref_redirect.skel.h"

#define MAX_ROUNDS	15
#define WARM_S		0.2		/* generated, not counted, after a switch */
#define SCALE_PEER	0x64400000u	/* 100.64.0.0: peer of SA k is + k */
#define SCALE_SPI	0x00100000u	/* SPI of SA k is + k */
#define OUT_PEER	0x64800000u	/* 100.128.0.0: outbound flow k's peer + k */
#define SRC_PORT	1024		/* inbound flow k's source port + k */
#define SPI_BLOCK	32u
#define SA_MAX		(1024u * 1024u + 1024u)	/* scale maps: 1M + the world */

/* tgen.bpf.c's layouts (its `layout` global) */
enum tgen_layout { TGEN_ESP, TGEN_L4, TGEN_IPIP, TGEN_OUT, TGEN_BARE };

enum dir { IN_ESP, IN_UDP, OUT, IN_TCP, N_DIRS };
/* DIRECT, MINIMAL: references, not gateways (printed, not in live.tsv) */
enum conf { CEILING, XDNAT, LINUX, DIRECT, MINIMAL, N_CONFS };

static const char *const dir_names[N_DIRS] = {
	"inbound_esp", "inbound_udp", "outbound", "inbound_tcp" };
static const char *const conf_names[N_CONFS] = { "ceiling", "xdnat", "linux", "direct",
						     "minimal" };
static const uint32_t scale_sas[] = { 1024, 65536, 1024 * 1024 };
#define N_SCALE		(sizeof(scale_sas) / sizeof(scale_sas[0]))

/* options */
static unsigned int rounds = 5;
static double seconds = 1.0;
static uint32_t flows = 1024;
static unsigned int size = 60;
static bool do_scale = true, do_tcp;
static uint32_t gen_call = 32768;	/* frames per BPF_PROG_RUN call */
static bool keep_dispatcher = true;	/* --dispatcher 0: the old rig, to compare */
static const char *out_dir;
static int only_dir = -1, only_conf = -1;	/* --only DIR/CONFIG: for perf */

/* namespaces (fds) and the NICs in them */
static int ns_gen, ns_gw, ns_host;
static int gen_if, host_if, ext_if, int_if;

static struct tgen *tg;
static struct sink *sink_host, *sink_gen;	/* counting inbound, outbound */
static struct ref_redirect *red_in, *red_out;
static struct rig live, scale[N_SCALE];

/* sink.bpf.c's per-CPU value */
struct sink_value {
	uint64_t packets;
	uint64_t bytes;
};

/* what one measurement saw */
struct sample {
	double mpps;			/* at the sink */
	double gen_mpps;		/* the generator's */
	double lost;			/* sent - counted */
};

static void die(const char *what)
{
	fprintf(stderr, "live_bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ---- namespaces and NICs ------------------------------------------------- */

static int ns_open(const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die(path);
	return fd;
}

/* Network namespace of this thread: ifindexes, netlink and test runs
 * (the generator's ingress_ifindex) are all resolved in it. */
static void enter(int ns)
{
	if (setns(ns, CLONE_NEWNET))
		die("setns");
}

/* ifindex of dev in the current namespace, which must carry mac: the
 * templates and the gateway's values are built with the rig's MACs. */
static int nic(const char *dev, const uint8_t *mac)
{
	struct ifreq ifr;
	int fd, ifx = (int)if_nametoindex(dev);

	if (!ifx)
		die(dev);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || ioctl(fd, SIOCGIFHWADDR, &ifr))
		die("SIOCGIFHWADDR");
	close(fd);
	if (memcmp(ifr.ifr_hwaddr.sa_data, mac, 6)) {
		fprintf(stderr, "live_bench: %s: not the rig's MAC (bench/live_bench.sh sets it)\n",
			dev);
		exit(1);
	}
	return ifx;
}

/* prog < 0: detach. Native mode: veth has it. */
static void xdp_set(int ifindex, int prog)
{
	int rc = prog < 0 ? bpf_xdp_detach(ifindex, XDP_FLAGS_DRV_MODE, NULL)
			  : bpf_xdp_attach(ifindex, prog, XDP_FLAGS_DRV_MODE, NULL);

	if (rc) {
		errno = -rc;
		die("XDP attach");
	}
}

/*
 * Keeps tgen in the kernel's XDP dispatcher: a test run with live frames
 * adds its program to the dispatcher and removes it at the end, with a
 * synchronize_rcu() each way unless the program is attached somewhere
 * (then only a reference count moves). Without this, two grace periods
 * per BPF_PROG_RUN call (a few ms on this VM) left the CPU idle most of
 * the time: the rig measured 1.0-1.3 Mpps whatever the gateway did.
 * Generic XDP on lo of the generator's namespace: nothing travels on it.
 */
static void pin_dispatcher(int on)
{
	int lo = (int)if_nametoindex("lo"), rc;

	if (!lo)
		die("lo");
	rc = on ? bpf_xdp_attach(lo, bpf_program__fd(tg->progs.tgen), XDP_FLAGS_SKB_MODE, NULL)
		: bpf_xdp_detach(lo, XDP_FLAGS_SKB_MODE, NULL);
	if (rc) {
		errno = -rc;
		die("tgen on lo");
	}
}

static void tc_sink(int ifindex, const struct sink *s)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, o, .prog_fd = bpf_program__fd(s->progs.sink_tc));
	int rc = bpf_tc_hook_create(&hook);

	if ((rc && rc != -EEXIST) || (rc = bpf_tc_attach(&hook, &o))) {
		errno = -rc;
		die("tc attach");
	}
}

/* ---- the gateway's maps --------------------------------------------------- */

/* gw_ext + gw_int with their own maps: the standard world of the tests'
 * rig (H1 holds port 20000), H1's MAC resolved, n_sas SAs of H1's. */
static void open_gateway(struct rig *r, uint32_t sa_max, uint32_t n_sas)
{
	double t0 = now();

	if (rig_open(r, sa_max))
		die("loading gw_ext/gw_int");
	if (rig_world(r) || rig_set_host_mac(r, H1, CID1, H1_MAC))
		die("the standard world");
	if (rig_add_sas(r, n_sas, SCALE_SPI, SCALE_PEER, SPI_BLOCK, false))
		die("installing the SAs");
	printf("gateway with %u SAs (xdnat_sa max_entries %u) loaded in %.2f s\n", n_sas,
	       sa_max ? sa_max : XDNAT_MAX_SA, now() - t0);
}

static struct ref_redirect *open_redirect(int to_ifindex)
{
	struct ref_redirect *red = ref_redirect__open();

	if (!red)
		die("ref_redirect open");
	red->rodata->int_ifindex = (uint32_t)to_ifindex;
	/* the live gateway's devmap (xdnat_tx): both NICs are in it */
	if (rig_share_maps(&live, red->obj) || ref_redirect__load(red))
		die("ref_redirect load");
	return red;
}

/* ---- configurations ------------------------------------------------------- */

/* XDP of the gw NICs and the sinks for configuration c (gateway r for xdnat). */
static void apply(enum conf c, const struct rig *r)
{
	int ext = -1, in = -1;

	if (c == CEILING || c == MINIMAL) {
		ext = bpf_program__fd(red_in->progs.ref_redirect_map);
		in = bpf_program__fd(red_out->progs.ref_redirect_map);
	} else if (c == XDNAT) {
		ext = r->ext_fd;
		in = r->int_fd;
	} else if (c == DIRECT) {
		/* the sinks on the gateway's NICs: one hop less */
		ext = bpf_program__fd(sink_host->progs.sink_xdp);
		in = bpf_program__fd(sink_gen->progs.sink_xdp);
	}
	enter(ns_gw);
	xdp_set(ext_if, ext);
	xdp_set(int_if, in);
	/* a redirect into a veth needs XDP on its peer: the XDP sinks; the
	 * kernel's skbs go to the tc sinks (attached for good) */
	enter(ns_host);
	xdp_set(host_if, c == LINUX ? -1 : bpf_program__fd(sink_host->progs.sink_xdp));
	enter(ns_gen);
	xdp_set(gen_if, c == LINUX ? -1 : bpf_program__fd(sink_gen->progs.sink_xdp));
}

/* ---- the generator ------------------------------------------------------- */

static struct frame frame;		/* data_in of the test runs */

static void put_tmpl(size_t hdr_len)
{
	size_t words = (hdr_len + 7) / 8;

	if (words > sizeof(tg->bss->tmpl) / 8 || words * 8 > frame.len) {
		fprintf(stderr, "live_bench: %zu-byte headers, %zu-byte frame: no fit\n",
			hdr_len, frame.len);
		exit(2);
	}
	memset(tg->bss->tmpl, 0, sizeof(tg->bss->tmpl));
	memcpy(tg->bss->tmpl, frame.b, words * 8);
	tg->bss->words = (uint32_t)words;
}

/* TCP checksum of the segment at l4 (len bytes) from src to dst (be). */
static uint16_t tcp_csum(uint32_t src, uint32_t dst, const uint8_t *l4, size_t len)
{
	uint8_t buf[12 + 256];

	memcpy(buf, &src, 4);
	memcpy(buf + 4, &dst, 4);
	buf[8] = 0;
	buf[9] = P_TCP;
	be16(buf + 10, (uint16_t)len);
	memcpy(buf + 12, l4, len);
	return inet_csum(buf, 12 + len);
}

/*
 * Frames of direction d for configuration c: flow 0 in the template, n
 * flows (a power of two) from SA / address index `first`, permuted if
 * spread. Returns the program to run; sets the frame (its size) too.
 */
static int set_frames(enum dir d, enum conf c, uint32_t n, bool spread, uint32_t first)
{
	uint8_t l4[256], pay[256], inner[256];
	uint32_t peer = SCALE_PEER + first;
	/* the IPIP frames need 62 bytes at least: 64 for all outbound */
	unsigned int sz = d == OUT && size < 64 ? 64 : size;
	size_t len, hdr;

	memset(pay, 0x5a, sizeof(pay));
	memset(tg->bss, 0, sizeof(*tg->bss));
	tg->bss->flow_mask = n - 1;
	tg->bss->spread = spread;
	switch (d) {
	case IN_ESP:		/* SPI, 4-byte sequence, then "ciphertext" */
		to_g(&frame, htonl(peer), P_ESP, l4, esp(l4, SCALE_SPI + first, 1, size - 42));
		tg->bss->addr_base = peer;
		tg->bss->spi_base = SCALE_SPI + first;
		hdr = 42;
		tg->bss->layout = TGEN_ESP;
		break;
	case IN_UDP:
		to_g(&frame, htonl(peer), P_UDP, l4,
		     udp(l4, SRC_PORT, H1_PORT, pay, size - 42));
		tg->bss->addr_base = peer;
		tg->bss->port_base = SRC_PORT;
		hdr = 42;
		tg->bss->layout = TGEN_L4;
		break;
	case IN_TCP:		/* a SYN with a valid checksum, padded */
		len = tcp(l4, SRC_PORT, H1_PORT);
		memcpy(l4 + len, pay, size - 54);
		len += size - 54;
		be16(l4 + 16, tcp_csum(htonl(peer), G, l4, len));
		to_g(&frame, htonl(peer), P_TCP, l4, len);
		tg->bss->addr_base = peer;
		tg->bss->port_base = SRC_PORT;
		tg->bss->tcp = 1;
		hdr = 54;
		tg->bss->layout = TGEN_L4;
		break;
	default:		/* OUT: from H1's port 20000 to flow k's peer */
		tg->bss->addr_base = OUT_PEER + first;
		tg->bss->port_base = SRC_PORT;
		if (c == LINUX) {
			/* no tunnel: what a host behind a NAT sends */
			struct ip4 h = { .src = H1, .dst = htonl(OUT_PEER + first),
					 .proto = P_UDP, .id = 0x2222, .frag = 0x4000 };

			len = udp(l4, H1_PORT, SRC_PORT, pay, sz - 42);
			eth(&frame, INT_MAC, H1_MAC, ETH_IP);
			len = ip4(inner, &h, l4, len);
			append(&frame, inner, len);
			hdr = 42;
			tg->bss->layout = TGEN_OUT;
		} else {
			/* IPIP, outer H1 -> Gi, inner G -> peer: as xdnat-host sends */
			len = udp(l4, H1_PORT, SRC_PORT, pay, sz - 62);
			len = from_g(inner, G, htonl(OUT_PEER + first), P_UDP, l4, len);
			from_host(&frame, H1_MAC, H1, inner, len);
			hdr = 62;
			tg->bss->layout = TGEN_IPIP;
		}
		break;
	}
	if (frame.len != sz)
		abort();		/* a bug in the sizes above */
	put_tmpl(hdr);
	if (c == MINIMAL)
		tg->bss->layout = TGEN_BARE;
	return bpf_program__fd(tg->progs.tgen);
}

/*
 * The generator's frames checked before anything is measured: plain test
 * runs (the frame comes back) of flows 0..7 of every layout, each with a
 * valid IPv4 checksum on every header, the TCP one too, and the flow's
 * address where it belongs. A wrong checksum would be dropped by Linux but
 * not by XDP, and the comparison would be off.
 */
static void check_frames(void)
{
	static const struct { enum dir d; enum conf c; } kinds[] = {
		{ IN_ESP, XDNAT }, { IN_UDP, XDNAT }, { IN_TCP, XDNAT }, { OUT, XDNAT },
		{ OUT, LINUX },
	};
	uint8_t out[FRAME_MAX];
	unsigned int i, k;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		int prog = set_frames(kinds[i].d, kinds[i].c, flows, true, 0);
		/* the IPv4 header the flow varies, and where its address sits */
		size_t ip = kinds[i].d == OUT && kinds[i].c != LINUX ? 34 : 14;
		size_t addr = ip + (kinds[i].d == OUT ? 16 : 12);

		for (k = 0; k < 8; k++) {
			uint32_t olen, flow = (k * 0x9e3779b1u) & (flows - 1), a;
			int act = rig_run(prog, 0, frame.b, (uint32_t)frame.len, out, sizeof(out),
					  &olen, 1, NULL);
			bool ok = act == XDP_TX && olen == frame.len &&
				  !inet_csum(out + 14, 20) && !inet_csum(out + ip, 20);

			memcpy(&a, out + addr, 4);
			ok = ok && ntohl(a) == tg->bss->addr_base + flow;
			if (kinds[i].d == IN_TCP) {
				uint32_t src, dst;

				memcpy(&src, out + ip + 12, 4);
				memcpy(&dst, out + ip + 16, 4);
				ok = ok && !tcp_csum(src, dst, out + ip + 20, frame.len - ip - 20);
			}
			if (!ok) {
				fprintf(stderr, "live_bench: tgen: bad %s frame of flow %u\n",
					dir_names[kinds[i].d], flow);
				hexdump("frame", out, olen < sizeof(out) ? olen : sizeof(out));
				exit(1);
			}
		}
	}
	printf("generator frames checked: IPv4 and TCP checksums, flow addresses\n");
}

static uint64_t sink_read(const struct sink *s)
{
	int ncpus = libbpf_num_possible_cpus(), i;
	struct sink_value *v;
	uint32_t key = 0;
	uint64_t sum = 0;

	v = calloc((size_t)ncpus, sizeof(*v));
	if (!v || bpf_map_lookup_elem(bpf_map__fd(s->maps.sink_count), &key, v))
		die("reading the sink");
	for (i = 0; i < ncpus; i++)
		sum += v[i].packets;
	free(v);
	return sum;
}

/* n live frames of prog out of ifindex (the current namespace's). */
static void generate(int prog, int ifindex, uint32_t n)
{
	struct xdp_md ctx = { .data_end = (uint32_t)frame.len,
			      .ingress_ifindex = (uint32_t)ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame.b,
		    .data_size_in = (uint32_t)frame.len, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = n,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);

	if (bpf_prog_test_run_opts(prog, &o))
		die("BPF_PROG_RUN (live frames)");
}

/* Generates for s seconds after a warm-up; what the sink counted. */
static struct sample run_for(enum dir d, int prog, double s)
{
	const struct sink *snk = d == OUT ? sink_gen : sink_host;
	int ifindex = d == OUT ? host_if : gen_if;
	struct sample r;
	uint64_t c0, c1, sent = 0;
	double t0, t1;

	enter(d == OUT ? ns_host : ns_gen);
	t0 = now();
	while (now() - t0 < WARM_S)
		generate(prog, ifindex, gen_call);
	c0 = sink_read(snk);
	t0 = now();
	do {
		generate(prog, ifindex, gen_call);
		sent += gen_call;
		t1 = now();
	} while (t1 - t0 < s);
	c1 = sink_read(snk);
	r.mpps = (double)(c1 - c0) / (t1 - t0) / 1e6;
	r.gen_mpps = (double)sent / (t1 - t0) / 1e6;
	r.lost = (double)sent - (double)(c1 - c0);
	return r;
}

/* ---- program run time (bpf_stats) ------------------------------------------ */

struct prog_time {
	uint64_t ns, cnt;
};

static struct prog_time prog_time(int fd)
{
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);
	struct prog_time t;

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		die("bpf_obj_get_info_by_fd");
	t.ns = info.run_time_ns;
	t.cnt = info.run_cnt;
	return t;
}

static double per_run(struct prog_time a, struct prog_time b)
{
	return b.cnt > a.cnt ? (double)(b.ns - a.ns) / (double)(b.cnt - a.cnt) : 0;
}

/*
 * One run with the kernel's per-program run time on (BPF_ENABLE_STATS:
 * two clock reads around every program, so the rate is lower than without):
 * ns per run of the generator, the gateway's program on the receiving NIC
 * and the sink; *wall: ns per packet of the whole run at the sink.
 */
static void run_timed(enum dir d, enum conf c, int gen, int gw, double s, double ns[3],
		      double *wall)
{
	const struct sink *snk = d == OUT ? sink_gen : sink_host;
	int snk_fd = bpf_program__fd(c == LINUX ? snk->progs.sink_tc : snk->progs.sink_xdp);
	struct prog_time a[3], b[3];
	int fds[3] = { gen, gw, snk_fd }, stats, i;
	struct sample r;

	stats = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (stats < 0)
		die("BPF_ENABLE_STATS");
	for (i = 0; i < 3; i++)
		a[i] = fds[i] >= 0 ? prog_time(fds[i]) : (struct prog_time){ 0, 0 };
	r = run_for(d, gen, s);
	for (i = 0; i < 3; i++) {
		b[i] = fds[i] >= 0 ? prog_time(fds[i]) : (struct prog_time){ 0, 0 };
		ns[i] = per_run(a[i], b[i]);
	}
	close(stats);
	*wall = r.mpps > 0 ? 1e3 / r.mpps : 0;
}

/* ---- statistics ------------------------------------------------------------ */

static double median(const double *v, unsigned int n)
{
	return bench_median(v, n);
}

static double vmin(const double *v, unsigned int n)
{
	double m = v[0];
	unsigned int i;

	for (i = 1; i < n; i++)
		m = v[i] < m ? v[i] : m;
	return m;
}

static double vmax(const double *v, unsigned int n)
{
	double m = v[0];
	unsigned int i;

	for (i = 1; i < n; i++)
		m = v[i] > m ? v[i] : m;
	return m;
}

/* ---- the two parts --------------------------------------------------------- */

static struct sample live_res[N_DIRS][N_CONFS][MAX_ROUNDS];

static unsigned int n_dirs(void)
{
	return do_tcp ? N_DIRS : IN_TCP;
}

static void live_part(void)
{
	unsigned int r, d, i;

	printf("\nlive: %u rounds; each round runs every direction in every configuration,\n"
	       "the configurations in turn (their order rotating by round); %.1f s counted\n"
	       "per run after %.1f s of warm-up; %u flows\n\n", rounds, seconds, WARM_S, flows);
	for (r = 0; r < rounds; r++) {
		for (d = 0; d < n_dirs(); d++) {
			for (i = 0; i < N_CONFS; i++) {
				enum conf c = (enum conf)((i + r) % N_CONFS);
				struct sample *s = &live_res[d][c][r];
				int prog;

				if ((only_dir >= 0 && d != (unsigned int)only_dir) ||
				    (only_conf >= 0 && (int)c != only_conf))
					continue;

				apply(c, &live);
				prog = set_frames((enum dir)d, c, flows, true, 0);
				*s = run_for((enum dir)d, prog, seconds);
				printf("  round %u  %-12s %-8s %6.3f Mpps at the sink, "
				       "generator %6.3f Mpps, lost %.0f\n", r + 1, dir_names[d],
				       conf_names[c], s->mpps, s->gen_mpps, s->lost);
			}
		}
	}
}

/* The gateway program that receives direction d's frames in configuration c. */
static int gw_prog(enum dir d, enum conf c, const struct rig *r)
{
	if (c == CEILING || c == MINIMAL)
		return bpf_program__fd(d == OUT ? red_out->progs.ref_redirect_map
						: red_in->progs.ref_redirect_map);
	if (c == XDNAT)
		return d == OUT ? r->int_fd : r->ext_fd;
	return -1;
}

static void breakdown(void)
{
	unsigned int d, c;

	printf("\nwhere the time goes: one more run of each, with the kernel's per-program\n"
	       "run time on (BPF_ENABLE_STATS; its clock reads slow every program down);\n"
	       "ns per packet; rest = the kernel around the programs (veth rings, redirect,\n"
	       "page pool, NAPI; for linux the whole stack)\n\n");
	printf("  %-12s %-8s %8s %8s %8s %8s %8s\n", "direction", "config", "wall", "tgen",
	       "gateway", "sink", "rest");
	for (d = 0; d < n_dirs(); d++) {
		for (c = 0; c < N_CONFS; c++) {
			double ns[3], wall;
			int gen;

			apply((enum conf)c, &live);
			gen = set_frames((enum dir)d, (enum conf)c, flows, true, 0);
			run_timed((enum dir)d, (enum conf)c, gen, gw_prog((enum dir)d, (enum conf)c, &live),
				  seconds, ns, &wall);
			printf("  %-12s %-8s %8.1f %8.1f %8.1f %8.1f %8.1f\n", dir_names[d],
			       conf_names[c], wall, ns[0], ns[1], ns[2],
			       wall - ns[0] - ns[1] - ns[2]);
		}
	}
}

static void live_report(FILE *tsv)
{
	unsigned int d, c, r;

	printf("\nMpps at the sink (median of %u runs, min-max), generator's Mpps and frames\n"
	       "lost (medians); frames: %u bytes inbound, %u outbound\n\n", rounds, size,
	       size < 64 ? 64 : size);
	printf("  %-12s %-8s %8s %17s %9s %10s\n", "direction", "config", "Mpps", "min-max",
	       "gen Mpps", "lost");
	for (d = 0; d < n_dirs(); d++) {
		for (c = 0; c < N_CONFS; c++) {
			double v[MAX_ROUNDS] = { 0 }, g[MAX_ROUNDS] = { 0 }, l[MAX_ROUNDS] = { 0 };

			for (r = 0; r < rounds; r++) {
				v[r] = live_res[d][c][r].mpps;
				g[r] = live_res[d][c][r].gen_mpps;
				l[r] = live_res[d][c][r].lost;
			}
			printf("  %-12s %-8s %8.3f %8.3f-%-8.3f %9.3f %10.0f\n", dir_names[d],
			       conf_names[c], median(v, rounds), vmin(v, rounds), vmax(v, rounds),
			       median(g, rounds), median(l, rounds));
			/* the agreed rows only (make bench-report plots them) */
			if (tsv && d != IN_TCP && c != DIRECT && c != MINIMAL)
				fprintf(tsv, "%s\t%s\t%.3f\t%.3f\t%.3f\t%u\n", dir_names[d],
					conf_names[c], median(v, rounds), vmin(v, rounds),
					vmax(v, rounds), rounds);
		}
	}
	printf("\n(direct: no gateway, the generator into a sink on the gateway's NIC;\n"
	       "minimal: the ceiling with a generator that rewrites nothing, one flow)\n");
	printf("\nratios (median of the per-round ratios: the runs of one round are\n"
	       "back to back)\n\n");
	printf("  %-12s %14s %8s %14s %8s\n", "direction", "xdnat/ceiling", "target",
	       "xdnat/linux", "target");
	for (d = 0; d < n_dirs(); d++) {
		double a[MAX_ROUNDS] = { 0 }, b[MAX_ROUNDS] = { 0 }, x, y;

		for (r = 0; r < rounds; r++) {
			a[r] = live_res[d][XDNAT][r].mpps / live_res[d][CEILING][r].mpps;
			b[r] = live_res[d][XDNAT][r].mpps / live_res[d][LINUX][r].mpps;
		}
		x = median(a, rounds);
		y = median(b, rounds);
		printf("  %-12s %13.2fx %3s %-4s %13.2fx %3s %-4s\n", dir_names[d], x, ">=0.8",
		       x >= 0.8 ? "PASS" : "MISS", y, ">=5", y >= 5 ? "PASS" : "MISS");
	}
	/* the rig itself: issue 16's checks that it measures the gateway */
	printf("\nthe rig: ceiling within 10%% of the minimal rig, direct above the ceiling\n\n");
	printf("  %-12s %16s %8s %16s %8s\n", "direction", "ceiling/minimal", "target",
	       "direct/ceiling", "target");
	for (d = 0; d < n_dirs(); d++) {
		double a[MAX_ROUNDS] = { 0 }, b[MAX_ROUNDS] = { 0 }, x, y;

		for (r = 0; r < rounds; r++) {
			a[r] = live_res[d][CEILING][r].mpps / live_res[d][MINIMAL][r].mpps;
			b[r] = live_res[d][DIRECT][r].mpps / live_res[d][CEILING][r].mpps;
		}
		x = median(a, rounds);
		y = median(b, rounds);
		printf("  %-12s %15.2fx %3s %-4s %15.2fx %3s %-4s\n", dir_names[d], x, ">=0.9",
		       x >= 0.9 ? "PASS" : "MISS", y, ">1", y > 1 ? "PASS" : "MISS");
	}
}

static void scale_part(FILE *tsv)
{
	double mpps[N_SCALE][2][MAX_ROUNDS], ns[N_SCALE][2][MAX_ROUNDS];
	double floor_ns[N_SCALE][2][MAX_ROUNDS];
	unsigned int r, e, f;

	printf("\nscale: gw_ext, inbound validated ESP, %u-byte frames, with 1K, 64K and 1M\n"
	       "SAs installed (each its own SPI and validated peer; xdnat_sa max_entries %u\n"
	       "in all three); one flow (the middle SA) or spread (every installed SA in turn,\n"
	       "permuted); the sizes and flows in turn in every round, %.1f s counted each,\n"
	       "then a run with BPF_ENABLE_STATS for gw_ext's own ns per packet\n\n", size,
	       SA_MAX, seconds);
	for (r = 0; r < rounds; r++) {
		for (e = 0; e < N_SCALE; e++) {
			for (f = 0; f < 2; f++) {
				uint32_t n = scale_sas[e];
				int gen, gw = scale[e].ext_fd;
				double t[3], wall;
				struct sample s;

				apply(XDNAT, &scale[e]);
				gen = set_frames(IN_ESP, XDNAT, f ? n : 1, f, f ? 0 : n / 2);
				s = run_for(IN_ESP, gen, seconds);
				run_timed(IN_ESP, XDNAT, gen, gw, seconds / 2, t, &wall);
				mpps[e][f][r] = s.mpps;
				ns[e][f][r] = t[1];
				floor_ns[e][f][r] = t[2];
				printf("  round %u  %7u SAs %-6s %6.3f Mpps at the sink, generator "
				       "%6.3f, lost %.0f; gw_ext %6.1f ns/pkt\n", r + 1, n,
				       f ? "spread" : "one", s.mpps, s.gen_mpps, s.lost, t[1]);
			}
		}
	}
	printf("\n(gw_ext ns: its run time per packet by BPF_ENABLE_STATS, median; sink ns:\n"
	       "the sink's in the same runs, a program of a few instructions: what the\n"
	       "statistics' clock reads cost; wall ns/pkt: 1000 / Mpps, the whole pipeline)\n");
	printf("\n  %8s %-6s %10s %8s %9s %17s %12s\n", "SAs", "flows", "gw_ext ns", "sink ns",
	       "Mpps", "min-max", "wall ns/pkt");
	for (e = 0; e < N_SCALE; e++) {
		for (f = 0; f < 2; f++) {
			double m = median(mpps[e][f], rounds), x = median(ns[e][f], rounds);

			printf("  %8u %-6s %10.1f %8.1f %9.3f %8.3f-%-8.3f %12.1f\n", scale_sas[e],
			       f ? "spread" : "one", x, median(floor_ns[e][f], rounds), m,
			       vmin(mpps[e][f], rounds),
			       vmax(mpps[e][f], rounds), 1e3 / m);
			if (tsv)
				fprintf(tsv, "%u\t%s\t%.1f\t%.3f\n", scale_sas[e],
					f ? "spread" : "one", x, m);
		}
	}
}

/* ---- main ------------------------------------------------------------------ */

static FILE *tsv_open(const char *name, char *tmp, size_t n, const char *header)
{
	struct utsname u;
	char date[32];
	time_t t = time(NULL);
	FILE *f;

	if (!out_dir)
		return NULL;
	snprintf(tmp, n, "%s/.%s.tmp", out_dir, name);
	f = fopen(tmp, "w");
	if (!f)
		die(tmp);
	uname(&u);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	fprintf(f, "# %s kernel %s bash bench/live_bench.sh (rounds %u, %.1f s per run, "
		"%u flows, frames %u bytes inbound, %u outbound)\n%s\n", date, u.release, rounds,
		seconds, flows, size, size < 64 ? 64 : size, header);
	return f;
}

static void tsv_close(FILE *f, const char *tmp, const char *name)
{
	char path[512];

	if (!f)
		return;
	snprintf(path, sizeof(path), "%s/%s", out_dir, name);
	if (fclose(f) || rename(tmp, path))
		die(path);
	printf("wrote %s\n", path);
}

static void usage(void);

/* DIRECTION/CONFIG, e.g. inbound_esp/xdnat: that alone, nothing written */
static void parse_only(const char *arg)
{
	int i;

	for (i = 0; i < N_DIRS; i++)
		if (!strncmp(arg, dir_names[i], strlen(dir_names[i])) &&
		    arg[strlen(dir_names[i])] == '/')
			only_dir = i;
	for (i = 0; only_dir >= 0 && i < N_CONFS; i++)
		if (!strcmp(arg + strlen(dir_names[only_dir]) + 1, conf_names[i]))
			only_conf = i;
	if (only_conf < 0)
		usage();
	do_scale = false;
	do_tcp = do_tcp || only_dir == IN_TCP;
	out_dir = NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: live_bench --gen NS --gw NS --host NS [--rounds N (1..%d)] "
		"[--seconds S] [--flows N (power of 2)] [--size BYTES (60..256)] "
		"[--scale 0|1] [--tcp 0|1] [--out DIR] [--only DIRECTION/CONFIG] "
		"[--dispatcher 0|1] [--call FRAMES]\n", MAX_ROUNDS);
	exit(2);
}

static void parse(int argc, char **argv, const char **gen, const char **gw, const char **host)
{
	static const struct option opts[] = {
		{ "gen", required_argument, NULL, 'g' },
		{ "gw", required_argument, NULL, 'w' },
		{ "host", required_argument, NULL, 'h' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "seconds", required_argument, NULL, 's' },
		{ "flows", required_argument, NULL, 'f' },
		{ "size", required_argument, NULL, 'b' },
		{ "scale", required_argument, NULL, 'S' },
		{ "tcp", required_argument, NULL, 'T' },
		{ "out", required_argument, NULL, 'o' },
		{ "only", required_argument, NULL, 'O' },
		{ "dispatcher", required_argument, NULL, 'D' },
		{ "call", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'g': *gen = optarg; break;
		case 'w': *gw = optarg; break;
		case 'h': *host = optarg; break;
		case 'r': rounds = (unsigned int)atoi(optarg); break;
		case 's': seconds = atof(optarg); break;
		case 'f': flows = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'b': size = (unsigned int)atoi(optarg); break;
		case 'S': do_scale = atoi(optarg) != 0; break;
		case 'T': do_tcp = atoi(optarg) != 0; break;
		case 'o': out_dir = optarg; break;
		case 'O': parse_only(optarg); break;
		case 'C': gen_call = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'D': keep_dispatcher = atoi(optarg) != 0; break;
		default: usage();
		}
	}
	/* flows index SAs installed from 0: at most the live gateway's */
	if (!*gen || !*gw || !*host || rounds < 1 || rounds > MAX_ROUNDS || seconds < 0.1 ||
	    !flows || (flows & (flows - 1)) || !gen_call || flows > 65536 || size < 60 || size > 256)
		usage();
}

int main(int argc, char **argv)
{
	const char *gen = NULL, *gw = NULL, *host = NULL;
	char live_tmp[512], scale_tmp[512];
	FILE *live_tsv, *scale_tsv;
	unsigned int i;

	parse(argc, argv, &gen, &gw, &host);
	setvbuf(stdout, NULL, _IOLBF, 0);
	ns_gen = ns_open(gen);
	ns_gw = ns_open(gw);
	ns_host = ns_open(host);

	enter(ns_gen);
	gen_if = nic("eth0", PEER_MAC);
	enter(ns_host);
	host_if = nic("eth0", H1_MAC);
	enter(ns_gw);
	ext_if = nic(EXT_DEV, EXT_MAC);
	int_if = nic(INT_DEV, INT_MAC);

	/* gateways: the live one as xdnatd builds it by default, the scale ones
	 * with room for 1M SAs (rig_open looks the NICs up in this namespace) */
	open_gateway(&live, 0, flows);
	red_in = open_redirect(int_if);
	red_out = open_redirect(ext_if);
	for (i = 0; do_scale && i < N_SCALE; i++)
		open_gateway(&scale[i], SA_MAX, scale_sas[i]);

	tg = tgen__open_and_load();
	sink_host = sink__open_and_load();
	sink_gen = sink__open_and_load();
	if (!tg || !sink_host || !sink_gen)
		die("loading tgen and the sinks");
	check_frames();
	enter(ns_host);
	tc_sink(host_if, sink_host);
	enter(ns_gen);
	tc_sink(gen_if, sink_gen);
	if (keep_dispatcher)
		pin_dispatcher(1);

	live_tsv = tsv_open("live.tsv", live_tmp, sizeof(live_tmp),
			    "direction\tconfig\tmpps_median\tmpps_min\tmpps_max\truns");
	live_part();
	if (only_dir >= 0)
		return 0;	/* the rig goes with the namespaces */
	live_report(live_tsv);
	breakdown();
	if (do_scale) {
		scale_tsv = tsv_open("scale.tsv", scale_tmp, sizeof(scale_tmp),
				     "entries\tflows\tns_per_pkt\tmpps");
		scale_part(scale_tsv);
		tsv_close(scale_tsv, scale_tmp, "scale.tsv");
	}
	tsv_close(live_tsv, live_tmp, "live.tsv");

	apply(LINUX, NULL);		/* XDP off everywhere; the script deletes the rig */
	enter(ns_gen);
	if (keep_dispatcher)
		pin_dispatcher(0);
	for (i = 0; do_scale && i < N_SCALE; i++)
		rig_close(&scale[i]);
	ref_redirect__destroy(red_out);
	ref_redirect__destroy(red_in);
	rig_close(&live);
	sink__destroy(sink_gen);
	sink__destroy(sink_host);
	tgen__destroy(tg);
	return 0;
}
