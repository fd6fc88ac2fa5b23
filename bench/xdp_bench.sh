#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# XDP data plane, ns per packet by BPF_PROG_TEST_RUN: every gw_ext / gw_int
# path against the reference programs bench/ref_*.bpf.c, and 1M SAs installed
# against 1K. xdp_bench builds its own network namespace (the unit tests'
# rig) and runs pinned to the last CPU. Figures, not tests.
#   XDP_BENCH_ROUNDS (5), XDP_BENCH_RUNS (200000) override the defaults;
#   XDP_BENCH_VARIANT="OBJ..." also measures the gw_ext of each BPF object OBJ (A/B).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
	echo "xdp_bench needs root (BPF, network namespace)"; exit 1
fi
CPU=$(($(nproc) - 1))
MODEL=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
echo "kernel $(uname -r), $(nproc) CPUs ($MODEL), bench on CPU $CPU"
exec taskset -c "$CPU" "$ROOT/build/bench/xdp_bench" \
	"${XDP_BENCH_ROUNDS:-5}" "${XDP_BENCH_RUNS:-200000}"
