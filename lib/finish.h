/* finish.h - the completion protocol: session_completed, METRICS.json and RUNBOOK.md, all or
 * nothing */
#ifndef HIVE_FINISH_H
#define HIVE_FINISH_H

#include <stdio.h>

#include "config.h"
#include "err.h"

struct cJSON;
struct git_repository;
struct hive_facts;

struct hive_finish_opts {
	const struct hive_config *cfg; /* event types and policies (borrowed) */
	const struct cJSON *git;       /* stamped on session_completed (redacted by the caller) */
	const struct cJSON *ci;
	struct git_repository *repo; /* for METRICS.json's lead time, or NULL */
	const char *status;	     /* "success" (NULL) or "failure" */
	FILE *findings;		     /* where a failed integrity check's findings go */
	const char *signing_key;     /* sign CHECKPOINT with this key (a path), or NULL */
	struct cJSON **verdict; /* set to the gate's findings on the session as finished (a JSON
				   array the caller frees), or NULL when not wanted */
	const char *top;	/* the work tree's top: paths in the verdict are shown from it, as
				   hive-check shows them (NULL: as they are) */
};

/*
 * Finish root/sessions/id (SPEC 5.4): the log must pass hive-check's json and chain rules
 * (HIVE_FAIL otherwise, the findings written to o->findings, nothing changed); then, under
 * the session lock, the gate is run on the session as it would be left (session_completed
 * appended): with an error (other than about the files --finish writes) and a status other
 * than failure, HIVE_FAIL with the errors on o->findings and nothing changed; else
 * session_completed is added, METRICS.json and RUNBOOK.md (its Validation the gate's
 * findings, also given back in *o->verdict) are written
 * where missing, and CHECKPOINT is written (signed into CHECKPOINT.sig when
 * o->signing_key is set; see hive_checkpoint_write). If a report or the checkpoint cannot
 * be written, session_completed is rolled back and the call changed nothing (HIVE_EENV
 * "session not finished: ..."). Idempotent: a session the log says is closed gets no
 * second session_completed, only its missing reports and a missing CHECKPOINT, and *was
 * says "completed" or "failed" (else NULL).
 */
int hive_finish(const char *root, const char *id, const struct hive_finish_opts *o,
		const char **was, struct hive_err *err);

/*
 * hive-runbook --finish --dry-run: what hive_finish checks (the integrity rules, then
 * session_completed against the schema and the policies one event can break), with nothing
 * written: *facts (the caller's, hive_facts_free) is what the reports would be made from once
 * it is, the log with session_completed folded in (a closed session: as it is), and
 * *o->verdict the gate's findings on it. HIVE_FAIL as hive_finish: the integrity rules, a
 * policy session_completed breaks, or an error of the gate with a status other than failure.
 */
int hive_finish_preview(const char *root, const char *id, const struct hive_finish_opts *o,
			struct hive_facts **facts, struct hive_err *err);

/*
 * hive-runbook --checkpoint: write CHECKPOINT (and CHECKPOINT.sig when o->signing_key is
 * set) for root/sessions/id as it is now, under the session lock, after the same integrity
 * check as hive_finish (HIVE_FAIL). An active session's checkpoint is replaced (with the
 * signatures over the old one); a completed session that already has a CHECKPOINT is
 * HIVE_EUSAGE (it is final: --sign adds cosignatures), one without gets it. Nothing is
 * changed on failure.
 */
int hive_finish_checkpoint(const char *root, const char *id, const struct hive_finish_opts *o,
			   struct hive_err *err);

/*
 * hive-runbook --sign: add a signature by o->signing_key (required: HIVE_EUSAGE without)
 * to the session's CHECKPOINT.sig, under the session lock; see hive_checkpoint_cosign.
 * *already is 1 when that key had signed it (nothing changed).
 */
int hive_finish_sign(const char *root, const char *id, const struct hive_finish_opts *o,
		     int *already, struct hive_err *err);

#endif
