/* hive-check.c - the gate: verify sessions from the work tree, from files, or as git is about to
 * push them */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <git2.h>
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
#include "../lib/prepush.h"
#include "../lib/session.h"
#include "../lib/redact.h"
#include "../lib/util.h"

static const char synopsis[] =
	"usage: hive-check [--session ID | --all | FILE... | -] [--format FORMAT] [--strict]\n"
	"                  [--repair] [options]\n"
	"       hive-check --pre-push [options] < git's pre-push lines\n"
	"\n"
	"Verify sessions: every line JSON, the event schema, seq and the prev hash chain,\n"
	"protocol order, STATE.json agreement, timestamps, secrets and the policies in\n"
	".hive.yml. With no selection: the resolved session, else every session.\n"
	"\n";

enum { OPT_ALL = 1, OPT_FORMAT, OPT_STRICT, OPT_PREPUSH, OPT_REPAIR };

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
		      "they are in those commits (reads git's pre-push lines)"),
	HIVE_OPT_COMMON_HELP(0, "quiet", "no summary or notes on stderr"),
	HIVE_OPT_END,
};

static const char epilogue[] =
	"\n"
	"Exit status: 0 no errors (and no warnings with --strict), 1 findings, 2 usage or\n"
	"invalid input, 3 environment or I/O failure.\n";

struct check_opts {
	int all, strict, pre_push, repair;
	const char *format;
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
	}
	return hive_err_set(err, HIVE_EUSAGE, "unknown option");
}

/* What one run shares between its sessions. */
struct gate {
	struct hive_ctx *ctx;
	struct check_opts *o;
	struct hive_checker checker;
	struct hive_findings *f;
	const char *rules[16];
	size_t nrules;
};

/* A path as findings show it: relative to the top of the work tree when inside it. */
static const char *shown(const struct hive_ctx *ctx, const char *path)
{
	size_t n = strlen(ctx->top);

	if (!strncmp(path, ctx->top, n) && path[n] == '/')
		return path + n + 1;
	return path;
}

/* Check the session folder root/sessions/id from the file system. */
static int check_folder(struct gate *g, const char *root, const char *id)
{
	struct hive_check_input in = {0};
	struct hive_session *s = NULL;
	struct hive_err e = {0};
	char *state = NULL, dir[4200], events[4300];
	size_t moved;
	struct stat st;
	int rc, rebuilt;

	snprintf(dir, sizeof(dir), "%s/sessions/%s", root, id);
	snprintf(events, sizeof(events), "%s/EVENTS.jsonl", shown(g->ctx, dir));
	in.session = id;
	in.dir_shown = shown(g->ctx, dir);
	in.events_shown = events;
	in.events_fd = -1;
	hive_findings_session(g->f, id, events, g->rules, g->nrules);
	if (lstat(dir, &st) == 0 && S_ISLNK(st.st_mode)) {
		in.is_symlink = 1;
		return hive_check_session(&g->checker, &in, g->f, &g->ctx->err);
	}
	if (g->o->repair) {
		if ((rc = hive_session_open(root, id, &s, &g->ctx->err)))
			return rc;
		rc = hive_session_repair(s, &moved, &rebuilt, &g->ctx->err);
		hive_session_close(s);
		s = NULL;
		if (rc)
			return rc;
		if (moved && !g->ctx->quiet)
			fprintf(stderr,
				"%s: %s: moved a cut-off last line (%zu bytes) to "
				"EVENTS.jsonl.torn\n",
				hive_progname, id, moved);
		if (rebuilt == 1 && !g->ctx->quiet)
			fprintf(stderr, "%s: %s: rebuilt STATE.json from the log\n", hive_progname,
				id);
	}
	rc = hive_session_open_ro(root, id, &s, &e);
	if (rc == HIVE_EENV && e.sys == ENOENT) { /* the folder is there, EVENTS.jsonl is not */
		in.events_missing = 1;
		return hive_check_session(&g->checker, &in, g->f, &g->ctx->err);
	}
	if (rc) {
		g->ctx->err = e;
		return rc;
	}
	/* a shared lock: the log and STATE.json are read in step with writers */
	if (hive_session_lock_shared(s, hive_lock_timeout(), &e) && e.sys != ENOENT) {
		g->ctx->err = e;
		hive_session_close(s);
		return HIVE_EENV;
	}
	if ((rc = hive_check_input_from_session(s, in.dir_shown, events, &in, &state,
						&g->ctx->err))) {
		hive_session_close(s);
		return rc;
	}
	rc = hive_check_session(&g->checker, &in, g->f, &g->ctx->err);
	free(state);
	hive_session_close(s);
	return rc;
}

struct walk {
	struct gate *g;
	const char *root;
};

static int check_one(const char *id, void *arg)
{
	struct walk *w = arg;

	return check_folder(w->g, w->root, id);
}

/* Every session folder under root, in name order. */
static int check_all(struct gate *g, const char *root)
{
	struct walk w = {g, root};

	return hive_session_foreach(root, check_one, &w, &g->ctx->err);
}

