/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Loading the site key (site_key.h): xdnatd's --site-key and the agent's. */
#include <errno.h>
#include <stdio.h>
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
	return 0;
}
