#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Guard rails (issue 14): ordinary mistakes refused with one line, and the
# running gateway forwarding through each of them. On the end-to-end rig:
#   a second xdnatd on the same NICs (another G, its own pins), on the same
#   pin directory, on the same PAP port; --unload under a running daemon;
#   abbreviated options (xdnatd, xdnatctl, xdnat-host); --check-config; a
#   reload that names the key it cannot apply (log and xdnatctl status); the
#   external and the internal NIC deleted and re-created (programs back, PAP
#   bound again); a restart of the same instance (takes over its own programs).
# On a namespace of its own: a failed native attach (a bridge has no native
# XDP) leaves sysctls (forwarding, reserved ports), pins and programs as they
# were, first with nothing attached, then over a generic-mode instance.
. "$(dirname "$0")/lib.sh"
require_root
. "$(dirname "$0")/rig.sh"

printf 'lease = 300\n' > "$TMP/gw.conf"
RIG_GW_FLAGS=(--config "$TMP/gw.conf")
if ! rig_up; then fail "rig up"; summary; exit 1; fi
pass "rig up: xdnatd (native XDP) and both agents ready"

# the XDP program ids on the gateway's NICs, "ext0:ID int0:ID"
xdp_ids() {
	local i
	for i in ext0 int0; do
		echo -n "$i:$(ip -n "$GW" -d link show "$i" | sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p') "
	done
}
# forwards: 20 numbered datagrams from the peer to G reach h1 (the gateway's
# own stack holds G on lo: only gw_ext's tunnel takes them to h1)
FWD=0
forwards() {
	local port=$((H1_PORT_FIRST + 40 + FWD)) log=$TMP/fwd-$FWD.log r
	FWD=$((FWD + 1))
	rig_bg h1 "$log" "$PY" "$TRAFFIC" stream-recv $G $port 20 2 10
	r=$LAST_PID
	wait_for_line "$log" ready || return 1
	rig_py ext stream-send $PEER $G $port 20 200 >/dev/null
	wait_pid $r
	cat "$log"
	grep -q "received 20 of 20" "$log"
}
# refused RC PATTERN: the last command exited RC with one line, matching
refused() { [ "$RC" = "$1" ] && [ "$(grep -c . <<<"$OUT")" = 1 ] && grep -q -- "$2" <<<"$OUT"; }
# has_lines PATTERN...: each matches a line of the last command's output
has_lines() { local p; for p in "$@"; do grep -q -- "$p" <<<"$OUT" || return 1; done; }
# one_error OUT PATTERN: OUT has exactly one error line, and it matches
one_error() { [ "$(grep -c 'error' <<<"$1")" = 1 ] && grep 'error' <<<"$1" | grep -q -- "$2"; }
# second ARGS...: another xdnatd in gw (foreground); output in OUT, status in RC
second() {
	OUT=$(timeout 20 ip netns exec "$GW" "$XDNATD" --foreground "$@" 2>&1); RC=$?
}

check "before: the first xdnatd forwards (peer -> G -> h1)" forwards
IDS=$(xdp_ids)
echo "    programs: $IDS"

# --- a second instance ---------------------------------------------------------------
mount_bpffs "$TMP/bpf2"
second --global 198.51.100.2 --internal $GI --ext-if ext0 --int-if int0 --bpffs "$TMP/bpf2" \
	--state-dir "$TMP/second" --socket "$TMP/second.sock" --pap-port 4556 --ports 30000-30999
check "a second xdnatd (another G, own pins) on the same NICs: exit 1" test "$RC" = 1
check "... with one line: the program belongs to another xdnatd" \
	one_error "$OUT" 'ext0: gw_ext (id [0-9]*) belongs to another xdnatd'
echo "$OUT" | grep error | sed 's/^/    /'
check "... nothing pinned in its pin directory" test -z "$(ls "$TMP/bpf2" | grep xdnat_)"
check "... the first's programs still attached ($IDS)" test "$(xdp_ids)" = "$IDS"
check "... and the first still forwards" forwards

second --global 198.51.100.2 --internal $GI --ext-if ext0 --int-if int0 --bpffs "$RIG_BPFFS" \
	--state-dir "$TMP/second" --socket "$TMP/second.sock" --pap-port 4556 --ports 30000-30999
