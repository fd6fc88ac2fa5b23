/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include "gateway/config.h"
#include "pap/site_key.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "xdnat.h"

#define STR(x)	#x
#define XSTR(x)	STR(x)

typedef int (*opt_setter)(struct xdnatd_config *c, const char *v);

struct opt {
	const char *name;
	const char *arg;	/* NULL: a switch */
	opt_setter set;
	const char *help;
};

static int copy_str(char *dst, size_t cap, const char *v)
{
	if (!*v || strlen(v) >= cap)
		return -1;
	strcpy(dst, v);
	return 0;
}

static int set_ext_if(struct xdnatd_config *c, const char *v)
{
	return copy_str(c->ext_if, sizeof(c->ext_if), v);
}

static int set_int_if(struct xdnatd_config *c, const char *v)
{
	return copy_str(c->int_if, sizeof(c->int_if), v);
}

static int set_global(struct xdnatd_config *c, const char *v)
{
	return inet_pton(AF_INET, v, &c->gw.global) == 1 && c->gw.global ? 0 : -1;
}

static int set_internal(struct xdnatd_config *c, const char *v)
{
	return inet_pton(AF_INET, v, &c->internal) == 1 ? 0 : -1;
}

static int set_ports(struct xdnatd_config *c, const char *v)
{
	uint32_t a, b;

	if (parse_range(v, 1, 65535, &a, &b))
		return -1;
	c->gw.port_lo = (uint16_t)a;
	c->gw.port_hi = (uint16_t)b;
	return 0;
}

static int set_spis(struct xdnatd_config *c, const char *v)
{
	return parse_range(v, 256, UINT32_MAX, &c->gw.spi_lo, &c->gw.spi_hi);
}

static int set_pap_port(struct xdnatd_config *c, const char *v)
{
	uint32_t p;

	if (parse_u32(v, 1, 65535, &p))
		return -1;
	c->pap_port = (uint16_t)p;
	return 0;
}

static int set_state_dir(struct xdnatd_config *c, const char *v)
{
	return copy_str(c->state_dir, sizeof(c->state_dir), v);
}

static int set_socket(struct xdnatd_config *c, const char *v)
{
	return copy_str(c->socket_path, sizeof(c->socket_path), v);
}

static int set_bpffs(struct xdnatd_config *c, const char *v)
{
	return copy_str(c->bpffs, sizeof(c->bpffs), v);
}

static int set_lease(struct xdnatd_config *c, const char *v)
{
	return parse_u32(v, 5, 7 * 86400, &c->gw.lease_secs);
}

static int set_max_lease(struct xdnatd_config *c, const char *v)
{
	return parse_u32(v, 5, 30 * 86400, &c->gw.max_lease_secs);
}

static int set_port_quota(struct xdnatd_config *c, const char *v)
{
	return parse_u32(v, 1, 65535, &c->gw.port_quota);
}

static int set_spi_quota(struct xdnatd_config *c, const char *v)
{
	/* less than the smallest SPI block could never be granted */
	return parse_u32(v, XDNAT_SPI_GRANULE, UINT32_MAX, &c->gw.spi_quota);
}

static int set_max_hosts(struct xdnatd_config *c, const char *v)
{
	return parse_u32(v, 1, 1u << 20, &c->gw.max_hosts);
}

static int set_site_key(struct xdnatd_config *c, const char *v)
{
	return copy_str(c->site_key_file, sizeof(c->site_key_file), v);
}

static int set_ca_cert(struct xdnatd_config *c, const char *v)
{
	return copy_str(c->ca_cert, sizeof(c->ca_cert), v);
}

static int set_ca_key(struct xdnatd_config *c, const char *v)
{
	return copy_str(c->ca_key, sizeof(c->ca_key), v);
}

static int set_config(struct xdnatd_config *c, const char *v)
{
	return copy_str(c->config_file, sizeof(c->config_file), v);
}

