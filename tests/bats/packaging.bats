#!/usr/bin/env bats
# tests/bats/packaging.bats - what hive ships besides its binaries: SPEC 8 and issue 6 (5, 6)
#
#   - schemas/*.schema.json checked with the real validator, the npm package ajv-cli (with
#     ajv-formats for date-time), against every tool's real output: every built-in event
#     type, STATE.json after each step, METRICS.json, and .hive.yml files; and against the
#     tools' own verdicts, case by case (a line hive-check's schema rule refuses, ajv refuses)
#   - make install DESTDIR=… PREFIX=/usr, the installed tools run from there, make uninstall
#   - the man pages: mandoc -Tlint clean, EXIT STATUS and EXAMPLES in each, --help and the
#     SYNOPSIS naming the same options, and every EXAMPLES line run and exiting as documented
#   - the bash completion ($BUILD/hive.bash, made from completions/hive.bash.in and the
#     tools' option tables): options, values, event types and session ids
#
# ajv comes from tests/node_modules (tests/package.json, installed by `make deps`); when it
# is missing the tests that need it FAIL, they never skip. HIVE_TEST_AJV=PATH points them at
# another ajv-cli (with ajv-formats beside it) while developing.

# Single-quoted jq programs and shell snippets use their own $variables.
# shellcheck disable=SC2016,SC2030,SC2031

load test_helper

# Read before hive_setup clears every HIVE_* variable.
AJV=${HIVE_TEST_AJV:-$SRC_TOP/tests/node_modules/.bin/ajv}
SCHEMAS="$SRC_TOP/schemas"

setup() {
	hive_setup || return 1
	REPO="$BATS_TEST_TMPDIR/repo"
	make_repo "$REPO"
	REPO="$(cd "$REPO" && pwd -P)"
	cd "$REPO" || return 1
}

# --- helpers ----------------------------------------------------------------------------

require_ajv() {
	if [[ ! -x "$AJV" ]]; then
		fail "$AJV is missing: run 'make deps' (tests/package.json lists ajv-cli and ajv-formats; scripts/deps.sh installs them into tests/node_modules)"
	fi
	command -v node >/dev/null || fail "node is missing: ajv-cli needs Node.js (run 'make deps')"
}

# ajv_run SCHEMA FILE...: validate each FILE (JSON or YAML) against SCHEMA; the schema must
# compile in strict mode. Output: "FILE valid" or "FILE invalid" and the errors.
ajv_run() {
	local schema=$1
	shift
	local args=() f
	for f in "$@"; do
		args+=(-d "$f")
	done
	"$AJV" validate --spec=draft7 --strict=true -c ajv-formats --all-errors --errors=text \
		-s "$schema" "${args[@]}" 2>&1
}

