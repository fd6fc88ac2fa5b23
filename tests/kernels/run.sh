#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# make test-kernels: boots Debian 12's stock kernels under QEMU (TCG) with this
# machine's root as the guest's root (9p, read-only) and runs guest-init.sh
# there: the BPF packet suites, every BPF object loaded, gw_ext/gw_int
# attached natively to a veth. Prints a table per kernel and the closing
# "N passed, N failed" line; exits non-zero on any failure.
#
# Kernels are Debian packages (KERNEL_PKGS, metapackages resolved to their
# image package), fetched with apt-get download into build/kernels/, and
# Ubuntu ones (ubuntu:KVER), fetched from the Ubuntu archive with curl and
# checked against the SHA256 sums pinned in tests/kernels/ubuntu.sha256;
# all extracted there with dpkg-deb -x: nothing is installed.
#
#   KERNEL_PKGS     what to boot (default: ubuntu:5.15.0-25-generic, Ubuntu
#                   22.04's kernel, then linux-image-amd64 linux-image-6.12-amd64)
#   UBUNTU_MIRROR   where the Ubuntu packages come from (default
#                   http://archive.ubuntu.com/ubuntu)
#   KERNEL_TIMEOUT  hard limit per kernel in seconds (default 900)
#   KERNEL_JOBS     guests at once (default: the number of CPUs)
#   QEMU_MEM QEMU_SMP  guest memory (MiB, default 2048) and CPUs (default 2)
#   KERNEL_SUITES   only these suites (names, comma separated; default all)
#   KERNEL_REPEAT   run each suite this many times (default 1): flakes
#   KERNEL_INTEGRATION  namespace suites to run too (tests/integration/ names,
#                   comma separated, e.g. test_host_agent.sh; minutes each)

