/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdnatd — the gateway daemon: serves PAP, keeps leases, persists its state,
 * keeps the XDP data plane's maps equal to it, certifies the hosts' shares
 * as the site's CA and answers xdnatctl. One thread, one epoll loop; PAP
 * datagrams are handled in batches so that one fdatasync covers a whole
 * batch (group commit), and no reply of a batch leaves before what it
 * acknowledges is on disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <openssl/crypto.h>
#include "gateway/alloc_log.h"
#include "gateway/bpffs.h"
#include "gateway/ca.h"
#include "gateway/config.h"
#include "gateway/crl_http.h"
#include "lib/ctlsock.h"
#include "gateway/dataplane.h"
#include "lib/kfeat.h"
#include "gateway/gateway.h"
#include "gateway/gw_commands.h"
#include "gateway/metrics.h"
#include "gateway/pap_counters.h"
#include "gateway/tokens.h"
#include "pap/gw_key.h"
#include "lib/atomic_file.h"
#include "lib/log.h"
#include "lib/notify.h"
#include "lib/version.h"
#include "lib/sigfd.h"
#include "gateway/reserved_ports.h"
#include "gateway/state.h"
#include "gateway/udp_batch.h"

#define BATCH 64
/* The CRL is valid for a day: sign a new one at half-life at the latest. */
#define CRL_REPUBLISH_S	(12 * 3600)
#define CRL_RETRY_S	60
#define PAP_MAX_SUBNETS	16

/* The subnets of --int-if: PAP from anywhere else is dropped unanswered. */
struct pap_subnets {
	uint32_t net[PAP_MAX_SUBNETS], mask[PAP_MAX_SUBNETS];	/* network order */
	unsigned int n;
	bool on;		/* --int-if given: filter; else open (warned) */
};

struct daemon {
	struct xdnatd_config cfg;
	int argc;
	char **argv;
	struct state_store *store;
	struct gw *gw;
	struct dataplane *dp;		/* NULL: control plane only */
	struct ca *ca;
	struct alloc_log *alog;		/* NULL: --alloc-log none */
	struct crl_http *http;		/* NULL: no CRL distribution point served */
	int http_fd;
	struct metrics *metrics;	/* NULL: no --metrics-listen */
	int metrics_fd;
	struct gw_stats counters_saved;	/* the PAP counters as last saved */
	time_t crl_next;		/* when to sign a new CRL anyway */
	unsigned int cookie_ticks;	/* seconds since the cookie secret changed */
	struct pap_subnets subnets;
	struct kfeat_set kernel;	/* what the data plane needs, probed at start */
	bool watchdog;			/* the service manager wants WATCHDOG=1 */
	int pap_fd, ctl_fd, sig_fd, timer_fd, ep;
};

#define COOKIE_ROTATE_S	600	/* the REGISTER cookie secret's life */

static uint64_t wall_clock(void *ctx)
{
	(void)ctx;
	return (uint64_t)time(NULL);
}

