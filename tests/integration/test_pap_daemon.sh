#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# A real xdnatd in a network namespace, driven over a veth by the PAP client
# library: register, ports, SPIs, validate, extend, free, deregister, restart
# (clean and kill -9) with state restored, corrupt state refused, flags,
# instances side by side, SIGHUP reload.
. "$(dirname "$0")/lib.sh"
require_root

ns_add gw GW
ns_add h1 H1
veth_link "$GW" int0 10.0.0.1/24 "$H1" eth0 10.0.0.11/24
XDNATD=$BUILD/xdnatd
CTL=$BUILD/xdnatctl
PROBE=$BUILD/itest/pap_probe
SOCK=$TMP/xdnatd.sock
STATE=$TMP/state
PORT=4555

start_daemon() {	# start_daemon [extra flags]
	rm -f "$SOCK"
	start_bg "$GW" "$TMP/xdnatd.log" "$XDNATD" --global 198.51.100.1 --internal 10.0.0.1 \
		--int-if int0 --state-dir "$STATE" --socket "$SOCK" --bpffs "$TMP/bpf" \
		--ports 20000-29999 --spis 4096-1048575 --min-lease 5 --foreground "$@"
	DAEMON=$LAST_PID
	wait_for_socket "$SOCK"
}
probe() { count_lines < <(ip netns exec "$H1" "$PROBE" 10.0.0.1 "$PORT" "$TMP/$1.session" "$2"); }

# --- flags -----------------------------------------------------------------
out=$("$XDNATD" --global 198.51.100.1 --ports 9-2 2>&1); rc=$?
check "bad value: exit 2 with a one-line error" \
	test "$rc" -eq 2 -a "$(echo "$out" | wc -l)" -eq 1
out=$("$XDNATD" --no-such-flag 2>&1); rc=$?
check "unknown flag: exit 2" test "$rc" -eq 2
out=$("$XDNATD" --ports 1-2 2>&1); rc=$?
check "missing --global: exit 2 naming it" grep -q -- --global <<<"$out"
check "--help lists every documented flag" bash -c "\"$XDNATD\" --help | grep -c -- '--' | \
	awk '{exit !(\$1 >= 19)}'"
out=$("$XDNATD" --global 198.51.100.1 --ext-if nosuchif0 --state-dir "$TMP/x" \
	--socket "$TMP/x.sock" --foreground 2>&1); rc=$?
check "unknown interface: a clear error" grep -q "nosuchif0: no such interface" <<<"$out"

# --- the protocol against a live daemon --------------------------------------
# The operator's reserved ports (kept by xdnatd, which adds its --ports).
reserved() { ip netns exec "$GW" cat /proc/sys/net/ipv4/ip_local_reserved_ports; }
holds_ours() {	# one range of the sysctl covers 20000-29999
	reserved | tr , '\n' | awk -F- '$1 <= 20000 && ($2 == "" ? $1 : $2) >= 29999 {f = 1}
		END {exit !f}'
}
export -f reserved holds_ours; export GW
ip netns exec "$GW" sysctl -qw net.ipv4.ip_local_reserved_ports=8080,9000-9100
start_daemon --lease 30
check "--ports reserved in ip_local_reserved_ports, the operator's entries kept" \
	bash -c "[ \"\$(reserved)\" = 8080,9000-9100,20000-29999 ]"
check "the part xdnatd added is remembered in the state directory" \
	grep -qx 20000-29999 "$STATE/reserved_ports"
check "the reservation is logged once" \
	bash -c "[ \$(grep -c 'reserved for the hosts' '$TMP/xdnatd.log') -eq 1 ]"
check "daemon answers on its control socket" "$CTL" --socket "$SOCK" hosts
check "pin directory is on a BPF filesystem inside the netns" bash -c \
	"[ \"\$(nsenter -t $DAEMON -m stat -f -c %T '$TMP/bpf')\" = bpf_fs ]"
probe a phase1
check "xdnatctl hosts --json shows the host and its ports" bash -c \
	"'$CTL' --socket '$SOCK' hosts --json | grep -q '\"address\":\"10.0.0.11\",\"global\":\"198.51.100.1\"'"
