/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * ref_redirect — the two ways gw_ext could hand a frame to the internal NIC,
 * alone, for bench/xdp_bench: bpf_redirect_map() through xdnat_tx (a
 * DEVMAP_HASH: the device is looked up in the program) and bpf_redirect()
 * by ifindex (the device is looked up later, in xdp_do_redirect). The frame
 * is not touched, so the bench can also run them with live frames, where
 * the kernel performs the redirect it was asked for.
 *
 * maps.h brings the gateway's maps along; the bench points them at gw_ext's
 * (bpf_map__reuse_fd), so xdnat_tx is the rig's.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "maps.h"

/* The internal NIC, set by the bench before load. */
const volatile __u32 int_ifindex = 0;

SEC("xdp")
int ref_redirect_map(struct xdp_md *ctx)
{
	(void)ctx;
	return bpf_redirect_map(&xdnat_tx, int_ifindex, 0);
}

SEC("xdp")
int ref_redirect(struct xdp_md *ctx)
{
	(void)ctx;
	return bpf_redirect(int_ifindex, 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
