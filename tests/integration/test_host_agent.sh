#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# xdnat-host against a live xdnatd (control plane only: no XDP on the
# gateway) in network namespaces: gw holds a bridge at Gi = 10.0.0.1, h1
# (10.0.0.11) and h2 (10.0.0.12) hang off it.
#
#   flags; gateway unreachable; up in h1 and h2 (shares match xdnatctl,
#   G on lo, rule, route, tc filters, sysctls); validate / invalidate (xdnatctl sa);
#   the tunnel at packet level (UDP from G leaves h1 as IPIP 10.0.0.11 ->
#   10.0.0.1; IPIP from gw reaches a socket bound to G in h1); lease renewal;
#   SIGTERM keeps the share and a new `up` resumes; the gateway loses its
#   state -> the agents re-register and re-claim the same share; kill -9 ->
#   the lease runs out and the share is freed; down (with and without an
#   agent); partial grant; site key refused; --global (another G refused,
#   the gateway's own accepted).
. "$(dirname "$0")/lib.sh"
require_root

PY=/usr/bin/python3		# Debian's python3-scapy lives there
HOST=$BUILD/xdnat-host
XDNATD=$BUILD/xdnatd
CTL=$BUILD/xdnatctl
G=198.51.100.1
PEER=203.0.113.10
LEASE=6

bridge_two_hosts

GWSOCK=$TMP/xdnatd.sock
start_gw() {	# start_gw: the main gateway on its state dir
	rm -f "$GWSOCK"
	start_bg "$GW" "$TMP/xdnatd.log" "$XDNATD" --global $G --internal 10.0.0.1 \
		--state-dir "$TMP/gwstate" --socket "$GWSOCK" --bpffs "$TMP/bpf" \
		--ports 20000-29999 --spis 4096-1048575 --lease $LEASE --foreground
	GWPID=$LAST_PID
	wait_for_socket "$GWSOCK"
}
ctl() { "$CTL" --socket "$GWSOCK" "$@"; }
# host N ARGS...: xdnat-host in hN with hN's socket
host() {
	local n=$1; shift
	local ns=$([ "$n" = 1 ] && echo "$H1" || echo "$H2")
	ip netns exec "$ns" "$HOST" "$@"
}
up_bg() {	# up_bg N [extra flags]: the agent of hN in the background
	local n=$1; shift
	local ns=$([ "$n" = 1 ] && echo "$H1" || echo "$H2")
	start_bg "$ns" "$TMP/h$n.log" "$HOST" up --gateway 10.0.0.1 --dev eth0 \
		--lease $LEASE --state-dir "$TMP/h$n" --socket "$TMP/h$n.sock" "$@"
	eval "AGENT$n=$LAST_PID"
}
wait_status() {	# wait_status N: until the agent of hN answers (or 20 s)
	local i
	for ((i = 0; i < 100; i++)); do
		host "$1" status --socket "$TMP/h$1.sock" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}
