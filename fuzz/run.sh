#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan, library instrumented
# for coverage) and runs each one for a bounded time over its seed corpus.
#
#   fuzz/run.sh [SECONDS_PER_TARGET [TARGET...]]     default: 30 s, every target
#
# Environment: SOFTMMU_FUZZ_BUILD (build dir, default build/fuzz), CC (a
# clang; default clang-14 or clang). New inputs go to the build dir, never
# into fuzz/corpus; crashes go to $build/fuzz/artifacts and fail the script.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
[ $# -gt 0 ] && shift
build=${SOFTMMU_FUZZ_BUILD:-build/fuzz}
cc=${CC:-$(command -v clang-14 || command -v clang)}

cmake -S . -B "$build" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSOFTMMU_FUZZ=ON \
      -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
      >/dev/null
if [ $# -gt 0 ]; then targets=("$@"); else mapfile -t targets <"$build/fuzz/targets.txt"; fi
cmake --build "$build" --target "${targets[@]}" -j2 >/dev/null

export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS=detect_leaks=1
mkdir -p "$build/fuzz/artifacts"
failed=()
for t in "${targets[@]}"; do
    work="$build/fuzz/corpus/$t"
    mkdir -p "$work"
    seeds="fuzz/corpus/$t"
    [ -d "$seeds" ] || seeds=""
    log="$build/fuzz/$t.log"
    case $t in fuzz_snapshot) max_len=16384 ;; fuzz_cpu) max_len=8192 ;; *) max_len=4096 ;; esac
    if "$build/fuzz/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=$max_len \
        -print_final_stats=1 -artifact_prefix="$build/fuzz/artifacts/$t-" "$work" $seeds >"$log" 2>&1; then
        status=ok
    else
        status=FAILED
        failed+=("$t")
        tail -n 40 "$log"
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    echo "fuzz: $t ${execs:-?} executions in ${secs}s: $status (log $log)"
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: failing targets: ${failed[*]}" >&2
    exit 1
fi
