#!/usr/bin/env bats
# dashboard.bats - hive-runbook --report dashboard and --format prometheus, through the real
# Prometheus and the real @grafana/schema types.
#
# One session is made with hive-emit in a real repository (deployments to two environments,
# one failed and one in progress before it, an incident that names production, costs for two
# resources, a failed pipeline step). Its --format prometheus output is served by a static
# file server on 127.0.0.1 (python3 -m http.server) and scraped by a real Prometheus with a
# temporary configuration and storage; every panel's PromQL of the dashboard then goes
# through Prometheus' HTTP API (/api/v1/query) and must return exactly the series the session
# produced. The dashboard's JSON is type-checked against @grafana/schema's Dashboard type
# with the TypeScript compiler (tests/node_modules, exact versions in tests/package.json):
# that package is types only, so the compiler is how it checks anything.
#
# Missing tools (prometheus, promtool, python3, curl, tsc) are a FAILURE, never a skip.

# Single-quoted jq programs use $ literally.
# shellcheck disable=SC2016

load test_helper

NODE_MODULES="$SRC_TOP/tests/node_modules"

setup() {
	hive_setup || return 1
	require_tool hive-emit || return 1
	require_tool hive-runbook || return 1
	local t
	for t in prometheus promtool python3 curl jq; do
		command -v "$t" >/dev/null || fail "$t is not installed (scripts/deps.sh installs it)"
	done
	PIDS="$BATS_TEST_TMPDIR/pids"
	: >"$PIDS"
}

# Stop what this test started, by the ids it recorded (never by name).
teardown() {
	local pid
	[[ -f "${PIDS:-}" ]] || return 0
	while read -r pid; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done <"$PIDS"
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The session: every kind of series the exposition has.
make_session() {
	make_repo "$BATS_TEST_TMPDIR/repo"
	cd "$BATS_TEST_TMPDIR/repo" || return 1
	hive-init -q --session dash >/dev/null
	{
		hive-emit -q --session dash infrastructure_provisioned --resource db --action create \
			--platform AWS --status success health_check=tcp://db:5432
		hive-emit -q --session dash pipeline_updated --resource ci --action update \
			--platform Docker --status failure step=lint
		hive-emit -q --session dash metric_recorded --resource db --platform AWS \
			name=monthly_cost value:=10 unit=USD
		hive-emit -q --session dash metric_recorded --resource api --platform K8s \
			name=monthly_cost value:=20 unit=USD
		hive-emit -q --session dash deployment_configured --resource api --action update \
			--platform K8s --status success environment=production version=1.1 \
			rollback='helm rollback api'
		hive-emit -q --session dash deployment_configured --resource api --action update \
			--platform K8s --status in_progress environment=staging version=1.2
		hive-emit -q --session dash deployment_configured --resource api --action update \
			--platform K8s --status failure environment=staging version=1.2
		hive-emit -q --session dash incident_detected --resource api --action update \
			--platform K8s --status success severity=P1 environment=production
		hive-emit -q --session dash incident_resolved --resource api --action update \
			--platform K8s --status success
	} >/dev/null
}

# query PROMQL: Prometheus' answer (JSON) on stdout; fails unless status is success.
query() {
	local out
	out="$(curl -sS --max-time 10 -G "http://127.0.0.1:$PROM_PORT/api/v1/query" \
		--data-urlencode "query=$1")" || return 1
	jq -e '.status == "success"' <<<"$out" >/dev/null || {
		echo "query failed: $1: $out" >&2
		return 1
	}
	printf '%s\n' "$out"
}

