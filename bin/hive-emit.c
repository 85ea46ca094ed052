/* hive-emit.c - the logging and monitoring protocols: validate, redact and append events */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/agent.h"
#include "../lib/args.h"
#include "../lib/cictx.h"
#include "../lib/cli.h"
#include "../lib/event.h"
#include "../lib/gitctx.h"
#include "../lib/ops.h"
#include "../lib/session.h"
#include "../lib/redact.h"
#include "../lib/util.h"

static const char synopsis[] =
	"usage: hive-emit [options] EVENT_TYPE [KEY=VALUE | KEY:=JSON ...]\n"
	"       hive-emit [options] -\n"
	"       hive-emit --join [options]\n"
	"\n"
	"Validate one event, redact secrets from it, and append it to the session's\n"
	"EVENTS.jsonl (stamped with seq, timestamp, worker, git and CI context and the\n"
	"prev hash), keeping STATE.json in step. With -, read NDJSON from standard input,\n"
	"one {\"event_type\":...,\"details\":{...}} per line, and append all of it or none.\n"
	"Each event is printed on stdout exactly as written.\n"
	"\n";

enum {
	OPT_RESOURCE = 1,
	OPT_ACTION,
	OPT_PLATFORM,
	OPT_STATUS,
	OPT_JSON,
	OPT_DRY_RUN,
	OPT_FROM,
	OPT_LANE,
	OPT_JOIN
};

/* What the options fill: the event's fields, --dry-run, --from, --lane and --join. */
struct emit_opts {
	struct hive_args_fields f;
	int dry_run, join;
	const char *from; /* --from AGENT: "claude-code" or "codex", else NULL */
	const char *lane; /* --lane, else HIVE_LANE, else NULL (EVENTS.jsonl) */
};

/* hive-emit's options; -C, --root, --session, --config, -q, --help and --version are
 * cli.c's (SPEC 2). Each is in man/hive-emit.1's OPTIONS (tests/bats/options.bats). */
static const struct hive_opt emit_options[] = {
	HIVE_OPT_STRING(0, "resource", "R", OPT_RESOURCE, "details.resource"),
	HIVE_OPT_STRING(0, "action", "A", OPT_ACTION, "details.action: create, update or delete"),
	HIVE_OPT_STRING(0, "platform", "P", OPT_PLATFORM,
			"details.platform: AWS, GCP, Azure, Docker, K8s or configured"),
	HIVE_OPT_STRING(
		0, "status", "S", OPT_STATUS,
		"details.status: success or failure\n(deployment_configured: also in_progress)"),
	HIVE_OPT_STRING(0, "json", "JSON|@FILE|-", OPT_JSON,
			"an object merged into details.configuration"),
	HIVE_OPT_FLAG(0, "dry-run", OPT_DRY_RUN,
		      "validate the events (schema and policies) and print them as\n"
		      "they would be written, without writing"),
	HIVE_OPT_STRING(0, "from", "AGENT", OPT_FROM,
			"read one hook payload of AGENT (claude-code or codex) on\n"
			"stdin and record it: SessionStart starts the session, a tool\n"
			"call is a tool_used event, SessionEnd finishes it"),
	HIVE_OPT_STRING(0, "lane", "NAME", OPT_LANE,
			"write to the session's lane NAME, lanes/NAME.jsonl (env\n"
			"HIVE_LANE): one per parallel writer, joined later"),
	HIVE_OPT_FLAG(0, "join", OPT_JOIN,
		      "append session_joined to EVENTS.jsonl: every lane's lines so\n"
		      "far (no event; --finish joins too)"),
	HIVE_OPT_OPERAND("KEY=VALUE",
			 "details.configuration.KEY as a string (tags.team=infra nests)"),
	HIVE_OPT_OPERAND("KEY:=JSON", "details.configuration.KEY as a JSON value (replicas:=3)"),
	HIVE_OPT_END,
};

static const char epilogue[] =
	"\n"
	"Event types and what each requires:\n"
	"  deployment_configured, infrastructure_provisioned, pipeline_updated,\n"
	"  monitoring_added, security_hardened, incident_responded, incident_resolved\n"
	"      resource, action, platform and status (the options of the same names)\n"
	"  incident_detected\n"
	"      the same, and severity=P1|P2|P3|P4\n"
	"  metric_recorded\n"
	"      name=NAME value:=NUMBER unit=UNIT\n"
	"  tool_used (written by --from from an agent's hook payloads)\n"
	"      resource (the tool) and status; configuration.input and .error at most\n"
	"      1024 bytes\n"
	"  events.types from .hive.yml\n"
	"      nothing (any of the fields above that is given is checked)\n"
	"Policies in .hive.yml may require more (tags.KEY=, rollback=): a refusal names them.\n"
	"\n"
	"Exit status: 0 success, 1 a policy of the configuration refused the event (nothing\n"
	"written), 2 usage or invalid input (nothing written), 3 environment or I/O failure\n"
	"(nothing written). With --from: 0 whatever hive's own failure (printed on stderr;\n"
	"the agent goes on), 2 only when policy.agent_require_session refuses a PreToolUse.\n";

