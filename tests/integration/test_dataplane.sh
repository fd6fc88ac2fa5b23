#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The XDP data plane with real traffic on a veth rig:
#
#   ext (peer .10, attacker .66) -- gw (ext0 | gw_ext, gw_int | int0) -- lan bridge -- h1, h2
#
# Inbound UDP/ESP/AH to the holder of the port/SPI, encapsulated with the inner
# packet unchanged; unvalidated peers and unknown SPIs dropped; the hosts'
# MACs resolved by xdnatd into xdnat_hosts and into every port, SPI-granule
# and SA value of the host (gw_ext's fast path reads them there); outbound
# decapsulation and the spoofing check; counters in xdnatctl stats; the maps
# and programs surviving SIGTERM and kill -9, reconciled at start, a foreign
# XDP program refused, a map-size change refused, --unload, generic mode.
. "$(dirname "$0")/lib.sh"
require_root

PY=/usr/bin/python3	# Debian's python3 has scapy; the one on PATH may not
XDNATD=$BUILD/xdnatd
CTL=$BUILD/xdnatctl
PROBE=$BUILD/itest/pap_probe
G=198.51.100.1
PEER=203.0.113.10
ATTACKER=203.0.113.66
SOCK=$TMP/xdnatd.sock
STATE=$TMP/state
BPFFS=$TMP/bpf
PAP=4555

for tool in bpftool tcpdump ethtool clang; do
	command -v $tool >/dev/null || { echo "missing $tool (make deps)"; echo "0 passed, 1 failed"; exit 1; }
done
"$PY" -c 'import scapy' 2>/dev/null || { echo "missing python3-scapy"; echo "0 passed, 1 failed"; exit 1; }

# `ip netns exec` gives the daemon a private mount namespace: pins made there
# would vanish with it. A bpffs mounted here first is shared, and survives.
mount_bpffs "$BPFFS"

# --- the rig -------------------------------------------------------------------
# ns_add in this shell, not in $(...): its cleanup list must see them
for n in ext gw lan h1 h2; do ns_add $n >/dev/null; done
EXT=$(ns_name ext) GW=$(ns_name gw) LAN=$(ns_name lan) H1=$(ns_name h1) H2=$(ns_name h2)
veth_link "$EXT" eth0 $PEER/24 "$GW" ext0 203.0.113.1/24
ip -n "$EXT" addr add $ATTACKER/24 dev eth0
ip -n "$EXT" route add $G/32 via 203.0.113.1
ip -n "$GW" addr add $G/32 dev lo
veth_pair "$GW" int0 "$LAN" up0
ip -n "$GW" addr add 10.0.0.1/24 dev int0
ip -n "$LAN" link add br0 type bridge
ip -n "$LAN" link set br0 up
ip -n "$LAN" link set up0 master br0
for h in 1 2; do
	ns=$([ $h = 1 ] && echo "$H1" || echo "$H2")
	veth_pair "$LAN" "p$h" "$ns" eth0
	ip -n "$LAN" link set "p$h" master br0
	ip -n "$ns" addr add "10.0.0.1$h/24" dev eth0
done
# XDP_REDIRECT into a veth is dropped without a word unless its peer has NAPI
# (GRO or an XDP program); GRO must be switched on once the link is up.
ip netns exec "$LAN" ethtool -K up0 gro on >/dev/null
ip netns exec "$EXT" ethtool -K eth0 gro on >/dev/null
# No permanent neighbours: the peer's MAC is xdnatd's business on demand
# (on-link, the next hop is the destination), the hosts' too.
GW_EXT_MAC=$(mac_of "$GW" ext0)
GW_INT_MAC=$(mac_of "$GW" int0)

# --- packets: scapy sends, and finds what was sent in a capture -----------------
cat > "$TMP/pkt.py" <<'EOF'
import logging, os, sys
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import Ether, IP, UDP, Raw, conf, rdpcap, sendp
from scapy.layers.ipsec import AH, ESP, SecurityAssociation
conf.verb = 0
G = "198.51.100.1"

