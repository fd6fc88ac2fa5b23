#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Mpps through the gateway with live frames: a bare XDP redirect (the
# ceiling), xdnat (gw_ext inbound ESP and UDP, gw_int outbound) and the Linux
# stack (forwarding, nft dnat / masquerade, conntrack), alternated in one
# run on one rig and the same frames; then gw_ext with 1K, 64K and 1M SAs.
# Writes bench/results/live.tsv and scale.tsv. Figures, not tests.
#
#   gen: eth0 (the peer) ---- xdnx0 [gw] xdni0 ---- eth0 (host H1)
#
# The generator, the gateway and the sink all run on one CPU: build/bench/
# live_bench is pinned with taskset, and each frame's way through the
# gateway to the sink runs in the softirq after each generated batch, on the
# generator's CPU. Knobs: LIVE_BENCH_ROUNDS (5), LIVE_BENCH_SECONDS (1.0 per
# run), LIVE_BENCH_FLOWS (1024), LIVE_BENCH_SIZE (60 bytes; the outbound
# IPIP frames need 64), LIVE_BENCH_SCALE (1), LIVE_BENCH_TCP (0: 1 adds an
# inbound TCP row, printed only), LIVE_BENCH_CPU (the last one);
# LIVE_BENCH_DISPATCHER (1; 0 = the generator left out of the kernel's XDP
# dispatcher between calls: two RCU grace periods per call, the rig's old
# 1.0-1.3 Mpps ceiling, for comparison);
# LIVE_BENCH_CALL (32768 frames per BPF_PROG_RUN call);
# LIVE_BENCH_ONLY=DIRECTION/CONFIG (e.g. inbound_esp/xdnat) runs that alone,
# LIVE_BENCH_ROUNDS times, and writes nothing: for perf record.
. "$(dirname "$0")/../tests/integration/lib.sh"
require_root
if ! command -v nft >/dev/null; then
	echo "live_bench: nft missing: make bench-deps (or apt-get install nftables)"; exit 1
fi
# No set -e: lib.sh's EXIT trap must run every step of its cleanup.
must() {	# must COMMAND...: or stop (the trap still cleans up)
	"$@" || { echo "live_bench: failed: $*" >&2; exit 1; }
}
CPU=${LIVE_BENCH_CPU:-$(($(nproc) - 1))}
if [ ! -x "$BUILD/bench/live_bench" ]; then
	echo "live_bench: build it first: make build/bench/live_bench (make bench does)"; exit 1
fi
# The rig's MACs and addresses: the ones of tests/lib/bpf_rig.[ch], which
# live_bench builds its frames and the gateway's values with.
PEER_MAC=02:00:00:00:e0:10
EXT_MAC=02:00:00:00:e0:01
INT_MAC=02:00:00:00:10:01
H1_MAC=02:00:00:00:10:11
G=198.51.100.1

must ns_add gen GEN
must ns_add gw GW
must ns_add host HOST
must veth_pair "$GEN" eth0 "$GW" xdnx0
must veth_pair "$GW" xdni0 "$HOST" eth0
must ip -n "$GEN" link set eth0 address $PEER_MAC
must ip -n "$GW" link set xdnx0 address $EXT_MAC
must ip -n "$GW" link set xdni0 address $INT_MAC
must ip -n "$HOST" link set eth0 address $H1_MAC

# Static neighbours everywhere: nobody has to answer ARP.
must ip -n "$GEN" addr add 203.0.113.10/24 dev eth0
must ip -n "$GEN" route add 198.51.100.0/24 dev eth0
must ip -n "$GEN" neigh replace $G lladdr $EXT_MAC dev eth0 nud permanent
# G alone on the external NIC, so masquerade picks it
must ip -n "$GW" addr add $G/24 dev xdnx0
must ip -n "$GW" route add 203.0.113.0/24 dev xdnx0
must ip -n "$GW" route add default via 203.0.113.10 dev xdnx0
must ip -n "$GW" neigh replace 203.0.113.10 lladdr $PEER_MAC dev xdnx0 nud permanent
must ip -n "$GW" addr add 10.0.0.1/24 dev xdni0
must ip -n "$GW" neigh replace 10.0.0.11 lladdr $H1_MAC dev xdni0 nud permanent
must ip -n "$HOST" addr add 10.0.0.11/24 dev eth0
must ip -n "$HOST" route add default via 10.0.0.1
must ip -n "$HOST" neigh replace 10.0.0.1 lladdr $INT_MAC dev eth0 nud permanent
for k in net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
	net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.xdnx0.rp_filter=0 \
	net.ipv4.conf.xdni0.rp_filter=0 net.ipv4.conf.xdnx0.forwarding=1 \
	net.ipv4.conf.xdni0.forwarding=1; do
	must ip netns exec "$GW" sysctl -qw "$k"
done
# The generators' XDP_TX lands in the gateway's NICs, which have no XDP
# program in the Linux configuration: GRO gives them the NAPI that takes
# such frames (set now that the links are up, or it does not hold).
must ip netns exec "$GW" ethtool -K xdnx0 gro on
must ip netns exec "$GW" ethtool -K xdni0 gro on

# The Linux configuration's NAT (XDP redirects before netfilter in the
# others): ESP and UDP to G's port 20000 to H1, masquerade out of xdnx0.
cat >"$TMP/nat.nft" <<EOF
table ip live_bench {
	chain pre {
		type nat hook prerouting priority dstnat; policy accept;
		ip daddr $G ip protocol esp dnat to 10.0.0.11
		ip daddr $G udp dport 20000 dnat to 10.0.0.11
		ip daddr $G tcp dport 20000 dnat to 10.0.0.11
	}
	chain post {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "xdnx0" masquerade
	}
}
EOF
must ip netns exec "$GW" nft -f "$TMP/nat.nft"

MODEL=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
echo "kernel $(uname -r), $(nproc) CPUs ($MODEL); generator, gateway and sink on CPU $CPU"
mkdir -p "$ROOT/bench/results"
must taskset -c "$CPU" "$BUILD/bench/live_bench" --gen "$GEN" --gw "$GW" --host "$HOST" \
	--rounds "${LIVE_BENCH_ROUNDS:-5}" --seconds "${LIVE_BENCH_SECONDS:-1.0}" \
	--flows "${LIVE_BENCH_FLOWS:-1024}" --size "${LIVE_BENCH_SIZE:-60}" \
	--scale "${LIVE_BENCH_SCALE:-1}" --tcp "${LIVE_BENCH_TCP:-0}" \
	--dispatcher "${LIVE_BENCH_DISPATCHER:-1}" --call "${LIVE_BENCH_CALL:-32768}" \
	--out "$ROOT/bench/results" ${LIVE_BENCH_ONLY:+--only "$LIVE_BENCH_ONLY"}
echo "conntrack entries in gw at the end: $(ip netns exec "$GW" cat \
	/proc/sys/net/netfilter/nf_conntrack_count)"
