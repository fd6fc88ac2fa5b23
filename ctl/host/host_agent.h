/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The host agent behind `xdnat-host up`: the PAP client side of a host and
 * its life cycle (docs/xdnat-host.md):
 *
 *   start   resume from --state-dir (QUERY), or REGISTER; PORT, SPI, NATT;
 *           G on lo, rule and route (host_net), tunnel on the NIC (host_tc);
 *           state saved
 *   loop    EXTEND at a third of the lease, backing off while the gateway
 *           does not answer; when the gateway no longer knows us (it lost
 *           its state, or our lease ran out) REGISTER again and re-claim the
 *           same ports and SPIs with PAP hints, then re-validate the peers;
 *           the control socket (status, validate, invalidate, down)
 *   SIGTERM stop renewing and exit, freeing nothing and leaving the host
 *           configured: a new `up` resumes from --state-dir
 *   down    DEREGISTER, undo the host configuration, forget the state
 */
#ifndef XDNAT_HOST_AGENT_H
#define XDNAT_HOST_AGENT_H

#include "host/host_cmds.h"

/* `xdnat-host up`: runs until SIGTERM or `down`. Returns the exit status
 * (0, or 1 with the reason logged as one line). */
int host_agent_up(const struct host_opts *o);

/* `xdnat-host down` when no agent answers: the same from state_dir alone.
 * Reports to stdout, errors to stderr; returns the exit status. */
int host_agent_down_offline(const char *state_dir, const char *socket_path);

#endif
