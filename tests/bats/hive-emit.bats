#!/usr/bin/env bats
# hive-emit.bats - hive-emit from the outside (bin/hive-emit.c): every input form, every
# rejection, redaction, STATE.json, the hash chain, concurrency, disk full, symlinks, the lock
# shellcheck disable=SC2016 # jq filters with $variables are single-quoted on purpose

load test_helper

setup() {
	hive_setup || return 1
	REPO="$BATS_TEST_TMPDIR/repo"
	OUT="$BATS_TEST_TMPDIR/stdout"
	ERR="$BATS_TEST_TMPDIR/stderr"
	make_repo "$REPO" || return 1
	cd "$REPO" || return 1
	hive-init -q --session s1 >/dev/null || return 1
	export HIVE_SESSION_ID=s1
	S1="$(session_dir s1)"
	EV="$S1/EVENTS.jsonl"
	ST="$S1/STATE.json"
}

teardown() {
	if [[ -n "${HOLDER_PID-}" ]]; then
		kill "$HOLDER_PID" 2>/dev/null || true
		wait "$HOLDER_PID" 2>/dev/null || true
	fi
	if [[ -n "${TMPFS-}" ]] && mountpoint -q "$TMPFS"; then
		cd / && umount "$TMPFS"
	fi
}

# --- helpers ------------------------------------------------------------------------

# emit ARGS…: run hive-emit with its stdout kept byte for byte in $OUT ($output holds it
# too) and its stderr in $stderr; sets $status. Standard input is passed through.
emit() {
	status=0
	hive-emit "$@" >"$OUT" 2>"$ERR" || status=$?
	output="$(cat "$OUT")"
	stderr="$(cat "$ERR")"
}

# emit_ok ARGS…: emit, and fail unless it exited 0.
emit_ok() {
	emit "$@"
	if ((status != 0)); then
		fail "$(printf 'hive-emit %s: exit %d\nstderr: %s' "$*" "$status" "$stderr")"
	fi
}

lines_of() {
	wc -l <"$1" | tr -d ' '
}

# assert_stdout_is_tail N [FILE]: stdout was exactly the last N lines of FILE, byte for byte.
assert_stdout_is_tail() {
	local n=$1 file=${2:-$EV}
	[[ "$(lines_of "$OUT")" == "$n" ]] ||
		fail "$(printf 'stdout has %s lines, expected %s:\n%s' "$(lines_of "$OUT")" "$n" "$output")"
	cmp -s "$OUT" <(tail -n "$n" "$file") ||
		fail "$(printf 'stdout is not the last %s lines of %s:\n--- stdout\n%s\n--- tail\n%s' \
			"$n" "$file" "$output" "$(tail -n "$n" "$file")")"
}

# assert_stderr_is TEXT: stderr is exactly TEXT.
assert_stderr_is() {
	[[ "$stderr" == "$1" ]] ||
		fail "$(printf 'stderr differs\nexpected: %s\nactual:   %s' "$1" "$stderr")"
}

# refused STATUS MESSAGE ARGS…: hive-emit ARGS… exits STATUS with exactly MESSAGE on
# stderr, prints nothing on stdout, and leaves every file of the repository as it was.
refused() {
	local want=$1 msg=$2
	shift 2
	snapshot "$REPO"
	emit "$@"
	[[ "$status" == "$want" ]] ||
		fail "$(printf 'hive-emit %s: exit %s, expected %s\nstderr: %s' "$*" "$status" "$want" "$stderr")"
	assert_stderr_is "$msg"
	[[ ! -s "$OUT" ]] || fail "$(printf 'stdout should be empty, got:\n%s' "$output")"
	assert_unchanged "$REPO"
}

# refused_like STATUS GLOB ARGS…: as refused, with stderr matched against a glob.
refused_like() {
	local want=$1 glob=$2
	shift 2
	snapshot "$REPO"
	emit "$@"
	[[ "$status" == "$want" ]] ||
		fail "$(printf 'hive-emit %s: exit %s, expected %s\nstderr: %s' "$*" "$status" "$want" "$stderr")"
	# shellcheck disable=SC2053
	[[ "$stderr" == $glob ]] ||
		fail "$(printf 'stderr does not match\npattern: %s\nactual:  %s' "$glob" "$stderr")"
	[[ "$stderr" != *$'\n'* ]] || fail "$(printf 'expected one line on stderr, got:\n%s' "$stderr")"
	[[ ! -s "$OUT" ]] || fail "$(printf 'stdout should be empty, got:\n%s' "$output")"
	assert_unchanged "$REPO"
}

sha_of_line() { # sha_of_line TEXT: "sha256:" and the SHA-256 of TEXT (no newline)
	printf 'sha256:%s' "$(printf '%s' "$1" | sha256sum | cut -d' ' -f1)"
}

# verify_chain FILE [N]: every line is a JSON object, the file ends with a newline, seq
# runs 1..N without a gap, line 1's prev is null and every later prev is "sha256:" and the
# SHA-256 of the previous line's bytes, computed here with sha256sum.
verify_chain() {
	local file=$1 want_n=${2-} n=0 line want_prev=null seqs prevs
	[[ -s "$file" ]] || fail "$file is empty"
	[[ "$(tail -c 1 "$file" | od -An -tx1 | tr -d ' ')" == 0a ]] || fail "$file does not end with a newline"
	jq -se 'all(type == "object")' "$file" >/dev/null 2>&1 || fail "$file: not every line is a JSON object"
	mapfile -t seqs < <(jq -r '.seq' "$file")
	mapfile -t prevs < <(jq -r '.prev // "null"' "$file")
	while IFS= read -r line; do
		[[ "${seqs[n]}" == "$((n + 1))" ]] || fail "$file:$((n + 1)): seq is ${seqs[n]}, expected $((n + 1))"
		[[ "${prevs[n]}" == "$want_prev" ]] ||
			fail "$file:$((n + 1)): prev is ${prevs[n]}, expected $want_prev (sha256 of line $n)"
		want_prev="$(sha_of_line "$line")"
		n=$((n + 1))
	done <"$file"
	[[ ${#seqs[@]} == "$n" ]] || fail "$file: jq saw ${#seqs[@]} events in $n lines"
	if [[ -n "$want_n" && "$n" != "$want_n" ]]; then
		fail "$file has $n lines, expected $want_n"
	fi
}

# assert_state_in_step [STATE] [EVENTS]: STATE.json's events block and updated_at agree
# with the log, computed here from the log itself.
assert_state_in_step() {
	local st=${1:-$ST} ev=${2:-$EV} n last want
	n="$(lines_of "$ev")"
	last="$(tail -n 1 "$ev")"
	want="$(jq -cs --arg hash "$(sha_of_line "$last")" '{
		count: length,
		last_seq: (last | .seq),
		last_hash: $hash,
		by_type: (group_by(.event_type) | map({(.[0].event_type): length}) | add),
		failures: map(select(.event_type != "session_completed" and .details.status == "failure")) | length
	}' "$ev")"
	jq -e --argjson want "$want" '.events == $want' "$st" >/dev/null ||
		fail "$(printf 'STATE.json events differ from the log\nexpected: %s\nactual:   %s' \
			"$want" "$(jq -c .events "$st")")"
	jq -e --arg ts "$(jq -r .timestamp <<<"$last")" '.updated_at == $ts' "$st" >/dev/null ||
		fail "STATE.json updated_at $(jq -c .updated_at "$st") is not the last event's timestamp"
	jq -e --argjson n "$n" '.events.count == $n' "$st" >/dev/null || fail "STATE.json count is not $n"
}

# complete_session: append a valid session_completed line to s1's log (seq and prev
# computed here), as hive-runbook --finish would.
complete_session() {
	local last seq
	last="$(tail -n 1 "$EV")"
	seq=$(($(jq .seq <<<"$last") + 1))
	jq -cn --argjson seq "$seq" --arg prev "$(sha_of_line "$last")" \
		--arg ts "$(date -u +%Y-%m-%dT%H:%M:%S.000Z)" \
		'{seq: $seq, timestamp: $ts, event_type: "session_completed", worker: "devops-worker",
		  session_id: "s1", details: {status: "success"}, git: null, ci: null, prev: $prev}' >>"$EV"
}

# A valid deployment event's flags.
DEPLOY=(deployment_configured --resource api --action update --platform K8s --status success)

# The secret texts are put together at run time so this file holds no secret shape.
X36="$(printf '%s' {a..z} {0..9})"

# assert_redacted RULE EXPECTED SECRET VALUE: a configuration value VALUE is written as
# EXPECTED (containing [REDACTED:RULE]), the note counts one value, and SECRET is nowhere
# under the repository or in stdout.
assert_redacted() {
	local rule=$1 expected=$2 secret=$3 value=$4
	emit_ok "${DEPLOY[@]}" "note=$value"
	assert_stdout_is_tail 1
	[[ "$expected" == *"[REDACTED:$rule]"* ]] || fail "bad test: $expected lacks [REDACTED:$rule]"
	jq -e --arg e "$expected" '.details.configuration.note == $e' <(tail -n 1 "$EV") >/dev/null ||
		fail "$(printf 'configuration.note is %s, expected %s' \
			"$(tail -n 1 "$EV" | jq -c .details.configuration.note)" "$expected")"
	assert_stderr_is "hive-emit: redacted 1 secret value before writing"
	assert_nowhere "$secret"
}

# assert_nowhere TEXT: TEXT is in no file under the repository (work tree, hive root and
# .git), nor in what hive-emit printed.
assert_nowhere() {
	local hits
	[[ -n "$1" ]] || fail "assert_nowhere: empty text"
	if hits="$(grep -rlF -- "$1" "$REPO" "$OUT")"; then
		fail "$(printf 'secret text %s found on disk in:\n%s' "$1" "$hits")"
	fi
}

# --- input forms ------------------------------------------------------------------------

@test "flags before the type, KEY=VALUE always a string, KEY:=JSON typed, stdout is the line written" {
	emit_ok --resource api --action update --platform K8s --status success deployment_configured \
		n=42 flag=true replicas:=3 ratio:=0.5 canary:=true dry:=false ports:='[80,443]' \
		limits:='{"cpu":"500m","mem":1024}' rollback:=null
	assert_stderr_empty
	assert_stdout_is_tail 1
	[[ "$(lines_of "$EV")" == 2 ]] || fail "expected 2 lines in the log"
	assert_jq '.seq == 2 and .event_type == "deployment_configured" and .worker == "devops-worker"
		and .session_id == "s1"' "$output"
	assert_jq '.details == {"resource":"api","action":"update","platform":"K8s",
		"configuration":{"n":"42","flag":"true","replicas":3,"ratio":0.5,"canary":true,"dry":false,
		"ports":[80,443],"limits":{"cpu":"500m","mem":1024},"rollback":null},"status":"success"}' "$output"
	# keys in SPEC 3's order, details in the seed's order
	assert_jq '(keys_unsorted == ["seq","timestamp","event_type","worker","session_id","details","git","ci","prev"])
		and (.details | keys_unsorted == ["resource","action","platform","configuration","status"])' "$output"
	assert_jq '.timestamp | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$")' "$output"
	assert_jq '.ci == null' "$output"
}

