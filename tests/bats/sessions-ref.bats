#!/usr/bin/env bats
# sessions-ref.bats - the sessions ref (SPEC 11): hive-runbook --publish commits session folders
# onto refs/hive/sessions with libgit2 (work tree, index and HEAD untouched), hive-check --ref
# reads them back, the pre-push gate refuses a push of the ref that is not a fast-forward or that
# rewrites a published session, and hooks/hive-push-sessions lets racing pipelines publish onto
# one bare remote without losing a session.

load test_helper
load session_helpers

REF=refs/hive/sessions

setup() {
	hive_setup
	require_tool hive-runbook
	require_tool hive-check
	REPO="$BATS_TEST_TMPDIR/repo"
	make_repo "$REPO"
	cd "$REPO" || return 1
	new_session s1 2
}

# ref_files [REF]: the paths the ref's tip holds, one a line.
ref_files() {
	git ls-tree -r --name-only "${1:-$REF}"
}

@test "publish: the session goes onto refs/hive/sessions; work tree, index and HEAD are untouched" {
	local head before
	head="$(git rev-parse HEAD)"
	before="$(git status --porcelain)"
	snapshot "$REPO/.git/refs/heads"
	run hive-runbook --publish --session s1
	assert_success
	assert_output --regexp '^hive-runbook: session s1 published onto refs/hive/sessions \([0-9a-f]{7}\)$'
	assert_equal "$(ref_files)" "$(printf '%s\n' Docs/hive-mind/sessions/s1/EVENTS.jsonl Docs/hive-mind/sessions/s1/STATE.json)"
	assert_equal "$(git show "$REF:Docs/hive-mind/sessions/s1/EVENTS.jsonl")" "$(cat "$(events_of s1)")"
	assert_equal "$(git rev-parse HEAD)" "$head"
	assert_equal "$(git status --porcelain)" "$before"
	assert_unchanged "$REPO/.git/refs/heads"
	[[ ! -e .git/index ]] || run git diff --cached --quiet
	assert_success
}

@test "publish: again with nothing new adds no commit; new events add one on the tip" {
	hive-runbook -q --publish --session s1
	local first
	first="$(git rev-parse "$REF")"
	run hive-runbook --publish --session s1
	assert_success
	assert_output 'hive-runbook: session s1 is on refs/hive/sessions (nothing new to publish)'
	assert_equal "$(git rev-parse "$REF")" "$first"
	hive-emit -q --session s1 monitoring_added --resource grafana --action create \
		--platform K8s --status success >/dev/null
	run hive-runbook -q --publish --session s1
	assert_success
	assert_equal "$(git rev-parse "$REF^")" "$first"
	assert_equal "$(git show "$REF:Docs/hive-mind/sessions/s1/EVENTS.jsonl" | wc -l)" 4
}

@test "publish: --finish --publish puts the completed session (METRICS.json, RUNBOOK.md) on the ref" {
	run hive-runbook --finish --publish --session s1
	assert_success
	run ref_files
	assert_line Docs/hive-mind/sessions/s1/METRICS.json
	assert_line Docs/hive-mind/sessions/s1/RUNBOOK.md
	run git show "$REF:Docs/hive-mind/sessions/s1/EVENTS.jsonl"
	assert_line --index 3 --partial '"event_type":"session_completed"'
	# the configuration goes along, so the gate reads the ref under the same rules
	printf 'policy:\n  require_tags: [environment]\n' >.hive.yml
	new_session s2 0
	hive-runbook -q --publish --session s2
	assert_equal "$(git show "$REF:.hive.yml")" "$(cat .hive.yml)"
}

@test "publish: a folder that no longer extends what the ref holds is refused, the ref unchanged" {
	local f tip
	hive-runbook -q --publish --session s1
	tip="$(git rev-parse "$REF")"
	f="$(events_of s1)"
	sed -i 's/"step":"2"/"step":"9"/' "$f"
	rechain "$f"
	sync_state "$(session_dir s1)"
	run hive-check --session s1
	assert_success # consistent with itself: only the published version can tell
	run hive-runbook --publish --session s1
	assert_failure 1
	assert_output --partial "Docs/hive-mind/sessions/s1/EVENTS.jsonl:3: error: [history] line 3 differs from the published version (${tip:0:7})"
	assert_output --partial 'hive-runbook: error: nothing published: a session no longer extends what refs/hive/sessions holds'
	assert_equal "$(git rev-parse "$REF")" "$tip"
}

