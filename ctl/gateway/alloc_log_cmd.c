/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdnatctl who and xdnatctl log export (alloc_log.h): the allocation log
 * read offline, no daemon asked (docs/xdnatctl.md).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include "gateway/alloc_log.h"
#include "lib/json_out.h"
#include "lib/parse.h"

/* The options of who and log export, each taking a value. */
enum { OPT_AT, OPT_SPI, OPT_SINCE, OPT_UNTIL, OPT_LOG, N_OPTS };

static const struct cmd_opt {
	const char *name;
	bool who, export;		/* the commands it belongs to */
} opts[N_OPTS] = {
	[OPT_AT]	= { "--at", true, false },
	[OPT_SPI]	= { "--spi", true, false },
	[OPT_SINCE]	= { "--since", false, true },
	[OPT_UNTIL]	= { "--until", false, true },
	[OPT_LOG]	= { "--alloc-log", true, true },
};

struct cmd_args {
	const char *val[N_OPTS];
	const char *pos[3];		/* the words that are not options */
	int n_pos;
	bool json;
};

/* 0, or 2 with the complaint on errf. The first word is the command. */
static int parse_args(int argc, char **argv, struct cmd_args *a, FILE *errf)
{
	int given[N_OPTS] = { 0 };
	bool who;

	for (int i = 0; i < argc; i++) {
		int k;

		if (!strcmp(argv[i], "--json")) {
			a->json = true;
			continue;
		}
		if (strncmp(argv[i], "--", 2)) {
			if (a->n_pos == 3) {
				fprintf(errf, "xdnatctl: %s: too many words\n", a->pos[0]);
				return 2;
			}
			a->pos[a->n_pos++] = argv[i];
			continue;
		}
		for (k = 0; k < N_OPTS && strcmp(argv[i], opts[k].name); k++)
			;
		if (k == N_OPTS) {
			fprintf(errf, "xdnatctl: unknown option '%s' (see --help)\n", argv[i]);
			return 2;
		}
		if (++i == argc) {
			fprintf(errf, "xdnatctl: %s needs a value\n", opts[k].name);
			return 2;
		}
		a->val[k] = argv[i];
		given[k] = 1;
	}
	who = !strcmp(a->pos[0], "who");
	for (int k = 0; k < N_OPTS; k++)
		if (given[k] && !(who ? opts[k].who : opts[k].export)) {
			fprintf(errf, "xdnatctl: %s takes no %s (see --help)\n",
				who ? "who" : "log export", opts[k].name);
			return 2;
		}
	return 0;
}

static int time_arg(const char *opt, const char *v, uint64_t def, uint64_t *out, FILE *errf)
{
	if (!v) {
		*out = def;
		return 0;
	}
	if (parse_time(v, (uint64_t)time(NULL), out)) {
		fprintf(errf, "xdnatctl: %s '%s': not a time (2026-12-02T14:03:00Z, "
			"2026-12-02, @UNIXSECONDS or now)\n", opt, v);
		return 2;
	}
	return 0;
}

static void skipped_note(unsigned long skipped, const char *path, FILE *errf)
{
	if (skipped)
		fprintf(errf, "xdnatctl: %s: %lu line(s) that do not parse skipped (a torn "
			"last line from a crash, or damage)\n", path, skipped);
}

static int read_failed(int rc, const char *path, FILE *errf)
{
	fprintf(errf, "xdnatctl: %s: %s\n", path, rc == -ENOENT ?
		"no allocation log there (--alloc-log PATH)" : strerror(-rc));
	return 1;
}

static void add_time(struct json_object *o, const char *k, uint64_t t)
{
	char s[RFC3339_LEN];

	format_rfc3339(t, s);
	json_object_object_add(o, k, json_object_new_string(s));
}