until_true() {	# until_true SECONDS COMMAND...: poll until it succeeds
	local end=$((SECONDS + $1)); shift
	while ((SECONDS < end)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.3; done
	"$@"
}
# JSON helper: json_get 'python expression over d' < json
json_get() { $PY -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
gw_host() {	# gw_host ADDR KEY: a host's field in xdnatctl hosts --json
	ctl hosts --json | json_get "[h['$2'] for h in d['hosts'] if h['address']=='$1']"
}

# check runs its command in a child: give it the helpers
export -f json_get ctl host gw_host wait_status until_true
export PY HOST CTL GWSOCK H1 H2 TMP

# --- flags ---------------------------------------------------------------------
out=$("$HOST" up --gateway 10.0.0.1 --dev eth0 --no-such-flag 2>&1); rc=$?
check "bad flag: exit 2 with a one-line error" \
	test "$rc" -eq 2 -a "$(echo "$out" | wc -l)" -eq 1
out=$("$HOST" up --dev eth0 2>&1); rc=$?
check "missing --gateway: exit 2 naming it" bash -c "[ $rc -eq 2 ] && grep -q -- --gateway <<<'$out'"
out=$("$HOST" validate 2>&1); rc=$?
check "validate without a peer: exit 2" test "$rc" -eq 2
check "every command has --help" bash -c "for c in up status validate invalidate down; do \
	'$HOST' \$c --help | grep -q usage || exit 1; done"
check "status without an agent: exit 1" bash -c "! '$HOST' status --socket '$TMP/none.sock'"

# --- gateway unreachable: bounded time, one clear line, nothing left behind --------
t0=$SECONDS
out=$(timeout 60 ip netns exec "$H1" "$HOST" up --gateway 10.0.0.1 --dev eth0 \
	--state-dir "$TMP/unreach" --socket "$TMP/unreach.sock" 2>&1); rc=$?
elapsed=$((SECONDS - t0))
check "gateway unreachable: exits non-zero" test "$rc" -ne 0 -a "$rc" -ne 124
check "gateway unreachable: gives up within 40 s (took ${elapsed}s)" test "$elapsed" -le 40
check "gateway unreachable: one error line saying so" \
	bash -c "[ \$(grep -c 'error' <<<'$out') -eq 1 ] && grep -q 'does not answer' <<<'$out'"
check "gateway unreachable: G not configured, no state" bash -c \
	"! ip -n '$H1' addr show dev lo | grep -q $G && [ ! -e '$TMP/unreach/state' ]"

# --- up in h1 and h2 ---------------------------------------------------------------
tx_csum() { ip netns exec "$1" ethtool -k eth0 | awk '/^tx-checksumming:/ {print $2}'; }
export -f tx_csum
check "h1, h2: eth0 (a veth) starts with TX checksum offload on" \
	bash -c "[ \"\$(tx_csum '$H1') \$(tx_csum '$H2')\" = 'on on' ]"
# the sysctls the agent sets, as they are before: `down` must put them back
SYSCTLS="rp_filter arp_announce arp_ignore accept_local"
sysctls() { local k; for k in $SYSCTLS; do cat "/proc/sys/net/ipv4/conf/eth0/$k"; done | tr '\n' ' '; }
export -f sysctls
export SYSCTLS
ip netns exec "$H1" sysctl -qw net.ipv4.conf.eth0.rp_filter=2
SYSCTLS_BEFORE=$(ip netns exec "$H1" bash -c sysctls)
SYSCTLS_BEFORE2=$(ip netns exec "$H2" bash -c sysctls)
start_gw
up_bg 1
up_bg 2
check "h1 agent answers" wait_status 1
check "h2 agent answers" wait_status 2
for n in 1 2; do
	host $n status --json --socket "$TMP/h$n.sock" > "$TMP/h$n.json"
	check "h$n: status --json ports and SPIs equal xdnatctl hosts --json" bash -c \
		"[ \"\$(json_get \"(d['ports'], d['spis'])\" < '$TMP/h$n.json')\" = \
		   \"\$(ctl hosts --json | json_get \"[(h['ports'], h['spis']) for h in d['hosts'] \
			if h['address']=='10.0.0.1$n'][0]\")\" ]"
done
for n in 1 2; do
	ns=$([ "$n" = 1 ] && echo "$H1" || echo "$H2")
	check "h$n: the agent turned TX checksum offload off on its veth" \
		bash -c "[ \"\$(tx_csum '$ns')\" = off ]"
	check "h$n: and says so once in its log" \
		bash -c "[ \$(grep -c 'eth0 is a veth: TX checksum offload off' '$TMP/h$n.log') -eq 1 ]"
	check "h$n: the state remembers it was on" grep -qx "tx_csum_prev 1" "$TMP/h$n/state"
done
check "h1 and h2 hold different ports" bash -c "[ \"\$(json_get \"d['ports']\" < '$TMP/h1.json')\" != \
	\"\$(json_get \"d['ports']\" < '$TMP/h2.json')\" ]"
P1=$(json_get "d['ports'][0]['first']" < "$TMP/h1.json")
S1=$(json_get "d['spis'][0]['first']" < "$TMP/h1.json")
S1L=$(json_get "d['spis'][0]['last']" < "$TMP/h1.json")
S2=$(json_get "d['spis'][0]['first']" < "$TMP/h2.json")
CID1=$(json_get "d['client_id']" < "$TMP/h1.json")
check "h1: 64 ports, 256 SPIs by default" bash -c "json_get \"(d['ports'][0]['last'] - \
	d['ports'][0]['first'] + 1, d['spis'][0]['last'] - d['spis'][0]['first'] + 1)\" \
	< '$TMP/h1.json' | grep -qx '(64, 256)'"
check "h1: NAT-T port is the second port of the block" \
	test "$(json_get "d['natt_port']" < "$TMP/h1.json")" = $((P1 + 1))
check "h1: G on lo" bash -c "ip -n '$H1' -4 addr show dev lo | grep -q 'inet $G/32'"
check "h1: rule from G lookup 4555" bash -c "ip -n '$H1' rule | grep -q 'from $G lookup 4555'"
check "h1: route via Gi, mtu 1480, advmss 1440" bash -c "ip -n '$H1' route show table 4555 | \
	grep 'default via 10.0.0.1 dev eth0' | grep 'mtu 1480' | grep -q 'advmss 1440'"
check "h1: rp_filter 0, arp_announce 2, arp_ignore 1, accept_local 1 on eth0 (was $SYSCTLS_BEFORE)" \
	bash -c "[ \"\$(ip netns exec '$H1' bash -c sysctls)\" = '0 2 1 1 ' ]"
check "h1: the log says so, with why (arp_ignore: only the gateway answers ARP for G)" \
	bash -c "grep -q 'sysctl net.ipv4.conf.eth0.arp_ignore = 1 (was 0): no ARP answers for G' \
		'$TMP/h1.log' && grep -q 'sysctl net.ipv4.conf.eth0.accept_local = 1 (was 0)' '$TMP/h1.log'"
check "h1: the state remembers what they were" bash -c "grep -qx 'arp_ignore_prev 0' \
	'$TMP/h1/state' && grep -qx 'rp_filter_prev 2' '$TMP/h1/state'"
for dir in egress ingress; do
	check "h1: tc $dir filter host_$dir" \
		bash -c "tc -n '$H1' filter show dev eth0 $dir | grep -q host_$dir"
done
check "h1: state file is mode 0600" bash -c "[ \$(stat -c %a '$TMP/h1/state') = 600 ]"
check "status (text) shows the certificate the agent got after up" bash -c \
	"host 1 status --socket '$TMP/h1.sock' | grep -q 'certificate.*$TMP/h1/cert/host.crt, serial'"

# --- validate / invalidate ------------------------------------------------------------
check "validate PEER (all SPIs)" host 1 validate $PEER --socket "$TMP/h1.sock"
check "xdnatctl sa shows PEER on h1's SPI block" bash -c \
	"ctl sa --json | json_get \"[(s['peer'], s['spi_first'], s['spi_last']) for s in d['sas'] \
		if s['host']=='10.0.0.11']\" | grep -q \"('$PEER', $S1, $S1L)\""
check "validate --spi X (one SPI: X-X)" host 1 validate 203.0.113.20 --spi $((S1 + 1)) \
	--socket "$TMP/h1.sock"
check "xdnatctl sa shows the single SPI" bash -c \
	"ctl sa --json | grep -q \
	 '\"peer\":\"203.0.113.20\",\"spi_first\":$((S1 + 1)),\"spi_last\":$((S1 + 1))'"
check "status lists the validated peers" bash -c \
	"host 1 status --json --socket '$TMP/h1.sock' | json_get \"len(d['validated_peers'])\" | grep -qx 2"
check "invalidate --spi X" host 1 invalidate 203.0.113.20 --spi $((S1 + 1)) --socket "$TMP/h1.sock"
check "xdnatctl sa no longer shows it" bash -c "! ctl sa | grep -q 203.0.113.20"
out=$(host 1 validate 203.0.113.30 --spi "$S2" --socket "$TMP/h1.sock" 2>&1); rc=$?
check "validate of h2's SPI: refused, not-owner" bash -c "[ $rc -eq 1 ] && grep -q not-owner <<<'$out'"
out=$(host 1 invalidate 203.0.113.40 --socket "$TMP/h1.sock" 2>&1); rc=$?
check "invalidate of an unknown peer: refused, not-found" \
	bash -c "[ $rc -eq 1 ] && grep -q not-found <<<'$out'"

# --- the tunnel, packet by packet (no XDP on the gateway: its bridge sees all) --------
# The agent turned TX checksum offload off on h1's veth (above): the inner UDP
# checksum leaves complete, and the capture shows the real bytes.
SP=$((P1 + 2))
sniff_start "$GW" vh1 "$TMP/egress.pcap" -c 1 ip proto 4
TCPDUMP=$LAST_PID
ip netns exec "$H1" $PY -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('$G', $SP))
s.sendto(b'xdnat egress probe', ('$PEER', 9999))"
for _ in $(seq 30); do kill -0 $TCPDUMP 2>/dev/null || break; sleep 0.1; done
stop_pid $TCPDUMP INT
check "egress: UDP from G left h1 as IPIP 10.0.0.11 -> 10.0.0.1, inner intact" $PY -c "
import sys
from scapy.all import rdpcap, IP, UDP, raw
p = rdpcap('$TMP/egress.pcap')[0]
o = p[IP]
assert (o.src, o.dst, o.proto, o.ttl, o.flags.DF) == ('10.0.0.11', '10.0.0.1', 4, 64, True), o.summary()
hdr = raw(o)[:20]
assert sum(int.from_bytes(hdr[i:i + 2], 'big') for i in range(0, 20, 2)) % 0xffff == 0, 'outer sum'
i = IP(raw(o.payload))
assert (i.src, i.dst, i[UDP].sport, i[UDP].dport) == ('$G', '$PEER', $SP, 9999), i.summary()
assert bytes(i[UDP].payload) == b'xdnat egress probe'
c = i[UDP].chksum; del i[UDP].chksum; assert IP(raw(i))[UDP].chksum == c, 'inner UDP checksum'
c = i.chksum; del i.chksum; assert IP(raw(i)).chksum == c, 'inner IP checksum'
"

H1MAC=$(mac_of "$H1" eth0)
ip netns exec "$H1" $PY -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('$G', $SP)); s.settimeout(8)
d, a = s.recvfrom(2048)
print(a[0], a[1], d.decode())" > "$TMP/ingress.out" 2>&1 &
RECV=$!
sleep 1
ip netns exec "$GW" $PY -c "
from scapy.all import Ether, IP, UDP, sendp, conf
conf.verb = 0
sendp(Ether(dst='$H1MAC')/IP(src='10.0.0.1', dst='10.0.0.11', flags='DF')/
      IP(src='$PEER', dst='$G')/UDP(sport=9999, dport=$SP)/b'xdnat ingress probe', iface='br0')"
