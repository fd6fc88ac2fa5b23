#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# End to end: xdnatd with its XDP data plane, xdnat-host in h1 and h2, real
# servers on the external peer and an attacker beside it (rig.sh):
#
#   UDP, TCP and ping from h1 and h2 at once, from G and their own ports; the
#   peer only ever sees G. Real ESP and AH (scapy SAs, tunnel and transport
#   mode) both ways, verified at the far end. An attacker's ESP dropped until
#   h1 validates it, delivered, dropped again after invalidate (US 7,028,335, docs/design.md).
#   h2 sending from h1's port: dropped; h2 validating h1's SPIs: refused.
#   xdnatd restarted while the peer streams UDP to h1: nothing lost. h2's
#   agent killed: its share, map entries and traffic gone after the lease.
. "$(dirname "$0")/lib.sh"
require_root
. "$(dirname "$0")/rig.sh"

LEASE=8
T0=$SECONDS
if ! rig_up --lease $LEASE; then fail "rig up"; summary; exit 1; fi
pass "rig up: xdnatd (native XDP) and both agents ready in $((SECONDS - T0)) s"
echo "    h1: client $H1_CID, ports $H1_PORT_FIRST-$H1_PORT_LAST, SPIs $H1_SPI_FIRST-$H1_SPI_LAST;" \
	"h2: client $H2_CID, ports $H2_PORT_FIRST-$H2_PORT_LAST, SPIs $H2_SPI_FIRST-$H2_SPI_LAST"

# check runs its command in this shell, but `bash -c` children need these
export -f json rig_ns rig_in rig_ctl rig_host rig_dp rig_map_clients
export PY TRAFFIC XDNATCTL XDNAT_HOST RIG_GW_SOCK RIG_BPFFS TMP EXT ATK WAN GW LAN H1 H2

# Everything the peer receives, for the whole run: only G may ever show up.
sniff_start "$EXT" eth0 "$TMP/ext.pcap" -Q in ip
EXT_SNIFF=$LAST_PID
# The peer's echo servers (UDP and TCP port 7) log each client's address and
# port as the peer saw them.
rig_bg ext "$TMP/serve.log" "$PY" "$TRAFFIC" serve $PEER 7 7
wait_for_line "$TMP/serve.log" ready || fail "echo server in ext did not start"

# delta BEFORE REASON: what the data plane counted for REASON since BEFORE
# (a snapshot of rig_dp REASON)
delta() { echo $(($(rig_dp "$2") - $1)); }

# --- UDP, TCP, ping from both hosts at once ---------------------------------------
# Each host binds to G and a port of its own block (port 0 and 1 of the block
# are its IKE and NAT-T ports: the clients take the next ones).
pids=()
for n in 1 2; do
	pf="H${n}_PORT_FIRST"; p=${!pf}
	rig_py h$n udp-echo $G $((p + 2)) $PEER 7 20 > "$TMP/udp-h$n.out" 2>&1 & pids+=($!)
	rig_py h$n tcp-echo $G $((p + 3)) $PEER 7 1000000 > "$TMP/tcp-h$n.out" 2>&1 & pids+=($!)
	rig_in h$n ping -c 5 -i 0.2 -W 2 -I $G $PEER > "$TMP/ping-h$n.out" 2>&1 & pids+=($!)
done
rcs=()
for p in "${pids[@]}"; do wait "$p"; rcs+=($?); done
for n in 1 2; do
	pf="H${n}_PORT_FIRST"; p=${!pf}
	check "h$n: UDP from G:$((p + 2)) echoed by the peer (20/20, none resent)" \
		test "${rcs[$(((n - 1) * 3))]}" = 0
	sed 's/^/    /' "$TMP/udp-h$n.out"
	check "h$n: TCP from G:$((p + 3)): 1 MB echoed back intact" \
		test "${rcs[$(((n - 1) * 3 + 1))]}" = 0
	sed 's/^/    /' "$TMP/tcp-h$n.out"
	check "h$n: ping -I G: 5 of 5 answered" grep -q "5 packets transmitted, 5 received" \
		"$TMP/ping-h$n.out"
	check "h$n: the peer saw UDP and TCP from G:port, the host's own ports" bash -c \
		"grep -qx 'udp from $G:$((p + 2))' '$TMP/serve.log' && \
		 grep -qx 'tcp from $G:$((p + 3))' '$TMP/serve.log' || { cat '$TMP/serve.log'; exit 1; }"
