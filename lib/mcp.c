/* mcp.c - the Model Context Protocol server's messages and tools (JSON-RPC 2.0, newline-delimited)
 */
#include "mcp.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "json.h"
#include "ops.h"
#include "redact.h"

static const char *const versions[] = {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05",
				       NULL};

/* --- replies -------------------------------------------------------------------------- */

static void put(struct hive_buf *reply, cJSON *msg)
{
	char *text = msg ? cJSON_PrintUnformatted(msg) : NULL;

	if (!text)
		reply->oom = 1;
	else
		hive_buf_puts(reply, text);
	free(text);
	cJSON_Delete(msg);
}

/* {"jsonrpc":"2.0","id":ID} with id copied (NULL: null). */
static cJSON *envelope(const cJSON *id)
{
	cJSON *m = cJSON_CreateObject();

	if (!m)
		return NULL;
	cJSON_AddStringToObject(m, "jsonrpc", "2.0");
	cJSON_AddItemToObject(m, "id", id ? cJSON_Duplicate(id, 1) : cJSON_CreateNull());
	return m;
}

static void reply_error(struct hive_buf *reply, const cJSON *id, int code, const char *message)
{
	cJSON *m = envelope(id), *e;

	if (m && (e = cJSON_AddObjectToObject(m, "error"))) {
		cJSON_AddNumberToObject(e, "code", code);
		cJSON_AddStringToObject(e, "message", message);
	}
	put(reply, m);
}

static void reply_result(struct hive_buf *reply, const cJSON *id, cJSON *result)
{
	cJSON *m = envelope(id);

	if (!m || !result) {
		cJSON_Delete(m);
		cJSON_Delete(result);
		reply->oom = 1;
		return;
	}
	cJSON_AddItemToObject(m, "result", result);
	put(reply, m);
}

void hive_mcp_oversize(struct hive_buf *reply)
{
	char msg[128];

	reply->len = 0;
	snprintf(msg, sizeof(msg), "Invalid Request: message longer than %d bytes, skipped",
		 HIVE_MCP_MESSAGE_MAX);
	reply_error(reply, NULL, HIVE_MCP_INVALID_REQUEST, msg);
}

/* --- tools ---------------------------------------------------------------------------- */

/* The tools' input schemas, as tools/list gives them. */
static const char tools_json[] =
	"["
	"{\"name\":\"hive_start\",\"title\":\"Start a hive session\","
	"\"description\":\"Start (or rejoin) a hive session, as hive-init does: creates "
	"<root>/sessions/<id>/ with session_started stamped with git and CI context. Answers "
	"hive-init's JSON (session_id, dir, created, worker, status, events).\","
	"\"inputSchema\":{\"type\":\"object\",\"properties\":{"
	"\"session\":{\"type\":\"string\",\"description\":\"session id (default: hive-mcp "
	"--session, HIVE_SESSION_ID, the CI's, else a new one)\"},"
	"\"worker\":{\"type\":\"string\",\"description\":\"worker name\"}},"
	"\"additionalProperties\":false}},"
	"{\"name\":\"hive_emit\",\"title\":\"Record an event\","
	"\"description\":\"Validate, redact and append one event to the session, as hive-emit "
	"does. Answers the event exactly as written.\","
	"\"inputSchema\":{\"type\":\"object\",\"properties\":{"
	"\"session\":{\"type\":\"string\"},"
	"\"event_type\":{\"type\":\"string\",\"description\":\"deployment_configured, "
	"infrastructure_provisioned, pipeline_updated, monitoring_added, security_hardened, "
	"incident_detected, incident_responded, incident_resolved, metric_recorded, or one of "
	"events.types\"},"
	"\"resource\":{\"type\":\"string\"},"
	"\"action\":{\"type\":\"string\",\"enum\":[\"create\",\"update\",\"delete\"]},"
	"\"platform\":{\"type\":\"string\"},"
	"\"status\":{\"type\":\"string\",\"enum\":[\"success\",\"failure\"]},"
	"\"configuration\":{\"type\":\"object\"}},"
	"\"required\":[\"event_type\"],\"additionalProperties\":false}},"
	"{\"name\":\"hive_check\",\"title\":\"Check sessions\","
	"\"description\":\"Verify the session (or every session) as hive-check does: JSON, "
	"schema, hash chain, protocol, STATE.json, secrets and the configured policies. Answers "
	"the findings, one JSON object a line; isError when there is an error.\","
	"\"inputSchema\":{\"type\":\"object\",\"properties\":{"
	"\"session\":{\"type\":\"string\"},"
	"\"all\":{\"type\":\"boolean\",\"description\":\"every session under the root\"}},"
	"\"additionalProperties\":false}},"
	"{\"name\":\"hive_show\",\"title\":\"Show a session's report\","
	"\"description\":\"The session's report, as hive-runbook prints it.\","
	"\"inputSchema\":{\"type\":\"object\",\"properties\":{"
	"\"session\":{\"type\":\"string\"},"
	"\"report\":{\"type\":\"string\",\"enum\":[\"runbook\",\"deployment\",\"incident\","
	"\"infrastructure\",\"all\"]},"
	"\"format\":{\"type\":\"string\",\"enum\":[\"markdown\",\"json\",\"prometheus\"]}},"
	"\"additionalProperties\":false}},"
	"{\"name\":\"hive_finish\",\"title\":\"Finish a session\","
	"\"description\":\"The completion protocol, as hive-runbook --finish: "
	"session_completed, METRICS.json, RUNBOOK.md and CHECKPOINT. Running it again changes "
	"nothing.\","
	"\"inputSchema\":{\"type\":\"object\",\"properties\":{"
	"\"session\":{\"type\":\"string\"},"
	"\"status\":{\"type\":\"string\",\"enum\":[\"success\",\"failure\"]}},"
	"\"additionalProperties\":false}}"
	"]";

