# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The end-to-end rig: a real gateway (xdnatd with its XDP data plane) and two
# real hosts (xdnat-host) in network namespaces, an external peer with real
# servers behind a router, and an attacker on the gateway's own link. Source
# it after lib.sh, then `rig_up`:
#
#   ext 192.0.2.10 ─ rtr ─┐ 203.0.113.254                       ┌─ h1 10.0.0.11
#     (BEYOND_MTU)        wan ─ ext0 [gw_ext] gw [gw_int] int0 ─ lan
#   atk 203.0.113.66 ─────┘    203.0.113.1  G on lo  10.0.0.1    ├─ h2 10.0.0.12
#                                                                └─ latk 10.0.0.66
#
# latk is an attacker on the LAN (a neighbour of the hosts: test_attacks.sh).
#
# wan and lan are namespaces holding a bridge each (the switches); rtr is a
# router (the gateway's default route), so both kinds of next hop are there:
# the router for the peer, the destination itself for the attacker. Nobody
# has a permanent neighbour entry: the gateway resolves its next hops itself,
# as on any network. Every name is unique per run (lib.sh's RUN_ID) and
# lib.sh's EXIT trap tears it all down: daemons by PID, namespaces, the
# bpffs mount.
#
# After rig_up:
#   namespaces   EXT ATK RTR WAN GW LAN H1 H2 LATK
#                (rig_ns ext|atk|rtr|wan|gw|lan|h1|h2|latk)
#   addresses    G GI PEER ATTACKER GW_EXT ROUTER ROUTER_BEYOND H1_ADDR H2_ADDR
#                LATK_ADDR
#   links        ext0 (gw) - wan - eth0 (rtr); eth1 (rtr) - eth0 (ext), at
#                BEYOND_MTU (rig_beyond_mtu MTU changes it)
#   shares       H1_CID H1_PORT_FIRST H1_PORT_LAST H1_IKE_PORT H1_NATT_PORT
#                H1_SPI_FIRST H1_SPI_LAST, and the same for H2_
#                (from `xdnat-host status --json`, re-read by rig_read_share N)
#   daemons      RIG_GW_PID RIG_AGENT1_PID RIG_AGENT2_PID, logs RIG_GW_LOG,
#                $TMP/h1.log, $TMP/h2.log
#   helpers      rig_in NS CMD..., rig_bg NS LOG CMD..., rig_py NS ARGS...,
#                rig_ctl ARGS..., rig_host N CMD ARGS..., rig_gw_start,
#                rig_gw_stop [SIG], rig_agent_start N, rig_agent_stop N [SIG],
#                rig_dp REASON, rig_map_clients MAP, rig_decap N
[ -n "${TMP:-}" ] || { echo "rig.sh: source lib.sh first" >&2; exit 1; }

PY=/usr/bin/python3		# Debian's python3-scapy lives there, whatever PATH says
TRAFFIC=$ROOT/tests/integration/traffic.py
XDNATD=$BUILD/xdnatd
XDNATCTL=$BUILD/xdnatctl
XDNAT_HOST=$BUILD/xdnat-host

G=198.51.100.1			# the global address h1 and h2 share
GI=10.0.0.1			# the gateway's internal address (PAP, tunnel end)
GW_EXT=203.0.113.1		# the gateway's external NIC
ROUTER=203.0.113.254		# the router on the gateway's link: its default route
ROUTER_BEYOND=192.0.2.1		# the router on the link beyond it
PEER=192.0.2.10			# the external peer, behind the router
ATTACKER=203.0.113.66		# on the gateway's link, never validated by default
H1_ADDR=10.0.0.11
H2_ADDR=10.0.0.12
LATK_ADDR=10.0.0.66		# the LAN attacker
EXT_MTU=1500
# The tunnel adds 20 bytes and a veth drops an over-MTU frame without a word:
# the internal links carry 20 bytes more than the external one, so a full-size
# packet from the peer fits in the tunnel (the agents' route MTU from G is then
# 1500 too: the hosts send full-size packets the other way).
INT_MTU=$((EXT_MTU + 20))
BEYOND_MTU=$EXT_MTU		# the link between the router and the peer

