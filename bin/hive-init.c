/* hive-init.c - the startup protocol: create or validate a session and hand its id on */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/agent.h"
#include "../lib/cictx.h"
#include "../lib/cli.h"
#include "../lib/publish.h"
#include "../lib/config.h"
#include "../lib/event.h"
#include "../lib/gitctx.h"
#include "../lib/hooks.h"
#include "../lib/ops.h"
#include "../lib/requirements.h"
#include "../lib/restore.h"
#include "../lib/start.h"
#include "../lib/redact.h"
#include "../lib/state.h"
#include "../lib/util.h"

static const char synopsis[] =
	"usage: hive-init [--worker NAME] [--export sh|github|gitlab] [--install-hooks]\n"
	"                 [--install-agent-hooks] [--ref REF] [--restore DIR] [options]\n"
	"\n"
	"Start (or rejoin) a session: create <root>/sessions/<id>/ with STATE.json and an\n"
	"EVENTS.jsonl whose first line is session_started, stamped with git and CI context.\n"
	"Running it again for the same session changes nothing (\"created\":false).\n"
	"\n";

enum {
	OPT_WORKER = 1,
	OPT_EXPORT,
	OPT_INSTALL_HOOKS,
	OPT_INSTALL_AGENT_HOOKS,
	OPT_REF,
	OPT_RESTORE
};

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
	HIVE_OPT_FLAG(0, "install-agent-hooks", OPT_INSTALL_AGENT_HOOKS,
		      "merge hive's Claude Code hooks (hive-emit --from claude-code\n"
		      "on SessionStart, PreToolUse, PostToolUse, PostToolUseFailure,\n"
		      "SessionEnd) into .claude/settings.json at the top of the\n"
		      "work tree, keeping every hook there; starts no session\n"
		      "unless an id is given"),
	HIVE_OPT_STRING(0, "ref", "REF", OPT_REF,
			"rejoin the session from the sessions ref REF when its folder is\n"
			"not here (another runner published it), else start it"),
	HIVE_OPT_STRING(0, "restore", "DIR", OPT_RESTORE,
			"merge the copies of the session folder in DIR (one folder per\n"
			"artifact, or DIR itself) and the local one: the longest log\n"
			"and lanes win, the others must be prefixes of them; then rejoin"),
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
	const char *export_fmt;	 /* NULL, "sh", "github" or "gitlab" */
	int install_hooks;	 /* --install-hooks */
	int install_agent_hooks; /* --install-agent-hooks */
	const char *ref;	 /* --ref: the sessions ref to rejoin the session from */
	const char *restore;	 /* --restore: a folder of copies of the session folder */
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
	case OPT_INSTALL_AGENT_HOOKS:
		o->install_agent_hooks = 1;
		return HIVE_OK;
	case OPT_REF:
		o->ref = arg;
		return HIVE_OK;
	case OPT_RESTORE:
		o->restore = arg;
		return HIVE_OK;
	}
	return hive_err_set(err, HIVE_EUSAGE, "unknown option");
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
	cJSON *o;
	int rc;

	if (hooks->hooks_path)
		hive_note(ctx->quiet, "installing into core.hooksPath %s", hooks->dir);
	if ((rc = hive_hooks_install(hooks, &ctx->err)))
		return rc;
	if (hooks->park)
		hive_note(
			ctx->quiet,
			"kept the pre-push hook that was there as %s/pre-push.local: it runs first",
			hooks->dir);
	hive_note(ctx->quiet, "%s/pre-push: %s", hooks->dir,
		  hooks->result == HIVE_HOOK_UNCHANGED ? "hive's pre-push hook is already installed"
		  : hooks->result == HIVE_HOOK_UPDATED ? "hive's pre-push hook updated"
						       : "hive's pre-push hook installed");
	if (!(o = hive_hooks_describe(hooks)))
		return hive_err_set(&ctx->err, HIVE_EENV, "out of memory");
	*out = o;
	return HIVE_OK;
}

/* --install-agent-hooks: merge hive's hooks into .claude/settings.json, say what was done
 * on stderr, and describe it as the "agent_hooks" object of the output. */
static int install_agent_hooks(struct hive_ctx *ctx, cJSON **out)
{
	struct hive_agent_hooks r = {0};
	const char *result;
	cJSON *o;
	int rc;

	if ((rc = hive_agent_hooks_install(ctx->top, &r, &ctx->err)))
		goto out;
	result = !r.added ? "unchanged" : r.created ? "installed" : "merged";
	if (!r.added)
		hive_note(ctx->quiet, "%s: hive's agent hooks are already there", r.path);
	else
		hive_note(ctx->quiet, "%s: hive's hook added to %d event%s, %d other hook%s kept",
			  r.path, r.added, r.added == 1 ? "" : "s", r.kept, r.kept == 1 ? "" : "s");
	if (!(o = cJSON_CreateObject()) || !cJSON_AddStringToObject(o, "path", r.path) ||
	    !cJSON_AddStringToObject(o, "result", result) ||
	    !cJSON_AddNumberToObject(o, "added", r.added) ||
	    !cJSON_AddNumberToObject(o, "kept", r.kept)) {
		cJSON_Delete(o);
		rc = hive_err_set(&ctx->err, HIVE_EENV, "out of memory");
		goto out;
	}
	*out = o;
out:
	hive_agent_hooks_clear(&r);
	return rc;
}

