#!/usr/bin/env bats
# tests/bats/gitctx.bats - the git and CI context hive-init records in session_started
# (SPEC 2.2, 2.3), read back with jq from line 1 of EVENTS.jsonl and from STATE.json.
#
# Every repository layout DESIGN.md lists: a plain clone, a linked worktree, GIT_DIR set as
# git sets it for hooks (simulated and from real hooks), a bare repository, an unborn
# branch, a detached HEAD in GitHub and GitLab, and no repository at all.

# Single-quoted jq programs use jq's $variables; bats runs each test in a subshell.
# shellcheck disable=SC2016,SC2030,SC2031

load test_helper

setup() {
	hive_setup || return 1
	T="$(cd "$BATS_TEST_TMPDIR" && pwd -P)"
	N=0
}

# ctx: run hive-init for a new session (ctx1, ctx2, …) in the current directory and
# print the `git` object of its session_started; also checks that STATE.json agrees.
# ROOT (default $PWD/Docs/hive-mind) says where the session is expected.
ctx() {
	local id dir
	N=$((N + 1))
	id="ctx$N"
	run --separate-stderr hive-init --session "$id"
	assert_success
	dir="$(session_dir "$id" "${ROOT:-$PWD/Docs/hive-mind}")"
	[[ -f "$dir/EVENTS.jsonl" ]] || fail "no session at $dir: $output ${stderr-}"
	LAST_EVENT="$(sed -n 1p "$dir/EVENTS.jsonl")"
	LAST_STATE="$(cat "$dir/STATE.json")"
	assert_equal "$(jq -c .git <<<"$LAST_STATE")" "$(jq -c .git <<<"$LAST_EVENT")"
	assert_equal "$(jq -c .ci <<<"$LAST_STATE")" "$(jq -c .ci <<<"$LAST_EVENT")"
}

git_of_last() {
	jq -c .git <<<"$LAST_EVENT"
}

ci_of_last() {
	jq -c .ci <<<"$LAST_EVENT"
}

# A repository in $T/r, and cd into it.
in_repo() {
	make_repo "$T/r"
	cd "$T/r" || return 1
}

# --- a plain clone ---------------------------------------------------------------------

@test "plain clone: commit, branch, dirty, tag, remote in SPEC 2.2's order" {
	make_repo "$T/src"
	git clone -q --bare "$T/src" "$T/remote.git"
	git clone -q "$T/remote.git" "$T/clone"
	cd "$T/clone"
	ctx
	g="$(git_of_last)"
	assert_jq '[keys_unsorted[]] == ["commit","branch","dirty","tag","remote"]' "$g"
	assert_jq '.commit == $c and .branch == "main" and .dirty == false and .tag == null
		and .remote == $r' "$g" --arg c "$(git rev-parse HEAD)" --arg r "$T/remote.git"
	assert_jq '.commit | test("^[0-9a-f]{40}$")' "$g"
}

@test "a clone on another branch records that branch and the new commit" {
	make_repo "$T/src"
	git clone -q "$T/src" "$T/clone"
	cd "$T/clone"
	git checkout -q -b feature/login
	printf 'x\n' >new.txt
	git add new.txt
	git commit -q -m 'feature'
	ctx
	assert_jq '.branch == "feature/login" and .commit == $c and .dirty == false' "$(git_of_last)" \
		--arg c "$(git rev-parse HEAD)"
}

# --- remote: credentials stripped ------------------------------------------------------

@test "remote: user:password@ is removed from an https remote" {
	in_repo
	git remote add origin 'https://deploy:s3cr3t@example.com/acme/app.git'
	ctx
	assert_jq '.remote == "https://example.com/acme/app.git"' "$(git_of_last)"
	refute_output --partial s3cr3t
	run grep -rl s3cr3t Docs
	assert_failure
}

@test "remote: a bare token@ is removed from an https remote" {
	in_repo
	git remote add origin 'https://ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/acme/app'
	ctx
	assert_jq '.remote == "https://github.com/acme/app"' "$(git_of_last)"
	run grep -rl ghp_ Docs
	assert_failure
}

