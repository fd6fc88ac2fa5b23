#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The guest's modprobe (kernel.modprobe, for the kernel's own module requests
# too): the modules are in the extracted package named by tk.tree=, since
# /lib/modules on the read-only root is the host's.
for a in $(cat /proc/cmdline); do
	case "$a" in
	tk.tree=*) exec /sbin/modprobe -d "${a#tk.tree=}" "$@" ;;
	esac
done
exec /sbin/modprobe "$@"
