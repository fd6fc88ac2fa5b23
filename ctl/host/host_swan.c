/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* strongSwan settings from a host's share of G (host_swan.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include "lib/atomic_file.h"
#include "host/host_swan.h"

#define SWAN_MAX_CRED	(1u << 20)	/* a PEM file larger than 1 MiB is not ours */

/* Plugins, in load order. openssl does ECDSA/ECDH and the ciphers; kdf gives
 * IKE's prf+ (charon 5.9 fails without it); the soft ones are fallbacks. */
#define SWAN_PLUGINS_CRYPTO "random nonce openssl pem pkcs1 pkcs8 x509 revocation constraints " \
	"pubkey kdf aes sha1 sha2 hmac gcm"
#define SWAN_PLUGINS_NET "socket-default vici updown"

/* The swanctl directories charon's credential loader scans: all created, so
 * swanctl --load-creds loads what is there and complains about nothing. */
static const char *const swanctl_subdirs[] = {
	"conf.d", "x509", "x509ca", "x509aa", "x509ocsp", "x509crl", "x509ac",
	"pubkey", "private", "rsa", "ecdsa", "bliss", "pkcs8", "pkcs12",
};

/* ---- a growing string ---------------------------------------------------- */
struct sbuf {
	char *s;
	size_t len, cap;
	int err;
};

__attribute__((format(printf, 2, 3)))
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->err)
		return;
	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->err = EINVAL;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap ? b->cap : 1024;

		while (cap - b->len <= (size_t)n)
			cap *= 2;
		char *s = realloc(b->s, cap);

		if (!s) {
			b->err = ENOMEM;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
}

static char *sb_finish(struct sbuf *b)
{
	if (b->err || !b->s) {
		free(b->s);
		return NULL;
	}
	return b->s;
}

/* ---- parameter checks ------------------------------------------------------ */
__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Text that goes into the files inside quotes (strongswan.conf, swanctl.conf)
 * or single quotes (updown.sh): no quotes, backslashes, control characters,
 * and nothing a glob or the shell would expand. */
static bool plain_text(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f ||
		    strchr("\"'\\`$*?[]{}", *s))
			return false;
	return true;
}

static bool plain_path(const char *s)
{
	return s && s[0] == '/' && !strchr(s, ' ') && plain_text(s) && strlen(s) < PATH_MAX - 64;
}

/* An address or DNS name: nothing swanctl.conf would read as syntax. */
static bool plain_host(const char *s)
{
	if (!*s || strlen(s) > 253)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '-' || *s == ':'))
			return false;
	return true;
}

static bool has_peer(const struct swan_params *p)
{
	return p->peer && *p->peer;
}

