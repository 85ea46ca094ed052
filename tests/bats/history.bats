#!/usr/bin/env bats
# history.bats - rule history (SPEC 9): a published record only grows. Each attack is made
# as an attacker would (every hash recomputed, STATE.json kept in step, so that every other
# rule is satisfied), committed, and pushed for real through the installed pre-push hook to a
# bare remote; each must be refused naming the session, the file and the first differing
# line, with the remote unchanged. --since REV is the same rule for CI, on the work tree.

load test_helper
load session_helpers

setup() {
	hive_setup
	require_tool hive-emit
	require_tool hive-check
	REPO="$BATS_TEST_TMPDIR/repo"
	make_repo "$REPO"
	cd "$REPO" || return 1
	REMOTE="$BATS_TEST_TMPDIR/remote.git"
	git init -q --bare "$REMOTE"
	git remote add origin "$REMOTE"
	hive-init -q --install-hooks >/dev/null 2>&1 || fail "hive-init --install-hooks failed"
	new_session s1 4
	new_session s2 2
	git add -A Docs && git commit -q -m 'sessions s1 and s2'
	run git push -q origin main
	assert_success
	PUBLISHED="$(git rev-parse main)"
}

# remote_sha BRANCH: what the remote says BRANCH is.
remote_sha() {
	git ls-remote "$REMOTE" "refs/heads/$1" | cut -f1
}

# refused_push ARGS...: the push fails and the remote's main is still the published one.
refused_push() {
	run git push "$@"
	assert_failure
	assert_equal "$(remote_sha main)" "$PUBLISHED"
}

@test "history: appending events and pushing goes through (a record may grow)" {
	hive-emit -q --session s1 monitoring_added --resource grafana --action create \
		--platform K8s --status success >/dev/null
	git commit -q -am 'more events'
	run git push origin main
	assert_success
	assert_output --partial 'hive-check: 1 session checked: 0 errors, 0 warnings'
}

@test "history: every failure turned into success, every hash and STATE.json recomputed, is refused" {
	local f
	f="$(events_of s1)"
	hive-emit -q --session s1 deployment_configured --resource web --action update \
		--platform K8s --status failure environment=prod version=2 >/dev/null
	git commit -q -am 'a failed deploy, honestly recorded' && git push -q origin main
	PUBLISHED="$(git rev-parse main)"
	# the rewrite: the failure becomes a success, the chain and the view made sound again
	sed -i 's/"status":"failure"/"status":"success"/' "$f"
	rechain "$f"
	sync_state "$(session_dir s1)"
	run hive-check --session s1
	assert_success # the log is consistent with itself: only history can tell
	git commit -q -am 'rewrite'
	refused_push origin main
	assert_output --partial "Docs/hive-mind/sessions/s1/EVENTS.jsonl:6: error: [history] line 6 differs from the published version (${PUBLISHED:0:7})"
}

@test "history: a log cut short and --repair'd is refused at the first missing line" {
	local f
	f="$(events_of s1)"
	head -n 3 "$f" >"$f.new" && mv "$f.new" "$f"
	hive-check -q --repair --session s1 || true
	git commit -q -am 'cut'
	refused_push origin main
	assert_output --partial 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:4: error: [history] line 4 is missing: the log was cut short'
}

@test "history: a deleted session is refused" {
	git rm -q -r Docs/hive-mind/sessions/s2
	git commit -q -m 'drop s2'
	refused_push origin main
	assert_output --partial "Docs/hive-mind/sessions/s2: error: [history] session published in ${PUBLISHED:0:7} is gone (deleted or moved)"
}

@test "history: commit --amend and push --force of an edited log are refused" {
	local f
	f="$(events_of s2)"
	sed -i '2s/"step":"1"/"step":"9"/' "$f"
	rechain "$f"
	sync_state "$(session_dir s2)"
	git commit -q --amend -a --no-edit
	refused_push --force origin main
	assert_output --partial 'Docs/hive-mind/sessions/s2/EVENTS.jsonl:2: error: [history] line 2 differs'
}