check "a second xdnatd on the first's pin directory: exit 1, one line" bash -c \
	"[ $RC = 1 ] && [ \"\$(grep -c error <<<\"\$0\")\" = 1 ] &&
	 grep -q -- '--bpffs $RIG_BPFFS: in use by another xdnatd' <<<\"\$0\"" "$OUT"
check "... the first's programs still attached" test "$(xdp_ids)" = "$IDS"

second --global 198.51.100.2 --internal $GI --state-dir "$TMP/third" --socket "$TMP/third.sock" \
	--ports 30000-30999
check "a second xdnatd on the same PAP port (no SO_REUSEADDR): exit 1" test "$RC" = 1
check "... with one line: PAP port 4555 on $GI in use" \
	one_error "$OUT" "PAP port 4555 on $GI: in use by another xdnatd"
check "... only the first has a socket on port 4555" bash -c \
	"[ \"\$(ip netns exec '$GW' ss -Hulnp 'sport = :4555' | grep -c xdnatd)\" = 1 ]"
check "... its control socket is not left behind" test ! -e "$TMP/third.sock"
check "... the first answers PAP (a new host registers and takes 32 ports)" \
	rig_in h1 "$BUILD/itest/pap_probe" $GI 4555 "$TMP/probe.session" hold
check "... and the first still forwards" forwards

# --- --unload while the daemon runs ---------------------------------------------------
OUT=$(ip netns exec "$GW" "$XDNATD" --unload --ext-if ext0 --int-if int0 --bpffs "$RIG_BPFFS" \
	--state-dir "$RIG_GW_STATE" 2>&1); RC=$?
check "--unload with the running daemon's state directory: exit 1, one line" \
	refused 1 "a running xdnatd holds $RIG_GW_STATE: stop it first"
OUT=$(ip netns exec "$GW" "$XDNATD" --unload --ext-if ext0 --int-if int0 --bpffs "$RIG_BPFFS" \
	--state-dir "$TMP/other-state" 2>&1); RC=$?
check "--unload with its pin directory (another state directory): exit 1, one line" \
	refused 1 "a running xdnatd holds --bpffs $RIG_BPFFS: stop it first"
check "... programs still attached, pins still there" bash -c \
	"[ '$(xdp_ids)' = '$IDS' ] && [ -e '$RIG_BPFFS/xdnat_cfg' ]"
check "... and the first still forwards" forwards

# --- exact option names -----------------------------------------------------------------
OUT=$(ip netns exec "$GW" "$XDNATD" --unl --ext-if ext0 --int-if int0 --bpffs "$RIG_BPFFS" \
	2>&1); RC=$?
check "xdnatd --unl (getopt would take it for --unload): exit 2, one line" \
	refused 2 "unknown option '--unl' (option names are not abbreviated"
OUT=$(ip netns exec "$GW" "$XDNATD" --un 2>&1); RC=$?
check "xdnatd --un: exit 2, one line" refused 2 "'--un'"
OUT=$("$XDNATCTL" --socket "$RIG_GW_SOCK" --jso hosts 2>&1); RC=$?
check "xdnatctl --jso: exit 2, one line" refused 2 "unknown option '--jso'"
OUT=$(rig_in h1 "$XDNAT_HOST" down --state-d "$TMP/h1" 2>&1); RC=$?
check "xdnat-host down --state-d: exit 2, one line" refused 2 "unknown option '--state-d'"
check "... the agent stays up" kill -0 "$RIG_AGENT1_PID"
OUT=$(rig_in h1 "$XDNAT_HOST" status --jso --socket "$TMP/h1.sock" 2>&1); RC=$?
check "xdnat-host status --jso: exit 2, one line" refused 2 "unknown option '--jso'"
check "... programs still attached, the first still forwards" bash -c \
	"[ '$(xdp_ids)' = '$IDS' ]"
check "... (forwarding)" forwards

# --- --check-config -----------------------------------------------------------------------
printf 'global = 198.51.100.1\nlease = 60\n' > "$TMP/ok.conf"
OUT=$("$XDNATD" --check-config --config "$TMP/ok.conf" 2>&1); RC=$?
check "--check-config of a valid file: exit 0, says so" bash -c \
	"[ $RC = 0 ] && grep -qx 'xdnatd: the configuration is valid: $TMP/ok.conf' <<<'$OUT'"
