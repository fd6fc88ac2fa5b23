/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "host/host_tc.h"
#include "lib/kfeat.h"
#include "lib/log.h"
#include "host_tunnel.skel.h"

int host_tc_kernel_probe(struct kfeat_set *k)
{
	size_t size;
	const void *elf = host_tunnel__elf_bytes(&size);

	kfeat_init(k, "xdnat-host");
	kfeat_need_object(k, "host_tunnel", elf, size);
	kfeat_need(k, KFEAT_DECAP_L3, 0, 0, true, "host_tunnel");
	return kfeat_probe(k);
}

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

/* The clsact qdisc (created when missing: *created) and both filters. Logs
 * what failed; a failure leaves nothing of ours attached. */
static int attach_both(struct host_tunnel *skel, int ifindex, bool *created)
{
	struct bpf_tc_hook hook;
	libbpf_print_fn_t prev;
	int err;

	hook_init(&hook, ifindex, BPF_TC_INGRESS | BPF_TC_EGRESS);
	/* an existing clsact (EEXIST) is expected on every later `up`: keep
	 * libbpf from printing the kernel's complaint about it */
	prev = libbpf_set_print(NULL);
	err = bpf_tc_hook_create(&hook);
	libbpf_set_print(prev);
	*created = !err;
	if (err && err != -EEXIST) {
		log_err("creating the clsact qdisc: %s", strerror(-err));
		return err;
	}
	err = attach_one(ifindex, BPF_TC_EGRESS, skel->progs.host_egress);
	if (!err)
		err = attach_one(ifindex, BPF_TC_INGRESS, skel->progs.host_ingress);
	if (err) {
		log_err("attaching host_tunnel (tc filter): %s", strerror(-err));
		host_tc_detach(ifindex, *created);
	}
	return err;
}

int host_tc_attach(struct host_tc *t, int ifindex, const struct xdnat_host_cfg *cfg,
		   bool *created)
{
	struct host_tunnel *skel;
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

	err = attach_both(skel, ifindex, created);
	if (err)
		goto fail;
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

int host_tc_reattach(struct host_tc *t, int ifindex, bool *created)
{
	*created = false;
	return t->skel ? attach_both(t->skel, ifindex, created) : -ENOENT;
}

const char *host_tc_filter_name(enum host_tc_filter f)
{
	return f == HOST_TC_OURS ? "ours" : f == HOST_TC_OTHER ? "other" : "missing";
}

static __u32 prog_id(struct bpf_program *prog)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
		return 0;
	return info.id;
}

static enum host_tc_filter query_one(int ifindex, enum bpf_tc_attach_point where,
				     __u32 ours)
{
	struct bpf_tc_hook hook;
	libbpf_print_fn_t prev;
	int err;
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = HOST_TC_HANDLE, .priority = HOST_TC_PRIORITY);

	hook_init(&hook, ifindex, where);
	/* a missing filter or qdisc is an answer here, not an error to print */
	prev = libbpf_set_print(NULL);
	err = bpf_tc_query(&hook, &o);
	libbpf_set_print(prev);
	if (err)
		return HOST_TC_MISSING;
	return ours && o.prog_id == ours ? HOST_TC_OURS : HOST_TC_OTHER;
}

int host_tc_probe(const struct host_tc *t, int ifindex, struct host_tc_live *live)
{
	live->egress = live->ingress = HOST_TC_MISSING;
	if (ifindex <= 0)
		return -ENODEV;
	live->egress = query_one(ifindex, BPF_TC_EGRESS,
				 t->skel ? prog_id(t->skel->progs.host_egress) : 0);
	live->ingress = query_one(ifindex, BPF_TC_INGRESS,
				  t->skel ? prog_id(t->skel->progs.host_ingress) : 0);
	return 0;
}
