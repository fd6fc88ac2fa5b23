/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The state store: the gateway's durable memory in --state-dir.
 *
 *   state.snap      full snapshot (all hosts + meta), replaced atomically:
 *                   write state.snap.tmp, fsync, rename, fsync the directory.
 *   state.snap.prev the snapshot before the current one (last good copy).
 *   state.journal   records appended since the snapshot (HOST_PUT / HOST_DEL /
 *                   META), each with a CRC; one write + fdatasync per commit,
 *                   which is what group commit batches.
 *   lock            flock()ed while a daemon uses the directory.
 *
 * Load = snapshot, then the journal replayed over it. A torn last journal
 * record (crash mid-append: never acknowledged) is dropped with a warning; any
 * other damage is an error naming the file, and nothing is overwritten.
 */
#ifndef XDNAT_STATE_H
#define XDNAT_STATE_H

#include <stddef.h>
#include <stdint.h>
#include "gateway/host.h"

#define STATE_MAX_POOL	16	/* global addresses a state carries */

struct state_meta {
	uint32_t next_client_id;	/* ids are never reused */
	uint32_t global;		/* G the state was written for: pool[0] */
	/* The pool it was written for (network order); a version 1 file
	 * loads as the pool of one, global. */
	uint32_t pool[STATE_MAX_POOL];
	uint8_t n_pool;
};

struct state_image {
	struct state_meta meta;
	struct host *hosts;		/* n_hosts entries; free with state_image_free */
	size_t n_hosts;
};

struct state_store;

/* Open (creating dir 0700 if missing) and lock the directory.
 * -EBUSY if another process holds it; -errno otherwise. */
int state_open(const char *dir, struct state_store **out);
void state_close(struct state_store *s);

/* Read snapshot + journal. An empty directory gives an empty image (0).
 * Damage: -EBADMSG, with a message naming the file in errbuf. Hosts come
 * sorted by client_id. Must succeed before state_commit / state_compact. */
int state_load(struct state_store *s, struct state_image *img,
	       char *errbuf, size_t errlen);
void state_image_free(struct state_image *img);
/* What the last state_load repaired or skipped (a torn journal tail dropped,
 * a journal left over from an interrupted compaction), or NULL. */
const char *state_load_warning(const struct state_store *s);

/* Queue records for the next commit (kept in memory until then). */
int state_log_host(struct state_store *s, const struct host *h);
int state_log_del(struct state_store *s, uint32_t client_id);
int state_log_meta(struct state_store *s, const struct state_meta *m);
/* Write everything queued and fdatasync. 0 when nothing was queued.
 * On failure the queue is kept (the next commit retries it) and the journal
 * is cut back to its last committed record. */
int state_commit(struct state_store *s);

/* True when the journal has grown enough that a new snapshot is worth it. */
bool state_wants_compaction(const struct state_store *s);
/* Write a new snapshot of exactly these hosts + meta and empty the journal.
 * Anything queued but not committed is discarded (it is in the snapshot). */
int state_compact(struct state_store *s, const struct state_meta *m,
		  const struct host *const *hosts, size_t n_hosts);

/*
 * A consistent hot backup: a snapshot of exactly these hosts + meta written
 * into dir (created 0700) as state.snap, atomically (state.snap.tmp, fsync,
 * rename), with no journal beside it: a state directory holding only it
 * loads as these hosts. Then each of copy[] (names in the store's
 * directory, NULL-terminated; missing ones skipped) is copied atomically,
 * with its mode. 0, or -errno with the file named in err.
 */
int state_backup(const struct state_store *s, const char *dir, const struct state_meta *m,
		 const struct host *const *hosts, size_t n_hosts, const char *const *copy,
		 char *err, size_t errlen);

/* When the state on disk was last written (the newer of state.snap and
 * state.journal, unix seconds), for the age of a restored copy; 0 when the
 * directory holds neither. Call before state_load (which starts a journal). */
uint64_t state_written(const struct state_store *s);

/* Paths, for messages. */
const char *state_dir(const struct state_store *s);

#endif
