#!/usr/bin/env bats
# export.bats - hive-runbook --format otlp / otlp-logs, --all --format events, and
# share/hive/sql/postgres.sql (SPEC 13)
#
# OTLP output is decoded strictly with the official protobuf definitions (the generated
# root of @opentelemetry/otlp-transformer, protobufjs; tests/otlp/otlp.mjs) and posted with
# curl to a receiver on 127.0.0.1 (tests/otlp/receiver.mjs) that decodes it the same way.
# The events export is loaded into a real PostgreSQL 15 that each test starts itself
# (initdb in a temporary folder, Unix socket only, run as nobody when the tests run as
# root), and its views are held against hive-runbook --all.

load test_helper

RB="$FIXTURES/runbook"
OTLP="$SRC_TOP/tests/otlp"
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

setup() {
	hive_setup || return 1
	require_tool hive-check
	require_tool hive-runbook
	[[ -f "$SRC_TOP/tests/node_modules/@opentelemetry/otlp-transformer/build/src/generated/root.js" ]] ||
		fail "tests/node_modules lacks @opentelemetry/otlp-transformer: run 'make deps'"
	REPO="$BATS_TEST_TMPDIR/repo"
	mapfile -t COMMITS < <("$RB/repo.sh" "$REPO")
	[[ ${#COMMITS[@]} -eq 3 ]] || fail "repo.sh did not print three commit ids: ${COMMITS[*]}"
	cd "$REPO" || return 1
	git remote add origin 'https://x-token:ghp_0123456789abcdefghijABCDEFGHIJ012345@git.example.com/acme/app.git'
}

teardown() {
	if [[ -n "${RECEIVER_PID:-}" ]]; then kill "$RECEIVER_PID" 2>/dev/null || true; fi
	if [[ -n "${PGDIR:-}" ]]; then
		pg_as "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate stop >/dev/null 2>&1 || true
		rm -rf "$PGDIR"
	fi
}

# install_session ID [ROOT]: the fixture session ID under ROOT (default Docs/hive-mind),
# STATE.json rebuilt by hive-check --repair; fails unless hive-check then passes.
install_session() {
	local id=$1 root=${2:-$PWD/Docs/hive-mind} tmpl=${3:-$RB/sessions/$1.events.in} d
	d="$root/sessions/$id"
	mkdir -p "$d" || fail "mkdir $d"
	"$RB/gen-events.sh" "$tmpl" "$id" "${COMMITS[@]}" >"$d/EVENTS.jsonl" || fail "gen-events.sh $tmpl"
	hive-check -q --root "$root" --session "$id" --repair >/dev/null 2>&1 || fail "repair $id"
	hive-check -q --root "$root" --session "$id" >/dev/null 2>&1 || fail "fixture $id fails hive-check"
}

# decode KIND FILE: tests/otlp/decode.mjs on FILE; its output in $output
decode() {
	run --separate-stderr node "$OTLP/decode.mjs" "$1" <"$2"
	assert_success
	assert_stderr_empty
}

# attrs: an OTLP attribute list as one object {key: the value's only field}
ATTRS='def attrs: map({(.key): (.value | to_entries[0].value)}) | add;'

@test "--format otlp: a strict ExportTraceServiceRequest, one pipeline-run span and a task span per event" {
	install_session rb-full
	hive-runbook -q --session rb-full --finish --status failure >/dev/null
	run --separate-stderr hive-runbook --session rb-full --format otlp
	assert_success
	assert_stderr_empty
	[[ "${#lines[@]}" -eq 1 ]]
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/t.json"
	decode traces "$BATS_TEST_TMPDIR/t.json"
	n=$(wc -l <Docs/hive-mind/sessions/rb-full/EVENTS.jsonl)
	assert_jq "$ATTRS"'
		.resourceSpans[0].scopeSpans[0].spans as $s
		| ($s | map(select(.kind == 2))) as $root
		| ($root | length) == 1
		and ($s | length) == $n + 1
		and ($root[0].attributes | attrs) as $a
		| $root[0].name == "RUN " + $a["cicd.pipeline.name"]
		and $a["cicd.pipeline.result"] == "failure"
		and $a["error.type"] != null
		and $root[0].status.code == 2
		and $a["vcs.repository.url.full"] == "https://github.com/acme/app"
		and ($a["vcs.ref.head.revision"] | test("^[0-9a-f]{40}$"))
		and $a["deployment.environment.name"] == "production"
		and ($root[0].traceId | test("^[0-9a-f]{32}$"))
		and ($root[0].startTimeUnixNano | test("^[0-9]+$"))
		and ($s | map(select(.kind != 2)) | all(
			.kind == 1 and .parentSpanId == $root[0].spanId and .traceId == $root[0].traceId
			and (.attributes | attrs) as $t
			| $t["cicd.pipeline.task.name"] == .name
			and ($t["cicd.pipeline.task.run.id"] | test("^main/[0-9]+$"))
			and ($t["hive.event.seq"] | test("^[0-9]+$"))))
		and ($s | map(select(.name == "deployment_configured")) | length) > 0
		and ($s | map(select(.name == "deployment_configured")) | all(
			(.attributes | attrs)["cicd.pipeline.task.type"] == "deploy"))
		and ($s | map(.spanId) | unique | length) == ($s | length)
	' "$output" --argjson n "$n"
}

@test "--format otlp: exporting twice sends the same ids (they derive from the session id and seq)" {
	install_session rb-full
	hive-runbook --session rb-full --format otlp >"$BATS_TEST_TMPDIR/a.json"
	hive-runbook --session rb-full --format otlp >"$BATS_TEST_TMPDIR/b.json"
	cmp "$BATS_TEST_TMPDIR/a.json" "$BATS_TEST_TMPDIR/b.json"
	# another session has other ids
	install_session dora-1
	hive-runbook --session dora-1 --format otlp >"$BATS_TEST_TMPDIR/c.json"
	run jq -n --slurpfile a "$BATS_TEST_TMPDIR/a.json" --slurpfile c "$BATS_TEST_TMPDIR/c.json" \
		'($a[0].resourceSpans[0].scopeSpans[0].spans[0].traceId) != ($c[0].resourceSpans[0].scopeSpans[0].spans[0].traceId)'
	assert_output true
}

@test "--format otlp-logs: a strict ExportLogsServiceRequest, one record per event, tied to its span" {
	install_session dora-1
	hive-runbook --session dora-1 --format otlp >"$BATS_TEST_TMPDIR/t.json"
	run --separate-stderr hive-runbook --session dora-1 --format otlp-logs
	assert_success
	assert_stderr_empty
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/l.json"
	decode logs "$BATS_TEST_TMPDIR/l.json"
	assert_jq "$ATTRS"'
		.resourceLogs[0].scopeLogs[0].logRecords as $r
		| ($r | length) == 5
		and ($r | map(.severityNumber)) == [9, 9, 17, 13, 9]
		and ($r | map(.body.kvlistValue.values | attrs | .event_type))
			== ["session_started", "deployment_configured", "deployment_configured",
			    "incident_detected", "incident_resolved"]
		and ($r | map(.spanId)) == ($t[0].resourceSpans[0].scopeSpans[0].spans[1:] | map(.spanId))
		and ($r | all(.traceId == $t[0].resourceSpans[0].scopeSpans[0].spans[0].traceId))
		and ($r[1].attributes | attrs)["deployment.environment.name"] == "production"
		and $r[0].timeUnixNano == "1736934900000000000"
	' "$output" --slurpfile t "$BATS_TEST_TMPDIR/t.json"
}

@test "the strict decoder refuses what OTLP/JSON forbids: base64 ids, enum names, numbers for fixed64, unknown fields" {
	install_session dora-1
	hive-runbook --session dora-1 --format otlp >"$BATS_TEST_TMPDIR/t.json"
	decode traces "$BATS_TEST_TMPDIR/t.json"
	jq -c '.resourceSpans[0].scopeSpans[0].spans[0].traceId = "AAECAwQFBgcICQoLDA0ODw=="' \
		"$BATS_TEST_TMPDIR/t.json" >"$BATS_TEST_TMPDIR/bad1.json"
	jq -c '.resourceSpans[0].scopeSpans[0].spans[0].kind = "SPAN_KIND_SERVER"' \
		"$BATS_TEST_TMPDIR/t.json" >"$BATS_TEST_TMPDIR/bad2.json"
	jq -c '.resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano |= tonumber' \
		"$BATS_TEST_TMPDIR/t.json" >"$BATS_TEST_TMPDIR/bad3.json"
	jq -c '.resourceSpans[0].scopeSpans[0].spans[0].durationNano = "1"' \
		"$BATS_TEST_TMPDIR/t.json" >"$BATS_TEST_TMPDIR/bad4.json"
	for i in 1 2 3 4; do
		run --separate-stderr node "$OTLP/decode.mjs" traces <"$BATS_TEST_TMPDIR/bad$i.json"
		assert_failure 1
		assert_stderr --regexp 'spans.0.?.(traceId|kind|startTimeUnixNano|durationNano)'
	done
}

# start_receiver: tests/otlp/receiver.mjs on 127.0.0.1; sets RECEIVER_PID and URL
start_receiver() {
	RDIR="$BATS_TEST_TMPDIR/receiver"
	mkdir -p "$RDIR"
	node "$OTLP/receiver.mjs" "$RDIR" 3>&- &
	RECEIVER_PID=$!
	for _ in $(seq 100); do [[ -f "$RDIR/port" ]] && break; sleep 0.1; done
	[[ -f "$RDIR/port" ]] || fail "the receiver did not start"
	URL="http://127.0.0.1:$(cat "$RDIR/port")"
}

@test "curl posts --format otlp to /v1/traces and --format otlp-logs to /v1/logs: the receiver decodes both" {
	install_session rb-full
	start_receiver
	run bash -c 'hive-runbook --session rb-full --format otlp |
		curl -sS -o "$1/reply" -w "%{http_code}" -H "Content-Type: application/json" --data-binary @- "$2/v1/traces"' _ "$RDIR" "$URL"
	assert_output 200
	run cat "$RDIR/reply"
	assert_output '{}'
	run bash -c 'hive-runbook --session rb-full --format otlp-logs |
		curl -sS -o /dev/null -w "%{http_code}" -H "Content-Type: application/json" --data-binary @- "$2/v1/logs"' _ "$RDIR" "$URL"
	assert_output 200
	hive-runbook --session rb-full --format otlp | node "$OTLP/decode.mjs" traces >"$BATS_TEST_TMPDIR/want"
	cmp "$BATS_TEST_TMPDIR/want" "$RDIR/traces.1.json"
	run jq '.resourceLogs[0].scopeLogs[0].logRecords | length' "$RDIR/logs.2.json"
	assert_output "$(wc -l <Docs/hive-mind/sessions/rb-full/EVENTS.jsonl)"
	# and a request it cannot decode is refused, as a Collector would
	run bash -c 'printf "{\"resourceSpans\":[{\"bogus\":1}]}" |
		curl -sS -o /dev/null -w "%{http_code}" -H "Content-Type: application/json" --data-binary @- "$1/v1/traces"' _ "$URL"
	assert_output 400
}

@test "--format otlp scrubs secrets a log holds, like every other format" {
	install_session dora-1
	d=Docs/hive-mind/sessions/dora-1
	# a line written before a rule existed: the token is in the log itself
	sed -i '2s/"version":"1.0.0"/"version":"ghp_0123456789abcdefghijABCDEFGHIJ012345"/' "$d/EVENTS.jsonl"
	grep -q ghp_ "$d/EVENTS.jsonl"
	for f in otlp otlp-logs; do
		run --separate-stderr hive-runbook --session dora-1 --format "$f"
		assert_success
		refute_output --partial ghp_0123
		assert_output --partial 'REDACTED'
	done
}

@test "--format otlp with --all, and --format events without it, are usage errors; nothing changes" {
	install_session dora-1
	snapshot "$BATS_TEST_TMPDIR"
	run_refused 2 'format otlp goes without --all' hive-runbook --all --format otlp
	run_refused 2 'format otlp-logs goes without --all' hive-runbook --all --format otlp-logs
	run_refused 2 'format events goes with --all' hive-runbook --session dora-1 --format events
	run_refused 2 'is not one of' hive-runbook --session dora-1 --format otlp-json
	assert_unchanged "$BATS_TEST_TMPDIR"
}

@test "--all --format events: every event of every session, with the repository's identity and no credentials" {
	install_session dora-1
	install_session dora-2
	install_session rb-full
	run --separate-stderr hive-runbook --all --format events
	assert_success
	assert_stderr_empty
	total=$(cat Docs/hive-mind/sessions/*/EVENTS.jsonl | wc -l)
	[[ "${#lines[@]}" -eq "$total" ]]
	refute_output --partial ghp_
	refute_output --partial x-token
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/ev.ndjson"
	run jq -s -c '
		(map(.repository) | unique) == [{"url": "https://git.example.com/acme/app.git", "name": "app"}]
		and (map([.session_id, .lane, .seq]) | unique | length) == length
		and (map(.session_id) | unique) == ["dora-1", "dora-2", "rb-full"]
		and all(.lane == "main" and .seq == .event.seq and .session_id == .event.session_id)
		and (map(select(.event.event_type == "deployment_configured" and .event.git.commit == $c1))
		     | length > 0 and all(.commit_time == "2025-01-15T08:00:00.000Z"))
		and (map(select(.event.event_type != "deployment_configured")) | all(.commit_time == null))
	' --arg c1 "${COMMITS[0]#C1=}" "$BATS_TEST_TMPDIR/ev.ndjson"
	assert_output true
	# each line is the logged event, byte for byte once re-serialised
	diff <(jq -c '.event' "$BATS_TEST_TMPDIR/ev.ndjson") \
		<(cat Docs/hive-mind/sessions/dora-1/EVENTS.jsonl Docs/hive-mind/sessions/dora-2/EVENTS.jsonl \
			Docs/hive-mind/sessions/rb-full/EVENTS.jsonl | jq -c .)
}

@test "--all --format events: every line is valid by schemas/export.schema.json (ajv), and the schema refuses a URL with credentials" {
	local ajv="$SRC_TOP/tests/node_modules/.bin/ajv" i=0 args=()
	[[ -x "$ajv" ]] || fail "$ajv is missing: run 'make deps'"
	install_session rb-full
	install_session dora-1
	hive-runbook --all --format events >"$BATS_TEST_TMPDIR/ev.ndjson"
	mkdir "$BATS_TEST_TMPDIR/lines"
	while IFS= read -r line; do
		i=$((i + 1))
		printf '%s\n' "$line" >"$BATS_TEST_TMPDIR/lines/$i.json"
		args+=(-d "$BATS_TEST_TMPDIR/lines/$i.json")
	done <"$BATS_TEST_TMPDIR/ev.ndjson"
	((i > 10))
	run "$ajv" validate --spec=draft7 --strict=true -c ajv-formats --errors=text \
		-s "$SRC_TOP/schemas/export.schema.json" "${args[@]}"
	assert_success
	[[ $(grep -c ' valid$' <<<"$output") -eq $i ]]
	jq -c '.repository.url = "https://bob:tok@git.example.com/acme/app.git"' \
		"$BATS_TEST_TMPDIR/lines/1.json" >"$BATS_TEST_TMPDIR/bad.json"
	run "$ajv" validate --spec=draft7 --strict=true -c ajv-formats --errors=text \
		-s "$SRC_TOP/schemas/export.schema.json" -d "$BATS_TEST_TMPDIR/bad.json"
	assert_failure 1
	assert_output --partial invalid
}

# pg_as CMD…: run CMD as the database's owner (nobody when the tests run as root: initdb
# refuses root)
pg_as() {
	(
		cd "${PGDIR:-/}" || exit 1
		if [[ "$(id -u)" -eq 0 ]]; then exec runuser -u nobody -- "$@"; else exec "$@"; fi
	)
}

# start_pg: a PostgreSQL of our own in a fresh folder, Unix socket only (no TCP); sets
# PGDIR and the libpq variables psql reads (PGHOST is the socket folder)
start_pg() {
	[[ -x "$PGBIN/initdb" ]] || fail "$PGBIN/initdb is missing: run 'make deps' (postgresql)"
	# a folder nobody can reach: bats' own temporary folders are 0700 and root's
	PGDIR=$(mktemp -d /tmp/hive-pg.XXXXXX)
	chmod 755 "$PGDIR"
	mkdir "$PGDIR/data" "$PGDIR/sock"
	if [[ "$(id -u)" -eq 0 ]]; then chown nobody "$PGDIR/data" "$PGDIR/sock"; fi
	pg_as "$PGBIN/initdb" --no-sync -D "$PGDIR/data" -U hive --auth=trust -E UTF8 --locale=C \
		>"$PGDIR/initdb.log" 2>&1 || fail "$(cat "$PGDIR/initdb.log")"
	pg_as "$PGBIN/pg_ctl" -D "$PGDIR/data" -w -l "$PGDIR/sock/log" \
		-o "-c listen_addresses= -k $PGDIR/sock -c fsync=off" start >/dev/null 2>&1 ||
		fail "$(cat "$PGDIR/sock/log")"
	export PGHOST="$PGDIR/sock" PGUSER=hive PGDATABASE=postgres
	psql -X -q -v ON_ERROR_STOP=1 -f "$SRC_TOP/share/hive/sql/postgres.sql" >/dev/null
}

# load_events FILE: the README's load line; prints what hive_load() added
load_events() {
	psql -X -q -At -v ON_ERROR_STOP=1 \
		-c "\\copy hive_import (doc) from pstdin with (format csv, quote e'\\x01', delimiter e'\\x02')" \
		-c 'select hive_load()' <"$1"
}

# same_json A B: A and B are the same JSON value (numbers compared as numbers)
same_json() {
	diff <(jq -S . <<<"$1") <(jq -S . <<<"$2") || fail "the JSON values differ (diff above)"
}

@test "postgres.sql: three repositories loaded; hive_dora equals hive-runbook --all for each, hive_dora_all across them; loading twice adds nothing" {
	start_pg
	# the server listens on its socket only
	run psql -X -At -c 'show listen_addresses'
	assert_output ''
	local r all="$BATS_TEST_TMPDIR/all"
	"$RB/repo.sh" "$all" >/dev/null
	for r in a b c; do
		"$RB/repo.sh" "$BATS_TEST_TMPDIR/$r" >/dev/null
		git -C "$BATS_TEST_TMPDIR/$r" remote add origin "https://tok@git.example.com/acme/$r.git"
	done
	(cd "$BATS_TEST_TMPDIR/a" && install_session dora-1 && install_session rb-full)
	(cd "$BATS_TEST_TMPDIR/b" && install_session dora-2)
	(cd "$BATS_TEST_TMPDIR/c" && install_session dora-3 && install_session rb-empty)
	# the same sessions in one repository (the commits are the same: repo.sh pins them)
	for id in dora-1 rb-full dora-2 dora-3 rb-empty; do
		(cd "$all" && install_session "$id")
	done
	for r in a b c; do
		hive-runbook -C "$BATS_TEST_TMPDIR/$r" --all --format events >"$BATS_TEST_TMPDIR/$r.ndjson"
		run load_events "$BATS_TEST_TMPDIR/$r.ndjson"
		assert_success
		assert_output "$(wc -l <"$BATS_TEST_TMPDIR/$r.ndjson")"
	done
	for r in a b c; do
		want=$(hive-runbook -C "$BATS_TEST_TMPDIR/$r" --all --format json)
		got=$(psql -X -At -c "select dora from hive_dora where repository = 'https://git.example.com/acme/$r.git'")
		[[ -n "$got" ]] || fail "no hive_dora row for $r"
		same_json "$want" "$got"
	done
	want=$(hive-runbook -C "$all" --all --format json)
	got=$(psql -X -At -c 'select dora from hive_dora_all')
	same_json "$want" "$got"
	# the figures are real ones, not all nulls
	assert_jq '.lead_time_for_changes.median_s > 0 and .change_failure_rate.rate > 0
		and .failed_deployment_recovery_time.incidents > 0 and .sessions == 5' "$got"
	# the four keys as columns too
	run psql -X -At -c 'select count(*) from hive_dora where deployments_per_day is not null'
	assert_output 3
	# idempotent: the same exports again add nothing and change nothing
	before=$(psql -X -At -c 'select count(*), md5(string_agg(event::text, $$|$$ order by repository, session_id, lane, seq)) from hive_events')
	for r in a b c; do
		run load_events "$BATS_TEST_TMPDIR/$r.ndjson"
		assert_success
		assert_output 0
	done
	run psql -X -At -c 'select count(*), md5(string_agg(event::text, $$|$$ order by repository, session_id, lane, seq)) from hive_events'
	assert_output "$before"
	run psql -X -At -c 'select dora from hive_dora_all'
	same_json "$want" "$output"
}
