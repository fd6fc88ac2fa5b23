#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Real IKEv2 through xdnat (issue #6): strongSwan 5.9 (charon with
# kernel-libipsec: this kernel has no ESP) in h1, h2 and the external peer,
# behind xdnatd's XDP data plane (tests/integration/rig.sh), configured only
# from what xdnat hands out:
#
#   `xdnat-host strongswan --dir DIR` writes each host's directory from its
#   agent's share: charon.port / port_nat_t = its IKE and NAT-T ports,
#   spi_min / spi_max = its SPI block, the certificate the gateway's CA issued
#   (`xdnat-host cert`'s files), an updown hook calling xdnat-host. ext trusts
#   the xdnat CA as `xdnatctl ca` prints it; ext's own certificate comes from
#   its own site's CA (openssl: the peer is someone else).
#   h1 initiates from G:ike_port to ext:500, floats to G:natt_port <-> ext:4500;
#   the hook validates ext at the gateway; ping and TCP through the tunnel;
#   every ESP SPI to G on the wire is in h1's block; a rekey keeps traffic
#   flowing; an attacker replaying ext's ESP-in-UDP from its own address is
#   dropped and counted; a new certificate reaches DIR and charon; terminating
#   the SA removes ext from the gateway's SA table. Then h1 and h2 at once,
#   ext initiating to h2 at h2's NAT-T port (the host as IKE responder).
#   If strongSwan cannot be installed, the suite says so and fails.
. "$(dirname "$0")/../integration/lib.sh"
require_root
. "$ROOT/tests/integration/rig.sh"
. "$ROOT/tests/interop/swan.sh"

if ! swan_ensure; then fail "strongSwan is needed for these tests"; summary; exit 1; fi
T0=$SECONDS
if ! rig_up; then fail "rig up"; summary; exit 1; fi
pass "rig up in $((SECONDS - T0)) s: h1 client $H1_CID, ports $H1_PORT_FIRST-$H1_PORT_LAST" \
	"(IKE $H1_IKE_PORT, NAT-T $H1_NATT_PORT), SPIs $H1_SPI_FIRST-$H1_SPI_LAST"

export -f json rig_ns rig_in rig_ctl rig_host rig_dp swan_ctl
export PY XDNATCTL XDNAT_HOST RIG_GW_SOCK TMP EXT ATK GW H1 H2

SWAN_CERTS=$TMP/certs
S_H1=$TMP/swan-h1
S_EXT=$TMP/swan-ext
check "the peer site's own CA and ext's certificate" swan_peer_certs "$SWAN_CERTS"
rig_host 1 strongswan --dir "$S_H1" --bogus > "$TMP/bad.out" 2>&1
check "xdnat-host strongswan refuses an unknown option, exit 2" \
	grep -q "unknown option '--bogus'" "$TMP/bad.out"
swan_host_conf 1 "$S_H1" --peer "$PEER" > "$TMP/conf-h1.out" 2>&1
check "xdnat-host strongswan --dir: h1's directory from its share" \
	grep -q "wrote $S_H1: IKE port $H1_IKE_PORT, NAT-T port $H1_NATT_PORT" "$TMP/conf-h1.out"
sed 's/^/    /' "$TMP/conf-h1.out"
check "... with userspace ESP: the probe found no ESP in this kernel" \
	grep -q "kernel-libipsec" "$TMP/conf-h1.out"
check "... its certificate is the one the gateway's CA issued to h1 (xdnat-host cert's files)" \
	cmp -s "$TMP/h1/cert/host.crt" "$S_H1/swanctl/x509/host.pem"
rig_ctl ca > "$TMP/xdnat-ca.pem"
check "... and verifies against \`xdnatctl ca\`" \
	openssl verify -CAfile "$TMP/xdnat-ca.pem" "$S_H1/swanctl/x509/host.pem"
swan_log_conf "$S_H1"
swan_ext_conf "$S_EXT"
swan_log_conf "$S_EXT"
# ext answers any host of the xdnat site: certificates of the xdnat CA only
cat > "$S_EXT/swanctl/conf.d/xdnat.conf" <<EOF
connections {
	xdnat-hosts {
		local_addrs = $PEER
		remote_addrs = $G
		local {
			auth = pubkey
			certs = ext.pem
		}
		remote {
			auth = pubkey
			cacerts = xdnat-ca.pem
		}
		children {
			xdnat {
				local_ts = dynamic
				remote_ts = dynamic
			}
		}
	}
}
EOF

