#!/usr/bin/env bats
# hostile.bats - hostile input from issue 13: secrets that must never leave a tool (as ids, in
# diagnostics, in reports), redact.patterns against hive's own fields, key names and URL
# credentials redaction used to miss, and secrets the gate used to miss (escaped, or outside
# EVENTS.jsonl). Every test here failed on the tools before the fix (ee526c9).
# shellcheck disable=SC2016 # jq filters with $variables are single-quoted on purpose

load test_helper
load session_helpers

# The secret texts are put together at run time so this file holds no secret shape.
X36="$(printf '%s' {a..z} {0..9})"
GH="ghp""_$X36"

setup() {
	hive_setup || return 1
	REPO="$BATS_TEST_TMPDIR/repo"
	make_repo "$REPO" || return 1
	cd "$REPO" || return 1
	hive-init -q --session s1 >/dev/null || return 1
	export HIVE_SESSION_ID=s1
	S1="$(session_dir s1)"
	EV="$S1/EVENTS.jsonl"
}

# --- helpers ------------------------------------------------------------------------

# refute_said TEXT: neither stdout nor stderr of the last run holds TEXT.
refute_said() {
	[[ "$output" != *"$1"* ]] || fail "$(printf 'stdout holds %s:\n%s' "$1" "$output")"
	[[ "${stderr-}" != *"$1"* ]] || fail "$(printf 'stderr holds %s:\n%s' "$1" "$stderr")"
}

# refused_quietly STATUS ERE SECRET CMD…: CMD is refused with STATUS and a message matching
# ERE, nothing on stdout, nothing changed on disk, and SECRET in no byte it printed.
refused_quietly() {
	local want=$1 pattern=$2 secret=$3
	shift 3
	run_refused "$want" "$pattern" "$@"
	refute_said "$secret"
}

# assert_nowhere TEXT: TEXT is in no file under the repository (work tree, hive root, .git).
assert_nowhere() {
	local hits
	if hits="$(grep -rlF -- "$1" "$REPO")"; then
		fail "$(printf 'secret text %s found on disk in:\n%s' "$1" "$hits")"
	fi
}

# gate_finds FILE_ERE: hive-check --session s1 fails with a secrets finding whose location
# matches FILE_ERE, and no byte it printed holds the token.
gate_finds() {
	run --separate-stderr hive-check --session s1
	assert_failure 1
	grep -qE "^Docs/hive-mind/sessions/s1/$1: error: \[secrets\] an unredacted secret \(" <<<"$output" ||
		fail "$(printf 'no secrets finding at %s:\n%s' "$1" "$output")"
	refute_said "$X36"
}

DEPLOY=(deployment_configured --resource api --action update --platform K8s --status success)

# --- identifiers with a secret's shape are refused, not written, not repeated ------------

@test "hive-init --worker with a token in it: exit 2, nothing written, the token not repeated" {
	refused_quietly 2 '^hive-init: error: --worker has the shape of a secret \(github_token\)' \
		"$X36" hive-init --session s2 --worker "w$GH"
	assert_nowhere "$X36"
}

@test "worker: <token> in .hive.yml: hive-init refuses it, the token not repeated" {
	printf 'worker: %s\n' "$GH" >.hive.yml
	refused_quietly 2 '^hive-init: error: worker has the shape of a secret \(github_token\)' \
		"$X36" hive-init --session s2
	[[ ! -e "$(session_dir s2)" ]] || fail "session s2 was created"
}

@test "a session id made of a token: refused by hive-init, hive-emit and hive-check alike" {
	refused_quietly 2 '^hive-init: error: --session: session id has the shape of a secret' \
		"$X36" hive-init --session "$GH"
	refused_quietly 2 '^hive-emit: error: HIVE_SESSION_ID: session id has the shape of a secret' \
		"$X36" env HIVE_SESSION_ID="$GH" hive-emit "${DEPLOY[@]}"
	refused_quietly 2 '^hive-check: error: --session: session id has the shape of a secret' \
		"$X36" hive-check --session "$GH"
	assert_nowhere "$X36"
}

