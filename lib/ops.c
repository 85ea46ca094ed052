/* ops.c - the tools' operations that record, one library call each: start and emit (finish,
 * show and check, which read a session whole, are opsread.c's) */
#include "ops.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cictx.h"
#include "id.h"
#include "gitctx.h"
#include "redact.h"
#include "requirements.h"
#include "session.h"

int hive_op_context(struct hive_ctx *ctx, cJSON **git, cJSON **ci)
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
	    (rc = hive_op_context(ctx, &git, &ci)) ||
	    (rc = hive_redactor_new(&ctx->cfg, &red, &ctx->err)))
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
	if ((rc = hive_op_context(ctx, &git, &ci)))
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
