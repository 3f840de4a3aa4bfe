#!/bin/bash
# fake_runner.sh - a runner that gets one thing wrong, for the tests that
# check compare.sh catches it: FAKE_MODE=stdout adds a line to stdout,
# status adds 1 to the exit status, stopped prints softmmu-run's message
# for a missing instruction (and is otherwise right).
"$@"
status=$?
case "$FAKE_MODE" in
stdout) echo "one line more" ;;
status) status=$((status + 1)) ;;
stopped) echo "softmmu-run: invalid or unsupported instruction at 0x0000000000401000: 0f a2  cpuid" >&2 ;;
esac
exit $status