check "h1's strongswan.conf: charon.port = IKE port, port_nat_t = NAT-T port, SPI block" bash -c \
	"grep -qxP '\tport = $H1_IKE_PORT' '$S_H1/strongswan.conf' &&
	 grep -qxP '\tport_nat_t = $H1_NATT_PORT' '$S_H1/strongswan.conf' &&
	 grep -qxP '\tspi_min = $(printf '0x%08x' "$H1_SPI_FIRST")' '$S_H1/strongswan.conf' &&
	 grep -qxP '\tspi_max = $(printf '0x%08x' "$H1_SPI_LAST")' '$S_H1/strongswan.conf'"

# Everything between ext and the gateway, for the SPIs on the wire.
sniff_start "$EXT" eth0 "$TMP/wire.pcap" udp
SNIFF=$LAST_PID
rig_bg ext "$TMP/serve.log" "$PY" "$TRAFFIC" serve $PEER 7 7
wait_for_line "$TMP/serve.log" ready || fail "echo server in ext did not start"

swan_start "$EXT" "$S_EXT" && EXT_CHARON=$LAST_PID
check "charon runs in ext (own /run, own vici socket)" test -n "${EXT_CHARON:-}"
swan_start "$H1" "$S_H1" && H1_CHARON=$LAST_PID
check "charon runs in h1 (own /run, own vici socket)" test -n "${H1_CHARON:-}"
check "ext: swanctl --load-all" swan_ctl "$S_EXT" "$EXT" --load-all
check "h1: swanctl --load-all (credentials and the xdnat connection)" \
	swan_ctl "$S_H1" "$H1" --load-all
check "h1's charon listens on G's IKE and NAT-T ports of h1's block" bash -c \
	"rig_in h1 ss -unlp | grep charon | grep -q ':$H1_IKE_PORT ' &&
	 rig_in h1 ss -unlp | grep charon | grep -q ':$H1_NATT_PORT '"

# --- h1 -> ext ----------------------------------------------------------------------
swan_ctl "$S_H1" "$H1" --initiate --child xdnat --timeout 20 > "$TMP/init-h1.out" 2>&1
check "h1 initiates from G:$H1_IKE_PORT to ext: IKE_SA and CHILD_SA established" \
	grep -q "CHILD_SA xdnat{.*} established" "$TMP/init-h1.out"
grep -E "established|sending packet|updown" "$TMP/init-h1.out" | sed 's/^/    /'

sa_lists() {	# sa_lists CID PEER: the gateway's SA table has (CID, PEER)
	rig_ctl sa --json | json "any(e['client_id'] == $1 and e['peer'] == '$2' for e in d['sas'])" |
		grep -qx True
}
check "the updown hook validated ext: the gateway's SA table lists (h1, $PEER)" \
	wait_until 10 sa_lists "$H1_CID" "$PEER"
rig_ctl sa | sed 's/^/    /'

spi_in() {	# spi_in DIR NS: the inbound SPI of the installed CHILD_SA, decimal
	swan_ctl "$1" "$2" --list-sas --raw 2>/dev/null | grep -o 'state=INSTALLED[^}]*spi-in=[0-9a-f]*' |
		sed 's/.*spi-in=//' | head -1 | while read -r s; do printf '%d\n' "0x$s"; done
}
SPI1=$(spi_in "$S_H1" "$H1")
check "h1's inbound SPI ($SPI1) is in h1's block $H1_SPI_FIRST-$H1_SPI_LAST" \
	test -n "$SPI1" -a "${SPI1:-0}" -ge "$H1_SPI_FIRST" -a "${SPI1:-0}" -le "$H1_SPI_LAST"

check "ping from G in h1 to ext through the tunnel: 5 of 5" bash -c \
	"rig_in h1 ping -c 5 -i 0.2 -W 2 -I $G $PEER | grep -q '5 packets transmitted, 5 received'"
P=$((H1_PORT_FIRST + 2))
check "TCP from G:$P in h1 to ext:7 through the tunnel: 100 kB echoed" \
	rig_py h1 tcp-echo $G $P $PEER 7 100000
check "... the peer saw G:$P" grep -qx "tcp from $G:$P" "$TMP/serve.log"
esp_pkts() {	# esp_pkts DIR NS: packets in of the installed CHILD_SA
	swan_ctl "$1" "$2" --list-sas --raw 2>/dev/null |
		grep -o 'state=INSTALLED[^}]*packets-in=[0-9]*' | sed 's/.*packets-in=//' | head -1
}
N1=$(esp_pkts "$S_H1" "$H1")
check "... and it went through the CHILD_SA (h1 decrypted $N1 packets)" test "${N1:-0}" -ge 5

