/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdnatd's configuration (config.c): the defaults, every key from the file
 * and from the command line, the command line winning, every refusal and its
 * message, a second config_load() after the file changed (what SIGHUP does),
 * and --help, whose flags and defaults docs/xdnatd.md must list alike.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include "gateway/config.h"
#include "pap/cert_profile.h"
#include "lib/log.h"
#include "xdnat.h"
#include "test_tmpdir.h"

#define MAX_ARGS	32

struct fx {
	char root[64], dir[128];
	char conf[192];			/* root/xdnatd.conf */
	struct xdnatd_config cfg;
	char err[512];
	char *argv[MAX_ARGS + 1];	/* as config_load() last saw them */
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_int_equal(tmpdir_make(f->root, sizeof(f->root), "/tmp/xdnat-config-XXXXXX",
				     f->dir, sizeof(f->dir), "unused"), 0);
	snprintf(f->conf, sizeof(f->conf), "%s/xdnatd.conf", f->root);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	tmpdir_remove(f->root);
	free(f);
	return 0;
}

static void write_file(const char *path, const char *text)
{
	FILE *o = fopen(path, "w");

	assert_non_null(o);
	assert_int_equal(fputs(text, o) >= 0, 1);
	assert_int_equal(fclose(o), 0);
}

/* config_load() of "xdnatd ARGS..." (NULL-ended); "@CONF" stands for the
 * fixture's configuration file. */
static int load_argv(struct fx *f, const char *arg, ...)
{
	va_list ap;
	int argc = 0;

	f->argv[argc++] = "xdnatd";
	va_start(ap, arg);
	for (const char *a = arg; a; a = va_arg(ap, const char *)) {
		assert_true(argc < MAX_ARGS);
		f->argv[argc++] = !strcmp(a, "@CONF") ? f->conf : (char *)a;
	}
	va_end(ap);
	f->argv[argc] = NULL;
	f->err[0] = 0;
	return config_load(argc, f->argv, &f->cfg, f->err, sizeof(f->err));
}
#define load(f, ...)	load_argv(f, __VA_ARGS__, NULL)

static uint32_t addr(const char *dotted)
{
	uint32_t a;

	assert_int_equal(inet_pton(AF_INET, dotted, &a), 1);
	return a;
}

static void test_defaults(void **state)
{
	struct fx *f = *state;
	const struct xdnatd_config *c = &f->cfg;

	assert_int_equal(load(f, "--global", "198.51.100.1"), 0);
	assert_int_equal(c->gw.global, addr("198.51.100.1"));
	assert_int_equal(c->internal, 0);
	assert_string_equal(c->ext_if, "");
	assert_string_equal(c->int_if, "");
	assert_false(config_dataplane(c));
	assert_int_equal(c->gw.port_lo, 10000);
	assert_int_equal(c->gw.port_hi, 65535);
	assert_int_equal(c->gw.spi_lo, 4096);
	assert_int_equal(c->gw.spi_hi, UINT32_MAX);
	assert_int_equal(c->pap_port, 4555);
	assert_string_equal(c->state_dir, "/var/lib/xdnat");
	assert_string_equal(c->socket_path, "/run/xdnat/xdnatd.sock");
	assert_string_equal(c->bpffs, XDNAT_BPFFS_DEFAULT);
	assert_false(c->xdp_generic);
	assert_int_equal(c->sa_entries, XDNAT_MAX_SA);
	assert_false(c->unload);
	assert_int_equal(c->gw.lease_secs, 300);
	assert_int_equal(c->gw.max_lease_secs, 3600);
	assert_int_equal(c->gw.port_quota, 4096);
	assert_int_equal(c->gw.spi_quota, 65536);
	assert_int_equal(c->gw.max_hosts, 4096);
	assert_string_equal(c->site_key_file, "");
	assert_int_equal(c->gw.site_key_len, 0);
	assert_string_equal(c->ca_cert, "");
	assert_string_equal(c->ca_key, "");
	assert_string_equal(c->config_file, "");
	assert_false(c->foreground);
	assert_int_equal(c->log_level, LOG_LVL_INFO);
	/* issue 13: the budgets, the CRL distribution point, the OID */
	assert_int_equal(c->gw.sa_budget, GW_DEFAULT_SA_BUDGET);
	assert_int_equal(c->gw.sa_table, XDNAT_MAX_SA);
	assert_int_equal(c->gw.cert_rate, GW_DEFAULT_CERT_RATE);
	assert_int_equal(c->crl_port, 0);		/* no --internal: nowhere to serve */
	assert_string_equal(c->crl_url, "");
	assert_string_equal(c->port_blocks_oid, CERT_OID_PORT_BLOCKS);
	assert_true(!strncmp(c->port_blocks_oid, "2.25.", 5));
}

