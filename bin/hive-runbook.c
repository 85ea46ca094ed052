/* hive-runbook.c - the completion protocol: METRICS.json, session_completed, and reports in the
 * seed's formats */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/checkpoint.h"
#include "../lib/cictx.h"
#include "../lib/cli.h"
#include "../lib/findings.h"
#include "../lib/finish.h"
#include "../lib/gitctx.h"
#include "../lib/ops.h"
#include "../lib/session.h"
#include "../lib/redact.h"
#include "../lib/report.h"
#include "../lib/util.h"

static const char synopsis[] =
	"usage: hive-runbook [--finish [--status success|failure] [--dry-run]]\n"
	"                    [--report REPORT] [--format markdown|json|prometheus] [-o FILE]\n"
	"                    [--findings FILE|-] [--step-summary] [options]\n"
	"       hive-runbook --all [--format markdown|json|prometheus] [-o FILE] [--step-summary]\n"
	"       hive-runbook --checkpoint | --sign [options]\n"
	"\n"
	"Summarise a session from STATE.json and EVENTS.jsonl in the seed's formats.\n"
	"\n";

enum {
	OPT_FINISH = 1,
	OPT_STATUS,
	OPT_REPORT,
	OPT_FORMAT,
	OPT_OUTPUT,
	OPT_FINDINGS,
	OPT_SUMMARY,
	OPT_ALL,
	OPT_CHECKPOINT,
	OPT_SIGN,
	OPT_DRY_RUN
};

/* hive-runbook's options; -C, --root, --session, --config, -q, --help and --version are
 * cli.c's (SPEC 2). Each is in man/hive-runbook.1's OPTIONS (tests/bats/options.bats). */
static const struct hive_opt runbook_options[] = {
	HIVE_OPT_FLAG(0, "finish", OPT_FINISH,
		      "the completion protocol: append session_completed, write\n"
		      "METRICS.json and RUNBOOK.md; running it again changes nothing"),
	HIVE_OPT_STRING(0, "status", "S", OPT_STATUS,
			"with --finish: success (default) or failure"),
	HIVE_OPT_STRING(0, "report", "REPORT", OPT_REPORT,
			"runbook (default: overview, metrics, timeline, every report,\n"
			"validation), deployment, incident, infrastructure, or all\n"
			"(the three reports without the overview)"),
	HIVE_OPT_STRING(0, "format", "FORMAT", OPT_FORMAT,
			"markdown (default), json or prometheus"),
	HIVE_OPT_STRING('o', "output", "FILE", OPT_OUTPUT,
			"write the output to FILE (atomically) instead of stdout"),
	HIVE_OPT_STRING(0, "findings", "FILE|-", OPT_FINDINGS,
			"hive-check --format json findings for the validation section"),
	HIVE_OPT_FLAG(0, "step-summary", OPT_SUMMARY,
		      "also append the Markdown to $GITHUB_STEP_SUMMARY (cut below\n"
		      "GitHub's 1 MiB per step, at a line, with a note)"),
	HIVE_OPT_FLAG(0, "all", OPT_ALL, "DORA's four keys across every session under the root"),
	HIVE_OPT_FLAG(0, "checkpoint", OPT_CHECKPOINT,
		      "write CHECKPOINT (the logs' line counts and last hashes) for the\n"
		      "session now, signed into CHECKPOINT.sig when a key is configured"),
	HIVE_OPT_FLAG(0, "dry-run", OPT_DRY_RUN,
		      "with --finish: check everything --finish checks and print the\n"
		      "report it would leave, writing nothing"),
	HIVE_OPT_FLAG(0, "sign", OPT_SIGN,
		      "add a cosignature by the configured key to CHECKPOINT.sig\n"
		      "(CHECKPOINT must agree with the logs; it is never changed)"),
	HIVE_OPT_COMMON_HELP(0, "quiet", "no notes on stderr"),
	HIVE_OPT_END,
};

static const char epilogue[] =
	"\n"
	"Exit status: 0 success, 1 --finish or --checkpoint refused (the log fails hive-check's\n"
	"json or chain rule, or session_completed breaks a policy) or --sign refused\n"
	"(CHECKPOINT does not agree with the logs), 2 usage or invalid input, 3 environment\n"
	"or I/O failure.\n";

struct runbook_opts {
	int finish, step_summary, all, checkpoint, sign, dry_run;
	const char *status, *report, *format, *output, *findings;
};

static int one_of(const char *opt, const char *v, const char *const *allowed, struct hive_err *err)
{
	char q[128], list[256] = "";
	size_t i, o = 0;

	for (i = 0; allowed[i]; i++) {
		if (!strcmp(v, allowed[i]))
			return HIVE_OK;
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "",
				      allowed[i]);
	}
	return hive_err_set(err, HIVE_EUSAGE, "%s: %s is not one of %s", opt,
			    hive_quote(q, sizeof(q), v), list);
}

