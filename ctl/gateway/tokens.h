/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The enrolment tokens (xdnatctl token, docs/xdnatctl.md) on disk: the file
 * "tokens" in the state directory, mode 0600, replaced atomically whenever
 * one is issued, used, revoked or expires. Its layout is state_record.h's.
 */
#ifndef XDNAT_TOKENS_H
#define XDNAT_TOKENS_H

#include <stddef.h>
#include "gateway/gateway.h"

#define TOKENS_FILE	"tokens"

/* Into g from dir/tokens (none: nothing). 0 or -errno with err set. */
int tokens_load(const char *dir, struct gw *g, char *err, size_t errlen);
/* g's tokens into dir/tokens. 0 or -errno. */
int tokens_save(const char *dir, const struct gw *g);

#endif