@test "flags after the type and between KEY=VALUE arguments" {
	emit_ok deployment_configured image=api:1.4.2 --resource api --action create \
		url=https://example.com/a=b --platform AWS --status failure empty=
	assert_stdout_is_tail 1
	assert_jq '.details == {"resource":"api","action":"create","platform":"AWS",
		"configuration":{"image":"api:1.4.2","url":"https://example.com/a=b","empty":""},"status":"failure"}' "$output"
}

@test "dotted keys nest: tags.team=infra tags.cost-center=x, deeper paths, typed leaves" {
	emit_ok "${DEPLOY[@]}" tags.team=infra tags.cost-center=x a.b.c:=1 a.b.d=two
	assert_stdout_is_tail 1
	assert_jq '.details.configuration == {"tags":{"team":"infra","cost-center":"x"},"a":{"b":{"c":1,"d":"two"}}}' "$output"
}

@test "--json '{...}' becomes configuration" {
	emit_ok "${DEPLOY[@]}" --json '{"image":"api:1.4.2","replicas":3,"tags":{"team":"infra"}}'
	assert_stdout_is_tail 1
	assert_jq '.details.configuration == {"image":"api:1.4.2","replicas":3,"tags":{"team":"infra"}}' "$output"
}

@test "--json @file reads the object from a file" {
	printf '{"image":"api:2.0.0",\n "strategy":{"type":"canary","steps":[10,50,100]}}\n' >"$BATS_TEST_TMPDIR/conf.json"
	emit_ok "${DEPLOY[@]}" --json "@$BATS_TEST_TMPDIR/conf.json"
	assert_stdout_is_tail 1
	assert_jq '.details.configuration == {"image":"api:2.0.0","strategy":{"type":"canary","steps":[10,50,100]}}' "$output"
}

@test "--json - reads the object from standard input" {
	emit_ok "${DEPLOY[@]}" --json - <<<'{"image":"api:3","replicas":2}'
	assert_stdout_is_tail 1
	assert_jq '.details.configuration == {"image":"api:3","replicas":2}' "$output"
}

@test "--json merged with KEY=VALUE: KEY=VALUE wins, dotted keys merge into --json objects" {
	emit_ok "${DEPLOY[@]}" --json '{"image":"old","replicas":3,"tags":{"team":"web","env":"prod"}}' \
		image=new tags.team=infra
	assert_stdout_is_tail 1
	assert_jq '.details.configuration == {"image":"new","replicas":3,"tags":{"team":"infra","env":"prod"}}' "$output"
}

@test "NDJSON stream: every line appended in order, blank lines skipped, stdout is every line written" {
	{
		printf '%s\n' '{"event_type":"infrastructure_provisioned","details":{"resource":"vpc","action":"create","platform":"AWS","configuration":{"cidr":"10.0.0.0/16"},"status":"success"}}'
		printf '\n   \n'
		printf '%s\n' '{"event_type":"pipeline_updated","details":{"status":"success","platform":"Docker","action":"update","resource":"ci"}}'
		printf '\t\n'
		printf '%s\n' '{"event_type":"metric_recorded","details":{"configuration":{"name":"cost","value":12.5,"unit":"USD"}}}'
		printf '\n'
	} >"$BATS_TEST_TMPDIR/stream"
	emit_ok - <"$BATS_TEST_TMPDIR/stream"
	assert_stderr_empty
	assert_stdout_is_tail 3
	verify_chain "$EV" 4
	[[ "$(jq -r .event_type "$OUT" | paste -sd,)" == infrastructure_provisioned,pipeline_updated,metric_recorded ]] ||
		fail "events out of order: $(jq -r .event_type "$OUT" | paste -sd,)"
	assert_jq '.details == {"resource":"vpc","action":"create","platform":"AWS","configuration":{"cidr":"10.0.0.0/16"},"status":"success"}' "$(sed -n 2p "$EV")"
	# details completed and put in canonical order
	assert_jq '.details == {"resource":"ci","action":"update","platform":"Docker","configuration":{},"status":"success"}' "$(sed -n 3p "$EV")"
	assert_jq '.details.configuration == {"name":"cost","value":12.5,"unit":"USD"}' "$(sed -n 4p "$EV")"
	assert_state_in_step
}

@test "NDJSON stream: a last line without a newline is appended too; an empty stream writes nothing" {
	printf '%s' '{"event_type":"monitoring_added","details":{"resource":"api","action":"create","platform":"K8s","status":"success"}}' >"$BATS_TEST_TMPDIR/stream"
	emit_ok - <"$BATS_TEST_TMPDIR/stream"
	assert_stdout_is_tail 1
	verify_chain "$EV" 2

	snapshot "$REPO"
	emit_ok - </dev/null
	[[ ! -s "$OUT" ]] || fail "stdout should be empty"
	assert_unchanged "$REPO"
}

@test "a whole event printed by one hive-emit is re-stamped into another session by hive-emit -" {
	hive-init -q --session other >/dev/null
	local other_ev
	other_ev="$(session_dir other)/EVENTS.jsonl"
	hive-emit -q --session s1 "${DEPLOY[@]}" image=api:9 >"$BATS_TEST_TMPDIR/from-s1"
	# and the pipe itself
	status=0
	hive-emit --session s1 security_hardened --resource iam --action update --platform AWS --status success mfa:=true |
		hive-emit --session other - >"$OUT" 2>"$ERR" || status=$?
	((status == 0)) || fail "pipe failed: $(cat "$ERR")"
	emit_ok --session other - <"$BATS_TEST_TMPDIR/from-s1"
	assert_stdout_is_tail 1 "$other_ev"
	verify_chain "$other_ev" 3
	verify_chain "$EV" 3
	local src dst
	src="$(cat "$BATS_TEST_TMPDIR/from-s1")"
	dst="$(tail -n 1 "$other_ev")"
	assert_jq '.session_id == "other" and .seq == 3' "$dst"
	[[ "$(jq -c .details <<<"$src")" == "$(jq -c .details <<<"$dst")" ]] || fail "details changed on the way"
	[[ "$(jq -r .prev <<<"$dst")" == "$(sha_of_line "$(sed -n 2p "$other_ev")")" ]] || fail "prev not re-stamped"
	assert_jq '.session_id == "other" and .seq == 2 and .event_type == "security_hardened"
		and .details.configuration.mfa == true' "$(sed -n 2p "$other_ev")"
	assert_state_in_step "$(session_dir other)/STATE.json" "$other_ev"
	assert_state_in_step
}

@test "-C DIR and a subdirectory both find the session at the top of the work tree" {
	cd infra
	emit_ok pipeline_updated --resource ci --action update --platform Docker --status success
	assert_stdout_is_tail 1
	cd "$BATS_TEST_TMPDIR"
	emit_ok -C "$REPO" pipeline_updated --resource ci --action update --platform Docker --status success
	assert_stdout_is_tail 1
	verify_chain "$EV" 3
	[[ ! -e "$REPO/infra/Docs" && ! -e "$BATS_TEST_TMPDIR/Docs" ]] || fail "a second hive root was made"
}

@test "--session wins over HIVE_SESSION_ID" {
	hive-init -q --session s2 >/dev/null
	HIVE_SESSION_ID=s1 emit_ok --session s2 "${DEPLOY[@]}"
	assert_jq '.session_id == "s2" and .seq == 2' "$output"
	[[ "$(lines_of "$EV")" == 1 ]] || fail "s1 was written"
}

@test "in GitHub Actions the session is gh-RUN-ATTEMPT and every event carries the ci object" {
	unset HIVE_SESSION_ID
	export GITHUB_ACTIONS=true GITHUB_RUN_ID=8812 GITHUB_RUN_ATTEMPT=2 GITHUB_JOB=deploy \
		GITHUB_WORKFLOW=cd GITHUB_SERVER_URL=https://github.com GITHUB_REPOSITORY=acme/app
	hive-init -q >/dev/null
	emit_ok "${DEPLOY[@]}"
	assert_stdout_is_tail 1 "$(session_dir gh-8812-2)/EVENTS.jsonl"
	assert_jq '.session_id == "gh-8812-2" and .ci == {"provider":"github","run_id":"8812","run_attempt":"2",
		"job":"deploy","workflow":"cd","url":"https://github.com/acme/app/actions/runs/8812"}' "$output"
}

