#!/usr/bin/env bats
# release.bats - releases: scripts/version.sh (what --version shows), make dist (a
# reproducible tarball and SHA256SUMS), make deb (lintian clean, installed and removed with
# apt), and the tarball installed the way the CI templates install it
#
# make dist and make deb build the tools again (scripts/dist.sh): these tests take a minute.

load test_helper

setup() {
	hive_setup || return 1
	require_tool hive-init
}

teardown() {
	# a package a failed test left installed is removed
	if [[ -n "${DEB_INSTALLED:-}" ]]; then
		DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq hive >/dev/null 2>&1 || true
	fi
}

# make_in_src ARGS…: make in the source tree, none of an enclosing make's flags
make_in_src() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$SRC_TOP" --no-print-directory "$@"
}

# version_repo DIR: a repository with two commits
version_repo() {
	git -c init.defaultBranch=main init -q "$1"
	git -C "$1" commit -q --allow-empty -m one
	git -C "$1" commit -q --allow-empty -m two
}

@test "version.sh: git describe's shape, 0.0.0-N-g<hash> before any tag, -dirty, a VERSION file outside git" {
	local r="$BATS_TEST_TMPDIR/v" v="$SRC_TOP/scripts/version.sh" h
	version_repo "$r"
	h=$(git -C "$r" rev-parse --short=12 HEAD)
	run sh "$v" "$r"
	assert_success
	assert_output "0.0.0-2-g$h"
	git -C "$r" tag -a v1.4.2 -m 'release 1.4.2' HEAD~1
	run sh "$v" "$r"
	assert_output "1.4.2-1-g$h"
	git -C "$r" tag v1.5.0
	run sh "$v" "$r"
	assert_output 1.5.0
	# a tag that is not v<digit> is not a release
	git -C "$r" tag nightly
	run sh "$v" "$r"
	assert_output 1.5.0
	printf 'x\n' >"$r/f" && git -C "$r" add f && git -C "$r" commit -q -m f && printf 'y\n' >"$r/f"
	h=$(git -C "$r" rev-parse --short=12 HEAD)
	run sh "$v" "$r"
	assert_output "1.5.0-1-g$h-dirty"
	run sh "$v" --header "$r"
	assert_output "#define HIVE_VERSION_STRING \"1.5.0-1-g$h-dirty\""
	# a source folder that is no git checkout: its VERSION file, else "unknown"
	mkdir "$BATS_TEST_TMPDIR/src"
	run sh "$v" "$BATS_TEST_TMPDIR/src"
	assert_output unknown
	printf '2.0.0\n' >"$BATS_TEST_TMPDIR/src/VERSION"
	run sh "$v" "$BATS_TEST_TMPDIR/src"
	assert_output 2.0.0
	printf '2.0.0; rm -rf /\n' >"$BATS_TEST_TMPDIR/src/VERSION"
	run sh "$v" "$BATS_TEST_TMPDIR/src"
	assert_failure
}

@test "every tool's --version shows the version scripts/version.sh gives for the source tree" {
	local want t
	want=$(sh "$SRC_TOP/scripts/version.sh" "$SRC_TOP")
	# the build may predate the last edit of the tree: compare up to -dirty
	for t in hive-init hive-emit hive-check hive-runbook; do
		run "$t" --version
		assert_success
		[[ "$output" == "$t $want" || "$output" == "$t ${want%-dirty}" || "$output" == "$t $want-dirty" ]] ||
			fail "$t --version says '$output', scripts/version.sh '$want'"
	done
}

