/* hive-init.c - the startup protocol: create or validate a session and hand its id on */
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <fnmatch.h>
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
#include "../lib/log.h"
#include "../lib/redact.h"
#include "../lib/state.h"
#include "../lib/util.h"

static const char usage[] =
	"usage: hive-init [--worker NAME] [--export sh|github|gitlab] [--install-hooks] [options]\n"
	"\n"
	"Start (or rejoin) a session: create <root>/sessions/<id>/ with STATE.json and an\n"
	"EVENTS.jsonl whose first line is session_started, stamped with git and CI context.\n"
	"Running it again for the same session changes nothing (\"created\":false).\n"
	"\n"
	"  --worker NAME        worker name (default: .hive.yml worker:, else devops-worker);\n"
	"                       its profile is read from <workers_dir>/NAME.md\n"
	"  --export FORMAT      print the id for a shell instead of JSON:\n"
	"                       sh: export HIVE_SESSION_ID=ID\n"
	"                       github, gitlab: HIVE_SESSION_ID=ID (for $GITHUB_ENV, dotenv)\n"
	"  --install-hooks      install hive's pre-push hook (core.hooksPath, else the git\n"
	"                       dir's hooks); a pre-push already there is kept as\n"
	"                       pre-push.local and runs first; with no session id given\n"
	"                       (--session, HIVE_SESSION_ID, CI) no session is started\n"
	"  -C DIR               run as if started in DIR\n"
	"  --root DIR           hive root (env HIVE_ROOT; default Docs/hive-mind at the top)\n"
	"  --session ID         session id (env HIVE_SESSION_ID; CI ids; else generated)\n"
	"  --config FILE        configuration (env HIVE_CONFIG; default .hive.yml at the top)\n"
	"  -q, --quiet          no warnings\n"
	"  -h, --help           show this help\n"
	"      --version        show the version\n"
	"\n"
	"In GitHub Actions the id is also appended to $GITHUB_ENV and $GITHUB_OUTPUT; in\n"
	"GitLab CI it is written to hive.env for artifacts:reports:dotenv.\n"
	"\n"
	"Exit status: 0 success, 2 usage or invalid input, 3 environment or I/O failure\n"
	"(including a session that exists but is corrupt).\n";

enum { OPT_WORKER = 2000, OPT_EXPORT, OPT_INSTALL_HOOKS };

struct init_opts {
	const char *worker;
	const char *export_fmt; /* NULL, "sh", "github" or "gitlab" */
	int install_hooks;      /* --install-hooks */
};

static const struct option init_long[] = {
	{"worker", required_argument, NULL, OPT_WORKER},
	{"export", required_argument, NULL, OPT_EXPORT},
	{"install-hooks", no_argument, NULL, OPT_INSTALL_HOOKS},
	{0, 0, 0, 0},
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

/* The requirement kinds of SPEC 5.1, in STATE.json's order. */
static const char *kinds[] = {"terraform",	"docker", "compose",	"kubernetes",
			      "helm",		"github_actions", "gitlab_ci", "pulumi"};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))
#define KIND_MAX 1000 /* paths recorded per kind; more are counted in a warning */

struct detect {
	cJSON *lists[NKINDS];
	size_t dropped;
};

/* Which requirement kind a tracked path is, or -1. Paths only: no file is read. */
static int classify_path(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	if (!fnmatch("*.tf", base, 0))
		return 0;
	if (!strncmp(base, "Dockerfile", 10) || !fnmatch("*.dockerfile", base, 0))
		return 1;
	if (!fnmatch("docker-compose*.y*ml", base, 0) || !fnmatch("compose.y*ml", base, 0))
		return 2;
	if (!strcmp(base, "Chart.yaml"))
		return 4;
	if (!fnmatch(".github/workflows/*.y*ml", path, FNM_PATHNAME))
		return 5;
	if (!strcmp(path, ".gitlab-ci.yml"))
		return 6;
	if (!fnmatch("Pulumi.y*ml", base, 0))
		return 7;
	if (!strncmp(path, "k8s/", 4) || !strncmp(path, "kubernetes/", 11) ||
	    !strncmp(path, "manifests/", 10) || strstr(path, "/k8s/") ||
	    strstr(path, "/kubernetes/") || strstr(path, "/manifests/"))
		return 3;
	return -1;
}

