#!/usr/bin/env bats
# tests/bats/hooks.bats - hooks/pre-push, hive-init --install-hooks and .pre-commit-hooks.yaml,
# proven with the real clients: `git push` to a bare remote made here, through the hook that
# hive-init installed, and the pre-commit framework (Debian's pre-commit) running hive from
# .pre-commit-hooks.yaml. hook-managers.bats attacks every hook manager (pre-commit,
# lefthook, husky) with multi-ref and explicit-refspec pushes.
#
# Sessions are made for real with hive-init and hive-emit in a repository from make_repo,
# committed, and tampered with by hand (sed) so that hive-check has a chain to refuse.

# Single-quoted jq programs use jq's $variables; bats runs each test in a subshell.
# shellcheck disable=SC2016,SC2030,SC2031

load test_helper

ZERO=0000000000000000000000000000000000000000

setup() {
	hive_setup || return 1
	require_tool hive-check || return 1
	require_tool hive-emit || return 1
	REPO="$BATS_TEST_TMPDIR/repo"
	make_repo "$REPO"
	REPO="$(cd "$REPO" && pwd -P)"
	REMOTE="$BATS_TEST_TMPDIR/remote.git"
	git init -q --bare "$REMOTE"
	git -C "$REPO" remote add origin "$REMOTE"
	cd "$REPO" || return 1
}

# --- helpers for this suite -----------------------------------------------------------

# new_session ID: hive-init the session and emit two events into it.
new_session() {
	local id=$1 i
	hive-init --session "$id" >/dev/null 2>&1 || fail "hive-init --session $id failed"
	for i in 1 2; do
		hive-emit --session "$id" pipeline_updated --resource "ci-$i" --action update \
			--platform Docker --status success step="$i" >/dev/null 2>&1 ||
			fail "hive-emit into $id failed"
	done
}

# commit_session ID: new_session ID and commit its folder.
commit_session() {
	new_session "$1"
	git add -A Docs && git commit -q -m "session $1" || fail "cannot commit session $1"
}

# tamper ID: edit line 2 of session ID's log (breaking the chain at line 3) and commit it.
tamper() {
	local f
	f="$(session_dir "$1")/EVENTS.jsonl"
	sed -i '2s/"step":"1"/"step":"X"/' "$f"
	git commit -q -am "tamper with $1" || fail "cannot commit the tampered $1"
}

# remote_sha BRANCH: what the remote says BRANCH is (empty when it has none).
remote_sha() {
	git --git-dir="$REMOTE" rev-parse -q --verify "refs/heads/$1" || true
}

# install_hooks [ARGS…]: hive-init --install-hooks, which must succeed.
install_hooks() {
	run --separate-stderr hive-init --install-hooks "$@"
	assert_success
}

# a pre-push hook that is not hive's: it records its arguments and standard input under
# $BATS_TEST_TMPDIR/foreign.*, notes in order.log that it ran, and exits with $FOREIGN_EXIT
write_foreign_hook() {
	cat >"$1" <<-EOF
		#!/bin/sh
		printf '%s\n' "\$*" >'$BATS_TEST_TMPDIR/foreign.args'
		cat >'$BATS_TEST_TMPDIR/foreign.stdin'
		echo foreign >>'$BATS_TEST_TMPDIR/order.log'
		echo 'foreign hook ran' >&2
		exit \${FOREIGN_EXIT:-0}
	EOF
	chmod 755 "$1"
}

# a folder holding a hive-check that records its standard input in hive.stdin and notes in
# order.log that it ran, then is the real one: for HIVE_BIN_DIR
write_spy_bin() {
	mkdir -p "$BATS_TEST_TMPDIR/spy"
	cat >"$BATS_TEST_TMPDIR/spy/hive-check" <<-EOF
		#!/bin/sh
		echo hive >>'$BATS_TEST_TMPDIR/order.log'
		tee '$BATS_TEST_TMPDIR/hive.stdin' | '$BUILD_DIR/hive-check' "\$@"
	EOF
	chmod 755 "$BATS_TEST_TMPDIR/spy/hive-check"
}

# refute_stderr_partial TEXT: $stderr does not contain TEXT.
refute_stderr_partial() {
	if [[ "${stderr-}" == *"$1"* ]]; then
		fail "$(printf 'stderr should not contain %s:\n%s' "$1" "$stderr")"
	fi
}

