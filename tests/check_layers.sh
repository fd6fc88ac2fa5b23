#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# The layer rule of ctl/ (docs/design.md): lib <- pap <- {gateway, host}.
# A file in ctl/LAYER may include only headers of the layers it stands on,
# always by folder ("pap/pap.h"); gateway and host never include each
# other. Also: nothing in bpf/ or common/ includes ctl/. Prints every
# offending line and a final "N passed, N failed" line; exit 1 on any.
set -u
cd "$(dirname "$0")/.."

declare -A allowed=(
	[lib]="lib"
	[pap]="lib pap"
	[gateway]="lib pap gateway"
	[host]="lib pap host"
)
pass=0 fail=0

check_file() {	# FILE LAYER
	local f=$1 layer=$2 line inc dir ok
	while IFS= read -r line; do
		inc=${line#*\"}
		inc=${inc%%\"*}
		case $inc in
		*.skel.h|xdnat.h) continue ;;	# generated skeletons, common/
		esac
		dir=${inc%%/*}
		if [ "$dir" = "$inc" ]; then
			echo "FAIL $f: #include \"$inc\" does not name its folder (\"LAYER/$inc\")"
			fail=$((fail + 1))
			continue
		fi
		ok=0
		for a in ${allowed[$layer]}; do
			[ "$a" = "$dir" ] && ok=1
		done
		if [ $ok = 0 ]; then
			echo "FAIL $f: ctl/$layer may not include \"$inc\" (it stands on: ${allowed[$layer]})"
			fail=$((fail + 1))
		else
			pass=$((pass + 1))
		fi
	done < <(grep -h '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f")
}

for layer in "${!allowed[@]}"; do
	for f in ctl/"$layer"/*.[ch]; do
		[ -e "$f" ] && check_file "$f" "$layer"
	done
done
# Folders under ctl/ that the rule does not know are a mistake too.
for d in ctl/*/; do
	d=${d%/}; d=${d#ctl/}
	if [ -z "${allowed[$d]+x}" ]; then
		echo "FAIL ctl/$d: a folder the layer rule does not know (add it to tests/check_layers.sh and docs/design.md)"
		fail=$((fail + 1))
	fi
done
for f in ctl/*.[ch]; do
	[ -e "$f" ] || continue
	echo "FAIL $f: every file in ctl/ belongs to a layer folder"
	fail=$((fail + 1))
done
while IFS= read -r f; do
	echo "FAIL $f: bpf/ and common/ never include ctl/"
	fail=$((fail + 1))
done < <(grep -lE '#[[:space:]]*include[[:space:]]*"(lib|pap|gateway|host)/' bpf/* common/* 2>/dev/null)

echo "layers: $pass passed, $fail failed"
[ "$fail" = 0 ]