static int emit_option(void *tool, int key, const char *arg, struct hive_err *err)
{
	struct emit_opts *e = tool;
	struct hive_args_fields *o = &e->f;

	switch (key) {
	case OPT_DRY_RUN:
		e->dry_run = 1;
		return HIVE_OK;
	case OPT_LANE:
		e->lane = arg;
		return HIVE_OK;
	case OPT_JOIN:
		e->join = 1;
		return HIVE_OK;
	case OPT_RESOURCE:
		o->resource = arg;
		return HIVE_OK;
	case OPT_ACTION:
		o->action = arg;
		return HIVE_OK;
	case OPT_PLATFORM:
		o->platform = arg;
		return HIVE_OK;
	case OPT_STATUS:
		o->status = arg;
		return HIVE_OK;
	case OPT_JSON:
		o->json = arg;
		return HIVE_OK;
	case OPT_FROM:
		if (strcmp(arg, "claude-code") && strcmp(arg, "codex")) {
			char q[128];
			return hive_err_set(err, HIVE_EUSAGE,
					    "--from: %s is not one of claude-code, codex",
					    hive_quote(q, sizeof(q), arg));
		}
		e->from = arg;
		return HIVE_OK;
	}
	return hive_err_set(err, HIVE_EUSAGE, "unknown option");
}

/* hive_op_emit's delivery: the events on stdout, exactly as written, while the lock is held
 * (if they cannot be printed they are taken back out of the log: exit 3 always means
 * "nothing was added"). */
static int print_lines(const char *lines, size_t len, void *arg, struct hive_err *err)
{
	(void)arg;
	errno = 0;
	if ((len && fwrite(lines, 1, len, stdout) != len) || fflush(stdout) != 0)
		return hive_err_sys(
			err, HIVE_EENV, errno ? errno : EIO,
			"cannot write the events to standard output, so they were not added");
	return HIVE_OK;
}

extern char **environ;

/* --from's SessionEnd: `hive-runbook --finish` on the session, run as its own process, the
 * hive-runbook installed beside this hive-emit, in the folder and with the --root, --config
 * and -q this run was given. Run apart so that hive-emit, whose every append is on an agent's
 * or a pipeline's path, does not link the gate, the reports and the signature code. The
 * report it prints goes nowhere (an agent reads a hook's stdout), its findings and errors to
 * stderr. HIVE_OK when it finished the session or found it closed (*was stays NULL: the
 * child says nothing of it); its exit status (1-3) when it failed; HIVE_EENV when it cannot
 * be run. */
static int finish_by_runbook(struct hive_ctx *ctx, const char **was)
{
	posix_spawn_file_actions_t fa;
	char self[4096], *slash, *argv[14];
	int i = 0, status, rc;
	ssize_t n;
	pid_t pid;

	*was = NULL;
	n = readlink("/proc/self/exe", self, sizeof(self) - sizeof("hive-runbook"));
	if (n <= 0 || (size_t)n >= sizeof(self) - sizeof("hive-runbook"))
		return hive_err_sys(&ctx->err, HIVE_EENV, errno,
				    "cannot find hive-runbook: /proc/self/exe");
	self[n] = '\0';
	if (!(slash = strrchr(self, '/')))
		return hive_err_set(&ctx->err, HIVE_EENV, "cannot find hive-runbook beside %s",
				    self);
	strcpy(slash + 1, "hive-runbook");
	argv[i++] = "hive-runbook";
	argv[i++] = "-C";
	argv[i++] = ctx->cwd;
	if (ctx->root_opt) {
		argv[i++] = "--root";
		argv[i++] = (char *)ctx->root_opt;
	}
	if (ctx->config_opt) {
		argv[i++] = "--config";
		argv[i++] = (char *)ctx->config_opt;
	}
	argv[i++] = "--session";
	argv[i++] = ctx->session_id;
	argv[i++] = "--finish";
	if (ctx->quiet)
		argv[i++] = "-q";
	argv[i] = NULL;
	fflush(stderr);
	if ((errno = posix_spawn_file_actions_init(&fa)))
		return hive_err_sys(&ctx->err, HIVE_EENV, errno, "cannot run %s", self);
	rc = posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	if (!rc)
		rc = posix_spawn(&pid, self, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc)
		return hive_err_sys(&ctx->err, HIVE_EENV, rc, "cannot run %s", self);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return hive_err_sys(&ctx->err, HIVE_EENV, errno, "%s", self);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return HIVE_OK;
	rc = WIFEXITED(status) && WEXITSTATUS(status) <= HIVE_EENV ? WEXITSTATUS(status)
								   : HIVE_EENV;
	if (WIFEXITED(status))
		return hive_err_set(&ctx->err, rc, "hive-runbook --finish --session %s exited %d",
				    ctx->session_id, WEXITSTATUS(status));
	return hive_err_set(&ctx->err, rc,
			    "hive-runbook --finish --session %s was killed (signal %d)",
			    ctx->session_id, WTERMSIG(status));
}

