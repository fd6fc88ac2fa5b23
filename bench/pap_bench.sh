#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# PAP transactions/s against a live xdnatd over a veth in a namespace, with
# persistence on (state on disk, fdatasync per batch). The client runs on CPU 0
# and the daemon on CPU 1, so "one client core" is literal. Figures, not tests.
. "$(dirname "$0")/../tests/integration/lib.sh"
require_root
HOSTS=${PAP_BENCH_HOSTS:-64}
SECONDS_RUN=${PAP_BENCH_SECONDS:-5}
STATE=$(mktemp -d /var/tmp/xdnat-bench-state.XXXX)	# a real disk, not tmpfs
trap 'cleanup; rm -rf "$STATE"' EXIT

ns_add gw GW
ns_add client CL
veth_link "$GW" int0 10.0.0.1/24 "$CL" eth0 10.0.0.11/24
start_bg "$GW" "$TMP/xdnatd.log" taskset -c 1 "$BUILD/xdnatd" --global 198.51.100.1 \
	--internal 10.0.0.1 --state-dir "$STATE" --socket "$TMP/ctl.sock" \
	--max-hosts 100000 --log-level warning --foreground \
	--source-hosts 0 --register-rate 0	# every client shares one address here
wait_for_socket "$TMP/ctl.sock" || { cat "$TMP/xdnatd.log"; exit 1; }
echo "state dir: $STATE on $(df --output=fstype "$STATE" | tail -1)"
ip netns exec "$CL" taskset -c 0 "$BUILD/bench/pap_bench" 10.0.0.1 4555 "$HOSTS" "$SECONDS_RUN" |
	tee "$TMP/pap.out"
[ "${PIPESTATUS[0]}" -eq 0 ] || exit 1
# The figure for make bench-report: bench/results/pap.tsv, replaced by each run.
OUT=$ROOT/bench/results/pap.tsv
mkdir -p "$(dirname "$OUT")"
printf '# %s kernel %s bash bench/pap_bench.sh (PAP_BENCH_HOSTS=%s PAP_BENCH_SECONDS=%s)\nclients\ttx_per_s\n%s\t%s\n' \
	"$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(uname -r)" "$HOSTS" "$SECONDS_RUN" "$HOSTS" \
	"$(grep -o '[0-9]* transactions/s' "$TMP/pap.out" | cut -d' ' -f1)" >"$OUT"
echo "journal: $(stat -c %s "$STATE/state.journal") bytes written by the run"
