#!/bin/bash
# compare.sh - runs one corpus program natively and under a runner, and
# fails unless stdout (byte for byte) and the exit status are the same.
#
# usage: compare.sh [--stdin FILE] [--env K=V]... [--timeout SECS] -- RUNNER PROGRAM [ARGS...]
#
# Both runs start in a fresh empty directory of their own (the file tests
# work in their cwd), with stdin from FILE (default /dev/null), core dumps
# off, and exactly the --env variables as the program's environment:
# softmmu-run gets them through its own --env option (its guests start with
# an empty environment; the runner itself keeps ctest's, ASAN_OPTIONS and
# all), any other runner (qemu-x86_64, which hands its environment to the
# guest) through env -i. On a mismatch it prints both statuses, a unified
# diff of stdout and the tail of the runner's stderr.
set -u

stdin=/dev/null
timeout_s=120
envs=()
while [ $# -gt 0 ]; do
    case "$1" in
    --stdin) stdin=$2; shift 2 ;;
    --env) envs+=("$2"); shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "compare.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
if [ $# -lt 2 ]; then
    echo "usage: compare.sh [--stdin FILE] [--env K=V]... [--timeout SECS] -- RUNNER PROGRAM [ARGS...]" >&2
    exit 2
fi
runner=$1 prog=$2
shift 2

work=$(mktemp -d "${TMPDIR:-/tmp}/softmmu-corpus.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT
mkdir "$work/native" "$work/runner"
ulimit -c 0

# runs "$@" in directory $1; output to $1.out/.err
run_in() {
    local dir=$1
    shift
    (cd "$dir" && exec timeout -k 5 "$timeout_s" "$@") <"$stdin" >"$dir.out" 2>"$dir.err"
}

run_in "$work/native" env -i "${envs[@]}" "$prog" "$@"
native_status=$?

if [ "$(basename "$runner")" = softmmu-run ]; then
    runner_args=()
    for e in "${envs[@]}"; do
        runner_args+=(--env "$e")
    done
    run_in "$work/runner" "$runner" "${runner_args[@]}" "$prog" "$@"
else
    run_in "$work/runner" env -i "${envs[@]}" "$runner" "$prog" "$@"
fi
runner_status=$?

if [ "$native_status" -eq 124 ]; then
    echo "compare.sh: the native run timed out after ${timeout_s}s: the program itself is broken" >&2
    exit 1
fi
# a program whose own failure status equals the runner's (1) must not pass
# because the runner stopped on an instruction it lacks
stopped=$(grep -m1 -E '^softmmu-run: (invalid or unsupported|privileged) instruction' "$work/runner.err")
if [ "$native_status" -eq "$runner_status" ] && cmp -s "$work/native.out" "$work/runner.out" && [ -z "$stopped" ]; then
    echo "$(basename "$prog") $*: stdout ($(wc -c <"$work/native.out") bytes) and exit status $native_status match"
    exit 0
fi

echo "MISMATCH: $(basename "$prog") $*"
[ -n "$stopped" ] && echo "the runner stopped: $stopped"
echo "exit status: native $native_status, $(basename "$runner") $runner_status$([ "$runner_status" -eq 124 ] && echo " (timed out after ${timeout_s}s)")"
if ! cmp -s "$work/native.out" "$work/runner.out"; then
    echo "--- stdout diff (native vs $(basename "$runner")), first 60 lines:"
    diff -u --label native --label "$(basename "$runner")" -a "$work/native.out" "$work/runner.out" | head -n 60
fi
echo "--- $(basename "$runner") stderr, last 15 lines:"
tail -n 15 "$work/runner.err"
exit 1
