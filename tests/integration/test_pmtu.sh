#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Path MTU across a 1400-byte external link (rig.sh, whose internal links
# stay at 1520), both ways, IPsec included:
#
#   The external link drops to 1400 while everything runs: xdnatd follows the
#   NIC (xdnat_cfg, PAP EXT_MTU). A host whose route still says 1500 (it
#   registered before) sends an oversized DF ping: "Frag needed" at the host,
#   from the gateway, through the tunnel; DF clear: dropped and counted as
#   too_big_not_df. 1 MB of TCP from that host to the peer and back finds the
#   path MTU (the peer advertises MSS 1460). A restarted agent sets its route
#   from EXT_MTU (mtu 1400, advmss 1360): nothing is set by hand on a host.
#   ESP (scapy SAs) across the link both ways; a router's frag-needed quoting
#   the host's ESP reaches that host (RFC 4301 6); an oversized DF ESP gets
#   frag-needed at the host. Every drop under its reason, none as no_route.
#   A running agent learns the new MTU at its next renewal (EXTEND_REPLY).
#   xdnatd warns when the internal MTU falls below the external one + 20.
. "$(dirname "$0")/lib.sh"
require_root
. "$(dirname "$0")/rig.sh"

LINK=1400
T0=$SECONDS
if ! rig_up; then fail "rig up"; summary; exit 1; fi
pass "rig up: xdnatd and both agents ready in $((SECONDS - T0)) s"

export -f json rig_ns rig_in rig_ctl rig_host rig_dp
export PY TRAFFIC XDNATCTL XDNAT_HOST RIG_GW_SOCK TMP EXT ATK RTR WAN GW LAN H1 H2

delta() { echo $(($(rig_dp "$2") - $1)); }
route_of() { rig_in "h$1" ip route show table 4555; }
NO_ROUTE0=$(rig_dp no_route)

check "no internal MTU warning at start (int0 $INT_MTU >= ext0 $EXT_MTU + 20)" \
	bash -c "! grep 'is below' '$RIG_GW_LOG'"
check "h1's route to G's default fits the tunnel (mtu $EXT_MTU): EXT_MTU $EXT_MTU" \
	bash -c "ip netns exec '$H1' ip route show table 4555 | grep -q 'mtu $EXT_MTU advmss $((EXT_MTU - 40))'"

# --- the external link becomes 1400 --------------------------------------------------
# The gateway's ext0 and everything on the external switch. The peer still
# advertises MSS 1460, as a peer on a larger link behind a 1400 one would:
# only PMTU discovery keeps a host's TCP within the link.
ip -n "$GW" link set ext0 mtu $LINK
# The peer sits behind the rig's router, on a 1500 link of its own: the
# router's port on the switch is on the 1400 link too.
for p in prtr patk pgw br0; do ip -n "$WAN" link set $p mtu $LINK; done
ip -n "$RTR" link set eth0 mtu $LINK
ip -n "$ATK" link set eth0 mtu $LINK
ip -n "$EXT" route replace default via $ROUTER_BEYOND advmss 1460
check "xdnatd follows ext0: external MTU $LINK told to hosts" \
	wait_for_line "$RIG_GW_LOG" "external MTU $LINK" 15

rig_bg ext "$TMP/serve.log" "$PY" "$TRAFFIC" serve $PEER 7 7
wait_for_line "$TMP/serve.log" ready || fail "echo server in ext did not start"

# --- a host with a route of 1500 -----------------------------------------------------
b=$(rig_dp icmp_frag_to_host)
rig_in h1 ping -c 3 -i 0.3 -W 2 -M do -s $((EXT_MTU - 28)) -I $G $PEER >"$TMP/ping-df.out" 2>&1
sed 's/^/    /' "$TMP/ping-df.out"
check "h1: a $EXT_MTU-byte DF ping gets 'Frag needed (mtu = $LINK)' from the gateway" \
	grep -Eq "Frag needed.*mtu = $LINK|message too long, mtu=$LINK" "$TMP/ping-df.out"
check "  counted as icmp_frag_to_host (the tunnelled frag-needed)" \
	test "$(delta "$b" icmp_frag_to_host)" -ge 1
