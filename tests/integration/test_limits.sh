#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Issue 13's control-plane limits, live on the rig (rig.sh): xdnatd with its
# data plane, h1 and h2 with their agents, ext and atk on the external side.
#
#   finding 5: a REGISTER from ext and atk, to Gi and to G, gets no answer
#              and makes no host; the same datagram from h1 does register.
#   finding 6: 1000 revocations (a CRL of ~35 KiB): the agents fetch it whole
#              over PAP (crl.pem), curl fetches it over HTTP from the URL the
#              certificates name (openssl x509 -text: the CRL DP), both parse
#              with openssl crl and are the same CRL.
#   finding 3: --sa-budget 512: h1 validates two peers (2 x 256 SPIs), the
#              third is refused budget-exceeded; xdnat_sa holds exactly 512.
#   finding 4: a burst of replies where every other request came from UDP
#              source port 0: every other reply arrives, send_errors counts.
. "$(dirname "$0")/lib.sh"
require_root
. "$(dirname "$0")/rig.sh"

N_REVOKED=1000
CRL_PORT=8555
export -f json rig_ns rig_in rig_ctl rig_host
export PY XDNATCTL XDNAT_HOST RIG_GW_SOCK TMP EXT ATK GW H1 H2

# The CA's record holds N_REVOKED revocations before xdnatd first starts:
# 128-bit serials, as the CA makes them, listed for ever (no expiry).
mkdir -p "$RIG_GW_STATE"
{
	echo "# xdnat crl.list v1"
	echo "number 1"
	for i in $(seq 1 $N_REVOKED); do
		printf '7%07x%08x%08x%08x %d\n' $i $((i * 40503)) $((i ^ 0x5a5a5a5a)) $i \
			$(($(date +%s) - 10))
	done
} > "$RIG_GW_STATE/crl.list"

RIG_GW_FLAGS=(--sa-budget 512)
T0=$SECONDS
if ! rig_up; then fail "rig up"; summary; exit 1; fi
pass "rig up in $((SECONDS - T0)) s (--sa-budget 512, $N_REVOKED revocations on record)"

# pap_send NS DST [SPORT]: one REGISTER (fresh key) to DST:4555, again with
# the COOKIE when the answer is one (docs/pap.md); prints the type of the
# last answer (3: REGISTER_REPLY, 1: ERROR) or "none" after 2 s.
pap_send() {
	rig_in "$1" "$PY" -c '
import os, socket, struct, sys
dst, sport = sys.argv[1], int(sys.argv[2])
tlv = struct.pack("!BH", 7, 32) + os.urandom(32)
def register(extra):
    body = tlv + extra
    return struct.pack("!BBHIII", 1, 2, 16 + len(body), 0x1234, 0, 0) + body
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
if sport: s.bind(("", sport))
s.settimeout(2)
s.sendto(register(b""), (dst, 4555))
try:
    r = s.recv(65536)
    # ERROR COOKIE: ERROR_CODE 24, then the COOKIE TLV (type 21, 16 bytes)
    if r[1] == 1 and r[16:21] == struct.pack("!BHH", 8, 2, 24):
        s.sendto(register(r[21:40]), (dst, 4555))
        r = s.recv(65536)
    print(r[1])
except socket.timeout:
    print("none")' "$2" "${3:-0}"
}
n_hosts() { rig_ctl hosts --json | json "len(d['hosts'])"; }
stat_pap() { rig_ctl stats --json | json "d['pap']['$1']"; }

# --- finding 5: PAP from the internet --------------------------------------------
# The external side reaches Gi through the gateway (its weak host model would
# deliver a datagram for Gi from any NIC to a socket bound to Gi): the
# on-link attacker directly, the peer behind the router through it.
rig_in rtr ip route add 10.0.0.0/24 via $GW_EXT
rig_in atk ip route add 10.0.0.0/24 via $GW_EXT
hosts0=$(n_hosts)
for ns in ext atk; do
	for dst in $GI $G; do
		check "finding 5: REGISTER from $ns to $dst: no answer" \
			test "$(pap_send $ns $dst)" = none
	done
done
check "finding 5: ... and no host made (xdnatctl hosts: $hosts0)" test "$(n_hosts)" = "$hosts0"
check "finding 5: Gi answers pings from ext (the route is there: PAP alone is closed)" \
	rig_in ext ping -c 1 -W 2 $GI
check "finding 5: the same REGISTER from h1 is answered (REGISTER_REPLY)" \
	test "$(pap_send h1 $GI)" = 3
check "finding 5: ... and makes a host" test "$(n_hosts)" = $((hosts0 + 1))

# --- finding 6: the CRL, over PAP and HTTP ----------------------------------------
C1=$TMP/h1/cert
check "finding 6: h1's agent fetched the CRL over PAP (crl.pem)" wait_until 20 test -s "$C1/crl.pem"
revoked_in() { openssl crl -in "$1" "${@:2}" -noout -text | grep -c 'Serial Number:'; }
check "finding 6: openssl crl parses it: $N_REVOKED revocations (not cut at one datagram)" \
	test "$(revoked_in "$C1/crl.pem")" -ge $N_REVOKED