set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$ROOT/tests/kernels
CACHE=$ROOT/build/kernels
KERNEL_PKGS=${KERNEL_PKGS:-ubuntu:5.15.0-25-generic linux-image-amd64 linux-image-6.12-amd64}
UBUNTU_MIRROR=${UBUNTU_MIRROR:-http://archive.ubuntu.com/ubuntu}
KERNEL_TIMEOUT=${KERNEL_TIMEOUT:-900}
KERNEL_JOBS=${KERNEL_JOBS:-$(nproc)}
QEMU_MEM=${QEMU_MEM:-2048}
QEMU_SMP=${QEMU_SMP:-2}
KERNEL_SUITES=${KERNEL_SUITES:-}
KERNEL_REPEAT=${KERNEL_REPEAT:-1}
KERNEL_INTEGRATION=${KERNEL_INTEGRATION:-}
# What the initramfs needs to mount the 9p root (built in on some kernels).
BOOT_MODULES="virtio_pci 9pnet_virtio 9p"

declare -A GUEST=()	# running guests: timeout's PID -> index in KVERS
STAGE=

cleanup() {
	local pid
	set +e
	# timeout passes the TERM on to its QEMU
	for pid in "${!GUEST[@]}"; do
		kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	[ -n "$STAGE" ] && rm -rf "$STAGE"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() { echo "test-kernels: $*" >&2; exit 2; }

# The image package behind a metapackage (itself when it is one).
image_pkg() {
	local dep
	dep=$(apt-cache depends "$1" 2>/dev/null |
	      awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
	echo "${dep:-$1}"
}

# extract TREE DEB...: the packages unpacked into TREE (again when one of
# them is newer than the last extraction), modules.dep built there.
extract() {
	local tree=$1 deb stale=
	shift
	TREE=$tree
	[ -e "$tree/.extracted" ] || stale=1
	for deb; do [ "$deb" -nt "$tree/.extracted" ] && stale=1; done
	[ -n "$stale" ] || return 0
	rm -rf "$tree"
	mkdir -p "$tree"
	for deb; do
		dpkg-deb -x "$deb" "$tree" || die "dpkg-deb -x $deb failed"
	done
	depmod -b "$tree" "$(ls "$tree/lib/modules")" || die "depmod on $tree failed"
	touch "$tree/.extracted"
}

# fetch PKG: a Debian package, downloaded (cached) with apt-get and extracted.
fetch() {
	local pkg=$1 deb
	deb=$(ls "$CACHE/${pkg}"_*.deb 2>/dev/null | tail -n 1)
	if [ -z "$deb" ]; then
		# apt-get download warns when _apt cannot write here: harmless
		(cd "$CACHE" && apt-get download -q "$pkg" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2) ||
			die "apt-get download $pkg failed"
		deb=$(ls "$CACHE/${pkg}"_*.deb 2>/dev/null | tail -n 1)
		[ -n "$deb" ] || die "apt-get download $pkg left no .deb in $CACHE"
	fi
	extract "$CACHE/$pkg" "$deb"
}

# fetch_ubuntu KVER: the packages of KVER listed in ubuntu.sha256, downloaded
# from UBUNTU_MIRROR (cached), each checked against its pinned SHA256 (there
# is no Ubuntu keyring on Debian), extracted into one tree.
fetch_ubuntu() {
	local kver=$1 sum path deb debs=()
	while read -r sum path; do
		case "$sum" in '#'* | '') continue ;; esac
		case "${path##*/}" in *"-${kver}_"*) ;; *) continue ;; esac
		deb=$CACHE/${path##*/}
		if [ ! -e "$deb" ]; then
			curl -fsS --retry 3 -o "$deb.part" "$UBUNTU_MIRROR/$path" ||
				die "cannot download $UBUNTU_MIRROR/$path"
			mv "$deb.part" "$deb"
		fi
		if ! echo "$sum  $deb" | sha256sum -c --status; then
			rm -f "$deb"
			die "${deb##*/}: SHA256 differs from tests/kernels/ubuntu.sha256 (removed)"
		fi
		debs+=("$deb")
	done < "$HERE/ubuntu.sha256"
	[ ${#debs[@]} -gt 0 ] || die "ubuntu:$kver: no packages in tests/kernels/ubuntu.sha256"
	extract "$CACHE/ubuntu-$kver" "${debs[@]}"
}

# initramfs TREE KVER: busybox, /init and the boot modules (decompressed, in
# dependency order) into INITRD, cached next to the tree.
initramfs() {
	local tree=$1 kver=$2 m f n=0 mod
	INITRD=$tree.initrd.gz
	if [ -e "$INITRD" ] && [ "$INITRD" -nt "$HERE/initramfs-init.sh" ] &&
	   [ "$INITRD" -nt "$tree/.extracted" ]; then
		return
	fi
	STAGE=$(mktemp -d "$CACHE/initrd.XXXX")
	mkdir -p "$STAGE/bin" "$STAGE/lib"
	cp /bin/busybox "$STAGE/bin/busybox"
	cp "$HERE/initramfs-init.sh" "$STAGE/init"
	chmod 0755 "$STAGE/init"
	: > "$STAGE/modules"
	for m in $BOOT_MODULES; do
		modprobe -d "$tree" -S "$kver" --show-depends "$m" ||
			die "$kver: no module $m"
	done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }' > "$STAGE/order"
	while read -r f; do
		n=$((n + 1))
		mod=$(printf '%02d-%s' "$n" "${f##*/}")
		case "$f" in
		*.xz) xz -dc "$f" > "$STAGE/lib/${mod%.xz}"; mod=${mod%.xz} ;;
		*.zst) zstd -qdc "$f" > "$STAGE/lib/${mod%.zst}"; mod=${mod%.zst} ;;
		*) cp "$f" "$STAGE/lib/$mod" ;;
		esac
		echo "$mod" >> "$STAGE/modules"
	done < "$STAGE/order"
	rm "$STAGE/order"
	(cd "$STAGE" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) > "$INITRD.tmp" &&
		mv "$INITRD.tmp" "$INITRD" || die "cannot write $INITRD"
	rm -rf "$STAGE"
	STAGE=
}

# start I: boots guest I (TREES, KVERS, INITRDS) in the background, its
# results into build/kernels/results/KVER; GUEST and START record it.
start() {
	local i=$1 tree=${TREES[$1]} kver=${KVERS[$1]} out=$CACHE/results/${KVERS[$1]}
	rm -rf "$out"
	mkdir -p "$out"
	echo "== ${METAS[$i]}: booting $kver under QEMU (TCG)"
	START[$i]=$(date +%s)
	timeout -k 10 "$KERNEL_TIMEOUT" qemu-system-x86_64 -accel tcg -cpu max \
		-m "$QEMU_MEM" -smp "$QEMU_SMP" -nodefaults -no-reboot -display none \
		-serial "file:$out/console.log" \
		-kernel "$tree/boot/vmlinuz-$kver" -initrd "${INITRDS[$i]}" \
		-append "console=ttyS0 panic=-1 loglevel=4 tk.init=$HERE/guest-init.sh tk.root=$ROOT tk.tree=$tree${KERNEL_SUITES:+ tk.suites=$KERNEL_SUITES} tk.repeat=$KERNEL_REPEAT${KERNEL_INTEGRATION:+ tk.integ=$KERNEL_INTEGRATION}" \
		-fsdev "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap" \
		-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot \
		-fsdev "local,id=result,path=$out,security_model=none" \
		-device virtio-9p-pci,fsdev=result,mount_tag=result \
		> "$out/qemu.log" 2>&1 &
	GUEST[$!]=$i
}

