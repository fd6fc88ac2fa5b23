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
MOUNTS=()
PASS=0
FAIL=0

ns_name() { echo "xdt$RUN_ID-$1"; }

cleanup() {
	local pid ns i
	set +e	# a script's `set -e` must not stop the cleanup half way
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	# Every namespace of this run, also one created in a subshell by mistake.
	for ns in "${NETNS_LIST[@]}" $(ip netns list | awk -v p="xdt$RUN_ID-" \
			'index($1, p) == 1 { print $1 }'); do
		ip netns del "$ns" 2>/dev/null
	done
	for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
		umount "${MOUNTS[i]}" 2>/dev/null
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

# mount_bpffs DIR: a BPF filesystem in the root mount namespace, so pins made
# under `ip netns exec` (a private mount namespace) outlive the daemon.
mount_bpffs() {
	mkdir -p "$1" && mount -t bpf bpffs "$1" && MOUNTS+=("$1")
}

ns_add() {	# ns_add SHORTNAME VAR: creates the namespace, sets VAR to its name
	# Not for $(...): a subshell's NETNS_LIST would never reach cleanup.
	local ns; ns=$(ns_name "$1")
	ip netns add "$ns" || return 1
	NETNS_LIST+=("$ns")
	ip -n "$ns" link set lo up
	[ -n "${2:-}" ] && printf -v "$2" '%s' "$ns"
	return 0
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

# veth_pair NS_A IF_A NS_B IF_B: a link without addresses (bridge ports), up
veth_pair() {
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3"
	ip -n "$1" link set "$2" up
	ip -n "$3" link set "$4" up
}

mac_of() {	# mac_of NS IF
	ip -n "$1" -br link show dev "$2" | awk '{print $3}'
}

# sniff_start NS IF PCAP [FILTER...]: tcpdump in the background, returns once
# it listens (so nothing sent afterwards is missed); PID in LAST_PID. Stop it
# with stop_pid PID INT, which flushes the file. Immediate mode: otherwise
# packets wait in the capture ring for up to a second, and a capture stopped
# meanwhile loses them ("N received by filter", 0 captured).
sniff_start() {
	local ns=$1 dev=$2 pcap=$3 i; shift 3
	start_bg "$ns" "$pcap.log" tcpdump -i "$dev" -n -U --immediate-mode -w "$pcap" "$@"
	for ((i = 0; i < 50; i++)); do
		grep -q "listening on" "$pcap.log" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# wait_until SECONDS COMMAND...: runs COMMAND every 0.1 s until it succeeds;
# fails once SECONDS have passed. For conditions, instead of fixed sleeps.
wait_until() {
	local end=$((SECONDS + $1)); shift
	until "$@" >/dev/null 2>&1; do
		((SECONDS > end)) && return 1
		sleep 0.1
	done
}

# wait_for_line FILE REGEX [SECONDS]: until a line of FILE matches (a
# background tool printing "ready", say); 10 s unless told.
wait_for_line() {
	wait_until "${3:-10}" grep -q -- "$2" "$1"
}

# wait_pid PID: waits for a start_bg process that ends by itself and drops it
# from cleanup's list, so that cleanup never signals a PID reused since.
# Returns the process's exit status.
wait_pid() {
	local rc p keep=()
	wait "$1" 2>/dev/null; rc=$?
	for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	PIDS=("${keep[@]}")
	return $rc
}

# bridge_two_hosts: namespaces gw, h1 and h2 (names in GW, H1, H2); gw holds
# a bridge br0 at Gi = 10.0.0.1/24, h1 (10.0.0.11) and h2 (10.0.0.12) hang
# off it by eth0 (vh1 and vh2 on the gateway's side).
bridge_two_hosts() {
	ns_add gw GW
	ns_add h1 H1
	ns_add h2 H2
	ip -n "$GW" link add br0 type bridge
	ip -n "$GW" addr add 10.0.0.1/24 dev br0
	ip -n "$GW" link set br0 up
	veth_pair "$H1" eth0 "$GW" vh1
	veth_pair "$H2" eth0 "$GW" vh2
	ip -n "$GW" link set vh1 master br0
	ip -n "$GW" link set vh2 master br0
	ip -n "$H1" addr add 10.0.0.11/24 dev eth0
	ip -n "$H2" addr add 10.0.0.12/24 dev eth0
}
