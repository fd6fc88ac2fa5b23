/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The host agent's life cycle (host_agent.h): start (resume or register),
 * the loop, renewal and resync, the certificate it keeps, take-down. One
 * thread, one poll loop: the control socket (agent_commands.c), a signalfd
 * and the renewal timer. PAP requests are blocking calls of the client
 * library, kept short once running (LOOP_RETRIES) so that a silent gateway
 * delays the control socket by two seconds at most.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include "host/agent.h"
#include "host/host_net.h"
#include "host/host_swan_setup.h"
#include "host/host_veth.h"
#include "lib/ctlsock.h"
#include "lib/dirlock.h"
#include "lib/kfeat.h"
#include "lib/log.h"
#include "lib/sigfd.h"
#include "pap/gw_key.h"

/* Requests that may have left after the last save: skipped on resume, so
 * the gateway never sees a sequence number twice (it would say REPLAY). */
#define SEQ_SKIP		64
/* Retransmissions per request once running (0.25 + 0.5 + 1 s), and the
 * longest wait between two failed renewals. */
#define LOOP_RETRIES		2
#define MAX_BACKOFF_MS		16000
/* At start, a gateway that does not answer gets this long (whole tries of
 * up to 0.25 + 0.5 + 1 + 2 + 4 s, 1, 2, 4... s apart), then `up` gives up. */
#define START_RETRIES		4
#define START_BUDGET_MS		30000
/* crl.pem is fetched again at least this often (the CA signs one at least
 * every 12 h, each valid for a day). */
#define CRL_REFRESH_S		3600

/* ---- small helpers ------------------------------------------------------- */

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void state_to_session(struct pap_client *c, const struct host_state *st)
{
	c->s.client_id = st->client_id;
	memcpy(c->s.secret, st->secret, PAP_KEY_LEN);
	c->s.seq = st->seq + SEQ_SKIP;
	c->s.xid = st->xid + SEQ_SKIP;
}

int agent_save(struct agent *a)
{
	int rc;

	a->st.client_id = a->pap.s.client_id;
	memcpy(a->st.secret, a->pap.s.secret, PAP_KEY_LEN);
	a->st.seq = a->pap.s.seq;
	a->st.xid = a->pap.s.xid;
	rc = host_state_save(a->o->state_dir, &a->st);
	if (rc)
		log_err("writing %s/%s: %s", a->o->state_dir, HOST_STATE_FILE, strerror(-rc));
	return rc;
}

static void lease_granted(struct host_state *st, uint32_t secs)
{
	st->lease = secs;
	st->lease_expires = (uint64_t)time(NULL) + secs;
}

static int64_t renew_interval(const struct agent *a)
{
	int64_t ms = (int64_t)a->st.lease * 1000 / 3;

	return ms < 1000 ? 1000 : ms;
}

void agent_schedule(struct agent *a, int64_t delay_ms)
{
	a->next_ms = mono_ms() + delay_ms;
}

/* ---- host configuration -------------------------------------------------- */

struct host_net agent_net(const struct host_state *st)
{
	struct host_net n = { .global = st->global, .gateway = st->gateway,
			      .table = st->table };

	snprintf(n.dev, sizeof(n.dev), "%s", st->dev);
	return n;
}

/* G on lo, the rule and route, the tunnel on the NIC. Logs what failed. */
static int configure(struct agent *a)
{
	struct host_net n = agent_net(&a->st);
	struct xdnat_host_cfg cfg = {
		.global = a->st.global,
		.host_addr = a->st.host_addr,
		.gw_addr = a->st.gateway,
	};
	bool created = false;
	int rc;

	/* remembered before the first change, so `down` can undo a half `up` */
	a->st.configured = true;
	n.ext_mtu = a->ext_mtu;
	rc = host_net_configure(&n, a->st.sysctl_prev);
	if (!rc)
		rc = host_veth_prepare(a->st.dev, &a->st.tx_csum_prev);
	if (!rc)
		rc = host_tc_attach(&a->tc, (int)if_nametoindex(a->st.dev), &cfg, &created);
	if (created)
		a->st.clsact_created = true;
	if (!rc)
		log_info("tunnel on %s: from %s out to %s, in from %s", a->st.dev,
			 ip(a->st.global).s, ip(a->st.gateway).s, ip(a->st.gateway).s);
	return rc;
}

/* Everything configure() did, from the state alone. Logs what failed. */
static int unconfigure(const struct host_state *st)
{
	struct host_net n = agent_net(st);
	unsigned int ifindex = if_nametoindex(st->dev);
	int rc = host_net_unconfigure(&n, st->sysctl_prev);
	int err = host_veth_restore(st->dev, st->tx_csum_prev);

	rc = rc ? rc : err;
	if (ifindex) {
		err = host_tc_detach((int)ifindex, st->clsact_created);

		if (err)
			log_err("removing the tunnel from %s: %s", st->dev, strerror(-err));
		rc = rc ? rc : err;
	}
	return rc;
}

/* After a new registration with another G: move the host over to it. */
static int reconfigure(struct agent *a, uint32_t old_global)
{
	if (old_global && a->st.configured) {
		struct host_state old = a->st;

		old.global = old_global;
		old.clsact_created = false;	/* keep the qdisc: we re-attach */
		old.tx_csum_prev = -1;		/* and the veth's setting */
		for (int i = 0; i < HOST_SYSCTL_MAX; i++)
			old.sysctl_prev[i] = -1;	/* and the sysctls */
		unconfigure(&old);
	}
	return configure(a);
}

/* ---- registration and the share ------------------------------------------- */

/* The gateway's key: --gateway-key, else the one pinned in the state
 * directory, else none yet (trust on first use, pinned by pin_gw_key()). */
