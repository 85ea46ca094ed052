#!/usr/bin/env bats
# hive-check.bats - hive-check from the outside: selection, every rule, every policy, every
# output format, FILE operands, --pre-push through a real `git push`, --repair, streaming.
#
# Sessions are made for real with hive-init and hive-emit in a repository from make_repo,
# then tampered with by hand (sed, awk, jq, printf). Where a test needs a log that is valid
# but says something the tools would never write (a session_completed, a timestamp from the
# past), it writes the lines itself and recomputes seq and prev with the helpers below, so
# the chain is sound and only the rule under test can fire.

load test_helper
load session_helpers

# --- helpers for this suite -----------------------------------------------------------

# set_timestamp FILE N TS: line N's timestamp becomes TS (the chain is then broken: rechain).
set_timestamp() {
	sed -i "${2}s/\"timestamp\":\"[^\"]*\"/\"timestamp\":\"$3\"/" "$1"
}

# assert_clean: the last run passed with nothing on stdout and one session's summary.
assert_clean() {
	assert_success
	assert_output ''
	assert_stderr --partial 'hive-check: 1 session checked: 0 errors, 0 warnings'
}

# refute_stderr_partial TEXT: $stderr does not contain TEXT.
refute_stderr_partial() {
	[[ "${stderr-}" != *"$1"* ]] || fail "$(printf 'stderr should not contain %s:\n%s' "$1" "$stderr")"
}

# emit_unchecked ARGS…: hive-emit under an empty configuration, so that no policy refuses
# the event at write time: a line an older hive, or a hand, wrote before the policy was
# configured. The gate must still find what the policy forbids.
emit_unchecked() {
	: >"$BATS_TEST_TMPDIR/no-policy.yml"
	HIVE_CONFIG="$BATS_TEST_TMPDIR/no-policy.yml" hive-emit "$@"
}

# zeros N: N zero digits.
zeros() {
	printf '%*s' "$1" '' | tr ' ' 0
}

setup() {
	hive_setup
	REPO="$BATS_TEST_TMPDIR/repo"
	make_repo "$REPO"
	cd "$REPO" || return 1
	require_tool hive-emit
	require_tool hive-check
}

# --- selection -------------------------------------------------------------------------

@test "a clean session passes: exit 0, no findings on stdout, a summary on stderr" {
	new_session s1
	run --separate-stderr hive-check --session s1
	assert_clean
	assert_stderr 'hive-check: 1 session checked: 0 errors, 0 warnings'
	run --separate-stderr hive-check -q --session s1
	assert_success
	assert_output ''
	assert_stderr_empty
}

@test "a completed session with METRICS.json passes" {
	new_session s1
	complete_session s1
	run --separate-stderr hive-check --session s1
	assert_clean
}

@test "a session finished by hive-runbook --finish passes; a line added after it by hand does not" {
	require_tool hive-runbook
	new_session s1
	hive-runbook --session s1 --finish >/dev/null 2>&1 || fail "hive-runbook --finish failed"
	run --separate-stderr hive-check --session s1
	assert_clean
	local d f
	d="$(session_dir s1)"
	f="$d/EVENTS.jsonl"
	append_event "$f" "$(make_event pipeline_updated s1 "$(tail -n 1 "$f" | jq -r .timestamp)" \
		'{"resource":"late","action":"update","platform":"Docker","configuration":{},"status":"success"}')"
	sync_state "$d"
	run --separate-stderr hive-check --session s1
	assert_failure 1
	# the CHECKPOINT --finish wrote covers the whole log: rule signature sees the line too
	assert_output "Docs/hive-mind/sessions/s1/EVENTS.jsonl:6: error: [protocol] an event after session_completed (line 5)
Docs/hive-mind/sessions/s1/CHECKPOINT:3: error: [signature] EVENTS.jsonl grew past the checkpoint (6 lines, CHECKPOINT says 5): a completed session's checkpoint covers all of it"
}

@test "--all checks every session under the root and names only the broken one" {
	new_session a
	new_session b
	new_session c
	run --separate-stderr hive-check --all
	assert_success
	assert_output ''
	assert_stderr 'hive-check: 3 sessions checked: 0 errors, 0 warnings'

	sed -i '2s/"step":"1"/"step":"X"/' "$(events_of b)"
	run --separate-stderr hive-check --all
	assert_failure 1
	assert_output "Docs/hive-mind/sessions/b/EVENTS.jsonl:3: error: [chain] prev does not match the SHA-256 of line 2 ($(line_hash "$(sed -n 2p "$(events_of b)")")): that line was edited, or lines were removed, inserted or reordered"
	assert_stderr 'hive-check: 3 sessions checked: 1 error, 0 warnings'
}

@test "with no selection: the resolved session (HIVE_SESSION_ID), else every session" {
	new_session good
	new_session bad
	sed -i '2s/"step":"1"/"step":"X"/' "$(events_of bad)"

	HIVE_SESSION_ID=good run --separate-stderr hive-check
	assert_clean

	HIVE_SESSION_ID=bad run --separate-stderr hive-check
	assert_failure 1
	assert_output --partial 'Docs/hive-mind/sessions/bad/EVENTS.jsonl:3: error: [chain]'
	assert_stderr --partial '1 session checked: 1 error'

	run --separate-stderr hive-check
	assert_failure 1
	assert_output --partial 'Docs/hive-mind/sessions/bad/EVENTS.jsonl:3: error: [chain]'
	refute_output --partial 'sessions/good/'
	assert_stderr --partial '2 sessions checked: 1 error'

	# --all wins over the environment's session
	HIVE_SESSION_ID=good run --separate-stderr hive-check --all
	assert_failure 1
	assert_stderr --partial '2 sessions checked: 1 error'
}

@test "with no selection in GitHub Actions: the session gh-<run id>-<attempt>" {
	new_session gh-77-2
	new_session other
	sed -i '2s/"step":"1"/"step":"X"/' "$(events_of other)"
	GITHUB_ACTIONS=true GITHUB_RUN_ID=77 GITHUB_RUN_ATTEMPT=2 run --separate-stderr hive-check
	assert_clean
}

@test "--session of a missing session is exit 2 and changes nothing" {
	new_session s1
	run_refused 2 'hive-check: error: .*nope' hive-check --session nope
	HIVE_SESSION_ID=nope run_refused 2 'nope' hive-check
}

@test "--all with --session, or an unknown --format, is a usage error (exit 2)" {
	new_session s1
	run_refused 2 'hive-check: error: ' hive-check --all --session s1
	run_refused 2 'hive-check: error: --format: "xml" is not one of' hive-check --format xml --session s1
}

@test "paths in findings are relative to the top of the work tree, from a subdirectory or with -C" {
	new_session s1
	sed -i '2s/"step":"1"/"step":"X"/' "$(events_of s1)"
	cd infra
	run --separate-stderr hive-check --session s1
	assert_failure 1
	assert_output --partial 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:3: error: [chain]'
	cd "$BATS_TEST_TMPDIR"
	run --separate-stderr hive-check -C "$REPO/infra" --session s1
	assert_failure 1
	assert_output --partial 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:3: error: [chain]'
}

@test "a session folder that is empty, has an empty log, or is a symbolic link is a finding" {
	new_session s1
	mkdir -p Docs/hive-mind/sessions/nolog
	run --separate-stderr hive-check --session nolog
	assert_failure 1
	assert_output 'Docs/hive-mind/sessions/nolog/EVENTS.jsonl: error: [protocol] the session has no EVENTS.jsonl'
	rmdir Docs/hive-mind/sessions/nolog

	new_session empty 0
	: >"$(events_of empty)"
	run --separate-stderr hive-check --session empty
	assert_failure 1
	assert_line --index 0 'Docs/hive-mind/sessions/empty/EVENTS.jsonl: error: [protocol] the log is empty: line 1 must be session_started'
	rm -r Docs/hive-mind/sessions/empty

	ln -s s1 Docs/hive-mind/sessions/s9
	run --separate-stderr hive-check --all
	assert_failure 1
	assert_output 'Docs/hive-mind/sessions/s9: error: [protocol] the session folder is a symbolic link (refused)'
	assert_stderr --partial '2 sessions checked: 1 error'
}

# --- rules: chain ----------------------------------------------------------------------

@test "chain: an edited byte in an earlier line is caught at the next line" {
	new_session s1
	local f
	f="$(events_of s1)"
	sed -i '2s/"resource":"ci-1"/"resource":"ci-9"/' "$f"
	run --separate-stderr hive-check --session s1
	assert_failure 1
	# exactly one finding: the line after the edited one no longer chains to it
	assert_output "Docs/hive-mind/sessions/s1/EVENTS.jsonl:3: error: [chain] prev does not match the SHA-256 of line 2 ($(line_hash "$(sed -n 2p "$f")")): that line was edited, or lines were removed, inserted or reordered"
	assert_stderr 'hive-check: 1 session checked: 1 error, 0 warnings'
}

