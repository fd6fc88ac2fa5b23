# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# strongSwan in the namespace rig (tests/integration/rig.sh): packages,
# certificates, one charon per namespace, swanctl against it. Source it after
# lib.sh and rig.sh.
#
# One charon per namespace needs its own /run (charon refuses to start when
# /run/charon.pid names a live process, and PIDs are global), its own
# strongswan.conf (STRONGSWAN_CONF) and its own vici socket. swan_start runs
#   ip netns exec NS unshare -m sh -c 'mount --make-rprivate / &&
#       mount --bind DIR/run /run && exec env STRONGSWAN_CONF=DIR/strongswan.conf charon'
# Every step execs the next, so the PID start_bg records is charon's own, and
# lib.sh's cleanup stops it by that PID. The bind mount lives in the private
# mount namespace and goes with charon: nothing to unmount. kernel-libipsec's
# TUN device (ipsec0) lives in the network namespace and goes with charon too.
#
#   swan_missing                 what this machine lacks (Debian packages)
#   swan_ensure                  installs it (apt-get), or says plainly why not
#   swan_peer_certs DIR          the external site's own CA and ext's certificate
#   swan_host_conf N DIR [ARGS]  `xdnat-host strongswan --dir DIR` in hN
#   swan_ext_conf DIR            the external peer's configuration (by hand: not a
#                                host), trusting the xdnat CA from `xdnatctl ca`
#   swan_start NS DIR            charon in NS; PID in LAST_PID; waits for its vici socket
#   swan_ctl DIR NS ARGS...      swanctl in NS against DIR's charon
#   swan_log_conf DIR            charon logs to DIR/charon.log (a strongswan.d/ addition)

[ -n "${TMP:-}" ] || { echo "swan.sh: source lib.sh first" >&2; exit 1; }

CHARON=/usr/lib/ipsec/charon
SWAN_PLUGINS=/usr/lib/ipsec/plugins
# The Debian packages (bookworm, strongSwan 5.9.8): charon and its kernel-libipsec
# (libcharon-extra-plugins), swanctl, openssl/ECDSA (libstrongswan-standard-
# plugins), tshark for the SPIs on the wire, openssl for the certificates.
# libstrongswan-extra-plugins is not needed: none of its plugins is loaded
# (and it pulls in tpm-udev and udev).
SWAN_DEB_PKGS="strongswan-charon strongswan-swanctl libcharon-extra-plugins \
libstrongswan-standard-plugins tshark openssl"

swan_missing() {
	local p
	[ -x "$CHARON" ] || echo strongswan-charon
	command -v swanctl >/dev/null || echo strongswan-swanctl
	[ -f "$SWAN_PLUGINS/libstrongswan-kernel-libipsec.so" ] || echo libcharon-extra-plugins
	[ -f "$SWAN_PLUGINS/libstrongswan-openssl.so" ] || echo libstrongswan-standard-plugins
	[ -f "$SWAN_PLUGINS/libstrongswan-kdf.so" ] || echo libstrongswan
	for p in tshark openssl flock; do command -v $p >/dev/null || echo $p; done
}

swan_ensure() {
	local missing log=$TMP/apt.log
	missing=$(swan_missing)
	[ -z "$missing" ] && return 0
	echo "installing for the strongSwan tests:" $missing
	if ! { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			--no-install-recommends $SWAN_DEB_PKGS; } >"$log" 2>&1; then
		echo "strongSwan cannot be installed here: apt-get failed:"
		tail -5 "$log" | sed 's/^/    /'
	fi
	missing=$(swan_missing)
	if [ -n "$missing" ]; then
		echo "strongSwan is not installed and could not be: missing" $missing
		return 1
	fi
}

# swan_peer_certs DIR: the external site's own CA (not xdnat's: the peer is
# someone else) and ext's certificate from it, by openssl.
swan_peer_certs() {
	local d=$1
	mkdir -p "$d" && (
	cd "$d" || exit 1
	set -e
	openssl ecparam -name prime256v1 -genkey -noout -out peer-ca.key 2>/dev/null
	openssl req -new -x509 -key peer-ca.key -out peer-ca.pem -days 2 \
		-subj "/O=peer site/CN=peer site CA" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
	openssl ecparam -name prime256v1 -genkey -noout -out ext.key 2>/dev/null
	openssl req -new -key ext.key -subj "/O=peer site/CN=$PEER" -out ext.csr
	printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
		"subjectAltName=IP:$PEER" > ext.ext
	openssl x509 -req -in ext.csr -CA peer-ca.pem -CAkey peer-ca.key -CAcreateserial -days 1 \
		-extfile ext.ext -out ext.pem 2>/dev/null
	)
}