static int load_gw_key(struct agent *a)
{
	char path[PATH_MAX + 16], err[512];
	const char *file = a->o->gateway_key_file;
	int rc;

	if (!file[0]) {
		snprintf(path, sizeof(path), "%s/%s", a->o->state_dir, PAP_GW_PUB_FILE);
		file = path;
	}
	rc = pap_gw_pub_read(file, a->gw_key, err, sizeof(err));
	a->gw_key_tofu = rc == -ENOENT && !a->o->gateway_key_file[0];
	if (rc && !a->gw_key_tofu) {
		log_err("%s%s", a->o->gateway_key_file[0] ? "--gateway-key " : "", err);
		return rc;
	}
	/* Either way a REGISTER_REPLY must be signed, by this key when known. */
	a->pap.s.gw_key = a->gw_key_tofu ? NULL : a->gw_key;
	a->pap.s.require_gw_sig = true;
	return 0;
}

static void pin_gw_key(struct agent *a)
{
	char fpr[PAP_GW_FPR_LEN];
	int rc;

	pap_gw_fingerprint(a->pap.s.gw_key_seen, fpr);
	if (!a->gw_key_tofu)
		return;
	rc = pap_gw_pub_write(a->o->state_dir, PAP_GW_PUB_FILE, a->pap.s.gw_key_seen);
	if (rc) {
		log_err("pinning the gateway's key in %s/%s: %s", a->o->state_dir,
			PAP_GW_PUB_FILE, strerror(-rc));
		return;
	}
	memcpy(a->gw_key, a->pap.s.gw_key_seen, PAP_SIG_KEY_LEN);
	a->pap.s.gw_key = a->gw_key;
	a->gw_key_tofu = false;
	log_info("gateway key %s pinned in %s/%s (first use)", fpr, a->o->state_dir,
		 PAP_GW_PUB_FILE);
}

/* The gateway's external MTU from a REGISTER or QUERY reply; an older
 * gateway sends none: the route then fits the tunnel alone, as before. */
static void gateway_mtu(struct agent *a, const struct pap_msg *m)
{
	uint16_t mtu = m->present & PAP_BIT(PAP_P_EXT_MTU) ? m->ext_mtu : 0;

	if (mtu != a->ext_mtu)
		log_info("gateway %s: external MTU %s%u", a->o->gateway, mtu ? "" : "unknown: ",
			 mtu);
	a->ext_mtu = mtu;
}

/* The route to G again when the gateway's external MTU changed since it
 * was set (a QUERY reply after a resync or a restart of the gateway). */
static int route_mtu_follow(struct agent *a, uint16_t before)
{
	struct host_net n;

	if (!a->st.configured || a->ext_mtu == before)
		return 0;
	n = agent_net(&a->st);
	n.ext_mtu = a->ext_mtu;
	return host_net_configure(&n, a->st.sysctl_prev);
}

/* --global G: the gateway's answer must be G (network input: checked). */
static int global_as_asked(struct agent *a, uint32_t got)
{
	if (!a->o->global || got == a->o->global)
		return 0;
	log_err("gateway %s gave global address %s, not the %s asked for (--global): "
		"refusing it", a->o->gateway, ip(got).s, ip(a->o->global).s);
	return -EPROTO;
}

static int do_register(struct agent *a)
{
	uint32_t old = a->st.global;
	char want[PAP_GW_FPR_LEN], got[PAP_GW_FPR_LEN];
	int rc = a->token_id ?
		pap_client_register_token(&a->pap, a->token_id, a->key, a->key_len,
					  a->o->lease) :
		pap_client_register(&a->pap, a->key_len ? a->key : NULL, a->key_len,
				    a->o->lease);

	if (rc == -EKEYREJECTED) {
		pap_gw_fingerprint(a->gw_key, want);
		pap_gw_fingerprint(a->pap.s.gw_key_seen, got);
		log_err("gateway %s signs with key %s, not the pinned %s (%s): refusing it; "
			"if the gateway's key really changed, give its new %s with "
			"--gateway-key%s", a->o->gateway, got, want,
			a->o->gateway_key_file[0] ? a->o->gateway_key_file : "first use",
			PAP_GW_PUB_FILE, a->o->gateway_key_file[0] ? "" :
			" or remove the pinned one from --state-dir");
		return rc;
	}
	if (rc == -ETIMEDOUT)
		return rc;	/* the caller backs off, and says so when it gives up */
	if (rc && a->o->global) {
		log_err("gateway %s refused global address %s (--global): %s; is it one of "
			"the gateway's (xdnatd --global)?", a->o->gateway, ip(a->o->global).s,
			pap_client_strerror(&a->pap, rc));
		return rc;
	}
	if (rc) {
		log_err("gateway %s refused the registration: %s", a->o->gateway,
			pap_client_strerror(&a->pap, rc));
		return rc;
	}
	pin_gw_key(a);
	rc = global_as_asked(a, a->pap.reply.globals[0]);
	if (rc)
		return rc;
	a->st.global = a->pap.reply.globals[0];
	gateway_mtu(a, &a->pap.reply);
	lease_granted(&a->st, a->pap.reply.lease);
	log_info("registered with gateway %s as client %u: global address %s, lease %u s",
		 a->o->gateway, a->pap.s.client_id, ip(a->st.global).s, a->st.lease);
	if (old && old != a->st.global)
		log_warn("the gateway's global address changed from %s to %s",
			 ip(old).s, ip(a->st.global).s);
	return 0;
}

/* "20000-20063" for ports, "0x1000-0x10ff" for SPIs. */
static const char *range_str(bool spis, uint32_t first, uint32_t last, char *buf,
			     size_t len)
{
	snprintf(buf, len, spis ? "0x%x-0x%x" : "%u-%u", first, last);
	return buf;
}

