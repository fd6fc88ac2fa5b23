#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Host-ready latency: HOSTS hosts start at once against a live xdnatd over a
# veth in a namespace, each from its own internal address, and each does what
# `xdnat-host up` asks of the gateway (REGISTER, PORT, SPI, NATT, key + CSR,
# CERT, CRL) through ctl/pap_client.c and ctl/host_cert.c (bench/ready_bench.c).
# p50/p99/mean/max per HOSTS into bench/results/ready.tsv. Persistence on
# (state on /var/tmp, a real disk), the data plane attached; a fresh daemon
# and state for each HOSTS. The clients run on CPU 0, the daemon on CPU 1, as
# in pap_bench.sh. Figures, not tests.
#   READY_BENCH_HOSTS="1 10 100"  concurrent hosts, one measurement each
#   READY_BENCH_SAMPLES=500       host-ready samples per HOSTS, at least
#   READY_BENCH_SECONDS=5         rounds spread evenly over this time (xdnatd's
#                                 timer work, once a second, falls in the run)
#   READY_BENCH_DATAPLANE=1       0: xdnatd without the data plane
. "$(dirname "$0")/../tests/integration/lib.sh"
require_root
HOSTS_LIST=${READY_BENCH_HOSTS:-1 10 100}
SAMPLES=${READY_BENCH_SAMPLES:-500}	# at least this many host-ready samples per HOSTS
DATAPLANE=${READY_BENCH_DATAPLANE:-1}
SPREAD=${READY_BENCH_SECONDS:-5}
OUT=$ROOT/bench/results/ready.tsv
STATE=$(mktemp -d /var/tmp/xdnat-ready-state.XXXX)	# a real disk, not tmpfs
# The simulated hosts' certificate files: tmpfs, so that their fsyncs do not
# queue with the gateway's journal on this machine's one disk (each real host
# writes to its own).
CERTS=$(mktemp -d /dev/shm/xdnat-ready-certs.XXXX)
trap 'cleanup; rm -rf "$STATE" "$CERTS"' EXIT

max=0
for n in $HOSTS_LIST; do ((n > max)) && max=$n; done
if ((max > 200)); then echo "ready_bench.sh: at most 200 hosts (10.0.0.20-219)"; exit 1; fi

ns_add gw GW
ns_add client CL
veth_link "$GW" int0 10.0.0.1/24 "$CL" eth0 10.0.0.11/24
# With the data plane (the default), xdnatd also attaches gw_ext and gw_int,
# mirrors every grant into the BPF maps and resolves each host's MAC, as
# deployed; ext0 leads to an empty namespace. READY_BENCH_DATAPLANE=0: the
# control plane alone, as pap_bench.sh runs it.
DP_FLAGS=()
if [ "$DATAPLANE" = 1 ]; then
	ns_add ext EXT
	veth_link "$GW" ext0 192.0.2.1/24 "$EXT" eth0 192.0.2.2/24
	ip -n "$GW" addr add 198.51.100.1/32 dev ext0
	DP_FLAGS=(--ext-if ext0 --int-if int0 --xdp-mode native)
fi
# One internal address per concurrent host: 10.0.0.20, .21, ...
for ((i = 0; i < max; i++)); do echo "addr add 10.0.0.$((20 + i))/24 dev eth0"; done |
	ip -n "$CL" -batch -
echo "kernel $(uname -r), $(nproc) CPUs; state on $(df --output=fstype /var/tmp | tail -1)" \
	"(/var/tmp), host files on tmpfs; load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"

rows=$TMP/ready.rows
: >"$rows"
for n in $HOSTS_LIST; do
	rounds=$(((SAMPLES + n - 1) / n))
	rm -rf "$STATE"/* && mkdir -p "$STATE/s$n"
	start_bg "$GW" "$TMP/xdnatd-$n.log" taskset -c 1 "$BUILD/xdnatd" \
		--global 198.51.100.1 --internal 10.0.0.1 --state-dir "$STATE/s$n" \
		--socket "$TMP/ctl-$n.sock" --max-hosts 100000 --log-level warning --foreground \
		${DP_FLAGS[@]+"${DP_FLAGS[@]}" --bpffs "$TMP/bpf-$n"}
	gw_pid=$LAST_PID
	wait_for_socket "$TMP/ctl-$n.sock" || { cat "$TMP/xdnatd-$n.log"; exit 1; }
	echo "== $n concurrent host(s), $rounds round(s) over ${SPREAD} s, fresh xdnatd (pid $gw_pid)"
	ip netns exec "$CL" taskset -c 0 "$BUILD/bench/ready_bench" -p "$gw_pid" -o "$rows" \
		-i "$((SPREAD * 1000 / rounds))" \
		10.0.0.1 4555 "$n" "$rounds" 10.0.0.20 "$CERTS" || { cat "$TMP/xdnatd-$n.log"; exit 1; }
	stats=$(ip netns exec "$GW" "$BUILD/xdnatctl" --socket "$TMP/ctl-$n.sock" --json stats)
	dp=on
	grep -q '"dataplane":null' <<<"$stats" && dp=off
	echo "  gateway: data plane $dp;" \
		"$(grep -o '"hosts":[0-9]*' <<<"$stats" | head -1 | cut -d: -f2) hosts registered;" \
		"$(grep -o '"retransmits":[0-9]*' <<<"$stats" | cut -d: -f2) requests answered" \
		"from the reply cache (client retransmissions)"
	stop_pid "$gw_pid"
done

mkdir -p "$(dirname "$OUT")"
{
	printf '# %s kernel %s bash bench/ready_bench.sh (READY_BENCH_HOSTS="%s"' \
		"$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(uname -r)" "$HOSTS_LIST"
	printf ' READY_BENCH_SAMPLES=%s READY_BENCH_SECONDS=%s READY_BENCH_DATAPLANE=%s)\n' \
		"$SAMPLES" "$SPREAD" "$DATAPLANE"
	printf 'hosts\tp50_ms\tp99_ms\tmean_ms\tmax_ms\tsamples\n'
	cat "$rows"
} >"$OUT.tmp.$$" && mv "$OUT.tmp.$$" "$OUT"
echo "wrote ${OUT#$ROOT/}:"
cat "$OUT"
