/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The site key (docs/pap.md, "Site key"): a file of 16 to PAP_MAX_SITE_KEY
 * bytes that REGISTER is signed with. The gateway (--site-key) and the host
 * agent (--site-key) read it the same way.
 */
#ifndef XDNAT_PAP_SITE_KEY_H
#define XDNAT_PAP_SITE_KEY_H

#include <stddef.h>
#include <stdint.h>

#define PAP_MAX_SITE_KEY	64

/* The file's bytes, trailing blanks and newlines trimmed, 16..cap bytes; a
 * file readable by group or others is taken with a warning. 0, or -1 with a
 * one-line reason naming the file in err. */
int pap_site_key_load(const char *path, uint8_t *key, size_t cap, size_t *len,
		      char *err, size_t errlen);

/* An enrolment token (xdnatctl token issue): "ID:SECRET", SECRET 64 hex
 * digits. parse: 0 or -EINVAL. load: a file holding one, trailing blanks
 * trimmed, as pap_site_key_load (0, or -1 with err). */
#define PAP_TOKEN_LEN		32
int pap_token_parse(const char *s, uint32_t *id, uint8_t secret[PAP_TOKEN_LEN]);
int pap_token_load(const char *path, uint32_t *id, uint8_t secret[PAP_TOKEN_LEN],
		   char *err, size_t errlen);

#endif