int swan_check(const struct swan_params *p, const char *dir, char *err, size_t errlen)
{
	unsigned int i;

	if (!plain_path(dir))
		return fail(err, errlen, "directory '%s': not an absolute path of plain characters",
			    dir ? dir : "(null)");
	if (!p->global)
		return fail(err, errlen, "global address: missing");
	if (!p->ike_port || !p->natt_port)
		return fail(err, errlen, "IKE port %u, NAT-T port %u: both are needed",
			    p->ike_port, p->natt_port);
	if (p->ike_port == p->natt_port)
		return fail(err, errlen, "IKE port and NAT-T port are both %u: charon needs two",
			    p->ike_port);
	if (p->spi_max < p->spi_min || p->spi_max - p->spi_min < SWAN_MIN_SPIS - 1)
		return fail(err, errlen, "SPI block %u-%u: fewer than %u SPIs (charon spins on an "
			    "exhausted range)", p->spi_min, p->spi_max, SWAN_MIN_SPIS);
	if (p->spi_min < 256)
		return fail(err, errlen, "SPI block %u-%u: SPIs 0-255 are reserved (RFC 4303)",
			    p->spi_min, p->spi_max);
	if (!plain_path(p->key_path))
		return fail(err, errlen, "key: '%s' is not an absolute path of plain characters",
			    p->key_path ? p->key_path : "(null)");
	if (!plain_path(p->cert_path))
		return fail(err, errlen, "certificate: '%s' is not an absolute path of plain characters",
			    p->cert_path ? p->cert_path : "(null)");
	if (!plain_path(p->ca_path))
		return fail(err, errlen, "CA: '%s' is not an absolute path of plain characters",
			    p->ca_path ? p->ca_path : "(null)");
	if (p->crl_path && !plain_path(p->crl_path))
		return fail(err, errlen, "CRL: '%s' is not an absolute path of plain characters",
			    p->crl_path);
	for (i = 0; p->peer_ca_paths && p->peer_ca_paths[i]; i++) {
		if (i == SWAN_MAX_PEER_CAS)
			return fail(err, errlen, "more than %d peer CAs", SWAN_MAX_PEER_CAS);
		if (!plain_path(p->peer_ca_paths[i]))
			return fail(err, errlen, "peer CA: '%s' is not an absolute path of plain "
				    "characters", p->peer_ca_paths[i]);
	}
	if ((p->ts_port_first || p->ts_port_last) &&
	    (!p->ts_port_first || p->ts_port_last < p->ts_port_first))
		return fail(err, errlen, "traffic selector ports %u-%u: not a range of ports",
			    p->ts_port_first, p->ts_port_last);
	if (has_peer(p) && !plain_host(p->peer))
		return fail(err, errlen, "peer '%s': not an address or host name", p->peer);
	if (p->peer_id && (!*p->peer_id || !plain_text(p->peer_id)))
		return fail(err, errlen, "peer identity '%s': empty or has quotes, backslashes, "
			    "control or glob characters", p->peer_id);
	if (!plain_path(p->xdnat_host_path))
		return fail(err, errlen, "xdnat-host: '%s' is not an absolute path of plain characters",
			    p->xdnat_host_path ? p->xdnat_host_path : "(null)");
	if (p->agent_socket && !plain_path(p->agent_socket))
		return fail(err, errlen, "agent socket: '%s' is not an absolute path of plain "
			    "characters", p->agent_socket);
	return 0;
}

static const char *dotted(uint32_t addr_be, char buf[INET_ADDRSTRLEN])
{
	return inet_ntop(AF_INET, &addr_be, buf, INET_ADDRSTRLEN);
}

static void header(struct sbuf *b, const char *what, const struct swan_params *p,
		   const char *local)
{
	char g[INET_ADDRSTRLEN];

	sb_printf(b, "# %s for xdnat: this host's share of %s.\n", what, dotted(p->global, g));
	sb_printf(b, SWAN_MARK ", replaced whenever it runs again:\n"
		  "# %s.\n", local);
}