done
check "the gateway learned both hosts' ping identifiers (xdnat_icmp_ids)" bash -c \
	"rig_map_clients xdnat_icmp_ids | sort -u | tr '\n' ' ' | \
	 grep -qx '$(printf '%s\n' "$H1_CID" "$H2_CID" | sort -u | tr '\n' ' ')'"

# --- IPsec with real keys, both ways ---------------------------------------------------
# SAs as an IKE daemon would have them: inbound ones carry an SPI the host
# chose (from its block), outbound ones an SPI the peer chose. Fresh random
# keys per run, shared by sender and receiver through the SA file.
check "AH self-test: the receivers' ICV check rejects a changed byte" rig_py ext ah-selftest
SA=$TMP/sa.json
sa() { rig_py ext sa-new "$SA" "$@" >/dev/null; }
sa in_esp_tunnel	ESP tunnel	$((H1_SPI_FIRST + 4)) $PEER $G
sa in_esp_transport	ESP transport	$((H1_SPI_FIRST + 5)) $PEER $G
sa in_ah_tunnel		AH  tunnel	$((H1_SPI_FIRST + 6)) $PEER $G
sa in_ah_transport	AH  transport	$((H1_SPI_FIRST + 7)) $PEER $G
sa in_h2_esp		ESP transport	$((H2_SPI_FIRST + 4)) $PEER $G
sa out_esp_tunnel	ESP tunnel	0x7e000001 $G $PEER
sa out_esp_transport	ESP transport	0x7e000002 $G $PEER
sa out_ah_tunnel	AH  tunnel	0x7e000003 $G $PEER
sa out_ah_transport	AH  transport	0x7e000004 $G $PEER
IN_H1=in_esp_tunnel,in_esp_transport,in_ah_tunnel,in_ah_transport
OUT_H1=out_esp_tunnel,out_esp_transport,out_ah_tunnel,out_ah_transport

check "h1 validates the peer (the IKE SA is up)" rig_host 1 validate $PEER
check "h2 validates the peer" rig_host 2 validate $PEER