@test "remote: x-access-token:TOKEN@ (actions/checkout's form) is removed" {
	in_repo
	git remote add origin 'https://x-access-token:ghs_0123456789abcdef@github.com/acme/app.git'
	ctx
	assert_jq '.remote == "https://github.com/acme/app.git"' "$(git_of_last)"
}

@test "remote: ssh://user:password@ loses the credentials too" {
	in_repo
	git remote add origin 'ssh://git:hunter2@example.com:2222/acme/app.git'
	ctx
	assert_jq '.remote == "ssh://example.com:2222/acme/app.git"' "$(git_of_last)"
}

@test "remote: an scp-like git@host:path has no password and is kept as it is" {
	in_repo
	git remote add origin 'git@github.com:acme/app.git'
	ctx
	assert_jq '.remote == "git@github.com:acme/app.git"' "$(git_of_last)"
}

@test "remote: the upstream's remote wins over origin" {
	in_repo
	git remote add origin 'https://example.com/fork/app.git'
	git remote add upstream 'https://user:pw@example.com/acme/app.git'
	git config branch.main.remote upstream
	git config branch.main.merge refs/heads/main
	ctx
	assert_jq '.remote == "https://example.com/acme/app.git"' "$(git_of_last)"
}

@test "remote: null when there is no remote" {
	in_repo
	ctx
	assert_jq '.remote == null' "$(git_of_last)"
}

# --- dirty -----------------------------------------------------------------------------

@test "dirty: false on a clean tree" {
	in_repo
	ctx
	assert_jq '.dirty == false' "$(git_of_last)"
}

@test "dirty: true after modifying a tracked file" {
	in_repo
	printf 'FROM alpine:3.20\n' >Dockerfile
	ctx
	assert_jq '.dirty == true' "$(git_of_last)"
}

@test "dirty: true after modifying a tracked file without changing its size" {
	in_repo
	sed -i 's/3\.19/3.18/' Dockerfile
	ctx
	assert_jq '.dirty == true' "$(git_of_last)"
}

@test "dirty: false with only an untracked file" {
	in_repo
	printf 'x\n' >untracked.txt
	mkdir -p new/dir
	printf 'x\n' >new/dir/file.tf
	ctx
	assert_jq '.dirty == false' "$(git_of_last)"
}

@test "dirty: true with a staged change" {
	in_repo
	printf 'FROM alpine:3.20\n' >Dockerfile
	git add Dockerfile
	ctx
	assert_jq '.dirty == true' "$(git_of_last)"
}

@test "dirty: true with a staged new file" {
	in_repo
	printf 'x\n' >added.txt
	git add added.txt
	ctx
	assert_jq '.dirty == true' "$(git_of_last)"
}

@test "dirty: true with a deleted tracked file" {
	in_repo
	rm infra/main.tf
	ctx
	assert_jq '.dirty == true' "$(git_of_last)"
}

@test "dirty: false when a tracked file is only touched (same content)" {
	in_repo
	touch -d '2030-01-01 00:00:00' Dockerfile
	ctx
	assert_jq '.dirty == false' "$(git_of_last)"
}

@test "dirty: the session hive-init itself writes does not make the tree dirty" {
	in_repo
	ctx
	ctx
	assert_jq '.dirty == false' "$(git_of_last)"
}

@test "dirty: true after chmod +x on a tracked file (core.filemode)" {
	in_repo
	chmod +x Dockerfile
	ctx
	assert_jq '.dirty == true' "$(git_of_last)"
}

@test "dirty: true with an unresolved merge conflict" {
	in_repo
	git checkout -q -b other
	printf 'FROM debian\n' >Dockerfile
	git commit -q -a -m other
	git checkout -q main
	printf 'FROM ubuntu\n' >Dockerfile
	git commit -q -a -m main
	run git merge -q other
	assert_failure
	ctx
	assert_jq '.dirty == true' "$(git_of_last)"
}

# --- dirty: the index against HEAD through the cache-tree --------------------------------

# deep_repo: in_repo plus files in a/b/c, a/b, a/x and z, committed.
deep_repo() {
	in_repo
	mkdir -p a/b/c a/x z
	printf 'one\n' >a/b/c/one.txt
	printf 'two\n' >a/b/two.txt
	printf 'three\n' >a/x/three.txt
	printf 'four\n' >z/four.txt
	git add -A
	git commit -q -m deep
}

