/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The allocation log: who held which block of G's ports or SPIs, when
 * (issue 15 item 4, docs/xdnatd.md "Allocation log"). One JSON object per
 * line, one line per block and event, never per flow (RFC 6346 section 6):
 *
 *   {"time":"2026-12-02T13:45:01Z","event":"grant","global":"198.51.100.7",
 *    "type":"port","first":20000,"last":20511,"client":12,"host":"10.0.0.5",
 *    "lease_end":"2026-12-02T13:50:01Z","serial":"3f..."}
 *
 * The writer queues lines while a batch of requests is handled and writes
 * them with one write() and one fdatasync() in alloc_log_commit(), which
 * gw_commit() calls before any reply of the batch leaves. The file is
 * rotated by size: PATH, PATH.1 (the newest rotated) ... PATH.KEEP.
 *
 * The reader (xdnatctl who, xdnatctl log export) needs no daemon: it reads
 * PATH and its rotated files, skipping a line that does not parse (the torn
 * last line of a crash).
 */
#ifndef XDNAT_ALLOC_LOG_H
#define XDNAT_ALLOC_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "gateway/host.h"

#define ALLOC_LOG_NAME		"alloc.log"	/* in --state-dir by default */

enum alloc_event {
	ALOG_GRANT,		/* PORT / SPI: the block is the host's from now */
	ALOG_EXTEND,		/* EXTEND: its lease ends later (lease_end) */
	ALOG_CERT,		/* CERT: a certificate (serial) names the block */
	ALOG_FREE,		/* FREE: the host gave it back */
	ALOG_DEREGISTER,	/* DEREGISTER: the host went, with all it held */
	ALOG_EXPIRE,		/* the lease ran out (held until lease_end) */
	ALOG_RECLAIM,		/* a registration never used, reclaimed */
	ALOG_ADMIN_FREE,	/* xdnatctl free CLIENT */
	ALOG_N_EVENTS
};

const char *alloc_event_name(enum alloc_event ev);
/* The events after which nobody holds the block. */
static inline bool alloc_event_ends(enum alloc_event ev)
{
	return ev >= ALOG_FREE;
}

/* ---- writer (xdnatd) ---------------------------------------------------- */

struct alloc_log;

/*
 * Open (create, mode 0600, parent directories 0700) path for appending.
 * Rotated once it has max_bytes or more (0: never), keep rotated files kept
 * (at least 1). A
 * torn last line (a crash mid-write, never acknowledged) is cut off here,
 * and alloc_log_warning() says so. 0 or -errno.
 */
int alloc_log_open(const char *path, uint64_t max_bytes, unsigned int keep,
		   struct alloc_log **out);
void alloc_log_close(struct alloc_log *l);
const char *alloc_log_path(const struct alloc_log *l);
const char *alloc_log_warning(const struct alloc_log *l);
/* New limits (a reload); they apply from the next commit. */
void alloc_log_set_limits(struct alloc_log *l, uint64_t max_bytes, unsigned int keep);

/* Queue the lines for what changed from before to after (the same host, one
 * request): blocks granted or freed, a lease extended, a new certificate. */
void alloc_log_change(struct alloc_log *l, uint64_t now, const struct host *before,
		      const struct host *after);
/* Queue one line ev for every block h holds (the host is going). */
void alloc_log_gone(struct alloc_log *l, uint64_t now, const struct host *h,
		    enum alloc_event ev);
/*
 * Write what is queued and fdatasync; then rotate if the file is full (a
 * failed rotation is logged and appending goes on). 0 when nothing was
 * queued. -errno when a line could not be queued (out of memory) or
 * written: the queue is kept for the next commit and the file cut back to
 * its last whole line, so no reply may leave.
 */
int alloc_log_commit(struct alloc_log *l);

/* ---- reader (xdnatctl) -------------------------------------------------- */

struct alloc_rec {
	uint64_t time;
	enum alloc_event event;
	uint32_t global;		/* network order */
	bool spi;			/* an SPI block, else a port block */
	uint32_t first, last;
	uint32_t client;
	uint32_t host;			/* network order */
	uint64_t lease_end;		/* 0: not given */
	char serial[2 * HOST_SERIAL_LEN + 1];	/* "": none */
};

/* One line (no newline) into r. 0 or -EBADMSG. */
int alloc_rec_parse(const char *line, size_t len, struct alloc_rec *r);

/* Who held a block: the holding of (global, spi, value) at a time. */
struct alloc_holding {
	struct alloc_rec rec;		/* the last line of it up to the time asked */
	uint64_t since;			/* its grant (or first line of it in the log) */
	bool since_grant;		/* false: the grant is older than the log */
	uint64_t end;			/* when it ended, 0: still held then */
	enum alloc_event end_event;	/* what ended it (end != 0) */
};

/*
 * Read path and its rotated files, newest first, until the holding at time
 * at is known: 1 with *h filled, 0 when nobody held it, -errno (path
 * unreadable). *skipped counts lines that did not parse.
 */
int alloc_log_who(const char *path, uint32_t global, bool spi, uint32_t value,
		  uint64_t at, struct alloc_holding *h, unsigned long *skipped);

/* Print every line with since <= time <= until, oldest first, as it is in
 * the files. 0 or -errno. */
int alloc_log_export(const char *path, uint64_t since, uint64_t until, FILE *out,
		     unsigned long *skipped);

/* `xdnatctl who ...` and `xdnatctl log export ...`: the words after the
 * program's options, the command first (--json may come anywhere, and
 * --alloc-log FILE after the command overrides log_path). The exit status:
 * 0 answered (nobody held it included), 1 the log unreadable, 2 usage. */
int alloc_log_cmd(int argc, char **argv, const char *log_path, FILE *out, FILE *errf);

#endif
