/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#include <errno.h>
#include <stddef.h>
#include <getopt.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include "gateway/config.h"
#include "pap/cert_profile.h"
#include "pap/site_key.h"
#include "lib/log.h"
#include "lib/parse.h"
#include "lib/version.h"
#include "xdnat.h"

#define STR(x)	#x
#define XSTR(x)	STR(x)

/*
 * The keys: each written once, with its kind, its field in struct
 * xdnatd_config, its default (a value, parsed as the file's would be), its
 * limits and its help. The command line (--KEY), the file (KEY = value),
 * the defaults and --help all come from this table.
 */
enum key_kind {
	KEY_STRING,	/* a name or path: not empty, shorter than its field */
	KEY_ADDR,	/* a dotted-quad IPv4 address (network order); lo 1: not 0.0.0.0 */
	KEY_U32,	/* a number in lo..hi (parse_u32) into a u16 or u32 field */
	KEY_RANGE,	/* "A-B" with lo <= A <= B <= hi into two u16 or u32 fields */
	KEY_SWITCH,	/* a bool: no value on the command line, yes/no in the file */
	KEY_ENUM,	/* a word, parse() gives its number, into a bool or int field */
	KEY_POOL,	/* addresses, lists, prefixes: appended to gw.pool (repeatable) */
};

enum key_where {
	KEY_ANYWHERE,
	KEY_ARGV_ONLY,	/* an action or the file itself: not a setting of the file */
};

struct key {
	const char *name;
	enum key_kind kind;
	const char *arg;		/* the value's name in --help; NULL for a switch */
	size_t off, size;		/* the field (KEY_RANGE: its low end) */
	size_t off_hi;			/* KEY_RANGE: the high end, of the same size */
	uint32_t lo, hi;		/* KEY_U32, KEY_RANGE: the limits; KEY_ADDR: lo */
	int (*parse)(const char *v);	/* KEY_ENUM: the word's number or -EINVAL */
	const char *def;		/* the default; NULL: empty, 0, off */
	enum key_where where;
	const char *help;		/* --help adds "(default DEF)" */
};

#define FIELD(m)	.off = offsetof(struct xdnatd_config, m), \
			.size = sizeof(((struct xdnatd_config *)0)->m)
#define RANGE(a, b)	FIELD(a), .off_hi = offsetof(struct xdnatd_config, b)

static int parse_xdp_mode(const char *v)
{
	if (!strcmp(v, "native"))
		return 0;
	if (!strcmp(v, "generic"))
		return 1;
	return -EINVAL;
}

