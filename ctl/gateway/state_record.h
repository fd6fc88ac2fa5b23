/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The state store's record codec: the host record and the meta exactly as
 * state.snap and state.journal hold them, and the little-endian writer (struct
 * buf, put_*) and bounds-checked reader (struct rd, get_*) they are built
 * with. The layout is documented in state_record.c; the files around the
 * records are state.c's.
 */
#ifndef XDNAT_STATE_RECORD_H
#define XDNAT_STATE_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "gateway/host.h"
#include "gateway/state.h"

#define META_V1_LEN	8			/* version 1: one global */
#define META_MIN_LEN	(4 + 1 + 4)		/* version 2: a pool of one */
#define META_MAX_LEN	(4 + 1 + 4 * STATE_MAX_POOL)
#define HOST_FIXED_LEN	(1 + 4 + 4 + 4 + 2 * PAP_KEY_LEN + 8 + 4 + 4 + 4 + \
			 PAP_MAC_LEN + 2 + 3 + 2 + HOST_SERIAL_LEN + 8)
#define HOST_REC_MAX	(HOST_FIXED_LEN + HOST_MAX_RANGES * (8 + 12) + \
			 HOST_MAX_SAS * 12 + PAP_MAX_MSG)

/* Growable output buffer; the first allocation failure sticks in err. */
struct buf {
	uint8_t *p;
	size_t len, cap;
	int err;
};

/* Append n bytes and return where they go, or NULL once b->err is set. */
uint8_t *buf_grow(struct buf *b, size_t n);
void put_bytes(struct buf *b, const void *v, size_t n);
void put_u8(struct buf *b, uint8_t v);
void put_u16(struct buf *b, uint16_t v);
void put_u32(struct buf *b, uint32_t v);
void put_u64(struct buf *b, uint64_t v);
void put_addr(struct buf *b, uint32_t a);
/* A u32 length placeholder: patch_len(b, at, body_start) fills it in with
 * the bytes written since body_start. */
size_t put_len(struct buf *b);
void patch_len(struct buf *b, size_t at, size_t body_start);

/* A cursor that never reads past len. */
struct rd {
	const uint8_t *p;
	size_t len, off;
	bool bad;		/* something ran past the end */
};

uint64_t le_load(const uint8_t *s, unsigned int n);
/* NULL (and r->bad) when fewer than n bytes are left. */
const uint8_t *get_bytes(struct rd *r, size_t n);
uint8_t get_u8(struct rd *r);
uint16_t get_u16(struct rd *r);
uint32_t get_u32(struct rd *r);
uint64_t get_u64(struct rd *r);
uint32_t get_addr(struct rd *r);

/* Append h's record: -EINVAL for a host that could not be read back, else
 * b->err. */
int record_put_host(struct buf *b, const struct host *h);
/* Parse exactly len bytes without allocating: h->reply stays NULL and
 * *reply points into p. 0 or -EBADMSG. */
int record_parse_host(const uint8_t *p, size_t len, struct host *h,
		      const uint8_t **reply);
/* The meta, version 2 (with the pool); get: 0 or -EBADMSG (r->bad set).
 * get_v1: a version 1 meta, the pool of one. */
void record_put_meta(struct buf *b, const struct state_meta *m);
int record_get_meta(struct rd *r, struct state_meta *m);
void record_get_meta_v1(struct rd *r, struct state_meta *m);

/* The enrolment tokens file (tokens.c): "XDTK" | u32 version 1 | u32 n |
 * n x (u32 id | secret[32] | u64 expires | u32 uses_left | u32 lease_hint
 * | u32 used). encode: b->err; parse: 0 (each token handed to add, which
 * may refuse it with -errno) or -EBADMSG. */
struct gw_token;
void record_put_tokens(struct buf *b, const struct gw_token *t, size_t n);
int record_parse_tokens(const uint8_t *p, size_t len,
			int (*add)(void *ctx, const struct gw_token *t), void *ctx);

/* One host record exactly as stored in state.snap and HOST_PUT, on its own
 * (state.c's loader, tests and fuzzing). encode: *out is malloc'd; 0, -EINVAL
 * or -ENOMEM. decode: 0 (h->reply malloc'd, see host_release), -EBADMSG or
 * -ENOMEM. */
int state_host_encode(const struct host *h, uint8_t **out, size_t *len);
int state_host_decode(const uint8_t *buf, size_t len, struct host *h);

#endif