wait $RECV
check "ingress: IPIP from Gi delivered to a socket bound to G:port in h1" \
	grep -qx "$PEER 9999 xdnat ingress probe" "$TMP/ingress.out"
check "status counts the encap and the decap" bash -c "host 1 status --json --socket '$TMP/h1.sock' | \
	json_get \"d['tunnel']['encap']['packets'] >= 1 and \
		  d['tunnel']['decap']['packets'] >= 1\" | grep -q True"

# --- TCP through both ends of the tunnel: TSO/GSO survive the encapsulation ----
# With no gateway data plane, gw gets the far end from tunnel_peer (host_tunnel
# with the roles turned around): PEER lives on gw's lo, behind the tunnel. TX
# offload back on by hand (the agent turned it off; the far end here is a stack,
# not XDP, which completes the checksums): TSO makes the GSO packets.
ip netns exec "$H1" ethtool -K eth0 tx on >/dev/null 2>&1
ip -n "$GW" addr add $PEER/32 dev lo
ip -n "$GW" route add $G/32 via 10.0.0.11 dev br0 mtu 1480 advmss 1440
ip netns exec "$GW" sysctl -qw net.ipv4.conf.br0.arp_announce=2
check "gw: far end of the tunnel attached" \
	ip netns exec "$GW" "$BUILD/itest/tunnel_peer" br0 $PEER 10.0.0.1 10.0.0.11