static const struct key keys[] = {
	{ "ext-if", KEY_STRING, "IF", FIELD(ext_if),
	  .help = "external NIC; with --int-if the XDP data plane runs" },
	{ "int-if", KEY_STRING, "IF", FIELD(int_if),
	  .help = "internal NIC, towards the hosts; with --ext-if the data plane runs" },
	{ "global", KEY_POOL, "ADDR", FIELD(gw.pool),
	  .help = "global IPv4 address G shared by the hosts (required; repeatable, "
		  "A,B or A/28: a pool, refused until the data plane supports one)" },
	{ "internal", KEY_ADDR, "ADDR", FIELD(internal),
	  .help = "gateway's internal address Gi; PAP listens there (default: any)" },
	{ "ports", KEY_RANGE, "LO-HI", RANGE(gw.port_lo, gw.port_hi), .lo = 1, .hi = 65535,
	  .def = "10000-65535", .help = "ports of G handed to hosts" },
	{ "spis", KEY_RANGE, "LO-HI", RANGE(gw.spi_lo, gw.spi_hi), .lo = 256, .hi = UINT32_MAX,
	  .def = "4096-4294967295", .help = "SPIs handed to hosts, LO >= 256" },
	{ "pap-port", KEY_U32, "N", FIELD(pap_port), .lo = 1, .hi = 65535, .def = "4555",
	  .help = "UDP port of PAP" },
	{ "state-dir", KEY_STRING, "DIR", FIELD(state_dir), .def = "/var/lib/xdnat",
	  .help = "persistent state" },
	/* issue 15: who held which block when (docs/xdnatd.md "Allocation log") */
	{ "alloc-log", KEY_STRING, "FILE", FIELD(alloc_log),
	  .help = "allocation log (who held which ports and SPIs when), or none "
		  "(default: STATE-DIR/alloc.log)" },
	{ "alloc-log-size", KEY_U32, "BYTES", FIELD(alloc_log_size), .lo = 4096,
	  .hi = UINT32_MAX, .def = "67108864", .help = "rotate the allocation log at this size" },
	{ "alloc-log-keep", KEY_U32, "N", FIELD(alloc_log_keep), .lo = 1, .hi = 1000,
	  .def = "16", .help = "rotated allocation logs kept (FILE.1 newest)" },
	{ "socket", KEY_STRING, "PATH", FIELD(socket_path), .def = "/run/xdnat/xdnatd.sock",
	  .help = "control socket" },
	{ "bpffs", KEY_STRING, "DIR", FIELD(bpffs), .def = XDNAT_BPFFS_DEFAULT,
	  .help = "pin directory for BPF maps" },
	{ "xdp-mode", KEY_ENUM, "MODE", FIELD(xdp_generic), .parse = parse_xdp_mode,
	  .def = "native", .help = "native (driver) or generic XDP" },
	{ "sa-entries", KEY_U32, "N", FIELD(sa_entries), .lo = 1024, .hi = 1u << 26,
	  .def = XSTR(XDNAT_MAX_SA), .help = "(SPI, peer) entries the SA map holds" },
	{ "sa-budget", KEY_U32, "N", FIELD(gw.sa_budget), .lo = XDNAT_SPI_GRANULE,
	  .hi = 1u << 26, .def = XSTR(GW_DEFAULT_SA_BUDGET),
	  .help = "SA map entries (SPIs x peers) one host's validations may take" },
	{ "cert-rate", KEY_U32, "N", FIELD(gw.cert_rate), .lo = 1, .hi = 600,
	  .def = XSTR(GW_DEFAULT_CERT_RATE), .help = "CERT requests per host and minute" },
	{ "crl-listen", KEY_STRING, "ADDR:PORT", FIELD(crl_listen),
	  .help = "serve the CRL over HTTP there, or none (default: --internal, port "
		  XSTR(CRL_HTTP_DEFAULT_PORT) ")" },
	{ "crl-url", KEY_STRING, "URL", FIELD(crl_url),
	  .help = "CRL distribution point named in certificates (default: from --crl-listen)" },
	{ "internal-nets", KEY_STRING, "NETS", FIELD(internal_nets),
	  .help = "internal subnets beyond --int-if's own (hosts behind a router): "
		  "the data plane drops packets to G from them" },
	{ "port-blocks-oid", KEY_STRING, "OID", FIELD(port_blocks_oid),
	  .def = CERT_OID_PORT_BLOCKS, .help = "OID of the certificates' portBlocks extension" },
	/* issue 14: observability (docs/xdnatd.md) */
	{ "metrics-listen", KEY_STRING, "ADDR:PORT", FIELD(metrics_listen),
	  .help = "serve Prometheus /metrics there (default: none)" },
	{ "ctl-group", KEY_STRING, "GROUP", FIELD(ctl_group),
	  .help = "members may run xdnatctl's read commands (default: root only)" },
	{ "unload", KEY_SWITCH, NULL, FIELD(unload), .where = KEY_ARGV_ONLY,
	  .help = "detach the XDP programs, remove the pins, exit" },
	{ "check-kernel", KEY_SWITCH, NULL, FIELD(check_kernel), .where = KEY_ARGV_ONLY,
	  .help = "probe the kernel features the data plane needs, print them, exit 0 or 1" },
	{ "lease", KEY_U32, "SECONDS", FIELD(gw.lease_secs), .lo = 5, .hi = 7 * 86400,
	  .def = "300", .help = "lease granted when a host asks for none" },
	{ "max-lease", KEY_U32, "SECONDS", FIELD(gw.max_lease_secs), .lo = 5, .hi = 30 * 86400,
	  .def = "3600", .help = "longest lease a host may ask for" },
	/* issue 13: a floor on leases and the REGISTER guards (docs/security.md) */
	{ "min-lease", KEY_U32, "SECONDS", FIELD(gw.min_lease_secs), .lo = 0, .hi = 3600,
	  .def = "30", .help = "shortest lease granted (at most --lease)" },
	{ "source-hosts", KEY_U32, "N", FIELD(gw.max_hosts_per_source), .lo = 0,
	  .hi = 1u << 20, .def = "16", .help = "registrations one address may hold, 0: no cap" },
	{ "register-rate", KEY_U32, "N", FIELD(gw.register_rate), .lo = 0, .hi = 1u << 20,
	  .def = "10", .help = "REGISTERs per second one address may make, 0: no limit" },
	{ "register-burst", KEY_U32, "N", FIELD(gw.register_burst), .lo = 1, .hi = 1u << 20,
	  .def = "20", .help = "... and as many at once" },
	{ "unused-after", KEY_U32, "SECONDS", FIELD(gw.register_timeout_secs), .lo = 0,
	  .hi = 86400, .def = "60",
	  .help = "a registration with no signed request by then is reclaimed, 0: never" },
	{ "require-token", KEY_SWITCH, NULL, FIELD(gw.require_token),
	  .help = "REGISTER needs an enrolment token (xdnatctl token) or the site key" },
	{ "port-quota", KEY_U32, "N", FIELD(gw.port_quota), .lo = 1, .hi = 65535, .def = "4096",
	  .help = "ports one host may hold" },
	/* less than the smallest SPI block could never be granted */
	{ "spi-quota", KEY_U32, "N", FIELD(gw.spi_quota), .lo = XDNAT_SPI_GRANULE,
	  .hi = UINT32_MAX, .def = "65536", .help = "SPIs one host may hold" },
	{ "max-hosts", KEY_U32, "N", FIELD(gw.max_hosts), .lo = 1, .hi = 1u << 20, .def = "4096",
	  .help = "registered hosts at most" },
	{ "site-key", KEY_STRING, "FILE", FIELD(site_key_file),
	  .help = "REGISTER must be signed with this key (default: open)" },
	{ "ca-cert", KEY_STRING, "FILE", FIELD(ca_cert),
	  .help = "sign host certificates as this CA (a chain, signing CA first; with --ca-key)" },
	{ "ca-key", KEY_STRING, "FILE", FIELD(ca_key),
	  .help = "its private key, mode 0600 (default: our own CA in --state-dir)" },
	{ "config", KEY_STRING, "FILE", FIELD(config_file), .where = KEY_ARGV_ONLY,
	  .help = "read these settings from FILE first" },
	{ "foreground", KEY_SWITCH, NULL, FIELD(foreground),
	  .help = "stay in the foreground, log to stderr (as under systemd)" },
	{ "pidfile", KEY_STRING, "FILE", FIELD(pidfile),
	  .help = "write the daemon's pid there once it serves (default: none)" },
	{ "log-level", KEY_ENUM, "LEVEL", FIELD(log_level), .parse = log_parse_level,
	  .def = "info", .help = "error, warning, info or debug" },
};
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

