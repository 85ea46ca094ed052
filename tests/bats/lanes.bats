#!/usr/bin/env bats
# lanes.bats - one session, several writers (SPEC 11): each writes its own lane,
# lanes/<lane>.jsonl, with its own chain from lane_started (the main log's head it forked from);
# session_joined in EVENTS.jsonl records each lane's count and last hash; --finish joins every
# lane; the gate verifies lanes and joins; reports fold all lanes. Two clones standing in for two
# runners write two lanes and git merge them without a conflict.

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
	new_session s1 2
	DIR="$(session_dir s1)"
}

# rechain_lane FILE: every prev of a lane's log recomputed, as a forger would.
rechain_lane() {
	local prev=null line out="$1.new"
	: >"$out"
	while IFS= read -r line; do
		line="$(jq -c --argjson p "$prev" '.prev = $p' <<<"$line")"
		printf '%s\n' "$line" >>"$out"
		prev="\"$(line_hash "$line")\""
	done <"$1"
	mv "$out" "$1"
}

# deploy LANE ENV STATUS: a deployment_configured in LANE.
deploy() {
	hive-emit -q --session s1 --lane "$1" deployment_configured --resource web --action update \
		--platform K8s --status "$3" environment="$2" version=2 >/dev/null ||
		fail "hive-emit --lane $1 failed"
}

@test "lanes: --lane writes lanes/NAME.jsonl, line 1 lane_started at the main log's head; STATE.json untouched" {
	local state
	state="$(cat "$DIR/STATE.json")"
	run hive-emit --session s1 --lane eu pipeline_updated --resource ci --action update \
		--platform Docker --status success
	assert_success
	assert_line --index 0 --partial '"event_type":"lane_started"'
	assert_line --index 1 --partial '"lane":"eu"'
	run jq -c '[.seq, .event_type, .lane, .details.main.seq, (.prev == null)]' "$DIR/lanes/eu.jsonl"
	assert_output "$(printf '%s\n' '[1,"lane_started","eu",3,true]' '[2,"pipeline_updated","eu",null,false]')"
	assert_equal "$(head -n 1 "$DIR/lanes/eu.jsonl" | jq -r .details.main.hash)" \
		"$(line_hash "$(tail -n 1 "$(events_of s1)")")"
	assert_equal "$(cat "$DIR/STATE.json")" "$state"
	assert_equal "$(wc -l <"$(events_of s1)")" 3
	# HIVE_LANE does the same; the lane's chain goes on
	HIVE_LANE=eu run hive-emit -q --session s1 monitoring_added --resource grafana \
		--action create --platform K8s --status success
	assert_success
	run jq -c '[.seq, .lane]' "$DIR/lanes/eu.jsonl"
	assert_line --index 2 '[3,"eu"]'
	run hive-check --session s1
	assert_success
	assert_output 'hive-check: 1 session checked: 0 errors, 0 warnings'
}

@test "lanes: two runners write two lanes, git merge takes both without a conflict, --finish joins them" {
	git add -A && git commit -q -m 'session s1'
	git clone -q "$REPO" "$BATS_TEST_TMPDIR/eu"
	git clone -q "$REPO" "$BATS_TEST_TMPDIR/us"
	(cd "$BATS_TEST_TMPDIR/eu" && deploy eu eu success && git add -A && git commit -q -m eu)
	(cd "$BATS_TEST_TMPDIR/us" && deploy us us failure && git add -A && git commit -q -m us)
	git pull -q --no-edit "$BATS_TEST_TMPDIR/eu" main
	run git pull -q --no-rebase --no-edit "$BATS_TEST_TMPDIR/us" main
	assert_success
	run git status --porcelain
	assert_output ''
	run hive-check --session s1
	assert_success
	run hive-runbook --finish --status failure --session s1 --format json
	assert_success
	assert_jq '.metrics.deployments | [.count, .success, .failure] == [2, 1, 1]' "$output"
	run jq -c '[.event_type, .details.lanes]' "$(events_of s1)"
	assert_line --index 3 --regexp '^\["session_joined",\{"eu":\{"lines":2,"hash":"sha256:[0-9a-f]{64}"\},"us":\{"lines":2,"hash":"sha256:[0-9a-f]{64}"\}\}\]$'
	assert_line --index 4 --partial '["session_completed"'
	# the runbook has both regions' deployments, from both lanes
	run grep -c '^## DEPLOYMENT SUMMARY\|^# DEPLOYMENT SUMMARY\|^### DEPLOYMENT SUMMARY' "$DIR/RUNBOOK.md"
	assert_output 2
	run hive-check --session s1
	assert_success
	assert_output 'hive-check: 1 session checked: 0 errors, 0 warnings'
}

@test "lanes: --join records every lane's new lines once; a lane goes on after a join and is joined again" {
	deploy eu eu success
	run hive-emit --session s1 --join
	assert_success
	assert_output --partial '"event_type":"session_joined"'
	assert_output --partial '"eu":{"lines":2,'
	run hive-emit --session s1 --join
	assert_success
	assert_output 'hive-emit: session s1: no lane has lines to join'
	assert_equal "$(wc -l <"$(events_of s1)")" 4
	deploy eu eu success
	run hive-emit -q --session s1 --join
	assert_output --partial '"eu":{"lines":3,'
	run hive-check --session s1
	assert_success
}

