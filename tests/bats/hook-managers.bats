#!/usr/bin/env bats
# tests/bats/hook-managers.bats - fail closed through every hook manager (SPEC 9): the plain
# hook, pre-commit (Debian's), lefthook and husky (the real ones, from tests/node_modules:
# tests/package.json, installed by make deps), each set up as README's "Hooks" section says,
# each attacked with real `git push`es to a bare remote:
#
#   - two refs in one push, the second carrying a rewritten session (every hash and
#     STATE.json recomputed, so only rule history can tell): pre-commit names only the first
#     ref to its hooks;
#   - an explicit refspec from another branch (on main, `git push origin other`): lefthook
#     skips a command with a files/glob filter there ("no matching push files").
#
# Each must be refused naming the session, with the remote unchanged; a clean push of the
# same shape must go through (the hook ran and checked, it does not refuse everything).

# shellcheck disable=SC2030,SC2031

load test_helper
load session_helpers

setup() {
	hive_setup || return 1
	require_tool hive-check || return 1
	require_tool hive-emit || return 1
	REPO="$BATS_TEST_TMPDIR/repo"
	make_repo "$REPO"
	cd "$REPO" || return 1
	REMOTE="$BATS_TEST_TMPDIR/remote.git"
	git init -q --bare "$REMOTE"
	git remote add origin "$REMOTE"
	# published: s1, pushed before any hook is installed
	new_session s1 3
	git add -A Docs && git commit -q -m 'session s1'
	# main tracks origin/main, as in a clone (lefthook's "push files" are HEAD against @{push})
	git push -q --no-verify -u origin main || fail "cannot publish main"
	PUBLISHED="$(git rev-parse main)"
}

# --- helpers ---------------------------------------------------------------------------

# remote_sha BRANCH: what the remote says BRANCH is (empty when it has none).
remote_sha() {
	git --git-dir="$REMOTE" rev-parse -q --verify "refs/heads/$1" || true
}

# readme_block HEADING LANG: the first ```LANG block under README's "### HEADING", so that
# what is tested is what the README tells users to write.
readme_block() {
	awk -v h="### $1" -v fence="\`\`\`$2" '
		$0 == h { under = 1; next }
		under && !inside && /^#+ / { exit }
		under && $0 == fence { inside = 1; next }
		inside && $0 == "```" { exit }
		inside { print }' "$SRC_TOP/README.md"
}

# clean_main: a new, honest event in s1 on main (main has something to push).
clean_main() {
	hive-emit -q --session s1 pipeline_updated --resource web --action update \
		--platform Docker --status success >/dev/null || fail "hive-emit failed"
	git commit -q -am 'one more event' || fail "cannot commit on main"
}

# forged_branch NAME: branch NAME from the published commit, where s1's published line 2
# is rewritten with every hash and STATE.json recomputed (only rule history can tell).
forged_branch() {
	local f
	git checkout -q -b "$1" "$PUBLISHED"
	f="$(events_of s1)"
	sed -i '2s/"step":"1"/"step":"9"/' "$f"
	rechain "$f"
	sync_state "$(session_dir s1)"
	hive-check -q --session s1 || fail "the forged s1 should be consistent with itself"
	git commit -q -am "rewrite s1 on $1"
	git checkout -q main
}

# honest_branch NAME: branch NAME from the published commit with a new session s2.
honest_branch() {
	git checkout -q -b "$1" "$PUBLISHED"
	new_session s2 2
	git add -A Docs && git commit -q -m "session s2 on $1"
	git checkout -q main
}

# the attacks, for whichever hook is installed; MANAGER_OUT is a pattern the manager's
# output has when the hook ran hive-check and it failed
refused_two_refs() {
	clean_main
	forged_branch forged
	local main_before
	main_before="$(remote_sha main)"
	run git push origin main forged
	assert_failure
	assert_output --partial "Docs/hive-mind/sessions/s1/EVENTS.jsonl:2: error: [history] line 2 differs from the published version (${PUBLISHED:0:7})"
	assert_equal "$(remote_sha main)" "$main_before"
	assert_equal "$(remote_sha forged)" ""
}

refused_refspec_from_other_branch() {
	forged_branch forged
	[ "$(git symbolic-ref --short HEAD)" = main ]
	run git push origin forged
	assert_failure
	assert_output --partial "Docs/hive-mind/sessions/s1/EVENTS.jsonl:2: error: [history] line 2 differs"
	assert_equal "$(remote_sha forged)" ""
	# and with a refspec that names another remote branch
	run git push origin forged:refs/heads/elsewhere
	assert_failure
	assert_output --partial '[history] line 2 differs'
	assert_equal "$(remote_sha elsewhere)" ""
}