# ajv_valid SCHEMA FILE...: every FILE is valid.
ajv_valid() {
	require_ajv
	run ajv_run "$@"
	if [[ $status -ne 0 ]]; then
		fail "$(printf 'ajv: not valid against %s (exit %s):\n%s' "${1##*/}" "$status" "$output")"
	fi
	# as many "valid" lines as files: a file that matched nothing would not be counted
	[[ $(grep -c ' valid$' <<<"$output") -eq $(($# - 1)) ]] ||
		fail "$(printf 'ajv did not validate every file:\n%s' "$output")"
}

# ajv_invalid SCHEMA FILE: FILE is invalid (exit 1 with "invalid"; a schema or file that
# cannot be read is exit 2 and fails the test).
ajv_invalid() {
	require_ajv
	run ajv_run "$@"
	if [[ $status -ne 1 ]] || ! grep -q " invalid$" <<<"$output"; then
		fail "$(printf 'ajv: expected %s to be invalid against %s, got exit %s:\n%s' "$2" "${1##*/}" "$status" "$output")"
	fi
}

# split_lines FILE DIR: each line of FILE as DIR/NNN.json
split_lines() {
	local n=0 line
	mkdir -p "$2"
	while IFS= read -r line; do
		n=$((n + 1))
		printf '%s\n' "$line" >"$(printf '%s/%03d.json' "$2" "$n")"
	done <"$1"
	[[ $n -gt 0 ]] || fail "$1 has no lines"
}

# emit ARGS…: hive-emit that must succeed.
emit() {
	run --separate-stderr hive-emit "$@"
	assert_success
}

# The configuration the event tests use: one configured type and platform.
write_config() {
	cat >"$1" <<-'EOF'
		events:
		  types: [cost_reviewed]
		  platforms: [OnPrem]
	EOF
}

# --- the schemas themselves -------------------------------------------------------------

@test "schemas: the five files, each a draft-07 JSON Schema that compiles in strict mode" {
	require_ajv
	run ls "$SCHEMAS"
	assert_output $'event.schema.json\nexport.schema.json\nhive-config.schema.json\nmetrics.schema.json\nstate.schema.json'
	for s in "$SCHEMAS"/*.json; do
		run "$AJV" compile --spec=draft7 --strict=true -c ajv-formats -s "$s"
		[[ $status -eq 0 ]] || fail "$(printf '%s does not compile:\n%s' "$s" "$output")"
		assert_jq '."$schema" == "http://json-schema.org/draft-07/schema#"' "$(cat "$s")"
	done
}

@test "schemas: \$id, title and description at the top, a description on every property" {
	for s in "$SCHEMAS"/*.json; do
		json="$(cat "$s")"
		assert_jq '(."$id" | test("^urn:hive:schema:[a-z-]+$")) and (.title | length > 0)
			and (.description | length > 40)' "$json"
		# every schema under a "properties" keyword names what it is (but an "if" condition)
		run jq -r '[paths(objects) as $p | select($p | length >= 2 and .[-2] == "properties" and (any(.[]; . == "if") | not))
			| select(getpath($p) | has("description") | not) | $p | map(tostring) | join(".")] | .[]' "$s"
		assert_success
		[[ -z $output ]] || fail "$(printf '%s: properties without a description:\n%s' "${s##*/}" "$output")"
	done
	# the $ids differ, one per file
	run jq -r '."$id"' "$SCHEMAS"/*.json
	[[ $(sort -u <<<"$output" | wc -l) -eq $(find "$SCHEMAS" -name '*.json' | wc -l) ]]
}

@test "schemas: git, ci, id, timestamp and hash are defined the same way in every schema that has them" {
	for def in id timestamp hash git ci; do
		ref="$(jq -cS ".definitions.$def" "$SCHEMAS/event.schema.json")"
		[[ $ref != null ]] || fail "event.schema.json has no definitions.$def"
		for s in "$SCHEMAS"/state.schema.json "$SCHEMAS"/metrics.schema.json; do
			got="$(jq -cS ".definitions.$def" "$s")"
			[[ $got == null || $got == "$ref" ]] ||
				fail "${s##*/}: definitions.$def differs from event.schema.json's"
		done
	done
	[[ $(jq -c .definitions.git "$SCHEMAS/state.schema.json") != null ]]
}

@test "event schema: its enums are the values the tools enforce, as their messages list them" {
	hive-init --session s1 -q >/dev/null
	schema="$SCHEMAS/event.schema.json"
	# list_of TEXT: the "a, b, c" after "is not one of", one a line
	list_of() { sed -n 's/.* is not one of \([^(]*\).*/\1/p' <<<"$1" | sed 's/ *$//' | tr -d ' ' | tr ',' '\n' | sort; }

	run --separate-stderr hive-emit --session s1 no_such_type
	assert_failure 2
	# the emittable types: every built-in type but the four the tools write themselves
	[[ "$(list_of "$stderr")" == "$(jq -r '.properties.event_type.anyOf[0].enum[]
		| select(. != "session_started" and . != "session_completed" and
			 . != "lane_started" and . != "session_joined")' "$schema" | sort)" ]] ||
		fail "event types: hive-emit says '$stderr'"

	base=(--session s1 deployment_configured --resource api --action update --platform K8s --status success)
	for field in action platform status; do
		args=("${base[@]}")
		for i in "${!args[@]}"; do
			[[ ${args[i]} == "--$field" ]] && args[i + 1]=bogus
		done
		run --separate-stderr hive-emit "${args[@]}"
		assert_failure 2
		case $field in
		platform) want="$(jq -r '.definitions.details.properties.platform.anyOf[0].enum[]' "$schema" | sort)" ;;
		*) want="$(jq -r ".definitions.details.properties.$field.enum[]" "$schema" | sort)" ;;
		esac
		[[ "$(list_of "$stderr")" == "$want" ]] || fail "$field: hive-emit says '$stderr'"
	done

	run --separate-stderr hive-emit --session s1 incident_detected --resource api --action update \
		--platform K8s --status failure severity=P9
	assert_failure 2
	[[ "$(list_of "$stderr")" == "$(jq -r '.definitions.incident_configuration.properties.severity.enum[]' "$schema" | sort)" ]] ||
		fail "severity: hive-emit says '$stderr'"

	# ci.provider: only hive-check meets a foreign one
	line="$(sed -n 1p "$(session_dir s1)/EVENTS.jsonl" | jq -c '.ci = {"provider":"jenkins"}')"
	printf '%s\n' "$line" >bare.jsonl
	run --separate-stderr hive-check --format json bare.jsonl
	assert_failure 1
	msg="$(jq -r 'select(.rule == "schema") | .message' <<<"$output")"
	[[ "$(list_of "$msg")" == "$(jq -r '.definitions.ci.properties.provider.enum[]' "$schema" | sort)" ]] ||
		fail "ci.provider: hive-check says '$msg'"
}

# --- every tool's real output against the schemas ---------------------------------------

@test "event schema: every built-in event type as hive-init, hive-emit and hive-runbook write it" {
	write_config .hive.yml
	export GITHUB_ACTIONS=true GITHUB_RUN_ID=8812 GITHUB_RUN_ATTEMPT=1 GITHUB_JOB=deploy \
		GITHUB_WORKFLOW=cd GITHUB_SERVER_URL=https://github.com GITHUB_REPOSITORY=acme/app
	hive-init -q >/dev/null
	emit deployment_configured --resource api --action update --platform K8s --status success \
		version=1.4.2 environment=production replicas:=3 tags.team=infra db_password=hunter2
	printed=$output
	emit infrastructure_provisioned --resource vpc-main --action create --platform AWS \
		--status success cidr=10.0.0.0/16 'url=https://bob:hunter2@example.com/x'
	emit pipeline_updated --resource ci --action update --platform Docker --status failure
	emit monitoring_added --resource api --action create --platform GCP --status success \
		--json '{"dashboard":"grafana/api","alerts":[{"p99":">1s"}]}'
	emit security_hardened --resource api --action delete --platform Azure --status success
	emit incident_detected --resource api --action update --platform K8s --status failure \
		severity=P1 'impact=checkout down'
	emit incident_responded --resource api --action update --platform K8s --status success \
		severity=P1 action_items:='["page on-call"]'
	emit incident_resolved --resource api --action update --platform K8s --status success \
		severity=P1 root_cause=oom action_items=scale
	emit metric_recorded name=monthly_cost value:=412.5 unit=USD
	emit metric_recorded --resource api --platform K8s name=p99 value:=-1e-3 unit=
	emit cost_reviewed
	emit cost_reviewed --resource budget --platform OnPrem --status success note=ok
	# the stream form
	printf '%s\n' '{"event_type":"monitoring_added","details":{"resource":"db","action":"create","platform":"AWS","status":"success"}}' \
		'{"event_type":"metric_recorded","details":{"configuration":{"name":"rows","value":7,"unit":""}}}' |
		hive-emit - >/dev/null
	# an agent's tool calls, as Claude Code's hooks hand them to hive-emit --from
	echo '{"session_id":"s-1","hook_event_name":"PostToolUse","tool_name":"Bash","tool_input":{"command":"kubectl get pods"},"tool_use_id":"toolu_1","tool_response":{"stdout":"x"}}' |
		hive-emit --session gh-8812-1 --from claude-code
	echo '{"session_id":"s-1","hook_event_name":"PostToolUseFailure","tool_name":"mcp__db__query","tool_input":{"sql":"select 1","password":"hunter2"},"error":"timeout"}' |
		hive-emit --session gh-8812-1 --from claude-code
	# a lane (lane_started, then its event; --finish writes session_joined)
	emit --lane deploy-eu deployment_configured --resource api --action update --platform K8s \
		--status in_progress environment=eu
	run --separate-stderr hive-runbook --finish
	assert_success
	log="$(session_dir gh-8812-1)/EVENTS.jsonl"
	lane="$(session_dir gh-8812-1)/lanes/deploy-eu.jsonl"
	# every built-in type is there
	run jq -rn --slurpfile s "$SCHEMAS/event.schema.json" '$s[0].properties.event_type.anyOf[0].enum[]'
	for t in $output; do
		grep -q "\"event_type\":\"$t\"" "$log" "$lane" || fail "the logs have no $t line"
	done
	split_lines "$lane" lane-lines
	ajv_valid "$SCHEMAS/event.schema.json" lane-lines/*.json
	# hive-emit prints each event exactly as written
	[[ $printed == "$(sed -n 2p "$log")" ]] || fail "hive-emit printed '$printed'"
	assert_jq '.ci.provider == "github" and .details.configuration.db_password == "[REDACTED]"' "$printed"
	split_lines "$log" lines
	ajv_valid "$SCHEMAS/event.schema.json" lines/*.json
}

@test "event schema: outside a repository and outside CI (git null, ci null), generic CI, GitLab CI" {
	T="$BATS_TEST_TMPDIR/plain"
	mkdir -p "$T"
	cd "$T"
	export GIT_CEILING_DIRECTORIES="$BATS_TEST_TMPDIR"
	hive-init -q --session plain >/dev/null
	emit --session plain metric_recorded name=x value:=1 unit=s
	CI=true hive-init -q --session ci-generic >/dev/null
	CI=true emit --session ci-generic pipeline_updated --resource ci --action update --platform Docker --status success
	GITLAB_CI=true CI_PIPELINE_ID=5531 CI_JOB_ID=9 CI_JOB_NAME=init \
		CI_JOB_URL=https://gitlab.example.com/acme/app/-/jobs/9 hive-init -q >/dev/null
	cd "$REPO"
	HIVE_GIT_DIRTY=0 hive-init -q --session dirty-unknown >/dev/null
	echo change >>Dockerfile
	emit --session dirty-unknown security_hardened --resource api --action update --platform K8s --status success
	cat "$T"/Docs/hive-mind/sessions/*/EVENTS.jsonl "$(session_dir dirty-unknown)/EVENTS.jsonl" >all.jsonl
	assert_jq '.git == null and .ci == null' "$(event_line "$T/Docs/hive-mind/sessions/plain/EVENTS.jsonl" 2)"
	grep -q '"provider":"gitlab"' all.jsonl
	grep -q '"provider":"ci"' all.jsonl
	grep -q '"dirty":null' all.jsonl
	split_lines all.jsonl lines
	ajv_valid "$SCHEMAS/event.schema.json" lines/*.json
}

@test "event schema: a broken event fails, with the field named" {
	hive-init -q --session s1 >/dev/null
	emit --session s1 deployment_configured --resource api --action update --platform K8s --status success
	sed -n 2p "$(session_dir s1)/EVENTS.jsonl" >good.json
	ajv_valid "$SCHEMAS/event.schema.json" good.json
	jq -c '.details.action = "destroy"' good.json >destroy.json
	ajv_invalid "$SCHEMAS/event.schema.json" destroy.json
	assert_output --partial 'action'
	# and hive-check says the same of that line
	run hive-check --format json destroy.json
	assert_failure 1
	assert_output --partial '"rule":"schema"'
	assert_output --partial 'details.action: \"destroy\" is not one of create, update, delete'
}

@test "event schema agrees with hive-check's schema rule, line by line" {
	write_config cfg.yml
	H40=$(printf 'a%.0s' {1..40})
	H64=$(printf 'b%.0s' {1..64})
	base='{"seq":2,"timestamp":"2025-01-15T10:30:00.123Z","event_type":"deployment_configured",
		"worker":"devops-worker","session_id":"s1",
		"details":{"resource":"api","action":"update","platform":"K8s","configuration":{},"status":"success"},
		"git":{"commit":"'$H40'","branch":"main","dirty":false,"tag":null,"remote":null},
		"ci":{"provider":"github","run_id":"1","run_attempt":"1","job":"d","workflow":"w","url":"u"},
		"prev":"sha256:'$H64'"}'
	# expected verdict, then a jq edit of the base line
	cases=$(
		cat <<-'EOF'
			valid	.
			valid	.git = null | .ci = null
			valid	.prev = null
			valid	.timestamp = "2025-01-15T10:30:00Z"
			valid	.timestamp = "2024-02-29t10:30:00.5z"
			valid	.timestamp = "2025-01-15T10:30:00.123456+00:00"
			invalid	.timestamp = "2025-01-15T10:30:00.123+01:00"
			invalid	.timestamp = "2025-02-30T10:30:00Z"
			invalid	.timestamp = "2025-13-01T10:30:00Z"
			invalid	.timestamp = "2025-01-15 10:30:00Z"
			invalid	.timestamp = "2025-01-15T10:30:00"
			invalid	.timestamp = 1736937000
			invalid	.details.action = "destroy"
			invalid	.details.action = "Create"
			invalid	.details.platform = "K 8s"
			valid	.details.platform = "OnPrem"
			invalid	.details.status = "ok"
			valid	.details.status = "in_progress"
			invalid	.event_type = "infrastructure_provisioned" | .details.status = "in_progress"
			valid	.event_type = "infrastructure_provisioned" | .details.status = "failure"
			invalid	del(.details.status)
			invalid	del(.details.resource)
			invalid	del(.details.action)
			invalid	del(.details.platform)
			invalid	.details.resource = ""
			invalid	.details.resource = 5
			valid	del(.details.configuration)
			valid	.details.configuration = {"tags":{"team":"infra"},"replicas":3,"x":null}
			invalid	.details.configuration = []
			invalid	.details.configuration = null
			invalid	.details.env = "prod"
			invalid	.details = []
			invalid	.seq = 0
			invalid	.seq = 1.5
			invalid	.seq = "2"
			valid	.seq = 9007199254740992
			invalid	.worker = ".w"
			invalid	.worker = "a/b"
			invalid	.worker = ""
			invalid	.session_id = ("x" * 129)
			valid	.session_id = ("x" * 128)
			valid	.session_id = "_a.b-c"
			invalid	.session_id = "-a"
			invalid	.prev = "sha256:" + ("A" * 64)
			invalid	.prev = "sha256:" + ("a" * 63)
			invalid	.prev = "sha1:" + ("a" * 64)
			invalid	del(.prev)
			invalid	del(.ci)
			invalid	.extra = 1
			invalid	.git.extra = 1
			invalid	del(.git.dirty)
			invalid	del(.git.tag)
			invalid	.git.commit = ("A" * 40)
			invalid	.git.commit = ("a" * 41)
			valid	.git.commit = ("a" * 64)
			valid	.git.commit = null | .git.dirty = null | .git.branch = null
			invalid	.git.dirty = "no"
			invalid	.git.remote = 1
			invalid	.git = "main"
			invalid	.ci = {}
			invalid	.ci.provider = "jenkins"
			invalid	.ci.run_id = 1
			valid	.ci = {"provider":"ci"}
			valid	.ci.custom = null | .ci.other = "x"
			invalid	.ci = []
			invalid	.event_type = 5
			invalid	.event_type = "Deploy"
			valid	.event_type = "cost_reviewed" | .details = {}
			valid	.event_type = "cost_reviewed" | .details = {"resource":"x","platform":"OnPrem"}
			invalid	.event_type = "cost_reviewed" | .details.status = "maybe"
			invalid	.event_type = "cost_reviewed" | .details.note = "x"
			valid	.event_type = "incident_detected" | .details.configuration = {"severity":"P1","impact":"x","root_cause":"y","action_items":["a"]}
			valid	.event_type = "incident_resolved" | .details.configuration = {"severity":"P4","action_items":"one"}
			invalid	.event_type = "incident_detected"
			invalid	.event_type = "incident_detected" | del(.details.configuration)
			invalid	.event_type = "incident_detected" | .details.configuration.severity = "P5"
			invalid	.event_type = "incident_responded" | .details.configuration = {"severity":"P2","action_items":[1]}
			invalid	.event_type = "incident_responded" | .details.configuration = {"severity":"P2","impact":null}
			invalid	.event_type = "incident_detected" | .details.configuration.severity = "P1" | del(.details.platform)
			valid	.event_type = "metric_recorded" | .details = {"configuration":{"name":"cost","value":412.5,"unit":"USD"}}
			valid	.event_type = "metric_recorded" | .details.configuration = {"name":"p99","value":-1,"unit":""}
			invalid	.event_type = "metric_recorded" | .details = {"configuration":{"name":"cost","value":"42","unit":"USD"}}
			invalid	.event_type = "metric_recorded" | .details = {"configuration":{"name":"","value":1,"unit":"USD"}}
			invalid	.event_type = "metric_recorded" | .details = {"configuration":{"name":"cost","value":1}}
			invalid	.event_type = "metric_recorded" | .details = {}
			valid	.event_type = "tool_used" | .details = {"resource":"Bash","configuration":{"agent":"claude-code","hook":"PostToolUse","input":"ls","input_bytes":2,"input_truncated":false},"status":"success"}
			valid	.event_type = "tool_used" | .details = {"resource":"Bash","status":"failure"}
			invalid	.event_type = "tool_used" | .details = {"resource":"Bash"}
			invalid	.event_type = "tool_used" | .details = {"status":"success"}
			invalid	.event_type = "tool_used" | .details = {"resource":"Bash","configuration":{"input":1},"status":"success"}
			invalid	.event_type = "tool_used" | .details = {"resource":"Bash","configuration":{"tool_response":"x"},"status":"success"}
			invalid	.event_type = "tool_used" | .details = {"resource":"Bash","configuration":{"input":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},"status":"success"}
			invalid	.event_type = "metric_recorded" | .details.action = "destroy" | .details.configuration = {"name":"c","value":1,"unit":"u"}
			valid	.event_type = "session_started" | .details = {"worker_profile":null,"requirements":{}}
			valid	.event_type = "session_started" | .details = {"requirements":{"docker":["Dockerfile"]},"anything":1}
			invalid	.event_type = "session_started" | .details = {"worker_profile":null}
			invalid	.event_type = "session_started" | .details = {"requirements":[]}
			valid	.event_type = "session_completed" | .details = {"status":"failure"}
			valid	.event_type = "session_completed" | .details = {"status":"success","note":1}
			invalid	.event_type = "session_completed" | .details = {}
			invalid	.event_type = "session_completed" | .details = {"status":"done"}
		EOF
	)
	mkdir lines
	n=0
	declare -A want
	while IFS=$'\t' read -r verdict edit; do
		n=$((n + 1))
		f=$(printf 'lines/%03d.json' "$n")
		jq -c "$edit" <<<"$base" >"$f" || fail "bad jq edit: $edit"
		want[$f]=$verdict
		edits[n]=$edit
	done <<<"$cases"
	# hive-check's verdict: a schema finding for the line, or none
	run --separate-stderr hive-check --config cfg.yml --format json lines/*.json
	refused="$(jq -r 'select(.rule == "schema") | .file' <<<"$output" | sort -u)"
	# ajv's verdict
	require_ajv
	run ajv_run "$SCHEMAS/event.schema.json" lines/*.json
	[[ $status -le 1 ]] || fail "$(printf 'ajv failed:\n%s' "$output")"
	ajv_out=$output
	bad=
	for ((i = 1; i <= n; i++)); do
		f=$(printf 'lines/%03d.json' "$i")
		hive=valid
		grep -qx "$f" <<<"$refused" && hive=invalid
		schema=$(awk -v f="$f" '$1 == f && NF == 2 && ($2 == "valid" || $2 == "invalid") { print $2 }' <<<"$ajv_out")
		if [[ $hive != "${want[$f]}" || $schema != "${want[$f]}" ]]; then
			bad+=$(printf '\n  %s: expected %s, hive-check %s, schema %s' "${edits[i]}" "${want[$f]}" "$hive" "${schema:-no verdict}")
		fi
	done
	[[ -z $bad ]] || fail "verdicts differ:$bad"
}

@test "state schema: STATE.json after hive-init, after each hive-emit, after --finish (success and failure)" {
	write_config .hive.yml
	snap() { cp "$(session_dir "$1")/STATE.json" "states/$1-$2.json"; }
	mkdir states
	hive-init -q --session s1 >/dev/null
	snap s1 0
	assert_jq '.worker_profile.name == "devops-worker" and (.requirements.docker == ["Dockerfile"])' "$(cat states/s1-0.json)"
	emit --session s1 deployment_configured --resource api --action update --platform K8s --status success version=1.4.2 environment=production
	snap s1 1
	emit --session s1 incident_detected --resource api --action update --platform K8s --status failure severity=P2
	snap s1 2
	emit --session s1 cost_reviewed --platform OnPrem
	snap s1 3
	emit --session s1 metric_recorded name=cost value:=3 unit=USD
	snap s1 4
	run --separate-stderr hive-runbook --session s1 --finish
	assert_success
	snap s1 5
	assert_jq '.status == "completed" and .completed_at != null and .deployment.status == "success"' "$(cat states/s1-5.json)"
	# a failed session outside a repository, in CI, with no worker definition
	T="$BATS_TEST_TMPDIR/plain"
	mkdir -p "$T"
	(
		cd "$T" || exit 1
		export GIT_CEILING_DIRECTORIES="$BATS_TEST_TMPDIR" CI=true
		hive-init -q --session s2 >/dev/null &&
			hive-emit -q --session s2 deployment_configured --resource api --action create --platform AWS --status failure >/dev/null &&
			hive-runbook -q --session s2 --finish --status failure >/dev/null
	) || fail "the session outside a repository failed"
	cp "$T/Docs/hive-mind/sessions/s2/STATE.json" states/s2-done.json
	assert_jq '.status == "failed" and .git == null and .ci == {"provider":"ci"} and .worker_profile == null
		and (.deployment | del(.environments)) == {"status":"failure","environment":null,"version":null}
		and (.deployment.environments | keys) == ["unspecified"]
		and .deployment.environments.unspecified.status == "failure"' "$(cat states/s2-done.json)"
	# an environment under way, and STATE.json of an older hive (no environments)
	hive-init -q --session s1b >/dev/null
	emit --session s1b deployment_configured --resource api --action update --platform K8s --status in_progress environment=staging
	snap s1b 1
	assert_jq '.deployment.status == "in_progress" and .deployment.environments.staging.status == "in_progress"' "$(cat states/s1b-1.json)"
	jq -c 'del(.deployment.environments)' states/s1-5.json >states/older.json
	ajv_valid "$SCHEMAS/state.schema.json" states/*.json
	# a broken one is refused
	jq -c '.status = "done"' states/s1-5.json >broken.json
	ajv_invalid "$SCHEMAS/state.schema.json" broken.json
	jq -c 'del(.events.last_hash)' states/s1-5.json >broken.json
	ajv_invalid "$SCHEMAS/state.schema.json" broken.json
}

@test "metrics schema: METRICS.json of finished sessions and the metrics of hive-runbook --format json" {
	mkdir metrics
	hive-init -q --session s1 >/dev/null
	emit --session s1 deployment_configured --resource api --action update --platform K8s --status success version=1.4.2
	emit --session s1 deployment_configured --resource api --action update --platform K8s --status failure version=1.4.3
	emit --session s1 incident_detected --resource api --action update --platform K8s --status failure severity=P2
	emit --session s1 incident_resolved --resource api --action update --platform K8s --status success severity=P2
	emit --session s1 metric_recorded --resource api name=cost value:=412.5 unit=USD
	emit --session s1 metric_recorded name=cost value:=413 unit=USD
	emit --session s1 metric_recorded name=p99 value:=0.4 unit=seconds
	# while the session is open: status active, completed_at null
	run --separate-stderr hive-runbook --session s1 --format json
	assert_success
	jq .metrics <<<"$output" >metrics/s1-open.json
	assert_jq '.status == "active" and .completed_at == null and .deployments.change_failure_rate == 0.5
		and (.incidents.mttr_s | type) == "number"
		and ([.metrics.cost.by_resource[] | [.resource, .value]] == [["api", 412.5], [null, 413]])
		and .metrics.cost.totals == [{unit: "USD", value: 825.5, resources: 2}]' "$(cat metrics/s1-open.json)"
	run --separate-stderr hive-runbook --session s1 --finish
	assert_success
	cp "$(session_dir s1)/METRICS.json" metrics/s1.json
	# nothing recorded: nulls, never zeros
	hive-init -q --session s2 >/dev/null
	run --separate-stderr hive-runbook --session s2 --finish --status failure
	assert_success
	cp "$(session_dir s2)/METRICS.json" metrics/s2.json
	assert_jq '.status == "failed" and .deployments.change_failure_rate == null and .incidents.mttr_s == null
		and .lead_time_s == null and .metrics == {}' "$(cat metrics/s2.json)"
	# METRICS.json sealed by an older hive (the last value of each name) is still valid
	jq '.metrics |= map_values(.by_resource[-1]) | del(.deployments.failed_changes, .incidents.linked_to_deployments)' \
		metrics/s1.json >metrics/older.json
	ajv_valid "$SCHEMAS/metrics.schema.json" metrics/*.json
	jq '.deployments.change_failure_rate = 1.5' metrics/s1.json >broken.json
	ajv_invalid "$SCHEMAS/metrics.schema.json" broken.json
	jq 'del(.lead_time_s)' metrics/s1.json >broken.json
	ajv_invalid "$SCHEMAS/metrics.schema.json" broken.json
}

# --- .hive.yml --------------------------------------------------------------------------

# hive_accepts FILE: hive reads FILE as its configuration without complaint.
hive_accepts() {
	run --separate-stderr hive-check --config "$1" --all
	[[ $status -eq 0 ]] || fail "$(printf 'hive refuses %s (exit %s): %s' "$1" "$status" "$stderr")"
}

@test "config schema: SPEC 2.4's example, hive(7)'s example and a full configuration in JSON" {
	# SPEC 2.4, as written there
	cat >spec.yml <<-'EOF'
		root: Docs/hive-mind
		worker: devops-worker            # default worker name
		workers_dir: .claude/agents      # agent definitions: Markdown with YAML front matter (see seed)
		git:
		  dirty: true
		events:
		  types: [cost_reviewed]         # event types added to the built-in ones
		  platforms: [OnPrem, Hetzner]   # platforms added to AWS, GCP, Azure, Docker, K8s
		redact:
		  keys: [password, secret, token]            # added to the built-in key names
		  patterns: ['corp_[A-Za-z0-9]{32}']         # POSIX extended regexes, added to the built-ins
		policy:                          # checked by hive-check; each failure is a finding `policy.<name>`
		  require_clean_tree: [infrastructure_provisioned, deployment_configured]
		  require_ci: [deployment_configured]
		  require_tags: [team, cost-center]          # details.configuration.tags must hold these keys
		  require_events: [security_hardened]        # a completed session must contain each
		  require_rollback: true                     # deployment_configured needs configuration.rollback
		  max_session_minutes: 10                    # session_started to session_completed
	EOF
	# hive(7)'s, taken from the page: the first literal block after "Configuration: .hive.yml"
	awk '/^\.Ss Configuration: \.hive\.yml/ { s = 1 } s && /^\.Bd -literal/ { b = 1; next }
		b && /^\.Ed/ { exit } b' "$SRC_TOP/man/hive.7" >man.yml
	grep -q '^policy:' man.yml || fail "no configuration example found in hive.7"
	# every key, written as JSON (YAML is a superset); block lists and yes/no in YAML
	cat >full.yml <<-'EOF'
		{"root": "ops/hive", "worker": "ci-bot", "workers_dir": "agents",
		 "git": {"dirty": false},
		 "events": {"types": ["cost_reviewed", "dr_tested2"], "platforms": ["OnPrem", "hetzner-cloud", "x_1"]},
		 "redact": {"keys": ["pin"], "patterns": ["corp_[A-Za-z0-9]{32}", "^x+$"]},
		 "policy": {"require_clean_tree": [], "require_ci": ["deployment_configured"],
		            "require_tags": ["team"], "require_events": ["security_hardened"],
		            "require_rollback": false, "max_session_minutes": 999999,
		            "require_signed": 1, "require_completed": 1, "require_infra_events": true,
		            "agent_require_session": ["terraform\\s+apply"]}}
	EOF
	cat >block.yml <<-'EOF'
		git:
		  dirty: no
		events:
		  types:
		    - cost_reviewed
		policy:
		  require_rollback: Yes
		  max_session_minutes: 1
	EOF
	# hive(7)'s trust.allowed_signers must exist: hive-check reads it whenever it is set
	mkdir -p .hive && : >.hive/allowed_signers
	for f in spec.yml man.yml full.yml block.yml; do
		hive_accepts "$f"
	done
	ajv_valid "$SCHEMAS/hive-config.schema.json" spec.yml man.yml full.yml block.yml
}

@test "config schema agrees with hive on what a configuration may hold" {
	# expected verdict, then the file (\n for newlines)
	cases=$(
		cat <<-'EOF'
			valid	root: x
			valid	events:\n  types: []
			valid	git:\n  dirty: off
			valid	policy:\n  require_rollback: TRUE
			valid	trust:\n  signing_key: k\n  allowed_signers: a
			valid	policy:\n  require_signed: 2
			invalid	trust:\n  signers: a
			invalid	trust:\n  allowed_signers: [a]
			invalid	policy:\n  require_signed: 0
			invalid	evnts:\n  types: [a]
			invalid	events:\n  kinds: [a]
			invalid	git:\n  dirty: maybe
			invalid	git:\n  clean: true
			invalid	root: [a]
			invalid	root:
			invalid	worker: {a: b}
			invalid	git: true
			invalid	events: [types]
			invalid	events:
			invalid	events:\n  types: cost_reviewed
			invalid	events:\n  types: [CostReviewed]
			invalid	events:\n  types: [9lives]
			invalid	events:\n  types: [""]
			invalid	events:\n  platforms: [On Prem]
			invalid	events:\n  platforms: [on.prem]
			invalid	redact:\n  keys: pin
			invalid	redact:\n  keys: [[pin]]
			invalid	redact:\n  tokens: [pin]
			invalid	policy:\n  require_tags: team
			invalid	policy:\n  require_events: [{a: b}]
			invalid	policy:\n  max_session_minutes: 0
			invalid	policy:\n  max_session_minutes: -5
			invalid	policy:\n  max_session_minutes: 1.5
			invalid	policy:\n  max_session_minutes: 1000000
			valid	policy:\n  max_session_minutes: 999999
			invalid	policy:\n  require_rollback: 1
			invalid	policy:\n  max_minutes: 10
			invalid	policy: []
		EOF
	)
	mkdir cfg
	: >a # the allowed_signers file a valid case names
	n=0
	declare -A want
	while IFS=$'\t' read -r verdict text; do
		n=$((n + 1))
		f=$(printf 'cfg/%02d.yml' "$n")
		printf '%b\n' "$text" >"$f"
		want[$f]=$verdict
		run --separate-stderr hive-check --config "$f" --all
		case $verdict/$status in
		valid/0 | invalid/2) ;;
		*) fail "$(printf 'hive: %s is %s, but hive-check --config exits %s: %s' "$text" "$verdict" "$status" "$stderr")" ;;
		esac
	done <<<"$cases"
	require_ajv
	run ajv_run "$SCHEMAS/hive-config.schema.json" cfg/*.yml
	[[ $status -le 1 ]] || fail "$(printf 'ajv failed:\n%s' "$output")"
	bad=
	for f in cfg/*.yml; do
		schema=$(awk -v f="$f" '$1 == f && NF == 2 && ($2 == "valid" || $2 == "invalid") { print $2 }' <<<"$output")
		[[ $schema == "${want[$f]}" ]] ||
			bad+=$(printf '\n  %s: expected %s, schema %s' "$(tr '\n' ' ' <"$f")" "${want[$f]}" "${schema:-no verdict}")
	done
	[[ -z $bad ]] || fail "the schema disagrees with hive:$bad"
}

# --- make install / uninstall -----------------------------------------------------------

# make_in_src ARGS…: make in the source tree, with the build directory under test and none
# of an enclosing make's flags.
make_in_src() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$SRC_TOP" --no-print-directory \
		BUILD="$BUILD_DIR" "$@"
}

@test "make install DESTDIR=… PREFIX=/usr: binaries, man pages, schemas, hooks, CI templates, completion" {
	D="$BATS_TEST_TMPDIR/dest"
	run make_in_src install DESTDIR="$D" PREFIX=/usr
	assert_success
	want=$(
		for t in hive-init hive-emit hive-check hive-runbook hive-mcp; do
			echo "usr/bin/$t"
			echo "usr/share/bash-completion/completions/$t"
		done
		for m in "$SRC_TOP"/man/*.1; do echo "usr/share/man/man1/${m##*/}"; done
		for m in "$SRC_TOP"/man/*.7; do echo "usr/share/man/man7/${m##*/}"; done
		for s in "$SRC_TOP"/schemas/*.json; do echo "usr/share/hive/schemas/${s##*/}"; done
		for q in "$SRC_TOP"/share/hive/sql/*.sql; do echo "usr/share/hive/sql/${q##*/}"; done
		(cd "$SRC_TOP" && find hooks ci-templates -type f 2>/dev/null) | sed 's|^|usr/share/hive/|'
	)
	got=$(cd "$D" && find . \( -type f -o -type l \) | sed 's|^\./||')
	[[ "$(sort <<<"$got")" == "$(sort <<<"$want")" ]] ||
		fail "$(printf 'installed files differ from the expected list:\n%s' "$(diff <(sort <<<"$want") <(sort <<<"$got"))")"
	grep -q 'usr/share/man/man7/hive.7' <<<"$got"
	# modes and contents
	for t in hive-init hive-emit hive-check hive-runbook hive-mcp; do
		[[ -x "$D/usr/bin/$t" && -f "$D/usr/bin/$t" ]]
		cmp "$BUILD_DIR/$t" "$D/usr/bin/$t"
	done
	for s in "$SRC_TOP"/schemas/*.json; do
		cmp "$s" "$D/usr/share/hive/schemas/${s##*/}"
		[[ $(stat -c %a "$D/usr/share/hive/schemas/${s##*/}") == 644 ]]
	done
	for h in "$SRC_TOP"/hooks/*; do
		[[ -e $h ]] || continue
		cmp "$h" "$D/usr/share/hive/hooks/${h##*/}"
		if [[ -x $h ]]; then [[ -x "$D/usr/share/hive/hooks/${h##*/}" ]]; fi
	done
	cmp "$SRC_TOP/share/hive/sql/postgres.sql" "$D/usr/share/hive/sql/postgres.sql"
	cmp "$BUILD_DIR/hive.bash" "$D/usr/share/bash-completion/completions/hive-init"
}