def inbound(name, kind, src, arg):
    """An IP packet to G: UDP to port arg, or real ESP/AH with SPI arg."""
    if kind == "udp":
        return IP(src=src, dst=G) / UDP(sport=5000, dport=arg) / Raw(name.encode())
    inner = IP(src=src, dst=G) / UDP(sport=5000, dport=5000) / Raw(name.encode())
    if kind == "esp":
        sa = SecurityAssociation(ESP, spi=arg, crypt_algo="AES-CBC",
                                 crypt_key=b"0123456789abcdef",
                                 auth_algo="HMAC-SHA1-96", auth_key=b"k" * 20)
    else:
        sa = SecurityAssociation(AH, spi=arg, auth_algo="HMAC-SHA1-96",
                                 auth_key=b"k" * 20)
    return sa.encrypt(inner)

def save(outdir, name, raw):
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, name + ".bin"), "wb") as f:
        f.write(raw)

cmd, args = sys.argv[1], sys.argv[2:]
if cmd == "send":		# send IFACE DSTMAC OUTDIR NAME,KIND,SRC,ARG...
    iface, mac, outdir = args[:3]
    for spec in args[3:]:
        name, kind, src, arg = spec.split(",")
        raw = bytes(inbound(name, kind, src, int(arg, 0)))
        save(outdir, name, raw)
        sendp(Ether(dst=mac) / IP(raw), iface=iface)
elif cmd == "ipip":		# ipip IFACE DSTMAC OUTDIR NAME OSRC ODST ISRC IDST SPORT
    iface, mac, outdir, name, osrc, odst, isrc, idst, sport = args
    raw = bytes(IP(src=isrc, dst=idst) / UDP(sport=int(sport), dport=5000) /
                Raw(name.encode()))
    save(outdir, name, raw)
    sendp(Ether(dst=mac) / IP(src=osrc, dst=odst, proto=4) / IP(raw), iface=iface)
elif cmd == "found":		# found PCAP OUTDIR [OSRC ODST]: names seen
    # the gateway is a hop: a packet is found one hop on (TTL - 1, its
    # header checksum valid), every other byte as sent
    def hop(raw):
        b = bytearray(raw)
        b[8] -= 1
        b[10:12] = b"\0\0"
        s = sum(int.from_bytes(b[i:i + 2], "big") for i in range(0, (b[0] & 0xf) * 4, 2))
        while s >> 16:
            s = (s & 0xffff) + (s >> 16)
        b[10:12] = (~s & 0xffff).to_bytes(2, "big")
        return bytes(b)
    pcap, outdir = args[:2]
    sent = {}
    for f in os.listdir(outdir):
        sent[hop(open(os.path.join(outdir, f), "rb").read())] = f[:-4]
    for p in rdpcap(pcap) if os.path.getsize(pcap) else []:
        if IP not in p:
            continue
        ip = p[IP]
        raw = bytes(ip)[:ip.len]
        tag = ""
        if len(args) == 4:	# tunnelled: the inner packet, outer checked
            if ip.proto != 4:
                continue
            raw = raw[ip.ihl * 4:]
            if (ip.src, ip.dst) != (args[2], args[3]):
                tag = "!outer=%s>%s" % (ip.src, ip.dst)
        if raw in sent:
            print(sent[raw] + tag)