printf 'global = 198.51.100.1\nlease = 3\nbogus = 1\nports = 9-1\n' > "$TMP/bad.conf"
OUT=$("$XDNATD" --check-config --config "$TMP/bad.conf" --ext-if nosuch0 2>&1); RC=$?
echo "$OUT" | sed 's/^/    /'
check "--check-config, 3 errors in the file and a NIC missing: exit 2, 4 lines" bash -c \
	"[ $RC = 2 ] && [ \"\$(grep -c . <<<\"\$0\")\" = 4 ]" "$OUT"
check "... each naming its line or NIC" has_lines "$TMP/bad.conf:2: bad value for lease" \
	"$TMP/bad.conf:3: unknown key 'bogus'" "$TMP/bad.conf:4: bad value for ports" \
	"--ext-if nosuch0: no such interface"
OUT=$("$XDNATD" --check-config --config "$TMP/ok.conf" --ext-if nosuch0 --int-if nosuch1 \
	--internal 10.0.0.1 2>&1); RC=$?
check "--check-config: NICs that do not exist, one line each" bash -c \
	"[ $RC = 2 ] && [ \"\$(grep -c 'no such interface' <<<\"\$0\")\" = 2 ]" "$OUT"

# --- a reload names the key it cannot apply ---------------------------------------------
printf 'lease = 200\npap-port = 4600\nmax-hosts = 100\n' > "$TMP/gw.conf"
kill -HUP "$RIG_GW_PID"
check "SIGHUP with a new pap-port: the log names it as needing a restart" \
	wait_for_line "$RIG_GW_LOG" 'reload: pap-port changed but needs a restart'
check "... and no other key (lease and max-hosts apply)" bash -c \
	"[ \"\$(grep -c 'needs a restart' '$RIG_GW_LOG')\" = 1 ]"
check "xdnatctl status: restart pending pap-port" bash -c \
	"'$XDNATCTL' --socket '$RIG_GW_SOCK' status | grep -qx 'restart pending  pap-port'"
check "xdnatctl status --json: restart_pending [pap-port]" bash -c \
	"'$XDNATCTL' --socket '$RIG_GW_SOCK' status --json |
	 '$PY' -c 'import json,sys; d=json.load(sys.stdin); sys.exit(d[\"restart_pending\"] != [\"pap-port\"])'"
check "... PAP still on port 4555" bash -c \
	"[ \"\$(ip netns exec '$GW' ss -Hulnp 'sport = :4555' | grep -c xdnatd)\" = 1 ]"
check "... and the first still forwards" forwards

# --- the external NIC deleted and re-created ----------------------------------------------
ip -n "$GW" link del ext0
veth_pair "$GW" ext0 "$WAN" pgw
ip -n "$WAN" link set pgw master br0
ip netns exec "$WAN" ethtool -K pgw gro on >/dev/null
ip -n "$GW" addr add $GW_EXT/24 dev ext0
ip -n "$GW" route replace default via $ROUTER dev ext0
check "ext0 re-created: xdnatd says so and attaches gw_ext again" \
	wait_for_line "$RIG_GW_LOG" 'ext0 is back (ifindex [0-9]*, was [0-9]*): gw_ext attached again'
grep -h 'ext0 is' "$RIG_GW_LOG" | sed 's/^/    /'
check "... gw_ext is on the new ext0" bash -c \
	"ip -n '$GW' link show ext0 | grep -q 'prog/xdp id [0-9]* name gw_ext'"
check "... and the gateway forwards through it" forwards

# --- the internal NIC deleted and re-created ----------------------------------------------
ip -n "$GW" link del int0
veth_pair "$GW" int0 "$LAN" pgw
ip -n "$GW" link set int0 mtu $INT_MTU
ip -n "$LAN" link set pgw mtu $INT_MTU
ip -n "$LAN" link set pgw master br0
ip netns exec "$LAN" ethtool -K pgw gro on >/dev/null
ip -n "$GW" addr add $GI/24 dev int0
check "int0 re-created: gw_int attached again" \
	wait_for_line "$RIG_GW_LOG" 'int0 is back (ifindex [0-9]*, was [0-9]*): gw_int attached again'
check "... and PAP bound to the new int0" \
	wait_for_line "$RIG_GW_LOG" 'int0 is new (ifindex [0-9]*): PAP bound to it again'
