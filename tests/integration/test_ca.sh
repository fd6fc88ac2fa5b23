#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The gateway as its site's CA, end to end with the openssl command line as
# an external peer would use it (docs/ca.md). xdnatd (control plane only)
# holds a bridge at Gi = 10.0.0.1; h1 (10.0.0.11) and h2 (10.0.0.12) run
# xdnat-host up.
#
#   xdnatctl ca / crl (text and JSON); each agent's host.key, host.crt,
#   ca.crt, crl.pem; the certificate verifies against `xdnatctl ca`, names G
#   and exactly the host's ports in its SAN URI and portBlocks extension, and
#   h2's names none of h1's; `xdnat-host cert` (renewal, --out, RSA); the
#   agent renews by itself before expiry; `xdnatctl free` and `down` revoke
#   (openssl verify -crl_check fails); a site's intermediate CA
#   (--ca-cert/--ca-key) serves its chain, and lease expiry revokes; a CA key
#   with loose permissions, or not matching the certificate, stops xdnatd.
. "$(dirname "$0")/lib.sh"
require_root

PY=/usr/bin/python3
HOST=$BUILD/xdnat-host
XDNATD=$BUILD/xdnatd
CTL=$BUILD/xdnatctl
G=198.51.100.1
LEASE=30		# certificates last as long: renewed when 10 s are left

bridge_two_hosts

