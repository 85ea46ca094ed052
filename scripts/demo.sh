#!/bin/sh
# demo.sh - the main job on a throwaway repository: start a session, log work, show the record;
# then an AI agent's session recorded by its hooks (hive-emit --from claude-code) and hive-mcp
#
# Usage: scripts/demo.sh BUILD_DIR   (run by `make demo`)
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-build}" && pwd)
PATH=$build:$PATH
export PATH

demo=$(mktemp -d "${TMPDIR:-/tmp}/hive-demo.XXXXXX")
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*" >&2; "$@"; }

step "A throwaway repository with infrastructure in it: $demo"
cd "$demo"
git init -q -b main
git config user.name "Demo Engineer"
git config user.email "demo@example.com"
mkdir -p infra .github/workflows .claude/agents k8s
printf 'resource "aws_s3_bucket" "logs" {\n  bucket = "acme-logs"\n}\n' > infra/main.tf
printf 'FROM nginx:1.27-alpine\nCOPY site /usr/share/nginx/html\n' > Dockerfile
printf 'name: ci\non: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make\n' > .github/workflows/ci.yml
printf 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n' > k8s/web.yaml
cp "$top/tests/fixtures/devops-worker.md" .claude/agents/devops-worker.md
git add . && git commit -qm "infrastructure for the demo"
git remote add origin https://deploy:s3cr3t@github.com/acme/web.git

step "Startup protocol: hive-init creates the session and hands its id on"
show hive-init --session demo-1
export HIVE_SESSION_ID=demo-1
step "Running it again changes nothing (a CI retry never duplicates session_started)"
show hive-init

step "Logging protocol: an AI agent records an infrastructure change"
show hive-emit infrastructure_provisioned --resource acme-logs --action create \
	--platform AWS --status success module=infra/main.tf region=eu-west-1 \
	tags.team=platform tags.cost-center=cc-42 | jq -c '{seq, event_type, prev}'

step "A CI step records a deployment; the secret it was handed never reaches the disk"
show hive-emit deployment_configured --resource web --action update --platform K8s \
	--status success image=web:1.4.2 environment=production version=1.4.2 replicas:=3 \
	rollback="kubectl rollout undo deployment/web" \
	api_token=ghp_0123456789abcdefghijklmnopqrstuvwxyzAB | jq -c .details.configuration

step "Monitoring protocol: a stream of events, appended all together or not at all"
printf '%s\n' \
	'{"event_type":"metric_recorded","details":{"resource":"web","configuration":{"name":"monthly_cost","value":41.5,"unit":"usd"}}}' \
	'{"event_type":"monitoring_added","details":{"resource":"web","action":"create","platform":"K8s","configuration":{"health_check":"/healthz"},"status":"success"}}' |
	hive-emit - | jq -c '{seq, event_type}'

step "A bad event is refused with a clear message, and nothing is written"
show hive-emit deployment_configured --resource web --action destroy --platform K8s \
	--status success || echo "(exit status $?)"

step "A policy is held when an event is written: every missing piece named at once, nothing written"
printf 'policy:\n  require_tags: [team, cost-center]\n  require_rollback: true\n' > "$demo.policy.yml"
show hive-emit --config "$demo.policy.yml" deployment_configured --resource api --action update \
	--platform K8s --status success || echo "(exit status $?)"

step "What was recorded: Docs/hive-mind/sessions/demo-1/"
ls -A Docs/hive-mind/sessions/demo-1
step "STATE.json (the view kept in step with the log)"
jq '{session_id, status, git, requirements, events, deployment}' Docs/hive-mind/sessions/demo-1/STATE.json
step "EVENTS.jsonl: one line per event, each chained to the previous by its SHA-256"
jq -c '{seq, event_type, prev: (.prev // "null" | .[0:23])}' Docs/hive-mind/sessions/demo-1/EVENTS.jsonl

step "The gate: hive-check verifies JSON, schema, the hash chain, protocol, STATE.json, secrets"
show hive-check

step "Someone edits history: one byte of line 2 changes (the resource name)"
log=Docs/hive-mind/sessions/demo-1/EVENTS.jsonl
cp "$log" "$demo/EVENTS.jsonl.orig"
sed -i '2s/"resource":"acme-logs"/"resource":"acme-l0gs"/' "$log"
show hive-check || echo "(exit status $?: the edit is caught at the next line, whose prev no longer matches)"
cp "$demo/EVENTS.jsonl.orig" "$log"

step "An incident, from detection to resolution"
show hive-emit incident_detected --resource web --action update --platform K8s \
	--status failure severity=P2 impact="5xx for 3% of requests" | jq -c '{seq, event_type}'