# Serve FILE at http://127.0.0.1:$WEB_PORT/metrics.txt and let Prometheus scrape it every
# second; returns when Prometheus holds the session's series.
start_prometheus() {
	local i out
	mkdir -p "$BATS_TEST_TMPDIR/www" "$BATS_TEST_TMPDIR/tsdb"
	cp "$1" "$BATS_TEST_TMPDIR/www/metrics.txt"
	WEB_PORT="$(free_port)"
	python3 -m http.server "$WEB_PORT" --bind 127.0.0.1 --directory "$BATS_TEST_TMPDIR/www" \
		>"$BATS_TEST_TMPDIR/http.log" 2>&1 &
	echo "$!" >>"$PIDS"
	cat >"$BATS_TEST_TMPDIR/prometheus.yml" <<-EOF
		global:
		  scrape_interval: 1s
		  evaluation_interval: 1s
		scrape_configs:
		  - job_name: hive
		    metrics_path: /metrics.txt
		    static_configs:
		      - targets: ['127.0.0.1:$WEB_PORT']
	EOF
	promtool check config "$BATS_TEST_TMPDIR/prometheus.yml" >/dev/null
	PROM_PORT="$(free_port)"
	prometheus --config.file="$BATS_TEST_TMPDIR/prometheus.yml" \
		--storage.tsdb.path="$BATS_TEST_TMPDIR/tsdb" \
		--web.listen-address="127.0.0.1:$PROM_PORT" >"$BATS_TEST_TMPDIR/prometheus.log" 2>&1 &
	echo "$!" >>"$PIDS"
	# readiness, not a timing assertion: at most a minute for the first scrape
	for ((i = 0; i < 240; i++)); do
		out="$(query 'hive_session_info' 2>/dev/null)" &&
			jq -e '.data.result | length == 1' <<<"$out" >/dev/null && return 0
		sleep 0.25
	done
	fail "$(printf 'Prometheus never scraped the session\n%s\n%s' \
		"$(cat "$BATS_TEST_TMPDIR/prometheus.log")" "$(cat "$BATS_TEST_TMPDIR/http.log")")"
}

@test "--report dashboard: every panel's PromQL, run by the real Prometheus, returns the session's series" {
	make_session
	hive-runbook --session dash --format prometheus >"$BATS_TEST_TMPDIR/dash.prom"
	run promtool check metrics <"$BATS_TEST_TMPDIR/dash.prom"
	assert_success
	assert_output ''
	run hive-runbook --report dashboard
	assert_success
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/dashboard.json"
	jq -e '.panels | length > 0' "$BATS_TEST_TMPDIR/dashboard.json" >/dev/null
	start_prometheus "$BATS_TEST_TMPDIR/dash.prom"

	# what each panel must return, by title: a jq filter over the API's .data.result that
	# gives the result in a canonical form, and the value it must have
	declare -A want=(
		['Change failure rate']='[.[] | .value[1]] == ["1"]'
		['Lead time for changes']='length == 1 and (.[0].value[1] | tonumber) > 0'
		['Failed deployment recovery time']='length == 1 and (.[0].value[1] | tonumber) >= 0'
		['Sessions by status']='[.[] | [.metric.status, .value[1]]] == [["active", "1"]]'
		['Latest deployment per environment']='[.[] | [.metric.environment, .metric.status, .value[1]]] | sort == [["production", "success", "1"], ["staging", "failure", "1"]]'
		['Deployments by environment and status']='[.[] | [.metric.environment, .metric.status, .value[1]]] | sort == [["production", "success", "1"], ["staging", "failure", "1"]]'
		['Incidents by severity']='[.[] | [.metric.severity, .value[1]]] == [["P1", "1"]]'
		['Events by type']='[.[] | [.metric.type, .value[1]]] | sort == [["deployment_configured", "3"], ["incident_detected", "1"], ["incident_resolved", "1"], ["infrastructure_provisioned", "1"], ["metric_recorded", "2"], ["pipeline_updated", "1"], ["session_started", "1"]]'
		['Failed events by type']='[.[] | [.metric.type, .value[1]]] | sort == [["deployment_configured", "1"], ["pipeline_updated", "1"]]'
		['Resources changed by action']='[.[] | [.metric.action, .value[1]]] | sort == [["create", "1"], ["delete", "0"], ["update", "2"]]'
		['Recorded metrics per resource']='[.[] | [.metric.name, .metric.unit, .metric.resource, .value[1]]] | sort == [["monthly_cost", "USD", "api", "20"], ["monthly_cost", "USD", "db", "10"]]'
		['Recorded metric totals per name and unit']='[.[] | [.metric.name, .metric.unit, .value[1]]] == [["monthly_cost", "USD", "30"]]'
	)
	local n title expr out checked=0
	n="$(jq '.panels | length' "$BATS_TEST_TMPDIR/dashboard.json")"
	assert_equal "$n" "${#want[@]}"
	for ((i = 0; i < n; i++)); do
		title="$(jq -r ".panels[$i].title" "$BATS_TEST_TMPDIR/dashboard.json")"
		[[ -n "${want[$title]:-}" ]] || fail "panel \"$title\" has no expected result here"
		assert_equal "$(jq ".panels[$i].targets | length" "$BATS_TEST_TMPDIR/dashboard.json")" 1
		# the dashboard's variables as "All" (their allValue)
		expr="$(jq -r ".panels[$i].targets[0].expr" "$BATS_TEST_TMPDIR/dashboard.json")"
		expr="${expr//\$worker/.*}"
		expr="${expr//\$environment/.*}"
		out="$(query "$expr")" || fail "panel \"$title\": the query failed"
		jq -e ".data.result | ${want[$title]}" <<<"$out" >/dev/null ||
			fail "$(printf 'panel "%s": %s\ngave %s\nwanted %s' "$title" "$expr" \
				"$(jq -c .data.result <<<"$out")" "${want[$title]}")"
		checked=$((checked + 1))
	done
	assert_equal "$checked" "${#want[@]}"
	# the variables' queries name series that exist
	out="$(query 'count by (worker) (hive_session_info)')"
	jq -e '[.data.result[].metric.worker] == ["devops-worker"]' <<<"$out" >/dev/null
	out="$(query 'count by (environment) (hive_deployments_total)')"
	jq -e '[.data.result[].metric.environment] | sort == ["production", "staging"]' <<<"$out" >/dev/null
}

