/* hive-runbook.c - the completion protocol: METRICS.json, session_completed, and reports in the
 * seed's formats */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/checkpoint.h"
#include "../lib/cictx.h"
#include "../lib/cli.h"
#include "../lib/export.h"
#include "../lib/findings.h"
#include "../lib/finish.h"
#include "../lib/gitctx.h"
#include "../lib/ops.h"
#include "../lib/publish.h"
#include "../lib/session.h"
#include "../lib/redact.h"
#include "../lib/report.h"
#include "../lib/util.h"

static const char synopsis[] =
	"usage: hive-runbook [--finish [--status success|failure] [--dry-run]]\n"
	"                    [--report REPORT] [--format FORMAT] [-o FILE]\n"
	"                    [--findings FILE|-] [--step-summary] [options]\n"
	"       hive-runbook --all [--since TIME] [--until TIME] [--ref REF]\n"
	"                    [--format markdown|json|prometheus|events] [-o FILE] "
	"[--step-summary]\n"
	"       hive-runbook --checkpoint | --sign [options]\n"
	"       hive-runbook --publish [--ref REF] [options]\n"
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
	OPT_DRY_RUN,
	OPT_SINCE,
	OPT_UNTIL,
	OPT_PUBLISH,
	OPT_REF
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
			"validation), deployment, incident, infrastructure, all\n"
			"(the three reports without the overview), or dashboard (a\n"
			"Grafana dashboard over the Prometheus series, JSON)"),
	HIVE_OPT_STRING(0, "format", "FORMAT", OPT_FORMAT,
			"markdown (default), json, prometheus, otlp (an OTLP/JSON\n"
			"ExportTraceServiceRequest), otlp-logs (an ExportLogsServiceRequest);\n"
			"with --all: markdown, json, prometheus or events (NDJSON, every\n"
			"event of every session with the repository's identity)"),
	HIVE_OPT_STRING('o', "output", "FILE", OPT_OUTPUT,
			"write the output to FILE (atomically) instead of stdout"),
	HIVE_OPT_STRING(0, "findings", "FILE|-", OPT_FINDINGS,
			"hive-check --format json findings for the validation section"),
	HIVE_OPT_FLAG(0, "step-summary", OPT_SUMMARY,
		      "also append the Markdown to $GITHUB_STEP_SUMMARY (cut below\n"
		      "GitHub's 1 MiB per step, at a line, with a note)"),
	HIVE_OPT_FLAG(0, "all", OPT_ALL, "DORA's four keys across every session under the root"),
	HIVE_OPT_STRING(0, "since", "TIME", OPT_SINCE,
			"with --all: deployments and incidents from TIME on\n"
			"(YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ, UTC)"),
	HIVE_OPT_STRING(0, "until", "TIME", OPT_UNTIL,
			"with --all: deployments and incidents before TIME"),
	HIVE_OPT_FLAG(0, "checkpoint", OPT_CHECKPOINT,
		      "write CHECKPOINT (the logs' line counts and last hashes) for the\n"
		      "session now, signed into CHECKPOINT.sig when a key is configured"),
	HIVE_OPT_FLAG(0, "dry-run", OPT_DRY_RUN,
		      "with --finish: check everything --finish checks and print the\n"
		      "report it would leave, writing nothing"),
	HIVE_OPT_FLAG(0, "sign", OPT_SIGN,
		      "add a cosignature by the configured key to CHECKPOINT.sig\n"
		      "(CHECKPOINT must agree with the logs; it is never changed)"),
	HIVE_OPT_FLAG(0, "publish", OPT_PUBLISH,
		      "commit the session folder onto the sessions ref (after --finish\n"
		      "when given), touching neither work tree, index nor HEAD"),
	HIVE_OPT_STRING(0, "ref", "REF", OPT_REF,
			"the sessions ref for --publish and --all (default\n"
			"HIVE_PUBLISH_REF, publish.ref, or refs/hive/sessions)"),
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
	int finish, step_summary, all, checkpoint, sign, dry_run, publish;
	const char *status, *report, *format, *output, *findings, *ref;
	int64_t since_ms, until_ms; /* -1 when not given */
};

/* --since/--until: a UTC day (YYYY-MM-DD, its midnight) or an event timestamp. */
static int window_time(const char *opt, const char *v, int64_t *ms, struct hive_err *err)
{
	char full[64], q[128];

	if (strlen(v) == 10 && snprintf(full, sizeof(full), "%sT00:00:00Z", v) > 0 &&
	    hive_time_parse(full, ms) == 0)
		return HIVE_OK;
	if (hive_time_parse(v, ms) == 0)
		return HIVE_OK;
	return hive_err_set(err, HIVE_EUSAGE,
			    "%s: %s is not a UTC time (YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ)", opt,
			    hive_quote(q, sizeof(q), v));
}

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
	static const char *const reports[] = {"runbook", "deployment", "incident", "infrastructure",
					      "all",	 "dashboard",  NULL};
	static const char *const formats[] = {"markdown",  "json",   "prometheus", "otlp",
					      "otlp-logs", "events", NULL};
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
	case OPT_SINCE:
		return window_time("--since", arg, &o->since_ms, err);
	case OPT_UNTIL:
		return window_time("--until", arg, &o->until_ms, err);
	case OPT_PUBLISH:
		o->publish = 1;
		return HIVE_OK;
	case OPT_REF:
		o->ref = arg;
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

/* --publish: the session folder onto the sessions ref (SPEC 11); a folder that no longer
 * extends what the ref holds is refused (exit 1) with the history findings on stderr. */
