/* agent.c - agents recording themselves: hook payloads as tool_used events, the PreToolUse
 * policy, and hive's hook merged into .claude/settings.json */
#include "agent.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "cli.h"
#include "event.h"
#include "json.h"
#include "ops.h"
#include "redact.h"
#include "session.h"
#include "util.h"

const char *const hive_agent_hook_events[] = {"SessionStart",	    "PreToolUse", "PostToolUse",
					      "PostToolUseFailure", "SessionEnd", NULL};

/* The largest .claude/settings.json read: it is a small hand-edited file. */
#define SETTINGS_MAX (4 * 1024 * 1024)

void hive_agent_call_clear(struct hive_agent_call *call)
{
	if (!call)
		return;
	cJSON_Delete(call->payload);
	memset(call, 0, sizeof(*call));
}

static enum hive_agent_kind kind_of(const char *hook)
{
	if (!strcmp(hook, "SessionStart"))
		return HIVE_AGENT_START;
	if (!strcmp(hook, "PreToolUse"))
		return HIVE_AGENT_PRE;
	if (!strcmp(hook, "PostToolUse") || !strcmp(hook, "PostToolUseFailure"))
		return HIVE_AGENT_TOOL;
	if (!strcmp(hook, "SessionEnd"))
		return HIVE_AGENT_END;
	return HIVE_AGENT_OTHER;
}

int hive_agent_read(const char *agent, const char *buf, size_t len, struct hive_agent_call *call,
		    struct hive_err *err)
{
	const char *sid, *prefix = !strcmp(agent, "codex") ? "codex" : "claude";
	int n, rc;

	memset(call, 0, sizeof(*call));
	call->agent = !strcmp(agent, "codex") ? "codex" : "claude-code";
	if (!(call->payload = hive_json_parse_why(buf, len, err))) {
		hive_err_prefix(err, "the hook payload on stdin is not JSON");
		return err->status ? err->status : HIVE_EUSAGE;
	}
	if (!cJSON_IsObject(call->payload))
		return hive_err_set(err, HIVE_EUSAGE, "the hook payload on stdin is not an object");
	if (!(call->hook = hive_json_str(call->payload, "hook_event_name")))
		return hive_err_set(err, HIVE_EUSAGE,
				    "hook_event_name: missing or not a string (is this a %s hook "
				    "payload?)",
				    call->agent);
	if (!(sid = hive_json_str(call->payload, "session_id")) || !*sid)
		return hive_err_set(err, HIVE_EUSAGE, "session_id: missing or not a string");
	n = snprintf(call->session_id, sizeof(call->session_id), "%s-%s", prefix, sid);
	if (n < 0 || (size_t)n >= sizeof(call->session_id))
		return hive_err_set(err, HIVE_EUSAGE,
				    "session_id: longer than a session id may be (%d characters "
				    "with the \"%s-\" prefix)",
				    HIVE_ID_MAX, prefix);
	if ((rc = hive_id_check("session_id", call->session_id, (size_t)n, err)))
		return rc;
	call->kind = kind_of(call->hook);
	call->source = hive_json_str(call->payload, "source");
	call->cwd = hive_json_str(call->payload, "cwd");
	call->tool = hive_json_str(call->payload, "tool_name");
	return HIVE_OK;
}