before=$(host 1 status --json --socket "$TMP/h1.sock" | json_get "d['tunnel']['encap']['packets']")
ip netns exec "$GW" $PY -c "
import socket, hashlib
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('$PEER', 5001)); s.listen(1); s.settimeout(20)
c, a = s.accept(); c.settimeout(20)
h = hashlib.sha256()
while True:
    d = c.recv(1 << 16)
    if not d: break
    h.update(d)
c.sendall(h.hexdigest().encode()); c.close()" > "$TMP/tcp_server.out" 2>&1 &
SERVER=$!
sleep 1
ip netns exec "$H1" $PY -c "
import socket, hashlib, os
data = os.urandom(8 << 20)
s = socket.socket(); s.bind(('$G', $((P1 + 3)))); s.settimeout(20)
s.connect(('$PEER', 5001)); s.sendall(data); s.shutdown(socket.SHUT_WR)
got = s.recv(100).decode()
print('ok' if got == hashlib.sha256(data).hexdigest() else 'hash mismatch: ' + got)" \
	> "$TMP/tcp_client.out" 2>&1
wait $SERVER
check "TCP from G through the tunnel: 8 MiB arrive intact" grep -qx ok "$TMP/tcp_client.out"
sed 's/^/    /' "$TMP/tcp_client.out" "$TMP/tcp_server.out" | grep -v '^    ok$'
check "TSO/GSO: far fewer encapsulations than 1440-byte segments" bash -c \
	"host 1 status --json --socket '$TMP/h1.sock' | \
	 json_get \"d['tunnel']['encap']['packets'] - $before < (8 << 20) // 1440 // 2\" | grep -q True"
