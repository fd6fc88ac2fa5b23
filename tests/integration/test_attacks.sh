#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Live attacks on PAP from the LAN (issue 13, docs/security.md), on the rig
# (rig.sh) with its LAN attacker latk beside h1 and h2:
#
#   a forged REGISTER spoofing h1's address (LEASE=1, the ghost of finding 2):
#   nothing is created, h1's xdnat_hosts entry and outbound stay;
#   h1's REGISTER captured on the switch and relayed from latk's own address
#   (finding 1): the relay gets a COOKIE no bigger than what it sent, with its
#   own cookie a registration bound to its own address that no one can use,
#   reclaimed early; h1 keeps its share;
#   a flood of REGISTERs from 100 spoofed sources for a few seconds (finding
#   9): figures (replies lost by a legitimate client on h1, its EXTEND latency,
#   the daemon's CPU time), no host created;
#   enrolment tokens through xdnatctl; the gateway's key pinned by the agents
#   (finding 8): a gateway with another key is refused, with both keys named;
#   the data plane (findings 13, 14): from atk, packets to G from martian,
#   internal and G sources are dropped under their reasons, never tunnelled;
#   from latk, a tunnel packet with h1's address from latk's MAC is dropped
#   (host_mac_mismatch); from h1, an ICMP error about h2's port and a
#   fragment tail with no first fragment are dropped.
. "$(dirname "$0")/lib.sh"
require_root
. "$(dirname "$0")/rig.sh"

FLOOD=$BUILD/itest/pap_flood
PAP=4555
UNUSED=5	# --unused-after: a registration with no signed request is reclaimed
# a routed internal subnet (hosts behind a router): gw_ext knows it as internal
ROUTED_NET=10.99.0.0/16
RIG_GW_FLAGS+=(--unused-after $UNUSED --internal-nets $ROUTED_NET)
if ! rig_up; then fail "rig up"; summary; exit 1; fi
pass "rig up: h1 client $H1_CID, h2 client $H2_CID, the LAN attacker at $LATK_ADDR"

export -f json rig_ns rig_in rig_ctl rig_host rig_map_clients
export PY XDNATCTL XDNAT_HOST RIG_GW_SOCK RIG_BPFFS TMP LAN H1 H2 LATK