# cache_tree: the index's cache-tree as "path entries" lines (entries -1: invalid), read
# from the TREE extension by python3, so a test can show which state it set up.
cache_tree() {
	python3 - .git/index <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
n = struct.unpack(">I", data[8:12])[0]
pos = data.find(b"TREE", 12)
assert pos > 0, "no TREE extension"
size = struct.unpack(">I", data[pos + 4:pos + 8])[0]
ext, p, stack = data[pos + 8:pos + 8 + size], 0, []
while p < len(ext):
    nul = ext.index(b"\0", p)
    nl = ext.index(b"\n", nul)
    entries, subtrees = (int(x) for x in ext[nul + 1:nl].split(b" "))
    while stack and stack[-1][1] == 0:
        stack.pop()
    if stack:
        stack[-1][1] -= 1
    path = "/".join([s[0] for s in stack] + [ext[p:nul].decode()]).lstrip("/") or "."
    print(path, entries)
    stack.append([ext[p:nul].decode(), subtrees])
    p = nl + 1 + (20 if entries >= 0 else 0)
PY
}

@test "dirty (cache-tree): a staged change deep down is found while valid siblings are skipped" {
	deep_repo
	printf 'ONE\n' >a/b/c/one.txt
	git add a/b/c/one.txt
	# what git left: the path to the change invalid, its siblings still valid
	run cache_tree
	assert_success
	assert_line '. -1'
	assert_line 'a -1'
	assert_line 'a/b/c -1'
	assert_line 'a/x 1'
	assert_line 'z 1'
	ctx
	assert_jq '.dirty == true' "$(git_of_last)"
}

@test "dirty (cache-tree): a change staged and then staged back is clean, as git says" {
	deep_repo
	printf 'ONE\n' >a/b/c/one.txt
	git add a/b/c/one.txt
	printf 'one\n' >a/b/c/one.txt
	git add a/b/c/one.txt
	run cache_tree
	assert_line '. -1'
	assert_line 'a/b/c -1'
	[ -z "$(git status --porcelain -uno)" ]
	ctx
	assert_jq '.dirty == false' "$(git_of_last)"
}

@test "dirty (cache-tree): a staged removal (git rm --cached) deep down is found" {
	deep_repo
	git rm -q --cached a/b/two.txt
	run cache_tree
	assert_line 'a/b -1'
	ctx
	assert_jq '.dirty == true' "$(git_of_last)"
}

@test "dirty (cache-tree): a staged new file in a new directory is found" {
	deep_repo
	mkdir -p a/new
	printf 'new\n' >a/new/file.txt
	git add a/new/file.txt
	ctx
	assert_jq '.dirty == true' "$(git_of_last)"
}

@test "dirty (cache-tree): a staged mode change alone is found" {
	deep_repo
	chmod +x a/b/c/one.txt
	git add a/b/c/one.txt
	[ "$(git status --porcelain -uno)" = "M  a/b/c/one.txt" ]
	ctx
	assert_jq '.dirty == true' "$(git_of_last)"
}

@test "dirty (cache-tree): a file staged as a symbolic link is found" {
	deep_repo
	rm a/x/three.txt
	ln -s ../b/two.txt a/x/three.txt
	git add a/x/three.txt
	ctx
	assert_jq '.dirty == true' "$(git_of_last)"
}

@test "dirty (cache-tree): a directory staged in place of a file is found" {
	deep_repo
	git rm -q z/four.txt
	mkdir -p z/four.txt
	printf 'inside\n' >z/four.txt/inner
	git add z/four.txt/inner
	ctx
	assert_jq '.dirty == true' "$(git_of_last)"
}

