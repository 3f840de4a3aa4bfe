#!/bin/sh
# busybox_compare.sh RUNNER BUSYBOX FIXTURE NAME 'ARGS'
# Runs `BUSYBOX ARGS` natively and under softmmu-run, each in a fresh
# directory built by FIXTURE, with an empty environment and stdin from
# /dev/null, and compares stdout byte for byte and the exit status. On a
# difference it prints the diff and the runner's own messages, and fails.
runner=$1 busybox=$2 fixture=$3 name=$4 args=$5
top=$(mktemp -d "${TMPDIR:-/tmp}/softmmu-bb-$name.XXXXXX") || exit 2
trap 'rm -rf "$top"' EXIT
eval "set -- $args"


mkdir "$top/native" "$top/emu" || exit 2
(cd "$top/native" && sh "$fixture") || { echo "$name: fixture failed"; exit 2; }
(cd "$top/emu" && sh "$fixture") || { echo "$name: fixture failed"; exit 2; }
(cd "$top/native" && exec env -i "$busybox" "$@" </dev/null >"$top/native.out" 2>"$top/native.err")
native=$?
(cd "$top/emu" && exec env -i "$runner" "$busybox" "$@" </dev/null >"$top/emu.out" 2>"$top/emu.err")
emu=$?

fail=0
if ! cmp -s "$top/native.out" "$top/emu.out"; then
    echo "$name: stdout differs (- native, + softmmu-run):"
    diff -u "$top/native.out" "$top/emu.out" | sed -n '3,40p'
    fail=1
fi
if [ "$native" != "$emu" ]; then
    echo "$name: exit status $emu under softmmu-run, $native natively"
    fail=1
fi
if [ $fail = 1 ]; then
    echo "$name: softmmu-run's messages:"
    grep '^softmmu-run:' "$top/emu.err" | head -n 5
    exit 1
fi
echo "$name: same stdout ($(wc -c <"$top/native.out") bytes) and exit status ($native)"
