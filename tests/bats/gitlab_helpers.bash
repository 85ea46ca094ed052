# gitlab_helpers.bash - gitlab-ci-local for the GitLab tests (ci-templates.bats,
# gitlab-component.bats): run a pipeline offline, find the session a job saved. Loaded after
# test_helper; NODE_MODULES is the folder that holds gitlab-ci-local.

# gcl ARGS…: gitlab-ci-local in $PWD, shell executor with artifact isolation, artifacts not
# copied back into the work tree, GITLAB_CI=true as GitLab sets it (gitlab-ci-local says
# false), in a network namespace of its own when the kernel allows it, else with every
# proxy variable pointing at a closed port.
gcl() {
	local net=(unshare -n)
	if ! unshare -n true 2>/dev/null; then
		net=(env http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9
			HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 ALL_PROXY=http://127.0.0.1:9
			no_proxy= NO_PROXY=)
	fi
	run "${net[@]}" "$NODE_MODULES/.bin/gitlab-ci-local" --no-color --shell-isolation \
		--no-artifacts-to-source --max-job-name-padding 0 \
		--variable GITLAB_CI=true --ignore-predefined-vars GITLAB_CI "$@"
}

# where gitlab-ci-local keeps each job's artifacts and log (used by the files that load this)
# shellcheck disable=SC2034
ARTS=.gitlab-ci-local/artifacts
# shellcheck disable=SC2034
LOGS=.gitlab-ci-local/output

# saved_session JOB ID: the session folder JOB saved (.hive-artifacts/<job id>/), copied to
# $BATS_TEST_TMPDIR/saved/sessions/ID so that hive-check can take it as a session folder.
saved_session() {
	local copies=("$ARTS/$1"/.hive-artifacts/*/) dest="$BATS_TEST_TMPDIR/saved/sessions/$2"
	[[ ${#copies[@]} -eq 1 && -f "${copies[0]}EVENTS.jsonl" ]] ||
		fail "job $1 did not save exactly one session folder: ${copies[*]}"
	rm -rf "$dest" && mkdir -p "$dest" && cp -R "${copies[0]}." "$dest/"
	printf '%s' "$dest"
}