@test "--report dashboard: the JSON type-checks as @grafana/schema's Dashboard, and a broken one does not" {
	[[ -x "$NODE_MODULES/.bin/tsc" && -d "$NODE_MODULES/@grafana/schema" ]] ||
		fail "tests/node_modules lacks typescript or @grafana/schema: run scripts/deps.sh"
	mkdir -p "$BATS_TEST_TMPDIR/ts"
	cd "$BATS_TEST_TMPDIR/ts" || return 1
	# the compiler resolves @grafana/schema from ./node_modules
	ln -s "$NODE_MODULES" node_modules
	printf '%s\n' '{"compilerOptions": {"strict": true, "noEmit": true, "types": [], "module": "nodenext", "moduleResolution": "nodenext", "skipLibCheck": true}, "files": ["check.ts"]}' >tsconfig.json
	hive-runbook --report dashboard -o "$BATS_TEST_TMPDIR/dashboard.json"
	# an object literal: excess property checks reject a key the type does not have
	{
		printf 'import type { Dashboard } from "@grafana/schema";\nexport const dashboard: Dashboard = '
		cat "$BATS_TEST_TMPDIR/dashboard.json"
		printf ';\n'
	} >check.ts
	run "$NODE_MODULES/.bin/tsc" -p tsconfig.json
	assert_success
	assert_output ''
	# the check can fail: a misspelt panel key and a schemaVersion that is not a number
	jq '.schemaVersion = "39" | .panels[0].gridPoz = .panels[0].gridPos' \
		"$BATS_TEST_TMPDIR/dashboard.json" >"$BATS_TEST_TMPDIR/broken.json"
	{
		printf 'import type { Dashboard } from "@grafana/schema";\nexport const dashboard: Dashboard = '
		cat "$BATS_TEST_TMPDIR/broken.json"
		printf ';\n'
	} >check.ts
	run "$NODE_MODULES/.bin/tsc" -p tsconfig.json
	assert_failure
	assert_output --partial "Type 'string' is not assignable to type 'number'"
	assert_output --partial "'\"gridPoz\"' does not exist in type 'Panel"
}