check "xdnatctl hosts --global G: the host holding G, and G named" bash -c \
	"'$CTL' --socket '$SOCK' hosts --global 198.51.100.1 --json |
	 grep '\"address\":\"10.0.0.11\"' | grep -q '\"global\":\"198.51.100.1\",\"ports_free\"'"
check "xdnatctl hosts --global of an address not in the pool: refused" bash -c \
	"! '$CTL' --socket '$SOCK' hosts --global 192.0.2.9 2>/dev/null"
check "xdnatctl stats: hosts and free ports per address of the pool" bash -c \
	"'$CTL' --socket '$SOCK' stats --json | grep -qE '\"pool\":\\[\\{\"global\":\"198.51.100.1\",\"hosts\":[1-9],\"ports_free\":[0-9]+,' &&
	 '$CTL' --socket '$SOCK' stats | grep -qE '^198\\.51\\.100\\.1 +[1-9] +[0-9]+ +[0-9]+$'"
check "xdnatctl sa shows the validated peer" bash -c \
	"'$CTL' --socket '$SOCK' sa | grep -q 203.0.113.10"
check "xdnatctl stats counts the requests" bash -c \
	"'$CTL' --socket '$SOCK' stats --json | grep -q '\"register\":4'"	# each with its cookie
check "xdnatctl free of an unknown host fails" bash -c "! '$CTL' --socket '$SOCK' free 999"

# A second daemon on the same state directory must refuse.
out=$(ip netns exec "$GW" "$XDNATD" --global 198.51.100.1 --state-dir "$STATE" \
	--socket "$TMP/other.sock" --pap-port 4556 --foreground 2>&1); rc=$?
check "second daemon on the same state dir refused" \
	bash -c "[ $rc -ne 0 ] && grep -q 'in use' <<<'$out'"

# --- clean restart -----------------------------------------------------------
stop_pid "$DAEMON" TERM
check "clean shutdown wrote a snapshot" test -s "$STATE/state.snap"
start_daemon
probe a phase2

# --- kill -9 restart: the journal alone carries the state ---------------------
probe b hold
stop_pid "$DAEMON" KILL
start_daemon
probe b check

# --- the allocation log: who held a port before, during, after -------------
# Seconds apart: the log's times have a second's resolution.
ALOG=$STATE/alloc.log
who() { "$CTL" --alloc-log "$ALOG" who 198.51.100.1 "$@"; }
t_before=$(date -u +%s); sleep 1
probe e hold
grant=$("$CTL" --alloc-log "$ALOG" log export --since "@$t_before" | grep '"event":"grant"' | tail -1)
eport=$(sed -n 's/.*"first":\([0-9]*\).*/\1/p' <<<"$grant")
ecid=$(sed -n 's/.*"client":\([0-9]*\).*/\1/p' <<<"$grant")
t_during=$(date -u +%s)
stop_pid "$DAEMON" KILL
start_daemon
check "kill -9: the grant's line was on disk before its reply" bash -c \
	"[ -n '$eport' ] && [ -n '$ecid' ] && grep -q '\"client\":$ecid,' '$ALOG'"
sleep 1
probe e free
t_after=$(date -u +%s)
export -f who; export CTL ALOG
check "who before the grant: nobody" bash -c "who $((eport + 3)) --at @$t_before | grep -q ': nobody\$'"
check "who while held: the host" bash -c \
	"who $((eport + 3)) --at @$t_during | grep -q 'client $ecid, host 10.0.0.11, ports $eport-'"
check "who after the free: nobody" bash -c "who $((eport + 3)) --at @$t_after | grep -q ': nobody\$'"
check "who --json while held: held, client, until the free" bash -c \
	"who $((eport + 3)) --at @$t_during --json | grep -q '\"held\":true,\"client\":$ecid,.*\"end_event\":\"free\"'"
check "log export: JSON lines, the grant and the free of the block" bash -c \
	"'$CTL' --alloc-log '$ALOG' log export --since @$t_before | grep '\"client\":$ecid,' | \
	 grep -E '\"event\":\"(grant|free)\",' | awk 'END {exit NR != 2}'"

# --- corrupt state is an error, never a silent empty start ------------------
stop_pid "$DAEMON" TERM
cp "$STATE/state.snap" "$TMP/good.snap"
size=$(stat -c %s "$STATE/state.snap")
printf '\xff' | dd of="$STATE/state.snap" bs=1 seek=$((size / 2)) conv=notrunc status=none
out=$(ip netns exec "$GW" "$XDNATD" --global 198.51.100.1 --internal 10.0.0.1 \
	--state-dir "$STATE" --socket "$SOCK" --foreground 2>&1); rc=$?
