/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A small etcd v3 client over the JSON gRPC gateway (etcd 3.4: /v3/...),
 * libcurl + json-c, no gRPC. Keys and values are base64 on the wire; the
 * codec below is public for the unit tests. Every call tries the endpoints
 * in turn, starting with the last one that answered.
 */
#ifndef XDNAT_ETCD_H
#define XDNAT_ETCD_H

#include <stddef.h>
#include <stdint.h>

#define ETCD_MAX_ENDPOINTS	8

struct etcd;

struct etcd_kv {
	char *key;
	uint8_t *val;
	size_t val_len;
	int64_t mod_revision, create_revision, version, lease;
};

struct etcd_range {
	struct etcd_kv *kvs;
	size_t n;
	int64_t revision;	/* the store's revision at the read */
};

/* Comparisons and operations of a transaction. */
enum etcd_cmp_target { ETCD_CMP_VALUE, ETCD_CMP_MOD, ETCD_CMP_VERSION, ETCD_CMP_CREATE };
enum etcd_cmp_result { ETCD_EQUAL, ETCD_NOT_EQUAL, ETCD_LESS, ETCD_GREATER };

struct etcd_cmp {
	const char *key;
	enum etcd_cmp_target target;
	enum etcd_cmp_result result;
	int64_t num;		/* MOD, VERSION, CREATE */
	const void *val;	/* VALUE */
	size_t val_len;
};

struct etcd_op {
	const char *key;
	const void *val;	/* NULL: delete key */
	size_t val_len;
	int64_t lease;		/* put only; 0: none */
};

/* "http://a:2379,http://b:2379": 0, -EINVAL or -ENOMEM. */
int etcd_open(const char *endpoints, struct etcd **out);
void etcd_close(struct etcd *e);

/* The key range [key, key+"\xff"...) when prefix, else the one key. */
int etcd_range(struct etcd *e, const char *key, int prefix, struct etcd_range *out);
void etcd_range_free(struct etcd_range *r);
int etcd_put(struct etcd *e, const char *key, const void *val, size_t len, int64_t lease);
int etcd_delete(struct etcd *e, const char *key);
/* *succeeded: 1 when every comparison held (the success ops ran), else 0.
 * *revision: the store's revision after it. 0 or -errno. */
int etcd_txn(struct etcd *e, const struct etcd_cmp *cmp, size_t n_cmp,
	     const struct etcd_op *ops, size_t n_ops, int *succeeded, int64_t *revision);

/* Leases: grant (ttl seconds; *id), keepalive (*ttl_left: 0 = expired), revoke. */
int etcd_lease_grant(struct etcd *e, int64_t ttl, int64_t *id);
int etcd_lease_keepalive(struct etcd *e, int64_t id, int64_t *ttl_left);
int etcd_lease_revoke(struct etcd *e, int64_t id);

/* Watch a prefix from start_rev, calling cb per event (val NULL: deleted),
 * until cb returns nonzero (returned) or timeout_ms passes (0).
 * -ESTALE: start_rev was compacted; re-list and watch again. */
typedef int (*etcd_watch_cb)(void *ctx, const struct etcd_kv *kv, int deleted);
int etcd_watch(struct etcd *e, const char *prefix, int64_t start_rev, long timeout_ms,
	       etcd_watch_cb cb, void *ctx, int64_t *last_rev);

/* The codec. encode: malloc'd NUL-terminated string or NULL. decode:
 * malloc'd bytes (NUL-terminated beyond *len), NULL on bad input. */
char *etcd_b64_encode(const void *p, size_t len);
uint8_t *etcd_b64_decode(const char *s, size_t *len);
/* The end of a prefix range: the prefix with its last byte < 0xff + 1. */
char *etcd_prefix_end(const char *prefix);
/* Parse a range (or watch kvs) response body: 0 or -EBADMSG. */
int etcd_parse_range(const char *json, struct etcd_range *out);

#endif