@test "the installed tools run from DESTDIR: a whole session, man pages, completion; uninstall leaves nothing" {
	D="$BATS_TEST_TMPDIR/dest"
	run make_in_src install DESTDIR="$D" PREFIX=/usr
	assert_success
	# only the installed tools on PATH
	PATH="$D/usr/bin:$(sed "s|$BUILD_DIR:||g" <<<"$PATH")"
	[[ $(command -v hive-init) == "$D/usr/bin/hive-init" ]]
	run hive-init --version
	assert_success
	assert_output --regexp '^hive-init [0-9]'
	run --separate-stderr hive-init --session inst
	assert_success
	assert_jq '.created == true and .session_id == "inst"' "$output"
	emit --session inst deployment_configured --resource api --action update --platform K8s --status success version=1
	run --separate-stderr hive-check --session inst
	assert_success
	run --separate-stderr hive-runbook --session inst --finish
	assert_success
	run --separate-stderr hive-check --all --format json
	assert_success
	assert_output ''
	[[ -f "$(session_dir inst)/METRICS.json" && -f "$(session_dir inst)/RUNBOOK.md" ]]
	# the man pages: lint-clean and rendered (mandoc reads them where they were installed)
	run mandoc -Tlint -W warning "$D"/usr/share/man/man1/*.1 "$D"/usr/share/man/man7/hive.7
	assert_success
	assert_output ''
	for p in hive-init hive-emit hive-check hive-runbook hive-mcp; do
		run mandoc -Tascii "$D/usr/share/man/man1/$p.1"
		assert_success
		# without the overstrike that makes bold
		[[ $(sed 's/.\x08//g' <<<"$output") == *$'\nEXIT STATUS\n'*$'\nEXAMPLES\n'* ]] ||
			fail "$p.1 as rendered has no EXIT STATUS and EXAMPLES sections"
	done
	# the completion, as bash-completion would load it for each name
	for t in hive-init hive-emit hive-check hive-runbook hive-mcp; do
		run bash --norc --noprofile -c 'source "$1" && complete -p "$2"' _ \
			"$D/usr/share/bash-completion/completions/$t" "$t"
		assert_success
		assert_output "complete -F _hive $t"
	done
	run bash --norc --noprofile -c 'source "$1"
		fn=$(complete -p hive-check | sed -n "s/.* -F \([^ ]*\) .*/\1/p")
		COMP_WORDS=(hive-check --format ""); COMP_CWORD=2; "$fn" hive-check "" --format
		printf "%s\n" "${COMPREPLY[@]}"' _ "$D/usr/share/bash-completion/completions/hive-check"
	assert_success
	assert_output $'text\njson\ngithub\njunit\ncodequality'

	run make_in_src uninstall DESTDIR="$D" PREFIX=/usr
	assert_success
	run find "$D" \( -type f -o -type l \)
	assert_output ''
	[[ ! -e "$D/usr/share/hive" ]] || fail "$D/usr/share/hive is still there"
	# twice is fine
	run make_in_src uninstall DESTDIR="$D" PREFIX=/usr
	assert_success
}

