/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The ports xdnatd hands out, reserved in net.ipv4.ip_local_reserved_ports
 * of its network namespace, so that a connection the gateway's own stack
 * makes from G never takes an ephemeral port that a host holds.
 *
 * The sysctl is shared with the operator: xdnatd writes the union of what
 * is there and --ports, and remembers in STATE_DIR/reserved_ports the part
 * it added (--ports minus what the operator had reserved already). A
 * restart with other --ports takes back the old part and adds the new one;
 * --unload takes back its part only. When the sysctl cannot be written
 * (read-only /proc/sys in a container), --ports may not overlap the
 * ephemeral range (net.ipv4.ip_local_port_range) unless that part is
 * reserved already.
 */
#ifndef XDNAT_RESERVED_PORTS_H
#define XDNAT_RESERVED_PORTS_H

#include <stdbool.h>
#include <stdint.h>
#include "lib/range_list.h"

#define RESERVED_PORTS_FILE	"reserved_ports"

/*
 * The sysctl's next value (*want) and the part that is ours (*added), from
 * its value now, the part an earlier xdnatd added (its file: the operator's
 * entries are the rest) and --ports [lo, hi]. 0 or -E2BIG.
 */
int reserved_ports_plan(const struct range_list *now, const struct range_list *added_prev,
			uint32_t lo, uint32_t hi, struct range_list *want,
			struct range_list *added);

/* At start (and again at SIGHUP, for an operator who rewrote the sysctl):
 * reserve [lo, hi], or refuse an overlap with the ephemeral range when the
 * sysctl is read-only. Logs what it changed; an unchanged sysctl only when
 * !quiet. 0 or -errno (refused). */
int reserved_ports_apply(const char *state_dir, uint32_t lo, uint32_t hi, bool quiet);
/* At --unload: give back what we added. Logs. 0 or -errno. */
int reserved_ports_release(const char *state_dir);

#endif