/* Into a u16 field (the key's limits keep v below 65536) or a u32 one. */
static void store_uint(void *field, size_t size, uint32_t v)
{
	uint16_t n = (uint16_t)v;

	if (size == sizeof(n))
		memcpy(field, &n, sizeof(n));
	else
		memcpy(field, &v, sizeof(v));
}

/* A file's switch: yes/no, true/false, 1/0; none (NULL) is yes. */
static int parse_switch(const char *v)
{
	if (!v || !strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1"))
		return 1;
	if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0"))
		return 0;
	return -EINVAL;
}

/* One --global item, "A.B.C.D" or "A.B.C.D/N" (N 28..32: a /28 is the
 * GW_MAX_POOL addresses REGISTER_REPLY can name), appended to the pool:
 * 0, or -EINVAL when it does not parse, overflows the pool or repeats an
 * address. */
static int pool_add_item(struct gw_config *gw, char *item)
{
	char *slash = strchr(item, '/');
	uint32_t a, len = 32, n;

	if (slash) {
		*slash = 0;
		if (parse_u32(slash + 1, 32 - 4, 32, &len))
			return -EINVAL;
	}
	if (inet_pton(AF_INET, item, &a) != 1 || !a)
		return -EINVAL;
	n = 1u << (32 - len);
	if (ntohl(a) & (n - 1))
		return -EINVAL;		/* not the prefix's first address */
	if (gw->n_pool + n > GW_MAX_POOL)
		return -EINVAL;
	for (uint32_t k = 0; k < n; k++) {
		uint32_t g = htonl(ntohl(a) + k);

		for (unsigned int i = 0; i < gw->n_pool; i++)
			if (gw->pool[i] == g)
				return -EINVAL;
		gw->pool[gw->n_pool++] = g;
	}
	return 0;
}

/* A comma-separated list of items into the pool, all or nothing. */
static int pool_add(struct gw_config *gw, const char *v)
{
	struct gw_config tmp = *gw;
	char copy[256], *save = NULL, *item;

	if (!v || !*v || strlen(v) >= sizeof(copy))
		return -EINVAL;
	strcpy(copy, v);
	for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save))
		if (pool_add_item(&tmp, item))
			return -EINVAL;
	memcpy(gw->pool, tmp.pool, sizeof(tmp.pool));
	gw->n_pool = tmp.n_pool;
	return 0;
}