/* The length of s's first max bytes or fewer, not cutting a UTF-8 character. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
		max--;
	return max;
}

static char *dup_cut(const char *s, size_t len, size_t max)
{
	size_t n = utf8_cut(s, len, max);
	char *p = malloc(n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

int hive_agent_input_summary(const struct hive_agent_call *call, struct hive_redactor *red,
			     int *redacted, char **out, size_t *whole, struct hive_err *err)
{
	/* the field that says what a built-in tool acts on, in the order looked for */
	static const char *const keys[] = {"command", "file_path", "notebook_path", "url",
					   "pattern", "query",	   "path"};
	const cJSON *in = cJSON_GetObjectItemCaseSensitive(call->payload, "tool_input");
	const char *v;
	cJSON *copy;
	char *text;
	size_t i;
	int n;

	*out = NULL;
	*whole = 0;
	if (!in || cJSON_IsNull(in)) {
		*out = strdup("");
		goto done;
	}
	if (cJSON_IsString(in)) {
		*whole = strlen(in->valuestring);
		*out = dup_cut(in->valuestring, *whole, HIVE_AGENT_SCAN_MAX);
		goto done;
	}
	for (i = 0; cJSON_IsObject(in) && i < sizeof(keys) / sizeof(keys[0]); i++)
		if ((v = hive_json_str(in, keys[i]))) {
			*whole = strlen(v);
			*out = dup_cut(v, *whole, HIVE_AGENT_SCAN_MAX);
			goto done;
		}
	/* any other tool (an MCP server's, Task, TodoWrite…): its input as compact JSON,
	 * values under secret key names redacted before it becomes text */
	if (!(copy = cJSON_Duplicate(in, 1)))
		return hive_err_set(err, HIVE_EENV, "out of memory");
	if (red && (n = hive_redact(red, copy, HIVE_REDACT_USER)) < 0) {
		cJSON_Delete(copy);
		return hive_err_set(err, HIVE_EENV, "out of memory");
	}
	if (red && redacted)
		*redacted += n;
	text = cJSON_PrintUnformatted(copy);
	cJSON_Delete(copy);
	if (!text)
		return hive_err_set(err, HIVE_EENV, "out of memory");
	*whole = strlen(text);
	*out = dup_cut(text, *whole, HIVE_AGENT_SCAN_MAX);
	free(text);
done:
	return *out ? HIVE_OK : hive_err_set(err, HIVE_EENV, "out of memory");
}

/* text redacted, then cut to HIVE_TOOL_SUMMARY_MAX bytes ("…" ends a cut text), added to
 * conf as key. *cut says whether it was cut (text longer than `whole` counts too). */
static int add_summary(cJSON *conf, const char *key, const char *text, size_t whole,
		       struct hive_redactor *red, int *redacted, int *cut, struct hive_err *err)
{
	static const char ellipsis[] = "\xe2\x80\xa6";
	cJSON *s = cJSON_CreateString(text);
	const char *v;
	size_t len, n;
	char *p;
	int r;

	if (!s || (r = hive_redact(red, s, HIVE_REDACT_USER)) < 0) {
		cJSON_Delete(s);
		return hive_err_set(err, HIVE_EENV, "out of memory");
	}
	*redacted += r;
	v = s->valuestring;
	len = strlen(v);
	*cut = whole > strlen(text) || len > HIVE_TOOL_SUMMARY_MAX;
	if (len > HIVE_TOOL_SUMMARY_MAX ||
	    (*cut && len > HIVE_TOOL_SUMMARY_MAX - (sizeof(ellipsis) - 1))) {
		n = utf8_cut(v, len, HIVE_TOOL_SUMMARY_MAX - (sizeof(ellipsis) - 1));
		if (!(p = malloc(n + sizeof(ellipsis)))) {
			cJSON_Delete(s);
			return hive_err_set(err, HIVE_EENV, "out of memory");
		}
		memcpy(p, v, n);
		memcpy(p + n, ellipsis, sizeof(ellipsis));
		cJSON_Delete(s);
		s = cJSON_CreateString(p);
		free(p);
		if (!s)
			return hive_err_set(err, HIVE_EENV, "out of memory");
	} else if (*cut) {
		/* the scan window was cut but the redacted text fits: say so in the text too */
		size_t l = strlen(v);
		if (!(p = malloc(l + sizeof(ellipsis)))) {
			cJSON_Delete(s);
			return hive_err_set(err, HIVE_EENV, "out of memory");
		}
		memcpy(p, v, l);
		memcpy(p + l, ellipsis, sizeof(ellipsis));
		cJSON_Delete(s);
		s = cJSON_CreateString(p);
		free(p);
		if (!s)
			return hive_err_set(err, HIVE_EENV, "out of memory");
	}
	cJSON_AddItemToObject(conf, key, s);
	return HIVE_OK;
}