@test "chain: a deleted line is caught where the gap is" {
	new_session s1 4
	sed -i 3d "$(events_of s1)"
	run --separate-stderr hive-check --session s1
	assert_failure 1
	assert_line --index 0 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:3: error: [chain] seq is 4, expected 3 (a line was removed, inserted, duplicated or moved)'
	assert_line --index 1 --partial 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:3: error: [chain] prev does not match the SHA-256 of line 2 '
	# STATE.json still counts the deleted line
	assert_line 'Docs/hive-mind/sessions/s1/STATE.json:1: error: [state] events.count is 5, the log has 4 lines'
}

@test "chain: two swapped lines are caught at the first of them" {
	new_session s1 4
	local f
	f="$(events_of s1)"
	awk 'NR == 3 { held = $0; next } NR == 4 { print; print held; next } 1' "$f" >"$f.new"
	mv "$f.new" "$f"
	run --separate-stderr hive-check --session s1
	assert_failure 1
	assert_line --index 0 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:3: error: [chain] seq is 4, expected 3 (a line was removed, inserted, duplicated or moved)'
	assert_line --index 1 --partial 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:3: error: [chain] prev does not match the SHA-256 of line 2 '
	assert_line --partial 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:4: error: [chain] prev does not match the SHA-256 of line 3 '
}

@test "chain: an inserted line that chains to the line before it is caught at the line after it" {
	new_session s1
	local f forged
	f="$(events_of s1)"
	# a well-formed line with seq 3 and the right prev for line 2, slipped in after line 2
	head -n 2 "$f" >"$BATS_TEST_TMPDIR/head"
	append_event "$BATS_TEST_TMPDIR/head" "$(make_event pipeline_updated s1 \
		"$(sed -n 2p "$f" | jq -r .timestamp)" \
		'{"resource":"forged","action":"delete","platform":"K8s","configuration":{},"status":"success"}')"
	forged="$(tail -n 1 "$BATS_TEST_TMPDIR/head")"
	awk -v l="$forged" 'NR == 3 { print l } 1' "$f" >"$f.new"
	mv "$f.new" "$f"
	run --separate-stderr hive-check --session s1
	assert_failure 1
	assert_line --index 0 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:4: error: [chain] seq is 3, expected 4 (a line was removed, inserted, duplicated or moved)'
	assert_line --index 1 "Docs/hive-mind/sessions/s1/EVENTS.jsonl:4: error: [chain] prev does not match the SHA-256 of line 3 ($(line_hash "$forged")): that line was edited, or lines were removed, inserted or reordered"
	refute_line --partial 'EVENTS.jsonl:3:'
}

@test "chain: a duplicated seq is caught at its line" {
	new_session s1
	sed -i '4s/^{"seq":4,/{"seq":3,/' "$(events_of s1)"
	run --separate-stderr hive-check --session s1
	assert_failure 1
	assert_line --index 0 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:4: error: [chain] seq is 3, expected 4 (a line was removed, inserted, duplicated or moved)'
}

@test "chain: a seq out of any integer's range is a schema finding, not a garbage chain position" {
	new_session s1
	sed -i '3s/^{"seq":3,/{"seq":1e300,/' "$(events_of s1)"
	run --separate-stderr hive-check --session s1
	assert_failure 1
	assert_line --index 0 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:3: error: [schema] seq: expected a whole number from 1, got a number'
	assert_line --index 1 --partial 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:4: error: [chain] prev does not match the SHA-256 of line 3 '
	assert_equal "${#lines[@]}" 2
}

@test "chain: line 1 with a prev is caught" {
	new_session s1 1
	local f
	f="$(events_of s1)"
	sed -i "1s/\"prev\":null}\$/\"prev\":\"sha256:$(zeros 64)\"}/" "$f"
	run --separate-stderr hive-check --session s1
	assert_failure 1
	assert_line --index 0 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:1: error: [chain] line 1 must have prev null'
}

# --- rules: protocol -------------------------------------------------------------------

@test "protocol: a wrong session_id is caught at its line (chain recomputed, so only protocol fires)" {
	new_session s1
	local d
	d="$(session_dir s1)"
	sed -i '3s/"session_id":"s1"/"session_id":"s2"/' "$d/EVENTS.jsonl"
	rechain "$d/EVENTS.jsonl"
	sync_state "$d"
	run --separate-stderr hive-check --session s1
	assert_failure 1
	assert_output 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:3: error: [protocol] session_id "s2" does not match the session folder s1'
}

@test "protocol: a worker that changes mid-session is caught" {
	new_session s1
	local d
	d="$(session_dir s1)"
	sed -i '3s/"worker":"devops-worker"/"worker":"intruder"/' "$d/EVENTS.jsonl"
	rechain "$d/EVENTS.jsonl"
	sync_state "$d"
	run --separate-stderr hive-check --session s1
	assert_failure 1
	assert_output 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:3: error: [protocol] worker "intruder" does not match the session'"'"'s worker devops-worker'
}

@test "protocol: an event after session_completed is caught at its line" {
	new_session s1
	local d f
	d="$(session_dir s1)"
	f="$d/EVENTS.jsonl"
	complete_session s1
	run --separate-stderr hive-check --session s1
	assert_clean

	append_event "$f" "$(make_event pipeline_updated s1 "$(tail -n 1 "$f" | jq -r .timestamp)" \
		'{"resource":"late","action":"update","platform":"Docker","configuration":{},"status":"success"}')"
	sync_state "$d"
	jq -e '.status == "completed" and .events.count == 6' "$d/STATE.json" >/dev/null
	run --separate-stderr hive-check --session s1
	assert_failure 1
	assert_output 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:6: error: [protocol] an event after session_completed (line 5)'
}

@test "protocol: a completed session without METRICS.json is a finding naming METRICS.json" {
	new_session s1
	complete_session s1
	rm "$(session_dir s1)/METRICS.json"
	run --separate-stderr hive-check --session s1
	assert_failure 1
	assert_output 'Docs/hive-mind/sessions/s1/METRICS.json: error: [protocol] the session is completed but has no METRICS.json'
}

@test "protocol: line 1 that is not session_started is caught at line 1" {
	new_session s1 1
	local d f ts
	d="$(session_dir s1)"
	f="$d/EVENTS.jsonl"
	ts="$(head -n 1 "$f" | jq -r .timestamp)"
	# a whole, valid log whose first line is an ordinary event
	: >"$f.new"
	append_event "$f.new" "$(make_event pipeline_updated s1 "$ts" \
		'{"resource":"ci","action":"create","platform":"Docker","configuration":{},"status":"success"}')"
	tail -n +2 "$f" >>"$f.new"
	mv "$f.new" "$f"
	rechain "$f"
	sync_state "$d"
	run --separate-stderr hive-check --session s1
	assert_failure 1
	assert_output 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:1: error: [protocol] line 1 must be session_started, found "pipeline_updated"'
}

@test "protocol: a second session_started is caught" {
	new_session s1 1
	local d f
	d="$(session_dir s1)"
	f="$d/EVENTS.jsonl"
	head -n 1 "$f" | jq -c --arg ts "$(tail -n 1 "$f" | jq -r .timestamp)" \
		'del(.seq, .prev) | .timestamp = $ts' >"$BATS_TEST_TMPDIR/first"
	append_event "$f" "$(cat "$BATS_TEST_TMPDIR/first")"
	sync_state "$d"
	run --separate-stderr hive-check --session s1
	assert_failure 1
	assert_output 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:3: error: [protocol] session_started again (only line 1 may start the session)'
}

# --- rules: state ----------------------------------------------------------------------

@test "state: an events.count that disagrees with the log" {
	new_session s1
	local d
	d="$(session_dir s1)"
	jq -c '.events.count = 9' "$d/STATE.json" >"$d/x" && mv "$d/x" "$d/STATE.json"
	run --separate-stderr hive-check --session s1
	assert_failure 1
	assert_output 'Docs/hive-mind/sessions/s1/STATE.json:1: error: [state] events.count is 9, the log has 4 lines'
}

@test "state: an events.count that is missing or out of any integer's range" {
	new_session s1
	local d
	d="$(session_dir s1)"
	cp "$d/STATE.json" "$BATS_TEST_TMPDIR/state"
	jq -c '.events.count = 1e300 | .events.last_seq = -1' "$BATS_TEST_TMPDIR/state" >"$d/STATE.json"
	run --separate-stderr hive-check --session s1
	assert_failure 1
	assert_line --index 0 'Docs/hive-mind/sessions/s1/STATE.json:1: error: [state] events.count is 1e+300, the log has 4 lines'
	assert_line --index 1 "Docs/hive-mind/sessions/s1/STATE.json:1: error: [state] events.last_seq is -1, the log's last seq is 4"
	jq -c 'del(.events.count)' "$BATS_TEST_TMPDIR/state" >"$d/STATE.json"
	run --separate-stderr hive-check --session s1
	assert_failure 1
	assert_output 'Docs/hive-mind/sessions/s1/STATE.json:1: error: [state] events.count is missing, the log has 4 lines'
}

@test "state: an events.last_seq that disagrees with the log" {
	new_session s1
	local d
	d="$(session_dir s1)"
	jq -c '.events.last_seq = 3' "$d/STATE.json" >"$d/x" && mv "$d/x" "$d/STATE.json"
	run --separate-stderr hive-check --session s1
	assert_failure 1
	assert_output "Docs/hive-mind/sessions/s1/STATE.json:1: error: [state] events.last_seq is 3, the log's last seq is 4"
}

