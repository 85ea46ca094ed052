#!/usr/bin/env bats
# tests/bats/hive-init.bats - hive-init from the outside: SPEC 2, 4, 5.1 and 6
#
# Every bad input is checked three ways by run_refused (test_helper.bash): the exit status,
# the message on stderr, and every file under $BATS_TEST_TMPDIR byte-for-byte unchanged.

# Single-quoted jq programs use jq's $variables; bats runs each test in a subshell.
# shellcheck disable=SC2016,SC2030,SC2031

load test_helper

setup() {
	hive_setup || return 1
	REPO="$BATS_TEST_TMPDIR/repo"
	make_repo "$REPO"
	REPO="$(cd "$REPO" && pwd -P)"
	cd "$REPO" || return 1
	EMPTY_REQS='{"terraform":[],"docker":[],"compose":[],"kubernetes":[],"helm":[],"github_actions":[],"gitlab_ci":[],"pulumi":[]}'
}

# start SESSION [ARGS…]: create a session and insist that it worked.
start() {
	local id=$1
	shift
	run --separate-stderr hive-init --session "$id" "$@"
	assert_success
}

# The requirements recorded in session_started for a session in this repository.
requirements() {
	event_line "$(session_dir "$1")/EVENTS.jsonl" 1 .details.requirements
}

# --- creation --------------------------------------------------------------------------

@test "creates <root>/sessions/<id>/ with .lock, EVENTS.jsonl and STATE.json and nothing else" {
	printf '/Docs/hive-mind/** -text\n' >.gitattributes # marked already: nothing to say
	start s1
	assert_stderr_empty
	dir="$(session_dir s1)"
	run ls -A "$dir"
	assert_output $'.lock\nEVENTS.jsonl\nSTATE.json'
	[ -f "$dir/.lock" ] && [ ! -L "$dir/.lock" ] && [ ! -s "$dir/.lock" ]
	# nothing else appeared in the repository: no temporary folder left in sessions/
	run ls -A "$REPO/Docs/hive-mind" "$REPO/Docs/hive-mind/sessions"
	assert_output "$(printf '%s\n' "$REPO/Docs/hive-mind:" sessions '' "$REPO/Docs/hive-mind/sessions:" s1)"
}

@test "EVENTS.jsonl is one newline-terminated session_started line in SPEC 3's key order" {
	start s1
	events="$(session_dir s1)/EVENTS.jsonl"
	[ "$(wc -l <"$events")" -eq 1 ]
	[ "$(tail -c 1 "$events" | od -An -tx1 | tr -d ' ')" = 0a ]
	line="$(sed -n 1p "$events")"
	assert_jq '[keys_unsorted[]] == ["seq","timestamp","event_type","worker","session_id","details","git","ci","prev"]' "$line"
	assert_jq '.seq == 1 and .event_type == "session_started" and .worker == "devops-worker"
		and .session_id == "s1" and .prev == null and .ci == null' "$line"
	assert_jq '.timestamp | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$")' "$line"
	# details: the worker profile and the detected requirements
	assert_jq '(.details | keys) == ["requirements", "worker_profile"]' "$line"
	assert_jq '.details.worker_profile.name == "devops-worker"' "$line"
	assert_jq '.details.requirements.docker == ["Dockerfile"]' "$line"
	assert_jq '.git.commit == $c and .git.branch == "main"' "$line" --arg c "$(git rev-parse HEAD)"
	# one compact line: what jq -c makes of it is the line itself
	assert_equal "$(jq -c . <<<"$line")" "$line"
}

@test "STATE.json is the view of line 1 (SPEC 4)" {
	start s1
	dir="$(session_dir s1)"
	line="$(sed -n 1p "$dir/EVENTS.jsonl")"
	hash="sha256:$(printf '%s' "$line" | sha256sum | cut -d' ' -f1)"
	state="$(cat "$dir/STATE.json")"
	assert_jq '(keys) == (["session_id","worker","status","started_at","updated_at","completed_at",
		"git","ci","worker_profile","requirements","events","deployment"] | sort)' "$state"
	assert_jq '.session_id == "s1" and .worker == "devops-worker" and .status == "active"
		and .started_at == $ev.timestamp and .updated_at == $ev.timestamp and .completed_at == null
		and .git == $ev.git and .ci == null
		and .worker_profile == $ev.details.worker_profile
		and .requirements == $ev.details.requirements' "$state" --argjson ev "$line"
	assert_jq '.events == {"count": 1, "last_seq": 1, "last_hash": $h,
		"by_type": {"session_started": 1}, "failures": 0}' "$state" --arg h "$hash"
	assert_jq '.deployment == {"status": "pending", "environment": null, "version": null, "environments": {}}' "$state"
}

@test "stdout is one compact JSON object: session_id, dir, created first" {
	run --separate-stderr hive-init --session s1
	assert_success
	[ "${#lines[@]}" -eq 1 ]
	assert_jq '[keys_unsorted[0:3][]] == ["session_id", "dir", "created"]' "$output"
	assert_jq '.session_id == "s1" and .dir == $d and .created == true' "$output" \
		--arg d "$REPO/Docs/hive-mind/sessions/s1"
	assert_equal "$(jq -c . <<<"$output")" "$output"
}

@test "-q keeps stderr quiet and stdout unchanged" {
	rm .claude/agents/devops-worker.md
	run --separate-stderr hive-init -q --session s1
	assert_success
	assert_stderr_empty
	assert_jq '.created == true' "$output"
}

@test "two sessions side by side do not disturb each other" {
	start s1
	snapshot "$(session_dir s1)"
	start s2
	assert_unchanged "$(session_dir s1)"
	run ls -A Docs/hive-mind/sessions
	assert_output $'s1\ns2'
}

@test "concurrent hive-init for one session: exactly one creates it, all succeed, one line" {
	for i in 1 2 3 4 5 6 7 8; do
		hive-init --session race >"$BATS_TEST_TMPDIR/out.$i" 2>"$BATS_TEST_TMPDIR/err.$i" &
		pids+=("$!")
	done
	for pid in "${pids[@]}"; do
		wait "$pid"
	done
	created="$(cat "$BATS_TEST_TMPDIR"/out.* | jq -s 'map(select(.created)) | length')"
	assert_equal "$created" 1
	[ "$(wc -l <"$(session_dir race)/EVENTS.jsonl")" -eq 1 ]
	run ls -A Docs/hive-mind/sessions
	assert_output race
}

# --- idempotency -----------------------------------------------------------------------

@test "a second run with --session appends nothing, rewrites nothing, says created:false" {
	start s1
	snapshot "$REPO"
	run --separate-stderr hive-init --session s1
	assert_success
	assert_jq '.created == false and .session_id == "s1" and .dir == $d' "$output" \
		--arg d "$REPO/Docs/hive-mind/sessions/s1"
	assert_unchanged "$REPO"
}