@test "make dist: a tarball of binaries, man pages, schemas, hooks, templates, SQL and completion; SHA256SUMS; two builds byte-identical" {
	local b1="$BATS_TEST_TMPDIR/b1" b2="$BATS_TEST_TMPDIR/b2" v name
	v=$(sh "$SRC_TOP/scripts/version.sh" "$SRC_TOP")
	name="hive-$v-linux-$(uname -m)"
	run make_in_src dist BUILD="$b1"
	assert_success
	[[ -f "$b1/dist/$name.tar.gz" ]] || fail "no $b1/dist/$name.tar.gz: $output"
	(cd "$b1/dist" && sha256sum -c --strict SHA256SUMS)
	run make_in_src dist BUILD="$b2"
	assert_success
	cmp "$b1/dist/$name.tar.gz" "$b2/dist/$name.tar.gz"
	cmp "$b1/dist/SHA256SUMS" "$b2/dist/SHA256SUMS"
	# what is in it: one folder; owners 0/0; the commit's time on every entry
	run tar -tzvf "$b1/dist/$name.tar.gz"
	assert_success
	refute_line --regexp '^[^ ]+ [^0]'
	when=$(date -u -d "@$(git -C "$SRC_TOP" log -1 --format=%ct)" '+%Y-%m-%d %H:%M')
	[[ $(grep -vc " $when " <<<"$output") -eq 0 ]] || fail "entries not dated $when"
	run tar -tzf "$b1/dist/$name.tar.gz"
	refute_line --regexp "^[^h]|^hive-[^/]*[^/]*/[^bs]"
	for f in bin/hive-init bin/hive-emit bin/hive-check bin/hive-runbook \
		share/man/man1/hive-runbook.1 share/man/man7/hive.7 share/hive/schemas/event.schema.json \
		share/hive/hooks/pre-push share/hive/ci-templates/github/action.yml \
		share/hive/ci-templates/gitlab/hive.gitlab-ci.yml share/hive/sql/postgres.sql \
		share/bash-completion/completions/hive-init share/bash-completion/completions/hive-check; do
		assert_line "$name/$f"
	done
	# installed the way the templates install it, the tools run and say their version
	mkdir "$BATS_TEST_TMPDIR/prefix"
	tar -xzf "$b1/dist/$name.tar.gz" -C "$BATS_TEST_TMPDIR/prefix" --strip-components=1 --no-same-owner
	run "$BATS_TEST_TMPDIR/prefix/bin/hive-runbook" --version
	assert_output "hive-runbook $v"
	make_repo "$BATS_TEST_TMPDIR/repo"
	cd "$BATS_TEST_TMPDIR/repo"
	run "$BATS_TEST_TMPDIR/prefix/bin/hive-init" --session rel -q
	assert_success
	run "$BATS_TEST_TMPDIR/prefix/bin/hive-check" --session rel
	assert_success
}

@test "make deb: lintian finds nothing at error or warning level; apt installs it, the tools run from /usr/bin, apt removes it" {
	local b="$BATS_TEST_TMPDIR/b" v deb
	command -v lintian >/dev/null || fail "lintian is not installed: run make deps"
	if dpkg-query -W -f='${Status}' hive 2>/dev/null | grep -q 'ok installed'; then
		fail "a package hive is installed already: this test installs and removes its own"
	fi
	v=$(sh "$SRC_TOP/scripts/version.sh" "$SRC_TOP")
	run make_in_src deb BUILD="$b"
	assert_success
	deb="$b/dist/hive_$(tr - + <<<"$v")_$(dpkg --print-architecture).deb"
	[[ -f "$deb" ]] || fail "no $deb: $output"
	(cd "$b/dist" && sha256sum -c --strict SHA256SUMS)
	run lintian --fail-on error,warning "$deb"
	assert_success
	refute_output --regexp '^[EW]: '
	run dpkg-deb -f "$deb" Package Version Depends
	assert_line 'Package: hive'
	assert_line "Version: $(tr - + <<<"$v")"
	assert_line --regexp '^Depends: libc6 \(>= [0-9.]+\)$'
	DEB_INSTALLED=1
	run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$deb"
	assert_success
	run /usr/bin/hive-emit --version
	assert_output "hive-emit $v"
	[[ -f /usr/share/hive/sql/postgres.sql && -f /usr/share/man/man1/hive-check.1.gz ]]
	make_repo "$BATS_TEST_TMPDIR/repo"
	cd "$BATS_TEST_TMPDIR/repo"
	run /usr/bin/hive-init --session deb -q
	assert_success
	run env DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq hive
	assert_success
	DEB_INSTALLED=
	[[ ! -e /usr/bin/hive-init && ! -e /usr/share/hive/sql/postgres.sql ]]
	run dpkg-query -W -f='${Status}' hive
	refute_output --partial 'ok installed'
}