@test "make install and uninstall take PREFIX and DESTDIR as paths, never as shell (issue 13)" {
	D="$BATS_TEST_TMPDIR/dest"
	pwned="$BATS_TEST_TMPDIR/pwned"
	# the issue's attack, a quote, a backquote and a space: each one folder. ($(...) is
	# make's own syntax on its command line: that is the caller's code, as the CI templates
	# know, which refuse a prefix with a $ in it.)
	for prefix in "/x;touch $pwned;#" "/o'q" '/b`touch '"$pwned"'`' "/a b"; do
		rm -rf "$D"
		run make_in_src install DESTDIR="$D" PREFIX="$prefix"
		assert_success
		[ ! -e "$pwned" ] || fail "PREFIX $prefix ran shell"
		for t in hive-init hive-emit hive-check hive-runbook hive-mcp; do
			cmp "$BUILD_DIR/$t" "$D$prefix/bin/$t"
		done
		[ -f "$D$prefix/share/man/man1/hive-emit.1" ]
		[ -L "$D$prefix/share/bash-completion/completions/hive-check" ]
		[ -f "$D$prefix/share/hive/ci-templates/gitlab/hive.gitlab-ci.yml" ]
		# nothing outside DESTDIR<prefix>
		[ "$(ls -A "$D")" = "$(cut -d/ -f2 <<<"$prefix")" ]
		run make_in_src uninstall DESTDIR="$D" PREFIX="$prefix"
		assert_success
		[ ! -e "$pwned" ] || fail "PREFIX $prefix ran shell in uninstall"
		run find "$D" \( -type f -o -type l \)
		assert_output ''
	done
}