# swan_host_conf N DIR [ARGS...]: hN's directory, written by hN's agent from
# its share and certificate; the peer site's CA is trusted.
swan_host_conf() {
	local n=$1 dir=$2; shift 2
	rig_host "$n" strongswan --dir "$dir" --peer-ca "$SWAN_CERTS/peer-ca.pem" "$@"
}

# swan_ext_conf DIR: the external peer, an ordinary strongSwan with its own
# certificate that trusts the xdnat CA as `xdnatctl ca` prints it. Its
# connections go in conf.d by the test.
swan_ext_conf() {
	local d=$1 s
	mkdir -p "$d/run" "$d/strongswan.d"
	for s in conf.d x509 x509ca x509aa x509ocsp x509crl x509ac pubkey private rsa ecdsa \
			bliss pkcs8 pkcs12; do mkdir -p "$d/swanctl/$s"; done
	cp "$SWAN_CERTS/ext.pem" "$d/swanctl/x509/ext.pem"
	install -m 0600 "$SWAN_CERTS/ext.key" "$d/swanctl/private/ext.key"
	rig_ctl ca > "$d/swanctl/x509ca/xdnat-ca.pem" || return 1
	cp "$SWAN_CERTS/peer-ca.pem" "$d/swanctl/x509ca/peer-ca.pem"
	cat > "$d/strongswan.conf" <<EOF
# The external peer: a plain strongSwan 5.9 on a kernel without ESP.
charon {
	load_modular = no
	load = random nonce openssl pem pkcs1 pkcs8 x509 revocation constraints pubkey kdf aes sha1 sha2 hmac gcm kernel-libipsec kernel-netlink socket-default vici updown
	plugins {
		vici {
			socket = unix://$d/charon.vici
		}
		kernel-libipsec {
			allow_peer_ts = yes
		}
		kernel-netlink {
			fwmark = !0x4555
		}
		socket-default {
			fwmark = 0x4555
		}
	}
}
swanctl {
	socket = unix://$d/charon.vici
}
include $d/strongswan.d/*.conf
EOF
	printf 'include conf.d/*.conf\n' > "$d/swanctl/swanctl.conf"
}

swan_log_conf() {
	cat > "$1/strongswan.d/log.conf" <<EOF
charon {
	filelog {
		test {
			path = $1/charon.log
			time_format = %T
			default = 1
			ike = 2
			chd = 2
			net = 1
			flush_line = yes
		}
	}
	syslog {
		daemon {
			default = -1
		}
	}
}
EOF
}

swan_start() {	# swan_start NS DIR
	local ns=$1 d=$2
	mkdir -p "$d/run"
	rm -f "$d/charon.vici"
	start_bg "$ns" "$d/charon.out" unshare -m sh -c 'mount --make-rprivate / &&
		mount --bind "$1/run" /run && exec env STRONGSWAN_CONF="$1/strongswan.conf" "$2"' \
		sh "$d" "$CHARON"
	wait_for_socket "$d/charon.vici" 100 || {
		echo "charon in $ns did not start:"; tail -5 "$d/charon.out" "$d/charon.log" 2>/dev/null
		return 1
	}
}

swan_ctl() {	# swan_ctl DIR NS ARGS...
	local d=$1 ns=$2; shift 2
	ip netns exec "$ns" env STRONGSWAN_CONF="$d/strongswan.conf" SWANCTL_DIR="$d/swanctl" \
		swanctl "$@"
}

# swan_spis_in PCAP DST PORT: the SPIs of ESP-in-UDP packets to DST:PORT in
# the capture, one per line, in decimal, unique.
swan_spis_in() {
	tshark -r "$1" -d "udp.port==$3,udpencap" -Y "ip.dst==$2 && udp.dstport==$3 && esp" \
		-T fields -e esp.spi 2>/dev/null | sort -u | while read -r s; do
		[ -n "$s" ] && printf '%d\n' "$s"; done
}
