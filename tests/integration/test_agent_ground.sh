#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The host agent holds its ground (issue 14 items 5 and 6), in the rig
# (rig.sh: xdnatd with its XDP data plane, h1's agent ours):
#
#   G on lo, the rule, the route, the tc filters removed one by one, the
#   sysctls changed -> put back within seconds and logged, and `status`
#   shows the truth meanwhile;
#   --dev deleted and re-created -> everything back; `up --config FILE`;
#   strongswan --dir over a foreign file refused, --take-over works; the
#   agent's binary replaced under it -> `cert` still refreshes updown.sh and
#   the hook still validates; xdnatctl state dump / state backup; an older
#   backup restored on the gateway -> it says how old, the agent validates
#   the lost peer again, and the peer's ESP reaches h1 again.
. "$(dirname "$0")/lib.sh"
require_root
. "$(dirname "$0")/rig.sh"

LEASE=6
if ! rig_up --lease $LEASE; then fail "rig up"; summary; exit 1; fi
pass "rig up: xdnatd (native XDP) and both agents ready"
ctl() { rig_ctl "$@"; }
json_get() { json "$@"; }

# h1's agent is ours from here: taken down, then run from a copy of the
# binary (which the upgrade test replaces) with a config file.
rig_agent_stop 1
rig_in h1 "$XDNAT_HOST" down --socket "$TMP/h1.sock" --state-dir "$TMP/h1" >/dev/null
mkdir -p "$TMP/bin"
cp "$XDNAT_HOST" "$TMP/bin/xdnat-host"
HOST=$TMP/bin/xdnat-host
SOCK=$TMP/h1.sock
ROUTE_MTU=$((INT_MTU - 20))
h1() { rig_in h1 "$HOST" "$@"; }
st() { h1 status --json --socket "$SOCK" | json_get "d['in_place']$1"; }
export -f json json_get h1 st ctl rig_ctl rig_in rig_ns
export PY HOST SOCK H1 TMP RIG_GW_SOCK XDNATCTL

# --- up --config FILE ------------------------------------------------------------
cat > "$TMP/h1.conf" <<CONF
# the agent of h1
gateway = 10.0.0.1
dev = eth0        # towards the gateway
lease = $LEASE
state-dir = $TMP/h1
socket = $SOCK
ports = 999       # the command line says 64
CONF
out=$(ip netns exec "$H1" "$HOST" up --config "$TMP/bad.conf" 2>&1); rc=$?
check "up --config of a missing file: exit 2 naming it" \
	bash -c "[ $rc -eq 2 ] && grep -q 'bad.conf' <<<'$out'"
printf 'gateway = 10.0.0.1\nbogus = 1\n' > "$TMP/bad.conf"
ip netns exec "$H1" "$HOST" up --config "$TMP/bad.conf" > "$TMP/bad.out" 2>&1; rc=$?
check "up --config: an unknown key is refused with FILE:LINE" \
	bash -c "[ $rc -eq 2 ] && grep -q \"bad.conf:2: unknown key 'bogus'\" '$TMP/bad.out'"
rig_bg h1 "$TMP/h1.log" "$HOST" up --config "$TMP/h1.conf" --ports 64 --spis 256
AGENT=$LAST_PID
check "the agent comes up from its config file" \
	wait_until 20 h1 status --socket "$SOCK"
check "the command line wins over the file (--ports 64)" bash -c \
	"[ \"\$(h1 status --json --socket '$SOCK' | json_get \"d['ports'][0]['last'] - d['ports'][0]['first'] + 1\")\" = 64 ]"
rig_read_share 1

