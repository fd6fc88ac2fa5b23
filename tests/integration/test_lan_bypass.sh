#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Finding 15 of issue 13 (docs/security.md): the gateway cannot be bypassed
# on the LAN. On the rig (rig.sh), latk, a neighbour of h1 and h2, tries:
#
#   ARP who-has G on the LAN      only the gateway answers (the agents set
#                                 arp_ignore 1: G is on their lo)
#   UDP and ICMP to G sent to     nothing reaches h1's socket bound to G,
#   h1's MAC                      no echo reply; counted as plain_to_g in
#                                 h1's `xdnat-host status`, while the same
#                                 port through the gateway works
#   IPIP latk -> h1 carrying a    nothing reaches the socket; tunnel_not_gw
#   datagram to G
#   UDP from G to h1's address    local_source (accept_local, which the
#                                 agent sets for the hairpin, would take it)
#
# and h1's own multicast, looped back to it, still arrives (host_ingress
# passes it). Each attack, packets built with scapy on latk, is answered by
# a control that shows the path works (h1 answers ARP and ping for its own
# address; the peer's datagram to the same port arrives through the gateway).
. "$(dirname "$0")/lib.sh"
require_root
. "$(dirname "$0")/rig.sh"

if ! rig_up; then fail "rig up"; summary; exit 1; fi
pass "rig up: h1 client $H1_CID, h2 client $H2_CID, the LAN attacker at $LATK_ADDR"

mac() { rig_in "$1" cat "/sys/class/net/$2/address"; }
H1_MAC=$(mac h1 eth0) H2_MAC=$(mac h2 eth0) GI_MAC=$(mac gw int0) LATK_MAC=$(mac latk eth0)
h1_ctr() { rig_host 1 status --json | json "d['tunnel']['$1']['packets']"; }
PORT=$((H1_PORT_FIRST + 5))

# latk's packets, from scapy: every command prints one line of what it saw
cat > "$TMP/latk.py" <<'PY'
import logging, sys
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import ARP, ICMP, IP, UDP, Ether, conf, get_if_hwaddr, sendp, srp, srp1
conf.verb = 0
ME = get_if_hwaddr("eth0")	# scapy's default needs a route to the destination
cmd, a = sys.argv[1], sys.argv[2:]
if cmd == "arp":		# arp MYMAC MYIP TARGET: the MACs that answer
	ans, _ = srp(Ether(dst="ff:ff:ff:ff:ff:ff", src=a[0]) /
		     ARP(op=1, hwsrc=a[0], psrc=a[1], pdst=a[2]),
		     iface="eth0", timeout=2, multi=True)
	print(" ".join(sorted({r[ARP].hwsrc for _, r in ans})) or "none")
elif cmd == "udp":		# udp DSTMAC SRC DST DPORT TEXT COUNT
	sendp(Ether(dst=a[0], src=ME) / IP(src=a[1], dst=a[2]) / UDP(sport=40000, dport=int(a[3])) /
	      a[4].encode(), iface="eth0", count=int(a[5]))
	print("sent")
elif cmd == "ping":		# ping DSTMAC DST SRC: echo reply or none
	r = srp1(Ether(dst=a[0], src=ME) / IP(src=a[2], dst=a[1]) / ICMP(id=0x1515, seq=1) / b"bypass",
		 iface="eth0", timeout=2)
	print("reply from %s" % r[IP].src if r is not None and ICMP in r and
	      r[ICMP].type == 0 else "none")
elif cmd == "ipip":		# ipip DSTMAC OSRC ODST ISRC IDST DPORT TEXT
	sendp(Ether(dst=a[0], src=ME) / IP(src=a[1], dst=a[2]) / IP(src=a[3], dst=a[4]) /
	      UDP(sport=40001, dport=int(a[5])) / a[6].encode(), iface="eth0", count=3)
	print("sent")
PY
latk() { rig_in latk "$PY" "$TMP/latk.py" "$@"; }

# --- ARP for G: the gateway alone answers ---------------------------------------------
out=$(latk arp "$LATK_MAC" $LATK_ADDR $H1_ADDR)
check "control: ARP who-has h1's own address: h1 answers ($out)" test "$out" = "$H1_MAC"
out=$(latk arp "$LATK_MAC" $LATK_ADDR $G)
check "ARP who-has G on the LAN: only the gateway ($GI_MAC) answers, not h1 or h2 ($out)" \
	test "$out" = "$GI_MAC"
check "the agents said why they set arp_ignore" bash -c \
	"grep -q 'arp_ignore = 1 (was 0): no ARP answers for G' '$TMP/h1.log' &&
	 grep -q 'arp_ignore = 1 (was 0)' '$TMP/h2.log'"

