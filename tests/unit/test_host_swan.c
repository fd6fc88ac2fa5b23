/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * strongSwan settings from a host's share (ctl/host_swan.c): for a given
 * allocation, the exact lines charon and swanctl act on (ports, SPI block,
 * plugins, the template connection, the updown hook), the files and modes
 * swan_write makes, the copies of the credentials, byte-identical output on a
 * second run, and the refusals (ports, SPI block, paths, names).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include "host/host_swan.h"
#include "test_lines.h"

#define KEY_PEM  "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n"
#define CERT_PEM "-----BEGIN CERTIFICATE-----\nMIIBhost\n-----END CERTIFICATE-----\n"
#define CA_PEM   "-----BEGIN CERTIFICATE-----\nMIIBca\n-----END CERTIFICATE-----\n"
#define PCA1_PEM "-----BEGIN CERTIFICATE-----\nMIIBpeer1\n-----END CERTIFICATE-----\n"
#define PCA2_PEM "-----BEGIN CERTIFICATE-----\nMIIBpeer2\n-----END CERTIFICATE-----\n"

struct fx {
	char src[64];		/* the credentials' originals */
	char dir[128];		/* what swan_write writes: src/out */
	char key[128], cert[128], ca[128], pca1[128], pca2[128];
	const char *pcas[3];
	struct swan_params p;
	char err[512];
};

static void put(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

static char *slurp_in(const struct fx *f, const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
	return slurp(path);
}

static mode_t mode_of(const struct fx *f, const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
	if (lstat(path, &st))
		return (mode_t)-1;
	return st.st_mode;
}


static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	umask(022);
	snprintf(f->src, sizeof(f->src), "/tmp/xdnat-swan.XXXXXX");
	if (!mkdtemp(f->src))
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/out", f->src);
	snprintf(f->key, sizeof(f->key), "%s/h.key", f->src);
	snprintf(f->cert, sizeof(f->cert), "%s/h.pem", f->src);
	snprintf(f->ca, sizeof(f->ca), "%s/ca.pem", f->src);
	snprintf(f->pca1, sizeof(f->pca1), "%s/pca1.pem", f->src);
	snprintf(f->pca2, sizeof(f->pca2), "%s/pca2.pem", f->src);
	put(f->key, KEY_PEM, 0600);
	put(f->cert, CERT_PEM, 0644);
	put(f->ca, CA_PEM, 0644);
	put(f->pca1, PCA1_PEM, 0644);
	put(f->pca2, PCA2_PEM, 0644);
	f->pcas[0] = f->pca1;
	f->pcas[1] = f->pca2;

	/* h1 of the rig: ports 20000-20063, SPIs 4096-4351 */
	inet_pton(AF_INET, "198.51.100.1", &f->p.global);
	f->p.ike_port = 20000;
	f->p.natt_port = 20001;
	f->p.spi_min = 4096;
	f->p.spi_max = 4351;
	f->p.key_path = f->key;
	f->p.cert_path = f->cert;
	f->p.ca_path = f->ca;
	f->p.xdnat_host_path = "/usr/local/sbin/xdnat-host";
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->src);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* --- strongswan.conf ------------------------------------------------------------ */
static void libipsec_conf(void **state)
{
	struct fx *f = *state;
	char *s = swan_strongswan_conf(&f->p, "/etc/xdnat/swan");

	assert_non_null(s);
	assert_line(s, "charon {");
	assert_line(s, "\tport = 20000");
	assert_line(s, "\tport_nat_t = 20001");
	assert_line(s, "\tspi_min = 0x00001000");
	assert_line(s, "\tspi_max = 0x000010ff");
	assert_line(s, "\tload_modular = no");
	assert_line(s, "\tload = random nonce openssl pem pkcs1 pkcs8 x509 revocation constraints "
		    "pubkey kdf aes sha1 sha2 hmac gcm kernel-libipsec kernel-netlink "
		    "socket-default vici updown");
	assert_line(s, "\t\t\tsocket = unix:///etc/xdnat/swan/charon.vici");
	assert_line(s, "\t\t\tallow_peer_ts = yes");
	assert_line(s, "\t\t\tfwmark = !0x4555");
	assert_line(s, "\t\t\tfwmark = 0x4555");
	assert_line(s, "swanctl {");
	assert_line(s, "\tsocket = unix:///etc/xdnat/swan/charon.vici");
	assert_line(s, "include /etc/xdnat/swan/strongswan.d/*.conf");
	assert_line(s, "#   SPIs 4096-4351 (256): the host's SPI block");
	assert_no_line(s, "\tinstall_routes = no");
	free(s);
}

