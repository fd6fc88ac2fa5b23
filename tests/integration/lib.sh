# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Shared helpers for the namespace tests: unique names, veth links, daemons
# started by PID, checks counted into the closing "N passed, N failed" line,
# and a cleanup that runs on every exit path.

set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$ROOT/build
RUN_ID="$$$RANDOM"			# unique per run: two runs never collide
TMP=$(mktemp -d "/tmp/xdnat-test-$RUN_ID.XXXX")
NETNS_LIST=()
PIDS=()
PASS=0
FAIL=0

ns_name() { echo "xdt$RUN_ID-$1"; }

cleanup() {
	local pid ns
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	for ns in "${NETNS_LIST[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pass() { PASS=$((PASS + 1)); echo "PASS $*"; }
fail() { FAIL=$((FAIL + 1)); echo "FAIL $*"; }
check() {	# check NAME COMMAND...: passes when the command succeeds
	local name=$1; shift
	if "$@" >"$TMP/check.out" 2>&1; then pass "$name"; else
		fail "$name"; sed 's/^/    /' "$TMP/check.out" | head -20; fi
}
# Runs a tool that prints PASS/FAIL lines and folds them into the counts.
count_lines() {
	local line
	while IFS= read -r line; do
		echo "$line"
		case $line in
		PASS*) PASS=$((PASS + 1)) ;;
		FAIL*) FAIL=$((FAIL + 1)) ;;
		esac
	done
}
summary() {
	echo "$PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
}

require_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "these tests need root (network namespaces)"; echo "0 passed, 1 failed"; exit 1
	fi
}

ns_add() {	# ns_add SHORTNAME -> creates namespace, echoes its name
	local ns; ns=$(ns_name "$1")
	ip netns add "$ns"
	NETNS_LIST+=("$ns")
	ip -n "$ns" link set lo up
	echo "$ns"
}

# veth_link NS_A IF_A ADDR_A/LEN NS_B IF_B ADDR_B/LEN
veth_link() {
	ip link add "$2" netns "$1" type veth peer name "$5" netns "$4"
	ip -n "$1" addr add "$3" dev "$2"
	ip -n "$4" addr add "$6" dev "$5"
	ip -n "$1" link set "$2" up
	ip -n "$4" link set "$5" up
}

# start_bg NS LOGFILE COMMAND... : runs in the namespace, records the PID
start_bg() {
	local ns=$1 log=$2; shift 2
	ip netns exec "$ns" "$@" >"$log" 2>&1 &
	LAST_PID=$!
	PIDS+=("$LAST_PID")
}

stop_pid() {	# stop_pid PID [SIGNAL]
	kill "-${2:-TERM}" "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	local p keep=()
	for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}

wait_for_socket() {	# wait_for_socket PATH [TRIES]
	local i
	for ((i = 0; i < ${2:-50}; i++)); do
		[ -S "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
