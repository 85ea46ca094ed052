/* ops.c - the tools' operations as one library call each: start, emit, finish, check, show */
#include "ops.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "check.h"
#include "checkpoint.h"
#include "cictx.h"
#include "findings.h"
#include "finish.h"
#include "gate.h"
#include "id.h"
#include "gitctx.h"
#include "redact.h"
#include "report.h"
#include "requirements.h"
#include "session.h"
#include "sshsig.h"

/* git and CI context for one run, redacted: *git and *ci are the caller's. */
static int context(struct hive_ctx *ctx, cJSON **git, cJSON **ci)
{
	struct hive_redactor *red = NULL;
	int rc;

	*git = *ci = NULL;
	if ((rc = hive_git_context(ctx->git, hive_ctx_want_dirty(ctx), git, &ctx->err)) ||
	    (rc = hive_redactor_new(&ctx->cfg, &red, &ctx->err)))
		goto out;
	*ci = hive_ci_context();
	if (hive_redact(red, *git, 0) < 0 || hive_redact(red, *ci, 0) < 0)
		rc = hive_err_set(&ctx->err, HIVE_EENV, "out of memory");
out:
	hive_redactor_free(red);
	if (rc) {
		cJSON_Delete(*git);
		cJSON_Delete(*ci);
		*git = *ci = NULL;
	}
	return rc;
}

int hive_op_start(struct hive_ctx *ctx, const char *worker, struct hive_start_result *res)
{
	struct hive_start_opts so = {0};
	struct hive_redactor *red = NULL;
	cJSON *profile = NULL, *reqs = NULL, *git = NULL, *ci = NULL, *details = NULL;
	char *missing = NULL;
	size_t dropped = 0;
	int rc;

	worker = hive_ctx_worker(ctx, worker);
	if ((rc = hive_id_check("worker", worker, strlen(worker), &ctx->err)))
		return rc;
	if ((rc = hive_worker_profile_load(&ctx->cfg, ctx->top, worker, &profile, &missing,
					   &ctx->err)) ||
	    (rc = hive_requirements_detect(ctx->git, &reqs, &dropped, &ctx->err)) ||
	    (rc = context(ctx, &git, &ci)) || (rc = hive_redactor_new(&ctx->cfg, &red, &ctx->err)))
		goto out;
	if (missing)
		hive_warn(ctx->quiet, "no worker definition at %s: worker_profile is null",
			  missing);
	if (dropped)
		hive_warn(ctx->quiet,
			  "requirements: %zu more paths not recorded (at most %d of each kind)",
			  dropped, HIVE_REQUIREMENTS_MAX);
	if (hive_redact(red, profile, 0) < 0 || !(details = cJSON_CreateObject())) {
		rc = hive_err_set(&ctx->err, HIVE_EENV, "out of memory");
		goto out;
	}
	cJSON_AddItemToObject(details, "worker_profile", profile);
	cJSON_AddItemToObject(details, "requirements", reqs);
	profile = reqs = NULL;
	so.cfg = &ctx->cfg;
	so.git = git;
	so.ci = ci;
	so.worker = worker;
	so.details = details;
	so.dotenv_dir = getenv("CI_PROJECT_DIR") && *getenv("CI_PROJECT_DIR")
				? getenv("CI_PROJECT_DIR")
				: ctx->top;
	so.worktree = hive_git_workdir(ctx->git) ? ctx->top : NULL;
	so.findings = stderr;
	rc = hive_start(ctx->root, ctx->session_id, &so, res, &ctx->err);
out:
	cJSON_Delete(profile);
	cJSON_Delete(reqs);
	cJSON_Delete(git);
	cJSON_Delete(ci);
	cJSON_Delete(details);
	free(missing);
	hive_redactor_free(red);
	return rc;
}

int hive_op_emit(struct hive_ctx *ctx, const struct hive_args_events *b, int dry_run,
		 int (*deliver)(const char *lines, size_t len, void *arg, struct hive_err *err),
		 void *arg)
{
	return hive_op_emit_lane(ctx, b, dry_run, NULL, 0, deliver, arg);
}

int hive_op_emit_lane(struct hive_ctx *ctx, const struct hive_args_events *b, int dry_run,
		      const char *lane, int join,
		      int (*deliver)(const char *lines, size_t len, void *arg,
				     struct hive_err *err),
		      void *arg)
{
	struct hive_txn_opts o = {&ctx->cfg, NULL, NULL, NULL, 0, 0, ctx->session_from, lane};
	struct hive_txn *t = NULL;
	cJSON *git = NULL, *ci = NULL;
	const char *lines;
	size_t i, len, joined = 0;
	int rc;

	/* git context once per call, whatever the number of events */
	if ((rc = context(ctx, &git, &ci)))
		return rc;
	o.git = git;
	o.ci = ci;
	if ((rc = hive_txn_begin(ctx->root, ctx->session_id, &o, &t, &ctx->err)))
		goto out;
	if (hive_txn_rebuilt(t))
		hive_note(ctx->quiet, "%s/STATE.json disagreed with the log (%s): rebuilt from it",
			  hive_txn_session(t)->dir, hive_txn_rebuilt(t));
	if (join) {
		if ((rc = hive_txn_join(t, &joined, &ctx->err)))
			goto out;
		if (!joined)
			hive_note(ctx->quiet, "session %s: no lane has lines to join",
				  ctx->session_id);
	}
	for (i = 0; i < b->n; i++)
		if ((rc = hive_txn_add(t, b->v[i].type, b->v[i].details, &ctx->err))) {
			if (b->n > 1)
				hive_err_prefix(&ctx->err, "stdin");
			goto out;
		}
	if (!dry_run && (rc = hive_txn_commit(t, &ctx->err)))
		goto out;
	lines = hive_txn_lines(t, &len);
	/* the lines reach their reader before the lock is let go: if they cannot, they are
	 * taken back out of the log, so a failure always means "nothing was added" */
	if (deliver && deliver(lines, len, arg, &ctx->err)) {
		if (!dry_run)
			hive_txn_rollback(t);
		rc = ctx->err.status ? ctx->err.status : HIVE_EENV;
	}
out:
	hive_txn_free(t);
	cJSON_Delete(git);
	cJSON_Delete(ci);
	return rc;
}