static int detect_one(const char *path, void *arg)
{
	struct detect *d = arg;
	int k = classify_path(path);

	if (k < 0)
		return 0;
	if (cJSON_GetArraySize(d->lists[k]) >= KIND_MAX) {
		d->dropped++;
		return 0;
	}
	cJSON_AddItemToArray(d->lists[k], cJSON_CreateString(path));
	return 0;
}

static int detect_requirements(struct hive_ctx *ctx, cJSON **out)
{
	struct detect d = {{0}, 0};
	cJSON *obj = cJSON_CreateObject();
	size_t i;
	int rc;

	for (i = 0; i < NKINDS; i++)
		d.lists[i] = cJSON_AddArrayToObject(obj, kinds[i]);
	if ((rc = hive_git_index_foreach(ctx->git, detect_one, &d, &ctx->err))) {
		cJSON_Delete(obj);
		return rc;
	}
	if (d.dropped)
		hive_warn(ctx->quiet, "requirements: %zu more paths not recorded (at most %d of each kind)",
			  d.dropped, KIND_MAX);
	*out = obj;
	return HIVE_OK;
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
	if (rc == HIVE_EUSAGE && strstr(ctx->err.msg, "No such file")) {
		hive_warn(ctx->quiet, "no worker definition at %s: worker_profile is null", rel);
		ctx->err.status = HIVE_OK;
		*out = cJSON_CreateNull();
		return HIVE_OK;
	}
	if (rc)
		return rc;
	rc = hive_worker_profile_parse(rel, buf, len, out, &ctx->err);
	free(buf);
	return rc;
}

/* A session that already exists must be sound: line 1 is its session_started, the last
 * line is whole, STATE.json names it. HIVE_EENV naming the first problem otherwise. */
static int check_existing(struct hive_ctx *ctx, struct hive_session *s, cJSON **state_out)
{
	struct hive_lines *r = NULL;
	struct hive_tail tail;
	enum hive_line_kind kind;
	const char *line;
	size_t len;
	cJSON *first = NULL, *state = NULL;
	const cJSON *v;
	int rc, got;

	*state_out = NULL;
	if ((rc = hive_log_tail(s, &tail, &ctx->err)))
		return rc;
	if (tail.size == 0)
		return hive_err_set(&ctx->err, HIVE_EENV,
				    "%s/EVENTS.jsonl: exists but is empty (corrupt session)", s->dir);
	if ((rc = hive_lines_from_fd(s->eventsfd, &r, &ctx->err)))
		return rc;
	if (lseek(s->eventsfd, 0, SEEK_SET) < 0 ||
	    (got = hive_lines_next(r, &line, &len, &kind, &ctx->err)) <= 0 ||
	    kind != HIVE_LINE_OK || !(first = hive_json_parse(line, len))) {
		rc = hive_err_set(&ctx->err, HIVE_EENV,
				  "%s/EVENTS.jsonl:1: not a JSON event (corrupt session: run hive-check)",
				  s->dir);
		goto out;
	}
	v = cJSON_GetObjectItemCaseSensitive(first, "event_type");
	if (!cJSON_IsString(v) || strcmp(v->valuestring, "session_started")) {
		rc = hive_err_set(&ctx->err, HIVE_EENV,
				  "%s/EVENTS.jsonl:1: expected session_started (corrupt session)",
				  s->dir);
		goto out;
	}
	v = cJSON_GetObjectItemCaseSensitive(first, "session_id");
	if (!cJSON_IsString(v) || strcmp(v->valuestring, s->id)) {
		rc = hive_err_set(&ctx->err, HIVE_EENV,
				  "%s/EVENTS.jsonl:1: session_id does not match the folder %s",
				  s->dir, s->id);
		goto out;
	}
	if ((rc = hive_state_read(s, &state, &ctx->err)))
		goto out;
	v = cJSON_GetObjectItemCaseSensitive(state, "session_id");
	if (!state || !cJSON_IsString(v) || strcmp(v->valuestring, s->id)) {
		rc = hive_err_set(&ctx->err, HIVE_EENV,
				  "%s/STATE.json: %s (corrupt session: run hive-check --repair)",
				  s->dir, state ? "session_id does not match" : "missing or not JSON");
		goto out;
	}
	*state_out = state;
	state = NULL;
	rc = HIVE_OK;
out:
	cJSON_Delete(first);
	cJSON_Delete(state);
	hive_lines_free(r);
	return rc;
}

struct handoff {
	struct hive_ctx *ctx;
	const char *wrote;
};

