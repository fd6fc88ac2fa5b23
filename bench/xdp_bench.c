/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdp_bench — ns per packet of the XDP data plane by BPF_PROG_TEST_RUN, per
 * path, against minimal reference programs, and with 1M SAs installed
 * against 1K. Figures, not tests: targets are printed with PASS/MISS, the
 * exit status only says whether the bench could run.
 *
 *   xdp_bench [ROUNDS [RUNS]]		(defaults 5 and 200000; needs root)
 *
 * Runs in a private network namespace built by the tests' rig
 * (tests/lib/bpf_rig.h), with H1's and H2's MACs in their port and SA
 * values as xdnatd would write them once resolved (gw_ext's fast path; one
 * row shows the FIB fallback with a host whose MAC is not known). Every
 * figure is the kernel's own per-run duration (opts.duration), never wall
 * time around the syscall:
 *   - paths that rewrite the packet (encap, decap) and every path whose
 *     packet changes per run ("spread") run with repeat = 1, RUNS times;
 *     the figure is the mean of the fastest 99% of the runs;
 *   - drop paths with a fixed packet run RUNS times inside the kernel
 *     (repeat = RUNS, one call): the kernel reports whole ns.
 * Both sides of a ratio use the same method. Each method has a floor (the
 * timer and the loop around a program that returns at once), measured with
 * ref_drop on an ARP frame and printed, with "net" = figure less its floor:
 * what the program itself costs. Ratios (and differences) are taken per
 * round, both sides measured back to back, and reported as the median of
 * the rounds. Every round goes through every path and configuration in
 * turn, so 1K and 1M are measured alternately in the same run.
 *
 * A/B: with XDP_BENCH_VARIANT="OBJ..." (up to VAR_MAX gw_ext BPF objects
 * built from changed sources, e.g. out of the tree), each OBJ's gw_ext is
 * loaded on the 1K maps too and its forwarding paths are measured in the
 * same rounds, interleaved with the tree's, and compared with them.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bench_stats.h"
#include "bpf_rig.h"
#include "test_rng.h"
#include "ref_encap.skel.h"
#include "ref_drop.skel.h"
#include "ref_redirect.skel.h"

#define MAX_ROUNDS	15
#define VAR_MAX		4		/* XDP_BENCH_VARIANT objects */
#define VAR_PATHS	4		/* forwarding paths measured per variant */
#define HIST_NS		4096		/* per-run durations above: outliers */

/* The scale configurations, on top of the standard world: SAs (SPI, peer)
 * -> host, one peer per SPI, the SPIs in blocks of 32 in xdnat_spiblk (two
 * granules each). Both have room for 1M SAs: only what is installed differs. */
#define SMALL_SAS	1024u
#define LARGE_SAS	(1024u * 1024u)
#define SA_MAX		(LARGE_SAS + 1024u)	/* the world's SAs too */
#define SCALE_SPI	0x00100000u		/* first SPI (host order) */
#define SCALE_PEER	0x64400000u		/* 100.64.0.0 (host order) */
#define SPI_BLOCK	32u
#define UNUSED_SPI	0x40000000u		/* above every block */
#define FIB_SPI		0x00003001u		/* H4's SA, its MAC left unresolved */
#define FIB_CID		4

static const char *const act_names[] = { "ABORTED", "DROP", "PASS", "TX", "REDIRECT" };

enum flow { FLOW_FIXED, FLOW_VALID, FLOW_UNVALIDATED, FLOW_UNKNOWN };
/* LIVE_LOOP: KERNEL_LOOP with live frames (BPF_F_TEST_XDP_LIVE_FRAMES): the
 * kernel also performs the redirect the program asks for, xdp_do_redirect()
 * and the flush to the device included; the frame must not be changed. */
enum method { KERNEL_LOOP, USER_LOOP, LIVE_LOOP };

struct path {
	const char *name;
	int prog, ifindex;
	struct frame f;
	int act;			/* the verdict it must give every time */
	enum method method;
	enum flow flow;			/* what changes per run (USER_LOOP only) */
	uint32_t n_sas;			/* flows to pick from */
	double ns[MAX_ROUNDS];		/* per round */
};