/* v as k's value into c: 0 or -EINVAL (c unchanged). */
static int key_set(const struct key *k, struct xdnatd_config *c, const char *v)
{
	char *field = (char *)c + k->off;
	uint32_t a, b;
	int n;

	switch (k->kind) {
	case KEY_STRING:
		if (!v || !*v || strlen(v) >= k->size)
			return -EINVAL;
		strcpy(field, v);
		return 0;
	case KEY_ADDR:
		if (!v || inet_pton(AF_INET, v, &a) != 1 || (k->lo && !a))
			return -EINVAL;
		memcpy(field, &a, sizeof(a));
		return 0;
	case KEY_U32:
		if (!v || parse_u32(v, k->lo, k->hi, &a))
			return -EINVAL;
		store_uint(field, k->size, a);
		return 0;
	case KEY_RANGE:
		if (!v || parse_range(v, k->lo, k->hi, &a, &b))
			return -EINVAL;
		store_uint(field, k->size, a);
		store_uint((char *)c + k->off_hi, k->size, b);
		return 0;
	case KEY_SWITCH:
		n = parse_switch(v);
		break;
	case KEY_ENUM:
		n = v ? k->parse(v) : -EINVAL;
		break;
	case KEY_POOL:
		return pool_add(&c->gw, v);
	default:
		return -EINVAL;
	}
	if (n < 0)
		return -EINVAL;
	if (k->size == sizeof(bool))
		*(bool *)field = n;
	else
		memcpy(field, &n, sizeof(n));
	return 0;
}

/* What a key takes, for its refusal: "(5 to 604800)". */
static void key_expects(const struct key *k, char *buf, size_t len)
{
	switch (k->kind) {
	case KEY_U32:
		snprintf(buf, len, " (%u to %u)", k->lo, k->hi);
		break;
	case KEY_RANGE:
		snprintf(buf, len, " (LO-HI, %u to %u)", k->lo, k->hi);
		break;
	case KEY_SWITCH:
		snprintf(buf, len, " (yes or no)");
		break;
	case KEY_POOL:
		snprintf(buf, len, " (ADDR, A,B or A/28..32, %u at most, none twice)",
			 GW_MAX_POOL);
		break;
	default:
		buf[0] = 0;
	}
}

void config_usage(FILE *out)
{
	fprintf(out, "usage: xdnatd --global ADDR [options]\n\n");
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct key *k = &keys[i];
		char left[40];

		snprintf(left, sizeof(left), "--%s%s%s", k->name, k->arg ? " " : "",
			 k->arg ? k->arg : "");
		/* two blanks at least between the option and its help */
		fprintf(out, "  %-24s%s%s", left, strlen(left) >= 24 ? "  " : " ", k->help);
		if (k->def)
			fprintf(out, " (default %s)", k->def);
		fputc('\n', out);
	}
	fprintf(out, "  %-24s %s\n", "--version", "print the version and exit");
	fprintf(out, "  %-24s %s\n", "--help", "this text");
}

static int set_defaults(struct xdnatd_config *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < N_KEYS; i++)
		if (keys[i].def && key_set(&keys[i], c, keys[i].def)) {
			snprintf(err, errlen, "the default of %s does not parse", keys[i].name);
			return -1;
		}
	return 0;
}