# --- every event type -------------------------------------------------------------------

@test "every built-in event type with valid details is appended" {
	local t n=1
	for t in deployment_configured infrastructure_provisioned pipeline_updated monitoring_added security_hardened; do
		emit_ok "$t" --resource "r-$t" --action create --platform AWS --status success
		n=$((n + 1))
		assert_stdout_is_tail 1
		assert_jq '.event_type == $t' "$output" --arg t "$t"
	done
	for t in incident_detected incident_responded incident_resolved; do
		emit_ok "$t" --resource api --action update --platform K8s --status success severity=P2 \
			impact='5xx on checkout' root_cause='bad config' action_items:='["add alert","add test"]'
		n=$((n + 1))
		assert_stdout_is_tail 1
		assert_jq '.event_type == $t and .details.configuration.severity == "P2"' "$output" --arg t "$t"
	done
	for sev in P1 P3 P4; do
		emit_ok incident_detected --resource db --action update --platform GCP --status failure severity=$sev
		n=$((n + 1))
	done
	emit_ok metric_recorded name=cpu_usage value:=0.75 unit=ratio
	n=$((n + 1))
	assert_stdout_is_tail 1
	assert_jq '.details.configuration == {"name":"cpu_usage","value":0.75,"unit":"ratio"}' "$output"
	emit_ok metric_recorded --resource api --platform Azure name=cost value:=12 unit=USD
	n=$((n + 1))
	for p in GCP Azure Docker K8s; do
		emit_ok pipeline_updated --resource ci --action delete --platform "$p" --status success
		n=$((n + 1))
	done
	verify_chain "$EV" "$n"
	assert_state_in_step
}

@test "a configured event type (events.types) and a configured platform (events.platforms)" {
	printf 'events:\n  types: [cost_reviewed]\n  platforms: [OnPrem, Hetzner]\n' >.hive.yml
	emit_ok cost_reviewed reviewer=ops total:=1234.5
	assert_stdout_is_tail 1
	assert_jq '.event_type == "cost_reviewed" and .details.configuration == {"reviewer":"ops","total":1234.5}' "$output"
	emit_ok infrastructure_provisioned --resource rack-7 --action create --platform Hetzner --status success
	assert_jq '.details.platform == "Hetzner"' "$output"
	emit_ok deployment_configured --resource api --action update --platform OnPrem --status success
	assert_jq '.details.platform == "OnPrem"' "$output"
	verify_chain "$EV" 4
	# the allowed values in a refusal include the configured ones
	refused 2 'hive-emit: error: details.platform: "Heroku" is not one of AWS, GCP, Azure, Docker, K8s, OnPrem, Hetzner (add platforms with events.platforms in .hive.yml)' \
		deployment_configured --resource api --action update --platform Heroku --status success
}

# --- rejections: exit 2, the field and its allowed values, nothing written -------------------

@test "unknown event type is refused and the message lists the known types" {
	local known='deployment_configured, infrastructure_provisioned, pipeline_updated, monitoring_added, security_hardened, incident_detected, incident_responded, incident_resolved, metric_recorded, tool_used'
	refused 2 "hive-emit: error: event_type: \"deploy_done\" is not one of $known (add types with events.types in .hive.yml)" \
		deploy_done --resource api --action update --platform K8s --status success
	# configured types are among the allowed values
	printf 'events:\n  types: [cost_reviewed, backup_verified]\n' >.hive.yml
	refused 2 "hive-emit: error: event_type: \"Deployment_configured\" is not one of $known, cost_reviewed, backup_verified (add types with events.types in .hive.yml)" \
		Deployment_configured --resource api --action update --platform K8s --status success
}

@test "session_started and session_completed are written by the tools, not hive-emit" {
	refused 2 'hive-emit: error: event_type: "session_started" is written by hive-init, not hive-emit' \
		session_started
	refused 2 'hive-emit: error: event_type: "session_completed" is written by hive-runbook --finish, not hive-emit' \
		session_completed --status success
	printf '%s\n' '{"event_type":"session_completed","details":{"status":"success"}}' >"$BATS_TEST_TMPDIR/stream"
	refused 2 'hive-emit: error: stdin:1: event_type: "session_completed" is written by hive-runbook --finish, not hive-emit' \
		- <"$BATS_TEST_TMPDIR/stream"
}

@test "bad action: exact message" {
	refused 2 'hive-emit: error: details.action: "destroy" is not one of create, update, delete' \
		deployment_configured --resource api --action destroy --platform K8s --status success
}

@test "bad platform and bad status name the field and the allowed values" {
	refused 2 'hive-emit: error: details.platform: "Heroku" is not one of AWS, GCP, Azure, Docker, K8s (add platforms with events.platforms in .hive.yml)' \
		deployment_configured --resource api --action update --platform Heroku --status success
	refused 2 'hive-emit: error: details.platform: "k8s" is not one of AWS, GCP, Azure, Docker, K8s (add platforms with events.platforms in .hive.yml)' \
		deployment_configured --resource api --action update --platform k8s --status success
	refused 2 'hive-emit: error: details.status: "ok" is not one of success, failure, in_progress' \
		deployment_configured --resource api --action update --platform K8s --status ok
}

@test "missing resource, action, platform or status is refused" {
	refused 2 'hive-emit: error: details.resource: missing (a non-empty string)' \
		deployment_configured --action update --platform K8s --status success
	refused 2 'hive-emit: error: details.resource: must not be empty' \
		deployment_configured --resource '' --action update --platform K8s --status success
	refused 2 'hive-emit: error: details.action: missing (one of create, update, delete)' \
		infrastructure_provisioned --resource vpc --platform AWS --status success
	refused 2 'hive-emit: error: details.platform: missing (one of AWS, GCP, Azure, Docker, K8s)' \
		pipeline_updated --resource ci --action update --status success
	refused 2 'hive-emit: error: details.status: missing (one of success, failure)' \
		security_hardened --resource iam --action update --platform AWS
}

@test "every missing field of an event in one message, with the options that give them" {
	refused 2 'hive-emit: error: details: resource, action, platform and status are missing (give --resource NAME --action create|update|delete --platform AWS|GCP|Azure|Docker|K8s --status success|failure)' \
		deployment_configured
	refused 2 'hive-emit: error: details: action and status are missing (give --action create|update|delete --status success|failure)' \
		pipeline_updated --resource ci --platform Docker
	refused 2 'hive-emit: error: details: platform, status and configuration.severity are missing (give --platform AWS|GCP|Azure|Docker|K8s --status success|failure severity=P1|P2|P3|P4)' \
		incident_detected --resource api --action update
	# and --help says what each type requires
	run hive-emit --help
	assert_output --partial $'  incident_detected\n      the same, and severity=P1|P2|P3|P4'
}

@test "an incident's follow-ups may leave severity to incident_detected" {
	emit_ok incident_detected --resource api --action update --platform K8s --status failure severity=P2
	emit_ok incident_responded --resource api --action update --platform K8s --status success
	emit_ok incident_resolved --resource api --action update --platform K8s --status success \
		root_cause='bad config'
	run hive-check --session s1
	assert_success
	run hive-runbook --session s1 --report incident
	assert_output --partial '- Severity: P2'
}

@test "incident without severity, or with P5, is refused" {
	refused 2 'hive-emit: error: details.configuration.severity: missing (one of P1, P2, P3, P4)' \
		incident_detected --resource api --action update --platform K8s --status failure impact=down
	refused 2 'hive-emit: error: details.configuration.severity: "P5" is not one of P1, P2, P3, P4' \
		incident_resolved --resource api --action update --platform K8s --status success severity=P5
	refused 2 'hive-emit: error: details.configuration.severity: expected a string, got a number (one of P1, P2, P3, P4)' \
		incident_responded --resource api --action update --platform K8s --status success severity:=1
}

@test "metric value as a string, or a metric without name or unit, is refused" {
	refused 2 'hive-emit: error: details.configuration.value: expected a number, got a string (use value:=42, not value=42)' \
		metric_recorded name=cpu value=42 unit=ratio
	refused 2 'hive-emit: error: details.configuration.name: missing (a non-empty string)' \
		metric_recorded value:=42 unit=ratio
	refused 2 'hive-emit: error: details.configuration.unit: missing (a string)' \
		metric_recorded name=cpu value:=42
}

@test "a number JSON cannot hold (1e999) is refused rather than written as null" {
	refused 2 'hive-emit: error: details.configuration.value: a number too large for JSON (out of range)' \
		metric_recorded name=cpu value:=1e999 unit=ratio
	refused 2 'hive-emit: error: details.configuration.limits.cpu[1]: a number too large for JSON (out of range)' \
		"${DEPLOY[@]}" 'limits.cpu:=[1,-1e400]'
	refused 2 'hive-emit: error: details.configuration.x: a number too large for JSON (out of range)' \
		"${DEPLOY[@]}" --json '{"x":1e999}'
	refused 2 'hive-emit: error: stdin:1: details.configuration.value: a number too large for JSON (out of range)' \
		- <<<'{"event_type":"metric_recorded","details":{"configuration":{"name":"n","value":2e308,"unit":"x"}}}'
	# large but finite numbers are fine
	emit_ok metric_recorded name=cpu value:=1e300 unit=ratio
	assert_jq '.details.configuration.value == 1e300' "$output"
}