static int do_handoff(void *arg, struct hive_err *err)
{
	struct handoff *h = arg;
	const char *dir = getenv("CI_PROJECT_DIR");

	return hive_ci_handoff(h->ctx->session_id, dir && *dir ? dir : h->ctx->top, &h->wrote, err);
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
		fprintf(stderr, "%s: installing into core.hooksPath %s\n", hive_progname, hooks->dir);
	if ((rc = hive_hooks_install(hooks, &ctx->err)))
		return rc;
	if (!ctx->quiet) {
		if (hooks->park)
			fprintf(stderr, "%s: kept the pre-push hook that was there as %s/pre-push.local: "
				"it runs first\n", hive_progname, hooks->dir);
		fprintf(stderr, "%s: %s/pre-push: %s\n", hive_progname, hooks->dir,
			hooks->result == HIVE_HOOK_UNCHANGED ? "hive's pre-push hook is already installed"
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
	struct hive_cli_tool tool = {usage, "", init_long, init_option, &opts};
	struct hive_ctx ctx = {0};
	struct hive_session *s = NULL;
	struct hive_redactor *red = NULL;
	struct handoff h = {&ctx, NULL};
	struct hive_hooks *hooks = NULL;
	cJSON *profile = NULL, *reqs = NULL, *git = NULL, *ci = NULL, *details, *event = NULL;
	cJSON *state = NULL, *out = NULL, *hook = NULL;
	char ts[32], hash[HIVE_HASH_SIZE], *line = NULL, *text = NULL;
	const char *worker;
	int rc, first, generated, created = 0;
	size_t len;

	hive_progname = "hive-init";
	if ((rc = hive_cli_parse(&ctx, &tool, argc, argv, &first)))
		goto fail;
	if (ctx.want_help) {
		fputs(usage, stdout);
		return 0;
	}
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
				rc = hive_err_set(&ctx.err, HIVE_EUSAGE,
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
	if ((rc = load_profile(&ctx, worker, &profile)) || (rc = detect_requirements(&ctx, &reqs)) ||
	    (rc = hive_git_context(ctx.git, hive_ctx_want_dirty(&ctx), &git, &ctx.err)) ||
	    (rc = hive_redactor_new(&ctx.cfg, &red, &ctx.err)))
		goto fail;
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
	hive_now_rfc3339(ts);
	event = hive_event_build(1, ts, "session_started", worker, ctx.session_id, details, git, ci,
				 NULL);
	git = ci = NULL;
	if (!event || !(text = cJSON_PrintUnformatted(event))) {
		rc = hive_err_set(&ctx.err, HIVE_EENV, "out of memory");
		goto fail;
	}
	len = strlen(text);
	if (len > HIVE_LINE_MAX) {
		rc = hive_err_set(&ctx.err, HIVE_EUSAGE,
				  "session_started would be %zu bytes, over the %d-byte line limit",
				  len, HIVE_LINE_MAX);
		goto fail;
	}
	hive_sha256(text, len, hash);
	if ((rc = hive_state_apply(&state, event, hash, &ctx.err)))
		goto fail;
	if (!(line = malloc(len + 2))) {
		rc = hive_err_set(&ctx.err, HIVE_EENV, "out of memory");
		goto fail;
	}
	memcpy(line, text, len);
	line[len] = '\n';
	line[len + 1] = '\0';

	rc = hive_session_create(ctx.root, ctx.session_id, line, len + 1, state, do_handoff, &h,
				 &created, &s, &ctx.err);
	if (rc)
		goto fail;
	if (!created) {
		cJSON_Delete(state);
		state = NULL;
		if ((rc = check_existing(&ctx, s, &state)) || (rc = do_handoff(&h, &ctx.err)))
			goto fail;
	}
	if (h.wrote && !ctx.quiet)
		fprintf(stderr, "%s: session id %s handed on through %s\n", hive_progname,
			ctx.session_id, h.wrote);
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
		cJSON_AddItemToObject(out, "worker", w ? cJSON_Duplicate(w, 1) : cJSON_CreateNull());
		cJSON_AddItemToObject(out, "status", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(state, "status"), 1));
		cJSON_AddItemToObject(out, "events", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(state, "events"), "count"), 1));
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
	cJSON_Delete(event);
	cJSON_Delete(state);
	free(text);
	free(line);
	hive_redactor_free(red);
	hive_session_close(s);
	hive_hooks_free(hooks);
	hive_ctx_free(&ctx);
	return rc;
}