int hive_agent_tool_details(const struct hive_agent_call *call, struct hive_redactor *red,
			    cJSON **out, int *redacted, struct hive_err *err)
{
	const int failed = !strcmp(call->hook, "PostToolUseFailure");
	cJSON *d = NULL, *conf;
	const char *id = hive_json_str(call->payload, "tool_use_id"), *e;
	char *summary = NULL;
	size_t whole;
	int rc, cut = 0, ecut = 0;

	*out = NULL;
	if (!call->tool || !*call->tool)
		return hive_err_set(err, HIVE_EUSAGE, "tool_name: missing or not a string");
	if ((rc = hive_agent_input_summary(call, red, redacted, &summary, &whole, err)))
		return rc;
	if (!(d = cJSON_CreateObject()) || !cJSON_AddStringToObject(d, "resource", call->tool) ||
	    !(conf = cJSON_AddObjectToObject(d, "configuration")) ||
	    !cJSON_AddStringToObject(conf, "agent", call->agent) ||
	    !cJSON_AddStringToObject(conf, "hook", call->hook) ||
	    (id && !cJSON_AddStringToObject(conf, "tool_use_id", id))) {
		rc = hive_err_set(err, HIVE_EENV, "out of memory");
		goto out;
	}
	if ((rc = add_summary(conf, "input", summary, whole, red, redacted, &cut, err)))
		goto out;
	if (!cJSON_AddNumberToObject(conf, "input_bytes", (double)whole) ||
	    !cJSON_AddBoolToObject(conf, "input_truncated", cut)) {
		rc = hive_err_set(err, HIVE_EENV, "out of memory");
		goto out;
	}
	if (failed && (e = hive_json_str(call->payload, "error"))) {
		free(summary);
		if (!(summary = dup_cut(e, strlen(e), HIVE_AGENT_SCAN_MAX))) {
			rc = hive_err_set(err, HIVE_EENV, "out of memory");
			goto out;
		}
		if ((rc = add_summary(conf, "error", summary, strlen(e), red, redacted, &ecut,
				      err)))
			goto out;
	}
	if (!cJSON_AddStringToObject(d, "status", failed ? "failure" : "success")) {
		rc = hive_err_set(err, HIVE_EENV, "out of memory");
		goto out;
	}
	*out = d;
	d = NULL;
out:
	free(summary);
	cJSON_Delete(d);
	return rc;
}

const char *hive_agent_policy_match(const struct hive_config *cfg,
				    const struct hive_agent_call *call)
{
	pcre2_match_data *md = NULL;
	pcre2_match_context *mc = NULL;
	const char *hit = NULL;
	char *summary = NULL, *subject = NULL;
	size_t whole, i, n;
	struct hive_err err;

	if (!cfg->nagent_require_session || call->kind != HIVE_AGENT_PRE)
		return NULL;
	if (hive_agent_input_summary(call, NULL, NULL, &summary, &whole, &err))
		return cfg->agent_require_session[0].source; /* out of memory: fail closed */
	n = strlen(call->tool ? call->tool : "") + 1 + strlen(summary);
	if (!(subject = malloc(n + 1)) || !(mc = pcre2_match_context_create(NULL))) {
		hit = cfg->agent_require_session[0].source;
		goto out;
	}
	snprintf(subject, n + 1, "%s %s", call->tool ? call->tool : "", summary);
	pcre2_set_match_limit(mc, HIVE_REDACT_MATCH_LIMIT);
	pcre2_set_depth_limit(mc, HIVE_REDACT_DEPTH_LIMIT);
	pcre2_set_heap_limit(mc, HIVE_REDACT_HEAP_LIMIT);
	for (i = 0; i < cfg->nagent_require_session && !hit; i++) {
		const struct hive_pattern *p = &cfg->agent_require_session[i];
		int r;

		if (!(md = pcre2_match_data_create_from_pattern(p->re, NULL))) {
			hit = p->source;
			break;
		}
		r = pcre2_match(p->re, (PCRE2_SPTR)subject, n, 0, 0, md, mc);
		if (r >= 0 || (r != PCRE2_ERROR_NOMATCH && r != PCRE2_ERROR_BADUTFOFFSET))
			hit = p->source;
		pcre2_match_data_free(md);
		md = NULL;
	}
out:
	pcre2_match_context_free(mc);
	free(subject);
	free(summary);
	return hit;
}