@test "text that is not UTF-8 is refused (a line is UTF-8); UTF-8 is written as given" {
	refused 2 'hive-emit: error: details.configuration.note: not valid UTF-8' \
		"${DEPLOY[@]}" "note=caf"$'\xe9'
	refused 2 'hive-emit: error: details.resource: not valid UTF-8' \
		deployment_configured --resource $'api\xff' --action update --platform K8s --status success
	refused 2 'hive-emit: error: details.configuration.tags: a key is not valid UTF-8' \
		"${DEPLOY[@]}" "tags.te"$'\xc0\xae'"am=x"
	# a UTF-16 surrogate written as UTF-8 bytes
	refused 2 'hive-emit: error: details.configuration.note: not valid UTF-8' \
		"${DEPLOY[@]}" "note=x"$'\xed\xa0\x80'
	printf '{"note":"caf\xe9"}' >"$BATS_TEST_TMPDIR/latin1.json"
	refused_like 2 "hive-emit: error: --json: $BATS_TEST_TMPDIR/latin1.json: not valid JSON: byte 13: invalid UTF-8 in a string" \
		"${DEPLOY[@]}" --json "@$BATS_TEST_TMPDIR/latin1.json"
	printf '{"event_type":"pipeline_updated","details":{"resource":"ci","action":"update","platform":"Docker","status":"success"}}\n{"event_type":"pipeline_updated","details":{"resource":"c\xffi","action":"update","platform":"Docker","status":"success"}}\n' \
		>"$BATS_TEST_TMPDIR/stream"
	refused 2 'hive-emit: error: stdin:2: not valid JSON: byte 58: invalid UTF-8 in a string' - <"$BATS_TEST_TMPDIR/stream"
	emit_ok "${DEPLOY[@]}" "note=café ✓ 😀" 'esc:="\u00e9\ud83d\ude00"'
	assert_stdout_is_tail 1
	assert_jq '.details.configuration == {"note":"café ✓ 😀","esc":"é😀"}' "$output"
	grep -qF 'café ✓ 😀' "$EV" || fail "UTF-8 not written as given"
}

@test "a key named twice is refused: a second \"action\" must not slip past validation" {
	printf '%s\n' '{"event_type":"deployment_configured","details":{"resource":"api","action":"create","action":"destroy","platform":"K8s","status":"success"}}' \
		>"$BATS_TEST_TMPDIR/stream"
	# the strict reader refuses it before validation, naming where the second one stands
	refused 2 'hive-emit: error: stdin:1: not valid JSON: byte 85: duplicate key "action"' - <"$BATS_TEST_TMPDIR/stream"
	printf '%s\n' '{"event_type":"incident_detected","details":{"resource":"api","action":"create","platform":"K8s","status":"failure","configuration":{"severity":"P1","severity":"P9"}}}' \
		>"$BATS_TEST_TMPDIR/stream"
	refused 2 'hive-emit: error: stdin:1: not valid JSON: byte 150: duplicate key "severity"' - <"$BATS_TEST_TMPDIR/stream"
	refused 2 'hive-emit: error: --json: not valid JSON: byte 21: duplicate key "team"' \
		"${DEPLOY[@]}" --json '{"tags":{"team":"a","team":"b"}}'
	# KEY=VALUE replacing a --json key is not a duplicate
	emit_ok "${DEPLOY[@]}" --json '{"team":"a"}' team=b
	assert_jq '.details.configuration == {"team":"b"}' "$output"
	[[ "$(tail -n 1 "$EV" | grep -o '"team"' | wc -l)" == 1 ]] || fail "team written twice"
}

@test "bad KEY:=JSON and malformed KEY=VALUE arguments are refused" {
	refused 2 'hive-emit: error: "replicas:=[1,": the value after := is not valid JSON: byte 4: the text ends inside an array (quote strings, or use KEY=VALUE)' \
		"${DEPLOY[@]}" 'replicas:=[1,'
	refused 2 'hive-emit: error: "image:=api:1": the value after := is not valid JSON: byte 1: unexpected character '"'"'a'"'"' (quote strings, or use KEY=VALUE)' \
		"${DEPLOY[@]}" 'image:=api:1'
	refused 2 'hive-emit: error: "n:=1 2": the value after := is not valid JSON: byte 3: more text after the JSON value (quote strings, or use KEY=VALUE)' \
		"${DEPLOY[@]}" 'n:=1 2'
	refused 2 'hive-emit: error: "justaword": expected KEY=VALUE or KEY:=JSON' \
		"${DEPLOY[@]}" justaword
	refused 2 'hive-emit: error: "=x": expected KEY=VALUE or KEY:=JSON' \
		"${DEPLOY[@]}" =x
	refused 2 'hive-emit: error: "tags..team": empty part in the dotted key' \
		"${DEPLOY[@]}" tags..team=x
}

@test "--json that is not an object, not JSON, or a missing @file is refused" {
	refused 2 'hive-emit: error: --json: "[1,2]" is not a JSON object' "${DEPLOY[@]}" --json '[1,2]'
	refused 2 'hive-emit: error: --json: not valid JSON: byte 6: the text ends inside an object' "${DEPLOY[@]}" --json '{"a":'
	refused 2 'hive-emit: error: --json: not valid JSON: byte 4: more text after the JSON value' "${DEPLOY[@]}" --json '{} {}'
	refused_like 2 "hive-emit: error: --json: $BATS_TEST_TMPDIR/missing.json: No such file or directory" \
		"${DEPLOY[@]}" --json "@$BATS_TEST_TMPDIR/missing.json"
	printf '"just a string"\n' >"$BATS_TEST_TMPDIR/str.json"
	refused_like 2 "hive-emit: error: --json: $BATS_TEST_TMPDIR/str.json is not a JSON object" \
		"${DEPLOY[@]}" --json "@$BATS_TEST_TMPDIR/str.json"
	refused 2 'hive-emit: error: --json: standard input is not a JSON object' \
		"${DEPLOY[@]}" --json - <<<'42'
}

@test "stream with a bad line in the middle: its line number, and nothing from the stream written" {
	local ok='{"event_type":"pipeline_updated","details":{"resource":"ci","action":"update","platform":"Docker","status":"success"}}'
	{
		printf '%s\n' "$ok" "$ok"
		printf '%s\n' '{"event_type":"deployment_configured","details":{"resource":"api","action":"destroy","platform":"K8s","status":"success"}}'
		printf '%s\n' "$ok"
	} >"$BATS_TEST_TMPDIR/stream"
	refused 2 'hive-emit: error: stdin:3: details.action: "destroy" is not one of create, update, delete' \
		- <"$BATS_TEST_TMPDIR/stream"

	# blank lines count for the number; not JSON, unknown keys and no event_type too
	printf '%s\n\n%s\n%s\n' "$ok" '{"event_type":"pipeline_updated",' "$ok" >"$BATS_TEST_TMPDIR/stream"
	refused 2 'hive-emit: error: stdin:3: not valid JSON: byte 34: the text ends inside an object' - <"$BATS_TEST_TMPDIR/stream"
	printf '%s\n%s\n' "$ok" '["pipeline_updated"]' >"$BATS_TEST_TMPDIR/stream"
	refused 2 'hive-emit: error: stdin:2: not a JSON object' - <"$BATS_TEST_TMPDIR/stream"
	printf '%s\n%s\n' "$ok" '{"details":{}}' >"$BATS_TEST_TMPDIR/stream"
	refused 2 'hive-emit: error: stdin:2: event_type: missing or not a string' - <"$BATS_TEST_TMPDIR/stream"
	printf '%s\n%s\n' "$ok" '{"event_type":"pipeline_updated","resource":"ci"}' >"$BATS_TEST_TMPDIR/stream"
	refused 2 'hive-emit: error: stdin:2: unknown key "resource" (a line is {"event_type":...,"details":{...}})' \
		- <"$BATS_TEST_TMPDIR/stream"
	printf '%s\n%s\n' "$ok" '{"event_type":"nope","details":{}}' >"$BATS_TEST_TMPDIR/stream"
	refused_like 2 'hive-emit: error: stdin:2: event_type: "nope" *' - <"$BATS_TEST_TMPDIR/stream"
	printf '%s\n%s\n' "$ok" '{"event_type":"pipeline_updated","details":{"resource":"ci","action":"update","platform":"Docker","status":"success","extra":1}}' >"$BATS_TEST_TMPDIR/stream"
	refused 2 'hive-emit: error: stdin:2: details: unknown key "extra" (allowed: resource, action, platform, configuration, status; put anything else in configuration)' \
		- <"$BATS_TEST_TMPDIR/stream"
	# and a refused stream is still refused when the bad line is the last one
	printf '%s\n%s\n%s\n' "$ok" "$ok" '{"event_type":"incident_detected","details":{"resource":"api","action":"update","platform":"K8s","status":"failure"}}' >"$BATS_TEST_TMPDIR/stream"
	refused 2 'hive-emit: error: stdin:3: details.configuration.severity: missing (one of P1, P2, P3, P4)' \
		- <"$BATS_TEST_TMPDIR/stream"
}

@test "stream with a line over 1 MiB is refused, nothing written" {
	local ok='{"event_type":"pipeline_updated","details":{"resource":"ci","action":"update","platform":"Docker","status":"success"}}'
	{
		printf '%s\n' "$ok"
		printf '{"event_type":"pipeline_updated","details":{"resource":"ci","action":"update","platform":"Docker","status":"success","configuration":{"blob":"'
		head -c 1100000 /dev/zero | tr '\0' x
		printf '"}}}\n'
		printf '%s\n' "$ok"
	} >"$BATS_TEST_TMPDIR/stream"
	refused 2 'hive-emit: error: stdin:2: longer than 1048576 bytes' - <"$BATS_TEST_TMPDIR/stream"
}

@test "an event that would pass 1 MiB once stamped is refused, nothing written" {
	{
		printf '{"event_type":"pipeline_updated","details":{"resource":"ci","action":"update","platform":"Docker","status":"success","configuration":{"blob":"'
		head -c 1048400 /dev/zero | tr '\0' x
		printf '"}}}\n'
	} >"$BATS_TEST_TMPDIR/stream"
	refused_like 2 'hive-emit: error: *over the 1048576-byte line limit' - <"$BATS_TEST_TMPDIR/stream"
}

