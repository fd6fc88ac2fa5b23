# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Benches: figures, not tests. Included by the top-level Makefile.

# Debian packages the benches need beyond DEB_PKGS: nft for the Linux
# configuration of bench/live_bench.sh. bench-deps installs what is missing.
BENCH_PKGS := nftables
.PHONY: bench-deps

bench: bench-deps all $(BENCH_BINS)
	@set -e; for b in $(wildcard bench/*.sh); do echo "== $$b"; bash $$b; done

bench-deps:
	$(call apt_ensure,$(BENCH_PKGS))

# Plots (docs/img/*.png, gnuplot scripts in bench/plot/) and markdown tables
# from the results the last make bench left in bench/results/; fails naming
# any results file that is missing. Installs gnuplot when it is not there.
BENCH_REPORT_PKGS := gnuplot-nox

bench-report:
	$(call apt_ensure,$(BENCH_REPORT_PKGS))
	@bash bench/plot/report.sh
