#!/usr/bin/env bats
# tests/bats/hostile-limits.bats - hostile sizes cost a bounded amount (issue 13, item 5):
# capped stdin streams, linear KEY=VALUE, stale temporary folders, a chain-broken session
#
# Correctness only: no test here times anything (tests/bench/emit.sh measures KEY=VALUE).
# An endless input is fed through `timeout 600` only so that a hive-emit that never stops
# fails the test instead of hanging the suite.
# Each refused input gets the three checks: exit status, message, files byte for byte as
# they were (run_refused).
# shellcheck disable=SC2016 # jq filters and bash -c scripts are single-quoted on purpose

load test_helper

setup() {
	hive_setup || return 1
	REPO="$BATS_TEST_TMPDIR/repo"
	make_repo "$REPO" || return 1
	cd "$REPO" || return 1
	hive-init -q --session s1 >/dev/null || return 1
	export HIVE_SESSION_ID=s1
	S1="$(session_dir s1)"
}

EVENT='{"event_type":"pipeline_updated","details":{"resource":"ci","action":"update","platform":"Docker","status":"success"}}'

# --- stdin streams --------------------------------------------------------------------

@test "an endless NDJSON stream of valid events is cut at 100,000 events: exit 2, nothing written" {
	run_refused 2 '^hive-emit: error: stdin:100001: more than 100000 events, the most one stream may hold: split it$' \
		bash -c 'yes "$1" | timeout 600 hive-emit -' _ "$EVENT"
	[ "$(wc -l <"$S1/EVENTS.jsonl")" -eq 1 ]
}

@test "100,000 events in one stream are the most, and they are all written" {
	run --separate-stderr bash -c 'yes "$1" | head -n 100000 | hive-emit -q - | wc -l' _ "$EVENT"
	assert_success
	assert_output 100000
	# one transaction, one write: past the segment size it is the next segment, whole
	[ "$(cat "$S1"/EVENTS*.jsonl | wc -l)" -eq 100001 ]
	run hive-check --session s1
	assert_success
}

@test "an endless stream of blank lines is cut at 16 MiB: exit 2, nothing written" {
	run_refused 2 '^hive-emit: error: stdin: more than 16777216 bytes \(16 MiB\), the most one input may hold$' \
		bash -c 'yes "" | timeout 600 hive-emit -'
}

@test "an endless line without a newline is cut at 16 MiB, not read to its end: exit 2, nothing written" {
	run_refused 2 '^hive-emit: error: stdin: more than 16777216 bytes \(16 MiB\), the most one input may hold$' \
		bash -c 'tr "\0" " " </dev/zero | timeout 600 hive-emit -'
}

