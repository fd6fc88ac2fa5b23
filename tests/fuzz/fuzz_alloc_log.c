/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * libFuzzer target for the allocation log's line parser (what xdnatctl who
 * and log export read back, torn and damaged lines included): never crash,
 * and what parses has a block inside its type's range.
 */
#include <stdint.h>
#include <stdlib.h>
#include "gateway/alloc_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct alloc_rec r;

	if (alloc_rec_parse((const char *)data, size, &r))
		return 0;
	if (r.first > r.last || (!r.spi && r.last > 65535) || r.event >= ALOG_N_EVENTS)
		abort();
	return 0;
}
