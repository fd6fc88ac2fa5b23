/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdnatd configuration: defaults, then the --config file, then the command
 * line (which wins). The file takes the long flag names without "--", one
 * "key = value" per line, '#' comments. One key table in config.c gives
 * each key its field, default, limits and help; docs/xdnatd.md lists them.
 */
#ifndef XDNAT_CONFIG_H
#define XDNAT_CONFIG_H

#include <limits.h>
#include <stdio.h>
#include <stdbool.h>
#include <net/if.h>
#include <sys/types.h>
#include "gateway/gateway.h"
#include "xdnat.h"

#define CRL_HTTP_DEFAULT_PORT	8555	/* --crl-listen's port when --internal names Gi */

struct xdnatd_config {
	struct gw_config gw;
	char ext_if[IF_NAMESIZE];
	char int_if[IF_NAMESIZE];
	uint32_t internal;		/* Gi, network order; 0 = any */
	uint16_t pap_port;
	char state_dir[PATH_MAX];
	char alloc_log[PATH_MAX];	/* empty: STATE-DIR/alloc.log; "none": off */
	uint32_t alloc_log_size;	/* rotate at this many bytes */
	uint32_t alloc_log_keep;	/* rotated files kept */
	char socket_path[108];		/* sizeof(sun_path) */
	char bpffs[PATH_MAX];
	char site_key_file[PATH_MAX];
	char ca_cert[PATH_MAX];		/* a site CA (--ca-cert/--ca-key); empty: our own */
	char ca_key[PATH_MAX];
	char config_file[PATH_MAX];
	char pidfile[PATH_MAX];		/* empty: none */
	bool foreground;
	int log_level;
	uint32_t sa_entries;		/* max_entries of the xdnat_sa map */
	bool xdp_generic;		/* --xdp-mode generic (default native) */
	bool unload;			/* --unload: detach, unpin, exit */
	bool check_kernel;		/* --check-kernel: the probe table, exit */
	char crl_listen[64];		/* --crl-listen ADDR:PORT, "none", or empty */
	uint32_t crl_addr;		/* ...parsed: network order; port 0: no server */
	uint16_t crl_port;
	char crl_url[256];		/* named in every certificate; empty: none */
	char port_blocks_oid[128];
	char metrics_listen[64];	/* --metrics-listen ADDR:PORT, "none", or empty */
	uint32_t metrics_addr;		/* ...parsed: network order; port 0: none */
	uint16_t metrics_port;
	char ctl_group[64];		/* --ctl-group: read-only access; empty: none */
	gid_t ctl_gid;			/* ...resolved; (gid_t)-1: none */
	char internal_nets[256];	/* --internal-nets PREFIX,...; empty: none */
	uint32_t int_net[XDNAT_MAX_INT_NETS], int_mask[XDNAT_MAX_INT_NETS];	/* ...parsed, be */
	unsigned int n_int_nets;
};

/* The XDP data plane runs only when both NICs are named. */
static inline bool config_dataplane(const struct xdnatd_config *c)
{
	return c->ext_if[0] && c->int_if[0];
}

/*
 * Parse defaults + file + argv. Returns 0, 1 when --help or --version was
 * printed, or -1 with a one-line message in err (the daemon exits 2 with it).
 */
int config_load(int argc, char **argv, struct xdnatd_config *cfg, char *err,
		size_t errlen);
void config_usage(FILE *out);

#endif