@test "history: a line appended after a published session_completed is refused" {
	complete_session s1
	git add -A Docs && git commit -q -m 'finish s1' && git push -q origin main
	PUBLISHED="$(git rev-parse main)"
	append_event "$(events_of s1)" \
		"$(make_event pipeline_updated s1 "$(tail -n 1 "$(events_of s1)" | jq -r .timestamp)" \
			'{"resource":"x","action":"update","platform":"Docker","configuration":{},"status":"success"}')"
	sync_state "$(session_dir s1)"
	git commit -q -am 'after the end'
	refused_push origin main
	assert_output --partial 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:7: error: [history] line 7 was added after the published session_completed'
}

@test "history: a new branch is held against what the remote-tracking refs hold" {
	git checkout -q -b cleanup
	git rm -q -r Docs/hive-mind/sessions/s1
	git commit -q -m 'drop s1'
	run git push origin cleanup
	assert_failure
	assert_output --partial "Docs/hive-mind/sessions/s1: error: [history] session published in ${PUBLISHED:0:7} is gone"
	assert_equal "$(remote_sha cleanup)" ""
}

@test "history: an empty stdin with an unpushed rewrite fails closed" {
	sed -i '2s/"step":"1"/"step":"7"/' "$(events_of s2)"
	rechain "$(events_of s2)"
	sync_state "$(session_dir s2)"
	git commit -q -am 'rewrite'
	run hive-check --pre-push origin "$REMOTE" </dev/null
	assert_failure 1
	assert_output --partial 'Docs/hive-mind/sessions/s2/EVENTS.jsonl:2: error: [history] line 2 differs'
}

@test "history: the remote's tip not fetched is refused, not waved through" {
	local ghost
	ghost="$(git hash-object -t commit --stdin <<<"tree $(git rev-parse 'main^{tree}')
author a <a@b> 1 +0000
committer a <a@b> 1 +0000

not here")"
	run --separate-stderr hive-check --pre-push origin "$REMOTE" \
		<<<"refs/heads/main $(git rev-parse main) refs/heads/main $ghost"
	assert_failure 3
	assert_stderr --partial "the remote's tip $ghost is not in this repository"
}

@test "--since REV: the work tree against a published commit, in CI" {
	local f
	f="$(events_of s1)"
	run hive-check --since "$PUBLISHED"
	assert_success
	assert_output --partial 'hive-check: 2 sessions checked: 0 errors, 0 warnings'
	# events emitted in the job are fine
	hive-emit -q --session s2 pipeline_updated --resource r --action update --platform Docker \
		--status success >/dev/null
	run hive-check --since "$PUBLISHED"
	assert_success
	# a rewritten line, a removed session: each named
	sed -i '2s/"step":"1"/"step":"5"/' "$f"
	rechain "$f"
	sync_state "$(session_dir s1)"
	run hive-check --since "$PUBLISHED"
	assert_failure 1
	assert_output --partial "Docs/hive-mind/sessions/s1/EVENTS.jsonl:2: error: [history] line 2 differs from the published version (${PUBLISHED:0:7})"
	rm -r "$(session_dir s2)"
	run hive-check --since "$PUBLISHED"
	assert_failure 1
	assert_output --partial "Docs/hive-mind/sessions/s2: error: [history] session published in ${PUBLISHED:0:7} is gone"
	# a REV that is no commit
	run_refused 2 'hive-check: error: --since nope: not a commit in this repository' \
		hive-check --since nope
}

@test "--since: junit lists the history rule as a testcase" {
	run hive-check --since "$PUBLISHED" --format junit
	assert_success
	assert_output --partial 'name="history"'
}

@test "--repair never drops a line HEAD has: a committed cut-off line is left, exit 3" {
	local f
	f="$(events_of s2)"
	printf '{"seq":4,"cut' >>"$f"
	git commit -q -am 'a cut-off line, committed'
	snapshot "$REPO/Docs"
	run_refused 3 "hive-check: error: .*/sessions/s2/EVENTS.jsonl: not repaired: the cut-off last line is in HEAD's version of the log" \
		hive-check --repair --session s2
	assert_unchanged "$REPO/Docs"
	# a cut-off line that was never committed is still moved aside
	git reset -q --hard HEAD~1
	printf '{"seq":4,"cut' >>"$f"
	run hive-check --repair --session s2
	assert_success
	[ -s "$(session_dir s2)/EVENTS.jsonl.torn" ]
}