ls -l "$C1/crl.pem" | awk '{ print "    crl.pem: " $5 " bytes" }'
check "finding 6: the certificate names the CRL DP http://$GI:$CRL_PORT/crl.der" bash -c \
	"openssl x509 -in '$C1/host.crt' -noout -text | grep -A3 'X509v3 CRL Distribution Points' |
	 grep -q 'URI:http://$GI:$CRL_PORT/crl.der'"
check "finding 6: and no RFC 5612 documentation PEN (32473) in it" bash -c \
	"! openssl x509 -in '$C1/host.crt' -noout -text | grep -q 32473 &&
	 openssl x509 -in '$C1/host.crt' -noout -text | grep -q '2.25.310388229473022331704350473149991447902'"
check "finding 6: curl from h1 fetches /crl.der over HTTP" \
	rig_in h1 curl -sf -o "$TMP/crl.der" "http://$GI:$CRL_PORT/crl.der"
check "finding 6: openssl crl parses it: $N_REVOKED revocations" \
	test "$(revoked_in "$TMP/crl.der" -inform DER)" -ge $N_REVOKED
check "finding 6: the same CRL as the agent's (PAP) and xdnatctl crl" bash -c \
	"openssl crl -in '$TMP/crl.der' -inform DER > '$TMP/http.pem' &&
	 '$XDNATCTL' --socket '$RIG_GW_SOCK' crl > '$TMP/ctl.pem' &&
	 cmp '$TMP/http.pem' '$TMP/ctl.pem' && cmp '$TMP/http.pem' '$C1/crl.pem'"
check "finding 6: /crl.pem is served too, as application/x-pem-file" bash -c \
	"ip netns exec '$H1' curl -sf -D - -o '$TMP/crl2.pem' 'http://$GI:$CRL_PORT/crl.pem' |
	 grep -qi 'Content-Type: application/x-pem-file' && cmp '$TMP/crl2.pem' '$TMP/ctl.pem'"
check "finding 6: POST is refused (405), other paths 404" bash -c \
	"[ \$(ip netns exec '$H1' curl -s -o /dev/null -w '%{http_code}' -X POST \
	   'http://$GI:$CRL_PORT/crl.der') = 405 ] &&
	 [ \$(ip netns exec '$H1' curl -s -o /dev/null -w '%{http_code}' \
	   'http://$GI:$CRL_PORT/ca.key') = 404 ]"

# --- finding 3: the SA budget ------------------------------------------------------
PEER3=203.0.113.77
sa_entries() { bpftool -j map dump pinned "$RIG_BPFFS/xdnat_sa" | json "len(d)"; }
sa0=$(sa_entries)
check "finding 3: h1 validates $PEER (256 SPIs)" rig_host 1 validate $PEER
check "finding 3: h1 validates $ATTACKER (512 of its 512)" rig_host 1 validate $ATTACKER
rig_host 1 validate $PEER3 > "$TMP/v3.out" 2>&1; rc=$?
check "finding 3: a third peer is refused: budget-exceeded" bash -c \
	"[ $rc != 0 ] && grep -q 'budget-exceeded' '$TMP/v3.out'"
sed 's/^/    /' "$TMP/v3.out"
check "finding 3: xdnat_sa holds exactly h1's 512 more" test "$(sa_entries)" = $((sa0 + 512))
check "finding 3: h2 still validates (its own budget)" rig_host 2 validate $PEER3
check "finding 3: ... its 256 entries in the map" test "$(sa_entries)" = $((sa0 + 768))
rig_host 1 invalidate $ATTACKER >/dev/null 2>&1
check "finding 3: after an invalidate, h1's third peer goes in" rig_host 1 validate $PEER3

# --- finding 4: a reply to port 0 must not take the batch down ---------------------
# h2 sends 64 malformed 32-byte requests in one burst (each gets an ERROR, no
# bigger than the request),
# every other one from UDP source port 0 (raw socket), the rest from 32 bound
# sockets; all 32 of those must be answered.
se0=$(stat_pap send_errors)
got=$(rig_in h2 "$PY" -c '
import socket, struct, sys, time
gi = sys.argv[1]
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b + b"\0" * (len(b) % 2)))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
me = sys.argv[2]
socks = []
for i in range(32):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((me, 41000 + i)); s.setblocking(False); socks.append(s)
raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
payload = struct.pack("!BBHIII", 1, 4, 99, 7, 9, 1) + bytes(16)   # length mismatch: an ERROR back
for i in range(32):
    for sport in (0, 41000 + i):
        udp = struct.pack("!HHHH", sport, 4555, 8 + len(payload), 0) + payload
        ph = socket.inet_aton(me) + socket.inet_aton(gi) + struct.pack("!BBH", 0, 17, len(udp))
        c = csum(ph + udp) or 0xffff
        udp = udp[:6] + struct.pack("!H", c) + udp[8:]
        raw.sendto(udp, (gi, 0))
time.sleep(1.5)
n = 0
for s in socks:
    try:
        s.recv(2048); n += 1
    except BlockingIOError:
        pass
print(n)' $GI $H2_ADDR)
check "finding 4: all 32 replies to real ports arrive (got $got)" test "$got" = 32
check "finding 4: the port-0 replies are counted as send_errors" \
	test "$(stat_pap send_errors)" -gt "$se0"
echo "    send_errors: $se0 -> $(stat_pap send_errors)"

summary
