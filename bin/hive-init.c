/* hive-init.c - the startup protocol: create or validate a session and hand its id on */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/cictx.h"
#include "../lib/cli.h"
#include "../lib/config.h"
#include "../lib/event.h"
#include "../lib/gitctx.h"
#include "../lib/hooks.h"
#include "../lib/requirements.h"
#include "../lib/session.h"
#include "../lib/redact.h"
#include "../lib/state.h"
#include "../lib/util.h"

static const char synopsis[] =
	"usage: hive-init [--worker NAME] [--export sh|github|gitlab] [--install-hooks] [options]\n"
	"\n"
	"Start (or rejoin) a session: create <root>/sessions/<id>/ with STATE.json and an\n"
	"EVENTS.jsonl whose first line is session_started, stamped with git and CI context.\n"
	"Running it again for the same session changes nothing (\"created\":false).\n"
	"\n";

enum { OPT_WORKER = 1, OPT_EXPORT, OPT_INSTALL_HOOKS };

/* hive-init's options; -C, --root, --session, --config, -q, --help and --version are
 * cli.c's (SPEC 2). Each is in man/hive-init.1's OPTIONS (tests/bats/options.bats). */
static const struct hive_opt init_options[] = {
	HIVE_OPT_STRING(0, "worker", "NAME", OPT_WORKER,
			"worker name (default: .hive.yml worker:, else devops-worker);\n"
			"its profile is read from <workers_dir>/NAME.md"),
	HIVE_OPT_STRING(0, "export", "FORMAT", OPT_EXPORT,
			"print the id for a shell instead of JSON:\n"
			"sh: export HIVE_SESSION_ID=ID\n"
			"github, gitlab: HIVE_SESSION_ID=ID (for $GITHUB_ENV, dotenv)"),
	HIVE_OPT_FLAG(0, "install-hooks", OPT_INSTALL_HOOKS,
		      "install hive's pre-push hook (core.hooksPath, else the git\n"
		      "dir's hooks); a pre-push already there is kept as\n"
		      "pre-push.local and runs first; with no session id given\n"
		      "(--session, HIVE_SESSION_ID, CI) no session is started"),
	HIVE_OPT_COMMON_HELP(0, "session",
			     "session id (env HIVE_SESSION_ID; CI ids; else generated)"),
	HIVE_OPT_COMMON_HELP(0, "quiet", "no warnings"),
	HIVE_OPT_END,
};

static const char epilogue[] =
	"\n"
	"In GitHub Actions the id is also appended to $GITHUB_ENV and $GITHUB_OUTPUT; in\n"
	"GitLab CI it is written to hive.env for artifacts:reports:dotenv.\n"
	"\n"
	"Exit status: 0 success, 2 usage or invalid input, 3 environment or I/O failure\n"
	"(including a session that exists but is corrupt).\n";

struct init_opts {
	const char *worker;
	const char *export_fmt; /* NULL, "sh", "github" or "gitlab" */
	int install_hooks;	/* --install-hooks */
};

static int init_option(void *tool, int key, const char *arg, struct hive_err *err)
{
	struct init_opts *o = tool;
	char q[128];

	switch (key) {
	case OPT_WORKER:
		o->worker = arg;
		return hive_id_check("--worker", arg, strlen(arg), err);
	case OPT_EXPORT:
		if (strcmp(arg, "sh") && strcmp(arg, "github") && strcmp(arg, "gitlab"))
			return hive_err_set(err, HIVE_EUSAGE,
					    "--export: %s is not one of sh, github, gitlab",
					    hive_quote(q, sizeof(q), arg));
		o->export_fmt = arg;
		return HIVE_OK;
	case OPT_INSTALL_HOOKS:
		o->install_hooks = 1;
		return HIVE_OK;
	}
	return hive_err_set(err, HIVE_EUSAGE, "unknown option");
}

/* The worker profile from <top>/<workers_dir>/<worker>.md; JSON null with a warning when
 * there is no such file, HIVE_EUSAGE when its front matter is broken. */
static int load_profile(struct hive_ctx *ctx, const char *worker, cJSON **out)
{
	const char *dir = ctx->cfg.workers_dir ? ctx->cfg.workers_dir : ".claude/agents";
	char rel[4096], full[8192], *buf = NULL;
	size_t len;
	int rc;

	snprintf(rel, sizeof(rel), "%s/%s.md", dir, worker);
	if (rel[0] == '/')
		snprintf(full, sizeof(full), "%s", rel);
	else
		snprintf(full, sizeof(full), "%s/%s", ctx->top, rel);
	rc = hive_read_file(AT_FDCWD, full, 0, 1024 * 1024, &buf, &len, &ctx->err);
	if (rc == HIVE_EUSAGE && ctx->err.sys == ENOENT) {
		hive_warn(ctx->quiet, "no worker definition at %s: worker_profile is null", rel);
		hive_err_clear(&ctx->err);
		*out = cJSON_CreateNull();
		return HIVE_OK;
	}
	if (rc)
		return rc;
	rc = hive_worker_profile_parse(rel, buf, len, out, &ctx->err);
	free(buf);
	return rc;
}