@test "make install refuses a relative install folder before installing anything" {
	snapshot "$SRC_TOP"
	for v in PREFIX=usr MANDIR=man "BASHCOMPDIR=x;y"; do
		run make_in_src install DESTDIR="$BATS_TEST_TMPDIR/dest" "$v"
		assert_failure 2
		assert_output --partial "make: install folders must be absolute paths: '${v#*=}'"
		[ ! -e "$BATS_TEST_TMPDIR/dest" ]
		run make_in_src uninstall DESTDIR="$BATS_TEST_TMPDIR/dest" "$v"
		assert_failure 2
		assert_output --partial "make: install folders must be absolute paths: '${v#*=}'"
	done
	assert_unchanged "$SRC_TOP"
}

# --- man pages --------------------------------------------------------------------------

@test "man pages: mandoc -Tlint -W warning is clean; each has EXIT STATUS and EXAMPLES" {
	run mandoc -Tlint -W warning "$SRC_TOP"/man/*.1 "$SRC_TOP"/man/*.7
	assert_success
	assert_output ''
	pages=("$SRC_TOP"/man/*.1 "$SRC_TOP"/man/*.7)
	[[ ${#pages[@]} -eq 6 ]] || fail "expected 5 tool pages and hive.7, found ${pages[*]}"
	for p in "${pages[@]}"; do
		grep -qx '\.Sh EXIT STATUS' "$p" || fail "$p has no EXIT STATUS section"
		grep -qx '\.Sh EXAMPLES' "$p" || fail "$p has no EXAMPLES section"
		# the exit codes of SPEC 2 are all there
		for code in 0 1 2 3; do
			sed -n '/^\.Sh EXIT STATUS/,/^\.Sh /p' "$p" | grep -qx "\.It $code" ||
				fail "$p: EXIT STATUS does not describe $code"
		done
	done
}

# help_options TOOL: the option table of TOOL --help, one line per option with its names
# ("-q --quiet").
help_options() {
	"$1" --help | awk '/^ +-/ && match($0, /^ +/) && RLENGTH <= 6 {
		sub(/^ +/, ""); n = split($0, w, /[ ,]+/); out = ""
		for (i = 1; i <= n && w[i] ~ /^-/; i++) out = out (out == "" ? "" : " ") w[i]
		print out }'
}

# synopsis_options PAGE: the options the SYNOPSIS names, one a line (-h, --config, …).
synopsis_options() {
	sed -n '/^\.Sh SYNOPSIS/,/^\.Sh /p' "$1" | awk '{
		for (i = 1; i <= NF; i++) {
			if (($i != "Fl" && $i != ".Fl") || i == NF) continue
			a = $(i + 1)
			if (a ~ /^-[a-z][-a-z]*$/) print "-" a
			else if (a ~ /^[A-Za-z]+$/ && a !~ /^(Ar|Cm|Op|Oo|Oc|Ns|No|Pq|Ql|Ic|Li|Sy|Em|Ev|Pa|Xo|Xc)$/)
				for (j = 1; j <= length(a); j++) print "-" substr(a, j, 1)
		}
	}' | sort -u
}

@test "each tool's --help lists exactly the options its man page's SYNOPSIS names" {
	for t in hive-init hive-emit hive-check hive-runbook hive-mcp; do
		page="$SRC_TOP/man/$t.1"
		syn="$(synopsis_options "$page")"
		help="$(help_options "$t")"
		[[ -n $syn && -n $help ]] || fail "$t: nothing parsed (synopsis: '$syn', help: '$help')"
		# every option of the SYNOPSIS is in --help…
		for o in $syn; do
			grep -qw -- "$o" <<<"$help" || fail "$t: the SYNOPSIS names $o, --help does not"
		done
		# …and every option of --help (by any of its names) is in the SYNOPSIS
		while read -r names; do
			found=
			for o in $names; do
				grep -qx -- "$o" <<<"$syn" && found=1
			done
			[[ -n $found ]] || fail "$t: --help lists $names, the SYNOPSIS does not"
		done <<<"$help"
	done
}

# examples PAGE: the command lines of PAGE's EXAMPLES, as "STATUS<TAB>LINE": the literal
# blocks of the section, with mdoc's escapes undone. A roff comment `.\" exit N` in a block
# says the next line exits N (default 0).
examples() {
	awk '/^\.Sh / { ex = ($0 == ".Sh EXAMPLES"); next }
		!ex { next }
		/^\.Bd -literal/ { lit = 1; next }
		/^\.Ed/ { lit = 0; next }
		lit && /^\.\\" exit [0-9]+$/ { want = $3; next }
		lit && /^\.\\"/ { next }
		lit {
			line = $0
			gsub(/\\e/, "\001", line); gsub(/\\&/, "", line); gsub(/\\-/, "-", line)
			gsub(/\\\(dq/, "\"", line); gsub(/\\\(aq/, "\047", line); gsub(/\001/, "\\", line)
			printf "%d\t%s\n", (want == "" ? 0 : want), line
			want = ""
		}' "$1"
}

# run_examples PAGE: run PAGE's examples in order in the current directory, in one shell
# (so `export` and `eval` carry on), each line checked for its exit status.
run_examples() {
	local page=$1 n=0 want line script="$BATS_TEST_TMPDIR/examples.sh"
	examples "$page" >"$BATS_TEST_TMPDIR/examples.txt"
	[[ -s "$BATS_TEST_TMPDIR/examples.txt" ]] || fail "$page: no EXAMPLES lines found"
	{
		echo 'set -o pipefail'
		echo 'check() { [ "$1" = "$2" ] || { printf "%s: EXAMPLES line %s exited %s, not %s:\n  %s\n" "$PAGE" "$3" "$1" "$2" "$(sed -n "$3p" "$LINES" | cut -f 2-)" >&2; exit 1; }; }'
		while IFS=$'\t' read -r want line; do
			n=$((n + 1))
			printf '%s\ncheck $? %s %s\n' "$line" "$want" "$n"
		done <"$BATS_TEST_TMPDIR/examples.txt"
	} >"$script"
	PAGE=${page##*/} LINES="$BATS_TEST_TMPDIR/examples.txt" bash "$script" </dev/null
}