GWSOCK=$TMP/xdnatd.sock
ctl() { "$CTL" --socket "$GWSOCK" "$@"; }
hns() { [ "$1" = 1 ] && echo "$H1" || echo "$H2"; }
host() {	# host N ARGS...: xdnat-host in hN
	local ns; ns=$(hns "$1"); shift
	ip netns exec "$ns" "$HOST" "$@"
}
up_bg() {	# up_bg N PAP_PORT [flags]: the agent of hN
	local n=$1 port=$2 ns; ns=$(hns "$1"); shift 2
	start_bg "$ns" "$TMP/h$n.log" "$HOST" up --gateway 10.0.0.1 --dev eth0 --pap-port "$port" \
		--spis 0 --state-dir "$TMP/h$n" --socket "$TMP/h$n.sock" "$@"
	eval "AGENT$n=$LAST_PID"
}
json_get() { $PY -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
status_get() { host "$1" status --json --socket "$TMP/h$1.sock" | json_get "$2"; }
serial_of() {	# serial_of CERT: the serial as a decimal integer
	openssl x509 -in "$1" -noout -serial | \
		$PY -c "import sys; print(int(sys.stdin.read().split('=')[1], 16))"
}
on_crl() {	# on_crl CRLFILE CERT: is CERT's serial listed?
	local s; s=$(serial_of "$2")
	openssl crl -in "$1" -noout -text | $PY -c "
import re, sys
listed = [int(m, 16) for m in re.findall(r'Serial Number: *([0-9A-Fa-f]+)', sys.stdin.read())]
print('yes' if $s in listed else 'no')" \
		| grep -qx yes
}
verify_crl() {	# verify_crl CERT: openssl verify -crl_check against xdnatctl ca / crl
	ctl crl > "$TMP/crl.pem" && openssl verify -crl_check -CRLfile "$TMP/crl.pem" \
		-CAfile "$TMP/ca.pem" "$1"
}
# ports_of CERT: the portBlocks extension (2.25.310388229473022331704350473149991447902) decoded from the
# DER, as "G first-last" lines; and the SAN URI. Independent of ctl/ca.c.
ports_of() {
	openssl x509 -in "$1" -outform DER | $PY -c "
import sys, ipaddress
b = sys.stdin.buffer.read()
def tlv(b, i):
    t, l = b[i], b[i + 1]; i += 2
    if l & 0x80:
        n = l & 0x7f; l = int.from_bytes(b[i:i + n], 'big'); i += n
    return t, b[i:i + l], i + l
oid = bytes.fromhex('06146983d382ccced88ac2d2cf8fe9cdccc093b5da5e')
i = b.index(oid) + len(oid)
t, v, i = tlv(b, i)
if t == 0x01: t, v, i = tlv(b, i)	# critical BOOLEAN
assert t == 0x04
t, seq, _ = tlv(v, 0); assert t == 0x30
j = 0
while j < len(seq):
    t, blk, j = tlv(seq, j); assert t == 0x30
    t, g, k = tlv(blk, 0); assert t == 0x04 and len(g) == 4
    t, f, k = tlv(blk, k); assert t == 0x02
    t, l, k = tlv(blk, k); assert t == 0x02
    print(ipaddress.IPv4Address(g), '%d-%d' % (int.from_bytes(f, 'big'), int.from_bytes(l, 'big')))
"
}
san_uri() { openssl x509 -in "$1" -noout -ext subjectAltName | grep -o 'URI:[^,]*' | cut -c5-; }

export -f ctl host hns json_get status_get serial_of on_crl verify_crl ports_of san_uri
export PY HOST CTL GWSOCK H1 H2 TMP

# --- the gateway: its own CA ---------------------------------------------------
start_bg "$GW" "$TMP/xdnatd.log" "$XDNATD" --global $G --internal 10.0.0.1 \
	--state-dir "$TMP/gwstate" --socket "$GWSOCK" --bpffs "$TMP/bpf" \
	--ports 20000-29999 --lease $LEASE --max-lease $LEASE --foreground
GWPID=$LAST_PID
wait_for_socket "$GWSOCK"
check "first start: ca.key (0600) and ca.crt in --state-dir" bash -c \
	"[ \$(stat -c %a '$TMP/gwstate/ca.key') = 600 ] && [ -s '$TMP/gwstate/ca.crt' ]"
ctl ca > "$TMP/ca.pem"
check "xdnatctl ca: the CA certificate, CN naming G" bash -c \
	"[ \$(grep -c 'BEGIN CERTIFICATE' '$TMP/ca.pem') = 1 ] && \
	 openssl x509 -in '$TMP/ca.pem' -noout -subject | grep -q 'CN *= *xdnat local CA $G'"
check "xdnatctl ca is ca.crt of the state directory" cmp "$TMP/ca.pem" "$TMP/gwstate/ca.crt"
check "xdnatctl ca --json: {\"chain_pem\": ...}" bash -c \
	"[ \"\$(ctl ca --json | json_get \"d['chain_pem']\")\" = \"\$(cat '$TMP/ca.pem')\" ]"
check "xdnatctl crl: a CRL signed by the CA, nothing revoked" bash -c \
	"ctl crl > '$TMP/crl0.pem' && openssl crl -in '$TMP/crl0.pem' -noout -CAfile '$TMP/ca.pem' \
	 2>&1 | grep -q 'verify OK' && ctl crl --json | json_get \"d['revoked']\" | grep -qx 0"

# --- h1 and h2 get their certificates with `up` -----------------------------------
up_bg 1 4555
up_bg 2 4555
C1=$TMP/h1/cert
C2=$TMP/h2/cert
check "h1: certificate files after up" wait_until 20 test -s "$C1/host.crt" -a -s "$C1/crl.pem"
check "h2: certificate files after up" wait_until 20 test -s "$C2/host.crt" -a -s "$C2/crl.pem"
check "h1: host.key mode 0600, an ECDSA P-256 key" bash -c \
	"[ \$(stat -c %a '$C1/host.key') = 600 ] && \
	 openssl pkey -in '$C1/host.key' -noout -text | grep -q 'NIST CURVE: P-256'"
check "h1: the certificate is for host.key" bash -c \
	"[ \"\$(openssl x509 -in '$C1/host.crt' -noout -pubkey)\" = \
	   \"\$(openssl pkey -in '$C1/host.key' -pubout)\" ]"
check "h1: ca.crt is what xdnatctl ca prints" cmp "$C1/ca.crt" "$TMP/ca.pem"
check "h1's certificate verifies: openssl verify -CAfile (xdnatctl ca)" \
	openssl verify -CAfile "$TMP/ca.pem" "$C1/host.crt"
check "... and with -crl_check against xdnatctl crl" verify_crl "$C1/host.crt"
check "h1: crl.pem verifies against the CA" bash -c \
	"openssl crl -in '$C1/crl.pem' -noout -CAfile '$TMP/ca.pem' 2>&1 | grep -q 'verify OK'"

openssl x509 -in "$C1/host.crt" -noout -text > "$TMP/h1.txt"
P1=$(status_get 1 "'%d-%d' % (d['ports'][0]['first'], d['ports'][0]['last'])")
P2=$(status_get 2 "'%d-%d' % (d['ports'][0]['first'], d['ports'][0]['last'])")
CID1=$(status_get 1 "d['client_id']")
check "h1: openssl x509 -text shows SAN IP G" grep -q "IP Address:$G" "$TMP/h1.txt"
check "h1: ... and URI xdnat://G/ports/$P1" grep -q "URI:xdnat://$G/ports/$P1" "$TMP/h1.txt"
check "h1: subject CN = client@G" bash -c "grep 'Subject:' '$TMP/h1.txt' | grep -q 'CN *= *$CID1@$G'"
check "h1: key usage digitalSignature, critical; EKU ipsec IKE" bash -c \
	"grep -A1 'Key Usage: critical' '$TMP/h1.txt' | grep -qx ' *Digital Signature' && \
	 grep -A1 'Extended Key Usage' '$TMP/h1.txt' | grep -q 'ipsec Internet Key Exchange'"
check "h1: SAN URI is exactly its allocation (xdnatctl hosts)" bash -c \
	"[ \"\$(san_uri '$C1/host.crt')\" = \"xdnat://$G/ports/\$(ctl hosts --json | json_get \
	  \"','.join('%d-%d' % (p['first'], p['last']) for h in d['hosts'] \
	   if h['address'] == '10.0.0.11' for p in h['ports'])\")\" ]"
check "h1: portBlocks extension is exactly its allocation" bash -c \
	"[ \"\$(ports_of '$C1/host.crt')\" = '$G $P1' ]"
check "h2: portBlocks extension is exactly its allocation" bash -c \
	"[ \"\$(ports_of '$C2/host.crt')\" = '$G $P2' ] && [ '$P1' != '$P2' ]"
B2=$(ports_of "$C2/host.crt" | cut -d' ' -f2)
check "h2's certificate names none of h1's ports" $PY -c "
a, b = [int(x) for x in '$P1'.split('-')], [int(x) for x in '$B2'.split('-')]
assert b[0] > a[1] or b[1] < a[0], (a, b)"
check "h2: its SAN URI names its own ports only" bash -c \
	"[ \"\$(san_uri '$C2/host.crt')\" = 'xdnat://$G/ports/$P2' ]"
check "status --json: paths, serial and notAfter of the certificate" bash -c \
	"host 1 status --json --socket '$TMP/h1.sock' > '$TMP/s1.json' && \
	 [ \"\$(json_get \"d['certificate']\" < '$TMP/s1.json')\" = '$C1/host.crt' ] && \
	 [ \"\$(json_get \"d['key']\" < '$TMP/s1.json')\" = '$C1/host.key' ] && \
	 [ \"\$(json_get \"int(d['cert_serial'], 16)\" < '$TMP/s1.json')\" = \
	   \$(serial_of '$C1/host.crt') ] && \
	 [ \"\$(json_get \"d['cert_not_after']\" < '$TMP/s1.json')\" = \
	   \$(date -d \"\$(openssl x509 -in '$C1/host.crt' -noout -enddate | cut -d= -f2)\" +%s) ]"
check "status (text) shows the certificate" bash -c \
	"host 1 status --socket '$TMP/h1.sock' | grep -q 'certificate.*$C1/host.crt, serial'"

# --- renewal: by hand, into another directory, by the agent itself ------------------
cp "$C1/host.crt" "$TMP/h1-first.crt"
out=$(host 1 cert --socket "$TMP/h1.sock" 2>&1); rc=$?
check "xdnat-host cert: a new certificate" bash -c "[ $rc -eq 0 ] && \
	grep -q 'certificate  $C1/host.crt (serial' <<<'$out' && \
	[ \$(serial_of '$C1/host.crt') != \$(serial_of '$TMP/h1-first.crt') ]"
check "... with the same key (made once and kept)" bash -c \
	"[ \"\$(openssl x509 -in '$C1/host.crt' -noout -pubkey)\" = \
	   \"\$(openssl x509 -in '$TMP/h1-first.crt' -noout -pubkey)\" ]"
check "... the old one is revoked: verify -crl_check fails" bash -c \
	"! verify_crl '$TMP/h1-first.crt' > '$TMP/v.out' 2>&1 && \
	 grep -q 'certificate revoked' '$TMP/v.out'"
check "... the new one verifies with -crl_check" verify_crl "$C1/host.crt"
out=$(host 1 cert --out "$TMP/h1rsa" --key-type rsa --rsa-bits 2048 --socket "$TMP/h1.sock" 2>&1); rc=$?
check "xdnat-host cert --out DIR --key-type rsa: files in DIR" bash -c "[ $rc -eq 0 ] && \
	[ \$(stat -c %a '$TMP/h1rsa/host.key') = 600 ] && [ -s '$TMP/h1rsa/ca.crt' ] && \
	[ -s '$TMP/h1rsa/crl.pem' ] && openssl verify -CAfile '$TMP/ca.pem' '$TMP/h1rsa/host.crt'"
check "... an RSA 2048 key" bash -c \
	"openssl pkey -in '$TMP/h1rsa/host.key' -noout -text | grep -q 'Private-Key: (2048 bit'"
check "... and the agent renews there from now on" bash -c \
	"[ \"\$(status_get 1 \"d['certificate']\")\" = '$TMP/h1rsa/host.crt' ]"
out=$(host 1 cert --key-type dsa --socket "$TMP/h1.sock" 2>&1); rc=$?
check "xdnat-host cert --key-type dsa: usage error" test "$rc" -eq 2
out=$(host 1 cert --rsa-bits 1024 --socket "$TMP/h1.sock" 2>&1); rc=$?
check "xdnat-host cert --rsa-bits 1024: usage error" test "$rc" -eq 2
check "every command has --help, cert too" bash -c "'$HOST' cert --help | grep -q -- --key-type"

S2=$(serial_of "$C2/host.crt")
NA2=$(status_get 2 "d['cert_not_after']")
check "the agent renews before notAfter (a third left)" wait_until $((LEASE + 5)) bash -c \
	"[ \$(serial_of '$C2/host.crt') != $S2 ]"
check "... the renewed one lasts longer and verifies" bash -c \
	"[ \$(status_get 2 \"d['cert_not_after']\") -gt $NA2 ] && verify_crl '$C2/host.crt'"
check "... and was renewed before the old one expired" bash -c "[ \$(date +%s) -lt $NA2 ]"

# --- xdnatctl free: revoked; the agent registers again and gets a new one ------------
cp "$TMP/h1rsa/host.crt" "$TMP/h1-before-free.crt"
check "xdnatctl free CLIENT" ctl free "$CID1"
check "... revokes its certificate (verify -crl_check fails)" bash -c \
	"! verify_crl '$TMP/h1-before-free.crt' > '$TMP/v.out' 2>&1 && \
	 grep -q 'certificate revoked' '$TMP/v.out'"
check "... the agent re-registers and gets a new certificate" wait_until 20 bash -c \
	"[ \$(serial_of '$TMP/h1rsa/host.crt') != \$(serial_of '$TMP/h1-before-free.crt') ] && \
	 verify_crl '$TMP/h1rsa/host.crt'"

# --- down: revoked ---------------------------------------------------------------------
cp "$C2/host.crt" "$TMP/h2-last.crt"
check "xdnat-host down in h2" host 2 down --socket "$TMP/h2.sock"
check "after down, h2's certificate fails openssl verify -crl_check (xdnatctl crl)" bash -c \
	"! verify_crl '$TMP/h2-last.crt' > '$TMP/v.out' 2>&1 && \
	 grep -q 'certificate revoked' '$TMP/v.out'"
check "... its serial is on the CRL" on_crl "$TMP/crl.pem" "$TMP/h2-last.crt"
check "xdnatctl crl --json counts the serials on the CRL" bash -c \
	"[ \$(ctl crl --json | json_get \"d['revoked']\") = \
	   \$(ctl crl | openssl crl -noout -text | grep -c 'Serial Number:') ]"
check "the CRL file in --state-dir is what xdnatctl crl prints" bash -c \
	"ctl crl | cmp - '$TMP/gwstate/crl.pem'"
host 1 down --socket "$TMP/h1.sock" >/dev/null 2>&1
stop_pid "$GWPID" TERM

# --- a site CA: loose key, mismatched key, then an intermediate that works ---------------
S=$TMP/site
mkdir -p "$S"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
	-subj "/O=Example/CN=Example Root CA" -keyout "$S/root.key" -out "$S/root.pem" \
	-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
	>/dev/null 2>&1
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-subj "/O=Example/CN=Example xdnat CA" -keyout "$S/inter.key" -out "$S/inter.csr" \
	>/dev/null 2>&1
printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n' \
	> "$S/ext.cnf"
openssl x509 -req -in "$S/inter.csr" -CA "$S/root.pem" -CAkey "$S/root.key" -CAcreateserial \
	-days 30 -extfile "$S/ext.cnf" -out "$S/inter.pem" >/dev/null 2>&1
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$S/other.key" 2>/dev/null
chmod 600 "$S/inter.key" "$S/other.key"
site_gw() {	# site_gw KEYFILE: xdnatd with the intermediate, in the foreground
	timeout 20 ip netns exec "$GW" "$XDNATD" --global $G --internal 10.0.0.1 --pap-port 4666 \
		--state-dir "$TMP/sitestate" --socket "$TMP/site.sock" --bpffs "$TMP/bpf2" \
		--ports 30000-30999 --ca-cert "$S/inter.pem" --ca-key "$1" --foreground
}
chmod 644 "$S/inter.key"
out=$(site_gw "$S/inter.key" 2>&1); rc=$?
check "CA key mode 0644: xdnatd exits 1 naming the file" bash -c \
	"[ $rc -eq 1 ] && grep -q '$S/inter.key.*readable by group/others' <<<'$out'"
chmod 600 "$S/inter.key"
out=$(site_gw "$S/other.key" 2>&1); rc=$?
check "CA key of another certificate: xdnatd exits 1 naming both files" bash -c \
	"[ $rc -eq 1 ] && \
	 grep -q '$S/other.key: private key does not match the CA certificate $S/inter.pem' <<<'$out'"
out=$(timeout 20 ip netns exec "$GW" "$XDNATD" --global $G --ca-cert "$S/inter.pem" \
	--state-dir "$TMP/x" --socket "$TMP/x.sock" --foreground 2>&1); rc=$?
check "--ca-cert without --ca-key: usage error (exit 2)" bash -c \
	"[ $rc -eq 2 ] && grep -q -- '--ca-cert and --ca-key go together' <<<'$out'"
check "no CA files were made in a state directory refused" test ! -e "$TMP/sitestate/ca.key"

start_bg "$GW" "$TMP/site.log" "$XDNATD" --global $G --internal 10.0.0.1 --pap-port 4666 \
	--state-dir "$TMP/sitestate" --socket "$TMP/site.sock" --bpffs "$TMP/bpf2" \
	--ports 30000-30999 --lease 6 --ca-cert "$S/inter.pem" --ca-key "$S/inter.key" --foreground
SITEPID=$LAST_PID
wait_for_socket "$TMP/site.sock"
"$CTL" --socket "$TMP/site.sock" ca > "$TMP/site-chain.pem"
check "site CA: xdnatctl ca serves the chain given (the intermediate)" \
	cmp "$TMP/site-chain.pem" "$S/inter.pem"
check "site CA: no ca.key or ca.crt of our own" test ! -e "$TMP/sitestate/ca.key" -a \
	! -e "$TMP/sitestate/ca.crt" -a -s "$TMP/sitestate/crl.pem"
up_bg 2 4666 --state-dir "$TMP/h2s" --socket "$TMP/h2s.sock" --table 4666
C2S=$TMP/h2s/cert
check "site CA: h2 gets a certificate" wait_until 20 test -s "$C2S/host.crt"
check "site CA: it verifies up to the site's root (-untrusted xdnatctl ca)" \
	openssl verify -CAfile "$S/root.pem" -untrusted "$TMP/site-chain.pem" "$C2S/host.crt"
check "site CA: ca.crt in h2 is the chain" cmp "$C2S/ca.crt" "$S/inter.pem"

# --- lease expiry (kill -9: nobody renews) revokes --------------------------------------
stop_pid "$LAST_PID" KILL
sleep 0.5
cp "$C2S/host.crt" "$TMP/h2s-last.crt"
check "lease expiry: h2 is gone from the site gateway" wait_until 15 bash -c \
	"\"$CTL\" --socket '$TMP/site.sock' hosts --json | json_get \"len(d['hosts'])\" | grep -qx 0"
"$CTL" --socket "$TMP/site.sock" crl > "$TMP/site-crl.pem"
check "lease expiry: its serial is on the CRL" on_crl "$TMP/site-crl.pem" "$TMP/h2s-last.crt"
check "lease expiry: openssl verify -crl_check fails" bash -c \
	"! openssl verify -crl_check -CRLfile '$TMP/site-crl.pem' -CAfile '$S/root.pem' \
	   -untrusted '$TMP/site-chain.pem' '$TMP/h2s-last.crt'"
stop_pid "$SITEPID" TERM

check "the agents logged no errors" bash -c "! grep -h 'error' '$TMP/h1.log' '$TMP/h2.log'"
check "the gateway logged no errors" bash -c "! grep -h 'error' '$TMP/xdnatd.log' '$TMP/site.log'"
summary
