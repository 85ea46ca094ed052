/* hive-emit.c - the logging and monitoring protocols: validate, redact and append events */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/args.h"
#include "../lib/cictx.h"
#include "../lib/cli.h"
#include "../lib/event.h"
#include "../lib/gitctx.h"
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
	OPT_LANE,
	OPT_JOIN
};

/* What the options fill: the event's fields, --dry-run, --lane and --join. */
struct emit_opts {
	struct hive_args_fields f;
	int dry_run, join;
	const char *lane; /* --lane, else HIVE_LANE, else NULL (EVENTS.jsonl) */
};

/* hive-emit's options; -C, --root, --session, --config, -q, --help and --version are
 * cli.c's (SPEC 2). Each is in man/hive-emit.1's OPTIONS (tests/bats/options.bats). */
static const struct hive_opt emit_options[] = {
	HIVE_OPT_STRING(0, "resource", "R", OPT_RESOURCE, "details.resource"),
	HIVE_OPT_STRING(0, "action", "A", OPT_ACTION, "details.action: create, update or delete"),
	HIVE_OPT_STRING(0, "platform", "P", OPT_PLATFORM,
			"details.platform: AWS, GCP, Azure, Docker, K8s or configured"),
	HIVE_OPT_STRING(0, "status", "S", OPT_STATUS, "details.status: success or failure"),
	HIVE_OPT_STRING(0, "json", "JSON|@FILE|-", OPT_JSON,
			"an object merged into details.configuration"),
	HIVE_OPT_FLAG(0, "dry-run", OPT_DRY_RUN,
		      "validate the events (schema and policies) and print them as\n"
		      "they would be written, without writing"),
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
	"  events.types from .hive.yml\n"
	"      nothing (any of the fields above that is given is checked)\n"
	"Policies in .hive.yml may require more (tags.KEY=, rollback=): a refusal names them.\n"
	"\n"
	"Exit status: 0 success, 1 a policy of the configuration refused the event (nothing\n"
	"written), 2 usage or invalid input (nothing written), 3 environment or I/O failure\n"
	"(nothing written).\n";

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
	}
	return hive_err_set(err, HIVE_EUSAGE, "unknown option");
}

/* The events reach stdout before the lock is let go: if they cannot, they are taken back
 * out of the log, so exit 3 always means "nothing was added". dry_run: the events are
 * validated and printed as they would be written, and the transaction is never committed. */
static int add_and_print(struct hive_ctx *ctx, const struct hive_args_events *b, cJSON *git,
			 cJSON *ci, const struct emit_opts *eo)
{
	struct hive_txn_opts o = {&ctx->cfg, git, ci, NULL, 0, 0, ctx->session_from, eo->lane};
	struct hive_txn *t = NULL;
	const char *lines;
	size_t i, len, joined = 0;
	int rc, dry_run = eo->dry_run;

	if ((rc = hive_txn_begin(ctx->root, ctx->session_id, &o, &t, &ctx->err)))
		return rc;
	if (hive_txn_rebuilt(t))
		hive_note(ctx->quiet, "%s/STATE.json disagreed with the log (%s): rebuilt from it",
			  hive_txn_session(t)->dir, hive_txn_rebuilt(t));
	if (eo->join) {
		if ((rc = hive_txn_join(t, &joined, &ctx->err)))
			goto out;
		if (!joined)
			hive_note(ctx->quiet, "session %s: no lane has lines to join",
				  ctx->session_id);
	}
	for (i = 0; i < b->n; i++)
		if ((rc = hive_txn_add(t, b->v[i].type, b->v[i].details, &ctx->err))) {
			if (b->n > 1)
				hive_err_prefix(&ctx->err, "stdin");
			goto out;
		}
	if (!dry_run && (rc = hive_txn_commit(t, &ctx->err)))
		goto out;
	lines = hive_txn_lines(t, &len);
	errno = 0;
	if ((len && fwrite(lines, 1, len, stdout) != len) || fflush(stdout) != 0) {
		if (!dry_run)
			hive_txn_rollback(t);
		rc = hive_err_sys(
			&ctx->err, HIVE_EENV, errno ? errno : EIO,
			"cannot write the events to standard output, so they were not added");
	}
out:
	hive_txn_free(t);
	return rc;
}

int main(int argc, char **argv)
{
	struct emit_opts eo = {{0}, 0, 0, NULL};
	struct hive_args_fields *o = &eo.f;
	struct hive_cli_tool tool = {synopsis, emit_options, epilogue, emit_option, &eo};
	struct hive_ctx ctx = {0};
	struct hive_redactor *red = NULL;
	struct hive_args_events b = {0};
	cJSON *details = NULL, *git = NULL, *ci = NULL;
	int rc, first, generated, redacted = 0, stream;

	hive_progname = "hive-emit";
	if ((rc = hive_cli_parse(&ctx, &tool, argc, argv, &first)))
		goto fail;
	if (ctx.want_help)
		return hive_cli_help(&tool, ctx.want_help, stdout);
	if (ctx.want_version) {
		printf("hive-emit %s\n", HIVE_VERSION);
		return 0;
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
		    (rc = hive_git_context(ctx.git, hive_ctx_want_dirty(&ctx), &git, &ctx.err)))
			goto fail;
		ci = hive_ci_context();
		if ((rc = hive_redactor_new(&ctx.cfg, &red, &ctx.err)))
			goto fail;
		if (hive_redact(red, git, 0) < 0 || hive_redact(red, ci, 0) < 0) {
			rc = hive_err_set(&ctx.err, HIVE_EENV, "out of memory");
			goto fail;
		}
		if ((rc = add_and_print(&ctx, &b, git, ci, &eo)))
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
	/* git context once per process, whatever the number of events */
	if ((rc = hive_git_context(ctx.git, hive_ctx_want_dirty(&ctx), &git, &ctx.err)))
		goto fail;
	ci = hive_ci_context();
	if (hive_redact(red, git, 0) < 0 || hive_redact(red, ci, 0) < 0) {
		rc = hive_err_set(&ctx.err, HIVE_EENV, "out of memory");
		goto fail;
	}
	if ((rc = add_and_print(&ctx, &b, git, ci, &eo)))
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
	cJSON_Delete(git);
	cJSON_Delete(ci);
	hive_args_events_free(&b);
	hive_redactor_free(red);
	hive_ctx_free(&ctx);
	return rc;
}