/* The CRL's HTTP address and URL follow --internal unless given; the SA
 * budget never exceeds the map. */
static void test_crl_and_budget_keys(void **state)
{
	struct fx *f = *state;
	const struct xdnatd_config *c = &f->cfg;

	assert_int_equal(load(f, "--global", "198.51.100.1", "--internal", "10.0.0.1"), 0);
	assert_int_equal(c->crl_addr, addr("10.0.0.1"));
	assert_int_equal(c->crl_port, CRL_HTTP_DEFAULT_PORT);
	assert_string_equal(c->crl_url, "http://10.0.0.1:8555/crl.der");

	assert_int_equal(load(f, "--global", "198.51.100.1", "--internal", "10.0.0.1",
			      "--crl-listen", "0.0.0.0:8080", "--crl-url",
			      "http://crl.example/x.crl"), 0);
	assert_int_equal(c->crl_addr, 0);
	assert_int_equal(c->crl_port, 8080);
	assert_string_equal(c->crl_url, "http://crl.example/x.crl");

	assert_int_equal(load(f, "--global", "198.51.100.1", "--internal", "10.0.0.1",
			      "--crl-listen", "none"), 0);
	assert_int_equal(c->crl_port, 0);
	assert_string_equal(c->crl_url, "");

	assert_int_equal(load(f, "--global", "198.51.100.1", "--sa-entries", "4096"), 0);
	assert_int_equal(c->gw.sa_budget, 4096);
	assert_int_equal(c->gw.sa_table, 4096);
	assert_int_equal(load(f, "--global", "198.51.100.1", "--sa-budget", "1000",
			      "--cert-rate", "2", "--port-blocks-oid", "1.2.3.4"), 0);
	assert_int_equal(c->gw.sa_budget, 1000);
	assert_int_equal(c->gw.cert_rate, 2);
	assert_string_equal(c->port_blocks_oid, "1.2.3.4");
}

/* The values of every settable key, as the file would write them; the same
 * pairs become "--KEY VALUE" on the command line. */
static const char *const every_key[][2] = {
	{ "ext-if", "eth9" },
	{ "int-if", "eth8" },
	{ "global", "203.0.113.7" },
	{ "internal", "10.1.2.3" },
	{ "ports", "2000-0x0fff" },
	{ "spis", "256-65535" },
	{ "pap-port", "4777" },
	{ "state-dir", "/srv/xdnat state" },
	{ "socket", "/run/x.sock" },
	{ "bpffs", "/sys/fs/bpf/other" },
	{ "xdp-mode", "generic" },
	{ "sa-entries", "1024" },
	{ "lease", "60" },
	{ "max-lease", "2592000" },
	{ "port-quota", "65535" },
	{ "spi-quota", "16" },
	{ "max-hosts", "1048576" },
	{ "site-key", "SITEKEY" },		/* replaced by the fixture's key file */
	{ "ca-cert", "/etc/xdnat/ca.pem" },
	{ "ca-key", "/etc/xdnat/ca.key" },
	{ "log-level", "warn" },
	{ "internal-nets", "10.9.0.0/16, 172.16.5.77/24,192.168.1.1/32" },
};
#define N_EVERY	(sizeof(every_key) / sizeof(every_key[0]))

static const char site_key[] = "0123456789abcdef0123";

static const char *site_key_file(struct fx *f)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s/site.key", f->root);
	write_file(path, site_key);
	assert_int_equal(chmod(path, 0600), 0);
	return path;
}

