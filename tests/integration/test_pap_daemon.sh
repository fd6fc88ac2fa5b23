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
start_daemon --lease 30
check "daemon answers on its control socket" "$CTL" --socket "$SOCK" hosts
check "pin directory is on a BPF filesystem inside the netns" bash -c \
	"[ \"\$(nsenter -t $DAEMON -m stat -f -c %T '$TMP/bpf')\" = bpf_fs ]"
probe a phase1
check "xdnatctl hosts --json shows the host and its ports" bash -c \
	"'$CTL' --socket '$SOCK' hosts --json | grep -q '\"address\":\"10.0.0.11\",\"global\":\"198.51.100.1\"'"
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
stop_pid "$SECOND" TERM
stop_pid "$DAEMON" TERM
check "daemon log has no errors" bash -c "! grep -q 'error' '$TMP/xdnatd.log'"
summary
