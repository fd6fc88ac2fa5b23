#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The Debian package of `make deb` under a real systemd: systemd-nspawn
# --boot on an overlay of this machine's root (a tmpfs upper layer: nothing
# downloaded, nothing written to /), systemd as the container's PID 1, its
# own network namespace (veths ext0/ext1 and int0/int1, the host agent's
# eth0 in a namespace of its own). Inside, through systemctl and journalctl:
# dpkg -i leaves the units disabled and stopped; a start without the NICs
# fails with an error-priority journal line; `systemctl start xdnatd`
# returns once READY=1 came (Type=notify) with the data plane attached, the
# watchdog armed and only the unit's capabilities; `systemctl reload` goes
# RELOADING=1 -> READY=1; a refused configuration is an error in `journalctl
# -p err`; xdnat-host@eth0.service registers with it; `systemctl stop` ends
# both with SIGTERM, exit 0. `make package-test` runs this after
# test_package.sh.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/service_lib.sh"
require_root
require_deb
if ! command -v systemd-nspawn > /dev/null; then
	echo "no systemd-nspawn: apt-get install systemd-container (make package-test does)"
	echo "0 passed, 1 failed"; exit 1
fi

MACHINE=xdt$RUN_ID
OVL=$TMP/ovl		# tmpfs: the overlay's upper and work directories
R=$TMP/root		# the container's root: the host's / under $OVL/upper
BPF=$TMP/bpf		# the container's /sys/fs/bpf
NSPAWN=

machine_stop() {
	local i
	[ -n "$NSPAWN" ] || return 0
	# SIGTERM to nspawn is a clean poweroff of the container.
	kill -TERM "$NSPAWN" 2>/dev/null
	for ((i = 0; i < 200; i++)); do kill -0 "$NSPAWN" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$NSPAWN" 2>/dev/null
	wait "$NSPAWN" 2>/dev/null
	NSPAWN=
	# /run is no tmpfs here, so nspawn leaves its propagation directory.
	rmdir "/run/systemd/nspawn/propagate/$MACHINE" 2>/dev/null
	return 0
}
trap 'machine_stop; cleanup' EXIT

# cx COMMAND...: runs COMMAND inside the container (its namespaces, a clean
# environment), as `machinectl shell` would without machined.
LEADER=
cx() {
	nsenter -t "$LEADER" -m -u -i -n -p -C -r -w -- \
		env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 SYSTEMD_PAGER= "$@"
}
# prop UNIT PROPERTY: systemctl show's value
prop() { cx systemctl show -P "$2" "$1"; }
# props UNIT PROPERTY...: their values on one line, each followed by a blank
props() { local u=$1 p; shift; for p; do printf '%s ' "$(prop "$u" "$p")"; done; }
# jctl ARGS...: the journal of this boot, no pager
jctl() { cx journalctl -b --no-pager -q "$@"; }
export -f cx prop props jctl

mkdir -p "$OVL" "$R"
mount -t tmpfs -o mode=0755 xdt-ovl "$OVL" && MOUNTS+=("$OVL")
mkdir -p "$OVL/upper" "$OVL/work"
check "an overlay of / (tmpfs upper) as the container's root" mount -t overlay xdt-root \
	-o "lowerdir=/,upperdir=$OVL/upper,workdir=$OVL/work" "$R"
mountpoint -q "$R" && MOUNTS+=("$R")
mount_bpffs "$BPF"
# Its own machine id (a journal of its own) and the package to install.
# The journal's entries reach journalctl a moment after the event: the
# checks of what is logged wait for it (wait_until).
systemd-id128 new > "$R/etc/machine-id"
cp "$DEB" "$R/root/xdnat.deb"

# basic.target: none of this machine's own services (multi-user.target's).
systemd-nspawn --quiet -D "$R" -M "$MACHINE" --register=no --keep-unit --private-network \
	--capability=CAP_BPF,CAP_PERFMON --system-call-filter='bpf perf_event_open' \
	--bind="$BPF:/sys/fs/bpf" --console=read-only \
	--boot -- --unit=basic.target < /dev/null > "$TMP/boot.log" 2>&1 &
NSPAWN=$!
find_leader() { LEADER=$(pgrep -P "$NSPAWN" -x systemd) && export LEADER; }
check "systemd-nspawn --boot: systemd runs as the container's PID 1" wait_until 30 find_leader
if [ -z "$LEADER" ]; then
	sed 's/^/    /' "$TMP/boot.log" | tail -20
	summary; exit
fi
check "the container's PID 1 is systemd" bash -c "[ \"\$(cx cat /proc/1/comm)\" = systemd ]"
booted() {
	cx systemctl is-system-running > "$TMP/state" 2>&1
	grep -qx 'running\|degraded' "$TMP/state"
}
# Degraded (a unit of this machine's own that fails in a container) is
# still a finished boot; the failed units are listed.
check "the boot finishes (systemctl is-system-running)" wait_until 60 booted
grep -qx running "$TMP/state" || { cat "$TMP/state"; cx systemctl --failed --no-pager; }