static void assert_every_key(const struct xdnatd_config *c, bool foreground)
{
	assert_string_equal(c->ext_if, "eth9");
	assert_string_equal(c->int_if, "eth8");
	assert_true(config_dataplane(c));
	assert_int_equal(c->gw.global, addr("203.0.113.7"));
	assert_int_equal(c->internal, addr("10.1.2.3"));
	assert_int_equal(c->gw.port_lo, 2000);
	assert_int_equal(c->gw.port_hi, 4095);
	assert_int_equal(c->gw.spi_lo, 256);
	assert_int_equal(c->gw.spi_hi, 65535);
	assert_int_equal(c->pap_port, 4777);
	assert_string_equal(c->state_dir, "/srv/xdnat state");
	assert_string_equal(c->socket_path, "/run/x.sock");
	assert_string_equal(c->bpffs, "/sys/fs/bpf/other");
	assert_true(c->xdp_generic);
	assert_int_equal(c->sa_entries, 1024);
	assert_int_equal(c->gw.lease_secs, 60);
	assert_int_equal(c->gw.max_lease_secs, 2592000);
	assert_int_equal(c->gw.port_quota, 65535);
	assert_int_equal(c->gw.spi_quota, 16);
	assert_int_equal(c->gw.max_hosts, 1048576);
	assert_int_equal(c->gw.site_key_len, strlen(site_key));
	assert_memory_equal(c->gw.site_key, site_key, strlen(site_key));
	assert_string_equal(c->ca_cert, "/etc/xdnat/ca.pem");
	assert_string_equal(c->ca_key, "/etc/xdnat/ca.key");
	assert_int_equal(c->log_level, LOG_LVL_WARN);
	/* masked, in network order: the data plane's BCP 38 prefixes */
	assert_int_equal(c->n_int_nets, 3);
	assert_int_equal(c->int_net[0], addr("10.9.0.0"));
	assert_int_equal(c->int_mask[0], addr("255.255.0.0"));
	assert_int_equal(c->int_net[1], addr("172.16.5.0"));
	assert_int_equal(c->int_mask[1], addr("255.255.255.0"));
	assert_int_equal(c->int_net[2], addr("192.168.1.1"));
	assert_int_equal(c->int_mask[2], addr("255.255.255.255"));
	assert_int_equal(c->foreground, foreground);
	assert_false(c->unload);
}

static void test_every_key_from_the_file(void **state)
{
	struct fx *f = *state;
	const char *key = site_key_file(f);
	char text[2048] = "# every key, in the forms the file allows\n\n";

	for (size_t i = 0; i < N_EVERY; i++) {
		const char *v = strcmp(every_key[i][0], "site-key") ? every_key[i][1] : key;
		const char *sep = i % 3 == 0 ? " = " : i % 3 == 1 ? "=" : "\t";

		snprintf(text + strlen(text), sizeof(text) - strlen(text), "  %s%s%s  # note\n",
			 every_key[i][0], sep, v);
	}
	strcat(text, "foreground\n");	/* a switch alone: yes */
	write_file(f->conf, text);
	if (load(f, "--config", "@CONF"))
		fail_msg("%s", f->err);
	assert_every_key(&f->cfg, true);
	assert_string_equal(f->cfg.config_file, f->conf);
}

static void test_every_key_from_argv(void **state)
{
	struct fx *f = *state;
	const char *key = site_key_file(f);
	char *argv[2 * N_EVERY + 3];
	int argc = 0;

	argv[argc++] = "xdnatd";
	for (size_t i = 0; i < N_EVERY; i++) {
		static char opt[N_EVERY][32];

		snprintf(opt[i], sizeof(opt[i]), "--%s", every_key[i][0]);
		argv[argc++] = opt[i];
		argv[argc++] = (char *)(strcmp(every_key[i][0], "site-key") ? every_key[i][1] : key);
	}
	argv[argc++] = "--foreground";
	argv[argc] = NULL;
	if (config_load(argc, argv, &f->cfg, f->err, sizeof(f->err)))
		fail_msg("%s", f->err);
	assert_every_key(&f->cfg, true);

	/* "--key=value" is getopt_long's too */
	assert_int_equal(load(f, "--global=192.0.2.1", "--lease=77"), 0);
	assert_int_equal(f->cfg.gw.lease_secs, 77);
}