# --- rekey ---------------------------------------------------------------------------
check "h1: swanctl --rekey --child xdnat" swan_ctl "$S_H1" "$H1" --rekey --child xdnat
rekeyed() { local s; s=$(spi_in "$S_H1" "$H1"); [ -n "$s" ] && [ "$s" != "$SPI1" ]; }
check "... a new CHILD_SA with a new inbound SPI" wait_until 10 rekeyed
SPI2=$(spi_in "$S_H1" "$H1")
check "... in h1's block too ($SPI2)" \
	test -n "$SPI2" -a "${SPI2:-0}" -ge "$H1_SPI_FIRST" -a "${SPI2:-0}" -le "$H1_SPI_LAST"
check "ping through the rekeyed CHILD_SA: 3 of 3" bash -c \
	"rig_in h1 ping -c 3 -i 0.2 -W 2 -I $G $PEER | grep -q '3 packets transmitted, 3 received'"

# --- a new certificate reaches DIR and charon ------------------------------------------------
serial_of() { openssl x509 -noout -serial -in "$1" | sed 's/serial=//'; }
OLD_SERIAL=$(serial_of "$S_H1/swanctl/x509/host.pem")
check "h1: xdnat-host cert (a new certificate now)" rig_host 1 cert
NEW_SERIAL=$(serial_of "$TMP/h1/cert/host.crt")
copied() { cmp -s "$TMP/h1/cert/host.crt" "$S_H1/swanctl/x509/host.pem"; }
check "the agent rewrote h1's strongSwan directory with it ($OLD_SERIAL -> $NEW_SERIAL)" \
	bash -c "test '$OLD_SERIAL' != '$NEW_SERIAL' && cmp -s '$TMP/h1/cert/host.crt' '$S_H1/swanctl/x509/host.pem'"
charon_has() {	# charon_has SERIAL: h1's charon holds the certificate (swanctl --list-certs)
	local want
	# leading zero bytes dropped, never a lone zero digit: 0f:41:... stays
	want=$(echo "$1" | tr 'A-F' 'a-f' | sed -E 's/^(00)+//; s/../&:/g; s/:$//')
	swan_ctl "$S_H1" "$H1" --list-certs 2>/dev/null | tr 'A-F' 'a-f' |
		grep -qE "serial: *(00:)*$want"
}
check "... and h1's charon loaded it (swanctl --load-all by the agent)" wait_until 15 charon_has "$NEW_SERIAL"
swan_ctl "$S_H1" "$H1" --list-certs 2>/dev/null | grep -m2 -E "subject|serial" | sed 's/^/    /'

# A restarted agent takes a certificate of its own and keeps the directory
# current from its state: nothing to run again.
rig_agent_stop 1
rig_agent_start 1
agent_up() { rig_host 1 status --json >/dev/null 2>&1; }
check "h1's agent restarted (SIGTERM, up again)" wait_until 15 agent_up
fresh() { [ "$(serial_of "$TMP/h1/cert/host.crt")" != "$NEW_SERIAL" ] && copied; }
check "... its new certificate is in h1's strongSwan directory without a new command" \
	wait_until 15 fresh
check "... and in h1's charon" wait_until 15 charon_has "$(serial_of "$TMP/h1/cert/host.crt")"
check "ping through the CHILD_SA across the agent's restart: 3 of 3" bash -c \
	"rig_in h1 ping -c 3 -i 0.2 -W 2 -I $G $PEER | grep -q '3 packets transmitted, 3 received'"

# --- the wire ----------------------------------------------------------------------------
stop_pid "$SNIFF" INT
SPIS=$(swan_spis_in "$TMP/wire.pcap" "$G" "$H1_NATT_PORT" | tr '\n' ' ')
echo "    ESP-in-UDP to G:$H1_NATT_PORT on the wire, SPIs: $SPIS"
in_block() {
	local s n=0
	for s in $SPIS; do
		[ "$s" -ge "$H1_SPI_FIRST" ] && [ "$s" -le "$H1_SPI_LAST" ] || return 1
		n=$((n + 1))
	done
	[ "$n" -ge 2 ]	# before and after the rekey
}
check "tshark: every ESP SPI to G:$H1_NATT_PORT is in h1's block (both CHILD_SAs seen)" in_block

