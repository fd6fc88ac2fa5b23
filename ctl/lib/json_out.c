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
