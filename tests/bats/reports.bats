#!/usr/bin/env bats
# reports.bats - what hive-runbook's reports may claim: incidents linked to deployments
# (change failure rate as DORA defines it), costs per resource and their totals, each
# environment's latest deployment in STATE.json (in_progress included), --all windows,
# rollback and rollback_plan as one key, and the runbook's PROCEDURE. Sessions are made with
# the real tools in a real repository; every refusal leaves the files byte-for-byte unchanged.

# Single-quoted jq programs use $ literally.
# shellcheck disable=SC2016

load test_helper

setup() {
	hive_setup || return 1
	require_tool hive-emit || return 1
	require_tool hive-check || return 1
	require_tool hive-runbook || return 1
	make_repo "$BATS_TEST_TMPDIR/repo"
	cd "$BATS_TEST_TMPDIR/repo" || return 1
}

# deploy SESSION ENV STATUS [KEY=VALUE…]: a deployment_configured of api.
deploy() {
	local s=$1 env=$2 st=$3
	shift 3
	hive-emit -q --session "$s" deployment_configured --resource api --action update \
		--platform K8s --status "$st" environment="$env" "$@" >/dev/null
}

# incident SESSION RESOURCE [KEY=VALUE…]: a P1 detected and resolved on RESOURCE.
incident() {
	local s=$1 r=$2
	shift 2
	hive-emit -q --session "$s" incident_detected --resource "$r" --action update \
		--platform K8s --status success severity=P1 "$@" >/dev/null
	hive-emit -q --session "$s" incident_resolved --resource "$r" --action update \
		--platform K8s --status success >/dev/null
}

metrics_of() {
	hive-runbook --session "$1" --format json | jq -c .metrics
}

# --- incidents linked to deployments --------------------------------------------------

@test "change failure rate: an incident naming the deployment's resource and environment makes it a failed change" {
	hive-init -q --session s >/dev/null
	deploy s production success version=1.1
	incident s api environment=production
	run metrics_of s
	assert_success
	assert_jq '.deployments == {count: 1, success: 1, failure: 0, failed_changes: 1, change_failure_rate: 1}
		and .incidents.linked_to_deployments == 1' "$output"
	run hive-runbook --session s --report deployment
	assert_line --regexp '^- Linked incident: P1 at [0-9T:.Z-]+ \(a failed change\)$'
	run hive-runbook --session s
	assert_line '- Deployments: 1 (1 succeeded, 0 failed), change failure rate 100.0% (1 of 1 deployment failed or linked to an incident)'
	run hive-runbook --session s --format json
	assert_jq '.incidents[0].deployment_seq == 2 and .deployments[0].failed_change == true' "$output"
	run hive-runbook --session s --format prometheus
	assert_line 'hive_deployment_failed_changes_total{worker="devops-worker",environment="production"} 1'
	assert_line 'hive_change_failure_ratio{worker="devops-worker"} 1'
}

@test "change failure rate: an incident that names no environment, another environment or another resource is linked to nothing" {
	hive-init -q --session s >/dev/null
	deploy s production success
	incident s api
	incident s api environment=staging
	incident s db environment=production
	run metrics_of s
	assert_jq '.deployments.failed_changes == 0 and .deployments.change_failure_rate == 0
		and .incidents == {count: 3, linked_to_deployments: 0, mttr_s: .incidents.mttr_s}' "$output"
	run hive-runbook --session s --report deployment
	refute_output --partial 'Linked incident'
}

@test "change failure rate: an incident detected before the deployment is not linked to it; configuration.deployment names one by its line" {
	hive-init -q --session s >/dev/null
	incident s api environment=production
	deploy s production success
	run metrics_of s
	assert_jq '.deployments.failed_changes == 0 and .incidents.linked_to_deployments == 0' "$output"
	# line 4 is the deployment; naming it links whatever the resource and environment say
	hive-emit -q --session s incident_detected --resource web --action update --platform K8s \
		--status success severity=P2 deployment:=4 >/dev/null
	run metrics_of s
	assert_jq '.deployments.failed_changes == 1 and .incidents.linked_to_deployments == 1' "$output"
	# a line that is no deployment links nothing
	hive-init -q --session t >/dev/null
	deploy t production success
	hive-emit -q --session t incident_detected --resource api --action update --platform K8s \
		--status success severity=P2 deployment:=1 environment=production >/dev/null
	run metrics_of t
	assert_jq '.deployments.failed_changes == 0 and .incidents.linked_to_deployments == 0' "$output"
}

@test "DORA --all: a linked incident counts as a failed change across sessions" {
	hive-init -q --session a >/dev/null
	deploy a production success
	incident a api environment=production
	hive-init -q --session b >/dev/null
	deploy b production success
	incident b api
	run hive-runbook --all --format json
	assert_success
	assert_jq '.change_failure_rate == {deployments: 2, failed: 1, rate: 0.5}
		and .deployment_frequency.deployments == 2' "$output"
}

# --- costs: each resource's value and the totals ------------------------------------------

