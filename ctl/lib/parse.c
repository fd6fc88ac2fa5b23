/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Parsing numbers and ranges of numbers (parse.h). */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
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