int hive_op_finish(struct hive_ctx *ctx, const char *status, FILE *findings, const char **was,
		   cJSON **verdict, struct hive_facts **preview)
{
	struct hive_finish_opts fo = {&ctx->cfg, NULL,	   NULL, hive_git_repo(ctx->git),
				      status,	 findings, NULL, verdict,
				      ctx->top};
	cJSON *git = NULL, *ci = NULL;
	char *key = NULL;
	int rc;

	if ((rc = hive_checkpoint_signing_key(&ctx->cfg, ctx->top, hive_git_repo(ctx->git), &key,
					      &ctx->err)) ||
	    (rc = context(ctx, &git, &ci)))
		goto out;
	fo.signing_key = key;
	fo.git = git;
	fo.ci = ci;
	*was = NULL;
	rc = preview ? hive_finish_preview(ctx->root, ctx->session_id, &fo, preview, &ctx->err)
		     : hive_finish(ctx->root, ctx->session_id, &fo, was, &ctx->err);
out:
	free(key);
	cJSON_Delete(git);
	cJSON_Delete(ci);
	return rc;
}

int hive_op_show(struct hive_ctx *ctx, const char *which, const char *format, struct hive_buf *out)
{
	struct hive_session *s = NULL;
	struct hive_facts *facts = NULL;
	struct hive_buf md = {0};
	int rc;

	if ((rc = hive_session_open_ro(ctx->root, ctx->session_id, &s, &ctx->err)) ||
	    (rc = hive_session_lock_shared(s, hive_lock_timeout(), &ctx->err)) ||
	    (rc = hive_facts_load(s, hive_git_repo(ctx->git), &facts, &ctx->err)))
		goto out;
	hive_session_unlock(s);
	hive_report_render(facts, which, format, NULL, out, &md);
	/* every report leaves scrubbed, whatever the log holds */
	if (out->oom || md.oom || hive_redact_buf(out) < 0)
		rc = hive_err_set(&ctx->err, HIVE_EENV, "out of memory");
out:
	hive_buf_free(&md);
	hive_facts_free(facts);
	hive_session_close(s);
	return rc;
}

int hive_op_gate_open(struct hive_ctx *ctx, struct hive_findings *f, struct hive_gate *g)
{
	struct hive_signers *signers = NULL;
	int rc;

	memset(g, 0, sizeof(*g));
	g->f = f;
	if ((rc = hive_redactor_new(&ctx->cfg, &g->checker.red, &ctx->err)))
		goto fail;
	if (ctx->cfg.allowed_signers) {
		/* trust.allowed_signers, relative to the top of the work tree (SPEC 10) */
		const char *p = ctx->cfg.allowed_signers;
		char path[4200];

		snprintf(path, sizeof(path), "%s%s%s", *p == '/' ? "" : ctx->top,
			 *p == '/' ? "" : "/", p);
		if ((rc = hive_signers_load(path, p, &signers, &ctx->err)))
			goto fail;
	}
	g->checker.signers = signers;
	g->checker.cfg = &ctx->cfg;
	g->top = ctx->top;
	g->repo = hive_git_repo(ctx->git);
	g->notes = ctx->quiet ? NULL : stderr;
	g->nrules = hive_check_rules(&ctx->cfg, g->rules);
	g->config_path = ctx->config_rel;
	g->config_disk = ctx->cfg.path;
	g->root_given = ctx->root_given;
	return HIVE_OK;
fail:
	hive_op_gate_close(g);
	return rc;
}

void hive_op_gate_close(struct hive_gate *g)
{
	if (!g)
		return;
	hive_findings_free(g->f);
	hive_redactor_free(g->checker.red);
	/* the signers were loaded here: the gate only borrows them */
	hive_signers_free((struct hive_signers *)g->checker.signers);
	memset(g, 0, sizeof(*g));
}

int hive_op_check(struct hive_ctx *ctx, int all, const char *format, FILE *out, size_t *errors,
		  size_t *warnings)
{
	struct hive_findings *f = NULL;
	struct hive_gate g;
	int rc;

	*errors = *warnings = 0;
	if ((rc = hive_findings_new(format, out, 0, &f, &ctx->err)) ||
	    (rc = hive_op_gate_open(ctx, f, &g)))
		return rc;
	rc = all ? hive_gate_all(&g, ctx->root, &ctx->err)
		 : hive_gate_folder(&g, ctx->root, ctx->session_id, &ctx->err);
	if (rc)
		goto out;
	if (hive_findings_finish(g.f, 0) < 0) {
		rc = hive_err_set(&ctx->err, HIVE_EENV, "cannot write the findings");
		goto out;
	}
	*errors = hive_findings_errors(g.f);
	*warnings = hive_findings_warnings(g.f);
out:
	hive_op_gate_close(&g);
	return rc;
}