show hive-emit incident_resolved --resource web --action update --platform K8s \
	--status success severity=P2 root_cause="a bad config map" \
	action_items:='["alert on 5xx rate", "validate config maps in CI"]' | jq -c '{seq, event_type}'

step "Completion protocol: hive-runbook --finish writes METRICS.json and RUNBOOK.md"
show hive-runbook --finish --report all
step "METRICS.json"
jq -c '{duration_s, events: .events.total, deployments, incidents, metrics}' \
	Docs/hive-mind/sessions/demo-1/METRICS.json
step "Prometheus text format, for a textfile collector or a Pushgateway"
hive-runbook --format prometheus | grep -v '^#' | head -8
step "The session is closed: another event is refused"
show hive-emit pipeline_updated --resource ci --action update --platform Docker \
	--status success || echo "(exit status $?)"

step "The pre-push hook: hive-init --install-hooks, then a real git push to a bare remote"
git init -q --bare "$demo.remote.git"
git remote set-url origin "$demo.remote.git"
show hive-init -q --install-hooks | jq -c .hook
git add Docs && git commit -qm "record session demo-1"
show git push -q origin main && echo "(pushed: the session checks out)"
sed -i '2s/"resource":"acme-logs"/"resource":"acme-l0gs"/' "$log"
git commit -qam "rewrite history in the log"
show git push -q origin main || echo "(the push was refused: the remote still has the honest log)"

step "A forger who recomputes every hash: the log is consistent again, and still refused"
# the rewritten line stays; every prev after it is recomputed, and the (unsigned) CHECKPOINT,
# as an attacker would: a signed one could not be forged without the key
python3 - "$log" <<'PY'
import hashlib, re, sys
lines = open(sys.argv[1], 'rb').read().split(b'\n')[:-1]
prev = None
for i, line in enumerate(lines):
    p = b'null' if prev is None else b'"sha256:' + prev + b'"'
    lines[i] = re.sub(rb'"prev":(null|"sha256:[0-9a-f]{64}")}$', b'"prev":' + p + b'}', line)
    prev = hashlib.sha256(lines[i]).hexdigest().encode()
open(sys.argv[1], 'wb').write(b'\n'.join(lines) + b'\n')
# and the unsigned CHECKPOINT --finish wrote gets the new last hash too
cp = sys.argv[1].rsplit('/', 1)[0] + '/CHECKPOINT'
text = open(cp, 'rb').read()
text = re.sub(rb'^(log EVENTS\.jsonl \d+ )sha256:[0-9a-f]{64}$', rb'\g<1>sha256:' + prev, text, flags=re.M)
open(cp, 'wb').write(text)
PY
hive-check -q --repair >/dev/null 2>&1 || true
show hive-check --session demo-1 && echo "(consistent with itself: every rule but history passes)"
git commit -qam "rewrite history, hashes recomputed"
show git push -q origin main || echo "(refused by rule history: the remote's record only grows)"

step "Moving root: in .hive.yml in the same push does not hide the record: the published .hive.yml governs"
git reset -q --hard origin/main
mkdir ops && git mv Docs/hive-mind ops/hive
printf 'root: ops/hive\n' > .hive.yml
git add -A && git commit -qm "move the hive root"
show git push -q origin main || echo "(refused: the sessions the published root holds are gone)"
git reset -q --hard origin/main # the repository is left as the remote has it

step "Two parallel jobs deploy two regions into one session: each writes its own lane"
hive-init -q --session release-2 >/dev/null
show hive-emit --session release-2 --lane deploy-eu deployment_configured --resource web \
	--action update --platform K8s --status success environment=eu version=1.4.3 |
	jq -c '{lane, seq, event_type}'
HIVE_LANE=deploy-us show hive-emit --session release-2 deployment_configured --resource web \
	--action update --platform K8s --status success environment=us version=1.4.3 |
	jq -c '{lane, seq, event_type}'
ls Docs/hive-mind/sessions/release-2/lanes
step "On separate runners the legs hand the session on as CI artifacts: hive-init --restore merges them"
arts=$(mktemp -d) # what actions/download-artifact lays out: one folder per job's copy
for leg in eu us; do
	mkdir -p "$arts/hive-release-2-deploy-$leg"
	cp -R Docs/hive-mind/sessions/release-2/. "$arts/hive-release-2-deploy-$leg/"
done
rm "$arts/hive-release-2-deploy-eu/lanes/deploy-us.jsonl" "$arts/hive-release-2-deploy-us/lanes/deploy-eu.jsonl"
rm -rf Docs/hive-mind/sessions/release-2 # the finishing runner has neither lane
show hive-init --session release-2 --restore "$arts" | jq -c '{session_id, created, events}'
ls Docs/hive-mind/sessions/release-2/lanes
rm -rf "$arts"
step "--finish joins the lanes (session_joined), and the reports count both regions"
show hive-runbook -q --finish --session release-2 --format json | jq -c '.metrics.deployments'
jq -c 'select(.event_type == "session_joined") | .details.lanes | map_values(.lines)' \
	Docs/hive-mind/sessions/release-2/EVENTS.jsonl