@test "publish: refused without a repository, onto the branch checked out, or onto a name that is no ref" {
	run hive-runbook --publish --session s1 --ref refs/heads/main
	assert_failure 2
	assert_output --partial 'refs/heads/main is the branch checked out here'
	run hive-runbook --publish --session s1 --ref main
	assert_failure 2
	assert_output --partial '--ref: "main" is not a ref name below refs/'
	HIVE_PUBLISH_REF='refs/hive/a..b' run hive-runbook --publish --session s1
	assert_failure 2
	assert_output --partial 'HIVE_PUBLISH_REF: '
	run hive-runbook --ref refs/hive/x --session s1
	assert_failure 2
	assert_output --partial '--ref goes with --publish'
	run git rev-parse --verify -q "$REF"
	assert_failure
}

@test "publish: a symbolic link in the session folder is refused, nothing published" {
	ln -s /etc/passwd "$(session_dir s1)/notes.txt"
	run hive-runbook --publish --session s1
	assert_failure 3
	assert_output --partial 'notes.txt is not a regular file (a symbolic link or a folder): refused, nothing published'
	run git rev-parse --verify -q "$REF"
	assert_failure
}

@test "publish: publish.ref in .hive.yml names the ref; --ref comes before it" {
	printf 'publish:\n  ref: refs/hive/audit\n' >.hive.yml
	run hive-runbook --publish --session s1
	assert_success
	assert_output --partial 'published onto refs/hive/audit'
	run hive-runbook --publish --session s1 --ref refs/hive/other
	assert_success
	assert_output --partial 'published onto refs/hive/other'
	printf 'publish:\n  ref: [x]\n' >.hive.yml
	run hive-runbook --publish --session s1
	assert_failure 2
}

@test "check --ref: every session on the ref is checked, shown as REF:PATH; a missing ref is exit 2" {
	local f blob tree commit
	hive-runbook -q --publish --session s1
	run hive-check --ref "$REF" --session s1
	assert_success
	assert_output --partial 'hive-check: 2 sessions checked: 0 errors, 0 warnings'
	# a commit on the ref whose log was edited without recomputing the chain
	f="$BATS_TEST_TMPDIR/edited"
	git show "$REF:Docs/hive-mind/sessions/s1/EVENTS.jsonl" | sed 's/"step":"1"/"step":"7"/' >"$f"
	blob="$(git hash-object -w "$f")"
	export GIT_INDEX_FILE="$BATS_TEST_TMPDIR/index"
	git read-tree "$REF"
	git update-index --cacheinfo "100644,$blob,Docs/hive-mind/sessions/s1/EVENTS.jsonl"
	tree="$(git write-tree)"
	unset GIT_INDEX_FILE
	commit="$(git commit-tree "$tree" -p "$REF" -m edited)"
	git update-ref "$REF" "$commit"
	run hive-check --ref "$REF" --session s1
	assert_failure 1
	assert_output --partial 'refs/hive/sessions:Docs/hive-mind/sessions/s1/EVENTS.jsonl:3: error: [chain]'
	run hive-check --ref refs/hive/none --session s1
	assert_failure 2
	assert_output --partial "--ref refs/hive/none: no such ref here (fetch it first: git fetch origin '+refs/hive/none:refs/hive/none')"
}

