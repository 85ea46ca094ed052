#!/usr/bin/env bats
# tests/bats/gitlab-component.bats - the GitLab CI/CD component templates/hive.yml (issue 12
# item 4): generated from the include template and nothing else, a spec header of the shape
# GitLab takes, inputs that reach jobs only as variable values, and pipelines run through it
# by gitlab-ci-local (include: component: in the component's own project at the commit, as
# GitLab's docs test a component, and include: local: with inputs:).
#
# Missing npm tools are a FAILURE, never a skip (make deps installs them).

# Single-quoted YAML and jq programs use $ literally; bats runs each test in a subshell.
# shellcheck disable=SC2016,SC2030,SC2031

load test_helper
load gitlab_helpers

NODE_MODULES="$SRC_TOP/tests/node_modules"
COMPONENT="$SRC_TOP/templates/hive.yml"
TEMPLATE="$SRC_TOP/ci-templates/gitlab/hive.gitlab-ci.yml"
GENERATOR="$SRC_TOP/scripts/gitlab-component.sh"

setup_file() {
	export COMPONENT_CHECK="$BATS_FILE_TMPDIR/component-check.cjs"
	write_component_check "$COMPONENT_CHECK"
}

setup() {
	local name
	hive_setup || return 1
	require_tool hive-emit || return 1
	require_tool hive-check || return 1
	require_tool hive-runbook || return 1
	while IFS= read -r name; do
		case "$name" in GCL_*) unset "$name" ;; esac
	done < <(compgen -e)
	command -v node >/dev/null || fail "node is not installed (run make deps)"
	[[ -x "$NODE_MODULES/.bin/gitlab-ci-local" ]] ||
		fail "$NODE_MODULES/.bin/gitlab-ci-local is missing: run make deps"
	[[ -f "$NODE_MODULES/yaml/package.json" ]] ||
		fail "the npm package yaml is missing from $NODE_MODULES: run make deps"
	command -v rsync >/dev/null || fail "rsync is not installed (run make deps)"
	export NODE_PATH="$NODE_MODULES"
	REPO="$BATS_TEST_TMPDIR/repo"
	make_repo "$REPO"
	REPO="$(cd "$REPO" && pwd -P)"
	cd "$REPO" || return 1
}