step "The sessions ref: finished sessions committed onto refs/hive/sessions, no branch touched"
show hive-runbook --publish --session release-2
git ls-tree -r --name-only refs/hive/sessions
show git push -q origin refs/hive/sessions:refs/hive/sessions && echo "(the hook checked it too)"

step "Agents record themselves: Claude Code's hooks merged into .claude/settings.json"
unset HIVE_SESSION_ID # each agent session is its own hive session
printf '{"permissions":{"allow":["Bash(make:*)"]},"hooks":{"PostToolUse":[{"matcher":"Edit","hooks":[{"type":"command","command":"true"}]}]}}\n' \
	> .claude/settings.json
show hive-init --install-agent-hooks | jq -c .agent_hooks
hook=$(jq -r '.hooks.PostToolUse[1].hooks[0].command' .claude/settings.json)
# infrastructure-changing commands need an active session (.hive.yml policy)
printf 'policy:\n  agent_require_session: ['"'"'terraform +(apply|destroy)'"'"']\n' > .hive.yml

step "A scripted agent session: the payloads Claude Code sends, through the installed command"
sid=4b1d7c2e-9a60-4f0b-8d3e-2c5a7e91f0aa
# agent EVENT JQ: one hook payload, as Claude Code hands it to the command on stdin
agent() {
	jq -cn --arg sid "$sid" --arg cwd "$demo" --arg ev "$1" \
		'{session_id: $sid, transcript_path: "~/.claude/projects/demo/\\($sid).jsonl", cwd: $cwd,
		  hook_event_name: $ev} | '"$2" | sh -c "$hook"
}
printf '$ %s\n' "PreToolUse Bash terraform apply, before any session" >&2
agent PreToolUse '.tool_name = "Bash" | .tool_input = {command: "terraform apply -auto-approve"}' ||
	echo "(exit status $?: Claude Code blocks the call and shows the agent why)"
agent SessionStart '.source = "startup"' | jq -c .hookSpecificOutput
agent PreToolUse '.tool_name = "Bash" | .tool_input = {command: "terraform apply -auto-approve"}' &&
	echo "(the session is active: the call goes on)"
agent PostToolUse '.tool_name = "Bash" | .tool_input = {command: "terraform apply -auto-approve", description: "apply"} |
	.tool_use_id = "toolu_01" | .tool_response = {stdout: "Apply complete! Resources: 1 added.", stderr: "", interrupted: false}'
agent PostToolUse '.tool_name = "Edit" | .tool_input = {file_path: "k8s/web.yaml", old_string: "a", new_string: "b"} |
	.tool_use_id = "toolu_02" | .tool_response = {filePath: "k8s/web.yaml"}'
agent PostToolUseFailure '.tool_name = "Bash" | .tool_input = {command: "kubectl --token=ghp_0123456789abcdefghijklmnopqrstuvwxyzAB rollout status deploy/web"} |
	.tool_use_id = "toolu_03" | .error = "error: deployment \"web\" exceeded its progress deadline"'
agent Stop '.stop_hook_active = false'
agent SessionEnd '.reason = "prompt_input_exit"'
alog=Docs/hive-mind/sessions/claude-$sid/EVENTS.jsonl
jq -c '{seq, event_type, tool: .details.resource, input: .details.configuration.input, status: .details.status}' "$alog"

step "The agent's session is a checked session with a runbook, like any other"
show hive-check --session "claude-$sid"
show sed -n '/^## Timeline/,/^## DEPLOYMENT/p' "Docs/hive-mind/sessions/claude-$sid/RUNBOOK.md"

step "The same through the Model Context Protocol: hive-mcp's tools"
printf '%s\n' \
	'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"demo","version":"1"}}}' \
	'{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"hive_start","arguments":{"session":"mcp-demo"}}}' \
	'{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"hive_emit","arguments":{"session":"mcp-demo","event_type":"deployment_configured","resource":"web","action":"destroy","platform":"K8s","status":"success"}}}' \
	'{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"hive_finish","arguments":{"session":"mcp-demo"}}}' |
	hive-mcp -q | jq -c 'select(.id > 1) | {id, isError: .result.isError, text: .result.content[0].text[0:100]}'
rm .hive.yml

printf '\nThe demo repository is kept at %s (RUNBOOK.md is in its session folder)\n' "$demo"
