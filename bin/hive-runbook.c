/* hive-runbook.c - the completion protocol: METRICS.json, session_completed, and reports in the
 * seed's formats */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/check.h"
#include "../lib/cictx.h"
#include "../lib/cli.h"
#include "../lib/findings.h"
#include "../lib/gitctx.h"
#include "../lib/session.h"
#include "../lib/redact.h"
#include "../lib/report.h"
#include "../lib/state.h"
#include "../lib/util.h"

static const char synopsis[] =
	"usage: hive-runbook [--finish [--status success|failure]] [--report REPORT]\n"
	"                    [--format markdown|json|prometheus] [-o FILE] [--findings FILE|-]\n"
	"                    [--step-summary] [options]\n"
	"       hive-runbook --all [--format markdown|json|prometheus] [-o FILE] [--step-summary]\n"
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
	OPT_ALL
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
	HIVE_OPT_COMMON_HELP(0, "quiet", "no notes on stderr"),
	HIVE_OPT_END,
};

static const char epilogue[] =
	"\n"
	"Exit status: 0 success, 1 --finish refused (the log fails hive-check's json or chain\n"
	"rule), 2 usage or invalid input, 3 environment or I/O failure.\n";

struct runbook_opts {
	int finish, step_summary, all;
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
	}
	return hive_err_set(err, HIVE_EUSAGE, "unknown option");
}

