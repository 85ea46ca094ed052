#!/usr/bin/env bats
# restore.bats - hive-init --restore DIR (SPEC 11, issue 12): the copies of a session folder that
# CI jobs left as artifacts (one folder each, as actions/download-artifact lays them out) and the
# local folder are merged: the longest main log (every segment) and the longest copy of each
# lane win, every other copy must be a byte prefix of it (else exit 3 and nothing changes), the
# result is installed whole, then hive-init rejoins it. Nothing follows a symbolic link.

load test_helper
load session_helpers

setup() {
	hive_setup
	require_tool hive-emit
	require_tool hive-check
	require_tool hive-runbook
	REPO="$BATS_TEST_TMPDIR/repo"
	make_repo "$REPO"
	REPO="$(cd "$REPO" && pwd -P)"
	cd "$REPO" || return 1
	ART="$REPO/artifacts"
	DIR="$(session_dir s1)"
}

# emit N [WHAT]: N pipeline_updated events into s1 (resource WHAT-i).
emit() {
	local i
	for ((i = 1; i <= $1; i++)); do
		hive-emit -q --session s1 pipeline_updated --resource "${2:-ci}-$i" --action update \
			--platform Docker --status success note="a note long enough to fill a segment quickly, line $i" \
			>/dev/null || fail "hive-emit into s1 failed"
	done
}

# lane_emit LANE N: N events into LANE of s1.
lane_emit() {
	local i
	for ((i = 1; i <= $2; i++)); do
		hive-emit -q --session s1 --lane "$1" deployment_configured --resource web \
			--action update --platform K8s --status success "environment=$1" "step=$i" \
			>/dev/null || fail "hive-emit --lane $1 failed"
	done
}

# copy_to NAME: the session folder as an artifact download lays it out, $ART/NAME/ (no .lock:
# upload-artifact leaves hidden files out).
copy_to() {
	mkdir -p "$ART/$1"
	cp -R "$DIR/." "$ART/$1/"
	rm -f "$ART/$1/.lock"
}