# --- UDP to G at h1's MAC ---------------------------------------------------------------
before=$(h1_ctr plain_to_g)
rig_bg h1 "$TMP/udp.log" "$PY" "$TRAFFIC" udp-recv-tos $G $PORT 8
wait_for_line "$TMP/udp.log" ready || fail "h1's listener on G:$PORT did not start"
latk udp "$H1_MAC" $LATK_ADDR $G $PORT from-latk 3 >/dev/null
latk udp "$H1_MAC" $PEER $G $PORT as-the-peer 3 >/dev/null
# the control, after the attack: the peer's datagram through the gateway
rig_py ext udp-send $PEER 5600 $G $PORT through-the-gateway >/dev/null
wait_for_line "$TMP/udp.log" through-the-gateway
sed 's/^/    /' "$TMP/udp.log"
check "control: the peer's datagram to G:$PORT reaches h1's socket through the gateway" \
	grep -q "'through-the-gateway' from $PEER:5600" "$TMP/udp.log"
check "UDP to G:$PORT at h1's MAC, from latk's address or posing as the peer: none arrives" \
	bash -c "! grep -q -e from-latk -e as-the-peer '$TMP/udp.log'"
n=$(($(h1_ctr plain_to_g) - before))
check "... all 6 counted as plain_to_g in h1's status ($n)" test "$n" -ge 6
check "... and status (text) shows the counter" bash -c \
	"ip netns exec '$H1' '$XDNAT_HOST' status --socket '$TMP/h1.sock' | grep -q 'plain_to_g [1-9]'"

# --- ICMP echo to G at h1's MAC -----------------------------------------------------------
out=$(latk ping "$H1_MAC" $H1_ADDR $LATK_ADDR)
check "control: latk's ping of h1's own address at h1's MAC is answered ($out)" \
	test "$out" = "reply from $H1_ADDR"
before=$(h1_ctr plain_to_g) enc=$(h1_ctr encap)
out=$(latk ping "$H1_MAC" $G $LATK_ADDR)
check "ping G at h1's MAC: no reply ($out)" test "$out" = none
# a reply from G would leave through the tunnel, not to latk: none left at all
check "... h1 sent none (nothing tunnelled from G meanwhile)" test "$(h1_ctr encap)" = "$enc"
check "... counted as plain_to_g" test $(($(h1_ctr plain_to_g) - before)) -ge 1

# --- IPIP from latk to h1, a datagram to G inside --------------------------------------------
before=$(h1_ctr tunnel_not_gw)
rig_bg h1 "$TMP/ipip.log" "$PY" "$TRAFFIC" udp-recv-tos $G $PORT 6
wait_for_line "$TMP/ipip.log" ready || fail "h1's listener did not start"
latk ipip "$H1_MAC" $LATK_ADDR $H1_ADDR $PEER $G $PORT in-latks-tunnel >/dev/null
rig_py ext udp-send $PEER 5601 $G $PORT through-the-gateway >/dev/null
wait_for_line "$TMP/ipip.log" through-the-gateway
check "IPIP latk -> h1 carrying a datagram to G:$PORT: not delivered (the gateway's is)" \
	bash -c "grep -q through-the-gateway '$TMP/ipip.log' && ! grep -q in-latks-tunnel '$TMP/ipip.log'"
n=$(($(h1_ctr tunnel_not_gw) - before))
check "... counted as tunnel_not_gw ($n)" test "$n" -ge 3

# --- from G, h1's own address, on the LAN ----------------------------------------------------
before=$(h1_ctr local_source)
rig_bg h1 "$TMP/local.log" "$PY" "$TRAFFIC" udp-recv-tos $H1_ADDR 7000 4
wait_for_line "$TMP/local.log" ready || fail "h1's listener on $H1_ADDR:7000 did not start"
latk udp "$H1_MAC" $G $H1_ADDR 7000 from-g 2 >/dev/null
latk udp "$H1_MAC" $LATK_ADDR $H1_ADDR 7000 from-latk 1 >/dev/null
wait_for_line "$TMP/local.log" from-latk
check "UDP from G to h1's address on the LAN: dropped (latk's own datagram arrives)" \
	bash -c "grep -q from-latk '$TMP/local.log' && ! grep -q from-g '$TMP/local.log'"
check "... counted as local_source" test $(($(h1_ctr local_source) - before)) -ge 2

# --- the host's own multicast, looped back, still arrives -----------------------------------
check "h1's own multicast on eth0 comes back to its listener (IP_MULTICAST_LOOP)" \
	rig_in h1 "$PY" -c "
import socket, struct
grp, port = '239.1.2.3', 7001
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r.bind((grp, port))
r.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
             socket.inet_aton(grp) + socket.inet_aton('$H1_ADDR'))
r.settimeout(3)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton('$H1_ADDR'))
s.sendto(b'mc', (grp, port))
assert r.recv(16) == b'mc'
"

summary