@test "details.resource with a token's shape is refused, not rewritten" {
	local aws="AKIA""Q2W3E4R5T6Y7U8I9"
	refused_quietly 2 '^hive-emit: error: details\.resource has the shape of a secret \(aws_access_key\)' \
		"$aws" hive-emit deployment_configured --resource "db-$aws" --action update \
		--platform AWS --status success
}

# --- diagnostics never echo a secret --------------------------------------------------------

@test "diagnostics: KEY:=bad JSON under a secret name does not echo the value" {
	refused_quietly 2 '^hive-emit: error: "db_password:=\[REDACTED:secret_assignment\]": the value after := is not valid JSON' \
		s3cretPassw0rd hive-emit "${DEPLOY[@]}" 'db_password:=s3cretPassw0rd'
}

@test "diagnostics: a token in a bad --json, in its duplicate keys, in its @FILE path" {
	refused_quietly 2 '^hive-emit: error: --json: "\[\\"\[REDACTED:github_token\]\\"\]" is not a JSON object$' \
		"$X36" hive-emit "${DEPLOY[@]}" --json "[\"$GH\"]"
	refused_quietly 2 '^hive-emit: error: --json: not valid JSON: byte [0-9]+: duplicate key "\[REDACTED:github_token\]"$' \
		"$X36" hive-emit "${DEPLOY[@]}" --json "{\"$GH\":1,\"$GH\":2}"
	refused_quietly 2 '^hive-emit: error: --json: /nonexistent/\[REDACTED:github_token\]: No such file' \
		"$X36" hive-emit "${DEPLOY[@]}" --json "@/nonexistent/$GH"
}

@test "diagnostics: an unknown stdin key holding a token or a password is not echoed" {
	refused_quietly 2 '^hive-emit: error: stdin:1: unknown key "\[REDACTED:github_token\]"' \
		"$X36" hive-emit - <<<"{\"event_type\":\"pipeline_updated\",\"details\":{},\"$GH\":1}"
	refused_quietly 2 '^hive-emit: error: stdin:1: unknown key "password=\[REDACTED:secret_assignment\]"' \
		hunter2-stdin-pw hive-emit - <<<'{"event_type":"pipeline_updated","details":{},"password=hunter2-stdin-pw":1}'
}

@test "diagnostics: a token as an unknown event type, a bare operand or an unknown option" {
	refused_quietly 2 '^hive-emit: error: event_type: "bogus_\[REDACTED:github_token\]" is not one of' \
		"$X36" hive-emit "bogus_$GH"
	refused_quietly 2 '^hive-emit: error: "x\[REDACTED:github_token\]": expected KEY=VALUE or KEY:=JSON$' \
		"$X36" hive-emit "${DEPLOY[@]}" "x$GH"
	refused_quietly 2 '^hive-emit: error: unknown option --\[REDACTED:github_token\] \(see --help\)$' \
		"$X36" hive-emit "--$GH" "${DEPLOY[@]}"
	refused_quietly 2 '^hive-runbook: error: unexpected argument \[REDACTED:github_token\] \(see --help\)$' \
		"$X36" hive-runbook "$GH"
}

@test "diagnostics: a token in a --root path is not echoed by any tool" {
	local file="$REPO/plain-file"
	: >"$file"
	# outside the work tree: refused before anything is read (exit 2), the token not repeated
	refused_quietly 2 "^hive-init: error: --root $BATS_TEST_TMPDIR/\[REDACTED:github_token\] is outside the work tree" \
		"$X36" hive-init --root "$BATS_TEST_TMPDIR/$GH" --session s2
	# inside it: the failure names the path, scrubbed
	refused_quietly 3 "^hive-init: error: $file/\[REDACTED:github_token\]: Not a directory\$" \
		"$X36" hive-init --root "$file/$GH" --session s2
	refused_quietly 3 "^hive-runbook: error: $file/\[REDACTED:github_token\]: Not a directory\$" \
		"$X36" hive-runbook --root "$file/$GH"
	refused_quietly 3 "^hive-check: error: $file/\[REDACTED:github_token\]/sessions: Not a directory\$" \
		"$X36" hive-check --root "$file/$GH" --all
}

