/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Loading the site key (site_key.h): xdnatd's --site-key and the agent's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "lib/log.h"
#include "pap/site_key.h"

int pap_site_key_load(const char *path, uint8_t *key, size_t cap, size_t *len,
		      char *err, size_t errlen)
{
	uint8_t buf[256];
	struct stat st;
	size_t n;
	FILE *f = fopen(path, "re");

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!fstat(fileno(f), &st) && (st.st_mode & 077))
		log_warn("%s: key file is readable by group or others (chmod 600)", path);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		n--;
	if (n < 16 || n > cap) {
		snprintf(err, errlen, "%s: a key must be 16 to %zu bytes, this one has %zu",
			 path, cap, n);
		return -1;
	}
	memcpy(key, buf, n);
	*len = n;
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int pap_token_parse(const char *s, uint32_t *id, uint8_t secret[PAP_TOKEN_LEN])
{
	unsigned long v;
	char *end;

	if (*s < '1' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end != ':' || !v || v > UINT32_MAX || strlen(end + 1) != 2 * PAP_TOKEN_LEN)
		return -EINVAL;
	for (int i = 0; i < PAP_TOKEN_LEN; i++) {
		int hi = hex_nibble(end[1 + 2 * i]), lo = hex_nibble(end[2 + 2 * i]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		secret[i] = (uint8_t)(hi << 4 | lo);
	}
	*id = (uint32_t)v;
	return 0;
}

int pap_token_load(const char *path, uint32_t *id, uint8_t secret[PAP_TOKEN_LEN],
		   char *err, size_t errlen)
{
	uint8_t buf[PAP_MAX_SITE_KEY * 2 + 32];
	size_t n;
	int rc = pap_site_key_load(path, buf, sizeof(buf) - 1, &n, err, errlen);

	if (rc)
		return rc;
	buf[n] = 0;
	rc = pap_token_parse((const char *)buf, id, secret);
	explicit_bzero(buf, sizeof(buf));
	if (rc) {
		snprintf(err, errlen, "%s: not an enrolment token (ID:SECRET, as xdnatctl "
			 "token issue prints it)", path);
		return -1;
	}
	return 0;
}
