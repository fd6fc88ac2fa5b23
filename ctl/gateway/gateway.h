/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The gateway's PAP logic: one request datagram in, one reply datagram out.
 * It owns the host table, the allocators and the leases; it does no I/O (the
 * daemon moves datagrams, the state store persists what this logs), and it
 * reads time only through the injected clock, so tests drive it directly.
 */
#ifndef XDNAT_GATEWAY_H
#define XDNAT_GATEWAY_H

#include <stddef.h>
#include <stdint.h>
#include "gateway/host.h"
#include "gateway/state.h"
#include "pap/site_key.h"

#define GW_MAX_SITE_KEY	PAP_MAX_SITE_KEY
/* 64 peers x the agent's 256 SPIs, or one peer for a 16k block: 1/16 of the
 * default SA map, so one host cannot take more (docs/security.md). */
#define GW_DEFAULT_SA_BUDGET	16384
#define GW_DEFAULT_CERT_RATE	6	/* CERTs per host and minute */
/* A pool of global addresses (issue 15): at most what REGISTER_REPLY's
 * GLOBAL_ADDR 1..16 can name, a /28. */
#define GW_MAX_POOL		STATE_MAX_POOL

struct gw_config {
	uint32_t global;		/* G, network order: the pool's first */
	/* The pool, network order; n_pool 0 (an old caller's, a test's): the
	 * pool of one, global. Each G has its own ports; SPIs are unique
	 * across the pool. xdnatd refuses more than one until the data plane
	 * follows (config.c); the gateway object takes up to GW_MAX_POOL. */
	uint32_t pool[GW_MAX_POOL];
	uint8_t n_pool;
	uint16_t port_lo, port_hi;	/* share of each G's ports handed to hosts */
	uint32_t spi_lo, spi_hi;
	uint32_t lease_secs;		/* granted when the host asks for none */
	uint32_t max_lease_secs;	/* cap on what a host may ask for */
	uint32_t port_quota;		/* per host, total ports */
	uint32_t spi_quota;		/* per host, total SPIs */
	uint32_t max_hosts;
	uint8_t site_key[GW_MAX_SITE_KEY];
	size_t site_key_len;		/* 0: any internal host may register */
	/* Exhaustion and hijack guards (docs/security.md); 0 turns one off. */
	uint32_t min_lease_secs;	/* floor on any lease granted */
	uint32_t max_hosts_per_source;	/* registrations one address may hold */
	uint32_t register_rate;		/* REGISTERs per second per source (bucket) */
	uint32_t register_burst;	/* ... and the bucket's depth */
	uint32_t register_timeout_secs;	/* no signed request since REGISTER: reclaimed */
	bool require_token;		/* REGISTER needs a token (or the site key) */
	uint32_t sa_budget;		/* per host, SA map entries (SPIs x peers) */
	uint32_t sa_table;		/* the SA map's size (--sa-entries) */
	uint32_t cert_rate;		/* CERT requests per host and minute */
};

#define GW_COOKIE_SLOT_SECS	30	/* a cookie is good for 30-60 s */
#define GW_SRC_SLOTS		256	/* per-source REGISTER buckets, LRU */
#define GW_TOKEN_LEN		32	/* an enrolment token's secret */

/* An enrolment token (xdnatctl token issue): REGISTER proves it holds the
 * secret (AUTH under it, TOKEN_ID naming it) instead of the site key. */
struct gw_token {
	uint32_t id;
	uint8_t secret[GW_TOKEN_LEN];
	uint64_t expires;		/* unix seconds, 0: never */
	uint32_t uses_left;		/* 0: unlimited */
	uint32_t lease_hint;		/* lease for its hosts, 0: the default */
	uint32_t used;			/* registrations made with it */
};

struct gw;

/* Called whenever a host's share or SA table changes: old == NULL for a new
 * host, new == NULL for one that is gone. The map sync diffs the two, and
 * rebuilds what several hosts share (xdnat_hosts is keyed by address) from
 * g's table, where new_h already is and a gone host may still be listed.
 * The pointed-to hosts are only valid during the call. Returns 0, or -errno
 * when the maps could not take the change (-E2BIG: full): EXT_VALIDATE then
 * undoes it and refuses; other changes only free entries or are counted. */
struct gw_hooks {
	void *ctx;
	int (*host_changed)(void *ctx, const struct gw *g, const struct host *old_h,
			    const struct host *new_h);
};

struct gw_stats {
	uint64_t datagrams;		/* received */
	uint64_t replies;		/* answered (errors included) */
	uint64_t silent;		/* dropped without an answer */
	uint64_t retransmits;		/* answered from the reply cache */
	uint64_t requests[PAP_TYPE_MAX + 1];
	uint64_t errors[PAP_E_MAX + 1];	/* ERRORs sent, by code */
	uint64_t expired;		/* leases that ran out */
	uint64_t registered, deregistered;
	uint64_t wrong_source;		/* requests not from the host's address: dropped */
	uint64_t cookies;		/* REGISTERs answered with a COOKIE */
	uint64_t reclaimed;		/* registrations never used, reclaimed early */
	uint64_t send_errors;		/* replies the kernel refused to send */
	uint64_t foreign;		/* datagrams from outside the hosts' subnets */
	uint64_t certs_issued, certs_revoked;	/* by the CA, for the hosts */
};

typedef uint64_t (*gw_clock_fn)(void *ctx);	/* unix seconds */

struct ca;

