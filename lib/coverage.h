/* coverage.h - policy.require_infra_events: every commit of a range that changes infrastructure has
 * a change event recorded at it (hive(7)) */
#ifndef HIVE_COVERAGE_H
#define HIVE_COVERAGE_H

#include <git2.h>

#include "err.h"
#include "findings.h"
#include "util.h"

#define HIVE_COVERAGE_RULE "policy.require_infra_events"

/*
 * Walk the commits reachable from tip and not from hide (NULL: not from any ref under
 * refs/remotes/ when hide_remotes, else from nothing) and hold each against recorded (the
 * commits change events were recorded at, as struct hive_checker's recorded collects them).
 * A commit with one parent (or none) that adds, changes or deletes a path hive-init classifies
 * as infrastructure (hive_requirements_classify) is covered when recorded holds "<commit>" or
 * "<commit>+dirty", or "<parent>+dirty" (the change recorded while it sat uncommitted on its
 * parent); merge commits are not judged. Each uncovered commit is an error finding of rule
 * HIVE_COVERAGE_RULE in a session of f named after the commit, the file its first
 * infrastructure path. seen (the caller's) holds the commits judged already, across calls.
 * HIVE_OK, or HIVE_EENV when the walk or a diff fails.
 */
int hive_coverage_check(git_repository *repo, const git_oid *tip, const git_oid *hide,
			int hide_remotes, const struct hive_strv *recorded, struct hive_strv *seen,
			struct hive_findings *f, struct hive_err *err);

#endif