EOF
found() { "$PY" "$TMP/pkt.py" found "$@" | sort | tr '\n' ' '; }
# counters straight from the pinned map, summed over CPUs: "reason=packets ..."
# (each entry names its reason: XDNAT_DROP_SPI_UNKNOWN is spi_unknown)
counters() {
	bpftool -j map dump pinned "$BPFFS/xdnat_stats" | "$PY" -c 'import json, re, sys
for e in json.load(sys.stdin):
    f = e["formatted"]
    n = sum(v["value"]["packets"] for v in f["values"])
    r = f["values"][0]["value"]["reason"]
    print("%s=%d" % (re.sub("^XDNAT_(DROP_)?", "", r).lower(), n))'
}
count() { counters | sed -n "s/^$1=//p"; }
# host_mac ADDR: the MAC xdnat_hosts holds for ADDR (00:00:... unresolved)
host_mac() {
	bpftool -j map lookup pinned "$BPFFS/xdnat_hosts" key hex $(ip_hex "$1") |
		"$PY" -c 'import json, sys
print(":".join("%02x" % b for b in json.load(sys.stdin)["formatted"]["value"]["mac"]))'
}
# has_mac ADDR NS: xdnat_hosts holds the MAC of eth0 in NS for ADDR
has_mac() { [ "$(host_mac "$1")" = "$(mac_of "$2" eth0)" ]; }
# value_macs MAP ADDR: the MACs in MAP's values of host ADDR, one per line, each once
value_macs() {
	bpftool -j map dump pinned "$BPFFS/$1" | "$PY" -c 'import json, socket, struct, sys
addr = struct.unpack("=I", socket.inet_aton(sys.argv[1]))[0]
macs = set()
for e in json.load(sys.stdin):
    v = e["formatted"]["value"]
    v = v.get("owner", v)  # xdnat_ports: an xdnat_owner, then flags
    if v["client_id"] and v["host_addr"] == addr:
        macs.add(":".join("%02x" % b for b in v["mac"]))
print("\n".join(sorted(macs)))' "$2"
}
# values_have_mac ADDR MAC: every port, SPI-granule and SA value of ADDR holds
# MAC (it has ports; SAs it may have invalidated)
values_have_mac() {
	local m
	[ "$(value_macs xdnat_ports "$1")" = "$2" ] || return 1
	for m in xdnat_spiblk xdnat_sa; do
		case "$(value_macs $m "$1")" in "" | "$2") ;; *) return 1 ;; esac
	done
}
# kernel_has_mac ADDR NS: so does the gateway's neighbour table
kernel_has_mac() {
	ip -n "$GW" neigh show "$1" dev int0 | grep -q "lladdr $(mac_of "$2" eth0)"
}

# inbound TAG SPEC...: sends SPECs (name,kind,src,arg) from ext while h1 and
# h2 capture; GOT_H1 / GOT_H2: the names each received, tunnelled from Gi.
inbound() {
	local tag=$1 s1 s2 c0; shift
	c0=$(counters)
	sniff_start "$H1" eth0 "$TMP/$tag-h1.pcap" ip proto 4; s1=$LAST_PID
	sniff_start "$H2" eth0 "$TMP/$tag-h2.pcap" ip proto 4; s2=$LAST_PID
	ip netns exec "$EXT" "$PY" "$TMP/pkt.py" send eth0 "$GW_EXT_MAC" "$TMP/sent-$tag" "$@"
	sleep 0.5
	stop_pid "$s1" INT
	stop_pid "$s2" INT
	GOT_H1=$(found "$TMP/$tag-h1.pcap" "$TMP/sent-$tag" 10.0.0.1 10.0.0.11)
	GOT_H2=$(found "$TMP/$tag-h2.pcap" "$TMP/sent-$tag" 10.0.0.1 10.0.0.12)
	# what the data plane decided, for the reader of a failure
	echo "  [$tag] h1: ${GOT_H1:--} h2: ${GOT_H2:--} counted:" \
		$(awk -F= 'NR == FNR { a[$1] = $2; next }
			   $2 != a[$1] && $1 != "pass_stack" { print $1 "+" $2 - a[$1] }' \
			<(echo "$c0") <(counters))
}

DP_FLAGS=(--global $G --internal 10.0.0.1 --ext-if ext0 --int-if int0 --bpffs "$BPFFS"
	  --state-dir "$STATE" --socket "$SOCK" --ports 20000-29999 --spis 4096-1048575)
start_daemon() {	# start_daemon LOGNAME [extra flags]: data plane on
	local log=$TMP/$1.log; shift
	rm -f "$SOCK"
	start_bg "$GW" "$log" "$XDNATD" "${DP_FLAGS[@]}" --foreground "$@"
	DAEMON=$LAST_PID
	LOG=$log
	wait_for_socket "$SOCK" || { cat "$log"; return 1; }
}
stats() { "$CTL" --socket "$SOCK" stats --json; }
# delta BEFORE_JSON REASON: packets counted for REASON since BEFORE_JSON
delta() {
	"$PY" -c 'import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(b["dataplane"][sys.argv[3]]["packets"] - a["dataplane"][sys.argv[3]]["packets"])' \
		"$1" "$(stats)" "$2"
}
be32() { printf '%02x %02x %02x %02x' $(($1 >> 24 & 255)) $(($1 >> 16 & 255)) $(($1 >> 8 & 255)) $(($1 & 255)); }
le32() { printf '%02x %02x %02x %02x' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)); }
ip_hex() { local IFS=.; printf '%02x %02x %02x %02x' $1; }