# --- status reports what is really in place -----------------------------------------
check "status: address, rule, route and both tc filters in place" bash -c \
	"[ \"\$(st \"['address']\")\$(st \"['rule']\")\$(st \"['route']\")\" = TrueTrueTrue ] &&
	 [ \"\$(st \"['tc_egress']\")\$(st \"['tc_ingress']\")\" = oursours ]"
check "status: the route's mtu read back (eth0's - 20)" bash -c "[ \"\$(st \"['route_mtu']\")\" = $ROUTE_MTU ]"
check "status (text) shows the in-place row" bash -c \
	"h1 status --socket '$SOCK' | grep -q 'address present, rule present, route present'"

# --- each piece removed: restored within seconds, logged ----------------------------
ip -n "$H1" addr del $G/32 dev lo
check "G removed from lo: put back within 5 s" \
	wait_until 5 bash -c "ip -n '$H1' -br addr show dev lo | grep -q '$G/32'"
check "... and the log says so" wait_until 3 grep -q "restored the address $G/32 on lo" "$TMP/h1.log"

ip -n "$H1" rule del from $G lookup 4555
check "rule removed: put back within 5 s" \
	wait_until 5 bash -c "ip -n '$H1' rule show | grep -q 'from $G lookup 4555'"
check "... and the log says so" grep -q "restored the rule 'from $G lookup 4555'" "$TMP/h1.log"

ip -n "$H1" route del default table 4555
check "route removed: put back within 5 s, with its mtu" \
	wait_until 5 bash -c "ip -n '$H1' route show table 4555 | grep -q 'default via 10.0.0.1 dev eth0.*mtu $ROUTE_MTU'"
check "... and the log says so" grep -q "restored the route 'default via 10.0.0.1 dev eth0 table 4555'" "$TMP/h1.log"

# status tells the truth while something is missing: hold the agent still
kill -STOP "$AGENT"
ip netns exec "$H1" tc filter del dev eth0 egress
ip netns exec "$H1" tc filter del dev eth0 ingress
kill -CONT "$AGENT"
# the status request and the restoring check race: the check waits for the
# debounce, the status is served at once
out=$(h1 status --json --socket "$SOCK")
check "status shows the tc filters missing right after they were removed" bash -c \
	"json_get \"d['in_place']['tc_egress']\" <<<'$out' | grep -q missing"
check "tc filters removed: put back within 5 s" \
	wait_until 5 bash -c "[ \"\$(st \"['tc_egress']\")\$(st \"['tc_ingress']\")\" = oursours ]"
check "... and the log says so" grep -q "restored the tc filters" "$TMP/h1.log"
# the sysctls have no netlink event: read back at the periodic check (5 s)
ip netns exec "$H1" sysctl -qw net.ipv4.conf.eth0.arp_ignore=0 net.ipv4.conf.eth0.accept_local=0
check "arp_ignore and accept_local changed by hand: put back within 8 s" \
	wait_until 8 bash -c "[ \"\$(st \"['sysctls']\")\" = True ] &&
		[ \"\$(ip netns exec '$H1' cat /proc/sys/net/ipv4/conf/eth0/arp_ignore)\" = 1 ]"
check "... and the log says so, one warning each" bash -c "grep -q \
	'restored sysctl net.ipv4.conf.eth0.arp_ignore = 1 (was 0): someone changed it' '$TMP/h1.log' &&
	grep -q 'restored sysctl net.ipv4.conf.eth0.accept_local = 1 (was 0)' '$TMP/h1.log'"
check "status counts it" bash -c "[ \"\$(st \"['restored']['sysctls']\")\" = 1 ]"
check "status counts the restorations" bash -c \
	"[ \"\$(st \"['restored']['address']\")\$(st \"['restored']['tc_filters']\")\" = 11 ]"

# a fight: the rule removed again and again -> a warning, and a slower pace
for i in 1 2 3 4; do
	wait_until 10 bash -c "ip -n '$H1' rule show | grep -q 'from $G lookup 4555'"
	ip -n "$H1" rule del from $G lookup 4555
done
check "a rule removed again and again: a warning about the fight" \
	wait_until 10 grep -q "rule removed .* times within 60 s: another network manager" "$TMP/h1.log"
check "... and it is still put back" \
	wait_until 20 bash -c "ip -n '$H1' rule show | grep -q 'from $G lookup 4555'"

# --- the device disappears and comes back -------------------------------------------
ip -n "$H1" link del eth0
check "status: the device gone, route missing" \
	wait_until 5 bash -c "[ \"\$(st \"['dev']\")\$(st \"['route']\")\" = FalseFalse ]"
check "... and the log says it is gone" wait_until 3 grep -q "eth0 is gone" "$TMP/h1.log"
veth_pair "$H1" eth0 "$LAN" ph1
ip -n "$H1" link set eth0 mtu $INT_MTU
ip -n "$LAN" link set ph1 mtu $INT_MTU
ip -n "$LAN" link set ph1 master br0
ip -n "$H1" addr add $H1_ADDR/24 dev eth0
check "--dev re-created: route and tc filters back within 8 s" \
	wait_until 8 bash -c "[ \"\$(st \"['route']\")\$(st \"['tc_egress']\")\$(st \"['tc_ingress']\")\" = Trueoursours ]"
check "... rp_filter, arp_ignore and accept_local as needed again on the new device" \
	bash -c "[ \"\$(ip netns exec '$H1' sh -c 'cd /proc/sys/net/ipv4/conf/eth0 &&
		cat rp_filter arp_ignore accept_local' | tr -d '\n')\" = 011 ]"
check "... and the log says the device came back" grep -q "eth0 is back (ifindex" "$TMP/h1.log"

# --- strongswan --dir over files it did not write --------------------------------------
SW=$TMP/swan
mkdir -p "$SW"
echo "# the site's own" > "$SW/strongswan.conf"
out=$(h1 strongswan --dir "$SW" --esp libipsec --socket "$SOCK" 2>&1); rc=$?
check "strongswan over a foreign strongswan.conf: refused, naming it" \
	bash -c "[ $rc -ne 0 ] && grep -q '$SW/strongswan.conf: not written by xdnat-host' <<<'$out'"
check "... the file left alone" grep -qx "# the site's own" "$SW/strongswan.conf"
check "strongswan --take-over replaces it" h1 strongswan --dir "$SW" --esp libipsec --take-over --socket "$SOCK"
check "... now marked ours" grep -q 'Written by `xdnat-host strongswan`' "$SW/strongswan.conf"
check "updown.sh calls the agent's binary" grep -q "XDNAT_HOST='$HOST'" "$SW/updown.sh"

# --- the binary replaced under the running agent -----------------------------------------
cp "$BUILD/xdnat-host" "$TMP/bin/xdnat-host.new"
mv -f "$TMP/bin/xdnat-host.new" "$TMP/bin/xdnat-host"	# a new inode, as dpkg does
check "the running agent's /proc/PID/exe is deleted now" \
	bash -c "readlink /proc/$AGENT/exe | grep -q '(deleted)'"
check "cert after the upgrade: success, and updown.sh rewritten" h1 cert --socket "$SOCK"
check "... updown.sh names the new binary's path, not a deleted inode" \
	bash -c "grep -q \"XDNAT_HOST='$HOST'\" '$SW/updown.sh' && ! grep -q deleted '$SW/updown.sh'"
check "the hook validates a peer through the new binary" ip netns exec "$H1" env \
	PLUTO_VERB=up-client PLUTO_PEER=$PEER sh "$SW/updown.sh"
check "... the gateway lists the peer" bash -c "ctl sa | grep -q $PEER"

# cert must fail when charon could not be refreshed: a stale vici socket
$PY -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" "$SW/charon.vici"
out=$(h1 cert --socket "$SOCK" 2>&1); rc=$?
check "cert with a charon that cannot be reloaded: exit non-zero with the reason" \
	bash -c "[ $rc -ne 0 ] && grep -q 'charon was not refreshed' <<<'$out'"
rm -f "$SW/charon.vici"

# --- state dump and backup; an older state restored --------------------------------------
check "xdnatctl state dump: JSON with the host, its SA, no secret" bash -c \
	"ctl state dump > '$TMP/dump.json' && json_get \"[s['peer'] for h in d['hosts'] for s in h['sas']]\" < '$TMP/dump.json' | grep -q $PEER && ! grep -qi secret '$TMP/dump.json'"
ctl sa | grep -q $PEER && h1 invalidate $PEER --socket "$SOCK" >/dev/null
check "state backup before the validation" ctl state backup "$TMP/backup"
check "... holds the snapshot and the CA" test -s "$TMP/backup/state.snap" -a -s "$TMP/backup/ca.crt"
h1 validate $PEER --socket "$SOCK" >/dev/null
check "the peer validated after the backup" bash -c "ctl sa | grep -q $PEER"

# ESP from the peer to h1 with h1's SPI: an IKE daemon's SA, as in test_e2e.sh
SA=$TMP/sa.json
rig_py ext sa-new "$SA" in_esp ESP transport $((H1_SPI_FIRST + 4)) $PEER $G >/dev/null
esp_reaches_h1() {	# esp_reaches_h1 NAME: one ESP packet sent, seen decrypted in h1
	rig_bg h1 "$TMP/$1.log" "$PY" "$TRAFFIC" ipsec-recv "$SA" eth0 --until in_esp \
		--timeout 5 --outer $GI $H1_ADDR
	local r=$LAST_PID
	wait_for_line "$TMP/$1.log" ready
	rig_py ext ipsec-send "$SA" in_esp >/dev/null
	wait_pid $r
	grep -q '^seen: in_esp' "$TMP/$1.log"
}
check "ESP from the validated peer reaches h1" esp_reaches_h1 esp-before

rig_gw_stop
mv "$RIG_GW_STATE" "$RIG_GW_STATE.lost"
cp -a "$TMP/backup" "$RIG_GW_STATE"
touch -d '-1 hour' "$RIG_GW_STATE/state.snap"
rig_gw_start
check "xdnatd says how old the restored state is, and that it is older than the longest lease" \
	wait_until 5 grep -q "older than the longest lease" "$RIG_GW_LOG"
check "the agent notices the lost validation and validates the peer again" \
	wait_until 15 bash -c "ctl sa | grep -q $PEER"
# lost validation (QUERY) or lost registration (the lease ran out meanwhile)
check "... and says so" grep -Eq "the gateway lost our validation of peer $PEER|re-validated peer $PEER" "$TMP/h1.log"
rig_read_share 1
rig_py ext sa-new "$SA" in_esp ESP transport $((H1_SPI_FIRST + 4)) $PEER $G >/dev/null
check "ESP from the peer reaches h1 again" esp_reaches_h1 esp-after

stop_pid "$AGENT"
summary
