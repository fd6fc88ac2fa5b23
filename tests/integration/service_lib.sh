# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Checks of the programs as a service manager sees them, for the tree's
# build (test_service.sh) and for the installed package
# (tests/packaging/test_package.sh): --version, the man pages against
# --help, the example configuration, the sd_notify sequence, journald
# priorities. Needs lib.sh first. Each takes the programs' directory.

# require_deb: DEB, the package of `make deb`; without one, the closing
# line and exit 1 (the package tests)
require_deb() {
	DEB=$(ls "$BUILD"/deb/xdnat_*.deb 2>/dev/null | head -1)
	if [ -z "$DEB" ]; then
		echo "no build/deb/xdnat_*.deb: run make deb (or make package-test)"
		echo "0 passed, 1 failed"; exit 1
	fi
}

# notify_start NAME: a listener at $TMP/NAME.sock, messages in $TMP/NAME.log
notify_start() {
	rm -f "$TMP/$1.sock" "$TMP/$1.log"; : > "$TMP/$1.log"
	/usr/bin/python3 "$ROOT/tests/integration/notify_listen.py" "$TMP/$1.sock" \
		"$TMP/$1.log" > "$TMP/$1.out" 2>&1 &
	PIDS+=("$!")
	wait_for_line "$TMP/$1.out" listening
}
# notify_count LOG MSG: how many lines of LOG carry MSG (e.g. READY=1)
notify_count() { grep -c -- "$2" "$1"; }
# wait_notify LOG MSG N: until MSG was sent N times (5 s)
wait_notify() { wait_until 5 bash -c "[ \$(grep -c -- '$2' '$1') -ge $3 ]"; }

# check_versions BINDIR: "PROG (xdnat) VERSION" from all three, one version
check_versions() {
	local p v want
	want=$(cat "$ROOT/VERSION")
	for p in xdnatd xdnatctl xdnat-host; do
		check "$p --version: '$p (xdnat) $want...', exit 0" \
			bash -c "out=\$('$1/$p' --version) && [[ \$out == '$p (xdnat) $want'* ]]"
	done
	v=$(for p in xdnatd xdnatctl xdnat-host; do "$1/$p" --version | awk '{print $3}'; done |
		sort -u | wc -l)
	check "one version for the three programs" test "$v" -eq 1
}

# The options a program's --help text names (xdnat-host: each command's
# too): the first word of a line that starts with one, those of the usage
# lines, and --version and --help (checked on their own above).
help_options() {	# help_options BINDIR PROG
	{
		"$1/$2" --help
		if [ "$2" = xdnat-host ]; then
			for c in up status validate invalidate cert strongswan down; do
				"$1/$2" "$c" --help
			done
		fi
	} | awk '/^ *--/ { print $1 } /^usage:/ { print }' | grep -o -- '--[a-z][a-z-]*'
	printf '%s\n' --version --help
}
# The options a man page describes: the entries that start with one.
man_options() {
	MANWIDTH=200 man -l "$1" 2>/dev/null | grep -oE '^ {7}--[a-z][a-z-]*' | tr -d ' '
}

# check_man BINDIR MANDIR: each page renders, and documents exactly the
# options its program's --help names.
check_man() {
	local p page extra
	for p in xdnatd xdnatctl xdnat-host; do
		page=$(ls "$2/$p.8" "$2/$p.8.gz" 2>/dev/null | head -1)
		check "man -l $p.8 renders without a warning" bash -c \
			"out=\$(MANWIDTH=80 man -l '$page' 2>&1 >/dev/null); [ -z \"\$out\" ] &&
			 MANWIDTH=80 man -l '$page' 2>/dev/null | grep -q '^NAME'"
		extra=$(comm -3 <(help_options "$1" "$p" | sort -u) <(man_options "$page" | sort -u))
		check "$p.8 documents exactly the options of $p --help" test -z "$extra"
		[ -z "$extra" ] || echo "    only in --help | only in $p.8:" $extra
	done
}