RIG_BPFFS=$TMP/bpf
RIG_GW_SOCK=$TMP/xdnatd.sock
RIG_GW_STATE=$TMP/gw-state
RIG_GW_STARTS=0
RIG_GW_FLAGS=()

rig_ns() {	# rig_ns ext|atk|wan|gw|lan|h1|h2: the namespace's name
	case $1 in
	ext) echo "$EXT" ;; atk) echo "$ATK" ;; rtr) echo "$RTR" ;; wan) echo "$WAN" ;;
	gw) echo "$GW" ;;
	lan) echo "$LAN" ;; h1) echo "$H1" ;; h2) echo "$H2" ;; latk) echo "$LATK" ;;
	*) echo "rig_ns: no namespace '$1'" >&2; return 1 ;;
	esac
}
rig_in() {	# rig_in NS CMD...: run in the rig's namespace NS (ext, gw, h1...)
	local ns; ns=$(rig_ns "$1") || return 1; shift
	ip netns exec "$ns" "$@"
}
rig_bg() {	# rig_bg NS LOG CMD...: in the background, PID in LAST_PID (and cleanup's list)
	local ns; ns=$(rig_ns "$1") || return 1; shift
	start_bg "$ns" "$@"
}
rig_py() { local ns=$1; shift; rig_in "$ns" "$PY" "$TRAFFIC" "$@"; }
rig_ctl() { "$XDNATCTL" --socket "$RIG_GW_SOCK" "$@"; }
rig_host() {	# rig_host N CMD ARGS...: xdnat-host CMD in hN, on hN's agent socket
	local n=$1 cmd=$2; shift 2
	rig_in "h$n" "$XDNAT_HOST" "$cmd" "$@" --socket "$TMP/h$n.sock"
}
json() { "$PY" -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# rig_dp REASON: the data plane's packet counter for REASON (xdnatctl stats)
rig_dp() { rig_ctl stats --json | json "d['dataplane']['$1']['packets']"; }

# rig_decap N: packets hN's host_ingress has decapsulated so far
rig_decap() { rig_host "$1" status --json | json "d['tunnel']['decap']['packets']"; }

# rig_map_clients MAP: the client ids in the values of a pinned map, one per
# entry (bpftool shows them by name: the maps are BTF-typed)
rig_map_clients() {
	bpftool -j map dump pinned "$RIG_BPFFS/$1" | "$PY" -c 'import json, sys
for e in json.load(sys.stdin):
    v = e.get("formatted", {}).get("value", {})
    if isinstance(v, dict):
        v = v.get("owner", v)  # xdnat_ports: an xdnat_owner, then flags
    if isinstance(v, dict) and "client_id" in v:
        print(v["client_id"])'
}

# --- the gateway -----------------------------------------------------------------
rig_gw_start() {	# rig_gw_start: xdnatd with the data plane, RIG_GW_FLAGS added
	RIG_GW_STARTS=$((RIG_GW_STARTS + 1))
	RIG_GW_LOG=$TMP/xdnatd-$RIG_GW_STARTS.log
	rm -f "$RIG_GW_SOCK"
	rig_bg gw "$RIG_GW_LOG" "$XDNATD" --global $G --internal $GI \
		--ext-if ext0 --int-if int0 --xdp-mode native --bpffs "$RIG_BPFFS" \
		--state-dir "$RIG_GW_STATE" --socket "$RIG_GW_SOCK" \
		--ports 20000-29999 --spis 4096-1048575 --foreground "${RIG_GW_FLAGS[@]}"
	RIG_GW_PID=$LAST_PID
	# until it serves, or stops trying (a refusal at start exits at once)
	wait_until 20 rig_gw_settled
	[ -S "$RIG_GW_SOCK" ] || { echo "xdnatd did not start:"; cat "$RIG_GW_LOG"; return 1; }
}
rig_gw_settled() { [ -S "$RIG_GW_SOCK" ] || ! kill -0 "$RIG_GW_PID" 2>/dev/null; }
rig_gw_stop() { stop_pid "$RIG_GW_PID" "${1:-TERM}"; }

# --- the hosts ---------------------------------------------------------------------
rig_agent_start() {	# rig_agent_start N: `xdnat-host up` in hN (not --daemon: ours, by PID)
	rig_bg "h$1" "$TMP/h$1.log" "$XDNAT_HOST" up --gateway $GI --dev eth0 \
		--state-dir "$TMP/h$1" --socket "$TMP/h$1.sock"
	printf -v "RIG_AGENT$1_PID" '%s' "$LAST_PID"
}
rig_agent_stop() { local v="RIG_AGENT$1_PID"; stop_pid "${!v}" "${2:-TERM}"; }

rig_read_share() {	# rig_read_share N: HN_* from the agent's status --json
	local n=$1 s
	s=$(rig_host "$n" status --json) || return 1
	eval "$(json "'H${n}_CID=%d H${n}_PORT_FIRST=%d H${n}_PORT_LAST=%d H${n}_IKE_PORT=%d \
H${n}_NATT_PORT=%d H${n}_SPI_FIRST=%d H${n}_SPI_LAST=%d' % (d['client_id'], \
d['ports'][0]['first'], d['ports'][0]['last'], d['ike_port'], d['natt_port'], \
d['spis'][0]['first'], d['spis'][0]['last'])" <<<"$s")"
}

rig_ready() {	# both agents answer and the gateway lists both hosts
	rig_host 1 status --json >/dev/null 2>&1 && rig_host 2 status --json >/dev/null 2>&1 &&
		[ "$(rig_ctl hosts --json | json "len(d['hosts'])")" = 2 ]
}

rig_missing() {	# what the rig needs and this machine lacks (make deps installs it)
	local t
	for t in bpftool tcpdump ethtool ping; do command -v $t >/dev/null || echo "$t"; done
	"$PY" -c 'import scapy.layers.ipsec' 2>/dev/null || echo python3-scapy
	for t in "$XDNATD" "$XDNATCTL" "$XDNAT_HOST"; do [ -x "$t" ] || echo "$t (make)"; done
}

# --- the router --------------------------------------------------------------------
# rig_router SWITCH_NS BRIDGE PEER_NS: the router namespace RTR (made by
# rig_up) on the switch (its eth0, ROUTER, a port of BRIDGE in SWITCH_NS)
# and the peer's namespace behind it (rtr eth1 ROUTER_BEYOND - PEER_NS eth0
# PEER, at BEYOND_MTU): the peer's default route is the router, the
# router's route to G is the gateway's external address. For other rigs
# too: any switch, any peer namespace.
rig_router() {
	local sw=$1 br=$2 peer=$3
	RIG_PEER_NS=$peer
	veth_pair "$RTR" eth0 "$sw" prtr && ip -n "$sw" link set prtr master "$br" || return 1
	veth_pair "$RTR" eth1 "$peer" eth0 || return 1
	ip -n "$RTR" addr add $ROUTER/24 dev eth0
	ip -n "$RTR" addr add $ROUTER_BEYOND/24 dev eth1
	ip -n "$peer" addr add $PEER/24 dev eth0
	ip netns exec "$RTR" sysctl -qw net.ipv4.ip_forward=1
	ip -n "$RTR" route add $G/32 via $GW_EXT dev eth0
	ip -n "$peer" route add default via $ROUTER_BEYOND
	rig_beyond_mtu "$BEYOND_MTU"
}

# rig_beyond_mtu MTU: the MTU of the link between the router and the peer
rig_beyond_mtu() {
	BEYOND_MTU=$1
	ip -n "$RTR" link set eth1 mtu "$1" && ip -n "$RIG_PEER_NS" link set eth0 mtu "$1"
}

# rig_up [--lease SECONDS]: builds the rig, starts xdnatd and both agents and
# waits until both hosts hold their share. A short lease is for the expiry test.
rig_up() {
	local missing h ns
	while [ $# -gt 0 ]; do
		case $1 in
		--lease) RIG_GW_FLAGS+=(--lease "$2"); shift 2 ;;
		*) echo "rig_up: unknown option $1" >&2; return 2 ;;
		esac
	done
	missing=$(rig_missing)
	if [ -n "$missing" ]; then
		echo "missing:" $missing "(make deps; make)"; return 1
	fi

	# `ip netns exec` gives xdnatd a private mount namespace: pins made there
	# would die with it. A bpffs mounted here first is shared and outlives
	# the daemon, so the maps survive its restart.
	mount_bpffs "$RIG_BPFFS" || return 1

	# ns_add in this shell, never in $(...): cleanup must see the names
	ns_add ext EXT && ns_add atk ATK && ns_add rtr RTR && ns_add wan WAN &&
		ns_add gw GW && ns_add lan LAN && ns_add h1 H1 && ns_add h2 H2 || return 1

	# The external switch: the router, the attacker and the gateway's ext0.
	ip -n "$WAN" link add br0 type bridge && ip -n "$WAN" link set br0 up
	veth_pair "$ATK" eth0 "$WAN" patk
	veth_pair "$GW" ext0 "$WAN" pgw
	for h in patk pgw; do ip -n "$WAN" link set $h master br0; done
	ip -n "$ATK" addr add $ATTACKER/24 dev eth0
	ip -n "$GW" addr add $GW_EXT/24 dev ext0
	ip -n "$GW" addr add $G/32 dev lo
	ip -n "$ATK" route add $G/32 via $GW_EXT
	rig_router "$WAN" br0 "$EXT" || return 1
	ip -n "$GW" route add default via $ROUTER dev ext0

	# The internal switch: the gateway's int0, h1 and h2, all INT_MTU.
	ip -n "$LAN" link add br0 type bridge && ip -n "$LAN" link set br0 up
	veth_pair "$GW" int0 "$LAN" pgw
	veth_pair "$H1" eth0 "$LAN" ph1
	veth_pair "$H2" eth0 "$LAN" ph2
	ip -n "$GW" link set int0 mtu $INT_MTU
	ip -n "$H1" link set eth0 mtu $INT_MTU
	ip -n "$H2" link set eth0 mtu $INT_MTU
	for h in pgw ph1 ph2; do
		ip -n "$LAN" link set $h mtu $INT_MTU
		ip -n "$LAN" link set $h master br0
	done
	ip -n "$GW" addr add $GI/24 dev int0
	ip -n "$H1" addr add $H1_ADDR/24 dev eth0
	ip -n "$H2" addr add $H2_ADDR/24 dev eth0

	# The LAN attacker: a neighbour of h1 and h2 on the internal switch.
	ns_add latk LATK || return 1
	veth_pair "$LATK" eth0 "$LAN" platk
	ip -n "$LATK" link set eth0 mtu $INT_MTU
	ip -n "$LAN" link set platk mtu $INT_MTU
	ip -n "$LAN" link set platk master br0
	ip -n "$LATK" addr add $LATK_ADDR/24 dev eth0
	ip netns exec "$LATK" ethtool -K eth0 tx off >/dev/null 2>&1

	# XDP_REDIRECT into a veth is dropped without a word unless the peer
	# has NAPI (an XDP program or GRO): GRO on the switch side of ext0 and
	# int0, set once the links are up (before, it does not hold).
	ip netns exec "$WAN" ethtool -K pgw gro on >/dev/null
	ip netns exec "$LAN" ethtool -K pgw gro on >/dev/null

	# TX checksum offload off on the external peers: with it, a socket's
	# TCP/UDP checksum leaves unfinished (CHECKSUM_PARTIAL) across a veth,
	# and gw_ext's XDP forwards the bytes as they are. A real peer's NIC
	# completes the checksum before the wire, so this only makes the veths
	# what a real link is (xdnatd warns about its veth NIC). The hosts are
	# left alone: xdnat-host turns it off on its veth itself.
	for ns in "$EXT" "$ATK"; do
		ip netns exec "$ns" ethtool -K eth0 tx off >/dev/null 2>&1
	done

	rig_gw_start || return 1
	rig_agent_start 1
	rig_agent_start 2
	if ! wait_until 40 rig_ready; then
		echo "the hosts did not come up:"; tail -5 "$TMP/h1.log" "$TMP/h2.log" "$RIG_GW_LOG"
		return 1
	fi
	rig_read_share 1 && rig_read_share 2
}