@test "a second run with HIVE_SESSION_ID is idempotent too" {
	HIVE_SESSION_ID=s1 hive-init >/dev/null
	snapshot "$REPO"
	HIVE_SESSION_ID=s1 run --separate-stderr hive-init
	assert_success
	assert_jq '.created == false' "$output"
	assert_unchanged "$REPO"
}

@test "a CI retry of the same GitHub run does not duplicate session_started" {
	export GITHUB_ACTIONS=true GITHUB_RUN_ID=8812 GITHUB_RUN_ATTEMPT=1
	hive-init >/dev/null
	snapshot "$REPO"
	run --separate-stderr hive-init
	assert_success
	assert_jq '.created == false and .session_id == "gh-8812-1"' "$output"
	assert_unchanged "$REPO"
}

@test "rejoining a session that already holds more events leaves them alone" {
	start s1
	events="$(session_dir s1)/EVENTS.jsonl"
	line1="$(sed -n 1p "$events")"
	hash="sha256:$(printf '%s' "$line1" | sha256sum | cut -d' ' -f1)"
	jq -c --arg h "$hash" '.seq = 2 | .event_type = "pipeline_updated" | .prev = $h
		| .details = {"resource":"ci","action":"update","platform":"Docker","configuration":{},"status":"success"}' \
		<<<"$line1" >>"$events"
	snapshot "$REPO"
	run --separate-stderr hive-init --session s1
	assert_success
	assert_jq '.created == false' "$output"
	assert_unchanged "$REPO"
}

# --- a corrupt existing session: exit 3 naming the problem, nothing touched --------------

@test "corrupt session: empty EVENTS.jsonl is exit 3" {
	start s1
	: >"$(session_dir s1)/EVENTS.jsonl"
	run_refused 3 'EVENTS\.jsonl.*empty' hive-init --session s1
}

@test "corrupt session: EVENTS.jsonl holding only a garbage line is exit 3" {
	start s1
	printf 'this is not json\n' >"$(session_dir s1)/EVENTS.jsonl"
	run_refused 3 '^hive-init: error: .*sessions/s1/EVENTS\.jsonl' hive-init --session s1
}

@test "corrupt session: garbage line 1 before a sound last line is exit 3 naming line 1" {
	start s1
	events="$(session_dir s1)/EVENTS.jsonl"
	good="$(jq -c '.seq = 2' "$events")"
	printf 'garbage\n%s\n' "$good" >"$events"
	run_refused 3 'EVENTS\.jsonl:1: ' hive-init --session s1
}

@test "corrupt session: line 1 that is not session_started is exit 3" {
	start s1
	events="$(session_dir s1)/EVENTS.jsonl"
	jq -c '.event_type = "pipeline_updated"' "$events" >"$events.new"
	mv "$events.new" "$events"
	run_refused 3 'EVENTS\.jsonl:1: .*session_started' hive-init --session s1
}

@test "corrupt session: a torn last line (no newline) is exit 3" {
	start s1
	printf '{"seq":2,"timestamp":"2025-01-15T1' >>"$(session_dir s1)/EVENTS.jsonl"
	run_refused 3 'EVENTS\.jsonl.*(cut off|newline)' hive-init --session s1
}

@test "corrupt session: line 1 of another session (folder copied) is exit 3" {
	start s1
	cp -a "$(session_dir s1)" "$(session_dir s2)"
	run_refused 3 'EVENTS\.jsonl:1: session_id' hive-init --session s2
}

@test "corrupt session: missing STATE.json is exit 3" {
	start s1
	rm "$(session_dir s1)/STATE.json"
	run_refused 3 'STATE\.json: .*missing' hive-init --session s1
}

@test "corrupt session: STATE.json that is not JSON is exit 3" {
	start s1
	printf '{"session_id": "s1", ' >"$(session_dir s1)/STATE.json"
	run_refused 3 'STATE\.json: .*not JSON' hive-init --session s1
}

@test "corrupt session: STATE.json of another session is exit 3" {
	start s1
	state="$(session_dir s1)/STATE.json"
	jq -c '.session_id = "other"' "$state" >"$state.new"
	mv "$state.new" "$state"
	run_refused 3 'STATE\.json: session_id' hive-init --session s1
}

@test "corrupt session: a session folder without EVENTS.jsonl is exit 3" {
	start s1
	rm "$(session_dir s1)/EVENTS.jsonl"
	run_refused 3 'sessions/s1/EVENTS\.jsonl' hive-init --session s1
}

@test "corrupt session: an empty session folder is exit 3" {
	mkdir -p "$(session_dir s1)"
	run_refused 3 'sessions/s1/EVENTS\.jsonl' hive-init --session s1
}

@test "a temporary folder left by a killed hive-init does not stop the next one" {
	mkdir -p Docs/hive-mind/sessions/.tmp-s1-99999-0badf00d
	printf 'partial' >Docs/hive-mind/sessions/.tmp-s1-99999-0badf00d/EVENTS.jsonl
	start s1
	assert_jq '.created == true' "$output"
	[ "$(wc -l <"$(session_dir s1)/EVENTS.jsonl")" -eq 1 ]
}

@test "a session path that is a regular file is exit 3" {
	mkdir -p Docs/hive-mind/sessions
	printf 'x\n' >Docs/hive-mind/sessions/s1
	run_refused 3 'sessions/s1: not a directory' hive-init --session s1
}

# --- symbolic links (SPEC 6) -----------------------------------------------------------

@test "a session folder that is a symbolic link is refused with exit 3" {
	start s1 --root "$REPO/elsewhere"
	mkdir -p Docs/hive-mind/sessions
	ln -s "$REPO/elsewhere/sessions/s1" Docs/hive-mind/sessions/s1
	run_refused 3 'sessions/s1: is a symbolic link' hive-init --session s1
}

@test "a dangling symbolic link in place of the session folder is refused with exit 3" {
	mkdir -p Docs/hive-mind/sessions
	ln -s "$BATS_TEST_TMPDIR/nowhere" Docs/hive-mind/sessions/s1
	run_refused 3 'sessions/s1: is a symbolic link' hive-init --session s1
	[ ! -e "$BATS_TEST_TMPDIR/nowhere" ]
}

@test "a sessions folder that is a symbolic link is refused with exit 3" {
	mkdir -p "$BATS_TEST_TMPDIR/elsewhere" Docs/hive-mind
	ln -s "$BATS_TEST_TMPDIR/elsewhere" Docs/hive-mind/sessions
	run_refused 3 'sessions: is a symbolic link' hive-init --session s1
}

