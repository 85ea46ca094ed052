/* hive-runbook.c - the completion protocol: METRICS.json, session_completed, and reports in the seed's formats */
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
#include "../lib/log.h"
#include "../lib/redact.h"
#include "../lib/report.h"
#include "../lib/state.h"
#include "../lib/util.h"

static const char usage[] =
	"usage: hive-runbook [--finish [--status success|failure]] [--report REPORT]\n"
	"                    [--format markdown|json|prometheus] [-o FILE] [--findings FILE|-]\n"
	"                    [--step-summary] [options]\n"
	"       hive-runbook --all [--format markdown|json|prometheus] [-o FILE] [--step-summary]\n"
	"\n"
	"Summarise a session from STATE.json and EVENTS.jsonl in the seed's formats.\n"
	"\n"
	"  --finish             the completion protocol: append session_completed, write\n"
	"                       METRICS.json and RUNBOOK.md; running it again changes nothing\n"
	"  --status S           with --finish: success (default) or failure\n"
	"  --report REPORT      runbook (default: overview, metrics, timeline, every report,\n"
	"                       validation), deployment, incident, infrastructure, or all\n"
	"                       (the three reports without the overview)\n"
	"  --format FORMAT      markdown (default), json or prometheus\n"
	"  -o FILE              write the output to FILE (atomically) instead of stdout\n"
	"  --findings FILE|-    hive-check --format json findings for the validation section\n"
	"  --step-summary       also append the Markdown to $GITHUB_STEP_SUMMARY (cut below\n"
	"                       GitHub's 1 MiB per step, at a line, with a note)\n"
	"  --all                DORA's four keys across every session under the root\n"
	"  -C DIR               run as if started in DIR\n"
	"  --root DIR           hive root (env HIVE_ROOT; default Docs/hive-mind at the top)\n"
	"  --session ID         session id (env HIVE_SESSION_ID; CI ids)\n"
	"  --config FILE        configuration (env HIVE_CONFIG; default .hive.yml at the top)\n"
	"  -q, --quiet          no notes on stderr\n"
	"  -h, --help           show this help\n"
	"      --version        show the version\n"
	"\n"
	"Exit status: 0 success, 1 --finish refused (the log fails hive-check's json or chain\n"
	"rule), 2 usage or invalid input, 3 environment or I/O failure.\n";

enum { OPT_FINISH = 2000, OPT_STATUS, OPT_REPORT, OPT_FORMAT, OPT_FINDINGS, OPT_SUMMARY, OPT_ALL };

#define STEP_SUMMARY_MAX (1024 * 1024) /* GitHub shows at most 1 MiB per step */

struct runbook_opts {
	int finish, step_summary, all;
	const char *status, *report, *format, *output, *findings;
};

static const struct option runbook_long[] = {
	{"finish", no_argument, NULL, OPT_FINISH},
	{"status", required_argument, NULL, OPT_STATUS},
	{"report", required_argument, NULL, OPT_REPORT},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"output", required_argument, NULL, 'o'},
	{"findings", required_argument, NULL, OPT_FINDINGS},
	{"step-summary", no_argument, NULL, OPT_SUMMARY},
	{"all", no_argument, NULL, OPT_ALL},
	{0, 0, 0, 0},
};

static int one_of(const char *opt, const char *v, const char *const *allowed, struct hive_err *err)
{
	char q[128], list[256] = "";
	size_t i, o = 0;

	for (i = 0; allowed[i]; i++) {
		if (!strcmp(v, allowed[i]))
			return HIVE_OK;
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "", allowed[i]);
	}
	return hive_err_set(err, HIVE_EUSAGE, "%s: %s is not one of %s", opt,
			    hive_quote(q, sizeof(q), v), list);
}