# --- an attacker replays ext's ESP-in-UDP from its own address -------------------------------
# The ESP-in-UDP payloads ext sent to G:natt, sent again from the attacker:
# the gateway must drop them (the SPI is h1's, but h1 never validated atk).
replay() {	# replay PCAP PORT: ext's ESP-in-UDP to G:PORT in PCAP, sent again from atk
	local b n d
	b=$(rig_dp peer_not_validated)
	rig_in atk "$PY" - "$1" "$G" "$2" "$ATTACKER" > "$TMP/replay.out" 2>&1 <<'EOF'
import sys
from scapy.all import rdpcap, send, IP, UDP, Raw
pcap, g, port, src = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
n = 0
for p in rdpcap(pcap):
    if IP in p and UDP in p and p[IP].dst == g and p[UDP].dport == port:
        pl = bytes(p[UDP].payload)
        if len(pl) >= 8 and pl[:4] != b"\0\0\0\0":
            send(IP(src=src, dst=g) / UDP(sport=4500, dport=port) / Raw(pl), verbose=0)
            n += 1
print("replayed", n)
EOF
	n=$(sed -n 's/^replayed //p' "$TMP/replay.out")
	d=$(($(rig_dp peer_not_validated) - b))
	check "attacker replays $n of ext's ESP-in-UDP packets to G:$2 from $ATTACKER: all dropped (peer_not_validated +$d)" \
		test "${n:-0}" -gt 0 -a "$d" = "${n:-x}"
}
replay "$TMP/wire.pcap" "$H1_NATT_PORT"

# --- down ---------------------------------------------------------------------------------------
check "h1: swanctl --terminate --ike xdnat" swan_ctl "$S_H1" "$H1" --terminate --ike xdnat
gone() { ! sa_lists "$H1_CID" "$PEER"; }
check "the down hook invalidated ext: the gateway's SA table no longer lists (h1, $PEER)" \
	wait_until 10 gone

# === h1 and h2 with ext at the same time ===================================================
# To ext, h1 and h2 are one address, G: with whole-G traffic selectors its two
# CHILD_SAs would have the same selectors and ext could not tell which host a
# packet is for. Each host narrows its selector to its own port block (TCP and
# UDP), as its certificate names it. ICMP then has no tunnel (no selector
# tells two hosts' echo ids apart).
# ext initiates to h2 at h2's NAT-T port from its own port 4500: from port 500
# strongSwan would float to G:4500 (nobody's), and only the NAT-T port gets
# the gateway's SA check for ESP-in-UDP.
S_H2=$TMP/swan-h2
check "h1's directory again, selectors narrowed to h1's ports (--narrow)" \
	swan_host_conf 1 "$S_H1" --peer "$PEER" --narrow
check "h2's directory (a responder), selectors narrowed to h2's ports (--narrow)" \
	swan_host_conf 2 "$S_H2" --narrow
swan_log_conf "$S_H2"
cat > "$S_EXT/swanctl/conf.d/to-h2.conf" <<EOF
connections {
	to-h2 {
		local_addrs = $PEER
		local_port = 4500
		remote_addrs = $G
		remote_port = $H2_NATT_PORT
		local {
			auth = pubkey
			certs = ext.pem
		}
		remote {
			auth = pubkey
			cacerts = xdnat-ca.pem
			id = "O=xdnat, CN=$H2_CID@$G"
		}
		children {
			to-h2 {
				local_ts = dynamic
				remote_ts = dynamic
			}
		}
	}
}
EOF
sniff_start "$EXT" eth0 "$TMP/wire2.pcap" udp
SNIFF=$LAST_PID
swan_start "$H2" "$S_H2" && H2_CHARON=$LAST_PID
check "charon runs in h2" test -n "${H2_CHARON:-}"
check "h2: swanctl --load-all" swan_ctl "$S_H2" "$H2" --load-all
check "h1: swanctl --load-conns (narrowed)" swan_ctl "$S_H1" "$H1" --load-conns
check "ext: swanctl --load-conns (to-h2)" swan_ctl "$S_EXT" "$EXT" --load-conns

swan_ctl "$S_H1" "$H1" --initiate --child xdnat --timeout 20 > "$TMP/init-h1b.out" 2>&1
check "h1 -> ext: CHILD_SA up" grep -q "CHILD_SA xdnat{.*} established" "$TMP/init-h1b.out"
swan_ctl "$S_EXT" "$EXT" --initiate --child to-h2 --timeout 20 > "$TMP/init-h2.out" 2>&1
check "ext -> h2 at G:$H2_NATT_PORT: CHILD_SA up" \
	grep -q "CHILD_SA to-h2{.*} established" "$TMP/init-h2.out"