@test "16 MiB of stream is the most: 16 MiB of blank lines and one event pass, one byte more does not" {
	size=$((16 * 1024 * 1024))
	# the event, then blank lines up to exactly 16 MiB
	{ printf '%s\n' "$EVENT"; head -c $((size - ${#EVENT} - 1)) /dev/zero | tr '\0' '\n'; } >"$BATS_TEST_TMPDIR/exact"
	[ "$(stat -c %s "$BATS_TEST_TMPDIR/exact")" -eq "$size" ]
	run --separate-stderr hive-emit - <"$BATS_TEST_TMPDIR/exact"
	assert_success
	assert_jq '.seq == 2 and .event_type == "pipeline_updated"' "$output"
	printf '\n' >>"$BATS_TEST_TMPDIR/exact"
	run_refused 2 '^hive-emit: error: stdin: more than 16777216 bytes' \
		bash -c 'hive-emit - <"$1"' _ "$BATS_TEST_TMPDIR/exact"
}

@test "--json - with an endless stdin is cut at 16 MiB: exit 2, nothing written" {
	run_refused 2 '^hive-emit: error: --json: standard input: more than 16777216 bytes \(16 MiB\), the most one input may hold$' \
		bash -c 'yes "{}" | timeout 600 hive-emit pipeline_updated --resource r --action update --platform Docker --status success --json -'
}

# --- KEY=VALUE ----------------------------------------------------------------------------

@test "100,000 KEY=VALUE arguments: every one applied in order, the last value of a key wins" {
	# 50,000 keys, each set twice: first to a, then (in the second half) to b
	mapfile -t args < <(for half in a b; do seq -f "k%g=$half" 0 49999; done)
	[ "${#args[@]}" -eq 100000 ]
	run --separate-stderr hive-emit -q pipeline_updated --resource r --action update \
		--platform Docker --status success "${args[@]}"
	assert_success
	assert_jq '.details.configuration | length == 50000 and all(.[]; . == "b")
		and (keys_unsorted | .[0] == "k0" and .[49999] == "k49999")' "$output"
	assert_jq '.seq == 2' "$output"
	[ "$(tail -n 1 "$S1/EVENTS.jsonl")" = "$output" ]
	run hive-check --session s1
	assert_success
}

@test "60,000 KEY=VALUE arguments nested under one key, := values replaced by strings" {
	# (argv holds at most 2 MiB: 60,000 is what fits with the dotted names)
	mapfile -t args < <(seq -f 't.%g:=1' 0 29999; seq -f 't.%g=x' 0 29999)
	run --separate-stderr hive-emit -q pipeline_updated --resource r --action update \
		--platform Docker --status success "${args[@]}"
	assert_success
	assert_jq '.details.configuration.t | length == 30000 and all(.[]; . == "x")' "$output"
}

@test "100,000 distinct KEY=VALUE arguments make a line over 1 MiB: exit 2, nothing written" {
	mapfile -t args < <(seq -f 'k%g=vv' 0 99999)
	run_refused 2 '^hive-emit: error: event 1 \(pipeline_updated\) would be [0-9]+ bytes, over the 1048576-byte line limit$' \
		hive-emit pipeline_updated --resource r --action update --platform Docker --status success "${args[@]}"
}

# --- temporary folders a killed hive-init leaves ------------------------------------------

# killed_init ID: hive-init --session ID killed (SIGKILL, by strace) at the rename that
# would publish its folder: it leaves <root>/sessions/.tmp-ID-<pid>-<hex>, as a kill -9
# or an OOM kill at that moment does. Prints the folder's name.
killed_init() {
	local sessions="$PWD/Docs/hive-mind/sessions" t
	command -v strace >/dev/null || fail "strace is not installed: it kills hive-init for these tests"
	run strace -f -qq -o /dev/null -e trace=renameat2 -e inject=renameat2:signal=KILL \
		hive-init -q --session "$1"
	[[ $status -eq 137 ]] || fail "hive-init --session $1 was not killed (exit $status): $output"
	t=$(cd "$sessions" && ls -d .tmp-"$1"-*)
	[[ -f "$sessions/$t/EVENTS.jsonl" && -f "$sessions/$t/.lock" ]] ||
		fail "no temporary folder was left: $(ls -A "$sessions")"
	printf '%s' "$t"
}

# age PATH: make PATH's last change a minute old (a sweep takes folders 10 s old or older).
age() {
	touch -h -d '1 minute ago' "$1"
}

@test "a killed hive-init's temporary folder is committed by git add -A today: the next hive-init removes it" {
	sessions="$PWD/Docs/hive-mind/sessions"
	t=$(killed_init s2)
	# what the issue saw: git add -A takes it
	git add -A
	run git diff --cached --name-only
	assert_line "Docs/hive-mind/sessions/$t/EVENTS.jsonl"
	git reset -q
	age "$sessions/$t"
	run --separate-stderr hive-init --session s3
	assert_success
	assert_jq '.created == true and .session_id == "s3"' "$output"
	[ ! -e "$sessions/$t" ] || fail "$t is still there"
	run ls -A "$sessions"
	assert_output $'s1\ns3'
	git add -A
	run git diff --cached --name-only -- Docs/hive-mind/sessions
	refute_output --partial .tmp-
	# and the killed run itself, run again, makes its session
	run --separate-stderr hive-init --session s2
	assert_success
	assert_jq '.created == true' "$output"
	run hive-check --all
	assert_success
}

@test "a temporary folder that is young, locked, holds other files, or is a symbolic link is left alone" {
	sessions="$PWD/Docs/hive-mind/sessions"
	young=$(killed_init y1)
	locked=$(killed_init l1)
	other=$(killed_init o1)
	echo mine >"$sessions/$other/notes.txt"
	age "$sessions/$locked"
	age "$sessions/$other"
	# a folder of someone else's, under a name of hive's shape, reached through a symlink
	mkdir -p "$BATS_TEST_TMPDIR/elsewhere"
	: >"$BATS_TEST_TMPDIR/elsewhere/EVENTS.jsonl"
	ln -s "$BATS_TEST_TMPDIR/elsewhere" "$sessions/.tmp-x1-1-0123abcd"
	age "$sessions/.tmp-x1-1-0123abcd"
	# not hive's name: .tmp-* without the pid and hex
	mkdir "$sessions/.tmp-notes"
	: >"$sessions/.tmp-notes/EVENTS.jsonl"
	age "$sessions/.tmp-notes"
	# a maker still at work holds the lock (flock(1) takes the same flock(2) lock)
	exec 8>>"$sessions/$locked/.lock"
	flock -x 8
	snapshot "$sessions"
	run --separate-stderr hive-init --session s4
	exec 8>&-
	assert_success
	rm -rf "$sessions/s4"
	assert_unchanged "$sessions"
	[ -f "$BATS_TEST_TMPDIR/elsewhere/EVENTS.jsonl" ]
	# once old and unlocked, and with only hive's files, they go
	rm "$sessions/$other/notes.txt"
	age "$sessions/$young"
	age "$sessions/$locked"
	age "$sessions/$other"
	run --separate-stderr hive-init --session s5
	assert_success
	run ls -A "$sessions"
	assert_output $'.tmp-notes\n.tmp-x1-1-0123abcd\ns1\ns5'
}

@test "a committed temporary folder is not a session: hive-check --all and --pre-push pass over it" {
	sessions="$PWD/Docs/hive-mind/sessions"
	t=$(killed_init s2)
	git add -A && git commit -q -m 'with a temporary folder'
	run --separate-stderr hive-check --all
	assert_success
	assert_stderr --partial '1 session checked'
	run --separate-stderr hive-check --pre-push \
		<<<"refs/heads/main $(git rev-parse HEAD) refs/heads/main 0000000000000000000000000000000000000000"
	assert_success
	[[ "$stderr" != *.tmp-* ]] || fail "$stderr"
	refute_output --partial .tmp-
	# removed by a later hive-init, it is not "a published session that is gone"
	age "$sessions/$t"
	hive-init -q --session s3 >/dev/null
	[ ! -e "$sessions/$t" ]
	run --separate-stderr env -u HIVE_SESSION_ID hive-check --since HEAD
	assert_success
	refute_output --partial .tmp-
	[[ "$stderr" != *.tmp-* ]] || fail "$stderr"
}

# --- rejoining a session whose chain is broken ---------------------------------------------

@test "hive-init refuses to rejoin a session whose chain is broken: exit 3, corrupt session, nothing changed" {
	hive-emit -q pipeline_updated --resource r --action update --platform Docker --status success step=1 >/dev/null
	hive-emit -q pipeline_updated --resource r --action update --platform Docker --status success step=2 >/dev/null
	run --separate-stderr hive-init --session s1
	assert_success
	assert_jq '.created == false and .events == 3' "$output"
	# line 2 edited: STATE.json still agrees with the last line, only the chain tells
	sed -i '2s/"step":"1"/"step":"9"/' "$S1/EVENTS.jsonl"
	run_refused 3 "hive-init: error: session s1 fails hive-check's chain rule: not rejoining it \(corrupt session: see above; hive-check --repair mends a cut-off last line\)\$" \
		hive-init --session s1
	assert_stderr --partial "EVENTS.jsonl:3: error: [chain] prev does not match the SHA-256 of line 2"
	# the same with -q, and for a line that is not JSON at all (json rule)
	run_refused 3 "fails hive-check's chain rule: not rejoining it" hive-init -q --session s1
	sed -i '2s/.*/not json/' "$S1/EVENTS.jsonl"
	run_refused 3 "hive-init: error: session s1 fails hive-check's (json|chain) rule: not rejoining it" \
		hive-init --session s1
}
