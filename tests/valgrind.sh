#!/usr/bin/env bash
# Runs test binaries under valgrind memcheck, following Criterion's worker
# processes (--trace-children=yes), and fails on any memcheck error or any
# byte definitely or indirectly lost.
#
#   tests/valgrind.sh BUILD_DIR [TEST_NAME...]    default: every tests/test_* binary
#
# SOFTMMU_MODEL_OPS defaults to 20000 here (valgrind is ~30x slower).
set -uo pipefail
build=${1:?usage: tests/valgrind.sh BUILD_DIR [TEST_NAME...]}
shift
logs="$build/valgrind"
rm -rf "$logs" && mkdir -p "$logs"
export SOFTMMU_MODEL_OPS=${SOFTMMU_MODEL_OPS:-20000}
if [ $# -gt 0 ]; then tests=("$@"); else
    mapfile -t tests < <(cd "$build/tests" && ls test_* | grep -v '\.')
fi
# Suites that cannot run under valgrind: they measure host RSS (valgrind's
# own allocations count) or map tens of GiB (valgrind caps the address space).
skip() {
    case $1 in
    test_map) echo '--filter=!(@(scale|hostmem)/*)' ;;
    test_snapshot) echo '--filter=!(huge/*)' ;;
    esac
}
bad=0
for t in "${tests[@]}"; do
    valgrind --trace-children=yes --leak-check=full --show-leak-kinds=definite,indirect \
        --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
        --log-file="$logs/$t.%p.log" "$build/tests/$t" --jobs 1 $(skip "$t") >"$logs/$t.out" 2>&1
    rc=$?
    errors=$(cat "$logs/$t".*.log | sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' | awk '{s+=$1} END{print s+0}')
    lost=$(cat "$logs/$t".*.log | sed -n 's/.*\(definitely\|indirectly\) lost: \([0-9,]*\) bytes.*/\2/p' | tr -d , |
        awk '{s+=$1} END{print s+0}')
    echo "valgrind: $t: exit $rc, $errors errors, $lost bytes definitely/indirectly lost"
    [ "$rc" = 0 ] && [ "$errors" = 0 ] && [ "$lost" = 0 ] || bad=1
done
exit $bad