# --- the hook's text -------------------------------------------------------------------

@test "the built-in hook is generated from hooks/pre-push: the header is in the build, an edit rebuilds" {
	[[ -f "$BUILD_DIR/gen/hook-pre-push.h" ]] || fail "no $BUILD_DIR/gen/hook-pre-push.h"
	# the generated header is what scripts/embed.sh makes of hooks/pre-push now
	run sh -c 'cd "$1" && sh scripts/embed.sh hooks/pre-push' _ "$SRC_TOP"
	assert_success
	[[ $output == "$(cat "$BUILD_DIR/gen/hook-pre-push.h")" ]] ||
		fail "$BUILD_DIR/gen/hook-pre-push.h is stale: run make"
	# no pasted copy is left in lib/hooks.c
	run grep -c 'hive-managed-hook' "$SRC_TOP/lib/hooks.c"
	assert_output 0
	# make, were hooks/pre-push newer, would regenerate the header and recompile hooks.o
	run env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$SRC_TOP" --no-print-directory -n \
		BUILD="$BUILD_DIR" -W hooks/pre-push "$BUILD_DIR/obj/lib/hooks.o"
	assert_success
	assert_line --partial 'scripts/embed.sh hooks/pre-push'
	# (the Makefile quotes every path it hands the shell)
	assert_line --regexp " -c 'lib/hooks\.c' -o '$BUILD_DIR/obj/lib/hooks\.o'\$"
}

@test "scripts/embed.sh carries every byte: escapes, trigraphs, tabs, CR, non-ASCII, no final newline" {
	command -v cc >/dev/null || fail "cc is missing"
	for name in tricky nonl empty; do
		case $name in
		tricky) printf '#!/bin/sh\n\ta="\\ \"q\" ??/ ??= %%s $?"\r\n\303\251\001\177\n\n' >"$name" ;;
		nonl) printf 'last line without newline' >"$name" ;;
		empty) : >"$name" ;;
		esac
		sh "$SRC_TOP/scripts/embed.sh" "$name" >"$name.h"
		printf '#include <stdio.h>\nstatic const char s[] =\n#include "%s.h"\n\t;\nint main(void) { return fwrite(s, 1, sizeof(s) - 1, stdout) != sizeof(s) - 1; }\n' \
			"$name" >"$name.c"
		cc -std=c11 -Wall -Wextra -Wpedantic -Werror -o "$name.bin" "$name.c" || fail "$name.h does not compile"
		"./$name.bin" >"$name.out"
		cmp "$name" "$name.out" || fail "$name: the embedded bytes differ"
	done
	run sh "$SRC_TOP/scripts/embed.sh"
	assert_failure 2
	assert_output --partial 'usage: sh scripts/embed.sh FILE'
	# the build's generators are POSIX sh, shellcheck-clean
	run shellcheck --shell=sh "$SRC_TOP/scripts/embed.sh" "$SRC_TOP/scripts/completion.sh"
	assert_success
}

@test "the hook hive-init installs is hooks/pre-push byte for byte, mode 0755, and starts no session" {
	install_hooks
	cmp "$SRC_TOP/hooks/pre-push" .git/hooks/pre-push
	[ "$(stat -c %a .git/hooks/pre-push)" = 755 ]
	[ -f .git/hooks/pre-push ] && [ ! -L .git/hooks/pre-push ]
	assert_jq '.hook == {path: $p, result: "installed", local: null, core_hooks_path: false}' \
		"$output" --arg p "$REPO/.git/hooks/pre-push"
	assert_jq 'has("session_id") | not' "$output"
	assert_stderr "hive-init: $REPO/.git/hooks/pre-push: hive's pre-push hook installed"
	[ ! -e Docs ] # no session without a session id (docs/hooks.md says why)
	[ ! -e .git/hooks/pre-push.local ]
}

@test "hooks/pre-push and hooks/pre-commit-pre-push are POSIX sh and shellcheck-clean" {
	command -v shellcheck >/dev/null || fail "shellcheck is not installed (run make deps)"
	run shellcheck --shell=sh "$SRC_TOP/hooks/pre-push" "$SRC_TOP/hooks/pre-commit-pre-push"
	assert_success
	assert_output ''
	head -n 1 "$SRC_TOP/hooks/pre-push" | grep -qx '#!/bin/sh'
	head -n 1 "$SRC_TOP/hooks/pre-commit-pre-push" | grep -qx '#!/bin/sh'
	# dash, Debian's /bin/sh, parses them too
	dash -n "$SRC_TOP/hooks/pre-push"
	dash -n "$SRC_TOP/hooks/pre-commit-pre-push"
	[ -x "$SRC_TOP/hooks/pre-push" ] && [ -x "$SRC_TOP/hooks/pre-commit-pre-push" ]
}

