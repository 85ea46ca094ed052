#!/bin/sh
# tests/valgrind.sh - every tool's main paths under valgrind's memcheck: no leak, no error
#
#   sh tests/valgrind.sh [BUILD]        (BUILD defaults to build; the tools must be built)
#
# Each case runs one tool under
#   valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99
# in a throwaway repository and checks the exit status the case expects (0, 1, 2 or 3),
# so an error path (a refused event, a bad id, a broken config, a tampered log) is checked
# for leaks as much as the happy path. A memcheck error or a definite or indirect leak makes
# the status 99 and the case fails with valgrind's report. Prints `ok N - NAME` or
# `not ok N - NAME` per case and ends with `valgrind: N passed, N failed`; exits non-zero
# when anything failed. Suppressions: tests/valgrind.supp (documented there).

BUILD=${1:-${BUILD:-build}}
cd "$(dirname "$0")/.." || exit 2
SRC_TOP=$(pwd)
case $BUILD in /*) ;; *) BUILD=$SRC_TOP/$BUILD ;; esac

for t in hive-init hive-emit hive-check hive-runbook hive-mcp; do
	if [ ! -x "$BUILD/$t" ]; then
		echo "not ok - $BUILD/$t is not built (run make)"
		echo "valgrind: 0 passed, 1 failed"
		exit 1
	fi
done
if ! command -v valgrind >/dev/null 2>&1; then
	echo "not ok - valgrind is not installed (apt-get install valgrind)"
	echo "valgrind: 0 passed, 1 failed"
	exit 1
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/hive-valgrind.XXXXXX") || exit 2
T=$(cd "$T" && pwd -P)
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM

# The same clean world as the bats suites: nothing from the caller's CI or git leaks in.
for v in $(env | sed -n 's/^\(\(HIVE\|GIT\|GITHUB\|GITLAB\|CI\|RUNNER\)[A-Za-z0-9_]*\)=.*/\1/p'); do
	unset "$v"
done
unset CI XDG_CONFIG_HOME
export LC_ALL=C TZ=UTC HOME="$T/home" GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME='Hive Test' GIT_AUTHOR_EMAIL='hive-test@example.com'
export GIT_COMMITTER_NAME='Hive Test' GIT_COMMITTER_EMAIL='hive-test@example.com'
export GIT_AUTHOR_DATE='2025-01-15T10:00:00Z' GIT_COMMITTER_DATE='2025-01-15T10:00:00Z'
mkdir -p "$HOME"
printf '[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n' >"$HOME/.gitconfig"

VG="valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect
	--errors-for-leak-kinds=definite,indirect --error-exitcode=99 --track-origins=yes
	--suppressions=$SRC_TOP/tests/valgrind.supp"

passed=0
failed=0
n=0
VGENV= # with_env sets it for the next case only

# with_env "NAME=VALUE …": environment for the next vg case (values without spaces).
with_env() {
	VGENV=$1
}

# vg NAME WANT TOOL ARGS…: run $BUILD/TOOL under memcheck (stdin passed through, stdout to
# $T/out, stderr to $T/err, valgrind's report to $T/vg.log) and expect exit status WANT.
vg() {
	name=$1 want=$2 tool=$3
	shift 3
	n=$((n + 1))
	rm -f "$T/vg.log"
	# shellcheck disable=SC2086 # $VG and $VGENV are word lists
	env $VGENV $VG --log-file="$T/vg.log" "$BUILD/$tool" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	VGENV=
	if [ "$rc" -eq "$want" ] && [ ! -s "$T/vg.log" ]; then
		echo "ok $n - $tool: $name"
		passed=$((passed + 1))
		return 0
	fi
	echo "not ok $n - $tool: $name (exit $rc, expected $want)"
	sed 's/^/#   /' "$T/vg.log" "$T/err" "$T/out"
	failed=$((failed + 1))
	return 1
}

# setup_failed WHAT: a step that prepares a case failed (the case cannot prove anything).
setup_failed() {
	n=$((n + 1))
	echo "not ok $n - setup: $1"
	failed=$((failed + 1))
}

# commit MESSAGE: commit everything in the repository.
commit() {
	{ git add -A && git commit -q -m "$1"; } || setup_failed "commit $1"
}

# --- a repository like the bats suites' make_repo -----------------------------------------