/* --from AGENT: one hook payload on stdin, recorded (SPEC 12). The agent is never blocked by
 * hive's own failures: they are printed and the exit status is 0; only a refusal by
 * policy.agent_require_session of a PreToolUse exits 2 (Claude Code's and Codex's "block"),
 * its reason on stderr, which the agent is shown. */
static int from_agent(struct hive_ctx *ctx, const char *agent)
{
	struct hive_agent_call call = {0};
	struct hive_agent_outcome o = {0};
	char *buf = NULL;
	size_t len;
	int rc;

	if ((rc = hive_args_read_fd(0, "stdin", HIVE_INPUT_MAX, &buf, &len, &ctx->err)) ||
	    (rc = hive_agent_read(agent, buf, len, &call, &ctx->err)))
		goto out;
	/* the hook runs where the agent works; its cwd says where that is */
	if (!ctx->chdir_opt && call.cwd && call.cwd[0] == '/')
		ctx->chdir_opt = call.cwd;
	if ((rc = hive_ctx_setup(ctx)))
		goto out;
	if (ctx->session_opt) {
		int generated;
		if ((rc = hive_ctx_session(ctx, 0, &generated)))
			goto out;
	} else {
		memcpy(ctx->session_id, call.session_id, sizeof(ctx->session_id));
		ctx->session_from = "the agent's session_id";
	}
	if ((rc = hive_agent_handle(ctx, &call, finish_by_runbook, &o)))
		goto out;
	if (o.refused_by) {
		/* not through hive_err_print: this is the agent's answer, not hive's failure */
		hive_note(0,
			  "refused: %s %s matches policy.agent_require_session %s, and hive "
			  "session %s is not active: start it first (hive-init --session %s)",
			  call.tool ? call.tool : "the tool", "call", o.refused_by, ctx->session_id,
			  ctx->session_id);
		rc = HIVE_EUSAGE;
		goto out;
	}
	if (o.redacted)
		hive_note(ctx->quiet, "redacted %d secret value%s before writing", o.redacted,
			  o.redacted == 1 ? "" : "s");
	if (o.was)
		hive_note(ctx->quiet, "session %s is already %s: nothing more is recorded in it",
			  ctx->session_id, o.was);
	if (call.kind == HIVE_AGENT_START && !o.was) {
		const char *envf = !strcmp(agent, "claude-code") ? getenv("CLAUDE_ENV_FILE") : NULL;
		cJSON *out = cJSON_CreateObject(),
		      *h = cJSON_AddObjectToObject(out, "hookSpecificOutput");
		char ctxt[512], *text;

		snprintf(ctxt, sizeof(ctxt),
			 "hive records this session as %s (%s/sessions/%s). Record changes you "
			 "make with hive-emit --session %s EVENT_TYPE ...",
			 ctx->session_id, ctx->root, ctx->session_id, ctx->session_id);
		cJSON_AddStringToObject(h, "hookEventName", "SessionStart");
		cJSON_AddStringToObject(h, "additionalContext", ctxt);
		text = cJSON_PrintUnformatted(out);
		if (text)
			printf("%s\n", text);
		free(text);
		cJSON_Delete(out);
		/* later Bash commands of the agent find the id in their environment */
		if (envf && *envf) {
			int fd = open(envf, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
				      0600);
			char line[HIVE_ID_MAX + 40];
			int n = snprintf(line, sizeof(line), "export HIVE_SESSION_ID=%s\n",
					 ctx->session_id);
			if (fd < 0 || write(fd, line, (size_t)n) != n)
				hive_warn(ctx->quiet, "CLAUDE_ENV_FILE: cannot append to %s", envf);
			if (fd >= 0)
				close(fd);
		}
	}
	if (fflush(stdout) != 0)
		rc = hive_err_set(&ctx->err, HIVE_EENV, "cannot write to standard output");
out:
	if (rc && !o.refused_by) {
		hive_err_prefix(&ctx->err, "%s hook %s (the agent goes on)", agent,
				call.hook ? call.hook : "payload");
		hive_err_print(&ctx->err);
		rc = HIVE_OK;
	}
	hive_agent_call_clear(&call);
	free(buf);
	return rc;
}