@test "dirty (cache-tree): a staged change inside a still-valid node is found by its tree id" {
	deep_repo
	printf 'THREE\n' >a/x/three.txt
	git add a/x/three.txt
	git write-tree >/dev/null # every node valid again; a and a/x now differ from HEAD
	printf 'FOUR\n' >z/four.txt
	git add z/four.txt
	printf 'four\n' >z/four.txt
	git add z/four.txt # z back as HEAD has it, but z and the root are invalid
	run cache_tree
	assert_line '. -1'
	assert_line 'z -1'
	assert_line 'a 3'
	assert_line 'a/x 1'
	ctx
	assert_jq '.dirty == true' "$(git_of_last)"
}

@test "dirty (cache-tree): every entry re-added, the whole cache-tree invalid, is clean" {
	deep_repo
	git rm -r -q --cached .
	git add -A
	run cache_tree
	assert_line '. -1'
	[ -z "$(git status --porcelain -uno)" ]
	ctx
	assert_jq '.dirty == false' "$(git_of_last)"
	# and one real change among them is found
	printf 'FOUR\n' >z/four.txt
	git add z/four.txt
	ctx
	assert_jq '.dirty == true' "$(git_of_last)"
}

@test "dirty: submodules are not scanned" {
	make_repo "$T/sub"
	in_repo
	git submodule add -q "$T/sub" sub
	git commit -q -m 'submodule'
	ctx
	assert_jq '.dirty == false' "$(git_of_last)"
	printf 'changed\n' >sub/Dockerfile
	ctx
	assert_jq '.dirty == false' "$(git_of_last)"
}

# git >= 2.40 with feature.manyFiles writes the index with index.skipHash: a zero checksum.
# libgit2 1.5 cannot read such an index. DESIGN.md: say so clearly, never crash, never give
# a wrong dirty. So each run either answers correctly or is exit 3 naming index.skipHash.
skip_hash_index() {
	local size
	size="$(stat -c %s .git/index)"
	truncate -s $((size - 20)) .git/index
	head -c 20 /dev/zero >>.git/index
	git --no-optional-locks status --porcelain >/dev/null # git reads it (and leaves it alone)
}

# answer_or_skiphash DIRTY: hive-init gave dirty DIRTY, or exit 3 naming index.skipHash.
answer_or_skiphash() {
	run --separate-stderr hive-init --session "sk$1"
	if [ "$status" -eq 0 ]; then
		assert_jq '.git.dirty == $d' "$(sed -n 1p "$(session_dir "sk$1")/EVENTS.jsonl")" \
			--argjson d "$1"
	else
		assert_failure 3
		assert_stderr --partial 'index.skipHash'
		[ ! -e "$(session_dir "sk$1")" ]
	fi
}

@test "index.skipHash (zero checksum), clean tree: dirty false, or exit 3 naming index.skipHash" {
	in_repo
	skip_hash_index
	answer_or_skiphash false
}

@test "index.skipHash (zero checksum), modified tree: dirty true, or exit 3 naming index.skipHash" {
	in_repo
	skip_hash_index
	printf 'changed\n' >Dockerfile
	answer_or_skiphash true
}

@test "index.skipHash (zero checksum), same-size change: dirty true, or exit 3 naming index.skipHash" {
	in_repo
	skip_hash_index
	sed -i 's/3\.19/3.18/' Dockerfile
	answer_or_skiphash true
}

@test "HIVE_GIT_DIRTY=0 gives dirty null (never a guess) and keeps the rest" {
	in_repo
	printf 'changed\n' >Dockerfile
	HIVE_GIT_DIRTY=0 ctx
	assert_jq '.dirty == null and .commit == $c and .branch == "main"' "$(git_of_last)" \
		--arg c "$(git rev-parse HEAD)"
}

@test ".hive.yml git: {dirty: false} gives dirty null" {
	in_repo
	printf 'changed\n' >Dockerfile
	printf 'git: {dirty: false}\n' >.hive.yml
	ctx
	assert_jq '.dirty == null and .commit == $c' "$(git_of_last)" --arg c "$(git rev-parse HEAD)"
}

@test "HIVE_GIT_DIRTY=0 wins over .hive.yml git: {dirty: true}" {
	in_repo
	printf 'git:\n  dirty: true\n' >.hive.yml
	HIVE_GIT_DIRTY=0 ctx
	assert_jq '.dirty == null' "$(git_of_last)"
	printf 'changed\n' >Dockerfile
	ctx
	assert_jq '.dirty == true' "$(git_of_last)"
}