R=$T/repo
git init -q "$R" || setup_failed "git init"
mkdir -p "$R/infra" "$R/.github/workflows" "$R/.claude/agents"
printf 'FROM alpine:3.19\n' >"$R/Dockerfile"
printf 'resource "null_resource" "hello" {}\n' >"$R/infra/main.tf"
printf 'name: ci\non: push\njobs:\n  t:\n    runs-on: x\n    steps:\n      - run: make\n' \
	>"$R/.github/workflows/ci.yml"
cp tests/fixtures/devops-worker.md "$R/.claude/agents/" || setup_failed "the worker definition"
# every tool reads this .hive.yml in every case below (but those given --config)
printf '%s\n' 'redact:' '  keys: [pin]' "  patterns: ['corp_[A-Za-z0-9]{8}']" 'events:' \
	'  types: [cost_reviewed]' '  platforms: [OnPrem]' >"$R/.hive.yml"
cd "$R" || exit 2
commit initial
S=$R/Docs/hive-mind/sessions
# a second root for damaged sessions, so --all on the first stays clean: inside the work tree
# (a root outside it is refused), and kept out of the commits the --pre-push cases push
BAD=$R/bad
mkdir -p "$BAD/sessions"
printf '/bad/\n' >>.git/info/exclude

# --- hive-init ------------------------------------------------------------------------

vg "create a session" 0 hive-init --session v1
vg "rejoin it (created false)" 0 hive-init --session v1
vg "--export sh" 0 hive-init --session v2 --export sh
with_env "GITHUB_ACTIONS=true GITHUB_RUN_ID=77 GITHUB_RUN_ATTEMPT=1 GITHUB_ENV=$T/gh.env GITHUB_OUTPUT=$T/gh.out GITHUB_JOB=deploy GITHUB_SERVER_URL=https://github.com GITHUB_REPOSITORY=acme/app"
vg "GitHub Actions: the gh id, --export github, GITHUB_ENV and GITHUB_OUTPUT" 0 \
	hive-init --export github
with_env "GITLAB_CI=true CI_PIPELINE_ID=88 CI_JOB_ID=9 CI_JOB_NAME=build"
vg "GitLab CI: the gl id, --export gitlab, hive.env" 0 hive-init --export gitlab
vg "a worker without a definition (warning, profile null)" 0 hive-init --session v3 --worker nobody
vg "-C into a subdirectory, a generated id" 0 hive-init -C infra
with_env "HIVE_GIT_DIRTY=0"
vg "HIVE_GIT_DIRTY=0" 0 hive-init --session v4
printf 'changed\n' >>Dockerfile
vg "a dirty work tree" 0 hive-init --session v5
git checkout -q Dockerfile
# a staged change: the work tree matches the index, the cache-tree walk finds it
printf 'staged\n' >>infra/main.tf
git add infra/main.tf
vg "a staged change (the cache-tree walk)" 0 hive-init --session v6
git reset -q infra/main.tf
git checkout -q infra/main.tf
mkdir -p "$T/plain"
vg "outside a repository" 0 hive-init -C "$T/plain" --session p1
git init -q "$T/hooks-repo" || setup_failed "a repository for hooks"
vg "--install-hooks" 0 hive-init -C "$T/hooks-repo" --install-hooks
vg "a bad session id" 2 hive-init --session ../x
vg "a bad --export" 2 hive-init --session v9 --export csh
vg "an unknown option" 2 hive-init --session v9 --frobnicate
printf 'root: [unclosed\n' >"$T/syntax.yml"
vg "a config with a YAML syntax error" 2 hive-init --session v9 --config "$T/syntax.yml"
printf 'rooot: x\n' >"$T/unknown.yml"
vg "a config with an unknown key" 2 hive-init --session v9 --config "$T/unknown.yml"
printf 'redact:\n  patterns: ["a(("]\n' >"$T/regex.yml"
vg "a config with a bad regex" 2 hive-init --session v9 --config "$T/regex.yml"
mkdir -p "$T/agents" && printf -- '---\nname: [broken\n---\n' >"$T/agents/broken.md"
printf 'workers_dir: %s\n' "$T/agents" >"$T/agents.yml"
vg "broken worker front matter" 2 hive-init --session v9 --worker broken --config "$T/agents.yml"
{ "$BUILD/hive-init" -q --root "$BAD" --session corrupt >/dev/null &&
	printf 'not json\n' >"$BAD/sessions/corrupt/EVENTS.jsonl"; } || setup_failed "a corrupt session"
