#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# PID 1 of a test-kernels guest, on the host's root (read-only 9p): runs the
# BPF packet suites, loads every BPF object (build/itest/bpf_loadall) and
# attaches gw_ext/gw_int in native XDP mode to a veth pair, then powers off. Results go to the result
# share as results.tsv (check, PASS/FAIL, summary, detail) plus one log per
# check; run.sh on the host reads them.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/tmp LC_ALL=C
OUT=/tmp/tk-result
SUITE_TIMEOUT=300
# test_bpf_fuzz's frames per program: 30000 of its 250000 (a test-run costs
# 50-100 times more under TCG, 5.15's up to 1.7 ms; its fixed seed reaches
# every reason it checks from 20000 on)
export XDNAT_FUZZ_FRAMES=30000
SUITES=
REPEAT=1
INTEG=
INTEG_TIMEOUT=1200

for a in $(cat /proc/cmdline); do
	case "$a" in
	tk.root=*) ROOT=${a#tk.root=} ;;	# the source tree (its build/)
	tk.tree=*) TREE=${a#tk.tree=} ;;	# the extracted kernel package
	tk.suites=*) SUITES=${a#tk.suites=} ;;
	tk.repeat=*) REPEAT=${a#tk.repeat=} ;;
	tk.integ=*) INTEG=${a#tk.integ=} ;;
	esac
done
KVER=$(uname -r)

poweroff_now() {
	sync
	echo o > /proc/sysrq-trigger
	sleep 30
}
trap poweroff_now EXIT

# result CHECK PASS|FAIL SUMMARY [DETAIL]
result() {
	printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${4:-}" >> "$OUT/results.tsv"
	echo "tk: $1: $2 $3${4:+ ($4)}" > /dev/console
}

# The first error of a failed BPF load in a libbpf/bpftool log: the
# verifier's message (the last line of its log before the statistics) and
# the source line it was at (kernels before 6.6 print only the code: found
# in bpf/), or libbpf's own complaint (e.g. a CO-RE relocation it could not
# resolve).
bpf_error() {
	local msg src core other at
	IFS=$'\t' read -r msg src core other < <(awk '
	/-- BEGIN PROG LOAD LOG --/ { inlog = 1; m = ""; s = ""; next }
	/-- END PROG LOAD LOG --/ { inlog = 0; if (msg == "" && m != "") { msg = m; src = s }; next }
	inlog {
		if ($0 ~ /^processed [0-9]+ insns/ || $0 ~ /^verification time/ || \
		    $0 ~ /^stack depth/ || $0 ~ /^$/) next
		if ($0 ~ /^; /) { s = substr($0, 3); next }
		m = $0; next
	}
	core == "" && /failed to resolve CO-RE relocation|relo #[0-9]+: .*(failed|no matching targets)/ {
		core = $0; sub(/^libbpf: /, "", core)
	}
	other == "" && /libbpf: .*(failed|error|Error|unknown|invalid|-E[A-Z]+)/ { other = $0; sub(/^libbpf: /, "", other) }
	other == "" && /^Error: / { other = $0 }
	END { gsub(/\t/, " "); printf "%s\t%s\t%s\t%s\n", (msg == "" ? "-" : msg), (src == "" ? "-" : src), (core == "" ? "-" : core), (other == "" ? "-" : other) }' "$1")
	if [ "$msg" != - ]; then
		at=
		case "$src" in
		-) ;;
		*' @ '*) at=${src##* @ } ;;
		*) at=$(cd "$ROOT/bpf" && grep -nF -- "$src" *.h *.c | head -n 1 | cut -d: -f1,2) ;;
		esac
		printf '%s%s' "$msg" "${at:+ (at bpf/$at)}"
		[ "$core" != - ] && printf '; %s' "$core"
		echo
	elif [ "$core" != - ]; then
		echo "$core"
	elif [ "$other" != - ]; then
		echo "$other"
	fi
}

# devtmpfs has no /dev/fd (bash's <(...) needs it)
ln -sf /proc/self/fd /dev/fd
mount -t bpf bpf /sys/fs/bpf
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t tmpfs vartmp /var/tmp
# The kernel's module requests and ours: modprobe on the extracted package.
echo "$ROOT/tests/kernels/guest-modprobe.sh" > /proc/sys/kernel/modprobe
ip link set lo up
ulimit -l unlimited

{
	echo "kernel $KVER"
	echo "cmdline $(cat /proc/cmdline)"
	echo "cpus $(nproc)"
	# the name in BTF's string table (a bpftool dump of it takes 20 s here)
	echo "vmlinux BTF names ip_esp_hdr: $(grep -qa ip_esp_hdr /sys/kernel/btf/vmlinux && echo yes || echo no)"
} > "$OUT/guest.txt"
"$ROOT/tests/kernels/guest-modprobe.sh" -a veth ipip sch_ingress cls_bpf 2>> "$OUT/guest.txt"