# passes_two_clean_refs [PATTERN]: the push goes through, and its output matches PATTERN
# (default: hive-check's summary of two sessions; pre-commit shows a passing hook's output
# only with --verbose)
passes_two_clean_refs() {
	clean_main
	honest_branch honest
	run git push origin main honest
	assert_success
	assert_output --regexp "${1:-hive-check: 2 sessions checked: 0 errors, 0 warnings}"
	assert_equal "$(remote_sha main)" "$(git rev-parse main)"
	assert_equal "$(remote_sha honest)" "$(git rev-parse honest)"
}

# --- the plain hook --------------------------------------------------------------------

install_plain() {
	hive-init -q --install-hooks >/dev/null || fail "hive-init --install-hooks failed"
}

@test "plain hook: two clean refs go through, both checked" {
	install_plain
	passes_two_clean_refs
}

@test "plain hook: a forged second ref in a two-ref push is refused; the remote is unchanged" {
	install_plain
	refused_two_refs
}

@test "plain hook: on main, git push origin forged (and forged:elsewhere) is refused" {
	install_plain
	refused_refspec_from_other_branch
}

# --- pre-commit ------------------------------------------------------------------------

# .pre-commit-config.yaml as README says, with this source tree's .pre-commit-hooks.yaml and
# hooks/ committed in a hook repository of their own (what pre-commit clones), and
# `pre-commit install --hook-type pre-push`
install_pre_commit() {
	command -v pre-commit >/dev/null ||
		fail "pre-commit is not installed (Debian package pre-commit; run make deps)"
	export PRE_COMMIT_HOME="$BATS_TEST_TMPDIR/pre-commit-home"
	export XDG_CACHE_HOME="$BATS_TEST_TMPDIR/cache"
	export PRE_COMMIT_COLOR=never
	local hooks="$BATS_TEST_TMPDIR/hive-hooks"
	git init -q "$hooks"
	cp "$SRC_TOP/.pre-commit-hooks.yaml" "$hooks/"
	cp -pR "$SRC_TOP/hooks" "$hooks/hooks"
	git -C "$hooks" add -A && git -C "$hooks" commit -q -m 'hive hooks'
	readme_block pre-commit yaml |
		sed -e "s|repo: https://github.com/<owner>/hive.*|repo: $hooks|" \
			-e "s|rev: <tag or commit>|rev: $(git -C "$hooks" rev-parse HEAD)|" \
			>.pre-commit-config.yaml
	grep -q "rev: [0-9a-f]\{40\}" .pre-commit-config.yaml || fail "README's pre-commit config changed shape"
	git add .pre-commit-config.yaml && git commit -q -m 'pre-commit config'
	git push -q --no-verify origin main
	PUBLISHED="$(git rev-parse main)"
	pre-commit install --hook-type pre-push >/dev/null || fail "pre-commit install failed"
}

@test "pre-commit: two clean refs go through, both checked" {
	install_pre_commit
	passes_two_clean_refs 'hive-check \(sessions in the pushed commits\)\.+Passed'
	# what it checked: both branches, as pre-commit's verbose output shows
	clean_main
	honest_branch honest2
	run pre-commit run --hook-stage push --verbose hive-check
	assert_success
	assert_output --partial 'hive-check: 2 sessions checked: 0 errors, 0 warnings'
}

@test "pre-commit: a forged second ref is refused, though pre-commit names only the first" {
	install_pre_commit
	refused_two_refs
	assert_output --regexp 'hive-check \(sessions in the pushed commits\)\.+Failed'
}

@test "pre-commit: on main, git push origin forged (and forged:elsewhere) is refused" {
	install_pre_commit
	refused_refspec_from_other_branch
}

@test "pre-commit adapter: the named ref is held against the remote's old tip (a force-push rewrite)" {
	install_pre_commit
	# an amended, force-pushed main: only the line pre-commit names says what the remote had
	local f
	f="$(events_of s1)"
	sed -i '3s/"step":"2"/"step":"8"/' "$f"
	rechain "$f"
	sync_state "$(session_dir s1)"
	git commit -q --amend -a --no-edit
	run git push --force origin main
	assert_failure
	assert_output --partial "Docs/hive-mind/sessions/s1/EVENTS.jsonl:3: error: [history] line 3 differs from the published version (${PUBLISHED:0:7})"
	assert_equal "$(remote_sha main)" "$PUBLISHED"
}

# --- lefthook --------------------------------------------------------------------------