static void kernel_esp_conf(void **state)
{
	struct fx *f = *state;
	char *s;

	f->p.kernel_has_esp = true;
	s = swan_strongswan_conf(&f->p, "/etc/xdnat/swan");
	assert_non_null(s);
	assert_line(s, "\tport = 20000");
	assert_line(s, "\tport_nat_t = 20001");
	assert_line(s, "\tspi_min = 0x00001000");
	assert_line(s, "\tspi_max = 0x000010ff");
	assert_line(s, "\tinstall_routes = no");
	assert_line(s, "\tload = random nonce openssl pem pkcs1 pkcs8 x509 revocation constraints "
		    "pubkey kdf aes sha1 sha2 hmac gcm kernel-netlink socket-default vici updown");
	assert_null(strstr(s, "kernel-libipsec"));
	assert_null(strstr(s, "fwmark"));
	assert_null(strstr(s, "allow_peer_ts"));
	free(s);
}

static void high_spis(void **state)
{
	struct fx *f = *state;
	char *s;

	f->p.spi_min = 0xc0010000;
	f->p.spi_max = 0xc001ffff;
	s = swan_strongswan_conf(&f->p, "/d");
	assert_non_null(s);
	assert_line(s, "\tspi_min = 0xc0010000");
	assert_line(s, "\tspi_max = 0xc001ffff");
	assert_line(s, "#   SPIs 3221291008-3221356543 (65536): the host's SPI block");
	free(s);
}

/* --- swanctl.conf ------------------------------------------------------------------ */
static void swanctl_initiator(void **state)
{
	struct fx *f = *state;
	char *s;

	f->p.peer = "203.0.113.10";
	s = swan_swanctl_conf(&f->p, "/etc/xdnat/swan");
	assert_non_null(s);
	assert_line(s, "xdnat-template {");
	assert_line(s, "\tversion = 2");
	assert_line(s, "\tlocal_addrs = 198.51.100.1");
	assert_line(s, "\tlocal_port = 20000");
	assert_line(s, "\t\tauth = pubkey");
	assert_line(s, "\t\tcerts = host.pem");
	assert_line(s, "\t\tid = %any");
	assert_line(s, "\t\txdnat {");
	assert_line(s, "\t\t\tlocal_ts = dynamic");
	assert_line(s, "\t\t\tremote_ts = dynamic");
	assert_line(s, "\t\t\tmode = tunnel");
	assert_line(s, "\t\t\tupdown = /etc/xdnat/swan/updown.sh");
	assert_line(s, "connections {");
	assert_line(s, "\txdnat : xdnat-template {");
	assert_line(s, "\t\tremote_addrs = 203.0.113.10");
	assert_line(s, "\t\tremote_port = 500");
	assert_line(s, "include conf.d/*.conf");
	free(s);

	f->p.peer_port = 4500;
	f->p.peer_id = "O=peer site, CN=203.0.113.10";
	s = swan_swanctl_conf(&f->p, "/etc/xdnat/swan");
	assert_non_null(s);
	assert_line(s, "\t\tremote_port = 4500");
	assert_line(s, "\t\tid = \"O=peer site, CN=203.0.113.10\"");
	free(s);
}

static void swanctl_responder(void **state)
{
	struct fx *f = *state;
	char *s = swan_swanctl_conf(&f->p, "/x");

	assert_non_null(s);
	assert_line(s, "\t\tremote_addrs = %any");
	assert_null(strstr(s, "remote_port"));
	free(s);

	f->p.peer = "";		/* "" is no peer too */
	s = swan_swanctl_conf(&f->p, "/x");
	assert_non_null(s);
	assert_line(s, "\t\tremote_addrs = %any");
	free(s);
}

static void swanctl_ts_ports(void **state)
{
	struct fx *f = *state;
	char *s;

	f->p.ts_port_first = 20000;
	f->p.ts_port_last = 20063;
	s = swan_swanctl_conf(&f->p, "/x");
	assert_non_null(s);
	assert_line(s, "\t\t\tlocal_ts = 198.51.100.1/32[tcp/20000-20063],"
		    "198.51.100.1/32[udp/20000-20063]");
	assert_line(s, "\t\t\tremote_ts = dynamic");
	free(s);
}

