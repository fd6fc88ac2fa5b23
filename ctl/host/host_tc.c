/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "host/host_tc.h"
#include "lib/log.h"
#include "host_tunnel.skel.h"

static void hook_init(struct bpf_tc_hook *h, int ifindex,
		      enum bpf_tc_attach_point where)
{
	memset(h, 0, sizeof(*h));
	h->sz = sizeof(*h);
	h->ifindex = ifindex;
	h->attach_point = where;
}

static int attach_one(int ifindex, enum bpf_tc_attach_point where,
		      struct bpf_program *prog)
{
	struct bpf_tc_hook hook;
	LIBBPF_OPTS(bpf_tc_opts, o,
		.handle = HOST_TC_HANDLE,
		.priority = HOST_TC_PRIORITY,
		.prog_fd = bpf_program__fd(prog),
		.flags = BPF_TC_F_REPLACE,
	);

	hook_init(&hook, ifindex, where);
	return bpf_tc_attach(&hook, &o);
}

int host_tc_attach(struct host_tc *t, int ifindex, const struct xdnat_host_cfg *cfg,
		   bool *created)
{
	struct bpf_tc_hook hook;
	struct host_tunnel *skel;
	libbpf_print_fn_t prev;
	int err;

	skel = host_tunnel__open();
	if (!skel) {
		err = -errno;
		log_err("opening the host_tunnel BPF object: %s", strerror(-err));
		return err;
	}
	skel->rodata->host_cfg = *cfg;
	err = host_tunnel__load(skel);
	if (err) {
		log_err("loading host_tunnel: %s", strerror(-err));
		goto fail;
	}

	hook_init(&hook, ifindex, BPF_TC_INGRESS | BPF_TC_EGRESS);
	/* an existing clsact (EEXIST) is expected on every later `up`: keep
	 * libbpf from printing the kernel's complaint about it */
	prev = libbpf_set_print(NULL);
	err = bpf_tc_hook_create(&hook);
	libbpf_set_print(prev);
	*created = !err;
	if (err && err != -EEXIST) {
		log_err("creating the clsact qdisc: %s", strerror(-err));
		goto fail;
	}
	err = attach_one(ifindex, BPF_TC_EGRESS, skel->progs.host_egress);
	if (!err)
		err = attach_one(ifindex, BPF_TC_INGRESS, skel->progs.host_ingress);
	if (err) {
		log_err("attaching host_tunnel (tc filter): %s", strerror(-err));
		host_tc_detach(ifindex, *created);
		goto fail;
	}
	host_tunnel__destroy(t->skel);	/* a re-attach: the filters moved on */
	t->skel = skel;
	return 0;
fail:
	host_tunnel__destroy(skel);
	return err;
}

int host_tc_counters(const struct host_tc *t,
		     struct xdnat_counter out[XDNAT_HOST_CTR_MAX])
{
	int ncpu = libbpf_num_possible_cpus(), fd, err = 0;
	struct xdnat_counter *v;

	memset(out, 0, sizeof(*out) * XDNAT_HOST_CTR_MAX);
	if (!t->skel)
		return -ENOENT;
	if (ncpu < 0)
		return ncpu;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	fd = bpf_map__fd(t->skel->maps.xdnat_host_stat);
	for (__u32 k = 0; k < XDNAT_HOST_CTR_MAX && !err; k++) {
		if (bpf_map_lookup_elem(fd, &k, v)) {
			err = -errno;
			break;
		}
		for (int c = 0; c < ncpu; c++) {
			out[k].packets += v[c].packets;
			out[k].bytes += v[c].bytes;
		}
	}
	free(v);
	return err;
}

void host_tc_close(struct host_tc *t)
{
	host_tunnel__destroy(t->skel);
	t->skel = NULL;
}

int host_tc_detach(int ifindex, bool destroy_clsact)
{
	static const enum bpf_tc_attach_point where[] = { BPF_TC_EGRESS, BPF_TC_INGRESS };
	struct bpf_tc_hook hook;
	int err, first = 0;

	for (size_t i = 0; i < 2; i++) {
		LIBBPF_OPTS(bpf_tc_opts, o, .handle = HOST_TC_HANDLE,
			    .priority = HOST_TC_PRIORITY);

		hook_init(&hook, ifindex, where[i]);
		err = bpf_tc_detach(&hook, &o);
		/* no qdisc or no such filter: nothing of ours is left */
		if (err && err != -ENOENT && err != -EINVAL && !first)
			first = err;
	}
	if (destroy_clsact) {
		hook_init(&hook, ifindex, BPF_TC_INGRESS | BPF_TC_EGRESS);
		err = bpf_tc_hook_destroy(&hook);
		if (err && err != -ENOENT && err != -EINVAL && !first)
			first = err;
	}
	return first;
}