@test "EVENTS.jsonl that is a symbolic link is refused with exit 3" {
	start s1
	start s2
	ln -sf "$(session_dir s2)/EVENTS.jsonl" "$(session_dir s1)/EVENTS.jsonl"
	run_refused 3 'EVENTS\.jsonl: is a symbolic link' hive-init --session s1
}

@test "STATE.json that is a symbolic link is refused with exit 3" {
	start s1
	start s2
	ln -sf "$(session_dir s2)/STATE.json" "$(session_dir s1)/STATE.json"
	run_refused 3 'STATE\.json: .*symbolic link' hive-init --session s1
}

# --- worker profile --------------------------------------------------------------------

@test "worker profile: the front matter of the real devops-worker.md" {
	printf '/Docs/hive-mind/** -text\n' >.gitattributes # marked already: nothing to say
	start s1
	assert_stderr_empty
	profile="$(jq -c .worker_profile "$(session_dir s1)/STATE.json")"
	assert_jq '.source == ".claude/agents/devops-worker.md" and .name == "devops-worker"
		and .type == "specialization" and .priority == "high"
		and .description == "Infrastructure, deployment, monitoring, and CI/CD pipeline specialist"
		and .tools == ["Bash","Read","Write","Edit","Grep","mcp__serena__search_for_pattern"]
		and .protocols == ["startup_protocol","logging_protocol","monitoring_protocol","completion_protocol"]' \
		"$profile"
	assert_equal "$(event_line "$(session_dir s1)/EVENTS.jsonl" 1 .details.worker_profile)" "$profile"
}

@test "worker profile: a comma-separated tools line (Claude Code's form) is a list; absent keys are null" {
	printf -- '---\nname: sre\ntools: Bash, Read,  Grep\n---\nbody\n' >.claude/agents/sre.md
	start s1 --worker sre
	profile="$(jq -c .worker_profile "$(session_dir s1)/STATE.json")"
	assert_jq '.tools == ["Bash","Read","Grep"] and .name == "sre" and .type == null
		and .priority == null and .protocols == null and .description == null' "$profile"
}

@test "--worker NAME reads <workers_dir>/NAME.md and records NAME as the worker" {
	printf -- '---\nname: sre\ntype: specialization\npriority: low\n---\n' >.claude/agents/sre.md
	start s1 --worker sre
	dir="$(session_dir s1)"
	assert_jq '.worker == "sre" and .worker_profile.source == ".claude/agents/sre.md"
		and .worker_profile.priority == "low"' "$(cat "$dir/STATE.json")"
	assert_equal "$(event_line "$dir/EVENTS.jsonl" 1 .worker)" '"sre"'
	assert_jq '.worker == "sre"' "$output"
}

@test ".hive.yml worker: and workers_dir: choose the profile" {
	mkdir agents
	printf -- '---\nname: platform\npriority: medium\n---\n' >agents/platform.md
	printf 'worker: platform\nworkers_dir: agents\n' >.hive.yml
	start s1
	assert_jq '.worker == "platform" and .worker_profile.source == "agents/platform.md"
		and .worker_profile.priority == "medium"' "$(cat "$(session_dir s1)/STATE.json")"
}

@test "the profile is found at the top of the work tree when run from a subdirectory" {
	cd infra
	start s1
	assert_jq '.worker_profile.name == "devops-worker"' "$(cat "$REPO/Docs/hive-mind/sessions/s1/STATE.json")"
}

@test "no worker file: worker_profile null and a warning on stderr, exit 0" {
	rm .claude/agents/devops-worker.md
	start s1
	assert_stderr --regexp '^hive-init: warning: .*\.claude/agents/devops-worker\.md'
	assert_jq '.worker_profile == null' "$(cat "$(session_dir s1)/STATE.json")"
	assert_equal "$(event_line "$(session_dir s1)/EVENTS.jsonl" 1 .details.worker_profile)" null
}

@test "broken front matter (YAML syntax) is exit 2 with FILE:LINE:COL and nothing created" {
	printf -- '---\nname: broken\ntools: [Bash, Read\npriority: high\n---\nbody\n' \
		>.claude/agents/devops-worker.md
	run_refused 2 '^hive-init: error: \.claude/agents/devops-worker\.md:[0-9]+:[0-9]+: ' \
		hive-init --session s1
}

@test "front matter with a wrong type is exit 2 at the value's line and column in the file" {
	printf -- '---\nname: x\ntype: [a, b]\n---\n' >.claude/agents/devops-worker.md
	run_refused 2 '^hive-init: error: \.claude/agents/devops-worker\.md:3:7: type' \
		hive-init --session s1
}

@test "front matter with bad indentation is exit 2 at its line in the file" {
	printf -- '---\nname: x\n  bad: indent\n---\n' >.claude/agents/devops-worker.md
	run_refused 2 '^hive-init: error: \.claude/agents/devops-worker\.md:3:[0-9]+: ' \
		hive-init --session s1
}

@test "a worker file without front matter is exit 2 at 1:1" {
	printf '# just markdown\n' >.claude/agents/devops-worker.md
	run_refused 2 'devops-worker\.md:1:1: .*front matter' hive-init --session s1
}

@test "front matter that is never closed is exit 2" {
	printf -- '---\nname: x\n' >.claude/agents/devops-worker.md
	run_refused 2 'devops-worker\.md:[0-9]+:[0-9]+: .*not closed' hive-init --session s1
}

@test "a bad --worker name is exit 2 and nothing is created" {
	run_refused 2 'worker' hive-init --session s1 --worker ../x
}

# --- requirements ----------------------------------------------------------------------

@test "requirements of the standard repository: terraform, docker, github_actions" {
	start s1
	assert_equal "$(requirements s1)" \
		'{"terraform":["infra/main.tf"],"docker":["Dockerfile"],"compose":[],"kubernetes":[],"helm":[],"github_actions":[".github/workflows/ci.yml"],"gitlab_ci":[],"pulumi":[]}'
}