/* args[key] as a string: *out NULL when absent; HIVE_EUSAGE when it is not a string. */
static int arg_str(const cJSON *args, const char *key, const char **out, struct hive_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(args, key);

	*out = NULL;
	if (!v)
		return HIVE_OK;
	if (!cJSON_IsString(v))
		return hive_err_set(err, HIVE_EUSAGE, "%s: expected a string", key);
	*out = v->valuestring;
	return HIVE_OK;
}

/* Every key of args is one of allowed (NULL-terminated). */
static int arg_keys(const cJSON *args, const char *const *allowed, struct hive_err *err)
{
	const cJSON *c;
	char q[128];
	size_t i;

	cJSON_ArrayForEach(c, args)
	{
		for (i = 0; allowed[i] && strcmp(allowed[i], c->string); i++)
			;
		if (!allowed[i])
			return hive_err_set(err, HIVE_EUSAGE, "unknown argument %s",
					    hive_quote(q, sizeof(q), c->string));
	}
	return HIVE_OK;
}

static int one_of(const char *key, const char *v, const char *const *allowed, struct hive_err *err)
{
	char q[128];
	size_t i;

	for (i = 0; allowed[i]; i++)
		if (!strcmp(v, allowed[i]))
			return HIVE_OK;
	return hive_err_set(err, HIVE_EUSAGE, "%s: %s is not allowed", key,
			    hive_quote(q, sizeof(q), v));
}

static int tool_start(struct hive_ctx *ctx, const cJSON *args, struct hive_buf *out)
{
	static const char *const keys[] = {"session", "worker", NULL};
	struct hive_start_result res = {0};
	const char *worker;
	cJSON *o;
	int rc, generated;

	if ((rc = arg_keys(args, keys, &ctx->err)) ||
	    (rc = arg_str(args, "worker", &worker, &ctx->err)) ||
	    (rc = hive_ctx_session(ctx, 1, &generated)) || (rc = hive_op_start(ctx, worker, &res)))
		goto out;
	if (!(o = hive_start_describe(ctx->session_id, &res, NULL))) {
		rc = hive_err_set(&ctx->err, HIVE_EENV, "out of memory");
		goto out;
	}
	put(out, o);
out:
	hive_start_result_clear(&res);
	return rc;
}

static int capture(const char *lines, size_t len, void *arg, struct hive_err *err)
{
	struct hive_buf *out = arg;

	hive_buf_add(out, lines, len);
	return out->oom ? hive_err_set(err, HIVE_EENV, "out of memory") : HIVE_OK;
}

