/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * libFuzzer target for the state store's host-record parser (what the daemon
 * reads back from state.snap and state.journal): never crash, and whatever
 * decodes re-encodes to the very same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "gateway/state.h"
#include "gateway/state_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct host h;
	uint8_t *out = NULL;
	size_t len = 0;

	memset(&h, 0, sizeof(h));
	if (state_host_decode(data, size, &h))
		return 0;
	if (state_host_encode(&h, &out, &len) || len != size || memcmp(out, data, size))
		abort();
	free(out);
	host_release(&h);
	return 0;
}