@test "pre-push: the sessions ref pushes as a fast-forward; a rewrite or a non-fast-forward is refused" {
	local remote="$BATS_TEST_TMPDIR/remote.git" pushed f
	git init -q --bare "$remote"
	git remote add origin "$remote"
	hive-init -q --install-hooks >/dev/null 2>&1
	hive-runbook -q --publish --session s1
	run git push origin "$REF:$REF"
	assert_success
	assert_output --partial 'hive-check: 1 session checked: 0 errors, 0 warnings'
	pushed="$(git rev-parse "$REF")"
	# a rewritten session, every hash recomputed, published by hand onto the tip
	f="$(events_of s1)"
	sed -i 's/"step":"1"/"step":"5"/' "$f"
	rechain "$f"
	sync_state "$(session_dir s1)"
	cp -r "$(session_dir s1)" "$BATS_TEST_TMPDIR/s1"
	export GIT_INDEX_FILE="$BATS_TEST_TMPDIR/index"
	git read-tree "$REF"
	git update-index --add --cacheinfo "100644,$(git hash-object -w "$f"),Docs/hive-mind/sessions/s1/EVENTS.jsonl"
	git update-ref "$REF" "$(git commit-tree "$(git write-tree)" -p "$REF" -m rewrite)"
	unset GIT_INDEX_FILE
	run git push origin "$REF:$REF"
	assert_failure
	assert_output --partial "Docs/hive-mind/sessions/s1/EVENTS.jsonl:2: error: [history] line 2 differs from the published version (${pushed:0:7})"
	assert_equal "$(git ls-remote "$remote" "$REF" | cut -f1)" "$pushed"
	# a force-push of a ref that starts over (the same tree, no parent): not a fast-forward
	git update-ref "$REF" "$(git commit-tree "$pushed^{tree}" -m 'start over')"
	run git push -f origin "$REF:$REF"
	assert_failure
	assert_output --partial "refs/hive/sessions: error: [history] the push replaces the remote's ${pushed:0:7} with"
	assert_output --partial 'the sessions ref only grows'
	assert_equal "$(git ls-remote "$remote" "$REF" | cut -f1)" "$pushed"
}

@test "hive-push-sessions: 8 pipelines racing on one bare remote all land, none lost" {
	local remote="$BATS_TEST_TMPDIR/race.git" i pids=() rc=0
	git init -q --bare "$remote"
	git remote add origin "$remote"
	git push -q origin main
	for i in 1 2 3 4 5 6 7 8; do
		git clone -q "$remote" "$BATS_TEST_TMPDIR/runner$i"
		(cd "$BATS_TEST_TMPDIR/runner$i" && hive-init -q --session "job$i" >/dev/null &&
			hive-emit -q --session "job$i" pipeline_updated --resource "ci-$i" \
				--action update --platform Docker --status success >/dev/null)
	done
	for i in 1 2 3 4 5 6 7 8; do
		(cd "$BATS_TEST_TMPDIR/runner$i" &&
			"$SRC_TOP/hooks/hive-push-sessions" --tries 20 --session "job$i" \
				>"$BATS_TEST_TMPDIR/out$i" 2>&1) &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i" || rc=$?; done
	for i in 1 2 3 4 5 6 7 8; do cat "$BATS_TEST_TMPDIR/out$i"; done
	assert_equal "$rc" 0
	git fetch -q origin "+$REF:$REF"
	run git ls-tree --name-only "$REF:Docs/hive-mind/sessions"
	assert_output "$(printf 'job%s\n' 1 2 3 4 5 6 7 8)"
	# and every one of them checks clean where it was published
	run hive-check --ref "$REF" --session s1
	assert_success
	assert_output --partial 'hive-check: 9 sessions checked: 0 errors, 0 warnings'
}

@test "hive-push-sessions: usage errors are exit 2 before anything is published" {
	run "$SRC_TOP/hooks/hive-push-sessions" --tries many
	assert_failure 2
	run "$SRC_TOP/hooks/hive-push-sessions" --ref main
	assert_failure 2
	run "$SRC_TOP/hooks/hive-push-sessions" --remote -x
	assert_failure 2
	run git rev-parse --verify -q "$REF"
	assert_failure
}