# --- redact.patterns never touch hive's own keys, ids and hashes ----------------------------

@test "a redact.patterns entry matching 32 hex digits leaves git.commit and prev alone; the gate passes" {
	printf '%s\n' 'redact:' "  patterns: ['[0-9a-f]{32}']" >.hive.yml
	run --separate-stderr hive-emit "${DEPLOY[@]}" build=0123456789abcdef0123456789abcdef
	assert_success
	run --separate-stderr hive-emit "${DEPLOY[@]}" note=plain
	assert_success
	assert_jq '.git.commit == $c and (.prev | test("^sha256:[0-9a-f]{64}$"))' "$output" \
		--arg c "$(git rev-parse HEAD)"
	assert_jq '.details.configuration.build == "[REDACTED:pattern]"' "$(event_line "$EV" 2)"
	run --separate-stderr hive-check --session s1
	assert_success
	assert_output ''
}

@test "a redact.patterns entry matching 'status' leaves details' own keys and values alone" {
	printf '%s\n' 'redact:' "  patterns: ['status', 'K8s', 'update']" >.hive.yml
	run --separate-stderr hive-emit "${DEPLOY[@]}" note='status: update pending'
	assert_success
	assert_jq '.details | .status == "success" and .platform == "K8s" and .action == "update"
		and .configuration.note == "[REDACTED:pattern]: [REDACTED:pattern] pending"' "$output"
	run --separate-stderr hive-check --session s1
	assert_success
}

# --- key names as word parts, URL credentials in every RFC 3986 form ------------------------

@test "key names: dbpassword, passwords, pwd, pass, passphrase, credentials, authorization, auth" {
	run --separate-stderr hive-emit "${DEPLOY[@]}" dbpassword=kv-secret-01 passwords=kv-secret-02 \
		pwd=kv-secret-03 pass=kv-secret-04 passphrase=kv-secret-05 credentials=kv-secret-06 \
		authorization=kv-secret-07 auths.registry.auth=kv-secret-08 \
		author=jane compass=north bypass=cache passenger=3 tokens:=1200
	assert_success
	assert_jq '.details.configuration == {"dbpassword":"[REDACTED]","passwords":"[REDACTED]",
		"pwd":"[REDACTED]","pass":"[REDACTED]","passphrase":"[REDACTED]",
		"credentials":"[REDACTED]","authorization":"[REDACTED]",
		"auths":{"registry":{"auth":"[REDACTED]"}},
		"author":"jane","compass":"north","bypass":"cache","passenger":"3","tokens":1200}' "$output"
	assert_stderr 'hive-emit: redacted 8 secret values before writing'
	assert_nowhere kv-secret-0
}

@test "URL credentials: an empty user, an '@' in the password, percent-encoding; a bare user stays" {
	run --separate-stderr hive-emit "${DEPLOY[@]}" 'a=redis://:empty-user-pw@cache:6379/0' \
		'b=https://deploy:p@ss-tail-pw@git.example.com/app.git' 'c=amqp://u%3Apct-enc-pw@mq/v' \
		'd=ssh://git@github.com/acme/app'
	assert_success
	assert_jq '.details.configuration == {"a":"redis://[REDACTED:url_credentials]@cache:6379/0",
		"b":"https://[REDACTED:url_credentials]@git.example.com/app.git",
		"c":"amqp://[REDACTED:url_credentials]@mq/v","d":"ssh://git@github.com/acme/app"}' "$output"
	assert_nowhere empty-user-pw
	assert_nowhere tail-pw
	assert_nowhere pct-enc-pw
}

# --- the gate decodes strings and reads every file of the session ---------------------------

