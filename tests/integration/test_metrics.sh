#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Observability on the end-to-end rig (rig.sh): /metrics scraped from a host
# and parsed with the Prometheus client's parser (every series there, values
# moving with traffic and PAP requests), the PAP counters going on after a
# restart, the control socket's --ctl-group (a member reads, cannot free;
# others cannot connect), xdnatctl reading the pinned maps while xdnatd is
# down, and bpftool printing the counters' reason names and the layout record.
. "$(dirname "$0")/lib.sh"
require_root
. "$(dirname "$0")/rig.sh"

SCRAPE=$ROOT/tests/integration/metrics_scrape.py
PROBE=$BUILD/itest/pap_probe
MPORT=9417
URL=http://$GI:$MPORT/metrics
"$PY" -c 'from prometheus_client.parser import text_string_to_metric_families' 2>/dev/null ||
	{ echo "missing: python3-prometheus-client (make deps)"; echo "0 passed, 1 failed"; exit 1; }

# A group of this run for --ctl-group, removed on exit; the socket in a
# directory others may enter (the group's members must reach it).
GROUP=xdt$RUN_ID
groupadd "$GROUP" || { echo "0 passed, 1 failed"; exit 1; }
GID=$(getent group "$GROUP" | cut -d: -f3)
trap 'cleanup; groupdel "$GROUP" 2>/dev/null' EXIT
chmod 0711 "$TMP"
mkdir -m 0755 "$TMP/run"
RIG_GW_SOCK=$TMP/run/xdnatd.sock
RIG_GW_FLAGS+=(--metrics-listen $GI:$MPORT --ctl-group "$GROUP")

rig_up || { echo "0 passed, 1 failed"; exit 1; }
rig_bg ext "$TMP/serve-ext.log" "$PY" "$TRAFFIC" serve $PEER 7 7
wait_for_line "$TMP/serve-ext.log" ready

# has_line FILE ERE: a line of FILE matches (else FILE is shown)
has_line() { grep -Eq "$2" "$1" || { echo "no line /$2/ in:"; cat "$1"; return 1; }; }
scrape() { rig_in h1 "$PY" "$SCRAPE" "$URL"; }
# metric LINE-START: the value of the sample whose line starts so
metric() { scrape | awk -v s="$1 " 'index($0, s) == 1 { print $2; f = 1 } END { exit !f }'; }
reasons() { "$PY" -c 'import re, sys
src = open(sys.argv[1]).read()
names = re.search(r"#define XDNAT_REASON_NAMES \{(.*?)\}", src, re.S).group(1)
print("\n".join(re.findall(r"\"(\w+)\"", names)))' "$ROOT/common/xdnat.h"; }
NREASONS=$(reasons | wc -l)

# --- the exposition, parsed ---------------------------------------------------------
scrape_to() { scrape > "$1"; }
check "/metrics parses with prometheus_client's parser, counters end in _total" \
	scrape_to "$TMP/m1"
version=$("$XDNATD" --version | awk '{print $3}')
# the layout of the pinned maps this build writes (common/xdnat.h)
LAYOUT=$(awk '$2 == "XDNAT_MAP_LAYOUT" { print $3 }' "$ROOT/common/xdnat.h")
check "xdnat_build_info carries the version, value 1" \
	grep -qx "xdnat_build_info{version=\"$version\"} 1" "$TMP/m1"
check "one xdnat_dataplane_packets_total series per reason ($NREASONS)" bash -c \
	"[ \$(grep -c '^xdnat_dataplane_packets_total{reason=' '$TMP/m1') = $NREASONS ]"
all_reasons() {	# all_reasons FILE METRIC: a series of METRIC for each reason
	local r
	for r in $(reasons); do grep -q "^$2{reason=\"$r\"} " "$1" || { echo "no $r"; return 1; }; done
}
check "... and bytes, with the names of the enum's table" \
	all_reasons "$TMP/m1" xdnat_dataplane_bytes_total
check "xdnat_pap_requests_total: every request type, 0 included" bash -c \
	"grep -q '^xdnat_pap_requests_total{type=\"deregister\"} 0' '$TMP/m1' &&
	 [ \$(grep -c '^xdnat_pap_requests_total{type=' '$TMP/m1') = 12 ]"
check "xdnat_pap_errors_total: every error code, 0 included" bash -c \
	"grep -q '^xdnat_pap_errors_total{code=\"bad-csr\"} 0' '$TMP/m1' &&
	 [ \$(grep -c '^xdnat_pap_errors_total{code=' '$TMP/m1') -ge 30 ]"
for m in xdnat_hosts xdnat_hosts_max xdnat_ports_held xdnat_ports_free xdnat_spis_held \
	 xdnat_spis_free xdnat_sa_entries xdnat_sa_entries_max xdnat_lease_expiries_total \
	 xdnat_certificates_issued_total xdnat_certificates_revoked_total \
	 xdnat_crl_revoked_certificates xdnat_pap_datagrams_total xdnat_dataplane_up; do
	check "series $m present" grep -q "^$m " "$TMP/m1"
done
check "gauges and counters typed as such" bash -c \
	"grep -qx '# FAMILY xdnat_hosts gauge' '$TMP/m1' &&
	 grep -qx '# FAMILY xdnat_dataplane_packets counter' '$TMP/m1'"
check "two hosts, the data plane up" bash -c \
	"grep -qx 'xdnat_hosts 2' '$TMP/m1' && grep -qx 'xdnat_dataplane_up 1' '$TMP/m1'"
held=$(( (H1_PORT_LAST - H1_PORT_FIRST + 1) + (H2_PORT_LAST - H2_PORT_FIRST + 1) ))
check "xdnat_ports_held: what the hosts hold, the rest of 20000-29999 free" bash -c \
	"grep -qx 'xdnat_ports_held $held' '$TMP/m1' &&
	 grep -qx 'xdnat_ports_free $((10000 - held))' '$TMP/m1'"
check "the same counts as xdnatctl stats" bash -c "[ \"\$(grep '^xdnat_pap_requests_total{type=\"register\"}' \
	'$TMP/m1' | cut -d' ' -f2)\" = \"\$('$XDNATCTL' --socket '$RIG_GW_SOCK' stats --json |
	'$PY' -c 'import json,sys; print(json.load(sys.stdin)[\"pap\"][\"requests\"][\"register\"])')\" ]"