@test "no session: no --session and no HIVE_SESSION_ID is exit 2" {
	unset HIVE_SESSION_ID
	refused 2 'hive-emit: error: no session: pass --session ID or set HIVE_SESSION_ID (hive-init prints one)' \
		"${DEPLOY[@]}"
	HIVE_SESSION_ID='' refused 2 'hive-emit: error: no session: pass --session ID or set HIVE_SESSION_ID (hive-init prints one)' \
		"${DEPLOY[@]}"
}

@test "an invalid session id is exit 2 and creates nothing" {
	refused_like 2 'hive-emit: error: --session*"../x"*' --session ../x "${DEPLOY[@]}"
	HIVE_SESSION_ID=a/b refused_like 2 'hive-emit: error: HIVE_SESSION_ID*"a/b"*' "${DEPLOY[@]}"
	refused_like 2 "hive-emit: error: --session*must not start with '.'" --session .hidden "${DEPLOY[@]}"
}

@test "a session that does not exist is exit 2: run hive-init" {
	refused 2 'hive-emit: error: session nope does not exist: run hive-init first' \
		--session nope "${DEPLOY[@]}"
	# and with no hive root at all: nothing is created
	refused_like 2 'hive-emit: error: session s1 does not exist*run hive-init first' \
		--root "$REPO/elsewhere" "${DEPLOY[@]}"
	[[ ! -e "$REPO/elsewhere" ]] || fail "the root was created"
}

@test "emitting into a completed session is exit 2 (STATE.json missing, so rebuilt from the log)" {
	emit_ok "${DEPLOY[@]}"
	complete_session
	rm "$ST"
	verify_chain "$EV" 3
	refused 2 'hive-emit: error: session s1 is completed: no more events can be added (HIVE_SESSION_ID still names it: unset it, then run hive-init to start a new session)' \
		"${DEPLOY[@]}"
	[[ ! -e "$ST" ]] || fail "STATE.json was written by a refused emit"
}

@test "emitting into a completed session is exit 2 (STATE.json stale, still saying active)" {
	emit_ok "${DEPLOY[@]}"
	complete_session
	assert_jq '.status == "active"' "$(cat "$ST")"
	refused 2 'hive-emit: error: session s1 is completed: no more events can be added (HIVE_SESSION_ID still names it: unset it, then run hive-init to start a new session)' \
		- <<<'{"event_type":"pipeline_updated","details":{"resource":"ci","action":"update","platform":"Docker","status":"success"}}'
}

@test "bad flags are exit 2, nothing written" {
	refused 2 'hive-emit: error: unknown option --bogus (see --help)' --bogus "${DEPLOY[@]}"
	refused 2 'hive-emit: error: unknown option -x (see --help)' -x "${DEPLOY[@]}"
	refused 2 'hive-emit: error: --status: needs a value (see --help)' \
		deployment_configured --resource api --action update --platform K8s --status
	refused 2 'hive-emit: error: no event type given (see --help)' --resource api
	refused 2 'hive-emit: error: no event type given (see --help)'
}

@test "the stream form combined with KEY=VALUE, flags or --json is exit 2" {
	local line='{"event_type":"pipeline_updated","details":{"resource":"ci","action":"update","platform":"Docker","status":"success"}}'
	local msg="hive-emit: error: -: the stream form takes no other fields or --json; put them in each line's details"
	refused 2 "$msg" - n=1 <<<"$line"
	refused 2 "$msg" - --resource x <<<"$line"
	refused 2 "$msg" --status success - <<<"$line"
	refused 2 "$msg" --json '{}' - <<<"$line"
}

@test "a broken .hive.yml is exit 2 with FILE:LINE:COL, nothing written" {
	printf 'events:\n  typo: [x]\n' >.hive.yml
	refused_like 2 'hive-emit: error: *.hive.yml:2:3: unknown key "events.typo"' "${DEPLOY[@]}"
}

@test "--help and --version" {
	run hive-emit --help
	assert_success
	assert_output --partial 'usage: hive-emit'
	run hive-emit --version
	assert_success
	assert_output --regexp '^hive-emit [0-9]'
}

# --- redaction -----------------------------------------------------------------------------

@test "redaction: AWS access key id" {
	local k="AKIA""Z7Q3EXAMPLE0KEY1"
	assert_redacted aws_access_key "key [REDACTED:aws_access_key] in use" "$k" "key $k in use"
}

@test "redaction: GitHub ghp_ gho_ ghs_ ghu_ ghr_ tokens" {
	local p t
	for p in ghp gho ghs ghu ghr; do
		t="${p}_$X36"
		assert_redacted github_token "Bearer [REDACTED:github_token]" "$t" "Bearer $t"
	done
}

@test "redaction: github_pat_ fine-grained token" {
	local t="github""_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGH"
	assert_redacted github_pat "[REDACTED:github_pat]" "$t" "$t"
	# the shortest accepted: 22 characters after the prefix
	t="github""_pat_ABCDEFGHIJKLMNOPQRSTUV"
	assert_redacted github_pat "x [REDACTED:github_pat]" "$t" "x $t"
}

@test "redaction: GitLab glpat- token" {
	local t="glpat""-abcdefghij0123456789"
	assert_redacted gitlab_token "[REDACTED:gitlab_token]" "$t" "$t"
}

@test "redaction: Slack xoxb- token" {
	local t="xox""b-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"
	assert_redacted slack_token "slack [REDACTED:slack_token]" "$t" "slack $t"
}

@test "redaction: a PEM private key block given with KEY:=JSON, newlines and all" {
	local body1="MIIEowIBAAKCAQEAzUn1q2bodyBODYbody0123456789abcdefABCDEF"
	local body2="q83HsecondLINEofTHEkey9876543210zyxwvuABCDEFGHIJKLMNOPQR"
	local head="-----BEGIN RSA PRIVATE"" KEY-----" tail="-----END RSA PRIVATE"" KEY-----"
	local json
	json="$(jq -cn --arg v "$head"$'\n'"$body1"$'\n'"$body2"$'\n'"$tail"$'\n' '$v')"
	emit_ok "${DEPLOY[@]}" "tls_cert:=$json"
	assert_stdout_is_tail 1
	assert_jq '.details.configuration.tls_cert == "[REDACTED:private_key]"' "$output"
	assert_stderr_is "hive-emit: redacted 1 secret value before writing"
	assert_nowhere "$body1"
	assert_nowhere "$body2"
	assert_nowhere "BEGIN RSA PRIVATE"
}

@test "redaction: a JWT" {
	local h="eyJ""hbGciOiJIUzI1NiJ9" p="eyJ""zdWIiOiJoaXZlLXRlc3QifQ" s="c2lnbmF0dXJlX2Zvcl9oaXZl"
	assert_redacted jwt "auth: [REDACTED:jwt]" "$h.$p.$s" "auth: $h.$p.$s"
	assert_nowhere "$p"
}

@test "redaction: credentials in a URL" {
	local u="https://deployer:Hunter2Pass@registry.example.com/x"
	assert_redacted url_credentials "https://[REDACTED:url_credentials]@registry.example.com/x" "Hunter2Pass" "$u"
}

@test "redaction: every shape in one event, in nested values, arrays and a URL; the note counts them" {
	local aws="AKIA""Q2W3E4R5T6Y7U8I9" gh="ghs""_$X36" gl="glpat""-ZYXWVUTSRQPONMLKJIHG"
	emit_ok deployment_configured --resource app --action update \
		--platform K8s --status success "a.b.c=$aws" "list:=[\"$gh\",\"ok\"]" "d=$gl and $aws" \
		"repo=https://ci:S3cretPw@git.example.com/app"
	assert_stdout_is_tail 1
	assert_jq '.details.resource == "app"' "$output"
	assert_jq '.details.configuration == {"a":{"b":{"c":"[REDACTED:aws_access_key]"}},
		"list":["[REDACTED:github_token]","ok"],
		"d":"[REDACTED:gitlab_token] and [REDACTED:aws_access_key]",
		"repo":"https://[REDACTED:url_credentials]@git.example.com/app"}' "$output"
	assert_stderr_is "hive-emit: redacted 5 secret values before writing"
	assert_nowhere "$aws"
	assert_nowhere "$gh"
	assert_nowhere "$gl"
	assert_nowhere "S3cretPw"
}

@test "redaction: secret key names become [REDACTED], other keys are left alone" {
	emit_ok "${DEPLOY[@]}" password=pw-value-0001 DB_PASSWORD=pw-value-0002 clientSecret=pw-value-0003 \
		x-api-key=pw-value-0004 creds.api_key=pw-value-0005 'creds.user=alice' token=pw-value-0006 \
		apikey=pw-value-0007 private_key=pw-value-0008 AWS_ACCESS_KEY=pw-value-0009 \
		client_secret=pw-value-0010 passwd:=123456789 Secret:='{"inner":"pw-value-0011"}' \
		tokenizer=bpe keyword=deploy author=bob
	assert_stdout_is_tail 1
	assert_jq '.details.configuration == {"password":"[REDACTED]","DB_PASSWORD":"[REDACTED]",
		"clientSecret":"[REDACTED]","x-api-key":"[REDACTED]","creds":{"api_key":"[REDACTED]","user":"alice"},
		"token":"[REDACTED]","apikey":"[REDACTED]","private_key":"[REDACTED]","AWS_ACCESS_KEY":"[REDACTED]",
		"client_secret":"[REDACTED]","passwd":"[REDACTED]","Secret":"[REDACTED]",
		"tokenizer":"bpe","keyword":"deploy","author":"bob"}' "$output"
	assert_stderr_is "hive-emit: redacted 12 secret values before writing"
	local i
	for i in 0001 0002 0003 0004 0005 0006 0007 0008 0009 0010 0011; do
		assert_nowhere "pw-value-$i"
	done
	assert_nowhere 123456789
}