/* Write buf to path atomically (its folder, a temporary file, rename). */
static int write_output(const char *path, const char *buf, size_t len, struct hive_err *err)
{
	char *a = strdup(path), *b = strdup(path);
	int dirfd, rc;

	if (!a || !b) {
		free(a);
		free(b);
		return hive_err_set(err, HIVE_EENV, "out of memory");
	}
	dirfd = open(dirname(a), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		rc = hive_err_sys(err, HIVE_EENV, errno, "-o %s", path);
	else
		rc = hive_write_atomic(dirfd, basename(b), buf, len, path, err);
	if (dirfd >= 0)
		close(dirfd);
	free(a);
	free(b);
	return rc;
}

/* -o's folder must exist and be writable before --finish changes the session: a call that
 * ends in exit 3 leaves every file as it was (SPEC 2). */
static int output_dir_check(const char *path, struct hive_err *err)
{
	char *a = strdup(path);
	int rc = HIVE_OK;

	if (!a)
		return hive_err_set(err, HIVE_EENV, "out of memory");
	if (access(dirname(a), W_OK | X_OK) < 0)
		rc = hive_err_sys(err, HIVE_EENV, errno, "-o %s", path);
	free(a);
	return rc;
}

/* --finish refuses a log that fails hive-check's integrity rules (json, chain); the
 * findings are printed on stderr. Returns HIVE_OK, HIVE_FAIL, or an error. */
static int integrity(struct hive_ctx *ctx, struct hive_session *s)
{
	struct hive_checker checker = {&ctx->cfg, NULL};
	struct hive_check_input in;
	struct hive_findings *f = NULL;
	char events[4300], *state = NULL;
	int rc;

	snprintf(events, sizeof(events), "%s/EVENTS.jsonl", s->dir);
	if ((rc = hive_redactor_new(&ctx->cfg, &checker.red, &ctx->err)) ||
	    (rc = hive_findings_new("text", stderr, 0, &f, &ctx->err)) ||
	    (rc = hive_check_input_from_session(s, s->dir, events, &in, &state, &ctx->err)))
		goto out;
	hive_findings_session(f, s->id, events, NULL, 0);
	if ((rc = hive_check_session(&checker, &in, f, &ctx->err)))
		goto out;
	if (hive_findings_rule_errors(f, "chain") || hive_findings_rule_errors(f, "json"))
		rc = hive_err_set(&ctx->err, HIVE_FAIL,
				  "session %s fails hive-check's %s rule: not finishing it (see "
				  "above; hive-check --repair mends a cut-off last line)",
				  s->id, hive_findings_rule_errors(f, "chain") ? "chain" : "json");
out:
	free(state);
	hive_findings_free(f);
	hive_redactor_free(checker.red);
	return rc;
}

/* What --finish writes besides session_completed: the reports are written under the
 * session lock, after session_completed and STATE.json are committed and before the lock
 * is let go, so a failure there (a full disk) rolls session_completed back and the call
 * changes nothing. */
struct reports {
	struct hive_ctx *ctx;
	struct hive_session *s;
	int made_metrics;    /* METRICS.json was written by this call */
	struct hive_err err; /* why writing the reports failed */
};

/* METRICS.json and RUNBOOK.md, each only when missing. HIVE_OK or the error in r->err;
 * a METRICS.json this call wrote is removed again when RUNBOOK.md cannot be written. */
static int write_reports(struct reports *r)
{
	struct hive_facts *facts = NULL;
	struct hive_buf md = {0};
	struct stat st;
	cJSON *metrics = NULL;
	char *text = NULL, shown[4300];
	int rc;

	if ((rc = hive_facts_load(r->s, hive_git_repo(r->ctx->git), &facts, &r->err)))
		goto out;
	if (fstatat(r->s->dirfd, "METRICS.json", &st, AT_SYMLINK_NOFOLLOW) < 0) {
		metrics = hive_report_metrics(facts);
		text = cJSON_Print(metrics);
		snprintf(shown, sizeof(shown), "%s/METRICS.json", r->s->dir);
		if (!text)
			rc = hive_err_set(&r->err, HIVE_EENV, "out of memory");
		else
			rc = hive_write_atomic(r->s->dirfd, "METRICS.json", text, strlen(text),
					       shown, &r->err);
		if (rc)
			goto out;
		r->made_metrics = 1;
	}
	if (fstatat(r->s->dirfd, "RUNBOOK.md", &st, AT_SYMLINK_NOFOLLOW) < 0) {
		hive_report_markdown(facts, "runbook", NULL, &md);
		snprintf(shown, sizeof(shown), "%s/RUNBOOK.md", r->s->dir);
		if (md.oom)
			rc = hive_err_set(&r->err, HIVE_EENV, "out of memory");
		else
			rc = hive_write_atomic(r->s->dirfd, "RUNBOOK.md", md.p, md.len, shown,
					       &r->err);
	}
out:
	if (rc && r->made_metrics) {
		unlinkat(r->s->dirfd, "METRICS.json", 0);
		r->made_metrics = 0;
	}
	cJSON_free(text);
	cJSON_Delete(metrics);
	hive_buf_free(&md);
	hive_facts_free(facts);
	return rc;
}

/* The completion protocol. Idempotent: a completed session gets no second
 * session_completed; METRICS.json and RUNBOOK.md are written only when missing. The log
 * is checked first (integrity), through s; the event goes through a transaction. */
static int finish(struct hive_ctx *ctx, struct runbook_opts *o, struct hive_session *s)
{
	struct hive_txn_opts topts = {&ctx->cfg, NULL, NULL, NULL, 0, 1};
	struct hive_txn *t = NULL;
	struct hive_redactor *red = NULL;
	struct reports rep = {ctx, NULL, 0, {0, 0, ""}};
	const cJSON *state;
	cJSON *details = NULL, *git = NULL, *ci = NULL;
	int rc;

	if ((rc = integrity(ctx, s)))
		return rc;
	/* stamped with git and CI context like every other event (SPEC 3) */
	if ((rc = hive_git_context(ctx->git, hive_ctx_want_dirty(ctx), &git, &ctx->err)) ||
	    (rc = hive_redactor_new(&ctx->cfg, &red, &ctx->err)))
		goto out;
	ci = hive_ci_context();
	if (hive_redact(red, git, 0) < 0 || hive_redact(red, ci, 0) < 0) {
		rc = hive_err_set(&ctx->err, HIVE_EENV, "out of memory");
		goto out;
	}
	topts.git = git;
	topts.ci = ci;
	if ((rc = hive_txn_begin(ctx->root, ctx->session_id, &topts, &t, &ctx->err)))
		goto out;
	rep.s = hive_txn_session(t);
	state = hive_txn_state(t);
	if (!hive_state_is_closed(state)) {
		details = cJSON_CreateObject();
		cJSON_AddStringToObject(details, "status", o->status ? o->status : "success");
		if ((rc = hive_txn_add(t, "session_completed", details, &ctx->err)) ||
		    (rc = hive_txn_commit(t, &ctx->err)))
			goto out;
		if ((rc = write_reports(&rep))) {
			/* the reports failed: session_completed is taken back out */
			hive_txn_rollback(t);
			ctx->err = rep.err;
			hive_err_prefix(&ctx->err, "session not finished");
		}
		goto out;
	}
	if (o->status && !ctx->quiet)
		fprintf(stderr, "%s: session %s is already %s: --status %s changes nothing\n",
			hive_progname, s->id, hive_json_str(state, "status"), o->status);
	/* an already completed session: only the reports that are missing */
	if ((rc = write_reports(&rep)))
		ctx->err = rep.err;
out:
	hive_txn_free(t);
	cJSON_Delete(details);
	cJSON_Delete(git);
	cJSON_Delete(ci);
	hive_redactor_free(red);
	return rc;
}

struct dora_walk {
	struct hive_ctx *ctx;
	struct hive_dora *d;
};

/* One session's facts into the DORA figures, read under its shared lock. */
static int dora_one(const char *id, void *arg)
{
	struct dora_walk *w = arg;
	struct hive_session *s = NULL;
	struct hive_facts *f = NULL;
	int rc;

	rc = hive_session_open_ro(w->ctx->root, id, &s, &w->ctx->err);
	if (!rc && !(rc = hive_session_lock_shared(s, hive_lock_timeout(), &w->ctx->err)) &&
	    !(rc = hive_facts_load(s, hive_git_repo(w->ctx->git), &f, &w->ctx->err)))
		hive_dora_add(w->d, f);
	if (rc)
		hive_err_prefix(&w->ctx->err, "--all");
	hive_facts_free(f);
	hive_session_close(s);
	return rc;
}

/* --all: DORA across every session under the root. */
static int dora(struct hive_ctx *ctx, struct hive_dora *d)
{
	struct dora_walk w = {ctx, d};

	return hive_session_foreach(ctx->root, dora_one, &w, &ctx->err);
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
	cJSON *findings = NULL, *json = NULL;
	char *text = NULL, where[4400];
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
	if ((rc = hive_ctx_setup(&ctx)))
		goto fail;
	if (opts.findings && (rc = hive_findings_read(opts.findings, &findings, &ctx.err)))
		goto fail;

	if (opts.all) {
		if ((rc = hive_dora_new(&d, &ctx.err)) || (rc = dora(&ctx, d)))
			goto fail;
		hive_dora_markdown(d, &md);
		if (!strcmp(format, "json")) {
			json = hive_dora_json(d);
		} else if (!strcmp(format, "prometheus")) {
			hive_dora_prometheus(d, &out);
		} else {
			hive_buf_add(&out, md.p ? md.p : "", md.len);
		}
		snprintf(where, sizeof(where), "from hive-runbook --all");
	} else {
		if ((rc = hive_ctx_session(&ctx, 0, &generated)))
			goto fail;
		if (opts.finish &&
		    ((opts.output && (rc = output_dir_check(opts.output, &ctx.err))) ||
		     (opts.step_summary && (rc = hive_ci_step_summary_check(&ctx.err)))))
			goto fail;
		rc = hive_session_open_ro(ctx.root, ctx.session_id, &s, &ctx.err);
		if (rc || (opts.finish && (rc = finish(&ctx, &opts, s))))
			goto fail;
		if ((rc = hive_session_lock_shared(s, hive_lock_timeout(), &ctx.err)) ||
		    (rc = hive_facts_load(s, hive_git_repo(ctx.git), &facts, &ctx.err)))
			goto fail;
		hive_session_unlock(s);
		hive_report_markdown(facts, report, findings, &md);
		if (!strcmp(format, "json"))
			json = hive_report_json(facts, findings);
		else if (!strcmp(format, "prometheus"))
			hive_report_prometheus(facts, &out);
		else
			hive_buf_add(&out, md.p ? md.p : "", md.len);
		snprintf(where, sizeof(where), "in %.4000s/RUNBOOK.md after --finish", s->dir);
	}
	if (json) {
		if (!(text = cJSON_PrintUnformatted(json))) {
			rc = hive_err_set(&ctx.err, HIVE_EENV, "out of memory");
			goto fail;
		}
		hive_buf_puts(&out, text);
		hive_buf_puts(&out, "\n");
	}
	if (out.oom || md.oom) {
		rc = hive_err_set(&ctx.err, HIVE_EENV, "out of memory");
		goto fail;
	}
	if (opts.output) {
		if ((rc = write_output(opts.output, out.p ? out.p : "", out.len, &ctx.err)))
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
	rc = HIVE_OK;
	goto done;
fail:
	hive_err_print(&ctx.err);
done:
	cJSON_free(text);
	cJSON_Delete(json);
	cJSON_Delete(findings);
	hive_buf_free(&out);
	hive_buf_free(&md);
	hive_facts_free(facts);
	hive_dora_free(d);
	hive_session_close(s);
	hive_ctx_free(&ctx);
	return rc;
}