n_hosts() { rig_ctl hosts --json | json "len(d['hosts'])"; }
host_at() { rig_ctl hosts --json | json "' '.join(str(h['client_id']) for h in d['hosts'] if h['address'] == '$1')"; }
pap_stat() { rig_ctl stats --json | json "d['pap'].get('$1', d['pap']['errors'].get('$1', 0))"; }
ping_out() { rig_in h1 ping -c 3 -i 0.2 -W 2 -I $G $PEER 2>&1 | grep -q "3 packets transmitted, 3 received"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$RIG_GW_PID/stat"; }
export -f n_hosts host_at pap_stat ping_out

# --- a forged REGISTER from h1's address -----------------------------------------------
cookies=$(pap_stat cookie)
out=$(rig_in latk "$FLOOD" $GI $PAP forge $H1_ADDR 1)
check "latk forged a REGISTER from $H1_ADDR asking LEASE=1" grep -qx SENT=1 <<<"$out"
check "... answered by a COOKIE (to h1, whom it really names)" \
	wait_until 5 bash -c "[ \$(pap_stat cookie) -gt $cookies ]"
sleep 2	# longer than the LEASE=1 it asked for
check "... nothing registered: 2 hosts, h1's address has only h1" \
	bash -c "[ \$(n_hosts) = 2 ] && [ \"\$(host_at $H1_ADDR)\" = $H1_CID ]"
check "h1's xdnat_hosts entry is still h1's" bash -c "rig_map_clients xdnat_hosts | grep -qx $H1_CID"
check "h1's outbound ICMP from G still reaches the peer" ping_out

# --- h1's REGISTER relayed from latk ---------------------------------------------------
# The switch port of h1 is tapped (a hub, a mirror port); h1 registers afresh.
sniff_start "$LAN" ph1 "$TMP/h1-pap.pcap" -Q in udp dst port $PAP
SNIFF=$LAST_PID
rig_agent_stop 1
rig_host 1 down --state-dir "$TMP/h1" >/dev/null 2>&1
rig_agent_start 1
wait_until 30 rig_ready
rig_read_share 1
stop_pid "$SNIFF" INT
"$PY" - "$TMP/h1-pap.pcap" "$TMP/h1-register.bin" <<'EOF'
import sys
from scapy.all import rdpcap, UDP
regs = [bytes(p[UDP].payload) for p in rdpcap(sys.argv[1]) if UDP in p and bytes(p[UDP].payload)[1:2] == b"\x02"]
open(sys.argv[2], "wb").write(regs[-1])	# the one with h1's cookie
EOF
check "h1's REGISTER captured on the switch ($(stat -c %s "$TMP/h1-register.bin" 2>/dev/null) bytes)" \
	test -s "$TMP/h1-register.bin"
CAPLEN=$(stat -c %s "$TMP/h1-register.bin")
out=$(rig_in latk "$FLOOD" $GI $PAP relay "$TMP/h1-register.bin")
echo "$out" | sed 's/^/    /'
first=$(sed -n 's/^FIRST=//p' <<<"$out")
second=$(sed -n 's/^SECOND=//p' <<<"$out")
check "relayed as captured: a COOKIE error, not h1's cached reply" test "${first%:*}" = "error:24"
check "... no bigger than the relayed datagram (${first##*:} <= $CAPLEN bytes)" \
	test "${first##*:}" -le "$CAPLEN"
check "with latk's own cookie: registered, for latk's address" \
	bash -c "[ '${second%%:*}' = register-reply ] && [ -n \"\$(host_at $LATK_ADDR)\" ]"
check "... and unusable: a request as that client is refused" grep -qx USABLE=0 <<<"$out"
check "h1 still holds its share from its own address" \
	bash -c "[ \"\$(host_at $H1_ADDR)\" = $H1_CID ] && rig_host 1 status >/dev/null"
check "h1's outbound ICMP from G still reaches the peer" ping_out
check "the relay's registration is reclaimed after --unused-after $UNUSED s" \
	wait_until $((UNUSED + 5)) bash -c "[ -z \"\$(host_at $LATK_ADDR)\" ]"

# --- a flood of REGISTERs from spoofed sources -------------------------------------------
RATE=20000
SECS=4
base=$(rig_in h1 "$FLOOD" $GI $PAP latency 50)
cpu0=$(cpu_ticks)
rig_in latk "$FLOOD" $GI $PAP flood 10.0.0.100 100 $RATE $SECS > "$TMP/flood.out" 2>&1 &
FLOODPID=$!
sleep 0.5
during=$(rig_in h1 "$FLOOD" $GI $PAP latency 100)
wait $FLOODPID
cpu1=$(cpu_ticks)
hz=$(getconf CLK_TCK)
echo "    flood: $(cat "$TMP/flood.out") REGISTERs from 100 spoofed sources, $RATE/s for $SECS s"
echo "    h1's EXTENDs before: $base"
echo "    h1's EXTENDs during: $during"
echo "    xdnatd CPU during the flood: $(( (cpu1 - cpu0) * 1000 / hz )) ms for $SECS s"
check "during the flood every one of h1's EXTENDs was answered" grep -q "FAILED=0 " <<<"$during"
check "... and the spoofed sources registered nothing (2 hosts)" bash -c "[ \$(n_hosts) = 2 ]"
check "h1's agent still renews (status answers, same client)" \
	bash -c "rig_host 1 status --json | json \"d['client_id']\" | grep -qx $H1_CID"

# --- enrolment tokens ----------------------------------------------------------------
tok=$(rig_ctl token issue --uses 1 --ttl 600)
check "xdnatctl token issue prints ID:SECRET" grep -Eqx '[0-9]+:[0-9a-f]{64}' <<<"$tok"
check "... listed (no secret shown), the file mode 0600" bash -c \
	"rig_ctl token list | grep -q '^${tok%%:*} ' && ! rig_ctl token list | grep -q '${tok#*:}' && \
	 [ \$(stat -c %a '$RIG_GW_STATE/tokens') = 600 ]"
check "xdnatctl token revoke" bash -c "rig_ctl token revoke ${tok%%:*} && \
	! rig_ctl token list | grep -q '^${tok%%:*} '"

# --- the data plane: spoofing through it (findings 13, 14) ------------------------------
cat > "$TMP/spoof.py" <<'EOF'
import logging, sys
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import Ether, IP, UDP, ICMP, Raw, sendp
iface, dmac, kind, a = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
if kind == "to-g":		# SRC G PORT: UDP SRC:40000 -> G:PORT
    p = IP(src=a[0], dst=a[1]) / UDP(sport=40000, dport=int(a[2])) / Raw(b"spoofed")
elif kind == "tunnel":		# OSRC GI G DST SPORT DPORT: UDP in IPIP
    p = IP(src=a[0], dst=a[1], flags="DF") / IP(src=a[2], dst=a[3], flags="DF") / \
        UDP(sport=int(a[4]), dport=int(a[5])) / Raw(b"spoofed")
elif kind == "unreach":		# OSRC GI G DST QPORT: port unreachable about DST -> G:QPORT
    q = IP(src=a[3], dst=a[2]) / UDP(sport=40000, dport=int(a[4])) / Raw(b"x" * 8)
    p = IP(src=a[0], dst=a[1], flags="DF") / IP(src=a[2], dst=a[3]) / \
        ICMP(type=3, code=3) / Raw(bytes(q))
elif kind == "tail":		# OSRC GI G DST: a non-first UDP fragment in IPIP
    p = IP(src=a[0], dst=a[1], flags="DF") / \
        IP(src=a[2], dst=a[3], proto=17, id=0x5151, frag=8) / Raw(b"y" * 40)
sendp(Ether(dst=dmac) / p, iface=iface, verbose=False)
EOF
spoof() { local ns=$1; shift; rig_in "$ns" "$PY" "$TMP/spoof.py" eth0 "$@"; }
mac_of() { ip -n "$GW" -j link show "$1" | json "d[0]['address']"; }
# dropped_as REASON CMD...: CMD sends one packet, counted under REASON
dropped_as() {
	local r=$1 before; shift
	before=$(rig_dp "$r")
	"$@" && wait_until 5 bash -c "[ \$(rig_dp $r) -gt $before ]"
}
# mac_known CLIENT: xdnat_hosts holds a MAC for CLIENT (xdnatd resolved it)
mac_known() {
	bpftool -j map dump pinned "$RIG_BPFFS/xdnat_hosts" | "$PY" -c 'import json, sys
print(any(e["formatted"]["value"]["client_id"] == int(sys.argv[1]) and
          any(e["formatted"]["value"]["mac"]) for e in json.load(sys.stdin)))' "$1" |
		grep -qx True
}
export -f dropped_as spoof mac_known rig_dp
EXT0_MAC=$(mac_of ext0)
INT0_MAC=$(mac_of int0)
export EXT0_MAC INT0_MAC
rig_read_share 1
rig_read_share 2
for src in 127.0.0.1 224.0.0.5 240.0.0.1 0.1.2.3; do
	check "from atk, UDP to G:$H1_PORT_FIRST from $src: src_martian" \
		dropped_as src_martian spoof atk "$EXT0_MAC" to-g $src $G $H1_PORT_FIRST
done
check "from atk, UDP to G:$H1_PORT_FIRST from h2's address: src_internal" \
	dropped_as src_internal spoof atk "$EXT0_MAC" to-g $H2_ADDR $G $H1_PORT_FIRST
check "... from Gi: src_internal" \
	dropped_as src_internal spoof atk "$EXT0_MAC" to-g $GI $G $H1_PORT_FIRST
check "... from the routed internal subnet $ROUTED_NET (--internal-nets): src_internal" \
	dropped_as src_internal spoof atk "$EXT0_MAC" to-g 10.99.3.4 $G $H1_PORT_FIRST
check "... from G: src_global" \
	dropped_as src_global spoof atk "$EXT0_MAC" to-g $G $G $H1_PORT_FIRST
check "h1's MAC is resolved in xdnat_hosts (the next check needs it)" \
	wait_until 10 bash -c "ping_out; mac_known $H1_CID"
check "from latk, a tunnel packet with h1's address from latk's MAC: host_mac_mismatch" \
	dropped_as host_mac_mismatch spoof latk "$INT0_MAC" tunnel $H1_ADDR $GI $G $PEER \
		$H1_PORT_FIRST 7
check "from h1, a port unreachable about h2's port: icmp_quote_not_own" \
	dropped_as icmp_quote_not_own spoof h1 "$INT0_MAC" unreach $H1_ADDR $GI $G $PEER \
		$H2_PORT_FIRST
check "... about its own port: sent out (fwd_to_ext)" \
	dropped_as fwd_to_ext spoof h1 "$INT0_MAC" unreach $H1_ADDR $GI $G $PEER $H1_PORT_FIRST
check "from h1, a fragment tail with no first fragment: frag_unknown" \
	dropped_as frag_unknown spoof h1 "$INT0_MAC" tail $H1_ADDR $GI $G $PEER
check "xdnatctl stats names the new reasons" bash -c "rig_ctl stats > '$TMP/stats.txt' && \
	grep -q '^src_martian ' '$TMP/stats.txt' && grep -q '^host_mac_mismatch ' '$TMP/stats.txt' && \
	grep -q '^frag_budget ' '$TMP/stats.txt'"

# --- the gateway's key, pinned by the agents -------------------------------------------
check "h2 pinned the gateway's key at first use" cmp -s "$TMP/h2/gateway.pub" "$RIG_GW_STATE/gateway.pub"
rig_agent_stop 2
rig_host 2 down --state-dir "$TMP/h2" >/dev/null 2>&1
rig_gw_stop
mv "$RIG_GW_STATE/gateway.key" "$TMP/gateway.key.real"
rig_gw_start
out=$(timeout 40 ip netns exec "$H2" "$XDNAT_HOST" up --gateway $GI --dev eth0 \
	--state-dir "$TMP/h2" --socket "$TMP/h2.sock" 2>&1)
check "a gateway with another key: h2 refuses it, naming both keys" \
	grep -q "signs with key [0-9a-f]*, not the pinned" <<<"$out"
check "... and configured nothing (G not on h2's lo)" \
	bash -c "! ip -n '$H2' addr show dev lo | grep -q $G"
rig_gw_stop
mv "$TMP/gateway.key.real" "$RIG_GW_STATE/gateway.key"
rig_gw_start
rig_agent_start 2
check "the real gateway back: h2 registers again" wait_until 30 rig_ready

summary