@test "requirements: every kind, in index order, and nothing that does not match" {
	for f in modules/vpc/variables.tf Dockerfile.prod build/app.dockerfile services/api/Dockerfile \
		docker-compose.yml docker-compose.override.yaml compose.yaml deploy/compose.yml \
		k8s/deployment.yaml kubernetes/service.yaml manifests/configmap.yaml \
		charts/web/Chart.yaml .github/workflows/release.yaml .gitlab-ci.yml \
		Pulumi.yaml stacks/Pulumi.yml \
		README.md docs/k8s.md terraform.tfvars .github/workflows/README.md \
		.github/actions/setup/action.yml notes/Chart.yaml.bak; do
		mkdir -p "$(dirname "$f")"
		printf 'x\n' >"$f"
	done
	git add -A
	git commit -q -m 'every kind'
	start s1
	assert_equal "$(requirements s1)" "$(jq -c . <<-'EOF'
		{"terraform": ["infra/main.tf", "modules/vpc/variables.tf"],
		 "docker": ["Dockerfile", "Dockerfile.prod", "build/app.dockerfile", "services/api/Dockerfile"],
		 "compose": ["compose.yaml", "deploy/compose.yml", "docker-compose.override.yaml", "docker-compose.yml"],
		 "kubernetes": ["k8s/deployment.yaml", "kubernetes/service.yaml", "manifests/configmap.yaml"],
		 "helm": ["charts/web/Chart.yaml"],
		 "github_actions": [".github/workflows/ci.yml", ".github/workflows/release.yaml"],
		 "gitlab_ci": [".gitlab-ci.yml"],
		 "pulumi": ["Pulumi.yaml", "stacks/Pulumi.yml"]}
	EOF
	)"
	assert_equal "$(jq -c .requirements "$(session_dir s1)/STATE.json")" "$(requirements s1)"
}

@test "requirements come from the index: untracked files are not listed" {
	mkdir -p services/web k8s
	printf 'FROM scratch\n' >services/web/Dockerfile
	printf 'x\n' >extra.tf
	printf 'x\n' >compose.yaml
	printf 'x\n' >k8s/app.yaml
	start s1
	assert_jq '.docker == ["Dockerfile"] and .terraform == ["infra/main.tf"]
		and .compose == [] and .kubernetes == []' "$(requirements s1)"
}

@test "requirements come from the index: a staged file is listed, one removed from the index is not" {
	mkdir -p k8s
	printf 'x\n' >k8s/app.yaml
	git add k8s/app.yaml
	git rm -q --cached Dockerfile
	start s1
	assert_jq '.kubernetes == ["k8s/app.yaml"] and .docker == []' "$(requirements s1)"
	[ -f Dockerfile ]
}

@test "requirements of a repository with none of them are all empty lists" {
	git rm -q -r --cached infra Dockerfile .github
	start s1
	assert_equal "$(requirements s1)" "$EMPTY_REQS"
}

# --- --export and the CI hand-off ------------------------------------------------------

@test "--export sh prints only 'export HIVE_SESSION_ID=<id>', which a shell can eval" {
	run --separate-stderr hive-init --session s1 --export sh
	assert_success
	assert_output 'export HIVE_SESSION_ID=s1'
	eval "$output"
	assert_equal "$HIVE_SESSION_ID" s1
	[ -f "$(session_dir s1)/EVENTS.jsonl" ]
}

@test "--export github and --export gitlab print HIVE_SESSION_ID=<id>" {
	run --separate-stderr hive-init --session s1 --export github
	assert_success
	assert_output 'HIVE_SESSION_ID=s1'
	run --separate-stderr hive-init --session s1 --export gitlab
	assert_success
	assert_output 'HIVE_SESSION_ID=s1'
}

@test "--export on an existing session prints the same line and changes nothing" {
	start s1
	snapshot "$REPO"
	run --separate-stderr hive-init --session s1 --export sh
	assert_success
	assert_output 'export HIVE_SESSION_ID=s1'
	assert_unchanged "$REPO"
}

@test "--export with a generated id exports the id that was created" {
	run --separate-stderr hive-init --export sh
	assert_success
	[[ "$output" =~ ^export\ HIVE_SESSION_ID=([0-9]{8}T[0-9]{6}Z-[0-9a-f]{8})$ ]]
	assert_equal "$(only_session)" "${BASH_REMATCH[1]}"
}

@test "GitHub Actions: id gh-<run>-<attempt>, appended to \$GITHUB_ENV and \$GITHUB_OUTPUT" {
	export GITHUB_ACTIONS=true GITHUB_RUN_ID=8812 GITHUB_RUN_ATTEMPT=2
	export GITHUB_ENV="$BATS_TEST_TMPDIR/github_env" GITHUB_OUTPUT="$BATS_TEST_TMPDIR/github_output"
	printf 'EARLIER=1\n' >"$GITHUB_ENV"
	printf 'other=x\n' >"$GITHUB_OUTPUT"
	run --separate-stderr hive-init
	assert_success
	assert_jq '.session_id == "gh-8812-2" and .created == true' "$output"
	[ -f "$(session_dir gh-8812-2)/EVENTS.jsonl" ]
	assert_equal "$(cat "$GITHUB_ENV")" $'EARLIER=1\nHIVE_SESSION_ID=gh-8812-2'
	assert_equal "$(cat "$GITHUB_OUTPUT")" $'other=x\nsession_id=gh-8812-2'
	[ "$(tail -c 1 "$GITHUB_ENV" | od -An -tx1 | tr -d ' ')" = 0a ]
	assert_stderr --partial 'GITHUB_ENV'
}

@test "GitHub Actions: the files that do not exist yet are created" {
	export GITHUB_ACTIONS=true GITHUB_RUN_ID=1 GITHUB_RUN_ATTEMPT=1
	export GITHUB_ENV="$BATS_TEST_TMPDIR/env" GITHUB_OUTPUT="$BATS_TEST_TMPDIR/out"
	start gh-1-1
	assert_equal "$(cat "$GITHUB_ENV")" 'HIVE_SESSION_ID=gh-1-1'
	assert_equal "$(cat "$GITHUB_OUTPUT")" 'session_id=gh-1-1'
}

@test "GitHub Actions: --session is what is handed on" {
	export GITHUB_ACTIONS=true GITHUB_RUN_ID=8812 GITHUB_RUN_ATTEMPT=1
	export GITHUB_ENV="$BATS_TEST_TMPDIR/env" GITHUB_OUTPUT="$BATS_TEST_TMPDIR/out"
	start mine
	assert_equal "$(cat "$GITHUB_ENV")" 'HIVE_SESSION_ID=mine'
	assert_equal "$(cat "$GITHUB_OUTPUT")" 'session_id=mine'
}

@test "GitHub Actions: --export github still appends to \$GITHUB_ENV" {
	export GITHUB_ACTIONS=true GITHUB_RUN_ID=5 GITHUB_RUN_ATTEMPT=1
	export GITHUB_ENV="$BATS_TEST_TMPDIR/env"
	run --separate-stderr hive-init --export github
	assert_success
	assert_output 'HIVE_SESSION_ID=gh-5-1'
	assert_equal "$(cat "$GITHUB_ENV")" 'HIVE_SESSION_ID=gh-5-1'
}

