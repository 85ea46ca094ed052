#!/usr/bin/env bats
# tests/bats/agent.bats - agents recording themselves: hive-emit --from claude-code|codex (SPEC 12)
# and hive-init --install-agent-hooks
#
# The payloads are the JSON Claude Code hands a hook command on stdin (session_id,
# transcript_path, cwd, hook_event_name and the event's own fields). The agent is never
# blocked by hive's failures (exit 0, message on stderr, files unchanged); only
# policy.agent_require_session refuses a PreToolUse (exit 2, the reason on stderr).

# Single-quoted jq programs use jq's $variables; bats runs each test in a subshell.
# shellcheck disable=SC2016,SC2030,SC2031

load test_helper

SID=9f3c2a71-5d0e-4c55-8a5b-0c2e4f9d1a10

setup() {
	hive_setup || return 1
	REPO="$BATS_TEST_TMPDIR/repo"
	make_repo "$REPO"
	REPO="$(cd "$REPO" && pwd -P)"
	cd "$REPO" || return 1
	LOG="$(session_dir "claude-$SID")/EVENTS.jsonl"
}

# payload EVENT [JQ [JQ ARGS…]]: a Claude Code hook payload for session $SID, changed by JQ.
payload() {
	local ev=$1 prog=${2:-.}
	shift
	shift || true
	jq -cn --arg sid "$SID" --arg cwd "$REPO" --arg ev "$ev" "$@" \
		'{session_id: $sid, transcript_path: "/home/u/.claude/projects/x/\($sid).jsonl",
		  cwd: $cwd, hook_event_name: $ev} | '"$prog"
}

# hook EVENT [JQ [JQ ARGS…]]: run hive-emit --from claude-code on that payload (run --separate-stderr).
hook() {
	run --separate-stderr bash -c 'printf "%s\n" "$1" | hive-emit --from claude-code' _ "$(payload "$@")"
}

bash_call() {
	hook PostToolUse '.tool_name = "Bash" | .tool_input = {command: $c, description: "d"} |
		.tool_use_id = "toolu_01" | .tool_response = {stdout: "ok", stderr: "", interrupted: false}' --arg c "$1"
}

@test "SessionStart starts the session claude-<session_id>: hive-init's session, the id handed to the agent" {
	export CLAUDE_ENV_FILE="$BATS_TEST_TMPDIR/claude.env"
	hook SessionStart '.source = "startup"'
	assert_success
	assert_jq '.hookSpecificOutput.hookEventName == "SessionStart" and
		(.hookSpecificOutput.additionalContext | contains("claude-" + $s))' "$output" --arg s "$SID"
	[[ $(wc -l <"$LOG") -eq 1 ]]
	assert_jq '.event_type == "session_started" and .session_id == "claude-" + $s and .worker == "devops-worker"' \
		"$(event_line "$LOG" 1)" --arg s "$SID"
	[[ $(cat "$CLAUDE_ENV_FILE") == "export HIVE_SESSION_ID=claude-$SID" ]]
	run --separate-stderr hive-check --session "claude-$SID"
	assert_success
}

@test "SessionStart again (resume, clear, compact) rejoins the same session: nothing appended" {
	hook SessionStart '.source = "startup"'
	assert_success
	cp "$LOG" before
	for src in resume compact clear; do
		hook SessionStart ".source = \"$src\""
		assert_success
	done
	cmp before "$LOG"
}

