/* opsread.c - the tools' operations that read a session whole, one library call each: finish,
 * show, check and the gate they open. Apart from ops.c (start, emit) so that hive-emit, which
 * only records, does not link the gate, the reports and the signature code (and through them
 * most of libcrypto): every page of them costs each append at exec time. */
#include "ops.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "checkpoint.h"
#include "findings.h"
#include "finish.h"
#include "gate.h"
#include "gitctx.h"
#include "redact.h"
#include "report.h"
#include "session.h"
#include "sshsig.h"

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
	    (rc = hive_op_context(ctx, &git, &ci)))
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
	g->checker.verify = hive_sshsig_verify;
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