/* ---- strongswan.conf ----------------------------------------------------- */
char *swan_strongswan_conf(const struct swan_params *p, const char *dir)
{
	struct sbuf b = {};

	if (swan_check(p, dir, NULL, 0))
		return NULL;
	header(&b, "strongswan.conf", p, "put local settings in " SWAN_CONF_D "/*.conf");
	sb_printf(&b, "#   IKE port %u (port 0 of the block), NAT-T port %u (declared by PAP NATT)\n",
		  p->ike_port, p->natt_port);
	sb_printf(&b, "#   SPIs %u-%u (%llu): the host's SPI block\n", p->spi_min, p->spi_max,
		  (unsigned long long)p->spi_max - p->spi_min + 1);
	if (p->kernel_has_esp)
		sb_printf(&b, "#   the kernel does ESP: kernel-netlink, plain ESP (or ESP-in-UDP "
			  "behind a NAT)\n");
	else
		sb_printf(&b, "#   the kernel has no ESP: kernel-libipsec (userspace ESP, always "
			  "ESP-in-UDP)\n");
	sb_printf(&b, "\ncharon {\n");
	sb_printf(&b, "\tport = %u\n", p->ike_port);
	sb_printf(&b, "\tport_nat_t = %u\n", p->natt_port);
	sb_printf(&b, "\tspi_min = 0x%08x\n", p->spi_min);
	sb_printf(&b, "\tspi_max = 0x%08x\n", p->spi_max);
	if (p->kernel_has_esp) {
		/* host-to-host policies need no routes: packets from G take the
		 * agent's table to the gateway and XFRM encrypts them there */
		sb_printf(&b, "\tinstall_routes = no\n");
	}
	sb_printf(&b, "\tload_modular = no\n");
	sb_printf(&b, "\tload = %s %s %s\n", SWAN_PLUGINS_CRYPTO,
		  p->kernel_has_esp ? "kernel-netlink" : "kernel-libipsec kernel-netlink",
		  SWAN_PLUGINS_NET);
	sb_printf(&b, "\tplugins {\n");
	sb_printf(&b, "\t\tvici {\n\t\t\tsocket = unix://%s/%s\n\t\t}\n", dir, SWAN_VICI);
	if (!p->kernel_has_esp) {
		sb_printf(&b, "\t\tkernel-libipsec {\n\t\t\tallow_peer_ts = yes\n\t\t}\n");
		sb_printf(&b, "\t\tkernel-netlink {\n\t\t\tfwmark = !0x%x\n\t\t}\n", SWAN_FWMARK);
		sb_printf(&b, "\t\tsocket-default {\n\t\t\tfwmark = 0x%x\n\t\t}\n", SWAN_FWMARK);
	}
	sb_printf(&b, "\t}\n}\n\n");
	/* swanctl (STRONGSWAN_CONF=DIR/strongswan.conf) finds charon here */
	sb_printf(&b, "swanctl {\n\tsocket = unix://%s/%s\n}\n\n", dir, SWAN_VICI);
	sb_printf(&b, "include %s/%s/*.conf\n", dir, SWAN_CONF_D);
	return sb_finish(&b);
}

/* ---- swanctl.conf ---------------------------------------------------------- */
char *swan_swanctl_conf(const struct swan_params *p, const char *dir)
{
	struct sbuf b = {};
	char g[INET_ADDRSTRLEN];

	if (swan_check(p, dir, NULL, 0))
		return NULL;
	header(&b, "swanctl.conf", p, "put your own connections in conf.d/*.conf");
	sb_printf(&b, "# They may start from the template: `name : xdnat-template { remote_addrs = "
		  "... }`.\n\n");
	sb_printf(&b, "xdnat-template {\n");
	sb_printf(&b, "\tversion = 2\n");
	sb_printf(&b, "\tlocal_addrs = %s\n", dotted(p->global, g));
	sb_printf(&b, "\tlocal_port = %u\n", p->ike_port);
	sb_printf(&b, "\tproposals = default\n");
	sb_printf(&b, "\tlocal {\n\t\tauth = pubkey\n\t\tcerts = %s\n\t}\n", SWAN_HOST_CERT);
	sb_printf(&b, "\tremote {\n\t\tauth = pubkey\n\t\tid = %s%s%s\n\t}\n",
		  p->peer_id ? "\"" : "", p->peer_id ? p->peer_id : "%any",
		  p->peer_id ? "\"" : "");
	sb_printf(&b, "\tchildren {\n\t\t%s {\n", SWAN_CONN);
	if (p->ts_port_first)
		sb_printf(&b, "\t\t\tlocal_ts = %s/32[tcp/%u-%u],%s/32[udp/%u-%u]\n", g,
			  p->ts_port_first, p->ts_port_last, g, p->ts_port_first,
			  p->ts_port_last);
	else
		sb_printf(&b, "\t\t\tlocal_ts = dynamic\n");
	sb_printf(&b, "\t\t\tremote_ts = dynamic\n");
	sb_printf(&b, "\t\t\tmode = tunnel\n");
	sb_printf(&b, "\t\t\tesp_proposals = default\n");
	sb_printf(&b, "\t\t\tupdown = %s/%s\n", dir, SWAN_UPDOWN);
	sb_printf(&b, "\t\t}\n\t}\n}\n\n");
	sb_printf(&b, "connections {\n");
	sb_printf(&b, "\t%s : xdnat-template {\n", SWAN_CONN);
	if (has_peer(p)) {
		sb_printf(&b, "\t\tremote_addrs = %s\n", p->peer);
		sb_printf(&b, "\t\tremote_port = %u\n", p->peer_port ? p->peer_port : 500);
	} else {
		sb_printf(&b, "\t\tremote_addrs = %%any\n");
	}
	sb_printf(&b, "\t}\n}\n\n");
	sb_printf(&b, "include conf.d/*.conf\n");
	return sb_finish(&b);
}