# --- the published configuration governs the gate (SPEC 9) -----------------------------

@test "config: moving root: in .hive.yml in the same commit as an edit is refused: the published root is still checked" {
	local f
	printf 'root: ops/hive\n' >.hive.yml
	mkdir ops && git mv Docs/hive-mind ops/hive
	f=ops/hive/sessions/s1/EVENTS.jsonl
	sed -i '2s/"step":"1"/"step":"7"/' "$f"
	rechain "$f"
	sync_state ops/hive/sessions/s1
	git add -A && git commit -q -m 'move the root, and rewrite s1 while at it'
	# under the new .hive.yml alone the moved sessions look sound
	run hive-check --all
	assert_success
	refused_push origin main
	assert_output --partial "hive-check: the configuration of $(git rev-parse --short=7 HEAD) differs from the published one (${PUBLISHED:0:7}): checked under both"
	assert_output --partial "Docs/hive-mind/sessions/s1: error: [history] session published in ${PUBLISHED:0:7} is gone (deleted or moved)"
	assert_output --partial "Docs/hive-mind/sessions/s2: error: [history] session published in ${PUBLISHED:0:7} is gone (deleted or moved)"
	# CI's gate reads the published root the same way
	run hive-check --since "$PUBLISHED"
	assert_failure 1
	assert_output --partial "Docs/hive-mind/sessions/s1: error: [history] session published in ${PUBLISHED:0:7} is gone"
}

@test "config: a policy dropped in the push still holds: the published .hive.yml's policies apply" {
	printf 'policy:\n  require_tags: [team]\n' >.hive.yml
	git add .hive.yml && git commit -q -m 'require a team tag' && git push -q origin main
	PUBLISHED="$(git rev-parse main)"
	# the push drops the policy and records a change without the tag in a new session
	rm .hive.yml
	new_session s3 1
	git add -A && git commit -q -m 'no more tags'
	refused_push origin main
	assert_output --partial 'Docs/hive-mind/sessions/s3/EVENTS.jsonl:2: error: [policy.require_tags] pipeline_updated of ci-1 has no configuration.tags.team'
	assert_output --partial 'checked under both'
	# a push that keeps the policy, with an event that keeps it, goes through
	git reset -q --hard "$PUBLISHED"
	hive-init -q --session s4 >/dev/null
	hive-emit -q --session s4 pipeline_updated --resource deploy --action update \
		--platform Docker --status success --json '{"tags":{"team":"ops"}}' >/dev/null
	git add -A && git commit -q -m 'tagged'
	run git push origin main
	assert_success
	refute_output --partial 'checked under both'
}

@test "config: a pushed .hive.yml whose root is outside the work tree is exit 2, the remote unchanged" {
	printf 'root: ../elsewhere\n' >.hive.yml
	git add .hive.yml && git commit -q -m 'root out of the tree'
	# the work tree's own file says so first
	refused_push origin main
	assert_output --regexp "hive-check: error: root: in .*/\.hive\.yml, .*/\.\./elsewhere is outside the work tree"
	# and so does the pushed commit's, when the work tree's file is fine
	printf 'root: Docs/hive-mind\n' >.hive.yml
	refused_push origin main
	assert_output --regexp "hive-check: error: stdin:1: root: in $(git rev-parse --short=7 HEAD):\.hive\.yml, .*/\.\./elsewhere is outside the work tree"
}

