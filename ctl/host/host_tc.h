/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The host tunnel (bpf/host_tunnel.bpf.c) on the host's interface: loaded
 * with G, Hi and Gi baked into its .rodata, attached as tc filters on the
 * clsact qdisc (egress: host_egress, ingress: host_ingress) with libbpf's tc
 * API, at a fixed handle and priority so that a later `up` replaces them and
 * `down` (even from another process) finds them.
 */
#ifndef XDNAT_HOST_TC_H
#define XDNAT_HOST_TC_H

#include <stdbool.h>
#include "xdnat.h"

#define HOST_TC_HANDLE		1
#define HOST_TC_PRIORITY	4555

struct host_tunnel;
struct kfeat_set;

struct host_tc {
	struct host_tunnel *skel;	/* NULL until attached */
};

/* What host_tunnel needs of the kernel (kfeat.h): what the object uses and
 * the optional decap flag, probed; changes nothing. 0 or -errno, logged. */
int host_tc_kernel_probe(struct kfeat_set *k);
/*
 * Load and attach on ifindex, replacing earlier host_tunnel filters. Sets
 * *created when this call created the clsact qdisc. Logs what failed.
 * Returns 0 or -errno.
 */
int host_tc_attach(struct host_tc *t, int ifindex, const struct xdnat_host_cfg *cfg,
		   bool *created);
/* Counters summed over every CPU. -ENOENT when nothing is attached. */
int host_tc_counters(const struct host_tc *t,
		     struct xdnat_counter out[XDNAT_HOST_CTR_MAX]);
/* Drop our handles; the filters stay attached (and keep the tunnel up). */
void host_tc_close(struct host_tc *t);
/* Remove our two filters from ifindex, and the clsact qdisc too when
 * destroy_clsact (only when `up` created it). Gone already is fine. */
int host_tc_detach(int ifindex, bool destroy_clsact);

/* What sits at our handle and priority on one hook, read back from the kernel. */
enum host_tc_filter {
	HOST_TC_MISSING,	/* no filter there (or no clsact qdisc at all) */
	HOST_TC_OURS,		/* the program this agent attached */
	HOST_TC_OTHER,		/* another program (another agent's, or a stale one) */
};

struct host_tc_live {
	enum host_tc_filter egress, ingress;
};

/* "missing", "ours", "other" */
const char *host_tc_filter_name(enum host_tc_filter f);
/* Query both hooks of ifindex. 0 or -errno. */
int host_tc_probe(const struct host_tc *t, int ifindex, struct host_tc_live *live);
/* Attach the programs already loaded (counters kept) on ifindex again, the
 * clsact qdisc created when missing (*created). 0 or -errno, logged. */
int host_tc_reattach(struct host_tc *t, int ifindex, bool *created);

#endif
