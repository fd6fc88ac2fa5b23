#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# /init of the test-kernels initramfs (busybox only): loads the modules the
# 9p root needs (listed in /modules, in dependency order, by run.sh), mounts
# the host's root read-only and the result share writable, and hands over to
# guest-init.sh, named on the kernel command line (tk.init=).
bb=/bin/busybox
die() {
	echo "initramfs: $*"
	echo o > /proc/sysrq-trigger
	$bb sleep 10
}

$bb mkdir -p /proc /sys /dev /newroot
$bb mount -t proc proc /proc
$bb mount -t sysfs sysfs /sys
$bb mount -t devtmpfs dev /dev

for m in $($bb cat /modules); do
	$bb insmod "/lib/$m" || die "insmod $m failed"
done

init=
for a in $($bb cat /proc/cmdline); do
	case "$a" in
	tk.init=*) init=${a#tk.init=} ;;
	esac
done
[ -n "$init" ] || die "no tk.init= on the command line"

$bb mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=524288,cache=loose \
	hostroot /newroot || die "cannot mount the host's root"
# Writable places over the read-only root; the result share inside /tmp.
$bb mount -t tmpfs tmp /newroot/tmp || die "tmpfs /tmp"
$bb mount -t tmpfs run /newroot/run || die "tmpfs /run"
$bb mkdir -p /newroot/tmp/tk-result
$bb mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288 result /newroot/tmp/tk-result ||
	die "cannot mount the result share"
$bb mount --move /dev /newroot/dev
$bb mount --move /sys /newroot/sys
$bb mount --move /proc /newroot/proc
exec $bb switch_root /newroot "$init"