static int tool_emit(struct hive_ctx *ctx, const cJSON *args, struct hive_buf *out)
{
	static const char *const keys[] = {"session",  "event_type", "resource",      "action",
					   "platform", "status",     "configuration", NULL};
	static const char *const fields[] = {"resource", "action", "platform", "status"};
	struct hive_redactor *red = NULL;
	struct hive_args_events b = {0};
	const cJSON *conf = cJSON_GetObjectItemCaseSensitive(args, "configuration");
	const char *type, *v;
	cJSON *details = NULL;
	int rc, generated, redacted = 0;
	size_t i;

	if ((rc = arg_keys(args, keys, &ctx->err)) ||
	    (rc = arg_str(args, "event_type", &type, &ctx->err)))
		goto out;
	if (!type) {
		rc = hive_err_set(&ctx->err, HIVE_EUSAGE, "event_type: missing");
		goto out;
	}
	if (conf && !cJSON_IsObject(conf)) {
		rc = hive_err_set(&ctx->err, HIVE_EUSAGE, "configuration: expected an object");
		goto out;
	}
	if (!(details = cJSON_CreateObject())) {
		rc = hive_err_set(&ctx->err, HIVE_EENV, "out of memory");
		goto out;
	}
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if ((rc = arg_str(args, fields[i], &v, &ctx->err)))
			goto out;
		if (v)
			cJSON_AddStringToObject(details, fields[i], v);
	}
	if (conf)
		cJSON_AddItemToObject(details, "configuration", cJSON_Duplicate(conf, 1));
	if ((rc = hive_ctx_session(ctx, 0, &generated)) ||
	    (rc = hive_redactor_new(&ctx->cfg, &red, &ctx->err)) ||
	    (rc = hive_args_prepare(&ctx->cfg, red, type, details, &redacted, &ctx->err)))
		goto out;
	if (hive_args_events_add(&b, details, type, details) < 0) {
		rc = hive_err_set(&ctx->err, HIVE_EENV, "out of memory");
		goto out;
	}
	details = NULL;
	if ((rc = hive_op_emit(ctx, &b, 0, capture, out)))
		goto out;
	if (redacted)
		hive_note(ctx->quiet, "redacted %d secret value%s before writing", redacted,
			  redacted == 1 ? "" : "s");
out:
	cJSON_Delete(details);
	hive_args_events_free(&b);
	hive_redactor_free(red);
	return rc;
}

static int tool_check(struct hive_ctx *ctx, const cJSON *args, struct hive_buf *out, int *failed)
{
	static const char *const keys[] = {"session", "all", NULL};
	const cJSON *all = cJSON_GetObjectItemCaseSensitive(args, "all");
	char *text = NULL;
	size_t len = 0, errors = 0, warnings = 0;
	FILE *f = NULL;
	int rc, generated;

	if ((rc = arg_keys(args, keys, &ctx->err)))
		return rc;
	if (all && !cJSON_IsBool(all))
		return hive_err_set(&ctx->err, HIVE_EUSAGE, "all: expected a boolean");
	if (cJSON_IsTrue(all) && cJSON_GetObjectItemCaseSensitive(args, "session"))
		return hive_err_set(&ctx->err, HIVE_EUSAGE, "all cannot be combined with session");
	if (!cJSON_IsTrue(all) && (rc = hive_ctx_session(ctx, 0, &generated)))
		return rc;
	if (!(f = open_memstream(&text, &len)))
		return hive_err_set(&ctx->err, HIVE_EENV, "out of memory");
	rc = hive_op_check(ctx, cJSON_IsTrue(all), "json", f, &errors, &warnings);
	if (fclose(f) != 0 && !rc)
		rc = hive_err_set(&ctx->err, HIVE_EENV, "out of memory");
	if (!rc) {
		hive_buf_add(out, text ? text : "", len);
		hive_buf_printf(out, "%zu error%s, %zu warning%s\n", errors, errors == 1 ? "" : "s",
				warnings, warnings == 1 ? "" : "s");
		*failed = errors > 0;
	}
	free(text);
	return rc;
}