/* --- updown.sh -------------------------------------------------------------------------- */
static void updown(void **state)
{
	struct fx *f = *state;
	char *s = swan_updown_sh(&f->p, "/etc/xdnat/swan");

	assert_non_null(s);
	assert_int_equal(strncmp(s, "#!/bin/sh\n", 10), 0);
	assert_line(s, "XDNAT_HOST='/usr/local/sbin/xdnat-host'");
	assert_line(s, "set --");
	assert_line(s, "COUNTS='/etc/xdnat/swan/updown.d'");
	assert_line(s, "case $PLUTO_VERB in");
	assert_line(s, "up-host|up-client) op=validate ;;");
	assert_line(s, "down-host|down-client) op=invalidate ;;");
	assert_line(s, "peer=$PLUTO_PEER");
	assert_line(s, "exec \"$XDNAT_HOST\" \"$op\" \"$peer\" \"$@\"");
	free(s);

	f->p.agent_socket = "/run/xdnat/h1.sock";
	s = swan_updown_sh(&f->p, "/etc/xdnat/swan");
	assert_non_null(s);
	assert_line(s, "set -- --socket '/run/xdnat/h1.sock'");
	free(s);
}

/* The script itself, run as charon runs it, with a stand-in for xdnat-host:
 * validate on every up, invalidate only when the last CHILD_SA with the peer
 * is down, nothing for IPv6 verbs. */
static void updown_runs(void **state)
{
	struct fx *f = *state;
	char fake[160], log[160], cmd[1024];
	char *out;

	snprintf(fake, sizeof(fake), "%s/fake-host", f->src);
	snprintf(log, sizeof(log), "%s/fake.log", f->src);
	snprintf(cmd, sizeof(cmd), "#!/bin/sh\necho \"$*\" >> '%s'\n", log);
	put(fake, cmd, 0755);
	f->p.xdnat_host_path = fake;
	f->p.agent_socket = "/tmp/h1.sock";
	assert_int_equal(swan_write(f->dir, &f->p, f->err, sizeof(f->err)), 0);

#define RUN(verb, peer) do {							\
	snprintf(cmd, sizeof(cmd), "PLUTO_VERB=%s PLUTO_PEER=%s %s/updown.sh",	\
		 verb, peer, f->dir);						\
	assert_int_equal(system(cmd), 0);					\
} while (0)
	RUN("up-host", "203.0.113.10");
	RUN("up-client", "203.0.113.10");
	RUN("up-host", "203.0.113.20");
	RUN("up-host-v6", "2001:db8::1");
	RUN("down-host", "203.0.113.10");	/* one of two: stays */
	RUN("down-client", "203.0.113.10");
	RUN("down-host", "203.0.113.20");
#undef RUN
	out = slurp(log);
	assert_non_null(out);
	assert_string_equal(out,
			    "validate 203.0.113.10 --socket /tmp/h1.sock\n"
			    "validate 203.0.113.10 --socket /tmp/h1.sock\n"
			    "validate 203.0.113.20 --socket /tmp/h1.sock\n"
			    "invalidate 203.0.113.10 --socket /tmp/h1.sock\n"
			    "invalidate 203.0.113.20 --socket /tmp/h1.sock\n");
	free(out);
	/* counts gone with the last down */
	assert_int_equal(mode_of(f, "updown.d/203.0.113.10"), (mode_t)-1);
	assert_int_equal(mode_of(f, "updown.d/203.0.113.20"), (mode_t)-1);
}