# --- a real git push through the installed hook ----------------------------------------

@test "push: a clean session goes through; a tampered one is refused and the remote is unchanged" {
	install_hooks
	commit_session s1
	run git push origin main
	assert_success
	assert_output --partial 'hive-check: 1 session checked: 0 errors, 0 warnings'
	assert_equal "$(remote_sha main)" "$(git rev-parse main)"

	local before
	before="$(remote_sha main)"
	tamper s1
	run git push origin main
	assert_failure
	assert_output --partial 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:3: error: [chain]'
	assert_output --partial '(push refused; HIVE_SKIP=1 bypasses the hook)'
	assert_equal "$(remote_sha main)" "$before"
}

@test "push: HIVE_SKIP=1 lets a tampered session through and says so on stderr" {
	install_hooks
	commit_session s1
	tamper s1
	# a value other than 1 is no bypass
	run env HIVE_SKIP=yes git push origin main
	assert_failure
	assert_output --partial '[chain]'
	[ -z "$(remote_sha main)" ]
	run --separate-stderr env HIVE_SKIP=1 git push -q origin main
	assert_success
	assert_stderr --partial 'hive pre-push: HIVE_SKIP=1: hive-check skipped'
	refute_stderr_partial 'session checked'
	assert_equal "$(remote_sha main)" "$(git rev-parse main)"
}

@test "push: without hive-check on PATH the push is refused with how to install or bypass" {
	install_hooks
	commit_session s1
	local path=/usr/bin:/bin
	! PATH=$path command -v hive-check >/dev/null ||
		fail "hive-check is installed in $path: this test needs a PATH without it"
	run env PATH="$path" git push origin main
	assert_failure
	assert_output --partial 'hive pre-push: error: hive-check is not installed (not found on PATH): push refused'
	assert_output --partial 'make && sudo make install'
	assert_output --partial 'HIVE_SKIP=1 git push'
	[ -z "$(remote_sha main)" ]
	# HIVE_BIN_DIR names where it is: the push is checked (and goes through)
	run env PATH="$path" HIVE_BIN_DIR="$BUILD_DIR" git push origin main
	assert_success
	assert_output --partial 'hive-check: 1 session checked: 0 errors, 0 warnings'
	# an HIVE_BIN_DIR without it refuses, naming the folder
	tamper s1
	mkdir "$BATS_TEST_TMPDIR/empty-bin"
	run env HIVE_BIN_DIR="$BATS_TEST_TMPDIR/empty-bin" git push origin main
	assert_failure
	assert_output --partial "no executable hive-check in HIVE_BIN_DIR ($BATS_TEST_TMPDIR/empty-bin): push refused"
	# and the bypass the message offers works
	run env PATH="$path" HIVE_SKIP=1 git push origin main
	assert_success
}

# --- a hook that was there before ------------------------------------------------------

