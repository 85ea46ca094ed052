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
	[ "$(wc -l <"$S1/EVENTS.jsonl")" -eq 100001 ]
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