/* A FILE operand: a folder, an EVENTS.jsonl (checked with its folder), or a bare log. */
static int check_operand(struct gate *g, const char *arg)
{
	struct hive_check_input in = {0};
	char *copy = NULL, *root = NULL, *id = NULL;
	struct stat st;
	int fd, rc;
	const char *base = strrchr(arg, '/');

	base = base ? base + 1 : arg;
	if (!strcmp(arg, "-")) {
		in.events_shown = "-";
		in.events_fd = 0;
		hive_findings_session(g->f, NULL, "-", g->rules, g->nrules);
		return hive_check_session(&g->checker, &in, g->f, &g->ctx->err);
	}
	if (lstat(arg, &st) < 0)
		return hive_err_sys(&g->ctx->err, HIVE_EUSAGE, errno, "%s", arg);
	if (S_ISDIR(st.st_mode) || !strcmp(base, "EVENTS.jsonl")) {
		/* <root>/sessions/<id>[/EVENTS.jsonl]: check the folder */
		if (!(copy = realpath(arg, NULL)))
			return hive_err_sys(&g->ctx->err, HIVE_EUSAGE, errno, "%s", arg);
		rc = hive_session_path_split(copy, S_ISDIR(st.st_mode), &root, &id, &g->ctx->err);
		free(copy);
		if (rc == HIVE_EUSAGE && !S_ISDIR(st.st_mode)) {
			hive_err_clear(&g->ctx->err);
			goto bare; /* an EVENTS.jsonl outside a session folder: a bare log */
		}
		if (rc == HIVE_EUSAGE)
			return hive_err_set(&g->ctx->err, HIVE_EUSAGE,
					    "%s: not a session folder (<root>/sessions/<id>)", arg);
		if (!rc)
			rc = check_folder(g, root, id);
		free(root);
		free(id);
		return rc;
	}
bare:
	if ((fd = open(arg, O_RDONLY | O_CLOEXEC)) < 0)
		return hive_err_sys(&g->ctx->err, HIVE_EUSAGE, errno, "%s", arg);
	in.events_shown = arg;
	in.events_fd = fd;
	hive_findings_session(g->f, NULL, arg, g->rules, g->nrules);
	rc = hive_check_session(&g->checker, &in, g->f, &g->ctx->err);
	close(fd);
	return rc;
}

/* --- pre-push ---------------------------------------------------------------------- */

static int check_pushed(void *arg, const struct hive_check_input *in)
{
	struct gate *g = arg;

	hive_findings_session(g->f, in->session, in->events_shown, g->rules, g->nrules);
	return hive_check_session(&g->checker, in, g->f, &g->ctx->err);
}

/* --pre-push: the sessions the push touches, as they are in the pushed commits. */
static int pre_push(struct gate *g)
{
	size_t top_len = strlen(g->ctx->top);
	char rel[4200];

	if (!hive_git_repo(g->ctx->git))
		return hive_err_set(&g->ctx->err, HIVE_EUSAGE,
				    "--pre-push: not in a git repository");
	if (strncmp(g->ctx->root, g->ctx->top, top_len) || g->ctx->root[top_len] != '/')
		return hive_err_set(&g->ctx->err, HIVE_EUSAGE,
				    "--pre-push: the root %s is outside the work tree",
				    g->ctx->root);
	if (strlen(g->ctx->root + top_len + 1) > 4000)
		return hive_err_set(&g->ctx->err, HIVE_EUSAGE,
				    "--pre-push: the root path is too long");
	snprintf(rel, sizeof(rel), "%s/sessions", g->ctx->root + top_len + 1);
	return hive_prepush_each(hive_git_repo(g->ctx->git), rel, 0, check_pushed, g, &g->ctx->err);
}

int main(int argc, char **argv)
{
	struct check_opts opts = {0, 0, 0, 0, "text"};
	struct hive_cli_tool tool = {synopsis, check_options, epilogue, check_option, &opts};
	struct hive_ctx ctx = {0};
	struct gate g = {0};
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
	if (opts.pre_push && (first < argc || opts.all || ctx.session_opt || opts.repair)) {
		rc = hive_err_set(&ctx.err, HIVE_EUSAGE,
				  "--pre-push takes its sessions from the push: no FILE, --all, "
				  "--session or --repair");
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
	if ((rc = hive_findings_new(opts.format, stdout, color, &g.f, &ctx.err)) ||
	    (rc = hive_ctx_setup(&ctx)) ||
	    (rc = hive_redactor_new(&ctx.cfg, &g.checker.red, &ctx.err)))
		goto fail;
	g.ctx = &ctx;
	g.o = &opts;
	g.checker.cfg = &ctx.cfg;
	g.nrules = hive_check_rules(&ctx.cfg, g.rules);

	if (opts.pre_push) {
		rc = pre_push(&g);
	} else if (first < argc) {
		for (i = first, rc = HIVE_OK; i < argc && !rc; i++)
			rc = check_operand(&g, argv[i]);
	} else if (!opts.all &&
		   (ctx.session_opt || (getenv("HIVE_SESSION_ID") && *getenv("HIVE_SESSION_ID")) ||
		    hive_ci_session_id(buf, sizeof(buf)))) {
		if (!(rc = hive_ctx_session(&ctx, 0, &generated)))
			rc = check_folder(&g, ctx.root, ctx.session_id);
	} else {
		rc = check_all(&g, ctx.root);
	}
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
	hive_findings_free(g.f);
	hive_redactor_free(g.checker.red);
	hive_ctx_free(&ctx);
	return rc;
}