# --- tags ------------------------------------------------------------------------------

@test "tag: a lightweight tag pointing at HEAD" {
	in_repo
	git tag v1.0.0
	ctx
	assert_jq '.tag == "v1.0.0"' "$(git_of_last)"
}

@test "tag: an annotated tag pointing at HEAD" {
	in_repo
	git tag -a -m 'release 2' v2.0.0
	ctx
	assert_jq '.tag == "v2.0.0"' "$(git_of_last)"
}

@test "tag: null when the only tag points at an older commit" {
	in_repo
	git tag v0.9
	printf 'x\n' >more.txt
	git add more.txt
	git commit -q -m 'more'
	ctx
	assert_jq '.tag == null' "$(git_of_last)"
}

@test "tag: a tag checked out as a detached HEAD" {
	in_repo
	git tag -a -m 'r' v3.1.0
	printf 'x\n' >more.txt
	git add more.txt
	git commit -q -m 'more'
	git checkout -q v3.1.0
	ctx
	assert_jq '.tag == "v3.1.0" and .commit == $c' "$(git_of_last)" --arg c "$(git rev-parse HEAD)"
}

# --- linked worktrees and GIT_DIR ------------------------------------------------------

@test "linked worktree: its own branch, commit and dirty; the session at its top" {
	make_repo "$T/main"
	git -C "$T/main" worktree add -q "$T/wt" -b feature
	cd "$T/wt"
	printf 'x\n' >wt-only.txt
	git add wt-only.txt
	git commit -q -m 'in the worktree'
	ctx
	assert_jq '.branch == "feature" and .commit == $c and .dirty == false' "$(git_of_last)" \
		--arg c "$(git rev-parse HEAD)"
	[ "$(git rev-parse HEAD)" != "$(git -C "$T/main" rev-parse HEAD)" ]
	[ -d "$T/wt/Docs/hive-mind/sessions/ctx1" ]
	[ ! -e "$T/main/Docs" ]
	printf 'changed\n' >Dockerfile
	ctx
	assert_jq '.dirty == true' "$(git_of_last)"
}

@test "linked worktree: requirements come from the worktree's own index" {
	make_repo "$T/main"
	git -C "$T/main" worktree add -q "$T/wt" -b feature
	cd "$T/wt"
	mkdir k8s
	printf 'x\n' >k8s/app.yaml
	git add k8s/app.yaml
	ctx
	assert_jq '.details.requirements.kubernetes == ["k8s/app.yaml"]' "$LAST_EVENT"
	cd "$T/main"
	ctx
	assert_jq '.details.requirements.kubernetes == []' "$LAST_EVENT"
}

@test "GIT_DIR=.git run from the top of the work tree (as git runs hooks)" {
	in_repo
	GIT_DIR=.git ctx
	assert_jq '.commit == $c and .branch == "main" and .dirty == false' "$(git_of_last)" \
		--arg c "$(git rev-parse HEAD)"
	assert_jq '.details.requirements.docker == ["Dockerfile"]' "$LAST_EVENT"
	printf 'changed\n' >Dockerfile
	GIT_DIR=.git ctx
	assert_jq '.dirty == true' "$(git_of_last)"
}

@test "GIT_DIR=.git with GIT_INDEX_FILE=.git/index (git's hook environment)" {
	in_repo
	GIT_DIR=.git GIT_INDEX_FILE=.git/index ctx
	assert_jq '.commit == $c and .branch == "main" and .dirty == false' "$(git_of_last)" \
		--arg c "$(git rev-parse HEAD)"
}

@test "GIT_DIR pointing at a linked worktree's gitdir, run from the worktree's top" {
	make_repo "$T/main"
	git -C "$T/main" worktree add -q "$T/wt" -b feature
	cd "$T/wt"
	printf 'x\n' >wt-only.txt
	git add wt-only.txt
	git commit -q -m 'in the worktree'
	gitdir="$(git rev-parse --absolute-git-dir)"
	[[ "$gitdir" == "$T/main/.git/worktrees/wt" ]]
	GIT_DIR="$gitdir" GIT_INDEX_FILE="$gitdir/index" ctx
	assert_jq '.branch == "feature" and .commit == $c and .dirty == false' "$(git_of_last)" \
		--arg c "$(git rev-parse HEAD)"
	assert_jq '.details.requirements.docker == ["Dockerfile"]' "$LAST_EVENT"
	[ -d "$T/wt/Docs/hive-mind/sessions/ctx1" ]
}

