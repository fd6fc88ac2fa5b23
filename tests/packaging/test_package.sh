#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The Debian package of `make deb` (build/deb/xdnat_*.deb) unpacked into a
# fresh root (dpkg -x: what dpkg -i lays down, without the maintainer
# scripts) and checked: its control data, the files, the units
# (systemd-analyze verify), the man pages (man -l) and the installed xdnatd
# started in a network namespace from the shipped example configuration,
# driven through READY, RELOADING/READY on SIGHUP and STOPPING on SIGTERM
# over a notify socket, as systemd would. `make package-test` builds the
# package and runs this.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/service_lib.sh"
require_root
require_deb
R=$TMP/root
mkdir -p "$R"
check "dpkg -x into a fresh root" dpkg -x "$DEB" "$R"

ver=$(dpkg-deb -f "$DEB" Version)
check "package version $ver is VERSION's" test "${ver%-*}" = "$(cat "$ROOT/VERSION")"
check "depends on libsystemd0 and libbpf1 (shlibs)" bash -c \
	"dpkg-deb -f '$DEB' Depends | grep -q libsystemd0 &&
	 dpkg-deb -f '$DEB' Depends | grep -q libbpf1"
check "/etc/xdnat/xdnatd.conf is a conffile" bash -c \
	"dpkg-deb --ctrl-tarfile '$DEB' | tar -xOf - ./conffiles | grep -qx /etc/xdnat/xdnatd.conf"
# dh_installsystemd --no-enable --no-start: no start, and an enable only
# where the admin had enabled the unit before (an upgrade).
dpkg-deb --ctrl-tarfile "$DEB" | tar -xOf - ./postinst > "$TMP/postinst"
check "postinst starts no unit" bash -c "! grep -q deb-systemd-invoke '$TMP/postinst'"
check "postinst enables a unit only if it was enabled" awk \
	'/was-enabled/ { w = 1 } /deb-systemd-helper enable/ && !w { bad = 1 } /^\tfi/ { w = 0 }
	 END { exit bad }' "$TMP/postinst"
for f in usr/sbin/xdnatd usr/sbin/xdnatctl usr/sbin/xdnat-host; do
	check "$f is executable" test -x "$R/$f"
done
for f in lib/systemd/system/xdnatd.service lib/systemd/system/xdnat-host@.service \
	usr/share/man/man8/xdnatd.8.gz usr/share/man/man8/xdnatctl.8.gz \
	usr/share/man/man8/xdnat-host.8.gz usr/share/doc/xdnat/LICENSE \
	usr/share/doc/xdnat/copyright usr/share/doc/xdnat/examples/host-eth0.conf \
	etc/xdnat/xdnatd.conf; do
	check "$f is there" test -s "$R/$f"
done
check "LICENSE has the BSD-2-Clause text and points at the GPL-2" bash -c \
	"grep -q 'Redistributions in binary form' '$R/usr/share/doc/xdnat/LICENSE' &&
	 grep -q /usr/share/common-licenses/GPL-2 '$R/usr/share/doc/xdnat/LICENSE'"

BIN=$R/usr/sbin
check_units "$R/lib/systemd/system" "$BIN"
check "xdnatd.service runs /usr/sbin/xdnatd with /etc/xdnat/xdnatd.conf" grep -qx \
	'ExecStart=/usr/sbin/xdnatd --foreground --config /etc/xdnat/xdnatd.conf' \
	"$R/lib/systemd/system/xdnatd.service"
check_versions "$BIN"
check_man "$BIN" "$R/usr/share/man/man8"
check_example_conf "$BIN" "$R/etc/xdnat/xdnatd.conf"

# Started as the unit starts it: --foreground, the example's settings.
ns_add pkg NS
example_conf "$R/etc/xdnat/xdnatd.conf" installed
check_notify "$BIN" "$NS" "$TMP/installed.conf" installed --foreground
check_caps "$BIN" "$R/lib/systemd/system/xdnatd.service"
check_host_caps "$BIN" "$R/lib/systemd/system/xdnat-host@.service"
summary