@test "GitHub Actions: an unwritable \$GITHUB_ENV is exit 3 and no session is left behind" {
	: >"$BATS_TEST_TMPDIR/afile"
	export GITHUB_ACTIONS=true GITHUB_RUN_ID=8812 GITHUB_RUN_ATTEMPT=1
	export GITHUB_ENV="$BATS_TEST_TMPDIR/afile/env"
	run_refused 3 'afile/env' hive-init
	[ ! -e Docs ]
}

@test "GitHub Actions: an unwritable \$GITHUB_OUTPUT is exit 3 and \$GITHUB_ENV is left as it was" {
	: >"$BATS_TEST_TMPDIR/afile"
	export GITHUB_ACTIONS=true GITHUB_RUN_ID=8812 GITHUB_RUN_ATTEMPT=1
	export GITHUB_ENV="$BATS_TEST_TMPDIR/github_env"
	export GITHUB_OUTPUT="$BATS_TEST_TMPDIR/afile/out"
	printf 'EARLIER=1\n' >"$GITHUB_ENV"
	run_refused 3 'afile/out' hive-init
}

@test "GitLab CI: id gl-<pipeline>, hive.env (dotenv) written in \$CI_PROJECT_DIR" {
	export GITLAB_CI=true CI_PIPELINE_ID=4242 CI_PROJECT_DIR="$BATS_TEST_TMPDIR/project"
	mkdir "$CI_PROJECT_DIR"
	run --separate-stderr hive-init
	assert_success
	assert_jq '.session_id == "gl-4242" and .created == true' "$output"
	[ -f "$(session_dir gl-4242)/EVENTS.jsonl" ]
	assert_equal "$(cat "$CI_PROJECT_DIR/hive.env")" 'HIVE_SESSION_ID=gl-4242'
	run ls -A "$CI_PROJECT_DIR"
	assert_output hive.env
}

@test "GitLab CI: without CI_PROJECT_DIR, hive.env is written at the top of the work tree" {
	export GITLAB_CI=true CI_PIPELINE_ID=77
	cd infra
	start gl-77
	assert_equal "$(cat "$REPO/hive.env")" 'HIVE_SESSION_ID=gl-77'
}

@test "GitLab CI: an existing hive.env is replaced, not appended to" {
	export GITLAB_CI=true CI_PIPELINE_ID=77 CI_PROJECT_DIR="$BATS_TEST_TMPDIR"
	printf 'HIVE_SESSION_ID=old\n' >"$BATS_TEST_TMPDIR/hive.env"
	start gl-77
	assert_equal "$(cat "$BATS_TEST_TMPDIR/hive.env")" 'HIVE_SESSION_ID=gl-77'
}

@test "GitLab CI: an unwritable \$CI_PROJECT_DIR is exit 3 and no session is left behind" {
	: >"$BATS_TEST_TMPDIR/afile"
	export GITLAB_CI=true CI_PIPELINE_ID=4242 CI_PROJECT_DIR="$BATS_TEST_TMPDIR/afile"
	run_refused 3 'hive\.env' hive-init
	[ ! -e Docs ]
}

@test "outside GitHub and GitLab nothing is handed on" {
	export GITHUB_ENV="$BATS_TEST_TMPDIR/env" GITHUB_OUTPUT="$BATS_TEST_TMPDIR/out"
	start s1
	[ ! -e "$GITHUB_ENV" ] && [ ! -e "$GITHUB_OUTPUT" ] && [ ! -e hive.env ]
}

# --- session id resolution (SPEC 2.1) --------------------------------------------------

@test "session id: generated <UTC yyyymmddThhmmssZ>-<8 hex> when nothing names one" {
	before="$(date -u +%Y%m%dT%H%M%SZ)"
	run --separate-stderr hive-init
	assert_success
	after="$(date -u +%Y%m%dT%H%M%SZ)"
	id="$(jq -r .session_id <<<"$output")"
	[[ "$id" =~ ^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$ ]]
	[[ ! "${id%-*}" < "$before" && ! "${id%-*}" > "$after" ]]
	assert_equal "$(only_session)" "$id"
}

@test "session id: two runs without an id make two different sessions" {
	run --separate-stderr hive-init
	assert_success
	a="$(jq -r .session_id <<<"$output")"
	run --separate-stderr hive-init
	assert_success
	b="$(jq -r .session_id <<<"$output")"
	[ "$a" != "$b" ]
	assert_jq '.created == true' "$output"
}

@test "session id: HIVE_SESSION_ID is used" {
	HIVE_SESSION_ID=from-env run --separate-stderr hive-init
	assert_success
	assert_jq '.session_id == "from-env"' "$output"
}

@test "session id: --session wins over HIVE_SESSION_ID and the CI ids" {
	export HIVE_SESSION_ID=from-env GITHUB_ACTIONS=true GITHUB_RUN_ID=1 GITHUB_RUN_ATTEMPT=1
	export GITLAB_CI=true CI_PIPELINE_ID=2
	start from-flag
	assert_jq '.session_id == "from-flag"' "$output"
	assert_equal "$(only_session)" from-flag
}

@test "session id: HIVE_SESSION_ID wins over the CI ids" {
	export HIVE_SESSION_ID=from-env GITHUB_ACTIONS=true GITHUB_RUN_ID=1 GITHUB_RUN_ATTEMPT=1
	run --separate-stderr hive-init
	assert_success
	assert_jq '.session_id == "from-env"' "$output"
}

@test "session id: GitHub's id wins over GitLab's, GitLab's over a generated one" {
	export GITHUB_ACTIONS=true GITHUB_RUN_ID=10 GITHUB_RUN_ATTEMPT=3 GITLAB_CI=true CI_PIPELINE_ID=20
	export CI_PROJECT_DIR="$BATS_TEST_TMPDIR"
	run --separate-stderr hive-init
	assert_success
	assert_jq '.session_id == "gh-10-3"' "$output"
	unset GITHUB_ACTIONS
	run --separate-stderr hive-init
	assert_success
	assert_jq '.session_id == "gl-20"' "$output"
}

@test "session id: an empty HIVE_SESSION_ID counts as unset" {
	export HIVE_SESSION_ID=
	run --separate-stderr hive-init
	assert_success
	assert_jq '.session_id | test("^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$")' "$output"
}

@test "session id: GITHUB_ACTIONS=true without GITHUB_RUN_ID falls back to a generated id" {
	export GITHUB_ACTIONS=true
	run --separate-stderr hive-init
	assert_success
	assert_jq '.session_id | test("^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$")' "$output"
}

@test "session id: 128 characters is the longest accepted" {
	id="$(printf 'a%.0s' $(seq 128))"
	start "$id"
	[ -d "$(session_dir "$id")" ]
}

@test "session id: every allowed character class is accepted" {
	start A.b_C-9
	[ -d "$(session_dir A.b_C-9)" ]
}