/*
 * PORT or SPI: a new block of the size the flags ask for, or with reclaim
 * the block held before, by PAP hint (PORT_RANGE / SPI_RANGE). Says what it
 * got: a partial grant, or a re-claim that gave another block. SPI blocks
 * are powers of two, aligned (docs/pap.md).
 */
static int claim(struct agent *a, bool spis, bool reclaim)
{
	const char *what = spis ? "SPIs" : "ports";
	uint32_t first = spis ? a->st.spis.first : a->st.ports.first;
	uint32_t last = spis ? a->st.spis.last : a->st.ports.last;
	uint32_t want = reclaim ? last - first + 1 : spis ? a->o->spis : a->o->ports;
	struct pap_port_range ph = { a->st.global, (uint16_t)first, (uint16_t)last }, pg;
	struct pap_spi_range sh = { a->st.global, first, last }, sg;
	char was[32], got[32];
	uint32_t gfirst, glast;
	uint64_t n;
	int rc;

	if (spis)
		rc = pap_client_spis(&a->pap, want, reclaim ? &sh : NULL, &sg);
	else
		rc = pap_client_ports(&a->pap, want, reclaim ? &ph : NULL, &pg);
	if (rc) {
		log_err("gateway %s refused %u %s: %s", a->o->gateway, want, what,
			pap_client_strerror(&a->pap, rc));
		return rc;
	}
	if (spis) {
		a->st.spis = sg;
		a->st.has_spis = true;
	} else {
		a->st.ports = pg;
		a->st.has_ports = true;
		/* a PORT grant revokes the certificate at the gateway */
		a->cert_stale = true;
	}
	gfirst = spis ? sg.first : pg.first;
	glast = spis ? sg.last : pg.last;
	n = (uint64_t)glast - gfirst + 1;
	range_str(spis, first, last, was, sizeof(was));
	range_str(spis, gfirst, glast, got, sizeof(got));
	if (reclaim && (gfirst != first || glast != last))
		log_warn("could not re-claim %s %s: got %s instead", what, was, got);
	else if (reclaim)
		log_info("re-claimed %s %s", what, got);
	else if (n < want)
		log_warn("partial grant: asked for %u %s, got %" PRIu64 ": %s", want, what,
			 n, got);
	else
		log_info("%s %s (%" PRIu64 ")", what, got, n);
	return 0;
}

/* NATT: port natt_index of the block carries ESP-in-UDP. Not fatal: IKE
 * without NAT-T still works. */
static void declare_natt(struct agent *a)
{
	uint32_t idx = a->o->natt_index;
	uint16_t port;
	int rc;

	a->st.natt_port = 0;
	if (idx >= nports(&a->st.ports)) {
		log_warn("no NAT-T port: %u port(s) granted, --natt-port-index is %u",
			 nports(&a->st.ports), idx);
		return;
	}
	port = (uint16_t)(a->st.ports.first + idx);
	rc = pap_client_natt(&a->pap, port);
	if (rc) {
		log_warn("gateway %s refused NAT-T port %u: %s", a->o->gateway, port,
			 pap_client_strerror(&a->pap, rc));
		return;
	}
	a->st.natt_port = port;
	log_info("IKE port %u (charon.port), NAT-T port %u (charon.port_nat_t)",
		 a->st.ports.first, port);
}

/* VALIDATE peer p again (its SPIs, or the block we hold now when those are
 * no longer ours), into the state. 0 or -errno, said either way. */
static int revalidate_one(struct agent *a, const struct pap_sa *p)
{
	struct pap_spi_range r = { a->st.global, p->spi_first, p->spi_last };
	uint32_t peer = p->peer;
	int rc;

	/* SPIs no longer ours: the peer gets the new block instead */
	if (r.first < a->st.spis.first || r.last > a->st.spis.last)
		r = a->st.spis;
	rc = pap_client_validate(&a->pap, peer, &r, 1);
	if (rc) {
		log_warn("re-validating peer %s: %s", ip(peer).s, pap_client_strerror(&a->pap, rc));
		return rc;
	}
	for (unsigned int j = 0; j < a->pap.reply.n_sas; j++)
		host_state_add_peer(&a->st, &a->pap.reply.sas[j]);
	log_info("re-validated peer %s for SPIs 0x%x-0x%x", ip(peer).s, r.first, r.last);
	return 0;
}

/* After a new registration the gateway's SA table has none of our peers:
 * validate them again, within the SPIs we now hold. */
static void revalidate(struct agent *a)
{
	struct pap_sa old[HOST_STATE_MAX_PEERS];
	unsigned int n = a->st.n_peers;

	memcpy(old, a->st.peers, n * sizeof(old[0]));
	a->st.n_peers = 0;
	for (unsigned int i = 0; i < n && a->st.has_spis; i++)
		revalidate_one(a, &old[i]);
}

/*
 * REGISTER, PORT, SPI, NATT. reclaim: the gateway lost us; ask for the very
 * blocks held before (PAP hints), say whether we got them, re-validate.
 */
static int enroll(struct agent *a, bool reclaim)
{
	struct pap_port_range old_ports = a->st.ports;
	struct pap_spi_range old_spis = a->st.spis;
	bool had_ports = reclaim && a->st.has_ports;
	bool had_spis = reclaim && a->st.has_spis;
	int rc = do_register(a);

	if (!rc)
		rc = claim(a, false, had_ports);
	if (!rc && (had_spis || a->o->spis))
		rc = claim(a, true, had_spis);
	if (rc)
		return rc;
	declare_natt(a);
	if (had_ports || had_spis) {
		bool same = (!had_ports || (old_ports.first == a->st.ports.first &&
					    old_ports.last == a->st.ports.last)) &&
			    (!had_spis || (old_spis.first == a->st.spis.first &&
					   old_spis.last == a->st.spis.last));

		if (same)
			log_info("re-registered as client %u with the same share as before",
				 a->pap.s.client_id);
		else
			log_warn("re-registered as client %u, but with a different share",
				 a->pap.s.client_id);
		revalidate(a);
	}
	return agent_save(a);
}

