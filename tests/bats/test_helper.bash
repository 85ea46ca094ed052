# tests/bats/test_helper.bash - shared set-up for every bats suite
#
# Load it at the top of a .bats file and call hive_setup from setup():
#
#   load test_helper
#   setup() { hive_setup; }
#
# hive_setup gives every test the same clean world: LC_ALL=C, TZ=UTC, a private HOME under
# $BATS_TEST_TMPDIR, a fixed git identity and fixed commit dates, no HIVE_*, GIT_*, GITHUB_*,
# GITLAB_*, CI_* or CI variables from the caller (CI runs the suites with CI=true, and a hook
# runs them with GIT_DIR set), and the build directory first on PATH. A missing build is a
# test FAILURE, never a skip: a suite that skips everything would pass in CI and prove nothing.
#
# Helpers:
#   make_repo DIR             a git repository on main with a Dockerfile, infra/main.tf,
#                             .github/workflows/ci.yml and .claude/agents/devops-worker.md,
#                             all in one commit
#   snapshot DIR              record every path under DIR (type, mode, symlink target) and the
#                             SHA-256 of every file, dot files and empty folders included
#   assert_unchanged DIR      fail, with a diff, unless DIR is exactly as at its snapshot
#   session_dir ID [ROOT]     ROOT/sessions/ID (ROOT defaults to $PWD/Docs/hive-mind)
#   only_session [ROOT]       the id of the one session under ROOT (fails unless exactly one)
#   event_line FILE N [JQ]    line N of an EVENTS.jsonl through jq -c (default filter: .)
#   assert_jq FILTER JSON [JQ ARGS…]
#                             fail unless `jq -e [JQ ARGS…] FILTER` holds for JSON (shown on
#                             failure); e.g. assert_jq '.dir == $d' "$output" --arg d "$dir"
#   assert_stderr ARGS…       assert_output's checks applied to $stderr (run --separate-stderr)
#   assert_stderr_empty       fail unless $stderr is empty
#   require_tool NAME         fail loudly unless $BUILD_DIR/NAME is built
#   run_refused STATUS ERE CMD…
#                             the three checks every bad input gets: CMD exits STATUS, prints
#                             nothing on stdout, says ERE on stderr, and every file under
#                             $BATS_TEST_TMPDIR (repositories, $GITHUB_ENV files…) is unchanged

bats_require_minimum_version 1.5.0

load '/usr/lib/bats/bats-support/load.bash'
load '/usr/lib/bats/bats-assert/load.bash'

# The top of the hive source tree (this file is tests/bats/test_helper.bash), whatever
# directory bats was started from.
SRC_TOP="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
FIXTURES="$SRC_TOP/tests/fixtures"