@test "PostToolUse is a tool_used event: the command, redacted; the response never stored" {
	hook SessionStart '.source = "startup"'
	hook PostToolUse '.tool_name = "Bash" | .tool_input = {command: "curl -H \"Authorization: Bearer x\" https://ci.example.com?t=ghp_0123456789abcdefghijklmnopqrstuvwxyz", description: "call ci"} |
		.tool_use_id = "toolu_01" | .tool_response = {stdout: "RESPONSE-MARKER-42", stderr: "", interrupted: false}'
	assert_success
	assert_output ''
	assert_stderr --partial 'redacted'
	[[ $(wc -l <"$LOG") -eq 2 ]]
	line=$(event_line "$LOG" 2)
	assert_jq '.event_type == "tool_used" and .details.resource == "Bash" and .details.status == "success"
		and .details.configuration.agent == "claude-code" and .details.configuration.hook == "PostToolUse"
		and .details.configuration.tool_use_id == "toolu_01" and .details.configuration.input_truncated == false
		and (.details.configuration.input | startswith("curl -H")) and (.details.configuration.input | contains("[REDACTED"))' "$line"
	! grep -q 'ghp_0123456789' "$LOG"
	! grep -q 'RESPONSE-MARKER-42' "$LOG"
	run --separate-stderr hive-check --session "claude-$SID"
	assert_success
}

@test "PostToolUseFailure is a failed tool_used with the error, redacted and cut" {
	hook SessionStart '.source = "startup"'
	hook PostToolUseFailure '.tool_name = "Bash" | .tool_input = {command: "terraform plan"} | .tool_use_id = "toolu_02" |
		.error = ("Error: token glpat-abcdefghij0123456789 rejected " + ("e" * 3000))'
	assert_success
	line=$(event_line "$LOG" 2)
	assert_jq '.details.status == "failure" and .details.configuration.hook == "PostToolUseFailure"
		and (.details.configuration.error | startswith("Error: token [REDACTED:"))
		and (.details.configuration.error | utf8bytelength) <= 1024
		and (.details.configuration.error | endswith("\u2026"))' "$line"
	! grep -q 'glpat-abcdefghij' "$LOG"
}

@test "tool inputs: file path, url, pattern; any other tool's input as compact JSON with secret keys redacted" {
	hook SessionStart '.source = "startup"'
	hook PostToolUse '.tool_name = "Write" | .tool_input = {file_path: "/repo/infra/main.tf", content: "CONTENT-MARKER"}'
	hook PostToolUse '.tool_name = "WebFetch" | .tool_input = {url: "https://example.com/doc", prompt: "p"}'
	hook PostToolUse '.tool_name = "Grep" | .tool_input = {pattern: "aws_.*", path: "infra"}'
	hook PostToolUse '.tool_name = "mcp__db__query" | .tool_input = {sql: "select 1", password: "hunter2"}'
	assert_success
	run jq -r '.details.configuration.input' "$LOG"
	assert_output "$(printf '%s\n' null /repo/infra/main.tf https://example.com/doc 'aws_.*' '{"sql":"select 1","password":"[REDACTED]"}')"
	! grep -q 'CONTENT-MARKER\|hunter2' "$LOG"
}

@test "a long input is cut to 1024 bytes at a character boundary, its whole size kept" {
	hook SessionStart '.source = "startup"'
	bash_call "echo $(printf 'é%.0s' $(seq 3000))"
	assert_success
	line=$(event_line "$LOG" 2)
	assert_jq '.details.configuration.input_truncated == true and .details.configuration.input_bytes == 6005
		and (.details.configuration.input | utf8bytelength) <= 1024
		and (.details.configuration.input | utf8bytelength) > 1000
		and (.details.configuration.input | endswith("é\u2026"))' "$line"
}

@test "a 512 KiB tool_response is parsed, never stored: the line stays small" {
	hook SessionStart '.source = "startup"'
	head -c 524288 /dev/zero | tr '\0' x >big.txt
	payload PostToolUse '.tool_name = "Bash" | .tool_input = {command: "kubectl logs deploy/api"}' |
		jq -c --rawfile big big.txt '.tool_response = {stdout: $big, stderr: "", interrupted: false}' >big.json
	[[ $(wc -c <big.json) -gt 524288 ]]
	run --separate-stderr hive-emit --from claude-code <big.json
	assert_success
	[[ $(sed -n 2p "$LOG" | wc -c) -lt 2000 ]]
	! grep -q xxxxxxxx "$LOG"
}