@test "a foreign pre-push is kept as pre-push.local and runs first, with git's arguments and stdin" {
	write_foreign_hook .git/hooks/pre-push
	cp .git/hooks/pre-push "$BATS_TEST_TMPDIR/foreign.orig"
	install_hooks
	assert_jq '.hook.result == "installed" and .hook.local == $l' "$output" \
		--arg l "$REPO/.git/hooks/pre-push.local"
	assert_stderr --partial "hive-init: kept the pre-push hook that was there as $REPO/.git/hooks/pre-push.local: it runs first"
	cmp "$BATS_TEST_TMPDIR/foreign.orig" .git/hooks/pre-push.local
	[ "$(stat -c %a .git/hooks/pre-push.local)" = 755 ]
	cmp "$SRC_TOP/hooks/pre-push" .git/hooks/pre-push

	write_spy_bin
	commit_session s1
	run env HIVE_BIN_DIR="$BATS_TEST_TMPDIR/spy" git push origin main
	assert_success
	assert_output --partial 'foreign hook ran'
	assert_output --partial 'hive-check: 1 session checked: 0 errors, 0 warnings'
	# the foreign hook first, then hive; both read git's line, the very same bytes
	assert_equal "$(cat "$BATS_TEST_TMPDIR/order.log")" $'foreign\nhive'
	assert_equal "$(cat "$BATS_TEST_TMPDIR/foreign.args")" "origin $REMOTE"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/foreign.stdin")" \
		"refs/heads/main $(git rev-parse main) refs/heads/main $ZERO"
	cmp "$BATS_TEST_TMPDIR/foreign.stdin" "$BATS_TEST_TMPDIR/hive.stdin"
	# two refs in one push: two lines, both readers get both
	git branch one && git branch two
	run env HIVE_BIN_DIR="$BATS_TEST_TMPDIR/spy" git push origin one two
	assert_success
	assert_equal "$(wc -l <"$BATS_TEST_TMPDIR/foreign.stdin")" 2
	grep -q "^refs/heads/one $(git rev-parse one) refs/heads/one $ZERO\$" "$BATS_TEST_TMPDIR/foreign.stdin"
	grep -q "^refs/heads/two $(git rev-parse two) refs/heads/two $ZERO\$" "$BATS_TEST_TMPDIR/foreign.stdin"
	cmp "$BATS_TEST_TMPDIR/foreign.stdin" "$BATS_TEST_TMPDIR/hive.stdin"

	# hive still refuses a tampered session after the foreign hook passed
	tamper s1
	run git push origin main
	assert_failure
	assert_output --partial 'foreign hook ran'
	assert_output --partial '[chain]'
	# HIVE_SKIP skips hive's check only: the foreign hook is not hive's to skip
	rm -f "$BATS_TEST_TMPDIR/order.log"
	run env HIVE_SKIP=1 git push origin main
	assert_success
	assert_equal "$(cat "$BATS_TEST_TMPDIR/order.log")" foreign
}

@test "a failing pre-push.local refuses the push with its status before hive-check runs" {
	write_foreign_hook .git/hooks/pre-push
	install_hooks
	write_spy_bin
	commit_session s1
	run env FOREIGN_EXIT=7 HIVE_BIN_DIR="$BATS_TEST_TMPDIR/spy" git push origin main
	assert_failure
	assert_output --partial "hive pre-push: .git/hooks/pre-push.local failed (exit 7): push refused"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/order.log")" foreign
	[ -z "$(remote_sha main)" ]
}

@test "a foreign pre-push that is a symbolic link is kept as a link; its target is never written" {
	mkdir -p "$BATS_TEST_TMPDIR/tools"
	write_foreign_hook "$BATS_TEST_TMPDIR/tools/my-pre-push"
	cp "$BATS_TEST_TMPDIR/tools/my-pre-push" "$BATS_TEST_TMPDIR/target.orig"
	ln -s "$BATS_TEST_TMPDIR/tools/my-pre-push" .git/hooks/pre-push
	install_hooks
	[ -L .git/hooks/pre-push.local ]
	assert_equal "$(readlink .git/hooks/pre-push.local)" "$BATS_TEST_TMPDIR/tools/my-pre-push"
	cmp "$BATS_TEST_TMPDIR/target.orig" "$BATS_TEST_TMPDIR/tools/my-pre-push"
	[ -f .git/hooks/pre-push ] && [ ! -L .git/hooks/pre-push ]
	cmp "$SRC_TOP/hooks/pre-push" .git/hooks/pre-push
	commit_session s1
	run git push origin main
	assert_success
	assert_output --partial 'foreign hook ran'
	assert_output --partial 'hive-check: 1 session checked'
}

@test "a foreign pre-push with a pre-push.local already there: exit 3, nothing changed" {
	write_foreign_hook .git/hooks/pre-push
	printf '#!/bin/sh\nexit 0\n' >.git/hooks/pre-push.local
	chmod 755 .git/hooks/pre-push.local
	run_refused 3 "^hive-init: error: $REPO/.git/hooks/pre-push is not hive's and pre-push.local exists too: nothing was changed; merge the two" \
		hive-init --install-hooks
	# with a session id too: the session is not created either
	run_refused 3 "pre-push.local exists too" hive-init --install-hooks --session s1
	[ ! -e Docs ]
}

# --- running it again ------------------------------------------------------------------

