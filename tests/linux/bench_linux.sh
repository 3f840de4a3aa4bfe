#!/bin/sh
# bench_linux.sh BUILD_DIR [BUSYBOX]
# Times softmmu-run as a Linux user-mode emulator against the same programs
# run natively and under qemu-x86_64 (when installed), in the same run:
# system-call overhead (a getpid loop of 1M calls: seconds = us per call), a
# busybox `gzip -c` of a 16 MiB file and a busybox `sh -c` 1000-step loop.
# Median of REPS (default 3) wall-clock runs each; needs only sh and awk.
build=$1 busybox=${2:-/bin/busybox} reps=${REPS:-3}
runner=$build/tools/softmmu-run loop=$build/examples/getpid_loop
qemu=$(command -v qemu-x86_64 || true)
work=$(mktemp -d) && trap 'rm -rf "$work"' EXIT

now() { date +%s.%N; }

secs() { # median wall time of $reps runs of "$@", output discarded
    i=0
    while [ $i -lt "$reps" ]; do
        s=$(now); "$@" >/dev/null 2>&1; e=$(now)
        echo "$s $e"
        i=$((i + 1))
    done | awk '{ print $2 - $1 }' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

row() { # name, command... run natively, under softmmu-run and under qemu
    name=$1; shift
    n=$(secs "$@"); s=$(secs "$runner" "$@"); q=
    [ -n "$qemu" ] && q=$(secs "$qemu" "$@")
    awk -v name="$name" -v n="$n" -v s="$s" -v q="$q" 'BEGIN {
        printf "%-30s native %8.3f  softmmu-run %8.3f  qemu-x86_64 %8s  softmmu/native %6.1fx", name, n, s,
               q == "" ? "n/a" : sprintf("%.3f", q), s / n
        if (q != "") printf "  softmmu/qemu %5.2fx", s / q
        printf "\n" }'
}

echo "seconds (getpid row: 1M calls, so microseconds per call)"
row "getpid loop" "$loop" 1000000
if [ -x "$busybox" ]; then
    head -c 8388608 /dev/urandom | od -A n -t x1 | head -c 16777216 > "$work/in"
    row "busybox gzip -c 16 MiB" "$busybox" gzip -c "$work/in"
    row "busybox sh 1000-step loop" "$busybox" sh -c 'i=0; while [ $i -lt 1000 ]; do i=$((i + 1)); done'
fi