@test "redaction: configured redact.keys and redact.patterns" {
	printf '%s\n' 'redact:' '  keys: [sessionCookie, vault]' "  patterns: ['corp_[A-Za-z0-9]{32}', 'int-[0-9]{6}-key']" >.hive.yml
	local corp
	corp="corp_$(printf '%s' {A..Z} 012345)"
	emit_ok "${DEPLOY[@]}" session_cookie=cookie-value-1 web.X-Session-Cookie=cookie-value-2 vault=v-value-3 \
		"note=id $corp end" code=int-123456-key
	assert_stdout_is_tail 1
	assert_jq '.details.configuration == {"session_cookie":"[REDACTED]","web":{"X-Session-Cookie":"[REDACTED]"},
		"vault":"[REDACTED]","note":"id [REDACTED:pattern] end","code":"[REDACTED:pattern]"}' "$output"
	assert_stderr_is "hive-emit: redacted 5 secret values before writing"
	assert_nowhere cookie-value-1
	assert_nowhere cookie-value-2
	assert_nowhere v-value-3
	assert_nowhere "$corp"
	assert_nowhere int-123456-key
	# and without the config the same values pass (the config is what redacted them)
	rm .hive.yml
	emit_ok "${DEPLOY[@]}" vault=plain-vault-value
	assert_jq '.details.configuration.vault == "plain-vault-value"' "$output"
	assert_stderr_empty
}

@test "redaction: a redact.patterns entry that reaches PCRE2's match limit redacts the whole value" {
	# ^(a+)+$ backtracks without end on a run of a that does not reach the end: PCRE2 stops at
	# the match limit, and a value the pattern cannot vouch for is written as a secret
	printf '%s\n' 'redact:' "  patterns: ['^(a+)+\$', 'corp_[0-9]{4}']" >.hive.yml
	local run40
	run40="$(printf 'a%.0s' {1..40})!tail-secret-value"
	emit_ok "${DEPLOY[@]}" "note=$run40" other=corp_1234 plain=deploy
	assert_stdout_is_tail 1
	assert_jq '.details.configuration == {"note":"[REDACTED:match_limit]",
		"other":"[REDACTED:pattern]","plain":"deploy"}' "$output"
	assert_stderr_is "hive-emit: redacted 2 secret values before writing"
	assert_nowhere tail-secret-value
	# what was written passes the gate, which runs the same patterns over the raw lines
	run --separate-stderr hive-check
	assert_success
}

@test "redaction: secrets in a stream are redacted and counted" {
	local gh="ghp""_$X36"
	{
		printf '{"event_type":"pipeline_updated","details":{"resource":"ci","action":"update","platform":"Docker","status":"success","configuration":{"password":"stream-pw-1"}}}\n'
		printf '{"event_type":"pipeline_updated","details":{"resource":"ci","action":"update","platform":"Docker","status":"success","configuration":{"note":"use %s"}}}\n' "$gh"
	} >"$BATS_TEST_TMPDIR/stream"
	emit_ok - <"$BATS_TEST_TMPDIR/stream"
	rm "$BATS_TEST_TMPDIR/stream"
	assert_stdout_is_tail 2
	assert_jq '.details.configuration.password == "[REDACTED]"' "$(sed -n 2p "$EV")"
	assert_jq '.details.configuration.note == "use [REDACTED:github_token]"' "$(sed -n 3p "$EV")"
	assert_stderr_is "hive-emit: redacted 2 secret values before writing"
	assert_nowhere stream-pw-1
	assert_nowhere "$gh"
}

@test "redaction: -q silences the note, the value is still redacted" {
	local gh="gho""_$X36"
	emit_ok -q "${DEPLOY[@]}" "note=$gh" password=quiet-pw-1
	assert_stderr_empty
	assert_jq '.details.configuration == {"note":"[REDACTED:github_token]","password":"[REDACTED]"}' "$output"
	assert_nowhere "$gh"
	assert_nowhere quiet-pw-1
}

# --- STATE.json -------------------------------------------------------------------------------

@test "STATE.json in step: count, last_seq, last_hash, by_type, failures, updated_at, deployment" {
	local before
	before="$(cat "$ST")"
	assert_jq '.deployment == {"status":"pending","environment":null,"version":null,"environments":{}}' "$before"
	emit_ok deployment_configured --resource api --action update --platform K8s --status success \
		environment=prod version=1.4.2
	assert_state_in_step
	assert_jq '(.deployment | del(.environments)) == {"status":"success","environment":"prod","version":"1.4.2"}
		and (.deployment.environments | keys) == ["prod"] and .deployment.environments.prod.status == "success"
		and .deployment.environments.prod.version == "1.4.2" and .deployment.environments.prod.seq == 2' "$(cat "$ST")"
	emit_ok incident_detected --resource api --action update --platform K8s --status failure severity=P1
	emit_ok pipeline_updated --resource ci --action update --platform Docker --status failure
	emit_ok metric_recorded name=cost value:=3 unit=USD
	assert_state_in_step
	assert_jq '.events.count == 5 and .events.last_seq == 5 and .events.failures == 2
		and .events.by_type == {"session_started":1,"deployment_configured":1,"incident_detected":1,
		"pipeline_updated":1,"metric_recorded":1}' "$(cat "$ST")"
	emit_ok deployment_configured --resource api --action update --platform K8s --status failure \
		environment=staging version=1.5.0
	assert_state_in_step
	# the failed staging deployment is the last one; production keeps its success
	assert_jq '(.deployment | del(.environments)) == {"status":"failure","environment":"staging","version":"1.5.0"}
		and ([.deployment.environments | to_entries[] | [.key, .value.status, .value.version]]
			== [["prod", "success", "1.4.2"], ["staging", "failure", "1.5.0"]])' "$(cat "$ST")"
	assert_jq '.events.failures == 3 and .status == "active" and .completed_at == null' "$(cat "$ST")"
	# everything else in STATE.json is as hive-init wrote it
	[[ "$(jq -cS 'del(.events, .updated_at, .deployment)' "$ST")" == "$(jq -cS 'del(.events, .updated_at, .deployment)' <<<"$before")" ]] ||
		fail "STATE.json fields other than events, updated_at and deployment changed"
	verify_chain "$EV" 6
}

@test "STATE.json missing: the next emit rebuilds it from the log and appends correctly" {
	emit_ok deployment_configured --resource api --action update --platform K8s --status success \
		environment=prod version=2.0.0
	local before
	before="$(cat "$ST")"
	rm "$ST"
	emit_ok pipeline_updated --resource ci --action update --platform Docker --status failure
	assert_stdout_is_tail 1
	verify_chain "$EV" 3
	assert_state_in_step
	assert_jq '.events.failures == 1 and (.deployment | del(.environments)) == {"status":"success","environment":"prod","version":"2.0.0"}
		and .deployment.environments.prod.version == "2.0.0"' "$(cat "$ST")"
	[[ "$(jq -cS 'del(.events, .updated_at)' "$ST")" == "$(jq -cS 'del(.events, .updated_at)' <<<"$before")" ]] ||
		fail "$(printf 'the rebuilt STATE.json lost fields:\nbefore:  %s\nrebuilt: %s' \
			"$(jq -cS 'del(.events, .updated_at)' <<<"$before")" "$(jq -cS 'del(.events, .updated_at)' "$ST")")"
}

@test "STATE.json stale (an older copy): the next emit rebuilds it and takes seq from the log" {
	emit_ok pipeline_updated --resource ci --action update --platform Docker --status success
	cp "$ST" "$BATS_TEST_TMPDIR/old-state"
	emit_ok incident_detected --resource api --action update --platform K8s --status failure severity=P3
	emit_ok monitoring_added --resource api --action create --platform K8s --status success
	cp "$BATS_TEST_TMPDIR/old-state" "$ST"
	emit_ok security_hardened --resource iam --action update --platform AWS --status success
	assert_stdout_is_tail 1
	assert_jq '.seq == 5' "$output"
	verify_chain "$EV" 5
	assert_state_in_step
	assert_jq '.events.count == 5 and .events.failures == 1' "$(cat "$ST")"
}

@test "STATE.json that is not JSON is rebuilt from the log" {
	emit_ok pipeline_updated --resource ci --action update --platform Docker --status success
	printf '{"truncat' >"$ST"
	emit_ok pipeline_updated --resource ci --action update --platform Docker --status success
	verify_chain "$EV" 3
	assert_state_in_step
}

# --- the chain ------------------------------------------------------------------------------

@test "chain: after several emits seq runs 1..N and every prev is the sha256 of the line before" {
	local i
	for i in 1 2 3 4 5; do
		emit_ok pipeline_updated --resource ci --action update --platform Docker --status success "run:=$i"
	done
	emit_ok - <<<'{"event_type":"metric_recorded","details":{"configuration":{"name":"n","value":1,"unit":"x"}}}
{"event_type":"metric_recorded","details":{"configuration":{"name":"n","value":2,"unit":"x"}}}'
	verify_chain "$EV" 8
	assert_jq '.prev == null and .seq == 1 and .event_type == "session_started"' "$(head -n 1 "$EV")"
	assert_state_in_step
}