# --- flags -----------------------------------------------------------------------
out=$("$XDNATD" --global $G --xdp-mode turbo 2>&1); rc=$?
check "--xdp-mode takes native or generic only" test "$rc" -eq 2
out=$("$XDNATD" --global $G --ext-if ext0 --int-if int0 2>&1); rc=$?
check "data plane without --internal: exit 2 naming it" \
	bash -c "[ $rc -eq 2 ] && grep -q -- --internal <<<'$out'"
printf 'unload = yes\n' > "$TMP/unload.conf"
out=$("$XDNATD" --global $G --config "$TMP/unload.conf" 2>&1); rc=$?
check "--unload is refused in a configuration file" test "$rc" -eq 2
check "--help lists --xdp-mode, --sa-entries and --unload" bash -c \
	"\"$XDNATD\" --help | grep -c -- '--xdp-mode\|--sa-entries\|--unload' | grep -qx 3"

# --- control plane only --------------------------------------------------------
start_bg "$GW" "$TMP/cponly.log" "$XDNATD" --global $G --internal 10.0.0.1 --int-if int0 \
	--state-dir "$TMP/cponly" --socket "$TMP/cponly.sock" --bpffs "$BPFFS" --foreground
CP=$LAST_PID
wait_for_socket "$TMP/cponly.sock"
check "without both NICs: control plane only, said at start" \
	grep -q "data plane off: it needs both --ext-if and --int-if" "$TMP/cponly.log"
check "without both NICs: stats has \"dataplane\":null" bash -c \
	"'$CTL' --socket '$TMP/cponly.sock' stats --json | grep -q '\"dataplane\":null'"
stop_pid "$CP" TERM

# --- a foreign XDP program is never replaced -------------------------------------
cat > "$TMP/foreign.c" <<'EOF'
#define SEC(n) __attribute__((section(n), used))
struct xdp_md;
SEC("xdp") int foreign(struct xdp_md *ctx) { return 2; /* XDP_PASS */ }
char LICENSE[] SEC("license") = "GPL";
EOF
clang -O2 -target bpf -c "$TMP/foreign.c" -o "$TMP/foreign.o"
ip -n "$GW" link set dev int0 xdpdrv obj "$TMP/foreign.o" sec xdp
out=$(ip netns exec "$GW" "$XDNATD" "${DP_FLAGS[@]}" --foreground 2>&1); rc=$?
check "foreign XDP program on int0: refused, exit 1" test "$rc" -eq 1
check "foreign XDP program: the error names it" grep -q "int0 has a foreign XDP program 'foreign'" <<<"$out"
check "foreign XDP program: still there, ext0 untouched" \
	bash -c "ip -n '$GW' link show int0 | grep -q 'name foreign' && ! ip -n '$GW' link show ext0 | grep -q prog/xdp"