cd "$ROOT" || exit 1

# ---- the BPF packet suites ---------------------------------------------------
# run_suite BINARY LOG: one run; its verdict in OK (0 passed), SUMMARY, DETAIL.
run_suite() {
	local t=$1 log=$2 start rc secs planned run passed failed skipped err

	start=$(date +%s.%N)
	timeout -k 5 "$SUITE_TIMEOUT" "$t" > "$log" 2>&1
	rc=$?
	secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	planned=$(sed -n 's/^\[==========\] Running \([0-9]*\) test(s).*/\1/p' "$log" | head -n 1)
	run=$(sed -n 's/^\[==========\] \([0-9]*\) test(s) run.*/\1/p' "$log" | tail -n 1)
	passed=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s).*/\1/p' "$log" | tail -n 1)
	failed=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s).*/\1/p' "$log" | tail -n 1)
	skipped=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test(s).*/\1/p' "$log" | tail -n 1)
	SUMMARY="${passed:-0}/${planned:-?} passed"
	[ -n "$failed" ] && SUMMARY+=", $failed failed"
	[ -n "$skipped" ] && SUMMARY+=", $skipped skipped"
	grep -q '^\[  FAILED  \] GROUP SETUP' "$log" && SUMMARY+=", group setup failed"
	{ [ "$rc" = 124 ] || [ "$rc" = 137 ]; } && SUMMARY+=", timed out after ${SUITE_TIMEOUT}s"
	[ -z "$run" ] && [ "$rc" != 124 ] && SUMMARY+=", exit $rc"
	SUMMARY+=" in ${secs}s"
	# each failed test with its first assertion, the skipped ones, then
	# why the programs did not load
	DETAIL=$(awk '
		/^\[ RUN      \]/ { t = $4; msg = ""; at = 0 }
		/^\[  ERROR   \] --- / && msg == "" { msg = $0; sub(/^\[  ERROR   \] --- /, "", msg) }
		/^\[   LINE   \] --- / && !at++ { l = $0; sub(/^\[   LINE   \] --- /, "", l); sub(/: error.*/, "", l); sub(/.*\//, "", l); msg = msg " at " l }
		/^\[  FAILED  \] test_/ && $4 == t && !seen[t]++ { print t ": " msg }
		/^\[  SKIPPED \] test_/ && $4 == t && !seen[t]++ { print t ": skipped" }
		' "$log" | head -n 12 | paste -sd ';' | sed 's/;/; /g')
	err=$(bpf_error "$log")
	[ -n "$err" ] && DETAIL="${DETAIL:+$DETAIL; }$err"
	OK=1
	[ "$rc" = 0 ] && [ -n "$run" ] && [ "${passed:-0}" = "$run" ] && [ "$run" = "$planned" ] &&
		[ "$run" -gt 0 ] && OK=0
}

# Every suite REPEAT times (tk.repeat=, to catch flakes); tk.suites= (comma
# separated names) runs only those.
for t in build/tests/test_bpf* build/tests/test_host_tunnel build/tests/test_mapsync; do
	[ -x "$t" ] || continue
	name=${t##*/}
	[ -n "$SUITES" ] && [[ ",$SUITES," != *",$name,"* ]] && continue
	fails=0
	first=
	for ((i = 1; i <= REPEAT; i++)); do
		log=$OUT/$name.log
		[ "$REPEAT" -gt 1 ] && log=$OUT/$name.$i.log
		run_suite "$t" "$log"
		if [ "$OK" != 0 ]; then
			fails=$((fails + 1))
			[ -z "$first" ] && first="$SUMMARY" fdetail="$DETAIL"
		fi
	done
	if [ "$fails" = 0 ]; then
		result "suite $name" PASS "$SUMMARY$([ "$REPEAT" -gt 1 ] && echo " (x$REPEAT)")" "$DETAIL"
	elif [ "$REPEAT" -gt 1 ]; then
		result "suite $name" FAIL "failed $fails of $REPEAT runs" "first: $first; $fdetail"
	else
		result "suite $name" FAIL "$first" "$fdetail"
	fi
done

# ---- every BPF object, loaded as a whole -------------------------------------
# As xdnatd loads them: without xdp.frags (before 5.18) the plain twins only.
mkdir -p /sys/fs/bpf/tk
for o in build/bpf/*.bpf.o; do
	name=${o##*/}
	name=${name%.bpf.o}
	log=$OUT/load_$name.log
	if progs=$(build/itest/bpf_loadall "$o" "/sys/fs/bpf/tk/$name" 2> "$log"); then
		result "load $name.bpf.o" PASS "$progs"
	else
		# a verifier error hides the CO-RE relocations libbpf could not
		# resolve (it poisons them; debug output names them)
		build/itest/bpf_loadall -d "$o" "/sys/fs/bpf/tk/$name.d" > "$log.debug" 2>&1
		rm -rf "/sys/fs/bpf/tk/$name.d"
		core=$(awk '
			match($0, /relo #[0-9]+: /) {
				r = substr($0, RSTART, RLENGTH - 2); rest = substr($0, RSTART + RLENGTH)
				if (rest ~ /^<[a-z_]+> \[[0-9]+\] /) { sub(/^<[a-z_]+> \[[0-9]+\] /, "", rest); what[r] = rest }
				else if (rest ~ /no matching targets|failed/ && !seen[r]++)
					print "CO-RE " r ": " what[r] ": " rest
			}' "$log.debug" | head -n 3 | paste -sd ';' | sed 's/;/; /g')
		err=$(bpf_error "$log")
		case "$err" in
		*'(at bpf/'*) short="verifier: ${err##*(at }"; short=${short%%)*} ;;
		*) short=$(echo "$err" | cut -c1-40) ;;
		esac
		result "load $name.bpf.o" FAIL "$short" "$err${core:+; $core}"
	fi
