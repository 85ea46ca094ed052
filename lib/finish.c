/* finish.c - the completion protocol: session_completed, METRICS.json and RUNBOOK.md, all or
 * nothing */
#include "finish.h"

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "checkpoint.h"
#include "findings.h"
#include "redact.h"
#include "report.h"
#include "session.h"
#include "state.h"

/* The log must pass hive-check's integrity rules (json, chain) to be finished; the
 * findings go to o->findings. Returns HIVE_OK, HIVE_FAIL, or an error. */
static int integrity(const struct hive_finish_opts *o, struct hive_session *s, struct hive_err *err)
{
	struct hive_checker checker = {o->cfg, NULL, NULL};
	struct hive_check_input in;
	struct hive_findings *f = NULL;
	struct hive_check_owned owned = {0};
	char events[4300];
	int rc;

	snprintf(events, sizeof(events), "%s/EVENTS.jsonl", s->dir);
	if ((rc = hive_redactor_new(o->cfg, &checker.red, err)) ||
	    (rc = hive_findings_new("text", o->findings, 0, &f, err)) ||
	    (rc = hive_check_input_from_session(s, s->dir, events, &in, &owned, err)))
		goto out;
	in.checkpoint_buf = in.signature_buf = NULL; /* about to be rewritten: not looked at */
	hive_findings_session(f, s->id, events, NULL, 0);
	if ((rc = hive_check_session(&checker, &in, f, err)))
		goto out;
	if (hive_findings_rule_errors(f, "chain") || hive_findings_rule_errors(f, "json"))
		rc = hive_err_set(err, HIVE_FAIL,
				  "session %s fails hive-check's %s rule: not finishing it (see "
				  "above; hive-check --repair mends a cut-off last line)",
				  s->id, hive_findings_rule_errors(f, "chain") ? "chain" : "json");
out:
	hive_check_owned_free(&owned);
	hive_findings_free(f);
	hive_redactor_free(checker.red);
	return rc;
}

/* What --finish writes besides session_completed: the reports are written under the
 * session lock, after session_completed and STATE.json are committed and before the lock
 * is let go, so a failure there (a full disk) rolls session_completed back and the call
 * changes nothing. */
struct reports {
	struct git_repository *repo; /* for lead time, or NULL */
	struct hive_session *s;
	int made_metrics;    /* METRICS.json was written by this call */
	int made_runbook;    /* RUNBOOK.md was written by this call */
	struct hive_err err; /* why writing the reports failed */
};

/* METRICS.json and RUNBOOK.md, each only when missing. HIVE_OK or the error in r->err;
 * a METRICS.json this call wrote is removed again when RUNBOOK.md cannot be written. */
static int write_reports(struct reports *r)
{
	struct hive_facts *facts = NULL;
	struct hive_buf md = {0}, mj = {0};
	struct stat st;
	cJSON *metrics = NULL;
	char *text = NULL, shown[4300];
	int rc;

	if ((rc = hive_facts_load(r->s, r->repo, &facts, &r->err)))
		goto out;
	if (fstatat(r->s->dirfd, "METRICS.json", &st, AT_SYMLINK_NOFOLLOW) < 0) {
		metrics = hive_report_metrics(facts);
		text = cJSON_Print(metrics);
		snprintf(shown, sizeof(shown), "%s/METRICS.json", r->s->dir);
		if (text)
			hive_buf_puts(&mj, text);
		/* what leaves the process is scrubbed, whatever the log holds */
		if (!text || hive_redact_buf(&mj) < 0)
			rc = hive_err_set(&r->err, HIVE_EENV, "out of memory");
		else
			rc = hive_write_atomic(r->s->dirfd, "METRICS.json", mj.p, mj.len, shown,
					       &r->err);
		if (rc)
			goto out;
		r->made_metrics = 1;
	}
	if (fstatat(r->s->dirfd, "RUNBOOK.md", &st, AT_SYMLINK_NOFOLLOW) < 0) {
		hive_report_markdown(facts, "runbook", NULL, &md);
		snprintf(shown, sizeof(shown), "%s/RUNBOOK.md", r->s->dir);
		if (md.oom || hive_redact_buf(&md) < 0)
			rc = hive_err_set(&r->err, HIVE_EENV, "out of memory");
		else
			rc = hive_write_atomic(r->s->dirfd, "RUNBOOK.md", md.p, md.len, shown,
					       &r->err);
		r->made_runbook = !rc;
	}
out:
	if (rc && r->made_metrics) {
		unlinkat(r->s->dirfd, "METRICS.json", 0);
		r->made_metrics = 0;
	}
	cJSON_free(text);
	cJSON_Delete(metrics);
	hive_buf_free(&md);
	hive_buf_free(&mj);
	hive_facts_free(facts);
	return rc;
}