@test "running --install-hooks twice changes nothing: byte for byte, same file, no second .local" {
	write_foreign_hook .git/hooks/pre-push
	install_hooks
	local inode
	inode="$(stat -c %i .git/hooks/pre-push)"
	snapshot "$BATS_TEST_TMPDIR"
	install_hooks
	assert_jq '.hook.result == "unchanged" and .hook.local == $l' "$output" \
		--arg l "$REPO/.git/hooks/pre-push.local"
	assert_stderr "hive-init: $REPO/.git/hooks/pre-push: hive's pre-push hook is already installed"
	assert_unchanged "$BATS_TEST_TMPDIR"
	assert_equal "$(stat -c %i .git/hooks/pre-push)" "$inode" # not even rewritten
	run ls -A .git/hooks
	refute_output --partial 'pre-push.local.'
	refute_output --partial '.tmp'
	# -q: the same, silently
	install_hooks -q
	assert_stderr_empty
	assert_unchanged "$BATS_TEST_TMPDIR"
}

@test "an older or edited hive hook is rewritten in place, never kept as pre-push.local" {
	# hive's marker line makes it hive's, whatever else it says
	printf '#!/bin/sh\n# hive-managed-hook: pre-push\nexec hive-check --pre-push --old\n' \
		>.git/hooks/pre-push
	chmod 755 .git/hooks/pre-push
	install_hooks
	assert_jq '.hook.result == "updated" and .hook.local == null' "$output"
	assert_stderr "hive-init: $REPO/.git/hooks/pre-push: hive's pre-push hook updated"
	cmp "$SRC_TOP/hooks/pre-push" .git/hooks/pre-push
	[ ! -e .git/hooks/pre-push.local ]
	# the current hook made not executable is repaired too
	chmod 644 .git/hooks/pre-push
	install_hooks
	assert_jq '.hook.result == "updated"' "$output"
	[ "$(stat -c %a .git/hooks/pre-push)" = 755 ]
	# a file that merely mentions the marker in passing is not hive's
	printf '#!/bin/sh\necho "# hive-managed-hook: pre-push"\n' >.git/hooks/pre-push
	install_hooks
	assert_jq '.hook.result == "installed" and .hook.local != null' "$output"
	grep -q '^echo' .git/hooks/pre-push.local
}

@test "the hooks folder is created when missing (git init --template= makes none)" {
	rm -rf .git/hooks
	install_hooks
	cmp "$SRC_TOP/hooks/pre-push" .git/hooks/pre-push
}

# --- core.hooksPath --------------------------------------------------------------------

@test "core.hooksPath (relative): installs there from a subdirectory, says so, and git runs it" {
	git config core.hooksPath .githooks
	mkdir -p .githooks
	write_foreign_hook .githooks/pre-push
	cd infra
	install_hooks
	assert_stderr --partial "hive-init: installing into core.hooksPath $REPO/.githooks"
	assert_jq '.hook.path == $p and .hook.core_hooks_path and .hook.local == $l' "$output" \
		--arg p "$REPO/.githooks/pre-push" --arg l "$REPO/.githooks/pre-push.local"
	cd "$REPO"
	cmp "$SRC_TOP/hooks/pre-push" .githooks/pre-push
	[ -x .githooks/pre-push.local ]
	[ ! -e .git/hooks/pre-push ] # not where git would not look
	[ ! -e infra/.githooks ]

	commit_session s1
	run git push origin main
	assert_success
	assert_output --partial 'foreign hook ran'
	assert_output --partial 'hive-check: 1 session checked: 0 errors, 0 warnings'
	tamper s1
	run git push origin main
	assert_failure
	assert_output --partial '[chain]'
}

@test "core.hooksPath (absolute, not there yet): the folder is created and used" {
	git config core.hooksPath "$BATS_TEST_TMPDIR/shared hooks/git"
	install_hooks
	assert_stderr --partial "hive-init: installing into core.hooksPath $BATS_TEST_TMPDIR/shared hooks/git"
	cmp "$SRC_TOP/hooks/pre-push" "$BATS_TEST_TMPDIR/shared hooks/git/pre-push"
	commit_session s1
	tamper s1
	run git push origin main
	assert_failure
	assert_output --partial '[chain]'
	[ -z "$(remote_sha main)" ]
}