static void test_switches(void **state)
{
	struct fx *f = *state;
	static const char *const yes[] = { "yes", "true", "1" }, *const no[] = { "no", "false", "0" };
	char text[64];

	for (size_t i = 0; i < 3; i++) {
		snprintf(text, sizeof(text), "foreground = %s\n", yes[i]);
		write_file(f->conf, text);
		assert_int_equal(load(f, "--config", "@CONF", "--global", "192.0.2.1"), 0);
		assert_true(f->cfg.foreground);
		snprintf(text, sizeof(text), "foreground = %s\n", no[i]);
		write_file(f->conf, text);
		assert_int_equal(load(f, "--config", "@CONF", "--global", "192.0.2.1"), 0);
		assert_false(f->cfg.foreground);
	}
	/* the command line's switch beats the file's "no" */
	assert_int_equal(load(f, "--config", "@CONF", "--global", "192.0.2.1", "--foreground"), 0);
	assert_true(f->cfg.foreground);
	/* --unload needs no --global */
	assert_int_equal(load(f, "--unload", "--ext-if", "eth0"), 0);
	assert_true(f->cfg.unload);
}

static void test_argv_overrides_the_file(void **state)
{
	struct fx *f = *state;

	write_file(f->conf, "global = 192.0.2.1\nlease = 45\nmax-lease = 90\nports = 100-200\n"
			    "log-level = debug\n");
	/* --config after the flags it is overridden by: the file is read first */
	assert_int_equal(load(f, "--lease", "80", "--ports", "300-400", "--config", "@CONF"), 0);
	assert_int_equal(f->cfg.gw.global, addr("192.0.2.1"));
	assert_int_equal(f->cfg.gw.lease_secs, 80);
	assert_int_equal(f->cfg.gw.max_lease_secs, 90);
	assert_int_equal(f->cfg.gw.port_lo, 300);
	assert_int_equal(f->cfg.gw.port_hi, 400);
	assert_int_equal(f->cfg.log_level, LOG_LVL_DEBUG);
	/* the lease check sees the result, not the file alone */
	assert_int_equal(load(f, "--config", "@CONF", "--max-lease", "40"), -1);
	assert_string_equal(f->err, "--lease 45 is longer than --max-lease 40");
}

/* "--global 1.2.3.4 FLAG VALUE" refused with "bad value for FLAG: 'VALUE'"
 * and what the key takes. */
#define POOL_EXPECTS	" (ADDR, A,B or A/28..32, 16 at most, none twice)"

static const char *const bad_values[][3] = {
	{ "--global", "0.0.0.0", POOL_EXPECTS },
	{ "--global", "198.51.100", POOL_EXPECTS },
	{ "--global", "198.51.100.0/27", POOL_EXPECTS },	/* 32: more than 16 */
	{ "--global", "198.51.100.4/28", POOL_EXPECTS },	/* not the prefix's first */
	{ "--global", "198.51.100.1,198.51.100.1", POOL_EXPECTS },
	{ "--global", "198.51.100.1,x", POOL_EXPECTS },
	{ "--internal", "::1", "" },
	{ "--ports", "9-2", " (LO-HI, 1 to 65535)" },
	{ "--ports", "0-10", " (LO-HI, 1 to 65535)" },
	{ "--ports", "10", " (LO-HI, 1 to 65535)" },
	{ "--spis", "255-4096", " (LO-HI, 256 to 4294967295)" },
	{ "--pap-port", "65536", " (1 to 65535)" },
	{ "--lease", "4", " (5 to 604800)" },
	{ "--max-lease", "2592001", " (5 to 2592000)" },
	{ "--port-quota", "0", " (1 to 65535)" },
	{ "--spi-quota", "15", " (16 to 4294967295)" },
	{ "--max-hosts", "1048577", " (1 to 1048576)" },
	{ "--sa-entries", "1023", " (1024 to 67108864)" },
	{ "--xdp-mode", "fast", "" },
	{ "--log-level", "loud", "" },
	{ "--ext-if", "a-name-of-16-chr", "" },	/* IF_NAMESIZE with its NUL */
	{ "--state-dir", "", "" },
};

static void test_bad_values(void **state)
{
	struct fx *f = *state;

	for (size_t i = 0; i < sizeof(bad_values) / sizeof(bad_values[0]); i++) {
		const char *const *b = bad_values[i];
		char want[256];

		/* --global last, so that a bad --global is the one refused */
		assert_int_equal(load(f, b[0], b[1], "--global", "1.2.3.4"), -1);
		if (!strcmp(b[0], "--global"))
			assert_int_equal(load(f, "--global", "1.2.3.4", b[0], b[1]), -1);
		snprintf(want, sizeof(want), "bad value for %s: '%s'%s", b[0], b[1], b[2]);
		assert_string_equal(f->err, want);
	}
}

/* A refusal: the file's text (NULL: none) and the command line, and the
 * message config_load() gives ("%s" in it: the file's path). */