/* Hand the session id on to later CI steps (GitHub's files, GitLab's dotenv). */
static int handoff(struct hive_ctx *ctx, const char **wrote)
{
	const char *dir = getenv("CI_PROJECT_DIR");

	return hive_ci_handoff(ctx->session_id, dir && *dir ? dir : ctx->top, wrote, &ctx->err);
}

/* Is a session id given (--session, HIVE_SESSION_ID, CI) rather than to be generated? */
static int session_given(const struct hive_ctx *ctx)
{
	const char *env = getenv("HIVE_SESSION_ID");
	char buf[192];

	return ctx->session_opt || (env && *env) || hive_ci_session_id(buf, sizeof(buf));
}

/* --install-hooks, after the plan was made: install, say what was done on stderr, and
 * describe it as the "hook" object of the output. */
static int install_hooks(struct hive_ctx *ctx, struct hive_hooks *hooks, cJSON **out)
{
	static const char *said[] = {"installed", "updated", "unchanged"};
	char *local = NULL, *path = NULL;
	cJSON *o;
	int rc;

	if (hooks->hooks_path && !ctx->quiet)
		fprintf(stderr, "%s: installing into core.hooksPath %s\n", hive_progname,
			hooks->dir);
	if ((rc = hive_hooks_install(hooks, &ctx->err)))
		return rc;
	if (!ctx->quiet) {
		if (hooks->park)
			fprintf(stderr,
				"%s: kept the pre-push hook that was there as %s/pre-push.local: "
				"it runs first\n",
				hive_progname, hooks->dir);
		fprintf(stderr, "%s: %s/pre-push: %s\n", hive_progname, hooks->dir,
			hooks->result == HIVE_HOOK_UNCHANGED
				? "hive's pre-push hook is already installed"
			: hooks->result == HIVE_HOOK_UPDATED ? "hive's pre-push hook updated"
							     : "hive's pre-push hook installed");
	}
	if (hooks->has_local && asprintf(&local, "%s/pre-push.local", hooks->dir) < 0)
		local = NULL;
	if (asprintf(&path, "%s/pre-push", hooks->dir) < 0)
		path = NULL;
	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "path", path ? cJSON_CreateString(path) : cJSON_CreateNull());
	cJSON_AddStringToObject(o, "result", said[hooks->result]);
	cJSON_AddItemToObject(o, "local", local ? cJSON_CreateString(local) : cJSON_CreateNull());
	cJSON_AddBoolToObject(o, "core_hooks_path", hooks->hooks_path != NULL);
	free(local);
	free(path);
	*out = o;
	return HIVE_OK;
}