@test "a tool call before any SessionStart (hooks installed mid-session) starts the session first" {
	bash_call 'ls'
	assert_success
	run jq -r .event_type "$LOG"
	assert_output $'session_started\ntool_used'
}

@test "SessionEnd finishes the session; later calls change nothing and never block" {
	hook SessionStart '.source = "startup"'
	bash_call 'make deploy'
	hook SessionEnd '.reason = "prompt_input_exit"'
	assert_success
	dir=$(session_dir "claude-$SID")
	[[ -f $dir/METRICS.json && -f $dir/RUNBOOK.md && -f $dir/CHECKPOINT ]]
	assert_jq '.status == "completed"' "$(cat "$dir/STATE.json")"
	run --separate-stderr hive-check --session "claude-$SID"
	assert_success
	snapshot "$BATS_TEST_TMPDIR"
	bash_call 'ls'
	assert_success
	assert_stderr --partial 'completed'
	hook SessionEnd '.reason = "other"'
	assert_success
	assert_unchanged "$BATS_TEST_TMPDIR"
}

@test "Stop, UserPromptSubmit and Notification record nothing" {
	hook SessionStart '.source = "startup"'
	cp "$LOG" before
	for ev in Stop UserPromptSubmit Notification SubagentStop; do
		hook "$ev" '.stop_hook_active = false'
		assert_success
		assert_output ''
	done
	cmp before "$LOG"
}

# agent_refused PAYLOAD ERE: hive-emit --from claude-code on PAYLOAD exits 0 (the agent goes on),
# says ERE on stderr, prints nothing and changes nothing.
agent_refused() {
	snapshot "$BATS_TEST_TMPDIR"
	run --separate-stderr bash -c 'printf "%s" "$1" | hive-emit --from claude-code' _ "$1"
	assert_success
	assert_output ''
	assert_stderr --regexp "$2"
	assert_unchanged "$BATS_TEST_TMPDIR"
}

@test "a bad payload never blocks the agent: exit 0, the error on stderr, nothing written" {
	hook SessionStart '.source = "startup"'
	agent_refused 'not json' 'hive-emit: error: claude-code hook payload \(the agent goes on\): the hook payload on stdin is not JSON'
	agent_refused '[1,2]' 'not an object'
	agent_refused '{"session_id":"a"}' 'hook_event_name: missing'
	agent_refused '{"hook_event_name":"PostToolUse"}' 'session_id: missing'
	agent_refused '{"session_id":"../x","hook_event_name":"SessionStart"}' 'session_id'
	agent_refused '{"session_id":"ghp_0123456789abcdefghijklmnopqrstuvwxyz","hook_event_name":"SessionStart"}' 'secret'
	refute_output --partial 'ghp_0123'
	agent_refused "{\"session_id\":\"$SID\",\"hook_event_name\":\"PostToolUse\"}" 'tool_name: missing'
	agent_refused "{\"session_id\":\"$SID\",\"hook_event_name\":\"PostToolUse\",\"tool_name\":\"Bash\",\"a\":1,\"a\":2}" 'duplicate key'
	# a broken configuration, too
	printf 'policy: [\n' >.hive.yml
	git add .hive.yml
	snapshot "$BATS_TEST_TMPDIR"
	bash_call 'ls'
	assert_success
	assert_stderr --partial '.hive.yml'
	assert_unchanged "$BATS_TEST_TMPDIR"
	# and a command line the hook was given wrong
	run --separate-stderr bash -c 'echo {} | hive-emit --from bogus'
	assert_success
	assert_stderr --partial '--from: "bogus" is not one of claude-code, codex'
	run --separate-stderr bash -c 'echo {} | hive-emit --from claude-code deployment_configured'
	assert_success
	assert_stderr --partial 'no EVENT_TYPE'
}