static int set_foreground(struct xdnatd_config *c, const char *v)
{
	if (!v || !strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1"))
		c->foreground = true;
	else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0"))
		c->foreground = false;
	else
		return -1;
	return 0;
}

static int set_sa_entries(struct xdnatd_config *c, const char *v)
{
	return parse_u32(v, 1024, 1u << 26, &c->sa_entries);
}

static int set_xdp_mode(struct xdnatd_config *c, const char *v)
{
	if (!strcmp(v, "native"))
		c->xdp_generic = false;
	else if (!strcmp(v, "generic"))
		c->xdp_generic = true;
	else
		return -1;
	return 0;
}

static int set_unload(struct xdnatd_config *c, const char *v)
{
	(void)v;
	c->unload = true;
	return 0;
}

static int set_log_level(struct xdnatd_config *c, const char *v)
{
	int l = log_parse_level(v);

	if (l < 0)
		return -1;
	c->log_level = l;
	return 0;
}

static const struct opt opts[] = {
	{ "ext-if", "IF", set_ext_if, "external NIC; with --int-if the XDP data plane runs" },
	{ "int-if", "IF", set_int_if, "internal NIC, towards the hosts; with --ext-if the data plane runs" },
	{ "global", "ADDR", set_global, "global IPv4 address G shared by the hosts (required)" },
	{ "internal", "ADDR", set_internal, "gateway's internal address Gi; PAP listens there (default: any)" },
	{ "ports", "LO-HI", set_ports, "ports of G handed to hosts (default 10000-65535)" },
	{ "spis", "LO-HI", set_spis, "SPIs handed to hosts, LO >= 256 (default 4096-4294967295)" },
	{ "pap-port", "N", set_pap_port, "UDP port of PAP (default 4555)" },
	{ "state-dir", "DIR", set_state_dir, "persistent state (default /var/lib/xdnat)" },
	{ "socket", "PATH", set_socket, "control socket (default /run/xdnat/xdnatd.sock)" },
	{ "bpffs", "DIR", set_bpffs, "pin directory for BPF maps (default /sys/fs/bpf/xdnat)" },
	{ "xdp-mode", "MODE", set_xdp_mode, "native (driver) or generic XDP (default native)" },
	{ "sa-entries", "N", set_sa_entries,
	  "(SPI, peer) entries the SA map holds (default " XSTR(XDNAT_MAX_SA) ")" },
	{ "unload", NULL, set_unload, "detach the XDP programs, remove the pins, exit" },
	{ "lease", "SECONDS", set_lease, "lease granted when a host asks for none (default 300)" },
	{ "max-lease", "SECONDS", set_max_lease, "longest lease a host may ask for (default 3600)" },
	{ "port-quota", "N", set_port_quota, "ports one host may hold (default 4096)" },
	{ "spi-quota", "N", set_spi_quota, "SPIs one host may hold (default 65536)" },
	{ "max-hosts", "N", set_max_hosts, "registered hosts at most (default 4096)" },
	{ "site-key", "FILE", set_site_key, "REGISTER must be signed with this key (default: open)" },
	{ "ca-cert", "FILE", set_ca_cert,
	  "sign host certificates as this CA (a chain, signing CA first; with --ca-key)" },
	{ "ca-key", "FILE", set_ca_key,
	  "its private key, mode 0600 (default: our own CA in --state-dir)" },
	{ "config", "FILE", set_config, "read these settings from FILE first" },
	{ "foreground", NULL, set_foreground, "stay in the foreground, log to stderr" },
	{ "log-level", "LEVEL", set_log_level, "error, warning, info or debug (default info)" },
};
#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

void config_usage(FILE *out)
{
	fprintf(out, "usage: xdnatd --global ADDR [options]\n\n");
	for (size_t i = 0; i < N_OPTS; i++) {
		char left[40];

		snprintf(left, sizeof(left), "--%s%s%s", opts[i].name,
			 opts[i].arg ? " " : "", opts[i].arg ? opts[i].arg : "");
		fprintf(out, "  %-24s %s\n", left, opts[i].help);
	}
	fprintf(out, "  %-24s %s\n", "--help", "this text");
}

static void set_defaults(struct xdnatd_config *c)
{
	memset(c, 0, sizeof(*c));
	c->gw.port_lo = 10000;
	c->gw.port_hi = 65535;
	c->gw.spi_lo = 4096;
	c->gw.spi_hi = UINT32_MAX;
	c->gw.lease_secs = 300;
	c->gw.max_lease_secs = 3600;
	c->gw.port_quota = 4096;
	c->gw.spi_quota = 65536;
	c->gw.max_hosts = 4096;
	c->pap_port = 4555;
	strcpy(c->state_dir, "/var/lib/xdnat");
	strcpy(c->socket_path, "/run/xdnat/xdnatd.sock");
	strcpy(c->bpffs, XDNAT_BPFFS_DEFAULT);
	c->log_level = LOG_LVL_INFO;
	c->sa_entries = XDNAT_MAX_SA;
}

static const struct opt *find_opt(const char *name)
{
	for (size_t i = 0; i < N_OPTS; i++)
		if (!strcmp(opts[i].name, name))
			return &opts[i];
	return NULL;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = 0;
	return s;
}

static int load_file(const char *path, struct xdnatd_config *c, char *err,
		     size_t errlen)
{
	char line[1024];
	unsigned int lineno = 0;
	FILE *f = fopen(path, "re");

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *key, *val, *eq, *hash = strchr(line, '#');
		const struct opt *o;

		lineno++;
		if (hash)
			*hash = 0;
		key = trim(line);
		if (!*key)
			continue;
		eq = strpbrk(key, "= \t");
		val = NULL;
		if (eq) {
			*eq = 0;
			val = trim(eq + 1);
			if (*val == '=')
				val = trim(val + 1);
		}
		o = find_opt(key);
		/* --unload is an action, not a setting. */
		if (!o || !strcmp(key, "config") || !strcmp(key, "unload")) {
			snprintf(err, errlen, "%s:%u: unknown key '%s'", path, lineno, key);
			goto fail;
		}
		if ((o->arg && (!val || !*val)) || o->set(c, val && *val ? val : NULL)) {
			snprintf(err, errlen, "%s:%u: bad value for %s: '%s'", path,
				 lineno, key, val ? val : "");
			goto fail;
		}
	}
	fclose(f);
	return 0;
fail:
	fclose(f);
	return -1;
}