/* --- .claude/settings.json ------------------------------------------------------------ */

void hive_agent_hooks_clear(struct hive_agent_hooks *res)
{
	if (!res)
		return;
	free(res->path);
	memset(res, 0, sizeof(*res));
}

/* Does this event's list of matcher groups run hive's command? Counts the other hooks in
 * *others. HIVE_EUSAGE when the list is not shaped as Claude Code reads it. */
static int event_has_hive(const cJSON *groups, const char *event, const char *shown, int *found,
			  int *others, struct hive_err *err)
{
	const cJSON *g, *hooks, *h;
	const char *cmd;

	*found = 0;
	if (!cJSON_IsArray(groups))
		return hive_err_set(err, HIVE_EUSAGE,
				    "%s: hooks.%s is not an array of matcher groups", shown, event);
	cJSON_ArrayForEach(g, groups)
	{
		hooks = cJSON_GetObjectItemCaseSensitive(g, "hooks");
		if (!cJSON_IsObject(g) || !cJSON_IsArray(hooks))
			return hive_err_set(err, HIVE_EUSAGE,
					    "%s: hooks.%s: every matcher group is an object with a "
					    "\"hooks\" array",
					    shown, event);
		cJSON_ArrayForEach(h, hooks)
		{
			if ((cmd = hive_json_str(h, "command")) &&
			    !strcmp(cmd, HIVE_AGENT_HOOK_COMMAND))
				*found = 1;
			else
				(*others)++;
		}
	}
	return HIVE_OK;
}

/* A matcher group running hive's command: tool events match every tool ("*"). */
static cJSON *hive_group(const char *event)
{
	cJSON *g = cJSON_CreateObject(), *hooks, *h;
	int tool = strstr(event, "ToolUse") != NULL;

	if (!g || (tool && !cJSON_AddStringToObject(g, "matcher", "*")) ||
	    !(hooks = cJSON_AddArrayToObject(g, "hooks")) || !(h = cJSON_CreateObject())) {
		cJSON_Delete(g);
		return NULL;
	}
	cJSON_AddItemToArray(hooks, h);
	if (!cJSON_AddStringToObject(h, "type", "command") ||
	    !cJSON_AddStringToObject(h, "command", HIVE_AGENT_HOOK_COMMAND)) {
		cJSON_Delete(g);
		return NULL;
	}
	return g;
}

/* v as JSON indented by two spaces a level, one member a line, as settings.json files are
 * written by hand and by Claude Code (cJSON_Print indents with tabs, after colons too). */
static void pretty(const cJSON *v, int depth, struct hive_buf *b)
{
	const cJSON *c;
	char *t;
	int i;

	if ((cJSON_IsArray(v) || cJSON_IsObject(v)) && v->child) {
		hive_buf_puts(b, cJSON_IsArray(v) ? "[\n" : "{\n");
		for (c = v->child; c; c = c->next) {
			for (i = 0; i < depth + 1; i++)
				hive_buf_puts(b, "  ");
			if (cJSON_IsObject(v)) {
				cJSON *k = cJSON_CreateStringReference(c->string);
				t = k ? cJSON_PrintUnformatted(k) : NULL;
				cJSON_Delete(k);
				if (!t) {
					b->oom = 1;
					return;
				}
				hive_buf_puts(b, t);
				hive_buf_puts(b, ": ");
				free(t);
			}
			pretty(c, depth + 1, b);
			hive_buf_puts(b, c->next ? ",\n" : "\n");
		}
		for (i = 0; i < depth; i++)
			hive_buf_puts(b, "  ");
		hive_buf_puts(b, cJSON_IsArray(v) ? "]" : "}");
		return;
	}
	if (!(t = cJSON_PrintUnformatted(v))) {
		b->oom = 1;
		return;
	}
	hive_buf_puts(b, t);
	free(t);
}