ip -n "$GW" link set dev int0 xdpdrv off

# --- start: attach, pin, sync --------------------------------------------------------
start_daemon first --xdp-mode native
check "gw_ext attached to ext0, gw_int to int0 (native)" \
	bash -c "ip -n '$GW' link show ext0 | grep -q 'prog/xdp id [0-9]* name gw_ext' && \
		 ip -n '$GW' link show int0 | grep -q 'prog/xdp id [0-9]* name gw_int'"
check "maps pinned under --bpffs" test -e "$BPFFS/xdnat_sa" -a -e "$BPFFS/xdnat_ports" -a -e "$BPFFS/xdnat_stats"
check "IPv4 forwarding switched on, and logged" \
	bash -c "grep -q 'enabled IPv4 forwarding on ext0' '$LOG' && \
		 [ \"\$(ip netns exec '$GW' sysctl -n net.ipv4.conf.int0.forwarding)\" = 1 ]"

eval "$(ip netns exec "$H1" "$PROBE" 10.0.0.1 $PAP "$TMP/h1.session" share $PEER | sed 's/\([A-Z_]*\)=/H1_\1=/g')"
eval "$(ip netns exec "$H2" "$PROBE" 10.0.0.1 $PAP "$TMP/h2.session" share $PEER | sed 's/\([A-Z_]*\)=/H2_\1=/g')"
check "h1 and h2 hold ports and SPI blocks" test -n "${H1_SPI_FIRST:-}" -a -n "${H2_SPI_FIRST:-}"
H1_SPI_FIRST=${H1_SPI_FIRST:-0} H1_PORT_FIRST=${H1_PORT_FIRST:-0} H1_CLIENT=${H1_CLIENT:-0}
H2_SPI_FIRST=${H2_SPI_FIRST:-0}

check "xdnat_sa has typed keys (BTF): spi and peer" \
	bash -c "bpftool map dump pinned '$BPFFS/xdnat_sa' | grep -q '\"spi\"' && \
		 bpftool map dump pinned '$BPFFS/xdnat_sa' | grep -q '\"peer\"'"
check "xdnat_sa: one entry per SPI and validated peer (2 x 16)" bash -c \
	"[ \"\$(bpftool -j map dump pinned '$BPFFS/xdnat_sa' | '$PY' -c 'import json,sys; print(len(json.load(sys.stdin)))')\" = 32 ]"
check "xdnat_spiblk: one entry per 16 SPIs, keyed by the blocks' first SPIs" bash -c \
	"[ \"\$(bpftool -j map dump pinned '$BPFFS/xdnat_spiblk' | '$PY' -c 'import json, socket, sys; print(sorted(socket.ntohl(e[\"formatted\"][\"key\"][\"spi\"]) for e in json.load(sys.stdin)))')\" = '[$H1_SPI_FIRST, $H2_SPI_FIRST]' ]"
# The hosts' ARP for Gi (PAP) taught the gateway's kernel their MACs; xdnatd
# reads them (at once, or at the refresh a second later) into xdnat_hosts.
check "xdnat_hosts: h1 and h2 get their real MACs (ip -n h1/h2 link show eth0)" \
	wait_until 8 bash -c "$(declare -f host_mac has_mac mac_of ip_hex); BPFFS='$BPFFS' PY=$PY; \
		has_mac 10.0.0.11 '$H1' && has_mac 10.0.0.12 '$H2'"
check "... and so does every port, SPI-granule and SA value of h1 and of h2" \
	wait_until 3 bash -c "$(declare -f value_macs values_have_mac mac_of); BPFFS='$BPFFS' PY=$PY; \
		values_have_mac 10.0.0.11 \$(mac_of '$H1' eth0) && \
		values_have_mac 10.0.0.12 \$(mac_of '$H2' eth0)"