@test "state: an events.last_hash that disagrees with the log" {
	new_session s1
	local d
	d="$(session_dir s1)"
	jq -c --arg h "sha256:$(zeros 64)" '.events.last_hash = $h' "$d/STATE.json" >"$d/x" &&
		mv "$d/x" "$d/STATE.json"
	run --separate-stderr hive-check --session s1
	assert_failure 1
	assert_output "Docs/hive-mind/sessions/s1/STATE.json:1: error: [state] events.last_hash does not match the log's last line ($(line_hash "$(tail -n 1 "$d/EVENTS.jsonl")"))"
}

@test "state: a status that disagrees with the log (both ways)" {
	new_session s1
	local d
	d="$(session_dir s1)"
	jq -c '.status = "completed"' "$d/STATE.json" >"$d/x" && mv "$d/x" "$d/STATE.json"
	run --separate-stderr hive-check --session s1
	assert_failure 1
	assert_output 'Docs/hive-mind/sessions/s1/STATE.json:1: error: [state] status is completed, the log says active'

	jq -c '.status = "active"' "$d/STATE.json" >"$d/x" && mv "$d/x" "$d/STATE.json"
	complete_session s1
	jq -c '.status = "active"' "$d/STATE.json" >"$d/x" && mv "$d/x" "$d/STATE.json"
	run --separate-stderr hive-check --session s1
	assert_failure 1
	assert_output 'Docs/hive-mind/sessions/s1/STATE.json:1: error: [state] status is active, the log says completed'
}

@test "state: a missing STATE.json" {
	new_session s1
	rm "$(session_dir s1)/STATE.json"
	run --separate-stderr hive-check --session s1
	assert_failure 1
	assert_output 'Docs/hive-mind/sessions/s1/STATE.json: error: [state] STATE.json is missing (hive-check --repair rebuilds it from the log)'
}

@test "state: a STATE.json that is not JSON" {
	new_session s1
	printf 'garbage {\n' >"$(session_dir s1)/STATE.json"
	run --separate-stderr hive-check --session s1
	assert_failure 1
	assert_output 'Docs/hive-mind/sessions/s1/STATE.json:1: error: [state] STATE.json is not a JSON object (hive-check --repair rebuilds it)'
}

# --- rules: secrets, json, order, schema ------------------------------------------------

@test "secrets: an unredacted token written into the log by hand is caught with its column" {
	new_session s1
	local d f token col
	d="$(session_dir s1)"
	f="$d/EVENTS.jsonl"
	token='ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
	sed -i "3s/\"step\":\"2\"/\"step\":\"$token\"/" "$f"
	rechain "$f"
	sync_state "$d"
	col=$(awk -v t="$token" 'NR == 3 { print index($0, t) }' "$f")
	((col > 1))
	run --separate-stderr hive-check --session s1
	assert_failure 1
	assert_output --regexp "^Docs/hive-mind/sessions/s1/EVENTS\.jsonl:3: error: \[secrets\] an unredacted secret \([a-z_]+\) at column $col\$"
	refute_output --partial "$token"
}

@test "secrets: a line on which a redact.patterns entry reaches PCRE2's match limit is reported" {
	new_session s1
	local d f run40
	d="$(session_dir s1)"
	f="$d/EVENTS.jsonl"
	run40="$(printf 'a%.0s' {1..40})"
	sed -i "3s/\"step\":\"2\"/\"step\":\"$run40\"/" "$f"
	rechain "$f"
	sync_state "$d"
	# fine without the pattern; with it, the run of a makes PCRE2 give up: the line is reported
	run --separate-stderr hive-check --session s1
	assert_success
	printf '%s\n' 'redact:' "  patterns: ['(a+)+[!#]']" >.hive.yml
	run --separate-stderr hive-check --session s1
	assert_failure 1
	assert_output "Docs/hive-mind/sessions/s1/EVENTS.jsonl:3: error: [secrets] an unredacted secret (match_limit) in the value of step"
}

@test "secrets: what hive-emit redacts passes; a secret-named key with a plain value written by hand does not" {
	new_session s1 1
	local d f
	d="$(session_dir s1)"
	f="$d/EVENTS.jsonl"
	hive-emit --session s1 deployment_configured --resource db --action update --platform AWS \
		--status success db_password=hunter2 >/dev/null 2>&1
	grep -q '"db_password":"\[REDACTED\]"' "$f"
	run --separate-stderr hive-check --session s1
	assert_clean

	sed -i '3s/"db_password":"\[REDACTED\]"/"db_password":"hunter2"/' "$f"
	rechain "$f"
	sync_state "$d"
	run --separate-stderr hive-check --session s1
	assert_failure 1
	assert_output 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:3: error: [secrets] db_password holds a value that was not redacted (secret key name)'
}

@test "json: a line that is not JSON is caught at its line" {
	new_session s1
	sed -i '3s/^{/[/' "$(events_of s1)"
	run --separate-stderr hive-check --session s1
	assert_failure 1
	assert_line --index 0 "Docs/hive-mind/sessions/s1/EVENTS.jsonl:3: error: [json] not valid JSON: byte 7: expected ',' or ']' in an array, found character ':'"
	# the line after it cannot chain to a line that was changed
	assert_line --index 1 --partial 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:4: error: [chain] '
}

@test "json: a line that is JSON but not an object" {
	new_session s1
	local d f
	d="$(session_dir s1)"
	f="$d/EVENTS.jsonl"
	sed -i '3s/.*/[1,2,3]/' "$f"
	run --separate-stderr hive-check --session s1
	assert_failure 1
	assert_line --index 0 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:3: error: [json] not a JSON object'
}

@test "json: a file without its final newline is caught at its last line" {
	new_session s1
	local f
	f="$(events_of s1)"
	truncate -s -1 "$f"
	run --separate-stderr hive-check --session s1
	assert_failure 1
	assert_output 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:4: error: [json] the file does not end with a newline: the last line is cut off (hive-check --repair moves it aside)'
}

@test "order: a timestamp going backwards is a warning: exit 0, and exit 1 with --strict" {
	new_session s1
	local d f
	d="$(session_dir s1)"
	f="$d/EVENTS.jsonl"
	set_timestamp "$f" 3 '2001-01-01T00:00:00.000Z'
	rechain "$f"
	sync_state "$d"
	run --separate-stderr hive-check --session s1
	assert_success
	assert_output 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:3: warning: [order] timestamp 2001-01-01T00:00:00.000Z is earlier than the line before'
	assert_stderr --partial '1 session checked: 0 errors, 1 warning'

	run --separate-stderr hive-check --session s1 --strict
	assert_failure 1
	assert_output 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:3: warning: [order] timestamp 2001-01-01T00:00:00.000Z is earlier than the line before'
}

@test "schema: a violation written by hand (action destroy) is caught with the emitter's message" {
	new_session s1
	local d f
	d="$(session_dir s1)"
	f="$d/EVENTS.jsonl"
	sed -i '3s/"action":"update"/"action":"destroy"/' "$f"
	rechain "$f"
	sync_state "$d"
	run --separate-stderr hive-check --session s1
	assert_failure 1
	assert_output 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:3: error: [schema] details.action: "destroy" is not one of create, update, delete'

	# the very message hive-emit gives for the same value
	run --separate-stderr hive-emit --session s1 pipeline_updated --resource ci --action destroy \
		--platform Docker --status success
	assert_failure 2
	assert_stderr --partial 'details.action: "destroy" is not one of create, update, delete'
}

@test "schema: a timestamp without fraction is accepted; one that is not RFC 3339 is not" {
	new_session s1
	local d f
	d="$(session_dir s1)"
	f="$d/EVENTS.jsonl"
	set_timestamp "$f" 1 '2025-01-15T10:00:00Z'
	set_timestamp "$f" 2 '2025-01-15T10:00:01Z'
	rechain "$f"
	sync_state "$d"
	run --separate-stderr hive-check --session s1
	assert_clean

	set_timestamp "$f" 2 '15-01-2025 10:30'
	rechain "$f"
	sync_state "$d"
	run --separate-stderr hive-check --session s1
	assert_failure 1
	assert_output 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:2: error: [schema] timestamp: "15-01-2025 10:30" is not an RFC 3339 UTC time like 2025-01-15T10:30:00.123Z'
}

@test "schema: an unknown event type and a missing key are caught" {
	new_session s1
	local d f
	d="$(session_dir s1)"
	f="$d/EVENTS.jsonl"
	sed -i '2s/"event_type":"pipeline_updated"/"event_type":"coffee_brewed"/; 3s/,"git":[^}]*},"ci"/,"ci"/' "$f"
	rechain "$f"
	sync_state "$d"
	run --separate-stderr hive-check --session s1
	assert_failure 1
	assert_line --index 0 --regexp '^Docs/hive-mind/sessions/s1/EVENTS\.jsonl:2: error: \[schema\] event_type: "coffee_brewed" is not one of '
	assert_line --index 1 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:3: error: [schema] git: missing'
}