static int check(struct xdnatd_config *c, char *err, size_t errlen)
{
	if (c->unload)
		return 0;	/* needs only the NICs and the pin directory */
	if (!c->gw.global) {
		snprintf(err, errlen, "--global ADDR is required (the address the hosts share)");
		return -1;
	}
	if (c->gw.lease_secs > c->gw.max_lease_secs) {
		snprintf(err, errlen, "--lease %u is longer than --max-lease %u",
			 c->gw.lease_secs, c->gw.max_lease_secs);
		return -1;
	}
	if (config_dataplane(c) && !strcmp(c->ext_if, c->int_if)) {
		snprintf(err, errlen, "--ext-if and --int-if name the same interface %s",
			 c->ext_if);
		return -1;
	}
	if (config_dataplane(c) && !c->internal) {
		snprintf(err, errlen, "--internal ADDR is required with --ext-if and --int-if "
			 "(the outer source of the tunnel to the hosts)");
		return -1;
	}
	if (!c->ca_cert[0] != !c->ca_key[0]) {
		snprintf(err, errlen, "--ca-cert and --ca-key go together");
		return -1;
	}
	if (c->site_key_file[0]) {
		struct gw_config *gw = &c->gw;

		if (pap_site_key_load(c->site_key_file, gw->site_key, sizeof(gw->site_key),
				      &gw->site_key_len, err, errlen))
			return -1;
	}
	return 0;
}

int config_load(int argc, char **argv, struct xdnatd_config *cfg, char *err,
		size_t errlen)
{
	struct option lopts[N_OPTS + 2];
	int idx, ch;

	set_defaults(cfg);
	for (size_t i = 0; i < N_OPTS; i++)
		lopts[i] = (struct option){ opts[i].name,
			opts[i].arg ? required_argument : no_argument, NULL, (int)i };
	lopts[N_OPTS] = (struct option){ "help", no_argument, NULL, 'h' };
	lopts[N_OPTS + 1] = (struct option){ 0 };

	/* First pass: only --config, so the command line can override the file. */
	opterr = 0;
	optind = 0;	/* 0, not 1: a full re-initialisation for SIGHUP re-parses */
	while ((ch = getopt_long(argc, argv, "", lopts, &idx)) != -1)
		if (ch >= 0 && (size_t)ch < N_OPTS && !strcmp(opts[ch].name, "config"))
			set_config(cfg, optarg);
	if (cfg->config_file[0] && load_file(cfg->config_file, cfg, err, errlen))
		return -1;

	optind = 0;	/* 0, not 1: a full re-initialisation for SIGHUP re-parses */
	while ((ch = getopt_long(argc, argv, "", lopts, &idx)) != -1) {
		if (ch == 'h') {
			config_usage(stdout);
			return 1;
		}
		if (ch == '?' || ch == ':' || ch < 0 || (size_t)ch >= N_OPTS) {
			snprintf(err, errlen, "unknown option or missing value: '%s' (see --help)",
				 argv[optind - 1]);
			return -1;
		}
		if (opts[ch].set(cfg, optarg)) {
			snprintf(err, errlen, "bad value for --%s: '%s'", opts[ch].name,
				 optarg ? optarg : "");
			return -1;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s' (see --help)", argv[optind]);
		return -1;
	}
	return check(cfg, err, errlen);
}