check "corrupt snapshot: refuses to start" test "$rc" -ne 0
check "corrupt snapshot: the error names the file" grep -q "$STATE/state.snap" <<<"$out"
check "corrupt snapshot: the last good copy is kept" test -s "$STATE/state.snap.prev"
cp "$TMP/good.snap" "$STATE/state.snap"
start_daemon
probe b check

# --- SIGHUP reload and a second instance side by side -----------------------
printf 'lease = 45\n# comment\nmax-lease = 90\n' > "$TMP/xdnatd.conf"
stop_pid "$DAEMON" TERM
start_daemon --config "$TMP/xdnatd.conf"
printf 'lease = 50\nmax-lease = 90\n' > "$TMP/xdnatd.conf"
kill -HUP "$DAEMON"
sleep 0.3
probe c hold
check "SIGHUP reloaded the lease from the config file" bash -c \
	"'$CTL' --socket '$SOCK' hosts --json | grep -q '\"lease_seconds\":50'"
start_bg "$GW" "$TMP/second.log" "$XDNATD" --global 198.51.100.2 --internal 10.0.0.1 \
	--pap-port 4666 --state-dir "$TMP/state2" --socket "$TMP/second.sock" --foreground
SECOND=$LAST_PID
wait_for_socket "$TMP/second.sock"
count_lines < <(ip netns exec "$H1" "$PROBE" 10.0.0.1 4666 "$TMP/d.session" hold)
check "second instance keeps its own table" bash -c \
	"'$CTL' --socket '$TMP/second.sock' hosts --json | grep -q 198.51.100.2 && \
	 ! '$CTL' --socket '$SOCK' hosts --json | grep -q 198.51.100.2"
check "SIGHUP: the running --ports stay reserved" holds_ours
stop_pid "$SECOND" TERM
stop_pid "$DAEMON" TERM
check "daemon log has no errors" bash -c "! grep -q 'error' '$TMP/xdnatd.log'"

# --- reserved ports: kept across a stop, given back by --unload -----------------
check "after a stop the reservation stays (the maps still forward)" holds_ours
for d in "$STATE" "$TMP/state2"; do
	ip netns exec "$GW" "$XDNATD" --global 198.51.100.1 --unload --state-dir "$d" \
		--bpffs "$TMP/bpf" > "$TMP/unload.log" 2>&1
done
check "--unload gives back xdnatd's part only" bash -c "[ \"\$(reserved)\" = 8080,9000-9100 ]"
check "--unload forgets the part" test ! -e "$STATE/reserved_ports"
# /proc/sys read-only (as in many containers): an overlap with the ephemeral
# range is refused, one line naming it; outside the range xdnatd starts.
ro_xdnatd() {	# ro_xdnatd PORTS: xdnatd with a read-only /proc/sys, until it stops or 3 s
	ip netns exec "$GW" unshare -m sh -c 'mount --bind /proc/sys /proc/sys &&
		mount -o remount,bind,ro /proc/sys && exec timeout 3 "$@"' sh \
		"$XDNATD" --global 198.51.100.1 --internal 10.0.0.1 --ports "$1" \
		--state-dir "$TMP/ro-$1" --bpffs "$TMP/bpf-ro" --socket "$TMP/ro.sock" --pap-port 4777 --foreground 2>&1
}
out=$(ro_xdnatd 30000-39999); rc=$?
check "read-only sysctl, --ports overlapping the ephemeral range: refused" \
	bash -c "[ $rc -eq 1 ] && [ \$(grep -c error <<<'$out') -eq 1 ] && \
		 grep -q 'overlaps the ephemeral ports 32768-60999' <<<'$out'"
out=$(ro_xdnatd 10000-19999); rc=$?
check "read-only sysctl, --ports outside it: starts (stopped by timeout)" \
	bash -c "[ $rc -eq 124 ] && grep -q 'no overlap' <<<'$out'"
check "nothing written to the sysctl by either" bash -c "[ \"\$(reserved)\" = 8080,9000-9100 ]"
summary