/* ---- updown.sh --------------------------------------------------------------- */
char *swan_updown_sh(const struct swan_params *p, const char *dir)
{
	struct sbuf b = {};

	if (swan_check(p, dir, NULL, 0))
		return NULL;
	sb_printf(&b, "#!/bin/sh\n");
	header(&b, SWAN_UPDOWN, p, "do not edit");
	sb_printf(&b,
		  "#\n"
		  "# charon runs this when a CHILD_SA of a connection that names it comes up or\n"
		  "# goes down (not when it is rekeyed). It tells the gateway which external\n"
		  "# peer this host has IPsec with, so that the gateway lets that peer's ESP to\n"
		  "# this host's SPIs in, and only that peer's (US 7,028,335 claim 18):\n"
		  "#   up:   xdnat-host validate PEER    (each time: idempotent)\n"
		  "#   down: xdnat-host invalidate PEER  (when no CHILD_SA with PEER is left)\n"
		  "# The whole SPI block is validated for PEER: strongSwan 5.9 passes no SPI to\n"
		  "# this script, and a rekeyed CHILD_SA takes a new SPI without calling it.\n\n");
	sb_printf(&b, "XDNAT_HOST='%s'\n", p->xdnat_host_path);
	sb_printf(&b, "# an upgrade that moved it: the one on PATH (charon's may be short)\n"
		  "if [ ! -x \"$XDNAT_HOST\" ]; then\n"
		  "\tPATH=$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"
		  "\tXDNAT_HOST=$(command -v xdnat-host) || {\n"
		  "\t\techo \"xdnat updown: no xdnat-host (not at %s nor on PATH)\" >&2; exit 1; }\n"
		  "fi\n", p->xdnat_host_path);
	if (p->agent_socket)
		sb_printf(&b, "set -- --socket '%s'\n", p->agent_socket);
	else
		sb_printf(&b, "set --\n");
	sb_printf(&b, "COUNTS='%s/%s'\n\n", dir, SWAN_UPDOWN_D);
	sb_printf(&b,
		  "case $PLUTO_VERB in\n"
		  "up-host|up-client) op=validate ;;\n"
		  "down-host|down-client) op=invalidate ;;\n"
		  "*) exit 0 ;;\t# the -v6 verbs: G is IPv4\n"
		  "esac\n"
		  "peer=$PLUTO_PEER\n"
		  "case $peer in\n"
		  "''|*[!0-9.]*) echo \"xdnat updown: PLUTO_PEER '$peer' is not IPv4\" >&2; exit 1 ;;\n"
		  "esac\n\n"
		  "# One count per peer, of its CHILD_SAs that are up; the lock is held until\n"
		  "# xdnat-host is done, so the gateway sees ups and downs in order.\n"
		  "mkdir -p \"$COUNTS\" || exit 1\n"
		  "exec 9>>\"$COUNTS/lock\"\n"
		  "flock 9 || exit 1\n"
		  "n=$(cat \"$COUNTS/$peer\" 2>/dev/null)\n"
		  "n=${n:-0}\n"
		  "if [ \"$op\" = validate ]; then n=$((n + 1)); elif [ \"$n\" -gt 0 ]; then n=$((n - 1)); fi\n"
		  "if [ \"$n\" -gt 0 ]; then echo \"$n\" > \"$COUNTS/$peer\"; else rm -f \"$COUNTS/$peer\"; fi\n"
		  "if [ \"$op\" = invalidate ] && [ \"$n\" -gt 0 ]; then\n"
		  "\techo \"xdnat: $peer still has $n CHILD_SA(s) up: stays validated\"\n"
		  "\texit 0\n"
		  "fi\n"
		  "exec \"$XDNAT_HOST\" \"$op\" \"$peer\" \"$@\"\n");
	return sb_finish(&b);
}