@test "PreToolUse: policy.agent_require_session refuses a matching call unless the session is active (exit 2)" {
	printf '%s\n' 'policy:' "  agent_require_session: ['terraform +(apply|destroy)', '^Write .*\\.tf\$']" >.hive.yml
	snapshot "$BATS_TEST_TMPDIR"
	hook PreToolUse '.tool_name = "Bash" | .tool_input = {command: "terraform apply -auto-approve"}'
	assert_failure 2
	assert_output ''
	assert_stderr --partial 'refused: Bash call matches policy.agent_require_session'
	assert_stderr --partial "claude-$SID is not active"
	hook PreToolUse '.tool_name = "Write" | .tool_input = {file_path: "infra/main.tf", content: "x"}'
	assert_failure 2
	# a call the patterns do not name goes on
	hook PreToolUse '.tool_name = "Bash" | .tool_input = {command: "terraform plan"}'
	assert_success
	assert_stderr_empty
	assert_unchanged "$BATS_TEST_TMPDIR"
	# with the session active the same call goes on, and PreToolUse records nothing
	hook SessionStart '.source = "startup"'
	cp "$LOG" before
	hook PreToolUse '.tool_name = "Bash" | .tool_input = {command: "terraform apply -auto-approve"}'
	assert_success
	cmp before "$LOG"
	# finished: refused again
	hook SessionEnd '.reason = "other"'
	hook PreToolUse '.tool_name = "Bash" | .tool_input = {command: "terraform destroy"}'
	assert_failure 2
}

@test "PreToolUse without a policy goes on and touches nothing" {
	snapshot "$BATS_TEST_TMPDIR"
	hook PreToolUse '.tool_name = "Bash" | .tool_input = {command: "terraform apply"}'
	assert_success
	assert_output ''
	assert_unchanged "$BATS_TEST_TMPDIR"
}

@test "--from codex: the session is codex-<session_id>; --session names another; cwd says where" {
	mkdir elsewhere
	cd elsewhere
	run --separate-stderr bash -c 'printf "%s\n" "$1" | hive-emit --from codex' _ "$(payload SessionStart '.source = "startup"')"
	assert_success
	[[ -f "$(session_dir "codex-$SID" "$REPO/Docs/hive-mind")/EVENTS.jsonl" ]]
	run --separate-stderr bash -c 'printf "%s\n" "$1" | hive-emit --from claude-code --session team-7' _ \
		"$(payload PostToolUse '.tool_name = "Bash" | .tool_input = {command: "ls"}')"
	assert_success
	run jq -r .event_type "$(session_dir team-7 "$REPO/Docs/hive-mind")/EVENTS.jsonl"
	assert_output $'session_started\ntool_used'
	[[ ! -e "$REPO/elsewhere/Docs" ]]
}

# --- hive-init --install-agent-hooks ---------------------------------------------------

@test "--install-agent-hooks writes .claude/settings.json with hive's hook on the five events; no session" {
	run --separate-stderr hive-init --install-agent-hooks
	assert_success
	assert_jq '.agent_hooks.result == "installed" and .agent_hooks.added == 5 and .agent_hooks.kept == 0
		and (has("session_id") | not)' "$output"
	f=.claude/settings.json
	assert_jq '[.hooks | to_entries[] | .key] == ["SessionStart","PreToolUse","PostToolUse","PostToolUseFailure","SessionEnd"]' "$(cat $f)"
	assert_jq '[.hooks[][] | .hooks[] | .command] | unique == ["hive-emit --from claude-code"]' "$(cat $f)"
	assert_jq '.hooks.PostToolUse[0].matcher == "*" and (.hooks.SessionStart[0] | has("matcher") | not)' "$(cat $f)"
	[[ ! -e Docs ]]
	# two-space JSON, one member a line
	grep -q '^  "hooks": {$' $f
}