int hive_agent_hooks_install(const char *top, struct hive_agent_hooks *res, struct hive_err *err)
{
	int topfd = -1, dirfd = -1, made_dir = 0, rc, found, i;
	char *buf = NULL, shown[4200];
	struct hive_buf out = {0};
	cJSON *root = NULL, *hooks, *groups, *g;
	size_t len = 0;

	memset(res, 0, sizeof(*res));
	snprintf(shown, sizeof(shown), "%s/.claude/settings.json", top);
	if (!(res->path = strdup(shown)))
		return hive_err_set(err, HIVE_EENV, "out of memory");
	if ((topfd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		rc = hive_err_sys(err, HIVE_EENV, errno, "%s", top);
		goto out;
	}
	if ((dirfd = openat(topfd, ".claude", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) <
		    0 &&
	    errno == ENOENT) {
		if (mkdirat(topfd, ".claude", 0755) < 0) {
			rc = hive_err_sys(err, HIVE_EENV, errno, "cannot make %s/.claude", top);
			goto out;
		}
		made_dir = 1;
		dirfd = openat(topfd, ".claude", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (dirfd < 0) {
		rc = hive_err_sys(err, HIVE_EENV, errno == ELOOP ? ENOTDIR : errno,
				  "%s/.claude must be a folder, not a symbolic link", top);
		goto out;
	}
	rc = hive_read_file(dirfd, "settings.json", 1, SETTINGS_MAX, &buf, &len, err);
	if (rc && err->sys == ENOENT) {
		hive_err_clear(err);
		res->created = 1;
		root = cJSON_CreateObject();
	} else if (rc) {
		hive_err_prefix(err, "%s", shown);
		goto out;
	} else if (!(root = hive_json_parse_why(buf, len, err))) {
		rc = err->status;
		hive_err_prefix(err, "%s: not strict JSON", shown);
		goto out;
	}
	if (!root) {
		rc = hive_err_set(err, HIVE_EENV, "out of memory");
		goto out;
	}
	if (!cJSON_IsObject(root)) {
		rc = hive_err_set(err, HIVE_EUSAGE, "%s: not a JSON object", shown);
		goto out;
	}
	hooks = cJSON_GetObjectItemCaseSensitive(root, "hooks");
	if (!hooks && !(hooks = cJSON_AddObjectToObject(root, "hooks"))) {
		rc = hive_err_set(err, HIVE_EENV, "out of memory");
		goto out;
	}
	if (!cJSON_IsObject(hooks)) {
		rc = hive_err_set(err, HIVE_EUSAGE, "%s: \"hooks\" is not an object", shown);
		goto out;
	}
	/* the hooks of the events hive does not install on, counted as kept */
	cJSON_ArrayForEach(groups, hooks)
	{
		for (i = 0; hive_agent_hook_events[i]; i++)
			if (!strcmp(groups->string, hive_agent_hook_events[i]))
				break;
		if (hive_agent_hook_events[i] || !cJSON_IsArray(groups))
			continue;
		cJSON_ArrayForEach(g, groups) res->kept +=
			cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(g, "hooks"));
	}
	for (i = 0; hive_agent_hook_events[i]; i++) {
		const char *ev = hive_agent_hook_events[i];

		groups = cJSON_GetObjectItemCaseSensitive(hooks, ev);
		if (!groups && !(groups = cJSON_AddArrayToObject(hooks, ev))) {
			rc = hive_err_set(err, HIVE_EENV, "out of memory");
			goto out;
		}
		if ((rc = event_has_hive(groups, ev, shown, &found, &res->kept, err)))
			goto out;
		if (found)
			continue;
		if (!(g = hive_group(ev))) {
			rc = hive_err_set(err, HIVE_EENV, "out of memory");
			goto out;
		}
		cJSON_AddItemToArray(groups, g);
		res->added++;
	}
	if (!res->added) {
		rc = HIVE_OK;
		goto out;
	}
	pretty(root, 0, &out);
	hive_buf_puts(&out, "\n");
	if (out.oom) {
		rc = hive_err_set(err, HIVE_EENV, "out of memory");
		goto out;
	}
	rc = hive_write_atomic(dirfd, "settings.json", out.p, out.len, shown, err);
out:
	if (rc && made_dir)
		unlinkat(topfd, ".claude", AT_REMOVEDIR);
	if (dirfd >= 0)
		close(dirfd);
	if (topfd >= 0)
		close(topfd);
	free(buf);
	hive_buf_free(&out);
	cJSON_Delete(root);
	return rc;
}

/* --- one hook call, recorded ---------------------------------------------------------- */

/* Is ctx's session there and active? 1 yes, 0 no (missing or closed), -1 with ctx->err set
 * when it could not be read. Asked of the transaction, which derives the view from the log. */
static int session_active(struct hive_ctx *ctx)
{
	struct hive_txn_opts o = {&ctx->cfg, NULL, NULL, NULL, 0, 0, ctx->session_from, NULL};
	struct hive_txn *t = NULL;
	int rc = hive_txn_begin(ctx->root, ctx->session_id, &o, &t, &ctx->err);

	hive_txn_free(t);
	if (rc == HIVE_EUSAGE) {
		hive_err_clear(&ctx->err);
		return 0;
	}
	return rc ? -1 : 1;
}

/* A session the agent's hooks had not started (installed mid-session): start it. */
static int ensure_started(struct hive_ctx *ctx, struct hive_agent_outcome *o)
{
	struct hive_start_result res = {0};
	int rc;

	if ((rc = hive_op_start(ctx, NULL, &res)))
		return rc;
	if (strcmp(hive_json_str(res.state, "status") ? hive_json_str(res.state, "status") : "",
		   "active"))
		o->was = !strcmp(hive_json_str(res.state, "status"), "failed") ? "failed"
									       : "completed";
	hive_start_result_clear(&res);
	return HIVE_OK;
}

int hive_agent_handle(struct hive_ctx *ctx, const struct hive_agent_call *call,
		      hive_agent_finish_fn finish, struct hive_agent_outcome *o)
{
	struct hive_redactor *red = NULL;
	struct hive_args_events b = {0};
	struct hive_start_result res = {0};
	cJSON *details = NULL;
	const char *st;
	int rc = HIVE_OK, active;

	memset(o, 0, sizeof(*o));
	o->did = "ignored";
	switch (call->kind) {
	case HIVE_AGENT_OTHER:
		return HIVE_OK;
	case HIVE_AGENT_PRE:
		o->did = "checked";
		if (!(o->refused_by = hive_agent_policy_match(&ctx->cfg, call)))
			return HIVE_OK;
		if ((active = session_active(ctx)) < 0)
			return ctx->err.status;
		if (active)
			o->refused_by = NULL;
		return HIVE_OK;
	case HIVE_AGENT_START:
		if ((rc = hive_op_start(ctx, NULL, &res)))
			return rc;
		o->did = res.created ? "started" : "rejoined";
		st = hive_json_str(res.state, "status");
		if (st && strcmp(st, "active"))
			o->was = !strcmp(st, "failed") ? "failed" : "completed";
		hive_start_result_clear(&res);
		return HIVE_OK;
	case HIVE_AGENT_END:
		if ((rc = finish(ctx, &o->was)))
			return rc;
		o->did = "finished";
		return HIVE_OK;
	case HIVE_AGENT_TOOL:
		break;
	}
	if ((rc = hive_redactor_new(&ctx->cfg, &red, &ctx->err)) ||
	    (rc = hive_agent_tool_details(call, red, &details, &o->redacted, &ctx->err)) ||
	    (rc = hive_args_prepare(&ctx->cfg, red, "tool_used", details, &o->redacted, &ctx->err)))
		goto out;
	if (hive_args_events_add(&b, details, "tool_used", details) < 0) {
		rc = hive_err_set(&ctx->err, HIVE_EENV, "out of memory");
		goto out;
	}
	details = NULL;
	rc = hive_op_emit(ctx, &b, 0, NULL, NULL);
	if (rc == HIVE_EUSAGE && ctx->err.sys == ENOENT) {
		/* no session yet: the hooks came in after the agent's SessionStart */
		hive_err_clear(&ctx->err);
		if ((rc = ensure_started(ctx, o)) || o->was)
			goto out;
		rc = hive_op_emit(ctx, &b, 0, NULL, NULL);
	}
	if (!rc)
		o->did = "recorded";
out:
	cJSON_Delete(details);
	hive_args_events_free(&b);
	hive_redactor_free(red);
	return rc;
}