/* --- swan_write ------------------------------------------------------------------------------ */
static void writes_the_tree(void **state)
{
	struct fx *f = *state;
	static const char *const dirs[] = {
		"strongswan.d", "updown.d", "swanctl", "swanctl/conf.d", "swanctl/x509",
		"swanctl/x509ca", "swanctl/x509crl", "swanctl/x509ocsp", "swanctl/x509aa",
		"swanctl/x509ac", "swanctl/pubkey", "swanctl/rsa", "swanctl/ecdsa",
		"swanctl/bliss", "swanctl/pkcs8", "swanctl/pkcs12",
	};
	char *s, *conf;

	f->p.peer = "203.0.113.10";
	f->p.peer_ca_paths = f->pcas;
	assert_int_equal(swan_write(f->dir, &f->p, f->err, sizeof(f->err)), 0);

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (mode_of(f, dirs[i]) != (S_IFDIR | 0755))
			fail_msg("%s: mode %o", dirs[i], mode_of(f, dirs[i]));
	}
	assert_int_equal(mode_of(f, "swanctl/private"), S_IFDIR | 0700);
	assert_int_equal(mode_of(f, "strongswan.conf"), S_IFREG | 0644);
	assert_int_equal(mode_of(f, "swanctl/swanctl.conf"), S_IFREG | 0644);
	assert_int_equal(mode_of(f, "updown.sh"), S_IFREG | 0755);
	/* copies, not links: the key 0600 */
	assert_int_equal(mode_of(f, "swanctl/private/host.key"), S_IFREG | 0600);
	assert_int_equal(mode_of(f, "swanctl/x509/host.pem"), S_IFREG | 0644);
	assert_int_equal(mode_of(f, "swanctl/x509ca/xdnat-ca.pem"), S_IFREG | 0644);
	assert_int_equal(mode_of(f, "swanctl/x509ca/peer-ca-1.pem"), S_IFREG | 0644);
	assert_int_equal(mode_of(f, "swanctl/x509ca/peer-ca-2.pem"), S_IFREG | 0644);
	assert_int_equal(mode_of(f, "swanctl/x509crl/xdnat.crl"), (mode_t)-1);	/* none given */

	s = slurp_in(f, "swanctl/private/host.key");
	assert_string_equal(s, KEY_PEM);
	free(s);
	s = slurp_in(f, "swanctl/x509/host.pem");
	assert_string_equal(s, CERT_PEM);
	free(s);
	s = slurp_in(f, "swanctl/x509ca/xdnat-ca.pem");
	assert_string_equal(s, CA_PEM);
	free(s);
	s = slurp_in(f, "swanctl/x509ca/peer-ca-2.pem");
	assert_string_equal(s, PCA2_PEM);
	free(s);

	/* the files are what the render functions say, for this DIR */
	s = slurp_in(f, "strongswan.conf");
	conf = swan_strongswan_conf(&f->p, f->dir);
	assert_string_equal(s, conf);
	free(s);
	free(conf);
	s = slurp_in(f, "swanctl/swanctl.conf");
	conf = swan_swanctl_conf(&f->p, f->dir);
	assert_string_equal(s, conf);
	free(s);
	free(conf);
	s = slurp_in(f, "updown.sh");
	conf = swan_updown_sh(&f->p, f->dir);
	assert_string_equal(s, conf);
	free(s);
	free(conf);
	/* no temporary files left */
	assert_int_equal(mode_of(f, "strongswan.conf.tmp"), (mode_t)-1);
	assert_int_equal(mode_of(f, "swanctl/private/host.key.tmp"), (mode_t)-1);
}

static void deterministic_and_rewrites(void **state)
{
	struct fx *f = *state;
	static const char *const files[] = {
		"strongswan.conf", "swanctl/swanctl.conf", "updown.sh",
		"swanctl/private/host.key", "swanctl/x509/host.pem",
	};
	char *first[5], *again, local[PATH_MAX];

	f->p.peer_ca_paths = f->pcas;
	assert_int_equal(swan_write(f->dir, &f->p, f->err, sizeof(f->err)), 0);
	for (int i = 0; i < 5; i++)
		assert_non_null(first[i] = slurp_in(f, files[i]));
	/* the site's own files survive a run */
	snprintf(local, sizeof(local), "%s/swanctl/conf.d/mine.conf", f->dir);
	put(local, "connections {}\n", 0644);
	/* one peer CA fewer: the other is no longer trusted */
	f->pcas[1] = NULL;
	assert_int_equal(swan_write(f->dir, &f->p, f->err, sizeof(f->err)), 0);
	for (int i = 0; i < 5; i++) {
		again = slurp_in(f, files[i]);
		assert_string_equal(first[i], again);
		free(again);
		free(first[i]);
	}
	assert_int_equal(mode_of(f, "swanctl/x509ca/peer-ca-1.pem"), S_IFREG | 0644);
	assert_int_equal(mode_of(f, "swanctl/x509ca/peer-ca-2.pem"), (mode_t)-1);
	assert_int_equal(mode_of(f, "swanctl/conf.d/mine.conf"), S_IFREG | 0644);
}