struct refusal {
	const char *file;
	const char *argv[8];
	const char *message;
};

static const struct refusal refusals[] = {
	{ NULL, { "--ports", "1-2" }, "--global ADDR is required (the address the hosts share)" },
	{ NULL, { "--global", "1.2.3.4", "--bogus" },
	  "unknown option or missing value: '--bogus' (see --help)" },
	{ NULL, { "--global" }, "unknown option or missing value: '--global' (see --help)" },
	{ NULL, { "--global", "1.2.3.4", "extra" }, "unexpected argument 'extra' (see --help)" },
	{ NULL, { "--global", "1.2.3.4", "--crl-listen", "10.0.0.1" },
	  "--crl-listen 10.0.0.1: not ADDR:PORT nor none" },
	{ NULL, { "--global", "1.2.3.4", "--crl-listen", "10.0.0.1:0" },
	  "--crl-listen 10.0.0.1:0: not ADDR:PORT nor none" },
	{ NULL, { "--global", "1.2.3.4", "--crl-url", "ldap://x/crl" },
	  "--crl-url ldap://x/crl: not an http:// URL (RFC 5280 wants HTTP or LDAP, "
	  "strongSwan fetches HTTP)" },
	{ NULL, { "--global", "1.2.3.4", "--port-blocks-oid", "portBlocks" },
	  "--port-blocks-oid portBlocks: not a dotted OID" },
	{ NULL, { "--global", "1.2.3.4", "--internal-nets", "10.0.0.0/8,10.1.0.0" },
	  "--internal-nets 10.0.0.0/8,10.1.0.0: not a list of A.B.C.D/LEN" },
	{ NULL, { "--global", "1.2.3.4", "--internal-nets", "10.0.0.0/0" },
	  "--internal-nets 10.0.0.0/0: not a list of A.B.C.D/LEN" },
	{ NULL, { "--global", "1.2.3.4", "--internal-nets",
		  "1.0.0.0/8,2.0.0.0/8,3.0.0.0/8,4.0.0.0/8,5.0.0.0/8,6.0.0.0/8,7.0.0.0/8,"
		  "8.0.0.0/8,9.0.0.0/8" },
	  "--internal-nets: more than 8 prefixes" },
	{ NULL, { "--global", "1.2.3.4", "--lease", "900", "--max-lease", "600" },
	  "--lease 900 is longer than --max-lease 600" },
	{ NULL, { "--global", "1.2.3.4", "--ext-if", "eth0", "--int-if", "eth0" },
	  "--ext-if and --int-if name the same interface eth0" },
	{ NULL, { "--global", "1.2.3.4", "--ext-if", "eth0", "--int-if", "eth1" },
	  "--internal ADDR is required with --ext-if and --int-if (the outer source of the "
	  "tunnel to the hosts)" },
	{ NULL, { "--global", "1.2.3.4", "--ca-cert", "/x.pem" },
	  "--ca-cert and --ca-key go together" },
	{ NULL, { "--global", "1.2.3.4", "--ca-key", "/x.key" },
	  "--ca-cert and --ca-key go together" },
	{ "lease = 3\n", { "--global", "1.2.3.4" }, "%s:1: bad value for lease: '3' (5 to 604800)" },
	{ "# first\n\nbogus = 1\n", { "--global", "1.2.3.4" }, "%s:3: unknown key 'bogus'" },
	{ "unload\n", { "--global", "1.2.3.4" }, "%s:1: unknown key 'unload'" },
	{ "config = /etc/other.conf\n", { "--global", "1.2.3.4" }, "%s:1: unknown key 'config'" },
	{ "help\n", { "--global", "1.2.3.4" }, "%s:1: unknown key 'help'" },
	{ "ports\n", { "--global", "1.2.3.4" }, "%s:1: bad value for ports: '' (LO-HI, 1 to 65535)" },
	{ "lease =\n", { "--global", "1.2.3.4" }, "%s:1: bad value for lease: '' (5 to 604800)" },
	{ "foreground = maybe\n", { "--global", "1.2.3.4" },
	  "%s:1: bad value for foreground: 'maybe' (yes or no)" },
	{ "global = 1.2.3.4\nspis = 4096-4095\n", { NULL },
	  "%s:2: bad value for spis: '4096-4095' (LO-HI, 256 to 4294967295)" },
};

