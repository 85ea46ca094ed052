/* start.h - the starting protocol: a session made whole (session_started) or rejoined, and its id
 * handed on */
#ifndef HIVE_START_H
#define HIVE_START_H

#include <stdio.h>

#include "config.h"
#include "err.h"

struct cJSON;

struct hive_start_opts {
	const struct hive_config *cfg; /* event types (borrowed) */
	const struct cJSON *git;       /* stamped on session_started (redacted by the caller) */
	const struct cJSON *ci;
	const char *worker;	     /* a new session's worker */
	const struct cJSON *details; /* session_started's details: worker_profile, requirements */
	const char *dotenv_dir;	     /* where GitLab's hive.env goes (hive_ci_handoff) */
	const char *worktree;	     /* the top of the git work tree, or NULL outside one */
	FILE *findings; /* where a rejoined session's failed integrity findings go, or NULL */
};

/* What hive_start did. Free with hive_start_result_clear. */
struct hive_start_result {
	int created;	     /* 1: this call made the session; 0: it existed and was rejoined */
	char *dir;	     /* <root>/sessions/<id> */
	struct cJSON *state; /* the session's view (as derived from its log) */
	const char *wrote;   /* where the id was handed on (static text), or NULL */
	char *attributes;    /* the line added to <worktree>/.gitattributes, or NULL */
};

/*
 * Start session root/sessions/id (SPEC 5.1): a session that does not exist is made whole
 * through a transaction, its line 1 the session_started event; one that exists (or that
 * another process made first) is rejoined when sound (hive_session_check_sound, then
 * hive-check's json and chain rules through hive_integrity_check, findings to o->findings:
 * HIVE_EENV "corrupt session" otherwise). Then, still under the lock, a root inside the git work
 * tree is marked -text in <worktree>/.gitattributes when it is not already (SPEC 9: so
 * core.autocrlf never rewrites a log; res->attributes says what was added), and the id is
 * handed on to later CI steps (hive_ci_handoff). If either fails, what this call wrote is
 * taken back (the session it made with the folders it made, .gitattributes as it was) and
 * the call changed nothing (HIVE_EENV naming the file; a .gitattributes that is a symbolic
 * link or not a regular file is refused).
 */
int hive_start(const char *root, const char *id, const struct hive_start_opts *o,
	       struct hive_start_result *res, struct hive_err *err);

/* hive-init's answer on stdout: {"session_id","dir","created","worker","status","events"},
 * plus "hook" when given (taken over). NULL when out of memory. */
struct cJSON *hive_start_describe(const char *id, const struct hive_start_result *res,
				  struct cJSON *hook);

/*
 * Make sure <worktree>/.gitattributes holds the line "/<root relative to worktree>/" followed
 * by "** -text" (a root outside worktree, or worktree NULL: nothing to do). *added is the line when
 * this call added it (the caller's), else NULL; *old and *oldlen are the file's bytes before (the
 * caller's; NULL when there was no file), for hive_start_attributes_undo.
 */
int hive_start_attributes(const char *worktree, const char *root, char **added, char **old,
			  size_t *oldlen, struct hive_err *err);

/* Put .gitattributes back as it was before hive_start_attributes added its line. */
void hive_start_attributes_undo(const char *worktree, const char *old, size_t oldlen);

/* Free what res holds. Accepts a zeroed result. */
void hive_start_result_clear(struct hive_start_result *res);

#endif