# ---- the package ---------------------------------------------------------------------
check "dpkg -i the package inside" cx env DEBIAN_FRONTEND=noninteractive \
	dpkg -i /root/xdnat.deb
check "systemd knows both units" bash -c "[ \"\$(props xdnatd.service LoadState)\$(props \
	xdnat-host@eth0.service LoadState)\" = 'loaded loaded ' ]"
check "installed disabled and not started" bash -c \
	"[ \"\$(cx systemctl is-enabled xdnatd.service)\$(props xdnatd.service ActiveState)\" = \
	  'disabledinactive ' ]"

# ---- a start that fails: no NICs yet -------------------------------------------------
# The example configuration with its global, internal and NIC lines set.
cx sed -i -e 's/^#\(global\|internal\) = /\1 = /' -e 's/^#ext-if = .*/ext-if = ext0/' \
	-e 's/^#int-if = .*/int-if = int0/' /etc/xdnat/xdnatd.conf
check "systemctl start without ext0: fails" bash -c "! cx systemctl start xdnatd.service"
check "journalctl -p err..err -u xdnatd: xdnatd's error line, priority 3" wait_until 5 bash -c \
	"jctl -p err..err -u xdnatd -o cat _COMM=xdnatd |
	 grep -q '^xdnatd: error: --ext-if ext0: no such interface'"
cx systemctl stop xdnatd.service	# no restart loop meanwhile
cx systemctl reset-failed xdnatd.service 2>/dev/null

# ---- the NICs, the host agent's namespace ---------------------------------------------
cx ip link add ext0 type veth peer name ext1
cx ip link add int0 type veth peer name int1
cx ip netns add xdh
cx ip link set int1 netns xdh name eth0
for i in ext0 ext1 int0; do cx ip link set "$i" up; done
cx ip addr add 10.0.0.1/24 dev int0
cx ip -n xdh link set lo up
cx ip -n xdh addr add 10.0.0.11/24 dev eth0
cx ip -n xdh link set eth0 up

# ---- start: READY=1 -------------------------------------------------------------------
check "systemctl start xdnatd: returns once READY=1 came" cx systemctl start xdnatd.service
check "active (running), Type=notify" bash -c \
	"[ \"\$(props xdnatd.service ActiveState SubState Type)\" = 'active running notify ' ]"
PID=$(prop xdnatd.service MainPID)
check "the data plane attached to ext0 and int0" bash -c \
	"cx ip link show ext0 | grep -q 'prog/xdp' && cx ip link show int0 | grep -q 'prog/xdp'"
check "xdnatctl answers on /run/xdnat/xdnatd.sock" cx xdnatctl stats
check "pins under /sys/fs/bpf/xdnat (the bpffs systemd mounts)" bash -c \
	"ls '$BPF/xdnat' | grep -q ."
check "journal: 'serving PAP' at priority info, nothing of it in -p err" wait_until 5 bash -c \
	"jctl -p info..info -u xdnatd -o cat _PID=$PID | grep -q 'serving PAP' &&
	 ! jctl -p err -u xdnatd -o cat _PID=$PID | grep -q ."

# ---- the unit's settings as systemd applied them --------------------------------------
caps=$(unit_caps "$R/lib/systemd/system/xdnatd.service")
mask=$(caps_mask "$caps")
check "CapEff and CapBnd of xdnatd: the unit's ($caps), root's uid, no new privileges" \
	bash -c "st=\$(cx cat /proc/$PID/status) &&
	grep -qx 'CapEff:.$mask' <<< \"\$st\" && grep -qx 'CapBnd:.$mask' <<< \"\$st\" &&
	grep -qx 'NoNewPrivs:.1' <<< \"\$st\" && grep -qx 'Uid:.0.0.0.0' <<< \"\$st\""
check "the watchdog is armed: WatchdogUSec=30s" bash -c \
	"[ \"\$(prop xdnatd.service WatchdogUSec)\" = 30s ]"
check "xdnatd got WATCHDOG_USEC=30000000" bash -c \
	"cx cat /proc/$PID/environ | tr '\0' '\n' | grep -qx WATCHDOG_USEC=30000000"
wd=$(prop xdnatd.service WatchdogTimestampMonotonic)
check "systemd receives WATCHDOG=1 (its watchdog timestamp moves)" wait_until 10 bash -c \
	"[ \"\$(prop xdnatd.service WatchdogTimestampMonotonic)\" -gt $wd ]"

# ---- reload: RELOADING=1 -> READY=1 ---------------------------------------------------
cx systemd-analyze set-log-level debug	# PID 1 logs each notification and exit
since=$(cx date '+%Y-%m-%d %H:%M:%S.%N')
cx sed -i 's/^#\?lease = .*/lease = 600/' /etc/xdnat/xdnatd.conf
check "systemctl reload xdnatd" cx systemctl reload xdnatd.service
check "systemd saw RELOADING=1, then READY=1 from xdnatd" wait_until 5 bash -c \
	"jctl -o cat _PID=1 -u xdnatd --since '$since' |
	 grep -o 'notification message from PID $PID (.*)' | grep -o 'RELOADING=1\|READY=1' |
	 tr '\n' ' ' | grep -q '^RELOADING=1 READY=1'"
