/* finish.h - the completion protocol: session_completed, METRICS.json and RUNBOOK.md, all or
 * nothing */
#ifndef HIVE_FINISH_H
#define HIVE_FINISH_H

#include <stdio.h>

#include "config.h"
#include "err.h"

struct cJSON;
struct git_repository;

struct hive_finish_opts {
	const struct hive_config *cfg; /* event types and policies (borrowed) */
	const struct cJSON *git;       /* stamped on session_completed (redacted by the caller) */
	const struct cJSON *ci;
	struct git_repository *repo; /* for METRICS.json's lead time, or NULL */
	const char *status;	     /* "success" (NULL) or "failure" */
	FILE *findings;		     /* where a failed integrity check's findings go */
};

/*
 * Finish root/sessions/id (SPEC 5.4): the log must pass hive-check's json and chain rules
 * (HIVE_FAIL otherwise, the findings written to o->findings, nothing changed); then, under
 * the session lock, session_completed is added and METRICS.json and RUNBOOK.md are written
 * where missing. If a report cannot be written, session_completed is rolled back and the
 * call changed nothing (HIVE_EENV "session not finished: ..."). Idempotent: a session the
 * log says is closed gets no second session_completed, only its missing reports, and *was
 * says "completed" or "failed" (else NULL).
 */
int hive_finish(const char *root, const char *id, const struct hive_finish_opts *o,
		const char **was, struct hive_err *err);

#endif