@test "lanes: an edited lane line, a forged fork point and a join that no longer matches are errors" {
	deploy eu eu success
	deploy eu eu success
	hive-emit -q --session s1 --join >/dev/null
	cp "$DIR/lanes/eu.jsonl" "$BATS_TEST_TMPDIR/eu.jsonl"
	sed -i '2s/"version":"2"/"version":"9"/' "$DIR/lanes/eu.jsonl"
	run hive-check --session s1
	assert_failure 1
	assert_output --partial 'Docs/hive-mind/sessions/s1/lanes/eu.jsonl:3: error: [chain] prev does not match the SHA-256 of the line before'
	# the lane rewritten with every hash recomputed: its join in EVENTS.jsonl tells
	rechain_lane "$DIR/lanes/eu.jsonl"
	run hive-check --session s1
	assert_failure 1
	assert_output --partial 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:4: error: [chain] session_joined names sha256:'
	assert_output --partial 'as the hash of line 3 of lane eu'
	# a lane that says it forked from a line the main log does not have as it is
	cp "$BATS_TEST_TMPDIR/eu.jsonl" "$DIR/lanes/eu.jsonl"
	sed -i "1s/\"hash\":\"sha256:[0-9a-f]*\"/\"hash\":\"sha256:$(printf '0%.0s' {1..64})\"/" "$DIR/lanes/eu.jsonl"
	run hive-check --session s1
	assert_failure 1
	assert_output --partial 'lanes/eu.jsonl:1: error: [chain] lane_started names line 3 of EVENTS.jsonl with hash'
}

@test "lanes: lines left after session_completed, and a line in a lane of another name, are errors" {
	deploy eu eu success
	hive-runbook -q --finish --session s1 >/dev/null
	run hive-check --session s1
	assert_success
	# a line added to the lane after the completion (chain kept)
	append_event "$DIR/lanes/eu.jsonl" "$(make_event pipeline_updated s1 2030-01-01T00:00:00.000Z \
		'{"resource":"ci","action":"update","platform":"Docker","status":"success","configuration":{}}' |
		jq -c '. + {lane: "eu"}')"
	run hive-check --session s1
	assert_failure 1
	assert_output --partial 'lanes/eu.jsonl:3: error: [protocol] 1 line of the lane was not joined before session_completed'
	# and a lane write into the completed session is refused
	snapshot "$DIR"
	run hive-emit --session s1 --lane us pipeline_updated --resource ci --action update \
		--platform Docker --status success
	assert_failure 2
	assert_output --partial 'session s1 is completed'
	assert_unchanged "$DIR"
}

@test "lanes: a lane named main or not by the id rule, and --join with an event, are refused; nothing written" {
	snapshot "$DIR"
	run hive-emit --session s1 --lane main pipeline_updated --resource ci --action update \
		--platform Docker --status success
	assert_failure 2
	assert_output --partial 'main is EVENTS.jsonl itself'
	run hive-emit --session s1 --lane ../x pipeline_updated --resource ci --action update \
		--platform Docker --status success
	assert_failure 2
	run hive-emit --session s1 --join pipeline_updated
	assert_failure 2
	assert_output --partial '--join writes session_joined to EVENTS.jsonl'
	assert_unchanged "$DIR"
}

@test "lanes: a policy holds a lane's event at write time, nothing written" {
	printf 'policy:\n  require_tags: [team]\n' >.hive.yml
	snapshot "$DIR"
	run hive-emit --session s1 --lane eu pipeline_updated --resource ci --action update \
		--platform Docker --status success
	assert_failure 1
	assert_output --partial 'require_tags'
	assert_unchanged "$DIR"
	run hive-emit -q --session s1 --lane eu pipeline_updated --resource ci --action update \
		--platform Docker --status success tags.team=infra
	assert_success
}

@test "lanes: a lane is pushed through the pre-push hook; a published lane cut short is refused" {
	local remote="$BATS_TEST_TMPDIR/remote.git" pushed
	git init -q --bare "$remote"
	git remote add origin "$remote"
	hive-init -q --install-hooks >/dev/null 2>&1
	deploy eu eu success
	deploy eu eu success
	git add -A && git commit -q -m 'a lane'
	run git push origin main
	assert_success
	assert_output --partial 'hive-check: 1 session checked: 0 errors, 0 warnings'
	pushed="$(git rev-parse main)"
	head -n 2 "$DIR/lanes/eu.jsonl" >"$DIR/lanes/eu.new" && mv "$DIR/lanes/eu.new" "$DIR/lanes/eu.jsonl"
	git commit -q -am 'cut the lane'
	run git push origin main
	assert_failure
	assert_output --partial 'Docs/hive-mind/sessions/s1/lanes/eu.jsonl:3: error: [history] line 3 is missing'
	assert_equal "$(git ls-remote "$remote" refs/heads/main | cut -f1)" "$pushed"
}

@test "lanes: two runners publish their lanes of one session onto the sessions ref; both land and check clean" {
	local remote="$BATS_TEST_TMPDIR/remote.git" r
	git init -q --bare "$remote"
	git remote add origin "$remote"
	git add -A && git commit -q -m 'session s1'
	git push -q origin main
	for r in eu us; do
		git clone -q "$remote" "$BATS_TEST_TMPDIR/$r"
		(cd "$BATS_TEST_TMPDIR/$r" && deploy "$r" "$r" success &&
			"$SRC_TOP/hooks/hive-push-sessions" --session s1 2>/dev/null) ||
			fail "runner $r could not publish"
	done
	git fetch -q origin '+refs/hive/sessions:refs/hive/sessions'
	run git ls-tree --name-only refs/hive/sessions:Docs/hive-mind/sessions/s1/lanes
	assert_output "$(printf '%s\n' eu.jsonl us.jsonl)"
	run hive-check --ref refs/hive/sessions --session s1
	assert_success
	assert_output --partial '0 errors'
}
