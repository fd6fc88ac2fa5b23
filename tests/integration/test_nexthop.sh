#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Next hops without anyone's help, on the end-to-end rig (rig.sh: the peer
# behind a router, the attacker on the gateway's link, no permanent
# neighbours): xdnatd keeps the router as a managed neighbour entry; a cold
# gateway (neighbour table flushed) sends hosts' traffic on the first try,
# routed and on-link; again after the entries expired or were deleted; a
# new default gateway is followed; --unload removes the entries it added.
. "$(dirname "$0")/lib.sh"
require_root
. "$(dirname "$0")/rig.sh"

ROUTER2=203.0.113.253		# a second address of the router: the new default gateway

rig_up || { echo "0 passed, 1 failed"; exit 1; }
rig_bg ext "$TMP/serve-ext.log" "$PY" "$TRAFFIC" serve $PEER 7 7
rig_bg atk "$TMP/serve-atk.log" "$PY" "$TRAFFIC" serve $ATTACKER 7 7
wait_for_line "$TMP/serve-ext.log" ready && wait_for_line "$TMP/serve-atk.log" ready

gw_neigh() { ip -n "$GW" neigh show "$1" dev ext0; }
# managed ADDR: the gateway has a managed entry for ADDR, tagged as xdnatd's
managed() { gw_neigh "$1" | grep -q "managed.* proto 120"; }
reachable() { gw_neigh "$1" | grep -q REACHABLE; }
unresolved() { rig_dp nexthop_unresolved; }
stat() { rig_ctl stats --json | json "d['dataplane_$1']"; }
PORT=$((H1_PORT_FIRST + 10))	# clear of the IKE and NAT-T ports
# echo N DST MAX_RESENT: h1 sends 5 UDP datagrams from G to DST's echo
# server, each answered; at most MAX_RESENT of them sent again (lost once)
echo5() { PORT=$((PORT + 1)); rig_py h1 udp-echo $G $PORT "$1" 7 5 "$2"; }
# at_most WHAT N BEFORE: checks that at most N packets were counted
# nexthop_unresolved since BEFORE, and says how many
at_most() {
	local d=$(($(unresolved) - $3))
	echo "    $1: $d packet(s) counted nexthop_unresolved"
	check "... $1: at most $2 packet(s) waited for a MAC" test "$d" -le "$2"
}

check "the router ($ROUTER, the default route's gateway) has a managed entry" \
	wait_until 10 managed $ROUTER
check "... and the kernel resolved it" wait_until 10 reachable $ROUTER
check "xdnatd said once which way it keeps next hops" \
	test "$(grep -c 'next hops: managed neighbour entries' "$RIG_GW_LOG")" = 1

# --- cold ---------------------------------------------------------------------------
# Flushed right after the start: the hosts' MACs may not be in the maps yet
# either, so the reply to h1 may take the FIB on int0 and wait too (the one
# packet allowed per case; outbound through the managed router waits none).
ip -n "$GW" neigh flush all >/dev/null 2>&1	# xdnatd re-adds the router at once: "not complete"
b=$(unresolved)
check "cold gateway: UDP to the peer behind the router works on the first try" \
	echo5 $PEER 1
at_most routed 1 "$b"
check "... the router's entry is back, managed" managed $ROUTER

ip -n "$GW" neigh flush all >/dev/null 2>&1	# xdnatd re-adds the router at once: "not complete"
e=$(stat nexthop_events) r=$(stat nexthop_resolved) b=$(unresolved)
check "cold gateway: UDP to the on-link attacker works on the first try" \
	echo5 $ATTACKER 1
at_most on-link 1 "$b"
if [ "$(($(unresolved) - b))" = 1 ]; then
	check "... that packet reached xdnatd as an event, resolved (xdnatctl stats)" \
		test "$(($(stat nexthop_events) - e)) $(($(stat nexthop_resolved) - r))" = "1 1"
fi
check "... the attacker's entry is an ordinary one, not managed" \
	bash -c "ip -n '$GW' neigh show $ATTACKER dev ext0 | grep -v managed | grep -q lladdr"

# --- expired -------------------------------------------------------------------------
# A test speed-up, not a product setting: entries resolved from now on go
# stale after 0.2-0.6 s instead of 15-45 s. The router's and the
# attacker's entries deleted (as the kernel's garbage collector does with
# stale ones) and resolved again under it.
ip netns exec "$GW" sysctl -qw net.ipv4.neigh.ext0.base_reachable_time_ms=400
ip -n "$GW" neigh del $ROUTER dev ext0
check "the router's entry deleted: xdnatd has it back at once, managed" \
	wait_until 5 managed $ROUTER
ip -n "$GW" neigh del $ATTACKER dev ext0
b=$(unresolved)
check "entry deleted: UDP to the attacker works on the first try" echo5 $ATTACKER 1
at_most deleted 1 "$b"
# reachable for 0.6 s at most unless confirmed (XDP traffic never does)
not() { ! "$@"; }
check "the attacker's entry expires (no longer reachable: stale, delay or probe)" \
	wait_until 20 not reachable $ATTACKER
b=$(unresolved)
check "expired: UDP to the attacker still works on the first try" \
	echo5 $ATTACKER 1
refreshed() { wait_until 20 not reachable "$1" && wait_until 20 reachable "$1"; }
check "the router's managed entry is kept resolved by the kernel (expired, then reachable again)" \
	refreshed $ROUTER
check "expired: UDP to the peer works at once" echo5 $PEER 0
at_most expired 1 "$b"
ip netns exec "$GW" sysctl -qw net.ipv4.neigh.ext0.base_reachable_time_ms=30000

# --- a new default gateway ---------------------------------------------------------------
ip -n "$RTR" addr add $ROUTER2/24 dev eth0
ip -n "$GW" route replace default via $ROUTER2 dev ext0
followed() { wait_until 5 managed "$1" && wait_until 5 reachable "$1"; }
check "new default gateway $ROUTER2: managed entry, resolved (within a second, 5 s allowed)" \
	followed $ROUTER2
check "... the old one's managed entry removed" not managed $ROUTER
check "... the log says so" grep -q "next hop $ROUTER on ext0: no route uses it" "$RIG_GW_LOG"
b=$(unresolved)
check "UDP to the peer through the new gateway at once" echo5 $PEER 0
at_most "new gateway" 0 "$b"
check "... and it went through the new gateway (the router's MAC for $ROUTER2 is used)" \
	bash -c "ip -n '$GW' neigh show $ROUTER2 dev ext0 | grep -q 'lladdr $(mac_of "$RTR" eth0)'"

# --- the end -------------------------------------------------------------------------------
check "no errors in xdnatd's log" bash -c "! grep -E 'error|refused' '$RIG_GW_LOG'"
rig_gw_stop
rig_in gw "$XDNATD" --unload --ext-if ext0 --int-if int0 --bpffs "$RIG_BPFFS" \
	> "$TMP/unload.log" 2>&1
check "xdnatd --unload: the managed entries it added are gone" \
	bash -c "grep -q 'removed 1 managed neighbour entry' '$TMP/unload.log' && \
		! ip -n '$GW' neigh show proto 120 | grep -q ."
summary