# --- bad session ids: exit 2, a message, nothing created --------------------------------
# A NUL byte cannot be tested from here: argv strings and environment values are C strings,
# so no exec can carry a NUL inside --session or HIVE_SESSION_ID (bash drops it, execve
# ends the string there). The NUL rule is covered by the unit tests of hive_id_check.

@test "bad id: ../x is exit 2 and nothing is created" {
	run_refused 2 '^hive-init: error: --session: session id "\.\./x"' hive-init --session ../x
}

@test "bad id: a/b is exit 2 and nothing is created" {
	run_refused 2 '^hive-init: error: .*session id "a/b"' hive-init --session a/b
}

@test "bad id: empty --session is exit 2 and nothing is created" {
	run_refused 2 '^hive-init: error: .*session id is empty' hive-init --session ''
}

@test "bad id: a newline is exit 2 and nothing is created" {
	run_refused 2 '^hive-init: error: .*session id' hive-init --session $'a\nb'
}

@test "bad id: 129 characters is exit 2 and nothing is created" {
	run_refused 2 '^hive-init: error: .*session id is 129 characters' \
		hive-init --session "$(printf 'a%.0s' $(seq 129))"
}

@test "bad id: a leading . is exit 2 and nothing is created" {
	run_refused 2 "^hive-init: error: .*session id \"\\.hidden\" must not start with '\\.'" \
		hive-init --session .hidden
}

@test "bad id: .. is exit 2 and nothing is created" {
	run_refused 2 '^hive-init: error: .*session id' hive-init --session ..
}

@test "bad id: a leading - is exit 2 and nothing is created" {
	run_refused 2 "^hive-init: error: .*session id \"-x\" must not start with '-'" \
		hive-init --session=-x
}

@test "bad id: a space, a slash-free path trick and non-ASCII are exit 2" {
	run_refused 2 'session id' hive-init --session 'a b'
	run_refused 2 'session id' hive-init --session 'x\y'
	run_refused 2 'session id' hive-init --session 'caf'$'\xc3\xa9'
}

@test "bad id through HIVE_SESSION_ID is exit 2, names the variable, creates nothing" {
	HIVE_SESSION_ID=../x run_refused 2 '^hive-init: error: HIVE_SESSION_ID: ' hive-init
	HIVE_SESSION_ID=$'a\nb' run_refused 2 '^hive-init: error: HIVE_SESSION_ID: ' hive-init
	HIVE_SESSION_ID=-x run_refused 2 '^hive-init: error: HIVE_SESSION_ID: ' hive-init
	HIVE_SESSION_ID="$(printf 'a%.0s' $(seq 129))" \
		run_refused 2 '^hive-init: error: HIVE_SESSION_ID: ' hive-init
}

@test "bad id from the CI's variables is exit 2 and nothing is created" {
	export GITHUB_ACTIONS=true GITHUB_RUN_ID='1/../../x' GITHUB_RUN_ATTEMPT=1
	export GITHUB_ENV="$BATS_TEST_TMPDIR/env"
	run_refused 2 "^hive-init: error: .*CI.*session id" hive-init
	[ ! -e "$GITHUB_ENV" ]
}

# --- bad configuration: exit 2 with .hive.yml:LINE:COL:, nothing created -----------------

@test "config: an unknown key is exit 2 with .hive.yml:LINE:COL:" {
	printf 'root: x\nbogus: 1\n' >.hive.yml
	run_refused 2 '^hive-init: error: .*/\.hive\.yml:2:1: unknown key "bogus"' hive-init --session s1
}

@test "config: an unknown nested key is exit 2 with its line and column" {
	printf 'git:\n  dirty: true\n  fast: 1\n' >.hive.yml
	run_refused 2 '\.hive\.yml:3:3: unknown key "git\.fast"' hive-init --session s1
}

@test "config: a wrong type is exit 2 with .hive.yml:LINE:COL:" {
	printf 'git:\n  dirty: maybe\n' >.hive.yml
	run_refused 2 '\.hive\.yml:2:10: git\.dirty: ' hive-init --session s1
	printf 'root: [a, b]\n' >.hive.yml
	run_refused 2 '\.hive\.yml:1:7: root: ' hive-init --session s1
	printf 'events:\n  types: cost_reviewed\n' >.hive.yml
	run_refused 2 '\.hive\.yml:2:10: events\.types: ' hive-init --session s1
}

@test "config: a YAML syntax error is exit 2 with .hive.yml:LINE:COL:" {
	printf 'root: [unclosed\n' >.hive.yml
	run_refused 2 '^hive-init: error: .*/\.hive\.yml:[0-9]+:[0-9]+: ' hive-init --session s1
	printf 'root: x\n\tworker: y\n' >.hive.yml
	run_refused 2 '\.hive\.yml:2:[0-9]+: ' hive-init --session s1
}

@test "config: a worker: that is not a valid name is exit 2 and nothing is created" {
	printf 'worker: ../../etc/passwd\n' >.hive.yml
	run_refused 2 '^hive-init: error: worker ' hive-init --session s1
}

@test "config: --config names another file, whose errors name it" {
	printf 'bogus: 1\n' >ops.yml
	run_refused 2 '^hive-init: error: ops\.yml:1:1: unknown key' hive-init --session s1 --config ops.yml
}

@test "config: a --config file that does not exist is exit 2" {
	run_refused 2 'nope\.yml' hive-init --session s1 --config nope.yml
}

@test "config: HIVE_CONFIG names the file" {
	printf 'root: from-hive-config\n' >ops.yml
	HIVE_CONFIG=ops.yml start s1
	[ -d from-hive-config/sessions/s1 ]
}

@test "config: a good .hive.yml with every section is accepted" {
	cat >.hive.yml <<-'EOF'
		root: Docs/hive-mind
		worker: devops-worker
		workers_dir: .claude/agents
		git:
		  dirty: true
		events:
		  types: [cost_reviewed]
		  platforms: [OnPrem, Hetzner]
		redact:
		  keys: [password, secret, token]
		  patterns: ['corp_[A-Za-z0-9]{32}']
		policy:
		  require_clean_tree: [infrastructure_provisioned, deployment_configured]
		  require_ci: [deployment_configured]
		  require_tags: [team, cost-center]
		  require_events: [security_hardened]
		  require_rollback: true
		  max_session_minutes: 10
	EOF
	start s1
	[ -f "$(session_dir s1)/STATE.json" ]
}

# --- bad flags -------------------------------------------------------------------------

@test "flags: an unknown long option is exit 2 and nothing is created" {
	run_refused 2 '^hive-init: error: unknown option --bogus' hive-init --bogus
}