# check_kernel_probe BINDIR: --check-kernel of xdnatd and xdnat-host says
# this kernel has everything (exit 0, the verdict last); without the
# privilege to load BPF it says that in one line and exits 1.
check_kernel_probe() {
	local p
	for p in xdnatd xdnat-host; do
		check "$p --check-kernel: exit 0, everything present" bash -c \
			"out=\$('$1/$p' --check-kernel) && ! grep -E 'ABSENT|not probed' <<< \"\$out\" &&
			 [ \"\$(tail -n 1 <<< \"\$out\")\" = '$p: this kernel has what it needs' ]"
		check "$p --check-kernel as nobody: exit 1, one line saying why" bash -c \
			"out=\$(setpriv --reuid=65534 --regid=65534 --clear-groups '$1/$p' --check-kernel);
			 [ \$? = 1 ] && tail -n 1 <<< \"\$out\" |
			 grep -qx '$p: cannot probe kernel .*: Operation not permitted ($p needs root.*)'"
	done
}

# check_example_conf BINDIR CONF: every key of the configuration file that
# --help lists is in CONF, commented out, with --help's default.
check_example_conf() {
	local key def line bad=""
	while read -r key def; do
		line=$(grep -E "^#$key = " "$2") || { bad+=" $key(missing)"; continue; }
		[ -z "$def" ] || [ "${line#*= }" = "$def" ] || bad+=" $key($line, wants $def)"
	done < <("$1/xdnatd" --help | sed -n 's/^  --\([a-z-]*\).*/\1/p' |
		grep -vxE 'unload|check-kernel|config|version|help' | while read -r k; do
			"$1/xdnatd" --help | grep -E "^  --$k( |$)" |
				sed -n 's/.*(default \([^:)][^)]*\))$/\1/p' |
				{ read -r d || true; echo "$k ${d:-}"; }; done)
	check "example xdnatd.conf: every key, commented, with its default" test -z "$bad"
	[ -z "$bad" ] || echo "   $bad"
}

# A configuration from the example: each of its keys uncommented as it
# stands, but no NICs, site key, CA files, allocation log path (it would
# leave the state directory) or --ctl-group (its group may not exist here)
# and PAP on 127.0.0.1: the control plane alone. In $TMP/NAME.conf.
example_conf() {	# example_conf EXAMPLE NAME
	sed -e 's/^#\([a-z-]* = \)/\1/' \
		-e 's/^\(ext-if\|int-if\|site-key\|ca-cert\|ca-key\|foreground\|pidfile\|alloc-log\|ctl-group\) = /#&/' \
		-e 's/^internal = .*/internal = 127.0.0.1/' "$1" > "$TMP/$2.conf"
}

# check_notify BINDIR NS CONF NAME [XDNATD FLAGS]: xdnatd started in NS with
# NOTIFY_SOCKET, WATCHDOG_USEC and --pidfile: READY=1 once xdnatctl is
# answered, WATCHDOG=1, SIGHUP gives RELOADING=1 then READY=1, SIGTERM
# STOPPING=1 and the end. In the foreground (FLAGS has --foreground) the
# exit status is 0; detached, the parent exits 0 and the pidfile goes.
check_notify() {
	local bin=$1 ns=$2 conf=$3 name=$4 pid first log=$TMP/$4.log pidf=$TMP/$4.pid
	shift 4
	notify_start "$name" || { fail "$name: notify listener"; return; }
	rm -f "$TMP/$name.ctl" "$pidf"
	ip netns exec "$ns" env NOTIFY_SOCKET="$TMP/$name.sock" WATCHDOG_USEC=2000000 \
		"$bin/xdnatd" --config "$conf" --state-dir "$TMP/$name.state" \
		--socket "$TMP/$name.ctl" --bpffs "$TMP/$name.bpf" --pidfile "$pidf" "$@" \
		> "$TMP/$name.err" 2>&1 &
	first=$!
	PIDS+=("$first")
	check "$name: READY=1" wait_notify "$log" READY=1 1
	pid=$(cat "$pidf" 2>/dev/null)
	if [[ " $* " == *" --foreground "* ]]; then
		check "$name: the pidfile holds the daemon's pid" test "$pid" = "$first"
	else
		check "$name: detached: the parent exits 0" wait_pid "$first"
		check "$name: detached: the pidfile holds the serving child" \
			bash -c "[ -n '$pid' ] && [ '$pid' != '$first' ] && kill -0 '$pid'"
	fi
	check "$name: the control socket serves when READY=1 is sent" \
		"$bin/xdnatctl" --socket "$TMP/$name.ctl" stats
	check "$name: the JSON carries the version" bash -c "'$bin/xdnatctl' --socket \
		'$TMP/$name.ctl' --json hosts | grep -q '^{\"schema\":1,\"version\":\"$(\
		"$bin/xdnatd" --version | awk '{print $3}')\",'"
	check "$name: WATCHDOG=1 with WATCHDOG_USEC set" wait_notify "$log" WATCHDOG=1 1
	kill -HUP "$pid"
	check "$name: SIGHUP: RELOADING=1 with MONOTONIC_USEC" \
		wait_notify "$log" 'RELOADING=1 MONOTONIC_USEC=[0-9]' 1
	check "$name: SIGHUP: then READY=1 again" wait_until 5 bash -c \
		"sed -n '/RELOADING=1/,\$p' '$log' | grep -q READY=1"
	check "$name: still serving after the reload" \
		"$bin/xdnatctl" --socket "$TMP/$name.ctl" stats
	kill -TERM "$pid"
	check "$name: SIGTERM: STOPPING=1" wait_notify "$log" STOPPING=1 1
	if [ "$pid" = "$first" ]; then
		check "$name: SIGTERM: exit 0" wait_pid "$pid"
	else
		check "$name: SIGTERM: the detached daemon ends" \
			wait_until 5 bash -c "! kill -0 '$pid'"
	fi
	check "$name: the pidfile and the socket are removed" \
		bash -c "[ ! -e '$pidf' ] && [ ! -e '$TMP/$name.ctl' ]"
	check "$name: READY, RELOADING, READY, STOPPING in that order" bash -c \
		"grep -o 'READY=1\|RELOADING=1\|STOPPING=1' '$log' | tr '\n' ' ' |
		 grep -qx 'READY=1 RELOADING=1 READY=1 STOPPING=1 '"
}

# check_journal_priority BINDIR: with JOURNAL_STREAM naming stderr, errors
# carry <3> and information <6>; with another stream, no prefix.
check_journal_priority() {
	local err=$TMP/journal.err st
	: > "$err"
	st=$(stat -c '%d:%i' "$err")
	JOURNAL_STREAM=$st "$1/xdnatd" --global 198.51.100.1 --foreground \
		--ext-if nosuchif0 --int-if nosuchif1 --internal 127.0.0.1 \
		--state-dir "$TMP/journal.state" --socket "$TMP/journal.ctl" 2>>"$err"
	check "JOURNAL_STREAM = stderr: an error line starts with <3>" \
		grep -q '^<3>xdnatd: error: --ext-if nosuchif0: no such interface' "$err"
	check "JOURNAL_STREAM = stderr: no line without a priority" \
		bash -c "! grep -v '^<[0-7]>' '$err'"
	: > "$err"
	JOURNAL_STREAM=1:1 "$1/xdnatd" --global 198.51.100.1 --foreground \
		--ext-if nosuchif0 --int-if nosuchif1 --internal 127.0.0.1 \
		--state-dir "$TMP/journal.state" --socket "$TMP/journal.ctl" 2>>"$err"
	check "JOURNAL_STREAM of another stream: no prefix" \
		grep -q '^xdnatd: error: --ext-if nosuchif0' "$err"
}

# check_units UNITDIR BINDIR: systemd-analyze verify says nothing about the
# units, with their programs taken from BINDIR (xdnat-host@lo for the
# template).
check_units() {
	local u d=$TMP/units.$RANDOM
	mkdir -p "$d"
	for u in "$1"/xdnatd.service "$1"/xdnat-host@.service; do
		sed "s|^\(Exec[A-Za-z]*=\)[^ ]*/\(xdnat[a-z-]*\)|\1$2/\2|" "$u" > "$d/${u##*/}"
	done
	cp "$d/xdnat-host@.service" "$d/xdnat-host@lo.service"
	check "systemd-analyze verify: xdnatd.service and xdnat-host@.service are clean" \
		bash -c "out=\$(systemd-analyze verify --man=no '$d/xdnatd.service' \
			'$d/xdnat-host@lo.service' 2>&1); echo \"\$out\"; [ -z \"\$out\" ]"
	check "the units run the programs as installed" bash -c \
		"grep -q '^ExecStart=$2/xdnatd --foreground --config ' '$d/xdnatd.service' &&
		 grep -q '^ExecStart=$2/xdnat-host up ' '$d/xdnat-host@.service'"
}

# unit_caps UNIT: its CapabilityBoundingSet as setpriv takes it (+bpf,...)
unit_caps() {
	sed -n 's/^CapabilityBoundingSet=//p' "$1" | tr 'A-Z' 'a-z' |
		sed -e 's/cap_/+/g' -e 's/ /,/g'
}
# caps_mask CAPS: /proc/PID/status's hex mask of those capabilities
caps_mask() {
	local -A bit=([net_admin]=12 [net_raw]=13 [sys_admin]=21 [perfmon]=38 [bpf]=39)
	local c mask=0
	for c in ${1//[+,]/ }; do mask=$((mask | 1 << ${bit[$c]})); done
	printf '%016x' "$mask"
}
# setpriv_args CAPS: the setpriv command line that runs a command with only
# CAPS, ambient, as systemd grants them (no blanks in it: word-split it)
setpriv_args() {
	echo setpriv --inh-caps=-all,"$1" --ambient-caps=-all,"$1" --bounding-set=-all,"$1"
}

# check_caps BINDIR UNIT: xdnatd with the unit's capabilities alone (its
# CapabilityBoundingSet, ambient, as systemd grants them) loads and attaches
# the data plane on two veths, serves, and stops on SIGTERM.
check_caps() {
	local caps name=caps pid mask CAPNS
	caps=$(unit_caps "$2")
	mask=$(caps_mask "$caps")
	ns_add caps CAPNS
	local ns=$CAPNS
	ip -n "$ns" link add ext0 type veth peer name ext1
	ip -n "$ns" link add int0 type veth peer name int1
	for i in ext0 ext1 int0 int1; do ip -n "$ns" link set "$i" up; done
	ip -n "$ns" addr add 10.0.0.1/24 dev int0
	mount_bpffs "$TMP/$name.bpf"
	ip netns exec "$ns" $(setpriv_args "$caps") "$1/xdnatd" --global 198.51.100.1 \
		--internal 10.0.0.1 --ext-if ext0 --int-if int0 --xdp-mode generic \
		--state-dir "$TMP/$name.state" --socket "$TMP/$name.ctl" \
		--bpffs "$TMP/$name.bpf" --foreground > "$TMP/$name.err" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	check "with only $caps: the data plane attaches and xdnatd serves" bash -c \
		"for i in \$(seq 50); do grep -q 'serving PAP' '$TMP/$name.err' && break; sleep 0.1; done
		 grep -q 'attached gw_ext' '$TMP/$name.err' && grep -q 'attached gw_int' '$TMP/$name.err' &&
		 grep -q 'serving PAP' '$TMP/$name.err' && ! grep -q error '$TMP/$name.err' &&
		 grep -qx 'CapEff:.$mask' /proc/$pid/status"
	kill -TERM "$pid"
	check "with only $caps: SIGTERM, exit 0" wait_pid "$pid"
}

# check_host_caps BINDIR UNIT: xdnat-host up with the unit's capabilities
# alone registers with a gateway, configures the host and attaches its
# tunnel.
check_host_caps() {
	local caps gw h hp HCGW HCH
	caps=$(unit_caps "$2")
	ns_add hcgw HCGW
	ns_add hch HCH
	gw=$HCGW h=$HCH
	veth_link "$gw" int0 10.0.0.1/24 "$h" eth0 10.0.0.11/24
	start_bg "$gw" "$TMP/hc-gw.log" "$1/xdnatd" --global 198.51.100.1 --internal 10.0.0.1 \
		--state-dir "$TMP/hc-gw.state" --socket "$TMP/hc-gw.ctl" \
		--bpffs "$TMP/hc-gw.bpf" --foreground
	wait_for_socket "$TMP/hc-gw.ctl"
	start_bg "$h" "$TMP/hc-h.log" $(setpriv_args "$caps") "$1/xdnat-host" up --gateway 10.0.0.1 \
		--dev eth0 --state-dir "$TMP/hc-h.state" --socket "$TMP/hc-h.ctl"
	hp=$LAST_PID
	check "xdnat-host with only $caps: up, its tunnel attached" \
		wait_for_line "$TMP/hc-h.log" 'up: client 1' 15
	check "xdnat-host with only $caps: it has no other capability" \
		grep -qx "CapEff:.$(caps_mask "$caps")" "/proc/$hp/status"
	stop_pid "$hp"
}