static void test_refusals(void **state)
{
	struct fx *f = *state;

	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		const struct refusal *r = &refusals[i];
		char *argv[12], want[512];
		int argc = 0;

		argv[argc++] = "xdnatd";
		if (r->file) {
			write_file(f->conf, r->file);
			argv[argc++] = "--config";
			argv[argc++] = f->conf;
		}
		for (size_t k = 0; r->argv[k]; k++)
			argv[argc++] = (char *)r->argv[k];
		argv[argc] = NULL;
		f->err[0] = 0;
		if (config_load(argc, argv, &f->cfg, f->err, sizeof(f->err)) != -1)
			fail_msg("refusal %zu (%s) accepted", i, r->message);
		snprintf(want, sizeof(want), r->message, f->conf);
		assert_string_equal(f->err, want);
	}
}

static void test_file_and_site_key_errors(void **state)
{
	struct fx *f = *state;
	char want[512], key[256];

	assert_int_equal(load(f, "--config", "@CONF", "--global", "1.2.3.4"), -1);
	snprintf(want, sizeof(want), "%s: No such file or directory", f->conf);
	assert_string_equal(f->err, want);

	snprintf(key, sizeof(key), "%s/short.key", f->root);
	write_file(key, "tooshort");
	assert_int_equal(chmod(key, 0600), 0);
	assert_int_equal(load(f, "--global", "1.2.3.4", "--site-key", key), -1);
	assert_non_null(strstr(f->err, key));	/* site_key.c words the reason */
}

/* SIGHUP: xdnatd calls config_load() again with its argv, after the file
 * changed; getopt must start over and the file be read anew. */
static void test_reload_after_the_file_changed(void **state)
{
	struct fx *f = *state;

	write_file(f->conf, "lease = 45\n# comment\nmax-lease = 90\n");
	assert_int_equal(load(f, "--global", "192.0.2.1", "--config", "@CONF", "--port-quota", "9"),
			 0);
	assert_int_equal(f->cfg.gw.lease_secs, 45);
	assert_int_equal(f->cfg.gw.max_lease_secs, 90);

	write_file(f->conf, "lease = 50\nmax-lease = 90\nport-quota = 100\n");
	for (int round = 0; round < 2; round++) {	/* the same argv array, twice */
		int argc = 0;

		while (f->argv[argc])
			argc++;
		memset(&f->cfg, 0xa5, sizeof(f->cfg));	/* nothing survives from before */
		assert_int_equal(config_load(argc, f->argv, &f->cfg, f->err, sizeof(f->err)), 0);
		assert_int_equal(f->cfg.gw.lease_secs, 50);
		assert_int_equal(f->cfg.gw.port_quota, 9);	/* the command line still wins */
		assert_int_equal(f->cfg.gw.spi_quota, 65536);
		assert_int_equal(f->cfg.gw.global, addr("192.0.2.1"));
	}

	/* a reload that fails says why (and xdnatd keeps what it runs) */
	write_file(f->conf, "lease = 50\nmax-lease = 5000000\n");
	assert_int_equal(config_load(7, f->argv, &f->cfg, f->err, sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, ":2: bad value for max-lease: '5000000'"));
}

/* A whole file, malloc'd and NUL-ended. */
static char *read_text(const char *path)
{
	FILE *in = fopen(path, "r");
	char *text;
	long n;

	if (!in)
		fail_msg("%s: not readable (the unit tests run from the top of the tree)", path);
	fseek(in, 0, SEEK_END);
	n = ftell(in);
	rewind(in);
	text = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(text, 1, (size_t)n, in), (size_t)n);
	fclose(in);
	return text;
}

/* stdout of config_load(--help), through a file. */
static char *help_text(struct fx *f, int *rc)
{
	char path[256];
	int saved = dup(STDOUT_FILENO);

	snprintf(path, sizeof(path), "%s/help.txt", f->root);
	fflush(stdout);
	assert_non_null(freopen(path, "w", stdout));
	*rc = load(f, "--global", "1.2.3.4", "--help", "--lease", "4");
	fflush(stdout);
	assert_int_equal(dup2(saved, STDOUT_FILENO), STDOUT_FILENO);
	close(saved);
	return read_text(path);
}

