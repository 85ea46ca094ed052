#!/usr/bin/env bats
# segments.bats - a long log in segments (SPEC 9, cost follows the push): EVENTS.jsonl continues in
# EVENTS-000002.jsonl, ... once an append would take the active one past HIVE_SEGMENT_BYTES. One
# chain across the files; the gate names each file and its own line numbers, refuses gaps and
# empty segments; a push that only adds lines is checked from the last published line on, and a
# push that edits a sealed segment is refused by rule history, through a real pre-push hook.

load test_helper
load session_helpers

setup() {
	hive_setup
	require_tool hive-emit
	require_tool hive-check
	require_tool hive-runbook
	REPO="$BATS_TEST_TMPDIR/repo"
	make_repo "$REPO"
	cd "$REPO" || return 1
	export HIVE_SEGMENT_BYTES=4096
	new_session s1 30
	DIR="$(session_dir s1)"
}

# emit_n ID N: N more pipeline_updated events.
emit_n() {
	local i
	for ((i = 1; i <= $2; i++)); do
		hive-emit -q --session "$1" pipeline_updated --resource "more-$i" --action update \
			--platform Docker --status success >/dev/null || fail "hive-emit failed"
	done
}

@test "segments: an append that would pass HIVE_SEGMENT_BYTES starts the next file; one chain runs through them" {
	run ls "$DIR"
	assert_output "$(printf '%s\n' EVENTS-000002.jsonl EVENTS-000003.jsonl EVENTS-000004.jsonl EVENTS.jsonl STATE.json)"
	local f n=0
	for f in "$DIR"/EVENTS*.jsonl; do
		[ "$(wc -c <"$f")" -le 4096 ] || fail "$f is over 4096 bytes"
		n=$((n + $(wc -l <"$f")))
	done
	[ "$n" -eq 31 ]
	# the first line of a segment chains to the last line of the one before
	assert_equal "$(head -n 1 "$DIR/EVENTS-000002.jsonl" | jq -r .prev)" \
		"$(line_hash "$(tail -n 1 "$DIR/EVENTS.jsonl")")"
	assert_equal "$(head -n 1 "$DIR/EVENTS-000002.jsonl" | jq .seq)" \
		"$(($(tail -n 1 "$DIR/EVENTS.jsonl" | jq .seq) + 1))"
	run jq -c '.events | [.count, .last_seq]' "$DIR/STATE.json"
	assert_output '[31,31]'
	run hive-check --session s1
	assert_success
	assert_output 'hive-check: 1 session checked: 0 errors, 0 warnings'
	run hive-runbook --session s1 --format json
	assert_success
	assert_jq '.metrics.events.total == 31' "$output"
}

@test "segments: a finding names the segment's file and its own line number" {
	sed -i '3s/"ci-/"cx-/' "$DIR/EVENTS-000003.jsonl"
	run hive-check --session s1
	assert_failure 1
	assert_output --partial 'Docs/hive-mind/sessions/s1/EVENTS-000003.jsonl:4: error: [chain] prev does not match'
}

@test "segments: a missing segment (a gap in the numbering) and an empty one are errors" {
	mv "$DIR/EVENTS-000003.jsonl" "$BATS_TEST_TMPDIR/"
	run hive-check --session s1
	assert_failure 1
	assert_output --partial 'Docs/hive-mind/sessions/s1: error: [protocol] EVENTS-000004.jsonl is a segment after a gap in the numbering'
	mv "$BATS_TEST_TMPDIR/EVENTS-000003.jsonl" "$DIR/"
	: >"$DIR/EVENTS-000005.jsonl"
	run hive-check --session s1
	assert_failure 1
	assert_output --partial 'Docs/hive-mind/sessions/s1/EVENTS-000005.jsonl: error: [protocol] the segment is empty'
}

@test "segments: a segment that is a symbolic link is refused, nothing read through it" {
	mv "$DIR/EVENTS-000004.jsonl" "$BATS_TEST_TMPDIR/seg4"
	ln -s "$BATS_TEST_TMPDIR/seg4" "$DIR/EVENTS-000004.jsonl"
	snapshot "$DIR"
	run hive-emit --session s1 pipeline_updated --resource x --action update --platform Docker --status success
	assert_failure 3
	assert_output --partial 'EVENTS-000004.jsonl: is a symbolic link (refused)'
	assert_unchanged "$DIR"
}

@test "segments: --finish writes a CHECKPOINT naming every segment, and the completed session checks clean" {
	run hive-runbook -q --finish --session s1
	assert_success
	local last
	last="$(ls "$DIR"/EVENTS-*.jsonl | tail -n 1)"
	run grep -c '^log EVENTS' "$DIR/CHECKPOINT"
	assert_output "$(ls "$DIR"/EVENTS*.jsonl | wc -l)"
	assert_equal "$(sed -n "s/^log $(basename "$last") \([0-9]*\) .*/\1/p" "$DIR/CHECKPOINT")" \
		"$(wc -l <"$last")"
	run hive-check --session s1
	assert_success
	# a sealed segment edited afterwards: the checkpoint no longer agrees
	sed -i '2s/"ci-/"cz-/' "$DIR/EVENTS-000002.jsonl"
	run hive-check --session s1
	assert_failure 1
	assert_output --partial 'EVENTS-000002.jsonl'
}