ip netns exec "$GW" "$BUILD/itest/tunnel_peer" br0

# --- renewal, SIGTERM, resume ------------------------------------------------------------
sleep $((LEASE + 3))
check "lease renewed: h1 still registered after more than a lease" bash -c \
	"gw_host 10.0.0.11 client_id | grep -q '\\[$CID1\\]'"
stop_pid "$AGENT1" TERM
check "SIGTERM: the agent exits without freeing (still in xdnatctl hosts)" bash -c \
	"gw_host 10.0.0.11 client_id | grep -q '\\[$CID1\\]'"
check "SIGTERM: G stays on lo" bash -c "ip -n '$H1' -4 addr show dev lo | grep -q 'inet $G/32'"
up_bg 1
check "a new up resumes the same client id from --state-dir" bash -c "wait_status 1 && \
	host 1 status --json --socket '$TMP/h1.sock' | json_get \"d['client_id']\" | grep -qx $CID1"
check "... and says so" grep -q "resumed client $CID1" "$TMP/h1.log"

# --- the gateway loses its state: re-register, re-claim the same share ---------------------
export H1PORTS H2PORTS
H1PORTS=$(gw_host 10.0.0.11 ports)
H2PORTS=$(gw_host 10.0.0.12 ports)
stop_pid "$GWPID" TERM
# the host table goes, the gateway's key (which the agents pinned) stays
find "$TMP/gwstate" -mindepth 1 ! -name gateway.key -delete
start_gw
check "gateway restarted empty: the agents re-register" until_true 20 bash -c \
	'[ "$(gw_host 10.0.0.11 ports)" = "$H1PORTS" ] && [ "$(gw_host 10.0.0.12 ports)" = "$H2PORTS" ]'