# lefthook.yml and .lefthook/pre-push/hive-check.sh as README says; the real lefthook binary
# (the platform package lefthook's npm package runs) on PATH, and `lefthook install`
install_lefthook() {
	local os cpu bin
	os=$(uname | tr '[:upper:]' '[:lower:]')
	cpu=$(uname -m | sed 's/aarch64/arm64/;s/x86_64/x64/')
	bin="$SRC_TOP/tests/node_modules/lefthook-$os-$cpu/bin"
	[[ -x "$bin/lefthook" ]] ||
		fail "$bin/lefthook is missing: run 'make deps' (tests/package.json lists lefthook)"
	export PATH="$bin:$PATH" NO_COLOR=1
	readme_block lefthook yaml >lefthook.yml
	grep -q 'use_stdin: true' lefthook.yml || fail "README's lefthook.yml changed shape"
	mkdir -p .lefthook/pre-push
	readme_block lefthook sh >.lefthook/pre-push/hive-check.sh
	grep -q 'exec hive-check --pre-push "\$@"' .lefthook/pre-push/hive-check.sh ||
		fail "README's hive-check.sh changed shape"
	git add lefthook.yml .lefthook && git commit -q -m 'lefthook config'
	git push -q --no-verify origin main
	PUBLISHED="$(git rev-parse main)"
	lefthook install >/dev/null 2>&1 || fail "lefthook install failed"
	grep -q lefthook .git/hooks/pre-push || fail "lefthook installed no pre-push hook"
}

@test "lefthook: two clean refs go through, both checked" {
	install_lefthook
	passes_two_clean_refs
}

@test "lefthook: a forged second ref in a two-ref push is refused; the remote is unchanged" {
	install_lefthook
	refused_two_refs
}

@test "lefthook: on main, git push origin forged (and forged:elsewhere) is refused" {
	install_lefthook
	refused_refspec_from_other_branch
}

@test "lefthook: a push URL with a space (split by lefthook 2.2.1); HIVE_SKIP=1; a missing hive-check" {
	install_lefthook
	forged_branch forged
	git init -q --bare "$BATS_TEST_TMPDIR/a remote.git"
	run git push "$BATS_TEST_TMPDIR/a remote.git" forged
	assert_failure
	assert_output --partial '[history] line 2 differs'
	assert_equal "$(git --git-dir="$BATS_TEST_TMPDIR/a remote.git" for-each-ref)" ""
	run env HIVE_SKIP=1 git push origin forged
	assert_success
	assert_output --partial 'HIVE_SKIP=1: hive-check skipped'
	git push -q --no-verify origin --delete forged
	run env PATH="$(dirname "$(command -v lefthook)"):/usr/bin:/bin" git push origin forged
	assert_failure
	assert_equal "$(remote_sha forged)" ""
}

@test "lefthook: what the README warns about, observed (a commands: entry is skipped; no use_stdin is an empty stdin)" {
	install_lefthook
	forged_branch forged
	# a command, glob or not: lefthook's push files are `git diff HEAD @{push}` (main against
	# origin/main: nothing), whatever is pushed, and it skips the command
	cat >lefthook.yml <<-'EOF'
		pre-push:
		  commands:
		    hive-check:
		      run: hive-check --pre-push
		      use_stdin: true
	EOF
	run git push origin forged
	assert_success
	assert_output --partial 'hive-check (skip) no matching push files'
	assert_equal "$(remote_sha forged)" "$(git rev-parse forged)"
	git push -q --no-verify origin --delete forged
	# the script without use_stdin: hive-check reads nothing, and an empty stdin fails closed
	cat >lefthook.yml <<-'EOF'
		pre-push:
		  scripts:
		    "hive-check.sh":
		      runner: sh
	EOF
	run git push origin forged
	assert_failure
	assert_output --partial '[history] line 2 differs'
	assert_equal "$(remote_sha forged)" ""
}

# --- husky -----------------------------------------------------------------------------

# husky (the real one, husky 9) run in the repository, and .husky/pre-push as README says
install_husky() {
	local husky="$SRC_TOP/tests/node_modules/husky/bin.js"
	[[ -f "$husky" ]] || fail "$husky is missing: run 'make deps' (tests/package.json lists husky)"
	node "$husky" >/dev/null || fail "husky failed"
	[ "$(git config core.hooksPath)" = .husky/_ ] || fail "husky set no core.hooksPath"
	readme_block husky sh >.husky/pre-push
	grep -q 'hive-check --pre-push "\$@"' .husky/pre-push || fail "README's .husky/pre-push changed shape"
	git add .husky/pre-push && git commit -q -m 'husky pre-push'
	git push -q --no-verify origin main
	PUBLISHED="$(git rev-parse main)"
}

@test "husky: two clean refs go through, both checked" {
	install_husky
	passes_two_clean_refs
}

@test "husky: a forged second ref in a two-ref push is refused; the remote is unchanged" {
	install_husky
	refused_two_refs
}

@test "husky: on main, git push origin forged (and forged:elsewhere) is refused" {
	install_husky
	refused_refspec_from_other_branch
}