check "  h1's kernel learned the path MTU $LINK to the peer" \
	bash -c "ip netns exec '$H1' ip route get $PEER from $G | grep -q 'mtu $LINK'"

b=$(rig_dp too_big_not_df)
rig_in h2 ping -c 3 -i 0.3 -W 1 -M dont -s $((EXT_MTU - 28)) -I $G $PEER >"$TMP/ping-nodf.out" 2>&1
check "h2: $EXT_MTU bytes with DF clear (XDP does not fragment): 3 drops as too_big_not_df" \
	test "$(delta "$b" too_big_not_df)" = 3

b=$(rig_dp icmp_frag_to_host)
check "h2 (route mtu $EXT_MTU): 1 MB of TCP to the peer and back, PMTU discovery at work" \
	rig_py h2 tcp-echo $G $((H2_PORT_FIRST + 3)) $PEER 7 1000000
sed 's/^/    /' "$TMP/check.out"
check "  the gateway told h2 the path MTU (icmp_frag_to_host +$(delta "$b" icmp_frag_to_host))" \
	test "$(delta "$b" icmp_frag_to_host)" -ge 1
check "  h2's kernel learned mtu $LINK for the peer" \
	bash -c "ip netns exec '$H2' ip route get $PEER from $G | grep -q 'mtu $LINK'"

# --- the agent sets the route from EXT_MTU ---------------------------------------------
rig_agent_stop 1
rig_agent_start 1
wait_until 30 rig_ready || fail "h1's agent did not come back"
check "h1's agent: the gateway's external MTU from PAP" grep -q "external MTU $LINK" "$TMP/h1.log"
check "h1's route: mtu $LINK advmss $((LINK - 40)), from EXT_MTU (nothing set by hand)" \
	bash -c "ip netns exec '$H1' ip route show table 4555 | grep -q 'mtu $LINK advmss $((LINK - 40))'"
rig_in h1 ip route flush cache
b=$(rig_dp icmp_frag_to_host)
rig_in h1 ping -c 2 -i 0.3 -W 2 -M do -s $((LINK + 1 - 28)) -I $G $PEER >"$TMP/ping-big.out" 2>&1
check "h1: a $((LINK + 1))-byte DF ping: 'message too long, mtu=$LINK' at h1 itself" \
	grep -q "message too long, mtu=$LINK" "$TMP/ping-big.out"
check "  nothing reached the gateway" test "$(delta "$b" icmp_frag_to_host)" = 0
check "h1: $LINK-byte DF pings: 3 of 3 answered" bash -c \
	"ip netns exec '$H1' ping -c 3 -i 0.2 -W 2 -M do -s $((LINK - 28)) -I $G $PEER | \
	 grep -q '3 packets transmitted, 3 received'"
b=$(rig_dp icmp_frag_to_host)
check "h1: 1 MB of TCP to the peer and back within the route's MTU" \
	rig_py h1 tcp-echo $G $((H1_PORT_FIRST + 3)) $PEER 7 1000000
sed 's/^/    /' "$TMP/check.out"
check "  no frag-needed needed" test "$(delta "$b" icmp_frag_to_host)" = 0

# --- ESP across the 1400 link ------------------------------------------------------------
rig_read_share 1
SA=$TMP/sa.json
sa() { rig_py ext sa-new "$SA" "$@" >/dev/null; }
sa in_esp	ESP transport	$((H1_SPI_FIRST + 4)) $PEER $G
sa out_esp	ESP transport	0x7e0000a1 $G $PEER
sa big_esp	ESP transport	0x7e0000b2 $G $ATTACKER
check "h1 validates the peer" rig_host 1 validate $PEER