@test "flags: an unknown short option is exit 2 and nothing is created" {
	run_refused 2 '^hive-init: error: unknown option -x' hive-init -x
}

@test "flags: --export bogus is exit 2 and nothing is created" {
	run_refused 2 '^hive-init: error: --export: "bogus" is not one of sh, github, gitlab' \
		hive-init --session s1 --export bogus
}

@test "flags: a missing argument is exit 2 and nothing is created" {
	run_refused 2 '^hive-init: error: --export: needs a value' hive-init --export
	run_refused 2 '^hive-init: error: --session: needs a value' hive-init --session
	run_refused 2 '^hive-init: error: -C: needs a value' hive-init -C
}

@test "flags: an operand is exit 2 and nothing is created" {
	run_refused 2 '^hive-init: error: unexpected argument stray' hive-init --session s1 stray
}

@test "flags: -C to a folder that does not exist is exit 2" {
	run_refused 2 '^hive-init: error: -C .*nowhere' hive-init -C "$BATS_TEST_TMPDIR/nowhere" --session s1
}

@test "--help prints usage on stdout, exit 0, creates nothing" {
	snapshot "$BATS_TEST_TMPDIR"
	run --separate-stderr hive-init --help
	assert_success
	assert_line --index 0 --regexp '^usage: hive-init '
	assert_output --partial '--export'
	assert_stderr_empty
	run --separate-stderr hive-init -h
	assert_success
	assert_line --index 0 --regexp '^usage: hive-init '
	assert_unchanged "$BATS_TEST_TMPDIR"
}

@test "--help wins over a bad session id and a bad config" {
	printf 'bogus: 1\n' >.hive.yml
	run --separate-stderr hive-init --session ../x --help
	assert_success
	assert_line --index 0 --regexp '^usage: hive-init '
}

@test "--version prints the version, exit 0, creates nothing" {
	snapshot "$BATS_TEST_TMPDIR"
	run --separate-stderr hive-init --version
	assert_success
	assert_output --regexp '^hive-init [0-9]+\.[0-9]+\.[0-9]+(-[0-9]+-g[0-9a-f]+)?(-dirty)?$'
	assert_stderr_empty
	assert_unchanged "$BATS_TEST_TMPDIR"
}

# --- -C, --root, HIVE_ROOT -------------------------------------------------------------

@test "-C DIR runs as if started in DIR" {
	cd "$BATS_TEST_TMPDIR"
	run --separate-stderr hive-init -C repo --session s1
	assert_success
	assert_jq '.dir == $d' "$output" --arg d "$REPO/Docs/hive-mind/sessions/s1"
	[ -f "$REPO/Docs/hive-mind/sessions/s1/EVENTS.jsonl" ]
	[ ! -e "$BATS_TEST_TMPDIR/Docs" ]
	assert_equal "$(event_line "$REPO/Docs/hive-mind/sessions/s1/EVENTS.jsonl" 1 .details.requirements.docker)" '["Dockerfile"]'
}

@test "the default root is Docs/hive-mind at the top of the work tree, also from a subdirectory" {
	cd "$BATS_TEST_TMPDIR"
	start s1 -C repo/infra
	[ -f "$REPO/Docs/hive-mind/sessions/s1/STATE.json" ]
	[ ! -e "$REPO/infra/Docs" ]
}

@test "--root DIR (relative to the working directory) holds the sessions" {
	cd infra
	start s1 --root hive
	assert_jq '.dir == $d' "$output" --arg d "$REPO/infra/hive/sessions/s1"
	[ -f "$REPO/infra/hive/sessions/s1/EVENTS.jsonl" ]
	[ ! -e "$REPO/Docs" ]
}

@test "--root with an absolute path inside the work tree" {
	cd infra
	start s1 --root "$REPO/central"
	[ -f "$REPO/central/sessions/s1/EVENTS.jsonl" ]
	[ ! -e "$REPO/Docs" ]
}

@test "a root outside the work tree is exit 2 in every tool, whatever names it, and nothing is made (SPEC 9)" {
	local t
	local -a args
	: >"$BATS_TEST_TMPDIR/afile"
	for t in hive-init hive-emit hive-check hive-runbook; do
		args=("$t" --session s1)
		[[ "$t" != hive-emit ]] ||
			args+=(monitoring_added --resource a --action create --platform K8s --status success)
		run_refused 2 "^$t: error: --root $BATS_TEST_TMPDIR/central is outside the work tree $REPO: sessions there are in no commit" \
			"${args[@]}" --root "$BATS_TEST_TMPDIR/central"
		run_refused 2 "^$t: error: HIVE_ROOT $REPO/\\.\\./up is outside the work tree" \
			env HIVE_ROOT="$REPO/../up" "${args[@]}"
		run_refused 2 "^$t: error: --root $BATS_TEST_TMPDIR/afile/sub is outside the work tree" \
			"${args[@]}" --root "$BATS_TEST_TMPDIR/afile/sub"
		run_refused 2 "^$t: error: --root $REPO/\\.git/hive is inside \\.git" \
			"${args[@]}" --root "$REPO/.git/hive"
	done
	printf 'root: Docs/../../elsewhere\n' >.hive.yml
	run_refused 2 "^hive-init: error: root: in $REPO/\\.hive\\.yml, $REPO/Docs/\\.\\./\\.\\./elsewhere is outside the work tree" \
		hive-init --session s1
	# a folder on the way that is a symbolic link out of the work tree counts as outside
	rm .hive.yml
	mkdir "$BATS_TEST_TMPDIR/out"
	ln -s "$BATS_TEST_TMPDIR/out" Docs
	run_refused 2 "^hive-init: error: the default root $REPO/Docs/hive-mind is outside the work tree" \
		hive-init --session s1
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/out")" ]
	[ ! -e "$BATS_TEST_TMPDIR/central" ] && [ ! -e "$BATS_TEST_TMPDIR/up" ]
}

@test "outside a repository any root is fine: there is no work tree to hold it in" {
	mkdir "$BATS_TEST_TMPDIR/plain"
	cd "$BATS_TEST_TMPDIR/plain"
	start s1 --root "$BATS_TEST_TMPDIR/central"
	[ -f "$BATS_TEST_TMPDIR/central/sessions/s1/EVENTS.jsonl" ]
}

@test "HIVE_ROOT sets the root; --root wins over it" {
	HIVE_ROOT="$REPO/env-root" start s1
	[ -d "$REPO/env-root/sessions/s1" ]
	HIVE_ROOT="$REPO/env-root" start s2 --root "$REPO/flag-root"
	[ -d "$REPO/flag-root/sessions/s2" ]
	[ ! -e "$REPO/env-root/sessions/s2" ]
}

