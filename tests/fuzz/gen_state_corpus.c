/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Writes the state-record seed corpus for fuzz_state:
 *   gcc -std=c11 -D_GNU_SOURCE -Ictl -Icommon tests/fuzz/gen_state_corpus.c \
 *       ctl/state.c ctl/state_record.c ctl/host.c ctl/atomic_file.c -lcrypto -lz \
 *       -o /tmp/gen_state && /tmp/gen_state
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gateway/state.h"
#include "gateway/state_record.h"
int main(void)
{
	struct host h = { .client_id = 7, .addr = 0x0b00000a, .global = 0x016433c6,
		.lease_expires = 1800000000, .lease_secs = 300, .last_seq = 5, .last_xid = 9,
		.cert_serial = { 0x3a, 0x01, 0x02, 0x03, [15] = 0x7f },
		.cert_expires = 1800000000 };
	uint8_t *out; size_t len; FILE *f;
	h.n_ports = 2; h.ports[0] = (struct pap_port_range){ 0x016433c6, 20000, 20063 };
	h.ports[1] = (struct pap_port_range){ 0x016433c6, 30000, 30000 };
	h.n_spis = 1; h.spis[0] = (struct pap_spi_range){ 0x016433c6, 4096, 4223 };
	h.n_sas = 1; h.sas[0] = (struct pap_sa){ 0x0a7100cb, 4096, 4223 }; h.natt_port = 20001;
	host_set_reply(&h, (const uint8_t *)"\x01\x15\x00\x10replyreplyrepl", 16);
	if (state_host_encode(&h, &out, &len)) return 1;
	f = fopen("tests/fuzz/corpus/state/host-full.bin", "w"); fwrite(out, 1, len, f); fclose(f);
	free(out); host_release(&h);
	memset(&h, 0, sizeof(h)); h.client_id = 1;
	if (state_host_encode(&h, &out, &len)) return 1;
	f = fopen("tests/fuzz/corpus/state/host-empty.bin", "w"); fwrite(out, 1, len, f); fclose(f);
	free(out);
	return 0;
}
