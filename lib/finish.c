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
#include "integrity.h"
#include "sshsig.h"
#include "redact.h"
#include "report.h"
#include "session.h"
#include "state.h"
#include "util.h"

/* The log must pass hive-check's integrity rules (json, chain) to be finished; the
 * findings go to o->findings. Returns HIVE_OK, HIVE_FAIL, or an error. */
static int integrity(const struct hive_finish_opts *o, struct hive_session *s, struct hive_err *err)
{
	const char *rule;
	int rc = hive_integrity_check(o->cfg, s, o->findings, &rule, err);

	if (rc == HIVE_FAIL)
		hive_err_set(err, HIVE_FAIL,
			     "session %s fails hive-check's %s rule: not finishing it (see above; "
			     "hive-check --repair mends a cut-off last line)",
			     s->id, rule);
	return rc;
}

/* What --finish writes besides session_completed: the reports are written under the
 * session lock, after session_completed and STATE.json are committed and before the lock
 * is let go, so a failure there (a full disk) rolls session_completed back and the call
 * changes nothing. */
struct reports {
	struct git_repository *repo; /* for lead time, or NULL */
	struct hive_session *s;
	const cJSON *verdict; /* the gate's findings for RUNBOOK.md's Validation, or NULL */
	int made_metrics;     /* METRICS.json was written by this call */
	int made_runbook;     /* RUNBOOK.md was written by this call */
	struct hive_err err;  /* why writing the reports failed */
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
		hive_report_markdown(facts, "runbook", r->verdict, &md);
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

/* Findings that concern the files --finish writes itself (STATE.json, CHECKPOINT and its
 * signatures): not held against the session it is about to finish. */
static int finish_writes(const char *rule)
{
	return !strcmp(rule, "state") || !strcmp(rule, "signature") ||
	       !strcmp(rule, "policy.require_signed");
}

/*
 * The gate's verdict on the session as --finish would leave it: its log with pending (the
 * session_completed line) appended, STATE.json the view state, METRICS.json there; every rule
 * and policy of o->cfg, as hive-check applies them. *out: the findings as a JSON array (the
 * objects of hive-check --format json), the caller's; *errors: how many are errors, leaving out
 * the rules about the files --finish writes (finish_writes). Nothing is changed.
 */
static int gate_verdict(const struct hive_finish_opts *o, struct hive_session *s,
			const char *pending, size_t plen, const cJSON *state, cJSON **out,
			size_t *errors, struct hive_err *err)
{
	struct hive_checker checker = {o->cfg, NULL, NULL, hive_sshsig_verify, NULL};
	struct hive_check_input in = {0};
	struct hive_check_owned lanes = {0};
	struct hive_findings *f = NULL;
	struct hive_buf log = {0};
	char *statebuf = NULL, *json = NULL, events[4300], *line, *save = NULL, name[32];
	size_t jsonlen = 0, i, n = s->nsegs ? s->nsegs : 1;
	char **segs = calloc(n, sizeof(*segs));
	const char **bufs = calloc(n, sizeof(*bufs));
	size_t *lens = calloc(n, sizeof(*lens));
	const char *dir;
	FILE *sink = NULL;
	cJSON *arr = NULL, *x;
	int rc = HIVE_OK;

	*out = NULL;
	*errors = 0;
	dir = o->top ? hive_path_under(o->top, s->dir) : NULL;
	snprintf(events, sizeof(events), "%.4000s/EVENTS.jsonl", dir ? dir : s->dir);
	if (!segs || !bufs || !lens) {
		rc = hive_err_set(err, HIVE_EENV, "out of memory");
		goto out;
	}
	/* every segment, the last one with the pending lines after it */
	for (i = 0; i < n; i++) {
		if ((rc = hive_read_file(s->dirfd, hive_log_segment_name(i, name), 1,
					 (size_t)1 << 40, &segs[i], &lens[i], err)))
			goto out;
		bufs[i] = segs[i];
	}
	hive_buf_add(&log, segs[n - 1], lens[n - 1]);
	hive_buf_add(&log, pending, plen);
	bufs[n - 1] = log.p;
	lens[n - 1] = log.len;
	if (log.oom || !(statebuf = cJSON_PrintUnformatted(state)) ||
	    !(sink = open_memstream(&json, &jsonlen)) || !(arr = cJSON_CreateArray())) {
		rc = hive_err_set(err, HIVE_EENV, "out of memory");
		goto out;
	}
	in.session = s->id;
	in.dir_shown = dir ? dir : s->dir;
	in.events_shown = events;
	in.events_fd = -1;
	in.seg_bufs = bufs;
	in.seg_lens = lens;
	in.nsegs = n;
	in.state_buf = statebuf;
	in.state_len = strlen(statebuf);
	in.metrics_present = 1; /* --finish writes it */
	if ((rc = hive_check_read_lanes(s->dirfd, &lanes, err)))
		goto out;
	in.lanes = lanes.lanes;
	in.nlanes = lanes.nlanes;
	if ((rc = hive_redactor_new(o->cfg, &checker.red, err)) ||
	    (rc = hive_findings_new("json", sink, 0, &f, err)))
		goto out;
	hive_findings_session(f, s->id, events, NULL, 0);
	if ((rc = hive_check_session(&checker, &in, f, err)))
		goto out;
	hive_findings_finish(f, 0);
	fclose(sink);
	sink = NULL;
	for (line = strtok_r(json, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *rule, *level;
		if (!(x = cJSON_Parse(line)))
			continue;
		rule = hive_json_str(x, "rule");
		level = hive_json_str(x, "level");
		if (rule && finish_writes(rule)) {
			cJSON_Delete(x);
			continue;
		}
		*errors += level && !strcmp(level, "error");
		cJSON_AddItemToArray(arr, x);
	}
	*out = arr;
	arr = NULL;
out:
	if (sink)
		fclose(sink);
	cJSON_Delete(arr);
	hive_findings_free(f);
	hive_redactor_free(checker.red);
	hive_buf_free(&log);
	cJSON_free(statebuf);
	hive_check_owned_free(&lanes);
	for (i = 0; segs && i < n; i++)
		free(segs[i]);
	free(segs);
	free(bufs);
	free(lens);
	free(json);
	return rc;
}

/* The verdict's errors, one line each ("FILE:LINE: error: [rule] message"), on out. */
static void print_errors(FILE *out, const cJSON *verdict)
{
	const cJSON *x;

	if (!out)
		return;
	cJSON_ArrayForEach(x, verdict)
	{
		const cJSON *line = cJSON_GetObjectItemCaseSensitive(x, "line");
		if (strcmp(hive_json_str(x, "level") ? hive_json_str(x, "level") : "", "error"))
			continue;
		fprintf(out, "%s", hive_json_str(x, "file") ? hive_json_str(x, "file") : "-");
		if (cJSON_IsNumber(line))
			fprintf(out, ":%d", line->valueint);
		fprintf(out, ": error: [%s] %s\n", hive_json_str(x, "rule"),
			hive_json_str(x, "message") ? hive_json_str(x, "message") : "");
	}
}

/*
 * Add session_completed (o->status) to t and judge the session as it would be left
 * (gate_verdict). A session the gate refuses is not recorded as a success (SPEC 5.4): with an
 * error and a status other than failure, HIVE_FAIL with the errors on o->findings. *verdict:
 * the findings (the caller's), also on failure.
 */
static int complete(const struct hive_finish_opts *o, struct hive_txn *t, const char *id,
		    cJSON **verdict, struct hive_err *err)
{
	int failure = o->status && !strcmp(o->status, "failure");
	cJSON *details = cJSON_CreateObject();
	const char *lines;
	size_t len, errors = 0;
	int rc;

	size_t joined;

	*verdict = NULL;
	/* every lane joined first (SPEC 11): the completion covers all of them */
	if (!details ||
	    !cJSON_AddStringToObject(details, "status", failure ? "failure" : "success"))
		rc = hive_err_set(err, HIVE_EENV, "out of memory");
	else if (!(rc = hive_txn_join(t, &joined, err)))
		rc = hive_txn_add(t, "session_completed", details, err);
	cJSON_Delete(details);
	if (rc)
		return rc;
	lines = hive_txn_lines(t, &len);
	if ((rc = gate_verdict(o, hive_txn_session(t), lines, len, hive_txn_state(t), verdict,
			       &errors, err)))
		return rc;
	if (errors && !failure) {
		print_errors(o->findings, *verdict);
		return hive_err_set(err, HIVE_FAIL,
				    "session %s has %zu error%s under hive-check (above): not "
				    "finishing it as a success (fix them, or record the session as "
				    "failed with --finish --status failure)",
				    id, errors, errors == 1 ? "" : "s");
	}
	return HIVE_OK;
}

int hive_finish(const char *root, const char *id, const struct hive_finish_opts *o,
		const char **was, struct hive_err *err)
{
	struct hive_txn_opts topts = {o->cfg, o->git, o->ci, NULL, 0, 1, NULL, NULL};
	struct hive_session *s = NULL;
	struct hive_txn *t = NULL;
	struct reports rep = {o->repo, NULL, NULL, 0, 0, {0, 0, ""}};
	const cJSON *state;
	cJSON *verdict = NULL;
	int rc;

	*was = NULL;
	if (o->verdict)
		*o->verdict = NULL;
	if ((rc = hive_session_open_ro(root, id, &s, err)) || (rc = integrity(o, s, err)))
		goto out;
	if ((rc = hive_txn_begin(root, id, &topts, &t, err)))
		goto out;
	rep.s = hive_txn_session(t);
	state = hive_txn_state(t);
	if (!hive_state_is_closed(state)) {
		if ((rc = complete(o, t, id, &verdict, err)))
			goto out;
		rep.verdict = verdict;
		if ((rc = hive_txn_commit(t, err)))
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
	/* an already completed session: only the reports and the checkpoint that are missing,
	 * with the gate's verdict on it as it is (the same as at its finish, unless it changed) */
	{
		size_t errors;
		if ((rc = gate_verdict(o, rep.s, "", 0, state, &verdict, &errors, err)))
			goto out;
	}
	rep.verdict = verdict;
	if ((rc = write_files(&rep, o->signing_key, 0)))
		*err = rep.err;
out:
	hive_txn_free(t);
	hive_session_close(s);
	if (!rc && o->verdict)
		*o->verdict = verdict;
	else
		cJSON_Delete(verdict);
	return rc;
}

int hive_finish_preview(const char *root, const char *id, const struct hive_finish_opts *o,
			struct hive_facts **facts, struct hive_err *err)
{
	struct hive_txn_opts topts = {o->cfg, o->git, o->ci, NULL, 0, 1, NULL, NULL};
	struct hive_session *s = NULL;
	struct hive_txn *t = NULL;
	cJSON *verdict = NULL;
	const char *lines = "";
	size_t len = 0;
	int rc;

	*facts = NULL;
	if (o->verdict)
		*o->verdict = NULL;
	if ((rc = hive_session_open_ro(root, id, &s, err)) || (rc = integrity(o, s, err)) ||
	    (rc = hive_txn_begin(root, id, &topts, &t, err)))
		goto out;
	if (!hive_state_is_closed(hive_txn_state(t))) {
		if ((rc = complete(o, t, id, &verdict, err)))
			goto out;
		lines = hive_txn_lines(t, &len);
	}
	rc = hive_facts_load_pending(hive_txn_session(t), o->repo, lines, len, facts, err);
out:
	hive_txn_free(t); /* never committed: nothing was written */
	hive_session_close(s);
	if (!rc && o->verdict)
		*o->verdict = verdict;
	else
		cJSON_Delete(verdict);
	return rc;
}

int hive_finish_checkpoint(const char *root, const char *id, const struct hive_finish_opts *o,
			   struct hive_err *err)
{
	struct hive_txn_opts topts = {o->cfg, o->git, o->ci, NULL, 0, 1, NULL, NULL};
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
	struct hive_txn_opts topts = {o->cfg, o->git, o->ci, NULL, 0, 1, NULL, NULL};
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