@test "concurrency: 8 writers x 100 events into one session leave 801 lines, seq 1..801, chain intact" {
	local w pids=() pid failed=0
	for w in 1 2 3 4 5 6 7 8; do
		(
			for i in $(seq 1 100); do
				hive-emit -q pipeline_updated --resource "w$w" --action update --platform Docker \
					--status success "writer=$w" "i:=$i" >/dev/null || exit 1
			done
		) 2>"$BATS_TEST_TMPDIR/writer-$w.err" 3>&- &
		pids+=("$!")
	done
	for pid in "${pids[@]}"; do
		wait "$pid" || failed=$((failed + 1))
	done
	((failed == 0)) || fail "$(printf '%d writers failed:\n%s' "$failed" "$(cat "$BATS_TEST_TMPDIR"/writer-*.err)")"
	[[ "$(lines_of "$EV")" == 801 ]] || fail "expected 801 lines, got $(lines_of "$EV")"
	verify_chain "$EV" 801
	assert_state_in_step
	assert_jq '.events.count == 801 and .events.last_seq == 801' "$(cat "$ST")"
	# every event of every writer, once, in each writer's own order
	for w in 1 2 3 4 5 6 7 8; do
		[[ "$(jq -r --arg w "$w" 'select(.details.configuration.writer == $w) | .details.configuration.i' "$EV" | paste -sd,)" == "$(seq -s, 1 100)" ]] ||
			fail "writer $w's events are missing, doubled or out of order"
	done
}

@test "concurrency: 4 streams of 200 events at once each land whole, contiguous and in order" {
	local w pids=() pid failed=0
	for w in 1 2 3 4; do
		for i in $(seq 1 200); do
			printf '{"event_type":"pipeline_updated","details":{"resource":"s%s","action":"update","platform":"Docker","status":"success","configuration":{"writer":"%s","i":%s}}}\n' "$w" "$w" "$i"
		done >"$BATS_TEST_TMPDIR/stream-$w"
	done
	for w in 1 2 3 4; do
		hive-emit - <"$BATS_TEST_TMPDIR/stream-$w" >/dev/null 2>"$BATS_TEST_TMPDIR/stream-$w.err" 3>&- &
		pids+=("$!")
	done
	for pid in "${pids[@]}"; do
		wait "$pid" || failed=$((failed + 1))
	done
	((failed == 0)) || fail "$(printf '%d streams failed:\n%s' "$failed" "$(cat "$BATS_TEST_TMPDIR"/stream-*.err)")"
	verify_chain "$EV" 801
	assert_state_in_step
	for w in 1 2 3 4; do
		# a block of 200 consecutive lines, i = 1..200
		[[ "$(jq -r --arg w "$w" 'select(.details.configuration.writer == $w) | "\(.seq - .details.configuration.i)"' "$EV" | sort -u | wc -l)" == 1 ]] ||
			fail "stream $w was interleaved with another"
		[[ "$(jq -r --arg w "$w" 'select(.details.configuration.writer == $w) | .details.configuration.i' "$EV" | paste -sd,)" == "$(seq -s, 1 200)" ]] ||
			fail "stream $w's events are missing or out of order"
	done
}

# --- durability: disk full, symlinks, the lock, a torn log ------------------------------

# mount_tmpfs SIZE: a tiny tmpfs at $TMPFS (unmounted in teardown). CI runs as root; a
# machine where this fails must not pass these tests silently.
mount_tmpfs() {
	TMPFS="$REPO/tmpfs" # inside the work tree: a root outside it is refused (SPEC 9)
	mkdir -p "$TMPFS"
	mount -t tmpfs -o "size=$1" tmpfs "$TMPFS" ||
		fail "cannot mount a tmpfs at $TMPFS as uid $(id -u): the disk-full tests need root (CI runs as root)"
}

@test "disk full: an event that cannot fit is exit 3, EVENTS.jsonl and STATE.json unchanged, no temporary files" {
	mount_tmpfs 256k
	hive-init -q --root "$TMPFS/hive" --session full >/dev/null
	local sess="$TMPFS/hive/sessions/full"
	emit_ok --root "$TMPFS/hive" --session full "${DEPLOY[@]}" small=1
	{
		printf '{"blob":"'
		head -c 300000 /dev/zero | tr '\0' x
		printf '"}'
	} >"$BATS_TEST_TMPDIR/big.json"
	snapshot "$TMPFS"
	snapshot "$REPO"
	emit --root "$TMPFS/hive" --session full "${DEPLOY[@]}" --json "@$BATS_TEST_TMPDIR/big.json"
	[[ "$status" == 3 ]] || fail "exit $status, expected 3; stderr: $stderr"
	[[ "$stderr" == "hive-emit: error: "*"EVENTS.jsonl"*"No space left on device" ]] || fail "stderr: $stderr"
	[[ ! -s "$OUT" ]] || fail "stdout should be empty"
	assert_unchanged "$TMPFS"
	assert_unchanged "$REPO"
	[[ -z "$(find "$TMPFS" -name '*.tmp*')" ]] || fail "temporary files left: $(find "$TMPFS" -name '*.tmp*')"
	verify_chain "$sess/EVENTS.jsonl" 2
	assert_state_in_step "$sess/STATE.json" "$sess/EVENTS.jsonl"
}

@test "disk full: a full filesystem (the append fits, STATE.json does not) is exit 3 with the log unchanged" {
	mount_tmpfs 256k
	hive-init -q --root "$TMPFS/hive" --session full >/dev/null
	local sess="$TMPFS/hive/sessions/full"
	dd if=/dev/zero of="$TMPFS/fill" bs=4k 2>/dev/null || true
	[[ "$(df --output=avail "$TMPFS" | tail -n 1 | tr -d ' ')" == 0 ]] || fail "the tmpfs is not full"
	snapshot "$TMPFS"
	emit --root "$TMPFS/hive" --session full "${DEPLOY[@]}" small=1
	[[ "$status" == 3 ]] || fail "exit $status, expected 3; stderr: $stderr"
	[[ "$stderr" == "hive-emit: error: "*"No space left on device" ]] || fail "stderr: $stderr"
	[[ ! -s "$OUT" ]] || fail "stdout should be empty"
	assert_unchanged "$TMPFS"
	# once there is room again, the same emit works and the chain is whole
	rm "$TMPFS/fill"
	emit_ok --root "$TMPFS/hive" --session full "${DEPLOY[@]}" small=1
	verify_chain "$sess/EVENTS.jsonl" 2
	assert_state_in_step "$sess/STATE.json" "$sess/EVENTS.jsonl"
}

@test "symlinks: a session folder that is a link to another session is refused, its target unchanged" {
	ln -s s1 "$(session_dir s2)"
	refused_like 3 'hive-emit: error: */sessions/s2: is a symbolic link (refused)' --session s2 "${DEPLOY[@]}"
	ln -s "$S1" "$(session_dir s3)"
	refused_like 3 'hive-emit: error: */sessions/s3: is a symbolic link (refused)' --session s3 "${DEPLOY[@]}"
	[[ "$(lines_of "$EV")" == 1 ]] || fail "the target session was written"
}

@test "symlinks: a sessions folder that is a link is refused" {
	mv Docs/hive-mind/sessions Docs/hive-mind/real-sessions
	ln -s real-sessions Docs/hive-mind/sessions
	refused_like 3 'hive-emit: error: */sessions: is a symbolic link (refused)' "${DEPLOY[@]}"
}

@test "symlinks: an EVENTS.jsonl that is a link is refused, its target unchanged" {
	hive-init -q --session s2 >/dev/null
	local s2
	s2="$(session_dir s2)"
	rm "$s2/EVENTS.jsonl"
	ln -s ../s1/EVENTS.jsonl "$s2/EVENTS.jsonl"
	refused_like 3 'hive-emit: error: */sessions/s2/EVENTS.jsonl: is a symbolic link (refused)' \
		--session s2 "${DEPLOY[@]}"
	[[ "$(lines_of "$EV")" == 1 ]] || fail "the link's target was written"
}

@test "symlinks: a .lock that is a link is refused, its target unchanged and not created" {
	hive-init -q --session s2 >/dev/null
	local s2
	s2="$(session_dir s2)"
	rm "$s2/.lock"
	ln -s ../s1/.lock "$s2/.lock"
	refused_like 3 'hive-emit: error: */sessions/s2/.lock: is a symbolic link (refused)' \
		--session s2 "${DEPLOY[@]}"
	rm "$s2/.lock"
	ln -s "$REPO/not-there.lock" "$s2/.lock"
	refused_like 3 'hive-emit: error: */sessions/s2/.lock: is a symbolic link (refused)' \
		--session s2 "${DEPLOY[@]}"
	[[ ! -e "$REPO/not-there.lock" ]] || fail "the dangling link's target was created"
}

@test "symlinks: a STATE.json that is a link is refused, its target unchanged" {
	hive-init -q --session s2 >/dev/null
	local s2
	s2="$(session_dir s2)"
	rm "$s2/STATE.json"
	ln -s ../s1/STATE.json "$s2/STATE.json"
	refused_like 3 'hive-emit: error: */sessions/s2*STATE.json*symbolic link*' --session s2 "${DEPLOY[@]}"
}

@test "lock timeout: a held .lock is exit 3 after HIVE_LOCK_TIMEOUT, nothing written" {
	local ready="$BATS_TEST_TMPDIR/locked"
	(flock -x 9 && : >"$ready" && exec sleep 30) 9<"$S1/.lock" 3>&- >/dev/null 2>&1 &
	HOLDER_PID=$!
	local n=0
	until [[ -e "$ready" ]]; do
		((n++ < 100)) || fail "the lock holder did not start"
		sleep 0.05
	done
	HIVE_LOCK_TIMEOUT=1 refused_like 3 'hive-emit: error: */sessions/s1/.lock: still held by another process after 1s (HIVE_LOCK_TIMEOUT)' \
		"${DEPLOY[@]}"
	# once the holder lets go, the same emit goes through
	kill "$HOLDER_PID"
	wait "$HOLDER_PID" || true
	HOLDER_PID=
	HIVE_LOCK_TIMEOUT=1 emit_ok "${DEPLOY[@]}"
	verify_chain "$EV" 2
}