@test "hive-init(1) EXAMPLES run as written" {
	run --separate-stderr run_examples "$SRC_TOP/man/hive-init.1"
	[[ $status -eq 0 ]] || fail "$stderr"
	for id in deploy-42 deploy-43 gh-8812-1; do
		[[ -f "$(session_dir "$id")/EVENTS.jsonl" ]] || fail "no session $id"
	done
	grep -qx 'HIVE_SESSION_ID=gh-8812-1' github_env
	grep -qx 'session_id=gh-8812-1' github_output
	[[ $(ls Docs/hive-mind/sessions | wc -l) -eq 5 ]] # and two generated ids
}

@test "hive-emit(1) EXAMPLES run as written" {
	run --separate-stderr run_examples "$SRC_TOP/man/hive-emit.1"
	[[ $status -eq 0 ]] || fail "$stderr"
	log="$(session_dir agent-7)/EVENTS.jsonl"
	grep -q '"db_password":"\[REDACTED\]"' "$log"
	! grep -q hunter2 "$log"
	assert_jq '.event_type == "deployment_configured" and .details.configuration.replicas == 3' \
		"$(event_line "$(session_dir agent-8)/EVENTS.jsonl" 2)"
	assert_jq '.deployment.version == "1.4.2"' "$(cat "$(session_dir gh-8812-1)/STATE.json")"
}

