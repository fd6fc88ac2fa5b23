#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# make bench-report: the PNG plots of docs/benchmarks.md from the results the
# last `make bench` left in bench/results/, and every results file as a
# markdown table (to update the doc from). Plots for the files that are there;
# then fails, naming each missing file and the command that produces it.
#   BENCH_RESULTS=DIR  read the results from DIR (default bench/results)
#   BENCH_IMG=DIR      write the plots to DIR (default docs/img)
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
RES=${BENCH_RESULTS:-bench/results}
IMG=${BENCH_IMG:-docs/img}

# results file, the command that produces it, the plot script, the PNG
REPORTS=(
	"live.tsv|make bench (bash bench/live_bench.sh)|live.gp|live_mpps.png"
	"scale.tsv|make bench (bash bench/live_bench.sh)|scale.gp|scale.png"
	"ready.tsv|make bench (bash bench/ready_bench.sh)|ready.gp|ready.png"
	"pap.tsv|make bench (bash bench/pap_bench.sh)||"
)

command -v gnuplot >/dev/null || { echo "bench-report: gnuplot is not installed" \
	"(make bench-report installs gnuplot-nox)"; exit 1; }

# A results file ("# date kernel command", a header, rows; tabs) as markdown.
md_table() {
	awk -F'\t' '
	/^#/ { sub(/^# */, ""); src = $0; next }
	{ line = "|"; for (i = 1; i <= NF; i++) line = line " " $i " |" }
	!n++ { print "`" src "`\n"; print line; sep = "|"
		for (i = 1; i <= NF; i++) sep = sep "---|"; print sep; next }
	{ print line }' "$1"
}

missing=()
failed=0
mkdir -p "$IMG"
for r in "${REPORTS[@]}"; do
	IFS='|' read -r file cmd gp png <<<"$r"
	if [ ! -s "$RES/$file" ]; then
		missing+=("$RES/$file: missing; produced by $cmd")
		continue
	fi
	echo "### $RES/$file"
	echo
	md_table "$RES/$file"
	echo
	[ -n "$gp" ] || continue
	if gnuplot -e "data='$RES/$file'; out='$IMG/$png.tmp'" "bench/plot/$gp" &&
	   mv "$IMG/$png.tmp" "$IMG/$png"; then
		echo "plot: $IMG/$png (bench/plot/$gp)"
	else
		rm -f "$IMG/$png.tmp"
		echo "bench-report: bench/plot/$gp failed on $RES/$file"
		failed=1
	fi
	echo
done
if ((${#missing[@]})); then
	echo "bench-report: results missing, no table or plot for them:"
	printf '  %s\n' "${missing[@]}"
	exit 1
fi
exit $failed
