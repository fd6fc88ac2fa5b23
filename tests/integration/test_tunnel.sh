#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Tunnel semantics on the end-to-end rig (rig.sh), real packets through the
# real programs:
#
#   hairpin    h1 to G:h2's port (UDP) and an echo reply to h2's echo id
#              reach h2 through the gateway (fwd_hairpin); to a port
#              nobody holds: hairpin_no_owner
#   ECN        a CE mark set by the peer reaches h1's socket; a CE mark on
#              the outer header (set where a router on the LAN would) lands
#              in the inner at both decapsulators: gw_int (the peer's socket
#              sees it) and host_tunnel (h1's socket sees it)
#   TTL        the gateway is a hop both ways: the peer's TTL 3 arrives as 1
#              (the rig's router is a hop too); a probe that reaches the
#              gateway with TTL 1 gets time-exceeded, from G for the peer,
#              from Gi for h1
#
# A host's own G is local, so a real socket on h1 cannot send to G through
# the tunnel: the hairpinned packets are tunnelled by hand (traffic.py
# ipip-send, a raw IPIP socket on h1); h2 takes a packet whose source (G)
# is its own address because its agent set accept_local (docs/xdnatd.md).
# The ICMP answers leave with XDP_TX, which a veth delivers only when its
# peer runs an XDP program: the switch ports facing ext0 and int0 get an
# XDP_PASS one here (a real NIC needs nothing).
. "$(dirname "$0")/lib.sh"
require_root
. "$(dirname "$0")/rig.sh"

T0=$SECONDS
if ! rig_up; then fail "rig up"; summary; exit 1; fi
pass "rig up in $((SECONDS - T0)) s"

printf '%s\n' '__attribute__((section("xdp"), used)) int xdp_pass(void *ctx) { return 2; }' \
	'char _license[] __attribute__((section("license"), used)) = "GPL";' > "$TMP/xdp_pass.c"
if clang -O2 -target bpf -c "$TMP/xdp_pass.c" -o "$TMP/xdp_pass.o" &&
	ip -n "$WAN" link set pgw xdpdrv obj "$TMP/xdp_pass.o" sec xdp &&
	ip -n "$LAN" link set pgw xdpdrv obj "$TMP/xdp_pass.o" sec xdp; then
	pass "XDP_PASS on the switch ports facing ext0 and int0 (veth XDP_TX needs it)"
else
	fail "XDP_PASS on the switch ports"
fi

delta() { echo $(($(rig_dp "$2") - $1)); }	# delta BEFORE REASON
h1p=$((H1_PORT_FIRST + 4)) h2p=$((H2_PORT_FIRST + 4))

# --- hairpin ------------------------------------------------------------------
check "h2's agent set accept_local on eth0 itself (the hairpin needs it)" \
	test "$(rig_in h2 cat /proc/sys/net/ipv4/conf/eth0/accept_local)" = 1
b_hp=$(rig_dp fwd_hairpin) b_no=$(rig_dp hairpin_no_owner)
rig_bg h2 "$TMP/hp-udp.log" "$PY" "$TRAFFIC" udp-recv-tos $G $h2p 4
wait_for_line "$TMP/hp-udp.log" ready || fail "h2's listener did not start"
rig_py h1 ipip-send $H1_ADDR $GI 0 $G $G 0 64 udp $h1p $h2p hairpin-udp >/dev/null
wait_for_line "$TMP/hp-udp.log" "hairpin-udp"
check "hairpin: h1 G:$h1p -> G:$h2p reaches h2's socket, from G:$h1p, one hop on (TTL 63)" \
	grep -q "got 'hairpin-udp' from $G:$h1p tos 0x00 ttl 63" "$TMP/hp-udp.log"
sed 's/^/    /' "$TMP/hp-udp.log"
check "hairpin: counted as fwd_hairpin" test "$(delta "$b_hp" fwd_hairpin)" -ge 1

rig_py h1 ipip-send $H1_ADDR $GI 0 $G $G 0 64 udp $h1p $((H2_PORT_LAST + 100)) nobody >/dev/null
check "hairpin: to a port nobody holds: dropped as hairpin_no_owner" \
	wait_until 5 test "$(delta "$b_no" hairpin_no_owner)" -ge 1

# echo: h2's request to G teaches the gateway its id (and has no holder), a
# reply from h1 with that id is h2's
rig_bg h2 "$TMP/hp-echo.log" "$PY" "$TRAFFIC" icmp-recv $G 0 4
wait_for_line "$TMP/hp-echo.log" ready || fail "h2's ICMP listener did not start"
rig_py h2 ipip-send $H2_ADDR $GI 0 $G $G 0 64 icmp 8 0x4242 echo >/dev/null
rig_py h1 ipip-send $H1_ADDR $GI 0 $G $G 0 64 icmp 0 0x4242 hairpin-echo >/dev/null
wait_for_line "$TMP/hp-echo.log" "hairpin-echo"
check "hairpin: h1's echo reply with h2's id 0x4242 reaches h2" \
	grep -q "icmp 0 from $G id 0x4242 'hairpin-echo'" "$TMP/hp-echo.log"