int main(int argc, char **argv)
{
	struct init_opts opts = {0};
	struct hive_cli_tool tool = {synopsis, init_options, epilogue, init_option, &opts};
	struct hive_ctx ctx = {0};
	struct hive_start_result res = {0};
	struct hive_hooks *hooks = NULL;
	cJSON *out = NULL, *hook = NULL, *agent = NULL;
	char *text = NULL;
	int rc, first, generated;

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
	/* checked before anything is written; installed after the session */
	if (opts.install_hooks && (rc = hive_hooks_plan(ctx.git, &hooks, &ctx.err)))
		goto fail;
	if (opts.install_hooks || opts.install_agent_hooks) {
		/* a developer's one-time set-up starts no session: a generated id would make
		 * every run a new session, and running it twice must change nothing */
		if (!session_given(&ctx)) {
			if (opts.export_fmt) {
				rc = hive_err_set(
					&ctx.err, HIVE_EUSAGE,
					"--export needs a session: %s none without --session, "
					"HIVE_SESSION_ID or a CI id",
					!opts.install_agent_hooks ? "--install-hooks starts"
					: !opts.install_hooks	  ? "--install-agent-hooks starts"
								  : "--install-hooks and "
								    "--install-agent-hooks start");
				goto fail;
			}
			if ((hooks && (rc = install_hooks(&ctx, hooks, &hook))) ||
			    (opts.install_agent_hooks && (rc = install_agent_hooks(&ctx, &agent))))
				goto fail;
			out = cJSON_CreateObject();
			if (hook)
				cJSON_AddItemToObject(out, "hook", hook);
			if (agent)
				cJSON_AddItemToObject(out, "agent_hooks", agent);
			hook = agent = NULL;
			text = cJSON_PrintUnformatted(out);
			printf("%s\n", text ? text : "{}");
			goto flush;
		}
	}
	if ((rc = hive_ctx_session(&ctx, 1, &generated)))
		goto fail;
	if (opts.restore) { /* copies other jobs left (CI artifacts), merged here first */
		struct hive_restore_result rr;
		if ((rc = hive_restore_copies(ctx.root, ctx.session_id, opts.restore, &rr,
					      &ctx.err)))
			goto fail;
		if (rr.restored)
			hive_note(ctx.quiet,
				  "session %s restored from %zu cop%s in %s (%zu lane%s; the main "
				  "log from %s)",
				  ctx.session_id, rr.copies, rr.copies == 1 ? "y" : "ies",
				  opts.restore, rr.lanes, rr.lanes == 1 ? "" : "s", rr.from);
		else if (rr.copies)
			hive_note(ctx.quiet, "session %s: the local folder already holds all of %s",
				  ctx.session_id, opts.restore);
		if (rr.skipped)
			hive_note(
				ctx.quiet,
				"%s: %zu folder%s skipped (no EVENTS.jsonl, or another session's)",
				opts.restore, rr.skipped, rr.skipped == 1 ? "" : "s");
	}
	if (opts.ref) { /* the session another runner published, brought here first */
		const char *ref;
		int restored = 0;
		if (!hive_git_repo(ctx.git)) {
			rc = hive_err_set(&ctx.err, HIVE_EUSAGE, "--ref: not in a git repository");
			goto fail;
		}
		if ((rc = hive_publish_ref(opts.ref, NULL, &ref, &ctx.err)) ||
		    (rc = hive_publish_restore(hive_git_repo(ctx.git), ctx.top, ctx.root, ref,
					       ctx.session_id, &restored, &ctx.err)))
			goto fail;
		if (restored)
			hive_note(ctx.quiet, "session %s restored from %s", ctx.session_id, ref);
	}
	if ((rc = hive_op_start(&ctx, opts.worker, &res)))
		goto fail;
	if (!res.created && strcmp(hive_json_str(res.state, "status"), "active"))
		hive_warn(ctx.quiet, "session %s is %s: no more events can be added to it (%s)",
			  ctx.session_id, hive_json_str(res.state, "status"),
			  !strcmp(ctx.session_from, "HIVE_SESSION_ID")
				  ? "HIVE_SESSION_ID names it: unset it and run hive-init again "
				    "for a new session"
				  : "pass --session with a new id, or none, for a new session");
	if (res.attributes)
		hive_note(ctx.quiet,
			  "added '%s' to .gitattributes: a log is hashed byte for byte, so git "
			  "must never rewrite its line endings (commit .gitattributes)",
			  res.attributes);
	if (res.wrote)
		hive_note(ctx.quiet, "session id %s handed on through %s", ctx.session_id,
			  res.wrote);
	if ((hooks && (rc = install_hooks(&ctx, hooks, &hook))) ||
	    (opts.install_agent_hooks && (rc = install_agent_hooks(&ctx, &agent))))
		goto fail;
	if (opts.export_fmt) {
		printf("%sHIVE_SESSION_ID=%s\n", strcmp(opts.export_fmt, "sh") ? "" : "export ",
		       ctx.session_id);
	} else {
		out = hive_start_describe(ctx.session_id, &res, hook);
		hook = NULL;
		if (out && agent) {
			cJSON_AddItemToObject(out, "agent_hooks", agent);
			agent = NULL;
		}
		text = out ? cJSON_PrintUnformatted(out) : NULL;
		printf("%s\n", text ? text : "{}");
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
	cJSON_Delete(agent);
	free(text);
	hive_start_result_clear(&res);
	hive_hooks_free(hooks);
	hive_ctx_free(&ctx);
	return rc;
}
