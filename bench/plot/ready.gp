# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Host-ready latency against the number of hosts starting at once
# (bench/results/ready.tsv: hosts p50_ms p99_ms mean_ms max_ms samples).
#   gnuplot -e "data='bench/results/ready.tsv'; out='docs/img/ready.png'" bench/plot/ready.gp
load "bench/plot/common.gp"
set title "Host ready (REGISTER, PORT, SPI, NATT, key + CSR, CERT, CRL): latency"
set logscale xy 10
set xlabel "hosts starting at once"
set ylabel "ms from the common start"
set xrange [0.7:150]
set key top left Left reverse
plot data using 1:3 with linespoints lw 2 pt 7 title "p99", \
	data using 1:2 with linespoints lw 2 pt 7 title "p50", \
	data using 1:5 with points pt 2 title "max", \
	data using 1:3:(sprintf("%.1f", $3)) with labels offset 0, 1 font ",9" notitle, \
	data using 1:2:(sprintf("%.1f", $2)) with labels offset 0, -1 font ",9" notitle
