#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# `make demo`: a namespace rig with xdnatd and two hosts speaking PAP to it,
# then the gateway's tables. Everything is torn down at the end.
# (Traffic through the XDP data plane joins this demo with the data plane.)
. "$(dirname "$0")/lib.sh"
require_root

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

ns_add gw GW
ns_add h1 H1
ns_add h2 H2
ip -n "$GW" link add br0 type bridge
ip -n "$GW" addr add 10.0.0.1/24 dev br0
ip -n "$GW" link set br0 up
for h in 1 2; do
	ns=$([ $h = 1 ] && echo "$H1" || echo "$H2")
	ip link add "int$h" netns "$GW" type veth peer name eth0 netns "$ns"
	ip -n "$GW" link set "int$h" master br0 up
	ip -n "$ns" addr add "10.0.0.1$h/24" dev eth0
	ip -n "$ns" link set eth0 up
done

say "xdnatd on the gateway: G = 198.51.100.1, Gi = 10.0.0.1"
start_bg "$GW" "$TMP/xdnatd.log" "$BUILD/xdnatd" --global 198.51.100.1 --internal 10.0.0.1 \
	--ports 20000-29999 --state-dir "$TMP/state" --socket "$TMP/ctl.sock" \
	--bpffs "$TMP/bpf" --foreground
wait_for_socket "$TMP/ctl.sock" || { cat "$TMP/xdnatd.log"; exit 1; }
CTL() { "$BUILD/xdnatctl" --socket "$TMP/ctl.sock" "$@"; }

say "h1 (10.0.0.11): register, 64 ports, 128 SPIs, validate peer 203.0.113.10, ..."
ip netns exec "$H1" "$BUILD/itest/pap_probe" 10.0.0.1 4555 "$TMP/h1" phase1
say "h2 (10.0.0.12): register and take 32 ports"
ip netns exec "$H2" "$BUILD/itest/pap_probe" 10.0.0.1 4555 "$TMP/h2" hold

say "xdnatctl hosts"
CTL hosts
say "xdnatctl sa  (the established-SA table)"
CTL sa
say "xdnatctl stats"
CTL stats
say "gateway log"
cat "$TMP/xdnatd.log"
say "summary"
echo "Two hosts share 198.51.100.1: each holds its own ports and SPI block, handed out over"
echo "authenticated PAP; h1's validated peer is in the SA table. Tearing the rig down."