static int open_pap_socket(const struct xdnatd_config *cfg)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons(cfg->pap_port),
		.sin_addr.s_addr = cfg->internal,
	};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1, rcvbuf = 4 << 20, err;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	/* Binding to Gi alone takes a datagram to Gi from any NIC (gw_ext
	 * passes what is not for G to the stack): only the internal NIC's. */
	if (cfg->int_if[0] && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, cfg->int_if,
					 (socklen_t)strlen(cfg->int_if))) {
		err = -errno;
		close(fd);
		return err;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static int check_ifaces(const struct xdnatd_config *cfg)
{
	const char *names[] = { cfg->ext_if, cfg->int_if };

	for (size_t i = 0; i < 2; i++) {
		if (names[i][0] && !if_nametoindex(names[i])) {
			log_err("--%s %s: no such interface", i ? "int-if" : "ext-if",
				names[i]);
			return -ENODEV;
		}
	}
	return 0;
}

/* Read the IPv4 subnets of --int-if again (addresses may change). */
static void subnets_refresh(struct daemon *d)
{
	struct pap_subnets *s = &d->subnets;
	int n;

	if (!s->on)
		return;
	n = nic_subnets(d->cfg.int_if, s->net, s->mask, PAP_MAX_SUBNETS);
	/* unreadable now: the last list stays */
	if (n >= 0)
		s->n = n < PAP_MAX_SUBNETS ? (unsigned int)n : PAP_MAX_SUBNETS;
}

static bool from_inside(const struct pap_subnets *s, uint32_t src)
{
	if (!s->on)
		return true;
	for (unsigned int i = 0; i < s->n; i++)
		if ((src & s->mask[i]) == s->net[i])
			return true;
	return false;
}

/* Drain the PAP socket in batches; one commit per batch, then the replies. */
/* A token used up or expired is gone for good, also after a restart. */
static void save_tokens(struct daemon *d)
{
	int err;

	if (!gw_tokens_take_changed(d->gw))
		return;
	err = tokens_save(d->cfg.state_dir, d->gw);
	if (err)
		log_err("cannot write %s/%s: %s", d->cfg.state_dir, TOKENS_FILE, strerror(-err));
}

static void serve_pap(struct daemon *d)
{
	static uint8_t req[BATCH][PAP_MAX_MSG], rep[BATCH][PAP_MAX_MSG];
	struct sockaddr_in from[BATCH];
	struct mmsghdr in[BATCH], out[BATCH];
	struct iovec iov_in[BATCH], iov_out[BATCH];

	for (int round = 0; round < 16; round++) {
		int n, nout = 0, err;

		for (int i = 0; i < BATCH; i++) {
			iov_in[i] = (struct iovec){ req[i], PAP_MAX_MSG };
			in[i] = (struct mmsghdr){ .msg_hdr = {
				.msg_name = &from[i], .msg_namelen = sizeof(from[i]),
				.msg_iov = &iov_in[i], .msg_iovlen = 1 } };
		}
		n = recvmmsg(d->pap_fd, in, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		for (int i = 0; i < n; i++) {
			size_t len;

			/* Not from a host's subnet (routed in, spoofed): no answer,
			 * no state, counted. */
			if (!from_inside(&d->subnets, from[i].sin_addr.s_addr)) {
				gw_count_foreign(d->gw);
				continue;
			}
			/* A datagram larger than any PAP message is cut: refuse it whole. */
			if (in[i].msg_hdr.msg_flags & MSG_TRUNC)
				len = PAP_MAX_MSG + 1;
			else
				len = in[i].msg_len;
			len = gw_handle(d->gw, req[i], len, from[i].sin_addr.s_addr,
					from[i].sin_port, rep[i], PAP_MAX_MSG);
			if (!len)
				continue;
			iov_out[nout] = (struct iovec){ rep[i], len };
			out[nout] = (struct mmsghdr){ .msg_hdr = {
				.msg_name = &from[i], .msg_namelen = sizeof(from[i]),
				.msg_iov = &iov_out[nout], .msg_iovlen = 1 } };
			nout++;
		}
		err = gw_commit(d->gw);
		if (err) {
			/* Acknowledging what we cannot remember would hand out the same
			 * ports twice after a restart: stop instead. */
			log_err("cannot write the state in %s: %s; stopping",
				d->cfg.state_dir, strerror(-err));
			exit(1);
		}
		save_tokens(d);
		/* A reply the kernel refuses (e.g. to source port 0) is skipped
		 * and counted: the rest of the batch still goes out. */
		udp_send_batch(d->pap_fd, out, (unsigned int)nout, gw_send_errors(d->gw));
		if (n < BATCH)
			return;
	}
}

/* Revocations publish at once; this keeps a quiet CA's CRL from going stale. */
static void publish_crl(struct daemon *d)
{
	time_t now = time(NULL);
	char err[512];

	if (now < d->crl_next)
		return;
	if (ca_crl_publish(d->ca, err, sizeof(err))) {
		log_warn("CA: %s; trying again in %d s", err, CRL_RETRY_S);
		d->crl_next = now + CRL_RETRY_S;
		return;
	}
	d->crl_next = now + CRL_REPUBLISH_S;
}

static void on_timer(struct daemon *d)
{
	uint64_t ticks;
	int err;

	if (read(d->timer_fd, &ticks, sizeof(ticks)) < 0)
		return;
	/* A cookie outlives one rotation (gw_rotate_cookie_secret). */
	d->cookie_ticks += (unsigned int)ticks;
	if (d->cookie_ticks >= COOKIE_ROTATE_S) {
		gw_rotate_cookie_secret(d->gw);
		d->cookie_ticks = 0;
	}
	if (gw_expire(d->gw)) {
		err = gw_commit(d->gw);
		if (err) {
			log_err("cannot write the state in %s: %s; stopping",
				d->cfg.state_dir, strerror(-err));
			exit(1);
		}
	}
	err = gw_compact(d->gw, false);
	if (err)
		log_warn("snapshot of %s failed: %s (the journal keeps growing)",
			 d->cfg.state_dir, strerror(-err));
	save_tokens(d);
	publish_crl(d);
	subnets_refresh(d);
	crl_http_run(d->http);		/* its timeouts */
	metrics_run(d->metrics);
	pap_counters_sync(d->cfg.state_dir, gw_get_stats(d->gw), &d->counters_saved);
	if (d->dp) {
		dataplane_tick(d->dp, d->gw);
		gw_set_ext_mtu(d->gw, dataplane_ext_mtu(d->dp));
	}
	/* Each tick proves the loop turns; WatchdogSec= of 2 s or more is met. */
	if (d->watchdog)
		notify_watchdog();
}

static void reload(struct daemon *d)
{
	struct xdnatd_config n;
	char err[512];

	if (config_load(d->argc, d->argv, &n, err, sizeof(err))) {
		log_err("reload: %s; keeping the running configuration", err);
		return;
	}
	if (n.gw.global != d->cfg.gw.global || n.gw.port_lo != d->cfg.gw.port_lo ||
	    n.gw.port_hi != d->cfg.gw.port_hi || n.gw.spi_lo != d->cfg.gw.spi_lo ||
	    n.gw.spi_hi != d->cfg.gw.spi_hi || n.pap_port != d->cfg.pap_port ||
	    n.internal != d->cfg.internal || strcmp(n.state_dir, d->cfg.state_dir) ||
	    strcmp(n.ext_if, d->cfg.ext_if) || strcmp(n.int_if, d->cfg.int_if) ||
	    strcmp(n.bpffs, d->cfg.bpffs) || n.sa_entries != d->cfg.sa_entries ||
	    n.xdp_generic != d->cfg.xdp_generic || strcmp(n.ca_cert, d->cfg.ca_cert) ||
	    strcmp(n.ca_key, d->cfg.ca_key) || strcmp(n.crl_url, d->cfg.crl_url) ||
	    n.crl_addr != d->cfg.crl_addr || n.crl_port != d->cfg.crl_port ||
	    strcmp(n.port_blocks_oid, d->cfg.port_blocks_oid) ||
	    strcmp(n.internal_nets, d->cfg.internal_nets))
		log_warn("reload: global, ranges, addresses, interfaces, directories, XDP "
			 "mode, map sizes, CA files, internal nets and the CRL and OID settings "
			 "need a "
			 "restart; applying lease, quotas, budgets, rates, site key and log "
			 "level only");
	/* the running ranges stay until a restart, and so do their reserved ports */
	n.gw.global = d->cfg.gw.global;
	n.gw.port_lo = d->cfg.gw.port_lo;
	n.gw.port_hi = d->cfg.gw.port_hi;
	n.gw.spi_lo = d->cfg.gw.spi_lo;
	n.gw.spi_hi = d->cfg.gw.spi_hi;
	reserved_ports_apply(d->cfg.state_dir, d->cfg.gw.port_lo, d->cfg.gw.port_hi, true);
	gw_reconfigure(d->gw, &n.gw);
	if (d->alog)
		alloc_log_set_limits(d->alog, n.alloc_log_size, n.alloc_log_keep);
	if (strcmp(n.alloc_log, d->cfg.alloc_log))
		log_warn("reload: --alloc-log needs a restart; the allocation log stays %s",
			 d->alog ? alloc_log_path(d->alog) : "off");
	if (n.metrics_addr != d->cfg.metrics_addr || n.metrics_port != d->cfg.metrics_port ||
	    n.ctl_gid != d->cfg.ctl_gid)
		log_warn("reload: --metrics-listen and --ctl-group need a restart; keeping "
			 "the running ones");
	log_set_level((enum log_level)n.log_level);
	d->cfg.gw = n.gw;
	log_info("configuration reloaded");
}

/* After the state is restored (the maps are made equal to it) and before
 * any request can change it (from then on the hooks follow every change). */
static int open_dataplane(struct daemon *d)
{
	struct gw_hooks hooks;

	if (!config_dataplane(&d->cfg)) {
		log_info("data plane off: %s; control plane only",
			 d->cfg.ext_if[0] || d->cfg.int_if[0] ?
			 "it needs both --ext-if and --int-if" :
			 "no --ext-if and --int-if given");
		return 0;
	}
	if (dataplane_open(&d->cfg, &d->kernel, &d->dp) || dataplane_reconcile(d->dp, d->gw))
		return -1;
	gw_set_ext_mtu(d->gw, dataplane_ext_mtu(d->dp));
	hooks = dataplane_hooks(d->dp);
	gw_set_hooks(d->gw, &hooks);
	return 0;
}

/* Our own CA in the state directory, or the site's (--ca-cert/--ca-key).
 * Any problem stops the daemon with the CA's one line naming the file. */
static int open_ca(struct daemon *d)
{
	const char *cert = d->cfg.ca_cert[0] ? d->cfg.ca_cert : NULL;
	const char *key = d->cfg.ca_key[0] ? d->cfg.ca_key : NULL;
	const uint8_t *der[3];
	size_t lens[3];
	char err[512];
	int rc;

	rc = ca_open(d->cfg.state_dir, cert, key, d->cfg.gw.global, &d->ca, err, sizeof(err));
	if (rc) {
		log_err("CA: %s", err);
		return -1;
	}
	/* A CERT reply carries the host's certificate and three of the chain. */
	if (ca_chain_der(d->ca, der, lens, 3) < 0) {
		log_err("CA: %s: more than 3 certificates; leave the root out (peers have it)",
			cert);
		return -1;
	}
	d->crl_next = time(NULL) + CRL_REPUBLISH_S;	/* ca_open() just signed one */
	if (ca_set_profile(d->ca, d->cfg.crl_url, d->cfg.port_blocks_oid)) {
		log_err("CA: out of memory");
		return -1;
	}
	if (d->cfg.crl_url[0])
		log_info("CA: certificates name the CRL distribution point %s", d->cfg.crl_url);
	log_info("CA: %s, CRL in %s/crl.pem", cert ? cert : "our own in the state directory",
		 d->cfg.state_dir);
	return 0;
}

/* The key REGISTER_REPLY is signed with; hosts pin its gateway.pub. */
static int open_sign_key(struct daemon *d)
{
	uint8_t seed[PAP_SIG_KEY_LEN], pub[PAP_SIG_KEY_LEN];
	char err[512], fpr[PAP_GW_FPR_LEN];
	int rc = pap_gw_key_open(d->cfg.state_dir, seed, pub, err, sizeof(err));

	if (!rc)
		rc = gw_set_sign_key(d->gw, seed);
	OPENSSL_cleanse(seed, sizeof(seed));
	if (rc) {
		log_err("gateway key: %s", err);
		return -1;
	}
	pap_gw_fingerprint(pub, fpr);
	log_info("gateway key %s (hosts pin %s/%s)", fpr, d->cfg.state_dir, PAP_GW_PUB_FILE);
	return 0;
}

static int add_fd(int ep, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

/* The CRL over HTTP on --crl-listen. Not fatal: the CRL stays in crl.pem and
 * PAP, and a daemon started later may serve the URL. */
static void open_crl_http(struct daemon *d)
{
	char a[INET_ADDRSTRLEN];
	int rc;

	d->http_fd = -1;
	if (!d->cfg.crl_port)
		return;
	inet_ntop(AF_INET, &d->cfg.crl_addr, a, sizeof(a));
	rc = crl_http_start(d->cfg.crl_addr, d->cfg.crl_port, d->ca, &d->http);
	if (rc) {
		log_warn("CRL over HTTP on %s:%u: %s; not served", a, d->cfg.crl_port,
			 strerror(-rc));
		return;
	}
	d->http_fd = crl_http_fd(d->http);
	log_info("CRL over HTTP on %s:%u (/crl.der, /crl.pem)", a, d->cfg.crl_port);
}

/* /metrics on --metrics-listen. Unlike the CRL, asked for explicitly: a
 * port that cannot be had stops the start. */
static int open_metrics(struct daemon *d)
{
	struct metrics_src src = { .g = d->gw, .dp = d->dp, .ca = d->ca };
	char a[INET_ADDRSTRLEN];
	int rc;

	d->metrics_fd = -1;
	if (!d->cfg.metrics_port)
		return 0;
	inet_ntop(AF_INET, &d->cfg.metrics_addr, a, sizeof(a));
	rc = metrics_start(d->cfg.metrics_addr, d->cfg.metrics_port, &src, &d->metrics);
	if (rc) {
		log_err("--metrics-listen %s:%u: %s", a, d->cfg.metrics_port, strerror(-rc));
		return -1;
	}
	d->metrics_fd = metrics_fd(d->metrics);
	log_info("Prometheus metrics on http://%s:%u/metrics", a, d->cfg.metrics_port);
	return 0;
}

/* The PAP counters of the last run, so their series continue. */
static int restore_counters(struct daemon *d)
{
	char err[512];

	if (pap_counters_load(d->cfg.state_dir, &d->counters_saved, err, sizeof(err))) {
		log_err("%s; move it away to start the PAP counters from 0", err);
		return -1;
	}
	gw_set_stats(d->gw, &d->counters_saved);
	return 0;
}

/*
 * How old the state just loaded is. A restored copy older than the longest
 * lease may lack registrations and validations the hosts still hold: they
 * notice (QUERY at each renewal) and claim and validate again, but say it
 * here first.
 */
static void state_age_check(const struct state_image *img, uint64_t written)
{
	uint64_t now = (uint64_t)time(NULL), age = written && written < now ? now - written : 0;
	uint32_t longest = 0;
	char when[32];
	struct tm tm;
	time_t t = (time_t)written;

	if (!written)
		return;
	for (size_t i = 0; i < img->n_hosts; i++)
		if (img->hosts[i].lease_secs > longest)
			longest = img->hosts[i].lease_secs;
	if (!gmtime_r(&t, &tm) || !strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(when, sizeof(when), "%llu", (unsigned long long)written);
	if (longest && age > longest)
		log_warn("the state was last written %s, %llu s ago: older than the longest "
			 "lease (%u s); hosts re-register and validate again what it lacks",
			 when, (unsigned long long)age, longest);
	else
		log_info("the state was last written %s (%llu s ago)", when,
			 (unsigned long long)age);
}

/* --alloc-log (default STATE-DIR/alloc.log) for gw_commit to append to. */
static int open_alloc_log(struct daemon *d)
{
	char path[PATH_MAX + 16];
	int rc;

	if (!strcmp(d->cfg.alloc_log, "none"))
		return 0;
	snprintf(path, sizeof(path), "%s", d->cfg.alloc_log);
	if (!path[0])
		snprintf(path, sizeof(path), "%s/%s", d->cfg.state_dir, ALLOC_LOG_NAME);
	rc = alloc_log_open(path, d->cfg.alloc_log_size, d->cfg.alloc_log_keep, &d->alog);
	if (rc) {
		log_err("allocation log %s: %s", path, rc == -EBUSY ?
			"in use by another xdnatd" : strerror(-rc));
		return -1;
	}
	if (alloc_log_warning(d->alog))
		log_warn("%s", alloc_log_warning(d->alog));
	gw_set_alloc_log(d->gw, d->alog);
	return 0;
}

static int setup(struct daemon *d)
{
	struct state_image img = { 0 };
	uint64_t written;
	char err[512];
	char *abs;
	struct itimerspec tick = { { 1, 0 }, { 1, 0 } };
	int rc;

	if (check_ifaces(&d->cfg))
		return -1;
	/* before anything changes: no sysctl, no mount, no pin */
	if (config_dataplane(&d->cfg) &&
	    (dataplane_kernel_probe(&d->cfg, &d->kernel) || kfeat_report_start(&d->kernel)))
		return -1;
	rc = bpffs_prepare(d->cfg.bpffs);
	if (rc) {
		log_err("--bpffs %s: %s", d->cfg.bpffs, strerror(-rc));
		return -1;
	}
	/* daemon() changes to /: keep the state directory absolute. */
	rc = state_open(d->cfg.state_dir, &d->store);
	if (rc) {
		log_err("%s: %s", d->cfg.state_dir, rc == -EBUSY ?
			"in use by another xdnatd" : strerror(-rc));
		return -1;
	}
	abs = realpath(d->cfg.state_dir, NULL);
	if (abs) {
		snprintf(d->cfg.state_dir, sizeof(d->cfg.state_dir), "%s", abs);
		free(abs);
	}
	if (reserved_ports_apply(d->cfg.state_dir, d->cfg.gw.port_lo, d->cfg.gw.port_hi,
				 false))
		return -1;
	if (open_ca(d))
		return -1;
	written = state_written(d->store);
	rc = state_load(d->store, &img, err, sizeof(err));
	if (rc) {
		log_err("%s", err);
		log_err("refusing to start with an empty table: repair or move the file");
		return -1;
	}
	if (state_load_warning(d->store))
		log_warn("%s", state_load_warning(d->store));
	rc = gw_new(&d->cfg.gw, d->store, wall_clock, NULL, &d->gw);
	if (!rc) {
		gw_set_ca(d->gw, d->ca);
		rc = gw_restore(d->gw, &img, err, sizeof(err));
	}
	if (!rc && open_sign_key(d)) {
		state_image_free(&img);
		return -1;
	}
	if (!rc && tokens_load(d->cfg.state_dir, d->gw, err, sizeof(err))) {
		log_err("%s", err);
		state_image_free(&img);
		return -1;
	}
	if (rc) {
		log_err("%s: %s", d->cfg.state_dir, rc == -EINVAL ? err : strerror(-rc));
		state_image_free(&img);
		return -1;
	}
	log_info("restored %zu host(s) from %s", img.n_hosts, d->cfg.state_dir);
	state_age_check(&img, written);
	state_image_free(&img);
	if (open_alloc_log(d) || restore_counters(d) || open_dataplane(d))
		return -1;

	d->pap_fd = open_pap_socket(&d->cfg);
	if (d->pap_fd < 0) {
		log_err("PAP socket on port %u: %s", d->cfg.pap_port, strerror(-d->pap_fd));
		return -1;
	}
	d->subnets.on = d->cfg.int_if[0];
	subnets_refresh(d);
	if (d->subnets.on)
		log_info("PAP: only from %s (%u subnet(s))", d->cfg.int_if, d->subnets.n);
	else
		log_warn("PAP: no --int-if: answering whatever reaches %s on any NIC",
			 d->cfg.internal ? "--internal" : "this host");
	d->ctl_fd = ctlsock_listen_group(d->cfg.socket_path, d->cfg.ctl_gid);
	if (d->ctl_fd < 0) {
		log_err("%s: %s", d->cfg.socket_path, d->ctl_fd == -EADDRINUSE ?
			"another xdnatd is answering on this socket" : strerror(-d->ctl_fd));
		return -1;
	}

	open_crl_http(d);
	if (open_metrics(d))
		return -1;
	d->sig_fd = sigfd_open();
	if (d->sig_fd < 0)
		errno = -d->sig_fd;
	d->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	d->ep = epoll_create1(EPOLL_CLOEXEC);
	if (d->sig_fd < 0 || d->timer_fd < 0 || d->ep < 0 ||
	    timerfd_settime(d->timer_fd, 0, &tick, NULL) ||
	    add_fd(d->ep, d->pap_fd) || add_fd(d->ep, d->ctl_fd) ||
	    add_fd(d->ep, d->sig_fd) || add_fd(d->ep, d->timer_fd) ||
	    (d->http && add_fd(d->ep, d->http_fd)) ||
	    (d->metrics && add_fd(d->ep, d->metrics_fd))) {
		log_err("event loop set-up: %s", strerror(errno));
		return -1;
	}
	if (d->dp && add_fd(d->ep, dataplane_fd(d->dp))) {
		log_err("event loop set-up: the data plane's events: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void run(struct daemon *d)
{
	struct epoll_event evs[8];

	for (;;) {
		int n = epoll_wait(d->ep, evs, 8, -1);

		if (n < 0 && errno != EINTR) {
			log_err("epoll_wait: %s", strerror(errno));
			return;
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == d->pap_fd) {
				serve_pap(d);
			} else if (d->http && fd == d->http_fd) {
				crl_http_run(d->http);
			} else if (d->metrics && fd == d->metrics_fd) {
				metrics_run(d->metrics);
			} else if (fd == d->ctl_fd) {
				struct gw_commands c = { .g = d->gw, .dp = d->dp, .ca = d->ca,
							 .store = d->store,
							 .ro_gid = d->cfg.ctl_gid };

				ctlsock_serve_auth(d->ctl_fd, gw_command_auth, gw_command, &c);
			} else if (fd == d->timer_fd) {
				on_timer(d);
			} else if (d->dp && fd == dataplane_fd(d->dp)) {
				dataplane_on_events(d->dp);
			} else if (fd == d->sig_fd) {
				struct signalfd_siginfo si;

				if (read(d->sig_fd, &si, sizeof(si)) != sizeof(si))
					continue;
				if (si.ssi_signo == SIGHUP) {
					notify_reloading();
					reload(d);
					notify_ready();
					continue;
				}
				log_info("signal %u: shutting down", si.ssi_signo);
				return;
			}
		}
	}
}

/*
 * --foreground off: fork into the background. epoll watches a signalfd on
 * the signal queue of the process that added it, here the parent that is
 * about to exit: the child's SIGTERM and SIGHUP would stay pending for
 * ever. Adding the signalfd again from the child watches the child's.
 */
static int detach(struct daemon *d)
{
	if (daemon(0, 0)) {
		log_err("daemon: %s", strerror(errno));
		return -1;
	}
	log_setup("xdnatd", (enum log_level)d->cfg.log_level, 1);
	if (epoll_ctl(d->ep, EPOLL_CTL_DEL, d->sig_fd, NULL) || add_fd(d->ep, d->sig_fd)) {
		log_err("signalfd after daemon(): %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* daemon() changes to /: a relative --pidfile or --socket becomes absolute
 * before it, as the state directory does. 0 or -errno (path unchanged). */
static int path_absolute(char *path, size_t cap)
{
	char *cwd, *abs;
	int n, rc = 0;

	if (!path[0] || path[0] == '/')
		return 0;
	cwd = realpath(".", NULL);
	if (!cwd)
		return -errno;
	n = asprintf(&abs, "%s/%s", cwd, path);
	free(cwd);
	if (n < 0)
		return -ENOMEM;
	if ((size_t)n >= cap)
		rc = -ENAMETOOLONG;
	else
		memcpy(path, abs, (size_t)n + 1);
	free(abs);
	return rc;
}

/* --pidfile: the pid of the process that serves, written once it does. */
static int write_pidfile(const char *path)
{
	char *dup = strdup(path), *dir, *name, pid[24];
	int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid()), rc;

	if (!dup)
		return -ENOMEM;
	dir = dirname(dup);
	name = strrchr(path, '/') ? strrchr(path, '/') + 1 : (char *)path;
	rc = mkdir_p(dir, 0755);
	if (!rc)
		rc = atomic_write_file(dir, name, pid, (size_t)n, 0644);
	free(dup);
	return rc;
}

int main(int argc, char **argv)
{
	struct daemon d = { .argc = argc, .argv = argv, .pap_fd = -1, .ctl_fd = -1,
			    .http_fd = -1, .metrics_fd = -1 };
	char err[512];
	int rc = config_load(argc, argv, &d.cfg, err, sizeof(err));

	if (rc > 0)
		return 0;
	if (rc < 0) {
		fprintf(stderr, "xdnatd: %s\n", err);
		return 2;
	}
	log_setup("xdnatd", (enum log_level)d.cfg.log_level, 0);
	if (d.cfg.check_kernel)
		return dataplane_kernel_probe(&d.cfg, &d.kernel) ? 1 :
		       kfeat_report_table(&d.kernel, stdout);
	if (d.cfg.unload) {
		rc = dataplane_unload(&d.cfg);
		if (reserved_ports_release(d.cfg.state_dir))
			rc = rc ? rc : 1;
		return rc ? 1 : 0;
	}
	if (setup(&d))
		return 1;
	if (path_absolute(d.cfg.pidfile, sizeof(d.cfg.pidfile)) ||
	    path_absolute(d.cfg.socket_path, sizeof(d.cfg.socket_path))) {
		log_err("--pidfile %s, --socket %s: cannot make them absolute", d.cfg.pidfile,
			d.cfg.socket_path);
		return 1;
	}
	if (!d.cfg.foreground && detach(&d))
		return 1;
	if (d.cfg.pidfile[0]) {
		rc = write_pidfile(d.cfg.pidfile);
		if (rc) {
			log_err("--pidfile %s: %s", d.cfg.pidfile, strerror(-rc));
			return 1;
		}
	}
	log_info("xdnatd %s serving PAP on port %u, control socket %s", xdnat_version,
		 d.cfg.pap_port, d.cfg.socket_path);
	d.watchdog = notify_watchdog_usec() > 0;
	notify_ready();
	run(&d);
	notify_stopping();

	/* Everything acknowledged is already on disk; a snapshot makes the next
	 * start read one file instead of a long journal. */
	rc = gw_commit(d.gw);
	if (!rc)
		rc = gw_compact(d.gw, true);
	pap_counters_sync(d.cfg.state_dir, gw_get_stats(d.gw), &d.counters_saved);
	if (rc)
		log_err("final snapshot of %s: %s (the journal still has everything)",
			d.cfg.state_dir, strerror(-rc));
	unlink(d.cfg.socket_path);
	if (d.cfg.pidfile[0])
		unlink(d.cfg.pidfile);
	if (d.dp)
		log_info("the XDP programs stay attached and the maps pinned in %s "
			 "(xdnatd --unload removes them)", d.cfg.bpffs);
	dataplane_close(d.dp);
	crl_http_stop(d.http);
	metrics_stop(d.metrics);
	gw_free(d.gw);
	alloc_log_close(d.alog);
	ca_close(d.ca);
	state_close(d.store);
	return rc ? 1 : 0;
}
