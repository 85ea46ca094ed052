/* hive-emit.c - the logging and monitoring protocols: validate, redact and append events */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/cictx.h"
#include "../lib/cli.h"
#include "../lib/event.h"
#include "../lib/gitctx.h"
#include "../lib/log.h"
#include "../lib/util.h"

static const char usage[] =
	"usage: hive-emit [options] EVENT_TYPE [KEY=VALUE | KEY:=JSON ...]\n"
	"       hive-emit [options] -\n"
	"\n"
	"Validate one event, redact secrets from it, and append it to the session's\n"
	"EVENTS.jsonl (stamped with seq, timestamp, worker, git and CI context and the\n"
	"prev hash), keeping STATE.json in step. With -, read NDJSON from standard input,\n"
	"one {\"event_type\":...,\"details\":{...}} per line, and append all of it or none.\n"
	"Each event is printed on stdout exactly as written.\n"
	"\n"
	"  --resource R         details.resource\n"
	"  --action A           details.action: create, update or delete\n"
	"  --platform P         details.platform: AWS, GCP, Azure, Docker, K8s or configured\n"
	"  --status S           details.status: success or failure\n"
	"  --json JSON|@FILE|-  an object merged into details.configuration\n"
	"  KEY=VALUE            details.configuration.KEY as a string (tags.team=infra nests)\n"
	"  KEY:=JSON            details.configuration.KEY as a JSON value (replicas:=3)\n"
	"  -C DIR               run as if started in DIR\n"
	"  --root DIR           hive root (env HIVE_ROOT; default Docs/hive-mind at the top)\n"
	"  --session ID         session id (env HIVE_SESSION_ID; CI ids)\n"
	"  --config FILE        configuration (env HIVE_CONFIG; default .hive.yml at the top)\n"
	"  -q, --quiet          no warnings or notes on stderr\n"
	"  -h, --help           show this help\n"
	"      --version        show the version\n"
	"\n"
	"Event types: deployment_configured, infrastructure_provisioned, pipeline_updated,\n"
	"monitoring_added, security_hardened, incident_detected, incident_responded,\n"
	"incident_resolved, metric_recorded, and events.types from .hive.yml.\n"
	"\n"
	"Exit status: 0 success, 2 usage or invalid input (nothing written), 3 environment\n"
	"or I/O failure (nothing written).\n";

enum { OPT_RESOURCE = 2000, OPT_ACTION, OPT_PLATFORM, OPT_STATUS, OPT_JSON };

struct emit_opts {
	const char *resource, *action, *platform, *status, *json;
};

static const struct option emit_long[] = {
	{"resource", required_argument, NULL, OPT_RESOURCE},
	{"action", required_argument, NULL, OPT_ACTION},
	{"platform", required_argument, NULL, OPT_PLATFORM},
	{"status", required_argument, NULL, OPT_STATUS},
	{"json", required_argument, NULL, OPT_JSON},
	{0, 0, 0, 0},
};