/* ---- writing ----------------------------------------------------------------- */
static int write_text(const char *dir, const char *name, char *text, mode_t mode,
		      char *err, size_t errlen)
{
	int r;

	if (!text) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	r = atomic_write_file(dir, name, text, strlen(text), mode);
	free(text);
	if (r)
		snprintf(err, errlen, "%s/%s: %s", dir, name, strerror(-r));
	return r;
}

/* Copy a PEM file into dir/name with mode, atomically. */
static int copy_cred(const char *src, const char *dir, const char *name, mode_t mode,
		     bool pem_only, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd, r = 0;

	fd = open(src, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", src, strerror(-r));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size <= 0 || (uint64_t)st.st_size > SWAN_MAX_CRED) {
		snprintf(err, errlen, "%s: not a regular file of 1 byte to 1 MiB", src);
		r = -EINVAL;
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		r = -ENOMEM;
		snprintf(err, errlen, "%s: %s", src, strerror(-r));
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			snprintf(err, errlen, "%s: %s", src, strerror(-r));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = 0;
	if (pem_only && !strstr(buf, "-----BEGIN ")) {
		snprintf(err, errlen, "%s: not PEM", src);
		r = -EINVAL;
		goto out;
	}
	r = atomic_write_file(dir, name, buf, got, mode);
	if (r)
		snprintf(err, errlen, "%s/%s: %s", dir, name, strerror(-r));
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return r;
}

static int subdir(char *out, size_t outlen, const char *dir, const char *a, const char *b)
{
	int n = b ? snprintf(out, outlen, "%s/%s/%s", dir, a, b)
		  : snprintf(out, outlen, "%s/%s", dir, a);

	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

/* 0 when path is missing or carries SWAN_MARK in its first lines, else
 * -EEXIST with the refusal in err (or the error reading it). */
static int ours_or_absent(const char *path, char *err, size_t errlen)
{
	char head[1024];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s (use --take-over to replace it)", path,
			 strerror(errno));
		return -EEXIST;
	}
	n = read(fd, head, sizeof(head) - 1);
	close(fd);
	head[n > 0 ? n : 0] = 0;
	if (strstr(head, SWAN_MARK))
		return 0;
	snprintf(err, errlen, "%s: not written by xdnat-host; refusing to overwrite it "
		 "(use --take-over to replace it)", path);
	return -EEXIST;
}

static int refuse_foreign(const char *dir, char *err, size_t errlen)
{
	static const char *const files[] = {
		SWAN_CONF, SWAN_SWANCTL_DIR "/" SWAN_SWANCTL_CONF, SWAN_UPDOWN,
	};
	char path[PATH_MAX];
	int r;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (subdir(path, sizeof(path), dir, files[i], NULL))
			return -ENAMETOOLONG;
		r = ours_or_absent(path, err, errlen);
		if (r)
			return r;
	}
	return 0;
}

