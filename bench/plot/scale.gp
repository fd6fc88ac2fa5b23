# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Cost against table size (bench/results/scale.tsv: entries flows ns_per_pkt
# mpps): ns per packet and Mpps against installed entries, log x, one line
# per flow pattern (one: the same flow; spread: random entries); rows in
# any order (each line is its rows alone, sorted by entries).
#   gnuplot -e "data='bench/results/scale.tsv'; out='docs/img/scale.png'" bench/plot/scale.gp
load "bench/plot/common.gp"
flows = uniq(2)
nf = words(flows)
rows(f) = sprintf("< awk -F'\t' '!/^#/ && $2 == \"%s\"' '%s' | sort -n -k1,1", \
	word(flows, f), data)
set logscale x 2
# 1K, 4K, ... 1M: powers of 4, binary K and M as in the bench's names
lbl(v) = v >= 2**20 ? sprintf("%dM", v / 2**20) : v >= 2**10 ? sprintf("%dK", v / 2**10) : \
	sprintf("%d", v)
set xtics ()
do for [i = 0:15] { set xtics add (lbl(4**i) 4**i) }
set offsets graph 0.05, graph 0.05, 0, 0
set xlabel "installed entries (SAs / validated peers)"
set yrange [0:*]
set key top left
set multiplot layout 1, 2 title "Cost against table size"
set ylabel "ns per packet"
plot for [f = 1:nf] rows(f) using 1:3 with linespoints lw 2 pt 7 \
	title word(flows, f)
set ylabel "Mpps"
set key bottom left
plot for [f = 1:nf] rows(f) using 1:4 with linespoints lw 2 pt 7 \
	title word(flows, f)
unset multiplot
