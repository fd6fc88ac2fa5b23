// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * etcd v3 over its JSON gateway. Each request is a POST of a JSON object to
 * /v3/<path>; the answer is one JSON object (a watch: one per line, as long
 * as the stream lasts). int64 fields come back as strings (proto3 JSON).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include "lib/etcd.h"

struct etcd {
	char *ep[ETCD_MAX_ENDPOINTS];
	size_t n_ep, cur;
	CURL *curl;
};

struct body {
	char *p;
	size_t len;
	int err;
	/* watch streaming */
	etcd_watch_cb cb;
	void *ctx;
	int stop, stale;
	int64_t last_rev;
};

char *etcd_b64_encode(const void *p, size_t len)
{
	char *s = malloc(4 * ((len + 2) / 3) + 1);

	if (s)
		EVP_EncodeBlock((unsigned char *)s, p, (int)len);
	return s;
}

uint8_t *etcd_b64_decode(const char *s, size_t *len)
{
	size_t n = strlen(s), pad = 0;
	uint8_t *p;
	int r;

	if (n % 4)
		return NULL;
	p = malloc(n / 4 * 3 + 1);
	if (!p)
		return NULL;
	r = EVP_DecodeBlock(p, (const unsigned char *)s, (int)n);
	if (r < 0) {
		free(p);
		return NULL;
	}
	/* DecodeBlock counts the padding as zero bytes */
	if (n && s[n - 1] == '=')
		pad++;
	if (n > 1 && s[n - 2] == '=')
		pad++;
	*len = (size_t)r - pad;
	p[*len] = 0;
	return p;
}

char *etcd_prefix_end(const char *prefix)
{
	size_t n = strlen(prefix);
	char *e = strdup(prefix);

	if (!e)
		return NULL;
	while (n > 0) {
		if ((unsigned char)e[n - 1] < 0xff) {
			e[n - 1]++;
			e[n] = 0;
			return e;
		}
		n--;
	}
	/* all 0xff (or empty): the range's end is "\0", every key */
	e[0] = 0;
	return e;
}

int etcd_open(const char *endpoints, struct etcd **out)
{
	struct etcd *e = calloc(1, sizeof(*e));
	char *list, *tok, *save = NULL;

	if (!e)
		return -ENOMEM;
	list = strdup(endpoints);
	if (!list) {
		free(e);
		return -ENOMEM;
	}
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (e->n_ep == ETCD_MAX_ENDPOINTS || !*tok)
			goto inval;
		e->ep[e->n_ep] = strdup(tok);
		if (!e->ep[e->n_ep++])
			goto inval;
	}
	free(list);
	if (!e->n_ep) {
		etcd_close(e);
		return -EINVAL;
	}
	e->curl = curl_easy_init();
	if (!e->curl) {
		etcd_close(e);
		return -ENOMEM;
	}
	*out = e;
	return 0;
inval:
	free(list);
	etcd_close(e);
	return -EINVAL;
}

void etcd_close(struct etcd *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->n_ep; i++)
		free(e->ep[i]);
	if (e->curl)
		curl_easy_cleanup(e->curl);
	free(e);
}

static int64_t jint(json_object *o, const char *k)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v))
		return 0;
	if (json_object_is_type(v, json_type_string))
		return strtoll(json_object_get_string(v), NULL, 10);
	return json_object_get_int64(v);
}

static int parse_kv(json_object *o, struct etcd_kv *kv)
{
	json_object *k, *v;

	memset(kv, 0, sizeof(*kv));
	if (!json_object_object_get_ex(o, "key", &k))
		return -EBADMSG;
	kv->key = (char *)etcd_b64_decode(json_object_get_string(k), &kv->val_len);
	if (!kv->key)
		return -EBADMSG;
	if (json_object_object_get_ex(o, "value", &v))
		kv->val = etcd_b64_decode(json_object_get_string(v), &kv->val_len);
	else
		kv->val = (uint8_t *)strdup(""), kv->val_len = 0;
	if (!kv->val) {
		free(kv->key);
		return -EBADMSG;
	}
	kv->mod_revision = jint(o, "mod_revision");
	kv->create_revision = jint(o, "create_revision");
	kv->version = jint(o, "version");
	kv->lease = jint(o, "lease");
	return 0;
}

