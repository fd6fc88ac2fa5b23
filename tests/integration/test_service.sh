#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The tree's programs as a service manager drives them: --version, man
# pages against --help, the example configuration, the sd_notify sequence
# in the foreground (as xdnatd.service runs it) and detached (SIGTERM and
# SIGHUP reach the forked daemon), journald priorities, the units and
# xdnatd with only their capabilities.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/service_lib.sh"
require_root

check_versions "$BUILD"
check_man "$BUILD" "$BUILD/man"
check_example_conf "$BUILD" "$ROOT/dist/xdnatd.conf"
check_journal_priority "$BUILD"

ns_add svc NS
example_conf "$ROOT/dist/xdnatd.conf" example
check_notify "$BUILD" "$NS" "$TMP/example.conf" fg --foreground
check_notify "$BUILD" "$NS" "$TMP/example.conf" detached

check_units "$BUILD/systemd" "$BUILD"
check_caps "$BUILD" "$BUILD/systemd/xdnatd.service"
check_host_caps "$BUILD" "$BUILD/systemd/xdnat-host@.service"
summary
