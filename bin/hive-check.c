/* hive-check.c - the gate: verify sessions from the work tree, from files, or as git is about to
 * push them */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/check.h"
#include "../lib/cictx.h"
#include "../lib/cli.h"
#include "../lib/findings.h"
#include "../lib/gate.h"
#include "../lib/sshsig.h"
#include "../lib/gitctx.h"
#include "../lib/ops.h"
#include "../lib/redact.h"

static const char synopsis[] =
	"usage: hive-check [--session ID | --all | FILE... | -] [--format FORMAT] [--strict]\n"
	"                  [--repair] [options]\n"
	"       hive-check --pre-push [options] < git's pre-push lines\n"
	"\n"
	"Verify sessions: every line JSON, the event schema, seq and the prev hash chain,\n"
	"protocol order, STATE.json agreement, timestamps, secrets and the policies in\n"
	".hive.yml. With no selection: the resolved session, else every session.\n"
	"\n";

enum { OPT_ALL = 1, OPT_FORMAT, OPT_STRICT, OPT_PREPUSH, OPT_REPAIR, OPT_SINCE, OPT_REF };

/* hive-check's options; -C, --root, --session, --config, -q, --help and --version are
 * cli.c's (SPEC 2). Each is in man/hive-check.1's OPTIONS (tests/bats/options.bats). */
static const struct hive_opt check_options[] = {
	HIVE_OPT_FLAG(0, "all", OPT_ALL, "every session under the root"),
	HIVE_OPT_OPERAND("FILE...", "session folders or EVENTS.jsonl files (a file named\n"
				    "EVENTS.jsonl is checked with its folder); - reads a log\n"
				    "from standard input"),
	HIVE_OPT_STRING(0, "format", "FORMAT", OPT_FORMAT,
			"text (default), json, github, junit or codequality"),
	HIVE_OPT_FLAG(0, "strict", OPT_STRICT, "warnings fail the check too"),
	HIVE_OPT_FLAG(0, "repair", OPT_REPAIR,
		      "move a cut-off last line to EVENTS.jsonl.torn and rebuild a\n"
		      "STATE.json that is behind the log, then check"),
	HIVE_OPT_FLAG(0, "pre-push", OPT_PREPUSH,
		      "check the sessions changed by the commits being pushed, as\n"
		      "they are in those commits, and hold each against what the\n"
		      "remote has (reads git's pre-push lines; operands: REMOTE URL)"),
	HIVE_OPT_STRING(0, "since", "REV", OPT_SINCE,
			"check every session and hold each against its version in\n"
			"commit REV (CI: the pull request's base, the push's before)"),
	HIVE_OPT_STRING(0, "ref", "REF", OPT_REF,
			"also check every session published on the sessions ref REF\n"
			"(hive-runbook --publish; shown as REF:PATH)"),
	HIVE_OPT_COMMON_HELP(0, "quiet", "no summary or notes on stderr"),
	HIVE_OPT_END,
};

static const char epilogue[] =
	"\n"
	"Exit status: 0 no errors (and no warnings with --strict), 1 findings, 2 usage or\n"
	"invalid input, 3 environment or I/O failure.\n";

struct check_opts {
	int all, strict, pre_push, repair;
	const char *format, *since, *ref;
};

static int check_option(void *tool, int key, const char *arg, struct hive_err *err)
{
	struct check_opts *o = tool;

	switch (key) {
	case OPT_ALL:
		o->all = 1;
		return HIVE_OK;
	case OPT_FORMAT:
		o->format = arg;
		return HIVE_OK;
	case OPT_STRICT:
		o->strict = 1;
		return HIVE_OK;
	case OPT_PREPUSH:
		o->pre_push = 1;
		return HIVE_OK;
	case OPT_REPAIR:
		o->repair = 1;
		return HIVE_OK;
	case OPT_REF:
		o->ref = arg;
		return HIVE_OK;
	case OPT_SINCE:
		o->since = arg;
		return HIVE_OK;
	}
	return hive_err_set(err, HIVE_EUSAGE, "unknown option");
}