/* store may be NULL (nothing persisted, for tests). */
int gw_new(const struct gw_config *cfg, struct state_store *store,
	   gw_clock_fn clock, void *clock_ctx, struct gw **out);
void gw_free(struct gw *g);
void gw_set_hooks(struct gw *g, const struct gw_hooks *hooks);
/* The local CA (ca.h) that answers CERT and CRL and revokes a host's
 * certificate when its ports change or go; NULL (the default): those
 * requests get NOT_IMPLEMENTED. The caller keeps ownership. */
void gw_set_ca(struct gw *g, struct ca *ca);
/* The MTU of the external link (xdnatd reads the NIC's), sent to hosts as
 * EXT_MTU in REGISTER and QUERY replies so they size their route to G;
 * 0 (the default, or below 68): not known, not sent. */
void gw_set_ext_mtu(struct gw *g, unsigned int mtu);
uint16_t gw_ext_mtu(const struct gw *g);
/* Apply a config reload: everything but G, the port and SPI ranges and the
 * SA map size (those need a restart). */
void gw_reconfigure(struct gw *g, const struct gw_config *cfg);

/* Adopt a loaded state image: re-reserves every host's share. -EINVAL (with
 * errbuf) when a host holds a global address no longer in the pool (the
 * holders named) or a share no longer fits the configured ranges. */
int gw_restore(struct gw *g, const struct state_image *img, char *errbuf,
	       size_t errlen);

/*
 * Handle one request from src (network order address of the sender).
 * Returns the reply length written to reply (cap >= PAP_MAX_MSG), or 0 when
 * the datagram gets no answer. State changes are logged to the store; the
 * caller must gw_commit() before sending any reply of the batch.
 * src_port (network order) goes into the REGISTER cookie. A request other
 * than REGISTER is answered only from the address its host registered from.
 */
size_t gw_handle(struct gw *g, const uint8_t *req, size_t len, uint32_t src,
		 uint16_t src_port, uint8_t *reply, size_t cap);
/* Persist what the handled requests changed: the allocation log's lines,
 * then the state. 0 or -errno. */
int gw_commit(struct gw *g);
/* The allocation log (alloc_log.h) every grant, extension, free and expiry
 * is written to, from now; NULL (the default): none. The caller keeps it. */
struct alloc_log;
void gw_set_alloc_log(struct gw *g, struct alloc_log *l);
/* Expire leases that ran out (frees their shares). Returns how many. */
unsigned int gw_expire(struct gw *g);
/* Write a snapshot and empty the journal: when the journal is long, or
 * always with force (clean shutdown). 0 or -errno. */
int gw_compact(struct gw *g, bool force);

/* New cookie secret; the previous one stays good for one more period. */
void gw_rotate_cookie_secret(struct gw *g);
/* The gateway's Ed25519 signing key (32-byte seed) for REGISTER_REPLY's
 * GW_SIG; without one replies are unsigned (hosts that pin refuse them). */
int gw_set_sign_key(struct gw *g, const uint8_t seed[PAP_SIG_KEY_LEN]);

/* Enrolment tokens. issue fills t (id and secret chosen here); -ENOSPC when
 * the table is full. revoke: -ENOENT if unknown. A used-up or expired token
 * is dropped by gw_expire(). add: a restored one (same id). */
int gw_token_issue(struct gw *g, uint32_t uses, uint32_t ttl_secs,
		   uint32_t lease_hint, struct gw_token *t);
int gw_token_add(struct gw *g, const struct gw_token *t);
int gw_token_revoke(struct gw *g, uint32_t id);
size_t gw_token_count(const struct gw *g);
/* True (once) when the tokens changed since the last call: save them. */
bool gw_tokens_take_changed(struct gw *g);
const struct gw_token *gw_token_at(const struct gw *g, size_t i);

/* Administrative free of a whole host (xdnatctl free). -ENOENT if unknown. */
int gw_drop_host(struct gw *g, uint32_t client_id);

/* Read-only views for the control socket. */
size_t gw_host_count(const struct gw *g);
const struct host *gw_host_at(const struct gw *g, size_t i);	/* by client id */
const struct host *gw_find_host(const struct gw *g, uint32_t client_id);
/* The meta a snapshot of the table now would hold (state backups). */
void gw_state_meta(const struct gw *g, struct state_meta *m);
const struct gw_stats *gw_get_stats(const struct gw *g);
/* Continue the counters of an earlier run (pap_counters.c): restart keeps
 * their series going. */
void gw_set_stats(struct gw *g, const struct gw_stats *s);
const struct gw_config *gw_get_config(const struct gw *g);
uint64_t gw_now(const struct gw *g);
uint32_t gw_ports_free(const struct gw *g);	/* over the whole pool */
uint64_t gw_spis_free(const struct gw *g);
/* The pool: its addresses in configured order, and per address the hosts
 * that hold it and its free ports. gw_pool_index: -1 if not in the pool. */
size_t gw_pool_count(const struct gw *g);
uint32_t gw_pool_at(const struct gw *g, size_t i);
int gw_pool_index(const struct gw *g, uint32_t global);
uint32_t gw_pool_ports_free(const struct gw *g, size_t i);
size_t gw_pool_hosts(const struct gw *g, size_t i);
/* SA map entries the hosts' validations take (SPIs x peers). */
uint64_t gw_sa_entries(const struct gw *g);
uint64_t gw_host_sa_entries(const struct host *h);

/* The daemon's counters of what never reached gw_handle. */
void gw_count_foreign(struct gw *g);
uint64_t *gw_send_errors(struct gw *g);

#endif