# write_component_check FILE: a node program, `node FILE COMPONENT TEMPLATE`, that exits 1
# listing every problem, 0 when there is none:
# - two YAML documents: the header holds spec: inputs: and nothing else; each input has a
#   type (string, boolean, number, array), a description (at most 1024 characters), a
#   default of that type; options (when given) of that type holding the default; regex only
#   on a string input, compiling, matched by the default;
# - every `$[[ … ]]` is a whole value, names a declared input and stands where a value is
#   data: a variable's value (`variables:` of a job or the file) or a job's stage; never in
#   script, before_script or after_script, never in a key; every input is used;
# - with each input at its default, the body is the include template plus what the
#   generator adds: global variables HIVE_*, and the jobs hive-init, hive-check,
#   hive-runbook and hive-runbook-failed, each extending the hidden job of its name.
write_component_check() {
	cat >"$1" <<'JS'
'use strict';
const YAML = require("yaml"), fs = require("fs"), util = require("util");
const [componentFile, templateFile] = process.argv.slice(2);
const problems = [];
const bad = (m) => problems.push(m);
const parse = (file) => {
	const docs = YAML.parseAllDocuments(fs.readFileSync(file, "utf8"), {
		customTags: [{ tag: "!reference", collection: "seq", resolve: (seq) => seq }],
	});
	return docs.map((d) => {
		for (const e of [...d.errors, ...d.warnings]) bad(`${file}: ${e.message}`);
		YAML.visit(d, { Seq(_, n) { if (n.tag === "!reference") return d.createNode({ "!reference": n.toJSON() }); } });
		return d.toJS();
	});
};
const docs = parse(componentFile);
const [template] = parse(templateFile);
if (docs.length !== 2) bad(`${docs.length} YAML documents, not 2 (the spec header, ---, the jobs)`);
const [header, body] = docs;
const typeOf = (v) => (Array.isArray(v) ? "array" : typeof v);
const inputs = (header && header.spec && header.spec.inputs) || {};
if (!header || JSON.stringify(Object.keys(header)) !== '["spec"]' ||
    JSON.stringify(Object.keys(header.spec || {})) !== '["inputs"]')
	bad("the header must hold spec: inputs: and nothing else");
for (const [name, spec] of Object.entries(inputs)) {
	const where = `input ${name}`;
	if (!/^[a-z][a-z0-9_]*$/.test(name)) bad(`${where}: not a snake_case name`);
	if (!spec || typeof spec !== "object") { bad(`${where}: not a mapping`); continue; }
	for (const k of Object.keys(spec))
		if (!["type", "default", "description", "options", "regex"].includes(k)) bad(`${where}: unknown key ${k}`);
	if (!["string", "boolean", "number", "array"].includes(spec.type)) bad(`${where}: type ${spec.type}`);
	if (typeof spec.description !== "string" || !spec.description || spec.description.length > 1024)
		bad(`${where}: description missing or longer than 1024 characters`);
	if (!("default" in spec)) bad(`${where}: no default`);
	else if (typeOf(spec.default) !== spec.type) bad(`${where}: default ${JSON.stringify(spec.default)} is not a ${spec.type}`);
	if ("options" in spec) {
		if (!Array.isArray(spec.options) || spec.options.some((o) => typeOf(o) !== spec.type))
			bad(`${where}: options must be a list of ${spec.type} values`);
		else if (!spec.options.includes(spec.default)) bad(`${where}: the default is not one of the options`);
	}
	if ("regex" in spec) {
		if (spec.type !== "string") bad(`${where}: regex on a ${spec.type} input`);
		try {
			if (!new RegExp(spec.regex).test(String(spec.default))) bad(`${where}: the default does not match ${spec.regex}`);
		} catch (e) { bad(`${where}: regex ${spec.regex}: ${e.message}`); }
	}
}
// every interpolation: where it stands, and the body with defaults in its place
const used = new Set();
const whole = /^\$\[\[ inputs\.([a-z0-9_]+) \]\]$/;
const dataPlace = (path) =>
	(path.length === 2 && path[0] === "variables") ||
	(path.length === 3 && path[1] === "variables") ||
	(path.length === 2 && path[1] === "stage");
const walk = (v, path) => {
	if (Array.isArray(v)) return v.map((x, i) => walk(x, [...path, i]));
	if (v && typeof v === "object") {
		const o = {};
		for (const [k, x] of Object.entries(v)) {
			if (k.includes("$[[")) bad(`an interpolation in the key ${[...path, k].join(".")}`);
			o[k] = walk(x, [...path, k]);
		}
		return o;
	}
	if (typeof v !== "string" || !v.includes("$[[")) return v;
	const at = path.join(".");
	const m = whole.exec(v);
	if (!m) { bad(`${at}: an interpolation that is not the whole value: ${v}`); return v; }
	if (path.some((p) => ["script", "before_script", "after_script"].includes(p))) bad(`${at}: an input in a script`);
	else if (!dataPlace(path)) bad(`${at}: an input outside a variable's value or a stage`);
	if (!(m[1] in inputs)) { bad(`${at}: input ${m[1]} is not declared`); return v; }
	used.add(m[1]);
	return inputs[m[1]].default;
};
const expanded = walk(body || {}, []);
for (const name of Object.keys(inputs)) if (!used.has(name)) bad(`input ${name} is declared but never used`);
const added = ["variables", "hive-init", "hive-check", "hive-runbook", "hive-runbook-failed"];
for (const v of Object.keys(expanded.variables || {}))
	if (!/^HIVE_[A-Z_]+$/.test(v)) bad(`global variable ${v} is not one of hive's`);
for (const job of added.slice(1))
	if (!expanded[job] || expanded[job].extends !== "." + job) bad(`job ${job} does not extend .${job}`);
const rest = Object.fromEntries(Object.entries(expanded).filter(([k]) => !added.includes(k)));
if (!util.isDeepStrictEqual(rest, template)) {
	for (const k of new Set([...Object.keys(rest), ...Object.keys(template || {})]))
		if (!util.isDeepStrictEqual(rest[k], (template || {})[k]))
			bad(`with its default inputs, the component's ${k} is not the include template's`);
}
for (const p of problems) console.error("component-check: " + p);
process.exit(problems.length ? 1 : 0);
JS
}