static unsigned int rounds = 5;
static uint32_t runs = 200000;

/* ---- set-up ---------------------------------------------------------------- */

static void die(const char *what)
{
	fprintf(stderr, "xdp_bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void open_rig(struct rig *r, uint32_t n_sas)
{
	struct timespec t0, t1;

	if (rig_open(r, SA_MAX))
		die("loading gw_ext/gw_int");
	/* H1 and H2 with their MACs in their values, as xdnatd writes them
	 * once resolved: gw_ext's fast path; H4 without: the FIB path */
	if (rig_world(r) || rig_set_host_mac(r, H1, CID1, H1_MAC) ||
	    rig_set_host_mac(r, H2, CID2, H2_MAC) || rig_set_host(r, H4, FIB_CID) ||
	    rig_set_sa(r, FIB_SPI, PEER, FIB_CID, H4))
		die("installing the standard world");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (rig_add_sas(r, n_sas, SCALE_SPI, SCALE_PEER, SPI_BLOCK, true))
		die("installing the SAs");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("installed %u SAs (%u peers, %u SPIs in %u blocks) in %.2f s\n", n_sas, n_sas,
	       n_sas, n_sas / SPI_BLOCK,
	       (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
}

/* ---- measuring -------------------------------------------------------------- */

/* SPI at 34 and source at 26 of an Ethernet + IPv4 (ihl 5) + ESP frame. */
static void set_flow(struct frame *f, uint32_t spi, uint32_t peer)
{
	be32(f->b + 34, spi);
	be32(f->b + 26, peer);
	be16(f->b + 24, 0);
	be16(f->b + 24, inet_csum(f->b + 14, 20));
}

/* The packet of flow i (< n_sas) of the path's kind. */
static void flow_frame(struct path *p, enum flow kind, uint32_t i)
{
	switch (kind) {
	case FLOW_VALID:
		set_flow(&p->f, SCALE_SPI + i, SCALE_PEER + i);
		break;
	case FLOW_UNVALIDATED:		/* an allocated SPI, a peer it never had */
		set_flow(&p->f, SCALE_SPI + i, SCALE_PEER + p->n_sas + i);
		break;
	case FLOW_UNKNOWN:		/* spread over as many SPIs as SAs */
		set_flow(&p->f, UNUSED_SPI | ((i * 7919u) & 0x3fffffff), SCALE_PEER + i);
		break;
	default:
		break;
	}
}

static void vary(struct path *p)
{
	flow_frame(p, p->flow, rng_below(p->n_sas));
}

static void wrong_verdict(const struct path *p, int got)
{
	fprintf(stderr, "xdp_bench: %s: verdict %s (%d), expected %s\n", p->name,
		got >= 0 && got <= XDP_REDIRECT ? act_names[got] : "error", got,
		act_names[p->act]);
	exit(1);
}

/* One round of a path: ns per run as the kernel measured it. */
static double measure(struct path *p, uint32_t n)
{
	static uint32_t hist[HIST_NS];
	static uint8_t out[FRAME_MAX];
	uint64_t sum = 0, taken = 0, keep;
	uint32_t i, d, olen;
	int act;

	if (p->method == LIVE_LOOP) {
		struct xdp_md ctx = { .data_end = (uint32_t)p->f.len,
				      .ingress_ifindex = (uint32_t)p->ifindex };
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p->f.b,
			    .data_size_in = (uint32_t)p->f.len, .ctx_in = &ctx,
			    .ctx_size_in = sizeof(ctx), .repeat = n,
			    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);

		/* no verdict comes back: the frames went where it sent them */
		if (bpf_prog_test_run_opts(p->prog, &o))
			die(p->name);
		return o.duration;
	}
	if (p->method == KERNEL_LOOP) {
		act = rig_run(p->prog, p->ifindex, p->f.b, (uint32_t)p->f.len, out, sizeof(out),
			      &olen, n, &d);
		if (act != p->act)
			wrong_verdict(p, act);
		return d;
	}
	memset(hist, 0, sizeof(hist));
	for (i = 0; i < n; i++) {
		if (p->flow != FLOW_FIXED)
			vary(p);
		act = rig_run(p->prog, p->ifindex, p->f.b, (uint32_t)p->f.len, out, sizeof(out),
			      &olen, 1, &d);
		if (act != p->act)
			wrong_verdict(p, act);
		hist[d < HIST_NS ? d : HIST_NS - 1]++;
	}
	/* the mean of the fastest 99%: interrupts and migrations left out */
	keep = n - n / 100;
	for (d = 0; d < HIST_NS && taken < keep; d++) {
		uint64_t c = hist[d] < keep - taken ? hist[d] : keep - taken;

		sum += c * d;
		taken += c;
	}
	return (double)sum / (double)taken;
}

static double median(const double *v, unsigned int n)
{
	return bench_median(v, n);
}

/* ---- the paths ---------------------------------------------------------------- */

enum {
	/* floors of the two methods */
	FLOOR_USER, FLOOR_KERNEL,
	/* the main table, on the 1K configuration */
	EXT_ESP, EXT_AH, EXT_ESP_FIB, EXT_ESP_UNVALIDATED, EXT_ESP_UNKNOWN, EXT_UDP,
	INT_DECAP, REF_ENCAP, REF_DROP,
	/* scale: {fixed flow, spread flows} x {validated, unvalidated, unknown} x {1K, 1M} */
	SCALE_FIRST,
	/* the two kinds of redirect alone: devmap, ifindex; test run, live */
	REDIR_FIRST = SCALE_FIRST + 12,
	REDIR_MAP = REDIR_FIRST, REDIR_IFINDEX, REDIR_MAP_LIVE, REDIR_IFINDEX_LIVE,
	/* XDP_BENCH_VARIANT's gw_exts: the forwarding paths of the main table */
	VAR_FIRST,
	N_PATHS = VAR_FIRST + VAR_MAX * VAR_PATHS,
};

/* The tree's paths a variant is measured on, in the order of its rows. */
static const unsigned int var_twin[VAR_PATHS] = { EXT_ESP, EXT_AH, EXT_ESP_FIB, EXT_UDP };
static const char *var_file[VAR_MAX];
static unsigned int n_var;

static struct path paths[N_PATHS];

static void add(unsigned int idx, const char *name, int prog, int ifindex,
		const struct frame *f, int act, enum method m)
{
	struct path *p = &paths[idx];

	p->name = name;
	p->prog = prog;
	p->ifindex = ifindex;
	p->f = *f;
	p->act = act;
	p->method = m;
	p->flow = FLOW_FIXED;
}

static unsigned int scale_idx(unsigned int spread, unsigned int kind, unsigned int large)
{
	return SCALE_FIRST + spread * 6 + kind * 2 + large;
}

static void add_scale(const struct rig *small, const struct rig *large)
{
	static const char *const names[2][3] = {
		{ "ESP validated, one flow", "ESP unvalidated, one flow",
		  "ESP unknown SPI, one flow" },
		{ "ESP validated, spread", "ESP unvalidated, spread", "ESP unknown SPI, spread" },
	};
	static const enum flow flows[3] = { FLOW_VALID, FLOW_UNVALIDATED, FLOW_UNKNOWN };
	unsigned int spread, kind, l;
	uint8_t l4[128];
	struct frame f;

	for (spread = 0; spread < 2; spread++) {
		for (kind = 0; kind < 3; kind++) {
			for (l = 0; l < 2; l++) {
				const struct rig *r = l ? large : small;
				struct path *p = &paths[scale_idx(spread, kind, l)];
				uint32_t n = l ? LARGE_SAS : SMALL_SAS;

				to_g(&f, PEER, P_ESP, l4, esp(l4, 0, 1, 64));
				add(scale_idx(spread, kind, l), names[spread][kind], r->ext_fd,
				    r->ext_ifindex, &f, kind ? XDP_DROP : XDP_REDIRECT,
				    spread || !kind ? USER_LOOP : KERNEL_LOOP);
				p->n_sas = n;
				/* the one flow: from the middle of the table */
				flow_frame(p, flows[kind], n / 2);
				if (spread)
					p->flow = flows[kind];
			}
		}
	}
}

/* Variant v's twin of each forwarding path of the tree's gw_ext. */
static void add_variant(unsigned int v, int prog)
{
	unsigned int k;

	for (k = 0; k < VAR_PATHS; k++) {
		const struct path *t = &paths[var_twin[k]];

		/* same packet, verdict and method; the name says which object */
		add(VAR_FIRST + v * VAR_PATHS + k, t->name, prog, t->ifindex, &t->f, t->act,
		    t->method);
	}
}

static void add_redirects(const struct rig *small, const struct ref_redirect *red)
{
	int map = bpf_program__fd(red->progs.ref_redirect_map);
	int ifx = bpf_program__fd(red->progs.ref_redirect);
	const struct frame *f = &paths[EXT_ESP].f;

	add(REDIR_MAP, "bpf_redirect_map (xdnat_tx)", map, small->ext_ifindex, f, XDP_REDIRECT,
	    KERNEL_LOOP);
	add(REDIR_IFINDEX, "bpf_redirect (ifindex)", ifx, small->ext_ifindex, f, XDP_REDIRECT,
	    KERNEL_LOOP);
	add(REDIR_MAP_LIVE, "bpf_redirect_map (xdnat_tx)", map, small->ext_ifindex, f,
	    XDP_REDIRECT, LIVE_LOOP);
	add(REDIR_IFINDEX_LIVE, "bpf_redirect (ifindex)", ifx, small->ext_ifindex, f,
	    XDP_REDIRECT, LIVE_LOOP);
}

static void add_paths(const struct rig *small, const struct rig *large,
		      const struct ref_encap *enc, const struct ref_drop *drop)
{
	uint8_t l4[256], inner[256], d[64];
	struct frame f;
	size_t n;

	memset(d, 0x3c, sizeof(d));
	eth(&f, EXT_MAC, PEER_MAC, ETH_ARP);
	memset(l4, 0, 28);
	append(&f, l4, 28);
	add(FLOOR_USER, "floor: ref_drop on ARP", bpf_program__fd(drop->progs.ref_drop),
	    small->ext_ifindex, &f, XDP_PASS, USER_LOOP);
	add(FLOOR_KERNEL, "floor: ref_drop on ARP", bpf_program__fd(drop->progs.ref_drop),
	    small->ext_ifindex, &f, XDP_PASS, KERNEL_LOOP);

	to_g(&f, PEER, P_ESP, l4, esp(l4, H1_SPI, 7, 64));
	add(EXT_ESP, "gw_ext ESP validated -> host (MAC)", small->ext_fd, small->ext_ifindex, &f,
	    XDP_REDIRECT, USER_LOOP);
	add(REF_ENCAP, "ref_encap parse + encap, TX", bpf_program__fd(enc->progs.ref_encap),
	    small->ext_ifindex, &f, XDP_TX, USER_LOOP);
	to_g(&f, PEER, P_ESP, l4, esp(l4, FIB_SPI, 7, 64));
	add(EXT_ESP_FIB, "gw_ext ESP validated -> host (FIB)", small->ext_fd,
	    small->ext_ifindex, &f, XDP_REDIRECT, USER_LOOP);
	to_g(&f, PEER, P_AH, l4, ah(l4, P_UDP, H2_SPI, d, 40));
	add(EXT_AH, "gw_ext AH validated -> host (MAC)", small->ext_fd, small->ext_ifindex, &f,
	    XDP_REDIRECT, USER_LOOP);
	to_g(&f, ATTACKER, P_ESP, l4, esp(l4, H1_SPI, 7, 64));
	add(EXT_ESP_UNVALIDATED, "gw_ext ESP unvalidated peer -> drop", small->ext_fd,
	    small->ext_ifindex, &f, XDP_DROP, KERNEL_LOOP);
	add(REF_DROP, "ref_drop parse + SPI, DROP", bpf_program__fd(drop->progs.ref_drop),
	    small->ext_ifindex, &f, XDP_DROP, KERNEL_LOOP);
	to_g(&f, PEER, P_ESP, l4, esp(l4, UNKNOWN_SPI, 7, 64));
	add(EXT_ESP_UNKNOWN, "gw_ext ESP unknown SPI -> drop", small->ext_fd,
	    small->ext_ifindex, &f, XDP_DROP, KERNEL_LOOP);
	to_g(&f, PEER, P_UDP, l4, udp(l4, 500, H1_PORT, d, 64));
	add(EXT_UDP, "gw_ext UDP by port -> host (MAC)", small->ext_fd, small->ext_ifindex, &f,
	    XDP_REDIRECT, USER_LOOP);
	n = from_g(inner, G, PEER, P_UDP, l4, udp(l4, H1_PORT, 500, d, 64));
	from_host(&f, H1_MAC, H1, inner, n);
	add(INT_DECAP, "gw_int decap -> external", small->int_fd, small->int_ifindex, &f,
	    XDP_REDIRECT, USER_LOOP);
	add_scale(small, large);
}

/* ---- report -------------------------------------------------------------------- */

static double floor_of(const struct path *p, unsigned int r)
{
	return paths[p->method == USER_LOOP ? FLOOR_USER : FLOOR_KERNEL].ns[r];
}

static double med_ns(const struct path *p)
{
	return median(p->ns, rounds);
}

static double med_net(const struct path *p)
{
	double v[MAX_ROUNDS];
	unsigned int r;

	for (r = 0; r < rounds; r++)
		v[r] = p->ns[r] - floor_of(p, r);
	return median(v, rounds);
}

/* Median over the rounds of the per-round ratio a / b, or of the per-round
 * difference a - b (what a costs more). */
static double med_cmp(const struct path *a, const struct path *b, bool diff)
{
	double v[MAX_ROUNDS];
	unsigned int r;

	for (r = 0; r < rounds; r++)
		v[r] = diff ? a->ns[r] - b->ns[r] : a->ns[r] / b->ns[r];
	return median(v, rounds);
}

static const char *verdict_str(double ratio, double target)
{
	return ratio <= target ? "PASS" : "MISS";
}

static const char *method_str(const struct path *p)
{
	static const char *const names[] = { "repeat=N", "repeat=1", "live N" };

	return names[p->method];
}

static void row(const struct path *p)
{
	double lo = p->ns[0], hi = p->ns[0];
	unsigned int r;

	for (r = 1; r < rounds; r++) {
		lo = p->ns[r] < lo ? p->ns[r] : lo;
		hi = p->ns[r] > hi ? p->ns[r] : hi;
	}
	printf("  %-40s %-8s %-8s %8.1f %8.1f   %.1f-%.1f\n", p->name, act_names[p->act],
	       method_str(p), med_ns(p), med_net(p), lo, hi);
}

static void ratio_row(const char *what, const struct path *a, const struct path *b,
		      double target)
{
	double x = med_cmp(a, b, false);

	printf("  %-40s %7.2fx %+8.1f   <= %.2fx  %s\n", what, x, med_cmp(a, b, true),
	       target, verdict_str(x, target));
}

static void report(void)
{
	unsigned int i, spread, kind, v, k;

	printf("\nns per packet (median of %u rounds; net = less the floor of the method;\n"
	       "repeat=1: %u calls each, mean of the fastest 99%%; repeat=N: N = %u)\n"
	       "the SA and port values of H1 and H2 carry their MACs, as xdnatd writes them:\n"
	       "(MAC) paths and the scale table take gw_ext's fast path; H4's carry none:\n"
	       "(FIB) is the bpf_fib_lookup fallback\n\n", rounds, runs, runs);
	printf("  %-40s %-8s %-8s %8s %8s   %s\n", "path", "verdict", "method", "ns/pkt",
	       "net", "rounds min-max");
	for (i = FLOOR_USER; i < SCALE_FIRST; i++)
		row(&paths[i]);

	printf("\nratios to the reference programs (ns/pkt; medians of the per-round ratio\n"
	       "and of the per-round difference)\n\n");
	printf("  %-40s %8s %8s   %s\n", "", "ratio", "extra ns", "target");
	ratio_row("ESP validated -> host / ref_encap", &paths[EXT_ESP], &paths[REF_ENCAP], 1.5);
	ratio_row("AH validated -> host / ref_encap", &paths[EXT_AH], &paths[REF_ENCAP], 1.5);
	ratio_row("ESP unvalidated -> drop / ref_drop", &paths[EXT_ESP_UNVALIDATED],
		  &paths[REF_DROP], 1.2);
	ratio_row("ESP unknown SPI -> drop / ref_drop", &paths[EXT_ESP_UNKNOWN],
		  &paths[REF_DROP], 1.2);

	printf("\nscale: %u SAs (and SPIs, peers) installed against %u, xdnat_sa max_entries %u\n"
	       "(one flow: the same packet every run; spread: a random installed SA,\n"
	       "or random unallocated SPI, per run)\n\n", LARGE_SAS, SMALL_SAS, SA_MAX);
	printf("  %-34s %-8s %-8s %6s %6s %7s %8s   %s\n", "path", "verdict", "method",
	       "1K ns", "1M ns", "1M/1K", "extra ns", "target");
	for (spread = 0; spread < 2; spread++) {
		for (kind = 0; kind < 3; kind++) {
			const struct path *k = &paths[scale_idx(spread, kind, 0)];
			const struct path *m = &paths[scale_idx(spread, kind, 1)];
			double x = med_cmp(m, k, false);

			printf("  %-34s %-8s %-8s %6.1f %6.1f %6.2fx %+8.1f   <= 1.15x  %s\n",
			       k->name, act_names[k->act], method_str(k), med_ns(k), med_ns(m), x,
			       med_cmp(m, k, true), verdict_str(x, 1.15));
		}
	}
	printf("\nredirect to the internal NIC alone (bench/ref_redirect.bpf.c, the ESP frame,\n"
	       "N = %u): a plain test run stops at the program; with live frames the kernel\n"
	       "also redirects (xdp_do_redirect, the flush to the veth, which drops it:\n"
	       "its peer has no XDP program)\n\n", runs);
	printf("  %-40s %-8s %8s %8s   %s\n", "program", "method", "ns/pkt", "extra ns",
	       "rounds min-max");
	for (i = REDIR_FIRST; i < VAR_FIRST; i += 2) {
		const struct path *m = &paths[i], *x = &paths[i + 1];
		double lo[2] = { m->ns[0], x->ns[0] }, hi[2] = { m->ns[0], x->ns[0] };
		unsigned int r;

		for (r = 1; r < rounds; r++) {
			lo[0] = m->ns[r] < lo[0] ? m->ns[r] : lo[0];
			hi[0] = m->ns[r] > hi[0] ? m->ns[r] : hi[0];
			lo[1] = x->ns[r] < lo[1] ? x->ns[r] : lo[1];
			hi[1] = x->ns[r] > hi[1] ? x->ns[r] : hi[1];
		}
		printf("  %-40s %-8s %8.1f %8s   %.1f-%.1f\n", m->name, method_str(m), med_ns(m),
		       "", lo[0], hi[0]);
		printf("  %-40s %-8s %8.1f %+8.1f   %.1f-%.1f\n", x->name, method_str(x),
		       med_ns(x), med_cmp(x, m, true), lo[1], hi[1]);
	}
	for (v = 0; v < n_var; v++) {
		const struct path *esp = &paths[VAR_FIRST + v * VAR_PATHS];

		printf("\nA/B: variant %u, %s: its gw_ext on the same maps, measured in the\n"
		       "same rounds (ratio and difference: variant against the tree's gw_ext)\n\n",
		       v + 1, var_file[v]);
		printf("  %-40s %-8s %8s %8s %7s %8s\n", "path", "method", "ns/pkt", "net",
		       "ratio", "extra ns");
		for (k = 0; k < VAR_PATHS; k++) {
			const struct path *p = &paths[VAR_FIRST + v * VAR_PATHS + k];
			const struct path *t = &paths[var_twin[k]];

			printf("  %-40s %-8s %8.1f %8.1f %6.2fx %+8.1f\n", p->name, method_str(p),
			       med_ns(p), med_net(p), med_cmp(p, t, false), med_cmp(p, t, true));
		}
		printf("\n");
		ratio_row("ESP validated -> host / ref_encap", esp, &paths[REF_ENCAP], 1.5);
	}
}

int main(int argc, char **argv)
{
	struct bpf_object *var_obj[VAR_MAX] = { NULL };
	char *variants = NULL, *save = NULL, *file;
	struct ref_redirect *red;
	struct ref_encap *enc;
	struct ref_drop *drop;
	struct rig small, large;
	unsigned int r, i;
	int rc;

	if (argc > 1)
		rounds = (unsigned int)atoi(argv[1]);
	if (argc > 2)
		runs = (uint32_t)strtoul(argv[2], NULL, 0);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (rounds < 1 || rounds > MAX_ROUNDS || runs < 1000) {
		fprintf(stderr, "usage: xdp_bench [ROUNDS (1..%d) [RUNS (>= 1000)]]\n",
			MAX_ROUNDS);
		return 2;
	}
	rc = rig_netns();
	if (rc)
		die(rc == -1 ? "a private network namespace (root?)" : "building the rig");
	open_rig(&small, SMALL_SAS);
	open_rig(&large, LARGE_SAS);

	enc = ref_encap__open();
	if (!enc)
		die("ref_encap open");
	enc->rodata->outer_src = GI;
	enc->rodata->outer_dst = H1;
	if (rig_share_maps(&small, enc->obj) || ref_encap__load(enc))
		die("ref_encap load");
	drop = ref_drop__open_and_load();
	if (!drop)
		die("ref_drop load");
	red = ref_redirect__open();
	if (!red)
		die("ref_redirect open");
	red->rodata->int_ifindex = (uint32_t)small.int_ifindex;
	if (rig_share_maps(&small, red->obj) || ref_redirect__load(red))
		die("ref_redirect load");

	add_paths(&small, &large, enc, drop);
	add_redirects(&small, red);
	if (getenv("XDP_BENCH_VARIANT"))
		variants = strdup(getenv("XDP_BENCH_VARIANT"));
	for (file = variants ? strtok_r(variants, " ", &save) : NULL; file;
	     file = strtok_r(NULL, " ", &save)) {
		struct bpf_program *prog;
		struct bpf_object *obj;

		if (n_var == VAR_MAX) {
			fprintf(stderr, "xdp_bench: XDP_BENCH_VARIANT: at most %d objects\n",
				VAR_MAX);
			return 2;
		}
		obj = bpf_object__open_file(file, NULL);
		if (!obj || rig_share_maps(&small, obj) || bpf_object__load(obj))
			die(file);
		prog = bpf_object__find_program_by_name(obj, "gw_ext");
		if (!prog)
			die("a variant without the program gw_ext");
		var_obj[n_var] = obj;
		var_file[n_var] = file;
		add_variant(n_var++, bpf_program__fd(prog));
		printf("variant %u: %s\n", n_var, file);
	}
	rng_seed(0x62656e6368ull);

	/* warm-up: caches, branch predictors, lazily built kernel state */
	for (i = 0; i < N_PATHS; i++)
		if (paths[i].name)
			measure(&paths[i], runs / 10);
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < N_PATHS; i++)
			if (paths[i].name)
				paths[i].ns[r] = measure(&paths[i], runs);
		printf("round %u/%u done\n", r + 1, rounds);
	}
	report();

	for (i = 0; i < n_var; i++)
		bpf_object__close(var_obj[i]);
	free(variants);
	ref_redirect__destroy(red);
	ref_drop__destroy(drop);
	ref_encap__destroy(enc);
	rig_close(&large);
	rig_close(&small);
	return 0;
}