@test "a torn last line (no newline) is exit 3 naming hive-check --repair, the file unchanged" {
	emit_ok "${DEPLOY[@]}"
	printf '{"seq":3,"timestamp":"2025-01-15T10:3' >>"$EV"
	refused_like 3 'hive-emit: error: */sessions/s1/EVENTS.jsonl: the last line is cut off (no newline): run hive-check --repair' \
		"${DEPLOY[@]}"
	refused_like 3 'hive-emit: error: *hive-check --repair' - <<<'{"event_type":"pipeline_updated","details":{"resource":"ci","action":"update","platform":"Docker","status":"success"}}'
}

@test "a log that cannot be appended to (missing, empty, last line not an event) is exit 3, unchanged" {
	hive-init -q --session s2 >/dev/null
	local s2
	s2="$(session_dir s2)"
	printf 'not json\n' >>"$s2/EVENTS.jsonl"
	refused_like 3 'hive-emit: error: */sessions/s2/EVENTS.jsonl: the last line is not an event with a seq: run hive-check' \
		--session s2 "${DEPLOY[@]}"
	: >"$s2/EVENTS.jsonl"
	refused_like 3 'hive-emit: error: */sessions/s2/EVENTS.jsonl: empty (no session_started): run hive-init' \
		--session s2 "${DEPLOY[@]}"
	rm "$s2/EVENTS.jsonl"
	refused_like 3 'hive-emit: error: */sessions/s2/EVENTS.jsonl: No such file or directory' \
		--session s2 "${DEPLOY[@]}"
}

@test "a corrupt line inside the log blocks the rebuild of a missing STATE.json: exit 3, unchanged" {
	emit_ok "${DEPLOY[@]}"
	emit_ok "${DEPLOY[@]}"
	sed -i '2s/^{/{{/' "$EV"
	rm "$ST"
	refused_like 3 'hive-emit: error: */sessions/s1/EVENTS.jsonl:2: not a whole JSON line: run hive-check' "${DEPLOY[@]}"
}

# --- git context --------------------------------------------------------------------------

@test "git context: commit, branch, dirty; HIVE_GIT_DIRTY=0 gives dirty null" {
	local head
	head="$(git rev-parse HEAD)"
	emit_ok "${DEPLOY[@]}"
	assert_jq '.git == {"commit":$h,"branch":"main","dirty":false,"tag":null,"remote":null}' "$output" --arg h "$head"
	printf 'RUN true\n' >>Dockerfile
	# reading git writes nothing in .git (no index refresh)
	snapshot "$REPO/.git"
	emit_ok "${DEPLOY[@]}"
	assert_jq '.git.dirty == true' "$output"
	assert_unchanged "$REPO/.git"
	HIVE_GIT_DIRTY=0 emit_ok "${DEPLOY[@]}"
	assert_jq '.git == {"commit":$h,"branch":"main","dirty":null,"tag":null,"remote":null}' "$output" --arg h "$head"
	# git: {dirty: false} in the config does the same
	printf 'git:\n  dirty: false\n' >.hive.yml
	emit_ok "${DEPLOY[@]}"
	assert_jq '.git.dirty == null' "$output"
	verify_chain "$EV" 5
}

@test "git context: a stream of 3 events carries one git object, computed once" {
	printf 'RUN true\n' >>Dockerfile
	git tag v1.0.0
	local line='{"event_type":"pipeline_updated","details":{"resource":"ci","action":"update","platform":"Docker","status":"success"}}'
	emit_ok - <<<"$line
$line
$line"
	assert_stdout_is_tail 3
	[[ "$(jq -c .git "$OUT" | sort -u | wc -l)" == 1 ]] || fail "$(printf 'git differs between events:\n%s' "$(jq -c .git "$OUT")")"
	assert_jq '.git == {"commit":$h,"branch":"main","dirty":true,"tag":"v1.0.0","remote":null}' "$(head -n 1 "$OUT")" --arg h "$(git rev-parse HEAD)"
	HIVE_GIT_DIRTY=0 emit_ok - <<<"$line
$line
$line"
	[[ "$(jq -c .git.dirty "$OUT" | paste -sd,)" == null,null,null ]] || fail "dirty: $(jq -c .git.dirty "$OUT" | paste -sd,)"
}

# --- policies at write time (SPEC 2: exit 1, nothing written) -----------------------------

@test "write-time policy: an event that breaks policies is exit 1 naming each and what satisfies it, nothing written" {
	printf 'policy:\n  require_tags: [team, cost-center]\n  require_rollback: true\n' >.hive.yml
	run_refused 1 '^hive-emit: error: event 1 \(deployment_configured\) breaks 3 policies' \
		hive-emit "${DEPLOY[@]}" environment=prod
	assert_stderr "hive-emit: error: event 1 (deployment_configured) breaks 3 policies of the configuration, so nothing was written:
  policy.require_tags: deployment_configured of api has no configuration.tags.team: add tags.team=VALUE
  policy.require_tags: deployment_configured of api has no configuration.tags.cost-center: add tags.cost-center=VALUE
  policy.require_rollback: deployment_configured has no configuration.rollback: add rollback='how to undo it' (for example rollback='helm rollback api')"
	# one tag given: the other is still named, alone
	run_refused 1 'breaks 2 policies' hive-emit "${DEPLOY[@]}" tags.team=web
	assert_stderr --partial 'policy.require_tags: deployment_configured of api has no configuration.tags.cost-center'
	[[ "$stderr" != *'tags.team=VALUE'* ]] || fail "a given tag named as missing: $stderr"
	# what the message asks for is enough: written, and the gate agrees
	emit_ok "${DEPLOY[@]}" tags.team=web tags.cost-center=42 rollback='helm rollback api'
	[[ "$(lines_of "$EV")" == 2 ]]
	run hive-check --session s1
	assert_success
	# a deletion needs no tags (as in the gate)
	emit_ok deployment_configured --resource api --action delete --platform K8s \
		--status success rollback=none
}

@test "write-time policy: require_clean_tree and require_ci at write time; a stream is all or nothing" {
	printf 'policy:\n  require_clean_tree: [infrastructure_provisioned]\n  require_ci: [deployment_configured]\n' >.hive.yml
	git add .hive.yml && git commit -q -m policy
	emit_ok infrastructure_provisioned --resource vpc --action create --platform AWS --status success
	printf '# a local change\n' >>Dockerfile
	run_refused 1 'policy\.require_clean_tree: infrastructure_provisioned was recorded from a dirty work tree: commit or stash the changes first' \
		hive-emit infrastructure_provisioned --resource vpc --action update --platform AWS \
		--status success
	run_refused 1 'policy\.require_ci: deployment_configured was recorded outside CI: record it from the CI job' \
		hive-emit "${DEPLOY[@]}"
	CI=true emit_ok "${DEPLOY[@]}"
	# the second line of a stream breaks a policy: none of it is written
	printf '%s\n' '{"event_type":"pipeline_updated","details":{"resource":"ci","action":"update","platform":"Docker","status":"success"}}' \
		'{"event_type":"deployment_configured","details":{"resource":"api","action":"update","platform":"K8s","status":"success"}}' \
		>"$BATS_TEST_TMPDIR/stream.ndjson"
	run_refused 1 '^hive-emit: error: stdin: event 2 \(deployment_configured\) breaks 1 policy of the configuration, so nothing was written:' \
		hive-emit - <"$BATS_TEST_TMPDIR/stream.ndjson"
}

@test "--dry-run: the events validated and printed as they would be written, nothing written" {
	local line
	snapshot "$BATS_TEST_TMPDIR"
	run --separate-stderr hive-emit --dry-run "${DEPLOY[@]}" version=2
	assert_success
	assert_stderr 'hive-emit: --dry-run: nothing was written'
	assert_unchanged "$BATS_TEST_TMPDIR"
	assert_jq '.seq == 2 and .event_type == "deployment_configured" and .details.configuration.version == "2" and .prev == $p' \
		"$output" --arg p "sha256:$(sed -n 1p "$EV" | tr -d '\n' | sha256sum | cut -c1-64)"
	line=$output
	# the real thing writes the same event (but for its timestamp)
	emit_ok "${DEPLOY[@]}" version=2
	assert_equal "$(jq -c 'del(.timestamp)' <<<"$output")" "$(jq -c 'del(.timestamp)' <<<"$line")"
	# a dry run is held to the schema and to the policies like the real one
	run_refused 2 'details.status' hive-emit --dry-run deployment_configured --resource api \
		--action update --platform K8s
	printf 'policy:\n  require_rollback: true\n' >.hive.yml
	run_refused 1 'policy\.require_rollback' hive-emit --dry-run "${DEPLOY[@]}"
}

# Not a timing: what the binary links. An append is on every agent's and pipeline's path, and
# every page of code it carries is relocated at each start (SPEC 6's cost): the gate, the
# reports and the signature verification belong to hive-check and hive-runbook.
@test "hive-emit links no gate, report or signature verification code; hive-check does" {
	local want='^(hive_sshsig_verify|hive_gate_folder|hive_finish|hive_report_render|EVP_DigestVerify)$'
	command -v nm >/dev/null || skip "nm (binutils) is not installed"
	run bash -c 'nm --defined-only "$1" | awk "\$2 == \"T\" {print \$3}" | grep -E "$2" | sort' _ \
		"$BUILD_DIR/hive-check" "$want"
	assert_success
	assert_output $'EVP_DigestVerify\nhive_finish\nhive_gate_folder\nhive_report_render\nhive_sshsig_verify'
	run bash -c 'nm --defined-only "$1" | awk "\$2 == \"T\" {print \$3}" | grep -E "$2"' _ \
		"$BUILD_DIR/hive-emit" "$want|^hive_txn_commit$"
	assert_success
	assert_output 'hive_txn_commit'
}