/* Take back the reports this call wrote. */
static void undo_reports(struct reports *r)
{
	if (r->made_metrics)
		unlinkat(r->s->dirfd, "METRICS.json", 0);
	if (r->made_runbook)
		unlinkat(r->s->dirfd, "RUNBOOK.md", 0);
	r->made_metrics = r->made_runbook = 0;
}

/* The reports, then CHECKPOINT (when missing, or always with `replace`): HIVE_OK, or the
 * error in r->err with nothing of this call's left behind. */
static int write_files(struct reports *r, const char *key, int replace)
{
	struct hive_checkpoint_undo u = {0};
	struct stat st;
	int rc;

	if ((rc = write_reports(r)))
		return rc;
	if (!replace && fstatat(r->s->dirfd, HIVE_CHECKPOINT_FILE, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return HIVE_OK;
	if ((rc = hive_checkpoint_write(r->s, key, &u, &r->err)))
		undo_reports(r);
	hive_checkpoint_undo_free(&u);
	return rc;
}

int hive_finish(const char *root, const char *id, const struct hive_finish_opts *o,
		const char **was, struct hive_err *err)
{
	struct hive_txn_opts topts = {o->cfg, o->git, o->ci, NULL, 0, 1};
	struct hive_session *s = NULL;
	struct hive_txn *t = NULL;
	struct reports rep = {o->repo, NULL, 0, 0, {0, 0, ""}};
	const cJSON *state;
	cJSON *details = NULL;
	int rc;

	*was = NULL;
	if ((rc = hive_session_open_ro(root, id, &s, err)) || (rc = integrity(o, s, err)))
		goto out;
	if ((rc = hive_txn_begin(root, id, &topts, &t, err)))
		goto out;
	rep.s = hive_txn_session(t);
	state = hive_txn_state(t);
	if (!hive_state_is_closed(state)) {
		details = cJSON_CreateObject();
		cJSON_AddStringToObject(details, "status", o->status ? o->status : "success");
		if ((rc = hive_txn_add(t, "session_completed", details, err)) ||
		    (rc = hive_txn_commit(t, err)))
			goto out;
		if ((rc = write_files(&rep, o->signing_key, 1))) {
			/* the reports failed: session_completed is taken back out */
			hive_txn_rollback(t);
			*err = rep.err;
			hive_err_prefix(err, "session not finished");
		}
		goto out;
	}
	*was = strcmp(hive_json_str(state, "status"), "failed") ? "completed" : "failed";
	/* an already completed session: only the reports and the checkpoint that are missing */
	if ((rc = write_files(&rep, o->signing_key, 0)))
		*err = rep.err;
out:
	hive_txn_free(t);
	hive_session_close(s);
	cJSON_Delete(details);
	return rc;
}

int hive_finish_checkpoint(const char *root, const char *id, const struct hive_finish_opts *o,
			   struct hive_err *err)
{
	struct hive_txn_opts topts = {o->cfg, o->git, o->ci, NULL, 0, 1};
	struct hive_checkpoint_undo u = {0};
	struct hive_session *s = NULL;
	struct hive_txn *t = NULL;
	struct stat st;
	int rc;

	if ((rc = hive_session_open_ro(root, id, &s, err)) || (rc = integrity(o, s, err)) ||
	    (rc = hive_txn_begin(root, id, &topts, &t, err)))
		goto out;
	if (hive_state_is_closed(hive_txn_state(t)) &&
	    fstatat(hive_txn_session(t)->dirfd, HIVE_CHECKPOINT_FILE, &st, AT_SYMLINK_NOFOLLOW) ==
		    0) {
		rc = hive_err_set(err, HIVE_EUSAGE,
				  "session %s is completed: its CHECKPOINT is final (--sign adds a "
				  "cosignature)",
				  id);
		goto out;
	}
	rc = hive_checkpoint_write(hive_txn_session(t), o->signing_key, &u, err);
out:
	hive_checkpoint_undo_free(&u);
	hive_txn_free(t);
	hive_session_close(s);
	return rc;
}

int hive_finish_sign(const char *root, const char *id, const struct hive_finish_opts *o,
		     int *already, struct hive_err *err)
{
	struct hive_txn_opts topts = {o->cfg, o->git, o->ci, NULL, 0, 1};
	struct hive_txn *t = NULL;
	int rc;

	*already = 0;
	if (!o->signing_key)
		return hive_err_set(
			err, HIVE_EUSAGE,
			"--sign: no signing key (set HIVE_SIGNING_KEY, trust.signing_key, "
			"or git's user.signingkey with gpg.format ssh)");
	if ((rc = hive_txn_begin(root, id, &topts, &t, err)))
		return rc;
	rc = hive_checkpoint_cosign(hive_txn_session(t), o->signing_key,
				    hive_state_is_closed(hive_txn_state(t)), already, err);
	hive_txn_free(t);
	return rc;
}