@test "core.hooksPath ~/: expanded to HOME, as git does" {
	git config core.hooksPath '~/githooks'
	install_hooks
	assert_stderr --partial "installing into core.hooksPath $HOME/githooks"
	cmp "$SRC_TOP/hooks/pre-push" "$HOME/githooks/pre-push"
}

# --- linked worktrees, bare repositories, no repository ---------------------------------

@test "linked worktree: installs into the common git dir's hooks; a push from the worktree is checked" {
	git worktree add -q "$BATS_TEST_TMPDIR/wt" -b feature
	cd "$BATS_TEST_TMPDIR/wt"
	install_hooks
	assert_jq '.hook.path == $p' "$output" --arg p "$REPO/.git/hooks/pre-push"
	cmp "$SRC_TOP/hooks/pre-push" "$REPO/.git/hooks/pre-push"
	[ ! -e "$REPO/.git/worktrees/wt/hooks" ]

	commit_session s2
	run git push origin feature
	assert_success
	assert_output --partial 'hive-check: 1 session checked: 0 errors, 0 warnings'
	tamper s2
	run git push origin feature
	assert_failure
	assert_output --partial 'Docs/hive-mind/sessions/s2/EVENTS.jsonl:3: error: [chain]'
	# from the main work tree, installing again finds the same hook: nothing changes
	cd "$REPO"
	install_hooks
	assert_jq '.hook.result == "unchanged"' "$output"
}

@test "a bare repository: the hook goes into its own hooks folder" {
	cd "$REMOTE"
	install_hooks
	cmp "$SRC_TOP/hooks/pre-push" "$REMOTE/hooks/pre-push"
}

@test "outside a repository --install-hooks is exit 2 and changes nothing" {
	mkdir "$BATS_TEST_TMPDIR/plain"
	cd "$BATS_TEST_TMPDIR/plain"
	run_refused 2 '^hive-init: error: --install-hooks: not in a git repository' \
		hive-init --install-hooks
}

# --- with a session --------------------------------------------------------------------

@test "with a session id the session is started (or rejoined) too, and the output has both" {
	install_hooks --session s1
	assert_jq '.session_id == "s1" and .created and .events == 1' "$output"
	assert_jq '.hook.result == "installed" and .hook.path == $p' "$output" \
		--arg p "$REPO/.git/hooks/pre-push"
	[ -f "$(session_dir s1)/EVENTS.jsonl" ]
	run --separate-stderr env HIVE_SESSION_ID=s1 hive-init --install-hooks
	assert_success
	assert_jq '.session_id == "s1" and (.created | not) and .hook.result == "unchanged"' "$output"
	# in CI the CI's id is the session
	run --separate-stderr env GITHUB_ACTIONS=true GITHUB_RUN_ID=77 GITHUB_RUN_ATTEMPT=1 \
		hive-init --install-hooks -q
	assert_success
	assert_jq '.session_id == "gh-77-1"' "$output"
	# --export prints the id; the hook is still installed
	run --separate-stderr hive-init --install-hooks --session s1 --export sh
	assert_success
	assert_output 'export HIVE_SESSION_ID=s1'
}

@test "--install-hooks --export without a session id is exit 2 and changes nothing" {
	run_refused 2 '^hive-init: error: --export needs a session: --install-hooks starts none' \
		hive-init --install-hooks --export sh
}

# --- the man page and the usage --------------------------------------------------------

@test "--install-hooks is in the usage and the man page (lint-clean), in SYNOPSIS and OPTIONS" {
	run hive-init --help
	assert_success
	assert_line --index 0 --partial '[--install-hooks]'
	assert_line --regexp '^  --install-hooks  '
	run mandoc -Tlint -W warning "$SRC_TOP/man/hive-init.1"
	assert_success
	assert_output ''
	local synopsis options
	synopsis="$(awk '/^\.Sh SYNOPSIS/ { on = 1; next } /^\.Sh / { on = 0 } on' "$SRC_TOP/man/hive-init.1")"
	options="$(awk '/^\.Sh OPTIONS/ { on = 1; next } /^\.Sh / { on = 0 } on' "$SRC_TOP/man/hive-init.1")"
	grep -qx '\.Op Fl -install-hooks' <<<"$synopsis"
	grep -qx '\.It Fl -install-hooks' <<<"$options"
}

# --- the pre-commit framework ----------------------------------------------------------