# component_project: $REPO as hive's own GitLab project (origin acme/hive) holding the
# committed component at templates/hive.yml and ./deploy.sh REGION, which fails for us.
# .gitlab-ci.yml is written by the caller.
component_project() {
	git remote add origin https://gitlab.example.com/acme/hive.git
	mkdir -p templates
	cp "$COMPONENT" templates/hive.yml
	printf '#!/bin/sh\ncase "$1" in us) echo "deploy.sh: the rollout in $1 timed out" >&2; exit 1 ;; esac\necho "deploy.sh: $1 rolled out"\n' >deploy.sh
	chmod +x deploy.sh
}

# The jobs of README's "A pipeline of many jobs" (GitLab CI): a build, then a matrix deploy
# over eu and us, each leg's outcome recorded and the leg failing when its deployment did.
PIPELINE_JOBS='stages: [build, deploy, verify]

build:
  stage: build
  extends: .hive-session
  script:
    - echo "building web $CI_COMMIT_SHORT_SHA"
    - hive-emit pipeline_updated --resource web --action update --platform Docker --status success

deploy:
  stage: deploy
  extends: .hive-session
  parallel:
    matrix:
      - REGION: [eu, us]
  script:
    - |
      if ./deploy.sh "$REGION"; then hive_status=success; else hive_status=failure; fi
      hive-emit deployment_configured --resource web --action update --platform K8s \
        --status "$hive_status" "environment=$REGION"
      [ "$hive_status" = success ]'

@test "templates/hive.yml is what scripts/gitlab-component.sh makes of the include template (make gitlab-component)" {
	run sh "$GENERATOR"
	assert_success
	[ "$output" = "$(cat "$COMPONENT")" ] ||
		fail "templates/hive.yml is not what scripts/gitlab-component.sh writes: run make gitlab-component"
	# a template that changes changes the component: the comparison can fail
	sed 's/^    expose_as: hive runbook$/    expose_as: hive report/' "$TEMPLATE" >changed.yml
	run sh "$GENERATOR" changed.yml
	assert_success
	[ "$output" != "$(cat "$COMPONENT")" ]
	assert_line '    expose_as: hive report'
	assert_line '    HIVE_GIT_REF: "$[[ inputs.git_ref ]]"'
	run sh "$GENERATOR" "$TEMPLATE" extra
	assert_failure 2
}

@test "scripts/gitlab-component.sh stops when the template lost a line an input takes over, writing nothing" {
	sed '/^    HIVE_GIT_REF: main$/d' "$TEMPLATE" >no-ref.yml
	sh "$GENERATOR" no-ref.yml >out.yml 2>err.txt && fail "the generator accepted a template without HIVE_GIT_REF"
	[ ! -s out.yml ]
	run cat err.txt
	assert_output --partial '.hive-variables in no-ref.yml has 0 lines "    HIVE_GIT_REF: ...", not one'
	sed 's/^  stage: \.post$/  stage: final/' "$TEMPLATE" >no-post.yml
	sh "$GENERATOR" no-post.yml >out.yml 2>err.txt && fail "the generator accepted a template without stage: .post"
	[ ! -s out.yml ]
	run cat err.txt
	assert_output --partial '.hive-runbook in no-post.yml has 0 lines "  stage: .post", not one'
}

@test "the component's spec header has GitLab's shape; inputs reach jobs only as variable values and stages; at its defaults it is the include template plus four jobs" {
	run node "$COMPONENT_CHECK" "$COMPONENT" "$TEMPLATE"
	assert_success
	assert_output ''
	# the inputs a consumer expects are there, typed
	run node -e '
		const YAML = require("yaml"), fs = require("fs");
		const h = YAML.parseAllDocuments(fs.readFileSync(process.argv[1], "utf8"))[0].toJS();
		for (const [k, v] of Object.entries(h.spec.inputs)) console.log(`${k} ${v.type} ${JSON.stringify(v.default)}`);
	' "$COMPONENT"
	assert_success
	assert_output "$(printf '%s\n' 'session_path string ""' 'init_args string ""' 'check_args string ""' \
		'runbook_args string ""' 'release_version string ""' 'release_url string ""' 'git_url string ""' \
		'git_ref string "main"' 'install_prefix string "/usr/local"' 'since string ""' 'lane string ""' \
		'init_stage string ".pre"' 'check_stage string "test"' 'finish_stage string ".post"')"
}

