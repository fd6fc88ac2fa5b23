#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The tree's programs as a service manager drives them: --version, man
# pages against --help, the example configuration, the sd_notify sequence
# in the foreground (as xdnatd.service runs it) and detached (SIGTERM and
# SIGHUP reach the forked daemon), journald priorities, the units.
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

# The units as built for this tree's PREFIX: no complaint from systemd.
mkdir -p "$TMP/units"
for u in "$BUILD"/systemd/*.service; do cp "$u" "$TMP/units/"; done
cp "$TMP/units/xdnat-host@.service" "$TMP/units/xdnat-host@lo.service"
check "systemd-analyze verify: the units are clean" bash -c \
	"out=\$(sed -i 's|^\(Exec[A-Za-z]*=\)[^ ]*/\(xdnat[a-z-]*\)|\1$BUILD/\2|' '$TMP'/units/* &&
	 systemd-analyze verify --man=no '$TMP/units/xdnatd.service' \
		'$TMP/units/xdnat-host@lo.service' 2>&1); echo \"\$out\"; [ -z \"\$out\" ]"
summary