# --- policies (SPEC 2.4) ---------------------------------------------------------------

@test "policy.require_clean_tree: an event recorded from a dirty work tree" {
	printf 'policy:\n  require_clean_tree: [infrastructure_provisioned]\n' >.hive.yml
	new_session s1 1
	hive-emit --session s1 infrastructure_provisioned --resource vpc --action create \
		--platform AWS --status success >/dev/null 2>&1
	run --separate-stderr hive-check --session s1
	assert_clean

	printf '# local change\n' >>Dockerfile
	emit_unchecked --session s1 infrastructure_provisioned --resource vpc --action update \
		--platform AWS --status success >/dev/null 2>&1
	run jq -r .git.dirty "$(events_of s1)"
	assert_line --index 3 true
	run --separate-stderr hive-check --session s1
	assert_failure 1
	assert_output 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:4: error: [policy.require_clean_tree] infrastructure_provisioned was recorded from a dirty work tree (policy: require_clean_tree)'
}

@test "policy.require_ci: an event recorded outside CI" {
	printf 'policy:\n  require_ci: [deployment_configured]\n' >.hive.yml
	new_session s1 1
	CI=true hive-emit --session s1 deployment_configured --resource api --action update \
		--platform K8s --status success >/dev/null 2>&1
	run --separate-stderr hive-check --session s1
	assert_clean

	emit_unchecked --session s1 deployment_configured --resource api --action update \
		--platform K8s --status success >/dev/null 2>&1
	run --separate-stderr hive-check --session s1
	assert_failure 1
	assert_output 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:4: error: [policy.require_ci] deployment_configured was recorded outside CI (policy: require_ci)'
}

@test "policy.require_tags: deployment_configured and infrastructure_provisioned without tags.team" {
	printf 'policy:\n  require_tags: [team]\n' >.hive.yml
	new_session s1 0
	hive-emit --session s1 deployment_configured --resource api --action update --platform K8s \
		--status success tags.team=infra >/dev/null 2>&1
	hive-emit --session s1 infrastructure_provisioned --resource vpc --action create \
		--platform AWS --status success tags.team=net >/dev/null 2>&1
	run --separate-stderr hive-check --session s1
	assert_clean

	emit_unchecked --session s1 deployment_configured --resource api --action update \
		--platform K8s --status success tags.owner=bob >/dev/null 2>&1
	emit_unchecked --session s1 infrastructure_provisioned --resource vpc --action create \
		--platform AWS --status success >/dev/null 2>&1
	run --separate-stderr hive-check --session s1
	assert_failure 1
	assert_line --index 0 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:4: error: [policy.require_tags] deployment_configured of api has no configuration.tags.team (policy: require_tags)'
	assert_line --index 1 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:5: error: [policy.require_tags] infrastructure_provisioned of vpc has no configuration.tags.team (policy: require_tags)'
	assert_equal "${#lines[@]}" 2
}

@test "policy.require_events: a completed session missing security_hardened" {
	printf 'policy:\n  require_events: [security_hardened]\n' >.hive.yml
	new_session s1
	# an active session is not held to it yet
	run --separate-stderr hive-check --session s1
	assert_clean

	complete_session s1
	run --separate-stderr hive-check --session s1
	assert_failure 1
	assert_output 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:5: error: [policy.require_events] the completed session has no security_hardened event (policy: require_events)'

	new_session s2
	hive-emit --session s2 security_hardened --resource api --action update --platform K8s \
		--status success >/dev/null 2>&1
	complete_session s2
	run --separate-stderr hive-check --session s2
	assert_clean
}

@test "policy.require_rollback: deployment_configured without configuration.rollback" {
	printf 'policy:\n  require_rollback: true\n' >.hive.yml
	new_session s1 1
	hive-emit --session s1 deployment_configured --resource api --action update --platform K8s \
		--status success rollback='helm rollback api' >/dev/null 2>&1
	run --separate-stderr hive-check --session s1
	assert_clean

	emit_unchecked --session s1 deployment_configured --resource api --action update \
		--platform K8s --status success image=api:2 >/dev/null 2>&1
	run --separate-stderr hive-check --session s1
	assert_failure 1
	assert_output 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:4: error: [policy.require_rollback] deployment_configured has no configuration.rollback (policy: require_rollback)'
}

@test "policy.max_session_minutes: a session longer than allowed (timestamps set by hand, chain recomputed)" {
	printf 'policy:\n  max_session_minutes: 10\n' >.hive.yml
	local d f
	new_session s1 2
	d="$(session_dir s1)"
	f="$d/EVENTS.jsonl"
	set_timestamp "$f" 1 '2025-01-15T10:00:00.000Z'
	set_timestamp "$f" 2 '2025-01-15T10:03:00.000Z'
	set_timestamp "$f" 3 '2025-01-15T10:05:00.000Z'
	rechain "$f"
	sync_state "$d"
	complete_session s1 '2025-01-15T10:09:59.999Z'
	run --separate-stderr hive-check --session s1
	assert_clean

	new_session s2 2
	d="$(session_dir s2)"
	f="$d/EVENTS.jsonl"
	set_timestamp "$f" 1 '2025-01-15T10:00:00.000Z'
	set_timestamp "$f" 2 '2025-01-15T10:03:00.000Z'
	set_timestamp "$f" 3 '2025-01-15T10:05:00.000Z'
	rechain "$f"
	sync_state "$d"
	complete_session s2 '2025-01-15T10:25:00.000Z'
	run --separate-stderr hive-check --session s2
	assert_failure 1
	assert_output 'Docs/hive-mind/sessions/s2/EVENTS.jsonl:4: error: [policy.max_session_minutes] the session took 25 minutes, more than 10 (policy: max_session_minutes)'
}

@test "policies come from --config and HIVE_CONFIG too; a bad config is exit 2 with FILE:LINE:COL" {
	new_session s1 1
	hive-emit --session s1 deployment_configured --resource api --action update --platform K8s \
		--status success >/dev/null 2>&1
	run --separate-stderr hive-check --session s1
	assert_clean

	printf 'policy:\n  require_rollback: true\n' >"$BATS_TEST_TMPDIR/strict.yml"
	run --separate-stderr hive-check --session s1 --config "$BATS_TEST_TMPDIR/strict.yml"
	assert_failure 1
	assert_output --partial 'EVENTS.jsonl:3: error: [policy.require_rollback]'
	HIVE_CONFIG="$BATS_TEST_TMPDIR/strict.yml" run --separate-stderr hive-check --session s1
	assert_failure 1
	assert_output --partial 'EVENTS.jsonl:3: error: [policy.require_rollback]'

	printf 'policy:\n  require_rollbak: true\n' >.hive.yml
	run_refused 2 '\.hive\.yml:2:[0-9]+: ' hive-check --session s1
}

# --- formats ---------------------------------------------------------------------------

@test "format text: PATH:LINE: error: [rule] message, no colour when stdout is not a terminal" {
	new_session s1
	sed -i '2s/"step":"1"/"step":"X"/' "$(events_of s1)"
	run --separate-stderr hive-check --session s1 --format text
	assert_failure 1
	assert_output --regexp '^Docs/hive-mind/sessions/s1/EVENTS\.jsonl:3: error: \[chain\] prev does not match '
	[[ "$output" != *$'\e'* ]] || fail "colour escapes in text written to a pipe: $output"
}