@test "GIT_DIR and GIT_WORK_TREE from another directory: the work tree is the top" {
	make_repo "$T/r"
	mkdir "$T/elsewhere"
	cd "$T/elsewhere"
	GIT_DIR="$T/r/.git" GIT_WORK_TREE="$T/r" ROOT="$T/r/Docs/hive-mind" ctx
	assert_jq '.commit == $c and .branch == "main" and .dirty == false' "$(git_of_last)" \
		--arg c "$(git -C "$T/r" rev-parse HEAD)"
	[ ! -e "$T/elsewhere/Docs" ]
}

@test "GIT_DIR naming something that is not a repository is exit 3, nothing created" {
	in_repo
	mkdir "$T/not-a-repo"
	GIT_DIR="$T/not-a-repo" run_refused 3 '^hive-init: error: .*not-a-repo' hive-init --session s1
}

@test "a real post-commit hook: hive-init sees the commit just made" {
	in_repo
	cat >.git/hooks/post-commit <<-EOF
		#!/bin/sh
		env | grep '^GIT_' >"$T/hook.env"
		hive-init --session hook >"$T/hook.out" 2>"$T/hook.err"
		echo \$? >"$T/hook.rc"
	EOF
	chmod +x .git/hooks/post-commit
	printf 'x\n' >more.txt
	git add more.txt
	git commit -q -m 'with a hook'
	assert_equal "$(cat "$T/hook.rc")" 0
	LAST_EVENT="$(sed -n 1p "$T/r/Docs/hive-mind/sessions/hook/EVENTS.jsonl")"
	assert_jq '.commit == $c and .branch == "main" and .dirty == false' "$(git_of_last)" \
		--arg c "$(git rev-parse HEAD)"
}

@test "a real post-commit hook in a linked worktree (git sets GIT_DIR to its gitdir)" {
	make_repo "$T/main"
	git -C "$T/main" worktree add -q "$T/wt" -b feature
	cat >"$T/main/.git/hooks/post-commit" <<-EOF
		#!/bin/sh
		env | grep '^GIT_' >"$T/hook.env"
		hive-init --session hook >"$T/hook.out" 2>"$T/hook.err"
		echo \$? >"$T/hook.rc"
	EOF
	chmod +x "$T/main/.git/hooks/post-commit"
	cd "$T/wt"
	printf 'x\n' >more.txt
	git add more.txt
	git commit -q -m 'with a hook'
	assert_equal "$(cat "$T/hook.rc")" 0
	run grep '^GIT_DIR=' "$T/hook.env"
	assert_output "GIT_DIR=$T/main/.git/worktrees/wt"
	LAST_EVENT="$(sed -n 1p "$T/wt/Docs/hive-mind/sessions/hook/EVENTS.jsonl")"
	assert_jq '.commit == $c and .branch == "feature" and .dirty == false' "$(git_of_last)" \
		--arg c "$(git rev-parse HEAD)"
}

# --- bare, unborn, detached ------------------------------------------------------------

@test "bare repository: commit and branch from HEAD; no work tree, so nothing is dirty" {
	make_repo "$T/src"
	git clone -q --bare "$T/src" "$T/bare.git"
	cd "$T/bare.git"
	ctx
	assert_jq '.commit == $c and .branch == "main" and .remote == $r' "$(git_of_last)" \
		--arg c "$(git rev-parse HEAD)" --arg r "$T/src"
	assert_jq '.dirty == false' "$(git_of_last)"
}

@test "bare repository with GIT_DIR=. (a server-side hook)" {
	make_repo "$T/src"
	git clone -q --bare "$T/src" "$T/bare.git"
	cd "$T/bare.git"
	GIT_DIR=. ctx
	assert_jq '.commit == $c and .branch == "main"' "$(git_of_last)" --arg c "$(git rev-parse HEAD)"
}