static int who_print(FILE *out, bool json, const char *g, bool spi, uint32_t value,
		     uint64_t at, int found, const struct alloc_holding *h)
{
	char when[RFC3339_LEN], since[RFC3339_LEN], end[RFC3339_LEN], host[INET_ADDRSTRLEN];
	const struct alloc_rec *r = &h->rec;
	struct json_object *doc;

	format_rfc3339(at, when);
	if (found) {
		inet_ntop(AF_INET, &r->host, host, sizeof(host));
		format_rfc3339(h->since, since);
		format_rfc3339(h->end ? h->end : r->lease_end, end);
	}
	if (!json) {
		if (!found)
			return fprintf(out, "%s %s %u at %s: nobody\n", g, spi ? "spi" : "port",
				       value, when) < 0 ? -EIO : 0;
		fprintf(out, "%s %s %u at %s: client %u, host %s, %ss %u-%u, since %s%s, %s %s",
			g, spi ? "spi" : "port", value, when, r->client, host, spi ? "spi" : "port",
			r->first, r->last, since, h->since_grant ? "" : " (its grant is older "
			"than the log)", h->end ? "until" : "lease to", end);
		if (h->end)
			fprintf(out, " (%s)", alloc_event_name(h->end_event));
		if (r->serial[0])
			fprintf(out, ", certificate %s", r->serial);
		return fprintf(out, "\n") < 0 ? -EIO : 0;
	}
	doc = json_doc_new();
	if (!doc)
		return -ENOMEM;
	json_object_object_add(doc, "global", json_object_new_string(g));
	json_object_object_add(doc, "type", json_object_new_string(spi ? "spi" : "port"));
	json_object_object_add(doc, "value", json_object_new_int64(value));
	json_object_object_add(doc, "at", json_object_new_string(when));
	json_object_object_add(doc, "held", json_object_new_boolean(found));
	if (found) {
		json_object_object_add(doc, "client", json_object_new_int64(r->client));
		json_object_object_add(doc, "host", json_object_new_string(host));
		json_object_object_add(doc, "first", json_object_new_int64(r->first));
		json_object_object_add(doc, "last", json_object_new_int64(r->last));
		json_object_object_add(doc, "since", json_object_new_string(since));
		json_object_object_add(doc, "since_grant",
				       json_object_new_boolean(h->since_grant));
		add_time(doc, "lease_end", r->lease_end);
		if (r->serial[0])
			json_object_object_add(doc, "serial", json_object_new_string(r->serial));
		if (h->end) {
			add_time(doc, "end", h->end);
			json_object_object_add(doc, "end_event",
					       json_object_new_string(alloc_event_name(h->end_event)));
		}
	}
	return json_doc_print(out, doc);
}

static int who(const struct cmd_args *a, const char *path, FILE *out, FILE *errf)
{
	bool spi = a->val[OPT_SPI] != NULL;
	struct alloc_holding h;
	unsigned long skipped;
	uint32_t g, value;
	uint64_t at;
	int rc;

	if (a->n_pos != (spi ? 2 : 3)) {
		fprintf(errf, "xdnatctl: usage: who G PORT [--at TIME] | who G --spi SPI "
			"[--at TIME]\n");
		return 2;
	}
	if (inet_pton(AF_INET, a->pos[1], &g) != 1) {
		fprintf(errf, "xdnatctl: who: '%s' is not an IPv4 address\n", a->pos[1]);
		return 2;
	}
	if (spi ? parse_u32(a->val[OPT_SPI], 1, UINT32_MAX, &value) :
		  parse_u32(a->pos[2], 1, 65535, &value)) {
		fprintf(errf, "xdnatctl: who: '%s' is not %s\n", spi ? a->val[OPT_SPI] : a->pos[2],
			spi ? "an SPI" : "a port (1-65535)");
		return 2;
	}
	if (time_arg("--at", a->val[OPT_AT], (uint64_t)time(NULL), &at, errf))
		return 2;
	rc = alloc_log_who(path, g, spi, value, at, &h, &skipped);
	if (rc < 0)
		return read_failed(rc, path, errf);
	skipped_note(skipped, path, errf);
	if (who_print(out, a->json, a->pos[1], spi, value, at, rc, &h)) {
		fprintf(errf, "xdnatctl: who: cannot write the answer\n");
		return 1;
	}
	return 0;
}

static int export(const struct cmd_args *a, const char *path, FILE *out, FILE *errf)
{
	unsigned long skipped;
	uint64_t since, until;
	int rc;

	if (a->n_pos != 2 || strcmp(a->pos[1], "export")) {
		fprintf(errf, "xdnatctl: usage: log export [--since TIME] [--until TIME]\n");
		return 2;
	}
	if (time_arg("--since", a->val[OPT_SINCE], 0, &since, errf) ||
	    time_arg("--until", a->val[OPT_UNTIL], UINT64_MAX, &until, errf))
		return 2;
	rc = alloc_log_export(path, since, until, out, &skipped);
	if (rc)
		return read_failed(rc, path, errf);
	skipped_note(skipped, path, errf);
	return fflush(out) ? 1 : 0;
}

int alloc_log_cmd(int argc, char **argv, const char *log_path, FILE *out, FILE *errf)
{
	struct cmd_args a = { 0 };
	int rc = parse_args(argc, argv, &a, errf);

	if (rc)
		return rc;
	if (a.val[OPT_LOG])
		log_path = a.val[OPT_LOG];
	return !strcmp(a.pos[0], "who") ? who(&a, log_path, out, errf) :
					 export(&a, log_path, out, errf);
}
