/* start.h - the starting protocol: a session made whole (session_started) or rejoined, and its id
 * handed on */
#ifndef HIVE_START_H
#define HIVE_START_H

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
};

/* What hive_start did. Free with hive_start_result_clear. */
struct hive_start_result {
	int created;	     /* 1: this call made the session; 0: it existed and was rejoined */
	char *dir;	     /* <root>/sessions/<id> */
	struct cJSON *state; /* the session's view (as derived from its log) */
	const char *wrote;   /* where the id was handed on (static text), or NULL */
};

/*
 * Start session root/sessions/id (SPEC 5.1): a session that does not exist is made whole
 * through a transaction, its line 1 the session_started event; one that exists (or that
 * another process made first) is rejoined when sound (hive_session_check_sound: HIVE_EENV
 * "corrupt session" otherwise). Then, still under the lock, the id is handed on to later
 * CI steps (hive_ci_handoff); if that fails, a session this call made is taken back with
 * the folders it made, and the call changed nothing (HIVE_EENV naming the file).
 */
int hive_start(const char *root, const char *id, const struct hive_start_opts *o,
	       struct hive_start_result *res, struct hive_err *err);

/* hive-init's answer on stdout: {"session_id","dir","created","worker","status","events"},
 * plus "hook" when given (taken over). NULL when out of memory. */
struct cJSON *hive_start_describe(const char *id, const struct hive_start_result *res,
				  struct cJSON *hook);

/* Free what res holds. Accepts a zeroed result. */
void hive_start_result_clear(struct hive_start_result *res);

#endif
