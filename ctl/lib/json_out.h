/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * JSON output of the command-line views (`xdnatctl --json`, `xdnat-host
 * status --json`), built with json-c: a document is a json_object made with
 * json_doc_new(), which carries the "schema" key first (as `nft -j` carries
 * its json_schema_version) and "version" (the release, version.h) next,
 * then printed on one line by json_doc_print().
 */
#ifndef XDNAT_LIB_JSON_OUT_H
#define XDNAT_LIB_JSON_OUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <json-c/json.h>

/* The version of the JSON documents' layout: raised when a key changes
 * meaning or goes away (new keys do not raise it). docs/xdnatctl.md. */
#define XDNAT_JSON_SCHEMA	1

/* A new top-level object holding "schema": XDNAT_JSON_SCHEMA and "version":
 * the release. NULL when out of memory. */
struct json_object *json_doc_new(void);
/* Print o compactly ("/" not escaped) and a newline, then release o. 0 or
 * -ENOMEM (o NULL: a part could not be built) / -EIO. */
int json_doc_print(FILE *out, struct json_object *o);
/* json_doc_print(o) when ok, else release o and return -ENOMEM. */
int json_doc_finish(FILE *out, struct json_object *o, bool ok);

/*
 * Building a document: each json_put*() adds one value to an object (key)
 * or an array (key NULL) and says whether it could; chained with &&, the
 * first failure (out of memory) stops the chain. v is released when it
 * could not be added; NULL v is a failure.
 */
bool json_put(struct json_object *o, const char *key, struct json_object *v);
bool json_put_u64(struct json_object *o, const char *key, uint64_t v);
bool json_put_str(struct json_object *o, const char *key, const char *v);

#endif