static int tool_show(struct hive_ctx *ctx, const cJSON *args, struct hive_buf *out)
{
	static const char *const keys[] = {"session", "report", "format", NULL};
	static const char *const reports[] = {"runbook",	"deployment", "incident",
					      "infrastructure", "all",	      NULL};
	static const char *const formats[] = {"markdown", "json", "prometheus", NULL};
	const char *report, *format;
	int rc, generated;

	if ((rc = arg_keys(args, keys, &ctx->err)) ||
	    (rc = arg_str(args, "report", &report, &ctx->err)) ||
	    (rc = arg_str(args, "format", &format, &ctx->err)) ||
	    (report && (rc = one_of("report", report, reports, &ctx->err))) ||
	    (format && (rc = one_of("format", format, formats, &ctx->err))) ||
	    (rc = hive_ctx_session(ctx, 0, &generated)))
		return rc;
	return hive_op_show(ctx, report ? report : "runbook", format ? format : "markdown", out);
}

static int tool_finish(struct hive_ctx *ctx, const cJSON *args, struct hive_buf *out)
{
	static const char *const keys[] = {"session", "status", NULL};
	static const char *const statuses[] = {"success", "failure", NULL};
	const char *status, *was = NULL;
	int rc, generated;

	if ((rc = arg_keys(args, keys, &ctx->err)) ||
	    (rc = arg_str(args, "status", &status, &ctx->err)) ||
	    (status && (rc = one_of("status", status, statuses, &ctx->err))) ||
	    (rc = hive_ctx_session(ctx, 0, &generated)) ||
	    (rc = hive_op_finish(ctx, status, stderr, &was, NULL, NULL)))
		return rc;
	hive_buf_printf(out, "{\"session_id\":\"%s\",\"finished\":%s,\"status\":\"%s\"}",
			ctx->session_id, was ? "false" : "true",
			was ? was
			    : (status && !strcmp(status, "failure") ? "failed" : "completed"));
	return HIVE_OK;
}

/* tools/call: the result, or a JSON-RPC error for a call that names no known tool. */
static void call_tool(struct hive_mcp_server *s, const cJSON *id, const cJSON *params,
		      struct hive_buf *reply)
{
	const char *name = hive_json_str(params, "name");
	const cJSON *args = cJSON_GetObjectItemCaseSensitive(params, "arguments");
	struct hive_ctx ctx = {0};
	struct hive_buf out = {0};
	cJSON *result, *content, *item;
	const char *session;
	int rc, failed = 0;
	char msg[1200];

	if (!name || (args && !cJSON_IsObject(args))) {
		reply_error(reply, id, HIVE_MCP_INVALID_PARAMS,
			    "Invalid params: tools/call needs a name and an arguments object");
		return;
	}
	if (strcmp(name, "hive_start") && strcmp(name, "hive_emit") && strcmp(name, "hive_check") &&
	    strcmp(name, "hive_show") && strcmp(name, "hive_finish")) {
		snprintf(msg, sizeof(msg), "Unknown tool: %.200s", name);
		reply_error(reply, id, HIVE_MCP_INVALID_PARAMS, msg);
		return;
	}
	ctx.root_opt = s->root_opt;
	ctx.config_opt = s->config_opt;
	ctx.quiet = s->quiet;
	if ((rc = arg_str(args, "session", &session, &ctx.err)))
		goto done;
	ctx.session_opt = session ? session : s->session_opt;
	if ((rc = hive_ctx_setup(&ctx)))
		goto done;
	if (!strcmp(name, "hive_start"))
		rc = tool_start(&ctx, args, &out);
	else if (!strcmp(name, "hive_emit"))
		rc = tool_emit(&ctx, args, &out);
	else if (!strcmp(name, "hive_check"))
		rc = tool_check(&ctx, args, &out, &failed);
	else if (!strcmp(name, "hive_show"))
		rc = tool_show(&ctx, args, &out);
	else
		rc = tool_finish(&ctx, args, &out);
done:
	if (rc) {
		/* the message hive_err_print would print, scrubbed as it is */
		snprintf(msg, sizeof(msg), "%s: error: %s", name, ctx.err.msg);
		hive_redact_message(msg, sizeof(msg));
		out.len = 0;
		hive_buf_puts(&out, msg);
	}
	result = cJSON_CreateObject();
	content = cJSON_AddArrayToObject(result, "content");
	item = cJSON_CreateObject();
	cJSON_AddItemToArray(content, item);
	cJSON_AddStringToObject(item, "type", "text");
	cJSON_AddStringToObject(item, "text", out.p ? out.p : "");
	cJSON_AddBoolToObject(result, "isError", rc || failed);
	if (out.oom)
		reply->oom = 1;
	else
		reply_result(reply, id, result);
	hive_buf_free(&out);
	hive_ctx_free(&ctx);
}