check "... (the shares compared were not empty)" test "$H1PORTS" != "[]" -a "$H2PORTS" != "[]"
check "h1 says it got the same share" until_true 5 grep -q "with the same share as before" "$TMP/h1.log"
check "h1's validated peer is validated again" until_true 5 bash -c "ctl sa | grep -q $PEER"

# --- kill -9: nobody renews, the lease runs out, the share is freed ------------------------
stop_pid "$AGENT2" KILL
check "kill -9 of h2's agent: its share is freed at lease expiry" until_true $((LEASE + 10)) \
	bash -c "[ \"\$(gw_host 10.0.0.12 client_id)\" = '[]' ]"

# --- down, with an agent (h1) and without (h2) ----------------------------------------------
out=$(host 1 down --socket "$TMP/h1.sock" 2>&1); rc=$?
check "down (h1): succeeds and says it deregistered" \
	bash -c "[ $rc -eq 0 ] && grep -q deregistered <<<'$out'"
check "down (h1): the agent exits" until_true 5 bash -c "! kill -0 $AGENT1"
check "down (h1): G removed from lo" bash -c "! ip -n '$H1' addr show dev lo | grep -q $G"
check "down (h1): rule and route removed" bash -c \
	"! ip -n '$H1' rule | grep -q 'lookup 4555' && \
	 [ -z \"\$(ip -n '$H1' route show table 4555 2>/dev/null)\" ]"
check "down (h1): tc filters removed" bash -c "[ -z \"\$(tc -n '$H1' filter show dev eth0 egress)\" ] && \
	[ -z \"\$(tc -n '$H1' filter show dev eth0 ingress)\" ]"
check "down (h1): state forgotten" test ! -e "$TMP/h1/state"
check "down (h1): the four sysctls as before up ($SYSCTLS_BEFORE)" \
	bash -c "[ \"\$(ip netns exec '$H1' bash -c sysctls)\" = '$SYSCTLS_BEFORE' ]"
check "down (h1): TX checksum offload as it was before up (on)" \
	bash -c "[ \"\$(tx_csum '$H1')\" = on ]"
check "xdnatctl hosts is empty" bash -c "ctl hosts --json | json_get \"len(d['hosts'])\" | grep -qx 0"
out=$(host 2 down --socket "$TMP/h2.sock" --state-dir "$TMP/h2" 2>&1); rc=$?
check "down without an agent (h2, killed): from --state-dir" bash -c "[ $rc -eq 0 ] && \
	grep -q 'already unknown' <<<'$out'"
check "down without an agent: G, rule and tc removed in h2" bash -c \
	"! ip -n '$H2' addr show dev lo | grep -q $G && ! ip -n '$H2' rule | grep -q 'lookup 4555' && \
	 [ -z \"\$(tc -n '$H2' filter show dev eth0 egress)\" ]"
check "down without an agent: TX checksum offload back on in h2" \
	bash -c "[ \"\$(tx_csum '$H2')\" = on ]"
check "down without an agent: h2's sysctls as before up ($SYSCTLS_BEFORE2)" \
	bash -c "[ \"\$(ip netns exec '$H2' bash -c sysctls)\" = '$SYSCTLS_BEFORE2' ]"
stop_pid "$GWPID" TERM

# --- a small pool with a site key: partial grant, site key refused ---------------------
printf 'xdnat-test-site-key-0123456789ab\n' > "$TMP/site.key"
printf 'not-the-right-site-key-987654321\n' > "$TMP/wrong.key"
chmod 600 "$TMP/site.key" "$TMP/wrong.key"
start_bg "$GW" "$TMP/small.log" "$XDNATD" --global 198.51.100.2 --internal 10.0.0.1 \
	--pap-port 4666 --state-dir "$TMP/small" --socket "$TMP/small.sock" --bpffs "$TMP/bpf2" \
	--ports 30000-30015 --spis 4096-4223 --site-key "$TMP/site.key" --foreground
wait_for_socket "$TMP/small.sock"
out=$(timeout 30 ip netns exec "$H2" "$HOST" up --gateway 10.0.0.1 --dev eth0 --pap-port 4666 \
	--site-key "$TMP/wrong.key" --state-dir "$TMP/h2w" --socket "$TMP/h2w.sock" 2>&1); rc=$?