# Nothing sends to h1 now: only xdnatd's resolution can bring its entry back.
ip -n "$GW" neigh del 10.0.0.11 dev int0
check "h1's neighbour entry deleted: xdnatd has it resolved again, MAC in xdnat_hosts" \
	wait_until 15 bash -c "$(declare -f host_mac has_mac kernel_has_mac mac_of ip_hex); \
		BPFFS='$BPFFS' PY=$PY GW='$GW'; kernel_has_mac 10.0.0.11 '$H1' && \
		has_mac 10.0.0.11 '$H1'"

# --- inbound ---------------------------------------------------------------------------
before=$(stats)
inbound in1 "udp_h1,udp,$PEER,$H1_PORT_FIRST" "esp_ok,esp,$PEER,$H1_SPI_FIRST" \
	"ah_ok,ah,$PEER,$((H1_SPI_FIRST + 1))" "esp_attacker,esp,$ATTACKER,$H1_SPI_FIRST" \
	"esp_unknown,esp,$PEER,0xabcdef"
check "UDP, validated ESP and AH reach h1 tunnelled from Gi, inner byte-identical" \
	test "$GOT_H1" = "ah_ok esp_ok udp_h1 "
check "ESP from an unvalidated peer and an unknown SPI arrive nowhere" test -z "$GOT_H2"
check "stats: 3 fwd_to_host" test "$(delta "$before" fwd_to_host)" = 3
check "stats: 1 peer_not_validated" test "$(delta "$before" peer_not_validated)" = 1
check "stats: 1 spi_unknown" test "$(delta "$before" spi_unknown)" = 1
check "stats: no map sync errors" bash -c \
	"'$CTL' --socket '$SOCK' stats --json | grep -q '\"dataplane_sync_errors\":0'"
check "xdnatctl stats (text) shows the data-plane table" bash -c \
	"'$CTL' --socket '$SOCK' stats | grep -q '^peer_not_validated  *1 '"

# --- outbound --------------------------------------------------------------------------
# The gateway's kernel has never talked to the peer (everything so far was
# sent to its MAC directly): the first packet finds no neighbour, is counted
# under its reason, and xdnatd has the kernel resolve it.
before=$(stats)
ip netns exec "$H1" "$PY" "$TMP/pkt.py" ipip eth0 "$GW_INT_MAC" "$TMP/sent-cold" cold_h1 \
	10.0.0.11 10.0.0.1 $G $PEER "$H1_PORT_FIRST"
peer_resolved() {
	ip -n "$GW" neigh show $PEER dev ext0 | grep -q "lladdr $(mac_of "$EXT" eth0)" &&
		"$CTL" --socket "$SOCK" stats --json | grep -q '"dataplane_nexthop_resolved":[1-9]'
}
check "outbound to a peer never resolved: 1 nexthop_unresolved, xdnatd resolves it" \
	wait_until 5 peer_resolved
check "stats: the cold packet counted nexthop_unresolved, not no_route" \
	test "$(delta "$before" nexthop_unresolved) $(delta "$before" no_route)" = "1 0"
before=$(stats)
sniff_start "$EXT" eth0 "$TMP/out.pcap" src host $G; s=$LAST_PID
ip netns exec "$H1" "$PY" "$TMP/pkt.py" ipip eth0 "$GW_INT_MAC" "$TMP/sent-out" out_h1 \
	10.0.0.11 10.0.0.1 $G $PEER "$H1_PORT_FIRST"
ip netns exec "$H2" "$PY" "$TMP/pkt.py" ipip eth0 "$GW_INT_MAC" "$TMP/sent-out" spoof_h2 \
	10.0.0.12 10.0.0.1 $G $PEER "$H1_PORT_FIRST"
sleep 0.5
stop_pid "$s" INT
check "outbound: h1's tunnelled packet leaves ext0 decapsulated, unchanged; h2 spoofing h1's port does not" \
	test "$(found "$TMP/out.pcap" "$TMP/sent-out")" = "out_h1 "