vg "rejoining a corrupt session (exit 3)" 3 hive-init --root "$BAD" --session corrupt

# --- hive-emit ------------------------------------------------------------------------

vg "one event: flags, KEY=VALUE, dotted KEY, KEY:=JSON" 0 hive-emit --session v1 \
	deployment_configured --resource api --action update --platform K8s --status success \
	image=api:1.4.2 tags.team=infra replicas:=3 'rollback:={"to":"api:1.4.1"}'
printf '{"image":"web:2","ports":[80,443]}\n' >"$T/conf.json"
vg "--json @FILE" 0 hive-emit --session v1 infrastructure_provisioned --resource web \
	--action create --platform AWS --status success --json @"$T/conf.json"
d='"resource":"api","action":"update","platform":"K8s"'
{
	printf '{"event_type":"monitoring_added","details":{%s,"status":"success","configuration":{"probe":"/healthz"}}}\n\n' "$d"
	printf '{"event_type":"metric_recorded","details":{%s,"status":"success","configuration":{"name":"cpu","value":0.7,"unit":"ratio"}}}\n' "$d"
	printf '{"event_type":"incident_detected","details":{%s,"status":"failure","configuration":{"severity":"P2","impact":"5xx"}}}\n' "$d"
	printf '{"event_type":"incident_resolved","details":{%s,"status":"success","configuration":{"severity":"P2","root_cause":"oom"}}}' "$d"
} >"$T/stream"
vg "an NDJSON stream on stdin (a blank line, no final newline)" 0 hive-emit --session v1 - <"$T/stream"
vg "redaction: secret keys and token shapes" 0 hive-emit --session v1 pipeline_updated \
	--resource ci --action update --platform Docker --status success password=hunter2 \
	url=https://deploy:s3cret@registry.example.com \
	token=ghp_0123456789abcdefghijklmnopqrstuvwxyzAB note=AKIAIOSFODNN7EXAMPLE
vg "redaction from .hive.yml, a configured type and platform" 0 hive-emit --session v1 \
	cost_reviewed --resource db --action update --platform OnPrem \
	--status success pin=1234 key=corp_abcdefgh
with_env "HIVE_SESSION_ID=v1"
vg "HIVE_SESSION_ID, -q" 0 hive-emit -q security_hardened --resource api --action update \
	--platform K8s --status success
vg "a bad action (rejected)" 2 hive-emit --session v1 deployment_configured --resource api \
	--action destroy --platform K8s --status success
vg "an unknown event type" 2 hive-emit --session v1 no_such_type --resource api
vg "session_started is the tools' own" 2 hive-emit --session v1 session_started
vg "a bad KEY:=JSON" 2 hive-emit --session v1 deployment_configured --resource api \
	--action update --platform K8s --status success 'x:={bad'
vg "--json that is not an object" 2 hive-emit --session v1 deployment_configured \
	--resource api --action update --platform K8s --status success --json '[1]'
{
	sed -n 1p "$T/stream"
	printf '{"event_type":"deployment_configured","details":{"action":"oops"}}\n'
} >"$T/badstream"
vg "a stream with a bad line 2 (nothing written)" 2 hive-emit --session v1 - <"$T/badstream"
printf '{"event_type":"monitoring_added","details":{"resource":"\377","action":"create","platform":"K8s","status":"success"}}\n' >"$T/utf8"
vg "a stream line that is not UTF-8" 2 hive-emit --session v1 - <"$T/utf8"
head -c 2097152 /dev/zero | tr '\0' 'a' >"$T/huge"
vg "a 2 MiB stream line" 2 hive-emit --session v1 - <"$T/huge"
vg "--lane: a lane's first event (lane_started first)" 0 hive-emit --session v1 --lane eu \
	deployment_configured --resource web --action update --platform K8s --status success
vg "--lane: the lane goes on" 0 hive-emit --session v1 --lane eu pipeline_updated --resource ci \
	--action update --platform Docker --status success
vg "--join" 0 hive-emit --session v1 --join
vg "--lane main (refused)" 2 hive-emit --session v1 --lane main pipeline_updated --resource ci \
	--action update --platform Docker --status success