/* A file of the site's in DIR is refused, named, and left as it was, with
 * nothing else written; --take-over replaces it, and from then it is ours. */
static void foreign_files_refused(void **state)
{
	static const char *const files[] = {
		"strongswan.conf", "swanctl/swanctl.conf", "updown.sh",
	};
	struct fx *f = *state;
	char path[PATH_MAX], want[PATH_MAX + 128], *text;

	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "rm -rf '%s' && mkdir -p '%s/swanctl'", f->dir, f->dir);
		assert_int_equal(system(path), 0);
		snprintf(path, sizeof(path), "%s/%s", f->dir, files[i]);
		put(path, "# the site's own\ncharon { }\n", 0644);
		f->p.take_over = false;
		f->err[0] = 0;
		assert_int_equal(swan_write(f->dir, &f->p, f->err, sizeof(f->err)), -EEXIST);
		snprintf(want, sizeof(want), "%s: not written by xdnat-host; refusing to "
			 "overwrite it (use --take-over to replace it)", path);
		assert_string_equal(f->err, want);
		text = slurp(path);
		assert_string_equal(text, "# the site's own\ncharon { }\n");
		free(text);
		/* refused before anything was written */
		assert_int_equal(mode_of(f, "swanctl/private/host.key"), (mode_t)-1);

		f->p.take_over = true;
		assert_int_equal(swan_write(f->dir, &f->p, f->err, sizeof(f->err)), 0);
		text = slurp(path);
		assert_non_null(strstr(text, SWAN_MARK));
		free(text);
		f->p.take_over = false;
		assert_int_equal(swan_write(f->dir, &f->p, f->err, sizeof(f->err)), 0);
	}
}

/* updown.sh falls back to the xdnat-host on PATH when the one it names is
 * gone (an upgrade that moved it). */
static void updown_survives_a_move(void **state)
{
	struct fx *f = *state;
	char bin[PATH_MAX], cmd[PATH_MAX * 3], *out;

	snprintf(bin, sizeof(bin), "%s/bin", f->src);
	assert_int_equal(mkdir(bin, 0755), 0);
	snprintf(cmd, sizeof(cmd), "%s/xdnat-host", bin);
	put(cmd, "#!/bin/sh\necho \"moved: $*\"\n", 0755);
	f->p.xdnat_host_path = "/nonexistent/xdnat-host";
	assert_int_equal(swan_write(f->dir, &f->p, f->err, sizeof(f->err)), 0);
	snprintf(cmd, sizeof(cmd), "cd '%s' && PATH='%s':/usr/bin:/bin PLUTO_VERB=up-client "
		 "PLUTO_PEER=203.0.113.9 sh ./updown.sh > '%s/said' 2>&1", f->dir, bin, f->src);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "%s/said", f->src);
	out = slurp(cmd);
	assert_non_null(out);
	assert_string_equal(out, "moved: validate 203.0.113.9\n");
	free(out);
}

static void expect_einval_keep(struct fx *f, const char *in_err);

/* The CRL is copied as it is (DER too), and removed when no longer given. */
static void crl(void **state)
{
	struct fx *f = *state;
	char path[160];
	static const char der[] = "\x30\x82\x01\x0a DER bytes";
	char *s;

	snprintf(path, sizeof(path), "%s/crl.der", f->src);
	put(path, der, 0644);
	f->p.crl_path = path;
	assert_int_equal(swan_write(f->dir, &f->p, f->err, sizeof(f->err)), 0);
	assert_int_equal(mode_of(f, "swanctl/x509crl/xdnat.crl"), S_IFREG | 0644);
	s = slurp_in(f, "swanctl/x509crl/xdnat.crl");
	assert_string_equal(s, der);
	free(s);
	f->p.crl_path = NULL;
	assert_int_equal(swan_write(f->dir, &f->p, f->err, sizeof(f->err)), 0);
	assert_int_equal(mode_of(f, "swanctl/x509crl/xdnat.crl"), (mode_t)-1);
	f->p.crl_path = "/tmp/a crl";
	expect_einval_keep(f, "CRL");
}

