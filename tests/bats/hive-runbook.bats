#!/usr/bin/env bats
# hive-runbook.bats - hive-runbook from the outside (bin/hive-runbook.c over lib/report.c): the
# seed's reports against golden files, METRICS.json against hand-computed numbers, --finish,
# Prometheus through the real promtool, --step-summary's 1 MiB cut, --findings, DORA with
# --all, every bad input, and the man page (lint, SYNOPSIS against --help, EXAMPLES run).
#
# The sessions are fixtures with pinned timestamps: tests/fixtures/runbook/sessions/*.events.in
# are templates (one event a line, no seq or prev, commit ids as @C1@ @C2@ @C3@). Each test
# makes the fixture repository with repo.sh (three commits with pinned dates, so pinned ids),
# turns the templates into EVENTS.jsonl with gen-events.sh (seq, prev chain, key order), puts
# them in a session folder and lets `hive-check --repair` build STATE.json from the log, which
# hive-check then has to pass. The numbers below are computed by hand from the templates'
# comments; the golden files in tests/fixtures/runbook/golden/ were read line by line against
# the events (see tests/fixtures/runbook/README).

load test_helper

RB="$FIXTURES/runbook"
MIB=1048576

setup() {
	hive_setup || return 1
	require_tool hive-emit
	require_tool hive-check
	require_tool hive-runbook
	REPO="$BATS_TEST_TMPDIR/repo"
	mapfile -t COMMITS < <("$RB/repo.sh" "$REPO")
	[[ ${#COMMITS[@]} -eq 3 ]] || fail "repo.sh did not print three commit ids: ${COMMITS[*]}"
	C1=${COMMITS[0]#C1=} C2=${COMMITS[1]#C2=} C3=${COMMITS[2]#C3=}
	cd "$REPO" || return 1
}

# --- helpers for this suite -----------------------------------------------------------

# line_hash LINE: "sha256:<hex>" of LINE's bytes, as prev holds it.
line_hash() {
	printf 'sha256:%s' "$(printf '%s' "$1" | sha256sum | cut -c1-64)"
}

# install_session ID [ROOT [TEMPLATE]]: the fixture session ID (from TEMPLATE, default
# sessions/ID.events.in) under ROOT (default Docs/hive-mind), STATE.json rebuilt from the
# log by hive-check --repair; fails unless hive-check then passes.
install_session() {
	local id=$1 root=${2:-$PWD/Docs/hive-mind} tmpl=${3:-$RB/sessions/$1.events.in} d
	local err="$BATS_TEST_TMPDIR/install.err"
	d="$root/sessions/$id"
	mkdir -p "$d" || fail "mkdir $d"
	"$RB/gen-events.sh" "$tmpl" "$id" "${COMMITS[@]}" >"$d/EVENTS.jsonl" ||
		fail "gen-events.sh $tmpl failed"
	hive-check -q --root "$root" --session "$id" --repair >"$err" 2>&1 ||
		fail "$(printf 'hive-check --repair on %s failed:\n%s' "$id" "$(cat "$err")")"
	[[ -f "$d/STATE.json" ]] || fail "hive-check --repair wrote no STATE.json for $id"
	hive-check --root "$root" --session "$id" >"$err" 2>&1 ||
		fail "$(printf 'fixture session %s does not pass hive-check:\n%s' "$id" "$(cat "$err")")"
	rm -f "$err"
}

install_dora() {
	install_session dora-1 "$PWD/dora"
	install_session dora-2 "$PWD/dora"
	install_session dora-3 "$PWD/dora"
}

# assert_golden NAME CMD…: CMD exits 0, says nothing on stderr, and prints exactly the bytes
# of golden/NAME.
assert_golden() {
	local name=$1 out="$BATS_TEST_TMPDIR/golden.out" err="$BATS_TEST_TMPDIR/golden.err" rc=0
	shift
	"$@" >"$out" 2>"$err" || rc=$?
	((rc == 0)) || fail "$(printf '%s: exit %d\n%s' "$*" "$rc" "$(cat "$err")")"
	[[ ! -s "$err" ]] || fail "$(printf '%s: unexpected stderr:\n%s' "$*" "$(cat "$err")")"
	diff -u "$RB/golden/$name" "$out" || fail "$* differs from golden/$name (diff above)"
}

# assert_golden_json NAME CMD…: CMD prints one line of JSON equal, as jq -S sees it, to
# golden/NAME.
assert_golden_json() {
	local name=$1 out="$BATS_TEST_TMPDIR/golden.out" err="$BATS_TEST_TMPDIR/golden.err" rc=0
	shift
	"$@" >"$out" 2>"$err" || rc=$?
	((rc == 0)) || fail "$(printf '%s: exit %d\n%s' "$*" "$rc" "$(cat "$err")")"
	[[ ! -s "$err" ]] || fail "$(printf '%s: unexpected stderr:\n%s' "$*" "$(cat "$err")")"
	[[ "$(wc -l <"$out")" -eq 1 ]] || fail "$(printf '%s: expected one line of JSON:\n%s' "$*" "$(cat "$out")")"
	diff -u "$RB/golden/$name" <(jq -S . "$out") || fail "$* differs from golden/$name (diff above)"
}

# promtool_ok FILE: the real promtool accepts FILE: exit 0 and no lint output at all.
promtool_ok() {
	local out rc=0
	out="$(promtool check metrics <"$1" 2>&1)" || rc=$?
	if ((rc != 0)) || [[ -n "$out" ]]; then
		fail "$(printf 'promtool check metrics: exit %d\n%s\n--- input\n%s' "$rc" "$out" "$(cat "$1")")"
	fi
}

# ms TIMESTAMP: milliseconds since the epoch.
ms() {
	date -u -d "$1" +%s%3N
}

# --- the fixtures themselves ----------------------------------------------------------

@test "fixtures: repo.sh makes the same commits everywhere and gen-events.sh the committed logs" {
	# pinned dates, identity and content: pinned ids
	assert_equal "$C1" 22ed45dfc2e54c87e50b52a8ce1ce17833880d83
	assert_equal "$C2" de8de11bee6fb880da96a972e5ccb32da7b6fb29
	assert_equal "$C3" fde8f13ca37dc5149a73ee3b1cd1d9727d1826c3
	# lead time counts from the committer time
	assert_equal "$(git log -1 --format=%ct "$C1")" "$(date -u -d 2025-01-15T08:00:00Z +%s)"
	assert_equal "$(git log -1 --format=%ct "$C2")" "$(date -u -d 2025-01-16T09:30:00Z +%s)"
	assert_equal "$(git log -1 --format=%ct "$C3")" "$(date -u -d 2025-01-18T12:00:00Z +%s)"
	local t id
	for t in "$RB"/sessions/*.events.in; do
		id=$(basename "$t" .events.in)
		"$RB/gen-events.sh" "$t" "$id" "${COMMITS[@]}" >"$BATS_TEST_TMPDIR/$id.jsonl"
		diff -u "$RB/sessions/$id.EVENTS.jsonl" "$BATS_TEST_TMPDIR/$id.jsonl" ||
			fail "sessions/$id.EVENTS.jsonl is stale: run tests/fixtures/runbook/regen.sh"
	done
	# a template whose placeholder has no value is refused, not written half-filled
	run "$RB/gen-events.sh" "$RB/sessions/rb-full.events.in" rb-full
	assert_failure 2
	assert_output --partial 'a placeholder has no value: @C1@'
}

@test "fixtures: every fixture session passes hive-check, its STATE.json rebuilt from the log" {
	install_session rb-full
	install_session rb-empty
	install_dora
	run --separate-stderr hive-check --all
	assert_success
	assert_stderr 'hive-check: 2 sessions checked: 0 errors, 0 warnings'
	run --separate-stderr hive-check --root "$PWD/dora" --all
	assert_success
	assert_stderr 'hive-check: 3 sessions checked: 0 errors, 0 warnings'
	assert_jq '.status == "active" and .events.count == 14 and .events.last_seq == 14 and
		.started_at == "2025-01-15T10:00:00.000Z" and .deployment.version == "1.4.2"' \
		"$(cat Docs/hive-mind/sessions/rb-full/STATE.json)"
}

# --- golden files: session (a), everything recorded -------------------------------------

@test "runbook (default report) of the full session matches golden/rb-full.runbook.md" {
	install_session rb-full
	snapshot "$REPO"
	assert_golden rb-full.runbook.md hive-runbook --session rb-full
	assert_golden rb-full.runbook.md hive-runbook --session rb-full --report runbook --format markdown
	# HIVE_SESSION_ID and -o FILE give the same bytes; -o prints nothing
	HIVE_SESSION_ID=rb-full assert_golden rb-full.runbook.md hive-runbook
	run --separate-stderr hive-runbook --session rb-full -o "$BATS_TEST_TMPDIR/out.md"
	assert_success
	assert_output ''
	cmp "$RB/golden/rb-full.runbook.md" "$BATS_TEST_TMPDIR/out.md"
	# rendering changes nothing in the repository or the session
	assert_unchanged "$REPO"
}

@test "--report deployment of the full session matches golden/rb-full.deployment.md" {
	install_session rb-full
	assert_golden rb-full.deployment.md hive-runbook --session rb-full --report deployment
}

@test "--report incident of the full session matches golden/rb-full.incident.md" {
	install_session rb-full
	assert_golden rb-full.incident.md hive-runbook --session rb-full --report incident
}

@test "--report infrastructure of the full session matches golden/rb-full.infrastructure.md" {
	install_session rb-full
	assert_golden rb-full.infrastructure.md hive-runbook --session rb-full --report infrastructure
}

@test "--report all of the full session matches golden/rb-full.all.md: the three reports, no overview" {
	install_session rb-full
	assert_golden rb-full.all.md hive-runbook --session rb-full --report all
	cmp "$RB/golden/rb-full.all.md" <(cat "$RB"/golden/rb-full.{deployment,incident,infrastructure}.md)
}

@test "--format json of the full session: one line, equal to golden/rb-full.json" {
	install_session rb-full
	assert_golden_json rb-full.json hive-runbook --session rb-full --format json
	assert_golden_json rb-full.json hive-runbook --session rb-full --format json --report deployment
}

@test "--format prometheus of the full session matches golden/rb-full.prom" {
	install_session rb-full
	assert_golden rb-full.prom hive-runbook --session rb-full --format prometheus
}

# --- golden files: session (b), nothing recorded ----------------------------------------

@test "runbook of the empty session matches golden/rb-empty.runbook.md" {
	install_session rb-empty
	assert_golden rb-empty.runbook.md hive-runbook --session rb-empty
}

@test "--report deployment|incident|infrastructure|all of the empty session match their goldens" {
	install_session rb-empty
	local r
	for r in deployment incident infrastructure all; do
		assert_golden "rb-empty.$r.md" hive-runbook --session rb-empty --report "$r"
	done
}

@test "--format json and prometheus of the empty session match golden/rb-empty.json and .prom" {
	install_session rb-empty
	assert_golden_json rb-empty.json hive-runbook --session rb-empty --format json
	assert_golden rb-empty.prom hive-runbook --session rb-empty --format prometheus
}

@test "the empty session: every missing fact is 'not recorded', none is invented" {
	install_session rb-empty
	run --separate-stderr hive-runbook --session rb-empty
	assert_success
	# every field of the component but its name, platform and last change is not recorded
	local fields
	fields="$(grep -E '^ *- (Purpose|Dependencies|Environment variables|Min/Max instances|Triggers|Health check endpoint|Key metrics|Alert thresholds):' <<<"$output")"
	assert_equal "$(wc -l <<<"$fields")" 8
	run grep -v ': not recorded$' <<<"$fields"
	assert_output ''
	run --separate-stderr hive-runbook --session rb-empty
	assert_line '- Completed: not recorded'
	assert_line '- Commit: not recorded (not a git repository)'
	assert_line '- CI: none (run outside CI)'
	assert_line '- Deployments: 0 (0 succeeded, 0 failed), change failure rate not recorded'
	assert_line '- Incidents: 0 (0 linked to a deployment), mean time to recovery not recorded'
	assert_line '- Lead time for changes: not recorded'
	# no deployment and no incident: said so, not filled with made-up values
	assert_line 'No deployment_configured event was recorded.'
	assert_line 'No incident was recorded.'
	refute_output --partial 'Version:'
	refute_output --partial 'Severity:'
	# JSON: nulls and empty lists, never a zero standing in for an unknown
	run hive-runbook --session rb-empty --format json
	assert_jq '.git == null and .ci == null and .deployments == [] and .incidents == [] and
		.findings == null and .metrics.lead_time_s == null and .metrics.incidents.mttr_s == null and
		.metrics.deployments.change_failure_rate == null and .metrics.metrics == {} and
		.metrics.completed_at == null' "$output"
	# Prometheus: an unknown is no sample at all
	run hive-runbook --session rb-empty --format prometheus
	refute_output --partial 'hive_session_change_failure_ratio'
	refute_output --partial 'hive_session_lead_time_seconds'
	refute_output --partial 'hive_session_incident_recovery_seconds'
	refute_output --partial 'hive_session_recorded_value'
}

# --- where fields come from -----------------------------------------------------------

@test "deployment: rollout_strategy and rollback_plan stand in for strategy and rollback; partial testing" {
	hive-init -q --session alias >/dev/null
	hive-emit -q --session alias deployment_configured --resource web --action update \
		--platform Docker --status failure version=2.0.0 rollout_strategy=blue-green \
		'rollback_plan=switch the router back' testing.unit=pass changes='one line of changes' \
		>/dev/null
	run --separate-stderr hive-runbook --session alias --report deployment
	assert_success
	assert_line --index 0 '## DEPLOYMENT SUMMARY'
	assert_line --regexp '^- Resource: web \(Docker, failure, line 2, [0-9T:.-]+Z\)$'
	assert_line '- Version: 2.0.0'
	assert_line '- Environment: not recorded'
	assert_line '  - one line of changes'
	assert_line '  - Unit: pass'
	assert_line '  - Integration: not recorded'
	assert_line '  - Security: not recorded'
	assert_line '- Rollout Strategy: blue-green'
	assert_line '- Rollback Plan: switch the router back'
	run hive-runbook --session alias --format json
	assert_jq '.deployments[0] | .strategy == "blue-green" and .rollback == "switch the router back"
		and .success == false and .environment == null and .testing == {unit: "pass"}' "$output"
	assert_jq '.metrics.deployments | .count == 1 and .failure == 1 and .change_failure_rate == 1' "$output"
}

@test "deployment without changes: not recorded, the session's other changes are not its changes" {
	hive-init -q --session chg >/dev/null
	hive-emit -q --session chg infrastructure_provisioned --resource vpc --action create \
		--platform AWS --status success >/dev/null
	hive-emit -q --session chg deployment_configured --resource api --action update \
		--platform K8s --status success version=1 >/dev/null
	run hive-runbook --session chg --report deployment
	assert_success
	assert_line --index 4 '- Changes:'
	assert_line --index 5 '  - not recorded'
	assert_line --index 6 '- Testing:'
	refute_output --partial 'vpc'
}

@test "markdown: text from events cannot break the report (newlines, pipes, HTML)" {
	hive-init -q --session esc >/dev/null
	hive-emit -q --session esc infrastructure_provisioned --resource 'a|b' --action create \
		--platform AWS --status success purpose:='"two\nlines <script>"' >/dev/null
	run hive-runbook --session esc
	assert_success
	assert_line '- Name: a\|b'
	assert_line '- Purpose: two lines &lt;script>'
	assert_line --regexp '^\| 2 \| [^|]+ \| infrastructure_provisioned \| a\\\|b \| create \| AWS \| success \|$'
}

@test "markdown: a long value is cut at a character, never inside one (valid UTF-8)" {
	hive-init -q --session u8 >/dev/null
	# 1100 two-byte characters: 2200 bytes, more than a value shows
	hive-emit -q --session u8 infrastructure_provisioned --resource r --action create \
		--platform AWS --status success "purpose=$(printf 'é%.0s' {1..1100})" >/dev/null
	hive-runbook --session u8 --report infrastructure >"$BATS_TEST_TMPDIR/u8.md"
	iconv -f UTF-8 -t UTF-8 "$BATS_TEST_TMPDIR/u8.md" >/dev/null ||
		fail "the report is not valid UTF-8: a character was cut in two"
	local line
	line="$(grep -a '^- Purpose: ' "$BATS_TEST_TMPDIR/u8.md")"
	# as many whole characters as fit in 2047 bytes: 1023
	assert_equal "$line" "- Purpose: $(printf 'é%.0s' {1..1023})"
}

@test "markdown: recorded metric values keep their digits" {
	hive-init -q --session num >/dev/null
	hive-emit -q --session num metric_recorded --resource db --platform AWS name=monthly_cost \
		value:=1234567.89 unit=USD >/dev/null
	hive-emit -q --session num metric_recorded --resource db --platform AWS name=tiny \
		value:=0.000125 unit=s >/dev/null
	run hive-runbook --session num
	assert_success
	assert_line '- monthly_cost: 1234567.89 USD (db)'
	assert_line '- tiny: 0.000125 s (db)'
	run hive-runbook --session num --format prometheus
	assert_line 'hive_recorded_value{worker="devops-worker",name="monthly_cost",unit="USD",resource="db"} 1234567.89'
}

@test "json holds every fact the Markdown reports show (infrastructure components too)" {
	install_session rb-full
	run hive-runbook --session rb-full --format json
	assert_success
	# facts of the three reports, as the events hold them; each must be somewhere in the JSON
	local fact missing=()
	for fact in '1.4.2' 'production' 'add the /v2/orders endpoint' 'canary 10% then 100%' \
		'helm rollback api 41' 'P2' '5xx on /v2/orders for 12% of requests' \
		'connection pool exhausted by the retry storm' 'cap client retries at 3' \
		'PostgreSQL database for the orders API' 'vpc-main' 'db.t3.medium' \
		'tcp://api-db.internal:5432' 'replication lag > 30s' '/healthz' 'cpu > 70% for 10m' \
		'classic load balancer replaced by the ingress' 'hadolint DL3008: pin versions in apt-get install'; do
		jq -e --arg f "$fact" '[.. | strings] | index($f) != null' >/dev/null <<<"$output" ||
			missing+=("$fact")
	done
	[[ ${#missing[@]} -eq 0 ]] ||
		fail "$(printf -- '--format json lacks facts the Markdown shows:\n'; printf '  %s\n' "${missing[@]}")"
}

# --- metrics against hand-computed values ---------------------------------------------

@test "metrics of the full session (unfinished), by hand from the template" {
	install_session rb-full
	run hive-runbook --session rb-full --format json
	assert_success
	local m
	m="$(jq -c .metrics <<<"$output")"
	assert_jq '.session_id == "rb-full" and .status == "active" and
		.started_at == "2025-01-15T10:00:00.000Z" and .completed_at == null' "$m"
	# 10:00:00 to the last event, 10:50:00
	assert_jq '.duration_s == 3000' "$m"
	assert_jq '.events.total == 14 and .events.failures == 1' "$m"
	assert_jq '.events.by_type == {session_started: 1, infrastructure_provisioned: 3,
		pipeline_updated: 2, deployment_configured: 1, incident_detected: 1,
		incident_responded: 1, metric_recorded: 3, incident_resolved: 1, monitoring_added: 1}' "$m"
	# the metric on line 10 has no status; session_started has none
	assert_jq '.events.by_status == {success: 11, failure: 1}' "$m"
	assert_jq '.events.by_platform == {AWS: 3, K8s: 8, Docker: 2}' "$m"
	# change events: api-db, api create; ci-build update x2; api deployment update;
	# legacy-lb delete; grafana-api create -> 5 resources: created api-db, api, grafana-api;
	# updated ci-build, api (each once, however many updates); deleted legacy-lb
	assert_jq '.resources == {count: 5, created: 3, updated: 2, deleted: 1}' "$m"
	# the incident on api names no environment: not linked to the deployment (hive(7))
	assert_jq '.deployments == {count: 1, success: 1, failure: 0, failed_changes: 0, change_failure_rate: 0}' "$m"
	# detected 10:10:00, resolved 10:40:00
	assert_jq '.incidents == {count: 1, linked_to_deployments: 0, mttr_s: 1800}' "$m"
	# deployed 10:05:00, C1 committed 08:00:00
	assert_jq '.lead_time_s == 7500' "$m"
	# each name: every resource's last value, and the total per unit
	assert_jq '.metrics == {
		p99_latency: {by_resource: [{resource: "api", unit: "seconds", value: 0.18, timestamp: "2025-01-15T10:50:00.000Z"}],
			totals: [{unit: "seconds", value: 0.18, resources: 1}]},
		monthly_cost: {by_resource: [{resource: "api-db", unit: "USD", value: 412.5, timestamp: "2025-01-15T10:21:00.000Z"}],
			totals: [{unit: "USD", value: 412.5, resources: 1}]}}' "$m"
}

@test "metrics per DORA session: change failure rate, mean recovery, lead time of the last known commit" {
	install_dora
	run hive-runbook --root "$PWD/dora" --session dora-1 --format json
	assert_jq '.metrics | .deployments == {count: 2, success: 1, failure: 1, failed_changes: 1, change_failure_rate: 0.5}
		and .incidents == {count: 1, linked_to_deployments: 0, mttr_s: 1800} and .lead_time_s == 7200' "$output"
	assert_jq '[.deployments[].lead_time_s] == [7200, null]' "$output"
	run hive-runbook --root "$PWD/dora" --session dora-2 --format json
	assert_jq '.metrics | .incidents == {count: 1, linked_to_deployments: 0, mttr_s: 3600} and .lead_time_s == 10800
		and .duration_s == 7200' "$output"
	# web's commit is not in the repository: the lead time is api's (08:00 - C3 2025-01-18T12:00)
	run hive-runbook --root "$PWD/dora" --session dora-3 --format json
	assert_jq '.metrics | .deployments.count == 3 and .deployments.failure == 1 and
		(.deployments.change_failure_rate * 3 | . - 1 | length < 1e-9) and
		.incidents == {count: 2, linked_to_deployments: 0, mttr_s: 900} and .lead_time_s == 72000' "$output"
	# per deployment: the failed one has a lead too (01-20 10:00 - C3), it only does not count
	assert_jq '[.deployments[].lead_time_s] == [72000, null, 165600]' "$output"
	assert_jq '[.incidents[] | {resource, detected, resolved}] == [
		{resource: "worker", detected: "2025-01-20T10:05:00.000Z", resolved: null},
		{resource: "api", detected: "2025-01-20T10:10:00.000Z", resolved: "2025-01-20T10:25:00.000Z"}]' "$output"
}

# --- --finish -------------------------------------------------------------------------

@test "--finish: session_completed appended (seq, prev, git context), STATE.json completed, METRICS.json, RUNBOOK.md" {
	install_session rb-full
	local d ev last14 last
	d="$(session_dir rb-full)"
	ev="$d/EVENTS.jsonl"
	last14="$(sed -n 14p "$ev")"
	hive-runbook --session rb-full --finish >"$BATS_TEST_TMPDIR/finish.out" \
		2>"$BATS_TEST_TMPDIR/finish.err" || fail "--finish: exit $?: $(cat "$BATS_TEST_TMPDIR/finish.err")"
	[[ ! -s "$BATS_TEST_TMPDIR/finish.err" ]] || fail "stderr: $(cat "$BATS_TEST_TMPDIR/finish.err")"

	assert_equal "$(wc -l <"$ev")" 15
	cmp <(head -n 14 "$ev") "$RB/sessions/rb-full.EVENTS.jsonl"
	last="$(tail -n 1 "$ev")"
	assert_jq '.seq == 15 and .event_type == "session_completed" and .worker == "devops-worker" and
		.session_id == "rb-full" and .details == {status: "success"} and .prev == $p' "$last" \
		--arg p "$(line_hash "$last14")"
	# stamped like every event: the repository's HEAD (C3), outside CI
	assert_jq '.git == {commit: $c, branch: "main", dirty: false, tag: null, remote: null} and .ci == null' \
		"$last" --arg c "$C3"
	assert_jq '.status == "completed" and .completed_at == $t and .events.count == 15 and
		.events.last_seq == 15 and .events.last_hash == $h' "$(cat "$d/STATE.json")" \
		--arg t "$(jq -r .timestamp <<<"$last")" --arg h "$(line_hash "$last")"
	[[ -f "$d/METRICS.json" ]] || fail "no METRICS.json"
	# RUNBOOK.md is the runbook of the finished session, and what was printed
	[[ -f "$d/RUNBOOK.md" ]] || fail "no RUNBOOK.md"
	cmp "$d/RUNBOOK.md" "$BATS_TEST_TMPDIR/finish.out"
	grep -qx 'hive-check: 0 errors, 0 warnings.' "$d/RUNBOOK.md"
	# the runbook made later is the same, but for the gate's verdict, which it does not run
	hive-runbook --session rb-full >"$BATS_TEST_TMPDIR/after.md"
	diff "$d/RUNBOOK.md" "$BATS_TEST_TMPDIR/after.md" | grep '^[<>]' >"$BATS_TEST_TMPDIR/diff" || true
	assert_equal "$(cat "$BATS_TEST_TMPDIR/diff")" "< hive-check: 0 errors, 0 warnings.
> Not checked here: pass hive-check's JSON findings with --findings."
	grep -qx -- '- Status: completed' "$d/RUNBOOK.md"
	grep -qx -- "- Completed: $(jq -r .timestamp <<<"$last")" "$d/RUNBOOK.md"

	run --separate-stderr hive-check --session rb-full
	assert_success
	assert_stderr 'hive-check: 1 session checked: 0 errors, 0 warnings'
}

@test "--finish --dry-run: prints the runbook --finish would leave, writes nothing; a policy on session_completed refuses both" {
	install_session rb-full
	local d
	d="$(session_dir rb-full)"
	snapshot "$BATS_TEST_TMPDIR"
	run --separate-stderr hive-runbook --session rb-full --finish --dry-run
	assert_success
	assert_stderr 'hive-runbook: --dry-run: nothing was written'
	assert_unchanged "$BATS_TEST_TMPDIR"
	[[ ! -e "$d/RUNBOOK.md" && ! -e "$d/METRICS.json" ]]
	assert_line '# RUNBOOK: rb-full'
	assert_line '- Status: completed'
	hive-runbook -q --session rb-full --finish --dry-run >"$BATS_TEST_TMPDIR/preview.md"
	# the real --finish leaves that runbook (but for the completion time it stamps)
	hive-runbook -q --session rb-full --finish >/dev/null
	diff <(grep -v -e '^- Completed:' -e '^- Duration:' -e 'session_completed' "$BATS_TEST_TMPDIR/preview.md") \
		<(grep -v -e '^- Completed:' -e '^- Duration:' -e 'session_completed' "$d/RUNBOOK.md")
	# only with --finish, and it writes nowhere
	run_refused 2 '^hive-runbook: error: --dry-run goes with --finish' hive-runbook --session rb-full --dry-run
	run_refused 2 '^hive-runbook: error: --dry-run goes with --finish' \
		hive-runbook --session rb-full --finish --dry-run -o "$BATS_TEST_TMPDIR/x.md"
	# a policy session_completed breaks refuses the dry run and the real one alike
	install_session rb-empty
	printf 'policy:\n  require_ci: [session_completed]\n' >.hive.yml
	run_refused 1 'event 1 \(session_completed\) breaks 1 policy of the configuration, so nothing was written:' \
		hive-runbook --session rb-empty --finish --dry-run
	run_refused 1 'policy\.require_ci: session_completed was recorded outside CI' \
		hive-runbook --session rb-empty --finish
}

@test "--finish refuses a session the gate refuses unless --status failure, and RUNBOOK.md shows the gate's result" {
	install_session rb-empty
	install_session rb-full
	local d
	d="$(session_dir rb-empty)"
	printf 'policy:\n  require_events: [security_hardened]\n' >.hive.yml
	# completed, rb-empty would break require_events: not recorded as a success
	run_refused 1 '^Docs/hive-mind/sessions/rb-empty/EVENTS\.jsonl:3: error: \[policy\.require_events\] the completed session has no security_hardened event' \
		hive-runbook --session rb-empty --finish
	assert_stderr --partial 'hive-runbook: error: session rb-empty has 1 error under hive-check (above): not finishing it as a success (fix them, or record the session as failed with --finish --status failure)'
	run_refused 1 'has 1 error under hive-check' hive-runbook --session rb-empty --finish --dry-run
	# recorded as failed, with the gate's verdict in its runbook
	run --separate-stderr hive-runbook --session rb-empty --finish --status failure
	assert_success
	assert_jq '.status == "failed"' "$(cat "$d/STATE.json")"
	grep -qx 'hive-check: 1 error, 0 warnings.' "$d/RUNBOOK.md"
	grep -qF -- '- error [policy.require_events] Docs/hive-mind/sessions/rb-empty/EVENTS.jsonl:3: the completed session has no security_hardened event' \
		"$d/RUNBOOK.md"
	[[ "$output" == "$(cat "$d/RUNBOOK.md")" ]] || fail "the runbook printed is not RUNBOOK.md"
	# a session the gate passes is finished as a success, and says it was checked
	rm .hive.yml
	run --separate-stderr hive-runbook --session rb-full --finish
	assert_success
	grep -qx 'hive-check: 0 errors, 0 warnings.' "$(session_dir rb-full)/RUNBOOK.md"
	run hive-check --session rb-full
	assert_success
}

@test "--finish: METRICS.json numbers, by hand (completion time read from the log)" {
	install_session rb-full
	local d m done_at
	d="$(session_dir rb-full)"
	hive-runbook -q --session rb-full --finish >/dev/null
	m="$(cat "$d/METRICS.json")"
	done_at="$(tail -n 1 "$d/EVENTS.jsonl" | jq -r .timestamp)"
	assert_jq '.session_id == "rb-full" and .status == "completed" and
		.started_at == "2025-01-15T10:00:00.000Z" and .completed_at == $t' "$m" --arg t "$done_at"
	assert_jq '(.duration_s * 1000 - $ms) | length < 0.5' "$m" \
		--argjson ms "$(($(ms "$done_at") - $(ms 2025-01-15T10:00:00.000Z)))"
	# session_completed counts as an event and a type, its status is not a change's status
	assert_jq '.events.total == 15 and .events.failures == 1 and .events.by_type.session_completed == 1
		and .events.by_status == {success: 11, failure: 1} and
		.events.by_platform == {AWS: 3, K8s: 8, Docker: 2}' "$m"
	assert_jq '.resources == {count: 5, created: 3, updated: 2, deleted: 1}' "$m"
	assert_jq '.deployments == {count: 1, success: 1, failure: 0, failed_changes: 0, change_failure_rate: 0}' "$m"
	assert_jq '.incidents == {count: 1, linked_to_deployments: 0, mttr_s: 1800} and .lead_time_s == 7500' "$m"
	assert_jq '.metrics.p99_latency.by_resource[0].value == 0.18 and
		.metrics.monthly_cost.totals == [{unit: "USD", value: 412.5, resources: 1}] and
		(.metrics | keys) == ["monthly_cost", "p99_latency"]' "$m"
}

@test "--finish on a log that already ends in session_completed (pinned): METRICS.json is all pinned" {
	# rb-full plus a session_completed (failure) at 11:00:00: nothing is appended, STATE.json
	# says failed, and METRICS.json is fully determined by the fixture
	{
		cat "$RB/sessions/rb-full.events.in"
		echo '{"timestamp":"2025-01-15T11:00:00.000Z","event_type":"session_completed","details":{"status":"failure"},"git":null,"ci":null}'
	} >"$BATS_TEST_TMPDIR/done.in"
	local d
	d="$(session_dir rb-full)"
	mkdir -p "$d"
	"$RB/gen-events.sh" "$BATS_TEST_TMPDIR/done.in" rb-full "${COMMITS[@]}" >"$d/EVENTS.jsonl"
	# (hive-check itself still fails it: completed without METRICS.json, until --finish)
	hive-check -q --session rb-full --repair >/dev/null 2>&1 || true
	assert_jq '.status == "failed" and .completed_at == "2025-01-15T11:00:00.000Z"' "$(cat "$d/STATE.json")"
	cp "$d/EVENTS.jsonl" "$BATS_TEST_TMPDIR/log"
	cp "$d/STATE.json" "$BATS_TEST_TMPDIR/state"

	run --separate-stderr hive-runbook --session rb-full --finish
	assert_success
	cmp "$d/EVENTS.jsonl" "$BATS_TEST_TMPDIR/log"
	cmp "$d/STATE.json" "$BATS_TEST_TMPDIR/state"
	diff -u "$RB/golden/rb-done.METRICS.json" <(jq -S . "$d/METRICS.json")
	assert_jq '.status == "failed" and .duration_s == 3600 and .events.total == 15 and
		.completed_at == "2025-01-15T11:00:00.000Z"' "$(cat "$d/METRICS.json")"
	grep -qx -- '- Status: failed' "$d/RUNBOOK.md"
	grep -qx -- '- Duration: 1h 0m 0s (3600 s)' "$d/RUNBOOK.md"
	run --separate-stderr hive-check --session rb-full
	assert_success
}

@test "--finish --status failure: session_completed says failure, STATE.json failed" {
	install_session rb-empty
	local d
	d="$(session_dir rb-empty)"
	run --separate-stderr hive-runbook --session rb-empty --finish --status failure --format json
	assert_success
	assert_jq '.metrics.status == "failed"' "$output"
	assert_jq '.event_type == "session_completed" and .details.status == "failure" and .seq == 3' \
		"$(tail -n 1 "$d/EVENTS.jsonl")"
	assert_jq '.status == "failed" and .completed_at != null' "$(cat "$d/STATE.json")"
	assert_jq '.status == "failed" and .events.total == 3' "$(cat "$d/METRICS.json")"
	grep -qx -- '- Status: failed' "$d/RUNBOOK.md"
	run --separate-stderr hive-check --session rb-empty
	assert_success
}

@test "--finish twice: the second run changes nothing, whatever --status says" {
	install_session rb-full
	local d
	d="$(session_dir rb-full)"
	hive-runbook -q --session rb-full --finish >"$BATS_TEST_TMPDIR/first.md"
	snapshot "$d"
	hive-runbook --session rb-full --finish >"$BATS_TEST_TMPDIR/second.md" \
		2>"$BATS_TEST_TMPDIR/second.err" || fail "second --finish: exit $?"
	[[ ! -s "$BATS_TEST_TMPDIR/second.err" ]] || fail "stderr: $(cat "$BATS_TEST_TMPDIR/second.err")"
	cmp "$BATS_TEST_TMPDIR/first.md" "$BATS_TEST_TMPDIR/second.md"
	assert_unchanged "$d"
	run --separate-stderr hive-runbook --session rb-full --finish --status failure
	assert_success
	assert_stderr 'hive-runbook: session rb-full is already completed: --status failure changes nothing'
	assert_unchanged "$d"
	assert_equal "$(grep -c session_completed "$d/EVENTS.jsonl")" 1
	run --separate-stderr hive-check --session rb-full
	assert_success
}

@test "--finish refuses a session that fails the chain rule: exit 1, the finding on stderr, nothing changed" {
	install_session rb-full
	local d
	d="$(session_dir rb-full)"
	# one byte of line 3 edited: line 4's prev no longer matches
	sed -i '3s/HTTP API for orders/HTTP API for ordErs/' "$d/EVENTS.jsonl"
	snapshot "$BATS_TEST_TMPDIR"
	run --separate-stderr hive-runbook --session rb-full --finish
	assert_failure 1
	assert_output ''
	assert_stderr --regexp "EVENTS\.jsonl:4: error: \[chain\] prev does not match the SHA-256 of line 3 \($(line_hash "$(sed -n 3p "$d/EVENTS.jsonl")")\)"
	assert_stderr --partial "hive-runbook: error: session rb-full fails hive-check's chain rule: not finishing it"
	assert_unchanged "$BATS_TEST_TMPDIR"
	[[ ! -e "$d/METRICS.json" && ! -e "$d/RUNBOOK.md" ]]
}

@test "--finish refuses a log whose last line is cut off (json rule): exit 1, nothing changed" {
	install_session rb-empty
	local d
	d="$(session_dir rb-empty)"
	printf '{"seq":3,"timest' >>"$d/EVENTS.jsonl"
	snapshot "$BATS_TEST_TMPDIR"
	run --separate-stderr hive-runbook --session rb-empty --finish
	assert_failure 1
	assert_stderr --partial 'error: [json]'
	assert_stderr --partial "hive-runbook: error: session rb-empty fails hive-check's json rule"
	assert_unchanged "$BATS_TEST_TMPDIR"
}

@test "a finished session takes no more events: hive-emit exits 2 and changes nothing" {
	install_session rb-empty
	hive-runbook -q --session rb-empty --finish >/dev/null
	run_refused 2 'hive-emit: error: session rb-empty is completed' \
		hive-emit --session rb-empty pipeline_updated --resource ci --action update \
		--platform Docker --status success
}

@test "--finish with -o into a missing folder: exit 3 and the session is not finished" {
	install_session rb-empty
	run_refused 3 "^hive-runbook: error: -o $BATS_TEST_TMPDIR/missing/out.md: No such file or directory$" \
		hive-runbook --session rb-empty --finish -o "$BATS_TEST_TMPDIR/missing/out.md"
}

@test "--finish --step-summary into a missing folder: exit 3 and the session is not finished" {
	install_session rb-empty
	GITHUB_STEP_SUMMARY="$BATS_TEST_TMPDIR/missing/summary.md" run_refused 3 \
		"^hive-runbook: error: \\\$GITHUB_STEP_SUMMARY $BATS_TEST_TMPDIR/missing/summary.md: No such file or directory$" \
		hive-runbook --session rb-empty --finish --step-summary
}

# --- Prometheus through the real promtool ---------------------------------------------

@test "promtool check metrics accepts the full, the empty and a finished session, and --all" {
	install_session rb-full
	install_session rb-empty
	install_dora
	hive-runbook --session rb-full --format prometheus >"$BATS_TEST_TMPDIR/full.prom"
	promtool_ok "$BATS_TEST_TMPDIR/full.prom"
	hive-runbook --session rb-empty --format prometheus >"$BATS_TEST_TMPDIR/empty.prom"
	promtool_ok "$BATS_TEST_TMPDIR/empty.prom"
	hive-runbook --root "$PWD/dora" --all --format prometheus >"$BATS_TEST_TMPDIR/all.prom"
	promtool_ok "$BATS_TEST_TMPDIR/all.prom"
	hive-runbook --all --format prometheus >"$BATS_TEST_TMPDIR/all2.prom"
	promtool_ok "$BATS_TEST_TMPDIR/all2.prom"
	hive-runbook --root "$PWD/none" --all --format prometheus >"$BATS_TEST_TMPDIR/none.prom"
	promtool_ok "$BATS_TEST_TMPDIR/none.prom"
	hive-runbook -q --session rb-empty --finish --format prometheus -o "$BATS_TEST_TMPDIR/done.prom"
	promtool_ok "$BATS_TEST_TMPDIR/done.prom"
	grep -q '^hive_session_info{session="rb-empty",worker="devops-worker",status="completed"} 1$' \
		"$BATS_TEST_TMPDIR/done.prom"
}

@test "prometheus: label values from events are escaped (quotes, backslashes, newlines)" {
	hive-init -q --session prom >/dev/null
	hive-emit -q --session prom metric_recorded --resource api --platform K8s \
		'name=say "hi" \ there' value:=1.5 unit:='"per\nline"' >/dev/null
	hive-runbook --session prom --format prometheus >"$BATS_TEST_TMPDIR/p.prom"
	promtool_ok "$BATS_TEST_TMPDIR/p.prom"
	grep -qxF 'hive_recorded_value{worker="devops-worker",name="say \"hi\" \\ there",unit="per\nline",resource="api"} 1.5' \
		"$BATS_TEST_TMPDIR/p.prom"
}

# --- --step-summary -------------------------------------------------------------------

@test "--step-summary appends the Markdown to \$GITHUB_STEP_SUMMARY, after what was there" {
	install_session rb-full
	local sum="$BATS_TEST_TMPDIR/summary.md"
	printf '## an earlier step\n' >"$sum"
	GITHUB_STEP_SUMMARY="$sum" run --separate-stderr hive-runbook --session rb-full --step-summary
	assert_success
	cmp "$sum" <(printf '## an earlier step\n'; cat "$RB/golden/rb-full.runbook.md")
	# the summary is Markdown whatever --format prints, and the chosen report
	printf '' >"$sum"
	GITHUB_STEP_SUMMARY="$sum" run --separate-stderr hive-runbook --session rb-full --step-summary \
		--format json --report incident
	assert_success
	assert_jq '.metrics.session_id == "rb-full"' "$output"
	cmp "$sum" "$RB/golden/rb-full.incident.md"
}

@test "--step-summary without \$GITHUB_STEP_SUMMARY writes nothing; the variable without the flag neither" {
	install_session rb-full
	snapshot "$BATS_TEST_TMPDIR"
	run --separate-stderr hive-runbook --session rb-full --step-summary
	assert_success
	assert_stderr_empty
	assert_equal "$output" "$(cat "$RB/golden/rb-full.runbook.md")"
	GITHUB_STEP_SUMMARY='' run --separate-stderr hive-runbook --session rb-full --step-summary
	assert_success
	assert_stderr_empty
	assert_unchanged "$BATS_TEST_TMPDIR"
	printf 'kept\n' >"$BATS_TEST_TMPDIR/summary.md"
	GITHUB_STEP_SUMMARY="$BATS_TEST_TMPDIR/summary.md" run hive-runbook --session rb-full
	assert_success
	assert_equal "$(cat "$BATS_TEST_TMPDIR/summary.md")" kept
}

@test "--step-summary on a huge session: cut below 1 MiB (counting what was there) at a line, with the note" {
	hive-init -q --session huge >/dev/null
	# 3000 components, each with a 1500-byte configuration value: about 6 MB of Markdown,
	# written in one batch
	awk 'BEGIN { v = sprintf("%1500s", ""); gsub(/ /, "x", v);
		for (i = 1; i <= 3000; i++)
			printf "{\"event_type\":\"infrastructure_provisioned\",\"details\":{\"resource\":\"res-%d\",\"action\":\"create\",\"platform\":\"AWS\",\"configuration\":{\"purpose\":\"component %d\",\"note\":\"%s\"},\"status\":\"success\"}}\n", i, i, v }' |
		hive-emit -q --session huge - >/dev/null
	hive-runbook --session huge >"$BATS_TEST_TMPDIR/full.md"
	local size
	size=$(stat -c %s "$BATS_TEST_TMPDIR/full.md")
	((size > 4 * MIB)) || fail "the full runbook is only $size bytes"
	local sum="$BATS_TEST_TMPDIR/summary.md"
	# an earlier step already wrote 100000 bytes
	head -c 100000 /dev/zero | tr '\0' 'e' >"$sum"
	cp "$sum" "$BATS_TEST_TMPDIR/before"
	GITHUB_STEP_SUMMARY="$sum" run --separate-stderr hive-runbook --session huge --step-summary \
		-o "$BATS_TEST_TMPDIR/out.md"
	assert_success
	cmp "$BATS_TEST_TMPDIR/out.md" "$BATS_TEST_TMPDIR/full.md"
	python3 - "$BATS_TEST_TMPDIR/before" "$sum" "$BATS_TEST_TMPDIR/full.md" "$BATS_TEST_TMPDIR/out.md" <<-'EOF' || fail "the cut is wrong (see above)"
		import sys
		before, summary, full = (open(p, 'rb').read() for p in sys.argv[1:4])
		where = sys.argv[4]
		MIB = 1048576
		assert len(summary) <= MIB, 'summary is %d bytes, over 1 MiB' % len(summary)
		assert summary.startswith(before), 'what was there before was changed'
		added = summary[len(before):]
		note = ('\n> **Cut here**: GitHub shows at most 1 MiB of summary per step; '
		        'the whole report is in %s.\n' % where).encode()
		assert added.endswith(note), 'no cut note at the end: %r' % added[-300:]
		body = added[:-len(note)]
		assert len(body) > 0 and body.endswith(b'\n'), 'not cut at the end of a line'
		assert full.startswith(body), 'the appended part is not the start of the report'
		# as much as fits: the next whole line would not have
		nxt = full.index(b'\n', len(body)) + 1
		assert len(before) + nxt + len(note) > MIB, 'cut too early: %d more bytes fit' % (
		    MIB - len(before) - len(body) - len(note))
	EOF
}

@test "--step-summary: a summary file already at the limit gets nothing more, not even the note" {
	install_session rb-full
	local sum="$BATS_TEST_TMPDIR/summary.md"
	# 100 bytes of room: less than the cut note needs
	head -c $((MIB - 100)) /dev/zero | tr '\0' 'e' >"$sum"
	snapshot "$BATS_TEST_TMPDIR"
	GITHUB_STEP_SUMMARY="$sum" run --separate-stderr hive-runbook --session rb-full --step-summary
	assert_success
	assert_unchanged "$BATS_TEST_TMPDIR"
	(($(stat -c %s "$sum") <= MIB))
}

# --- --findings -----------------------------------------------------------------------

@test "hive-check --format json | hive-runbook --findings -: the validation section lists the findings" {
	install_session rb-full
	local d
	d="$(session_dir rb-full)"
	sed -i '3s/HTTP API for orders/HTTP API for ordErs/' "$d/EVENTS.jsonl"
	run bash -c 'hive-check --session rb-full --format json 2>/dev/null | hive-runbook --session rb-full --findings -'
	assert_success
	assert_line '## Validation'
	assert_line 'hive-check: 1 error, 0 warnings.'
	assert_line "- error [chain] Docs/hive-mind/sessions/rb-full/EVENTS.jsonl:4: prev does not match the SHA-256 of line 3 ($(line_hash "$(sed -n 3p "$d/EVENTS.jsonl")")): that line was edited, or lines were removed, inserted or reordered"
	refute_line --partial 'Not checked here'
	# the same from a file, as a JSON array on one line, and in --format json
	hive-check --session rb-full --format json >"$BATS_TEST_TMPDIR/f.ndjson" 2>/dev/null || true
	jq -s -c . "$BATS_TEST_TMPDIR/f.ndjson" >"$BATS_TEST_TMPDIR/f.json"
	run hive-runbook --session rb-full --findings "$BATS_TEST_TMPDIR/f.json" --report deployment
	assert_success
	assert_line 'hive-check: 1 error, 0 warnings.'
	run hive-runbook --session rb-full --findings "$BATS_TEST_TMPDIR/f.ndjson" --format json
	assert_jq '.findings == $f' "$output" --slurpfile f "$BATS_TEST_TMPDIR/f.ndjson"
	assert_jq '.findings | length == 1 and .[0].rule == "chain" and .[0].line == 4' "$output"
}

@test "--findings from a clean check: zero errors and warnings, said so" {
	install_session rb-full
	run bash -c 'hive-check --session rb-full --format json | hive-runbook --session rb-full --findings - --report incident'
	assert_success
	assert_line 'hive-check: 0 errors, 0 warnings.'
	run hive-runbook --session rb-full --findings /dev/null --format json
	assert_jq '.findings == []' "$output"
}

@test "--findings: input that is not hive-check's findings is exit 2, nothing changed" {
	install_session rb-full
	printf 'not json\n' >"$BATS_TEST_TMPDIR/bad1"
	printf '{"level":"error","message":"no rule"}\n' >"$BATS_TEST_TMPDIR/bad2"
	run_refused 2 "^hive-runbook: error: --findings $BATS_TEST_TMPDIR/bad1:1: not a hive-check finding \(use hive-check --format json\)$" \
		hive-runbook --session rb-full --findings "$BATS_TEST_TMPDIR/bad1"
	run_refused 2 'bad2:1: not a hive-check finding' \
		hive-runbook --session rb-full --findings "$BATS_TEST_TMPDIR/bad2"
	run_refused 2 '^hive-runbook: error: --findings -:2: not a hive-check finding' \
		bash -c 'printf "{\"rule\":\"chain\"}\n[1,2\n" | hive-runbook --session rb-full --findings -'
	run_refused 2 "^hive-runbook: error: --findings $BATS_TEST_TMPDIR/none: No such file or directory$" \
		hive-runbook --session rb-full --findings "$BATS_TEST_TMPDIR/none"
	run_refused 2 'no --finish, --report, --findings or --session' \
		hive-runbook --all --findings "$BATS_TEST_TMPDIR/bad2"
}

# --- --all: DORA ----------------------------------------------------------------------

@test "--all: DORA over the three fixture sessions, by hand, in JSON" {
	install_dora
	run --separate-stderr hive-runbook --root "$PWD/dora" --all --format json
	assert_success
	# successful deployments: api 01-15 10:00, api 01-16 12:30, api 01-19 08:00, web 01-19 09:00;
	# failed: worker 01-15 11:00, api 01-20 10:00. Window: 01-15 10:00 to 01-20 10:00 = 5 days.
	assert_jq '.sessions == 3' "$output"
	assert_jq '.deployment_frequency == {deployments: 4, days: 5, per_day: 0.8,
		first: "2025-01-15T10:00:00.000Z", last: "2025-01-20T10:00:00.000Z"}' "$output"
	# leads of successful deployments with a known commit: 7200, 10800, 72000 -> 10800
	assert_jq '.lead_time_for_changes == {deployments: 3, median_s: 10800}' "$output"
	assert_jq '.change_failure_rate | .deployments == 6 and .failed == 2 and
		(.rate * 3 - 1 | length < 1e-9)' "$output"
	# resolved incidents: 1800, 3600, 900 (the unresolved one is left out) -> 1800
	assert_jq '.failed_deployment_recovery_time == {incidents: 3, median_s: 1800}' "$output"
	assert_golden_json dora.json hive-runbook --root "$PWD/dora" --all --format json
}

@test "--all: DORA in Markdown and Prometheus match golden/dora.md and dora.prom" {
	install_dora
	assert_golden dora.md hive-runbook --root "$PWD/dora" --all
	assert_golden dora.prom hive-runbook --root "$PWD/dora" --all --format prometheus
	run hive-runbook --root "$PWD/dora" --all
	assert_line '| Deployment frequency | 0.8 per day | 4 successful deployments over 5 days |'
	assert_line '| Lead time for changes (median) | 3h 0m 0s (10800 s) | 3 deployments with a known commit time |'
	assert_line '| Change failure rate | 33.3% | 2 of 6 deployments failed or had an incident linked |'
	assert_line '| Failed deployment recovery time (median) | 30m 0s (1800 s) | 3 resolved incidents |'
}

@test "--all: five sessions, an even number of lead times takes the mean of the middle two" {
	install_dora
	install_session rb-full "$PWD/dora"
	install_session rb-empty "$PWD/dora"
	run hive-runbook --root "$PWD/dora" --all --format json
	assert_success
	# rb-full adds a successful deployment on 01-15 10:05 with a lead of 7500 s and an
	# incident of 1800 s: leads 7200 7500 10800 72000, recoveries 900 1800 1800 3600
	assert_jq '.sessions == 5 and .deployment_frequency.deployments == 5 and
		.deployment_frequency.days == 5 and .deployment_frequency.per_day == 1' "$output"
	assert_jq '.lead_time_for_changes == {deployments: 4, median_s: 9150}' "$output"
	assert_jq '.change_failure_rate | .deployments == 7 and .failed == 2' "$output"
	assert_jq '.failed_deployment_recovery_time == {incidents: 4, median_s: 1800}' "$output"
}

@test "--all with no session under the root: zero deployments, the rest not recorded" {
	run --separate-stderr hive-runbook --root "$PWD/none" --all --format json
	assert_success
	assert_jq '.sessions == 0 and .deployment_frequency.deployments == 0 and
		.deployment_frequency.per_day == 0 and .deployment_frequency.first == null and
		.lead_time_for_changes.median_s == null and .change_failure_rate.rate == null and
		.failed_deployment_recovery_time.median_s == null' "$output"
	run --separate-stderr hive-runbook --root "$PWD/none" --all
	assert_success
	assert_line 'Across 0 sessions.'
	assert_line '| Change failure rate | not recorded | 0 of 0 deployments failed or had an incident linked |'
	assert_line '| Deployment frequency | 0 per day | 0 successful deployments over 1 day |'
	assert_line '| Lead time for changes (median) | not recorded | 0 deployments with a known commit time |'
}

@test "--all --step-summary appends the DORA Markdown" {
	install_dora
	GITHUB_STEP_SUMMARY="$BATS_TEST_TMPDIR/s.md" run hive-runbook --root "$PWD/dora" --all \
		--step-summary --format json
	assert_success
	cmp "$BATS_TEST_TMPDIR/s.md" "$RB/golden/dora.md"
}

# --- bad input ------------------------------------------------------------------------

@test "bad options: exit 2 with the message, nothing written" {
	install_session rb-full
	run_refused 2 '^hive-runbook: error: --report: "bogus" is not one of runbook, deployment, incident, infrastructure, all, dashboard$' \
		hive-runbook --session rb-full --report bogus
	run_refused 2 '^hive-runbook: error: --format: "bogus" is not one of markdown, json, prometheus, otlp, otlp-logs, events$' \
		hive-runbook --session rb-full --format bogus
	run_refused 2 '^hive-runbook: error: --status goes with --finish$' \
		hive-runbook --session rb-full --status failure
	run_refused 2 '^hive-runbook: error: --status: "done" is not one of success, failure$' \
		hive-runbook --session rb-full --finish --status 'done'
	run_refused 2 '^hive-runbook: error: --all reports across sessions: no --finish, --report, --findings or --session$' \
		hive-runbook --all --finish
	run_refused 2 'no --finish, --report, --findings or --session' \
		hive-runbook --all --session rb-full
	run_refused 2 'no --finish, --report, --findings or --session' \
		hive-runbook --all --report deployment
	run_refused 2 '^hive-runbook: error: unexpected argument rb-full \(see --help\)$' \
		hive-runbook rb-full
	run_refused 2 '^hive-runbook: ' hive-runbook --session rb-full --bogus
}

@test "sessions that are not there: exit 2, nothing created" {
	run_refused 2 '^hive-runbook: error: session nope does not exist.*: run hive-init first$' \
		hive-runbook --session nope
	run_refused 2 '^hive-runbook: error: session nope does not exist' \
		hive-runbook --session nope --finish
	run_refused 2 '^hive-runbook: error: --session: session id "\.\./x": only letters' \
		hive-runbook --session ../x
	run_refused 2 '^hive-runbook: error: no session: pass --session ID or set HIVE_SESSION_ID' \
		hive-runbook
	[[ ! -e Docs ]]
}

@test "-o into a missing folder: exit 3 with the message, nothing written" {
	install_session rb-full
	run_refused 3 "^hive-runbook: error: -o $BATS_TEST_TMPDIR/missing/out.md: No such file or directory$" \
		hive-runbook --session rb-full -o "$BATS_TEST_TMPDIR/missing/out.md"
	install_dora
	run_refused 3 "^hive-runbook: error: -o $BATS_TEST_TMPDIR/missing/dora.json: No such file or directory$" \
		hive-runbook --root "$PWD/dora" --all --format json -o "$BATS_TEST_TMPDIR/missing/dora.json"
}

@test "--help and --version: exit 0 on stdout" {
	run --separate-stderr hive-runbook --help
	assert_success
	assert_line --index 0 --partial 'usage: hive-runbook [--finish [--status success|failure] [--dry-run]]'
	assert_stderr_empty
	run --separate-stderr hive-runbook --version
	assert_success
	assert_output --regexp '^hive-runbook [0-9]'
}

# --- the man page ---------------------------------------------------------------------

MAN="$SRC_TOP/man/hive-runbook.1"

@test "man page: mandoc -Tlint -W warning is clean" {
	[[ -f "$MAN" ]] || fail "no $MAN"
	run mandoc -Tlint -W warning "$MAN"
	assert_success
	assert_output ''
}

@test "man page: SYNOPSIS is the usage of --help, one for one" {
	[[ -f "$MAN" ]] || fail "no $MAN"
	# both reduced to one line per form, lower case, no spacing around '|'. The usage's
	# "[options]" stands for the common options, which the SYNOPSIS lists in full after the
	# tool's own (from "[-hq]" or "[-q]" on): those are compared apart.
	local norm='s/^usage://; s/ *\| */|/g; s/[[:space:]]+/ /g; s/^ //; s/ $//'
	local usage synopsis
	usage="$(hive-runbook --help | sed -n '/^usage:/,/^$/p' | tr '\n' ' ' |
		sed -E 's/ +hive-runbook/\nhive-runbook/g' | sed -E "$norm" | tr '[:upper:]' '[:lower:]' | sed '/^$/d')"
	synopsis="$(MANWIDTH=200 mandoc -Tascii -O width=200 "$MAN" | col -b |
		sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' | sed '1d;$d' | tr '\n' ' ' |
		sed -E 's/ +hive-runbook/\nhive-runbook/g' | sed -E "$norm" | tr '[:upper:]' '[:lower:]' | sed '/^$/d')"
	assert_equal "$(sed -E 's/ \[-h?q\] .*$//' <<<"$synopsis")" "$(sed -E 's/ \[options\]$//' <<<"$usage")"
	# the first form: [options] in the usage, the common options in the man page
	assert_equal "$(sed -n 1p <<<"$usage" | grep -c ' \[options\]$')" 1
	assert_equal "$(sed -n 1p <<<"$synopsis" | sed -E 's/^.* (\[-hq\] )/\1/')" \
		'[-hq] [-c dir] [--config file] [--root dir] [--session id] [--version]'
	assert_equal "$(sed -n 2p <<<"$synopsis" | sed -E 's/^.* (\[-q\] )/\1/')" \
		'[-q] [-c dir] [--config file] [--root dir]'
	# and every option --help lists is in the man page's OPTIONS
	local opt options
	options="$(mandoc -Tascii "$MAN" | col -b | sed -n '/^OPTIONS/,/^ENVIRONMENT/p')"
	for opt in $(hive-runbook --help | grep -oE '(^|[ ,])--?[A-Za-z][A-Za-z-]*' | tr -d ' ,' | sort -u); do
		grep -qE -- "(^|[ ,])$opt( |,|$)" <<<"$options" || fail "$opt is in --help but not in OPTIONS"
	done
}

@test "man page: every EXAMPLE runs" {
	make_repo "$BATS_TEST_TMPDIR/ex"
	cd "$BATS_TEST_TMPDIR/ex"
	local n=0 block
	# each literal display of EXAMPLES is run in turn, in one repository
	while IFS= read -r -d '' block; do
		n=$((n + 1))
		run bash -o pipefail -e -c "$block"
		((status == 0)) || fail "$(printf 'example %d failed (exit %d):\n%s\n--- output\n%s' "$n" "$status" "$block" "$output")"
	done < <(awk '/^\.Sh EXAMPLES/ { on = 1; next } /^\.Sh / { on = 0 }
		on && /^\.Bd -literal/ { inb = 1; b = ""; next }
		on && /^\.Ed/ { inb = 0; printf "%s%c", b, 0; next }
		inb { b = b $0 "\n" }' "$MAN")
	((n >= 6)) || fail "only $n examples found"
	# what the examples leave behind
	[[ -f Docs/hive-mind/sessions/deploy-42/METRICS.json ]]
	[[ -f Docs/hive-mind/sessions/deploy-42/RUNBOOK.md ]]
	run hive-check --all
	assert_success
}