with_env "HIVE_SEGMENT_BYTES=4096"
vg "a stream past HIVE_SEGMENT_BYTES: the next segment" 0 hive-emit --session v1 - <"$T/stream"
vg "no session" 2 hive-emit deployment_configured
vg "a session that does not exist" 2 hive-emit --session nope deployment_configured
rm -f "$S/v2/STATE.json"
vg "STATE.json missing: rebuilt from the log" 0 hive-emit --session v2 monitoring_added \
	--resource api --action create --platform K8s --status success
printf '{"trunc' >"$S/v2/STATE.json"
vg "STATE.json truncated: rebuilt from the log" 0 hive-emit --session v2 monitoring_added \
	--resource api --action create --platform K8s --status success
{ "$BUILD/hive-init" -q --root "$BAD" --session torn >/dev/null &&
	printf '{"seq":2,"timest' >>"$BAD/sessions/torn/EVENTS.jsonl"; } || setup_failed "a torn log"
vg "a torn last line (exit 3, run --repair)" 3 hive-emit --root "$BAD" --session torn \
	monitoring_added --resource api --action create --platform K8s --status success
if command -v flock >/dev/null 2>&1; then
	# the subshell locks its own descriptor and becomes the sleep: killing it frees the
	# lock (flock FILE CMD would leave CMD holding it after flock is killed)
	(
		exec 9>>"$S/v3/.lock"
		flock 9
		: >"$T/locked"
		exec sleep 30
	) &
	holder=$!
	i=0
	while [ ! -e "$T/locked" ] && [ "$i" -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	with_env "HIVE_LOCK_TIMEOUT=1"
	vg "a lock held until the timeout (exit 3)" 3 hive-emit --session v3 monitoring_added \
		--resource api --action create --platform K8s --status success
	kill "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null
else
	setup_failed "flock(1) is not installed (util-linux)"
fi

# --- hive-runbook (before hive-check: the pre-push cases commit the finished sessions) --

vg "markdown runbook" 0 hive-runbook --session v1
for r in deployment incident infrastructure all; do
	vg "--report $r" 0 hive-runbook --session v1 --report "$r"
done
vg "--format json" 0 hive-runbook --session v1 --format json
vg "--format prometheus" 0 hive-runbook --session v1 --format prometheus
vg "--format otlp" 0 hive-runbook --session v1 --format otlp
vg "--format otlp-logs" 0 hive-runbook --session v1 --format otlp-logs
vg "-o FILE" 0 hive-runbook --session v1 -o "$T/runbook.md"
with_env "GITHUB_STEP_SUMMARY=$T/summary.md"
vg "--step-summary" 0 hive-runbook --session v1 --step-summary
"$BUILD/hive-check" --session v1 --format json >"$T/findings.json" 2>/dev/null
vg "--findings FILE" 0 hive-runbook --session v1 --findings "$T/findings.json"
vg "--findings - (stdin)" 0 hive-runbook --session v1 --findings - <"$T/findings.json"
printf 'not findings\n' >"$T/notfindings"
vg "--findings that are not findings" 2 hive-runbook --session v1 --findings "$T/notfindings"
vg "--finish" 0 hive-runbook --session v1 --finish
vg "--finish again (changes nothing)" 0 hive-runbook --session v1 --finish
vg "--finish --status failure" 0 hive-runbook --session v4 --finish --status failure
vg "--publish (onto refs/hive/sessions)" 0 hive-runbook --session v1 --publish
vg "hive-check --ref" 0 hive-check --session v1 --ref refs/hive/sessions
vg "--all --ref" 0 hive-runbook --all --ref refs/hive/sessions
mv "$S/v1" "$T/v1.away"
vg "hive-init --ref: the published session restored" 0 hive-init --session v1 --ref refs/hive/sessions
rm -rf "$T/v1.away"
# hive-init --restore: copies of v1 as CI artifacts (a shorter one and the whole), merged over
# a local folder that is gone; then two that diverge (exit 3, nothing changed)
mkdir -p "$T/copies/a" "$T/copies/b" "$T/bad/a" "$T/bad/b"
cp -R "$S/v1/." "$T/copies/b/" && head -n 2 "$S/v1/EVENTS.jsonl" >"$T/copies/a/EVENTS.jsonl" &&
	cp "$S/v1/STATE.json" "$T/copies/a/" || setup_failed "copies of v1"
mv "$S/v1" "$T/v1.away"
vg "hive-init --restore: the copies merged" 0 hive-init --session v1 --restore "$T/copies"
cp -R "$T/copies/b/." "$T/bad/a/" && cp -R "$T/copies/b/." "$T/bad/b/" &&
	printf '{"seq":99}\n' >>"$T/bad/b/EVENTS.jsonl" &&
	sed -i '$ s/.*/{"seq":98}/' "$T/bad/a/EVENTS.jsonl" || setup_failed "diverging copies"
vg "hive-init --restore: diverging copies (exit 3)" 3 hive-init --session v1 --restore "$T/bad"
rm -rf "$T/v1.away" "$T/copies" "$T/bad"
# checkpoints and signatures (SPEC 10): ssh-keygen is a child, not traced
ssh-keygen -q -t ed25519 -N '' -C vg -f "$T/vg_key" || setup_failed "an ed25519 key"
printf 'vg@example.org %s\n' "$(cut -d' ' -f1,2 "$T/vg_key.pub")" >"$T/allowed_signers"
printf 'trust:\n  allowed_signers: %s\npolicy:\n  require_signed: 1\n' "$T/allowed_signers" \
	>"$T/trust.yml"
"$BUILD/hive-init" -q --session v5 >/dev/null || setup_failed "session v5"
vg "--checkpoint (unsigned)" 0 hive-runbook --session v5 --checkpoint
with_env "HIVE_SIGNING_KEY=$T/vg_key"
vg "--finish, signed" 0 hive-runbook --session v5 --finish
with_env "HIVE_SIGNING_KEY=$T/vg_key"
vg "--sign by a key that signed already" 0 hive-runbook --session v5 --sign
vg "--sign without a key (exit 2)" 2 hive-runbook --session v5 --sign
vg "rule signature and policy.require_signed" 0 hive-check --config "$T/trust.yml" --session v5
vg "policy.require_signed unmet (exit 1)" 1 hive-check --config "$T/trust.yml" --session v4
vg "an event into a finished session (exit 2)" 2 hive-emit --session v1 monitoring_added \
	--resource api --action create --platform K8s --status success
vg "--all (markdown)" 0 hive-runbook --all
vg "--all --format json" 0 hive-runbook --all --format json
vg "--all --format events" 0 hive-runbook --all --format events
vg "--all --format prometheus" 0 hive-runbook --all --format prometheus
vg "a bad --report" 2 hive-runbook --session v1 --report nonsense
vg "a session that does not exist" 2 hive-runbook --session nope
# a broken chain: line 1 edited after line 2 was chained to it
{ "$BUILD/hive-init" -q --root "$BAD" --session tampered >/dev/null &&
	"$BUILD/hive-emit" --root "$BAD" --session tampered monitoring_added --resource a \
		--action create --platform K8s --status success >/dev/null 2>&1 &&
	sed -i '1s/"session_started"/"session_started" /' "$BAD/sessions/tampered/EVENTS.jsonl"; } ||
	setup_failed "a tampered session"
vg "--finish on a broken chain (exit 1)" 1 hive-runbook --root "$BAD" --session tampered --finish

# --- hive-check -----------------------------------------------------------------------

vg "a clean session" 0 hive-check --session v2
vg "a finished session" 0 hive-check --session v1
vg "--all" 0 hive-check --all
vg "--strict" 0 hive-check --session v2 --strict
vg "an EVENTS.jsonl operand" 0 hive-check "$S/v2/EVENTS.jsonl"
vg "a session folder operand" 0 hive-check "$S/v2"
vg "a log on stdin" 0 hive-check - <"$S/v2/EVENTS.jsonl"
for f in text json github junit codequality; do
	vg "a tampered session, --format $f" 1 hive-check --root "$BAD" --session tampered \
		--format "$f"
done
vg "every damaged session with --all" 1 hive-check --root "$BAD" --all --format json
printf 'policy:\n  require_tags: [team]\n  require_ci: [deployment_configured]\n  require_rollback: true\n  require_events: [security_hardened]\n  max_session_minutes: 1\n  require_clean_tree: [deployment_configured]\n' >"$T/policy.yml"
vg "policies from the config" 1 hive-check --session v1 --config "$T/policy.yml"
vg "a bad --format" 2 hive-check --session v2 --format yaml
vg "--repair of a torn log" 0 hive-check --root "$BAD" --session torn --repair
vg "the repaired log checks clean" 0 hive-check --root "$BAD" --session torn

# --pre-push: the sessions as they are in the pushed commits, from the object database.
{ git init -q --bare "$T/remote.git" && git remote add origin "$T/remote.git"; } ||
	setup_failed "a remote"
commit sessions
git push -q origin main 2>/dev/null || setup_failed "git push"
base=$(git rev-parse HEAD)
"$BUILD/hive-emit" --session v2 monitoring_added --resource api --action create \
	--platform K8s --status success >/dev/null 2>&1 || setup_failed "an event into v2"
commit "one more event"
head=$(git rev-parse HEAD)
zero=0000000000000000000000000000000000000000
printf 'refs/heads/main %s refs/heads/main %s\n' "$head" "$base" >"$T/push-update"
vg "--pre-push: an update of main" 0 hive-check --pre-push <"$T/push-update"
printf 'refs/heads/topic %s refs/heads/topic %s\n' "$head" "$zero" >"$T/push-new"
vg "--pre-push: a new branch" 0 hive-check --pre-push <"$T/push-new"
printf '(delete) %s refs/heads/old %s\n' "$zero" "$base" >"$T/push-delete"
vg "--pre-push: a deleted ref" 0 hive-check --pre-push <"$T/push-delete"
sed -i '1s/"session_started"/"session_started" /' "$S/v2/EVENTS.jsonl"
commit "tampered"
printf 'refs/heads/main %s refs/heads/main %s\n' "$(git rev-parse HEAD)" "$base" >"$T/push-bad"
vg "--pre-push: a tampered session in the pushed commit" 1 hive-check --pre-push <"$T/push-bad"
printf 'refs/heads/main nothex refs/heads/main %s\n' "$base" >"$T/push-malformed"
vg "--pre-push: a malformed line" 2 hive-check --pre-push <"$T/push-malformed"

# --- agents: hive-emit --from claude-code, hive-init --install-agent-hooks, hive-mcp -----

A=$T/agent
mkdir -p "$A"
for ev in SessionStart PostToolUse PostToolUseFailure PreToolUse Stop SessionEnd; do
	printf '{"session_id":"vg-agent","hook_event_name":"%s","source":"startup","tool_name":"mcp__db__q","tool_input":{"sql":"select 1","password":"p"},"tool_use_id":"t1","tool_response":{"stdout":"x"},"error":"boom"}\n' \
		"$ev" >"$A/$ev.json"
	vg "--from claude-code: $ev" 0 hive-emit --from claude-code <"$A/$ev.json"
done
printf 'not json' >"$A/bad.json"
vg "--from claude-code: a payload that is not JSON (exit 0: the agent goes on)" 0 \
	hive-emit --from claude-code <"$A/bad.json"
printf '%s\n' 'policy:' "  agent_require_session: ['select']" >"$T/agent-policy.yml"
vg "--from claude-code: PreToolUse refused by policy.agent_require_session" 2 \
	hive-emit --from claude-code --config "$T/agent-policy.yml" <"$A/PreToolUse.json"
vg "--install-agent-hooks" 0 hive-init --install-agent-hooks
vg "--install-agent-hooks again (unchanged)" 0 hive-init --install-agent-hooks
printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25"}}' \
	'{bad' '[1]' '{"jsonrpc":"2.0","id":2,"method":"tools/list"}' \
	'{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"hive_start","arguments":{"session":"vg-mcp"}}}' \
	'{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"hive_emit","arguments":{"session":"vg-mcp","event_type":"metric_recorded","configuration":{"name":"c","value":1,"unit":"u"}}}}' \
	'{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"hive_emit","arguments":{"session":"vg-mcp","event_type":"nope"}}}' \
	'{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"hive_check","arguments":{"session":"vg-mcp"}}}' \
	'{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"hive_show","arguments":{"session":"vg-mcp"}}}' \
	'{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"hive_finish","arguments":{"session":"vg-mcp"}}}' \
	>"$A/mcp.ndjson"
vg "hive-mcp: a whole session and malformed messages" 0 hive-mcp <"$A/mcp.ndjson"

echo "valgrind: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