/* --- messages ------------------------------------------------------------------------- */

static void initialize(struct hive_mcp_server *s, const cJSON *id, const cJSON *params,
		       struct hive_buf *reply)
{
	const char *asked = hive_json_str(params, "protocolVersion"), *v = HIVE_MCP_PROTOCOL;
	cJSON *r = cJSON_CreateObject(), *caps, *info;
	size_t i;

	for (i = 0; asked && versions[i]; i++)
		if (!strcmp(asked, versions[i]))
			v = versions[i];
	if (!r) {
		reply->oom = 1;
		return;
	}
	cJSON_AddStringToObject(r, "protocolVersion", v);
	caps = cJSON_AddObjectToObject(r, "capabilities");
	cJSON_AddBoolToObject(cJSON_AddObjectToObject(caps, "tools"), "listChanged", 0);
	info = cJSON_AddObjectToObject(r, "serverInfo");
	cJSON_AddStringToObject(info, "name", "hive-mcp");
	cJSON_AddStringToObject(info, "version", HIVE_VERSION);
	cJSON_AddStringToObject(
		r, "instructions",
		"hive records DevOps work as checked, tamper-evident sessions in the repository. "
		"Call hive_start first, hive_emit for every change you make (deployments, "
		"infrastructure, pipelines, monitoring, security, incidents, metrics), hive_check "
		"to verify, hive_finish when the work is done, and hive_show for the runbook.");
	s->initialized = 1;
	reply_result(reply, id, r);
}

void hive_mcp_handle(struct hive_mcp_server *s, const char *msg, size_t len, struct hive_buf *reply)
{
	struct hive_err err = {0};
	cJSON *m = hive_json_parse_why(msg, len, &err), *r;
	const cJSON *id, *params;
	const char *method, *version;
	char text[1200];

	reply->len = 0;
	if (reply->p)
		reply->p[0] = '\0';
	if (!m) {
		snprintf(text, sizeof(text), "Parse error: %s", err.msg);
		reply_error(reply, NULL, HIVE_MCP_PARSE_ERROR, text);
		return;
	}
	id = cJSON_GetObjectItemCaseSensitive(m, "id");
	if (!cJSON_IsObject(m)) {
		reply_error(reply, NULL, HIVE_MCP_INVALID_REQUEST,
			    cJSON_IsArray(m) ? "Invalid Request: batches are not supported"
					     : "Invalid Request: not an object");
		goto out;
	}
	if (id && !cJSON_IsString(id) && !cJSON_IsNumber(id) && !cJSON_IsNull(id))
		id = NULL;
	version = hive_json_str(m, "jsonrpc");
	method = hive_json_str(m, "method");
	params = cJSON_GetObjectItemCaseSensitive(m, "params");
	if (!version || strcmp(version, "2.0") || (!method && !id)) {
		reply_error(reply, id, HIVE_MCP_INVALID_REQUEST,
			    "Invalid Request: not a JSON-RPC 2.0 request");
		goto out;
	}
	if (!method) /* a response to us: hive-mcp sends no requests */
		goto out;
	if (!id) /* a notification (notifications/initialized, cancelled…): no reply */
		goto out;
	if (params && !cJSON_IsObject(params)) {
		reply_error(reply, id, HIVE_MCP_INVALID_PARAMS,
			    "Invalid params: params must be an object");
		goto out;
	}
	if (!strcmp(method, "initialize")) {
		initialize(s, id, params, reply);
	} else if (!strcmp(method, "ping")) {
		reply_result(reply, id, cJSON_CreateObject());
	} else if (!strcmp(method, "tools/list")) {
		r = cJSON_CreateObject();
		if (r)
			cJSON_AddItemToObject(r, "tools",
					      hive_json_parse(tools_json, sizeof(tools_json) - 1));
		reply_result(reply, id, r);
	} else if (!strcmp(method, "tools/call")) {
		call_tool(s, id, params, reply);
	} else {
		snprintf(text, sizeof(text), "Method not found: %.200s", method);
		reply_error(reply, id, HIVE_MCP_METHOD_NOT_FOUND, text);
	}
out:
	cJSON_Delete(m);
}