static bool holds_ports(const struct pap_msg *m, const struct pap_port_range *r)
{
	for (unsigned int i = 0; i < m->n_ports; i++)
		if (m->ports[i].first == r->first && m->ports[i].last == r->last)
			return true;
	return false;
}

static bool holds_spis(const struct pap_msg *m, const struct pap_spi_range *r)
{
	for (unsigned int i = 0; i < m->n_spis; i++)
		if (m->spis[i].first == r->first && m->spis[i].last == r->last)
			return true;
	return false;
}

static bool holds_sa(const struct pap_sa *sas, unsigned int n, const struct pap_sa *p)
{
	for (unsigned int i = 0; i < n; i++)
		if (sas[i].peer == p->peer && sas[i].spi_first <= p->spi_first &&
		    sas[i].spi_last >= p->spi_last)
			return true;
	return false;
}

/* "20000-20063,30000-30015" of what the gateway holds, for the log. */
static const char *blocks_str(const struct pap_msg *m, bool spis, char *buf, size_t len)
{
	unsigned int n = spis ? m->n_spis : m->n_ports;
	size_t off = 0;

	snprintf(buf, len, "none");
	for (unsigned int i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, spis ? "%s0x%x-0x%x" : "%s%u-%u",
					i ? "," : "", spis ? m->spis[i].first : m->ports[i].first,
					spis ? m->spis[i].last : m->ports[i].last);
	return buf;
}

/*
 * At each renewal, the gateway's view of us (QUERY) against ours. A peer it
 * no longer has (its state restored from an older copy, say) is validated
 * again: the IKE daemon still has its SAs, and without it their ESP is
 * dropped. A share that differs is said loudly: the data plane follows the
 * gateway's, not ours.
 */
static void reconcile(struct agent *a)
{
	const struct pap_msg *m = &a->pap.reply;
	struct pap_sa sas[PAP_MAX_SAS], mine[HOST_STATE_MAX_PEERS];
	unsigned int n_sas, n_mine = a->st.n_peers, again = 0;
	char theirs[256];
	int rc = pap_client_query(&a->pap);

	if (rc) {
		if (lost(&a->pap, rc))
			agent_schedule(a, 0);	/* the renewal path confirms and registers */
		return;
	}
	if (a->st.has_ports && !holds_ports(m, &a->st.ports))
		log_err("the gateway holds ports %s for client %u, not our %u-%u: its state "
			"differs from ours (restored from a backup?)", blocks_str(m, false, theirs,
			sizeof(theirs)), a->st.client_id, a->st.ports.first, a->st.ports.last);
	if (a->st.has_spis && !holds_spis(m, &a->st.spis))
		log_err("the gateway holds SPIs %s for client %u, not our 0x%x-0x%x: its state "
			"differs from ours (restored from a backup?)", blocks_str(m, true, theirs,
			sizeof(theirs)), a->st.client_id, a->st.spis.first, a->st.spis.last);
	n_sas = m->n_sas;
	memcpy(sas, m->sas, n_sas * sizeof(sas[0]));
	memcpy(mine, a->st.peers, n_mine * sizeof(mine[0]));
	for (unsigned int i = 0; i < n_mine; i++) {
		if (holds_sa(sas, n_sas, &mine[i]))
			continue;
		log_warn("the gateway lost our validation of peer %s (SPIs 0x%x-0x%x): "
			 "validating it again", ip(mine[i].peer).s, mine[i].spi_first,
			 mine[i].spi_last);
		again += !revalidate_one(a, &mine[i]);
	}
	if (again)
		agent_save(a);
}

/* A restarted agent: does the gateway still know us, and hold our share? */
static int resume(struct agent *a)
{
	const struct pap_msg *m = &a->pap.reply;
	bool ports_ok, spis_ok;
	uint16_t natt;
	int rc = pap_client_query(&a->pap);

	if (lost(&a->pap, rc)) {
		log_info("gateway %s no longer knows client %u (%s): registering again",
			 a->o->gateway, a->st.client_id, pap_err_name(a->pap.err_code));
		return enroll(a, true);
	}
	if (rc) {
		log_err("resuming client %u with gateway %s: %s", a->st.client_id,
			a->o->gateway, pap_client_strerror(&a->pap, rc));
		return rc;
	}
	rc = global_as_asked(a, m->globals[0]);
	if (rc)
		return rc;
	/* m is overwritten by the next request: take what we need now */
	a->st.global = m->globals[0];
	gateway_mtu(a, m);
	a->st.lease_expires = (uint64_t)time(NULL) + m->lease;
	ports_ok = a->st.has_ports && holds_ports(m, &a->st.ports);
	spis_ok = a->st.has_spis && holds_spis(m, &a->st.spis);
	natt = m->natt_port;
	a->st.n_peers = 0;
	for (unsigned int i = 0; i < m->n_sas; i++)
		host_state_add_peer(&a->st, &m->sas[i]);

	if (!ports_ok && a->st.has_ports)
		log_warn("the gateway no longer holds ports %u-%u for us: claiming them again",
			 a->st.ports.first, a->st.ports.last);
	rc = ports_ok ? 0 : claim(a, false, a->st.has_ports);
	if (!rc && !spis_ok && (a->st.has_spis || a->o->spis))
		rc = claim(a, true, a->st.has_spis);
	if (rc)
		return rc;
	if (!natt || natt != a->st.ports.first + a->o->natt_index)
		declare_natt(a);
	else
		a->st.natt_port = natt;
	log_info("resumed client %u with gateway %s: %" PRIu64 " s of lease left",
		 a->st.client_id, a->o->gateway, a->st.lease_expires - (uint64_t)time(NULL));
	return agent_save(a);
}