status() { rig_in h1 "$PY" "$SCRAPE" --status "$@"; }
check "GET only: a POST is refused (405)" test "$(status POST "$URL")" = 405
check "/other is 404" test "$(status GET http://$GI:$MPORT/other)" = 404

# --- values move: traffic, a PAP client -----------------------------------------------
e0=$(metric 'xdnat_dataplane_packets_total{reason="fwd_to_ext"}')
t0=$(metric 'xdnat_dataplane_packets_total{reason="fwd_to_host"}')
d0=$(metric xdnat_pap_datagrams_total)
check "h1 echoes 5 datagrams off the peer" rig_py h1 udp-echo $G $((H1_PORT_FIRST + 10)) $PEER 7 5 1
e1=$(metric 'xdnat_dataplane_packets_total{reason="fwd_to_ext"}')
t1=$(metric 'xdnat_dataplane_packets_total{reason="fwd_to_host"}')
check "fwd_to_ext rose by 5 or more ($e0 -> $e1)" test "$e1" -ge $((e0 + 5))
check "fwd_to_host rose by 5 or more ($t0 -> $t1)" test "$t1" -ge $((t0 + 5))
eval "$(rig_in latk "$PROBE" $GI 4555 "$TMP/latk.session" share $PEER | grep '=')"
check "a third host (pap_probe share) registered" test -n "${CLIENT:-}"
scrape > "$TMP/m2"
check "xdnat_hosts 3" grep -qx 'xdnat_hosts 3' "$TMP/m2"
check "xdnat_pap_datagrams_total rose" test "$(awk '$1 == "xdnat_pap_datagrams_total" {print $2}' \
	"$TMP/m2")" -gt "$d0"
check "xdnat_pap_requests_total{type=\"ext-validate\"} counted the validation" \
	grep -qx 'xdnat_pap_requests_total{type="ext-validate"} [1-9][0-9]*' "$TMP/m2"
check "xdnat_sa_entries: the third host's 16 SPIs x 1 peer" grep -qx 'xdnat_sa_entries 16' "$TMP/m2"