/* Does the command line ask for --from (as --from, --from=…), whether or not it parsed? */
static int agent_hook_argv(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strncmp(argv[i], "--from", 6) && (!argv[i][6] || argv[i][6] == '='))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	struct emit_opts eo = {{0}, 0, 0, NULL, NULL};
	struct hive_args_fields *o = &eo.f;
	struct hive_cli_tool tool = {synopsis, emit_options, epilogue, emit_option, &eo};
	struct hive_ctx ctx = {0};
	struct hive_redactor *red = NULL;
	struct hive_args_events b = {0};
	cJSON *details = NULL;
	int rc, first, generated, redacted = 0, stream;

	hive_progname = "hive-emit";
	if ((rc = hive_cli_parse(&ctx, &tool, argc, argv, &first))) {
		/* a hook's command line is the agent's configuration: never block the agent */
		if (eo.from || agent_hook_argv(argc, argv)) {
			hive_err_print(&ctx.err);
			hive_ctx_free(&ctx);
			return HIVE_OK;
		}
		goto fail;
	}
	if (ctx.want_help)
		return hive_cli_help(&tool, ctx.want_help, stdout);
	if (ctx.want_version) {
		printf("hive-emit %s\n", HIVE_VERSION);
		return 0;
	}
	if (eo.from) {
		if (first < argc || o->resource || o->action || o->platform || o->status ||
		    o->json || eo.dry_run || eo.lane || eo.join) {
			rc = hive_err_set(
				&ctx.err, HIVE_EUSAGE,
				"--from reads its event from the hook payload on stdin: "
				"no EVENT_TYPE, fields, --json, --dry-run, --lane or --join");
			/* a hook's command line is the agent's configuration: never block it */
			hive_err_print(&ctx.err);
			return HIVE_OK;
		}
		rc = from_agent(&ctx, eo.from);
		hive_ctx_free(&ctx);
		return rc;
	}
	if (!eo.lane && getenv("HIVE_LANE") && *getenv("HIVE_LANE"))
		eo.lane = getenv("HIVE_LANE");
	if (eo.join && (first < argc || o->resource || o->action || o->platform || o->status ||
			o->json || eo.lane)) {
		rc = hive_err_set(&ctx.err, HIVE_EUSAGE,
				  "--join writes session_joined to EVENTS.jsonl: no event, fields "
				  "or --lane (HIVE_LANE)");
		goto fail;
	}
	if (eo.join) {
		if ((rc = hive_ctx_setup(&ctx)) || (rc = hive_ctx_session(&ctx, 0, &generated)) ||
		    (rc = hive_op_emit_lane(&ctx, &b, eo.dry_run, NULL, 1, print_lines, NULL)))
			goto fail;
		goto done;
	}
	if (first >= argc) {
		rc = hive_err_set(&ctx.err, HIVE_EUSAGE, "no event type given (see --help)");
		goto fail;
	}
	stream = !strcmp(argv[first], "-");
	if (stream &&
	    (first + 1 < argc || o->resource || o->action || o->platform || o->status || o->json)) {
		rc = hive_err_set(&ctx.err, HIVE_EUSAGE,
				  "-: the stream form takes no other fields or --json; put them in "
				  "each line's details");
		goto fail;
	}
	if ((rc = hive_ctx_setup(&ctx)) || (rc = hive_ctx_session(&ctx, 0, &generated)) ||
	    (rc = hive_redactor_new(&ctx.cfg, &red, &ctx.err)))
		goto fail;

	/* Everything is read, checked and redacted before the session is touched. */
	if (stream) {
		if ((rc = hive_args_stream(0, &ctx.cfg, red, &b, &redacted, &ctx.err)))
			goto fail;
	} else {
		if ((rc = hive_args_details(o, argv + first + 1, argc - first - 1, &details,
					    &ctx.err)) ||
		    (rc = hive_args_prepare(&ctx.cfg, red, argv[first], details, &redacted,
					    &ctx.err)))
			goto fail;
		if (hive_args_events_add(&b, details, argv[first], details) < 0) {
			rc = hive_err_set(&ctx.err, HIVE_EENV, "out of memory");
			goto fail;
		}
		details = NULL;
	}
	if ((rc = hive_op_emit_lane(&ctx, &b, eo.dry_run, eo.lane, 0, print_lines, NULL)))
		goto fail;
	if (redacted)
		hive_note(ctx.quiet, "redacted %d secret value%s before writing", redacted,
			  redacted == 1 ? "" : "s");
	if (eo.dry_run)
		hive_note(ctx.quiet, "--dry-run: nothing was written");
	rc = HIVE_OK;
	goto done;
fail:
	hive_err_print(&ctx.err);
done:
	cJSON_Delete(details);
	hive_args_events_free(&b);
	hive_redactor_free(red);
	hive_ctx_free(&ctx);
	return rc;
}
