# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Shared by the plots of make bench-report (bench/plot/report.sh). Expects
# data (a results file: "# date kernel command", a header line, then rows
# separated by tabs) and out (the PNG).
set terminal pngcairo size 960,560 font "sans,11" noenhanced
set output out
set datafile separator "\t"
set datafile commentschars "#"
set grid ytics lc rgb "#dddddd"
set border 3
set tics nomirror
# The run the figures come from: the file's "# ..." line, under the plot.
src = system(sprintf("sed -n '1s/^# */from: /p' '%s' | fold -s -w 150", data))
set label 99 src at screen 0.01, screen 0.045 font ",8" tc rgb "#555555"
set bmargin 6
# The distinct values of column col, in order of appearance (header skipped).
uniq(col) = system(sprintf("awk -F'\t' '!/^#/ && n++ && !seen[$%d]++ { printf \"%%s \", $%d }' \
	'%s'", col, col, data))
# Position of s in the space-separated list, from 1; NaN when absent.
idx(s, list, i) = i > words(list) ? NaN : (word(list, i) eq s ? i : idx(s, list, i + 1))