@test "segments: HIVE_SEGMENT_BYTES out of range means the 2 MiB default" {
	local id
	for id in a b; do
		HIVE_SEGMENT_BYTES=$([ "$id" = a ] && echo 100 || echo lots) new_session "$id" 30
		run ls "$(session_dir "$id")"
		assert_output "$(printf '%s\n' EVENTS.jsonl STATE.json)"
	done
}

# --- pushes ------------------------------------------------------------------------------------

push_setup() {
	REMOTE="$BATS_TEST_TMPDIR/remote.git"
	git init -q --bare "$REMOTE"
	git remote add origin "$REMOTE"
	hive-init -q --install-hooks >/dev/null 2>&1 || fail "hive-init --install-hooks failed"
	git add -A Docs && git commit -q -m 'a segmented session'
	run git push -q origin main
	assert_success
	PUBLISHED="$(git rev-parse main)"
}

@test "pre-push: events appended to a segmented session (into the active segment and new ones) go through" {
	push_setup
	emit_n s1 12
	git add -A && git commit -q -m 'more, into new segments'
	[ -e "$DIR/EVENTS-000005.jsonl" ] || fail "no new segment was made"
	run git push origin main
	assert_success
	assert_output --partial 'hive-check: 1 session checked: 0 errors, 0 warnings'
}

@test "pre-push: a forged line appended to the active segment is refused, named by its own file and line" {
	push_setup
	local f="$DIR/EVENTS-000004.jsonl" n
	emit_n s1 1
	n=$(wc -l <"$f")
	# a line whose prev is not the hash of the line before
	tail -n 1 "$f" | jq -c '.seq += 1 | .prev = "sha256:\("0" * 64)"' >>"$f"
	git add -A && git commit -q -m forged
	run git push origin main
	assert_failure
	assert_output --partial "Docs/hive-mind/sessions/s1/EVENTS-000004.jsonl:$((n + 1)): error: [chain] prev does not match"
	assert_equal "$(git ls-remote "$REMOTE" refs/heads/main | cut -f1)" "$PUBLISHED"
}

@test "pre-push: a secret in a new segment is refused" {
	push_setup
	emit_n s1 10
	local last
	last="$(ls "$DIR"/EVENTS-*.jsonl | tail -n 1)"
	hive-emit -q --session s1 pipeline_updated --resource "token" --action update --platform Docker \
		--status success >/dev/null
	# written past hive-emit's redaction, chain and view kept in step
	sed -i '$s/"resource":"token"/"resource":"ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"/' "$last"
	rechain_all
	git add -A && git commit -q -m secret
	run git push origin main
	assert_failure
	assert_output --partial "$(basename "$last"):$(wc -l <"$last"): error: [secrets]"
}

# rechain_all: the chain recomputed across every segment of s1, STATE.json kept in step.
rechain_all() {
	local f prev=null line out
	for f in "$DIR/EVENTS.jsonl" $(ls "$DIR"/EVENTS-*.jsonl 2>/dev/null); do
		out="$f.new"
		: >"$out"
		while IFS= read -r line; do
			line="$(jq -c --argjson p "$prev" '.prev = $p' <<<"$line")"
			printf '%s\n' "$line" >>"$out"
			prev="\"$(line_hash "$line")\""
		done <"$f"
		mv "$out" "$f"
	done
	hive-check -q --repair --session s1 >/dev/null || true # STATE.json rebuilt from the log
}

@test "pre-push: a sealed segment rewritten with every hash recomputed is refused by rule history" {
	push_setup
	sed -i '5s/"ci-4"/"ci-9"/' "$DIR/EVENTS.jsonl"
	rechain_all
	run hive-check --session s1
	assert_success # consistent with itself: only the published version can tell
	emit_n s1 1
	git add -A && git commit -q -m rewrite
	run git push origin main
	assert_failure
	assert_output --partial "Docs/hive-mind/sessions/s1/EVENTS.jsonl:5: error: [history] line 5 differs from the published version (${PUBLISHED:0:7})"
	assert_equal "$(git ls-remote "$REMOTE" refs/heads/main | cut -f1)" "$PUBLISHED"
}

@test "pre-push: a deleted segment is refused by rule history" {
	push_setup
	git rm -q "$DIR/EVENTS-000004.jsonl"
	git commit -q -m 'drop a segment'
	run git push origin main
	assert_failure
	assert_output --partial 'EVENTS-000004.jsonl: error: [history] published in'
}

@test "publish: every segment goes onto the sessions ref" {
	run hive-runbook -q --publish --session s1
	assert_success
	run git ls-tree --name-only refs/hive/sessions:Docs/hive-mind/sessions/s1
	assert_output "$(printf '%s\n' EVENTS-000002.jsonl EVENTS-000003.jsonl EVENTS-000004.jsonl EVENTS.jsonl STATE.json)"
}