@test "config: trust.allowed_signers comes from the published commit: a key added in the push signs for nothing" {
	command -v ssh-keygen >/dev/null || fail "ssh-keygen is missing (openssh-client)"
	local keys="$BATS_TEST_TMPDIR/keys"
	mkdir -p "$keys" .hive
	ssh-keygen -q -t ed25519 -N '' -C alice -f "$keys/alice"
	ssh-keygen -q -t ed25519 -N '' -C mallory -f "$keys/mallory"
	printf 'alice@example.org %s\n' "$(cut -d' ' -f1,2 "$keys/alice.pub")" >.hive/allowed_signers
	printf 'trust:\n  allowed_signers: .hive/allowed_signers\npolicy:\n  require_signed: 1\n' >.hive.yml
	git add -A && git commit -q -m 'alice signs' && git push -q origin main
	PUBLISHED="$(git rev-parse main)"
	# mallory adds her key and signs a session of her own in the same push
	printf 'mallory@example.org %s\n' "$(cut -d' ' -f1,2 "$keys/mallory.pub")" >>.hive/allowed_signers
	new_session s3 1
	HIVE_SIGNING_KEY="$keys/mallory" hive-runbook -q --session s3 --finish >/dev/null
	[ -s "$(session_dir s3)/CHECKPOINT.sig" ]
	run hive-check --session s3
	assert_success # the new allowed_signers vouches for her
	git add -A && git commit -q -m 'mallory'
	refused_push origin main
	assert_output --regexp "Docs/hive-mind/sessions/s3/CHECKPOINT.sig:1: error: \[signature\] the signer ssh-ed25519 SHA256:[A-Za-z0-9+/]+ is not in trust.allowed_signers"
	assert_output --partial 'Docs/hive-mind/sessions/s3/CHECKPOINT.sig: error: [policy.require_signed] CHECKPOINT has 0 valid signers in trust.allowed_signers, 1 required'
}

@test "config: policy.require_completed: a push of an unfinished session is refused; finished, it goes through" {
	printf 'policy:\n  require_completed: 240\n' >.hive.yml
	git add .hive.yml && git commit -q -m 'finish before pushing' && git push -q origin main
	PUBLISHED="$(git rev-parse main)"
	new_session s3 1
	git add -A && git commit -q -m 's3, still running'
	refused_push origin main
	assert_output --partial 'Docs/hive-mind/sessions/s3/EVENTS.jsonl:1: error: [policy.require_completed] the session is pushed without being completed: finish it first with hive-runbook --finish (or --status failure) (policy: require_completed)'
	# in the work tree a fresh session is fine: it started less than 240 minutes ago
	run hive-check --session s3
	assert_success
	hive-runbook -q --session s3 --finish >/dev/null
	git add -A && git commit -q -m 's3 finished'
	run git push origin main
	assert_success
}

@test "config: policy.require_infra_events: a commit that changes infrastructure without an event is refused; recorded on its dirty parent, it goes through" {
	printf 'policy:\n  require_infra_events: true\n' >.hive.yml
	git add .hive.yml && git commit -q -m 'report every infrastructure change' && git push -q origin main
	PUBLISHED="$(git rev-parse main)"
	# a change to infra/main.tf with nothing recorded about it
	printf '# more capacity\n' >>infra/main.tf
	git commit -q -am 'scale the cluster'
	refused_push origin main
	assert_output --partial "infra/main.tf: error: [policy.require_infra_events] commit $(git rev-parse --short=7 HEAD) (\"scale the cluster\") changes infra/main.tf, and no session records a change event at it, or with git.dirty at its parent (policy: require_infra_events)"
	run hive-check --since "$PUBLISHED"
	assert_failure 1
	assert_output --partial '[policy.require_infra_events]'
	# the protocol: make the change, record it (git.dirty true on the parent), commit both
	git reset -q --hard "$PUBLISHED"
	printf '# more capacity\n' >>infra/main.tf
	hive-emit -q --session s1 infrastructure_provisioned --resource cluster --action update \
		--platform AWS --status success >/dev/null
	git add -A && git commit -q -m 'scale the cluster, recorded'
	run git push origin main
	assert_success
	run hive-check --since "$PUBLISHED"
	assert_success
	# a commit that touches no infrastructure needs no event
	printf 'notes\n' >NOTES.md
	git add NOTES.md && git commit -q -m notes
	run git push origin main
	assert_success
}

@test "the pre-push gate scans a session's RUNBOOK.md and METRICS.json as they are in the pushed commit" {
	local tok="ghp""_0123456789abcdefghijklmnopqrstuvwxyz"
	new_session s3 1
	hive-runbook -q --session s3 --finish >/dev/null
	printf -- '- Note: %s\n' "$tok" >>"$(session_dir s3)/RUNBOOK.md"
	git add -A && git commit -q -m 's3 with a token in its runbook'
	refused_push origin main
	assert_output --regexp 'Docs/hive-mind/sessions/s3/RUNBOOK\.md:[0-9]+: error: \[secrets\]'
	[[ "$output" != *"$tok"* ]] || fail "the token was printed"
}