# A hook repository as pre-commit clones it: .pre-commit-hooks.yaml and hooks/ from this
# source tree (as they are in the work tree), committed in a repository of their own.
setup_pre_commit() {
	command -v pre-commit >/dev/null ||
		fail "pre-commit is not installed (Debian package pre-commit; run make deps)"
	export PRE_COMMIT_HOME="$BATS_TEST_TMPDIR/pre-commit-home"
	export XDG_CACHE_HOME="$BATS_TEST_TMPDIR/cache"
	export PRE_COMMIT_COLOR=never
	HOOK_REPO="$BATS_TEST_TMPDIR/hive-hooks"
	git init -q "$HOOK_REPO"
	cp "$SRC_TOP/.pre-commit-hooks.yaml" "$HOOK_REPO/"
	cp -pR "$SRC_TOP/hooks" "$HOOK_REPO/hooks"
	git -C "$HOOK_REPO" add -A
	git -C "$HOOK_REPO" commit -q -m 'hive hooks'
	HOOK_REV="$(git -C "$HOOK_REPO" rev-parse HEAD)"
}

@test "pre-commit try-repo runs hive-check at the push stage: passes, then fails on a tampered session" {
	setup_pre_commit
	commit_session s1
	run pre-commit try-repo "$HOOK_REPO" hive-check --hook-stage push --verbose \
		--from-ref "$(git rev-list --max-parents=0 HEAD)" --to-ref HEAD
	assert_success
	assert_output --regexp 'hive-check \(sessions in the pushed commits\)\.+Passed'
	assert_output --partial 'hive-check: 1 session checked: 0 errors, 0 warnings'

	tamper s1
	run pre-commit try-repo "$HOOK_REPO" hive-check --hook-stage push \
		--from-ref HEAD~1 --to-ref HEAD
	assert_failure
	assert_output --regexp 'hive-check \(sessions in the pushed commits\)\.+Failed'
	assert_output --partial 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:3: error: [chain]'
	# with no range at all (pre-commit run by hand): everything not on a remote-tracking ref
	run pre-commit try-repo "$HOOK_REPO" hive-check --hook-stage push --all-files
	assert_failure
	assert_output --partial '[chain]'
	# the range pre-commit gives is not all that is checked: pre-commit names one ref of a
	# push, so every unpushed branch is checked too, and main still carries the tampering
	run pre-commit try-repo "$HOOK_REPO" hive-check --hook-stage push \
		--from-ref HEAD~2 --to-ref HEAD~1
	assert_failure
	assert_output --partial 'Docs/hive-mind/sessions/s1/EVENTS.jsonl:3: error: [chain]'
	# and HIVE_SKIP=1 bypasses it, saying so
	run env HIVE_SKIP=1 pre-commit try-repo "$HOOK_REPO" hive-check --hook-stage push \
		--from-ref HEAD~1 --to-ref HEAD --verbose
	assert_success
	assert_output --partial 'HIVE_SKIP=1: hive-check skipped'
}

@test "pre-commit install --hook-type pre-push with the documented config: a real git push is checked" {
	setup_pre_commit
	cat >.pre-commit-config.yaml <<-EOF
		repos:
		  - repo: $HOOK_REPO
		    rev: $HOOK_REV
		    hooks:
		      - id: hive-check
	EOF
	git add .pre-commit-config.yaml && git commit -q -m 'pre-commit config'
	run pre-commit install --hook-type pre-push
	assert_success
	commit_session s1
	run git push origin main
	assert_success
	assert_output --regexp 'hive-check \(sessions in the pushed commits\)\.+Passed'
	assert_equal "$(remote_sha main)" "$(git rev-parse main)"
	local before
	before="$(remote_sha main)"
	tamper s1
	run git push origin main
	assert_failure
	assert_output --regexp 'hive-check \(sessions in the pushed commits\)\.+Failed'
	assert_output --partial '[chain]'
	assert_equal "$(remote_sha main)" "$before"
	# pre-commit's hook is foreign to hive: --install-hooks keeps it running, first
	install_hooks
	assert_jq '.hook.local == $l' "$output" --arg l "$REPO/.git/hooks/pre-push.local"
	run git push origin main
	assert_failure
	assert_output --regexp 'hive-check \(sessions in the pushed commits\)\.+Failed'
	assert_output --partial '(push refused; HIVE_SKIP=1 bypasses the hook)'
}