/* --- refusals ---------------------------------------------------------------------------------- */
static void expect_einval(struct fx *f, const char *dir, const char *in_err)
{
	f->err[0] = 0;
	assert_int_equal(swan_write(dir, &f->p, f->err, sizeof(f->err)), -EINVAL);
	if (!strstr(f->err, in_err))
		fail_msg("error \"%s\" does not say \"%s\"", f->err, in_err);
	/* and nothing was written */
	assert_int_equal(mode_of(f, "strongswan.conf"), (mode_t)-1);
}

static void expect_einval_keep(struct fx *f, const char *in_err)
{
	f->err[0] = 0;
	assert_int_equal(swan_write(f->dir, &f->p, f->err, sizeof(f->err)), -EINVAL);
	if (!strstr(f->err, in_err))
		fail_msg("error \"%s\" does not say \"%s\"", f->err, in_err);
}

static void refusals(void **state)
{
	struct fx *f = *state;
	struct swan_params keep = f->p;

	f->p.natt_port = 20000;
	expect_einval(f, f->dir, "both 20000");
	f->p = keep;
	f->p.natt_port = 0;
	expect_einval(f, f->dir, "both are needed");
	f->p = keep;
	f->p.spi_max = 4096 + SWAN_MIN_SPIS - 2;
	expect_einval(f, f->dir, "fewer than 16 SPIs");
	f->p = keep;
	f->p.spi_max = 4095;
	expect_einval(f, f->dir, "fewer than 16 SPIs");
	f->p = keep;
	f->p.spi_min = 0;
	f->p.spi_max = 255;
	expect_einval(f, f->dir, "reserved");
	f->p = keep;
	f->p.global = 0;
	expect_einval(f, f->dir, "global");
	f->p = keep;
	expect_einval(f, "relative/dir", "directory");
	expect_einval(f, "/tmp/with space", "directory");
	f->p.cert_path = "/tmp/it's.pem";
	expect_einval(f, f->dir, "certificate");
	f->p = keep;
	f->p.xdnat_host_path = "xdnat-host";
	expect_einval(f, f->dir, "xdnat-host");
	f->p = keep;
	f->p.peer = "203.0.113.10 }";
	expect_einval(f, f->dir, "peer '203.0.113.10 }'");
	f->p = keep;
	f->p.peer_id = "CN=\"x\"";
	expect_einval(f, f->dir, "peer identity");
	f->p = keep;
	f->p.ts_port_first = 20063;
	f->p.ts_port_last = 20000;
	expect_einval(f, f->dir, "traffic selector");
	f->p = keep;
	f->p.agent_socket = "/run/$(reboot)";
	expect_einval(f, f->dir, "agent socket");
	f->p = keep;
	/* a credential that is not PEM, or not there */
	f->p.ca_path = f->src;		/* a directory */
	expect_einval(f, f->dir, "not a regular file");
	put(f->ca, "garbage\n", 0644);
	f->p = keep;
	expect_einval(f, f->dir, "not PEM");
	f->p.ca_path = "/nonexistent/ca.pem";
	f->err[0] = 0;
	assert_int_equal(swan_write(f->dir, &f->p, f->err, sizeof(f->err)), -ENOENT);
	assert_non_null(strstr(f->err, "/nonexistent/ca.pem"));
	/* the render functions say no too */
	assert_null(swan_strongswan_conf(&(struct swan_params){ 0 }, "/x"));
	assert_int_equal(swan_check(&keep, "/x", f->err, sizeof(f->err)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(libipsec_conf, setup, teardown),
		cmocka_unit_test_setup_teardown(kernel_esp_conf, setup, teardown),
		cmocka_unit_test_setup_teardown(high_spis, setup, teardown),
		cmocka_unit_test_setup_teardown(swanctl_initiator, setup, teardown),
		cmocka_unit_test_setup_teardown(swanctl_responder, setup, teardown),
		cmocka_unit_test_setup_teardown(swanctl_ts_ports, setup, teardown),
		cmocka_unit_test_setup_teardown(updown, setup, teardown),
		cmocka_unit_test_setup_teardown(updown_runs, setup, teardown),
		cmocka_unit_test_setup_teardown(writes_the_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(deterministic_and_rewrites, setup, teardown),
		cmocka_unit_test_setup_teardown(crl, setup, teardown),
		cmocka_unit_test_setup_teardown(refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(foreign_files_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(updown_survives_a_move, setup, teardown),
	};

	return cmocka_run_group_tests_name("host_swan", tests, NULL, NULL);
}
