/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * strongSwan settings from a host's share of G (`xdnat-host strongswan`).
 *
 * One job: given what the gateway allocated to this host (G, the IKE and
 * NAT-T ports, the SPI block) and where its key and certificates are, write a
 * directory that an unmodified charon (strongSwan 5.9) and swanctl use as is:
 *
 *   DIR/strongswan.conf       charon.port / port_nat_t / spi_min / spi_max,
 *                             the plugins (kernel-netlink, or kernel-libipsec
 *                             when the kernel has no ESP), the vici socket
 *   DIR/strongswan.d/         empty: local additions (included last)
 *   DIR/swanctl/swanctl.conf  a template connection from G:ike_port with
 *                             certificate authentication, and one connection
 *                             made from it (to the peer, or a responder)
 *   DIR/swanctl/conf.d/       empty: local connections (included last)
 *   DIR/swanctl/x509/host.pem           copy of the host certificate
 *   DIR/swanctl/x509ca/xdnat-ca.pem     copy of the xdnat CA (chain)
 *   DIR/swanctl/x509ca/peer-ca-N.pem    copies of the peers' CAs (N = 1...)
 *   DIR/swanctl/private/host.key        copy of the host key, mode 0600
 *   DIR/swanctl/x509crl/xdnat.crl       copy of the CA's CRL (if given)
 *   DIR/swanctl/{x509crl,...}           the other directories swanctl scans
 *   DIR/updown.sh             CHILD_SA up/down -> xdnat-host validate /
 *                             invalidate PEER (US 7,028,335 claim 18)
 *   DIR/updown.d/             the up-count per peer (updown.sh's own)
 *
 * Credentials are copied, not linked (docs/strongswan.md says why). No PAP,
 * no sockets, no probing of the kernel: the caller says kernel_has_esp.
 * The output is a function of the parameters only (no time, no randomness),
 * every file is replaced atomically (atomic_file.h) and writing twice gives
 * the same bytes.
 */
#ifndef XDNAT_HOST_SWAN_H
#define XDNAT_HOST_SWAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* File and directory names inside DIR. */
#define SWAN_CONF		"strongswan.conf"
#define SWAN_CONF_D		"strongswan.d"
#define SWAN_SWANCTL_DIR	"swanctl"
#define SWAN_SWANCTL_CONF	"swanctl.conf"
#define SWAN_UPDOWN		"updown.sh"
#define SWAN_UPDOWN_D		"updown.d"
#define SWAN_VICI		"charon.vici"
#define SWAN_HOST_CERT		"host.pem"	/* in swanctl/x509 */
#define SWAN_HOST_KEY		"host.key"	/* in swanctl/private */
#define SWAN_CA_CERT		"xdnat-ca.pem"	/* in swanctl/x509ca */
#define SWAN_PEER_CA_FMT	"peer-ca-%u.pem"	/* in swanctl/x509ca, from 1 */
#define SWAN_CRL		"xdnat.crl"	/* in swanctl/x509crl */
#define SWAN_CONN		"xdnat"		/* the connection and its CHILD_SA */
/* The line that marks strongswan.conf, swanctl.conf and updown.sh as ours
 * (in their first lines): a file there without it is not replaced unless
 * take_over. */
#define SWAN_MARK		"# Written by `xdnat-host strongswan`"

/*
 * kernel-libipsec routes the peer's traffic into its TUN device through
 * routing table 220. IKE and ESP-in-UDP leave through charon's own socket,
 * which marks them with this fwmark, and the rule for table 220 skips marked
 * packets, so they take the host's normal route from G (the xdnat tunnel).
 */
#define SWAN_FWMARK		0x4555

/* Fewer SPIs than this are refused: charon spins forever on an exhausted
 * range (each CHILD_SA takes one inbound SPI, two while it is rekeyed). */
#define SWAN_MIN_SPIS		16u
#define SWAN_MAX_PEER_CAS	8

struct swan_params {
	uint32_t global;		/* G, network byte order */
	uint16_t ike_port;		/* charon.port: port 0 of the block */
	uint16_t natt_port;		/* charon.port_nat_t: the port declared by PAP NATT */
	uint32_t spi_min, spi_max;	/* charon.spi_min / spi_max: the SPI block, inclusive */

	const char *key_path;		/* host private key, PEM (copied 0600) */
	const char *cert_path;		/* host certificate, PEM */
	const char *ca_path;		/* the xdnat CA (`xdnatctl ca`), PEM */
	const char *crl_path;		/* the CA's CRL, PEM or DER; NULL: none */
	/* CAs that issue the external peers' certificates; NULL-terminated,
	 * may be NULL. At most SWAN_MAX_PEER_CAS. */
	const char *const *peer_ca_paths;

	/* The external peer this connection initiates to (dotted IPv4 or a
	 * name charon resolves). NULL or "": a responder for any peer. */
	const char *peer;
	uint16_t peer_port;		/* the peer's IKE port; 0: 500 */
	const char *peer_id;		/* its IKE identity; NULL: %any (any that chains to a CA) */

	/* Narrow the CHILD_SA's local traffic selector from all of G to G's TCP
	 * and UDP ports ts_port_first..ts_port_last (the host's port block).
	 * Needed when one external peer has SAs with two hosts of the same G:
	 * with whole-G selectors the peer cannot tell them apart. ICMP and other
	 * protocols then stay out of the tunnel. 0, 0: all of G (dynamic). */
	uint16_t ts_port_first, ts_port_last;

	const char *xdnat_host_path;	/* absolute path of xdnat-host, for updown.sh */
	const char *agent_socket;	/* xdnat-host --socket; NULL: the agent's default */

	/* true: the kernel does ESP (XFRM + esp4): kernel-netlink, plain ESP.
	 * false: kernel-libipsec (userspace ESP, always ESP-in-UDP) + kdf. */
	bool kernel_has_esp;

	/* Replace strongswan.conf, swanctl.conf and updown.sh even when they do
	 * not carry SWAN_MARK (`strongswan --take-over`). */
	bool take_over;
};

/* The file contents, malloc'ed, NUL-terminated; DIR is the directory they
 * will live in (absolute: it appears in them). NULL on ENOMEM or a bad
 * parameter (swan_check says which). */
char *swan_strongswan_conf(const struct swan_params *p, const char *dir);
char *swan_swanctl_conf(const struct swan_params *p, const char *dir);
char *swan_updown_sh(const struct swan_params *p, const char *dir);

/* 0 if the parameters can be written, else -EINVAL with err naming the
 * parameter. */
int swan_check(const struct swan_params *p, const char *dir, char *err, size_t errlen);

/*
 * Create DIR (0755) and its subdirectories and write every file listed at the
 * top. 0, or -errno with err naming the file or parameter. A file already
 * there is replaced when it carries SWAN_MARK (or with take_over); one that
 * does not is refused with -EEXIST and "DIR/FILE: not written by xdnat-host
 * ...", before anything is written. Nothing else in DIR is touched (conf.d,
 * strongswan.d and updown.d are the site's and the hook's).
 */
int swan_write(const char *dir, const struct swan_params *p, char *err, size_t errlen);

#endif