# The build directory: $BUILD (as `make check` passes it, e.g. build/san) or build, relative
# to the top of the source tree unless absolute.
case "${BUILD:-build}" in
/*) BUILD_DIR="${BUILD}" ;;
*) BUILD_DIR="$SRC_TOP/${BUILD:-build}" ;;
esac
# SRC_TOP, FIXTURES and BUILD_DIR are not HIVE_* on purpose: hive_setup clears those, and
# hive itself reads them.

# Fail (not skip) unless the named tool is built.
require_tool() {
	if [[ ! -x "$BUILD_DIR/$1" ]]; then
		fail "$BUILD_DIR/$1 is missing or not executable: run 'make' first (BUILD=${BUILD:-build})"
	fi
}

hive_setup() {
	local name

	# Nothing from the caller's environment leaks into a test: CI runs the suites with
	# CI=true, GitHub and GitLab set their own variables, and a git hook sets GIT_DIR.
	while IFS= read -r name; do
		case "$name" in
		HIVE_* | GIT_* | GITHUB_* | GITLAB_* | CI_* | CI | RUNNER_* | XDG_CONFIG_HOME)
			unset "$name" ;;
		esac
	done < <(compgen -e)

	export LC_ALL=C TZ=UTC
	export HOME="$BATS_TEST_TMPDIR/home"
	mkdir -p "$HOME"
	export GIT_CONFIG_NOSYSTEM=1
	export GIT_AUTHOR_NAME='Hive Test' GIT_AUTHOR_EMAIL='hive-test@example.com'
	export GIT_COMMITTER_NAME='Hive Test' GIT_COMMITTER_EMAIL='hive-test@example.com'
	export GIT_AUTHOR_DATE='2025-01-15T10:00:00Z' GIT_COMMITTER_DATE='2025-01-15T10:00:00Z'
	cat >"$HOME/.gitconfig" <<-'EOF'
		[init]
			defaultBranch = main
		[advice]
			detachedHead = false
		[protocol "file"]
			allow = always
	EOF

	require_tool hive-init || return 1
	PATH="$BUILD_DIR:$PATH"
	export PATH
}

# Default setup for suites that need nothing more.
setup() {
	hive_setup
}

# make_repo DIR: a small DevOps repository with one commit on main.
make_repo() {
	local dir=$1

	git -c init.defaultBranch=main init -q "$dir" || return 1
	mkdir -p "$dir/infra" "$dir/.github/workflows" "$dir/.claude/agents"
	printf 'FROM alpine:3.19\nRUN apk add --no-cache curl\n' >"$dir/Dockerfile"
	printf 'resource "null_resource" "hello" {}\n' >"$dir/infra/main.tf"
	printf 'name: ci\non: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make check\n' \
		>"$dir/.github/workflows/ci.yml"
	cp "$FIXTURES/devops-worker.md" "$dir/.claude/agents/devops-worker.md"
	git -C "$dir" add -A &&
		git -C "$dir" commit -q -m 'initial' || return 1
}

# The listing a snapshot compares: every path under DIR with its type, mode and symlink
# target, then the SHA-256 of every regular file. bats' own scratch files and the snapshots
# themselves are left out when DIR is $BATS_TEST_TMPDIR.
_hive_listing() {
	(
		cd "$1" || exit 1
		find . \( -path ./.hive-snapshots -o -path './separate-stderr-*' \) -prune -o \
			-printf '%y %m %p -> %l\n' | LC_ALL=C sort
		find . \( -path ./.hive-snapshots -o -path './separate-stderr-*' \) -prune -o \
			-type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
	)
}

_hive_snapshot_file() {
	local abs
	abs="$(cd "$1" && pwd)" || return 1
	printf '%s/.hive-snapshots/%s' "$BATS_TEST_TMPDIR" "$(printf '%s' "$abs" | sha256sum | cut -c1-16)"
}

# snapshot DIR: remember DIR exactly as it is now.
snapshot() {
	local file
	file="$(_hive_snapshot_file "$1")" || fail "snapshot: $1 is not a directory"
	mkdir -p "$BATS_TEST_TMPDIR/.hive-snapshots"
	_hive_listing "$1" >"$file"
}

# assert_unchanged DIR: DIR is byte-for-byte as it was at `snapshot DIR`.
assert_unchanged() {
	local file now
	file="$(_hive_snapshot_file "$1")" || fail "assert_unchanged: $1 is not a directory"
	[[ -f "$file" ]] || fail "assert_unchanged: no snapshot of $1 was taken"
	now="$(_hive_listing "$1")"
	if [[ "$now" != "$(cat "$file")" ]]; then
		fail "$(printf 'files changed under %s:\n%s' "$1" "$(diff "$file" - <<<"$now")")"
	fi
}

# session_dir ID [ROOT]
session_dir() {
	printf '%s/sessions/%s' "${2:-$PWD/Docs/hive-mind}" "$1"
}

# only_session [ROOT]: the id of the single session under ROOT.
only_session() {
	local root=${1:-$PWD/Docs/hive-mind} ids
	ids="$(ls -A "$root/sessions" 2>/dev/null)"
	if [[ -z "$ids" || "$ids" == *$'\n'* ]]; then
		fail "expected exactly one session under $root/sessions, found: ${ids:-none}"
	fi
	printf '%s' "$ids"
}

# event_line FILE N [FILTER]: line N of FILE, through jq -c FILTER.
event_line() {
	local line
	line="$(sed -n "${2}p" "$1")"
	[[ -n "$line" ]] || fail "$1 has no line $2"
	jq -c "${3:-.}" <<<"$line"
}

# assert_jq FILTER JSON [JQ ARGS…]: jq -e FILTER holds for JSON.
assert_jq() {
	local filter=$1 json=$2
	shift 2
	if ! jq -e "$@" "$filter" >/dev/null 2>&1 <<<"$json"; then
		fail "$(printf 'jq -e %s does not hold for:\n%s' "$filter" "$json")"
	fi
}

# assert_stderr ARGS…: bats-assert's assert_output, applied to $stderr.
assert_stderr() {
	# shellcheck disable=SC2034 # assert_output reads $output
	local output=${stderr-}
	assert_output "$@"
}

assert_stderr_empty() {
	if [[ -n "${stderr-}" ]]; then
		fail "$(printf 'expected no stderr, got:\n%s' "$stderr")"
	fi
}

# run_refused STATUS ERE CMD…: a bad input is refused with STATUS and a message matching ERE
# on stderr, nothing on stdout, and nothing changed on disk (under $BATS_TEST_TMPDIR).
run_refused() {
	local want=$1 pattern=$2
	shift 2
	snapshot "$BATS_TEST_TMPDIR"
	run --separate-stderr "$@"
	assert_failure "$want"
	assert_output ''
	assert_stderr --regexp "$pattern"
	assert_unchanged "$BATS_TEST_TMPDIR"
}