@test ".hive.yml root: is relative to the top of the work tree; HIVE_ROOT wins over it" {
	printf 'root: ops/hive\n' >.hive.yml
	cd infra
	start s1
	[ -d "$REPO/ops/hive/sessions/s1" ]
	HIVE_ROOT="$REPO/env-root" start s2
	[ -d "$REPO/env-root/sessions/s2" ]
}

# --- environment failures: exit 3, nothing left behind ----------------------------------

@test "a root that cannot be created (under a regular file) is exit 3, nothing left behind" {
	: >afile
	run_refused 3 '^hive-init: error: .*afile' hive-init --session s1 --root "$REPO/afile/sub"
}

@test "a root that is a regular file is exit 3" {
	: >afile
	run_refused 3 '^hive-init: error: .*afile' hive-init --session s1 --root "$REPO/afile"
}

@test "a sessions entry that is a regular file is exit 3" {
	mkdir -p Docs/hive-mind
	: >Docs/hive-mind/sessions
	run_refused 3 '^hive-init: error: .*sessions: not a directory' hive-init --session s1
}

@test "a read-only root is exit 3 with nothing left behind" {
	# root writes through chmod 555, so as root (CI) the tool runs as nobody, in a
	# folder nobody can reach (the bats temporary folders are private to root)
	local top as=()
	top=$(mktemp -d /tmp/hive-ro.XXXXXX)
	chmod 755 "$top"
	mkdir -p "$top/ro"
	chmod 555 "$top/ro"
	if [ "$(id -u)" -eq 0 ]; then
		as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	fi
	snapshot "$top"
	cd "$top"
	run --separate-stderr "${as[@]}" "$(command -v hive-init)" --session s1 --root "$top/ro"
	assert_unchanged "$top"
	chmod 755 "$top/ro"
	rm -rf "$top"
	assert_equal "$status" 3
	assert_equal "$output" ""
	assert_stderr --partial "hive-init: error: $top/ro/sessions: Permission denied"
}

# --- .gitattributes: the root is -text (SPEC 9) -----------------------------------------

@test ".gitattributes: hive-init marks the root -text once, says so, keeps what was there" {
	printf '*.png binary' >.gitattributes # no final newline
	start s1
	assert_stderr --partial "hive-init: added '/Docs/hive-mind/** -text' to .gitattributes"
	assert_equal "$(cat .gitattributes)" "*.png binary
# hive: event logs are hashed byte for byte; git must not touch their line endings
/Docs/hive-mind/** -text"
	cp .gitattributes "$BATS_TEST_TMPDIR/attr"
	start s2
	[[ "$stderr" != *.gitattributes* ]] || fail "a second hive-init spoke of .gitattributes: $stderr"
	cmp .gitattributes "$BATS_TEST_TMPDIR/attr"
	# the line is found with other spacing too, and -q says nothing
	printf '  /Docs/hive-mind/** -text  \n' >.gitattributes
	run --separate-stderr hive-init -q --session s3
	assert_success
	assert_equal "$(cat .gitattributes)" '  /Docs/hive-mind/** -text  '
}

@test ".gitattributes: a root outside the work tree is refused before it is touched; no repository leaves it alone" {
	run_refused 2 'outside the work tree' hive-init --session s1 --root "$BATS_TEST_TMPDIR/elsewhere"
	[ ! -e .gitattributes ]
	mkdir "$BATS_TEST_TMPDIR/plain"
	cd "$BATS_TEST_TMPDIR/plain"
	start s2
	[ ! -e .gitattributes ]
}

@test ".gitattributes that is a symbolic link: exit 3, no session, nothing changed" {
	printf '*.png binary\n' >"$BATS_TEST_TMPDIR/target"
	ln -s "$BATS_TEST_TMPDIR/target" .gitattributes
	snapshot "$REPO"
	run_refused 3 'hive-init: error: .*/.gitattributes: cannot mark the hive root -text' \
		hive-init --session s1
	assert_unchanged "$REPO"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/target")" '*.png binary'
}

@test ".gitattributes: with core.autocrlf=true, a fresh clone keeps every log byte for byte" {
	local remote="$BATS_TEST_TMPDIR/remote.git"
	start s1
	hive-emit -q --session s1 pipeline_updated --resource ci --action update \
		--platform Docker --status success >/dev/null
	git add -A . && git commit -q -m 'session s1'
	git init -q --bare "$remote"
	git push -q "$remote" main
	git -c core.autocrlf=true clone -q "$remote" "$BATS_TEST_TMPDIR/crlf"
	cmp "$(session_dir s1)/EVENTS.jsonl" \
		"$BATS_TEST_TMPDIR/crlf/Docs/hive-mind/sessions/s1/EVENTS.jsonl"
	run hive-check -C "$BATS_TEST_TMPDIR/crlf" --session s1
	assert_success
	# without the attribute git rewrites the line endings, and every chain breaks
	git rm -q --cached .gitattributes && rm .gitattributes && git commit -q -m 'no attributes'
	git push -q "$remote" main
	git -c core.autocrlf=true clone -q "$remote" "$BATS_TEST_TMPDIR/crlf2"
	run hive-check -C "$BATS_TEST_TMPDIR/crlf2" --session s1
	assert_failure
}

@test "a policy that names session_started is held at write time: exit 1, no session made" {
	printf 'policy:\n  require_ci: [session_started]\n' >.hive.yml
	run_refused 1 'event 1 \(session_started\) breaks 1 policy of the configuration, so nothing was written:
  policy\.require_ci: session_started was recorded outside CI' hive-init --session s1
	[ ! -e Docs/hive-mind/sessions/s1 ]
	CI=true start s1
	[ -f "$(session_dir s1)/EVENTS.jsonl" ]
}

@test "a stale HIVE_SESSION_ID naming a completed session: hive-init and hive-emit both say to unset it (no loop)" {
	start done1
	hive-runbook -q --session done1 --finish >/dev/null
	HIVE_SESSION_ID=done1 run --separate-stderr hive-init
	assert_success
	assert_jq '.session_id == "done1" and .status == "completed" and .created == false' "$output"
	assert_stderr --partial 'hive-init: warning: session done1 is completed: no more events can be added to it (HIVE_SESSION_ID names it: unset it and run hive-init again for a new session)'
	HIVE_SESSION_ID=done1 run_refused 2 '^hive-emit: error: session done1 is completed: no more events can be added \(HIVE_SESSION_ID still names it: unset it, then run hive-init to start a new session\)$' \
		hive-emit monitoring_added --resource a --action create --platform K8s --status success
	# what the messages say works: a new session
	run --separate-stderr hive-init
	assert_success
	assert_jq '.created == true and .session_id != "done1"' "$output"
}