static const struct key *find_key(const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (!strcmp(keys[i].name, name))
			return &keys[i];
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
		char *key, *val, *eq, *hash = strchr(line, '#'), expects[64];
		const struct key *k;

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
		k = find_key(key);
		if (!k || k->where == KEY_ARGV_ONLY) {
			snprintf(err, errlen, "%s:%u: unknown key '%s'", path, lineno, key);
			goto fail;
		}
		/* a switch alone is "yes"; every other key needs a value */
		if ((k->arg && (!val || !*val)) || key_set(k, c, val && *val ? val : NULL)) {
			key_expects(k, expects, sizeof(expects));
			snprintf(err, errlen, "%s:%u: bad value for %s: '%s'%s", path,
				 lineno, key, val ? val : "", expects);
			goto fail;
		}
	}
	fclose(f);
	return 0;
fail:
	fclose(f);
	return -1;
}

/* --crl-listen into crl_addr/crl_port, and the URL certificates name. */
static int check_crl(struct xdnatd_config *c, char *err, size_t errlen)
{
	char addr[INET_ADDRSTRLEN];

	c->crl_addr = 0;
	c->crl_port = 0;
	if (!strcmp(c->crl_listen, "none")) {
		/* no server of ours; an explicit --crl-url still goes in */
	} else if (!c->crl_listen[0]) {
		if (c->internal) {
			c->crl_addr = c->internal;
			c->crl_port = CRL_HTTP_DEFAULT_PORT;
		}
	} else if (parse_addr_port(c->crl_listen, &c->crl_addr, &c->crl_port)) {
		goto bad;
	}
	if (!c->crl_url[0] && c->crl_port && c->crl_addr) {
		inet_ntop(AF_INET, &c->crl_addr, addr, sizeof(addr));
		snprintf(c->crl_url, sizeof(c->crl_url), "http://%s:%u/crl.der", addr,
			 c->crl_port);
	}
	if (c->crl_url[0] && strncmp(c->crl_url, "http://", 7)) {
		snprintf(err, errlen, "--crl-url %s: not an http:// URL (RFC 5280 wants "
			 "HTTP or LDAP, strongSwan fetches HTTP)", c->crl_url);
		return -1;
	}
	return 0;
bad:
	snprintf(err, errlen, "--crl-listen %s: not ADDR:PORT nor none", c->crl_listen);
	return -1;
}

/* --metrics-listen into metrics_addr/metrics_port, --ctl-group into ctl_gid. */
static int check_observability(struct xdnatd_config *c, char *err, size_t errlen)
{
	struct group *gr;

	c->metrics_port = 0;
	if (c->metrics_listen[0] && strcmp(c->metrics_listen, "none") &&
	    parse_addr_port(c->metrics_listen, &c->metrics_addr, &c->metrics_port)) {
		snprintf(err, errlen, "--metrics-listen %s: not ADDR:PORT nor none",
			 c->metrics_listen);
		return -1;
	}
	c->ctl_gid = (gid_t)-1;
	if (!c->ctl_group[0])
		return 0;
	gr = getgrnam(c->ctl_group);
	if (!gr) {
		snprintf(err, errlen, "--ctl-group %s: no such group", c->ctl_group);
		return -1;
	}
	c->ctl_gid = gr->gr_gid;
	return 0;
}

/* --internal-nets into int_net/int_mask: comma-separated A.B.C.D/LEN, LEN
 * 1-32, at most XDNAT_MAX_INT_NETS (the NIC's own subnets share the slots). */
static int check_int_nets(struct xdnatd_config *c, char *err, size_t errlen)
{
	char list[sizeof(c->internal_nets)], *save = NULL, *tok, *slash;
	uint32_t len;

	c->n_int_nets = 0;
	snprintf(list, sizeof(list), "%s", c->internal_nets);
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		uint32_t addr, mask;

		tok = trim(tok);
		slash = strchr(tok, '/');
		if (!slash)
			goto bad;
		*slash = 0;
		if (inet_pton(AF_INET, tok, &addr) != 1 || parse_u32(slash + 1, 1, 32, &len))
			goto bad;
		if (c->n_int_nets == XDNAT_MAX_INT_NETS) {
			snprintf(err, errlen, "--internal-nets: more than %u prefixes",
				 XDNAT_MAX_INT_NETS);
			return -1;
		}
		mask = htonl(len == 32 ? UINT32_MAX : ~(UINT32_MAX >> len));
		c->int_mask[c->n_int_nets] = mask;
		c->int_net[c->n_int_nets++] = addr & mask;
	}
	return 0;