static int runbook_option(void *tool, int key, const char *arg, struct hive_err *err)
{
	static const char *const statuses[] = {"success", "failure", NULL};
	static const char *const reports[] = {"runbook",	"deployment", "incident",
					      "infrastructure", "all",	      NULL};
	static const char *const formats[] = {"markdown", "json", "prometheus", NULL};
	struct runbook_opts *o = tool;

	switch (key) {
	case OPT_FINISH:
		o->finish = 1;
		return HIVE_OK;
	case OPT_STATUS:
		o->status = arg;
		return one_of("--status", arg, statuses, err);
	case OPT_REPORT:
		o->report = arg;
		return one_of("--report", arg, reports, err);
	case OPT_FORMAT:
		o->format = arg;
		return one_of("--format", arg, formats, err);
	case OPT_OUTPUT:
		o->output = arg;
		return HIVE_OK;
	case OPT_FINDINGS:
		o->findings = arg;
		return HIVE_OK;
	case OPT_SUMMARY:
		o->step_summary = 1;
		return HIVE_OK;
	case OPT_ALL:
		o->all = 1;
		return HIVE_OK;
	case OPT_CHECKPOINT:
		o->checkpoint = 1;
		return HIVE_OK;
	case OPT_DRY_RUN:
		o->dry_run = 1;
		return HIVE_OK;
	case OPT_SIGN:
		o->sign = 1;
		return HIVE_OK;
	}
	return hive_err_set(err, HIVE_EUSAGE, "unknown option");
}

/* --finish: session_completed stamped with git and CI context like every other event
 * (SPEC 3), then the reports; see hive_finish. With --dry-run nothing is written and
 * *preview is what the reports would be made from (hive_finish_preview). Either way *verdict
 * is the gate's findings on the session as finished, for the report printed after it. */
static int finish(struct hive_ctx *ctx, const struct runbook_opts *o, struct hive_facts **preview,
		  cJSON **verdict)
{
	const char *was;
	int rc = hive_op_finish(ctx, o->status, stderr, &was, verdict, o->dry_run ? preview : NULL);

	if (!rc && was && o->status)
		hive_note(ctx->quiet, "session %s is already %s: --status %s changes nothing",
			  ctx->session_id, was, o->status);
	return rc;
}

/* --checkpoint and --sign: the session's CHECKPOINT and its signatures (SPEC 10). */
static int checkpoint(struct hive_ctx *ctx, const struct runbook_opts *o)
{
	struct hive_finish_opts fo = {&ctx->cfg, NULL, NULL, NULL, NULL, stderr, NULL, NULL, NULL};
	char *key = NULL;
	int rc, already = 0;

	if ((rc = hive_checkpoint_signing_key(&ctx->cfg, ctx->top, hive_git_repo(ctx->git), &key,
					      &ctx->err)))
		return rc;
	fo.signing_key = key;
	if (o->sign)
		rc = hive_finish_sign(ctx->root, ctx->session_id, &fo, &already, &ctx->err);
	else
		rc = hive_finish_checkpoint(ctx->root, ctx->session_id, &fo, &ctx->err);
	if (!rc)
		hive_note(
			ctx->quiet, "session %s: %s", ctx->session_id,
			o->sign ? (already ? "this key has signed CHECKPOINT already: nothing added"
					   : "cosignature added to CHECKPOINT.sig")
				: (key ? "CHECKPOINT written and signed into CHECKPOINT.sig"
				       : "CHECKPOINT written (no signing key configured)"));
	free(key);
	return rc;
}