/* ---- the certificate ------------------------------------------------------ */

/* Where the files go: `cert --out` (kept in the state), else --state-dir/cert. */
const char *agent_cert_dir(struct agent *a)
{
	if (a->st.cert_dir[0])
		return a->st.cert_dir;
	snprintf(a->cert_default, sizeof(a->cert_default), "%s/%s", a->o->state_dir,
		 HOST_CERT_SUBDIR);
	return a->cert_default;
}

/* "2025-01-31 12:00:00 UTC" */
const char *agent_utc(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(buf, len, "%" PRId64, t);
	return buf;
}

/* ---- strongSwan (`xdnat-host strongswan`) ------------------------------------ */

int agent_swan_apply(struct agent *a, const struct swan_opts *w, FILE *out, char *err,
		     size_t errlen)
{
	const struct swan_share sh = {
		.global = a->st.global,
		.ports = a->st.ports,
		.natt_port = a->st.has_ports ? a->st.natt_port : 0,
		.has_spis = a->st.has_spis,
		.spis = a->st.spis,
		.cert_dir = a->cert.dir,
		.have_cert = a->cert.have,
		.agent_socket = a->o->socket_path,
	};

	return swan_setup(w, &sh, out, err, errlen);
}

int agent_swan_refresh(struct agent *a, char *err, size_t errlen)
{
	char line[HOST_SWAN_LINE_MAX];
	int rc;

	if (!a->st.swan.dir[0])
		return 0;
	rc = agent_swan_apply(a, &a->st.swan, NULL, err, errlen);
	if (rc) {
		log_warn("strongSwan directory not updated: %s", err);
		return rc;
	}
	if (host_cmd_line(&host_cmd_strongswan, &a->st.swan, line, sizeof(line)))
		snprintf(line, sizeof(line), "--dir %s ...", a->st.swan.dir);
	log_info("strongSwan directory updated (%s)", line);
	return 0;
}

/* The same, where a failure only needs logging (renewals, the CRL). */
static void swan_keep_current(struct agent *a)
{
	char err[512];

	agent_swan_refresh(a, err, sizeof(err));
}

/* PAP CRL into crl.pem. 0 or -errno, the reason in err. */
static int fetch_crl(struct agent *a, char *err, size_t errlen)
{
	int rc = pap_client_crl(&a->pap);

	if (rc) {
		snprintf(err, errlen, "gateway %s refused the CRL: %s", a->o->gateway,
			 pap_client_strerror(&a->pap, rc));
		return rc;
	}
	rc = host_cert_store_crl(&a->cert, a->pap.crl, a->pap.crl_len, err,
				 errlen);
	if (!rc)
		a->crl_time = time(NULL);
	return rc;
}

/*
 * CERT for the ports we hold, with a key in dir as ks asks, then CRL; the
 * files in dir (host_cert.h). 0, or -errno with the reason in err; the
 * caller says it.
 */
int agent_get_cert(struct agent *a, const char *dir, const struct host_key_spec *ks,
		   char *err, size_t errlen)
{
	const struct pap_msg *m = &a->pap.reply;
	char until[40], crl_err[320];
	uint8_t *csr = NULL;
	bool moved;
	size_t len;
	int rc;

	if (!a->st.has_ports) {
		snprintf(err, errlen, "no ports to certify yet");
		return -ENOENT;
	}
	moved = strcmp(a->cert.dir, dir);
	rc = host_cert_request(&a->cert, dir, ks, &csr, &len, err, errlen);
	if (rc)
		return rc;
	rc = pap_client_cert(&a->pap, csr, len);
	OPENSSL_free(csr);
	if (rc) {
		if (lost(&a->pap, rc))
			agent_schedule(a, 0);	/* the renewal path registers again */
		snprintf(err, errlen, "gateway %s refused the certificate: %s", a->o->gateway,
			 pap_client_strerror(&a->pap, rc));
		return rc;
	}
	rc = host_cert_store(&a->cert, m->certs, m->cert_lens, m->n_certs, &a->st.ports, 1,
			     err, errlen);
	if (rc)
		return rc;
	a->cert_stale = false;
	if (moved)
		a->crl_time = 0;	/* no crl.pem there yet */
	log_info("certificate %s for %s ports %u-%u in %s, valid until %s", a->cert.serial,
		 ip(a->st.global).s, a->st.ports.first, a->st.ports.last, dir,
		 agent_utc(a->cert.not_after, until, sizeof(until)));
	/* the CRL serves the IKE daemon's checks of others: not fatal here */
	if (fetch_crl(a, crl_err, sizeof(crl_err)))
		log_warn("%s/%s not updated: %s", dir, HOST_CERT_CRL, crl_err);
	agent_save(a);
	return 0;
}

/* After every renewal: a new certificate when the share changed or a third
 * of the validity is left, and a fresh CRL now and then. */
