#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The tree's programs as a service manager drives them: --version, man
# pages against --help, the example configuration, the sd_notify sequence
# in the foreground (as xdnatd.service runs it) and detached (SIGTERM and
# SIGHUP reach the forked daemon), journald priorities, --check-kernel, the
# units and xdnatd with only their capabilities.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/service_lib.sh"
require_root

check_versions "$BUILD"
check_man "$BUILD" "$BUILD/man"
check_example_conf "$BUILD" "$ROOT/dist/xdnatd.conf"
check_journal_priority "$BUILD"
check_kernel_probe "$BUILD"
# issue 15: a pool is refused before anything is touched, with one line
check "xdnatd --global A,B --global C: exit 2, one line, no state directory" bash -c \
	"out=\$('$BUILD/xdnatd' --global 198.51.100.1,198.51.100.2 --global 198.51.100.3 \
		--state-dir '$TMP/pool-st' --socket '$TMP/pool.sock' 2>&1); [ \$? = 2 ] &&
	 [ \"\$out\" = 'xdnatd: a pool of 3 addresses needs data-plane support for several G (issue 15); configure one --global' ] &&
	 [ ! -e '$TMP/pool-st' ]"

ns_add svc NS
example_conf "$ROOT/dist/xdnatd.conf" example
check_notify "$BUILD" "$NS" "$TMP/example.conf" fg --foreground
check_notify "$BUILD" "$NS" "$TMP/example.conf" detached

# Detached with relative paths: daemon() changes to /, the files still go.
mkdir -p "$TMP/rel"
(cd "$TMP/rel" && ip netns exec "$NS" "$BUILD/xdnatd" --config "$TMP/example.conf" \
	--state-dir st --socket ctl.sock --bpffs "$TMP/rel/bpf" --pidfile x.pid 2>/dev/null)
check "detached, relative --pidfile and --socket: written there" wait_until 5 \
	bash -c "[ -S '$TMP/rel/ctl.sock' ] && kill -0 \$(cat '$TMP/rel/x.pid')"
kill -TERM "$(cat "$TMP/rel/x.pid")"
check "detached, relative --pidfile and --socket: removed at SIGTERM" \
	wait_until 5 bash -c "[ ! -e '$TMP/rel/ctl.sock' ] && [ ! -e '$TMP/rel/x.pid' ]"

check_units "$BUILD/systemd" "$BUILD"
check_caps "$BUILD" "$BUILD/systemd/xdnatd.service"
check_host_caps "$BUILD" "$BUILD/systemd/xdnat-host@.service"
summary
