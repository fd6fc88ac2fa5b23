# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Mpps per configuration, bars grouped by direction (bench/results/live.tsv:
# direction config mpps_median mpps_min mpps_max runs); whiskers: the
# slowest and the fastest run.
#   gnuplot -e "data='bench/results/live.tsv'; out='docs/img/live_mpps.png'" bench/plot/live.gp
load "bench/plot/common.gp"
dirs = uniq(1)
configs = uniq(2)
nd = words(dirs)
nc = words(configs)
bw = 0.8 / nc
xpos(d, c) = idx(d, dirs, 1) - 1 + (c - (nc + 1) / 2.0) * bw
is(c) = strcol(2) eq word(configs, c)
set title "Live frames through the gateway: Mpps per configuration (median of the runs)"
set ylabel "Mpps (bar: median; whiskers: slowest, fastest run)"
set xrange [-0.6:nd - 0.4]
set yrange [0:*]
set xtics () scale 0
do for [i = 1:nd] { set xtics add (word(dirs, i) i - 1) }
set style fill solid 0.8 border -1
set boxwidth bw
set key top right horizontal
set offsets 0, 0, graph 0.15, 0
plot for [c = 1:nc] data using (xpos(strcol(1), c)):(is(c) ? $3 : NaN) \
		with boxes lc c title word(configs, c), \
	for [c = 1:nc] data using (xpos(strcol(1), c)):(is(c) ? $3 : NaN):4:5 \
		with yerrorbars lc rgb "black" pt 7 ps 0.4 notitle, \
	for [c = 1:nc] data using (xpos(strcol(1), c)):(is(c) ? $5 : NaN):(sprintf("%.2f", $3)) \
		with labels offset 0, 0.8 font ",9" notitle