# --- bpftool: the counters by name, the layout record -----------------------------------
bpftool -j map dump pinned "$RIG_BPFFS/xdnat_stats" > "$TMP/stats.json"
check "bpftool map dump xdnat_stats: every entry names its reason on every CPU" "$PY" -c '
import json, re, sys
names = sys.argv[2].split()
for e in json.load(open(sys.argv[1])):
    f = e["formatted"]
    got = {v["value"]["reason"] for v in f["values"]}
    want = {n for n in got if re.sub("^XDNAT_(DROP_)?", "", n).lower() == names[f["key"]]}
    if not got or got != want or not all(n.startswith("XDNAT_") for n in got):
        sys.exit("entry %d (%s): %s" % (f["key"], names[f["key"]], got))
' "$TMP/stats.json" "$(reasons | tr '\n' ' ')"
check "bpftool map dump xdnat_layout: layout $LAYOUT and the release" bash -c \
	"bpftool -j map dump pinned '$RIG_BPFFS/xdnat_layout' | '$PY' -c 'import json, sys
v = json.load(sys.stdin)[0][\"formatted\"][\"value\"]
sys.exit(not (v[\"layout\"] == $LAYOUT and \"$version\".startswith(v[\"version\"])))'"

# --- the control socket's group ----------------------------------------------------------
member() { setpriv --reuid=65534 --regid=65534 --groups="$GID" "$XDNATCTL" --socket "$RIG_GW_SOCK" "$@"; }
stranger() { setpriv --reuid=65534 --regid=65534 --clear-groups "$XDNATCTL" --socket "$RIG_GW_SOCK" "$@"; }
check "the socket is 0660, group $GROUP" bash -c \
	"[ \"\$(stat -c '%a %G' '$RIG_GW_SOCK')\" = '660 $GROUP' ]"
check "a member of --ctl-group (uid 65534) reads hosts" bash -c \
	"setpriv --reuid=65534 --regid=65534 --groups=$GID '$XDNATCTL' --socket '$RIG_GW_SOCK' hosts |
	 grep -q $H1_ADDR"
for c in "stats --json" sa "state dump" "token list" ca; do
	check "... and $c" member $c
done
out=$(member free "$CLIENT" 2>&1); rc=$?
check "... but may not free (exit 1, permission denied)" bash -c \
	"[ $rc = 1 ] && grep -q 'permission denied' <<<'$out'"
out=$(member token issue 2>&1); rc=$?
check "... nor issue a token" bash -c "[ $rc = 1 ] && grep -q 'permission denied' <<<'$out'"
check "... the host it tried to free is still there" bash -c \
	"'$XDNATCTL' --socket '$RIG_GW_SOCK' hosts | grep -q $LATK_ADDR"
out=$(stranger hosts 2>&1); rc=$?
check "a user outside the group cannot even connect" bash -c \
	"[ $rc = 1 ] && grep -q 'Permission denied' <<<'$out'"
out=$(rig_ctl free 999999 2>&1)
check "root keeps full access (free reaches the gateway: no such host)" \
	grep -q "no host 999999" <<<"$out"

# --- restart: the PAP counters go on ------------------------------------------------------
before=$(metric xdnat_pap_datagrams_total)
reg=$(metric 'xdnat_pap_requests_total{type="register"}')
rig_gw_stop
check "the PAP counters are in the state directory" grep -q '"datagrams":' \
	"$RIG_GW_STATE/pap_counters.json"

# --- offline: xdnatctl on the pinned maps -------------------------------------------------
ctl_off() { "$XDNATCTL" --socket "$RIG_GW_SOCK" --bpffs "$RIG_BPFFS" "$@"; }
ctl_off stats > "$TMP/off-stats" 2> "$TMP/off-stats.err"; rc=$?
check "xdnatctl stats with xdnatd stopped: exit 0, says it reads the maps offline" bash -c \
	"[ $rc = 0 ] && grep -q 'reading the maps pinned in $RIG_BPFFS offline (layout $LAYOUT' \
	'$TMP/off-stats.err'"
check "... every reason by name, fwd_to_ext as /metrics last said or more" bash -c \
	"[ \$(grep -c . '$TMP/off-stats') = $((NREASONS + 1)) ] &&
	 [ \$(awk '\$1 == \"fwd_to_ext\" {print \$2}' '$TMP/off-stats') -ge $e1 ]"
check "forwarding goes on meanwhile: h1 echoes off the peer" \
	rig_py h1 udp-echo $G $((H1_PORT_FIRST + 11)) $PEER 7 3 1
ctl_off hosts > "$TMP/off-hosts" 2>/dev/null
h1mac=$(mac_of "$H1" eth0)
check "xdnatctl hosts offline: h1 by address, client id, MAC and port range" \
	has_line "$TMP/off-hosts" "^$H1_CID +$H1_ADDR +$h1mac +([0-9,-]+,)?$H1_PORT_FIRST-"
check "... its SPIs as a range" grep -q "$(printf '0x%x-0x%x' $H1_SPI_FIRST $H1_SPI_LAST)" \
	"$TMP/off-hosts"
check "... three hosts" bash -c "[ \$(tail -n +2 '$TMP/off-hosts' | grep -c .) = 3 ]"
ctl_off ports > "$TMP/off-ports" 2>/dev/null
ctl_off sa > "$TMP/off-sa" 2>/dev/null
ctl_off hosts --json > "$TMP/off-hosts.json" 2>/dev/null
check "xdnatctl ports offline: owned ranges, h1's NAT-T port flagged" \
	has_line "$TMP/off-ports" "^$H1_CID +$H1_ADDR +$h1mac +$H1_NATT_PORT +natt"
check "... h2's first range" has_line "$TMP/off-ports" "^$H2_CID +$H2_ADDR +[-0-9a-f:]+ +$H2_PORT_FIRST[- ]"
check "xdnatctl sa offline: the third host's SPIs for the peer" \
	grep -Eq "^$CLIENT +$LATK_ADDR +[-0-9a-f:]+ +$PEER +$(printf '0x%x-0x%x' $SPI_FIRST $SPI_LAST)\$" \
	"$TMP/off-sa"
check "xdnatctl hosts --json offline: offline, the hosts" "$PY" -c 'import json, sys
d = json.load(open(sys.argv[1])); sys.exit(not (d["offline"] and len(d["hosts"]) == 3))' \
	"$TMP/off-hosts.json"
out=$(ctl_off free 1 2>&1); rc=$?
check "a command that needs the daemon still fails, saying so" bash -c \
	"[ $rc = 1 ] && grep -q 'is xdnatd running' <<<'$out'"

# --- pins of another layout: refused by xdnatd and by xdnatctl, naming it ------------------
# layout_record N TEXT: what an xdnatd of layout N and release TEXT would have pinned
layout_record() {
	bpftool map update pinned "$RIG_BPFFS/xdnat_layout" key hex 00 00 00 00 value hex \
		$("$PY" -c 'import struct, sys
print(" ".join("%02x" % b for b in struct.pack("=II56s", int(sys.argv[1]), 0, sys.argv[2].encode())))' "$1" "$2")
}
layout_record 1 old-release
out=$(ctl_off stats 2>&1); rc=$?
check "xdnatctl offline refuses maps of layout 1, naming the release" bash -c \
	"[ $rc = 1 ] && grep -q 'layout 1 (xdnatd old-release); this xdnatctl reads layout $LAYOUT' <<<'$out'"
rig_gw_start >/dev/null 2>&1
check "xdnatd refuses to start on them, naming the release that pinned them" \
	grep -q "holds the maps of layout 1 (xdnatd old-release), this xdnatd has layout $LAYOUT" "$RIG_GW_LOG"
check "... and forwarding goes on: h1 echoes off the peer" \
	rig_py h1 udp-echo $G $((H1_PORT_FIRST + 12)) $PEER 7 3 1
layout_record $LAYOUT "$version"

rig_gw_start
after=$(metric xdnat_pap_datagrams_total)
check "after the restart, xdnat_pap_datagrams_total went on ($before -> $after)" \
	test "$after" -ge "$before" -a "$before" -gt 0
check "... and the REGISTERs ($reg)" test "$(metric 'xdnat_pap_requests_total{type="register"}')" -ge "$reg"
check "xdnatctl stats goes on too" bash -c "[ \$('$XDNATCTL' --socket '$RIG_GW_SOCK' stats --json |
	'$PY' -c 'import json,sys; print(json.load(sys.stdin)[\"pap\"][\"datagrams\"])') -ge $before ]"
summary