check "systemd: xdnatd went reload -> running" wait_until 5 bash -c \
	"jctl -o cat _PID=1 -u xdnatd --since '$since' | grep -q 'Changed reload -> running'"
check "the reload applied: 'configuration reloaded' at info, same PID" wait_until 5 bash -c \
	"jctl -p info..info -u xdnatd -o cat _PID=$PID --since '$since' |
	 grep -q 'configuration reloaded' &&
	 [ \"\$(props xdnatd.service MainPID ActiveState NRestarts)\" = '$PID active 0 ' ]"
since=$(cx date '+%Y-%m-%d %H:%M:%S.%N')
cx sed -i 's/^lease = .*/lease = forever/' /etc/xdnat/xdnatd.conf
cx systemctl reload xdnatd.service
check "a refused configuration: journalctl -p err -u xdnatd names it" wait_until 5 bash -c \
	"jctl -p err -u xdnatd -o cat _PID=$PID --since '$since' > '$TMP/reload-err' &&
	 grep -q 'reload: .*lease' '$TMP/reload-err' &&
	 grep -q 'reload: keeping the running configuration' '$TMP/reload-err'"
check "... and xdnatd goes on serving: READY=1 again, active, xdnatctl answers" wait_until 5 bash -c \
	"jctl -o cat _PID=1 -u xdnatd --since '$since' |
	 grep -q 'notification message from PID $PID (READY=1' &&
	 [ \"\$(props xdnatd.service ActiveState)\" = 'active ' ] && cx xdnatctl stats"
cx sed -i 's/^lease = .*/lease = 300/' /etc/xdnat/xdnatd.conf
cx systemd-analyze set-log-level info

# ---- xdnat-host@eth0.service against it -----------------------------------------------
# As the example says: copy host-eth0.conf. The agent's NIC is in the
# namespace xdh (a host of its own): a drop-in puts the unit there.
cx cp /usr/share/doc/xdnat/examples/host-eth0.conf /etc/xdnat/host-eth0.conf
cx mkdir -p /run/systemd/system/xdnat-host@eth0.service.d
printf '[Service]\nNetworkNamespacePath=/run/netns/xdh\n' |
	cx tee /run/systemd/system/xdnat-host@eth0.service.d/netns.conf > /dev/null
cx systemctl daemon-reload
# A container has no device units (/sys is read-only, no udev): the unit
# as shipped starts all the same (it only Wants= its interface's device).
check "systemctl start xdnat-host@eth0 as shipped (no device units here)" \
	cx systemctl start xdnat-host@eth0.service
check "xdnat-host@eth0 registered: 'up: client 1'" wait_until 15 bash -c \
	"jctl -u xdnat-host@eth0 -o cat | grep -q 'up: client 1'"
check "the gateway lists the host" bash -c "cx xdnatctl hosts | grep -q 10.0.0.11"
HPID=$(prop xdnat-host@eth0.service MainPID)
hmask=$(caps_mask "$(unit_caps "$R/lib/systemd/system/xdnat-host@.service")")
check "CapEff of xdnat-host: the unit's" bash -c \
	"cx cat /proc/$HPID/status | grep -qx 'CapEff:.$hmask'"

# ---- stop: SIGTERM, exit 0 ------------------------------------------------------------
# The main process's exit is logged at debug level when it succeeds.
cx systemd-analyze set-log-level debug
since=$(cx date '+%Y-%m-%d %H:%M:%S.%N')
check "systemctl stop xdnat-host@eth0" cx systemctl stop xdnat-host@eth0.service
check "systemctl stop xdnatd" cx systemctl stop xdnatd.service
cx systemd-analyze set-log-level info
for u in xdnat-host@eth0 xdnatd; do
	check "$u: stop-sigterm -> dead, exit status 0, deactivated successfully" wait_until 5 bash -c \
		"out=\$(jctl -o cat _PID=1 -u $u --since '$since') &&
		 grep -q 'Changed running -> stop-sigterm' <<< \"\$out\" &&
		 grep -q 'Changed stop-sigterm -> dead' <<< \"\$out\" &&
		 grep -q 'Main process exited, code=exited, status=0/SUCCESS' <<< \"\$out\" &&
		 grep -q 'Deactivated successfully' <<< \"\$out\""
	check "$u: systemd sent no SIGKILL and hit no stop timeout" bash -c \
		"! jctl -o cat _PID=1 -u $u | grep -Ei 'SIGKILL|timed out|result .timeout'"
done
check "xdnatd: KillSignal=15; STOPPING=1 sent, its shutdown logged" wait_until 5 bash -c \
	"[ \"\$(prop xdnatd.service KillSignal)\" = 15 ] &&
	 jctl -o cat _PID=1 -u xdnatd --since '$since' |
	 grep -q 'notification message from PID $PID (STOPPING=1)' &&
	 jctl -o cat -u xdnatd _PID=$PID | grep -q 'signal 15: shutting down'"

machine_stop
check "the container is gone" bash -c "! pgrep -a -x systemd-nspawn | grep -q -- '-M $MACHINE '"
summary