@test "hive-mcp(1) EXAMPLES run as written" {
	run --separate-stderr run_examples "$SRC_TOP/man/hive-mcp.1"
	[[ $status -eq 0 ]] || fail "$stderr"
	assert_output $'false\nfalse\nfalse'
	assert_jq '.command == "hive-mcp"' "$(jq -c .mcpServers.hive .mcp.json)"
	[[ -f "$(session_dir mcp-7)/METRICS.json" ]]
	assert_jq '.event_type == "deployment_configured"' "$(event_line "$(session_dir mcp-7)/EVENTS.jsonl" 2)"
}

@test "hive-check(1) EXAMPLES run as written" {
	run --separate-stderr run_examples "$SRC_TOP/man/hive-check.1"
	[[ $status -eq 0 ]] || fail "$stderr"
	xmllint --noout hive-junit.xml
	assert_jq '. == []' "$(cat gl-code-quality-report.json)"
	[[ -x .git/hooks/pre-push ]]
}

@test "hive-runbook(1) EXAMPLES run as written" {
	run --separate-stderr run_examples "$SRC_TOP/man/hive-runbook.1"
	[[ $status -eq 0 ]] || fail "$stderr"
	assert_jq '.status == "completed"' "$(cat "$(session_dir deploy-42)/STATE.json")"
	grep -q '^hive_session_info' hive.prom
	grep -q 'DEPLOYMENT SUMMARY' summary.md
}

@test "hive(7) EXAMPLES run as written" {
	run --separate-stderr run_examples "$SRC_TOP/man/hive.7"
	[[ $status -eq 0 ]] || fail "$stderr"
	# the shell loop that verifies the chain found nothing to say
	refute_output --partial 'chain broken'
	assert_output --partial "$(jq -r .events.last_hash "$(session_dir demo)/STATE.json" | cut -c 8-)"
}

@test "the EXAMPLES check fails on a line that does not exit as documented" {
	mkdir -p man
	cat >man/t.1 <<-'EOF'
		.Sh EXAMPLES
		.Bd -literal -offset indent
		true
		.\" exit 3
		sh -c 'exit 3'
		printf '%s\en' ok | grep -q \&ok
		false | true
		.Ed
	EOF
	run examples man/t.1
	assert_output $'0\ttrue\n3\tsh -c \'exit 3\'\n0\tprintf \'%s\\n\' ok | grep -q ok\n0\tfalse | true'
	run --separate-stderr run_examples man/t.1
	assert_failure
	assert_stderr --partial 'EXAMPLES line 4 exited 1, not 0'
}

# --- bash completion --------------------------------------------------------------------

# complete_words WORD…: what the completion offers for the command line WORD… (the last
# word is the one being completed), one a line, in a fresh bash that sourced the file.
complete_words() {
	bash --norc --noprofile -c 'set -u; source "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		fn=$(complete -p "$1" | sed -n "s/.* -F \([^ ]*\) .*/\1/p")
		[ -n "$fn" ] || exit 9
		"$fn" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}"' _ "$BUILD_DIR/hive.bash" "$@"
}

@test "completion: generated at build time from the tools' option tables (--help-options)" {
	[[ -f "$BUILD_DIR/hive.bash" ]] || fail "no $BUILD_DIR/hive.bash: run make"
	run sh -c 'cd "$1" && sh scripts/completion.sh completions/hive.bash.in "$2"' _ "$SRC_TOP" "$BUILD_DIR"
	assert_success
	[[ $output == "$(cat "$BUILD_DIR/hive.bash")" ]] || fail "$BUILD_DIR/hive.bash is stale: run make"
	# the template holds no option list of its own
	grep -qx '@HIVE_OPTIONS@' "$SRC_TOP/completions/hive.bash.in"
	run grep -c -- '--install-hooks\|--step-summary' "$SRC_TOP/completions/hive.bash.in"
	assert_output 0
	# a tool whose table cannot be read stops the build
	mkdir bin
	printf '#!/bin/sh\nexit 3\n' >bin/hive-init
	run sh "$SRC_TOP/scripts/completion.sh" "$SRC_TOP/completions/hive.bash.in" bin
	assert_failure
	assert_output --partial 'bin/hive-init --help-options failed'
}

@test "completion: sources cleanly in plain bash and registers all four tools" {
	run bash --norc --noprofile -c 'set -eu; source "$1"; complete -p hive-init hive-emit hive-check hive-runbook hive-mcp' _ "$BUILD_DIR/hive.bash"
	assert_success
	assert_output "$(printf 'complete -F _hive %s\n' hive-init hive-emit hive-check hive-runbook hive-mcp)"
	run shellcheck -s bash "$BUILD_DIR/hive.bash"
	assert_success
}