# files_of DIR: every file of a session folder but .lock, with its sha256.
files_of() {
	(cd "$1" && find . -type f ! -name .lock -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
}

@test "restore: the longest copy wins over segments (a shorter copy with a full EVENTS.jsonl is not taken), and the session is rejoined" {
	export HIVE_SEGMENT_BYTES=4096
	new_session s1 0
	emit 12
	# a: the first segment is full, the log went on in EVENTS-000002.jsonl
	[[ -f "$DIR/EVENTS-000002.jsonl" ]] || fail "no second segment at 4096 bytes"
	copy_to a
	emit 12 more
	[[ -f "$DIR/EVENTS-000004.jsonl" ]] || fail "no fourth segment"
	copy_to c
	emit 3 last
	copy_to b
	want="$(files_of "$DIR")"
	# EVENTS.jsonl is the same in every copy: only the later segments tell them apart
	cmp "$ART/a/EVENTS.jsonl" "$ART/b/EVENTS.jsonl"
	rm -rf "$DIR"
	run --separate-stderr hive-init --session s1 --restore "$ART"
	assert_success
	assert_stderr --partial "hive-init: session s1 restored from 3 copies in $ART (0 lanes; the main log from $ART/b)"
	assert_jq '.created == false and .status == "active" and .events == 28' "$output"
	assert_equal "$(files_of "$DIR")" "$want"
	[[ -f "$DIR/.lock" ]]
	run ls -A "$(dirname "$DIR")"
	assert_output s1
	run hive-check --session s1
	assert_success
	# the copies are left as they were, and a second run finds nothing new
	run --separate-stderr hive-init --session s1 --restore "$ART"
	assert_success
	assert_stderr --partial 'hive-init: session s1: the local folder already holds all of'
	assert_equal "$(files_of "$DIR")" "$want"
}

@test "restore: the local folder is a copy too: a longer download replaces it whole, a shorter one leaves it alone" {
	new_session s1 2
	copy_to old
	emit 3
	copy_to new
	# the local folder is the short one: replaced by the long copy, the old files removed
	rm -rf "$DIR" && mkdir -p "$DIR" && cp -R "$ART/old/." "$DIR/" && : >"$DIR/.lock"
	printf 'stale\n' >"$DIR/RUNBOOK.md"
	run --separate-stderr hive-init --session s1 --restore "$ART"
	assert_success
	assert_stderr --partial "the main log from $ART/new"
	assert_equal "$(files_of "$DIR")" "$(files_of "$ART/new")"
	run ls -A "$(dirname "$DIR")"
	assert_output s1
	# the local folder is the long one: nothing is written
	emit 1 local
	snapshot "$DIR"
	run --separate-stderr hive-init --session s1 --restore "$ART"
	assert_success
	assert_stderr --partial 'the local folder already holds all of'
	assert_unchanged "$DIR"
}

@test "restore: copies that diverge are refused (exit 3, naming both), and nothing changes" {
	new_session s1 2
	mkdir -p "$BATS_TEST_TMPDIR/base" && cp -R "$DIR/." "$BATS_TEST_TMPDIR/base/"
	emit 1 one
	copy_to job-a
	rm -rf "$DIR" && cp -R "$BATS_TEST_TMPDIR/base" "$DIR"
	emit 2 two
	copy_to job-b
	rm -rf "$DIR"
	run_refused 3 "^hive-init: error: the session copies in $ART/job-b and $ART/job-a differ: two jobs wrote to the session at the same time$" \
		hive-init --session s1 --restore "$ART"
	[[ ! -e "$DIR" ]]
	run ls -A "$(dirname "$DIR")"
	assert_output ''
	# with a local folder that holds the longer one: it is left as it was
	cp -R "$ART/job-b" "$DIR" && : >"$DIR/.lock"
	run_refused 3 'two jobs wrote to the session at the same time$' \
		hive-init --session s1 --restore "$ART"
}

@test "restore: lanes from several copies are merged (each from its longest copy); --finish joins them and the session checks clean" {
	new_session s1 2
	mkdir -p "$BATS_TEST_TMPDIR/base" && cp -R "$DIR/." "$BATS_TEST_TMPDIR/base/"
	lane_emit deploy-eu 1
	copy_to eu-early
	lane_emit deploy-eu 2
	copy_to eu
	rm -rf "$DIR" && cp -R "$BATS_TEST_TMPDIR/base" "$DIR"
	lane_emit deploy-us 2
	copy_to us
	eu="$(sha256sum <"$ART/eu/lanes/deploy-eu.jsonl")"
	us="$(sha256sum <"$ART/us/lanes/deploy-us.jsonl")"
	rm -rf "$DIR"
	run --separate-stderr hive-init --session s1 --restore "$ART"
	assert_success
	assert_stderr --partial '(2 lanes;'
	run ls "$DIR/lanes"
	assert_output "$(printf '%s\n' deploy-eu.jsonl deploy-us.jsonl)"
	assert_equal "$(sha256sum <"$DIR/lanes/deploy-eu.jsonl")" "$eu"
	assert_equal "$(sha256sum <"$DIR/lanes/deploy-us.jsonl")" "$us"
	run hive-runbook --session s1 --finish
	assert_success
	run jq -c 'select(.event_type == "session_joined") | .details.lanes | keys' "$DIR/EVENTS.jsonl"
	assert_output '["deploy-eu","deploy-us"]'
	run hive-check --session s1
	assert_success
}

@test "restore: two copies of one lane that diverge are refused (exit 3, naming the lane and both copies)" {
	new_session s1 2
	mkdir -p "$BATS_TEST_TMPDIR/base" && cp -R "$DIR/." "$BATS_TEST_TMPDIR/base/"
	lane_emit deploy 1
	copy_to leg-1
	rm -rf "$DIR" && cp -R "$BATS_TEST_TMPDIR/base" "$DIR"
	sleep 1 # another timestamp: the lines differ
	lane_emit deploy 1
	copy_to leg-2
	rm -rf "$DIR"
	run_refused 3 "^hive-init: error: the copies of lane deploy in $ART/leg-1 and $ART/leg-2 differ: two jobs wrote to that lane at the same time$" \
		hive-init --session s1 --restore "$ART"
}

@test "restore: symbolic links are refused, never followed: the folder, a copy, a log, a lane, a file of the winning copy" {
	new_session s1 2
	lane_emit eu 1
	copy_to a
	emit 1
	copy_to b
	rm -rf "$DIR"
	mv "$ART" "$BATS_TEST_TMPDIR/real"
	ln -s "$BATS_TEST_TMPDIR/real" "$ART"
	run_refused 3 "^hive-init: error: --restore: $ART: is a symbolic link \\(refused\\)$" \
		hive-init --session s1 --restore "$ART"
	rm "$ART" && mkdir "$ART"
	ln -s "$BATS_TEST_TMPDIR/real/a" "$ART/a"
	cp -R "$BATS_TEST_TMPDIR/real/b" "$ART/b"
	run_refused 3 "^hive-init: error: $ART/a: is a symbolic link \\(refused\\)$" \
		hive-init --session s1 --restore "$ART"
	rm "$ART/a" && cp -R "$BATS_TEST_TMPDIR/real/a" "$ART/a"
	mv "$ART/a/EVENTS.jsonl" "$BATS_TEST_TMPDIR/events" && ln -s "$BATS_TEST_TMPDIR/events" "$ART/a/EVENTS.jsonl"
	run_refused 3 "^hive-init: error: $ART/a/EVENTS.jsonl: is a symbolic link \\(refused\\)$" \
		hive-init --session s1 --restore "$ART"
	rm "$ART/a/EVENTS.jsonl" && mv "$BATS_TEST_TMPDIR/events" "$ART/a/EVENTS.jsonl"
	mv "$ART/a/lanes/eu.jsonl" "$BATS_TEST_TMPDIR/eu" && ln -s "$BATS_TEST_TMPDIR/eu" "$ART/a/lanes/eu.jsonl"
	run_refused 3 "^hive-init: error: $ART/a/lanes/eu.jsonl: is a symbolic link \\(refused\\)$" \
		hive-init --session s1 --restore "$ART"
	rm "$ART/a/lanes/eu.jsonl" && mv "$BATS_TEST_TMPDIR/eu" "$ART/a/lanes/eu.jsonl"
	mv "$ART/b/STATE.json" "$BATS_TEST_TMPDIR/state" && ln -s "$BATS_TEST_TMPDIR/state" "$ART/b/STATE.json"
	run_refused 3 "^hive-init: error: $ART/b/STATE.json: is a symbolic link \\(refused\\)$" \
		hive-init --session s1 --restore "$ART"
	[[ ! -e "$DIR" ]]
	# put right, the same copies restore
	rm "$ART/b/STATE.json" && mv "$BATS_TEST_TMPDIR/state" "$ART/b/STATE.json"
	run hive-init --session s1 --restore "$ART"
	assert_success
	run hive-check --session s1
	assert_success
}

@test "restore: no folder, an empty folder or folders without a session mean a new session; a copy of another session is skipped" {
	run --separate-stderr hive-init --session s1 --restore "$ART"
	assert_success
	assert_jq '.created == true and .events == 1' "$output"
	rm -rf "$DIR"
	mkdir -p "$ART/notes" && printf 'x\n' >"$ART/notes/readme.txt" && printf 'y\n' >"$ART/file"
	run --separate-stderr hive-init --session s1 --restore "$ART"
	assert_success
	assert_jq '.created == true' "$output"
	assert_stderr --partial "$ART: 1 folder skipped"
	# a copy of s2 beside them is not s1's
	new_session s2 1
	cp -R "$(session_dir s2)" "$ART/s2-copy"
	rm -rf "$DIR"
	run --separate-stderr hive-init --session s1 --restore "$ART"
	assert_success
	assert_jq '.created == true' "$output"
	assert_stderr --partial "$ART: 2 folders skipped"
	# a DIR that is itself a copy
	run --separate-stderr hive-init --session s2 --restore "$ART/s2-copy"
	assert_success
	assert_jq '.created == false and .events == 2' "$output"
}

@test "restore: a DIR that is not a folder, or a bad session id, is refused (exit 2) and nothing changes" {
	printf 'x\n' >"$BATS_TEST_TMPDIR/file"
	run_refused 2 "^hive-init: error: --restore: $BATS_TEST_TMPDIR/file: not a folder$" \
		hive-init --session s1 --restore "$BATS_TEST_TMPDIR/file"
	run_refused 2 '^hive-init: error: .*session' hive-init --session ../x --restore "$ART"
}

@test "restore: a longest copy whose chain was forged is refused (exit 3, the chain finding shown) and the local folder is left as it was" {
	new_session s1 2
	mkdir -p "$BATS_TEST_TMPDIR/base" && cp -R "$DIR/." "$BATS_TEST_TMPDIR/base/"
	emit 3 more
	copy_to forged
	# a line past the local folder's log rewritten: the local log is still a prefix of the
	# copy, strict JSON throughout; only the chain says the copy is not what was written
	sed -i 's/"more-2"/"more-X"/' "$ART/forged/EVENTS.jsonl"
	grep -q '"more-X"' "$ART/forged/EVENTS.jsonl"
	rm -rf "$DIR" && cp -R "$BATS_TEST_TMPDIR/base" "$DIR"
	snapshot "$REPO"
	run --separate-stderr hive-init --session s1 --restore "$ART"
	assert_failure 3
	assert_stderr --partial '[chain]'
	assert_stderr --partial "hive-init: error: $ART/forged: the log breaks hive-check's chain rule (the findings above): nothing restored"
	assert_unchanged "$REPO"
	run ls -A "$(dirname "$DIR")"
	assert_output s1
}