int main(int argc, char **argv)
{
	struct init_opts opts = {0};
	struct hive_cli_tool tool = {synopsis, init_options, epilogue, init_option, &opts};
	struct hive_ctx ctx = {0};
	struct hive_txn_opts topts = {0};
	struct hive_txn *t = NULL;
	struct hive_session *s = NULL; /* the transaction's */
	struct hive_redactor *red = NULL;
	const char *wrote = NULL;
	struct hive_hooks *hooks = NULL;
	cJSON *profile = NULL, *reqs = NULL, *git = NULL, *ci = NULL, *details = NULL;
	cJSON *state = NULL, *out = NULL, *hook = NULL;
	char *text = NULL;
	const char *worker;
	int rc, first, generated, created = 0;
	size_t dropped = 0;

	hive_progname = "hive-init";
	if ((rc = hive_cli_parse(&ctx, &tool, argc, argv, &first)))
		goto fail;
	if (ctx.want_help)
		return hive_cli_help(&tool, ctx.want_help, stdout);
	if (ctx.want_version) {
		printf("hive-init %s\n", HIVE_VERSION);
		return 0;
	}
	if (first < argc) {
		rc = hive_err_set(&ctx.err, HIVE_EUSAGE, "unexpected argument %s (see --help)",
				  argv[first]);
		goto fail;
	}
	if ((rc = hive_ctx_setup(&ctx)))
		goto fail;
	if (opts.install_hooks) {
		/* checked before anything is written; installed after the session */
		if ((rc = hive_hooks_plan(ctx.git, &hooks, &ctx.err)))
			goto fail;
		/* a developer's one-time set-up starts no session: a generated id would make
		 * every run a new session, and running it twice must change nothing */
		if (!session_given(&ctx)) {
			if (opts.export_fmt) {
				rc = hive_err_set(
					&ctx.err, HIVE_EUSAGE,
					"--export needs a session: --install-hooks starts "
					"none without --session, HIVE_SESSION_ID or a CI id");
				goto fail;
			}
			if ((rc = install_hooks(&ctx, hooks, &hook)))
				goto fail;
			out = cJSON_CreateObject();
			cJSON_AddItemToObject(out, "hook", hook);
			hook = NULL;
			text = cJSON_PrintUnformatted(out);
			printf("%s\n", text ? text : "{}");
			goto flush;
		}
	}
	if ((rc = hive_ctx_session(&ctx, 1, &generated)))
		goto fail;
	worker = hive_ctx_worker(&ctx, opts.worker);
	if ((rc = hive_id_check("worker", worker, strlen(worker), &ctx.err)))
		goto fail;

	/* Everything is read and checked before anything is written. */
	if ((rc = load_profile(&ctx, worker, &profile)) ||
	    (rc = hive_requirements_detect(ctx.git, &reqs, &dropped, &ctx.err)) ||
	    (rc = hive_git_context(ctx.git, hive_ctx_want_dirty(&ctx), &git, &ctx.err)) ||
	    (rc = hive_redactor_new(&ctx.cfg, &red, &ctx.err)))
		goto fail;
	if (dropped)
		hive_warn(ctx.quiet,
			  "requirements: %zu more paths not recorded (at most %d of each kind)",
			  dropped, HIVE_REQUIREMENTS_MAX);
	ci = hive_ci_context();
	if (hive_redact(red, git, 0) < 0 || hive_redact(red, ci, 0) < 0 ||
	    hive_redact(red, profile, 0) < 0) {
		rc = hive_err_set(&ctx.err, HIVE_EENV, "out of memory");
		goto fail;
	}
	details = cJSON_CreateObject();
	cJSON_AddItemToObject(details, "worker_profile", profile);
	cJSON_AddItemToObject(details, "requirements", reqs);
	profile = reqs = NULL;

	/* a new session is made whole or not at all; one that exists is rejoined when sound */
	topts.cfg = &ctx.cfg;
	topts.git = git;
	topts.ci = ci;
	topts.worker = worker;
	topts.create = 1;
	topts.closed_ok = 1;
	if ((rc = hive_txn_begin(ctx.root, ctx.session_id, &topts, &t, &ctx.err)))
		goto fail;
	if (hive_txn_is_new(t) && ((rc = hive_txn_add(t, "session_started", details, &ctx.err)) ||
				   (rc = hive_txn_commit(t, &ctx.err))))
		goto fail;
	created = hive_txn_created(t);
	s = hive_txn_session(t);
	if (created) {
		state = cJSON_Duplicate(hive_txn_state(t), 1);
	} else if ((rc = hive_session_check_sound(s, &state, &ctx.err))) {
		goto fail;
	}
	if ((rc = handoff(&ctx, &wrote))) {
		hive_txn_rollback(t); /* a session this call made is taken back */
		goto fail;
	}
	if (wrote && !ctx.quiet)
		fprintf(stderr, "%s: session id %s handed on through %s\n", hive_progname,
			ctx.session_id, wrote);
	if (hooks && (rc = install_hooks(&ctx, hooks, &hook)))
		goto fail;

	if (opts.export_fmt) {
		printf("%sHIVE_SESSION_ID=%s\n", strcmp(opts.export_fmt, "sh") ? "" : "export ",
		       ctx.session_id);
	} else {
		const cJSON *w = cJSON_GetObjectItemCaseSensitive(state, "worker");
		out = cJSON_CreateObject();
		cJSON_AddStringToObject(out, "session_id", ctx.session_id);
		cJSON_AddStringToObject(out, "dir", s->dir);
		cJSON_AddBoolToObject(out, "created", created);
		cJSON_AddItemToObject(out, "worker",
				      w ? cJSON_Duplicate(w, 1) : cJSON_CreateNull());
		cJSON_AddItemToObject(
			out, "status",
			cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(state, "status"), 1));
		cJSON_AddItemToObject(
			out, "events",
			cJSON_Duplicate(
				cJSON_GetObjectItemCaseSensitive(
					cJSON_GetObjectItemCaseSensitive(state, "events"), "count"),
				1));
		if (hook) {
			cJSON_AddItemToObject(out, "hook", hook);
			hook = NULL;
		}
		free(text);
		text = cJSON_PrintUnformatted(out);
		printf("%s\n", text);
	}
flush:
	if (fflush(stdout) != 0) {
		rc = hive_err_set(&ctx.err, HIVE_EENV, "cannot write to standard output");
		goto fail;
	}
	rc = HIVE_OK;
	goto done;
fail:
	hive_err_print(&ctx.err);
done:
	cJSON_Delete(out);
	cJSON_Delete(hook);
	cJSON_Delete(profile);
	cJSON_Delete(reqs);
	cJSON_Delete(git);
	cJSON_Delete(ci);
	cJSON_Delete(details);
	cJSON_Delete(state);
	free(text);
	hive_redactor_free(red);
	hive_txn_free(t);
	hive_hooks_free(hooks);
	hive_ctx_free(&ctx);
	return rc;
}