static void test_help(void **state)
{
	static const char usage_head[] = "usage: xdnatd --global ADDR [options]\n\n";
	struct fx *f = *state;
	int rc;
	char *help = help_text(f, &rc), *docs = read_text("docs/xdnatd.md"), *save = NULL;
	unsigned int flags = 0;
	FILE *direct;
	char *usage = NULL;
	size_t usage_len;

	assert_int_equal(rc, 1);	/* --help wins over a bad --lease after it */
	assert_true(!strncmp(help, usage_head, strlen(usage_head)));
	direct = open_memstream(&usage, &usage_len);
	config_usage(direct);
	fclose(direct);
	assert_string_equal(help, usage);
	free(usage);

	/* Every flag of --help is a row of the docs' table, with the same
	 * default: "  --ports LO-HI   ports of G ... (default 10000-65535)". */
	for (char *line = strtok_r(help, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char flag[64], row[96], *def, *p;
		size_t n;

		if (strncmp(line, "  --", 4) || !strncmp(line, "  --help", 8))
			continue;
		flags++;
		p = line + 2;
		n = 0;
		while (p[n] && !(p[n] == ' ' && p[n + 1] == ' '))
			n++;
		snprintf(flag, sizeof(flag), "%.*s", (int)n, p);	/* "--ports LO-HI" */
		snprintf(row, sizeof(row), "| `%s` | ", flag);
		p = strstr(docs, row);
		if (!p)
			fail_msg("docs/xdnatd.md has no row \"%s\"", row);
		def = strstr(line, "(default ");
		if (def && def[9] != ':') {
			char want[256];

			snprintf(want, sizeof(want), "%s%.*s |", row,
				 (int)(strchr(def, ')') - def - 9), def + 9);
			if (strncmp(p, want, strlen(want)))
				fail_msg("docs/xdnatd.md: \"%s\" wanted, \"%.*s\" found", want,
					 (int)strlen(want), p);
		}
	}
	assert_int_equal(flags, 44);	/* every key of config.c's table, and --version */
	free(help);
	free(docs);
}

/* issue 15: --global a pool (repeated, a list, a prefix; the file the same,
 * the command line replacing the file's); more than one is refused with
 * one line until the data plane knows several G. */
static void test_global_pool(void **state)
{
	static const char *const refusal = "a pool of %u addresses needs data-plane "
		"support for several G (issue 15); configure one --global";
	struct fx *f = *state;
	char want[256];

	assert_int_equal(load(f, "--global", "198.51.100.7/32"), 0);
	assert_int_equal(f->cfg.gw.n_pool, 1);
	assert_int_equal(f->cfg.gw.global, addr("198.51.100.7"));

	assert_int_equal(load(f, "--global", "198.51.100.1,198.51.100.2",
			      "--global", "198.51.100.9"), -1);
	snprintf(want, sizeof(want), refusal, 3);
	assert_string_equal(f->err, want);
	assert_int_equal(f->cfg.gw.n_pool, 3);
	assert_int_equal(f->cfg.gw.pool[2], addr("198.51.100.9"));

	assert_int_equal(load(f, "--global", "198.51.100.16/28"), -1);
	snprintf(want, sizeof(want), refusal, 16);
	assert_string_equal(f->err, want);
	assert_int_equal(f->cfg.gw.pool[0], addr("198.51.100.16"));
	assert_int_equal(f->cfg.gw.pool[15], addr("198.51.100.31"));

	/* 16 and one more: over what REGISTER_REPLY names */
	assert_int_equal(load(f, "--global", "198.51.100.16/28", "--global", "192.0.2.1"), -1);
	assert_non_null(strstr(f->err, "bad value for --global: '192.0.2.1'"));

	/* the file's key the same, repeatable; --global on the line replaces it */
	write_file(f->conf, "global = 203.0.113.1\nglobal = 203.0.113.2/32\n");
	assert_int_equal(load(f, "--config", "@CONF"), -1);
	snprintf(want, sizeof(want), refusal, 2);
	assert_string_equal(f->err, want);
	assert_int_equal(load(f, "--config", "@CONF", "--global", "192.0.2.1"), 0);
	assert_int_equal(f->cfg.gw.n_pool, 1);
	assert_int_equal(f->cfg.gw.global, addr("192.0.2.1"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_key_from_the_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_key_from_argv, setup, teardown),
		cmocka_unit_test_setup_teardown(test_switches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_argv_overrides_the_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_and_site_key_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_after_the_file_changed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_help, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crl_and_budget_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_global_pool, setup, teardown),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