static void kv_free(struct etcd_kv *kv)
{
	free(kv->key);
	free(kv->val);
}

void etcd_range_free(struct etcd_range *r)
{
	for (size_t i = 0; i < r->n; i++)
		kv_free(&r->kvs[i]);
	free(r->kvs);
	memset(r, 0, sizeof(*r));
}

static int range_from(json_object *root, struct etcd_range *out)
{
	json_object *hdr, *kvs;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (json_object_object_get_ex(root, "header", &hdr))
		out->revision = jint(hdr, "revision");
	if (!json_object_object_get_ex(root, "kvs", &kvs))
		return 0;
	if (!json_object_is_type(kvs, json_type_array))
		return -EBADMSG;
	n = json_object_array_length(kvs);
	out->kvs = calloc(n ? n : 1, sizeof(*out->kvs));
	if (!out->kvs)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (parse_kv(json_object_array_get_idx(kvs, i), &out->kvs[i])) {
			etcd_range_free(out);
			return -EBADMSG;
		}
		out->n++;
	}
	return 0;
}

int etcd_parse_range(const char *json, struct etcd_range *out)
{
	json_object *root = json_tokener_parse(json);
	int r;

	if (!root || !json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		return -EBADMSG;
	}
	r = range_from(root, out);
	json_object_put(root);
	return r;
}

/* One watch response line: {"result":{"header":..,"events":[..]}}. */
static void watch_line(struct body *b, const char *line)
{
	json_object *root = json_tokener_parse(line), *res, *ev, *hdr;
	size_t n;

	if (!root)
		return;
	if (!json_object_object_get_ex(root, "result", &res))
		goto out;
	if (jint(res, "compact_revision") > 0) {
		b->stale = 1;
		b->stop = 1;
		goto out;
	}
	if (json_object_object_get_ex(res, "header", &hdr) && jint(hdr, "revision") > b->last_rev)
		b->last_rev = jint(hdr, "revision");
	if (!json_object_object_get_ex(res, "events", &ev))
		goto out;
	n = json_object_array_length(ev);
	for (size_t i = 0; i < n && !b->stop; i++) {
		json_object *e = json_object_array_get_idx(ev, i), *t, *kvo;
		struct etcd_kv kv;
		int del;

		if (!json_object_object_get_ex(e, "kv", &kvo) || parse_kv(kvo, &kv))
			continue;
		del = json_object_object_get_ex(e, "type", &t) &&
		      !strcmp(json_object_get_string(t), "DELETE");
		if (kv.mod_revision > b->last_rev)
			b->last_rev = kv.mod_revision;
		if (b->cb(b->ctx, &kv, del))
			b->stop = 1;
		kv_free(&kv);
	}
out:
	json_object_put(root);
}

static size_t on_data(char *p, size_t sz, size_t nm, void *ud)
{
	struct body *b = ud;
	size_t n = sz * nm;
	char *q = realloc(b->p, b->len + n + 1), *nl;

	if (!q) {
		b->err = -ENOMEM;
		return 0;
	}
	b->p = q;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = 0;
	if (!b->cb)
		return n;
	while ((nl = memchr(b->p, '\n', b->len))) {
		*nl = 0;
		watch_line(b, b->p);
		b->len -= (size_t)(nl + 1 - b->p);
		memmove(b->p, nl + 1, b->len + 1);
	}
	if (b->len && b->p[b->len - 1] == '}') {
		/* the gateway may not end a message with a newline */
		json_object *o = json_tokener_parse(b->p);

		if (o) {
			json_object_put(o);
			watch_line(b, b->p);
			b->len = 0;
		}
	}
	return b->stop ? 0 : n;
}

/* POST req to /v3/path on each endpoint in turn. *resp: the parsed object. */
static int call(struct etcd *e, const char *path, json_object *req, long timeout_ms,
		struct body *b, json_object **resp)
{
	const char *data = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	int r = -EHOSTUNREACH;