@test "the component check refuses an input in a script, a default of the wrong type, a default its regex refuses, an unknown or unused input, a body that drifted (it can fail)" {
	local c=component.yml
	sed 's/^    - set -f; hive-init \$HIVE_INIT_ARGS$/    - set -f; hive-init $[[ inputs.init_args ]]/' "$COMPONENT" >"$c"
	run node "$COMPONENT_CHECK" "$c" "$TEMPLATE"
	assert_failure
	assert_output --partial 'component-check: .hive-init.script.2: an interpolation that is not the whole value'
	sed 's/^  stage: "\$\[\[ inputs.check_stage \]\]"$/  script: ["$[[ inputs.check_stage ]]"]/' "$COMPONENT" >"$c"
	run node "$COMPONENT_CHECK" "$c" "$TEMPLATE"
	assert_failure
	assert_output --partial 'component-check: hive-check.script.0: an input in a script'
	sed 's/^      default: "main"$/      default: 3/' "$COMPONENT" >"$c"
	run node "$COMPONENT_CHECK" "$c" "$TEMPLATE"
	assert_failure
	assert_output --partial 'component-check: input git_ref: default 3 is not a string'
	sed 's|^      default: "/usr/local"$|      default: "usr/local"|' "$COMPONENT" >"$c"
	run node "$COMPONENT_CHECK" "$c" "$TEMPLATE"
	assert_failure
	assert_output --partial 'component-check: input install_prefix: the default does not match'
	sed 's/inputs\.lane \]\]/inputs.lanes ]]/' "$COMPONENT" >"$c"
	run node "$COMPONENT_CHECK" "$c" "$TEMPLATE"
	assert_failure
	assert_output --partial 'component-check: variables.HIVE_LANE: input lanes is not declared'
	assert_output --partial 'component-check: input lane is declared but never used'
	sed 's/^    HIVE_RUNBOOK_STATUS: success$/    HIVE_RUNBOOK_STATUS: failure/' "$COMPONENT" >"$c"
	run node "$COMPONENT_CHECK" "$c" "$TEMPLATE"
	assert_failure
	assert_output --partial "component-check: with its default inputs, the component's .hive-runbook is not the include template's"
}

@test "include: component: (its own project, at the commit) runs the parallel matrix: one session, both regions in the runbook, JUnit and Code Quality" {
	component_project
	{
		printf 'include:\n  - component: $CI_SERVER_FQDN/$CI_PROJECT_PATH/hive@$CI_COMMIT_SHA\n'
		printf '    inputs:\n      check_stage: verify\n      since: none\n'
		printf '%s\n' "${PIPELINE_JOBS/\[eu, us\]/[eu, ap]}"
	} >.gitlab-ci.yml
	git add -A && git commit -q -m 'gitlab ci'
	gcl
	assert_success
	for job in hive-init build 'deploy: \[eu\]' 'deploy: \[ap\]' hive-check hive-runbook; do
		assert_line --regexp "PASS +$job *\$"
	done
	refute_line --regexp ' +hive-runbook-failed *$'
	# the inputs arrived: the check stage, HIVE_SINCE
	grep -q '^hive: HIVE_SINCE=none: ' "$LOGS/hive-check.log"
	# the check read both lanes and wrote its reports
	junit="$ARTS/hive-check/hive-junit.xml"
	run xmllint --noout "$junit"
	assert_success
	[ "$(xmllint --xpath 'string(/testsuites/testsuite/@name)' "$junit")" = gl-1000 ]
	[ "$(xmllint --xpath 'count(//failure)' "$junit")" -eq 0 ]
	assert_jq '. == []' "$(cat "$ARTS/hive-check/hive-codequality.json")"
	# one session: both legs in lanes of their own, joined and completed by hive-runbook
	s="$(saved_session hive-runbook gl-1000)"
	run ls "$s/lanes"
	assert_output "$(printf '%s\n' deploy-ap.jsonl deploy-eu.jsonl)"
	run jq -r '"\(.event_type) \(.ci.job)"' "$s/EVENTS.jsonl"
	assert_output "$(printf '%s\n' 'session_started hive-init' 'pipeline_updated build' \
		'session_joined hive-runbook' 'session_completed hive-runbook')"
	run jq -c 'select(.event_type == "session_joined") | .details.lanes | keys' "$s/EVENTS.jsonl"
	assert_output '["deploy-ap","deploy-eu"]'
	assert_jq '.status == "completed"' "$(cat "$s/STATE.json")"
	run hive-check "$s"
	assert_success
	r="$ARTS/hive-runbook/hive-report"
	assert_jq '.deployments.count == 2 and .deployments.success == 2' "$(cat "$r/METRICS.json")"
	grep -q '| deployment_configured | web | update | K8s | success |$' "$r/RUNBOOK.md"
	run grep -c '^## DEPLOYMENT SUMMARY' "$r/RUNBOOK.md"
	assert_output 2
}