@test "--install-agent-hooks keeps every key and hook there, and a second run writes nothing" {
	mkdir -p .claude
	cat >.claude/settings.json <<-'EOF'
		{
		  "permissions": {"allow": ["Bash(npm run lint)"], "deny": []},
		  "env": {"X": "1"},
		  "hooks": {
		    "PostToolUse": [{"matcher": "Edit|Write", "hooks": [{"type": "command", "command": "prettier --write", "timeout": 30}]}],
		    "Stop": [{"hooks": [{"type": "command", "command": "notify-send done"}]}]
		  }
		}
	EOF
	old=$(jq -c . .claude/settings.json)
	run --separate-stderr hive-init --install-agent-hooks
	assert_success
	assert_jq '.agent_hooks.result == "merged" and .agent_hooks.added == 5 and .agent_hooks.kept == 2' "$output"
	new=$(jq -c . .claude/settings.json)
	# what was there is still there, in its place
	assert_jq '.permissions == $o.permissions and .env == $o.env and .hooks.Stop == $o.hooks.Stop
		and .hooks.PostToolUse[0] == $o.hooks.PostToolUse[0]
		and .hooks.PostToolUse[1].hooks[0].command == "hive-emit --from claude-code"
		and (keys_unsorted == ["permissions","env","hooks"])' "$new" --argjson o "$old"
	ino=$(stat -c %i .claude/settings.json)
	snapshot "$BATS_TEST_TMPDIR"
	run --separate-stderr hive-init --install-agent-hooks
	assert_success
	assert_jq '.agent_hooks.result == "unchanged" and .agent_hooks.added == 0' "$output"
	assert_stderr --partial 'already there'
	assert_unchanged "$BATS_TEST_TMPDIR"
	[[ $(stat -c %i .claude/settings.json) == "$ino" ]]
}

@test "--install-agent-hooks with a session id starts it too; the installed hooks then record it" {
	run --separate-stderr hive-init --session s1 --install-agent-hooks
	assert_success
	assert_jq '.session_id == "s1" and .created == true and .agent_hooks.result == "installed"' "$output"
	# the command the file names, run as Claude Code runs it
	cmd=$(jq -r '.hooks.PostToolUse[0].hooks[0].command' .claude/settings.json)
	run --separate-stderr bash -c "printf '%s\n' \"\$1\" | $cmd" _ "$(payload PostToolUse '.tool_name = "Bash" | .tool_input = {command: "ls"}')"
	assert_success
	assert_jq '.event_type == "tool_used"' "$(event_line "$LOG" 2)"
}

@test "--install-agent-hooks refuses a settings.json it cannot merge, and changes nothing" {
	mkdir -p .claude
	printf '{"hooks": [1]}\n' >.claude/settings.json
	run_refused 2 'settings.json: "hooks" is not an object' hive-init --install-agent-hooks
	printf '{"hooks": {"PreToolUse": {"x": 1}}}\n' >.claude/settings.json
	run_refused 2 'hooks.PreToolUse is not an array' hive-init --install-agent-hooks
	printf '{"hooks": {"PreToolUse": [{"matcher": "*"}]}}\n' >.claude/settings.json
	run_refused 2 'hooks.PreToolUse: every matcher group' hive-init --install-agent-hooks
	printf '{"a": 1,}\n' >.claude/settings.json
	run_refused 2 'settings.json: not strict JSON' hive-init --install-agent-hooks
	printf '[]\n' >.claude/settings.json
	run_refused 2 'not a JSON object' hive-init --install-agent-hooks
	# nothing is followed: a linked settings.json or .claude
	printf '{}\n' >"$BATS_TEST_TMPDIR/target.json"
	rm .claude/settings.json
	ln -s "$BATS_TEST_TMPDIR/target.json" .claude/settings.json
	run_refused 3 'settings.json' hive-init --install-agent-hooks
	rm -r .claude
	mkdir "$BATS_TEST_TMPDIR/claude-dir"
	ln -s "$BATS_TEST_TMPDIR/claude-dir" .claude
	run_refused 3 '.claude must be a folder, not a symbolic link' hive-init --install-agent-hooks
}

