/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Numbers from the command line and the config file: one parser for xdnatd,
 * xdnat-host and the agent, so that every option takes the same forms.
 */
#ifndef XDNAT_PARSE_H
#define XDNAT_PARSE_H

#include <stdint.h>

/* A whole string as a number in lo..hi: decimal, 0x hex or 0 octal, no sign.
 * 0 or -EINVAL. */
int parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out);

/* "A-B" with lo <= A <= B <= hi, each as parse_u32(). 0 or -EINVAL. */
int parse_range(const char *s, uint32_t lo, uint32_t hi, uint32_t *a, uint32_t *b);

/* "ADDR:PORT": a dotted-quad IPv4 address (network order) and a port
 * 1..65535 (host order). 0 or -EINVAL. */
int parse_addr_port(const char *s, uint32_t *addr, uint16_t *port);

/* RFC 3339 UTC with seconds, "2026-12-02T13:45:01Z" (RFC3339_LEN with the NUL). */
#define RFC3339_LEN	21
void format_rfc3339(uint64_t unix_secs, char out[RFC3339_LEN]);

/*
 * A point in time: RFC 3339 ("2026-12-02T13:45:01Z", a fraction ignored, an
 * offset "+02:00" applied; a space may stand for the T), a bare date
 * (midnight UTC), "@SECONDS" since the epoch, or "now" (the now given).
 * 0 or -EINVAL.
 */
int parse_time(const char *s, uint64_t now, uint64_t *out);

#endif