@test "metrics per resource: cost 10 for db and 20 for api is 30 USD in total, in METRICS.json, Markdown and Prometheus" {
	hive-init -q --session c >/dev/null
	hive-emit -q --session c metric_recorded --resource db --platform AWS name=cost value:=7 unit=USD >/dev/null
	hive-emit -q --session c metric_recorded --resource db --platform AWS name=cost value:=10 unit=USD >/dev/null
	hive-emit -q --session c metric_recorded --resource api --platform K8s name=cost value:=20 unit=USD >/dev/null
	hive-emit -q --session c metric_recorded --resource api --platform K8s name=cost value:=3 unit=EUR >/dev/null
	run hive-runbook --session c
	assert_line '- cost: 30 USD in total over 2 resources, 3 EUR in total over 1 resource (db 10 USD, api 20 USD, api 3 EUR)'
	hive-runbook -q --session c --finish >/dev/null
	run jq -c '.metrics.cost' "$(session_dir c)/METRICS.json"
	assert_jq '[.by_resource[] | [.resource, .unit, .value]] == [["db", "USD", 10], ["api", "USD", 20], ["api", "EUR", 3]]
		and .totals == [{unit: "USD", value: 30, resources: 2}, {unit: "EUR", value: 3, resources: 1}]' "$output"
	run hive-runbook --session c --format prometheus
	assert_line 'hive_recorded_value{worker="devops-worker",name="cost",unit="USD",resource="db"} 10'
	assert_line 'hive_recorded_value{worker="devops-worker",name="cost",unit="USD",resource="api"} 20'
	run hive-check --session c
	assert_success
}

@test "resources count resources, not events: one created then updated twice, one updated" {
	hive-init -q --session r >/dev/null
	hive-emit -q --session r infrastructure_provisioned --resource db --action create --platform AWS --status success >/dev/null
	hive-emit -q --session r infrastructure_provisioned --resource db --action update --platform AWS --status success >/dev/null
	hive-emit -q --session r infrastructure_provisioned --resource db --action update --platform AWS --status success >/dev/null
	deploy r production success
	run metrics_of r
	assert_jq '.resources == {count: 2, created: 1, updated: 2, deleted: 0}' "$output"
	run hive-runbook --session r
	assert_line '- Resources: 2 changed (1 created, 2 updated, 0 deleted; a resource counts once per action)'
}

# --- STATE.json: every environment's latest deployment --------------------------------------

@test "STATE.json: a failed staging deployment does not replace production's success; in_progress until it ends" {
	hive-init -q --session d >/dev/null
	deploy d production success version=1.1
	deploy d staging in_progress version=1.2
	local st
	st="$(session_dir d)/STATE.json"
	assert_jq '.deployment.status == "in_progress" and
		.deployment.environments.production.status == "success" and
		.deployment.environments.staging == {status: "in_progress", version: "1.2", resource: "api", seq: 3, timestamp: .deployment.environments.staging.timestamp}' "$(cat "$st")"
	# under way: not a deployment of the reports yet
	run metrics_of d
	assert_jq '.deployments.count == 1 and .events.by_status.in_progress == 1' "$output"
	run hive-runbook --session d --report deployment
	assert_line 'Started and not ended (not counted until an event with success or failure ends it):'
	assert_line --regexp '^- api in staging, version 1\.2 \(line 3, [0-9T:.Z-]+\)$'
	run hive-runbook --session d --format prometheus
	assert_line 'hive_deployment_status{worker="devops-worker",environment="staging",status="in_progress"} 1'
	assert_line 'hive_deployment_status{worker="devops-worker",environment="production",status="success"} 1'
	deploy d staging failure version=1.2
	assert_jq '.deployment.status == "failure" and .deployment.environment == "staging" and
		.deployment.environments.production == {status: "success", version: "1.1", resource: "api", seq: 2, timestamp: .deployment.environments.production.timestamp} and
		.deployment.environments.staging.status == "failure" and .deployment.environments.staging.seq == 4' "$(cat "$st")"
	run metrics_of d
	assert_jq '.deployments == {count: 2, success: 1, failure: 1, failed_changes: 1, change_failure_rate: 0.5}' "$output"
	run hive-runbook --session d --report deployment
	refute_output --partial 'Started and not ended'
	# the view is the fold of the log: hive-check agrees, and a rebuild gives the same bytes
	run hive-check --session d
	assert_success
	cp "$st" "$BATS_TEST_TMPDIR/state"
	rm "$st"
	hive-check -q --session d --repair >/dev/null
	cmp "$st" "$BATS_TEST_TMPDIR/state"
}

@test "in_progress is a status of deployment_configured only: other types refuse it, nothing written" {
	hive-init -q --session p >/dev/null
	run_refused 2 '^hive-emit: error: details.status: "in_progress" is not one of success, failure$' \
		hive-emit --session p infrastructure_provisioned --resource db --action create \
		--platform AWS --status in_progress
	run_refused 2 '^hive-emit: error: details.status: "done" is not one of success, failure, in_progress$' \
		hive-emit --session p deployment_configured --resource api --action update \
		--platform K8s --status done
}

# --- --all windows -----------------------------------------------------------------------------