@test "--report dashboard: the same dashboard outside any session; refused with the options it cannot honour" {
	make_repo "$BATS_TEST_TMPDIR/repo"
	cd "$BATS_TEST_TMPDIR/repo" || return 1
	run hive-runbook --report dashboard --format json
	assert_success
	jq -e '.uid == "hive-devops" and .schemaVersion == 39 and
		([.templating.list[].name] == ["datasource", "worker", "environment"]) and
		([.panels[].targets[0].expr | test("\\bsession\\b")] | any | not) and
		([.panels[].datasource.uid] | unique == ["${datasource}"])' <<<"$output" >/dev/null
	local msg='^hive-runbook: error: --report dashboard is a Grafana dashboard in JSON: no --finish, --all, --findings, --step-summary, --checkpoint, --sign, --publish or --format other than json$'
	run_refused 2 "$msg" hive-runbook --report dashboard --format prometheus
	run_refused 2 "$msg" hive-runbook --report dashboard --format markdown
	run_refused 2 "$msg" hive-runbook --report dashboard --finish
	run_refused 2 "$msg" hive-runbook --report dashboard --findings -
	run_refused 2 '^hive-runbook: error: --all reports across sessions: no --finish, --report, --findings or --session$' \
		hive-runbook --report dashboard --all
}

@test "prometheus: counters end in _total, every family has HELP and TYPE, the session id is on hive_session_info only" {
	make_session
	hive-init -q --session other >/dev/null
	hive-emit -q --session other pipeline_updated --resource ci --action update \
		--platform Docker --status success >/dev/null
	hive-runbook --session dash --format prometheus >"$BATS_TEST_TMPDIR/a.prom"
	hive-runbook --session other --format prometheus >"$BATS_TEST_TMPDIR/b.prom"
	local f name type
	for f in a b; do
		run promtool check metrics <"$BATS_TEST_TMPDIR/$f.prom"
		assert_success
		assert_output ''
		# every TYPE has a HELP just before it; counters are named *_total
		while read -r _ _ name type; do
			grep -q "^# HELP $name " "$BATS_TEST_TMPDIR/$f.prom" || fail "$name has no HELP"
			case "$type" in
			counter) [[ "$name" == *_total ]] || fail "counter $name does not end in _total" ;;
			gauge | summary) ;;
			*) fail "$name: unexpected type $type" ;;
			esac
		done < <(grep '^# TYPE ' "$BATS_TEST_TMPDIR/$f.prom")
		# the session's id on one series only
		run grep -c 'session=' "$BATS_TEST_TMPDIR/$f.prom"
		assert_output 1
		run grep -c '^hive_session_info{session="' "$BATS_TEST_TMPDIR/$f.prom"
		assert_output 1
	done
	# two sessions of one worker give the same series (names and labels) where they overlap:
	# pushed side by side they add up instead of making a new series per session
	grep -q '^hive_events_total{worker="devops-worker",type="pipeline_updated",status="success"} 1$' \
		"$BATS_TEST_TMPDIR/b.prom"
	grep -q '^hive_events_total{worker="devops-worker",type="pipeline_updated",status="failure"} 1$' \
		"$BATS_TEST_TMPDIR/a.prom"
	# every label is one of the bounded ones
	run bash -c "grep -v '^#' \"\$1\" | grep -v '^hive_session_info' | grep -o '[a-z_]*=\"' | sort -u" _ "$BATS_TEST_TMPDIR/a.prom"
	assert_output "$(printf '%s\n' 'action="' 'environment="' 'name="' 'resource="' 'severity="' 'status="' 'type="' 'unit="' 'worker="')"
}