grep -h 'int0 is' "$RIG_GW_LOG" | sed 's/^/    /'
check "... PAP answers on it (the probe's host still holds its ports)" \
	rig_in h1 "$BUILD/itest/pap_probe" $GI 4555 "$TMP/probe.session" check
check "... and the gateway forwards through it" forwards
IDS=$(xdp_ids)

# --- a restart of the same instance takes its own programs over -----------------------------
printf 'lease = 300\n' > "$TMP/gw.conf"
rig_gw_stop TERM
check "restart: the same state and pin directory start again" rig_gw_start
grep -h 'XDP program' "$RIG_GW_LOG" | sed 's/^/    /'
check "... replacing its own programs in place" bash -c \
	"grep -q 'ext0: replaced XDP program id' '$RIG_GW_LOG' &&
	 grep -q 'int0: replaced XDP program id' '$RIG_GW_LOG'"
check "... restart pending: none" bash -c \
	"'$XDNATCTL' --socket '$RIG_GW_SOCK' status | grep -qx 'restart pending  none'"
check "... and it forwards" forwards

# --- a failed start undoes what it changed ------------------------------------------------
ns_add fs FS
ip -n "$FS" link add ve0 type veth peer name ve1
ip -n "$FS" link add br0 type bridge	# no native XDP in the bridge driver
for i in ve0 ve1 br0; do ip -n "$FS" link set "$i" up; done
ip -n "$FS" addr add 10.0.9.1/24 dev br0
mount_bpffs "$TMP/bpf3"
fs_state() {	# forwarding of ve0 and br0, XDP on them, the pins, the reserved ports
	echo "fwd $(ip netns exec "$FS" cat /proc/sys/net/ipv4/conf/ve0/forwarding)" \
		"$(ip netns exec "$FS" cat /proc/sys/net/ipv4/conf/br0/forwarding);" \
		"xdp $(ip -n "$FS" -d link show ve0 | grep -o 'prog/xdp[a-z]* id [0-9]*')" \
		"$(ip -n "$FS" -d link show br0 | grep -o 'prog/xdp[a-z]* id [0-9]*');" \
		"pins $(ls "$TMP/bpf3" | grep -c xdnat_);" \
		"reserved '$(ip netns exec "$FS" cat /proc/sys/net/ipv4/ip_local_reserved_ports)'"
}
fs_start() {	# fs_start MODE: xdnatd on ve0 (external) and br0 (internal)
	OUT=$(timeout 20 ip netns exec "$FS" "$XDNATD" --global 198.51.100.9 --internal 10.0.9.1 \
		--ext-if ve0 --int-if br0 --xdp-mode "$1" --bpffs "$TMP/bpf3" \
		--state-dir "$TMP/fs-state" --socket "$TMP/fs.sock" --foreground 2>&1); RC=$?
}
BEFORE=$(fs_state)
echo "    before: $BEFORE"
fs_start native
check "native attach on a bridge: exit 1, naming the attach" bash -c \
	"[ $RC = 1 ] && grep -q 'attaching gw_int[a-z_]* to br0 in native mode' <<<'$OUT'"
check "... forwarding sysctls, programs, pins and reserved ports as before ($BEFORE)" \
	test "$(fs_state)" = "$BEFORE"
echo "    after: $(fs_state)"

# over a running data plane: a generic-mode instance stopped (programs stay), then native
ip netns exec "$FS" "$XDNATD" --global 198.51.100.9 --internal 10.0.9.1 --ext-if ve0 \
	--int-if br0 --xdp-mode generic --bpffs "$TMP/bpf3" --state-dir "$TMP/fs-state" \
	--socket "$TMP/fs.sock" --foreground > "$TMP/fs-generic.log" 2>&1 &
FSPID=$!
PIDS+=("$FSPID")
check "a generic-mode instance on ve0 and br0 serves" wait_for_socket "$TMP/fs.sock"
stop_pid "$FSPID"
BEFORE=$(fs_state)
echo "    before: $BEFORE"
fs_start native
check "then native over it: exit 1" test "$RC" = 1
check "... its generic programs back, sysctls and pins as they were ($BEFORE)" \
	test "$(fs_state)" = "$BEFORE"
echo "    after: $(fs_state)"
grep -h 'as before this start\|back in place' <<<"$OUT" | sed 's/^/    /'
summary