int swan_write(const char *dir, const struct swan_params *p, char *err, size_t errlen)
{
	char path[PATH_MAX], name[32];
	unsigned int i;
	int r;

	r = swan_check(p, dir, err, errlen);
	if (!r && !p->take_over)
		r = refuse_foreign(dir, err, errlen);
	if (r)
		return r;
	r = mkdir_p(dir, 0755);
	if (r) {
		snprintf(err, errlen, "%s: %s", dir, strerror(-r));
		return r;
	}
	for (i = 0; i < 3 + sizeof(swanctl_subdirs) / sizeof(swanctl_subdirs[0]); i++) {
		const char *a = i == 0 ? SWAN_CONF_D : i == 1 ? SWAN_UPDOWN_D : SWAN_SWANCTL_DIR;
		const char *s = i < 3 ? NULL : swanctl_subdirs[i - 3];
		/* private/ holds the key: 0700, like /etc/swanctl/private */
		mode_t mode = s && !strcmp(s, "private") ? 0700 : 0755;

		r = subdir(path, sizeof(path), dir, a, s);
		if (!r)
			r = mkdir_p(path, mode);
		if (!r && chmod(path, mode))
			r = -errno;
		if (r) {
			snprintf(err, errlen, "%s: %s", path, strerror(-r));
			return r;
		}
	}

	/* credentials first: the configuration refers to them */
	if (subdir(path, sizeof(path), dir, SWAN_SWANCTL_DIR, "private") ||
	    (r = copy_cred(p->key_path, path, SWAN_HOST_KEY, 0600, true, err, errlen)))
		return r ? r : -ENAMETOOLONG;
	if (subdir(path, sizeof(path), dir, SWAN_SWANCTL_DIR, "x509") ||
	    (r = copy_cred(p->cert_path, path, SWAN_HOST_CERT, 0644, true, err, errlen)))
		return r ? r : -ENAMETOOLONG;
	if (subdir(path, sizeof(path), dir, SWAN_SWANCTL_DIR, "x509ca") ||
	    (r = copy_cred(p->ca_path, path, SWAN_CA_CERT, 0644, true, err, errlen)))
		return r ? r : -ENAMETOOLONG;
	for (i = 0; p->peer_ca_paths && p->peer_ca_paths[i]; i++) {
		snprintf(name, sizeof(name), SWAN_PEER_CA_FMT, i + 1);
		r = copy_cred(p->peer_ca_paths[i], path, name, 0644, true, err, errlen);
		if (r)
			return r;
	}
	/* peer CAs of an earlier run with more of them would stay trusted */
	for (;; i++) {
		char old[PATH_MAX + 40];

		snprintf(name, sizeof(name), SWAN_PEER_CA_FMT, i + 1);
		snprintf(old, sizeof(old), "%s/%s", path, name);
		if (unlink(old))
			break;
	}

	/* the CRL (PEM or DER: strongSwan reads both); none: none left */
	if (subdir(path, sizeof(path), dir, SWAN_SWANCTL_DIR, "x509crl/" SWAN_CRL))
		return -ENAMETOOLONG;
	if (p->crl_path) {
		char *slash = strrchr(path, '/');

		*slash = 0;
		r = copy_cred(p->crl_path, path, SWAN_CRL, 0644, false, err, errlen);
		if (r)
			return r;
	} else if (unlink(path) && errno != ENOENT) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}

	r = write_text(dir, SWAN_UPDOWN, swan_updown_sh(p, dir), 0755, err, errlen);
	if (r)
		return r;
	/* umask may have taken the x bits: charon must be able to run it */
	if (subdir(path, sizeof(path), dir, SWAN_UPDOWN, NULL) == 0 && chmod(path, 0755)) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	if (subdir(path, sizeof(path), dir, SWAN_SWANCTL_DIR, NULL))
		return -ENAMETOOLONG;
	r = write_text(path, SWAN_SWANCTL_CONF, swan_swanctl_conf(p, dir), 0644, err, errlen);
	if (r)
		return r;
	return write_text(dir, SWAN_CONF, swan_strongswan_conf(p, dir), 0644, err, errlen);
}
