/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* JSON documents of the views (json_out.h). */
#include <errno.h>
#include "lib/json_out.h"
#include "lib/version.h"

struct json_object *json_doc_new(void)
{
	struct json_object *o = json_object_new_object();

	if (o && (json_object_object_add(o, "schema", json_object_new_int(XDNAT_JSON_SCHEMA)) ||
		  json_object_object_add(o, "version", json_object_new_string(xdnat_version)))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

int json_doc_print(FILE *out, struct json_object *o)
{
	const char *s;
	int rc = 0;

	if (!o)
		return -ENOMEM;
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					   JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!s)
		rc = -ENOMEM;
	else if (fprintf(out, "%s\n", s) < 0)
		rc = -EIO;
	json_object_put(o);
	return rc;
}

int json_doc_finish(FILE *out, struct json_object *o, bool ok)
{
	if (!ok) {
		json_object_put(o);
		o = NULL;
	}
	return json_doc_print(out, o);
}

bool json_put(struct json_object *o, const char *key, struct json_object *v)
{
	int rc;

	if (!v)
		return false;
	rc = key ? json_object_object_add(o, key, v) : json_object_array_add(o, v);
	if (rc)
		json_object_put(v);
	return !rc;
}

bool json_put_u64(struct json_object *o, const char *key, uint64_t v)
{
	return json_put(o, key, json_object_new_uint64(v));
}

bool json_put_str(struct json_object *o, const char *key, const char *v)
{
	return json_put(o, key, json_object_new_string(v));
}
