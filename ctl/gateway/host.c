/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Helpers over struct host (host.h). The cached reply is the only memory a
 * host owns, so copy / release / set_reply are its whole ownership story.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "gateway/host.h"

/* Blocks with first > last are never created; skip them rather than wrap. */
uint32_t host_port_total(const struct host *h)
{
	uint32_t n = 0;

	for (unsigned int i = 0; i < h->n_ports && i < HOST_MAX_RANGES; i++)
		if (h->ports[i].last >= h->ports[i].first)
			n += (uint32_t)h->ports[i].last - h->ports[i].first + 1;
	return n;
}

uint64_t host_spi_total(const struct host *h)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < h->n_spis && i < HOST_MAX_RANGES; i++)
		if (h->spis[i].last >= h->spis[i].first)
			n += (uint64_t)h->spis[i].last - h->spis[i].first + 1;
	return n;
}

int host_find_ports(const struct host *h, uint16_t first, uint16_t last)
{
	if (first > last)
		return -1;
	for (unsigned int i = 0; i < h->n_ports && i < HOST_MAX_RANGES; i++)
		if (h->ports[i].first <= first && last <= h->ports[i].last)
			return (int)i;
	return -1;
}

int host_find_spis(const struct host *h, uint32_t first, uint32_t last)
{
	if (first > last)
		return -1;
	for (unsigned int i = 0; i < h->n_spis && i < HOST_MAX_RANGES; i++)
		if (h->spis[i].first <= first && last <= h->spis[i].last)
			return (int)i;
	return -1;
}

/*
 * dst is overwritten, not released: release it first if it owns a reply.
 * On error dst is left untouched.
 */
int host_copy(struct host *dst, const struct host *src)
{
	uint8_t *reply = NULL;

	if (src->reply_len) {
		if (!src->reply)
			return -EINVAL;
		reply = malloc(src->reply_len);
		if (!reply)
			return -ENOMEM;
		memcpy(reply, src->reply, src->reply_len);
	}
	*dst = *src;
	dst->reply = reply;
	return 0;
}

void host_release(struct host *h)
{
	free(h->reply);
	h->reply = NULL;
	h->reply_len = 0;
}

/*
 * The new copy is made before the old one is freed, so buf may point into
 * h->reply; on error the old reply is kept. len is capped at PAP_MAX_MSG
 * because the state store refuses to persist anything larger.
 */
int host_set_reply(struct host *h, const uint8_t *buf, uint16_t len)
{
	uint8_t *copy = NULL;

	if (len > PAP_MAX_MSG || (len && !buf))
		return -EINVAL;
	if (len) {
		copy = malloc(len);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, buf, len);
	}
	free(h->reply);
	h->reply = copy;
	h->reply_len = len;
	return 0;
}