recv() {	# recv NS NAME UNTIL [--outer ...]: a scapy receiver in the background
	local ns=$1 name=$2 until=$3; shift 3
	rig_bg "$ns" "$TMP/$name.log" "$PY" "$TRAFFIC" ipsec-recv "$SA" eth0 \
		--until "$until" --timeout 10 "$@"
	RECV=$LAST_PID
	wait_for_line "$TMP/$name.log" ready
}
recv h1 esp-in in_esp --outer $GI $H1_ADDR
rig_py ext ipsec-send "$SA" --size 1300 in_esp >/dev/null
check "ext -> h1: 1300 bytes of ESP across the $LINK link, decrypted" wait_pid $RECV
sed 's/^/    /' "$TMP/esp-in.log" | grep -v ready
recv ext esp-out out_esp
rig_py h1 ipsec-send "$SA" --size 1300 --df out_esp >/dev/null
check "h1 -> ext: 1300 bytes of ESP with DF, decrypted at the peer" wait_pid $RECV
sed 's/^/    /' "$TMP/esp-out.log" | grep -v ready

# A router (the attacker's address stands in for one) answers h1's ESP with
# frag-needed: the quoted SPI is the peer's, gw_int learned that h1 sends on it.
rig_bg h1 "$TMP/icmp-h1.log" "$PY" "$TRAFFIC" tunnel-frag-recv eth0 $GI $H1_ADDR 10 0x7e0000a1
R=$LAST_PID
wait_for_line "$TMP/icmp-h1.log" ready
b=$(rig_dp fwd_to_host)
rig_py atk frag-needed $ATTACKER 1280 "$SA" out_esp >/dev/null
check "a router's frag-needed quoting h1's ESP (SPI 0x7e0000a1) reaches h1" wait_pid $R
sed 's/^/    /' "$TMP/icmp-h1.log" | grep -v ready
check "  counted as fwd_to_host" test "$(delta "$b" fwd_to_host)" -ge 1

# h2's route still says 1500: its 1450-byte ESP, DF clear, cannot go (counted),
# with DF it gets frag-needed from the gateway, quoting the ESP.
b=$(rig_dp too_big_not_df)
rig_py h2 ipsec-send "$SA" --size 1400 big_esp >/dev/null
check "h2: oversized ESP with DF clear: dropped as too_big_not_df" \
	test "$(delta "$b" too_big_not_df)" = 1
rig_bg h2 "$TMP/icmp-h2.log" "$PY" "$TRAFFIC" tunnel-frag-recv eth0 $GI $H2_ADDR 10 0x7e0000b2
R=$LAST_PID
wait_for_line "$TMP/icmp-h2.log" ready
rig_py h2 ipsec-send "$SA" --size 1400 --df big_esp >/dev/null
check "h2: oversized ESP with DF: frag-needed (mtu $LINK) from the gateway, quoting it" wait_pid $R
sed 's/^/    /' "$TMP/icmp-h2.log" | grep -v ready
check "  from Gi, mtu $LINK" grep -q "frag-needed mtu $LINK from $GI to $G quoting proto 50" \
	"$TMP/icmp-h2.log"

# --- a renewal tells a running agent --------------------------------------------------
# h2 registered at 1500: its next EXTEND_REPLY carries EXT_MTU $LINK (SIGHUP: renew now).
kill -HUP "$RIG_AGENT2_PID"
check "h2's agent, renewing: the gateway's external MTU $LINK from EXTEND_REPLY" \
	wait_for_line "$TMP/h2.log" "external MTU $LINK" 15
check "h2's route: mtu $LINK advmss $((LINK - 40)), without registering again" \
	wait_until 10 bash -c "ip netns exec '$H2' ip route show table 4555 | \
		grep -q 'mtu $LINK advmss $((LINK - 40))' && ! grep -q 'registering again' '$TMP/h2.log'"

# --- every drop under its reason ---------------------------------------------------------
check "nothing dropped as no_route (the old silent failure)" \
	test "$(delta "$NO_ROUTE0" no_route)" = 0
rig_ctl stats | grep -E "^(DATAPLANE|icmp_|too_big|fwd_|no_route)" | sed 's/^/    /'

# --- the warning -----------------------------------------------------------------------
ip -n "$GW" link set int0 mtu $LINK
check "xdnatd warns: int0's MTU $LINK is below ext0's $LINK + 20" \
	wait_for_line "$RIG_GW_LOG" "int0: MTU $LINK is below ext0's $LINK + 20" 15
ip -n "$GW" link set int0 mtu $INT_MTU

summary
