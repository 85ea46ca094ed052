#!/bin/sh
# tests/run.sh - run every test suite and add them up
#
#   BUILD=build sh tests/run.sh
#
# Runs each cmocka unit test binary $BUILD/tests/test_* (with CMOCKA_MESSAGE_OUTPUT=TAP) and
# each tests/bats/*.bats (with bats --tap), shows their whole output, counts the TAP `ok` and
# `not ok` lines, and ends with exactly one line:
#
#   tests: N passed, N failed
#
# Exits non-zero when anything failed, when no test ran at all, or when a suite went wrong
# without saying `not ok` (a crash, an abort, fewer results than its plan announced, a
# non-zero exit with every test passing, a unit test source whose binary is missing): each
# such suite counts as one more failure.

BUILD=${BUILD:-build}
export BUILD
cd "$(dirname "$0")/.." || exit 2

passed=0
failed=0
tap=$(mktemp) || exit 2
trap 'rm -f "$tap"' EXIT
trap 'exit 130' INT TERM

# suite NAME CMD...: run one suite, show its output, add up its results.
suite() {
	name=$1
	shift
	echo "# --- $name"
	"$@" </dev/null >"$tap" 2>&1
	rc=$?
	cat "$tap"
	ok=$(grep -c '^ok ' "$tap")
	notok=$(grep -c '^not ok ' "$tap")
	# "1..N" plans (a cmocka binary prints one per group): the results it promised
	planned=$(sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' "$tap" | awk '{ n += $1 } END { print n + 0 }')
	passed=$((passed + ok))
	failed=$((failed + notok))
	why=
	if [ "$rc" -gt 128 ]; then
		why="killed by signal $((rc - 128))"
	elif [ "$rc" -ne 0 ] && [ "$notok" -eq 0 ]; then
		why="exit status $rc without a failing test"
	elif [ $((ok + notok)) -lt "$planned" ]; then
		why="$((ok + notok)) results of the $planned planned"
	elif [ "$planned" -eq 0 ] && [ $((ok + notok)) -eq 0 ] && ! grep -q '^1\.\.0' "$tap"; then
		why="no TAP output"
	fi
	if [ -n "$why" ]; then
		echo "not ok - $name: $why"
		failed=$((failed + 1))
	fi
}

# Unit tests: every tests/unit/test_*.c must have been built into $BUILD/tests/.
for src in tests/unit/test_*.c; do
	[ -e "$src" ] || continue
	bin="$BUILD/tests/$(basename "$src" .c)"
	if [ ! -x "$bin" ]; then
		echo "not ok - $bin: not built (run make check)"
		failed=$((failed + 1))
	fi
done
for bin in "$BUILD"/tests/test_*; do
	if [ ! -f "$bin" ] || [ ! -x "$bin" ]; then
		continue
	fi
	suite "$bin" env CMOCKA_MESSAGE_OUTPUT=TAP "$bin"
done

# Behaviour tests.
if ! command -v bats >/dev/null 2>&1; then
	echo "not ok - bats is not installed (run make deps)"
	failed=$((failed + 1))
else
	for file in tests/bats/*.bats; do
		[ -e "$file" ] || continue
		suite "$file" bats --tap "$file"
	done
fi

if [ $((passed + failed)) -eq 0 ]; then
	echo "not ok - no test ran"
	failed=1
fi
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
