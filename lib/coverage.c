/* coverage.c - policy.require_infra_events: every commit of a range that changes infrastructure has
 * a change event recorded at it (hive(7)) */
#include "coverage.h"

#include <stdio.h>
#include <string.h>

#include "requirements.h"

/* The first infrastructure path commit c changes against its parent (none: the empty tree),
 * into path; 0 when there is none, -1 when the trees cannot be compared. */
static int first_infra_path(git_repository *repo, git_commit *c, char *path, size_t size)
{
	git_commit *parent = NULL;
	git_tree *now = NULL, *before = NULL;
	git_diff *diff = NULL;
	size_t i, n;
	int found = -1;

	if (git_commit_tree(&now, c) < 0 ||
	    (git_commit_parentcount(c) &&
	     (git_commit_parent(&parent, c, 0) < 0 || git_commit_tree(&before, parent) < 0)) ||
	    git_diff_tree_to_tree(&diff, repo, before, now, NULL) < 0)
		goto out;
	found = 0;
	n = git_diff_num_deltas(diff);
	for (i = 0; i < n && !found; i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		const char *p = d->new_file.path ? d->new_file.path : d->old_file.path;
		if (p &&
		    (hive_requirements_classify(p) >= 0 ||
		     (d->old_file.path && hive_requirements_classify(d->old_file.path) >= 0))) {
			snprintf(path, size, "%s", p);
			found = 1;
		}
	}
out:
	git_diff_free(diff);
	git_tree_free(before);
	git_tree_free(now);
	git_commit_free(parent);
	git_error_clear();
	return found;
}

/* Is commit c covered by an event in recorded? */
static int covered(const git_commit *c, const struct hive_strv *recorded)
{
	char key[GIT_OID_HEXSZ + 8];

	git_oid_tostr(key, GIT_OID_HEXSZ + 1, git_commit_id(c));
	if (hive_strv_has(recorded, key))
		return 1;
	strcat(key, "+dirty");
	if (hive_strv_has(recorded, key))
		return 1;
	if (git_commit_parentcount(c) == 1) {
		git_oid_tostr(key, GIT_OID_HEXSZ + 1, git_commit_parent_id(c, 0));
		strcat(key, "+dirty");
		return hive_strv_has(recorded, key);
	}
	return 0;
}

int hive_coverage_check(git_repository *repo, const git_oid *tip, const git_oid *hide,
			int hide_remotes, const struct hive_strv *recorded, struct hive_strv *seen,
			struct hive_findings *f, struct hive_err *err)
{
	static const char *const rules[] = {HIVE_COVERAGE_RULE};
	git_revwalk *walk = NULL;
	git_oid id;
	int rc = HIVE_OK;

	if (git_revwalk_new(&walk, repo) < 0 || git_revwalk_push(walk, tip) < 0) {
		rc = hive_err_set(err, HIVE_EENV, "git: cannot walk the commits: %s",
				  git_error_last() ? git_error_last()->message : "?");
		goto out;
	}
	if (hide ? git_revwalk_hide(walk, hide) < 0
		 : hide_remotes && git_revwalk_hide_glob(walk, "refs/remotes/*") < 0)
		git_error_clear(); /* nothing to hide: every commit is judged */
	while (git_revwalk_next(&id, walk) == 0) {
		git_commit *c = NULL;
		char hex[GIT_OID_HEXSZ + 1], path[4096], label[16];
		const char *subject;
		int infra;

		git_oid_tostr(hex, sizeof(hex), &id);
		if (hive_strv_has(seen, hex) || git_commit_lookup(&c, repo, &id) < 0) {
			git_error_clear();
			continue;
		}
		hive_strv_push(seen, hex);
		if (git_commit_parentcount(c) > 1) { /* a merge combines commits judged alone */
			git_commit_free(c);
			continue;
		}
		if ((infra = first_infra_path(repo, c, path, sizeof(path))) < 0) {
			git_commit_free(c);
			rc = hive_err_set(err, HIVE_EENV,
					  "git: commit %s: cannot compare its trees", hex);
			goto out;
		}
		if (infra && !covered(c, recorded)) {
			git_oid_tostr(label, 8, &id);
			subject = git_commit_summary(c);
			hive_findings_session(f, label, path, rules, 1);
			hive_findings_add(
				f, HIVE_LEVEL_ERROR, HIVE_COVERAGE_RULE, path, 0,
				"commit %s (\"%.120s\") changes %s, and no session records a "
				"change event at it, or with git.dirty at its parent (policy: "
				"require_infra_events)",
				label, subject ? subject : "", path);
		}
		git_commit_free(c);
	}
out:
	git_revwalk_free(walk);
	git_error_clear();
	return rc;
}