check "wrong site key: refused with one line naming site-key" bash -c \
	"[ $rc -eq 1 ] && [ \$(grep -vc ': warning: feature .*: absent, using ' <<<'$out') -eq 1 ] && \
	 grep -q 'refused the registration: site-key' <<<'$out'"
out=$(timeout 30 ip netns exec "$H2" "$HOST" up --gateway 10.0.0.1 --dev eth0 --pap-port 4666 \
	--state-dir "$TMP/h2w" --socket "$TMP/h2w.sock" 2>&1); rc=$?
check "no site key: refused naming site-key" bash -c "[ $rc -eq 1 ] && grep -q site-key <<<'$out'"
# --global: an address the gateway does not hold is refused, in one line
out=$(timeout 30 ip netns exec "$H2" "$HOST" up --gateway 10.0.0.1 --dev eth0 --pap-port 4666 \
	--site-key "$TMP/site.key" --global 198.51.100.9 --state-dir "$TMP/h2g" \
	--socket "$TMP/h2g.sock" 2>&1); rc=$?
export OUT=$out	# it holds a quote
check "up --global not the gateway's: refused with one line naming it and the answer" bash -c \
	"[ $rc -eq 1 ] && [ \$(grep -vc ': warning: feature .*: absent, using ' <<<\"\$OUT\") -eq 1 ] && \
	 grep -q 'refused global address 198.51.100.9 (--global): no-resources' <<<\"\$OUT\""
check "... and leaves no state, no G" bash -c "[ ! -e '$TMP/h2g/state' ] && \
	! ip -n '$H2' addr show dev lo | grep -q 198.51.100"
# a state directory whose name JSON must escape; the gateway's own G asked for
# in the config file
export ODD='a"b\c'
printf 'global = 198.51.100.2   # the gateway'"'"'s\n' > "$TMP/h2s.conf"
start_bg "$H2" "$TMP/h2s.log" "$HOST" up --gateway 10.0.0.1 --dev eth0 --pap-port 4666 \
	--site-key "$TMP/site.key" --table 4666 --state-dir "$TMP/$ODD" --socket "$TMP/h2s.sock" \
	--config "$TMP/h2s.conf"
check "site key accepted: the agent comes up" until_true 20 \
	ip netns exec "$H2" "$HOST" status --socket "$TMP/h2s.sock"
odd_json() {	# status --json parses, with the schema and the odd state directory
	ip netns exec "$H2" "$HOST" status --json --socket "$TMP/h2s.sock" > "$TMP/odd.json" &&
	/usr/bin/python3 -c 'import json,sys; json.load(sys.stdin)' < "$TMP/odd.json" &&
	json_get "d['schema'] == 1 and d['state_file'] == '$TMP/' + chr(97) + chr(34) + 'b' + chr(92) + 'c/state'" \
		< "$TMP/odd.json" | grep -qx True
}
export -f odd_json
check "status --json is valid JSON for a state directory named $ODD" odd_json
check "global = the gateway's G (config file): registered with it" \
	grep -q "global address 198.51.100.2, lease" "$TMP/h2s.log"
check "partial grant of ports is reported" \
	grep -q "partial grant: asked for 64 ports, got 16: 30000-30015" "$TMP/h2s.log"
check "partial grant of SPIs is reported" \
	grep -q "partial grant: asked for 256 SPIs, got 128: 0x1000-0x107f" "$TMP/h2s.log"
check "down frees the small pool" bash -c "ip netns exec '$H2' '$HOST' down --socket '$TMP/h2s.sock' && \
	[ \"\$('$CTL' --socket '$TMP/small.sock' hosts --json | json_get \"len(d['hosts'])\")\" = 0 ]"

check "agents logged no errors while up" \
	bash -c "! grep -h 'error' '$TMP/h1.log' '$TMP/h2.log' '$TMP/h2s.log'"
summary