int main(int argc, char **argv)
{
	struct check_opts opts = {0, 0, 0, 0, "text", NULL, NULL};
	struct hive_cli_tool tool = {synopsis, check_options, epilogue, check_option, &opts};
	struct hive_ctx ctx = {0};
	struct hive_gate g = {0};
	struct hive_findings *f = NULL;
	const char *no_color = getenv("NO_COLOR");
	char buf[192];
	int rc, first, generated, i, color;

	hive_progname = "hive-check";
	if ((rc = hive_cli_parse(&ctx, &tool, argc, argv, &first)))
		goto fail;
	if (ctx.want_help)
		return hive_cli_help(&tool, ctx.want_help, stdout);
	if (ctx.want_version) {
		printf("hive-check %s\n", HIVE_VERSION);
		return 0;
	}
	if (opts.pre_push && (argc - first > 2 || opts.all || ctx.session_opt || opts.repair ||
			      opts.since || opts.ref)) {
		rc = hive_err_set(
			&ctx.err, HIVE_EUSAGE,
			"--pre-push takes its sessions from the push: no FILE (only git's "
			"REMOTE and URL), --all, --session, --repair, --since or --ref");
		goto fail;
	}
	if (opts.since && (first < argc || opts.all || ctx.session_opt)) {
		rc = hive_err_set(&ctx.err, HIVE_EUSAGE,
				  "--since checks every session: no FILE, --all or --session");
		goto fail;
	}
	if (first < argc && ctx.session_opt) {
		rc = hive_err_set(&ctx.err, HIVE_EUSAGE, "--session cannot be combined with FILE");
		goto fail;
	}
	if (opts.all && (first < argc || ctx.session_opt)) {
		rc = hive_err_set(&ctx.err, HIVE_EUSAGE,
				  "--all cannot be combined with FILE or --session");
		goto fail;
	}
	color = !strcmp(opts.format, "text") && isatty(1) && !(no_color && *no_color);
	if ((rc = hive_findings_new(opts.format, stdout, color, &f, &ctx.err)))
		goto fail;
	if ((rc = hive_ctx_setup(&ctx))) {
		hive_findings_free(f);
		goto fail;
	}
	rc = hive_op_gate_open(&ctx, f, &g); /* takes f over, whatever it returns */
	if (rc)
		goto fail;
	g.repair = opts.repair;

	if (opts.pre_push) {
		rc = hive_gate_prepush(&g, hive_git_repo(ctx.git), ctx.root,
				       first < argc ? argv[first] : NULL, 0, &ctx.err);
	} else if (opts.since) {
		rc = hive_gate_since(&g, hive_git_repo(ctx.git), opts.since, ctx.root, &ctx.err);
	} else if (first < argc) {
		for (i = first, rc = HIVE_OK; i < argc && !rc; i++)
			rc = hive_gate_operand(&g, argv[i], &ctx.err);
	} else if (!opts.all &&
		   (ctx.session_opt || (getenv("HIVE_SESSION_ID") && *getenv("HIVE_SESSION_ID")) ||
		    hive_ci_session_id(buf, sizeof(buf)))) {
		if (!(rc = hive_ctx_session(&ctx, 0, &generated)))
			rc = hive_gate_folder(&g, ctx.root, ctx.session_id, &ctx.err);
	} else {
		rc = hive_gate_all(&g, ctx.root, &ctx.err);
	}
	if (!rc && opts.ref)
		rc = hive_gate_ref(&g, hive_git_repo(ctx.git), ctx.root, opts.ref, &ctx.err);
	if (rc)
		goto fail;
	if (hive_findings_finish(g.f, opts.strict) < 0) {
		rc = hive_err_set(&ctx.err, HIVE_EENV, "cannot write to standard output");
		goto fail;
	}
	rc = hive_findings_errors(g.f) || (opts.strict && hive_findings_warnings(g.f)) ? HIVE_FAIL
										       : HIVE_OK;
	if (!ctx.quiet)
		fprintf(stderr, "%s: %zu session%s checked: %zu error%s, %zu warning%s%s\n",
			hive_progname, hive_findings_sessions(g.f),
			hive_findings_sessions(g.f) == 1 ? "" : "s", hive_findings_errors(g.f),
			hive_findings_errors(g.f) == 1 ? "" : "s", hive_findings_warnings(g.f),
			hive_findings_warnings(g.f) == 1 ? "" : "s",
			rc && opts.pre_push ? " (push refused; HIVE_SKIP=1 bypasses the hook)"
					    : "");
	goto done;
fail:
	hive_err_print(&ctx.err);
done:
	hive_op_gate_close(&g);
	hive_ctx_free(&ctx);
	return rc;
}