@test "gate: a token written with a \\u escape, hidden from the raw bytes, is found" {
	local esc="gh\\\\u0070_$X36" # sed's replacement reads \\ as one backslash
	append_event "$EV" "$(make_event pipeline_updated s1 2025-01-15T10:31:00.000Z \
		"{\"resource\":\"api\",\"action\":\"update\",\"platform\":\"K8s\",\"configuration\":{}}")"
	sed -i "\$s/\"configuration\":{}/\"configuration\":{\"note\":\"$esc\"}/" "$EV"
	rechain "$EV"
	sync_state "$S1"
	[[ "$(tail -n 1 "$EV" | jq -r .details.configuration.note)" == "$GH" ]] || fail "bad test: jq does not decode it"
	gate_finds 'EVENTS\.jsonl:2'
	assert_output --partial '(github_token) in the value of note'
}

@test "gate: URL credentials behind \\/ escapes are found" {
	append_event "$EV" "$(make_event pipeline_updated s1 2025-01-15T10:31:00.000Z \
		'{"resource":"api","action":"update","platform":"K8s","configuration":{}}')"
	sed -i '$s|"configuration":{}|"configuration":{"db":"postgres:\\/\\/app:escaped-pw@db\\/x"}|' "$EV"
	rechain "$EV"
	sync_state "$S1"
	gate_finds 'EVENTS\.jsonl:2'
	assert_output --partial '(url_credentials) in the value of db'
}

@test "gate: a token in STATE.json is found" {
	jq -c --arg t "$GH" '.git = {"branch": $t}' "$S1/STATE.json" >"$S1/STATE.json.new"
	mv "$S1/STATE.json.new" "$S1/STATE.json"
	gate_finds 'STATE\.json:1'
}

@test "gate: a token in METRICS.json is found" {
	printf '{"note":"%s"}\n' "$GH" >"$S1/METRICS.json"
	gate_finds 'METRICS\.json:1'
}

@test "gate: a token in RUNBOOK.md is found" {
	printf '# RUNBOOK\n\n- Note: %s\n' "$GH" >"$S1/RUNBOOK.md"
	gate_finds 'RUNBOOK\.md:3'
}

@test "gate: a token in CHECKPOINT is found" {
	printf 'hive-checkpoint/v1\nsession s1\n# %s\n' "$GH" >"$S1/CHECKPOINT"
	gate_finds 'CHECKPOINT:3'
}

@test "gate: a token in a lane log (lanes/*.jsonl) is found" {
	mkdir "$S1/lanes"
	head -n 1 "$EV" >"$S1/lanes/build.jsonl"
	append_event "$S1/lanes/build.jsonl" "$(make_event pipeline_updated s1 2025-01-15T10:31:00.000Z \
		"{\"resource\":\"api\",\"action\":\"update\",\"platform\":\"K8s\",\"configuration\":{\"note\":\"$GH\"}}")"
	gate_finds 'lanes/build\.jsonl:2'
}

@test "gate: a session folder an older hive named after a token is reported, not skipped" {
	cp -a "$S1" "$(session_dir "$GH")"
	run --separate-stderr hive-check --all
	assert_failure 1
	grep -qF "Docs/hive-mind/sessions/[REDACTED:github_token]: error: [secrets] the session folder's name has the shape of a secret (github_token)" <<<"$output" ||
		fail "$(printf 'no secrets finding for the folder name:\n%s' "$output")"
	refute_said "$X36"
}

# --- reports leave scrubbed, whatever the log holds -----------------------------------------

@test "hive-runbook: a token written into the log by hand never reaches the report" {
	local aws="AKIA""Q2W3E4R5T6Y7U8I9"
	hive-emit -q "${DEPLOY[@]}" note=plain >/dev/null
	sed -i "\$s/\"note\":\"plain\"/\"note\":\"$GH\",\"remote\":\"https:\\/\\/u:report-pw@h\\/x\",\"key\":\"$aws\"/" "$EV"
	rechain "$EV"
	sync_state "$S1"
	run --separate-stderr hive-runbook --report all
	assert_success
	assert_output --partial '[REDACTED:github_token]'
	refute_said "$X36"
	refute_said report-pw
	refute_said "$aws"
	run --separate-stderr hive-runbook --report all --format json
	assert_success
	jq -e . >/dev/null <<<"$output" || fail "the JSON report is not JSON: $output"
	refute_said "$X36"
	refute_said "$aws"
}