static int runbook_option(void *tool, int key, const char *arg, struct hive_err *err)
{
	static const char *const statuses[] = {"success", "failure", NULL};
	static const char *const reports[] = {"runbook", "deployment", "incident",
					      "infrastructure", "all", NULL};
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
	case 'o':
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

/* --findings: hive-check's NDJSON findings (or a JSON array of them) as an array. */
static int read_findings(const char *arg, cJSON **out, struct hive_err *err)
{
	struct hive_lines *r = NULL;
	enum hive_line_kind kind;
	const char *line;
	size_t len;
	int fd = 0, got, rc = HIVE_OK;
	cJSON *arr = cJSON_CreateArray(), *x;

	*out = NULL;
	if (strcmp(arg, "-") && (fd = open(arg, O_RDONLY | O_CLOEXEC)) < 0) {
		cJSON_Delete(arr);
		return hive_err_sys(err, HIVE_EUSAGE, errno, "--findings %s", arg);
	}
	if ((rc = hive_lines_from_fd(fd, &r, err)))
		goto out;
	while ((got = hive_lines_next(r, &line, &len, &kind, err)) > 0) {
		size_t i;
		for (i = 0; i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'); i++)
			;
		if (i == len)
			continue;
		x = kind == HIVE_LINE_TOO_LONG ? NULL : hive_json_parse(line, len);
		if (cJSON_IsArray(x)) { /* a whole array on one line */
			cJSON *it;
			while ((it = cJSON_DetachItemFromArray(x, 0)))
				cJSON_AddItemToArray(arr, it);
			cJSON_Delete(x);
			continue;
		}
		if (!cJSON_IsObject(x) || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(x, "rule"))) {
			cJSON_Delete(x);
			rc = hive_err_set(err, HIVE_EUSAGE,
					  "--findings %s:%zu: not a hive-check finding (use hive-check "
					  "--format json)",
					  arg, hive_lines_number(r));
			goto out;
		}
		cJSON_AddItemToArray(arr, x);
	}
	if (got < 0)
		rc = HIVE_EENV;
out:
	hive_lines_free(r);
	if (fd > 0)
		close(fd);
	if (rc)
		cJSON_Delete(arr);
	else
		*out = arr;
	return rc;
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

/* The same for $GITHUB_STEP_SUMMARY, when --step-summary will append to it. */
static int summary_check(struct hive_err *err)
{
	const char *path = getenv("GITHUB_STEP_SUMMARY");
	char *a;
	int rc = HIVE_OK;

	if (!path || !*path)
		return HIVE_OK;
	if (!(a = strdup(path)))
		return hive_err_set(err, HIVE_EENV, "out of memory");
	if (access(path, F_OK) == 0 ? access(path, W_OK) < 0 : access(dirname(a), W_OK | X_OK) < 0)
		rc = hive_err_sys(err, HIVE_EENV, errno, "$GITHUB_STEP_SUMMARY %s", path);
	free(a);
	return rc;
}

/* Append the Markdown to $GITHUB_STEP_SUMMARY, cut at a line below GitHub's 1 MiB (less
 * what the step already wrote there), with a note saying so. */
static int step_summary(const char *md, size_t len, const char *full_at, struct hive_err *err)
{
	const char *path = getenv("GITHUB_STEP_SUMMARY");
	char note[512];
	struct stat st;
	size_t room, cut = len, nlen;
	struct hive_buf out = {0};
	int fd, rc = HIVE_OK;

	if (!path || !*path)
		return HIVE_OK;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || fstat(fd, &st) < 0) {
		rc = hive_err_sys(err, HIVE_EENV, errno, "$GITHUB_STEP_SUMMARY %s", path);
		goto out;
	}
	nlen = (size_t)snprintf(note, sizeof(note),
				"\n> **Cut here**: GitHub shows at most 1 MiB of summary per step; "
				"the whole report is %s.\n",
				full_at);
	room = (size_t)st.st_size >= STEP_SUMMARY_MAX ? 0 : STEP_SUMMARY_MAX - (size_t)st.st_size;
	if (len > room) {
		const char *nl;
		cut = room > nlen ? room - nlen : 0;
		/* never mid-line: back up to the end of the last whole line that fits */
		nl = cut ? memrchr(md, '\n', cut) : NULL;
		cut = nl ? (size_t)(nl - md) + 1 : 0;
	}
	hive_buf_add(&out, md, cut);
	/* the note too must fit: a summary over 1 MiB makes GitHub drop the step's whole
	 * summary, what was already there included */
	if (cut < len && nlen <= room)
		hive_buf_add(&out, note, nlen);
	if (out.oom) {
		rc = hive_err_set(err, HIVE_EENV, "out of memory");
		goto out;
	}
	if (out.len && hive_write_all_or_truncate(fd, out.p, out.len, st.st_size) < 0)
		rc = hive_err_sys(err, HIVE_EENV, errno, "$GITHUB_STEP_SUMMARY %s", path);
out:
	if (fd >= 0)
		close(fd);
	hive_buf_free(&out);
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

/* What finish hands to hive_log_append_events: the reports are written under the session
 * lock, after session_completed and STATE.json, before the lock is let go, so a failure
 * there (a full disk) takes session_completed back out and the call changes nothing. */
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
			rc = hive_write_atomic(r->s->dirfd, "METRICS.json", text, strlen(text), shown,
					       &r->err);
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
			rc = hive_write_atomic(r->s->dirfd, "RUNBOOK.md", md.p, md.len, shown, &r->err);
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

/* hive_log_append_events' deliver callback: -1 (with errno) undoes the append. */
static int deliver_reports(void *arg, const char *lines, size_t len)
{
	(void)lines;
	(void)len;
	if (write_reports(arg) == HIVE_OK)
		return 0;
	errno = EIO;
	return -1;
}

/* The completion protocol. Idempotent: a completed session gets no second
 * session_completed; METRICS.json and RUNBOOK.md are written only when missing. */
static int finish(struct hive_ctx *ctx, struct runbook_opts *o, struct hive_session *s)
{
	struct hive_pending ev;
	struct hive_redactor *red = NULL;
	struct reports rep = {ctx, s, 0, {0, ""}};
	cJSON *state = NULL, *details = NULL, *git = NULL, *ci = NULL;
	int rc;

	if ((rc = integrity(ctx, s)))
		return rc;
	if ((rc = hive_state_read(s, &state, &ctx->err)))
		return rc;
	if (!state || !hive_state_is_closed(state)) {
		/* stamped with git and CI context like every other event (SPEC 3) */
		if ((rc = hive_git_context(ctx->git, hive_ctx_want_dirty(ctx), &git, &ctx->err)) ||
		    (rc = hive_redactor_new(&ctx->cfg, &red, &ctx->err)))
			goto out;
		ci = hive_ci_context();
		if (hive_redact(red, git, 0) < 0 || hive_redact(red, ci, 0) < 0) {
			rc = hive_err_set(&ctx->err, HIVE_EENV, "out of memory");
			goto out;
		}
		details = cJSON_CreateObject();
		cJSON_AddStringToObject(details, "status", o->status ? o->status : "success");
		ev.type = "session_completed";
		ev.details = details;
		rc = hive_log_append_events(s, &ev, 1, git, ci, 0, deliver_reports, &rep, NULL,
					    &ctx->err);
		cJSON_Delete(details);
		if (rc && rep.err.status) {
			/* the reports failed, and session_completed was taken back out */
			ctx->err = rep.err;
			hive_err_prefix(&ctx->err, "session not finished");
		}
		goto out;
	} else if (o->status && !ctx->quiet) {
		fprintf(stderr, "%s: session %s is already %s: --status %s changes nothing\n",
			hive_progname, s->id,
			cJSON_GetObjectItemCaseSensitive(state, "status")->valuestring, o->status);
	}
	/* an already completed session: only the reports that are missing */
	if ((rc = write_reports(&rep)))
		ctx->err = rep.err;
out:
	cJSON_Delete(state);
	cJSON_Delete(git);
	cJSON_Delete(ci);
	hive_redactor_free(red);
	return rc;
}

/* --all: DORA across every session under the root. */
static int dora(struct hive_ctx *ctx, struct hive_dora *d)
{
	struct dirent **names = NULL;
	char dir[4200];
	int n, i, rc = HIVE_OK;

	snprintf(dir, sizeof(dir), "%s/sessions", ctx->root);
	if ((n = scandir(dir, &names, NULL, alphasort)) < 0)
		return errno == ENOENT ? HIVE_OK : hive_err_sys(&ctx->err, HIVE_EENV, errno, "%s", dir);
	for (i = 0; i < n; i++) {
		struct hive_session *s = NULL;
		struct hive_facts *f = NULL;
		const char *id = names[i]->d_name;
		if (!rc && id[0] != '.' && hive_id_check("session", id, strlen(id), NULL) == HIVE_OK) {
			rc = hive_session_open_ro(ctx->root, id, &s, &ctx->err);
			if (!rc && !(rc = hive_session_lock_shared(s, hive_lock_timeout(), &ctx->err)) &&
			    !(rc = hive_facts_load(s, hive_git_repo(ctx->git), &f, &ctx->err)))
				hive_dora_add(d, f);
			if (rc)
				hive_err_prefix(&ctx->err, "--all");
			hive_facts_free(f);
			hive_session_close(s);
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

int main(int argc, char **argv)
{
	struct runbook_opts opts = {0};
	struct hive_cli_tool tool = {usage, "o:", runbook_long, runbook_option, &opts};
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
	if (ctx.want_help) {
		fputs(usage, stdout);
		return 0;
	}
	if (ctx.want_version) {
		printf("hive-runbook %s\n", HIVE_VERSION);
		return 0;
	}
	format = opts.format ? opts.format : "markdown";
	report = opts.report ? opts.report : "runbook";
	if (first < argc) {
		rc = hive_err_set(&ctx.err, HIVE_EUSAGE, "unexpected argument %s (see --help)", argv[first]);
		goto fail;
	}
	if (opts.status && !opts.finish) {
		rc = hive_err_set(&ctx.err, HIVE_EUSAGE, "--status goes with --finish");
		goto fail;
	}
	if (opts.all && (opts.finish || opts.report || opts.findings || ctx.session_opt)) {
		rc = hive_err_set(&ctx.err, HIVE_EUSAGE,
				  "--all reports across sessions: no --finish, --report, --findings or "
				  "--session");
		goto fail;
	}
	if ((rc = hive_ctx_setup(&ctx)))
		goto fail;
	if (opts.findings && (rc = read_findings(opts.findings, &findings, &ctx.err)))
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
		if (opts.finish && ((opts.output && (rc = output_dir_check(opts.output, &ctx.err))) ||
				    (opts.step_summary && (rc = summary_check(&ctx.err)))))
			goto fail;
		rc = opts.finish ? hive_session_open(ctx.root, ctx.session_id, &s, &ctx.err)
				 : hive_session_open_ro(ctx.root, ctx.session_id, &s, &ctx.err);
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
	if (opts.step_summary && (rc = step_summary(md.p ? md.p : "", md.len, where, &ctx.err)))
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