int main(int argc, char **argv)
{
	struct runbook_opts opts = {0};
	struct hive_cli_tool tool = {synopsis, runbook_options, epilogue, runbook_option, &opts};
	struct hive_ctx ctx = {0};
	struct hive_session *s = NULL;
	struct hive_facts *facts = NULL;
	struct hive_dora *d = NULL;
	struct hive_buf out = {0}, md = {0};
	cJSON *findings = NULL, *verdict = NULL;
	char where[4400], shown[4100];
	int rc, first, generated;
	const char *format, *report;

	hive_progname = "hive-runbook";
	if ((rc = hive_cli_parse(&ctx, &tool, argc, argv, &first)))
		goto fail;
	if (ctx.want_help)
		return hive_cli_help(&tool, ctx.want_help, stdout);
	if (ctx.want_version) {
		printf("hive-runbook %s\n", HIVE_VERSION);
		return 0;
	}
	format = opts.format ? opts.format : "markdown";
	report = opts.report ? opts.report : "runbook";
	if (first < argc) {
		rc = hive_err_set(&ctx.err, HIVE_EUSAGE, "unexpected argument %s (see --help)",
				  argv[first]);
		goto fail;
	}
	if (opts.dry_run && (!opts.finish || opts.output || opts.step_summary)) {
		rc = hive_err_set(&ctx.err, HIVE_EUSAGE,
				  "--dry-run goes with --finish, and writes nothing: no -o or "
				  "--step-summary");
		goto fail;
	}
	if (opts.status && !opts.finish) {
		rc = hive_err_set(&ctx.err, HIVE_EUSAGE, "--status goes with --finish");
		goto fail;
	}
	if (opts.all && (opts.finish || opts.report || opts.findings || ctx.session_opt)) {
		rc = hive_err_set(
			&ctx.err, HIVE_EUSAGE,
			"--all reports across sessions: no --finish, --report, --findings or "
			"--session");
		goto fail;
	}
	if ((opts.checkpoint || opts.sign) &&
	    (opts.checkpoint + opts.sign + opts.finish + opts.all > 1 || opts.report ||
	     opts.format || opts.output || opts.findings || opts.step_summary)) {
		rc = hive_err_set(&ctx.err, HIVE_EUSAGE,
				  "--checkpoint and --sign go alone (no --finish, --all, --report, "
				  "--format, -o, --findings or --step-summary; --finish writes the "
				  "checkpoint itself)");
		goto fail;
	}
	if (opts.output)
		snprintf(shown, sizeof(shown), "-o %.4000s", opts.output);
	if ((rc = hive_ctx_setup(&ctx)))
		goto fail;
	if (opts.findings && (rc = hive_findings_read(opts.findings, &findings, &ctx.err)))
		goto fail;

	if (opts.all) {
		if ((rc = hive_dora_new(&d, &ctx.err)) ||
		    (rc = hive_dora_collect(d, ctx.root, hive_git_repo(ctx.git), &ctx.err))) {
			hive_err_prefix(&ctx.err, "--all");
			goto fail;
		}
		hive_dora_render(d, format, &out, &md);
		snprintf(where, sizeof(where), "from hive-runbook --all");
	} else {
		if ((rc = hive_ctx_session(&ctx, 0, &generated)))
			goto fail;
		if (opts.checkpoint || opts.sign) {
			if ((rc = checkpoint(&ctx, &opts)))
				goto fail;
			goto done;
		}
		if (opts.finish &&
		    ((opts.output && (rc = hive_path_dir_writable(opts.output, shown, &ctx.err))) ||
		     (opts.step_summary && (rc = hive_ci_step_summary_check(&ctx.err))) ||
		     (rc = finish(&ctx, &opts, &facts, &verdict))))
			goto fail;
		if (!findings) /* the runbook printed is RUNBOOK.md, Validation included */
			findings = verdict, verdict = NULL;
		if (!facts &&
		    ((rc = hive_session_open_ro(ctx.root, ctx.session_id, &s, &ctx.err)) ||
		     (rc = hive_session_lock_shared(s, hive_lock_timeout(), &ctx.err)) ||
		     (rc = hive_facts_load(s, hive_git_repo(ctx.git), &facts, &ctx.err))))
			goto fail;
		if (s)
			hive_session_unlock(s);
		hive_report_render(facts, report, format, findings, &out, &md);
		snprintf(where, sizeof(where), "in %.4000s/RUNBOOK.md after --finish",
			 s ? s->dir : ctx.root);
	}
	/* every report leaves scrubbed, whatever the log holds (one written before a rule
	 * existed, or edited by hand) */
	if (out.oom || md.oom || hive_redact_buf(&out) < 0 || hive_redact_buf(&md) < 0) {
		rc = hive_err_set(&ctx.err, HIVE_EENV, "out of memory");
		goto fail;
	}
	if (opts.output) {
		if ((rc = hive_write_atomic_path(opts.output, shown, out.p ? out.p : "", out.len,
						 &ctx.err)))
			goto fail;
		snprintf(where, sizeof(where), "in %.4000s", opts.output);
	} else if (out.len && fwrite(out.p, 1, out.len, stdout) != out.len) {
		rc = hive_err_set(&ctx.err, HIVE_EENV, "cannot write to standard output");
		goto fail;
	}
	if (opts.step_summary &&
	    (rc = hive_ci_step_summary(md.p ? md.p : "", md.len, where, &ctx.err)))
		goto fail;
	if (fflush(stdout) != 0) {
		rc = hive_err_set(&ctx.err, HIVE_EENV, "cannot write to standard output");
		goto fail;
	}
	if (opts.dry_run && !ctx.quiet)
		fprintf(stderr, "%s: --dry-run: nothing was written\n", hive_progname);
	rc = HIVE_OK;
	goto done;
fail:
	hive_err_print(&ctx.err);
done:
	cJSON_Delete(findings);
	cJSON_Delete(verdict);
	hive_buf_free(&out);
	hive_buf_free(&md);
	hive_facts_free(facts);
	hive_dora_free(d);
	hive_session_close(s);
	hive_ctx_free(&ctx);
	return rc;
}