static void cert_tick(struct agent *a)
{
	static const struct host_key_spec keep = { HOST_KEY_KEEP, 0 };
	int64_t now = time(NULL);
	char err[512];

	if (a->cert_stale || host_cert_due(&a->cert, &a->st.ports, 1, now)) {
		if (agent_get_cert(a, agent_cert_dir(a), &keep, err, sizeof(err))) {
			if (!a->cert_failing)
				log_warn("no certificate: %s; trying again at each renewal", err);
			a->cert_failing = true;
			return;
		}
		if (a->cert_failing)
			log_info("certificate renewed again");
		a->cert_failing = false;
		swan_keep_current(a);
	} else if (a->cert.have && now - a->crl_time >= CRL_REFRESH_S) {
		a->crl_time = now;	/* once an hour, also when it fails */
		if (fetch_crl(a, err, sizeof(err)))
			log_warn("%s/%s not updated: %s", agent_cert_dir(a), HOST_CERT_CRL, err);
		else
			swan_keep_current(a);
	}
}

/* ---- taking it all down ------------------------------------------------- */

/* DEREGISTER, undo the host configuration, forget the state; report to out.
 * A gateway that does not answer frees the share when the lease runs out. */
int agent_take_down(struct pap_client *c, struct host_state *st, const char *dir,
		    FILE *out)
{
	int rc = 0;

	if (st->client_id) {
		rc = pap_client_deregister(c);
		if (!rc)
			fprintf(out, "client %u deregistered: gateway %s freed its share\n",
				st->client_id, ip(st->gateway).s);
		else if (lost(c, rc))
			fprintf(out, "client %u was already unknown to gateway %s\n",
				st->client_id, ip(st->gateway).s);
		else
			fprintf(out, "warning: DEREGISTER of client %u failed: %s; the gateway "
				"frees the share when its lease runs out\n", st->client_id,
				pap_client_strerror(c, rc));
	}
	rc = st->configured ? unconfigure(st) : 0;
	if (st->configured)
		fprintf(out, "%s %s/32 from lo, rule and route table %u, tunnel on %s\n",
			rc ? "tried to remove (see the errors)" : "removed",
			ip(st->global).s, st->table, st->dev);
	if (!rc)
		rc = host_state_remove(dir);
	return rc;
}

/* ---- the loop ---------------------------------------------------------------- */

/*
 * REGISTER_FIRST and AUTH_FAILED come unsigned: anyone on the internal
 * network can forge them, and registering again on a forgery would leave our
 * share with the old registration until it expires. A QUERY, whose reply is
 * signed, settles whether the gateway really lost us: 1 it did, 0 it did
 * not, or the QUERY's own -errno.
 */
static int confirm_lost(struct agent *a, int code)
{
	uint16_t mtu = a->ext_mtu;
	int rc = pap_client_query(&a->pap);

	if (!rc) {
		log_warn("ignored an unsigned %s: gateway %s still knows client %u",
			 pap_err_name(code), a->o->gateway, a->st.client_id);
		gateway_mtu(a, &a->pap.reply);
		route_mtu_follow(a, mtu);
		return 0;
	}
	return lost(&a->pap, rc) ? 1 : rc;
}

/* The gateway lost us: register again, re-claim the share. 0 or -errno. */
static int resync(struct agent *a)
{
	uint32_t old = a->st.global;
	uint16_t mtu = a->ext_mtu;
	int rc;

	log_warn("gateway %s lost our registration (%s): registering again and "
		 "re-claiming ports %u-%u and SPIs 0x%x-0x%x", a->o->gateway,
		 pap_err_name(a->pap.err_code), a->st.ports.first, a->st.ports.last,
		 a->st.spis.first, a->st.spis.last);
	rc = enroll(a, true);
	if (!rc && old != a->st.global)
		rc = reconfigure(a, old);
	else if (!rc)
		rc = route_mtu_follow(a, mtu);
	return rc;
}

/* EXTEND_REPLY carries EXT_MTU only when it changed since the gateway last
 * told us; absent, it stays as it was. 0 or the route's -errno. */
static int renew_mtu(struct agent *a)
{
	uint16_t mtu = a->ext_mtu;

	if (!(a->pap.reply.present & PAP_BIT(PAP_P_EXT_MTU)))
		return 0;
	gateway_mtu(a, &a->pap.reply);
	return route_mtu_follow(a, mtu);
}

static void renew(struct agent *a)
{
	uint32_t granted = 0;
	int64_t delay;
	int rc = pap_client_extend(&a->pap, a->o->lease, &granted);

	if (lost(&a->pap, rc)) {
		rc = confirm_lost(a, a->pap.err_code);
		if (rc == 1)
			rc = resync(a);
		else if (!rc)
			rc = -EAGAIN;	/* a forgery: just renew again */
	} else if (!rc) {
		lease_granted(&a->st, granted);
		agent_save(a);
		rc = renew_mtu(a);
	}
	if (!rc) {
		if (a->fails)
			log_info("gateway %s answers again", a->o->gateway);
		a->fails = 0;
		agent_schedule(a, renew_interval(a));
		reconcile(a);
		cert_tick(a);
		return;
	}
	if (!a->fails)
		log_warn("renewing the lease failed: %s; retrying with backoff",
			 pap_client_strerror(&a->pap, rc));
	a->fails++;
	delay = 1000LL << (a->fails - 1 < 6 ? a->fails - 1 : 6);
	if (delay > MAX_BACKOFF_MS)
		delay = MAX_BACKOFF_MS;
	/* while the lease lasts, try at least as often as a renewal would */
	if ((uint64_t)time(NULL) < a->st.lease_expires && delay > renew_interval(a))
		delay = renew_interval(a);
	agent_schedule(a, delay);
}