bad:
	snprintf(err, errlen, "--internal-nets %s: not a list of A.B.C.D/LEN", c->internal_nets);
	return -1;
}

static int check(struct xdnatd_config *c, char *err, size_t errlen)
{
	if (c->unload || c->check_kernel)
		return 0;	/* needs only the NICs and the pin directory */
	if (!c->gw.n_pool) {
		snprintf(err, errlen, "--global ADDR is required (the address the hosts share)");
		return -1;
	}
	c->gw.global = c->gw.pool[0];
	/* The gateway object takes a pool; gw_ext and gw_int know one G. */
	if (c->gw.n_pool > 1) {
		snprintf(err, errlen, "a pool of %u addresses needs data-plane support for "
			 "several G (issue 15); configure one --global", c->gw.n_pool);
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
	c->gw.sa_table = c->sa_entries;
	/* one host never more than the whole map (a small --sa-entries) */
	if (c->gw.sa_budget > c->sa_entries)
		c->gw.sa_budget = c->sa_entries;
	if (!cert_oid_valid(c->port_blocks_oid)) {
		snprintf(err, errlen, "--port-blocks-oid %s: not a dotted OID",
			 c->port_blocks_oid);
		return -1;
	}
	if (check_crl(c, err, errlen) || check_observability(c, err, errlen) ||
	    check_int_nets(c, err, errlen))
		return -1;
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
	const struct key *config_key = find_key("config");
	struct option lopts[N_KEYS + 3];
	char expects[64];
	bool argv_pool = false;
	int idx, ch;

	if (set_defaults(cfg, err, errlen))
		return -1;
	for (size_t i = 0; i < N_KEYS; i++)
		lopts[i] = (struct option){ keys[i].name,
			keys[i].arg ? required_argument : no_argument, NULL, (int)i };
	lopts[N_KEYS] = (struct option){ "help", no_argument, NULL, 'h' };
	lopts[N_KEYS + 1] = (struct option){ "version", no_argument, NULL, 'V' };
	lopts[N_KEYS + 2] = (struct option){ 0 };

	/* First pass: only --config, so the command line can override the file. */
	opterr = 0;
	optind = 0;	/* 0, not 1: a full re-initialisation for SIGHUP re-parses */
	while ((ch = getopt_long(argc, argv, "", lopts, &idx)) != -1)
		if (ch >= 0 && (size_t)ch < N_KEYS && &keys[ch] == config_key)
			key_set(config_key, cfg, optarg);	/* refused below */
	if (cfg->config_file[0] && load_file(cfg->config_file, cfg, err, errlen))
		return -1;

	optind = 0;	/* 0, not 1: a full re-initialisation for SIGHUP re-parses */
	while ((ch = getopt_long(argc, argv, "", lopts, &idx)) != -1) {
		/* the command line's --global replaces the file's pool */
		if (ch >= 0 && (size_t)ch < N_KEYS && keys[ch].kind == KEY_POOL &&
		    !argv_pool) {
			argv_pool = true;
			cfg->gw.n_pool = 0;
		}
		if (ch == 'h' || ch == 'V') {
			if (ch == 'h')
				config_usage(stdout);
			else
				version_print(stdout, "xdnatd");
			return 1;
		}
		if (ch == '?' || ch == ':' || ch < 0 || (size_t)ch >= N_KEYS) {
			snprintf(err, errlen, "unknown option or missing value: '%s' (see --help)",
				 argv[optind - 1]);
			return -1;
		}
		/* a switch on the command line takes no value: on */
		if (key_set(&keys[ch], cfg, keys[ch].arg ? optarg : "yes")) {
			key_expects(&keys[ch], expects, sizeof(expects));
			snprintf(err, errlen, "bad value for --%s: '%s'%s", keys[ch].name,
				 optarg ? optarg : "", expects);
			return -1;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s' (see --help)", argv[optind]);
		return -1;
	}
	return check(cfg, err, errlen);
}
