#!/bin/sh
# bench_linux.sh BUILD_DIR [BUSYBOX]
# Times softmmu-run as a Linux user-mode emulator against the same programs
# run natively and under qemu-x86_64 (when installed), in the same run:
# system-call overhead (a getpid loop), a busybox `gzip -c` of a 16 MiB file
# and a busybox `sh -c` 1000-step loop. Median of 3 wall-clock runs each.
build=$1 busybox=${2:-/bin/busybox}
runner=$build/tools/softmmu-run loop=$build/examples/getpid_loop
qemu=$(command -v qemu-x86_64 || true)
work=$(mktemp -d) && trap 'rm -rf "$work"' EXIT

secs() { # median wall time of 3 runs of "$@", output discarded
    for i in 1 2 3; do
        s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N)
        echo "$e - $s" | bc -l
    done | sort -n | sed -n 2p
}

row() { # name, per-op divisor, command... (run natively, under softmmu-run, under qemu)
    name=$1 div=$2; shift 2
    n=$(secs "$@"); s=$(secs "$runner" "$@")
    q=n/a; [ -n "$qemu" ] && q=$(secs "$qemu" "$@")
    printf '%-28s native %9.3f  softmmu-run %9.3f  qemu %9s  ratio softmmu/native %7.1fx' \
        "$name" "$(echo "$n / $div" | bc -l)" "$(echo "$s / $div" | bc -l)" \
        "$( [ "$q" = n/a ] && echo n/a || printf '%.3f' "$(echo "$q / $div" | bc -l)")" "$(echo "$s / $n" | bc -l)"
    [ "$q" != n/a ] && printf '  softmmu/qemu %5.2fx' "$(echo "$s / $q" | bc -l)"
    echo
}

echo "units: microseconds per call for getpid, seconds otherwise"
row "getpid (us/call)" 1 "$loop" 1000000
if [ -x "$busybox" ]; then
    head -c 16777216 /dev/urandom | od -A n -t x1 | head -c 16777216 > "$work/in"
    row "busybox gzip -c 16 MiB (s)" 1 "$busybox" gzip -c "$work/in"
    row "busybox sh 1000-step loop (s)" 1 "$busybox" sh -c 'i=0; while [ $i -lt 1000 ]; do i=$((i + 1)); done'
fi