static int emit_option(void *tool, int key, const char *arg, struct hive_err *err)
{
	struct emit_opts *o = tool;

	switch (key) {
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

/* Read all of fd (stdin) into a NUL-terminated buffer the caller frees. */
static int slurp_fd(int fd, const char *what, char **out, size_t *len_out, struct hive_err *err)
{
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap), *nb;
	ssize_t n;

	*out = NULL;
	if (!buf)
		return hive_err_set(err, HIVE_EENV, "out of memory");
	for (;;) {
		if (len + 1 >= cap) {
			if (!(nb = realloc(buf, cap *= 2))) {
				free(buf);
				return hive_err_set(err, HIVE_EENV, "out of memory");
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			free(buf);
			return hive_err_sys(err, HIVE_EENV, errno, "%s", what);
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*out = buf;
	*len_out = len;
	return HIVE_OK;
}

/* --json JSON|@FILE|-: the object to merge into configuration (caller owns *out). */
static int read_json_opt(const char *arg, cJSON **out, struct hive_err *err)
{
	char *buf = NULL, q[128];
	size_t len = 0;
	int rc = HIVE_OK;
	const char *src = arg;

	*out = NULL;
	if (!strcmp(arg, "-")) {
		if ((rc = slurp_fd(0, "standard input", &buf, &len, err)))
			return rc;
		src = "standard input";
	} else if (arg[0] == '@') {
		if ((rc = hive_read_file(AT_FDCWD, arg + 1, 0, 16 * 1024 * 1024, &buf, &len, err))) {
			hive_err_prefix(err, "--json");
			return rc;
		}
		src = arg + 1;
	}
	*out = buf ? hive_json_parse_why(buf, len, err) : hive_json_parse_why(arg, strlen(arg), err);
	free(buf);
	if (!*out) {
		/* the reason, not the text: it may be megabytes, or a thousand brackets */
		if (buf || arg[0] == '@' || !strcmp(arg, "-"))
			hive_err_prefix(err, "--json: %s: not valid JSON", src);
		else
			hive_err_prefix(err, "--json: not valid JSON");
		return err->status;
	}
	if (!cJSON_IsObject(*out)) {
		cJSON_Delete(*out);
		*out = NULL;
		return hive_err_set(err, HIVE_EUSAGE, "--json: %s is not a JSON object",
				    buf || arg[0] == '@' || !strcmp(arg, "-") ? src
									      : hive_quote(q, sizeof(q), arg));
	}
	return HIVE_OK;
}

/* details from the flags, --json and KEY=VALUE arguments of the single-event form. */
static int details_from_args(const struct emit_opts *o, char **args, int nargs, cJSON **out,
			     struct hive_err *err)
{
	cJSON *details = cJSON_CreateObject(), *conf = NULL;
	int i, rc;

	*out = NULL;
	if (o->json) {
		if ((rc = read_json_opt(o->json, &conf, err))) {
			cJSON_Delete(details);
			return rc;
		}
	} else {
		conf = cJSON_CreateObject();
	}
	for (i = 0; i < nargs; i++) {
		if ((rc = hive_event_apply_kv(conf, args[i], err))) {
			cJSON_Delete(conf);
			cJSON_Delete(details);
			return rc;
		}
	}
	if (o->resource)
		cJSON_AddStringToObject(details, "resource", o->resource);
	if (o->action)
		cJSON_AddStringToObject(details, "action", o->action);
	if (o->platform)
		cJSON_AddStringToObject(details, "platform", o->platform);
	cJSON_AddItemToObject(details, "configuration", conf);
	if (o->status)
		cJSON_AddStringToObject(details, "status", o->status);
	*out = details;
	return HIVE_OK;
}

/* Fields a stream line may carry: the partial event, or a whole event from another
 * hive-emit (whose stamps are replaced by this session's). */
static int stream_key_ok(const char *k)
{
	static const char *keys[] = {"event_type", "details", "seq",	  "timestamp", "worker",
				     "session_id", "git",     "ci",	  "prev"};
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(k, keys[i]))
			return 1;
	return 0;
}

/* A growing list of pending events with the JSON that owns their strings. */
struct batch {
	struct hive_pending *ev;
	cJSON **owners;
	size_t n, cap;
};

static int batch_add(struct batch *b, cJSON *owner, const char *type, cJSON *details)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		struct hive_pending *ev = realloc(b->ev, cap * sizeof(*ev));
		cJSON **ow;
		if (!ev)
			return -1;
		b->ev = ev;
		if (!(ow = realloc(b->owners, cap * sizeof(*ow))))
			return -1;
		b->owners = ow;
		b->cap = cap;
	}
	b->ev[b->n].type = type;
	b->ev[b->n].details = details;
	b->owners[b->n++] = owner;
	return 0;
}

static void batch_free(struct batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		cJSON_Delete(b->owners[i]);
	free(b->ev);
	free(b->owners);
}

/* Validate, normalise and redact one event's details in place. */
static int prepare(const struct hive_ctx *ctx, struct hive_redactor *red, const char *type,
		   cJSON *details, int *redacted, struct hive_err *err)
{
	char q[128];
	int n;

	if (hive_event_type_is_internal(type))
		return hive_err_set(err, HIVE_EUSAGE, "event_type: %s is written by %s, not hive-emit",
				    hive_quote(q, sizeof(q), type),
				    strcmp(type, "session_started") ? "hive-runbook --finish"
								    : "hive-init");
	if (!hive_event_type_known(type, &ctx->cfg))
		return hive_event_validate_details(type, details, &ctx->cfg, err);
	if (cJSON_IsObject(details))
		hive_event_normalize_details(type, details);
	if ((n = hive_redact(red, details, 1)) < 0)
		return hive_err_set(err, HIVE_EENV, "out of memory");
	*redacted += n;
	return hive_event_validate_details(type, details, &ctx->cfg, err);
}

/* Read the NDJSON stream on stdin into b: every line checked before anything is written. */
static int read_stream(const struct hive_ctx *ctx, struct hive_redactor *red,
		       struct batch *b, int *redacted, struct hive_err *err)
{
	struct hive_lines *r = NULL;
	enum hive_line_kind kind;
	const char *line;
	size_t len, i;
	cJSON *obj, *type, *details, *item;
	int got, rc = HIVE_OK;
	char q[128];

	if ((rc = hive_lines_from_fd(0, &r, err)))
		return rc;
	while ((got = hive_lines_next(r, &line, &len, &kind, err)) > 0) {
		size_t no = hive_lines_number(r);
		for (i = 0; i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'); i++)
			;
		if (i == len && kind != HIVE_LINE_TOO_LONG)
			continue; /* blank line */
		if (kind == HIVE_LINE_TOO_LONG) {
			rc = hive_err_set(err, HIVE_EUSAGE, "stdin:%zu: longer than %d bytes", no,
					  HIVE_LINE_MAX);
			break;
		}
		if ((i = hive_json_find_nul(line, len)) != len) {
			rc = hive_err_set(err, HIVE_EUSAGE,
					  "stdin:%zu:%zu: a NUL character (an event holds text, and "
					  "text holds no NUL)",
					  no, i + 1);
			break;
		}
		if (!(obj = hive_json_parse_why(line, len, err))) {
			rc = err->status;
			hive_err_prefix(err, "stdin:%zu: not valid JSON", no);
			break;
		}
		if (!cJSON_IsObject(obj)) {
			cJSON_Delete(obj);
			rc = hive_err_set(err, HIVE_EUSAGE, "stdin:%zu: not a JSON object", no);
			break;
		}
		cJSON_ArrayForEach(item, obj)
		{
			if (!stream_key_ok(item->string)) {
				rc = hive_err_set(err, HIVE_EUSAGE,
						  "stdin:%zu: unknown key %s (a line is "
						  "{\"event_type\":...,\"details\":{...}})",
						  no, hive_quote(q, sizeof(q), item->string));
				break;
			}
		}
		type = cJSON_GetObjectItemCaseSensitive(obj, "event_type");
		details = cJSON_GetObjectItemCaseSensitive(obj, "details");
		if (!rc && !cJSON_IsString(type))
			rc = hive_err_set(err, HIVE_EUSAGE, "stdin:%zu: event_type: missing or not a string",
					  no);
		if (!rc && !details)
			details = cJSON_AddObjectToObject(obj, "details");
		if (!rc && (rc = prepare(ctx, red, type->valuestring, details, redacted, err)))
			hive_err_prefix(err, "stdin:%zu", no);
		if (rc || batch_add(b, obj, type->valuestring, details) < 0) {
			cJSON_Delete(obj);
			if (!rc)
				rc = hive_err_set(err, HIVE_EENV, "out of memory");
			break;
		}
	}
	if (got < 0)
		rc = HIVE_EENV;
	hive_lines_free(r);
	return rc;
}

/* Print the events exactly as written; -1 with errno when stdout cannot take them. */
static int print_lines(void *arg, const char *lines, size_t len)
{
	(void)arg;
	if (len && fwrite(lines, 1, len, stdout) != len)
		return -1;
	if (fflush(stdout) != 0) {
		if (!errno)
			errno = EIO;
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct emit_opts opts = {0};
	struct hive_cli_tool tool = {usage, "", emit_long, emit_option, &opts};
	struct hive_ctx ctx = {0};
	struct hive_session *s = NULL;
	struct hive_redactor *red = NULL;
	struct batch b = {0};
	cJSON *details = NULL, *git = NULL, *ci = NULL;
	int rc, first, generated, redacted = 0, stream;

	hive_progname = "hive-emit";
	if ((rc = hive_cli_parse(&ctx, &tool, argc, argv, &first)))
		goto fail;
	if (ctx.want_help) {
		fputs(usage, stdout);
		return 0;
	}
	if (ctx.want_version) {
		printf("hive-emit %s\n", HIVE_VERSION);
		return 0;
	}
	if (first >= argc) {
		rc = hive_err_set(&ctx.err, HIVE_EUSAGE, "no event type given (see --help)");
		goto fail;
	}
	stream = !strcmp(argv[first], "-");
	if (stream && (first + 1 < argc || opts.resource || opts.action || opts.platform ||
		       opts.status || opts.json)) {
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
		if ((rc = read_stream(&ctx, red, &b, &redacted, &ctx.err)))
			goto fail;
	} else {
		if ((rc = details_from_args(&opts, argv + first + 1, argc - first - 1, &details,
					    &ctx.err)) ||
		    (rc = prepare(&ctx, red, argv[first], details, &redacted, &ctx.err)))
			goto fail;
		if (batch_add(&b, details, argv[first], details) < 0) {
			rc = hive_err_set(&ctx.err, HIVE_EENV, "out of memory");
			goto fail;
		}
		details = NULL;
	}
	if ((rc = hive_session_open(ctx.root, ctx.session_id, &s, &ctx.err)))
		goto fail;
	/* git context once per process, whatever the number of events */
	if ((rc = hive_git_context(ctx.git, hive_ctx_want_dirty(&ctx), &git, &ctx.err)))
		goto fail;
	ci = hive_ci_context();
	if (hive_redact(red, git, 0) < 0 || hive_redact(red, ci, 0) < 0) {
		rc = hive_err_set(&ctx.err, HIVE_EENV, "out of memory");
		goto fail;
	}
	/* the events reach stdout before the lock is let go: if they cannot, they are taken
	 * back out of the log, so exit 3 always means "nothing was added" */
	if ((rc = hive_log_append_events(s, b.ev, b.n, git, ci, 0, print_lines, NULL, NULL,
					 &ctx.err)))
		goto fail;
	if (redacted && !ctx.quiet)
		fprintf(stderr, "%s: redacted %d secret value%s before writing\n", hive_progname,
			redacted, redacted == 1 ? "" : "s");
	rc = HIVE_OK;
	goto done;
fail:
	hive_err_print(&ctx.err);
done:
	cJSON_Delete(details);
	cJSON_Delete(git);
	cJSON_Delete(ci);
	batch_free(&b);
	hive_redactor_free(red);
	hive_session_close(s);
	hive_ctx_free(&ctx);
	return rc;
}