	for (size_t t = 0; t < e->n_ep; t++) {
		size_t i = (e->cur + t) % e->n_ep;
		char url[512];
		long code = 0;
		CURLcode cc;

		snprintf(url, sizeof(url), "%s/v3/%s", e->ep[i], path);
		free(b->p);
		b->p = NULL;
		b->len = 0;
		curl_easy_reset(e->curl);
		curl_easy_setopt(e->curl, CURLOPT_URL, url);
		curl_easy_setopt(e->curl, CURLOPT_POSTFIELDS, data);
		curl_easy_setopt(e->curl, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(e->curl, CURLOPT_WRITEFUNCTION, on_data);
		curl_easy_setopt(e->curl, CURLOPT_WRITEDATA, b);
		curl_easy_setopt(e->curl, CURLOPT_TIMEOUT_MS, timeout_ms);
		curl_easy_setopt(e->curl, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
		curl_easy_setopt(e->curl, CURLOPT_NOSIGNAL, 1L);
		cc = curl_easy_perform(e->curl);
		if (b->cb && (cc == CURLE_OPERATION_TIMEDOUT || b->stop ||
			      cc == CURLE_WRITE_ERROR)) {
			e->cur = i;
			r = b->err ? b->err : 0;
			break;
		}
		if (cc != CURLE_OK)
			continue;	/* next endpoint */
		curl_easy_getinfo(e->curl, CURLINFO_RESPONSE_CODE, &code);
		e->cur = i;
		if (code != 200) {
			r = -EIO;
			break;
		}
		r = 0;
		if (resp) {
			*resp = json_tokener_parse(b->p ? b->p : "");
			if (!*resp)
				r = -EBADMSG;
		}
		break;
	}
	curl_slist_free_all(h);
	free(b->p);
	b->p = NULL;
	return r;
}

static void add_b64(json_object *o, const char *k, const void *p, size_t n)
{
	char *s = etcd_b64_encode(p, n);

	json_object_object_add(o, k, json_object_new_string(s ? s : ""));
	free(s);
}

static int simple(struct etcd *e, const char *path, json_object *req, json_object **resp)
{
	struct body b = { 0 };
	int r = call(e, path, req, 5000, &b, resp);

	json_object_put(req);
	return r;
}

int etcd_range(struct etcd *e, const char *key, int prefix, struct etcd_range *out)
{
	json_object *req = json_object_new_object(), *resp;
	int r;

	add_b64(req, "key", key, strlen(key));
	if (prefix) {
		char *end = etcd_prefix_end(key);

		if (!end) {
			json_object_put(req);
			return -ENOMEM;
		}
		add_b64(req, "range_end", end, strlen(end) ? strlen(end) : 1);
		free(end);
	}
	r = simple(e, "kv/range", req, &resp);
	if (r)
		return r;
	r = range_from(resp, out);
	json_object_put(resp);
	return r;
}

static json_object *op_json(const struct etcd_op *op)
{
	json_object *o = json_object_new_object(), *in = json_object_new_object();

	add_b64(in, "key", op->key, strlen(op->key));
	if (op->val) {
		add_b64(in, "value", op->val, op->val_len);
		if (op->lease)
			json_object_object_add(in, "lease", json_object_new_int64(op->lease));
		json_object_object_add(o, "request_put", in);
	} else {
		json_object_object_add(o, "request_delete_range", in);
	}
	return o;
}

int etcd_txn(struct etcd *e, const struct etcd_cmp *cmp, size_t n_cmp,
	     const struct etcd_op *ops, size_t n_ops, int *succeeded, int64_t *revision)
{
	static const char *const tgt[] = { "VALUE", "MOD", "VERSION", "CREATE" };
	static const char *const tf[] = { "value", "mod_revision", "version", "create_revision" };
	static const char *const res[] = { "EQUAL", "NOT_EQUAL", "LESS", "GREATER" };
	json_object *req = json_object_new_object(), *ca = json_object_new_array();
	json_object *sa = json_object_new_array(), *resp, *v, *hdr;
	int r;

	for (size_t i = 0; i < n_cmp; i++) {
		json_object *c = json_object_new_object();

		add_b64(c, "key", cmp[i].key, strlen(cmp[i].key));
		json_object_object_add(c, "target", json_object_new_string(tgt[cmp[i].target]));
		json_object_object_add(c, "result", json_object_new_string(res[cmp[i].result]));
		if (cmp[i].target == ETCD_CMP_VALUE)
			add_b64(c, "value", cmp[i].val, cmp[i].val_len);
		else
			json_object_object_add(c, tf[cmp[i].target],
					       json_object_new_int64(cmp[i].num));
		json_object_array_add(ca, c);
	}
	for (size_t i = 0; i < n_ops; i++)
		json_object_array_add(sa, op_json(&ops[i]));
	json_object_object_add(req, "compare", ca);
	json_object_object_add(req, "success", sa);
	r = simple(e, "kv/txn", req, &resp);
	if (r)
		return r;
	*succeeded = json_object_object_get_ex(resp, "succeeded", &v) && json_object_get_boolean(v);
	if (revision)
		*revision = json_object_object_get_ex(resp, "header", &hdr) ? jint(hdr, "revision") : 0;
	json_object_put(resp);
	return 0;
}

int etcd_put(struct etcd *e, const char *key, const void *val, size_t len, int64_t lease)
{
	struct etcd_op op = { .key = key, .val = val ? val : "", .val_len = len, .lease = lease };
	int ok;

	return etcd_txn(e, NULL, 0, &op, 1, &ok, NULL);
}

int etcd_delete(struct etcd *e, const char *key)
{
	struct etcd_op op = { .key = key };
	int ok;

	return etcd_txn(e, NULL, 0, &op, 1, &ok, NULL);
}

int etcd_lease_grant(struct etcd *e, int64_t ttl, int64_t *id)
{
	json_object *req = json_object_new_object(), *resp;
	int r;

	json_object_object_add(req, "TTL", json_object_new_int64(ttl));
	r = simple(e, "lease/grant", req, &resp);
	if (r)
		return r;
	*id = jint(resp, "ID");
	json_object_put(resp);
	return *id ? 0 : -EIO;
}

int etcd_lease_keepalive(struct etcd *e, int64_t id, int64_t *ttl_left)
{
	json_object *req = json_object_new_object(), *resp, *res;
	int r;

	json_object_object_add(req, "ID", json_object_new_int64(id));
	r = simple(e, "lease/keepalive", req, &resp);
	if (r)
		return r;
	/* a stream of one message: {"result":{"ID":..,"TTL":..}} */
	*ttl_left = json_object_object_get_ex(resp, "result", &res) ? jint(res, "TTL") : 0;
	json_object_put(resp);
	return 0;
}

int etcd_lease_revoke(struct etcd *e, int64_t id)
{
	json_object *req = json_object_new_object(), *resp;
	int r;

	json_object_object_add(req, "ID", json_object_new_int64(id));
	r = simple(e, "kv/lease/revoke", req, &resp);
	if (!r)
		json_object_put(resp);
	return r;
}

int etcd_watch(struct etcd *e, const char *prefix, int64_t start_rev, long timeout_ms,
	       etcd_watch_cb cb, void *ctx, int64_t *last_rev)
{
	json_object *req = json_object_new_object(), *cr = json_object_new_object();
	struct body b = { .cb = cb, .ctx = ctx, .last_rev = start_rev - 1 };
	char *end = etcd_prefix_end(prefix);
	int r;

	if (!end) {
		json_object_put(req);
		json_object_put(cr);
		return -ENOMEM;
	}
	add_b64(cr, "key", prefix, strlen(prefix));
	add_b64(cr, "range_end", end, strlen(end) ? strlen(end) : 1);
	free(end);
	json_object_object_add(cr, "start_revision", json_object_new_int64(start_rev));
	json_object_object_add(req, "create_request", cr);
	r = call(e, "watch", req, timeout_ms, &b, NULL);
	json_object_put(req);
	if (last_rev)
		*last_rev = b.last_rev;
	if (b.stale)
		return -ESTALE;
	return r;
}
