#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# `make demo` (which builds first): the end-to-end rig of rig.sh, then
#   1. h1 and h2 talk UDP, TCP and ping to the external peer through the one
#      global address G, and the peer's own capture shows only G;
#   2. real ESP and AH (scapy SAs) from the peer to h1 and back, verified;
#   3. an attacker's ESP with h1's SPI, dropped at the gateway;
#   4. the gateway's tables: xdnatctl hosts, sa, stats;
# and a summary. Everything is torn down on exit (lib.sh's trap).
. "$(dirname "$0")/lib.sh"
require_root
. "$(dirname "$0")/rig.sh"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
GOOD=0 BAD=0
SUMMARY=()
# result TEXT COMMAND...: runs COMMAND, prints a mark, remembers TEXT
result() {
	local text=$1; shift
	if "$@" >/dev/null 2>&1; then GOOD=$((GOOD + 1)); SUMMARY+=("  ok    $text")
	else BAD=$((BAD + 1)); SUMMARY+=("  FAIL  $text"); echo "  !! failed: $text"; fi
}
indent() { sed 's/^/  /'; }
T0=$SECONDS

say "the rig: external peer behind a router, attacker, gateway (xdnatd, XDP), hosts h1 and h2"
rig_up || exit 1
cat <<EOF
  ext $PEER ── router $ROUTER ─┐
                 atk $ATTACKER ─┴ switch ── gateway ext0 $GW_EXT [gw_ext XDP]
  (no permanent neighbours: xdnatd keeps the gateway's next hops resolved)
  gateway: G = $G on lo; int0 $GI [gw_int XDP] ── switch ── h1 $H1_ADDR, h2 $H2_ADDR
  h1: client $H1_CID, ports $H1_PORT_FIRST-$H1_PORT_LAST, SPIs $(printf '0x%x-0x%x' $H1_SPI_FIRST $H1_SPI_LAST)
  h2: client $H2_CID, ports $H2_PORT_FIRST-$H2_PORT_LAST, SPIs $(printf '0x%x-0x%x' $H2_SPI_FIRST $H2_SPI_LAST)
  (each host: xdnat-host up registered over PAP, put G on lo and a tc tunnel on eth0)
EOF

# The peer: echo servers on UDP 7 and TCP 7, and a capture of all it receives.
sniff_start "$EXT" eth0 "$TMP/ext.pcap" -Q in ip
SNIFF=$LAST_PID
rig_bg ext "$TMP/serve.log" "$PY" "$TRAFFIC" serve $PEER 7 7
wait_for_line "$TMP/serve.log" ready

say "1. h1 and h2 at once, each from G and its own ports: UDP, TCP, ping to $PEER"
pids=()
for n in 1 2; do
	pf="H${n}_PORT_FIRST"; p=${!pf}
	{ rig_py h$n udp-echo $G $((p + 2)) $PEER 7 5; rig_py h$n tcp-echo $G $((p + 3)) $PEER 7 100000
	  rig_in h$n ping -c 3 -i 0.2 -W 2 -I $G $PEER | grep 'packets transmitted'; } \
		> "$TMP/h$n.traffic" 2>&1 &
	pids+=($!)
done
wait "${pids[@]}"
stop_pid "$SNIFF" INT
for n in 1 2; do
	pf="H${n}_PORT_FIRST"; p=${!pf}
	sed "s/^/  h$n  /" "$TMP/h$n.traffic"
	result "h$n: UDP echoed 5/5" grep -q "5/5 echoed" "$TMP/h$n.traffic"
	result "h$n: TCP 100 kB echoed intact" grep -q intact "$TMP/h$n.traffic"
	result "h$n: ping 3/3" grep -q "3 received" "$TMP/h$n.traffic"
	# what the peer's capture holds for each of h$n's flows: the first packet
	for f in "udp and src port $((p + 2))" "tcp and src port $((p + 3))"; do
		echo "  ext saw: $(tcpdump -nr "$TMP/ext.pcap" -c 1 "$f" 2>/dev/null | cut -d' ' -f2- | sed 's/, seq .*/, .../')"
	done
done
tcpdump -nr "$TMP/ext.pcap" 'icmp[icmptype] == icmp-echo' 2>/dev/null |
	awk '{ for (i = 1; i < NF; i++) if ($i == "id") id = $(i + 1) } !seen[id]++' |
	while read -r _ rest; do echo "  ext saw: $rest"; done
# (the capture also holds multicast noise of links coming up, from 0.0.0.0)
srcs=$(tcpdump -nr "$TMP/ext.pcap" dst host $PEER 2>/dev/null | awk '$2 == "IP" { \
	split($3, a, "."); print a[1] "." a[2] "." a[3] "." a[4] }' | sort -u | tr '\n' ' ')
echo "  every source address of what the peer received: $srcs"
result "the peer saw G, never 10.0.0.x" bash -c "[ '$srcs' = '$G ' ] && \
	[ -z \"\$(tcpdump -nr '$TMP/ext.pcap' src net 10.0.0.0/8 2>/dev/null)\" ]"

say "2. real ESP and AH (scapy, fresh random keys), verified at the far end"
SA=$TMP/sa.json
sa() { rig_py ext sa-new "$SA" "$@" >/dev/null; }
sa in_esp_tunnel	ESP tunnel	$((H1_SPI_FIRST + 4)) $PEER $G
sa in_ah_transport	AH  transport	$((H1_SPI_FIRST + 5)) $PEER $G
sa out_esp_transport	ESP transport	0x7e000001 $G $PEER
sa out_ah_tunnel	AH  tunnel	0x7e000002 $G $PEER
sa atk_esp		ESP transport	$((H1_SPI_FIRST + 6)) $ATTACKER $G
sa marker		ESP transport	$((H1_SPI_FIRST + 7)) $PEER $G
echo "  h1: $(rig_host 1 validate $PEER)   (what IKE's up-hook would do)"
recv() {	# recv NS LOG UNTIL [--outer ..]: a scapy receiver, started and ready
	rig_bg "$1" "$TMP/$2.log" "$PY" "$TRAFFIC" ipsec-recv "$SA" eth0 --until "$3" \
		--timeout 10 "${@:4}"
	RECV=$LAST_PID
	wait_for_line "$TMP/$2.log" ready
}
echo "  peer -> h1 (SPIs of h1's block; h1's sniffer strips the tunnel header Gi -> h1):"
recv h1 in in_esp_tunnel,in_ah_transport --outer $GI $H1_ADDR
rig_py ext ipsec-send "$SA" in_esp_tunnel in_ah_transport >/dev/null
wait_pid $RECV
grep '^ok\|^bad' "$TMP/in.log" | indent | indent
result "peer -> h1: ESP (tunnel) decrypted, AH (transport) ICV verified" \
	grep -q "seen: in_ah_transport in_esp_tunnel" "$TMP/in.log"
echo "  h1 -> peer (SPIs the peer chose):"
recv ext out out_esp_transport,out_ah_tunnel
rig_py h1 ipsec-send "$SA" out_esp_transport out_ah_tunnel >/dev/null
wait_pid $RECV
grep '^ok\|^bad' "$TMP/out.log" | indent | indent
result "h1 -> peer: ESP (transport) decrypted, AH (tunnel) ICV verified" \
	grep -q "seen: out_ah_tunnel out_esp_transport" "$TMP/out.log"
echo "  (AH's ICV covers the IP addresses: it verifies because the gateway rewrote nothing)"

say "3. the attacker $ATTACKER sends ESP with one of h1's SPIs"
before=$(rig_dp peer_not_validated)
recv h1 atk marker --outer $GI $H1_ADDR
rig_py atk ipsec-send "$SA" atk_esp >/dev/null
rig_py ext ipsec-send "$SA" marker >/dev/null	# from the peer, after it: arrives
wait_pid $RECV
pnv=$(($(rig_dp peer_not_validated) - before))
echo "  h1 received: $(sed -n 's/^seen: //p' "$TMP/atk.log")  (the peer's marker, sent after the attack)"
echo "  gateway: peer_not_validated +$pnv (h1 never validated $ATTACKER)"
result "attacker's ESP dropped at the gateway (peer_not_validated +1)" \
	bash -c "[ $pnv = 1 ] && grep -qx 'seen: marker' '$TMP/atk.log'"

say "4. the gateway's tables"
echo "\$ xdnatctl hosts"; rig_ctl hosts | indent
echo "\$ xdnatctl sa"; rig_ctl sa | indent
echo "\$ xdnatctl stats   (the data plane's verdicts)"
rig_ctl stats | sed -n '/^DATAPLANE/,$p' | indent

say "summary ($((SECONDS - T0)) s)"
printf '%s\n' "${SUMMARY[@]}"
cat <<EOF

  h1 and h2 share $G: each holds its own ports and SPI block (PAP), sends as G
  through its tunnel, and the gateway's XDP programs forward without rewriting
  a byte: the peer sees G, IPsec verifies end to end, and IPsec from a source
  the host did not validate is dropped. $GOOD ok, $BAD failed. Tearing down.
EOF
[ "$BAD" -eq 0 ]
