#!/bin/sh
# tests/sanitize.sh - run every test suite on the ASan + UBSan build and fail on any report
#
#   sh tests/sanitize.sh [BUILD]        (BUILD defaults to build/san, built by `make sanitize`)
#
# The bats suites run the tools with --separate-stderr and many tests expect a failing exit
# status (1 from hive-check, 2, 3), so a sanitizer report on stderr with the sanitizers'
# default exit status 1 could pass unseen. Here every report:
#   - makes the process exit 86, a status no hive tool uses, so the test that ran it fails;
#   - is also written to a log file (log_path), listed at the end whatever the test said,
#     because a test that ignores a status (a hook, a background writer) would miss it.
# Before the suites, a probe program checks that $BUILD/libhive.a really is instrumented.
# Ends with `sanitize: N reports` after run.sh's `tests: N passed, N failed` and exits
# non-zero when either found anything.

BUILD=${1:-${BUILD:-build/san}}
export BUILD
cd "$(dirname "$0")/.." || exit 2

logs=$(mktemp -d "${TMPDIR:-/tmp}/hive-san.XXXXXX") || exit 2
# The fault-injection tests run some tools as nobody: they must be able to log too.
chmod 1777 "$logs"
trap 'rm -rf "$logs"' EXIT
trap 'exit 130' INT TERM

common="exitcode=86:log_path=$logs/report:log_exe_name=1"
ASAN_OPTIONS="$common:detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
UBSAN_OPTIONS="$common:print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
LSAN_OPTIONS="exitcode=86${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS

# First prove the build is instrumented: a probe linked with $BUILD/libhive.a overflows a
# heap buffer inside lib/ (hive_quote told the buffer is bigger than it is). An
# uninstrumented libhive.a would let that pass silently, and so would every suite below.
# It links with the libraries the tools link with (HIVE_SAN_LDLIBS, the Makefile's LDLIBS_ALL, a
# list of words): err.o reaches the redactor, and that PCRE2 and cJSON.
probe=$logs/probe
printf '%s\n' '#include <stdlib.h>' '#include "err.h"' \
	'int main(void) { char *b = malloc(8); hive_quote(b, 64, "0123456789abcdef"); free(b); return 0; }' |
	# shellcheck disable=SC2086 # HIVE_SAN_LDLIBS is a list of linker words
	${CC:-cc} -fsanitize=address,undefined -g -Ilib -x c - -x none "$BUILD/libhive.a" \
		${HIVE_SAN_LDLIBS:--Lbuild/deps/lib -lgit2 -lz -lyaml -lcrypto -lcjson -lpcre2-8} \
		-o "$probe" || exit 2
ASAN_OPTIONS="exitcode=86:log_path=$logs/probe-report" "$probe"
prc=$?
if [ "$prc" -eq 86 ] && grep -q 'heap-buffer-overflow' "$logs"/probe-report* &&
	grep -q 'in hive_quote' "$logs"/probe-report*; then
	echo "sanitize: $BUILD/libhive.a is instrumented (an overflow inside hive_quote was caught)"
	rm -f "$logs"/probe-report*
	probe_failed=0
else
	echo "sanitize: error: $BUILD/libhive.a is not instrumented: an overflow inside lib/ went unseen (exit $prc)"
	cat "$logs"/probe-report* 2>/dev/null
	rm -f "$logs"/probe-report*
	probe_failed=1
fi

sh tests/run.sh
rc=$?

n=0
for f in "$logs"/report*; do
	[ -e "$f" ] || continue
	n=$((n + 1))
	echo "# --- sanitizer report $(basename "$f")"
	cat "$f"
done
echo "sanitize: $n reports"
[ "$rc" -eq 0 ] && [ "$n" -eq 0 ] && [ "$probe_failed" -eq 0 ]