check "stats: 1 fwd_to_ext, 1 spoofed_source" \
	test "$(delta "$before" fwd_to_ext) $(delta "$before" spoofed_source)" = "1 1"

# --- NAT-T port flag ----------------------------------------------------------------------
NATT=$((H1_PORT_FIRST + 1))
ip netns exec "$H1" "$PROBE" 10.0.0.1 $PAP "$TMP/h1.session" natt $NATT
port_flags() {
	bpftool -j map lookup pinned "$BPFFS/xdnat_ports" key hex $(le32 "$1") |
		"$PY" -c 'import json,sys; v=json.load(sys.stdin)["formatted"]["value"]; print(v["owner"]["client_id"], v["flags"])'
}
check "NAT-T port: xdnat_ports flags it, the other ports not" \
	test "$(port_flags $NATT);$(port_flags "$H1_PORT_FIRST")" = "$H1_CLIENT 1;$H1_CLIENT 0"

# --- SIGTERM: forwarding goes on --------------------------------------------------------------
FWD_BEFORE=$(count fwd_to_host)
stop_pid "$DAEMON" TERM
check "SIGTERM: programs stay attached, maps stay pinned, and the log says so" \
	bash -c "ip -n '$GW' link show ext0 | grep -q 'name gw_ext' && test -e '$BPFFS/xdnat_sa' && \
		 grep -q 'stay attached' '$LOG'"
inbound down1 "esp_down,esp,$PEER,$H1_SPI_FIRST"
check "daemon stopped: validated ESP still forwarded to h1" test "$GOT_H1" = "esp_down "

# Tamper with the maps while the daemon is down: they are live, and the next
# start puts them back in step with the state, in place.
SA_KEY="$(be32 "$H1_SPI_FIRST") $(ip_hex $PEER)"
bpftool map delete pinned "$BPFFS/xdnat_sa" key hex $SA_KEY
bpftool map update pinned "$BPFFS/xdnat_sa" key hex $(be32 0x9abcd) $(ip_hex 203.0.113.99) \
	value hex $(le32 99) $(ip_hex 10.0.0.99) 00 00 00 00 00 00 00 00
inbound down2 "esp_deleted,esp,$PEER,$H1_SPI_FIRST"
check "the maps are live: a deleted SA entry drops at once" test -z "$GOT_H1"
start_daemon second --xdp-mode native
check "restart: our programs replaced in place" \
	bash -c "grep -q 'ext0: replaced XDP program id' '$LOG' && grep -q 'int0: replaced XDP program id' '$LOG'"
check "restart: maps reconciled (1 added, 1 removed)" \
	grep -q "maps reconciled with 2 host(s): 1 added, 0 changed, 1 removed, 0 failed" "$LOG"
inbound up1 "esp_back,esp,$PEER,$H1_SPI_FIRST"
check "restart: validated ESP forwarded again" test "$GOT_H1" = "esp_back "

# --- kill -9 ----------------------------------------------------------------------------------
stop_pid "$DAEMON" KILL
inbound k9 "esp_k9,esp,$PEER,$H1_SPI_FIRST"
check "kill -9: still forwarding" test "$GOT_H1" = "esp_k9 "
start_daemon third --xdp-mode native
check "after kill -9: nothing to reconcile" \
	grep -q "maps reconciled with 2 host(s): 0 added, 0 changed, 0 removed" "$LOG"

# --- invalidate: the peer's ESP is dropped again -------------------------------------------------
before=$(stats)
ip netns exec "$H1" "$PROBE" 10.0.0.1 $PAP "$TMP/h1.session" invalidate $PEER
inbound inv "esp_invalid,esp,$PEER,$H1_SPI_FIRST" "udp_still,udp,$PEER,$H1_PORT_FIRST"
check "after EXT INVALIDATE: ESP dropped (peer_not_validated), UDP still forwarded" \
	test "$GOT_H1;$(delta "$before" peer_not_validated)" = "udp_still ;1"