grep -hE "CHILD_SA .* established|sending packet" "$TMP/init-h1b.out" "$TMP/init-h2.out" |
	sed 's/^/    /'
check "the gateway's SA table lists ext for h1 (h1's hook)" wait_until 10 sa_lists "$H1_CID" "$PEER"
check "the gateway's SA table lists ext for h2 (h2's hook)" wait_until 10 sa_lists "$H2_CID" "$PEER"
rig_ctl sa | sed 's/^/    /'
SPIH2=$(spi_in "$S_H2" "$H2")
check "h2's inbound SPI ($SPIH2) is in h2's block $H2_SPI_FIRST-$H2_SPI_LAST" \
	test -n "$SPIH2" -a "${SPIH2:-0}" -ge "$H2_SPI_FIRST" -a "${SPIH2:-0}" -le "$H2_SPI_LAST"

A1=$(esp_pkts "$S_H1" "$H1"); A2=$(esp_pkts "$S_H2" "$H2")
pids=()
for n in 1 2; do
	pf="H${n}_PORT_FIRST"; p=${!pf}
	rig_py h$n tcp-echo $G $((p + 4)) $PEER 7 300000 > "$TMP/tcp2-h$n.out" 2>&1 & pids+=($!)
	# beside a TCP flow, userspace ESP (a TUN queue) may lose a datagram:
	# it is sent again, counted and shown, up to 3 of 20
	rig_py h$n udp-echo $G $((p + 5)) $PEER 7 20 3 > "$TMP/udp2-h$n.out" 2>&1 & pids+=($!)
done
rcs=()
for p in "${pids[@]}"; do wait "$p"; rcs+=($?); done
for n in 1 2; do
	pf="H${n}_PORT_FIRST"; p=${!pf}
	check "h$n: TCP from G:$((p + 4)) through its tunnel, both hosts at once: 300 kB echoed" \
		test "${rcs[$(((n - 1) * 2))]}" = 0
	check "h$n: UDP from G:$((p + 5)) through its tunnel, both hosts at once: 20/20 echoed" \
		test "${rcs[$(((n - 1) * 2 + 1))]}" = 0
done
cat "$TMP"/tcp2-h*.out "$TMP"/udp2-h*.out | sed 's/^/    /'
B1=$(esp_pkts "$S_H1" "$H1"); B2=$(esp_pkts "$S_H2" "$H2")
check "... through the CHILD_SAs: h1 decrypted $((B1 - A1)), h2 $((B2 - A2)) packets" \
	test $((B1 - A1)) -ge 20 -a $((B2 - A2)) -ge 20

# not a check: what happens to ICMP with narrowed selectors (docs/strongswan.md)
if rig_in h1 ping -c 1 -W 1 -I $G $PEER >/dev/null 2>&1; then
	echo "    ping from G in h1 to ext with narrowed selectors: answered"
else
	echo "    ping from G in h1 to ext with narrowed selectors: no answer (no SA carries ICMP)"
fi

stop_pid "$SNIFF" INT
for n in 1 2; do
	nf="H${n}_NATT_PORT"; sf="H${n}_SPI_FIRST"; sl="H${n}_SPI_LAST"
	SPIS=$(swan_spis_in "$TMP/wire2.pcap" "$G" "${!nf}" | tr '\n' ' ')
	echo "    ESP-in-UDP to G:${!nf} on the wire, SPIs: $SPIS"
	ok=1; cnt=0
	for s in $SPIS; do
		[ "$s" -ge "${!sf}" ] && [ "$s" -le "${!sl}" ] || ok=0; cnt=$((cnt + 1))
	done
	check "tshark: every ESP SPI to G:${!nf} is in h$n's block" test "$ok" = 1 -a "$cnt" -ge 1
done
replay "$TMP/wire2.pcap" "$H2_NATT_PORT"

check "ext: swanctl --terminate --ike to-h2" swan_ctl "$S_EXT" "$EXT" --terminate --ike to-h2
gone2() { ! sa_lists "$H2_CID" "$PEER"; }
check "h2's down hook: the gateway's SA table no longer lists (h2, $PEER)" wait_until 10 gone2
check "... and still lists (h1, $PEER)" sa_lists "$H1_CID" "$PEER"

summary