# reap: waits for the next guest to power off and records how it went.
reap() {
	local pid rc i out secs why
	wait -n -p pid "${!GUEST[@]}"
	rc=$?
	[ -n "$pid" ] || return 0
	i=${GUEST[$pid]}
	unset "GUEST[$pid]"
	out=$CACHE/results/${KVERS[$i]}
	secs=$(($(date +%s) - START[i]))
	echo "$secs" > "$out/seconds"
	if [ ! -e "$out/done" ]; then
		why="the guest did not finish (exit $rc$([ $rc = 124 ] && echo ", timeout ${KERNEL_TIMEOUT}s"))"
		printf 'boot\tFAIL\t%s\tsee %s\n' "$why" "$out/console.log" >> "$out/results.tsv"
	fi
	echo "   ${KVERS[$i]}: ${secs}s; logs in $out"
}

[[ $KERNEL_REPEAT =~ ^[1-9][0-9]*$ ]] || die "KERNEL_REPEAT=$KERNEL_REPEAT: not a count"
[[ $KERNEL_JOBS =~ ^[1-9][0-9]*$ ]] || die "KERNEL_JOBS=$KERNEL_JOBS: not a count"
command -v qemu-system-x86_64 > /dev/null || die "qemu-system-x86_64 missing (make test-kernels installs it)"
[ -x /bin/busybox ] || die "/bin/busybox missing (package busybox-static)"
ls "$ROOT"/build/bpf/*.bpf.o > /dev/null 2>&1 || die "nothing built: run make first"
case "$ROOT/" in
/tmp/* | /run/* | /var/tmp/*) die "$ROOT: the guests mount tmpfs over /tmp, /run and /var/tmp; use a tree elsewhere" ;;
esac
mkdir -p "$CACHE"

# Every kernel fetched and its initramfs built first, then the guests,
# KERNEL_JOBS at once (the suites are single-threaded: a guest mostly keeps
# one host CPU busy).
METAS=() TREES=() KVERS=() INITRDS=() START=()
for meta in $KERNEL_PKGS; do
	case "$meta" in
	ubuntu:*) fetch_ubuntu "${meta#ubuntu:}" ;;
	*) fetch "$(image_pkg "$meta")" ;;
	esac
	kver=$(ls "$TREE/lib/modules")
	initramfs "$TREE" "$kver"
	METAS+=("$meta") TREES+=("$TREE") KVERS+=("$kver") INITRDS+=("$INITRD")
done
t0=$(date +%s)
for i in "${!KVERS[@]}"; do
	while [ ${#GUEST[@]} -ge "$KERNEL_JOBS" ]; do reap; done
	start "$i"
done
while [ ${#GUEST[@]} -gt 0 ]; do reap; done
echo "   all guests: $(($(date +%s) - t0))s"

PASS=0
FAIL=0
# The table: one row per check, one column per kernel; the failures' details below.
echo
checks=$(for k in "${KVERS[@]}"; do cut -f1 "$CACHE/results/$k/results.tsv"; done | awk '!seen[$0]++')
printf '%-28s' check
for k in "${KVERS[@]}"; do printf ' | %-44s' "$k ($(cat "$CACHE/results/$k/seconds")s)"; done
echo
while IFS= read -r c; do
	printf '%-28s' "$c"
	for k in "${KVERS[@]}"; do
		line=$(awk -F'\t' -v c="$c" '$1 == c { print $2 " " $3; exit }' "$CACHE/results/$k/results.tsv")
		printf ' | %-44s' "${line:-(not run)}"
		case "$line" in
		PASS*) PASS=$((PASS + 1)) ;;
		*) FAIL=$((FAIL + 1)) ;;
		esac
	done
	echo
done <<< "$checks"
echo
for k in "${KVERS[@]}"; do
	awk -F'\t' -v k="$k" '$2 == "FAIL" && $4 != "" { print k ": " $1 ": " $4 }' \
		"$CACHE/results/$k/results.tsv"
done
echo
echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