@test "include: local: with inputs: a matrix leg that fails is recorded; hive-check still reports; hive-runbook-failed completes the session as failed" {
	component_project
	{
		printf 'include:\n  - local: templates/hive.yml\n'
		printf '    inputs:\n      check_stage: verify\n      since: none\n      runbook_args: --quiet\n'
		printf '%s\n' "$PIPELINE_JOBS"
	} >.gitlab-ci.yml
	git add -A && git commit -q -m 'gitlab ci'
	gcl
	assert_failure
	assert_line --regexp 'PASS +deploy: \[eu\] *$'
	assert_line --regexp 'FAIL +deploy: \[us\] *$'
	assert_line --regexp 'PASS +hive-check *$'
	assert_line --regexp 'PASS +hive-runbook-failed *$'
	refute_line --regexp ' +hive-runbook *$'
	grep -rq 'deploy.sh: the rollout in us timed out' "$LOGS"
	[ "$(xmllint --xpath 'count(//failure)' "$ARTS/hive-check/hive-junit.xml")" -eq 0 ]
	# runbook_args reached hive-runbook as words
	grep -q 'hive-runbook --finish --status "$HIVE_RUNBOOK_STATUS" $HIVE_RUNBOOK_ARGS' "$LOGS/hive-runbook-failed.log"
	s="$(saved_session hive-runbook-failed gl-1000)"
	run jq -r '"\(.lane) \(.details.status)"' "$s/lanes/deploy-eu.jsonl" "$s/lanes/deploy-us.jsonl"
	assert_output "$(printf '%s\n' 'deploy-eu null' 'deploy-eu success' 'deploy-us null' 'deploy-us failure')"
	run jq -r 'select(.event_type == "session_completed") | .details.status' "$s/EVENTS.jsonl"
	assert_output failure
	assert_jq '.status == "failed"' "$(cat "$s/STATE.json")"
	run hive-check "$s"
	assert_success
	r="$ARTS/hive-runbook-failed/hive-report"
	grep -qx -- '- Status: failed' "$r/RUNBOOK.md"
	assert_jq '.status == "failed" and .deployments.count == 2 and .deployments.success == 1
		and .deployments.failure == 1 and .deployments.change_failure_rate == 0.5' "$(cat "$r/METRICS.json")"
	grep -qF -- '- Deployments: 2 (1 succeeded, 1 failed), change failure rate 50.0%' "$r/RUNBOOK.md"
}

@test "component inputs are data: \$(...), backquotes, ; and quotes in init_args reach hive-init as text, nothing runs" {
	component_project
	cat >.gitlab-ci.yml <<-'YAML'
		include:
		  - local: templates/hive.yml
		    inputs:
		      init_args: "--session rel-1 $(touch pwned1) `touch pwned2` ;touch pwned3 \"q\" '*'"
	YAML
	git add -A && git commit -q -m 'gitlab ci'
	gcl hive-init
	assert_failure
	assert_line --regexp 'FAIL +hive-init *$'
	run find .gitlab-ci-local -name 'pwned*'
	assert_output ''
	[ ! -e pwned1 ] && [ ! -e pwned2 ] && [ ! -e pwned3 ]
	# hive-init was given the words as they are: it refuses the first stray one
	run cat "$LOGS/hive-init.log"
	assert_line 'hive-init: error: unexpected argument $(touch (see --help)'
}