@test "format text: a value with a newline or an escape cannot forge a finding line or colour" {
	printf 'policy:\n  require_tags: [team]\n' >.hive.yml
	new_session s1 0
	emit_unchecked --session s1 deployment_configured --action update --platform K8s \
		--status success --resource $'api\nDocs/hive-mind/sessions/s1/EVENTS.jsonl:1: error: [chain] forged\r\e[8m' \
		>/dev/null 2>&1
	run --separate-stderr hive-check --session s1
	assert_failure 1
	assert_equal "${#lines[@]}" 1
	assert_output 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:2: error: [policy.require_tags] deployment_configured of api\nDocs/hive-mind/sessions/s1/EVENTS.jsonl:1: error: [chain] forged\r\x1b[8m has no configuration.tags.team (policy: require_tags)'
	# the machine formats carry the value as it is
	run --separate-stderr hive-check --session s1 --format json
	assert_jq '.message | contains("api\nDocs/") and contains("forged\r\u001b[8m")' "$output"
}

@test "format text: colour on a terminal, none with NO_COLOR" {
	new_session s1
	sed -i '2s/"step":"1"/"step":"X"/' "$(events_of s1)"
	run script -qec 'hive-check --session s1' /dev/null
	assert_output --partial $'EVENTS.jsonl:3: \e[1;31merror:\e[0m [chain] '
	run env NO_COLOR=1 script -qec 'hive-check --session s1' /dev/null
	assert_output --partial 'EVENTS.jsonl:3: error: [chain] '
	[[ "$output" != *$'\e['* ]] || fail "colour despite NO_COLOR: $output"
}

@test "format json: one object per line with level, rule, session, file, line, message" {
	new_session s1
	local d
	d="$(session_dir s1)"
	sed -i '2s/"step":"1"/"step":"X"/' "$d/EVENTS.jsonl"
	rm "$d/STATE.json"
	run --separate-stderr hive-check --session s1 --format json
	assert_failure 1
	assert_equal "${#lines[@]}" 2
	local l
	for l in "${lines[@]}"; do
		assert_jq 'keys == ["file","level","line","message","rule","session"]' "$l"
		[[ "$(jq -c . <<<"$l")" == "$l" ]] || fail "not compact JSON: $l"
	done
	assert_jq '.level == "error" and .rule == "chain" and .session == "s1" and
		.file == "Docs/hive-mind/sessions/s1/EVENTS.jsonl" and .line == 3 and
		(.message | startswith("prev does not match the SHA-256 of line 2"))' "${lines[0]}"
	# a finding about a whole file has line null
	assert_jq '.rule == "state" and .file == "Docs/hive-mind/sessions/s1/STATE.json" and
		.line == null and .message == "STATE.json is missing (hive-check --repair rebuilds it from the log)"' \
		"${lines[1]}"
}

@test "format json: a warning has level warning; a clean run prints nothing" {
	new_session s1
	run --separate-stderr hive-check --session s1 --format json
	assert_clean
	local d f
	d="$(session_dir s1)"
	f="$d/EVENTS.jsonl"
	set_timestamp "$f" 3 '2001-01-01T00:00:00.000Z'
	rechain "$f"
	sync_state "$d"
	run --separate-stderr hive-check --session s1 --format json
	assert_success
	assert_jq '.level == "warning" and .rule == "order" and .line == 3' "$output"
}

@test "format github: ::error file=PATH,line=N,title=hive RULE::message" {
	new_session s1
	local d
	d="$(session_dir s1)"
	sed -i '2s/"step":"1"/"step":"X"/' "$d/EVENTS.jsonl"
	rm "$d/STATE.json"
	run --separate-stderr hive-check --session s1 --format github
	assert_failure 1
	assert_line --index 0 "::error file=Docs/hive-mind/sessions/s1/EVENTS.jsonl,line=3,title=hive chain::prev does not match the SHA-256 of line 2 ($(line_hash "$(sed -n 2p "$d/EVENTS.jsonl")")): that line was edited, or lines were removed, inserted or reordered"
	# a finding about the whole file has no line
	assert_line --index 1 '::error file=Docs/hive-mind/sessions/s1/STATE.json,title=hive state::STATE.json is missing (hive-check --repair rebuilds it from the log)'
	assert_equal "${#lines[@]}" 2
}

@test "format github: a warning is ::warning" {
	new_session s1
	local d f
	d="$(session_dir s1)"
	f="$d/EVENTS.jsonl"
	set_timestamp "$f" 3 '2001-01-01T00:00:00.000Z'
	rechain "$f"
	sync_state "$d"
	run --separate-stderr hive-check --session s1 --format github
	assert_success
	assert_output '::warning file=Docs/hive-mind/sessions/s1/EVENTS.jsonl,line=3,title=hive order::timestamp 2001-01-01T00:00:00.000Z is earlier than the line before'
}

@test "format github: % CR LF in a message become %25 %0D %0A; , and : in the file property %2C %3A" {
	printf 'policy:\n  require_tags: [team]\n' >.hive.yml
	local root='ops,hive:1'
	hive-init --root "$root" --session s1 >/dev/null 2>&1
	emit_unchecked --root "$root" --session s1 deployment_configured --resource $'db%1\r\nprimary' \
		--action update --platform K8s --status success >/dev/null 2>&1
	[[ -d "$REPO/ops,hive:1/sessions/s1" ]]
	run --separate-stderr hive-check --root "$root" --session s1 --format github
	assert_failure 1
	assert_output '::error file=ops%2Chive%3A1/sessions/s1/EVENTS.jsonl,line=2,title=hive policy.require_tags::deployment_configured of db%251%0D%0Aprimary has no configuration.tags.team (policy: require_tags)'
	[[ "$output" != *$'\r'* ]] || fail "a raw CR in a workflow command"
}

@test "format github: a bare FILE operand whose path holds , and : is escaped in the property" {
	new_session s1
	local p="$BATS_TEST_TMPDIR/copy,of:log%1.jsonl" want
	sed '2s/"step":"1"/"step":"X"/' "$(events_of s1)" >"$p"
	run --separate-stderr hive-check --format github "$p"
	assert_failure 1
	want="${p//%/%25}"
	want="${want//,/%2C}"
	want="${want//:/%3A}"
	assert_output --regexp "^::error file=${want//./\\.},line=3,title=hive chain::prev does not match"
}

@test "format junit: valid XML, one testsuite per session, one testcase per rule, a failure for a failing rule" {
	command -v xmllint >/dev/null ||
		fail "xmllint is missing: install libxml2-utils (the junit test needs it and never skips)"
	new_session good
	new_session bad
	sed -i '2s/"step":"1"/"step":"X"/' "$(events_of bad)"
	run --separate-stderr hive-check --all --format junit
	assert_failure 1
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/report.xml"
	run xmllint --noout "$BATS_TEST_TMPDIR/report.xml"
	assert_success
	x() { xmllint --xpath "$1" "$BATS_TEST_TMPDIR/report.xml"; }
	assert_equal "$(x 'count(/testsuites/testsuite)')" 2
	assert_equal "$(x 'string(/testsuites/testsuite[1]/@name)')" bad
	assert_equal "$(x 'string(/testsuites/testsuite[2]/@name)')" good
	local rule
	for rule in json schema chain protocol state order secrets signature; do
		assert_equal "$(x "count(//testsuite[@name='good']/testcase[@name='$rule'])")" 1
		assert_equal "$(x "count(//testsuite[@name='bad']/testcase[@name='$rule'])")" 1
	done
	assert_equal "$(x 'count(//testsuite[@name="good"]/testcase)')" 8
	assert_equal "$(x 'count(//testsuite[@name="good"]//failure)')" 0
	assert_equal "$(x 'count(//testsuite[@name="bad"]//failure)')" 1
	assert_equal "$(x 'count(//testsuite[@name="bad"]/testcase[@name="chain"]/failure)')" 1
	assert_equal "$(x 'string(//testsuite[@name="bad"]/@failures)')" 1
	assert_equal "$(x 'string(/testsuites/@tests)')" 16
	assert_equal "$(x 'string(/testsuites/@failures)')" 1
	run x 'string(//testsuite[@name="bad"]/testcase[@name="chain"]/failure)'
	assert_output --partial 'Docs/hive-mind/sessions/bad/EVENTS.jsonl:3: error: prev does not match the SHA-256 of line 2'
}

@test "format junit: configured policies are testcases; a warning fails its testcase only with --strict" {
	command -v xmllint >/dev/null ||
		fail "xmllint is missing: install libxml2-utils (the junit test needs it and never skips)"
	printf 'policy:\n  require_rollback: true\n  max_session_minutes: 5\n' >.hive.yml
	new_session s1
	local d f
	d="$(session_dir s1)"
	f="$d/EVENTS.jsonl"
	set_timestamp "$f" 3 '2001-01-01T00:00:00.000Z'
	rechain "$f"
	sync_state "$d"
	x() { xmllint --xpath "$1" "$BATS_TEST_TMPDIR/report.xml"; }

	run --separate-stderr hive-check --session s1 --format junit
	assert_success
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/report.xml"
	xmllint --noout "$BATS_TEST_TMPDIR/report.xml"
	assert_equal "$(x 'count(//testcase)')" 10
	assert_equal "$(x 'count(//testcase[@name="policy.require_rollback"])')" 1
	assert_equal "$(x 'count(//testcase[@name="policy.max_session_minutes"])')" 1
	assert_equal "$(x 'count(//failure)')" 0

	run --separate-stderr hive-check --session s1 --format junit --strict
	assert_failure 1
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/report.xml"
	xmllint --noout "$BATS_TEST_TMPDIR/report.xml"
	assert_equal "$(x 'count(//testcase[@name="order"]/failure)')" 1
	assert_equal "$(x 'count(//failure)')" 1
}

@test "format junit: XML special characters in a message are escaped" {
	command -v xmllint >/dev/null ||
		fail "xmllint is missing: install libxml2-utils (the junit test needs it and never skips)"
	new_session s1 1
	printf 'policy:\n  require_tags: [team]\n' >.hive.yml
	emit_unchecked --session s1 deployment_configured --resource $'a<b>&"c\'\x01' --action update \
		--platform K8s --status success >/dev/null 2>&1
	run --separate-stderr hive-check --session s1 --format junit
	assert_failure 1
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/report.xml"
	run xmllint --noout "$BATS_TEST_TMPDIR/report.xml"
	assert_success
	run xmllint --xpath 'string(//testcase[@name="policy.require_tags"]/failure)' "$BATS_TEST_TMPDIR/report.xml"
	assert_output --partial 'deployment_configured of a<b>&"c'"'"
}

@test "format codequality: a JSON array of description, check_name, fingerprint, severity, location" {
	new_session s1
	local d f
	d="$(session_dir s1)"
	f="$d/EVENTS.jsonl"
	run --separate-stderr hive-check --session s1 --format codequality
	assert_success
	assert_jq '. == []' "$output"

	set_timestamp "$f" 3 '2001-01-01T00:00:00.000Z'
	rechain "$f"
	sync_state "$d"
	sed -i '2s/"step":"1"/"step":"X"/' "$f"
	run --separate-stderr hive-check --session s1 --format codequality
	assert_failure 1
	local first=$output
	assert_jq 'type == "array" and length == 2' "$output"
	assert_jq 'all(.[]; (keys == ["check_name","description","fingerprint","location","severity"])
		and (.location | keys == ["lines","path"]) and (.location.lines.begin | type == "number")
		and (.fingerprint | test("^[0-9a-f]{16,}$")) and (.description | length > 0))' "$output"
	assert_jq '[.[].fingerprint] | unique | length == 2' "$output"
	assert_jq 'map(select(.check_name == "chain"))[0] |
		.severity == "major" and .location.path == "Docs/hive-mind/sessions/s1/EVENTS.jsonl" and
		.location.lines.begin == 3 and (.description | startswith("prev does not match"))' "$output"
	assert_jq 'map(select(.check_name == "order"))[0] | .severity == "minor" and .location.lines.begin == 3' \
		"$output"
	# fingerprints are stable from run to run
	run --separate-stderr hive-check --session s1 --format codequality
	assert_equal "$output" "$first"
}

# --- FILE operands -----------------------------------------------------------------------

@test "FILE: a session folder path is checked as that session" {
	new_session s1
	local d
	d="$(session_dir s1)"
	run --separate-stderr hive-check "$d"
	assert_clean
	run --separate-stderr hive-check Docs/hive-mind/sessions/s1/
	assert_clean
	jq -c '.events.count = 1' "$d/STATE.json" >"$d/x" && mv "$d/x" "$d/STATE.json"
	run --separate-stderr hive-check "$d"
	assert_failure 1
	assert_output 'Docs/hive-mind/sessions/s1/STATE.json:1: error: [state] events.count is 1, the log has 4 lines'
}

@test "FILE: a path to EVENTS.jsonl is checked with its folder (STATE.json, METRICS.json, the id)" {
	new_session s1
	local d
	d="$(session_dir s1)"
	run --separate-stderr hive-check "$d/EVENTS.jsonl"
	assert_clean
	jq -c '.status = "failed"' "$d/STATE.json" >"$d/x" && mv "$d/x" "$d/STATE.json"
	(cd "$d" && hive-check EVENTS.jsonl) && fail "the state rule was not applied"
	run --separate-stderr hive-check "$d/EVENTS.jsonl"
	assert_failure 1
	assert_output 'Docs/hive-mind/sessions/s1/STATE.json:1: error: [state] status is failed, the log says active'
}

@test "FILE: a bare log elsewhere is checked on its own, findings named by the path given" {
	new_session s1
	cp "$(events_of s1)" "$BATS_TEST_TMPDIR/export.jsonl"
	run --separate-stderr hive-check "$BATS_TEST_TMPDIR/export.jsonl"
	assert_clean
	sed -i '2s/"step":"1"/"step":"X"/' "$BATS_TEST_TMPDIR/export.jsonl"
	run --separate-stderr hive-check "$BATS_TEST_TMPDIR/export.jsonl"
	assert_failure 1
	assert_output --regexp "^${BATS_TEST_TMPDIR//./\\.}/export\\.jsonl:3: error: \[chain\] prev does not match the SHA-256 of line 2 "
	assert_equal "${#lines[@]}" 1
	# several operands in one run
	run --separate-stderr hive-check "$(session_dir s1)" "$BATS_TEST_TMPDIR/export.jsonl"
	assert_failure 1
	assert_stderr --partial '2 sessions checked: 1 error'
}

@test "FILE: - reads a log from standard input" {
	new_session s1
	local f
	f="$(events_of s1)"
	run --separate-stderr hive-check - <"$f"
	assert_clean
	run --separate-stderr hive-check --format json - < <(sed '2s/"step":"1"/"step":"X"/' "$f")
	assert_failure 1
	assert_jq '.file == "-" and .line == 3 and .rule == "chain" and .session == null' "$output"
}

@test "FILE: a missing FILE is exit 2 and changes nothing" {
	new_session s1
	run_refused 2 'hive-check: error: .*no-such\.jsonl' hive-check "$BATS_TEST_TMPDIR/no-such.jsonl"
	run_refused 2 'hive-check: error: .*no-such' hive-check "$(session_dir s1)" no-such
}

# --- --pre-push ------------------------------------------------------------------------

# A bare remote, a pre-push hook that runs hive-check --pre-push (and keeps a copy of what
# git gave it), and session s1 committed and pushed through that hook.
setup_push() {
	REMOTE="$BATS_TEST_TMPDIR/remote.git"
	HOOK_LOG="$BATS_TEST_TMPDIR/hook.log"
	git init -q --bare "$REMOTE"
	git remote add origin "$REMOTE"
	cat >.git/hooks/pre-push <<-EOF
		#!/bin/sh
		tee -a '$HOOK_LOG' | '$BUILD_DIR/hive-check' --pre-push
	EOF
	chmod +x .git/hooks/pre-push
	new_session s1
	git add -A Docs && git commit -q -m 'session s1'
	run git push -q origin main
	assert_success
	assert_output --partial 'hive-check: 1 session checked: 0 errors, 0 warnings'
	assert_equal "$(remote_sha main)" "$(git rev-parse main)"
}

# remote_sha BRANCH: what the remote says BRANCH is (empty when it has none).
remote_sha() {
	git ls-remote "$REMOTE" "refs/heads/$1" | cut -f1
}

@test "pre-push: a push carrying a tampered session is refused and the remote is unchanged" {
	setup_push
	local before
	before="$(remote_sha main)"
	sed -i '2s/"step":"1"/"step":"X"/' "$(events_of s1)"
	git commit -q -am 'tamper'
	run git push origin main
	assert_failure
	assert_output --partial 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:3: error: [chain] prev does not match the SHA-256 of line 2'
	assert_output --partial '(push refused; HIVE_SKIP=1 bypasses the hook)'
	assert_equal "$(remote_sha main)" "$before"
	grep -q "^refs/heads/main $(git rev-parse main) refs/heads/main $before\$" "$HOOK_LOG"
}

@test "pre-push: two refs carrying the same tampered session report it once, not once per ref" {
	setup_push
	sed -i '2s/"step":"1"/"step":"X"/' "$(events_of s1)"
	git commit -q -am 'tamper'
	git branch other
	run git push origin main other
	assert_failure
	assert_output --partial 'hive-check: 1 session checked: 2 errors, 0 warnings'
	assert_equal "$(grep -c 'EVENTS.jsonl:3: error: \[chain\]' <<<"$output")" 1
	assert_equal "$(grep -c 'EVENTS.jsonl:2: error: \[history\]' <<<"$output")" 1
	assert_equal "$(remote_sha other)" ""
}

@test "pre-push: a clean push goes through" {
	setup_push
	hive-emit --session s1 monitoring_added --resource grafana --action create --platform K8s \
		--status success >/dev/null 2>&1
	git commit -q -am 'more events'
	run git push origin main
	assert_success
	assert_output --partial 'hive-check: 1 session checked: 0 errors, 0 warnings'
	assert_equal "$(remote_sha main)" "$(git rev-parse main)"
}

@test "pre-push: a session fixed in the work tree but not committed is still refused" {
	setup_push
	local f before
	f="$(events_of s1)"
	before="$(remote_sha main)"
	cp "$f" "$BATS_TEST_TMPDIR/good"
	sed -i '2s/"step":"1"/"step":"X"/' "$f"
	git commit -q -am 'tamper'
	cp "$BATS_TEST_TMPDIR/good" "$f"
	run hive-check --session s1
	assert_success # the work tree is fine…
	run git push origin main
	assert_failure # …but the pushed commit is not
	assert_output --partial 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:3: error: [chain]'
	assert_equal "$(remote_sha main)" "$before"
}

@test "pre-push: a new branch checks only the commits not on any remote-tracking ref" {
	setup_push
	# a tampered commit already on the remote (pushed past the hook)
	sed -i '2s/"step":"1"/"step":"X"/' "$(events_of s1)"
	git commit -q -am 'tamper'
	git push -q --no-verify origin main
	assert_equal "$(remote_sha main)" "$(git rev-parse main)"

	# a new branch whose own commits do not touch the sessions: goes through
	git checkout -q -b docs
	printf 'hello\n' >README.md
	git add README.md && git commit -q -m 'readme'
	: >"$HOOK_LOG"
	run git push origin docs
	assert_success
	assert_output --partial 'hive-check: 0 sessions checked: 0 errors, 0 warnings'
	assert_equal "$(remote_sha docs)" "$(git rev-parse docs)"
	grep -q "^refs/heads/docs $(git rev-parse docs) refs/heads/docs $(zeros 40)\$" "$HOOK_LOG"

	# a new branch whose own commit touches the tampered session: it is held against its
	# published version (the remote's main) and only its new line is read (SPEC 9: the
	# published bytes are compared, not parsed again); the tampering the remote already has
	# is not this push's doing: the full check (CI's hive-check) reports it
	git checkout -q -b more main
	hive-emit --session s1 monitoring_added --resource grafana --action create --platform K8s \
		--status success >/dev/null 2>&1
	git commit -q -am 'one more event'
	run git push origin more
	assert_success
	assert_output --partial 'hive-check: 1 session checked: 0 errors, 0 warnings'
	run hive-check --session s1
	assert_failure 1
	assert_output --partial 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:3: error: [chain]'
	# a new line that breaks the chain is this push's doing: refused
	git checkout -q -b worse main
	hive-emit --session s1 monitoring_added --resource grafana --action create --platform K8s \
		--status success >/dev/null 2>&1
	sed -i '$s/"prev":"sha256:[0-9a-f]*"/"prev":"sha256:'"$(printf '0%.0s' {1..64})"'"/' "$(events_of s1)"
	git commit -q -am 'a forged line'
	run git push origin worse
	assert_failure
	assert_output --regexp "Docs/hive-mind/sessions/s1/EVENTS.jsonl:$(wc -l <"$(events_of s1)"): error: \\[chain\\] prev does not match"
	assert_equal "$(remote_sha worse)" ''
}

@test "pre-push: deleting a branch checks nothing and succeeds" {
	setup_push
	git checkout -q -b old
	sed -i '2s/"step":"1"/"step":"X"/' "$(events_of s1)"
	git commit -q -am 'tamper'
	git push -q --no-verify origin old
	[[ -n "$(remote_sha old)" ]]
	: >"$HOOK_LOG"
	run git push origin :old
	assert_success
	assert_output --partial 'hive-check: 0 sessions checked: 0 errors, 0 warnings'
	assert_equal "$(remote_sha old)" ''
	grep -q "^(delete) $(zeros 40) refs/heads/old " "$HOOK_LOG"
}

@test "pre-push: an annotated tag is checked as the commit it points at" {
	setup_push
	git tag -a v1 -m 'release 1'
	run git push origin v1
	assert_success
	[[ -n "$(git ls-remote "$REMOTE" refs/tags/v1)" ]]

	sed -i '2s/"step":"1"/"step":"X"/' "$(events_of s1)"
	git commit -q -am 'tamper'
	git tag -a v2 -m 'release 2'
	run git push origin v2
	assert_failure
	assert_output --partial 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:3: error: [chain]'
	assert_equal "$(git ls-remote "$REMOTE" refs/tags/v2)" ''
	# a lightweight tag of the same commit, too
	git tag v3
	run git push origin v3
	assert_failure
	assert_equal "$(git ls-remote "$REMOTE" refs/tags/v3)" ''
}

@test "pre-push on stdin: all-zero ids of 40 and 64 hex digits mean none" {
	setup_push
	local good tampered
	good="$(git rev-parse main)"
	sed -i '2s/"step":"1"/"step":"X"/' "$(events_of s1)"
	git commit -q -am 'tamper'
	tampered="$(git rev-parse main)"

	# a deleted ref (local id all zeros, 40 or 64 digits): nothing to check
	run --separate-stderr hive-check --pre-push <<<"(delete) $(zeros 40) refs/heads/main $good"
	assert_success
	assert_stderr --partial '0 sessions checked'
	run --separate-stderr hive-check --pre-push <<<"(delete) $(zeros 64) refs/heads/main $good"
	assert_success
	assert_stderr --partial '0 sessions checked'

	# a new branch (remote id all zeros, 40 or 64 digits): the commits not on the remote
	# are checked, and the tampered one is refused
	run --separate-stderr hive-check --pre-push <<<"refs/heads/x $tampered refs/heads/x $(zeros 40)"
	assert_failure 1
	assert_output --partial 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:3: error: [chain]'
	run --separate-stderr hive-check --pre-push <<<"refs/heads/x $tampered refs/heads/x $(zeros 64)"
	assert_failure 1
	assert_output --partial 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:3: error: [chain]'

	# an update from the remote's tip
	run --separate-stderr hive-check --pre-push <<<"refs/heads/main $tampered refs/heads/main $good"
	assert_failure 1
	run --separate-stderr hive-check --pre-push <<<"refs/heads/main $good refs/heads/main $good"
	assert_success
	# nothing on stdin fails closed (SPEC 9): every commit not on the remote-tracking refs is
	# checked, and main holds the tampered commit that was never pushed
	run --separate-stderr hive-check --pre-push </dev/null
	assert_failure 1
	assert_output --partial 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:3: error: [chain]'
	# once nothing is left unpushed, an empty stdin checks nothing and passes
	git reset -q --hard "$good"
	run --separate-stderr hive-check --pre-push </dev/null
	assert_success
	assert_stderr --partial '0 sessions checked'
}

@test "pre-push on stdin: a malformed line is exit 2" {
	setup_push
	local good
	good="$(git rev-parse main)"
	run_refused 2 'hive-check: error: stdin:1: expected <local ref> <local sha> <remote ref> <remote sha>' \
		hive-check --pre-push <<<'garbage'
	run_refused 2 'hive-check: error: stdin:1: ' \
		hive-check --pre-push <<<"refs/heads/main $good refs/heads/main"
	run_refused 2 'hive-check: error: stdin:2: not an object id of 40 or 64 hex digits' \
		hive-check --pre-push <<<"refs/heads/main $good refs/heads/main $good
refs/heads/main ${good:0:39} refs/heads/main $good"
	run_refused 2 'hive-check: error: stdin:1: not an object id of 40 or 64 hex digits' \
		hive-check --pre-push <<<"refs/heads/main $good refs/heads/main $(zeros 63)"
	run_refused 2 'hive-check: error: --pre-push takes its sessions from the push' \
		hive-check --pre-push origin "$REMOTE" extra </dev/null
	# a well-formed id of an object the repository does not have: not a pass
	run_refused 3 "hive-check: error: stdin:1: $(zeros 39)1: no such object" \
		hive-check --pre-push <<<"refs/heads/main $(zeros 39)1 refs/heads/main $good"
}

# --- --repair --------------------------------------------------------------------------

@test "repair: a cut-off log: the tail moves to EVENTS.jsonl.torn, the log is cut to its last whole line, STATE.json rebuilt" {
	new_session s1 2
	local d f tail
	d="$(session_dir s1)"
	f="$d/EVENTS.jsonl"
	cp "$d/STATE.json" "$BATS_TEST_TMPDIR/state3"
	hive-emit --session s1 monitoring_added --resource grafana --action create --platform K8s \
		--status success >/dev/null 2>&1
	cp "$d/STATE.json" "$BATS_TEST_TMPDIR/state4"
	cp "$f" "$BATS_TEST_TMPDIR/log4"
	hive-emit --session s1 monitoring_added --resource loki --action create --platform K8s \
		--status success >/dev/null 2>&1
	# a two-line write cut off in the middle of its second line, STATE.json not yet written
	tail="$(sed -n 5p "$f" | head -c 57)"
	{ cat "$BATS_TEST_TMPDIR/log4"; printf '%s' "$tail"; } >"$f"
	cp "$BATS_TEST_TMPDIR/state3" "$d/STATE.json"
	run --separate-stderr hive-check --session s1
	assert_failure 1
	assert_line 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:5: error: [json] the file does not end with a newline: the last line is cut off (hive-check --repair moves it aside)'

	run --separate-stderr hive-check --session s1 --repair
	assert_success
	assert_output ''
	assert_stderr --partial 'hive-check: s1: moved a cut-off last line (57 bytes) to EVENTS.jsonl.torn'
	assert_stderr --partial 'hive-check: s1: rebuilt STATE.json from the log'
	assert_stderr --partial '1 session checked: 0 errors, 0 warnings'
	# the log is exactly its whole lines, the tail exactly what was cut off (one line of
	# EVENTS.jsonl.torn: every repair adds its tail as a line of its own)
	cmp "$f" "$BATS_TEST_TMPDIR/log4"
	cmp "$d/EVENTS.jsonl.torn" <(printf '%s\n' "$tail")
	# STATE.json is the view hive-emit had written for those four lines
	assert_jq '.events.count == 4 and .events.last_seq == 4 and .status == "active"' "$(cat "$d/STATE.json")"
	assert_jq '.events.last_hash == $h' "$(cat "$d/STATE.json")" --arg h "$(line_hash "$(tail -n 1 "$f")")"
	assert_equal "$(jq -S . "$d/STATE.json")" "$(jq -S . "$BATS_TEST_TMPDIR/state4")"

	run --separate-stderr hive-check --session s1
	assert_clean
	# and the session takes events again
	run hive-emit --session s1 monitoring_added --resource loki --action create --platform K8s \
		--status success
	assert_success
	run --separate-stderr hive-check --session s1
	assert_clean
}

@test "repair: a second cut-off tail is added to EVENTS.jsonl.torn after the first" {
	new_session s1 1
	local d f
	d="$(session_dir s1)"
	f="$d/EVENTS.jsonl"
	printf '{"seq":3,"timest' >>"$f"
	run --separate-stderr hive-check --session s1 --repair
	assert_success
	hive-emit --session s1 monitoring_added --resource grafana --action create --platform K8s \
		--status success >/dev/null 2>&1
	printf '{"seq":4,"ti' >>"$f"
	run --separate-stderr hive-check --session s1 --repair
	assert_success
	cmp "$d/EVENTS.jsonl.torn" <(printf '{"seq":3,"timest\n{"seq":4,"ti\n')
	assert_equal "$(wc -l <"$f")" 3
}

@test "repair: a whole last line without its newline was never reported written: it goes aside too" {
	new_session s1
	local d f last
	d="$(session_dir s1)"
	f="$d/EVENTS.jsonl"
	cp "$f" "$BATS_TEST_TMPDIR/log4"
	last="$(tail -n 1 "$f")"
	truncate -s -1 "$f"
	run --separate-stderr hive-check --session s1 --repair
	assert_success
	assert_output ''
	assert_stderr --partial "hive-check: s1: moved a cut-off last line (${#last} bytes) to EVENTS.jsonl.torn"
	assert_stderr --partial 'hive-check: s1: rebuilt STATE.json from the log'
	cmp "$f" <(head -n 3 "$BATS_TEST_TMPDIR/log4")
	cmp "$d/EVENTS.jsonl.torn" <(printf '%s\n' "$last")
	assert_jq '.events.count == 3 and .events.last_seq == 3 and .events.last_hash == $h' \
		"$(cat "$d/STATE.json")" --arg h "$(line_hash "$(sed -n 3p "$f")")"
	run --separate-stderr hive-check --session s1
	assert_clean
}

@test "repair: a log that is fine is left byte-for-byte unchanged, and so is STATE.json" {
	new_session s1
	local d
	d="$(session_dir s1)"
	snapshot "$d"
	run --separate-stderr hive-check --session s1 --repair
	assert_clean
	refute_stderr_partial 'moved'
	refute_stderr_partial 'rebuilt'
	assert_unchanged "$d"
	[[ ! -e "$d/EVENTS.jsonl.torn" ]]

	# a damaged log that is not cut off is not "repaired" either: it is reported
	sed -i '2s/"step":"1"/"step":"X"/' "$d/EVENTS.jsonl"
	snapshot "$d"
	run --separate-stderr hive-check --session s1 --repair
	assert_failure 1
	assert_output --partial 'EVENTS.jsonl:3: error: [chain]'
	assert_unchanged "$d"
}

@test "repair: a STATE.json that lags behind the log (restored from an older copy) is rebuilt" {
	new_session s1 1
	local d
	d="$(session_dir s1)"
	cp "$d/STATE.json" "$BATS_TEST_TMPDIR/old"
	hive-emit --session s1 monitoring_added --resource grafana --action create --platform K8s \
		--status success >/dev/null 2>&1
	hive-emit --session s1 deployment_configured --resource api --action update --platform K8s \
		--status failure >/dev/null 2>&1
	cp "$d/STATE.json" "$BATS_TEST_TMPDIR/current"
	cp "$d/EVENTS.jsonl" "$BATS_TEST_TMPDIR/log"
	cp "$BATS_TEST_TMPDIR/old" "$d/STATE.json"
	run --separate-stderr hive-check --session s1
	assert_failure 1
	assert_line 'Docs/hive-mind/sessions/s1/STATE.json:1: error: [state] events.last_seq is 2, the log'"'"'s last seq is 4'

	run --separate-stderr hive-check --session s1 --repair
	assert_clean
	assert_stderr --partial 'hive-check: s1: rebuilt STATE.json from the log'
	refute_stderr_partial 'moved'
	cmp "$d/EVENTS.jsonl" "$BATS_TEST_TMPDIR/log"
	assert_equal "$(jq -S . "$d/STATE.json")" "$(jq -S . "$BATS_TEST_TMPDIR/current")"
	[[ ! -e "$d/EVENTS.jsonl.torn" ]]

	# a missing STATE.json too
	rm "$d/STATE.json"
	run --separate-stderr hive-check --session s1 --repair
	assert_clean
	assert_equal "$(jq -S . "$d/STATE.json")" "$(jq -S . "$BATS_TEST_TMPDIR/current")"
}

# --- streaming -------------------------------------------------------------------------

# peak_rss CMD…: run CMD (status and output as `run --separate-stderr` leaves them) and set
# $rss to its peak resident set size in KiB, measured by /usr/bin/time.
peak_rss() {
	run --separate-stderr /usr/bin/time -f 'rss=%M' -o "$BATS_TEST_TMPDIR/rss" "$@"
	rss="$(sed -n 's/^rss=//p' "$BATS_TEST_TMPDIR/rss")"
	[[ "$rss" =~ ^[0-9]+$ ]] || fail "no peak RSS measured: $(cat "$BATS_TEST_TMPDIR/rss")"
}

# gen_events FILE N: append N chained metric_recorded events (~350 bytes each) to FILE, whose
# last line is session_started; prints "<last seq> <last hash>".
gen_events() {
	python3 - "$1" "$2" <<-'EOF'
		import hashlib, json, sys
		path, n = sys.argv[1], int(sys.argv[2])
		last = open(path, 'rb').read().split(b'\n')[-2]
		first = json.loads(last)
		seq, prev = first['seq'], hashlib.sha256(last).hexdigest()
		tmpl = ('{"seq":%d,"timestamp":"' + first['timestamp'] + '","event_type":"metric_recorded",'
		        '"worker":"devops-worker","session_id":"' + first['session_id'] + '",'
		        '"details":{"resource":"api-%d","action":"update","platform":"K8s",'
		        '"configuration":{"name":"cpu","value":%d,"unit":"percent"},"status":"success"},'
		        '"git":null,"ci":null,"prev":"sha256:%s"}')
		with open(path, 'ab') as out:
		    for i in range(n):
		        seq += 1
		        line = (tmpl % (seq, i % 1000, i % 100, prev)).encode()
		        prev = hashlib.sha256(line).hexdigest()
		        out.write(line + b'\n')
		print(seq, 'sha256:' + prev)
	EOF
}

@test "streaming: a log of 200,000 events is checked in under 10 MiB of memory, which does not grow with the log" {
	[[ -x /usr/bin/time ]] ||
		fail "/usr/bin/time is missing: the peak RSS of hive-check cannot be measured"
	local id d f out n small_rss sanitized=0
	# An ASan build (make sanitize) keeps freed memory in quarantine and maps shadow memory:
	# its absolute RSS says nothing about hive. There the quarantine is turned off and only
	# the growth is held to a bound; the plain build (make check) gets both assertions.
	if grep -qa __asan_init "$BUILD_DIR/hive-check"; then
		sanitized=1
		export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0:thread_local_quarantine_size_kb=0"
	fi
	for id in small big; do
		n=$([[ $id == big ]] && echo 199999 || echo 1999)
		new_session "$id" 0
		d="$(session_dir "$id")"
		f="$d/EVENTS.jsonl"
		out="$(gen_events "$f" "$n")" || fail "gen_events failed"
		assert_equal "$(wc -l <"$f")" $((n + 1))
		jq -c --argjson n $((n + 1)) --arg h "${out#* }" \
			'.events.count = $n | .events.last_seq = $n | .events.last_hash = $h' \
			"$d/STATE.json" >"$d/x" && mv "$d/x" "$d/STATE.json"
		peak_rss hive-check --session "$id"
		assert_clean
		[[ $id == small ]] && small_rss=$rss
	done
	((rss < small_rss + 2048)) ||
		fail "peak RSS grew from $small_rss KiB (2,000 events) to $rss KiB (200,000 events)"
	((sanitized || rss < 10240)) ||
		fail "peak RSS $rss KiB for a 200,000-event log: over 10 MiB"

	# one tampered line deep in the log is still found, with its line number
	sed -i '150000s/"resource":"api-/"resource":"apx-/' "$f"
	grep -q '"resource":"apx-' "$f"
	peak_rss hive-check --session big --format json
	assert_failure 1
	assert_jq '.rule == "chain" and .line == 150001' "$output"
	((sanitized || rss < 10240)) ||
		fail "peak RSS $rss KiB for a 200,000-event log: over 10 MiB"
}

@test "policy.require_completed: a session started longer ago than allowed and not completed" {
	printf 'policy:\n  require_completed: 60\n' >.hive.yml
	new_session s1 1
	run --separate-stderr hive-check --session s1
	assert_clean
	local d f
	d="$(session_dir s1)"
	f="$d/EVENTS.jsonl"
	set_timestamp "$f" 1 '2025-01-15T10:00:00.000Z'
	set_timestamp "$f" 2 '2025-01-15T10:03:00.000Z'
	rechain "$f"
	sync_state "$d"
	run --separate-stderr hive-check --session s1
	assert_failure 1
	assert_output --regexp '^Docs/hive-mind/sessions/s1/EVENTS\.jsonl:1: error: \[policy\.require_completed\] the session started [0-9]+ minutes ago and is not completed: finish it with hive-runbook --finish \(or --status failure\) \(policy: require_completed: 60\)$'
	# finished, it is fine
	complete_session s1
	run --separate-stderr hive-check --session s1
	assert_clean
}