@test "--all --since/--until: only deployments and incidents in the window count" {
	hive-init -q --session w >/dev/null
	deploy w production success
	deploy w production failure
	incident w api environment=production
	# the events are stamped now: a window from 2000 holds them, one until 2000 none
	run hive-runbook --all --since 2000-01-01 --format json
	assert_jq '.window == {since: "2000-01-01T00:00:00.000Z", until: null} and
		.change_failure_rate.deployments == 2 and .sessions == 1' "$output"
	run hive-runbook --all --until 2000-01-01 --format json
	assert_jq '.window.until == "2000-01-01T00:00:00.000Z" and .change_failure_rate.deployments == 0
		and .failed_deployment_recovery_time.incidents == 0 and .sessions == 0' "$output"
	run hive-runbook --all --since 2000-01-01 --until 2000-01-11
	assert_line 'Across 0 sessions, from 2000-01-01T00:00:00.000Z to 2000-01-11T00:00:00.000Z.'
	assert_line '| Deployment frequency | 0 per day | 0 successful deployments over 10 days |'
	run hive-runbook --all --since 2000-01-01T00:00:00Z --until 2999-01-01
	# the incident is linked to the latest production deployment before it, the failed one
	assert_line --partial '| Change failure rate | 50.0% | 1 of 2 deployments failed or had an incident linked |'
}

@test "--since/--until: refused without --all, unparsable, or an empty window" {
	hive-init -q --session w >/dev/null
	run_refused 2 '^hive-runbook: error: --since and --until go with --all$' \
		hive-runbook --session w --since 2025-01-01
	run_refused 2 '^hive-runbook: error: --since: "yesterday" is not a UTC time \(YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ\)$' \
		hive-runbook --all --since yesterday
	run_refused 2 '^hive-runbook: error: --until: "2025-02-30" is not a UTC time \(YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ\)$' \
		hive-runbook --all --until 2025-02-30
	run_refused 2 '^hive-runbook: error: --until must be later than --since$' \
		hive-runbook --all --since 2025-02-01 --until 2025-01-01
}

# --- rollback and rollback_plan ------------------------------------------------------------

@test "require_rollback: rollback_plan is the same key as rollback; neither is refused" {
	printf 'policy:\n  require_rollback: true\n' >.hive.yml
	hive-init -q --session k >/dev/null
	deploy k production success rollback_plan='helm rollback api 3'
	deploy k production success rollback='helm rollback api 4'
	run hive-check --session k
	assert_success
	run hive-runbook --session k --report deployment
	assert_line '- Rollback Plan: helm rollback api 3'
	assert_line '- Rollback Plan: helm rollback api 4'
	run_refused 1 'policy.require_rollback: deployment_configured has no configuration.rollback' \
		hive-emit --session k deployment_configured --resource api --action update \
		--platform K8s --status success environment=production
}

# --- the runbook as a procedure ----------------------------------------------------------------

@test "PROCEDURE: rollback steps, the version before, verify commands, health checks, alerts, key metrics; not recorded where absent" {
	hive-init -q --session q >/dev/null
	hive-emit -q --session q infrastructure_provisioned --resource api --action create \
		--platform K8s --status success health_check=/healthz alerts:='{"error_rate": "> 1% for 5m"}' >/dev/null
	deploy q production success version=1.1
	hive-emit -q --session q metric_recorded --resource api --platform K8s name=p99 value:=0.2 unit=s >/dev/null
	deploy q production success version=1.2 \
		rollback:='["helm rollback api 1", "kubectl rollout status deploy/api"]' \
		verify:='["curl -fsS https://api.example.com/healthz"]'
	deploy q staging failure
	run hive-runbook --session q
	assert_success
	local proc
	proc="$(sed -n '/^## PROCEDURE: api in production (line 5)$/,/^## /p' <<<"$output")"
	assert_equal "$proc" "## PROCEDURE: api in production (line 5)

- Deployed: version 1.2 (success)
- Roll back:
  - Steps:
    1. helm rollback api 1
    2. kubectl rollout status deploy/api
  - Version before it: 1.1 (line 3)
- Verify (after the deployment and after a rollback):
  - Commands:
    - curl -fsS https://api.example.com/healthz
  - Health checks:
    - /healthz
  - Alerts:
    - error_rate > 1% for 5m
  - Key metrics:
    - p99

## PROCEDURE: api in staging (line 6)"
	# nothing recorded for the first one's rollback: said so, not invented
	proc="$(sed -n '/^## PROCEDURE: api in production (line 3)$/,/^- Verify/p' <<<"$output")"
	assert_equal "$proc" "## PROCEDURE: api in production (line 3)

- Deployed: version 1.1 (success)
- Roll back:
  - Steps: not recorded
  - Version before it: not recorded
- Verify (after the deployment and after a rollback):"
	run hive-runbook --session q --format json
	assert_jq '.procedures[1].rollback == {steps: ["helm rollback api 1", "kubectl rollout status deploy/api"], previous: {version: "1.1", seq: 3}}
		and .procedures[2].rollback == {steps: null, previous: null}' "$output"
	# the procedure is the runbook's: the reports of --report all do not have it
	run hive-runbook --session q --report all
	refute_output --partial '## PROCEDURE'
}