@test "--all --ref: DORA counts the sessions on the ref too, each session once" {
	hive-init -q --session d1 >/dev/null
	hive-emit -q --session d1 deployment_configured --resource web --action update \
		--platform K8s --status success environment=prod version=2 >/dev/null
	hive-runbook -q --publish --session d1
	# the runner is gone: its session lives on the ref only
	mv "$(session_dir d1)" "$BATS_TEST_TMPDIR/d1"
	run hive-runbook --all --format json
	assert_success
	assert_jq '[.sessions, .change_failure_rate.deployments] == [1,0]' "$output"
	run hive-runbook --all --format json --ref "$REF"
	assert_success
	assert_jq '[.sessions, .change_failure_rate.deployments] == [2,1]' "$output"
	# back on disk and longer than the ref's copy: counted once, from the work tree
	mv "$BATS_TEST_TMPDIR/d1" "$(session_dir d1)"
	hive-emit -q --session d1 deployment_configured --resource web --action update \
		--platform K8s --status failure environment=prod version=3 >/dev/null
	run hive-runbook --all --format json --ref "$REF"
	assert_success
	assert_jq '[.sessions, .change_failure_rate.deployments, .change_failure_rate.failed] == [2,2,1]' "$output"
	run hive-runbook --all --ref refs/hive/none
	assert_failure 2
	assert_output --partial '--ref refs/hive/none: no such ref here'
}

@test "hive-init --ref: a session another runner published is restored whole and rejoined; one here, or none on the ref, is left to hive-init" {
	hive-emit -q --session s1 --lane eu pipeline_updated --resource ci --action update \
		--platform Docker --status success >/dev/null
	hive-runbook -q --publish --session s1
	git clone -q "$REPO" "$BATS_TEST_TMPDIR/runner"
	cd "$BATS_TEST_TMPDIR/runner"
	git fetch -q origin '+refs/hive/sessions:refs/hive/sessions'
	[[ ! -e Docs/hive-mind/sessions/s1 ]]
	run --separate-stderr hive-init --session s1 --ref "$REF"
	assert_success
	assert_jq '.created == false and .events == 3' "$output"
	assert_stderr --partial 'hive-init: session s1 restored from refs/hive/sessions'
	run diff -r -x .lock "$(session_dir s1 "$REPO/Docs/hive-mind")" Docs/hive-mind/sessions/s1
	assert_success
	[[ -f Docs/hive-mind/sessions/s1/.lock ]]
	run hive-check --session s1
	assert_success
	# here already: nothing is restored over it
	snapshot Docs/hive-mind/sessions/s1
	run --separate-stderr hive-init --session s1 --ref "$REF"
	assert_success
	refute_output --partial restored
	assert_unchanged Docs/hive-mind/sessions/s1
	# a session the ref does not have, or a ref not fetched: a new session
	run --separate-stderr hive-init --session s9 --ref "$REF"
	assert_success
	assert_jq '.created == true' "$output"
	run --separate-stderr hive-init --session s8 --ref refs/hive/none
	assert_success
	assert_jq '.created == true' "$output"
	run hive-init --session s7 --ref main
	assert_failure 2
	[[ ! -e Docs/hive-mind/sessions/s7 ]]
}

@test "hive-init --ref: a published session whose chain was forged on the ref is refused (exit 3, the chain finding), nothing restored" {
	hive-runbook -q --publish --session s1
	# the ref rewritten past the gate: line 2 edited, committed with git's plumbing
	git clone -q "$REPO" "$BATS_TEST_TMPDIR/forger"
	(
		cd "$BATS_TEST_TMPDIR/forger" || exit 1
		git fetch -q origin "+$REF:$REF"
		git read-tree "$REF"
		p=Docs/hive-mind/sessions/s1/EVENTS.jsonl
		git show "$REF:$p" | sed '2s/"status":"success"/"status":"failure"/' >forged
		cmp -s forged <(git show "$REF:$p") && exit 1
		git update-index --add --cacheinfo "100644,$(git hash-object -w forged),$p"
		git update-ref "$REF" "$(git commit-tree -p "$REF" -m forged "$(git write-tree)")"
		git read-tree HEAD
	) || fail "could not forge the ref"
	git clone -q "$BATS_TEST_TMPDIR/forger" "$BATS_TEST_TMPDIR/runner"
	cd "$BATS_TEST_TMPDIR/runner"
	git fetch -q origin "+$REF:$REF"
	snapshot "$BATS_TEST_TMPDIR/runner"
	run --separate-stderr hive-init --session s1 --ref "$REF"
	assert_failure 3
	assert_stderr --partial '[chain]'
	assert_stderr --partial "hive-init: error: $REF:Docs/hive-mind/sessions/s1: the log breaks hive-check's chain rule (the findings above): nothing restored"
	assert_unchanged "$BATS_TEST_TMPDIR/runner"
}