@test "a bare repository with GIT_WORK_TREE (the dotfiles layout) has its work tree scanned" {
	git init -q --bare "$T/cfg.git"
	mkdir "$T/dotfiles"
	printf 'a\n' >"$T/dotfiles/x"
	git --git-dir="$T/cfg.git" --work-tree="$T/dotfiles" add x
	git --git-dir="$T/cfg.git" --work-tree="$T/dotfiles" commit -q -m i
	cd "$T/dotfiles"
	GIT_DIR="$T/cfg.git" GIT_WORK_TREE=. ctx
	assert_jq '.dirty == false and .branch == "main"' "$(git_of_last)"
	printf 'changed\n' >x
	GIT_DIR="$T/cfg.git" GIT_WORK_TREE=. ctx
	assert_jq '.dirty == true' "$(git_of_last)"
}

@test "unborn branch: commit null, branch main, not dirty, no tag" {
	git init -q "$T/u"
	cd "$T/u"
	ctx
	assert_jq '. == {"commit": null, "branch": "main", "dirty": false, "tag": null, "remote": null}' \
		"$(git_of_last)"
}

@test "unborn branch: the branch HEAD names (git init -b trunk)" {
	git init -q -b trunk "$T/u"
	cd "$T/u"
	ctx
	assert_jq '.commit == null and .branch == "trunk"' "$(git_of_last)"
}

@test "unborn branch: a staged file is dirty and counts as a requirement" {
	git init -q "$T/u"
	cd "$T/u"
	printf 'FROM scratch\n' >Dockerfile
	git add Dockerfile
	ctx
	assert_jq '.commit == null and .dirty == true' "$(git_of_last)"
	assert_jq '.details.requirements.docker == ["Dockerfile"]' "$LAST_EVENT"
}

@test "detached HEAD without CI variables: branch null" {
	in_repo
	git checkout -q --detach
	ctx
	assert_jq '.branch == null and .commit == $c' "$(git_of_last)" --arg c "$(git rev-parse HEAD)"
}

@test "detached HEAD: GITHUB_HEAD_REF (a pull request) names the branch" {
	in_repo
	git checkout -q --detach
	GITHUB_HEAD_REF=feature/x GITHUB_REF_NAME=42/merge CI_COMMIT_REF_NAME=other ctx
	assert_jq '.branch == "feature/x"' "$(git_of_last)"
}

@test "detached HEAD: GITHUB_REF_NAME when GITHUB_HEAD_REF is empty (a push)" {
	in_repo
	git checkout -q --detach
	GITHUB_HEAD_REF='' GITHUB_REF_NAME=release/1.2 CI_COMMIT_REF_NAME=other ctx
	assert_jq '.branch == "release/1.2"' "$(git_of_last)"
}

@test "detached HEAD: CI_COMMIT_REF_NAME (GitLab) names the branch" {
	in_repo
	git checkout -q --detach
	CI_COMMIT_REF_NAME=main-gl ctx
	assert_jq '.branch == "main-gl"' "$(git_of_last)"
}

@test "detached HEAD in GitHub Actions: CI context and branch together" {
	in_repo
	git checkout -q --detach
	export GITHUB_ACTIONS=true GITHUB_RUN_ID=8812 GITHUB_RUN_ATTEMPT=1 GITHUB_HEAD_REF=fix/bug
	ctx
	assert_jq '.branch == "fix/bug"' "$(git_of_last)"
	assert_jq '.provider == "github"' "$(ci_of_last)"
}

@test "detached HEAD in GitLab CI: CI context and branch together" {
	in_repo
	git checkout -q --detach
	export GITLAB_CI=true CI_PIPELINE_ID=77 CI_COMMIT_REF_NAME=mr-branch CI_PROJECT_DIR="$T"
	ctx
	assert_jq '.branch == "mr-branch"' "$(git_of_last)"
	assert_jq '.provider == "gitlab"' "$(ci_of_last)"
}

@test "on a branch, the CI ref variables do not override the real branch" {
	in_repo
	GITHUB_HEAD_REF=feature/x GITHUB_REF_NAME=other CI_COMMIT_REF_NAME=other ctx
	assert_jq '.branch == "main"' "$(git_of_last)"
}