static void on_signal(struct agent *a)
{
	struct signalfd_siginfo si;

	if (read(a->sig_fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGHUP) {
		log_info("SIGHUP: renewing now");
		agent_schedule(a, 0);
		return;
	}
	log_info("signal %u: stopping; client %u keeps its share until the lease runs out "
		 "(`xdnat-host down` frees it, a new `up` resumes)", si.ssi_signo,
		 a->st.client_id);
	a->stop = true;
}

/* The netlink watch said something changed: check soon (a burst of
 * events, ours included, is one check). */
static void on_netlink(struct agent *a)
{
	int64_t soon = mono_ms() + WATCH_DEBOUNCE_MS;

	if (host_watch_drain(&a->watch) && a->watch.check_ms > soon)
		a->watch.check_ms = soon;
}

static void run(struct agent *a)
{
	while (!a->stop) {
		struct pollfd p[3] = {
			{ .fd = a->ctl_fd, .events = POLLIN },
			{ .fd = a->sig_fd, .events = POLLIN },
			{ .fd = a->watch.fd, .events = POLLIN },
		};
		int64_t now = mono_ms(), left = a->next_ms - now;
		int n;

		if (left <= 0) {
			renew(a);
			continue;
		}
		if (a->watch.check_ms - now <= 0) {
			agent_hold_ground(a);
			continue;
		}
		if (a->watch.check_ms - now < left)
			left = a->watch.check_ms - now;
		n = poll(p, 3, left > INT_MAX ? INT_MAX : (int)left);
		if (n < 0 && errno != EINTR) {
			log_err("poll: %s", strerror(errno));
			return;
		}
		if (n <= 0)
			continue;
		if (p[1].revents & POLLIN)
			on_signal(a);
		if (p[2].revents & POLLIN)
			on_netlink(a);
		if (!a->stop && (p[0].revents & POLLIN))
			ctlsock_serve(a->ctl_fd, agent_command, a);
	}
}

/* ---- start and stop ------------------------------------------------------------ */

/* The state directory's lock, the socket to the gateway, and our state. */
static int open_state(struct agent *a, bool *fresh)
{
	const struct host_opts *o = a->o;
	struct sockaddr_in self;
	socklen_t len = sizeof(self);
	uint32_t gw;
	char err[512];
	int rc;

	a->dir_fd = dirlock_take(o->state_dir, &a->lock_fd);
	rc = a->dir_fd < 0 ? a->dir_fd : 0;
	if (rc) {
		log_err("%s: %s", o->state_dir, rc == -EBUSY ?
			"in use by another xdnat-host agent" : strerror(-rc));
		return rc;
	}
	rc = pap_client_open(&a->pap, o->gateway, o->pap_port);
	if (!rc && getsockname(a->pap.fd, (struct sockaddr *)&self, &len))
		rc = -errno;
	if (rc) {
		log_err("PAP socket to %s:%u: %s", o->gateway, o->pap_port, strerror(-rc));
		return rc;
	}
	a->pap.want_global = o->global;
	inet_pton(AF_INET, o->gateway, &gw);

	rc = host_state_load(o->state_dir, &a->st, err, sizeof(err));
	*fresh = rc == -ENOENT;
	if (*fresh) {
		host_state_init(&a->st);
		a->st.gateway = gw;
		a->st.pap_port = o->pap_port;
		a->st.table = o->table;
		snprintf(a->st.dev, sizeof(a->st.dev), "%s", o->dev);
	} else if (rc) {
		log_err("%s (move it away to start afresh)", err);
		return rc;
	} else if (a->st.gateway != gw || a->st.pap_port != o->pap_port ||
		   strcmp(a->st.dev, o->dev) || a->st.table != o->table) {
		log_err("%s/%s belongs to gateway %s:%u via %s (table %u): run "
			"`xdnat-host down --state-dir %s` first, or use another --state-dir",
			o->state_dir, HOST_STATE_FILE, ip(a->st.gateway).s, a->st.pap_port,
			a->st.dev, a->st.table, o->state_dir);
		return -EEXIST;
	} else {
		state_to_session(&a->pap, &a->st);
	}
	a->st.host_addr = self.sin_addr.s_addr;
	return 0;
}

/* Resume or register, backing off while the gateway does not answer. */
static int start_pap(struct agent *a, bool fresh)
{
	int64_t t0 = mono_ms(), delay = 1000;
	int rc;

	a->pap.retries = START_RETRIES;
	for (;;) {
		if (fresh || !a->st.client_id)
			rc = enroll(a, a->st.has_ports);
		else
			rc = resume(a);
		if (rc != -ETIMEDOUT)
			break;
		if (mono_ms() - t0 + delay > START_BUDGET_MS) {
			log_err("gateway %s:%u does not answer: no reply to PAP after "
				"retrying with backoff for %lld s (is xdnatd running, and is "
				"--gateway its --internal address?)", a->o->gateway, a->o->pap_port,
				(long long)(mono_ms() - t0 + 500) / 1000);
			break;
		}
		log_info("no answer from gateway %s:%u; trying again in %lld s", a->o->gateway,
			 a->o->pap_port, (long long)delay / 1000);
		usleep((useconds_t)delay * 1000);
		delay *= 2;
	}
	/* nothing of a fresh registration is worth keeping */
	if (rc && fresh && a->pap.s.client_id)
		pap_client_deregister(&a->pap);
	return rc;
}

static int setup(struct agent *a)
{
	const struct host_opts *o = a->o;
	struct kfeat_set k;
	uint32_t old_global;
	char err[512];
	bool fresh;
	int rc;

	/* before anything changes: no state directory, no route, no filter */
	rc = host_tc_kernel_probe(&k);
	if (!rc)
		rc = kfeat_report_start(&k);
	if (rc)
		return rc;

	if (o->site_key_file[0] &&
	    pap_site_key_load(o->site_key_file, a->key, sizeof(a->key), &a->key_len, err,
			      sizeof(err))) {
		log_err("--site-key %s", err);
		return -EINVAL;
	}
	if (o->token_file[0] && o->site_key_file[0]) {
		log_err("--site-key and --token: one or the other (a token replaces the site key)");
		return -EINVAL;
	}
	if (o->token_file[0]) {
		if (pap_token_load(o->token_file, &a->token_id, a->key, err, sizeof(err))) {
			log_err("--token %s", err);
			return -EINVAL;
		}
		a->key_len = PAP_TOKEN_LEN;
	}
	if (!if_nametoindex(o->dev)) {
		log_err("--dev %s: no such interface", o->dev);
		return -ENODEV;
	}
	rc = open_state(a, &fresh);
	if (!rc)
		rc = load_gw_key(a);
	if (rc)
		return rc;
	a->ctl_fd = ctlsock_listen(o->socket_path);
	if (a->ctl_fd < 0) {
		log_err("%s: %s", o->socket_path, a->ctl_fd == -EADDRINUSE ?
			"another xdnat-host agent answers on this socket" : strerror(-a->ctl_fd));
		return a->ctl_fd;
	}

	old_global = a->st.global;
	rc = start_pap(a, fresh);
	if (rc)
		return rc;
	/* a resumed registration may come back with another G */
	if (old_global && old_global != a->st.global)
		rc = reconfigure(a, old_global);
	else
		rc = configure(a);
	agent_save(a);
	/* a fresh registration that cannot be used is undone; a resumed one
	 * stays for the next `up` (or `down`) once the cause is fixed */
	if (rc && fresh)
		agent_take_down(&a->pap, &a->st, o->state_dir, stderr);
	if (rc)
		return rc;
	/* A certificate of our own for every start: the one of an earlier
	 * agent may name a share or a registration that is gone. */
	a->cert_stale = true;
	cert_tick(a);

	a->sig_fd = sigfd_open();
	if (a->sig_fd < 0) {
		log_err("signalfd: %s", strerror(-a->sig_fd));
		return a->sig_fd;
	}
	rc = host_watch_open(&a->watch);
	if (rc)
		log_warn("netlink watch: %s; checking the host configuration every %d s only",
			 strerror(-rc), WATCH_PERIOD_MS / 1000);
	a->watch.ifindex = if_nametoindex(a->st.dev);
	a->watch.check_ms = mono_ms() + WATCH_PERIOD_MS;
	a->pap.retries = LOOP_RETRIES;
	/* a resumed lease may be nearly gone: renew at once */
	agent_schedule(a, fresh ? renew_interval(a) : 0);
	return 0;
}

static void cleanup(struct agent *a)
{
	if (a->ctl_fd >= 0) {
		close(a->ctl_fd);
		unlink(a->o->socket_path);
	}
	if (a->sig_fd >= 0)
		close(a->sig_fd);
	host_watch_close(&a->watch);
	host_tc_close(&a->tc);
	host_cert_close(&a->cert);
	pap_client_close(&a->pap);
	dirlock_release(a->dir_fd, a->lock_fd);
	explicit_bzero(a->key, sizeof(a->key));
	explicit_bzero(&a->st, sizeof(a->st));
}

int host_agent_up(const struct host_opts *o)
{
	static struct agent a;	/* pap_client is large: not on the stack */
	int rc;

	a = (struct agent){ .o = o, .ctl_fd = -1, .sig_fd = -1, .pap.fd = -1,
			    .dir_fd = -1, .lock_fd = -1, .watch.fd = -1 };
	rc = setup(&a);
	if (!rc) {
		log_info("up: client %u, global %s, ports %u-%u, control socket %s",
			 a.st.client_id, ip(a.st.global).s, a.st.ports.first, a.st.ports.last,
			 o->socket_path);
		if (o->daemon && daemon(0, 0)) {
			rc = -errno;
			log_err("daemon: %s", strerror(errno));
		} else {
			if (o->daemon)
				log_setup("xdnat-host", LOG_LVL_INFO, 1);
			run(&a);
		}
	}
	cleanup(&a);
	return rc ? 1 : 0;
}

int host_agent_down_offline(const char *state_dir, const char *socket_path)
{
	static struct pap_client c;
	int dir_fd, lock_fd;
	struct host_state st;
	char err[512];
	int rc;

	/* dirlock_take() would create the directory: look first */
	if (access(state_dir, F_OK) && errno == ENOENT) {
		printf("nothing to take down: no agent answers on %s and there is no %s\n",
		       socket_path, state_dir);
		return 0;
	}
	dir_fd = dirlock_take(state_dir, &lock_fd);
	rc = dir_fd < 0 ? dir_fd : 0;
	if (rc == -EBUSY) {
		log_err("%s is held by an agent that does not answer on %s (use its --socket)",
			state_dir, socket_path);
		return 1;
	}
	if (rc) {
		log_err("%s: %s", state_dir, strerror(-rc));
		return 1;
	}
	rc = host_state_load(state_dir, &st, err, sizeof(err));
	if (rc == -ENOENT) {
		printf("nothing to take down: no agent answers on %s and %s holds no state\n",
		       socket_path, state_dir);
		dirlock_release(dir_fd, lock_fd);
		return 0;
	}
	if (rc) {
		log_err("%s", err);
		dirlock_release(dir_fd, lock_fd);
		return 1;
	}
	rc = pap_client_open(&c, ip(st.gateway).s, st.pap_port);
	if (rc) {
		log_err("PAP socket to %s:%u: %s", ip(st.gateway).s, st.pap_port,
			strerror(-rc));
	} else {
		c.retries = LOOP_RETRIES + 1;
		state_to_session(&c, &st);
	}
	if (rc)
		st.client_id = 0;	/* cannot deregister: still undo the host side */
	rc = agent_take_down(&c, &st, state_dir, stdout);
	pap_client_close(&c);
	explicit_bzero(&st, sizeof(st));
	dirlock_release(dir_fd, lock_fd);
	return rc ? 1 : 0;
}
