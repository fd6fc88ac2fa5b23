/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The PAP counters in the state directory (pap_counters.h). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "gateway/pap_counters.h"
#include "lib/atomic_file.h"
#include "lib/json_out.h"
#include "lib/log.h"

/* The totals by name; requests and errors go by the PAP names. */
static const struct {
	const char *name;
	size_t off;
} totals[] = {
#define T(f) { #f, offsetof(struct gw_stats, f) }
	T(datagrams), T(replies), T(silent), T(retransmits), T(expired), T(registered),
	T(deregistered), T(wrong_source), T(cookies), T(reclaimed), T(send_errors),
	T(foreign), T(certs_issued), T(certs_revoked),
#undef T
};
#define N_TOTALS	(sizeof(totals) / sizeof(totals[0]))

static uint64_t *total(struct gw_stats *s, size_t i)
{
	return (uint64_t *)((char *)s + totals[i].off);
}

int pap_counters_save(const char *dir, const struct gw_stats *s)
{
	struct json_object *doc = json_doc_new(), *req = json_object_new_object();
	struct json_object *errs = json_object_new_object();
	bool ok = doc && req && errs;
	const char *text;
	int rc;

	for (size_t i = 0; ok && i < N_TOTALS; i++)
		ok = json_put_u64(doc, totals[i].name, *total((struct gw_stats *)s, i));
	for (int t = 1; ok && t <= PAP_TYPE_MAX; t++)
		if (strcmp(pap_type_name((uint8_t)t), "unknown"))
			ok = json_put_u64(req, pap_type_name((uint8_t)t), s->requests[t]);
	for (int e = 1; ok && e <= PAP_E_MAX; e++)
		if (strcmp(pap_err_name(e), "unknown"))
			ok = json_put_u64(errs, pap_err_name(e), s->errors[e]);
	ok = ok && !json_object_object_add(doc, "requests", req);
	if (ok)
		req = NULL;
	ok = ok && !json_object_object_add(doc, "errors", errs);
	if (ok)
		errs = NULL;
	text = ok ? json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN) : NULL;
	rc = text ? atomic_write_file(dir, PAP_COUNTERS_FILE, text, strlen(text), 0644) : -ENOMEM;
	json_object_put(doc);
	json_object_put(req);
	json_object_put(errs);
	return rc;
}

static uint64_t get_u64(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_int) ?
	       json_object_get_uint64(v) : 0;
}

int pap_counters_load(const char *dir, struct gw_stats *s, char *err, size_t errlen)
{
	struct json_object *doc, *req, *errs;
	char path[4096];
	FILE *f;

	memset(s, 0, sizeof(*s));
	snprintf(path, sizeof(path), "%s/%s", dir, PAP_COUNTERS_FILE);
	f = fopen(path, "re");
	if (!f && errno == ENOENT)
		return 0;
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	fclose(f);
	doc = json_object_from_file(path);
	if (!doc || !json_object_is_type(doc, json_type_object)) {
		snprintf(err, errlen, "%s: not a JSON object (%s)", path, json_util_get_last_err());
		json_object_put(doc);
		return -EINVAL;
	}
	for (size_t i = 0; i < N_TOTALS; i++)
		*total(s, i) = get_u64(doc, totals[i].name);
	if (json_object_object_get_ex(doc, "requests", &req))
		for (int t = 1; t <= PAP_TYPE_MAX; t++)
			s->requests[t] = get_u64(req, pap_type_name((uint8_t)t));
	if (json_object_object_get_ex(doc, "errors", &errs))
		for (int e = 1; e <= PAP_E_MAX; e++)
			s->errors[e] = get_u64(errs, pap_err_name(e));
	json_object_put(doc);
	return 0;
}

void pap_counters_sync(const char *dir, const struct gw_stats *s, struct gw_stats *saved)
{
	static bool failing;
	int rc;

	if (!memcmp(s, saved, sizeof(*s)))
		return;
	rc = pap_counters_save(dir, s);
	if (rc) {
		if (!failing)
			log_warn("cannot write %s/%s: %s (the PAP counters restart from the "
				 "last copy)", dir, PAP_COUNTERS_FILE, strerror(-rc));
		failing = true;
		return;
	}
	failing = false;
	*saved = *s;
}
