/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Parsing numbers, ranges of numbers and times (parse.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <time.h>
#include "lib/parse.h"

int parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
	unsigned long long n;
	char *end;

	/* strtoull would skip blanks and take a sign: a digit first */
	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	n = strtoull(s, &end, 0);
	if (errno || *end || n < lo || n > hi)
		return -EINVAL;
	*out = (uint32_t)n;
	return 0;
}

int parse_range(const char *s, uint32_t lo, uint32_t hi, uint32_t *a, uint32_t *b)
{
	char buf[64], *dash;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	dash = strchr(buf, '-');
	if (!dash)
		return -EINVAL;
	*dash = 0;
	if (parse_u32(buf, lo, hi, a) || parse_u32(dash + 1, lo, hi, b) || *a > *b)
		return -EINVAL;
	return 0;
}

int parse_addr_port(const char *s, uint32_t *addr, uint16_t *port)
{
	const char *colon = strrchr(s, ':');
	char a[INET_ADDRSTRLEN];
	uint32_t p;

	if (!colon || (size_t)(colon - s) >= sizeof(a) || parse_u32(colon + 1, 1, 65535, &p))
		return -EINVAL;
	memcpy(a, s, (size_t)(colon - s));
	a[colon - s] = 0;
	if (inet_pton(AF_INET, a, addr) != 1)
		return -EINVAL;
	*port = (uint16_t)p;
	return 0;
}

void format_rfc3339(uint64_t unix_secs, char out[RFC3339_LEN])
{
	time_t t = (time_t)unix_secs;
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(out, RFC3339_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, RFC3339_LEN, "@%llu", (unsigned long long)unix_secs);
}

/* What follows the seconds: a fraction, then Z, +hh:mm or -hh:mm. */
static int parse_zone(const char *p, int64_t *offset)
{
	unsigned int hh, mm;
	int n = 0;

	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			;
	*offset = 0;
	if (!*p)
		return 0;			/* no zone: UTC */
	if ((*p == 'Z' || *p == 'z') && !p[1])
		return 0;
	if ((*p != '+' && *p != '-') || sscanf(p + 1, "%2u:%2u%n", &hh, &mm, &n) != 2 ||
	    p[1 + n] || hh > 23 || mm > 59)
		return -EINVAL;
	*offset = (int64_t)(hh * 3600 + mm * 60) * (*p == '-' ? -1 : 1);
	return 0;
}

int parse_time(const char *s, uint64_t now, uint64_t *out)
{
	struct tm tm = { 0 };
	const char *p;
	int64_t offset, t;

	if (!strcmp(s, "now")) {
		*out = now;
		return 0;
	}
	if (s[0] == '@') {
		unsigned long long n;
		char *end;

		if (!isdigit((unsigned char)s[1]))
			return -EINVAL;
		errno = 0;
		n = strtoull(s + 1, &end, 10);
		if (errno || *end)
			return -EINVAL;
		*out = n;
		return 0;
	}
	p = strptime(s, "%Y-%m-%d", &tm);
	if (!p || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	if (*p) {
		if (*p != 'T' && *p != 't' && *p != ' ')
			return -EINVAL;
		p = strptime(p + 1, "%H:%M:%S", &tm);
		if (!p || parse_zone(p, &offset))
			return -EINVAL;
	} else {
		offset = 0;
	}
	t = (int64_t)timegm(&tm) - offset;
	if (t < 0)
		return -EINVAL;
	*out = (uint64_t)t;
	return 0;
}