check "counters survived the restarts: 4 more forwarded since SIGTERM" \
	test "$(count fwd_to_host)" -eq $((FWD_BEFORE + 4))

# --- generic mode: ours in the other mode is swapped -------------------------------------------
stop_pid "$DAEMON" TERM
start_daemon generic --xdp-mode generic
check "--xdp-mode generic: our native programs swapped for generic ones" \
	bash -c "ip -n '$GW' link show ext0 | grep -q 'prog/xdp generic\|xdpgeneric' && \
		 grep -q 'ext0: detached our native-mode program' '$LOG'"
inbound gen "udp_generic,udp,$PEER,$H1_PORT_FIRST"
check "--xdp-mode generic: forwarding" test "$GOT_H1" = "udp_generic "
stop_pid "$DAEMON" TERM

# --- a map of another size is not silently reused; --unload -------------------------------------
out=$(ip netns exec "$GW" "$XDNATD" "${DP_FLAGS[@]}" --sa-entries 4096 --foreground 2>&1); rc=$?
# out as an argument: its fallback warnings have apostrophes (a NIC's MTU)
check "--sa-entries change over existing pins: exit 1, says to --unload" \
	bash -c '[ "$1" -eq 1 ] && grep -q "xdnat_sa was pinned by BPF objects of another layout or size" <<<"$2" &&
		 grep -q -- "xdnatd --unload" <<<"$2"' _ "$rc" "$out"
out=$(ip netns exec "$GW" "$XDNATD" --unload --ext-if ext0 --int-if int0 --bpffs "$BPFFS" 2>&1); rc=$?
sed 's/^/    /' <<<"$out"
check "--unload: exit 0, programs detached, pins removed" \
	bash -c "[ $rc -eq 0 ] && ! ip -n '$GW' link show ext0 | grep -q prog/xdp && \
		 ! ip -n '$GW' link show int0 | grep -q prog/xdp && ! ls '$BPFFS' | grep -q xdnat_"
start_daemon fresh --sa-entries 4096
check "fresh maps of the new size, filled from the state" \
	bash -c "grep -q 'maps reconciled with 2 host(s): 52 added, 0 changed, 0 removed, 0 failed' '$LOG' && \
		 bpftool map show pinned '$BPFFS/xdnat_sa' | grep -q 'max_entries 4096'"
inbound fresh "udp_fresh,udp,$PEER,$H1_PORT_FIRST" "esp_h2,esp,$PEER,$H2_SPI_FIRST"
check "forwarding with the fresh maps" test "$GOT_H1|$GOT_H2" = "udp_fresh |esp_h2 "
# h2 stops answering ARP and the gateway forgets it: resolution fails
ip -n "$H2" link set eth0 arp off
ip -n "$GW" neigh del 10.0.0.12 dev int0
check "unresolvable h2: counted in xdnatctl stats (neigh_failures), MAC cleared" \
	wait_until 15 bash -c "$(declare -f host_mac ip_hex); BPFFS='$BPFFS' PY=$PY; \
		'$CTL' --socket '$SOCK' stats --json | grep -q '\"dataplane_neigh_failures\":[1-9]' && \
		[ \"\$(host_mac 10.0.0.12)\" = 00:00:00:00:00:00 ]"
check "... in h2's port, SPI-granule and SA values too; h1's keep its MAC" \
	wait_until 3 bash -c "$(declare -f value_macs values_have_mac mac_of); BPFFS='$BPFFS' PY=$PY; \
		values_have_mac 10.0.0.12 00:00:00:00:00:00 && \
		values_have_mac 10.0.0.11 \$(mac_of '$H1' eth0)"
stop_pid "$DAEMON" TERM

check "daemon logs have no errors" bash -c "! cat $TMP/{first,second,third,generic,fresh}.log | grep -i error"
summary