done

# ---- the programs' own probe of this kernel (--check-kernel) -------------------
# PASS: exit 0; the summary names the optional features absent (fallbacks).
for p in xdnatd xdnat-host; do
	log=$OUT/check_kernel_$p.log
	"build/$p" --check-kernel > "$log" 2>&1
	rc=$?
	opt=$(awk -F'  +' '$3 == "optional" && $4 ~ /^absent/ { print $1 }' "$log" | paste -sd ';' |
		sed 's/;/; /g')
	if [ "$rc" = 0 ]; then
		result "check-kernel $p" PASS "exit 0${opt:+, absent (fallback): $opt}" ""
	else
		result "check-kernel $p" FAIL "exit $rc" "$(tail -n 1 "$log")"
	fi
done

# ---- gw_ext and gw_int attached natively to a veth ----------------------------
ip link add tk0 type veth peer name tk1
ip link set tk0 up
ip link set tk1 up
for p in gw_ext gw_int; do
	log=$OUT/attach_$p.log
	# the xdp.frags program, or its plain twin where only that loaded
	pin=/sys/fs/bpf/tk/$p/$p
	[ -e "$pin" ] || pin=/sys/fs/bpf/tk/$p/${p}_plain
	if [ ! -e "$pin" ]; then
		result "attach $p xdpdrv" FAIL "not loaded" ""
		continue
	fi
	if ip link set dev tk0 xdpdrv pinned "$pin" > "$log" 2>&1 &&
	   ip -d link show dev tk0 >> "$log" 2>&1 && grep -q 'prog/xdp id' "$log"; then
		result "attach $p xdpdrv" PASS "$(grep -o 'xdp id [0-9]*\|prog/xdp id [0-9]*' "$log" | head -n 1)"
	else
		result "attach $p xdpdrv" FAIL "$(head -n 1 "$log")" ""
	fi
	ip link set dev tk0 xdpdrv off 2>> "$log"
done
ip link del tk0

# ---- namespace suites, when asked (tk.integ=, comma separated) ----------------
# Real traffic through the programs (tests/integration/), minutes each here.
IFS=, read -ra integ <<< "$INTEG"
# how slow this guest is for them: their scapy helpers wait 8-10 s for peers
[ -n "$INTEG" ] && echo "python3 -c 'import scapy.all' took" \
	"$( { TIMEFORMAT=%Rs; time /usr/bin/python3 -c 'import scapy.all' 2>/dev/null; } 2>&1)" >> "$OUT/guest.txt"
for x in "${integ[@]}"; do
	log=$OUT/integ_${x%.sh}.log
	start=$(date +%s)
	timeout -k 10 "$INTEG_TIMEOUT" bash "tests/integration/$x" > "$log" 2>&1
	rc=$?
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
	summary="${line:-exit $rc} in $(($(date +%s) - start))s"
	{ [ "$rc" = 124 ] || [ "$rc" = 137 ]; } && summary+=", timed out"
	fails=$(sed -n 's/^FAIL //p' "$log" | head -n 6 | paste -sd ';' | sed 's/;/; /g')
	if [ "$rc" = 0 ] && [ -n "$line" ]; then
		result "integration $x" PASS "$summary" ""
	else
		result "integration $x" FAIL "$summary" "$fails"
	fi
done

dmesg > "$OUT/dmesg.txt"
echo done > "$OUT/done"