# --- outside any repository ------------------------------------------------------------

@test "outside any repository: git null, no requirements, still exit 0" {
	mkdir "$T/plain"
	cd "$T/plain"
	export GIT_CEILING_DIRECTORIES="$T"
	ctx
	assert_equal "$(git_of_last)" null
	assert_jq '.git == null' "$LAST_STATE"
	assert_jq '.details.requirements == {"terraform":[],"docker":[],"compose":[],"kubernetes":[],
		"helm":[],"github_actions":[],"gitlab_ci":[],"pulumi":[]}' "$LAST_EVENT"
	[ -f "$T/plain/Docs/hive-mind/sessions/ctx1/EVENTS.jsonl" ]
}

@test "outside any repository: the worker profile and .hive.yml are read from the current directory" {
	mkdir -p "$T/plain/.claude/agents"
	cp "$FIXTURES/devops-worker.md" "$T/plain/.claude/agents/"
	printf 'root: hive\n' >"$T/plain/.hive.yml"
	cd "$T/plain"
	export GIT_CEILING_DIRECTORIES="$T"
	ROOT="$T/plain/hive" ctx
	assert_jq '.details.worker_profile.name == "devops-worker"' "$LAST_EVENT"
	assert_equal "$(git_of_last)" null
}

# --- CI context (SPEC 2.3) -------------------------------------------------------------

@test "CI: null outside CI" {
	in_repo
	ctx
	assert_equal "$(ci_of_last)" null
}

@test "CI: CI=false is not CI" {
	in_repo
	CI=false ctx
	assert_equal "$(ci_of_last)" null
}

@test "CI: GitHub Actions with the run's url, in SPEC 2.3's key order" {
	in_repo
	export GITHUB_ACTIONS=true GITHUB_RUN_ID=8812 GITHUB_RUN_ATTEMPT=1 GITHUB_JOB=deploy \
		GITHUB_WORKFLOW=cd GITHUB_SERVER_URL=https://github.com GITHUB_REPOSITORY=acme/app
	run --separate-stderr hive-init
	assert_success
	LAST_EVENT="$(sed -n 1p Docs/hive-mind/sessions/gh-8812-1/EVENTS.jsonl)"
	assert_equal "$(ci_of_last)" \
		'{"provider":"github","run_id":"8812","run_attempt":"1","job":"deploy","workflow":"cd","url":"https://github.com/acme/app/actions/runs/8812"}'
	assert_equal "$(jq -c .ci Docs/hive-mind/sessions/gh-8812-1/STATE.json)" "$(ci_of_last)"
}

@test "CI: GitLab CI from CI_PIPELINE_ID, CI_JOB_ID, CI_JOB_NAME, CI_JOB_URL" {
	in_repo
	export GITLAB_CI=true CI_PIPELINE_ID=77 CI_JOB_ID=991 CI_JOB_NAME=deploy \
		CI_JOB_URL=https://gitlab.example.com/acme/app/-/jobs/991 CI_PROJECT_DIR="$T"
	run --separate-stderr hive-init
	assert_success
	LAST_EVENT="$(sed -n 1p Docs/hive-mind/sessions/gl-77/EVENTS.jsonl)"
	assert_equal "$(ci_of_last)" \
		'{"provider":"gitlab","pipeline_id":"77","job_id":"991","job":"deploy","url":"https://gitlab.example.com/acme/app/-/jobs/991"}'
	assert_equal "$(jq -c .ci Docs/hive-mind/sessions/gl-77/STATE.json)" "$(ci_of_last)"
}

@test "CI: any other CI=true is {\"provider\":\"ci\"} with a generated session id" {
	in_repo
	export CI=true
	run --separate-stderr hive-init
	assert_success
	id="$(jq -r .session_id <<<"$output")"
	[[ "$id" =~ ^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$ ]]
	LAST_EVENT="$(sed -n 1p "Docs/hive-mind/sessions/$id/EVENTS.jsonl")"
	assert_equal "$(ci_of_last)" '{"provider":"ci"}'
}