@test "the README's settings.json is what --install-agent-hooks writes; its Codex hooks.json runs the command" {
	run --separate-stderr hive-init -q --install-agent-hooks
	assert_success
	# the first json block after "What it writes:"
	awk '/^it writes:$/ { on = 1; next } on && /^```json$/ { b = 1; next } b && /^```$/ { exit } b' \
		"$SRC_TOP/README.md" >readme.json
	[[ -s readme.json ]] || fail "no settings.json example found in the README"
	[[ $(jq -S . readme.json) == "$(jq -S . .claude/settings.json)" ]] ||
		fail "$(diff <(jq -S . readme.json) <(jq -S . .claude/settings.json))"
	# the Codex example: every command it names records a Codex session
	awk '/^### Codex$/ { on = 1 } on && /^```json$/ { b = 1; next } b && /^```$/ { exit } b' \
		"$SRC_TOP/README.md" >codex.json
	cmd=$(jq -r '[.hooks[][] | .hooks[] | .command] | unique | .[]' codex.json)
	[[ $cmd == "hive-emit --from codex" ]] || fail "the Codex example runs '$cmd'"
	for ev in SessionStart PostToolUse; do
		run --separate-stderr bash -c "printf '%s\n' \"\$1\" | $cmd" _ \
			"$(payload "$ev" '.source = "startup" | .tool_name = "Bash" | .tool_input = {command: "ls"}')"
		assert_success
	done
	run jq -r .event_type "$(session_dir "codex-$SID")/EVENTS.jsonl"
	assert_output $'session_started\ntool_used'
}

@test "--install-agent-hooks --export without a session id is exit 2 and changes nothing" {
	run_refused 2 '^hive-init: error: --export needs a session: --install-agent-hooks starts none' \
		hive-init --install-agent-hooks --export sh
	[[ ! -e .claude/settings.json ]]
}

@test "SessionEnd the gate refuses (a policy unmet): findings on stderr, exit 0, the session stays active" {
	printf 'policy:\n  require_events: [security_hardened]\n' >.hive.yml
	hook SessionStart '.source = "startup"'
	cp "$LOG" before
	hook SessionEnd '.reason = "other"'
	assert_success
	assert_output ''
	assert_stderr --partial '[policy.require_events]'
	assert_stderr --partial 'claude-code hook SessionEnd (the agent goes on)'
	cmp before "$LOG"
	assert_jq '.status == "active"' "$(cat "$(session_dir "claude-$SID")/STATE.json")"
	[[ ! -e "$(session_dir "claude-$SID")/METRICS.json" ]]
}

@test "SessionEnd runs the hive-runbook beside hive-emit: without one it says so, exits 0 and writes nothing" {
	hook SessionStart '.source = "startup"'
	bash_call 'make deploy'
	mkdir -p "$BATS_TEST_TMPDIR/lone"
	cp "$BUILD_DIR/hive-emit" "$BATS_TEST_TMPDIR/lone/hive-emit"
	snapshot "$REPO"
	run --separate-stderr bash -c 'printf "%s\n" "$1" | "$2" --from claude-code' _ \
		"$(payload SessionEnd '.reason = "other"')" "$BATS_TEST_TMPDIR/lone/hive-emit"
	assert_success
	assert_output ''
	assert_stderr --partial 'claude-code hook SessionEnd (the agent goes on)'
	assert_stderr --partial "cannot run $BATS_TEST_TMPDIR/lone/hive-runbook"
	assert_unchanged "$REPO"
	assert_jq '.status == "active"' "$(cat "$(session_dir "claude-$SID")/STATE.json")"
	# beside its hive-runbook, the same call finishes the session; its report is not on stdout
	hook SessionEnd '.reason = "other"'
	assert_success
	assert_output ''
	assert_jq '.status == "completed"' "$(cat "$(session_dir "claude-$SID")/STATE.json")"
}