@test "completion: the values of --format, --report, --export, --status, --action and --platform" {
	run complete_words hive-check --format ''
	assert_output $'text\njson\ngithub\njunit\ncodequality'
	run complete_words hive-check --format j
	assert_output $'json\njunit'
	run complete_words hive-check --format = ''
	assert_output $'text\njson\ngithub\njunit\ncodequality'
	run complete_words hive-check --format=co
	assert_output 'codequality'
	run complete_words hive-runbook --format ''
	assert_output $'markdown\njson\nprometheus\notlp\notlp-logs\nevents'
	run complete_words hive-runbook --report ''
	assert_output $'runbook\ndeployment\nincident\ninfrastructure\nall\ndashboard'
	run complete_words hive-init --export ''
	assert_output $'sh\ngithub\ngitlab'
	run complete_words hive-runbook --finish --status ''
	assert_output $'success\nfailure'
	# a deployment may be under way: hive-emit offers in_progress too
	run complete_words hive-emit deployment_configured --status ''
	assert_output $'success\nfailure\nin_progress'
	run complete_words hive-emit deployment_configured --action ''
	assert_output $'create\nupdate\ndelete'
	run complete_words hive-emit --platform ''
	assert_output $'AWS\nGCP\nAzure\nDocker\nK8s'
	# configured platforms and types from .hive.yml
	printf 'events:\n  types: [cost_reviewed, dr_tested]\n  platforms: [OnPrem, "Hetzner"]\n' >.hive.yml
	run complete_words hive-emit --platform ''
	assert_output $'AWS\nGCP\nAzure\nDocker\nK8s\nOnPrem\nHetzner'
	run complete_words hive-emit --session s1 c
	assert_output 'cost_reviewed'
}

@test "completion: event types for hive-emit's first operand, and nothing after it" {
	run complete_words hive-emit ''
	assert_output "$(printf '%s\n' deployment_configured infrastructure_provisioned pipeline_updated \
		monitoring_added security_hardened incident_detected incident_responded incident_resolved \
		metric_recorded tool_used -)"
	run complete_words hive-emit --session s1 --resource api inc
	assert_output $'incident_detected\nincident_responded\nincident_resolved'
	run complete_words hive-emit --platform=K8s -C . met
	assert_output 'metric_recorded'
	run complete_words hive-emit deployment_configured ''
	assert_output ''
	# every type hive-emit --help names is offered
	run complete_words hive-emit ''
	local n=0
	for t in $(hive-emit --help | sed -n '/^Event types/,/^$/p' | tr ',' ' ' | grep -o '[a-z_]*_[a-z_]*'); do
		grep -qx "$t" <<<"$output" || fail "hive-emit --help names $t, the completion does not offer it"
		n=$((n + 1))
	done
	[[ "$n" -eq 10 ]] || fail "hive-emit --help names $n built-in event types, expected 10"
}

@test "completion: session ids from <root>/sessions/ (--root, HIVE_ROOT, root: in .hive.yml, -C)" {
	hive-init -q --session deploy-42 >/dev/null
	hive-init -q --session deploy-43 >/dev/null
	mkdir -p Docs/hive-mind/sessions/.tmp-deploy-44-1-ab
	touch Docs/hive-mind/sessions/not-a-folder
	run complete_words hive-check --session ''
	assert_output $'deploy-42\ndeploy-43'
	run complete_words hive-runbook --session=deploy-4
	assert_output $'deploy-42\ndeploy-43'
	# from a subfolder: the root is at the top of the work tree
	cd infra
	run complete_words hive-emit --session d
	assert_output $'deploy-42\ndeploy-43'
	cd "$REPO"
	hive-init -q --root other --session elsewhere >/dev/null
	run complete_words hive-check --root other --session ''
	assert_output 'elsewhere'
	export HIVE_ROOT="$REPO/other"
	run complete_words hive-init --session ''
	assert_output 'elsewhere'
	unset HIVE_ROOT
	echo 'root: other' >.hive.yml
	run complete_words hive-runbook --session ''
	assert_output 'elsewhere'
	rm .hive.yml
	cd "$BATS_TEST_TMPDIR"
	run complete_words hive-check -C repo --session ''
	assert_output $'deploy-42\ndeploy-43'
}

@test "completion: each tool's options are exactly those its --help lists" {
	for t in hive-init hive-emit hive-check hive-runbook hive-mcp; do
		run complete_words "$t" -
		assert_success
		got="$(grep -vx -- - <<<"$output" | sort)"
		want="$(help_options "$t" | tr ' ' '\n' | sort)"
		[[ $got == "$want" ]] || fail "$(printf '%s: completion and --help differ:\n%s' "$t" "$(diff <(echo "$want") <(echo "$got"))")"
	done
	# - is offered where it is an operand
	run complete_words hive-emit -
	assert_line -
	run complete_words hive-check -
	assert_line -
	run complete_words hive-init -
	refute_line -
	run complete_words hive-runbook --st
	assert_output $'--status\n--step-summary'
	run complete_words hive-init --worker ''
	assert_output 'devops-worker'
}

# --- the README's quick start: make demo ------------------------------------------------

@test "make demo's script runs the whole lifecycle on its throwaway repository, to the refused push" {
	local demo
	TMPDIR="$BATS_TEST_TMPDIR" run --separate-stderr sh "$SRC_TOP/scripts/demo.sh" "$BUILD_DIR"
	assert_success
	# every step ran, each with the outcome the demo announces
	assert_output --partial '"created":true'
	assert_output --partial '"created":false'
	assert_output --partial '"api_token":"[REDACTED]"'
	assert_output --partial '(exit status 2)'
	assert_output --partial '(exit status 1: the edit is caught at the next line'
	assert_output --partial '(pushed: the session checks out)'
	assert_output --partial '(the push was refused: the remote still has the honest log)'
	assert_output --partial '(consistent with itself: every rule but history passes)'
	assert_output --partial "(refused by rule history: the remote's record only grows)"
	assert_output --partial 'error: [history] line 2 differs from the published version'
	assert_stderr --partial 'details.action: "destroy" is not one of create, update, delete'
	assert_stderr --partial 'is completed: no more events can be added'
	assert_stderr --partial '(push refused; HIVE_SKIP=1 bypasses the hook)'
	assert_stderr --partial 'policy.require_rollback: deployment_configured has no configuration.rollback'
	assert_output --partial '(refused: the sessions the published root holds are gone)'
	assert_output --partial 'error: [history] session published in'
	demo=$(sed -n 's/^The demo repository is kept at \(.*\) (RUNBOOK.md.*/\1/p' <<<"$output")
	[[ -d "$demo/Docs/hive-mind/sessions/demo-1" ]] || fail "no session folder in '$demo'"
	for f in EVENTS.jsonl STATE.json METRICS.json RUNBOOK.md; do
		[[ -s "$demo/Docs/hive-mind/sessions/demo-1/$f" ]] || fail "demo-1/$f is missing"
	done
	# the agent section: the policy blocked a PreToolUse, the payloads became a checked
	# session with a runbook, hive-mcp answered a tool error as a result
	assert_output --partial '(exit status 2: Claude Code blocks the call and shows the agent why)'
	assert_output --partial '(the session is active: the call goes on)'
	assert_stderr --partial 'refused: Bash call matches policy.agent_require_session'
	agent_dir="$demo/Docs/hive-mind/sessions/claude-4b1d7c2e-9a60-4f0b-8d3e-2c5a7e91f0aa"
	run jq -r .event_type "$agent_dir/EVENTS.jsonl"
	assert_output $'session_started\ntool_used\ntool_used\ntool_used\nsession_completed'
	[[ -s $agent_dir/RUNBOOK.md && -s $agent_dir/METRICS.json ]]
	grep -q '| tool_used | Bash |' "$agent_dir/RUNBOOK.md"
	run hive-check -C "$demo" --session claude-4b1d7c2e-9a60-4f0b-8d3e-2c5a7e91f0aa
	assert_success
	assert_jq '.status == "completed"' "$(cat "$demo/Docs/hive-mind/sessions/mcp-demo/STATE.json")"
	# the secrets the demo hands hive (a token, a password in the remote URL) are on no disk
	if grep -r -e ghp_0123456789 -e s3cr3t "$demo/Docs" "$demo.remote.git"; then
		fail "a secret reached the disk"
	fi
	# the remote kept the honest log: it checks clean there
	git clone -q "$demo.remote.git" "$BATS_TEST_TMPDIR/honest"
	run hive-check -C "$BATS_TEST_TMPDIR/honest" --session demo-1
	assert_success
}