# recv_start NS NAME UNTIL [--outer ...]: a scapy receiver; returns when it sniffs.
# On a host it sniffs eth0, where a packet socket sees the tunnel packet:
# taps run before tc ingress, and after host_ingress strips the outer header
# the packet goes straight to IP, past every tap. The receiver checks the
# outer header (Gi -> Hi) and strips it itself.
recv_start() {
	local ns=$1 name=$2 until=$3; shift 3
	rig_bg "$ns" "$TMP/$name.log" "$PY" "$TRAFFIC" ipsec-recv "$SA" eth0 \
		--until "$until" --timeout 10 "$@"
	RECV=$LAST_PID
	wait_for_line "$TMP/$name.log" ready
}
recv_wait() { wait_pid "$1"; sed 's/^/    /' "$TMP/$2.log" | grep -v ready; }
seen() { sed -n 's/^seen: //p' "$TMP/$1.log"; }
sorted() { tr ',' '\n' <<<"$1" | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//'; }

recv_start h1 in-h1 $IN_H1 --outer $GI $H1_ADDR; R1=$RECV
recv_start h2 in-h2 in_h2_esp --outer $GI $H2_ADDR; R2=$RECV
rig_py ext ipsec-send "$SA" ${IN_H1//,/ } in_h2_esp >/dev/null
recv_wait $R1 in-h1
recv_wait $R2 in-h2
check "ext -> h1: ESP and AH, tunnel and transport, SPIs of h1's block: decrypted, ICVs verified" \
	test "$(seen in-h1)" = "$(sorted $IN_H1)"
check "ext -> h2: ESP with h2's SPI reaches h2, and none of h1's" test "$(seen in-h2)" = in_h2_esp

recv_start ext out-h1 $OUT_H1; R3=$RECV
rig_py h1 ipsec-send "$SA" ${OUT_H1//,/ } >/dev/null
recv_wait $R3 out-h1
check "h1 -> ext: ESP and AH, tunnel and transport, the peer's SPIs: decrypted, ICVs verified" \
	test "$(seen out-h1)" = "$(sorted $OUT_H1)"

# --- US 7,028,335: an unvalidated source's ESP is dropped ------------------------------------
# The attacker uses an SPI of h1's block. After its ESP a marker follows from
# the validated peer on the same path: once h1 has the marker, the attacker's
# packets were decided (and counted) too.
S_ATK=$((H1_SPI_FIRST + 8))
for phase in before valid after; do
	sa atk_$phase ESP transport $S_ATK $ATTACKER $G
	sa mark_$phase ESP transport $((H1_SPI_FIRST + 9)) $PEER $G
done
attack() {	# attack PHASE UNTIL: 3 x the attacker's ESP, then the marker
	recv_start h1 atk-$1 "$2" --outer $GI $H1_ADDR
	local r=$RECV b; b=$(rig_dp peer_not_validated)
	rig_py atk ipsec-send "$SA" atk_$1 atk_$1 atk_$1 >/dev/null
	rig_py ext ipsec-send "$SA" mark_$1 >/dev/null
	recv_wait $r atk-$1
	PNV=$(delta "$b" peer_not_validated)
}
attack before mark_before
check "attacker's ESP with h1's SPI: dropped (the marker after it arrived, it did not)" \
	test "$(seen atk-before)" = mark_before
check "... counted: peer_not_validated +3 (was +$PNV)" test "$PNV" = 3
check "h1: xdnat-host validate $ATTACKER" rig_host 1 validate $ATTACKER
attack valid atk_valid,mark_valid
check "after validate: the attacker's ESP reaches h1, decrypted" \
	test "$(seen atk-valid)" = "atk_valid mark_valid"
check "... and peer_not_validated stays (+$PNV)" test "$PNV" = 0
check "h1: xdnat-host invalidate $ATTACKER" rig_host 1 invalidate $ATTACKER
attack after mark_after
check "after invalidate: dropped again" test "$(seen atk-after)" = mark_after
check "... counted: peer_not_validated +3 (was +$PNV)" test "$PNV" = 3

# --- spoofing: h2 speaks from h1's port ------------------------------------------------------
# A socket in h2 bound to G and a port of h1's block: h2's tunnel carries it to
# the gateway like any packet from G, and gw_int must refuse it. The echo that
# h2 then gets on its own port shows the path was working meanwhile.
SPOOF=$((H1_PORT_FIRST + 10))
b=$(rig_dp spoofed_source)
rig_py h2 udp-send $G $SPOOF $PEER 7 "spoofed-by-h2-$RUN_ID" >/dev/null
rig_py h2 udp-send $G $SPOOF $PEER 7 "spoofed-by-h2-$RUN_ID" >/dev/null
rig_py h2 udp-echo $G $((H2_PORT_FIRST + 10)) $PEER 7 1 >/dev/null
d=$(delta "$b" spoofed_source)
check "h2 sending from G:$SPOOF (h1's port): dropped at the gateway, spoofed_source +2 (was +$d)" \
	test "$d" = 2
check "... the peer never got it" bash -c "! grep -q 'udp from $G:$SPOOF\$' '$TMP/serve.log'"
out=$(rig_host 2 validate $PEER --spi $H1_SPI_FIRST 2>&1); rc=$?
echo "    $out"
check "h2 cannot validate h1's SPI: refused, not-owner" \
	bash -c "[ $rc -ne 0 ] && grep -q not-owner <<<'$out'"
check "... and the SA table has no h2 entry on h1's SPIs" bash -c \
	"rig_ctl sa --json | json \"[s for s in d['sas'] if s['host'] == '$H2_ADDR' and \
		s['spi_first'] <= $H1_SPI_LAST and s['spi_last'] >= $H1_SPI_FIRST]\" | grep -qx '\[\]'"

# --- xdnatd restarts while the peer streams UDP to h1 --------------------------------------
# 1000 numbered datagrams at 250/s; once h1 has decapsulated 100 of them,
# SIGTERM the daemon and start it again. The XDP programs stay attached and the
# maps pinned while it is down, and the new daemon replaces the programs in
# place: not one datagram may be lost.
N=1000
SP=$((H1_PORT_FIRST + 20))
rig_bg h1 "$TMP/stream-recv.log" "$PY" "$TRAFFIC" stream-recv $G $SP $N 3 30
RECV=$LAST_PID
wait_for_line "$TMP/stream-recv.log" ready
d0=$(rig_decap 1)
rig_bg ext "$TMP/stream-send.log" "$PY" "$TRAFFIC" stream-send $PEER $G $SP $N 250
SEND=$LAST_PID
decapped() { [ $(($(rig_decap 1) - d0)) -ge "$1" ]; }
wait_until 10 decapped 100
t=$(date +%s%N)
rig_gw_stop TERM
check "restart: xdnatd stopped (SIGTERM), its programs stay attached" \
	bash -c "ip -n '$GW' link show ext0 | grep -q 'name gw_ext'"
rig_gw_start
t=$((($(date +%s%N) - t) / 1000000))
check "restart: xdnatd back, the stream still running (restarted mid-stream)" \
	bash -c "kill -0 $SEND"
grep -h "replaced\|reconciled" "$RIG_GW_LOG" | sed 's/^/    /'
wait_pid "$SEND"
wait_pid "$RECV"
LOST=$(sed -n 's/.*lost \([0-9]*\).*/\1/p' "$TMP/stream-recv.log")
echo "    down and up again in $t ms; h1: $(grep received "$TMP/stream-recv.log")"
echo "    datagrams lost across the restart: ${LOST:-all}"
check "restart: 0 of $N datagrams lost (lost ${LOST:-all})" test "${LOST:-x}" = 0
check "restart: both hosts still held" bash -c \
	"[ \"\$(rig_ctl hosts --json | json 'len(d[\"hosts\"])')\" = 2 ]"

# --- lease expiry: h2's agent dies, its share goes ------------------------------------------
# Before: h2 holds ports and SA entries, and UDP from the peer reaches it.
P2=$((H2_PORT_FIRST + 30))
rig_bg h2 "$TMP/h2-before.log" "$PY" "$TRAFFIC" stream-recv $G $P2 1 1 5
r=$LAST_PID
wait_for_line "$TMP/h2-before.log" ready
rig_py ext stream-send $PEER $G $P2 1 100 >/dev/null
wait_pid $r
check "before: UDP from the peer to G:$P2 reaches h2" grep -q "received 1 of 1" "$TMP/h2-before.log"
MAPS="xdnat_ports xdnat_sa xdnat_spiblk xdnat_hosts"
check "before: $MAPS all hold h2's client id ($H2_CID)" bash -c \
	"for m in $MAPS; do rig_map_clients \$m | grep -qx $H2_CID || exit 1; done"
rig_agent_stop 2 KILL
t=$SECONDS
h2_gone() { ! rig_ctl hosts --json | json "[h['client_id'] for h in d['hosts']]" | grep -qw "$H2_CID"; }
check "kill -9 of h2's agent: xdnatctl hosts drops h2 once its ${LEASE} s lease runs out" \
	wait_until $((LEASE + 10)) h2_gone
echo "    gone $((SECONDS - t)) s after the kill"
for m in $MAPS; do
	check "... $m has no entry of client $H2_CID left" \
		bash -c "! rig_map_clients $m | grep -qx $H2_CID"
done
check "... h1 keeps its entries" bash -c "rig_map_clients xdnat_ports | grep -qx $H1_CID"
rig_bg h2 "$TMP/h2-after.log" "$PY" "$TRAFFIC" udp-listen $G $P2 2
r=$LAST_PID
wait_for_line "$TMP/h2-after.log" ready
check "after: UDP to h2's old port is the gateway's own (port unreachable from G)" \
	rig_py ext udp-send $PEER 40000 $G $P2 "after-expiry-$RUN_ID" --refused 3
wait_pid $r
check "... and never reaches h2" bash -c "! grep -q after-expiry '$TMP/h2-after.log'"

# --- what the peer saw ------------------------------------------------------------------------
stop_pid "$EXT_SNIFF" INT
srcs=$(tcpdump -nr "$TMP/ext.pcap" dst host $PEER 2>/dev/null | awk '$2 == "IP" { split($3, a, "."); \
	print a[1] "." a[2] "." a[3] "." a[4] }' | sort | uniq -c | sort -rn)
echo "    sources of what the peer received (packets):" $srcs
check "the peer saw traffic from G" bash -c "tcpdump -nr '$TMP/ext.pcap' src host $G 2>/dev/null | grep -q ."
check "the peer never saw an internal address (10.0.0.0/8) as source" bash -c \
	"[ -z \"\$(tcpdump -nr '$TMP/ext.pcap' src net 10.0.0.0/8 2>/dev/null)\" ]"
check "the peer never saw h2's spoofed datagrams" bash -c \
	"! tcpdump -nr '$TMP/ext.pcap' -A 2>/dev/null | grep -q spoofed-by-h2"

check "no data-plane sync errors, no errors in xdnatd's logs" bash -c \
	"rig_ctl stats --json | grep -q '\"dataplane_sync_errors\":0' && \
	 ! grep -hi 'error' '$TMP'/xdnatd-*.log"
check "h1's agent logged no errors" bash -c "! grep -i error '$TMP/h1.log'"
echo "    took $((SECONDS - T0)) s"
summary