# --- ECN ------------------------------------------------------------------------
rig_bg h1 "$TMP/ecn-h1.log" "$PY" "$TRAFFIC" udp-recv-tos $G $h1p 6
wait_for_line "$TMP/ecn-h1.log" ready || fail "h1's listener did not start"
rig_py ext udp-probe $PEER 5301 $G $h1p 0x03 64 0.3 >/dev/null
rig_py ext udp-probe $PEER 5302 $G $h1p 0x02 64 0.3 >/dev/null
# the gateway's stack sends IPIP Gi -> h1 with CE outside, ECT(0) inside
rig_py gw ipip-send $GI $H1_ADDR 0x03 $PEER $G 0x02 64 udp 5303 $h1p outer-ce >/dev/null
rig_py gw ipip-send $GI $H1_ADDR 0x03 $PEER $G 0x00 64 udp 5304 $h1p not-ect >/dev/null
wait_for_line "$TMP/ecn-h1.log" "outer-ce"
sed 's/^/    /' "$TMP/ecn-h1.log"
check "ECN inbound: the peer's CE reaches h1's socket" \
	grep -q "from $PEER:5301 tos 0x03" "$TMP/ecn-h1.log"
check "ECN inbound: ECT(0) stays ECT(0)" grep -q "from $PEER:5302 tos 0x02" "$TMP/ecn-h1.log"
check "ECN at host_tunnel: outer CE over inner ECT(0) arrives as CE" \
	grep -q "'outer-ce' from $PEER:5303 tos 0x03" "$TMP/ecn-h1.log"
sleep 0.5
n=$(rig_host 1 status --json | json "d['tunnel']['ecn_not_ect']['packets']")
check "ECN at host_tunnel: outer CE over Not-ECT dropped, counted as ecn_not_ect ($n)" \
	bash -c "! grep -q not-ect '$TMP/ecn-h1.log' && test '$n' = 1"

rig_bg ext "$TMP/ecn-ext.log" "$PY" "$TRAFFIC" udp-recv-tos $PEER 5400 4
wait_for_line "$TMP/ecn-ext.log" ready || fail "the peer's listener did not start"
b_ecn=$(rig_dp ecn_not_ect)
rig_py h1 ipip-send $H1_ADDR $GI 0x03 $G $PEER 0x02 64 udp $h1p 5400 outer-ce >/dev/null
rig_py h1 ipip-send $H1_ADDR $GI 0x03 $G $PEER 0x00 64 udp $h1p 5400 not-ect >/dev/null
rig_py h1 udp-probe $G $((h1p + 1)) $PEER 5400 0x01 64 0.3 >/dev/null
wait_for_line "$TMP/ecn-ext.log" "probe"
sed 's/^/    /' "$TMP/ecn-ext.log"
check "ECN at gw_int: outer CE over inner ECT(0) reaches the peer as CE, TTL 62 (the gateway and the router)" \
	grep -q "'outer-ce' from $G:$h1p tos 0x03 ttl 62" "$TMP/ecn-ext.log"
check "ECN at gw_int: outer CE over Not-ECT dropped as ecn_not_ect" \
	bash -c "! grep -q not-ect '$TMP/ecn-ext.log' && test $(delta "$b_ecn" ecn_not_ect) -ge 1"
check "ECN outbound: h1's ECT(1) through both programs stays ECT(1)" \
	grep -q "from $G:$((h1p + 1)) tos 0x01" "$TMP/ecn-ext.log"

# --- TTL ------------------------------------------------------------------------
rig_bg h1 "$TMP/ttl-h1.log" "$PY" "$TRAFFIC" udp-recv-tos $G $h1p 3
wait_for_line "$TMP/ttl-h1.log" ready || fail "h1's listener did not start"
# the peer is behind the rig's router: one hop more than the gateway
rig_py ext udp-probe $PEER 5501 $G $h1p 0 3 0.3 >/dev/null
wait_for_line "$TMP/ttl-h1.log" "probe"
check "TTL inbound: sent with 3, h1's socket sees 1 (router and gateway)" \
	grep -q "from $PEER:5501 tos 0x00 ttl 1" "$TMP/ttl-h1.log"
b_te=$(rig_dp icmp_time_exceeded)
rig_py ext udp-probe $PEER 5502 $G $h1p 0 2 2 > "$TMP/ttl-ext.out" 2>&1
check "TTL inbound: the peer's probe arriving with TTL 1 gets time-exceeded from G" \
	grep -q "icmp type 11 code 0 from $G" "$TMP/ttl-ext.out"
sed 's/^/    /' "$TMP/ttl-ext.out"
rig_py h1 udp-probe $G $((h1p + 2)) $PEER 5503 0 1 2 > "$TMP/ttl-h1.out" 2>&1
check "TTL outbound: h1's TTL-1 probe gets time-exceeded from Gi, through the tunnel" \
	grep -q "icmp type 11 code 0 from $GI" "$TMP/ttl-h1.out"
sed 's/^/    /' "$TMP/ttl-h1.out"
check "TTL: both answers counted as icmp_time_exceeded" \
	test "$(delta "$b_te" icmp_time_exceeded)" -ge 2

summary