static int publish(struct hive_ctx *ctx, const struct runbook_opts *o)
{
	struct hive_findings *f = NULL;
	struct hive_publish_result r;
	const char *ids[1] = {ctx->session_id}, *ref;
	char tip[16];
	int rc;

	if (!hive_git_repo(ctx->git))
		return hive_err_set(&ctx->err, HIVE_EUSAGE, "--publish: not in a git repository");
	if ((rc = hive_publish_ref(o->ref, ctx->cfg.publish_ref, &ref, &ctx->err)) ||
	    (rc = hive_findings_new("text", stderr, 0, &f, &ctx->err)))
		return rc;
	rc = hive_publish(hive_git_repo(ctx->git), ctx->top, ctx->root, ref, ids, 1,
			  ctx->config_rel, ctx->cfg.allowed_signers, f, &r, &ctx->err);
	hive_findings_free(f);
	if (rc)
		return rc;
	git_oid_tostr(tip, 8, &r.commit);
	hive_note(ctx->quiet, "session %s %s %s (%s)", ctx->session_id,
		  r.changed ? "published onto" : "is on", ref,
		  r.changed ? tip : "nothing new to publish");
	return HIVE_OK;
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
	opts.since_ms = opts.until_ms = -1;
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
	if ((opts.since_ms >= 0 || opts.until_ms >= 0) && !opts.all) {
		rc = hive_err_set(&ctx.err, HIVE_EUSAGE, "--since and --until go with --all");
		goto fail;
	}
	if (opts.since_ms >= 0 && opts.until_ms >= 0 && opts.until_ms <= opts.since_ms) {
		rc = hive_err_set(&ctx.err, HIVE_EUSAGE, "--until must be later than --since");
		goto fail;
	}
	if (opts.status && !opts.finish) {
		rc = hive_err_set(&ctx.err, HIVE_EUSAGE, "--status goes with --finish");
		goto fail;
	}
	if (opts.publish && (opts.all || opts.checkpoint || opts.sign || opts.dry_run)) {
		rc = hive_err_set(&ctx.err, HIVE_EUSAGE,
				  "--publish goes alone or with --finish (no --all, --checkpoint, "
				  "--sign or --dry-run)");
		goto fail;
	}
	if (opts.publish && !opts.finish &&
	    (opts.report || opts.format || opts.output || opts.findings || opts.step_summary)) {
		rc = hive_err_set(
			&ctx.err, HIVE_EUSAGE,
			"--publish alone writes no report (no --report, --format, -o, "
			"--findings or --step-summary); with --finish it publishes after the "
			"report");
		goto fail;
	}
	if (opts.ref && !opts.publish && !opts.all) {
		rc = hive_err_set(&ctx.err, HIVE_EUSAGE, "--ref goes with --publish or --all");
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
	if (!strcmp(report, "dashboard") &&
	    (opts.finish || opts.all || opts.findings || opts.step_summary || opts.checkpoint ||
	     opts.sign || opts.publish || (opts.format && strcmp(opts.format, "json")))) {
		rc = hive_err_set(
			&ctx.err, HIVE_EUSAGE,
			"--report dashboard is a Grafana dashboard in JSON: no --finish, "
			"--all, --findings, --step-summary, --checkpoint, --sign, --publish or "
			"--format other than json");
		goto fail;
	}
	if (!strcmp(format, "events") && (opts.ref || opts.since_ms >= 0 || opts.until_ms >= 0)) {
		rc = hive_err_set(
			&ctx.err, HIVE_EUSAGE,
			"--format events exports every event of the work tree's sessions: "
			"no --ref, --since or --until (filter the NDJSON with jq)");
		goto fail;
	}
	/* otlp and otlp-logs export one session; events every session */
	if (((!strcmp(format, "otlp") || !strcmp(format, "otlp-logs")) && opts.all) ||
	    (!strcmp(format, "events") && !opts.all)) {
		rc = hive_err_set(
			&ctx.err, HIVE_EUSAGE,
			"--format %s goes %s --all (otlp and otlp-logs export one session, "
			"events every session)",
			format, opts.all ? "without" : "with");
		goto fail;
	}
	if (opts.output)
		snprintf(shown, sizeof(shown), "-o %.4000s", opts.output);
	if ((rc = hive_ctx_setup(&ctx)))
		goto fail;
	if (opts.findings && (rc = hive_findings_read(opts.findings, &findings, &ctx.err)))
		goto fail;

	if (!strcmp(report, "dashboard")) {
		/* the same for every session: panels over the series, not a session's values */
		cJSON *dash = hive_report_dashboard();
		char *text = dash ? cJSON_Print(dash) : NULL;
		if (text) {
			hive_buf_puts(&out, text);
			hive_buf_puts(&out, "\n");
		} else {
			out.oom = 1;
		}
		cJSON_free(text);
		cJSON_Delete(dash);
		snprintf(where, sizeof(where), "from hive-runbook --report dashboard");
	} else if (opts.all && !strcmp(format, "events")) {
		if ((rc = hive_export_events(ctx.root, ctx.top, ctx.git, &out, &ctx.err))) {
			hive_err_prefix(&ctx.err, "--all");
			goto fail;
		}
		snprintf(where, sizeof(where), "from hive-runbook --all");
	} else if (opts.all) {
		if (!(rc = hive_dora_new(&d, &ctx.err)))
			hive_dora_window(d, opts.since_ms, opts.until_ms);
		if (rc || (rc = opts.ref ? hive_dora_collect_ref(d, ctx.root, ctx.top,
								 hive_git_repo(ctx.git), opts.ref,
								 &ctx.err)
					 : hive_dora_collect(d, ctx.root, hive_git_repo(ctx.git),
							     &ctx.err))) {
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
		if (opts.publish && !opts.finish) {
			if ((rc = publish(&ctx, &opts)))
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
	if (opts.publish && (rc = publish(&ctx, &opts)))
		goto fail;
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
